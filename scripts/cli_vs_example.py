#!/usr/bin/env python3
"""The breach story for N cards through the `revocard` CLI against the `reissue_batch`
example, in the same run, alternating, R rounds: the ratio of the CLI's issue +
declare + reissue wall time (each a separate process, as an operator runs them) to
the example's issue + revoke/publish + reissue time (one process).

    python3 scripts/cli_vs_example.py [--count 47000] [--rounds 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None, cwd=None):
    out = subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout


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
            f.write(f"{1000000 + i},Holder {i},{rank},Response,{kind},{vetting},photos/{i}.jpg\n")


def cli_story(binary, n):
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, REVOCARD_DB=os.path.join(d, "registry.sqlite"))
        rc = lambda *a: run([binary, *a], env=env, cwd=d)
        rc("init", "--issuer", "metro-police")
        roster(os.path.join(d, "staff.csv"), n)
        rc("roster", "sync", "staff.csv", "--apply")
        rc("simulate-blanks", "--count", str(n), "--out", "north")
        rc("simulate-blanks", "--count", str(n), "--out", "south")
        times = {}
        t = time.perf_counter()
        rc("issue", "--supplier", "northgate-print", "--cards", "north/blanks.csv")
        times["issue"] = time.perf_counter() - t
        t = time.perf_counter()
        rc("incident", "declare", "--supplier", "northgate-print", "--reissue-via", "southbank-print")
        times["declare"] = time.perf_counter() - t
        t = time.perf_counter()
        rc("incident", "reissue", "--supplier", "southbank-print", "--cards", "south/blanks.csv")
        times["reissue"] = time.perf_counter() - t
        return times


def example_story(binary, n):
    out = run([binary, "--count", str(n), "--json"], cwd=ROOT)
    doc = json.loads(out.strip().splitlines()[-1])
    return {
        "issue": doc["issue_ms"] / 1e3,
        "declare": doc["revoke_publish_ms"] / 1e3,
        "reissue": doc["reissue_ms"] / 1e3,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=47000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    run(["cargo", "build", "--release", "-p", "revocard-cli"], cwd=ROOT)
    run(["cargo", "build", "--release", "-p", "revocard", "--example", "reissue_batch"], cwd=ROOT)
    cli = os.path.join(ROOT, "target", "release", "revocard")
    example = os.path.join(ROOT, "target", "release", "examples", "reissue_batch")
    ratios = []
    for r in range(a.rounds):
        e = example_story(example, a.count)
        c = cli_story(cli, a.count)
        ratio = sum(c.values()) / sum(e.values())
        ratios.append(ratio)
        print(
            f"round {r + 1}: cli issue {c['issue']:.2f} s, declare {c['declare']:.3f} s, reissue {c['reissue']:.2f} s"
            f" | example issue {e['issue']:.2f} s, declare {e['declare']:.3f} s, reissue {e['reissue']:.2f} s"
            f" | ratio {ratio:.3f}",
            flush=True,
        )
    print(json.dumps({"count": a.count, "rounds": a.rounds, "median_ratio": round(statistics.median(ratios), 3), "ratios": [round(x, 3) for x in ratios]}))


if __name__ == "__main__":
    sys.exit(main())
