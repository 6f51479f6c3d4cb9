//! Credential bytes: `UnverifiedCredential::from_bytes` and `Verifier::verify`.
//!
//! Beyond "no panic": an accepted encoding is canonical (re-encoding the decoded
//! claims gives back exactly the signed body), a decode error is exactly what the
//! verifier reports, and a verified credential carries exactly the decoded claims.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use revocard::door::*;
use revocard::issue::*;
use revocard::*;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let v = common::verifier();
        v.install_list(common::LIST_EMPTY, common::NOW).unwrap();
        v
    })
}

fuzz_target!(|data: &[u8]| {
    let decoded = UnverifiedCredential::from_bytes(data);
    let verified = verifier().verify(data, common::NOW);
    match &decoded {
        Ok(cred) => {
            assert!(data.len() <= MAX_CREDENTIAL_BYTES);
            assert_eq!(cred.unverified_claims().to_be_signed(), data[65..]);
            if let Ok(ok) = &verified {
                assert_eq!(ok.claims(), cred.unverified_claims());
            }
        }
        Err(e) => assert_eq!(verified, Err(Denial::Malformed(e.clone()))),
    }
});
