//! Where blank cards' public keys come from. A card's key is made on its chip; the
//! print supplier or the office's enrolment station reports each blank card's public
//! key, and the registry binds one into each credential it signs. The registry never
//! sees a card's secret, and neither a print batch nor its manifest carries one.
//!
//! Every key is checked where it is received ([`BlankCardList::check`], or a source's
//! own [`CheckedCardKey::check`]), not where it is signed: a supplier's list arrives
//! long before the breach whose replacements it serves, and the check (about 0.7 of a
//! verification per key) then costs nothing on the breach's critical path. Bulk work
//! takes only [`CheckedCardKey`]s, so it cannot sign an unchecked key.

use std::collections::VecDeque;

use crate::issue::{CheckedCardKey, SoftwareCards};
use crate::model::CardPublicKey;

use super::store::RegistryError;

/// The source of blank cards' public keys, as the chips report them: a supplier's file,
/// an enrolment station, or [`SoftwareCards`] in tests and examples.
///
/// Bulk work ([`Registry::issue_roster`](super::Registry::issue_roster),
/// [`Registry::resume`](super::Registry::resume)) draws one key per credential it is
/// about to sign, all of them before it signs or writes anything, and skips a key
/// already bound to a credential of the registry (so that the same supplier file,
/// given again after a crash, converges). A key drawn is consumed from the source
/// even when the work then stops: give the same file again to resume.
///
/// A source hands out checked keys: it checks each one as it receives it
/// ([`CheckedCardKey::check`]), or holds a list checked when it was received
/// ([`BlankCardList`]).
pub trait BlankCards {
    /// The next blank card's public key, checked, or `None` when no blank card is left.
    ///
    /// # Errors
    /// [`BlankCardsError`] when the source fails (a reader, a feed, a key it refuses);
    /// bulk work stops then, before anything is signed or written.
    fn next_card(&mut self) -> Result<Option<CheckedCardKey>, BlankCardsError>;
}

/// Why a source of blank cards failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlankCardsError {
    /// The source could not be read (a chip reader, a supplier's feed).
    #[error("the blank cards' source failed: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The source received a key that no door could check (not a curve point, not
    /// canonically encoded, of small order or with a torsion component).
    #[error("blank card {key} reported an unusable public key: set it aside")]
    UnusableCardKey {
        /// The key as reported.
        key: CardPublicKey,
    },
}

/// Blank cards' public keys in a queue, in the order given, each checked when the list
/// was received: a supplier's or enrolment station's list (the command-line tool reads
/// one from a file's `card_public_key` column, whose text form is [`CardPublicKey`]'s
/// `Display` and `FromStr`), made by [`Self::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlankCardList {
    keys: VecDeque<CheckedCardKey>,
}

impl BlankCardList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Receives a supplier's list: checks every key ([`CheckedCardKey::check`]; on
    /// every core with the `parallel` feature) and keeps them in the order given. Do
    /// it when the list arrives, before it is needed: about 0.7 of a verification per
    /// key (some 0.5 s for 47,000 keys on two cores).
    ///
    /// # Errors
    /// [`RegistryError::UnusableCardKey`] naming the first key, in the order given,
    /// that no door could check (not a point, not its canonical encoding, of small
    /// order, or with a torsion component). The whole list is refused then: a supplier
    /// whose chips report such keys is to be asked why.
    pub fn check(keys: impl IntoIterator<Item = CardPublicKey>) -> Result<Self, RegistryError> {
        let keys: Vec<CardPublicKey> = keys.into_iter().collect();
        let one = |key: &CardPublicKey| CheckedCardKey::check(*key).ok();
        #[cfg(feature = "parallel")]
        let checked: Vec<Option<CheckedCardKey>> = {
            use rayon::prelude::*;
            keys.par_iter().map(one).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let checked: Vec<Option<CheckedCardKey>> = keys.iter().map(one).collect();
        checked
            .into_iter()
            .zip(&keys)
            .map(|(checked, key)| checked.ok_or(RegistryError::UnusableCardKey { key: *key }))
            .collect()
    }

    /// Adds a checked key at the end.
    pub fn push(&mut self, key: CheckedCardKey) {
        self.keys.push_back(key);
    }

    /// Keys not drawn yet.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether every key was drawn.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<CheckedCardKey> for BlankCardList {
    fn from_iter<I: IntoIterator<Item = CheckedCardKey>>(iter: I) -> Self {
        Self {
            keys: iter.into_iter().collect(),
        }
    }
}

impl Extend<CheckedCardKey> for BlankCardList {
    fn extend<I: IntoIterator<Item = CheckedCardKey>>(&mut self, iter: I) {
        self.keys.extend(iter);
    }
}

impl IntoIterator for BlankCardList {
    type Item = CheckedCardKey;
    type IntoIter = std::collections::vec_deque::IntoIter<CheckedCardKey>;

    /// The keys not drawn yet, in order.
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter()
    }
}

impl BlankCards for BlankCardList {
    fn next_card(&mut self) -> Result<Option<CheckedCardKey>, BlankCardsError> {
        Ok(self.keys.pop_front())
    }
}

/// Software cards report their keys in order, each checked as it is reported (one at
/// a time, on the thread drawing them: for tests and trials; a list received ahead,
/// [`BlankCardList::check`], keeps the check off the time of the work); each card then
/// waits for its credential ([`SoftwareCards::personalise`]).
impl BlankCards for SoftwareCards {
    fn next_card(&mut self) -> Result<Option<CheckedCardKey>, BlankCardsError> {
        self.report()
            .map(|key| {
                CheckedCardKey::check(key).map_err(|_| BlankCardsError::UnusableCardKey { key })
            })
            .transpose()
    }
}
