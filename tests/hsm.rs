//! Keys in a hardware security module, against real SoftHSM tokens (feature `pkcs11`).
//! Run under `scripts/with-softhsm` (which `scripts/test` does): it exports
//! `SOFTHSM2_CONF` (a throwaway token folder) and `REVOCARD_PKCS11_MODULE`. Each test
//! makes its own token, with its own label. Under CI (`CI` set, or
//! `REVOCARD_REQUIRE_SOFTHSM=1`) a missing module fails every test here.
#![cfg(feature = "pkcs11")]

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use common::*;
use ed25519_dalek::Verifier as _;
use revocard::issue::*;
use revocard::registry::Store as _;
use revocard::*;
use zeroize::Zeroizing;

const PIN: &str = "4821-test-pin";
const SO_PIN: &str = "so-5533";

/// The SoftHSM module, or `None` (with SKIPPED printed) outside CI when there is none.
fn module() -> Option<Pkcs11Module> {
    match std::env::var_os("REVOCARD_PKCS11_MODULE") {
        Some(path) => Some(Pkcs11Module::load(&PathBuf::from(path)).unwrap()),
        None => {
            let required = std::env::var_os("CI").is_some()
                || std::env::var("REVOCARD_REQUIRE_SOFTHSM").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "REVOCARD_PKCS11_MODULE is not set: run the tests under scripts/with-softhsm"
            );
            eprintln!("SKIPPED: no PKCS#11 module (run under scripts/with-softhsm)");
            None
        }
    }
}

/// This process's own handle on the module (the one `Pkcs11Module::load` initialised),
/// to make tokens and keys the library would never make.
fn raw() -> Pkcs11 {
    let path = std::env::var_os("REVOCARD_PKCS11_MODULE").unwrap();
    let ctx = Pkcs11::new(PathBuf::from(path)).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("{e}"),
    }
    ctx
}

/// Initialises a fresh token labelled `label` with the user PIN [`PIN`], in SoftHSM's
/// free slot, through the module this process loaded (SoftHSM lists the tokens of its
/// folder once, when it is initialised, so `softhsm2-util` in another process would
/// make a token this process never sees).
fn token(module: &Pkcs11Module, label: &str) {
    static FREE_SLOT: Mutex<()> = Mutex::new(());
    let _one_at_a_time = FREE_SLOT.lock().unwrap_or_else(|e| e.into_inner());
    let _ = module;
    let ctx = raw();
    let free = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|slot| !ctx.get_token_info(*slot).unwrap().token_initialized())
        .expect("SoftHSM keeps one free slot");
    ctx.init_token(free, &AuthPin::new(SO_PIN.into()), label)
        .unwrap();
    let session = ctx.open_rw_session(free).unwrap();
    session
        .login(UserType::So, Some(&AuthPin::new(SO_PIN.into())))
        .unwrap();
    session.init_pin(&AuthPin::new(PIN.into())).unwrap();
    session.logout().unwrap();
}

fn pin() -> TokenPin {
    TokenPin::new(Zeroizing::new(PIN.to_owned()))
}

fn uri(token: &str, object: &str) -> Pkcs11Uri {
    Pkcs11Uri::for_key(token, object)
}

fn window() -> Validity {
    Validity::new(NOW.minus(YEAR), NOW.plus(10 * YEAR)).unwrap()
}

#[test]
fn a_key_born_in_the_token_signs_credentials_and_lists_that_doors_accept() {
    let Some(module) = module() else { return };
    token(&module, "born");
    let key = TokenKey::generate(
        &module,
        &uri("born", "signing-2026"),
        &pin(),
        KeyPolicy::default(),
    )
    .unwrap();
    let attributes = key.attributes().unwrap();
    assert!(
        !attributes.extractable && attributes.sensitive,
        "{attributes:?}"
    );
    assert!(attributes.never_extractable && attributes.always_sensitive && attributes.local);
    assert_eq!(
        key.uri().to_string(),
        "pkcs11:token=born;object=signing-2026"
    );

    let issuer = IssuerKey::from_signer(issuer_id(), window(), key.clone()).unwrap();
    assert_eq!(issuer.location(), "pkcs11:token=born;object=signing-2026");
    assert!(issuer.to_secret_bytes().is_none());
    let mut rng = rng(1);
    let card = issuer.issue(request(3), NOW, &mut rng).unwrap();
    let verifier = verifier_for(&issuer);
    assert_eq!(
        verifier.verify(card.bytes(), NOW).unwrap().serial(),
        card.serial()
    );
    // The token's signature is plain Ed25519 under the key's public half.
    let message = b"any message";
    let signature = ed25519_dalek::Signer::try_sign(&key, message).unwrap();
    key.verifying_key().verify(message, &signature).unwrap();

    // Opened again (another process would), the same key.
    let again = TokenKey::open(&module, &uri("born", "signing-2026"), &pin()).unwrap();
    assert_eq!(again.verifying_key(), key.verifying_key());
}

/// One line, naming the token (and the object), never the PIN.
fn one_line_without_pin(e: &dyn std::fmt::Display, names: &[&str]) {
    let text = e.to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(!text.contains(PIN) && !text.contains(SO_PIN), "{text}");
    for name in names {
        assert!(text.contains(name), "{text} should name {name}");
    }
}

#[test]
fn a_wrong_pin_is_refused_and_said_so_without_the_pin() {
    let Some(module) = module() else { return };
    token(&module, "pins");
    TokenKey::generate(&module, &uri("pins", "k"), &pin(), KeyPolicy::default()).unwrap();
    let wrong = TokenPin::new(Zeroizing::new("0000-wrong".to_owned()));
    let e = TokenKey::open(&module, &uri("pins", "k"), &wrong).unwrap_err();
    assert_eq!(
        e,
        HsmError::WrongPin {
            token: "pins".into()
        }
    );
    one_line_without_pin(&e, &["pins"]);
    assert!(!format!("{e:?}").contains("0000-wrong"));
    assert_eq!(format!("{wrong:?}"), "TokenPin(..)");
    // While a key of this process keeps the token logged in, the token no longer checks
    // PINs (CKR_USER_ALREADY_LOGGED_IN): a wrong one is still refused.
    let _open = TokenKey::open(&module, &uri("pins", "k"), &pin()).unwrap();
    let e = TokenKey::open(&module, &uri("pins", "k"), &wrong).unwrap_err();
    assert_eq!(
        e,
        HsmError::WrongPin {
            token: "pins".into()
        }
    );
    TokenKey::open(&module, &uri("pins", "k"), &pin()).unwrap();
}

/// SoftHSM 2.6 never locks a PIN (it only sets CKF_USER_PIN_COUNT_LOW), so a locked
/// token cannot be made here: the mapping of CKR_PIN_LOCKED and of the token's
/// CKF_USER_PIN_LOCKED flag to `HsmError::PinLocked` is tested in src/hsm/token.rs.
/// This test fails if a SoftHSM release starts locking, so that the real path gets
/// tested then.
#[test]
fn softhsm_never_locks_a_pin_so_the_lock_is_tested_on_the_mapping() {
    let Some(module) = module() else { return };
    token(&module, "nolock");
    TokenKey::generate(&module, &uri("nolock", "k"), &pin(), KeyPolicy::default()).unwrap();
    let wrong = TokenPin::new(Zeroizing::new("1".to_owned()));
    for _ in 0..20 {
        assert!(matches!(
            TokenKey::open(&module, &uri("nolock", "k"), &wrong),
            Err(HsmError::WrongPin { .. })
        ));
    }
    TokenKey::open(&module, &uri("nolock", "k"), &pin()).unwrap();
}

#[test]
fn no_such_token_or_key_is_named() {
    let Some(module) = module() else { return };
    token(&module, "present");
    let e = TokenKey::open(&module, &uri("absent", "k"), &pin()).unwrap_err();
    assert_eq!(
        e,
        HsmError::NoToken {
            token: "absent".into()
        }
    );
    one_line_without_pin(&e, &["absent"]);
    let e = TokenKey::open(&module, &uri("present", "nokey"), &pin()).unwrap_err();
    assert_eq!(
        e,
        HsmError::NoObject {
            token: "present".into(),
            object: "nokey".into()
        }
    );
    one_line_without_pin(&e, &["present", "nokey"]);
    // Generating under a label that exists makes nothing.
    TokenKey::generate(&module, &uri("present", "k"), &pin(), KeyPolicy::default()).unwrap();
    let e = TokenKey::generate(&module, &uri("present", "k"), &pin(), KeyPolicy::default())
        .unwrap_err();
    assert_eq!(
        e,
        HsmError::AlreadyExists {
            token: "present".into(),
            object: "k".into()
        }
    );
}

/// Makes a key pair the library would never make, through this process's own handle.
fn raw_pair(token_label: &str, label: &str, mechanism: Mechanism, params: &[u8], sign: bool) {
    raw_pair_labelled(token_label, label, label, mechanism, params, sign);
}

/// [`raw_pair`] with the public and the private key under different labels.
fn raw_pair_labelled(
    token_label: &str,
    public_label: &str,
    private_label: &str,
    mechanism: Mechanism,
    params: &[u8],
    sign: bool,
) {
    let ctx = raw();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == token_label)
        .unwrap();
    let session = ctx.open_rw_session(slot).unwrap();
    // The library's key of this token keeps the process logged in, or not yet.
    match session.login(UserType::User, Some(&AuthPin::new(PIN.into()))) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("{e}"),
    }
    let public_label = Attribute::Label(public_label.as_bytes().to_vec());
    let private_label = Attribute::Label(private_label.as_bytes().to_vec());
    session
        .generate_key_pair(
            &mechanism,
            &[
                Attribute::Token(true),
                public_label,
                Attribute::EcParams(params.to_vec()),
            ],
            &[
                Attribute::Token(true),
                private_label,
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(sign),
            ],
        )
        .unwrap();
}

const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

#[test]
fn a_key_of_the_wrong_type_or_that_may_not_sign_is_refused() {
    let Some(module) = module() else { return };
    token(&module, "kinds");
    // Keep the token logged in through the library's key while the raw session works.
    let _held =
        TokenKey::generate(&module, &uri("kinds", "good"), &pin(), KeyPolicy::default()).unwrap();
    raw_pair("kinds", "p256", Mechanism::EccKeyPairGen, P256_OID, true);
    raw_pair(
        "kinds",
        "nosign",
        Mechanism::EccEdwardsKeyPairGen,
        ED25519_OID,
        false,
    );
    let e = TokenKey::open(&module, &uri("kinds", "p256"), &pin()).unwrap_err();
    assert_eq!(
        e,
        HsmError::WrongKeyType {
            token: "kinds".into(),
            object: "p256".into()
        }
    );
    one_line_without_pin(&e, &["kinds", "p256"]);
    let e = TokenKey::open(&module, &uri("kinds", "nosign"), &pin()).unwrap_err();
    assert_eq!(
        e,
        HsmError::CannotSign {
            token: "kinds".into(),
            object: "nosign".into()
        }
    );
    one_line_without_pin(&e, &["kinds", "nosign"]);
}

#[test]
fn an_extractable_key_is_refused_unless_the_operator_says_so() {
    let Some(module) = module() else { return };
    token(&module, "extract");
    let allow = KeyPolicy {
        allow_extractable: true,
    };
    let key = TokenKey::generate(&module, &uri("extract", "loose"), &pin(), allow).unwrap();
    assert!(key.attributes().unwrap().extractable);
    let e = TokenKey::open(&module, &uri("extract", "loose"), &pin()).unwrap_err();
    assert_eq!(
        e,
        HsmError::Extractable {
            token: "extract".into(),
            object: "loose".into()
        }
    );
    one_line_without_pin(&e, &["extract", "loose"]);
    TokenKey::open_with_policy(&module, &uri("extract", "loose"), &pin(), allow).unwrap();
}

#[test]
fn a_file_that_is_not_a_pkcs11_module_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("module.so");
    std::fs::write(&text, "not a library\n").unwrap();
    for path in [
        text,
        PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6"),
        dir.path().join("missing.so"),
    ] {
        let e = Pkcs11Module::load(&path).unwrap_err();
        assert_eq!(e, HsmError::NotAModule { path: path.clone() });
        one_line_without_pin(&e, &[&path.display().to_string()]);
    }
}

const BREACHED: &str = "northgate-print";
const SPARE: &str = "southbank-print";

fn roster(n: u32) -> Vec<registry::HolderRequest> {
    (0..n)
        .map(|i| registry::HolderRequest {
            kind: Kind::WarrantCard,
            holder: holder(i),
            vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
            validity: Validity::new(NOW.minus(60), NOW.plus(YEAR)).unwrap(),
        })
        .collect()
}

/// Logs this process out of the token, from under its keys' sessions: what a token
/// reset, a cleared login or an HSM fail-over does to a running job.
fn log_out(token_label: &str) {
    let ctx = raw();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == token_label)
        .unwrap();
    ctx.open_ro_session(slot).unwrap().logout().unwrap();
}

/// Each holder's active cards, and how many cards are replacements: nothing doubled
/// or lost, whatever point the job stopped at.
fn holders(reg: &registry::Registry<registry::SqliteStore>) -> (BTreeMap<String, usize>, usize) {
    let mut active = BTreeMap::new();
    let mut replacements = 0;
    for r in reg
        .store()
        .credentials(&registry::CredentialFilter::All)
        .unwrap()
    {
        if reg.effective_status(&r).unwrap() == Status::Valid && r.superseded_by.is_none() {
            *active.entry(r.pay_number.clone()).or_insert(0) += 1;
        }
        replacements += usize::from(r.supersedes.is_some());
    }
    (active, replacements)
}

/// The breach day with the signing key in one token and the root in another: the
/// registry is made under the token root, 300 cards are issued with the token key, a
/// supplier breach is declared, and the token fails after the first committed chunk of
/// the reissue. The job stops with one line naming the token and key, nothing
/// half-written; with the token back it resumes and finishes; doors accept exactly the
/// replacements. No key file is written.
#[test]
fn the_breach_day_with_both_keys_in_tokens_survives_the_token_failing_mid_reissue() {
    use registry::{Hooks, Incident};
    let Some(module) = module() else { return };
    token(&module, "office");
    token(&module, "vault");
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rng(21);
    let root_window = Validity::new(NOW.minus(YEAR), NOW.plus(20 * YEAR)).unwrap();
    let root_key =
        TokenKey::generate(&module, &uri("vault", "root"), &pin(), KeyPolicy::default()).unwrap();
    let root = RootKey::from_signer(issuer_id(), root_window, root_key).unwrap();
    assert_eq!(root.location(), "pkcs11:token=vault;object=root");
    let signing = uri("office", "signing-1");
    let token_key = TokenKey::generate(&module, &signing, &pin(), KeyPolicy::default()).unwrap();
    let key = IssuerKey::from_signer(issuer_id(), window(), token_key).unwrap();
    let set = first_key_set(&root, &[&key]);
    let mut reg = registry_at(&dir.path().join("r.sqlite"), &root, &set, &key);
    let issued = reg
        .issue_roster(
            &key,
            BREACHED,
            &roster(300),
            &mut fresh(&mut rng),
            NOW,
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap();
    assert!(issued.finished);
    let incident = Incident::Supplier {
        supplier: BREACHED.to_owned(),
    };
    let plan = reg.plan(&incident, NOW.plus(10)).unwrap();
    reg.declare(&plan, &key, SPARE, NOW.plus(10), NOW.plus(3600))
        .unwrap();

    let e = resume_losing_the_token(&mut reg, &key, &mut rng, || log_out("office"));
    one_line_without_pin(&e, &["office", "signing-1"]);
    let failure = e
        .sign_error()
        .expect("a signing failure")
        .hsm()
        .expect("the token's error");
    assert!(
        matches!(failure, HsmError::Token { function: "C_Sign", token, object, .. } if token == "office" && object == "signing-1"),
        "{failure:?}"
    );
    // Nothing half-written: the replacements are whole chunks, each active and its
    // holder's only active card (the others wait, their breached cards revoked by the
    // declaration), and the audit chain holds.
    let (active, replacements) = holders(&reg);
    assert_eq!(active.len(), replacements);
    assert!(active.values().all(|&n| n == 1), "{active:?}");
    assert!(
        replacements > 0 && replacements < 300 && replacements % 64 == 0,
        "{replacements}"
    );
    reg.verify_audit().unwrap();

    // The token is back (an operator logs in again): the job resumes where it stopped.
    let back = TokenKey::open(&module, &signing, &pin()).unwrap();
    let key = IssuerKey::from_signer(issuer_id(), window(), back).unwrap();
    let report = reg
        .resume(
            &key,
            &mut fresh(&mut rng),
            NOW.plus(30),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
    let (active, replacements) = holders(&reg);
    assert_eq!((active.len(), replacements), (300, 300));
    assert!(active.values().all(|&n| n == 1));
    reg.verify_audit().unwrap();

    // A door that trusts the token root accepts every replacement and no old card.
    let mut trust = TrustStore::new();
    trust.add_root(root.public().clone()).unwrap();
    let door = Verifier::new(trust, VerifyOptions::default());
    door.install_key_set(&set, NOW.plus(30)).unwrap();
    let latest = reg.latest_publication().unwrap().unwrap();
    door.install_list(&latest.list, NOW.plus(30)).unwrap();
    for r in reg
        .store()
        .credentials(&registry::CredentialFilter::All)
        .unwrap()
    {
        let verdict = door.verify(&r.bytes, NOW.plus(30));
        assert_eq!(verdict.is_ok(), r.supersedes.is_some(), "{verdict:?}");
    }

    // No key file anywhere: the registry's folder holds the registry alone.
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().all(|f| f.starts_with("r.sqlite")), "{files:?}");
}

/// Verify after sign, in the token key itself: a token whose public key under the
/// label is not the private key's pair (a mix-up, or a tampered token) is refused when
/// the key is opened, because the probe signature does not verify.
#[test]
fn a_public_key_that_is_not_the_private_keys_pair_is_refused() {
    let Some(module) = module() else { return };
    token(&module, "mixed");
    let _held =
        TokenKey::generate(&module, &uri("mixed", "good"), &pin(), KeyPolicy::default()).unwrap();
    let ed = || Mechanism::EccEdwardsKeyPairGen;
    raw_pair_labelled("mixed", "stray-a", "swapped", ed(), ED25519_OID, true);
    raw_pair_labelled("mixed", "swapped", "stray-b", ed(), ED25519_OID, true);
    let e = TokenKey::open(&module, &uri("mixed", "swapped"), &pin()).unwrap_err();
    assert_eq!(
        e,
        HsmError::KeyMismatch {
            token: "mixed".into(),
            object: "swapped".into()
        }
    );
    one_line_without_pin(&e, &["mixed", "swapped"]);
}

/// The folder SoftHSM keeps the token labelled `label` in (its `token.object` holds the
/// label in the clear).
fn token_folder(label: &str) -> PathBuf {
    let conf = std::fs::read_to_string(std::env::var_os("SOFTHSM2_CONF").unwrap()).unwrap();
    let tokens = conf
        .lines()
        .find_map(|l| l.strip_prefix("directories.tokendir = "))
        .unwrap()
        .trim()
        .to_owned();
    let mut padded = label.as_bytes().to_vec();
    padded.resize(32, b' ');
    std::fs::read_dir(tokens)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|dir| {
            std::fs::read(dir.join("token.object"))
                .is_ok_and(|bytes| bytes.windows(32).any(|w| w == padded.as_slice()))
        })
        .unwrap()
}

/// The registry a child process resumes (see
/// [`the_token_folder_removed_mid_reissue_stops_the_job_and_the_next_process_resumes_it`]).
const RESUME_DB: &str = "REVOCARD_TEST_RESUME_DB";

/// The token's folder removed in the middle of a reissue (a token pulled out, a disk
/// gone): SoftHSM answers `CKR_OBJECT_HANDLE_INVALID` and, even once the folder is
/// back, keeps the token invalid in that process, as a process holding a removed
/// token's handles would. The job stops with one line naming the token and key,
/// nothing half-written; the next process (the operator running the command again)
/// opens the token and finishes the job.
#[test]
fn the_token_folder_removed_mid_reissue_stops_the_job_and_the_next_process_resumes_it() {
    use registry::{Hooks, Incident, Registry, SqliteStore};
    let Some(module) = module() else { return };
    token(&module, "pulled");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite");
    let mut rng = rng(22);
    let root = RootKey::generate(
        issuer_id(),
        Validity::new(NOW.minus(YEAR), NOW.plus(20 * YEAR)).unwrap(),
        &mut rng,
    )
    .unwrap();
    let token_key = TokenKey::generate(
        &module,
        &uri("pulled", "signing"),
        &pin(),
        KeyPolicy::default(),
    )
    .unwrap();
    let key = IssuerKey::from_signer(issuer_id(), window(), token_key).unwrap();
    let set = first_key_set(&root, &[&key]);
    let mut reg = registry_at(&db, &root, &set, &key);
    reg.issue_roster(
        &key,
        BREACHED,
        &roster(200),
        &mut fresh(&mut rng),
        NOW,
        &mut rng,
        &mut Hooks::default(),
    )
    .unwrap();
    let incident = Incident::Supplier {
        supplier: BREACHED.to_owned(),
    };
    let plan = reg.plan(&incident, NOW.plus(10)).unwrap();
    reg.declare(&plan, &key, SPARE, NOW.plus(10), NOW.plus(3600))
        .unwrap();

    let folder = token_folder("pulled");
    let away = folder.with_extension("away");
    let e = resume_losing_the_token(&mut reg, &key, &mut rng, || {
        std::fs::rename(&folder, &away).unwrap();
    });
    one_line_without_pin(&e, &["pulled", "signing"]);
    let failure = e.sign_error().unwrap().hsm().unwrap();
    assert!(
        matches!(
            failure,
            HsmError::Token {
                function: "C_Sign",
                ..
            }
        ),
        "{failure:?}"
    );
    let (active, replacements) = holders(&reg);
    assert_eq!(active.len(), replacements);
    assert!(
        replacements > 0 && replacements < 200 && replacements % 64 == 0,
        "{replacements}"
    );
    reg.verify_audit().unwrap();
    drop(reg);

    // The token is back; the next process resumes the job.
    std::fs::rename(&away, &folder).unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "resume_in_a_new_process",
            "--ignored",
            "--nocapture",
        ])
        .env(RESUME_DB, &db)
        .output()
        .unwrap();
    assert!(
        child.status.success() && String::from_utf8_lossy(&child.stdout).contains("1 passed"),
        "{}\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let reg = Registry::open(SqliteStore::open(&db).unwrap()).unwrap();
    let (active, replacements) = holders(&reg);
    assert_eq!((active.len(), replacements), (200, 200));
    assert!(active.values().all(|&n| n == 1));
    reg.verify_audit().unwrap();
}

/// The second process of the test above: opens the token key and resumes the job on
/// the registry `REVOCARD_TEST_RESUME_DB` names. Does nothing without it.
#[test]
#[ignore = "run by the_token_folder_removed_mid_reissue_stops_the_job_and_the_next_process_resumes_it"]
fn resume_in_a_new_process() {
    use registry::{Hooks, Registry, SqliteStore};
    let Some(db) = std::env::var_os(RESUME_DB) else {
        return;
    };
    let module = module().unwrap();
    let token_key = TokenKey::open(&module, &uri("pulled", "signing"), &pin()).unwrap();
    let key = IssuerKey::from_signer(issuer_id(), window(), token_key).unwrap();
    let mut reg = Registry::open(SqliteStore::open(PathBuf::from(db)).unwrap())
        .unwrap()
        .with_chunk_size(64);
    let mut rng = rng(23);
    let report = reg
        .resume(
            &key,
            &mut fresh(&mut rng),
            NOW.plus(30),
            NOW.plus(3600),
            &mut rng,
            &mut Hooks::default(),
        )
        .unwrap()
        .unwrap();
    assert!(report.finished);
}

/// A registry in a SQLite file at `path`, created under `root` with the key set `set`,
/// committing in chunks of 64 (so a job has several chunks to stop between).
fn registry_at(
    path: &std::path::Path,
    root: &RootKey,
    set: &[u8],
    key: &IssuerKey,
) -> registry::Registry<registry::SqliteStore> {
    registry::Registry::create(
        registry::SqliteStore::open(path).unwrap(),
        root.public(),
        set,
        key,
        CAPACITY,
        NOW,
        NOW.plus(3600),
    )
    .unwrap()
    .with_chunk_size(64)
}

/// Resumes the open job, running `lose` once its first chunk has committed (the token
/// taken away in the middle of the job), and returns the error the job stopped with.
fn resume_losing_the_token(
    reg: &mut registry::Registry<registry::SqliteStore>,
    key: &IssuerKey,
    rng: &mut rand::rngs::StdRng,
    lose: impl FnOnce(),
) -> registry::RegistryError {
    let mut lose = Some(lose);
    let mut hooks = registry::Hooks {
        progress: Box::new(|_| {
            if let Some(lose) = lose.take() {
                lose();
            }
            std::ops::ControlFlow::Continue(())
        }),
        ..registry::Hooks::default()
    };
    reg.resume(
        key,
        &mut fresh(&mut *rng),
        NOW.plus(20),
        NOW.plus(3600),
        rng,
        &mut hooks,
    )
    .unwrap_err()
}
