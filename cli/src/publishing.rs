//! The published layout: writing it for distribution, and checking a card against it
//! as a door would.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use revocard::door::{DoorController, DoorId, DoorPolicy};
use revocard::net::layout::{LATEST_FILE, Latest, issuer_dir_name};
use revocard::{RootPublicKey, TrustStore, Verifier, VerifyOptions};
use serde_json::json;

use crate::context::{next_update, open, signing_key};
use crate::error::{CliError, Result};
use crate::out::Report;
use crate::{Global, PublishArgs, VerifyArgs, office};

/// The most bytes read from any published file or card file.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Writes what the registry has published into `dir`, in the published layout.
pub fn write_layout(reg: &office::Reg, dir: &Path) -> Result<String> {
    write_views(reg, dir, None, Duration::ZERO)
}

/// Writes the layout, and with `standards` (the base URL and the signing key) the
/// IETF and W3C views beside it, with `ttl` their cache time.
fn write_views(
    reg: &office::Reg,
    dir: &Path,
    standards: Option<(&str, &revocard::issue::IssuerKey)>,
    ttl: Duration,
) -> Result<String> {
    let r = match standards {
        Some((url, key)) => reg.publish_to_with_standards_ttl(dir, url, key, ttl.as_secs())?,
        None => reg.publish_to(dir)?,
    };
    Ok(format!(
        "list {} and key set {} in {} ({} file{} written)",
        r.list_sequence,
        r.key_set_sequence,
        r.issuer_dir.display(),
        r.written.len(),
        if r.written.len() == 1 { "" } else { "s" }
    ))
}

/// How long before its next update a held list is re-signed rather than written out
/// as it is: a quarter of the list lifetime, and never less than the clock skew doors
/// allow, so that `publish` never hands doors a list that is stale, or about to be.
pub fn refresh_margin(list_lifetime: Duration) -> u64 {
    (list_lifetime.as_secs() / 4).max(revocard::DEFAULT_CLOCK_SKEW_SECS)
}

pub fn publish(g: &Global, report: &Report, a: &PublishArgs) -> Result<()> {
    let Some(every) = a.every else {
        let (db, mut reg) = open(g)?;
        let now = office::now();
        let held = reg.latest_next_update()?;
        let fresh = held.is_some_and(|next| now.plus(refresh_margin(g.list_lifetime)) < next);
        let key = if a.base_url.is_some() || !fresh {
            Some(signing_key(g, &db, &reg, now)?)
        } else {
            None
        };
        // The held list has run out, or is about to: sign a fresh one first.
        let resigned = match (&key, fresh) {
            (Some(key), false) => Some(reg.republish(key, now, next_update(g, now))?.sequence),
            _ => None,
        };
        let written = write_views(
            &reg,
            &a.out,
            a.base_url.as_deref().zip(key.as_ref()),
            a.status_ttl,
        )?;
        let mut human = Vec::new();
        if let (Some(sequence), Some(next)) = (resigned, held) {
            human.push(format!(
                "the held list ran out at {} (or was within {} s of it): signed list {sequence}",
                next.0,
                refresh_margin(g.list_lifetime)
            ));
        }
        human.push(format!("published to {}: {written}", a.out.display()));
        report.print(
            &human,
            json!({"command": "publish", "out": a.out, "written": written, "resigned_sequence": resigned}),
        );
        return Ok(());
    };
    if every < Duration::from_secs(1) || every >= g.list_lifetime {
        return Err(CliError::refused(format!(
            "--every must be at least 1s and shorter than the list lifetime ({}), or doors go stale between publications",
            humantime::format_duration(g.list_lifetime)
        )));
    }
    // The schedule: re-sign (a new sequence, a new next update) and write the layout,
    // for ever. A missed run is logged on stderr at once, long before doors go stale
    // (they deny only after the list's next update plus their grace).
    // The signing key, kept from one run to the next (a token is opened, and its PIN
    // asked for, once); dropped after a failure, so that the next run opens it again.
    let mut kept = None;
    loop {
        let started = std::time::Instant::now();
        let outcome = (|| -> Result<(u64, String)> {
            let (db, mut reg) = open(g)?;
            let now = office::now();
            let key = crate::context::signing_key_kept(g, &db, &reg, now, &mut kept)?;
            let p = reg.republish(key, now, next_update(g, now))?;
            let standards = a.base_url.as_deref().map(|url| (url, key));
            Ok((
                p.sequence,
                write_views(&reg, &a.out, standards, a.status_ttl)?,
            ))
        })();
        match outcome {
            Ok((sequence, written)) => {
                let line = json!({"command": "publish", "sequence": sequence, "out": a.out, "written": written, "at": office::now().0});
                if report.json {
                    crate::out::json(&line);
                } else {
                    crate::out::line(format!(
                        "{}: list {sequence} signed and published to {}: {written}",
                        office::now().0,
                        a.out.display()
                    ));
                }
            }
            Err(e) => {
                kept = None;
                eprintln!(
                    "revocard publish: MISSED scheduled publication at {}: {e} (doors deny every card once the last list passes its next update)",
                    office::now().0
                );
            }
        }
        std::thread::sleep(every.saturating_sub(started.elapsed()));
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CliError::refused(format!("cannot read {}: {e}", path.display())))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(CliError::refused(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    std::fs::read(path)
        .map_err(|e| CliError::refused(format!("cannot read {}: {e}", path.display())))
}

pub fn verify(report: &Report, a: &VerifyArgs) -> Result<()> {
    let now = office::now();
    let root = RootPublicKey::from_bytes(&read_bounded(&a.anchor)?).map_err(|e| {
        CliError::refused(format!("{} is not a trust anchor: {e}", a.anchor.display()))
    })?;
    let issuer_dir = a.list.join(issuer_dir_name(root.issuer()));
    let latest = Latest::from_json(&read_bounded(&issuer_dir.join(LATEST_FILE))?)
        .map_err(|e| CliError::refused(format!("{}: {e}", issuer_dir.display())))?;
    let mut trust = TrustStore::new();
    trust.add_root(root.clone())?;
    let verifier = Arc::new(Verifier::new(trust, VerifyOptions::default()));
    verifier.install_key_set(&read_bounded(&issuer_dir.join(&latest.key_set.path))?, now)?;
    verifier.install_list(&read_bounded(&issuer_dir.join(&latest.list.path))?, now)?;
    let raw = read_bounded(&a.card)?;
    let bytes = match std::str::from_utf8(&raw) {
        Ok(text) if !text.trim().is_empty() && text.trim().is_ascii() => {
            revocard::credential_bytes_from_text(text.trim()).map_err(|e| {
                CliError::refused(format!("{} is not a card: {e}", a.card.display()))
            })?
        }
        _ => raw,
    };
    let door_id = DoorId::new("revocard-verify")?;
    let mut policy = DoorPolicy::new(door_id.clone());
    if a.card_key.is_some() {
        policy = policy.require_holder_binding();
    }
    let door = DoorController::new(Arc::clone(&verifier), vec![policy])
        .map_err(|e| CliError::failed(e.to_string()))?;
    let response = match &a.card_key {
        Some(path) => {
            let card = crate::office::load_card(path, &bytes)?;
            let mut rng = crate::context::os_rng()?;
            let challenge = door
                .challenge(&door_id, now, &mut rng)
                .map_err(|e| CliError::failed(e.to_string()))?;
            Some(card.respond(&challenge))
        }
        None => None,
    };
    let decision = door.tap(&door_id, &bytes, response.as_deref(), now);
    let serial = decision.serial().map(|s| s.to_hex());
    match decision.outcome() {
        Ok(v) => {
            report.print(
                &[format!(
                    "ADMIT: card {} of {} ({}), list {}{}",
                    v.claims().serial,
                    v.claims().holder.pay_number(),
                    v.claims().kind,
                    latest.list.sequence,
                    if a.card_key.is_some() { ", holder proved the card's key" } else { "" }
                )],
                json!({"command": "verify", "decision": "admit", "serial": serial, "holder_binding": a.card_key.is_some(), "list_sequence": latest.list.sequence}),
            );
            Ok(())
        }
        Err(denial) => {
            report.print(
                &[format!("DENY: {denial}")],
                json!({"command": "verify", "decision": "deny", "serial": serial, "reason": denial.to_string(), "list_sequence": latest.list.sequence}),
            );
            Err(CliError::refused(format!("denied: {denial}"))
                .named("denied")
                .reported())
        }
    }
}

pub fn serve(report: &Report, a: &crate::ServeArgs) -> Result<()> {
    use revocard::net::serve::{ServeConfig, ServeEvent};
    if !a.dir.is_dir() {
        return Err(CliError::refused(format!(
            "{} is not a folder: write one with `revocard publish --out {}`",
            a.dir.display(),
            a.dir.display()
        )));
    }
    let json = report.json;
    let mut config = ServeConfig::new(a.dir.clone(), a.listen);
    config.max_connections = a.max_connections;
    config.on_event = Some(Arc::new(move |e: &ServeEvent| {
        let (level, text, doc) = match e {
            ServeEvent::Published {
                issuer_dir,
                sequence,
                pushed_inline,
            } => (
                "info",
                format!(
                    "{issuer_dir}: list {sequence} pushed to connected doors{}",
                    if *pushed_inline {
                        ""
                    } else {
                        " (as a fetch notice)"
                    }
                ),
                json!({"event": "published", "issuer_dir": issuer_dir, "sequence": sequence, "pushed_inline": pushed_inline}),
            ),
            ServeEvent::PointerRefused { issuer_dir, error } => (
                "warn",
                format!(
                    "{issuer_dir}: latest.json refused, still serving the previous one: {error}"
                ),
                json!({"event": "pointer_refused", "issuer_dir": issuer_dir, "error": error.to_string()}),
            ),
            ServeEvent::Overdue {
                issuer_dir,
                sequence,
                next_update,
                now,
            } => (
                "warn",
                format!(
                    "{issuer_dir}: OVERDUE: list {sequence} runs out at {} ({} s from now) and nothing newer is published",
                    next_update.0,
                    next_update.0.saturating_sub(now.0)
                ),
                json!({"event": "overdue", "issuer_dir": issuer_dir, "sequence": sequence, "next_update": next_update.0}),
            ),
            other => ("info", format!("{other:?}"), json!({"event": "other"})),
        };
        if json {
            eprintln!("{}", json!({"level": level, "serve": doc}));
        } else {
            eprintln!("revocard serve: {level}: {text}");
        }
    }));
    if !json {
        eprintln!(
            "revocard serve: serving {} on http://{} (read-only; Ctrl-C stops)",
            a.dir.display(),
            a.listen
        );
    }
    revocard::net::serve::serve(config).map_err(|e| CliError::failed(e.to_string()))
}
