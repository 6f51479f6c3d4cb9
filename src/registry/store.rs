//! Where the issuer's registry is kept: every credential it issued, the print batches and who
//! printed them (exposure), status changes, scope entries, publications, jobs and the
//! audit log.
//!
//! Storage sits behind the [`Store`] trait: a handful of reads, and one write,
//! [`Store::apply`], which commits a [`Change`] atomically (all of it or none of it).
//! The workflow in `reissue` composes changes; a backend only has to make each one a
//! transaction. The embedded default is `SqliteStore`; a shared
//! database server (PostgreSQL) implements the same trait without touching the workflow.

use crate::credential::UnverifiedCredential;
use crate::model::{Claims, IssuerId, KeyId, PrintBatchId, Serial, StatusIndex, UnixTime};
use crate::status::{RevocationReason, ScopeEntry, Status};

use super::audit::{AuditEvent, AuditRecord};
use super::incident::Incident;

/// The registry schema this build reads and writes (2: the issuer's root and key sets).
pub const SCHEMA_VERSION: u32 = 2;

/// What a registry is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMeta {
    /// The issuer whose credentials it records.
    pub issuer: IssuerId,
    /// Capacity of the issuer's status list.
    pub capacity: u32,
    /// The issuer's root: every key set the registry holds is signed by it.
    pub root: crate::root::RootPublicKey,
}

/// A root-signed key set as the registry stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetRecord {
    /// Its sequence.
    pub sequence: u64,
    /// When the registry installed it.
    pub installed_at: UnixTime,
    /// The signed bytes, as published to doors.
    pub bytes: Vec<u8>,
}

/// A print batch and the supplier that handled its data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrintBatch {
    /// The batch.
    pub id: PrintBatchId,
    /// Who printed it, hence who saw its cards' data.
    pub supplier: String,
    /// When it was opened.
    pub created_at: UnixTime,
}

/// One issued credential as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// Serial.
    pub serial: Serial,
    /// Holder's pay number.
    pub pay_number: String,
    /// Status index.
    pub status_index: StatusIndex,
    /// Print batch.
    pub print_batch: PrintBatchId,
    /// Signing key.
    pub key_id: KeyId,
    /// Issue time.
    pub issued_at: UnixTime,
    /// Its own status (scope entries may revoke it too: see [`Registry::effective_status`](super::Registry::effective_status)).
    pub status: Status,
    /// Reason and time of its own revocation or suspension.
    pub status_reason: Option<(RevocationReason, UnixTime)>,
    /// The credential it replaces.
    pub supersedes: Option<Serial>,
    /// The credential that replaced it: derived from the replacement's `supersedes`
    /// when read; [`Store::apply`] ignores it.
    pub superseded_by: Option<Serial>,
    /// The encoded credential.
    pub bytes: Vec<u8>,
}

impl CredentialRecord {
    /// Its status with scope entries applied: revoked if any of `scopes` covers it.
    pub(super) fn status_under(&self, scopes: &[ScopeEntry]) -> Status {
        let covered = scopes.iter().any(|e| {
            e.scope
                .covers_parts(self.print_batch, self.key_id, self.issued_at)
        });
        if covered {
            Status::Revoked
        } else {
            self.status
        }
    }

    /// Its claims, decoded from the stored bytes (the registry signed them).
    pub(super) fn claims(&self) -> Result<Claims, RegistryError> {
        UnverifiedCredential::from_bytes(&self.bytes)
            .map(|c| c.unverified_claims().clone())
            .map_err(|source| RegistryError::StoredCredential {
                serial: self.serial,
                source,
            })
    }
}

/// Which credentials to read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialFilter {
    /// Every credential.
    All,
    /// Credentials in these print batches.
    PrintBatches(Vec<PrintBatchId>),
    /// Credentials signed by this key.
    IssuerKey(KeyId),
    /// These serials.
    Serials(Vec<Serial>),
    /// Credentials of these holders.
    PayNumbers(Vec<String>),
}

/// A signed list (and delta) as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationRecord {
    /// Sequence.
    pub sequence: u64,
    /// When signed.
    pub published_at: UnixTime,
    /// The full signed list.
    pub list: Vec<u8>,
    /// The signed delta from the previous sequence.
    pub delta: Option<Vec<u8>>,
}

/// A unit of bulk work that survives a crash: the registry resumes an open job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobKind {
    /// Issuing a roster into a batch.
    Issue {
        /// The batch.
        batch: PrintBatchId,
    },
    /// Replacing the credentials an incident affected.
    Reissue {
        /// What was compromised.
        incident: Incident,
        /// The affected serials, fixed when the incident was declared (serialised as
        /// one base64 string of the concatenated serials: 47,000 of them are 1 MB).
        #[serde(with = "serials_base64")]
        affected: Vec<Serial>,
        /// The batch replacements go into.
        batch: PrintBatchId,
        /// The sequence of the signed list (and delta) that carried the revocation.
        revoked_in: u64,
    },
}

/// A job and whether it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Id.
    pub id: u64,
    /// What it does.
    pub kind: JobKind,
    /// When it started.
    pub started_at: UnixTime,
    /// When it finished.
    pub finished_at: Option<UnixTime>,
}

/// An index that is not valid: (index, status, reason and time).
pub type StatusEntry = (u32, Status, Option<(RevocationReason, UnixTime)>);

/// An individual status change: (serial, new status, reason and time).
pub type StatusChange = (Serial, Status, Option<(RevocationReason, UnixTime)>);

/// What the issuer's status list is built from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusState {
    /// Sequence of the last publication.
    pub sequence: u64,
    /// Every index not valid, with its own status and reason.
    pub entries: Vec<StatusEntry>,
    /// Scope entries in force.
    pub scopes: Vec<ScopeEntry>,
}

/// One atomic write: everything in it is committed together, or nothing is.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// Creates the registry (only on an empty store).
    pub create: Option<RegistryMeta>,
    /// New print batches.
    pub batches: Vec<PrintBatch>,
    /// New jobs.
    pub jobs: Vec<JobRecord>,
    /// Jobs that finished: (id, when).
    pub finished_jobs: Vec<(u64, UnixTime)>,
    /// New credentials. One whose `supersedes` names a credential that is unknown or
    /// already replaced makes the whole change fail: a card has at most one replacement.
    pub credentials: Vec<CredentialRecord>,
    /// Individual status changes: (serial, status, reason and time).
    pub statuses: Vec<StatusChange>,
    /// New scope entries.
    pub scopes: Vec<ScopeEntry>,
    /// A new publication.
    pub publication: Option<PublicationRecord>,
    /// A new key set (its sequence is unique in the store).
    pub key_set: Option<KeySetRecord>,
    /// Audit events, appended in order (the store seals them onto its chain).
    pub events: Vec<(UnixTime, AuditEvent)>,
}

/// Why the registry refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The file is not a revocard registry (or is corrupt).
    #[error("{path} is not a revocard registry: {detail}")]
    NotARegistry {
        /// The file.
        path: String,
        /// What was found.
        detail: NotARegistry,
    },
    /// The registry was written by an older schema, which this build does not migrate.
    #[error(
        "{path} has registry schema {found}; this build reads schema {supported}: export it with the build that wrote it"
    )]
    OlderSchema {
        /// The file.
        path: String,
        /// Schema found.
        found: u32,
        /// Schema supported.
        supported: u32,
    },
    /// The registry was written by a newer schema.
    #[error("{path} has registry schema {found}; this build reads schema {supported}")]
    NewerSchema {
        /// The file.
        path: String,
        /// Schema found.
        found: u32,
        /// Schema supported.
        supported: u32,
    },
    /// The store is empty: create the registry first.
    #[error("the registry has not been created")]
    Empty,
    /// The store already holds a registry.
    #[error("the registry already exists")]
    AlreadyCreated,
    /// A change would break an invariant (a second replacement, a reused status index
    /// or serial, an unknown credential); nothing was written.
    #[error("refused: {0}")]
    Conflict(ConflictKind),
    /// No free status index is left in the list.
    #[error("no free status index left in a list of {capacity}")]
    StatusListFull {
        /// The capacity.
        capacity: u32,
    },
    /// The issuing key is for another issuer, or is the compromised one.
    #[error("key {key_id} may not issue for this registry: {why}")]
    WrongKey {
        /// The key.
        key_id: KeyId,
        /// Why.
        why: WrongKey,
    },
    /// Replacements must go to another supplier than the one breached.
    #[error("replacements cannot go to {supplier}, the breached supplier")]
    SameSupplier {
        /// The supplier.
        supplier: String,
    },
    /// The incident matches no active credential: nothing to do.
    #[error("the incident matches no active credential")]
    NothingAffected,
    /// The plan was not made on this registry: this registry's audit log has no entry
    /// at the head the plan was made at (another registry, or a log since rewritten).
    /// Nothing was written; plan again on this registry.
    #[error(
        "the plan was made at audit entry {planned_at_entry} of another registry; this registry's log has {entries} entries and none matches it"
    )]
    PlanNotFromThisRegistry {
        /// The audit entry the plan was made at.
        planned_at_entry: u64,
        /// The number of entries in this registry's log.
        entries: u64,
    },
    /// The open reissue job names credentials this registry does not hold, so it cannot
    /// be finished (nor reported done). Nothing was written.
    #[error("job {job} names {unknown} credentials this registry does not hold, first {serial}")]
    UnknownAffectedCredential {
        /// The job.
        job: u64,
        /// The first serial not held.
        serial: Serial,
        /// How many of the job's serials are not held.
        unknown: u64,
    },
    /// Another job is still open; resume it first.
    #[error("job {job} is still open; resume it first")]
    JobOpen {
        /// The open job.
        job: u64,
    },
    /// Issuing failed.
    #[error(transparent)]
    Issue(#[from] crate::error::IssueError),
    /// Publishing failed.
    #[error(transparent)]
    Status(#[from] crate::error::StatusError),
    /// The audit chain is broken.
    #[error(transparent)]
    Audit(#[from] super::audit::AuditError),
    /// A stored credential does not decode.
    #[error("stored credential {serial} does not decode: {source}")]
    StoredCredential {
        /// The credential.
        serial: Serial,
        /// Why.
        source: crate::error::DecodeError,
    },
    /// A stored signed list does not decode.
    #[error("stored list {sequence} does not decode: {source}")]
    StoredList {
        /// Its sequence.
        sequence: u64,
        /// Why.
        source: crate::error::DecodeError,
    },
    /// A key set was refused (or the stored one no longer checks under the root).
    #[error("key set refused: {0}")]
    KeySet(#[from] crate::error::KeySetError),
    /// A stored list commits to an audit head that the log does not have: the log was
    /// rewritten or truncated after the list was signed.
    #[error(
        "list {sequence} commits to audit entry {entries}, which the log does not hold as signed"
    )]
    AuditCommitmentBroken {
        /// The list.
        sequence: u64,
        /// The entry it commits to.
        entries: u64,
    },
    /// The storage backend failed.
    #[error("storage: {0}")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What made a file not a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotARegistry {
    /// Not an SQLite database at all (or encrypted, or truncated in its header).
    #[error("not a database")]
    NotADatabase,
    /// A database, but without revocard's tables.
    #[error("no revocard tables")]
    MissingTables,
    /// The database is damaged.
    #[error("the database is corrupt")]
    Corrupt,
}

/// Which invariant a change would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// The credential already has a replacement.
    AlreadySuperseded,
    /// No such credential.
    UnknownCredential,
    /// A serial, status index or batch id already in use.
    Duplicate,
}

impl std::fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AlreadySuperseded => "the credential already has a replacement",
            Self::UnknownCredential => "no such credential",
            Self::Duplicate => "a serial, status index or batch id is already in use",
        })
    }
}

/// Why a key may not sign for the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WrongKey {
    /// It signs for another issuer.
    OtherIssuer,
    /// The registry declared it compromised (an issuer-key incident names it).
    Compromised,
    /// The registry's key set revokes it.
    Revoked,
    /// The registry's key set does not certify it (or certifies other bytes or another
    /// window under its id): a key no door trusts.
    NotCertified,
    /// The key set certifies it for something else (lists, not credentials, or the reverse).
    WrongUsage,
}

impl std::fmt::Display for WrongKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::OtherIssuer => "it signs for another issuer",
            Self::Compromised => "the registry declared it compromised",
            Self::Revoked => "the registry's key set revokes it",
            Self::NotCertified => {
                "the registry's key set does not certify it: no door would trust what it signs"
            }
            Self::WrongUsage => "the key set certifies it for something else",
        })
    }
}

/// Where a registry is kept. One writer at a time.
pub trait Store {
    /// The registry's metadata, or `None` if the store is empty.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn meta(&self) -> Result<Option<RegistryMeta>, RegistryError>;
    /// Every print batch.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn batches(&self) -> Result<Vec<PrintBatch>, RegistryError>;
    /// Credentials matching `filter`, each once, in the order they were stored.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn credentials(
        &self,
        filter: &CredentialFilter,
    ) -> Result<Vec<CredentialRecord>, RegistryError>;
    /// Every status index in use (never reused, even after revocation).
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn status_indexes(&self) -> Result<Vec<u32>, RegistryError>;
    /// What the status list is built from.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn status_state(&self) -> Result<StatusState, RegistryError>;
    /// The latest publication.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn latest_publication(&self) -> Result<Option<PublicationRecord>, RegistryError>;
    /// A publication by sequence.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn publication(&self, sequence: u64) -> Result<Option<PublicationRecord>, RegistryError>;
    /// Every job, oldest first.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn jobs(&self) -> Result<Vec<JobRecord>, RegistryError>;
    /// The last audit entry's position and hash (every change appends to the log, so
    /// this also tells whether anything changed).
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn audit_head(&self) -> Result<crate::model::AuditHead, RegistryError>;
    /// The key set with the highest sequence.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn latest_key_set(&self) -> Result<Option<KeySetRecord>, RegistryError>;
    /// The whole audit log, in order.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn audit_log(&self) -> Result<Vec<AuditRecord>, RegistryError>;
    /// Commits `change` atomically, sealing its events onto the audit chain.
    ///
    /// # Errors
    /// [`RegistryError::Conflict`] if it would break an invariant; nothing is written.
    fn apply(&mut self, change: &Change) -> Result<(), RegistryError>;
}

/// Serde for a long list of serials: one base64 string of their concatenated bytes.
mod serials_base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use crate::model::Serial;

    pub(super) fn serialize<S: serde::Serializer>(
        serials: &[Serial],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = serials.iter().flat_map(|x| x.0).collect();
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Serial>, D::Error> {
        use serde::de::Error as _;
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        let bytes = STANDARD.decode(text.as_bytes()).map_err(D::Error::custom)?;
        let (chunks, rest) = bytes.as_chunks::<16>();
        if !rest.is_empty() {
            return Err(D::Error::custom("serials are 16 bytes each"));
        }
        Ok(chunks.iter().map(|c| Serial(*c)).collect())
    }
}
