//! The C tests of the ABI, built with `cc` against the static library this `cargo
//! test` built, and run three ways: plain, under AddressSanitizer and
//! UndefinedBehaviorSanitizer, and under valgrind memcheck with zero leaks allowed.
//! Then the Python `ctypes` test through the shared library, and the C door example.
//!
//! The fixtures: the breach at a door from files the `revocard` binary wrote (`init`,
//! `issue`, `publish`, `incident declare`, `incident reissue`, `publish`, as
//! `cli/tests/breach.rs` drives it), and a second issuer made here with the library's
//! issuing API, for the denials the office never produces on purpose (a key certified
//! for lists signing a credential, a weak card key, ...).
//!
//! Nothing here skips: without `cc`, valgrind, python3 or the `revocard` binary (built
//! by `cargo test --workspace`, which `scripts/test` runs) the tests fail, saying what
//! is missing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use ed25519_dalek::Signer as _;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use revocard::issue::{
    CardKey, CredentialRequest, IssuerKey, IssuerStatusList, KeySetDraft, RootKey,
};
use revocard::*;

/// The time the second issuer's fixtures are made at (2027-01-15).
const T: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;
/// The secret of the second issuer's credential-and-list key (fixtures only).
const K1_SECRET: [u8; 32] = [1; 32];
/// The secret of the chip of the second issuer's warrant card (fixtures only).
const CARD_SECRET: [u8; 32] = [7; 32];

/// Where cargo put this test: `target/<profile>/deps`, beside the library.
fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    exe.parent()
        .unwrap_or_else(|| panic!("no parent of {}", exe.display()))
        .to_path_buf()
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn static_lib() -> PathBuf {
    let lib = deps_dir().join("librevocard_ffi.a");
    assert!(lib.exists(), "{} is missing", lib.display());
    lib
}

fn shared_lib() -> PathBuf {
    let lib = deps_dir().join("librevocard_ffi.so");
    assert!(lib.exists(), "{} is missing", lib.display());
    lib
}

/// `revocard` (the CLI), built beside this test by `cargo test --workspace`.
fn cli() -> PathBuf {
    let bin = deps_dir()
        .parent()
        .map(|p| p.join("revocard"))
        .unwrap_or_default();
    assert!(
        bin.exists(),
        "{} is missing: run the suite through `cargo test --workspace` (scripts/test), \
         which builds the revocard binary, or `cargo build -p revocard-cli` first",
        bin.display()
    );
    bin
}

/// Fails (never skips) when a tool the suite needs is missing.
fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: the C suite needs it (apt-get install {tool})"
    );
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The fixtures, made once for all the tests of this file.
struct Fixtures {
    root: PathBuf,
}

/// Made once for all the tests of this file, in cargo's scratch folder for tests
/// (`CARGO_TARGET_TMPDIR`, inside the target folder), emptied first. Not a temporary
/// folder: a static is never dropped, so a `TempDir` here was never removed, and each
/// run left its 1.6 GB of binaries (plain, ASan, Valgrind) in /tmp. Two runs of this
/// file at once in one target folder would share it.
fn fixtures() -> &'static Fixtures {
    static ONCE: OnceLock<Fixtures> = OnceLock::new();
    ONCE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_suite");
        match std::fs::remove_dir_all(&root) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", root.display()),
        }
        std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        breach(&root.join("office"), &root.join("breach.txt"));
        special(&root.join("special"), &root.join("special.txt"));
        Fixtures { root }
    })
}

/// One office, through the binary only.
struct Office {
    dir: PathBuf,
}

impl Office {
    fn run(&self, args: &[&str]) -> String {
        let out = ok(Command::new(cli())
            .args(args)
            .env("REVOCARD_DB", self.dir.join("registry.sqlite"))
            .env_remove("REVOCARD_KEYS")
            .env_remove("REVOCARD_LIST_LIFETIME")
            .current_dir(&self.dir));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A field of the last JSON line a command printed (numbers only).
    fn number(out: &str, field: &str) -> String {
        let line = out.lines().last().unwrap_or_default();
        let at = line
            .find(&format!("\"{field}\":"))
            .unwrap_or_else(|| panic!("no {field} in {line}"));
        line[at + field.len() + 3..]
            .chars()
            .skip_while(|c| c.is_whitespace())
            .take_while(char::is_ascii_digit)
            .collect()
    }

    /// The first card of a batch: its credential text and its chip's secret (hex).
    fn first_card(&self, batch: &str, name: &str) -> (String, String) {
        let csv = self.dir.join(format!("{name}.csv"));
        self.run(&[
            "credentials",
            "--batch",
            batch,
            "--out",
            &csv.to_string_lossy(),
        ]);
        let text = std::fs::read_to_string(&csv).unwrap_or_default();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let col = |n: &str| {
            header
                .iter()
                .position(|h| *h == n)
                .and_then(|i| row.get(i))
                .map(|s| (*s).to_owned())
                .unwrap_or_else(|| panic!("no {n} in {csv:?}"))
        };
        (col("credential"), col("card_public_key"))
    }

    fn secret(&self, blanks: &str, public: &str) -> String {
        let path = self
            .dir
            .join(blanks)
            .join("secrets")
            .join(format!("{public}.key"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_owned()
    }
}

/// Files of a folder, sorted by the sequence number in their names.
fn by_sequence(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|p| {
            let n = p.file_stem()?.to_str()?.parse().ok()?;
            Some((n, p))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// The breach at a door, from what `revocard publish` wrote: the layout before the
/// breach, the deltas after it, an old card and a new one with their chips' secrets.
fn breach(dir: &Path, manifest: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let office = Office {
        dir: dir.to_path_buf(),
    };
    office.run(&["init", "--issuer", "metro-police"]);
    let mut roster = String::from("pay_number,name,rank,unit,kind,vetting,photo_ref\n");
    for i in 0..4 {
        let _ = writeln!(
            roster,
            "{},Holder {i},Sergeant,Response,warrant-card,MV,photos/{i}.jpg",
            1_000_000 + i
        );
    }
    write(&dir.join("staff.csv"), roster);
    office.run(&["roster", "sync", "staff.csv", "--apply"]);
    office.run(&["simulate-blanks", "--count", "4", "--out", "northgate"]);
    let issued = office.run(&[
        "issue",
        "--supplier",
        "northgate-print",
        "--cards",
        "northgate/blanks.csv",
        "--json",
    ]);
    let old_batch = Office::number(&issued, "batch");
    let (old_card, old_public) = office.first_card(&old_batch, "old");
    let published = dir.join("published");
    office.run(&["publish", "--out", &published.to_string_lossy()]);
    let issuer_dir = published.join("metro-police");
    let before = by_sequence(&issuer_dir.join("lists"));
    let list_before = before.last().cloned().unwrap_or_default();

    office.run(&[
        "incident",
        "declare",
        "--supplier",
        "northgate-print",
        "--reissue-via",
        "southbank-print",
    ]);
    office.run(&["simulate-blanks", "--count", "4", "--out", "southbank"]);
    let reissued = office.run(&[
        "incident",
        "reissue",
        "--supplier",
        "southbank-print",
        "--cards",
        "southbank/blanks.csv",
        "--json",
    ]);
    let new_batch = Office::number(&reissued, "batch");
    let (new_card, new_public) = office.first_card(&new_batch, "new");
    office.run(&["publish", "--out", &published.to_string_lossy()]);

    let before_seq: u64 = list_before
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no list was published before the breach"));
    let deltas: Vec<PathBuf> = by_sequence(&issuer_dir.join("deltas"))
        .into_iter()
        .filter(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok())
                .is_some_and(|n| n > before_seq)
        })
        .collect();
    assert!(!deltas.is_empty(), "no delta published after the breach");
    let key_set = by_sequence(&issuer_dir.join("keysets"))
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("no key set published"));
    let mut m = String::new();
    let _ = writeln!(m, "issuer_dir={}", issuer_dir.display());
    let _ = writeln!(m, "anchor={}", issuer_dir.join("anchor.rca").display());
    let _ = writeln!(m, "key_set={}", key_set.display());
    let _ = writeln!(m, "list_before={}", list_before.display());
    for d in &deltas {
        let _ = writeln!(m, "delta={}", d.display());
    }
    let _ = writeln!(m, "old_card={old_card}");
    let _ = writeln!(m, "old_secret={}", office.secret("northgate", &old_public));
    let _ = writeln!(m, "new_card={new_card}");
    let _ = writeln!(m, "new_secret={}", office.secret("southbank", &new_public));
    write(manifest, m);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A second issuer, made with the issuing API at time `T`: a root, a key set with a
/// credential-and-list key (K1), a list-only key (K2) and a revoked key (K3), three
/// lists (index 1 suspended, 2 revoked), and one credential for each denial.
#[allow(clippy::too_many_lines)]
fn special(dir: &Path, manifest: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = StdRng::seed_from_u64(22);
    let now = UnixTime(T);
    let issuer = IssuerId::new("fixture-police").unwrap_or_else(|e| panic!("{e}"));
    let window = Validity::new(UnixTime(T - 10 * DAY), UnixTime(T + 10 * YEAR))
        .unwrap_or_else(|e| panic!("{e}"));
    let root =
        RootKey::generate(issuer.clone(), window, &mut rng).unwrap_or_else(|e| panic!("{e}"));
    let k1 = IssuerKey::from_secret_bytes(issuer.clone(), window, &K1_SECRET)
        .unwrap_or_else(|e| panic!("{e}"));
    let k2 =
        IssuerKey::generate(issuer.clone(), window, &mut rng).unwrap_or_else(|e| panic!("{e}"));
    let k3 =
        IssuerKey::generate(issuer.clone(), window, &mut rng).unwrap_or_else(|e| panic!("{e}"));
    // K4: lists only, its window ending a day after T (a list it signed goes out of
    // force then).
    let k4 = IssuerKey::generate(
        issuer.clone(),
        Validity::new(UnixTime(T - 10 * DAY), UnixTime(T + DAY)).unwrap_or_else(|e| panic!("{e}")),
        &mut rng,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut draft = KeySetDraft::first(root.public(), now);
    draft
        .certify(k1.public(), KeyUsage::CredentialsAndLists)
        .unwrap_or_else(|e| panic!("{e}"));
    draft
        .certify(k2.public(), KeyUsage::Lists)
        .unwrap_or_else(|e| panic!("{e}"));
    draft
        .certify(k3.public(), KeyUsage::CredentialsAndLists)
        .unwrap_or_else(|e| panic!("{e}"));
    draft
        .revoke(k3.key_id(), now, RevocationReason::KeyCompromise)
        .unwrap_or_else(|e| panic!("{e}"));
    draft
        .certify(k4.public(), KeyUsage::Lists)
        .unwrap_or_else(|e| panic!("{e}"));
    let key_set = root.sign_key_set(&draft).unwrap();

    let mut statuses =
        IssuerStatusList::new(issuer.clone(), MIN_LIST_CAPACITY).unwrap_or_else(|e| panic!("{e}"));
    statuses.suspend(1).unwrap_or_else(|e| panic!("{e}"));
    statuses
        .revoke(2, RevocationReason::Lost, now)
        .unwrap_or_else(|e| panic!("{e}"));
    let list1 = statuses
        .publish(&k1, now, now.plus(3600))
        .unwrap_or_else(|e| panic!("{e}"));
    statuses
        .revoke(3, RevocationReason::Lost, now)
        .unwrap_or_else(|e| panic!("{e}"));
    let list2 = statuses
        .publish(&k1, now, now.plus(3600))
        .unwrap_or_else(|e| panic!("{e}"));
    statuses
        .revoke(4, RevocationReason::Lost, now)
        .unwrap_or_else(|e| panic!("{e}"));
    let list3 = statuses
        .publish(&k1, now, now.plus(3600))
        .unwrap_or_else(|e| panic!("{e}"));
    let list_k4 = IssuerStatusList::new(issuer.clone(), MIN_LIST_CAPACITY)
        .unwrap_or_else(|e| panic!("{e}"))
        .publish(&k4, now, now.plus(10 * DAY))
        .unwrap_or_else(|e| panic!("{e}"));

    let card_key = CardKey::from_secret_bytes(&CARD_SECRET);
    let mut issue = |key: &IssuerKey,
                     kind: Kind,
                     vetting: &str,
                     index: u32,
                     validity: (u64, u64),
                     at: u64,
                     bound: bool| {
        let holder = Holder::new(
            "424242",
            "A. Officer",
            "Sergeant",
            "Custody",
            PhotoDigest::of(b"jpeg"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        key.issue(
            CredentialRequest {
                kind,
                holder,
                vetting: vetting.parse().unwrap_or_else(|e| panic!("{e}")),
                status_index: StatusIndex(index),
                print_batch: PrintBatchId(1),
                validity: Validity::new(UnixTime(validity.0), UnixTime(validity.1))
                    .unwrap_or_else(|e| panic!("{e}")),
                card_key: bound.then(|| card_key.public()),
                supersedes: None,
            },
            UnixTime(at),
            &mut rng,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .into_bytes()
    };
    let live = (T - DAY, T + YEAR);
    let warrant = issue(&k1, Kind::WarrantCard, "MV", 10, live, T, true);
    let staff = issue(&k1, Kind::StaffPass, "NPPV2", 11, live, T, false);
    let suspended = issue(&k1, Kind::WarrantCard, "MV", 1, live, T, true);
    let revoked = issue(&k1, Kind::WarrantCard, "MV", 2, live, T, true);
    let future = issue(
        &k1,
        Kind::WarrantCard,
        "MV",
        12,
        (T + YEAR, T + 2 * YEAR),
        T,
        true,
    );
    let expired = issue(
        &k1,
        Kind::WarrantCard,
        "MV",
        13,
        (T - 5 * DAY, T - 4 * DAY),
        T - 5 * DAY,
        true,
    );
    let out_of_range = issue(
        &k1,
        Kind::WarrantCard,
        "MV",
        MIN_LIST_CAPACITY + 5,
        live,
        T,
        true,
    );
    let wrong_usage = issue(&k2, Kind::WarrantCard, "MV", 14, live, T, true);
    let key_revoked = issue(&k3, Kind::WarrantCard, "MV", 15, live, T, true);

    // The issuer's name changed by one letter: K1's key id under an issuer that
    // does not hold it.
    let mut mismatch = warrant.clone();
    let name = b"fixture-police";
    let at = mismatch
        .windows(name.len())
        .position(|w| w == name)
        .unwrap_or_else(|| panic!("no issuer in the credential"));
    mismatch[at + name.len() - 1] = b'f';

    // A weak card key (the identity point), signed by K1 as a faulty issuer would:
    // the body ends with Some(card key) then None (supersedes).
    let mut weak = warrant.clone();
    let n = weak.len();
    assert_eq!(weak[n - 34], 1, "card key tag");
    weak[n - 33..n - 1].copy_from_slice(&{
        let mut identity = [0u8; 32];
        identity[0] = 1;
        identity
    });
    let mut message = revocard::format::CREDENTIAL_DOMAIN.to_vec();
    message.push(revocard::format::FORMAT_VERSION);
    message.extend_from_slice(&weak[65..]);
    let signature = ed25519_dalek::SigningKey::from_bytes(&K1_SECRET).sign(&message);
    weak[1..65].copy_from_slice(&signature.to_bytes());

    let files: [(&str, &[u8]); 20] = [
        ("anchor", &root.public().to_bytes()),
        ("key_set", &key_set),
        ("list1", &list1.list),
        ("delta2", list2.delta.as_deref().unwrap_or_default()),
        ("delta3", list3.delta.as_deref().unwrap_or_default()),
        ("list3", &list3.list),
        ("list_k4", &list_k4.list),
        ("warrant", &warrant),
        ("staff", &staff),
        ("suspended", &suspended),
        ("revoked", &revoked),
        ("future", &future),
        ("expired", &expired),
        ("out_of_range", &out_of_range),
        ("wrong_usage", &wrong_usage),
        ("key_revoked", &key_revoked),
        ("issuer_mismatch", &mismatch),
        ("weak_card_key", &weak),
        ("card_secret", &CARD_SECRET),
        ("other_secret", &[9u8; 32]),
    ];
    let mut m = format!("now={T}\n");
    for (name, bytes) in files {
        let path = dir.join(format!("{name}.bin"));
        write(&path, bytes);
        let _ = writeln!(m, "{name}={}", path.display());
    }
    let _ = writeln!(m, "card_secret_hex={}", hex(&CARD_SECRET));
    write(manifest, m);
}

/// The system libraries the static library needs (`cargo rustc -- --print
/// native-static-libs`); README.md links the door example with the first three, which
/// glibc 2.34 and later need alone.
const LIBS: [&str; 6] = ["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s"];
const README_LIBS: [&str; 3] = ["-lpthread", "-ldl", "-lm"];

/// Compiles `ffi/tests/<name>.c` (or an example) with `flags` against the static
/// library and `libs`, into `out`.
fn compile(source: &Path, out: &Path, flags: &[&str]) {
    compile_with(source, out, flags, &LIBS);
}

fn compile_with(source: &Path, out: &Path, flags: &[&str], libs: &[&str]) {
    require("cc");
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-pthread"])
        .args(flags)
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-I")
        .arg(crate_dir().join("tests"))
        .arg(source)
        .arg("-o")
        .arg(out)
        .arg(static_lib())
        .args(libs);
    ok(&mut cmd);
}

const SUITE: [&str; 4] = ["breach", "denials", "hostile", "threads"];

/// Runs each C program of the suite, built with `flags`, under `wrapper` (valgrind
/// or nothing); each must print `N passed, 0 failed` and exit 0.
fn run_suite(label: &str, flags: &[&str], wrapper: &[&str]) {
    let f = fixtures();
    let bin = f.root.join(format!("bin-{label}"));
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    for name in SUITE {
        let exe = bin.join(name);
        compile(
            &crate_dir().join("tests").join(format!("{name}.c")),
            &exe,
            flags,
        );
        let mut cmd = match wrapper.split_first() {
            Some((tool, args)) => {
                let mut c = Command::new(tool);
                c.args(args).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.arg(f.root.join("breach.txt"))
            .arg(f.root.join("special.txt"))
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
        let out = run(&mut cmd);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!(
            "{label} {name}: {}",
            stdout.lines().last().unwrap_or_default()
        );
        assert!(
            out.status.success() && stdout.contains(" passed, 0 failed"),
            "{label} {name} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
    }
}

#[test]
fn the_c_suite_passes() {
    run_suite("plain", &[], &[]);
}

#[test]
fn the_c_suite_passes_under_asan_and_ubsan() {
    run_suite(
        "asan",
        &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
        ],
        &[],
    );
}

#[test]
fn the_c_suite_passes_under_valgrind_with_no_leak() {
    require("valgrind");
    run_suite(
        "valgrind",
        &[],
        &[
            "valgrind",
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,possible",
            "--error-exitcode=1",
        ],
    );
}

#[test]
fn python_reaches_the_abi_through_the_shared_library() {
    require("python3");
    let f = fixtures();
    let out = run(Command::new("python3")
        .arg(crate_dir().join("tests").join("ctypes_door.py"))
        .arg(shared_lib())
        .arg(f.root.join("breach.txt")));
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("python: {}", stdout.lines().last().unwrap_or_default());
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "ctypes_door.py failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of `key=` in a fixture manifest.
fn manifest_value(path: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {}", path.display()))
        .to_owned()
}

#[test]
fn the_door_example_builds_and_decides_taps_from_a_file() {
    let f = fixtures();
    let breach = f.root.join("breach.txt");
    let value = |k: &str| manifest_value(&breach, k);
    let exe = f.root.join("door-example");
    // As README.md builds it.
    compile_with(
        &crate_dir().join("examples").join("door.c"),
        &exe,
        &[],
        &README_LIBS,
    );
    let taps = f.root.join("taps.txt");
    write(
        &taps,
        format!(
            "# door credential [chip secret]\n\
             custody {old} {old_secret}\n\
             custody {new} {new_secret}\n\
             custody {new}\n\
             custody {new} {old_secret}\n\
             front {new}\n\
             front not-a-card\n",
            old = value("old_card"),
            old_secret = value("old_secret"),
            new = value("new_card"),
            new_secret = value("new_secret"),
        ),
    );
    let state = f.root.join("door.state");
    let run_door = || {
        let out = ok(Command::new(&exe)
            .arg(&state)
            .arg(value("issuer_dir"))
            .arg(&taps));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The first start learns everything from the folder and saves its state.
    let first = run_door();
    assert!(first.contains("installed"), "{first}");
    assert!(first.contains("state: saved"), "{first}");
    assert!(!first.contains("restored"), "{first}");
    // After a restart it comes back from the saved state: nothing new to install.
    let stdout = run_door();
    assert!(stdout.contains("restored (ok)"), "{stdout}");
    assert!(!stdout.contains("installed"), "{stdout}");
    assert!(stdout.contains("unchanged"), "{stdout}");
    let decisions: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ADMIT") || l.starts_with("DENY"))
        .collect();
    let want = [
        ("DENY custody", "revoked"),
        ("ADMIT custody", "ok"),
        ("DENY custody", "response_missing"),
        ("DENY custody", "bad_response_signature"),
        ("ADMIT front", "ok"),
        ("DENY front", "not a credential"),
    ];
    assert_eq!(decisions.len(), want.len(), "{stdout}");
    for (line, (start, reason)) in decisions.iter().zip(want) {
        assert!(
            line.starts_with(start) && line.contains(reason),
            "{line}\n{stdout}"
        );
    }
}
