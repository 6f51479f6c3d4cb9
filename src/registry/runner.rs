//! The one chunked sign-and-commit runner behind roster issue and reissue, the status
//! index allocator, and [`commit`], which seals a change's audit events onto the head
//! the workflow read.
//!
//! The workflow first draws one blank card's public key per card ([`draw_cards`]),
//! before anything is signed or written. A run then draws every card's serial and status
//! index from the caller's RNG, each chunk's in sorted order over its shuffled holders
//! ([`plan_chunks`]: the commit walks the unique indexes instead of jumping), signs the
//! cards chunk by chunk on a worker thread (on every core with the `parallel` feature)
//! while this thread commits the previous chunk with its audit event, reports progress
//! after each commit, and stops where the progress hook says `Break`.
//!
//! **Two offices at once.** A commit that loses the race to another writer's commit
//! ([`ConflictKind::StaleAuditHead`]) is not refused at once: [`retrying`] runs a
//! single change again from its reads, and the runner re-reads the head and commits
//! the same chunk again, after checking that no other writer has put cards into its
//! batch (two workers on one job: a real conflict, refused). Bounded:
//! [`MAX_RACE_ATTEMPTS`] attempts, backing off from [`RACE_BACKOFF`] (doubling, with
//! jitter, at most [`RACE_BACKOFF_MAX`]), so bulk work and single changes interleave.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::Duration;

use rand::CryptoRng;

use crate::issue::{CheckedCardKey, Credential, IssuerKey};
use crate::model::Status;
use crate::model::Vetting;
use crate::model::{
    AuditHead, CardPublicKey, CredentialRequest, Holder, Kind, PrintBatchId, Serial, StatusIndex,
    UnixTime, Validity,
};

use super::audit::{self, AuditEvent};
use super::cards::BlankCards;
use super::store::{
    Change, ConflictKind, CredentialFilter, CredentialRecord, RegistryError, Store,
};

/// Credentials per atomic chunk of bulk work, at least. Random serials, status indexes
/// and card keys put every index insert on a random page, so a commit rewrites most
/// index pages whatever its size: larger chunks amortise that (and the fsync). A crash
/// loses at most one chunk's signing work, about 0.1 s on one core.
pub const CHUNK: usize = 4096;

/// A run larger than [`CHUNK`] times this commits in about this many chunks (up to
/// [`MAX_CHUNK`] each). Each commit rewrites nearly every page of the random unique
/// indexes, whose size grows with the registry: with fixed-size chunks the pages
/// written (and checkpointed) per card grow with the registry too, with a fixed
/// number of commits per run they do not (BENCHMARKS.md, the scaling table). The
/// committing thread is the reissue's bottleneck, so fewer commits is less of its work.
const COMMITS_PER_RUN: usize = 8;

/// The largest chunk a run makes by default (a run of 1,000,000 cards commits in 8
/// chunks of 125,000): about 60 MB of credentials in memory at once, and a crash loses
/// at most about 1.5 s of signing on two cores.
pub const MAX_CHUNK: usize = 131_072;

/// Credentials per chunk of a run of `cards`: [`CHUNK`], or a [`COMMITS_PER_RUN`]th of
/// a larger run, at most [`MAX_CHUNK`].
pub(super) fn default_chunk(cards: usize) -> usize {
    cards.div_ceil(COMMITS_PER_RUN).clamp(CHUNK, MAX_CHUNK)
}

/// Attempts of one commit (a chunk, or a single change) that keeps losing the race to
/// other writers' commits before [`ConflictKind::StaleAuditHead`] is reported. With
/// the back-off this waits about 10 s in all: a chunk of bulk work commits between
/// two single changes, and a single change between two chunks.
pub const MAX_RACE_ATTEMPTS: u32 = 24;

/// The first back-off after a lost race, doubled at each further attempt up to
/// [`RACE_BACKOFF_MAX`], plus up to half of it again at random (so that two writers
/// that collided do not collide again in step).
pub const RACE_BACKOFF: Duration = Duration::from_millis(4);

/// The longest back-off between two attempts.
pub const RACE_BACKOFF_MAX: Duration = Duration::from_millis(640);

/// Whether `e` says another writer committed between this change's reads and its
/// commit (and nothing of it was written).
pub(super) fn lost_race(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::Conflict(ConflictKind::StaleAuditHead { .. })
    )
}

/// Sleeps before retry number `retry` (1 for the first).
fn back_off(retry: u32) {
    let base = RACE_BACKOFF
        .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
        .min(RACE_BACKOFF_MAX);
    // Jitter from the clock's nanoseconds: no caller's RNG is needed to wait.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let half = u32::try_from(base.as_millis() / 2)
        .unwrap_or(u32::MAX)
        .max(1);
    std::thread::sleep(base + Duration::from_millis(u64::from(nanos % half)));
}

/// The attempts of one change that may lose races to other writers.
#[derive(Debug, Default)]
pub(super) struct Race {
    retries: u32,
}

impl Race {
    /// Whether to try again after `e`: a lost race with attempts left (after backing
    /// off). Anything else, or the last attempt, is the caller's to return.
    pub(super) fn again(&mut self, e: &RegistryError) -> bool {
        if !lost_race(e) || self.retries + 1 >= MAX_RACE_ATTEMPTS {
            return false;
        }
        self.retries += 1;
        back_off(self.retries);
        true
    }
}

/// Runs `op`, a whole single change from its first read to its commit, again while it
/// loses the race to another writer (at most [`MAX_RACE_ATTEMPTS`] times, backing
/// off): each attempt reads afresh, so a change that no longer holds (the same card
/// changed meanwhile) is refused by its own checks, not retried.
pub(super) fn retrying<T>(
    mut op: impl FnMut() -> Result<T, RegistryError>,
) -> Result<T, RegistryError> {
    let mut race = Race::default();
    loop {
        match op() {
            Err(e) if race.again(&e) => {}
            other => return other,
        }
    }
}

/// Commits the draft `compose` makes, again on a fresh head while it loses the race
/// to another writer, as long as `still_ours` (the re-read) says the other writer's
/// change was unrelated. Returns the head after the change.
pub(super) fn commit_retrying<S: Store + ?Sized>(
    store: &mut S,
    head: AuditHead,
    mut compose: impl FnMut(&S) -> Result<Draft, RegistryError>,
    mut still_ours: impl FnMut(&S) -> Result<bool, RegistryError>,
) -> Result<AuditHead, RegistryError> {
    let mut head = head;
    let mut race = Race::default();
    loop {
        let draft = compose(store)?;
        match commit(store, head, draft) {
            Err(e) if race.again(&e) => {
                if !still_ours(store)? {
                    return Err(e);
                }
                // The head last, just before committing again.
                head = store.audit_head()?;
            }
            other => return other,
        }
    }
}

/// Bulk-work progress: `done` of `total` credentials committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Committed so far.
    pub done: usize,
    /// In all.
    pub total: usize,
}

/// Callbacks for bulk work. `Hooks::default()` ignores both; set the fields you need
/// and take the rest from it (`Hooks { progress, ..Hooks::default() }`). (The registry
/// never holds a card's secret: cards' public keys come from [`BlankCards`].)
pub struct Hooks<'a> {
    /// Called after each committed chunk; `Break` stops the work there (it resumes later).
    pub progress: Box<dyn FnMut(Progress) -> ControlFlow<()> + 'a>,
    /// Called with each chunk's credentials once they are committed (durable), in the
    /// order they are stored, before `progress`. What a run signs, without reading it
    /// back: the command-line tool builds the print manifest from it. A run resumed
    /// after an interruption hands over only what it signs itself.
    #[allow(clippy::type_complexity)] // a boxed callback, as `progress` is
    pub committed: Box<dyn FnMut(&[Credential]) + 'a>,
}

impl Default for Hooks<'_> {
    fn default() -> Self {
        Self {
            progress: Box::new(|_| ControlFlow::Continue(())),
            committed: Box::new(|_| {}),
        }
    }
}

impl std::fmt::Debug for Hooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks").finish_non_exhaustive()
    }
}

/// A change being composed, and the audit events that record it. The events are
/// sealed when the draft is committed, onto the audit head the operation read first.
#[derive(Debug, Default)]
pub(super) struct Draft {
    pub(super) change: Change,
    events: Vec<(UnixTime, AuditEvent)>,
}

impl Draft {
    /// Records `event`, at `at`, in the change's audit entries.
    pub(super) fn event(&mut self, at: UnixTime, event: AuditEvent) {
        self.events.push((at, event));
    }
}

/// Seals `draft`'s events onto `head` and commits the change. The backend appends
/// them only if `head` is still its head (the [`Store`] contract, rule 1), so a change
/// composed from reads that another writer's commit has since overtaken is refused
/// whole. Every operation therefore reads the head before anything else. Returns the
/// head after the change.
pub(super) fn commit<S: Store + ?Sized>(
    store: &mut S,
    head: AuditHead,
    draft: Draft,
) -> Result<AuditHead, RegistryError> {
    let Draft { mut change, events } = draft;
    let mut tail = head;
    change.audit = events
        .iter()
        .map(|(at, event)| {
            let record = audit::seal(tail, *at, event);
            tail = record.head();
            record
        })
        .collect();
    store.apply(&change)?;
    Ok(tail)
}

/// Draws `needed` blank cards' public keys, checked, from `cards`, skipping keys
/// already bound to a credential of `store` (or drawn twice), before anything is
/// signed or written.
///
/// # Errors
/// [`RegistryError::NotEnoughBlankCards`] if the source runs out first;
/// [`RegistryError::BlankCards`] if it fails.
pub(super) fn draw_cards<S: Store + ?Sized>(
    store: &S,
    cards: &mut (impl BlankCards + ?Sized),
    needed: usize,
) -> Result<Vec<CheckedCardKey>, RegistryError> {
    if needed == 0 {
        return Ok(Vec::new());
    }
    let mut taken: HashSet<CardPublicKey> = store.card_keys()?.into_iter().collect();
    let mut out = Vec::with_capacity(needed);
    while out.len() < needed {
        match cards.next_card()? {
            Some(key) if taken.insert(key.key()) => out.push(key),
            Some(_) => {}
            None => {
                return Err(RegistryError::NotEnoughBlankCards {
                    needed: count(needed),
                    left: count(out.len()),
                });
            }
        }
    }
    Ok(out)
}

/// One card for the runner to issue: its claims, but for what the runner draws
/// (serial, status index) and the batch, which is the run's.
#[derive(Debug)]
pub(super) struct NewCard {
    pub(super) kind: Kind,
    pub(super) holder: Holder,
    pub(super) vetting: Vetting,
    pub(super) validity: Validity,
    /// The card it replaces (a reissue), if any.
    pub(super) supersedes: Option<Serial>,
    /// The blank card's public key, checked when it was received, drawn by
    /// [`draw_cards`].
    pub(super) card_key: CheckedCardKey,
}

/// What differs between one bulk run and another: roster issue and reissue differ in
/// the batch and in the audit event that records each chunk.
pub(super) struct Run<'k> {
    pub(super) key: &'k IssuerKey,
    pub(super) batch: PrintBatchId,
    pub(super) now: UnixTime,
    /// Credentials per atomic chunk.
    pub(super) chunk: usize,
    /// The status list's capacity.
    pub(super) capacity: u32,
    /// The job's cards committed before this run, of all its cards.
    pub(super) progress: Progress,
    /// The audit event recording one committed chunk of the batch.
    pub(super) event: fn(PrintBatchId, &[CredentialRecord]) -> AuditEvent,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ran {
    /// Every card was committed (the progress hook did not stop the run).
    pub(super) finished: bool,
    /// The job's cards committed in all, this run's included.
    pub(super) done: usize,
    /// The audit head after the run's last commit.
    pub(super) head: AuditHead,
}

impl Run<'_> {
    /// Issues `cards` into the run's batch: splits them into chunks and draws each
    /// chunk's serials, status indexes and card-key assignment from `rng` ([`plan_chunks`]:
    /// all randomness comes from the caller's RNG), signs them chunk by chunk on a
    /// worker thread while this thread commits the previous chunk, each chunk one
    /// atomic change with its audit event sealed onto the head before it. Reports
    /// progress, and stops where `hooks.progress` says `Break`.
    pub(super) fn run<S: Store + ?Sized>(
        self,
        store: &mut S,
        head: AuditHead,
        cards: Vec<NewCard>,
        rng: &mut (impl CryptoRng + ?Sized),
        hooks: &mut Hooks<'_>,
    ) -> Result<Ran, RegistryError> {
        let mut allocator = IndexAllocator::new(self.capacity, &store.status_indexes()?);
        let chunks = plan_chunks(cards, self.chunk, self.batch, &mut allocator, rng)?;
        let mut ran = Ran {
            finished: false,
            done: self.progress.done,
            head,
        };
        let flow = sign_and_commit(self.key, chunks, self.now, |issued| {
            let compose = |_: &S| {
                let mut draft = Draft::default();
                draft.change.credentials = issued.iter().map(record_for).collect();
                draft.event(
                    self.now,
                    (self.event)(self.batch, &draft.change.credentials),
                );
                Ok(draft)
            };
            // A lost race is retried unless another writer has put cards into this
            // batch meanwhile (a second worker on the same job: a real conflict).
            let done = ran.done;
            let batch = self.batch;
            let alone = |store: &S| {
                Ok(store
                    .credentials(&CredentialFilter::PrintBatches(vec![batch]))?
                    .len()
                    == done)
            };
            ran.head = commit_retrying(store, ran.head, compose, alone)?;
            ran.done += issued.len();
            (hooks.committed)(&issued);
            Ok((hooks.progress)(Progress {
                done: ran.done,
                total: self.progress.total,
            }))
        })?;
        ran.finished = flow.is_continue();
        Ok(ran)
    }
}

/// A count as stored and reported.
pub(super) fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn record_for(credential: &Credential) -> CredentialRecord {
    let c = credential.claims();
    CredentialRecord {
        serial: c.serial,
        pay_number: c.holder.pay_number().to_owned(),
        status_index: c.status_index,
        print_batch: c.print_batch,
        key_id: c.key_id,
        issued_at: c.issued_at,
        status: Status::Valid,
        status_reason: None,
        supersedes: c.supersedes,
        superseded_by: None,
        card_key: c.card_key,
        bytes: credential.bytes().to_vec(),
    }
}

/// One credential to sign: its request, its card key (checked when its blank-card
/// list was received), and its serial.
pub(super) struct Plan {
    request: CredentialRequest,
    card_key: CheckedCardKey,
    serial: Serial,
}

/// The sizes of a run's chunks: the first at most [`CHUNK`] (nothing commits until it
/// is signed, so committing starts early in a run of large chunks), then `chunk`.
fn chunk_sizes(cards: usize, chunk: usize) -> impl Iterator<Item = usize> {
    let mut left = cards;
    let mut size = chunk.clamp(1, CHUNK);
    std::iter::from_fn(move || {
        let take = size.min(left);
        left -= take;
        size = chunk.max(1);
        (take > 0).then_some(take)
    })
}

/// Splits `cards` into the run's chunks and draws, for each chunk, its cards' serials
/// and status indexes, and which of its blank cards each holder gets, so that each
/// chunk is committed in the order of its serials, status indexes and card keys at
/// once.
///
/// **Why.** Serials, status indexes and card keys are random, so inserting a chunk in
/// any one order puts the other keys' index entries at random places: every insert a
/// descent to a random page (BENCHMARKS.md, the scaling table). Sorted, a chunk's
/// inserts walk each of those three indexes from one end to the other.
///
/// **Nothing is learnt from the order.** A chunk's holders are first shuffled (with
/// `rng`), then the chunk's sorted serials, sorted status indexes and sorted blank
/// cards are handed out in that shuffled order. Which holder gets which index, serial
/// and card is therefore exactly as random as drawing each holder's one by one: the
/// holders' own order (the roster's, or the replaced cards') says nothing about their
/// indexes. What the sorting ties together is a card's own serial, status index and
/// card key, which every verifier reads together from the credential anyway.
fn plan_chunks(
    cards: Vec<NewCard>,
    chunk: usize,
    batch: PrintBatchId,
    allocator: &mut IndexAllocator,
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<Vec<Vec<Plan>>, RegistryError> {
    use rand::seq::SliceRandom as _;
    let sizes: Vec<usize> = chunk_sizes(cards.len(), chunk).collect();
    let mut cards = cards.into_iter();
    let mut chunks = Vec::with_capacity(sizes.len());
    for size in sizes {
        let mut group: Vec<NewCard> = cards.by_ref().take(size).collect();
        group.shuffle(rng);
        let mut indexes = (0..group.len())
            .map(|_| allocator.take(rng))
            .collect::<Result<Vec<_>, _>>()?;
        indexes.sort_unstable();
        let mut serials: Vec<Serial> = (0..group.len()).map(|_| Serial::random(rng)).collect();
        serials.sort_unstable();
        let mut card_keys: Vec<CheckedCardKey> = group.iter().map(|c| c.card_key).collect();
        card_keys.sort_unstable_by_key(|k| k.key().0);
        let plans = group
            .into_iter()
            .zip(indexes)
            .zip(serials)
            .zip(card_keys)
            .map(|(((card, status_index), serial), card_key)| Plan {
                request: CredentialRequest {
                    kind: card.kind,
                    holder: card.holder,
                    vetting: card.vetting,
                    status_index,
                    print_batch: batch,
                    validity: card.validity,
                    card_key: Some(card_key.key()),
                    supersedes: card.supersedes,
                },
                card_key,
                serial,
            })
            .collect();
        chunks.push(plans);
    }
    Ok(chunks)
}

/// Credentials signed as one batch ([`IssuerKey`]'s software key encodes a batch's
/// signature points with one field inversion): large enough that the inversion's
/// share is negligible, small enough that every core gets many batches.
const SIGN_BATCH: usize = 64;

/// Signs each request, in batches of [`SIGN_BATCH`] on every core where the `parallel`
/// feature is on. The card keys were checked when they were received
/// ([`CheckedCardKey`]) and the serials drawn by [`plan_chunks`], so signing is all
/// that is left here.
fn sign_all(
    key: &IssuerKey,
    plans: Vec<Plan>,
    now: UnixTime,
) -> Result<Vec<Credential>, RegistryError> {
    let batch = |plans: Vec<Plan>| -> Result<Vec<Credential>, RegistryError> {
        key.issue_checked_many(
            plans.into_iter().map(|p| (p.request, p.card_key, p.serial)),
            now,
        )
        .map_err(RegistryError::from)
    };
    #[cfg(feature = "parallel")]
    let batches: Vec<Vec<Credential>> = {
        use rayon::prelude::*;
        plans
            .into_par_iter()
            .chunks(SIGN_BATCH)
            .map(batch)
            .collect::<Result<_, _>>()?
    };
    #[cfg(not(feature = "parallel"))]
    let batches: Vec<Vec<Credential>> = {
        let mut plans = plans.into_iter().peekable();
        let mut out = Vec::new();
        while plans.peek().is_some() {
            out.push(batch(plans.by_ref().take(SIGN_BATCH).collect())?);
        }
        out
    };
    Ok(batches.into_iter().flatten().collect())
}

/// Signs `chunks` one by one on a worker thread (on every core with the `parallel`
/// feature) while this thread commits each signed chunk with `commit`: chunk k + 1 is
/// signed while chunk k is written. Stops at the first error, or when `commit` breaks;
/// the worker then stops too (its channel is closed).
fn sign_and_commit(
    key: &IssuerKey,
    chunks: Vec<Vec<Plan>>,
    now: UnixTime,
    mut commit: impl FnMut(Vec<Credential>) -> Result<ControlFlow<()>, RegistryError>,
) -> Result<ControlFlow<()>, RegistryError> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for plans in chunks {
                if tx.send(sign_all(key, plans, now)).is_err() {
                    break;
                }
            }
        });
        for signed in rx {
            if commit(signed?)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    })
}

/// Hands out unused status indexes at random (herd privacy: an index says nothing
/// about when or to whom a card was issued). Indexes are never reused.
struct IndexAllocator {
    used: Vec<u64>,
    capacity: u32,
    free: u32,
}

impl IndexAllocator {
    fn new(capacity: u32, used: &[u32]) -> Self {
        let mut bits = vec![0u64; usize::try_from(capacity.div_ceil(64)).unwrap_or(0)];
        let mut free = capacity;
        for &i in used {
            if let Some(word) = bits.get_mut(usize::try_from(i / 64).unwrap_or(usize::MAX)) {
                let bit = 1u64 << (i % 64);
                if *word & bit == 0 && i < capacity {
                    *word |= bit;
                    free = free.saturating_sub(1);
                }
            }
        }
        Self {
            used: bits,
            capacity,
            free,
        }
    }

    fn is_used(&self, i: u32) -> bool {
        self.used
            .get(usize::try_from(i / 64).unwrap_or(usize::MAX))
            .is_none_or(|w| w & (1u64 << (i % 64)) != 0)
    }

    fn take(&mut self, rng: &mut (impl CryptoRng + ?Sized)) -> Result<StatusIndex, RegistryError> {
        use rand::RngExt as _;
        if self.free == 0 {
            return Err(RegistryError::StatusListFull {
                capacity: self.capacity,
            });
        }
        // Rejection sampling while at least 1/8 is free; then a scan from a random start.
        let mut pick = None;
        if u64::from(self.free) * 8 >= u64::from(self.capacity) {
            for _ in 0..64 {
                let i = rng.random_range(0..self.capacity);
                if !self.is_used(i) {
                    pick = Some(i);
                    break;
                }
            }
        }
        let i = match pick {
            Some(i) => i,
            None => {
                let start = rng.random_range(0..self.capacity);
                (0..self.capacity)
                    .map(|k| (start + k) % self.capacity)
                    .find(|&i| !self.is_used(i))
                    .ok_or(RegistryError::StatusListFull {
                        capacity: self.capacity,
                    })?
            }
        };
        if let Some(word) = self
            .used
            .get_mut(usize::try_from(i / 64).unwrap_or(usize::MAX))
        {
            *word |= 1u64 << (i % 64);
        }
        self.free -= 1;
        Ok(StatusIndex(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ForceVetting, PhotoDigest, PoliceVetting};
    use rand::{SeedableRng, rngs::StdRng};

    /// `n` cards to issue, in roster order: holder `i` has pay number `i` and a blank
    /// card drawn `i`th.
    fn cards(n: u32) -> Vec<NewCard> {
        (0..n)
            .map(|i| {
                let secret =
                    ed25519_dalek::SigningKey::from_bytes(&[u8::try_from(i % 251).unwrap(); 32]);
                let key = secret.verifying_key().to_bytes();
                NewCard {
                    kind: Kind::WarrantCard,
                    holder: Holder::new(
                        format!("{i:06}"),
                        format!("Officer {i}"),
                        "Constable",
                        "Runner Unit",
                        PhotoDigest::of(&i.to_be_bytes()),
                    )
                    .unwrap(),
                    vetting: Vetting {
                        police: PoliceVetting::Force(ForceVetting::Recruitment),
                        national: None,
                    },
                    validity: Validity::new(UnixTime(0), UnixTime(1_000)).unwrap(),
                    supersedes: None,
                    card_key: CheckedCardKey::check(CardPublicKey(key)).unwrap(),
                }
            })
            .collect()
    }

    #[test]
    fn each_chunk_is_in_the_order_of_its_serials_status_indexes_and_card_keys() {
        let input = cards(300);
        let mut allocator = IndexAllocator::new(1 << 16, &[]);
        let mut rng = StdRng::seed_from_u64(7);
        let chunks = plan_chunks(input, 128, PrintBatchId(3), &mut allocator, &mut rng).unwrap();
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [128, 128, 44]);
        let mut pay_numbers = Vec::new();
        for chunk in &chunks {
            assert!(chunk.windows(2).all(|w| w[0].serial < w[1].serial));
            assert!(
                chunk
                    .windows(2)
                    .all(|w| w[0].request.status_index < w[1].request.status_index)
            );
            assert!(
                chunk
                    .windows(2)
                    .all(|w| w[0].card_key.key().0 <= w[1].card_key.key().0)
            );
            for plan in chunk {
                assert_eq!(plan.request.card_key, Some(plan.card_key.key()));
                assert_eq!(plan.request.print_batch, PrintBatchId(3));
                pay_numbers.push(plan.request.holder.pay_number().to_owned());
            }
        }
        // Every card once, each in its own chunk of the roster.
        let mut sorted = pay_numbers.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 300);
        for (k, chunk) in chunks.iter().enumerate() {
            for plan in chunk {
                let i: usize = plan.request.holder.pay_number().parse().unwrap();
                assert_eq!(i / 128, k, "holder {i} left its chunk");
            }
        }
    }

    #[test]
    fn which_holder_gets_the_smallest_index_of_a_chunk_is_random() {
        // The sorted indexes go to the chunk's holders in a shuffled order: were they
        // handed out in roster order, the first holder of the roster would always get
        // the chunk's smallest index (and the status list would say who is who).
        let mut first = std::collections::BTreeSet::new();
        for seed in 0..64 {
            let mut allocator = IndexAllocator::new(1 << 16, &[]);
            let mut rng = StdRng::seed_from_u64(seed);
            let chunks =
                plan_chunks(cards(32), 32, PrintBatchId(1), &mut allocator, &mut rng).unwrap();
            let smallest = chunks
                .iter()
                .flatten()
                .min_by_key(|p| p.request.status_index)
                .unwrap();
            first.insert(smallest.request.holder.pay_number().to_owned());
        }
        // 64 draws of one holder among 32: about 28 distinct expected, 1 if not shuffled.
        assert!(
            first.len() >= 16,
            "only {} holders ever got the smallest index",
            first.len()
        );
    }

    #[test]
    fn a_large_run_commits_in_a_fixed_number_of_bounded_chunks() {
        // Small runs keep the chunk a crash can lose small; large ones commit about
        // COMMITS_PER_RUN times, never in chunks above MAX_CHUNK.
        assert_eq!(default_chunk(1), CHUNK);
        assert_eq!(default_chunk(CHUNK * COMMITS_PER_RUN), CHUNK);
        assert_eq!(default_chunk(47_000), 5_875);
        assert_eq!(default_chunk(1_000_000), 125_000);
        assert_eq!(default_chunk(4_000_000), MAX_CHUNK);
        for n in [47_000usize, 200_000, 1_000_000] {
            assert!(n.div_ceil(default_chunk(n)) <= COMMITS_PER_RUN);
        }
    }
}
