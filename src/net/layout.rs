//! The published layout, as the publisher serves it and a door's feed reads it.
//!
//! ```text
//! DIR/<issuer-dir>/
//!   latest.json        small pointer, rewritten atomically (temp file + rename) LAST
//!   anchor.rca         the issuer's root trust anchor (what door vendors install)
//!   keysets/<K>.rks    root-signed key set of sequence K          (immutable once written)
//!   lists/<N>.rcl      full signed list of sequence N             (immutable once written)
//!   deltas/<N>.rcd     signed delta from list N-1 to list N       (immutable once written)
//! ```
//!
//! Everything a door trusts is signed; `latest.json` is only a pointer, and a door
//! verifies what it fetches. This module is the reading side of that contract: the
//! issuer directory's name, the pointer's format, and the request grammar the server
//! answers (nothing outside it is ever served).

use sha2::Digest as _;

use crate::model::IssuerId;
use crate::wire::{MAX_DELTA_BYTES, MAX_KEY_SET_BYTES, MAX_LIST_BYTES, MAX_ROOT_ANCHOR_BYTES};

/// The pointer's file name.
pub const LATEST_FILE: &str = "latest.json";
/// The root anchor's file name.
pub const ANCHOR_FILE: &str = "anchor.rca";
/// The pointer's format number.
pub const LATEST_FORMAT: u32 = 1;
/// Largest `latest.json` read or served: the pointer holds one issuer id
/// ([`crate::MAX_ISSUER_ID_LEN`] bytes, twice), four paths, three hex digests and a
/// few numbers, under 1 KiB; four times that leaves room for whitespace.
pub const MAX_LATEST_BYTES: usize = 4096;
/// The longest sequence number in a path: `u64::MAX` has 20 digits.
const MAX_SEQUENCE_DIGITS: usize = 20;

/// The folder of an issuer in the layout: the issuer id when it matches
/// `^[A-Za-z0-9][A-Za-z0-9_-]*$` and does not start with `x-`, otherwise `x-` and the
/// lowercase hex of its bytes, so that no `.`, `..` or `/` can appear and no two ids
/// share a folder.
#[must_use]
pub fn issuer_dir_name(issuer: &IssuerId) -> String {
    let id = issuer.as_str();
    // An id that itself starts with `x-` is hex-encoded too, so that no plain id can
    // take the folder of another id's hex form.
    if is_plain_dir_name(id) && !id.starts_with("x-") {
        id.to_owned()
    } else {
        let mut out = String::with_capacity(2 + 2 * id.len());
        out.push_str("x-");
        for b in id.as_bytes() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// Whether `name` is a folder name the layout can hold: `^[A-Za-z0-9][A-Za-z0-9_-]*$`
/// (an issuer id as it is, or `x-` and hex), at most twice the longest issuer id plus 2.
#[must_use]
pub fn is_plain_dir_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.len() <= 2 + 2 * crate::model::MAX_ISSUER_ID_LEN
}

/// One object of an issuer's folder, or its push channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// `latest.json`.
    Latest,
    /// `anchor.rca`.
    Anchor,
    /// `keysets/<K>.rks`.
    KeySet(u64),
    /// `lists/<N>.rcl`.
    List(u64),
    /// `deltas/<N>.rcd`.
    Delta(u64),
    /// `events`: the server-sent events of new publications (served, never a file).
    Events,
    /// `status/...`: a standard view of the latest list (feature `standards` writes
    /// them; any server serves them with [`StatusView::media_type`]).
    Status(StatusView),
}

/// The standard views beside the native files (`net::standards`, feature `standards`):
/// `status/ietf.jwt`, `status/w3c-revocation.jwt`, `status/w3c-suspension.jwt`,
/// `status/jwks.json`, each rewritten (atomically) when the status changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusView {
    /// The IETF Token Status List token.
    Ietf,
    /// The W3C Bitstring Status List credential of purpose `revocation`.
    W3cRevocation,
    /// The W3C Bitstring Status List credential of purpose `suspension`.
    W3cSuspension,
    /// The JWK set of the key that signs them.
    Jwks,
}

/// Largest standard view read or served: the IETF token of the largest list
/// ([`crate::MAX_LIST_CAPACITY`] indexes at 2 bits is 1 MiB, incompressible at worst,
/// times 4/3 for base64url) fits with room to spare.
pub const MAX_STATUS_VIEW_BYTES: usize = 2 << 20;

impl StatusView {
    /// Every view.
    pub const ALL: [Self; 4] = [
        Self::Ietf,
        Self::W3cRevocation,
        Self::W3cSuspension,
        Self::Jwks,
    ];

    /// The path inside the issuer's folder.
    #[must_use]
    pub const fn path(self) -> &'static str {
        match self {
            Self::Ietf => "status/ietf.jwt",
            Self::W3cRevocation => "status/w3c-revocation.jwt",
            Self::W3cSuspension => "status/w3c-suspension.jwt",
            Self::Jwks => "status/jwks.json",
        }
    }

    /// The media type it is served as: `application/statuslist+jwt` (the IETF token),
    /// `application/vc+jwt` (the W3C credentials, VC-JOSE-COSE), `application/jwk-set+json`.
    #[must_use]
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Ietf => "application/statuslist+jwt",
            Self::W3cRevocation | Self::W3cSuspension => "application/vc+jwt",
            Self::Jwks => "application/jwk-set+json",
        }
    }

    /// Whether an `Accept` header value admits this view's media type: absent, `*/*`,
    /// `application/*` or the type itself, in any entry (parameters ignored, except an
    /// entry with `q=0`, which refuses it).
    #[must_use]
    pub fn accepted_by(self, accept: Option<&str>) -> bool {
        let Some(accept) = accept else { return true };
        accept.split(',').any(|entry| {
            let mut parts = entry.split(';').map(str::trim);
            let range = parts.next().unwrap_or_default().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused && (range == "*/*" || range == "application/*" || range == self.media_type())
        })
    }
}

impl Resource {
    /// The path inside the issuer's folder.
    #[must_use]
    pub fn path(self) -> String {
        match self {
            Self::Latest => LATEST_FILE.to_owned(),
            Self::Anchor => ANCHOR_FILE.to_owned(),
            Self::KeySet(k) => format!("keysets/{k}.rks"),
            Self::List(n) => format!("lists/{n}.rcl"),
            Self::Delta(n) => format!("deltas/{n}.rcd"),
            Self::Events => "events".to_owned(),
            Self::Status(view) => view.path().to_owned(),
        }
    }

    /// The largest file of this kind that is read or served.
    #[must_use]
    pub fn max_bytes(self) -> usize {
        match self {
            Self::Latest => MAX_LATEST_BYTES,
            Self::Anchor => MAX_ROOT_ANCHOR_BYTES,
            Self::KeySet(_) => MAX_KEY_SET_BYTES,
            Self::List(_) => MAX_LIST_BYTES,
            Self::Delta(_) => MAX_DELTA_BYTES,
            Self::Events => 0,
            Self::Status(_) => MAX_STATUS_VIEW_BYTES,
        }
    }

    /// Whether the file never changes once written (sequence-named files).
    #[must_use]
    pub fn is_immutable(self) -> bool {
        matches!(self, Self::KeySet(_) | Self::List(_) | Self::Delta(_))
    }

    /// Parses a path inside an issuer's folder, exactly as [`Self::path`] writes it:
    /// sequence numbers in canonical decimal (no sign, no leading zero).
    #[must_use]
    pub fn parse(path: &str) -> Option<Self> {
        match path {
            LATEST_FILE => return Some(Self::Latest),
            ANCHOR_FILE => return Some(Self::Anchor),
            "events" => return Some(Self::Events),
            _ => {}
        }
        if let Some(view) = StatusView::ALL.into_iter().find(|v| v.path() == path) {
            return Some(Self::Status(view));
        }
        let (folder, file) = path.split_once('/')?;
        let (make, ext): (fn(u64) -> Self, &str) = match folder {
            "keysets" => (Self::KeySet, ".rks"),
            "lists" => (Self::List, ".rcl"),
            "deltas" => (Self::Delta, ".rcd"),
            _ => return None,
        };
        parse_sequence(file.strip_suffix(ext)?).map(make)
    }
}

/// A request path of the server: `/<issuer-dir>/<resource>`, taken as raw bytes (no
/// percent-decoding: an encoded `.` or `/` is simply not in the grammar).
#[must_use]
pub fn parse_request_path(path: &str) -> Option<(&str, Resource)> {
    let rest = path.strip_prefix('/')?;
    let (dir, resource) = rest.split_once('/')?;
    if !is_plain_dir_name(dir) {
        return None;
    }
    Some((dir, Resource::parse(resource)?))
}

fn parse_sequence(digits: &str) -> Option<u64> {
    if digits.is_empty()
        || digits.len() > MAX_SEQUENCE_DIGITS
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    digits.parse().ok()
}

/// `latest.json`: where the newest list, its delta, the key set and the anchor are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latest {
    /// [`LATEST_FORMAT`].
    pub format: u32,
    /// The issuer id.
    pub issuer: String,
    /// When the list was signed (Unix seconds).
    pub published_at: u64,
    /// The list's next update (Unix seconds).
    pub next_update: u64,
    /// The full list.
    pub list: ListPointer,
    /// The delta from the previous sequence, if the issuer published one.
    pub delta: Option<DeltaPointer>,
    /// The key set in force.
    pub key_set: KeySetPointer,
    /// The root anchor.
    pub anchor: AnchorPointer,
}

/// Where the full list is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPointer {
    /// Its sequence.
    pub sequence: u64,
    /// `lists/<sequence>.rcl`.
    pub path: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Its length.
    pub bytes: u64,
}

/// Where the delta to the newest list is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaPointer {
    /// The sequence it applies to.
    pub from: u64,
    /// The sequence it makes.
    pub to: u64,
    /// `deltas/<to>.rcd`.
    pub path: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// Its length.
    pub bytes: u64,
}

/// Where the key set is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySetPointer {
    /// Its sequence.
    pub sequence: u64,
    /// `keysets/<sequence>.rks`.
    pub path: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Where the root anchor is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorPointer {
    /// `anchor.rca`.
    pub path: String,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Why a `latest.json` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LatestError {
    /// Longer than [`MAX_LATEST_BYTES`].
    #[error("latest.json is {len} bytes, more than {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON of the pointer's shape.
    #[error("latest.json is not a format-1 pointer (line {line}, column {column})")]
    Malformed {
        /// Where the JSON parser stopped.
        line: usize,
        /// Where the JSON parser stopped.
        column: usize,
    },
    /// Another format number.
    #[error("latest.json has format {found}, this build reads {LATEST_FORMAT}")]
    Format {
        /// The format found.
        found: u32,
    },
    /// A path that is not the one the contract gives for its sequence, a digest that
    /// is not 64 lowercase hex digits, a delta not from `sequence - 1` to `sequence`,
    /// or a size beyond its kind's limit.
    #[error("latest.json names {field} inconsistently")]
    Inconsistent {
        /// The field.
        field: &'static str,
    },
}

impl Latest {
    /// Parses and checks a pointer: bounded, format 1, every path exactly the one the
    /// contract gives for its sequence (so a pointer cannot name a file elsewhere),
    /// digests in lowercase hex, sizes within the limits.
    ///
    /// # Errors
    /// [`LatestError`] naming what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LatestError> {
        if bytes.len() > MAX_LATEST_BYTES {
            return Err(LatestError::TooLong {
                len: bytes.len(),
                max: MAX_LATEST_BYTES,
            });
        }
        let latest: Self = serde_json::from_slice(bytes).map_err(|e| LatestError::Malformed {
            line: e.line(),
            column: e.column(),
        })?;
        latest.check()?;
        Ok(latest)
    }

    /// The pointer as JSON (one line).
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn check(&self) -> Result<(), LatestError> {
        let bad = |field| Err(LatestError::Inconsistent { field });
        if self.format != LATEST_FORMAT {
            return Err(LatestError::Format { found: self.format });
        }
        if IssuerId::new(self.issuer.clone()).is_err() {
            return bad("issuer");
        }
        let l = &self.list;
        if l.path != Resource::List(l.sequence).path()
            || !is_hex_digest(&l.sha256)
            || l.bytes > MAX_LIST_BYTES as u64
        {
            return bad("list");
        }
        if let Some(d) = &self.delta
            && (d.to != l.sequence
                || d.from.checked_add(1) != Some(d.to)
                || d.path != Resource::Delta(d.to).path()
                || !is_hex_digest(&d.sha256)
                || d.bytes > MAX_DELTA_BYTES as u64)
        {
            return bad("delta");
        }
        let k = &self.key_set;
        if k.path != Resource::KeySet(k.sequence).path() || !is_hex_digest(&k.sha256) {
            return bad("key_set");
        }
        if self.anchor.path != ANCHOR_FILE || !is_hex_digest(&self.anchor.sha256) {
            return bad("anchor");
        }
        Ok(())
    }
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// SHA-256 of `bytes` in lowercase hex, as `latest.json` names files.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_views_parse_and_negotiate_their_media_types() {
        for view in StatusView::ALL {
            assert_eq!(Resource::parse(view.path()), Some(Resource::Status(view)));
            assert_eq!(Resource::Status(view).path(), view.path());
            assert!(!Resource::Status(view).is_immutable());
        }
        assert_eq!(Resource::parse("status/other.jwt"), None);
        assert_eq!(Resource::parse("status/../ietf.jwt"), None);
        let ietf = StatusView::Ietf;
        assert!(ietf.accepted_by(None));
        assert!(ietf.accepted_by(Some("application/statuslist+jwt")));
        assert!(ietf.accepted_by(Some("text/html, application/*;q=0.5")));
        assert!(ietf.accepted_by(Some("*/*")));
        assert!(!ietf.accepted_by(Some("application/vc+jwt")));
        assert!(!ietf.accepted_by(Some("application/statuslist+jwt;q=0")));
        assert!(!ietf.accepted_by(Some("application/statuslist+cwt")));
        assert!(StatusView::W3cSuspension.accepted_by(Some("application/vc+jwt")));
        assert!(!StatusView::W3cSuspension.accepted_by(Some("application/statuslist+jwt")));
    }

    #[test]
    fn issuer_dirs_never_hold_a_dot_or_a_slash() {
        let plain = IssuerId::new("metro-police_2").unwrap();
        assert_eq!(issuer_dir_name(&plain), "metro-police_2");
        for odd in ["..", ".", "a/b", "-lead", "x+y", "a.b"] {
            let name = issuer_dir_name(&IssuerId::new(odd).unwrap());
            assert!(name.starts_with("x-"), "{odd} -> {name}");
            assert!(is_plain_dir_name(&name));
        }
        assert_eq!(issuer_dir_name(&IssuerId::new("..").unwrap()), "x-2e2e");
        // A plain id shaped like another id's hex form gets a folder of its own.
        assert_eq!(
            issuer_dir_name(&IssuerId::new("x-2e2e").unwrap()),
            "x-782d32653265"
        );
    }

    #[test]
    fn the_request_grammar_takes_only_the_layout() {
        assert_eq!(
            parse_request_path("/metro/lists/12.rcl"),
            Some(("metro", Resource::List(12)))
        );
        assert_eq!(
            parse_request_path("/metro/latest.json"),
            Some(("metro", Resource::Latest))
        );
        assert_eq!(
            parse_request_path("/x-2e2e/events"),
            Some(("x-2e2e", Resource::Events))
        );
        for bad in [
            "/../etc/passwd",
            "/metro/../latest.json",
            "/metro/lists/../../x.rcl",
            "/%2e%2e/latest.json",
            "/metro/lists/%2e%2e.rcl",
            "/metro/lists/012.rcl",
            "/metro/lists/+1.rcl",
            "/metro/lists/1.rcl/",
            "/metro/lists/99999999999999999999.rcl",
            "/metro//latest.json",
            "//metro/latest.json",
            "/metro/latest.json?",
            "/.metro/latest.json",
            "/metro",
            "metro/latest.json",
            "/metro/deltas/1.rcl",
        ] {
            assert_eq!(parse_request_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_pointer_cannot_name_a_file_outside_its_sequence() {
        let good = Latest {
            format: 1,
            issuer: "metro".into(),
            published_at: 1,
            next_update: 2,
            list: ListPointer {
                sequence: 3,
                path: "lists/3.rcl".into(),
                sha256: "0".repeat(64),
                bytes: 10,
            },
            delta: Some(DeltaPointer {
                from: 2,
                to: 3,
                path: "deltas/3.rcd".into(),
                sha256: "a".repeat(64),
                bytes: 10,
            }),
            key_set: KeySetPointer {
                sequence: 1,
                path: "keysets/1.rks".into(),
                sha256: "b".repeat(64),
            },
            anchor: AnchorPointer {
                path: "anchor.rca".into(),
                sha256: "c".repeat(64),
            },
        };
        assert_eq!(Latest::from_json(&good.to_json()).unwrap(), good);
        let mut bad = good.clone();
        bad.list.path = "../../etc/passwd".into();
        assert!(Latest::from_json(&bad.to_json()).is_err());
        let mut bad = good.clone();
        bad.delta.as_mut().unwrap().from = 1;
        assert!(Latest::from_json(&bad.to_json()).is_err());
        let mut bad = good.clone();
        bad.format = 2;
        assert_eq!(
            Latest::from_json(&bad.to_json()),
            Err(LatestError::Format { found: 2 })
        );
        assert!(matches!(
            Latest::from_json(&vec![b' '; MAX_LATEST_BYTES + 1]),
            Err(LatestError::TooLong { .. })
        ));
    }
}
