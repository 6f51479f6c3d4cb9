//! The office's files: the registry, the secret key files, the trust anchor, and the
//! one writer of every other file the tool writes ([`write_atomic`]).
//!
//! A secret key file is one line, `revocard-key 1 KIND ISSUER NOT_BEFORE NOT_AFTER HEX`,
//! written with mode 0600 and never overwritten; one that others can read is refused
//! (as ssh refuses a private key others can read). The SQLite registry is created
//! mode 0600 (its `-wal` and `-shm` files take the same mode) in a folder others
//! cannot write; opening one that others can read warns once on stderr.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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

/// How a command opens the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `init`: a new SQLite file, or an empty PostgreSQL database (the schema is made).
    Create,
    /// A command that writes: the registry must exist.
    Write,
    /// A command that only reads: the registry must exist, and nothing is created,
    /// migrated or written.
    Read,
}

/// Opens the store `--db` names: a PostgreSQL URL, or an SQLite file (which must not
/// exist for `Create`, and must for the others).
pub fn store(db: &Path, access: Access) -> Result<AnyStore> {
    if is_url(db) {
        let url = db.to_str().unwrap_or_default();
        let opened = match access {
            Access::Create => AnyStore::open(url),
            Access::Write => AnyStore::open_existing(url),
            Access::Read => AnyStore::open_read_only(url),
        };
        return opened
            .map_err(|e| CliError::from(e).context("connecting to the registry's database"));
    }
    let sqlite = if access == Access::Create {
        SqliteStore::create(db)
    } else {
        SqliteStore::open_existing(db).inspect(|_| warn_if_readable(db))
    };
    sqlite
        .map(AnyStore::Sqlite)
        .map_err(|e| CliError::from(e).context(format!("opening {}", db.display())))
}

/// The registry file and its `-wal` and `-shm` companions.
fn registry_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Says once per process, on stderr, that others can read the registry's files (it
/// holds pay numbers and vetting levels), and how to stop it.
fn warn_if_readable(db: &Path) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let readable: Vec<String> = registry_files(db)
            .iter()
            .filter(|p| {
                fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 != 0)
            })
            .map(|p| p.display().to_string())
            .collect();
        if !readable.is_empty() && !WARNED.swap(true, Ordering::SeqCst) {
            eprintln!(
                "revocard: warning: others can read {} (pay numbers, vetting): run `chmod 600 {}`",
                readable.join(", "),
                readable.join(" ")
            );
        }
    }
    #[cfg(not(unix))]
    let _ = (db, &WARNED);
}

/// Makes the folder `dir` (mode 0700 where it is new) and refuses one others can
/// write (they could replace the registry or a key file under the office's feet).
pub fn private_folder(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| CliError::io("creating the folder", dir, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = fs::metadata(dir).map_err(|e| CliError::io("reading", dir, &e))?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(CliError::failed(format!(
                "others can write the folder {} (mode {mode:03o}): keep the registry and keys in a folder only the office can write (`chmod o-w {}`), or choose another",
                dir.display(),
                dir.display()
            )));
        }
    }
    Ok(())
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
/// without creating or changing anything (exit 2: the environment).
pub fn open(db: &Path, access: Access) -> Result<Reg> {
    if !is_url(db) {
        if db.is_dir() {
            return Err(CliError::failed(format!(
                "{} is a folder, not a registry: give the registry's file (for example {})",
                db.display(),
                db.join("registry.sqlite").display()
            ))
            .named("not_a_registry"));
        }
        if !db.exists() {
            return Err(CliError::failed(format!(
                "no registry at {}: create one with `revocard init --issuer NAME --db {}`, or give the path of an existing registry",
                db.display(),
                db.display()
            ))
            .named("no_registry"));
        }
    }
    let store = store(db, access)?;
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

/// Writes a secret key file with mode 0600, refusing to overwrite anything (and a key
/// with no secret to give: one held in a token).
pub fn write_key(
    path: &Path,
    kind: KeyKind,
    issuer: &IssuerId,
    window: Validity,
    secret: Option<&[u8; 32]>,
) -> Result<()> {
    // A key held in a token has no secret to give: there is no key file to write.
    let secret = secret.ok_or_else(|| {
        CliError::failed(format!(
            "{}: a key held in a token has no key file",
            path.display()
        ))
    })?;
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
    if let Some(dir) = path.parent() {
        private_folder(dir)?;
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
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| CliError::io("writing", path, &e))
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

/// Loads a root key file whatever its issuer (`keyset sign`, where the draft's issuer
/// is checked against the root's, not the other way round).
pub fn load_any_root_key(path: &Path) -> Result<RootKey> {
    let f = read_key(path, KeyKind::Root)?;
    Ok(RootKey::from_secret_bytes(f.issuer, f.window, &f.secret)?)
}

/// The office's record of a signing key that lives in a token.
pub struct TokenRecord {
    pub window: Validity,
    pub public_key: [u8; 32],
    /// The key's PKCS#11 URI (never a PIN: a URI with `pin-value` is refused).
    pub uri: String,
}

/// The first word of a token key record.
const TOKEN_RECORD_MAGIC: &str = "revocard-pkcs11-key";

/// Writes the record of a token key, one line
/// `revocard-pkcs11-key 1 signing ISSUER NOT_BEFORE NOT_AFTER PUBLIC_HEX URI`, mode
/// 0600, never over anything. It holds no secret: the key stays in the token.
pub fn write_token_record(
    path: &Path,
    issuer: &IssuerId,
    window: Validity,
    public_key: &[u8; 32],
    uri: &str,
) -> Result<()> {
    if uri.chars().any(char::is_whitespace) {
        return Err(CliError::refused(format!(
            "the key URI `{uri}` holds white space: percent-encode it (%20)"
        )));
    }
    let line = format!(
        "{TOKEN_RECORD_MAGIC} 1 signing {} {} {} {} {uri}\n",
        issuer.as_str(),
        window.not_before.0,
        window.not_after.0,
        public_key
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if let Some(dir) = path.parent() {
        private_folder(dir)?;
    }
    write_secret(path, line.as_bytes())
}

/// Reads the record of a token key, refusing one of another issuer than `issuer`.
pub fn read_token_record(path: &Path, issuer: &IssuerId) -> Result<TokenRecord> {
    let text = read_private(path, "token key record", 4096)?;
    let bad = || {
        CliError::refused(format!(
            "{} is not a revocard token key record",
            path.display()
        ))
    };
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [magic, version, kind, found, nb, na, hex, uri] = parts.as_slice() else {
        return Err(bad());
    };
    if *magic != TOKEN_RECORD_MAGIC || *version != "1" || *kind != "signing" {
        return Err(bad());
    }
    if *found != issuer.as_str() {
        return Err(CliError::refused(format!(
            "{} is a key of issuer {found}, not of this registry's issuer {issuer}",
            path.display()
        )));
    }
    let public = secret_of_hex(hex, bad)?;
    let nb: u64 = nb.parse().map_err(|_| bad())?;
    let na: u64 = na.parse().map_err(|_| bad())?;
    Ok(TokenRecord {
        window: Validity::new(UnixTime(nb), UnixTime(na)).map_err(|_| bad())?,
        public_key: *public,
        uri: (*uri).to_owned(),
    })
}

/// Whether `--force` was given: output files holding other content are replaced.
static FORCE: AtomicBool = AtomicBool::new(false);

/// Sets `--force` for every file this process writes (once, from `main`).
pub fn set_force(force: bool) {
    FORCE.store(force, Ordering::SeqCst);
}

/// The one writer of every file the tool writes (manifests, exports, the trust
/// anchor, blank-card reports): an existing file with other content is refused unless
/// `--force`, and the same bytes again leave it as it is (so a rerun stays
/// idempotent); a symbolic link at `path` is never followed (refused, or with
/// `--force` replaced by the file); the bytes go to a temporary file in the same
/// folder (mode 0600: manifests and exports carry holders' data), flushed to disk,
/// then renamed over `path`, so a reader or a crash sees the old file or the new one,
/// never half of one. Every error names the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let force = FORCE.load(Ordering::SeqCst);
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if !force {
                return Err(CliError::refused(format!(
                    "{} is a symbolic link: revocard never writes through one; give the real path, or --force to replace the link by the file",
                    path.display()
                ))
                .named("file_exists"));
            }
        }
        Ok(meta) if meta.is_dir() => {
            return Err(CliError::refused(format!(
                "{} is a folder: give a file name",
                path.display()
            )));
        }
        Ok(meta) => {
            let same = u64::try_from(bytes.len()).is_ok_and(|n| n == meta.len())
                && fs::read(path).is_ok_and(|held| held == bytes);
            if same {
                return Ok(());
            }
            if !force {
                return Err(CliError::refused(format!(
                    "{} already exists with other content: revocard does not overwrite it; choose another path, or --force to replace it",
                    path.display()
                ))
                .named("file_exists"));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CliError::io("reading", path, &e)),
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| CliError::refused(format!("{} names no file", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let written = (|| -> std::io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(CliError::io("writing", &tmp, &e));
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(CliError::io("writing", path, &e));
    }
    // The rename is durable once the folder is.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
