//! The verifier a door controller, gate reader or phone embeds.
//!
//! `verify(bytes, now)` decodes, finds the issuer key in the trust store, checks the
//! key's window and revocation, checks the signature with `verify_strict` over the
//! exact bytes received, checks the credential's validity window with a clock skew
//! allowance, and then its status in the issuer's current revocation list. The
//! signature is checked before any claim is believed: a tampered credential is always
//! denied as [`Denial::BadSignature`], never as "expired".
//!
//! [`VerifierState`] holds the trust store and the lists and does every check, with no
//! `std`; [`Verifier`] (with `std`) shares one between threads. The layer knows bytes
//! (`wire`) and plain data (`model`), and nothing that signs, issues or stores.

pub(crate) mod batch;
mod credential;
mod error;
mod keys;
mod list;
mod options;
pub(crate) mod pair;
mod persist;
mod root;
mod state;
mod trust;
#[cfg(feature = "std")]
mod verifier;

pub use crate::wire::StatePart;
pub use batch::MAX_BATCH_CHUNK;
pub use credential::{
    UnverifiedCredential, VerifiedCredential, credential_bytes_from_text, credential_text,
};
pub use error::{Denial, KeySetError, ListError, StateError, StatusError, TrustError};
pub(crate) use keys::door_card_key;
pub use keys::{CheckedCardKey, IssuerPublicKey, key_id_of};
pub use list::{RevocationList, list_state_digest};
pub(crate) use list::{StatusTable, check_capacity};
pub use options::{
    DEFAULT_CLOCK_SKEW_SECS, DEFAULT_STATUS_GRACE_SECS, ListUpdate, StalePolicy, VerifyOptions,
};
pub use root::{KeyEntry, KeySet, RootPublicKey};
pub use state::VerifierState;
pub(crate) use state::{CardResponse, SignatureCheck};
pub use trust::{MAX_TRUSTED_KEYS, TrustAnchor, TrustStore};
#[cfg(feature = "std")]
pub use verifier::Verifier;
