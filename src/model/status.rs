//! Statuses, revocation reasons and scope entries: plain data.

use crate::model::{Claims, KeyId, PrintBatchId, UnixTime};

/// Fewest indexes a list covers: herd privacy, as in W3C Bitstring Status List (2^17).
pub const MIN_LIST_CAPACITY: u32 = 131_072;

/// Most indexes a list covers (2^22 = 4,194,304; a national scheme fits). Bounds
/// decoding memory: a table of capacity/4 bytes, and transient index sets of at most
/// 4 bytes an index.
pub const MAX_LIST_CAPACITY: u32 = 1 << 22;

/// Most scope entries a list carries. Each is one breach, key or cut-off: a handful
/// in a lifetime.
pub const MAX_SCOPE_ENTRIES: usize = 1024;

/// The status of one index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Status {
    /// In force.
    Valid,
    /// Temporarily not in force (a card reported lost, then found); reversible.
    Suspended,
    /// Permanently withdrawn.
    Revoked,
}

/// Why a credential (or a scope) was revoked. RFC 5280's reason codes are the reference;
/// the policing cases it lacks are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RevocationReason {
    /// No reason given (RFC 5280 `unspecified`).
    Unspecified,
    /// The card's own key is compromised (RFC 5280 `keyCompromise`).
    KeyCompromise,
    /// The issuer key that signed it is compromised (RFC 5280 `cACompromise`).
    IssuerKeyCompromise,
    /// Moved to another force or role (RFC 5280 `affiliationChanged`).
    AffiliationChanged,
    /// Replaced by a new credential (RFC 5280 `superseded`).
    Superseded,
    /// Left the service (RFC 5280 `cessationOfOperation`).
    LeftService,
    /// Access withdrawn, e.g. vetting withdrawn or dismissal (RFC 5280 `privilegeWithdrawn`).
    PrivilegeWithdrawn,
    /// A supplier that handled the card's data was breached.
    SupplierBreach,
    /// Reported lost.
    Lost,
    /// Reported stolen.
    Stolen,
}

impl RevocationReason {
    /// The reason's code: its position in [`Self::ALL`], the one numbering the wire
    /// format and the registry's storage both use.
    #[must_use]
    pub fn code(self) -> u8 {
        let mut at = 0u8;
        for r in Self::ALL {
            if r == self {
                return at;
            }
            at = at.saturating_add(1);
        }
        0
    }

    /// The reason a code names, if any.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The reason's name, as operators type it and reports print it
    /// (`supplier-breach`, `left-service`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "key-compromise",
            Self::IssuerKeyCompromise => "issuer-key-compromise",
            Self::AffiliationChanged => "affiliation-changed",
            Self::Superseded => "superseded",
            Self::LeftService => "left-service",
            Self::PrivilegeWithdrawn => "privilege-withdrawn",
            Self::SupplierBreach => "supplier-breach",
            Self::Lost => "lost",
            Self::Stolen => "stolen",
        }
    }

    /// Every reason, in wire-code order.
    pub const ALL: [Self; 10] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::IssuerKeyCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::LeftService,
        Self::PrivilegeWithdrawn,
        Self::SupplierBreach,
        Self::Lost,
        Self::Stolen,
    ];
}

impl core::fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a scope entry revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// Every credential printed in this batch (the supplier that printed it was breached).
    PrintBatch(PrintBatchId),
    /// Every credential signed by this issuer key.
    IssuerKey(KeyId),
    /// Every credential of the issuer issued strictly before this time.
    IssuedBefore(UnixTime),
}

impl Scope {
    /// Whether this scope covers a credential with these claims.
    #[must_use]
    pub fn covers(&self, claims: &Claims) -> bool {
        self.covers_parts(claims.print_batch, claims.key_id, claims.issued_at)
    }

    /// Whether this scope covers a credential of this batch, key and issue time.
    #[must_use]
    pub fn covers_parts(&self, batch: PrintBatchId, key: KeyId, issued_at: UnixTime) -> bool {
        match *self {
            Self::PrintBatch(b) => batch == b,
            Self::IssuerKey(k) => key == k,
            Self::IssuedBefore(cutoff) => issued_at < cutoff,
        }
    }
}

/// One scope revocation: what, why, since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ScopeEntry {
    /// What is revoked.
    pub scope: Scope,
    /// Why.
    pub reason: RevocationReason,
    /// When it was declared.
    pub since: UnixTime,
}

/// Which list entry revoked a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RevokedBy {
    /// Its own status index is marked revoked (the reason stays with the issuer).
    Index,
    /// A scope entry covers it.
    Scope(ScopeEntry),
}

impl core::fmt::Display for RevokedBy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Index => f.write_str("status index marked revoked"),
            Self::Scope(e) => {
                match e.scope {
                    Scope::PrintBatch(b) => write!(f, "print batch {}", b.0)?,
                    Scope::IssuerKey(k) => write!(f, "issuer key {k}")?,
                    Scope::IssuedBefore(t) => write!(f, "issued before {t}")?,
                }
                write!(f, ", {:?} since {}", e.reason, e.since)
            }
        }
    }
}

/// A list's answer for one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusAnswer {
    /// Neither revoked nor suspended.
    Valid,
    /// Its index is suspended.
    Suspended,
    /// Revoked, and by what.
    Revoked(RevokedBy),
}
