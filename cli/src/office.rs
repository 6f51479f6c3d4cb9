//! The office's files: the registry, the secret key files, the trust anchor.
//!
//! A secret key file is one line, `revocard-key 1 KIND ISSUER NOT_BEFORE NOT_AFTER HEX`,
//! written with mode 0600 and never overwritten; one that others can read is refused
//! (as ssh refuses a private key others can read).

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use revocard::issue::{IssuerKey, RootKey};
use revocard::registry::{AnyStore, Registry, SqliteStore};
use revocard::{IssuerId, UnixTime, Validity};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// The registry type the tool works on: an SQLite file or a PostgreSQL database.
pub type Reg = Registry<AnyStore>;

/// Whether `--db` names a PostgreSQL server rather than a file.
pub fn is_url(db: &Path) -> bool {
    db.to_str().is_some_and(AnyStore::is_postgres_url)
}

/// Where `--db` is, for messages (never a password).
pub fn shown(db: &Path, store: Option<&AnyStore>) -> String {
    match store {
        Some(s) => s.location().to_owned(),
        None if is_url(db) => "the PostgreSQL database".to_owned(),
        None => db.display().to_string(),
    }
}

/// Opens the store `--db` names: a PostgreSQL URL, or an SQLite file that must
/// (`create` false) or must not (`create` true) exist already.
pub fn store(db: &Path, create: bool) -> Result<AnyStore> {
    if is_url(db) {
        let url = db.to_str().unwrap_or_default();
        return AnyStore::open(url)
            .map_err(|e| CliError::from(e).context("connecting to the registry's database"));
    }
    let sqlite = if create {
        SqliteStore::create(db)
    } else {
        SqliteStore::open_existing(db)
    };
    sqlite
        .map(AnyStore::Sqlite)
        .map_err(|e| CliError::from(e).context(format!("opening {}", db.display())))
}

/// The clock, read once per command: the library takes time as an argument.
pub fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

/// Where the registry is: `--db` or `REVOCARD_DB`.
pub fn db_path(db: Option<&Path>) -> Result<PathBuf> {
    db.map(Path::to_path_buf)
        .ok_or_else(|| CliError::refused("no registry given: pass --db PATH or set REVOCARD_DB"))
}

/// Where the office's secret keys are: `--keys` or, by default, `keys/` beside the
/// registry.
pub fn keys_dir(db: &Path, keys: Option<&Path>) -> PathBuf {
    match keys {
        Some(k) => k.to_path_buf(),
        None if is_url(db) => PathBuf::from("keys"),
        None => db
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("keys"),
    }
}

/// Opens an existing registry; refuses a missing file or one that is not a registry
/// without creating or changing anything.
pub fn open(db: &Path) -> Result<Reg> {
    if !is_url(db) && !db.is_file() {
        return Err(CliError::refused(format!(
            "{} does not exist: create a registry with `revocard init --issuer NAME --db {}`",
            db.display(),
            db.display()
        )));
    }
    let store = store(db, false)?;
    let at = shown(db, Some(&store));
    Registry::open(store).map_err(|e| CliError::from(e).context(at))
}

/// What a key file holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Root,
    Signing,
}

impl KeyKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Signing => "signing",
        }
    }
}

/// Writes a secret key file with mode 0600, refusing to overwrite anything.
pub fn write_key(
    path: &Path,
    kind: KeyKind,
    issuer: &IssuerId,
    window: Validity,
    secret: &[u8; 32],
) -> Result<()> {
    let line: Zeroizing<String> = Zeroizing::new(format!(
        "revocard-key 1 {} {} {} {} {}\n",
        kind.as_str(),
        issuer.as_str(),
        window.not_before.0,
        window.not_after.0,
        secret
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    write_secret(path, line.as_bytes())
}

/// Writes a secret file with mode 0600, refusing to overwrite anything.
pub fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::refused(format!(
                "{} already exists: revocard never overwrites a secret",
                path.display()
            ))
        } else {
            CliError::failed(format!("writing {}: {e}", path.display()))
        }
    })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Reads a secret file (`what`: "key file", "card key file"), refusing one that others
/// can read (as ssh does) or one larger than `max` bytes.
fn read_private(path: &Path, what: &str, max: u64) -> Result<Zeroizing<String>> {
    let cannot = |e: std::io::Error| {
        CliError::refused(format!("cannot read {what} {}: {e}", path.display()))
    };
    let meta = fs::metadata(path).map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CliError::refused(format!(
                "{what} {} can be read by others (mode {mode:03o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    if meta.len() > max {
        return Err(CliError::refused(format!(
            "{} is not a revocard {what}",
            path.display()
        )));
    }
    Ok(Zeroizing::new(fs::read_to_string(path).map_err(cannot)?))
}

/// 32 secret bytes from 64 hex digits; `bad` says why not.
fn secret_of_hex(hex: &str, bad: impl Fn() -> CliError) -> Result<Zeroizing<[u8; 32]>> {
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    for (i, b) in secret.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).ok_or_else(&bad)?;
        *b = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(secret)
}

/// The parts of a key file.
struct KeyFile {
    issuer: IssuerId,
    window: Validity,
    secret: Zeroizing<[u8; 32]>,
}

fn read_key(path: &Path, kind: KeyKind) -> Result<KeyFile> {
    let text = read_private(path, "key file", 4096)?;
    let bad = || CliError::refused(format!("{} is not a revocard key file", path.display()));
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [magic, version, found_kind, issuer, nb, na, hex] = parts.as_slice() else {
        return Err(bad());
    };
    if *magic != "revocard-key" || *version != "1" {
        return Err(bad());
    }
    if *found_kind != kind.as_str() {
        return Err(CliError::refused(format!(
            "{} holds a {found_kind} key, not a {} key",
            path.display(),
            kind.as_str()
        )));
    }
    let secret = secret_of_hex(hex, bad)?;
    let nb: u64 = nb.parse().map_err(|_| bad())?;
    let na: u64 = na.parse().map_err(|_| bad())?;
    Ok(KeyFile {
        issuer: IssuerId::new(*issuer).map_err(|_| bad())?,
        window: Validity::new(UnixTime(nb), UnixTime(na)).map_err(|_| bad())?,
        secret,
    })
}

/// Loads a signing key, refusing one of another issuer than `issuer`.
pub fn load_signing_key(path: &Path, issuer: &IssuerId) -> Result<IssuerKey> {
    let f = read_key(path, KeyKind::Signing)?;
    if &f.issuer != issuer {
        return Err(CliError::refused(format!(
            "{} is a key of issuer {}, not of this registry's issuer {issuer}",
            path.display(),
            f.issuer
        )));
    }
    Ok(IssuerKey::from_secret_bytes(f.issuer, f.window, &f.secret)?)
}

/// Loads the root key, refusing one of another issuer than `issuer`.
pub fn load_root_key(path: &Path, issuer: &IssuerId) -> Result<RootKey> {
    let f = read_key(path, KeyKind::Root)?;
    if &f.issuer != issuer {
        return Err(CliError::refused(format!(
            "{} is a root key of issuer {}, not of this registry's issuer {issuer}",
            path.display(),
            f.issuer
        )));
    }
    Ok(RootKey::from_secret_bytes(f.issuer, f.window, &f.secret)?)
}

/// Writes `bytes` to `path` atomically (temp file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp)
            .map_err(|e| CliError::failed(format!("writing {}: {e}", tmp.display())))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).map_err(|e| CliError::failed(format!("writing {}: {e}", path.display())))
}

/// The card (a software stand-in for a chip) whose secret key is in `path` (64 hex
/// digits, mode 0600), holding `credential`: it answers a door's challenge.
pub fn load_card(path: &Path, credential: &[u8]) -> Result<revocard::issue::Card> {
    let text = read_private(path, "card key file", 256)?;
    let secret = secret_of_hex(text.trim(), || {
        CliError::refused(format!(
            "{} is not a card key file (64 hex digits)",
            path.display()
        ))
    })?;
    let key = revocard::issue::CardKey::from_secret_bytes(&secret);
    revocard::issue::Card::new(credential.to_vec(), key)
        .map_err(|e| CliError::refused(format!("{}: {e}", path.display())))
}
