//! A store chosen at run time from one `--db` string, for tools: a PostgreSQL URL
//! (`postgres://...`, `postgresql://...`) or an SQLite file path.

use crate::model::{AuditHead, CardPublicKey};
use crate::registry::audit::AuditRecord;
use crate::registry::{
    Change, CredentialFilter, CredentialRecord, HolderRequest, JobRecord, KeySetRecord, PrintBatch,
    PublicationRecord, RegistryError, RegistryMeta, StatusState, Store,
};

#[cfg(feature = "postgres")]
use crate::registry::PostgresStore;
#[cfg(feature = "sqlite")]
use crate::registry::SqliteStore;

/// The schemes that name a PostgreSQL server rather than a file.
pub const POSTGRES_SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// A `--db` string names a backend this build does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what} needs revocard built with feature `{feature}`")]
pub struct BackendNotBuilt {
    /// What was asked for ("a PostgreSQL URL", "an SQLite file").
    pub what: &'static str,
    /// The cargo feature that builds it.
    pub feature: &'static str,
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    /// Creates the schema in an empty database.
    CreateIfEmpty,
    /// Never creates; migrates an older schema.
    Existing,
    /// Never creates, migrates or writes.
    ReadOnly,
}

/// The registry's store, whichever backend a `--db` string named.
#[derive(Debug)]
#[non_exhaustive]
// One per registry handle, moved once into the `Registry`: the size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyStore {
    /// An SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore),
}

impl AnyStore {
    /// Whether `db` is a PostgreSQL URL (else it is a file path).
    #[must_use]
    pub fn is_postgres_url(db: &str) -> bool {
        POSTGRES_SCHEMES.iter().any(|s| db.starts_with(s))
    }

    /// Opens `db`: a PostgreSQL URL connects to that database (`PostgresStore`,
    /// feature `postgres`), anything else is an SQLite file path (`SqliteStore`,
    /// feature `sqlite`). Either creates the schema in an empty database.
    ///
    /// # Errors
    /// As the backend's own opening; [`RegistryError::Storage`] with
    /// [`BackendNotBuilt`] if this build lacks the backend `db` names.
    pub fn open(db: &str) -> Result<Self, RegistryError> {
        Self::open_as(db, Opening::CreateIfEmpty)
    }

    /// Opens the registry `db` names for reading and writing, never creating one: a
    /// missing file or an empty database is [`RegistryError::NotFound`] and is left as
    /// it was. (A PostgreSQL registry of an older schema is migrated: the writes that
    /// follow need the current one.)
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; as [`Self::open`].
    pub fn open_existing(db: &str) -> Result<Self, RegistryError> {
        Self::open_as(db, Opening::Existing)
    }

    /// Opens the registry `db` names for reading only: nothing is created, migrated
    /// or written (reading never writes). A PostgreSQL registry of an older schema is
    /// refused ([`RegistryError::OlderSchema`]) until a writing command migrates it.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; as [`Self::open`].
    pub fn open_read_only(db: &str) -> Result<Self, RegistryError> {
        Self::open_as(db, Opening::ReadOnly)
    }

    fn open_as(db: &str, how: Opening) -> Result<Self, RegistryError> {
        if Self::is_postgres_url(db) {
            #[cfg(feature = "postgres")]
            return match how {
                Opening::CreateIfEmpty => PostgresStore::connect(db),
                Opening::Existing => PostgresStore::connect_existing(db),
                Opening::ReadOnly => PostgresStore::connect_read_only(db),
            }
            .map(Self::Postgres);
            #[cfg(not(feature = "postgres"))]
            return Err(RegistryError::Storage(Box::new(BackendNotBuilt {
                what: "a PostgreSQL URL",
                feature: "postgres",
            })));
        }
        #[cfg(feature = "sqlite")]
        return match how {
            Opening::CreateIfEmpty => SqliteStore::open(db),
            Opening::Existing | Opening::ReadOnly => SqliteStore::open_existing(db),
        }
        .map(Self::Sqlite);
        #[cfg(not(feature = "sqlite"))]
        return Err(RegistryError::Storage(Box::new(BackendNotBuilt {
            what: "an SQLite file",
            feature: "sqlite",
        })));
    }

    /// Whether `e` is the connection to the database lost during a call (a server
    /// restart or shutdown, SQLSTATE `57P01`, a `08` connection exception, the socket
    /// closed): the call may or may not have committed, and running the work again
    /// resumes it (every workflow reads before it writes).
    #[must_use]
    pub fn is_connection_lost(e: &RegistryError) -> bool {
        #[cfg(feature = "postgres")]
        if let RegistryError::Storage(source) = e {
            return matches!(
                source.downcast_ref::<crate::registry::PostgresError>(),
                Some(crate::registry::PostgresError::ConnectionLost { .. })
            );
        }
        let _ = e;
        false
    }

    /// Where the registry is, for messages: the file, or `host:port/database` (never
    /// a password).
    #[must_use]
    pub fn location(&self) -> &str {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(s) => s.path(),
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => s.target(),
        }
    }
}

/// Every `Store` method, delegated to the backend held.
macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            AnyStore::Sqlite($s) => $call,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl Store for AnyStore {
    fn meta(&self) -> Result<Option<RegistryMeta>, RegistryError> {
        delegate!(self, s => s.meta())
    }
    fn batches(&self) -> Result<Vec<PrintBatch>, RegistryError> {
        delegate!(self, s => s.batches())
    }
    fn credentials(
        &self,
        filter: &CredentialFilter,
    ) -> Result<Vec<CredentialRecord>, RegistryError> {
        delegate!(self, s => s.credentials(filter))
    }
    fn status_indexes(&self) -> Result<Vec<u32>, RegistryError> {
        delegate!(self, s => s.status_indexes())
    }
    fn card_keys(&self) -> Result<Vec<CardPublicKey>, RegistryError> {
        delegate!(self, s => s.card_keys())
    }
    fn status_state(&self) -> Result<StatusState, RegistryError> {
        delegate!(self, s => s.status_state())
    }
    fn latest_publication(&self) -> Result<Option<PublicationRecord>, RegistryError> {
        delegate!(self, s => s.latest_publication())
    }
    fn publication(&self, sequence: u64) -> Result<Option<PublicationRecord>, RegistryError> {
        delegate!(self, s => s.publication(sequence))
    }
    fn jobs(&self) -> Result<Vec<JobRecord>, RegistryError> {
        delegate!(self, s => s.jobs())
    }
    fn audit_head(&self) -> Result<AuditHead, RegistryError> {
        delegate!(self, s => s.audit_head())
    }
    fn latest_key_set(&self) -> Result<Option<KeySetRecord>, RegistryError> {
        delegate!(self, s => s.latest_key_set())
    }
    fn key_sets(&self) -> Result<Vec<KeySetRecord>, RegistryError> {
        delegate!(self, s => s.key_sets())
    }
    fn audit_log(&self) -> Result<Vec<AuditRecord>, RegistryError> {
        delegate!(self, s => s.audit_log())
    }
    fn roster(&self) -> Result<Vec<HolderRequest>, RegistryError> {
        delegate!(self, s => s.roster())
    }
    fn apply(&mut self, change: &Change) -> Result<(), RegistryError> {
        delegate!(self, s => s.apply(change))
    }
}
