//! Driving the `revocard` binary as an operator would.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One office: a temporary folder with the registry and keys in it.
pub struct Office {
    pub dir: tempfile::TempDir,
}

impl Office {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("registry.sqlite")
    }

    /// `revocard ARGS` with `REVOCARD_DB` set to this office's registry.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_revocard"))
            .args(args)
            .env("REVOCARD_DB", self.db())
            .env_remove("REVOCARD_KEYS")
            .env_remove("REVOCARD_LIST_LIFETIME")
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("running revocard: {e}"));
        Run { output }
    }

    /// `init` for issuer `metro-police`; panics unless it succeeds.
    pub fn init(&self) -> Run {
        self.run(&["init", "--issuer", "metro-police"]).ok()
    }

    /// Writes a roster of `n` holders to `staff.csv` and applies it; panics unless the
    /// sync succeeds.
    pub fn sync_roster(&self, n: usize) -> Run {
        let staff = self.write("staff.csv", &roster(n));
        self.run(&["roster", "sync", &staff.to_string_lossy(), "--apply"])
            .ok()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {name}: {e}"));
        p
    }
}

pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Panics unless the command exited 0.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code(),
            0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// Panics unless the command exited with `code`.
    pub fn exits(self, code: i32) -> Self {
        assert_eq!(
            self.code(),
            code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// The last stdout line as JSON.
    pub fn json(&self) -> serde_json::Value {
        let out = self.stdout();
        let line = out.lines().last().unwrap_or_default();
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }
}

pub const HEADER: &str = "pay_number,name,rank,unit,kind,vetting,photo_ref\n";

/// A roster of `n` holders, pay numbers from 1000000.
pub fn roster(n: usize) -> String {
    let mut s = String::from(HEADER);
    for i in 0..n {
        let (rank, kind, vetting) = match i % 4 {
            0 => ("Police Constable", "warrant-card", "RV"),
            1 => ("Sergeant", "warrant-card", "MV"),
            2 => ("Band C", "staff-pass", "RV+SC"),
            _ => ("Contractor", "staff-pass", "NPPV2"),
        };
        let _ = writeln!(
            s,
            "{},Holder {i},{rank},Response,{kind},{vetting},photos/{i}.jpg",
            1_000_000 + i
        );
    }
    s
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}
