//! The embedded registry store: one SQLite file (rusqlite, SQLite compiled in).
//!
//! Write-ahead logging and `synchronous = FULL`: every [`Change`] is one transaction,
//! durable when `apply` returns, and a process killed at any instant (SIGKILL, power
//! loss) leaves the file at the last committed change. Opening checks that the file is
//! a revocard registry of a schema this build reads, runs SQLite's `quick_check`, and
//! never writes to a file that is not an empty database or a registry.

use crate::registry::codes::{corrupt, i64_of, serial_of, stored_reason};
use std::path::Path;

use rusqlite::{
    Connection, ErrorCode, OptionalExtension as _, Transaction, TransactionBehavior, params,
};

use crate::model::ScopeEntry;
use crate::model::{
    AuditHead, CardPublicKey, IssuerId, KeyId, PrintBatchId, Serial, StatusIndex, UnixTime,
};
use crate::registry::audit::AuditRecord;
use crate::registry::{
    Change, ConflictKind, CredentialFilter, CredentialRecord, JobKind, JobRecord, KeySetRecord,
    NotARegistry, PrintBatch, PublicationRecord, RegistryError, RegistryMeta, SCHEMA_VERSION,
    StatusState, Store, codes,
};
use crate::verify::RootPublicKey;

const SCHEMA: &str = "
CREATE TABLE revocard_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE print_batches (id INTEGER PRIMARY KEY, supplier TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT;
CREATE TABLE credentials (
    serial BLOB PRIMARY KEY,
    pay_number TEXT NOT NULL,
    status_index INTEGER NOT NULL UNIQUE,
    print_batch INTEGER NOT NULL REFERENCES print_batches(id),
    key_id BLOB NOT NULL,
    issued_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason INTEGER,
    status_at INTEGER,
    supersedes BLOB UNIQUE REFERENCES credentials(serial),
    card_key BLOB UNIQUE,
    bytes BLOB NOT NULL
) STRICT;
CREATE INDEX credentials_batch ON credentials(print_batch);
CREATE INDEX credentials_pay ON credentials(pay_number);
-- Few cards are individually suspended or revoked: building the status list reads only those.
CREATE INDEX credentials_not_valid ON credentials(status) WHERE status != 0;
CREATE TABLE scopes (id INTEGER PRIMARY KEY, entry TEXT NOT NULL) STRICT;
CREATE TABLE publications (sequence INTEGER PRIMARY KEY, published_at INTEGER NOT NULL, list BLOB NOT NULL, delta BLOB) STRICT;
CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER) STRICT;
-- For auditors reading the file with SQL: each card's status with scope entries applied.
-- A card revoked by a scope entry keeps its own status column; this view says revoked.
CREATE VIEW credential_status AS
SELECT c.serial AS serial, c.pay_number AS pay_number, c.print_batch AS print_batch,
  CASE
    WHEN c.status = 2 OR EXISTS (SELECT 1 FROM scopes s WHERE
        json_extract(s.entry, '$.scope.PrintBatch') = c.print_batch
        OR json_extract(s.entry, '$.scope.IssuerKey') = lower(hex(c.key_id))
        OR json_extract(s.entry, '$.scope.IssuedBefore') > c.issued_at) THEN 'revoked'
    WHEN c.status = 1 THEN 'suspended'
    WHEN EXISTS (SELECT 1 FROM credentials r WHERE r.supersedes = c.serial) THEN 'superseded'
    ELSE 'active'
  END AS status
FROM credentials c;
CREATE TABLE key_sets (sequence INTEGER PRIMARY KEY, installed_at INTEGER NOT NULL, bytes BLOB NOT NULL) STRICT;
-- The HR roster: who should hold a card (entry: JSON, the printed fields and vetting).
CREATE TABLE roster (pay_number TEXT PRIMARY KEY, entry TEXT NOT NULL) STRICT;
CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, event TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL) STRICT;
";

/// SQLite page cache, in KiB (negative for SQLite: a size, not a page count): 256 MiB,
/// taken only as pages are read. Bulk work inserts into four unique indexes at places
/// spread over the whole index (serial, status index and card key, each in sorted
/// order within a chunk, and the replaced serial at random); the pages of those
/// indexes, and of the batch and pay-number indexes, are each chunk's working set:
/// 254 MB for a registry of 2,000,000 credentials (1,000,000 cards reissued; dbstat).
/// Beyond the cache, every insert would read pages back from the operating system.
const CACHE_KIB: i64 = -262_144;

/// The page size of a new registry file, in bytes (a file made before keeps its 4 KiB
/// pages). Bulk work's index inserts look pages up in SQLite's cache and descend the
/// B-trees page by page; pages twice SQLite's default halve the pages to find.
/// Measured (BENCHMARKS.md, "Issue 23, second round"), alternating with 4 KiB pages:
/// the reissue of 47,000 cards 7% faster in the mean of six pairs, of 1,000,000 cards
/// 26.8 s against 28.7 to 31.8 s.
const PAGE_SIZE: i64 = 8_192;

/// WAL pages between automatic checkpoints (4,096 pages: 32 MiB of a registry made
/// with 8 KiB pages, 16 MiB of one made before with 4 KiB pages). Bulk work
/// rewrites the same index pages chunk after chunk, so checkpointing less often writes
/// fewer pages to the database file; but whatever is still in the WAL is checkpointed
/// when the last connection closes, at the end of every command. At 16 to 32 MiB the
/// checkpoints of a 47,000-card run happen during it, on the committing thread while
/// the others sign, and closing has little left to do: measured, the command-line
/// `issue` of 47,000 cards took 0.3-0.4 s less than at 64 MiB, and the example's
/// reissue was unchanged within the machine's noise (BENCHMARKS.md).
const CHECKPOINT_PAGES: i64 = 4_096;

const TABLES: [&str; 8] = [
    "revocard_meta",
    "print_batches",
    "credentials",
    "scopes",
    "publications",
    "jobs",
    "key_sets",
    "audit",
];

/// A registry in an SQLite file (or in memory, for tests).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

impl SqliteStore {
    /// Opens the registry at `path`, creating the file and the schema if the file is
    /// new or an empty database. (Prefer [`Self::create`] for a new registry and
    /// [`Self::open_existing`] for an existing one: they refuse the other case.)
    ///
    /// # Errors
    /// [`RegistryError::NotARegistry`] (naming the file) if it is not an SQLite
    /// database, is corrupt, or is a database without revocard's tables;
    /// [`RegistryError::NewerSchema`] if a newer build wrote it. Nothing is written then.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        let path_text = path.as_ref().display().to_string();
        // A new file is made here, private (SQLite would make it world-readable).
        match new_private_file(path.as_ref()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(storage(FileError {
                    path: path_text,
                    source: e,
                }));
            }
        }
        let conn = Connection::open(path.as_ref()).map_err(|e| classify(&path_text, e))?;
        Self::init(conn, path_text, true)
    }

    /// Creates a new registry file at `path` (the schema, no registry yet: then
    /// `Registry::create`), readable and writable by its owner only (mode 0600; SQLite
    /// gives the `-wal` and `-shm` files it makes beside it the same mode): the
    /// registry holds pay numbers and vetting levels.
    ///
    /// # Errors
    /// [`RegistryError::FileExists`] if anything is at `path` (it is left alone);
    /// [`RegistryError::Storage`] (naming the path) if the file cannot be made.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        let path_text = path.as_ref().display().to_string();
        match new_private_file(path.as_ref()) {
            Ok(()) => Self::open(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(RegistryError::FileExists { path: path_text })
            }
            Err(e) => Err(storage(FileError {
                path: path_text,
                source: e,
            })),
        }
    }

    /// Opens the registry file at `path`, never creating one: what a tool that works
    /// on an existing registry calls, so that a mistyped path leaves nothing behind.
    ///
    /// An empty database (a file of no bytes, say) is not given the schema: it is
    /// [`RegistryError::NotARegistry`] and is left as it was.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] if there is no file at `path`; as [`Self::open`].
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        use rusqlite::OpenFlags;
        let path_text = path.as_ref().display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path.as_ref(), flags).map_err(|e| {
            if e.sqlite_error_code() == Some(ErrorCode::CannotOpen) && !path.as_ref().exists() {
                RegistryError::NotFound {
                    path: path_text.clone(),
                }
            } else {
                classify(&path_text, e)
            }
        })?;
        // Never creating: an empty database stays empty (reading never writes).
        Self::init(conn, path_text, false)
    }

    /// An in-memory registry.
    ///
    /// # Errors
    /// [`RegistryError::Storage`] if SQLite fails.
    pub fn open_in_memory() -> Result<Self, RegistryError> {
        let conn = Connection::open_in_memory().map_err(storage)?;
        Self::init(conn, ":memory:".to_owned(), true)
    }

    fn init(conn: Connection, path: String, create: bool) -> Result<Self, RegistryError> {
        let bad = |e| classify(&path, e);
        // Random 128-bit serials and status indexes put every index insert on a random
        // page: keep the indexes of a national-sized registry in SQLite's own cache.
        // Set first (it reads and writes nothing), so that `quick_check`'s reading of
        // every page below leaves the cache warm for the work that follows.
        conn.pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(bad)?;
        // Reading the schema is the first access to the file's pages: a file that is
        // not a database fails here, before anything is written.
        let names: Vec<String> = {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(bad)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(bad)?;
            rows.collect::<Result<_, _>>().map_err(bad)?
        };
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(bad)?;
        if check != "ok" {
            return Err(RegistryError::NotARegistry {
                path,
                detail: NotARegistry::Corrupt,
            });
        }
        let ours = TABLES
            .iter()
            .filter(|t| names.iter().any(|n| n == *t))
            .count();
        if names.is_empty() && !create {
            return Err(RegistryError::NotARegistry {
                path,
                detail: NotARegistry::MissingTables,
            });
        }
        if names.is_empty() {
            conn.pragma_update(None, "page_size", PAGE_SIZE)
                .map_err(bad)?;
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(bad)?;
            // One transaction: a process killed while creating the schema leaves an
            // empty database (created again next time), never half a registry.
            create_schema(&conn).map_err(bad)?;
        } else {
            // The schema version first, so that an older or newer registry is refused
            // by name rather than as missing tables.
            let version: Option<String> = if names.iter().any(|n| n == "revocard_meta") {
                conn.query_row(
                    "SELECT value FROM revocard_meta WHERE key = 'schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(bad)?
            } else {
                None
            };
            let missing = || RegistryError::NotARegistry {
                path: path.clone(),
                detail: NotARegistry::MissingTables,
            };
            let found = version
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(missing)?;
            if found > SCHEMA_VERSION {
                return Err(RegistryError::NewerSchema {
                    path,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            if found < SCHEMA_VERSION {
                return Err(RegistryError::OlderSchema {
                    path,
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            if ours != TABLES.len() {
                return Err(missing());
            }
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(bad)?;
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(bad)?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)
            .map_err(bad)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(bad)?;
        Ok(Self { conn, path })
    }

    /// The file this store is kept in.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    fn fail(&self, e: rusqlite::Error) -> RegistryError {
        classify(&self.path, e)
    }
}

/// Makes an empty file at `path` with mode 0600, failing if anything is there.
fn new_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// A file of the store could not be made or read: which one, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
struct FileError {
    path: String,
    source: std::io::Error,
}

fn storage(e: impl std::error::Error + Send + Sync + 'static) -> RegistryError {
    RegistryError::Storage(Box::new(e))
}

fn classify(path: &str, e: rusqlite::Error) -> RegistryError {
    let detail = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => NotARegistry::NotADatabase,
        Some(ErrorCode::DatabaseCorrupt) => NotARegistry::Corrupt,
        _ => return storage(e),
    };
    RegistryError::NotARegistry {
        path: path.to_owned(),
        detail,
    }
}

/// A credential row (in [`READ_COLUMNS`] order) checked into a record: `Ok(None)`
/// when a field is not what this crate writes. Blobs are read in place, without a
/// copy, but for the two the record keeps (pay number, credential bytes).
fn record_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<CredentialRecord>> {
    let blob = |i: usize| -> rusqlite::Result<Option<&[u8]>> {
        match r.get_ref(i)? {
            rusqlite::types::ValueRef::Blob(b) => Ok(Some(b)),
            rusqlite::types::ValueRef::Null => Ok(None),
            _ => Err(rusqlite::Error::InvalidColumnType(
                i,
                String::new(),
                rusqlite::types::Type::Blob,
            )),
        }
    };
    let serial_at =
        |i: usize| -> rusqlite::Result<Option<Option<Serial>>> { Ok(blob(i)?.map(serial_of)) };
    let (Some(Some(serial)), Some(key_id)) = (serial_at(0)?, blob(4)?) else {
        return Ok(None);
    };
    let Ok(key_id) = <[u8; 8]>::try_from(key_id) else {
        return Ok(None);
    };
    let (index, batch, issued_at): (i64, i64, i64) = (r.get(2)?, r.get(3)?, r.get(5)?);
    let (Some(status), Some(status_reason)) = (
        codes::status_of(r.get(6)?),
        stored_reason(r.get(7)?, r.get(8)?),
    ) else {
        return Ok(None);
    };
    let supersedes = match serial_at(9)? {
        Some(Some(s)) => Some(s),
        Some(None) => return Ok(None),
        None => None,
    };
    let superseded_by = match serial_at(10)? {
        Some(Some(s)) => Some(s),
        Some(None) => return Ok(None),
        None => None,
    };
    let card_key = match blob(11)? {
        Some(k) => match <[u8; 32]>::try_from(k) {
            Ok(k) => Some(CardPublicKey(k)),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    let (Ok(index), Ok(batch), Ok(issued_at)) = (
        u32::try_from(index),
        u32::try_from(batch),
        u64::try_from(issued_at),
    ) else {
        return Ok(None);
    };
    Ok(Some(CredentialRecord {
        serial,
        pay_number: r.get(1)?,
        status_index: StatusIndex(index),
        print_batch: PrintBatchId(batch),
        key_id: KeyId(key_id),
        issued_at: UnixTime(issued_at),
        status,
        status_reason,
        supersedes,
        superseded_by,
        card_key,
        bytes: r.get(12)?,
    }))
}

/// Columns written for a credential. `superseded_by` is not stored: it is the serial
/// of the row whose `supersedes` names this one (unique, so there is at most one).
const CREDENTIAL_COLUMNS: &str = "serial, pay_number, status_index, print_batch, key_id, issued_at, status, reason, status_at, supersedes, card_key, bytes";

/// Columns read for a credential, joined with its replacement.
const READ_COLUMNS: &str = "c.serial, c.pay_number, c.status_index, c.print_batch, c.key_id, c.issued_at, c.status, \
                            c.reason, c.status_at, c.supersedes, r.serial, c.card_key, c.bytes";

impl Store for SqliteStore {
    fn meta(&self) -> Result<Option<RegistryMeta>, RegistryError> {
        let get = |key: &str| -> Result<Option<String>, RegistryError> {
            self.conn
                .query_row(
                    "SELECT value FROM revocard_meta WHERE key = ?1",
                    params![key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| self.fail(e))
        };
        let (Some(issuer), Some(capacity), Some(root)) =
            (get("issuer")?, get("capacity")?, get("root")?)
        else {
            return Ok(None);
        };
        let issuer = IssuerId::new(issuer).map_err(|_| corrupt(&self.path))?;
        let capacity = capacity.parse().map_err(|_| corrupt(&self.path))?;
        let mut anchor = vec![0u8; root.len() / 2];
        crate::model::parse_hex(&root, &mut anchor).ok_or_else(|| corrupt(&self.path))?;
        let root = RootPublicKey::from_bytes(&anchor).map_err(|_| corrupt(&self.path))?;
        Ok(Some(RegistryMeta {
            issuer,
            capacity,
            root,
        }))
    }

    fn batches(&self) -> Result<Vec<PrintBatch>, RegistryError> {
        let rows = self.query_all(
            "SELECT id, supplier, created_at FROM print_batches ORDER BY id",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        rows.into_iter()
            .map(|(id, supplier, at)| {
                Some(PrintBatch {
                    id: PrintBatchId(u32::try_from(id).ok()?),
                    supplier,
                    created_at: UnixTime(u64::try_from(at).ok()?),
                })
            })
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(&self.path))
    }

    fn credentials(
        &self,
        filter: &CredentialFilter,
    ) -> Result<Vec<CredentialRecord>, RegistryError> {
        // Rows come in insertion order (rowid), so that bulk work touching them in that
        // order dirties neighbouring pages rather than random ones.
        let base = format!(
            "SELECT {READ_COLUMNS} FROM credentials c LEFT JOIN credentials r ON r.supersedes = c.serial"
        );
        let mut out = Vec::new();
        match filter {
            CredentialFilter::All => {
                self.read_credentials(&format!("{base} ORDER BY c.rowid"), [], &mut out)?;
            }
            CredentialFilter::PrintBatches(batches) => {
                let sql = format!("{base} WHERE c.print_batch = ?1 ORDER BY c.rowid");
                let mut seen = std::collections::HashSet::new();
                for b in batches.iter().filter(|b| seen.insert(**b)) {
                    self.read_credentials(&sql, [i64::from(b.0)], &mut out)?;
                }
            }
            CredentialFilter::IssuerKey(key) => self.read_credentials(
                &format!("{base} WHERE c.key_id = ?1 ORDER BY c.rowid"),
                [key.0.as_slice()],
                &mut out,
            )?,
            CredentialFilter::Serials(serials) => {
                let sql = format!("{base} WHERE c.serial = ?1");
                let mut seen = std::collections::HashSet::new();
                for s in serials.iter().filter(|s| seen.insert(**s)) {
                    self.read_credentials(&sql, [s.0.as_slice()], &mut out)?;
                }
            }
            CredentialFilter::PayNumbers(numbers) => {
                let sql = format!("{base} WHERE c.pay_number = ?1 ORDER BY c.rowid");
                let mut seen = std::collections::HashSet::new();
                for n in numbers.iter().filter(|n| seen.insert(n.as_str())) {
                    self.read_credentials(&sql, [n.as_str()], &mut out)?;
                }
            }
        }
        // Each row is read once: a key named twice in a filter is read once (above),
        // and distinct keys name distinct rows (a serial, a pay number and a batch are
        // each one column of the row).
        Ok(out)
    }

    fn status_indexes(&self) -> Result<Vec<u32>, RegistryError> {
        let rows = self.query_all("SELECT status_index FROM credentials", [], |r| {
            r.get::<_, i64>(0)
        })?;
        rows.into_iter()
            .map(|i| u32::try_from(i).ok())
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(&self.path))
    }

    fn card_keys(&self) -> Result<Vec<CardPublicKey>, RegistryError> {
        let rows = self.query_all(
            "SELECT card_key FROM credentials WHERE card_key IS NOT NULL",
            [],
            |r| r.get::<_, Vec<u8>>(0),
        )?;
        rows.into_iter()
            .map(|k| Some(CardPublicKey(k.as_slice().try_into().ok()?)))
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(&self.path))
    }

    fn status_state(&self) -> Result<StatusState, RegistryError> {
        let sequence: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(sequence), 0) FROM publications",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))?;
        let rows = self.query_all(
            "SELECT status_index, status, reason, status_at FROM credentials WHERE status != 0",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )?;
        let entries = rows
            .into_iter()
            .map(|(index, status, reason, at)| {
                Some((
                    u32::try_from(index).ok()?,
                    codes::status_of(status)?,
                    stored_reason(reason, at)?,
                ))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt(&self.path))?;
        let scopes = self
            .query_all("SELECT entry FROM scopes ORDER BY id", [], |r| {
                r.get::<_, String>(0)
            })?
            .iter()
            .map(|text| serde_json::from_str::<ScopeEntry>(text).ok())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt(&self.path))?;
        Ok(StatusState {
            sequence: u64::try_from(sequence).map_err(|_| corrupt(&self.path))?,
            entries,
            scopes,
        })
    }

    fn latest_publication(&self) -> Result<Option<PublicationRecord>, RegistryError> {
        self.publication_where("ORDER BY sequence DESC LIMIT 1", None)
    }

    fn publication(&self, sequence: u64) -> Result<Option<PublicationRecord>, RegistryError> {
        self.publication_where("WHERE sequence = ?1", Some(i64_of(sequence)))
    }

    fn jobs(&self) -> Result<Vec<JobRecord>, RegistryError> {
        let rows = self.query_all(
            "SELECT id, kind, started_at, finished_at FROM jobs ORDER BY id",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            },
        )?;
        rows.into_iter()
            .map(|(id, kind, started, finished)| {
                Some(JobRecord {
                    id: u64::try_from(id).ok()?,
                    kind: serde_json::from_str::<JobKind>(&kind).ok()?,
                    started_at: UnixTime(u64::try_from(started).ok()?),
                    finished_at: match finished {
                        Some(f) => Some(UnixTime(u64::try_from(f).ok()?)),
                        None => None,
                    },
                })
            })
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(&self.path))
    }

    fn audit_head(&self) -> Result<AuditHead, RegistryError> {
        read_head(&self.conn, &self.path)
    }

    fn latest_key_set(&self) -> Result<Option<KeySetRecord>, RegistryError> {
        let row = self
            .conn
            .query_row(
                "SELECT sequence, installed_at, bytes FROM key_sets ORDER BY sequence DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        row.map(|(sequence, at, bytes)| {
            Ok(KeySetRecord {
                sequence: u64::try_from(sequence).map_err(|_| corrupt(&self.path))?,
                installed_at: UnixTime(u64::try_from(at).map_err(|_| corrupt(&self.path))?),
                bytes,
            })
        })
        .transpose()
    }

    fn key_sets(&self) -> Result<Vec<KeySetRecord>, RegistryError> {
        let rows = self.query_all(
            "SELECT sequence, installed_at, bytes FROM key_sets ORDER BY sequence",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            },
        )?;
        rows.into_iter()
            .map(|(sequence, at, bytes)| {
                Ok(KeySetRecord {
                    sequence: u64::try_from(sequence).map_err(|_| corrupt(&self.path))?,
                    installed_at: UnixTime(u64::try_from(at).map_err(|_| corrupt(&self.path))?),
                    bytes,
                })
            })
            .collect()
    }

    fn audit_log(&self) -> Result<Vec<AuditRecord>, RegistryError> {
        let rows = self.query_all(
            "SELECT seq, at, event, prev_hash, hash FROM audit ORDER BY seq",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            },
        )?;
        // An unreadable number or hash becomes a value the chain check rejects, so that
        // the broken entry is named rather than the whole file refused.
        Ok(rows
            .into_iter()
            .map(|(seq, at, event_json, prev, hash)| AuditRecord {
                seq: u64::try_from(seq).unwrap_or(0),
                at: UnixTime(u64::try_from(at).unwrap_or(0)),
                event_json,
                prev_hash: prev.as_slice().try_into().unwrap_or([0xff; 32]),
                hash: hash.as_slice().try_into().unwrap_or([0xff; 32]),
            })
            .collect())
    }

    fn roster(&self) -> Result<Vec<crate::registry::HolderRequest>, RegistryError> {
        let rows = self.query_all("SELECT entry FROM roster ORDER BY pay_number", [], |r| {
            r.get::<_, String>(0)
        })?;
        rows.iter()
            .map(|text| codes::roster_entry_of(text).ok_or_else(|| corrupt(&self.path)))
            .collect()
    }

    fn apply(&mut self, change: &Change) -> Result<(), RegistryError> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| classify(&path, e);
        // Immediate: the write lock is taken before the audit head is read, so no other
        // writer can append between the compare and the append.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        write_change(&tx, change, &path)?;
        tx.commit().map_err(fail)
    }
}

impl SqliteStore {
    /// Appends the credential rows `sql` selects (in [`READ_COLUMNS`] order) to `out`,
    /// each checked into a record as it is read: no intermediate copy of the rows.
    fn read_credentials(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        out: &mut Vec<CredentialRecord>,
    ) -> Result<(), RegistryError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let mut rows = stmt.query(params).map_err(|e| self.fail(e))?;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let record = record_of(row)
                .map_err(|_| corrupt(&self.path))?
                .ok_or_else(|| corrupt(&self.path))?;
            out.push(record);
        }
        Ok(())
    }

    /// Runs `sql` and maps every row.
    fn query_all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, RegistryError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.fail(e))?;
        let rows = stmt.query_map(params, map).map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    fn publication_where(
        &self,
        clause: &str,
        arg: Option<i64>,
    ) -> Result<Option<PublicationRecord>, RegistryError> {
        let sql = format!("SELECT sequence, published_at, list, delta FROM publications {clause}");
        let map = |r: &rusqlite::Row<'_>| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        };
        let row = match arg {
            Some(a) => self.conn.query_row(&sql, params![a], map),
            None => self.conn.query_row(&sql, [], map),
        }
        .optional()
        .map_err(|e| self.fail(e))?;
        row.map(|(sequence, at, list, delta)| {
            Ok(PublicationRecord {
                sequence: u64::try_from(sequence).map_err(|_| corrupt(&self.path))?,
                published_at: UnixTime(u64::try_from(at).map_err(|_| corrupt(&self.path))?),
                list,
                delta,
            })
        })
        .transpose()
    }
}

/// Maps a constraint violation to `kind`, anything else to a storage error.
fn conflict_or(path: &str, kind: ConflictKind) -> impl Fn(rusqlite::Error) -> RegistryError + '_ {
    move |e| {
        if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) {
            RegistryError::Conflict(kind)
        } else {
            classify(path, e)
        }
    }
}

/// The log's last entry: the one read of the audit head, for [`Store::audit_head`] and
/// for the compare-and-append inside a change's transaction.
fn read_head(conn: &Connection, path: &str) -> Result<AuditHead, RegistryError> {
    let head = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )
        .optional()
        .map_err(|e| classify(path, e))?;
    Ok(match head {
        None => AuditHead::EMPTY,
        Some((seq, hash)) => AuditHead {
            entries: u64::try_from(seq).map_err(|_| corrupt(path))?,
            hash: hash.as_slice().try_into().map_err(|_| corrupt(path))?,
        },
    })
}

/// Names the constraint a credential insert broke, by asking the database (its error
/// message does not say which foreign key failed). Runs only after a failed insert.
fn credential_conflict(
    tx: &Transaction<'_>,
    c: &CredentialRecord,
    path: &str,
    e: rusqlite::Error,
) -> RegistryError {
    if e.sqlite_error_code() != Some(ErrorCode::ConstraintViolation) {
        return classify(path, e);
    }
    let exists = |sql: &str, key: &dyn rusqlite::ToSql| -> Result<bool, RegistryError> {
        tx.query_row(&format!("SELECT EXISTS ({sql})"), [key], |r| r.get(0))
            .map_err(|e| classify(path, e))
    };
    let kind = (|| {
        if exists(
            "SELECT 1 FROM credentials WHERE serial = ?1",
            &c.serial.0.as_slice(),
        )? {
            return Ok(ConflictKind::SerialInUse);
        }
        if exists(
            "SELECT 1 FROM credentials WHERE status_index = ?1",
            &i64::from(c.status_index.0),
        )? {
            return Ok(ConflictKind::StatusIndexInUse);
        }
        if let Some(key) = c.card_key
            && exists(
                "SELECT 1 FROM credentials WHERE card_key = ?1",
                &key.0.as_slice(),
            )?
        {
            return Ok(ConflictKind::CardKeyInUse);
        }
        if let Some(old) = c.supersedes {
            if exists(
                "SELECT 1 FROM credentials WHERE supersedes = ?1",
                &old.0.as_slice(),
            )? {
                return Ok(ConflictKind::AlreadySuperseded);
            }
            if !exists(
                "SELECT 1 FROM credentials WHERE serial = ?1",
                &old.0.as_slice(),
            )? {
                return Ok(ConflictKind::UnknownCredential);
            }
        }
        Ok(ConflictKind::UnknownBatch)
    })();
    match kind {
        Ok(kind) => RegistryError::Conflict(kind),
        Err(e) => e,
    }
}

fn write_change(tx: &Transaction<'_>, change: &Change, path: &str) -> Result<(), RegistryError> {
    let fail = |e: rusqlite::Error| classify(path, e);
    // First, so that a change sealed on a stale head costs no other write.
    if !change.audit.is_empty() {
        super::store::check_appendable(read_head(tx, path)?, &change.audit)?;
    }
    if let Some(meta) = &change.create {
        // The key is the primary key: a second creation breaks it.
        tx.execute(
            "INSERT INTO revocard_meta (key, value) VALUES ('issuer', ?1)",
            params![meta.issuer.as_str()],
        )
        .map_err(|e| {
            if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) {
                RegistryError::AlreadyCreated
            } else {
                fail(e)
            }
        })?;
        tx.execute(
            "INSERT INTO revocard_meta (key, value) VALUES ('capacity', ?1)",
            params![meta.capacity.to_string()],
        )
        .map_err(fail)?;
        tx.execute(
            "INSERT INTO revocard_meta (key, value) VALUES ('root', ?1)",
            params![crate::model::hex(&meta.root.to_bytes())],
        )
        .map_err(fail)?;
    }
    for r in &change.roster {
        match r {
            crate::registry::RosterChange::Upsert(entry) => tx
                .execute(
                    "INSERT INTO roster (pay_number, entry) VALUES (?1, ?2) \
                     ON CONFLICT (pay_number) DO UPDATE SET entry = excluded.entry",
                    params![entry.holder.pay_number(), codes::roster_entry(entry)],
                )
                .map_err(fail)?,
            crate::registry::RosterChange::Remove(pay) => tx
                .execute("DELETE FROM roster WHERE pay_number = ?1", params![pay])
                .map_err(fail)?,
        };
    }
    if let Some(k) = &change.key_set {
        tx.execute(
            "INSERT INTO key_sets (sequence, installed_at, bytes) VALUES (?1, ?2, ?3)",
            params![i64_of(k.sequence), i64_of(k.installed_at.0), k.bytes],
        )
        .map_err(conflict_or(path, ConflictKind::KeySetSequenceInUse))?;
    }
    for b in &change.batches {
        tx.execute(
            "INSERT INTO print_batches (id, supplier, created_at) VALUES (?1, ?2, ?3)",
            params![i64::from(b.id.0), b.supplier, i64_of(b.created_at.0)],
        )
        .map_err(conflict_or(path, ConflictKind::BatchIdInUse))?;
    }
    for j in &change.jobs {
        let kind = serde_json::to_string(&j.kind).map_err(storage)?;
        tx.execute(
            "INSERT INTO jobs (id, kind, started_at, finished_at) VALUES (?1, ?2, ?3, NULL)",
            params![i64_of(j.id), kind, i64_of(j.started_at.0)],
        )
        .map_err(conflict_or(path, ConflictKind::JobIdInUse))?;
    }
    for (id, at) in &change.finished_jobs {
        tx.execute(
            "UPDATE jobs SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL",
            params![i64_of(*id), i64_of(at.0)],
        )
        .map_err(fail)?;
    }
    {
        // The schema holds rules 2 to 4, 7 and 9: serial is the primary key,
        // status_index, supersedes and card_key are unique, supersedes and print_batch
        // are foreign keys.
        let mut insert = tx
            .prepare_cached(&format!(
                "INSERT INTO credentials ({CREDENTIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ))
            .map_err(fail)?;
        for c in &change.credentials {
            insert
                .execute(params![
                    c.serial.0.as_slice(),
                    c.pay_number,
                    i64::from(c.status_index.0),
                    i64::from(c.print_batch.0),
                    c.key_id.0.as_slice(),
                    i64_of(c.issued_at.0),
                    codes::status(c.status),
                    c.status_reason.map(|(r, _)| codes::reason(r)),
                    c.status_reason.map(|(_, at)| i64_of(at.0)),
                    c.supersedes.map(|s| s.0.to_vec()),
                    c.card_key.map(|k| k.0.to_vec()),
                    c.bytes,
                ])
                .map_err(|e| credential_conflict(tx, c, path, e))?;
        }
    }
    for (serial, status, reason) in &change.statuses {
        let n = tx
            .execute(
                "UPDATE credentials SET status = ?2, reason = ?3, status_at = ?4 WHERE serial = ?1",
                params![
                    serial.0.as_slice(),
                    codes::status(*status),
                    reason.map(|(r, _)| codes::reason(r)),
                    reason.map(|(_, at)| i64_of(at.0)),
                ],
            )
            .map_err(fail)?;
        if n == 0 {
            return Err(RegistryError::Conflict(ConflictKind::UnknownCredential));
        }
    }
    for s in &change.scopes {
        let entry = serde_json::to_string(s).map_err(storage)?;
        tx.execute("INSERT INTO scopes (entry) VALUES (?1)", params![entry])
            .map_err(fail)?;
    }
    if let Some(p) = &change.publication {
        tx.execute(
            "INSERT INTO publications (sequence, published_at, list, delta) VALUES (?1, ?2, ?3, ?4)",
            params![i64_of(p.sequence), i64_of(p.published_at.0), p.list, p.delta],
        )
        .map_err(conflict_or(path, ConflictKind::PublicationSequenceInUse))?;
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit (seq, at, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(fail)?;
    for record in &change.audit {
        insert
            .execute(params![
                i64_of(record.seq),
                i64_of(record.at.0),
                record.event_json,
                record.prev_hash.as_slice(),
                record.hash.as_slice()
            ])
            .map_err(|e| {
                // `seq` is the primary key: a backstop should the compare above miss.
                if e.sqlite_error_code() != Some(ErrorCode::ConstraintViolation) {
                    return fail(e);
                }
                match read_head(tx, path) {
                    Ok(head) => RegistryError::Conflict(ConflictKind::StaleAuditHead {
                        sealed_on: AuditHead {
                            entries: record.seq.saturating_sub(1),
                            hash: record.prev_hash,
                        },
                        head,
                    }),
                    Err(e) => e,
                }
            })?;
    }
    Ok(())
}

/// Creates the tables and records the schema version, in one transaction.
fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE; {SCHEMA} INSERT INTO revocard_meta (key, value) VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_size(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_new_registry_has_8_kib_pages_and_one_made_with_4_kib_pages_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.db");
        drop(SqliteStore::create(&new).unwrap());
        assert_eq!(page_size(&new), PAGE_SIZE);

        // A registry made before, with SQLite's default pages: opened as it is.
        let old = dir.path().join("old.db");
        {
            let conn = Connection::open(&old).unwrap();
            conn.pragma_update(None, "page_size", 4_096).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            create_schema(&conn).unwrap();
        }
        drop(SqliteStore::open_existing(&old).unwrap());
        assert_eq!(page_size(&old), 4_096);
    }
}
