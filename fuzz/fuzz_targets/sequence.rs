//! A verifier fed a random sequence of lists and deltas: honest ones pre-signed from a
//! fixed seed (one issuer history of `STEPS` publications), the same with a mutation,
//! or random bytes offered as a list or a delta.
//!
//! Checked after every operation, against a model of what the verifier must do:
//! - an honest list or delta gets exactly the answer the sequence rules give
//!   (installed, advanced, unchanged, rollback, gap, no base list);
//! - anything else is refused and changes nothing;
//! - the held sequence never decreases, the held list is always exactly the issuer's
//!   list at that sequence, and no revoked index is ever valid again.
#![no_main]

mod common;

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rand::{RngExt, SeedableRng, rngs::StdRng};
use revocard::door::*;
use revocard::issue::*;
use revocard::*;

const STEPS: usize = 10;
const AT: UnixTime = UnixTime(common::NOW.0 + 100);

struct History {
    /// `lists[s - 1]` is the signed list at sequence `s`.
    lists: Vec<Vec<u8>>,
    /// `deltas[s - 2]` is the signed delta from `s - 1` to `s`.
    deltas: Vec<Vec<u8>>,
    /// `expected[s - 1]` is what a verifier holds at sequence `s`.
    expected: Vec<RevocationList>,
}

fn history() -> &'static History {
    static H: OnceLock<History> = OnceLock::new();
    H.get_or_init(|| {
        let key = common::issuer_key();
        let mut rng = StdRng::seed_from_u64(0x5e9_0e9ce);
        let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY).unwrap();
        let (mut lists, mut deltas, mut expected) = (Vec::new(), Vec::new(), Vec::new());
        for step in 0..STEPS as u64 {
            for _ in 0..rng.random_range(0..12) {
                // Mostly a small range so that changes collide, sometimes anywhere.
                let index = if rng.random_bool(0.8) {
                    rng.random_range(0..48)
                } else {
                    rng.random_range(0..MIN_LIST_CAPACITY)
                };
                let _ = match rng.random_range(0..4) {
                    0 => list.revoke(index, RevocationReason::Lost, common::NOW),
                    1 | 2 => list.suspend(index),
                    _ => list.reinstate(index),
                };
            }
            if rng.random_bool(0.3) {
                list.revoke_scope(ScopeEntry {
                    scope: Scope::PrintBatch(PrintBatchId(rng.random_range(0..8))),
                    reason: RevocationReason::SupplierBreach,
                    since: common::NOW,
                })
                .unwrap();
            }
            let now = UnixTime(common::NOW.0 + step);
            let p = list.publish(&key, now, now.plus(3600)).unwrap();
            let v = common::verifier();
            v.install_list(&p.list, AT).unwrap();
            expected.push(RevocationList::clone(&v.list(key.issuer()).unwrap()));
            lists.push(p.list);
            deltas.extend(p.delta);
        }
        History {
            lists,
            deltas,
            expected,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    Xor { at: u16, value: u8 },
    Insert { at: u16, value: u8 },
    Delete { at: u16 },
    Truncate { len: u16 },
    Extend { bytes: Vec<u8> },
}

impl Mutation {
    fn apply(&self, original: &[u8]) -> Vec<u8> {
        let mut out = original.to_vec();
        let pos = |at: u16, len: usize| usize::from(at) % len.max(1);
        match self {
            Self::Xor { at, value } => {
                let i = pos(*at, out.len());
                out[i] ^= value;
            }
            Self::Insert { at, value } => out.insert(pos(*at, out.len() + 1), *value),
            Self::Delete { at } => {
                out.remove(pos(*at, out.len()));
            }
            Self::Truncate { len } => out.truncate(usize::from(*len) % out.len()),
            Self::Extend { bytes } => out.extend_from_slice(bytes),
        }
        out
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    List {
        which: u8,
        mutation: Option<Mutation>,
    },
    Delta {
        which: u8,
        mutation: Option<Mutation>,
    },
    RawList(Vec<u8>),
    RawDelta(Vec<u8>),
}

fuzz_target!(|ops: Vec<Op>| {
    let h = history();
    let verifier = common::verifier();
    let issuer = IssuerId::new("vector-police").unwrap();
    let mut held: Option<u64> = None;
    for op in ops.iter().take(64) {
        let before = verifier.list(&issuer);
        // What an honest, unmutated object must get, or None for "refused, no change".
        let (result, expected) = match op {
            Op::List { which, mutation } => {
                let s = usize::from(*which) % h.lists.len() + 1;
                let seq = s as u64;
                let original = &h.lists[s - 1];
                let bytes = mutation
                    .as_ref()
                    .map_or_else(|| original.clone(), |m| m.apply(original));
                let expected = (bytes == *original).then_some(match held {
                    None => Ok(ListUpdate::Installed { sequence: seq }),
                    Some(h) if seq > h => Ok(ListUpdate::Advanced { from: h, to: seq }),
                    Some(h) if seq == h => Ok(ListUpdate::Unchanged { sequence: seq }),
                    Some(h) => Err(ListError::Rollback {
                        held: h,
                        offered: seq,
                    }),
                });
                (verifier.install_list(&bytes, AT), expected)
            }
            Op::Delta { which, mutation } => {
                let d = usize::from(*which) % h.deltas.len();
                let (from, to) = (d as u64 + 1, d as u64 + 2);
                let original = &h.deltas[d];
                let bytes = mutation
                    .as_ref()
                    .map_or_else(|| original.clone(), |m| m.apply(original));
                let expected = (bytes == *original).then(|| match held {
                    None => Err(ListError::NoBaseList {
                        issuer: issuer.clone(),
                    }),
                    Some(h) if h == from => Ok(ListUpdate::Advanced { from, to }),
                    Some(h) if h > from => Err(ListError::Rollback {
                        held: h,
                        offered: to,
                    }),
                    Some(h) => Err(ListError::Gap { held: h, from }),
                });
                (verifier.apply_delta(&bytes, AT), expected)
            }
            Op::RawList(bytes) => {
                let result = verifier.install_list(bytes, AT);
                let known = h.lists.contains(bytes);
                assert!(result.is_err() || known, "random bytes installed as a list");
                (result, None)
            }
            Op::RawDelta(bytes) => {
                let result = verifier.apply_delta(bytes, AT);
                let known = h.deltas.contains(bytes);
                assert!(result.is_err() || known, "random bytes applied as a delta");
                (result, None)
            }
        };
        let after = verifier.list(&issuer);
        match expected {
            Some(expected) => assert_eq!(result, expected, "{op:?} while holding {held:?}"),
            None if result.is_err() => {
                assert_eq!(
                    after.as_deref(),
                    before.as_deref(),
                    "a refused {op:?} changed the list"
                );
            }
            None => {}
        }
        let now_held = after.as_ref().map(|l| l.sequence());
        assert!(
            now_held >= held,
            "sequence went back from {held:?} to {now_held:?}"
        );
        if let Some(list) = &after {
            let s = usize::try_from(list.sequence()).unwrap();
            assert_eq!(
                **list,
                h.expected[s - 1],
                "held list differs from the issuer's at {s}"
            );
            if let Some(prev) = &before {
                for i in 0..64 {
                    if prev.status_at(i) == Some(Status::Revoked) {
                        assert_eq!(
                            list.status_at(i),
                            Some(Status::Revoked),
                            "index {i} un-revoked"
                        );
                    }
                }
            }
        }
        held = now_held;
    }
});
