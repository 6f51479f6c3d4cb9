//! What went wrong, sorted by whose fault it is: the exit code says it, and under
//! `--json` a stable `error` code says which kind.
//!
//! The exit codes, the one table (main.rs's help and README's "Operate it" repeat it):
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | done |
//! | 1 | refused: the input was wrong (a bad roster, an unknown serial, a key of another issuer, a card a door denies...); nothing was written. Fix the input and run again |
//! | 2 | failed: the environment was wrong (no registry or not a registry at `--db`, a file that cannot be read or written, a database that cannot be reached), or the command line does not parse. Fix it and run again |
//! | 3 | interrupted, resumable: the command stopped part-way (Ctrl-C after the chunk in flight, a lost database connection, other offices committing first every time); what it committed is kept. Run the same command again: it resumes |

use std::fmt;

use revocard::registry::{AnyStore, ConflictKind, RegistryError};

/// Done.
pub const EXIT_OK: i32 = 0;
/// The input was wrong (a bad roster, an unknown serial, a key of another issuer...):
/// fix the input and run again. Nothing was written.
pub const EXIT_REFUSED: i32 = 1;
/// The environment was wrong (no registry at `--db`, a file that cannot be read or
/// written, a database that cannot be reached), or the command line does not parse:
/// fix it and run again.
pub const EXIT_FAILED: i32 = 2;
/// Interrupted part-way (Ctrl-C, a lost connection): what was committed is kept, and
/// running the same command again resumes.
pub const EXIT_INTERRUPTED: i32 = 3;

/// What to do after an interruption, in every message that reports one.
pub const RESUME_HINT: &str = "what was committed is kept: run the same command again to resume";

/// A refusal or a failure, with a message that says what to do, a stable code for
/// `--json` (`refused`, `failed`, `interrupted`, `connection_lost`, `no_registry`,
/// `not_a_registry`, `file_exists`, `usage`, ...) and, for `--json`, facts to print
/// beside it.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    /// The stable name of what went wrong, for scripts (`{"error": ...}`).
    pub error: &'static str,
    pub message: String,
    /// Fields added to the `--json` error object (the progress of an interrupted run,
    /// the problems of a refused roster).
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The command already printed its one JSON document (a denial at `verify`): under
    /// `--json` nothing more is printed.
    pub reported: bool,
}

impl CliError {
    fn new(code: i32, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            error,
            message: message.into(),
            fields: serde_json::Map::new(),
            reported: false,
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(EXIT_REFUSED, "refused", message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(EXIT_FAILED, "failed", message)
    }

    /// Stopped part-way after writing; running the command again resumes.
    pub fn interrupted(message: impl Into<String>) -> Self {
        Self::new(EXIT_INTERRUPTED, "interrupted", message)
    }

    /// An I/O failure on `path`, which the message names.
    pub fn io(what: &str, path: &std::path::Path, e: &std::io::Error) -> Self {
        Self::failed(format!("{what} {}: {e}", path.display()))
    }

    /// The same error under another stable code.
    pub fn named(mut self, error: &'static str) -> Self {
        self.error = error;
        self
    }

    /// Adds `fields` (a JSON object) to the `--json` error object.
    pub fn with_fields(mut self, fields: serde_json::Value) -> Self {
        if let serde_json::Value::Object(map) = fields {
            self.fields.extend(map);
        }
        self
    }

    /// The command printed its JSON document already.
    pub fn reported(mut self) -> Self {
        self.reported = true;
        self
    }

    /// Adds what the operator was doing in front of the message.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The one JSON object a failing command prints under `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("error".into(), self.error.into());
        map.insert("message".into(), self.message.clone().into());
        map.insert("exit_code".into(), self.code.into());
        for (k, v) in &self.fields {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
        serde_json::Value::Object(map)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<RegistryError> for CliError {
    fn from(e: RegistryError) -> Self {
        // A lost connection or a writer that kept losing the race: resumable. No
        // registry, or not one: the environment. Other storage failures are the
        // environment's; everything else the registry refuses is about the input.
        // A key in a token that could not sign: one line naming where it lives; a
        // token gone is resumable once it is back.
        if let Some(sign) = e.sign_error() {
            return crate::hsm::from_sign(sign.clone());
        }
        if AnyStore::is_connection_lost(&e) {
            return Self::new(
                EXIT_INTERRUPTED,
                "connection_lost",
                format!("{e}: {RESUME_HINT} once the database is back"),
            );
        }
        match e {
            RegistryError::Conflict(ConflictKind::StaleAuditHead { .. }) => Self::new(
                EXIT_INTERRUPTED,
                "contended",
                format!("{e} on every retry: {RESUME_HINT}"),
            ),
            RegistryError::NotFound { .. } | RegistryError::Empty => {
                Self::failed(e.to_string()).named("no_registry")
            }
            RegistryError::NotARegistry { .. }
            | RegistryError::OlderSchema { .. }
            | RegistryError::NewerSchema { .. } => {
                Self::failed(e.to_string()).named("not_a_registry")
            }
            RegistryError::FileExists { .. } | RegistryError::AlreadyCreated => {
                Self::refused(e.to_string()).named("already_exists")
            }
            RegistryError::Storage(_) => Self::failed(e.to_string()),
            other => Self::refused(other.to_string()),
        }
    }
}

macro_rules! refused_from {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                Self::refused(e.to_string())
            }
        }
    )*};
}

refused_from!(
    revocard::FieldError,
    revocard::TrustError,
    revocard::KeySetError,
    revocard::DecodeError,
    revocard::ListError,
    revocard::StatusError
);

impl From<revocard::issue::IssueError> for CliError {
    fn from(e: revocard::issue::IssueError) -> Self {
        match e {
            revocard::issue::IssueError::Sign(sign) => crate::hsm::from_sign(sign),
            other => Self::refused(other.to_string()),
        }
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl From<revocard::net::PublishError> for CliError {
    fn from(e: revocard::net::PublishError) -> Self {
        use revocard::net::PublishError;
        match e {
            PublishError::Registry(r) => r.into(),
            PublishError::NothingPublished => Self::refused(e.to_string()),
            // The folder or the disk: the environment.
            other => Self::failed(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_error_object_has_the_stable_code_and_the_facts() {
        let e = CliError::interrupted("stopped")
            .with_fields(serde_json::json!({"command": "issue", "error": "ignored"}));
        let v = e.to_json();
        assert_eq!(v["error"], "interrupted");
        assert_eq!(v["message"], "stopped");
        assert_eq!(v["exit_code"], EXIT_INTERRUPTED);
        assert_eq!(v["command"], "issue");
    }
}
