//! The issuer's side of the status list: change statuses and scopes, then sign the
//! next list and the delta from the previous one.

use std::collections::BTreeMap;

use crate::issue::{IssuerKey, PublishListError, SignError};
use crate::model::{
    AuditHead, IssuerId, MAX_SCOPE_ENTRIES, RevocationReason, Scope, ScopeEntry, Status, UnixTime,
};
use crate::verify::{StatusError, StatusTable, check_capacity};
use crate::wire;

/// The issuer's working copy of its status list: statuses, reasons and scopes, and
/// what was last published so that the next publication can carry a delta.
#[derive(Debug, Clone)]
pub struct IssuerStatusList {
    issuer: IssuerId,
    table: StatusTable,
    reasons: BTreeMap<u32, (RevocationReason, UnixTime)>,
    scopes: Vec<ScopeEntry>,
    sequence: u64,
    published: Option<Published>,
}

#[derive(Debug, Clone)]
struct Published {
    table: StatusTable,
    scopes: usize,
    /// The state digest of the list last published (see `wire`).
    state: [u8; 32],
}

/// What one publication produced: the full signed list and, after the first, the
/// signed delta from the previous sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The sequence number of the new list.
    pub sequence: u64,
    /// The full signed list.
    pub list: Vec<u8>,
    /// The signed delta from `sequence - 1` to `sequence`; `None` for the first list.
    pub delta: Option<Vec<u8>>,
}

impl IssuerStatusList {
    /// A new, all-valid list of `capacity` indexes, nothing published yet.
    ///
    /// # Errors
    /// [`StatusError::Capacity`] if `capacity` is outside
    /// [`crate::MIN_LIST_CAPACITY`]`..=`[`crate::MAX_LIST_CAPACITY`].
    pub fn new(issuer: IssuerId, capacity: u32) -> Result<Self, StatusError> {
        check_capacity(capacity)?;
        Ok(Self {
            issuer,
            table: StatusTable::new(capacity),
            reasons: BTreeMap::new(),
            scopes: Vec::new(),
            sequence: 0,
            published: None,
        })
    }

    /// Rebuilds the working copy from stored state (a registry), taking it as already
    /// published at `sequence` with state digest `state` (read it from that list with
    /// [`crate::list_state_digest`]): the next publication is `sequence + 1` with a delta from
    /// `sequence`.
    ///
    /// # Errors
    /// [`StatusError`] if the capacity, an index or the number of scopes is out of range.
    pub fn restore(
        issuer: IssuerId,
        capacity: u32,
        sequence: u64,
        state: [u8; 32],
        statuses: impl IntoIterator<Item = (u32, Status, Option<(RevocationReason, UnixTime)>)>,
        scopes: Vec<ScopeEntry>,
    ) -> Result<Self, StatusError> {
        let mut list = Self::new(issuer, capacity)?;
        for (index, status, reason) in statuses {
            if !list.table.set(index, status) {
                return Err(StatusError::IndexOutOfRange { index, capacity });
            }
            if let (Status::Revoked, Some(reason)) = (status, reason) {
                list.reasons.insert(index, reason);
            }
        }
        if scopes.len() > MAX_SCOPE_ENTRIES {
            return Err(StatusError::TooManyScopes {
                max: MAX_SCOPE_ENTRIES,
            });
        }
        list.scopes = scopes;
        list.sequence = sequence;
        if sequence > 0 {
            list.published = Some(Published {
                table: list.table.clone(),
                scopes: list.scopes.len(),
                state,
            });
        }
        Ok(list)
    }

    /// The issuer.
    #[must_use]
    pub fn issuer(&self) -> &IssuerId {
        &self.issuer
    }

    /// How many indexes the list covers.
    #[must_use]
    pub fn capacity(&self) -> u32 {
        self.table.capacity()
    }

    /// The sequence number of the last publication (0 before the first).
    #[must_use]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The status of `index`, if in range.
    #[must_use]
    pub fn status(&self, index: u32) -> Option<Status> {
        self.table.get(index)
    }

    /// The reason and time of an individual revocation.
    #[must_use]
    pub fn reason(&self, index: u32) -> Option<(RevocationReason, UnixTime)> {
        self.reasons.get(&index).copied()
    }

    /// The scope entries in force.
    #[must_use]
    pub fn scopes(&self) -> &[ScopeEntry] {
        &self.scopes
    }

    /// Revokes one index, permanently. Revoking a revoked index keeps the first reason.
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`].
    pub fn revoke(
        &mut self,
        index: u32,
        reason: RevocationReason,
        at: UnixTime,
    ) -> Result<(), StatusError> {
        match self.table.get(index) {
            None => Err(StatusError::IndexOutOfRange {
                index,
                capacity: self.capacity(),
            }),
            Some(Status::Revoked) => Ok(()),
            Some(_) => {
                self.table.set(index, Status::Revoked);
                self.reasons.insert(index, (reason, at));
                Ok(())
            }
        }
    }

    /// Suspends one index (reversible).
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`]; [`StatusError::RevokedIsPermanent`] if revoked.
    pub fn suspend(&mut self, index: u32) -> Result<(), StatusError> {
        self.change_reversible(index, Status::Suspended)
    }

    /// Lifts a suspension.
    ///
    /// # Errors
    /// [`StatusError::IndexOutOfRange`]; [`StatusError::RevokedIsPermanent`] if revoked.
    pub fn reinstate(&mut self, index: u32) -> Result<(), StatusError> {
        self.change_reversible(index, Status::Valid)
    }

    fn change_reversible(&mut self, index: u32, to: Status) -> Result<(), StatusError> {
        match self.table.get(index) {
            None => Err(StatusError::IndexOutOfRange {
                index,
                capacity: self.capacity(),
            }),
            Some(Status::Revoked) => Err(StatusError::RevokedIsPermanent { index }),
            Some(_) => {
                self.table.set(index, to);
                Ok(())
            }
        }
    }

    /// Adds a scope revocation. Adding an entry with the same scope again is a no-op.
    ///
    /// # Errors
    /// [`StatusError::TooManyScopes`] past [`MAX_SCOPE_ENTRIES`].
    pub fn revoke_scope(&mut self, entry: ScopeEntry) -> Result<(), StatusError> {
        if self.scopes.iter().any(|e| e.scope == entry.scope) {
            return Ok(());
        }
        if self.scopes.len() >= MAX_SCOPE_ENTRIES {
            return Err(StatusError::TooManyScopes {
                max: MAX_SCOPE_ENTRIES,
            });
        }
        self.scopes.push(entry);
        Ok(())
    }

    /// Signs the next list (sequence + 1) and the delta from the previous one,
    /// committing to an empty audit log (see [`Self::publish_at`]).
    ///
    /// # Errors
    /// As [`Self::publish_at`].
    pub fn publish(
        &mut self,
        key: &IssuerKey,
        now: UnixTime,
        next_update: UnixTime,
    ) -> Result<Publication, PublishListError> {
        self.publish_at(key, now, next_update, AuditHead::EMPTY)
    }

    /// Signs the next list (sequence + 1), committing to the issuer's audit log head
    /// `audit`, and the delta from the previous one. The delta names the state of the
    /// list it applies to; the list names its own state.
    ///
    /// # Errors
    /// [`StatusError::WrongIssuer`] if `key` signs for another issuer;
    /// [`StatusError::KeyNotValidNow`] outside the key's window;
    /// [`StatusError::NextUpdateInPast`] if `next_update < now`;
    /// [`StatusError::SignerRevoked`] if a scope entry of the list revokes `key` (all
    /// as [`PublishListError::Status`]); [`PublishListError::Sign`] if a key held outside the
    /// process (a token) failed to sign or returned a bad signature. On any error the
    /// working copy is unchanged: the next call signs the same sequence.
    pub fn publish_at(
        &mut self,
        key: &IssuerKey,
        now: UnixTime,
        next_update: UnixTime,
        audit: AuditHead,
    ) -> Result<Publication, PublishListError> {
        if key.issuer() != &self.issuer {
            return Err(StatusError::WrongIssuer.into());
        }
        let window = key.validity();
        if now < window.not_before || now > window.not_after {
            return Err(StatusError::KeyNotValidNow {
                key_id: key.key_id(),
            }
            .into());
        }
        if next_update < now {
            return Err(StatusError::NextUpdateInPast.into());
        }
        if self
            .scopes
            .iter()
            .any(|e| e.scope == Scope::IssuerKey(key.key_id()))
        {
            // A list that revokes its own signer vouches for nothing; doors refuse it.
            return Err(StatusError::SignerRevoked {
                key_id: key.key_id(),
            }
            .into());
        }
        let sequence = self
            .sequence
            .checked_add(1)
            .ok_or(PublishListError::Status(StatusError::SequenceExhausted))?;
        let header = wire::ListHeader {
            issuer: self.issuer.clone(),
            key_id: key.key_id(),
            issued_at: now,
            next_update,
            capacity: self.capacity(),
        };
        let revoked = self.table.indexes_with(Status::Revoked);
        let suspended = self.table.indexes_with(Status::Suspended);
        let (delta, state) = match &self.published {
            Some(published) => {
                let (revoked, suspended, reinstated) = published.table.diff(&self.table);
                let new_scopes = self.scopes.get(published.scopes..).unwrap_or(&[]);
                let body = wire::encode_delta(
                    &header,
                    self.sequence,
                    sequence,
                    &published.state,
                    &wire::DeltaSets {
                        revoked: &revoked,
                        suspended: &suspended,
                        reinstated: &reinstated,
                    },
                    new_scopes,
                );
                let state = wire::state_after(&published.state, &body);
                // The signature covers the base state, which the delta does not carry.
                let signature = key.sign(
                    wire::DELTA_DOMAIN,
                    wire::LIST_FORMAT_VERSION,
                    &wire::delta_payload(&published.state, &body),
                )?;
                let delta = wire::assemble_signed(wire::LIST_FORMAT_VERSION, &signature, &body);
                (Some(delta), state)
            }
            None => {
                let first = wire::encode_list(
                    &header,
                    sequence,
                    &[0; 32],
                    audit,
                    &revoked,
                    &suspended,
                    &self.scopes,
                );
                (None, wire::genesis_state(&first))
            }
        };
        let list = wire::encode_list(
            &header,
            sequence,
            &state,
            audit,
            &revoked,
            &suspended,
            &self.scopes,
        );
        let list = sign_object(key, wire::LIST_DOMAIN, &list)?;
        self.sequence = sequence;
        self.published = Some(Published {
            table: self.table.clone(),
            scopes: self.scopes.len(),
            state,
        });
        Ok(Publication {
            sequence,
            list,
            delta,
        })
    }
}

fn sign_object(key: &IssuerKey, domain: &[u8], body: &[u8]) -> Result<Vec<u8>, SignError> {
    Ok(wire::assemble_signed(
        wire::LIST_FORMAT_VERSION,
        &key.sign(domain, wire::LIST_FORMAT_VERSION, body)?,
        body,
    ))
}
