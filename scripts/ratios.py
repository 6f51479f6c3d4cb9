#!/usr/bin/env python3
"""Print each criterion benchmark's mean time and its ratio to the floor of its group.

Run after `cargo bench`. Every group under target/criterion has one or more
benchmarks named `floor_*` (bare Ed25519 measured in the same run); each other
benchmark is shown against the group's `floor_verify_strict` (or its first floor).
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    times = {}
    for est in sorted(group.glob("**/new/estimates.json")):
        name = str(est.parent.parent.relative_to(group))
        times[name] = json.loads(est.read_text())["mean"]["point_estimate"]
    floors = {k: v for k, v in times.items() if k.startswith("floor_")}
    if not floors:
        continue
    floor_name = "floor_verify_strict" if "floor_verify_strict" in floors else sorted(floors)[0]
    floor = floors[floor_name]
    print(f"\n{group.name} (floor: {floor_name} = {floor / 1000:.2f} us)")
    print("| benchmark | mean | ratio to floor |")
    print("| --- | --- | --- |")
    for name, t in sorted(times.items()):
        shown = f"{t / 1000:.2f} us" if t >= 1000 else f"{t:.1f} ns"
        print(f"| {name} | {shown} | {t / floor:.4g}x |")
