//! Keys in a hardware security module, through PKCS#11 (feature `pkcs11`): the module
//! from `--pkcs11-module` / `REVOCARD_PKCS11_MODULE`, the PIN from `pin.rs`, the keys
//! named by `pkcs11:` URIs. A key born here is generated inside the token (sensitive,
//! not extractable) and signs through the library's signing seam: no secret byte of it
//! is ever in this process. Every failure is one line naming the token and the object,
//! never the PIN.
//!
//! Without the feature, every `--hsm` or `pkcs11:` key says that this build has no
//! PKCS#11 support (exit 2).

use revocard::issue::{IssuerKey, RootKey};
use revocard::{IssuerId, RootPublicKey, Validity};

use crate::Global;
use crate::error::{CliError, Result};

/// The message of a build without the feature.
#[cfg(not(feature = "pkcs11"))]
fn unsupported() -> CliError {
    CliError::failed(
        "this build of revocard has no PKCS#11 support: build it with `cargo build -p revocard-cli --features pkcs11` to keep keys in an HSM",
    )
    .named("no_pkcs11")
}

/// The root's signature over `to_be_signed` (checked before it is returned).
pub fn sign_root(root: &RootKey, to_be_signed: &[u8]) -> Result<[u8; 64]> {
    root.sign(to_be_signed).map_err(from_sign)
}

/// A key that could not sign: one line naming where it lives. A token that failed
/// (gone, logged out) is an interruption: run the same command again once it is back.
pub fn from_sign(e: revocard::issue::SignError) -> CliError {
    use revocard::issue::SignError;
    match &e {
        SignError::BadSignature { .. } => CliError::failed(e.to_string()).named("bad_signature"),
        _ => CliError::interrupted(format!(
            "{e}: {}, once the token is back",
            crate::error::RESUME_HINT
        ))
        .named("token_failed"),
    }
}

#[cfg(not(feature = "pkcs11"))]
mod imp {
    use super::*;

    pub fn generate_signing(
        _g: &Global,
        _uri: &str,
        _issuer: IssuerId,
        _window: Validity,
    ) -> Result<(IssuerKey, Attributes)> {
        Err(unsupported())
    }

    pub fn open_signing(
        _g: &Global,
        _uri: &str,
        _issuer: IssuerId,
        _window: Validity,
    ) -> Result<IssuerKey> {
        Err(unsupported())
    }

    pub fn generate_root(
        _g: &Global,
        _uri: &str,
        _issuer: IssuerId,
        _window: Validity,
    ) -> Result<(RootKey, Attributes)> {
        Err(unsupported())
    }

    pub fn open_root(
        _g: &Global,
        _uri: &str,
        _anchor: &RootPublicKey,
    ) -> Result<(RootKey, Attributes)> {
        Err(unsupported())
    }

    pub fn token_attributes(_g: &Global, _uri: &str) -> Result<Attributes> {
        Err(unsupported())
    }

    pub fn check_uri(_uri: &str) -> Result<()> {
        Err(unsupported())
    }
}

#[cfg(feature = "pkcs11")]
mod imp {
    use std::path::PathBuf;

    use revocard::{HsmError, KeyPolicy, Pkcs11Module, Pkcs11Uri, TokenKey, TokenPin};

    use super::*;

    /// The URI, parsed (a `pin-value` in it is refused: a PIN never travels in argv).
    fn parse(uri: &str) -> Result<Pkcs11Uri> {
        uri.parse::<Pkcs11Uri>()
            .map_err(|e| CliError::refused(format!("{e}")).named("bad_uri"))
    }

    pub fn check_uri(uri: &str) -> Result<()> {
        let parsed = parse(uri)?;
        if parsed.token().is_none() || parsed.object().is_none() {
            return Err(CliError::refused(format!(
                "{uri} must name a token and an object (pkcs11:token=LABEL;object=LABEL)"
            ))
            .named("bad_uri"));
        }
        Ok(())
    }

    /// The module (`--pkcs11-module` / `REVOCARD_PKCS11_MODULE`, else the URI's
    /// `module-path`) and the token's PIN, for the key `uri` names.
    fn session_parts(g: &Global, uri: &Pkcs11Uri) -> Result<(Pkcs11Module, TokenPin)> {
        let path: PathBuf = g
            .pkcs11_module
            .clone()
            .or_else(|| uri.module_path().map(std::path::Path::to_path_buf))
            .ok_or_else(|| {
                CliError::failed(format!(
                    "no PKCS#11 module for {uri}: give --pkcs11-module PATH (the HSM vendor's library) or set REVOCARD_PKCS11_MODULE"
                ))
                .named("no_module")
            })?;
        let module = Pkcs11Module::load(&path).map_err(from_hsm)?;
        let token = uri.token().unwrap_or("?");
        let (pin, _) = crate::pin::read(token, g.pin_file.as_deref(), uri.pin_source())?;
        Ok((module, TokenPin::new(pin)))
    }

    fn policy(g: &Global) -> KeyPolicy {
        KeyPolicy {
            allow_extractable: g.allow_extractable,
        }
    }

    fn generate(g: &Global, uri: &str) -> Result<TokenKey> {
        check_uri(uri)?;
        let parsed = parse(uri)?;
        let (module, pin) = session_parts(g, &parsed)?;
        // A key generated here is never extractable, whatever --allow-extractable says.
        TokenKey::generate(&module, &parsed, &pin, KeyPolicy::default())
            .map_err(|e| from_hsm(e).context(format!("generating {uri}")))
    }

    fn open(g: &Global, uri: &str) -> Result<TokenKey> {
        let parsed = parse(uri)?;
        let (module, pin) = session_parts(g, &parsed)?;
        TokenKey::open_with_policy(&module, &parsed, &pin, policy(g))
            .map_err(|e| from_hsm(e).context(format!("opening {uri}")))
    }

    /// The key's protection attributes as the token reports them.
    fn attributes(key: &TokenKey) -> Result<Attributes> {
        let a = key.attributes().map_err(from_hsm)?;
        Ok(serde_json::json!({
            "extractable": a.extractable,
            "sensitive": a.sensitive,
            "never_extractable": a.never_extractable,
            "always_sensitive": a.always_sensitive,
            "local": a.local,
        }))
    }

    pub fn token_attributes(g: &Global, uri: &str) -> Result<Attributes> {
        attributes(&open(g, uri)?)
    }

    pub fn generate_signing(
        g: &Global,
        uri: &str,
        issuer: IssuerId,
        window: Validity,
    ) -> Result<(IssuerKey, Attributes)> {
        let key = generate(g, uri)?;
        let attributes = attributes(&key)?;
        Ok((IssuerKey::from_signer(issuer, window, key)?, attributes))
    }

    pub fn open_signing(
        g: &Global,
        uri: &str,
        issuer: IssuerId,
        window: Validity,
    ) -> Result<IssuerKey> {
        Ok(IssuerKey::from_signer(issuer, window, open(g, uri)?)?)
    }

    pub fn generate_root(
        g: &Global,
        uri: &str,
        issuer: IssuerId,
        window: Validity,
    ) -> Result<(RootKey, Attributes)> {
        let key = generate(g, uri)?;
        let attributes = attributes(&key)?;
        Ok((RootKey::from_signer(issuer, window, key)?, attributes))
    }

    /// The root in the token, checked to be the root of `anchor`.
    pub fn open_root(
        g: &Global,
        uri: &str,
        anchor: &RootPublicKey,
    ) -> Result<(RootKey, Attributes)> {
        let key = open(g, uri)?;
        let attributes = attributes(&key)?;
        let root = RootKey::from_signer(anchor.issuer().clone(), anchor.validity(), key)?;
        if root.public() != anchor {
            return Err(CliError::refused(format!(
                "the key {uri} is not the root of the anchor given (root {})",
                anchor.key_id()
            ))
            .named("wrong_key"));
        }
        Ok((root, attributes))
    }

    /// One line naming the token and the object (never the PIN), under the exit code
    /// of whose fault it is.
    pub fn from_hsm(e: HsmError) -> CliError {
        let message = e.to_string();
        match e {
            HsmError::WrongPin { .. } => CliError::refused(message).named("wrong_pin"),
            HsmError::PinLocked { .. } => CliError::failed(message).named("pin_locked"),
            HsmError::NotAModule { .. } => CliError::failed(message).named("not_a_module"),
            HsmError::NoToken { .. } => CliError::failed(format!(
                "{message}: plug it in (or check --pkcs11-module) and run the same command again"
            ))
            .named("no_token"),
            HsmError::NoObject { .. } | HsmError::Ambiguous { .. } => {
                CliError::refused(message).named("no_object")
            }
            HsmError::WrongKeyType { .. }
            | HsmError::CannotSign { .. }
            | HsmError::Extractable { .. }
            | HsmError::KeyMismatch { .. } => CliError::refused(message).named("wrong_key"),
            HsmError::AlreadyExists { .. } => CliError::refused(message).named("already_exists"),
            HsmError::BadUri { .. } => CliError::refused(message).named("bad_uri"),
            _ => CliError::failed(message).named("token_failed"),
        }
    }
}

pub use imp::{
    check_uri, generate_root, generate_signing, open_root, open_signing, token_attributes,
};

/// A token key's protection attributes (`extractable`, `sensitive`,
/// `never_extractable`, `always_sensitive`, `local`), as JSON for reports.
pub type Attributes = serde_json::Value;

/// The root's signed key set for `draft`.
pub fn sign_key_set(root: &RootKey, draft: &revocard::issue::KeySetDraft) -> Result<Vec<u8>> {
    root.sign_key_set(draft).map_err(from_sign)
}

#[cfg(all(test, feature = "pkcs11"))]
mod tests {
    use revocard::HsmError;

    use super::imp::from_hsm;
    use crate::error::{EXIT_FAILED, EXIT_REFUSED};

    /// Each token failure: its exit code and stable name, one line naming the token
    /// (SoftHSM never locks a PIN, so a locked token is checked here).
    #[test]
    fn token_failures_map_to_the_exit_code_table() {
        let token = || "office".to_owned();
        let object = || "signing-1".to_owned();
        let cases = [
            (
                HsmError::WrongPin { token: token() },
                EXIT_REFUSED,
                "wrong_pin",
            ),
            (
                HsmError::PinLocked { token: token() },
                EXIT_FAILED,
                "pin_locked",
            ),
            (
                HsmError::NoToken { token: token() },
                EXIT_FAILED,
                "no_token",
            ),
            (
                HsmError::NoObject {
                    token: token(),
                    object: object(),
                },
                EXIT_REFUSED,
                "no_object",
            ),
            (
                HsmError::WrongKeyType {
                    token: token(),
                    object: object(),
                },
                EXIT_REFUSED,
                "wrong_key",
            ),
            (
                HsmError::CannotSign {
                    token: token(),
                    object: object(),
                },
                EXIT_REFUSED,
                "wrong_key",
            ),
            (
                HsmError::Extractable {
                    token: token(),
                    object: object(),
                },
                EXIT_REFUSED,
                "wrong_key",
            ),
            (
                HsmError::NotAModule {
                    path: "/tmp/x.so".into(),
                },
                EXIT_FAILED,
                "not_a_module",
            ),
        ];
        for (e, code, name) in cases {
            let cli = from_hsm(e);
            assert_eq!((cli.code, cli.error), (code, name), "{}", cli.message);
            assert_eq!(cli.message.lines().count(), 1, "{}", cli.message);
        }
        let locked = from_hsm(HsmError::PinLocked { token: token() });
        assert!(locked.message.contains("locked") && locked.message.contains("office"));
    }
}
