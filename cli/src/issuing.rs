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
use revocard::registry::{BlankCardList, Hooks, Progress};
use serde_json::json;

use crate::commands::{next_update, open, os_rng, signing_key};
use crate::error::{CliError, Result};
use crate::out::Report;
use crate::{Global, IssueArgs, ManifestFormat, ReissueArgs, office};

/// The most blank cards a supplier's file may list.
pub const MAX_BLANK_CARDS: usize = 10_000_000;

/// The column of a supplier's blank-card report that holds each chip's public key.
pub const CARD_KEY_COLUMN: &str = "card_public_key";

/// Reads the supplier's report of its blank cards: CSV with a `card_public_key`
/// column (unpadded base64url of the chip's Ed25519 public key). Other columns (a chip
/// id, a tray number) are the supplier's own and are ignored.
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
    let mut cards = BlankCardList::new();
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
    Ok(cards)
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

/// Progress hooks: the bar moves with each committed chunk; Ctrl-C breaks.
fn hooks<'a>(pb: &'a ProgressBar, stop: &'a AtomicBool) -> Hooks<'a> {
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

fn write_manifest(
    reg: &office::Reg,
    db: &Path,
    batch: PrintBatchId,
    format: ManifestFormat,
    given: Option<&Path>,
) -> Result<PathBuf> {
    let manifest = reg.manifest(batch)?;
    let path = manifest_path(db, batch, format, given);
    let text = match format {
        ManifestFormat::Csv => manifest.to_csv(),
        ManifestFormat::Json => manifest.to_json(),
    };
    office::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

pub fn issue(g: &Global, report: &Report, a: &IssueArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let mut cards = blank_cards(&a.cards)?;
    let now = office::now();
    let key = signing_key(g, &db, &reg, now)?;
    let mut rng = os_rng()?;
    let stop = interrupt_flag();
    let pb = bar("issuing");
    let started = Instant::now();
    let result = reg.issue_pending(
        &key,
        &a.supplier,
        &mut cards,
        now,
        next_update(g, now),
        &mut rng,
        &mut hooks(&pb, &stop),
    );
    pb.finish_and_clear();
    let r = result?;
    let secs = started.elapsed().as_secs_f64();
    let Some(batch) = r.batch else {
        report.print(
            &["nothing pending: every holder on the roster has a current card".into()],
            json!({"command": "issue", "issued_now": 0, "finished": true}),
        );
        return Ok(());
    };
    if !r.finished {
        report.print(
            &[
                format!(
                    "stopped: {} of batch {} signed so far ({} now); nothing is lost",
                    r.in_batch, batch.0, r.issued_now
                ),
                format!(
                    "resume: run the same command again (`revocard issue --supplier {} --cards {}`)",
                    a.supplier,
                    a.cards.display()
                ),
            ],
            json!({"command": "issue", "batch": batch.0, "issued_now": r.issued_now, "in_batch": r.in_batch, "finished": false}),
        );
        return Err(CliError::refused("interrupted"));
    }
    let path = write_manifest(&reg, &db, batch, a.format, a.manifest.as_deref())?;
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

pub fn reissue(g: &Global, report: &Report, a: &ReissueArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let Some((supplier, _job)) = reg.open_reissue()? else {
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
    let mut cards = blank_cards(&a.cards)?;
    let now = office::now();
    let key = signing_key(g, &db, &reg, now)?;
    let mut rng = os_rng()?;
    let stop = interrupt_flag();
    let pb = bar("reissuing");
    let started = Instant::now();
    let result = reg.resume(
        &key,
        &mut cards,
        now,
        next_update(g, now),
        &mut rng,
        &mut hooks(&pb, &stop),
    );
    pb.finish_and_clear();
    let Some(r) = result? else {
        return Err(CliError::refused("no reissue job is open"));
    };
    let secs = started.elapsed().as_secs_f64();
    if !r.finished {
        report.print(
            &[
                format!(
                    "stopped after {} replacements this run; nothing is lost",
                    r.reissued
                ),
                format!(
                    "resume: run the same command again (`revocard incident reissue --supplier {} --cards {}`)",
                    a.supplier,
                    a.cards.display()
                ),
            ],
            json!({"command": "incident reissue", "job": r.job, "reissued_now": r.reissued, "finished": false}),
        );
        return Err(CliError::refused("interrupted"));
    }
    let path = write_manifest(&reg, &db, r.batch, a.format, a.manifest.as_deref())?;
    let mut human = vec![
        format!(
            "job {} finished: {} replacements signed now ({:.0}/s) into batch {} for {}",
            r.job,
            r.reissued,
            rate(r.reissued, secs),
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
            "reissued_now": r.reissued,
            "finished": true,
            "manifest": path,
            "seconds": secs,
            "published_sequence": r.publication.as_ref().map(|p| p.sequence),
        }),
    );
    Ok(())
}
