//! The one signing seam. Every signature the issuing side makes (credentials, lists,
//! deltas, key sets, the standard views' JWS) goes through [`KeyHolder::sign`], which
//! holds either the software key (ed25519-dalek's `SigningKey`, the only code that
//! touches secret bytes) or any [`KeySigner`]: a key in a hardware security module
//! (`revocard::TokenKey`, feature `pkcs11`) or another implementation of the
//! `signature` crate's `Signer` + `Keypair` traits.
//!
//! A signature that comes back from outside the process is checked against the key's
//! public half before it is used ("verify after sign"), with the same rule as the
//! doors' `verify_strict`: a faulty or tampered token cannot publish a bad list or
//! card. The software key is not checked (it is the same code as the verifier's
//! arithmetic, and checking would double the cost of a reissue).

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::ed25519::signature::{self, Keypair, Signer};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

/// A key that signs with Ed25519 wherever it lives: in this process (ed25519-dalek's
/// `SigningKey`), in a hardware security module (`revocard::TokenKey`), or
/// elsewhere. It is the `signature` crate's `Signer` + `Keypair`, plus where the key
/// lives, for errors and logs.
///
/// Implementations must be `Send + Sync`: the reissue signs on every core at once.
pub trait KeySigner:
    Signer<Signature> + Keypair<VerifyingKey = VerifyingKey> + Send + Sync + 'static
{
    /// Where the key lives, for errors and logs: `"software"`, or a token key's
    /// PKCS#11 URI. Never a secret (no PIN, no key bytes).
    fn location(&self) -> String;

    /// Whether the seam must check each signature [`Signer::try_sign`] returns against
    /// [`Keypair::verifying_key`] (with `verify_strict`'s rule) before using it: `true`
    /// (the default) for a key outside the process. `false` only for the software key
    /// (its signature is computed here, by the library the doors verify with) and for
    /// a signer that checks every signature itself before returning it, as
    /// `revocard::TokenKey` does. It is what keeps a faulty or tampered token from
    /// publishing a bad signature: answer `false` only if that holds.
    fn needs_verify_after_sign(&self) -> bool {
        true
    }
}

/// The software key: the one implementation that holds secret bytes.
impl KeySigner for SigningKey {
    fn location(&self) -> String {
        SOFTWARE.to_owned()
    }

    fn needs_verify_after_sign(&self) -> bool {
        false
    }
}

/// [`KeySigner::location`] of a key held in this process.
const SOFTWARE: &str = "software";

/// Why a signature could not be made. Nothing was signed, stored or published with it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key (a token, a remote signer) failed to sign: the token is gone, logged
    /// out, locked, or refused. The job that asked can resume once the key is back.
    #[error("the key at {location} could not sign: {}", innermost(source))]
    Signer {
        /// Where the key lives ([`KeySigner::location`]): a PKCS#11 URI, never a PIN.
        location: String,
        /// What the signer said (for a token, its `revocard::HsmError`, reachable
        /// through `SignError::hsm` with feature `pkcs11`).
        #[source]
        source: Arc<signature::Error>,
    },
    /// The key returned a signature that does not verify under its own public key
    /// (a faulty or tampered token): it was thrown away.
    #[error(
        "the key at {location} returned a signature that does not verify under its public key: nothing was signed with it"
    )]
    BadSignature {
        /// Where the key lives ([`KeySigner::location`]).
        location: String,
    },
}

impl SignError {
    /// Where the key that failed lives ([`KeySigner::location`]).
    #[must_use]
    pub fn location(&self) -> &str {
        match self {
            Self::Signer { location, .. } | Self::BadSignature { location } => location,
        }
    }
}

/// Two failures are the same when they name the same key and say the same thing.
impl PartialEq for SignError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Signer {
                    location: a,
                    source: x,
                },
                Self::Signer {
                    location: b,
                    source: y,
                },
            ) => a == b && innermost(x) == innermost(y),
            (Self::BadSignature { location: a }, Self::BadSignature { location: b }) => a == b,
            _ => false,
        }
    }
}

impl Eq for SignError {}

/// The most specific message a signer's error carries: its source's, if it has one
/// (`signature::Error` itself only says "signature error").
fn innermost(error: &signature::Error) -> String {
    match std::error::Error::source(error) {
        Some(source) => source.to_string(),
        None => error.to_string(),
    }
}

/// The key inside an `IssuerKey` or a `RootKey`.
pub(crate) enum KeyHolder {
    /// In this process: signs directly, as before the seam.
    Software(SigningKey),
    /// Elsewhere: every signature is checked before use (unless the signer does).
    External {
        signer: Arc<dyn KeySigner>,
        /// The public half, read once when the key was opened.
        public: VerifyingKey,
    },
}

impl KeyHolder {
    /// Takes any signer (held behind an `Arc`, shared by every worker).
    pub(crate) fn from_signer(signer: impl KeySigner) -> Self {
        Self::external(Arc::new(signer))
    }

    fn external(signer: Arc<dyn KeySigner>) -> Self {
        let public = signer.verifying_key();
        Self::External { signer, public }
    }

    /// The public half.
    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::Software(key) => key.verifying_key(),
            Self::External { public, .. } => *public,
        }
    }

    /// Where the key lives.
    pub(crate) fn location(&self) -> String {
        match self {
            Self::Software(_) => SOFTWARE.to_owned(),
            Self::External { signer, .. } => signer.location(),
        }
    }

    /// The software key, if this is one (to export its secret bytes).
    pub(crate) fn software(&self) -> Option<&SigningKey> {
        match self {
            Self::Software(key) => Some(key),
            Self::External { .. } => None,
        }
    }

    /// Signs `message`; a signature from outside the process is verified first.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        match self {
            Self::Software(key) => Ok(key.sign(message).to_bytes()),
            Self::External { signer, public } => {
                let signature = signer.try_sign(message).map_err(|e| SignError::Signer {
                    location: signer.location(),
                    source: Arc::new(e),
                })?;
                if signer.needs_verify_after_sign()
                    && public.verify_strict(message, &signature).is_err()
                {
                    return Err(SignError::BadSignature {
                        location: signer.location(),
                    });
                }
                Ok(signature.to_bytes())
            }
        }
    }
}

impl fmt::Debug for KeyHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyHolder")
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}
