//! The root ceremony across two machines: the office drafts what the root is asked to
//! sign (`keyset draft`, `key rotate`, `key compromised`, `init --root-anchor`), the
//! offline machine shows it and signs it with the root (`keyset sign`, which never
//! opens a registry), and the office installs the signed set (`keyset install`).
//! `root init` makes the root on the offline machine.
//!
//! A draft file is JSON, versioned (`format`, `version`) and integrity-checked: it
//! names the set it follows (the signed bytes in force, which the root checks are its
//! own), the keys to certify (each as its public anchor: issuer, id, key, window) with
//! their usage, the keys to revoke with their reasons, and the SHA-256 of the exact
//! bytes the root will sign. Both machines rebuild those bytes from the file through
//! the library's `KeySetDraft` and refuse a file that does not reproduce its own
//! digest, so what the offline machine shows is exactly what the root signs. A signed
//! file is the draft plus the root's 64-byte signature; the office assembles the set
//! from its draft and the signature and installs it only if it follows the set in
//! force.

use std::path::{Path, PathBuf};

use revocard::issue::{KeySetDraft, RootKey};
use revocard::registry::Registry;
use revocard::{
    DEFAULT_CLOCK_SKEW_SECS, IssuerId, IssuerPublicKey, KeyId, KeySet, KeyUsage, RevocationReason,
    RootPublicKey, UnixTime, Validity,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::context::{self, next_update, os_rng};
use crate::error::{CliError, Result};
use crate::office::{self, KeyKind, Reg};
use crate::out::Report;
use crate::{Global, KeysetSignArgs, RootInitArgs};

/// The `format` of a draft file.
pub const DRAFT_FORMAT: &str = "revocard-keyset-draft";
/// The `format` of a signed file.
pub const SIGNED_FORMAT: &str = "revocard-keyset-signed";
/// The `format` of the office's record of an init waiting for its first key set.
pub const PENDING_FORMAT: &str = "revocard-pending-init";
/// The version of the three formats above.
pub const CEREMONY_VERSION: u32 = 1;
/// The largest draft, signed or pending file read: a key set is at most
/// `MAX_KEY_SET_BYTES`, in hex twice over (the set in force and the anchors) plus
/// JSON; anything larger is not one of ours.
pub const MAX_CEREMONY_FILE_BYTES: u64 = 8 * revocard::MAX_KEY_SET_BYTES as u64 + 65_536;
/// The file beside the keys that records an init waiting for its first key set.
pub const PENDING_INIT_FILE: &str = "pending-init.json";

/// A key to certify: its public anchor and what it may sign.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certify {
    pub key_id: String,
    /// `IssuerPublicKey::to_bytes`, hex.
    pub anchor: String,
    pub usage: String,
}

/// A key to revoke, when and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    pub key_id: String,
    pub at: u64,
    pub reason: String,
}

/// What the root is asked to sign.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftFile {
    pub format: String,
    pub version: u32,
    pub issuer: String,
    pub sequence: u64,
    /// When the office drafted it: the set's `issued_at`.
    pub issued_at: u64,
    /// The root's anchor (`RootPublicKey::to_bytes`), hex.
    pub root: String,
    /// The signed key set this one follows, hex; none for an issuer's first set.
    pub follows: Option<String>,
    /// Keys of the set followed whose window has ended are left out.
    pub drop_expired: bool,
    pub certify: Vec<Certify>,
    pub revoke: Vec<Revoke>,
    /// SHA-256 of the exact bytes the root signs (`KeySetDraft::to_be_signed`), hex.
    pub to_be_signed_sha256: String,
}

/// A draft and the root's signature over it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedFile {
    pub format: String,
    pub version: u32,
    pub draft: DraftFile,
    /// The root's Ed25519 signature over the draft's bytes, hex.
    pub signature: String,
    /// SHA-256 of the signed key set, hex (what doors will hold).
    pub key_set_sha256: String,
}

/// An init waiting for its first key set (root offline): what `keyset install` needs
/// to create the registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingInit {
    pub format: String,
    pub version: u32,
    pub issuer: String,
    pub capacity: u32,
    /// The root's anchor, hex.
    pub root: String,
    /// The signing key the first set certifies.
    pub key_id: String,
    /// The draft `init` wrote: the only one its install accepts.
    pub to_be_signed_sha256: String,
    pub draft: PathBuf,
    pub anchor: PathBuf,
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hex; `None` if it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

fn usage_name(u: KeyUsage) -> &'static str {
    match u {
        KeyUsage::Credentials => "credentials",
        KeyUsage::Lists => "lists",
        _ => "credentials-and-lists",
    }
}

fn usage_of(text: &str) -> Option<KeyUsage> {
    [
        KeyUsage::Credentials,
        KeyUsage::Lists,
        KeyUsage::CredentialsAndLists,
    ]
    .into_iter()
    .find(|u| usage_name(*u) == text)
}

fn reason_of(text: &str) -> Option<RevocationReason> {
    RevocationReason::ALL
        .into_iter()
        .find(|r| r.as_str() == text)
}

/// A time as people read it (UTC, RFC 3339).
pub fn when(t: UnixTime) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.0))
        .to_string()
}

/// A draft rebuilt from its file: the library's draft (whose bytes the root signs) and
/// what it changes, for people.
pub struct Replayed {
    pub draft: KeySetDraft,
    pub root: RootPublicKey,
    /// The set it follows, checked under the root.
    pub follows: Option<KeySet>,
    pub issued_at: UnixTime,
    pub certify: Vec<(IssuerPublicKey, KeyUsage)>,
    pub revoke: Vec<(KeyId, UnixTime, RevocationReason)>,
    pub dropped: Vec<KeyId>,
}

impl DraftFile {
    /// An issuer's first key set, under `root`.
    pub fn first(root: &RootPublicKey, now: UnixTime) -> Self {
        Self::new(root, None, 1, now)
    }

    /// The set after the registry's set in force.
    pub fn after(reg: &Reg, now: UnixTime) -> Result<Self> {
        let bytes = reg.key_set_bytes()?;
        Ok(Self::new(
            reg.root(),
            Some(hex(&bytes)),
            reg.key_set().sequence().saturating_add(1),
            now,
        ))
    }

    fn new(root: &RootPublicKey, follows: Option<String>, sequence: u64, now: UnixTime) -> Self {
        Self {
            format: DRAFT_FORMAT.to_owned(),
            version: CEREMONY_VERSION,
            issuer: root.issuer().as_str().to_owned(),
            sequence,
            issued_at: now.0,
            root: hex(&root.to_bytes()),
            follows,
            drop_expired: false,
            certify: Vec::new(),
            revoke: Vec::new(),
            to_be_signed_sha256: String::new(),
        }
    }

    pub fn certify(&mut self, key: &IssuerPublicKey, usage: KeyUsage) {
        self.certify.push(Certify {
            key_id: key.key_id().to_string(),
            anchor: hex(&key.to_bytes()),
            usage: usage_name(usage).to_owned(),
        });
    }

    pub fn revoke(&mut self, key_id: KeyId, at: UnixTime, reason: RevocationReason) {
        self.revoke.push(Revoke {
            key_id: key_id.to_string(),
            at: at.0,
            reason: reason.as_str().to_owned(),
        });
    }

    /// Rebuilds the draft under `root` (which must be the root the file names) and
    /// records the digest of its bytes: the file is then complete.
    pub fn seal(mut self, root: &RootPublicKey, now: UnixTime) -> Result<(Self, Replayed)> {
        let replayed = self.rebuild(root, now)?;
        self.to_be_signed_sha256 = hex(&Sha256::digest(replayed.draft.to_be_signed()));
        Ok((self, replayed))
    }

    /// Rebuilds the draft under `root` and checks it reproduces the digest the file
    /// holds.
    ///
    /// # Errors
    /// Refused: another format or version, another root or issuer, a followed set the
    /// root did not sign, a key or reason that does not parse, a digest that does not
    /// match (the file was corrupted or edited).
    pub fn replay(&self, root: &RootPublicKey, now: UnixTime) -> Result<Replayed> {
        let replayed = self.rebuild(root, now)?;
        let digest = hex(&Sha256::digest(replayed.draft.to_be_signed()));
        if digest != self.to_be_signed_sha256 {
            return Err(CliError::refused(
                "the draft does not reproduce the bytes it names: it was corrupted or edited after `keyset draft` wrote it; draft again",
            )
            .named("bad_draft"));
        }
        Ok(replayed)
    }

    fn rebuild(&self, root: &RootPublicKey, now: UnixTime) -> Result<Replayed> {
        let bad = |what: &str| {
            CliError::refused(format!("not a revocard key set draft: {what}")).named("bad_draft")
        };
        if self.format != DRAFT_FORMAT {
            return Err(bad("wrong format"));
        }
        if self.version != CEREMONY_VERSION {
            return Err(CliError::refused(format!(
                "the draft is of version {}; this revocard reads version {CEREMONY_VERSION}",
                self.version
            ))
            .named("bad_draft"));
        }
        let named = unhex(&self.root)
            .and_then(|b| RootPublicKey::from_bytes(&b).ok())
            .ok_or_else(|| bad("the root anchor"))?;
        if named.issuer() != root.issuer() || self.issuer != root.issuer().as_str() {
            return Err(CliError::refused(format!(
                "the draft is for issuer {}; this root is issuer {}'s: refusing to sign another issuer's keys",
                self.issuer,
                root.issuer()
            ))
            .named("other_issuer"));
        }
        if &named != root {
            return Err(CliError::refused(format!(
                "the draft is for root {} of issuer {}, not for root {}",
                named.key_id(),
                self.issuer,
                root.key_id()
            ))
            .named("other_root"));
        }
        let issued_at = UnixTime(self.issued_at);
        let (mut draft, follows) = match &self.follows {
            None => (KeySetDraft::first(root, issued_at), None),
            Some(text) => {
                let bytes = unhex(text).ok_or_else(|| bad("the set it follows"))?;
                let set = root
                    .verify_key_set(&bytes, now.max(issued_at), DEFAULT_CLOCK_SKEW_SECS)
                    .map_err(|e| {
                        CliError::refused(format!(
                            "the key set the draft follows is not one this root signed: {e}"
                        ))
                        .named("bad_draft")
                    })?;
                (KeySetDraft::next_after(&set, issued_at), Some(set))
            }
        };
        let mut dropped = Vec::new();
        if self.drop_expired {
            if let Some(set) = &follows {
                dropped = set
                    .entries()
                    .iter()
                    .filter(|e| e.key.validity().not_after < issued_at)
                    .map(|e| e.key.key_id())
                    .collect();
            }
            draft.drop_expired(issued_at);
        }
        let mut certify = Vec::new();
        for c in &self.certify {
            let key = unhex(&c.anchor)
                .and_then(|b| IssuerPublicKey::from_bytes(&b).ok())
                .ok_or_else(|| bad("a key to certify"))?;
            if key.key_id().to_string() != c.key_id {
                return Err(bad("a key to certify whose id does not match its key"));
            }
            let usage = usage_of(&c.usage).ok_or_else(|| bad("a key usage"))?;
            draft.certify(&key, usage)?;
            certify.push((key, usage));
        }
        let mut revoke = Vec::new();
        for r in &self.revoke {
            let key_id = KeyId::from_hex(&r.key_id).map_err(|_| bad("a key id to revoke"))?;
            let reason = reason_of(&r.reason).ok_or_else(|| bad("a revocation reason"))?;
            draft.revoke(key_id, UnixTime(r.at), reason)?;
            revoke.push((key_id, UnixTime(r.at), reason));
        }
        if draft.sequence() != self.sequence {
            return Err(bad("its sequence does not follow the set it names"));
        }
        Ok(Replayed {
            draft,
            root: root.clone(),
            follows,
            issued_at,
            certify,
            revoke,
            dropped,
        })
    }
}

impl Replayed {
    /// What the root is asked to sign, for people and for `--json`.
    pub fn describe(&self) -> (Vec<String>, serde_json::Value) {
        let mut lines = vec![format!(
            "key set {} of issuer {}, under root {}, drafted {}{}",
            self.draft.sequence(),
            self.root.issuer(),
            self.root.key_id(),
            when(self.issued_at),
            match &self.follows {
                Some(set) => format!(" (follows key set {})", set.sequence()),
                None => " (the issuer's first)".to_owned(),
            }
        )];
        let mut certified = Vec::new();
        for (key, usage) in &self.certify {
            let w = key.validity();
            lines.push(format!(
                "  certify  key {} for {usage}, from {} to {}",
                key.key_id(),
                when(w.not_before),
                when(w.not_after)
            ));
            certified.push(json!({
                "key_id": key.key_id().to_string(),
                "usage": usage_name(*usage),
                "not_before": w.not_before.0,
                "not_after": w.not_after.0,
            }));
        }
        let mut revoked = Vec::new();
        for (key_id, at, reason) in &self.revoke {
            lines.push(format!(
                "  revoke   key {key_id} ({reason}) from {}",
                when(*at)
            ));
            revoked
                .push(json!({"key_id": key_id.to_string(), "at": at.0, "reason": reason.as_str()}));
        }
        let mut kept = Vec::new();
        if let Some(set) = &self.follows {
            for e in set.entries() {
                let id = e.key.key_id();
                if self.dropped.contains(&id)
                    || self.certify.iter().any(|(k, _)| k.key_id() == id)
                    || self.revoke.iter().any(|(k, _, _)| *k == id)
                {
                    continue;
                }
                lines.push(format!(
                    "  keep     key {id} for {}, until {}{}",
                    e.usage,
                    when(e.key.validity().not_after),
                    if e.revoked.is_some() {
                        " (revoked)"
                    } else {
                        ""
                    }
                ));
                kept.push(id.to_string());
            }
        }
        for id in &self.dropped {
            lines.push(format!("  drop     key {id} (its window has ended)"));
        }
        let doc = json!({
            "issuer": self.root.issuer().as_str(),
            "sequence": self.draft.sequence(),
            "root_key_id": self.root.key_id().to_string(),
            "issued_at": self.issued_at.0,
            "follows": self.follows.as_ref().map(KeySet::sequence),
            "certify": certified,
            "revoke": revoked,
            "keep": kept,
            "drop": self.dropped.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        (lines, doc)
    }
}

/// Reads a JSON file of ours, bounded.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let cannot = |e: std::io::Error| {
        CliError::failed(format!("cannot read the {what} {}: {e}", path.display()))
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() || meta.len() > MAX_CEREMONY_FILE_BYTES {
        return Err(CliError::refused(format!(
            "{} is not a {what}",
            path.display()
        )));
    }
    let text = std::fs::read(path).map_err(cannot)?;
    serde_json::from_slice(&text).map_err(|e| {
        CliError::refused(format!("{} is not a {what}: {e}", path.display())).named("bad_draft")
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::failed(format!("encoding {}: {e}", path.display())))?;
    text.push('\n');
    office::write_atomic(path, text.as_bytes())
}

pub fn read_draft(path: &Path) -> Result<DraftFile> {
    read_json(path, "key set draft")
}

pub fn write_draft(path: &Path, draft: &DraftFile) -> Result<()> {
    write_json(path, draft)
}

/// Where a draft goes by default: `keyset-N.draft` beside the registry.
pub fn default_draft_path(db: &Path, sequence: u64) -> PathBuf {
    let dir = if office::is_url(db) {
        Path::new(".")
    } else {
        db.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    dir.join(format!("keyset-{sequence}.draft"))
}

/// The lines every drafting command ends with: where the draft goes next.
pub fn next_steps(path: &Path, sequence: u64) -> Vec<String> {
    vec![
        format!(
            "draft {} written: key set {sequence}, for the root to sign",
            path.display()
        ),
        format!(
            "next, on the offline machine: `revocard keyset sign {} --root pkcs11:... --anchor ROOT-ANCHOR --out keyset-{sequence}.signed`",
            path.display()
        ),
        format!("then here: `revocard keyset install keyset-{sequence}.signed`"),
    ]
}

/// `keyset draft`: the set in force, with the keys named certified or revoked.
pub fn keyset_draft(g: &Global, report: &Report, a: &crate::KeysetDraftArgs) -> Result<()> {
    let (db, reg) = context::open_to_read(g)?;
    let now = office::now();
    let mut file = DraftFile::after(&reg, now)?;
    file.drop_expired = a.drop_expired;
    let dir = office::keys_dir(&db, g.keys.as_deref());
    for text in &a.certify {
        let key_id = key_id_arg(text)?;
        let key = context::recorded_public_key(&dir, reg.meta().issuer.clone(), key_id)?;
        file.certify(&key, KeyUsage::CredentialsAndLists);
    }
    for text in &a.revoke {
        let key_id = key_id_arg(text)?;
        if reg.key_set().entry(key_id).is_none() {
            return Err(CliError::refused(format!(
                "key {key_id} is not in this registry's key set"
            )));
        }
        file.revoke(key_id, now, crate::commands::reason(a.reason));
    }
    let (file, replayed) = file.seal(reg.root(), now)?;
    let path = a
        .out
        .clone()
        .unwrap_or_else(|| default_draft_path(&db, file.sequence));
    write_draft(&path, &file)?;
    let (mut lines, doc) = replayed.describe();
    lines.extend(next_steps(&path, file.sequence));
    report.print(
        &lines,
        json!({"command": "keyset draft", "draft": path, "set": doc}),
    );
    Ok(())
}

pub fn key_id_arg(text: &str) -> Result<KeyId> {
    KeyId::from_hex(text.trim())
        .map_err(|_| CliError::refused(format!("`{text}` is not a key id (16 hex digits)")))
}

/// Where the root is, as `--root` names it.
pub enum RootPlace {
    /// A key in a token (`pkcs11:` URI).
    Token(String),
    /// A root key file (trials and tests).
    File(PathBuf),
}

impl RootPlace {
    pub fn of(text: &str) -> Self {
        if text.starts_with("pkcs11:") {
            Self::Token(text.to_owned())
        } else {
            Self::File(PathBuf::from(text))
        }
    }
}

/// `keyset sign`, on the offline machine: shows what the draft asks, asks, signs with
/// the root, writes the signed file. It never opens a registry.
pub fn keyset_sign(g: &Global, report: &Report, a: &KeysetSignArgs) -> Result<()> {
    let now = office::now();
    let file = read_draft(&a.draft)?;
    let anchor = match &a.anchor {
        Some(p) => Some(read_anchor(p)?),
        None => None,
    };
    let place = RootPlace::of(&a.root);
    // The root's public half, from a source this machine trusts: the root key file
    // itself, or the anchor `root init` wrote beside the token.
    let (file_root, public) = match &place {
        RootPlace::File(path) => {
            let root = office::load_any_root_key(path)?;
            if let Some(anchor) = &anchor
                && anchor != root.public()
            {
                return Err(CliError::refused(format!(
                    "{} is not the root of the anchor {}",
                    path.display(),
                    a.anchor.as_deref().unwrap_or(Path::new("")).display()
                )));
            }
            let public = root.public().clone();
            (Some(root), public)
        }
        RootPlace::Token(_) => {
            let anchor = anchor.ok_or_else(|| {
                CliError::refused(
                    "a root in a token needs --anchor FILE: the root's anchor `revocard root init` wrote on this machine (it says which issuer the root is)",
                )
            })?;
            (None, anchor)
        }
    };
    let replayed = file.replay(&public, now)?;
    if replayed.issued_at.0 > now.plus(DEFAULT_CLOCK_SKEW_SECS).0 {
        return Err(CliError::refused(format!(
            "the draft is dated {}, after this machine's clock ({}): check both clocks",
            when(replayed.issued_at),
            when(now)
        )));
    }
    let (lines, doc) = replayed.describe();
    if !a.yes {
        confirm(&lines, &public)?;
    }
    let (root, attributes) = match (file_root, &place) {
        (Some(root), _) => (root, None),
        (None, RootPlace::Token(uri)) => {
            let (root, attributes) = crate::hsm::open_root(g, uri, &public)?;
            (root, Some(attributes))
        }
        (None, RootPlace::File(_)) => {
            return Err(CliError::failed("internal: a root file that was not read"));
        }
    };
    let to_be_signed = replayed.draft.to_be_signed();
    let signature = crate::hsm::sign_root(&root, &to_be_signed)?;
    let key_set = replayed.draft.assemble(&signature);
    // What the office will install must verify under the root, here and now.
    public
        .verify_key_set(
            &key_set,
            now.max(replayed.issued_at),
            DEFAULT_CLOCK_SKEW_SECS,
        )
        .map_err(|e| CliError::failed(format!("the signed key set does not verify: {e}")))?;
    let signed = SignedFile {
        format: SIGNED_FORMAT.to_owned(),
        version: CEREMONY_VERSION,
        draft: file,
        signature: hex(&signature),
        key_set_sha256: hex(&Sha256::digest(&key_set)),
    };
    write_json(&a.out, &signed)?;
    let mut human = vec!["signed:".to_owned()];
    human.extend(lines);
    human.push(format!(
        "signed key set {} written to {}: take it to the office, `revocard keyset install {}`",
        replayed.draft.sequence(),
        a.out.display(),
        a.out.display()
    ));
    report.print(
        &human,
        json!({"command": "keyset sign", "out": a.out, "key_set_sha256": signed.key_set_sha256, "root_attributes": attributes, "set": doc}),
    );
    Ok(())
}

/// Shows what is about to be signed on stderr and asks y/N on the terminal.
fn confirm(lines: &[String], root: &RootPublicKey) -> Result<()> {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    if !std::io::stdin().is_terminal() {
        return Err(CliError::refused(
            "keyset sign shows what it signs and asks first: run it on a terminal, or pass --yes (scripts that have checked the draft)",
        )
        .named("not_confirmed"));
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "about to sign with root {} of issuer {}:",
        root.key_id(),
        root.issuer()
    );
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
    let _ = write!(err, "sign this key set? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::failed(format!("reading the answer: {e}")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(
            CliError::refused("not signed: the operator said no; nothing was written")
                .named("not_confirmed"),
        )
    }
}

/// Reads a root anchor file.
pub fn read_anchor(path: &Path) -> Result<RootPublicKey> {
    let cannot = |e: std::io::Error| {
        CliError::failed(format!(
            "cannot read the root anchor {}: {e}",
            path.display()
        ))
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.len() > revocard::MAX_ROOT_ANCHOR_BYTES as u64 {
        return Err(CliError::refused(format!(
            "{} is not a root anchor",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(cannot)?;
    RootPublicKey::from_bytes(&bytes)
        .map_err(|e| CliError::refused(format!("{} is not a root anchor: {e}", path.display())))
}

/// `keyset install`: the signed set into the registry, after checking it is the draft
/// of the set in force that the root signed. With an init waiting for its first set
/// (root offline), this creates the registry.
pub fn keyset_install(g: &Global, report: &Report, a: &crate::KeysetInstallArgs) -> Result<()> {
    let signed: SignedFile = read_json(&a.signed, "signed key set")?;
    if signed.format != SIGNED_FORMAT || signed.version != CEREMONY_VERSION {
        return Err(CliError::refused(format!(
            "{} is not a signed key set of version {CEREMONY_VERSION}",
            a.signed.display()
        )));
    }
    let signature: [u8; 64] = unhex(&signed.signature)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| CliError::refused(format!("{}: not a signature", a.signed.display())))?;
    let db = office::db_path(g.db.as_deref())?;
    let keys = office::keys_dir(&db, g.keys.as_deref());
    let pending = keys.join(PENDING_INIT_FILE);
    if pending.exists() {
        return install_first(g, report, &db, &pending, &signed, &signature);
    }
    let (_, mut reg) = context::open(g)?;
    let now = office::now();
    let replayed = signed.draft.replay(reg.root(), now)?;
    let Some(follows) = &replayed.follows else {
        return Err(CliError::refused(
            "this is an issuer's first key set: this registry has one already",
        ));
    };
    let in_force = reg.key_set();
    if follows.digest() != in_force.digest() {
        return Err(CliError::refused(format!(
            "this set was drafted after key set {}, but the registry holds key set {}: it is for another draft; draft again (`revocard keyset draft`) and have it signed",
            follows.sequence(),
            in_force.sequence()
        ))
        .named("stale_draft"));
    }
    let bytes = replayed.draft.assemble(&signature);
    reg.install_key_set(&bytes, now)?;
    let (mut lines, doc) = replayed.describe();
    lines.insert(
        0,
        format!("installed key set {}:", reg.key_set().sequence()),
    );
    lines.push("run `revocard publish` so doors learn it".into());
    report.print(
        &lines,
        json!({"command": "keyset install", "key_set": reg.key_set().sequence(), "set": doc}),
    );
    Ok(())
}

/// The first key set of an init whose root is offline: checks it is the draft init
/// wrote, signed by the root init was given, and creates the registry with it.
fn install_first(
    g: &Global,
    report: &Report,
    db: &Path,
    pending_path: &Path,
    signed: &SignedFile,
    signature: &[u8; 64],
) -> Result<()> {
    let pending: PendingInit = read_json(pending_path, "pending init record")?;
    if pending.format != PENDING_FORMAT || pending.version != CEREMONY_VERSION {
        return Err(CliError::refused(format!(
            "{} is not a pending init record of version {CEREMONY_VERSION}",
            pending_path.display()
        )));
    }
    let root = unhex(&pending.root)
        .and_then(|b| RootPublicKey::from_bytes(&b).ok())
        .ok_or_else(|| {
            CliError::refused(format!("{}: not a root anchor", pending_path.display()))
        })?;
    let now = office::now();
    let replayed = signed.draft.replay(&root, now)?;
    if signed.draft.to_be_signed_sha256 != pending.to_be_signed_sha256 {
        return Err(CliError::refused(format!(
            "this signed set is not of the draft `init` wrote ({}): sign that draft",
            pending.draft.display()
        ))
        .named("stale_draft"));
    }
    let bytes = replayed.draft.assemble(signature);
    root.verify_key_set(&bytes, now.max(replayed.issued_at), DEFAULT_CLOCK_SKEW_SECS)?;
    let issuer = root.issuer().clone();
    let key_id = key_id_arg(&pending.key_id)?;
    let expected = replayed
        .certify
        .iter()
        .find(|(k, _)| k.key_id() == key_id)
        .map(|(k, _)| k.clone())
        .ok_or_else(|| {
            CliError::refused(format!(
                "the first key set does not certify the signing key {key_id} init made"
            ))
        })?;
    let keys = office::keys_dir(db, g.keys.as_deref());
    let (key, place) =
        context::load_office_key(g, &keys, &issuer, &expected)?.ok_or_else(|| {
            CliError::failed(format!(
                "the signing key {key_id} init made is not in {} any more",
                keys.display()
            ))
        })?;
    let url = office::is_url(db);
    if !url && std::fs::symlink_metadata(db).is_ok() {
        return Err(CliError::refused(format!(
            "{} already exists: revocard never overwrites a registry; {} records an init still waiting: remove one of them",
            db.display(),
            pending_path.display()
        ))
        .named("already_exists"));
    }
    if !url && let Some(dir) = db.parent() {
        office::private_folder(dir)?;
    }
    let store = office::store(db, office::Access::Create)?;
    let created = Registry::create(
        store,
        &root,
        &bytes,
        &key,
        pending.capacity,
        now,
        next_update(g, now),
    );
    if let Err(e) = created {
        if !url {
            let _ = crate::commands::remove_db(db);
        }
        return Err(e.into());
    }
    let _ = std::fs::remove_file(pending_path);
    let (mut lines, doc) = replayed.describe();
    lines.insert(
        0,
        format!(
            "registry {} created for issuer {issuer}, with key set 1:",
            office::shown(db, None)
        ),
    );
    lines.push(format!(
        "signing key {key_id} ({place}); trust anchor {} for door vendors",
        pending.anchor.display()
    ));
    report.print(
        &lines,
        json!({"command": "keyset install", "created": true, "key_set": 1, "issuer": issuer.as_str(), "signing_key_id": key_id.to_string(), "set": doc}),
    );
    Ok(())
}

/// Records an init waiting for its first key set.
pub fn write_pending(keys: &Path, pending: &PendingInit) -> Result<PathBuf> {
    office::private_folder(keys)?;
    let path = keys.join(PENDING_INIT_FILE);
    write_json(&path, pending)?;
    Ok(path)
}

/// `root init`, on the offline machine: the root generated in its token (or, for
/// trials, in a key file), and its public anchor written for the office and the doors.
pub fn root_init(g: &Global, report: &Report, a: &RootInitArgs) -> Result<()> {
    let issuer = IssuerId::new(a.issuer.as_str())
        .map_err(|e| CliError::refused(format!("--issuer: {e}")))?;
    for p in std::iter::once(&a.out).chain(a.key_file.as_ref()) {
        if std::fs::symlink_metadata(p).is_ok() {
            return Err(CliError::refused(format!(
                "{} already exists: revocard never overwrites a key or an anchor",
                p.display()
            ))
            .named("already_exists"));
        }
    }
    let now = office::now();
    let window = Validity::new(
        now.minus(60),
        now.plus(a.years.max(1) * crate::commands::YEAR),
    )?;
    let mut attributes = None;
    let (root, place) = match (&a.hsm, &a.key_file) {
        (Some(uri), None) => {
            let (root, attrs) = crate::hsm::generate_root(g, uri, issuer.clone(), window)?;
            attributes = Some(attrs);
            (root, uri.clone())
        }
        (None, Some(path)) => {
            let mut rng = os_rng()?;
            let root = RootKey::generate(issuer.clone(), window, &mut rng)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                office::private_folder(dir)?;
            }
            office::write_key(
                path,
                KeyKind::Root,
                &issuer,
                window,
                root.to_secret_bytes().as_deref(),
            )?;
            (
                root,
                format!("{} (a file: for trials and tests only)", path.display()),
            )
        }
        _ => {
            return Err(CliError::refused(
                "name where the root is born: --hsm pkcs11:... (a token), or --key-file FILE (trials)",
            ));
        }
    };
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError::io("creating the folder", dir, &e))?;
    }
    office::write_atomic(&a.out, &root.public().to_bytes())?;
    report.print(
        &[
            format!(
                "root {} of issuer {issuer} born in {place}, valid until {}",
                root.public().key_id(),
                when(window.not_after)
            ),
            format!(
                "anchor {}: keep a copy here (keyset sign needs it) and give one to the office (`revocard init --root-anchor`) and to door vendors",
                a.out.display()
            ),
        ],
        json!({
            "command": "root init",
            "issuer": issuer.as_str(),
            "root_key_id": root.public().key_id().to_string(),
            "anchor": a.out,
            "location": place,
            "attributes": attributes,
            "not_after": window.not_after.0,
        }),
    );
    Ok(())
}
