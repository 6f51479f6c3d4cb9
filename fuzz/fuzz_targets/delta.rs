//! Deltas: `Verifier::apply_delta` on a verifier holding the `list-mixed` vector
//! (sequence 1). The input is re-signed with the vector key over that list's state
//! first (`common::resign_delta`: a delta's signature covers the state it applies to,
//! which it does not carry), so that mutated bodies reach the status-set decoders,
//! which run after the signature check.
//!
//! A refused delta leaves the held list exactly as it was; an applied one moves the
//! sequence forward, keeps every revoked index revoked and every scope in place, and
//! leaves the list in the state `SHA-256("revocard/v3/status-state\0" || 1 || base
//! state || delta body)` (`src/wire/mod.rs`), with no audit head (a delta carries none).
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use revocard::door::*;
use revocard::issue::*;
use revocard::format::*;
use revocard::*;
use sha2::Digest as _;

const AT: UnixTime = UnixTime(common::NOW.0 + 60);

fn base() -> &'static RevocationList {
    static BASE: OnceLock<RevocationList> = OnceLock::new();
    BASE.get_or_init(|| {
        let v = common::verifier();
        v.install_list(common::LIST_MIXED, common::NOW).unwrap();
        let issuer = IssuerId::new("vector-police").unwrap();
        RevocationList::clone(&v.list(&issuer).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let base = base();
    let signed = common::resign_delta(&base.state_digest(), data);
    let data = signed.as_slice();
    let verifier = common::verifier();
    verifier
        .install_list(common::LIST_MIXED, common::NOW)
        .unwrap();
    let result = verifier.apply_delta(data, AT);
    let held = verifier.list(base.issuer()).unwrap();
    match result {
        Ok(update) => {
            assert_eq!(
                update,
                ListUpdate::Advanced {
                    from: base.sequence(),
                    to: held.sequence()
                }
            );
            assert!(held.sequence() > base.sequence());
            assert_eq!(held.capacity(), base.capacity());
            assert_eq!(&held.scopes()[..base.scopes().len()], base.scopes());
            let state: [u8; 32] = sha2::Sha256::new()
                .chain_update(b"revocard/v3/status-state\0")
                .chain_update([1u8])
                .chain_update(base.state_digest())
                .chain_update(&data[65..])
                .finalize()
                .into();
            assert_eq!(held.state_digest(), state, "state after the delta");
            assert_eq!(held.audit_head(), None);
            for i in 0..base.capacity() {
                if base.status_at(i) == Some(Status::Revoked) {
                    assert_eq!(
                        held.status_at(i),
                        Some(Status::Revoked),
                        "index {i} un-revoked"
                    );
                }
            }
        }
        Err(_) => assert_eq!(&*held, base),
    }
});
