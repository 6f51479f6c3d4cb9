//! Bulk signing: pending cards into a print batch, replacements after an incident. Both
//! show a progress bar, stop cleanly after the chunk in flight on Ctrl-C, and resume
//! when the same command is run again.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use revocard::CardPublicKey;
use revocard::PrintBatchId;
use revocard::registry::{
    BlankCardList, Hooks, JobKind, PrintManifest, PrintedCard, Progress, Store as _,
};
use serde_json::json;

use crate::context::{next_update, open, os_rng, signing_key};
use crate::error::{CliError, Result};
use crate::out::Report;
use crate::{Global, IssueArgs, ManifestArgs, ManifestFormat, ReissueArgs, office};

/// The most blank cards a supplier's file may list.
pub const MAX_BLANK_CARDS: usize = 10_000_000;

/// The column of a supplier's blank-card report that holds each chip's public key.
pub const CARD_KEY_COLUMN: &str = "card_public_key";

/// Reads the supplier's report of its blank cards: CSV with a `card_public_key`
/// column (unpadded base64url of the chip's Ed25519 public key). Other columns (a chip
/// id, a tray number) are the supplier's own and are ignored. Every key is checked
/// here, where the list is received (on every core), so that signing only signs: a
/// key no door could check refuses the whole report, naming its line.
pub fn blank_cards(path: &Path) -> Result<BlankCardList> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::refused(format!("cannot read {}: {e}", path.display())))?;
    let mut reader = csv::Reader::from_reader(file);
    let headers = reader
        .headers()
        .map_err(|e| CliError::refused(format!("{}: {e}", path.display())))?;
    let column = headers
        .iter()
        .position(|h| h.trim().trim_start_matches('\u{feff}') == CARD_KEY_COLUMN)
        .ok_or_else(|| {
            CliError::refused(format!(
                "{} has no {CARD_KEY_COLUMN} column: it must be the supplier's blank-card report",
                path.display()
            ))
        })?;
    let mut cards = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| CliError::refused(format!("{}:{line}: {e}", path.display())))?;
        let text = row.get(column).unwrap_or_default().trim();
        let key: CardPublicKey = text.parse().map_err(|e| {
            CliError::refused(format!("{}:{line}: {CARD_KEY_COLUMN}: {e}", path.display()))
        })?;
        if !seen.insert(key) {
            return Err(CliError::refused(format!(
                "{}:{line}: this card's key is listed twice: the report is wrong",
                path.display()
            )));
        }
        if cards.len() >= MAX_BLANK_CARDS {
            return Err(CliError::refused(format!(
                "{} lists more than {MAX_BLANK_CARDS} cards",
                path.display()
            )));
        }
        cards.push(key);
    }
    BlankCardList::check(cards.iter().copied()).map_err(|e| match e {
        revocard::registry::RegistryError::UnusableCardKey { key } => {
            // The header is line 1, each key one line after it (as counted above).
            let line = cards.iter().position(|k| *k == key).map_or(0, |i| i + 2);
            CliError::refused(format!(
                "{}:{line}: {CARD_KEY_COLUMN}: {key} is not a key any door could check (not a curve point, not canonically encoded, of small order or with a torsion component): set that card aside and remove it from the report",
                path.display()
            ))
        }
        e => CliError::from(e),
    })
}

/// Ctrl-C asks bulk work to stop after the chunk in flight (a second Ctrl-C kills).
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    // If a handler cannot be installed (one already is), Ctrl-C kills the process,
    // which the registry survives too (each chunk is atomic).
    let _ = ctrlc::set_handler(move || {
        if set.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    flag
}

fn bar(what: &'static str) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:40}] {human_pos}/{human_len} cards ({rate}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        )
        .progress_chars("=> "),
    );
    pb.set_message(what);
    pb
}

/// Progress hooks: the bar moves with each committed chunk; Ctrl-C breaks; what each
/// chunk committed is kept for the manifest (`printed`), so that a batch signed in one
/// run is not read back from the registry to be printed.
fn hooks<'a>(
    pb: &'a ProgressBar,
    stop: &'a AtomicBool,
    printed: &'a mut Vec<PrintedCard>,
) -> Hooks<'a> {
    Hooks {
        progress: Box::new(move |p: Progress| {
            pb.set_length(p.total as u64);
            pb.set_position(p.done as u64);
            if stop.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }),
        committed: Box::new(move |chunk| {
            printed.extend(chunk.iter().map(|c| PrintedCard::new(c.claims())));
        }),
    }
}

fn manifest_path(
    db: &Path,
    batch: PrintBatchId,
    format: ManifestFormat,
    given: Option<&Path>,
) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| {
        let ext = match format {
            ManifestFormat::Csv => "csv",
            ManifestFormat::Json => "json",
        };
        let dir = if office::is_url(db) {
            Path::new(".")
        } else {
            db.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        };
        dir.join(format!("batch-{}.{ext}", batch.0))
    })
}

/// The batch's print manifest, written where `given` says or beside the registry.
/// `printed` is what this run signed into the batch: when that is the whole batch
/// (`in_batch` cards), it is the manifest; a batch finished by a resumed run is read
/// back from the registry.
fn write_manifest(
    reg: &office::Reg,
    db: &Path,
    (batch, supplier, in_batch): (PrintBatchId, &str, u64),
    printed: Vec<PrintedCard>,
    format: ManifestFormat,
    given: Option<&Path>,
) -> Result<PathBuf> {
    let manifest = if printed.len() as u64 == in_batch {
        PrintManifest {
            supplier: supplier.to_owned(),
            batch,
            cards: printed,
        }
    } else {
        reg.manifest(batch)?
    };
    let path = manifest_path(db, batch, format, given);
    office::write_atomic(&path, manifest_text(&manifest, format).as_bytes())?;
    Ok(path)
}

fn manifest_text(manifest: &PrintManifest, format: ManifestFormat) -> String {
    match format {
        ManifestFormat::Csv => manifest.to_csv(),
        ManifestFormat::Json => manifest.to_json(),
    }
}

/// For a rerun of a command whose batch is finished: the batch's manifest, derived
/// from the registry, written where the first run would have written it if no file is
/// there (a run killed after its last commit wrote none). `None` if one is there.
fn write_missing_manifest(
    reg: &office::Reg,
    db: &Path,
    batch: PrintBatchId,
    format: ManifestFormat,
    given: Option<&Path>,
) -> Result<Option<PathBuf>> {
    let path = manifest_path(db, batch, format, given);
    if path.exists() {
        return Ok(None);
    }
    let manifest = reg.manifest(batch)?;
    office::write_atomic(&path, manifest_text(&manifest, format).as_bytes())?;
    Ok(Some(path))
}

/// The newest finished job's batch of `kind` ("issue" or "reissue") through
/// `supplier`, if any.
fn finished_batch(
    reg: &office::Reg,
    supplier: &str,
    reissue: bool,
) -> Result<Option<(u64, PrintBatchId)>> {
    let batches = reg.store().batches()?;
    Ok(reg
        .store()
        .jobs()?
        .into_iter()
        .rev()
        .filter(|j| j.finished_at.is_some())
        .find_map(|j| {
            let batch = match (&j.kind, reissue) {
                (JobKind::Issue { batch }, false) | (JobKind::Reissue { batch, .. }, true) => {
                    *batch
                }
                _ => return None,
            };
            batches
                .iter()
                .any(|b| b.id == batch && b.supplier == supplier)
                .then_some((j.id, batch))
        }))
}

/// `revocard manifest`: a batch's manifest written again from the registry, the same
/// bytes the command that signed the batch wrote.
pub fn manifest(g: &Global, report: &Report, a: &ManifestArgs) -> Result<()> {
    let (_, reg) = crate::context::open_to_read(g)?;
    let batch = PrintBatchId(a.batch);
    let Some(info) = reg.store().batches()?.into_iter().find(|b| b.id == batch) else {
        return Err(CliError::refused(format!(
            "no print batch {} in this registry",
            a.batch
        )));
    };
    let open_job = reg.store().jobs()?.into_iter().any(|j| {
        j.finished_at.is_none()
            && matches!(&j.kind, JobKind::Issue { batch: b } | JobKind::Reissue { batch: b, .. } if *b == batch)
    });
    if open_job {
        return Err(CliError::refused(format!(
            "batch {} is still being signed: finish it by running the command that started it again (it writes the manifest)",
            a.batch
        )));
    }
    let manifest = reg.manifest(batch)?;
    office::write_atomic(&a.out, manifest_text(&manifest, a.format).as_bytes())?;
    report.print(
        &[format!(
            "manifest of batch {} for {} ({} cards; printed fields and chip keys, no secret) {}",
            a.batch,
            info.supplier,
            manifest.cards.len(),
            a.out.display()
        )],
        json!({"command": "manifest", "batch": a.batch, "supplier": info.supplier, "cards": manifest.cards.len(), "manifest": a.out}),
    );
    Ok(())
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// What bulk signing needs, gathered before anything is signed: the blank cards, the
/// clock read once, the signing key, the RNG, the Ctrl-C flag, the bar.
struct Bulk {
    cards: BlankCardList,
    now: revocard::UnixTime,
    key: revocard::issue::IssuerKey,
    rng: rand::rngs::StdRng,
    stop: Arc<AtomicBool>,
    pb: ProgressBar,
    started: Instant,
}

fn bulk(
    g: &Global,
    db: &Path,
    reg: &office::Reg,
    cards: &Path,
    what: &'static str,
) -> Result<Bulk> {
    // Ctrl-C is caught before the supplier's report is read and checked (which takes
    // a while for a large report): from then on it stops the work after a chunk.
    let stop = interrupt_flag();
    let cards = blank_cards(cards)?;
    let now = office::now();
    Ok(Bulk {
        cards,
        now,
        key: signing_key(g, db, reg, now)?,
        rng: os_rng()?,
        stop,
        pb: bar(what),
        started: Instant::now(),
    })
}

pub fn issue(g: &Global, report: &Report, a: &IssueArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let Bulk {
        mut cards,
        now,
        key,
        mut rng,
        stop,
        pb,
        started,
    } = bulk(g, &db, &reg, &a.cards, "issuing")?;
    let mut printed = Vec::new();
    let mut hooks = hooks(&pb, &stop, &mut printed);
    let result = match a.allow_revocations {
        Some(n) => reg.issue_pending_approved(
            &key,
            &a.supplier,
            &mut cards,
            now,
            next_update(g, now),
            &mut rng,
            &mut hooks,
            n,
        ),
        None => reg.issue_pending(
            &key,
            &a.supplier,
            &mut cards,
            now,
            next_update(g, now),
            &mut rng,
            &mut hooks,
        ),
    };
    drop(hooks);
    pb.finish_and_clear();
    let r = result.map_err(|e| replaced_refused(e, a))?;
    let secs = started.elapsed().as_secs_f64();
    let Some(batch) = r.batch else {
        // A rerun after the batch finished: if the run that finished it was killed
        // before writing the manifest, write it now.
        let mut human =
            vec!["nothing pending: every holder on the roster has a current card".into()];
        let mut written = None;
        if let Some((_, batch)) = finished_batch(&reg, &a.supplier, false)?
            && let Some(path) =
                write_missing_manifest(&reg, &db, batch, a.format, a.manifest.as_deref())?
        {
            human.push(format!(
                "batch {} was finished without its manifest: written now to {}",
                batch.0,
                path.display()
            ));
            written = Some(path);
        }
        report.print(
            &human,
            json!({"command": "issue", "issued_now": 0, "finished": true, "manifest": written}),
        );
        return Ok(());
    };
    if !r.finished {
        return Err(CliError::interrupted(format!(
            "stopped: {} of batch {} signed so far ({} now); nothing is lost\n\
             resume: run the same command again (`revocard issue --supplier {} --cards {}`)",
            r.in_batch,
            batch.0,
            r.issued_now,
            a.supplier,
            a.cards.display()
        ))
        .with_fields(json!({"command": "issue", "batch": batch.0, "issued_now": r.issued_now, "in_batch": r.in_batch, "finished": false})));
    }
    let path = write_manifest(
        &reg,
        &db,
        (batch, &a.supplier, r.in_batch),
        printed,
        a.format,
        a.manifest.as_deref(),
    )?;
    report.print(
        &[
            format!(
                "batch {} for {}: {} cards signed now ({:.0}/s), {} in the batch",
                batch.0,
                a.supplier,
                r.issued_now,
                rate(r.issued_now, secs),
                r.in_batch
            ),
            format!(
                "manifest (printed fields and chip keys, no secret) {}",
                path.display()
            ),
        ],
        json!({
            "command": "issue",
            "batch": batch.0,
            "supplier": a.supplier,
            "issued_now": r.issued_now,
            "in_batch": r.in_batch,
            "finished": true,
            "manifest": path,
            "seconds": secs,
        }),
    );
    Ok(())
}

/// What `issue` says when the guard on revocations stops it: what it found and how
/// to go on.
fn replaced_refused(e: revocard::registry::RegistryError, a: &IssueArgs) -> CliError {
    use revocard::registry::RegistryError;
    let again = format!(
        "revocard issue --supplier {} --cards {}",
        a.supplier,
        a.cards.display()
    );
    match e {
        RegistryError::TooManyReplaced { cards, threshold } => CliError::refused(format!(
            "this batch would revoke {cards} replaced cards (movers' old cards) when it is finished, more than this registry's threshold of {threshold}; nothing was signed. \
             A roster that changed a printed field for most holders looks like this: check the last `roster sync`. If these changes are real, run \
             `{again} --allow-revocations {cards}`"
        )),
        RegistryError::ReplacedNotAsApproved { cards, approved } => CliError::refused(format!(
            "this batch would revoke {cards} replaced cards, not the {approved} approved by --allow-revocations; nothing was signed. \
             Check the pending cards, then approve what it revokes: `--allow-revocations {cards}`"
        )),
        other => other.into(),
    }
}

pub fn reissue(g: &Global, report: &Report, a: &ReissueArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let Some((supplier, _job)) = reg.open_reissue()? else {
        // Run again after it finished (a retry after a kill that came too late, a
        // script): the job through this supplier is done, and that is success; a
        // manifest that run did not get to write is written now.
        if let Some((job, batch)) = finished_batch(&reg, &a.supplier, true)? {
            let mut human = vec![format!(
                "nothing to do: reissue job {job} through {} is finished",
                a.supplier
            )];
            let written =
                write_missing_manifest(&reg, &db, batch, a.format, a.manifest.as_deref())?;
            if let Some(path) = &written {
                human.push(format!(
                    "batch {} was finished without its manifest: written now to {}",
                    batch.0,
                    path.display()
                ));
            }
            report.print(
                &human,
                json!({"command": "incident reissue", "job": job, "reissued_now": 0, "finished": true, "manifest": written}),
            );
            return Ok(());
        }
        return Err(CliError::refused(
            "no reissue job is open: declare an incident first (`revocard incident declare`)",
        ));
    };
    if supplier != a.supplier {
        return Err(CliError::refused(format!(
            "the open reissue job prints through {supplier}, not {}: run it with --supplier {supplier}",
            a.supplier
        )));
    }
    let Bulk {
        mut cards,
        now,
        key,
        mut rng,
        stop,
        pb,
        started,
    } = bulk(g, &db, &reg, &a.cards, "reissuing")?;
    let mut printed = Vec::new();
    let result = reg.resume(
        &key,
        &mut cards,
        now,
        next_update(g, now),
        &mut rng,
        &mut hooks(&pb, &stop, &mut printed),
    );
    pb.finish_and_clear();
    let Some(r) = result? else {
        return Err(CliError::refused("no reissue job is open"));
    };
    let secs = started.elapsed().as_secs_f64();
    // What this run signed (a resumed job's earlier runs signed the rest).
    let now_signed = printed.len() as u64;
    if !r.finished {
        return Err(CliError::interrupted(format!(
            "stopped after {now_signed} replacements this run ({} of the job in all); nothing is lost\n\
             resume: run the same command again (`revocard incident reissue --supplier {} --cards {}`)",
            r.reissued,
            a.supplier,
            a.cards.display()
        ))
        .with_fields(json!({"command": "incident reissue", "job": r.job, "reissued_now": now_signed, "reissued": r.reissued, "finished": false})));
    }
    let path = write_manifest(
        &reg,
        &db,
        (r.batch, &a.supplier, r.reissued),
        printed,
        a.format,
        a.manifest.as_deref(),
    )?;
    let mut human = vec![
        format!(
            "job {} finished: {now_signed} replacements signed now ({:.0}/s), {} in batch {} for {}",
            r.job,
            rate(now_signed, secs),
            r.reissued,
            r.batch.0,
            a.supplier
        ),
        format!("manifest {}", path.display()),
    ];
    if let Some(p) = &r.publication {
        human.push(format!(
            "published list {}: run `revocard publish --out DIR` to distribute it",
            p.sequence
        ));
    }
    report.print(
        &human,
        json!({
            "command": "incident reissue",
            "job": r.job,
            "batch": r.batch.0,
            "reissued_now": now_signed,
            "reissued": r.reissued,
            "finished": true,
            "manifest": path,
            "seconds": secs,
            "published_sequence": r.publication.as_ref().map(|p| p.sequence),
        }),
    );
    Ok(())
}
