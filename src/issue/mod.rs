//! The issuing side: signing keys and the offline root, credentials, the issuer's
//! status list, key sets to have the root sign, and software cards.
//!
//! Everything here signs; everything it signs is checked by the verification layer
//! below it (`revocard::Verifier`), never by this module.

mod cards;
mod credential;
mod error;
mod keys;
mod keyset;
mod status;

pub use crate::model::CredentialRequest;
pub use crate::verify::CheckedCardKey;
pub use cards::SoftwareCards;
pub use credential::Credential;
pub use error::{CardError, IssueError};
pub use keys::{Card, CardKey, IssuerKey, RootKey};
pub use keyset::KeySetDraft;
pub use status::{IssuerStatusList, Publication};
