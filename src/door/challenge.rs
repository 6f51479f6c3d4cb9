//! Holder binding: a door's fresh challenge, a card's signed answer, and the door's
//! bounded memory of the challenges it has issued.
//!
//! Credential bytes can be copied (a photographed QR code, a supplier's leaked data);
//! a card's own secret key cannot. A door that requires holder binding issues a
//! [`Challenge`]: 256 random bits bound to the door and to a short lifetime. The card
//! signs, under the card key named in its credential,
//!
//! ```text
//! CHALLENGE_RESPONSE_DOMAIN || version || challenge body || SHA-256(credential bytes)
//! ```
//!
//! so that the answer is good for that door, that challenge, that moment and that
//! credential only. The door checks it against the card key in the verified
//! credential. A challenge is single-use: the first response that names it retires
//! it, whatever the outcome, so every challenge gets one attempt.

use std::collections::{BTreeMap, HashMap, VecDeque};

use rand::CryptoRng;

use crate::model::{DoorId, UnixTime};
use crate::wire::Challenge;
use crate::wire::{CHALLENGE_NONCE_LEN, ChallengeFields};

/// Most challenges a door controller keeps outstanding. Past it, the challenge
/// closest to expiry is forgotten (its response will be denied as unknown): a flood of
/// challenge requests can make a door forget, never make it remember without bound.
/// 4,096 is far more than the taps in flight at once on one controller within a
/// challenge's lifetime; each costs about 100 bytes.
pub const MAX_OUTSTANDING_CHALLENGES: usize = 4096;

/// Most retired challenges (answered, expired or forgotten) a controller remembers,
/// so that a replayed response is named as a replay and a late one as expired. Past
/// it, the oldest are dropped and a response naming one is denied as unknown: still
/// denied, only with a less precise reason.
pub const MAX_RETIRED_CHALLENGES: usize = 4096;

/// Why a response's challenge could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotOutstanding {
    /// Never issued here, or forgotten.
    Unknown,
    /// Already answered.
    Replayed,
    /// Expired before it was answered.
    Expired { expires_at: UnixTime },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retired {
    Answered,
    Expired { expires_at: UnixTime },
    Forgotten,
}

#[derive(Debug)]
struct Outstanding {
    fields: ChallengeFields,
    seq: u64,
}

/// The challenges a controller has issued and not yet seen answered, at most
/// [`MAX_OUTSTANDING_CHALLENGES`], plus a bounded memory of
/// retired ones. Ordered by expiry, so expired ones are forgotten first and cheaply.
#[derive(Debug)]
pub(crate) struct ChallengeStore {
    live: HashMap<[u8; CHALLENGE_NONCE_LEN], Outstanding>,
    by_expiry: BTreeMap<(UnixTime, u64), [u8; CHALLENGE_NONCE_LEN]>,
    retired: HashMap<[u8; CHALLENGE_NONCE_LEN], Retired>,
    retired_order: VecDeque<[u8; CHALLENGE_NONCE_LEN]>,
    next_seq: u64,
}

impl ChallengeStore {
    pub(crate) fn new() -> Self {
        Self {
            live: HashMap::new(),
            by_expiry: BTreeMap::new(),
            retired: HashMap::new(),
            retired_order: VecDeque::new(),
            next_seq: 0,
        }
    }

    pub(crate) fn outstanding(&self) -> usize {
        self.live.len()
    }

    /// Draws a fresh challenge for `door`, valid from `now` for `ttl_secs`, and
    /// remembers it.
    pub(crate) fn issue(
        &mut self,
        door: DoorId,
        now: UnixTime,
        ttl_secs: u64,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Challenge {
        self.retire_expired(now);
        while self.live.len() >= MAX_OUTSTANDING_CHALLENGES {
            let Some((_, nonce)) = self.by_expiry.pop_first() else {
                break;
            };
            self.live.remove(&nonce);
            self.retire(nonce, Retired::Forgotten);
        }
        let mut nonce = [0u8; CHALLENGE_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let fields = ChallengeFields {
            door,
            nonce,
            issued_at: now,
            expires_at: now.plus(ttl_secs),
        };
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if let Some(old) = self.live.insert(
            nonce,
            Outstanding {
                fields: fields.clone(),
                seq,
            },
        ) {
            // 256 random bits repeated: only a broken RNG does this. Keep one entry.
            self.by_expiry.remove(&(old.fields.expires_at, old.seq));
        }
        self.by_expiry.insert((fields.expires_at, seq), nonce);
        Challenge::new(fields)
    }

    /// Takes the challenge `nonce` out, retiring it as answered: it can be answered
    /// once. An expired challenge is retired as expired.
    pub(crate) fn take(
        &mut self,
        nonce: &[u8; CHALLENGE_NONCE_LEN],
        now: UnixTime,
    ) -> Result<ChallengeFields, NotOutstanding> {
        self.retire_expired(now);
        if let Some(entry) = self.live.remove(nonce) {
            self.by_expiry.remove(&(entry.fields.expires_at, entry.seq));
            self.retire(*nonce, Retired::Answered);
            return Ok(entry.fields);
        }
        match self.retired.get(nonce) {
            Some(Retired::Answered) => Err(NotOutstanding::Replayed),
            Some(Retired::Expired { expires_at }) => Err(NotOutstanding::Expired {
                expires_at: *expires_at,
            }),
            Some(Retired::Forgotten) | None => Err(NotOutstanding::Unknown),
        }
    }

    /// Retires every challenge whose last second is before `now`.
    fn retire_expired(&mut self, now: UnixTime) {
        while let Some(entry) = self.by_expiry.first_entry() {
            let (expires_at, _) = *entry.key();
            if expires_at >= now {
                break;
            }
            let nonce = entry.remove();
            self.live.remove(&nonce);
            self.retire(nonce, Retired::Expired { expires_at });
        }
    }

    fn retire(&mut self, nonce: [u8; CHALLENGE_NONCE_LEN], how: Retired) {
        if self.retired.insert(nonce, how).is_none() {
            self.retired_order.push_back(nonce);
        }
        while self.retired_order.len() > MAX_RETIRED_CHALLENGES {
            if let Some(oldest) = self.retired_order.pop_front() {
                self.retired.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn door() -> DoorId {
        DoorId::new("door-1").unwrap()
    }

    #[test]
    fn a_challenge_is_answered_once_then_replayed_and_late_ones_expire() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut store = ChallengeStore::new();
        let now = UnixTime(1000);
        let a = store.issue(door(), now, 30, &mut rng);
        let b = store.issue(door(), now, 30, &mut rng);
        assert_ne!(a.nonce(), b.nonce());
        assert_eq!(store.outstanding(), 2);
        assert_eq!(&store.take(a.nonce(), now.plus(30)).unwrap(), a.fields());
        assert_eq!(
            store.take(a.nonce(), now.plus(30)),
            Err(NotOutstanding::Replayed)
        );
        assert_eq!(
            store.take(b.nonce(), now.plus(31)),
            Err(NotOutstanding::Expired {
                expires_at: now.plus(30)
            })
        );
        assert_eq!(store.outstanding(), 0);
        assert_eq!(store.take(&[7; 32], now), Err(NotOutstanding::Unknown));
    }

    #[test]
    fn the_store_is_bounded_and_forgets_the_closest_to_expiry_first() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut store = ChallengeStore::new();
        let now = UnixTime(1000);
        let first = store.issue(door(), now, 10, &mut rng);
        let long: Vec<Challenge> = (0..MAX_OUTSTANDING_CHALLENGES)
            .map(|_| store.issue(door(), now, 60, &mut rng))
            .collect();
        assert_eq!(store.outstanding(), MAX_OUTSTANDING_CHALLENGES);
        assert_eq!(store.take(first.nonce(), now), Err(NotOutstanding::Unknown));
        for c in &long[..10] {
            assert!(store.take(c.nonce(), now).is_ok());
        }
        // The retired memory is bounded too.
        for _ in 0..3 * MAX_RETIRED_CHALLENGES {
            let c = store.issue(door(), now, 60, &mut rng);
            store.take(c.nonce(), now).unwrap();
        }
        assert!(store.retired.len() <= MAX_RETIRED_CHALLENGES);
        assert_eq!(store.retired_order.len(), store.retired.len());
        assert!(store.live.len() <= MAX_OUTSTANDING_CHALLENGES);
        assert_eq!(store.by_expiry.len(), store.live.len());
    }
}
