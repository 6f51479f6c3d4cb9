#!/usr/bin/env python3
"""List the crate's module-level import edges and check that they point down the layers.

Layers, from the bottom (ARCHITECTURE.md):

    0 model     plain data
    1 wire      bytes
    2 verify    verification (no std)
    3 issue     issuing
    4 door, registry, hsm   side by side: none uses another (the registry's SQLite
                backend is `registry::sqlite`, a leaf of its folder: nothing in the
                registry uses it but the re-export; `hsm` is a signer for the issuing
                layer's seam, which the registry takes as an `IssuerKey`)
    5 net       the network at the edge: the published layout, the publisher, the
                door's feed

A module may use its own layer's modules (within its folder) and any layer below;
an edge up a layer, or between `door` and the registry side, is a violation, and so a
cycle between layers cannot exist. `lib.rs` (the facade that re-exports) and the
`prelude` are left out.

Usage: scripts/layers.py [--edges]   exit 1 on a violation; --edges prints every edge.
"""

import pathlib
import re
import signal
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the listing quietly

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src"

LAYER = {
    "model": 0,
    "wire": 1,
    "verify": 2,
    "issue": 3,
    "door": 4,
    "registry": 4,
    "hsm": 4,
    "net": 5,
}
# Side by side on one layer, never using each other.
SIDE = {"door": "door", "registry": "registry", "hsm": "hsm"}
IGNORED = {"prelude"}

USE = re.compile(r"\buse\s+crate::(\{[^;]*\}|[^;]*);", re.S)
PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?")


def module_of(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    return "::".join(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def targets(text: str) -> set[str]:
    """The top-level modules (and their first submodule) a file names through `crate::`."""
    found = set()
    for m in USE.finditer(text):
        body = m.group(1)
        if body.startswith("{"):
            for item in re.split(r",\s*(?![^{]*\})", body.strip("{} \n")):
                item = item.strip()
                if item:
                    found.add(item)
        else:
            found.add(body.strip())
    names = set()
    for item in found:
        head = re.match(r"([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?", item)
        if head:
            names.add(head.group(1) + (f"::{head.group(2)}" if head.group(2) else ""))
    for m in PATH.finditer(USE.sub("", text)):
        names.add(m.group(1) + (f"::{m.group(2)}" if m.group(2) else ""))
    return names


def main() -> int:
    show = "--edges" in sys.argv[1:]
    edges = set()
    for path in sorted(ROOT.rglob("*.rs")):
        module = module_of(path)
        if module in ("lib",):
            continue
        text = strip_comments(path.read_text())
        # Unit tests may reach anywhere; they are not part of the build's graph.
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        for target in targets(text):
            if target.split("::")[0] in IGNORED:
                continue
            # A path into a type (crate::model::UnixTime) names its module.
            parts = target.split("::")
            sub = ROOT.joinpath(*parts)
            if len(parts) > 1 and not (sub.with_suffix(".rs").exists() or (sub / "mod.rs").exists()):
                target = parts[0]
            if target != module:
                edges.add((module, target))
    violations = []
    unknown = set()
    for src, dst in sorted(edges):
        a, b = src.split("::")[0], dst.split("::")[0]
        if a not in LAYER or b not in LAYER:
            unknown.add(a if a not in LAYER else b)
            continue
        if a == b:
            continue
        if LAYER[b] > LAYER[a]:
            violations.append(f"{src} -> {dst}: up from layer {LAYER[a]} to {LAYER[b]}")
        elif LAYER[b] == LAYER[a] and SIDE.get(a) != SIDE.get(b):
            violations.append(f"{src} -> {dst}: across layer {LAYER[a]} ({SIDE.get(a)} uses {SIDE.get(b)})")
    if show:
        for src, dst in sorted(edges):
            print(f"{src} -> {dst}")
    print(f"{len(edges)} module-level import edges, {len(violations)} against the layers")
    for v in violations:
        print(f"  violation: {v}")
    for u in sorted(unknown):
        print(f"  violation: module `{u}` has no layer (add it to scripts/layers.py and ARCHITECTURE.md)")
    return 1 if violations or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
