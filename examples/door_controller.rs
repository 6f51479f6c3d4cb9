//! A door controller with three doors of different policies, fed a simulated stream
//! of taps: valid cards, a lost card revoked mid-stream by a delta, a suspension, a
//! cloned card without its key, a replayed response, under-vetted holders, legacy
//! cards without a key, and an outage of the status feed during which the list goes
//! stale. Then it times verification, first and repeat taps, and a batch audit.
//!
//! `cargo run --release --example door_controller -- [--seed N] [--json]` (`-- --help`)
//!
//! The simulated stream is deterministic for a seed; the timings read the clock (the
//! edge may; the library never does). With `--json` the last line of stdout is one
//! JSON object with the counts, the timings and what the run saw.

use std::collections::BTreeMap;
use std::error::Error;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use revocard::door::*;
use revocard::format::*;
use revocard::issue::*;
use revocard::*;

/// Writes a line to stdout; if the reader went away (`| head`), stops quietly instead
/// of panicking (nothing here needs cleaning up).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, $($arg)*).and_then(|()| stdout.flush()).is_err() {
            std::process::exit(0);
        }
    }};
}

/// A simulated day at three doors of one controller, then its timings.
#[derive(Parser, Debug)]
#[command(
    name = "door_controller",
    about = "A simulated day at three doors: valid, revoked, suspended, cloned and under-vetted cards, a replayed response and a stale list; then the timings",
    after_help = "Run through cargo, options after its -- separator:\n  cargo run --release --example door_controller -- --seed 7"
)]
struct Args {
    /// Seed of the simulated day (holders, taps, keys); the same seed replays the same day
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Print only the key events, then one line of JSON with the counts and timings
    #[arg(long)]
    json: bool,
}

/// A door's vetting demand in the words of the vetting ladders.
fn describe(v: VettingRequirement) -> String {
    let police = match (v.force, v.nppv) {
        (None, None) => "any vetting".to_owned(),
        (force, nppv) => {
            let mut ladders = Vec::new();
            if let Some(min) = force {
                ladders.push(format!(
                    "force vetting {} or above",
                    Vetting::new(PoliceVetting::Force(min), None)
                ));
            }
            if let Some(min) = nppv {
                ladders.push(format!(
                    "{} or above",
                    Vetting::new(PoliceVetting::NonPolice(min), None)
                ));
            }
            ladders.join(" or ")
        }
    };
    match v.national {
        None => police,
        Some(min) => {
            // Vetting's text puts national security after a '+': "RV+SC".
            let text = Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), Some(min))
                .to_string();
            let level = text.rsplit('+').next().unwrap_or_default().to_owned();
            format!("{police}, and {level} or above")
        }
    }
}

const START: UnixTime = UnixTime(1_800_000_000);
const HOUR: u64 = 3600;
/// The status feed publishes every 20 minutes, each list due to be replaced 30
/// minutes later.
const REFRESH_SECS: u64 = 20 * 60;
const NEXT_UPDATE_SECS: u64 = 30 * 60;
/// The feed is down from 2:00 to 3:00.
const OUTAGE: (u64, u64) = (2 * HOUR, 3 * HOUR);

struct Holder {
    label: &'static str,
    card: Option<Card>,
    /// For legacy cards without a card key.
    bytes: Vec<u8>,
    index: u32,
}

struct Sim {
    rng: StdRng,
    key: IssuerKey,
    list: IssuerStatusList,
    verifier: Arc<Verifier>,
    doors: DoorController,
    holders: Vec<Holder>,
    json: bool,
    counts: BTreeMap<&'static str, u64>,
    checks: u64,
    admitted: u64,
    cloned_rejected: bool,
    replay_rejected: bool,
    stale_denied: bool,
}

fn door(id: &str) -> DoorId {
    DoorId::new(id).unwrap_or_else(|_| unreachable!("door ids here are valid"))
}

fn clock(now: UnixTime) -> String {
    let s = now.as_secs() - START.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl Sim {
    fn new(seed: u64, json: bool) -> Result<Self, Box<dyn Error>> {
        let mut rng = StdRng::seed_from_u64(seed);
        let year = 365 * 24 * HOUR;
        let key = IssuerKey::generate(
            IssuerId::new("example-police")?,
            Validity::new(START.minus(year), START.plus(5 * year))?,
            &mut rng,
        )?;
        let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
        verifier.add_key(key.public().clone())?;
        let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY)?;
        verifier.install_list(
            &list
                .publish(&key, START, START.plus(NEXT_UPDATE_SECS))?
                .list,
            START,
        )?;
        let mv = VettingRequirement::force(ForceVetting::Management);
        // The front gate tolerates a stale list for an hour; the secure doors for 10
        // minutes.
        let strict = VerifyOptions::default().with_status_grace(10 * 60);
        let doors = DoorController::new(
            verifier.clone(),
            vec![
                DoorPolicy::new(door("front-gate")),
                DoorPolicy::new(door("custody-suite"))
                    .admit_only(&[Kind::WarrantCard])
                    .require_vetting(mv)
                    .require_holder_binding()
                    .with_options(strict),
                DoorPolicy::new(door("server-room"))
                    .admit_only(&[Kind::WarrantCard])
                    .require_vetting(mv.and_national(NationalSecurity::Sc))
                    .require_holder_binding()
                    .with_options(strict),
            ],
        )?;
        let mut sim = Self {
            rng,
            key,
            list,
            verifier,
            doors,
            holders: Vec::new(),
            json,
            counts: BTreeMap::new(),
            checks: 0,
            admitted: 0,
            cloned_rejected: false,
            replay_rejected: false,
            stale_denied: false,
        };
        let force = |level| Vetting::new(PoliceVetting::Force(level), None);
        let population: [(&'static str, Kind, Vetting, bool, usize); 6] = [
            (
                "MV officer",
                Kind::WarrantCard,
                force(ForceVetting::Management),
                true,
                8,
            ),
            (
                "SC officer",
                Kind::WarrantCard,
                Vetting::new(
                    PoliceVetting::Force(ForceVetting::Management),
                    Some(NationalSecurity::Sc),
                ),
                true,
                4,
            ),
            (
                "RV officer",
                Kind::WarrantCard,
                force(ForceVetting::Recruitment),
                true,
                4,
            ),
            (
                "staff",
                Kind::StaffPass,
                force(ForceVetting::Management),
                true,
                4,
            ),
            (
                "contractor",
                Kind::StaffPass,
                Vetting::new(PoliceVetting::NonPolice(Nppv::Level2), None),
                true,
                2,
            ),
            (
                "legacy card",
                Kind::WarrantCard,
                force(ForceVetting::Management),
                false,
                2,
            ),
        ];
        for (label, kind, vetting, with_key, n) in population {
            for _ in 0..n {
                sim.enrol(label, kind, vetting, with_key)?;
            }
        }
        Ok(sim)
    }

    fn enrol(
        &mut self,
        label: &'static str,
        kind: Kind,
        vetting: Vetting,
        with_key: bool,
    ) -> Result<(), Box<dyn Error>> {
        let index = u32::try_from(self.holders.len())? * 97 + 11;
        let n = self.holders.len();
        let card_key = with_key.then(|| CardKey::generate(&mut self.rng));
        let credential = self.key.issue(
            CredentialRequest {
                kind,
                holder: revocard::Holder::new(
                    format!("{:06}", 200_000 + n),
                    format!("Holder {n}"),
                    if kind == Kind::WarrantCard {
                        "Constable"
                    } else {
                        "Staff"
                    },
                    "Example Unit",
                    PhotoDigest::of(format!("photo {n}").as_bytes()),
                )?,
                vetting,
                status_index: StatusIndex(index),
                print_batch: PrintBatchId(1),
                validity: Validity::new(START.minus(HOUR), START.plus(365 * 24 * HOUR))?,
                card_key: card_key.as_ref().map(CardKey::public),
                supersedes: None,
            },
            START,
            &mut self.rng,
        )?;
        let bytes = credential.into_bytes();
        let card = match card_key {
            Some(k) => Some(Card::new(bytes.clone(), k)?),
            None => None,
        };
        self.holders.push(Holder {
            label,
            card,
            bytes,
            index,
        });
        Ok(())
    }

    fn record(&mut self, d: &Decision, note: &str) {
        self.checks += 1;
        *self.counts.entry(d.reason_code()).or_default() += 1;
        if d.is_admitted() {
            self.admitted += 1;
        }
        if matches!(
            d.denial(),
            Some(DoorDenial::Credential(Denial::StatusStale { .. }))
        ) {
            self.stale_denied = true;
        }
        let serial = d
            .serial()
            .map_or_else(|| "-".to_owned(), |s| s.to_hex()[..8].to_owned());
        let line = match d.outcome() {
            Ok(_) if d.from_cache() => "admit (cached)".to_owned(),
            Ok(_) => "admit".to_owned(),
            Err(denial) => format!("DENY  {:<22} {denial}", denial.code()),
        };
        if !self.json || note.starts_with('[') {
            outln!(
                "{}  {:<14} {serial}  {line}{}",
                clock(d.at()),
                d.door().as_str(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("   {note}")
                }
            );
        }
    }

    /// A holder taps; at a door requiring binding the card answers a fresh challenge.
    fn tap(&mut self, who: usize, at: &str, now: UnixTime, note: &str) -> Option<Vec<u8>> {
        let at = door(at);
        let holder = self.holders.get(who)?;
        let needs_answer = self.doors.door(&at).is_some_and(DoorPolicy::holder_binding);
        let response = match (&holder.card, needs_answer) {
            (Some(card), true) => {
                let challenge = self.doors.challenge(&at, now, &mut self.rng).ok()?;
                Some(card.respond(&challenge))
            }
            _ => None,
        };
        let d = self.doors.tap(&at, &holder.bytes, response.as_deref(), now);
        let note = if note.is_empty() {
            holder.label.to_owned()
        } else {
            note.to_owned()
        };
        self.record(&d, &note);
        response
    }

    fn say(&self, now: UnixTime, what: &str) {
        if !self.json || what.starts_with('*') {
            outln!("{}  {what}", clock(now));
        }
    }

    /// The issuer publishes; unless the feed is down, the controller applies the
    /// delta (or, after missing some, the full list).
    fn publish(&mut self, now: UnixTime, delivered: bool) -> Result<(), Box<dyn Error>> {
        let p = self
            .list
            .publish(&self.key, now, now.plus(NEXT_UPDATE_SECS))?;
        if !delivered {
            return Ok(());
        }
        let applied = match p.delta.as_deref() {
            Some(delta) => self.verifier.apply_delta(delta, now),
            None => Err(ListError::NoBaseList {
                issuer: self.key.issuer().clone(),
            }),
        };
        match applied {
            Ok(_) => {}
            Err(ListError::Gap { .. }) => {
                self.verifier.install_list(&p.list, now)?;
                self.say(
                    now,
                    "* status feed back: deltas missed, full list installed",
                );
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), Box<dyn Error>> {
        let end = START.plus(4 * HOUR);
        let mut now = START;
        let mut next_refresh = START.plus(REFRESH_SECS);
        let mut script: Vec<(u64, u8)> = vec![
            (10 * 60, 0),        // a cloned card at the server room
            (25 * 60, 1),        // a replayed response at the custody suite
            (40 * 60, 2),        // card 3 reported lost: revoked
            (60 * 60, 3),        // card 5 suspended
            (90 * 60, 4),        // card 5 reinstated
            (100 * 60, 5),       // an RV officer tries the custody suite
            (155 * 60, 6),       // during the outage: custody suite
            (165 * 60, 7),       // during the outage: front gate
            (3 * HOUR + 300, 8), // after the feed is back
        ];
        script.reverse();
        while now < end {
            now = now.plus(self.rng.random_range(20..90));
            while next_refresh <= now {
                let t = next_refresh;
                let offset = t.as_secs() - START.as_secs();
                let down = offset >= OUTAGE.0 && offset < OUTAGE.1;
                if offset == OUTAGE.0 {
                    self.say(t, "* status feed down: the controller misses the deltas");
                }
                self.publish(t, !down)?;
                next_refresh = next_refresh.plus(REFRESH_SECS);
            }
            while script.last().is_some_and(|&(at, _)| START.plus(at) <= now) {
                if let Some((_, step)) = script.pop() {
                    self.scripted(step, now)?;
                }
            }
            let who = self.rng.random_range(0..self.holders.len());
            let at = match self.rng.random_range(0..20) {
                0..10 => "front-gate",
                10..17 => "custody-suite",
                _ => "server-room",
            };
            self.tap(who, at, now, "");
        }
        Ok(())
    }

    fn scripted(&mut self, step: u8, now: UnixTime) -> Result<(), Box<dyn Error>> {
        match step {
            0 => {
                // The supplier's leaked data: an SC officer's credential bytes. The
                // clone has no card key: it answers with its own, or not at all.
                let victim = 8;
                let bytes = self
                    .holders
                    .get(victim)
                    .map(|h| h.bytes.clone())
                    .unwrap_or_default();
                let at = door("server-room");
                let challenge = self.doors.challenge(&at, now, &mut self.rng)?;
                let forged = CardKey::generate(&mut self.rng).respond(&challenge, &bytes);
                let d = self.doors.tap(&at, &bytes, Some(&forged), now);
                let d2 = self.doors.tap(&at, &bytes, None, now);
                for d in [&d, &d2] {
                    self.cloned_rejected |= matches!(
                        d.denial(),
                        Some(DoorDenial::BadResponseSignature | DoorDenial::ResponseMissing)
                    );
                    self.record(d, "[clone of a leaked credential]");
                }
            }
            1 => {
                // Someone records an officer's tap at the custody suite and replays it.
                let who = 1;
                let response = self.tap(who, "custody-suite", now, "[genuine tap, recorded]");
                let bytes = self
                    .holders
                    .get(who)
                    .map(|h| h.bytes.clone())
                    .unwrap_or_default();
                let d = self.doors.tap(
                    &door("custody-suite"),
                    &bytes,
                    response.as_deref(),
                    now.plus(5),
                );
                self.replay_rejected |= matches!(d.denial(), Some(DoorDenial::ChallengeReplayed));
                self.record(&d, "[replay of that response]");
            }
            2 => {
                let index = self.holders.get(3).map_or(0, |h| h.index);
                self.list.revoke(index, RevocationReason::Lost, now)?;
                self.say(now, "* card 3 reported lost: revoked, delta published");
                self.publish(now, true)?;
                self.tap(3, "front-gate", now.plus(30), "[the lost card]");
            }
            3 => {
                let index = self.holders.get(5).map_or(0, |h| h.index);
                self.list.suspend(index)?;
                self.say(now, "* card 5 suspended");
                self.publish(now, true)?;
                self.tap(5, "custody-suite", now.plus(10), "[the suspended card]");
            }
            4 => {
                let index = self.holders.get(5).map_or(0, |h| h.index);
                self.list.reinstate(index)?;
                self.say(now, "* card 5 reinstated");
                self.publish(now, true)?;
                self.tap(5, "custody-suite", now.plus(10), "[the reinstated card]");
            }
            5 => {
                self.tap(12, "custody-suite", now, "[an RV officer]");
            }
            6 => {
                self.tap(
                    0,
                    "custody-suite",
                    now,
                    "[feed down, list past its grace here]",
                );
            }
            7 => {
                self.tap(
                    0,
                    "front-gate",
                    now,
                    "[feed down, front gate still in grace]",
                );
            }
            _ => {
                self.tap(0, "custody-suite", now, "[feed back]");
            }
        }
        Ok(())
    }
}

/// One figure and its floor (a bare `verify_strict`), timed alternately so that the
/// machine's load changes hit both alike. Microseconds per operation.
#[derive(Default, Clone, Copy)]
struct Paired {
    floor_us: f64,
    figure_us: f64,
}

impl Paired {
    fn ratio(&self) -> f64 {
        self.figure_us / self.floor_us
    }
}

/// Timings: verification, first and repeat taps, a batch audit, each beside the floor.
struct Timings {
    verify: Paired,
    tap: Paired,
    cached_tap: Paired,
    batch_verify: Paired,
}

fn timings(seed: u64) -> Result<Timings, Box<dyn Error>> {
    const CARDS: usize = 256;
    const AUDIT: usize = 1024;
    const ROUNDS: usize = 2000;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let year = 365 * 24 * HOUR;
    let seed_bytes: [u8; 32] = rng.random();
    let key = IssuerKey::from_secret_bytes(
        IssuerId::new("example-police")?,
        Validity::new(START.minus(year), START.plus(5 * year))?,
        &seed_bytes,
    )?;
    let verifier = Arc::new(Verifier::new(TrustStore::new(), VerifyOptions::default()));
    verifier.add_key(key.public().clone())?;
    let mut list = IssuerStatusList::new(key.issuer().clone(), MIN_LIST_CAPACITY)?;
    for index in (0..MIN_LIST_CAPACITY).step_by(100) {
        list.revoke(index + 1, RevocationReason::Unspecified, START)?;
    }
    verifier.install_list(&list.publish(&key, START, START.plus(HOUR))?.list, START)?;
    let request = |index: u32,
                   card_key: Option<CardPublicKey>|
     -> Result<CredentialRequest, Box<dyn Error>> {
        Ok(CredentialRequest {
            kind: Kind::WarrantCard,
            holder: revocard::Holder::new(
                "123456",
                "Alexandra Example-Officer",
                "Detective Sergeant",
                "Major Crime Team",
                PhotoDigest([3; 32]),
            )?,
            vetting: Vetting::new(
                PoliceVetting::Force(ForceVetting::Management),
                Some(NationalSecurity::Sc),
            ),
            status_index: StatusIndex(index),
            print_batch: PrintBatchId(12),
            validity: Validity::new(START, START.plus(year))?,
            card_key,
            supersedes: None,
        })
    };
    let mut cards = Vec::with_capacity(CARDS);
    for i in 0..CARDS {
        let card_key = CardKey::generate(&mut rng);
        let cred = key.issue(
            request(2 * u32::try_from(i)?, Some(card_key.public()))?,
            START,
            &mut rng,
        )?;
        cards.push(Card::new(cred.into_bytes(), card_key)?);
    }
    let first = cards.first().ok_or("no cards")?.credential().to_vec();

    // The floor: verify_strict of the exact message the verifier checks.
    let mut message = CREDENTIAL_DOMAIN.to_vec();
    message.push(FORMAT_VERSION);
    message.extend_from_slice(first.get(65..).ok_or("short")?);
    let signature =
        ed25519_dalek::Signature::from_bytes(first.get(1..65).ok_or("short")?.try_into()?);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key.public().public_key_bytes())?;
    let floor = || {
        black_box(vk.verify_strict(black_box(&message), &signature).is_ok());
    };
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64() * 1e6
    };
    for _ in 0..200 {
        floor(); // warm up
    }
    let mut verify = Paired::default();
    for _ in 0..ROUNDS {
        verify.floor_us += time(&mut || floor());
        verify.figure_us += time(&mut || {
            black_box(verifier.verify(black_box(&first), START).is_ok());
        });
    }
    verify.floor_us /= ROUNDS as f64;
    verify.figure_us /= ROUNDS as f64;

    // Taps at a door with holder binding: each card once (not yet cached), then again
    // (cached). Challenges and the cards' answers are prepared untimed.
    let custody = door("custody-suite");
    let doors = DoorController::new(
        verifier.clone(),
        vec![
            DoorPolicy::new(custody.clone())
                .admit_only(&[Kind::WarrantCard])
                .require_vetting(VettingRequirement::force(ForceVetting::Management))
                .require_holder_binding(),
        ],
    )?;
    let mut tap_all = |expect_cached: bool| -> Result<Paired, Box<dyn Error>> {
        let mut p = Paired::default();
        for card in &cards {
            let challenge = doors.challenge(&custody, START, &mut rng)?;
            let response = card.respond(&challenge);
            p.floor_us += time(&mut || floor());
            let t = Instant::now();
            let d = doors.tap(&custody, card.credential(), Some(&response), START);
            p.figure_us += t.elapsed().as_secs_f64() * 1e6;
            if !d.is_admitted() || d.from_cache() != expect_cached {
                return Err(format!(
                    "unexpected decision: {}",
                    d.denial()
                        .map_or_else(|| "admitted".to_owned(), ToString::to_string)
                )
                .into());
            }
        }
        p.floor_us /= CARDS as f64;
        p.figure_us /= CARDS as f64;
        Ok(p)
    };
    let tap = tap_all(false)?;
    let mut cached_tap = Paired::default();
    let repeats = 4;
    for _ in 0..repeats {
        let p = tap_all(true)?;
        cached_tap.floor_us += p.floor_us / f64::from(repeats);
        cached_tap.figure_us += p.figure_us / f64::from(repeats);
    }

    // A batch audit of 1,024 credentials (even indexes: the list revokes every
    // hundredth odd one), beside 1,024 single verifications.
    let mut audit = Vec::with_capacity(AUDIT);
    for i in 0..AUDIT {
        audit.push(
            key.issue(
                request(2 * u32::try_from(CARDS + i)?, None)?,
                START,
                &mut rng,
            )?
            .into_bytes(),
        );
    }
    let refs: Vec<&[u8]> = audit.iter().map(Vec::as_slice).collect();
    let mut batch_verify = Paired::default();
    let runs = 5;
    for _ in 0..runs {
        batch_verify.floor_us += time(&mut || {
            for _ in 0..AUDIT {
                floor();
            }
        });
        let t = Instant::now();
        let answers = verifier.verify_batch(black_box(&refs), START);
        batch_verify.figure_us += t.elapsed().as_secs_f64() * 1e6;
        if !answers.iter().all(Result::is_ok) {
            return Err("audit failed".into());
        }
    }
    batch_verify.floor_us /= (runs * AUDIT) as f64;
    batch_verify.figure_us /= (runs * AUDIT) as f64;
    Ok(Timings {
        verify,
        tap,
        cached_tap,
        batch_verify,
    })
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args.seed, args.json) {
        eprintln!("door_controller: {e}");
        std::process::exit(1);
    }
}

fn run(seed: u64, json: bool) -> Result<(), Box<dyn Error>> {
    let mut sim = Sim::new(seed, json)?;
    if !json {
        outln!("seed {seed}: {} holders, doors:", sim.holders.len());
        for p in sim.doors.doors() {
            outln!(
                "  {:<14} {:<26} vetting: {}",
                p.door().as_str(),
                if p.holder_binding() {
                    "card must answer challenge"
                } else {
                    "card bytes suffice"
                },
                describe(p.vetting())
            );
        }
        outln!();
    }
    sim.run()?;
    let denied = sim.checks - sim.admitted;
    outln!(
        "\n{} taps: {} admitted, {denied} denied",
        sim.checks,
        sim.admitted
    );
    outln!("denials by reason:");
    for (code, n) in sim.counts.iter().filter(|(code, _)| **code != "admitted") {
        outln!("  {code:<26} {n}");
    }
    outln!(
        "clone rejected: {}, replay rejected: {}, stale list denied: {}",
        sim.cloned_rejected,
        sim.replay_rejected,
        sim.stale_denied
    );

    let t = timings(seed)?;
    outln!("\ntimings, single-threaded, each beside a bare verify_strict timed alternately:");
    for (name, p) in [
        ("verify (no cache)", t.verify),
        ("first tap (credential + challenge-response)", t.tap),
        (
            "repeat tap (cached credential + challenge-response)",
            t.cached_tap,
        ),
        ("batch audit of 1,024, per credential", t.batch_verify),
    ] {
        outln!(
            "  {name:<52} {:>7.1} us   {:.2}x verify_strict ({:.1} us)",
            p.figure_us,
            p.ratio(),
            p.floor_us
        );
    }
    if json {
        let summary = serde_json::json!({
            "seed": seed,
            "checks": sim.checks,
            "admitted": sim.admitted,
            "denied": denied,
            "denials": sim.counts.iter().filter(|(c, _)| **c != "admitted").map(|(c, n)| (c.to_string(), *n)).collect::<BTreeMap<_, _>>(),
            "verify_us": t.verify.figure_us,
            "tap_us": t.tap.figure_us,
            "cached_tap_us": t.cached_tap.figure_us,
            "batch_verify_us": t.batch_verify.figure_us,
            "verify_strict_us": t.verify.floor_us,
            "ratios": {
                "verify": t.verify.ratio(),
                "tap": t.tap.ratio(),
                "cached_tap": t.cached_tap.ratio(),
                "batch_verify": t.batch_verify.ratio(),
            },
            "cloned_rejected": sim.cloned_rejected,
            "replay_rejected": sim.replay_rejected,
            "stale_denied": sim.stale_denied,
        });
        outln!("{summary}");
    }
    Ok(())
}
