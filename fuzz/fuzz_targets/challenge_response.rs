//! Challenges and challenge responses: `Challenge::from_bytes`, and
//! `DoorController::tap` at a door that requires holder binding, given a fresh
//! challenge and a fuzzed response for a valid card.
//!
//! The first byte picks the response: the input itself, or the card's honest response
//! to the fresh challenge with the input XORed over it (and cut or extended to the
//! input's length), so that structured, nearly valid responses reach the signature
//! check. Only the untouched honest response may open the door; an accepted challenge
//! encoding is canonical.
#![no_main]

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use rand::{SeedableRng, rngs::StdRng};
use revocard::door::*;
use revocard::issue::*;
use revocard::*;

struct Door {
    controller: DoorController,
    card: Card,
    door: DoorId,
    rng: Mutex<StdRng>,
}

fn door() -> &'static Door {
    static DOOR: OnceLock<Door> = OnceLock::new();
    DOOR.get_or_init(|| {
        let key = common::issuer_key();
        let mut rng = StdRng::seed_from_u64(1);
        let card_key = CardKey::from_secret_bytes(&common::derive_secret("fuzz-card", 1));
        let credential = key
            .issue(
                CredentialRequest {
                    kind: Kind::WarrantCard,
                    holder: Holder::new("100001", "Fuzz Officer", "Sergeant", "Custody", PhotoDigest([1; 32])).unwrap(),
                    vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Management), None),
                    status_index: StatusIndex(7),
                    print_batch: PrintBatchId(1),
                    validity: Validity::new(common::NOW, UnixTime(common::NOW.0 + 1_000_000)).unwrap(),
                    card_key: Some(card_key.public()),
                    supersedes: None,
                },
                common::NOW,
                &mut rng,
            )
            .unwrap();
        let verifier = common::verifier();
        verifier.install_list(common::LIST_EMPTY, common::NOW).unwrap();
        let id = DoorId::new("custody").unwrap();
        let controller = DoorController::new(
            Arc::new(verifier),
            vec![DoorPolicy::new(id.clone()).require_holder_binding()],
        )
        .unwrap();
        Door { controller, card: Card::new(credential.into_bytes(), card_key).unwrap(), door: id, rng: Mutex::new(rng) }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(challenge) = Challenge::from_bytes(data) {
        assert_eq!(challenge.to_bytes(), data, "a challenge has one encoding");
    }
    let d = door();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let challenge = {
        let mut rng = d.rng.lock().unwrap();
        d.controller.challenge(&d.door, common::NOW, &mut *rng).unwrap()
    };
    let honest = d.card.respond(&challenge);
    let response = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut r = honest.clone();
        r.resize(rest.len().max(1), 0);
        for (b, m) in r.iter_mut().zip(rest) {
            *b ^= m;
        }
        r
    };
    let decision = d.controller.tap(&d.door, d.card.credential(), Some(&response), common::NOW);
    if response != honest {
        assert!(!decision.is_admitted(), "a forged response opened the door");
    }
});
