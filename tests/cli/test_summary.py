"""`convdesigner summary` run as a user runs it: a subprocess; stdout, stderr and exit status."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from convdesigner import cli
from convdesigner.core.fileformat import FORMAT_VERSION
from convdesigner.core.templates import template_path

QA = str(template_path("qa-example"))


def summary(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convdesigner", "summary", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        cwd=cwd,
        check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("convdesigner: error: ")
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in lines[0]


def test_table() -> None:
    result = summary(QA)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "Design: Q&A example" in out
    for shape in ("25×64×1", "25×64×100", "13×32×100", "13×32×150"):
        assert shape in out
    assert "375,150" in out
    assert "Total params: 380,150" in out
    assert "weights = " not in out


def test_explain() -> None:
    result = summary(QA, "--explain")
    assert result.returncode == 0, result.stderr
    assert "weights = kh × kw × C_in × filters = 7 × 7 × 1 × 100 = 4,900" in result.stdout
    assert "H_out = floor((25 + 3 + 3 - 1·(7-1) - 1) / 1) + 1 = 25" in result.stdout
    assert "5 × 5 × 100 × 150 = 375,000" in result.stdout


def test_csv() -> None:
    result = summary(QA, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["type"] for r in rows] == ["input", "conv2d", "maxpool2d", "conv2d"]
    assert [r["weights"] for r in rows] == ["0", "4900", "0", "375000"]
    assert [r["biases"] for r in rows] == ["0", "100", "0", "150"]


def test_json() -> None:
    result = summary(QA, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["totals"]["params"] == 380_150
    assert [r["output_channels"] for r in data["rows"]] == [1, 100, 100, 150]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_output_file_matches_stdout(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"summary.{fmt}"
    result = summary(QA, "--format", fmt, "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == summary(QA, "--format", fmt).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_design_with_an_impossible_layer_prints_the_table_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad-layer.json"
    path.write_text(
        json.dumps(
            {
                "input": {"height": 4, "width": 4, "channels": 1},
                "layers": [{"type": "conv2d", "kernel": 9}, {"type": "relu"}],
            }
        )
    )
    result = summary(str(path))
    # The table is printed (it shows where the design breaks); stderr and the status say so.
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"convdesigner: error: {path}: layer 0 (Conv2D): The kernel")
    assert "ERROR" in result.stdout
    assert "NOT COMPUTABLE" in result.stdout
    assert "kernel height 9" in result.stdout


def test_missing_file(tmp_path: Path) -> None:
    assert_clean_failure(summary(str(tmp_path / "nope.json")), "nope.json", "no such file")


def test_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "invalid.json"
    path.write_text(
        json.dumps(
            {
                "input": {"height": 8, "width": 8, "channels": 1},
                "layers": [{"type": "relu"}, {"type": "relu"}, {"type": "conv2d", "kernel": -3}],
            }
        )
    )
    assert_clean_failure(
        summary(str(path)),
        "layers[2].kernel: must be a positive integer or [h, w] pair, got -3",
    )


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"input": ')
    assert_clean_failure(summary(str(path)), "not valid JSON at line 1")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "image.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert_clean_failure(summary(str(path)), "not UTF-8")


def test_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"version": FORMAT_VERSION + 1, "input": {}}))
    assert_clean_failure(summary(str(path)), "newer convdesigner", "update")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    assert_clean_failure(summary(str(tmp_path)), "is a folder")


def test_unwritable_output(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "out.csv"
    assert_clean_failure(summary(QA, "--output", str(target)), "cannot write")


def test_explain_needs_the_table_format() -> None:
    assert_clean_failure(summary(QA, "--format", "csv", "--explain"), "--explain")


def test_bad_format_is_a_usage_error() -> None:
    result = summary(QA, "--format", "xml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "invalid choice" in result.stderr


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_closed_stdout_pipe_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Like `convdesigner summary big.json | head`: the reader has gone; no traceback, status 0.
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    status = cli.main(["summary", QA, "--explain"])
    sys.stdout.close()  # the devnull stand-in the command switched to
    assert status == 0
