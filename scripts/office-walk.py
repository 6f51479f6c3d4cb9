#!/usr/bin/env python3
"""The office's walk for N cards through the `revocard` command, killed at random
moments: init, roster sync, issue through one supplier, that supplier declared
breached, reissue through another. Each bulk step is started, killed with SIGKILL
after a random delay (K times), then run to the end; every step must then converge:

- every command finally exits 0 and a rerun of it changes nothing;
- the registry holds N active replacement cards and N revoked originals, and its audit
  chain verifies (`revocard audit verify`);
- every row of both print manifests names a chip key that its supplier reported
  (blanks.csv), each chip once, and each key reads back exactly as the chip reported
  it (no spreadsheet guard rewrote it);
- `revocard manifest --batch N` writes each manifest again byte for byte.

    python3 scripts/office-walk.py [--count 47000] [--kills 4] [--seed S] [--binary PATH]

It prints one line per step and a closing `N passed, N failed` line; exit 1 if any
check failed.
"""

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def roster(path, n):
    kinds = [
        ("Police Constable", "warrant-card", "RV"),
        ("Sergeant", "warrant-card", "MV"),
        ("Band C", "staff-pass", "RV+SC"),
        ("Contractor", "staff-pass", "NPPV2"),
    ]
    with open(path, "w") as f:
        f.write("pay_number,name,rank,unit,kind,vetting,photo_ref\n")
        for i in range(n):
            rank, kind, vetting = kinds[i % 4]
            # Names that a spreadsheet would take for formulas: the guard's business.
            name = f"=Holder {i}" if i % 97 == 0 else f"Holder {i}"
            f.write(f"{1000000 + i},{name},{rank},Response,{kind},{vetting},photos/{i}.jpg\n")


class Walk:
    def __init__(self, binary, workdir, rng):
        self.binary = binary
        self.dir = workdir
        self.rng = rng
        self.env = dict(os.environ, REVOCARD_DB=os.path.join(workdir, "registry.sqlite"))
        self.passed = 0
        self.failed = 0

    def cmd(self, *args):
        return [self.binary, *args]

    def run(self, *args):
        return subprocess.run(self.cmd(*args), env=self.env, cwd=self.dir, capture_output=True, text=True)

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what}")

    def killed_then_finished(self, args, kills, max_delay):
        """Starts `args` `kills` times, each killed after a random delay; then runs it
        to the end (rerunning while it says resumable). Returns (landed kills, final)."""
        landed = 0
        for _ in range(kills):
            p = subprocess.Popen(self.cmd(*args), env=self.env, cwd=self.dir,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            delay = self.rng.uniform(0.05, max_delay)
            time.sleep(delay)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                landed += 1
            p.wait()
        final = self.run(*args, "--json")
        tries = 0
        while final.returncode == 3 and tries < 5:
            final = self.run(*args, "--json")
            tries += 1
        return landed, final


def read_keys(path):
    with open(path, newline="") as f:
        return [row["card_public_key"] for row in csv.DictReader(f)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=47000)
    p.add_argument("--kills", type=int, default=4)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "revocard"))
    a = p.parse_args()
    a.binary = os.path.abspath(a.binary)
    seed = a.seed if a.seed is not None else random.randrange(1 << 32)
    print(f"office walk: {a.count} cards, {a.kills} kills a step, seed {seed}")
    if not os.path.exists(a.binary):
        subprocess.run(["cargo", "build", "--release", "-p", "revocard-cli"], cwd=ROOT, check=True)
    rng = random.Random(seed)
    n = a.count
    with tempfile.TemporaryDirectory() as d:
        w = Walk(a.binary, d, rng)
        w.check(w.run("init", "--issuer", "metro-police").returncode == 0, "init")
        roster(os.path.join(d, "staff.csv"), n)
        w.check(w.run("simulate-blanks", "--count", str(n), "--out", "north").returncode == 0
                and w.run("simulate-blanks", "--count", str(n), "--out", "south").returncode == 0,
                "two suppliers' blank-card reports")
        # The roster is one commit: a kill lands before or after it.
        landed, final = w.killed_then_finished(["roster", "sync", "staff.csv", "--apply"], a.kills, 1.0)
        w.check(final.returncode == 0, f"roster sync ({landed} kills landed) then finished")
        steps = [
            ("issue", ["issue", "--supplier", "northgate-print", "--cards", "north/blanks.csv",
                       "--manifest", "north.csv"]),
            ("declare", ["incident", "declare", "--supplier", "northgate-print",
                         "--reissue-via", "southbank-print"]),
            ("reissue", ["incident", "reissue", "--supplier", "southbank-print",
                         "--cards", "south/blanks.csv", "--manifest", "south.csv"]),
        ]
        for name, args in steps:
            landed, final = w.killed_then_finished(args, a.kills, 6.0)
            w.check(final.returncode == 0, f"{name} ({landed} kills landed) then finished: {final.stdout.strip()[:160]}")
            again = w.run(*args, "--json")
            w.check(again.returncode == 0, f"{name} run again is a no-op")
        summary = w.run("summary", "--json")
        w.check(summary.returncode == 0, "summary")
        doc = json.loads(summary.stdout) if summary.returncode == 0 else {}
        print(f"  summary: {json.dumps(doc)[:400]}")
        audit = w.run("audit", "verify", "--json")
        w.check(audit.returncode == 0, f"audit chain verifies: {audit.stdout.strip()[:160]}")
        for supplier, manifest in (("north", "north.csv"), ("south", "south.csv")):
            path = os.path.join(d, manifest)
            if not os.path.exists(path):
                w.check(False, f"{manifest} written")
                continue
            chips = set(read_keys(os.path.join(d, supplier, "blanks.csv")))
            keys = read_keys(path)
            w.check(len(keys) == n, f"{manifest}: {len(keys)} rows, {n} expected")
            w.check(len(set(keys)) == len(keys), f"{manifest}: each chip once")
            foreign = [k for k in keys if k not in chips]
            w.check(not foreign, f"{manifest}: every key is a chip's key as its supplier reported it "
                                 f"({len(foreign)} not; {sum(k.startswith('-') for k in keys)} start with '-')")
        # Each batch's manifest again, from the registry.
        for batch, manifest in ((1, "north.csv"), (2, "south.csv")):
            out = os.path.join(d, f"again-{batch}.csv")
            r = w.run("manifest", "--batch", str(batch), "--out", out)
            same = r.returncode == 0 and open(out, "rb").read() == open(os.path.join(d, manifest), "rb").read()
            w.check(same, f"manifest --batch {batch} writes {manifest} again byte for byte")
        print(f"{w.passed} passed, {w.failed} failed")
        sys.exit(1 if w.failed else 0)


if __name__ == "__main__":
    main()
