//! The one signing seam. Every signature the issuing side makes (credentials, lists,
//! deltas, key sets, the standard views' JWS) goes through [`KeyHolder::sign`] (or
//! [`KeyHolder::sign_batch`] for bulk work), which holds either the software key
//! (ed25519-dalek's `SigningKey`, and for batches its `hazmat::ExpandedSecretKey` in
//! `issue::batch`: the only code that touches secret bytes) or any [`KeySigner`]: a
//! key in a hardware security module (`revocard::TokenKey`, feature `pkcs11`) or
//! another implementation of the `signature` crate's `Signer` + `Keypair` traits.
//!
//! A signature that comes back from outside the process is checked against the key's
//! public half before it is used ("verify after sign"), with the same rule as the
//! doors' `verify_strict`: a faulty or tampered token cannot publish a bad list or
//! card. The software key is not checked (it is the same code as the verifier's
//! arithmetic, and checking would double the cost of a reissue).

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::ed25519::signature::{self, Keypair, Signer};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

/// A key that signs with Ed25519 wherever it lives: in this process (ed25519-dalek's
/// `SigningKey`), in a hardware security module (`revocard::TokenKey`), or
/// elsewhere. It is the `signature` crate's `Signer` + `Keypair`, plus where the key
/// lives, for errors and logs.
///
/// Implementations must be `Send + Sync`: the reissue signs on every core at once.
pub trait KeySigner:
    Signer<Signature> + Keypair<VerifyingKey = VerifyingKey> + Send + Sync + 'static
{
    /// Where the key lives, for errors and logs: `"software"`, or a token key's
    /// PKCS#11 URI. Never a secret (no PIN, no key bytes).
    fn location(&self) -> String;

    /// Whether the seam must check each signature [`Signer::try_sign`] returns against
    /// [`Keypair::verifying_key`] (with `verify_strict`'s rule) before using it: `true`
    /// (the default) for a key outside the process. `false` only for the software key
    /// (its signature is computed here, by the library the doors verify with) and for
    /// a signer that checks every signature itself before returning it, as
    /// `revocard::TokenKey` does. It is what keeps a faulty or tampered token from
    /// publishing a bad signature: answer `false` only if that holds.
    fn needs_verify_after_sign(&self) -> bool {
        true
    }
}

/// The software key: the one implementation that holds secret bytes.
impl KeySigner for SigningKey {
    fn location(&self) -> String {
        SOFTWARE.to_owned()
    }

    fn needs_verify_after_sign(&self) -> bool {
        false
    }
}

/// [`KeySigner::location`] of a key held in this process.
const SOFTWARE: &str = "software";

/// Why a signature could not be made. Nothing was signed, stored or published with it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key (a token, a remote signer) failed to sign: the token is gone, logged
    /// out, locked, or refused. The job that asked can resume once the key is back.
    #[error("the key at {location} could not sign: {}", innermost(source))]
    Signer {
        /// Where the key lives ([`KeySigner::location`]): a PKCS#11 URI, never a PIN.
        location: String,
        /// What the signer said (for a token, its `revocard::HsmError`, reachable
        /// through `SignError::hsm` with feature `pkcs11`).
        #[source]
        source: Arc<signature::Error>,
    },
    /// The key returned a signature that does not verify under its own public key
    /// (a faulty or tampered token): it was thrown away.
    #[error(
        "the key at {location} returned a signature that does not verify under its public key: nothing was signed with it"
    )]
    BadSignature {
        /// Where the key lives ([`KeySigner::location`]).
        location: String,
    },
}

impl SignError {
    /// Where the key that failed lives ([`KeySigner::location`]).
    #[must_use]
    pub fn location(&self) -> &str {
        match self {
            Self::Signer { location, .. } | Self::BadSignature { location } => location,
        }
    }
}

/// Two failures are the same when they name the same key and say the same thing.
impl PartialEq for SignError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Signer {
                    location: a,
                    source: x,
                },
                Self::Signer {
                    location: b,
                    source: y,
                },
            ) => a == b && innermost(x) == innermost(y),
            (Self::BadSignature { location: a }, Self::BadSignature { location: b }) => a == b,
            _ => false,
        }
    }
}

impl Eq for SignError {}

/// The most specific message a signer's error carries: its source's, if it has one
/// (`signature::Error` itself only says "signature error").
fn innermost(error: &signature::Error) -> String {
    match std::error::Error::source(error) {
        Some(source) => source.to_string(),
        None => error.to_string(),
    }
}

/// The check of signatures made outside the process by one fixed key: exactly
/// `VerifyingKey::verify_strict`'s decision, cheaper for a key that signs many times.
///
/// `verify_strict` accepts `(R, s)` on `M` under `A` iff `s` is canonical (`s < l`),
/// `R` decompresses, neither `R` nor `A` is of small order, and the encoding of
/// `[s]B - [k]A` (with `k = SHA-512(R || A || M) mod l`) equals `R`'s bytes. Here `A`'s
/// order is checked once, `[s]B + [k](-A)` comes from a table of `B` and `-A` made once,
/// and `R` is not decompressed: if the canonical encoding of `R' = [s]B - [k]A` equals
/// `R`'s bytes, `R` decompresses to `R'`, so `R` is of small order iff `R'` is. The
/// tests check the two decisions agree on valid, altered, non-canonical and
/// small-order cases.
pub(crate) struct FixedKeyCheck {
    public: VerifyingKey,
    /// `[B, -A]`.
    table: curve25519_dalek::edwards::VartimeEdwardsPrecomputation,
    small_order: bool,
}

impl FixedKeyCheck {
    pub(crate) fn new(public: VerifyingKey) -> Self {
        use curve25519_dalek::traits::VartimePrecomputedMultiscalarMul as _;
        let a = public.to_edwards();
        Self {
            public,
            table: curve25519_dalek::edwards::VartimeEdwardsPrecomputation::new([
                curve25519_dalek::constants::ED25519_BASEPOINT_POINT,
                -a,
            ]),
            small_order: a.is_small_order(),
        }
    }

    /// Whether `signature` on `message` verifies under the key, as `verify_strict` decides.
    pub(crate) fn verifies(&self, message: &[u8], signature: &Signature) -> bool {
        use curve25519_dalek::traits::VartimePrecomputedMultiscalarMul as _;
        use sha2::Digest as _;
        if self.small_order {
            return false;
        }
        let r = signature.r_bytes();
        let Some(s) = Option::<curve25519_dalek::Scalar>::from(
            curve25519_dalek::Scalar::from_canonical_bytes(*signature.s_bytes()),
        ) else {
            return false;
        };
        let digest: [u8; 64] = sha2::Sha512::new()
            .chain_update(r)
            .chain_update(self.public.as_bytes())
            .chain_update(message)
            .finalize()
            .into();
        let k = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&digest);
        let expected = self.table.vartime_multiscalar_mul([s, k]);
        !expected.is_small_order() && expected.compress().as_bytes() == r
    }
}

/// The key inside an `IssuerKey` or a `RootKey`.
pub(crate) enum KeyHolder {
    /// In this process: signs directly, as before the seam.
    Software(SigningKey),
    /// Elsewhere: every signature is checked before use (unless the signer does).
    External {
        signer: Arc<dyn KeySigner>,
        /// The public half, read once when the key was opened, and its check.
        public: VerifyingKey,
        check: Box<FixedKeyCheck>,
    },
}

impl KeyHolder {
    /// Takes any signer (held behind an `Arc`, shared by every worker).
    pub(crate) fn from_signer(signer: impl KeySigner) -> Self {
        Self::external(Arc::new(signer))
    }

    fn external(signer: Arc<dyn KeySigner>) -> Self {
        let public = signer.verifying_key();
        let check = Box::new(FixedKeyCheck::new(public));
        Self::External {
            signer,
            public,
            check,
        }
    }

    /// The public half.
    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::Software(key) => key.verifying_key(),
            Self::External { public, .. } => *public,
        }
    }

    /// Where the key lives.
    pub(crate) fn location(&self) -> String {
        match self {
            Self::Software(_) => SOFTWARE.to_owned(),
            Self::External { signer, .. } => signer.location(),
        }
    }

    /// The software key, if this is one (to export its secret bytes).
    pub(crate) fn software(&self) -> Option<&SigningKey> {
        match self {
            Self::Software(key) => Some(key),
            Self::External { .. } => None,
        }
    }

    /// Signs each of `messages`, in order: [`Self::sign`] on each, but the software key
    /// signs the whole batch with one field inversion (`issue::batch`), making the same
    /// bytes.
    pub(crate) fn sign_batch(&self, messages: &[&[u8]]) -> Result<Vec<[u8; 64]>, SignError> {
        match self {
            Self::Software(key) => Ok(super::batch::sign_batch(key, messages)),
            Self::External { .. } => messages.iter().map(|m| self.sign(m)).collect(),
        }
    }

    /// Signs `message`; a signature from outside the process is verified first.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        match self {
            Self::Software(key) => Ok(key.sign(message).to_bytes()),
            Self::External { signer, check, .. } => {
                let signature = signer.try_sign(message).map_err(|e| SignError::Signer {
                    location: signer.location(),
                    source: Arc::new(e),
                })?;
                if signer.needs_verify_after_sign() && !check.verifies(message, &signature) {
                    return Err(SignError::BadSignature {
                        location: signer.location(),
                    });
                }
                Ok(signature.to_bytes())
            }
        }
    }
}

impl fmt::Debug for KeyHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyHolder")
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};
    use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

    use super::*;

    /// The group order l, little-endian.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    fn add_l(s: &[u8; 32]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(s[i]) + u16::from(L[i]) + carry;
            out[i] = sum as u8;
            carry = sum >> 8;
        }
        out
    }

    /// The encodings of the eight points of small order (the identity first).
    fn small_order_encodings() -> Vec<[u8; 32]> {
        use curve25519_dalek::constants::EIGHT_TORSION;
        EIGHT_TORSION
            .iter()
            .map(|p| p.compress().to_bytes())
            .collect()
    }

    fn agree(key: &VerifyingKey, check: &FixedKeyCheck, message: &[u8], sig: &Signature) -> bool {
        let strict = key.verify_strict(message, sig).is_ok();
        assert_eq!(check.verifies(message, sig), strict, "{sig:?}");
        strict
    }

    #[test]
    fn decides_exactly_as_verify_strict() {
        let mut rng = StdRng::seed_from_u64(21);
        let mut accepted = 0;
        for round in 0..200 {
            let signing = SigningKey::generate(&mut rng);
            let key = signing.verifying_key();
            let check = FixedKeyCheck::new(key);
            let mut message = vec![0u8; round % 97];
            rng.fill_bytes(&mut message);
            let good = signing.sign(&message);
            accepted += usize::from(agree(&key, &check, &message, &good));
            let bytes = good.to_bytes();
            // Every single-bit change of the signature, and of the message.
            for bit in (0..512).step_by(7) {
                let mut b = bytes;
                b[bit / 8] ^= 1 << (bit % 8);
                assert!(!agree(&key, &check, &message, &Signature::from_bytes(&b)));
            }
            if !message.is_empty() {
                let mut m = message.clone();
                m[0] ^= 1;
                assert!(!agree(&key, &check, &m, &good));
            }
            // The same signature with s + l (not canonical): malleability, refused.
            let mut b = bytes;
            let s: [u8; 32] = b[32..].try_into().unwrap();
            b[32..].copy_from_slice(&add_l(&s));
            assert!(!agree(&key, &check, &message, &Signature::from_bytes(&b)));
            // Small-order R with any s, and random garbage.
            for r in small_order_encodings() {
                let mut b = bytes;
                b[..32].copy_from_slice(&r);
                assert!(!agree(&key, &check, &message, &Signature::from_bytes(&b)));
            }
            let mut garbage = [0u8; 64];
            rng.fill_bytes(&mut garbage);
            agree(&key, &check, &message, &Signature::from_bytes(&garbage));
        }
        assert_eq!(accepted, 200);
    }

    #[test]
    fn refuses_everything_under_a_small_order_key() {
        for a in small_order_encodings() {
            let Ok(key) = VerifyingKey::from_bytes(&a) else {
                continue;
            };
            let check = FixedKeyCheck::new(key);
            // s = 0 and R = the identity: [0]B - [k]A is the identity (or small), which
            // verify_strict refuses as it refuses the small-order key.
            let mut b = [0u8; 64];
            b[..32].copy_from_slice(&small_order_encodings()[0]);
            for message in [&b""[..], b"m"] {
                agree(&key, &check, message, &Signature::from_bytes(&b));
                assert!(!check.verifies(message, &Signature::from_bytes(&b)));
            }
        }
    }
}
