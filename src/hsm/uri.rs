//! PKCS#11 URIs (RFC 7512): how a key in a token is named, on the command line, in a
//! configuration file or in an error, without a PIN.
//!
//! `pkcs11:token=office;object=signing-2026?module-path=/usr/lib/softhsm/libsofthsm2.so`
//!
//! Strict: an attribute this crate does not use is refused rather than ignored (an
//! ignored `slot-description` could let the URI pick another token than its author
//! meant), each attribute appears at most once (RFC 7512 section 2.3), and a PIN
//! (`pin-value`) is refused outright: a PIN never travels in a URI, which ends up in
//! argv, shell history and logs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::hsm::HsmError;

/// The longest URI accepted, in bytes. Real ones are under 300 (a module path, a
/// token and object label of at most 32 bytes each, percent-encoded at most three
/// times over); the limit only bounds what a hostile configuration file can make us
/// allocate.
pub const MAX_PKCS11_URI_LEN: usize = 4096;

const SCHEME: &str = "pkcs11:";

/// What is wrong with a PKCS#11 URI. Carries the attribute's name, never its value
/// (a value could be a PIN a user pasted by mistake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// It does not start with `pkcs11:`.
    #[error("a PKCS#11 URI starts with \"pkcs11:\"")]
    NotPkcs11,
    /// Longer than [`MAX_PKCS11_URI_LEN`].
    #[error("a PKCS#11 URI is at most {max} bytes, not {len}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An attribute without `=`.
    #[error("a PKCS#11 URI attribute without '='")]
    NoValue,
    /// A `%` not followed by two hexadecimal digits.
    #[error("bad percent-encoding in attribute {attribute}")]
    BadPercent {
        /// The attribute.
        attribute: &'static str,
    },
    /// A text attribute that is not UTF-8 once decoded.
    #[error("attribute {attribute} is not UTF-8")]
    NotUtf8 {
        /// The attribute.
        attribute: &'static str,
    },
    /// The same attribute twice.
    #[error("attribute {attribute} appears twice")]
    Duplicate {
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute this crate does not use (RFC 7512's `library-*`, `slot-description`,
    /// `module-name`, a vendor's `x-...`, or a typo).
    #[error(
        "unsupported PKCS#11 URI attribute (supported: token, object, id, manufacturer, serial, model, type, slot-id, module-path, pin-source)"
    )]
    Unsupported,
    /// `pin-value`: a PIN in a URI would end up in argv, shell history and logs.
    #[error(
        "a PIN is never given in a URI (pin-value): use a PIN file, the environment or the prompt"
    )]
    PinInUri,
    /// `pin-source` that is not a `file:` reference.
    #[error("pin-source must be a file: reference")]
    PinSourceNotFile,
    /// `type` other than `public`, `private`, `cert`, `secret-key`, `data`.
    #[error("type must be public, private, cert, secret-key or data")]
    BadType,
    /// `slot-id` that is not a decimal number.
    #[error("slot-id must be a decimal number")]
    BadSlotId,
    /// A key URI without `object` (the key's label), where one is needed.
    #[error("the URI names no object (add ;object=LABEL)")]
    NoObject,
    /// A key URI without `token` (the token's label), where one is needed.
    #[error("the URI names no token (add token=LABEL)")]
    NoToken,
}

/// An object class, as RFC 7512's `type` attribute names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectType {
    /// `public`: a public key.
    Public,
    /// `private`: a private key.
    Private,
    /// `cert`: a certificate.
    Cert,
    /// `secret-key`: a secret (symmetric) key.
    SecretKey,
    /// `data`: a data object.
    Data,
}

impl ObjectType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Cert => "cert",
            Self::SecretKey => "secret-key",
            Self::Data => "data",
        }
    }
}

/// A PKCS#11 URI (RFC 7512): the token and key it names, and optionally the module
/// to load and the file to read the PIN from. Parse with [`str::parse`]; print with
/// `Display` (canonical, percent-encoded; it never holds a PIN).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    token: Option<String>,
    manufacturer: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    object: Option<String>,
    id: Option<Vec<u8>>,
    object_type: Option<ObjectType>,
    slot_id: Option<u64>,
    module_path: Option<PathBuf>,
    pin_source: Option<PathBuf>,
}

impl Pkcs11Uri {
    /// The URI of the key labelled `object` in the token labelled `token`:
    /// `pkcs11:token=TOKEN;object=OBJECT`.
    #[must_use]
    pub fn for_key(token: &str, object: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            object: Some(object.to_owned()),
            ..Self::default()
        }
    }

    /// The token's label (`token=`).
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The token's manufacturer (`manufacturer=`).
    #[must_use]
    pub fn manufacturer(&self) -> Option<&str> {
        self.manufacturer.as_deref()
    }

    /// The token's serial number (`serial=`).
    #[must_use]
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// The token's model (`model=`).
    #[must_use]
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The object's label (`object=`): the key's name in the token.
    #[must_use]
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// The object's `CKA_ID` (`id=`, percent-encoded bytes).
    #[must_use]
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// The object's class (`type=`).
    #[must_use]
    pub fn object_type(&self) -> Option<ObjectType> {
        self.object_type
    }

    /// The slot's id (`slot-id=`).
    #[must_use]
    pub fn slot_id(&self) -> Option<u64> {
        self.slot_id
    }

    /// The module to load (`?module-path=`).
    #[must_use]
    pub fn module_path(&self) -> Option<&Path> {
        self.module_path.as_deref()
    }

    /// The file to read the PIN from (`?pin-source=file:PATH`).
    #[must_use]
    pub fn pin_source(&self) -> Option<&Path> {
        self.pin_source.as_deref()
    }

    /// The same URI without its query (module path, PIN source): what names the key.
    #[must_use]
    pub fn key_only(&self) -> Self {
        Self {
            module_path: None,
            pin_source: None,
            ..self.clone()
        }
    }

    /// The token label, for errors (`?` when the URI names none).
    pub(crate) fn token_name(&self) -> String {
        self.token.clone().unwrap_or_else(|| "?".to_owned())
    }

    /// The object label, for errors (`?` when the URI names none).
    pub(crate) fn object_name(&self) -> String {
        self.object.clone().unwrap_or_else(|| "?".to_owned())
    }

    fn parse(s: &str) -> Result<Self, UriError> {
        if s.len() > MAX_PKCS11_URI_LEN {
            return Err(UriError::TooLong {
                len: s.len(),
                max: MAX_PKCS11_URI_LEN,
            });
        }
        let rest = s
            .get(..SCHEME.len())
            .filter(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
            .and_then(|_| s.get(SCHEME.len()..))
            .ok_or(UriError::NotPkcs11)?;
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let mut uri = Self::default();
        for attribute in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attribute.split_once('=').ok_or(UriError::NoValue)?;
            uri.set_path(name, value)?;
        }
        for attribute in query.into_iter().flat_map(|q| q.split('&')) {
            if attribute.is_empty() {
                continue;
            }
            let (name, value) = attribute.split_once('=').ok_or(UriError::NoValue)?;
            uri.set_query(name, value)?;
        }
        Ok(uri)
    }

    fn set_path(&mut self, name: &str, value: &str) -> Result<(), UriError> {
        match name {
            "token" => put(&mut self.token, text("token", value)?, "token"),
            "manufacturer" => put(
                &mut self.manufacturer,
                text("manufacturer", value)?,
                "manufacturer",
            ),
            "serial" => put(&mut self.serial, text("serial", value)?, "serial"),
            "model" => put(&mut self.model, text("model", value)?, "model"),
            "object" => put(&mut self.object, text("object", value)?, "object"),
            "id" => put(&mut self.id, decode("id", value)?, "id"),
            "type" => {
                let t = match text("type", value)?.as_str() {
                    "public" => ObjectType::Public,
                    "private" => ObjectType::Private,
                    "cert" => ObjectType::Cert,
                    "secret-key" => ObjectType::SecretKey,
                    "data" => ObjectType::Data,
                    _ => return Err(UriError::BadType),
                };
                put(&mut self.object_type, t, "type")
            }
            "slot-id" => {
                let id = text("slot-id", value)?;
                if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(UriError::BadSlotId);
                }
                let id = id.parse().map_err(|_| UriError::BadSlotId)?;
                put(&mut self.slot_id, id, "slot-id")
            }
            "pin-value" => Err(UriError::PinInUri),
            _ => Err(UriError::Unsupported),
        }
    }

    fn set_query(&mut self, name: &str, value: &str) -> Result<(), UriError> {
        match name {
            "module-path" => put(
                &mut self.module_path,
                PathBuf::from(text("module-path", value)?),
                "module-path",
            ),
            "pin-source" => {
                let source = text("pin-source", value)?;
                let path = source
                    .strip_prefix("file:")
                    .ok_or(UriError::PinSourceNotFile)?;
                // file:///etc/pin and file:/etc/pin name the same file (an empty authority).
                let path = path.strip_prefix("//").unwrap_or(path);
                if path.is_empty() {
                    return Err(UriError::PinSourceNotFile);
                }
                put(&mut self.pin_source, PathBuf::from(path), "pin-source")
            }
            "pin-value" => Err(UriError::PinInUri),
            _ => Err(UriError::Unsupported),
        }
    }
}

fn put<T>(slot: &mut Option<T>, value: T, attribute: &'static str) -> Result<(), UriError> {
    if slot.is_some() {
        return Err(UriError::Duplicate { attribute });
    }
    *slot = Some(value);
    Ok(())
}

/// Percent-decodes `value`.
fn decode(attribute: &'static str, value: &str) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |at: usize| {
                bytes
                    .get(at)
                    .and_then(|&h| char::from(h).to_digit(16))
                    .ok_or(UriError::BadPercent { attribute })
            };
            let (hi, lo) = (hex(i + 1)?, hex(i + 2)?);
            // Two hex digits: at most 255.
            out.push(u8::try_from(hi * 16 + lo).map_err(|_| UriError::BadPercent { attribute })?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

fn text(attribute: &'static str, value: &str) -> Result<String, UriError> {
    String::from_utf8(decode(attribute, value)?).map_err(|_| UriError::NotUtf8 { attribute })
}

/// Percent-encodes everything but RFC 3986's unreserved characters and the few that
/// RFC 7512 allows unencoded in a value (`:`, `[`, `]`, `@`, `!`, `$`, `'`, `(`, `)`,
/// `*`, `+`, `,`, `/` in the path and `/`, `?`, `|`, `:` in the query; `&`, `;`, `=`,
/// `?` and `%` are always encoded).
fn encode(out: &mut fmt::Formatter<'_>, bytes: &[u8], query: bool) -> fmt::Result {
    for &b in bytes {
        let plain = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/')
            || (!query
                && matches!(
                    b,
                    b'[' | b']' | b'@' | b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b'+' | b','
                ))
            || (query && b == b'|');
        if plain {
            write!(out, "{}", char::from(b))?;
        } else {
            write!(out, "%{b:02X}")?;
        }
    }
    Ok(())
}

impl FromStr for Pkcs11Uri {
    type Err = HsmError;

    fn from_str(s: &str) -> Result<Self, HsmError> {
        Self::parse(s).map_err(|reason| HsmError::BadUri { reason })
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SCHEME)?;
        let mut first = true;
        let mut attribute = |f: &mut fmt::Formatter<'_>, name: &str, value: &[u8]| {
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{name}=")?;
            encode(f, value, false)
        };
        let texts = [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("serial", &self.serial),
            ("model", &self.model),
            ("object", &self.object),
        ];
        for (name, value) in texts {
            if let Some(value) = value {
                attribute(f, name, value.as_bytes())?;
            }
        }
        if let Some(id) = &self.id {
            attribute(f, "id", id)?;
        }
        if let Some(t) = self.object_type {
            attribute(f, "type", t.as_str().as_bytes())?;
        }
        if let Some(slot) = self.slot_id {
            attribute(f, "slot-id", slot.to_string().as_bytes())?;
        }
        let mut separator = '?';
        let queries = [
            ("module-path", self.module_path.as_deref(), ""),
            ("pin-source", self.pin_source.as_deref(), "file:"),
        ];
        for (name, value, prefix) in queries {
            if let Some(path) = value {
                write!(f, "{separator}{name}={prefix}")?;
                encode(f, path.as_os_str().as_encoded_bytes(), true)?;
                separator = '&';
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Pkcs11Uri, UriError> {
        Pkcs11Uri::parse(s)
    }

    #[test]
    fn names_a_key_in_a_token() {
        let uri = parse("pkcs11:token=office;object=signing-2026").unwrap();
        assert_eq!(uri.token(), Some("office"));
        assert_eq!(uri.object(), Some("signing-2026"));
        assert_eq!(uri.id(), None);
        assert_eq!(uri.module_path(), None);
        assert_eq!(uri.to_string(), "pkcs11:token=office;object=signing-2026");
        assert_eq!(uri, Pkcs11Uri::for_key("office", "signing-2026"));
    }

    #[test]
    fn reads_rfc_7512_examples() {
        // RFC 7512 section 3.
        let uri = parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=",
        )
        .unwrap();
        assert_eq!(uri.token(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(uri.manufacturer(), Some("Snake Oil, Inc."));
        assert_eq!(uri.model(), Some("1.0"));
        assert_eq!(uri.serial(), Some(""));
        assert_eq!(uri.object_type(), Some(ObjectType::Cert));
        assert_eq!(
            uri.id(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        let uri = parse("pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1")
            .unwrap();
        assert_eq!(uri.module_path(), Some(Path::new("/mnt/libmypkcs11.so.1")));
        assert_eq!(uri.object_type(), Some(ObjectType::Private));
        let uri = parse("pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-source=file:/etc/token_pin").unwrap();
        assert_eq!(uri.pin_source(), Some(Path::new("/etc/token_pin")));
        assert_eq!(parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        assert_eq!(parse("PKCS11:token=a").unwrap().token(), Some("a"));
    }

    #[test]
    fn percent_encoding_round_trips() {
        let uri = Pkcs11Uri {
            token: Some("office; 100% ours?=&".to_owned()),
            object: Some("clé/2026".to_owned()),
            id: Some(vec![0, 0xff, b';']),
            slot_id: Some(7),
            module_path: Some(PathBuf::from("/opt/hsm lib/p11.so")),
            pin_source: Some(PathBuf::from("/run/pin&x")),
            ..Pkcs11Uri::default()
        };
        let text = uri.to_string();
        assert_eq!(
            text,
            "pkcs11:token=office%3B%20100%25%20ours%3F%3D%26;object=cl%C3%A9/2026;id=%00%FF%3B;slot-id=7?module-path=/opt/hsm%20lib/p11.so&pin-source=file:/run/pin%26x"
        );
        assert_eq!(parse(&text).unwrap(), uri);
        assert_eq!(
            uri.key_only().to_string(),
            "pkcs11:token=office%3B%20100%25%20ours%3F%3D%26;object=cl%C3%A9/2026;id=%00%FF%3B;slot-id=7"
        );
        // Lower-case hex digits decode too; file:/// is file:/.
        let uri = parse("pkcs11:object=a%2fb?pin-source=file:///etc/pin").unwrap();
        assert_eq!(uri.object(), Some("a/b"));
        assert_eq!(uri.pin_source(), Some(Path::new("/etc/pin")));
    }

    #[test]
    fn refuses_a_pin_in_the_uri() {
        assert_eq!(
            parse("pkcs11:token=a;pin-value=1234"),
            Err(UriError::PinInUri)
        );
        assert_eq!(
            parse("pkcs11:token=a?pin-value=1234"),
            Err(UriError::PinInUri)
        );
        // The error never carries the value.
        let err = "pkcs11:token=a?pin-value=secret-1234"
            .parse::<Pkcs11Uri>()
            .unwrap_err();
        assert!(!err.to_string().contains("secret-1234"), "{err}");
        assert!(!format!("{err:?}").contains("secret-1234"));
    }

    #[test]
    fn refuses_malformed_uris() {
        assert_eq!(parse("pkcs12:token=a"), Err(UriError::NotPkcs11));
        assert_eq!(parse("token=a"), Err(UriError::NotPkcs11));
        assert_eq!(parse("pkcs1"), Err(UriError::NotPkcs11));
        assert_eq!(parse("pkcs11:token"), Err(UriError::NoValue));
        assert_eq!(parse("pkcs11:token=a?module-path"), Err(UriError::NoValue));
        assert_eq!(
            parse("pkcs11:token=a%2"),
            Err(UriError::BadPercent { attribute: "token" })
        );
        assert_eq!(
            parse("pkcs11:token=a%"),
            Err(UriError::BadPercent { attribute: "token" })
        );
        assert_eq!(
            parse("pkcs11:token=a%zz"),
            Err(UriError::BadPercent { attribute: "token" })
        );
        assert_eq!(
            parse("pkcs11:token=%C3%28"),
            Err(UriError::NotUtf8 { attribute: "token" })
        );
        assert_eq!(
            parse("pkcs11:token=a;token=b"),
            Err(UriError::Duplicate { attribute: "token" })
        );
        assert_eq!(
            parse("pkcs11:token=a;slot-description=b"),
            Err(UriError::Unsupported)
        );
        assert_eq!(
            parse("pkcs11:token=a;x-vendor=b"),
            Err(UriError::Unsupported)
        );
        assert_eq!(
            parse("pkcs11:token=a?module-name=softhsm2"),
            Err(UriError::Unsupported)
        );
        assert_eq!(parse("pkcs11:type=key"), Err(UriError::BadType));
        assert_eq!(parse("pkcs11:slot-id=-1"), Err(UriError::BadSlotId));
        assert_eq!(parse("pkcs11:slot-id="), Err(UriError::BadSlotId));
        assert_eq!(
            parse("pkcs11:slot-id=99999999999999999999999"),
            Err(UriError::BadSlotId)
        );
        assert_eq!(
            parse("pkcs11:token=a?pin-source=|/bin/cat"),
            Err(UriError::PinSourceNotFile)
        );
        assert_eq!(
            parse("pkcs11:token=a?pin-source=file:"),
            Err(UriError::PinSourceNotFile)
        );
        let long = format!("pkcs11:token={}", "a".repeat(MAX_PKCS11_URI_LEN));
        assert!(matches!(parse(&long), Err(UriError::TooLong { .. })));
        // Never panics on a multi-byte character where the scheme would end.
        assert_eq!(parse("pkcs1é:x"), Err(UriError::NotPkcs11));
    }
}
