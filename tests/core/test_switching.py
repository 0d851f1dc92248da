"""The interpreter's switch interval is short while pure-Python background work runs, and comes
back when the last such work ends (the interval is process-wide); long loops reach checkpoints
where their worker may pause them."""

from __future__ import annotations

import sys
import threading

from convdesigner.core.analysis import (
    CHECKPOINT_WORK,
    INPUTS_PER_NODE_COST,
    analyse,
    analysis_cost,
)
from convdesigner.core.design import REFS_PER_CHECKPOINT, Design, InputSpec
from convdesigner.core.layers import ReLU
from convdesigner.core.switching import (
    PYTHON_SWITCH_INTERVAL,
    checkpoint,
    checkpoints,
    short_switch_interval,
)
from tests.graph_designs import dense_block


def test_short_while_any_block_runs_and_restored_after() -> None:
    default = sys.getswitchinterval()
    assert default > PYTHON_SWITCH_INTERVAL  # CPython's 5 ms
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        with short_switch_interval():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    with short_switch_interval():
        assert sys.getswitchinterval() == PYTHON_SWITCH_INTERVAL
        thread.start()
        assert inside.wait(5)
    assert sys.getswitchinterval() == PYTHON_SWITCH_INTERVAL  # the other block still runs
    leave.set()
    thread.join(5)
    assert sys.getswitchinterval() == default


def test_a_long_analysis_reaches_a_checkpoint_every_256_nodes() -> None:
    """So a worker can pause it while the window refreshes (the worker installs the hook)."""
    design = Design(InputSpec(8, 8, 3), layers=[ReLU()] * 1000)
    calls: list[int] = []
    with checkpoints(lambda: calls.append(1)):
        analyse(design)
    assert len(calls) == 4  # before nodes 0, 256, 512 and 768
    calls.clear()
    analyse(design)  # no hook outside the block, and none on other threads
    assert calls == []


def test_wide_merges_bring_the_checkpoints_closer() -> None:
    """256 concats of a dense block read 100,000 inputs: 90 ms without a checkpoint, which the
    window waited out while it repainted. Checkpoints come by the work done, not the nodes."""
    design = dense_block(300)
    assert len(design) == 598
    cost = analysis_cost(design)
    refs = sum(len(n.inputs or ()) for n in design.nodes)
    assert cost == 598 + refs // INPUTS_PER_NODE_COST
    calls: list[int] = []
    with checkpoints(lambda: calls.append(1)):
        analyse(design)
    assert len(calls) >= cost // CHECKPOINT_WORK >= 10  # not 3, one per 256 nodes
    assert analysis_cost(design, at_least=500) == 598  # a threshold check stops counting


def test_listing_the_readers_of_a_dense_block_reaches_checkpoints() -> None:
    """A dense block of 2,000 convs has 2 million references: listing who reads each node
    (``Design.consumers``, needed by every analysis of a new design) took 0.3 s on a worker
    without a checkpoint, while the window repainted beside it."""
    design = dense_block(500)
    refs = sum(len(n.inputs or ()) for n in design.nodes)
    calls: list[int] = []
    with checkpoints(lambda: calls.append(1)):
        readers = design.consumers
    # one per REFS_PER_CHECKPOINT references, give or take a node's (at most 500)
    assert refs // (REFS_PER_CHECKPOINT + 500) <= len(calls) <= refs // REFS_PER_CHECKPOINT
    assert len(calls) >= 5
    assert readers["c0"] == tuple(f"cat{b}" for b in range(2, 500))  # the same answer


def test_checkpoint_hooks_belong_to_their_thread() -> None:
    seen: list[str] = []
    with checkpoints(lambda: seen.append("main")):
        thread = threading.Thread(target=checkpoint)
        thread.start()
        thread.join()
        checkpoint()
    assert seen == ["main"]
