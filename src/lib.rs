//! # revocard
//!
//! Police warrant cards and staff passes as Ed25519-signed credentials, built for the
//! day a card supplier is breached: printed data alone never opens a door, one call
//! revokes everything the supplier saw, and replacements are issued in bulk.
//!
//! The crate root is what a verifier embeds: [`Verifier::verify`] checks a credential
//! against a trust store and the issuer's signed lists. The other sides are modules:
//! [`issue`] signs (keys, credentials, lists, key sets), [`door`] decides taps at door
//! controllers (policies, holder binding, a cache for repeat taps), and the registry
//! keeps an issuer's records. `ARCHITECTURE.md` maps the layers.
//!
//! ```
//! use rand::{SeedableRng, rngs::StdRng};
//! use revocard::issue::{CredentialRequest, IssuerKey, IssuerStatusList};
//! use revocard::*;
//!
//! let mut rng = StdRng::seed_from_u64(7);
//! let now = UnixTime(1_700_000_000);
//! let year = 365 * 24 * 3600;
//! let issuer = IssuerId::new("example-police").unwrap();
//! let key = IssuerKey::generate(issuer, Validity::new(now, now.plus(5 * year)).unwrap(), &mut rng).unwrap();
//!
//! let holder = Holder::new("123456", "A. Officer", "Sergeant", "Response", PhotoDigest::of(b"jpeg")).unwrap();
//! let card = key.issue(CredentialRequest {
//!     kind: Kind::WarrantCard,
//!     holder,
//!     vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
//!     status_index: StatusIndex(42),
//!     print_batch: PrintBatchId(1),
//!     validity: Validity::new(now, now.plus(year)).unwrap(),
//!     card_key: None,
//!     supersedes: None,
//! }, now, &mut rng).unwrap();
//!
//! // The issuer publishes a signed status list; every verifier needs a fresh one.
//! let mut statuses = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY).unwrap();
//! let first = statuses.publish(&key, now, now.plus(3600)).unwrap();
//!
//! let mut trust = TrustStore::new();
//! trust.add(key.public().clone()).unwrap();
//! let verifier = Verifier::new(trust, VerifyOptions::default());
//! verifier.install_list(&first.list, now).unwrap();
//! let verified = verifier.verify(card.bytes(), now).unwrap();
//! assert_eq!(verified.serial(), card.serial());
//!
//! // Lost: one small signed delta reaches every verifier.
//! statuses.revoke(42, RevocationReason::Lost, now).unwrap();
//! let next = statuses.publish(&key, now, now.plus(3600)).unwrap();
//! verifier.apply_delta(&next.delta.unwrap(), now).unwrap();
//! assert!(matches!(verifier.verify(card.bytes(), now), Err(Denial::Revoked { .. })));
//! ```

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
// Without `std` only the verification core is built: the encoders, the challenge
// format and the issuer-side helpers it shares with the issuing layer go unused.
#![cfg_attr(
    not(feature = "std"),
    allow(dead_code, unused_imports, unreachable_pub)
)]

extern crate alloc;

/// `alloc`'s types under their usual names, so that the `no_std` layers read as
/// ordinary Rust.
#[allow(unused_imports)]
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::format;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::sync::Arc;
    pub(crate) use alloc::vec;
    pub(crate) use alloc::vec::Vec;
}

// Layers, from the bottom: plain data, bytes, verification, then issuing, doors and
// the registry, with storage at the edge. Each module uses only those above it in
// this list (`scripts/layers.py` checks it).
// Plain data.
mod model;

// Bytes.
mod wire;

// Verification (no `std`).
mod verify;

// Issuing and doors (`std`).
#[cfg(feature = "std")]
pub mod issue;

#[cfg(feature = "std")]
pub mod door;

// The registry (`std`), its SQLite backend at the edge (`registry::sqlite`).
#[cfg(feature = "std")]
pub mod registry;

// The network at the edge: the published layout, the publisher and the door's feed
// (features `serve`, `feed`).
#[cfg(feature = "std")]
pub mod net;

// Keys in a hardware security module, at the edge (feature `pkcs11`): a `KeySigner`
// for the issuing layer's seam.
#[cfg(feature = "pkcs11")]
mod hsm;

pub use model::{
    AuditHead, CardKeyTextError, CardPublicKey, Claims, Field, FieldError, ForceVetting, Holder,
    IssuerId, KeyId, KeyUsage, Kind, MAX_ISSUER_ID_LEN, MAX_LIST_CAPACITY, MAX_NAME_LEN,
    MAX_PAY_NUMBER_LEN, MAX_RANK_LEN, MAX_SCOPE_ENTRIES, MAX_UNIT_LEN, MIN_LIST_CAPACITY,
    NationalSecurity, Nppv, PhotoDigest, PoliceVetting, PrintBatchId, RevocationReason, RevokedBy,
    Scope, ScopeEntry, Serial, Status, StatusAnswer, StatusIndex, UnixTime, Validity, Vetting,
    VettingRequirement,
};
#[cfg(feature = "std")]
pub use verify::Verifier;
pub use verify::{
    DEFAULT_CLOCK_SKEW_SECS, DEFAULT_STATUS_GRACE_SECS, Denial, IssuerPublicKey, KeyEntry, KeySet,
    KeySetError, ListError, ListUpdate, MAX_BATCH_CHUNK, MAX_TRUSTED_KEYS, RevocationList,
    RootPublicKey, StalePolicy, StateError, StatePart, StatusError, TrustAnchor, TrustError,
    TrustStore, UnverifiedCredential, VerifiedCredential, VerifierState, VerifyOptions,
    credential_bytes_from_text, credential_text, key_id_of, list_state_digest,
};
pub use wire::{
    CodecError, DecodeError, MAX_CREDENTIAL_BYTES, MAX_CREDENTIAL_TEXT_LEN, MAX_DELTA_BYTES,
    MAX_KEY_SET_BYTES, MAX_LIST_BYTES, MAX_ROOT_ANCHOR_BYTES, MAX_TRUST_ANCHOR_BYTES, WireObject,
};

#[cfg(feature = "pkcs11")]
pub use hsm::{
    HsmError, KeyAttributes, KeyPolicy, MAX_PKCS11_URI_LEN, ObjectType, Pkcs11Module, Pkcs11Uri,
    TokenKey, TokenPin, UriError,
};

/// The door's signature check on raw bytes, for the differential fuzz target
/// (`fuzz/fuzz_targets/tap_pair.rs`). Only in builds made by cargo-fuzz, which passes
/// `--cfg fuzzing`; not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::verify::pair::fuzzing::verify_strict_pair_bytes;
}

/// README.md's Rust blocks, compiled and run as doctests so that the tour cannot drift
/// from the API.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The wire format's domain strings, format versions and the challenge's sizes: for
/// other implementations, test vectors and HSM integrations that sign prepared bytes.
pub mod format {
    pub use crate::wire::{
        CHALLENGE_NONCE_LEN, CHALLENGE_RESPONSE_DOMAIN, CREDENTIAL_DOMAIN, DELTA_DOMAIN,
        FORMAT_VERSION, KEY_SET_DOMAIN, KEY_SET_FORMAT_VERSION, LIST_DOMAIN, LIST_FORMAT_VERSION,
        MAX_CHALLENGE_BYTES, MAX_CREDENTIAL_BYTES, MAX_CREDENTIAL_TEXT_LEN, MAX_DELTA_BYTES,
        MAX_KEY_SET_BYTES, MAX_KEY_SET_ENTRIES, MAX_LIST_BYTES, MAX_RESPONSE_BYTES,
        MAX_ROOT_ANCHOR_BYTES, MAX_STATE_BYTES, MAX_STATE_ENTRIES, MAX_STATE_LISTS,
        MAX_TRUST_ANCHOR_BYTES, ROOT_ANCHOR_FORMAT_VERSION, VERIFIER_STATE_DOMAIN,
        VERIFIER_STATE_FORMAT_VERSION,
    };
}
