//! Key sets: `Verifier::install_key_set` on two doors holding the vector root, one
//! with the `key-set-two-keys` vector applied (sequence 1), one with `key-set-revoked`
//! (sequence 2, one key revoked), so that a set can advance, roll back, conflict,
//! revoke a trusted key, lift a revocation or clash with a key id. The input is
//! re-signed with the vector root key first (`common::resign_key_set`), so that
//! mutated bodies reach the checks behind the root signature.
//!
//! An accepted set installs again as `Unchanged`, names at most `MAX_KEY_SET_ENTRIES`
//! keys, and leaves the trust store holding exactly its keys, with their usage and
//! revocation, and every key revoked before still revoked; a refused set leaves the
//! trust store exactly as it was (key ids, usages, revocations, key-set sequence).
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use revocard::door::*;
use revocard::issue::*;
use revocard::format::*;
use revocard::*;

/// What a trust store holds, in a comparable form: every key (id, usage, certified,
/// revoked at), the revoked ids, and the key-set sequence.
#[derive(Debug, PartialEq, Eq)]
struct Held {
    keys: Vec<([u8; 8], u8, bool, Option<u64>)>,
    revoked: Vec<[u8; 8]>,
    sequence: Option<u64>,
}

fn held(trust: &TrustStore, issuer: &IssuerId, ever: &[KeyId]) -> Held {
    let mut keys: Vec<_> = trust
        .iter()
        .map(|a| {
            let usage = match a.usage() {
                KeyUsage::Credentials => 1,
                KeyUsage::Lists => 2,
                KeyUsage::CredentialsAndLists => 3,
            };
            (
                a.key().key_id().0,
                usage,
                a.is_certified(),
                a.revoked_at().map(|t| t.0),
            )
        })
        .collect();
    keys.sort_unstable();
    let mut revoked: Vec<_> = ever
        .iter()
        .filter(|id| trust.is_revoked(issuer, id))
        .map(|id| id.0)
        .collect();
    revoked.sort_unstable();
    Held {
        keys,
        revoked,
        sequence: trust.key_set_sequence(issuer),
    }
}

struct Base {
    root: RootPublicKey,
    /// The trust stores of the two doors.
    doors: Vec<TrustStore>,
}

/// A day after the vectors were signed: both key-set vectors are in force.
const AT: UnixTime = UnixTime(common::NOW.0 + 86_400);

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let doors = [common::KEY_SET_TWO_KEYS, common::KEY_SET_REVOKED]
            .iter()
            .map(|set| {
                let verifier = common::root_verifier();
                verifier.install_key_set(set, AT).unwrap();
                verifier.trust()
            })
            .collect();
        Base {
            root: common::root_key().public().clone(),
            doors,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let signed = common::resign_key_set(data);
    let data = signed.as_slice();
    let base = base();
    let issuer = base.root.issuer();
    for before_trust in &base.doors {
        let verifier = Verifier::new(before_trust.clone(), VerifyOptions::default());
        let skew = verifier.options().clock_skew_secs;
        let before_ids: Vec<KeyId> = before_trust.iter().map(|a| a.key().key_id()).collect();
        let result = verifier.install_key_set(data, AT);
        let after_trust = verifier.trust();
        match result {
            Ok(update) => {
                let set = base
                    .root
                    .verify_key_set(data, AT, skew)
                    .expect("an installed set verifies under the root");
                assert!(set.entries().len() <= MAX_KEY_SET_ENTRIES);
                let held_sequence = before_trust.key_set_sequence(issuer).unwrap();
                let expected = if set.sequence() == held_sequence {
                    ListUpdate::Unchanged {
                        sequence: held_sequence,
                    }
                } else {
                    assert!(set.sequence() > held_sequence, "rollback accepted");
                    ListUpdate::Advanced {
                        from: held_sequence,
                        to: set.sequence(),
                    }
                };
                assert_eq!(update, expected);
                assert_eq!(after_trust.key_set_sequence(issuer), Some(set.sequence()));
                // The store holds exactly the set's keys (the doors pin no key) ...
                assert_eq!(after_trust.iter().count(), set.entries().len());
                for entry in set.entries() {
                    let id = entry.key.key_id();
                    let anchor = after_trust.get(issuer, &id).expect("a key of the set is trusted");
                    assert_eq!(anchor.key(), &entry.key);
                    assert_eq!(anchor.usage(), entry.usage);
                    assert!(anchor.is_certified());
                    assert_eq!(anchor.revoked_at().is_some(), entry.revoked.is_some());
                    assert_eq!(after_trust.is_revoked(issuer, &id), entry.revoked.is_some());
                }
                // ... and a key revoked before stays revoked.
                for id in &before_ids {
                    if before_trust.is_revoked(issuer, id) {
                        assert!(after_trust.is_revoked(issuer, id), "revocation of {id:?} lifted");
                    }
                }
                assert_eq!(
                    verifier.install_key_set(data, AT),
                    Ok(ListUpdate::Unchanged {
                        sequence: set.sequence()
                    })
                );
            }
            Err(_) => {
                // Every id that could have changed: held before, held after, or named
                // by the set (if it decodes and verifies at all).
                let mut ever = before_ids.clone();
                ever.extend(after_trust.iter().map(|a| a.key().key_id()));
                if let Ok(set) = base.root.verify_key_set(data, AT, skew) {
                    ever.extend(set.entries().iter().map(|e| e.key.key_id()));
                }
                assert_eq!(
                    held(&after_trust, issuer, &ever),
                    held(before_trust, issuer, &ever),
                    "a refused key set changed the trust store"
                );
            }
        }
    }
});
