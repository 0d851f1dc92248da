"""The commands with awkward paths (issue 12): an output that is one of the inputs is refused
(item 2), "-" and /dev/stdout are standard output, devices stay devices (item 3), FIFOs and
bad names give one line and exit 2 instead of hanging or a traceback (items 4, 9)."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convdesigner.core.templates import template_path
from tests.special_files import device_node, guarded_fifo


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "convdesigner", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[bytes], *phrases: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert result.stdout == b""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("convdesigner: error: ")
    for phrase in phrases:
        assert phrase in lines[0]


@pytest.fixture
def design(tmp_path: Path) -> Path:
    path = tmp_path / "d.json"
    shutil.copyfile(template_path("qa-example"), path)
    return path


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "in.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (25, 64), dtype=np.uint8)).save(path)
    return path


def _unchanged(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before, f"{path.name} was overwritten"


# ------------------------------------------------------------------------------ item 2


def test_summary_refuses_to_write_over_its_design(design: Path) -> None:
    before = design.read_bytes()
    result = cli("summary", str(design), "--format", "csv", "--output", str(design))
    assert_one_line_failure(result, f"the output {design} is the design file", "choose another")
    _unchanged(design, before)


def test_weights_refuses_to_write_over_its_design_even_through_a_link(
    design: Path, tmp_path: Path
) -> None:
    before = design.read_bytes()
    os.link(design, tmp_path / "hard.json")
    for out in (str(design), str(tmp_path / "hard.json")):
        assert_one_line_failure(cli("weights", str(design), "--out", out), "is the design file")
    _unchanged(design, before)


def test_run_refuses_to_write_over_any_of_its_inputs(
    design: Path, image: Path, tmp_path: Path
) -> None:
    weights = tmp_path / "w.npz"
    assert cli("weights", str(design), "--out", str(weights)).returncode == 0
    saved = {path: path.read_bytes() for path in (design, image, weights)}
    (tmp_path / "link.png").symlink_to(image)
    cases = {
        str(design): "is the design file",
        str(image): "is the input file",
        str(tmp_path / "link.png"): "is the input file",
        str(weights): "is the weights file",
    }
    for out, phrase in cases.items():
        result = cli(
            "run", str(design), "--input", str(image), "--weights", str(weights), "--out", out
        )
        assert_one_line_failure(result, phrase)
    for path, content in saved.items():
        _unchanged(path, content)


def test_summary_refuses_standard_output_appended_to_its_design(design: Path) -> None:
    if not os.path.exists("/dev/stdout"):
        pytest.skip("no /dev/stdout here")
    before = design.read_bytes()
    with design.open("ab") as stdout:  # convdesigner summary d.json >> d.json
        result = subprocess.run(
            [sys.executable, "-m", "convdesigner", "summary", str(design)],
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    assert result.returncode == 2
    assert f"standard output is the design file ({design})".encode() in result.stderr
    _unchanged(design, before)


# ------------------------------------------------------------------------------ item 3


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_summary_writes_to_standard_output(design: Path, target: str) -> None:
    result = cli("summary", str(design), "--format", "csv", "--output", target)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode("utf-8").startswith("index,")
    assert not Path("-").exists()


@pytest.mark.parametrize("target", ["-", "/dev/stdout"])
def test_weights_and_run_write_npz_to_standard_output(
    design: Path, image: Path, target: str
) -> None:
    weights = cli("weights", str(design), "--out", target)
    assert weights.returncode == 0, weights.stderr
    with np.load(io.BytesIO(weights.stdout)) as data:
        assert "0.weight" in data.files
    run = cli("run", str(design), "--input", str(image), "--out", target)
    assert run.returncode == 0, run.stderr
    with np.load(io.BytesIO(run.stdout)) as data:
        assert data["input"].shape == (1, 25, 64)


def test_a_device_output_stays_a_device(design: Path, tmp_path: Path) -> None:
    node = device_node(tmp_path / "null")
    assert cli("summary", str(design), "--output", str(node)).returncode == 0
    assert cli("weights", str(design), "--out", str(node)).returncode == 0
    assert stat.S_ISCHR(os.stat(node).st_mode)


# ------------------------------------------------------------------------------ items 4, 9


def test_a_fifo_as_design_weights_or_image_is_one_line(
    design: Path, image: Path, tmp_path: Path
) -> None:
    with guarded_fifo(tmp_path / "pipe.json") as fifo:
        pipe = str(fifo.path)
        assert_one_line_failure(cli("summary", pipe), "is a named pipe (FIFO), not a design file")
        result = cli("run", str(design), "--input", str(image), "--weights", pipe, "--out", "-")
        assert_one_line_failure(result, "is a named pipe (FIFO), not a weights file")
        result = cli("run", str(design), "--input", pipe, "--out", "-")
        assert_one_line_failure(result, "is a named pipe (FIFO), not an image")
        assert not fifo.rescued


def test_a_control_character_in_the_name_is_one_line(tmp_path: Path) -> None:
    doc = json.loads(template_path("qa-example").read_text(encoding="utf-8"))
    doc["name"] = "tab\there"
    path = tmp_path / "tab.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert_one_line_failure(cli("summary", str(path)), "name: must be one line of text")
