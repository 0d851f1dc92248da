"""Soak: 5,000 random edits through the document, with undo and redo, watching memory and time.

Run:  python benchmarks/bench_soak.py [--edits N] [--seed S] [--template ID]

The edits are those of the fuzz tests (tests/core/edit_driver.py: insert, remove, duplicate,
move, change a setting, input size, rename, connect, disconnect, residual, undo, redo, select;
many refused on purpose). After each edit the design is analysed, as the window does. Every
500 edits the script prints the resident memory and the mean time per edit, next to the
reference measured in the same run: ``analyse()`` alone of the same design (the core work any
edit must redo). At each checkpoint it also checks the history: undoing everything and redoing
it again ends where it was, and the design saves and loads back unchanged.

What to look for: memory that levels off (the history keeps at most 1,000 steps) and time per
edit close to the analysis alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.core.edit_driver

from convdesigner.core.analysis import analyse
from convdesigner.core.document import Document
from convdesigner.core.fileformat import design_from_dict, design_to_dict
from convdesigner.core.templates import load_template
from tests.core.edit_driver import random_edit

CHECK_EVERY = 500


def rss_mib() -> float:
    """Resident memory now (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def check_history(doc: Document) -> None:
    current, index = doc.design, doc.history.index
    assert design_from_dict(design_to_dict(current)) == current, "design does not load back"
    doc.go_to(len(doc.history))
    top = doc.design
    while doc.undo():
        pass
    bottom = doc.design
    while doc.redo():
        pass
    assert doc.design == top, "redo all did not return to the end of the history"
    doc.go_to(0)
    assert doc.design == bottom, "go_to(0) and undo all disagree"
    doc.go_to(index)
    assert doc.design == current, "the history lost the current design"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--template", default="lenet5")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    doc = Document(load_template(args.template))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"soak: {args.edits} random edits from {args.template}, seed {args.seed}")
    print(f"load average {load:.2f} (other work on the machine inflates the times)")
    print("   edits   RSS MiB   history   nodes   ms/edit   analyse() alone ms   refused")
    start_rss = rss_mib()
    times: list[float] = []
    refused = 0
    for n in range(1, args.edits + 1):
        t0 = time.perf_counter()
        kind = random_edit(doc, rng)
        _ = doc.analysis
        times.append(time.perf_counter() - t0)
        refused += kind.endswith("refused")
        if n % CHECK_EVERY == 0 or n == args.edits:
            design = doc.design
            reference = []
            for _ in range(5):
                t1 = time.perf_counter()
                analyse(design)
                reference.append(time.perf_counter() - t1)
            per_edit = statistics.mean(times[-CHECK_EVERY:]) * 1e3
            alone = statistics.median(reference) * 1e3
            print(
                f"   {n:5d}   {rss_mib():7.1f}   {len(doc.history):7d}   {len(design):5d}"
                f"   {per_edit:7.2f}   {alone:18.2f}   {refused:7d}"
            )
            check_history(doc)
    print(f"RSS grew {rss_mib() - start_rss:.1f} MiB over {args.edits} edits")
    print(f"median edit {statistics.median(times) * 1e3:.2f} ms, worst {max(times) * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
