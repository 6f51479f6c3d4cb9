//! HR's roster export, read and validated before anything is written.
//!
//! The file is CSV in UTF-8 (a byte-order mark is allowed) with this header, in this
//! order: `pay_number,name,rank,unit,kind,vetting,photo_ref`. `kind` is `warrant-card`
//! or `staff-pass`; `vetting` is `RV`, `MV`, `NPPV1`, `NPPV2(abbr)`, `NPPV2` or
//! `NPPV3`, optionally followed by `+CTC`, `+SC`, `+eSC` or `+DV`; `photo_ref` names the
//! photograph (the credential carries the SHA-256 of the reference; the image itself is
//! never in a credential).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use revocard::registry::HolderRequest;
use revocard::{
    Holder, Kind, MAX_NAME_LEN, MAX_PAY_NUMBER_LEN, MAX_RANK_LEN, MAX_UNIT_LEN, PhotoDigest,
    Validity, Vetting,
};

use crate::error::{CliError, Result};

/// The header a roster must have.
pub const HEADER: [&str; 7] = [
    "pay_number",
    "name",
    "rank",
    "unit",
    "kind",
    "vetting",
    "photo_ref",
];

/// The most rows a roster may hold.
pub const MAX_ROSTER_ROWS: usize = 1_000_000;

/// The longest photo reference.
pub const MAX_PHOTO_REF_LEN: usize = 256;

/// The most problems listed before the rest are counted only.
pub const MAX_REPORTED_PROBLEMS: usize = 50;

/// The largest roster file read: 1,000,000 rows of a few hundred bytes each.
pub const MAX_ROSTER_BYTES: u64 = 512 << 20;

/// One bad line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: u64,
    pub field: String,
    pub problem: String,
}

/// Reads and validates a roster; every bad line is reported, and nothing is returned
/// unless every line is good.
pub fn read(path: &Path, validity: Validity) -> Result<Vec<HolderRequest>, RosterRefused> {
    let file = std::fs::File::open(path).map_err(|e| {
        RosterRefused::whole(CliError::refused(format!(
            "cannot read roster {}: {e}",
            path.display()
        )))
    })?;
    parse(file, validity)
}

/// The refusal of a whole roster: one problem per bad line, or one reason.
#[derive(Debug)]
pub struct RosterRefused {
    pub problems: Vec<Problem>,
    pub error: CliError,
}

impl RosterRefused {
    fn whole(error: CliError) -> Self {
        Self {
            problems: Vec::new(),
            error,
        }
    }
}

pub fn parse(input: impl Read, validity: Validity) -> Result<Vec<HolderRequest>, RosterRefused> {
    let mut bytes = Vec::new();
    input
        .take(MAX_ROSTER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| RosterRefused::whole(CliError::refused(format!("cannot read roster: {e}"))))?;
    if bytes.len() as u64 > MAX_ROSTER_BYTES {
        return Err(RosterRefused::whole(CliError::refused(format!(
            "the roster is larger than {MAX_ROSTER_BYTES} bytes"
        ))));
    }
    let mut lines = Lines::new(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header = reader
        .byte_headers()
        .map_err(|e| RosterRefused::whole(CliError::refused(format!("roster header: {e}"))))?;
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 {
                f.strip_prefix(b"\xef\xbb\xbf").unwrap_or(f)
            } else {
                f
            };
            String::from_utf8_lossy(f).trim().to_ascii_lowercase()
        })
        .collect();
    if names != HEADER {
        return Err(RosterRefused::whole(CliError::refused(format!(
            "the roster's header is `{}`; it must be `{}`",
            names.join(","),
            HEADER.join(",")
        ))));
    }
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = lines.at(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(Problem {
                    line,
                    field: "row".into(),
                    problem: e.to_string(),
                });
                break;
            }
        }
        let line = record.position().map_or(line, |p| lines.at(p.byte()));
        if out.len() + problems.len() >= MAX_ROSTER_ROWS {
            return Err(RosterRefused::whole(CliError::refused(format!(
                "the roster has more than {MAX_ROSTER_ROWS} rows"
            ))));
        }
        match row(&record, validity) {
            Ok(request) => {
                let pay = request.holder.pay_number().to_owned();
                if let Some(first) = first_line.get(&pay) {
                    problems.push(Problem {
                        line,
                        field: "pay_number".into(),
                        problem: format!("pay number {pay} is already on line {first}"),
                    });
                } else {
                    first_line.insert(pay, line);
                    out.push(request);
                }
            }
            Err((field, problem)) => problems.push(Problem {
                line,
                field: field.into(),
                problem,
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        let n = problems.len();
        Err(RosterRefused {
            problems,
            error: CliError::refused(format!(
                "the roster has {n} bad line{}; nothing was written: correct them and run again",
                if n == 1 { "" } else { "s" }
            )),
        })
    }
}

/// Line numbers of byte offsets, counted as an editor counts them: a line ends at
/// `\n`, at `\r\n` (Excel's "CSV UTF-8") or at a lone `\r`, so a CRLF file names the
/// same line as its LF twin. (The csv reader's own count is one short in a CRLF file.) Offsets are asked for in increasing order, so the whole file is walked once.
struct Lines<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line the byte at `offset` is on.
    fn at(&mut self, offset: u64) -> u64 {
        let target = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if target < self.offset {
            // Not asked for in order: count again from the start.
            self.offset = 0;
            self.line = 1;
        }
        let skipped = self.bytes.get(self.offset..target).unwrap_or_default();
        for (i, b) in skipped.iter().enumerate() {
            // A CR ends a line; the LF of a CRLF belongs to it. (The reader may place a
            // record's start on that LF.)
            let ends_line = match b {
                b'\r' => true,
                b'\n' => {
                    let at = self.offset + i;
                    at == 0 || self.bytes.get(at - 1) != Some(&b'\r')
                }
                _ => false,
            };
            if ends_line {
                self.line += 1;
            }
        }
        self.offset = target;
        self.line
    }
}

/// Why a required text field is refused, or `None` if it is good: empty (after
/// trimming), too long (with the limit) or holding a control character (a line break
/// inside quotes, a tab).
fn text_problem(text: &str, max: usize) -> Option<String> {
    if text.is_empty() {
        return Some("is empty (every holder needs one)".to_owned());
    }
    if text.len() > max {
        return Some(format!(
            "is too long: {} bytes, more than the limit of {max}",
            text.len()
        ));
    }
    if let Some((at, c)) = text.chars().enumerate().find(|(_, c)| c.is_control()) {
        let what = match c {
            '\n' | '\r' => "a line break",
            '\t' => "a tab",
            _ => "a control character",
        };
        return Some(format!(
            "holds {what} (U+{:04X}) at character {}: remove it",
            u32::from(c),
            at + 1
        ));
    }
    None
}

fn row(
    record: &csv::ByteRecord,
    validity: Validity,
) -> Result<HolderRequest, (&'static str, String)> {
    if record.len() != HEADER.len() {
        return Err((
            "row",
            format!("{} fields, expected {}", record.len(), HEADER.len()),
        ));
    }
    let mut fields = [""; 7];
    for (i, name) in HEADER.iter().enumerate() {
        let bytes = record.get(i).unwrap_or_default();
        fields[i] = std::str::from_utf8(bytes)
            .map_err(|_| {
                (
                    *name,
                    "is not UTF-8: export the roster as CSV UTF-8".to_owned(),
                )
            })?
            .trim();
    }
    let [pay, name, rank, unit, kind, vetting, photo] = fields;
    for (field, text, max) in [
        ("pay_number", pay, MAX_PAY_NUMBER_LEN),
        ("name", name, MAX_NAME_LEN),
        ("rank", rank, MAX_RANK_LEN),
        ("unit", unit, MAX_UNIT_LEN),
        ("kind", kind, usize::MAX),
        ("vetting", vetting, usize::MAX),
        ("photo_ref", photo, MAX_PHOTO_REF_LEN),
    ] {
        if let Some(why) = text_problem(text, max) {
            return Err((field, format!("{field} is not valid: it {why}")));
        }
    }
    let kind: Kind = kind.parse().map_err(|_| {
        (
            "kind",
            format!("`{kind}` is not a card kind (warrant-card or staff-pass)"),
        )
    })?;
    let vetting: Vetting = vetting.parse().map_err(|_| {
        (
            "vetting",
            format!("`{vetting}` is not a vetting level (RV, MV, NPPV1, NPPV2(abbr), NPPV2, NPPV3, optionally +CTC, +SC, +eSC or +DV)"),
        )
    })?;
    let holder = Holder::new(pay, name, rank, unit, PhotoDigest::of(photo.as_bytes()))
        .map_err(|e| (field_of(&e), e.to_string()))?;
    Ok(HolderRequest {
        kind,
        holder,
        vetting,
        validity,
    })
}

fn field_of(e: &revocard::FieldError) -> &'static str {
    use revocard::{Field, FieldError};
    let field = match e {
        FieldError::TooLong { field, .. } | FieldError::Invalid { field } => *field,
        _ => return "row",
    };
    match field {
        Field::PayNumber => "pay_number",
        Field::Name => "name",
        Field::Rank => "rank",
        Field::Unit => "unit",
        _ => "row",
    }
}
