"""The viewer's Qt-free side: its state, the part of a design that can run, one analysis per run."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from convdesigner.core import analysis as analysis_module
from convdesigner.core import viewer, weights
from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.cancel import CancelToken
from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.engine import forward
from convdesigner.core.engine.forward import run_design
from convdesigner.core.layers import Add, Conv2D, Dense, ReLU
from convdesigner.core.mosaic import Scale
from convdesigner.core.viewer import (
    RenderOptions,
    Request,
    SourceImage,
    ViewerState,
    compute,
    receptive_field_rect,
    runnable_part,
)
from tests.graph_designs import small_resnet


def _broken_branch() -> Design:
    """``b`` cannot work (a dense layer on a map); ``d`` depends on it, ``a`` and ``c`` do not."""
    return Design(
        InputSpec(8, 8, 4),
        nodes=(
            Node("a", Conv2D(filters=4, kernel=3, padding=1)),
            Node("b", Dense(units=3), ("input",)),
            Node("c", ReLU(), ("a",)),
            Node("d", Add(), ("b", "c")),
        ),
    )


def _source(h: int = 8, w: int = 8, c: int = 3) -> SourceImage:
    pixels = np.random.default_rng(0).random((h, w, c), dtype=np.float32)
    return SourceImage(pixels, "noise")


def test_viewer_state_checks_the_colormap_and_follows_edits() -> None:
    state = ViewerState("conv2", "diverging", Scale.SHARED)
    with pytest.raises(ValueError, match="unknown colormap 'jet'"):
        replace(state, colormap="jet")
    design = small_resnet()
    assert state.following(design) is state
    gone = design.remove(design.index_of("conv2"))
    assert state.following(gone) == ViewerState(None, "diverging", Scale.SHARED)
    options = RenderOptions.of(state, aspect=2.0, channel=3)
    assert (options.node, options.colormap, options.scale) == ("conv2", "diverging", Scale.SHARED)


def test_the_runnable_part_keeps_every_node_that_does_not_depend_on_an_error() -> None:
    design = _broken_branch()
    part, note = runnable_part(design)
    assert part.ids == ("a", "c")
    assert "'b' (Dense) has an error" in note
    assert "do not depend on it" in note
    assert analyse(part).ok
    resnet = small_resnet()
    whole, nothing = runnable_part(resnet)
    assert whole is resnet
    assert nothing == ""


def test_a_chain_with_an_error_runs_up_to_it() -> None:
    chain = Design(InputSpec(8, 8, 1), (Conv2D(filters=2), Dense(units=3), ReLU()))
    part, note = runnable_part(chain)
    assert part.ids == ("0",)
    assert note.startswith("Layer 1 (Dense) has an error")
    assert note.endswith("Feature maps are shown up to layer 0.")


def test_compute_shows_independent_nodes_of_a_design_with_an_error() -> None:
    design = _broken_branch()
    source = _source(c=4)
    ok = compute(Request(design, source, RenderOptions("c")), CancelToken())
    part, _ = runnable_part(design)
    image = source.network_input(4, 8, 8)
    expected = run_design(part, image)
    assert ok.activations.as_dict().keys() == {"input", "a", "c"}
    np.testing.assert_array_equal(ok.layer_array, expected[2])
    assert ok.note == ""
    blocked = compute(
        Request(design, source, RenderOptions("d"), cached=ok.activations), CancelToken()
    )
    assert blocked.layer_array is None
    assert "'b' (Dense)" in blocked.note
    assert blocked.activations is ok.activations  # reused, not run again


def test_one_analysis_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The viewer passes the window's analysis down to the engine and its default weights."""
    design = small_resnet(16)
    given = analyse(design)
    calls: list[Design] = []

    def counting(d: Design) -> Analysis:
        calls.append(d)
        return analysis_module.analyse(d)

    for module in (viewer, forward, weights):
        monkeypatch.setattr(module, "analyse", counting)
    request = Request(design, _source(16, 16), RenderOptions("add"), analysis=given)
    result = compute(request, CancelToken())
    assert calls == []
    assert result.analysis is given
    assert result.layer_array is not None
    assert result.layer_array.shape == (16, 8, 8)


def test_receptive_field_rectangle() -> None:
    design = small_resnet(16)
    a = analyse(design)
    spec = design.input
    assert receptive_field_rect(a.rows[0], 3, 4, spec) == (3, 4, 1, 1)
    stem = a.row("stem")  # 3×3, stride 2, pad 1
    assert receptive_field_rect(stem, 0, 0, spec) == (-1, -1, 3, 3)
    assert receptive_field_rect(stem, 2, 1, spec) == (3, 1, 3, 3)
    assert receptive_field_rect(a.row("fc"), 0, 0, spec) == (0, 0, 16, 16)  # everything
