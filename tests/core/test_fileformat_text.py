"""Names and strings the loader must refuse with a located DesignFileError: control characters,
half surrogate pairs, keys given twice (issue 12, items 9, 10 and 15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convdesigner.core.fileformat import (
    DesignFileError,
    design_from_dict,
    dumps_design,
    load_design,
    save_design,
)


def _doc(**top: object) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "ok",
        "input": {"height": 8, "width": 8, "channels": 1},
        "layers": [{"type": "conv2d", "filters": 2, "kernel": 3}],
    }
    doc.update(top)
    return doc


CONTROLS = {"TAB": "\t", "LF": "\n", "CR": "\r", "ESC": "\x1b", "NUL": "\x00", "DEL": "\x7f"}


@pytest.mark.parametrize("char", CONTROLS.values(), ids=CONTROLS.keys())
def test_a_control_character_in_the_design_name_is_a_located_file_error(
    char: str, tmp_path: Path
) -> None:
    with pytest.raises(DesignFileError) as info:
        design_from_dict(_doc(name=f"my{char}net"))
    assert info.value.problems == [
        "name: must be one line of text (no line breaks, tabs or control characters)"
    ]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(_doc(name=f"my{char}net")), encoding="utf-8")
    with pytest.raises(DesignFileError, match=r"d\.json: name: must be one line"):
        load_design(path)


def _write_raw(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.json"
    path.write_text(text, encoding="ascii")
    return path


SURROGATE = "contains U+D800 at character 3, half of a UTF-16 surrogate pair"


@pytest.mark.parametrize(
    ("spot", "where"),
    [
        ('"name": "ab\\ud800"', "name"),
        ('"name": "n", "description": "ab\\ud800"', "description"),
    ],
)
def test_a_lone_surrogate_is_refused_where_it_is(tmp_path: Path, spot: str, where: str) -> None:
    text = "{" + spot + ', "input": {"height": 8, "width": 8, "channels": 1}}'
    with pytest.raises(DesignFileError) as info:
        load_design(_write_raw(tmp_path, text))
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(f"{where}: {SURROGATE}")


def test_a_lone_surrogate_in_a_layer_name_or_a_key_is_located(tmp_path: Path) -> None:
    text = (
        '{"input": {"height": 8, "width": 8, "channels": 1}, "layers": ['
        '{"type": "relu"}, {"type": "relu", "name": "ab\\udc00"}, {"type": "relu", "x\\ud800": 1}'
        "]}"
    )
    with pytest.raises(DesignFileError) as info:
        load_design(_write_raw(tmp_path, text))
    problems = info.value.problems
    assert problems[0].startswith("layers[1].name: contains U+DC00 at character 3")
    assert problems[1].startswith(
        "layers[2].x\\ud800: the field name contains U+D800 at character 2"
    )


def test_a_valid_surrogate_pair_is_one_character_and_loads(tmp_path: Path) -> None:
    text = '{"name": "net \\ud83d\\ude00", "input": {"height": 8, "width": 8, "channels": 1}}'
    path = _write_raw(tmp_path, text)
    assert load_design(path).name == "net \N{GRINNING FACE}"
    save_design(load_design(path), path)
    assert load_design(path).name == "net \N{GRINNING FACE}"


def test_keys_given_twice_are_refused_with_their_location(tmp_path: Path) -> None:
    text = (
        '{"name": "a", "name": "b", "input": {"height": 8, "width": 8, "channels": 1},'
        ' "layers": [{"type": "conv2d", "kernel": 3, "filters": 2, "kernel": 5}]}'
    )
    with pytest.raises(DesignFileError) as info:
        load_design(_write_raw(tmp_path, text))
    assert info.value.problems == [
        "name: given more than once (which value is meant?)",
        "layers[0].kernel: given more than once (which value is meant?)",
    ]


@settings(max_examples=300, deadline=None)
@given(name=st.text(st.characters(codec=None, categories=None), max_size=12))
def test_every_name_the_loader_accepts_can_be_saved_and_read_back(name: str) -> None:
    problems: list[str] = []
    try:
        design = design_from_dict(_doc(name=name))
    except DesignFileError as exc:
        problems = exc.problems
    if problems:
        assert all(problem.startswith("name: ") for problem in problems)
        return
    text = dumps_design(design)
    text.encode("utf-8")  # saving writes UTF-8: must not raise
    assert design_from_dict(json.loads(text)) == design
