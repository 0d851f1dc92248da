"""Malformed design files, weights files and images through the command line (issue 12): a
clear one-line error or an accepted file, never a traceback or a hang; the user's files are
left as they were and a refused run writes nothing.

The cases come from ``tests/fuzz_corpus.py`` (generated from a seed, nothing checked in); the
longer campaign, one process per case with a time limit, is ``python -m tests.fuzz_corpus``.
Here each case runs in-process through ``convdesigner.cli.main``, which is what the installed
command calls, so an exception escaping it is the traceback a user would see.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from convdesigner.cli import main
from tests import fuzz_corpus
from tests.fuzz_corpus import Case, Outcome

CASES_PER_KIND = 120
LONGEST = 60.0
"""Seconds a case may run before it counts as a hang (each takes well under one)."""

CASES = fuzz_corpus.corpus(seed=2026, count=CASES_PER_KIND)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the test if the block runs longer (POSIX only; elsewhere no
    limit). Nothing is timed with it: it turns a hang into a failure that names the case."""
    if sys.platform == "win32":
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> Outcome:
    capsys.readouterr()
    try:
        with time_limit(LONGEST):
            status = main(args)
    except Hang:
        return Outcome(None, "")
    # Anything else escaping main() fails the test with its traceback: what a user would see.
    return Outcome(status, capsys.readouterr().err)


@pytest.mark.parametrize(
    ("base", "case"),
    [pytest.param(base, case, id=f"{case.kind}{i}") for i, (base, case) in enumerate(CASES)],
)
def test_a_malformed_input_gets_a_clear_error_and_changes_nothing(
    base: str, case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args, inputs, out = fuzz_corpus.prepare(tmp_path, 0, base, case)
    before = fuzz_corpus.digest(inputs)
    outcome = _run(args, capsys)
    assert outcome.verdict in ("accepted", "clear error"), (case.label, outcome)
    assert fuzz_corpus.digest(inputs) == before, case.label
    if outcome.status != 0:
        assert not out.exists(), case.label  # a refused run leaves no half-written output
    if case.kind == "design" and outcome.status == 0:
        # An accepted design goes through the other reader too: the default weights.
        more = _run(["weights", args[-1], "--out", str(tmp_path / "w.npz")], capsys)
        assert more.verdict in ("accepted", "clear error"), (case.label, more)


def test_the_corpus_is_reproducible_and_varied() -> None:
    """A failure names its case by label and index: the same seed must give the same files."""
    kinds = [case.kind for _, case in CASES]
    assert all(kinds.count(kind) == CASES_PER_KIND for kind in fuzz_corpus.KINDS)
    for kind in fuzz_corpus.KINDS:  # no case repeats another of its kind
        files = [case.data for _, case in CASES if case.kind == kind]
        assert len(set(files)) == len(files)
    again = fuzz_corpus.corpus(seed=2026, count=CASES_PER_KIND)
    assert [case.data for _, case in again] == [case.data for _, case in CASES]  # reproducible
