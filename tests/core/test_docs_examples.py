"""The Python API example in docs/python-api.md runs and prints what its comments say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_python_api_example_runs_and_prints_its_comments(tmp_path: Path) -> None:
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    code = match.group(1)
    # Output is shown as "# " lines right after the print (or the loop) that produces it.
    expected: list[str] = []
    in_output = False
    for line in code.splitlines():
        if line.startswith("# ") and in_output:
            expected.append(line[2:])
        else:
            in_output = "print(" in line
    assert len(expected) >= 6
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected
    assert (tmp_path / "bigger.json").is_file()


def test_python_api_example_type_checks(tmp_path: Path) -> None:
    # Written as people write layers (kernel=7, padding="same"), the example must pass
    # mypy --strict too: a script that checks its types gets no error for the documented calls.
    pytest.importorskip("mypy")
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    script = tmp_path / "example.py"
    script.write_text(match.group(1), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(script),
        ],
        cwd=DOCS.parent,  # finds the package by its source, editable install or not
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_formulas_worked_examples_match_the_analysis() -> None:
    from convdesigner import analyse
    from convdesigner.core.templates import load_template

    text = (DOCS / "formulas.md").read_text(encoding="utf-8")
    analysis = analyse(load_template("qa-example"))
    conv1 = analysis.rows[1]
    assert conv1.derivations["output_height"].splitlines()[-1].removeprefix("check: ") in text
    for template, params, macs in (
        ("alexnet", "61,100,840", "714,188,480"),
        ("vgg16", "138,357,544", "15,470,264,320"),
        ("mobilenet-v1", "4,231,976 / 21,888", "568,740,352"),
        ("resnet18", "11,689,512 / 9,600", "1,814,073,344"),
        ("resnet50", "25,557,032 / 53,120", "4,089,184,256"),
        ("googlenet", "6,624,904 / 14,560", "1,498,376,192"),
        ("mobilenet-v2", "3,504,872 / 34,112", "300,774,272"),
        ("densenet121", "7,978,856 / 83,648", "2,834,161,664"),
    ):
        totals = analyse(load_template(template)).totals
        assert f"{totals.macs:,}" == macs
        counted = f"{totals.trainable:,}"
        if totals.non_trainable:
            counted += f" / {totals.non_trainable:,}"
        assert counted == params
        assert params in text
        assert macs in text


def test_formulas_new_op_examples_match_the_analysis() -> None:
    from convdesigner import Node, analyse
    from convdesigner.core.design import Design, InputSpec
    from convdesigner.core.layers import Add, Conv2D, ConvTranspose2D, MaxPool2D

    # Compared with the text's line breaks as spaces (a sentence may wrap anywhere).
    text = " ".join((DOCS / "formulas.md").read_text(encoding="utf-8").split())
    up = Design(
        InputSpec(7, 7, 64), [ConvTranspose2D(32, 3, stride=2, padding=1, output_padding=1)]
    )
    row = analyse(up).rows[1]
    assert " ".join(row.derivations["output_height"].splitlines()[-1].split()) in text
    assert f"= {row.weights:,}` weights and {row.biases} biases" in text
    assert f"= {row.macs:,}`" in text
    pool = Design(InputSpec(2, 2, 3), [MaxPool2D(kernel=3, stride=2, ceil_mode=True)])
    lines = analyse(pool).rows[1].derivations["output_height"].splitlines()
    assert " ".join(lines[1].split()) in text
    assert lines[2].split(", so it")[0] in text
    merge = Design(
        InputSpec(16, 16, 1),
        nodes=[
            Node("small", Conv2D(2, 3, padding=1)),
            Node("large", Conv2D(2, 7, padding=3), ("input",)),
            Node("sum", Add(), ("small", "large")),
        ],
    )
    assert analyse(merge).row("sum").derivations["receptive_field"].splitlines()[0] in text


def test_every_python_example_in_the_api_docs_runs(tmp_path: Path) -> None:
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2  # the tour and the graph builder
    for code in blocks:
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
