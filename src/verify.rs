//! The verifier a door controller, gate reader or phone embeds.
//!
//! `verify(bytes, now)` decodes, finds the issuer key in the trust store, checks the
//! key's window and revocation, checks the signature with `verify_strict` over the
//! exact bytes received, checks the credential's validity window with a clock skew
//! allowance, and then its status in the issuer's current revocation list. The
//! signature is checked before any claim is believed: a tampered credential is always
//! denied as [`Denial::BadSignature`], never as "expired".
//!
//! The trust store and the lists live in one immutable snapshot behind an
//! `ArcSwap`: a verification loads the snapshot once (lock-free) and sees one
//! consistent state; an update builds a new snapshot and swaps it in. Updates are
//! serialised by a mutex that is never held across a signature check.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use crate::credential::{UnverifiedCredential, VerifiedCredential};
use crate::error::{Denial, ListError, StatusError, TrustError};
use crate::keys::IssuerPublicKey;
use crate::model::{Claims, IssuerId, KeyId, UnixTime};
use crate::status::{RevocationList, StatusAnswer, StatusTable};
use crate::trust::TrustStore;
use crate::wire;

/// Default allowance for clocks that disagree: a door controller's clock may drift.
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 60;
/// Default time a list may still be used after its next update was due.
pub const DEFAULT_STATUS_GRACE_SECS: u64 = 3600;

/// What to do when the status list is stale (past next update plus grace).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StalePolicy {
    /// Deny every card as [`Denial::StatusStale`]. The default.
    #[default]
    FailClosed,
    /// Keep using the stale list: revocations it knows still deny, everything else is
    /// admitted. Leaves a window in which a card revoked since the last list opens
    /// doors; choose it only where a locked door is the greater danger (a fire exit).
    FailOpenUnsafe,
}

/// How a verifier judges time and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Seconds by which `now` may lie outside a validity window and still pass. A
    /// credential with `not_after = t` passes at `t + skew` and is denied at `t + skew + 1`.
    pub clock_skew_secs: u64,
    /// Seconds past a list's next update during which it is still used.
    pub status_grace_secs: u64,
    /// What happens after that.
    pub stale_policy: StalePolicy,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
            status_grace_secs: DEFAULT_STATUS_GRACE_SECS,
            stale_policy: StalePolicy::FailClosed,
        }
    }
}

impl VerifyOptions {
    /// With the given skew allowance.
    #[must_use]
    pub fn with_clock_skew(mut self, secs: u64) -> Self {
        self.clock_skew_secs = secs;
        self
    }

    /// With the given grace after a list's next update.
    #[must_use]
    pub fn with_status_grace(mut self, secs: u64) -> Self {
        self.status_grace_secs = secs;
        self
    }

    /// With the given stale-list policy.
    #[must_use]
    pub fn with_stale_policy(mut self, policy: StalePolicy) -> Self {
        self.stale_policy = policy;
        self
    }
}

/// What installing a list or applying a delta did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListUpdate {
    /// The first list for this issuer.
    Installed {
        /// Its sequence.
        sequence: u64,
    },
    /// A newer list or a delta replaced the one held.
    Advanced {
        /// Sequence held before.
        from: u64,
        /// Sequence held now.
        to: u64,
    },
    /// The same list was offered again.
    Unchanged {
        /// Its sequence.
        sequence: u64,
    },
}

/// One consistent view: trusted keys and current lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    trust: TrustStore,
    lists: Vec<Arc<RevocationList>>,
}

impl Snapshot {
    fn list(&self, issuer: &IssuerId) -> Option<&Arc<RevocationList>> {
        self.lists.iter().find(|l| &l.issuer == issuer)
    }

    /// The key that signed `claims`, if it is trusted, not revoked and within its
    /// window at `now`.
    pub(crate) fn usable_key(
        &self,
        claims: &Claims,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<&IssuerPublicKey, Denial> {
        usable_key(&self.trust, claims.key_id, &claims.issuer, now, options)
    }

    /// Re-checks a credential whose signature was verified earlier (a cached one):
    /// key trust, revocation and window, issue time, validity and status. Everything
    /// [`Verifier::verify`] checks except the signature, in the same order.
    pub(crate) fn recheck(
        &self,
        claims: &Claims,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<(), Denial> {
        let key = self.usable_key(claims, now, options)?;
        check_claims(self, key, claims, now, options)
    }
}

/// Checks credentials against a trust store and revocation lists. `Send + Sync`:
/// share one between threads; swap lists in while they verify.
#[derive(Debug)]
pub struct Verifier {
    state: ArcSwap<Snapshot>,
    options: VerifyOptions,
    writer: Mutex<()>,
}

impl Verifier {
    /// A verifier trusting the keys in `trust`, holding no list yet: until a list for
    /// an issuer is installed, that issuer's cards are denied ([`Denial::NoStatusList`]).
    #[must_use]
    pub fn new(trust: TrustStore, options: VerifyOptions) -> Self {
        Self {
            state: ArcSwap::from_pointee(Snapshot {
                trust,
                lists: Vec::new(),
            }),
            options,
            writer: Mutex::new(()),
        }
    }

    /// The options.
    #[must_use]
    pub fn options(&self) -> VerifyOptions {
        self.options
    }

    /// A copy of the current trust store.
    #[must_use]
    pub fn trust(&self) -> TrustStore {
        self.state.load().trust.clone()
    }

    /// The list held for `issuer`.
    #[must_use]
    pub fn list(&self, issuer: &IssuerId) -> Option<Arc<RevocationList>> {
        self.state.load().list(issuer).cloned()
    }

    /// Verifies encoded credential bytes at time `now`.
    ///
    /// # Errors
    /// A [`Denial`] naming the first check that failed.
    pub fn verify(&self, bytes: &[u8], now: UnixTime) -> Result<VerifiedCredential, Denial> {
        self.verify_decoded(UnverifiedCredential::from_bytes(bytes)?, now)
    }

    /// Verifies an already decoded credential at time `now`.
    ///
    /// # Errors
    /// A [`Denial`] naming the first check that failed.
    pub fn verify_decoded(
        &self,
        cred: UnverifiedCredential<'_>,
        now: UnixTime,
    ) -> Result<VerifiedCredential, Denial> {
        self.verify_with(&self.state.load(), cred, now, &self.options)
    }

    /// The current snapshot, loaded once (lock-free): a door decides a whole tap on it.
    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.state.load()
    }

    pub(crate) fn verify_with(
        &self,
        snapshot: &Snapshot,
        cred: UnverifiedCredential<'_>,
        now: UnixTime,
        options: &VerifyOptions,
    ) -> Result<VerifiedCredential, Denial> {
        let claims = &cred.parsed.claims;
        let key = usable_key(&snapshot.trust, claims.key_id, &claims.issuer, now, options)?;
        let signature = ed25519_dalek::Signature::from_bytes(&cred.parsed.signature);
        key.verifying_key()
            .verify_strict(
                &wire::signed_message(wire::CREDENTIAL_DOMAIN, cred.parsed.body),
                &signature,
            )
            .map_err(|_| Denial::BadSignature)?;
        check_claims(snapshot, key, claims, now, options)?;
        Ok(VerifiedCredential::new(cred.parsed.claims))
    }

    /// Trusts another key (rotation).
    ///
    /// # Errors
    /// [`TrustError::DuplicateKeyId`].
    pub fn add_key(&self, key: IssuerPublicKey) -> Result<(), TrustError> {
        self.update(|s| s.trust.add(key))
    }

    /// Revokes a key: every credential and list under it is denied from the next check.
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`].
    pub fn revoke_key(&self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        self.update(|s| s.trust.revoke(key_id, at))
    }

    fn update<T, E>(&self, change: impl FnOnce(&mut Snapshot) -> Result<T, E>) -> Result<T, E> {
        let _guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = Snapshot::clone(&self.state.load());
        let out = change(&mut next)?;
        self.state.store(Arc::new(next));
        Ok(out)
    }

    /// Checks and installs a full signed revocation list. A list older than the one
    /// held is refused (rollback), as is a different list with the same sequence.
    /// On any error the list held is kept.
    ///
    /// # Errors
    /// [`ListError`] naming why.
    pub fn install_list(&self, bytes: &[u8], now: UnixTime) -> Result<ListUpdate, ListError> {
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
        )?;
        let sets = parsed.decode_sets()?;
        let mut table = StatusTable::new(header.capacity);
        for &index in &sets.revoked {
            table.set(index, crate::status::Status::Revoked);
        }
        for &index in &sets.suspended {
            table.set(index, crate::status::Status::Suspended);
        }
        drop(sets);
        let offered = RevocationList {
            issuer: header.issuer.clone(),
            key_id: header.key_id,
            sequence: parsed.sequence,
            issued_at: header.issued_at,
            next_update: header.next_update,
            table,
            scopes: parsed.scopes,
        };
        self.update(|s| {
            // The key may have been revoked since the signature was checked.
            usable_key(
                &s.trust,
                offered.key_id,
                &offered.issuer,
                now,
                &self.options,
            )
            .map_err(ListError::Untrusted)?;
            let update = match s.list(&offered.issuer) {
                None => ListUpdate::Installed {
                    sequence: offered.sequence,
                },
                Some(held) if held.sequence > offered.sequence => {
                    return Err(ListError::Rollback {
                        held: held.sequence,
                        offered: offered.sequence,
                    });
                }
                Some(held) if held.sequence == offered.sequence => {
                    return if held.table == offered.table && held.scopes == offered.scopes {
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
            };
            s.lists.retain(|l| l.issuer != offered.issuer);
            s.lists.push(Arc::new(offered));
            Ok(update)
        })
    }

    /// Checks and applies a signed delta to the list held for its issuer. It applies
    /// only to exactly the sequence it starts from: an older base is a rollback, a
    /// newer one a gap (fetch a full list). On any error the list held is kept.
    ///
    /// # Errors
    /// [`ListError`] naming why.
    pub fn apply_delta(&self, bytes: &[u8], now: UnixTime) -> Result<ListUpdate, ListError> {
        let delta = wire::decode_delta(bytes)?;
        let header = &delta.header;
        self.check_signed(
            &header.issuer,
            header.key_id,
            header.issued_at,
            wire::DELTA_DOMAIN,
            &delta.signature,
            delta.body,
            now,
        )?;
        let sets = delta.decode_sets()?;
        self.update(|s| {
            usable_key(&s.trust, header.key_id, &header.issuer, now, &self.options)
                .map_err(ListError::Untrusted)?;
            let held = s
                .list(&header.issuer)
                .ok_or_else(|| ListError::NoBaseList {
                    issuer: header.issuer.clone(),
                })?;
            if held.capacity() != header.capacity {
                return Err(ListError::CapacityMismatch {
                    held: held.capacity(),
                    offered: header.capacity,
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
            let next = held.apply(&delta, &sets)?;
            let update = ListUpdate::Advanced {
                from: held.sequence,
                to: next.sequence,
            };
            s.lists.retain(|l| l.issuer != header.issuer);
            s.lists.push(Arc::new(next));
            Ok(update)
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
    ) -> Result<(), ListError> {
        let snapshot = self.state.load();
        let key = usable_key(&snapshot.trust, key_id, issuer, now, &self.options)
            .map_err(ListError::Untrusted)?;
        key.verifying_key()
            .verify_strict(
                &wire::signed_message(domain, body),
                &ed25519_dalek::Signature::from_bytes(signature),
            )
            .map_err(|_| ListError::BadSignature)?;
        if issued_at > now.plus(self.options.clock_skew_secs) {
            return Err(ListError::NotYetValid { issued_at, now });
        }
        Ok(())
    }
}

/// The key `key_id` if it is trusted for `issuer`, not revoked and within its window at `now`.
fn usable_key<'a>(
    trust: &'a TrustStore,
    key_id: KeyId,
    issuer: &IssuerId,
    now: UnixTime,
    options: &VerifyOptions,
) -> Result<&'a IssuerPublicKey, Denial> {
    let anchor = trust.get(&key_id).ok_or(Denial::UnknownKey { key_id })?;
    let key = anchor.key();
    if key.issuer() != issuer {
        return Err(Denial::IssuerMismatch {
            key_id,
            claimed: issuer.clone(),
            trusted: key.issuer().clone(),
        });
    }
    if let Some(revoked_at) = anchor.revoked_at() {
        return Err(Denial::KeyRevoked { key_id, revoked_at });
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
    snapshot: &Snapshot,
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
    let list = snapshot
        .list(&claims.issuer)
        .ok_or_else(|| Denial::NoStatusList {
            issuer: claims.issuer.clone(),
        })?;
    if now > list.next_update.plus(options.status_grace_secs)
        && options.stale_policy == StalePolicy::FailClosed
    {
        return Err(Denial::StatusStale {
            sequence: list.sequence,
            next_update: list.next_update,
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
