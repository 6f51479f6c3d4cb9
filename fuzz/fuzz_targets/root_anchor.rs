//! Root anchors: `RootPublicKey::from_bytes`.
//!
//! An accepted anchor is canonical (it re-encodes to the same bytes), its key id is the
//! id of its key, and it never also decodes as a signing key's anchor (the kind byte
//! keeps the two apart: a door cannot take a signing key for its root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use revocard::door::*;
use revocard::issue::*;
use revocard::*;

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = RootPublicKey::from_bytes(data) {
        assert!(data.len() <= MAX_ROOT_ANCHOR_BYTES);
        assert_eq!(root.to_bytes(), data);
        assert_eq!(root.key_id(), key_id_of(&root.public_key_bytes()));
        assert!(
            IssuerPublicKey::from_bytes(data).is_err(),
            "a root anchor decodes as a signing key's anchor"
        );
    }
});
