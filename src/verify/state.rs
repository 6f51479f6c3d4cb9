//! The verification state a caller owns: trusted roots and keys, the issuers' current
//! lists, and the rollback floors. Every check of a credential, list, delta and key set
//! lives here, with no I/O, no clock, no lock and no `std`: a reader on a
//! microcontroller keeps one [`VerifierState`] and calls it with `&mut`; the
//! thread-safe `Verifier` (with `std`) swaps immutable states behind a pointer.
//!
//! One function, [`VerifierState::accept`], decides a credential and is the only place
//! a [`VerifiedCredential`] is made: `verify`, the door's tap and the batch audit all
//! end there. The batch paths may only hand it a proof that a batch holding the
//! credential's signature verified ([`BatchVerified`]); a door's first tap hands it the
//! card's response, which `accept` checks together with the credential's signature
//! (`pair::verify_strict_pair`); everything else is checked in `accept`.

use crate::prelude::*;

use crate::model::{Claims, IssuerId, KeyId, KeyUsage, Scope, StatusAnswer, UnixTime};
use alloc::collections::BTreeMap;

use ed25519_dalek::{Signature, VerifyingKey};

use crate::verify::batch::{BatchVerified, signature_is_canonical, verify_together};
use crate::verify::pair::{Signed, verify_strict_pair};
use crate::verify::{
    Denial, IssuerPublicKey, KeySet, KeySetError, ListError, ListUpdate, MAX_BATCH_CHUNK,
    MAX_TRUSTED_KEYS, RevocationList, RootPublicKey, StalePolicy, StatusError, StatusTable,
    TrustError, TrustStore, UnverifiedCredential, VerifiedCredential, VerifyOptions,
};
use crate::wire::{self, ParsedDelta, StatusSets};

/// How a credential's issuer signature is established before it is accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SignatureCheck<'a> {
    /// `accept` checks it with `verify_strict`.
    Strict,
    /// A batch that held it (after `verify_strict`'s pre-checks) verified.
    Batched(BatchVerified),
    /// `accept` checks it together with a card's response to a door's challenge, each
    /// with exactly `verify_strict`'s answer ([`verify_strict_pair`]), and reports the
    /// response's answer in [`Accepted::response_verified`].
    WithResponse(CardResponse<'a>),
}

/// A card's response, to be checked with the credential that names its key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CardResponse<'a> {
    /// The card key the credential names, decompressed.
    pub(crate) key: &'a VerifyingKey,
    /// What the card should have signed.
    pub(crate) message: &'a [u8],
    /// What it sent.
    pub(crate) signature: &'a Signature,
}

/// A credential `accept`ed, and, if a card's response was checked with it, whether
/// the response's signature verified.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub(crate) credential: VerifiedCredential,
    pub(crate) response_verified: Option<bool>,
}

/// Why `accept` refused, and whether the credential's signature had been verified
/// (so that a door's event can say whether the serial it names is real).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) denial: Denial,
    pub(crate) signature_verified: bool,
}

/// A delta whose signature and sets were checked against a state, to commit to it.
pub(crate) struct CheckedDelta<'a> {
    delta: ParsedDelta<'a>,
    sets: StatusSets,
    /// The state of the list its signature was checked against.
    base_state: [u8; 32],
}

/// Whether `delta` applies to `held`: same capacity, starting at the held sequence
/// (older is a rollback, newer a gap), from the held state as far as its hint tells
/// (the signature, checked over the held state, decides).
fn place_delta(held: &RevocationList, delta: &ParsedDelta<'_>) -> Result<(), ListError> {
    if held.capacity() != delta.header.capacity {
        return Err(ListError::CapacityMismatch {
            held: held.capacity(),
            offered: delta.header.capacity,
        });
    }
    if delta.from_sequence < held.sequence {
        return Err(ListError::Rollback {
            held: held.sequence,
            offered: delta.to_sequence,
        });
    }
    if delta.from_sequence > held.sequence {
        return Err(ListError::Gap {
            held: held.sequence,
            from: delta.from_sequence,
        });
    }
    if !delta.hints_at(&held.state) {
        return Err(ListError::Branch {
            sequence: held.sequence,
        });
    }
    Ok(())
}

/// Trusted roots and keys, the issuers' current lists, and the highest list sequence
/// seen under each signing key (the rollback floor). Plain data: clone it, keep it,
/// share it behind an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct VerifierState {
    pub(crate) trust: TrustStore,
    pub(crate) lists: Vec<Arc<RevocationList>>,
    /// (issuer, signing key, highest sequence installed under that key). Kept per key
    /// so that revoking a key takes its sequences out of the floor: a stolen key that
    /// signed a list at `u64::MAX` cannot lock the honest key out.
    pub(crate) seen: Vec<(IssuerId, KeyId, u64)>,
}

impl VerifierState {
    /// A state trusting what `trust` holds, with no list yet: until a list for an
    /// issuer is installed, that issuer's cards are denied ([`Denial::NoStatusList`]).
    #[must_use]
    pub fn new(trust: TrustStore) -> Self {
        Self {
            trust,
            lists: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// The trust store.
    #[must_use]
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The list held for `issuer`, in force or not: see [`Self::list_in_force`].
    #[must_use]
    pub fn list(&self, issuer: &IssuerId) -> Option<&Arc<RevocationList>> {
        self.list_of(issuer)
    }

    fn list_of(&self, issuer: &IssuerId) -> Option<&Arc<RevocationList>> {
        self.lists.iter().find(|l| &l.issuer == issuer)
    }

    /// The list held for `issuer` if it is in force at `now`: a list decides only while
    /// its signer may sign lists (certified by the key set in force or pinned, not
    /// revoked, inside its window, with the clock skew allowed). The one place this
    /// rule lives: the status check, the base of every list and delta installed, and
    /// the rollback floor all go through it, so a list whose signer stopped being
    /// usable by any route (revoked, dropped from the key set, expired) decides nothing
    /// and holds nothing back.
    ///
    /// # Errors
    /// [`Denial::NoStatusList`] if none is held; [`Denial::ListSignerUnusable`] naming
    /// why its signer may no longer sign lists.
    pub fn list_in_force(
        &self,
        issuer: &IssuerId,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<&Arc<RevocationList>, Denial> {
        self.in_force(issuer, now, options).map(|(list, _)| list)
    }

    /// The list in force for `issuer` and its signer (see [`Self::list_in_force`]).
    fn in_force(
        &self,
        issuer: &IssuerId,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<(&Arc<RevocationList>, &IssuerPublicKey), Denial> {
        let list = self.list_of(issuer).ok_or_else(|| Denial::NoStatusList {
            issuer: issuer.clone(),
        })?;
        let signer = self.signer_in_force(list, now, options)?;
        Ok((list, signer))
    }

    /// The key that signed `list`, if it may still sign lists at `now`.
    fn signer_in_force(
        &self,
        list: &RevocationList,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<&IssuerPublicKey, Denial> {
        usable_key(
            &self.trust,
            list.key_id,
            &list.issuer,
            now,
            options,
            KeyUsage::Lists,
        )
        .map_err(|because| Denial::ListSignerUnusable {
            sequence: list.sequence,
            key_id: list.key_id,
            because: Box::new(because),
        })
    }

    /// When the list in force for `issuer` stops deciding: the earlier of its own next
    /// update and its signer's `not_after` (as a CRL is bounded by its issuer's
    /// certificate). `None` if no list is in force.
    #[must_use]
    pub fn effective_next_update(
        &self,
        issuer: &IssuerId,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Option<UnixTime> {
        let (list, signer) = self.in_force(issuer, now, options).ok()?;
        Some(list.next_update.min(signer.validity().not_after))
    }

    /// Verifies encoded credential bytes at `now`.
    ///
    /// # Errors
    /// A [`Denial`] naming the first check that failed.
    pub fn verify(
        &self,
        bytes: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<VerifiedCredential, Denial> {
        let cred = UnverifiedCredential::from_bytes(bytes)?;
        self.accept(cred, now, options, SignatureCheck::Strict)
            .map(|a| a.credential)
            .map_err(|r| r.denial)
    }

    /// Decides a credential: the signing key (trusted for credentials, not revoked, in
    /// its window), the issuer signature over the exact bytes received (checked here
    /// with `verify_strict`'s answer, alone or with a card's response, unless a batch
    /// that held it verified), then the issue time, the validity window and the status.
    /// The only place a [`VerifiedCredential`] is made.
    pub(crate) fn accept(
        &self,
        cred: UnverifiedCredential<'_>,
        now: UnixTime,
        options: &VerifyOptions,
        signature: SignatureCheck<'_>,
    ) -> Result<Accepted, Refusal> {
        let unverified = |denial| Refusal {
            denial,
            signature_verified: false,
        };
        let claims = &cred.parsed.claims;
        let key = self.usable_key(claims, now, options).map_err(unverified)?;
        let message = || {
            wire::signed_message(
                wire::CREDENTIAL_DOMAIN,
                wire::FORMAT_VERSION,
                cred.parsed.body,
            )
        };
        let credential_signature = Signature::from_bytes(&cred.parsed.signature);
        let response_verified = match signature {
            SignatureCheck::Strict => {
                key.verifying_key()
                    .verify_strict(&message(), &credential_signature)
                    .map_err(|_| unverified(Denial::BadSignature))?;
                None
            }
            SignatureCheck::Batched(_) => None,
            SignatureCheck::WithResponse(response) => {
                let [credential_good, response_good] = verify_strict_pair(
                    key.verifying_key(),
                    Signed {
                        message: &message(),
                        signature: &credential_signature,
                    },
                    response.key,
                    Signed {
                        message: response.message,
                        signature: response.signature,
                    },
                );
                if !credential_good {
                    return Err(unverified(Denial::BadSignature));
                }
                Some(response_good)
            }
        };
        check_claims(self, key, claims, now, options).map_err(|denial| Refusal {
            denial,
            signature_verified: true,
        })?;
        Ok(Accepted {
            credential: VerifiedCredential::new(cred.parsed.claims),
            response_verified,
        })
    }

    /// The key that signed `claims`, if it is trusted for credentials, not revoked and
    /// within its window at `now`.
    pub(crate) fn usable_key(
        &self,
        claims: &Claims,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<&IssuerPublicKey, Denial> {
        usable_key(
            &self.trust,
            claims.key_id,
            &claims.issuer,
            now,
            options,
            KeyUsage::Credentials,
        )
    }

    /// Re-checks a credential whose signature was verified earlier (a cached one):
    /// key trust, revocation and window, issue time, validity and status. Everything
    /// [`Self::accept`] checks except the signature, in the same order.
    pub(crate) fn recheck(
        &self,
        claims: &Claims,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<(), Denial> {
        let key = self.usable_key(claims, now, options)?;
        check_claims(self, key, claims, now, options)
    }

    /// Pins a signing key (rotation without a root).
    ///
    /// # Errors
    /// As [`TrustStore::add`].
    pub fn add_key(&mut self, key: IssuerPublicKey) -> Result<(), TrustError> {
        self.trust.add(key)
    }

    /// Installs an issuer's root.
    ///
    /// # Errors
    /// As [`TrustStore::add_root`].
    pub fn add_root(&mut self, root: RootPublicKey) -> Result<(), TrustError> {
        self.trust.add_root(root)
    }

    /// Checks a key set against its issuer's installed root (without changing
    /// anything).
    pub(crate) fn check_key_set(
        &self,
        bytes: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<KeySet, KeySetError> {
        let issuer = wire::decode_key_set(bytes)?.fields.issuer;
        let root = self.trust.root(&issuer).ok_or(KeySetError::NoRoot {
            issuer: issuer.clone(),
        })?;
        root.verify_key_set(bytes, now, options.clock_skew_secs)
    }

    /// Applies a checked key set; every key it revokes takes its lists out of force.
    pub(crate) fn commit_key_set(&mut self, set: &KeySet) -> Result<ListUpdate, KeySetError> {
        let update = self.trust.apply_key_set(set)?;
        self.prune();
        Ok(update)
    }

    /// Checks a key set against its issuer's installed root and applies it: newly
    /// certified keys are trusted, and every key it revokes is revoked at once, which
    /// takes every list and delta that key signed out of force (see
    /// [`Self::revoke_key`]). On any error nothing changes.
    ///
    /// # Errors
    /// [`KeySetError`] naming why.
    pub fn install_key_set(
        &mut self,
        bytes: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<ListUpdate, KeySetError> {
        let set = self.check_key_set(bytes, now, options)?;
        self.commit_key_set(&set)
    }

    /// Revokes a key: every credential under it is denied from the next check, and
    /// every list or delta it signed is out of force at once. If the list held for its
    /// issuer was last signed by it, the issuer has no list (its cards are denied)
    /// until a list signed by a usable key arrives, whatever sequence the revoked key
    /// used.
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`].
    pub fn revoke_key(&mut self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        match self.trust.revoke(key_id, at) {
            Err(TrustError::UnknownKey { .. }) => {
                // A key this door saw sign lists and then lost from the key set (dropped
                // or expired) can still be revoked here: its operator may learn of the
                // theft before the root's next set says so.
                let mut issuers: Vec<IssuerId> = self
                    .seen
                    .iter()
                    .filter(|(_, k, _)| *k == key_id)
                    .map(|(i, _, _)| i.clone())
                    .collect();
                issuers.dedup();
                if issuers.is_empty() {
                    return Err(TrustError::UnknownKey { key_id });
                }
                for issuer in issuers {
                    self.trust.revoke_retired(key_id, issuer, at)?;
                }
            }
            other => other?,
        }
        self.prune();
        Ok(())
    }

    /// Takes out of force every list whose latest signer may no longer sign lists for
    /// its issuer whatever the time: revoked, no longer in the trust store (the key set
    /// dropped it), or no longer certified for lists. Its issuer has no list (and its
    /// cards are denied) until a list from a usable key arrives. (A signer whose window
    /// ended is out of force by [`Self::list_in_force`], which takes the time.)
    fn prune(&mut self) {
        let trust = &self.trust;
        self.lists
            .retain(|l| trust.may_hold_lists(&l.issuer, &l.key_id));
    }

    /// The highest sequence installed for `issuer` under a key that may still sign its
    /// lists at `now`: a sequence seen only under a key revoked, dropped or expired
    /// since holds nothing back.
    fn floor(&self, issuer: &IssuerId, now: UnixTime, options: &VerifyOptions) -> u64 {
        self.seen
            .iter()
            .filter(|(i, k, _)| {
                i == issuer && usable_key(&self.trust, *k, i, now, options, KeyUsage::Lists).is_ok()
            })
            .map(|&(_, _, sequence)| sequence)
            .max()
            .unwrap_or(0)
    }

    fn record_seen(&mut self, issuer: &IssuerId, key_id: KeyId, sequence: u64) {
        if let Some(entry) = self
            .seen
            .iter_mut()
            .find(|(i, k, _)| i == issuer && *k == key_id)
        {
            entry.2 = entry.2.max(sequence);
            return;
        }
        if self.seen.len() >= MAX_TRUSTED_KEYS {
            // Bounded: forget the lowest sequence, which raises no floor above another.
            if let Some(lowest) = self
                .seen
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, _, s))| *s)
                .map(|(at, _)| at)
            {
                self.seen.swap_remove(lowest);
            }
        }
        self.seen.push((issuer.clone(), key_id, sequence));
    }

    /// The key `key_id` if it may sign `issuer`'s lists at `now`: trusted for lists,
    /// not revoked, within its window, and not revoked by a scope entry of `held`.
    fn list_signer(
        &self,
        key_id: KeyId,
        issuer: &IssuerId,
        now: UnixTime,
        options: &VerifyOptions,
        held: Option<&RevocationList>,
    ) -> Result<&IssuerPublicKey, ListError> {
        let key = usable_key(&self.trust, key_id, issuer, now, options, KeyUsage::Lists)
            .map_err(ListError::Untrusted)?;
        if let Some(entry) = held.and_then(|h| h.revokes_key(key_id)) {
            return Err(ListError::Untrusted(Denial::KeyRevoked {
                key_id,
                revoked_at: entry.since,
            }));
        }
        Ok(key)
    }

    /// Checks a full signed list against this state (trusted signer, signature, issue
    /// time, status sets) without changing anything.
    pub(crate) fn check_list(
        &self,
        bytes: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<RevocationList, ListError> {
        let parsed = wire::decode_list(bytes)?;
        let header = &parsed.header;
        self.check_signed(
            &header.issuer,
            header.key_id,
            header.issued_at,
            wire::LIST_DOMAIN,
            &parsed.signature,
            parsed.body,
            now,
            options,
        )?;
        let sets = parsed.decode_sets()?;
        let mut table = StatusTable::new(header.capacity);
        for &index in &sets.revoked {
            table.set(index, crate::model::Status::Revoked);
        }
        for &index in &sets.suspended {
            table.set(index, crate::model::Status::Suspended);
        }
        drop(sets);
        Ok(RevocationList {
            issuer: header.issuer.clone(),
            key_id: header.key_id,
            sequence: parsed.sequence,
            issued_at: header.issued_at,
            next_update: header.next_update,
            table,
            scopes: parsed.scopes,
            state: parsed.state,
            audit: Some(parsed.audit),
        })
    }

    /// Installs a checked list, re-checking its signer against this state (it may
    /// have been revoked since), rollback, equivocation and permanence.
    pub(crate) fn commit_list(
        &mut self,
        offered: RevocationList,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<ListUpdate, ListError> {
        if let Some(entry) = offered.revokes_key(offered.key_id) {
            // A list that revokes its own signer vouches for nothing.
            return Err(ListError::Untrusted(Denial::KeyRevoked {
                key_id: offered.key_id,
                revoked_at: entry.since,
            }));
        }
        // The held list stays the base of every check whoever signed it: a list's scope
        // entry naming another signing key cannot displace that key's list (else a
        // stolen key could name the honest one and lift revocations). Only the root's
        // key set or a local revocation takes a held list out of force (`prune`).
        // A held list out of force (its signer expired, dropped or revoked) is no base:
        // the offered list is compared with nothing and only the floor of keys still
        // usable holds it back.
        let held = self
            .list_in_force(&offered.issuer, now, options)
            .ok()
            .cloned();
        // The key may have been revoked since the signature was checked, or be
        // revoked by the list held.
        self.list_signer(
            offered.key_id,
            &offered.issuer,
            now,
            options,
            held.as_deref(),
        )?;
        let update = match held {
            Some(held) if held.sequence > offered.sequence => {
                return Err(ListError::Rollback {
                    held: held.sequence,
                    offered: offered.sequence,
                });
            }
            Some(held) if held.sequence == offered.sequence => {
                return if held.state == offered.state
                    && held.table == offered.table
                    && held.scopes == offered.scopes
                {
                    Ok(ListUpdate::Unchanged {
                        sequence: held.sequence,
                    })
                } else {
                    Err(ListError::Conflict {
                        sequence: held.sequence,
                    })
                };
            }
            Some(held) => {
                // Revocation is permanent: a newer list may not lift one, nor drop a scope.
                if let Some(index) = held.table.first_lifted_revocation(&offered.table) {
                    return Err(ListError::Inconsistent(StatusError::RevokedIsPermanent {
                        index,
                    }));
                }
                if let Some(entry) = held
                    .scopes
                    .iter()
                    .find(|e| !offered.scopes.iter().any(|o| o.scope == e.scope))
                {
                    return Err(ListError::ScopeDropped { scope: entry.scope });
                }
                ListUpdate::Advanced {
                    from: held.sequence,
                    to: offered.sequence,
                }
            }
            None => {
                let floor = self.floor(&offered.issuer, now, options);
                if offered.sequence < floor {
                    return Err(ListError::Rollback {
                        held: floor,
                        offered: offered.sequence,
                    });
                }
                ListUpdate::Installed {
                    sequence: offered.sequence,
                }
            }
        };
        self.record_seen(&offered.issuer, offered.key_id, offered.sequence);
        self.lists.retain(|l| l.issuer != offered.issuer);
        self.lists.push(Arc::new(offered));
        Ok(update)
    }

    /// Checks and installs a full signed revocation list. A list older than the one
    /// held is refused (rollback), as is a different list with the same sequence, a
    /// list that lifts a revocation or drops a scope, and a list signed by a key that
    /// the held list revokes. Sequences seen only under keys revoked since (by the
    /// root's key set or locally) never count as a rollback floor. On any error the
    /// list held is kept.
    ///
    /// # Errors
    /// [`ListError`] naming why.
    pub fn install_list(
        &mut self,
        bytes: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<ListUpdate, ListError> {
        let offered = self.check_list(bytes, now, options)?;
        self.commit_list(offered, now, options)
    }

    /// Checks a signed delta against this state (trusted signer, the list it applies
    /// to, signature, issue time, sets) without changing anything.
    ///
    /// A delta's signature covers the state of the list it applies to, which the delta
    /// does not carry: it is checked against the list held, so the delta must apply to
    /// exactly that list (sequence, capacity, state) before its signature can be.
    pub(crate) fn check_delta<'a>(
        &self,
        bytes: &'a [u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<CheckedDelta<'a>, ListError> {
        let delta = wire::decode_delta(bytes)?;
        let header = &delta.header;
        self.list_signer(header.key_id, &header.issuer, now, options, None)?;
        let held = self.base_for_delta(&header.issuer, now, options)?;
        place_delta(held, &delta)?;
        self.check_signed(
            &header.issuer,
            header.key_id,
            header.issued_at,
            wire::DELTA_DOMAIN,
            &delta.signature,
            &wire::delta_payload(&held.state, delta.body),
            now,
            options,
        )?;
        if let Some(entry) = delta
            .scopes
            .iter()
            .find(|e| e.scope == Scope::IssuerKey(header.key_id))
        {
            return Err(ListError::Untrusted(Denial::KeyRevoked {
                key_id: header.key_id,
                revoked_at: entry.since,
            }));
        }
        let sets = delta.decode_sets()?;
        Ok(CheckedDelta {
            base_state: held.state,
            delta,
            sets,
        })
    }

    /// Applies a checked delta to the list held for its issuer, which must still be the
    /// list its signature was checked against.
    pub(crate) fn commit_delta(
        &mut self,
        checked: &CheckedDelta<'_>,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<ListUpdate, ListError> {
        let (delta, sets) = (&checked.delta, &checked.sets);
        let header = &delta.header;
        let held = self.base_for_delta(&header.issuer, now, options)?.clone();
        self.list_signer(header.key_id, &header.issuer, now, options, Some(&held))?;
        place_delta(&held, delta)?;
        if held.state != checked.base_state {
            return Err(ListError::Branch {
                sequence: held.sequence,
            });
        }
        let next = held.apply(delta, sets)?;
        let update = ListUpdate::Advanced {
            from: held.sequence,
            to: next.sequence,
        };
        self.record_seen(&header.issuer, header.key_id, next.sequence);
        self.lists.retain(|l| l.issuer != header.issuer);
        self.lists.push(Arc::new(next));
        Ok(update)
    }

    /// Checks and applies a signed delta to the list held for its issuer. It applies
    /// only to exactly the list it names: an older base is a rollback, a newer one a
    /// gap, another list at the same sequence a branch (fetch a full list in each
    /// case). A delta signed by a key that the list held revokes is refused. On any
    /// error the list held is kept.
    ///
    /// # Errors
    /// [`ListError`] naming why.
    pub fn apply_delta(
        &mut self,
        bytes: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<ListUpdate, ListError> {
        let checked = self.check_delta(bytes, now, options)?;
        self.commit_delta(&checked, now, options)
    }

    /// The list a delta for `issuer` may apply to: the one held, if it is in force
    /// (else fetch a full list).
    fn base_for_delta(
        &self,
        issuer: &IssuerId,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<&Arc<RevocationList>, ListError> {
        self.list_in_force(issuer, now, options)
            .map_err(|_| ListError::NoBaseList {
                issuer: issuer.clone(),
            })
    }

    #[allow(clippy::too_many_arguments)]
    fn check_signed(
        &self,
        issuer: &IssuerId,
        key_id: KeyId,
        issued_at: UnixTime,
        domain: &[u8],
        signature: &[u8; 64],
        body: &[u8],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<(), ListError> {
        let key = self.list_signer(key_id, issuer, now, options, None)?;
        key.verifying_key()
            .verify_strict(
                &wire::signed_message(domain, wire::LIST_FORMAT_VERSION, body),
                &ed25519_dalek::Signature::from_bytes(signature),
            )
            .map_err(|_| ListError::BadSignature)?;
        if issued_at > now.plus(options.clock_skew_secs) {
            return Err(ListError::NotYetValid { issued_at, now });
        }
        Ok(())
    }
}

/// A credential whose signature may join a batch.
struct Pending<'a> {
    index: usize,
    cred: UnverifiedCredential<'a>,
    key: VerifyingKey,
    message: Vec<u8>,
    signature: Signature,
}

impl VerifierState {
    /// Verifies many credentials at `now`, as an audit does: one answer per
    /// credential, in order, each the answer [`VerifierState::verify`] gives for it.
    /// Signatures are checked in batches of at most [`MAX_BATCH_CHUNK`]; a batch that
    /// fails is re-checked one by one to name each bad credential. Every answer is
    /// decided by the same function as a single verification.
    #[must_use]
    pub fn verify_batch(
        &self,
        credentials: &[&[u8]],
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Vec<Result<VerifiedCredential, Denial>> {
        let mut results: Vec<Result<VerifiedCredential, Denial>> =
            vec![Err(Denial::BadSignature); credentials.len()];
        let mut pending = Vec::with_capacity(credentials.len());
        // Each issuer key's weakness is checked once per batch (an audit has few keys;
        // a check costs about 2% of a verification).
        let mut weak: BTreeMap<KeyId, bool> = BTreeMap::new();
        for (index, bytes) in credentials.iter().enumerate() {
            let cred = match UnverifiedCredential::from_bytes(bytes) {
                Ok(cred) => cred,
                Err(e) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Err(Denial::from(e));
                    }
                    continue;
                }
            };
            let claims = cred.unverified_claims();
            let batchable = self.usable_key(claims, now, options).ok().and_then(|key| {
                let key = *key.verifying_key();
                let signature = Signature::from_bytes(&cred.parsed.signature);
                let key_is_weak = *weak.entry(claims.key_id).or_insert_with(|| key.is_weak());
                (!key_is_weak && signature_is_canonical(&signature)).then_some((key, signature))
            });
            match batchable {
                Some((key, signature)) => pending.push(Pending {
                    index,
                    message: wire::signed_message(
                        wire::CREDENTIAL_DOMAIN,
                        wire::FORMAT_VERSION,
                        cred.parsed.body,
                    ),
                    cred,
                    key,
                    signature,
                }),
                // Not batchable: decided alone, with the same answer `verify` gives.
                None => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = self
                            .accept(cred, now, options, SignatureCheck::Strict)
                            .map(|a| a.credential)
                            .map_err(|r| r.denial);
                    }
                }
            }
        }
        let mut proofs = Vec::with_capacity(pending.len());
        for chunk in pending.chunks(MAX_BATCH_CHUNK) {
            let messages: Vec<&[u8]> = chunk.iter().map(|p| p.message.as_slice()).collect();
            let signatures: Vec<Signature> = chunk.iter().map(|p| p.signature).collect();
            let keys: Vec<VerifyingKey> = chunk.iter().map(|p| p.key).collect();
            let proof = verify_together(&messages, &signatures, &keys);
            proofs.extend(core::iter::repeat_n(proof, chunk.len()));
        }
        for (p, proof) in pending.into_iter().zip(proofs) {
            // A chunk that failed is re-checked one by one (`Strict`).
            let check = proof.map_or(SignatureCheck::Strict, SignatureCheck::Batched);
            if let Some(slot) = results.get_mut(p.index) {
                *slot = self
                    .accept(p.cred, now, options, check)
                    .map(|a| a.credential)
                    .map_err(|r| r.denial);
            }
        }
        results
    }
}

/// The key `key_id` if it is trusted for `issuer` and for `usage`, not revoked and
/// within its window at `now`.
pub(crate) fn usable_key<'a>(
    trust: &'a TrustStore,
    key_id: KeyId,
    issuer: &IssuerId,
    now: UnixTime,
    options: &VerifyOptions,
    usage: KeyUsage,
) -> Result<&'a IssuerPublicKey, Denial> {
    let Some(anchor) = trust.get(issuer, &key_id) else {
        return Err(match trust.any_with_id(&key_id) {
            Some(other) => Denial::IssuerMismatch {
                key_id,
                claimed: issuer.clone(),
                trusted: other.key().issuer().clone(),
            },
            None => Denial::UnknownKey { key_id },
        });
    };
    let key = anchor.key();
    if let Some(revoked_at) = anchor.revoked_at() {
        return Err(Denial::KeyRevoked { key_id, revoked_at });
    }
    if !anchor.usage().allows(usage) {
        return Err(Denial::WrongKeyUsage {
            key_id,
            certified: anchor.usage(),
        });
    }
    let skew = options.clock_skew_secs;
    let window = key.validity();
    if now.plus(skew) < window.not_before || now.minus(skew) > window.not_after {
        return Err(Denial::KeyOutsideWindow {
            key_id,
            not_before: window.not_before,
            not_after: window.not_after,
            at: now,
        });
    }
    Ok(key)
}

/// Everything after the signature: issue time within the key's window, validity with
/// skew, and status in the issuer's list.
pub(crate) fn check_claims(
    state: &VerifierState,
    key: &IssuerPublicKey,
    claims: &Claims,
    now: UnixTime,
    options: &VerifyOptions,
) -> Result<(), Denial> {
    let window = key.validity();
    if claims.issued_at < window.not_before || claims.issued_at > window.not_after {
        return Err(Denial::KeyOutsideWindow {
            key_id: claims.key_id,
            not_before: window.not_before,
            not_after: window.not_after,
            at: claims.issued_at,
        });
    }
    let skew = options.clock_skew_secs;
    let validity = claims.validity;
    if now.plus(skew) < validity.not_before {
        return Err(Denial::NotYetValid {
            not_before: validity.not_before,
            now,
            skew_secs: skew,
        });
    }
    if now.minus(skew) > validity.not_after {
        return Err(Denial::Expired {
            not_after: validity.not_after,
            now,
            skew_secs: skew,
        });
    }
    let (list, signer) = state.in_force(&claims.issuer, now, options)?;
    // The signer's window bounds the list's own next update (the earlier of the two).
    let next_update = list.next_update.min(signer.validity().not_after);
    if now > next_update.plus(options.status_grace_secs)
        && options.stale_policy == StalePolicy::FailClosed
    {
        return Err(Denial::StatusStale {
            sequence: list.sequence,
            next_update,
            grace_secs: options.status_grace_secs,
            now,
        });
    }
    match list.status_of(claims) {
        None => Err(Denial::StatusIndexOutOfRange {
            index: claims.status_index.0,
            capacity: list.capacity(),
        }),
        Some(StatusAnswer::Valid) => Ok(()),
        Some(StatusAnswer::Suspended) => Err(Denial::Suspended {
            serial: claims.serial,
        }),
        Some(StatusAnswer::Revoked(by)) => Err(Denial::Revoked {
            serial: claims.serial,
            by,
        }),
    }
}
