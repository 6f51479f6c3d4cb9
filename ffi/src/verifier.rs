//! The verifier: made from an issuer's root anchor, fed key sets, lists and deltas,
//! asked about credentials.

use core::ffi::c_char;
use core::fmt::Display;
use std::sync::Arc;

use revocard::door::DoorDenial;
use revocard::{
    DecodeError, Denial, IssuerId, KeySetError, ListError, ListUpdate, RootPublicKey, TrustStore,
    UnixTime, UnverifiedCredential, Verifier, VerifyOptions, WireObject,
};

use crate::boundary::{
    REVOCARD_MAX_CREDENTIAL_BYTES, REVOCARD_MAX_CREDENTIAL_TEXT_LEN, REVOCARD_MAX_DELTA_BYTES,
    REVOCARD_MAX_KEY_SET_BYTES, REVOCARD_MAX_LIST_BYTES, REVOCARD_MAX_ROOT_ANCHOR_BYTES,
    REVOCARD_MAX_STATE_BYTES, Refused, boundary, bytes_in, bytes_out, give, handle, message_out,
    take_back, write_opt, write_out,
};
use crate::result::revocard_result;
use crate::verdict::revocard_verdict;

/// A verifier trusting one issuer's root: the keys its key sets certify, that
/// issuer's current revocation list, and the rollback floors.
///
/// Ownership: made by `revocard_verifier_new`, freed once by `revocard_verifier_free`.
/// A door controller made from it shares it and keeps it alive: the verifier handle
/// may be freed before the controller, and lists installed through the handle reach
/// the controller's doors on the next tap.
///
/// Thread-safety: every call on a verifier may run on any number of threads at once
/// (installs are serialised inside, verifications never wait for them); only
/// `revocard_verifier_free` must not race with another call on the same handle.
pub struct revocard_verifier {
    pub(crate) inner: Arc<Verifier>,
    issuer: IssuerId,
}

/// What installing a key set, list or delta did.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum revocard_update_outcome {
    /// Refused: the verifier keeps what it had (the result code says why).
    Refused = 0,
    /// The first list (or key set) for the issuer: `to` is its sequence.
    Installed = 1,
    /// Replaced what was held: from sequence `from` to `to`.
    Advanced = 2,
    /// The same one again: `from` = `to` = its sequence.
    Unchanged = 3,
}

/// The answer of an install: the outcome and the sequences (0 where none applies).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct revocard_update {
    /// What happened.
    pub outcome: revocard_update_outcome,
    /// Sequence held before (Advanced, Unchanged).
    pub from: u64,
    /// Sequence held now (Installed, Advanced, Unchanged).
    pub to: u64,
}

impl revocard_update {
    const REFUSED: Self = Self {
        outcome: revocard_update_outcome::Refused,
        from: 0,
        to: 0,
    };

    fn of(u: ListUpdate) -> Self {
        let (outcome, from, to) = match u {
            ListUpdate::Installed { sequence } => (revocard_update_outcome::Installed, 0, sequence),
            ListUpdate::Advanced { from, to } => (revocard_update_outcome::Advanced, from, to),
            ListUpdate::Unchanged { sequence } => {
                (revocard_update_outcome::Unchanged, sequence, sequence)
            }
        };
        Self { outcome, from, to }
    }
}

/// Makes a verifier trusting the issuer whose root anchor (`anchor.rca` in the
/// published layout) is the `anchor_len` bytes at `anchor`, with the library's
/// default options (60 s clock skew, lists usable 1 h past their next update, then
/// every card denied). It holds no key and no list yet: every card is denied until a
/// key set and a list are installed.
///
/// On success `*out` receives a new verifier (free it with `revocard_verifier_free`).
/// `REVOCARD_RESULT_ANCHOR_MALFORMED` if the bytes are not a root anchor (or longer
/// than `REVOCARD_MAX_ROOT_ANCHOR_BYTES`); nothing is allocated then.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_new(
    anchor: *const u8,
    anchor_len: usize,
    out: *mut *mut revocard_verifier,
) -> revocard_result {
    boundary(|| {
        if out.is_null() {
            return Err(revocard_result::NullParameter);
        }
        // SAFETY: `anchor` is NULL (refused) or valid for `anchor_len` bytes (contract).
        let bytes = unsafe { bytes_in(anchor, anchor_len, REVOCARD_MAX_ROOT_ANCHOR_BYTES) }
            .map_err(|r| match r {
                Refused::Null => revocard_result::NullParameter,
                Refused::TooLong { .. } => revocard_result::AnchorMalformed,
            })?;
        let root =
            RootPublicKey::from_bytes(bytes).map_err(|_| revocard_result::AnchorMalformed)?;
        let issuer = root.issuer().clone();
        let mut trust = TrustStore::new();
        trust
            .add_root(root)
            .map_err(|_| revocard_result::AnchorMalformed)?;
        let verifier = revocard_verifier {
            inner: Arc::new(Verifier::new(trust, VerifyOptions::default())),
            issuer,
        };
        // SAFETY: `out` is not NULL and valid for one pointer (contract).
        unsafe { give(out, verifier) }?;
        Ok(revocard_result::Ok)
    })
}

/// Restores a verifier from a state saved by `revocard_verifier_export_state` (the
/// `state_len` bytes at `state`), for the issuer whose root anchor is at `anchor`:
/// its key sets, revoked keys, rollback floors and list come back as they were, so a
/// restarted door is never weaker than before (an older key set or list offered
/// again is still a rollback). Every part of the blob is checked again.
///
/// On success `*out` receives the verifier. `REVOCARD_RESULT_STATE_MALFORMED` if the
/// bytes are not a saved state (truncated, corrupted, inconsistent, longer than
/// `REVOCARD_MAX_STATE_BYTES`); `REVOCARD_RESULT_STATE_WRONG_ROOT` if it does not
/// trust this anchor's root; `REVOCARD_RESULT_ANCHOR_MALFORMED` for the anchor. Then
/// nothing is allocated, and the door should start from its anchor
/// (`revocard_verifier_new`). `message` (optional, `message_cap` bytes) receives why.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_import_state(
    anchor: *const u8,
    anchor_len: usize,
    state: *const u8,
    state_len: usize,
    out: *mut *mut revocard_verifier,
    message: *mut c_char,
    message_cap: usize,
) -> revocard_result {
    boundary(|| {
        if out.is_null() {
            return Err(revocard_result::NullParameter);
        }
        // SAFETY: `anchor` is NULL (refused) or valid for `anchor_len` bytes (contract).
        let anchor = unsafe { bytes_in(anchor, anchor_len, REVOCARD_MAX_ROOT_ANCHOR_BYTES) }
            .map_err(|r| match r {
                Refused::Null => revocard_result::NullParameter,
                Refused::TooLong { .. } => revocard_result::AnchorMalformed,
            })?;
        let root =
            RootPublicKey::from_bytes(anchor).map_err(|_| revocard_result::AnchorMalformed)?;
        // SAFETY: `state` is NULL (refused) or valid for `state_len` bytes (contract).
        let state = match unsafe { bytes_in(state, state_len, REVOCARD_MAX_STATE_BYTES) } {
            Ok(state) => state,
            Err(Refused::Null) => return Err(revocard_result::NullParameter),
            Err(Refused::TooLong { len, max }) => {
                let text = format!("a saved state is at most {max} bytes, not {len}");
                // SAFETY: `message` is NULL or valid for `message_cap` bytes (contract).
                unsafe { message_out(&text, message, message_cap) };
                return Ok(revocard_result::StateMalformed);
            }
        };
        let verifier = match Verifier::from_state_bytes(state, VerifyOptions::default()) {
            Ok(v) => v,
            Err(e) => {
                // SAFETY: as above.
                unsafe { message_out(&e.to_string(), message, message_cap) };
                return Ok(revocard_result::StateMalformed);
            }
        };
        if verifier.trust().root(root.issuer()) != Some(&root) {
            let text = format!(
                "the saved state does not trust the root of {}",
                root.issuer()
            );
            // SAFETY: as above.
            unsafe { message_out(&text, message, message_cap) };
            return Ok(revocard_result::StateWrongRoot);
        }
        let handle = revocard_verifier {
            inner: Arc::new(verifier),
            issuer: root.issuer().clone(),
        };
        // SAFETY: `out` is not NULL and valid for one pointer (contract).
        unsafe { give(out, handle) }?;
        // SAFETY: as above.
        unsafe { message_out("restored", message, message_cap) };
        Ok(revocard_result::Ok)
    })
}

/// Saves the verifier's trust (roots, key sets applied, revoked keys, rollback
/// floors, the list held) as one versioned, checksummed blob, copied into `buf` of
/// `cap` bytes, its length into `*written`: store it, and give it to
/// `revocard_verifier_import_state` after a restart. The blob holds no secret.
///
/// With `buf` NULL or too small: `REVOCARD_RESULT_BUFFER_TOO_SMALL` and the length
/// needed (a size query). The state may grow between the two calls if another thread
/// installs a list meanwhile: then the second call answers the same way with the new
/// length. Thread-safety: any thread, also while others verify or install.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_export_state(
    verifier: *const revocard_verifier,
    buf: *mut u8,
    cap: usize,
    written: *mut usize,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verifier` is NULL or live (contract).
        let v = unsafe { handle(verifier) }?;
        if written.is_null() {
            return Err(revocard_result::NullParameter);
        }
        let blob = v.inner.export_state();
        // SAFETY: `buf` holds `cap` bytes, `written` one `size_t` (contract).
        unsafe { bytes_out(&blob, buf, cap, written) }
    })
}

/// Frees a verifier handle. NULL is a no-op. Door controllers made from it keep
/// working (they share the verifier). The pointer must not be used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_free(verifier: *mut revocard_verifier) {
    boundary(|| {
        // SAFETY: NULL or a verifier this library made, freed once (contract).
        unsafe { take_back(verifier) };
        Ok(revocard_result::Ok)
    });
}

/// The shared body of the three installs.
///
/// # Safety
/// The pointers as the exported functions document.
#[allow(clippy::too_many_arguments)]
unsafe fn install<E: Display>(
    verifier: *const revocard_verifier,
    bytes: *const u8,
    len: usize,
    max: usize,
    object: WireObject,
    update: *mut revocard_update,
    message: *mut c_char,
    message_cap: usize,
    too_large: impl FnOnce(DecodeError) -> E,
    code: impl Fn(&E) -> revocard_result,
    run: impl FnOnce(&Verifier, &[u8]) -> Result<ListUpdate, E>,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `update` is NULL or valid for one `revocard_update` (contract).
        unsafe { write_opt(update, revocard_update::REFUSED) };
        // SAFETY: `verifier` is NULL or live (contract).
        let v = unsafe { handle(verifier) }?;
        // SAFETY: `bytes` is NULL (refused) or valid for `len` bytes (contract).
        let input = match unsafe { bytes_in(bytes, len, max) } {
            Ok(input) => input,
            Err(Refused::Null) => return Err(revocard_result::NullParameter),
            Err(Refused::TooLong { len, max }) => {
                let e = too_large(DecodeError::TooLarge { object, len, max });
                // SAFETY: `message` is NULL or valid for `message_cap` bytes (contract).
                unsafe { message_out(&e.to_string(), message, message_cap) };
                return Ok(code(&e));
            }
        };
        match run(&v.inner, input) {
            Ok(u) => {
                let u = revocard_update::of(u);
                // SAFETY: as above.
                unsafe { write_opt(update, u) };
                let text = match u.outcome {
                    revocard_update_outcome::Installed => format!("installed {}", u.to),
                    revocard_update_outcome::Advanced => {
                        format!("advanced from {} to {}", u.from, u.to)
                    }
                    _ => format!("unchanged at {}", u.to),
                };
                // SAFETY: as above.
                unsafe { message_out(&text, message, message_cap) };
                Ok(revocard_result::Ok)
            }
            Err(e) => {
                // SAFETY: as above.
                unsafe { message_out(&e.to_string(), message, message_cap) };
                Ok(code(&e))
            }
        }
    })
}

/// Installs a root-signed key set (`keysets/<K>.rks`) at time `now` (Unix seconds):
/// the keys it certifies become trusted, the keys it revokes are revoked at once.
///
/// Answers `REVOCARD_RESULT_OK` with `update->outcome` Installed, Advanced or
/// Unchanged, or a key-set refusal code (400-499) with outcome Refused, the verifier
/// keeping its keys. `update` (optional) receives the outcome and sequences;
/// `message` (optional, `message_cap` bytes) receives a NUL-terminated line saying
/// what happened or why not, cut to fit. Longer than `REVOCARD_MAX_KEY_SET_BYTES`:
/// `REVOCARD_RESULT_KEY_SET_MALFORMED` without reading the bytes.
///
/// Thread-safety: may run while other threads verify; they see the old keys or the
/// new ones, never a mix.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_install_key_set(
    verifier: *const revocard_verifier,
    bytes: *const u8,
    len: usize,
    now: u64,
    update: *mut revocard_update,
    message: *mut c_char,
    message_cap: usize,
) -> revocard_result {
    // SAFETY: the pointers as documented, passed through.
    unsafe {
        install(
            verifier,
            bytes,
            len,
            REVOCARD_MAX_KEY_SET_BYTES,
            WireObject::KeySet,
            update,
            message,
            message_cap,
            KeySetError::Malformed,
            revocard_result::of_key_set_error,
            |v, b| v.install_key_set(b, UnixTime(now)),
        )
    }
}

/// Installs a full signed revocation list (`lists/<N>.rcl`) at time `now`.
///
/// Answers `REVOCARD_RESULT_OK` (Installed, Advanced, Unchanged) or a list refusal
/// code (300-399), the verifier keeping its list: rollback, equivocation, untrusted
/// signer, bad signature, ... `update` and `message` as for
/// `revocard_verifier_install_key_set`. Longer than `REVOCARD_MAX_LIST_BYTES`:
/// `REVOCARD_RESULT_LIST_MALFORMED` without reading the bytes.
///
/// Thread-safety: as `revocard_verifier_install_key_set`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_install_list(
    verifier: *const revocard_verifier,
    bytes: *const u8,
    len: usize,
    now: u64,
    update: *mut revocard_update,
    message: *mut c_char,
    message_cap: usize,
) -> revocard_result {
    // SAFETY: the pointers as documented, passed through.
    unsafe {
        install(
            verifier,
            bytes,
            len,
            REVOCARD_MAX_LIST_BYTES,
            WireObject::RevocationList,
            update,
            message,
            message_cap,
            ListError::Malformed,
            revocard_result::of_list_error,
            |v, b| v.install_list(b, UnixTime(now)),
        )
    }
}

/// Applies a signed delta (`deltas/<N>.rcd`, from list N-1 to N) at time `now`.
///
/// Answers as `revocard_verifier_install_list`; a delta that does not start at the
/// sequence held answers `REVOCARD_RESULT_LIST_GAP` (fetch the full list) or
/// `REVOCARD_RESULT_LIST_ROLLBACK`. Longer than `REVOCARD_MAX_DELTA_BYTES`:
/// `REVOCARD_RESULT_LIST_MALFORMED` without reading the bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_apply_delta(
    verifier: *const revocard_verifier,
    bytes: *const u8,
    len: usize,
    now: u64,
    update: *mut revocard_update,
    message: *mut c_char,
    message_cap: usize,
) -> revocard_result {
    // SAFETY: the pointers as documented, passed through.
    unsafe {
        install(
            verifier,
            bytes,
            len,
            REVOCARD_MAX_DELTA_BYTES,
            WireObject::Delta,
            update,
            message,
            message_cap,
            ListError::Malformed,
            revocard_result::of_list_error,
            |v, b| v.apply_delta(b, UnixTime(now)),
        )
    }
}

/// Writes the sequence of the list held for the anchor's issuer into `*sequence`:
/// the next delta to fetch is `deltas/<sequence + 1>.rcd`.
/// `REVOCARD_RESULT_NO_STATUS_LIST` if none is held.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_list_sequence(
    verifier: *const revocard_verifier,
    sequence: *mut u64,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verifier` is NULL or live (contract).
        let v = unsafe { handle(verifier) }?;
        let list = v.inner.list(&v.issuer);
        let held = list.ok_or(revocard_result::NoStatusList);
        let seq = held.as_ref().map_or(0, |l| l.sequence());
        // SAFETY: `sequence` is NULL (refused) or valid for one `uint64_t` (contract).
        unsafe { write_out(sequence, seq) }?;
        held.map(|_| revocard_result::Ok)
    })
}

/// The verdict for credential bytes at `now`: the verifier's answer, as
/// `Verifier::verify` gives it.
pub(crate) fn verdict_for(verifier: &Verifier, bytes: &[u8], now: u64) -> revocard_verdict {
    match verifier.verify(bytes, UnixTime(now)) {
        Ok(v) => {
            let serial = v.serial();
            revocard_verdict::new(Ok(v), Some(serial), true)
        }
        Err(d) => denied(d, bytes),
    }
}

/// A denial, naming the serial the bytes claim (if they decode) and whether the
/// issuer signature had been verified before the check that failed.
fn denied(d: Denial, bytes: &[u8]) -> revocard_verdict {
    let serial = UnverifiedCredential::from_bytes(bytes)
        .ok()
        .map(|c| c.unverified_claims().serial);
    let verified = matches!(
        d,
        Denial::NotYetValid { .. }
            | Denial::Expired { .. }
            | Denial::NoStatusList { .. }
            | Denial::StatusStale { .. }
            | Denial::StatusIndexOutOfRange { .. }
            | Denial::Revoked { .. }
            | Denial::Suspended { .. }
    );
    revocard_verdict::new(Err(DoorDenial::Credential(d)), serial, verified)
}

/// Too large to be a credential (or its text): denied as malformed, unread.
pub(crate) fn oversize(object: WireObject, len: usize, max: usize) -> revocard_verdict {
    let d = Denial::Malformed(DecodeError::TooLarge { object, len, max });
    revocard_verdict::new(Err(DoorDenial::Credential(d)), None, false)
}

/// Hands `verdict` out through the optional `out` and answers its code.
///
/// # Safety
/// `out` is NULL or valid for one pointer.
pub(crate) unsafe fn answer(
    verdict: revocard_verdict,
    out: *mut *mut revocard_verdict,
) -> Result<revocard_result, revocard_result> {
    let result = verdict.result();
    if !out.is_null() {
        // SAFETY: not NULL and valid for one pointer (contract).
        unsafe { give(out, verdict) }?;
    }
    Ok(result)
}

/// Verifies the `len` credential bytes at `credential` at time `now` (Unix seconds):
/// issuer key, signature (strict Ed25519), validity, and status in the list held.
///
/// Answers `REVOCARD_RESULT_OK` (admitted) or the denial's code (100-199). If
/// `verdict` is not NULL, `*verdict` receives a new verdict to read the claims or the
/// denial from (free it with `revocard_verdict_free`); with NULL nothing is
/// allocated. Longer than `REVOCARD_MAX_CREDENTIAL_BYTES`:
/// `REVOCARD_RESULT_MALFORMED_CREDENTIAL` without reading the bytes.
///
/// Thread-safety: any number of threads at once, also while lists are installed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_verify(
    verifier: *const revocard_verifier,
    credential: *const u8,
    len: usize,
    now: u64,
    verdict: *mut *mut revocard_verdict,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verifier` is NULL or live (contract).
        let v = unsafe { handle(verifier) }?;
        // SAFETY: `credential` is NULL (refused) or valid for `len` bytes (contract).
        let out = match unsafe { bytes_in(credential, len, REVOCARD_MAX_CREDENTIAL_BYTES) } {
            Ok(bytes) => verdict_for(&v.inner, bytes, now),
            Err(Refused::Null) => return Err(revocard_result::NullParameter),
            Err(Refused::TooLong { len, max }) => oversize(WireObject::Credential, len, max),
        };
        // SAFETY: `verdict` is NULL or valid for one pointer (contract).
        unsafe { answer(out, verdict) }
    })
}

/// Decodes a credential's text form (base64url, as a QR code carries it; leading and
/// trailing ASCII whitespace ignored) into bytes: copied into `buf` of `cap` bytes,
/// the length into `*written`. `REVOCARD_RESULT_MALFORMED_CREDENTIAL` if it is not
/// base64url, not UTF-8, or longer than `REVOCARD_MAX_CREDENTIAL_TEXT_LEN`; with `buf`
/// NULL or too small, `REVOCARD_RESULT_BUFFER_TOO_SMALL` and the length needed (a
/// buffer of `REVOCARD_MAX_CREDENTIAL_BYTES` always suffices for a credential).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_credential_from_text(
    text: *const c_char,
    len: usize,
    buf: *mut u8,
    cap: usize,
    written: *mut usize,
) -> revocard_result {
    boundary(|| {
        if written.is_null() {
            return Err(revocard_result::NullParameter);
        }
        // SAFETY: `text` is NULL (refused) or valid for `len` bytes (contract).
        let bytes = match unsafe { text_bytes(text, len) } {
            Ok(bytes) => bytes,
            Err(TextRefused::Null) => return Err(revocard_result::NullParameter),
            Err(_) => return Err(revocard_result::MalformedCredential),
        };
        // SAFETY: `buf`/`cap`/`written` as documented.
        unsafe { bytes_out(&bytes, buf, cap, written) }
    })
}

/// Whitespace allowed around a credential's text (a line end, a QR reader's padding)
/// beyond `REVOCARD_MAX_CREDENTIAL_TEXT_LEN`.
const TEXT_SLACK: usize = 64;

/// Why a credential's text was refused.
enum TextRefused {
    Null,
    TooLong { len: usize, max: usize },
    Invalid(DecodeError),
}

/// The credential bytes of the text at `text`.
///
/// # Safety
/// `text` is NULL or valid for `len` bytes.
unsafe fn text_bytes(text: *const c_char, len: usize) -> Result<Vec<u8>, TextRefused> {
    // SAFETY: the caller's contract; `c_char` has the size and alignment of `u8`.
    let raw = match unsafe {
        bytes_in(
            text.cast::<u8>(),
            len,
            REVOCARD_MAX_CREDENTIAL_TEXT_LEN + TEXT_SLACK,
        )
    } {
        Ok(raw) => raw,
        Err(Refused::Null) => return Err(TextRefused::Null),
        Err(Refused::TooLong { len, max }) => return Err(TextRefused::TooLong { len, max }),
    };
    let text = core::str::from_utf8(raw.trim_ascii())
        .map_err(|_| TextRefused::Invalid(DecodeError::NotBase64))?;
    revocard::credential_bytes_from_text(text).map_err(TextRefused::Invalid)
}

/// As `revocard_verifier_verify`, for the credential's text form (`len` bytes at
/// `text`, no NUL needed; whitespace around it ignored). Text that is not a
/// credential's denies as `REVOCARD_RESULT_MALFORMED_CREDENTIAL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_verifier_verify_text(
    verifier: *const revocard_verifier,
    text: *const c_char,
    len: usize,
    now: u64,
    verdict: *mut *mut revocard_verdict,
) -> revocard_result {
    boundary(|| {
        // SAFETY: `verifier` is NULL or live (contract).
        let v = unsafe { handle(verifier) }?;
        // SAFETY: `text` is NULL (refused) or valid for `len` bytes (contract).
        let out = match unsafe { text_bytes(text, len) } {
            Ok(bytes) => verdict_for(&v.inner, &bytes, now),
            Err(TextRefused::Null) => return Err(revocard_result::NullParameter),
            Err(TextRefused::TooLong { len, max }) => {
                oversize(WireObject::CredentialText, len, max)
            }
            Err(TextRefused::Invalid(e)) => revocard_verdict::new(
                Err(DoorDenial::Credential(Denial::Malformed(e))),
                None,
                false,
            ),
        };
        // SAFETY: `verdict` is NULL or valid for one pointer (contract).
        unsafe { answer(out, verdict) }
    })
}
