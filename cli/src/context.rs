//! The office plumbing every command shares: the registry named by `--db`, the
//! system RNG, the signing key in force and the list lifetime. Below the commands:
//! `commands`, `issuing` and `publishing` use it, and it uses none of them.

use std::path::{Path, PathBuf};

use rand::SeedableRng as _;
use rand::rngs::{StdRng, SysRng};
use revocard::issue::IssuerKey;
use revocard::{KeyId, KeyUsage, UnixTime};

use crate::Global;
use crate::error::{CliError, Result};
use crate::office::{self, Reg};

/// The system RNG, seeded once per command: the library takes its randomness as an
/// argument.
pub fn os_rng() -> Result<StdRng> {
    StdRng::try_from_rng(&mut SysRng)
        .map_err(|e| CliError::failed(format!("the system's random source failed: {e}")))
}

/// The registry named by `--db`, opened for a command that writes to it.
pub fn open(g: &Global) -> Result<(PathBuf, Reg)> {
    let db = office::db_path(g.db.as_deref())?;
    let reg = office::open(&db, office::Access::Write)?;
    Ok((db, reg))
}

/// The registry named by `--db`, opened for a command that only reads: nothing is
/// created, migrated or written, on either backend.
pub fn open_to_read(g: &Global) -> Result<(PathBuf, Reg)> {
    let db = office::db_path(g.db.as_deref())?;
    let reg = office::open(&db, office::Access::Read)?;
    Ok((db, reg))
}

/// When the list signed now stops being in force.
pub fn next_update(g: &Global, now: UnixTime) -> UnixTime {
    now.plus(g.list_lifetime.as_secs().max(60))
}

/// The signing key file of `key_id`.
pub fn signing_key_path(keys: &Path, key_id: KeyId) -> PathBuf {
    keys.join(format!("signing-{key_id}.key"))
}

/// The root key's file.
pub fn root_key_path(keys: &Path) -> PathBuf {
    keys.join("root.key")
}

/// The signing key the registry uses now: of the key files in the keys folder, the
/// newest one the key set in force certifies for `usage`, unrevoked and in its window.
pub fn signing_key(g: &Global, db: &Path, reg: &Reg, now: UnixTime) -> Result<IssuerKey> {
    let dir = office::keys_dir(db, g.keys.as_deref());
    let issuer = reg.meta().issuer.clone();
    let set = reg.key_set();
    let mut best: Option<IssuerKey> = None;
    for entry in set.entries() {
        if entry.revoked.is_some() || entry.usage != KeyUsage::CredentialsAndLists {
            continue;
        }
        let window = entry.key.validity();
        if now < window.not_before || now > window.not_after {
            continue;
        }
        let path = signing_key_path(&dir, entry.key.key_id());
        if !path.exists() {
            continue;
        }
        let key = office::load_signing_key(&path, &issuer)?;
        if key.key_id() != entry.key.key_id() {
            return Err(CliError::refused(format!(
                "{} does not hold key {}",
                path.display(),
                entry.key.key_id()
            )));
        }
        if best
            .as_ref()
            .is_none_or(|b| b.validity().not_before < key.validity().not_before)
        {
            best = Some(key);
        }
    }
    best.ok_or_else(|| {
        CliError::refused(format!(
            "no signing key file in {} is certified, unrevoked and in its window for issuer {issuer}: \
             restore the key files, or certify a new key with `revocard key rotate --root-key FILE`",
            dir.display()
        ))
    })
}
