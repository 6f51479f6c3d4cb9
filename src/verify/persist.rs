//! A door's trust, saved and restored: [`VerifierState::to_bytes`] and
//! [`VerifierState::from_bytes`] (and the `Verifier`'s `export_state` and
//! `from_state_bytes`, with `std`).
//!
//! A door that restarts from its root alone must relearn everything, and until it does
//! it is weaker than before: a key set it had installed can be offered again at an
//! older sequence, a key its operator revoked is forgotten, a rollback floor is gone.
//! Saving the state closes that window. The blob holds the roots and the key-set
//! sequence applied under each, every trusted key with its usage and revocation, every
//! revocation remembered (also of keys no set names any more), the rollback floors and
//! the lists held. Reading it checks everything again: the digest (a truncated or
//! corrupted file is refused), every limit, every key (as a root anchor or key anchor
//! is checked), and the invariants a verifier keeps (a list's signer is trusted for
//! lists and not revoked, its sequence is within its floor, a revoked key is
//! remembered as revoked). A refused blob leaves nothing: the door starts from its root.

use crate::prelude::*;

use crate::model::{IssuerId, KeyId};
use crate::verify::list::{StatusTable, check_capacity};
use crate::verify::{RevocationList, StateError, StatePart, TrustStore, VerifierState};
use crate::wire::{self, ListRecord, StateDecodeError, StateRecord};

impl From<StateDecodeError> for StateError {
    fn from(e: StateDecodeError) -> Self {
        match e {
            StateDecodeError::Decode(e) => Self::Malformed(e),
            StateDecodeError::Digest => Self::Corrupted,
            StateDecodeError::TooMany { part, count, max } => Self::TooMany { part, count, max },
        }
    }
}

impl VerifierState {
    /// The state as one versioned, checksummed blob (format
    /// [`crate::format::VERIFIER_STATE_FORMAT_VERSION`]) for the door to store and give back to
    /// [`Self::from_bytes`] after a restart. A state holding more than
    /// [`crate::format::MAX_STATE_LISTS`] issuers' lists writes them all, but reading it
    /// back is refused ([`StateError::TooMany`]).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let (roots, keys, revoked) = self.trust.to_records();
        let record = StateRecord {
            roots,
            keys,
            revoked,
            seen: self.seen.clone(),
            lists: self
                .lists
                .iter()
                .map(|l| ListRecord {
                    issuer: l.issuer.clone(),
                    key_id: l.key_id,
                    sequence: l.sequence,
                    issued_at: l.issued_at,
                    next_update: l.next_update,
                    capacity: l.table.capacity(),
                    table: l.table.to_bytes(),
                    scopes: l.scopes.clone(),
                    state: l.state,
                    audit: l.audit,
                })
                .collect(),
        };
        wire::encode_state(&record)
    }

    /// A state from [`Self::to_bytes`], every part checked again. Reading takes no
    /// time: a list restored past its next update is stale as it would have been, and
    /// one whose signer's window ended is out of force
    /// ([`Self::list_in_force`]).
    ///
    /// # Errors
    /// [`StateError`] naming why; nothing of the blob is used, and the door should
    /// start again from its root.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let record = wire::decode_state(bytes)?;
        let trust = TrustStore::from_records(record.roots, record.keys, record.revoked)?;
        let mut seen: Vec<(IssuerId, KeyId, u64)> = Vec::new();
        for (issuer, key_id, sequence) in record.seen {
            if seen.iter().any(|(i, k, _)| *i == issuer && *k == key_id) {
                return Err(StateError::Duplicate {
                    part: StatePart::Floors,
                });
            }
            seen.push((issuer, key_id, sequence));
        }
        let inconsistent = |part| StateError::Inconsistent { part };
        let mut lists: Vec<Arc<RevocationList>> = Vec::new();
        for list in record.lists {
            if lists.iter().any(|l| l.issuer == list.issuer) {
                return Err(StateError::Duplicate {
                    part: StatePart::Lists,
                });
            }
            // The signer may sign this issuer's lists and is not revoked: a verifier
            // prunes every other list.
            if !trust.may_hold_lists(&list.issuer, &list.key_id) {
                return Err(inconsistent(StatePart::Lists));
            }
            // Its floor was recorded when it was installed.
            if !seen
                .iter()
                .any(|(i, k, s)| *i == list.issuer && *k == list.key_id && *s >= list.sequence)
            {
                return Err(inconsistent(StatePart::Floors));
            }
            check_capacity(list.capacity).map_err(|_| inconsistent(StatePart::Lists))?;
            let table = StatusTable::from_bytes(list.capacity, &list.table)
                .ok_or(inconsistent(StatePart::Lists))?;
            if list.next_update < list.issued_at {
                return Err(inconsistent(StatePart::Lists));
            }
            lists.push(Arc::new(RevocationList {
                issuer: list.issuer,
                key_id: list.key_id,
                sequence: list.sequence,
                issued_at: list.issued_at,
                next_update: list.next_update,
                table,
                scopes: list.scopes,
                state: list.state,
                audit: list.audit,
            }));
        }
        Ok(Self { trust, lists, seen })
    }
}
