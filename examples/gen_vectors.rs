//! Writes the wire-format test vectors (`tests/vectors/*.json`) and the fuzz seed corpus
//! (`fuzz/corpus/<target>/<vector>`) from fixed inputs.
//!
//! `cargo run --example gen_vectors`
//!
//! The inputs and the building code live in `tests/vectors/cases.rs`, shared with
//! `tests/vectors.rs`, which fails if a committed vector no longer matches. Regenerate
//! only for an intended format change, and say so in the commit.

#[path = "../tests/vectors/cases.rs"]
mod cases;

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/vectors");
    // Remove vectors that no longer exist, so the directory is exactly the set built.
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path)?;
        }
    }
    for built in cases::all() {
        let path = root.join(cases::path_of(built.name));
        std::fs::write(&path, cases::file_text(&built.json))?;
        println!("wrote {}", path.display());
        for (target, bytes) in &built.seeds {
            let dir = root.join("fuzz/corpus").join(target);
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("seed-{}", built.name));
            std::fs::write(&path, bytes)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
