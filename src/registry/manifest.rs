//! The print manifest: what a supplier receives to print a batch. Only what is
//! printed on the card (the serial as printed, the card type, the name, the rank and a
//! reference to the photograph), and the public key of the blank card's chip each
//! print goes on (the supplier reported it, and needs it to put each print on the
//! right chip). Never the pay number, the vetting level, the unit, the credential
//! bytes (they carry all of those) or any secret.

use crate::model::{Claims, Kind, PrintBatchId};

/// The fields a manifest row holds, in CSV column order. Nothing else is written.
pub const PRINTED_FIELDS: [&str; 6] = [
    "serial",
    "card_type",
    "name",
    "rank",
    "photo_ref",
    "card_public_key",
];

/// One card to print.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrintedCard {
    /// The serial as printed (hex).
    pub serial: String,
    /// "Warrant Card" or "Staff Pass".
    pub card_type: &'static str,
    /// The holder's name.
    pub name: String,
    /// Rank or grade.
    pub rank: String,
    /// The photograph's SHA-256 (the supplier fetches the image by this reference).
    pub photo_ref: String,
    /// The public key of the chip this print goes on, in its text form (unpadded
    /// base64url), as the supplier reported it; `None` for a credential that binds no
    /// card key. Public data.
    pub card_public_key: Option<String>,
}

impl PrintedCard {
    /// What is printed of a credential with these claims.
    #[must_use]
    pub fn new(c: &Claims) -> Self {
        Self {
            serial: c.serial.to_hex(),
            card_type: match c.kind {
                Kind::WarrantCard => "Warrant Card",
                Kind::StaffPass => "Staff Pass",
            },
            name: c.holder.name().to_owned(),
            rank: c.holder.rank().to_owned(),
            photo_ref: crate::model::hex(&c.holder.photo().0),
            card_public_key: c.card_key.map(|k| k.to_string()),
        }
    }
}

/// A batch to print.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrintManifest {
    /// Who prints it.
    pub supplier: String,
    /// The batch.
    pub batch: PrintBatchId,
    /// The cards.
    pub cards: Vec<PrintedCard>,
}

impl PrintManifest {
    /// A manifest for these credentials' claims.
    #[must_use]
    pub fn new(supplier: String, batch: PrintBatchId, claims: &[Claims]) -> Self {
        let cards = claims.iter().map(PrintedCard::new).collect();
        Self {
            supplier,
            batch,
            cards,
        }
    }

    /// The manifest as CSV (RFC 4180: fields quoted where needed, quotes doubled).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = PRINTED_FIELDS.join(",");
        out.push_str("\r\n");
        for card in &self.cards {
            // Free text from HR's roster (name, rank) is guarded against spreadsheet
            // formulas; what the registry generates (the serial, the card type, the
            // photo digest, the chip's key) is written as it is, or the supplier could
            // not match a print to its chip (a base64url key may start with `-`).
            let fields = [
                (card.serial.as_str(), Text::Generated),
                (card.card_type, Text::Generated),
                (&card.name, Text::FromRoster),
                (&card.rank, Text::FromRoster),
                (&card.photo_ref, Text::Generated),
                (
                    card.card_public_key.as_deref().unwrap_or_default(),
                    Text::Generated,
                ),
            ];
            for (i, (field, origin)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_csv_field(&mut out, field, origin);
            }
            out.push_str("\r\n");
        }
        out
    }

    /// The manifest as JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Where a manifest field's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Text {
    /// Free text from HR's roster: a spreadsheet may run it as a formula.
    FromRoster,
    /// Made by the registry (hex, base64url, a fixed word): written unchanged.
    Generated,
}

/// Appends one CSV field to `out`, quoted where RFC 4180 needs it.
fn push_csv_field(out: &mut String, field: &str, origin: Text) {
    // Roster text with a leading =, +, - or @ would be a formula in a spreadsheet:
    // quote it and prefix an apostrophe. Generated text never is rewritten.
    let formula = origin == Text::FromRoster && field.starts_with(['=', '+', '-', '@']);
    if formula || field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}
