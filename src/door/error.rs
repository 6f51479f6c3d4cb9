//! Why a door refused a tap, or a controller a configuration.

use crate::model::vetting::{Vetting, VettingRequirement};
use crate::model::{DoorId, Kind, UnixTime};
use crate::verify::Denial;
use crate::wire::DecodeError;

/// Why a door refused a tap: the credential's own denial, or what the door's policy
/// and holder binding add. Each names something an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DoorDenial {
    /// The credential itself was denied (bad signature, revoked, stale list, ...).
    #[error(transparent)]
    Credential(#[from] Denial),
    /// The tap names a door this controller does not have.
    #[error("no door {door} on this controller")]
    UnknownDoor {
        /// The door named.
        door: DoorId,
    },
    /// The door does not admit this kind of card.
    #[error("{kind:?} is not admitted at this door")]
    KindNotAdmitted {
        /// The credential's kind.
        kind: Kind,
    },
    /// The holder's vetting does not meet the door's requirement.
    #[error("vetting {held} does not meet this door's requirement")]
    VettingTooLow {
        /// The holder's vetting.
        held: Vetting,
        /// What the door requires.
        required: VettingRequirement,
    },
    /// The door requires holder binding and the credential carries no card key.
    #[error("this door requires holder binding and the credential has no card key")]
    NoCardKey,
    /// The door requires holder binding and no response came with the credential.
    #[error("this door requires the card to answer a challenge, and no response came")]
    ResponseMissing,
    /// The response bytes are not a response.
    #[error("malformed response: {0}")]
    MalformedResponse(DecodeError),
    /// The response answers a challenge of another door.
    #[error("the response was made for door {made_for}")]
    WrongDoor {
        /// The door the response or its challenge names.
        made_for: DoorId,
    },
    /// The response names a challenge this controller did not issue, or no longer
    /// remembers (evicted when too many were outstanding).
    #[error("the response answers no challenge this controller remembers")]
    ChallengeUnknown,
    /// The challenge was already answered: the response is replayed.
    #[error("the challenge was already answered: a replayed response")]
    ChallengeReplayed,
    /// The challenge expired before the response came.
    #[error("the challenge expired at {expires_at} (now {now})")]
    ChallengeExpired {
        /// When the challenge expired.
        expires_at: UnixTime,
        /// The time given.
        now: UnixTime,
    },
    /// The credential's card key is not a usable public key (the issuer refuses such
    /// keys, so this is a credential signed elsewhere or by a faulty issuer).
    #[error("the credential's card key is weak or not a curve point")]
    BadCardKey,
    /// The response signature does not verify under the credential's card key (a
    /// cloned credential without its key, or a response for another credential).
    #[error("the response signature does not verify under the card key")]
    BadResponseSignature,
}

impl DoorDenial {
    /// A stable, machine-readable code for this reason (snake case): the credential's
    /// [`Denial::code`], or the door's own.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Credential(denial) => denial.code(),
            Self::UnknownDoor { .. } => "unknown_door",
            Self::KindNotAdmitted { .. } => "kind_not_admitted",
            Self::VettingTooLow { .. } => "vetting_too_low",
            Self::NoCardKey => "no_card_key",
            Self::ResponseMissing => "response_missing",
            Self::MalformedResponse(_) => "malformed_response",
            Self::WrongDoor { .. } => "wrong_door",
            Self::ChallengeUnknown => "challenge_unknown",
            Self::ChallengeReplayed => "challenge_replayed",
            Self::ChallengeExpired { .. } => "challenge_expired",
            Self::BadCardKey => "bad_card_key",
            Self::BadResponseSignature => "bad_response_signature",
        }
    }
}

/// Why a door controller could not be set up or asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DoorError {
    /// Two doors with the same id.
    #[error("door {door} is configured twice")]
    DuplicateDoor {
        /// The id.
        door: DoorId,
    },
    /// No door with this id.
    #[error("no door {door} on this controller")]
    UnknownDoor {
        /// The id.
        door: DoorId,
    },
}
