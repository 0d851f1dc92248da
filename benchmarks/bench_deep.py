"""Deep designs and long histories in the window (issue 12 item 8): the longest event-loop stall.

Run:  python benchmarks/bench_deep.py [--layers N] [--steps S] [--no-viewer]

A design of N layers (default 10,000: conv 3×3 "same" and ReLU alternating, 32×32×3 input) is
opened in the window with the feature-map viewer (a bundled sample as input). A 1 ms timer
records every event-loop tick while each action runs, until the window shows its result (the
table and the pipeline show the new numbers, the panels are told, the explain panel is drawn
with its learner notes: printed as "shown after") and 0.3 s more; the longest gap between
ticks is how long the window was frozen at worst. Actions: open the design, an edit of the first
conv and of one in the middle, selecting another layer, 9 edits 0.3 s apart beside the viewer's run
(seconds on a dense block), the last followed until its maps are drawn, S more edits (one undo
step each), a click on the oldest entry of the History dock (undo all S steps), and back to the
newest. The resident memory per undo step is printed too. Reference in the same run:
``analyse()`` of the same design alone (what any edit must redo) and the longest gap of an idle
loop. Budget of issue 12: 30 ms for any design the loader accepts. A window without an
"updating" state (older versions) counts as showing its result when the action returns.
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from convdesigner.core.analysis import analyse
from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.layers import Add, Concat, Conv2D, ReLU
from convdesigner.ui.app import create_app
from convdesigner.ui.main_window import MainWindow

VIEWER_EDITS = 9
"""Edits made beside the viewer's run, each 0.3 s after the window showed the one before."""


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fresh_settings() -> None:
    """Run on an empty settings and data folder, removed at exit: a layout saved by an earlier
    run (the Costs tab left in front by ``--costs``) changed what later runs measured."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="convdesigner-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["CONVDESIGNER_SETTINGS_DIR"] = os.path.join(folder, "settings")
    os.environ["CONVDESIGNER_DATA_DIR"] = os.path.join(folder, "data")


def longest_gap(
    app: QApplication,
    action: Callable[[], object],
    settled: Callable[[], bool] = lambda: True,
    tail: float = 0.3,
) -> tuple[float, float]:
    """Run ``action`` from the event loop; the longest gap between 1 ms ticks until ``tail``
    seconds after the window ``settled()`` (background results arrived and were drawn), and
    the time from the action's start until it settled."""
    ticks: list[float] = []
    done: list[float] = []
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def run() -> None:
        done.append(time.perf_counter())
        action()

    start = time.perf_counter()
    timer.start()
    QTimer.singleShot(0, run)
    settled_at: float | None = None
    # As the application's own loop does: handle what is due, then wait in the dispatcher until
    # something else is (the 1 ms timer wakes it at the latest), so the dispatcher's awake and
    # aboutToBlock signals come as they do in the app.
    wait = QEventLoop.ProcessEventsFlag.AllEvents | QEventLoop.ProcessEventsFlag.WaitForMoreEvents
    while settled_at is None or time.perf_counter() - settled_at < tail:
        app.processEvents(wait)
        if settled_at is None and done and settled():
            settled_at = time.perf_counter()
    timer.stop()
    stamps = [start, *ticks, time.perf_counter()]
    return max(b - a for a, b in itertools.pairwise(stamps)), settled_at - done[0]


def chain_design(layers: int) -> Design:
    """Conv 3×3 "same" (4 filters) and ReLU alternating on a 32×32×3 input."""
    conv = Conv2D(filters=4, kernel=3, padding="same")
    return Design(
        InputSpec(32, 32, 3), layers=[conv if i % 2 == 0 else ReLU() for i in range(layers)]
    )


def residual_design(layers: int) -> Design:
    """Blocks of conv 3×3 (4 filters), ReLU and an add of the block's input, 32×32×4: a graph
    whose every block has a skip connection (the pipeline draws one per block)."""
    nodes: list[Node] = []
    previous = INPUT_ID
    for b in range(layers // 3):
        nodes.append(Node(f"conv{b}", Conv2D(filters=4, kernel=3, padding=1), (previous,)))
        nodes.append(Node(f"relu{b}", ReLU()))
        nodes.append(Node(f"add{b}", Add(), (f"relu{b}", previous)))
        previous = f"add{b}"
    return Design(InputSpec(32, 32, 4), nodes=nodes)


def dense_design(layers: int) -> Design:
    """A dense block of ``layers // 2`` convs (1×1, 4 filters, 8×8×3 input): each reads the
    concatenation of every conv before it, so the inputs grow with the square of the depth
    (1,000 convs: 500,000 references, a 4 MB file the loader accepts)."""
    nodes = [Node(f"conv{b}", Conv2D(filters=4, kernel=1), (INPUT_ID,)) for b in range(2)]
    outputs = ["conv0", "conv1"]
    for b in range(2, layers // 2 + 1):
        nodes.append(Node(f"cat{b}", Concat(), tuple(outputs)))
        nodes.append(Node(f"conv{b}", Conv2D(filters=4, kernel=1), (f"cat{b}",)))
        outputs.append(f"conv{b}")
    return Design(InputSpec(8, 8, 3), nodes=nodes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--no-viewer", action="store_true")
    parser.add_argument(
        "--residual",
        action="store_true",
        help="a graph of residual blocks (conv, ReLU, add of the block's input) instead of a chain",
    )
    parser.add_argument(
        "--dense",
        action="store_true",
        help="a dense block: each conv reads the concat of every conv before (try --layers 2000)",
    )
    parser.add_argument(
        "--costs",
        action="store_true",
        help="with the Costs tab in front instead of Explain (its chart follows every change)",
    )
    args = parser.parse_args()
    fresh_settings()
    app = create_app()
    if args.dense:
        design = dense_design(args.layers)
    elif args.residual:
        design = residual_design(args.layers)
    else:
        design = chain_design(args.layers)
    t0 = time.perf_counter()
    analyse(design)
    alone = time.perf_counter() - t0
    load = os.getloadavg()[0]
    shape = "dense block" if args.dense else "residual graph" if args.residual else "chain"
    if args.costs:
        shape += ", Costs tab in front"
    print(
        f"{len(design)} layers ({shape}); load average {load:.2f}; "
        f"analyse() alone {alone * 1e3:.0f} ms"
    )

    window = MainWindow()
    window.resize(1500, 1000)
    window.show()
    viewer = None
    if not args.no_viewer:
        from convdesigner.ui.viewer_dock import install_feature_maps

        viewer = install_feature_maps(window, lazy=False).panel
    if args.costs:
        window.learner.chart_dock.raise_()
    for _ in range(20):
        app.processEvents()
    gc.collect()
    idle, _ = longest_gap(app, lambda: None)
    doc = window.document
    convs = [node.id for node in design.nodes if isinstance(node.op, Conv2D)]

    def edit(node: str, step: int) -> None:
        if args.residual and not args.dense:
            # The add needs its input's channels: the kernel changes (its receptive field
            # reaches every node below), the channels do not: 5×5 or 7×7.
            doc.change(node, kernel=5 + 2 * (step % 2), padding=2 + step % 2)
        else:
            doc.change(node, filters=5 + step % 8)

    def settled() -> bool:
        # The table and the pipeline show the current design's numbers, the explain panel is
        # drawn (with its learner notes).
        return not any(
            getattr(owner, name, False)
            for owner, name in (
                (window, "updating"),
                (window, "following"),  # a click's parts, a frame apart
                (window.explain, "pending"),
                (window.learner, "pending"),  # the Costs tab's chart (--costs)
            )
        )

    def show(label: str, action: Callable[[], object], done: Callable[[], bool] = settled) -> None:
        gap, until = longest_gap(app, action, done)
        print(f"  {label:36s}{gap * 1e3:8.1f} ms   (shown after {until * 1e3:6.0f} ms)")

    print(f"  {'idle loop':36s}{idle * 1e3:8.1f} ms   longest gap")
    show("open the design", lambda: doc.load(design, None))
    show("one edit", lambda: edit(convs[0], 0))
    show("one edit in the middle", lambda: edit(convs[len(convs) // 2], 0))
    show("select another layer", lambda: doc.select(design.ids[min(50, len(design.ids) - 1)]))
    if viewer is not None:
        # The viewer's run goes on for seconds after the window has shown an edit. Edits 0.3 s
        # after the last was shown (cancelling the run) and a last one followed until its maps
        # are drawn: the stalls of the run on a dense block came 0.5-1.2 s after an edit.
        answered = [False]  # maps drawn, or the run refused (a block too large to keep)
        viewer.rendered.connect(lambda _result: answered.__setitem__(0, True))
        viewer.statusMessage.connect(lambda _text: answered.__setitem__(0, True))

        def maps_drawn() -> bool:
            return settled() and answered[0] and not viewer.busy

        def edit_and_count(step: int) -> None:
            answered[0] = False
            node = convs[0] if step % 2 == 0 else convs[len(convs) // 2]
            op = doc.design.node(node).op
            assert isinstance(op, Conv2D)
            # Always a change (an edit to the value it has would run nothing).
            if args.residual and not args.dense:
                kernel = 7 if op.kernel[0] == 5 else 5
                doc.change(node, kernel=kernel, padding=kernel // 2)
            else:
                doc.change(node, filters=op.filters + 1 if op.filters < 12 else 5)

        worst = until = 0.0
        for step in range(1, VIEWER_EDITS + 1):
            last = step == VIEWER_EDITS
            gap, until = longest_gap(
                app, functools.partial(edit_and_count, step), maps_drawn if last else settled
            )
            worst = max(worst, gap)
        label = f"{VIEWER_EDITS} edits beside the viewer's run"
        print(f"  {label:36s}{worst * 1e3:8.1f} ms   (last maps after {until * 1e3:6.0f} ms)")
    before = rss_mib()
    t0 = time.perf_counter()
    for i in range(args.steps):
        edit(convs[(i + 1) % len(convs)], i + 1)
    per_edit = (time.perf_counter() - t0) / args.steps
    for _ in range(5):
        app.processEvents()
    per_step = (rss_mib() - before) / args.steps
    print(
        f"  {args.steps} edits in a row: {per_edit * 1e3:.0f} ms each, {per_step:.2f} MiB per step"
    )
    stack = window.undo_stack
    show(f"undo {stack.count()} steps (History click)", lambda: stack.setIndex(0))
    show("redo them all", lambda: stack.setIndex(stack.count()))
    stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
