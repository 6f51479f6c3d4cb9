//! Signing keys in a hardware security module, through PKCS#11 (feature `pkcs11`).
//!
//! The key is generated in the token and never leaves it (`CKA_SENSITIVE` true,
//! `CKA_EXTRACTABLE` false); it is named by an RFC 7512 URI
//! (`pkcs11:token=office;object=signing-2026`); the module is the vendor's library,
//! loaded at run time; the PIN comes from the caller (a file, the environment or a
//! prompt: this crate never reads them) and is never printed. A [`TokenKey`] is a
//! [`KeySigner`](crate::issue::KeySigner): `IssuerKey::from_signer` and
//! `RootKey::from_signer` sign with it, and every signature it returns has been checked
//! against its public key.
//!
//! ```no_run
//! use revocard::{Pkcs11Module, Pkcs11Uri, TokenKey, TokenPin};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let module = Pkcs11Module::load("/usr/lib/softhsm/libsofthsm2.so".as_ref())?;
//! let uri: Pkcs11Uri = "pkcs11:token=office;object=signing-2026".parse()?;
//! let pin = TokenPin::new(zeroize::Zeroizing::new(std::fs::read_to_string("/run/office.pin")?));
//! let key = TokenKey::open(&module, &uri, &pin)?;
//! # let _ = key; Ok(()) }
//! ```

mod error;
mod token;
mod uri;

pub use error::HsmError;
pub use token::{KeyAttributes, KeyPolicy, Pkcs11Module, TokenKey, TokenPin};
pub use uri::{MAX_PKCS11_URI_LEN, ObjectType, Pkcs11Uri, UriError};
