//! Trust anchors: `IssuerPublicKey::from_bytes`.
//!
//! An accepted anchor is canonical (it re-encodes to the same bytes) and its key id is
//! the id of its key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revocard::door::*;
use revocard::issue::*;
use revocard::*;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = IssuerPublicKey::from_bytes(data) {
        assert!(data.len() <= MAX_TRUST_ANCHOR_BYTES);
        assert_eq!(key.to_bytes(), data);
        assert_eq!(key.key_id(), key_id_of(&key.public_key_bytes()));
    }
});
