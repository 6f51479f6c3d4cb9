//! The audit log: an append-only, hash-chained record of every issue, revoke,
//! suspend, reinstate, reissue, publication and key event.
//!
//! Each entry's hash is SHA-256 over a domain prefix, the previous entry's hash, the
//! sequence number, the time and the event's JSON text exactly as stored. Editing any
//! stored field of any entry, deleting or reordering entries, breaks the chain at that
//! entry, and [`verify_chain`] names it. Cutting entries off the end leaves a shorter
//! valid chain: compare the head with one kept elsewhere (each publication records the
//! head at that moment) to catch that.

use sha2::Digest as _;

use crate::model::AuditHead;
use crate::model::{KeyId, PrintBatchId, Serial, UnixTime};
use crate::model::{RevocationReason, Scope};

use super::incident::Incident;

/// Domain prefix of an audit entry hash.
const AUDIT_DOMAIN: &[u8] = b"revocard/v1/audit\0";

/// Something that happened in the registry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditEvent {
    /// The registry was created.
    RegistryCreated {
        /// Issuer.
        issuer: String,
        /// Status list capacity.
        capacity: u32,
        /// The issuer's root key.
        root_key_id: KeyId,
    },
    /// A root-signed key set was installed: the keys the registry may sign with.
    KeySetInstalled {
        /// Its sequence.
        sequence: u64,
        /// SHA-256 of the signed set, hex.
        digest: String,
    },
    /// The root certified a signing key (or changed its usage or window): rotation.
    KeyCertified {
        /// The key.
        key_id: KeyId,
        /// What it may sign.
        usage: crate::model::KeyUsage,
        /// Start of its window.
        not_before: UnixTime,
        /// End of its window.
        not_after: UnixTime,
    },
    /// The root revoked a signing key.
    KeyRevoked {
        /// The key.
        key_id: KeyId,
        /// Why.
        reason: RevocationReason,
    },
    /// The registry declared a signing key compromised: it signs nothing more here.
    KeyCompromised {
        /// The key.
        key_id: KeyId,
    },
    /// A print batch was opened at a supplier.
    BatchCreated {
        /// The batch.
        batch: PrintBatchId,
        /// Who prints it.
        supplier: String,
    },
    /// Credentials were issued into a print batch (one entry per atomic chunk).
    Issued {
        /// The batch.
        batch: PrintBatchId,
        /// Each credential and its status index.
        credentials: Vec<(Serial, u32)>,
    },
    /// A credential was revoked individually.
    Revoked {
        /// The credential.
        serial: Serial,
        /// Why.
        reason: RevocationReason,
    },
    /// A credential was suspended.
    Suspended {
        /// The credential.
        serial: Serial,
    },
    /// A suspension was lifted.
    Reinstated {
        /// The credential.
        serial: Serial,
    },
    /// A scope revocation: every credential it covers is revoked by one entry.
    ScopeRevoked {
        /// What.
        scope: Scope,
        /// Why.
        reason: RevocationReason,
        /// How many credentials of the registry it covered when declared.
        affected: u64,
    },
    /// An incident was declared and a reissue job opened.
    IncidentDeclared {
        /// The job.
        job: u64,
        /// What was compromised, as declared.
        incident: Incident,
        /// Credentials affected.
        affected: u64,
        /// SHA-256 over the affected credentials' serials (16 bytes each) in ascending
        /// order, hex: the same for the same cards whatever order a backend read them
        /// in (`registry::reissue::affected_digest`).
        affected_digest: String,
    },
    /// Credentials were replaced (one entry per atomic chunk).
    Reissued {
        /// The replacements' print batch.
        batch: PrintBatchId,
        /// Each (replaced, replacement) pair.
        replacements: Vec<(Serial, Serial)>,
    },
    /// A job finished.
    JobFinished {
        /// The job.
        job: u64,
        /// Credentials it issued.
        issued: u64,
    },
    /// The registry's roster was synced with HR's export (the leavers' revocations
    /// follow as their own entries).
    RosterSynced {
        /// Holders added: a card is pending for each.
        joiners: u64,
        /// Holders whose printed fields changed: a replacement is pending for each.
        movers: u64,
        /// Holders removed.
        leavers: u64,
    },
    /// A signed status list was published.
    Published {
        /// Its sequence.
        sequence: u64,
        /// SHA-256 of the signed list, hex.
        list_digest: String,
        /// Size of the delta from the previous sequence, if any.
        delta_bytes: Option<u64>,
    },
    /// An operator's or tool's annotation, kept in the chain with everything else
    /// (for instance the parameters a resumable run was started with).
    Annotated {
        /// What it is about (at most [`MAX_ANNOTATION_SUBJECT_LEN`](super::MAX_ANNOTATION_SUBJECT_LEN) bytes).
        subject: String,
        /// The annotation (at most [`MAX_ANNOTATION_LEN`](super::MAX_ANNOTATION_LEN) bytes).
        text: String,
    },
}

/// One sealed entry of the chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When.
    pub at: UnixTime,
    /// The event as JSON text (hashed exactly as stored).
    pub event_json: String,
    /// Hash of the previous entry (zeros for the first).
    pub prev_hash: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// The head of a log that ends at this entry.
    #[must_use]
    pub fn head(&self) -> AuditHead {
        AuditHead {
            entries: self.seq,
            hash: self.hash,
        }
    }

    /// The event, parsed.
    ///
    /// # Errors
    /// If the stored text is not an event (the chain check reports that as well).
    pub fn event(&self) -> Result<AuditEvent, serde_json::Error> {
        serde_json::from_str(&self.event_json)
    }
}

/// What is wrong with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditProblem {
    /// Its sequence number is not the one after the previous entry's.
    SequenceGap {
        /// The sequence expected.
        expected: u64,
    },
    /// Its `prev_hash` is not the previous entry's hash.
    PrevHashMismatch,
    /// Its stored hash is not the hash of its content.
    HashMismatch,
    /// Its event text is not an event.
    Unreadable,
    /// A signed list commits to this entry, and the log does not hold it (truncated).
    Missing,
    /// A signed list commits to this entry with another hash (rewritten).
    CommitmentMismatch,
}

/// The first entry at which the chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("audit log broken at entry {seq}: {problem:?}")]
pub struct AuditError {
    /// The entry.
    pub seq: u64,
    /// What is wrong with it.
    pub problem: AuditProblem,
}

fn entry_hash(prev: &[u8; 32], seq: u64, at: UnixTime, event_json: &str) -> [u8; 32] {
    sha2::Sha256::new()
        .chain_update(AUDIT_DOMAIN)
        .chain_update(prev)
        .chain_update(seq.to_be_bytes())
        .chain_update(at.0.to_be_bytes())
        .chain_update(event_json.as_bytes())
        .finalize()
        .into()
}

/// Seals `event` as the entry after `head`.
#[must_use]
pub fn seal(head: AuditHead, at: UnixTime, event: &AuditEvent) -> AuditRecord {
    // Serialising these plain enums cannot fail.
    let event_json = serde_json::to_string(event).unwrap_or_default();
    let seq = head.entries.saturating_add(1);
    let hash = entry_hash(&head.hash, seq, at, &event_json);
    AuditRecord {
        seq,
        at,
        event_json,
        prev_hash: head.hash,
        hash,
    }
}

/// Checks a whole log in order and returns its head.
///
/// # Errors
/// [`AuditError`] naming the first broken entry.
pub fn verify_chain<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<AuditHead, AuditError> {
    let mut head = AuditHead::EMPTY;
    for record in records {
        let expected = head.entries.saturating_add(1);
        let fail = |problem| {
            Err(AuditError {
                seq: record.seq,
                problem,
            })
        };
        if record.seq != expected {
            return fail(AuditProblem::SequenceGap { expected });
        }
        if record.prev_hash != head.hash {
            return fail(AuditProblem::PrevHashMismatch);
        }
        if entry_hash(&record.prev_hash, record.seq, record.at, &record.event_json) != record.hash {
            return fail(AuditProblem::HashMismatch);
        }
        if record.event().is_err() {
            return fail(AuditProblem::Unreadable);
        }
        head = record.head();
    }
    Ok(head)
}

/// Checks a whole log, as [`verify_chain`] does, and that it holds the head a signed
/// list commits to (read with [`list_state_digest`](crate::list_state_digest)): anyone holding a list can
/// so detect a log rewritten or truncated after the list was signed.
///
/// # Errors
/// [`AuditError`] naming the first broken entry, or the committed entry with
/// [`AuditProblem::Missing`] or [`AuditProblem::CommitmentMismatch`].
pub fn verify_chain_against(
    records: &[AuditRecord],
    committed: &[AuditHead],
) -> Result<AuditHead, AuditError> {
    let head = verify_chain(records)?;
    for c in committed {
        if c.entries == 0 {
            continue;
        }
        let held = usize::try_from(c.entries - 1)
            .ok()
            .and_then(|i| records.get(i));
        match held {
            None => {
                return Err(AuditError {
                    seq: c.entries,
                    problem: AuditProblem::Missing,
                });
            }
            Some(r) if r.hash != c.hash => {
                return Err(AuditError {
                    seq: c.entries,
                    problem: AuditProblem::CommitmentMismatch,
                });
            }
            Some(_) => {}
        }
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Vec<AuditRecord> {
        let mut head = AuditHead::EMPTY;
        let mut out = Vec::new();
        for i in 0..5u8 {
            let record = seal(
                head,
                UnixTime(u64::from(i)),
                &AuditEvent::Suspended {
                    serial: Serial([i; 16]),
                },
            );
            head = AuditHead {
                entries: record.seq,
                hash: record.hash,
            };
            out.push(record);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_is_named() {
        let records = log();
        let head = verify_chain(&records).unwrap();
        assert_eq!(head.entries, 5);
        for i in 0..records.len() {
            let seq = records[i].seq;
            let mut edited = records.clone();
            edited[i].at = UnixTime(99);
            assert_eq!(
                verify_chain(&edited),
                Err(AuditError {
                    seq,
                    problem: AuditProblem::HashMismatch
                })
            );
            let mut edited = records.clone();
            edited[i].event_json = edited[i].event_json.replace("suspended", "reinstated");
            assert_eq!(verify_chain(&edited).unwrap_err().seq, seq);
            let mut removed = records.clone();
            removed.remove(i);
            if i + 1 < records.len() {
                assert_eq!(verify_chain(&removed).unwrap_err().seq, seq + 1);
            }
        }
    }
}
