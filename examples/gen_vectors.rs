//! Writes the wire-format test vectors (`tests/vectors/*.json`) and the fuzz seed corpus
//! (`fuzz/corpus/<target>/<vector>`) from fixed inputs.
//!
//! ```text
//! cargo run --example gen_vectors -- --write           # regenerate them in this checkout
//! cargo run --example gen_vectors -- --out /tmp/vectors # write them elsewhere, to compare
//! ```
//!
//! It writes nothing without one of the two. The inputs and the building code live in
//! `tests/vectors/cases.rs`, shared with `tests/vectors.rs`, which fails if a committed
//! vector no longer matches. Regenerate only for an intended format change, and say so
//! in the commit.

#[path = "../tests/vectors/cases.rs"]
mod cases;

use std::path::{Path, PathBuf};

use clap::Parser;

/// Regenerates the committed wire-format vectors and fuzz seeds.
#[derive(Parser, Debug)]
#[command(
    name = "gen_vectors",
    about = "Regenerate the wire-format test vectors (tests/vectors/*.json) and the fuzz seed corpus (fuzz/corpus/)",
    after_help = "For an intended format change, in this checkout:\n  cargo run --example gen_vectors -- --write\nthen review `git diff tests/vectors fuzz/corpus` and say why in the commit."
)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["write", "out"])))]
struct Args {
    /// Rewrite tests/vectors/*.json and fuzz/corpus/ in this checkout (removing vectors
    /// no longer built)
    #[arg(long)]
    write: bool,
    /// Write the same layout (tests/vectors/, fuzz/corpus/) under DIR instead, leaving
    /// the checkout alone
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let root = match args.out {
        Some(dir) => dir,
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    if let Err(e) = write(&root) {
        eprintln!("gen_vectors: writing under {}: {e}", root.display());
        std::process::exit(1);
    }
}

fn write(root: &Path) -> std::io::Result<()> {
    let dir = root.join("tests/vectors");
    std::fs::create_dir_all(&dir)?;
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
