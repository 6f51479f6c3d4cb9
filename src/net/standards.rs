//! The issuer's status in the two standard formats, for verifiers that speak only the
//! standards (feature `standards`):
//!
//! - an IETF Token Status List token (draft-ietf-oauth-status-list: a JWT of `typ`
//!   `statuslist+jwt`, EdDSA, `status_list.bits` = 2, `lst` the base64url of the
//!   zlib-compressed entries, index 0 in the low bits of byte 0): 0 valid, 1 invalid
//!   (revoked), 2 suspended;
//! - two W3C Bitstring Status List v1.0 credentials (`BitstringStatusListCredential`,
//!   secured as JWTs by VC-JOSE-COSE, `typ` `vc+jwt`, EdDSA), one of `statusPurpose`
//!   `revocation` and one of `suspension`, each `encodedList` the multibase (`u`,
//!   base64url) of the GZIP-compressed bitstring, index 0 the first (most significant)
//!   bit of byte 0;
//! - the signing key as a JWK set (OKP, Ed25519, `kid` = the revocard key id).
//!
//! **Scope entries become bits.** The standards have no scope entries, so a revoked
//! print batch, key or issue period is expanded here, from the registry (which knows
//! every card each scope covers), into the bits of those cards' status indexes. Every
//! index then answers as revocard's own list answers for the card holding it (and an
//! index no card holds answers valid in all three). The mapping a credential carries
//! for those verifiers is documented, not encoded: the index in both standard lists
//! IS the credential's status index, and the URIs are the publisher's paths below
//! ([`StatusUrls`]); [`ietf_status_claim`] and [`w3c_credential_status`] render them
//! for an SD-JWT VC or a W3C VC. revocard's credential format is unchanged.
//!
//! The tokens are deterministic: the same registry state and key give the same bytes
//! (`iat` and `validFrom` are the native list's publication time, `exp` and
//! `validUntil` its next update). `ttl`, how long a verifier may cache a view before
//! fetching it again, is the operator's choice ([`ViewTimes::ttl_secs`],
//! [`DEFAULT_VIEW_TTL_SECS`]: five minutes, as the publisher's HTTP `max-age` on these
//! files), never more than the list's lifetime: a revocation reaches a standards
//! verifier within that, as it reaches a door that polls `latest.json`. The IETF `ttl`
//! is in seconds, the W3C `ttl` in milliseconds.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::issue::{IssueError, IssuerKey};
use crate::model::{IssuerId, Status, StatusIndex, UnixTime};
use crate::net::layout::{StatusView, issuer_dir_name};
use crate::registry::{CredentialFilter, Registry, RegistryError, Store};
use crate::verify::IssuerPublicKey;

/// The standard views' folder inside an issuer's folder.
pub const STATUS_DIR: &str = "status";
/// The IETF Token Status List token, inside an issuer's folder.
pub const IETF_PATH: &str = StatusView::Ietf.path();
/// The W3C credential of `statusPurpose` `revocation`, inside an issuer's folder.
pub const W3C_REVOCATION_PATH: &str = StatusView::W3cRevocation.path();
/// The W3C credential of `statusPurpose` `suspension`, inside an issuer's folder.
pub const W3C_SUSPENSION_PATH: &str = StatusView::W3cSuspension.path();
/// The signing key as a JWK set, inside an issuer's folder.
pub const JWKS_PATH: &str = StatusView::Jwks.path();

/// The IETF token's media type (its JOSE `typ` is `statuslist+jwt`).
pub const IETF_MEDIA_TYPE: &str = StatusView::Ietf.media_type();
/// The W3C credential's media type as a JWT (VC-JOSE-COSE; its JOSE `typ` is `vc+jwt`).
pub const W3C_MEDIA_TYPE: &str = StatusView::W3cRevocation.media_type();
/// A JWK set's media type (RFC 7517).
pub const JWKS_MEDIA_TYPE: &str = StatusView::Jwks.media_type();

/// Bits per index in the IETF token: valid, invalid and suspended need two.
pub const IETF_BITS: u8 = 2;
/// The IETF status value of a valid index.
pub const IETF_VALID: u8 = 0;
/// The IETF status value of a revoked index (`INVALID`).
pub const IETF_INVALID: u8 = 1;
/// The IETF status value of a suspended index (`SUSPENDED`).
pub const IETF_SUSPENDED: u8 = 2;

/// Longest public base URL accepted: the URIs built on it go into every token and
/// every credential reference; 1 KiB is far beyond any real publisher's address.
pub const MAX_BASE_URL_LEN: usize = 1024;

/// Why a standard view could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StandardsError {
    /// The public base URL is not an absolute `https://` or `http://` URL without
    /// query, fragment, whitespace or trailing `/`, of at most [`MAX_BASE_URL_LEN`] bytes.
    #[error(
        "the public base URL ({len} bytes) must be an absolute http(s) URL without query, fragment, spaces or trailing '/', at most {max} bytes"
    )]
    BaseUrl {
        /// Its length.
        len: usize,
        /// [`MAX_BASE_URL_LEN`].
        max: usize,
    },
    /// More indexes than a list may have.
    #[error("{capacity} indexes is more than a list may have ({max})")]
    Capacity {
        /// The capacity asked for.
        capacity: u32,
        /// [`crate::MAX_LIST_CAPACITY`].
        max: u32,
    },
    /// An index outside the list's capacity.
    #[error("status index {index} is outside the list's {capacity} indexes")]
    IndexOutOfRange {
        /// The index.
        index: u32,
        /// The list's capacity.
        capacity: u32,
    },
    /// The registry's status state and its latest list are not the same publication
    /// (another handle published between the two reads): run again.
    #[error("the status state is at sequence {state} but the latest list is {list}: run again")]
    NotInSync {
        /// The status state's sequence.
        state: u64,
        /// The latest publication's sequence.
        list: u64,
    },
    /// The registry has published no list yet.
    #[error("the registry has published no list yet")]
    NothingPublished,
    /// Compressing the entries failed (writing into memory: only on exhaustion).
    #[error("compressing the status entries failed: {0}")]
    Compress(#[source] std::io::Error),
    /// The key refused to sign (it never does for the inputs made here).
    #[error(transparent)]
    Sign(#[from] IssueError),
    /// Reading the registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Where a publisher serves an issuer's standard views: `BASE/<issuer-dir>/status/...`
/// (the published layout, `net::layout`, under the publisher's public base URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUrls {
    issuer: String,
}

impl StatusUrls {
    /// The URLs of `issuer`'s views under the publisher's public base URL (for example
    /// `https://status.example-police.uk/revocard`, the URL of the layout's `DIR`).
    ///
    /// # Errors
    /// [`StandardsError::BaseUrl`].
    pub fn new(base_url: &str, issuer: &IssuerId) -> Result<Self, StandardsError> {
        let scheme_ok = base_url
            .strip_prefix("https://")
            .or_else(|| base_url.strip_prefix("http://"))
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        let chars_ok = base_url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'?' | b'#' | b'"' | b'\\'));
        if !scheme_ok || !chars_ok || base_url.ends_with('/') || base_url.len() > MAX_BASE_URL_LEN {
            return Err(StandardsError::BaseUrl {
                len: base_url.len(),
                max: MAX_BASE_URL_LEN,
            });
        }
        Ok(Self {
            issuer: format!("{base_url}/{}", issuer_dir_name(issuer)),
        })
    }

    /// The issuer's folder: the W3C credentials' `issuer`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The IETF token: its `sub`, and the `uri` a referenced token names.
    #[must_use]
    pub fn ietf(&self) -> String {
        format!("{}/{IETF_PATH}", self.issuer)
    }

    /// The W3C credential of a purpose: its `id`, and a `statusListCredential`.
    #[must_use]
    pub fn w3c(&self, purpose: W3cPurpose) -> String {
        format!("{}/{}", self.issuer, purpose.path())
    }

    /// The JWK set.
    #[must_use]
    pub fn jwks(&self) -> String {
        format!("{}/{JWKS_PATH}", self.issuer)
    }
}

/// The two W3C lists: revoked cards, and suspended ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum W3cPurpose {
    /// `statusPurpose` `revocation`: a set bit is revoked (permanently).
    Revocation,
    /// `statusPurpose` `suspension`: a set bit is suspended (and not revoked).
    Suspension,
}

impl W3cPurpose {
    /// The `statusPurpose` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }

    /// The path inside the issuer's folder.
    #[must_use]
    pub fn path(self) -> &'static str {
        match self {
            Self::Revocation => W3C_REVOCATION_PATH,
            Self::Suspension => W3C_SUSPENSION_PATH,
        }
    }
}

/// Every index's status with scope entries expanded: what the standard views carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatuses {
    /// One IETF status value an index.
    values: Vec<u8>,
}

impl IndexStatuses {
    /// `capacity` valid indexes.
    ///
    /// # Errors
    /// [`StandardsError::Capacity`] beyond [`crate::MAX_LIST_CAPACITY`] (the native
    /// list's bound, which also bounds the memory this takes: one byte an index).
    pub fn new(capacity: u32) -> Result<Self, StandardsError> {
        if capacity > crate::MAX_LIST_CAPACITY {
            return Err(StandardsError::Capacity {
                capacity,
                max: crate::MAX_LIST_CAPACITY,
            });
        }
        Ok(Self {
            values: vec![IETF_VALID; capacity as usize],
        })
    }

    /// The registry's status now, with every scope entry expanded into the bits of the
    /// cards it covers; and the latest publication it is the state of.
    ///
    /// # Errors
    /// [`StandardsError::NothingPublished`]; [`StandardsError::NotInSync`] if another
    /// handle published between the reads; [`StandardsError::IndexOutOfRange`] for a
    /// stored index beyond the capacity (a corrupt store); storage failures.
    pub fn from_registry<S: Store>(
        registry: &Registry<S>,
    ) -> Result<(Self, crate::registry::PublicationRecord), StandardsError> {
        let store = registry.store();
        let state = store.status_state()?;
        let latest = store
            .latest_publication()?
            .ok_or(StandardsError::NothingPublished)?;
        if state.sequence != latest.sequence {
            return Err(StandardsError::NotInSync {
                state: state.sequence,
                list: latest.sequence,
            });
        }
        let mut out = Self::new(registry.meta().capacity)?;
        for (index, status, _) in state.entries {
            out.set(index, status)?;
        }
        if !state.scopes.is_empty() {
            for record in store.credentials(&CredentialFilter::All)? {
                let covered = state.scopes.iter().any(|e| {
                    e.scope
                        .covers_parts(record.print_batch, record.key_id, record.issued_at)
                });
                if covered {
                    out.set(record.status_index.0, Status::Revoked)?;
                }
            }
        }
        Ok((out, latest))
    }

    /// How many indexes.
    #[must_use]
    pub fn capacity(&self) -> u32 {
        u32::try_from(self.values.len()).unwrap_or(u32::MAX)
    }

    /// Sets an index's status.
    ///
    /// # Errors
    /// [`StandardsError::IndexOutOfRange`].
    pub fn set(&mut self, index: u32, status: Status) -> Result<(), StandardsError> {
        let capacity = self.capacity();
        let slot = self
            .values
            .get_mut(index as usize)
            .ok_or(StandardsError::IndexOutOfRange { index, capacity })?;
        *slot = match status {
            Status::Valid => IETF_VALID,
            Status::Revoked => IETF_INVALID,
            Status::Suspended => IETF_SUSPENDED,
        };
        Ok(())
    }

    /// An index's status (`None` out of range).
    #[must_use]
    pub fn get(&self, index: u32) -> Option<Status> {
        self.values.get(index as usize).map(|&v| match v {
            IETF_INVALID => Status::Revoked,
            IETF_SUSPENDED => Status::Suspended,
            _ => Status::Valid,
        })
    }

    /// The IETF byte array before compression: [`IETF_BITS`] bits an index, index 0
    /// in the least significant bits of byte 0.
    #[must_use]
    pub fn ietf_bytes(&self) -> Vec<u8> {
        self.values
            .chunks(4)
            .map(|four| {
                four.iter()
                    .enumerate()
                    .fold(0u8, |byte, (i, &v)| byte | (v << (2 * i)))
            })
            .collect()
    }

    /// The W3C bitstring of `purpose` before compression: one bit an index, index 0 the
    /// most significant bit of byte 0.
    #[must_use]
    pub fn w3c_bits(&self, purpose: W3cPurpose) -> Vec<u8> {
        let set = match purpose {
            W3cPurpose::Revocation => IETF_INVALID,
            W3cPurpose::Suspension => IETF_SUSPENDED,
        };
        self.values
            .chunks(8)
            .map(|eight| {
                eight
                    .iter()
                    .enumerate()
                    .fold(0u8, |byte, (i, &v)| byte | (u8::from(v == set) << (7 - i)))
            })
            .collect()
    }
}

/// The `ttl` the standard views carry unless the operator sets another: 300 s, the
/// `max-age` the publisher (`net::serve`) sends with them, so a verifier that honours
/// either refetches within five minutes and learns of a revocation as fast as a door
/// polling `latest.json` does. (The list's lifetime, an hour by default, is how long a
/// view stays valid, not how long it should be cached.)
pub const DEFAULT_VIEW_TTL_SECS: u64 = 300;

/// The times a view carries, from the native list it mirrors and the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewTimes {
    /// When the native list was signed: `iat`, `validFrom`.
    pub issued_at: UnixTime,
    /// Its next update: `exp`, `validUntil`.
    pub next_update: UnixTime,
    /// How long a verifier may cache the view before fetching it again: `ttl` (the
    /// IETF token's in seconds, the W3C credentials' in milliseconds), capped at the
    /// time from `issued_at` to `next_update`. [`DEFAULT_VIEW_TTL_SECS`] unless the
    /// operator chooses.
    pub ttl_secs: u64,
}

impl ViewTimes {
    /// The times of a list signed at `issued_at` and in force until `next_update`,
    /// with the default `ttl` ([`DEFAULT_VIEW_TTL_SECS`]).
    #[must_use]
    pub fn new(issued_at: UnixTime, next_update: UnixTime) -> Self {
        Self {
            issued_at,
            next_update,
            ttl_secs: DEFAULT_VIEW_TTL_SECS,
        }
    }

    /// The `ttl` written: the operator's, never past the list's lifetime.
    fn ttl(self) -> u64 {
        self.ttl_secs
            .min(self.next_update.0.saturating_sub(self.issued_at.0))
    }
}

/// The standard views of one publication, as published.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusViews {
    /// The IETF Token Status List token (compact JWS).
    pub ietf: String,
    /// The W3C credential of purpose `revocation` (compact JWS).
    pub w3c_revocation: String,
    /// The W3C credential of purpose `suspension` (compact JWS).
    pub w3c_suspension: String,
    /// The JWK set holding the signing key.
    pub jwks: String,
}

impl std::fmt::Debug for StatusViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusViews")
            .field("ietf_bytes", &self.ietf.len())
            .field("w3c_revocation_bytes", &self.w3c_revocation.len())
            .field("w3c_suspension_bytes", &self.w3c_suspension.len())
            .finish_non_exhaustive()
    }
}

impl StatusViews {
    /// Makes every view of `statuses`, signed with `key`.
    ///
    /// # Errors
    /// [`StandardsError::Compress`], [`StandardsError::Sign`] (neither happens in practice).
    pub fn make(
        statuses: &IndexStatuses,
        times: ViewTimes,
        urls: &StatusUrls,
        key: &IssuerKey,
    ) -> Result<Self, StandardsError> {
        Ok(Self {
            ietf: ietf_token(statuses, times, urls, key)?,
            w3c_revocation: w3c_credential(statuses, W3cPurpose::Revocation, times, urls, key)?,
            w3c_suspension: w3c_credential(statuses, W3cPurpose::Suspension, times, urls, key)?,
            jwks: jwks(&[key.public()]).to_string(),
        })
    }

    /// Each view with its path inside the issuer's folder.
    #[must_use]
    pub fn files(&self) -> [(&'static str, &str); 4] {
        [
            (IETF_PATH, &self.ietf),
            (W3C_REVOCATION_PATH, &self.w3c_revocation),
            (W3C_SUSPENSION_PATH, &self.w3c_suspension),
            (JWKS_PATH, &self.jwks),
        ]
    }
}

/// The JOSE header of a view signed by `key`.
fn header(typ: &str, key: &IssuerKey) -> Value {
    json!({"alg": "EdDSA", "kid": key.key_id().to_string(), "typ": typ})
}

/// `BASE64URL(header) . BASE64URL(payload) . BASE64URL(signature)`.
fn sign_compact(
    header: &Value,
    payload: &Value,
    key: &IssuerKey,
) -> Result<String, StandardsError> {
    let mut jws = URL_SAFE_NO_PAD.encode(header.to_string());
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(payload.to_string()));
    let signature = key.sign_jws(jws.as_bytes())?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jws)
}

/// The IETF Token Status List token: `sub`, `iat`, `exp`, `ttl` (seconds) and
/// `status_list` {`bits`: 2, `lst`}.
///
/// # Errors
/// [`StandardsError::Compress`], [`StandardsError::Sign`].
pub fn ietf_token(
    statuses: &IndexStatuses,
    times: ViewTimes,
    urls: &StatusUrls,
    key: &IssuerKey,
) -> Result<String, StandardsError> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&statuses.ietf_bytes())
        .map_err(StandardsError::Compress)?;
    let compressed = z.finish().map_err(StandardsError::Compress)?;
    let payload = json!({
        "sub": urls.ietf(),
        "iat": times.issued_at.0,
        "exp": times.next_update.0,
        "ttl": times.ttl(),
        "status_list": {"bits": IETF_BITS, "lst": URL_SAFE_NO_PAD.encode(compressed)},
    });
    sign_compact(&header("statuslist+jwt", key), &payload, key)
}

/// An RFC 3339 UTC time (`xsd:dateTimeStamp`), as VCDM 2.0's `validFrom` wants it.
fn rfc3339(t: UnixTime) -> String {
    let at = SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(t.0))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The W3C `BitstringStatusListCredential` of `purpose`, secured as a JWT
/// (VC-JOSE-COSE: the credential is the payload; `typ` `vc+jwt`, `cty` `vc`).
///
/// # Errors
/// [`StandardsError::Compress`], [`StandardsError::Sign`].
pub fn w3c_credential(
    statuses: &IndexStatuses,
    purpose: W3cPurpose,
    times: ViewTimes,
    urls: &StatusUrls,
    key: &IssuerKey,
) -> Result<String, StandardsError> {
    let mut gz = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::best());
    gz.write_all(&statuses.w3c_bits(purpose))
        .map_err(StandardsError::Compress)?;
    let compressed = gz.finish().map_err(StandardsError::Compress)?;
    let id = urls.w3c(purpose);
    let credential = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": urls.issuer(),
        "validFrom": rfc3339(times.issued_at),
        "validUntil": rfc3339(times.next_update),
        "credentialSubject": {
            "id": format!("{id}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": multibase::encode(multibase::Base::Base64Url, compressed),
            "ttl": times.ttl().saturating_mul(1000),
        },
    });
    let mut h = header("vc+jwt", key);
    if let Some(map) = h.as_object_mut() {
        map.insert("cty".to_owned(), Value::from("vc"));
    }
    sign_compact(&h, &credential, key)
}

/// A JWK set (RFC 7517) of Ed25519 keys (RFC 8037: `kty` `OKP`, `crv` `Ed25519`),
/// each with `kid` = its revocard key id (hex), `alg` `EdDSA`, `use` `sig`.
#[must_use]
pub fn jwks(keys: &[&IssuerPublicKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(k.public_key_bytes()),
                "kid": k.key_id().to_string(),
                "alg": "EdDSA",
                "use": "sig",
            })
        })
        .collect();
    json!({ "keys": keys })
}

/// The `status` claim a referenced token (an SD-JWT VC, a JWT) carries for the IETF
/// list: `{"status_list": {"idx": <status index>, "uri": <the token's URL>}}`.
#[must_use]
pub fn ietf_status_claim(urls: &StatusUrls, index: StatusIndex) -> Value {
    json!({"status_list": {"idx": index.0, "uri": urls.ietf()}})
}

/// The `credentialStatus` a W3C VC carries for the W3C lists: one
/// `BitstringStatusListEntry` per purpose, `statusListIndex` the status index (a
/// decimal string, as the spec wants).
#[must_use]
pub fn w3c_credential_status(urls: &StatusUrls, index: StatusIndex) -> Value {
    let entry = |purpose: W3cPurpose| {
        let list = urls.w3c(purpose);
        json!({
            "id": format!("{list}#{}", index.0),
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose.as_str(),
            "statusListIndex": index.0.to_string(),
            "statusListCredential": list,
        })
    };
    json!([entry(W3cPurpose::Revocation), entry(W3cPurpose::Suspension)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_orders_follow_each_spec() {
        assert!(IndexStatuses::new(crate::MAX_LIST_CAPACITY + 1).is_err());
        let mut s = IndexStatuses::new(16).unwrap();
        s.set(0, Status::Revoked).unwrap();
        s.set(1, Status::Suspended).unwrap();
        s.set(9, Status::Revoked).unwrap();
        // IETF: index 0 in the low bits of byte 0 (the draft's own example order).
        assert_eq!(s.ietf_bytes(), vec![0b0000_1001, 0, 0b0000_0100, 0]);
        // W3C: index 0 is the first, most significant bit.
        assert_eq!(
            s.w3c_bits(W3cPurpose::Revocation),
            vec![0b1000_0000, 0b0100_0000]
        );
        assert_eq!(s.w3c_bits(W3cPurpose::Suspension), vec![0b0100_0000, 0]);
        assert!(matches!(
            s.set(16, Status::Revoked),
            Err(StandardsError::IndexOutOfRange {
                index: 16,
                capacity: 16
            })
        ));
    }

    #[test]
    fn base_urls_are_absolute_and_plain() {
        let issuer = IssuerId::new("met").unwrap();
        let ok = StatusUrls::new("https://status.example/revocard", &issuer).unwrap();
        assert_eq!(
            ok.ietf(),
            "https://status.example/revocard/met/status/ietf.jwt"
        );
        for bad in [
            "",
            "status.example",
            "https://",
            "https:///x",
            "https://a/",
            "https://a/?q",
            "https://a/#f",
            "https://a b",
            "ftp://a",
        ] {
            assert!(StatusUrls::new(bad, &issuer).is_err(), "{bad}");
        }
        let long = format!("https://{}", "a".repeat(MAX_BASE_URL_LEN));
        assert!(StatusUrls::new(&long, &issuer).is_err());
    }
}
