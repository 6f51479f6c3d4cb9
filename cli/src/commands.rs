//! Each subcommand: parse what it was given, call the library, print what it did.

use std::fs;
use std::path::{Path, PathBuf};

use revocard::issue::{IssuerKey, KeySetDraft, RootKey};
use revocard::registry::{
    CredentialFilter, CredentialRecord, Incident, JobKind, Registry, Store as _,
};
use revocard::{IssuerId, KeyId, KeyUsage, RevocationReason, Serial, Status, UnixTime, Validity};
use serde_json::json;

use crate::context::{
    next_update, open, open_to_read, os_rng, root_key_path, signing_key, signing_key_path,
};
use crate::error::{CliError, Result};
use crate::office::{self, KeyKind, Reg};
use crate::out::{self, Report};
use crate::{
    AuditCommand, ChangeArgs, Cli, Command, Global, IncidentArgs, IncidentCommand, InitArgs,
    KeyCommand, Reason, RosterCommand, TargetArgs,
};

pub const YEAR: u64 = 365 * 24 * 3600;

pub fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    let report = Report { json: g.json };
    match cli.command {
        Command::Init(a) => init(g, &report, &a),
        Command::Root(crate::RootCommand::Init(a)) => crate::ceremony::root_init(g, &report, &a),
        Command::Keyset(crate::KeysetCommand::Draft(a)) => {
            crate::ceremony::keyset_draft(g, &report, &a)
        }
        Command::Keyset(crate::KeysetCommand::Sign(a)) => {
            crate::ceremony::keyset_sign(g, &report, &a)
        }
        Command::Keyset(crate::KeysetCommand::Install(a)) => {
            crate::ceremony::keyset_install(g, &report, &a)
        }
        Command::Roster(RosterCommand::Sync(a)) => roster_sync(g, &report, &a),
        Command::Issue(a) => crate::issuing::issue(g, &report, &a),
        Command::Revoke(a) => change(g, &report, &a, Status::Revoked),
        Command::Suspend(a) => change(g, &report, &a, Status::Suspended),
        Command::Reinstate(a) => change(g, &report, &a, Status::Valid),
        Command::Incident(IncidentCommand::Plan(a)) => incident_plan(g, &report, &a),
        Command::Incident(IncidentCommand::Declare(a)) => incident_declare(g, &report, &a),
        Command::Incident(IncidentCommand::Reissue(a)) => crate::issuing::reissue(g, &report, &a),
        Command::Publish(a) => crate::publishing::publish(g, &report, &a),
        Command::Serve(a) => crate::publishing::serve(&report, &a),
        Command::Show(a) => show(g, &report, &a),
        Command::Credentials(a) => credentials(g, &report, &a),
        Command::Summary => summary(g, &report),
        Command::Audit(AuditCommand::Verify) => audit_verify(g, &report),
        Command::Audit(AuditCommand::Export { format: _, out }) => {
            audit_export(g, &report, out.as_deref())
        }
        Command::Verify(a) => crate::publishing::verify(&report, &a),
        Command::Key(KeyCommand::Rotate(a)) => key_rotate(g, &report, &a),
        Command::Key(KeyCommand::Compromised(a)) => key_compromised(g, &report, &a),
        Command::Key(KeyCommand::List(a)) => key_list(g, &report, &a),
        Command::SimulateBlanks(a) => simulate_blanks(&report, &a),
        Command::Config(c) => config(g, &report, &c),
        Command::Manifest(a) => crate::issuing::manifest(g, &report, &a),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "revocard", &mut buf);
            out::line(String::from_utf8_lossy(&buf).trim_end());
            Ok(())
        }
    }
}

/// `init`, all or nothing on both backends: everything that can be refused is checked
/// first, the signing key is generated next (in its token with `--hsm`), the key files
/// and the anchor are written next (new files, never over anything), and the registry
/// is created last, in one commit; if that fails, the files written are removed (and a
/// new SQLite file with them), so a failed init leaves nothing that the next one calls
/// "already exists". With `--root-anchor` the root is offline: no registry yet, but
/// the first key set's draft and a record of the pending init, which `keyset install`
/// turns into the registry once the root has signed.
fn init(g: &Global, report: &Report, a: &InitArgs) -> Result<()> {
    let db = office::db_path(g.db.as_deref())?;
    let url = office::is_url(&db);
    if !url && fs::symlink_metadata(&db).is_ok() {
        return Err(CliError::refused(format!(
            "{} already exists: revocard never overwrites a registry",
            db.display()
        ))
        .named("already_exists"));
    }
    let issuer = IssuerId::new(a.issuer.as_str())
        .map_err(|e| CliError::refused(format!("--issuer: {e}")))?;
    let keys = office::keys_dir(&db, g.keys.as_deref());
    let pending_path = keys.join(crate::ceremony::PENDING_INIT_FILE);
    if pending_path.exists() {
        return Err(CliError::refused(format!(
            "an init is waiting for its first key set ({}): finish it with `revocard keyset install SIGNED`, or remove that file to start again",
            pending_path.display()
        ))
        .named("already_exists"));
    }
    let beside_db = || {
        if url {
            return PathBuf::from("trust-anchor.rca");
        }
        db.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("trust-anchor.rca")
    };
    let anchor_path = a.anchor.clone().unwrap_or_else(beside_db);
    let offline_root = match &a.root_anchor {
        Some(p) => {
            let root = crate::ceremony::read_anchor(p)?;
            if root.issuer() != &issuer {
                return Err(CliError::refused(format!(
                    "{} is the root of issuer {}, not of {issuer}",
                    p.display(),
                    root.issuer()
                )));
            }
            Some(root)
        }
        None => None,
    };
    let root_path = root_key_path(&keys);
    let draft_path = a
        .draft
        .clone()
        .unwrap_or_else(|| crate::ceremony::default_draft_path(&db, 1));
    let mut must_be_new = vec![];
    // The anchor given as --root-anchor may be where the doors' anchor goes.
    let anchor_is_root_anchor = offline_root
        .as_ref()
        .is_some_and(|r| fs::read(&anchor_path).is_ok_and(|held| held == r.to_bytes()));
    if !anchor_is_root_anchor {
        must_be_new.push(&anchor_path);
    }
    if offline_root.is_some() {
        must_be_new.push(&draft_path);
    } else {
        must_be_new.push(&root_path);
    }
    for p in must_be_new {
        if fs::symlink_metadata(p).is_ok() {
            return Err(CliError::refused(format!(
                "{} already exists: revocard never overwrites a key, an anchor or a draft",
                p.display()
            ))
            .named("already_exists"));
        }
    }
    if let Some(uri) = &a.hsm {
        crate::hsm::check_uri(uri)?;
    }
    if !url && let Some(dir) = db.parent() {
        office::private_folder(dir)?;
    }
    // PostgreSQL: connect (making the schema in an empty database, which is not yet a
    // registry) and refuse an existing registry before any file is written.
    let pg_store = if url {
        let store = office::store(&db, office::Access::Create)?;
        if store.meta()?.is_some() {
            return Err(CliError::refused(format!(
                "{} already holds a registry: revocard never overwrites one",
                office::shown(&db, Some(&store))
            ))
            .named("already_exists"));
        }
        Some(store)
    } else {
        None
    };
    let now = office::now();
    let mut rng = os_rng()?;
    let key_window = Validity::new(now.minus(60), now.plus(a.key_years.max(1) * YEAR))?;
    // The signing key: born in its token (nothing is written if that fails: a wrong
    // PIN leaves nothing behind), or in this process for a key file.
    let (key, attributes) = match &a.hsm {
        Some(uri) => {
            let (key, attributes) =
                crate::hsm::generate_signing(g, uri, issuer.clone(), key_window)?;
            (key, Some(attributes))
        }
        None => (
            IssuerKey::generate(issuer.clone(), key_window, &mut rng)?,
            None,
        ),
    };
    let key_path = match &a.hsm {
        Some(_) => crate::context::signing_record_path(&keys, key.key_id()),
        None => signing_key_path(&keys, key.key_id()),
    };
    let token_left = |e: CliError| {
        match &a.hsm {
        Some(uri) => e.context(format!(
            "init stopped; the key generated in {uri} stays in the token (name another object, or delete it with the token's tools)"
        )),
        None => e,
    }
    };
    let write_signing = || match &a.hsm {
        Some(uri) => office::write_token_record(
            &key_path,
            &issuer,
            key_window,
            &key.public().public_key_bytes(),
            uri,
        ),
        None => office::write_key(
            &key_path,
            KeyKind::Signing,
            &issuer,
            key_window,
            key.to_secret_bytes().as_deref(),
        ),
    };
    let key_place = match &a.hsm {
        Some(uri) => format!("in token {uri} (record {})", key_path.display()),
        None => format!("{} (mode 0600)", key_path.display()),
    };
    // Undoes what this init wrote, if a later step fails.
    let mut written: Vec<PathBuf> = Vec::new();
    let undo = |written: &[PathBuf]| {
        for p in written.iter().rev() {
            let _ = fs::remove_file(p);
        }
    };
    let write_anchor = |bytes: &[u8]| -> Result<()> {
        // The anchor is public: its folder need not be private.
        if let Some(dir) = anchor_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| CliError::io("creating the folder", dir, &e))?;
        }
        office::write_atomic(&anchor_path, bytes)
    };
    if let Some(root) = &offline_root {
        let mut file = crate::ceremony::DraftFile::first(root, now);
        file.certify(key.public(), KeyUsage::CredentialsAndLists);
        let (file, replayed) = file.seal(root, now).map_err(token_left)?;
        let pending = crate::ceremony::PendingInit {
            format: crate::ceremony::PENDING_FORMAT.to_owned(),
            version: crate::ceremony::CEREMONY_VERSION,
            issuer: issuer.as_str().to_owned(),
            capacity: a.capacity,
            root: crate::ceremony::hex(&root.to_bytes()),
            key_id: key.key_id().to_string(),
            to_be_signed_sha256: file.to_be_signed_sha256.clone(),
            draft: draft_path.clone(),
            anchor: anchor_path.clone(),
        };
        drop(pg_store);
        let files = write_signing()
            .inspect(|()| written.push(key_path.clone()))
            .and_then(|()| {
                if anchor_is_root_anchor {
                    Ok(())
                } else {
                    write_anchor(&root.to_bytes()).inspect(|()| written.push(anchor_path.clone()))
                }
            })
            .and_then(|()| crate::ceremony::write_draft(&draft_path, &file))
            .inspect(|()| written.push(draft_path.clone()))
            .and_then(|()| crate::ceremony::write_pending(&keys, &pending));
        if let Err(e) = files {
            undo(&written);
            return Err(token_left(e));
        }
        let (set_lines, set_doc) = replayed.describe();
        let mut human = vec![
            format!(
                "issuer {issuer}: signing key {} {key_place}, valid until {}",
                key.key_id(),
                key_window.not_after.0
            ),
            format!(
                "trust anchor {} (the offline root {}; give it to door vendors)",
                anchor_path.display(),
                root.key_id()
            ),
            format!(
                "the registry {} is created once the root has signed the first key set:",
                office::shown(&db, None)
            ),
        ];
        human.extend(set_lines);
        human.extend(crate::ceremony::next_steps(&draft_path, 1));
        report.print(
            &human,
            json!({
                "command": "init",
                "pending": true,
                "db": office::shown(&db, None),
                "issuer": issuer.as_str(),
                "anchor": anchor_path,
                "root_key_id": root.key_id().to_string(),
                "signing_key": key_path,
                "signing_key_id": key.key_id().to_string(),
                "signing_key_uri": a.hsm,
                "signing_key_attributes": attributes,
                "draft": draft_path,
                "set": set_doc,
                "capacity": a.capacity,
            }),
        );
        return Ok(());
    }
    let root_window = Validity::new(now.minus(60), now.plus(20 * YEAR))?;
    let root = RootKey::generate(issuer.clone(), root_window, &mut rng)?;
    let mut draft = KeySetDraft::first(root.public(), now);
    draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
    let key_set = crate::hsm::sign_key_set(&root, &draft).map_err(token_left)?;
    let files = office::write_key(
        &root_path,
        KeyKind::Root,
        &issuer,
        root_window,
        root.to_secret_bytes().as_deref(),
    )
    .inspect(|()| written.push(root_path.clone()))
    .and_then(|()| write_signing())
    .inspect(|()| written.push(key_path.clone()))
    .and_then(|()| write_anchor(&root.public().to_bytes()))
    .inspect(|()| written.push(anchor_path.clone()));
    if let Err(e) = files {
        undo(&written);
        return Err(token_left(e));
    }
    let store = match pg_store.map_or_else(|| office::store(&db, office::Access::Create), Ok) {
        Ok(store) => store,
        Err(e) => {
            undo(&written);
            return Err(token_left(e));
        }
    };
    let created = Registry::create(
        store,
        root.public(),
        &key_set,
        &key,
        a.capacity,
        now,
        next_update(g, now),
    );
    if let Err(e) = created {
        if !url {
            let _ = remove_db(&db);
        }
        undo(&written);
        return Err(token_left(CliError::from(e)));
    }
    report.print(
        &[
            format!(
                "registry {} created for issuer {issuer}",
                office::shown(&db, None)
            ),
            format!(
                "trust anchor {} (give it to door vendors: doors trust this root)",
                anchor_path.display()
            ),
            format!(
                "root key {} (mode 0600; for trials and tests: the root's secret in a file): move it offline; it is needed only to certify or withdraw keys",
                root_path.display()
            ),
            format!(
                "signing key {} {key_place}, valid until {}",
                key.key_id(),
                key_window.not_after.0
            ),
            format!("status list capacity {}", a.capacity),
        ],
        json!({
            "command": "init",
            "db": office::shown(&db, None),
            "issuer": issuer.as_str(),
            "anchor": anchor_path,
            "root_key": root_path,
            "root_key_id": root.public().key_id().to_string(),
            "signing_key": key_path,
            "signing_key_id": key.key_id().to_string(),
            "signing_key_uri": a.hsm,
            "signing_key_attributes": attributes,
            "capacity": a.capacity,
        }),
    );
    Ok(())
}

pub fn remove_db(db: &Path) -> std::io::Result<()> {
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
    fs::remove_file(db)
}

fn roster_sync(g: &Global, report: &Report, a: &crate::SyncArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let now = office::now();
    let validity = Validity::new(now.minus(60), now.plus(a.valid_years.max(1) * YEAR))?;
    let roster = match crate::roster_csv::read(&a.file, validity) {
        Ok(r) => r,
        Err(refused) => {
            if report.json {
                let problems = json!({"command": "roster sync", "problems": refused.problems});
                return Err(refused.error.with_fields(problems));
            } else {
                for p in refused
                    .problems
                    .iter()
                    .take(crate::roster_csv::MAX_REPORTED_PROBLEMS)
                {
                    eprintln!(
                        "{}:{}: {}: {}",
                        a.file.display(),
                        p.line,
                        p.field,
                        p.problem
                    );
                }
                let more = refused
                    .problems
                    .len()
                    .saturating_sub(crate::roster_csv::MAX_REPORTED_PROBLEMS);
                if more > 0 {
                    eprintln!("... and {more} more");
                }
            }
            return Err(refused.error);
        }
    };
    let (plan, publication) = if a.apply {
        let key = signing_key(g, &db, &reg, now)?;
        let applied = match a.allow_leavers {
            Some(n) => reg.roster_apply_approved(&key, &roster, now, next_update(g, now), n),
            None => reg.roster_apply(&key, &roster, now, next_update(g, now)),
        };
        match applied {
            Ok(applied) => (applied.plan, applied.publication),
            Err(e) => return Err(leavers_refused(e, &a.file)),
        }
    } else {
        (reg.roster_plan(&roster)?, None)
    };
    let threshold = reg.max_leavers()?;
    let leavers = plan.leavers.len() as u64;
    let revoked: usize = plan.leavers.iter().map(|l| l.cards.len()).sum();
    let verb = if a.apply {
        ""
    } else {
        " (dry run: --apply does it)"
    };
    let mut human = vec![format!(
        "roster {}: {} holders{verb}",
        a.file.display(),
        roster.len()
    )];
    let sample = |items: Vec<String>| -> String {
        let mut s: Vec<String> = items.iter().take(5).cloned().collect();
        if items.len() > 5 {
            s.push(format!("and {} more", items.len() - 5));
        }
        if s.is_empty() {
            String::new()
        } else {
            format!(": {}", s.join(", "))
        }
    };
    human.push(format!(
        "  joiners  {:>7}  new card pending{}",
        plan.joiners.len(),
        sample(plan.joiners.clone())
    ));
    human.push(format!(
        "  movers   {:>7}  replacement pending{}",
        plan.movers.len(),
        sample(
            plan.movers
                .iter()
                .map(|m| {
                    let fields: Vec<String> = m.changed.iter().map(ToString::to_string).collect();
                    format!("{} ({})", m.pay_number, fields.join("+"))
                })
                .collect()
        )
    ));
    human.push(format!(
        "  leavers  {:>7}  {} card{} revoked{}",
        plan.leavers.len(),
        revoked,
        if revoked == 1 { "" } else { "s" },
        sample(plan.leavers.iter().map(|l| l.pay_number.clone()).collect())
    ));
    human.push(format!("  unchanged {:>6}", plan.unchanged));
    if !a.apply && leavers > threshold {
        human.push(format!(
            "  {leavers} leavers is more than this registry's threshold of {threshold}: check the export is whole; --apply will need --allow-leavers {leavers}"
        ));
    }
    if let Some(p) = &publication {
        human.push(format!(
            "published list {} ({} B): run `revocard publish` to distribute it",
            p.sequence,
            p.list.len()
        ));
    }
    if a.apply && !plan.is_empty() {
        human.push(
            "next: `revocard issue --supplier NAME --cards FILE` prints the pending cards".into(),
        );
    }
    report.print(
        &human,
        json!({
            "command": "roster sync",
            "applied": a.apply,
            "holders": roster.len(),
            "joiners": plan.joiners,
            "movers": plan.movers,
            "leavers": plan.leavers,
            "unchanged": plan.unchanged,
            "revoked": revoked,
            "max_leavers": threshold,
            "published_sequence": publication.map(|p| p.sequence),
        }),
    );
    Ok(())
}

/// What `roster sync --apply` says when the leavers' guard stops it: what it found and
/// how to go on.
fn leavers_refused(e: revocard::registry::RegistryError, file: &Path) -> CliError {
    use revocard::registry::RegistryError;
    match e {
        RegistryError::TooManyLeavers {
            leavers,
            cards,
            threshold,
        } => CliError::refused(format!(
            "the roster removes {leavers} holders (revoking {cards} cards), more than this registry's threshold of {threshold}; nothing was written. \
             A truncated HR export looks like this: check {file} is whole. If these leavers are real, \
             run `revocard roster sync {file} --apply --allow-leavers {leavers}`",
            file = file.display()
        )),
        RegistryError::LeaversNotAsApproved { leavers, approved } => CliError::refused(format!(
            "the roster removes {leavers} holders, not the {approved} approved by --allow-leavers; nothing was written. \
             Check {file}, then approve what it removes: `--allow-leavers {leavers}`",
            file = file.display()
        )),
        other => other.into(),
    }
}

fn config(g: &Global, report: &Report, c: &crate::ConfigCommand) -> Result<()> {
    // Showing reads only (it creates nothing in an empty database); setting writes.
    let (_, reg) = match c {
        crate::ConfigCommand::Set { name, value } => {
            let (db, mut reg) = open(g)?;
            match name {
                crate::Setting::MaxLeavers => reg.set_max_leavers(*value, office::now())?,
            }
            (db, reg)
        }
        crate::ConfigCommand::Show => open_to_read(g)?,
    };
    let max_leavers = reg.max_leavers()?;
    report.print(
        &[format!(
            "max-leavers {max_leavers}: `roster sync --apply` removes more only with --allow-leavers N"
        )],
        json!({"command": "config", "max_leavers": max_leavers}),
    );
    Ok(())
}

/// The card a command names: by serial, or the holder's current card.
pub fn target(reg: &Reg, t: &TargetArgs) -> Result<CredentialRecord> {
    if let Some(text) = &t.serial {
        let serial = Serial::from_hex(text.trim())
            .map_err(|_| CliError::refused(format!("`{text}` is not a serial (32 hex digits)")))?;
        return reg
            .store()
            .credentials(&CredentialFilter::Serials(vec![serial]))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                CliError::refused(format!("no card with serial {serial} in this registry"))
            });
    }
    let pay = t.pay_number.clone().unwrap_or_default();
    let cards = reg
        .store()
        .credentials(&CredentialFilter::PayNumbers(vec![pay.clone()]))?;
    if cards.is_empty() {
        return Err(CliError::refused(format!(
            "no card for pay number {pay} in this registry"
        )));
    }
    let mut current: Vec<CredentialRecord> = Vec::new();
    for c in cards {
        if c.superseded_by.is_none() && reg.effective_status(&c)? != Status::Revoked {
            current.push(c);
        }
    }
    match current.len() {
        1 => Ok(current.remove(0)),
        0 => Err(CliError::refused(format!(
            "pay number {pay} holds no current card (all revoked or replaced): name the card by serial"
        ))),
        n => Err(CliError::refused(format!(
            "pay number {pay} holds {n} current cards: name the card by serial"
        ))),
    }
}

pub fn reason(r: Reason) -> RevocationReason {
    match r {
        Reason::Unspecified => RevocationReason::Unspecified,
        Reason::KeyCompromise => RevocationReason::KeyCompromise,
        Reason::IssuerKeyCompromise => RevocationReason::IssuerKeyCompromise,
        Reason::AffiliationChanged => RevocationReason::AffiliationChanged,
        Reason::Superseded => RevocationReason::Superseded,
        Reason::LeftService => RevocationReason::LeftService,
        Reason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
        Reason::SupplierBreach => RevocationReason::SupplierBreach,
        Reason::Lost => RevocationReason::Lost,
        Reason::Stolen => RevocationReason::Stolen,
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Valid => "valid",
        Status::Suspended => "suspended",
        Status::Revoked => "revoked",
    }
}

fn change(g: &Global, report: &Report, a: &ChangeArgs, status: Status) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let card = target(&reg, &a.target)?;
    let now = office::now();
    let key = signing_key(g, &db, &reg, now)?;
    let why = reason(a.reason);
    let p = reg.set_status(&key, card.serial, status, why, now, next_update(g, now))?;
    let verb = match status {
        Status::Revoked => "revoked",
        Status::Suspended => "suspended",
        Status::Valid => "reinstated",
    };
    report.print(
        &[
            format!("card {} of {} {verb} ({why})", card.serial, card.pay_number),
            format!(
                "published list {} ({} B, delta {} B): run `revocard publish` to distribute it",
                p.sequence,
                p.list.len(),
                p.delta.as_ref().map_or(0, Vec::len)
            ),
        ],
        json!({
            "command": verb,
            "serial": card.serial.to_hex(),
            "reason": why.to_string(),
            "published_sequence": p.sequence,
            "list_bytes": p.list.len(),
            "delta_bytes": p.delta.as_ref().map(Vec::len),
        }),
    );
    Ok(())
}

/// The incident the options name.
pub fn incident(reg: &Reg, a: &IncidentArgs) -> Result<Incident> {
    if let Some(s) = &a.supplier {
        if !reg.store().batches()?.iter().any(|b| &b.supplier == s) {
            return Err(CliError::refused(format!(
                "no supplier `{s}` has printed for this registry (see `revocard summary`)"
            )));
        }
        return Ok(Incident::Supplier {
            supplier: s.clone(),
        });
    }
    if let Some(b) = a.batch {
        if !reg.store().batches()?.iter().any(|x| x.id.0 == b) {
            return Err(CliError::refused(format!(
                "no print batch {b} in this registry"
            )));
        }
        return Ok(Incident::PrintBatch {
            batch: revocard::PrintBatchId(b),
        });
    }
    if let Some(k) = &a.key {
        let key_id = KeyId::from_hex(k.trim())
            .map_err(|_| CliError::refused(format!("`{k}` is not a key id (16 hex digits)")))?;
        return Ok(Incident::IssuerKey { key_id });
    }
    if let Some(period) = &a.issued {
        let (from, to) = period_of(period)?;
        let serials: Vec<Serial> = reg
            .store()
            .credentials(&CredentialFilter::All)?
            .into_iter()
            .filter(|c| c.issued_at >= from && c.issued_at < to)
            .map(|c| c.serial)
            .collect();
        if serials.is_empty() {
            return Err(CliError::refused(format!("no card was issued in {period}")));
        }
        return Ok(Incident::Serials { serials });
    }
    if let Some(file) = &a.holders {
        let text = fs::read_to_string(file)
            .map_err(|e| CliError::refused(format!("cannot read {}: {e}", file.display())))?;
        let pay_numbers: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        if pay_numbers.is_empty() {
            return Err(CliError::refused(format!(
                "{} names no holder",
                file.display()
            )));
        }
        return Ok(Incident::Holders { pay_numbers });
    }
    Err(CliError::refused(
        "name what was compromised: --supplier, --batch, --key, --issued or --holders",
    ))
}

/// `FROM..TO`: Unix seconds or RFC 3339 times, TO excluded.
fn period_of(text: &str) -> Result<(UnixTime, UnixTime)> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| CliError::refused(format!("`{text}` is not a period FROM..TO")))?;
    let at = |t: &str| -> Result<UnixTime> {
        let t = t.trim();
        if let Ok(secs) = t.parse::<u64>() {
            return Ok(UnixTime(secs));
        }
        let when = humantime::parse_rfc3339_weak(t)
            .map_err(|e| CliError::refused(format!("`{t}` is not a time: {e}")))?;
        let secs = when
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| CliError::refused(format!("`{t}` is before 1970")))?
            .as_secs();
        Ok(UnixTime(secs))
    };
    let (from, to) = (at(from)?, at(to)?);
    if from >= to {
        return Err(CliError::refused(format!("`{text}` is an empty period")));
    }
    Ok((from, to))
}

/// The dry run of the incident the options name. Cards issued in a period are named
/// by serial, which the library would record as their own keys' compromise: what
/// leaked there is what a supplier or system held of them, so the reason recorded
/// (and carried by the list) is a supplier breach.
fn plan_of(reg: &Reg, a: &IncidentArgs, now: UnixTime) -> Result<revocard::registry::Plan> {
    let incident = incident(reg, a)?;
    let mut plan = reg.plan(&incident, now)?;
    if a.issued.is_some() {
        plan.reason = revocard::RevocationReason::SupplierBreach;
    }
    Ok(plan)
}

fn incident_plan(g: &Global, report: &Report, a: &IncidentArgs) -> Result<()> {
    let (_, reg) = open_to_read(g)?;
    let plan = plan_of(&reg, a, office::now())?;
    let mut human = vec![format!(
        "incident: {} cards affected, {} to reissue, reason {}",
        plan.affected.len(),
        plan.reissue.len(),
        plan.reason
    )];
    human.push(format!(
        "  revoked by {} scope entr{} and {} individual entr{}",
        plan.scopes.len(),
        if plan.scopes.len() == 1 { "y" } else { "ies" },
        plan.individual.len(),
        if plan.individual.len() == 1 {
            "y"
        } else {
            "ies"
        }
    ));
    for (kind, n) in &plan.by_kind {
        human.push(format!("  {kind:<24} {n:>7}"));
    }
    for (vetting, n) in &plan.by_vetting {
        human.push(format!("  vetting {vetting:<16} {n:>7}"));
    }
    human.push(format!(
        "  suppliers that saw their data: {}",
        plan.exposed_suppliers.join(", ")
    ));
    human.push(
        "dry run: `revocard incident declare ... --reissue-via OTHER` revokes and publishes".into(),
    );
    report.print(
        &human,
        json!({
            "command": "incident plan",
            "affected": plan.affected.len(),
            "reissue": plan.reissue.len(),
            "reason": plan.reason.to_string(),
            "scopes": plan.scopes.len(),
            "individual": plan.individual.len(),
            "by_kind": plan.by_kind,
            "by_vetting": plan.by_vetting,
            "exposed_suppliers": plan.exposed_suppliers,
        }),
    );
    Ok(())
}

fn incident_declare(g: &Global, report: &Report, a: &crate::DeclareArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let now = office::now();
    // The same declaration again (a run killed after its commit, a retried script):
    // the incident's reissue job is open for the same supplier, so nothing is to be
    // declared; say where the job stands, as a rerun of `incident reissue` does.
    if let Some((job, affected)) = open_declaration(&reg, &a.incident, &a.reissue_via)? {
        report.print(
            &[
                format!("already declared: job {job} is open, {affected} cards revoked; nothing more to declare"),
                format!(
                    "next: `revocard incident reissue --supplier {} --cards FILE` finishes job {job}",
                    a.reissue_via
                ),
            ],
            json!({
                "command": "incident declare",
                "already_declared": true,
                "job": job,
                "revoked": affected,
            }),
        );
        return Ok(());
    }
    let plan = plan_of(&reg, &a.incident, now)?;
    let key = signing_key(g, &db, &reg, now)?;
    let started = std::time::Instant::now();
    let declared = reg.declare(&plan, &key, &a.reissue_via, now, next_update(g, now))?;
    let took = started.elapsed();
    let p = &declared.publication;
    let mut human = vec![
        format!(
            "declared: {} cards revoked, list {} signed and published in {:.1} ms",
            declared.revoked,
            p.sequence,
            took.as_secs_f64() * 1e3
        ),
        format!(
            "distribute: the list ({} B) and its delta ({} B): `revocard publish --out DIR`",
            p.list.len(),
            p.delta.as_ref().map_or(0, Vec::len)
        ),
        format!(
            "next: `revocard incident reissue --supplier {} --cards FILE` signs {} replacements (job {})",
            a.reissue_via,
            plan.reissue.len(),
            declared.job
        ),
    ];
    if let Some(dir) = &a.publish {
        let written = crate::publishing::write_layout(&reg, dir)?;
        human.push(format!("published to {}: {written}", dir.display()));
    }
    report.print(
        &human,
        json!({
            "command": "incident declare",
            "job": declared.job,
            "revoked": declared.revoked,
            "reissue": plan.reissue.len(),
            "published_sequence": p.sequence,
            "list_bytes": p.list.len(),
            "delta_bytes": p.delta.as_ref().map(Vec::len),
            "declare_ms": took.as_secs_f64() * 1e3,
        }),
    );
    Ok(())
}

/// The open reissue job (id, affected cards) that declared this very incident with
/// replacements through `reissue_via`, if there is one.
fn open_declaration(
    reg: &Reg,
    a: &IncidentArgs,
    reissue_via: &str,
) -> Result<Option<(u64, usize)>> {
    let incident = incident(reg, a)?;
    let batches = reg.store().batches()?;
    Ok(reg.store().jobs()?.into_iter().find_map(|job| {
        let JobKind::Reissue {
            incident: declared,
            affected,
            batch,
            ..
        } = &job.kind
        else {
            return None;
        };
        let via = batches.iter().find(|b| b.id == *batch)?;
        (job.finished_at.is_none() && *declared == incident && via.supplier == reissue_via)
            .then_some((
                job.id,
                usize::try_from(affected.count()).unwrap_or(usize::MAX),
            ))
    }))
}

fn show(g: &Global, report: &Report, a: &TargetArgs) -> Result<()> {
    let (_, reg) = open_to_read(g)?;
    let batches = reg.store().batches()?;
    let log = reg.store().audit_log()?;
    let Some(pay) = a.pay_number.as_deref().filter(|_| a.serial.is_none()) else {
        let card = target(&reg, a)?;
        let (human, mut doc) = card_view(&reg, &card, &batches, &log)?;
        if let Some(map) = doc.as_object_mut() {
            map.insert("command".into(), json!("show"));
        }
        report.print(&human, doc);
        return Ok(());
    };
    // Every card of this holder, newest first (the store lists them oldest first).
    let mut cards = reg
        .store()
        .credentials(&CredentialFilter::PayNumbers(vec![pay.to_owned()]))?;
    if cards.is_empty() {
        return Err(CliError::refused(format!(
            "no card for pay number {pay} in this registry"
        )));
    }
    cards.reverse();
    cards.sort_by_key(|c| std::cmp::Reverse(c.issued_at));
    let mut human = vec![format!(
        "pay number {pay}: {} card{}, newest first",
        cards.len(),
        if cards.len() == 1 { "" } else { "s" }
    )];
    let mut docs = Vec::new();
    for card in &cards {
        let (lines, doc) = card_view(&reg, card, &batches, &log)?;
        human.push(String::new());
        human.extend(lines);
        docs.push(doc);
    }
    report.print(
        &human,
        json!({"command": "show", "pay_number": pay, "cards": docs}),
    );
    Ok(())
}

/// One card as `show` prints it: every claim (the holder's name, rank and unit
/// included), its status index (the position an IETF or W3C status entry names), its
/// state and its history.
fn card_view(
    reg: &Reg,
    card: &CredentialRecord,
    batches: &[revocard::registry::PrintBatch],
    log: &[revocard::registry::audit::AuditRecord],
) -> Result<(Vec<String>, serde_json::Value)> {
    let status = reg.effective_status(card)?;
    let claims = revocard::UnverifiedCredential::from_bytes(&card.bytes)?
        .unverified_claims()
        .clone();
    let supplier = batches
        .iter()
        .find(|b| b.id == card.print_batch)
        .map(|b| b.supplier.clone())
        .unwrap_or_default();
    let serial_hex = card.serial.to_hex();
    let history: Vec<(u64, UnixTime, String)> = log
        .iter()
        .filter(|r| r.event_json.contains(&serial_hex))
        .map(|r| {
            let kind = serde_json::from_str::<serde_json::Value>(&r.event_json)
                .ok()
                .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_default();
            (r.seq, r.at, kind)
        })
        .collect();
    let state = if card.superseded_by.is_some() && status != Status::Revoked {
        "superseded"
    } else {
        status_word(status)
    };
    let photo: String = claims
        .holder
        .photo()
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut human = vec![
        format!("card {} ({})", card.serial, claims.kind),
        format!(
            "  holder     {} {} {}, {}",
            claims.holder.pay_number(),
            claims.holder.rank(),
            claims.holder.name(),
            claims.holder.unit()
        ),
        format!("  name       {}", claims.holder.name()),
        format!("  rank       {}", claims.holder.rank()),
        format!("  unit       {}", claims.holder.unit()),
        format!("  photo      sha256 {photo}"),
        format!("  vetting    {}", claims.vetting),
        format!("  state      {state}"),
        format!(
            "  status index {} (the idx / statusListIndex of IETF and W3C status entries)",
            claims.status_index.0
        ),
        format!(
            "  valid      {} .. {}",
            claims.validity.not_before.0, claims.validity.not_after.0
        ),
        format!(
            "  issued     {} by {}, signed by key {}",
            claims.issued_at.0, claims.issuer, card.key_id
        ),
        format!("  printed    batch {} by {supplier}", card.print_batch.0),
        format!(
            "  bound      {}",
            match claims.card_key {
                Some(k) => format!("to the card's own key {k} (holder binding)"),
                None => "to no card key".to_owned(),
            }
        ),
    ];
    if let Some((why, at)) = card.status_reason {
        human.push(format!("  reason     {why} at {}", at.0));
    }
    if let Some(s) = card.supersedes {
        human.push(format!("  replaces   {s}"));
    }
    if let Some(s) = card.superseded_by {
        human.push(format!("  replaced by {s}"));
    }
    human.push("  history".into());
    for (seq, at, kind) in &history {
        human.push(format!("    #{seq} at {}: {kind}", at.0));
    }
    let doc = json!({
        "serial": serial_hex,
        "kind": claims.kind.to_string(),
        "pay_number": claims.holder.pay_number(),
        "name": claims.holder.name(),
        "rank": claims.holder.rank(),
        "unit": claims.holder.unit(),
        "photo_sha256": photo,
        "vetting": claims.vetting.to_string(),
        "issuer": claims.issuer.as_str(),
        "status_index": claims.status_index.0,
        "issued_at": claims.issued_at.0,
        "not_before": claims.validity.not_before.0,
        "not_after": claims.validity.not_after.0,
        "card_public_key": claims.card_key.map(|k| k.to_string()),
        "state": state,
        "print_batch": card.print_batch.0,
        "supplier": supplier,
        "key_id": card.key_id.to_string(),
        "holder_bound": claims.card_key.is_some(),
        "reason": card.status_reason.map(|(r, _)| r.to_string()),
        "supersedes": card.supersedes.map(|s| s.to_hex()),
        "superseded_by": card.superseded_by.map(|s| s.to_hex()),
        "history": history.iter().map(|(seq, at, kind)| json!({"seq": seq, "at": at.0, "event": kind})).collect::<Vec<_>>(),
    });
    Ok((human, doc))
}

fn summary(g: &Global, report: &Report) -> Result<()> {
    let (_, reg) = open_to_read(g)?;
    let s = reg.summary()?;
    let pending = reg.pending()?;
    let jobs: Vec<_> = reg
        .store()
        .jobs()?
        .into_iter()
        .filter(|j| j.finished_at.is_none())
        .collect();
    let last = reg.latest_publication()?;
    let batches = reg.store().batches()?;
    let now = office::now();
    let mut human = vec![
        format!(
            "registry {} of issuer {}",
            reg.store().location(),
            reg.meta().issuer
        ),
        format!(
            "  cards      {} issued: {} active, {} revoked, {} suspended, {} replaced; {} pending",
            s.issued,
            s.active,
            s.revoked,
            s.suspended,
            s.superseded,
            pending.len()
        ),
        format!("  batches    {}", batches.len()),
    ];
    for j in &jobs {
        human.push(format!(
            "  open job   {} since {}: resume it with the command that started it",
            j.id, j.started_at.0
        ));
    }
    if let Some(p) = &last {
        let age = now.0.saturating_sub(p.published_at.0);
        human.push(format!(
            "  last list  {} published {age} s ago ({} B)",
            p.sequence,
            p.list.len()
        ));
    }
    let set = reg.key_set();
    human.push(format!("  key set    {}", set.sequence()));
    let mut keys = Vec::new();
    for e in set.entries() {
        let w = e.key.validity();
        let state = if e.revoked.is_some() {
            "revoked"
        } else if now > w.not_after {
            "expired"
        } else {
            "in force"
        };
        human.push(format!(
            "    key {} {:?} {state}, window {} .. {}",
            e.key.key_id(),
            e.usage,
            w.not_before.0,
            w.not_after.0
        ));
        keys.push(json!({
            "key_id": e.key.key_id().to_string(),
            "state": state,
            "not_before": w.not_before.0,
            "not_after": w.not_after.0,
        }));
    }
    report.print(
        &human,
        json!({
            "command": "summary",
            "issuer": reg.meta().issuer.as_str(),
            "issued": s.issued,
            "active": s.active,
            "revoked": s.revoked,
            "suspended": s.suspended,
            "superseded": s.superseded,
            "pending": pending.len(),
            "batches": batches.len(),
            "open_jobs": jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
            "last_publication": last.as_ref().map(|p| json!({"sequence": p.sequence, "published_at": p.published_at.0, "bytes": p.list.len()})),
            "key_set": set.sequence(),
            "keys": keys,
        }),
    );
    Ok(())
}

fn audit_verify(g: &Global, report: &Report) -> Result<()> {
    let (_, reg) = open_to_read(g)?;
    let head = reg
        .verify_audit()
        .map_err(|e| CliError::refused(format!("the audit log does not verify: {e}")))?;
    let hash: String = head.hash.iter().map(|b| format!("{b:02x}")).collect();
    report.print(
        &[
            format!(
                "audit log verified: {} entries, chain intact, every list's commitment found",
                head.entries
            ),
            format!("head {} {hash}", head.entries),
            "keep the head: a later log that does not extend it was rewritten".into(),
        ],
        json!({"command": "audit verify", "entries": head.entries, "head": hash}),
    );
    Ok(())
}

/// Replaces every pay-number list in an event by its count: the export carries no
/// card data beyond serials.
fn redact(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if k == "pay_numbers"
                    && let Some(list) = val.as_array()
                {
                    *val = json!({ "redacted": list.len() });
                } else {
                    redact(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn audit_export(g: &Global, report: &Report, out_path: Option<&Path>) -> Result<()> {
    let (_, reg) = open_to_read(g)?;
    let log = reg.store().audit_log()?;
    let mut text = String::new();
    for r in &log {
        let mut event: serde_json::Value = serde_json::from_str(&r.event_json)
            .map_err(|e| CliError::failed(format!("audit entry {}: {e}", r.seq)))?;
        redact(&mut event);
        let hex = |h: &[u8; 32]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
        text.push_str(
            &json!({
                "seq": r.seq,
                "at": r.at.0,
                "event": event,
                "prev_hash": hex(&r.prev_hash),
                "hash": hex(&r.hash),
            })
            .to_string(),
        );
        text.push('\n');
    }
    match out_path {
        Some(p) => {
            office::write_atomic(p, text.as_bytes())?;
            report.print(
                &[format!(
                    "{} audit entries written to {}",
                    log.len(),
                    p.display()
                )],
                json!({"command": "audit export", "entries": log.len(), "out": p}),
            );
        }
        None => {
            for l in text.lines() {
                out::line(l);
            }
        }
    }
    Ok(())
}

/// The root key file given for trials, checked to be this registry's root.
fn trial_root(reg: &Reg, path: &Path) -> Result<RootKey> {
    let root = office::load_root_key(path, &reg.meta().issuer)?;
    if root.public() != reg.root() {
        return Err(CliError::refused(format!(
            "{} is not this registry's root",
            path.display()
        )));
    }
    Ok(root)
}

fn key_rotate(g: &Global, report: &Report, a: &crate::RotateArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let issuer = reg.meta().issuer.clone();
    let root = a
        .root_key
        .as_deref()
        .map(|p| trial_root(&reg, p))
        .transpose()?;
    if let Some(uri) = &a.hsm {
        crate::hsm::check_uri(uri)?;
    }
    let now = office::now();
    let mut rng = os_rng()?;
    let window = Validity::new(now.minus(60), now.plus(a.key_years.max(1) * YEAR))?;
    let dir = office::keys_dir(&db, g.keys.as_deref());
    // Refuse a draft path that is taken before a key is born for it.
    let draft_path = a.out.clone().unwrap_or_else(|| {
        crate::ceremony::default_draft_path(&db, reg.key_set().sequence().saturating_add(1))
    });
    if root.is_none() && fs::symlink_metadata(&draft_path).is_ok() {
        return Err(CliError::refused(format!(
            "{} already exists: give the draft another path with --out",
            draft_path.display()
        ))
        .named("file_exists"));
    }
    let (key, attributes) = match &a.hsm {
        Some(uri) => {
            let (key, attributes) = crate::hsm::generate_signing(g, uri, issuer.clone(), window)?;
            (key, Some(attributes))
        }
        None => (IssuerKey::generate(issuer.clone(), window, &mut rng)?, None),
    };
    let (path, place) = match &a.hsm {
        Some(uri) => {
            let path = crate::context::signing_record_path(&dir, key.key_id());
            office::write_token_record(
                &path,
                &issuer,
                window,
                &key.public().public_key_bytes(),
                uri,
            )?;
            let place = format!("in token {uri} (record {})", path.display());
            (path, place)
        }
        None => {
            let path = signing_key_path(&dir, key.key_id());
            office::write_key(
                &path,
                KeyKind::Signing,
                &issuer,
                window,
                key.to_secret_bytes().as_deref(),
            )?;
            let place = format!("file {}", path.display());
            (path, place)
        }
    };
    let Some(root) = root else {
        // The ceremony: the key waits, uncertified (the office never signs with it),
        // until the root has signed the draft and it is installed.
        let mut file = crate::ceremony::DraftFile::after(&reg, now)?;
        file.certify(key.public(), KeyUsage::CredentialsAndLists);
        let (file, replayed) = file.seal(reg.root(), now)?;
        crate::ceremony::write_draft(&draft_path, &file)?;
        let (set_lines, set_doc) = replayed.describe();
        let mut human = vec![format!(
            "key {} born {place}; not certified until the root signs:",
            key.key_id()
        )];
        human.extend(set_lines);
        human.extend(crate::ceremony::next_steps(&draft_path, file.sequence));
        report.print(
            &human,
            json!({"command": "key rotate", "key_id": key.key_id().to_string(), "file": path, "uri": a.hsm, "attributes": attributes, "draft": draft_path, "set": set_doc}),
        );
        return Ok(());
    };
    let mut draft = reg.draft_key_set(now);
    draft.certify(key.public(), KeyUsage::CredentialsAndLists)?;
    let installed = crate::hsm::sign_key_set(&root, &draft)
        .and_then(|bytes| reg.install_key_set(&bytes, now).map_err(CliError::from));
    if let Err(e) = installed {
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    report.print(
        &[
            format!(
                "key {} certified (key set {}), {place}",
                key.key_id(),
                reg.key_set().sequence(),
            ),
            "run `revocard publish` so doors learn it before it signs for them".into(),
        ],
        json!({"command": "key rotate", "key_id": key.key_id().to_string(), "key_set": reg.key_set().sequence(), "file": path, "uri": a.hsm, "attributes": attributes}),
    );
    Ok(())
}

fn key_compromised(g: &Global, report: &Report, a: &crate::CompromisedArgs) -> Result<()> {
    let (db, mut reg) = open(g)?;
    let key_id = crate::ceremony::key_id_arg(&a.key_id)?;
    if reg.key_set().entry(key_id).is_none() {
        return Err(CliError::refused(format!(
            "key {key_id} is not in this registry's key set"
        )));
    }
    let now = office::now();
    let next = format!(
        "next: `revocard incident declare --key {key_id} --reissue-via SUPPLIER` (from then on the registry never signs with it), then `revocard publish`"
    );
    let Some(root_path) = &a.root_key else {
        let mut file = crate::ceremony::DraftFile::after(&reg, now)?;
        file.revoke(key_id, now, RevocationReason::KeyCompromise);
        let (file, replayed) = file.seal(reg.root(), now)?;
        let path = a
            .out
            .clone()
            .unwrap_or_else(|| crate::ceremony::default_draft_path(&db, file.sequence));
        crate::ceremony::write_draft(&path, &file)?;
        let (set_lines, set_doc) = replayed.describe();
        let mut human = vec![format!(
            "key {key_id} compromised: the root revokes it in key set {}:",
            file.sequence
        )];
        human.extend(set_lines);
        human.extend(crate::ceremony::next_steps(&path, file.sequence));
        human.push(next);
        report.print(
            &human,
            json!({"command": "key compromised", "key_id": key_id.to_string(), "draft": path, "set": set_doc}),
        );
        return Ok(());
    };
    let root = trial_root(&reg, root_path)?;
    let mut draft = reg.draft_key_set(now);
    draft.revoke(key_id, now, RevocationReason::KeyCompromise)?;
    let bytes = crate::hsm::sign_key_set(&root, &draft)?;
    reg.install_key_set(&bytes, now)?;
    report.print(
        &[
            format!(
                "key {key_id} revoked by the root (key set {}): doors refuse everything it signs once they have the set",
                reg.key_set().sequence()
            ),
            next,
        ],
        json!({"command": "key compromised", "key_id": key_id.to_string(), "key_set": reg.key_set().sequence()}),
    );
    Ok(())
}

fn key_list(g: &Global, report: &Report, a: &crate::KeyListArgs) -> Result<()> {
    let (db, reg) = open_to_read(g)?;
    let dir = office::keys_dir(&db, g.keys.as_deref());
    let mut human = vec![format!("key set {}", reg.key_set().sequence())];
    let mut keys = Vec::new();
    for e in reg.key_set().entries() {
        let w = e.key.validity();
        let held = crate::context::find_office_key(&dir, e.key.key_id());
        let (file, token) = match &held {
            Some(crate::context::OfficeKey::File(p)) => (Some(p.clone()), None),
            Some(crate::context::OfficeKey::Token(p)) => (
                None,
                office::read_token_record(p, &reg.meta().issuer)
                    .ok()
                    .map(|r| r.uri),
            ),
            None => (None, None),
        };
        human.push(format!(
            "  {} {:?} {} .. {}{}{}",
            e.key.key_id(),
            e.usage,
            w.not_before.0,
            w.not_after.0,
            if e.revoked.is_some() { " REVOKED" } else { "" },
            match (&file, &token) {
                (Some(_), _) => String::new(),
                (None, Some(uri)) => format!(" (in token {uri})"),
                (None, None) => " (no key file here)".to_owned(),
            }
        ));
        let attributes = match (&token, a.attributes) {
            (Some(uri), true) => {
                let attributes = crate::hsm::token_attributes(g, uri)?;
                human.push(format!("    token attributes {attributes}"));
                Some(attributes)
            }
            _ => None,
        };
        keys.push(json!({"key_id": e.key.key_id().to_string(), "revoked": e.revoked.is_some(), "not_before": w.not_before.0, "not_after": w.not_after.0, "file": file, "uri": token, "attributes": attributes}));
    }
    report.print(
        &human,
        json!({"command": "key list", "key_set": reg.key_set().sequence(), "keys": keys}),
    );
    Ok(())
}

/// The most software cards `simulate-blanks` makes in one run.
pub const MAX_SIMULATED_CARDS: usize = 1_000_000;

fn simulate_blanks(report: &Report, a: &crate::SimulateArgs) -> Result<()> {
    use rand::Rng as _;
    if a.count == 0 || a.count > MAX_SIMULATED_CARDS {
        return Err(CliError::refused(format!(
            "--count must be 1 to {MAX_SIMULATED_CARDS}"
        )));
    }
    let not_empty = a.out.exists()
        && fs::read_dir(&a.out)
            .map_err(|e| CliError::io("reading", &a.out, &e))?
            .next()
            .is_some();
    if not_empty {
        return Err(CliError::refused(format!(
            "{} is not empty: revocard never overwrites card secrets",
            a.out.display()
        )));
    }
    let secrets = a.out.join("secrets");
    fs::create_dir_all(&secrets).map_err(|e| CliError::io("creating the folder", &secrets, &e))?;
    let mut rng = os_rng()?;
    let mut csv = String::from("card_public_key\n");
    for _ in 0..a.count {
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        rng.fill_bytes(secret.as_mut_slice());
        let public = revocard::issue::CardKey::from_secret_bytes(&secret).public();
        let hex: zeroize::Zeroizing<String> =
            zeroize::Zeroizing::new(secret.iter().map(|b| format!("{b:02x}")).collect());
        office::write_secret(&secrets.join(format!("{public}.key")), hex.as_bytes())?;
        csv.push_str(&public.to_string());
        csv.push('\n');
    }
    let blanks = a.out.join("blanks.csv");
    office::write_atomic(&blanks, csv.as_bytes())?;
    report.print(
        &[
            format!("{} software cards: report {}, secrets in {}", a.count, blanks.display(), secrets.display()),
            "for trials only: a real supplier reports its chips' public keys and the secrets never leave the chips".into(),
        ],
        json!({"command": "simulate-blanks", "count": a.count, "blanks": blanks, "secrets": secrets}),
    );
    Ok(())
}

fn credentials(g: &Global, report: &Report, a: &crate::CredentialsArgs) -> Result<()> {
    let (_, reg) = open_to_read(g)?;
    let batch = revocard::PrintBatchId(a.batch);
    if !reg.store().batches()?.iter().any(|b| b.id == batch) {
        return Err(CliError::refused(format!(
            "no print batch {} in this registry",
            a.batch
        )));
    }
    let cards = reg
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![batch]))?;
    let mut text = String::from("serial,card_public_key,credential\n");
    for c in &cards {
        let credential = revocard::UnverifiedCredential::from_bytes(&c.bytes)?;
        let key = credential
            .unverified_claims()
            .card_key
            .map(|k| k.to_string())
            .unwrap_or_default();
        text.push_str(&format!(
            "{},{key},{}\n",
            c.serial.to_hex(),
            revocard::credential_text(&c.bytes)
        ));
    }
    office::write_atomic(&a.out, text.as_bytes())?;
    report.print(
        &[format!(
            "{} credentials of batch {} written to {} (for the enrolment station only)",
            cards.len(),
            a.batch,
            a.out.display()
        )],
        json!({"command": "credentials", "batch": a.batch, "count": cards.len(), "out": a.out}),
    );
    Ok(())
}
