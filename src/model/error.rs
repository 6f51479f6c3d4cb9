//! What a value that does not fit the model's limits is told.

use crate::model::Field;

/// A value that does not fit the model's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldError {
    /// A text field is longer than its limit.
    #[error("{field} is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// Which field.
        field: Field,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field's content is not acceptable (empty where required, control characters,
    /// inverted window, not hex, weak key).
    #[error("{field} is not valid")]
    Invalid {
        /// Which field.
        field: Field,
    },
}

/// Why a text is not a card public key's text form (unpadded base64url of 32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CardKeyTextError {
    /// The text is not 43 characters long.
    #[error("a card public key is {expected} characters of base64url, not {found}")]
    Length {
        /// Its length in bytes.
        found: usize,
        /// The length of the text form.
        expected: usize,
    },
    /// A character is not of the base64url alphabet (`A-Z a-z 0-9 - _`, no padding).
    #[error("character {position} (from 0) of a card public key is not base64url")]
    Character {
        /// Its position, in bytes from the start.
        position: usize,
    },
    /// The last character leaves bits set that 32 bytes do not fill: the text was not
    /// written from a key (it may be cut or altered).
    #[error("the last character of a card public key does not end 32 bytes")]
    LastCharacter,
}
