//! A verdict: the answer to one verification or tap, read through accessors.

use core::ffi::c_char;

use revocard::door::DoorDenial;
use revocard::{Claims, Serial, VerifiedCredential};

use crate::boundary::{boundary, handle, take_back, text_out, write_opt, write_out};
use crate::result::{
    revocard_holder_field, revocard_kind, revocard_national_vetting, revocard_police_vetting,
    revocard_result,
};

/// The answer to one verification or tap: admitted with the verified claims, or
/// denied with a reason.
///
/// Ownership: made by `revocard_verifier_verify*` and `revocard_door_controller_tap`;
/// the caller owns it and frees it once with `revocard_verdict_free`. Strings read from
/// it are copies. Thread-safety: immutable; any number of threads may read one at
/// once, but freeing must not race with a read.
pub struct revocard_verdict {
    result: revocard_result,
    outcome: Result<VerifiedCredential, DoorDenial>,
    serial: Option<Serial>,
    serial_verified: bool,
}

impl revocard_verdict {
    pub(crate) fn new(
        outcome: Result<VerifiedCredential, DoorDenial>,
        serial: Option<Serial>,
        serial_verified: bool,
    ) -> Self {
        let result = match &outcome {
            Ok(_) => revocard_result::Ok,
            Err(d) => revocard_result::of_door_denial(d),
        };
        Self {
            result,
            outcome,
            serial,
            serial_verified,
        }
    }

    pub(crate) fn result(&self) -> revocard_result {
        self.result
    }

    fn claims(&self) -> Result<&Claims, revocard_result> {
        self.outcome
            .as_ref()
            .map(VerifiedCredential::claims)
            .map_err(|_| revocard_result::NotAvailable)
    }
}

/// The verdict's code: `REVOCARD_RESULT_OK` if admitted, else the denial's code
/// (100-299). `REVOCARD_RESULT_NULL_PARAMETER` if `verdict` is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_result(
    verdict: *const revocard_verdict,
) -> revocard_result {
    // SAFETY: `verdict` is NULL or a live verdict (the function's contract).
    boundary(|| Ok(unsafe { handle(verdict) }?.result))
}

/// Whether the verdict admits. False for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_admitted(verdict: *const revocard_verdict) -> bool {
    // SAFETY: as `revocard_verdict_result`.
    boundary(|| Ok(unsafe { handle(verdict) }?.result)) == revocard_result::Ok
}

/// Copies the verdict's message into `buf` (NUL-terminated) and its length (without
/// the NUL) into `*len`: `"admitted"`, or the denial's full text (for example
/// `"revoked: status index marked revoked"`). The message names no secret.
///
/// With `buf` NULL or `cap` too small: writes `*len` only and answers
/// `REVOCARD_RESULT_BUFFER_TOO_SMALL` (allocate `*len + 1` and call again).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_message(
    verdict: *const revocard_verdict,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let v = unsafe { handle(verdict) }?;
        let text = match &v.outcome {
            Ok(_) => "admitted".to_owned(),
            Err(d) => d.to_string(),
        };
        // SAFETY: `buf`/`cap`/`len` as documented.
        unsafe { text_out(&text, buf, cap, len) }
    })
}

/// Writes the 16-byte serial into the 16 bytes at `out` and whether an issuer signature covers it
/// into `*verified` (optional). For a denial, the serial the bytes claimed, if they
/// decoded: with `*verified` false it is only a claim (a forgery can name any serial).
/// `REVOCARD_RESULT_NOT_AVAILABLE` if the bytes named none.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_serial(
    verdict: *const revocard_verdict,
    out: *mut u8,
    verified: *mut bool,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let v = unsafe { handle(verdict) }?;
        if out.is_null() {
            return Err(revocard_result::NullParameter);
        }
        let serial = v.serial.ok_or(revocard_result::NotAvailable)?;
        // SAFETY: `out` is not NULL and valid for 16 bytes (contract).
        unsafe { write_out(out.cast::<[u8; 16]>(), serial.0) }?;
        // SAFETY: `verified` is NULL or valid for one bool (contract).
        unsafe { write_opt(verified, v.serial_verified) };
        Ok(revocard_result::Ok)
    })
}

/// Copies the issuer id of an admitted credential into `buf` (NUL-terminated), its
/// length into `*len`. `REVOCARD_RESULT_NOT_AVAILABLE` for a denial; size query as
/// `revocard_verdict_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_issuer(
    verdict: *const revocard_verdict,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let claims = unsafe { handle(verdict) }?.claims()?;
        // SAFETY: as documented.
        unsafe { text_out(claims.issuer.as_str(), buf, cap, len) }
    })
}

/// Copies one holder field (`field`: a `revocard_holder_field`) of an admitted
/// credential into `buf`, its length into `*len`. Personal data: keep it out of logs.
/// `REVOCARD_RESULT_NOT_AVAILABLE` for a denial; `REVOCARD_RESULT_BAD_ARGUMENT` for an
/// unknown field; size query as `revocard_verdict_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_holder(
    verdict: *const revocard_verdict,
    field: u32,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let claims = unsafe { handle(verdict) }?.claims()?;
        let holder = &claims.holder;
        let text = match field {
            f if f == revocard_holder_field::PayNumber as u32 => holder.pay_number(),
            f if f == revocard_holder_field::Name as u32 => holder.name(),
            f if f == revocard_holder_field::Rank as u32 => holder.rank(),
            f if f == revocard_holder_field::Unit as u32 => holder.unit(),
            _ => return Err(revocard_result::BadArgument),
        };
        // SAFETY: as documented.
        unsafe { text_out(text, buf, cap, len) }
    })
}

/// Writes the SHA-256 digest of the holder's photograph into the 32 bytes at `out`.
/// `REVOCARD_RESULT_NOT_AVAILABLE` for a denial.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_photo_digest(
    verdict: *const revocard_verdict,
    out: *mut u8,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let claims = unsafe { handle(verdict) }?.claims()?;
        // SAFETY: `out` is NULL (refused) or valid for 32 bytes (contract).
        unsafe { write_out(out.cast::<[u8; 32]>(), claims.holder.photo().0) }?;
        Ok(revocard_result::Ok)
    })
}

/// Writes the kind (a `revocard_kind`) of an admitted credential into `*kind`.
/// `REVOCARD_RESULT_NOT_AVAILABLE` for a denial.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_kind(
    verdict: *const revocard_verdict,
    kind: *mut u32,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let claims = unsafe { handle(verdict) }?.claims()?;
        // SAFETY: `kind` is NULL (refused) or valid for one `uint32_t` (contract).
        unsafe { write_out(kind, revocard_kind::of(claims.kind) as u32) }?;
        Ok(revocard_result::Ok)
    })
}

/// Writes the vetting of an admitted credential: its police ladder and level (a
/// `revocard_police_vetting`) into `*police` and its national security vetting (a
/// `revocard_national_vetting`, 0 if none) into `*national`.
/// `REVOCARD_RESULT_NOT_AVAILABLE` for a denial.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_vetting(
    verdict: *const revocard_verdict,
    police: *mut u32,
    national: *mut u32,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let claims = unsafe { handle(verdict) }?.claims()?;
        if police.is_null() || national.is_null() {
            return Err(revocard_result::NullParameter);
        }
        // SAFETY: both checked not NULL; valid for one `uint32_t` each (contract).
        unsafe {
            write_out(
                police,
                revocard_police_vetting::of(claims.vetting.police) as u32,
            )?;
            write_out(
                national,
                revocard_national_vetting::of(claims.vetting.national) as u32,
            )?;
        }
        Ok(revocard_result::Ok)
    })
}

/// Writes the validity window of an admitted credential (Unix seconds) into
/// `*not_before` and `*not_after`. `REVOCARD_RESULT_NOT_AVAILABLE` for a denial.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_validity(
    verdict: *const revocard_verdict,
    not_before: *mut u64,
    not_after: *mut u64,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verdict` is NULL or live (contract).
        let claims = unsafe { handle(verdict) }?.claims()?;
        if not_before.is_null() || not_after.is_null() {
            return Err(revocard_result::NullParameter);
        }
        // SAFETY: both checked not NULL; valid for one `uint64_t` each (contract).
        unsafe {
            write_out(not_before, claims.validity.not_before.0)?;
            write_out(not_after, claims.validity.not_after.0)?;
        }
        Ok(revocard_result::Ok)
    })
}

/// Frees a verdict. NULL is a no-op. The pointer must not be used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verdict_free(verdict: *mut revocard_verdict) {
    boundary(|| {
        // SAFETY: `verdict` is NULL or a verdict this library made, freed once (contract).
        unsafe { take_back(verdict) };
        Ok(revocard_result::Ok)
    });
}
