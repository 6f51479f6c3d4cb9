//! The committed header is what cbindgen generates from the crate today: a change to
//! the ABI that forgot the header fails here (and so in CI).
//!
//! `REVOCARD_BLESS=1 cargo test -p revocard-ffi --test header` rewrites it.

use std::path::Path;

#[test]
fn the_committed_header_matches_a_fresh_generation() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen: {e}"))
        .write(&mut fresh);
    let path = crate_dir.join("include").join("revocard.h");
    if std::env::var_os("REVOCARD_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} differs from what cbindgen generates from ffi/src: run \
         `REVOCARD_BLESS=1 cargo test -p revocard-ffi --test header` and commit it",
        path.display()
    );
}
