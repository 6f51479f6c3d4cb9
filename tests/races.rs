//! Two handles on one registry file, as two offices: a commit that lost the race to
//! the other's unrelated change is made again on the new head (bulk chunks, closing
//! the job). The PostgreSQL suite runs the same at scale, single changes included
//! (10,000 cards beside 200 revocations).

mod common;

use std::ops::ControlFlow;

use common::*;
use revocard::registry::*;
use revocard::*;

fn roster(from: u32, n: u32) -> Vec<HolderRequest> {
    (from..from + n)
        .map(|i| HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

#[test]
fn a_bulk_issue_overtaken_after_every_chunk_by_another_office_still_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.sqlite");
    let key = issuer_key(&mut rng(42));
    let mut reg = create_registry(
        SqliteStore::create(&path).unwrap(),
        &key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap()
    .with_chunk_size(16);
    reg.issue_roster(
        &key,
        "northgate-print",
        &roster(0, 4),
        &mut fresh(&mut rng(1)),
        NOW,
        &mut rng(2),
        &mut Hooks::default(),
    )
    .unwrap();
    let serials: Vec<Serial> = reg
        .store()
        .credentials(&CredentialFilter::All)
        .unwrap()
        .iter()
        .map(|c| c.serial)
        .collect();
    // The other office revokes one card after each of the bulk issue's four chunks:
    // every next chunk, and the job's closing, find the head moved.
    let mut other = Registry::open(SqliteStore::open_existing(&path).unwrap()).unwrap();
    let mut revoked = 0;
    let report = reg
        .issue_roster(
            &key,
            "southbank-print",
            &roster(100, 64),
            &mut fresh(&mut rng(3)),
            NOW,
            &mut rng(4),
            &mut Hooks {
                progress: Box::new(|_| {
                    if let Some(serial) = serials.get(revoked) {
                        other
                            .set_status(
                                &key,
                                *serial,
                                Status::Revoked,
                                RevocationReason::LeftService,
                                NOW.plus(1),
                                NOW.plus(3600),
                            )
                            .unwrap();
                        revoked += 1;
                    }
                    ControlFlow::Continue(())
                }),
                ..Hooks::default()
            },
        )
        .unwrap();
    assert!(report.finished);
    assert_eq!((report.issued_now, report.in_batch), (64, 64));
    assert_eq!(revoked, 4);
    let s = reg.summary().unwrap();
    assert_eq!((s.issued, s.revoked, s.active), (68, 4, 64));
    assert!(
        reg.store()
            .jobs()
            .unwrap()
            .iter()
            .all(|j| j.finished_at.is_some())
    );
    reg.verify_audit().unwrap();
    conformance::check_invariants(reg.store());
}
