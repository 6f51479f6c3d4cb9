//! Ed25519 signatures made in batches with the software key: the same bytes as
//! ed25519-dalek's `SigningKey::sign`, with one field inversion for a whole batch.
//!
//! Signing a message costs a fixed-base multiplication `R = [r]B`, two SHA-512 and the
//! encoding of `R`, whose field inversion is about a sixth of the whole (measured:
//! 5.9 µs of a 33 µs signature on this project's machines). A bulk run signs
//! thousands of credentials with one key, so [`sign_batch`] computes every `R` of a
//! batch first and encodes them together (`EdwardsPoint::compress_batch_alloc`,
//! Montgomery's trick: one inversion and three multiplications a point), then finishes
//! each signature as RFC 8032 section 5.1.6 does. It follows ed25519-dalek's own
//! `raw_sign` step for step, through the key expansion ed25519-dalek exports for this
//! (`hazmat::ExpandedSecretKey`, zeroized on drop); a test checks it against
//! `SigningKey::sign` byte for byte. Ed25519 signing is deterministic, so the two can
//! be compared exactly: any difference is a bug, never randomness.
//!
//! The nonce `r` of each message stays secret as in ed25519-dalek: `[r]B` is the
//! constant-time fixed-base multiplication, and the batch's nonces are zeroized once
//! the batch is signed. Batching changes no signature: what the key signs, and under
//! which public key (the key's own, derived from the secret, never passed in), is what
//! `SigningKey::sign` would sign.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::SigningKey;
use ed25519_dalek::hazmat::ExpandedSecretKey;
use sha2::{Digest as _, Sha512};
use zeroize::Zeroize as _;

/// `SHA-512(parts) mod l`.
fn scalar_of(digest: Sha512) -> Scalar {
    let mut wide = [0u8; 64];
    wide.copy_from_slice(digest.finalize().as_slice());
    let scalar = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    scalar
}

/// The signatures `key.sign(message)` would make, for each message, in order.
pub(crate) fn sign_batch(key: &SigningKey, messages: &[&[u8]]) -> Vec<[u8; 64]> {
    let expanded = ExpandedSecretKey::from(key.as_bytes());
    let public = key.verifying_key();
    let mut nonces: Vec<Scalar> = messages
        .iter()
        .map(|message| {
            scalar_of(
                Sha512::new()
                    .chain_update(expanded.hash_prefix)
                    .chain_update(message),
            )
        })
        .collect();
    let points: Vec<EdwardsPoint> = nonces.iter().map(EdwardsPoint::mul_base).collect();
    let encoded = EdwardsPoint::compress_batch_alloc(&points);
    let signatures = messages
        .iter()
        .zip(&encoded)
        .zip(&nonces)
        .map(|((message, r_point), r)| {
            let k = scalar_of(
                Sha512::new()
                    .chain_update(r_point.as_bytes())
                    .chain_update(public.as_bytes())
                    .chain_update(message),
            );
            let s = k * expanded.scalar + r;
            let mut signature = [0u8; 64];
            let (r_half, s_half) = signature.split_at_mut(32);
            r_half.copy_from_slice(r_point.as_bytes());
            s_half.copy_from_slice(s.as_bytes());
            signature
        })
        .collect();
    nonces.zeroize();
    signatures
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Signer as _;
    use rand::{Rng as _, SeedableRng as _, rngs::StdRng};

    use super::*;

    #[test]
    fn a_batch_signs_exactly_what_signing_key_sign_signs() {
        let mut rng = StdRng::seed_from_u64(23);
        for size in [0usize, 1, 2, 63, 64, 65, 200] {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            let key = SigningKey::from_bytes(&seed);
            let messages: Vec<Vec<u8>> = (0..size)
                .map(|i| {
                    let mut m = vec![0u8; (i * 37) % 700];
                    rng.fill_bytes(&mut m);
                    m
                })
                .collect();
            let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let batch = sign_batch(&key, &refs);
            assert_eq!(batch.len(), size);
            for (message, signature) in messages.iter().zip(&batch) {
                assert_eq!(*signature, key.sign(message).to_bytes(), "size {size}");
                assert!(
                    key.verifying_key()
                        .verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
                        .is_ok()
                );
            }
        }
    }

    #[test]
    fn the_same_message_twice_in_a_batch_gets_the_same_signature() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let batch = sign_batch(&key, &[b"revocard/v", b"other", b"revocard/v"]);
        assert_eq!(batch[0], batch[2]);
        assert_ne!(batch[0], batch[1]);
    }
}
