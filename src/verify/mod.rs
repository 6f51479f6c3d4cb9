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

pub(crate) mod batch;
mod credential;
mod error;
mod keys;
mod list;
mod root;
mod trust;

pub use batch::MAX_BATCH_CHUNK;
pub use credential::{UnverifiedCredential, VerifiedCredential, credential_bytes_from_text};
pub use error::{Denial, KeySetError, ListError, StatusError, TrustError};
pub use keys::{IssuerPublicKey, key_id_of};
pub(crate) use keys::{check_card_key, door_card_key};
pub use list::{RevocationList, list_state_digest};
pub(crate) use list::{StatusTable, check_capacity};
pub use root::{KeyEntry, KeySet, RootPublicKey};
pub use trust::{MAX_TRUSTED_KEYS, TrustAnchor, TrustStore};

use crate::model::{Claims, IssuerId, KeyId, KeyUsage, StatusAnswer, UnixTime};
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

/// What installing a list, applying a delta or applying a key set did.
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

/// One consistent view: trusted keys, current lists, and the highest list sequence
/// seen under each key (the rollback floor).
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    trust: TrustStore,
    lists: Vec<Arc<RevocationList>>,
    /// (issuer, signing key, highest sequence installed under that key). Kept per key
    /// so that revoking a key takes its sequences out of the floor: a stolen key that
    /// signed a list at `u64::MAX` cannot lock the honest key out.
    seen: Vec<(IssuerId, KeyId, u64)>,
}

impl Snapshot {
    fn list(&self, issuer: &IssuerId) -> Option<&Arc<RevocationList>> {
        self.lists.iter().find(|l| &l.issuer == issuer)
    }

    /// Takes out of force every list whose latest signer is revoked: its issuer has no
    /// list (and its cards are denied) until a list from a usable key arrives.
    fn prune(&mut self) {
        let trust = &self.trust;
        self.lists.retain(|l| !trust.is_revoked(&l.key_id));
    }

    /// The highest sequence installed for `issuer` under a key that is not revoked and
    /// that `counts` accepts.
    fn floor(&self, issuer: &IssuerId, counts: impl Fn(KeyId) -> bool) -> u64 {
        self.seen
            .iter()
            .filter(|(i, k, _)| i == issuer && !self.trust.is_revoked(k) && counts(*k))
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

    /// The key that signed `claims`, if it is trusted, not revoked and within its
    /// window at `now`.
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
                seen: Vec::new(),
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
        let key = snapshot.usable_key(claims, now, options)?;
        let signature = ed25519_dalek::Signature::from_bytes(&cred.parsed.signature);
        key.verifying_key()
            .verify_strict(
                &wire::signed_message(
                    wire::CREDENTIAL_DOMAIN,
                    wire::FORMAT_VERSION,
                    cred.parsed.body,
                ),
                &signature,
            )
            .map_err(|_| Denial::BadSignature)?;
        check_claims(snapshot, key, claims, now, options)?;
        Ok(VerifiedCredential::new(cred.parsed.claims))
    }

    /// Pins another signing key (rotation without a root).
    ///
    /// # Errors
    /// [`TrustError::DuplicateKeyId`], [`TrustError::Revoked`], [`TrustError::TooManyKeys`].
    pub fn add_key(&self, key: IssuerPublicKey) -> Result<(), TrustError> {
        self.update(|s| s.trust.add(key))
    }

    /// Installs an issuer's root: from then on its signing keys arrive in key sets.
    ///
    /// # Errors
    /// [`TrustError::DuplicateRoot`] if another root is installed for the issuer.
    pub fn add_root(&self, root: RootPublicKey) -> Result<(), TrustError> {
        self.update(|s| s.trust.add_root(root))
    }

    /// Checks a key set against its issuer's installed root and applies it: newly
    /// certified keys are trusted, and every key it revokes is revoked at once, which
    /// takes every list and delta that key signed out of force (see
    /// [`Self::revoke_key`]). On any error nothing changes.
    ///
    /// # Errors
    /// [`KeySetError`] naming why.
    pub fn install_key_set(&self, bytes: &[u8], now: UnixTime) -> Result<ListUpdate, KeySetError> {
        let parsed_issuer = wire::decode_key_set(bytes)?.fields.issuer;
        let root = self
            .state
            .load()
            .trust
            .root(&parsed_issuer)
            .cloned()
            .ok_or(KeySetError::NoRoot {
                issuer: parsed_issuer,
            })?;
        // The root signature is checked before the lock is taken.
        let set = root.verify_key_set(bytes, now, self.options.clock_skew_secs)?;
        self.update(|s| {
            let update = s.trust.apply_key_set(&set)?;
            s.prune();
            Ok(update)
        })
    }

    /// Revokes a key: every credential under it is denied from the next check, and
    /// every list or delta it signed is out of force at once. If the list held for its
    /// issuer was last signed by it, the issuer has no list (its cards are denied)
    /// until a list signed by a usable key arrives, whatever sequence the revoked key
    /// used.
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`].
    pub fn revoke_key(&self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        self.update(|s| {
            s.trust.revoke(key_id, at)?;
            s.prune();
            Ok(())
        })
    }

    fn update<T, E>(&self, change: impl FnOnce(&mut Snapshot) -> Result<T, E>) -> Result<T, E> {
        let _guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = Snapshot::clone(&self.state.load());
        let out = change(&mut next)?;
        self.state.store(Arc::new(next));
        Ok(out)
    }

    /// Checks and installs a full signed revocation list. A list older than the one
    /// held is refused (rollback), as is a different list with the same sequence. A
    /// list whose scope entries revoke the key that signed the list held replaces it
    /// whatever its sequence, and sequences seen only under revoked keys never count
    /// as a rollback floor. On any error the list held is kept.
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
            state: parsed.state,
            audit: Some(parsed.audit),
        };
        self.update(|s| {
            let revoked_by_offered = |k: KeyId| offered.revokes_key(k).is_some();
            if let Some(entry) = offered.revokes_key(offered.key_id) {
                // A list that revokes its own signer vouches for nothing.
                return Err(ListError::Untrusted(Denial::KeyRevoked {
                    key_id: offered.key_id,
                    revoked_at: entry.since,
                }));
            }
            // A held list signed by a key the offered list revokes is not the base
            // of anything: the offered list replaces it.
            let held = s
                .list(&offered.issuer)
                .filter(|h| !revoked_by_offered(h.key_id))
                .cloned();
            // The key may have been revoked since the signature was checked, or be
            // revoked by the list held.
            s.list_signer(
                offered.key_id,
                &offered.issuer,
                now,
                &self.options,
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
                    let floor = s.floor(&offered.issuer, |k| !revoked_by_offered(k));
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
            s.record_seen(&offered.issuer, offered.key_id, offered.sequence);
            s.lists.retain(|l| l.issuer != offered.issuer);
            s.lists.push(Arc::new(offered));
            Ok(update)
        })
    }

    /// Checks and applies a signed delta to the list held for its issuer. It applies
    /// only to exactly the list it names: an older base is a rollback, a newer one a
    /// gap, another list at the same sequence a branch (fetch a full list in each
    /// case). A delta signed by a key that the list held revokes is refused. On any
    /// error the list held is kept.
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
        if let Some(entry) = delta
            .scopes
            .iter()
            .find(|e| e.scope == crate::status::Scope::IssuerKey(header.key_id))
        {
            return Err(ListError::Untrusted(Denial::KeyRevoked {
                key_id: header.key_id,
                revoked_at: entry.since,
            }));
        }
        let sets = delta.decode_sets()?;
        self.update(|s| {
            let held = s
                .list(&header.issuer)
                .cloned()
                .ok_or_else(|| ListError::NoBaseList {
                    issuer: header.issuer.clone(),
                })?;
            s.list_signer(
                header.key_id,
                &header.issuer,
                now,
                &self.options,
                Some(&held),
            )?;
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
            if delta.base_state != held.state {
                return Err(ListError::Branch {
                    sequence: held.sequence,
                });
            }
            let next = held.apply(&delta, &sets)?;
            let update = ListUpdate::Advanced {
                from: held.sequence,
                to: next.sequence,
            };
            s.record_seen(&header.issuer, header.key_id, next.sequence);
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
        let key = snapshot.list_signer(key_id, issuer, now, &self.options, None)?;
        key.verifying_key()
            .verify_strict(
                &wire::signed_message(domain, wire::LIST_FORMAT_VERSION, body),
                &ed25519_dalek::Signature::from_bytes(signature),
            )
            .map_err(|_| ListError::BadSignature)?;
        if issued_at > now.plus(self.options.clock_skew_secs) {
            return Err(ListError::NotYetValid { issued_at, now });
        }
        Ok(())
    }
}

/// The key `key_id` if it is trusted for `issuer` and for `usage`, not revoked and
/// within its window at `now`.
fn usable_key<'a>(
    trust: &'a TrustStore,
    key_id: KeyId,
    issuer: &IssuerId,
    now: UnixTime,
    options: &VerifyOptions,
    usage: KeyUsage,
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
