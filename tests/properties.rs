//! Property tests (proptest): round trips of every wire object, signatures that admit
//! nothing but the signed bytes, deltas that compose to the full list, status answers
//! that agree with a plain reference model, and batch verification that answers as
//! one-by-one verification does.
//!
//! Case counts are set per property (`CASES_*`), modest so that the whole suite stays
//! quick in a debug build; `PROPTEST_CASES=N` overrides them all for a longer run.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use common::{CAPACITY, NOW};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;
use proptest::test_runner::Config;
use revocard::door::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;
use sha2::Digest as _;

const CASES_CHEAP: u32 = 256;
const CASES_LISTS: u32 = 64;

fn config(cases: u32) -> Config {
    // PROPTEST_CASES in the environment wins over the default given here.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// A key whose window is all of time, so any issue time and validity is signable.
fn forever_key() -> &'static IssuerKey {
    static KEY: OnceLock<IssuerKey> = OnceLock::new();
    KEY.get_or_init(|| {
        IssuerKey::from_secret_bytes(
            common::issuer_id(),
            Validity::new(UnixTime(0), UnixTime(u64::MAX)).unwrap(),
            &[0x42; 32],
        )
        .unwrap()
    })
}

fn trusting(key: &IssuerKey) -> Verifier {
    let mut trust = TrustStore::new();
    trust.add(key.public().clone()).unwrap();
    Verifier::new(trust, VerifyOptions::default())
}

const LADDERS: [PoliceVetting; 6] = [
    PoliceVetting::Force(ForceVetting::Recruitment),
    PoliceVetting::Force(ForceVetting::Management),
    PoliceVetting::NonPolice(Nppv::Level1),
    PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
    PoliceVetting::NonPolice(Nppv::Level2),
    PoliceVetting::NonPolice(Nppv::Level3),
];
const NATIONALS: [Option<NationalSecurity>; 5] = [
    None,
    Some(NationalSecurity::Ctc),
    Some(NationalSecurity::Sc),
    Some(NationalSecurity::Esc),
    Some(NationalSecurity::Dv),
];

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Text of at most `max` bytes without control characters: often exactly `max` bytes
/// (ASCII or two-byte characters), otherwise any non-control Unicode, cut to fit.
fn text(max: usize) -> impl Strategy<Value = String> {
    let any_text = proptest::collection::vec(
        any::<char>().prop_filter("no control characters", |c| !c.is_control()),
        0..=max,
    )
    .prop_map(move |chars| {
        let mut s = String::new();
        for c in chars {
            if s.len() + c.len_utf8() > max {
                break;
            }
            s.push(c);
        }
        s
    });
    prop_oneof![
        1 => Just("x".repeat(max)),
        1 => Just(format!("{}{}", "é".repeat(max / 2), "x".repeat(max % 2))),
        6 => any_text,
    ]
}

fn vetting() -> impl Strategy<Value = Vetting> {
    (0..LADDERS.len(), 0..NATIONALS.len()).prop_map(|(p, n)| Vetting::new(LADDERS[p], NATIONALS[n]))
}

fn validity() -> impl Strategy<Value = Validity> {
    (any::<u64>(), any::<u64>())
        .prop_map(|(a, b)| Validity::new(UnixTime(a.min(b)), UnixTime(a.max(b))).unwrap())
}

fn holder() -> impl Strategy<Value = Holder> {
    (
        text(MAX_PAY_NUMBER_LEN).prop_filter("pay number required", |p| !p.is_empty()),
        text(MAX_NAME_LEN),
        text(MAX_RANK_LEN),
        text(MAX_UNIT_LEN),
        any::<[u8; 32]>(),
    )
        .prop_map(|(p, n, r, u, photo)| Holder::new(p, n, r, u, PhotoDigest(photo)).unwrap())
}

/// Any request the issuer accepts (with `forever_key`), and an issue time.
fn request() -> impl Strategy<Value = (CredentialRequest, UnixTime)> {
    (
        any::<bool>(),
        holder(),
        vetting(),
        any::<u32>(),
        any::<u32>(),
        validity(),
        proptest::option::of(any::<[u8; 32]>()),
        proptest::option::of(any::<[u8; 16]>()),
        any::<u64>(),
    )
        .prop_map(
            |(staff, holder, vetting, index, batch, validity, card, supersedes, at)| {
                (
                    CredentialRequest {
                        kind: if staff {
                            Kind::StaffPass
                        } else {
                            Kind::WarrantCard
                        },
                        holder,
                        vetting,
                        status_index: StatusIndex(index),
                        print_batch: PrintBatchId(batch),
                        validity,
                        card_key: card.map(|secret| CardKey::from_secret_bytes(&secret).public()),
                        supersedes: supersedes.map(Serial),
                    },
                    UnixTime(at),
                )
            },
        )
}

fn reason() -> impl Strategy<Value = RevocationReason> {
    (0..RevocationReason::ALL.len()).prop_map(|i| RevocationReason::ALL[i])
}

/// Scope entries over a small domain, so that they collide with each other and with
/// the claims of `claims_probe`.
fn scope_entry() -> impl Strategy<Value = ScopeEntry> {
    let scope = prop_oneof![
        (0u32..4).prop_map(|b| Scope::PrintBatch(PrintBatchId(b))),
        // The signer's own key never: a list revoking its signer is refused (tested in
        // tests/keys.rs); the probe's claims name this other key half of the time.
        Just(Scope::IssuerKey(KeyId([7; 8]))),
        (0u64..4).prop_map(|t| Scope::IssuedBefore(UnixTime(NOW.0 + t))),
    ];
    (scope, reason(), any::<u32>()).prop_map(|(scope, reason, since)| ScopeEntry {
        scope,
        reason,
        since: UnixTime(u64::from(since)),
    })
}

fn capacity() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => Just(MIN_LIST_CAPACITY),
        4 => MIN_LIST_CAPACITY..MIN_LIST_CAPACITY + 100,
        1 => MIN_LIST_CAPACITY..=MAX_LIST_CAPACITY,
        1 => Just(MAX_LIST_CAPACITY),
    ]
}

/// How statuses are spread over a list: a few anywhere, or a density per index.
#[derive(Debug, Clone)]
enum Spread {
    Sparse(Vec<(u32, bool)>),
    Dense {
        seed: u64,
        revoked_permille: u64,
        suspended_permille: u64,
    },
}

fn spread() -> impl Strategy<Value = Spread> {
    prop_oneof![
        proptest::collection::vec((any::<u32>(), any::<bool>()), 0..40).prop_map(Spread::Sparse),
        (
            any::<u64>(),
            prop_oneof![Just(0u64), Just(10), Just(100), Just(450)],
            prop_oneof![Just(0u64), Just(10), Just(100), Just(450)],
        )
            .prop_map(|(seed, r, s)| Spread::Dense {
                seed,
                revoked_permille: r,
                suspended_permille: s,
            }),
    ]
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The (index, status) pairs of a spread over `capacity` indexes (each index once).
fn statuses(spread: &Spread, capacity: u32) -> Vec<(u32, Status)> {
    match spread {
        Spread::Sparse(v) => {
            let mut seen = BTreeSet::new();
            v.iter()
                .map(|&(i, revoked)| (i % capacity, revoked))
                .filter(|(i, _)| seen.insert(*i))
                .map(|(i, revoked)| {
                    (
                        i,
                        if revoked {
                            Status::Revoked
                        } else {
                            Status::Suspended
                        },
                    )
                })
                .collect()
        }
        Spread::Dense {
            seed,
            revoked_permille,
            suspended_permille,
        } => (0..capacity)
            .filter_map(|i| {
                let r = splitmix64(seed ^ u64::from(i)) % 1000;
                if r < *revoked_permille {
                    Some((i, Status::Revoked))
                } else if r < revoked_permille + suspended_permille {
                    Some((i, Status::Suspended))
                } else {
                    None
                }
            })
            .collect(),
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { len: usize },
    Extend { bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..9).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        1 => proptest::collection::vec(any::<u8>(), 1..9).prop_map(|bytes| Mutation::Extend { bytes }),
    ]
}

impl Mutation {
    fn apply(&self, original: &[u8]) -> Vec<u8> {
        let mut out = original.to_vec();
        let n = out.len();
        match self {
            Self::Replace { at, byte } => out[at % n] = *byte,
            Self::Insert { at, bytes } => {
                let at = at % (n + 1);
                out.splice(at..at, bytes.iter().copied());
            }
            Self::Delete { at, len } => {
                let at = at % n;
                out.drain(at..(at + len).min(n));
            }
            Self::Truncate { len } => out.truncate(len % n),
            Self::Extend { bytes } => out.extend_from_slice(bytes),
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(CASES_CHEAP))]

    /// Every claim, every vetting combination, optional fields and maximum-length text
    /// survive encode -> decode and the text form; the encoding is canonical.
    #[test]
    fn credentials_round_trip((req, at) in request()) {
        let key = forever_key();
        let cred = key.issue(req.clone(), at, &mut common::rng(1)).unwrap();
        let c = cred.claims();
        prop_assert_eq!(c.kind, req.kind);
        prop_assert_eq!(&c.holder, &req.holder);
        prop_assert_eq!(c.vetting, req.vetting);
        prop_assert_eq!(c.status_index, req.status_index);
        prop_assert_eq!(c.print_batch, req.print_batch);
        prop_assert_eq!(c.validity, req.validity);
        prop_assert_eq!(c.card_key, req.card_key);
        prop_assert_eq!(c.supersedes, req.supersedes);
        prop_assert_eq!(c.issued_at, at);
        prop_assert!(cred.bytes().len() <= MAX_CREDENTIAL_BYTES);

        let decoded = UnverifiedCredential::from_bytes(cred.bytes()).unwrap();
        prop_assert_eq!(decoded.unverified_claims(), c);
        prop_assert_eq!(&c.to_be_signed()[..], &cred.bytes()[65..]);

        let text = cred.to_text();
        prop_assert!(text.len() <= MAX_CREDENTIAL_TEXT_LEN);
        let bytes = credential_bytes_from_text(&text).unwrap();
        prop_assert_eq!(&bytes[..], cred.bytes());
    }

    /// A published issuer key decodes to itself, and its encoding is canonical.
    #[test]
    fn trust_anchors_round_trip(
        id in "[!-~]{1,32}",
        secret in any::<[u8; 32]>(),
        window in validity(),
    ) {
        let key = IssuerKey::from_secret_bytes(IssuerId::new(id).unwrap(), window, &secret).unwrap();
        let bytes = key.public().to_bytes();
        prop_assert!(bytes.len() <= MAX_TRUST_ANCHOR_BYTES);
        let decoded = IssuerPublicKey::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&decoded, key.public());
        prop_assert_eq!(decoded.to_bytes(), bytes);
    }

    /// A credential that verifies stops verifying under any change of its bytes:
    /// replaced, inserted or deleted bytes, truncation, extension.
    #[test]
    fn verification_admits_only_the_signed_bytes(
        (req, _) in request(),
        skew in 0u64..YEAR_SECS,
        m in mutation(),
    ) {
        let (verifier, key) = verifier_at_now();
        let mut req = req;
        req.status_index = StatusIndex(req.status_index.0 % CAPACITY);
        req.validity = Validity::new(NOW.minus(skew), NOW.plus(skew)).unwrap();
        let cred = key.issue(req, NOW, &mut common::rng(2)).unwrap();
        prop_assert!(verifier.verify(cred.bytes(), NOW).is_ok());
        let mutated = m.apply(cred.bytes());
        let result = verifier.verify(&mutated, NOW);
        if mutated == cred.bytes() {
            prop_assert!(result.is_ok());
        } else {
            prop_assert!(result.is_err(), "{:?} admitted", m);
        }
    }
}

const YEAR_SECS: u64 = common::YEAR;

/// A verifier holding an all-valid list of `CAPACITY`, fresh at `NOW`.
fn verifier_at_now() -> &'static (Verifier, IssuerKey) {
    static V: OnceLock<(Verifier, IssuerKey)> = OnceLock::new();
    V.get_or_init(|| {
        let key = common::issuer_key(&mut common::rng(3));
        let v = trusting(&key);
        let p = IssuerStatusList::new(key.issuer().clone(), CAPACITY)
            .unwrap()
            .publish(&key, NOW, NOW.plus(3600))
            .unwrap();
        v.install_list(&p.list, NOW).unwrap();
        (v, key)
    })
}

// ---------------------------------------------------------------------------
// Lists and deltas
// ---------------------------------------------------------------------------

fn held(v: &Verifier) -> std::sync::Arc<RevocationList> {
    v.list(&common::issuer_id()).unwrap()
}

proptest! {
    #![proptest_config(config(CASES_LISTS))]

    /// Random statuses (sparse or dense, so every status-set encoding is used) and
    /// scopes survive publish -> install, index by index.
    #[test]
    fn lists_round_trip_through_publish_and_install(
        capacity in capacity(),
        spread in spread(),
        scopes in proptest::collection::vec(scope_entry(), 0..6),
    ) {
        let key = forever_key();
        let mut list = IssuerStatusList::new(common::issuer_id(), capacity).unwrap();
        for (i, status) in statuses(&spread, capacity) {
            match status {
                Status::Revoked => list.revoke(i, RevocationReason::Lost, NOW).unwrap(),
                _ => list.suspend(i).unwrap(),
            }
        }
        for e in &scopes {
            list.revoke_scope(*e).unwrap();
        }
        let p = list.publish(key, NOW, NOW.plus(60)).unwrap();
        prop_assert!(p.list.len() <= MAX_LIST_BYTES);
        let v = trusting(key);
        prop_assert_eq!(v.install_list(&p.list, NOW), Ok(ListUpdate::Installed { sequence: 1 }));
        let got = held(&v);
        prop_assert_eq!(got.capacity(), capacity);
        prop_assert_eq!(got.sequence(), 1);
        prop_assert_eq!(got.scopes(), list.scopes());
        for i in 0..capacity {
            if got.status_at(i) != list.status(i) {
                prop_assert_eq!(got.status_at(i), list.status(i), "index {}", i);
            }
        }
        prop_assert_eq!(got.status_at(capacity), None);
    }

    /// Deltas 1 -> 2 -> ... -> n applied in turn give exactly the full list at n, at
    /// every step.
    #[test]
    fn deltas_compose_to_the_full_list(batches in proptest::collection::vec(
        proptest::collection::vec(model_op(), 0..12), 1..8,
    )) {
        let key = forever_key();
        let mut list = IssuerStatusList::new(common::issuer_id(), CAPACITY).unwrap();
        let by_delta = trusting(key);
        let first = list.publish(key, NOW, NOW.plus(60)).unwrap();
        by_delta.install_list(&first.list, NOW).unwrap();
        for batch in &batches {
            for op in batch {
                let _ = op.apply(&mut list);
            }
            let p = list.publish(key, NOW, NOW.plus(60)).unwrap();
            prop_assert!(p.delta.as_ref().unwrap().len() <= MAX_DELTA_BYTES);
            prop_assert_eq!(
                by_delta.apply_delta(p.delta.as_ref().unwrap(), NOW),
                Ok(ListUpdate::Advanced { from: p.sequence - 1, to: p.sequence })
            );
            let full = trusting(key);
            full.install_list(&p.list, NOW).unwrap();
            prop_assert_eq!(&*held(&by_delta), &*held(&full));
        }
    }

    /// The issuer's list, a verifier fed full lists and a verifier fed deltas all agree
    /// with a plain model (a map of statuses and a list of scopes) under any sequence of
    /// revoke, suspend, reinstate, scope and publish operations, including the answer
    /// `status_of` gives for claims that may fall under a scope.
    #[test]
    fn status_answers_agree_with_a_reference_model(
        ops in proptest::collection::vec(model_op(), 1..60),
        probes in proptest::collection::vec(claims_probe(), 8),
    ) {
        let key = forever_key();
        let mut list = IssuerStatusList::new(common::issuer_id(), CAPACITY).unwrap();
        let mut model = Model::default();
        let by_list = trusting(key);
        let by_delta = trusting(key);
        let mut touched: BTreeSet<u32> = [0, CAPACITY - 1].into();
        for op in ops.iter().chain([&ModelOp::Publish]) {
            if let ModelOp::Publish = op {
                let p = list.publish(key, NOW, NOW.plus(60)).unwrap();
                prop_assert!(by_list.install_list(&p.list, NOW).is_ok());
                match &p.delta {
                    None => prop_assert!(by_delta.install_list(&p.list, NOW).is_ok()),
                    Some(d) => prop_assert!(by_delta.apply_delta(d, NOW).is_ok()),
                }
                let (a, b) = (held(&by_list), held(&by_delta));
                prop_assert_eq!(&*a, &*b);
                prop_assert_eq!(a.scopes(), &model.scopes[..]);
                for &i in &touched {
                    prop_assert_eq!(a.status_at(i), model.status(i), "index {}", i);
                }
                for probe in &probes {
                    prop_assert_eq!(a.status_of(probe), model.answer(probe), "{:?}", probe);
                }
                continue;
            }
            let expected = model.apply(op);
            prop_assert_eq!(op.apply(&mut list), expected, "{:?}", op);
            if let Some(i) = op.index() {
                touched.insert(i);
            }
            prop_assert_eq!(list.scopes(), &model.scopes[..]);
            for &i in &touched {
                prop_assert_eq!(list.status(i), model.status(i), "index {}", i);
                prop_assert_eq!(list.reason(i), model.reasons.get(&i).copied(), "reason of {}", i);
            }
        }
    }

    /// A changed list or delta is refused and the list held stays exactly as it was.
    #[test]
    fn mutated_lists_and_deltas_are_refused(m in mutation(), delta in any::<bool>()) {
        let (first, second) = two_publications();
        let v = trusting(forever_key());
        v.install_list(&first.list, NOW).unwrap();
        let before = held(&v);
        let original = if delta { second.delta.as_ref().unwrap() } else { &second.list };
        let mutated = m.apply(original);
        let result = if delta { v.apply_delta(&mutated, NOW) } else { v.install_list(&mutated, NOW) };
        if mutated == *original {
            prop_assert_eq!(result, Ok(ListUpdate::Advanced { from: 1, to: 2 }));
        } else {
            prop_assert!(result.is_err(), "{:?} accepted", m);
            prop_assert_eq!(&*held(&v), &*before);
        }
    }
}

fn two_publications() -> &'static (Publication, Publication) {
    static P: OnceLock<(Publication, Publication)> = OnceLock::new();
    P.get_or_init(|| {
        let key = forever_key();
        let mut list = IssuerStatusList::new(common::issuer_id(), CAPACITY).unwrap();
        list.suspend(3).unwrap();
        let first = list.publish(key, NOW, NOW.plus(60)).unwrap();
        list.revoke(1, RevocationReason::Stolen, NOW).unwrap();
        list.suspend(2).unwrap();
        list.reinstate(3).unwrap();
        list.revoke_scope(ScopeEntry {
            scope: Scope::PrintBatch(PrintBatchId(9)),
            reason: RevocationReason::SupplierBreach,
            since: NOW,
        })
        .unwrap();
        let second = list.publish(key, NOW, NOW.plus(60)).unwrap();
        (first, second)
    })
}

// ---------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum ModelOp {
    Revoke(u32, RevocationReason, u64),
    Suspend(u32),
    Reinstate(u32),
    Scope(ScopeEntry),
    Publish,
}

/// Indexes that collide often, the list's edges, just outside, and anything.
fn model_index() -> impl Strategy<Value = u32> {
    prop_oneof![
        8 => 0u32..24,
        1 => Just(CAPACITY - 1),
        1 => Just(CAPACITY),
        1 => any::<u32>(),
    ]
}

fn model_op() -> impl Strategy<Value = ModelOp> {
    prop_oneof![
        3 => (model_index(), reason(), 0u64..3).prop_map(|(i, r, t)| ModelOp::Revoke(i, r, t)),
        3 => model_index().prop_map(ModelOp::Suspend),
        3 => model_index().prop_map(ModelOp::Reinstate),
        1 => scope_entry().prop_map(ModelOp::Scope),
        2 => Just(ModelOp::Publish),
    ]
}

impl ModelOp {
    fn index(&self) -> Option<u32> {
        match self {
            Self::Revoke(i, ..) | Self::Suspend(i) | Self::Reinstate(i) => Some(*i),
            _ => None,
        }
    }

    /// Applies the operation to the real issuer list (publishing is done by the caller).
    fn apply(&self, list: &mut IssuerStatusList) -> Result<(), StatusError> {
        match *self {
            Self::Revoke(i, r, t) => list.revoke(i, r, UnixTime(NOW.0 + t)),
            Self::Suspend(i) => list.suspend(i),
            Self::Reinstate(i) => list.reinstate(i),
            Self::Scope(e) => list.revoke_scope(e),
            Self::Publish => Ok(()),
        }
    }
}

#[derive(Default)]
struct Model {
    statuses: HashMap<u32, Status>,
    reasons: HashMap<u32, (RevocationReason, UnixTime)>,
    scopes: Vec<ScopeEntry>,
}

impl Model {
    fn status(&self, i: u32) -> Option<Status> {
        (i < CAPACITY).then(|| self.statuses.get(&i).copied().unwrap_or(Status::Valid))
    }

    fn apply(&mut self, op: &ModelOp) -> Result<(), StatusError> {
        let out_of_range = |index| StatusError::IndexOutOfRange {
            index,
            capacity: CAPACITY,
        };
        match *op {
            ModelOp::Revoke(i, r, t) => {
                self.status(i).ok_or(out_of_range(i))?;
                if self.status(i) != Some(Status::Revoked) {
                    self.statuses.insert(i, Status::Revoked);
                    self.reasons.insert(i, (r, UnixTime(NOW.0 + t)));
                }
                Ok(())
            }
            ModelOp::Suspend(i) | ModelOp::Reinstate(i) => {
                match self.status(i).ok_or(out_of_range(i))? {
                    Status::Revoked => Err(StatusError::RevokedIsPermanent { index: i }),
                    _ => {
                        let to = if matches!(op, ModelOp::Suspend(_)) {
                            Status::Suspended
                        } else {
                            Status::Valid
                        };
                        self.statuses.insert(i, to);
                        Ok(())
                    }
                }
            }
            ModelOp::Scope(e) => {
                if !self.scopes.iter().any(|s| s.scope == e.scope) {
                    self.scopes.push(e);
                }
                Ok(())
            }
            ModelOp::Publish => Ok(()),
        }
    }

    /// What a list must answer for `claims`: the first scope covering it, else its index.
    fn answer(&self, claims: &Claims) -> Option<StatusAnswer> {
        let covers = |scope: &Scope| match *scope {
            Scope::PrintBatch(b) => b == claims.print_batch,
            Scope::IssuerKey(k) => k == claims.key_id,
            Scope::IssuedBefore(t) => claims.issued_at < t,
        };
        if let Some(e) = self.scopes.iter().find(|e| covers(&e.scope)) {
            return Some(StatusAnswer::Revoked(RevokedBy::Scope(*e)));
        }
        Some(match self.status(claims.status_index.0)? {
            Status::Valid => StatusAnswer::Valid,
            Status::Suspended => StatusAnswer::Suspended,
            Status::Revoked => StatusAnswer::Revoked(RevokedBy::Index),
        })
    }
}

/// Claims whose batch, key and issue time fall in the domain of `scope_entry`.
fn claims_probe() -> impl Strategy<Value = Claims> {
    (model_index(), 0u32..5, any::<bool>(), 0u64..5).prop_map(|(index, batch, ours, t)| Claims {
        serial: Serial([1; 16]),
        kind: Kind::WarrantCard,
        holder: common::holder(1),
        vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
        issuer: common::issuer_id(),
        key_id: if ours { KeyId([7; 8]) } else { KeyId([8; 8]) },
        status_index: StatusIndex(index),
        print_batch: PrintBatchId(batch),
        issued_at: UnixTime(NOW.0 + t),
        validity: Validity::new(NOW, NOW).unwrap(),
        card_key: None,
        supersedes: None,
    })
}

/// A controller whose only door is `door`, to issue challenges.
fn challenge_controller(door: &DoorId, ttl: u64) -> DoorController {
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    DoorController::new(
        std::sync::Arc::new(verifier),
        vec![
            DoorPolicy::new(door.clone())
                .require_holder_binding()
                .with_challenge_ttl(ttl),
        ],
    )
    .unwrap()
}

proptest! {
    #![proptest_config(config(CASES_CHEAP))]

    /// Challenges round-trip through their bytes, with every field kept.
    #[test]
    fn challenges_round_trip(
        door in "[a-z0-9-]{1,32}",
        ttl in 1u64..=MAX_CHALLENGE_TTL_SECS,
        now in 0u64..u64::MAX / 2,
        seed in any::<u64>(),
    ) {
        let door = DoorId::new(door).unwrap();
        let controller = challenge_controller(&door, ttl);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let challenge = controller.challenge(&door, UnixTime(now), &mut rng).unwrap();
        let bytes = challenge.to_bytes();
        prop_assert!(bytes.len() <= MAX_CHALLENGE_BYTES);
        let decoded = Challenge::from_bytes(&bytes).unwrap();
        prop_assert_eq!(decoded.door(), &door);
        prop_assert_eq!(decoded.nonce(), challenge.nonce());
        prop_assert_eq!(decoded.issued_at(), UnixTime(now));
        prop_assert_eq!(decoded.expires_at(), challenge.expires_at());
        prop_assert_eq!(decoded.to_bytes(), bytes);
    }
}

// ---------------------------------------------------------------------------
// Batch and single verification
// ---------------------------------------------------------------------------

use common::raw_signatures::*;

/// What a key must be to enter the crate: the canonical encoding of a point of order `l`.
fn acceptable(bytes: &[u8; 32]) -> bool {
    decompress(bytes)
        .is_some_and(|p| p.compress().0 == *bytes && !p.is_small_order() && p.is_torsion_free())
}

/// The one case where a batch may answer differently from `verify_strict`: under an
/// acceptable key, a canonical `R` that is not of small order but has a torsion
/// component, and `S < l` satisfying the cofactored equation `[8]SB = [8]R + [8]kA`.
/// Only the key's holder can make such a signature.
fn torsion_r_made_with_the_secret(key: &[u8; 32], sig: &[u8; 64], message: &[u8]) -> bool {
    let (r_bytes, s_bytes) = sig.split_at(32);
    let (Some(a), Some(r)) = (decompress(key), decompress(r_bytes)) else {
        return false;
    };
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes.try_into().unwrap()))
    else {
        return false;
    };
    let k = challenge_scalar(r_bytes, key, message);
    acceptable(key)
        && r.compress().0.as_slice() == r_bytes
        && !r.is_small_order()
        && !r.is_torsion_free()
        && (B * s - r - a * k).is_small_order()
}

/// The list every batch verifier holds: all valid, signed by `forever_key`.
fn batch_list() -> &'static Publication {
    static P: OnceLock<Publication> = OnceLock::new();
    P.get_or_init(|| {
        IssuerStatusList::new(common::issuer_id(), CAPACITY)
            .unwrap()
            .publish(forever_key(), NOW, NOW.plus(3600))
            .unwrap()
    })
}

fn all_time() -> Validity {
    Validity::new(UnixTime(0), UnixTime(u64::MAX)).unwrap()
}

proptest! {
    #![proptest_config(config(CASES_CHEAP))]

    /// `verify_batch` answers every credential as `verify` does, on mixtures of honest
    /// signatures, `R` with a torsion component, small-order and non-canonical `R`,
    /// `S >= l` and signatures over another message, made with raw scalars under keys
    /// with and without torsion components, of small order, or non-canonically encoded.
    /// Each key is offered to the trust store first: only the canonical encodings of
    /// points of order `l` are trusted (the rest are denied as unknown keys in both
    /// modes), and only they are accepted as card keys. The one difference allowed is
    /// the one `ARCHITECTURE.md` states: a torsion `R` made with the secret key, which
    /// `verify` refuses and a batch may accept.
    #[test]
    fn batch_and_single_verification_agree(
        keys in proptest::collection::vec(key_spec(), 1..4),
        items in proptest::collection::vec((any::<usize>(), sig_spec(), any::<[u8; 32]>()), 1..8),
    ) {
        let raw: Vec<RawKey> = keys.iter().map(|k| k.make()).collect();
        let mut trust = TrustStore::new();
        trust.add(forever_key().public().clone()).unwrap();
        let mut trusted = Vec::new();
        for key in &raw {
            let public = IssuerPublicKey::from_parts(common::issuer_id(), &key.bytes, all_time());
            trusted.push(public.is_ok());
            if let Ok(public) = public {
                // Two specs may make the same key; adding it again is a no-op.
                trust.add(public).unwrap();
            }
        }
        let verifier = Verifier::new(trust, VerifyOptions::default());
        verifier.install_list(&batch_list().list, NOW).unwrap();

        let template = forever_key()
            .issue(common::request(1), NOW, &mut common::rng(5))
            .unwrap()
            .claims()
            .clone();
        let mut made = Vec::new();
        for &(k, spec, nonce) in &items {
            let key = &raw[k % raw.len()];
            let mut claims = template.clone();
            claims.key_id = key_id_of(&key.bytes);
            let body = claims.to_be_signed();
            let mut message = CREDENTIAL_DOMAIN.to_vec();
            message.push(FORMAT_VERSION);
            message.extend_from_slice(&body);
            let sig = sign_raw(key, spec, nonce, &message);
            let mut bytes = vec![FORMAT_VERSION];
            bytes.extend_from_slice(&sig);
            bytes.extend_from_slice(&body);
            made.push((bytes, key.bytes, sig, message, claims, spec));
        }
        let refs: Vec<&[u8]> = made.iter().map(|m| m.0.as_slice()).collect();
        let batch = verifier.verify_batch(&refs, NOW);
        prop_assert_eq!(batch.len(), made.len());
        for (i, ((bytes, key, sig, message, claims, spec), in_batch)) in made.iter().zip(&batch).enumerate() {
            let single = verifier.verify(bytes, NOW);
            if matches!(spec, SigSpec::Honest) && acceptable(key) {
                prop_assert!(single.is_ok(), "item {}: an honest signature: {:?}", i, single);
            }
            if in_batch != &single {
                prop_assert_eq!(&single, &Err(Denial::BadSignature), "item {} ({:?})", i, spec);
                prop_assert!(
                    in_batch.as_ref().is_ok_and(|v| v.claims() == claims),
                    "item {} ({:?}): batch {:?}", i, spec, in_batch
                );
                prop_assert!(
                    torsion_r_made_with_the_secret(key, sig, message),
                    "item {} ({:?}) under key {:02x?}: batch Ok, single {:?}", i, spec, key, single
                );
            }
        }

        // Only acceptable keys were trusted, and only they are accepted as card keys.
        for (key, was_trusted) in raw.iter().zip(trusted) {
            let expected = acceptable(&key.bytes);
            prop_assert_eq!(was_trusted, expected, "anchor {:02x?}", key.bytes);
            let mut req = common::request(2);
            req.card_key = Some(CardPublicKey(key.bytes));
            let issued = forever_key().issue(req, NOW, &mut common::rng(6));
            prop_assert_eq!(issued.is_ok(), expected, "card key {:02x?}", key.bytes);
        }
    }
}

// ---------------------------------------------------------------------------
// A door's first tap and two verify_strict calls
// ---------------------------------------------------------------------------

/// `verify_strict`'s answer, `false` for a key that does not decompress.
fn strict(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(key).is_ok_and(|k| {
        k.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    })
}

proptest! {
    #![proptest_config(config(CASES_CHEAP))]

    /// A first tap at a door requiring holder binding checks the credential's and the
    /// response's signatures together, and answers exactly as two `verify_strict` calls
    /// would: admitted when both accept, `BadSignature` when the credential's is
    /// refused, `BadResponseSignature` when only the response's is (`BadCardKey` for a
    /// card key that does not decompress or is of small order). The credential is
    /// signed by a trusted issuer with a raw scalar as `SigSpec` says (honest, torsion
    /// `R`, small-order or non-canonical `R`, `S + l`, another message), over claims
    /// naming a card key of any `KeySpec` (a faulty issuer's: with a torsion component,
    /// of small order, non-canonical); the response likewise, by the card's key or a
    /// wrong one.
    #[test]
    fn a_first_tap_answers_as_two_verify_strict_calls(
        issuer_seed in any::<[u8; 32]>(),
        card in key_spec(),
        wrong in key_spec(),
        cred_sig in (sig_spec(), any::<[u8; 32]>()),
        resp_sig in (sig_spec(), any::<[u8; 32]>(), any::<bool>()),
    ) {
        let issuer = KeySpec::Honest(issuer_seed).make();
        let public = IssuerPublicKey::from_parts(common::issuer_id(), &issuer.bytes, all_time());
        prop_assume!(public.is_ok());
        let (card, wrong) = (card.make(), wrong.make());
        let mut trust = TrustStore::new();
        trust.add(forever_key().public().clone()).unwrap();
        trust.add(public.unwrap()).unwrap();
        let verifier = Verifier::new(trust, VerifyOptions::default());
        verifier.install_list(&batch_list().list, NOW).unwrap();

        let mut claims = forever_key()
            .issue(common::request(1), NOW, &mut common::rng(5))
            .unwrap()
            .claims()
            .clone();
        claims.key_id = key_id_of(&issuer.bytes);
        claims.card_key = Some(CardPublicKey(card.bytes));
        let body = claims.to_be_signed();
        let mut message = CREDENTIAL_DOMAIN.to_vec();
        message.push(FORMAT_VERSION);
        message.extend_from_slice(&body);
        let sig = sign_raw(&issuer, cred_sig.0, cred_sig.1, &message);
        let mut cred = vec![FORMAT_VERSION];
        cred.extend_from_slice(&sig);
        cred.extend_from_slice(&body);

        let door = DoorId::new("custody").unwrap();
        let doors = DoorController::new(
            std::sync::Arc::new(verifier),
            vec![DoorPolicy::new(door.clone()).require_holder_binding()],
        )
        .unwrap();
        let mut rng = common::rng(7);
        let challenge = doors.challenge(&door, NOW, &mut rng).unwrap();
        let mut response = CardKey::generate(&mut rng).respond(&challenge, &cred);
        let mut signed = CHALLENGE_RESPONSE_DOMAIN.to_vec();
        signed.push(FORMAT_VERSION);
        signed.extend_from_slice(&challenge.to_bytes()[1..]);
        signed.extend_from_slice(&sha2::Sha256::digest(&cred));
        let signer = if resp_sig.2 { &wrong } else { &card };
        let answer = sign_raw(signer, resp_sig.0, resp_sig.1, &signed);
        response[1..65].copy_from_slice(&answer);

        let credential_good = strict(&issuer.bytes, &message, &sig);
        let response_good = strict(&card.bytes, &signed, &answer);
        let card_key_usable = ed25519_dalek::VerifyingKey::from_bytes(&card.bytes)
            .is_ok_and(|k| !k.is_weak());
        let expected = if !credential_good {
            Err(DoorDenial::Credential(Denial::BadSignature))
        } else if !card_key_usable {
            Err(DoorDenial::BadCardKey)
        } else if !response_good {
            Err(DoorDenial::BadResponseSignature)
        } else {
            Ok(claims.clone())
        };
        let decision = doors.tap(&door, &cred, Some(&response), NOW);
        prop_assert_eq!(
            decision.outcome().map(|v| v.claims().clone()).map_err(Clone::clone),
            expected,
            "credential {:?}, response {:?} under card key {:02x?}",
            cred_sig.0,
            resp_sig.0,
            card.bytes
        );
        prop_assert_eq!(decision.serial_verified(), credential_good);
    }
}
