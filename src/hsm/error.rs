//! Why a token could not be used. Every error names the token and the object (as the
//! URI names them) and never the PIN.

use std::path::PathBuf;

use crate::hsm::UriError;
use crate::issue::SignError;

/// Why a key in a token could not be opened, made or used. Each names the token and
/// the object by their labels, never the PIN. Display is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// The file is not a PKCS#11 module (not a shared library, or one without
    /// `C_GetFunctionList`), or it refused to initialise.
    #[error("{} is not a PKCS#11 module", path.display())]
    NotAModule {
        /// The path given.
        path: PathBuf,
    },
    /// No token with that label (and manufacturer, serial, model, slot) is present.
    #[error("no PKCS#11 token \"{token}\" is present")]
    NoToken {
        /// The token's label.
        token: String,
    },
    /// The token holds no private key with that label (and id).
    #[error("token \"{token}\" holds no key \"{object}\"")]
    NoObject {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The URI matches more than one token, or more than one key: name it exactly.
    #[error(
        "\"{object}\" in token \"{token}\" matches more than one token or key: add serial= or id= to the URI"
    )]
    Ambiguous {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The token refused the PIN (`CKR_PIN_INCORRECT`). Another wrong PIN may lock it.
    #[error("token \"{token}\" refused the PIN")]
    WrongPin {
        /// The token's label.
        token: String,
    },
    /// The token's user PIN is locked after too many wrong PINs (`CKR_PIN_LOCKED`, or
    /// the token reports `CKF_USER_PIN_LOCKED`): its security officer must unlock it.
    #[error(
        "token \"{token}\" is locked after too many wrong PINs: its security officer must reset the PIN"
    )]
    PinLocked {
        /// The token's label.
        token: String,
    },
    /// The key is not an Ed25519 key (`CKK_EC_EDWARDS` on edwards25519).
    #[error("key \"{object}\" in token \"{token}\" is not an Ed25519 key")]
    WrongKeyType {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The key may not sign (`CKA_SIGN` false).
    #[error("key \"{object}\" in token \"{token}\" may not sign (CKA_SIGN is false)")]
    CannotSign {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The key can leave the token (`CKA_EXTRACTABLE` true or `CKA_SENSITIVE` false),
    /// and the policy did not allow it.
    #[error(
        "key \"{object}\" in token \"{token}\" can be extracted: refused (it must be sensitive and not extractable)"
    )]
    Extractable {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The token already holds an object with that label: nothing was generated.
    #[error("token \"{token}\" already holds an object \"{object}\": nothing generated")]
    AlreadyExists {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The private key and the public key under that label are not a pair (a
    /// signature by one does not verify under the other).
    #[error("the public key \"{object}\" in token \"{token}\" is not the private key's pair")]
    KeyMismatch {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// The token returned a signature that does not verify under the key's public
    /// key (a faulty or tampered token): it was thrown away.
    #[error(
        "key \"{object}\" in token \"{token}\" returned a signature that does not verify: thrown away"
    )]
    BadSignature {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
    },
    /// A PKCS#11 call failed (the token was removed, closed its sessions, logged out,
    /// or failed). `rv` is the return value's name (`CKR_DEVICE_REMOVED`, ...).
    #[error("token \"{token}\", key \"{object}\": {function} failed with {rv}")]
    Token {
        /// The token's label.
        token: String,
        /// The key's label.
        object: String,
        /// The PKCS#11 function (`C_Sign`, `C_Login`, ...).
        function: &'static str,
        /// Its return value's name, or cryptoki's description of a failure before it.
        rv: String,
    },
    /// The URI is not a usable PKCS#11 URI.
    #[error("bad PKCS#11 URI: {reason}")]
    BadUri {
        /// Why.
        reason: UriError,
    },
}

impl SignError {
    /// The token's own error, if the key that failed to sign is a [`crate::TokenKey`].
    #[must_use]
    pub fn hsm(&self) -> Option<&HsmError> {
        match self {
            Self::Signer { source, .. } => std::error::Error::source(source.as_ref())
                .and_then(|e| e.downcast_ref::<HsmError>()),
            _ => None,
        }
    }
}

/// The name of a PKCS#11 return value (`CKR_PIN_INCORRECT`) from cryptoki's error.
pub(crate) fn rv_name(error: &cryptoki::error::Error) -> String {
    match error {
        cryptoki::error::Error::Pkcs11(rv, _) => {
            let camel = format!("{rv:?}");
            let mut name = String::from("CKR");
            for c in camel.chars() {
                if c.is_ascii_uppercase() {
                    name.push('_');
                }
                name.push(c.to_ascii_uppercase());
            }
            name
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use cryptoki::context::Function;
    use cryptoki::error::{Error, RvError};

    #[test]
    fn names_return_values_as_the_standard_does() {
        assert_eq!(
            super::rv_name(&Error::Pkcs11(RvError::PinIncorrect, Function::Login)),
            "CKR_PIN_INCORRECT"
        );
        assert_eq!(
            super::rv_name(&Error::Pkcs11(
                RvError::SessionHandleInvalid,
                Function::Sign
            )),
            "CKR_SESSION_HANDLE_INVALID"
        );
    }
}
