//! A stand-in for the library's layout writer (being written on another branch),
//! following the published layout's contract exactly: immutable files first (a temp
//! file renamed, fsync; the same bytes again are a no-op, other bytes an error), the
//! pointer last, atomically. Used by tests/net.rs and examples/fleet.rs.
#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use revocard::IssuerId;
use revocard::net::layout::{
    ANCHOR_FILE, AnchorPointer, DeltaPointer, KeySetPointer, LATEST_FILE, LATEST_FORMAT, Latest,
    ListPointer, Resource, issuer_dir_name, sha256_hex,
};

/// One publication's objects.
pub struct Objects<'a> {
    pub issuer: &'a str,
    pub anchor: &'a [u8],
    pub key_set: (u64, &'a [u8]),
    pub list: (u64, &'a [u8]),
    pub delta: Option<&'a [u8]>,
    pub published_at: u64,
    pub next_update: u64,
}

/// Writes one publication under `dir`, the pointer last; returns the issuer's folder.
pub fn write(dir: &Path, o: &Objects<'_>) -> io::Result<PathBuf> {
    let issuer = IssuerId::new(o.issuer).map_err(|_| io::Error::other("bad issuer id"))?;
    let folder = dir.join(issuer_dir_name(&issuer));
    for sub in ["keysets", "lists", "deltas"] {
        fs::create_dir_all(folder.join(sub))?;
    }
    let (k, key_set) = o.key_set;
    let (n, list) = o.list;
    immutable(&folder.join(ANCHOR_FILE), o.anchor)?;
    immutable(&folder.join(Resource::KeySet(k).path()), key_set)?;
    immutable(&folder.join(Resource::List(n).path()), list)?;
    if let Some(delta) = o.delta {
        immutable(&folder.join(Resource::Delta(n).path()), delta)?;
    }
    let latest = Latest {
        format: LATEST_FORMAT,
        issuer: o.issuer.to_owned(),
        published_at: o.published_at,
        next_update: o.next_update,
        list: ListPointer {
            sequence: n,
            path: Resource::List(n).path(),
            sha256: sha256_hex(list),
            bytes: list.len() as u64,
        },
        delta: o.delta.map(|d| DeltaPointer {
            from: n - 1,
            to: n,
            path: Resource::Delta(n).path(),
            sha256: sha256_hex(d),
            bytes: d.len() as u64,
        }),
        key_set: KeySetPointer {
            sequence: k,
            path: Resource::KeySet(k).path(),
            sha256: sha256_hex(key_set),
        },
        anchor: AnchorPointer {
            path: ANCHOR_FILE.to_owned(),
            sha256: sha256_hex(o.anchor),
        },
    };
    atomic(&folder.join(LATEST_FILE), &latest.to_json())?;
    Ok(folder)
}

/// Writes the registry's latest publication, key set and root anchor.
pub fn publish_registry<S: revocard::registry::Store>(
    dir: &Path,
    registry: &revocard::registry::Registry<S>,
    next_update: revocard::UnixTime,
) -> io::Result<PathBuf> {
    let record = registry
        .latest_publication()
        .map_err(io::Error::other)?
        .ok_or_else(|| io::Error::other("nothing published"))?;
    let key_set = registry.key_set_bytes().map_err(io::Error::other)?;
    write(
        dir,
        &Objects {
            issuer: registry.meta().issuer.as_str(),
            anchor: &registry.root().to_bytes(),
            key_set: (registry.key_set().sequence(), &key_set),
            list: (record.sequence, &record.list),
            delta: record.delta.as_deref(),
            published_at: record.published_at.0,
            next_update: next_update.0,
        },
    )
}

fn immutable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::read(path) {
        Ok(held) if held == bytes => Ok(()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists with other bytes", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => atomic(path, bytes),
        Err(e) => Err(e),
    }
}

fn atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}
