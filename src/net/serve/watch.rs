//! Noticing publications: every watch interval, each issuer folder's `latest.json` is
//! looked at (one `stat`); when it changed, it is read and checked, the deltas up to
//! the new sequence are read, and each is pushed to the issuer's streams.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;

use super::http::{Current, Issuer, Push, Shared, etag_of, read_confined, unix_now};
use super::{MAX_INLINE_DELTA_BYTES, MAX_ISSUERS, MAX_REPLAY_DELTAS, PointerError, ServeEvent};
use crate::model::{IssuerId, UnixTime};
use crate::net::layout::{
    LATEST_FILE, Latest, MAX_LATEST_BYTES, Resource, is_plain_dir_name, issuer_dir_name, sha256_hex,
};

/// Directory entries looked at per scan (issuer folders and anything else there).
const MAX_ENTRIES_SCANNED: usize = 4 * MAX_ISSUERS;

pub(super) async fn scan_once(shared: &Arc<Shared>) {
    let shared = Arc::clone(shared);
    let _ = tokio::task::spawn_blocking(move || scan(&shared)).await;
}

pub(super) async fn watch(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(shared.config.watch_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        scan_once(&shared).await;
    }
}

fn scan(shared: &Shared) {
    if let Ok(entries) = fs::read_dir(&shared.root) {
        for entry in entries.flatten().take(MAX_ENTRIES_SCANNED) {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // `file_type` does not follow symlinks: a linked folder is never served.
            if !is_plain_dir_name(&name) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if let Some(issuer) = shared.issuer_or_insert(&name) {
                look(shared, &issuer);
            }
        }
    }
    let now = unix_now();
    let margin = shared.config.overdue_margin.as_secs();
    for issuer in shared.issuers() {
        let mut state = issuer.write();
        let Some(current) = state.current.clone() else {
            continue;
        };
        let sequence = current.latest.list.sequence;
        if now.saturating_add(margin) >= current.latest.next_update
            && state.warned != Some(sequence)
        {
            state.warned = Some(sequence);
            drop(state);
            shared.report(&ServeEvent::Overdue {
                issuer_dir: issuer.dir.clone(),
                sequence,
                next_update: UnixTime(current.latest.next_update),
                now: UnixTime(now),
            });
        }
    }
}

fn look(shared: &Shared, issuer: &Issuer) {
    let rel = format!("{}/{LATEST_FILE}", issuer.dir);
    let path = shared.root.join(&rel);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return;
    };
    let fingerprint = (
        meta.len(),
        meta.modified().unwrap_or(std::time::UNIX_EPOCH),
        meta.ino(),
    );
    {
        let mut state = issuer.write();
        if state.fingerprint == Some(fingerprint) {
            return;
        }
        state.fingerprint = Some(fingerprint);
    }
    let refuse = |error: PointerError| {
        shared.report(&ServeEvent::PointerRefused {
            issuer_dir: issuer.dir.clone(),
            error,
        });
    };
    let Ok(bytes) = read_confined(&path, MAX_LATEST_BYTES) else {
        return refuse(PointerError::Unreadable);
    };
    let latest = match Latest::from_json(&bytes) {
        Ok(latest) => latest,
        Err(e) => return refuse(e.into()),
    };
    if IssuerId::new(latest.issuer.clone())
        .map(|id| issuer_dir_name(&id))
        .ok()
        != Some(issuer.dir.clone())
    {
        return refuse(PointerError::WrongFolder {
            issuer: latest.issuer,
        });
    }
    let new = latest.list.sequence;
    let old = issuer
        .read()
        .current
        .as_ref()
        .map(|c| c.latest.list.sequence);
    let deltas = match old {
        // The first sight (at start): keep what a resuming door may ask for.
        None => Some(read_back(shared, issuer, &latest)),
        Some(old) if new > old => read_forward(shared, issuer, &latest, old),
        Some(_) => None,
    };
    let pushes: Vec<Push> = match (&deltas, old) {
        (_, None) => Vec::new(),
        (Some(deltas), Some(old)) if new > old => deltas
            .iter()
            .map(|(seq, data)| Push::Delta {
                seq: *seq,
                data: Arc::clone(data),
            })
            .collect(),
        (None, Some(old)) if new > old => vec![Push::Fetch { seq: new }],
        _ => Vec::new(),
    };
    let current = Arc::new(Current {
        etag: etag_of(&bytes),
        bytes: Bytes::from(bytes),
        latest,
    });
    {
        let mut state = issuer.write();
        state.current = Some(current);
        match deltas {
            Some(deltas) => {
                // Keep a consecutive run ending at `new`.
                if state.recent.back().map(|(s, _)| s + 1) != deltas.first().map(|(s, _)| *s) {
                    state.recent.clear();
                }
                state.recent.extend(deltas);
                while state.recent.len() > MAX_REPLAY_DELTAS {
                    state.recent.pop_front();
                }
            }
            None if old.is_some_and(|old| new > old) => state.recent.clear(),
            None => {}
        }
    }
    // After the state: a stream that subscribed late reads the state, an earlier one
    // receives this.
    let inline = pushes.iter().all(|p| matches!(p, Push::Delta { .. }));
    let published = !pushes.is_empty();
    for push in pushes {
        let _ = issuer.tx.send(push);
    }
    if published {
        shared.report(&ServeEvent::Published {
            issuer_dir: issuer.dir.clone(),
            sequence: new,
            pushed_inline: inline,
        });
    }
}

/// The deltas from `old + 1` to the pointer's sequence, if every one is there and
/// small enough to push (and the last is the one the pointer names).
fn read_forward(
    shared: &Shared,
    issuer: &Issuer,
    latest: &Latest,
    old: u64,
) -> Option<Vec<(u64, Arc<str>)>> {
    let new = latest.list.sequence;
    if new - old > MAX_REPLAY_DELTAS as u64 {
        return None;
    }
    (old + 1..=new)
        .map(|seq| read_delta(shared, issuer, latest, seq).map(|d| (seq, d)))
        .collect()
}

/// The consecutive deltas ending at the pointer's sequence, as many as are there.
fn read_back(shared: &Shared, issuer: &Issuer, latest: &Latest) -> Vec<(u64, Arc<str>)> {
    let mut out = Vec::new();
    let mut seq = latest.list.sequence;
    while out.len() < MAX_REPLAY_DELTAS && seq > 0 {
        let Some(data) = read_delta(shared, issuer, latest, seq) else {
            break;
        };
        out.push((seq, data));
        seq -= 1;
    }
    out.reverse();
    out
}

fn read_delta(shared: &Shared, issuer: &Issuer, latest: &Latest, seq: u64) -> Option<Arc<str>> {
    let path = shared
        .root
        .join(&issuer.dir)
        .join(Resource::Delta(seq).path());
    let bytes = read_confined(&path, MAX_INLINE_DELTA_BYTES).ok()?;
    if seq == latest.list.sequence
        && latest
            .delta
            .as_ref()
            .is_none_or(|d| d.sha256 != sha256_hex(&bytes))
    {
        return None;
    }
    Some(Arc::from(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}
