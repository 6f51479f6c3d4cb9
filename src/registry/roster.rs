//! The HR roster: who should hold a card, kept in line with HR's export.
//!
//! An office syncs the registry with HR's roster ([`Registry::roster_plan`] is the dry
//! run, [`Registry::roster_apply`] does it). The plan sorts every pay number into
//! joiners (no card yet: a new card is pending), movers (a printed field changed: a
//! replacement is pending) and leavers (gone from HR: their cards are revoked and the
//! list published at once, in the same commit). Pending cards are issued later through
//! a print supplier ([`Registry::pending`] lists them, `issue_pending` signs them).
//!
//! Applying the same roster twice changes nothing the second time: the plan compares
//! against the roster the registry keeps, and an empty plan commits nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::issue::IssuerKey;
use crate::model::{Claims, KeyUsage, RevocationReason, Serial, Status, UnixTime};

use super::audit::AuditEvent;
use super::runner::{Draft, commit};
use super::store::{CredentialFilter, CredentialRecord, RosterChange, Store};
use super::{HolderRequest, PublicationRecord, Registry, RegistryError, add_publication};

/// The leavers' threshold a registry starts with: a roster sync that would remove more
/// holders than this is refused unless approved for exactly that number, as directory
/// sync tools' "accidental deletion prevention" stops at 500 deletions by default.
pub const DEFAULT_MAX_LEAVERS: u64 = 500;

/// The annotation subject under which a registry keeps its leavers' threshold (in its
/// audit log, so every office on the registry sees the same one, and each change is
/// accountable). The newest annotation that is a number wins.
pub const MAX_LEAVERS_SUBJECT: &str = "setting:max-leavers";

/// A printed field or the clearance, named for an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RosterField {
    /// Warrant card or staff pass.
    Kind,
    /// Name.
    Name,
    /// Rank or grade.
    Rank,
    /// Unit.
    Unit,
    /// The photograph.
    Photo,
    /// The vetting level.
    Vetting,
}

impl core::fmt::Display for RosterField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Kind => "kind",
            Self::Name => "name",
            Self::Rank => "rank",
            Self::Unit => "unit",
            Self::Photo => "photo",
            Self::Vetting => "vetting",
        })
    }
}

/// A holder whose printed fields changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterMove {
    /// The holder.
    pub pay_number: String,
    /// What changed.
    pub changed: Vec<RosterField>,
}

/// A holder gone from HR's roster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RosterLeave {
    /// The holder.
    pub pay_number: String,
    /// Their cards that still open doors (active or suspended): revoked on apply.
    pub cards: Vec<Serial>,
}

/// What syncing a roster would do (and, once applied, did).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RosterPlan {
    /// Pay numbers new to the registry: a card is pending for each.
    pub joiners: Vec<String>,
    /// Holders whose printed fields or vetting changed: a replacement is pending.
    pub movers: Vec<RosterMove>,
    /// Holders gone from HR: their cards are revoked.
    pub leavers: Vec<RosterLeave>,
    /// Holders whose entry is as the registry has it.
    pub unchanged: u64,
}

impl RosterPlan {
    /// Whether applying it would change nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.joiners.is_empty() && self.movers.is_empty() && self.leavers.is_empty()
    }
}

/// What [`Registry::roster_apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterApplied {
    /// The plan it carried out.
    pub plan: RosterPlan,
    /// The list published with the leavers' revocations, if any card was revoked.
    pub publication: Option<PublicationRecord>,
}

/// A card to issue: a joiner's first card, or a mover's replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCard {
    /// The holder as the roster has them.
    pub request: HolderRequest,
    /// The card it replaces (a mover's), if any.
    pub replaces: Option<Serial>,
}

/// What differs between a roster entry and what a card (or an older entry) says.
pub(super) fn differences(
    want: &HolderRequest,
    kind: crate::model::Kind,
    holder: &crate::model::Holder,
    vetting: crate::model::Vetting,
) -> Vec<RosterField> {
    let mut changed = Vec::new();
    if want.kind != kind {
        changed.push(RosterField::Kind);
    }
    if want.holder.name() != holder.name() {
        changed.push(RosterField::Name);
    }
    if want.holder.rank() != holder.rank() {
        changed.push(RosterField::Rank);
    }
    if want.holder.unit() != holder.unit() {
        changed.push(RosterField::Unit);
    }
    if want.holder.photo() != holder.photo() {
        changed.push(RosterField::Photo);
    }
    if want.vetting != vetting {
        changed.push(RosterField::Vetting);
    }
    changed
}

fn card_differences(want: &HolderRequest, claims: &Claims) -> Vec<RosterField> {
    differences(want, claims.kind, &claims.holder, claims.vetting)
}

impl<S: Store> Registry<S> {
    /// Each holder's cards that still open doors (not revoked, not replaced), with
    /// scope entries applied.
    fn live_cards(&self) -> Result<HashMap<String, Vec<CredentialRecord>>, RegistryError> {
        let scopes = self.store.status_state()?.scopes;
        let mut live: HashMap<String, Vec<CredentialRecord>> = HashMap::new();
        for r in self.store.credentials(&CredentialFilter::All)? {
            if r.superseded_by.is_none() && r.status_under(&scopes) != Status::Revoked {
                live.entry(r.pay_number.clone()).or_default().push(r);
            }
        }
        Ok(live)
    }

    /// The dry run of a roster sync: who joins, who moved, who left.
    ///
    /// # Errors
    /// [`RegistryError::DuplicateHolder`] if a pay number appears twice in `roster`;
    /// storage failures.
    pub fn roster_plan(&self, roster: &[HolderRequest]) -> Result<RosterPlan, RegistryError> {
        let mut seen = HashSet::new();
        for r in roster {
            if !seen.insert(r.holder.pay_number()) {
                return Err(RegistryError::DuplicateHolder {
                    pay_number: r.holder.pay_number().to_owned(),
                });
            }
        }
        let kept: BTreeMap<String, HolderRequest> = self
            .store
            .roster()?
            .into_iter()
            .map(|r| (r.holder.pay_number().to_owned(), r))
            .collect();
        let live = self.live_cards()?;
        let mut plan = RosterPlan::default();
        for want in roster {
            let pay = want.holder.pay_number();
            let changed = match (kept.get(pay), live.get(pay).and_then(|c| c.first())) {
                (Some(old), _) => differences(want, old.kind, &old.holder, old.vetting),
                (None, Some(card)) => card_differences(want, &card.claims()?),
                (None, None) => {
                    plan.joiners.push(pay.to_owned());
                    continue;
                }
            };
            if changed.is_empty() {
                plan.unchanged += 1;
            } else {
                plan.movers.push(RosterMove {
                    pay_number: pay.to_owned(),
                    changed,
                });
            }
        }
        let mut gone: Vec<&str> = kept
            .keys()
            .map(String::as_str)
            .chain(live.keys().map(String::as_str))
            .filter(|pay| !seen.contains(pay))
            .collect();
        gone.sort_unstable();
        gone.dedup();
        for pay in gone {
            let mut cards: Vec<Serial> = live
                .get(pay)
                .map(|c| c.iter().map(|r| r.serial).collect())
                .unwrap_or_default();
            cards.sort_unstable();
            plan.leavers.push(RosterLeave {
                pay_number: pay.to_owned(),
                cards,
            });
        }
        Ok(plan)
    }

    /// The registry's leavers' threshold: the most holders a roster sync may remove
    /// without an approval for the exact number ([`DEFAULT_MAX_LEAVERS`] until
    /// [`Self::set_max_leavers`] sets another).
    ///
    /// # Errors
    /// Storage failures.
    pub fn max_leavers(&self) -> Result<u64, RegistryError> {
        Ok(self
            .annotations(MAX_LEAVERS_SUBJECT)?
            .into_iter()
            .rev()
            .find_map(|(_, text)| text.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_LEAVERS))
    }

    /// Sets the leavers' threshold for every office on this registry, recorded in the
    /// audit log.
    ///
    /// # Errors
    /// Storage failures; [`RegistryError::Conflict`] if another writer committed first.
    pub fn set_max_leavers(&mut self, max: u64, now: UnixTime) -> Result<(), RegistryError> {
        self.annotate(MAX_LEAVERS_SUBJECT, &max.to_string(), now)
    }

    /// Syncs the registry with `roster` (HR's export), in one commit: joiners and movers
    /// are recorded (their cards become pending), leavers are removed and their cards
    /// revoked ([`RevocationReason::LeftService`]) with the list published at once. An
    /// empty plan commits nothing, so applying the same roster twice is a no-op.
    ///
    /// A roster that removes more holders than [`Self::max_leavers`] is refused (a
    /// truncated export would otherwise revoke the force): check it, then approve the
    /// exact number with [`Self::roster_apply_approved`].
    ///
    /// # Errors
    /// [`RegistryError::TooManyLeavers`] past the threshold (nothing written); as
    /// [`Self::roster_plan`]; if leavers' cards must be revoked, a key that may not
    /// sign lists; storage failures (nothing is written).
    pub fn roster_apply(
        &mut self,
        key: &IssuerKey,
        roster: &[HolderRequest],
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<RosterApplied, RegistryError> {
        self.roster_apply_inner(key, roster, now, next_update, None)
    }

    /// [`Self::roster_apply`] with the operator's approval of exactly `leavers` leavers:
    /// it goes ahead past the threshold only if the roster removes that many holders,
    /// so an approval given for one export cannot carry another.
    ///
    /// # Errors
    /// [`RegistryError::LeaversNotAsApproved`] if the roster removes another number of
    /// holders (nothing written); otherwise as [`Self::roster_apply`].
    pub fn roster_apply_approved(
        &mut self,
        key: &IssuerKey,
        roster: &[HolderRequest],
        now: UnixTime,
        next_update: UnixTime,
        leavers: u64,
    ) -> Result<RosterApplied, RegistryError> {
        self.roster_apply_inner(key, roster, now, next_update, Some(leavers))
    }

    fn roster_apply_inner(
        &mut self,
        key: &IssuerKey,
        roster: &[HolderRequest],
        now: UnixTime,
        next_update: UnixTime,
        approved: Option<u64>,
    ) -> Result<RosterApplied, RegistryError> {
        // Lost to another office's commit: planned, checked against the threshold and
        // composed again from fresh reads.
        super::runner::retrying(|| self.roster_apply_once(key, roster, now, next_update, approved))
    }

    /// One attempt of [`Self::roster_apply`], from its first read to its commit.
    fn roster_apply_once(
        &mut self,
        key: &IssuerKey,
        roster: &[HolderRequest],
        now: UnixTime,
        next_update: UnixTime,
        approved: Option<u64>,
    ) -> Result<RosterApplied, RegistryError> {
        let head = self.store.audit_head()?;
        let plan = self.roster_plan(roster)?;
        let leavers = plan.leavers.len() as u64;
        match approved {
            Some(approved) if approved != leavers => {
                return Err(RegistryError::LeaversNotAsApproved { leavers, approved });
            }
            Some(_) => {}
            None => {
                let threshold = self.max_leavers()?;
                if leavers > threshold {
                    return Err(RegistryError::TooManyLeavers {
                        leavers,
                        cards: plan.leavers.iter().map(|l| l.cards.len() as u64).sum(),
                        threshold,
                    });
                }
            }
        }
        if plan.is_empty() {
            return Ok(RosterApplied {
                plan,
                publication: None,
            });
        }
        let by_pay: HashMap<&str, &HolderRequest> =
            roster.iter().map(|r| (r.holder.pay_number(), r)).collect();
        let mut draft = Draft::default();
        for pay in plan
            .joiners
            .iter()
            .chain(plan.movers.iter().map(|m| &m.pay_number))
        {
            if let Some(r) = by_pay.get(pay.as_str()) {
                draft.change.roster.push(RosterChange::Upsert((*r).clone()));
            }
        }
        for leave in &plan.leavers {
            draft
                .change
                .roster
                .push(RosterChange::Remove(leave.pay_number.clone()));
        }
        draft.event(
            now,
            AuditEvent::RosterSynced {
                joiners: plan.joiners.len() as u64,
                movers: plan.movers.len() as u64,
                leavers: plan.leavers.len() as u64,
            },
        );
        let revoked: Vec<Serial> = plan
            .leavers
            .iter()
            .flat_map(|l| l.cards.iter().copied())
            .collect();
        let publication = if revoked.is_empty() {
            None
        } else {
            self.check_key(key, KeyUsage::Lists)?;
            let reason = RevocationReason::LeftService;
            let mut list = self.status_list()?;
            for record in self
                .store
                .credentials(&CredentialFilter::Serials(revoked.clone()))?
            {
                list.revoke(record.status_index.0, reason, now)?;
                draft
                    .change
                    .statuses
                    .push((record.serial, Status::Revoked, Some((reason, now))));
                draft.event(
                    now,
                    AuditEvent::Revoked {
                        serial: record.serial,
                        reason,
                    },
                );
            }
            let publication = list.publish_at(key, now, next_update, head)?;
            Some(add_publication(&mut draft, publication, now))
        };
        commit(&mut self.store, head, draft)?;
        Ok(RosterApplied { plan, publication })
    }

    /// The cards to issue: every roster holder without a card that opens doors
    /// (joiners), and every holder whose card no longer matches the roster (movers,
    /// with the card it replaces), ordered by pay number.
    ///
    /// # Errors
    /// Storage failures.
    pub fn pending(&self) -> Result<Vec<PendingCard>, RegistryError> {
        let live = self.live_cards()?;
        let mut out = Vec::new();
        for request in self.store.roster()? {
            match live.get(request.holder.pay_number()).map(Vec::as_slice) {
                None | Some([]) => out.push(PendingCard {
                    request,
                    replaces: None,
                }),
                Some([card, ..]) => {
                    if !card_differences(&request, &card.claims()?).is_empty() {
                        out.push(PendingCard {
                            replaces: Some(card.serial),
                            request,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// Issues every pending card ([`Self::pending`]) into a print batch at `supplier`:
    /// joiners' first cards, and movers' replacements (each supersedes the old card).
    /// When the batch is finished, the replaced cards are revoked as superseded and the
    /// list is published, in the same commit. Idempotent and resumable like
    /// [`Self::issue_roster`]: run it again after an interruption.
    ///
    /// A new batch that would revoke more replaced cards than [`Self::max_leavers`] is
    /// refused before anything is signed (the leavers' guard, for a roster that moved
    /// most of the force): check it, then approve the exact number with
    /// [`Self::issue_pending_approved`]. Resuming an open batch is not asked again.
    ///
    /// # Errors
    /// [`RegistryError::TooManyReplaced`] past the threshold (nothing written);
    /// [`RegistryError::JobOpen`] if another job is open; running out of blank cards;
    /// a key that may not sign; storage failures.
    #[allow(clippy::too_many_arguments)]
    pub fn issue_pending(
        &mut self,
        key: &IssuerKey,
        supplier: &str,
        cards: &mut (impl super::BlankCards + ?Sized),
        now: UnixTime,
        next_update: UnixTime,
        rng: &mut (impl rand::CryptoRng + ?Sized),
        hooks: &mut super::Hooks<'_>,
    ) -> Result<super::IssueReport, RegistryError> {
        self.issue_pending_inner(key, supplier, cards, (now, next_update), rng, hooks, None)
    }

    /// [`Self::issue_pending`] with the operator's approval of exactly `replaced` cards
    /// revoked as superseded when the new batch is finished: it goes ahead past the
    /// threshold only if that is the number.
    ///
    /// # Errors
    /// [`RegistryError::ReplacedNotAsApproved`] if a new batch would revoke another
    /// number (nothing written); otherwise as [`Self::issue_pending`].
    #[allow(clippy::too_many_arguments)]
    pub fn issue_pending_approved(
        &mut self,
        key: &IssuerKey,
        supplier: &str,
        cards: &mut (impl super::BlankCards + ?Sized),
        now: UnixTime,
        next_update: UnixTime,
        rng: &mut (impl rand::CryptoRng + ?Sized),
        hooks: &mut super::Hooks<'_>,
        replaced: u64,
    ) -> Result<super::IssueReport, RegistryError> {
        self.issue_pending_inner(
            key,
            supplier,
            cards,
            (now, next_update),
            rng,
            hooks,
            Some(replaced),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn issue_pending_inner(
        &mut self,
        key: &IssuerKey,
        supplier: &str,
        cards: &mut (impl super::BlankCards + ?Sized),
        (now, next_update): (UnixTime, UnixTime),
        rng: &mut (impl rand::CryptoRng + ?Sized),
        hooks: &mut super::Hooks<'_>,
        approved: Option<u64>,
    ) -> Result<super::IssueReport, RegistryError> {
        let head = self.store.audit_head()?;
        self.check_key(key, KeyUsage::Credentials)?;
        self.check_key(key, KeyUsage::Lists)?;
        let open = self.open_issue_job(supplier)?;
        let already = match open {
            Some((_, batch)) => self
                .store
                .credentials(&CredentialFilter::PrintBatches(vec![batch]))?
                .len(),
            None => 0,
        };
        let todo: Vec<_> = self
            .pending()?
            .into_iter()
            .map(|p| (p.request, p.replaces))
            .collect();
        if open.is_none() {
            let replaced = todo.iter().filter(|(_, r)| r.is_some()).count() as u64;
            match approved {
                Some(approved) if approved != replaced => {
                    return Err(RegistryError::ReplacedNotAsApproved {
                        cards: replaced,
                        approved,
                    });
                }
                Some(_) => {}
                None => {
                    let threshold = self.max_leavers()?;
                    if replaced > threshold {
                        return Err(RegistryError::TooManyReplaced {
                            cards: replaced,
                            threshold,
                        });
                    }
                }
            }
        }
        self.issue_batch(
            super::IssueBatch {
                key,
                supplier,
                open,
                head,
                already,
                next_update: Some(next_update),
            },
            todo,
            cards,
            now,
            rng,
            hooks,
        )
    }

    /// The open reissue job, if any: its id and the supplier its replacements go to.
    ///
    /// # Errors
    /// Storage failures.
    pub fn open_reissue(&self) -> Result<Option<(String, u64)>, RegistryError> {
        let Some(job) = self.open_job()? else {
            return Ok(None);
        };
        let super::JobKind::Reissue { batch, .. } = job.kind else {
            return Ok(None);
        };
        let supplier = self
            .store
            .batches()?
            .into_iter()
            .find(|b| b.id == batch)
            .map(|b| b.supplier)
            .unwrap_or_default();
        Ok(Some((supplier, job.id)))
    }
}
