//! The backend conformance suite (feature `conformance`): every rule of the [`Store`]
//! contract, checked on a backend through the trait and through the [`Registry`]
//! workflow. A backend conforms if these functions return; a broken rule panics with a
//! message that starts `store conformance:` and names the rule.
//!
//! - [`check_store`] checks every rule, each on a fresh, empty store from `new_store`.
//! - [`check_concurrent_writers`] checks two and more writers on one database, each
//!   with its own handle from `open` (for backends that take several connections).
//! - [`check_invariants`] checks what must hold of any store at rest: after a crash,
//!   say, or at the end of a test.
//!
//! ```no_run
//! # #[cfg(feature = "sqlite")] {
//! use revocard::registry::{SqliteStore, conformance};
//!
//! conformance::check_store(|| SqliteStore::open_in_memory().unwrap());
//! let dir = std::env::temp_dir().join("revocard-conformance.sqlite");
//! conformance::check_concurrent_writers(|| SqliteStore::open(&dir).unwrap());
//! # }
//! ```
//!
//! The crate runs it on `SqliteStore` and on a crash-injecting wrapper
//! (`tests/store_conformance.rs`); the next backend is held to the same suite.

// A test harness: a broken rule is a panic naming it, and test fixtures unwrap.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Display;
use std::ops::ControlFlow;
use std::sync::Barrier;

use rand::{SeedableRng, rngs::StdRng};

use crate::issue::IssuerKey;
use crate::issue::{KeySetDraft, RootKey, SoftwareCards};
use crate::model::{
    AuditHead, CardPublicKey, Holder, IssuerId, KeyId, KeyUsage, Kind, PhotoDigest, PrintBatchId,
    Serial, StatusIndex, UnixTime, Validity,
};
use crate::model::{ForceVetting, PoliceVetting, Vetting};
use crate::model::{MIN_LIST_CAPACITY, RevocationReason, Scope, ScopeEntry, Status};

use super::audit::{AuditEvent, AuditRecord, seal, verify_chain};
use super::{
    AffectedCards, BlankCardList, BlankCards, Change, ConflictKind, CredentialFilter,
    CredentialRecord, HolderRequest, Hooks, Incident, JobKind, JobRecord, KeySetRecord, PrintBatch,
    PublicationRecord, Registry, RegistryError, RegistryMeta, RosterChange, StatusState, Store,
    Summary, WrongKey,
};

const ATOMIC: &str = "atomicity (a change is committed whole or not at all)";
const CAS: &str = "rule 1, audit compare-and-append";
const ONE_REPLACEMENT: &str = "rule 2, one replacement per card";
const UNIQUE_SERIAL: &str = "rule 3, unique serial";
const UNIQUE_INDEX: &str = "rule 4, unique status index";
const UNIQUE_SEQUENCE: &str = "rule 5, unique key-set and publication sequences";
const UNIQUE_ID: &str = "rule 6, unique print batch and job ids";
const REFERENCES: &str = "rule 7, references exist";
const CREATE_ONCE: &str = "rule 8, one registry per store";
const UNIQUE_CARD_KEY: &str = "rule 9, unique card key";
const CHAIN: &str = "audit continuity (the log verifies and ends at audit_head)";
const READ_BACK: &str = "reads return what was written";
const TWO_WRITERS: &str = "two writers (exactly one wins, the loser gets a typed conflict)";
const WORKFLOW: &str = "the registry workflow runs on the store";

const NOW: UnixTime = UnixTime(1_800_000_000);
const HOUR: u64 = 3600;
const YEAR: u64 = 365 * 24 * HOUR;
/// Small chunks, so that bulk work makes several commits.
const CHUNK_SIZE: usize = 8;

/// Panics, naming the broken rule.
#[track_caller]
fn broken(rule: &str, detail: impl Display) -> ! {
    panic!("store conformance: {rule}: {detail}")
}

#[track_caller]
fn check(ok: bool, rule: &str, detail: impl FnOnce() -> String) {
    if !ok {
        broken(rule, detail());
    }
}

#[track_caller]
fn ok<T>(rule: &str, what: &str, result: Result<T, RegistryError>) -> T {
    result.unwrap_or_else(|e| broken(rule, format!("{what} failed: {e} ({e:?})")))
}

/// The issuer every check uses: a root, one signing key it certifies, a seeded RNG.
struct Issuer {
    root: RootKey,
    key: IssuerKey,
    key_set: Vec<u8>,
    rng: StdRng,
}

impl Issuer {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let issuer = IssuerId::new("conformance-police").unwrap();
        let root = RootKey::generate(
            issuer.clone(),
            Validity::new(NOW.minus(YEAR), NOW.plus(20 * YEAR)).unwrap(),
            &mut rng,
        )
        .unwrap();
        let key = IssuerKey::generate(
            issuer,
            Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap(),
            &mut rng,
        )
        .unwrap();
        let mut draft = KeySetDraft::first(root.public(), NOW.minus(YEAR));
        draft
            .certify(key.public(), KeyUsage::CredentialsAndLists)
            .unwrap();
        let key_set = root.sign_key_set(&draft).unwrap();
        Self {
            root,
            key,
            key_set,
            rng,
        }
    }

    fn meta(&self) -> RegistryMeta {
        RegistryMeta {
            issuer: self.root.public().issuer().clone(),
            capacity: MIN_LIST_CAPACITY,
            root: self.root.public().clone(),
        }
    }

    /// Creates the registry through the workflow.
    fn create<S: Store>(&self, store: S) -> Registry<S> {
        let reg = ok(
            WORKFLOW,
            "creating a registry in an empty store",
            Registry::create(
                store,
                self.root.public(),
                &self.key_set,
                &self.key,
                MIN_LIST_CAPACITY,
                NOW,
                NOW.plus(HOUR),
            ),
        );
        reg.with_chunk_size(CHUNK_SIZE)
    }

    /// Issues cards to holders `from..from + n` through the workflow.
    fn issue<S: Store>(&mut self, reg: &mut Registry<S>, supplier: &str, from: u32, n: u32) {
        let roster: Vec<HolderRequest> = (from..from + n)
            .map(|i| HolderRequest {
                kind: Kind::WarrantCard,
                holder: holder(i),
                vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
                validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
            })
            .collect();
        let mut cards = self.blank_cards(n as usize);
        let report = ok(
            WORKFLOW,
            "issuing a roster",
            reg.issue_roster(
                &self.key,
                supplier,
                &roster,
                &mut cards,
                NOW,
                &mut self.rng,
                &mut Hooks::default(),
            ),
        );
        check(report.finished, WORKFLOW, || {
            format!("a roster issue did not finish: {report:?}")
        });
    }

    fn serial(&mut self) -> Serial {
        Serial::random(&mut self.rng)
    }

    /// `n` blank software cards.
    fn blank_cards(&mut self, n: usize) -> SoftwareCards {
        SoftwareCards::generate(n, &mut self.rng)
    }

    /// A supplier's list of `n` blank cards' public keys.
    fn card_list(&mut self, n: usize) -> BlankCardList {
        let mut cards = self.blank_cards(n);
        std::iter::from_fn(|| cards.next_card().unwrap()).collect()
    }
}

/// A card public key for records composed outside the workflow (the store never
/// decompresses it).
fn card_key(n: u8) -> Option<CardPublicKey> {
    Some(CardPublicKey([n; 32]))
}

fn holder(i: u32) -> Holder {
    Holder::new(
        format!("{:06}", 500_000 + i),
        format!("Officer {i}"),
        "Constable",
        "Conformance Unit",
        PhotoDigest::of(&i.to_be_bytes()),
    )
    .unwrap()
}

/// A credential record as a backend sees it (the store never decodes `bytes`).
fn record(
    serial: Serial,
    batch: PrintBatchId,
    index: u32,
    pay_number: &str,
    key_id: KeyId,
    supersedes: Option<Serial>,
) -> CredentialRecord {
    CredentialRecord {
        serial,
        pay_number: pay_number.to_owned(),
        status_index: StatusIndex(index),
        print_batch: batch,
        key_id,
        issued_at: NOW,
        status: Status::Valid,
        status_reason: None,
        supersedes,
        superseded_by: None,
        card_key: None,
        bytes: serial.0.to_vec(),
    }
}

fn batch(id: u32, supplier: &str) -> PrintBatch {
    PrintBatch {
        id: PrintBatchId(id),
        supplier: supplier.to_owned(),
        created_at: NOW,
    }
}

fn job(id: u64, batch: u32) -> JobRecord {
    JobRecord {
        id,
        kind: JobKind::Issue {
            batch: PrintBatchId(batch),
        },
        started_at: NOW,
        finished_at: None,
    }
}

/// Any event, to give a change audit entries.
fn event(n: u8) -> AuditEvent {
    AuditEvent::Suspended {
        serial: Serial([n; 16]),
    }
}

/// `n` entries sealed onto `head`, one after another, as the workflow seals them.
fn sealed(head: AuditHead, n: u8) -> Vec<AuditRecord> {
    let mut tail = head;
    (0..n)
        .map(|i| {
            let r = seal(tail, NOW, &event(i));
            tail = r.head();
            r
        })
        .collect()
}

/// A change with `audit` sealed onto the store's head, as the workflow would make it.
fn at_head<S: Store + ?Sized>(store: &S, mut change: Change) -> Change {
    change.audit = sealed(ok(READ_BACK, "audit_head", store.audit_head()), 1);
    change
}

/// Everything a store holds: "nothing was written" means this did not change.
#[derive(Debug, PartialEq)]
struct Contents {
    meta: Option<RegistryMeta>,
    head: AuditHead,
    log: Vec<AuditRecord>,
    batches: Vec<PrintBatch>,
    jobs: Vec<JobRecord>,
    credentials: Vec<CredentialRecord>,
    indexes: BTreeSet<u32>,
    state: StatusState,
    publication: Option<PublicationRecord>,
    key_set: Option<KeySetRecord>,
    roster: Vec<HolderRequest>,
    card_keys: BTreeSet<[u8; 32]>,
}

fn contents<S: Store + ?Sized>(store: &S) -> Contents {
    Contents {
        meta: read_meta(store),
        head: ok(READ_BACK, "audit_head", store.audit_head()),
        log: ok(READ_BACK, "audit_log", store.audit_log()),
        batches: ok(READ_BACK, "batches", store.batches()),
        jobs: ok(READ_BACK, "jobs", store.jobs()),
        credentials: ok(
            READ_BACK,
            "credentials",
            store.credentials(&CredentialFilter::All),
        ),
        indexes: ok(READ_BACK, "status_indexes", store.status_indexes())
            .into_iter()
            .collect(),
        state: ok(READ_BACK, "status_state", store.status_state()),
        publication: ok(READ_BACK, "latest_publication", store.latest_publication()),
        key_set: ok(READ_BACK, "latest_key_set", store.latest_key_set()),
        roster: ok(READ_BACK, "roster", store.roster()),
        card_keys: ok(READ_BACK, "card_keys", store.card_keys())
            .into_iter()
            .map(|k| k.0)
            .collect(),
    }
}

fn read_meta<S: Store + ?Sized>(store: &S) -> Option<RegistryMeta> {
    ok(READ_BACK, "meta", store.meta())
}

/// The log verifies from its first entry and ends at `audit_head`.
#[track_caller]
fn chain_intact<S: Store + ?Sized>(store: &S) -> AuditHead {
    let log = ok(CHAIN, "audit_log", store.audit_log());
    let head = verify_chain(&log).unwrap_or_else(|e| broken(CHAIN, e));
    let stored = ok(CHAIN, "audit_head", store.audit_head());
    check(head == stored, CHAIN, || {
        format!(
            "the log ends at entry {} but audit_head says {}",
            head.entries, stored.entries
        )
    });
    head
}

/// Applies a change that the contract refuses, and checks it was refused as `expected`
/// and left nothing behind.
#[track_caller]
fn refused<S: Store + ?Sized>(
    store: &mut S,
    change: &Change,
    (rule, case): (&str, &str),
    expected: impl Fn(&RegistryError) -> bool,
) {
    let before = contents(store);
    match store.apply(change) {
        Ok(()) => broken(
            rule,
            format!("{case}: committed, though the contract refuses it"),
        ),
        Err(e) if expected(&e) => {}
        Err(e) => broken(rule, format!("{case}: refused, but as {e:?}")),
    }
    check(contents(store) == before, ATOMIC, || {
        format!("{rule}: {case}: refused, but part of it was left in the store")
    });
    chain_intact(store);
}

fn conflict(kind: ConflictKind) -> impl Fn(&RegistryError) -> bool {
    move |e| matches!(e, RegistryError::Conflict(k) if *k == kind)
}

fn stale_head(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::Conflict(ConflictKind::StaleAuditHead { .. })
    )
}

/// Checks every rule of the [`Store`] contract, through the trait and through the
/// [`Registry`] workflow, each check on a fresh empty store from `new_store`.
///
/// # Panics
/// With a message starting `store conformance:` and naming the rule, when the store
/// breaks one.
pub fn check_store<S: Store>(mut new_store: impl FnMut() -> S) {
    an_empty_store_reads_empty(&new_store());
    a_registry_is_created_once(new_store());
    records_read_back_as_written(new_store());
    a_failed_change_leaves_nothing(new_store());
    a_card_is_replaced_at_most_once(new_store());
    audit_entries_append_only_onto_the_head(new_store());
    the_workflow_runs_end_to_end(new_store());
    the_roster_reads_back_as_written(new_store());
}

/// Roster upserts replace by pay number, removals delete, and reads are ordered by pay
/// number, with every field as written.
fn the_roster_reads_back_as_written<S: Store>(store: S) {
    let issuer = Issuer::new(9);
    let mut store = issuer.create(store).into_store();
    let entry = |pay: &str, rank: &str, vetting: Vetting| HolderRequest {
        kind: Kind::StaffPass,
        holder: Holder::new(pay, "Ann Other", rank, "Custody", PhotoDigest([7; 32]))
            .unwrap_or_else(|e| panic!("{e}")),
        vetting,
        validity: Validity::new(NOW, NOW.plus(1000)).unwrap_or_else(|e| panic!("{e}")),
    };
    let rv = Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None);
    let mv = Vetting::new(
        PoliceVetting::Force(ForceVetting::Management),
        Some(crate::model::NationalSecurity::Sc),
    );
    let first = Change {
        roster: vec![
            RosterChange::Upsert(entry("300", "Band A", rv)),
            RosterChange::Upsert(entry("100", "Band B", rv)),
            RosterChange::Upsert(entry("200", "Band C", rv)),
        ],
        ..Change::default()
    };
    ok(READ_BACK, "applying a roster change", store.apply(&first));
    let second = Change {
        roster: vec![
            RosterChange::Upsert(entry("100", "Sergeant", mv)),
            RosterChange::Remove("200".to_owned()),
            RosterChange::Remove("999".to_owned()),
        ],
        ..Change::default()
    };
    ok(READ_BACK, "applying a roster change", store.apply(&second));
    let got = ok(READ_BACK, "roster", store.roster());
    let want = vec![entry("100", "Sergeant", mv), entry("300", "Band A", rv)];
    check(got == want, READ_BACK, || {
        format!("the roster reads back as {got:?}, not {want:?}")
    });
}

fn an_empty_store_reads_empty<S: Store>(store: &S) {
    let c = contents(store);
    let empty = Contents {
        meta: None,
        head: AuditHead::EMPTY,
        log: Vec::new(),
        batches: Vec::new(),
        jobs: Vec::new(),
        credentials: Vec::new(),
        indexes: BTreeSet::new(),
        state: StatusState::default(),
        publication: None,
        key_set: None,
        roster: Vec::new(),
        card_keys: BTreeSet::new(),
    };
    check(c == empty, READ_BACK, || {
        format!("a new store is not empty: {c:?}")
    });
}

fn a_registry_is_created_once<S: Store>(store: S) {
    let issuer = Issuer::new(1);
    let reg = issuer.create(store);
    let meta = read_meta(reg.store());
    check(meta == Some(issuer.meta()), READ_BACK, || {
        format!("meta does not round-trip: {meta:?}")
    });
    chain_intact(reg.store());
    let reg = ok(WORKFLOW, "opening", Registry::open(reg.into_store()));
    let mut store = reg.into_store();
    // Bypassing the workflow's read: only the backend stops a second creation.
    let mut other = issuer.meta();
    other.capacity *= 2;
    let change = at_head(
        &store,
        Change {
            create: Some(other),
            ..Change::default()
        },
    );
    refused(
        &mut store,
        &change,
        (
            CREATE_ONCE,
            "a second creation, bypassing the workflow's read",
        ),
        |e| matches!(e, RegistryError::AlreadyCreated),
    );
    // And the workflow reads first.
    match Registry::create(
        store,
        issuer.root.public(),
        &issuer.key_set,
        &issuer.key,
        MIN_LIST_CAPACITY,
        NOW,
        NOW.plus(HOUR),
    ) {
        Err(RegistryError::AlreadyCreated) => {}
        other => broken(
            CREATE_ONCE,
            format!("creating twice through the workflow gave {:?}", other.err()),
        ),
    }
}

fn records_read_back_as_written<S: Store>(store: S) {
    let mut issuer = Issuer::new(2);
    let mut store = issuer.create(store).into_store();
    let (k1, k2) = (KeyId([1; 8]), KeyId([2; 8]));
    let (b10, b11) = (PrintBatchId(10), PrintBatchId(11));
    let s: Vec<Serial> = (0..4).map(|_| issuer.serial()).collect();
    let mut c = vec![
        record(s[0], b10, 100, "p1", k1, None),
        record(s[1], b10, 101, "p2", k2, None),
        record(s[2], b11, 102, "p1", k1, Some(s[0])),
        record(s[3], b11, 103, "p3", k2, None),
    ];
    c[0].card_key = card_key(0xA0);
    c[2].card_key = card_key(0xA2);
    c[2].status = Status::Suspended;
    c[2].status_reason = Some((RevocationReason::Lost, NOW));
    c[3].status = Status::Revoked;
    c[3].status_reason = Some((RevocationReason::Stolen, NOW.plus(1)));
    let jobs = vec![
        job(5, 10),
        JobRecord {
            id: 6,
            kind: JobKind::Reissue {
                incident: Incident::Serials {
                    serials: vec![s[0], s[1]],
                },
                affected: AffectedCards::Serials(vec![s[0], s[1]]),
                batch: b11,
                revoked_in: 2,
            },
            started_at: NOW.plus(3),
            finished_at: None,
        },
        // The compact form declare writes (status indexes, count and digest).
        JobRecord {
            id: 7,
            kind: JobKind::Reissue {
                incident: Incident::Serials {
                    serials: vec![s[0], s[1]],
                },
                affected: AffectedCards::from_indexes(vec![(1, s[1]), (0, s[0])], 64),
                batch: b11,
                revoked_in: 2,
            },
            started_at: NOW.plus(3),
            finished_at: None,
        },
    ];
    let scope1 = ScopeEntry {
        scope: Scope::PrintBatch(b10),
        reason: RevocationReason::SupplierBreach,
        since: NOW,
    };
    let publication = PublicationRecord {
        sequence: 2,
        published_at: NOW.plus(4),
        list: vec![2; 300],
        delta: Some(vec![3; 40]),
    };
    let key_set = KeySetRecord {
        sequence: 2,
        installed_at: NOW.plus(5),
        bytes: vec![5; 120],
    };
    let head = ok(READ_BACK, "audit_head", store.audit_head());
    let audit = sealed(head, 2);
    let change = Change {
        batches: vec![batch(10, "alpha-print"), batch(11, "beta-print")],
        jobs: jobs.clone(),
        credentials: c.clone(),
        scopes: vec![scope1],
        publication: Some(publication.clone()),
        key_set: Some(key_set.clone()),
        audit: audit.clone(),
        ..Change::default()
    };
    ok(READ_BACK, "applying a change", store.apply(&change));
    let mut expected = c.clone();
    expected[0].superseded_by = Some(s[2]);
    let got = contents(&store);
    let want_state = StatusState {
        sequence: 2,
        entries: vec![
            (102, Status::Suspended, Some((RevocationReason::Lost, NOW))),
            (
                103,
                Status::Revoked,
                Some((RevocationReason::Stolen, NOW.plus(1))),
            ),
        ],
        scopes: vec![scope1],
    };
    check(got.batches == change.batches, READ_BACK, || {
        format!("batches: {:?}", got.batches)
    });
    check(got.jobs == jobs, READ_BACK, || {
        format!("jobs (oldest first): {:?}", got.jobs)
    });
    check(got.credentials == expected, READ_BACK, || {
        format!(
            "credentials (in the order stored, superseded_by derived from supersedes): {:?}",
            got.credentials
        )
    });
    check(
        got.indexes == BTreeSet::from([100, 101, 102, 103]),
        READ_BACK,
        || format!("status indexes: {:?}", got.indexes),
    );
    check(
        got.card_keys == BTreeSet::from([[0xA0; 32], [0xA2; 32]]),
        READ_BACK,
        || format!("card keys (bound ones only): {:?}", got.card_keys),
    );
    check(sorted_state(&got.state) == want_state, READ_BACK, || {
        format!("status state: {:?}", got.state)
    });
    check(
        got.publication.as_ref() == Some(&publication),
        READ_BACK,
        || format!("latest publication: {:?}", got.publication),
    );
    let second = ok(READ_BACK, "publication(2)", store.publication(2));
    check(second == Some(publication), READ_BACK, || {
        format!("publication(2): {second:?}")
    });
    let first = ok(READ_BACK, "publication(1)", store.publication(1));
    check(first.is_some(), READ_BACK, || {
        "publication(1), written at creation, is gone".to_owned()
    });
    let missing = ok(READ_BACK, "publication(99)", store.publication(99));
    check(missing.is_none(), READ_BACK, || {
        format!("publication(99) was never written: {missing:?}")
    });
    check(got.key_set == Some(key_set.clone()), READ_BACK, || {
        format!("latest key set (highest sequence): {:?}", got.key_set)
    });
    let all_sets = ok(READ_BACK, "key_sets", store.key_sets());
    check(
        all_sets.len() == 2
            && all_sets.first().is_some_and(|s| s.sequence == 1)
            && all_sets.last() == Some(&key_set),
        READ_BACK,
        || {
            format!(
                "key_sets: every set installed, oldest first (1, then 2): {:?}",
                all_sets.iter().map(|s| s.sequence).collect::<Vec<_>>()
            )
        },
    );
    check(got.log.ends_with(&audit), READ_BACK, || {
        "the audit log does not end with the change's entries, as sealed".to_owned()
    });
    chain_intact(&store);

    // Statuses, finished jobs and more scope entries, in a second change.
    let scope2 = ScopeEntry {
        scope: Scope::IssuerKey(k2),
        reason: RevocationReason::IssuerKeyCompromise,
        since: NOW.plus(6),
    };
    let revoked = Some((RevocationReason::SupplierBreach, NOW.plus(2)));
    let change = at_head(
        &store,
        Change {
            finished_jobs: vec![(5, NOW.plus(5))],
            statuses: vec![
                (s[1], Status::Revoked, revoked),
                (s[2], Status::Valid, None),
            ],
            scopes: vec![scope2],
            ..Change::default()
        },
    );
    ok(READ_BACK, "applying a second change", store.apply(&change));
    let got = contents(&store);
    check(
        got.jobs[0].finished_at == Some(NOW.plus(5)) && got.jobs[1].finished_at.is_none(),
        READ_BACK,
        || format!("finished jobs: {:?}", got.jobs),
    );
    expected[1].status = Status::Revoked;
    expected[1].status_reason = revoked;
    expected[2].status = Status::Valid;
    expected[2].status_reason = None;
    check(got.credentials == expected, READ_BACK, || {
        format!("credentials after status changes: {:?}", got.credentials)
    });
    let want_state = StatusState {
        sequence: 2,
        entries: vec![
            (101, Status::Revoked, revoked),
            (
                103,
                Status::Revoked,
                Some((RevocationReason::Stolen, NOW.plus(1))),
            ),
        ],
        scopes: vec![scope1, scope2],
    };
    check(sorted_state(&got.state) == want_state, READ_BACK, || {
        format!(
            "status state (scope entries in the order added): {:?}",
            got.state
        )
    });

    // Filters: each matching credential once, and nothing else.
    let find = |filter: CredentialFilter, want: &[usize]| {
        let found = ok(READ_BACK, "credentials", store.credentials(&filter));
        let mut found_sorted: Vec<_> = found.iter().map(|r| r.serial).collect();
        found_sorted.sort();
        let mut wanted: Vec<_> = want.iter().map(|&i| s[i]).collect();
        wanted.sort();
        check(found_sorted == wanted, READ_BACK, || {
            format!("filter {filter:?} found {found:?}")
        });
        for r in &found {
            let full = expected.iter().find(|e| e.serial == r.serial);
            check(full == Some(r), READ_BACK, || {
                format!("filter {filter:?} read {r:?}, not the record as stored")
            });
        }
    };
    find(CredentialFilter::All, &[0, 1, 2, 3]);
    find(
        CredentialFilter::PrintBatches(vec![b11, b10]),
        &[0, 1, 2, 3],
    );
    find(CredentialFilter::PrintBatches(vec![b10]), &[0, 1]);
    find(CredentialFilter::PrintBatches(Vec::new()), &[]);
    find(CredentialFilter::IssuerKey(k1), &[0, 2]);
    find(
        CredentialFilter::Serials(vec![s[3], s[0], s[3], Serial([0xEE; 16])]),
        &[0, 3],
    );
    find(
        CredentialFilter::PayNumbers(vec!["p1".into(), "nobody".into()]),
        &[0, 2],
    );
}

fn sorted_state(state: &StatusState) -> StatusState {
    let mut s = state.clone();
    s.entries.sort_by_key(|e| e.0);
    s
}

fn a_failed_change_leaves_nothing<S: Store>(store: S) {
    let mut issuer = Issuer::new(3);
    let mut store = issuer.create(store).into_store();
    let k = KeyId([9; 8]);
    let held = issuer.serial();
    let base = at_head(
        &store,
        Change {
            batches: vec![batch(1, "alpha-print")],
            jobs: vec![job(1, 1)],
            credentials: vec![CredentialRecord {
                card_key: card_key(0xB1),
                ..record(held, PrintBatchId(1), 1, "p1", k, None)
            }],
            ..Change::default()
        },
    );
    ok(ATOMIC, "applying a change", store.apply(&base));
    chain_intact(&store);

    // Each change below writes a batch, a job, two good credentials, a status change,
    // a scope entry, a publication and an audit entry, then breaks one rule with its
    // last item: nothing of it may remain.
    let failing = |issuer: &mut Issuer,
                   store: &mut S,
                   (rule, case): (&str, &str),
                   kind: ConflictKind,
                   spoil: &dyn Fn(&mut Change, Serial)| {
        let (a, b) = (issuer.serial(), issuer.serial());
        let mut change = Change {
            batches: vec![batch(2, "beta-print")],
            jobs: vec![job(2, 2)],
            credentials: vec![
                record(a, PrintBatchId(2), 10, "p2", k, None),
                record(b, PrintBatchId(2), 11, "p3", k, None),
            ],
            statuses: vec![(held, Status::Suspended, Some((RevocationReason::Lost, NOW)))],
            scopes: vec![ScopeEntry {
                scope: Scope::PrintBatch(PrintBatchId(1)),
                reason: RevocationReason::SupplierBreach,
                since: NOW,
            }],
            publication: Some(PublicationRecord {
                sequence: 2,
                published_at: NOW,
                list: vec![1; 10],
                delta: None,
            }),
            ..Change::default()
        };
        spoil(&mut change, issuer.serial());
        let change = at_head(store, change);
        refused(store, &change, (rule, case), conflict(kind));
    };
    failing(
        &mut issuer,
        &mut store,
        (
            UNIQUE_SERIAL,
            "a credential whose serial is held, last in its change",
        ),
        ConflictKind::SerialInUse,
        &|c, _| {
            c.credentials
                .push(record(held, PrintBatchId(2), 12, "p4", k, None));
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (
            UNIQUE_SERIAL,
            "two credentials with one serial in one change",
        ),
        ConflictKind::SerialInUse,
        &|c, _| {
            let twin = c.credentials[0].serial;
            c.credentials
                .push(record(twin, PrintBatchId(2), 12, "p4", k, None));
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (
            UNIQUE_INDEX,
            "a credential on a status index in use, last in its change",
        ),
        ConflictKind::StatusIndexInUse,
        &|c, fresh| {
            c.credentials
                .push(record(fresh, PrintBatchId(2), 1, "p4", k, None));
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (
            REFERENCES,
            "a credential in a print batch not held, last in its change",
        ),
        ConflictKind::UnknownBatch,
        &|c, fresh| {
            c.credentials
                .push(record(fresh, PrintBatchId(77), 12, "p4", k, None));
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (
            REFERENCES,
            "a status change of a card not held, last in its change",
        ),
        ConflictKind::UnknownCredential,
        &|c, fresh| c.statuses.push((fresh, Status::Revoked, None)),
    );
    failing(
        &mut issuer,
        &mut store,
        (
            UNIQUE_CARD_KEY,
            "a credential binding a card key already bound, last in its change",
        ),
        ConflictKind::CardKeyInUse,
        &|c, fresh| {
            c.credentials.push(CredentialRecord {
                card_key: card_key(0xB1),
                ..record(fresh, PrintBatchId(2), 12, "p4", k, None)
            });
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (
            UNIQUE_CARD_KEY,
            "two credentials binding one card key in one change",
        ),
        ConflictKind::CardKeyInUse,
        &|c, fresh| {
            c.credentials[1].card_key = card_key(0xB2);
            c.credentials.push(CredentialRecord {
                card_key: card_key(0xB2),
                ..record(fresh, PrintBatchId(2), 12, "p4", k, None)
            });
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (UNIQUE_ID, "a print batch id in use, last in its change"),
        ConflictKind::BatchIdInUse,
        &|c, _| c.batches.push(batch(1, "gamma-print")),
    );
    failing(
        &mut issuer,
        &mut store,
        (UNIQUE_ID, "a job id in use, last in its change"),
        ConflictKind::JobIdInUse,
        &|c, _| c.jobs.push(job(1, 2)),
    );
    failing(
        &mut issuer,
        &mut store,
        (UNIQUE_SEQUENCE, "a publication sequence in use"),
        ConflictKind::PublicationSequenceInUse,
        &|c, _| {
            if let Some(p) = &mut c.publication {
                p.sequence = 1;
            }
        },
    );
    failing(
        &mut issuer,
        &mut store,
        (UNIQUE_SEQUENCE, "a key-set sequence in use"),
        ConflictKind::KeySetSequenceInUse,
        &|c, _| {
            c.key_set = Some(KeySetRecord {
                sequence: 1,
                installed_at: NOW,
                bytes: vec![1; 10],
            });
        },
    );
    // After every refusal the store still takes a good change (credentials that bind
    // no card key do not conflict with one another, and 0xB2 was never bound).
    let (fresh, other) = (issuer.serial(), issuer.serial());
    let good = at_head(
        &store,
        Change {
            batches: vec![batch(2, "beta-print")],
            credentials: vec![
                CredentialRecord {
                    card_key: card_key(0xB2),
                    ..record(fresh, PrintBatchId(2), 10, "p2", k, None)
                },
                record(other, PrintBatchId(2), 11, "p3", k, None),
            ],
            ..Change::default()
        },
    );
    ok(
        ATOMIC,
        "a good change after refused ones",
        store.apply(&good),
    );
    chain_intact(&store);
}

fn a_card_is_replaced_at_most_once<S: Store>(store: S) {
    let mut issuer = Issuer::new(4);
    let mut reg = issuer.create(store);
    issuer.issue(&mut reg, "alpha-print", 0, 4);
    let cards = ok(
        READ_BACK,
        "credentials",
        reg.store().credentials(&CredentialFilter::All),
    );
    let (first, second) = (cards[0].serial, cards[1].serial);
    // The workflow replaces the first card.
    let mut blank = issuer.blank_cards(1);
    let report = ok(
        WORKFLOW,
        "executing an incident",
        reg.execute(
            &Incident::Serials {
                serials: vec![first],
            },
            &issuer.key,
            "beta-print",
            &mut blank,
            NOW.plus(10),
            NOW.plus(HOUR),
            &mut issuer.rng,
            &mut Hooks::default(),
        ),
    );
    check(report.is_some_and(|r| r.reissued == 1), WORKFLOW, || {
        "the incident did not replace its one card".to_owned()
    });
    let key_id = issuer.key.key_id();
    let batch = PrintBatchId(2);
    let unused = |store: &S, n: u32| -> Vec<u32> {
        let used: HashSet<u32> = ok(READ_BACK, "status_indexes", store.status_indexes())
            .into_iter()
            .collect();
        (0..MIN_LIST_CAPACITY)
            .filter(|i| !used.contains(i))
            .take(n as usize)
            .collect()
    };
    // A second replacement of it, composed outside the workflow (so that no read
    // checked it): only the store can refuse it.
    let free = unused(reg.store(), 2);
    let change = at_head(
        reg.store(),
        Change {
            credentials: vec![record(
                issuer.serial(),
                batch,
                free[0],
                &cards[0].pay_number,
                key_id,
                Some(first),
            )],
            ..Change::default()
        },
    );
    refused(
        reg.store_mut(),
        &change,
        (
            ONE_REPLACEMENT,
            "a second replacement of a replaced card, bypassing the workflow's read",
        ),
        conflict(ConflictKind::AlreadySuperseded),
    );
    // Two replacements of one card in one change.
    let change = at_head(
        reg.store(),
        Change {
            credentials: vec![
                record(issuer.serial(), batch, free[0], "p", key_id, Some(second)),
                record(issuer.serial(), batch, free[1], "p", key_id, Some(second)),
            ],
            ..Change::default()
        },
    );
    refused(
        reg.store_mut(),
        &change,
        (
            ONE_REPLACEMENT,
            "two replacements of one card in one change",
        ),
        conflict(ConflictKind::AlreadySuperseded),
    );
    // A replacement of a card the store does not hold.
    let change = at_head(
        reg.store(),
        Change {
            credentials: vec![record(
                issuer.serial(),
                batch,
                free[0],
                "p",
                key_id,
                Some(Serial([0xEE; 16])),
            )],
            ..Change::default()
        },
    );
    refused(
        reg.store_mut(),
        &change,
        (
            ONE_REPLACEMENT,
            "a replacement of a card the store does not hold",
        ),
        conflict(ConflictKind::UnknownCredential),
    );
    // A card replaced by one issued earlier in the same change is held: accepted.
    let (new, newer) = (issuer.serial(), issuer.serial());
    let change = at_head(
        reg.store(),
        Change {
            credentials: vec![
                record(new, batch, free[0], "p", key_id, None),
                record(newer, batch, free[1], "p", key_id, Some(new)),
            ],
            ..Change::default()
        },
    );
    ok(
        ONE_REPLACEMENT,
        "replacing a card issued earlier in the same change",
        reg.store_mut().apply(&change),
    );
    let replaced = ok(
        READ_BACK,
        "credentials",
        reg.store()
            .credentials(&CredentialFilter::Serials(vec![new])),
    );
    check(
        replaced.first().and_then(|r| r.superseded_by) == Some(newer),
        ONE_REPLACEMENT,
        || format!("superseded_by is not derived from supersedes: {replaced:?}"),
    );
    check_invariants(reg.store());
}

fn audit_entries_append_only_onto_the_head<S: Store>(store: S) {
    let issuer = Issuer::new(5);
    let mut store = issuer.create(store).into_store();
    let head0 = chain_intact(&store);
    let change = Change {
        audit: sealed(head0, 1),
        ..Change::default()
    };
    ok(CAS, "appending onto the head", store.apply(&change));
    let head1 = chain_intact(&store);
    check(head1.entries == head0.entries + 1, CAS, || {
        format!("one entry appended, head went {head0:?} -> {head1:?}")
    });
    // Sealed onto a head that is no longer the head (another writer appended since).
    let stale = Change {
        audit: sealed(head0, 1),
        ..Change::default()
    };
    let case = "entries sealed onto a head another writer has since moved";
    refused(&mut store, &stale, (CAS, case), |e| {
        matches!(e, RegistryError::Conflict(ConflictKind::StaleAuditHead { sealed_on, head })
            if *sealed_on == head0 && *head == head1)
    });
    // Sealed onto a head of the same length but another history (a fork).
    let fork = AuditHead {
        entries: head1.entries,
        hash: [0x5A; 32],
    };
    let forked = Change {
        audit: sealed(fork, 1),
        ..Change::default()
    };
    refused(
        &mut store,
        &forked,
        (
            CAS,
            "entries sealed onto a fork of the log (its length, another hash)",
        ),
        stale_head,
    );
    // Sealed past the head (an entry missing in between).
    let ahead = AuditHead {
        entries: head1.entries + 1,
        hash: head1.hash,
    };
    let gap = Change {
        audit: sealed(ahead, 1),
        ..Change::default()
    };
    refused(
        &mut store,
        &gap,
        (CAS, "entries sealed past the head (one missing between)"),
        stale_head,
    );
    // Entries that do not follow one another: both sealed onto the head.
    let mut twice = sealed(head1, 1);
    twice.push(seal(head1, NOW, &event(9)));
    let unchained = Change {
        audit: twice,
        ..Change::default()
    };
    refused(
        &mut store,
        &unchained,
        (CAS, "two entries sealed onto the same head in one change"),
        stale_head,
    );
    // A stale change with data: none of its data is written either.
    let stale_data = Change {
        batches: vec![batch(5, "alpha-print")],
        audit: sealed(head0, 2),
        ..Change::default()
    };
    refused(
        &mut store,
        &stale_data,
        (
            CAS,
            "a change with data, its entries sealed onto a stale head",
        ),
        stale_head,
    );
    // The head is unchanged by all of that, and still takes the next entry.
    let next = Change {
        audit: sealed(head1, 3),
        ..Change::default()
    };
    ok(
        CAS,
        "appending three entries onto the head",
        store.apply(&next),
    );
    let head2 = chain_intact(&store);
    check(head2.entries == head1.entries + 3, CAS, || {
        format!("three entries appended, head went {head1:?} -> {head2:?}")
    });
}

fn the_workflow_runs_end_to_end<S: Store>(store: S) {
    let mut issuer = Issuer::new(6);
    let mut reg = issuer.create(store);
    issuer.issue(&mut reg, "alpha-print", 0, 20);
    chain_intact(reg.store());
    let cards = ok(
        READ_BACK,
        "credentials",
        reg.store().credentials(&CredentialFilter::All),
    );
    check(cards.len() == 20, WORKFLOW, || {
        format!("20 cards issued, {} stored", cards.len())
    });
    let supplier_list = issuer.card_list(19);
    let key = &issuer.key;
    for (serial, status) in [
        (cards[0].serial, Status::Suspended),
        (cards[0].serial, Status::Valid),
        (cards[1].serial, Status::Revoked),
    ] {
        ok(
            WORKFLOW,
            "changing a status",
            reg.set_status(
                key,
                serial,
                status,
                RevocationReason::Lost,
                NOW.plus(5),
                NOW.plus(HOUR),
            ),
        );
        chain_intact(reg.store());
    }
    // The reissue stops after its first chunk, then resumes to the end, given the
    // same supplier's list again: the keys the first chunk bound are skipped.
    let incident = Incident::Supplier {
        supplier: "alpha-print".to_owned(),
    };
    let mut stop = Hooks {
        progress: Box::new(|_| ControlFlow::Break(())),
        ..Hooks::default()
    };
    let first = ok(
        WORKFLOW,
        "executing an incident",
        reg.execute(
            &incident,
            key,
            "beta-print",
            &mut supplier_list.clone(),
            NOW.plus(10),
            NOW.plus(HOUR),
            &mut issuer.rng,
            &mut stop,
        ),
    );
    check(
        first
            .as_ref()
            .is_some_and(|r| !r.finished && r.reissued == CHUNK_SIZE as u64),
        WORKFLOW,
        || format!("a reissue stopped after one chunk reported {first:?}"),
    );
    // The declaration names the affected cards (all but the revoked one) by SHA-256
    // over their serials in ascending order, whatever order this store reads them in.
    let mut affected: Vec<[u8; 16]> = cards
        .iter()
        .filter(|c| c.serial != cards[1].serial)
        .map(|c| c.serial.0)
        .collect();
    affected.sort_unstable();
    let want = crate::model::hex(&<sha2::Sha256 as sha2::Digest>::digest(affected.concat()));
    let declared: Vec<String> = ok(READ_BACK, "the audit log", reg.store().audit_log())
        .iter()
        .filter_map(|r| match serde_json::from_str(&r.event_json) {
            Ok(AuditEvent::IncidentDeclared {
                affected_digest, ..
            }) => Some(affected_digest),
            _ => None,
        })
        .collect();
    check(declared == [want.clone()], WORKFLOW, || {
        format!("the declaration's affected digest: {declared:?}, expected [{want}]")
    });
    check_invariants(reg.store());
    let end = ok(
        WORKFLOW,
        "resuming",
        reg.resume(
            key,
            &mut supplier_list.clone(),
            NOW.plus(20),
            NOW.plus(HOUR),
            &mut issuer.rng,
            &mut Hooks::default(),
        ),
    );
    check(
        end.as_ref().is_some_and(|r| r.finished && r.reissued == 19),
        WORKFLOW,
        || format!("the resumed reissue reported {end:?}"),
    );
    let want = Summary {
        issued: 39,
        active: 19,
        revoked: 20,
        suspended: 0,
        superseded: 19,
    };
    let summary = ok(WORKFLOW, "summary", reg.summary());
    check(summary == want, WORKFLOW, || format!("summary {summary:?}"));
    ok(WORKFLOW, "verify_audit", reg.verify_audit());
    let bound: BTreeSet<[u8; 32]> = ok(READ_BACK, "card_keys", reg.store().card_keys())
        .into_iter()
        .map(|k| k.0)
        .collect();
    let mut listed = supplier_list.clone();
    let supplied: BTreeSet<[u8; 32]> = std::iter::from_fn(|| listed.next_card().unwrap())
        .map(|k| k.key().0)
        .collect();
    check(
        supplied.is_subset(&bound) && bound.len() == 20 + 19,
        WORKFLOW,
        || {
            format!(
                "after a stopped reissue resumed with the same supplier list, {} of its 19 keys are bound, {} keys in all (20 roster cards + 19 replacements)",
                supplied.intersection(&bound).count(),
                bound.len()
            )
        },
    );
    let again = ok(
        WORKFLOW,
        "executing the incident again",
        reg.execute(
            &incident,
            key,
            "gamma-print",
            &mut BlankCardList::new(),
            NOW.plus(30),
            NOW.plus(HOUR),
            &mut issuer.rng,
            &mut Hooks::default(),
        ),
    );
    check(again.is_none(), WORKFLOW, || {
        format!("a handled incident did more: {again:?}")
    });
    check_invariants(reg.store());
    // Everything is read back through a new registry over the same store.
    let reg = ok(WORKFLOW, "opening", Registry::open(reg.into_store()));
    let summary = ok(WORKFLOW, "summary", reg.summary());
    check(summary == want, READ_BACK, || {
        format!("summary after reopening {summary:?}")
    });
}

/// How a writer's attempt ended, as a thread reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    Committed,
    StaleHead,
    Other(String),
}

fn attempt(result: Result<(), RegistryError>) -> Attempt {
    match result {
        Ok(()) => Attempt::Committed,
        Err(e) if stale_head(&e) => Attempt::StaleHead,
        Err(e) => Attempt::Other(format!("{e:?}")),
    }
}

/// Checks several writers on one database: `open` must give a new handle on the same
/// database each time it is called (the first call may find it empty). Two writers
/// that composed conflicting changes from the same reads: exactly one wins, the other
/// gets a typed conflict, and the audit chain stays one chain; the same holds for four
/// writers racing on four threads, and for two registries changing statuses at once
/// (each retrying on a conflict); and what one handle commits (a key revocation) is
/// seen by the other.
///
/// # Panics
/// With a message starting `store conformance:` and naming the rule, when the store
/// breaks one.
pub fn check_concurrent_writers<S: Store + Send>(open: impl Fn() -> S + Sync) {
    let mut issuer = Issuer::new(7);
    let mut a = issuer.create(open());
    issuer.issue(&mut a, "alpha-print", 0, 6);
    let mut b = ok(
        TWO_WRITERS,
        "opening a second handle",
        Registry::open(open()),
    );
    let (sa, sb) = (
        ok(READ_BACK, "summary", a.summary()),
        ok(READ_BACK, "summary", b.summary()),
    );
    check(sa == sb, TWO_WRITERS, || {
        format!("the handles read different registries: {sa:?} and {sb:?}")
    });
    let cards = ok(
        READ_BACK,
        "credentials",
        a.store().credentials(&CredentialFilter::All),
    );
    let key_id = issuer.key.key_id();
    let free: Vec<u32> = {
        let used: HashSet<u32> = cards.iter().map(|r| r.status_index.0).collect();
        (0..MIN_LIST_CAPACITY)
            .filter(|i| !used.contains(i))
            .take(8)
            .collect()
    };
    let replacement = |issuer: &mut Issuer, index: u32, old: &CredentialRecord| {
        record(
            issuer.serial(),
            old.print_batch,
            index,
            &old.pay_number,
            key_id,
            Some(old.serial),
        )
    };

    // Both read the same head and replace the same card.
    let head = ok(READ_BACK, "audit_head", a.store().audit_head());
    let other = ok(READ_BACK, "audit_head", b.store().audit_head());
    check(head == other, TWO_WRITERS, || {
        format!("the handles read different heads: {head:?} and {other:?}")
    });
    let win = replacement(&mut issuer, free[0], &cards[0]);
    let lose = replacement(&mut issuer, free[1], &cards[0]);
    let change = |r: CredentialRecord| Change {
        credentials: vec![r],
        audit: sealed(head, 1),
        ..Change::default()
    };
    ok(
        TWO_WRITERS,
        "the first writer",
        a.store_mut().apply(&change(win.clone())),
    );
    match attempt(b.store_mut().apply(&change(lose))) {
        Attempt::StaleHead => {}
        other => broken(
            TWO_WRITERS,
            format!("the second writer, sealed onto the same head, got {other:?}"),
        ),
    }
    for store in [a.store(), b.store()] {
        let held = ok(
            READ_BACK,
            "credentials",
            store.credentials(&CredentialFilter::Serials(vec![cards[0].serial])),
        );
        check(
            held.first().and_then(|r| r.superseded_by) == Some(win.serial),
            TWO_WRITERS,
            || format!("the card's replacement is not the winner's: {held:?}"),
        );
        chain_intact(store);
        check_invariants(store);
    }

    // The same race with changes composed outside the workflow (no audit entries):
    // only the database's unique `supersedes` stops the second.
    let first = replacement(&mut issuer, free[2], &cards[1]);
    let second = replacement(&mut issuer, free[3], &cards[1]);
    let bare = |r: CredentialRecord| Change {
        credentials: vec![r],
        ..Change::default()
    };
    ok(
        TWO_WRITERS,
        "the first writer",
        a.store_mut().apply(&bare(first)),
    );
    refused(
        b.store_mut(),
        &bare(second),
        (
            ONE_REPLACEMENT,
            "a second writer's replacement of the card the first just replaced",
        ),
        conflict(ConflictKind::AlreadySuperseded),
    );

    // Four writers on four threads, each with its own handle, each applying a change
    // sealed onto the same head (distinct batch ids: only the head conflicts).
    let head = chain_intact(a.store());
    let writers = 4u32;
    let barrier = Barrier::new(writers as usize);
    let attempts: Vec<Attempt> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..writers)
            .map(|i| {
                let (open, barrier) = (&open, &barrier);
                scope.spawn(move || {
                    let mut store = open();
                    let change = Change {
                        batches: vec![batch(100 + i, "race-print")],
                        audit: sealed(head, 1),
                        ..Change::default()
                    };
                    barrier.wait();
                    attempt(store.apply(&change))
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| broken(TWO_WRITERS, "a writer thread panicked"))
            })
            .collect()
    });
    let won = attempts
        .iter()
        .filter(|a| **a == Attempt::Committed)
        .count();
    check(
        won == 1 && !attempts.iter().any(|a| matches!(a, Attempt::Other(_))),
        TWO_WRITERS,
        || format!("four writers on one head: {attempts:?}"),
    );
    let after = chain_intact(a.store());
    check(after.entries == head.entries + 1, TWO_WRITERS, || {
        format!(
            "four writers on one head appended {} entries",
            after.entries - head.entries
        )
    });
    let batches = ok(READ_BACK, "batches", a.store().batches());
    let raced = batches
        .iter()
        .filter(|b| b.supplier == "race-print")
        .count();
    check(raced == 1, TWO_WRITERS, || {
        format!("{raced} of the racing writers' batches were stored")
    });

    // Two registries revoke two cards at once, each retrying when it loses.
    let key = &issuer.key;
    let before =
        ok(READ_BACK, "latest_publication", a.latest_publication()).map_or(0, |p| p.sequence);
    let (ca, cb) = (cards[2].serial, cards[3].serial);
    let losses: Vec<usize> = std::thread::scope(|scope| {
        let threads: Vec<_> = [(&mut a, ca), (&mut b, cb)]
            .into_iter()
            .map(|(reg, serial)| {
                scope.spawn(move || {
                    let mut lost = 0;
                    loop {
                        match reg.set_status(
                            key,
                            serial,
                            Status::Revoked,
                            RevocationReason::Stolen,
                            NOW.plus(50),
                            NOW.plus(HOUR),
                        ) {
                            Ok(_) => return lost,
                            Err(e) if stale_head(&e) && lost < 100 => lost += 1,
                            Err(e) => broken(
                                TWO_WRITERS,
                                format!("a registry changing a status got {e:?}"),
                            ),
                        }
                    }
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| broken(TWO_WRITERS, "a writer thread panicked"))
            })
            .collect()
    });
    let latest =
        ok(READ_BACK, "latest_publication", b.latest_publication()).map_or(0, |p| p.sequence);
    check(latest == before + 2, TWO_WRITERS, || {
        format!("two revocations published lists {before} -> {latest} (losses {losses:?})")
    });
    let revoked = ok(
        READ_BACK,
        "credentials",
        b.store()
            .credentials(&CredentialFilter::Serials(vec![ca, cb])),
    );
    check(
        revoked.len() == 2 && revoked.iter().all(|r| r.status == Status::Revoked),
        TWO_WRITERS,
        || format!("both revocations landed: {revoked:?}"),
    );
    ok(CHAIN, "verify_audit", a.verify_audit());
    check_invariants(a.store());

    // A key revoked through one handle signs nothing through the other.
    let mut draft = a.draft_key_set(NOW.plus(60));
    draft
        .revoke(key.key_id(), NOW.plus(60), RevocationReason::KeyCompromise)
        .unwrap();
    let set = issuer.root.sign_key_set(&draft).unwrap();
    ok(
        WORKFLOW,
        "installing a key set",
        a.install_key_set(&set, NOW.plus(60)),
    );
    match b.republish(key, NOW.plus(70), NOW.plus(HOUR)) {
        Err(RegistryError::WrongKey {
            why: WrongKey::Revoked,
            ..
        }) => {}
        other => broken(
            TWO_WRITERS,
            format!(
                "a key revoked through one handle still signs through another: {:?}",
                other.map(|p| p.sequence)
            ),
        ),
    }
    chain_intact(b.store());
}

/// Checks what must hold of any store at rest, whatever happened before (a crash at
/// any instant, a refused change, two writers): the audit log verifies and ends at
/// `audit_head`; serials and status indexes are unique and `status_indexes` lists
/// exactly the credentials' indexes; each `supersedes` names a held credential, no
/// card has two replacements, and `superseded_by` is the replacement's serial; each
/// credential's print batch is held; job ids are unique; no card key is bound twice
/// and `card_keys` lists exactly the credentials' card keys.
///
/// # Panics
/// With a message starting `store conformance:` and naming the rule.
pub fn check_invariants<S: Store + ?Sized>(store: &S) {
    chain_intact(store);
    let all = ok(
        READ_BACK,
        "credentials",
        store.credentials(&CredentialFilter::All),
    );
    let mut by_serial: HashMap<Serial, &CredentialRecord> = HashMap::new();
    for r in &all {
        check(
            by_serial.insert(r.serial, r).is_none(),
            UNIQUE_SERIAL,
            || format!("serial {} is stored twice", r.serial.to_hex()),
        );
    }
    let indexes: Vec<u32> = all.iter().map(|r| r.status_index.0).collect();
    let unique: BTreeSet<u32> = indexes.iter().copied().collect();
    check(unique.len() == indexes.len(), UNIQUE_INDEX, || {
        "a status index is held by two credentials".to_owned()
    });
    let listed: BTreeSet<u32> = ok(READ_BACK, "status_indexes", store.status_indexes())
        .into_iter()
        .collect();
    check(listed == unique, READ_BACK, || {
        "status_indexes is not the credentials' indexes".to_owned()
    });
    let batches: HashSet<PrintBatchId> = ok(READ_BACK, "batches", store.batches())
        .iter()
        .map(|b| b.id)
        .collect();
    let mut replaced_by: HashMap<Serial, Serial> = HashMap::new();
    for r in &all {
        check(batches.contains(&r.print_batch), REFERENCES, || {
            format!(
                "{} names print batch {:?}, not held",
                r.serial.to_hex(),
                r.print_batch
            )
        });
        if let Some(old) = r.supersedes {
            check(by_serial.contains_key(&old), ONE_REPLACEMENT, || {
                format!("{} replaces {}, not held", r.serial.to_hex(), old.to_hex())
            });
            check(
                replaced_by.insert(old, r.serial).is_none(),
                ONE_REPLACEMENT,
                || format!("{} has two replacements", old.to_hex()),
            );
        }
    }
    for r in &all {
        check(
            r.superseded_by == replaced_by.get(&r.serial).copied(),
            READ_BACK,
            || {
                format!(
                    "{}: superseded_by is not its replacement",
                    r.serial.to_hex()
                )
            },
        );
    }
    let keys: Vec<[u8; 32]> = all.iter().filter_map(|r| r.card_key).map(|k| k.0).collect();
    let unique_keys: BTreeSet<[u8; 32]> = keys.iter().copied().collect();
    check(unique_keys.len() == keys.len(), UNIQUE_CARD_KEY, || {
        "a card key is bound to two credentials".to_owned()
    });
    let listed_keys: BTreeSet<[u8; 32]> = ok(READ_BACK, "card_keys", store.card_keys())
        .into_iter()
        .map(|k| k.0)
        .collect();
    check(listed_keys == unique_keys, READ_BACK, || {
        "card_keys is not the credentials' card keys".to_owned()
    });
    let jobs = ok(READ_BACK, "jobs", store.jobs());
    let ids: HashSet<u64> = jobs.iter().map(|j| j.id).collect();
    check(ids.len() == jobs.len(), UNIQUE_ID, || {
        "a job id is stored twice".to_owned()
    });
}
