//! The key-compromise drill: an attacker steals the issuer's signing key K1, forges a
//! card, and publishes a list at `u64::MAX` that suppresses the revocations; some doors
//! take it. The issuer certifies K2 under its offline root, revokes K1, declares the
//! key incident (one signed list revokes everything K1 signed), reissues every card
//! under K2, and every door takes the publications: key set and list, nothing else.
//! A second thief holds K0, a retiring key nobody finds out about: one more door holds
//! its list at `u64::MAX` until K0's window ends, and then recovers from the same
//! publications with no key set naming K0.
//!
//! ```text
//! cargo run --release --example key_compromise [-- --count N] [--doors D] [--seed S] [--json]
//! ```
//!
//! The drill is deterministic from `--seed` (keys, serials, indexes and the roster):
//! it is a rehearsal, not an issuing office. Timings are wall-clock on this machine.
//!
//! With `--hsm pkcs11:token=office` (built with `--features pkcs11`) the signing keys
//! K0, K1 and K2 are generated in that PKCS#11 token (objects `signing-k0`, `-k1`,
//! `-k2`, or the URI's `object=` with those suffixes), and with `--root-hsm
//! pkcs11:token=vault` the root in another (object `root`, or the URI's): the "theft"
//! is then the thief using the office token, as a compromised issuing machine would.
//! The module comes from `--pkcs11-module PATH` or `REVOCARD_PKCS11_MODULE`, the PIN
//! from the file `REVOCARD_PIN_FILE` names or from `REVOCARD_PIN`. No key file is
//! written; the objects must not exist yet.

use std::ops::ControlFlow;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rayon::prelude::*;
use revocard::issue::*;
use revocard::registry::*;
use revocard::*;

const ISSUER: &str = "metro-police";
const PRINTER: &str = "northgate-print";
const REPLACEMENT_PRINTER: &str = "eastgate-print";
/// Where the stolen cards' replacements are printed before the key is stolen.
const STOLEN_CARDS_PRINTER: &str = "southbank-print";
const YEAR: u64 = 365 * 24 * 3600;
const LIST_LIFETIME: u64 = 3600;
/// How long the retiring key K0 (stolen too, and never noticed) has left at the start.
const K0_LEFT: u64 = 600;
/// Cards reported stolen (revoked and replaced) after the attack.
const HONEST_REVOCATIONS: usize = 3;
/// Replacements each door checks (all of them are checked at the first door).
const SAMPLE_PER_DOOR: usize = 64;

const USAGE: &str = "\
usage: key_compromise [--count N] [--doors D] [--seed S] [--json]
                      [--hsm URI] [--root-hsm URI] [--pkcs11-module PATH]

  --count N   cards issued under the stolen key (default 47000, at most 1000000)
  --doors D   door controllers, half of which take the attacker's list (default 10, at most 1000)
  --seed S    seed of the whole drill (default 1)
  --json      print one JSON line at the end instead of the summary
  --hsm URI   generate the signing keys in this PKCS#11 token (needs --features pkcs11)
  --root-hsm URI       generate the root in this PKCS#11 token
  --pkcs11-module PATH the HSM vendor's module (default: $REVOCARD_PKCS11_MODULE)
  The PIN comes from the file $REVOCARD_PIN_FILE names, or from $REVOCARD_PIN.";

struct Args {
    count: usize,
    doors: usize,
    seed: u64,
    json: bool,
    hsm: Option<String>,
    root_hsm: Option<String>,
    pkcs11_module: Option<String>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        count: 47_000,
        doors: 10,
        seed: 1,
        json: false,
        hsm: None,
        root_hsm: None,
        pkcs11_module: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let text = it.next().ok_or(format!("{name} needs a value"))?;
            text.parse()
                .map_err(|_| format!("{name}: `{text}` is not a whole number"))
        };
        match arg.as_str() {
            "--count" => {
                args.count = usize::try_from(number("--count")?).map_err(|e| e.to_string())?
            }
            "--doors" => {
                args.doors = usize::try_from(number("--doors")?).map_err(|e| e.to_string())?
            }
            "--seed" => args.seed = number("--seed")?,
            "--json" => args.json = true,
            "--hsm" => args.hsm = Some(it.next().ok_or("--hsm needs a pkcs11: URI")?),
            "--root-hsm" => {
                args.root_hsm = Some(it.next().ok_or("--root-hsm needs a pkcs11: URI")?)
            }
            "--pkcs11-module" => {
                args.pkcs11_module = Some(it.next().ok_or("--pkcs11-module needs a path")?)
            }
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if !(1..=1_000_000).contains(&args.count) {
        return Err("--count must be from 1 to 1000000".into());
    }
    if !(2..=1000).contains(&args.doors) {
        return Err("--doors must be from 2 to 1000".into());
    }
    Ok(Some(args))
}

#[cfg(feature = "pkcs11")]
#[path = "support/token_pin.rs"]
mod token_pin;

fn main() {
    match parse_args() {
        Ok(None) => println!("{USAGE}"),
        Ok(Some(args)) => {
            if let Err(e) = run(&args) {
                eprintln!("key_compromise: {e}");
                std::process::exit(2);
            }
        }
        Err(e) => {
            eprintln!("key_compromise: {e}");
            std::process::exit(1);
        }
    }
}

/// Where the drill's keys are made: in software from the drill's RNG, or in tokens.
struct Keys {
    #[cfg(feature = "pkcs11")]
    tokens: Option<(Pkcs11Module, TokenPin)>,
}

impl Keys {
    fn new(args: &Args) -> Result<Self, Box<dyn std::error::Error>> {
        if args.hsm.is_none() && args.root_hsm.is_none() {
            return Ok(Self {
                #[cfg(feature = "pkcs11")]
                tokens: None,
            });
        }
        #[cfg(not(feature = "pkcs11"))]
        return Err(
            "this build has no PKCS#11 support: build the example with --features pkcs11".into(),
        );
        #[cfg(feature = "pkcs11")]
        {
            let module = args
                .pkcs11_module
                .clone()
                .or_else(|| std::env::var("REVOCARD_PKCS11_MODULE").ok())
                .ok_or(
                    "no PKCS#11 module: give --pkcs11-module PATH or set REVOCARD_PKCS11_MODULE",
                )?;
            let module = Pkcs11Module::load(std::path::Path::new(&module))?;
            Ok(Self {
                // One PIN for the drill's tokens (the signing keys' and the root's).
                tokens: Some((
                    module,
                    token_pin::from_env(
                        args.hsm
                            .as_deref()
                            .or(args.root_hsm.as_deref())
                            .unwrap_or("?"),
                    )?,
                )),
            })
        }
    }

    /// A token key for `uri` with its object labelled `default` (or the URI's object
    /// followed by `suffix`).
    #[cfg(feature = "pkcs11")]
    fn token_key(
        &self,
        uri: &str,
        default: &str,
        suffix: &str,
    ) -> Result<TokenKey, Box<dyn std::error::Error>> {
        let (module, pin) = self.tokens.as_ref().ok_or("no PKCS#11 module loaded")?;
        let uri: Pkcs11Uri = uri.parse()?;
        let token = uri
            .token()
            .ok_or("the URI names no token (pkcs11:token=LABEL)")?;
        let object = match uri.object() {
            Some(object) => format!("{object}{suffix}"),
            None => default.to_owned(),
        };
        Ok(TokenKey::generate(
            module,
            &Pkcs11Uri::for_key(token, &object),
            pin,
            KeyPolicy::default(),
        )?)
    }

    fn signing(
        &self,
        args: &Args,
        name: &str,
        issuer: &IssuerId,
        window: Validity,
        rng: &mut StdRng,
    ) -> Result<IssuerKey, Box<dyn std::error::Error>> {
        match &args.hsm {
            None => Ok(IssuerKey::generate(issuer.clone(), window, rng)?),
            #[cfg(feature = "pkcs11")]
            Some(uri) => {
                let key = self.token_key(uri, &format!("signing-{name}"), &format!("-{name}"))?;
                Ok(IssuerKey::from_signer(issuer.clone(), window, key)?)
            }
            #[cfg(not(feature = "pkcs11"))]
            Some(_) => {
                let _ = name;
                Err("this build has no PKCS#11 support".into())
            }
        }
    }

    fn root(
        &self,
        args: &Args,
        issuer: &IssuerId,
        window: Validity,
        rng: &mut StdRng,
    ) -> Result<RootKey, Box<dyn std::error::Error>> {
        match &args.root_hsm {
            None => Ok(RootKey::generate(issuer.clone(), window, rng)?),
            #[cfg(feature = "pkcs11")]
            Some(uri) => Ok(RootKey::from_signer(
                issuer.clone(),
                window,
                self.token_key(uri, "root", "")?,
            )?),
            #[cfg(not(feature = "pkcs11"))]
            Some(_) => Err("this build has no PKCS#11 support".into()),
        }
    }
}

fn now() -> UnixTime {
    UnixTime(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn bar(total: usize, what: &'static str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total as u64).with_message(what);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb
}

fn roster(n: usize, start: UnixTime) -> Result<Vec<HolderRequest>, Box<dyn std::error::Error>> {
    (0..n)
        .map(|i| {
            Ok(HolderRequest {
                kind: if i % 4 == 0 {
                    Kind::StaffPass
                } else {
                    Kind::WarrantCard
                },
                holder: Holder::new(
                    format!("{:07}", 1_000_000 + i),
                    format!("Officer {i}"),
                    "Police Constable",
                    "Response",
                    PhotoDigest::of(format!("photo {i}").as_bytes()),
                )?,
                vetting: Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None),
                validity: Validity::new(start, start.plus(3 * YEAR))?,
            })
        })
        .collect()
}

/// What a door ends with, to compare doors with each other.
#[derive(PartialEq, Eq)]
struct DoorState {
    sequence: u64,
    state: [u8; 32],
}

#[allow(clippy::too_many_lines)]
fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let say = |line: String| {
        if !args.json {
            println!("{line}");
        }
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let start = now();
    let issuer = IssuerId::new(ISSUER)?;
    let dir = tempfile::tempdir()?;

    // 1. The issuer: an offline root certifies K1, which issues the force's cards.
    let keys = Keys::new(args)?;
    let root = keys.root(
        args,
        &issuer,
        Validity::new(start.minus(YEAR), start.plus(20 * YEAR))?,
        &mut rng,
    )?;
    let window = Validity::new(start.minus(60), start.plus(10 * YEAR))?;
    let k1 = keys.signing(args, "k1", &issuer, window, &mut rng)?;
    let k2 = keys.signing(args, "k2", &issuer, window, &mut rng)?;
    // K0: last period's key, certified for lists until it retires in a few minutes.
    let k0 = keys.signing(
        args,
        "k0",
        &issuer,
        Validity::new(start.minus(YEAR), start.plus(K0_LEFT))?,
        &mut rng,
    )?;
    say(format!(
        "Keys: root at {}, K1 at {}, K2 at {}, K0 at {}.",
        root.location(),
        k1.location(),
        k2.location(),
        k0.location()
    ));
    let mut draft = KeySetDraft::first(root.public(), start);
    draft.certify(k1.public(), KeyUsage::CredentialsAndLists)?;
    draft.certify(k0.public(), KeyUsage::Lists)?;
    let key_set_1 = root.sign_key_set(&draft)?;
    let capacity = MIN_LIST_CAPACITY.max(u32::try_from(args.count * 4)?.next_power_of_two());
    let mut registry = Registry::create(
        SqliteStore::open(dir.path().join("registry.sqlite"))?,
        root.public(),
        &key_set_1,
        &k1,
        capacity,
        start,
        start.plus(LIST_LIFETIME),
    )?;
    // The printer's blank cards make their keys on their chips and report the public
    // halves; software cards stand in for them.
    let mut printer_cards = SoftwareCards::generate(args.count, &mut rng);
    let pb = bar(args.count, "issuing", args.json);
    let mut hooks = Hooks {
        progress: Box::new(|p: Progress| {
            pb.set_position(p.done as u64);
            ControlFlow::Continue(())
        }),
        ..Hooks::default()
    };
    let issued = registry.issue_roster(
        &k1,
        PRINTER,
        &roster(args.count, start)?,
        &mut printer_cards,
        start,
        &mut rng,
        &mut hooks,
    )?;
    drop(hooks);
    pb.finish_and_clear();
    let before = registry.latest_publication()?.ok_or("no list")?;
    say(format!(
        "Issued {} cards under K1 {} through {PRINTER} (list {}).",
        issued.in_batch,
        k1.key_id(),
        before.sequence
    ));

    // Every door is configured once, with the root; it learns K1 from key set 1.
    let doors: Vec<Verifier> = (0..args.doors)
        .map(|_| -> Result<Verifier, Box<dyn std::error::Error>> {
            let door = Verifier::new(TrustStore::new(), VerifyOptions::default());
            door.add_root(RootPublicKey::from_bytes(&root.public().to_bytes())?)?;
            door.install_key_set(&key_set_1, start)?;
            door.install_list(&before.list, start)?;
            Ok(door)
        })
        .collect::<Result<_, _>>()?;

    // 2. The attacker, holding K1: a forged card, and a copy of the list at u64::MAX,
    //    valid for a decade, so that no later list or delta of the issuer installs.
    let forged = k1.issue(
        CredentialRequest {
            kind: Kind::WarrantCard,
            holder: Holder::new(
                "0000001",
                "A. Impostor",
                "Detective Superintendent",
                "Counter Terrorism",
                PhotoDigest::of(b"impostor"),
            )?,
            vetting: Vetting::new(
                PoliceVetting::Force(ForceVetting::Management),
                Some(NationalSecurity::Dv),
            ),
            status_index: StatusIndex(capacity - 1),
            print_batch: PrintBatchId(1),
            validity: Validity::new(start, start.plus(YEAR))?,
            card_key: None,
            supersedes: None,
        },
        start,
        &mut rng,
    )?;
    let mut copy = IssuerStatusList::restore(
        issuer.clone(),
        capacity,
        u64::MAX - 1,
        [0; 32],
        std::iter::empty(),
        Vec::new(),
    )?;
    let attack = copy.publish(&k1, start, start.plus(10 * YEAR))?;
    // A second thief holds K0, which nobody ever finds out: its list at u64::MAX, valid
    // for a decade, goes to one more door, which no key set will ever tell about K0.
    let mut k0_copy = IssuerStatusList::restore(
        issuer,
        capacity,
        u64::MAX - 1,
        [1; 32],
        std::iter::empty(),
        Vec::new(),
    )?;
    let k0_attack = k0_copy.publish(&k0, start, start.plus(10 * YEAR))?;
    let expiry_door = Verifier::new(TrustStore::new(), VerifyOptions::default());
    expiry_door.add_root(RootPublicKey::from_bytes(&root.public().to_bytes())?)?;
    expiry_door.install_key_set(&key_set_1, start)?;
    expiry_door.install_list(&before.list, start)?;
    expiry_door.install_list(&k0_attack.list, start)?;
    // 3. Half the doors take it.
    let mut attacked = 0usize;
    for door in doors.iter().step_by(2) {
        door.install_list(&attack.list, start)?;
        attacked += 1;
    }
    // Unaware, the issuer revokes cards reported stolen and replaces them (through
    // another printer); the doors that took the attacker's list refuse the update as
    // a rollback.
    let first_cards = registry.store().credentials(&CredentialFilter::All)?;
    let reported: Vec<Serial> = first_cards
        .iter()
        .take(HONEST_REVOCATIONS)
        .map(|r| r.serial)
        .collect();
    registry.execute(
        &Incident::Serials { serials: reported },
        &k1,
        STOLEN_CARDS_PRINTER,
        &mut SoftwareCards::generate(HONEST_REVOCATIONS, &mut rng),
        start,
        start.plus(LIST_LIFETIME),
        &mut rng,
        &mut Hooks::default(),
    )?;
    let after_theft = registry.latest_publication()?.ok_or("no list")?;
    for door in &doors {
        // Refused at the attacked doors (rollback): that is the attack.
        let _ = door.install_list(&after_theft.list, start);
    }
    let stolen = first_cards.get(1).ok_or("no stolen card")?;
    let forged_before = doors
        .iter()
        .filter(|d| d.verify(forged.bytes(), start).is_ok())
        .count();
    let stolen_before = doors
        .iter()
        .filter(|d| d.verify(&stolen.bytes, start).is_ok())
        .count();
    say(format!(
        "Attack: {attacked} of {} doors took K1's list at sequence {}; the forged card opens \
         {forged_before} doors and a card revoked as stolen since opens {stolen_before}.",
        doors.len(),
        attack.sequence
    ));

    // 4. The issuer's recovery. The root (brought out of the safe) certifies K2 and
    //    revokes K1; the registry declares the key incident, which signs one list
    //    revoking everything K1 signed, and reissues every card under K2.
    let recovery_at = start.plus(1);
    // The replacement printer's blank cards, enrolled beforehand: their keys are made
    // on their chips, outside the registry and outside the time measured.
    let mut replacement_cards = SoftwareCards::generate(args.count, &mut rng);
    let t = Instant::now();
    let mut draft = registry.draft_key_set(recovery_at);
    draft.certify(k2.public(), KeyUsage::CredentialsAndLists)?;
    draft.revoke(
        k1.key_id(),
        recovery_at,
        RevocationReason::IssuerKeyCompromise,
    )?;
    let key_set_2 = root.sign_key_set(&draft)?;
    registry.install_key_set(&key_set_2, recovery_at)?;
    let incident = Incident::IssuerKey {
        key_id: k1.key_id(),
    };
    let plan = registry.plan(&incident, recovery_at)?;
    let declared = registry.declare(
        &plan,
        &k2,
        REPLACEMENT_PRINTER,
        recovery_at,
        recovery_at.plus(LIST_LIFETIME),
    )?;
    let declare_ms = ms(t.elapsed());
    let pb = bar(plan.reissue.len(), "reissuing", args.json);
    let mut hooks = Hooks {
        progress: Box::new(|p: Progress| {
            pb.set_position(p.done as u64);
            ControlFlow::Continue(())
        }),
        ..Hooks::default()
    };
    let report = registry
        .resume(
            &k2,
            &mut replacement_cards,
            recovery_at,
            recovery_at.plus(LIST_LIFETIME),
            &mut rng,
            &mut hooks,
        )?
        .ok_or("no reissue job")?;
    drop(hooks);
    pb.finish_and_clear();
    let reissue_ms = ms(t.elapsed());
    let latest = registry.latest_publication()?.ok_or("no final list")?;
    registry.verify_audit()?;
    say(format!(
        "Recovery: K2 {} certified, K1 revoked (key set 2, {} B); {} cards revoked by one \
         scope entry (list {} in {declare_ms} ms); {} replacements under K2 through \
         {REPLACEMENT_PRINTER}; {reissue_ms} ms in all.",
        k2.key_id(),
        key_set_2.len(),
        declared.revoked,
        declared.publication.sequence,
        report.reissued,
    ));

    // The floor the recovery is held to, measured in this run: one Ed25519 key
    // generation and one signature per card, on one core.
    let floor_ms = {
        use ed25519_dalek::{Signer as _, SigningKey};
        let message = [0x5au8; 320];
        let t = Instant::now();
        for _ in 0..report.reissued {
            let k = SigningKey::generate(&mut rng);
            std::hint::black_box(k.sign(std::hint::black_box(&message)));
        }
        ms(t.elapsed())
    };
    say(format!(
        "The recovery took {:.2}x the bare cost of {} key generations and signatures on \
         one core ({floor_ms} ms, measured just now).",
        reissue_ms / floor_ms,
        report.reissued
    ));

    // 5. Every door takes what is published: the key set and the latest list.
    let publication_bytes = key_set_2.len() + latest.list.len();
    let check_at = recovery_at.plus(2);
    for door in &doors {
        door.install_key_set(&key_set_2, check_at)?;
        door.install_list(&latest.list, check_at)?;
    }
    let new: Vec<CredentialRecord> = registry
        .store()
        .credentials(&CredentialFilter::PrintBatches(vec![report.batch]))?;
    let new_bytes: Vec<&[u8]> = new.iter().map(|r| r.bytes.as_slice()).collect();
    // Every card K1 signed: the first issue and the stolen cards' replacements.
    let old: Vec<CredentialRecord> = registry
        .store()
        .credentials(&CredentialFilter::IssuerKey(k1.key_id()))?;
    let first = doors.first().ok_or("no door")?;
    let new_accepted = first
        .verify_batch(&new_bytes, check_at)
        .iter()
        .filter(|r| r.is_ok())
        .count();
    let issuer_id = registry.meta().issuer.clone();
    let pb = bar(doors.len(), "checking", args.json);
    let expected = DoorState {
        sequence: latest.sequence,
        state: list_state_digest(&latest.list)?.0,
    };
    let per_door: Vec<(usize, usize, bool)> = doors
        .par_iter()
        .map(|door| {
            let forged_admitted = usize::from(door.verify(forged.bytes(), check_at).is_ok());
            let old_admitted = old
                .iter()
                .filter(|r| door.verify(&r.bytes, check_at).is_ok())
                .count();
            let sample_ok = new_bytes
                .iter()
                .take(SAMPLE_PER_DOOR)
                .all(|b| door.verify(b, check_at).is_ok());
            let state = door.list(&issuer_id).map(|l| DoorState {
                sequence: l.sequence(),
                state: l.state_digest(),
            });
            pb.inc(1);
            let recovered = forged_admitted == 0
                && old_admitted == 0
                && sample_ok
                && state.as_ref() == Some(&expected);
            (forged_admitted, old_admitted, recovered)
        })
        .collect();
    pb.finish_and_clear();
    let forged_admitted: usize = per_door.iter().map(|d| d.0).sum();
    let old_admitted: usize = per_door.iter().map(|d| d.1).sum();
    let doors_recovered = per_door.iter().filter(|d| d.2).count();

    // 6. The door that held K0's list: while K0 is in its window it refuses the
    //    honest lists as rollbacks (the theft was never noticed, no set revokes K0).
    //    Once K0's window ends, its list decides nothing and holds nothing back: the
    //    same publications bring that door where every other door is.
    expiry_door.install_key_set(&key_set_2, check_at)?;
    let held_back = expiry_door.install_list(&latest.list, check_at).is_err();
    let after_k0 = k0
        .validity()
        .not_after
        .plus(VerifyOptions::default().clock_skew_secs + 1);
    expiry_door.install_list(&latest.list, after_k0)?;
    let expiry_forged = usize::from(expiry_door.verify(forged.bytes(), after_k0).is_ok());
    let expiry_old = old
        .iter()
        .filter(|r| expiry_door.verify(&r.bytes, after_k0).is_ok())
        .count();
    let expiry_new = expiry_door
        .verify_batch(&new_bytes, after_k0)
        .iter()
        .filter(|r| r.is_ok())
        .count();
    let expiry_door_recovered = held_back
        && expiry_forged == 0
        && expiry_old == 0
        && expiry_new == new.len()
        && expiry_door.list(&issuer_id).map(|l| l.sequence()) == Some(latest.sequence);
    say(format!(
        "Unnoticed theft of K0: the door holding its list {} the honest list while K0 was \
         valid, and {} once K0's window ended ({} s after the start): the forged card opens \
         it {expiry_forged} times, the old cards {expiry_old}, {expiry_new} of {} \
         replacements are accepted.",
        if held_back { "refused" } else { "took" },
        if expiry_door_recovered {
            "recovered"
        } else {
            "did NOT recover"
        },
        after_k0.0.saturating_sub(start.0),
        new.len(),
    ));
    say(format!(
        "Doors: {doors_recovered} of {} recovered, each from {publication_bytes} bytes \
         (key set {} + list {}); the forged card opens {forged_admitted} doors, the {} old \
         cards open {old_admitted}, {new_accepted} of {} replacements are accepted.",
        doors.len(),
        key_set_2.len(),
        latest.list.len(),
        old.len(),
        new.len(),
    ));
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "count": args.count,
                "doors": doors.len(),
                "doors_attacked": attacked,
                "forged_admitted_before": forged_before,
                "stolen_admitted_before": stolen_before,
                "forged_admitted": forged_admitted,
                "old_admitted": old_admitted,
                "new_accepted": new_accepted,
                "doors_recovered": doors_recovered,
                "expiry_door_recovered": expiry_door_recovered,
                "declare_ms": declare_ms,
                "reissue_ms": reissue_ms,
                "floor_keygen_sign_ms": floor_ms,
                "publication_bytes": publication_bytes,
                "key_set_bytes": key_set_2.len(),
                "list_bytes": latest.list.len(),
            })
        );
    }
    if forged_admitted != 0
        || old_admitted != 0
        || new_accepted != args.count
        || doors_recovered != doors.len()
        || !expiry_door_recovered
    {
        return Err("the drill did not recover every door".into());
    }
    Ok(())
}
