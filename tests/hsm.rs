//! Keys in a hardware security module, against real SoftHSM tokens (feature `pkcs11`).
//! Run under `scripts/with-softhsm` (which `scripts/test` does): it exports
//! `SOFTHSM2_CONF` (a throwaway token folder) and `REVOCARD_PKCS11_MODULE`. Each test
//! makes its own token, with its own label. Under CI (`CI` set, or
//! `REVOCARD_REQUIRE_SOFTHSM=1`) a missing module fails every test here.
#![cfg(feature = "pkcs11")]

mod common;

use std::path::PathBuf;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

use common::*;
use ed25519_dalek::Verifier as _;
use revocard::issue::*;
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
