//! The panic boundary and the checks every argument from C passes: NULL, length
//! limits, copies out into caller buffers.

use core::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::result::revocard_result;

/// Largest credential, in bytes (`revocard::MAX_CREDENTIAL_BYTES`).
pub const REVOCARD_MAX_CREDENTIAL_BYTES: usize = 1024;
/// Largest text form of a credential, in bytes (`revocard::MAX_CREDENTIAL_TEXT_LEN`).
pub const REVOCARD_MAX_CREDENTIAL_TEXT_LEN: usize = 1368;
/// Largest root anchor, in bytes (`revocard::MAX_ROOT_ANCHOR_BYTES`).
pub const REVOCARD_MAX_ROOT_ANCHOR_BYTES: usize = 256;
/// Largest key set, in bytes (`revocard::MAX_KEY_SET_BYTES`).
pub const REVOCARD_MAX_KEY_SET_BYTES: usize = 4_425;
/// Largest revocation list, in bytes (`revocard::MAX_LIST_BYTES`).
pub const REVOCARD_MAX_LIST_BYTES: usize = 1_075_200;
/// Largest delta, in bytes (`revocard::MAX_DELTA_BYTES`).
pub const REVOCARD_MAX_DELTA_BYTES: usize = 1_599_488;
/// Largest challenge, in bytes: a buffer this large always holds one
/// (`revocard::format::MAX_CHALLENGE_BYTES`).
pub const REVOCARD_MAX_CHALLENGE_BYTES: usize = 89;
/// Largest card response, in bytes: a buffer this large always holds one
/// (`revocard::format::MAX_RESPONSE_BYTES`).
pub const REVOCARD_MAX_RESPONSE_BYTES: usize = 137;
/// Largest saved verifier state, in bytes (`revocard::format::MAX_STATE_BYTES`).
pub const REVOCARD_MAX_STATE_BYTES: usize = 17_797_154;
/// Longest door id, in bytes (`revocard::door::MAX_DOOR_ID_LEN`).
pub const REVOCARD_MAX_DOOR_ID_LEN: usize = 32;
/// The random bytes a challenge takes from the caller.
pub const REVOCARD_RANDOM_LEN: usize = 32;

// The limits above are written out for cbindgen (it cannot evaluate another crate's
// constants); these fail the build if the library's ever differ.
const _: () = {
    assert!(REVOCARD_MAX_CREDENTIAL_BYTES == revocard::MAX_CREDENTIAL_BYTES);
    assert!(REVOCARD_MAX_CREDENTIAL_TEXT_LEN == revocard::MAX_CREDENTIAL_TEXT_LEN);
    assert!(REVOCARD_MAX_ROOT_ANCHOR_BYTES == revocard::MAX_ROOT_ANCHOR_BYTES);
    assert!(REVOCARD_MAX_KEY_SET_BYTES == revocard::MAX_KEY_SET_BYTES);
    assert!(REVOCARD_MAX_LIST_BYTES == revocard::MAX_LIST_BYTES);
    assert!(REVOCARD_MAX_DELTA_BYTES == revocard::MAX_DELTA_BYTES);
    assert!(REVOCARD_MAX_CHALLENGE_BYTES == revocard::format::MAX_CHALLENGE_BYTES);
    assert!(REVOCARD_MAX_RESPONSE_BYTES == revocard::format::MAX_RESPONSE_BYTES);
    assert!(REVOCARD_MAX_STATE_BYTES == revocard::format::MAX_STATE_BYTES);
    assert!(REVOCARD_MAX_DOOR_ID_LEN == revocard::door::MAX_DOOR_ID_LEN);
    assert!(REVOCARD_RANDOM_LEN == revocard::format::CHALLENGE_NONCE_LEN);
};

/// Runs the body of an exported function: its result, or
/// [`revocard_result::Panic`] if it panicked. The one place a panic stops.
pub(crate) fn boundary(
    body: impl FnOnce() -> Result<revocard_result, revocard_result>,
) -> revocard_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(r) | Err(r)) => r,
        Err(_) => revocard_result::Panic,
    }
}

/// As [`boundary`] for a function that answers a value, not a result: `fallback` if
/// it panicked.
pub(crate) fn boundary_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Why a byte argument was refused before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The pointer is NULL.
    Null,
    /// Longer than the object may be.
    TooLong { len: usize, max: usize },
}

impl From<Refused> for revocard_result {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Null => Self::NullParameter,
            Refused::TooLong { .. } => Self::BadArgument,
        }
    }
}

/// Borrows `len` bytes at `ptr`, refusing NULL and any length above `max` without
/// reading anything.
///
/// # Safety
/// If `ptr` is not NULL and `len <= max`, it must point to `len` readable bytes that
/// stay valid and unchanged for `'a`.
pub(crate) unsafe fn bytes_in<'a>(
    ptr: *const u8,
    len: usize,
    max: usize,
) -> Result<&'a [u8], Refused> {
    if ptr.is_null() {
        return Err(Refused::Null);
    }
    if len > max {
        return Err(Refused::TooLong { len, max });
    }
    // SAFETY: `ptr` is not NULL and, by this function's contract, valid for `len`
    // bytes for `'a`; `len <= max`, and every `max` here is far below `isize::MAX`.
    // `u8` has alignment 1.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Borrows `len` bytes of UTF-8 text at `ptr` (no NUL needed), refusing NULL, a length
/// above `max` and bytes that are not UTF-8.
///
/// # Safety
/// As [`bytes_in`].
pub(crate) unsafe fn text_in<'a>(
    ptr: *const c_char,
    len: usize,
    max: usize,
) -> Result<&'a str, revocard_result> {
    // SAFETY: the caller's contract is `bytes_in`'s; `c_char` and `u8` have the same
    // size and alignment.
    let bytes = unsafe { bytes_in(ptr.cast::<u8>(), len, max) }?;
    core::str::from_utf8(bytes).map_err(|_| revocard_result::BadArgument)
}

/// Borrows a handle, refusing NULL.
///
/// # Safety
/// If not NULL, `ptr` must come from this library's matching `_new` and not have been
/// freed.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T) -> Result<&'a T, revocard_result> {
    // SAFETY: by the contract, a non-NULL `ptr` is a live `Box<T>` made by this
    // library, so it is aligned and points to an initialised `T`.
    unsafe { ptr.as_ref() }.ok_or(revocard_result::NullParameter)
}

/// Borrows a handle mutably, refusing NULL.
///
/// # Safety
/// As [`handle`], and no other reference to it may be in use meanwhile.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T, revocard_result> {
    // SAFETY: as `handle`; exclusivity is the caller's contract.
    unsafe { ptr.as_mut() }.ok_or(revocard_result::NullParameter)
}

/// Writes `value` to an out-parameter, refusing NULL.
///
/// # Safety
/// If not NULL, `out` must be valid for writing one aligned `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> Result<(), revocard_result> {
    if out.is_null() {
        return Err(revocard_result::NullParameter);
    }
    // SAFETY: not NULL and, by the contract, valid and aligned for one `T`. `write`
    // does not read or drop what was there (it may be uninitialised).
    unsafe { out.write(value) };
    Ok(())
}

/// Writes `value` to an optional out-parameter: nothing if `out` is NULL.
///
/// # Safety
/// As [`write_out`].
pub(crate) unsafe fn write_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: as `write_out`.
        unsafe { out.write(value) };
    }
}

/// Hands a new object to C through `out` (a `T **`): NULL-checked first, so nothing
/// leaks when `out` is NULL.
///
/// # Safety
/// As [`write_out`].
pub(crate) unsafe fn give<T>(out: *mut *mut T, value: T) -> Result<(), revocard_result> {
    if out.is_null() {
        return Err(revocard_result::NullParameter);
    }
    let raw = Box::into_raw(Box::new(value));
    // SAFETY: `out` is not NULL and valid for one pointer by the contract.
    unsafe { out.write(raw) };
    Ok(())
}

/// Takes back an object made by [`give`] and drops it; NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or come from [`give`] for this `T`, and not be used again.
pub(crate) unsafe fn take_back<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: by the contract, `ptr` is a `Box<T>` leaked by `give` and freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Copies `data` into the caller's buffer `buf` of `cap` bytes and its length into
/// `*written`. If `buf` is NULL or `cap` is too small, writes only the length needed
/// and answers [`revocard_result::BufferTooSmall`] (a size query).
///
/// # Safety
/// `written` must be valid for one `size_t`; if `buf` is not NULL it must be valid for
/// writing `cap` bytes.
pub(crate) unsafe fn bytes_out(
    data: &[u8],
    buf: *mut u8,
    cap: usize,
    written: *mut usize,
) -> Result<revocard_result, revocard_result> {
    // SAFETY: the caller's contract for `written`.
    unsafe { write_out(written, data.len()) }?;
    if buf.is_null() || cap < data.len() {
        return Ok(revocard_result::BufferTooSmall);
    }
    // SAFETY: `buf` is valid for `cap >= data.len()` bytes by the contract; the source
    // is a Rust slice, which cannot overlap a buffer the caller owns.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
    Ok(revocard_result::Ok)
}

/// Copies `text` and a NUL into `buf` of `cap` bytes, and the text's length (without
/// the NUL) into `*len`. If `buf` is NULL or `cap < *len + 1`, writes only the length
/// and answers [`revocard_result::BufferTooSmall`].
///
/// # Safety
/// As [`bytes_out`].
pub(crate) unsafe fn text_out(
    text: &str,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> Result<revocard_result, revocard_result> {
    // SAFETY: the caller's contract for `len`.
    unsafe { write_out(len, text.len()) }?;
    if buf.is_null() || cap <= text.len() {
        return Ok(revocard_result::BufferTooSmall);
    }
    let buf = buf.cast::<u8>();
    // SAFETY: `buf` is valid for `cap > text.len()` bytes: the text, then the NUL.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf, text.len());
        buf.add(text.len()).write(0);
    }
    Ok(revocard_result::Ok)
}

/// Copies as much of `text` as fits in `cap - 1` bytes (cut at a character boundary)
/// and a NUL into an optional message buffer: nothing if `buf` is NULL or `cap` is 0.
///
/// # Safety
/// If `buf` is not NULL it must be valid for writing `cap` bytes.
pub(crate) unsafe fn message_out(text: &str, buf: *mut c_char, cap: usize) {
    if buf.is_null() || cap == 0 {
        return;
    }
    let mut n = text.len().min(cap - 1);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    let buf = buf.cast::<u8>();
    // SAFETY: `buf` is valid for `cap` bytes and `n + 1 <= cap`.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
        buf.add(n).write(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_panic_code_and_never_unwinds() {
        let code = boundary(|| {
            let v: Vec<u8> = Vec::new();
            #[allow(clippy::indexing_slicing)]
            let _ = v[1];
            Ok(revocard_result::Ok)
        });
        assert_eq!(code, revocard_result::Panic);
        assert_eq!(boundary_or(7, || panic!("boom")), 7);
        assert_eq!(
            boundary(|| Err(revocard_result::BadArgument)),
            revocard_result::BadArgument
        );
    }

    #[test]
    fn null_and_over_long_inputs_are_refused_before_reading() {
        // SAFETY: NULL is refused before any read.
        let null = unsafe { bytes_in(core::ptr::null(), 0, 10) };
        assert_eq!(null, Err(Refused::Null));
        // A dangling pointer with a length above the limit is never read.
        let dangling = core::ptr::NonNull::<u8>::dangling().as_ptr();
        // SAFETY: the length is above the limit, so nothing is read.
        let long = unsafe { bytes_in(dangling, usize::MAX, 10) };
        assert_eq!(
            long,
            Err(Refused::TooLong {
                len: usize::MAX,
                max: 10
            })
        );
    }

    #[test]
    fn a_message_is_cut_at_a_character_boundary_and_terminated() {
        let mut buf = [0x55 as c_char; 4];
        // SAFETY: `buf` has 4 bytes.
        unsafe { message_out("aé€", buf.as_mut_ptr(), buf.len()) };
        // "a" (1) + "é" (2) fit in 3; "€" would not.
        assert_eq!(buf.map(|c| c as u8), [b'a', 0xc3, 0xa9, 0]);
    }
}
