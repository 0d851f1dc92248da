"""Window soak: random edits, selections, undos and redos of a large graph in the window, with
the feature-map viewer, watching the resident memory and what the garbage collector froze.

Run:  python benchmarks/bench_window_soak.py [--nodes 3000] [--actions 1000] [--seed 3]

The window's collector (``ui/gc_guard.py``) freezes young objects instead of walking them when
they are many or hold large containers (a deep design's analysis, undo snapshots): they are
still freed by reference counting, but a reference cycle among them would never be collected.
This soak measures that risk. Every 100 actions it prints the resident memory, the frozen
objects and, as the reference measured in the same run, the bytes the undo history estimates it
holds (``History.bytes``); memory should grow with the history and level off with it. At the
end it unfreezes everything and runs a full collection: the objects found in cycles are what
freezing kept alive that nothing used.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_deep import (  # the same design, meter and settings
    fresh_settings,
    residual_design,
    rss_mib,
)
from convdesigner.core.layers import Conv2D
from convdesigner.ui.app import create_app
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.viewer_dock import install_feature_maps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3000)
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    fresh_settings()
    app = create_app()
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    install_feature_maps(window, lazy=False)

    def pump(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()

    design = residual_design(args.nodes)
    doc = window.document
    doc.load(design, None)
    pump(2.0)
    start_rss = rss_mib()
    print(f"{len(design)} nodes (residual graph), RSS {start_rss:.0f} MiB after opening")
    convs = [node.id for node in design.nodes if isinstance(node.op, Conv2D)]
    rnd = random.Random(args.seed)
    for i in range(args.actions):
        roll = rnd.random()
        node = rnd.choice(convs)
        if roll < 0.5:
            doc.change(node, kernel=3 + 2 * rnd.randrange(3), padding=1 + rnd.randrange(3))
        elif roll < 0.7:
            doc.select(node)
        elif roll < 0.85:
            doc.undo()
        else:
            doc.redo()
        pump(0.05)
        if (i + 1) % 100 == 0:
            pump(1.0)  # the workers finish, the graveyard empties
            grown = rss_mib() - start_rss
            history = doc.history.bytes / 2**20
            print(
                f"  {i + 1:5d} actions: RSS +{grown:6.1f} MiB   history {history:5.1f} MiB "
                f"({len(doc.history)} steps)   frozen objects {gc.get_freeze_count():,}"
            )
    pump(1.0)
    gc.unfreeze()
    found = gc.collect()
    print(f"unfrozen, then a full collection found {found:,} objects in reference cycles")
    doc.history.set_clean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
