//! One signature with the key in a SoftHSM token (C_Sign, and the verify after sign the
//! library adds), beside the floor: a software Ed25519 signature and a bare
//! `verify_strict` of the same 320 bytes, in the same run.
//!
//! `bash scripts/with-softhsm cargo bench --features pkcs11 --bench hsm` (it makes its
//! own token in the throwaway folder).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use ed25519_dalek::{Signer, SigningKey, Verifier as _};
use rand::{SeedableRng, rngs::StdRng};
use revocard::*;
use std::hint::black_box;

const PIN: &str = "bench-pin";

fn token(path: &PathBuf, label: &str) {
    let ctx = Pkcs11::new(path).unwrap();
    let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    let free = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| !ctx.get_token_info(*s).unwrap().token_initialized())
        .unwrap();
    ctx.init_token(free, &AuthPin::new("so-pin".into()), label)
        .unwrap();
    let session = ctx.open_rw_session(free).unwrap();
    session
        .login(UserType::So, Some(&AuthPin::new("so-pin".into())))
        .unwrap();
    session.init_pin(&AuthPin::new(PIN.into())).unwrap();
    session.logout().unwrap();
}

fn bench(c: &mut Criterion) {
    let path = PathBuf::from(
        std::env::var_os("REVOCARD_PKCS11_MODULE").expect("run under scripts/with-softhsm"),
    );
    let module = Pkcs11Module::load(&path).unwrap();
    token(&path, "bench");
    let key = TokenKey::generate(
        &module,
        &Pkcs11Uri::for_key("bench", "signing"),
        &TokenPin::new(zeroize::Zeroizing::new(PIN.to_owned())),
        KeyPolicy::default(),
    )
    .unwrap();
    let software = SigningKey::generate(&mut StdRng::seed_from_u64(1));
    let message = [0x5au8; 320];
    let signature = software.sign(&message);
    let public = software.verifying_key();
    let mut group = c.benchmark_group("hsm");
    group.bench_function("software_sign", |b| {
        b.iter(|| software.sign(black_box(&message)))
    });
    group.bench_function("verify_strict", |b| {
        b.iter(|| public.verify_strict(black_box(&message), black_box(&signature)))
    });
    group.bench_function("token_sign_verified", |b| {
        b.iter(|| key.try_sign(black_box(&message)).unwrap())
    });
    group.finish();
    let _ = public.verify(&message, &signature);
}

criterion_group!(benches, bench);
criterion_main!(benches);
