//! Card keys never leave the card: blank cards' chips make their keys and report the
//! public halves; the registry binds them into the credentials it signs, never sees a
//! secret, and refuses to run short, to bind a key twice or to sign an unusable key
//! (refused where a blank-card list is received, before any signing).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use revocard::door::{DoorController, DoorId, DoorPolicy};
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const BREACHED: &str = "northgate-print";
const SPARE: &str = "southbank-print";

fn roster(n: u32) -> Vec<HolderRequest> {
    (0..n)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

fn incident() -> Incident {
    Incident::Supplier {
        supplier: BREACHED.to_owned(),
    }
}

fn new_registry(seed: u64) -> (Registry<SqliteStore>, IssuerKey, rand::rngs::StdRng) {
    let mut rng = rng(seed);
    let key = issuer_key(&mut rng);
    let reg = create_registry(
        SqliteStore::open_in_memory().unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap()
    .with_chunk_size(16);
    (reg, key, rng)
}

fn bound_keys<S: Store>(reg: &Registry<S>) -> BTreeSet<[u8; 32]> {
    reg.store()
        .card_keys()
        .unwrap()
        .into_iter()
        .map(|k| k.0)
        .collect()
}

#[test]
fn card_public_key_text_is_unpadded_base64url_and_hostile_text_is_refused_by_kind() {
    let mut rng = rng(1);
    for _ in 0..64 {
        let key = CardKey::generate(&mut rng).public();
        let text = key.to_string();
        assert_eq!(text.len(), CardPublicKey::TEXT_LEN);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        assert_eq!(text.parse::<CardPublicKey>().unwrap(), key);
    }
    // A known vector: 32 bytes 0x00..0x1f.
    let key = CardPublicKey(core::array::from_fn(|i| i as u8));
    assert_eq!(
        key.to_string(),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
    );
    let good = key.to_string();
    let cases: Vec<(String, CardKeyTextError)> = vec![
        (
            String::new(),
            CardKeyTextError::Length {
                found: 0,
                expected: 43,
            },
        ),
        (
            format!("{good}="),
            CardKeyTextError::Length {
                found: 44,
                expected: 43,
            },
        ),
        (
            format!(" {}", &good[1..]),
            CardKeyTextError::Character { position: 0 },
        ),
        (
            format!("{}+{}", &good[..10], &good[11..]),
            CardKeyTextError::Character { position: 10 },
        ),
        (
            format!("{}/", &good[..42]),
            CardKeyTextError::Character { position: 42 },
        ),
        // 43 characters carry 258 bits: the last two must be zero.
        (format!("{}h", &good[..42]), CardKeyTextError::LastCharacter),
        (
            "é".repeat(21) + "A",
            CardKeyTextError::Character { position: 0 },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(text.parse::<CardPublicKey>(), Err(want), "{text:?}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn replacements_bind_the_new_suppliers_chips_and_open_a_door_that_requires_holder_binding() {
    let (mut reg, key, mut rng) = new_registry(2);
    let mut old_stock = SoftwareCards::generate(40, &mut rng);
    reg.issue_roster(
        &key,
        BREACHED,
        &roster(40),
        &mut old_stock,
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    assert_eq!((old_stock.blank(), old_stock.waiting()), (0, 40));
    let mut new_stock = SoftwareCards::generate(45, &mut rng);
    let report = reg
        .execute(
            &incident(),
            &key,
            SPARE,
            &mut new_stock,
            NOW.plus(10),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    // 40 cards took 40 of the 45 blank cards; 5 are still blank.
    assert_eq!((new_stock.blank(), new_stock.waiting()), (5, 40));

    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_key(key.public().clone()).unwrap();
    let list = reg.latest_publication().unwrap().unwrap();
    verifier.install_list(&list.list, NOW.plus(20)).unwrap();
    let door = DoorId::new("custody-suite").unwrap();
    let doors = DoorController::new(
        verifier,
        vec![DoorPolicy::new(door.clone()).require_holder_binding()],
    )
    .unwrap();
    let at = NOW.plus(20);
    let tap = |card: &Card, rng: &mut rand::rngs::StdRng| {
        let challenge = doors.challenge(&door, at, rng).unwrap();
        doors.tap(
            &door,
            card.credential(),
            Some(&card.respond(&challenge)),
            at,
        )
    };

    let new = reg
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![report.batch]))
        .unwrap();
    let old = reg
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![PrintBatchId(1)]))
        .unwrap();
    let manifest = reg.manifest(report.batch).unwrap();
    let mut new_cards = Vec::new();
    for r in &new {
        // The record, the credential and the manifest name the same chip key.
        let bound = r.card_key.expect("a replacement binds a card key");
        let claims = UnverifiedCredential::from_bytes(&r.bytes)
            .unwrap()
            .unverified_claims()
            .clone();
        assert_eq!(claims.card_key, Some(bound));
        let row = manifest
            .cards
            .iter()
            .find(|c| c.serial == r.serial.to_hex())
            .unwrap();
        assert_eq!(row.card_public_key, Some(bound.to_string()));
        let card = new_stock.personalise(r.bytes.clone()).unwrap();
        assert_eq!(card.public_key(), bound);
        new_cards.push(card);
    }
    assert_eq!(new_stock.waiting(), 0);
    for card in &new_cards {
        let decision = tap(card, &mut rng);
        assert!(decision.is_admitted(), "{:?}", decision.denial());
    }
    // The old cards answer with their own chips, and are denied as revoked.
    for r in &old {
        let card = old_stock.personalise(r.bytes.clone()).unwrap();
        assert_eq!(tap(&card, &mut rng).reason_code(), "revoked");
    }
    // A copy of a new card's credential bytes (the QR code, a leaked manifest plus a
    // forger) without its chip: no response, or one made by another chip.
    let copied = &new[0].bytes;
    assert_eq!(
        doors.tap(&door, copied, None, at).reason_code(),
        "response_missing"
    );
    let other_chip = Card::new(new[1].bytes.clone(), CardKey::generate(&mut rng));
    assert!(matches!(other_chip, Err(CardError::KeyMismatch)));
    let challenge = doors.challenge(&door, at, &mut rng).unwrap();
    let forged = CardKey::generate(&mut rng).respond(&challenge, copied);
    assert!(!doors.tap(&door, copied, Some(&forged), at).is_admitted());
}

#[test]
fn running_out_of_blank_cards_is_refused_before_anything_is_written() {
    let (mut reg, key, mut rng) = new_registry(3);
    let head = reg.store().audit_head().unwrap();
    let mut short = card_list(&mut rng, 39);
    match reg.issue_roster(
        &key,
        BREACHED,
        &roster(40),
        &mut short,
        NOW,
        &mut rng,
        &mut Hooks::default(),
    ) {
        Err(e @ RegistryError::NotEnoughBlankCards { needed, left }) => {
            assert_eq!((needed, left), (40, 39));
            assert!(e.to_string().contains("40"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reg.store().audit_head().unwrap(), head, "nothing written");
    assert!(reg.store().batches().unwrap().is_empty(), "no batch opened");
    assert!(reg.store().jobs().unwrap().is_empty(), "no job opened");

    reg.issue_roster(
        &key,
        BREACHED,
        &roster(40),
        &mut card_list(&mut rng, 40),
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    // The breach: the revocation does not wait for blank cards, the replacements do.
    let declared_head = {
        let plan = reg.plan(&incident(), NOW.plus(10)).unwrap();
        reg.declare(&plan, &key, SPARE, NOW.plus(10), NOW.plus(3600))
            .unwrap();
        reg.store().audit_head().unwrap()
    };
    match reg.resume(
        &key,
        &mut card_list(&mut rng, 10),
        NOW.plus(20),
        NOW.plus(3600),
        &mut rng,
        &mut Hooks::default(),
    ) {
        Err(RegistryError::NotEnoughBlankCards {
            needed: 40,
            left: 10,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(reg.store().audit_head().unwrap(), declared_head);
    assert_eq!(
        reg.summary().unwrap().superseded,
        0,
        "no replacement written"
    );
    let report = reg
        .resume(
            &key,
            &mut card_list(&mut rng, 40),
            NOW.plus(20),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.reissued, 40);
}

#[test]
fn a_supplier_list_given_again_skips_the_keys_it_already_bound() {
    let (mut reg, key, mut rng) = new_registry(4);
    let list = card_list(&mut rng, 40);
    // Stopped after its first chunk of 16.
    let mut stop = Hooks {
        progress: Box::new(|_| std::ops::ControlFlow::Break(())),
        ..Hooks::default()
    };
    let first = reg
        .issue_roster(
            &key,
            BREACHED,
            &roster(40),
            &mut list.clone(),
            NOW,
            &mut rng,
            &mut stop,
        )
        .unwrap();
    assert_eq!((first.in_batch, first.finished), (16, false));
    // The same file again: 16 keys are bound already, 24 are left for 24 holders.
    let second = reg
        .issue_roster(
            &key,
            BREACHED,
            &roster(40),
            &mut list.clone(),
            NOW,
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap();
    assert_eq!((second.in_batch, second.issued_now), (40, 24));
    let supplied: BTreeSet<[u8; 32]> = list.clone().into_iter().map(|k| k.key().0).collect();
    assert_eq!(bound_keys(&reg), supplied);

    // A key listed twice, and keys already bound, are skipped; only unbound ones count.
    let fresh_keys = card_list(&mut rng, 3);
    let mut mixed: BlankCardList = list.clone().into_iter().take(5).collect();
    for k in fresh_keys.clone() {
        mixed.push(k);
        mixed.push(k);
    }
    let more: Vec<HolderRequest> = (100..103)
        .map(|i| HolderRequest {
            kind: Kind::StaffPass,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect();
    let third = reg
        .issue_roster(
            &key,
            "eastgate-print",
            &more,
            &mut mixed,
            NOW,
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap();
    assert_eq!(third.issued_now, 3);
    assert!(mixed.len() <= 1, "drew only what it needed");
    let all: BTreeSet<[u8; 32]> = supplied
        .iter()
        .copied()
        .chain(fresh_keys.into_iter().map(|k| k.key().0))
        .collect();
    assert_eq!(bound_keys(&reg), all);
    conformance::check_invariants(reg.store());
}

/// Every kind of key the issuer's check refuses (the check that ran on the signing
/// workers before it moved to where a list is received): not a point, each
/// non-canonical encoding, each point of small order, and a good point plus each
/// torsion point of order 2, 4 and 8.
fn unusable_keys() -> Vec<(String, CardPublicKey)> {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    let mut keys = Vec::new();
    let mut two = [0u8; 32];
    two[0] = 2;
    keys.push(("y = 2, not a point".to_owned(), two));
    // p = 2^255 - 19; y + p for y < 19 encodes y again, with either sign bit.
    let mut prime = [0xffu8; 32];
    prime[0] = 0xed;
    prime[31] = 0x7f;
    for y in 0u8..19 {
        for sign in [0u8, 0x80] {
            let mut bytes = prime;
            bytes[0] += y;
            bytes[31] |= sign;
            keys.push((format!("y = p + {y}, sign {sign:#x}"), bytes));
        }
    }
    // The sign bit set on x = 0 (y = 1 and y = p - 1).
    let mut negative_identity = [0u8; 32];
    negative_identity[0] = 1;
    negative_identity[31] = 0x80;
    keys.push(("-0 encoding of the identity".to_owned(), negative_identity));
    let mut negative_order_two = prime;
    negative_order_two[0] -= 1;
    negative_order_two[31] |= 0x80;
    keys.push((
        "-0 encoding of the point of order 2".to_owned(),
        negative_order_two,
    ));
    let good = ED25519_BASEPOINT_POINT * Scalar::from(0x1234_5678_9abc_def0u64);
    for (i, t) in EIGHT_TORSION.iter().enumerate() {
        keys.push((format!("small order T[{i}]"), t.compress().0));
        if i != 0 {
            keys.push((format!("aB + T[{i}]"), (good + t).compress().0));
        }
    }
    keys.into_iter()
        .map(|(what, bytes)| (what, CardPublicKey(bytes)))
        .collect()
}

/// A source that receives raw keys and checks each as it hands it out.
struct Reader(std::collections::VecDeque<CardPublicKey>);

impl BlankCards for Reader {
    fn next_card(&mut self) -> Result<Option<CheckedCardKey>, BlankCardsError> {
        self.0
            .pop_front()
            .map(|key| {
                CheckedCardKey::check(key).map_err(|_| BlankCardsError::UnusableCardKey { key })
            })
            .transpose()
    }
}

#[test]
fn every_unusable_card_key_is_refused_when_its_list_is_received_and_nothing_is_signed_with_it() {
    let (mut reg, key, mut rng) = new_registry(5);
    reg.issue_roster(
        &key,
        BREACHED,
        &roster(10),
        &mut card_list(&mut rng, 10),
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    let before = bound_keys(&reg);
    let unusable = unusable_keys();
    assert_eq!(unusable.len(), 1 + 2 * 19 + 2 + 8 + 7);
    for (what, bad) in &unusable {
        let bad = *bad;
        // The check itself, and `IssuerKey::issue` (which checks a key it is given).
        assert!(CheckedCardKey::check(bad).is_err(), "{what}");
        let mut request = request(1);
        request.card_key = Some(bad);
        assert_eq!(
            key.issue(request, NOW, &mut rng).unwrap_err(),
            IssueError::WeakCardKey,
            "{what}"
        );
        // A supplier's list holding it among good keys is refused whole, naming it.
        let good: Vec<CardPublicKey> = card_list(&mut rng, 6)
            .into_iter()
            .map(CheckedCardKey::key)
            .collect();
        let mut received = good.clone();
        received.insert(3, bad);
        match BlankCardList::check(received) {
            Err(e @ RegistryError::UnusableCardKey { key: named }) => {
                assert_eq!(named, bad, "{what}");
                assert!(e.to_string().contains(&bad.to_string()), "{what}: {e}");
            }
            other => panic!("{what}: {other:?}"),
        }
        // A reissue drawing from a source that checks as it receives stops on it
        // before anything is signed or written.
        let mut reader = Reader(good.iter().copied().take(3).chain([bad]).collect());
        match reg.execute(
            &incident(),
            &key,
            SPARE,
            &mut reader,
            NOW,
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        ) {
            Err(RegistryError::BlankCards(BlankCardsError::UnusableCardKey { key: named })) => {
                assert_eq!(named, bad, "{what}")
            }
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(bound_keys(&reg), before, "{what}: nothing signed");
        assert_eq!(reg.summary().unwrap().issued, 10, "{what}");
    }
    // A list of good keys only: the reissue (declared by the first attempt above, whose
    // revocation did not wait for blank cards) finishes with them.
    let report = reg
        .execute(
            &incident(),
            &key,
            SPARE,
            &mut card_list(&mut rng, 10),
            NOW,
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.reissued, 10);
    conformance::check_invariants(reg.store());
}

#[test]
fn software_cards_keep_their_secrets_and_personalise_only_their_own() {
    let mut rng = rng(6);
    let mut stock = SoftwareCards::generate(2, &mut rng);
    let public = stock.report().unwrap();
    let text = format!("{stock:?}");
    assert!(
        text.contains("blank: 1") && text.contains("waiting: 1"),
        "{text}"
    );
    assert!(!text.contains(&public.to_string()));

    let key = issuer_key(&mut rng);
    let mut with = request(1);
    with.card_key = Some(public);
    let bound = key.issue(with, NOW, &mut rng).unwrap();
    let mut other = request(2);
    other.card_key = Some(CardKey::generate(&mut rng).public());
    let foreign = key.issue(other, NOW, &mut rng).unwrap();
    let bare = key.issue(request(3), NOW, &mut rng).unwrap();

    assert!(matches!(
        stock.personalise(foreign.bytes().to_vec()),
        Err(CardError::NotInStock)
    ));
    assert!(matches!(
        stock.personalise(bare.bytes().to_vec()),
        Err(CardError::NoCardKey)
    ));
    assert!(matches!(
        stock.personalise(vec![1, 2, 3]),
        Err(CardError::Malformed(_))
    ));
    assert_eq!(stock.waiting(), 1, "refusals leave the stock unchanged");
    let card = stock.personalise(bound.bytes().to_vec()).unwrap();
    assert_eq!(card.public_key(), public);
    // Personalised once: the card has left the stock.
    assert!(matches!(
        stock.personalise(bound.bytes().to_vec()),
        Err(CardError::NotInStock)
    ));
}

#[test]
fn a_schema_2_registry_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE revocard_meta SET value = '2' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    match SqliteStore::open(&path) {
        Err(e @ RegistryError::OlderSchema { found: 2, .. }) => {
            assert!(e.to_string().contains("schema 2"), "{e}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}
