//! What a door controller embeds: door policies, one call that decides a tap, a cache
//! of verified credentials for repeat taps, and decisions as structured events.
//!
//! A [`DoorController`] shares one [`Verifier`] (and so one trust store and one set of
//! status lists, swapped in while doors decide) between its doors. Each door has a
//! [`DoorPolicy`]: which kinds it admits, the vetting it requires, whether the card
//! must prove possession of its key (holder binding), and its own clock skew and
//! list freshness. [`DoorController::tap`] decides a tap in one call and returns a
//! [`Decision`]: admit with the [`VerifiedCredential`], or a [`DoorDenial`].
//!
//! ```
//! use std::sync::Arc;
//! use rand::{SeedableRng, rngs::StdRng};
//! use revocard::door::*;
//! use revocard::issue::*;
//! use revocard::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = StdRng::seed_from_u64(7);
//! let now = UnixTime(1_800_000_000);
//! let key = IssuerKey::generate(IssuerId::new("example-police")?, Validity::new(now, now.plus(9_999_999))?, &mut rng)?;
//! let card_key = CardKey::generate(&mut rng);
//! let credential = key.issue(CredentialRequest {
//!     kind: Kind::WarrantCard,
//!     holder: Holder::new("123456", "A. Officer", "Sergeant", "Custody", PhotoDigest::of(b"jpeg"))?,
//!     vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Management), None),
//!     status_index: StatusIndex(42),
//!     print_batch: PrintBatchId(1),
//!     validity: Validity::new(now, now.plus(999_999))?,
//!     card_key: Some(card_key.public()),
//!     supersedes: None,
//! }, now, &mut rng)?;
//! let card = Card::new(credential.into_bytes(), card_key)?;
//!
//! let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
//! verifier.add_key(key.public().clone())?;
//! let mut statuses = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY)?;
//! verifier.install_list(&statuses.publish(&key, now, now.plus(3600))?.list, now)?;
//!
//! let custody = DoorId::new("custody-suite")?;
//! let doors = DoorController::new(verifier, vec![
//!     DoorPolicy::new(custody.clone())
//!         .admit_only(&[Kind::WarrantCard])
//!         .require_vetting(VettingRequirement::force(ForceVetting::Management))
//!         .require_holder_binding(),
//! ])?;
//! // The door sends a fresh challenge; the card signs it with its own key.
//! let challenge = doors.challenge(&custody, now, &mut rng)?;
//! let response = card.respond(&challenge);
//! assert!(doors.tap(&custody, card.credential(), Some(&response), now).is_admitted());
//! // A recorded response does not open it again: a challenge is single-use.
//! let replay = doors.tap(&custody, card.credential(), Some(&response), now);
//! assert_eq!(replay.denial(), Some(&DoorDenial::ChallengeReplayed));
//! assert_eq!(replay.event().reason, "challenge_replayed");
//! // The credential bytes alone (a photographed QR code) do not answer a challenge.
//! let copy = doors.tap(&custody, card.credential(), None, now);
//! assert_eq!(copy.denial(), Some(&DoorDenial::ResponseMissing));
//! # Ok(())
//! # }
//! ```
//!
//! # Check order
//!
//! Credential (decode, key, signature, issue time, validity, status), then policy
//! (kind, vetting), then holder binding (card key, response, challenge, response
//! signature). Nothing the credential claims is believed before its signature is
//! checked. With holder binding, the credential's and the response's signatures are
//! checked together, each with exactly the answer `verify_strict` gives it (no
//! decompression of either `R`, one field inversion for both; see `verify/pair.rs`),
//! so a bad response is named without a second check.
//!
//! # Cache
//!
//! A credential that opened a door is cached under the SHA-256 digest of its bytes
//! (at most [`MAX_CACHED_CREDENTIALS`], oldest out first). A repeat tap of the same
//! bytes skips decoding and the credential signature, and re-checks everything else
//! against the current snapshot: key trust, revocation and window, validity, status,
//! policy, and the challenge. A list, delta or key revocation installed in the
//! verifier therefore takes effect on the very next tap, cached or not.
//!
//! # Concurrency
//!
//! `DoorController` is `Send + Sync`. A tap loads the verifier's snapshot once; the
//! cache and the challenge store sit behind their own mutexes, each held only for a
//! lookup or an insertion, never across a signature check.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use ed25519_dalek::{Signature, VerifyingKey};
use rand::CryptoRng;

mod challenge;
mod error;

use crate::model::{Kind, Serial, UnixTime, VettingRequirement};
use crate::verify::{
    CardResponse, Denial, SignatureCheck, UnverifiedCredential, VerifiedCredential, Verifier,
    VerifierState, VerifyOptions, door_card_key,
};
use crate::wire::{self, ChallengeFields, MAX_CREDENTIAL_BYTES, credential_digest};
use challenge::{ChallengeStore, NotOutstanding};

pub use crate::model::{DoorId, MAX_DOOR_ID_LEN};
pub use crate::wire::Challenge;
pub use challenge::{MAX_OUTSTANDING_CHALLENGES, MAX_RETIRED_CHALLENGES};
pub use error::{DoorDenial, DoorError};

/// Default lifetime of a challenge: a tap takes a second; 30 s allows a slow phone.
pub const DEFAULT_CHALLENGE_TTL_SECS: u64 = 30;
/// Longest lifetime a door may give a challenge. A challenge lives in the door's
/// memory until answered or expired; five minutes bounds how long a relayed
/// challenge stays useful.
pub const MAX_CHALLENGE_TTL_SECS: u64 = 300;
/// Most verified credentials a controller caches. A building's staff fits (a few
/// thousand cards seen every day); each entry holds one credential's claims, under
/// 1 KB, so the cache stays under 4 MB.
pub const MAX_CACHED_CREDENTIALS: usize = 4096;

/// What one door demands. [`DoorPolicy::new`] admits every valid card; each builder
/// method narrows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorPolicy {
    door: DoorId,
    kinds: Vec<Kind>,
    vetting: VettingRequirement,
    holder_binding: bool,
    options: VerifyOptions,
    challenge_ttl_secs: u64,
}

impl DoorPolicy {
    /// A door admitting every kind of valid card, with no vetting demand, no holder
    /// binding, default [`VerifyOptions`] and challenge lifetime.
    #[must_use]
    pub fn new(door: DoorId) -> Self {
        Self {
            door,
            kinds: vec![Kind::WarrantCard, Kind::StaffPass],
            vetting: VettingRequirement::none(),
            holder_binding: false,
            options: VerifyOptions::default(),
            challenge_ttl_secs: DEFAULT_CHALLENGE_TTL_SECS,
        }
    }

    /// Admits only these kinds (none, if empty).
    #[must_use]
    pub fn admit_only(mut self, kinds: &[Kind]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }

    /// Demands this vetting.
    #[must_use]
    pub fn require_vetting(mut self, vetting: VettingRequirement) -> Self {
        self.vetting = vetting;
        self
    }

    /// Demands that the card prove possession of its key by answering a challenge.
    #[must_use]
    pub fn require_holder_binding(mut self) -> Self {
        self.holder_binding = true;
        self
    }

    /// This door's clock skew, list freshness grace and stale policy.
    #[must_use]
    pub fn with_options(mut self, options: VerifyOptions) -> Self {
        self.options = options;
        self
    }

    /// This door's challenge lifetime, in seconds, at most [`MAX_CHALLENGE_TTL_SECS`].
    #[must_use]
    pub fn with_challenge_ttl(mut self, secs: u64) -> Self {
        self.challenge_ttl_secs = secs.min(MAX_CHALLENGE_TTL_SECS);
        self
    }

    /// The door.
    #[must_use]
    pub fn door(&self) -> &DoorId {
        &self.door
    }

    /// Whether this door admits `kind`.
    #[must_use]
    pub fn admits(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }

    /// The vetting demanded.
    #[must_use]
    pub fn vetting(&self) -> VettingRequirement {
        self.vetting
    }

    /// Whether holder binding is required.
    #[must_use]
    pub fn holder_binding(&self) -> bool {
        self.holder_binding
    }

    /// This door's verification options.
    #[must_use]
    pub fn options(&self) -> VerifyOptions {
        self.options
    }

    /// This door's challenge lifetime, in seconds.
    #[must_use]
    pub fn challenge_ttl_secs(&self) -> u64 {
        self.challenge_ttl_secs
    }
}

/// What a tap learnt about the credential, whatever the outcome.
#[derive(Debug, Default)]
struct Seen {
    serial: Option<Serial>,
    verified: bool,
    cached: bool,
}

/// A credential whose signature was verified, kept for repeat taps.
#[derive(Debug)]
struct Cached {
    credential: VerifiedCredential,
    /// The card key, decompressed and checked on first use.
    card_key: OnceLock<Option<VerifyingKey>>,
}

impl Cached {
    fn card_key(&self) -> Option<VerifyingKey> {
        *self.card_key.get_or_init(|| {
            self.credential
                .claims()
                .card_key
                .and_then(|k| door_card_key(&k).ok())
        })
    }
}

/// Verified credentials by the digest of their bytes; the oldest leaves first.
#[derive(Debug, Default)]
struct Cache {
    capacity: usize,
    entries: HashMap<[u8; 32], Arc<Cached>>,
    order: VecDeque<[u8; 32]>,
}

impl Cache {
    fn get(&self, digest: &[u8; 32]) -> Option<Arc<Cached>> {
        self.entries.get(digest).cloned()
    }

    fn insert(&mut self, digest: [u8; 32], entry: Arc<Cached>) {
        if self.capacity == 0 || self.entries.contains_key(&digest) {
            return;
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        self.entries.insert(digest, entry);
        self.order.push_back(digest);
    }
}

/// Door policies, a shared verifier, outstanding challenges and a cache of verified
/// credentials. `Send + Sync`: share one between the threads that serve the doors.
#[derive(Debug)]
pub struct DoorController {
    verifier: Arc<Verifier>,
    doors: Vec<DoorPolicy>,
    challenges: Mutex<ChallengeStore>,
    cache: Mutex<Cache>,
}

/// A response whose challenge was taken: the challenge it answers and the signature
/// it carries. The message it should sign depends on the credential presented.
struct Binding {
    challenge: ChallengeFields,
    signature: Signature,
}

impl Binding {
    fn message(&self, credential_digest: &[u8; 32]) -> Vec<u8> {
        wire::response_message(&self.challenge, credential_digest)
    }
}

impl DoorController {
    /// A controller for `doors`, sharing `verifier` (install lists and deltas in it
    /// while doors decide). The cache holds up to [`MAX_CACHED_CREDENTIALS`].
    ///
    /// # Errors
    /// [`DoorError::DuplicateDoor`] if two policies name the same door.
    pub fn new(verifier: Arc<Verifier>, doors: Vec<DoorPolicy>) -> Result<Self, DoorError> {
        for (i, policy) in doors.iter().enumerate() {
            if doors.iter().skip(i + 1).any(|p| p.door == policy.door) {
                return Err(DoorError::DuplicateDoor {
                    door: policy.door.clone(),
                });
            }
        }
        Ok(Self {
            verifier,
            doors,
            challenges: Mutex::new(ChallengeStore::new()),
            cache: Mutex::new(Cache {
                capacity: MAX_CACHED_CREDENTIALS,
                ..Cache::default()
            }),
        })
    }

    /// With a cache of at most `capacity` credentials (at most
    /// [`MAX_CACHED_CREDENTIALS`]); 0 turns the cache off.
    #[must_use]
    pub fn with_cache_capacity(self, capacity: usize) -> Self {
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.capacity = capacity.min(MAX_CACHED_CREDENTIALS);
            cache.entries.clear();
            cache.order.clear();
        }
        self
    }

    /// The shared verifier.
    #[must_use]
    pub fn verifier(&self) -> &Arc<Verifier> {
        &self.verifier
    }

    /// The doors.
    #[must_use]
    pub fn doors(&self) -> &[DoorPolicy] {
        &self.doors
    }

    /// The policy of `door`.
    #[must_use]
    pub fn door(&self, door: &DoorId) -> Option<&DoorPolicy> {
        self.doors.iter().find(|p| &p.door == door)
    }

    /// How many credentials are cached.
    #[must_use]
    pub fn cached_credentials(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    /// How many challenges are outstanding (issued, not yet answered or expired).
    #[must_use]
    pub fn outstanding_challenges(&self) -> usize {
        self.challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .outstanding()
    }

    /// Issues a fresh challenge at `door`, valid for the door's challenge lifetime
    /// from `now`. The controller remembers it until it is answered or expires (or,
    /// past [`MAX_OUTSTANDING_CHALLENGES`], until newer ones push it out).
    ///
    /// # Errors
    /// [`DoorError::UnknownDoor`].
    pub fn challenge(
        &self,
        door: &DoorId,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Challenge, DoorError> {
        let policy = self
            .door(door)
            .ok_or_else(|| DoorError::UnknownDoor { door: door.clone() })?;
        Ok(self
            .challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .issue(policy.door.clone(), now, policy.challenge_ttl_secs, rng))
    }

    /// Decides a tap at `door` at time `now`: the credential bytes presented and, for
    /// a door that requires holder binding, the card's response to a challenge this
    /// controller issued for that door. (A door that does not require binding ignores
    /// a response.) One answer: admit with the verified credential, or a denial.
    #[must_use]
    pub fn tap(
        &self,
        door: &DoorId,
        credential: &[u8],
        response: Option<&[u8]>,
        now: UnixTime,
    ) -> Decision {
        let Some(policy) = self.door(door) else {
            return Decision {
                door: door.clone(),
                at: now,
                serial: None,
                serial_verified: false,
                cached: false,
                outcome: Err(DoorDenial::UnknownDoor { door: door.clone() }),
            };
        };
        // The response's challenge is taken (spent) first, whatever comes next: every
        // challenge gets exactly one attempt.
        let binding = policy
            .holder_binding
            .then(|| self.take_challenge(policy, response, now));
        let state = self.verifier.state();
        // Hash only what could be a credential: an oversized input is refused unhashed.
        let digest =
            (credential.len() <= MAX_CREDENTIAL_BYTES).then(|| credential_digest(credential));
        let cached = digest.and_then(|d| {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&d)
        });
        let mut seen = Seen::default();
        let outcome = match (cached, digest) {
            (Some(entry), Some(digest)) => {
                seen = Seen {
                    serial: Some(entry.credential.serial()),
                    verified: true,
                    cached: true,
                };
                tap_cached(&state, policy, &entry, &digest, binding, now)
            }
            _ => self.tap_full(&state, policy, credential, binding, now, &mut seen),
        };
        Decision {
            door: policy.door.clone(),
            at: now,
            serial: seen.serial,
            serial_verified: seen.verified,
            cached: seen.cached,
            outcome,
        }
    }

    /// A first tap: the whole credential, and the response checked with it.
    fn tap_full(
        &self,
        state: &VerifierState,
        policy: &DoorPolicy,
        bytes: &[u8],
        binding: Option<Result<Binding, DoorDenial>>,
        now: UnixTime,
        seen: &mut Seen,
    ) -> Result<VerifiedCredential, DoorDenial> {
        let options = &policy.options;
        let cred = UnverifiedCredential::from_bytes(bytes).map_err(Denial::from)?;
        let digest = credential_digest(bytes);
        let claims = cred.unverified_claims();
        seen.serial = Some(claims.serial);
        // Decompressed only where a response is to be checked.
        let card_key = match binding {
            Some(_) => claims.card_key.map(|k| door_card_key(&k)),
            None => None,
        };
        // With a response to check (a good binding, a card key that decompresses), its
        // signature is checked in `accept` with the credential's, each with exactly
        // `verify_strict`'s answer; otherwise the credential's alone.
        let response = match (&binding, &card_key) {
            (Some(Ok(b)), Some(Ok(card))) => Some((card, b.message(&digest), &b.signature)),
            _ => None,
        };
        let check = match &response {
            Some((key, message, signature)) => SignatureCheck::WithResponse(CardResponse {
                key,
                message,
                signature,
            }),
            None => SignatureCheck::Strict,
        };
        let accepted = state.accept(cred, now, options, check).map_err(|refusal| {
            seen.verified = refusal.signature_verified;
            DoorDenial::from(refusal.denial)
        })?;
        let response_good = accepted.response_verified == Some(true);
        let verified = accepted.credential;
        seen.verified = true;
        check_policy(policy, &verified)?;
        let card_key = match (binding, card_key) {
            (None, _) => None,
            (Some(_), None) => return Err(DoorDenial::NoCardKey),
            (Some(binding), Some(card_key)) => {
                binding?;
                let card_key = card_key.map_err(|_| DoorDenial::BadCardKey)?;
                if !response_good {
                    return Err(DoorDenial::BadResponseSignature);
                }
                Some(card_key)
            }
        };
        let entry = Arc::new(Cached {
            credential: verified.clone(),
            card_key: card_key.map_or_else(OnceLock::new, |k| OnceLock::from(Some(k))),
        });
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest, entry);
        Ok(verified)
    }

    /// Decodes the response and takes its challenge (spending it), checking door and
    /// expiry. What is left is the signature.
    fn take_challenge(
        &self,
        policy: &DoorPolicy,
        response: Option<&[u8]>,
        now: UnixTime,
    ) -> Result<Binding, DoorDenial> {
        let bytes = response.ok_or(DoorDenial::ResponseMissing)?;
        let parsed = wire::decode_response(bytes).map_err(DoorDenial::MalformedResponse)?;
        let taken = self
            .challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(&parsed.nonce, now);
        if parsed.door != policy.door {
            return Err(DoorDenial::WrongDoor {
                made_for: parsed.door,
            });
        }
        let fields = taken.map_err(|e| match e {
            NotOutstanding::Unknown => DoorDenial::ChallengeUnknown,
            NotOutstanding::Replayed => DoorDenial::ChallengeReplayed,
            NotOutstanding::Expired { expires_at } => {
                DoorDenial::ChallengeExpired { expires_at, now }
            }
        })?;
        if fields.door != policy.door {
            return Err(DoorDenial::WrongDoor {
                made_for: fields.door,
            });
        }
        if now > fields.expires_at {
            return Err(DoorDenial::ChallengeExpired {
                expires_at: fields.expires_at,
                now,
            });
        }
        Ok(Binding {
            challenge: fields,
            signature: Signature::from_bytes(&parsed.signature),
        })
    }
}

/// A repeat tap: everything but decoding and the credential's signature.
fn tap_cached(
    state: &VerifierState,
    policy: &DoorPolicy,
    entry: &Cached,
    digest: &[u8; 32],
    binding: Option<Result<Binding, DoorDenial>>,
    now: UnixTime,
) -> Result<VerifiedCredential, DoorDenial> {
    let claims = entry.credential.claims();
    state.recheck(claims, now, &policy.options)?;
    check_policy(policy, &entry.credential)?;
    if let Some(binding) = binding {
        if claims.card_key.is_none() {
            return Err(DoorDenial::NoCardKey);
        }
        let binding = binding?;
        let card_key = entry.card_key().ok_or(DoorDenial::BadCardKey)?;
        card_key
            .verify_strict(&binding.message(digest), &binding.signature)
            .map_err(|_| DoorDenial::BadResponseSignature)?;
    }
    Ok(entry.credential.clone())
}

/// Kind and vetting, against the door's policy.
fn check_policy(policy: &DoorPolicy, credential: &VerifiedCredential) -> Result<(), DoorDenial> {
    let claims = credential.claims();
    if !policy.admits(claims.kind) {
        return Err(DoorDenial::KindNotAdmitted { kind: claims.kind });
    }
    if !policy.vetting.is_met_by(&claims.vetting) {
        return Err(DoorDenial::VettingTooLow {
            held: claims.vetting,
            required: policy.vetting,
        });
    }
    Ok(())
}

/// A door's answer to one tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    door: DoorId,
    at: UnixTime,
    serial: Option<Serial>,
    serial_verified: bool,
    cached: bool,
    outcome: Result<VerifiedCredential, DoorDenial>,
}

impl Decision {
    /// Whether the door opens.
    #[must_use]
    pub fn is_admitted(&self) -> bool {
        self.outcome.is_ok()
    }

    /// The outcome: the verified credential, or why not.
    ///
    /// # Errors
    /// The [`DoorDenial`], if denied.
    pub fn outcome(&self) -> Result<&VerifiedCredential, &DoorDenial> {
        self.outcome.as_ref()
    }

    /// The outcome, by value.
    ///
    /// # Errors
    /// The [`DoorDenial`], if denied.
    pub fn into_outcome(self) -> Result<VerifiedCredential, DoorDenial> {
        self.outcome
    }

    /// The denial, if denied.
    #[must_use]
    pub fn denial(&self) -> Option<&DoorDenial> {
        self.outcome.as_ref().err()
    }

    /// The door.
    #[must_use]
    pub fn door(&self) -> &DoorId {
        &self.door
    }

    /// When.
    #[must_use]
    pub fn at(&self) -> UnixTime {
        self.at
    }

    /// The serial presented, if the bytes decoded; see [`Self::serial_verified`].
    #[must_use]
    pub fn serial(&self) -> Option<Serial> {
        self.serial
    }

    /// Whether the serial is covered by a verified issuer signature (if not, it is
    /// only what the bytes claim: a forgery can name any serial).
    #[must_use]
    pub fn serial_verified(&self) -> bool {
        self.serial_verified
    }

    /// Whether the credential came from the cache (a repeat tap).
    #[must_use]
    pub fn from_cache(&self) -> bool {
        self.cached
    }

    /// The stable reason code: `admitted`, or the denial's [`DoorDenial::code`].
    #[must_use]
    pub fn reason_code(&self) -> &'static str {
        match &self.outcome {
            Ok(_) => "admitted",
            Err(denial) => denial.code(),
        }
    }

    /// The decision as an event for logs and monitoring: door, time, outcome, reason
    /// code and serial. No holder data (name, pay number, rank, unit, vetting, kind).
    #[must_use]
    pub fn event(&self) -> DoorEvent {
        DoorEvent {
            door: self.door.clone(),
            at: self.at,
            admitted: self.is_admitted(),
            reason: self.reason_code(),
            serial: self.serial.map(|s| s.to_hex()),
            serial_verified: self.serial_verified,
            cached: self.cached,
        }
    }
}

/// One door decision as a structured event (`serde::Serialize`). It names the card by
/// serial only: no name, pay number, rank, unit, kind or vetting, so that a log of
/// events leaks nothing a breach of the log could use against a holder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct DoorEvent {
    /// The door.
    pub door: DoorId,
    /// When (Unix seconds).
    pub at: UnixTime,
    /// Whether the door opened.
    pub admitted: bool,
    /// `admitted`, or the stable denial code ([`DoorDenial::code`]).
    pub reason: &'static str,
    /// The serial presented (32 hex digits), if the bytes decoded.
    pub serial: Option<String>,
    /// Whether that serial is covered by a verified issuer signature.
    pub serial_verified: bool,
    /// Whether the credential came from the cache.
    pub cached: bool,
}
