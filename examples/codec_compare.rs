//! Compares the size of the status-index codec (`src/wire/codec.rs`) with
//! a roaring bitmap, DEFLATE of the raw bitmap and the entropy bound, on
//! seeded random sets, and times decoding.
//!
//! Run with `cargo run --release --example codec_compare`. Prints a
//! markdown table.

extern crate alloc;

// The codec is crate-private, so this example compiles its source directly.
// Not every item is used here.
#[allow(dead_code)]
#[path = "../src/wire/codec.rs"]
mod status_codec;

use std::hint::black_box;
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng, rngs::StdRng};
use roaring::RoaringBitmap;
use status_codec::{decode_index_set, encode_index_set};

/// A uniformly random subset of exactly `count` indexes of `0..universe`
/// (selection sampling, Knuth's Algorithm S).
fn random_set(rng: &mut StdRng, universe: u32, count: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(count as usize);
    let mut needed = count;
    for index in 0..universe {
        if needed > 0 && rng.random_range(0..universe - index) < needed {
            out.push(index);
            needed -= 1;
        }
    }
    out
}

/// The raw bitmap, index `i` at bit `7 - i % 8` of byte `i / 8`.
fn raw_bitmap(set: &[u32], universe: u32) -> Vec<u8> {
    let mut bitmap = vec![0u8; universe.div_ceil(8) as usize];
    for &index in set {
        bitmap[(index / 8) as usize] |= 0x80 >> (index % 8);
    }
    bitmap
}

/// `n * H(p) / 8` bytes for `m` of `n` indexes.
fn entropy_bound_bytes(n: u32, m: u32) -> f64 {
    let p = f64::from(m) / f64::from(n);
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    let h = -p * p.log2() - (1.0 - p) * (1.0 - p).log2();
    f64::from(n) * h / 8.0
}

fn mode_name(bytes: &[u8]) -> &'static str {
    match bytes.first() {
        Some(0) => "empty",
        Some(1) => "Rice",
        Some(2) => "Golomb",
        Some(3) => "bitmap",
        _ => "?",
    }
}

/// Median wall time of one decode, over enough repetitions to be stable.
fn time_decode(bytes: &[u8], universe: u32) -> Duration {
    let mut samples = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(300);
    while samples.len() < 21 || (Instant::now() < deadline && samples.len() < 2001) {
        let start = Instant::now();
        let set = decode_index_set(black_box(bytes), universe);
        black_box(&set);
        samples.push(start.elapsed());
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0x00c0_dec0);
    println!(
        "| indexes | revoked | count | this codec (mode) | per 100k indexes | roaring | DEFLATE(bitmap) | raw bitmap | entropy n*H(p)/8 | decode (median) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for universe in [100_000u32, 1_000_000] {
        for percent in [1u32, 36] {
            let count = universe / 100 * percent;
            let set = random_set(&mut rng, universe, count);

            let encoded = encode_index_set(&set, universe);
            let decoded = decode_index_set(&encoded, universe).expect("round trip");
            assert_eq!(decoded, set, "round trip failed");

            let mut roaring =
                RoaringBitmap::from_sorted_iter(set.iter().copied()).expect("sorted input");
            roaring.optimize();
            let roaring_size = roaring.serialized_size();

            let bitmap = raw_bitmap(&set, universe);
            let deflate_size = miniz_oxide::deflate::compress_to_vec(&bitmap, 10).len();

            let per_100k = encoded.len() as f64 * 100_000.0 / f64::from(universe);
            let decode = time_decode(&encoded, universe);
            println!(
                "| {universe} | {percent}% | {count} | {} ({}) | {per_100k:.0} | {roaring_size} | {deflate_size} | {} | {:.0} | {:.1} µs |",
                encoded.len(),
                mode_name(&encoded),
                bitmap.len(),
                entropy_bound_bytes(universe, count),
                decode.as_secs_f64() * 1e6,
            );
        }
    }
    println!();
    println!(
        "Sizes in bytes. DEFLATE is miniz_oxide level 10 (best) over the raw bitmap; \
         roaring is serialized after run optimisation."
    );
}
