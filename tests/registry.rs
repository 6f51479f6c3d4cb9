//! The registry and the reissue workflow on a temporary SQLite file: dry runs, atomic
//! and resumable execution, idempotence, the audit chain, the print manifest, bad files.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::Path;

use common::*;
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const BREACHED: &str = "northgate-print";
const SPARE: &str = "southbank-print";

fn roster(n: u32) -> Vec<HolderRequest> {
    (0..n)
        .map(|i| HolderRequest {
            kind: if i % 3 == 0 {
                Kind::StaffPass
            } else {
                Kind::WarrantCard
            },
            holder: holder(i),
            vetting: if i % 5 == 0 {
                Vetting::new(PoliceVetting::NonPolice(Nppv::Level2), None)
            } else {
                Vetting::new(
                    PoliceVetting::Force(ForceVetting::Recruitment),
                    Some(NationalSecurity::Sc),
                )
            },
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

/// A registry at `path` with `n` cards issued through the breached supplier.
fn issued_registry(
    path: &Path,
    n: u32,
    seed: u64,
) -> (Registry<SqliteStore>, IssuerKey, rand::rngs::StdRng) {
    let mut rng = rng(seed);
    let key = issuer_key(&mut rng);
    let store = SqliteStore::open(path).unwrap();
    let mut reg = create_registry(store, &key, CAPACITY, NOW, NOW.plus(3600))
        .unwrap()
        .with_chunk_size(64);
    let report = reg
        .issue_roster(
            &key,
            BREACHED,
            &roster(n),
            &mut fresh(&mut rng),
            NOW,
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap();
    assert_eq!(report.in_batch, u64::from(n));
    assert!(report.finished);
    (reg, key, rng)
}

fn incident() -> Incident {
    Incident::Supplier {
        supplier: BREACHED.to_owned(),
    }
}

/// The logical state a user relies on after a breach: which holder has which active
/// card, where it came from, and that nothing is doubled or lost.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    summary: Summary,
    active_by_holder: BTreeMap<String, (String, bool)>,
    replaced: usize,
}

fn outcome(reg: &Registry<SqliteStore>) -> Outcome {
    let batches: BTreeMap<PrintBatchId, String> = reg
        .store()
        .batches()
        .unwrap()
        .into_iter()
        .map(|b| (b.id, b.supplier))
        .collect();
    let all = reg.store().credentials(&CredentialFilter::All).unwrap();
    let mut active_by_holder = BTreeMap::new();
    let mut replaced = 0;
    for r in &all {
        let status = reg.effective_status(r).unwrap();
        if status == Status::Valid && r.superseded_by.is_none() {
            let previous = active_by_holder.insert(
                r.pay_number.clone(),
                (batches[&r.print_batch].clone(), r.supersedes.is_some()),
            );
            assert!(
                previous.is_none(),
                "holder {} has two active cards",
                r.pay_number
            );
        }
        if let Some(old) = r.supersedes {
            replaced += 1;
            let old = all
                .iter()
                .find(|o| o.serial == old)
                .expect("replacement points at a real card");
            assert_eq!(old.superseded_by, Some(r.serial), "links go both ways");
            assert_eq!(old.pay_number, r.pay_number, "same holder");
            assert_eq!(
                reg.effective_status(old).unwrap(),
                Status::Revoked,
                "a replaced card is revoked"
            );
        }
    }
    reg.verify_audit().unwrap();
    Outcome {
        summary: reg.summary().unwrap(),
        active_by_holder,
        replaced,
    }
}

fn run_to_end(
    reg: &mut Registry<SqliteStore>,
    key: &IssuerKey,
    rng: &mut rand::rngs::StdRng,
) -> Option<ReissueReport> {
    reg.execute(
        &incident(),
        key,
        SPARE,
        &mut fresh(rng),
        NOW.plus(10),
        NOW.plus(3600),
        rng,
        &mut Hooks::default(),
    )
    .unwrap()
}

#[test]
fn planning_is_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let (reg, _key, _rng) = issued_registry(&dir.path().join("r.sqlite"), 300, 1);
    let head = reg.verify_audit().unwrap();
    let before = (
        reg.summary().unwrap(),
        reg.latest_publication().unwrap(),
        reg.store().jobs().unwrap(),
    );
    let plan = reg.plan(&incident(), NOW.plus(10)).unwrap();
    assert_eq!(plan.affected.len(), 300);
    assert_eq!(plan.reissue.len(), 300);
    assert_eq!(plan.scopes, vec![Scope::PrintBatch(PrintBatchId(1))]);
    assert!(
        plan.individual.is_empty(),
        "a supplier breach is one scope entry, not 300"
    );
    assert_eq!(plan.by_kind.values().sum::<u64>(), 300);
    assert_eq!(plan.by_kind["StaffPass"], 100);
    assert_eq!(plan.by_vetting["NPPV2"], 60);
    assert_eq!(plan.exposed_suppliers, vec![BREACHED.to_owned()]);
    assert_eq!(reg.verify_audit().unwrap(), head);
    assert_eq!(
        (
            reg.summary().unwrap(),
            reg.latest_publication().unwrap(),
            reg.store().jobs().unwrap()
        ),
        before
    );
}

#[test]
fn a_breach_is_revoked_published_and_reissued_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 300, 2);
    let first = reg.latest_publication().unwrap().unwrap();
    let old = reg
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![PrintBatchId(1)]))
        .unwrap();

    let plan = reg.plan(&incident(), NOW.plus(10)).unwrap();
    assert!(matches!(
        reg.declare(&plan, &key, BREACHED, NOW.plus(10), NOW.plus(3600)),
        Err(RegistryError::SameSupplier { .. })
    ));
    let declared = reg
        .declare(&plan, &key, SPARE, NOW.plus(10), NOW.plus(3600))
        .unwrap();
    assert_eq!(declared.revoked, 300);
    let delta = declared.publication.delta.clone().unwrap();
    assert!(delta.len() <= 512, "breach delta {} bytes", delta.len());

    // Before any replacement exists, a verifier with the delta denies every old card.
    let verifier = verifier_for_key(&key);
    verifier.install_list(&first.list, NOW.plus(10)).unwrap();
    verifier.apply_delta(&delta, NOW.plus(10)).unwrap();
    for r in &old {
        match verifier.verify(&r.bytes, NOW.plus(10)) {
            Err(Denial::Revoked {
                by: RevokedBy::Scope(e),
                ..
            }) => assert_eq!(e.reason, RevocationReason::SupplierBreach),
            other => panic!("{other:?}"),
        }
    }
    // Another declaration while the job is open is refused.
    assert!(matches!(
        reg.declare(&plan, &key, SPARE, NOW.plus(11), NOW.plus(3600)),
        Err(RegistryError::JobOpen { .. })
    ));

    let report = reg
        .resume(
            &key,
            &mut fresh(&mut rng),
            NOW.plus(20),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.reissued, 300);
    let last = report.publication.unwrap();
    assert!(
        last.list.len() <= 1024,
        "final list {} bytes",
        last.list.len()
    );
    verifier.install_list(&last.list, NOW.plus(20)).unwrap();
    let new = reg
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![report.batch]))
        .unwrap();
    assert_eq!(new.len(), 300);
    for r in &new {
        let v = verifier.verify(&r.bytes, NOW.plus(20)).unwrap();
        let c = v.claims();
        assert!(c.supersedes.is_some());
        assert!(c.card_key.is_some(), "replacements carry a new card key");
        assert!(
            !old.iter().any(|o| o.status_index == r.status_index),
            "status indexes are never reused"
        );
    }
    let o = outcome(&reg);
    assert_eq!(
        o.summary,
        Summary {
            issued: 600,
            active: 300,
            revoked: 300,
            suspended: 0,
            superseded: 300
        }
    );
    assert!(
        o.active_by_holder
            .values()
            .all(|(supplier, replaced)| supplier == SPARE && *replaced)
    );
    drop(reg);
    // An auditor reading the file with SQL sees the same through the view.
    let conn = rusqlite::Connection::open(dir.path().join("r.sqlite")).unwrap();
    let mut counts = BTreeMap::new();
    let mut stmt = conn
        .prepare("SELECT status, COUNT(*) FROM credential_status GROUP BY status")
        .unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
    {
        let (status, n) = row.unwrap();
        counts.insert(status, n);
    }
    assert_eq!(
        counts,
        BTreeMap::from([("active".to_owned(), 300), ("revoked".to_owned(), 300)])
    );
}

fn verifier_for_key(key: &IssuerKey) -> Verifier {
    let v = Verifier::new(TrustStore::new(), VerifyOptions::default());
    v.add_key(IssuerPublicKey::from_bytes(&key.public().to_bytes()).unwrap())
        .unwrap();
    v
}

#[test]
fn executing_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 200, 3);
    assert!(run_to_end(&mut reg, &key, &mut rng).unwrap().finished);
    let head = reg.verify_audit().unwrap();
    let state = outcome(&reg);
    assert_eq!(run_to_end(&mut reg, &key, &mut rng), None);
    assert_eq!(
        reg.resume(
            &key,
            &mut fresh(&mut rng),
            NOW.plus(30),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default()
        )
        .unwrap(),
        None
    );
    let plan = reg.plan(&incident(), NOW.plus(30)).unwrap();
    assert!(plan.affected.is_empty());
    assert!(matches!(
        reg.declare(&plan, &key, SPARE, NOW.plus(30), NOW.plus(3600)),
        Err(RegistryError::NothingAffected)
    ));
    assert_eq!(reg.verify_audit().unwrap(), head, "nothing was appended");
    assert_eq!(outcome(&reg), state);
}

#[test]
fn an_incident_that_matches_nothing_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 20, 4);
    let head = reg.verify_audit().unwrap();
    for incident in [
        Incident::Supplier {
            supplier: "nobody-print".into(),
        },
        Incident::PrintBatch {
            batch: PrintBatchId(99),
        },
        Incident::Serials {
            serials: vec![Serial([1; 16])],
        },
        Incident::Holders {
            pay_numbers: vec!["none".into()],
        },
    ] {
        let plan = reg.plan(&incident, NOW).unwrap();
        assert!(plan.affected.is_empty(), "{incident:?}");
        assert!(matches!(
            reg.declare(&plan, &key, SPARE, NOW, NOW.plus(60)),
            Err(RegistryError::NothingAffected)
        ));
        assert_eq!(
            reg.execute(
                &incident,
                &key,
                SPARE,
                &mut fresh(&mut rng),
                NOW,
                NOW.plus(60),
                &mut rng,
                &mut Hooks::default()
            )
            .unwrap(),
            None
        );
    }
    assert_eq!(reg.verify_audit().unwrap(), head);
}

#[test]
fn holders_and_serials_are_revoked_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 50, 5);
    let all = reg.store().credentials(&CredentialFilter::All).unwrap();
    let leaked = Incident::Holders {
        pay_numbers: vec![all[3].pay_number.clone(), all[7].pay_number.clone()],
    };
    let plan = reg.plan(&leaked, NOW).unwrap();
    assert!(plan.scopes.is_empty());
    assert_eq!(plan.individual.len(), 2);
    let report = reg
        .execute(
            &leaked,
            &key,
            SPARE,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(report.reissued, 2);
    let o = outcome(&reg);
    assert_eq!(o.summary.active, 50);
    assert_eq!(o.summary.revoked, 2);
    assert_eq!(
        o.active_by_holder[&all[3].pay_number],
        (SPARE.to_owned(), true)
    );
    assert_eq!(
        o.active_by_holder[&all[4].pay_number],
        (BREACHED.to_owned(), false)
    );
}

#[test]
fn a_compromised_key_cannot_sign_the_replacements() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 10, 6);
    let incident = Incident::IssuerKey {
        key_id: key.key_id(),
    };
    assert!(matches!(
        reg.execute(
            &incident,
            &key,
            SPARE,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default()
        ),
        Err(RegistryError::WrongKey {
            why: WrongKey::Compromised,
            ..
        })
    ));
    let new_key = IssuerKey::generate(
        issuer_id(),
        Validity::new(NOW.minus(10), NOW.plus(5 * YEAR)).unwrap(),
        &mut rng,
    )
    .unwrap();
    // A key the root has not certified signs nothing here.
    assert!(matches!(
        reg.execute(
            &incident,
            &new_key,
            SPARE,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default()
        ),
        Err(RegistryError::WrongKey {
            why: WrongKey::NotCertified,
            ..
        })
    ));
    let root = root_for(&key);
    let mut draft = reg.draft_key_set(NOW);
    draft
        .certify(new_key.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    reg.install_key_set(&root.sign_key_set(&draft).unwrap(), NOW)
        .unwrap();
    let report = reg
        .execute(
            &incident,
            &new_key,
            SPARE,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(report.reissued, 10);
    let scopes = reg.store().status_state().unwrap().scopes;
    assert_eq!(scopes.len(), 1);
    assert_eq!(scopes[0].scope, Scope::IssuerKey(key.key_id()));
    assert_eq!(scopes[0].reason, RevocationReason::IssuerKeyCompromise);
    assert_eq!(outcome(&reg).summary.active, 10);
    drop(reg);
    let conn = rusqlite::Connection::open(dir.path().join("r.sqlite")).unwrap();
    let revoked: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM credential_status WHERE status = 'revoked'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(revoked, 10, "the SQL view applies key scopes too");
}

#[test]
fn a_crash_at_any_commit_then_resume_ends_as_an_uninterrupted_run() {
    const N: u32 = 200; // chunks of 64: 4 issue chunks, 4 reissue chunks
    let dir = tempfile::tempdir().unwrap();
    let reference = {
        let (mut reg, key, mut rng) = issued_registry(&dir.path().join("reference.sqlite"), N, 7);
        run_to_end(&mut reg, &key, &mut rng);
        outcome(&reg)
    };
    assert_eq!(
        reference.summary,
        Summary {
            issued: 400,
            active: 200,
            revoked: 200,
            suspended: 0,
            superseded: 200
        }
    );

    // Every write of the whole story, from the registry's creation on, crashed in turn.
    // Each supplier gives one list of exactly N blank cards, and the same list is given
    // again after the crash: the keys bound before it are skipped, so it is enough.
    let mut points = 0;
    for fail_at in 1..=14 {
        for after_commit in [false, true] {
            let path = dir
                .path()
                .join(format!("crash-{fail_at}-{after_commit}.sqlite"));
            let mut rng = rng(7);
            let key = issuer_key(&mut rng);
            let breached_list = card_list(&mut rng, N as usize);
            let spare_list = card_list(&mut rng, N as usize);
            let store = Crashing::new(SqliteStore::open(&path).unwrap(), fail_at, after_commit);
            let crashed = (|| -> Result<(), RegistryError> {
                let mut reg = create_registry(store, &key, CAPACITY, NOW, NOW.plus(3600))?
                    .with_chunk_size(64);
                reg.issue_roster(
                    &key,
                    BREACHED,
                    &roster(N),
                    &mut breached_list.clone(),
                    NOW,
                    &mut rng,
                    &mut Hooks::default(),
                )?;
                reg.execute(
                    &incident(),
                    &key,
                    SPARE,
                    &mut spare_list.clone(),
                    NOW.plus(10),
                    NOW.plus(3600),
                    &mut rng,
                    &mut Hooks::default(),
                )?;
                Ok(())
            })();
            if crashed.is_ok() {
                continue; // the story had fewer writes than fail_at
            }
            points += 1;
            // Recovery: reopen the file (a new process would) and run the same story again.
            let store = SqliteStore::open(&path).unwrap();
            let mut reg = match Registry::open(store) {
                Ok(reg) => reg.with_chunk_size(64),
                Err(RegistryError::Empty) => create_registry(
                    SqliteStore::open(&path).unwrap(),
                    &key,
                    CAPACITY,
                    NOW,
                    NOW.plus(3600),
                )
                .unwrap()
                .with_chunk_size(64),
                Err(e) => panic!("{e}"),
            };
            reg.verify_audit().unwrap();
            conformance::check_invariants(reg.store());
            let reissue_started = reg
                .store()
                .jobs()
                .unwrap()
                .iter()
                .any(|j| matches!(j.kind, JobKind::Reissue { .. }));
            if !reissue_started {
                reg.issue_roster(
                    &key,
                    BREACHED,
                    &roster(N),
                    &mut breached_list.clone(),
                    NOW,
                    &mut rng,
                    &mut Hooks::default(),
                )
                .unwrap();
            }
            reg.execute(
                &incident(),
                &key,
                SPARE,
                &mut spare_list.clone(),
                NOW.plus(10),
                NOW.plus(3600),
                &mut rng,
                &mut Hooks::default(),
            )
            .unwrap();
            assert_eq!(
                outcome(&reg),
                reference,
                "crash at write {fail_at} (after commit: {after_commit})"
            );
            let bound: BTreeSet<[u8; 32]> = reg
                .store()
                .card_keys()
                .unwrap()
                .into_iter()
                .map(|k| k.0)
                .collect();
            let supplied: BTreeSet<[u8; 32]> = breached_list
                .clone()
                .into_iter()
                .chain(spare_list.clone())
                .map(|k| k.key().0)
                .collect();
            assert_eq!(
                bound, supplied,
                "every card binds one key of its supplier's list (crash at write {fail_at})"
            );
        }
    }
    assert!(points >= 20, "only {points} crash points exercised");
}

#[test]
fn a_progress_hook_can_stop_bulk_work_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 200, 8);
    let mut stops = 0;
    // Every run hands over what it committed: together, the whole batch, in order.
    let mut committed: Vec<Serial> = Vec::new();
    let batch = loop {
        let mut hooks = Hooks {
            progress: Box::new(|_| ControlFlow::Break(())),
            committed: Box::new(|chunk| {
                assert!(chunk.len() <= 64, "a chunk is at most the chunk size");
                committed.extend(chunk.iter().map(revocard::issue::Credential::serial));
            }),
        };
        let report = reg
            .execute(
                &incident(),
                &key,
                SPARE,
                &mut fresh(&mut rng),
                NOW.plus(10),
                NOW.plus(3600),
                &mut rng,
                &mut hooks,
            )
            .unwrap()
            .unwrap();
        drop(hooks);
        assert_eq!(committed.len() as u64, report.reissued);
        if report.finished {
            break report.batch;
        }
        stops += 1;
        assert_eq!(report.reissued, (64 * stops).min(200));
        // Mid-way: the old cards are all revoked already; each holder has either their
        // one replacement or a place in the open job, which the next run completes.
        let o = outcome(&reg);
        assert_eq!(o.summary.revoked, 200);
        assert_eq!(o.summary.active, report.reissued);
        let job = reg
            .store()
            .jobs()
            .unwrap()
            .into_iter()
            .find(|j| j.finished_at.is_none())
            .unwrap();
        assert!(
            matches!(job.kind, JobKind::Reissue { .. }),
            "not a reissue job"
        );
        let pending = reg
            .job_cards(&job)
            .unwrap()
            .into_iter()
            .filter(|r| r.superseded_by.is_none())
            .count();
        assert_eq!(
            o.summary.active + pending as u64,
            200,
            "nobody is forgotten"
        );
    };
    assert_eq!(stops, 4);
    let manifest: Vec<String> = reg
        .manifest(batch)
        .unwrap()
        .cards
        .into_iter()
        .map(|c| c.serial)
        .collect();
    let handed: Vec<String> = committed.iter().map(Serial::to_hex).collect();
    assert_eq!(handed, manifest);
    assert_eq!(
        outcome(&reg).summary,
        Summary {
            issued: 400,
            active: 200,
            revoked: 200,
            suspended: 0,
            superseded: 200
        }
    );
}

#[test]
fn editing_any_audit_row_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let entries = {
        let (mut reg, key, mut rng) = issued_registry(&path, 30, 9);
        run_to_end(&mut reg, &key, &mut rng);
        reg.verify_audit().unwrap().entries
    };
    assert!(entries >= 10, "{entries} entries");
    for seq in 1..=entries {
        for (column, sql) in [
            (
                "event",
                "UPDATE audit SET event = replace(event, 'e', 'E') WHERE seq = ?1",
            ),
            ("at", "UPDATE audit SET at = at + 1 WHERE seq = ?1"),
            (
                "hash",
                "UPDATE audit SET hash = zeroblob(32) WHERE seq = ?1",
            ),
            ("delete", "DELETE FROM audit WHERE seq = ?1"),
        ] {
            let copy = dir.path().join("edited.sqlite");
            std::fs::copy(&path, &copy).unwrap();
            let _ = std::fs::remove_file(dir.path().join("edited.sqlite-wal"));
            {
                let conn = rusqlite::Connection::open(&copy).unwrap();
                assert_eq!(conn.execute(sql, [seq as i64]).unwrap(), 1);
            }
            let reg = Registry::open(SqliteStore::open(&copy).unwrap()).unwrap();
            match reg.verify_audit() {
                Err(RegistryError::Audit(e)) => {
                    // Deleting the last entry leaves a valid shorter chain: the head tells.
                    let expected = if column == "delete" || column == "hash" {
                        seq.min(entries - 1) + 1
                    } else {
                        seq
                    };
                    if column == "delete" && seq == entries {
                        unreachable!("deleting the last entry cannot break the chain");
                    }
                    assert!(
                        e.seq == seq || e.seq == expected,
                        "{column} at {seq}: named {}",
                        e.seq
                    );
                }
                Ok(head) => {
                    assert_eq!((column, seq), ("delete", entries), "an edit went unnoticed");
                    assert_eq!(head.entries, entries - 1, "a cut tail shows in the head");
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
}

#[test]
fn the_print_manifest_holds_only_printed_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 40, 10);
    let report = run_to_end(&mut reg, &key, &mut rng).unwrap();
    let manifest = reg.manifest(report.batch).unwrap();
    assert_eq!(manifest.supplier, SPARE);
    assert_eq!(manifest.cards.len(), 40);
    let json: serde_json::Value = serde_json::from_str(&manifest.to_json()).unwrap();
    let fields: BTreeSet<&str> = PRINTED_FIELDS.into_iter().collect();
    for card in json["cards"].as_array().unwrap() {
        let keys: BTreeSet<&str> = card
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, fields);
    }
    let csv = manifest.to_csv();
    assert_eq!(csv.lines().next().unwrap(), PRINTED_FIELDS.join(","));
    assert_eq!(csv.lines().count(), 41);
    let new = reg
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![report.batch]))
        .unwrap();
    for r in &new {
        for text in [&csv, &manifest.to_json()] {
            assert!(
                !text.contains(&r.pay_number),
                "pay number leaked into the manifest"
            );
            assert!(!text.contains("Response Team"), "unit leaked");
            assert!(
                !text.contains("NPPV") && !text.contains("\"SC\""),
                "vetting leaked"
            );
            assert!(
                !text.contains(&hex_of(&r.bytes)[..40]),
                "credential bytes leaked"
            );
        }
        assert!(csv.contains(&r.serial.to_hex()));
    }
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn files_that_are_not_registries_are_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let not_db = dir.path().join("notes.txt");
    std::fs::write(
        &not_db,
        b"these are not the droids you are looking for, not at all, no",
    )
    .unwrap();
    match SqliteStore::open(&not_db) {
        Err(
            e @ RegistryError::NotARegistry {
                detail: NotARegistry::NotADatabase,
                ..
            },
        ) => {
            assert!(e.to_string().contains("notes.txt"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(&not_db).unwrap(),
        b"these are not the droids you are looking for, not at all, no"
    );

    let other_db = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other_db)
        .unwrap()
        .execute_batch("CREATE TABLE cats (name TEXT);")
        .unwrap();
    let before = std::fs::read(&other_db).unwrap();
    assert!(matches!(
        SqliteStore::open(&other_db),
        Err(RegistryError::NotARegistry {
            detail: NotARegistry::MissingTables,
            ..
        })
    ));
    assert_eq!(std::fs::read(&other_db).unwrap(), before);

    let path = dir.path().join("r.sqlite");
    drop(issued_registry(&path, 10, 11));
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE revocard_meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    assert!(matches!(
        SqliteStore::open(&path),
        Err(RegistryError::NewerSchema {
            found: 99,
            supported: SCHEMA_VERSION,
            ..
        })
    ));

    // An empty store is not a registry yet.
    assert!(matches!(
        Registry::open(SqliteStore::open_in_memory().unwrap()),
        Err(RegistryError::Empty)
    ));
}

#[test]
fn truncated_or_corrupted_files_give_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    {
        let (reg, _, _) = issued_registry(&path, 200, 12);
        drop(reg);
    }
    // Fold the WAL into the main file so that the damage below hits committed data.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024);

    let truncated = dir.path().join("truncated.sqlite");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let opened = SqliteStore::open(&truncated).and_then(|s| {
        let reg = Registry::open(s)?;
        reg.summary()?;
        reg.verify_audit()
    });
    assert!(
        opened.is_err(),
        "a half file must not pass silently: {opened:?}"
    );

    let scribbled = dir.path().join("scribbled.sqlite");
    let mut damaged = bytes.clone();
    for b in &mut damaged[bytes.len() / 3..bytes.len() / 3 + 8192] {
        *b = 0x5A;
    }
    std::fs::write(&scribbled, &damaged).unwrap();
    let opened = SqliteStore::open(&scribbled).and_then(|s| {
        let reg = Registry::open(s)?;
        reg.summary()?;
        reg.verify_audit()
    });
    assert!(
        opened.is_err(),
        "scribbled pages must not pass silently: {opened:?}"
    );
}

/// Every card of the registry with the audit head: what "nothing changed" means.
fn snapshot(reg: &Registry<SqliteStore>) -> (AuditHead, Summary, usize) {
    (
        reg.verify_audit().unwrap(),
        reg.summary().unwrap(),
        reg.store().jobs().unwrap().len(),
    )
}

#[test]
fn a_handled_holders_incident_run_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 30, 20);
    let all = reg.store().credentials(&CredentialFilter::All).unwrap();
    let leaked = Incident::Holders {
        pay_numbers: vec![all[3].pay_number.clone(), all[7].pay_number.clone()],
    };
    let first = reg
        .execute(
            &leaked,
            &key,
            SPARE,
            &mut fresh(&mut rng),
            NOW,
            NOW.plus(60),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(first.finished);
    assert_eq!(first.reissued, 2);
    let handled = snapshot(&reg);
    let state = outcome(&reg);

    // Again, to another supplier, and to the one the replacements went to: the
    // replacements were not in the leak, so the incident covers nothing now.
    for supplier in ["third-print", SPARE, BREACHED] {
        assert_eq!(
            reg.execute(
                &leaked,
                &key,
                supplier,
                &mut fresh(&mut rng),
                NOW.plus(100),
                NOW.plus(3600),
                &mut rng,
                &mut Hooks::default()
            )
            .unwrap(),
            None,
            "executed again towards {supplier}"
        );
        let plan = reg.plan(&leaked, NOW.plus(100)).unwrap();
        assert!(plan.affected.is_empty(), "{plan:?}");
        assert!(matches!(
            reg.declare(&plan, &key, supplier, NOW.plus(100), NOW.plus(3600)),
            Err(RegistryError::NothingAffected)
        ));
        assert_eq!(snapshot(&reg), handled, "nothing was written");
    }
    // The same holders in another order are the same incident.
    let reordered = Incident::Holders {
        pay_numbers: vec![all[7].pay_number.clone(), all[3].pay_number.clone()],
    };
    assert_eq!(
        reg.execute(
            &reordered,
            &key,
            "third-print",
            &mut fresh(&mut rng),
            NOW.plus(100),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default()
        )
        .unwrap(),
        None
    );
    assert_eq!(snapshot(&reg), handled);
    assert_eq!(outcome(&reg), state);

    // A new leak is a new incident: a list naming other holders too covers the
    // current cards of everyone on it, replacements included.
    let replacement = |reg: &Registry<SqliteStore>, pay: &str| {
        reg.store()
            .credentials(&CredentialFilter::PayNumbers(vec![pay.to_owned()]))
            .unwrap()
            .into_iter()
            .find(|r| r.superseded_by.is_none())
            .unwrap()
    };
    let r3 = replacement(&reg, &all[3].pay_number);
    assert!(r3.supersedes.is_some());
    let second_leak = Incident::Holders {
        pay_numbers: vec![all[3].pay_number.clone(), all[9].pay_number.clone()],
    };
    let plan = reg.plan(&second_leak, NOW.plus(200)).unwrap();
    assert_eq!(
        plan.affected.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&r3.serial, &all[9].serial])
    );
    assert_eq!(
        plan.exposed_suppliers,
        vec![BREACHED.to_owned(), SPARE.to_owned()]
    );
    let report = reg
        .execute(
            &second_leak,
            &key,
            "third-print",
            &mut fresh(&mut rng),
            NOW.plus(200),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert_eq!(report.reissued, 2);
    // And naming the current card by serial covers it, whatever incident came before.
    let r7 = replacement(&reg, &all[7].pay_number);
    let by_serial = Incident::Serials {
        serials: vec![r7.serial],
    };
    assert_eq!(
        reg.execute(
            &by_serial,
            &key,
            "third-print",
            &mut fresh(&mut rng),
            NOW.plus(300),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default()
        )
        .unwrap()
        .unwrap()
        .reissued,
        1
    );
    let o = outcome(&reg);
    assert_eq!(o.summary.active, 30);
    assert_eq!(o.replaced, 5);

    // A card issued since (holder 7 lost the last one and got a new card from the
    // roster) was not in the first leak either: running it again still does nothing.
    let r7 = replacement(&reg, &all[7].pay_number);
    reg.set_status(
        &key,
        r7.serial,
        Status::Revoked,
        RevocationReason::KeyCompromise,
        NOW.plus(400),
        NOW.plus(3600),
    )
    .unwrap();
    let issued = reg
        .issue_roster(
            &key,
            "third-print",
            &roster(30),
            &mut fresh(&mut rng),
            NOW.plus(400),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap();
    assert_eq!(issued.issued_now, 1);
    let since = snapshot(&reg);
    assert_eq!(
        reg.execute(
            &leaked,
            &key,
            "fourth-print",
            &mut fresh(&mut rng),
            NOW.plus(500),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default()
        )
        .unwrap(),
        None
    );
    assert_eq!(snapshot(&reg), since);
}

#[test]
fn every_kind_of_incident_handled_is_a_no_op_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    for (i, kind) in [
        "supplier",
        "print_batch",
        "issuer_key",
        "serials",
        "holders",
    ]
    .into_iter()
    .enumerate()
    {
        let (mut reg, key, mut rng) = issued_registry(
            &dir.path().join(format!("{kind}.sqlite")),
            24,
            30 + i as u64,
        );
        let all = reg.store().credentials(&CredentialFilter::All).unwrap();
        // Replacements for a compromised key are signed by another key of the issuer,
        // which its root certifies first.
        let other_key = issuer_key(&mut rng);
        let mut draft = reg.draft_key_set(NOW);
        draft
            .certify(other_key.public(), KeyUsage::CredentialsAndLists)
            .unwrap();
        reg.install_key_set(&root_for(&key).sign_key_set(&draft).unwrap(), NOW)
            .unwrap();
        let signer = if kind == "issuer_key" {
            &other_key
        } else {
            &key
        };
        let incident = match kind {
            "supplier" => incident(),
            "print_batch" => Incident::PrintBatch {
                batch: PrintBatchId(1),
            },
            "issuer_key" => Incident::IssuerKey {
                key_id: key.key_id(),
            },
            "serials" => Incident::Serials {
                serials: vec![all[1].serial, all[5].serial, all[8].serial],
            },
            _ => Incident::Holders {
                pay_numbers: vec![all[2].pay_number.clone(), all[6].pay_number.clone()],
            },
        };
        let first = reg
            .execute(
                &incident,
                signer,
                SPARE,
                &mut fresh(&mut rng),
                NOW.plus(10),
                NOW.plus(3600),
                &mut rng,
                &mut Hooks::default(),
            )
            .unwrap()
            .unwrap();
        assert!(first.finished, "{kind}");
        assert!(first.reissued > 0, "{kind}");
        let handled = snapshot(&reg);
        for (supplier, now) in [(SPARE, NOW.plus(20)), ("third-print", NOW.plus(30))] {
            assert_eq!(
                reg.execute(
                    &incident,
                    signer,
                    supplier,
                    &mut fresh(&mut rng),
                    now,
                    NOW.plus(3600),
                    &mut rng,
                    &mut Hooks::default()
                )
                .unwrap(),
                None,
                "{kind} executed again towards {supplier}"
            );
            assert_eq!(snapshot(&reg), handled, "{kind}: nothing was written");
        }
    }
}

#[test]
fn a_plan_made_on_another_registry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _key_a, _) = issued_registry(&dir.path().join("a.sqlite"), 40, 40);
    let (mut b, key_b, mut rng_b) = issued_registry(&dir.path().join("b.sqlite"), 40, 41);
    let plan_a = a.plan(&incident(), NOW.plus(10)).unwrap();
    assert_eq!(
        a.verify_audit().unwrap().entries,
        b.verify_audit().unwrap().entries,
        "the registries have logs of equal length"
    );
    let before = snapshot(&b);
    let state = outcome(&b);
    let refused = b.declare(&plan_a, &key_b, SPARE, NOW.plus(10), NOW.plus(3600));
    let entries = before.0.entries;
    assert!(
        matches!(
            refused,
            Err(RegistryError::PlanNotFromThisRegistry { planned_at_entry, entries: e })
                if planned_at_entry == entries && e == entries
        ),
        "{refused:?}"
    );
    assert_eq!(snapshot(&b), before, "nothing was written on B");
    assert_eq!(outcome(&b), state);

    // A stale plan of B itself is recomputed: B issued more cards after planning.
    let plan_b = b.plan(&incident(), NOW.plus(10)).unwrap();
    assert_eq!(plan_b.affected.len(), 40);
    b.issue_roster(
        &key_b,
        BREACHED,
        &roster(50),
        &mut fresh(&mut rng_b),
        NOW.plus(20),
        &mut rng_b,
        &mut Hooks::default(),
    )
    .unwrap();
    let declared = b
        .declare(&plan_b, &key_b, SPARE, NOW.plus(30), NOW.plus(3600))
        .unwrap();
    assert_eq!(declared.revoked, 50, "the plan was recomputed");
    let report = b
        .resume(
            &key_b,
            &mut fresh(&mut rng_b),
            NOW.plus(40),
            NOW.plus(3600),
            &mut rng_b,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.reissued, 50);
    assert_eq!(outcome(&b).summary.active, 50);
}

#[test]
fn resume_refuses_a_job_naming_a_card_the_registry_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (mut reg, key, mut rng) = issued_registry(&dir.path().join("r.sqlite"), 10, 50);
    let real = reg.store().credentials(&CredentialFilter::All).unwrap()[0].serial;
    let ghost = Serial([0xEE; 16]);
    let sequence = reg.latest_publication().unwrap().unwrap().sequence;
    // A job as a foreign plan (or a hand-edited store) would leave it.
    reg.store_mut()
        .apply(&Change {
            batches: vec![PrintBatch {
                id: PrintBatchId(2),
                supplier: SPARE.to_owned(),
                created_at: NOW,
            }],
            jobs: vec![JobRecord {
                id: 2,
                kind: JobKind::Reissue {
                    incident: Incident::Serials {
                        serials: vec![real, ghost],
                    },
                    affected: AffectedCards::Serials(vec![real, ghost]),
                    batch: PrintBatchId(2),
                    revoked_in: sequence,
                },
                started_at: NOW,
                finished_at: None,
            }],
            ..Change::default()
        })
        .unwrap();
    let before = snapshot(&reg);
    let state = outcome(&reg);
    let resumed = reg.resume(
        &key,
        &mut fresh(&mut rng),
        NOW.plus(10),
        NOW.plus(3600),
        &mut rng,
        &mut Hooks::default(),
    );
    assert!(
        matches!(
            resumed,
            Err(RegistryError::UnknownAffectedCredential { job: 2, serial, unknown: 1 })
                if serial == ghost
        ),
        "{resumed:?}"
    );
    assert_eq!(snapshot(&reg), before, "nothing was written");
    assert_eq!(outcome(&reg), state);
}

#[test]
fn create_never_overwrites_and_open_existing_never_creates() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.sqlite");
    match SqliteStore::open_existing(&missing) {
        Err(e @ RegistryError::NotFound { .. }) => {
            assert!(e.to_string().contains("typo.sqlite"), "{e}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert!(!missing.exists(), "a mistyped path leaves nothing behind");

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, b"not a registry").unwrap();
    assert!(matches!(
        SqliteStore::create(&notes),
        Err(RegistryError::FileExists { .. })
    ));
    assert_eq!(std::fs::read(&notes).unwrap(), b"not a registry");

    let path = dir.path().join("r.sqlite");
    drop(issued_registry_at(SqliteStore::create(&path).unwrap()));
    assert!(matches!(
        SqliteStore::create(&path),
        Err(RegistryError::FileExists { .. })
    ));
    let reg = Registry::open(SqliteStore::open_existing(&path).unwrap()).unwrap();
    assert_eq!(reg.summary().unwrap().issued, 5);
}

fn issued_registry_at(store: SqliteStore) -> Registry<SqliteStore> {
    let mut rng = rng(21);
    let key = issuer_key(&mut rng);
    let mut reg = create_registry(store, &key, CAPACITY, NOW, NOW.plus(3600)).unwrap();
    reg.issue_roster(
        &key,
        BREACHED,
        &roster(5),
        &mut fresh(&mut rng),
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    reg
}

#[test]
fn annotations_are_kept_in_the_audit_chain_and_read_back_by_subject() {
    let dir = tempfile::tempdir().unwrap();
    let mut reg = issued_registry_at(SqliteStore::create(dir.path().join("r.sqlite")).unwrap());
    assert!(reg.annotations("run").unwrap().is_empty());
    reg.annotate("run", "count=47000 seed=1", NOW.plus(1))
        .unwrap();
    reg.annotate("other", "x", NOW.plus(2)).unwrap();
    reg.annotate("run", "count=5 seed=2", NOW.plus(3)).unwrap();
    assert_eq!(
        reg.annotations("run").unwrap(),
        vec![
            (NOW.plus(1), "count=47000 seed=1".to_owned()),
            (NOW.plus(3), "count=5 seed=2".to_owned())
        ]
    );
    let head = reg.store().audit_head().unwrap();
    assert!(matches!(
        reg.annotate("run", &"x".repeat(MAX_ANNOTATION_LEN + 1), NOW),
        Err(RegistryError::AnnotationTooLong { max, .. }) if max == MAX_ANNOTATION_LEN
    ));
    assert!(matches!(
        reg.annotate(&"s".repeat(MAX_ANNOTATION_SUBJECT_LEN + 1), "x", NOW),
        Err(RegistryError::AnnotationTooLong { .. })
    ));
    assert_eq!(
        reg.store().audit_head().unwrap(),
        head,
        "refusals write nothing"
    );
    assert_eq!(reg.verify_audit().unwrap(), head);
}

/// A registry at `path` with 40 cards, the breached supplier declared (not reissued),
/// and the cards the job must replace.
fn declared_registry(
    path: &Path,
) -> (
    Registry<SqliteStore>,
    IssuerKey,
    rand::rngs::StdRng,
    Vec<Serial>,
) {
    let (mut reg, key, rng) = issued_registry(path, 40, 51);
    let plan = reg
        .plan(
            &Incident::Supplier {
                supplier: BREACHED.to_owned(),
            },
            NOW.plus(1),
        )
        .unwrap();
    reg.declare(&plan, &key, SPARE, NOW.plus(2), NOW.plus(3600))
        .unwrap();
    let mut reissue = plan.reissue;
    reissue.sort();
    (reg, key, rng, reissue)
}

/// The job's `kind` column as written.
fn job_kind_json(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT kind FROM jobs WHERE finished_at IS NULL", [], |r| {
        r.get(0)
    })
    .unwrap()
}

fn set_job_kind_json(path: &Path, kind: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let n = conn
        .execute(
            "UPDATE jobs SET kind = ?1 WHERE finished_at IS NULL",
            [kind],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn declare_records_the_jobs_cards_compactly_and_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let (reg, _, _, reissue) = declared_registry(&path);
    let kind = job_kind_json(&path);
    // 40 serials would be 640 bytes before base64; the indexes take a few.
    assert!(kind.len() < 400, "{kind}");
    let job = reg
        .store()
        .jobs()
        .unwrap()
        .into_iter()
        .find(|j| j.finished_at.is_none() && matches!(j.kind, JobKind::Reissue { .. }))
        .unwrap();
    let JobKind::Reissue { affected, .. } = &job.kind else {
        unreachable!()
    };
    assert!(
        matches!(affected, AffectedCards::Indexes { .. }),
        "{affected:?}"
    );
    assert_eq!(affected.count(), 40);
    let mut cards: Vec<Serial> = reg
        .job_cards(&job)
        .unwrap()
        .iter()
        .map(|r| r.serial)
        .collect();
    cards.sort();
    assert_eq!(cards, reissue, "exactly the cards fixed at declaration");
}

#[test]
fn a_job_written_by_the_previous_version_still_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let (reg, key, _, reissue) = declared_registry(&path);
    let job = reg
        .store()
        .jobs()
        .unwrap()
        .into_iter()
        .find(|j| j.finished_at.is_none())
        .unwrap();
    drop(reg);
    // The previous version's form: the serials, one base64 string.
    let JobKind::Reissue {
        incident,
        batch,
        revoked_in,
        ..
    } = job.kind
    else {
        panic!("not a reissue job")
    };
    let old = serde_json::json!({
        "job": "reissue",
        "incident": incident,
        "affected": base64_of(&reissue),
        "batch": batch,
        "revoked_in": revoked_in,
    });
    set_job_kind_json(&path, &old.to_string());
    let mut rng = rng(52);
    let mut reg = Registry::open(SqliteStore::open(&path).unwrap()).unwrap();
    let job = reg
        .store()
        .jobs()
        .unwrap()
        .into_iter()
        .find(|j| j.finished_at.is_none())
        .unwrap();
    assert!(matches!(
        &job.kind,
        JobKind::Reissue { affected: AffectedCards::Serials(s), .. } if *s == reissue
    ));
    let report = reg
        .resume(
            &key,
            &mut fresh(&mut rng),
            NOW.plus(10),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    assert_eq!(report.reissued, 40);
    assert_eq!(outcome(&reg).summary.active, 40);
}

#[test]
fn resume_refuses_a_job_whose_indexes_name_other_cards() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let (reg, key, mut rng, _) = declared_registry(&path);
    drop(reg);
    // A corrupt store: the digest no longer matches the serials the indexes name.
    let mut kind: serde_json::Value = serde_json::from_str(&job_kind_json(&path)).unwrap();
    kind["affected"]["digest"] = serde_json::Value::String("00".repeat(32));
    set_job_kind_json(&path, &kind.to_string());
    let mut reg = Registry::open(SqliteStore::open(&path).unwrap()).unwrap();
    let before = snapshot(&reg);
    let resumed = reg.resume(
        &key,
        &mut fresh(&mut rng),
        NOW.plus(10),
        NOW.plus(3600),
        &mut rng,
        &mut Hooks::default(),
    );
    assert!(
        matches!(
            resumed,
            Err(RegistryError::JobCardsMismatch {
                expected: 40,
                found: 40,
                ..
            })
        ),
        "{resumed:?}"
    );
    assert_eq!(snapshot(&reg), before, "nothing was written");
}

fn base64_of(serials: &[Serial]) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = serials.iter().flat_map(|s| s.0).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
