//! The verifier a door controller, gate reader or phone embeds.
//!
//! `verify(bytes, now)` decodes, finds the issuer key in the trust store, checks the
//! key's window and revocation, checks the signature with `verify_strict` over the
//! exact bytes received, then checks the credential's validity window with a clock
//! skew allowance. The signature is checked before any claim is believed: a tampered
//! credential is always denied as [`Denial::BadSignature`], never as "expired".

use crate::credential::{UnverifiedCredential, VerifiedCredential};
use crate::error::Denial;
use crate::keys::IssuerPublicKey;
use crate::model::{IssuerId, KeyId, UnixTime};
use crate::trust::TrustStore;
use crate::wire;

/// Default allowance for clocks that disagree: a door controller's clock may drift.
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 60;

/// How a verifier judges time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Seconds by which `now` may lie outside a validity window and still pass. A
    /// credential with `not_after = t` passes at `t + skew` and is denied at `t + skew + 1`.
    pub clock_skew_secs: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            clock_skew_secs: DEFAULT_CLOCK_SKEW_SECS,
        }
    }
}

impl VerifyOptions {
    /// Options with the given skew allowance.
    #[must_use]
    pub fn with_clock_skew(mut self, secs: u64) -> Self {
        self.clock_skew_secs = secs;
        self
    }
}

/// Checks credentials against a trust store.
#[derive(Debug, Clone)]
pub struct Verifier {
    trust: TrustStore,
    options: VerifyOptions,
}

impl Verifier {
    /// A verifier trusting the keys in `trust`.
    #[must_use]
    pub fn new(trust: TrustStore, options: VerifyOptions) -> Self {
        Self { trust, options }
    }

    /// The trust store.
    #[must_use]
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The options.
    #[must_use]
    pub fn options(&self) -> VerifyOptions {
        self.options
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
        let claims = &cred.parsed.claims;
        let key = self.usable_key(claims.key_id, &claims.issuer, now)?;
        let window = key.validity();
        if claims.issued_at < window.not_before || claims.issued_at > window.not_after {
            return Err(Denial::KeyOutsideWindow {
                key_id: claims.key_id,
                not_before: window.not_before,
                not_after: window.not_after,
                at: claims.issued_at,
            });
        }
        let signature = ed25519_dalek::Signature::from_bytes(&cred.parsed.signature);
        key.verifying_key()
            .verify_strict(
                &wire::signed_message(wire::CREDENTIAL_DOMAIN, cred.parsed.body),
                &signature,
            )
            .map_err(|_| Denial::BadSignature)?;
        let skew = self.options.clock_skew_secs;
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
        Ok(VerifiedCredential::new(cred.parsed.claims))
    }

    /// The key `key_id` if it is trusted for `issuer`, not revoked and within its window at `now`.
    pub(crate) fn usable_key(
        &self,
        key_id: KeyId,
        issuer: &IssuerId,
        now: UnixTime,
    ) -> Result<&IssuerPublicKey, Denial> {
        let anchor = self
            .trust
            .get(&key_id)
            .ok_or(Denial::UnknownKey { key_id })?;
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
        let skew = self.options.clock_skew_secs;
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
}
