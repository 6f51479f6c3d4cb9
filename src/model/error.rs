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
