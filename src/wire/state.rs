//! A door's saved trust (format 1): what `VerifierState::to_bytes` writes and
//! `VerifierState::from_bytes` reads, so that a door that restarts is not weaker than
//! one that did not (its key-set sequence, the keys it revoked, its rollback floors and
//! its lists survive).
//!
//! ```text
//! version u8 (= VERIFIER_STATE_FORMAT_VERSION) | kind u8 (= b'S') | body | digest [32]
//!   digest = SHA-256(VERIFIER_STATE_DOMAIN || version || kind || body)
//! body (compact encoding: minimal varints, varint-length-prefixed bytes):
//!   roots:   n, each: root anchor bytes, key set (0 | 1 sequence digest[32])
//!   keys:    n, each: signing-key anchor bytes, usage u8 (1 credentials, 2 lists,
//!            3 both), certified u8 (0 | 1), revoked (0 | 1 at)
//!   revoked: n, each: key_id [8], issuer str, at
//!   seen:    n, each: issuer str, key_id [8], sequence
//!   lists:   n, each: issuer str, key_id [8], sequence, issued_at, next_update,
//!            capacity, table bytes (capacity / 4: two bits an index, 00 valid,
//!            01 suspended, 10 revoked, index 0 in the low bits of byte 0), scopes
//!            (0 | 1 and the list's scope records), state [32], audit (0 | 1
//!            entries hash[32])
//! ```
//!
//! The digest is not a signature: whoever can write a door's storage can replace its
//! root. It catches a truncated or corrupted file, which the door then refuses, starting
//! again from its root. Everything inside is checked again on reading (keys, limits,
//! the invariants of a state), so a hostile blob cannot make a state a door could not
//! have reached.

use crate::prelude::*;
use sha2::Digest as _;

use super::compact::{Reader, Writer};
use super::{DecodeError, WireObject, decode_scopes, encode_scopes};
use crate::model::{AuditHead, IssuerId, KeyId, KeyUsage, ScopeEntry, UnixTime};

/// Format version of a saved verifier state.
pub const VERIFIER_STATE_FORMAT_VERSION: u8 = 1;
/// Domain prefix of a saved state's digest.
pub const VERIFIER_STATE_DOMAIN: &[u8] = b"revocard/v1/verifier-state\0";
const STATE_KIND: u8 = b'S';
const DIGEST_LEN: usize = 32;

/// Most issuers' lists one saved state holds: a door trusting more issuers than this
/// cannot save its lists (it keeps working; a restart relearns them from the root).
pub const MAX_STATE_LISTS: usize = 16;
/// Most roots, signing keys, remembered revocations or rollback floors one saved state
/// holds (the trust store's own bound, `MAX_TRUSTED_KEYS`).
pub const MAX_STATE_ENTRIES: usize = 1024;
/// Room for one list beside its table: header fields and every scope record.
const MAX_LIST_RECORD_OVERHEAD: usize = 256 + 22 * crate::model::MAX_SCOPE_ENTRIES;
/// Room for the trust part: roots, keys, revocations and floors at their limits.
const MAX_TRUST_PART_BYTES: usize = 4 * MAX_STATE_ENTRIES * 160;
/// Largest saved state, in bytes: every list at the largest capacity, the trust part
/// at its limits. A reader refuses anything longer before decoding anything.
pub const MAX_STATE_BYTES: usize = MAX_STATE_LISTS
    * (crate::model::MAX_LIST_CAPACITY as usize / 4 + MAX_LIST_RECORD_OVERHEAD)
    + MAX_TRUST_PART_BYTES
    + 2
    + DIGEST_LEN;

/// Which part of a saved verifier state an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatePart {
    /// The issuers' roots and their key-set sequences.
    Roots,
    /// The trusted signing keys.
    Keys,
    /// The keys remembered as revoked.
    Revocations,
    /// The rollback floors (highest list sequence seen under each key).
    Floors,
    /// The lists held.
    Lists,
}

impl core::fmt::Display for StatePart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Roots => "roots",
            Self::Keys => "signing keys",
            Self::Revocations => "revoked keys",
            Self::Floors => "rollback floors",
            Self::Lists => "lists",
        })
    }
}

/// An installed root and the key set last applied under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RootRecord {
    /// The root anchor's bytes (`RootPublicKey::to_bytes`).
    pub(crate) anchor: Vec<u8>,
    pub(crate) key_set: Option<(u64, [u8; 32])>,
}

/// A trusted signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRecord {
    /// The signing key's anchor bytes (`IssuerPublicKey::to_bytes`).
    pub(crate) anchor: Vec<u8>,
    pub(crate) usage: KeyUsage,
    pub(crate) certified: bool,
    pub(crate) revoked_at: Option<UnixTime>,
}

/// A list held, as its fields (its signature was checked when it was installed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListRecord {
    pub(crate) issuer: IssuerId,
    pub(crate) key_id: KeyId,
    pub(crate) sequence: u64,
    pub(crate) issued_at: UnixTime,
    pub(crate) next_update: UnixTime,
    pub(crate) capacity: u32,
    pub(crate) table: Vec<u8>,
    pub(crate) scopes: Vec<ScopeEntry>,
    pub(crate) state: [u8; 32],
    pub(crate) audit: Option<AuditHead>,
}

/// A verifier state's parts, as bytes and plain fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StateRecord {
    pub(crate) roots: Vec<RootRecord>,
    pub(crate) keys: Vec<KeyRecord>,
    pub(crate) revoked: Vec<(KeyId, IssuerId, UnixTime)>,
    pub(crate) seen: Vec<(IssuerId, KeyId, u64)>,
    pub(crate) lists: Vec<ListRecord>,
}

fn digest(version: u8, body: &[u8]) -> [u8; DIGEST_LEN] {
    sha2::Sha256::new()
        .chain_update(VERIFIER_STATE_DOMAIN)
        .chain_update([version, STATE_KIND])
        .chain_update(body)
        .finalize()
        .into()
}

fn usage_code(usage: KeyUsage) -> u8 {
    super::usage_code(usage)
}

fn usage_of(code: u8) -> Option<KeyUsage> {
    match code {
        1 => Some(KeyUsage::Credentials),
        2 => Some(KeyUsage::Lists),
        3 => Some(KeyUsage::CredentialsAndLists),
        _ => None,
    }
}

fn option_tag(w: &mut Writer, present: bool) {
    w.byte(u8::from(present));
}

/// Encodes a state.
pub(crate) fn encode_state(state: &StateRecord) -> Vec<u8> {
    let mut w = Writer::default();
    w.varint(state.roots.len() as u64);
    for root in &state.roots {
        w.bytes(&root.anchor);
        option_tag(&mut w, root.key_set.is_some());
        if let Some((sequence, digest)) = root.key_set {
            w.varint(sequence);
            w.array(&digest);
        }
    }
    w.varint(state.keys.len() as u64);
    for key in &state.keys {
        w.bytes(&key.anchor);
        w.byte(usage_code(key.usage));
        w.byte(u8::from(key.certified));
        option_tag(&mut w, key.revoked_at.is_some());
        if let Some(at) = key.revoked_at {
            w.varint(at.0);
        }
    }
    w.varint(state.revoked.len() as u64);
    for (key_id, issuer, at) in &state.revoked {
        w.array(&key_id.0);
        w.bytes(issuer.as_str().as_bytes());
        w.varint(at.0);
    }
    w.varint(state.seen.len() as u64);
    for (issuer, key_id, sequence) in &state.seen {
        w.bytes(issuer.as_str().as_bytes());
        w.array(&key_id.0);
        w.varint(*sequence);
    }
    w.varint(state.lists.len() as u64);
    for list in &state.lists {
        w.bytes(list.issuer.as_str().as_bytes());
        w.array(&list.key_id.0);
        w.varint(list.sequence);
        w.varint(list.issued_at.0);
        w.varint(list.next_update.0);
        w.varint(u64::from(list.capacity));
        w.bytes(&list.table);
        option_tag(&mut w, !list.scopes.is_empty());
        if !list.scopes.is_empty() {
            encode_scopes(&mut w, &list.scopes);
        }
        w.array(&list.state);
        option_tag(&mut w, list.audit.is_some());
        if let Some(head) = list.audit {
            w.varint(head.entries);
            w.array(&head.hash);
        }
    }
    let body = w.finish();
    let mut out = Vec::with_capacity(2 + body.len() + DIGEST_LEN);
    out.push(VERIFIER_STATE_FORMAT_VERSION);
    out.push(STATE_KIND);
    out.extend_from_slice(&body);
    out.extend_from_slice(&digest(VERIFIER_STATE_FORMAT_VERSION, &body));
    out
}

/// What a saved state is refused for before its parts are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StateDecodeError {
    /// Not the encoding of a state.
    Decode(DecodeError),
    /// The digest does not match: truncated or corrupted.
    Digest,
    /// A part holds more entries than allowed.
    TooMany {
        part: StatePart,
        count: usize,
        max: usize,
    },
}

impl From<DecodeError> for StateDecodeError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

const OBJ: WireObject = WireObject::VerifierState;

/// A count of entries that must fit `max` and, at `min_len` bytes an entry, what is
/// left of the input (so that no count makes the reader loop or allocate beyond it).
fn count(
    r: &mut Reader<'_>,
    part: StatePart,
    max: usize,
    min_len: usize,
) -> Result<usize, StateDecodeError> {
    let n = usize::try_from(r.varint()?).unwrap_or(usize::MAX);
    if n > max {
        return Err(StateDecodeError::TooMany {
            part,
            count: n,
            max,
        });
    }
    if n > r.remaining() / min_len.max(1) {
        return Err(DecodeError::Truncated { object: OBJ }.into());
    }
    Ok(n)
}

fn flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.byte()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(r.malformed()),
    }
}

fn issuer(r: &mut Reader<'_>) -> Result<IssuerId, DecodeError> {
    let text = r.str()?;
    IssuerId::new(text).map_err(|e| DecodeError::from_field(OBJ, e))
}

/// Decodes a saved state: size, version, kind and digest first, then the body, with
/// every count bounded by its limit and by the bytes left.
pub(crate) fn decode_state(bytes: &[u8]) -> Result<StateRecord, StateDecodeError> {
    if bytes.len() > MAX_STATE_BYTES {
        return Err(DecodeError::TooLarge {
            object: OBJ,
            len: bytes.len(),
            max: MAX_STATE_BYTES,
        }
        .into());
    }
    let Some((&[version, kind], rest)) = bytes.split_first_chunk::<2>() else {
        return Err(DecodeError::Truncated { object: OBJ }.into());
    };
    if version != VERIFIER_STATE_FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion {
            object: OBJ,
            version,
            supported: VERIFIER_STATE_FORMAT_VERSION,
        }
        .into());
    }
    if kind != STATE_KIND {
        return Err(DecodeError::Malformed { object: OBJ }.into());
    }
    let Some((body, sent)) = rest.split_last_chunk::<DIGEST_LEN>() else {
        return Err(DecodeError::Truncated { object: OBJ }.into());
    };
    if digest(version, body) != *sent {
        return Err(StateDecodeError::Digest);
    }
    let mut r = Reader::new(OBJ, body, 2);
    let mut state = StateRecord::default();

    for _ in 0..count(&mut r, StatePart::Roots, MAX_STATE_ENTRIES, 2)? {
        let anchor = r.bytes()?.to_vec();
        let key_set = if flag(&mut r)? {
            Some((r.varint()?, r.array()?))
        } else {
            None
        };
        state.roots.push(RootRecord { anchor, key_set });
    }
    for _ in 0..count(&mut r, StatePart::Keys, MAX_STATE_ENTRIES, 4)? {
        let anchor = r.bytes()?.to_vec();
        let usage = usage_of(r.byte()?).ok_or_else(|| r.malformed())?;
        let certified = flag(&mut r)?;
        let revoked_at = if flag(&mut r)? {
            Some(UnixTime(r.varint()?))
        } else {
            None
        };
        state.keys.push(KeyRecord {
            anchor,
            usage,
            certified,
            revoked_at,
        });
    }
    for _ in 0..count(&mut r, StatePart::Revocations, MAX_STATE_ENTRIES, 10)? {
        let key_id = KeyId(r.array()?);
        let issuer = issuer(&mut r)?;
        state.revoked.push((key_id, issuer, UnixTime(r.varint()?)));
    }
    for _ in 0..count(&mut r, StatePart::Floors, MAX_STATE_ENTRIES, 10)? {
        let issuer = issuer(&mut r)?;
        let key_id = KeyId(r.array()?);
        state.seen.push((issuer, key_id, r.varint()?));
    }
    for _ in 0..count(&mut r, StatePart::Lists, MAX_STATE_LISTS, 48)? {
        let issuer = issuer(&mut r)?;
        let key_id = KeyId(r.array()?);
        let sequence = r.varint()?;
        let issued_at = UnixTime(r.varint()?);
        let next_update = UnixTime(r.varint()?);
        let capacity = r.varint_u32()?;
        let table = r.bytes()?.to_vec();
        let scopes = if flag(&mut r)? {
            decode_scopes(&mut r, OBJ)?
        } else {
            Vec::new()
        };
        let list_state = r.array()?;
        let audit = if flag(&mut r)? {
            Some(AuditHead {
                entries: r.varint()?,
                hash: r.array()?,
            })
        } else {
            None
        };
        state.lists.push(ListRecord {
            issuer,
            key_id,
            sequence,
            issued_at,
            next_update,
            capacity,
            table,
            scopes,
            state: list_state,
            audit,
        });
    }
    r.finish()?;
    Ok(state)
}
