"""The interpreter's switch interval is short while pure-Python background work runs, and comes
back when the last such work ends (the interval is process-wide)."""

from __future__ import annotations

import sys
import threading

from convdesigner.core.switching import PYTHON_SWITCH_INTERVAL, short_switch_interval


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
