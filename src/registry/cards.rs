//! Where blank cards' public keys come from. A card's key is made on its chip; the
//! print supplier or the office's enrolment station reports each blank card's public
//! key, and the registry binds one into each credential it signs. The registry never
//! sees a card's secret, and neither a print batch nor its manifest carries one.

use std::collections::VecDeque;

use crate::issue::SoftwareCards;
use crate::model::CardPublicKey;

/// The source of blank cards' public keys, as the chips report them: a supplier's file,
/// an enrolment station, or [`SoftwareCards`] in tests and examples.
///
/// Bulk work ([`Registry::issue_roster`](super::Registry::issue_roster),
/// [`Registry::resume`](super::Registry::resume)) draws one key per credential it is
/// about to sign, all of them before it signs or writes anything, and skips a key
/// already bound to a credential of the registry (so that the same supplier file,
/// given again after a crash, converges). A key drawn is consumed from the source
/// even when the work then stops: give the same file again to resume.
pub trait BlankCards {
    /// The next blank card's public key, or `None` when no blank card is left.
    ///
    /// # Errors
    /// [`BlankCardsError`] when the source fails (a reader, a feed); bulk work stops
    /// then, before anything is signed or written.
    fn next_card(&mut self) -> Result<Option<CardPublicKey>, BlankCardsError>;
}

/// Why a source of blank cards failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlankCardsError {
    /// The source could not be read (a chip reader, a supplier's feed).
    #[error("the blank cards' source failed: {0}")]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Blank cards' public keys in a queue, in the order given: a supplier's or enrolment
/// station's list (the command-line tool reads one from a file's `card_public_key`
/// column, whose text form is [`CardPublicKey`]'s `Display` and `FromStr`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlankCardList {
    keys: VecDeque<CardPublicKey>,
}

impl BlankCardList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key at the end.
    pub fn push(&mut self, key: CardPublicKey) {
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

impl FromIterator<CardPublicKey> for BlankCardList {
    fn from_iter<I: IntoIterator<Item = CardPublicKey>>(iter: I) -> Self {
        Self {
            keys: iter.into_iter().collect(),
        }
    }
}

impl Extend<CardPublicKey> for BlankCardList {
    fn extend<I: IntoIterator<Item = CardPublicKey>>(&mut self, iter: I) {
        self.keys.extend(iter);
    }
}

impl IntoIterator for BlankCardList {
    type Item = CardPublicKey;
    type IntoIter = std::collections::vec_deque::IntoIter<CardPublicKey>;

    /// The keys not drawn yet, in order.
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter()
    }
}

impl BlankCards for BlankCardList {
    fn next_card(&mut self) -> Result<Option<CardPublicKey>, BlankCardsError> {
        Ok(self.keys.pop_front())
    }
}

/// Software cards report their keys in order; each then waits for its credential
/// ([`SoftwareCards::personalise`]).
impl BlankCards for SoftwareCards {
    fn next_card(&mut self) -> Result<Option<CardPublicKey>, BlankCardsError> {
        Ok(self.report())
    }
}
