//! Fixtures shared by the fuzz targets: the test-vector issuer key (the same
//! derivation as `tests/vectors/cases.rs`, so the committed seeds verify) and
//! verifiers that trust it.
#![allow(dead_code)]

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

/// `data` with its signature replaced by the vector key's signature over `domain ||
/// version || data[65..]`, so that a mutated body still passes the signature check and
/// reaches the status-set decoders (which run only after it). Too-short input is
/// returned as it is.
pub fn resign(domain: &[u8], data: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let mut out = data.to_vec();
    let (Some(signature), Some(body)) = (out.get(1..65), data.get(65..)) else {
        return out;
    };
    let _ = signature;
    let signing = ed25519_dalek::SigningKey::from_bytes(&derive_secret("issuer", 1));
    let mut message = domain.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(body);
    out[1..65].copy_from_slice(&signing.sign(&message).to_bytes());
    out
}
