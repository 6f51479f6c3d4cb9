//! Committed wire-format vectors (`tests/vectors/*.json`, written by
//! `cargo run --example gen_vectors`).
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
use revocard::*;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed(name: &str) -> Value {
    let path = root().join(path_of(name));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `cargo run --example gen_vectors`)",
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
                "{}: {e} (run `cargo run --example gen_vectors`)",
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

/// Checks `version | signature | body` and returns the body.
fn signed_body<'a>(bytes: &'a [u8], domain: &[u8]) -> &'a [u8] {
    assert_eq!(bytes[0], FORMAT_VERSION);
    let signature = Signature::from_bytes(bytes[1..65].try_into().unwrap());
    let body = &bytes[65..];
    let key = VerifyingKey::from_bytes(&ISSUER.key().public().public_key_bytes()).unwrap();
    let mut msg = domain.to_vec();
    msg.push(FORMAT_VERSION);
    msg.extend_from_slice(body);
    key.verify_strict(&msg, &signature)
        .expect("signature over domain || version || body");
    body
}

#[test]
fn credential_bytes_follow_the_documented_layout() {
    for case in credential_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let c = case.expected_claims();
        let mut r = Reader::new(signed_body(&bytes, CREDENTIAL_DOMAIN));
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

fn scope_records(entries: &[ScopeEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let (tag, value) = match e.scope {
            Scope::PrintBatch(b) => (0u8, u64::from(b.0).to_be_bytes()),
            Scope::IssuerKey(k) => (1, k.0),
            Scope::IssuedBefore(t) => (2, t.0.to_be_bytes()),
        };
        out.push(tag);
        out.extend_from_slice(&value);
        let code = RevocationReason::ALL
            .iter()
            .position(|r| *r == e.reason)
            .unwrap();
        out.push(u8::try_from(code).unwrap());
        out.extend_from_slice(&e.since.0.to_be_bytes());
    }
    out
}

/// The status-set mode byte (`status_codec`): 0 empty, 1 Rice, 2 Golomb, 3 bitmap.
fn mode(set: &[u8]) -> u8 {
    set[0]
}

#[test]
fn list_and_delta_bytes_follow_the_documented_layout() {
    let key_id = ISSUER.key().key_id().0;
    let mut modes_seen = BTreeSet::new();
    for case in list_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let mut r = Reader::new(signed_body(&bytes, LIST_DOMAIN));
        assert_eq!(r.str(), ISSUER.id);
        assert_eq!(r.array::<8>(), key_id);
        assert_eq!(r.u64(), 1, "sequence");
        assert_eq!(r.u64(), case.issued_at);
        assert_eq!(r.u64(), case.next_update);
        assert_eq!(r.u32(), case.capacity);
        assert_eq!(r.bytes(), scope_records(&case.scopes));
        for (set, expected) in [(r.bytes(), &case.revoked), (r.bytes(), &case.suspended)] {
            let m = mode(set);
            modes_seen.insert(m);
            assert_eq!(
                m == 0,
                expected.indexes(case.capacity).is_empty(),
                "{}: empty form iff empty",
                case.name
            );
            if m == 3 {
                assert_eq!(set.len(), 1 + case.capacity.div_ceil(8) as usize);
            }
        }
        r.done();
    }
    // The vectors exercise every status-set representation.
    assert_eq!(
        modes_seen,
        BTreeSet::from([0, 1, 2, 3]),
        "status-set modes covered"
    );

    for case in delta_cases() {
        let bytes = committed_bytes(case.name, "hex");
        let mut r = Reader::new(signed_body(&bytes, DELTA_DOMAIN));
        assert_eq!(r.str(), ISSUER.id);
        assert_eq!(r.array::<8>(), key_id);
        assert_eq!(r.u64(), 1, "from sequence");
        assert_eq!(r.u64(), 2, "to sequence");
        assert_eq!(r.u64(), case.issued_at);
        assert_eq!(r.u64(), case.next_update);
        assert_eq!(r.u32(), case.base_case().capacity);
        assert_eq!(r.bytes(), scope_records(&case.scopes));
        // Revoked (from valid or suspended), suspended, reinstated: none empty here.
        for _ in 0..3 {
            assert_ne!(mode(r.bytes()), 0);
        }
        r.done();
    }
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

        // The same state as the committed full list at sequence 2 ...
        let full = verifier_with_list(&committed_bytes(case.name, "list_at_to_sequence_hex"), now);
        assert_eq!(*held, *full.list(anchor().issuer()).unwrap());
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
