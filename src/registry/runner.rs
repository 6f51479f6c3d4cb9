//! The chunked sign-and-commit runner behind roster issue and reissue, and the status
//! index allocator.

use std::ops::ControlFlow;

use rand::{CryptoRng, SeedableRng, rngs::StdRng};

use crate::credential::Credential;
use crate::keys::{CardKey, IssuerKey};
use crate::model::{CredentialRequest, StatusIndex, UnixTime};
use crate::status::Status;

use super::store::{CredentialRecord, RegistryError};

pub(super) fn record_for(credential: &Credential) -> CredentialRecord {
    let c = credential.claims();
    CredentialRecord {
        serial: c.serial,
        pay_number: c.holder.pay_number().to_owned(),
        status_index: c.status_index,
        print_batch: c.print_batch,
        key_id: c.key_id,
        issued_at: c.issued_at,
        status: Status::Valid,
        status_reason: None,
        supersedes: c.supersedes,
        superseded_by: None,
        bytes: credential.bytes().to_vec(),
    }
}

/// A per-credential seed drawn from the caller's RNG, so that signing can run on
/// every core while all randomness still comes from the one RNG passed in.
pub(super) fn seed(rng: &mut (impl CryptoRng + ?Sized)) -> [u8; 32] {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    seed
}

/// Generates a card key and signs each request, in parallel where the `parallel`
/// feature is on. Each item's randomness (card key, serial) comes from its own seed.
pub(super) fn sign_all(
    key: &IssuerKey,
    plans: Vec<(CredentialRequest, [u8; 32])>,
    now: UnixTime,
) -> Result<Vec<(Credential, CardKey)>, RegistryError> {
    let one = |(mut request, seed): (CredentialRequest, [u8; 32])| -> Result<(Credential, CardKey), RegistryError> {
        let mut rng = StdRng::from_seed(seed);
        let card = CardKey::generate(&mut rng);
        request.card_key = Some(card.public());
        Ok((key.issue_with_generated_card(request, now, &mut rng)?, card))
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        plans.into_par_iter().map(one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        plans.into_iter().map(one).collect()
    }
}

/// Signs `plans` chunk by chunk on a worker thread (on every core with the `parallel`
/// feature) while this thread commits each signed chunk with `commit`: chunk k + 1 is
/// signed while chunk k is written. Stops at the first error, or when `commit` breaks;
/// the worker then stops too (its channel is closed).
pub(super) fn sign_and_commit(
    key: &IssuerKey,
    plans: Vec<(CredentialRequest, [u8; 32])>,
    chunk: usize,
    now: UnixTime,
    mut commit: impl FnMut(Vec<(Credential, CardKey)>) -> Result<ControlFlow<()>, RegistryError>,
) -> Result<ControlFlow<()>, RegistryError> {
    let mut chunks = Vec::new();
    let mut plans = plans.into_iter().peekable();
    while plans.peek().is_some() {
        chunks.push(plans.by_ref().take(chunk.max(1)).collect::<Vec<_>>());
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for plans in chunks {
                if tx.send(sign_all(key, plans, now)).is_err() {
                    break;
                }
            }
        });
        for signed in rx {
            if commit(signed?)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    })
}

/// Hands out unused status indexes at random (herd privacy: an index says nothing
/// about when or to whom a card was issued). Indexes are never reused.
pub(super) struct IndexAllocator {
    used: Vec<u64>,
    capacity: u32,
    free: u32,
}

impl IndexAllocator {
    pub(super) fn new(capacity: u32, used: &[u32]) -> Self {
        let mut bits = vec![0u64; usize::try_from(capacity.div_ceil(64)).unwrap_or(0)];
        let mut free = capacity;
        for &i in used {
            if let Some(word) = bits.get_mut(usize::try_from(i / 64).unwrap_or(usize::MAX)) {
                let bit = 1u64 << (i % 64);
                if *word & bit == 0 && i < capacity {
                    *word |= bit;
                    free = free.saturating_sub(1);
                }
            }
        }
        Self {
            used: bits,
            capacity,
            free,
        }
    }

    fn is_used(&self, i: u32) -> bool {
        self.used
            .get(usize::try_from(i / 64).unwrap_or(usize::MAX))
            .is_none_or(|w| w & (1u64 << (i % 64)) != 0)
    }

    pub(super) fn take(
        &mut self,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<StatusIndex, RegistryError> {
        use rand::RngExt as _;
        if self.free == 0 {
            return Err(RegistryError::StatusListFull {
                capacity: self.capacity,
            });
        }
        // Rejection sampling while at least 1/8 is free; then a scan from a random start.
        let mut pick = None;
        if u64::from(self.free) * 8 >= u64::from(self.capacity) {
            for _ in 0..64 {
                let i = rng.random_range(0..self.capacity);
                if !self.is_used(i) {
                    pick = Some(i);
                    break;
                }
            }
        }
        let i = match pick {
            Some(i) => i,
            None => {
                let start = rng.random_range(0..self.capacity);
                (0..self.capacity)
                    .map(|k| (start + k) % self.capacity)
                    .find(|&i| !self.is_used(i))
                    .ok_or(RegistryError::StatusListFull {
                        capacity: self.capacity,
                    })?
            }
        };
        if let Some(word) = self
            .used
            .get_mut(usize::try_from(i / 64).unwrap_or(usize::MAX))
        {
            *word |= 1u64 << (i % 64);
        }
        self.free -= 1;
        Ok(StatusIndex(i))
    }
}
