//! The issuer's registry: every credential it issued, who printed it, a hash-chained
//! audit log and resumable jobs, over a [`Store`].
//!
//! [`Registry`] is the workflow. It issues rosters in bulk, changes individual
//! statuses, publishes signed lists, builds print manifests and checks the audit
//! chain; an [`Incident`] goes through [`Registry::plan`] (a dry run),
//! [`Registry::declare`] (revoke and publish in one commit) and [`Registry::resume`]
//! (replacements in chunks), or [`Registry::execute`] for all three.
//!
//! Every method takes `now` (and, where it draws randomness, `rng`); the store is the
//! only I/O. Bulk work runs in chunks of [`CHUNK`]: each chunk is one atomic
//! [`Change`], and a job record makes the work resumable after a crash.
//!
//! The layers, bottom up: `incident` (plain data), [`audit`] (the hash chain), `store`
//! (the [`Store`] contract, its records and [`RegistryError`]), `runner` (chunked
//! signing and commits), this module (the [`Registry`] type), `reissue` (incidents),
//! `manifest` (what a printer receives); the static published layout is written at the
//! crate's edge (`net`, `Registry::publish_to`). The SQLite backend, [`SqliteStore`], sits at
//! the crate's edge (feature `sqlite`).

pub mod audit;
mod cards;
#[cfg(feature = "conformance")]
pub mod conformance;
mod incident;
mod manifest;
mod reissue;
mod roster;
mod runner;
// The backend at the edge: it uses the store contract and nothing uses it but the
// re-export below.
#[cfg(feature = "postgres")]
mod postgres;
// Either backend chosen at run time from a `--db` string (tools use it).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod any;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

use std::borrow::Cow;
use std::collections::HashSet;

use rand::CryptoRng;
use sha2::Digest as _;

use crate::issue::IssuerKey;
use crate::issue::KeySetDraft;
use crate::issue::{IssuerStatusList, Publication};
use crate::model::Vetting;
use crate::model::{
    AuditHead, Holder, KeyId, KeyUsage, Kind, PrintBatchId, Serial, UnixTime, Validity,
};
use crate::model::{RevocationReason, Status};
use crate::verify::DEFAULT_CLOCK_SKEW_SECS;
use crate::verify::KeySetError;
use crate::verify::list_state_digest;
use crate::verify::{KeySet, RootPublicKey};

use audit::AuditEvent;
use runner::{Draft, NewCard, Race, Run, commit, commit_retrying, count, draw_cards, retrying};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use store::codes;

pub use cards::{BlankCardList, BlankCards, BlankCardsError};
pub use incident::Incident;
pub use manifest::{PRINTED_FIELDS, PrintManifest, PrintedCard};
pub use reissue::{Declared, Plan, ReissueReport};
pub use roster::{
    DEFAULT_MAX_LEAVERS, MAX_LEAVERS_SUBJECT, PendingCard, RosterApplied, RosterField, RosterLeave,
    RosterMove, RosterPlan,
};
pub use runner::{
    CHUNK, Hooks, MAX_CHUNK, MAX_RACE_ATTEMPTS, Progress, RACE_BACKOFF, RACE_BACKOFF_MAX,
};
pub use store::{
    AffectedCards, Change, ConflictKind, CredentialFilter, CredentialRecord, JobKind, JobRecord,
    KeySetRecord, NotARegistry, PrintBatch, PublicationRecord, RegistryError, RegistryMeta,
    RosterChange, SCHEMA_VERSION, StatusChange, StatusEntry, StatusState, Store, WrongKey,
};

/// The embedded SQLite backend (feature `sqlite`), at the registry's edge.
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Longest annotation subject, in bytes ([`Registry::annotate`]).
pub const MAX_ANNOTATION_SUBJECT_LEN: usize = 64;
/// Longest annotation text, in bytes ([`Registry::annotate`]): an audit entry stays small.
pub const MAX_ANNOTATION_LEN: usize = 4096;

/// The registry on a PostgreSQL server (feature `postgres`), at the registry's edge.
#[cfg(feature = "postgres")]
pub use postgres::{MAX_TX_ATTEMPTS, PostgresError, PostgresStore};

/// A store chosen at run time: `AnyStore::open("postgres://...")` or a file path.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use any::{AnyStore, BackendNotBuilt, POSTGRES_SCHEMES};

/// One holder to issue a card for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderRequest {
    /// Warrant card or staff pass.
    pub kind: Kind,
    /// Who.
    pub holder: Holder,
    /// Clearance.
    pub vetting: Vetting,
    /// When the card may be used.
    pub validity: Validity,
}

/// Counts of the registry's credentials, with scope entries applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Every credential ever issued.
    pub issued: u64,
    /// Valid, not suspended, not replaced: cards that open doors.
    pub active: u64,
    /// Revoked, individually or by a scope entry.
    pub revoked: u64,
    /// Suspended (and not revoked).
    pub suspended: u64,
    /// Replaced by a reissue.
    pub superseded: u64,
}

/// What a bulk issue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueReport {
    /// The batch (`None` if every holder already had a card and nothing was opened).
    pub batch: Option<PrintBatchId>,
    /// Issued by this call.
    pub issued_now: u64,
    /// In the batch in all.
    pub in_batch: u64,
    /// Whether every holder of the roster has a card in the batch.
    pub finished: bool,
}

/// `wanted`, cut to the signing key's window: a card cannot outlive the key that signs
/// it (doors would refuse it), so a roster's "five years" ends with the key's window
/// when that ends first. A window that does not overlap the key's is left as it is
/// (and signing refuses it, naming the key).
fn within(wanted: Validity, key: Validity) -> Validity {
    let not_before = wanted.not_before.max(key.not_before);
    let not_after = wanted.not_after.min(key.not_after);
    Validity::new(not_before, not_after).unwrap_or(wanted)
}

/// Where [`Registry::issue_batch`] issues, and what it already knows.
struct IssueBatch<'a> {
    key: &'a IssuerKey,
    supplier: &'a str,
    /// The open issue job for this supplier and its batch, if any.
    open: Option<(u64, PrintBatchId)>,
    /// The audit head read first.
    head: AuditHead,
    /// How many credentials the open job's batch already holds (0 without one).
    already: usize,
    /// With it, finishing also revokes replaced cards and publishes the list.
    next_update: Option<UnixTime>,
}

/// The issuer's registry over a store.
///
/// Several registries (processes, issuing offices) may work on one store, each through
/// its own handle. Every operation reads the store's audit head before anything else
/// and commits only if that is still the head (the [`Store`] contract, rule 1): an
/// operation overtaken by another handle's commit fails with
/// [`RegistryError::Conflict`]`(`[`ConflictKind::StaleAuditHead`]`)`, writes nothing,
/// and may simply be run again.
pub struct Registry<S: Store> {
    store: S,
    meta: RegistryMeta,
    /// Credentials per atomic chunk of bulk work, if set ([`Self::with_chunk_size`]);
    /// otherwise [`runner::default_chunk`] of the run's size.
    chunk: Option<usize>,
    /// The key set in force: the only keys the registry signs with.
    key_set: KeySet,
}

impl<S: Store> std::fmt::Debug for Registry<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl<S: Store> Registry<S> {
    /// Creates a registry in an empty store for the issuer of `root`, with the
    /// root-signed `key_set` naming the keys it may sign with, and publishes the first
    /// (empty) list signed by `key`.
    ///
    /// # Errors
    /// [`RegistryError::AlreadyCreated`]; [`RegistryError::KeySet`] if the set is not
    /// signed by `root`; [`RegistryError::WrongKey`] if `key` is not certified in it
    /// for lists; [`RegistryError::Status`] for a bad capacity.
    pub fn create(
        mut store: S,
        root: &RootPublicKey,
        key_set: &[u8],
        key: &IssuerKey,
        capacity: u32,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<Self, RegistryError> {
        // The head first (see `commit`), then the read check; the store's rule 8 is the
        // backstop for a creation that races this one.
        let head = store.audit_head()?;
        if store.meta()?.is_some() {
            return Err(RegistryError::AlreadyCreated);
        }
        let set = root.verify_key_set(key_set, now, DEFAULT_CLOCK_SKEW_SECS)?;
        let meta = RegistryMeta {
            issuer: root.issuer().clone(),
            capacity,
            root: root.clone(),
        };
        check_key_against(&meta, &set, &[], key, KeyUsage::Lists)?;
        let mut list = IssuerStatusList::new(meta.issuer.clone(), capacity)?;
        let publication = list.publish_at(key, now, next_update, head)?;
        let mut draft = Draft::default();
        draft.change.create = Some(meta.clone());
        draft.event(
            now,
            AuditEvent::RegistryCreated {
                issuer: meta.issuer.to_string(),
                capacity,
                root_key_id: root.key_id(),
            },
        );
        add_key_set(&mut draft, None, &set, key_set, now);
        add_publication(&mut draft, publication, now);
        commit(&mut store, head, draft)?;
        Ok(Self {
            store,
            meta,
            chunk: None,
            key_set: set,
        })
    }

    /// Opens an existing registry, checking its stored key set under its root.
    ///
    /// # Errors
    /// [`RegistryError::Empty`] if the store holds none; [`RegistryError::KeySet`] if
    /// the stored key set no longer checks under the stored root.
    pub fn open(store: S) -> Result<Self, RegistryError> {
        let meta = store.meta()?.ok_or(RegistryError::Empty)?;
        let record = store.latest_key_set()?.ok_or(RegistryError::Empty)?;
        let key_set = meta.root.verify_key_set(
            &record.bytes,
            record.installed_at,
            DEFAULT_CLOCK_SKEW_SECS,
        )?;
        Ok(Self {
            store,
            meta,
            chunk: None,
            key_set,
        })
    }

    /// The issuer's root, as every door of the issuer installs it.
    pub fn root(&self) -> &RootPublicKey {
        &self.meta.root
    }

    /// The key set in force: the keys the registry signs with.
    pub fn key_set(&self) -> &KeySet {
        &self.key_set
    }

    /// The signed bytes of the key set in force, to publish beside the lists.
    ///
    /// # Errors
    /// On a storage failure.
    pub fn key_set_bytes(&self) -> Result<Vec<u8>, RegistryError> {
        Ok(self
            .store
            .latest_key_set()?
            .map(|r| r.bytes)
            .unwrap_or_default())
    }

    /// A draft of the next key set: the keys in force, sequence + 1. Certify or revoke
    /// keys in it, have the root sign [`KeySetDraft::to_be_signed`] wherever the root
    /// is kept, and give the result to [`Self::install_key_set`].
    #[must_use]
    pub fn draft_key_set(&self, now: UnixTime) -> KeySetDraft {
        crate::issue::KeySetDraft::next_after(&self.key_set, now)
    }

    /// Installs a newer root-signed key set: from then on the registry signs only with
    /// the keys it certifies and does not revoke. Every key it certifies and revokes
    /// is an audit event.
    ///
    /// # Errors
    /// [`RegistryError::KeySet`] if it is not signed by the registry's root, not newer
    /// than the set in force, or lifts a revocation.
    pub fn install_key_set(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), RegistryError> {
        retrying(|| self.install_key_set_once(bytes, now))
    }

    /// One attempt of [`Self::install_key_set`], from its first read to its commit.
    fn install_key_set_once(&mut self, bytes: &[u8], now: UnixTime) -> Result<(), RegistryError> {
        let head = self.store.audit_head()?;
        let in_force = self.key_set_in_force()?;
        let set = self
            .meta
            .root
            .verify_key_set(bytes, now, DEFAULT_CLOCK_SKEW_SECS)?;
        if set.sequence() <= in_force.sequence() {
            return Err(KeySetError::Rollback {
                held: in_force.sequence(),
                offered: set.sequence(),
            }
            .into());
        }
        // Revocation is permanent: no set may certify (unrevoked) a key that any set
        // installed before revoked, even one that a later set left out. Read from the
        // store, so every handle and process on it remembers.
        let mut revoked: Vec<KeyId> = Vec::new();
        for record in self.store.key_sets()? {
            let earlier = self.meta.root.verify_key_set(
                &record.bytes,
                record.installed_at,
                DEFAULT_CLOCK_SKEW_SECS,
            )?;
            revoked.extend(
                earlier
                    .entries()
                    .iter()
                    .filter(|e| e.revoked.is_some())
                    .map(|e| e.key.key_id()),
            );
        }
        if let Some(lifted) = set
            .entries()
            .iter()
            .find(|e| e.revoked.is_none() && revoked.contains(&e.key.key_id()))
        {
            return Err(KeySetError::RevocationLifted {
                key_id: lifted.key.key_id(),
            }
            .into());
        }
        let mut draft = Draft::default();
        add_key_set(&mut draft, Some(&in_force), &set, bytes, now);
        commit(&mut self.store, head, draft)?;
        self.key_set = set;
        Ok(())
    }

    /// Sets how many credentials each atomic chunk of bulk work holds (by default
    /// [`CHUNK`], or an eighth of a larger run, at most [`MAX_CHUNK`]).
    #[must_use]
    pub fn with_chunk_size(mut self, chunk: usize) -> Self {
        self.chunk = Some(chunk.max(1));
        self
    }

    /// The chunk size of a run of `cards` credentials.
    fn chunk_for(&self, cards: usize) -> usize {
        self.chunk.unwrap_or_else(|| runner::default_chunk(cards))
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, given back (to open it again, or to hand it to another tool).
    #[must_use]
    pub fn into_store(self) -> S {
        self.store
    }

    /// The store, mutably (for tests and maintenance).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// What the registry is for.
    pub fn meta(&self) -> &RegistryMeta {
        &self.meta
    }

    /// The latest publication.
    ///
    /// # Errors
    /// On a storage failure.
    pub fn latest_publication(&self) -> Result<Option<PublicationRecord>, RegistryError> {
        self.store.latest_publication()
    }

    /// When the latest published list stops being in force (its next update), read
    /// from the stored list; `None` before the first publication. A publisher re-signs
    /// before this rather than hand doors a list they would refuse as stale.
    ///
    /// # Errors
    /// [`RegistryError::StoredList`] if the stored list does not decode; storage
    /// failures.
    pub fn latest_next_update(&self) -> Result<Option<UnixTime>, RegistryError> {
        let Some(latest) = self.store.latest_publication()? else {
            return Ok(None);
        };
        let parsed =
            crate::wire::decode_list(&latest.list).map_err(|source| RegistryError::StoredList {
                sequence: latest.sequence,
                source,
            })?;
        Ok(Some(parsed.header.next_update))
    }

    /// Refuses, before anything is signed or written, a key that may not sign `usage`
    /// for this registry: another issuer's, not certified by the key set in force (or
    /// with other bytes or another window than certified), revoked by it, declared
    /// compromised by an issuer-key incident, or certified for something else.
    fn check_key(&self, key: &IssuerKey, usage: KeyUsage) -> Result<(), RegistryError> {
        check_key_against(
            &self.meta,
            self.key_set_in_force()?.as_ref(),
            &self.compromised_keys()?,
            key,
            usage,
        )
    }

    /// Whether `key` may sign lists for this registry now (certified for lists by the
    /// key set in force, unrevoked, not declared compromised): the check before every
    /// list signature, for views signed beside the lists (`net::standards`).
    ///
    /// # Errors
    /// [`RegistryError::WrongKey`] naming why not; storage failures.
    pub fn check_list_key(&self, key: &IssuerKey) -> Result<(), RegistryError> {
        self.check_key(key, KeyUsage::Lists)
    }

    /// The key set in force as stored: the one this handle holds, unless another
    /// handle on the same store installed a newer one since (checked under the root
    /// again, then).
    fn key_set_in_force(&self) -> Result<Cow<'_, KeySet>, RegistryError> {
        let record = self.store.latest_key_set()?.ok_or(RegistryError::Empty)?;
        if record.sequence == self.key_set.sequence() {
            return Ok(Cow::Borrowed(&self.key_set));
        }
        Ok(Cow::Owned(self.meta.root.verify_key_set(
            &record.bytes,
            record.installed_at,
            DEFAULT_CLOCK_SKEW_SECS,
        )?))
    }

    /// Keys the registry declared compromised: those named by issuer-key incidents. It
    /// refuses to sign with them; an office choosing its signing key skips them.
    ///
    /// # Errors
    /// What the store reports.
    pub fn compromised_keys(&self) -> Result<Vec<KeyId>, RegistryError> {
        Ok(self
            .store
            .jobs()?
            .into_iter()
            .filter_map(|j| match j.kind {
                JobKind::Reissue {
                    incident: Incident::IssuerKey { key_id },
                    ..
                } => Some(key_id),
                _ => None,
            })
            .collect())
    }

    /// The open issue job at `supplier` and its batch (`None` if no job is open).
    ///
    /// # Errors
    /// [`RegistryError::JobOpen`] if another job is open.
    fn open_issue_job(&self, supplier: &str) -> Result<Option<(u64, PrintBatchId)>, RegistryError> {
        let batches = self.store.batches()?;
        match self.open_job()? {
            Some(JobRecord {
                id,
                kind: JobKind::Issue { batch },
                ..
            }) if batches
                .iter()
                .any(|b| b.id == batch && b.supplier == supplier) =>
            {
                Ok(Some((id, batch)))
            }
            Some(open) => Err(RegistryError::JobOpen { job: open.id }),
            None => Ok(None),
        }
    }

    fn open_job(&self) -> Result<Option<JobRecord>, RegistryError> {
        Ok(self
            .store
            .jobs()?
            .into_iter()
            .find(|j| j.finished_at.is_none()))
    }

    fn next_job_id(&self) -> Result<u64, RegistryError> {
        next_job_id_in(&self.store)
    }

    fn next_batch_id(&self) -> Result<PrintBatchId, RegistryError> {
        next_batch_id_in(&self.store)
    }

    /// The issuer's status list as stored, ready to change and publish.
    fn status_list(&self) -> Result<IssuerStatusList, RegistryError> {
        let state = self.store.status_state()?;
        let digest = match self.store.latest_publication()? {
            Some(p) => {
                list_state_digest(&p.list)
                    .map_err(|source| RegistryError::StoredList {
                        sequence: p.sequence,
                        source,
                    })?
                    .0
            }
            None => [0; 32],
        };
        Ok(IssuerStatusList::restore(
            self.meta.issuer.clone(),
            self.meta.capacity,
            state.sequence,
            digest,
            state.entries,
            state.scopes,
        )?)
    }

    /// Issues one card per holder of `roster` into a new print batch at `supplier`,
    /// each bound to a blank card's public key drawn from `cards` (all drawn before
    /// anything is signed or written; keys already bound are skipped).
    /// Idempotent and resumable: holders who already hold an active card are skipped,
    /// and if an issue job is open for this supplier the rest go into its batch.
    ///
    /// # Errors
    /// [`RegistryError::JobOpen`] if another job is open;
    /// [`RegistryError::NotEnoughBlankCards`] if `cards` runs out (nothing written);
    /// [`RegistryError::BlankCards`] if the source fails (nothing written); issuing or
    /// storage failures. (Card keys are checked when `cards` receives them, not here.)
    #[allow(clippy::too_many_arguments)]
    pub fn issue_roster(
        &mut self,
        key: &IssuerKey,
        supplier: &str,
        roster: &[HolderRequest],
        cards: &mut (impl BlankCards + ?Sized),
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
        hooks: &mut Hooks<'_>,
    ) -> Result<IssueReport, RegistryError> {
        let head = self.store.audit_head()?;
        self.check_key(key, KeyUsage::Credentials)?;
        let open = self.open_issue_job(supplier)?;
        // One active card per holder: holders who already hold one (from this roster's
        // earlier, interrupted run, or from anywhere else) are skipped. This makes the
        // call idempotent.
        let scopes = self.store.status_state()?.scopes;
        let all = self.store.credentials(&CredentialFilter::All)?;
        let mut holding: HashSet<&str> = all
            .iter()
            .filter(|r| r.superseded_by.is_none() && r.status_under(&scopes) != Status::Revoked)
            .map(|r| r.pay_number.as_str())
            .collect();
        let todo: Vec<(HolderRequest, Option<Serial>)> = roster
            .iter()
            .filter(|r| holding.insert(r.holder.pay_number()))
            .map(|r| (r.clone(), None))
            .collect();
        self.issue_batch(
            IssueBatch {
                key,
                supplier,
                open,
                head,
                already: open.map_or(0, |(_, batch)| {
                    all.iter().filter(|r| r.print_batch == batch).count()
                }),
                next_update: None,
            },
            todo,
            cards,
            now,
            rng,
            hooks,
        )
    }

    /// Issues `todo` (each holder, and the card a replacement supersedes) into the
    /// open job's batch, or a new batch at `b.supplier`; finishing the job closes it,
    /// and with `b.next_update` also revokes (as superseded) every card a replacement
    /// replaced that no scope or status has revoked yet, publishing the list in the
    /// same commit.
    fn issue_batch(
        &mut self,
        b: IssueBatch<'_>,
        todo: Vec<(HolderRequest, Option<Serial>)>,
        cards: &mut (impl BlankCards + ?Sized),
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
        hooks: &mut Hooks<'_>,
    ) -> Result<IssueReport, RegistryError> {
        let IssueBatch {
            key,
            supplier,
            open,
            mut head,
            already,
            next_update,
        } = b;
        let card_keys = draw_cards(&self.store, cards, todo.len())?;
        let (job, batch) = match open {
            Some(open) => open,
            None if todo.is_empty() => {
                return Ok(IssueReport {
                    batch: None,
                    issued_now: 0,
                    in_batch: 0,
                    finished: true,
                });
            }
            None => {
                // Lost to another writer: the ids are read again; another job opened
                // meanwhile (for this supplier or any) is a real conflict.
                let mut ids = (PrintBatchId(0), 0);
                head = commit_retrying(
                    &mut self.store,
                    head,
                    |store| {
                        ids = (next_batch_id_in(store)?, next_job_id_in(store)?);
                        let (batch, id) = ids;
                        let mut draft = Draft::default();
                        draft.change.batches.push(PrintBatch {
                            id: batch,
                            supplier: supplier.to_owned(),
                            created_at: now,
                        });
                        draft.change.jobs.push(JobRecord {
                            id,
                            kind: JobKind::Issue { batch },
                            started_at: now,
                            finished_at: None,
                        });
                        draft.event(
                            now,
                            AuditEvent::BatchCreated {
                                batch,
                                supplier: supplier.to_owned(),
                            },
                        );
                        Ok(draft)
                    },
                    |store| Ok(store.jobs()?.iter().all(|j| j.finished_at.is_some())),
                )?;
                (ids.1, ids.0)
            }
        };
        // Whether any card of the batch replaces another: one of this run's, or any
        // signed by an earlier, interrupted run (not known without reading them).
        let maybe_replaces = already > 0 || todo.iter().any(|(_, s)| s.is_some());
        let cards: Vec<NewCard> = todo
            .iter()
            .zip(card_keys)
            .map(|((r, supersedes), card_key)| NewCard {
                kind: r.kind,
                holder: r.holder.clone(),
                vetting: r.vetting,
                validity: within(r.validity, key.validity()),
                supersedes: *supersedes,
                card_key,
            })
            .collect();
        let run = Run {
            key,
            batch,
            now,
            chunk: self.chunk_for(cards.len()),
            capacity: self.meta.capacity,
            progress: Progress {
                done: already,
                total: already + todo.len(),
            },
            event: |batch, issued| AuditEvent::Issued {
                batch,
                credentials: issued
                    .iter()
                    .map(|r| (r.serial, r.status_index.0))
                    .collect(),
            },
        }
        .run(&mut self.store, head, cards, rng, hooks)?;
        let (done, issued_now) = (run.done, count(run.done - already));
        if !run.finished {
            return Ok(IssueReport {
                batch: Some(batch),
                issued_now,
                in_batch: count(done),
                finished: false,
            });
        }
        // Closing the job, recomposed on a fresh head if another writer's unrelated
        // change came first (the replaced cards and the list are read again); the job
        // closed meanwhile by another worker is a real conflict.
        let mut head = run.head;
        let mut race = Race::default();
        loop {
            let mut draft = Draft::default();
            if let Some(next_update) = next_update.filter(|_| maybe_replaces) {
                self.revoke_replaced(key, batch, &mut draft, head, now, next_update)?;
            }
            draft.change.finished_jobs.push((job, now));
            draft.event(
                now,
                AuditEvent::JobFinished {
                    job,
                    issued: count(done),
                },
            );
            match commit(&mut self.store, head, draft) {
                Err(e) if race.again(&e) => {
                    let open = self
                        .store
                        .jobs()?
                        .iter()
                        .any(|j| j.id == job && j.finished_at.is_none());
                    if !open {
                        return Err(e);
                    }
                    head = self.store.audit_head()?;
                }
                other => {
                    other?;
                    break;
                }
            }
        }
        Ok(IssueReport {
            batch: Some(batch),
            issued_now,
            in_batch: count(done),
            finished: true,
        })
    }

    /// Adds to `draft` the revocation (as superseded) of every card a replacement in
    /// `batch` replaced and that nothing has revoked yet, and the list that publishes
    /// it. Reads the batch and the cards it replaces, not the whole registry.
    fn revoke_replaced(
        &self,
        key: &IssuerKey,
        batch: PrintBatchId,
        draft: &mut Draft,
        head: AuditHead,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<(), RegistryError> {
        let superseded: Vec<Serial> = self
            .store
            .credentials(&CredentialFilter::PrintBatches(vec![batch]))?
            .into_iter()
            .filter_map(|r| r.supersedes)
            .collect();
        if superseded.is_empty() {
            return Ok(());
        }
        let scopes = self.store.status_state()?.scopes;
        let replaced: Vec<CredentialRecord> = self
            .store
            .credentials(&CredentialFilter::Serials(superseded))?
            .into_iter()
            .filter(|r| r.status_under(&scopes) != Status::Revoked)
            .collect();
        if replaced.is_empty() {
            return Ok(());
        }
        self.check_key(key, KeyUsage::Lists)?;
        let reason = RevocationReason::Superseded;
        let mut list = self.status_list()?;
        for r in &replaced {
            list.revoke(r.status_index.0, reason, now)?;
            draft
                .change
                .statuses
                .push((r.serial, Status::Revoked, Some((reason, now))));
            draft.event(
                now,
                AuditEvent::Revoked {
                    serial: r.serial,
                    reason,
                },
            );
        }
        let publication = list.publish_at(key, now, next_update, head)?;
        add_publication(draft, publication, now);
        Ok(())
    }

    /// Revokes, suspends or reinstates one credential and publishes the new list.
    ///
    /// # Errors
    /// [`RegistryError::Conflict`] for an unknown serial; [`RegistryError::Status`] if
    /// the change is not allowed (a revoked credential cannot be suspended or reinstated).
    pub fn set_status(
        &mut self,
        key: &IssuerKey,
        serial: Serial,
        status: Status,
        reason: RevocationReason,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<PublicationRecord, RegistryError> {
        retrying(|| self.set_status_once(key, serial, status, reason, now, next_update))
    }

    /// One attempt of [`Self::set_status`], from its first read to its commit.
    fn set_status_once(
        &mut self,
        key: &IssuerKey,
        serial: Serial,
        status: Status,
        reason: RevocationReason,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<PublicationRecord, RegistryError> {
        let head = self.store.audit_head()?;
        self.check_key(key, KeyUsage::Lists)?;
        let record = self
            .store
            .credentials(&CredentialFilter::Serials(vec![serial]))?
            .into_iter()
            .next()
            .ok_or(RegistryError::Conflict(ConflictKind::UnknownCredential))?;
        let index = record.status_index.0;
        let mut list = self.status_list()?;
        let (event, stored_reason) = match status {
            Status::Revoked => {
                list.revoke(index, reason, now)?;
                (AuditEvent::Revoked { serial, reason }, Some((reason, now)))
            }
            Status::Suspended => {
                list.suspend(index)?;
                (AuditEvent::Suspended { serial }, Some((reason, now)))
            }
            Status::Valid => {
                list.reinstate(index)?;
                (AuditEvent::Reinstated { serial }, None)
            }
        };
        let publication = list.publish_at(key, now, next_update, head)?;
        let mut draft = Draft::default();
        draft.change.statuses.push((serial, status, stored_reason));
        draft.event(now, event);
        let record = add_publication(&mut draft, publication, now);
        commit(&mut self.store, head, draft)?;
        Ok(record)
    }

    /// Publishes a fresh list (same statuses, next sequence, new next-update time).
    ///
    /// # Errors
    /// On a bad key or a storage failure.
    pub fn republish(
        &mut self,
        key: &IssuerKey,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<PublicationRecord, RegistryError> {
        retrying(|| {
            let head = self.store.audit_head()?;
            self.check_key(key, KeyUsage::Lists)?;
            let publication = self
                .status_list()?
                .publish_at(key, now, next_update, head)?;
            let mut draft = Draft::default();
            let record = add_publication(&mut draft, publication, now);
            commit(&mut self.store, head, draft)?;
            Ok(record)
        })
    }

    /// Whether `record` is revoked or suspended, applying scope entries.
    ///
    /// # Errors
    /// If the stored credential does not decode.
    pub fn effective_status(&self, record: &CredentialRecord) -> Result<Status, RegistryError> {
        let scopes = self.store.status_state()?.scopes;
        Ok(record.status_under(&scopes))
    }

    /// Counts of the registry's credentials, with scope entries applied.
    ///
    /// # Errors
    /// On a storage failure.
    pub fn summary(&self) -> Result<Summary, RegistryError> {
        let scopes = self.store.status_state()?.scopes;
        let mut s = Summary::default();
        for r in self.store.credentials(&CredentialFilter::All)? {
            s.issued += 1;
            match r.status_under(&scopes) {
                Status::Revoked => s.revoked += 1,
                Status::Suspended => s.suspended += 1,
                Status::Valid if r.superseded_by.is_none() => s.active += 1,
                Status::Valid => {}
            }
            if r.superseded_by.is_some() {
                s.superseded += 1;
            }
        }
        Ok(s)
    }

    /// What the supplier of `batch` receives to print it: printed fields only.
    ///
    /// # Errors
    /// On a storage failure or an undecodable stored credential.
    pub fn manifest(&self, batch: PrintBatchId) -> Result<PrintManifest, RegistryError> {
        let supplier = self
            .store
            .batches()?
            .into_iter()
            .find(|b| b.id == batch)
            .map(|b| b.supplier)
            .unwrap_or_default();
        let mut claims = Vec::new();
        for r in self
            .store
            .credentials(&CredentialFilter::PrintBatches(vec![batch]))?
        {
            claims.push(r.claims()?);
        }
        Ok(PrintManifest::new(supplier, batch, &claims))
    }

    /// Records an annotation about `subject` in the audit log, hash-chained with every
    /// other event: for instance the parameters a resumable run was started with, so
    /// that a resumption with other parameters can be refused. Read them back with
    /// [`Self::annotations`].
    ///
    /// # Errors
    /// [`RegistryError::AnnotationTooLong`] past [`MAX_ANNOTATION_SUBJECT_LEN`] or
    /// [`MAX_ANNOTATION_LEN`] (nothing written); storage failures.
    pub fn annotate(
        &mut self,
        subject: &str,
        text: &str,
        now: UnixTime,
    ) -> Result<(), RegistryError> {
        for (len, max) in [
            (subject.len(), MAX_ANNOTATION_SUBJECT_LEN),
            (text.len(), MAX_ANNOTATION_LEN),
        ] {
            if len > max {
                return Err(RegistryError::AnnotationTooLong { len, max });
            }
        }
        retrying(|| {
            let head = self.store.audit_head()?;
            let mut draft = Draft::default();
            draft.event(
                now,
                AuditEvent::Annotated {
                    subject: subject.to_owned(),
                    text: text.to_owned(),
                },
            );
            commit(&mut self.store, head, draft).map(drop)
        })
    }

    /// Every annotation about `subject`, oldest first, with the time it was recorded.
    ///
    /// # Errors
    /// On a storage failure.
    pub fn annotations(&self, subject: &str) -> Result<Vec<(UnixTime, String)>, RegistryError> {
        Ok(self
            .store
            .audit_log()?
            .into_iter()
            // Bulk entries are large: parse only those that can be annotations.
            .filter(|r| r.event_json.contains("\"annotated\""))
            .filter_map(|r| match r.event() {
                Ok(AuditEvent::Annotated { subject: s, text }) if s == subject => {
                    Some((r.at, text))
                }
                _ => None,
            })
            .collect())
    }

    /// Checks the whole audit chain, and that it holds the head every stored list
    /// committed to (so a log rewritten or truncated after a publication is caught).
    ///
    /// # Errors
    /// [`RegistryError::Audit`] naming the first broken entry or the first list whose
    /// committed entry the log lacks or holds with another hash.
    pub fn verify_audit(&self) -> Result<AuditHead, RegistryError> {
        let log = self.store.audit_log()?;
        let latest = self.store.latest_publication()?.map_or(0, |p| p.sequence);
        let mut committed = Vec::new();
        for sequence in 1..=latest {
            if let Some(p) = self.store.publication(sequence)? {
                let (_, head) = list_state_digest(&p.list)
                    .map_err(|source| RegistryError::StoredList { sequence, source })?;
                committed.push(head);
            }
        }
        Ok(audit::verify_chain_against(&log, &committed)?)
    }
}

/// See [`Registry::check_key`].
/// The next job id of `store`.
fn next_job_id_in<S: Store + ?Sized>(store: &S) -> Result<u64, RegistryError> {
    Ok(store
        .jobs()?
        .iter()
        .map(|j| j.id)
        .max()
        .unwrap_or(0)
        .saturating_add(1))
}

/// The next print batch id of `store`.
fn next_batch_id_in<S: Store + ?Sized>(store: &S) -> Result<PrintBatchId, RegistryError> {
    let max = store.batches()?.iter().map(|b| b.id.0).max().unwrap_or(0);
    Ok(PrintBatchId(max.saturating_add(1)))
}

fn check_key_against(
    meta: &RegistryMeta,
    set: &KeySet,
    compromised: &[KeyId],
    key: &IssuerKey,
    usage: KeyUsage,
) -> Result<(), RegistryError> {
    let key_id = key.key_id();
    let refuse = |why| Err(RegistryError::WrongKey { key_id, why });
    if key.issuer() != &meta.issuer {
        return refuse(WrongKey::OtherIssuer);
    }
    let Some(entry) = set.entry(key_id) else {
        return refuse(WrongKey::NotCertified);
    };
    if &entry.key != key.public() {
        return refuse(WrongKey::NotCertified);
    }
    if entry.revoked.is_some() {
        return refuse(WrongKey::Revoked);
    }
    if compromised.contains(&key_id) {
        return refuse(WrongKey::Compromised);
    }
    if !entry.usage.allows(usage) {
        return refuse(WrongKey::WrongUsage);
    }
    Ok(())
}

/// Adds a key set and its audit events to `draft`: the set, then every key it
/// certifies anew (or with another usage or window), then every key it newly revokes.
fn add_key_set(
    draft: &mut Draft,
    previous: Option<&KeySet>,
    set: &KeySet,
    bytes: &[u8],
    now: UnixTime,
) {
    draft.event(
        now,
        AuditEvent::KeySetInstalled {
            sequence: set.sequence(),
            digest: crate::model::hex(&set.digest()),
        },
    );
    for entry in set.entries() {
        let key_id = entry.key.key_id();
        let before = previous.and_then(|p| p.entry(key_id));
        let window = entry.key.validity();
        if before.is_none_or(|b| b.usage != entry.usage || b.key.validity() != window) {
            draft.event(
                now,
                AuditEvent::KeyCertified {
                    key_id,
                    usage: entry.usage,
                    not_before: window.not_before,
                    not_after: window.not_after,
                },
            );
        }
        if let Some((_, reason)) = entry.revoked
            && before.is_none_or(|b| b.revoked.is_none())
        {
            draft.event(now, AuditEvent::KeyRevoked { key_id, reason });
        }
    }
    draft.change.key_set = Some(KeySetRecord {
        sequence: set.sequence(),
        installed_at: now,
        bytes: bytes.to_vec(),
    });
}

/// Adds a publication and its audit event to `draft`; returns the stored record.
fn add_publication(draft: &mut Draft, p: Publication, now: UnixTime) -> PublicationRecord {
    let record = PublicationRecord {
        sequence: p.sequence,
        published_at: now,
        list: p.list,
        delta: p.delta,
    };
    draft.event(
        now,
        AuditEvent::Published {
            sequence: record.sequence,
            list_digest: crate::model::hex(&sha2::Sha256::digest(&record.list)),
            delta_bytes: record.delta.as_ref().map(|d| count(d.len())),
        },
    );
    draft.change.publication = Some(record.clone());
    record
}
