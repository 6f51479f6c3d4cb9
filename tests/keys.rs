//! The root of trust and a stolen signing key, tried as an attacker would: a list at
//! `u64::MAX` signed with a stolen key, deltas from a revoked key, branches, key sets
//! rolled back or lifting a revocation, and a registry asked to sign with keys it
//! must refuse.

mod common;

use common::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::registry::audit::*;
use revocard::registry::*;
use revocard::*;

/// An issuer with an offline root and two signing keys: K1 (about to be stolen) and
/// K2 (its successor, certified later).
struct Issuer {
    rng: rand::rngs::StdRng,
    root: RootKey,
    k1: IssuerKey,
    k2: IssuerKey,
    list: IssuerStatusList,
}

impl Issuer {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let k1 = issuer_key(&mut rng);
        let k2 = issuer_key(&mut rng);
        let root = root_for(&k1);
        Self {
            rng,
            root,
            k1,
            k2,
            list: IssuerStatusList::new(issuer_id(), CAPACITY).unwrap(),
        }
    }

    /// Key set 1: K1 alone.
    fn key_set_1(&self) -> Vec<u8> {
        first_key_set(&self.root, &[&self.k1])
    }

    /// Key set 2, drafted from set 1: K1 revoked as compromised, K2 certified.
    fn key_set_2(&self) -> Vec<u8> {
        let set1 = self
            .root
            .public()
            .verify_key_set(&self.key_set_1(), NOW, 60)
            .unwrap();
        let mut next = KeySetDraft::next_after(&set1, NOW);
        next.certify(self.k2.public(), KeyUsage::CredentialsAndLists)
            .unwrap();
        next.revoke(self.k1.key_id(), NOW, RevocationReason::IssuerKeyCompromise)
            .unwrap();
        assert_eq!(next.sequence(), 2);
        self.root.sign_key_set(&next).unwrap()
    }

    /// A door configured with the root alone, fed key set 1.
    fn door(&self) -> Verifier {
        let mut trust = TrustStore::new();
        trust.add_root(self.root.public().clone()).unwrap();
        let v = Verifier::new(trust, VerifyOptions::default());
        assert_eq!(
            v.install_key_set(&self.key_set_1(), NOW).unwrap(),
            ListUpdate::Installed { sequence: 1 }
        );
        v
    }

    fn publish(&mut self, key_is_k2: bool) -> Publication {
        let key = if key_is_k2 { &self.k2 } else { &self.k1 };
        self.list.publish(key, NOW, NOW.plus(3600)).unwrap()
    }

    /// The issuer's list revokes K1 by a scope entry (issuer-key compromise).
    fn revoke_k1_by_scope(&mut self) {
        self.list
            .revoke_scope(ScopeEntry {
                scope: Scope::IssuerKey(self.k1.key_id()),
                reason: RevocationReason::IssuerKeyCompromise,
                since: NOW,
            })
            .unwrap();
    }

    fn card(&mut self, index: u32) -> Credential {
        self.k1.issue(request(index), NOW, &mut self.rng).unwrap()
    }

    /// What an attacker holding K1 publishes: a copy of the honest list at sequence
    /// `u64::MAX`, valid for a decade, so that no later honest list or delta installs.
    fn attackers_list(&self) -> Publication {
        let statuses: Vec<_> = (0..CAPACITY)
            .filter_map(|i| match self.list.status(i) {
                Some(Status::Valid) | None => None,
                Some(status) => Some((i, status, None)),
            })
            .collect();
        let mut forged = IssuerStatusList::restore(
            issuer_id(),
            CAPACITY,
            u64::MAX - 1,
            [9; 32],
            statuses,
            self.list.scopes().to_vec(),
        )
        .unwrap();
        forged.publish(&self.k1, NOW, NOW.plus(10 * YEAR)).unwrap()
    }
}

fn denial(v: &Verifier, card: &Credential) -> Option<Denial> {
    v.verify(card.bytes(), NOW).err()
}

// ---------------------------------------------------------------------------
// Defect 1: a list stays in force after the key that signed it is revoked.
// ---------------------------------------------------------------------------

/// The two routes by which a door learns that K1 is revoked as a key.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// `Verifier::revoke_key`, by the door's operator.
    Local,
    /// The root's key set 2.
    KeySet,
}

#[test]
fn a_stolen_keys_list_at_u64_max_goes_out_of_force_by_every_route() {
    for route in [Route::Local, Route::KeySet] {
        let mut issuer = Issuer::new(1);
        let door = issuer.door();
        let honest = issuer.card(5);
        let first = issuer.publish(false);
        door.install_list(&first.list, NOW).unwrap();

        // The attacker's copy at u64::MAX installs (K1 is still trusted).
        let forged = issuer.attackers_list();
        assert_eq!(
            door.install_list(&forged.list, NOW).unwrap(),
            ListUpdate::Advanced {
                from: 1,
                to: u64::MAX
            }
        );
        // The issuer revokes a stolen card: the door cannot take it.
        issuer
            .list
            .revoke(5, RevocationReason::Stolen, NOW)
            .unwrap();
        let revoked = issuer.publish(false);
        assert!(matches!(
            door.apply_delta(revoked.delta.as_ref().unwrap(), NOW),
            Err(ListError::Rollback { .. })
        ));
        assert!(door.verify(honest.bytes(), NOW).is_ok(), "{route:?}");

        // The issuer's recovery, by `route`.
        match route {
            Route::Local => {
                door.revoke_key(issuer.k1.key_id(), NOW).unwrap();
                // Pinned locally, as a small deployment would.
                door.add_key(issuer.k2.public().clone()).unwrap();
            }
            Route::KeySet => {
                door.install_key_set(&issuer.key_set_2(), NOW).unwrap();
            }
        }
        let by_k2 = issuer.k2.issue(request(6), NOW, &mut issuer.rng).unwrap();
        {
            // Out of force at once: no list, every card of the issuer denied, even
            // one signed by the good key (fail closed until a good list arrives).
            assert!(door.list(&issuer_id()).is_none(), "{route:?}");
            assert!(
                matches!(denial(&door, &by_k2), Some(Denial::NoStatusList { .. })),
                "{route:?}: {:?}",
                denial(&door, &by_k2)
            );
            assert!(
                matches!(denial(&door, &honest), Some(Denial::KeyRevoked { .. })),
                "{route:?}"
            );
        }
        // The honest key's next list installs, whatever sequence the attacker used.
        issuer.revoke_k1_by_scope();
        let recovery = issuer.publish(true);
        assert_eq!(recovery.sequence, 3);
        let update = door.install_list(&recovery.list, NOW).unwrap();
        assert!(
            matches!(
                update,
                ListUpdate::Installed { sequence: 3 } | ListUpdate::Advanced { to: 3, .. }
            ),
            "{route:?}: {update:?}"
        );
        // Every card K1 signed is denied (the honest revocation, and the key scope).
        assert!(
            matches!(
                denial(&door, &honest),
                Some(Denial::Revoked { .. }) | Some(Denial::KeyRevoked { .. })
            ),
            "{route:?}"
        );
        assert!(door.verify(by_k2.bytes(), NOW).is_ok(), "{route:?}");
        // And the door never goes back to the attacker's list.
        assert!(door.install_list(&forged.list, NOW).is_err(), "{route:?}");
        assert_eq!(door.list(&issuer_id()).unwrap().sequence(), 3, "{route:?}");
    }
}

#[test]
fn doors_that_saw_the_attackers_list_and_doors_that_did_not_end_the_same() {
    let mut issuer = Issuer::new(2);
    let honest_card = issuer.card(8);
    let first = issuer.publish(false);
    let (saw, missed) = (issuer.door(), issuer.door());
    for door in [&saw, &missed] {
        door.install_list(&first.list, NOW).unwrap();
    }
    saw.install_list(&issuer.attackers_list().list, NOW)
        .unwrap();
    let forged_card = issuer
        .k1
        .issue(
            request(77),
            NOW,
            &mut rand::rngs::StdRng::from_seed([3; 32]),
        )
        .unwrap();
    assert!(saw.verify(forged_card.bytes(), NOW).is_ok());

    // Recovery: key set 2, then the honest list revoking K1, signed by K2.
    issuer.revoke_k1_by_scope();
    let recovery = issuer.publish(true);
    let key_set = issuer.key_set_2();
    for door in [&saw, &missed] {
        door.install_key_set(&key_set, NOW).unwrap();
        door.install_list(&recovery.list, NOW).unwrap();
    }
    let (a, b) = (
        saw.list(&issuer_id()).unwrap(),
        missed.list(&issuer_id()).unwrap(),
    );
    assert_eq!(*a, *b);
    assert_eq!(a.state_digest(), b.state_digest());
    for card in [&honest_card, &forged_card] {
        assert_eq!(denial(&saw, card), denial(&missed, card));
        assert!(denial(&saw, card).is_some());
    }
    let replacement = issuer.k2.issue(request(9), NOW, &mut issuer.rng).unwrap();
    assert!(saw.verify(replacement.bytes(), NOW).is_ok());
    assert!(missed.verify(replacement.bytes(), NOW).is_ok());
}

use rand::SeedableRng as _;

#[test]
fn a_list_naming_a_key_in_a_scope_never_displaces_that_keys_list() {
    // Two trusted signing keys, K1 stolen. Only the root arbitrates between them: a
    // scope entry in one key's list cannot push the other's list aside, either way.
    let mut issuer = Issuer::new(11);
    let door = issuer.door();
    door.add_key(issuer.k2.public().clone()).unwrap();
    let stolen_card = issuer.card(5);
    door.install_list(&issuer.publish(true).list, NOW).unwrap();
    issuer
        .list
        .revoke(5, RevocationReason::Stolen, NOW)
        .unwrap();
    let honest = issuer.publish(true);
    door.apply_delta(honest.delta.as_ref().unwrap(), NOW)
        .unwrap();
    assert!(matches!(
        denial(&door, &stolen_card),
        Some(Denial::Revoked { .. })
    ));

    // The attacker's list (K1) names the honest key K2 in a scope entry and lifts the
    // revocation of card 5: refused, the revocation stands.
    let mut forged = IssuerStatusList::restore(
        issuer_id(),
        CAPACITY,
        honest.sequence,
        [0; 32],
        std::iter::empty(),
        vec![ScopeEntry {
            scope: Scope::IssuerKey(issuer.k2.key_id()),
            reason: RevocationReason::IssuerKeyCompromise,
            since: NOW,
        }],
    )
    .unwrap();
    let attack = forged.publish(&issuer.k1, NOW, NOW.plus(3600)).unwrap();
    assert_eq!(
        door.install_list(&attack.list, NOW),
        Err(ListError::Inconsistent(StatusError::RevokedIsPermanent {
            index: 5
        }))
    );
    assert!(matches!(
        denial(&door, &stolen_card),
        Some(Denial::Revoked { .. })
    ));

    // Conversely, a door holding the attacker's list at u64::MAX: the honest list
    // naming K1 in a scope entry is refused as a rollback, and only the root's key set
    // (or a local revocation) clears it.
    let other = issuer.door();
    other.add_key(issuer.k2.public().clone()).unwrap();
    other
        .install_list(&issuer.attackers_list().list, NOW)
        .unwrap();
    issuer.revoke_k1_by_scope();
    let recovery = issuer.publish(true);
    assert!(matches!(
        other.install_list(&recovery.list, NOW),
        Err(ListError::Rollback { .. })
    ));
    other.install_key_set(&issuer.key_set_2(), NOW).unwrap();
    other.install_list(&recovery.list, NOW).unwrap();
    assert_eq!(
        other.list(&issuer_id()).unwrap().sequence(),
        recovery.sequence
    );
}

#[test]
fn a_list_that_revokes_its_own_signer_is_refused_at_the_door() {
    // Our publisher refuses to sign one; a stolen key's own tooling would not. Build it
    // by hand: a list revoking K1 signed by K2, then the key id and signature swapped
    // for K1's (the body's key id sits right after the issuer string and its one-byte
    // varint length).
    use ed25519_dalek::{Signer as _, SigningKey};
    let mut issuer = Issuer::new(12);
    let door = issuer.door();
    let first = issuer.publish(false);
    door.install_list(&first.list, NOW).unwrap();
    let mut list = IssuerStatusList::restore(
        issuer_id(),
        CAPACITY,
        first.sequence,
        list_state_digest(&first.list).unwrap().0,
        std::iter::empty(),
        vec![ScopeEntry {
            scope: Scope::IssuerKey(issuer.k1.key_id()),
            reason: RevocationReason::Unspecified,
            since: NOW,
        }],
    )
    .unwrap();
    let mut bytes = list.publish(&issuer.k2, NOW, NOW.plus(60)).unwrap().list;
    let key_id_at = 1 + 64 + 1 + issuer_id().as_str().len();
    bytes[key_id_at..key_id_at + 8].copy_from_slice(&issuer.k1.key_id().0);
    let mut message = LIST_DOMAIN.to_vec();
    message.push(LIST_FORMAT_VERSION);
    message.extend_from_slice(&bytes[65..]);
    let signature = SigningKey::from_bytes(&issuer.k1.to_secret_bytes().unwrap()).sign(&message);
    bytes[1..65].copy_from_slice(&signature.to_bytes());
    assert!(matches!(
        door.install_list(&bytes, NOW),
        Err(ListError::Untrusted(Denial::KeyRevoked { key_id, .. })) if key_id == issuer.k1.key_id()
    ));
    assert_eq!(door.list(&issuer_id()).unwrap().sequence(), first.sequence);
}

// ---------------------------------------------------------------------------
// Defect 2: a key named by a `Scope::IssuerKey` entry can still sign deltas.
// ---------------------------------------------------------------------------

#[test]
fn a_key_the_held_list_revokes_signs_nothing_the_door_accepts() {
    let mut issuer = Issuer::new(3);
    let door = issuer.door();
    door.add_key(issuer.k2.public().clone()).unwrap();
    let card = issuer.card(4);
    issuer.list.suspend(4).unwrap();
    issuer
        .list
        .revoke_scope(ScopeEntry {
            scope: Scope::IssuerKey(KeyId([0xee; 8])),
            reason: RevocationReason::Unspecified,
            since: NOW,
        })
        .unwrap();
    door.install_list(&issuer.publish(true).list, NOW).unwrap();
    // K2 revokes K1 by a scope entry.
    issuer.revoke_k1_by_scope();
    let held = issuer.publish(true);
    door.apply_delta(held.delta.as_ref().unwrap(), NOW).unwrap();
    let before = door.list(&issuer_id()).unwrap();

    // The attacker, holding K1 and the public list, lifts the suspension by a delta
    // that names the held list's state exactly, and by a full list. (Our publisher
    // refuses to sign a list revoking its signer; the attacker's copy of it leaves
    // the key scope out.)
    assert_eq!(
        issuer.list.clone().publish(&issuer.k1, NOW, NOW.plus(3600)),
        Err(revocard::issue::PublishListError::Status(
            StatusError::SignerRevoked {
                key_id: issuer.k1.key_id()
            }
        ))
    );
    let mut forged = IssuerStatusList::restore(
        issuer_id(),
        CAPACITY,
        held.sequence,
        before.state_digest(),
        [(4, Status::Suspended, None)],
        vec![ScopeEntry {
            scope: Scope::IssuerKey(KeyId([0xee; 8])),
            reason: RevocationReason::Unspecified,
            since: NOW,
        }],
    )
    .unwrap();
    forged.reinstate(4).unwrap();
    let lifted = forged.publish(&issuer.k1, NOW, NOW.plus(3600)).unwrap();
    assert!(matches!(
        door.apply_delta(lifted.delta.as_ref().unwrap(), NOW),
        Err(ListError::Untrusted(Denial::KeyRevoked { .. }))
    ));
    assert!(matches!(
        door.install_list(&lifted.list, NOW),
        Err(ListError::Untrusted(Denial::KeyRevoked { .. }))
    ));
    assert_eq!(*door.list(&issuer_id()).unwrap(), *before);
    // The card is revoked by the key scope (it was signed by K1) and stays so.
    assert!(matches!(
        denial(&door, &card),
        Some(Denial::Revoked {
            by: RevokedBy::Scope(ScopeEntry {
                scope: Scope::IssuerKey(_),
                ..
            }),
            ..
        })
    ));
}

// ---------------------------------------------------------------------------
// Deltas name the list they apply to: branches never mix.
// ---------------------------------------------------------------------------

#[test]
fn a_delta_from_another_branch_at_the_same_sequence_is_refused() {
    let mut issuer = Issuer::new(4);
    let door = issuer.door();
    door.install_list(&issuer.publish(false).list, NOW).unwrap();
    // Two branches from sequence 1: A revokes 10, B suspends 11.
    let mut a = issuer.list.clone();
    let mut b = issuer.list.clone();
    a.revoke(10, RevocationReason::Lost, NOW).unwrap();
    b.suspend(11).unwrap();
    let a2 = a.publish(&issuer.k1, NOW, NOW.plus(3600)).unwrap();
    let b2 = b.publish(&issuer.k1, NOW, NOW.plus(3600)).unwrap();
    door.apply_delta(a2.delta.as_ref().unwrap(), NOW).unwrap();
    // B's next delta (2 -> 3) starts at the sequence held, from another list.
    b.suspend(12).unwrap();
    let b3 = b.publish(&issuer.k1, NOW, NOW.plus(3600)).unwrap();
    assert_eq!(
        door.apply_delta(b3.delta.as_ref().unwrap(), NOW),
        Err(ListError::Branch { sequence: 2 })
    );
    // The state a delta applies to is signed, not sent: its 4-byte hint only names the
    // branch. B's delta with its hint rewritten to A's state is still refused, as a
    // signature that does not verify over the state held.
    let mut forged = b3.delta.clone().unwrap();
    let (held, theirs) = (
        list_state_digest(&a2.list).unwrap().0,
        list_state_digest(&b2.list).unwrap().0,
    );
    let hint_at = 65
        + forged[65..]
            .windows(4)
            .position(|w| w == &theirs[..4])
            .expect("the hint of B's state");
    forged[hint_at..hint_at + 4].copy_from_slice(&held[..4]);
    assert_eq!(door.apply_delta(&forged, NOW), Err(ListError::BadSignature));
    assert_eq!(door.list(&issuer_id()).unwrap().sequence(), 2);
    // B's full list at 2 is an equivocation.
    assert_eq!(
        door.install_list(&b2.list, NOW),
        Err(ListError::Conflict { sequence: 2 })
    );
    // A's own next delta still applies.
    a.revoke(13, RevocationReason::Lost, NOW).unwrap();
    let a3 = a.publish(&issuer.k1, NOW, NOW.plus(3600)).unwrap();
    door.apply_delta(a3.delta.as_ref().unwrap(), NOW).unwrap();
    // A door that applied deltas holds exactly the state the issuer's full list names.
    let rebuilt = door.list(&issuer_id()).unwrap();
    let fresh = issuer.door();
    fresh.install_list(&a3.list, NOW).unwrap();
    assert_eq!(*rebuilt, *fresh.list(&issuer_id()).unwrap());
    assert_eq!(
        rebuilt.state_digest(),
        list_state_digest(&a3.list).unwrap().0
    );
}

// ---------------------------------------------------------------------------
// Key sets at a door.
// ---------------------------------------------------------------------------

#[test]
fn key_sets_never_go_back_and_never_lift_a_revocation() {
    let issuer = Issuer::new(5);
    let door = issuer.door();
    let set2 = issuer.key_set_2();
    assert_eq!(
        door.install_key_set(&set2, NOW).unwrap(),
        ListUpdate::Advanced { from: 1, to: 2 }
    );
    assert_eq!(
        door.install_key_set(&set2, NOW).unwrap(),
        ListUpdate::Unchanged { sequence: 2 }
    );
    // Set 1 again: a rollback.
    assert_eq!(
        door.install_key_set(&issuer.key_set_1(), NOW),
        Err(KeySetError::Rollback {
            held: 2,
            offered: 1
        })
    );
    // A set 3 that names K1 as usable again (drafted from set 2 with every entry
    // dropped and both keys certified afresh, as a stale template would): refused.
    let set2 = issuer.root.public().verify_key_set(&set2, NOW, 60).unwrap();
    let mut three = KeySetDraft::next_after(&set2, NOW);
    three.drop_expired(NOW.plus(20 * YEAR));
    three
        .certify(issuer.k1.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    three
        .certify(issuer.k2.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    assert_eq!(three.sequence(), 3);
    assert_eq!(
        door.install_key_set(&issuer.root.sign_key_set(&three).unwrap(), NOW),
        Err(KeySetError::RevocationLifted {
            key_id: issuer.k1.key_id()
        })
    );
    assert!(door.trust().is_revoked(&issuer_id(), &issuer.k1.key_id()));
    // Pinning the revoked key by hand is refused too.
    assert_eq!(
        door.add_key(issuer.k1.public().clone()),
        Err(TrustError::Revoked {
            key_id: issuer.k1.key_id()
        })
    );
}

#[test]
fn a_key_set_must_be_the_installed_roots() {
    let issuer = Issuer::new(6);
    let door = issuer.door();
    let mut rng = rng(60);
    let other_root = RootKey::generate(
        issuer_id(),
        Validity::new(NOW.minus(YEAR), NOW.plus(YEAR)).unwrap(),
        &mut rng,
    )
    .unwrap();
    let impostor = first_key_set(&other_root, &[&issuer.k2]);
    assert!(matches!(
        door.install_key_set(&impostor, NOW),
        Err(KeySetError::WrongRoot { .. })
    ));
    // A signing key cannot stand in for the root: its signature over a key set fails.
    let mut draft = KeySetDraft::first(issuer.root.public(), NOW);
    draft
        .certify(issuer.k2.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    let tbs = draft.to_be_signed();
    let by_k1 = {
        use ed25519_dalek::Signer as _;
        ed25519_dalek::SigningKey::from_bytes(&issuer.k1.to_secret_bytes().unwrap())
            .sign(&tbs)
            .to_bytes()
    };
    assert_eq!(
        door.install_key_set(&draft.assemble(&by_k1), NOW),
        Err(KeySetError::BadSignature)
    );
    // No root installed for the issuer: refused.
    let bare = Verifier::new(TrustStore::new(), VerifyOptions::default());
    assert!(matches!(
        bare.install_key_set(&issuer.key_set_1(), NOW),
        Err(KeySetError::NoRoot { .. })
    ));
    // A root anchor and a signing key's anchor do not decode as each other.
    assert!(RootPublicKey::from_bytes(&issuer.k1.public().to_bytes()).is_err());
    assert!(IssuerPublicKey::from_bytes(&issuer.root.public().to_bytes()).is_err());
    let anchor = issuer.root.public().to_bytes();
    assert_eq!(
        RootPublicKey::from_bytes(&anchor).unwrap(),
        *issuer.root.public()
    );
    // And the root's secret never prints.
    let debug = format!("{:?}", issuer.root);
    let secret = hexed(issuer.root.to_secret_bytes().unwrap().as_slice());
    assert!(!debug.contains(&secret), "{debug}");
}

fn hexed(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_key_signs_only_what_it_is_certified_for() {
    let mut issuer = Issuer::new(7);
    let mut draft = KeySetDraft::first(issuer.root.public(), NOW.minus(60));
    draft
        .certify(issuer.k1.public(), KeyUsage::Credentials)
        .unwrap();
    draft.certify(issuer.k2.public(), KeyUsage::Lists).unwrap();
    let mut trust = TrustStore::new();
    trust.add_root(issuer.root.public().clone()).unwrap();
    let door = Verifier::new(trust, VerifyOptions::default());
    door.install_key_set(&issuer.root.sign_key_set(&draft).unwrap(), NOW)
        .unwrap();
    // K1 (credentials only) may not sign a list; K2 (lists only) may.
    assert!(matches!(
        door.install_list(&issuer.publish(false).list, NOW),
        Err(ListError::Untrusted(Denial::WrongKeyUsage { .. }))
    ));
    let mut list = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
    door.install_list(
        &list.publish(&issuer.k2, NOW, NOW.plus(60)).unwrap().list,
        NOW,
    )
    .unwrap();
    let by_k1 = issuer.card(1);
    assert!(door.verify(by_k1.bytes(), NOW).is_ok());
    let by_k2 = issuer.k2.issue(request(2), NOW, &mut issuer.rng).unwrap();
    assert_eq!(
        denial(&door, &by_k2),
        Some(Denial::WrongKeyUsage {
            key_id: issuer.k2.key_id(),
            certified: KeyUsage::Lists
        })
    );
}

#[test]
fn a_door_offline_for_a_week_catches_up_from_what_is_published() {
    let mut issuer = Issuer::new(8);
    let door = issuer.door();
    let card = issuer.card(3);
    door.install_list(&issuer.publish(false).list, NOW).unwrap();
    // A week of rotation and a compromise while the door was offline.
    issuer.revoke_k1_by_scope();
    for _ in 0..5 {
        issuer.publish(true);
    }
    let latest = issuer.publish(true);
    let week = NOW.plus(7 * 86_400);
    // The latest key set and the latest list: nothing else.
    door.install_key_set(&issuer.key_set_2(), week).unwrap();
    // The key set revoked K1, which signed the list held: it went out of force, and
    // the latest list installs afresh.
    assert!(door.list(&issuer_id()).is_none());
    assert_eq!(
        door.install_list(&latest.list, NOW).unwrap(),
        ListUpdate::Installed { sequence: 7 }
    );
    let replacement = issuer.k2.issue(request(30), NOW, &mut issuer.rng).unwrap();
    assert!(door.verify(replacement.bytes(), NOW).is_ok());
    assert!(denial(&door, &card).is_some());
}

// ---------------------------------------------------------------------------
// The registry: defects 3 and 7.
// ---------------------------------------------------------------------------

fn registry(seed: u64) -> (Registry<SqliteStore>, IssuerKey, rand::rngs::StdRng) {
    let mut rng = rng(seed);
    let key = issuer_key(&mut rng);
    let mut reg = create_registry(
        SqliteStore::open_in_memory().unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    let roster: Vec<HolderRequest> = (0..20)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW, NOW.plus(YEAR)).unwrap(),
        })
        .collect();
    reg.issue_roster(
        &key,
        "northgate-print",
        &roster,
        &mut fresh(&mut rng),
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    (reg, key, rng)
}

fn roster_of(n: u32, from: u32) -> Vec<HolderRequest> {
    (from..from + n)
        .map(|i| HolderRequest {
            kind: Kind::StaffPass,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW, NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

#[test]
fn the_registry_signs_nothing_more_with_a_key_it_declared_compromised() {
    let (mut reg, k1, mut rng) = registry(20);
    let root = root_for(&k1);
    let k2 = issuer_key(&mut rng);
    let mut draft = reg.draft_key_set(NOW);
    draft
        .certify(k2.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    reg.install_key_set(&root.sign_key_set(&draft).unwrap(), NOW)
        .unwrap();
    let incident = Incident::IssuerKey {
        key_id: k1.key_id(),
    };
    let plan = reg.plan(&incident, NOW).unwrap();
    reg.declare(&plan, &k2, "southbank-print", NOW, NOW.plus(3600))
        .unwrap();
    let head = reg.store().audit_head().unwrap();
    let serial = reg.store().credentials(&CredentialFilter::All).unwrap()[0].serial;
    let compromised = |r: Result<(), RegistryError>| {
        matches!(
            r,
            Err(RegistryError::WrongKey {
                why: WrongKey::Compromised,
                key_id
            }) if key_id == k1.key_id()
        )
    };
    assert!(compromised(reg.republish(&k1, NOW, NOW.plus(60)).map(drop)));
    assert!(compromised(
        reg.set_status(
            &k1,
            serial,
            Status::Suspended,
            RevocationReason::Unspecified,
            NOW,
            NOW.plus(60)
        )
        .map(drop)
    ));
    assert!(compromised(
        reg.issue_roster(
            &k1,
            "westgate-print",
            &roster_of(3, 500),
            &mut fresh(&mut rng),
            NOW,
            &mut rng,
            &mut Hooks::default()
        )
        .map(drop)
    ));
    assert!(compromised(
        reg.resume(
            &k1,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default()
        )
        .map(drop)
    ));
    assert_eq!(reg.store().audit_head().unwrap(), head, "nothing written");
    // The honest key finishes the job.
    let report = reg
        .resume(
            &k2,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(report.reissued, 20);
    let events: Vec<String> = reg
        .store()
        .audit_log()
        .unwrap()
        .iter()
        .map(|r| r.event_json.clone())
        .collect();
    assert!(events.iter().any(|e| e.contains("\"key_compromised\"")));
    assert!(events.iter().any(|e| e.contains("\"key_certified\"")));
}

#[test]
fn the_registry_refuses_a_key_its_root_did_not_certify_before_signing() {
    let (mut reg, k1, mut rng) = registry(21);
    let head = reg.store().audit_head().unwrap();
    // A fresh key (the example's lost key file, regenerated).
    let stranger = issuer_key(&mut rng);
    // The same secret under another window: another key as far as the root is concerned.
    let rewindowed = IssuerKey::from_secret_bytes(
        issuer_id(),
        Validity::new(NOW.minus(10), NOW.plus(YEAR)).unwrap(),
        &k1.to_secret_bytes().unwrap(),
    )
    .unwrap();
    for key in [&stranger, &rewindowed] {
        let refused = reg.issue_roster(
            key,
            "westgate-print",
            &roster_of(5, 900),
            &mut fresh(&mut rng),
            NOW,
            &mut rng,
            &mut Hooks::default(),
        );
        assert!(
            matches!(
                refused,
                Err(RegistryError::WrongKey {
                    why: WrongKey::NotCertified,
                    ..
                })
            ),
            "{refused:?}"
        );
        assert!(matches!(
            reg.republish(key, NOW, NOW.plus(60)),
            Err(RegistryError::WrongKey {
                why: WrongKey::NotCertified,
                ..
            })
        ));
    }
    assert_eq!(reg.store().audit_head().unwrap(), head, "nothing written");

    // The root revokes K1: the registry refuses it from then on, by name.
    let root = root_for(&k1);
    let mut draft = reg.draft_key_set(NOW);
    draft
        .certify(stranger.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    draft
        .revoke(k1.key_id(), NOW, RevocationReason::IssuerKeyCompromise)
        .unwrap();
    reg.install_key_set(&root.sign_key_set(&draft).unwrap(), NOW)
        .unwrap();
    assert!(matches!(
        reg.republish(&k1, NOW, NOW.plus(60)),
        Err(RegistryError::WrongKey {
            why: WrongKey::Revoked,
            ..
        })
    ));
    reg.republish(&stranger, NOW, NOW.plus(60)).unwrap();
    // Every step is in the audit log: the set, the certification, the revocation.
    let events: Vec<AuditEvent> = reg
        .store()
        .audit_log()
        .unwrap()
        .iter()
        .map(|r| r.event().unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, AuditEvent::KeySetInstalled { sequence: 2, .. }))
    );
    assert!(events.iter().any(
        |e| matches!(e, AuditEvent::KeyCertified { key_id, .. } if *key_id == stranger.key_id())
    ));
    assert!(events.iter().any(|e| matches!(e, AuditEvent::KeyRevoked { key_id, reason: RevocationReason::IssuerKeyCompromise } if *key_id == k1.key_id())));
    // An older key set, or one not signed by the root, is refused.
    assert!(matches!(
        reg.install_key_set(&first_key_set(&root, &[&k1]), NOW),
        Err(RegistryError::KeySet(KeySetError::Rollback { .. }))
    ));
    let other_root = RootKey::generate(
        issuer_id(),
        Validity::new(NOW.minus(YEAR), NOW.plus(YEAR)).unwrap(),
        &mut rng,
    )
    .unwrap();
    assert!(matches!(
        reg.install_key_set(&first_key_set(&other_root, &[&k1]), NOW),
        Err(RegistryError::KeySet(KeySetError::WrongRoot { .. }))
    ));
}

// ---------------------------------------------------------------------------
// Every list commits to the audit head: a rewritten or truncated log shows.
// ---------------------------------------------------------------------------

#[test]
fn a_list_pins_the_audit_log_it_was_signed_at() {
    let (mut reg, key, _rng) = registry(22);
    let serial = reg.store().credentials(&CredentialFilter::All).unwrap()[3].serial;
    let before = reg.store().audit_head().unwrap();
    let publication = reg
        .set_status(
            &key,
            serial,
            Status::Revoked,
            RevocationReason::Lost,
            NOW,
            NOW.plus(60),
        )
        .unwrap();
    let (_, committed) = list_state_digest(&publication.list).unwrap();
    assert_eq!(
        committed, before,
        "the head before the change that published it"
    );
    reg.verify_audit().unwrap();
    let log = reg.store().audit_log().unwrap();
    assert_eq!(
        verify_chain_against(&log, &[committed]).unwrap().entries,
        log.len() as u64
    );

    // Truncated to before the committed entry: the chain alone still verifies.
    let cut = &log[..(committed.entries - 1) as usize];
    verify_chain(cut).unwrap();
    assert_eq!(
        verify_chain_against(cut, &[committed]),
        Err(AuditError {
            seq: committed.entries,
            problem: AuditProblem::Missing
        })
    );
    // Rewritten from an earlier entry on, every hash recomputed: the chain verifies,
    // the list's commitment does not.
    let k = 2usize;
    let mut rewritten: Vec<AuditRecord> = log[..k].to_vec();
    for r in &log[k..] {
        let prev = rewritten.last().unwrap();
        let head = AuditHead {
            entries: prev.seq,
            hash: prev.hash,
        };
        let mut event = r.event().unwrap();
        if let AuditEvent::Issued { credentials, .. } = &mut event {
            credentials.pop();
        }
        rewritten.push(seal(head, r.at, &event));
    }
    verify_chain(&rewritten).unwrap();
    assert_eq!(
        verify_chain_against(&rewritten, &[committed]),
        Err(AuditError {
            seq: committed.entries,
            problem: AuditProblem::CommitmentMismatch
        })
    );
}

// ---------------------------------------------------------------------------
// Issue 20, item 1: a list decides only while its signer may sign lists.
// ---------------------------------------------------------------------------

/// A theft never noticed: K1 (short-lived, a day left) and K2 (the successor) are
/// both certified. A thief holding K1 signs a list at `u64::MAX` with a far next
/// update, and a door installs it.
struct UnnoticedTheft {
    root: RootKey,
    k1: IssuerKey,
    k2: IssuerKey,
    list: IssuerStatusList,
    rng: rand::rngs::StdRng,
    door: Verifier,
    set1: Vec<u8>,
}

const K1_ENDS: UnixTime = UnixTime(NOW.0 + 86_400);

impl UnnoticedTheft {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let k1 = IssuerKey::generate(
            issuer_id(),
            Validity::new(NOW.minus(YEAR), K1_ENDS).unwrap(),
            &mut rng,
        )
        .unwrap();
        let k2 = issuer_key(&mut rng);
        let root = root_for(&k2);
        let set1 = first_key_set(&root, &[&k1, &k2]);
        let mut trust = TrustStore::new();
        trust.add_root(root.public().clone()).unwrap();
        let door = Verifier::new(trust, VerifyOptions::default());
        door.install_key_set(&set1, NOW).unwrap();
        let mut list = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
        let first = list.publish(&k2, NOW, NOW.plus(3600)).unwrap();
        door.install_list(&first.list, NOW).unwrap();
        let mut forged = IssuerStatusList::restore(
            issuer_id(),
            CAPACITY,
            u64::MAX - 1,
            [9; 32],
            Vec::new(),
            Vec::new(),
        )
        .unwrap();
        let forged = forged.publish(&k1, NOW, NOW.plus(10 * YEAR)).unwrap();
        assert!(matches!(
            door.install_list(&forged.list, NOW),
            Ok(ListUpdate::Advanced { .. })
        ));
        Self {
            root,
            k1,
            k2,
            list,
            rng,
            door,
            set1,
        }
    }

    /// The root's next key set: K1 left out (`drop_expired` at `at`), K2 kept.
    fn set_without_k1(&self, at: UnixTime) -> Vec<u8> {
        let set1 = self
            .root
            .public()
            .verify_key_set(&self.set1, NOW, 60)
            .unwrap();
        let mut next = KeySetDraft::next_after(&set1, at);
        next.drop_expired(at);
        assert!(next.sequence() == 2);
        self.root.sign_key_set(&next).unwrap()
    }
}

#[test]
fn a_list_outlives_neither_its_signers_window_nor_its_place_in_the_key_set() {
    let mut t = UnnoticedTheft::new(2001);
    let card = t.k2.issue(request(5), NOW, &mut t.rng).unwrap();
    let other = t.k2.issue(request(6), NOW, &mut t.rng).unwrap();
    // The issuer revokes card 5 (signed by K2): the door, holding the thief's list,
    // refuses the honest delta and admits the card.
    t.list.revoke(5, RevocationReason::Stolen, NOW).unwrap();
    let revoked = t.list.publish(&t.k2, NOW, NOW.plus(10 * YEAR)).unwrap();
    assert!(matches!(
        t.door.apply_delta(revoked.delta.as_ref().unwrap(), NOW),
        Err(ListError::Rollback { .. })
    ));
    assert!(t.door.verify(card.bytes(), NOW).is_ok());

    // K1's window ends: the thief's list decides nothing from then on (beyond the
    // clock skew), with no key set and no operator involved.
    let after = K1_ENDS.plus(VerifyOptions::default().clock_skew_secs + 1);
    match t.door.verify(other.bytes(), after) {
        Err(Denial::ListSignerUnusable {
            sequence,
            key_id,
            because,
        }) => {
            assert_eq!(sequence, u64::MAX);
            assert_eq!(key_id, t.k1.key_id());
            assert!(matches!(*because, Denial::KeyOutsideWindow { .. }));
        }
        other => panic!("the thief's list still decides: {other:?}"),
    }
    // Its sequence no longer holds the honest key back: the honest list installs and
    // the revoked card is denied.
    assert!(t.door.list_in_force(&issuer_id(), after).is_none());
    assert_eq!(
        t.door.install_list(&revoked.list, after).unwrap(),
        ListUpdate::Installed { sequence: 2 }
    );
    assert!(matches!(
        t.door.verify(card.bytes(), after),
        Err(Denial::Revoked { .. })
    ));
    assert!(t.door.verify(other.bytes(), after).is_ok());
    // Deltas from the honest key apply again.
    t.list.revoke(6, RevocationReason::Stolen, after).unwrap();
    let next = t.list.publish(&t.k2, after, after.plus(3600)).unwrap();
    assert_eq!(
        t.door
            .apply_delta(next.delta.as_ref().unwrap(), after)
            .unwrap(),
        ListUpdate::Advanced { from: 2, to: 3 }
    );
    assert!(matches!(
        t.door.verify(other.bytes(), after),
        Err(Denial::Revoked { .. })
    ));

    // The root's next set drops K1; the door's operator can still revoke it locally,
    // and no key set certifies it again.
    t.door
        .install_key_set(&t.set_without_k1(after), after)
        .unwrap();
    assert!(t.door.trust().get(&issuer_id(), &t.k1.key_id()).is_none());
    t.door.revoke_key(t.k1.key_id(), after).unwrap();
    assert!(t.door.trust().is_revoked(&issuer_id(), &t.k1.key_id()));
    assert_eq!(
        t.door.add_key(t.k1.public().clone()),
        Err(TrustError::Revoked {
            key_id: t.k1.key_id()
        })
    );
    // A key the door never saw is still unknown.
    let stranger = issuer_key(&mut t.rng);
    assert_eq!(
        t.door.revoke_key(stranger.key_id(), after),
        Err(TrustError::UnknownKey {
            key_id: stranger.key_id()
        })
    );
}

#[test]
fn a_key_set_that_drops_a_lists_signer_takes_the_list_out_of_force_at_once() {
    let mut t = UnnoticedTheft::new(2002);
    let card = t.k2.issue(request(5), NOW, &mut t.rng).unwrap();
    t.list.revoke(5, RevocationReason::Stolen, NOW).unwrap();
    let revoked = t.list.publish(&t.k2, NOW, NOW.plus(3600)).unwrap();
    // Still inside K1's window, the root retires K1 early (left out of set 2).
    let mut draft = KeySetDraft::next_after(
        &t.root.public().verify_key_set(&t.set1, NOW, 60).unwrap(),
        NOW,
    );
    draft.drop_expired(K1_ENDS.plus(1));
    let set2 = t.root.sign_key_set(&draft).unwrap();
    t.door.install_key_set(&set2, NOW).unwrap();
    // The thief's list is gone at once: the issuer has no list (fail closed) ...
    assert!(matches!(
        t.door.verify(card.bytes(), NOW),
        Err(Denial::NoStatusList { .. })
    ));
    // ... until the honest one installs, which its sequence no longer holds back.
    assert_eq!(
        t.door.install_list(&revoked.list, NOW).unwrap(),
        ListUpdate::Installed { sequence: 2 }
    );
    assert!(matches!(
        t.door.verify(card.bytes(), NOW),
        Err(Denial::Revoked { .. })
    ));
}

#[test]
fn a_list_in_force_is_bounded_by_its_signers_window_and_a_door_under_a_usable_signer_is_unchanged()
{
    let t = UnnoticedTheft::new(2003);
    // The honest list of K2 (a long window) reports its own next update.
    let door = Verifier::new(t.door.trust(), VerifyOptions::default());
    let mut list = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
    let k1_list = list.publish(&t.k1, NOW, NOW.plus(10 * YEAR)).unwrap();
    door.install_list(&k1_list.list, NOW).unwrap();
    let state = door.snapshot();
    let options = VerifyOptions::default();
    // K1's list says ten years; its signer's window says a day: the earlier wins.
    assert_eq!(
        state.effective_next_update(&issuer_id(), NOW, &options),
        Some(K1_ENDS)
    );
    let k2_list = list.publish(&t.k2, NOW, NOW.plus(3600)).unwrap();
    door.install_list(&k2_list.list, NOW).unwrap();
    assert_eq!(
        door.snapshot()
            .effective_next_update(&issuer_id(), NOW, &options),
        Some(NOW.plus(3600))
    );
}

// ---------------------------------------------------------------------------
// Issue 20, items 2 and 3: revocations are remembered for good, by the registry and
// by a door that restarts from its saved state.
// ---------------------------------------------------------------------------

/// A door that saw everything: key set 2 (K1 revoked), K2's list, a key revoked
/// locally after it left the key set.
/// Also returns the first list it installed (now older than the one it holds).
fn a_seasoned_door(issuer: &mut Issuer) -> (Verifier, Credential, Credential, Vec<u8>) {
    let door = issuer.door();
    let good = issuer.k2.issue(request(1), NOW, &mut issuer.rng).unwrap();
    let bad = issuer.k2.issue(request(2), NOW, &mut issuer.rng).unwrap();
    door.install_key_set(&issuer.key_set_2(), NOW).unwrap();
    let first = issuer.publish(true);
    door.install_list(&first.list, NOW).unwrap();
    issuer
        .list
        .revoke(2, RevocationReason::Stolen, NOW)
        .unwrap();
    let p = issuer.publish(true);
    door.apply_delta(p.delta.as_ref().unwrap(), NOW).unwrap();
    (door, good, bad, first.list)
}

#[test]
fn a_door_restored_from_its_saved_state_is_as_strong_as_one_that_never_stopped() {
    let mut issuer = Issuer::new(2010);
    let (door, good, bad, first) = a_seasoned_door(&mut issuer);
    let saved = door.export_state();
    let restored = Verifier::from_state_bytes(&saved, VerifyOptions::default()).unwrap();
    assert_eq!(restored.export_state(), saved, "one encoding per state");

    for v in [&door, &restored] {
        // The key set sequence: set 1 again is a rollback.
        assert_eq!(
            v.install_key_set(&issuer.key_set_1(), NOW),
            Err(KeySetError::Rollback {
                held: 2,
                offered: 1
            })
        );
        // The revocation of K1 is remembered: a set lifting it is refused, pinning too.
        assert_eq!(
            v.add_key(issuer.k1.public().clone()),
            Err(TrustError::Revoked {
                key_id: issuer.k1.key_id()
            })
        );
        // The list held decides the same way.
        assert!(v.verify(good.bytes(), NOW).is_ok());
        assert!(matches!(
            v.verify(bad.bytes(), NOW),
            Err(Denial::Revoked { .. })
        ));
        // The list held survived: the first list is refused as a rollback.
        assert!(matches!(
            v.install_list(&first, NOW),
            Err(ListError::Rollback { .. })
        ));
    }
    // A door that restarts from its root alone would have taken set 1 and K1's list.
    let fresh = issuer.door();
    assert!(
        fresh
            .trust()
            .get(&issuer_id(), &issuer.k1.key_id())
            .is_some()
    );
}

/// Recomputes a saved state's digest after a change to its bytes, as an attacker who
/// can write the door's storage could.
fn redigest(bytes: &mut Vec<u8>) {
    use sha2::Digest as _;
    bytes.truncate(bytes.len() - 32);
    let digest: [u8; 32] = sha2::Sha256::new()
        .chain_update(VERIFIER_STATE_DOMAIN)
        .chain_update(&bytes[..])
        .finalize()
        .into();
    bytes.extend_from_slice(&digest);
}

#[test]
fn a_truncated_corrupted_or_hostile_saved_state_is_refused_whole() {
    let mut issuer = Issuer::new(2011);
    let (door, _, _, _) = a_seasoned_door(&mut issuer);
    let saved = door.export_state();
    assert!(saved.len() > CAPACITY as usize / 4);

    // Every truncation, and every single flipped byte, is refused (a prefix of a state
    // is never a state; the digest catches a changed byte).
    for len in (0..saved.len()).step_by(97).chain([saved.len() - 1]) {
        assert!(
            VerifierState::from_bytes(&saved[..len]).is_err(),
            "a state cut at {len} bytes was accepted"
        );
    }
    for at in (0..saved.len()).step_by(131) {
        let mut flipped = saved.clone();
        flipped[at] ^= 0x40;
        assert!(VerifierState::from_bytes(&flipped).is_err(), "byte {at}");
    }
    let mut corrupt = saved.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 1;
    assert_eq!(
        VerifierState::from_bytes(&corrupt).unwrap_err(),
        StateError::Corrupted
    );
    // Trailing bytes after a whole state: refused.
    let mut longer = saved.clone();
    longer.insert(longer.len() - 32, 0);
    redigest(&mut longer);
    assert!(matches!(
        VerifierState::from_bytes(&longer),
        Err(StateError::Malformed(DecodeError::TrailingBytes { .. }))
    ));
    // A table with the unused pattern `11` (with a digest made right): no verifier
    // holds such a list.
    let mut hostile = saved.clone();
    let zeros = hostile
        .windows(64)
        .position(|w| w.iter().all(|&b| b == 0))
        .unwrap();
    hostile[zeros + 32] = 0xff;
    redigest(&mut hostile);
    assert_eq!(
        VerifierState::from_bytes(&hostile).unwrap_err(),
        StateError::Inconsistent {
            part: StatePart::Lists
        }
    );
    // Another version, and more than the limit, refused before anything is decoded.
    let mut other = saved.clone();
    other[0] = 2;
    assert!(matches!(
        VerifierState::from_bytes(&other),
        Err(StateError::Malformed(DecodeError::UnknownVersion { .. }))
    ));
    let huge = vec![0u8; MAX_STATE_BYTES + 1];
    assert!(matches!(
        VerifierState::from_bytes(&huge),
        Err(StateError::Malformed(DecodeError::TooLarge { .. }))
    ));
    // A count beyond its limit (the root count, first in the body): refused by count.
    let mut many = vec![VERIFIER_STATE_FORMAT_VERSION, b'S'];
    many.extend_from_slice(&leb128(MAX_STATE_ENTRIES as u64 + 1));
    many.extend_from_slice(&[0; 32]);
    redigest(&mut many);
    assert!(matches!(
        VerifierState::from_bytes(&many),
        Err(StateError::TooMany {
            part: StatePart::Roots,
            ..
        })
    ));
}

#[test]
fn the_registry_never_installs_a_key_set_that_certifies_a_key_its_root_once_revoked() {
    let (mut reg, k1, mut rng) = registry(2020);
    let root = root_for(&k1);
    let k2 = issuer_key(&mut rng);
    // Set 2 certifies K2 and revokes K1.
    let mut two = reg.draft_key_set(NOW);
    two.certify(k2.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    two.revoke(k1.key_id(), NOW, RevocationReason::IssuerKeyCompromise)
        .unwrap();
    reg.install_key_set(&root.sign_key_set(&two).unwrap(), NOW)
        .unwrap();
    // Set 3 leaves K1 out (its entry dropped, as `drop_expired` would).
    let mut three = reg.draft_key_set(NOW);
    three.drop_expired(NOW.plus(10 * YEAR).plus(1));
    three
        .certify(k2.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    reg.install_key_set(&root.sign_key_set(&three).unwrap(), NOW)
        .unwrap();
    assert!(reg.key_set().entry(k1.key_id()).is_none());
    // Set 4 certifies K1 again: refused, by this handle and by a new one on the store.
    let mut four = reg.draft_key_set(NOW);
    four.certify(k1.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    let four = root.sign_key_set(&four).unwrap();
    let head = reg.store().audit_head().unwrap();
    assert!(matches!(
        reg.install_key_set(&four, NOW),
        Err(RegistryError::KeySet(KeySetError::RevocationLifted { key_id })) if key_id == k1.key_id()
    ));
    let mut reopened = Registry::open(reg.into_store()).unwrap();
    assert!(matches!(
        reopened.install_key_set(&four, NOW),
        Err(RegistryError::KeySet(KeySetError::RevocationLifted { .. }))
    ));
    assert_eq!(
        reopened.store().audit_head().unwrap(),
        head,
        "nothing written"
    );
    // And the registry still refuses to sign with K1.
    assert!(matches!(
        reopened.republish(&k1, NOW, NOW.plus(60)),
        Err(RegistryError::WrongKey { .. })
    ));
    assert!(reopened.republish(&k2, NOW, NOW.plus(60)).is_ok());
}
