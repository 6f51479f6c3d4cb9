//! Door policy, holder binding, the credential cache and events, end to end: every
//! denial a door can give, a status change reaching the very next (cached) tap,
//! crafted responses, and eight threads tapping while deltas apply.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use ed25519_dalek::Signer as _;
use rand::{Rng as _, RngExt};
use revocard::door::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;

fn door(id: &str) -> DoorId {
    DoorId::new(id).unwrap()
}

const MV: Vetting = Vetting::new(PoliceVetting::Force(ForceVetting::Management), None);
const MV_SC: Vetting = Vetting::new(
    PoliceVetting::Force(ForceVetting::Management),
    Some(NationalSecurity::Sc),
);
const RV: Vetting = Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None);

fn policies() -> Vec<DoorPolicy> {
    let custody = VettingRequirement::force(ForceVetting::Management);
    vec![
        DoorPolicy::new(door("front-gate")),
        DoorPolicy::new(door("custody"))
            .admit_only(&[Kind::WarrantCard])
            .require_vetting(custody)
            .require_holder_binding(),
        DoorPolicy::new(door("server-room"))
            .admit_only(&[Kind::WarrantCard])
            .require_vetting(custody.and_national(NationalSecurity::Sc))
            .require_holder_binding(),
        // A door that tolerates no staleness at all and no clock skew.
        DoorPolicy::new(door("armoury")).with_options(
            VerifyOptions::default()
                .with_status_grace(0)
                .with_clock_skew(0),
        ),
    ]
}

struct World {
    rng: rand::rngs::StdRng,
    key: IssuerKey,
    list: IssuerStatusList,
    verifier: Arc<Verifier>,
    doors: DoorController,
    next_index: u32,
}

impl World {
    fn new(seed: u64) -> Self {
        let mut rng = rng(seed);
        let key = issuer_key(&mut rng);
        let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
        verifier.add_key(key.public().clone()).unwrap();
        let mut list = IssuerStatusList::new(issuer_id(), CAPACITY).unwrap();
        let first = list.publish(&key, NOW, NOW.plus(3600)).unwrap();
        verifier.install_list(&first.list, NOW).unwrap();
        let doors = DoorController::new(verifier.clone(), policies()).unwrap();
        Self {
            rng,
            key,
            list,
            verifier,
            doors,
            next_index: 1,
        }
    }

    fn request(&mut self, kind: Kind, vetting: Vetting) -> CredentialRequest {
        let mut req = request(self.next_index);
        self.next_index += 1;
        req.kind = kind;
        req.vetting = vetting;
        req
    }

    /// A card with its own key.
    fn card(&mut self, kind: Kind, vetting: Vetting) -> Card {
        let card_key = CardKey::generate(&mut self.rng);
        let mut req = self.request(kind, vetting);
        req.card_key = Some(card_key.public());
        let cred = self.key.issue(req, NOW, &mut self.rng).unwrap();
        Card::new(cred.into_bytes(), card_key).unwrap()
    }

    /// A credential with no card key (an older card, or a printed pass).
    fn keyless(&mut self, kind: Kind, vetting: Vetting) -> Credential {
        let req = self.request(kind, vetting);
        self.key.issue(req, NOW, &mut self.rng).unwrap()
    }

    fn challenge(&mut self, at: &str) -> Challenge {
        self.doors.challenge(&door(at), NOW, &mut self.rng).unwrap()
    }

    /// A full tap with a fresh challenge.
    fn tap(&mut self, at: &str, card: &Card) -> Decision {
        let challenge = self.challenge(at);
        let response = card.respond(&challenge);
        self.doors
            .tap(&door(at), card.credential(), Some(&response), NOW)
    }

    fn publish_delta(&mut self) {
        let p = self.list.publish(&self.key, NOW, NOW.plus(3600)).unwrap();
        self.verifier.apply_delta(&p.delta.unwrap(), NOW).unwrap();
    }

    fn index_of(card: &[u8]) -> u32 {
        UnverifiedCredential::from_bytes(card)
            .unwrap()
            .unverified_claims()
            .status_index
            .0
    }
}

fn denial(d: &Decision) -> DoorDenial {
    d.denial().cloned().expect("denied")
}

#[test]
fn each_door_admits_what_its_policy_allows() {
    let mut w = World::new(1);
    let sc = w.card(Kind::WarrantCard, MV_SC);
    for at in ["front-gate", "custody", "server-room", "armoury"] {
        let d = w.tap(at, &sc);
        assert!(d.is_admitted(), "{at}: {:?}", d.denial());
        assert_eq!(d.reason_code(), "admitted");
        assert_eq!(d.outcome().unwrap().serial(), d.serial().unwrap());
        assert!(d.serial_verified());
    }
    // Without a response, only the doors that do not require binding open.
    let keyless = w.keyless(Kind::StaffPass, RV);
    assert!(
        w.doors
            .tap(&door("front-gate"), keyless.bytes(), None, NOW)
            .is_admitted()
    );
    assert!(
        w.doors
            .tap(&door("armoury"), keyless.bytes(), None, NOW)
            .is_admitted()
    );
}

#[test]
fn every_denial_has_its_own_reason() {
    let mut w = World::new(2);
    let mv = w.card(Kind::WarrantCard, MV);
    let mut codes = std::collections::BTreeSet::new();
    fn check(
        codes: &mut std::collections::BTreeSet<&'static str>,
        d: &Decision,
        want: &DoorDenial,
    ) {
        assert_eq!(&denial(d), want);
        assert!(!d.is_admitted());
        assert_eq!(d.reason_code(), want.code());
        codes.insert(want.code());
    }
    macro_rules! expect {
        ($d:expr, $want:expr $(,)?) => {
            check(&mut codes, $d, $want)
        };
    }

    // The credential's own denials, wrapped.
    let d = w.doors.tap(&door("front-gate"), b"not a card", None, NOW);
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::Malformed(_))
    ));
    assert_eq!(d.serial(), None);
    codes.insert(denial(&d).code());
    let mut tampered = mv.credential().to_vec();
    let at = tampered.windows(7).position(|x| x == b"Officer").unwrap();
    tampered[at] ^= 1;
    let d = w.doors.tap(&door("front-gate"), &tampered, None, NOW);
    expect!(&d, &DoorDenial::Credential(Denial::BadSignature));
    assert!(d.serial().is_some() && !d.serial_verified());

    // Unknown door.
    let d = w.doors.tap(&door("roof"), mv.credential(), None, NOW);
    expect!(&d, &DoorDenial::UnknownDoor { door: door("roof") },);

    // Policy.
    let staff = w.card(Kind::StaffPass, MV);
    expect!(
        &w.tap("custody", &staff),
        &DoorDenial::KindNotAdmitted {
            kind: Kind::StaffPass,
        },
    );
    let rv = w.card(Kind::WarrantCard, RV);
    expect!(
        &w.tap("custody", &rv),
        &DoorDenial::VettingTooLow {
            held: RV,
            required: VettingRequirement::force(ForceVetting::Management),
        },
    );
    expect!(
        &w.tap("server-room", &mv),
        &DoorDenial::VettingTooLow {
            held: MV,
            required: VettingRequirement::force(ForceVetting::Management)
                .and_national(NationalSecurity::Sc),
        },
    );

    // Holder binding.
    let keyless = w.keyless(Kind::WarrantCard, MV);
    let challenge = w.challenge("custody");
    let response = CardKey::generate(&mut w.rng).respond(&challenge, keyless.bytes());
    let d = w
        .doors
        .tap(&door("custody"), keyless.bytes(), Some(&response), NOW);
    expect!(&d, &DoorDenial::NoCardKey);

    let d = w.doors.tap(&door("custody"), mv.credential(), None, NOW);
    expect!(&d, &DoorDenial::ResponseMissing);

    // A clone: the credential bytes (a photographed QR code) and a key of its own.
    let challenge = w.challenge("custody");
    let thief = CardKey::generate(&mut w.rng);
    let forged = thief.respond(&challenge, mv.credential());
    let d = w
        .doors
        .tap(&door("custody"), mv.credential(), Some(&forged), NOW);
    expect!(&d, &DoorDenial::BadResponseSignature);

    // A genuine response, presented with another card's credential.
    let other = w.card(Kind::WarrantCard, MV);
    let challenge = w.challenge("custody");
    let response = mv.respond(&challenge);
    let d = w
        .doors
        .tap(&door("custody"), other.credential(), Some(&response), NOW);
    expect!(&d, &DoorDenial::BadResponseSignature);

    // Replay: a response that opened the door once.
    let challenge = w.challenge("custody");
    let response = mv.respond(&challenge);
    assert!(
        w.doors
            .tap(&door("custody"), mv.credential(), Some(&response), NOW)
            .is_admitted()
    );
    let d = w
        .doors
        .tap(&door("custody"), mv.credential(), Some(&response), NOW);
    expect!(&d, &DoorDenial::ChallengeReplayed);

    // A response made for another door of the same controller.
    let sc = w.card(Kind::WarrantCard, MV_SC);
    let challenge = w.challenge("server-room");
    let response = sc.respond(&challenge);
    let d = w
        .doors
        .tap(&door("custody"), sc.credential(), Some(&response), NOW);
    expect!(
        &d,
        &DoorDenial::WrongDoor {
            made_for: door("server-room"),
        },
    );
    // ...which spent that challenge: it no longer opens the server room either.
    let d = w
        .doors
        .tap(&door("server-room"), sc.credential(), Some(&response), NOW);
    expect!(&d, &DoorDenial::ChallengeReplayed);

    // Expired: one second past the challenge's lifetime.
    let challenge = w.challenge("custody");
    let response = mv.respond(&challenge);
    let late = challenge.expires_at().plus(1);
    assert_eq!(challenge.expires_at(), NOW.plus(DEFAULT_CHALLENGE_TTL_SECS));
    let d = w
        .doors
        .tap(&door("custody"), mv.credential(), Some(&response), late);
    expect!(
        &d,
        &DoorDenial::ChallengeExpired {
            expires_at: challenge.expires_at(),
            now: late,
        },
    );
    // On its last second it still opens.
    let challenge = w.challenge("custody");
    let response = mv.respond(&challenge);
    assert!(
        w.doors
            .tap(
                &door("custody"),
                mv.credential(),
                Some(&response),
                challenge.expires_at()
            )
            .is_admitted()
    );

    // A challenge this controller never issued (another controller's).
    let elsewhere = DoorController::new(w.verifier.clone(), policies()).unwrap();
    let foreign = elsewhere
        .challenge(&door("custody"), NOW, &mut w.rng)
        .unwrap();
    let response = mv.respond(&foreign);
    let d = w
        .doors
        .tap(&door("custody"), mv.credential(), Some(&response), NOW);
    expect!(&d, &DoorDenial::ChallengeUnknown);

    // Not a response at all.
    let d = w
        .doors
        .tap(&door("custody"), mv.credential(), Some(b"garbage"), NOW);
    assert!(matches!(denial(&d), DoorDenial::MalformedResponse(_)));
    codes.insert(denial(&d).code());

    // Status.
    let revoked = w.card(Kind::WarrantCard, MV);
    let suspended = w.card(Kind::WarrantCard, MV);
    w.list
        .revoke(
            World::index_of(revoked.credential()),
            RevocationReason::Stolen,
            NOW,
        )
        .unwrap();
    w.list
        .suspend(World::index_of(suspended.credential()))
        .unwrap();
    w.publish_delta();
    let d = w.tap("custody", &revoked);
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::Revoked { .. })
    ));
    codes.insert(denial(&d).code());
    let d = w.tap("custody", &suspended);
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::Suspended { .. })
    ));
    codes.insert(denial(&d).code());

    // Every code seen is distinct and snake case.
    assert_eq!(codes.len(), 15, "{codes:?}");
    for code in &codes {
        assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    }
}

#[test]
fn a_credential_signed_with_a_weak_card_key_is_denied_as_such() {
    let mut w = World::new(3);
    // The issuer refuses a weak card key...
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let mut req = w.request(Kind::WarrantCard, MV);
    req.card_key = Some(CardPublicKey(weak));
    assert_eq!(
        w.key.issue(req.clone(), NOW, &mut w.rng),
        Err(IssueError::WeakCardKey)
    );
    // ...so sign one by hand (a faulty issuer), with the issuer's own secret.
    let req = w.request(Kind::WarrantCard, MV);
    let mut claims = w.key.issue(req, NOW, &mut w.rng).unwrap().claims().clone();
    claims.card_key = Some(CardPublicKey(weak));
    let body = claims.to_be_signed();
    let mut message = CREDENTIAL_DOMAIN.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(&body);
    let signing = ed25519_dalek::SigningKey::from_bytes(&w.key.to_secret_bytes().unwrap());
    let mut bytes = vec![FORMAT_VERSION];
    bytes.extend_from_slice(&signing.sign(&message).to_bytes());
    bytes.extend_from_slice(&body);
    assert!(w.verifier.verify(&bytes, NOW).is_ok());

    let challenge = w.challenge("custody");
    // Any response: the key cannot verify one.
    let response = CardKey::generate(&mut w.rng).respond(&challenge, &bytes);
    let d = w.doors.tap(&door("custody"), &bytes, Some(&response), NOW);
    assert_eq!(denial(&d), DoorDenial::BadCardKey);
    assert_eq!(d.reason_code(), "bad_card_key");
}

#[test]
fn a_stale_list_denies_at_the_strict_door_first() {
    let mut w = World::new(4);
    let card = w.card(Kind::WarrantCard, MV);
    // The list's next update was due at NOW + 3600; the default grace is an hour.
    let later = NOW.plus(3600 + 1);
    let d = w
        .doors
        .tap(&door("armoury"), card.credential(), None, later);
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::StatusStale { grace_secs: 0, .. })
    ));
    assert_eq!(d.reason_code(), "status_stale");
    assert!(
        w.doors
            .tap(&door("front-gate"), card.credential(), None, later)
            .is_admitted()
    );
    let much_later = NOW.plus(2 * 3600 + 1);
    let d = w
        .doors
        .tap(&door("front-gate"), card.credential(), None, much_later);
    assert!(d.from_cache());
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::StatusStale { .. })
    ));
}

#[test]
fn a_repeat_tap_is_cached_and_a_status_change_reaches_the_very_next_tap() {
    let mut w = World::new(5);
    let card = w.card(Kind::WarrantCard, MV);
    let other = w.card(Kind::WarrantCard, MV);
    let first = w.tap("custody", &card);
    assert!(first.is_admitted() && !first.from_cache());
    let second = w.tap("custody", &card);
    assert!(second.is_admitted() && second.from_cache());
    assert_eq!(first.outcome().unwrap(), second.outcome().unwrap());
    // Cached at one door, decided by another door's policy.
    assert!(w.tap("front-gate", &card).from_cache());
    assert_eq!(
        denial(&w.tap("server-room", &card)),
        DoorDenial::VettingTooLow {
            held: MV,
            required: VettingRequirement::force(ForceVetting::Management)
                .and_national(NationalSecurity::Sc),
        }
    );
    // A cached credential still needs a fresh answer: no response, a replayed one.
    let d = w.doors.tap(&door("custody"), card.credential(), None, NOW);
    assert!(d.from_cache());
    assert_eq!(denial(&d), DoorDenial::ResponseMissing);
    let challenge = w.challenge("custody");
    let response = card.respond(&challenge);
    assert!(
        w.doors
            .tap(&door("custody"), card.credential(), Some(&response), NOW)
            .is_admitted()
    );
    let d = w
        .doors
        .tap(&door("custody"), card.credential(), Some(&response), NOW);
    assert!(d.from_cache());
    assert_eq!(denial(&d), DoorDenial::ChallengeReplayed);
    let thief = CardKey::generate(&mut w.rng);
    let challenge = w.challenge("custody");
    let forged = thief.respond(&challenge, card.credential());
    let d = w
        .doors
        .tap(&door("custody"), card.credential(), Some(&forged), NOW);
    assert!(d.from_cache());
    assert_eq!(denial(&d), DoorDenial::BadResponseSignature);

    // Suspended by a delta: the very next tap, from the cache, is denied.
    w.list.suspend(World::index_of(card.credential())).unwrap();
    w.publish_delta();
    let d = w.tap("custody", &card);
    assert!(d.from_cache());
    assert_eq!(
        denial(&d),
        DoorDenial::Credential(Denial::Suspended {
            serial: d.serial().unwrap()
        })
    );
    // Reinstated: admitted again.
    w.list
        .reinstate(World::index_of(card.credential()))
        .unwrap();
    w.publish_delta();
    assert!(w.tap("custody", &card).is_admitted());
    // Revoked by a full list.
    w.list
        .revoke(
            World::index_of(card.credential()),
            RevocationReason::Lost,
            NOW,
        )
        .unwrap();
    let p = w.list.publish(&w.key, NOW, NOW.plus(3600)).unwrap();
    w.verifier.install_list(&p.list, NOW).unwrap();
    let d = w.tap("front-gate", &card);
    assert!(d.from_cache());
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::Revoked { .. })
    ));

    // Revoked by a delta: the very next tap, from the cache, is denied.
    let third = w.card(Kind::WarrantCard, MV);
    assert!(w.tap("front-gate", &third).is_admitted());
    assert!(w.tap("front-gate", &third).from_cache());
    w.list
        .revoke(
            World::index_of(third.credential()),
            RevocationReason::Stolen,
            NOW,
        )
        .unwrap();
    w.publish_delta();
    let d = w.tap("front-gate", &third);
    assert!(d.from_cache());
    assert_eq!(
        denial(&d),
        DoorDenial::Credential(Denial::Revoked {
            serial: d.serial().unwrap(),
            by: RevokedBy::Index
        })
    );

    // The issuer key revoked: the next cached tap of any card under it is denied.
    assert!(w.tap("custody", &other).is_admitted());
    assert!(w.tap("custody", &other).from_cache());
    w.verifier.revoke_key(w.key.key_id(), NOW).unwrap();
    let d = w.tap("custody", &other);
    assert!(d.from_cache());
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::KeyRevoked { .. })
    ));
}

#[test]
fn the_cache_is_bounded_and_can_be_turned_off() {
    let mut w = World::new(6);
    let cards: Vec<Card> = (0..5).map(|_| w.card(Kind::WarrantCard, MV)).collect();
    w.doors = DoorController::new(w.verifier.clone(), policies())
        .unwrap()
        .with_cache_capacity(2);
    for card in &cards {
        assert!(w.tap("custody", card).is_admitted());
        assert!(w.doors.cached_credentials() <= 2);
    }
    // The oldest left first: the last two are cached, the first is not.
    assert!(w.tap("front-gate", &cards[4]).from_cache());
    assert!(w.tap("front-gate", &cards[3]).from_cache());
    assert!(!w.tap("front-gate", &cards[0]).from_cache());
    // Denied taps are not cached.
    let rv = w.card(Kind::WarrantCard, RV);
    assert!(!w.tap("custody", &rv).is_admitted());
    assert!(!w.tap("custody", &rv).from_cache());

    w.doors = DoorController::new(w.verifier.clone(), policies())
        .unwrap()
        .with_cache_capacity(0);
    for _ in 0..3 {
        let d = w.tap("custody", &cards[0]);
        assert!(d.is_admitted() && !d.from_cache());
    }
    assert_eq!(w.doors.cached_credentials(), 0);
    const { assert!(MAX_CACHED_CREDENTIALS >= 1024) };
}

#[test]
fn events_name_the_serial_and_the_reason_and_nothing_about_the_holder() {
    let mut w = World::new(7);
    let card = w.card(Kind::WarrantCard, MV_SC);
    let claims = UnverifiedCredential::from_bytes(card.credential())
        .unwrap()
        .unverified_claims()
        .clone();
    let keyless = w.keyless(Kind::WarrantCard, RV);
    let decisions = vec![
        w.tap("server-room", &card),
        w.tap("server-room", &card),
        w.doors.tap(&door("custody"), keyless.bytes(), None, NOW),
        w.doors.tap(&door("custody"), card.credential(), None, NOW),
    ];
    let mut reasons = Vec::new();
    for d in &decisions {
        let event = d.event();
        let json = serde_json::to_string(&event).unwrap();
        for secret in [
            claims.holder.name(),
            claims.holder.pay_number(),
            claims.holder.rank(),
            claims.holder.unit(),
            "Management",
            "WarrantCard",
            "Sc",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["door"], d.door().as_str());
        assert_eq!(value["at"], NOW.as_secs());
        assert_eq!(value["admitted"], d.is_admitted());
        assert_eq!(value["serial"], d.serial().unwrap().to_hex());
        reasons.push(value["reason"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        reasons,
        [
            "admitted",
            "admitted",
            "vetting_too_low",
            "response_missing"
        ]
    );
    assert!(decisions[1].event().cached);
}

#[test]
fn crafted_responses_are_refused_on_a_first_tap_and_from_the_cache() {
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};

    let mut w = World::new(8);
    let seed = [42u8; 32];
    let card_key = CardKey::from_secret_bytes(&seed);
    let mut req = w.request(Kind::WarrantCard, MV);
    req.card_key = Some(card_key.public());
    let cred = w.key.issue(req, NOW, &mut w.rng).unwrap().into_bytes();
    let card = Card::new(cred.clone(), CardKey::from_secret_bytes(&seed)).unwrap();

    // The card's secret scalar (RFC 8032), to craft signatures a bare batch accepts.
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a);
    let public = card.public_key().0;
    let craft = |challenge: &Challenge, r_bytes: [u8; 32], r: Scalar, add_l: bool| {
        let genuine = card.respond(challenge);
        let mut message = CHALLENGE_RESPONSE_DOMAIN.to_vec();
        message.push(FORMAT_VERSION);
        message.extend_from_slice(&challenge.to_bytes()[1..]);
        message.extend_from_slice(&sha2::Sha256::digest(&cred));
        let mut hasher = Sha512::new();
        hasher.update(r_bytes);
        hasher.update(public);
        hasher.update(&message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = r + k * a;
        let mut s_bytes = s.to_bytes();
        if add_l {
            // S + l, little-endian (S < l < 2^253, so no overflow).
            const L: [u8; 32] = [
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
                0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ];
            let mut carry = 0u16;
            for i in 0..32 {
                let sum = u16::from(s_bytes[i]) + u16::from(L[i]) + carry;
                s_bytes[i] = sum as u8;
                carry = sum >> 8;
            }
        }
        let mut out = genuine.clone();
        out[1..33].copy_from_slice(&r_bytes);
        out[33..65].copy_from_slice(&s_bytes);
        out
    };
    let base = curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    let r = Scalar::from(987_654_321u64);
    let mut identity = [0u8; 32];
    identity[0] = 1;

    for cached in [false, true] {
        // Uncached: a controller without a cache, so every tap is a first tap (the
        // credential's and the response's signatures checked together).
        // Cached: one tap first, so every tap re-checks only the response.
        w.doors = DoorController::new(w.verifier.clone(), policies())
            .unwrap()
            .with_cache_capacity(if cached { MAX_CACHED_CREDENTIALS } else { 0 });
        if cached {
            assert!(w.tap("custody", &card).is_admitted());
        }
        // Re-made honestly with our own nonce: opens (the crafting is right).
        let challenge = w.challenge("custody");
        let remade = craft(&challenge, (base * r).compress().0, r, false);
        let d = w.doors.tap(&door("custody"), &cred, Some(&remade), NOW);
        assert!(d.is_admitted(), "cached {cached}: {:?}", d.denial());
        assert_eq!(d.from_cache(), cached);
        // Small-order R (the identity), S = k * a: a bare batch accepts it.
        let challenge = w.challenge("custody");
        let small = craft(&challenge, identity, Scalar::ZERO, false);
        let d = w.doors.tap(&door("custody"), &cred, Some(&small), NOW);
        assert_eq!(
            denial(&d),
            DoorDenial::BadResponseSignature,
            "cached {cached}"
        );
        assert_eq!(d.from_cache(), cached);
        // R with a torsion component of order 2, made with the card's secret: a valid
        // cofactored signature, refused by verify_strict. A batch of two (what a first
        // tap used before) admitted about one in two; the door must refuse them all.
        let torsion = curve25519_dalek::constants::EIGHT_TORSION[4];
        for nonce in 1u64..=16 {
            let r = Scalar::from(nonce * 7919);
            let challenge = w.challenge("custody");
            let mixed = craft(&challenge, (base * r + torsion).compress().0, r, false);
            let d = w.doors.tap(&door("custody"), &cred, Some(&mixed), NOW);
            assert_eq!(
                denial(&d),
                DoorDenial::BadResponseSignature,
                "cached {cached}, nonce {nonce}"
            );
        }
        // S + l.
        let challenge = w.challenge("custody");
        let malleable = craft(&challenge, (base * r).compress().0, r, true);
        let d = w.doors.tap(&door("custody"), &cred, Some(&malleable), NOW);
        assert_eq!(
            denial(&d),
            DoorDenial::BadResponseSignature,
            "cached {cached}"
        );
        assert_eq!(d.from_cache(), cached);
    }
}

#[test]
fn hostile_responses_and_challenges_give_typed_errors() {
    let mut w = World::new(9);
    let card = w.card(Kind::WarrantCard, MV);
    let challenge = w.challenge("custody");
    let bytes = challenge.to_bytes();
    assert_eq!(Challenge::from_bytes(&bytes).unwrap(), challenge);
    assert!(bytes.len() <= MAX_CHALLENGE_BYTES);
    for cut in 0..bytes.len() {
        assert!(Challenge::from_bytes(&bytes[..cut]).is_err());
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Challenge::from_bytes(&trailing),
        Err(DecodeError::TrailingBytes { remaining: 1, .. })
    ));
    assert!(matches!(
        Challenge::from_bytes(&[FORMAT_VERSION; MAX_CHALLENGE_BYTES + 1]),
        Err(DecodeError::TooLarge { .. })
    ));

    let response = card.respond(&challenge);
    assert!(response.len() <= MAX_RESPONSE_BYTES);
    let tap = |r: &[u8]| {
        w.doors
            .tap(&door("custody"), card.credential(), Some(r), NOW)
    };
    for cut in 0..response.len() {
        assert!(
            matches!(
                denial(&tap(&response[..cut])),
                DoorDenial::MalformedResponse(_)
            ),
            "cut at {cut}"
        );
    }
    let mut longer = response.clone();
    longer.push(0);
    assert!(matches!(
        denial(&tap(&longer)),
        DoorDenial::MalformedResponse(DecodeError::TrailingBytes { .. })
    ));
    let mut version = response.clone();
    version[0] = 9;
    assert!(matches!(
        denial(&tap(&version)),
        DoorDenial::MalformedResponse(DecodeError::UnknownVersion { .. })
    ));
    assert!(matches!(
        denial(&tap(&[FORMAT_VERSION; MAX_RESPONSE_BYTES + 1])),
        DoorDenial::MalformedResponse(DecodeError::TooLarge { .. })
    ));
    // None of that spent the challenge (no response named it): the real one opens.
    assert!(tap(&response).is_admitted());

    // An oversized credential is refused before it is hashed.
    let huge = vec![FORMAT_VERSION; 1 << 20];
    let d = w.doors.tap(&door("front-gate"), &huge, None, NOW);
    assert!(matches!(
        denial(&d),
        DoorDenial::Credential(Denial::Malformed(DecodeError::TooLarge { .. }))
    ));

    // Random bytes never panic, as a response or as a credential.
    let mut rng = rng(99);
    for _ in 0..2000 {
        let len = rng.random_range(0..200usize);
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        if let Some(first) = junk.first_mut() {
            *first = FORMAT_VERSION;
        }
        assert!(!tap(&junk).is_admitted());
        assert!(
            !w.doors
                .tap(&door("front-gate"), &junk, None, NOW)
                .is_admitted()
        );
        let _ = Challenge::from_bytes(&junk);
    }
}

#[test]
fn cards_doors_and_controllers_refuse_bad_set_up() {
    let mut w = World::new(10);
    let card_key = CardKey::generate(&mut w.rng);
    let keyless = w.keyless(Kind::WarrantCard, MV);
    assert_eq!(
        Card::new(keyless.bytes().to_vec(), CardKey::generate(&mut w.rng)).unwrap_err(),
        CardError::NoCardKey
    );
    let card = w.card(Kind::WarrantCard, MV);
    assert_eq!(
        Card::new(card.credential().to_vec(), card_key).unwrap_err(),
        CardError::KeyMismatch
    );
    assert!(matches!(
        Card::new(vec![1, 2, 3], CardKey::generate(&mut w.rng)),
        Err(CardError::Malformed(_))
    ));
    assert!(!format!("{card:?}").contains("Officer"));

    assert!(DoorId::new("").is_err());
    assert!(DoorId::new("has space").is_err());
    assert!(DoorId::new("x".repeat(MAX_DOOR_ID_LEN + 1)).is_err());
    assert!(DoorId::new("x".repeat(MAX_DOOR_ID_LEN)).is_ok());
    let twice = vec![
        DoorPolicy::new(door("a")),
        DoorPolicy::new(door("a")).require_holder_binding(),
    ];
    assert_eq!(
        DoorController::new(w.verifier.clone(), twice).unwrap_err(),
        DoorError::DuplicateDoor { door: door("a") }
    );
    assert_eq!(
        w.doors
            .challenge(&door("nowhere"), NOW, &mut w.rng)
            .unwrap_err(),
        DoorError::UnknownDoor {
            door: door("nowhere")
        }
    );
    let ttl = DoorPolicy::new(door("b")).with_challenge_ttl(10 * MAX_CHALLENGE_TTL_SECS);
    assert_eq!(ttl.challenge_ttl_secs(), MAX_CHALLENGE_TTL_SECS);
    // Challenges are remembered until answered.
    let before = w.doors.outstanding_challenges();
    let _ = w.challenge("custody");
    assert_eq!(w.doors.outstanding_challenges(), before + 1);
    assert!(w.tap("custody", &card).is_admitted());
    assert_eq!(w.doors.outstanding_challenges(), before + 1);
}

#[test]
fn eight_threads_tap_while_deltas_apply() {
    const CARDS: u32 = 200;
    let mut w = World::new(11);
    // Card i is revoked by the delta that produces sequence i + 2.
    let cards: Vec<Card> = (0..CARDS).map(|_| w.card(Kind::WarrantCard, MV)).collect();
    let mut deltas = Vec::new();
    for card in &cards {
        w.list
            .revoke(
                World::index_of(card.credential()),
                RevocationReason::Lost,
                NOW,
            )
            .unwrap();
        deltas.push(
            w.list
                .publish(&w.key, NOW, NOW.plus(3600))
                .unwrap()
                .delta
                .unwrap(),
        );
    }
    let doors = Arc::new(w.doors);
    let verifier = w.verifier.clone();
    let cards = Arc::new(cards);
    let done = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let (doors, verifier, cards, done) =
                (doors.clone(), verifier.clone(), cards.clone(), done.clone());
            std::thread::spawn(move || {
                let mut rng = rng(100 + t);
                let (mut taps, mut cached) = (0u64, 0u64);
                let at = door(if t % 2 == 0 { "custody" } else { "front-gate" });
                while !done.load(Ordering::Relaxed) || taps < 100 {
                    // Half the taps on a few cards, so that the cache is used.
                    let i = if rng.random_range(0..2) == 0 {
                        rng.random_range(0..4u32)
                    } else {
                        rng.random_range(0..CARDS)
                    };
                    let card = &cards[i as usize];
                    let challenge = doors.challenge(&at, NOW, &mut rng).unwrap();
                    let response = card.respond(&challenge);
                    let before = verifier.list(&issuer_id()).unwrap().sequence();
                    let d = doors.tap(&at, card.credential(), Some(&response), NOW);
                    let after = verifier.list(&issuer_id()).unwrap().sequence();
                    let revoked_at = u64::from(i) + 2;
                    match d.denial() {
                        None => assert!(before < revoked_at, "card {i} admitted at {before}"),
                        Some(DoorDenial::Credential(Denial::Revoked { .. })) => {
                            assert!(after >= revoked_at, "card {i} revoked early")
                        }
                        Some(other) => panic!("unexpected denial {other:?}"),
                    }
                    cached += u64::from(d.from_cache());
                    taps += 1;
                }
                (taps, cached)
            })
        })
        .collect();
    for delta in &deltas {
        verifier.apply_delta(delta, NOW).unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let (mut taps, mut cached) = (0, 0);
    for t in threads {
        let (n, c) = t.join().unwrap();
        taps += n;
        cached += c;
    }
    assert!(taps >= 800);
    assert!(cached > 0, "no tap used the cache");
    assert_eq!(
        verifier.list(&issuer_id()).unwrap().sequence(),
        u64::from(CARDS) + 1
    );
    let mut rng = rng(1);
    for card in cards.iter() {
        let challenge = doors.challenge(&door("custody"), NOW, &mut rng).unwrap();
        let d = doors.tap(
            &door("custody"),
            card.credential(),
            Some(&card.respond(&challenge)),
            NOW,
        );
        assert!(matches!(
            d.denial(),
            Some(DoorDenial::Credential(Denial::Revoked { .. }))
        ));
    }
}

#[test]
fn door_controller_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<DoorController>();
    check::<Verifier>();
    check::<Decision>();
}
