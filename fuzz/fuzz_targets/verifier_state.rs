//! A door's saved trust: `VerifierState::from_bytes`, on the input as it is and on the
//! input with its digest made right (`input || SHA-256(domain || input)`), so that
//! mutated bodies reach the checks behind the digest.
//!
//! Arbitrary bytes never panic and never allocate beyond `MAX_STATE_BYTES`; a state
//! that is accepted is canonical (it saves to the same bytes), every key it remembers as
//! revoked answers as revoked, and every list it holds is in force under a key it
//! trusts for lists at the list's own issue time, or out of force with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revocard::format::{MAX_STATE_BYTES, VERIFIER_STATE_DOMAIN};
use revocard::*;
use sha2::Digest as _;

fn check(data: &[u8]) {
    let Ok(state) = VerifierState::from_bytes(data) else {
        return;
    };
    assert!(data.len() <= MAX_STATE_BYTES);
    assert_eq!(state.to_bytes(), data, "an accepted state is not canonical");
    for anchor in state.trust().iter() {
        let key = anchor.key();
        if anchor.revoked_at().is_some() {
            assert!(state.trust().is_revoked(key.issuer(), &key.key_id()));
        }
    }
    let options = VerifyOptions::default();
    for anchor in state.trust().iter() {
        let issuer = anchor.key().issuer();
        if let Some(list) = state.list(issuer) {
            // Held, so its signer is trusted for lists and not revoked: at a time inside
            // the signer's window the list is in force; outside, it names why not.
            match state.list_in_force(issuer, list.issued_at(), &options) {
                Ok(held) => assert_eq!(held.sequence(), list.sequence()),
                Err(Denial::ListSignerUnusable { .. }) => {}
                Err(other) => panic!("a held list answers {other:?}"),
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut fixed = data.to_vec();
    let digest: [u8; 32] = sha2::Sha256::new()
        .chain_update(VERIFIER_STATE_DOMAIN)
        .chain_update(data)
        .finalize()
        .into();
    fixed.extend_from_slice(&digest);
    check(&fixed);
});
