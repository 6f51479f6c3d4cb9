//! The compact encoding of list and delta headers (format 3): minimal unsigned LEB128
//! varints for integers, varint-length-prefixed byte strings borrowed from the input,
//! fixed arrays as they are.
//!
//! **Varint**: 7 bits a byte, least significant group first, the high bit set on every
//! byte but the last; at most 10 bytes for a `u64`. A decoder refuses a varint longer
//! than needed (a last byte of zero after the first) or one that does not fit in a
//! `u64`, so that one value has one encoding and the signed bytes stay canonical.

use crate::prelude::*;

use super::{DecodeError, WireObject};

/// Most bytes a `u64` takes as a varint.
const MAX_VARINT_LEN: usize = 10;

/// Appends the fields of a header, in order.
#[derive(Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            // Truncation intended: the low 7 bits, with the continuation bit.
            self.0.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    pub(crate) fn byte(&mut self, value: u8) {
        self.0.push(value);
    }

    pub(crate) fn array(&mut self, value: &[u8]) {
        self.0.extend_from_slice(value);
    }

    /// A length (varint) and the bytes.
    pub(crate) fn bytes(&mut self, value: &[u8]) {
        self.varint(value.len() as u64);
        self.0.extend_from_slice(value);
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads the fields of a header, in order, borrowing from the input; never panics and
/// never allocates.
pub(crate) struct Reader<'a> {
    object: WireObject,
    bytes: &'a [u8],
    pos: usize,
    /// Bytes before `bytes` in the whole object (for error offsets).
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, which start `base` bytes into the object.
    pub(crate) fn new(object: WireObject, bytes: &'a [u8], base: usize) -> Self {
        Self {
            object,
            bytes,
            pos: 0,
            base,
        }
    }

    fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            object: self.object,
        }
    }

    pub(crate) fn malformed(&self) -> DecodeError {
        DecodeError::Malformed {
            object: self.object,
        }
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let offset = self.base.saturating_add(self.pos);
        let bad = DecodeError::BadVarint {
            object: self.object,
            offset,
        };
        let mut value: u64 = 0;
        for group in 0..MAX_VARINT_LEN {
            let byte = *self
                .bytes
                .get(self.pos.saturating_add(group))
                .ok_or_else(|| self.truncated())?;
            let payload = u64::from(byte & 0x7f);
            // The tenth group may carry only the top bit of a u64.
            if group == MAX_VARINT_LEN - 1 && payload > 1 {
                return Err(bad);
            }
            value |= payload << (7 * group);
            if byte & 0x80 == 0 {
                // A last group of zero (other than the value 0 itself) is one byte too many.
                if group > 0 && byte == 0 {
                    return Err(bad);
                }
                self.pos = self.pos.saturating_add(group + 1);
                return Ok(value);
            }
        }
        Err(bad)
    }

    /// A varint that must fit in a `u32`.
    pub(crate) fn varint_u32(&mut self) -> Result<u32, DecodeError> {
        let offset = self.base.saturating_add(self.pos);
        u32::try_from(self.varint()?).map_err(|_| DecodeError::BadVarint {
            object: self.object,
            offset,
        })
    }

    pub(crate) fn byte(&mut self) -> Result<u8, DecodeError> {
        self.array::<1>().map(|[b]| b)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let (head, _) = rest
            .split_first_chunk::<N>()
            .ok_or_else(|| self.truncated())?;
        self.pos = self.pos.saturating_add(N);
        Ok(*head)
    }

    /// A length (varint) and that many bytes, borrowed.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| self.truncated())?;
        if len > self.remaining() {
            return Err(self.truncated());
        }
        let end = self.pos.saturating_add(len);
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(out)
    }

    /// A length-prefixed UTF-8 string, borrowed.
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        let bytes = self.bytes()?;
        core::str::from_utf8(bytes).map_err(|_| self.malformed())
    }

    /// Refuses bytes left after the object.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                object: self.object,
                decoded: self.base.saturating_add(self.pos),
                remaining: self.remaining(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<u64, DecodeError> {
        let mut r = Reader::new(WireObject::Delta, bytes, 0);
        let v = r.varint()?;
        r.finish()?;
        Ok(v)
    }

    #[test]
    fn varints_round_trip_at_every_length_boundary() {
        for shift in 0..64 {
            for value in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
                let mut w = Writer::default();
                w.varint(value);
                let bytes = w.finish();
                let expected_len = (64 - value.leading_zeros()).div_ceil(7).max(1) as usize;
                assert_eq!(bytes.len(), expected_len, "{value}");
                assert_eq!(read(&bytes), Ok(value));
            }
        }
        let mut w = Writer::default();
        w.varint(u64::MAX);
        assert_eq!(read(&w.finish()), Ok(u64::MAX));
    }

    #[test]
    fn non_minimal_overlong_and_truncated_varints_are_refused() {
        let bad = |offset| {
            Err(DecodeError::BadVarint {
                object: WireObject::Delta,
                offset,
            })
        };
        // 0 and 1 with a superfluous zero group.
        assert_eq!(read(&[0x80, 0x00]), bad(0));
        assert_eq!(read(&[0x81, 0x80, 0x00]), bad(0));
        // 2^64: the tenth group carries more than one bit.
        assert_eq!(
            read(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]),
            bad(0)
        );
        // Eleven groups.
        assert_eq!(read(&[0xff; 11]), bad(0));
        assert_eq!(
            read(&[0x80]),
            Err(DecodeError::Truncated {
                object: WireObject::Delta
            })
        );
        let mut r = Reader::new(WireObject::Delta, &[0x05, 1, 2], 7);
        assert_eq!(
            r.bytes(),
            Err(DecodeError::Truncated {
                object: WireObject::Delta
            })
        );
    }
}
