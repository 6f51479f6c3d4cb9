//! The registry on a PostgreSQL server (feature `postgres`, the synchronous
//! rust-postgres client): several issuing offices, one registry.
//!
//! The same [`Store`] contract as the embedded SQLite file, held by the server:
//!
//! - **Each [`Store::apply`] is one transaction** that first locks the one row of
//!   `audit_head` (`SELECT ... FOR UPDATE`). Every writer takes that lock first, so
//!   writers are serialised on the audit head exactly as SQLite's `IMMEDIATE`
//!   transaction serialises them on the file: the compare of the audit
//!   compare-and-append, the positions handed to new rows and the append itself
//!   happen with no other writer in between, and the chain stays one chain.
//! - **Constraints 2 to 8 are declared in the schema** (primary keys, `UNIQUE`,
//!   foreign keys), each under a name this module maps to its [`ConflictKind`].
//! - **Serialization failures and deadlocks** (SQLSTATE `40001`, `40P01`: rare on
//!   PostgreSQL at `READ COMMITTED` with the head lock, the normal way a
//!   `SERIALIZABLE` engine such as CockroachDB says "retry") roll the transaction back
//!   and run it again, at most [`MAX_TX_ATTEMPTS`] times, then are reported as
//!   [`PostgresError::Contended`].
//! - **A lost connection** (server stopped, network cut) fails the call with
//!   [`PostgresError::ConnectionLost`]; the next call connects again. A change whose
//!   commit was under way when the connection dropped may or may not be committed:
//!   the workflow finds out by reading, as after a crash (its audit
//!   compare-and-append refuses a change composed from reads that are no longer true).
//! - **Versioned migrations**, each in a transaction with the version it sets; a
//!   database of a newer schema is refused by name and never written to; a database
//!   holding other tables and no registry is refused
//!   ([`NotARegistry::MissingTables`]).
//!
//! The SQL stays within what CockroachDB and YugabyteDB accept as well (multi-array
//! `unnest`, `= ANY($1)`, `FOR UPDATE`, `UPDATE ... FROM`, partial indexes); see
//! ARCHITECTURE.md for the statements that differ in behaviour there.
//!
//! **TLS**: the connection string's `sslmode` is honoured as far as this build can:
//! the store connects without TLS (`NoTls`), so `sslmode=require` is refused with a
//! one-line error rather than silently sent in clear; put the server on loopback or a
//! unix socket, or reach a remote server through a TLS tunnel (`stunnel`, an SSH
//! tunnel, or a TLS-terminating pooler on the same host). See ARCHITECTURE.md.

use crate::registry::codes::{corrupt, i64_of, serial_of, stored_reason};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::config::Host;
use postgres::error::SqlState;
use postgres::{Client, Config, NoTls, Row, Transaction};

use crate::model::ScopeEntry;
use crate::model::{
    AuditHead, CardPublicKey, IssuerId, KeyId, PrintBatchId, Serial, StatusIndex, UnixTime,
};
use crate::registry::audit::AuditRecord;
use crate::registry::{
    Change, ConflictKind, CredentialFilter, CredentialRecord, HolderRequest, JobKind, JobRecord,
    KeySetRecord, NotARegistry, PrintBatch, PublicationRecord, RegistryError, RegistryMeta,
    RosterChange, SCHEMA_VERSION, StatusState, Store, codes,
};
use crate::verify::RootPublicKey;

/// Attempts of one change (or one migration) when the server answers with a
/// serialization failure or a deadlock, before the failure is reported.
pub const MAX_TX_ATTEMPTS: u32 = 8;

/// The first back-off after a serialization failure, doubled at each further attempt
/// (5, 10, 20, ... 640 ms: about 1.3 s in all before [`PostgresError::Contended`]).
const RETRY_BACKOFF: Duration = Duration::from_millis(5);

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts at opening a database another process is creating the schema of at the
/// same moment (its `CREATE TABLE` wins, ours fails; the next attempt finds its tables).
const OPEN_ATTEMPTS: u32 = 3;

/// The registry's tables (and the head row), version 2: the same records, keys and
/// constraints as the SQLite schema, plus `audit_head`, the one row every writer locks
/// first, and `pos`, the order credentials were stored in (SQLite's `rowid`).
/// Constraint names are spelled out: [`conflict_of`] maps each to its [`ConflictKind`].
const SCHEMA_2: &str = "
CREATE TABLE print_batches (
    id BIGINT NOT NULL CONSTRAINT print_batches_pkey PRIMARY KEY,
    supplier TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE credentials (
    serial BYTEA NOT NULL CONSTRAINT credentials_pkey PRIMARY KEY,
    pos BIGINT NOT NULL CONSTRAINT credentials_pos_key UNIQUE,
    pay_number TEXT NOT NULL,
    status_index BIGINT NOT NULL CONSTRAINT credentials_status_index_key UNIQUE,
    print_batch BIGINT NOT NULL CONSTRAINT credentials_print_batch_fkey REFERENCES print_batches(id),
    key_id BYTEA NOT NULL,
    issued_at BIGINT NOT NULL,
    status BIGINT NOT NULL,
    reason BIGINT,
    status_at BIGINT,
    supersedes BYTEA CONSTRAINT credentials_supersedes_key UNIQUE
        CONSTRAINT credentials_supersedes_fkey REFERENCES credentials(serial),
    bytes BYTEA NOT NULL
);
CREATE INDEX credentials_batch ON credentials (print_batch, pos);
CREATE INDEX credentials_pay ON credentials (pay_number, pos);
CREATE INDEX credentials_key ON credentials (key_id, pos);
CREATE INDEX credentials_not_valid ON credentials (status) WHERE status <> 0;
CREATE TABLE scopes (id BIGINT NOT NULL CONSTRAINT scopes_pkey PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE publications (
    sequence BIGINT NOT NULL CONSTRAINT publications_pkey PRIMARY KEY,
    published_at BIGINT NOT NULL,
    list BYTEA NOT NULL,
    delta BYTEA
);
CREATE TABLE jobs (
    id BIGINT NOT NULL CONSTRAINT jobs_pkey PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE TABLE key_sets (
    sequence BIGINT NOT NULL CONSTRAINT key_sets_pkey PRIMARY KEY,
    installed_at BIGINT NOT NULL,
    bytes BYTEA NOT NULL
);
CREATE TABLE audit (
    seq BIGINT NOT NULL CONSTRAINT audit_pkey PRIMARY KEY,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE TABLE audit_head (
    id BIGINT NOT NULL CONSTRAINT audit_head_pkey PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode('0000000000000000000000000000000000000000000000000000000000000000', 'hex'));
CREATE VIEW credential_status AS
SELECT c.serial AS serial, c.pay_number AS pay_number, c.print_batch AS print_batch,
  CASE
    WHEN c.status = 2 OR EXISTS (SELECT 1 FROM scopes s WHERE
        (s.entry::JSONB #>> '{scope,PrintBatch}') = c.print_batch::TEXT
        OR (s.entry::JSONB #>> '{scope,IssuerKey}') = encode(c.key_id, 'hex')
        OR (s.entry::JSONB #>> '{scope,IssuedBefore}')::BIGINT > c.issued_at) THEN 'revoked'
    WHEN c.status = 1 THEN 'suspended'
    WHEN EXISTS (SELECT 1 FROM credentials r WHERE r.supersedes = c.serial) THEN 'superseded'
    ELSE 'active'
  END AS status
FROM credentials c;
";

/// Version 3: the HR roster (who should hold a card; entry: the printed fields and
/// vetting as JSON, the same text SQLite stores), and each credential's card public
/// key, bound to one credential at most.
const SCHEMA_3: &str = "
CREATE TABLE roster (pay_number TEXT NOT NULL CONSTRAINT roster_pkey PRIMARY KEY, entry TEXT NOT NULL);
ALTER TABLE credentials ADD COLUMN card_key BYTEA CONSTRAINT credentials_card_key_key UNIQUE;
";

/// Every migration, in order: (the schema version it makes, its statements). An empty
/// database gets them all in one transaction (with `revocard_meta` and the version);
/// a database at an older version gets each later one in its own transaction, which
/// also moves the version on. There was never a version-1 registry on PostgreSQL.
const MIGRATIONS: &[(u32, &str)] = &[(2, SCHEMA_2), (3, SCHEMA_3)];

/// The tables a registry of [`SCHEMA_VERSION`] has.
const TABLES: [&str; 10] = [
    "revocard_meta",
    "print_batches",
    "credentials",
    "scopes",
    "publications",
    "jobs",
    "key_sets",
    "audit",
    "audit_head",
    "roster",
];

/// Why the PostgreSQL backend failed (the source of [`RegistryError::Storage`]).
/// Each says where (host, port and database: never the password) in one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The connection string does not parse.
    #[error("not a PostgreSQL connection string: {reason}")]
    BadUrl {
        /// What the parser said (first line).
        reason: String,
    },
    /// The server could not be reached or refused the connection (wrong host or port,
    /// server down, authentication refused, TLS demanded).
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Unreachable {
        /// Host, port, database.
        target: String,
        /// What failed (first line).
        reason: String,
    },
    /// The connection dropped during a call (server stopped, network cut). The next
    /// call connects again; a change being committed may or may not have been.
    #[error("lost the connection to PostgreSQL at {target}: {reason}")]
    ConnectionLost {
        /// Host, port, database.
        target: String,
        /// What failed (first line).
        reason: String,
    },
    /// The server refused a statement for a reason other than the Store contract.
    #[error("PostgreSQL at {target} refused a statement: SQLSTATE {code}: {message}")]
    Server {
        /// Host, port, database.
        target: String,
        /// SQLSTATE.
        code: String,
        /// The server's message (first line).
        message: String,
    },
    /// Serialization failures or deadlocks on every one of `attempts` attempts.
    #[error(
        "PostgreSQL at {target}: gave up after {attempts} attempts, each a serialization failure or deadlock (last SQLSTATE {code})"
    )]
    Contended {
        /// Host, port, database.
        target: String,
        /// Attempts made.
        attempts: u32,
        /// The last SQLSTATE.
        code: String,
    },
    /// The password file (`PGPASSFILE`, or `~/.pgpass`) cannot be used: others can
    /// read it, or it cannot be read. Nothing was sent to the server.
    #[error("the PostgreSQL password file {path} cannot be used: {reason}")]
    PasswordFile {
        /// The file.
        path: String,
        /// Why (as `chmod 600 FILE` fixes, or the system's error).
        reason: String,
    },
    /// A thread panicked while holding the connection.
    #[error("the PostgreSQL connection to {target} was poisoned by a panic")]
    Poisoned {
        /// Host, port, database.
        target: String,
    },
}

/// A registry in a PostgreSQL database.
pub struct PostgresStore {
    client: Mutex<Client>,
    config: Config,
    target: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config holds the password: only the target is shown.
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// The first line of an error's text (server errors add `DETAIL:` and `HINT:` lines).
fn first_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}

/// The first line of `e`, with its source's first line when it has one.
fn reason_of(e: &postgres::Error) -> String {
    let head = first_line(e);
    match std::error::Error::source(e) {
        Some(source) => {
            let cause = first_line(source);
            if head.contains(&cause) {
                head
            } else {
                format!("{head}: {cause}")
            }
        }
        None => head,
    }
}

/// `host:port/database` for messages: never the user's password.
fn target_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

fn storage(e: PostgresError) -> RegistryError {
    RegistryError::Storage(Box::new(e))
}

/// A statement's failure: the server's SQLSTATE and constraint, or a lost connection.
fn classify(target: &str, e: &postgres::Error) -> RegistryError {
    match e.as_db_error() {
        Some(db) if connection_lost(db.code().code()) => storage(PostgresError::ConnectionLost {
            target: target.to_owned(),
            reason: format!(
                "SQLSTATE {}: {}",
                db.code().code(),
                first_line(&db.message())
            ),
        }),
        Some(db) => storage(PostgresError::Server {
            target: target.to_owned(),
            code: db.code().code().to_owned(),
            message: first_line(&db.message()),
        }),
        None => storage(PostgresError::ConnectionLost {
            target: target.to_owned(),
            reason: reason_of(e),
        }),
    }
}

/// The SQLSTATEs that mean the session is gone, not the statement refused: a
/// connection exception (class `08`), the server shutting down or restarting
/// (`57P01` admin shutdown, `57P02` crash shutdown, `57P03` cannot connect now).
fn connection_lost(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// Serialization failure or deadlock: the transaction may simply be run again.
fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The Store contract's answer to a constraint the schema names, if `e` broke one.
/// `head` reads the log's head again (the failed transaction's reads are gone), for
/// the audit backstop only.
fn conflict_of(
    e: &postgres::Error,
    sealed_on: AuditHead,
    head: impl FnOnce() -> Result<AuditHead, RegistryError>,
) -> Option<RegistryError> {
    let db = e.as_db_error()?;
    if *db.code() != SqlState::UNIQUE_VIOLATION && *db.code() != SqlState::FOREIGN_KEY_VIOLATION {
        return None;
    }
    let kind = match db.constraint()? {
        "revocard_meta_pkey" => return Some(RegistryError::AlreadyCreated),
        "credentials_pkey" => ConflictKind::SerialInUse,
        "credentials_status_index_key" => ConflictKind::StatusIndexInUse,
        "credentials_supersedes_key" => ConflictKind::AlreadySuperseded,
        "credentials_card_key_key" => ConflictKind::CardKeyInUse,
        "credentials_supersedes_fkey" => ConflictKind::UnknownCredential,
        "credentials_print_batch_fkey" => ConflictKind::UnknownBatch,
        "print_batches_pkey" => ConflictKind::BatchIdInUse,
        "jobs_pkey" => ConflictKind::JobIdInUse,
        "key_sets_pkey" => ConflictKind::KeySetSequenceInUse,
        "publications_pkey" => ConflictKind::PublicationSequenceInUse,
        // A backstop: the compare under the head lock refuses first.
        "audit_pkey" => match head() {
            Ok(head) => ConflictKind::StaleAuditHead { sealed_on, head },
            Err(e) => return Some(e),
        },
        _ => return None,
    };
    Some(RegistryError::Conflict(kind))
}

/// What went wrong inside a transaction: the contract refused, or the server failed.
enum TxError {
    Refused(RegistryError),
    Db(postgres::Error),
}

impl From<postgres::Error> for TxError {
    fn from(e: postgres::Error) -> Self {
        Self::Db(e)
    }
}

impl PostgresStore {
    /// Connects to the database `url` names (`postgres://user@host:port/db`,
    /// `postgresql://...`, or `host=... dbname=...`), creating the schema if the
    /// database is empty and migrating one an older build of this backend made.
    ///
    /// # Errors
    /// [`RegistryError::Storage`] with a [`PostgresError`] if the string does not parse
    /// or the server cannot be reached; [`RegistryError::NotARegistry`] if the database
    /// holds tables but no registry; [`RegistryError::NewerSchema`] if a newer build
    /// wrote it. Nothing is written then.
    pub fn connect(url: &str) -> Result<Self, RegistryError> {
        Self::connect_as(url, Schema::Create)
    }

    /// As [`Self::connect`], but never creates a registry's schema: an empty database
    /// is [`RegistryError::NotFound`] and is left empty. An older schema is migrated.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`] for a database without revocard's tables and no
    /// others; as [`Self::connect`].
    pub fn connect_existing(url: &str) -> Result<Self, RegistryError> {
        Self::connect_as(url, Schema::Migrate)
    }

    /// As [`Self::connect_existing`], but writes nothing at all: an older schema is
    /// refused ([`RegistryError::OlderSchema`]) rather than migrated. For tools that
    /// only read.
    ///
    /// # Errors
    /// As [`Self::connect_existing`]; [`RegistryError::OlderSchema`].
    pub fn connect_read_only(url: &str) -> Result<Self, RegistryError> {
        Self::connect_as(url, Schema::ReadOnly)
    }

    fn connect_as(url: &str, schema: Schema) -> Result<Self, RegistryError> {
        let mut config: Config = url.parse().map_err(|e: postgres::Error| {
            storage(PostgresError::BadUrl {
                reason: reason_of(&e),
            })
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("revocard");
        let target = target_of(&config);
        if config.get_password().is_none()
            && let Some(password) = password_for(&config)?
        {
            config.password(password.as_bytes());
        }
        let client = connect(&config, &target)?;
        let store = Self {
            client: Mutex::new(client),
            config,
            target,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match store.init(schema) {
                Err(RegistryError::Storage(e)) if attempt < OPEN_ATTEMPTS => {
                    // Another process may have been creating the schema at the same
                    // moment: look again.
                    drop(e);
                }
                other => return other.map(|()| store),
            }
        }
    }

    /// Where the store is: `host:port/database` (no user, no password).
    #[must_use]
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Checks the schema, creating or migrating it as needed.
    fn init(&self, schema: Schema) -> Result<(), RegistryError> {
        let mut client = self.client()?;
        let fail = |e: postgres::Error| classify(&self.target, &e);
        let names = table_names(&mut client).map_err(fail)?;
        let missing = || RegistryError::NotARegistry {
            path: self.target.clone(),
            detail: NotARegistry::MissingTables,
        };
        if names.is_empty() && schema != Schema::Create {
            // Reading (or working on an existing registry) never creates one.
            return Err(RegistryError::NotFound {
                path: self.target.clone(),
            });
        }
        if names.is_empty() {
            // One transaction: a client killed while creating the schema leaves an empty
            // database, never half a registry.
            let mut tx = client.transaction().map_err(fail)?;
            tx.batch_execute(
                "CREATE TABLE revocard_meta (key TEXT NOT NULL CONSTRAINT revocard_meta_pkey PRIMARY KEY, value TEXT NOT NULL)",
            )
            .map_err(fail)?;
            for (_, sql) in MIGRATIONS {
                tx.batch_execute(sql).map_err(fail)?;
            }
            tx.execute(
                "INSERT INTO revocard_meta (key, value) VALUES ('schema_version', $1)",
                &[&SCHEMA_VERSION.to_string()],
            )
            .map_err(fail)?;
            return tx.commit().map_err(fail);
        }
        // The version first, so that an older or newer registry is refused by name
        // rather than as missing tables.
        let version = if names.iter().any(|n| n == "revocard_meta") {
            client
                .query_opt(
                    "SELECT value FROM revocard_meta WHERE key = 'schema_version'",
                    &[],
                )
                .map_err(fail)?
                .map(|r| r.try_get::<_, String>(0))
                .transpose()
                .map_err(fail)?
        } else {
            None
        };
        let found = version
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(missing)?;
        if found > SCHEMA_VERSION {
            return Err(RegistryError::NewerSchema {
                path: self.target.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let first = MIGRATIONS.first().map_or(SCHEMA_VERSION, |(v, _)| *v);
        if found < first {
            return Err(RegistryError::OlderSchema {
                path: self.target.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION && schema == Schema::ReadOnly {
            return Err(RegistryError::OlderSchema {
                path: self.target.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
            let mut tx = client.transaction().map_err(fail)?;
            // Moving the version first locks its row: a second client migrating at
            // the same moment waits, then finds the version moved and stops.
            let moved = tx
                .execute(
                    "UPDATE revocard_meta SET value = $1 WHERE key = 'schema_version' AND value = $2",
                    &[&version.to_string(), &(version - 1).to_string()],
                )
                .map_err(fail)?;
            if moved != 1 {
                return tx.rollback().map_err(fail);
            }
            tx.batch_execute(sql).map_err(fail)?;
            tx.commit().map_err(fail)?;
        }
        let names = table_names(&mut client).map_err(fail)?;
        if TABLES.iter().all(|t| names.iter().any(|n| n == t)) {
            Ok(())
        } else {
            Err(missing())
        }
    }

    /// The connection, connecting again if the last one was lost.
    fn client(&self) -> Result<MutexGuard<'_, Client>, RegistryError> {
        let mut client = self.client.lock().map_err(|_| {
            storage(PostgresError::Poisoned {
                target: self.target.clone(),
            })
        })?;
        if client.is_closed() {
            *client = connect(&self.config, &self.target)?;
        }
        Ok(client)
    }

    fn fail(&self, e: &postgres::Error) -> RegistryError {
        classify(&self.target, e)
    }

    fn query(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, RegistryError> {
        self.client()?.query(sql, params).map_err(|e| self.fail(&e))
    }

    fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<Row>, RegistryError> {
        self.client()?
            .query_opt(sql, params)
            .map_err(|e| self.fail(&e))
    }

    fn publication_where(
        &self,
        clause: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<PublicationRecord>, RegistryError> {
        let sql = format!("SELECT sequence, published_at, list, delta FROM publications {clause}");
        let Some(row) = self.query_opt(&sql, params)? else {
            return Ok(None);
        };
        let bad = || corrupt(&self.target);
        Ok(Some(PublicationRecord {
            sequence: u64::try_from(row.try_get::<_, i64>(0).map_err(|_| bad())?)
                .map_err(|_| bad())?,
            published_at: UnixTime(
                u64::try_from(row.try_get::<_, i64>(1).map_err(|_| bad())?).map_err(|_| bad())?,
            ),
            list: row.try_get(2).map_err(|_| bad())?,
            delta: row.try_get(3).map_err(|_| bad())?,
        }))
    }
}

/// What opening may do to the database's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// Create it in an empty database; migrate an older one.
    Create,
    /// Migrate an older one; never create.
    Migrate,
    /// Neither: reading never writes.
    ReadOnly,
}

/// The largest password file read (libpq's `.pgpass` is a few lines).
const MAX_PASSWORD_FILE_BYTES: u64 = 64 * 1024;

/// The password for `config` when its connection string has none, as libpq finds it:
/// `PGPASSWORD`, else the first matching line of the password file (`PGPASSFILE`, or
/// `~/.pgpass`), `host:port:database:user:password` with `*` for any and `\` escaping
/// `:` and `\`. A password file others can read is refused (libpq ignores it with a
/// warning; a silent fall-through to no password would only puzzle the operator).
fn password_for(config: &Config) -> Result<Option<zeroize::Zeroizing<String>>, RegistryError> {
    if let Some(p) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
        return Ok(Some(zeroize::Zeroizing::new(
            p.to_string_lossy().into_owned(),
        )));
    }
    let path = match std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => match std::env::var_os("HOME").filter(|p| !p.is_empty()) {
            Some(home) => std::path::Path::new(&home).join(".pgpass"),
            None => return Ok(None),
        },
    };
    let unusable = |reason: String| {
        storage(PostgresError::PasswordFile {
            path: path.display().to_string(),
            reason,
        })
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unusable(e.to_string())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(unusable(format!(
                "others can read it (mode {mode:03o}): run `chmod 600 {}`",
                path.display()
            )));
        }
    }
    if !meta.is_file() || meta.len() > MAX_PASSWORD_FILE_BYTES {
        return Err(unusable(format!(
            "not a password file of at most {MAX_PASSWORD_FILE_BYTES} bytes"
        )));
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path).map_err(|e| unusable(e.to_string()))?,
    );
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        // libpq matches a unix socket as `localhost`.
        Some(Host::Unix(_)) | None => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    Ok(pgpass_lookup(&text, [&host, &port, db, user]))
}

/// The password of the first line of a `.pgpass` text matching `wanted` (host, port,
/// database, user).
fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<zeroize::Zeroizing<String>> {
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields: Vec<zeroize::Zeroizing<String>> = vec![zeroize::Zeroizing::default()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            let (c, separator) = match c {
                '\\' => (chars.next().unwrap_or('\\'), false),
                ':' => (c, fields.len() < 5),
                c => (c, false),
            };
            if separator {
                fields.push(zeroize::Zeroizing::default());
            } else {
                fields.last_mut()?.push(c);
            }
        }
        let [h, p, d, u, password] = fields.as_slice() else {
            continue;
        };
        let matches = [h, p, d, u]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f.as_str() == "*" || f.as_str() == w);
        if matches {
            return Some(password.clone());
        }
    }
    None
}

fn connect(config: &Config, target: &str) -> Result<Client, RegistryError> {
    config.connect(NoTls).map_err(|e| {
        storage(PostgresError::Unreachable {
            target: target.to_owned(),
            reason: reason_of(&e),
        })
    })
}

/// Columns read for a credential, joined with its replacement.
const READ_COLUMNS: &str = "c.serial, c.pay_number, c.status_index, c.print_batch, c.key_id, c.issued_at, c.status, \
                            c.reason, c.status_at, c.supersedes, r.serial, c.bytes, c.card_key";

/// A credential row, or `None` if a field does not read as what it must be.
fn record_of(r: &Row) -> Option<CredentialRecord> {
    let serial: Vec<u8> = r.try_get(0).ok()?;
    let supersedes: Option<Vec<u8>> = r.try_get(9).ok()?;
    let superseded_by: Option<Vec<u8>> = r.try_get(10).ok()?;
    let key_id: Vec<u8> = r.try_get(4).ok()?;
    Some(CredentialRecord {
        serial: serial_of(&serial)?,
        pay_number: r.try_get(1).ok()?,
        status_index: StatusIndex(u32::try_from(r.try_get::<_, i64>(2).ok()?).ok()?),
        print_batch: PrintBatchId(u32::try_from(r.try_get::<_, i64>(3).ok()?).ok()?),
        key_id: KeyId(key_id.as_slice().try_into().ok()?),
        issued_at: UnixTime(u64::try_from(r.try_get::<_, i64>(5).ok()?).ok()?),
        status: codes::status_of(r.try_get(6).ok()?)?,
        status_reason: stored_reason(r.try_get(7).ok()?, r.try_get(8).ok()?)?,
        supersedes: match supersedes {
            Some(s) => Some(serial_of(&s)?),
            None => None,
        },
        superseded_by: match superseded_by {
            Some(s) => Some(serial_of(&s)?),
            None => None,
        },
        bytes: r.try_get(11).ok()?,
        card_key: match r.try_get::<_, Option<Vec<u8>>>(12).ok()? {
            Some(k) => Some(CardPublicKey(k.as_slice().try_into().ok()?)),
            None => None,
        },
    })
}

/// The tables of the connection's current schema.
fn table_names(client: &mut postgres::Client) -> Result<Vec<String>, postgres::Error> {
    client
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema()",
            &[],
        )?
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect()
}

/// The head row, read inside a transaction with `FOR UPDATE` (the writers' lock) or
/// outside one.
fn head_of(row: &Row, target: &str) -> Result<AuditHead, RegistryError> {
    let seq: i64 = row.try_get(0).map_err(|_| corrupt(target))?;
    let hash: Vec<u8> = row.try_get(1).map_err(|_| corrupt(target))?;
    Ok(AuditHead {
        entries: u64::try_from(seq).map_err(|_| corrupt(target))?,
        hash: hash.as_slice().try_into().map_err(|_| corrupt(target))?,
    })
}

/// Writes `change` in `tx`, the head row locked first. Credentials, statuses and audit
/// entries go in one statement each (arrays through `unnest`), whatever their number.
fn write_change(tx: &mut Transaction<'_>, change: &Change, target: &str) -> Result<(), TxError> {
    let row = tx.query_one(
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        &[],
    )?;
    let head = head_of(&row, target).map_err(TxError::Refused)?;
    // First, so that a change sealed on a stale head costs no other write.
    super::store::check_appendable(head, &change.audit).map_err(TxError::Refused)?;
    if let Some(meta) = &change.create {
        // The key is the primary key: a second creation breaks it.
        tx.execute(
            "INSERT INTO revocard_meta (key, value) VALUES ('issuer', $1), ('capacity', $2), ('root', $3)",
            &[
                &meta.issuer.as_str(),
                &meta.capacity.to_string(),
                &crate::model::hex(&meta.root.to_bytes()),
            ],
        )?;
    }
    if !change.roster.is_empty() {
        write_roster(tx, &change.roster)?;
    }
    if let Some(k) = &change.key_set {
        tx.execute(
            "INSERT INTO key_sets (sequence, installed_at, bytes) VALUES ($1, $2, $3)",
            &[&i64_of(k.sequence), &i64_of(k.installed_at.0), &k.bytes],
        )?;
    }
    for b in &change.batches {
        tx.execute(
            "INSERT INTO print_batches (id, supplier, created_at) VALUES ($1, $2, $3)",
            &[&i64::from(b.id.0), &b.supplier, &i64_of(b.created_at.0)],
        )?;
    }
    for j in &change.jobs {
        let kind = serde_json::to_string(&j.kind)
            .map_err(|e| TxError::Refused(RegistryError::Storage(Box::new(e))))?;
        tx.execute(
            "INSERT INTO jobs (id, kind, started_at, finished_at) VALUES ($1, $2, $3, NULL)",
            &[&i64_of(j.id), &kind, &i64_of(j.started_at.0)],
        )?;
    }
    for (id, at) in &change.finished_jobs {
        tx.execute(
            "UPDATE jobs SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL",
            &[&i64_of(*id), &i64_of(at.0)],
        )?;
    }
    if !change.credentials.is_empty() {
        insert_credentials(tx, &change.credentials)?;
    }
    if !change.statuses.is_empty() {
        // One update for all; a serial named twice takes its last change, as a
        // sequence of updates would.
        let mut last: HashMap<Serial, usize> = HashMap::new();
        for (i, (serial, _, _)) in change.statuses.iter().enumerate() {
            last.insert(*serial, i);
        }
        let mut order: Vec<usize> = last.into_values().collect();
        order.sort_unstable();
        let pick = |i: &usize| change.statuses.get(*i);
        let serials: Vec<&[u8]> = order
            .iter()
            .filter_map(pick)
            .map(|s| s.0.0.as_slice())
            .collect();
        let statuses: Vec<i64> = order
            .iter()
            .filter_map(pick)
            .map(|s| codes::status(s.1))
            .collect();
        let reasons: Vec<Option<i64>> = order
            .iter()
            .filter_map(pick)
            .map(|s| s.2.map(|(r, _)| codes::reason(r)))
            .collect();
        let ats: Vec<Option<i64>> = order
            .iter()
            .filter_map(pick)
            .map(|s| s.2.map(|(_, at)| i64_of(at.0)))
            .collect();
        let n = tx.execute(
            "UPDATE credentials SET status = u.status, reason = u.reason, status_at = u.at \
             FROM unnest($1::BYTEA[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[]) AS u(serial, status, reason, at) \
             WHERE credentials.serial = u.serial",
            &[&serials, &statuses, &reasons, &ats],
        )?;
        if n != u64::try_from(serials.len()).unwrap_or(u64::MAX) {
            return Err(TxError::Refused(RegistryError::Conflict(
                ConflictKind::UnknownCredential,
            )));
        }
    }
    if !change.scopes.is_empty() {
        let next: i64 = tx
            .query_one("SELECT COALESCE(MAX(id), 0) FROM scopes", &[])?
            .try_get(0)?;
        for (i, s) in change.scopes.iter().enumerate() {
            let entry = serde_json::to_string(s)
                .map_err(|e| TxError::Refused(RegistryError::Storage(Box::new(e))))?;
            let id = next
                .saturating_add(i64::try_from(i).unwrap_or(i64::MAX))
                .saturating_add(1);
            tx.execute(
                "INSERT INTO scopes (id, entry) VALUES ($1, $2)",
                &[&id, &entry],
            )?;
        }
    }
    if let Some(p) = &change.publication {
        tx.execute(
            "INSERT INTO publications (sequence, published_at, list, delta) VALUES ($1, $2, $3, $4)",
            &[&i64_of(p.sequence), &i64_of(p.published_at.0), &p.list, &p.delta],
        )?;
    }
    let Some(last) = change.audit.last() else {
        return Ok(());
    };
    let seqs: Vec<i64> = change.audit.iter().map(|r| i64_of(r.seq)).collect();
    let ats: Vec<i64> = change.audit.iter().map(|r| i64_of(r.at.0)).collect();
    let events: Vec<&str> = change.audit.iter().map(|r| r.event_json.as_str()).collect();
    let prevs: Vec<&[u8]> = change
        .audit
        .iter()
        .map(|r| r.prev_hash.as_slice())
        .collect();
    let hashes: Vec<&[u8]> = change.audit.iter().map(|r| r.hash.as_slice()).collect();
    tx.execute(
        "INSERT INTO audit (seq, at, event, prev_hash, hash) \
         SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::BYTEA[], $5::BYTEA[])",
        &[&seqs, &ats, &events, &prevs, &hashes],
    )?;
    tx.execute(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[&i64_of(last.seq), &last.hash.as_slice()],
    )?;
    Ok(())
}

/// Applies roster changes as their sequence would, in two statements: each pay
/// number's last change decides (an upsert of its last entry, or its removal).
fn write_roster(tx: &mut Transaction<'_>, changes: &[RosterChange]) -> Result<(), TxError> {
    let mut last: HashMap<&str, Option<&HolderRequest>> = HashMap::new();
    for c in changes {
        match c {
            RosterChange::Upsert(entry) => last.insert(entry.holder.pay_number(), Some(entry)),
            RosterChange::Remove(pay) => last.insert(pay.as_str(), None),
        };
    }
    let mut upserts: Vec<(&str, String)> = Vec::new();
    let mut removals: Vec<&str> = Vec::new();
    for (pay, entry) in last {
        match entry {
            Some(entry) => upserts.push((pay, codes::roster_entry(entry))),
            None => removals.push(pay),
        }
    }
    if !removals.is_empty() {
        tx.execute(
            "DELETE FROM roster WHERE pay_number = ANY($1)",
            &[&removals],
        )?;
    }
    if !upserts.is_empty() {
        let pays: Vec<&str> = upserts.iter().map(|(p, _)| *p).collect();
        let entries: Vec<&str> = upserts.iter().map(|(_, e)| e.as_str()).collect();
        tx.execute(
            "INSERT INTO roster (pay_number, entry) SELECT * FROM unnest($1::TEXT[], $2::TEXT[]) \
             ON CONFLICT (pay_number) DO UPDATE SET entry = excluded.entry",
            &[&pays, &entries],
        )?;
    }
    Ok(())
}

/// Inserts credentials in one statement, in order, at positions after the last one
/// stored (safe: the head lock is held). The schema holds rules 2 to 4 and 7: serial
/// is the primary key, status_index and supersedes are unique, supersedes and
/// print_batch are foreign keys (checked at the end of the statement, so a
/// replacement may name a card inserted by the same statement).
fn insert_credentials(tx: &mut Transaction<'_>, cards: &[CredentialRecord]) -> Result<(), TxError> {
    let last: i64 = tx
        .query_one("SELECT COALESCE(MAX(pos), 0) FROM credentials", &[])?
        .try_get(0)?;
    let pos: Vec<i64> = (1..=i64::try_from(cards.len()).unwrap_or(i64::MAX))
        .map(|i| last.saturating_add(i))
        .collect();
    let serials: Vec<&[u8]> = cards.iter().map(|c| c.serial.0.as_slice()).collect();
    let pays: Vec<&str> = cards.iter().map(|c| c.pay_number.as_str()).collect();
    let indexes: Vec<i64> = cards.iter().map(|c| i64::from(c.status_index.0)).collect();
    let batches: Vec<i64> = cards.iter().map(|c| i64::from(c.print_batch.0)).collect();
    let keys: Vec<&[u8]> = cards.iter().map(|c| c.key_id.0.as_slice()).collect();
    let issued: Vec<i64> = cards.iter().map(|c| i64_of(c.issued_at.0)).collect();
    let statuses: Vec<i64> = cards.iter().map(|c| codes::status(c.status)).collect();
    let reasons: Vec<Option<i64>> = cards
        .iter()
        .map(|c| c.status_reason.map(|(r, _)| codes::reason(r)))
        .collect();
    let ats: Vec<Option<i64>> = cards
        .iter()
        .map(|c| c.status_reason.map(|(_, at)| i64_of(at.0)))
        .collect();
    let supersedes: Vec<Option<&[u8]>> = cards
        .iter()
        .map(|c| c.supersedes.as_ref().map(|s| s.0.as_slice()))
        .collect();
    let bytes: Vec<&[u8]> = cards.iter().map(|c| c.bytes.as_slice()).collect();
    let card_keys: Vec<Option<&[u8]>> = cards
        .iter()
        .map(|c| c.card_key.as_ref().map(|k| k.0.as_slice()))
        .collect();
    tx.execute(
        "INSERT INTO credentials (serial, pos, pay_number, status_index, print_batch, key_id, issued_at, \
         status, reason, status_at, supersedes, bytes, card_key) \
         SELECT * FROM unnest($1::BYTEA[], $2::BIGINT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[], $6::BYTEA[], \
         $7::BIGINT[], $8::BIGINT[], $9::BIGINT[], $10::BIGINT[], $11::BYTEA[], $12::BYTEA[], $13::BYTEA[])",
        &[
            &serials, &pos, &pays, &indexes, &batches, &keys, &issued, &statuses, &reasons, &ats,
            &supersedes, &bytes, &card_keys,
        ],
    )?;
    Ok(())
}

impl Store for PostgresStore {
    fn meta(&self) -> Result<Option<RegistryMeta>, RegistryError> {
        let rows = self.query(
            "SELECT key, value FROM revocard_meta WHERE key IN ('issuer', 'capacity', 'root')",
            &[],
        )?;
        let mut found: HashMap<String, String> = HashMap::new();
        for r in &rows {
            let (k, v) = (r.try_get::<_, String>(0), r.try_get::<_, String>(1));
            let (Ok(k), Ok(v)) = (k, v) else {
                return Err(corrupt(&self.target));
            };
            found.insert(k, v);
        }
        let (Some(issuer), Some(capacity), Some(root)) = (
            found.get("issuer"),
            found.get("capacity"),
            found.get("root"),
        ) else {
            return Ok(None);
        };
        let issuer = IssuerId::new(issuer.clone()).map_err(|_| corrupt(&self.target))?;
        let capacity = capacity.parse().map_err(|_| corrupt(&self.target))?;
        let mut anchor = vec![0u8; root.len() / 2];
        crate::model::parse_hex(root, &mut anchor).ok_or_else(|| corrupt(&self.target))?;
        let root = RootPublicKey::from_bytes(&anchor).map_err(|_| corrupt(&self.target))?;
        Ok(Some(RegistryMeta {
            issuer,
            capacity,
            root,
        }))
    }

    fn batches(&self) -> Result<Vec<PrintBatch>, RegistryError> {
        self.query(
            "SELECT id, supplier, created_at FROM print_batches ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| {
            Some(PrintBatch {
                id: PrintBatchId(u32::try_from(r.try_get::<_, i64>(0).ok()?).ok()?),
                supplier: r.try_get(1).ok()?,
                created_at: UnixTime(u64::try_from(r.try_get::<_, i64>(2).ok()?).ok()?),
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt(&self.target))
    }

    fn credentials(
        &self,
        filter: &CredentialFilter,
    ) -> Result<Vec<CredentialRecord>, RegistryError> {
        // Rows come in the order they were stored (`pos`); a filter naming several
        // batches, serials or holders reads them all in one query, then keeps the
        // filter's order between its keys.
        let base = format!(
            "SELECT {READ_COLUMNS} FROM credentials c LEFT JOIN credentials r ON r.supersedes = c.serial"
        );
        let rows = match filter {
            CredentialFilter::All => self.query(&format!("{base} ORDER BY c.pos"), &[])?,
            CredentialFilter::PrintBatches(batches) => {
                let ids: Vec<i64> = batches.iter().map(|b| i64::from(b.0)).collect();
                self.query(
                    &format!("{base} WHERE c.print_batch = ANY($1) ORDER BY c.pos"),
                    &[&ids],
                )?
            }
            CredentialFilter::IssuerKey(key) => self.query(
                &format!("{base} WHERE c.key_id = $1 ORDER BY c.pos"),
                &[&key.0.as_slice()],
            )?,
            CredentialFilter::Serials(serials) => {
                let keys: Vec<&[u8]> = serials.iter().map(|s| s.0.as_slice()).collect();
                self.query(
                    &format!("{base} WHERE c.serial = ANY($1) ORDER BY c.pos"),
                    &[&keys],
                )?
            }
            CredentialFilter::PayNumbers(numbers) => self.query(
                &format!("{base} WHERE c.pay_number = ANY($1) ORDER BY c.pos"),
                &[numbers],
            )?,
        };
        let mut out = rows
            .iter()
            .map(record_of)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| corrupt(&self.target))?;
        // The filter's order between keys (a stable sort keeps storage order within one).
        match filter {
            CredentialFilter::PrintBatches(batches) => {
                let rank: HashMap<PrintBatchId, usize> = batches
                    .iter()
                    .rev()
                    .enumerate()
                    .map(|(i, b)| (*b, batches.len() - i))
                    .collect();
                out.sort_by_key(|r| rank.get(&r.print_batch).copied());
            }
            CredentialFilter::Serials(serials) => {
                let rank: HashMap<Serial, usize> = serials
                    .iter()
                    .rev()
                    .enumerate()
                    .map(|(i, s)| (*s, serials.len() - i))
                    .collect();
                out.sort_by_key(|r| rank.get(&r.serial).copied());
            }
            CredentialFilter::PayNumbers(numbers) => {
                let rank: HashMap<&str, usize> = numbers
                    .iter()
                    .rev()
                    .enumerate()
                    .map(|(i, n)| (n.as_str(), numbers.len() - i))
                    .collect();
                out.sort_by_key(|r| rank.get(r.pay_number.as_str()).copied());
            }
            _ => {}
        }
        Ok(out)
    }

    fn status_indexes(&self) -> Result<Vec<u32>, RegistryError> {
        self.query("SELECT status_index FROM credentials", &[])?
            .iter()
            .map(|r| u32::try_from(r.try_get::<_, i64>(0).ok()?).ok())
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(&self.target))
    }

    fn card_keys(&self) -> Result<Vec<CardPublicKey>, RegistryError> {
        self.query(
            "SELECT card_key FROM credentials WHERE card_key IS NOT NULL",
            &[],
        )?
        .iter()
        .map(|r| {
            let k: Vec<u8> = r.try_get(0).ok()?;
            Some(CardPublicKey(k.as_slice().try_into().ok()?))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt(&self.target))
    }

    fn status_state(&self) -> Result<StatusState, RegistryError> {
        let bad = || corrupt(&self.target);
        let sequence = self
            .query_opt("SELECT COALESCE(MAX(sequence), 0) FROM publications", &[])?
            .ok_or_else(bad)?
            .try_get::<_, i64>(0)
            .map_err(|_| bad())?;
        let entries = self
            .query(
                "SELECT status_index, status, reason, status_at FROM credentials WHERE status <> 0",
                &[],
            )?
            .iter()
            .map(|r| {
                Some((
                    u32::try_from(r.try_get::<_, i64>(0).ok()?).ok()?,
                    codes::status_of(r.try_get(1).ok()?)?,
                    stored_reason(r.try_get(2).ok()?, r.try_get(3).ok()?)?,
                ))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        let scopes = self
            .query("SELECT entry FROM scopes ORDER BY id", &[])?
            .iter()
            .map(|r| serde_json::from_str::<ScopeEntry>(&r.try_get::<_, String>(0).ok()?).ok())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Ok(StatusState {
            sequence: u64::try_from(sequence).map_err(|_| bad())?,
            entries,
            scopes,
        })
    }

    fn latest_publication(&self) -> Result<Option<PublicationRecord>, RegistryError> {
        self.publication_where("ORDER BY sequence DESC LIMIT 1", &[])
    }

    fn publication(&self, sequence: u64) -> Result<Option<PublicationRecord>, RegistryError> {
        self.publication_where("WHERE sequence = $1", &[&i64_of(sequence)])
    }

    fn jobs(&self) -> Result<Vec<JobRecord>, RegistryError> {
        self.query(
            "SELECT id, kind, started_at, finished_at FROM jobs ORDER BY id",
            &[],
        )?
        .iter()
        .map(|r| {
            Some(JobRecord {
                id: u64::try_from(r.try_get::<_, i64>(0).ok()?).ok()?,
                kind: serde_json::from_str::<JobKind>(&r.try_get::<_, String>(1).ok()?).ok()?,
                started_at: UnixTime(u64::try_from(r.try_get::<_, i64>(2).ok()?).ok()?),
                finished_at: match r.try_get::<_, Option<i64>>(3).ok()? {
                    Some(f) => Some(UnixTime(u64::try_from(f).ok()?)),
                    None => None,
                },
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(|| corrupt(&self.target))
    }

    fn audit_head(&self) -> Result<AuditHead, RegistryError> {
        let row = self
            .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?
            .ok_or_else(|| corrupt(&self.target))?;
        head_of(&row, &self.target)
    }

    fn latest_key_set(&self) -> Result<Option<KeySetRecord>, RegistryError> {
        let Some(r) = self.query_opt(
            "SELECT sequence, installed_at, bytes FROM key_sets ORDER BY sequence DESC LIMIT 1",
            &[],
        )?
        else {
            return Ok(None);
        };
        let record = (|| {
            Some(KeySetRecord {
                sequence: u64::try_from(r.try_get::<_, i64>(0).ok()?).ok()?,
                installed_at: UnixTime(u64::try_from(r.try_get::<_, i64>(1).ok()?).ok()?),
                bytes: r.try_get(2).ok()?,
            })
        })();
        record.map(Some).ok_or_else(|| corrupt(&self.target))
    }

    fn key_sets(&self) -> Result<Vec<KeySetRecord>, RegistryError> {
        self.query(
            "SELECT sequence, installed_at, bytes FROM key_sets ORDER BY sequence",
            &[],
        )?
        .iter()
        .map(|r| {
            let record = || {
                Some(KeySetRecord {
                    sequence: u64::try_from(r.try_get::<_, i64>(0).ok()?).ok()?,
                    installed_at: UnixTime(u64::try_from(r.try_get::<_, i64>(1).ok()?).ok()?),
                    bytes: r.try_get(2).ok()?,
                })
            };
            record().ok_or_else(|| corrupt(&self.target))
        })
        .collect()
    }

    fn audit_log(&self) -> Result<Vec<AuditRecord>, RegistryError> {
        // An unreadable number or hash becomes a value the chain check rejects, so that
        // the broken entry is named rather than the whole database refused.
        Ok(self
            .query(
                "SELECT seq, at, event, prev_hash, hash FROM audit ORDER BY seq",
                &[],
            )?
            .iter()
            .map(|r| {
                let hash = |i: usize| {
                    r.try_get::<_, Vec<u8>>(i)
                        .ok()
                        .and_then(|h| h.as_slice().try_into().ok())
                        .unwrap_or([0xff; 32])
                };
                AuditRecord {
                    seq: r
                        .try_get::<_, i64>(0)
                        .ok()
                        .and_then(|s| u64::try_from(s).ok())
                        .unwrap_or(0),
                    at: UnixTime(
                        r.try_get::<_, i64>(1)
                            .ok()
                            .and_then(|s| u64::try_from(s).ok())
                            .unwrap_or(0),
                    ),
                    event_json: r.try_get(2).unwrap_or_default(),
                    prev_hash: hash(3),
                    hash: hash(4),
                }
            })
            .collect())
    }

    fn roster(&self) -> Result<Vec<HolderRequest>, RegistryError> {
        self.query("SELECT entry FROM roster ORDER BY pay_number", &[])?
            .iter()
            .map(|r| codes::roster_entry_of(&r.try_get::<_, String>(0).ok()?))
            .collect::<Option<_>>()
            .ok_or_else(|| corrupt(&self.target))
    }

    fn apply(&mut self, change: &Change) -> Result<(), RegistryError> {
        let sealed_on = change
            .audit
            .first()
            .map_or(AuditHead::EMPTY, |r| AuditHead {
                entries: r.seq.saturating_sub(1),
                hash: r.prev_hash,
            });
        let mut attempts = 0;
        let mut backoff = RETRY_BACKOFF;
        loop {
            attempts += 1;
            let mut client = self.client()?;
            let result = (|| -> Result<(), TxError> {
                let mut tx = client.transaction()?;
                write_change(&mut tx, change, &self.target)?;
                Ok(tx.commit()?)
            })();
            drop(client);
            let e = match result {
                Ok(()) => return Ok(()),
                Err(TxError::Refused(e)) => return Err(e),
                Err(TxError::Db(e)) => e,
            };
            if retryable(&e) {
                if attempts < MAX_TX_ATTEMPTS {
                    std::thread::sleep(backoff);
                    backoff = backoff.saturating_mul(2);
                    continue;
                }
                return Err(storage(PostgresError::Contended {
                    target: self.target.clone(),
                    attempts,
                    code: e.code().map_or("", |c| c.code()).to_owned(),
                }));
            }
            if let Some(refused) = conflict_of(&e, sealed_on, || self.audit_head()) {
                return Err(refused);
            }
            return Err(self.fail(&e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_migration_is_the_schema_this_build_reads() {
        assert_eq!(MIGRATIONS.last().map(|(v, _)| *v), Some(SCHEMA_VERSION));
        let versions: Vec<u32> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        assert!(versions.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn the_lost_connection_family_is_one_error() {
        for code in ["57P01", "57P02", "57P03", "08006", "08003", "08000"] {
            assert!(connection_lost(code), "{code}");
        }
        for code in ["23505", "40001", "42P01", "57014"] {
            assert!(!connection_lost(code), "{code}");
        }
    }

    #[test]
    fn a_pgpass_line_is_matched_as_libpq_matches_it() {
        let text = "# comment\n\
                    other:5432:*:*:nope\n\
                    db.example:5432:registry:office:s3cr\\:et\\\\\n\
                    *:*:*:office:fallback\n";
        let found = |w: [&str; 4]| pgpass_lookup(text, w).map(|p| p.as_str().to_owned());
        assert_eq!(
            found(["db.example", "5432", "registry", "office"]).as_deref(),
            Some("s3cr:et\\")
        );
        assert_eq!(
            found(["db.example", "6543", "registry", "office"]).as_deref(),
            Some("fallback")
        );
        assert_eq!(found(["db.example", "5432", "registry", "other"]), None);
    }

    #[test]
    fn a_bad_url_is_one_line_and_names_no_password() {
        let e = PostgresStore::connect("postgres://u:hunter2@[::1:5432/x").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("not a PostgreSQL connection string"),
            "{text}"
        );
    }

    #[test]
    fn a_refused_connection_is_one_line_and_names_no_password() {
        // Port 1 on loopback: nothing listens there.
        let e = PostgresStore::connect("postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2")
            .unwrap_err();
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("cannot connect to PostgreSQL at 127.0.0.1:1/db"),
            "{text}"
        );
    }
}
