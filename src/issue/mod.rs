//! The issuing side: signing keys and the offline root, credentials, the issuer's
//! status list, key sets to have the root sign, and software cards.
//!
//! Everything here signs; everything it signs is checked by the verification layer
//! below it (`revocard::Verifier`), never by this module.

mod batch;
mod cards;
mod credential;
mod error;
mod keys;
mod keyset;
mod signer;
mod status;

pub use crate::model::CredentialRequest;
pub use crate::verify::CheckedCardKey;
pub use cards::SoftwareCards;
pub use credential::Credential;
pub use error::{CardError, IssueError, PublishListError};
pub use keys::{Card, CardKey, IssuerKey, RootKey};
pub use keyset::KeySetDraft;
#[cfg(feature = "pkcs11")]
pub(crate) use signer::FixedKeyCheck;
pub use signer::{KeySigner, SignError};
pub use status::{IssuerStatusList, Publication};
