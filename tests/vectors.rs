//! Committed wire-format vectors (`tests/vectors/*.json`, written by
//! `cargo run --example gen_vectors -- --write`).
//!
//! 1. Every vector is rebuilt in memory from its inputs and must equal the committed
//!    file byte for byte: a change to the encoding (or to bincode underneath it) fails
//!    here instead of silently splitting issuers from verifiers.
//! 2. The committed bytes are parsed by hand, following the layout documented in
//!    `src/wire.rs`, and every field is compared with the inputs; the signature is
//!    checked with ed25519-dalek directly over `domain || version || body`.
//! 3. The committed bytes are decoded through the public API (decode, verify, install,
//!    apply) and every decoded field and status is compared with the inputs.

#[path = "vectors/cases.rs"]
mod cases;

use std::collections::BTreeSet;
use std::path::Path;

use cases::*;
use ed25519_dalek::{Signature, VerifyingKey};
use revocard::door::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed(name: &str) -> Value {
    let path = root().join(path_of(name));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `cargo run --example gen_vectors -- --write`)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn committed_bytes(name: &str, field: &str) -> Vec<u8> {
    unhex(committed(name)[field].as_str().unwrap())
}

#[test]
fn committed_vectors_match_the_encoder_byte_for_byte() {
    let built = all();
    for b in &built {
        let path = root().join(path_of(b.name));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cargo run --example gen_vectors -- --write`)",
                path.display()
            )
        });
        if text != file_text(&b.json) {
            let file: Value = serde_json::from_str(&text).unwrap();
            for field in ["hex", "text", "list_at_to_sequence_hex"] {
                assert_eq!(
                    file[field], b.json[field],
                    "{}: `{field}` differs from what this build encodes: the wire format changed",
                    b.name
                );
            }
            assert_eq!(file, b.json, "{}: inputs differ", b.name);
            panic!("{}: file text differs (formatting)", b.name);
        }
    }
    // No stale vector files: the directory holds exactly the vectors built.
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("tests/vectors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let names: BTreeSet<String> = built.iter().map(|b| b.name.to_owned()).collect();
    assert_eq!(on_disk, names);
}

// ---------------------------------------------------------------------------
// Hand parsing of the documented layout
// ---------------------------------------------------------------------------

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        out
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        self.take(N).try_into().unwrap()
    }
    /// A u64 length, then that many bytes.
    fn bytes(&mut self) -> &'a [u8] {
        let len = usize::try_from(self.u64()).unwrap();
        self.take(len)
    }
    fn str(&mut self) -> &'a str {
        std::str::from_utf8(self.bytes()).unwrap()
    }
    /// A minimal unsigned LEB128 varint (list and delta headers, format 3).
    fn varint(&mut self) -> u64 {
        let mut value = 0u64;
        for group in 0..10 {
            let byte = self.u8();
            value |= u64::from(byte & 0x7f) << (7 * group);
            if byte & 0x80 == 0 {
                assert!(group == 0 || byte != 0, "non-minimal varint");
                return value;
            }
        }
        panic!("varint longer than 10 bytes")
    }
    /// A varint length, then that many bytes.
    fn vbytes(&mut self) -> &'a [u8] {
        let len = usize::try_from(self.varint()).unwrap();
        self.take(len)
    }
    fn option<const N: usize>(&mut self) -> Option<[u8; N]> {
        match self.u8() {
            0 => None,
            1 => Some(self.array()),
            tag => panic!("option tag {tag}"),
        }
    }
    fn done(&self) {
        assert_eq!(self.pos, self.bytes.len(), "trailing bytes");
    }
}

/// Checks `version | signature | body`, the signature by `public_key` over `domain ||
/// version || body`, and returns the body.
fn signed_body<'a>(bytes: &'a [u8], domain: &[u8], version: u8, public_key: &[u8; 32]) -> &'a [u8] {
    assert_eq!(bytes[0], version, "version byte");
    let signature = Signature::from_bytes(bytes[1..65].try_into().unwrap());
    let body = &bytes[65..];
    let key = VerifyingKey::from_bytes(public_key).unwrap();
    let mut msg = domain.to_vec();
    msg.push(version);
    msg.extend_from_slice(body);
    key.verify_strict(&msg, &signature)
        .expect("signature over domain || version || body");
    body
}

fn issuer_public_key() -> [u8; 32] {
    ISSUER.key().public().public_key_bytes()
}

#[test]
fn credential_bytes_follow_the_documented_layout() {
    for case in credential_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let c = case.expected_claims();
        let mut r = Reader::new(signed_body(
            &bytes,
            CREDENTIAL_DOMAIN,
            FORMAT_VERSION,
            &issuer_public_key(),
        ));
        assert_eq!(r.array::<16>(), c.serial.0);
        assert_eq!(r.u8(), u8::from(c.kind == Kind::StaffPass));
        assert_eq!(r.str(), c.holder.pay_number());
        assert_eq!(r.str(), c.holder.name());
        assert_eq!(r.str(), c.holder.rank());
        assert_eq!(r.str(), c.holder.unit());
        assert_eq!(r.array::<32>(), c.holder.photo().0);
        let (ladder, level, national) = (r.u8(), r.u8(), r.u8());
        let (police, nat) = vetting_label(&c.vetting);
        let expected_police = match police {
            "RV" => (0, 0),
            "MV" => (0, 1),
            "NPPV1" => (1, 0),
            "NPPV2A" => (1, 1),
            "NPPV2" => (1, 2),
            "NPPV3" => (1, 3),
            other => panic!("{other}"),
        };
        assert_eq!((ladder, level), expected_police, "{}", case.name);
        let expected_national = match nat {
            None => 0,
            Some("CTC") => 1,
            Some("SC") => 2,
            Some("eSC") => 3,
            Some("DV") => 4,
            Some(other) => panic!("{other}"),
        };
        assert_eq!(national, expected_national);
        assert_eq!(r.str(), c.issuer.as_str());
        assert_eq!(r.array::<8>(), c.key_id.0);
        assert_eq!(r.u32(), c.status_index.0);
        assert_eq!(r.u32(), c.print_batch.0);
        assert_eq!(r.u64(), c.issued_at.0);
        assert_eq!(r.u64(), c.validity.not_before.0);
        assert_eq!(r.u64(), c.validity.not_after.0);
        assert_eq!(r.option::<32>(), c.card_key.map(|k| k.0));
        assert_eq!(r.option::<16>(), c.supersedes.map(|s| s.0));
        r.done();
    }
}

#[test]
fn trust_anchor_bytes_follow_the_documented_layout() {
    for case in anchor_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let key = case.issuer.key();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8(), FORMAT_VERSION);
        assert_eq!(r.str(), case.issuer.id);
        assert_eq!(r.array::<8>(), key.key_id().0);
        assert_eq!(r.array::<32>(), key.public().public_key_bytes());
        assert_eq!(r.u64(), case.issuer.not_before);
        assert_eq!(r.u64(), case.issuer.not_after);
        r.done();
    }
}

/// `value` as an unsigned LEB128 varint.
fn leb128(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
    out
}

/// Scope records, format 3: count varint, then per entry tag u8, value (varint batch
/// id, key id [8], or varint time), reason u8, since varint.
fn scope_records(entries: &[ScopeEntry]) -> Vec<u8> {
    let mut out = leb128(entries.len() as u64);
    for e in entries {
        match e.scope {
            Scope::PrintBatch(b) => {
                out.push(0);
                out.extend(leb128(u64::from(b.0)));
            }
            Scope::IssuerKey(k) => {
                out.push(1);
                out.extend_from_slice(&k.0);
            }
            Scope::IssuedBefore(t) => {
                out.push(2);
                out.extend(leb128(t.0));
            }
        }
        let code = RevocationReason::ALL
            .iter()
            .position(|r| *r == e.reason)
            .unwrap();
        out.push(u8::try_from(code).unwrap());
        out.extend(leb128(e.since.0));
    }
    out
}

/// The status-set mode byte (`status_codec`): 1 Rice, 2 Golomb, 3 bitmap (0, the
/// empty set's form, is never sent: an empty set is an absent part).
fn mode(set: &[u8]) -> u8 {
    set[0]
}

/// The domain of a list's state digest (`STATE_DOMAIN` in `src/wire/mod.rs`, not exported).
const STATE_DOMAIN: &[u8] = b"revocard/v3/status-state\0";

/// SHA-256(STATE_DOMAIN || tag || body): tag 0 for a first list (its body with a zero
/// state), 1 for the state after a delta (`base state || delta body`).
fn state_digest(tag: u8, body: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::new()
        .chain_update(STATE_DOMAIN)
        .chain_update([tag])
        .chain_update(body)
        .finalize()
        .into()
}

/// Reads `present` and the parts it names: scopes (bit 0), then up to `sets` status
/// sets (bits 1, 2, 3), an absent part as an empty slice.
fn parts<'a>(r: &mut Reader<'a>, sets: usize) -> (&'a [u8], Vec<&'a [u8]>) {
    let present = r.u8();
    assert_eq!(present >> (1 + sets), 0, "unknown bits in present");
    let scopes = if present & 1 != 0 {
        let start = r.pos;
        let count = r.varint();
        assert!(count > 0);
        for _ in 0..count {
            match r.u8() {
                0 | 2 => {
                    r.varint();
                }
                1 => {
                    r.take(8);
                }
                tag => panic!("scope tag {tag}"),
            }
            r.u8();
            r.varint();
        }
        &r.bytes[start..r.pos]
    } else {
        &[][..]
    };
    let sets = (0..sets)
        .map(|bit| {
            if present & (2 << bit) != 0 {
                r.vbytes()
            } else {
                &[][..]
            }
        })
        .collect();
    (scopes, sets)
}

/// A signed list parsed by hand, field by field, in the documented order.
struct HandList<'a> {
    body: &'a [u8],
    issuer: &'a str,
    key_id: [u8; 8],
    sequence: u64,
    issued_at: u64,
    next_update: u64,
    capacity: u32,
    /// Offset of `state` in the body.
    state_at: usize,
    state: [u8; 32],
    audit: AuditHead,
    scopes: &'a [u8],
    revoked: &'a [u8],
    suspended: &'a [u8],
}

fn parse_list(bytes: &[u8]) -> HandList<'_> {
    let body = signed_body(
        bytes,
        LIST_DOMAIN,
        LIST_FORMAT_VERSION,
        &issuer_public_key(),
    );
    let mut r = Reader::new(body);
    let issuer = std::str::from_utf8(r.vbytes()).unwrap();
    let key_id = r.array::<8>();
    let sequence = r.varint();
    let issued_at = r.varint();
    let next_update = issued_at + r.varint();
    let capacity = u32::try_from(r.varint()).unwrap();
    let state_at = r.pos;
    let state = r.array::<32>();
    let audit = AuditHead {
        entries: r.varint(),
        hash: r.array::<32>(),
    };
    let (scopes, sets) = parts(&mut r, 2);
    r.done();
    HandList {
        body,
        issuer,
        key_id,
        sequence,
        issued_at,
        next_update,
        capacity,
        state_at,
        state,
        audit,
        scopes,
        revoked: sets[0],
        suspended: sets[1],
    }
}

fn scope_part(entries: &[ScopeEntry]) -> Vec<u8> {
    if entries.is_empty() {
        Vec::new()
    } else {
        scope_records(entries)
    }
}

#[test]
fn list_and_delta_bytes_follow_the_documented_layout() {
    let key_id = ISSUER.key().key_id().0;
    let mut modes_seen = BTreeSet::new();
    let mut states = std::collections::BTreeMap::new();
    for case in list_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let l = parse_list(&bytes);
        assert_eq!(l.issuer, ISSUER.id);
        assert_eq!(l.key_id, key_id);
        assert_eq!(l.sequence, 1, "sequence");
        assert_eq!(l.issued_at, case.issued_at);
        assert_eq!(l.next_update, case.next_update);
        assert_eq!(l.capacity, case.capacity);
        assert_eq!(l.audit, case.audit, "{}: audit head", case.name);
        assert_eq!(l.scopes, scope_part(&case.scopes));
        // A first list's state: its body with a zero state, under tag 0.
        let mut zeroed = l.body.to_vec();
        zeroed[l.state_at..l.state_at + 32].fill(0);
        assert_eq!(
            l.state,
            state_digest(0, &zeroed),
            "{}: genesis state",
            case.name
        );
        assert_eq!(
            hex(&l.state),
            committed(case.name)["state"].as_str().unwrap()
        );
        states.insert(case.name, l.state);
        for (set, expected) in [(l.revoked, &case.revoked), (l.suspended, &case.suspended)] {
            assert_eq!(
                set.is_empty(),
                expected.indexes(case.capacity).is_empty(),
                "{}: absent iff empty",
                case.name
            );
            if set.is_empty() {
                continue;
            }
            let m = mode(set);
            modes_seen.insert(m);
            if m == 3 {
                assert_eq!(set.len(), 1 + case.capacity.div_ceil(8) as usize);
            }
        }
    }
    // The vectors exercise every status-set representation ...
    assert_eq!(
        modes_seen,
        BTreeSet::from([1, 2, 3]),
        "status-set modes covered"
    );
    // ... an absent set, and a non-empty audit head.
    assert!(
        list_cases()
            .iter()
            .any(|c| c.revoked.indexes(c.capacity).is_empty()),
        "no list vector has an absent set"
    );
    assert!(
        list_cases()
            .iter()
            .any(|c| c.audit.entries > 0 && c.audit.hash != [0; 32]),
        "no list vector commits to a non-empty audit log"
    );

    for case in delta_cases() {
        let bytes = committed_bytes(case.name, "hex");
        // The signature covers the base state, which the delta does not carry.
        let base_state = states[case.base];
        let body = &bytes[65..];
        assert_eq!(bytes[0], LIST_FORMAT_VERSION, "version byte");
        let mut message = DELTA_DOMAIN.to_vec();
        message.push(LIST_FORMAT_VERSION);
        message.extend_from_slice(&base_state);
        message.extend_from_slice(body);
        VerifyingKey::from_bytes(&issuer_public_key())
            .unwrap()
            .verify_strict(
                &message,
                &Signature::from_bytes(bytes[1..65].try_into().unwrap()),
            )
            .expect("signature over domain || version || base state || body");
        let mut r = Reader::new(body);
        assert_eq!(std::str::from_utf8(r.vbytes()).unwrap(), ISSUER.id);
        assert_eq!(r.array::<8>(), key_id);
        assert_eq!(r.varint(), 1, "from sequence");
        assert_eq!(r.varint(), 1, "to sequence - from sequence");
        assert_eq!(r.varint(), case.issued_at);
        assert_eq!(r.varint(), case.next_update - case.issued_at);
        assert_eq!(r.varint(), u64::from(case.base_case().capacity));
        // The base hint: the first bytes of the state of the list it applies to.
        assert_eq!(r.array::<4>(), base_state[..4], "{}: base hint", case.name);
        let (scopes, sets) = parts(&mut r, 3);
        assert_eq!(scopes, scope_part(&case.scopes));
        // Revoked (from valid or suspended), suspended, reinstated: none empty here.
        for set in sets {
            assert!(matches!(mode(set), 1..=3));
        }
        r.done();

        // The state after it is the state the full list at its to-sequence names.
        let json = committed(case.name);
        let to_list = committed_bytes(case.name, "list_at_to_sequence_hex");
        let l = parse_list(&to_list);
        assert_eq!(l.sequence, 2);
        assert_eq!(l.issued_at, case.issued_at);
        assert_eq!(l.next_update, case.next_update);
        assert_eq!(
            l.audit, case.audit,
            "{}: audit head at sequence 2",
            case.name
        );
        assert_eq!(
            l.state,
            state_digest(1, &[&base_state[..], body].concat()),
            "{}: state after",
            case.name
        );
        assert_ne!(l.state, base_state);
        assert_eq!(hex(&base_state), json["base_state"].as_str().unwrap());
        assert_eq!(hex(&l.state), json["state_after"].as_str().unwrap());
    }
}

#[test]
fn root_anchor_bytes_follow_the_documented_layout() {
    let bytes = committed_bytes("root-anchor", "hex");
    let root = ROOT.key();
    let mut r = Reader::new(&bytes);
    assert_eq!(r.u8(), ROOT_ANCHOR_FORMAT_VERSION);
    assert_eq!(r.u8(), b'R', "kind");
    assert_eq!(r.str(), ROOT.id);
    let key_id = r.array::<8>();
    let public_key = r.array::<32>();
    assert_eq!(public_key, root.public().public_key_bytes());
    // The key id is the id of the key (and the root's id everywhere else).
    assert_eq!(KeyId(key_id), key_id_of(&public_key));
    assert_eq!(KeyId(key_id), root.public().key_id());
    assert_eq!(
        VerifyingKey::from_bytes(&public_key).unwrap(),
        ed25519_dalek::SigningKey::from_bytes(&ROOT.secret()).verifying_key()
    );
    assert_eq!(r.u64(), ROOT.not_before);
    assert_eq!(r.u64(), ROOT.not_after);
    r.done();
}

/// Length of one key-set entry record.
const KEY_ENTRY_LEN: usize = 67;

#[test]
fn key_set_bytes_follow_the_documented_layout() {
    let root_public = ROOT.key().public().public_key_bytes();
    let mut usages_seen = BTreeSet::new();
    let mut revoked_seen = false;
    for case in key_set_cases() {
        let bytes = committed_bytes(case.name, "hex");
        assert!(bytes.len() <= MAX_KEY_SET_BYTES);
        let body = signed_body(&bytes, KEY_SET_DOMAIN, KEY_SET_FORMAT_VERSION, &root_public);
        let mut r = Reader::new(body);
        assert_eq!(r.str(), ROOT.id);
        assert_eq!(
            KeyId(r.array::<8>()),
            key_id_of(&root_public),
            "root key id"
        );
        assert_eq!(r.u64(), case.sequence(), "{}: sequence", case.name);
        assert_eq!(r.u64(), case.issued_at);
        let entries = r.bytes();
        r.done();
        let expected = case.expected_entries();
        assert_eq!(
            entries.len(),
            expected.len() * KEY_ENTRY_LEN,
            "{}",
            case.name
        );
        let mut previous_id: Option<[u8; 8]> = None;
        for (record, want) in entries.chunks_exact(KEY_ENTRY_LEN).zip(&expected) {
            let key = want.key.key();
            let mut e = Reader::new(record);
            let key_id = e.array::<8>();
            // Sorted by key id, each once.
            assert!(
                previous_id.is_none_or(|p| p < key_id),
                "{}: not sorted",
                case.name
            );
            previous_id = Some(key_id);
            assert_eq!(key_id, key.key_id().0);
            let public_key = e.array::<32>();
            assert_eq!(public_key, key.public().public_key_bytes());
            assert_eq!(KeyId(key_id), key_id_of(&public_key));
            let usage = e.u8();
            assert_eq!(usage, usage_code(want.usage));
            usages_seen.insert(usage);
            assert_eq!(e.u64(), want.key.not_before);
            assert_eq!(e.u64(), want.key.not_after);
            let (flag, at, reason) = (e.u8(), e.u64(), e.u8());
            match want.revoked {
                None => assert_eq!((flag, at, reason), (0, 0, 0), "{}: not revoked", case.name),
                Some((when, why)) => {
                    revoked_seen = true;
                    assert_eq!((flag, at, reason), (1, when, reason_code(why)));
                }
            }
            e.done();
        }
    }
    assert_eq!(
        usages_seen,
        BTreeSet::from([1, 2, 3]),
        "usage codes covered"
    );
    assert!(revoked_seen, "no key-set vector revokes a key");
}

// ---------------------------------------------------------------------------
// Decoding through the public API
// ---------------------------------------------------------------------------

fn anchor() -> IssuerPublicKey {
    IssuerPublicKey::from_bytes(&committed_bytes("trust-anchor", "hex")).unwrap()
}

fn verifier() -> Verifier {
    let mut trust = TrustStore::new();
    trust.add(anchor()).unwrap();
    Verifier::new(trust, VerifyOptions::default())
}

#[test]
fn committed_trust_anchors_decode_to_their_inputs() {
    for case in anchor_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let decoded = IssuerPublicKey::from_bytes(&bytes).unwrap();
        let expected = case.issuer.key();
        assert_eq!(&decoded, expected.public());
        assert_eq!(decoded.issuer().as_str(), case.issuer.id);
        assert_eq!(
            decoded.validity(),
            Validity::new(
                UnixTime(case.issuer.not_before),
                UnixTime(case.issuer.not_after)
            )
            .unwrap()
        );
        assert_eq!(decoded.to_bytes(), bytes);
    }
}

fn root_anchor() -> RootPublicKey {
    RootPublicKey::from_bytes(&committed_bytes("root-anchor", "hex")).unwrap()
}

/// A door trusting nothing but the vector root.
fn root_verifier() -> Verifier {
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier.add_root(root_anchor()).unwrap();
    verifier
}

#[test]
fn the_committed_root_anchor_decodes_to_its_inputs() {
    let bytes = committed_bytes("root-anchor", "hex");
    let decoded = RootPublicKey::from_bytes(&bytes).unwrap();
    let expected = ROOT.key();
    assert_eq!(&decoded, expected.public());
    assert_eq!(decoded.issuer().as_str(), ROOT.id);
    assert_eq!(decoded.validity(), ROOT.validity());
    assert_eq!(
        decoded.public_key_bytes(),
        ed25519_dalek::SigningKey::from_bytes(&ROOT.secret())
            .verifying_key()
            .to_bytes()
    );
    assert_eq!(decoded.key_id(), key_id_of(&decoded.public_key_bytes()));
    assert_eq!(decoded.to_bytes(), bytes);
    // A root anchor is not a signing key's anchor, nor the other way round.
    assert!(IssuerPublicKey::from_bytes(&bytes).is_err());
    for case in anchor_cases() {
        assert!(RootPublicKey::from_bytes(&committed_bytes(case.name, "hex")).is_err());
    }
}

#[test]
fn committed_key_sets_verify_and_install_to_their_inputs() {
    use sha2::Digest as _;
    let root = root_anchor();
    for case in key_set_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let now = UnixTime(case.issued_at);
        let set = root.verify_key_set(&bytes, now, 0).unwrap();
        assert_eq!(set.issuer().as_str(), ROOT.id);
        assert_eq!(set.root_key_id(), root.key_id());
        assert_eq!(set.sequence(), case.sequence());
        assert_eq!(set.issued_at(), now);
        assert_eq!(set.digest(), <[u8; 32]>::from(sha2::Sha256::digest(&bytes)));
        let expected = case.expected_entries();
        assert_eq!(set.entries().len(), expected.len(), "{}", case.name);
        for (got, want) in set.entries().iter().zip(&expected) {
            assert_eq!(&got.key, want.key.key().public(), "{}", case.name);
            assert_eq!(got.usage, want.usage);
            assert_eq!(
                got.revoked,
                want.revoked.map(|(at, reason)| (UnixTime(at), reason))
            );
            assert_eq!(set.entry(want.key_id()), Some(got));
        }

        // A door holding only the root takes the set as it is.
        let verifier = root_verifier();
        assert_eq!(
            verifier.install_key_set(&bytes, now),
            Ok(ListUpdate::Installed {
                sequence: case.sequence()
            })
        );
        assert_eq!(
            verifier.install_key_set(&bytes, now),
            Ok(ListUpdate::Unchanged {
                sequence: case.sequence()
            })
        );
        let trust = verifier.trust();
        assert_eq!(trust.key_set_sequence(root.issuer()), Some(case.sequence()));
        assert_eq!(trust.iter().count(), expected.len());
        for want in &expected {
            let anchor = trust.get(root.issuer(), &want.key_id()).unwrap();
            assert_eq!(anchor.key(), want.key.key().public());
            assert_eq!(anchor.usage(), want.usage);
            assert!(anchor.is_certified());
            assert_eq!(
                anchor.revoked_at(),
                want.revoked.map(|(at, _)| UnixTime(at))
            );
            assert_eq!(
                trust.is_revoked(root.issuer(), &want.key_id()),
                want.revoked.is_some()
            );
        }
    }
}

#[test]
fn the_committed_key_sets_carry_a_door_from_one_to_the_next() {
    let first = key_set_case("key-set-two-keys");
    let second = key_set_case("key-set-revoked");
    assert_eq!(second.previous, Some(first.name));
    let first_bytes = committed_bytes(first.name, "hex");
    let second_bytes = committed_bytes(second.name, "hex");
    let verifier = root_verifier();
    assert_eq!(
        verifier.install_key_set(&first_bytes, UnixTime(first.issued_at)),
        Ok(ListUpdate::Installed { sequence: 1 })
    );
    // The key it certifies signs the committed list and credentials.
    let at = UnixTime(list_cases()[0].issued_at);
    verifier
        .install_list(&committed_bytes("list-empty", "hex"), at)
        .unwrap();
    let minimal = committed_bytes("credential-minimal", "hex");
    assert!(verifier.verify(&minimal, at).is_ok());

    let now = UnixTime(second.issued_at);
    assert_eq!(
        verifier.install_key_set(&second_bytes, now),
        Ok(ListUpdate::Advanced { from: 1, to: 2 })
    );
    let trust = verifier.trust();
    let (revoked_key, revoked_at, _) = second.revoke[0];
    assert_eq!(revoked_key.seed, LIST_KEY.seed);
    let list_key = LIST_KEY.key().key_id();
    assert!(trust.is_revoked(LIST_KEY.key().issuer(), &list_key));
    assert_eq!(
        trust
            .get(LIST_KEY.key().issuer(), &list_key)
            .and_then(TrustAnchor::revoked_at),
        Some(UnixTime(revoked_at))
    );
    assert_eq!(
        trust
            .get(NEXT_KEY.key().issuer(), &NEXT_KEY.key().key_id())
            .map(TrustAnchor::usage),
        Some(KeyUsage::Credentials)
    );
    // The first set is older now; the door keeps the second.
    assert_eq!(
        verifier.install_key_set(&first_bytes, now),
        Err(KeySetError::Rollback {
            held: 2,
            offered: 1
        })
    );
    assert_eq!(
        verifier.trust().key_set_sequence(root_anchor().issuer()),
        Some(2)
    );
    assert!(verifier.verify(&minimal, at).is_ok());
}

#[test]
fn committed_credentials_decode_and_verify_to_their_inputs() {
    let verifier = verifier();
    let empty = committed_bytes("list-empty", "hex");
    let at = UnixTime(list_cases()[0].issued_at);
    verifier.install_list(&empty, at).unwrap();
    for case in credential_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let expected = case.expected_claims();
        let decoded = UnverifiedCredential::from_bytes(&bytes).unwrap();
        assert_eq!(decoded.unverified_claims(), &expected, "{}", case.name);

        let text = committed(case.name)["text"].as_str().unwrap().to_owned();
        assert_eq!(credential_bytes_from_text(&text).unwrap(), bytes);

        let result = verifier.verify(&bytes, at);
        if expected.status_index.0 < MIN_LIST_CAPACITY {
            assert_eq!(result.unwrap().claims(), &expected, "{}", case.name);
        } else {
            assert!(
                matches!(result, Err(Denial::StatusIndexOutOfRange { .. })),
                "{}: {result:?}",
                case.name
            );
        }
    }
}

fn assert_statuses(held: &RevocationList, expected: impl Fn(u32) -> Status, name: &str) {
    for i in 0..held.capacity() {
        assert_eq!(held.status_at(i), Some(expected(i)), "{name}: index {i}");
    }
    assert_eq!(held.status_at(held.capacity()), None);
}

#[test]
fn committed_lists_install_to_their_inputs() {
    for case in list_cases() {
        let verifier = verifier();
        let bytes = committed_bytes(case.name, "hex");
        assert_eq!(
            verifier
                .install_list(&bytes, UnixTime(case.issued_at))
                .unwrap(),
            ListUpdate::Installed { sequence: 1 }
        );
        let held = verifier.list(anchor().issuer()).unwrap();
        assert_eq!(held.sequence(), 1);
        assert_eq!(held.capacity(), case.capacity);
        assert_eq!(held.issued_at(), UnixTime(case.issued_at));
        assert_eq!(held.next_update(), UnixTime(case.next_update));
        assert_eq!(held.key_id(), anchor().key_id());
        assert_eq!(held.scopes(), &case.scopes[..]);
        assert_eq!(held.audit_head(), Some(case.audit));
        assert_eq!(held.state_digest(), list_state_digest(&bytes).unwrap().0);
        assert_eq!(list_state_digest(&bytes).unwrap().1, case.audit);
        assert_eq!(
            hex(&held.state_digest()),
            committed(case.name)["state"].as_str().unwrap()
        );
        let revoked: BTreeSet<u32> = case.revoked.indexes(case.capacity).into_iter().collect();
        let suspended: BTreeSet<u32> = case.suspended.indexes(case.capacity).into_iter().collect();
        assert_statuses(
            &held,
            |i| {
                if revoked.contains(&i) {
                    Status::Revoked
                } else if suspended.contains(&i) {
                    Status::Suspended
                } else {
                    Status::Valid
                }
            },
            case.name,
        );
    }
}

#[test]
fn committed_deltas_apply_to_their_inputs() {
    for case in delta_cases() {
        let verifier = verifier();
        let base = committed_bytes(case.base, "hex");
        let base_case = case.base_case();
        verifier
            .install_list(&base, UnixTime(base_case.issued_at))
            .unwrap();
        let delta = committed_bytes(case.name, "hex");
        let now = UnixTime(case.issued_at);
        assert_eq!(
            verifier.apply_delta(&delta, now).unwrap(),
            ListUpdate::Advanced { from: 1, to: 2 }
        );
        let held = verifier.list(anchor().issuer()).unwrap();
        assert_eq!(held.sequence(), 2);
        assert_eq!(held.issued_at(), now);
        assert_eq!(held.next_update(), UnixTime(case.next_update));
        let mut scopes = base_case.scopes.clone();
        scopes.extend_from_slice(&case.scopes);
        assert_eq!(held.scopes(), &scopes[..]);

        // The same state as the committed full list at sequence 2 (state digest
        // included: `RevocationList` equality compares it) ...
        let to_list = committed_bytes(case.name, "list_at_to_sequence_hex");
        let full = verifier_with_list(&to_list, now);
        assert_eq!(*held, *full.list(anchor().issuer()).unwrap());
        assert_eq!(held.state_digest(), list_state_digest(&to_list).unwrap().0);
        assert_ne!(held.state_digest(), list_state_digest(&base).unwrap().0);
        // A delta carries no audit head; the full list does.
        assert_eq!(held.audit_head(), None);
        assert_eq!(
            full.list(anchor().issuer()).unwrap().audit_head(),
            Some(case.audit)
        );
        // ... and as the base statuses with the listed changes.
        let revoked: BTreeSet<u32> = base_case
            .revoked
            .indexes(base_case.capacity)
            .into_iter()
            .collect();
        let suspended: BTreeSet<u32> = base_case
            .suspended
            .indexes(base_case.capacity)
            .into_iter()
            .collect();
        assert_statuses(
            &held,
            |i| {
                if revoked.contains(&i) || case.revoke.contains(&i) {
                    Status::Revoked
                } else if case.suspend.contains(&i) {
                    Status::Suspended
                } else if case.reinstate.contains(&i) {
                    Status::Valid
                } else if suspended.contains(&i) {
                    Status::Suspended
                } else {
                    Status::Valid
                }
            },
            case.name,
        );
    }
}

fn verifier_with_list(list: &[u8], now: UnixTime) -> Verifier {
    let v = verifier();
    v.install_list(list, now).unwrap();
    v
}

#[test]
fn the_committed_challenge_and_response_decode_and_open_the_door() {
    let json = committed("challenge-response");
    let challenge_bytes = cases::unhex(json["challenge_hex"].as_str().unwrap());
    let response = cases::unhex(json["response_hex"].as_str().unwrap());
    let challenge = Challenge::from_bytes(&challenge_bytes).unwrap();
    assert_eq!(challenge.door().as_str(), cases::CHALLENGE_DOOR);
    assert_eq!(
        cases::hex(challenge.nonce()),
        json["nonce"].as_str().unwrap()
    );
    assert_eq!(challenge.issued_at().0, json["issued_at"].as_u64().unwrap());
    assert_eq!(
        challenge.expires_at().0,
        json["expires_at"].as_u64().unwrap()
    );
    assert_eq!(challenge.to_bytes(), challenge_bytes);

    // The response is `version | signature | door str | nonce`, the signature by the
    // card key over `domain | version | challenge body | SHA-256(credential)`.
    // (credential-full's status index is u32::MAX, so a door would deny it on status;
    // the signature is checked here by hand, as the other layout tests do.)
    use ed25519_dalek::{Signature, SigningKey};
    use sha2::Digest as _;
    let (issued_controller, issued, _) = cases::challenge_door();
    drop(issued_controller);
    assert_eq!(
        issued.to_bytes(),
        challenge_bytes,
        "the door issues exactly this challenge"
    );
    let credential = committed_bytes("credential-full", "hex");
    assert_eq!(response[0], FORMAT_VERSION);
    let mut door_and_nonce = (cases::CHALLENGE_DOOR.len() as u64).to_be_bytes().to_vec();
    door_and_nonce.extend_from_slice(cases::CHALLENGE_DOOR.as_bytes());
    door_and_nonce.extend_from_slice(challenge.nonce());
    assert_eq!(&response[65..], door_and_nonce.as_slice());
    let mut message = CHALLENGE_RESPONSE_DOMAIN.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(&challenge_bytes[1..]);
    message.extend_from_slice(&sha2::Sha256::digest(&credential));
    let card = SigningKey::from_bytes(&cases::derive_secret("card", 1)).verifying_key();
    let signature = Signature::from_bytes(response[1..65].try_into().unwrap());
    card.verify_strict(&message, &signature).unwrap();
    let mut other = credential.clone();
    other[70] ^= 1;
    let mut message = CHALLENGE_RESPONSE_DOMAIN.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(&challenge_bytes[1..]);
    message.extend_from_slice(&sha2::Sha256::digest(&other));
    assert!(
        card.verify_strict(&message, &signature).is_err(),
        "bound to the credential presented"
    );
}

// ---------------------------------------------------------------------------
// Bugs found while writing the key-set vectors (not fixed here: see the report)
// ---------------------------------------------------------------------------

/// The root of another issuer ("met", `derive_secret("root", 2)`).
fn other_root() -> RootKey {
    RootKey::from_secret_bytes(
        IssuerId::new(SECOND_ISSUER.id).unwrap(),
        ROOT.validity(),
        &derive_secret("root", 2),
    )
    .unwrap()
}

/// A door trusting the vector root and the other issuer's root, holding
/// `key-set-two-keys` and `list-empty`: `credential-minimal` verifies.
fn two_issuer_door() -> (Verifier, Vec<u8>) {
    let verifier = root_verifier();
    verifier.add_root(other_root().public().clone()).unwrap();
    let first = key_set_case("key-set-two-keys");
    verifier
        .install_key_set(
            &committed_bytes(first.name, "hex"),
            UnixTime(first.issued_at),
        )
        .unwrap();
    let at = UnixTime(list_cases()[0].issued_at);
    verifier
        .install_list(&committed_bytes("list-empty", "hex"), at)
        .unwrap();
    let minimal = committed_bytes("credential-minimal", "hex");
    assert!(verifier.verify(&minimal, at).is_ok());
    (verifier, minimal)
}

#[test]
fn a_key_set_cannot_revoke_another_issuers_key() {
    let (verifier, minimal) = two_issuer_door();
    let at = UnixTime(list_cases()[0].issued_at);
    // The other root names the vector issuer's public key (public knowledge) as one
    // of its own keys, and revokes it.
    let root = other_root();
    let stolen = IssuerPublicKey::from_parts(
        root.public().issuer().clone(),
        &ISSUER.key().public().public_key_bytes(),
        Validity::new(UnixTime(ISSUER.not_before), UnixTime(ISSUER.not_after)).unwrap(),
    )
    .unwrap();
    let mut draft = KeySetDraft::first(root.public(), at);
    draft.certify(&stolen, KeyUsage::Lists).unwrap();
    draft
        .revoke(stolen.key_id(), at, RevocationReason::IssuerKeyCompromise)
        .unwrap();
    // Keys and revocations are held per issuer: the other root's set speaks for its
    // own issuer only, and the vector issuer's key is untouched.
    verifier
        .install_key_set(&root.sign_key_set(&draft).unwrap(), at)
        .unwrap();
    let trust = verifier.trust();
    let key_id = ISSUER.key().key_id();
    let vector_issuer = ISSUER.key().issuer().clone();
    assert!(!trust.is_revoked(&vector_issuer, &key_id));
    assert!(trust.is_revoked(root.public().issuer(), &key_id));
    assert_eq!(
        trust
            .get(&vector_issuer, &key_id)
            .map(|a| a.key().issuer().as_str()),
        Some(ISSUER.id)
    );
    assert!(verifier.verify(&minimal, at).is_ok());
    // And the vector issuer's own next key set, naming its key as usable, still applies.
    let second = key_set_case("key-set-revoked");
    assert_eq!(
        verifier.install_key_set(
            &committed_bytes(second.name, "hex"),
            UnixTime(second.issued_at)
        ),
        Ok(ListUpdate::Advanced { from: 1, to: 2 })
    );
}

#[test]
fn a_pinned_key_stays_when_a_key_set_leaves_it_out() {
    // The vector key is pinned, and the vector root installed.
    let mut trust = TrustStore::new();
    trust.add(ISSUER.key().public().clone()).unwrap();
    let verifier = Verifier::new(trust, VerifyOptions::default());
    verifier.add_root(root_anchor()).unwrap();
    // The first key set certifies it; the next one leaves it out (a set names only the
    // keys it certifies: an empty draft after `drop_expired` past every window).
    let first = key_set_case("key-set-two-keys");
    let first_bytes = committed_bytes(first.name, "hex");
    verifier
        .install_key_set(&first_bytes, UnixTime(first.issued_at))
        .unwrap();
    let root = ROOT.key();
    let now = UnixTime(first.issued_at + 60);
    let mut next = KeySetDraft::next_after(
        &root.public().verify_key_set(&first_bytes, now, 0).unwrap(),
        now,
    );
    next.drop_expired(UnixTime(ISSUER.not_after + 1));
    assert_eq!(
        verifier.install_key_set(&root.sign_key_set(&next).unwrap(), now),
        Ok(ListUpdate::Advanced { from: 1, to: 2 })
    );
    // Expected (src/trust.rs: "pinned keys stay", "only a local revoke removes it").
    assert!(
        verifier
            .trust()
            .get(ISSUER.key().issuer(), &ISSUER.key().key_id())
            .is_some(),
        "the pinned key is gone"
    );
}

#[test]
fn the_committed_verifier_state_restores_the_door_it_was_saved_from() {
    let bytes = committed_bytes("verifier-state", "hex");
    let file = committed("verifier-state");
    // The documented frame: version, kind, body, SHA-256(domain || version || kind || body).
    assert_eq!(bytes[0], VERIFIER_STATE_FORMAT_VERSION);
    assert_eq!(bytes[1], b'S');
    let (framed, digest) = bytes.split_at(bytes.len() - 32);
    use sha2::Digest as _;
    let expected: [u8; 32] = sha2::Sha256::new()
        .chain_update(VERIFIER_STATE_DOMAIN)
        .chain_update(framed)
        .finalize()
        .into();
    assert_eq!(expected.as_slice(), digest);

    let state = VerifierState::from_bytes(&bytes).unwrap();
    assert_eq!(
        state.to_bytes(),
        bytes,
        "a restored state saves to the same bytes"
    );
    let door = Verifier::from_state(state, VerifyOptions::default());
    let issuer = root_anchor().issuer().clone();
    let trust = door.trust();
    assert_eq!(
        trust.key_set_sequence(&issuer),
        file["key_set_sequence"].as_u64()
    );
    assert!(trust.is_revoked(&issuer, &LIST_KEY.key().key_id()));
    let at = UnixTime(file["at"].as_u64().unwrap());
    assert_eq!(
        door.list_in_force(&issuer, at).map(|l| l.sequence()),
        file["list_sequence"].as_u64()
    );
    // The restored door refuses the first key set as a rollback, as the door it was
    // saved from does.
    let first = committed_bytes("key-set-two-keys", "hex");
    assert_eq!(
        door.install_key_set(&first, at),
        Err(KeySetError::Rollback {
            held: 2,
            offered: 1
        })
    );
    // And answers every committed credential as a door built from the vectors does.
    let built = verifier_state_built();
    let original = Verifier::from_state_bytes(&built.bytes, VerifyOptions::default()).unwrap();
    for case in credential_cases() {
        let cred = committed_bytes(case.name, "hex");
        assert_eq!(
            door.verify(&cred, at).map(|v| v.serial()),
            original.verify(&cred, at).map(|v| v.serial()),
            "{}",
            case.name
        );
    }
}
