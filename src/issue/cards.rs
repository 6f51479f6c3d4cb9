//! Software cards: stand-ins for the chips of a box of blank cards, for tests, examples
//! and trials. Each generates its own key, reports only the public half (as a chip
//! reports it to the supplier or the office's enrolment station), and keeps the secret
//! until it is personalised with the credential that binds its key.

use std::collections::{HashMap, VecDeque};

use rand::CryptoRng;

use crate::issue::{Card, CardError, CardKey};
use crate::model::CardPublicKey;
use crate::verify::UnverifiedCredential;

/// A stock of software cards. Blank cards report their public keys in order
/// ([`Self::report`]); a reported card waits for its credential
/// ([`Self::personalise`]), which hands it out as a [`Card`]. The secrets never leave
/// the stock but inside the cards it hands out; they are zeroized on drop and never
/// printed (`Debug` shows counts only).
#[derive(Default)]
pub struct SoftwareCards {
    blank: VecDeque<CardKey>,
    reported: HashMap<CardPublicKey, CardKey>,
}

impl SoftwareCards {
    /// An empty stock.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A stock of `n` blank cards, each generating its own key from `rng`.
    pub fn generate(n: usize, rng: &mut (impl CryptoRng + ?Sized)) -> Self {
        let mut stock = Self::new();
        stock.add(n, rng);
        stock
    }

    /// Adds `n` blank cards, each generating its own key from `rng`.
    pub fn add(&mut self, n: usize, rng: &mut (impl CryptoRng + ?Sized)) {
        self.blank.reserve(n);
        for _ in 0..n {
            self.blank.push_back(CardKey::generate(rng));
        }
    }

    /// The next blank card's public key, as its chip reports it; `None` when no blank
    /// card is left. The card then waits for its credential.
    pub fn report(&mut self) -> Option<CardPublicKey> {
        let key = self.blank.pop_front()?;
        let public = key.public();
        self.reported.insert(public, key);
        Some(public)
    }

    /// Blank cards that have not reported their key yet.
    #[must_use]
    pub fn blank(&self) -> usize {
        self.blank.len()
    }

    /// Cards that reported their key and wait for a credential.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.reported.len()
    }

    /// Personalises the card whose key `credential` binds: the card leaves the stock
    /// with its credential, ready to answer doors' challenges.
    ///
    /// # Errors
    /// [`CardError::Malformed`] if the bytes are not a credential;
    /// [`CardError::NoCardKey`] if it binds no card key; [`CardError::NotInStock`] if
    /// no card of this stock that reported its key holds that key (another stock's, or
    /// already personalised). The stock is unchanged then.
    pub fn personalise(&mut self, credential: Vec<u8>) -> Result<Card, CardError> {
        let named = UnverifiedCredential::from_bytes(&credential)?
            .unverified_claims()
            .card_key
            .ok_or(CardError::NoCardKey)?;
        let key = self.reported.remove(&named).ok_or(CardError::NotInStock)?;
        Card::new(credential, key)
    }
}

impl std::fmt::Debug for SoftwareCards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareCards")
            .field("blank", &self.blank.len())
            .field("waiting", &self.reported.len())
            .finish_non_exhaustive()
    }
}
