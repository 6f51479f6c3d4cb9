//! Fixtures shared by the fuzz targets: the test-vector issuer and root keys (the same
//! derivation as `tests/vectors/cases.rs`, so the committed seeds verify) and
//! verifiers that trust them.
#![allow(dead_code)]

use revocard::door::*;
use revocard::issue::*;
use revocard::format::*;
use revocard::*;
use sha2::Digest as _;

/// When the seeds were signed (`T0` in `tests/vectors/cases.rs`).
pub const NOW: UnixTime = UnixTime(1_800_000_000);

/// `SHA-256("revocard/test-vector/key\0" || label || seed as u64 BE)`.
pub fn derive_secret(label: &str, seed: u64) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(b"revocard/test-vector/key\0")
        .chain_update(label.as_bytes())
        .chain_update(seed.to_be_bytes())
        .finalize()
        .into()
}

/// The vector issuer key (`ISSUER` in `tests/vectors/cases.rs`).
pub fn issuer_key() -> IssuerKey {
    IssuerKey::from_secret_bytes(
        IssuerId::new("vector-police").unwrap(),
        Validity::new(UnixTime(1_700_000_000), UnixTime(2_000_000_000)).unwrap(),
        &derive_secret("issuer", 1),
    )
    .unwrap()
}

/// A verifier trusting the vector issuer key, holding no list.
pub fn verifier() -> Verifier {
    let mut trust = TrustStore::new();
    trust.add(issuer_key().public().clone()).unwrap();
    Verifier::new(trust, VerifyOptions::default())
}

/// The committed `list-empty` vector (sequence 1, capacity 131,072).
pub const LIST_EMPTY: &[u8] = include_bytes!("../corpus/list/seed-list-empty");
/// The committed `list-mixed` vector (sequence 1): the base of `delta-mixed`.
pub const LIST_MIXED: &[u8] = include_bytes!("../corpus/list/seed-list-mixed");

/// The vector root key (`ROOT` in `tests/vectors/cases.rs`): it signs the key-set seeds.
pub fn root_key() -> RootKey {
    RootKey::from_secret_bytes(
        IssuerId::new("vector-police").unwrap(),
        Validity::new(UnixTime(1_600_000_000), UnixTime(2_100_000_000)).unwrap(),
        &derive_secret("root", 1),
    )
    .unwrap()
}

/// A verifier holding nothing but the vector root.
pub fn root_verifier() -> Verifier {
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier.add_root(root_key().public().clone()).unwrap();
    verifier
}

/// The committed `key-set-two-keys` vector (sequence 1: the vector issuer key for
/// credentials and lists, a second key for lists only).
pub const KEY_SET_TWO_KEYS: &[u8] = include_bytes!("../corpus/key_set/seed-key-set-two-keys");
/// The committed `key-set-revoked` vector (sequence 2: the lists-only key revoked, a
/// third key for credentials only).
pub const KEY_SET_REVOKED: &[u8] = include_bytes!("../corpus/key_set/seed-key-set-revoked");

/// `data` with its signature replaced by the signature of the key `secret` over
/// `domain || version || signed_prefix || data[65..]`, so that a mutated body still
/// passes the signature check and reaches the code behind it. (`signed_prefix` is what
/// is signed but not sent: a delta's base state; empty for other objects.) Too-short
/// input is returned as it is. The version signed is `version` whatever `data[0]`
/// says: a wrong version byte is refused before the signature is looked at.
pub fn resign_with(
    secret: &[u8; 32],
    domain: &[u8],
    version: u8,
    signed_prefix: &[u8],
    data: &[u8],
) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let mut out = data.to_vec();
    let Some(body) = data.get(65..) else {
        return out;
    };
    let signing = ed25519_dalek::SigningKey::from_bytes(secret);
    let mut message = domain.to_vec();
    message.push(version);
    message.extend_from_slice(signed_prefix);
    message.extend_from_slice(body);
    out[1..65].copy_from_slice(&signing.sign(&message).to_bytes());
    out
}

/// A list re-signed with the vector issuer key (format `LIST_FORMAT_VERSION`), so
/// that mutated bodies reach the status-set decoders (which run only after the
/// signature check).
pub fn resign(domain: &[u8], data: &[u8]) -> Vec<u8> {
    resign_with(
        &derive_secret("issuer", 1),
        domain,
        LIST_FORMAT_VERSION,
        &[],
        data,
    )
}

/// A delta re-signed with the vector issuer key over the state of the list it is to
/// apply to (`base_state`: signed, not sent).
pub fn resign_delta(base_state: &[u8; 32], data: &[u8]) -> Vec<u8> {
    resign_with(
        &derive_secret("issuer", 1),
        DELTA_DOMAIN,
        LIST_FORMAT_VERSION,
        base_state,
        data,
    )
}

/// A key set re-signed with the vector root key.
pub fn resign_key_set(data: &[u8]) -> Vec<u8> {
    resign_with(
        &derive_secret("root", 1),
        KEY_SET_DOMAIN,
        KEY_SET_FORMAT_VERSION,
        &[],
        data,
    )
}
