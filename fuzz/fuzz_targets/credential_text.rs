//! The text form of a credential (QR code): `credential_bytes_from_text`, then the
//! verifier on whatever bytes it yields.
//!
//! An accepted text is canonical: re-encoding the bytes gives back the trimmed text.
#![no_main]

mod common;

use std::sync::OnceLock;

use base64::Engine as _;
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
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match credential_bytes_from_text(text) {
        Ok(bytes) => {
            assert!(text.len() <= MAX_CREDENTIAL_TEXT_LEN);
            assert_eq!(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
                text.trim()
            );
            let _ = verifier().verify(&bytes, common::NOW);
        }
        Err(DecodeError::TooLarge { len, .. }) => {
            assert!(len > MAX_CREDENTIAL_TEXT_LEN);
        }
        Err(e) => assert_eq!(e, DecodeError::NotBase64),
    }
});
