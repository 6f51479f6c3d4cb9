//! The HR roster: joiners, movers and leavers, kept in line by the registry.

mod common;

use common::*;
use revocard::issue::{IssuerKey, SoftwareCards};
use revocard::registry::*;
use revocard::*;

fn entry(n: u32, rank: &str, vetting: Vetting) -> HolderRequest {
    HolderRequest {
        kind: Kind::WarrantCard,
        holder: Holder::new(
            format!("{:06}", 100_000 + n),
            format!("Officer Number {n}"),
            rank,
            "Response Team 4",
            PhotoDigest::of(format!("photo {n}").as_bytes()),
        )
        .unwrap(),
        vetting,
        validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
    }
}

fn rv() -> Vetting {
    Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None)
}

fn setup() -> (Registry<SqliteStore>, IssuerKey, rand::rngs::StdRng) {
    let mut rng = rng(41);
    let key = issuer_key(&mut rng);
    let reg = create_registry(
        SqliteStore::open_in_memory().unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap();
    (reg, key, rng)
}

/// Issues the pending cards through northgate-print at `at` (lists valid an hour).
fn issue(
    reg: &mut Registry<SqliteStore>,
    key: &IssuerKey,
    cards: &mut SoftwareCards,
    rng: &mut rand::rngs::StdRng,
    at: UnixTime,
    hooks: &mut Hooks<'_>,
) -> IssueReport {
    reg.issue_pending(
        key,
        "northgate-print",
        cards,
        at,
        NOW.plus(3600),
        rng,
        hooks,
    )
    .unwrap()
}

/// Applies a roster of `n` constables and issues their cards; returns the blank cards
/// left for later batches.
fn constables_issued(
    reg: &mut Registry<SqliteStore>,
    key: &IssuerKey,
    rng: &mut rand::rngs::StdRng,
    n: u32,
) -> SoftwareCards {
    let roster: Vec<_> = (0..n).map(|i| entry(i, "Police Constable", rv())).collect();
    reg.roster_apply(key, &roster, NOW, NOW.plus(3600)).unwrap();
    let mut cards = SoftwareCards::generate(20, rng);
    let issued = issue(reg, key, &mut cards, rng, NOW, &mut Hooks::default());
    assert!(issued.finished);
    assert_eq!(issued.issued_now, u64::from(n));
    cards
}

#[test]
fn a_roster_applied_twice_changes_nothing_the_second_time() {
    let (mut reg, key, _) = setup();
    let roster: Vec<_> = (0..10)
        .map(|n| entry(n, "Police Constable", rv()))
        .collect();
    let plan = reg.roster_plan(&roster).unwrap();
    assert_eq!(plan.joiners.len(), 10);
    assert_eq!(reg.pending().unwrap().len(), 0, "a plan wrote");
    reg.roster_apply(&key, &roster, NOW, NOW.plus(3600))
        .unwrap();
    assert_eq!(reg.pending().unwrap().len(), 10);
    let head = reg.store().audit_head().unwrap();
    let again = reg
        .roster_apply(&key, &roster, NOW, NOW.plus(3600))
        .unwrap();
    assert!(again.plan.is_empty());
    assert_eq!(again.plan.unchanged, 10);
    assert_eq!(reg.store().audit_head().unwrap(), head, "a no-op wrote");
}

#[test]
fn a_roster_naming_a_pay_number_twice_is_refused_and_writes_nothing() {
    let (mut reg, key, _) = setup();
    let head = reg.store().audit_head().unwrap();
    let roster = vec![entry(1, "Sergeant", rv()), entry(1, "Inspector", rv())];
    let err = reg
        .roster_apply(&key, &roster, NOW, NOW.plus(3600))
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::DuplicateHolder { pay_number } if pay_number == "100001"),
        "{err:?}"
    );
    assert_eq!(reg.store().audit_head().unwrap(), head);
}

#[test]
fn movers_are_reissued_and_leavers_revoked_and_the_door_sees_both() {
    let (mut reg, key, mut rng) = setup();
    let mut cards = constables_issued(&mut reg, &key, &mut rng, 6);
    assert!(reg.pending().unwrap().is_empty());
    let old = |reg: &Registry<SqliteStore>, n: u32| {
        reg.store()
            .credentials(&CredentialFilter::PayNumbers(vec![format!(
                "{:06}",
                100_000 + n
            )]))
            .unwrap()
    };
    let promoted_old = old(&reg, 1)[0].clone();
    let leaver_old = old(&reg, 5)[0].clone();

    // HR: 1 is promoted, 5 has left, 9 joins.
    let mut next: Vec<_> = (0..5).map(|n| entry(n, "Police Constable", rv())).collect();
    next[1] = entry(1, "Sergeant", rv());
    next.push(entry(9, "Police Constable", rv()));
    let plan = reg.roster_plan(&next).unwrap();
    assert_eq!(plan.joiners, vec!["100009".to_owned()]);
    assert_eq!(plan.movers.len(), 1);
    assert_eq!(plan.movers[0].pay_number, "100001");
    assert_eq!(plan.movers[0].changed, vec![RosterField::Rank]);
    assert_eq!(plan.leavers.len(), 1);
    assert_eq!(plan.leavers[0].cards, vec![leaver_old.serial]);
    let applied = reg
        .roster_apply(&key, &next, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    let p = applied
        .publication
        .expect("a leaver's card revoked publishes a list");
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier.add_root(reg.root().clone()).unwrap();
    verifier
        .install_key_set(&reg.key_set_bytes().unwrap(), NOW.plus(10))
        .unwrap();
    verifier.install_list(&p.list, NOW.plus(10)).unwrap();
    let denial = verifier
        .verify(&leaver_old.bytes, NOW.plus(20))
        .unwrap_err();
    assert!(matches!(denial, Denial::Revoked { .. }), "{denial:?}");
    // The promoted officer's old card still opens doors until the new one is issued.
    verifier.verify(&promoted_old.bytes, NOW.plus(20)).unwrap();

    let pending = reg.pending().unwrap();
    assert_eq!(pending.len(), 2);
    assert!(
        pending
            .iter()
            .any(|p| p.replaces == Some(promoted_old.serial))
    );
    let issued = issue(
        &mut reg,
        &key,
        &mut cards,
        &mut rng,
        NOW.plus(30),
        &mut Hooks::default(),
    );
    assert_eq!(issued.issued_now, 2);
    assert!(reg.pending().unwrap().is_empty());
    let promoted = old(&reg, 1);
    let new_card = promoted
        .iter()
        .find(|c| c.supersedes == Some(promoted_old.serial))
        .expect("the mover's replacement supersedes the old card");
    let latest = reg.latest_publication().unwrap().unwrap();
    verifier.install_list(&latest.list, NOW.plus(40)).unwrap();
    let denial = verifier
        .verify(&promoted_old.bytes, NOW.plus(40))
        .unwrap_err();
    assert!(matches!(denial, Denial::Revoked { .. }), "{denial:?}");
    assert_eq!(
        reg.store()
            .credentials(&CredentialFilter::Serials(vec![promoted_old.serial]))
            .unwrap()[0]
            .status_reason
            .map(|(r, _)| r),
        Some(RevocationReason::Superseded)
    );
    let v = verifier.verify(&new_card.bytes, NOW.plus(40)).unwrap();
    assert_eq!(v.claims().holder.rank(), "Sergeant");
    // Run again: nothing pending, nothing written.
    let head = reg.store().audit_head().unwrap();
    let none = issue(
        &mut reg,
        &key,
        &mut cards,
        &mut rng,
        NOW.plus(50),
        &mut Hooks::default(),
    );
    assert_eq!(none.issued_now, 0);
    assert_eq!(reg.store().audit_head().unwrap(), head);
    reg.verify_audit().unwrap();
}

/// Movers' replacements signed by a run that was stopped after its first chunk: the
/// resumed run no longer sees those movers as pending, and must still revoke the
/// cards they replaced when the batch finishes.
#[test]
fn a_movers_batch_stopped_and_resumed_revokes_every_replaced_card() {
    let (reg, key, mut rng) = setup();
    let mut reg = reg.with_chunk_size(1);
    let mut cards = constables_issued(&mut reg, &key, &mut rng, 4);
    let before = reg.store().credentials(&CredentialFilter::All).unwrap();
    // Everyone is promoted: four movers.
    let promoted: Vec<_> = (0..4).map(|n| entry(n, "Sergeant", rv())).collect();
    reg.roster_apply(&key, &promoted, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    assert_eq!(reg.pending().unwrap().len(), 4);
    let mut stop = Hooks {
        progress: Box::new(|_| std::ops::ControlFlow::Break(())),
        ..Hooks::default()
    };
    let first = issue(
        &mut reg,
        &key,
        &mut cards,
        &mut rng,
        NOW.plus(20),
        &mut stop,
    );
    assert!(!first.finished);
    assert_eq!(first.issued_now, 1);
    assert_eq!(reg.pending().unwrap().len(), 3, "the first mover is done");
    let rest = issue(
        &mut reg,
        &key,
        &mut cards,
        &mut rng,
        NOW.plus(30),
        &mut Hooks::default(),
    );
    assert!(rest.finished);
    assert_eq!((rest.issued_now, rest.in_batch), (3, 4));
    let old: Vec<Serial> = before.iter().map(|r| r.serial).collect();
    let now = reg
        .store()
        .credentials(&CredentialFilter::Serials(old.clone()))
        .unwrap();
    assert_eq!(now.len(), 4);
    for r in &now {
        assert_eq!(
            r.status_reason.map(|(reason, _)| reason),
            Some(RevocationReason::Superseded),
            "{:?} was replaced but not revoked",
            r.serial
        );
    }
    let verifier = Verifier::new(TrustStore::new(), VerifyOptions::default());
    verifier.add_root(reg.root().clone()).unwrap();
    verifier
        .install_key_set(&reg.key_set_bytes().unwrap(), NOW.plus(30))
        .unwrap();
    let latest = reg.latest_publication().unwrap().unwrap();
    verifier.install_list(&latest.list, NOW.plus(30)).unwrap();
    for r in &before {
        let denial = verifier.verify(&r.bytes, NOW.plus(40)).unwrap_err();
        assert!(matches!(denial, Denial::Revoked { .. }), "{denial:?}");
    }
    reg.verify_audit().unwrap();
}

#[test]
fn a_sync_removing_more_than_the_threshold_is_refused_with_the_counts_and_writes_nothing() {
    let (mut reg, key, mut rng) = setup();
    assert_eq!(reg.max_leavers().unwrap(), DEFAULT_MAX_LEAVERS);
    reg.set_max_leavers(3, NOW).unwrap();
    assert_eq!(reg.max_leavers().unwrap(), 3);
    let _cards = constables_issued(&mut reg, &key, &mut rng, 10);
    // A truncated export: six of ten holders gone.
    let cut: Vec<_> = (6..10)
        .map(|i| entry(i, "Police Constable", rv()))
        .collect();
    let head = reg.store().audit_head().unwrap();
    let err = reg
        .roster_apply(&key, &cut, NOW.plus(10), NOW.plus(3600))
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::TooManyLeavers {
                leavers: 6,
                cards: 6,
                threshold: 3
            }
        ),
        "{err:?}"
    );
    // An approval for another number is refused too.
    let err = reg
        .roster_apply_approved(&key, &cut, NOW.plus(10), NOW.plus(3600), 5)
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::LeaversNotAsApproved {
                leavers: 6,
                approved: 5
            }
        ),
        "{err:?}"
    );
    assert_eq!(reg.store().audit_head().unwrap(), head, "a refusal wrote");
    assert_eq!(reg.summary().unwrap().revoked, 0);
    // Within the threshold, no approval is needed; with the exact number, past it.
    let fewer: Vec<_> = (3..10)
        .map(|i| entry(i, "Police Constable", rv()))
        .collect();
    let applied = reg
        .roster_apply(&key, &fewer, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    assert_eq!(applied.plan.leavers.len(), 3);
    let applied = reg
        .roster_apply_approved(&key, &cut, NOW.plus(20), NOW.plus(3600), 3)
        .unwrap();
    assert_eq!(applied.plan.leavers.len(), 3);
    assert_eq!(reg.summary().unwrap().revoked, 6);
}

#[test]
fn issuing_that_would_revoke_more_replaced_cards_than_the_threshold_is_refused() {
    let (mut reg, key, mut rng) = setup();
    let mut cards = constables_issued(&mut reg, &key, &mut rng, 10);
    reg.set_max_leavers(2, NOW).unwrap();
    let promoted: Vec<_> = (0..10)
        .map(|i| {
            entry(
                i,
                if i < 3 {
                    "Sergeant"
                } else {
                    "Police Constable"
                },
                rv(),
            )
        })
        .collect();
    reg.roster_apply(&key, &promoted, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    let head = reg.store().audit_head().unwrap();
    let err = reg
        .issue_pending(
            &key,
            "northgate-print",
            &mut cards,
            NOW.plus(20),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::TooManyReplaced {
                cards: 3,
                threshold: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(reg.store().audit_head().unwrap(), head, "a refusal wrote");
    let report = reg
        .issue_pending_approved(
            &key,
            "northgate-print",
            &mut cards,
            NOW.plus(20),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
            3,
        )
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.issued_now, 3);
    assert_eq!(reg.summary().unwrap().revoked, 3);
}
