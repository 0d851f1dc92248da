"""Issue 12, items 11 and 12: numbers too large to print, and user strings in messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import convdesigner
from convdesigner.core.analysis import RF_LIMIT
from convdesigner.core.fileformat import DesignFileError, load_design
from convdesigner.core.layers import Conv2D, ReLU
from convdesigner.core.validate import describe_value, printable


def test_a_thousand_strided_layers_print_everywhere() -> None:
    # Before: the jump became a 4,300-digit integer and summary died with "Exceeds the limit".
    layers = [Conv2D(1, 1, stride=16384, padding="same") for _ in range(1100)]
    design = convdesigner.Design(convdesigner.InputSpec(4, 4, 1), [*layers, ReLU()])
    analysis = convdesigner.analyse(design)
    assert analysis.ok
    tracked = [r for r in analysis.rows if r.receptive_field is not None]
    assert 1 < len(tracked) < len(analysis.rows)
    assert all(abs(v) <= RF_LIMIT for r in tracked for v in (*r.jump, *r.receptive_field))  # type: ignore[misc]
    assert "not tracked" in analysis.rows[-1].derivations["receptive_field"]
    text = convdesigner.to_text(analysis, explain=True)
    assert "ReLU" in text
    convdesigner.to_csv(analysis)
    json.dumps(convdesigner.to_dict(analysis))


def test_printable_escapes_control_characters_and_truncates() -> None:
    assert printable("a\x1b]0;title\x07b") == "a\\x1b]0;title\\x07b"
    assert printable("line\nbreak") == "line\\nbreak"
    assert printable("half \ud800 pair") == "half \\ud800 pair"
    assert printable("é, ü and 中文 stay") == "é, ü and 中文 stay"
    long = printable("k" * 1000, 60)
    assert len(long) == 60
    assert long.endswith("...")
    assert describe_value("\x1b[2J") == '"\\x1b[2J"'


def test_unknown_keys_are_escaped_and_cut_short_in_load_errors() -> None:
    key = "bad\x1b[2J\nkey" + "k" * 100_000
    data = {
        "input": {"height": 2, "width": 2, "channels": 1},
        "layers": [{"type": "relu", key: 1}],
        key: 2,
    }
    with pytest.raises(DesignFileError) as info:
        load_design(data)
    message = str(info.value)
    assert "\x1b" not in message
    assert "\n" not in message
    assert "\\x1b[2J\\nkey" in message
    assert len(message) < 1000


def test_cli_error_line_carries_no_escape_sequence(tmp_path: Path) -> None:
    path = tmp_path / "evil.json"
    path.write_text(
        json.dumps(
            {
                "input": {"height": 2, "width": 2, "channels": 1},
                "layers": [{"type": "relu\x1b]0;pwned\x07"}],
            }
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "convdesigner", "summary", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert "\x1b" not in run.stderr
    assert "\x07" not in run.stderr
