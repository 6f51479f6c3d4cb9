//! Wire-format test vectors: their inputs and the code that builds them, in one place.
//!
//! Included by `examples/gen_vectors.rs` (which writes `tests/vectors/*.json`) and by
//! `tests/vectors.rs` (which rebuilds every vector in memory and compares it with the
//! committed file, then decodes the committed bytes and checks every field).
//!
//! Every input a vector depends on is written into its JSON file, secrets included, so
//! that another implementation can reproduce the bytes:
//! - Ed25519 secret keys are `SHA-256(KEY_DERIVATION_DOMAIN || label || seed as u64 BE)`.
//!   (Not `StdRng`: its algorithm is not a stability promise across `rand` versions, and
//!   a vector must only change when the format does.) Ed25519 signing is deterministic,
//!   so the signature bytes are fixed by the key and the message.
//! - A credential's serial is the only randomness `IssuerKey::issue` draws; it is an
//!   input here, replayed through [`Replay`].
//! - Large index sets are given as a rule ([`IndexSet::Rule`]) rather than listed.
//! - A list's audit head is a pinned input (its hash `derive_secret("audit", entries)`):
//!   the list only carries it, so any 32 bytes do. The list's state digest is not an
//!   input: it follows from the body (see `src/wire.rs`) and is written out to check.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;

use revocard::door::*;
use revocard::issue::*;
use revocard::*;
use serde_json::{Value, json};
use sha2::Digest as _;

/// Prefix of the key derivation used for vector keys.
pub const KEY_DERIVATION_DOMAIN: &[u8] = b"revocard/test-vector/key\0";

/// Derives a vector secret key from a label and a seed.
pub fn derive_secret(label: &str, seed: u64) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(KEY_DERIVATION_DOMAIN)
        .chain_update(label.as_bytes())
        .chain_update(seed.to_be_bytes())
        .finalize()
        .into()
}

/// An RNG that hands out exactly the given bytes, then panics: it pins what
/// `IssuerKey::issue` draws (the serial) and fails loudly if it ever draws more.
pub struct Replay {
    bytes: Vec<u8>,
    pos: usize,
}

impl Replay {
    pub fn new(bytes: &[u8]) -> Self {
        Self {
            bytes: bytes.to_vec(),
            pos: 0,
        }
    }
}

impl rand::TryRng for Replay {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let end = self.pos + dst.len();
        assert!(
            end <= self.bytes.len(),
            "Replay RNG exhausted: the issuer drew more randomness than the vector pins"
        );
        dst.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(())
    }
}

impl rand::TryCryptoRng for Replay {}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// SplitMix64: the deterministic generator behind [`IndexSet::Rule`].
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------------------
// Issuer
// ---------------------------------------------------------------------------

/// The issuer key every vector is signed with.
#[derive(Clone, Copy)]
pub struct IssuerInput {
    pub id: &'static str,
    pub seed: u64,
    pub not_before: u64,
    pub not_after: u64,
}

pub const ISSUER: IssuerInput = IssuerInput {
    id: "vector-police",
    seed: 1,
    not_before: 1_700_000_000,
    not_after: 2_000_000_000,
};

/// A second anchor, with a short id, for the trust-anchor vectors.
pub const SECOND_ISSUER: IssuerInput = IssuerInput {
    id: "met",
    seed: 2,
    not_before: 0,
    not_after: u64::MAX,
};

/// A second signing key of the vector issuer, certified for lists only by the key
/// sets, then revoked.
pub const LIST_KEY: IssuerInput = IssuerInput {
    id: "vector-police",
    seed: 3,
    not_before: 1_750_000_000,
    not_after: 1_900_000_000,
};

/// A third signing key of the vector issuer, certified for credentials only by the
/// second key set.
pub const NEXT_KEY: IssuerInput = IssuerInput {
    id: "vector-police",
    seed: 4,
    not_before: T0,
    not_after: 2_000_000_000,
};

impl IssuerInput {
    pub fn secret(&self) -> [u8; 32] {
        derive_secret("issuer", self.seed)
    }

    pub fn key(&self) -> IssuerKey {
        IssuerKey::from_secret_bytes(
            IssuerId::new(self.id).unwrap(),
            Validity::new(UnixTime(self.not_before), UnixTime(self.not_after)).unwrap(),
            &self.secret(),
        )
        .unwrap()
    }

    pub fn json(&self) -> Value {
        let key = self.key();
        json!({
            "id": self.id,
            "seed": self.seed,
            "secret_key": hex(&self.secret()),
            "public_key": hex(&key.public().public_key_bytes()),
            "key_id": hex(&key.key_id().0),
            "not_before": self.not_before,
            "not_after": self.not_after,
        })
    }
}

// ---------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------

pub struct CredentialCase {
    pub name: &'static str,
    pub description: &'static str,
    pub serial: [u8; 16],
    pub kind: Kind,
    pub pay_number: String,
    pub holder_name: String,
    pub rank: String,
    pub unit: String,
    /// The photograph's digest is `SHA-256(photo)`.
    pub photo: &'static str,
    pub vetting: Vetting,
    pub status_index: u32,
    pub print_batch: u32,
    pub issued_at: u64,
    pub not_before: u64,
    pub not_after: u64,
    /// Seed of the card key (`derive_secret("card", seed)`), if the card has one.
    pub card_key_seed: Option<u64>,
    pub supersedes: Option<[u8; 16]>,
}

pub fn vetting_label(v: &Vetting) -> (&'static str, Option<&'static str>) {
    let police = match v.police {
        PoliceVetting::Force(ForceVetting::Recruitment) => "RV",
        PoliceVetting::Force(ForceVetting::Management) => "MV",
        PoliceVetting::NonPolice(Nppv::Level1) => "NPPV1",
        PoliceVetting::NonPolice(Nppv::Level2Abbreviated) => "NPPV2A",
        PoliceVetting::NonPolice(Nppv::Level2) => "NPPV2",
        PoliceVetting::NonPolice(Nppv::Level3) => "NPPV3",
    };
    let national = v.national.map(|n| match n {
        NationalSecurity::Ctc => "CTC",
        NationalSecurity::Sc => "SC",
        NationalSecurity::Esc => "eSC",
        NationalSecurity::Dv => "DV",
    });
    (police, national)
}

impl CredentialCase {
    pub fn card_key(&self) -> Option<CardKey> {
        self.card_key_seed
            .map(|seed| CardKey::from_secret_bytes(&derive_secret("card", seed)))
    }

    pub fn holder(&self) -> Holder {
        Holder::new(
            self.pay_number.clone(),
            self.holder_name.clone(),
            self.rank.clone(),
            self.unit.clone(),
            PhotoDigest::of(self.photo.as_bytes()),
        )
        .unwrap()
    }

    pub fn validity(&self) -> Validity {
        Validity::new(UnixTime(self.not_before), UnixTime(self.not_after)).unwrap()
    }

    /// The claims the credential must carry, built from the inputs alone.
    pub fn expected_claims(&self) -> Claims {
        let key = ISSUER.key();
        Claims {
            serial: Serial(self.serial),
            kind: self.kind,
            holder: self.holder(),
            vetting: self.vetting,
            issuer: key.issuer().clone(),
            key_id: key_id_of(&key.public().public_key_bytes()),
            status_index: StatusIndex(self.status_index),
            print_batch: PrintBatchId(self.print_batch),
            issued_at: UnixTime(self.issued_at),
            validity: self.validity(),
            card_key: self.card_key().map(|k| k.public()),
            supersedes: self.supersedes.map(Serial),
        }
    }

    pub fn build(&self) -> Credential {
        let request = CredentialRequest {
            kind: self.kind,
            holder: self.holder(),
            vetting: self.vetting,
            status_index: StatusIndex(self.status_index),
            print_batch: PrintBatchId(self.print_batch),
            validity: self.validity(),
            card_key: self.card_key().map(|k| k.public()),
            supersedes: self.supersedes.map(Serial),
        };
        let mut rng = Replay::new(&self.serial);
        ISSUER
            .key()
            .issue(request, UnixTime(self.issued_at), &mut rng)
            .unwrap()
    }

    pub fn json(&self, cred: &Credential) -> Value {
        let (police, national) = vetting_label(&self.vetting);
        let card_key = self.card_key().map(|k| {
            json!({
                "seed": self.card_key_seed,
                "secret_key": hex(&derive_secret("card", self.card_key_seed.unwrap())),
                "public_key": hex(&k.public().0),
            })
        });
        json!({
            "object": "credential",
            "name": self.name,
            "description": self.description,
            "issuer": ISSUER.json(),
            "claims": {
                "serial": hex(&self.serial),
                "kind": match self.kind { Kind::WarrantCard => "WarrantCard", Kind::StaffPass => "StaffPass" },
                "pay_number": self.pay_number,
                "name": self.holder_name,
                "rank": self.rank,
                "unit": self.unit,
                "photo": self.photo,
                "photo_sha256": hex(&PhotoDigest::of(self.photo.as_bytes()).0),
                "police_vetting": police,
                "national_security_vetting": national,
                "status_index": self.status_index,
                "print_batch": self.print_batch,
                "issued_at": self.issued_at,
                "not_before": self.not_before,
                "not_after": self.not_after,
                "card_key": card_key,
                "supersedes": self.supersedes.map(|s| hex(&s)),
            },
            "hex": hex(cred.bytes()),
            "text": cred.to_text(),
        })
    }
}

const T0: u64 = 1_800_000_000;
const YEAR: u64 = 365 * 24 * 3600;

fn vetting(police: PoliceVetting, national: Option<NationalSecurity>) -> Vetting {
    Vetting::new(police, national)
}

pub fn credential_cases() -> Vec<CredentialCase> {
    let minimal = CredentialCase {
        name: "credential-minimal",
        description: "Shortest legal claims: one-byte pay number, empty name, rank and unit, RV only, no card key, no supersedes, zero index and batch, a one-second window.",
        serial: [0; 16],
        kind: Kind::WarrantCard,
        pay_number: "1".into(),
        holder_name: String::new(),
        rank: String::new(),
        unit: String::new(),
        photo: "",
        vetting: vetting(PoliceVetting::Force(ForceVetting::Recruitment), None),
        status_index: 0,
        print_batch: 0,
        issued_at: T0,
        not_before: T0,
        not_after: T0,
        card_key_seed: None,
        supersedes: None,
    };
    let full = CredentialCase {
        name: "credential-full",
        description: "Every field at its largest: max-length text (multi-byte UTF-8 in the name), staff pass, NPPV2 (abbreviated) + DV, card key, supersedes, largest index and batch, validity up to the key's end.",
        serial: [0xff; 16],
        kind: Kind::StaffPass,
        pay_number: "9".repeat(MAX_PAY_NUMBER_LEN),
        // 47 two-byte characters plus two ASCII = 96 bytes.
        holder_name: format!("Zo{}", "ë".repeat(47)),
        rank: "R".repeat(MAX_RANK_LEN),
        unit: "U".repeat(MAX_UNIT_LEN),
        photo: "full photo",
        vetting: vetting(
            PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
            Some(NationalSecurity::Dv),
        ),
        status_index: u32::MAX,
        print_batch: u32::MAX,
        issued_at: T0,
        not_before: ISSUER.not_before,
        not_after: ISSUER.not_after,
        card_key_seed: Some(1),
        supersedes: Some([0xab; 16]),
    };
    let ladder = |name: &'static str,
                  description: &'static str,
                  n: u8,
                  kind: Kind,
                  v: Vetting,
                  card: Option<u64>| CredentialCase {
        name,
        description,
        serial: [n; 16],
        kind,
        pay_number: format!("{:06}", 100_000 + u32::from(n)),
        holder_name: format!("Officer {n}"),
        rank: "Police Constable".into(),
        unit: "Response Team 4".into(),
        photo: "photo",
        vetting: v,
        status_index: 1000 + u32::from(n),
        print_batch: 7,
        issued_at: T0,
        not_before: T0 - 3600,
        not_after: T0 + YEAR,
        card_key_seed: card,
        supersedes: None,
    };
    use ForceVetting::*;
    use NationalSecurity::*;
    use Nppv::*;
    use PoliceVetting::*;
    vec![
        minimal,
        full,
        ladder(
            "credential-rv",
            "Force vetting: Recruitment Vetting, no national security vetting.",
            1,
            Kind::WarrantCard,
            vetting(Force(Recruitment), None),
            None,
        ),
        ladder(
            "credential-mv-ctc",
            "Force vetting: Management Vetting with CTC; card key.",
            2,
            Kind::WarrantCard,
            vetting(Force(Management), Some(Ctc)),
            Some(2),
        ),
        ladder(
            "credential-nppv1-sc",
            "NPPV level 1 with SC.",
            3,
            Kind::StaffPass,
            vetting(NonPolice(Level1), Some(Sc)),
            None,
        ),
        ladder(
            "credential-nppv2a",
            "NPPV level 2 (abbreviated), no national security vetting.",
            4,
            Kind::StaffPass,
            vetting(NonPolice(Level2Abbreviated), None),
            None,
        ),
        ladder(
            "credential-nppv2-esc",
            "NPPV level 2 (full) with eSC.",
            5,
            Kind::StaffPass,
            vetting(NonPolice(Level2), Some(Esc)),
            None,
        ),
        ladder(
            "credential-nppv3-dv",
            "NPPV level 3 with DV; card key.",
            6,
            Kind::StaffPass,
            vetting(NonPolice(Level3), Some(Dv)),
            Some(6),
        ),
    ]
}

// ---------------------------------------------------------------------------
// Trust anchors
// ---------------------------------------------------------------------------

pub struct AnchorCase {
    pub name: &'static str,
    pub description: &'static str,
    pub issuer: IssuerInput,
}

pub fn anchor_cases() -> Vec<AnchorCase> {
    vec![
        AnchorCase {
            name: "trust-anchor",
            description: "The public key every other vector is signed with.",
            issuer: ISSUER,
        },
        AnchorCase {
            name: "trust-anchor-short-id",
            description: "A three-byte issuer id and the widest window (0 to u64::MAX).",
            issuer: SECOND_ISSUER,
        },
    ]
}

impl AnchorCase {
    pub fn build(&self) -> Vec<u8> {
        self.issuer.key().public().to_bytes()
    }

    pub fn json(&self, bytes: &[u8]) -> Value {
        json!({
            "object": "trust_anchor",
            "name": self.name,
            "description": self.description,
            "issuer": self.issuer.json(),
            "hex": hex(bytes),
        })
    }
}

// ---------------------------------------------------------------------------
// Root anchors and key sets
// ---------------------------------------------------------------------------

/// The vector issuer's root key, which signs the key sets.
pub struct RootInput {
    pub id: &'static str,
    pub seed: u64,
    pub not_before: u64,
    pub not_after: u64,
}

pub const ROOT: RootInput = RootInput {
    id: "vector-police",
    seed: 1,
    not_before: 1_600_000_000,
    not_after: 2_100_000_000,
};

impl RootInput {
    pub fn secret(&self) -> [u8; 32] {
        derive_secret("root", self.seed)
    }

    pub fn validity(&self) -> Validity {
        Validity::new(UnixTime(self.not_before), UnixTime(self.not_after)).unwrap()
    }

    pub fn key(&self) -> RootKey {
        RootKey::from_secret_bytes(
            IssuerId::new(self.id).unwrap(),
            self.validity(),
            &self.secret(),
        )
        .unwrap()
    }

    pub fn json(&self) -> Value {
        let key = self.key();
        json!({
            "id": self.id,
            "seed": self.seed,
            "secret_key": hex(&self.secret()),
            "public_key": hex(&key.public().public_key_bytes()),
            "key_id": hex(&key.public().key_id().0),
            "not_before": self.not_before,
            "not_after": self.not_after,
        })
    }

    /// The root anchor: what a door is configured with.
    pub fn build(&self) -> Vec<u8> {
        self.key().public().to_bytes()
    }

    pub fn anchor_json(&self, bytes: &[u8]) -> Value {
        json!({
            "object": "root_anchor",
            "name": "root-anchor",
            "description": "The vector issuer's root public key, which signs the key-set vectors; its window is wider than any signing key's.",
            "root": self.json(),
            "hex": hex(bytes),
        })
    }
}

/// The usage byte of a key-set entry (`src/wire.rs`).
pub fn usage_code(usage: KeyUsage) -> u8 {
    match usage {
        KeyUsage::Credentials => 1,
        KeyUsage::Lists => 2,
        KeyUsage::CredentialsAndLists => 3,
    }
}

/// The wire code of a revocation reason: its position in `RevocationReason::ALL`.
pub fn reason_code(reason: RevocationReason) -> u8 {
    let code = RevocationReason::ALL
        .iter()
        .position(|r| *r == reason)
        .unwrap();
    u8::try_from(code).unwrap()
}

/// One key a key set names, as the inputs say it must be.
#[derive(Clone, Copy)]
pub struct ExpectedEntry {
    pub key: IssuerInput,
    pub usage: KeyUsage,
    /// (revoked at, reason).
    pub revoked: Option<(u64, RevocationReason)>,
}

impl ExpectedEntry {
    pub fn key_id(&self) -> KeyId {
        self.key.key().key_id()
    }
}

/// A key set: the first of the issuer (sequence 1), or the next after `previous`
/// (sequence + 1, its keys carried over), with keys certified and then revoked.
pub struct KeySetCase {
    pub name: &'static str,
    pub description: &'static str,
    pub previous: Option<&'static str>,
    pub issued_at: u64,
    pub certify: Vec<(IssuerInput, KeyUsage)>,
    /// (key, revoked at, reason).
    pub revoke: Vec<(IssuerInput, u64, RevocationReason)>,
}

pub fn key_set_cases() -> Vec<KeySetCase> {
    vec![
        KeySetCase {
            name: "key-set-two-keys",
            description: "The issuer's first key set (sequence 1): the key every other vector is signed with, for credentials and lists, and a second key for lists only.",
            previous: None,
            issued_at: T0 - 86_400,
            certify: vec![
                (ISSUER, KeyUsage::CredentialsAndLists),
                (LIST_KEY, KeyUsage::Lists),
            ],
            revoke: vec![],
        },
        KeySetCase {
            name: "key-set-revoked",
            description: "The next key set (sequence 2) after key-set-two-keys: the lists-only key revoked as compromised (issuer key compromise), and a third key certified for credentials only.",
            previous: Some("key-set-two-keys"),
            issued_at: T0 + 3600,
            certify: vec![(NEXT_KEY, KeyUsage::Credentials)],
            revoke: vec![(LIST_KEY, T0 + 1800, RevocationReason::IssuerKeyCompromise)],
        },
    ]
}

pub fn key_set_case(name: &str) -> KeySetCase {
    key_set_cases()
        .into_iter()
        .find(|c| c.name == name)
        .expect("key set case")
}

impl KeySetCase {
    pub fn sequence(&self) -> u64 {
        self.previous
            .map_or(1, |name| key_set_case(name).sequence() + 1)
    }

    /// Every key the set names, sorted by key id, built from the inputs alone.
    pub fn expected_entries(&self) -> Vec<ExpectedEntry> {
        let mut entries = self
            .previous
            .map_or_else(Vec::new, |name| key_set_case(name).expected_entries());
        for (key, usage) in &self.certify {
            let id = key.key().key_id();
            entries.retain(|e| e.key_id() != id);
            entries.push(ExpectedEntry {
                key: *key,
                usage: *usage,
                revoked: None,
            });
        }
        for (key, at, reason) in &self.revoke {
            let id = key.key().key_id();
            let entry = entries.iter_mut().find(|e| e.key_id() == id).unwrap();
            entry.revoked = Some((*at, *reason));
        }
        entries.sort_by_key(|e| e.key_id().0);
        entries
    }

    pub fn build(&self) -> Vec<u8> {
        let root = ROOT.key();
        let now = UnixTime(self.issued_at);
        let mut draft = match self.previous {
            None => KeySetDraft::first(root.public(), now),
            Some(name) => KeySetDraft::next_after(
                &root
                    .public()
                    .verify_key_set(&key_set_case(name).build(), now, 0)
                    .unwrap(),
                now,
            ),
        };
        for (key, usage) in &self.certify {
            draft.certify(key.key().public(), *usage).unwrap();
        }
        for (key, at, reason) in &self.revoke {
            draft
                .revoke(key.key().key_id(), UnixTime(*at), *reason)
                .unwrap();
        }
        assert_eq!(draft.sequence(), self.sequence());
        root.sign_key_set(&draft).unwrap()
    }

    pub fn json(&self, bytes: &[u8]) -> Value {
        let entries: Vec<Value> = self
            .expected_entries()
            .iter()
            .map(|e| {
                json!({
                    "key": e.key.json(),
                    "usage": e.usage.to_string(),
                    "usage_code": usage_code(e.usage),
                    "revoked": e.revoked.map(|(at, reason)| json!({
                        "at": at,
                        "reason": format!("{reason:?}"),
                        "reason_code": reason_code(reason),
                    })),
                })
            })
            .collect();
        json!({
            "object": "key_set",
            "name": self.name,
            "description": self.description,
            "root": ROOT.json(),
            "previous": self.previous,
            "sequence": self.sequence(),
            "issued_at": self.issued_at,
            "entries": entries,
            "hex": hex(bytes),
        })
    }
}

// ---------------------------------------------------------------------------
// Revocation lists and deltas
// ---------------------------------------------------------------------------

/// A set of status indexes: listed, or "every `i < capacity` with
/// `lo <= splitmix64(seed ^ i) % 1000 < hi`" minus the indexes of `except`.
#[derive(Clone)]
pub enum IndexSet {
    Listed(Vec<u32>),
    Rule { seed: u64, lo: u64, hi: u64 },
}

impl IndexSet {
    pub fn indexes(&self, capacity: u32) -> Vec<u32> {
        match self {
            Self::Listed(v) => v.clone(),
            Self::Rule { seed, lo, hi } => (0..capacity)
                .filter(|&i| {
                    let r = splitmix64(seed ^ u64::from(i)) % 1000;
                    (*lo..*hi).contains(&r)
                })
                .collect(),
        }
    }

    pub fn json(&self) -> Value {
        match self {
            Self::Listed(v) => json!(v),
            Self::Rule { seed, lo, hi } => json!({
                "rule": "every index i < capacity with lo <= splitmix64(seed ^ i) % 1000 < hi",
                "seed": seed, "lo": lo, "hi": hi,
            }),
        }
    }
}

pub fn scope_json(e: &ScopeEntry) -> Value {
    let (kind, value) = match e.scope {
        Scope::PrintBatch(b) => ("print_batch", json!(b.0)),
        Scope::IssuerKey(k) => ("issuer_key", json!(hex(&k.0))),
        Scope::IssuedBefore(t) => ("issued_before", json!(t.0)),
    };
    json!({
        "scope": kind,
        "value": value,
        "reason": format!("{:?}", e.reason),
        "since": e.since.0,
    })
}

/// A list as first published (sequence 1).
pub struct ListCase {
    pub name: &'static str,
    pub description: &'static str,
    pub capacity: u32,
    pub revoked: IndexSet,
    pub suspended: IndexSet,
    pub scopes: Vec<ScopeEntry>,
    pub issued_at: u64,
    pub next_update: u64,
    /// The issuer's audit log head the list commits to.
    pub audit: AuditHead,
}

/// A pinned audit head of `entries` entries (see the module documentation).
pub fn audit_head(entries: u64) -> AuditHead {
    AuditHead {
        entries,
        hash: derive_secret("audit", entries),
    }
}

pub fn audit_json(a: &AuditHead) -> Value {
    json!({ "entries": a.entries, "hash": hex(&a.hash) })
}

/// The state digest a signed list names, read through the public API.
pub fn state_of(list: &[u8]) -> [u8; 32] {
    list_state_digest(list).unwrap().0
}

impl ListCase {
    /// The issuer's working list with the case's statuses and scopes, unpublished.
    pub fn status_list(&self) -> IssuerStatusList {
        let key = ISSUER.key();
        let mut list = IssuerStatusList::new(key.issuer().clone(), self.capacity).unwrap();
        for i in self.revoked.indexes(self.capacity) {
            list.revoke(i, RevocationReason::Unspecified, UnixTime(self.issued_at))
                .unwrap();
        }
        for i in self.suspended.indexes(self.capacity) {
            assert_eq!(
                list.status(i),
                Some(Status::Valid),
                "{}: index {i} in two sets",
                self.name
            );
            list.suspend(i).unwrap();
        }
        for e in &self.scopes {
            list.revoke_scope(*e).unwrap();
        }
        list
    }

    /// Publishes the case: (the issuer's list, the publication at sequence 1).
    pub fn build(&self) -> (IssuerStatusList, Publication) {
        let mut list = self.status_list();
        let p = list
            .publish_at(
                &ISSUER.key(),
                UnixTime(self.issued_at),
                UnixTime(self.next_update),
                self.audit,
            )
            .unwrap();
        assert_eq!(p.sequence, 1);
        (list, p)
    }

    pub fn json(&self, bytes: &[u8]) -> Value {
        json!({
            "object": "revocation_list",
            "name": self.name,
            "description": self.description,
            "issuer": ISSUER.json(),
            "sequence": 1,
            "capacity": self.capacity,
            "issued_at": self.issued_at,
            "next_update": self.next_update,
            "revoked": self.revoked.json(),
            "suspended": self.suspended.json(),
            "scopes": self.scopes.iter().map(scope_json).collect::<Vec<_>>(),
            "audit": audit_json(&self.audit),
            "state": hex(&state_of(bytes)),
            "hex": hex(bytes),
        })
    }
}

pub fn list_cases() -> Vec<ListCase> {
    // A list that revokes its own signer is refused, so the issuer-key scope names
    // another key: the lists-only key that `key-set-revoked` revokes.
    let key_id = LIST_KEY.key().key_id();
    vec![
        ListCase {
            name: "list-empty",
            description: "Smallest capacity, nothing revoked or suspended, no scopes: every status set is the one-byte empty form; the empty audit head (zero entries, zero hash).",
            capacity: MIN_LIST_CAPACITY,
            revoked: IndexSet::Listed(vec![]),
            suspended: IndexSet::Listed(vec![]),
            scopes: vec![],
            issued_at: T0,
            next_update: T0 + 3600,
            audit: AuditHead::EMPTY,
        },
        ListCase {
            name: "list-mixed",
            description: "A few revoked and suspended indexes at both ends of an odd capacity (Rice-coded sets), one scope entry of each kind (the issuer-key entry names the lists-only key of the key-set vectors, not the key that signs the list), and an audit head of seven entries.",
            capacity: MIN_LIST_CAPACITY + 5,
            revoked: IndexSet::Listed(vec![0, 5, 1000, 70_000, MIN_LIST_CAPACITY + 4]),
            suspended: IndexSet::Listed(vec![7, 99_999]),
            scopes: vec![
                ScopeEntry {
                    scope: Scope::PrintBatch(PrintBatchId(42)),
                    reason: RevocationReason::SupplierBreach,
                    since: UnixTime(T0 - 60),
                },
                ScopeEntry {
                    scope: Scope::IssuerKey(key_id),
                    reason: RevocationReason::IssuerKeyCompromise,
                    since: UnixTime(T0 - 30),
                },
                ScopeEntry {
                    scope: Scope::IssuedBefore(UnixTime(1_750_000_000)),
                    reason: RevocationReason::Unspecified,
                    since: UnixTime(T0),
                },
            ],
            issued_at: T0,
            next_update: T0 + 3600,
            audit: audit_head(7),
        },
        ListCase {
            name: "list-dense",
            description: "Half the indexes revoked at random (bitmap) and 10% suspended at random (Golomb-coded); an audit head of one entry.",
            capacity: MIN_LIST_CAPACITY,
            revoked: IndexSet::Rule {
                seed: 11,
                lo: 0,
                hi: 500,
            },
            suspended: IndexSet::Rule {
                seed: 11,
                lo: 500,
                hi: 600,
            },
            scopes: vec![],
            issued_at: T0,
            next_update: T0 + 86_400,
            audit: audit_head(1),
        },
    ]
}

/// The delta from a list case (sequence 1) to sequence 2 after some changes.
pub struct DeltaCase {
    pub name: &'static str,
    pub description: &'static str,
    /// Name of the list case it starts from.
    pub base: &'static str,
    pub revoke: Vec<u32>,
    pub suspend: Vec<u32>,
    pub reinstate: Vec<u32>,
    pub scopes: Vec<ScopeEntry>,
    pub issued_at: u64,
    pub next_update: u64,
    /// The audit head the full list at sequence 2 commits to (a delta carries none).
    pub audit: AuditHead,
}

pub struct DeltaBuilt {
    pub base: Publication,
    pub delta: Vec<u8>,
    /// The full list at sequence 2.
    pub list: Vec<u8>,
    /// The issuer's list after the changes.
    pub status: IssuerStatusList,
}

impl DeltaCase {
    pub fn base_case(&self) -> ListCase {
        list_cases()
            .into_iter()
            .find(|c| c.name == self.base)
            .expect("base list case")
    }

    pub fn build(&self) -> DeltaBuilt {
        let (mut status, base) = self.base_case().build();
        let at = UnixTime(self.issued_at);
        for &i in &self.revoke {
            status.revoke(i, RevocationReason::Stolen, at).unwrap();
        }
        for &i in &self.suspend {
            status.suspend(i).unwrap();
        }
        for &i in &self.reinstate {
            status.reinstate(i).unwrap();
        }
        for e in &self.scopes {
            status.revoke_scope(*e).unwrap();
        }
        let p = status
            .publish_at(&ISSUER.key(), at, UnixTime(self.next_update), self.audit)
            .unwrap();
        assert_eq!(p.sequence, 2);
        DeltaBuilt {
            base,
            delta: p.delta.unwrap(),
            list: p.list,
            status,
        }
    }

    pub fn json(&self, built: &DeltaBuilt) -> Value {
        json!({
            "object": "delta",
            "name": self.name,
            "description": self.description,
            "issuer": ISSUER.json(),
            "base": self.base,
            "from_sequence": 1,
            "to_sequence": 2,
            "issued_at": self.issued_at,
            "next_update": self.next_update,
            "revoke": self.revoke,
            "suspend": self.suspend,
            "reinstate": self.reinstate,
            "scopes": self.scopes.iter().map(scope_json).collect::<Vec<_>>(),
            "base_state": hex(&state_of(&built.base.list)),
            "state_after": hex(&state_of(&built.list)),
            "list_at_to_sequence_audit": audit_json(&self.audit),
            "hex": hex(&built.delta),
            "list_at_to_sequence_hex": hex(&built.list),
        })
    }
}

pub fn delta_cases() -> Vec<DeltaCase> {
    vec![DeltaCase {
        name: "delta-mixed",
        description: "From list-mixed (sequence 1) to sequence 2: revoke a suspended and a valid index, suspend one, reinstate one, add a print-batch scope. Its base_state is list-mixed's state, which its signature covers (format 3: signed, not carried; the body holds its first 4 bytes as a hint); the state after it is that of the full list at sequence 2 (whose audit head has nine entries).",
        base: "list-mixed",
        revoke: vec![7, 12_345],
        suspend: vec![42],
        reinstate: vec![99_999],
        scopes: vec![ScopeEntry {
            scope: Scope::PrintBatch(PrintBatchId(43)),
            reason: RevocationReason::SupplierBreach,
            since: UnixTime(T0 + 60),
        }],
        issued_at: T0 + 60,
        next_update: T0 + 3660,
        audit: audit_head(9),
    }]
}

// ---------------------------------------------------------------------------
// All vectors
// ---------------------------------------------------------------------------
// Holder binding: a door's challenge and a card's response
// ---------------------------------------------------------------------------

/// A challenge from door `custody` at `T0` (nonce `derive_secret("nonce", 1)`, lifetime
/// 30 s), answered by the card of `credential-full` presenting that credential.
pub struct ChallengeBuilt {
    pub challenge: Vec<u8>,
    pub response: Vec<u8>,
    pub credential: Vec<u8>,
    pub nonce: [u8; 32],
}

pub const CHALLENGE_DOOR: &str = "custody";
pub const CHALLENGE_TTL: u64 = 30;

/// A door controller trusting the vector issuer, holding `list-empty`, with one door
/// requiring holder binding; and the challenge it issues at `T0` with the pinned nonce.
pub fn challenge_door() -> (DoorController, Challenge, [u8; 32]) {
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier.add_key(ISSUER.key().public().clone()).unwrap();
    let (_, empty) = list_cases()
        .into_iter()
        .find(|c| c.name == "list-empty")
        .unwrap()
        .build();
    verifier.install_list(&empty.list, UnixTime(T0)).unwrap();
    let door = DoorId::new(CHALLENGE_DOOR).unwrap();
    let controller = DoorController::new(
        std::sync::Arc::new(verifier),
        vec![
            DoorPolicy::new(door.clone())
                .require_holder_binding()
                .with_challenge_ttl(CHALLENGE_TTL),
        ],
    )
    .unwrap();
    let nonce = derive_secret("nonce", 1);
    let challenge = controller
        .challenge(&door, UnixTime(T0), &mut Replay::new(&nonce))
        .unwrap();
    (controller, challenge, nonce)
}

pub fn challenge_built() -> ChallengeBuilt {
    let case = credential_cases()
        .into_iter()
        .find(|c| c.name == "credential-full")
        .unwrap();
    let credential = case.build().bytes().to_vec();
    let (_, challenge, nonce) = challenge_door();
    let response = case.card_key().unwrap().respond(&challenge, &credential);
    ChallengeBuilt {
        challenge: challenge.to_bytes(),
        response,
        credential,
        nonce,
    }
}

fn challenge_json(b: &ChallengeBuilt) -> Value {
    json!({
        "object": "challenge_and_response",
        "name": "challenge-response",
        "description": "Door `custody` challenges at T0 with a pinned nonce; the card of credential-full answers, presenting that credential.",
        "door": CHALLENGE_DOOR,
        "nonce": hex(&b.nonce),
        "issued_at": T0,
        "expires_at": T0 + CHALLENGE_TTL,
        "credential": "credential-full",
        "card_secret_key": hex(&derive_secret("card", 1)),
        "challenge_hex": hex(&b.challenge),
        "response_hex": hex(&b.response),
    })
}

// ---------------------------------------------------------------------------

/// A door's saved trust (`VerifierState::to_bytes`): the committed root installed,
/// `key-set-two-keys` then `key-set-revoked` applied, `list-mixed` held.
pub struct StateBuilt {
    pub bytes: Vec<u8>,
    pub key_set_sequence: u64,
    pub list_sequence: u64,
    pub at: u64,
}

pub const STATE_LIST: &str = "list-mixed";

pub fn verifier_state_built() -> StateBuilt {
    let options = VerifyOptions::default();
    let mut trust = TrustStore::new();
    trust.add_root(ROOT.key().public().clone()).unwrap();
    let mut state = VerifierState::new(trust);
    let first = key_set_case("key-set-two-keys");
    state
        .install_key_set(&first.build(), UnixTime(first.issued_at), &options)
        .unwrap();
    let case = list_cases()
        .into_iter()
        .find(|c| c.name == STATE_LIST)
        .unwrap();
    let (_, publication) = case.build();
    let at = UnixTime(case.issued_at);
    state.install_list(&publication.list, at, &options).unwrap();
    let second = key_set_case("key-set-revoked");
    state
        .install_key_set(&second.build(), UnixTime(second.issued_at), &options)
        .unwrap();
    StateBuilt {
        bytes: state.to_bytes(),
        key_set_sequence: second.sequence(),
        list_sequence: state.list(ROOT.key().public().issuer()).unwrap().sequence(),
        at: case.issued_at,
    }
}

fn verifier_state_json(b: &StateBuilt) -> Value {
    json!({
        "name": "verifier-state",
        "description": "A door's saved trust (format 1, see src/wire/state.rs): the root of root-anchor installed, key-set-two-keys then key-set-revoked applied (so the lists-only key is remembered as revoked), list-mixed held. A reader restores exactly this state; its digest is SHA-256 over the domain, the version and kind bytes and the body.",
        "domain": String::from_utf8_lossy(revocard::format::VERIFIER_STATE_DOMAIN).trim_end_matches('\0'),
        "version": revocard::format::VERIFIER_STATE_FORMAT_VERSION,
        "root": "root-anchor",
        "key_sets": ["key-set-two-keys", "key-set-revoked"],
        "key_set_sequence": b.key_set_sequence,
        "list": STATE_LIST,
        "list_sequence": b.list_sequence,
        "at": b.at,
        "hex": hex(&b.bytes),
    })
}

// ---------------------------------------------------------------------------

/// One vector file: its name (file stem), its JSON, and the bytes for a fuzz seed.
pub struct Built {
    pub name: &'static str,
    pub json: Value,
    /// (fuzz target, bytes) pairs this vector seeds.
    pub seeds: Vec<(&'static str, Vec<u8>)>,
}

pub fn all() -> Vec<Built> {
    let mut out = Vec::new();
    for case in credential_cases() {
        let cred = case.build();
        out.push(Built {
            name: case.name,
            json: case.json(&cred),
            seeds: vec![
                ("credential", cred.bytes().to_vec()),
                ("credential_text", cred.to_text().into_bytes()),
            ],
        });
    }
    for case in anchor_cases() {
        let bytes = case.build();
        out.push(Built {
            name: case.name,
            json: case.json(&bytes),
            seeds: vec![("trust_anchor", bytes.clone()), ("root_anchor", bytes)],
        });
    }
    let root_anchor = ROOT.build();
    out.push(Built {
        name: "root-anchor",
        json: ROOT.anchor_json(&root_anchor),
        // A signing key's anchor is a seed of `root_anchor` and the root's of
        // `trust_anchor` (see `anchor_cases`): each must refuse the other.
        seeds: vec![
            ("root_anchor", root_anchor.clone()),
            ("trust_anchor", root_anchor),
        ],
    });
    for case in key_set_cases() {
        let bytes = case.build();
        out.push(Built {
            name: case.name,
            json: case.json(&bytes),
            seeds: vec![("key_set", bytes)],
        });
    }
    for case in list_cases() {
        let (_, p) = case.build();
        out.push(Built {
            name: case.name,
            json: case.json(&p.list),
            seeds: vec![("list", p.list)],
        });
    }
    for case in delta_cases() {
        let built = case.build();
        out.push(Built {
            name: case.name,
            json: case.json(&built),
            seeds: vec![("delta", built.delta.clone()), ("list", built.list.clone())],
        });
    }
    let built = challenge_built();
    out.push(Built {
        name: "challenge-response",
        json: challenge_json(&built),
        seeds: Vec::new(),
    });
    let state = verifier_state_built();
    out.push(Built {
        name: "verifier-state",
        json: verifier_state_json(&state),
        seeds: vec![("verifier_state", state.bytes)],
    });
    out
}

/// The file a vector is written to, relative to the crate root.
pub fn path_of(name: &str) -> String {
    format!("tests/vectors/{name}.json")
}

/// The exact text of a vector file.
pub fn file_text(json: &Value) -> String {
    let mut text = serde_json::to_string_pretty(json).unwrap();
    text.push('\n');
    text
}
