//! The thread-safe verifier a door controller, gate reader or phone embeds (`std`).
//!
//! The trust store and the lists live in one immutable [`VerifierState`] behind an
//! `ArcSwap`: a verification loads it once (lock-free) and sees one consistent state;
//! an update checks signatures against the state it loaded, then builds the next state
//! under a mutex (never held across a signature check) and swaps it in.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use crate::model::{IssuerId, KeyId, UnixTime};
use crate::verify::state::SignatureCheck;
use crate::verify::{
    Denial, IssuerPublicKey, KeySetError, ListError, ListUpdate, RevocationList, RootPublicKey,
    StateError, TrustError, TrustStore, UnverifiedCredential, VerifiedCredential, VerifierState,
    VerifyOptions,
};

/// Checks credentials against a trust store and revocation lists. `Send + Sync`:
/// share one between threads; swap lists in while they verify.
#[derive(Debug)]
pub struct Verifier {
    state: ArcSwap<VerifierState>,
    options: VerifyOptions,
    writer: Mutex<()>,
}

impl Verifier {
    /// A verifier trusting what `trust` holds, holding no list yet: until a list for
    /// an issuer is installed, that issuer's cards are denied ([`Denial::NoStatusList`]).
    #[must_use]
    pub fn new(trust: TrustStore, options: VerifyOptions) -> Self {
        Self {
            state: ArcSwap::from_pointee(VerifierState::new(trust)),
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
        self.state.load().trust().clone()
    }

    /// The list held for `issuer`, in force or not (a list whose signer's window has
    /// ended stays held until another replaces it, but decides nothing): see
    /// [`Self::list_in_force`].
    #[must_use]
    pub fn list(&self, issuer: &IssuerId) -> Option<Arc<RevocationList>> {
        self.state.load().list(issuer).cloned()
    }

    /// The list held for `issuer` if it is in force at `now` (see
    /// [`VerifierState::list_in_force`]): what a feed compares with the publisher's.
    #[must_use]
    pub fn list_in_force(&self, issuer: &IssuerId, now: UnixTime) -> Option<Arc<RevocationList>> {
        self.state
            .load()
            .list_in_force(issuer, now, &self.options)
            .ok()
            .cloned()
    }

    /// The door's trust as one saved blob ([`VerifierState::to_bytes`]): store it,
    /// and give it to [`Self::from_state_bytes`] after a restart.
    #[must_use]
    pub fn export_state(&self) -> Vec<u8> {
        self.state.load().to_bytes()
    }

    /// A verifier restored from [`Self::export_state`] (see
    /// [`VerifierState::from_bytes`]).
    ///
    /// # Errors
    /// [`StateError`] naming why: start from the root instead.
    pub fn from_state_bytes(bytes: &[u8], options: VerifyOptions) -> Result<Self, StateError> {
        Ok(Self::from_state(VerifierState::from_bytes(bytes)?, options))
    }

    /// A verifier holding `state` (restored, or built with `&mut` on a single thread).
    #[must_use]
    pub fn from_state(state: VerifierState, options: VerifyOptions) -> Self {
        Self {
            state: ArcSwap::from_pointee(state),
            options,
            writer: Mutex::new(()),
        }
    }

    /// The current state, loaded once (lock-free): a door decides a whole tap on it.
    #[must_use]
    pub fn snapshot(&self) -> Arc<VerifierState> {
        self.state.load_full()
    }

    pub(crate) fn state(&self) -> arc_swap::Guard<Arc<VerifierState>> {
        self.state.load()
    }

    /// Verifies encoded credential bytes at time `now`.
    ///
    /// # Errors
    /// A [`Denial`] naming the first check that failed.
    pub fn verify(&self, bytes: &[u8], now: UnixTime) -> Result<VerifiedCredential, Denial> {
        self.state.load().verify(bytes, now, &self.options)
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
        self.state
            .load()
            .accept(cred, now, &self.options, SignatureCheck::Strict)
            .map(|a| a.credential)
            .map_err(|r| r.denial)
    }

    /// Pins another signing key (rotation without a root).
    ///
    /// # Errors
    /// [`TrustError::DuplicateKeyId`], [`TrustError::Revoked`], [`TrustError::TooManyKeys`].
    pub fn add_key(&self, key: IssuerPublicKey) -> Result<(), TrustError> {
        self.update(|s| s.add_key(key))
    }

    /// Installs an issuer's root: from then on its signing keys arrive in key sets.
    ///
    /// # Errors
    /// [`TrustError::DuplicateRoot`] if another root is installed for the issuer.
    pub fn add_root(&self, root: RootPublicKey) -> Result<(), TrustError> {
        self.update(|s| s.add_root(root))
    }

    /// As [`VerifierState::install_key_set`]; the root signature is checked before the
    /// lock is taken.
    ///
    /// # Errors
    /// [`KeySetError`] naming why.
    pub fn install_key_set(&self, bytes: &[u8], now: UnixTime) -> Result<ListUpdate, KeySetError> {
        let set = self.state.load().check_key_set(bytes, now, &self.options)?;
        self.update(|s| s.commit_key_set(&set))
    }

    /// As [`VerifierState::revoke_key`].
    ///
    /// # Errors
    /// [`TrustError::UnknownKey`].
    pub fn revoke_key(&self, key_id: KeyId, at: UnixTime) -> Result<(), TrustError> {
        self.update(|s| s.revoke_key(key_id, at))
    }

    /// As [`VerifierState::install_list`]; the signature is checked before the lock
    /// is taken.
    ///
    /// # Errors
    /// [`ListError`] naming why.
    pub fn install_list(&self, bytes: &[u8], now: UnixTime) -> Result<ListUpdate, ListError> {
        let offered = self.state.load().check_list(bytes, now, &self.options)?;
        self.update(|s| s.commit_list(offered, now, &self.options))
    }

    /// As [`VerifierState::apply_delta`]; the signature is checked before the lock is
    /// taken.
    ///
    /// # Errors
    /// [`ListError`] naming why.
    pub fn apply_delta(&self, bytes: &[u8], now: UnixTime) -> Result<ListUpdate, ListError> {
        let checked = self.state.load().check_delta(bytes, now, &self.options)?;
        self.update(|s| s.commit_delta(&checked, now, &self.options))
    }

    /// As [`VerifierState::verify_batch`], on the current state.
    #[must_use]
    pub fn verify_batch(
        &self,
        credentials: &[&[u8]],
        now: UnixTime,
    ) -> Vec<Result<VerifiedCredential, Denial>> {
        self.state
            .load()
            .verify_batch(credentials, now, &self.options)
    }

    fn update<T, E>(
        &self,
        change: impl FnOnce(&mut VerifierState) -> Result<T, E>,
    ) -> Result<T, E> {
        let _guard = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = VerifierState::clone(&self.state.load());
        let out = change(&mut next)?;
        self.state.store(Arc::new(next));
        Ok(out)
    }
}
