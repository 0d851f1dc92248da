"""Random edit sequences through the document (issue 12's soak, short): after any sequence,
undoing everything gives the start back, redoing everything the end, and every design on the
way saves and loads back unchanged and analyses without raising. The long run is
benchmarks/bench_soak.py."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.fileformat import design_from_dict, design_to_dict
from convdesigner.core.templates import load_template
from tests.core.edit_driver import random_edit
from tests.graph_designs import residual_block

STARTS = {
    "qa-example": load_template("qa-example"),
    "lenet5": load_template("lenet5"),
    "residual": residual_block(),
    "empty": Design(),
}


def _check_design(doc: Document) -> None:
    design = doc.design
    assert design_from_dict(design_to_dict(design)) == design
    assert len(doc.analysis.rows) == len(design) + 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rng=st.randoms(use_true_random=False),
    length=st.integers(1, 60),
    start=st.sampled_from(sorted(STARTS)),
)
def test_random_edits_keep_undo_redo_and_files_exact(
    rng: random.Random, length: int, start: str
) -> None:
    initial = STARTS[start]
    doc = Document(initial)
    for _ in range(length):
        random_edit(doc, rng)
        _check_design(doc)
    current, index = doc.design, doc.history.index
    doc.go_to(len(doc.history))
    top = doc.design
    doc.go_to(index)
    assert doc.design == current

    while doc.undo():
        _check_design(doc)
    assert doc.design == initial
    assert doc.is_clean
    while doc.redo():
        pass
    assert doc.design == top
    doc.go_to(0)
    assert doc.design == initial
    doc.go_to(index)
    assert doc.design == current


def test_the_driver_reaches_every_kind_of_edit() -> None:
    """The fuzz test is only as good as the edits it makes: each kind happens, accepted."""
    rng = random.Random(7)
    doc = Document(STARTS["lenet5"])
    made: set[str] = set()
    for _ in range(3000):
        made.add(random_edit(doc, rng))
    from tests.core.edit_driver import KINDS

    assert set(KINDS) <= made
