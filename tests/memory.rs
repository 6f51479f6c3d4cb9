//! Resource bounds on hostile input, measured with a counting global allocator.
//!
//! A test binary of its own, because the allocator counts every allocation of the
//! process: the tests here take one lock so that they never overlap, and each measures
//! the peak of live heap bytes above what was live when its measurement started.
//!
//! The bound for a list, from ARCHITECTURE.md ("Status decoding allocates at most the
//! table (capacity / 4 bytes) and transient index sets (4 bytes an index, at most 8
//! indexes per input byte)"), made concrete:
//!
//! ```text
//! table        capacity / 4                  2 bits an index, in u64 words
//! index sets   4 * (indexes in all sets)     a Vec<u32> per set while decoding
//! input        len + domain + 1              the signed message is copied once to verify
//! scopes       entries * size_of ScopeEntry  at most MAX_SCOPE_ENTRIES
//! slack        64 KiB                        issuer id, snapshot vector, Arc, error values
//! ```
//!
//! For the largest list a verifier accepts (capacity `MAX_LIST_CAPACITY` = 2^22, every
//! index revoked or suspended so both sets are dense bitmaps, and `MAX_SCOPE_ENTRIES`
//! scopes) that is 1 MiB + 16 MiB + ~1 MiB + 1024 entries + 64 KiB. The sets of a valid
//! list are disjoint, so together they hold at most `capacity` indexes. A hostile list is
//! decoded before its signature is checked, and both of its sets are decoded before
//! they are found to overlap, so an unsigned list can cost `2 * 4 * capacity` (a delta,
//! with three sets, `3 * 4 * capacity`) transiently: measured below too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use revocard::format::*;
use revocard::issue::*;
use revocard::*;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Ordering::SeqCst) + by;
        PEAK.fetch_max(now, Ordering::SeqCst);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters only
// observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
            Self::grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests in this binary never overlap: the counters are process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result, the peak of live heap bytes above the start, and
/// the time it took.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    (out, PEAK.load(Ordering::SeqCst) - base, took)
}

const NOW: UnixTime = UnixTime(1_800_000_000);
const KIB: usize = 1024;
const SLACK: usize = 64 * KIB;

fn key() -> IssuerKey {
    IssuerKey::from_secret_bytes(
        IssuerId::new("memory-police").unwrap(),
        Validity::new(UnixTime(0), UnixTime(u64::MAX)).unwrap(),
        &[5; 32],
    )
    .unwrap()
}

fn verifier(key: &IssuerKey) -> Verifier {
    let mut trust = TrustStore::new();
    trust.add(key.public().clone()).unwrap();
    Verifier::new(trust, VerifyOptions::default())
}

/// A root for the issuer of `key`.
fn root_key(key: &IssuerKey) -> RootKey {
    RootKey::from_secret_bytes(
        key.issuer().clone(),
        Validity::new(UnixTime(0), UnixTime(u64::MAX)).unwrap(),
        &[6; 32],
    )
    .unwrap()
}

/// The first key set of `root`, certifying `key`.
fn key_set(root: &RootKey, key: &IssuerKey) -> Vec<u8> {
    let mut draft = KeySetDraft::first(root.public(), NOW);
    draft
        .certify(key.public(), KeyUsage::CredentialsAndLists)
        .unwrap();
    root.sign_key_set(&draft).unwrap()
}

fn u64_at(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_be_bytes());
}

/// Offset of the first length prefix (the issuer id) in a signed list or delta.
const BODY: usize = 1 + 64;

#[test]
fn absurd_length_prefixes_are_refused_without_allocating() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let key = key();
    let absurd = 1u64 << 40;

    // Credential: the pay number's length prefix follows version, signature, serial, kind.
    let holder = Holder::new("123", "N", "R", "U", PhotoDigest([0; 32])).unwrap();
    let cred = key
        .issue(
            CredentialRequest {
                kind: Kind::WarrantCard,
                holder,
                vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
                status_index: StatusIndex(1),
                print_batch: PrintBatchId(1),
                validity: Validity::new(NOW, NOW).unwrap(),
                card_key: None,
                supersedes: None,
            },
            NOW,
            &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1),
        )
        .unwrap();
    let mut bytes = cred.bytes().to_vec();
    let at = BODY + 16 + 1;
    assert_eq!(bytes[at..at + 8], 3u64.to_be_bytes());
    u64_at(&mut bytes, at, absurd);
    let (result, peak, took) = measure(|| UnverifiedCredential::from_bytes(&bytes).map(|_| ()));
    // A length prefix beyond the input is truncation, not an over-long input.
    assert_eq!(
        result,
        Err(DecodeError::Truncated {
            object: WireObject::Credential
        })
    );
    println!("credential, 2^40 length prefix: {result:?}, peak {peak} B, {took:?}");
    assert!(peak <= KIB, "peak {peak}");
    assert!(took < Duration::from_secs(1));

    // Trust anchor: the issuer id's length prefix follows the version byte.
    let mut anchor = key.public().to_bytes();
    u64_at(&mut anchor, 1, absurd);
    let (result, peak, took) = measure(|| IssuerPublicKey::from_bytes(&anchor).map(|_| ()));
    assert_eq!(
        result,
        Err(DecodeError::Truncated {
            object: WireObject::TrustAnchor
        })
    );
    println!("trust anchor, 2^40 length prefix: {result:?}, peak {peak} B, {took:?}");
    assert!(peak <= KIB, "peak {peak}");
    assert!(took < Duration::from_secs(1));

    // Root anchor: the issuer id's length prefix follows the version and kind bytes.
    let root = root_key(&key);
    let mut anchor = root.public().to_bytes();
    assert_eq!(anchor[..2], [ROOT_ANCHOR_FORMAT_VERSION, b'R']);
    u64_at(&mut anchor, 2, absurd);
    let (result, peak, took) = measure(|| RootPublicKey::from_bytes(&anchor).map(|_| ()));
    assert_eq!(
        result,
        Err(DecodeError::Truncated {
            object: WireObject::RootAnchor
        })
    );
    println!("root anchor, 2^40 length prefix: {result:?}, peak {peak} B, {took:?}");
    assert!(peak <= KIB, "peak {peak}");
    assert!(took < Duration::from_secs(1));

    // Key set: the issuer id's length prefix follows version and signature; the
    // entries' follows issuer, root key id, sequence and issue time. Refused when the
    // root checks it and when a door installs it.
    let set = key_set(&root, &key);
    let issuer_len = key.issuer().as_str().len();
    let door = Verifier::new(TrustStore::new(), VerifyOptions::default());
    door.add_root(root.public().clone()).unwrap();
    for (what, at) in [
        ("key set issuer", BODY),
        ("key set entries", BODY + 8 + issuer_len + 8 + 8 + 8),
    ] {
        let mut bytes = set.clone();
        assert!(
            u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap()) < 256,
            "{what}: not a length prefix"
        );
        u64_at(&mut bytes, at, absurd);
        let truncated = Err(KeySetError::Malformed(DecodeError::Truncated {
            object: WireObject::KeySet,
        }));
        let (result, peak, took) =
            measure(|| root.public().verify_key_set(&bytes, NOW, 0).map(|_| ()));
        println!("{what}, 2^40 length prefix (root): {result:?}, peak {peak} B, {took:?}");
        assert_eq!(result, truncated, "{what}");
        assert!(peak <= KIB, "{what}: peak {peak}");
        assert!(took < Duration::from_secs(1));
        let (result, peak, took) = measure(|| door.install_key_set(&bytes, NOW).map(|_| ()));
        println!("{what}, 2^40 length prefix (door): {result:?}, peak {peak} B, {took:?}");
        assert_eq!(result, truncated, "{what}");
        assert!(peak <= KIB, "{what}: peak {peak}");
        assert!(took < Duration::from_secs(1));
    }
    assert_eq!(door.trust().iter().count(), 0);

    // List and delta (format 3, varint lengths): the issuer id's length prefix, then
    // the revoked set's, each a one-byte varint replaced by the varint of 2^40.
    let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY).unwrap();
    list.publish(&key, NOW, NOW.plus(60)).unwrap();
    list.revoke(3, RevocationReason::Lost, NOW).unwrap();
    let p = list.publish(&key, NOW, NOW.plus(60)).unwrap();
    let times = leb128_len(NOW.0) + leb128_len(60) + leb128_len(u64::from(MIN_LIST_CAPACITY));
    // issuer str, key id, sequence (2), times and capacity, state, audit entries (0)
    // and hash, `present` (revoked only), then the revoked set's length.
    let list_revoked = BODY + 1 + issuer_len + 8 + 1 + times + 32 + 1 + 32 + 1;
    // from sequence (1), span (1), times and capacity, base hint, `present`.
    let delta_revoked = BODY + 1 + issuer_len + 8 + 1 + 1 + times + 4 + 1;
    let v = verifier(&key);
    v.install_list(&first_list(&key), NOW).unwrap();
    for (what, original, at) in [
        ("list issuer", &p.list, BODY),
        ("list revoked set", &p.list, list_revoked),
        ("delta issuer", p.delta.as_ref().unwrap(), BODY),
        (
            "delta revoked set",
            p.delta.as_ref().unwrap(),
            delta_revoked,
        ),
    ] {
        assert!(
            bytes_is_len_prefix(original, at),
            "{what}: not a length prefix"
        );
        let mut bytes = original[..at].to_vec();
        leb128(&mut bytes, absurd);
        bytes.extend_from_slice(&original[at + 1..]);
        let (result, peak, took) = measure(|| {
            if what.starts_with("list") {
                v.install_list(&bytes, NOW)
            } else {
                v.apply_delta(&bytes, NOW)
            }
        });
        println!("{what}, 2^40 length prefix: {result:?}, peak {peak} B, {took:?}");
        assert!(
            matches!(
                result,
                Err(ListError::Malformed(DecodeError::Truncated { .. }))
            ),
            "{what}: {result:?}"
        );
        assert!(peak <= KIB, "{what}: peak {peak}");
        assert!(took < Duration::from_secs(1));
    }
}

/// Whether the byte at `at` is a one-byte varint small enough to be the length of
/// the field that follows it.
fn bytes_is_len_prefix(bytes: &[u8], at: usize) -> bool {
    let len = usize::from(bytes[at]);
    len < 0x80 && len > 0 && at + 1 + len <= bytes.len()
}

/// The first list of `key`'s issuer, as the one `absurd_length_prefixes...` builds on.
fn first_list(key: &IssuerKey) -> Vec<u8> {
    let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY).unwrap();
    list.publish(key, NOW, NOW.plus(60)).unwrap().list
}

/// Appends `value` as an unsigned LEB128 varint (the format-3 header integers).
fn leb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn leb128_len(value: u64) -> usize {
    let mut out = Vec::new();
    leb128(&mut out, value);
    out.len()
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let key = key();
    let v = verifier(&key);
    let list = vec![FORMAT_VERSION; MAX_LIST_BYTES + 1];
    let (result, peak, _) = measure(|| v.install_list(&list, NOW));
    assert_eq!(
        result,
        Err(ListError::Malformed(DecodeError::TooLarge {
            object: WireObject::RevocationList,
            len: MAX_LIST_BYTES + 1,
            max: MAX_LIST_BYTES
        }))
    );
    assert!(peak <= KIB, "list: peak {peak}");

    let delta = vec![FORMAT_VERSION; MAX_DELTA_BYTES + 1];
    let (result, peak, _) = measure(|| v.apply_delta(&delta, NOW));
    assert_eq!(
        result,
        Err(ListError::Malformed(DecodeError::TooLarge {
            object: WireObject::Delta,
            len: MAX_DELTA_BYTES + 1,
            max: MAX_DELTA_BYTES
        }))
    );
    assert!(peak <= KIB, "delta: peak {peak}");

    let cred = vec![FORMAT_VERSION; MAX_CREDENTIAL_BYTES + 1];
    let (result, peak, _) = measure(|| v.verify(&cred, NOW).map(|_| ()));
    assert!(matches!(
        result,
        Err(Denial::Malformed(DecodeError::TooLarge { .. }))
    ));
    assert!(peak <= KIB, "credential: peak {peak}");

    let text = "A".repeat(MAX_CREDENTIAL_TEXT_LEN + 1);
    let (result, peak, _) = measure(|| credential_bytes_from_text(&text));
    assert!(matches!(result, Err(DecodeError::TooLarge { .. })));
    assert!(peak <= KIB, "text: peak {peak}");

    let anchor = vec![FORMAT_VERSION; MAX_TRUST_ANCHOR_BYTES + 1];
    let (result, peak, _) = measure(|| IssuerPublicKey::from_bytes(&anchor).map(|_| ()));
    assert!(matches!(result, Err(DecodeError::TooLarge { .. })));
    assert!(peak <= KIB, "anchor: peak {peak}");

    // A root anchor and a key set: refused on their length, before the version byte
    // (which is right here) or anything behind it is read.
    let root_anchor = vec![ROOT_ANCHOR_FORMAT_VERSION; MAX_ROOT_ANCHOR_BYTES + 1];
    let (result, peak, _) = measure(|| RootPublicKey::from_bytes(&root_anchor).map(|_| ()));
    assert_eq!(
        result,
        Err(DecodeError::TooLarge {
            object: WireObject::RootAnchor,
            len: MAX_ROOT_ANCHOR_BYTES + 1,
            max: MAX_ROOT_ANCHOR_BYTES
        })
    );
    assert!(peak <= KIB, "root anchor: peak {peak}");

    let root = root_key(&key);
    let door = Verifier::new(TrustStore::new(), VerifyOptions::default());
    door.add_root(root.public().clone()).unwrap();
    let set = vec![KEY_SET_FORMAT_VERSION; MAX_KEY_SET_BYTES + 1];
    let too_large = Err(KeySetError::Malformed(DecodeError::TooLarge {
        object: WireObject::KeySet,
        len: MAX_KEY_SET_BYTES + 1,
        max: MAX_KEY_SET_BYTES,
    }));
    let (result, peak, _) = measure(|| root.public().verify_key_set(&set, NOW, 0).map(|_| ()));
    assert_eq!(result, too_large);
    assert!(peak <= KIB, "key set (root): peak {peak}");
    let (result, peak, _) = measure(|| door.install_key_set(&set, NOW).map(|_| ()));
    assert_eq!(result, too_large);
    assert!(peak <= KIB, "key set (door): peak {peak}");
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn all_scopes() -> Vec<ScopeEntry> {
    (0..MAX_SCOPE_ENTRIES)
        .map(|b| ScopeEntry {
            scope: Scope::PrintBatch(PrintBatchId(u32::try_from(b).unwrap())),
            reason: RevocationReason::SupplierBreach,
            since: NOW,
        })
        .collect()
}

/// The stated bound for decoding (and holding) a list or applying a delta.
fn bound(capacity: u32, indexes: usize, input: usize, scopes: usize) -> usize {
    capacity as usize / 4
        + 4 * indexes
        + input
        + LIST_DOMAIN.len()
        + 1
        + scopes * size_of::<ScopeEntry>()
        + SLACK
}

#[test]
fn the_largest_list_installs_within_the_stated_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let key = key();
    let capacity = MAX_LIST_CAPACITY;
    // Every index revoked or suspended, at random: two dense bitmaps.
    let statuses = (0..capacity).map(|i| {
        let status = if splitmix64(u64::from(i)).is_multiple_of(2) {
            Status::Revoked
        } else {
            Status::Suspended
        };
        (i, status, None)
    });
    let mut list = IssuerStatusList::restore(
        key.issuer().clone(),
        capacity,
        0,
        [0; 32],
        statuses,
        all_scopes(),
    )
    .unwrap();
    let p = list.publish(&key, NOW, NOW.plus(60)).unwrap();
    assert!(p.list.len() <= MAX_LIST_BYTES);
    let v = verifier(&key);
    let (result, peak, took) = measure(|| v.install_list(&p.list, NOW));
    assert_eq!(result, Ok(ListUpdate::Installed { sequence: 1 }));
    let bound = bound(capacity, capacity as usize, p.list.len(), MAX_SCOPE_ENTRIES);
    println!(
        "largest list: {} input bytes, capacity {capacity}, {MAX_SCOPE_ENTRIES} scopes: \
         peak {peak} B (bound {bound} B), {took:?}",
        p.list.len()
    );
    assert!(peak <= bound, "peak {peak} > bound {bound}");
    // The measurement sees the decoded sets: the bound is not vacuous.
    assert!(peak >= 4 * capacity as usize, "peak {peak}");
}

#[test]
fn the_largest_delta_applies_within_the_stated_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let key = key();
    let capacity = MAX_LIST_CAPACITY;
    let mut list = IssuerStatusList::new(key.issuer().clone(), capacity).unwrap();
    let first = list.publish(&key, NOW, NOW.plus(60)).unwrap();
    for i in 0..capacity {
        list.suspend(i).unwrap();
    }
    for e in all_scopes() {
        list.revoke_scope(e).unwrap();
    }
    let p = list.publish(&key, NOW, NOW.plus(60)).unwrap();
    let delta = p.delta.unwrap();
    let v = verifier(&key);
    v.install_list(&first.list, NOW).unwrap();
    let (result, peak, took) = measure(|| v.apply_delta(&delta, NOW));
    assert_eq!(result, Ok(ListUpdate::Advanced { from: 1, to: 2 }));
    let bound = bound(capacity, capacity as usize, delta.len(), MAX_SCOPE_ENTRIES);
    println!(
        "largest delta: {} input bytes, every index suspended, {MAX_SCOPE_ENTRIES} scopes: \
         peak {peak} B (bound {bound} B), {took:?}",
        delta.len()
    );
    assert!(peak <= bound, "peak {peak} > bound {bound}");
    assert!(peak >= 4 * capacity as usize, "peak {peak}");
}

/// Writes `varint length || bytes`.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    leb128(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A list (2 sets) or delta (3 sets) whose sets are all "every index" (bitmaps of
/// ones), signed by `signer` if given (a delta over a zero base state), else unsigned
/// (zero key id and signature).
fn overlapping(sets: usize, capacity: u32, signer: Option<&IssuerKey>) -> Vec<u8> {
    hand_built(sets, capacity, signer, true)
}

/// As [`overlapping`], with every set full or (`full == false`) every set absent.
fn hand_built(sets: usize, capacity: u32, signer: Option<&IssuerKey>, full: bool) -> Vec<u8> {
    let mut out = vec![LIST_FORMAT_VERSION];
    out.extend_from_slice(&[0; 64]);
    field(&mut out, b"memory-police");
    out.extend_from_slice(&signer.map_or([0; 8], |k| k.key_id().0)); // key id
    leb128(&mut out, 1); // sequence (from sequence for a delta)
    if sets == 3 {
        leb128(&mut out, 1); // to sequence - from sequence
    }
    leb128(&mut out, NOW.0); // issued at
    leb128(&mut out, 0); // next update - issued at
    leb128(&mut out, u64::from(capacity));
    if sets == 2 {
        out.extend_from_slice(&[0; 32]); // state
        leb128(&mut out, 0); // audit entries
        out.extend_from_slice(&[0; 32]); // audit hash
        out.push(if full { 0b0110 } else { 0 }); // present: revoked, suspended
    } else {
        out.extend_from_slice(&[0; 4]); // base hint
        out.push(if full { 0b1110 } else { 0 }); // present: revoked, suspended, reinstated
    }
    let mut set = vec![0x03];
    set.resize(1 + capacity as usize / 8, 0xff);
    for _ in 0..if full { sets } else { 0 } {
        field(&mut out, &set);
    }
    if let Some(key) = signer {
        use ed25519_dalek::Signer;
        let signing = ed25519_dalek::SigningKey::from_bytes(&key.to_secret_bytes().unwrap());
        let mut message = if sets == 3 { DELTA_DOMAIN } else { LIST_DOMAIN }.to_vec();
        message.push(LIST_FORMAT_VERSION);
        if sets == 3 {
            message.extend_from_slice(&[0; 32]); // the base state, signed, not sent
        }
        message.extend_from_slice(&out[65..]);
        out[1..65].copy_from_slice(&signing.sign(&message).to_bytes());
    }
    out
}

#[test]
fn unsigned_sets_are_never_decoded_and_signed_overlaps_stay_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let key = key();
    let v = verifier(&key);
    let capacity = MAX_LIST_CAPACITY;
    let cap = capacity as usize;

    // Unsigned: refused on its key before any status set is decoded.
    for sets in [2, 3] {
        let bytes = overlapping(sets, capacity, None);
        assert!(bytes.len() <= MAX_DELTA_BYTES);
        let (result, peak, took) = measure(|| {
            if sets == 2 {
                v.install_list(&bytes, NOW)
            } else {
                v.apply_delta(&bytes, NOW)
            }
        });
        assert!(
            matches!(result, Err(ListError::Untrusted(Denial::UnknownKey { .. }))),
            "{result:?}"
        );
        println!(
            "unsigned, {sets} full sets of {} input bytes: peak {peak} B, {took:?}",
            bytes.len()
        );
        assert!(
            peak <= SLACK,
            "peak {peak}: sets were decoded before the signature check"
        );
    }

    // Signed by the trusted key (a compromised or buggy issuer): decoded, then refused
    // for the overlap, within 4 bytes an index per set.
    let list = overlapping(2, capacity, Some(&key));
    let (result, peak, took) = measure(|| v.install_list(&list, NOW));
    assert!(
        matches!(
            result,
            Err(ListError::Malformed(DecodeError::OverlappingSets {
                index: 0,
                ..
            }))
        ),
        "{result:?}"
    );
    println!(
        "signed list, two full sets: peak {peak} B (bound {} B), {took:?}",
        8 * cap + SLACK
    );
    assert!(peak <= 8 * cap + SLACK, "peak {peak}");
    assert!(v.list(key.issuer()).is_none());
    // A delta's signature covers the state of the list it applies to: hold one (a
    // hand-built list in the zero state) so that the delta reaches its sets.
    let base = hand_built(2, capacity, Some(&key), false);
    v.install_list(&base, NOW).unwrap();
    let delta = overlapping(3, capacity, Some(&key));
    let (result, peak, took) = measure(|| v.apply_delta(&delta, NOW));
    assert!(
        matches!(
            result,
            Err(ListError::Malformed(DecodeError::OverlappingSets {
                index: 0,
                ..
            }))
        ),
        "{result:?}"
    );
    println!(
        "signed delta, three full sets: peak {peak} B (bound {} B), {took:?}",
        12 * cap + SLACK
    );
    assert!(peak <= 12 * cap + SLACK, "peak {peak}");
    assert_eq!(
        v.list(key.issuer()).unwrap().sequence(),
        1,
        "the base list is kept"
    );
}
