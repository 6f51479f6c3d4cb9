//! The wire format: the only module that knows how objects become bytes.
//!
//! Credentials, anchors, key sets, challenges and responses use one fixed bincode 2
//! configuration: big-endian, fixed-width integers, and a decode limit per object so
//! that no length prefix can make the decoder allocate more than the object may hold.
//! Text is length-prefixed (u64) UTF-8; `Option` is a 0/1 tag; enums are single tag
//! bytes written by hand here, so the layouts below are the whole format. Lists and
//! deltas (format 3, the objects sent to every door on every change) use the compact
//! header encoding of [`compact`]: minimal varints, written and read by hand.
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

use crate::prelude::*;
use bincode::config::{self, Config};
use bincode::{Decode, Encode};
use sha2::Digest as _;

mod challenge;
mod codec;
mod compact;
mod error;
mod state;

pub use challenge::Challenge;
pub(crate) use challenge::credential_digest;
pub use codec::CodecError;
pub(crate) use codec::{decode_index_set, encode_index_set};
pub use error::{DecodeError, WireObject};
pub(crate) use state::{
    KeyRecord, ListRecord, RootRecord, StateDecodeError, StateRecord, decode_state, encode_state,
};
pub use state::{
    MAX_STATE_BYTES, MAX_STATE_ENTRIES, MAX_STATE_LISTS, StatePart, VERIFIER_STATE_DOMAIN,
    VERIFIER_STATE_FORMAT_VERSION,
};

use crate::model::{
    AuditHead, CardPublicKey, Claims, Field, Holder, IssuerId, KeyId, KeyUsage, Kind, PhotoDigest,
    PrintBatchId, Serial, StatusIndex, UnixTime, Validity,
};
use crate::model::{
    ForceVetting, MAX_SCOPE_ENTRIES, NationalSecurity, Nppv, PoliceVetting, RevocationReason,
    Scope, ScopeEntry, Vetting,
};
use codec as status_codec;

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

/// Offset of the body (claims, list or delta) in an encoded signed object.
const BODY_OFFSET: usize = 1 + SIGNATURE_LEN;

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
    _len: usize,
    _max: usize,
    err: &bincode::error::DecodeError,
) -> DecodeError {
    use bincode::error::DecodeError as B;
    match err {
        B::UnexpectedEnd { .. } => DecodeError::Truncated { object },
        // Inputs over the limit are refused before decoding, so the limit is only ever
        // exceeded by a length prefix claiming more bytes than the input holds: the
        // input ends before the object it announces (not `TooLarge`, which would report
        // an input length below the limit as over it).
        B::LimitExceeded => DecodeError::Truncated { object },
        _ => DecodeError::Malformed { object },
    }
}

impl Claims {
    /// The canonical encoding of these claims: what a signature covers after the
    /// domain prefix and the version byte. Useful to sign elsewhere (an HSM).
    #[must_use]
    pub fn to_be_signed(&self) -> Vec<u8> {
        encode_claims(self)
    }
}

/// Encodes claims to the bytes that, behind the version byte, are signed.
pub(crate) fn encode_claims(claims: &Claims) -> Vec<u8> {
    // Encoding into a Vec cannot fail: the writer is infallible and no field type refuses.
    bincode::encode_to_vec(WireClaims::from(claims), config::<MAX_CREDENTIAL_BYTES>())
        .unwrap_or_default()
}

/// The exact message a signature covers: `domain || version || body`.
pub(crate) fn signed_message(domain: &[u8], version: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(domain.len() + 1 + body.len());
    msg.extend_from_slice(domain);
    msg.push(version);
    msg.extend_from_slice(body);
    msg
}

/// Assembles a signed object (credential, list, delta, key set): `version | signature | body`.
pub(crate) fn assemble_signed(
    version: u8,
    signature: &[u8; SIGNATURE_LEN],
    body: &[u8],
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(BODY_OFFSET + body.len());
    bytes.push(version);
    bytes.extend_from_slice(signature);
    bytes.extend_from_slice(body);
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
    supported: u8,
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
    if version != supported {
        return Err(DecodeError::UnknownVersion {
            object,
            version,
            supported,
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
    let (signature, body) = split_header(OBJ, bytes, MAX_CREDENTIAL_BYTES, FORMAT_VERSION)?;
    let (wire, read): (WireClaims, usize) =
        bincode::decode_from_slice(body, config::<MAX_CREDENTIAL_BYTES>())
            .map_err(|e| map_bincode(OBJ, bytes.len(), MAX_CREDENTIAL_BYTES, &e))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes {
            object: OBJ,
            decoded: BODY_OFFSET + read,
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

/// The body both anchor formats share, after their prefix.
#[derive(Encode, Decode)]
struct WireAnchorBody {
    issuer: String,
    key_id: [u8; 8],
    public_key: [u8; 32],
    not_before: u64,
    not_after: u64,
}

/// The fields of a published public key (a signing key's or a root's), undecoded.
pub(crate) struct AnchorFields {
    pub(crate) issuer: IssuerId,
    pub(crate) key_id: KeyId,
    pub(crate) public_key: [u8; 32],
    pub(crate) validity: Validity,
}

/// Encodes an anchor: `prefix` (its version, and for a root its kind), then the body.
fn encode_anchor<const LIMIT: usize>(prefix: &[u8], a: &AnchorFields) -> Vec<u8> {
    let body = WireAnchorBody {
        issuer: a.issuer.as_str().to_owned(),
        key_id: a.key_id.0,
        public_key: a.public_key,
        not_before: a.validity.not_before.0,
        not_after: a.validity.not_after.0,
    };
    let mut out = prefix.to_vec();
    out.extend_from_slice(&bincode::encode_to_vec(body, config::<LIMIT>()).unwrap_or_default());
    out
}

/// Decodes an anchor whose first byte is its version and whose next bytes must be the
/// rest of `prefix`; the caller checks the key itself.
fn decode_anchor<const LIMIT: usize>(
    object: WireObject,
    bytes: &[u8],
    prefix: &[u8],
) -> Result<AnchorFields, DecodeError> {
    if bytes.len() > LIMIT {
        return Err(DecodeError::TooLarge {
            object,
            len: bytes.len(),
            max: LIMIT,
        });
    }
    if let (Some(&version), Some(&supported)) = (bytes.first(), prefix.first())
        && version != supported
    {
        return Err(DecodeError::UnknownVersion {
            object,
            version,
            supported,
        });
    }
    let body = match bytes.split_at_checked(prefix.len()) {
        Some((head, body)) if head == prefix => body,
        Some(_) => return Err(DecodeError::Malformed { object }),
        None => return Err(DecodeError::Truncated { object }),
    };
    let (wire, read): (WireAnchorBody, usize) = bincode::decode_from_slice(body, config::<LIMIT>())
        .map_err(|e| map_bincode(object, bytes.len(), LIMIT, &e))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes {
            object,
            decoded: prefix.len() + read,
            remaining: body.len() - read,
        });
    }
    let field = |e| DecodeError::from_field(object, e);
    Ok(AnchorFields {
        issuer: IssuerId::new(wire.issuer).map_err(field)?,
        key_id: KeyId(wire.key_id),
        public_key: wire.public_key,
        validity: Validity::new(UnixTime(wire.not_before), UnixTime(wire.not_after))
            .map_err(field)?,
    })
}

/// Encodes a signing key's anchor (unsigned: it is distributed out of band, like a
/// root certificate): `version (= FORMAT_VERSION) | body`.
pub(crate) fn encode_trust_anchor(a: &AnchorFields) -> Vec<u8> {
    encode_anchor::<MAX_TRUST_ANCHOR_BYTES>(&[FORMAT_VERSION], a)
}

/// Decodes a signing key's anchor; the caller checks the key itself.
pub(crate) fn decode_trust_anchor(bytes: &[u8]) -> Result<AnchorFields, DecodeError> {
    decode_anchor::<MAX_TRUST_ANCHOR_BYTES>(WireObject::TrustAnchor, bytes, &[FORMAT_VERSION])
}

// ---------------------------------------------------------------------------
// Root anchors and key sets (the root of trust)
// ---------------------------------------------------------------------------
//
// Root anchor (unsigned; installed once at a door, like a root certificate):
//   version u8 (= 1) | kind u8 (= b'R') | issuer str | key_id [8] | public_key [32]
//   | not_before u64 | not_after u64
// The kind byte makes a root anchor and a signing key's anchor fail to decode as each
// other: a door cannot be configured with a signing key as its root by mistake.
//
// Key set (signed by the root): version u8 (= KEY_SET_FORMAT_VERSION) | signature [64] | body
//   body: issuer str, root_key_id [8], sequence u64, issued_at u64, entries bytes
//   entry, 67 bytes: key_id [8], public_key [32], usage u8 (1 credentials, 2 lists,
//     3 both), not_before u64, not_after u64, revoked u8 (0 or 1), revoked_at u64,
//     reason u8 (both zero when not revoked)
// Entries are sorted by key id, each id once: one encoding per set.

/// Domain prefix of a key set signature (made by an issuer's root key).
pub const KEY_SET_DOMAIN: &[u8] = b"revocard/v1/key-set\0";
/// Format version of key sets.
pub const KEY_SET_FORMAT_VERSION: u8 = 1;
/// Format version of root anchors.
pub const ROOT_ANCHOR_FORMAT_VERSION: u8 = 1;
/// Most signing keys one key set names: a key a fortnight for two years, with room.
/// A key whose window has ended can be left out of later sets.
pub const MAX_KEY_SET_ENTRIES: usize = 64;
const KEY_ENTRY_LEN: usize = 67;
/// Largest encoded key set: header, issuer and every entry.
pub const MAX_KEY_SET_BYTES: usize = BODY_OFFSET
    + 8
    + crate::model::MAX_ISSUER_ID_LEN
    + 8
    + 8
    + 8
    + 8
    + MAX_KEY_SET_ENTRIES * KEY_ENTRY_LEN;
/// Largest encoded root anchor.
pub const MAX_ROOT_ANCHOR_BYTES: usize = 256;
const ROOT_ANCHOR_KIND: u8 = b'R';

/// Encodes a root anchor: `version | kind | body`.
pub(crate) fn encode_root_anchor(a: &AnchorFields) -> Vec<u8> {
    encode_anchor::<MAX_ROOT_ANCHOR_BYTES>(&[ROOT_ANCHOR_FORMAT_VERSION, ROOT_ANCHOR_KIND], a)
}

/// Decodes a root anchor; the caller checks the key itself.
pub(crate) fn decode_root_anchor(bytes: &[u8]) -> Result<AnchorFields, DecodeError> {
    decode_anchor::<MAX_ROOT_ANCHOR_BYTES>(
        WireObject::RootAnchor,
        bytes,
        &[ROOT_ANCHOR_FORMAT_VERSION, ROOT_ANCHOR_KIND],
    )
}

#[derive(Encode, bincode::BorrowDecode)]
struct WireKeySet<'a> {
    issuer: &'a str,
    root_key_id: [u8; 8],
    sequence: u64,
    issued_at: u64,
    entries: &'a [u8],
}

/// One signing key as a key set names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyEntryFields {
    pub(crate) key_id: KeyId,
    pub(crate) public_key: [u8; 32],
    pub(crate) usage: KeyUsage,
    pub(crate) validity: Validity,
    pub(crate) revoked: Option<(UnixTime, RevocationReason)>,
}

/// The fields of a key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeySetFields {
    pub(crate) issuer: IssuerId,
    pub(crate) root_key_id: KeyId,
    pub(crate) sequence: u64,
    pub(crate) issued_at: UnixTime,
    /// Sorted by key id, each once.
    pub(crate) entries: Vec<KeyEntryFields>,
}

/// A decoded key set, signature not yet checked.
pub(crate) struct ParsedKeySet<'a> {
    pub(crate) fields: KeySetFields,
    pub(crate) signature: [u8; SIGNATURE_LEN],
    pub(crate) body: &'a [u8],
}

fn usage_code(usage: KeyUsage) -> u8 {
    match usage {
        KeyUsage::Credentials => 1,
        KeyUsage::Lists => 2,
        KeyUsage::CredentialsAndLists => 3,
    }
}

/// Encodes a key set body (to be signed by the root). Entries must be sorted by key
/// id and unique (the caller, `KeySetDraft`, keeps them so).
pub(crate) fn encode_key_set(set: &KeySetFields) -> Vec<u8> {
    let mut entries = Vec::with_capacity(set.entries.len() * KEY_ENTRY_LEN);
    for e in &set.entries {
        entries.extend_from_slice(&e.key_id.0);
        entries.extend_from_slice(&e.public_key);
        entries.push(usage_code(e.usage));
        entries.extend_from_slice(&e.validity.not_before.0.to_be_bytes());
        entries.extend_from_slice(&e.validity.not_after.0.to_be_bytes());
        let (flag, at, reason) = match e.revoked {
            None => (0u8, 0u64, 0u8),
            Some((at, reason)) => (1, at.0, reason.code()),
        };
        entries.push(flag);
        entries.extend_from_slice(&at.to_be_bytes());
        entries.push(reason);
    }
    let wire = WireKeySet {
        issuer: set.issuer.as_str(),
        root_key_id: set.root_key_id.0,
        sequence: set.sequence,
        issued_at: set.issued_at.0,
        entries: &entries,
    };
    bincode::encode_to_vec(wire, config::<MAX_KEY_SET_BYTES>()).unwrap_or_default()
}

/// Decodes a signed key set (signature not checked here).
pub(crate) fn decode_key_set(bytes: &[u8]) -> Result<ParsedKeySet<'_>, DecodeError> {
    const OBJ: WireObject = WireObject::KeySet;
    let (signature, body) = split_header(OBJ, bytes, MAX_KEY_SET_BYTES, KEY_SET_FORMAT_VERSION)?;
    let wire: WireKeySet<'_> = decode_borrowed::<_, MAX_KEY_SET_BYTES>(OBJ, bytes, body)?;
    let malformed = DecodeError::Malformed { object: OBJ };
    let (records, rest) = wire.entries.as_chunks::<KEY_ENTRY_LEN>();
    if !rest.is_empty() {
        return Err(malformed);
    }
    if records.len() > MAX_KEY_SET_ENTRIES {
        return Err(DecodeError::TooManyKeys {
            count: records.len(),
            max: MAX_KEY_SET_ENTRIES,
        });
    }
    let mut entries: Vec<KeyEntryFields> = Vec::with_capacity(records.len());
    for record in records {
        let mut r = Reader(record);
        let key_id = KeyId(r.array().ok_or(malformed.clone())?);
        let public_key = r.array().ok_or(malformed.clone())?;
        let usage = match r.byte() {
            Some(1) => KeyUsage::Credentials,
            Some(2) => KeyUsage::Lists,
            Some(3) => KeyUsage::CredentialsAndLists,
            _ => return Err(malformed),
        };
        let not_before = UnixTime(r.u64().ok_or(malformed.clone())?);
        let not_after = UnixTime(r.u64().ok_or(malformed.clone())?);
        let validity =
            Validity::new(not_before, not_after).map_err(|e| DecodeError::from_field(OBJ, e))?;
        let revoked = match (r.byte(), r.u64(), r.byte()) {
            (Some(0), Some(0), Some(0)) => None,
            (Some(1), Some(at), Some(reason)) => Some((
                UnixTime(at),
                RevocationReason::from_code(reason).ok_or(malformed.clone())?,
            )),
            _ => return Err(malformed),
        };
        // Sorted and unique: one encoding per set, and no key named twice.
        if entries.last().is_some_and(|last| last.key_id.0 >= key_id.0) {
            return Err(malformed);
        }
        entries.push(KeyEntryFields {
            key_id,
            public_key,
            usage,
            validity,
            revoked,
        });
    }
    Ok(ParsedKeySet {
        fields: KeySetFields {
            issuer: IssuerId::new(wire.issuer).map_err(|e| DecodeError::from_field(OBJ, e))?,
            root_key_id: KeyId(wire.root_key_id),
            sequence: wire.sequence,
            issued_at: UnixTime(wire.issued_at),
            entries,
        },
        signature,
        body,
    })
}

/// Reads fixed-size big-endian fields from a record whose length was checked.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn byte(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }
    fn u64(&mut self) -> Option<u64> {
        self.array::<8>().map(u64::from_be_bytes)
    }
}

// ---------------------------------------------------------------------------
// Revocation lists and deltas
// ---------------------------------------------------------------------------
//
// Format 3 (`compact`: every integer a minimal LEB128 varint, `bytes` a varint length
// and that many bytes, `str` the same holding UTF-8):
//
// List:  version u8 (= LIST_FORMAT_VERSION) | signature [64] | body
//   body: issuer str, key_id [8], sequence varint, issued_at varint,
//         next_update - issued_at varint, capacity varint, state [32],
//         audit_entries varint, audit_hash [32], present u8, then for each bit of
//         `present` set, in this order: scopes (bit 0), revoked bytes (bit 1),
//         suspended bytes (bit 2)
// Delta: version u8 (= LIST_FORMAT_VERSION) | signature [64] | body
//   body: issuer str, key_id [8], from_sequence varint, to_sequence - from_sequence
//         varint (>= 1), issued_at varint, next_update - issued_at varint, capacity
//         varint, base_hint [4], present u8, then scopes (bit 0), revoked bytes
//         (bit 1), suspended bytes (bit 2), reinstated bytes (bit 3)
//
// `present` names the non-empty parts; any other bit set is malformed, and a part
// marked present must not be empty (one encoding per object). Scopes are a varint
// count (1..=MAX_SCOPE_ENTRIES) and that many records: tag u8 (0 print batch, 1
// issuer key, 2 issued before), value (batch id varint, key id [8], or unix seconds
// varint), reason u8, since varint. A status set is the `status_codec` encoding of
// sorted indexes below `capacity`, never the empty set's.
//
// `state` names the list's content through its history. A delta's signature covers
// `DELTA_DOMAIN || version || base_state || body`, where `base_state` is the state
// of the list it applies to: the state is not sent, the verifier supplies the state
// of the list it holds, so a delta made from another branch never verifies. (The
// 4-byte `base_hint`, the state's first bytes, only lets a verifier name a branch
// rather than a bad signature; nothing relies on it.) The state after a delta is
// SHA-256(STATE_DOMAIN || 1 || base_state || delta body). The first list of an
// issuer takes SHA-256(STATE_DOMAIN || 0 || its body with a zero state). A verifier
// that applies a delta computes the same state the issuer wrote into the full list of
// that sequence. `audit_*` is the issuer's audit log head when the list was signed:
// a list in anyone's hands pins the log up to that entry.

/// Domain prefix of a revocation list signature.
pub const LIST_DOMAIN: &[u8] = b"revocard/v3/status-list\0";
/// Domain prefix of a revocation delta signature.
pub const DELTA_DOMAIN: &[u8] = b"revocard/v3/status-delta\0";
/// Format version of revocation lists and deltas (3: varint headers; a delta's base
/// state signed, not sent).
pub const LIST_FORMAT_VERSION: u8 = 3;
/// Domain prefix of a list's state digest.
const STATE_DOMAIN: &[u8] = b"revocard/v3/status-state\0";
/// Length of a delta's base hint: the first bytes of the state it applies to.
const BASE_HINT_LEN: usize = 4;

/// Largest encoded revocation list: two bitmaps of [`crate::MAX_LIST_CAPACITY`] bits,
/// every scope entry, and the header, rounded up.
pub const MAX_LIST_BYTES: usize = 2 * (crate::model::MAX_LIST_CAPACITY as usize / 8)
    + crate::model::MAX_SCOPE_ENTRIES * MAX_SCOPE_RECORD_LEN
    + 4096;
/// Largest encoded delta: three bitmaps, every scope entry, the header.
pub const MAX_DELTA_BYTES: usize = 3 * (crate::model::MAX_LIST_CAPACITY as usize / 8)
    + crate::model::MAX_SCOPE_ENTRIES * MAX_SCOPE_RECORD_LEN
    + 4096;

/// Longest scope record: tag, a 10-byte varint, reason, a 10-byte varint.
const MAX_SCOPE_RECORD_LEN: usize = 22;
/// Shortest scope record: tag, a 1-byte varint, reason, a 1-byte varint.
const MIN_SCOPE_RECORD_LEN: usize = 4;

/// Bits of `present`.
const HAS_SCOPES: u8 = 1;
const HAS_REVOKED: u8 = 1 << 1;
const HAS_SUSPENDED: u8 = 1 << 2;
const HAS_REINSTATED: u8 = 1 << 3;
/// The bits of the status sets, in the order they follow the scopes.
const SET_BITS: [u8; 3] = [HAS_REVOKED, HAS_SUSPENDED, HAS_REINSTATED];

/// What lists and deltas share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListHeader {
    pub(crate) issuer: IssuerId,
    pub(crate) key_id: KeyId,
    pub(crate) issued_at: UnixTime,
    pub(crate) next_update: UnixTime,
    pub(crate) capacity: u32,
}

/// The sets a delta carries.
pub(crate) struct DeltaSets<'a> {
    pub(crate) revoked: &'a [u32],
    pub(crate) suspended: &'a [u32],
    pub(crate) reinstated: &'a [u32],
}

/// A decoded list, signature not yet checked.
///
/// The status sets stay encoded until [`ParsedList::decode_sets`]: a verifier checks
/// the signature first, so unsigned input never makes it allocate index sets.
pub(crate) struct ParsedList<'a> {
    pub(crate) header: ListHeader,
    pub(crate) sequence: u64,
    /// The state digest the issuer names for this list.
    pub(crate) state: [u8; 32],
    /// The issuer's audit head when it signed.
    pub(crate) audit: AuditHead,
    pub(crate) scopes: Vec<ScopeEntry>,
    pub(crate) signature: [u8; SIGNATURE_LEN],
    pub(crate) body: &'a [u8],
    /// Encoded sets; empty when absent.
    revoked: &'a [u8],
    suspended: &'a [u8],
}

/// Decoded status sets of a list or delta: sorted, below capacity, pairwise disjoint.
#[derive(Debug, Default)]
pub(crate) struct StatusSets {
    pub(crate) revoked: Vec<u32>,
    pub(crate) suspended: Vec<u32>,
    pub(crate) reinstated: Vec<u32>,
}

impl ParsedList<'_> {
    /// Decodes the status sets (after the signature has been checked).
    pub(crate) fn decode_sets(&self) -> Result<StatusSets, DecodeError> {
        const OBJ: WireObject = WireObject::RevocationList;
        let revoked = decode_set(OBJ, self.revoked, self.header.capacity)?;
        let suspended = decode_set(OBJ, self.suspended, self.header.capacity)?;
        disjoint(OBJ, &revoked, &suspended)?;
        Ok(StatusSets {
            revoked,
            suspended,
            reinstated: Vec::new(),
        })
    }
}

impl ParsedDelta<'_> {
    /// Decodes the status sets (after the signature has been checked).
    pub(crate) fn decode_sets(&self) -> Result<StatusSets, DecodeError> {
        const OBJ: WireObject = WireObject::Delta;
        let capacity = self.header.capacity;
        let revoked = decode_set(OBJ, self.revoked, capacity)?;
        let suspended = decode_set(OBJ, self.suspended, capacity)?;
        let reinstated = decode_set(OBJ, self.reinstated, capacity)?;
        disjoint(OBJ, &revoked, &suspended)?;
        disjoint(OBJ, &revoked, &reinstated)?;
        disjoint(OBJ, &suspended, &reinstated)?;
        Ok(StatusSets {
            revoked,
            suspended,
            reinstated,
        })
    }

    /// Whether this delta names `state` as its base (by its hint: the signature
    /// decides).
    pub(crate) fn hints_at(&self, state: &[u8; 32]) -> bool {
        state.starts_with(&self.base_hint)
    }
}

/// A decoded delta, signature not yet checked (it needs the base state, which only
/// the verifier holding that list knows: [`delta_payload`]).
pub(crate) struct ParsedDelta<'a> {
    pub(crate) header: ListHeader,
    pub(crate) from_sequence: u64,
    pub(crate) to_sequence: u64,
    /// The first bytes of the state of the list this delta applies to.
    base_hint: [u8; BASE_HINT_LEN],
    pub(crate) scopes: Vec<ScopeEntry>,
    pub(crate) signature: [u8; SIGNATURE_LEN],
    pub(crate) body: &'a [u8],
    revoked: &'a [u8],
    suspended: &'a [u8],
    reinstated: &'a [u8],
}

/// What a delta's signature covers after the domain and version: the state of the
/// list it applies to, then its body.
pub(crate) fn delta_payload(base_state: &[u8; 32], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + body.len());
    out.extend_from_slice(base_state);
    out.extend_from_slice(body);
    out
}

fn encode_scopes(w: &mut compact::Writer, scopes: &[ScopeEntry]) {
    w.varint(scopes.len() as u64);
    for entry in scopes {
        match entry.scope {
            Scope::PrintBatch(batch) => {
                w.byte(0);
                w.varint(u64::from(batch.0));
            }
            Scope::IssuerKey(key) => {
                w.byte(1);
                w.array(&key.0);
            }
            Scope::IssuedBefore(time) => {
                w.byte(2);
                w.varint(time.0);
            }
        }
        w.byte(entry.reason.code());
        w.varint(entry.since.0);
    }
}

fn decode_scopes(
    r: &mut compact::Reader<'_>,
    object: WireObject,
) -> Result<Vec<ScopeEntry>, DecodeError> {
    let count = r.varint()?;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count > MAX_SCOPE_ENTRIES {
        return Err(DecodeError::TooManyScopes {
            object,
            count,
            max: MAX_SCOPE_ENTRIES,
        });
    }
    if count == 0 {
        // Absent scopes are a clear bit, never an empty part.
        return Err(r.malformed());
    }
    if count > r.remaining() / MIN_SCOPE_RECORD_LEN {
        return Err(DecodeError::Truncated { object });
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let scope = match r.byte()? {
            0 => Scope::PrintBatch(PrintBatchId(r.varint_u32()?)),
            1 => Scope::IssuerKey(KeyId(r.array()?)),
            2 => Scope::IssuedBefore(UnixTime(r.varint()?)),
            _ => return Err(r.malformed()),
        };
        let reason = RevocationReason::from_code(r.byte()?).ok_or_else(|| r.malformed())?;
        let since = UnixTime(r.varint()?);
        out.push(ScopeEntry {
            scope,
            reason,
            since,
        });
    }
    Ok(out)
}

/// Writes the header fields lists and deltas share after the issuer and key id:
/// `issued_at`, `next_update - issued_at`, `capacity`.
fn encode_times(w: &mut compact::Writer, header: &ListHeader) {
    w.varint(header.issued_at.0);
    // The issuer refuses `next_update < issued_at` (`StatusError::NextUpdateInPast`).
    w.varint(header.next_update.0.saturating_sub(header.issued_at.0));
    w.varint(u64::from(header.capacity));
}

/// Writes `present` and the non-empty parts: scopes, then each set in order.
fn encode_parts(w: &mut compact::Writer, scopes: &[ScopeEntry], sets: &[&[u32]], capacity: u32) {
    let mut present = if scopes.is_empty() { 0 } else { HAS_SCOPES };
    for (bit, set) in SET_BITS.iter().zip(sets) {
        if !set.is_empty() {
            present |= bit;
        }
    }
    w.byte(present);
    if !scopes.is_empty() {
        encode_scopes(w, scopes);
    }
    for set in sets.iter().filter(|s| !s.is_empty()) {
        w.bytes(&status_codec::encode_index_set(set, capacity));
    }
}

/// Encodes a list body (to be signed).
pub(crate) fn encode_list(
    header: &ListHeader,
    sequence: u64,
    state: &[u8; 32],
    audit: AuditHead,
    revoked: &[u32],
    suspended: &[u32],
    scopes: &[ScopeEntry],
) -> Vec<u8> {
    let mut w = compact::Writer::default();
    w.bytes(header.issuer.as_str().as_bytes());
    w.array(&header.key_id.0);
    w.varint(sequence);
    encode_times(&mut w, header);
    w.array(state);
    w.varint(audit.entries);
    w.array(&audit.hash);
    encode_parts(&mut w, scopes, &[revoked, suspended], header.capacity);
    w.finish()
}

/// Encodes a delta body (to be signed, behind its base state: [`delta_payload`]).
/// `to_sequence` must be above `from_sequence` (the issuer's sequence only grows).
pub(crate) fn encode_delta(
    header: &ListHeader,
    from_sequence: u64,
    to_sequence: u64,
    base_state: &[u8; 32],
    sets: &DeltaSets<'_>,
    scopes: &[ScopeEntry],
) -> Vec<u8> {
    let mut w = compact::Writer::default();
    w.bytes(header.issuer.as_str().as_bytes());
    w.array(&header.key_id.0);
    w.varint(from_sequence);
    w.varint(to_sequence.saturating_sub(from_sequence));
    encode_times(&mut w, header);
    w.array(
        base_state
            .first_chunk::<BASE_HINT_LEN>()
            .unwrap_or(&[0; BASE_HINT_LEN]),
    );
    encode_parts(
        &mut w,
        scopes,
        &[sets.revoked, sets.suspended, sets.reinstated],
        header.capacity,
    );
    w.finish()
}

/// Reads issuer and key id, then `sequence` (the caller's), then times and capacity.
fn decode_header_fields(
    r: &mut compact::Reader<'_>,
    object: WireObject,
    issuer: &str,
    key_id: [u8; 8],
) -> Result<ListHeader, DecodeError> {
    use crate::model::{MAX_LIST_CAPACITY, MIN_LIST_CAPACITY};
    let issued_at = r.varint()?;
    let next_update = issued_at
        .checked_add(r.varint()?)
        .ok_or_else(|| r.malformed())?;
    let capacity = r.varint_u32()?;
    if !(MIN_LIST_CAPACITY..=MAX_LIST_CAPACITY).contains(&capacity) {
        return Err(DecodeError::Capacity {
            object,
            capacity,
            min: MIN_LIST_CAPACITY,
            max: MAX_LIST_CAPACITY,
        });
    }
    Ok(ListHeader {
        issuer: IssuerId::new(issuer).map_err(|e| DecodeError::from_field(object, e))?,
        key_id: KeyId(key_id),
        issued_at: UnixTime(issued_at),
        next_update: UnixTime(next_update),
        capacity,
    })
}

/// The parts after `present`: scopes and up to `sets` encoded status sets (empty
/// slices for the absent ones).
struct Parts<'a> {
    scopes: Vec<ScopeEntry>,
    sets: [&'a [u8]; 3],
}

fn decode_parts<'a>(
    r: &mut compact::Reader<'a>,
    object: WireObject,
    sets: usize,
) -> Result<Parts<'a>, DecodeError> {
    let present = r.byte()?;
    let allowed = SET_BITS
        .iter()
        .take(sets)
        .fold(HAS_SCOPES, |bits, bit| bits | bit);
    if present & !allowed != 0 {
        return Err(r.malformed());
    }
    let scopes = if present & HAS_SCOPES != 0 {
        decode_scopes(r, object)?
    } else {
        Vec::new()
    };
    let mut out: [&[u8]; 3] = [&[]; 3];
    for (bit, slot) in SET_BITS.iter().zip(out.iter_mut()).take(sets) {
        if present & bit != 0 {
            let set = r.bytes()?;
            // A present set is not empty, and the empty set's own form is never sent.
            if set.is_empty() || set == [0] {
                return Err(r.malformed());
            }
            *slot = set;
        }
    }
    Ok(Parts { scopes, sets: out })
}

fn decode_set(object: WireObject, bytes: &[u8], capacity: u32) -> Result<Vec<u32>, DecodeError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let set = status_codec::decode_index_set(bytes, capacity)
        .map_err(|source| DecodeError::StatusSet { object, source })?;
    if set.is_empty() {
        // A bitmap of zeros: the empty set is sent as an absent part.
        return Err(DecodeError::Malformed { object });
    }
    Ok(set)
}

/// Refuses an index present in two sorted sets.
fn disjoint(object: WireObject, a: &[u32], b: &[u32]) -> Result<(), DecodeError> {
    let (mut i, mut j) = (a.iter().peekable(), b.iter().peekable());
    while let (Some(&&x), Some(&&y)) = (i.peek(), j.peek()) {
        match x.cmp(&y) {
            core::cmp::Ordering::Less => {
                i.next();
            }
            core::cmp::Ordering::Greater => {
                j.next();
            }
            core::cmp::Ordering::Equal => {
                return Err(DecodeError::OverlappingSets { object, index: x });
            }
        }
    }
    Ok(())
}

fn decode_borrowed<'a, T: bincode::BorrowDecode<'a, ()>, const LIMIT: usize>(
    object: WireObject,
    bytes: &'a [u8],
    body: &'a [u8],
) -> Result<T, DecodeError> {
    let (wire, read): (T, usize) = bincode::borrow_decode_from_slice(body, config::<LIMIT>())
        .map_err(|e| map_bincode(object, bytes.len(), LIMIT, &e))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes {
            object,
            decoded: BODY_OFFSET + read,
            remaining: body.len().saturating_sub(read),
        });
    }
    Ok(wire)
}

/// The state after applying, to the list in state `base_state`, the delta whose
/// signed body is `delta_body`.
pub(crate) fn state_after(base_state: &[u8; 32], delta_body: &[u8]) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(STATE_DOMAIN)
        .chain_update([1u8])
        .chain_update(base_state)
        .chain_update(delta_body)
        .finalize()
        .into()
}

/// The state of an issuer's first list, from its body encoded with a zero state.
pub(crate) fn genesis_state(list_body: &[u8]) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(STATE_DOMAIN)
        .chain_update([0u8])
        .chain_update(list_body)
        .finalize()
        .into()
}

/// Decodes a signed revocation list's header and scopes (signature not checked here;
/// status sets decoded later by [`ParsedList::decode_sets`]).
pub(crate) fn decode_list(bytes: &[u8]) -> Result<ParsedList<'_>, DecodeError> {
    const OBJ: WireObject = WireObject::RevocationList;
    let (signature, body) = split_header(OBJ, bytes, MAX_LIST_BYTES, LIST_FORMAT_VERSION)?;
    let mut r = compact::Reader::new(OBJ, body, BODY_OFFSET);
    let issuer = r.str()?;
    let key_id = r.array()?;
    let sequence = r.varint()?;
    let header = decode_header_fields(&mut r, OBJ, issuer, key_id)?;
    let state = r.array()?;
    let audit = AuditHead {
        entries: r.varint()?,
        hash: r.array()?,
    };
    let parts = decode_parts(&mut r, OBJ, 2)?;
    r.finish()?;
    let [revoked, suspended, _] = parts.sets;
    Ok(ParsedList {
        header,
        sequence,
        state,
        audit,
        scopes: parts.scopes,
        signature,
        body,
        revoked,
        suspended,
    })
}

/// Decodes a signed delta's header and scopes (signature not checked here; status sets
/// decoded later by [`ParsedDelta::decode_sets`]).
pub(crate) fn decode_delta(bytes: &[u8]) -> Result<ParsedDelta<'_>, DecodeError> {
    const OBJ: WireObject = WireObject::Delta;
    let (signature, body) = split_header(OBJ, bytes, MAX_DELTA_BYTES, LIST_FORMAT_VERSION)?;
    let mut r = compact::Reader::new(OBJ, body, BODY_OFFSET);
    let issuer = r.str()?;
    let key_id = r.array()?;
    let from_sequence = r.varint()?;
    let span = r.varint()?;
    let to_sequence = from_sequence
        .checked_add(span)
        .ok_or_else(|| r.malformed())?;
    if span == 0 {
        return Err(DecodeError::DeltaNotForward {
            from: from_sequence,
            to: to_sequence,
        });
    }
    let header = decode_header_fields(&mut r, OBJ, issuer, key_id)?;
    let base_hint = r.array()?;
    let parts = decode_parts(&mut r, OBJ, 3)?;
    r.finish()?;
    let [revoked, suspended, reinstated] = parts.sets;
    Ok(ParsedDelta {
        header,
        from_sequence,
        to_sequence,
        base_hint,
        revoked,
        suspended,
        reinstated,
        scopes: parts.scopes,
        signature,
        body,
    })
}

// ---------------------------------------------------------------------------
// Challenge and response (holder binding)
// ---------------------------------------------------------------------------
//
// Challenge: version u8 | body
//   body: door str, nonce [32], issued_at u64, expires_at u64
// Response:  version u8 | signature [64] | door str, nonce [32]
//
// The card signs CHALLENGE_RESPONSE_DOMAIN || version || challenge body || digest,
// where digest is the SHA-256 of the credential bytes presented with the response.
// A challenge is not signed: the door that issued it remembers it, and a card signs
// only what binds its answer to that door, that nonce, that time and that credential.

/// Domain prefix of a card's signature over a door's challenge.
pub const CHALLENGE_RESPONSE_DOMAIN: &[u8] = b"revocard/v1/challenge-response\0";

/// Length of a challenge nonce, in bytes (256 random bits: never repeats).
pub const CHALLENGE_NONCE_LEN: usize = 32;

/// Largest encoded challenge: version, door id (u64 length prefix and
/// [`crate::door::MAX_DOOR_ID_LEN`] bytes), nonce, two times.
pub const MAX_CHALLENGE_BYTES: usize = 1 + 8 + crate::model::MAX_DOOR_ID_LEN + 32 + 8 + 8;

/// Largest encoded response: version, signature, door id, nonce.
pub const MAX_RESPONSE_BYTES: usize = 1 + SIGNATURE_LEN + 8 + crate::model::MAX_DOOR_ID_LEN + 32;

#[derive(Encode, bincode::BorrowDecode)]
struct WireChallenge<'a> {
    door: &'a str,
    nonce: [u8; CHALLENGE_NONCE_LEN],
    issued_at: u64,
    expires_at: u64,
}

#[derive(Encode, bincode::BorrowDecode)]
struct WireResponse<'a> {
    door: &'a str,
    nonce: [u8; CHALLENGE_NONCE_LEN],
}

/// The fields of a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChallengeFields {
    pub(crate) door: crate::model::DoorId,
    pub(crate) nonce: [u8; CHALLENGE_NONCE_LEN],
    pub(crate) issued_at: UnixTime,
    pub(crate) expires_at: UnixTime,
}

/// A decoded response, signature not yet checked.
pub(crate) struct ParsedResponse {
    pub(crate) door: crate::model::DoorId,
    pub(crate) nonce: [u8; CHALLENGE_NONCE_LEN],
    pub(crate) signature: [u8; SIGNATURE_LEN],
}

/// The challenge body (what follows the version byte), as the card signs it.
pub(crate) fn challenge_body(c: &ChallengeFields) -> Vec<u8> {
    let wire = WireChallenge {
        door: c.door.as_str(),
        nonce: c.nonce,
        issued_at: c.issued_at.0,
        expires_at: c.expires_at.0,
    };
    bincode::encode_to_vec(wire, config::<MAX_CHALLENGE_BYTES>()).unwrap_or_default()
}

/// Encodes a challenge: `version || body`.
pub(crate) fn encode_challenge(c: &ChallengeFields) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    out.extend_from_slice(&challenge_body(c));
    out
}

/// The exact message a card signs in answer to `challenge`, presenting the credential
/// whose SHA-256 digest is `credential_digest`.
pub(crate) fn response_message(
    challenge: &ChallengeFields,
    credential_digest: &[u8; 32],
) -> Vec<u8> {
    let mut body = challenge_body(challenge);
    body.extend_from_slice(credential_digest);
    signed_message(CHALLENGE_RESPONSE_DOMAIN, FORMAT_VERSION, &body)
}

/// Encodes a response: `version || signature || door || nonce`.
pub(crate) fn encode_response(
    signature: &[u8; SIGNATURE_LEN],
    door: &crate::model::DoorId,
    nonce: &[u8; CHALLENGE_NONCE_LEN],
) -> Vec<u8> {
    let wire = WireResponse {
        door: door.as_str(),
        nonce: *nonce,
    };
    let body = bincode::encode_to_vec(wire, config::<MAX_RESPONSE_BYTES>()).unwrap_or_default();
    assemble_signed(FORMAT_VERSION, signature, &body)
}

fn decode_door(object: WireObject, door: &str) -> Result<crate::model::DoorId, DecodeError> {
    crate::model::DoorId::new(door).map_err(|e| DecodeError::from_field(object, e))
}

/// Decodes a challenge (as a card or wallet receives it).
pub(crate) fn decode_challenge(bytes: &[u8]) -> Result<ChallengeFields, DecodeError> {
    const OBJ: WireObject = WireObject::Challenge;
    if bytes.len() > MAX_CHALLENGE_BYTES {
        return Err(DecodeError::TooLarge {
            object: OBJ,
            len: bytes.len(),
            max: MAX_CHALLENGE_BYTES,
        });
    }
    let (&version, body) = bytes
        .split_first()
        .ok_or(DecodeError::Truncated { object: OBJ })?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion {
            object: OBJ,
            version,
            supported: FORMAT_VERSION,
        });
    }
    let (wire, read): (WireChallenge<'_>, usize) =
        bincode::borrow_decode_from_slice(body, config::<MAX_CHALLENGE_BYTES>())
            .map_err(|e| map_bincode(OBJ, bytes.len(), MAX_CHALLENGE_BYTES, &e))?;
    if read != body.len() {
        return Err(DecodeError::TrailingBytes {
            object: OBJ,
            decoded: 1 + read,
            remaining: body.len().saturating_sub(read),
        });
    }
    if wire.expires_at < wire.issued_at {
        return Err(DecodeError::InvalidField {
            object: OBJ,
            field: Field::Validity,
        });
    }
    Ok(ChallengeFields {
        door: decode_door(OBJ, wire.door)?,
        nonce: wire.nonce,
        issued_at: UnixTime(wire.issued_at),
        expires_at: UnixTime(wire.expires_at),
    })
}

/// Decodes a card's response (signature not checked here).
pub(crate) fn decode_response(bytes: &[u8]) -> Result<ParsedResponse, DecodeError> {
    const OBJ: WireObject = WireObject::ChallengeResponse;
    let (signature, body) = split_header(OBJ, bytes, MAX_RESPONSE_BYTES, FORMAT_VERSION)?;
    let wire: WireResponse<'_> = decode_borrowed::<_, MAX_RESPONSE_BYTES>(OBJ, bytes, body)?;
    Ok(ParsedResponse {
        door: decode_door(OBJ, wire.door)?,
        nonce: wire.nonce,
        signature,
    })
}
