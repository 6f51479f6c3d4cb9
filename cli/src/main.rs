//! `revocard`, the operator's tool: run the issuing office from a terminal.
//!
//! Every subcommand prints a short summary, or exactly one JSON object with `--json`
//! (a failure as `{"error": CODE, "message": ...}`). The exit codes are one table
//! (`error.rs`, repeated in the help below and in README's "Operate it"). The workflow
//! is the library's: this binary parses arguments and files, calls `revocard`'s public
//! API and prints what it did.
#![forbid(unsafe_code)]

mod ceremony;
mod commands;
mod context;
mod error;
mod hsm;
mod issuing;
mod office;
mod out;
#[cfg_attr(not(feature = "pkcs11"), allow(dead_code))]
mod pin;
mod publishing;
mod roster_csv;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// revocard: the issuing office of warrant cards and staff passes, from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "revocard",
    version,
    propagate_version = true,
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes (error.rs holds the same table), shown under `revocard --help`.
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done
  1  refused: the input was wrong (a bad roster, an unknown serial, a card a door
     denies...); nothing was written. Fix the input and run again
  2  failed: the environment was wrong (no registry or not a registry at --db, a file
     that cannot be read or written, a database that cannot be reached), or the
     command line does not parse
  3  interrupted, resumable: stopped part-way (Ctrl-C, a lost database connection);
     what was committed is kept. Run the same command again to resume

With --json every command prints exactly one JSON object; a failure is
{\"error\": CODE, \"message\": TEXT, \"exit_code\": N}.

The PostgreSQL password: in the URL, or (better: a URL is visible in `ps`) in
PGPASSWORD, or in the password file PGPASSFILE (default ~/.pgpass, mode 0600), as
libpq finds it.";

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The registry: the path of its SQLite file, or a PostgreSQL URL
    /// (postgres://USER@HOST:PORT/DATABASE; the password from PGPASSWORD or
    /// PGPASSFILE/~/.pgpass rather than the URL).
    #[arg(
        long,
        global = true,
        env = "REVOCARD_DB",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub db: Option<PathBuf>,
    /// The folder of the office's keys: records of keys in tokens (`*.pkcs11`, no
    /// secret), and key files for trials and tests [default: keys/ beside the registry].
    #[arg(long, global = true, env = "REVOCARD_KEYS", value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// Print one JSON object instead of the summary (a failure too).
    #[arg(long, global = true)]
    pub json: bool,
    /// Replace an output file (--out, --manifest, --anchor) that holds other content.
    /// Without it such a file is refused; the same content again is left as it is.
    #[arg(long, global = true)]
    pub force: bool,
    /// How long each signed list stays in force: doors deny every card once it is
    /// past, plus their grace. Keep lists fresh with `publish --every`.
    #[arg(long, global = true, env = "REVOCARD_LIST_LIFETIME", value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub list_lifetime: Duration,
    /// The PKCS#11 module (the HSM vendor's library, for example
    /// /usr/lib/softhsm/libsofthsm2.so) for keys named by `pkcs11:` URIs.
    #[arg(
        long,
        global = true,
        env = "REVOCARD_PKCS11_MODULE",
        value_name = "PATH"
    )]
    pub pkcs11_module: Option<PathBuf>,
    /// A file (mode 0600) holding the token's PIN on one line. Without it: the key
    /// URI's pin-source, else the variable REVOCARD_PIN, else a prompt on the terminal.
    /// A PIN is never taken from the command line.
    #[arg(long, global = true, env = "REVOCARD_PIN_FILE", value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
    /// Accept a token key that can leave the token (CKA_EXTRACTABLE true or
    /// CKA_SENSITIVE false). Without it such a key is refused: for trials only.
    #[arg(long, global = true)]
    pub allow_extractable: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new registry for an issuer: its signing key, and the trust anchor door
    /// vendors install. With --root-anchor the root stays offline (the first key set
    /// goes through the ceremony: `keyset sign`, `keyset install`); without it, for
    /// trials and tests, the root's secret is written to a file beside the registry.
    Init(InitArgs),
    /// The issuer's root, on the offline machine: `root init` makes it.
    #[command(subcommand)]
    Root(RootCommand),
    /// The root ceremony: draft a key set in the office, sign it on the offline
    /// machine, install it in the office.
    #[command(subcommand)]
    Keyset(KeysetCommand),
    /// Keep cards in line with HR's roster export.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Sign the pending cards into a print batch for a supplier and write its manifest.
    Issue(IssueArgs),
    /// Revoke one card for good.
    Revoke(ChangeArgs),
    /// Suspend one card (it can be reinstated).
    Suspend(ChangeArgs),
    /// Lift a card's suspension.
    Reinstate(ChangeArgs),
    /// Handle a compromise: plan it, declare it (revoke and publish), reissue.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Write the signed list, its deltas, the key set and the trust anchor for
    /// distribution, in the published layout.
    Publish(PublishArgs),
    /// Write a batch's signed credentials for the office's enrolment station, which
    /// writes each onto the chip holding the key it binds (never for the print
    /// supplier: a credential carries the pay number and vetting).
    Credentials(CredentialsArgs),
    /// Serve a published folder over HTTP (read-only): ETag and cache headers, and
    /// server-sent events pushing each new delta to connected doors.
    Serve(ServeArgs),
    /// One card's claims, status index, state and history; with --pay-number, every
    /// card of that holder, newest first.
    Show(TargetArgs),
    /// The registry at a glance.
    Summary,
    /// Check or export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check one card as a door would, against published files only.
    Verify(VerifyArgs),
    /// Certify, rotate or withdraw signing keys under the issuer's root.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Make software stand-ins for a supplier's blank cards, for trials: a blank-card
    /// report (blanks.csv) and one secret key file per card. Real chips keep their
    /// secrets; never use these for real cards.
    SimulateBlanks(SimulateArgs),
    /// Settings every office on this registry shares (kept in the registry's audit log).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a print batch's manifest again, derived from the registry: the same bytes
    /// `issue` or `incident reissue` wrote (for a manifest lost or never written).
    Manifest(ManifestArgs),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The published folder (as `publish --out` writes it).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Most connections at once (doors holding a push stream included).
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
}

#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// The print batch.
    #[arg(long)]
    pub batch: u32,
    /// Where: CSV with columns serial, card_public_key, credential (the QR text).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// How many blank cards.
    #[arg(long)]
    pub count: usize,
    /// The folder to write blanks.csv and the cards' secret files into (new or empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The issuer's id, as doors will know it (printable ASCII, at most 32 bytes).
    #[arg(long)]
    pub issuer: String,
    /// Status list capacity: how many cards the issuer can ever issue (a power of two).
    #[arg(long, default_value_t = 1 << 18)]
    pub capacity: u32,
    /// Years the signing key may sign for.
    #[arg(long, default_value_t = 5)]
    pub key_years: u64,
    /// Where to write the trust anchor [default: trust-anchor.rca beside the registry].
    #[arg(long, value_name = "FILE")]
    pub anchor: Option<PathBuf>,
    /// Generate the signing key inside this token key (a PKCS#11 URI such as
    /// `pkcs11:token=office;object=signing-2026`): sensitive, not extractable; no key
    /// file is written. Without it, for trials and tests: the key in a file.
    #[arg(long, value_name = "PKCS11-URI")]
    pub hsm: Option<String>,
    /// The root's anchor (as `revocard root init` wrote it on the offline machine):
    /// the root stays offline, and this writes the first key set's draft for it to
    /// sign; `revocard keyset install` then creates the registry. Without it, for trials
    /// and tests: the root's secret in a file (keys/root.key).
    #[arg(long, value_name = "FILE")]
    pub root_anchor: Option<PathBuf>,
    /// Where to write the first key set's draft (with --root-anchor) [default:
    /// keyset-1.draft beside the registry].
    #[arg(long, value_name = "FILE", requires = "root_anchor")]
    pub draft: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RootCommand {
    /// Make the issuer's root on the offline machine, in its token (or, for trials and
    /// tests, in a key file), and write its anchor: the office (`init --root-anchor`)
    /// and the door vendors need it; keep a copy beside the token for `keyset sign`.
    Init(RootInitArgs),
}

#[derive(Debug, Args)]
pub struct RootInitArgs {
    /// The issuer's id, as doors will know it.
    #[arg(long)]
    pub issuer: String,
    /// Generate the root inside this token key (a PKCS#11 URI such as
    /// `pkcs11:token=root;object=root`).
    #[arg(long, value_name = "PKCS11-URI", conflicts_with = "key_file")]
    pub hsm: Option<String>,
    /// For trials and tests only: the root's secret in this file (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Where to write the root's anchor (public).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Years the root may sign key sets for.
    #[arg(long, default_value_t = 20)]
    pub years: u64,
}

#[derive(Debug, Subcommand)]
pub enum KeysetCommand {
    /// In the office: write what the root is asked to sign (the key set in force, with
    /// keys to certify and to revoke, the sequence), for the offline machine.
    Draft(KeysetDraftArgs),
    /// On the offline machine: show what a draft asks, ask, and sign it with the root.
    /// Never opens a registry.
    Sign(KeysetSignArgs),
    /// In the office: install a key set the root signed (it must follow the set in
    /// force), or, after `init --root-anchor`, create the registry with it.
    Install(KeysetInstallArgs),
}

#[derive(Debug, Args)]
pub struct KeysetDraftArgs {
    /// Where to write the draft [default: keyset-N.draft beside the registry].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Certify this key (its id; its key file or token record in the keys folder).
    #[arg(long, value_name = "KEY-ID")]
    pub certify: Vec<String>,
    /// Revoke this key (its id).
    #[arg(long, value_name = "KEY-ID")]
    pub revoke: Vec<String>,
    /// Why the keys given with --revoke are revoked.
    #[arg(long, value_enum, default_value_t = Reason::KeyCompromise)]
    pub reason: Reason,
    /// Leave out keys whose window has ended.
    #[arg(long)]
    pub drop_expired: bool,
}

#[derive(Debug, Args)]
pub struct KeysetSignArgs {
    /// The draft (as `keyset draft`, `key rotate`, `key compromised` or `init` wrote it).
    pub draft: PathBuf,
    /// The root: a PKCS#11 URI (`pkcs11:token=root;object=root`), or, for trials and
    /// tests, the root key file.
    #[arg(long, value_name = "PKCS11-URI|FILE")]
    pub root: String,
    /// The root's anchor, as `root init` wrote it on this machine (required for a root
    /// in a token: it says which issuer the root is).
    #[arg(long, value_name = "FILE")]
    pub anchor: Option<PathBuf>,
    /// Where to write the signed key set.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Sign without asking (for scripts that checked the draft).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct KeysetInstallArgs {
    /// The signed key set (as `keyset sign` wrote it).
    pub signed: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Compare HR's roster with the registry: joiners (new cards), movers (reissue),
    /// leavers (revoke). A dry run unless --apply.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The roster: CSV, UTF-8, header pay_number,name,rank,unit,kind,vetting,photo_ref.
    pub file: PathBuf,
    /// Do it: record joiners and movers (their cards become pending) and revoke
    /// leavers' cards, publishing the list.
    #[arg(long)]
    pub apply: bool,
    /// Years a new card is valid for.
    #[arg(long, default_value_t = 5)]
    pub valid_years: u64,
    /// Approve removing exactly N leavers when N is more than the registry's
    /// threshold (`revocard config set max-leavers`, default 500): N must be the number
    /// of leavers this run finds, so an approval cannot carry another export.
    #[arg(long, value_name = "N", requires = "apply")]
    pub allow_leavers: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show the registry's settings.
    Show,
    /// Change a setting for every office on this registry (recorded in the audit log).
    Set {
        /// The setting.
        #[arg(value_enum)]
        name: Setting,
        /// Its new value.
        value: u64,
    },
}

/// A registry setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Setting {
    /// The most leavers `roster sync --apply` removes without `--allow-leavers N`
    /// (default 500).
    MaxLeavers,
}

#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// The print batch.
    #[arg(long)]
    pub batch: u32,
    /// Where to write it.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The manifest's format.
    #[arg(long, value_enum, default_value_t = ManifestFormat::Csv)]
    pub format: ManifestFormat,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The print supplier.
    #[arg(long)]
    pub supplier: String,
    /// The supplier's report of its blank cards: CSV with a card_public_key column
    /// (each chip's public key; the secret never leaves the chip).
    #[arg(long, value_name = "FILE")]
    pub cards: PathBuf,
    /// Where to write the batch's manifest [default: batch-N.csv beside the registry].
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The manifest's format.
    #[arg(long, value_enum, default_value_t = ManifestFormat::Csv)]
    pub format: ManifestFormat,
    /// Approve revoking exactly N replaced cards (movers' old cards) when the batch is
    /// finished, when N is more than the registry's threshold (`revocard config set
    /// max-leavers`, default 500): N must be the number this run finds.
    #[arg(long, value_name = "N")]
    pub allow_revocations: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The card's serial (32 hex digits, as printed).
    #[arg(required_unless_present = "pay_number", conflicts_with = "pay_number")]
    pub serial: Option<String>,
    /// The holder's pay number: their current card (`show`: every card of theirs,
    /// newest first).
    #[arg(long)]
    pub pay_number: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Why.
    #[arg(long, value_enum)]
    pub reason: Reason,
}

/// Why a card is revoked or suspended (RFC 5280 reason codes, plus breach, lost, stolen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Reason {
    Unspecified,
    KeyCompromise,
    IssuerKeyCompromise,
    AffiliationChanged,
    Superseded,
    LeftService,
    PrivilegeWithdrawn,
    SupplierBreach,
    Lost,
    Stolen,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// The dry run: who is affected, how many, what vetting.
    Plan(IncidentArgs),
    /// Revoke everything the incident covers and publish the list, in one step.
    Declare(DeclareArgs),
    /// Sign the replacements (resumable: run it again after an interruption).
    Reissue(ReissueArgs),
}

/// What was compromised: exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct IncidentArgs {
    /// Every card a supplier printed.
    #[arg(long)]
    pub supplier: Option<String>,
    /// One print batch.
    #[arg(long)]
    pub batch: Option<u32>,
    /// Every card a signing key signed (key id, 16 hex digits).
    #[arg(long)]
    pub key: Option<String>,
    /// Cards issued in a period: FROM..TO, Unix seconds or RFC 3339.
    #[arg(long, value_name = "FROM..TO")]
    pub issued: Option<String>,
    /// The holders listed in a file (one pay number a line).
    #[arg(long, value_name = "FILE")]
    pub holders: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DeclareArgs {
    #[command(flatten)]
    pub incident: IncidentArgs,
    /// The supplier that will print the replacements (it must not have seen the
    /// compromised data).
    #[arg(long, value_name = "SUPPLIER")]
    pub reissue_via: String,
    /// Also write the publication for distribution into this folder.
    #[arg(long, value_name = "DIR")]
    pub publish: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReissueArgs {
    /// The replacement supplier, as declared.
    #[arg(long)]
    pub supplier: String,
    /// The supplier's report of its blank cards (CSV with a card_public_key column).
    #[arg(long, value_name = "FILE")]
    pub cards: PathBuf,
    /// Where to write the replacements' manifest [default: batch-N.csv beside the registry].
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The manifest's format.
    #[arg(long, value_enum, default_value_t = ManifestFormat::Csv)]
    pub format: ManifestFormat,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The folder a web server or CDN serves.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write the IETF Token Status List and W3C Bitstring Status List views
    /// (status/ beside the native files, signed with the signing key), for
    /// standards-based verifiers; URL is where DIR is served (their `sub`/`id`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// How long standards verifiers may cache those views before fetching them again
    /// (their `ttl`: seconds in the IETF token, milliseconds in the W3C credentials).
    /// The default matches the `max-age` `revocard serve` sends; never more than the
    /// list lifetime.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration, requires = "base_url")]
    pub status_ttl: Duration,
    /// Re-sign and publish on this schedule (for example 10m) until stopped, so lists
    /// never go stale at the doors.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub every: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the lists' commitments; print the head to keep.
    Verify,
    /// Write the events, without card data beyond serials.
    Export {
        /// The format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Where [default: stdout].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The issuer's trust anchor (as `init` wrote it).
    #[arg(long, value_name = "FILE")]
    pub anchor: PathBuf,
    /// The published folder (as `publish --out` wrote it).
    #[arg(long, value_name = "DIR")]
    pub list: PathBuf,
    /// The card: a file holding its bytes or its QR text.
    pub card: PathBuf,
    /// The card's own secret key file, to answer the door's challenge (holder binding)
    /// as the card's chip would.
    #[arg(long, value_name = "FILE")]
    pub card_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new signing key (in a token with --hsm) and have the root certify it:
    /// a draft for the ceremony, or at once with --root-key (trials). Rotation: the old
    /// key keeps working until its window ends or it is withdrawn.
    Rotate(RotateArgs),
    /// Declare a signing key compromised: the root revokes it in a new key set (a draft
    /// for the ceremony, or at once with --root-key for trials). Then declare an
    /// incident for its cards (`incident declare --key`): the registry never signs with
    /// it again from then on.
    Compromised(CompromisedArgs),
    /// List the keys of the key set in force and their windows.
    List(KeyListArgs),
}

#[derive(Debug, Args)]
pub struct KeyListArgs {
    /// Also ask each token holding a key for its protection attributes
    /// (CKA_EXTRACTABLE, CKA_SENSITIVE...): for auditors. Needs the tokens' PINs.
    #[arg(long)]
    pub attributes: bool,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Generate the new key inside this token key (a PKCS#11 URI); without it, for
    /// trials and tests, the key in a file.
    #[arg(long, value_name = "PKCS11-URI")]
    pub hsm: Option<String>,
    /// For trials and tests: the root key file, to certify the key at once. Without
    /// it, a draft is written for the root ceremony (`keyset sign` offline, then
    /// `keyset install`).
    #[arg(long, value_name = "FILE")]
    pub root_key: Option<PathBuf>,
    /// Where to write the draft [default: keyset-N.draft beside the registry].
    #[arg(long, value_name = "FILE", conflicts_with = "root_key")]
    pub out: Option<PathBuf>,
    /// Years the new key may sign for.
    #[arg(long, default_value_t = 5)]
    pub key_years: u64,
}

#[derive(Debug, Args)]
pub struct CompromisedArgs {
    /// The compromised key's id (16 hex digits).
    pub key_id: String,
    /// For trials and tests: the root key file, to revoke the key at once. Without it,
    /// a draft is written for the root ceremony.
    #[arg(long, value_name = "FILE")]
    pub root_key: Option<PathBuf>,
    /// Where to write the draft [default: keyset-N.draft beside the registry].
    #[arg(long, value_name = "FILE", conflicts_with = "root_key")]
    pub out: Option<PathBuf>,
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(&e),
    };
    let json = cli.global.json;
    office::set_force(cli.global.force);
    let code = match commands::run(cli) {
        Ok(()) => error::EXIT_OK,
        Err(e) => {
            if json {
                if !e.reported {
                    out::json(&e.to_json());
                }
                // Interrupted runs say how to resume on stderr too, for the operator
                // watching a script.
                if e.code == error::EXIT_INTERRUPTED {
                    eprintln!("revocard: {e}");
                }
            } else {
                eprintln!("revocard: {e}");
            }
            e.code
        }
    };
    std::process::exit(code);
}

/// A command line that does not parse (or `--help`, `--version`): clap's words, or
/// under `--json` one JSON object; exit 2 (0 for help and version).
fn usage_error(e: &clap::Error) -> ! {
    use clap::error::ErrorKind;
    let informational = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let json = std::env::args_os().skip(1).any(|a| a == "--json");
    if json && !informational {
        let message = e
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        out::json(&serde_json::json!({
            "error": "usage",
            "message": message,
            "exit_code": error::EXIT_FAILED,
        }));
        std::process::exit(error::EXIT_FAILED);
    }
    e.exit()
}
