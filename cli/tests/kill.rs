//! SIGKILL at any point of `roster sync --apply`, `issue` or `incident reissue`, then the
//! same command run again: it converges to the state an uninterrupted run reaches, and
//! the audit chain verifies after every kill.

mod common;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Office, roster};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use revocard::issue::CardKey;

const N: usize = 6_000;

/// Delays before each kill, spread over the command's run (milliseconds).
const DELAYS_MS: [u64; 4] = [40, 250, 700, 1500];

fn blanks(office: &Office, name: &str, n: usize, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut csv = String::from("card_public_key\n");
    for _ in 0..n {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        let _ = writeln!(csv, "{}", CardKey::from_secret_bytes(&secret).public());
    }
    office
        .write(&format!("{name}.csv"), &csv)
        .to_string_lossy()
        .into_owned()
}

/// Runs `args`, killing it after each delay in turn (a run that finishes first is
/// simply done), checking the audit chain after every kill; then runs it to the end.
/// Returns how many kills landed before the command finished.
fn kill_and_rerun(office: &Office, args: &[&str]) -> usize {
    let mut landed = 0;
    for delay in DELAYS_MS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_revocard"))
            .args(args)
            .env("REVOCARD_DB", office.db())
            .current_dir(office.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        let deadline = Instant::now() + Duration::from_millis(delay);
        let mut finished = false;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                finished = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !finished {
            let _ = child.kill();
            landed += 1;
        }
        let _ = child.wait();
        office.run(&["audit", "verify"]).ok();
        if finished {
            break;
        }
    }
    office.run(args).ok();
    landed
}

#[test]
fn sigkill_during_sync_issue_and_reissue_then_rerun_converges() {
    let office = Office::new();
    office.init();
    let staff = office.write("staff.csv", &roster(N));
    let staff = staff.to_string_lossy().into_owned();
    let mut landed = kill_and_rerun(&office, &["roster", "sync", &staff, "--apply"]);
    let s = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(s["pending"], N);

    let north = blanks(&office, "north", N, 1);
    landed += kill_and_rerun(
        &office,
        &["issue", "--supplier", "northgate-print", "--cards", &north],
    );
    let s = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(s["issued"], N, "{s}");
    assert_eq!(s["active"], N, "{s}");
    assert_eq!(s["pending"], 0, "{s}");
    assert_eq!(s["open_jobs"].as_array().map(Vec::len), Some(0), "{s}");

    office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "southbank-print",
        ])
        .ok();
    let south = blanks(&office, "south", N, 2);
    landed += kill_and_rerun(
        &office,
        &[
            "incident",
            "reissue",
            "--supplier",
            "southbank-print",
            "--cards",
            &south,
        ],
    );
    let s = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(s["issued"], 2 * N, "every card replaced exactly once: {s}");
    assert_eq!(s["active"], N, "{s}");
    assert_eq!(s["revoked"], N, "{s}");
    assert_eq!(s["open_jobs"].as_array().map(Vec::len), Some(0), "{s}");
    assert!(landed >= 4, "only {landed} kills landed mid-command");
}

#[test]
fn ctrl_c_during_reissue_stops_after_the_chunk_and_says_how_to_resume() {
    let office = Office::new();
    office.init();
    let n = 20_000;
    office.sync_roster(n);
    let north = blanks(&office, "north", n, 1);
    office
        .run(&["issue", "--supplier", "northgate-print", "--cards", &north])
        .ok();
    office
        .run(&[
            "incident",
            "declare",
            "--supplier",
            "northgate-print",
            "--reissue-via",
            "southbank-print",
        ])
        .ok();
    let south = blanks(&office, "south", n, 2);
    let args = [
        "incident",
        "reissue",
        "--supplier",
        "southbank-print",
        "--cards",
        south.as_str(),
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_revocard"))
        .args(args)
        .env("REVOCARD_DB", office.db())
        .current_dir(office.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(600));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Interrupted after writing: the resumable code, not "refused: nothing written".
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("stopped after"), "{stderr}");
    assert!(
        stderr.contains("resume: run the same command again"),
        "{stderr}"
    );
    let s = office.run(&["summary", "--json"]).ok().json();
    assert!(
        s["issued"].as_u64().unwrap_or(0) < 2 * n as u64,
        "it did not stop: {s}"
    );
    assert_eq!(s["open_jobs"].as_array().map(Vec::len), Some(1), "{s}");
    let resumed = office.run(&[&args[..], &["--json"]].concat()).ok().json();
    let s = office.run(&["summary", "--json"]).ok().json();
    assert_eq!(s["issued"], 2 * n, "{s}");
    assert_eq!(s["open_jobs"].as_array().map(Vec::len), Some(0), "{s}");
    // The resumed run signed the rest; its manifest is the whole batch (read back from
    // the registry, since the first run signed part of it), each card on its own chip.
    assert_eq!(resumed["reissued"], n, "{resumed}");
    let now = resumed["reissued_now"].as_u64().unwrap_or_default();
    assert!(now > 0 && now < n as u64, "{resumed}");
    let manifest = std::fs::read_to_string(resumed["manifest"].as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut reader = csv::Reader::from_reader(manifest.as_bytes());
    let chip_keys: std::collections::HashSet<String> = std::fs::read_to_string(&south)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    let (mut serials, mut keys) = (
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
    );
    for row in reader.records() {
        let row = row.unwrap_or_else(|e| panic!("{e}"));
        serials.insert(row.get(0).unwrap_or_default().to_owned());
        // A key starting with '-' is written as '-... (formula-looking cells are
        // neutralised in every CSV the tool writes).
        let cell = row.get(5).unwrap_or_default();
        let key = cell.strip_prefix('\'').unwrap_or(cell).to_owned();
        assert!(chip_keys.contains(&key), "{key} is not a southbank chip");
        keys.insert(key);
    }
    assert_eq!((serials.len(), keys.len()), (n, n));
}
