//! What the tool prints: a short summary for people, or one JSON document with
//! `--json`. Output to a closed pipe (`revocard ... | head`) ends the program quietly.

use std::io::Write as _;

use crate::error::EXIT_OK;

/// Prints one line to stdout; a closed pipe ends the program with success (the reader
/// has what it wanted), any other write error with failure.
pub fn line(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{}", text.as_ref()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_OK);
        }
        eprintln!("revocard: writing to stdout: {e}");
        std::process::exit(crate::error::EXIT_FAILED);
    }
}

/// Prints `value` as one JSON document on one line.
pub fn json(value: &serde_json::Value) {
    line(value.to_string());
}

/// Either the human lines or the JSON document, as asked.
pub struct Report {
    pub json: bool,
}

impl Report {
    /// Prints `human` (several lines) or `doc`.
    pub fn print(&self, human: &[String], doc: serde_json::Value) {
        if self.json {
            json(&doc);
        } else {
            for l in human {
                line(l);
            }
        }
    }
}
