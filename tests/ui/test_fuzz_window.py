"""The fuzz corpus of issue 12 through the window, as a user meets it: File → Open of malformed
design files and drops of malformed pictures onto the viewer.

The command line's contract (``tests/core/test_fuzz_corpus.py``) has a counterpart here: a file
is taken or refused with one message; no exception escapes a slot (pytest-qt fails the test on
one); the file on disk is left as it was; and a refusal leaves the design, its undo history and
the shown image as they were. A taken design is painted whole (table, pipeline, Explain), where a
number that cannot be formatted would raise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from convdesigner.core.fileformat import DesignFileError, load_design
from convdesigner.ui.main_window import MainWindow
from convdesigner.ui.viewer_dock import FeatureMapsController, Fit, install_feature_maps
from tests import fuzz_corpus
from tests.fuzz_corpus import Case

CASES_PER_KIND = 40
CASES = fuzz_corpus.corpus(seed=2027, count=CASES_PER_KIND)
DESIGNS = [case for _, case in CASES if case.kind == "design"]
IMAGES = [case for _, case in CASES if case.kind == "image"]


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts of the warnings shown (the window's refusal of a file is one)."""
    shown: list[str] = []

    def warn(*args: object, **_kwargs: object) -> QMessageBox.StandardButton:
        shown.append(str(args[2]))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warn)
    return shown


@pytest.mark.parametrize("case", DESIGNS, ids=[f"design{i}" for i in range(len(DESIGNS))])
def test_a_malformed_design_file_is_opened_or_refused_with_one_message(
    case: Case, window: MainWindow, qtbot: QtBot, tmp_path: Path, warnings: list[str]
) -> None:
    path = tmp_path / f"case{case.suffix}"
    path.write_bytes(case.data)
    try:
        expected = load_design(path)
    except DesignFileError:
        expected = None
    before, steps = window.design, window.undo_stack.count()
    window.open_design(str(path))
    qtbot.waitUntil(lambda: not window.files.reading and not window.updating, timeout=20000)
    assert path.read_bytes() == case.data, case.label
    if expected is None:
        assert len(warnings) == 1, (case.label, warnings)
        assert path.name in warnings[0]
        assert window.design is before
        assert window.undo_stack.count() == steps
        return
    assert warnings == [], case.label
    assert window.design == expected, case.label
    nodes = window.design.nodes
    if nodes:
        window.select_node(nodes[-1].id)
    for view in (window.table, window.pipeline, window.explain):
        assert not view.grab().isNull()


@pytest.fixture
def viewer(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FeatureMapsController]:
    controller = install_feature_maps(window, lazy=False)
    monkeypatch.setattr(controller, "choose_fit", lambda _name, _size: Fit.RESIZE)
    panel = controller.panel
    qtbot.waitUntil(lambda: panel.render_count >= 1 and not panel.busy, timeout=30000)
    yield controller
    controller.shutdown()


@pytest.mark.parametrize("case", IMAGES, ids=[f"image{i}" for i in range(len(IMAGES))])
def test_a_malformed_picture_is_shown_or_refused_keeping_the_current_one(
    case: Case, window: MainWindow, viewer: FeatureMapsController, qtbot: QtBot, tmp_path: Path
) -> None:
    panel = viewer.panel
    path = tmp_path / f"picture{case.suffix}"
    path.write_bytes(case.data)
    source, shown, design = panel.source, panel.mosaic_item.image.copy(), window.design
    renders = panel.render_count
    window.imageFileDropped.emit(str(path))
    qtbot.waitUntil(lambda: not viewer.reading, timeout=20000)
    assert path.read_bytes() == case.data, case.label
    assert window.design == design  # resized to the input, never a change of the design
    if panel.source is source:  # refused: said so, and the picture and its maps stay
        assert panel.banner.isVisible(), case.label
        assert "The current image is kept" in panel.banner.text()
        np.testing.assert_array_equal(panel.mosaic_item.image, shown)
        return
    assert panel.source is not None
    assert panel.source.name == path.name
    qtbot.waitUntil(lambda: panel.render_count > renders and not panel.busy, timeout=30000)
    assert panel.result is not None
    assert np.isfinite(panel.result.activations.arrays[0]).all(), case.label
