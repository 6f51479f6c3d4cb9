//! The wire format: the only module that knows how objects become bytes.
//!
//! One fixed bincode 2 configuration: big-endian, fixed-width integers, and a decode
//! limit per object so that no length prefix can make the decoder allocate more than
//! the object may hold. Text is length-prefixed (u64) UTF-8; `Option` is a 0/1 tag;
//! enums are single tag bytes written by hand here, so the layout below is the whole
//! format.
//!
//! # Credential
//!
//! ```text
//! version: u8 (= FORMAT_VERSION)
//! signature: [u8; 64]       Ed25519 over CREDENTIAL_DOMAIN || version || claims
//! claims:
//!   serial [u8;16], kind u8, pay_number str, name str, rank str, unit str,
//!   photo [u8;32], police_ladder u8, police_level u8, national u8 (0 = none),
//!   issuer str, key_id [u8;8], status_index u32, print_batch u32,
//!   issued_at u64, not_before u64, not_after u64,
//!   card_key Option<[u8;32]>, supersedes Option<[u8;16]>
//! ```
//!
//! Decoding checks, in order: size limit, version, truncation, trailing bytes, field
//! limits. The signature covers the exact bytes received, never a re-encoding.
//!
//! # Domain separation
//!
//! Every signed message starts with a fixed domain string naming the object and the
//! format version (`revocard/v1/<object>` and a NUL). A signature over one kind of
//! object can therefore never verify as another.

use bincode::config::{self, Config};
use bincode::{Decode, Encode};

use crate::error::{DecodeError, WireObject};
use crate::model::{
    CardPublicKey, Claims, Field, Holder, IssuerId, KeyId, Kind, PhotoDigest, PrintBatchId, Serial,
    StatusIndex, UnixTime, Validity,
};
use crate::vetting::{ForceVetting, NationalSecurity, Nppv, PoliceVetting, Vetting};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;

/// Largest encoded credential, in bytes. The largest legal claims encode to about 600
/// bytes; the rest is headroom for later optional fields.
pub const MAX_CREDENTIAL_BYTES: usize = 1024;

/// Largest text form of a credential: base64url of [`MAX_CREDENTIAL_BYTES`].
pub const MAX_CREDENTIAL_TEXT_LEN: usize = MAX_CREDENTIAL_BYTES.div_ceil(3) * 4;

/// Largest encoded trust anchor, in bytes.
pub const MAX_TRUST_ANCHOR_BYTES: usize = 256;

/// Domain prefix of a credential signature.
pub const CREDENTIAL_DOMAIN: &[u8] = b"revocard/v1/credential\0";

/// Length of an Ed25519 signature.
const SIGNATURE_LEN: usize = 64;

/// Offset of the claims in an encoded credential.
const CLAIMS_OFFSET: usize = 1 + SIGNATURE_LEN;

fn config<const LIMIT: usize>() -> impl Config {
    config::standard()
        .with_big_endian()
        .with_fixed_int_encoding()
        .with_limit::<LIMIT>()
}

#[derive(Encode, Decode)]
struct WireClaims {
    serial: [u8; 16],
    kind: u8,
    pay_number: String,
    name: String,
    rank: String,
    unit: String,
    photo: [u8; 32],
    police_ladder: u8,
    police_level: u8,
    national: u8,
    issuer: String,
    key_id: [u8; 8],
    status_index: u32,
    print_batch: u32,
    issued_at: u64,
    not_before: u64,
    not_after: u64,
    card_key: Option<[u8; 32]>,
    supersedes: Option<[u8; 16]>,
}

impl From<&Claims> for WireClaims {
    fn from(c: &Claims) -> Self {
        let (police_ladder, police_level) = match c.vetting.police {
            PoliceVetting::Force(ForceVetting::Recruitment) => (0, 0),
            PoliceVetting::Force(ForceVetting::Management) => (0, 1),
            PoliceVetting::NonPolice(Nppv::Level1) => (1, 0),
            PoliceVetting::NonPolice(Nppv::Level2Abbreviated) => (1, 1),
            PoliceVetting::NonPolice(Nppv::Level2) => (1, 2),
            PoliceVetting::NonPolice(Nppv::Level3) => (1, 3),
        };
        let national = match c.vetting.national {
            None => 0,
            Some(NationalSecurity::Ctc) => 1,
            Some(NationalSecurity::Sc) => 2,
            Some(NationalSecurity::Esc) => 3,
            Some(NationalSecurity::Dv) => 4,
        };
        Self {
            serial: c.serial.0,
            kind: match c.kind {
                Kind::WarrantCard => 0,
                Kind::StaffPass => 1,
            },
            pay_number: c.holder.pay_number().to_owned(),
            name: c.holder.name().to_owned(),
            rank: c.holder.rank().to_owned(),
            unit: c.holder.unit().to_owned(),
            photo: c.holder.photo().0,
            police_ladder,
            police_level,
            national,
            issuer: c.issuer.as_str().to_owned(),
            key_id: c.key_id.0,
            status_index: c.status_index.0,
            print_batch: c.print_batch.0,
            issued_at: c.issued_at.0,
            not_before: c.validity.not_before.0,
            not_after: c.validity.not_after.0,
            card_key: c.card_key.map(|k| k.0),
            supersedes: c.supersedes.map(|s| s.0),
        }
    }
}

impl WireClaims {
    fn into_claims(self) -> Result<Claims, DecodeError> {
        const OBJ: WireObject = WireObject::Credential;
        let malformed = DecodeError::Malformed { object: OBJ };
        let kind = match self.kind {
            0 => Kind::WarrantCard,
            1 => Kind::StaffPass,
            _ => return Err(malformed),
        };
        let police = match (self.police_ladder, self.police_level) {
            (0, 0) => PoliceVetting::Force(ForceVetting::Recruitment),
            (0, 1) => PoliceVetting::Force(ForceVetting::Management),
            (1, 0) => PoliceVetting::NonPolice(Nppv::Level1),
            (1, 1) => PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
            (1, 2) => PoliceVetting::NonPolice(Nppv::Level2),
            (1, 3) => PoliceVetting::NonPolice(Nppv::Level3),
            _ => return Err(malformed),
        };
        let national = match self.national {
            0 => None,
            1 => Some(NationalSecurity::Ctc),
            2 => Some(NationalSecurity::Sc),
            3 => Some(NationalSecurity::Esc),
            4 => Some(NationalSecurity::Dv),
            _ => return Err(malformed),
        };
        let field = |e| DecodeError::from_field(OBJ, e);
        let holder = Holder::new(
            self.pay_number,
            self.name,
            self.rank,
            self.unit,
            PhotoDigest(self.photo),
        )
        .map_err(field)?;
        let issuer = IssuerId::new(self.issuer).map_err(field)?;
        let validity =
            Validity::new(UnixTime(self.not_before), UnixTime(self.not_after)).map_err(field)?;
        Ok(Claims {
            serial: Serial(self.serial),
            kind,
            holder,
            vetting: Vetting::new(police, national),
            issuer,
            key_id: KeyId(self.key_id),
            status_index: StatusIndex(self.status_index),
            print_batch: PrintBatchId(self.print_batch),
            issued_at: UnixTime(self.issued_at),
            validity,
            card_key: self.card_key.map(CardPublicKey),
            supersedes: self.supersedes.map(Serial),
        })
    }
}

fn map_bincode(
    object: WireObject,
    len: usize,
    max: usize,
    err: &bincode::error::DecodeError,
) -> DecodeError {
    use bincode::error::DecodeError as B;
    match err {
        B::UnexpectedEnd { .. } => DecodeError::Truncated { object },
        B::LimitExceeded => DecodeError::TooLarge { object, len, max },
        _ => DecodeError::Malformed { object },
    }
}

/// Encodes claims to the bytes that, behind the version byte, are signed.
pub(crate) fn encode_claims(claims: &Claims) -> Vec<u8> {
    // Encoding into a Vec cannot fail: the writer is infallible and no field type refuses.
    bincode::encode_to_vec(WireClaims::from(claims), config::<MAX_CREDENTIAL_BYTES>())
        .unwrap_or_default()
}

/// The exact message a signature covers: `domain || version || body`.
pub(crate) fn signed_message(domain: &[u8], body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(domain.len() + 1 + body.len());
    msg.extend_from_slice(domain);
    msg.push(FORMAT_VERSION);
    msg.extend_from_slice(body);
    msg
}

/// Assembles an encoded credential from its signature and encoded claims.
pub(crate) fn assemble_credential(signature: &[u8; SIGNATURE_LEN], claims_body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(CLAIMS_OFFSET + claims_body.len());
    bytes.push(FORMAT_VERSION);
    bytes.extend_from_slice(signature);
    bytes.extend_from_slice(claims_body);
    bytes
}

/// A credential decoded but not yet checked.
pub(crate) struct ParsedCredential<'a> {
    pub(crate) claims: Claims,
    pub(crate) signature: [u8; SIGNATURE_LEN],
    /// The claims bytes exactly as received (what the signature covers after the domain and version).
    pub(crate) body: &'a [u8],
}

/// Splits off and checks the version byte, then the fixed-size signature.
fn split_header(
    object: WireObject,
    bytes: &[u8],
    max: usize,
) -> Result<([u8; SIGNATURE_LEN], &[u8]), DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            object,
            len: bytes.len(),
            max,
        });
    }
    let (&version, rest) = bytes
        .split_first()
        .ok_or(DecodeError::Truncated { object })?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion {
            object,
            version,
            supported: FORMAT_VERSION,
        });
    }
    let (sig, body) = rest
        .split_first_chunk::<SIGNATURE_LEN>()
        .ok_or(DecodeError::Truncated { object })?;
    Ok((*sig, body))
}

/// Decodes credential bytes into unchecked claims.
pub(crate) fn decode_credential(bytes: &[u8]) -> Result<ParsedCredential<'_>, DecodeError> {
    const OBJ: WireObject = WireObject::Credential;
    let (signature, body) = split_header(OBJ, bytes, MAX_CREDENTIAL_BYTES)?;
    let (wire, read): (WireClaims, usize) =
        bincode::decode_from_slice(body, config::<MAX_CREDENTIAL_BYTES>())
            .map_err(|e| map_bincode(OBJ, bytes.len(), MAX_CREDENTIAL_BYTES, &e))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes {
            object: OBJ,
            decoded: CLAIMS_OFFSET + read,
            remaining: body.len().saturating_sub(read),
        });
    }
    Ok(ParsedCredential {
        claims: wire.into_claims()?,
        signature,
        body,
    })
}

/// The text form: base64url without padding.
pub(crate) fn to_text(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes the text form to bytes (not yet a credential).
pub(crate) fn from_text(text: &str) -> Result<Vec<u8>, DecodeError> {
    use base64::Engine as _;
    if text.len() > MAX_CREDENTIAL_TEXT_LEN {
        return Err(DecodeError::TooLarge {
            object: WireObject::CredentialText,
            len: text.len(),
            max: MAX_CREDENTIAL_TEXT_LEN,
        });
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| DecodeError::NotBase64)
}

#[derive(Encode, Decode)]
struct WireTrustAnchor {
    version: u8,
    issuer: String,
    key_id: [u8; 8],
    public_key: [u8; 32],
    not_before: u64,
    not_after: u64,
}

/// The fields of a published issuer public key, undecoded.
pub(crate) struct AnchorFields {
    pub(crate) issuer: IssuerId,
    pub(crate) key_id: KeyId,
    pub(crate) public_key: [u8; 32],
    pub(crate) validity: Validity,
}

/// Encodes a trust anchor (unsigned: it is distributed out of band, like a root certificate).
pub(crate) fn encode_trust_anchor(a: &AnchorFields) -> Vec<u8> {
    let wire = WireTrustAnchor {
        version: FORMAT_VERSION,
        issuer: a.issuer.as_str().to_owned(),
        key_id: a.key_id.0,
        public_key: a.public_key,
        not_before: a.validity.not_before.0,
        not_after: a.validity.not_after.0,
    };
    bincode::encode_to_vec(wire, config::<MAX_TRUST_ANCHOR_BYTES>()).unwrap_or_default()
}

/// Decodes a trust anchor; the caller checks the key itself.
pub(crate) fn decode_trust_anchor(bytes: &[u8]) -> Result<AnchorFields, DecodeError> {
    const OBJ: WireObject = WireObject::TrustAnchor;
    if bytes.len() > MAX_TRUST_ANCHOR_BYTES {
        return Err(DecodeError::TooLarge {
            object: OBJ,
            len: bytes.len(),
            max: MAX_TRUST_ANCHOR_BYTES,
        });
    }
    if let Some(&version) = bytes.first() {
        if version != FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion {
                object: OBJ,
                version,
                supported: FORMAT_VERSION,
            });
        }
    }
    let (wire, read): (WireTrustAnchor, usize) =
        bincode::decode_from_slice(bytes, config::<MAX_TRUST_ANCHOR_BYTES>())
            .map_err(|e| map_bincode(OBJ, bytes.len(), MAX_TRUST_ANCHOR_BYTES, &e))?;
    if read != bytes.len() {
        return Err(DecodeError::TrailingBytes {
            object: OBJ,
            decoded: read,
            remaining: bytes.len() - read,
        });
    }
    let field = |e| DecodeError::from_field(OBJ, e);
    Ok(AnchorFields {
        issuer: IssuerId::new(wire.issuer).map_err(field)?,
        key_id: KeyId(wire.key_id),
        public_key: wire.public_key,
        validity: Validity::new(UnixTime(wire.not_before), UnixTime(wire.not_after)).map_err(
            |_| DecodeError::InvalidField {
                object: OBJ,
                field: Field::Validity,
            },
        )?,
    })
}
