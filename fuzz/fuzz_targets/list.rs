//! Revocation lists: `Verifier::install_list` on a verifier trusting the vector
//! issuer key. The input is re-signed with that key first (`common::resign`): the
//! verifier checks the signature before it decodes the status sets, so only signed
//! bytes reach the set decoders. (`sequence` covers bad signatures.)
//!
//! A list that installs, installs again as `Unchanged`, and holds the state digest and
//! audit head its bytes name; a refused list leaves no list.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use revocard::door::*;
use revocard::issue::*;
use revocard::format::*;
use revocard::*;

fuzz_target!(|data: &[u8]| {
    let signed = common::resign(LIST_DOMAIN, data);
    let data = signed.as_slice();
    let verifier = common::verifier();
    let issuer = IssuerId::new("vector-police").unwrap();
    match verifier.install_list(data, common::NOW) {
        Ok(update) => {
            let held = verifier.list(&issuer).unwrap();
            assert_eq!(
                update,
                ListUpdate::Installed {
                    sequence: held.sequence()
                }
            );
            assert!(held.scopes().len() <= MAX_SCOPE_ENTRIES);
            assert!((MIN_LIST_CAPACITY..=MAX_LIST_CAPACITY).contains(&held.capacity()));
            let (state, audit) = list_state_digest(data).expect("an installed list decodes");
            assert_eq!(held.state_digest(), state);
            assert_eq!(held.audit_head(), Some(audit));
            assert_eq!(
                verifier.install_list(data, common::NOW),
                Ok(ListUpdate::Unchanged {
                    sequence: held.sequence()
                })
            );
        }
        Err(_) => assert!(verifier.list(&issuer).is_none()),
    }
});
