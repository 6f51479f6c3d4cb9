//! Doors: a policy per door, a controller sharing a verifier between its doors, the
//! challenge a door sends, and the tap it decides. And the card's side of a
//! challenge, for software cards (test rigs, phone wallets).

use core::ffi::c_char;
use std::sync::Arc;

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use revocard::door::{Challenge, DoorController, DoorDenial, DoorId, DoorPolicy};
use revocard::issue::CardKey;
use revocard::{DecodeError, Kind, UnixTime, VettingRequirement, WireObject};

use crate::boundary::{
    REVOCARD_MAX_CHALLENGE_BYTES, REVOCARD_MAX_CREDENTIAL_BYTES, REVOCARD_MAX_DOOR_ID_LEN,
    REVOCARD_MAX_RESPONSE_BYTES, REVOCARD_RANDOM_LEN, Refused, boundary, bytes_in, bytes_out, give,
    handle, handle_mut, take_back, text_in, write_out,
};
use crate::result::{
    revocard_kind, revocard_national_vetting, revocard_police_vetting, revocard_result,
};
use crate::verdict::revocard_verdict;
use crate::verifier::{answer, oversize, revocard_verifier};

/// A card's secret key, in bytes (an Ed25519 seed).
const CARD_SECRET_LEN: usize = 32;

/// Most doors one controller serves. A panel drives a few dozen readers; the
/// controller looks a door up by a linear scan, so the bound keeps a tap's lookup short
/// and a caller's array from being read without limit.
pub const REVOCARD_MAX_DOORS: usize = 256;

/// What one door demands: the kinds it admits, the vetting it requires, whether the
/// card must answer a challenge (holder binding), and the challenge lifetime. A new
/// policy admits every valid card.
///
/// Ownership: made by `revocard_door_policy_new`, freed once by
/// `revocard_door_policy_free`. `revocard_door_controller_new` copies policies, so a
/// policy may be freed (or changed) once the controller is made. Thread-safety: not
/// to be used from two threads at once.
pub struct revocard_door_policy {
    inner: DoorPolicy,
}

/// A door controller: door policies, the shared verifier, the challenges it issued
/// and a cache of credentials that opened a door (repeat taps skip the credential's
/// signature and re-check everything else against the current list).
///
/// Ownership: made by `revocard_door_controller_new`, freed once by
/// `revocard_door_controller_free`. Thread-safety: challenges and taps may run on any
/// number of threads at once (as may installs on the verifier it shares); only
/// `revocard_door_controller_free` must not race with another call on it.
pub struct revocard_door_controller {
    inner: DoorController,
}

/// A door id from C: printable ASCII, 1 to `REVOCARD_MAX_DOOR_ID_LEN` bytes.
///
/// # Safety
/// `door` is NULL or valid for `len` bytes.
unsafe fn door_id(door: *const c_char, len: usize) -> Result<DoorId, revocard_result> {
    // SAFETY: the caller's contract.
    let text = unsafe { text_in(door, len, REVOCARD_MAX_DOOR_ID_LEN) }?;
    DoorId::new(text).map_err(|_| revocard_result::BadArgument)
}

/// Makes a policy for the door named by the `len` bytes at `door_id` (printable
/// ASCII, at most `REVOCARD_MAX_DOOR_ID_LEN`): every kind admitted, no vetting
/// demanded, no holder binding, a 30 s challenge lifetime. `*out` receives it.
/// `REVOCARD_RESULT_BAD_ARGUMENT` for an id that is not one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_policy_new(
    door_id_ptr: *const c_char,
    len: usize,
    out: *mut *mut revocard_door_policy,
) -> revocard_result {
    boundary(|| {
        if out.is_null() {
            return Err(revocard_result::NullParameter);
        }
        // SAFETY: `door_id_ptr` is NULL (refused) or valid for `len` bytes (contract).
        let door = unsafe { door_id(door_id_ptr, len) }?;
        let policy = revocard_door_policy {
            inner: DoorPolicy::new(door),
        };
        // SAFETY: `out` is not NULL and valid for one pointer (contract).
        unsafe { give(out, policy) }?;
        Ok(revocard_result::Ok)
    })
}

/// Frees a policy. NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_policy_free(policy: *mut revocard_door_policy) {
    boundary(|| {
        // SAFETY: NULL or a policy this library made, freed once (contract).
        unsafe { take_back(policy) };
        Ok(revocard_result::Ok)
    });
}

/// Admits only the kinds in `kinds`, an OR of `revocard_kind` bits (0 admits none).
/// `REVOCARD_RESULT_BAD_ARGUMENT` for any other bit; the policy is unchanged then.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_policy_admit_kinds(
    policy: *mut revocard_door_policy,
    kinds: u32,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live policy used by this thread only (contract).
        let p = unsafe { handle_mut(policy) }?;
        let warrant = revocard_kind::WarrantCard as u32;
        let staff = revocard_kind::StaffPass as u32;
        if kinds & !(warrant | staff) != 0 {
            return Err(revocard_result::BadArgument);
        }
        let mut admitted = Vec::new();
        if kinds & warrant != 0 {
            admitted.push(Kind::WarrantCard);
        }
        if kinds & staff != 0 {
            admitted.push(Kind::StaffPass);
        }
        p.inner = p.inner.clone().admit_only(&admitted);
        Ok(revocard_result::Ok)
    })
}

/// Demands vetting: `force_min` the lowest force level admitted
/// (`REVOCARD_POLICE_VETTING_FORCE_RV` or `_FORCE_MV`, or 0: force-vetted holders
/// refused), `nppv_min` the lowest NPPV level admitted (`_NPPV1`..`_NPPV3`, or 0:
/// contractors refused), and `national_min` a national security level demanded on top
/// (a `revocard_national_vetting`, 0 for none). With both ladders 0, any police ladder
/// passes. `REVOCARD_RESULT_BAD_ARGUMENT` for a value out of its set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_policy_require_vetting(
    policy: *mut revocard_door_policy,
    force_min: u32,
    nppv_min: u32,
    national_min: u32,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live policy used by this thread only (contract).
        let p = unsafe { handle_mut(policy) }?;
        let bad = |()| revocard_result::BadArgument;
        let requirement = VettingRequirement {
            force: revocard_police_vetting::force_min(force_min).map_err(bad)?,
            nppv: revocard_police_vetting::nppv_min(nppv_min).map_err(bad)?,
            national: revocard_national_vetting::min(national_min).map_err(bad)?,
        };
        p.inner = p.inner.clone().require_vetting(requirement);
        Ok(revocard_result::Ok)
    })
}

/// Demands holder binding: the card must answer a fresh challenge of this door with
/// the key its credential names. A copied credential (a photographed QR code, a
/// supplier's leaked data) then never opens the door.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_policy_require_holder_binding(
    policy: *mut revocard_door_policy,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live policy used by this thread only (contract).
        let p = unsafe { handle_mut(policy) }?;
        p.inner = p.inner.clone().require_holder_binding();
        Ok(revocard_result::Ok)
    })
}

/// Sets this door's challenge lifetime in seconds (at most 300; more is cut to 300).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_policy_set_challenge_ttl(
    policy: *mut revocard_door_policy,
    secs: u64,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live policy used by this thread only (contract).
        let p = unsafe { handle_mut(policy) }?;
        p.inner = p.inner.clone().with_challenge_ttl(secs);
        Ok(revocard_result::Ok)
    })
}

/// Makes a controller for the `count` doors whose policies are at `policies` (an
/// array of `count` pointers, 1 to `REVOCARD_MAX_DOORS`), sharing `verifier` (install
/// lists and deltas through it while doors decide). The policies are copied.
/// `*out` receives the controller. `REVOCARD_RESULT_DUPLICATE_DOOR` if two policies
/// name one door; `REVOCARD_RESULT_BAD_ARGUMENT` for a count of 0 or above the limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_controller_new(
    verifier: *const revocard_verifier,
    policies: *const *const revocard_door_policy,
    count: usize,
    out: *mut *mut revocard_door_controller,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live verifier (contract).
        let v = unsafe { handle(verifier) }?;
        if out.is_null() || policies.is_null() {
            return Err(revocard_result::NullParameter);
        }
        if count == 0 || count > REVOCARD_MAX_DOORS {
            return Err(revocard_result::BadArgument);
        }
        // SAFETY: `policies` is not NULL and points to `count` pointers (contract),
        // aligned as a C array of pointers; `count` is at most `REVOCARD_MAX_DOORS`.
        let list = unsafe { core::slice::from_raw_parts(policies, count) };
        let mut doors = Vec::with_capacity(count);
        for &p in list {
            // SAFETY: each element is NULL (refused) or a live policy (contract).
            doors.push(unsafe { handle(p) }?.inner.clone());
        }
        let inner = DoorController::new(Arc::clone(&v.inner), doors)
            .map_err(|_| revocard_result::DuplicateDoor)?;
        // SAFETY: `out` is not NULL and valid for one pointer (contract).
        unsafe { give(out, revocard_door_controller { inner }) }?;
        Ok(revocard_result::Ok)
    })
}

/// Frees a controller (its outstanding challenges and cache go with it). NULL is a
/// no-op. The verifier it shared stays usable through its own handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_controller_free(controller: *mut revocard_door_controller) {
    boundary(|| {
        // SAFETY: NULL or a controller this library made, freed once (contract).
        unsafe { take_back(controller) };
        Ok(revocard_result::Ok)
    });
}

/// Issues a fresh challenge at a door, valid from `now` for the door's challenge
/// lifetime, its nonce drawn from the caller's `REVOCARD_RANDOM_LEN` (32) random bytes
/// at `random` (take them from the platform's CSPRNG: a predictable nonce lets a
/// relayed answer be prepared in advance). The controller remembers it until
/// answered or expired.
///
/// The encoded challenge (send it to the card) is copied into `buf` of `cap` bytes,
/// its length into `*written`. `cap` must be at least `REVOCARD_MAX_CHALLENGE_BYTES`:
/// otherwise `REVOCARD_RESULT_BUFFER_TOO_SMALL` and no challenge is issued.
/// `REVOCARD_RESULT_UNKNOWN_DOOR` for a door the controller does not have.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_controller_challenge(
    controller: *const revocard_door_controller,
    door: *const c_char,
    door_len: usize,
    now: u64,
    random: *const u8,
    buf: *mut u8,
    cap: usize,
    written: *mut usize,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live controller (contract).
        let c = unsafe { handle(controller) }?;
        // SAFETY: NULL (refused) or valid for `door_len` bytes (contract).
        let door = unsafe { door_id(door, door_len) }?;
        // SAFETY: NULL (refused) or valid for `REVOCARD_RANDOM_LEN` bytes (contract).
        let random = unsafe { bytes_in(random, REVOCARD_RANDOM_LEN, REVOCARD_RANDOM_LEN) }?;
        let mut seed = [0u8; REVOCARD_RANDOM_LEN];
        seed.copy_from_slice(random);
        if written.is_null() {
            return Err(revocard_result::NullParameter);
        }
        if buf.is_null() || cap < REVOCARD_MAX_CHALLENGE_BYTES {
            // SAFETY: `written` is not NULL and valid for one `size_t` (contract).
            unsafe { write_out(written, REVOCARD_MAX_CHALLENGE_BYTES) }?;
            return Ok(revocard_result::BufferTooSmall);
        }
        let mut rng = StdRng::from_seed(seed);
        let challenge = c
            .inner
            .challenge(&door, UnixTime(now), &mut rng)
            .map_err(|_| revocard_result::UnknownDoor)?;
        // SAFETY: `buf` holds `cap` bytes, `written` one `size_t` (contract).
        unsafe { bytes_out(&challenge.to_bytes(), buf, cap, written) }
    })
}

/// Decides a tap at a door at time `now`: the `credential_len` credential bytes
/// presented and, for a door that requires holder binding, the card's response
/// (`response` NULL with `response_len` 0 when the card gave none). A response names
/// a challenge, which is spent by this tap whatever its outcome.
///
/// Answers `REVOCARD_RESULT_OK` (admit) or the denial's code (100-299); `*verdict`
/// (optional) receives the verdict. Over-long credential or response bytes are denied
/// as malformed without being read. `REVOCARD_RESULT_BAD_ARGUMENT` for a door id that
/// is not one; a door the controller does not have is a denial
/// (`REVOCARD_RESULT_UNKNOWN_DOOR`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_door_controller_tap(
    controller: *const revocard_door_controller,
    door: *const c_char,
    door_len: usize,
    credential: *const u8,
    credential_len: usize,
    response: *const u8,
    response_len: usize,
    now: u64,
    verdict: *mut *mut revocard_verdict,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL or a live controller (contract).
        let c = unsafe { handle(controller) }?;
        // SAFETY: NULL (refused) or valid for `door_len` bytes (contract).
        let door = unsafe { door_id(door, door_len) }?;
        // SAFETY: NULL (refused) or valid for `credential_len` bytes (contract).
        let credential =
            match unsafe { bytes_in(credential, credential_len, REVOCARD_MAX_CREDENTIAL_BYTES) } {
                Ok(bytes) => bytes,
                Err(Refused::Null) => return Err(revocard_result::NullParameter),
                Err(Refused::TooLong { len, max }) => {
                    // SAFETY: `verdict` is NULL or valid for one pointer (contract).
                    return unsafe { answer(oversize(WireObject::Credential, len, max), verdict) };
                }
            };
        let response = if response.is_null() && response_len == 0 {
            None
        } else {
            // SAFETY: NULL (refused) or valid for `response_len` bytes (contract).
            match unsafe { bytes_in(response, response_len, REVOCARD_MAX_RESPONSE_BYTES) } {
                Ok(bytes) => Some(bytes),
                Err(Refused::Null) => return Err(revocard_result::NullParameter),
                Err(Refused::TooLong { len, max }) => {
                    let d = DoorDenial::MalformedResponse(DecodeError::TooLarge {
                        object: WireObject::ChallengeResponse,
                        len,
                        max,
                    });
                    // SAFETY: as above.
                    return unsafe { answer(revocard_verdict::new(Err(d), None, false), verdict) };
                }
            }
        };
        let decision = c.inner.tap(&door, credential, response, UnixTime(now));
        let serial = decision.serial();
        let verified = decision.serial_verified();
        let out = revocard_verdict::new(decision.into_outcome(), serial, verified);
        // SAFETY: `verdict` is NULL or valid for one pointer (contract).
        unsafe { answer(out, verdict) }
    })
}

/// The card's side, for software cards (test rigs, phone wallets; a smart card does
/// this on its chip): answers the challenge bytes at `challenge` for the credential
/// bytes at `credential`, signing with the card's 32-byte secret at `secret`. It does
/// not check that the credential names this card's key: a door does.
///
/// The response is copied into `buf` of `cap` bytes, its length into `*written` (a
/// buffer of `REVOCARD_MAX_RESPONSE_BYTES` always suffices; smaller or NULL:
/// `REVOCARD_RESULT_BUFFER_TOO_SMALL` and the length). `REVOCARD_RESULT_CHALLENGE_MALFORMED`
/// if the bytes are not a challenge; `REVOCARD_RESULT_MALFORMED_CREDENTIAL` for
/// credential bytes over `REVOCARD_MAX_CREDENTIAL_BYTES`. The secret is read in place
/// and the library's copy is zeroed when the call returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn revocard_card_respond(
    secret: *const u8,
    challenge: *const u8,
    challenge_len: usize,
    credential: *const u8,
    credential_len: usize,
    buf: *mut u8,
    cap: usize,
    written: *mut usize,
) -> revocard_result {
    boundary(|| {
        // SAFETY: NULL (refused) or valid for 32 bytes (contract).
        let secret = unsafe { bytes_in(secret, CARD_SECRET_LEN, CARD_SECRET_LEN) }?;
        let secret: &[u8; CARD_SECRET_LEN] = secret
            .try_into()
            .map_err(|_| revocard_result::BadArgument)?;
        // SAFETY: NULL (refused) or valid for `challenge_len` bytes (contract).
        let challenge = unsafe { bytes_in(challenge, challenge_len, REVOCARD_MAX_CHALLENGE_BYTES) }
            .map_err(|r| match r {
                Refused::Null => revocard_result::NullParameter,
                Refused::TooLong { .. } => revocard_result::ChallengeMalformed,
            })?;
        // SAFETY: NULL (refused) or valid for `credential_len` bytes (contract).
        let credential =
            unsafe { bytes_in(credential, credential_len, REVOCARD_MAX_CREDENTIAL_BYTES) }
                .map_err(|r| match r {
                    Refused::Null => revocard_result::NullParameter,
                    Refused::TooLong { .. } => revocard_result::MalformedCredential,
                })?;
        let challenge =
            Challenge::from_bytes(challenge).map_err(|_| revocard_result::ChallengeMalformed)?;
        let key = CardKey::from_secret_bytes(secret);
        let response = key.respond(&challenge, credential);
        // SAFETY: `buf` holds `cap` bytes, `written` one `size_t` (contract).
        unsafe { bytes_out(&response, buf, cap, written) }
    })
}
