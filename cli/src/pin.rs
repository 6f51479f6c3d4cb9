//! A token's PIN: from a file (`--pin-file` or `REVOCARD_PIN_FILE`, or the key URI's
//! `pin-source=file:...`), from the environment (`REVOCARD_PIN`), or typed at a prompt
//! on the terminal without echo. Never from the command line: a PIN in argv is visible
//! to every user in `ps` and stays in shell histories. The PIN lives in a `Zeroizing`
//! string, and no message, log line or `Debug` output ever carries it.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// The environment variable holding a PIN (for scripts whose environment is private).
pub const PIN_ENV: &str = "REVOCARD_PIN";

/// The longest PIN file read, in bytes: PKCS#11 PINs are short; a longer file is not
/// a PIN file.
pub const MAX_PIN_FILE_BYTES: u64 = 1024;

/// Where the PIN came from, for messages (never the PIN itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinSource {
    File,
    Environment,
    Prompt,
}

/// The PIN of `token`: from `file` if given (the flag or `REVOCARD_PIN_FILE`), else
/// from `uri_file` (the key URI's `pin-source`), else `REVOCARD_PIN`, else a prompt on
/// the terminal.
///
/// # Errors
/// A PIN file that cannot be read, that others can read, that is too long or empty;
/// no PIN source at all (no file, no variable, no terminal).
pub fn read(
    token: &str,
    file: Option<&Path>,
    uri_file: Option<&Path>,
) -> Result<(Zeroizing<String>, PinSource)> {
    if let Some(path) = file.or(uri_file) {
        return from_file(path).map(|pin| (pin, PinSource::File));
    }
    if let Some(value) = std::env::var_os(PIN_ENV) {
        let pin = Zeroizing::new(value.into_string().map_err(|_| {
            CliError::refused(format!("{PIN_ENV} is not UTF-8 text: it cannot be a PIN"))
        })?);
        if pin.is_empty() {
            return Err(CliError::refused(format!("{PIN_ENV} is empty")));
        }
        return Ok((pin, PinSource::Environment));
    }
    let prompt = format!("PIN for token {token}: ");
    match rpassword::prompt_password(prompt) {
        Ok(typed) => {
            let pin = Zeroizing::new(typed);
            if pin.is_empty() {
                return Err(CliError::refused(format!("no PIN typed for token {token}")));
            }
            Ok((pin, PinSource::Prompt))
        }
        Err(_) => Err(CliError::failed(format!(
            "token {token} needs its PIN and there is no terminal to ask on: give --pin-file FILE \
             (or REVOCARD_PIN_FILE), or REVOCARD_PIN"
        ))
        .named("no_pin")),
    }
}

/// A PIN file: one line, mode 0600 (a PIN file others can read is refused, as ssh
/// refuses such a key file), the end of line trimmed.
fn from_file(path: &Path) -> Result<Zeroizing<String>> {
    let cannot = |e: std::io::Error| {
        CliError::failed(format!("cannot read the PIN file {}: {e}", path.display()))
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CliError::refused(format!(
                "the PIN file {} can be read by others (mode {mode:03o}): run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    if !meta.is_file() || meta.len() > MAX_PIN_FILE_BYTES {
        return Err(CliError::refused(format!(
            "{} is not a PIN file (one line, at most {MAX_PIN_FILE_BYTES} bytes)",
            path.display()
        )));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(cannot)?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError::refused(format!("the PIN file {} is not UTF-8 text", path.display()))
    })?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() || line.contains('\n') {
        return Err(CliError::refused(format!(
            "the PIN file {} must hold one line: the PIN",
            path.display()
        )));
    }
    Ok(Zeroizing::new(line.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin_file(dir: &Path, text: &str, mode: u32) -> std::path::PathBuf {
        let p = dir.join("pin");
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        p
    }

    #[test]
    fn a_pin_file_gives_its_one_line_without_the_newline() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = pin_file(dir.path(), "12 34\r\n", 0o600);
        let (pin, source) = read("office", Some(&p), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pin.as_str(), "12 34");
        assert_eq!(source, PinSource::File);
    }

    #[cfg(unix)]
    #[test]
    fn a_pin_file_others_can_read_is_refused_without_showing_the_pin() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = pin_file(dir.path(), "s3cr3t-pin\n", 0o644);
        let e = read("office", Some(&p), None)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert!(e.message.contains("chmod 600"), "{}", e.message);
        assert!(!e.message.contains("s3cr3t-pin"));
    }

    #[test]
    fn an_empty_or_multi_line_pin_file_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for text in ["", "\n", "1234\n5678\n"] {
            let p = pin_file(dir.path(), text, 0o600);
            assert!(read("office", Some(&p), None).is_err(), "{text:?}");
            let _ = std::fs::remove_file(&p);
        }
    }
}
