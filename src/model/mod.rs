//! The claims a credential carries, as plain data.
//!
//! Nothing here signs, encodes or checks a signature: the wire format lives in
//! `wire`, signing in `keys`, checking in `verify`. Every text field is bounded by a
//! named constant and validated on construction, so a [`Claims`] value in memory
//! always fits the wire format's limits.

use crate::prelude::*;
use core::fmt;

pub(crate) mod error;
pub(crate) mod status;
pub(crate) mod vetting;

pub use error::{CardKeyTextError, FieldError};
pub use status::{
    MAX_LIST_CAPACITY, MAX_SCOPE_ENTRIES, MIN_LIST_CAPACITY, RevocationReason, RevokedBy, Scope,
    ScopeEntry, Status, StatusAnswer,
};
pub use vetting::{
    ForceVetting, NationalSecurity, Nppv, PoliceVetting, Vetting, VettingRequirement,
};

/// Longest pay number, in bytes (UK forces use 6 to 8 digits; 16 leaves room).
pub const MAX_PAY_NUMBER_LEN: usize = 16;
/// Longest holder name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 96;
/// Longest rank or grade, in bytes ("Detective Chief Superintendent" is 30).
pub const MAX_RANK_LEN: usize = 48;
/// Longest unit or department name, in bytes.
pub const MAX_UNIT_LEN: usize = 96;
/// Longest issuer id, in bytes (a short slug such as `met-police`).
pub const MAX_ISSUER_ID_LEN: usize = 32;

/// A point in time: whole seconds since the Unix epoch, UTC.
///
/// The core never reads a clock: every function that needs the time takes one of these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// Seconds since the epoch.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// `self + secs`, saturating at the end of time.
    #[must_use]
    pub const fn plus(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// `self - secs`, saturating at the epoch.
    #[must_use]
    pub const fn minus(self, secs: u64) -> Self {
        Self(self.0.saturating_sub(secs))
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The 128-bit random identifier of one credential. Never sequential, never reused.
/// Serialised (serde) as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Serial(pub [u8; 16]);

impl Serial {
    /// The serial as lowercase hex, as printed on a card.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses the 32-digit hex form.
    ///
    /// # Errors
    /// [`FieldError::Invalid`] if `text` is not 32 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, FieldError> {
        let mut out = [0u8; 16];
        parse_hex(text, &mut out).ok_or(FieldError::Invalid {
            field: Field::Serial,
        })?;
        Ok(Self(out))
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A credential's position in its issuer's status list.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct StatusIndex(pub u32);

/// Which print batch (and so which supplier) handled a credential's data.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct PrintBatchId(pub u32);

/// Identifies an issuer key: the first 8 bytes of a domain-separated SHA-256 of the
/// public key, so an id can never name two keys by mistake.
/// Serialised (serde) as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 8]);

macro_rules! hex_serde {
    ($ty:ident, $len:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex(&self.0))
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <alloc::borrow::Cow<'de, str>>::deserialize(d)?;
                let mut out = [0u8; $len];
                parse_hex(&text, &mut out).ok_or_else(|| {
                    serde::de::Error::custom(concat!("expected ", $len, " bytes as hex"))
                })?;
                Ok(Self(out))
            }
        }
    };
}
hex_serde!(Serial, 16);
hex_serde!(KeyId, 8);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", hex(&self.0))
    }
}

impl KeyId {
    /// Parses the 16-digit hex form [`Display`](fmt::Display) writes.
    ///
    /// # Errors
    /// [`FieldError::Invalid`] (naming [`Field::KeyId`]) if `text` is not 16 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, FieldError> {
        let mut out = [0u8; 8];
        parse_hex(text, &mut out).ok_or(FieldError::Invalid {
            field: Field::KeyId,
        })?;
        Ok(Self(out))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// The organisation that signs credentials, as a short printable ASCII slug.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct IssuerId(String);

impl IssuerId {
    /// The least issuer id in the order of ids (the empty one, which `new` refuses):
    /// a lower bound for range look-ups, made without allocating.
    pub(crate) const fn least() -> Self {
        Self(String::new())
    }

    /// Validates and wraps an issuer id.
    ///
    /// # Errors
    /// [`FieldError`] if it is empty, longer than [`MAX_ISSUER_ID_LEN`] or not printable ASCII.
    pub fn new(id: impl Into<String>) -> Result<Self, FieldError> {
        let id = id.into();
        check_text(Field::Issuer, &id, MAX_ISSUER_ID_LEN)?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::Invalid {
                field: Field::Issuer,
            });
        }
        Ok(Self(id))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IssuerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a card is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Kind {
    /// A sworn officer's warrant card.
    WarrantCard,
    /// A pass for police staff or a contractor.
    StaffPass,
}

impl Kind {
    /// The text form: `warrant-card` or `staff-pass`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WarrantCard => "warrant-card",
            Self::StaffPass => "staff-pass",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Kind {
    type Err = FieldError;

    /// Parses `warrant-card` or `staff-pass`, ignoring ASCII case and accepting a space
    /// or an underscore for the hyphen.
    ///
    /// # Errors
    /// [`FieldError::Invalid`] naming [`Field::Kind`] for anything else.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let normal: String = text
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '_' => '-',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match normal.as_str() {
            "warrant-card" => Ok(Self::WarrantCard),
            "staff-pass" => Ok(Self::StaffPass),
            _ => Err(FieldError::Invalid { field: Field::Kind }),
        }
    }
}

/// A SHA-256 digest of the holder's photograph. The photograph itself is never in a credential.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhotoDigest(pub [u8; 32]);

impl PhotoDigest {
    /// The digest of `photo` (the image bytes as printed).
    #[must_use]
    pub fn of(photo: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(photo).into())
    }
}

impl fmt::Debug for PhotoDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhotoDigest({})", hex(&self.0))
    }
}

/// The public half of a card's own key (holder binding). Stored as bytes: it is only
/// decompressed when a door checks a challenge response.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardPublicKey(pub [u8; 32]);

impl fmt::Debug for CardPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardPublicKey({})", hex(&self.0))
    }
}

impl CardPublicKey {
    /// Length of the text form: unpadded base64url of 32 bytes.
    pub const TEXT_LEN: usize = 43;
}

/// The text form a supplier's or enrolment station's file carries: unpadded base64url
/// of the 32 bytes (43 characters), as [`core::str::FromStr`] reads it.
impl fmt::Display for CardPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        let mut out = [0u8; Self::TEXT_LEN];
        match base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_slice(self.0, &mut out) {
            Ok(n) => f.write_str(
                core::str::from_utf8(out.get(..n).unwrap_or_default()).unwrap_or_default(),
            ),
            Err(_) => Err(fmt::Error),
        }
    }
}

/// Reads the text form written by [`fmt::Display`]: exactly 43 characters of base64url,
/// no padding, no whitespace, and the unused low bits of the last character zero (one
/// text per key). Whether the bytes are a usable key is checked at issue, not here.
impl core::str::FromStr for CardPublicKey {
    type Err = CardKeyTextError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        use base64::Engine as _;
        if text.len() != Self::TEXT_LEN {
            return Err(CardKeyTextError::Length {
                found: text.len(),
                expected: Self::TEXT_LEN,
            });
        }
        if let Some(position) = text
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(CardKeyTextError::Character { position });
        }
        let mut out = [0u8; 32];
        match base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(text, &mut out) {
            Ok(32) => Ok(Self(out)),
            _ => Err(CardKeyTextError::LastCharacter),
        }
    }
}

/// Names a field, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// [`Holder::pay_number`].
    PayNumber,
    /// [`Holder::name`].
    Name,
    /// [`Holder::rank`].
    Rank,
    /// [`Holder::unit`].
    Unit,
    /// [`IssuerId`].
    Issuer,
    /// [`Serial`].
    Serial,
    /// [`Validity`]: `not_before` after `not_after`.
    Validity,
    /// The card public key (weak or not a curve point).
    CardKey,
    /// A door id (empty, too long or not printable ASCII).
    Door,
    /// A vetting level in text form (see [`Vetting`]'s `FromStr`).
    Vetting,
    /// A card kind in text form (see [`Kind`]'s `FromStr`).
    Kind,
    /// A key id in text form (16 hex digits).
    KeyId,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PayNumber => "pay number",
            Self::Name => "name",
            Self::Rank => "rank",
            Self::Unit => "unit",
            Self::Issuer => "issuer id",
            Self::Serial => "serial",
            Self::Validity => "validity",
            Self::CardKey => "card key",
            Self::Door => "door id",
            Self::Vetting => "vetting",
            Self::Kind => "kind",
            Self::KeyId => "key id",
        })
    }
}

/// The officer or staff member a card belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pay_number: String,
    name: String,
    rank: String,
    unit: String,
    photo: PhotoDigest,
}

impl Holder {
    /// Validates and builds a holder.
    ///
    /// # Errors
    /// [`FieldError::TooLong`] if a field exceeds its limit ([`MAX_PAY_NUMBER_LEN`],
    /// [`MAX_NAME_LEN`], [`MAX_RANK_LEN`], [`MAX_UNIT_LEN`]); [`FieldError::Invalid`] if
    /// the pay number is empty or a field holds control characters.
    pub fn new(
        pay_number: impl Into<String>,
        name: impl Into<String>,
        rank: impl Into<String>,
        unit: impl Into<String>,
        photo: PhotoDigest,
    ) -> Result<Self, FieldError> {
        let holder = Self {
            pay_number: pay_number.into(),
            name: name.into(),
            rank: rank.into(),
            unit: unit.into(),
            photo,
        };
        holder.validate()?;
        Ok(holder)
    }

    pub(crate) fn validate(&self) -> Result<(), FieldError> {
        check_text(Field::PayNumber, &self.pay_number, MAX_PAY_NUMBER_LEN)?;
        if self.pay_number.is_empty() {
            return Err(FieldError::Invalid {
                field: Field::PayNumber,
            });
        }
        check_text(Field::Name, &self.name, MAX_NAME_LEN)?;
        check_text(Field::Rank, &self.rank, MAX_RANK_LEN)?;
        check_text(Field::Unit, &self.unit, MAX_UNIT_LEN)
    }

    /// The pay number: the holder's identity inside the force.
    #[must_use]
    pub fn pay_number(&self) -> &str {
        &self.pay_number
    }
    /// Full name as printed.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Rank or grade as printed.
    #[must_use]
    pub fn rank(&self) -> &str {
        &self.rank
    }
    /// Unit or department.
    #[must_use]
    pub fn unit(&self) -> &str {
        &self.unit
    }
    /// Digest of the photograph.
    #[must_use]
    pub fn photo(&self) -> PhotoDigest {
        self.photo
    }
}

/// When a credential may be used: `not_before ..= not_after`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Validity {
    /// First second of validity.
    pub not_before: UnixTime,
    /// Last second of validity.
    pub not_after: UnixTime,
}

impl Validity {
    /// A window; `not_before` must not be after `not_after`.
    ///
    /// # Errors
    /// [`FieldError::Invalid`] with [`Field::Validity`] if the window is inverted.
    pub fn new(not_before: UnixTime, not_after: UnixTime) -> Result<Self, FieldError> {
        if not_before > not_after {
            return Err(FieldError::Invalid {
                field: Field::Validity,
            });
        }
        Ok(Self {
            not_before,
            not_after,
        })
    }

    /// Whether `inner` lies entirely within `self`.
    #[must_use]
    pub fn contains(&self, inner: &Validity) -> bool {
        self.not_before <= inner.not_before && inner.not_after <= self.not_after
    }
}

/// Everything an issuer states about a card, except the signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Claims {
    /// Random, unique identifier.
    pub serial: Serial,
    /// Warrant card or staff pass.
    pub kind: Kind,
    /// Who holds it.
    pub holder: Holder,
    /// Clearance, checked by doors that demand a minimum.
    pub vetting: Vetting,
    /// Who signed it.
    pub issuer: IssuerId,
    /// Which of the issuer's keys signed it.
    pub key_id: KeyId,
    /// Position in the issuer's status list.
    pub status_index: StatusIndex,
    /// Which print batch (hence supplier) saw the data.
    pub print_batch: PrintBatchId,
    /// When it was signed.
    pub issued_at: UnixTime,
    /// When it may be used.
    pub validity: Validity,
    /// The card's own public key, when the card can answer challenges.
    pub card_key: Option<CardPublicKey>,
    /// The credential this one replaces, after a reissue.
    pub supersedes: Option<Serial>,
}

/// What an issuer is asked to sign: the claims without the parts the issuer fills in
/// (serial, issuer id, key id, issue time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// Warrant card or staff pass.
    pub kind: Kind,
    /// Who will hold it.
    pub holder: Holder,
    /// Clearance.
    pub vetting: Vetting,
    /// Position in the issuer's status list (the registry hands these out at random).
    pub status_index: StatusIndex,
    /// The print batch that will see the data.
    pub print_batch: PrintBatchId,
    /// When it may be used.
    pub validity: Validity,
    /// The card's own public key, for holder binding.
    pub card_key: Option<CardPublicKey>,
    /// The credential this one replaces.
    pub supersedes: Option<Serial>,
}

pub(crate) fn check_text(field: Field, text: &str, max: usize) -> Result<(), FieldError> {
    if text.len() > max {
        return Err(FieldError::TooLong {
            field,
            len: text.len(),
            max,
        });
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::Invalid { field });
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |nibble: u8| {
        char::from(
            DIGITS
                .get(usize::from(nibble & 0x0f))
                .copied()
                .unwrap_or(b'0'),
        )
    };
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(*b));
    }
    out
}

pub(crate) fn parse_hex(text: &str, out: &mut [u8]) -> Option<()> {
    let text = text.as_bytes();
    if text.len() != out.len() * 2 {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        let hi = digit(*pair.first()?)?;
        let lo = digit(*pair.get(1)?)?;
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(())
}

/// The head of an issuer's audit log: how many entries, and the last entry's hash.
/// Every signed list commits to the head at which it was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AuditHead {
    /// Number of entries.
    pub entries: u64,
    /// Hash of the last entry (zeros for an empty log).
    #[serde(with = "hex_bytes")]
    pub hash: [u8; 32],
}

impl AuditHead {
    /// The head of an empty log.
    pub const EMPTY: Self = Self {
        entries: 0,
        hash: [0; 32],
    };
}

/// Serde for a 32-byte digest as lowercase hex.
mod hex_bytes {
    pub(super) fn serialize<S: serde::Serializer>(
        bytes: &[u8; 32],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(bytes))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; 32], D::Error> {
        use serde::de::Error as _;
        let text = <alloc::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        let mut out = [0u8; 32];
        super::parse_hex(&text, &mut out)
            .ok_or_else(|| D::Error::custom("a digest is 64 hex digits"))?;
        Ok(out)
    }
}

/// What a root certifies a signing key to sign. A door refuses a credential signed by
/// a key certified only for lists, and a list signed by a key certified only for
/// credentials, so the two duties can live on different machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    /// Credentials only.
    Credentials,
    /// Revocation lists and deltas only.
    Lists,
    /// Both.
    CredentialsAndLists,
}

impl KeyUsage {
    /// Whether a key certified for `self` may sign what `wanted` names
    /// ([`KeyUsage::Credentials`] or [`KeyUsage::Lists`]).
    #[must_use]
    pub fn allows(self, wanted: KeyUsage) -> bool {
        self == Self::CredentialsAndLists || self == wanted
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Credentials => "credentials",
            Self::Lists => "lists",
            Self::CredentialsAndLists => "credentials and lists",
        })
    }
}

/// Longest door id, in bytes (a short slug such as `hq-custody-suite-2`).
pub const MAX_DOOR_ID_LEN: usize = 32;

/// A door's id, as printable ASCII without spaces.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct DoorId(String);

impl DoorId {
    /// Validates and wraps a door id.
    ///
    /// # Errors
    /// [`FieldError`] with [`Field::Door`] if it is empty, longer than
    /// [`MAX_DOOR_ID_LEN`] or not printable ASCII.
    pub fn new(id: impl Into<String>) -> Result<Self, FieldError> {
        let id = id.into();
        if id.len() > MAX_DOOR_ID_LEN {
            return Err(FieldError::TooLong {
                field: Field::Door,
                len: id.len(),
                max: MAX_DOOR_ID_LEN,
            });
        }
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::Invalid { field: Field::Door });
        }
        Ok(Self(id))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DoorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
