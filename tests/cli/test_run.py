"""`convdesigner run` and `convdesigner weights` as subprocesses: files written, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convdesigner.core.fileformat import load_design
from convdesigner.core.templates import template_path
from convdesigner.core.weights import default_weights, save_weights

QA = str(template_path("qa-example"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convdesigner", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("convdesigner")
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in lines[0]


@pytest.fixture
def grey_png(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "in.png"
    Image.fromarray(rng.integers(0, 256, (25, 64), dtype=np.uint8)).save(path)
    return path


def test_run_writes_every_layer(tmp_path: Path, grey_png: Path) -> None:
    out = tmp_path / "act.npz"
    result = cli("run", QA, "--input", str(grey_png), "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    with np.load(out) as data:
        assert sorted(data.files) == ["0", "1", "2", "input"]
        assert data["input"].shape == (1, 25, 64)
        assert data["0"].shape == (100, 25, 64)
        assert data["1"].shape == (100, 13, 32)
        assert data["2"].shape == (150, 13, 32)
        assert all(data[k].dtype == np.float32 for k in data.files)
        np.testing.assert_allclose(
            data["input"][0], np.asarray(Image.open(grey_png)) / 255, rtol=1e-6
        )
        # The first filter of the first layer is the classic identity: it reproduces the input.
        np.testing.assert_allclose(data["0"][0], data["input"][0], rtol=1e-6)


def test_run_with_resize_and_weights(tmp_path: Path) -> None:
    rgb = tmp_path / "big.jpg"
    Image.fromarray(np.full((50, 128, 3), 128, np.uint8)).save(rgb)
    weights = tmp_path / "w.npz"
    result = cli("weights", QA, "--seed", "7", "--out", str(weights))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "act.npz"
    result = cli("run", QA, "-i", str(rgb), "--resize", "--weights", str(weights), "-o", str(out))
    assert result.returncode == 0, result.stderr
    design = load_design(QA)
    expected = default_weights(design, 7)
    with np.load(weights) as w:
        assert sorted(w.files) == sorted(expected)
        np.testing.assert_array_equal(w["2.weight"], expected["2.weight"])
    with np.load(out) as data:
        assert data["input"].shape == (1, 25, 64)
        np.testing.assert_allclose(data["input"], 128 / 255, atol=2 / 255)


def test_weights_random_only(tmp_path: Path) -> None:
    out = tmp_path / "w.npz"
    assert cli("weights", QA, "--random-only", "--out", str(out)).returncode == 0
    design = load_design(QA)
    with np.load(out) as w:
        np.testing.assert_array_equal(
            w["0.weight"], default_weights(design, classic_filters=False)["0.weight"]
        )


def test_run_errors(tmp_path: Path, grey_png: Path) -> None:
    out = str(tmp_path / "a.npz")
    assert_clean_failure(
        cli("run", QA, "--input", str(tmp_path / "none.png"), "--out", out), "file not found"
    )
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(small)
    assert_clean_failure(cli("run", QA, "--input", str(small), "--out", out), "10×10", "--resize")
    bad_weights = tmp_path / "w.npz"
    save_weights({"0.weight": np.zeros((1, 1, 1, 1), np.float32)}, bad_weights)
    assert_clean_failure(
        cli("run", QA, "--input", str(grey_png), "--weights", str(bad_weights), "--out", out),
        "missing '0.bias'",
        "expected (100, 1, 7, 7)",
    )
    broken = tmp_path / "broken.json"
    spec = json.loads(Path(QA).read_text(encoding="utf-8"))
    spec["layers"][2].update(kernel=40, padding="valid")
    broken.write_text(json.dumps(spec), encoding="utf-8")
    assert_clean_failure(cli("run", str(broken), "--input", str(grey_png), "--out", out), "layer 2")
    assert_clean_failure(
        cli("run", QA, "--input", str(grey_png), "--out", str(tmp_path / "no" / "a.npz")),
        "cannot write",
    )
    assert_clean_failure(cli("run", QA, "--input", str(grey_png)), "--out")
    assert_clean_failure(
        cli("run", QA, "--input", str(grey_png), "--seed", "x", "--out", out), "integer"
    )
    huge = tmp_path / "huge.json"
    spec["layers"][2].update(kernel=5, padding="same")
    spec["input"] = {"height": 8192, "width": 8192, "channels": 1}
    huge.write_text(json.dumps(spec), encoding="utf-8")
    assert_clean_failure(
        cli("run", str(huge), "--input", str(grey_png), "--out", out), "GiB", "more than the limit"
    )
    assert not Path(out).exists()


def test_weights_errors(tmp_path: Path) -> None:
    assert_clean_failure(
        cli("weights", str(tmp_path / "none.json"), "--out", str(tmp_path / "w.npz"))
    )
    assert_clean_failure(cli("weights", QA, "--out", str(tmp_path)), "directory")
    assert_clean_failure(
        cli("weights", QA, "--seed", "-1", "--out", str(tmp_path / "w.npz")), "between 0"
    )


def test_overflowing_weights_print_no_numpy_warning(tmp_path: Path) -> None:
    # Issue 12 item 15: NumPy's RuntimeWarnings (overflow) leaked to stderr.
    design = tmp_path / "d.json"
    design.write_text(
        '{"input": {"height": 8, "width": 8, "channels": 1}, "layers": ['
        '{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "conv2d", "filters": 2, '
        '"kernel": 3}, {"type": "avgpool2d", "kernel": 2}]}',
        encoding="utf-8",
    )
    weights = {
        "0.weight": np.full((2, 1, 3, 3), 1e30, np.float32),
        "0.bias": np.zeros(2, np.float32),
        "1.weight": np.full((2, 2, 3, 3), -1e30, np.float32),
        "1.bias": np.zeros(2, np.float32),
    }
    np.savez(tmp_path / "w.npz", **weights)  # type: ignore[arg-type]
    image = tmp_path / "x.npy"
    np.save(image, np.full((1, 8, 8), 1e30, np.float32))
    run = subprocess.run(
        [sys.executable, "-W", "default", "-m", "convdesigner", "run", str(design), "--input",
         str(image), "--weights", str(tmp_path / "w.npz"), "--out", str(tmp_path / "a.npz")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    with np.load(tmp_path / "a.npz") as data:
        assert not np.isfinite(data["2"]).all()


def _with_an_old_header(array: np.ndarray) -> bytes:
    """``array`` as .npy bytes whose header only NumPy's Python 2 parser reads: the padding
    after the dictionary starts a new, indented line (Python's parser calls that an unexpected
    indent). NumPy then warns, advising to save the file again; the data is untouched."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    data = bytearray(buffer.getvalue())
    end = 10 + int.from_bytes(data[8:10], "little") - 1  # the header's final newline
    brace = data.index(b"}")
    data[brace + 1 : brace + 2] = b"\n"
    data[end : end + 1] = b" "
    return bytes(data)


def test_arrays_with_old_headers_load_without_numpy_advice_on_stderr(tmp_path: Path) -> None:
    # Issue 12 item 15, found by the fuzz corpus: the advice came out as four lines of warning
    # and source code beside an accepted run.
    image = tmp_path / "x.npy"
    image.write_bytes(_with_an_old_header(np.full((25, 64), 0.5, np.float32)))
    with pytest.warns(UserWarning, match="additional header parsing"):
        np.load(image)  # the file does make NumPy warn
    weights = {k: np.asarray(v) for k, v in default_weights(load_design(QA)).items()}
    members = {f"{key}.npy": _with_an_old_header(value) for key, value in weights.items()}
    import zipfile

    with zipfile.ZipFile(tmp_path / "w.npz", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    run = cli("run", QA, "--input", str(image), "--weights", str(tmp_path / "w.npz"),
              "--out", str(tmp_path / "a.npz"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    with np.load(tmp_path / "a.npz") as data:
        np.testing.assert_array_equal(data["input"], np.full((1, 25, 64), 0.5, np.float32))
