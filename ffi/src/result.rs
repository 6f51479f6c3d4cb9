//! The result codes: stable numbers, one per outcome a caller can act on, and the
//! small enums of the ABI (kinds, vetting levels, holder fields).

use core::ffi::c_char;

use revocard::door::DoorDenial;
use revocard::{
    Denial, ForceVetting, KeySetError, Kind, ListError, NationalSecurity, Nppv, PoliceVetting,
};

use crate::boundary::boundary_or;

/// What a call did. The numbers are stable: a code is never renumbered or reused.
///
/// - 0: success.
/// - 1-99: the call itself was wrong (NULL, bad argument, buffer too small) or failed
///   inside (panic).
/// - 100-199: a credential was denied (the verifier's reasons).
/// - 200-299: a door denied a tap for a reason of its own (policy, holder binding).
/// - 300-399: a revocation list or delta was refused; the verifier keeps its list.
/// - 400-499: a key set was refused; the verifier keeps its keys.
/// - 500-599: set-up refused (anchor, doors, saved state, challenge).
///
/// In C the type is `uint32_t` and the names are `REVOCARD_RESULT_*` constants;
/// `revocard_result_name` gives the stable snake-case name of each.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum revocard_result {
    /// Success; for a verification or a tap, admitted.
    Ok = 0,
    /// A required pointer was NULL. Nothing was read or changed.
    NullParameter = 1,
    /// An argument was out of range (a length above its limit, an unknown enum
    /// value, text that is not UTF-8, a door id that is not one). Nothing changed.
    BadArgument = 2,
    /// The output buffer is NULL or too small; the length needed was written.
    BufferTooSmall = 3,
    /// The library panicked (a bug); the call had no effect that can be relied on.
    /// The handles stay usable.
    Panic = 4,
    /// The verdict holds no such value (a denied credential has no claims).
    NotAvailable = 5,

    /// Not a credential (truncated, oversize, trailing bytes, bad field).
    MalformedCredential = 100,
    /// No trusted key has the credential's key id.
    UnknownKey = 101,
    /// The key is trusted for another issuer than the credential names.
    IssuerMismatch = 102,
    /// The issuer key was revoked.
    KeyRevoked = 103,
    /// The time (or the credential's issue time) is outside the key's window.
    KeyOutsideWindow = 104,
    /// The key may not sign credentials.
    WrongKeyUsage = 105,
    /// The issuer signature does not verify.
    BadSignature = 106,
    /// Not valid yet, even allowing for clock skew.
    NotYetValid = 107,
    /// Expired, even allowing for clock skew.
    Expired = 108,
    /// No status list held for the issuer (fail closed).
    NoStatusList = 109,
    /// The status list is past its next update plus grace (fail closed).
    StatusStale = 110,
    /// The status index lies outside the issuer's list.
    StatusIndexOutOfRange = 111,
    /// Revoked.
    Revoked = 112,
    /// Suspended.
    Suspended = 113,
    /// The list held for the issuer is out of force: its signer may no longer sign
    /// lists (revoked, no longer certified, or its window ended); fail closed until a
    /// list from a usable key arrives.
    ListSignerUnusable = 114,
    /// Denied for a reason this build of the ABI has no code for.
    DeniedOther = 199,

    /// The tap names a door the controller does not have.
    UnknownDoor = 200,
    /// The door does not admit this kind of card.
    KindNotAdmitted = 201,
    /// The holder's vetting does not meet the door's requirement.
    VettingTooLow = 202,
    /// The door requires holder binding and the credential has no card key.
    NoCardKey = 203,
    /// The door requires holder binding and no response came.
    ResponseMissing = 204,
    /// The response bytes are not a response.
    MalformedResponse = 205,
    /// The response answers another door's challenge.
    WrongDoor = 206,
    /// The response answers no challenge this controller remembers.
    ChallengeUnknown = 207,
    /// The challenge was already answered: a replay.
    ChallengeReplayed = 208,
    /// The challenge expired before the response came.
    ChallengeExpired = 209,
    /// The credential's card key is not a usable public key.
    BadCardKey = 210,
    /// The response signature does not verify under the card key (a copied
    /// credential without its chip).
    BadResponseSignature = 211,
    /// The door denied for a reason this build of the ABI has no code for.
    DoorDeniedOther = 299,

    /// Not a list or delta (truncated, oversize, bad field).
    ListMalformed = 300,
    /// The signer is unknown, revoked, outside its window or another issuer's.
    ListUntrusted = 301,
    /// The list's signature does not verify.
    ListBadSignature = 302,
    /// Signed in the future beyond the clock skew.
    ListNotYetValid = 303,
    /// Older than the list held: a rollback.
    ListRollback = 304,
    /// A different list with the sequence held: equivocation.
    ListConflict = 305,
    /// The delta starts after the sequence held: fetch a full list.
    ListGap = 306,
    /// The delta was made from another list: fetch a full list.
    ListBranch = 307,
    /// A delta for an issuer whose list is not held: fetch a full list.
    ListNoBaseList = 308,
    /// The delta covers another number of indexes than the list held.
    ListCapacityMismatch = 309,
    /// The changes do not fit the list held, or lift a revocation.
    ListInconsistent = 310,
    /// A newer list drops a scope entry in force.
    ListScopeDropped = 311,
    /// Refused for a reason this build of the ABI has no code for.
    ListRefusedOther = 399,

    /// Not a key set.
    KeySetMalformed = 400,
    /// No root installed for the key set's issuer.
    KeySetNoRoot = 401,
    /// The key set names another root than the one installed.
    KeySetWrongRoot = 402,
    /// The root's signature does not verify.
    KeySetBadSignature = 403,
    /// The root is outside its validity window.
    KeySetRootOutsideWindow = 404,
    /// Signed in the future beyond the clock skew.
    KeySetNotYetValid = 405,
    /// Older than the key set held.
    KeySetRollback = 406,
    /// A different key set with the sequence held.
    KeySetConflict = 407,
    /// The set names as usable a key that was revoked.
    KeySetRevocationLifted = 408,
    /// A key in the set is not acceptable.
    KeySetBadKey = 409,
    /// The keys conflict with the keys held.
    KeySetTrustConflict = 410,
    /// Refused for a reason this build of the ABI has no code for.
    KeySetRefusedOther = 499,

    /// The bytes are not a root anchor (or its key is not acceptable).
    AnchorMalformed = 500,
    /// Two door policies name the same door.
    DuplicateDoor = 501,
    /// The saved state is not one (truncated, corrupt, another version).
    StateMalformed = 502,
    /// The challenge bytes are not a challenge.
    ChallengeMalformed = 503,
    /// The saved state does not trust the root of the anchor given.
    StateWrongRoot = 504,
}

impl revocard_result {
    /// Every code, for `revocard_result_name`.
    const ALL: [Self; 65] = [
        Self::Ok,
        Self::NullParameter,
        Self::BadArgument,
        Self::BufferTooSmall,
        Self::Panic,
        Self::NotAvailable,
        Self::MalformedCredential,
        Self::UnknownKey,
        Self::IssuerMismatch,
        Self::KeyRevoked,
        Self::KeyOutsideWindow,
        Self::WrongKeyUsage,
        Self::BadSignature,
        Self::NotYetValid,
        Self::Expired,
        Self::NoStatusList,
        Self::StatusStale,
        Self::StatusIndexOutOfRange,
        Self::Revoked,
        Self::Suspended,
        Self::ListSignerUnusable,
        Self::DeniedOther,
        Self::UnknownDoor,
        Self::KindNotAdmitted,
        Self::VettingTooLow,
        Self::NoCardKey,
        Self::ResponseMissing,
        Self::MalformedResponse,
        Self::WrongDoor,
        Self::ChallengeUnknown,
        Self::ChallengeReplayed,
        Self::ChallengeExpired,
        Self::BadCardKey,
        Self::BadResponseSignature,
        Self::DoorDeniedOther,
        Self::ListMalformed,
        Self::ListUntrusted,
        Self::ListBadSignature,
        Self::ListNotYetValid,
        Self::ListRollback,
        Self::ListConflict,
        Self::ListGap,
        Self::ListBranch,
        Self::ListNoBaseList,
        Self::ListCapacityMismatch,
        Self::ListInconsistent,
        Self::ListScopeDropped,
        Self::ListRefusedOther,
        Self::KeySetMalformed,
        Self::KeySetNoRoot,
        Self::KeySetWrongRoot,
        Self::KeySetBadSignature,
        Self::KeySetRootOutsideWindow,
        Self::KeySetNotYetValid,
        Self::KeySetRollback,
        Self::KeySetConflict,
        Self::KeySetRevocationLifted,
        Self::KeySetBadKey,
        Self::KeySetTrustConflict,
        Self::KeySetRefusedOther,
        Self::AnchorMalformed,
        Self::DuplicateDoor,
        Self::StateMalformed,
        Self::ChallengeMalformed,
        Self::StateWrongRoot,
    ];

    /// The stable snake-case name: for credential and door denials, the library's own
    /// reason code (`Denial::code`, `DoorDenial::code`).
    pub(crate) fn name(self) -> &'static core::ffi::CStr {
        match self {
            Self::Ok => c"ok",
            Self::NullParameter => c"null_parameter",
            Self::BadArgument => c"bad_argument",
            Self::BufferTooSmall => c"buffer_too_small",
            Self::Panic => c"panic",
            Self::NotAvailable => c"not_available",
            Self::MalformedCredential => c"malformed_credential",
            Self::UnknownKey => c"unknown_key",
            Self::IssuerMismatch => c"issuer_mismatch",
            Self::KeyRevoked => c"key_revoked",
            Self::KeyOutsideWindow => c"key_outside_window",
            Self::WrongKeyUsage => c"wrong_key_usage",
            Self::BadSignature => c"bad_signature",
            Self::NotYetValid => c"not_yet_valid",
            Self::Expired => c"expired",
            Self::NoStatusList => c"no_status_list",
            Self::StatusStale => c"status_stale",
            Self::StatusIndexOutOfRange => c"status_index_out_of_range",
            Self::Revoked => c"revoked",
            Self::Suspended => c"suspended",
            Self::ListSignerUnusable => c"list_signer_unusable",
            Self::DeniedOther => c"denied_other",
            Self::UnknownDoor => c"unknown_door",
            Self::KindNotAdmitted => c"kind_not_admitted",
            Self::VettingTooLow => c"vetting_too_low",
            Self::NoCardKey => c"no_card_key",
            Self::ResponseMissing => c"response_missing",
            Self::MalformedResponse => c"malformed_response",
            Self::WrongDoor => c"wrong_door",
            Self::ChallengeUnknown => c"challenge_unknown",
            Self::ChallengeReplayed => c"challenge_replayed",
            Self::ChallengeExpired => c"challenge_expired",
            Self::BadCardKey => c"bad_card_key",
            Self::BadResponseSignature => c"bad_response_signature",
            Self::DoorDeniedOther => c"door_denied_other",
            Self::ListMalformed => c"list_malformed",
            Self::ListUntrusted => c"list_untrusted",
            Self::ListBadSignature => c"list_bad_signature",
            Self::ListNotYetValid => c"list_not_yet_valid",
            Self::ListRollback => c"list_rollback",
            Self::ListConflict => c"list_conflict",
            Self::ListGap => c"list_gap",
            Self::ListBranch => c"list_branch",
            Self::ListNoBaseList => c"list_no_base_list",
            Self::ListCapacityMismatch => c"list_capacity_mismatch",
            Self::ListInconsistent => c"list_inconsistent",
            Self::ListScopeDropped => c"list_scope_dropped",
            Self::ListRefusedOther => c"list_refused_other",
            Self::KeySetMalformed => c"key_set_malformed",
            Self::KeySetNoRoot => c"key_set_no_root",
            Self::KeySetWrongRoot => c"key_set_wrong_root",
            Self::KeySetBadSignature => c"key_set_bad_signature",
            Self::KeySetRootOutsideWindow => c"key_set_root_outside_window",
            Self::KeySetNotYetValid => c"key_set_not_yet_valid",
            Self::KeySetRollback => c"key_set_rollback",
            Self::KeySetConflict => c"key_set_conflict",
            Self::KeySetRevocationLifted => c"key_set_revocation_lifted",
            Self::KeySetBadKey => c"key_set_bad_key",
            Self::KeySetTrustConflict => c"key_set_trust_conflict",
            Self::KeySetRefusedOther => c"key_set_refused_other",
            Self::AnchorMalformed => c"anchor_malformed",
            Self::DuplicateDoor => c"duplicate_door",
            Self::StateMalformed => c"state_malformed",
            Self::ChallengeMalformed => c"challenge_malformed",
            Self::StateWrongRoot => c"state_wrong_root",
        }
    }

    /// The code of a credential denial.
    pub(crate) fn of_denial(d: &Denial) -> Self {
        match d {
            Denial::Malformed(_) => Self::MalformedCredential,
            Denial::UnknownKey { .. } => Self::UnknownKey,
            Denial::IssuerMismatch { .. } => Self::IssuerMismatch,
            Denial::KeyRevoked { .. } => Self::KeyRevoked,
            Denial::KeyOutsideWindow { .. } => Self::KeyOutsideWindow,
            Denial::WrongKeyUsage { .. } => Self::WrongKeyUsage,
            Denial::BadSignature => Self::BadSignature,
            Denial::NotYetValid { .. } => Self::NotYetValid,
            Denial::Expired { .. } => Self::Expired,
            Denial::NoStatusList { .. } => Self::NoStatusList,
            Denial::StatusStale { .. } => Self::StatusStale,
            Denial::StatusIndexOutOfRange { .. } => Self::StatusIndexOutOfRange,
            Denial::Revoked { .. } => Self::Revoked,
            Denial::Suspended { .. } => Self::Suspended,
            Denial::ListSignerUnusable { .. } => Self::ListSignerUnusable,
            _ => Self::DeniedOther,
        }
    }

    /// The code of a door's denial.
    pub(crate) fn of_door_denial(d: &DoorDenial) -> Self {
        match d {
            DoorDenial::Credential(denial) => Self::of_denial(denial),
            DoorDenial::UnknownDoor { .. } => Self::UnknownDoor,
            DoorDenial::KindNotAdmitted { .. } => Self::KindNotAdmitted,
            DoorDenial::VettingTooLow { .. } => Self::VettingTooLow,
            DoorDenial::NoCardKey => Self::NoCardKey,
            DoorDenial::ResponseMissing => Self::ResponseMissing,
            DoorDenial::MalformedResponse(_) => Self::MalformedResponse,
            DoorDenial::WrongDoor { .. } => Self::WrongDoor,
            DoorDenial::ChallengeUnknown => Self::ChallengeUnknown,
            DoorDenial::ChallengeReplayed => Self::ChallengeReplayed,
            DoorDenial::ChallengeExpired { .. } => Self::ChallengeExpired,
            DoorDenial::BadCardKey => Self::BadCardKey,
            DoorDenial::BadResponseSignature => Self::BadResponseSignature,
            _ => Self::DoorDeniedOther,
        }
    }

    /// The code of a refused list or delta.
    pub(crate) fn of_list_error(e: &ListError) -> Self {
        match e {
            ListError::Malformed(_) => Self::ListMalformed,
            ListError::Untrusted(_) => Self::ListUntrusted,
            ListError::BadSignature => Self::ListBadSignature,
            ListError::NotYetValid { .. } => Self::ListNotYetValid,
            ListError::Rollback { .. } => Self::ListRollback,
            ListError::Conflict { .. } => Self::ListConflict,
            ListError::Gap { .. } => Self::ListGap,
            ListError::Branch { .. } => Self::ListBranch,
            ListError::NoBaseList { .. } => Self::ListNoBaseList,
            ListError::CapacityMismatch { .. } => Self::ListCapacityMismatch,
            ListError::Inconsistent(_) => Self::ListInconsistent,
            ListError::ScopeDropped { .. } => Self::ListScopeDropped,
            _ => Self::ListRefusedOther,
        }
    }

    /// The code of a refused key set.
    pub(crate) fn of_key_set_error(e: &KeySetError) -> Self {
        match e {
            KeySetError::Malformed(_) => Self::KeySetMalformed,
            KeySetError::NoRoot { .. } => Self::KeySetNoRoot,
            KeySetError::WrongRoot { .. } => Self::KeySetWrongRoot,
            KeySetError::BadSignature => Self::KeySetBadSignature,
            KeySetError::RootOutsideWindow { .. } => Self::KeySetRootOutsideWindow,
            KeySetError::NotYetValid { .. } => Self::KeySetNotYetValid,
            KeySetError::Rollback { .. } => Self::KeySetRollback,
            KeySetError::Conflict { .. } => Self::KeySetConflict,
            KeySetError::RevocationLifted { .. } => Self::KeySetRevocationLifted,
            KeySetError::BadKey { .. } => Self::KeySetBadKey,
            KeySetError::Trust(_) => Self::KeySetTrustConflict,
            _ => Self::KeySetRefusedOther,
        }
    }
}

/// The stable snake-case name of a result code (`"ok"`, `"revoked"`,
/// `"list_rollback"`, ...), as a static NUL-terminated string; `"unknown"` for a
/// number that is no code.
///
/// Ownership: static; never free it. Thread-safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn revocard_result_name(result: u32) -> *const c_char {
    boundary_or(c"panic".as_ptr(), || {
        revocard_result::ALL
            .iter()
            .find(|r| **r as u32 == result)
            .map_or(c"unknown", |r| r.name())
            .as_ptr()
    })
}

/// A kind of card (`uint32_t` in C). As a door policy's set of kinds, the values are
/// bits to OR together.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum revocard_kind {
    /// A sworn officer's warrant card.
    WarrantCard = 1,
    /// A pass for police staff or a contractor.
    StaffPass = 2,
}

impl revocard_kind {
    pub(crate) fn of(kind: Kind) -> Self {
        match kind {
            Kind::WarrantCard => Self::WarrantCard,
            Kind::StaffPass => Self::StaffPass,
        }
    }
}

/// A level on one of the police vetting ladders (`uint32_t` in C). 0 means none.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum revocard_police_vetting {
    /// None (as a door's requirement: this ladder is not admitted).
    None = 0,
    /// Force vetting: Recruitment Vetting (RV).
    ForceRv = 1,
    /// Force vetting: Management Vetting (MV).
    ForceMv = 2,
    /// Non-Police Personnel Vetting level 1.
    Nppv1 = 11,
    /// NPPV level 2, abbreviated checks.
    Nppv2Abbreviated = 12,
    /// NPPV level 2, full checks.
    Nppv2 = 13,
    /// NPPV level 3.
    Nppv3 = 14,
}

impl revocard_police_vetting {
    pub(crate) fn of(v: PoliceVetting) -> Self {
        match v {
            PoliceVetting::Force(ForceVetting::Recruitment) => Self::ForceRv,
            PoliceVetting::Force(ForceVetting::Management) => Self::ForceMv,
            PoliceVetting::NonPolice(Nppv::Level1) => Self::Nppv1,
            PoliceVetting::NonPolice(Nppv::Level2Abbreviated) => Self::Nppv2Abbreviated,
            PoliceVetting::NonPolice(Nppv::Level2) => Self::Nppv2,
            PoliceVetting::NonPolice(Nppv::Level3) => Self::Nppv3,
        }
    }

    /// A door's minimum on the force ladder: `None`, `ForceRv` or `ForceMv`.
    pub(crate) fn force_min(code: u32) -> Result<Option<ForceVetting>, ()> {
        match code {
            0 => Ok(None),
            1 => Ok(Some(ForceVetting::Recruitment)),
            2 => Ok(Some(ForceVetting::Management)),
            _ => Err(()),
        }
    }

    /// A door's minimum on the NPPV ladder: `None` or `Nppv1`..`Nppv3`.
    pub(crate) fn nppv_min(code: u32) -> Result<Option<Nppv>, ()> {
        match code {
            0 => Ok(None),
            11 => Ok(Some(Nppv::Level1)),
            12 => Ok(Some(Nppv::Level2Abbreviated)),
            13 => Ok(Some(Nppv::Level2)),
            14 => Ok(Some(Nppv::Level3)),
            _ => Err(()),
        }
    }
}

/// National security vetting (`uint32_t` in C). 0 means none.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum revocard_national_vetting {
    /// None held (as a door's requirement: none demanded).
    None = 0,
    /// Counter-Terrorist Check.
    Ctc = 1,
    /// Security Check.
    Sc = 2,
    /// Enhanced Security Check.
    Esc = 3,
    /// Developed Vetting.
    Dv = 4,
}

impl revocard_national_vetting {
    pub(crate) fn of(v: Option<NationalSecurity>) -> Self {
        match v {
            None => Self::None,
            Some(NationalSecurity::Ctc) => Self::Ctc,
            Some(NationalSecurity::Sc) => Self::Sc,
            Some(NationalSecurity::Esc) => Self::Esc,
            Some(NationalSecurity::Dv) => Self::Dv,
        }
    }

    pub(crate) fn min(code: u32) -> Result<Option<NationalSecurity>, ()> {
        match code {
            0 => Ok(None),
            1 => Ok(Some(NationalSecurity::Ctc)),
            2 => Ok(Some(NationalSecurity::Sc)),
            3 => Ok(Some(NationalSecurity::Esc)),
            4 => Ok(Some(NationalSecurity::Dv)),
            _ => Err(()),
        }
    }
}

/// A text field of the holder (`uint32_t` in C), for `revocard_verdict_holder`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum revocard_holder_field {
    /// The pay number.
    PayNumber = 1,
    /// The name.
    Name = 2,
    /// The rank or grade.
    Rank = 3,
    /// The unit.
    Unit = 4,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_name_and_the_table_covers_every_number() {
        let mut seen = std::collections::HashSet::new();
        for r in revocard_result::ALL {
            seen.insert(r as u32);
            // SAFETY: the name is a static C string.
            let name = unsafe { core::ffi::CStr::from_ptr(revocard_result_name(r as u32)) };
            assert_eq!(name, r.name());
        }
        let names: std::collections::HashSet<_> =
            revocard_result::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(names.len(), seen.len());
        // SAFETY: as above.
        let unknown = unsafe { core::ffi::CStr::from_ptr(revocard_result_name(98)) };
        assert_eq!(unknown, c"unknown");
    }

    #[test]
    fn door_denial_names_are_the_library_codes() {
        for (d, r) in [
            (
                DoorDenial::ChallengeReplayed,
                revocard_result::ChallengeReplayed,
            ),
            (DoorDenial::NoCardKey, revocard_result::NoCardKey),
            (
                DoorDenial::Credential(Denial::BadSignature),
                revocard_result::BadSignature,
            ),
        ] {
            assert_eq!(revocard_result::of_door_denial(&d), r);
            assert_eq!(r.name().to_str().ok(), Some(d.code()));
        }
    }
}
