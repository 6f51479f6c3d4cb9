//! The writing side of the published layout ([`super::layout`], the contract the
//! publisher and the feed read): what a registry writes for doors to fetch from any
//! static web server or CDN. File I/O at the edge (std only).
//!
//! ```text
//! DIR/<issuer-dir>/
//!   latest.json        small pointer, rewritten atomically (temp file + rename) LAST
//!   anchor.rca         the issuer's root trust anchor (what door vendors install)
//!   keysets/<K>.rks    root-signed key set of sequence K          (immutable once written)
//!   lists/<N>.rcl      full signed list of sequence N             (immutable once written)
//!   deltas/<N>.rcd     signed delta from list N-1 to list N       (immutable once written)
//! ```
//!
//! `<issuer-dir>` is [`issuer_dir_name`](super::layout::issuer_dir_name). Immutable files are written first (temp file,
//! fsync, then a hard link to the final name, which never replaces an existing file),
//! and never rewritten with other bytes: the same bytes again are a no-op, other
//! bytes under an existing name are [`PublishError::Conflict`]. `latest.json` (format
//! [`LATEST_FORMAT`]) is written last, by rename, so that a reader who finds it finds
//! every file it names. Everything a door trusts is signed; `latest.json` is only a
//! pointer (a door verifies what it fetches).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::layout::{
    ANCHOR_FILE, AnchorPointer, DeltaPointer, KeySetPointer, LATEST_FILE, LATEST_FORMAT, Latest,
    ListPointer, MAX_LATEST_BYTES, Resource, issuer_dir_name, sha256_hex,
};
use crate::model::IssuerId;
use crate::registry::{Registry, RegistryError, Store};

/// What [`Registry::publish_to`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LayoutReport {
    /// The issuer's folder (`DIR/<issuer-dir>`).
    pub issuer_dir: PathBuf,
    /// Files written by this call, relative to the issuer's folder, in the order
    /// written (`latest.json` last of the native files; the standard views, feature
    /// `standards`, after it).
    pub written: Vec<String>,
    /// Immutable files found already in place with the same bytes.
    pub unchanged: usize,
    /// The sequence of the list `latest.json` names.
    pub list_sequence: u64,
    /// The sequence of the key set `latest.json` names.
    pub key_set_sequence: u64,
}

/// Why the layout could not be written. Files written before the error stay (they
/// are immutable and correct); `latest.json` is written only when everything else was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The registry has published no list yet.
    #[error("the registry has published no list yet")]
    NothingPublished,
    /// The registry holds no key set.
    #[error("the registry holds no key set")]
    NoKeySet,
    /// An immutable file exists with other bytes: the folder holds another history
    /// (another registry, a restored backup): nothing is overwritten.
    #[error("{path} exists with other bytes; published files are never rewritten")]
    Conflict {
        /// The file.
        path: PathBuf,
    },
    /// The issuer's folder already names another issuer in its `latest.json`.
    #[error("{path} names issuer {found:?}, not this registry's")]
    OtherIssuer {
        /// The pointer file.
        path: PathBuf,
        /// The issuer it names.
        found: String,
    },
    /// A stored publication does not decode (a corrupt store).
    #[error("stored list {sequence} does not decode: {source}")]
    StoredList {
        /// Its sequence.
        sequence: u64,
        /// Why.
        source: crate::wire::DecodeError,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Reading the registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A standard view could not be made.
    #[cfg(feature = "standards")]
    #[error(transparent)]
    Standards(#[from] super::standards::StandardsError),
}

impl<S: Store> Registry<S> {
    /// Writes the static published layout of this registry's issuer under `dir` (see
    /// the module docs and ARCHITECTURE.md): every publication not yet there (so that a
    /// door holding an older list can walk the deltas), the key set in force, the root
    /// anchor, then `latest.json`. Idempotent: a second call with nothing new writes
    /// only `latest.json` again.
    ///
    /// Publications are found newest first, down to the first one whose list and delta
    /// are already in place with the same bytes: the layout is written oldest first,
    /// so everything below it was written by an earlier call. (A file deleted below
    /// that point by hand is not restored; a new, empty `DIR` gets every publication.)
    ///
    /// # Errors
    /// [`PublishError`]: nothing published, a file with other bytes under a published
    /// name, a folder naming another issuer, or an I/O or storage failure.
    pub fn publish_to(&self, dir: &Path) -> Result<LayoutReport, PublishError> {
        let issuer = self.root().issuer().clone();
        let issuer_dir = dir.join(issuer_dir_name(&issuer));
        let latest = self
            .latest_publication()?
            .ok_or(PublishError::NothingPublished)?;
        let key_set = self
            .store()
            .latest_key_set()?
            .ok_or(PublishError::NoKeySet)?;
        for sub in ["lists", "deltas", "keysets"] {
            let path = issuer_dir.join(sub);
            fs::create_dir_all(&path).map_err(|source| PublishError::Io { path, source })?;
        }
        check_issuer(&issuer_dir, &issuer)?;
        let mut report = LayoutReport {
            issuer_dir: issuer_dir.clone(),
            written: Vec::new(),
            unchanged: 0,
            list_sequence: latest.sequence,
            key_set_sequence: key_set.sequence,
        };

        // Newest first, down to the first publication already complete on disk.
        let mut missing = Vec::new();
        let mut sequence = latest.sequence;
        while sequence >= 1 {
            let record = if sequence == latest.sequence {
                Some(latest.clone())
            } else {
                self.store().publication(sequence)?
            };
            if let Some(record) = record {
                let list_there = same_file(&issuer_dir.join(list_path(sequence)), &record.list)?;
                let delta_there = match &record.delta {
                    Some(delta) => same_file(&issuer_dir.join(delta_path(sequence)), delta)?,
                    None => true,
                };
                if list_there && delta_there {
                    break;
                }
                missing.push(record);
            }
            sequence -= 1;
        }
        // Oldest first, each delta before its list.
        for record in missing.iter().rev() {
            if let Some(delta) = &record.delta {
                write_immutable(
                    &issuer_dir,
                    &delta_path(record.sequence),
                    delta,
                    &mut report,
                )?;
            }
            write_immutable(
                &issuer_dir,
                &list_path(record.sequence),
                &record.list,
                &mut report,
            )?;
        }
        let key_set_path = Resource::KeySet(key_set.sequence).path();
        write_immutable(&issuer_dir, &key_set_path, &key_set.bytes, &mut report)?;
        let anchor = self.root().to_bytes();
        write_immutable(&issuer_dir, ANCHOR_FILE, &anchor, &mut report)?;

        let header = crate::wire::decode_list(&latest.list)
            .map_err(|source| PublishError::StoredList {
                sequence: latest.sequence,
                source,
            })?
            .header;
        let pointer = Latest {
            format: LATEST_FORMAT,
            issuer: issuer.as_str().to_owned(),
            published_at: latest.published_at.0,
            next_update: header.next_update.0,
            list: ListPointer {
                sequence: latest.sequence,
                path: list_path(latest.sequence),
                sha256: sha256_hex(&latest.list),
                bytes: latest.list.len() as u64,
            },
            delta: latest.delta.as_ref().map(|delta| DeltaPointer {
                from: latest.sequence.saturating_sub(1),
                to: latest.sequence,
                path: delta_path(latest.sequence),
                sha256: sha256_hex(delta),
                bytes: delta.len() as u64,
            }),
            key_set: KeySetPointer {
                sequence: key_set.sequence,
                path: key_set_path,
                sha256: sha256_hex(&key_set.bytes),
            },
            anchor: AnchorPointer {
                path: ANCHOR_FILE.to_owned(),
                sha256: sha256_hex(&anchor),
            },
        };
        let mut text = pointer.to_json();
        text.push(b'\n');
        replace_atomically(&issuer_dir, LATEST_FILE, &text)?;
        report.written.push(LATEST_FILE.to_owned());
        Ok(report)
    }
}

#[cfg(feature = "standards")]
impl<S: Store> Registry<S> {
    /// [`Self::publish_to`], then beside the native files the standard views of the
    /// latest list ([`super::standards`]: `status/ietf.jwt`,
    /// `status/w3c-revocation.jwt`, `status/w3c-suspension.jwt`, `status/jwks.json`),
    /// signed with `key`, for a publisher serving `dir` at `base_url`. The views are
    /// deterministic; each is rewritten atomically (rename), after `latest.json`
    /// (which does not name them), only when its bytes change, and listed in the
    /// report's `written` after `latest.json`.
    ///
    /// # Errors
    /// As [`Self::publish_to`]; [`PublishError::Registry`] if `key` may not sign lists
    /// for this registry and [`PublishError::Standards`] for a bad base URL (both
    /// before anything is written), or if another handle published while the views
    /// were being made (run again).
    pub fn publish_to_with_standards(
        &self,
        dir: &Path,
        base_url: &str,
        key: &crate::issue::IssuerKey,
    ) -> Result<LayoutReport, PublishError> {
        self.publish_to_with_standards_ttl(
            dir,
            base_url,
            key,
            super::standards::DEFAULT_VIEW_TTL_SECS,
        )
    }

    /// [`Self::publish_to_with_standards`] with the views' `ttl` set by the operator
    /// (seconds; capped at the list's lifetime; see
    /// [`ViewTimes::ttl_secs`](super::standards::ViewTimes::ttl_secs)).
    ///
    /// # Errors
    /// As [`Self::publish_to_with_standards`].
    pub fn publish_to_with_standards_ttl(
        &self,
        dir: &Path,
        base_url: &str,
        key: &crate::issue::IssuerKey,
        ttl_secs: u64,
    ) -> Result<LayoutReport, PublishError> {
        use super::standards::{IndexStatuses, STATUS_DIR, StatusUrls, StatusViews, ViewTimes};
        self.check_list_key(key)?;
        let urls = StatusUrls::new(base_url, self.root().issuer())?;
        let mut report = self.publish_to(dir)?;
        let (statuses, latest) = IndexStatuses::from_registry(self)?;
        if latest.sequence != report.list_sequence {
            return Err(super::standards::StandardsError::NotInSync {
                state: latest.sequence,
                list: report.list_sequence,
            }
            .into());
        }
        let next_update = crate::wire::decode_list(&latest.list)
            .map_err(|source| PublishError::StoredList {
                sequence: latest.sequence,
                source,
            })?
            .header
            .next_update;
        let times = ViewTimes {
            issued_at: latest.published_at,
            next_update,
            ttl_secs,
        };
        let views = StatusViews::make(&statuses, times, &urls, key)?;
        let status_dir = report.issuer_dir.join(STATUS_DIR);
        fs::create_dir_all(&status_dir).map_err(io_error(&status_dir))?;
        for (relative, text) in views.files() {
            let path = report.issuer_dir.join(relative);
            if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
                replace_atomically(&report.issuer_dir, relative, text.as_bytes())?;
                report.written.push(relative.to_owned());
            }
        }
        Ok(report)
    }
}

fn list_path(sequence: u64) -> String {
    Resource::List(sequence).path()
}

fn delta_path(sequence: u64) -> String {
    Resource::Delta(sequence).path()
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Refuses a folder whose `latest.json` names another issuer (two ids can share a
/// folder name only by a hex form colliding with a plain id; this catches it).
fn check_issuer(issuer_dir: &Path, issuer: &IssuerId) -> Result<(), PublishError> {
    let path = issuer_dir.join(LATEST_FILE);
    let file = match fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(&path)(e)),
    };
    let mut text = Vec::new();
    io::Read::read_to_end(
        &mut io::Read::take(file, MAX_LATEST_BYTES as u64),
        &mut text,
    )
    .map_err(io_error(&path))?;
    let found = serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("issuer")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    if found == issuer.as_str() {
        Ok(())
    } else {
        Err(PublishError::OtherIssuer { path, found })
    }
}

/// Whether `path` exists with exactly `bytes`; [`PublishError::Conflict`] if it holds
/// other bytes.
fn same_file(path: &Path, bytes: &[u8]) -> Result<bool, PublishError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_error(path)(e)),
        Ok(meta) if meta.len() != bytes.len() as u64 => {
            return Err(PublishError::Conflict {
                path: path.to_owned(),
            });
        }
        Ok(_) => {}
    }
    let held = fs::read(path).map_err(io_error(path))?;
    if held == bytes {
        Ok(true)
    } else {
        Err(PublishError::Conflict {
            path: path.to_owned(),
        })
    }
}

/// Writes `bytes` to a new temporary file beside `final_path`, flushed to disk.
fn write_temp(final_path: &Path, bytes: &[u8]) -> Result<PathBuf, PublishError> {
    let name = final_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let tmp = final_path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = fs::File::create(&tmp).map_err(io_error(&tmp))?;
    file.write_all(bytes).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    Ok(tmp)
}

/// Makes the entry of `path` durable (fsync of its folder).
fn sync_dir(path: &Path) -> Result<(), PublishError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

/// Writes an immutable file unless it is there with the same bytes. The final name is
/// made by a hard link, which fails rather than replace a file, so two writers never
/// overwrite each other's bytes.
fn write_immutable(
    issuer_dir: &Path,
    relative: &str,
    bytes: &[u8],
    report: &mut LayoutReport,
) -> Result<(), PublishError> {
    let path = issuer_dir.join(relative);
    if same_file(&path, bytes)? {
        report.unchanged += 1;
        return Ok(());
    }
    let tmp = write_temp(&path, bytes)?;
    let linked = fs::hard_link(&tmp, &path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(&path)?;
            report.written.push(relative.to_owned());
            Ok(())
        }
        // Another writer got there first: fine if it wrote the same bytes.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if same_file(&path, bytes)? {
                report.unchanged += 1;
                Ok(())
            } else {
                Err(PublishError::Conflict { path })
            }
        }
        Err(e) => Err(io_error(&path)(e)),
    }
}

/// Replaces `relative` atomically (temp file, fsync, rename, fsync of the folder).
fn replace_atomically(issuer_dir: &Path, relative: &str, bytes: &[u8]) -> Result<(), PublishError> {
    let path = issuer_dir.join(relative);
    let tmp = write_temp(&path, bytes)?;
    if let Err(e) = fs::rename(&tmp, &path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(&path)(e));
    }
    sync_dir(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_dir_names_are_plain_ids_or_hex_and_never_a_path() {
        let name = |id: &str| issuer_dir_name(&IssuerId::new(id).unwrap());
        assert_eq!(name("example-police"), "example-police");
        assert_eq!(name("Met_Police-2"), "Met_Police-2");
        assert_eq!(name("a.b"), "x-612e62");
        assert_eq!(name(".."), "x-2e2e");
        assert_eq!(name("-lead"), "x-2d6c656164");
        assert_eq!(name("_x"), "x-5f78");
        assert_eq!(name("a/b"), "x-612f62");
        assert_eq!(name("x.y"), "x-782e79");
        for id in ["..", ".", "a/../b", "%2e%2e", "a\\b", "~root"] {
            let dir = name(id);
            assert!(
                dir.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id:?} -> {dir:?}"
            );
        }
    }
}
