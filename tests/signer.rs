//! The signing seam (`issue::KeySigner`): a key held outside the process signs through
//! it, and a faulty one (a bad signature, a failure, a weak public key) can neither
//! issue a card, publish a list nor sign a key set.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use ed25519_dalek::ed25519::signature::{self, Keypair, Signer};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use revocard::issue::*;
use revocard::*;

/// What the outside key does when asked to sign.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Honest,
    /// Returns a signature with one bit flipped (a faulty or tampered token).
    FlipsABit,
    /// Returns a signature by another key.
    AnotherKey,
    /// Fails (a token gone).
    Fails,
}

/// A software key behind the seam, standing in for a key in a token.
struct Outside {
    key: SigningKey,
    other: SigningKey,
    mode: Mode,
    /// Honest signatures before it turns to `mode`.
    honest_first: usize,
    signed: AtomicUsize,
}

impl Outside {
    fn new(seed: u64, mode: Mode, honest_first: usize) -> Self {
        let mut rng = rng(seed);
        Self {
            key: SigningKey::generate(&mut rng),
            other: SigningKey::generate(&mut rng),
            mode,
            honest_first,
            signed: AtomicUsize::new(0),
        }
    }
}

impl Signer<Signature> for Outside {
    fn try_sign(&self, message: &[u8]) -> Result<Signature, signature::Error> {
        if self.signed.fetch_add(1, Ordering::SeqCst) < self.honest_first {
            return Ok(self.key.sign(message));
        }
        match self.mode {
            Mode::Honest => Ok(self.key.sign(message)),
            Mode::FlipsABit => {
                let mut bytes = self.key.sign(message).to_bytes();
                bytes[40] ^= 1;
                Ok(Signature::from_bytes(&bytes))
            }
            Mode::AnotherKey => Ok(self.other.sign(message)),
            Mode::Fails => Err(signature::Error::from_source(std::io::Error::other(
                "C_Sign failed with CKR_DEVICE_REMOVED",
            ))),
        }
    }
}

impl Keypair for Outside {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}

impl KeySigner for Outside {
    fn location(&self) -> String {
        "pkcs11:token=test;object=outside".to_owned()
    }
}

fn window() -> Validity {
    Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap()
}

#[test]
fn an_outside_key_issues_cards_and_lists_that_doors_accept() {
    let key =
        IssuerKey::from_signer(issuer_id(), window(), Outside::new(1, Mode::Honest, 0)).unwrap();
    assert_eq!(key.location(), "pkcs11:token=test;object=outside");
    assert!(
        key.to_secret_bytes().is_none(),
        "no secret bytes outside the process"
    );
    let card = key.issue(request(1), NOW, &mut rng(2)).unwrap();
    let verifier = verifier_for(&key);
    assert_eq!(
        verifier.verify(card.bytes(), NOW).unwrap().serial(),
        card.serial()
    );
    let root =
        RootKey::from_signer(issuer_id(), window(), Outside::new(3, Mode::Honest, 0)).unwrap();
    let mut trust = TrustStore::new();
    trust.add_root(root.public().clone()).unwrap();
    let door = Verifier::new(trust, VerifyOptions::default());
    door.install_key_set(&first_key_set(&root, &[&key]), NOW)
        .unwrap();
    // The software key keeps its secret bytes and says where it lives.
    let software = issuer_key(&mut rng(4));
    assert_eq!(software.location(), "software");
    assert!(software.to_secret_bytes().is_some());
}

#[test]
fn a_bad_signature_from_an_outside_key_issues_and_publishes_nothing() {
    for mode in [Mode::FlipsABit, Mode::AnotherKey] {
        // Honest for the first list, then faulty.
        let key = IssuerKey::from_signer(issuer_id(), window(), Outside::new(5, mode, 1)).unwrap();
        let mut list = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
        list.publish(&key, NOW, NOW.plus(3600)).unwrap();
        let bad = SignError::BadSignature {
            location: "pkcs11:token=test;object=outside".to_owned(),
        };
        assert_eq!(
            key.issue(request(1), NOW, &mut rng(6)).unwrap_err(),
            IssueError::Sign(bad.clone())
        );
        list.revoke(1, RevocationReason::Lost, NOW).unwrap();
        assert_eq!(
            list.publish(&key, NOW, NOW.plus(3600)).unwrap_err(),
            PublishListError::Sign(bad.clone())
        );
        assert_eq!(
            list.sequence(),
            1,
            "nothing published, the next publication is 2"
        );
        assert!(matches!(
            key.sign_jws(b"eyJhbGciOiJFZERTQSJ9.e30"),
            Err(IssueError::Sign(_))
        ));
        let root = RootKey::from_signer(issuer_id(), window(), Outside::new(7, mode, 0)).unwrap();
        let draft = KeySetDraft::first(root.public(), NOW);
        assert_eq!(root.sign_key_set(&draft).unwrap_err(), bad);
        assert!(bad.to_string().contains("pkcs11:token=test;object=outside"));
    }
}

#[test]
fn a_failing_outside_key_says_where_it_lives_and_why_in_one_line() {
    let key =
        IssuerKey::from_signer(issuer_id(), window(), Outside::new(8, Mode::Fails, 0)).unwrap();
    let Err(IssueError::Sign(e)) = key.issue(request(1), NOW, &mut rng(9)) else {
        panic!("a failing key issued a card");
    };
    assert!(matches!(e, SignError::Signer { .. }));
    assert_eq!(e.location(), "pkcs11:token=test;object=outside");
    assert_eq!(
        e.to_string(),
        "the key at pkcs11:token=test;object=outside could not sign: C_Sign failed with CKR_DEVICE_REMOVED"
    );
}

/// A signer whose public key is of small order: every signature would verify for any
/// message under some forgeries, so it is refused as a trust anchor would be.
struct Weak;

impl Signer<Signature> for Weak {
    fn try_sign(&self, _: &[u8]) -> Result<Signature, signature::Error> {
        Ok(Signature::from_bytes(&[0; 64]))
    }
}

impl Keypair for Weak {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        // The identity point, of order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        VerifyingKey::from_bytes(&identity).unwrap()
    }
}

impl KeySigner for Weak {
    fn location(&self) -> String {
        "weak".to_owned()
    }
}

#[test]
fn an_outside_key_with_a_weak_public_key_is_refused() {
    assert!(matches!(
        IssuerKey::from_signer(issuer_id(), window(), Weak),
        Err(TrustError::WeakKey { .. })
    ));
    assert!(matches!(
        RootKey::from_signer(issuer_id(), window(), Weak),
        Err(TrustError::WeakKey { .. })
    ));
}
