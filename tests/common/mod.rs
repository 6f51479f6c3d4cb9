//! Fixtures shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod raw_signatures;

use rand::{SeedableRng, rngs::StdRng};
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

pub const NOW: UnixTime = UnixTime(1_800_000_000);
pub const YEAR: u64 = 365 * 24 * 3600;

/// `value` as an unsigned LEB128 varint (the integers of list and delta headers).
pub fn leb128(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
    out
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn issuer_id() -> IssuerId {
    IssuerId::new("test-police").unwrap()
}

pub fn issuer_key(rng: &mut StdRng) -> IssuerKey {
    IssuerKey::generate(
        issuer_id(),
        Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap(),
        rng,
    )
    .unwrap()
}

pub fn holder(n: u32) -> Holder {
    Holder::new(
        format!("{:06}", 100_000 + n),
        format!("Officer Number {n}"),
        "Police Constable",
        "Response Team 4",
        PhotoDigest::of(format!("photo {n}").as_bytes()),
    )
    .unwrap()
}

pub fn request(n: u32) -> CredentialRequest {
    CredentialRequest {
        kind: Kind::WarrantCard,
        holder: holder(n),
        vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
        status_index: StatusIndex(n),
        print_batch: PrintBatchId(7),
        validity: Validity::new(NOW.minus(3600), NOW.plus(YEAR)).unwrap(),
        card_key: None,
        supersedes: None,
    }
}

pub const CAPACITY: u32 = MIN_LIST_CAPACITY;

/// A verifier trusting `key`, holding an empty (all valid) list signed by it.
pub fn verifier_for(key: &IssuerKey) -> Verifier {
    verifier_with(key, VerifyOptions::default())
}

pub fn verifier_with(key: &IssuerKey, options: VerifyOptions) -> Verifier {
    let mut trust = TrustStore::new();
    trust.add(key.public().clone()).unwrap();
    let verifier = Verifier::new(trust, options);
    let mut list = IssuerStatusList::new(key.issuer().clone(), CAPACITY).unwrap();
    let publication = list.publish(key, NOW.minus(60), NOW.plus(YEAR)).unwrap();
    verifier
        .install_list(&publication.list, NOW.minus(60))
        .unwrap();
    verifier
}

/// A root for `key`'s issuer, derived from `key` so that a test re-creating a registry
/// (a crash test, a second process) gets the same root.
pub fn root_for(key: &IssuerKey) -> RootKey {
    use sha2::Digest as _;
    let secret: [u8; 32] = sha2::Sha256::new()
        .chain_update(b"revocard test root\0")
        .chain_update(key.to_secret_bytes().unwrap().as_slice())
        .finalize()
        .into();
    RootKey::from_secret_bytes(
        key.issuer().clone(),
        Validity::new(NOW.minus(YEAR), NOW.plus(20 * YEAR)).unwrap(),
        &secret,
    )
    .unwrap()
}

/// The first key set of `root`, certifying `keys` for credentials and lists.
pub fn first_key_set(root: &RootKey, keys: &[&IssuerKey]) -> Vec<u8> {
    let mut draft = KeySetDraft::first(root.public(), NOW.minus(YEAR));
    for key in keys {
        draft
            .certify(key.public(), KeyUsage::CredentialsAndLists)
            .unwrap();
    }
    root.sign_key_set(&draft).unwrap()
}

/// Creates a registry whose root (see [`root_for`]) certifies `key` alone.
pub fn create_registry<S: Store>(
    store: S,
    key: &IssuerKey,
    capacity: u32,
    now: UnixTime,
    next_update: UnixTime,
) -> Result<Registry<S>, RegistryError> {
    let root = root_for(key);
    let set = first_key_set(&root, &[key]);
    Registry::create(store, root.public(), &set, key, capacity, now, next_update)
}

/// Fails `apply` on its `fail_at`-th call, either before committing (the transaction
/// never happened) or after (the caller crashed before hearing back). Everything else
/// goes to `inner`, so that, never failing, it is the store it wraps (the conformance
/// suite checks that: tests/store_conformance.rs).
pub struct Crashing<S: Store> {
    pub inner: S,
    pub calls: usize,
    pub fail_at: usize,
    pub after_commit: bool,
}

impl<S: Store> Crashing<S> {
    pub fn new(inner: S, fail_at: usize, after_commit: bool) -> Self {
        Self {
            inner,
            calls: 0,
            fail_at,
            after_commit,
        }
    }

    /// A wrapper that never fails.
    pub fn never(inner: S) -> Self {
        Self::new(inner, 0, false)
    }
}

impl<S: Store> Store for Crashing<S> {
    fn meta(&self) -> Result<Option<RegistryMeta>, RegistryError> {
        self.inner.meta()
    }
    fn batches(&self) -> Result<Vec<PrintBatch>, RegistryError> {
        self.inner.batches()
    }
    fn credentials(&self, f: &CredentialFilter) -> Result<Vec<CredentialRecord>, RegistryError> {
        self.inner.credentials(f)
    }
    fn status_indexes(&self) -> Result<Vec<u32>, RegistryError> {
        self.inner.status_indexes()
    }
    fn card_keys(&self) -> Result<Vec<revocard::CardPublicKey>, RegistryError> {
        self.inner.card_keys()
    }
    fn status_state(&self) -> Result<StatusState, RegistryError> {
        self.inner.status_state()
    }
    fn latest_publication(&self) -> Result<Option<PublicationRecord>, RegistryError> {
        self.inner.latest_publication()
    }
    fn publication(&self, s: u64) -> Result<Option<PublicationRecord>, RegistryError> {
        self.inner.publication(s)
    }
    fn jobs(&self) -> Result<Vec<JobRecord>, RegistryError> {
        self.inner.jobs()
    }
    fn audit_head(&self) -> Result<AuditHead, RegistryError> {
        self.inner.audit_head()
    }
    fn latest_key_set(&self) -> Result<Option<KeySetRecord>, RegistryError> {
        self.inner.latest_key_set()
    }
    fn key_sets(&self) -> Result<Vec<KeySetRecord>, RegistryError> {
        self.inner.key_sets()
    }
    fn audit_log(&self) -> Result<Vec<audit::AuditRecord>, RegistryError> {
        self.inner.audit_log()
    }
    fn roster(&self) -> Result<Vec<revocard::registry::HolderRequest>, RegistryError> {
        self.inner.roster()
    }
    fn apply(&mut self, change: &Change) -> Result<(), RegistryError> {
        self.calls += 1;
        if self.calls == self.fail_at {
            if self.after_commit {
                self.inner.apply(change)?;
            }
            return Err(RegistryError::Storage("simulated crash".into()));
        }
        self.inner.apply(change)
    }
}

/// Blank cards made on demand, for tests that never tap a door with them: each
/// reports a fresh public key, and its secret is dropped. (`SoftwareCards` keeps the
/// secrets, for tests that do.)
pub struct FreshCards(StdRng);

impl BlankCards for FreshCards {
    fn next_card(&mut self) -> Result<Option<CheckedCardKey>, BlankCardsError> {
        let key = CardKey::generate(&mut self.0).public();
        CheckedCardKey::check(key)
            .map(Some)
            .map_err(|_| BlankCardsError::UnusableCardKey { key })
    }
}

/// Blank cards made on demand from a seed drawn from `rng`.
pub fn fresh(rng: &mut (impl rand::CryptoRng + ?Sized)) -> FreshCards {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    FreshCards(StdRng::from_seed(seed))
}

/// A supplier's list of `n` blank cards' public keys (software chips made from `rng`,
/// their secrets dropped).
pub fn card_list(rng: &mut (impl rand::CryptoRng + ?Sized), n: usize) -> BlankCardList {
    let mut stock = SoftwareCards::generate(n, rng);
    BlankCardList::check(std::iter::from_fn(|| stock.report())).unwrap()
}

/// What must hold whenever a process or client dies: the audit chain verifies, the Store
/// invariants hold, no holder has two active cards, every replaced card is revoked and
/// linked both ways, and every holder issued so far has an active card or is pending
/// in the open job. Returns (credentials, replacements).
pub fn check_consistent<S: Store>(reg: &Registry<S>) -> (u64, u64) {
    reg.verify_audit().unwrap();
    conformance::check_invariants(reg.store());
    let all = reg.store().credentials(&CredentialFilter::All).unwrap();
    let by_serial: std::collections::HashMap<Serial, &CredentialRecord> =
        all.iter().map(|r| (r.serial, r)).collect();
    let scopes = reg.store().status_state().unwrap().scopes;
    let revoked = |r: &CredentialRecord| {
        r.status == Status::Revoked
            || scopes
                .iter()
                .any(|e| e.scope == Scope::PrintBatch(r.print_batch))
    };
    let mut active: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    let mut replaced = 0;
    for r in &all {
        if !revoked(r) && r.status == Status::Valid && r.superseded_by.is_none() {
            *active.entry(&r.pay_number).or_default() += 1;
        }
        if let Some(old) = r.supersedes {
            replaced += 1;
            let old = by_serial[&old];
            assert_eq!(old.superseded_by, Some(r.serial));
            assert!(revoked(old), "a replaced card is revoked");
        }
    }
    assert!(
        active.values().all(|&n| n == 1),
        "a holder has two active cards"
    );
    let pending = match reg
        .store()
        .jobs()
        .unwrap()
        .into_iter()
        .find(|j| j.finished_at.is_none())
    {
        Some(
            job @ JobRecord {
                kind: JobKind::Reissue { .. },
                ..
            },
        ) => reg
            .job_cards(&job)
            .unwrap()
            .iter()
            .filter(|r| r.superseded_by.is_none())
            .count(),
        _ => 0,
    };
    let holders: std::collections::BTreeSet<&str> =
        all.iter().map(|r| r.pay_number.as_str()).collect();
    assert_eq!(
        active.len() + pending,
        holders.len(),
        "a holder was forgotten"
    );
    (u64::try_from(all.len()).unwrap(), replaced)
}
