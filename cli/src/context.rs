//! The office plumbing every command shares: the registry named by `--db`, the
//! system RNG, the signing key in force and the list lifetime. Below the commands:
//! `commands`, `issuing` and `publishing` use it, and it uses none of them.

use std::path::{Path, PathBuf};

use rand::SeedableRng as _;
use rand::rngs::{StdRng, SysRng};
use revocard::issue::IssuerKey;
use revocard::{IssuerId, IssuerPublicKey, KeyId, KeyUsage, UnixTime};

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

/// The record of a signing key that lives in a token: `signing-KEYID.pkcs11`, which
/// names the key's PKCS#11 URI, its issuer, window and public key (never a secret,
/// never the PIN).
pub fn signing_record_path(keys: &Path, key_id: KeyId) -> PathBuf {
    keys.join(format!("signing-{key_id}.pkcs11"))
}

/// Where the office holds a signing key: a key file (trials and tests) or a token.
pub enum OfficeKey {
    File(PathBuf),
    Token(PathBuf),
}

/// Where the keys folder holds `key_id`, if it does.
pub fn find_office_key(keys: &Path, key_id: KeyId) -> Option<OfficeKey> {
    let file = signing_key_path(keys, key_id);
    if file.exists() {
        return Some(OfficeKey::File(file));
    }
    let record = signing_record_path(keys, key_id);
    record.exists().then_some(OfficeKey::Token(record))
}

/// The public half of a signing key the keys folder holds (certified or not yet),
/// read without the token: for drafting a key set that certifies it.
pub fn recorded_public_key(
    keys: &Path,
    issuer: IssuerId,
    key_id: KeyId,
) -> Result<IssuerPublicKey> {
    let public = match find_office_key(keys, key_id) {
        Some(OfficeKey::File(path)) => office::load_signing_key(&path, &issuer)?.public().clone(),
        Some(OfficeKey::Token(path)) => {
            let record = office::read_token_record(&path, &issuer)?;
            IssuerPublicKey::from_parts(issuer, &record.public_key, record.window)?
        }
        None => {
            return Err(CliError::refused(format!(
                "no key {key_id} in {}: `revocard key rotate` makes one",
                keys.display()
            )));
        }
    };
    if public.key_id() != key_id {
        return Err(CliError::refused(format!(
            "the key file for {key_id} in {} holds another key",
            keys.display()
        )));
    }
    Ok(public)
}

/// The office's signing key `expected` (as a key set names it), from its key file or
/// its token; `None` if the keys folder holds neither. Returns where it lives too.
pub fn load_office_key(
    g: &Global,
    keys: &Path,
    issuer: &IssuerId,
    expected: &IssuerPublicKey,
) -> Result<Option<(IssuerKey, String)>> {
    let key_id = expected.key_id();
    let (key, place) = match find_office_key(keys, key_id) {
        None => return Ok(None),
        Some(OfficeKey::File(path)) => {
            let key = office::load_signing_key(&path, issuer)?;
            (key, format!("key file {}", path.display()))
        }
        Some(OfficeKey::Token(path)) => {
            let record = office::read_token_record(&path, issuer)?;
            let key =
                crate::hsm::open_signing(g, &record.uri, issuer.clone(), expected.validity())?;
            (key, format!("token key {}", record.uri))
        }
    };
    if key.key_id() != key_id {
        return Err(CliError::refused(format!(
            "the {place} does not hold key {key_id}"
        )));
    }
    Ok(Some((key, place)))
}

/// The signing key the registry uses now: of the keys the keys folder holds (key files,
/// or records of token keys), the newest one the key set in force certifies for
/// `usage`, unrevoked, not declared compromised and in its window. Only that one is
/// opened (a token key asks for its PIN once).
pub fn signing_key(g: &Global, db: &Path, reg: &Reg, now: UnixTime) -> Result<IssuerKey> {
    let mut kept = None;
    signing_key_kept(g, db, reg, now, &mut kept)?;
    kept.ok_or_else(|| CliError::failed("internal: no signing key kept"))
}

/// [`signing_key`], reusing `kept` when it is still the key to sign with (a schedule
/// that signs every few minutes opens its token, and asks for its PIN, once).
pub fn signing_key_kept<'a>(
    g: &Global,
    db: &Path,
    reg: &Reg,
    now: UnixTime,
    kept: &'a mut Option<IssuerKey>,
) -> Result<&'a IssuerKey> {
    let dir = office::keys_dir(db, g.keys.as_deref());
    let issuer = reg.meta().issuer.clone();
    let set = reg.key_set();
    // Keys declared compromised (`incident declare --key`) are never chosen.
    let compromised = reg.compromised_keys()?;
    let best = set
        .entries()
        .iter()
        .filter(|entry| {
            let window = entry.key.validity();
            entry.revoked.is_none()
                && entry.usage == KeyUsage::CredentialsAndLists
                && now >= window.not_before
                && now <= window.not_after
                && !compromised.contains(&entry.key.key_id())
                && find_office_key(&dir, entry.key.key_id()).is_some()
        })
        .max_by_key(|entry| entry.key.validity().not_before);
    let Some(best) = best else {
        *kept = None;
        return Err(CliError::refused(format!(
            "no signing key in {} is certified, unrevoked and in its window for issuer {issuer}: \
             restore the key files, or certify a new key with `revocard key rotate` (through the root ceremony)",
            dir.display()
        )));
    };
    if kept.as_ref().is_none_or(|k| k.public() != &best.key) {
        *kept = None;
        *kept = load_office_key(g, &dir, &issuer, &best.key)?.map(|(key, _)| key);
    }
    kept.as_ref().ok_or_else(|| {
        CliError::refused(format!(
            "key {} is no longer in {}",
            best.key.key_id(),
            dir.display()
        ))
    })
}
