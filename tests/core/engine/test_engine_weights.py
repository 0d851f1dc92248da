"""Default weights (seeded, per layer, classic filters) and the .npz format with its checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import convdesigner
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import run_design
from convdesigner.core.layers import BatchNorm2D, Conv2D, Dense, Flatten, ReLU
from convdesigner.core.weights import (
    LUMA,
    WeightsError,
    classic_bank,
    default_weights,
    expected_shapes,
    forget_default_weights,
    load_weights,
    save_weights,
    shared_default_weights,
)

DESIGN = Design(
    InputSpec(16, 16, 3),
    (
        Conv2D(filters=12, kernel=3, padding="same"),
        BatchNorm2D(),
        ReLU(),
        Conv2D(filters=8, kernel=(3, 5), groups=4, bias=False),
        Flatten(),
        Dense(units=10),
    ),
)


def test_keys_and_shapes_follow_torch_state_dict() -> None:
    w = default_weights(DESIGN)
    assert {k: v.shape for k, v in w.items()} == {
        "0.weight": (12, 3, 3, 3),
        "0.bias": (12,),
        "1.weight": (12,),
        "1.bias": (12,),
        "1.running_mean": (12,),
        "1.running_var": (12,),
        "1.num_batches_tracked": (),
        "3.weight": (8, 3, 3, 5),
        "5.weight": (10, 8 * 14 * 12),
        "5.bias": (10,),
    }
    assert expected_shapes(DESIGN)["3.weight"] == (8, 3, 3, 5)
    assert all(v.dtype == np.float32 for k, v in w.items() if "num_batches" not in k)


def test_defaults_are_seeded_and_per_layer() -> None:
    a, b = default_weights(DESIGN, 1), default_weights(DESIGN, 1)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = default_weights(DESIGN, 2)
    assert not np.array_equal(a["3.weight"], c["3.weight"])
    # Editing layer 3 does not reshuffle the random weights of layer 5 (or anything else).
    edited = DESIGN.replace_layer(3, Conv2D(filters=8, kernel=(3, 5), groups=2, bias=False))
    d = default_weights(edited, 1)
    np.testing.assert_array_equal(a["0.weight"], d["0.weight"])
    assert d["3.weight"].shape == (8, 6, 3, 5)


def test_large_layers_are_drawn_in_seeded_blocks_whatever_the_core_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A layer over BLOCK_VALUES weights draws block k from (seed, index, k), on all cores; the
    values are the same on one core or many. Smaller layers draw one stream (seed, index)."""
    from convdesigner.core import parallel
    from convdesigner.core import weights as weights_module

    monkeypatch.setattr(weights_module, "BLOCK_VALUES", 1000)
    design = Design(InputSpec(4, 4, 3), (Flatten(), Dense(units=100), Dense(units=5)))
    drawn = {}
    for workers in (1, 3):
        monkeypatch.setattr(parallel, "WORKERS", workers)
        forget_default_weights()
        drawn[workers] = default_weights(design, 3, classic_filters=False)
    np.testing.assert_array_equal(drawn[1]["1.weight"], drawn[3]["1.weight"])
    big = drawn[3]["1.weight"]  # 100 × 48 = 4800 values: blocks of 1000, 1000, ..., 800
    flat = big.ravel()
    scale = np.float32(math.sqrt(2.0 / 48))
    for k, start in enumerate(range(0, flat.size, 1000)):
        stream = np.random.default_rng([3, 1, k]).standard_normal(
            min(1000, flat.size - start), dtype=np.float32
        )
        np.testing.assert_array_equal(flat[start : start + 1000], stream * scale)
    small = drawn[3]["2.weight"]  # 5 × 100 = 500 values: one stream
    expected = np.random.default_rng([3, 2]).standard_normal((5, 100), dtype=np.float32)
    np.testing.assert_array_equal(small, expected * np.float32(math.sqrt(2.0 / 100)))
    forget_default_weights()  # the real block size for the tests after this one


def test_forgetting_the_cache_draws_the_same_weights_again() -> None:
    first = shared_default_weights(DESIGN, 7)
    assert shared_default_weights(DESIGN, 7)["0.weight"] is first["0.weight"]  # cached
    released = forget_default_weights()
    assert released >= first["0.weight"].nbytes + first["5.weight"].nbytes
    assert forget_default_weights() == 0
    again = shared_default_weights(DESIGN, 7)
    assert again["0.weight"] is not first["0.weight"]
    for key in first:
        np.testing.assert_array_equal(again[key], first[key])


def test_he_normal_scale_and_identity_batchnorm() -> None:
    design = Design(InputSpec(1, 1, 1), (Flatten(), Dense(units=400), Dense(units=300)))
    w = default_weights(design, 3)
    std = float(w["2.weight"].std())
    assert std == pytest.approx(math.sqrt(2 / 400), rel=0.03)
    assert float(np.abs(w["2.weight"].mean())) < 0.01
    assert not w["2.bias"].any()
    bn = default_weights(DESIGN)
    np.testing.assert_array_equal(bn["1.weight"], 1)
    np.testing.assert_array_equal(bn["1.running_var"], 1)
    assert not bn["1.running_mean"].any()
    assert not bn["1.bias"].any()


def test_classic_filters_fill_the_first_conv_on_rgb() -> None:
    w = default_weights(DESIGN)["0.weight"]
    bank = classic_bank(3, 3)
    for f, (_name, kernel) in enumerate(bank):
        np.testing.assert_allclose(w[f], LUMA[:, None, None] * kernel[None], rtol=1e-6)
    plain = default_weights(DESIGN, classic_filters=False)["0.weight"]
    assert not np.allclose(plain[0], w[0])
    # Only the first conv layer gets them; the rest of its filters stay random.
    assert not np.allclose(w[len(bank)], 0)


def test_classic_filters_see_what_they_should() -> None:
    """Identity reproduces the luma, blur keeps a flat image flat, Sobel x sees a ramp's slope."""
    design = Design(InputSpec(9, 9, 1), (Conv2D(filters=8, kernel=3),))
    ramp = np.tile(np.arange(9, dtype=np.float32), (9, 1))[None] / 8
    out = run_design(design, ramp)[1]
    np.testing.assert_allclose(out[0], ramp[0, 1:-1, 1:-1], rtol=1e-6)  # identity
    np.testing.assert_allclose(out[1], ramp[0, 1:-1, 1:-1], rtol=1e-5)  # blur of a linear ramp
    np.testing.assert_allclose(out[2], 2 / 8, rtol=1e-5)  # Sobel x: slope per pixel, unit gain
    np.testing.assert_allclose(out[3], 0, atol=1e-6)  # Sobel y: no vertical change
    np.testing.assert_allclose(out[4], 0, atol=1e-6)  # Laplacian of a plane


@pytest.mark.parametrize("kernel", [(5, 5), (7, 7), (3, 5), (1, 3)])
def test_classic_bank_for_other_sizes_is_sane(kernel: tuple[int, int]) -> None:
    bank = dict(classic_bank(*kernel))
    assert bank["identity"].sum() == 1
    assert bank["Gaussian blur"].sum() == pytest.approx(1)
    assert bank["Sobel x (vertical edges)"].sum() == pytest.approx(0, abs=1e-9)
    assert bank["Laplacian"].sum() == pytest.approx(0, abs=1e-9)
    assert all(k.shape == kernel for k in bank.values())


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    w = default_weights(DESIGN, 4)
    path = tmp_path / "w.npz"
    save_weights(w, path)
    back = load_weights(DESIGN, path)
    assert back.keys() == w.keys()
    for key in w:
        np.testing.assert_array_equal(back[key], w[key])
    via_package = convdesigner.load_weights(DESIGN, str(path))
    np.testing.assert_array_equal(via_package["5.weight"], w["5.weight"])


def test_num_batches_tracked_is_optional(tmp_path: Path) -> None:
    w = default_weights(DESIGN)
    del w["1.num_batches_tracked"]
    np.savez(tmp_path / "w.npz", **w)  # type: ignore[arg-type]
    assert load_weights(DESIGN, tmp_path / "w.npz")["1.num_batches_tracked"].shape == ()


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    w = default_weights(DESIGN)
    del w["0.bias"], w["5.bias"]
    w["3.weight"] = np.zeros((8, 3, 5, 3), np.float32)
    w["7.weight"] = np.zeros(3, np.float32)
    w["1.running_var"] = np.full(12, np.nan, np.float32)
    w["0.weight"] = w["0.weight"].astype(np.float64)  # other float types are accepted
    np.savez(tmp_path / "w.npz", **w)  # type: ignore[arg-type]
    with pytest.raises(WeightsError) as info:
        load_weights(DESIGN, tmp_path / "w.npz")
    text = str(info.value)
    assert str(tmp_path / "w.npz") in text
    assert "missing '0.bias', '5.bias'" in text
    assert "unexpected '7.weight'" in text
    assert "'3.weight' has shape (8, 3, 5, 3), expected (8, 3, 3, 5)" in text
    assert "'1.running_var' contains NaN" in text
    assert len(info.value.problems) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable .npz"),
        (b"not a zip file at all", "not a readable .npz"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        load_weights(DESIGN, path)


def test_pickles_npy_and_missing_files_are_refused(tmp_path: Path) -> None:
    w = dict(default_weights(DESIGN))
    w["0.weight"] = np.array([object()], dtype=object)
    np.savez(tmp_path / "pickled.npz", **w)  # type: ignore[arg-type]
    with pytest.raises(WeightsError, match="pickled objects"):
        load_weights(DESIGN, tmp_path / "pickled.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(WeightsError, match=r"not an \.npz archive"):
        load_weights(DESIGN, tmp_path / "single.npy")
    with pytest.raises(WeightsError, match="file not found"):
        load_weights(DESIGN, tmp_path / "nothing.npz")
    with pytest.raises(WeightsError, match="directory"):
        load_weights(DESIGN, tmp_path)


def test_design_with_an_error_has_no_weights() -> None:
    bad = Design(InputSpec(4, 4, 1), (Conv2D(filters=2, kernel=7),))
    with pytest.raises(ValueError, match="layer 0"):
        default_weights(bad)


def test_default_weights_answer_key_by_key_like_the_whole_table() -> None:
    from convdesigner.core.templates import load_template
    from convdesigner.core.weights import DefaultWeights, expected_shapes

    design = load_template("resnet18")
    table = expected_shapes(design)
    lazy = DefaultWeights(design, 2)
    for key, shape in table.items():
        assert key in lazy
        assert lazy[key].shape == shape
    for missing in ("conv1.running_var", "fc.gamma", "nowhere.weight", "input.weight", "fc"):
        assert missing not in lazy
        with pytest.raises(KeyError):
            lazy[missing]
    assert set(DefaultWeights(design, 2)) == set(table)
    assert len(DefaultWeights(design, 2)) == len(table)


def test_a_run_draws_its_default_weights_without_the_whole_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The table of every key is pure Python over every node: for a 10,000-node design it held
    # the interpreter for 15-20 ms at the start of each viewer run while the window repainted.
    from convdesigner.core import weights as weights_module

    design = Design(
        InputSpec(height=10, width=10, channels=3),
        (Conv2D(filters=4, kernel=3, padding="same"), BatchNorm2D(), ReLU()),
    )
    expected = run_design(design, np.ones((3, 10, 10), np.float32))

    def whole_table(*args: object, **kwargs: object) -> dict[str, tuple[int, ...]]:
        raise AssertionError("a run built the table of every key")

    monkeypatch.setattr(weights_module, "expected_shapes", whole_table)
    got = run_design(design, np.ones((3, 10, 10), np.float32))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
