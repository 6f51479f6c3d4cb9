//! # revocard
//!
//! Police warrant cards and staff passes as Ed25519-signed credentials, built for the
//! day a card supplier is breached: printed data alone never opens a door, one call
//! revokes everything the supplier saw, and replacements are issued in bulk.
//!
//! Start with [`IssuerKey::issue`] to sign a credential and [`Verifier::verify`] to
//! check one; a door controller embeds a [`DoorController`] (policies, holder binding,
//! a cache for repeat taps). `ARCHITECTURE.md` maps the modules.
//!
//! ```
//! use rand::{SeedableRng, rngs::StdRng};
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

mod batch;
mod challenge;
mod credential;
mod door;
mod error;
mod keys;
mod model;
pub mod registry;
mod root;
#[cfg(feature = "sqlite")]
mod sqlite;
mod status;
mod status_codec;
mod trust;
mod verify;
mod vetting;
mod wire;

pub use batch::MAX_BATCH_CHUNK;
pub use challenge::{Card, Challenge, MAX_OUTSTANDING_CHALLENGES, MAX_RETIRED_CHALLENGES};
pub use credential::{
    Credential, UnverifiedCredential, VerifiedCredential, credential_bytes_from_text,
};
pub use door::{
    DEFAULT_CHALLENGE_TTL_SECS, Decision, DoorController, DoorEvent, DoorId, DoorPolicy,
    MAX_CACHED_CREDENTIALS, MAX_CHALLENGE_TTL_SECS, MAX_DOOR_ID_LEN,
};
pub use error::{
    CardError, DecodeError, Denial, DoorDenial, DoorError, FieldError, IssueError, KeySetError,
    ListError, StatusError, TrustError, WireObject,
};
pub use keys::{CardKey, IssuerKey, IssuerPublicKey, key_id_of};
pub use model::{
    AuditHead, CardPublicKey, Claims, CredentialRequest, Field, Holder, IssuerId, KeyId, KeyUsage,
    Kind, MAX_ISSUER_ID_LEN, MAX_NAME_LEN, MAX_PAY_NUMBER_LEN, MAX_RANK_LEN, MAX_UNIT_LEN,
    PhotoDigest, PrintBatchId, Serial, StatusIndex, UnixTime, Validity,
};
pub use root::{KeyEntry, KeySet, KeySetDraft, RootKey, RootPublicKey};
pub use status::{
    IssuerStatusList, MAX_LIST_CAPACITY, MAX_SCOPE_ENTRIES, MIN_LIST_CAPACITY, Publication,
    RevocationList, RevocationReason, RevokedBy, Scope, ScopeEntry, Status, StatusAnswer,
    list_state_digest,
};
pub use status_codec::CodecError;
pub use trust::{MAX_TRUSTED_KEYS, TrustAnchor, TrustStore};
pub use verify::{
    DEFAULT_CLOCK_SKEW_SECS, DEFAULT_STATUS_GRACE_SECS, ListUpdate, StalePolicy, Verifier,
    VerifyOptions,
};
pub use vetting::{
    ForceVetting, NationalSecurity, Nppv, PoliceVetting, Vetting, VettingRequirement,
};
pub use wire::{
    CHALLENGE_NONCE_LEN, CHALLENGE_RESPONSE_DOMAIN, CREDENTIAL_DOMAIN, DELTA_DOMAIN,
    FORMAT_VERSION, KEY_SET_DOMAIN, KEY_SET_FORMAT_VERSION, LIST_DOMAIN, LIST_FORMAT_VERSION,
    MAX_CHALLENGE_BYTES, MAX_CREDENTIAL_BYTES, MAX_CREDENTIAL_TEXT_LEN, MAX_DELTA_BYTES,
    MAX_KEY_SET_BYTES, MAX_KEY_SET_ENTRIES, MAX_LIST_BYTES, MAX_RESPONSE_BYTES,
    MAX_ROOT_ANCHOR_BYTES, MAX_TRUST_ANCHOR_BYTES, ROOT_ANCHOR_FORMAT_VERSION,
};
