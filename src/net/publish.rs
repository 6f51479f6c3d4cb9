//! The writing side of the published layout ([`super::layout`]): everything a
//! registry has published, as files any static web server or CDN can serve.
//!
//! Immutable files (key sets, lists, deltas) are written first, each through a
//! temporary file renamed into place after an fsync, and never rewritten: writing the
//! same bytes again is a no-op, other bytes under an existing name are refused
//! ([`PublishError::Conflict`]: two registries writing one folder, or a tampered
//! folder). `latest.json` is rewritten last, atomically, so a reader never sees a
//! pointer to a file that is not there yet.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::layout::{
    ANCHOR_FILE, AnchorPointer, DeltaPointer, KeySetPointer, LATEST_FILE, LATEST_FORMAT, Latest,
    ListPointer, Resource, issuer_dir_name, sha256_hex,
};
#[cfg(feature = "standards")]
use crate::model::UnixTime;
use crate::registry::{Registry, RegistryError, Store};

/// What [`write_layout`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutReport {
    /// The issuer's folder.
    pub issuer_dir: PathBuf,
    /// Files written by this call (files already there with the same bytes are not
    /// counted).
    pub written: usize,
    /// The list `latest.json` now points to.
    pub list_sequence: u64,
    /// The key set it points to.
    pub key_set_sequence: u64,
}

impl fmt::Display for LayoutReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "list {} and key set {} in {} ({} new file{})",
            self.list_sequence,
            self.key_set_sequence,
            self.issuer_dir.display(),
            self.written,
            if self.written == 1 { "" } else { "s" }
        )
    }
}

/// Why the layout could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An immutable file already holds other bytes: the folder belongs to another
    /// registry, or was changed by hand.
    #[error(
        "{path} already holds other bytes: the folder is another registry's, or was tampered with"
    )]
    Conflict {
        /// Which.
        path: PathBuf,
    },
    /// The registry has published nothing yet.
    #[error("the registry has published no list yet")]
    NothingPublished,
    /// Reading the registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A standard view could not be made.
    #[cfg(feature = "standards")]
    #[error(transparent)]
    Standards(#[from] super::standards::StandardsError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file, fsynced, renamed into place.
fn replace(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Writes an immutable file: `Ok(true)` if written, `Ok(false)` if it already holds
/// these bytes, [`PublishError::Conflict`] if it holds others.
fn immutable(path: &Path, bytes: &[u8]) -> Result<bool, PublishError> {
    match std::fs::read(path) {
        Ok(existing) if existing == bytes => Ok(false),
        Ok(_) => Err(PublishError::Conflict {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            replace(path, bytes)?;
            Ok(true)
        }
        Err(e) => Err(io(path)(e)),
    }
}

/// Writes everything `registry` has published into `dir`, in the layout: the anchor,
/// the key set in force, every list and delta not yet there, then `latest.json`.
///
/// # Errors
/// [`PublishError::Io`]; [`PublishError::Conflict`] if an immutable file holds other
/// bytes (nothing after it is written, and `latest.json` is left as it was);
/// [`PublishError::NothingPublished`]; [`PublishError::Registry`].
pub fn write_layout<S: Store>(
    registry: &Registry<S>,
    dir: &Path,
) -> Result<LayoutReport, PublishError> {
    write_layout_then(registry, dir, |_, _| Ok(0))
}

/// [`write_layout`], and beside the native files the standard views of the latest
/// list ([`super::standards`]: `status/ietf.jwt`, `status/w3c-revocation.jwt`,
/// `status/w3c-suspension.jwt`, `status/jwks.json`), signed with `key` for a publisher
/// serving `dir` at `base_url`. They are rewritten (atomically, before `latest.json`)
/// whenever their bytes change.
///
/// # Errors
/// As [`write_layout`]; [`PublishError::Registry`] if `key` may not sign lists for this
/// registry; [`PublishError::Standards`] for a bad base URL, or if another handle
/// published while the views were being made (run again).
#[cfg(feature = "standards")]
pub fn write_layout_with_standards<S: Store>(
    registry: &Registry<S>,
    dir: &Path,
    base_url: &str,
    key: &crate::issue::IssuerKey,
) -> Result<LayoutReport, PublishError> {
    use super::standards::{IndexStatuses, StatusUrls, StatusViews, ViewTimes};
    registry.check_list_key(key)?;
    let urls = StatusUrls::new(base_url, registry.root().issuer())?;
    write_layout_then(registry, dir, |issuer_dir, latest| {
        let (statuses, state_of) = IndexStatuses::from_registry(registry)?;
        if state_of.sequence != latest.list.sequence {
            return Err(super::standards::StandardsError::NotInSync {
                state: state_of.sequence,
                list: latest.list.sequence,
            }
            .into());
        }
        let times = ViewTimes {
            issued_at: UnixTime(latest.published_at),
            next_update: UnixTime(latest.next_update),
        };
        let views = StatusViews::make(&statuses, times, &urls, key)?;
        let status_dir = issuer_dir.join(super::standards::STATUS_DIR);
        std::fs::create_dir_all(&status_dir).map_err(io(&status_dir))?;
        let mut written = 0;
        for (path, text) in views.files() {
            written += usize::from(rewrite(&issuer_dir.join(path), text.as_bytes())?);
        }
        Ok(written)
    })
}

/// Rewrites a mutable file if its bytes differ: `Ok(true)` if written.
fn rewrite(path: &Path, bytes: &[u8]) -> Result<bool, PublishError> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(false);
    }
    replace(path, bytes)?;
    Ok(true)
}

/// What [`write_layout`] writes, with `also` run just before `latest.json` is written
/// (given the issuer's folder and the pointer about to be written; it answers how many
/// files it wrote).
fn write_layout_then<S: Store>(
    registry: &Registry<S>,
    dir: &Path,
    also: impl FnOnce(&Path, &Latest) -> Result<usize, PublishError>,
) -> Result<LayoutReport, PublishError> {
    let root = registry.root();
    let issuer_dir = dir.join(issuer_dir_name(root.issuer()));
    for sub in ["keysets", "lists", "deltas"] {
        let d = issuer_dir.join(sub);
        std::fs::create_dir_all(&d).map_err(io(&d))?;
    }
    let latest_publication = registry
        .latest_publication()?
        .ok_or(PublishError::NothingPublished)?;
    let mut written = 0;
    let anchor = root.to_bytes();
    written += usize::from(immutable(&issuer_dir.join(ANCHOR_FILE), &anchor)?);
    let key_set = registry.key_set_bytes()?;
    let key_set_sequence = registry.key_set().sequence();
    let key_set_path = Resource::KeySet(key_set_sequence).path();
    written += usize::from(immutable(&issuer_dir.join(&key_set_path), &key_set)?);
    // Every list and delta, oldest first, so that a door holding any older list can
    // walk the deltas forward.
    let mut delta_pointer = None;
    for sequence in 1..=latest_publication.sequence {
        let list_path = issuer_dir.join(Resource::List(sequence).path());
        let delta_path = issuer_dir.join(Resource::Delta(sequence).path());
        let last = sequence == latest_publication.sequence;
        if !last && list_path.exists() && (sequence == 1 || delta_path.exists()) {
            continue;
        }
        let Some(p) = registry.store().publication(sequence)? else {
            continue;
        };
        written += usize::from(immutable(&list_path, &p.list)?);
        if let Some(delta) = &p.delta {
            written += usize::from(immutable(&delta_path, delta)?);
            if last {
                delta_pointer = Some(DeltaPointer {
                    from: sequence - 1,
                    to: sequence,
                    path: Resource::Delta(sequence).path(),
                    sha256: sha256_hex(delta),
                    bytes: delta.len() as u64,
                });
            }
        }
    }
    let list = &latest_publication.list;
    // The registry signed these bytes; a list it cannot decode is a corrupt store.
    let next_update = crate::wire::decode_list(list)
        .map_err(|source| RegistryError::StoredList {
            sequence: latest_publication.sequence,
            source,
        })?
        .header
        .next_update
        .0;
    let latest = Latest {
        format: LATEST_FORMAT,
        issuer: root.issuer().as_str().to_owned(),
        published_at: latest_publication.published_at.0,
        next_update,
        list: ListPointer {
            sequence: latest_publication.sequence,
            path: Resource::List(latest_publication.sequence).path(),
            sha256: sha256_hex(list),
            bytes: list.len() as u64,
        },
        delta: delta_pointer,
        key_set: KeySetPointer {
            sequence: key_set_sequence,
            path: key_set_path,
            sha256: sha256_hex(&key_set),
        },
        anchor: AnchorPointer {
            path: ANCHOR_FILE.to_owned(),
            sha256: sha256_hex(&anchor),
        },
    };
    written += also(&issuer_dir, &latest)?;
    let latest_path = issuer_dir.join(LATEST_FILE);
    written += usize::from(rewrite(&latest_path, &latest.to_json())?);
    Ok(LayoutReport {
        issuer_dir,
        written,
        list_sequence: latest_publication.sequence,
        key_set_sequence,
    })
}
