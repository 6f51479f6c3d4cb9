//! The PIN of a PKCS#11 token for the examples, from the environment as the `revocard`
//! command takes it: `REVOCARD_PIN_FILE` (a file holding it), else `REVOCARD_PIN`.
//! Never from the command line. Shared by `reissue_batch` and `key_compromise`.

use revocard::TokenPin;

/// The PIN for `token` (named in the error when none is given).
pub fn from_env(token: &str) -> Result<TokenPin, Box<dyn std::error::Error>> {
    let pin = match (
        std::env::var_os("REVOCARD_PIN_FILE"),
        std::env::var("REVOCARD_PIN"),
    ) {
        (Some(file), _) => {
            let text = zeroize::Zeroizing::new(std::fs::read_to_string(file)?);
            zeroize::Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_owned())
        }
        (None, Ok(pin)) => zeroize::Zeroizing::new(pin),
        (None, Err(_)) => {
            return Err(format!(
                "no PIN for token {token}: set REVOCARD_PIN_FILE (a file holding it) or REVOCARD_PIN"
            )
            .into());
        }
    };
    Ok(TokenPin::new(pin))
}
