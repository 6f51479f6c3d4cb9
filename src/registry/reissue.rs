//! Incidents and the reissue workflow: incident -> plan (dry run) -> declare (revoke
//! and publish at once, atomically) -> reissue (replacements in atomic chunks,
//! resumable) -> final publication.
//!
//! Declaring writes, in one transaction, the scope entries (or individual
//! revocations), the signed list and delta that carry them, a reissue job naming every
//! affected credential, the new print batch and the audit events. From that commit on,
//! every verifier that fetches the list denies the affected cards. Replacements then
//! go in chunks: each chunk inserts the new credentials and marks the old ones
//! superseded in one transaction, so a crash leaves every holder with exactly their
//! old (revoked) card or their old card and exactly one replacement. Running again
//! resumes the open job.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rand::CryptoRng;
use sha2::Digest as _;

use crate::issue::IssuerKey;
use crate::model::{AuditHead, KeyUsage, Kind, PrintBatchId, Serial, UnixTime, Validity, Vetting};
use crate::model::{MAX_SCOPE_ENTRIES, RevocationReason, Scope, ScopeEntry, Status};

use super::audit::AuditEvent;
use super::incident::Incident;
use super::runner::{Draft, NewCard, Run, commit, count, draw_cards};
use super::store::{
    AffectedCards, CredentialFilter, CredentialRecord, JobKind, JobRecord, PrintBatch,
    PublicationRecord, RegistryError, Store, WrongKey,
};
use super::{BlankCards, Hooks, Progress, Registry, add_publication};

/// A dry run: what declaring the incident would do. Nothing is changed by planning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// The incident.
    pub incident: Incident,
    /// The reason that will be recorded.
    pub reason: RevocationReason,
    /// When planned.
    pub planned_at: UnixTime,
    /// The registry's audit head (entries and hash) when planned. Every change appends
    /// to the log, so a plan whose head is still the head at declaration is current; one
    /// whose head is an earlier entry of the log is stale (and recomputed); one whose
    /// head is not in the log at all was made on another registry (and refused).
    pub audit_head: AuditHead,
    /// Scope entries that will be added (one entry revokes a whole batch or key).
    pub scopes: Vec<Scope>,
    /// Credentials that will be revoked one by one (serial, status index).
    pub individual: Vec<(Serial, u32)>,
    /// Every current credential the incident covers, in ascending order of serial.
    pub affected: Vec<Serial>,
    /// Those that will be replaced (not suspended, not expired).
    pub reissue: Vec<Serial>,
    /// Their status indexes, in the same order (what the reissue job records).
    #[serde(skip)]
    reissue_indexes: Vec<u32>,
    /// Suppliers that saw the affected cards' data (replacements must go elsewhere).
    pub exposed_suppliers: Vec<String>,
    /// Affected credentials by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Affected credentials by vetting level.
    pub by_vetting: BTreeMap<String, u64>,
}

/// What declaring did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The reissue job opened.
    pub job: u64,
    /// Credentials revoked.
    pub revoked: u64,
    /// The signed list and delta that carry the revocation.
    pub publication: PublicationRecord,
}

/// What a reissue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReissueReport {
    /// The job.
    pub job: u64,
    /// The batch replacements went into.
    pub batch: PrintBatchId,
    /// Replacements committed for this job in all.
    pub reissued: u64,
    /// Whether the job finished (false if stopped by the progress hook).
    pub finished: bool,
    /// The final publication, when finished.
    pub publication: Option<PublicationRecord>,
}

impl<S: Store> Registry<S> {
    fn filter_for(
        &self,
        incident: &Incident,
    ) -> Result<(CredentialFilter, Vec<PrintBatchId>), RegistryError> {
        Ok(match incident {
            Incident::Supplier { supplier } => {
                let batches: Vec<PrintBatchId> = self
                    .store
                    .batches()?
                    .into_iter()
                    .filter(|b| &b.supplier == supplier)
                    .map(|b| b.id)
                    .collect();
                (CredentialFilter::PrintBatches(batches.clone()), batches)
            }
            Incident::PrintBatch { batch } => {
                (CredentialFilter::PrintBatches(vec![*batch]), vec![*batch])
            }
            Incident::IssuerKey { key_id } => (CredentialFilter::IssuerKey(*key_id), Vec::new()),
            Incident::Serials { serials } => {
                (CredentialFilter::Serials(serials.clone()), Vec::new())
            }
            Incident::Holders { pay_numbers } => (
                CredentialFilter::PayNumbers(pay_numbers.clone()),
                Vec::new(),
            ),
        })
    }

    /// Whether this registry's audit log has the entry `head` names (the empty head is in
    /// every log). A head is the hash of the whole chain up to it, so only this
    /// registry's own past can match.
    fn log_holds(&self, head: AuditHead) -> Result<bool, RegistryError> {
        let Some(position) = head
            .entries
            .checked_sub(1)
            .and_then(|p| usize::try_from(p).ok())
        else {
            return Ok(head == AuditHead::EMPTY);
        };
        Ok(self
            .store
            .audit_log()?
            .get(position)
            .is_some_and(|r| r.seq == head.entries && r.hash == head.hash))
    }

    /// Whether a reissue job (open or finished) was opened for `incident`.
    fn declared(&self, incident: &Incident) -> Result<bool, RegistryError> {
        Ok(self.store.jobs()?.iter().any(|j| {
            matches!(&j.kind, JobKind::Reissue { incident: declared, .. }
                if declared.is_same_as(incident))
        }))
    }

    /// Plans an incident: which credentials it affects, how they will be revoked, which
    /// will be replaced. Changes nothing.
    ///
    /// An incident covers current credentials (neither revoked nor replaced). A
    /// supplier, print batch, issuer key or list of serials names cards by something
    /// their replacements never share (another supplier, a new batch, another key, new
    /// serials), so once handled it covers nothing. A list of holders names people,
    /// who get replacements: it covers the cards they held when it was first declared,
    /// and declaring revoked all of them, so once declared it covers nothing either.
    ///
    /// # Errors
    /// On a storage failure or an undecodable stored credential.
    pub fn plan(&self, incident: &Incident, now: UnixTime) -> Result<Plan, RegistryError> {
        let (filter, batches) = self.filter_for(incident)?;
        let covered = match incident {
            Incident::Holders { .. } if self.declared(incident)? => Vec::new(),
            _ => self.store.credentials(&filter)?,
        };
        let existing_scopes = self.store.status_state()?.scopes;
        let all_batches = self.store.batches()?;
        let mut plan = Plan {
            incident: incident.clone(),
            reason: incident.default_reason(),
            planned_at: now,
            audit_head: self.store.audit_head()?,
            scopes: Vec::new(),
            individual: Vec::new(),
            affected: Vec::new(),
            reissue: Vec::new(),
            reissue_indexes: Vec::new(),
            exposed_suppliers: Vec::new(),
            by_kind: BTreeMap::new(),
            by_vetting: BTreeMap::new(),
        };
        let mut exposed = HashSet::new();
        // Counted by value, named once at the end (not a string made for every card).
        let mut by_kind: HashMap<Kind, u64> = HashMap::new();
        let mut by_vetting: HashMap<Vetting, u64> = HashMap::new();
        for record in covered {
            if record.superseded_by.is_some() {
                continue;
            }
            let status = record.status_under(&existing_scopes);
            if status == Status::Revoked {
                continue;
            }
            let claims = record.claims()?;
            plan.affected.push(record.serial);
            plan.individual.push((record.serial, record.status_index.0));
            *by_kind.entry(claims.kind).or_default() += 1;
            *by_vetting.entry(claims.vetting).or_default() += 1;
            if let Some(b) = all_batches.iter().find(|b| b.id == record.print_batch) {
                exposed.insert(b.supplier.clone());
            }
            if status == Status::Valid && claims.validity.not_after >= now {
                plan.reissue.push(record.serial);
                plan.reissue_indexes.push(record.status_index.0);
            }
        }
        for (kind, n) in by_kind {
            *plan.by_kind.entry(format!("{kind:?}")).or_default() += n;
        }
        for (vetting, n) in by_vetting {
            *plan.by_vetting.entry(vetting.to_string()).or_default() += n;
        }
        let wanted: Vec<Scope> = match incident {
            Incident::Supplier { .. } | Incident::PrintBatch { .. } => {
                batches.into_iter().map(Scope::PrintBatch).collect()
            }
            Incident::IssuerKey { key_id } => vec![Scope::IssuerKey(*key_id)],
            Incident::Serials { .. } | Incident::Holders { .. } => Vec::new(),
        };
        let new_scopes: Vec<Scope> = wanted
            .into_iter()
            .filter(|s| !existing_scopes.iter().any(|e| e.scope == *s))
            .collect();
        // One scope entry revokes a whole batch or key; fall back to individual entries
        // only if the list's scope table would overflow.
        if !new_scopes.is_empty() && existing_scopes.len() + new_scopes.len() <= MAX_SCOPE_ENTRIES {
            plan.scopes = new_scopes;
            plan.individual.clear();
        }
        plan.exposed_suppliers = exposed.into_iter().collect();
        plan.exposed_suppliers.sort();
        // Ascending, as the declaration's digest hashes them: sorted here, in the dry
        // run, not on the path from declaring to the published list.
        plan.affected.sort_unstable_by_key(serial_order);
        Ok(plan)
    }

    /// Declares an incident: revokes every affected credential and publishes the signed
    /// list and delta, all in one atomic commit, and opens the reissue job. If anything
    /// changed since the plan was made, it is recomputed at `now`, so a stale plan
    /// cannot revoke the wrong set; a plan made on another registry is refused.
    ///
    /// # Errors
    /// [`RegistryError::PlanNotFromThisRegistry`] if this registry's audit log does not
    /// hold the head the plan was made at; [`RegistryError::NothingAffected`] if the
    /// incident covers no current credential; [`RegistryError::JobOpen`];
    /// [`RegistryError::SameSupplier`] if `target_supplier` saw the affected data;
    /// [`RegistryError::WrongKey`].
    pub fn declare(
        &mut self,
        plan: &Plan,
        key: &IssuerKey,
        target_supplier: &str,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<Declared, RegistryError> {
        let head = self.store.audit_head()?;
        self.check_key(key, KeyUsage::Lists)?;
        if head != plan.audit_head && !self.log_holds(plan.audit_head)? {
            return Err(RegistryError::PlanNotFromThisRegistry {
                planned_at_entry: plan.audit_head.entries,
                entries: head.entries,
            });
        }
        if let Some(open) = self.open_job()? {
            return Err(RegistryError::JobOpen { job: open.id });
        }
        if let Incident::IssuerKey { key_id } = &plan.incident
            && *key_id == key.key_id()
        {
            return Err(RegistryError::WrongKey {
                key_id: key.key_id(),
                why: WrongKey::Compromised,
            });
        }
        let mut fresh = if head == plan.audit_head && plan.planned_at <= now {
            plan.clone()
        } else {
            self.plan(&plan.incident, now)?
        };
        fresh.reason = plan.reason;
        if fresh.affected.is_empty() {
            return Err(RegistryError::NothingAffected);
        }
        if fresh.exposed_suppliers.iter().any(|s| s == target_supplier) {
            return Err(RegistryError::SameSupplier {
                supplier: target_supplier.to_owned(),
            });
        }
        let reason = fresh.reason;
        let mut list = self.status_list()?;
        let mut draft = Draft::default();
        let job = self.next_job_id()?;
        let batch = self.next_batch_id()?;
        let digest = affected_digest(&fresh.affected);
        draft.event(
            now,
            AuditEvent::IncidentDeclared {
                job,
                incident: fresh.incident.clone(),
                affected: count(fresh.affected.len()),
                affected_digest: crate::model::hex(&digest),
            },
        );
        for scope in &fresh.scopes {
            let entry = ScopeEntry {
                scope: *scope,
                reason,
                since: now,
            };
            list.revoke_scope(entry)?;
            draft.change.scopes.push(entry);
            draft.event(
                now,
                AuditEvent::ScopeRevoked {
                    scope: *scope,
                    reason,
                    affected: count(fresh.affected.len()),
                },
            );
        }
        for &(serial, index) in &fresh.individual {
            list.revoke(index, reason, now)?;
            draft
                .change
                .statuses
                .push((serial, Status::Revoked, Some((reason, now))));
            draft.event(now, AuditEvent::Revoked { serial, reason });
        }
        if let Incident::IssuerKey { key_id } = &fresh.incident {
            draft.event(now, AuditEvent::KeyCompromised { key_id: *key_id });
        }
        let publication = list.publish_at(key, now, next_update, head)?;
        draft.change.batches.push(PrintBatch {
            id: batch,
            supplier: target_supplier.to_owned(),
            created_at: now,
        });
        draft.event(
            now,
            AuditEvent::BatchCreated {
                batch,
                supplier: target_supplier.to_owned(),
            },
        );
        draft.change.jobs.push(JobRecord {
            id: job,
            kind: JobKind::Reissue {
                incident: fresh.incident.clone(),
                affected: AffectedCards::from_indexes(
                    fresh
                        .reissue_indexes
                        .iter()
                        .copied()
                        .zip(fresh.reissue.iter().copied())
                        .collect(),
                    self.meta.capacity,
                ),
                batch,
                revoked_in: publication.sequence,
            },
            started_at: now,
            finished_at: None,
        });
        let publication = add_publication(&mut draft, publication, now);
        commit(&mut self.store, head, draft)?;
        Ok(Declared {
            job,
            revoked: count(fresh.affected.len()),
            publication,
        })
    }

    /// The credentials a reissue job must replace (replaced or not yet), as fixed when
    /// its incident was declared, read from the store.
    ///
    /// # Errors
    /// [`RegistryError::UnknownAffectedCredential`] if a job written by an earlier
    /// version names a serial this registry does not hold;
    /// [`RegistryError::JobCardsMismatch`] if the job's status indexes do not map back
    /// to exactly the credentials recorded at declaration (a corrupt store); storage
    /// failures.
    pub fn job_cards(&self, job: &JobRecord) -> Result<Vec<CredentialRecord>, RegistryError> {
        match &job.kind {
            JobKind::Reissue {
                incident, affected, ..
            } => self.held_cards(job.id, incident, affected),
            JobKind::Issue { .. } => Ok(Vec::new()),
        }
    }

    /// The job's cards: the incident's filter reads them in one pass on the registry
    /// that declared it; any it misses are looked up (by serial, or in a full read for
    /// indexes), and any still missing are not in this registry: refused, never
    /// counted as done.
    fn held_cards(
        &self,
        job: u64,
        incident: &Incident,
        affected: &AffectedCards,
    ) -> Result<Vec<CredentialRecord>, RegistryError> {
        let (filter, _) = self.filter_for(incident)?;
        match affected {
            AffectedCards::Serials(affected) => {
                let wanted: HashSet<Serial> = affected.iter().copied().collect();
                let mut held: Vec<CredentialRecord> = self
                    .store
                    .credentials(&filter)?
                    .into_iter()
                    .filter(|r| wanted.contains(&r.serial))
                    .collect();
                let mut seen: HashSet<Serial> = held.iter().map(|r| r.serial).collect();
                let missed: Vec<Serial> = affected
                    .iter()
                    .filter(|s| !seen.contains(*s))
                    .copied()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if !missed.is_empty() {
                    held.extend(
                        self.store
                            .credentials(&CredentialFilter::Serials(missed.clone()))?
                            .into_iter()
                            .filter(|r| seen.insert(r.serial)),
                    );
                    let unknown: Vec<Serial> =
                        missed.into_iter().filter(|s| !seen.contains(s)).collect();
                    if let Some(&serial) = unknown.first() {
                        return Err(RegistryError::UnknownAffectedCredential {
                            job,
                            serial,
                            unknown: count(unknown.len()),
                        });
                    }
                }
                Ok(held)
            }
            AffectedCards::Indexes {
                indexes,
                universe,
                count: expected,
                digest,
            } => {
                let expected = *expected;
                let mismatch = |found: usize| RegistryError::JobCardsMismatch {
                    job,
                    expected,
                    found: count(found),
                };
                let wanted: HashSet<u32> = crate::wire::decode_index_set(indexes, *universe)
                    .map_err(|_| mismatch(0))?
                    .into_iter()
                    .collect();
                if count(wanted.len()) != expected {
                    return Err(mismatch(wanted.len()));
                }
                let pick = |records: Vec<CredentialRecord>| {
                    records
                        .into_iter()
                        .filter(|r| wanted.contains(&r.status_index.0))
                        .collect::<Vec<_>>()
                };
                let mut held = pick(self.store.credentials(&filter)?);
                if held.len() != wanted.len() {
                    held = pick(self.store.credentials(&CredentialFilter::All)?);
                }
                held.sort_unstable_by_key(|r| r.status_index.0);
                // Indexes are unique in the store, so one record per index; a store
                // that broke that is caught by the count.
                held.dedup_by_key(|r| r.status_index.0);
                if held.len() != wanted.len() {
                    return Err(mismatch(held.len()));
                }
                let mut hash = sha2::Sha256::new();
                for r in &held {
                    hash.update(r.serial.0);
                }
                if crate::model::hex(&hash.finalize()) != *digest {
                    return Err(mismatch(held.len()));
                }
                Ok(held)
            }
        }
    }

    /// Continues the open reissue job, if any: issues the replacements not yet
    /// committed, in atomic chunks, each bound to a blank card's public key drawn from
    /// `cards` (all drawn before anything is signed or written; keys already bound are
    /// skipped), then publishes the final list and closes the job.
    ///
    /// A card counts as done only if its replacement exists.
    ///
    /// # Errors
    /// [`RegistryError::JobOpen`] if the open job is a roster issue (resume it with
    /// `issue_roster`); [`RegistryError::UnknownAffectedCredential`] if the job names a
    /// card this registry does not hold, [`RegistryError::NotEnoughBlankCards`] if
    /// `cards` runs out or fails (nothing is written then); issuing or storage
    /// failures. (Card keys are checked when `cards` receives them, not here.)
    pub fn resume(
        &mut self,
        key: &IssuerKey,
        cards: &mut (impl BlankCards + ?Sized),
        now: UnixTime,
        next_update: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
        hooks: &mut Hooks<'_>,
    ) -> Result<Option<ReissueReport>, RegistryError> {
        let head = self.store.audit_head()?;
        let Some(job) = self.open_job()? else {
            return Ok(None);
        };
        // Replacements are credentials; the closing publication is a list.
        self.check_key(key, KeyUsage::Credentials)?;
        self.check_key(key, KeyUsage::Lists)?;
        let JobKind::Reissue {
            incident,
            affected,
            batch,
            ..
        } = &job.kind
        else {
            return Err(RegistryError::JobOpen { job: job.id });
        };
        let held = self.held_cards(job.id, incident, affected)?;
        let total = held.len();
        // Done: the job's cards whose replacement exists (`superseded_by` is derived from
        // the replacement's row). Every other card of the job is still to be replaced.
        let (replaced, remaining): (Vec<CredentialRecord>, Vec<CredentialRecord>) =
            held.into_iter().partition(|r| r.superseded_by.is_some());
        // Each card still to replace is held and has no replacement yet: the read check
        // of "one replacement per card". The audit compare-and-append makes it race-free,
        // and the store's unique `supersedes` is the backstop (the Store contract).
        let key_window = key.validity();
        let card_keys = draw_cards(&self.store, cards, remaining.len())?;
        let replacement = |(old, card_key): (&CredentialRecord, _)| {
            let claims = old.claims()?;
            let not_after = claims.validity.not_after.min(key_window.not_after);
            Ok(NewCard {
                kind: claims.kind,
                holder: claims.holder,
                vetting: claims.vetting,
                validity: Validity::new(now.min(not_after), not_after)
                    .map_err(crate::issue::IssueError::from)?,
                supersedes: Some(old.serial),
                card_key,
            })
        };
        // Decoding each replaced card's claims is the breach's first work before any
        // signing: on every core where the `parallel` feature is on.
        #[cfg(feature = "parallel")]
        let cards = {
            use rayon::prelude::*;
            remaining
                .par_iter()
                .zip(card_keys)
                .map(replacement)
                .collect::<Result<Vec<_>, RegistryError>>()?
        };
        #[cfg(not(feature = "parallel"))]
        let cards = remaining
            .iter()
            .zip(card_keys)
            .map(replacement)
            .collect::<Result<Vec<_>, RegistryError>>()?;
        let run = Run {
            key,
            batch: *batch,
            now,
            chunk: self.chunk_for(cards.len()),
            capacity: self.meta.capacity,
            progress: Progress {
                done: replaced.len(),
                total,
            },
            event: |batch, replacements| AuditEvent::Reissued {
                batch,
                replacements: replacements
                    .iter()
                    .filter_map(|r| Some((r.supersedes?, r.serial)))
                    .collect(),
            },
        }
        .run(&mut self.store, head, cards, rng, hooks)?;
        let (done, head) = (run.done, run.head);
        if !run.finished {
            return Ok(Some(ReissueReport {
                job: job.id,
                batch: *batch,
                reissued: count(done),
                finished: false,
                publication: None,
            }));
        }
        // Closing the job, with the list, recomposed on a fresh head if another
        // office's unrelated change came first; closed meanwhile by another worker is
        // a real conflict.
        let (mut head, mut race) = (head, super::runner::Race::default());
        let publication = loop {
            let publication = self
                .status_list()?
                .publish_at(key, now, next_update, head)?;
            let mut draft = Draft::default();
            draft.change.finished_jobs.push((job.id, now));
            draft.event(
                now,
                AuditEvent::JobFinished {
                    job: job.id,
                    issued: count(done),
                },
            );
            let publication = add_publication(&mut draft, publication, now);
            match commit(&mut self.store, head, draft) {
                Err(e) if race.again(&e) => {
                    if self.open_job()?.is_none_or(|j| j.id != job.id) {
                        return Err(e);
                    }
                    head = self.store.audit_head()?;
                }
                other => {
                    other?;
                    break publication;
                }
            }
        };
        Ok(Some(ReissueReport {
            job: job.id,
            batch: *batch,
            reissued: count(done),
            finished: true,
            publication: Some(publication),
        }))
    }

    /// The whole story in one call, idempotent: resumes the open job for this incident
    /// if there is one; otherwise plans, declares and reissues, binding each
    /// replacement to a blank card from `cards`. An incident that affects nothing (for
    /// instance, one already handled: see [`Self::plan`]) is a no-op: `Ok(None)`, and
    /// nothing is written.
    ///
    /// The revocation does not wait for blank cards: if `cards` runs out, the incident
    /// stays declared (revoked and published), no replacement is written, and the job
    /// stays open for [`Self::resume`] with enough cards.
    ///
    /// # Errors
    /// As [`Self::declare`] and [`Self::resume`]; [`RegistryError::JobOpen`] if a job
    /// for another incident is open.
    #[allow(clippy::too_many_arguments)]
    pub fn execute(
        &mut self,
        incident: &Incident,
        key: &IssuerKey,
        target_supplier: &str,
        cards: &mut (impl BlankCards + ?Sized),
        now: UnixTime,
        next_update: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
        hooks: &mut Hooks<'_>,
    ) -> Result<Option<ReissueReport>, RegistryError> {
        if let Some(open) = self.open_job()? {
            return match &open.kind {
                JobKind::Reissue {
                    incident: open_incident,
                    ..
                } if open_incident.is_same_as(incident) => {
                    self.resume(key, cards, now, next_update, rng, hooks)
                }
                _ => Err(RegistryError::JobOpen { job: open.id }),
            };
        }
        let plan = self.plan(incident, now)?;
        if plan.affected.is_empty() {
            return Ok(None);
        }
        self.declare(&plan, key, target_supplier, now, next_update)?;
        self.resume(key, cards, now, next_update, rng, hooks)
    }
}

/// Serials in ascending order of their bytes: as big-endian integers, which sort
/// faster than arrays.
fn serial_order(serial: &Serial) -> u128 {
    u128::from_be_bytes(serial.0)
}

/// The `affected_digest` of [`AuditEvent::IncidentDeclared`]: SHA-256 over the serials
/// in ascending order, so that the same cards have the same digest whatever order a
/// store read them in (SQLite reads a supplier's batches one by one, PostgreSQL all at
/// once), and an auditor can recompute it from any list of them. A [`Plan`] holds them
/// sorted already; a plan whose caller reordered them is sorted here.
fn affected_digest(affected: &[Serial]) -> [u8; 32] {
    let bytes: Vec<u8> = if affected.is_sorted_by_key(serial_order) {
        affected.iter().flat_map(|s| s.0).collect()
    } else {
        let mut sorted: Vec<u128> = affected.iter().map(serial_order).collect();
        sorted.sort_unstable();
        sorted.iter().flat_map(|s| s.to_be_bytes()).collect()
    };
    sha2::Sha256::digest(&bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_affected_digest_is_over_the_sorted_serials_whatever_their_order() {
        let serials = [Serial([9; 16]), Serial([0xff; 16]), Serial([1; 16])];
        let mut sorted = Vec::new();
        for s in [[1u8; 16], [9; 16], [0xff; 16]] {
            sorted.extend_from_slice(&s);
        }
        let expected: [u8; 32] = sha2::Sha256::digest(&sorted).into();
        assert_eq!(affected_digest(&serials), expected);
        let mut reversed = serials;
        reversed.reverse();
        assert_eq!(affected_digest(&reversed), expected);
        // Already sorted: the same digest without sorting.
        reversed.sort_unstable_by_key(serial_order);
        assert_eq!(affected_digest(&reversed), expected);
        // A serial whose first byte is high sorts last, as bytes do (not as a
        // little-endian integer would).
        let one = |b0: u8| {
            let mut s = [0u8; 16];
            s[0] = b0;
            s[15] = 0xff - b0;
            Serial(s)
        };
        let mut bytes = one(1).0.to_vec();
        bytes.extend_from_slice(&one(2).0);
        let expected: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        assert_eq!(affected_digest(&[one(2), one(1)]), expected);
        assert_eq!(affected_digest(&[one(1), one(2)]), expected);
        assert_ne!(affected_digest(&serials[..2]), affected_digest(&serials));
    }
}
