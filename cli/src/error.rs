//! What went wrong, sorted by whose fault it is: the exit code says it.

use std::fmt;

use revocard::registry::RegistryError;

/// The documented exit codes.
pub const EXIT_OK: i32 = 0;
/// The input was wrong (a bad roster, an unknown serial, a key of another issuer...):
/// fix the input and run again. Nothing was written.
pub const EXIT_REFUSED: i32 = 1;
/// The environment was wrong (a file that cannot be read or written, a locked or
/// broken database): fix the environment and run again.
pub const EXIT_FAILED: i32 = 2;

/// A refusal or a failure, with a one-line message that says what to do.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_REFUSED,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_FAILED,
            message: message.into(),
        }
    }

    /// Adds what the operator was doing in front of the message.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<RegistryError> for CliError {
    fn from(e: RegistryError) -> Self {
        // Storage failures are the environment's; everything else the registry
        // refuses is about the input (what was asked of it).
        match e {
            RegistryError::Storage(_) => Self::failed(e.to_string()),
            other => Self::refused(other.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::failed(e.to_string())
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
    revocard::StatusError,
    revocard::issue::IssueError
);

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
