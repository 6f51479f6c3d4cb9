//! Where the issuer's registry is kept: every credential it issued, the print batches and who
//! printed them (exposure), status changes, scope entries, publications, jobs and the
//! audit log.
//!
//! Storage sits behind the [`Store`] trait: a handful of reads, and one write,
//! [`Store::apply`], which commits a [`Change`] atomically (all of it or none of it).
//! The workflow ([`Registry`](super::Registry)) composes changes, checks what it can
//! check by reading, and seals the audit events; a backend makes each change a
//! transaction and guarantees the handful of constraints that only the database can
//! enforce when several writers share it (listed on [`Store`]). The embedded default
//! is `SqliteStore`; a shared database server (PostgreSQL) implements the same trait
//! without touching the workflow, and `registry::conformance` (feature `conformance`)
//! checks that it does.

use crate::model::{
    CardPublicKey, Claims, IssuerId, KeyId, PrintBatchId, Serial, StatusIndex, UnixTime,
};
use crate::model::{RevocationReason, ScopeEntry, Status};
use crate::verify::UnverifiedCredential;

use crate::model::AuditHead;

use super::audit::AuditRecord;
use super::incident::Incident;

/// The registry schema this build reads and writes (2: the issuer's root and key sets;
/// 3: the HR roster, and each credential's bound card public key, unique).
pub const SCHEMA_VERSION: u32 = 3;

/// What a registry is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMeta {
    /// The issuer whose credentials it records.
    pub issuer: IssuerId,
    /// Capacity of the issuer's status list.
    pub capacity: u32,
    /// The issuer's root: every key set the registry holds is signed by it.
    pub root: crate::verify::RootPublicKey,
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
    /// The card public key the credential binds (the chip's key, reported by the
    /// supplier or enrolment station): public data, bound to one credential at most.
    pub card_key: Option<CardPublicKey>,
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
        /// The credentials to replace, fixed when the incident was declared (cards
        /// issued later are not in it). Resolve them with
        /// [`Registry::job_cards`](super::Registry::job_cards).
        affected: AffectedCards,
        /// The batch replacements go into.
        batch: PrintBatchId,
        /// The sequence of the signed list (and delta) that carried the revocation.
        revoked_in: u64,
    },
}

/// The credentials a reissue job must replace, fixed at declaration.
///
/// Written as their status indexes (unique in a registry and never reused: a
/// credential is never deleted, and the store refuses an index in use), in the
/// lists' compact index-set codec, with their count and a digest of their serials:
/// a print batch's 47,000 cards take a few bytes rather than the 1 MB of their
/// serials, so the declare commit (the revocation and its list) stays small. Jobs
/// written by earlier versions carry the serials themselves and are still read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum AffectedCards {
    /// The serials (the form earlier versions wrote: one base64 string of the
    /// concatenated 16-byte serials).
    Serials(#[serde(with = "serials_base64")] Vec<Serial>),
    /// The status indexes.
    Indexes {
        /// The strictly increasing status indexes, in the lists' index-set codec,
        /// base64.
        #[serde(with = "bytes_base64")]
        indexes: Vec<u8>,
        /// The universe the indexes were encoded for (the registry's capacity).
        universe: u32,
        /// How many credentials.
        count: u64,
        /// SHA-256 over their serials in ascending status-index order, hex: checked
        /// when the indexes are mapped back to credentials.
        digest: String,
    },
}

impl AffectedCards {
    /// The record of these credentials, given as (status index, serial) in any order.
    pub(super) fn from_indexes(mut cards: Vec<(u32, Serial)>, universe: u32) -> Self {
        use sha2::Digest as _;
        cards.sort_unstable_by_key(|&(index, _)| index);
        cards.dedup_by_key(|&mut (index, _)| index);
        let sorted: Vec<u32> = cards.iter().map(|&(index, _)| index).collect();
        let mut hash = sha2::Sha256::new();
        for (_, serial) in &cards {
            hash.update(serial.0);
        }
        Self::Indexes {
            indexes: crate::wire::encode_index_set(&sorted, universe),
            universe,
            count: u64::try_from(cards.len()).unwrap_or(u64::MAX),
            digest: crate::model::hex(&hash.finalize()),
        }
    }

    /// How many credentials.
    #[must_use]
    pub fn count(&self) -> u64 {
        match self {
            Self::Serials(serials) => u64::try_from(serials.len()).unwrap_or(u64::MAX),
            Self::Indexes { count, .. } => *count,
        }
    }
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
    /// New credentials. One whose serial, status index or card key is in use, whose
    /// print batch is unknown, or whose `supersedes` names a credential that is unknown
    /// or already replaced makes the whole change fail: a card has at most one
    /// replacement, and a chip's key is bound to one credential.
    pub credentials: Vec<CredentialRecord>,
    /// Individual status changes: (serial, status, reason and time). One naming an
    /// unknown credential makes the whole change fail.
    pub statuses: Vec<StatusChange>,
    /// New scope entries.
    pub scopes: Vec<ScopeEntry>,
    /// A new publication (its sequence is unique in the store).
    pub publication: Option<PublicationRecord>,
    /// A new key set (its sequence is unique in the store).
    pub key_set: Option<KeySetRecord>,
    /// Changes to the HR roster the registry keeps (who should hold a card, with which
    /// printed fields), applied in order.
    pub roster: Vec<RosterChange>,
    /// Audit entries, already sealed by the workflow onto the head it read
    /// ([`audit::seal`](super::audit::seal)), in order. The store appends them only if
    /// the first one's `prev_hash` and `seq - 1` are still its head, and each next one
    /// follows the one before; otherwise the whole change fails.
    pub audit: Vec<AuditRecord>,
}

/// A change to the roster: a holder added or updated (keyed by pay number), or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RosterChange {
    /// Adds the holder, or replaces the entry with their pay number.
    Upsert(super::HolderRequest),
    /// Removes the holder with this pay number (no error if absent).
    Remove(String),
}

/// Why the registry refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A roster names one pay number twice.
    #[error("the roster names pay number {pay_number} more than once")]
    DuplicateHolder {
        /// The pay number.
        pay_number: String,
    },
    /// A roster sync would remove more holders than the registry's leavers' threshold
    /// ([`Registry::max_leavers`](super::Registry::max_leavers)): a truncated HR export
    /// looks like this. Nothing was written. Check the export; if the leavers are real,
    /// approve exactly this many
    /// ([`Registry::roster_apply_approved`](super::Registry::roster_apply_approved)).
    #[error(
        "the roster removes {leavers} holders (revoking {cards} cards), more than the threshold of {threshold}; nothing was written"
    )]
    TooManyLeavers {
        /// Holders the roster would remove.
        leavers: u64,
        /// Their cards that would be revoked.
        cards: u64,
        /// The registry's threshold.
        threshold: u64,
    },
    /// A roster sync was approved for another number of leavers than it finds (an
    /// approval given for one export cannot carry another). Nothing was written.
    #[error(
        "the roster removes {leavers} holders, not the {approved} approved; nothing was written"
    )]
    LeaversNotAsApproved {
        /// Holders the roster would remove.
        leavers: u64,
        /// The number approved.
        approved: u64,
    },
    /// Issuing the pending cards would, once the batch is finished, revoke more
    /// replaced cards than the registry's threshold
    /// ([`Registry::max_leavers`](super::Registry::max_leavers)): a roster sync that
    /// changed a printed field for most of the force looks like this. Nothing was
    /// signed or written. Check the roster; if the changes are real, approve exactly
    /// this many ([`Registry::issue_pending_approved`](super::Registry::issue_pending_approved)).
    #[error(
        "issuing would revoke {cards} replaced cards, more than the threshold of {threshold}; nothing was signed"
    )]
    TooManyReplaced {
        /// Cards the batch would revoke as superseded.
        cards: u64,
        /// The registry's threshold.
        threshold: u64,
    },
    /// Issuing was approved for another number of replaced cards than it would revoke.
    /// Nothing was signed or written.
    #[error(
        "issuing would revoke {cards} replaced cards, not the {approved} approved; nothing was signed"
    )]
    ReplacedNotAsApproved {
        /// Cards the batch would revoke as superseded.
        cards: u64,
        /// The number approved.
        approved: u64,
    },
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
    /// No registry file at this path (`SqliteStore::open_existing`); nothing was
    /// created. Create the registry first, or give the path of an existing one.
    #[error("no registry at {path}: create one first, or give the path of an existing registry")]
    NotFound {
        /// The path given.
        path: String,
    },
    /// A file is already at this path (`SqliteStore::create`); it was left alone.
    #[error("{path} already exists: a new registry is never created over a file")]
    FileExists {
        /// The path given.
        path: String,
    },
    /// An annotation (or its subject) is longer than its limit; nothing was written.
    #[error("an annotation of {len} bytes is longer than the limit of {max}")]
    AnnotationTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The store already holds a registry (found by the workflow's read, or by the
    /// backend when a [`Change::create`] meets an existing registry).
    #[error("the registry already exists")]
    AlreadyCreated,
    /// A change would break a constraint of the [`Store`] contract (a second
    /// replacement, a serial or status index in use, an unknown credential, an audit
    /// head that moved since the change was sealed); nothing of it was written.
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
    /// The open reissue job's record of its cards does not match the store: its status
    /// indexes do not decode, name credentials this registry does not hold, or name
    /// credentials whose count or serials' digest differ from what was fixed at
    /// declaration. The store is corrupt; nothing was written.
    #[error(
        "job {job} records {expected} cards to replace, but its status indexes name {found} held credentials or another set of serials: the store is corrupt"
    )]
    JobCardsMismatch {
        /// The job.
        job: u64,
        /// How many cards the job recorded.
        expected: u64,
        /// How many held credentials its indexes name.
        found: u64,
    },
    /// Bulk work needed more blank cards than the source had: `needed` keys, of which
    /// only `left` could be drawn (keys already bound to a credential are skipped).
    /// Nothing was signed or written by the call; the keys drawn are consumed from the
    /// source. Give a list with enough blank cards (the same file again, completed).
    #[error(
        "{needed} blank cards are needed but the source had {left} not yet bound: supply at least {needed} unbound card public keys"
    )]
    NotEnoughBlankCards {
        /// Keys the work needed.
        needed: u64,
        /// Keys the source had that were not bound yet.
        left: u64,
    },
    /// The source of blank cards failed.
    #[error(transparent)]
    BlankCards(#[from] super::cards::BlankCardsError),
    /// A supplier's list names a blank card whose public key no door could check (not
    /// a curve point, not canonically encoded, of small order or with a torsion
    /// component): the list is refused when it is received
    /// ([`BlankCardList::check`](super::BlankCardList::check)), before anything is
    /// signed. Set that card aside and take it out of the list.
    #[error(
        "blank card {key} reported an unusable public key: set it aside and remove it from the list"
    )]
    UnusableCardKey {
        /// The key as reported.
        key: CardPublicKey,
    },
    /// Another job is still open; resume it first.
    #[error("job {job} is still open; resume it first")]
    JobOpen {
        /// The open job.
        job: u64,
    },
    /// Issuing failed.
    #[error(transparent)]
    Issue(#[from] crate::issue::IssueError),
    /// Publishing failed.
    #[error(transparent)]
    Status(#[from] crate::verify::StatusError),
    /// The signing key (held in a token) could not sign, or returned a signature that
    /// does not verify: nothing signed with it was written. Run again once the token is
    /// back; a bulk job resumes from its last committed chunk.
    #[error(transparent)]
    Sign(#[from] crate::issue::SignError),
    /// The audit chain is broken.
    #[error(transparent)]
    Audit(#[from] super::audit::AuditError),
    /// A stored credential does not decode.
    #[error("stored credential {serial} does not decode: {source}")]
    StoredCredential {
        /// The credential.
        serial: Serial,
        /// Why.
        source: crate::wire::DecodeError,
    },
    /// A stored signed list does not decode.
    #[error("stored list {sequence} does not decode: {source}")]
    StoredList {
        /// Its sequence.
        sequence: u64,
        /// Why.
        source: crate::wire::DecodeError,
    },
    /// A key set was refused (or the stored one no longer checks under the root).
    #[error("key set refused: {0}")]
    KeySet(#[from] crate::verify::KeySetError),
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

impl From<crate::issue::PublishListError> for RegistryError {
    fn from(e: crate::issue::PublishListError) -> Self {
        match e {
            crate::issue::PublishListError::Status(e) => Self::Status(e),
            crate::issue::PublishListError::Sign(e) => Self::Sign(e),
        }
    }
}

impl RegistryError {
    /// The signing failure behind this error, if a key held outside the process (a
    /// token) failed to sign or returned a bad signature, wherever it surfaced.
    #[must_use]
    pub fn sign_error(&self) -> Option<&crate::issue::SignError> {
        match self {
            Self::Sign(e) | Self::Issue(crate::issue::IssueError::Sign(e)) => Some(e),
            _ => None,
        }
    }
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

/// Which constraint of the [`Store`] contract a change would break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// The credential already has a replacement (`supersedes` is unique).
    AlreadySuperseded,
    /// A replacement or a status change names a credential the store does not hold.
    UnknownCredential,
    /// A credential names a print batch the store does not hold.
    UnknownBatch,
    /// The serial is already in use.
    SerialInUse,
    /// The status index is already in use (indexes are never reused).
    StatusIndexInUse,
    /// The print batch id is already in use.
    BatchIdInUse,
    /// The job id is already in use.
    JobIdInUse,
    /// A key set with this sequence is already stored.
    KeySetSequenceInUse,
    /// A publication with this sequence is already stored.
    PublicationSequenceInUse,
    /// The card public key is already bound to a credential (a chip's key binds one).
    CardKeyInUse,
    /// The change's audit entries were sealed onto `sealed_on`, but the log's head was
    /// `head`: another writer committed since this change was composed (or the entries
    /// do not follow one another). Read again and recompose.
    StaleAuditHead {
        /// The head the entries were sealed onto.
        sealed_on: AuditHead,
        /// The log's head at that entry.
        head: AuditHead,
    },
}

impl std::fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AlreadySuperseded => f.write_str("the credential already has a replacement"),
            Self::UnknownCredential => f.write_str("no such credential"),
            Self::UnknownBatch => f.write_str("no such print batch"),
            Self::SerialInUse => f.write_str("the serial is already in use"),
            Self::StatusIndexInUse => f.write_str("the status index is already in use"),
            Self::BatchIdInUse => f.write_str("the print batch id is already in use"),
            Self::JobIdInUse => f.write_str("the job id is already in use"),
            Self::KeySetSequenceInUse => f.write_str("a key set with this sequence is stored"),
            Self::PublicationSequenceInUse => {
                f.write_str("a publication with this sequence is stored")
            }
            Self::CardKeyInUse => {
                f.write_str("the card public key is already bound to a credential")
            }
            Self::StaleAuditHead { sealed_on, head } => write!(
                f,
                "audit entries sealed onto entry {} but the log's head is entry {}: another writer committed first",
                sealed_on.entries, head.entries
            ),
        }
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

/// The compare of the compare-and-append: every record must follow the one before it,
/// the first one the log's head (the Store contract, rule 1). Each backend calls
/// it inside its write transaction, after reading the head under its lock.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(super) fn check_appendable(
    head: AuditHead,
    records: &[AuditRecord],
) -> Result<(), RegistryError> {
    let mut tail = head;
    for r in records {
        let sealed_on = AuditHead {
            entries: r.seq.wrapping_sub(1),
            hash: r.prev_hash,
        };
        if r.seq == 0 || sealed_on != tail {
            return Err(RegistryError::Conflict(ConflictKind::StaleAuditHead {
                sealed_on,
                head: tail,
            }));
        }
        tail = AuditHead {
            entries: r.seq,
            hash: r.hash,
        };
    }
    Ok(())
}

/// Where a registry is kept: a handful of reads and one atomic write, [`Store::apply`].
///
/// The workflow ([`Registry`](super::Registry)) owns the registry's rules. It reads the
/// audit head before anything else, checks by reading what reads can check (the
/// registry is not created yet; a card to replace is held and has no replacement; a
/// key may sign), composes a [`Change`] and seals its audit events onto the head it
/// read. A backend makes each change one transaction: all of it or nothing, audit
/// entries included. Several handles (processes, issuing offices) may write to one
/// database, and a check made by reading can be overtaken by another writer's commit,
/// so **the backend must guarantee these constraints inside the transaction**. A change
/// that would break one fails as a whole with the error named here, and writes nothing:
///
/// 1. **Audit compare-and-append.** [`Change::audit`] is appended only if the first
///    entry's `seq - 1` and `prev_hash` are the log's head at commit time and each
///    entry follows the one before ([`ConflictKind::StaleAuditHead`]). Why: the
///    workflow seals entries onto the head it read; without this check two writers
///    that read the same head would both append and the chain would fork, or carry an
///    entry whose hash does not chain. As every change the workflow makes appends to
///    the log, this one check also makes every read a change was composed from
///    race-free: if anything was committed since, the change is refused.
/// 2. **One replacement per card**: `supersedes` is unique among credentials
///    ([`ConflictKind::AlreadySuperseded`]) and names a credential the store holds,
///    earlier credentials of the same change included ([`ConflictKind::UnknownCredential`]).
///    Why: two replacements give a holder two active cards; the workflow reads "no
///    replacement yet" first, but only the database sees a replacement another writer
///    committed in between, or a change composed outside the workflow.
/// 3. **Unique serial** ([`ConflictKind::SerialInUse`]): a serial names one credential
///    for good, and is the key every other record uses.
/// 4. **Unique status index** ([`ConflictKind::StatusIndexInUse`]): two cards on one
///    index share one status. The allocator picks unused indexes from a read, so only
///    the database catches another writer's pick.
/// 5. **Unique key-set sequence** ([`ConflictKind::KeySetSequenceInUse`]) and **unique
///    publication sequence** ([`ConflictKind::PublicationSequenceInUse`]): two signed
///    objects at one sequence are equivocation, which doors refuse.
/// 6. **Unique print batch id** ([`ConflictKind::BatchIdInUse`]) and **job id**
///    ([`ConflictKind::JobIdInUse`]): both are allocated as the largest read plus one,
///    so two writers can pick the same.
/// 7. **References exist**: a credential's print batch ([`ConflictKind::UnknownBatch`]),
///    a status change's credential ([`ConflictKind::UnknownCredential`]).
/// 8. **One registry per store**: [`Change::create`] on a store that holds a registry
///    fails with [`RegistryError::AlreadyCreated`].
/// 9. **Unique card key** ([`ConflictKind::CardKeyInUse`]): a card public key is bound
///    to one credential at most (credentials without one are not constrained). Why: a
///    chip's key in two credentials lets one card answer for both holders; bulk work
///    skips keys it reads as bound, but only the database sees another writer's.
///
/// Reads see every change committed through any handle. A backend refuses nothing
/// else (the workflow's rules are the workflow's), and reports storage failures as
/// [`RegistryError::Storage`]. `registry::conformance` (feature `conformance`) checks
/// every rule above on a backend, two writers included.
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
    /// Credentials matching `filter`, each once. [`CredentialFilter::All`] reads them in
    /// the order they were stored; a filter naming several batches, serials or holders
    /// should keep that order within each one (bulk work reads in it, so that its
    /// writes touch neighbouring pages), which the conformance suite does not require.
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
    /// Every card public key bound to a credential, in any order.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn card_keys(&self) -> Result<Vec<CardPublicKey>, RegistryError>;
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
    /// Every key set installed, oldest first: the registry's memory of every key its
    /// root ever revoked (a later set that leaves a key out does not forget it).
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn key_sets(&self) -> Result<Vec<KeySetRecord>, RegistryError>;
    /// The whole audit log, in order.
    ///
    /// # Errors
    /// [`RegistryError`] on a storage failure.
    fn audit_log(&self) -> Result<Vec<AuditRecord>, RegistryError>;

    /// The HR roster: every holder who should hold a card, ordered by pay number.
    ///
    /// # Errors
    /// Storage failures.
    fn roster(&self) -> Result<Vec<super::HolderRequest>, RegistryError>;
    /// Commits `change` atomically, appending its sealed audit entries if the log's
    /// head is still the one they were sealed onto.
    ///
    /// # Errors
    /// [`RegistryError::Conflict`] if it would break a constraint of the contract
    /// above, [`RegistryError::AlreadyCreated`] for a second creation; nothing is
    /// written then.
    fn apply(&mut self, change: &Change) -> Result<(), RegistryError>;
}

/// The integers an SQL backend stores for a status and a revocation reason: the one
/// mapping on the registry side, so that every backend of this crate writes the same
/// numbers. A status is 0 valid, 1 suspended, 2 revoked (SQLite's `credential_status`
/// view reads them too); a reason is its position in [`RevocationReason::ALL`], the
/// order in which the wire format numbers reasons as well.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) mod codes {
    use crate::model::Serial;
    use crate::model::{Holder, Kind, PhotoDigest, RevocationReason, Status, UnixTime};
    use crate::model::{Validity, Vetting};
    use crate::registry::HolderRequest;

    use super::{NotARegistry, RegistryError};

    /// A stored value that does not read as what this crate writes: the store at
    /// `path` (a file or a server) is corrupt.
    pub(crate) fn corrupt(path: &str) -> RegistryError {
        RegistryError::NotARegistry {
            path: path.to_owned(),
            detail: NotARegistry::Corrupt,
        }
    }

    /// An unsigned count or time as the stores' signed 64-bit integers (saturating).
    pub(crate) fn i64_of(v: u64) -> i64 {
        i64::try_from(v).unwrap_or(i64::MAX)
    }

    /// A stored reason and time: `Some(None)` when there is none, `None` when unreadable.
    pub(crate) fn stored_reason(
        reason: Option<i64>,
        at: Option<i64>,
    ) -> Option<Option<(RevocationReason, UnixTime)>> {
        match (reason, at) {
            (Some(r), Some(at)) => Some(Some((reason_of(r)?, UnixTime(u64::try_from(at).ok()?)))),
            _ => Some(None),
        }
    }

    /// A stored serial: `None` unless it is 16 bytes.
    pub(crate) fn serial_of(bytes: &[u8]) -> Option<Serial> {
        Some(Serial(bytes.try_into().ok()?))
    }

    /// A roster entry as stored (JSON, one text column): every backend stores it alike.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct RosterRow {
        kind: Kind,
        pay_number: String,
        name: String,
        rank: String,
        unit: String,
        photo: String,
        vetting: Vetting,
        not_before: u64,
        not_after: u64,
    }

    /// A roster entry's stored form.
    pub(crate) fn roster_entry(r: &HolderRequest) -> String {
        let row = RosterRow {
            kind: r.kind,
            pay_number: r.holder.pay_number().to_owned(),
            name: r.holder.name().to_owned(),
            rank: r.holder.rank().to_owned(),
            unit: r.holder.unit().to_owned(),
            photo: crate::model::hex(&r.holder.photo().0),
            vetting: r.vetting,
            not_before: r.validity.not_before.0,
            not_after: r.validity.not_after.0,
        };
        // Plain strings, numbers and unit enums: serialising cannot fail.
        serde_json::to_string(&row).unwrap_or_default()
    }

    /// Reads a stored roster entry back (`None` if it is not one: a corrupt store).
    pub(crate) fn roster_entry_of(text: &str) -> Option<HolderRequest> {
        let row: RosterRow = serde_json::from_str(text).ok()?;
        let mut photo = [0u8; 32];
        crate::model::parse_hex(&row.photo, &mut photo)?;
        Some(HolderRequest {
            kind: row.kind,
            holder: Holder::new(
                row.pay_number,
                row.name,
                row.rank,
                row.unit,
                PhotoDigest(photo),
            )
            .ok()?,
            vetting: row.vetting,
            validity: Validity::new(UnixTime(row.not_before), UnixTime(row.not_after)).ok()?,
        })
    }

    /// A status's stored code.
    pub(crate) fn status(s: Status) -> i64 {
        match s {
            Status::Valid => 0,
            Status::Suspended => 1,
            Status::Revoked => 2,
        }
    }

    /// The status a stored code names, if any.
    pub(crate) fn status_of(code: i64) -> Option<Status> {
        match code {
            0 => Some(Status::Valid),
            1 => Some(Status::Suspended),
            2 => Some(Status::Revoked),
            _ => None,
        }
    }

    /// A reason's stored code.
    pub(crate) fn reason(r: RevocationReason) -> i64 {
        i64::from(r.code())
    }

    /// The reason a stored code names, if any.
    pub(crate) fn reason_of(code: i64) -> Option<RevocationReason> {
        RevocationReason::from_code(u8::try_from(code).ok()?)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_status_and_reason_round_trips_through_its_code() {
            for s in [Status::Valid, Status::Suspended, Status::Revoked] {
                assert_eq!(status_of(status(s)), Some(s));
            }
            for r in RevocationReason::ALL {
                assert_eq!(reason_of(reason(r)), Some(r));
            }
            assert_eq!(status_of(3), None);
            assert_eq!(reason_of(-1), None);
        }
    }
}

/// Serde for bytes: one base64 string.
mod bytes_base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    pub(super) fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        use serde::de::Error as _;
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(D::Error::custom)
    }
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
