//! What was compromised: the incident a registry declares. Plain data, below the
//! store (a reissue job records its incident) and the audit log (a declaration names
//! it), so that neither depends on the workflow that handles it.

use std::collections::BTreeSet;

use crate::model::RevocationReason;
use crate::model::{KeyId, PrintBatchId, Serial};

/// What was compromised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "incident", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Incident {
    /// A supplier was breached: everything in every batch it printed.
    Supplier {
        /// The supplier.
        supplier: String,
    },
    /// One print batch's data leaked.
    PrintBatch {
        /// The batch.
        batch: PrintBatchId,
    },
    /// An issuer key is compromised: everything it signed.
    IssuerKey {
        /// The key.
        key_id: KeyId,
    },
    /// These credentials.
    Serials {
        /// The serials.
        serials: Vec<Serial>,
    },
    /// The credentials these holders held when the incident was first declared (a
    /// leaked list of names and pay numbers). Their replacements, and any card issued
    /// to them since, were not in the leak: once declared, the incident covers no
    /// current card, and declaring it again does nothing. A new leak of the same
    /// holders' current cards names those cards ([`Incident::Serials`]).
    Holders {
        /// Their pay numbers.
        pay_numbers: Vec<String>,
    },
}

impl Incident {
    /// Whether `other` is the same incident: the same kind naming the same things,
    /// lists compared as sets (order and repetition do not matter).
    #[must_use]
    pub fn is_same_as(&self, other: &Self) -> bool {
        fn set<T: Ord>(items: &[T]) -> BTreeSet<&T> {
            items.iter().collect()
        }
        match (self, other) {
            (Self::Serials { serials: a }, Self::Serials { serials: b }) => set(a) == set(b),
            (Self::Holders { pay_numbers: a }, Self::Holders { pay_numbers: b }) => {
                set(a) == set(b)
            }
            _ => self == other,
        }
    }

    /// The revocation reason recorded by default for this kind of incident.
    #[must_use]
    pub fn default_reason(&self) -> RevocationReason {
        match self {
            Self::Supplier { .. } | Self::PrintBatch { .. } | Self::Holders { .. } => {
                RevocationReason::SupplierBreach
            }
            Self::IssuerKey { .. } => RevocationReason::IssuerKeyCompromise,
            Self::Serials { .. } => RevocationReason::KeyCompromise,
        }
    }
}
