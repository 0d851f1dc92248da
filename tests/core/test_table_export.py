"""Table output: CSV (header, input first, raw integers, formula-injection safe), JSON, text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import (
    BatchNorm2D,
    Conv2D,
    Dense,
    Flatten,
    LayerSettingError,
    MaxPool2D,
    ReLU,
)
from convdesigner.core.table import (
    COLUMNS,
    FIELDS,
    ordered_derivations,
    to_csv,
    to_dict,
    to_json,
    to_text,
)
from convdesigner.core.templates import load_template

REQUIRED = [
    "index",
    "name",
    "type",
    "output_height",
    "output_width",
    "output_channels",
    "weights",
    "biases",
    "params",
    "macs",
]


def qa() -> Analysis:
    return analyse(load_template("qa-example"))


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_header_has_the_required_columns_first() -> None:
    header = to_csv(qa()).splitlines()[0].split(",")
    assert header[: len(REQUIRED)] == REQUIRED
    assert tuple(header) == FIELDS == tuple(name for name, _ in COLUMNS)


def test_csv_rows_input_first_raw_integers() -> None:
    rows = parse(to_csv(qa()))
    assert len(rows) == 4
    assert rows[0]["index"] == ""
    assert rows[0]["type"] == "input"
    assert [r["index"] for r in rows[1:]] == ["0", "1", "2"]
    assert [(r["output_height"], r["output_width"], r["output_channels"]) for r in rows] == [
        ("25", "64", "1"),
        ("25", "64", "100"),
        ("13", "32", "100"),
        ("13", "32", "150"),
    ]
    assert rows[1]["weights"] == "4900"  # raw: no thousands separators
    assert rows[3]["weights"] == "375000"
    assert rows[3]["macs"] == "156000000"
    assert rows[2]["pad_bottom"] == "1"
    assert rows[2]["pad_top"] == "0"
    assert rows[3]["receptive_field_h"] == "16"
    assert rows[1]["status"] == "ok"


def test_csv_vectors_have_empty_height_and_width() -> None:
    design = Design(InputSpec(4, 4, 2), (Flatten(), Dense(units=3)))
    rows = parse(to_csv(analyse(design)))
    assert (rows[1]["output_height"], rows[1]["output_width"], rows[1]["output_channels"]) == (
        "",
        "",
        "32",
    )
    assert rows[2]["receptive_field_h"] == ""


@pytest.mark.parametrize("name", ["=1+1", "+SUM(A1)", "-2", "@cmd", '=HYPERLINK("x")'])
def test_csv_formula_injection_is_neutralised(name: str) -> None:
    design = Design(InputSpec(4, 4, 1), (ReLU(name=name),), name=name)
    rows = parse(to_csv(analyse(design)))
    assert rows[1]["name"] == "'" + name
    # Numbers are still raw (a negative number would never appear, but counts must stay numbers).
    assert rows[1]["params"] == "0"


def test_csv_quotes_commas_and_quotes_in_names() -> None:
    design = Design(InputSpec(4, 4, 1), (ReLU(name='a, "b" c'),))
    rows = parse(to_csv(analyse(design)))
    assert rows[1]["name"] == 'a, "b" c'


def test_csv_error_rows() -> None:
    design = Design(InputSpec(4, 4, 1), (Conv2D(kernel=9), ReLU()))
    rows = parse(to_csv(analyse(design)))
    assert rows[1]["status"] == "error"
    assert "kernel height 9" in rows[1]["message"]
    assert rows[1]["output_height"] == ""
    assert rows[2]["status"] == "not computable"


def test_csv_written_to_a_file_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    design = Design(InputSpec(4, 4, 1), (ReLU(name="ünï ✓"),))
    text = to_csv(analyse(design), path)
    assert path.read_bytes() == text.encode("utf-8")
    assert "ünï ✓" in path.read_text(encoding="utf-8")


def test_json_keys_equal_csv_columns() -> None:
    data = to_dict(qa())
    assert data["design"] == "Q&A example"
    for row in data["rows"]:
        assert [k for k in row if k != "derivations"] == list(FIELDS)
    csv_rows = parse(to_csv(qa()))
    for json_row, csv_row in zip(data["rows"], csv_rows, strict=True):
        for key in FIELDS:
            value = json_row[key]
            assert csv_row[key] == ("" if value is None else str(value))
    assert data["rows"][1]["weights"] == 4900
    assert data["rows"][1]["derivations"]["weights"].endswith("= 4,900")


def test_json_totals() -> None:
    totals = to_dict(qa())["totals"]
    assert totals["params"] == 380_150
    assert totals["trainable_params"] == 380_150
    assert totals["non_trainable_params"] == 0
    assert totals["macs"] == 163_840_000
    assert totals["flops"] == 2 * 163_840_000
    assert totals["parameter_bytes"] == 4 * 380_150
    assert totals["errors"] == 0
    assert json.loads(to_json(qa())) == to_dict(qa())


def test_json_totals_split_batchnorm() -> None:
    design = Design(InputSpec(4, 4, 1), (Conv2D(filters=8, bias=False), BatchNorm2D()))
    totals = to_dict(analyse(design))["totals"]
    assert totals["non_trainable_params"] == 16
    assert totals["trainable_params"] == 9 * 8 + 16


def test_text_table_rules_span_the_table() -> None:
    design = Design(
        InputSpec(32, 32, 3),
        (Conv2D(filters=8, name="a rather long layer name"), MaxPool2D(), Conv2D(kernel=99)),
    )
    text = to_text(analyse(design))
    lines = text.splitlines()
    rule_at = [i for i, line in enumerate(lines) if line and set(line) <= {"=", "-"}]
    assert len(rule_at) == 4  # top, under the header, under the rows, under the totals
    table = lines[rule_at[0] + 1 : rule_at[2]]
    widest = max(len(line) for line in table)
    assert all(len(lines[i]) == widest for i in rule_at)
    assert "a rather long layer name (conv2d)" in text
    assert "ERROR" in text
    assert "Errors: 1" in text
    assert "kernel height 99" in text


def test_text_table_totals_and_explain() -> None:
    text = to_text(qa())
    assert "Total params: 380,150" in text
    assert "Total MACs: 163,840,000 (163.84 M; 1 MAC = 2 FLOPs)" in text
    assert "13×32×150" in text
    assert "weights:" not in text
    explained = to_text(qa(), explain=True)
    assert "weights = kh × kw × C_in × filters = 7 × 7 × 1 × 100 = 4,900" in explained
    assert "H_out = floor((25 + 3 + 3 - 1·(7-1) - 1) / 1) + 1 = 25" in explained


@pytest.mark.parametrize("name", ["two\nlines", "cr\r", "tab\there", "nul\x00"])
def test_names_with_control_characters_are_refused(name: str) -> None:
    # They would break the text table's layout and CSV rows, so they never get that far.
    with pytest.raises(LayerSettingError, match="one line of text"):
        ReLU(name=name)
    with pytest.raises(LayerSettingError, match="one line of text"):
        Design(name=name)


def test_ordered_derivations_shape_first() -> None:
    keys = [k for k, _ in ordered_derivations(qa().rows[1])]
    assert keys[:3] == ["output_height", "output_width", "output_channels"]
    assert keys.index("weights") < keys.index("params") < keys.index("macs")
    assert keys[-1] == "memory"


def test_text_totals_say_they_are_partial_when_layers_are_not_computed() -> None:
    broken = to_text(analyse(Design(InputSpec(4, 4, 1), (Conv2D(kernel=9), ReLU(), ReLU()))))
    assert "Total params: 0 (partial: 3 layers not computed)" in broken
    assert "Total MACs: 0 (1 MAC = 2 FLOPs) (partial: 3 layers not computed)" in broken
    assert "partial" not in to_text(qa())
