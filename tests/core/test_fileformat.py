"""The design file format: round trips, located errors, versions, bad files, atomic saving."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from convdesigner.core import fileformat
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.fileformat import (
    FORMAT_NAME,
    FORMAT_VERSION,
    DesignFileError,
    design_from_dict,
    design_to_dict,
    dumps_design,
    load_design,
    save_design,
)
from convdesigner.core.layers import AvgPool2D, BatchNorm2D, Conv2D, Dense, MaxPool2D, ReLU
from convdesigner.core.templates import list_templates, load_template
from tests.core.design_strategies import designs, graph_designs


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": "t",
        "input": {"height": 8, "width": 8, "channels": 3},
        "layers": [],
    }
    data.update(changes)
    return data


def problems_of(data: object) -> list[str]:
    with pytest.raises(DesignFileError) as info:
        design_from_dict(data)
    return info.value.problems


# ------------------------------------------------------------------------------ round trips


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    design = Design(
        InputSpec(25, 64, 1),
        (
            Conv2D(filters=100, kernel=7, padding="same", name="first"),
            MaxPool2D(kernel=2, stride=2, padding="same"),
            AvgPool2D(kernel=(3, 2), padding=(1, 0), ceil_mode=True, count_include_pad=False),
            BatchNorm2D(eps=1e-3),
            ReLU(),
            Dense(units=5, bias=False),
        ),
        name="Q&A ✓ ünïcode",
        description="a description",
    )
    path = tmp_path / "d.json"
    save_design(design, path)
    assert load_design(path) == design
    text = path.read_text(encoding="utf-8")
    assert "ünïcode" in text  # written as UTF-8, not \u escapes
    assert text.count("\n") > len(design.layers)  # one layer per line
    data = json.loads(text)
    assert data["format"] == FORMAT_NAME
    # A chain with default ids is what version 1 holds: written as version 1, without ids, so
    # older versions of the program still open it.
    assert data["version"] == 1
    assert all(set(entry) & {"id", "inputs"} == set() for entry in data["layers"])
    assert data["layers"][1] == {
        "type": "maxpool2d",
        "kernel": 2,
        "stride": 2,
        "padding": "same",
        "ceil_mode": False,
    }
    assert data["layers"][2]["kernel"] == [3, 2]


@settings(max_examples=150, deadline=None)
@given(designs)
def test_random_designs_round_trip(design: Design) -> None:
    text = dumps_design(design)
    assert design_from_dict(json.loads(text)) == design


@settings(max_examples=200, deadline=None)
@given(graph_designs())
def test_random_graphs_round_trip(design: Design) -> None:
    text = dumps_design(design)
    data = json.loads(text)
    assert design_from_dict(data) == design
    # Version 1 exactly when version 1 can hold it: a chain with default ids, written without
    # ids or inputs; anything else is version 2 with every id written.
    if design.is_sequential:
        assert data["version"] == 1
        assert all(set(entry) & {"id", "inputs"} == set() for entry in data["layers"])
    else:
        assert data["version"] == 2
        assert [entry["id"] for entry in data["layers"]] == list(design.ids)


@pytest.mark.parametrize("template", [t.id for t in list_templates()])
def test_templates_round_trip(template: str) -> None:
    design = load_template(template)
    assert design_from_dict(design_to_dict(design)) == design


def test_defaults_fill_omitted_fields() -> None:
    design = design_from_dict(
        {"input": {"height": 5, "width": 5, "channels": 1}, "layers": [{"type": "conv2d"}]}
    )
    assert design.layers == (Conv2D(),)
    assert design.name == "Untitled"
    pool = design_from_dict(minimal(layers=[{"type": "maxpool2d", "kernel": 3}])).layers[0]
    assert pool == MaxPool2D(kernel=3, stride=None)


def test_load_design_accepts_a_dict() -> None:
    assert load_design(minimal(name="from dict")).name == "from dict"


# ------------------------------------------------------------------------------ located errors


def test_the_issue_example_error() -> None:
    layers = [{"type": "relu"}, {"type": "relu"}, {"type": "conv2d", "kernel": -3}]
    assert problems_of(minimal(layers=layers)) == [
        "layers[2].kernel: must be a positive integer or [h, w] pair, got -3"
    ]


def test_every_problem_is_reported_with_its_location() -> None:
    data = minimal(
        input={"height": 0, "width": 8, "channels": 3, "colour": 1},
        layers=[
            {"type": "conv2d", "kernel": [3], "stride": 0, "colour": "red"},
            {"type": "pool"},
            {"kernel": 3},
            "relu",
            {"type": "dense", "units": "ten"},
        ],
        extra=1,
    )
    problems = problems_of(data)
    expected_starts = [
        "extra: unknown top-level field",
        "input.colour: unknown setting",
        "input.height: must be a positive integer, got 0",
        "layers[0].colour: unknown setting for conv2d",
        "layers[0].kernel: must be a positive integer or [h, w] pair, got [3]",
        "layers[0].stride: must be a positive integer or [h, w] pair, got 0",
        "layers[1].type: must be one of conv2d, convtranspose2d, maxpool2d",
        "layers[2].type: missing",
        'layers[3]: must be an object with a "type", got the string "relu"',
        'layers[4].units: must be a positive integer, got "ten"',
    ]
    assert len(problems) == len(expected_starts)
    for start in expected_starts:
        assert any(p.startswith(start) for p in problems), (start, problems)


@pytest.mark.parametrize(
    ("data", "start"),
    [
        ([1, 2], "the top level must be a JSON object, got a list"),
        (minimal(input=None), "input: missing"),
        ({"layers": []}, "input: missing"),
        (minimal(input=[8, 8, 3]), "input: must be an object"),
        (minimal(input={"height": 8, "width": 8}), "input.channels: missing"),
        (minimal(layers={"type": "relu"}), "layers: must be a list, got an object"),
        (minimal(format="other"), 'format: must be "convdesigner-design", got "other"'),
        (minimal(version=0), "version: must be a positive integer, got 0"),
        (minimal(version="1"), 'version: must be a positive integer, got "1"'),
        (minimal(name=5), "name: must be a string"),
        (minimal(description=["x"]), "description: must be a string"),
        (minimal(layers=[{"type": ["conv2d"]}]), "layers[0].type: must be one of"),
        (minimal(layers=[{"type": {"a": 1}}]), "layers[0].type: must be one of"),
    ],
)
def test_structural_problems(data: object, start: str) -> None:
    problems = problems_of(data)
    assert problems[0].startswith(start), problems


@pytest.mark.parametrize(
    "entry",
    [
        # Valid only together with another setting: PyTorch's usual upsampling layers.
        {"type": "convtranspose2d", "filters": 4, "kernel": 3, "stride": 2, "output_padding": 1},
        {"type": "convtranspose2d", "dilation": [1, 3], "output_padding": [0, 2]},
        {"type": "upsample", "mode": "bilinear", "align_corners": True},
        {"type": "upsample", "size": [3, 4], "scale": None},
    ],
)
def test_settings_valid_only_together_load(entry: dict[str, Any]) -> None:
    design = design_from_dict(minimal(layers=[entry]))
    assert design_from_dict(design_to_dict(design)) == design


@pytest.mark.parametrize(
    ("entry", "start"),
    [
        (
            {"type": "convtranspose2d", "stride": 2, "output_padding": 2},
            "layers[0].output_padding: must be smaller than the stride or the dilation",
        ),
        (
            {"type": "upsample", "align_corners": True},
            "layers[0].align_corners: only applies to bilinear upsampling",
        ),
        (
            {"type": "upsample", "scale": 2, "size": 3},
            "layers[0].scale: give either a scale or a size",
        ),
    ],
)
def test_rules_between_settings_are_located(entry: dict[str, Any], start: str) -> None:
    assert [p[: len(start)] for p in problems_of(minimal(layers=[entry]))] == [start]


def test_too_many_layers() -> None:
    data = minimal(layers=[{"type": "relu"}] * (fileformat.MAX_LAYERS + 1))
    assert "at most 10,000 layers" in problems_of(data)[0]


def test_error_message_lists_at_most_ten_problems() -> None:
    data = minimal(layers=[{"type": "conv2d", "kernel": 0}] * 25)
    with pytest.raises(DesignFileError) as info:
        design_from_dict(data, "x.json")
    assert len(info.value.problems) == 25
    message = str(info.value)
    assert message.startswith("x.json: layers[0].kernel")
    assert "and 15 more problem(s)" in message
    assert "\n" not in message


def test_newer_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    # A newer file may contain things this version does not know; only the version matters.
    path.write_text(json.dumps(minimal(version=FORMAT_VERSION + 1, layers=[{"type": "lstm"}])))
    with pytest.raises(DesignFileError) as info:
        load_design(path)
    assert info.value.problems == [
        f"this file is format version {FORMAT_VERSION + 1}, written by a newer convdesigner; "
        f"this version reads up to version {FORMAT_VERSION}. Please update convdesigner."
    ]
    assert str(info.value).startswith(str(path))


# ------------------------------------------------------------------------------ bad files


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b'{"input": {"height": 8,, }', "not valid JSON at line 1, column 24"),
        (b"", "not valid JSON at line 1, column 1"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"input": ' + b"1" * 5000 + b"}", "not a usable JSON file"),
    ],
)
def test_malformed_files(tmp_path: Path, content: bytes, phrase: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DesignFileError) as info:
        load_design(path)
    assert phrase in str(info.value)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(minimal()).encode())
    assert load_design(path).name == "t"


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(fileformat.MAX_FILE_BYTES + 1)  # sparse: costs no disk space
    with pytest.raises(DesignFileError) as info:
        load_design(path)
    assert "design files are at most 16,777,216 bytes" in str(info.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DesignFileError, match="no such file"):
        load_design(tmp_path / "nope.json")
    with pytest.raises(DesignFileError, match="is a folder"):
        load_design(tmp_path)


# ------------------------------------------------------------------------------ atomic save


def _design() -> Design:
    return Design(InputSpec(4, 4, 1), (Conv2D(filters=2),), name="saved")


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    save_design(_design(), path)
    save_design(_design().with_name("again"), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json"]
    assert load_design(path).name == "again"


def test_failed_save_keeps_the_original_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.json"
    save_design(_design(), path)
    before = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("convdesigner.core.atomic.os.replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        save_design(_design().with_name("new"), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json"]


def test_failed_write_keeps_the_original_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.json"
    save_design(_design(), path)
    before = path.read_bytes()

    def broken_dumps(design: Design) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(fileformat, "dumps_design", broken_dumps)
    with pytest.raises(RuntimeError):
        save_design(_design(), path)
    assert path.read_bytes() == before


def test_save_keeps_permissions_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    save_design(_design(), real)
    os.chmod(real, 0o644)
    save_design(_design().with_name("b"), real)
    assert stat.S_IMODE(real.stat().st_mode) == 0o644
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save_design(_design().with_name("via link"), link)
    assert link.is_symlink()
    assert load_design(real).name == "via link"


def test_save_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        save_design(_design(), tmp_path / "missing" / "d.json")
    assert list(tmp_path.iterdir()) == []
