"""The design file format (JSON, versioned): loading with located errors, atomic saving.

docs/file-format.md is the user-facing description. The loader checks everything before it builds
anything and reports the problems it finds with their location (``layers[2].kernel: ...``), so a
user fixing a hand-written file sees all of them at once; a design the loader accepts is one
``analyse`` can always handle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from convdesigner.core.atomic import atomic_write_text
from convdesigner.core.design import (
    INPUT_ID,
    SPATIAL_NAMES,
    Design,
    GraphError,
    InputSpec,
    Node,
    check_id,
    validate_graph,
)
from convdesigner.core.errors import ProblemsError
from convdesigner.core.json_checks import document_problems, object_pairs
from convdesigner.core.layers import LAYER_TYPES, MAX_NAME, Layer, LayerSettingError
from convdesigner.core.safe_io import RefusedFileError, read_capped
from convdesigner.core.validate import describe_value, printable, to_name

FORMAT_NAME = "convdesigner-design"
FORMAT_VERSION = 2
"""The newest version this program reads and writes. Version 2 (graphs: ``id`` and ``inputs``
on entries) is a superset of version 1 (chains), and a design that version 1 can hold is still
written as version 1, so older versions of the program open it."""
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_LAYERS = 10_000
MAX_REPORTED = 10
MAX_DESCRIPTION = 5000


class DesignFileError(ProblemsError):
    """A design file or dict that cannot be loaded."""

    max_reported = MAX_REPORTED


def json_type(value: object) -> str:
    """The JSON name of a parsed value's kind, for messages about hand-written files."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {describe_value(value)}"
    if isinstance(value, str):
        return f"the string {describe_value(value)}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _layer_from_dict(data: object, where: str, problems: list[str]) -> Layer | None:
    if not isinstance(data, Mapping):
        problems.append(f'{where}: must be an object with a "type", got {json_type(data)}')
        return None
    type_name = data.get("type")
    known = ", ".join(LAYER_TYPES)
    if type_name is None:
        problems.append(f"{where}.type: missing (one of {known})")
        return None
    if not isinstance(type_name, str) or type_name not in LAYER_TYPES:
        problems.append(f"{where}.type: must be one of {known}, got {describe_value(type_name)}")
        return None
    cls = LAYER_TYPES[type_name]
    known_fields = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    ok = True
    for key, value in data.items():
        if key in ("type", "id", "inputs"):
            continue
        if key not in known_fields:
            problems.append(
                f"{where}.{printable(key, 60)}: unknown setting for {type_name} "
                f"(known: {', '.join(sorted(known_fields | {'id', 'inputs'}))})"
            )
            ok = False
            continue
        kwargs[key] = value
    # Validate field by field so that every bad setting of the layer is reported, not only the
    # first one. Each value on its own rule only: a rule between fields (output padding below
    # the stride) is checked once, with all of them, below.
    for key, value in kwargs.items():
        try:
            if key == "name":
                to_name(value)
            else:
                cls.field_spec(key).coerce(value)
        except LayerSettingError as exc:
            problems.append(f"{where}.{key}: {exc.message}")
            ok = False
    if not ok:
        return None
    try:
        return cls(**kwargs)
    except LayerSettingError as exc:
        problems.append(f"{where}.{exc.field_name}: {exc.message}")
        return None


def design_from_dict(data: object, source: str = "") -> Design:
    """Build a design from parsed JSON, or raise DesignFileError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise DesignFileError(
            [f"the top level must be a JSON object, got {json_type(data)}"], source
        )
    fmt_name = data.get("format", FORMAT_NAME)
    if fmt_name != FORMAT_NAME:
        problems.append(f'format: must be "{FORMAT_NAME}", got {describe_value(fmt_name)}')
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"version: must be a positive integer, got {describe_value(version)}")
    elif version > FORMAT_VERSION:
        raise DesignFileError(
            [
                f"this file is format version {version}, written by a newer convdesigner; "
                f"this version reads up to version {FORMAT_VERSION}. Please update convdesigner."
            ],
            source,
        )
    for key in data:
        if key not in ("format", "version", "name", "input", "layers", "description"):
            problems.append(
                f"{printable(key, 60)}: unknown top-level field (known: format, version, name, "
                "description, input, layers)"
            )
    problems.extend(document_problems(data))  # keys given twice, unsavable strings
    name = data.get("name", "Untitled")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        problems.append(
            f"name: must be a string of at most {MAX_NAME} characters, got {describe_value(name)}"
        )
        name = "Untitled"
    else:
        try:
            to_name(name)
        except LayerSettingError as exc:  # e.g. a tab: reported here, not raised by Design()
            problems.append(f"name: {exc.message}")
            name = "Untitled"
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        problems.append(
            f"description: must be a string of at most {MAX_DESCRIPTION:,} characters, "
            f"got {describe_value(description)}"
        )
        description = ""

    spec = _input_from_dict(data.get("input"), problems)

    nodes = _nodes_from_list(data.get("layers", []), problems)
    if problems or spec is None or nodes is None:
        raise DesignFileError(_one_per_surrogate(problems) or ["input: missing"], source)
    return Design(input=spec, name=name, description=description, nodes=nodes)


def _one_per_surrogate(problems: list[str]) -> list[str]:
    """Half a surrogate pair in a name is found twice: by the scan of the whole document (which
    says where in the text) and by the name's own rule. Keep the first, more precise one."""
    scanned = {p.split(": ", 1)[0] for p in problems if "surrogate pair," in p}
    return [
        p
        for p in problems
        if not (p.endswith("(not valid Unicode text)") and p.split(": ", 1)[0] in scanned)
    ]


_INPUT_EXAMPLE = '{"height": 224, "width": 224, "channels": 3}'


def _input_from_dict(raw_input: object, problems: list[str]) -> InputSpec | None:
    """The input section: channels plus the sizes of one of the three ranks (length; height and
    width; depth, height and width)."""
    if raw_input is None:
        problems.append(f"input: missing (an object like {_INPUT_EXAMPLE})")
        return None
    if not isinstance(raw_input, Mapping):
        problems.append(
            f"input: must be an object like {_INPUT_EXAMPLE}, got {describe_value(raw_input)}"
        )
        return None
    if "length" in raw_input:
        axes = SPATIAL_NAMES[1]
    elif "depth" in raw_input:
        axes = SPATIAL_NAMES[3]
    else:
        axes = SPATIAL_NAMES[2]
    keys = (*axes, "channels")
    for key in raw_input:
        if key not in keys:
            if key in ("length", "depth", "height", "width"):
                problems.append(
                    f"input.{key}: does not go with {', '.join(axes)} (a sequence has a length, "
                    "a picture a height and width, a volume a depth, height and width)"
                )
            else:
                problems.append(
                    f"input.{printable(key, 60)}: unknown setting "
                    f"(known: {', '.join(sorted(keys))})"
                )
    missing = [k for k in keys if k not in raw_input]
    for key in missing:
        problems.append(f"input.{key}: missing")
    if missing:
        return None
    bad = False
    for key in keys:
        try:
            if key == "channels":
                InputSpec(channels=raw_input[key])
            else:
                InputSpec(spatial=[raw_input[key] if a == key else 1 for a in axes])
        except LayerSettingError as exc:
            problems.append(f"input.{key}: {exc.message}")
            bad = True
    if bad:
        return None
    return InputSpec(channels=raw_input["channels"], spatial=[raw_input[a] for a in axes])


def _nodes_from_list(raw_layers: object, problems: list[str]) -> list[Node] | None:
    """The entries with their ids and inputs; every located problem is added to ``problems``."""
    if not isinstance(raw_layers, list):
        problems.append(f"layers: must be a list, got {json_type(raw_layers)}")
        return None
    if len(raw_layers) > MAX_LAYERS:
        problems.append(
            f"layers: at most {MAX_LAYERS:,} layers are supported, got {len(raw_layers):,}"
        )
        return None
    nodes: list[Node] = []
    ok = True
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_layers):
        where = f"layers[{i}]"
        layer = _layer_from_dict(raw, where, problems)
        node_id = str(i)
        inputs: tuple[str, ...] | None = None
        if isinstance(raw, Mapping):
            if "id" in raw:
                problem = check_id(raw["id"])
                if problem:
                    problems.append(f"{where}.id: {problem}")
                    ok = False
                else:
                    node_id = raw["id"]
            if node_id in seen:
                problems.append(
                    f'{where}.id: "{node_id}" is already the id of layers[{seen[node_id]}]'
                )
                ok = False
            seen.setdefault(node_id, i)
            if "inputs" in raw:
                inputs = _inputs_from(raw["inputs"], where, problems)
                if inputs is None:
                    ok = False
        if layer is None:
            ok = False
            continue
        nodes.append(Node(node_id, layer, inputs))
    if not ok:
        return None
    try:
        validate_graph(nodes)
    except GraphError as exc:
        problems.append(f"{exc.where}: {exc.message}")
        return None
    return nodes


def _inputs_from(value: object, where: str, problems: list[str]) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append(
            f'{where}.inputs: must be a list of ids (or "{INPUT_ID}"), like ["conv1", "input"], '
            f"got {describe_value(value)}"
        )
        return None
    if len(value) > MAX_LAYERS:
        problems.append(f"{where}.inputs: at most {MAX_LAYERS:,} inputs")
        return None
    return tuple(value)


def _compact(value: object) -> object:
    """A per-axis value as the user would write it: one number when every axis agrees."""
    if isinstance(value, tuple):
        items = [_compact(v) for v in value]
        if items and all(v == items[0] for v in items) and not isinstance(items[0], list):
            return items[0]
        return items
    return value


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    out: dict[str, Any] = {"type": layer.type_name}
    for f in fields(layer):
        value = getattr(layer, f.name)
        if f.name == "name" and not value:
            continue
        if value is None:
            continue  # optional settings: a pooling stride (= the kernel), an upsampling size
        out[f.name] = _compact(value)
    return out


def node_to_dict(node: Node, sequential: bool) -> dict[str, Any]:
    """A file entry: the id and inputs first (left out in a version-1 file), then the op."""
    op = layer_to_dict(node.op)
    if sequential:
        return op
    out: dict[str, Any] = {"id": node.id, "type": op.pop("type")}
    out.update(op)
    if node.inputs is not None:
        out["inputs"] = list(node.inputs)
    return out


def design_to_dict(design: Design) -> dict[str, Any]:
    sequential = design.is_sequential and design.input.rank == 2
    out: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": 1 if sequential else FORMAT_VERSION,
        "name": design.name,
    }
    if design.description:
        out["description"] = design.description
    out["input"] = {**design.input.sizes(), "channels": design.input.channels}
    out["layers"] = [node_to_dict(node, sequential) for node in design.nodes]
    return out


def dumps_design(design: Design) -> str:
    """The file's text: one layer per line, so diffs of saved designs stay readable."""
    data = design_to_dict(design)
    layers = data.pop("layers")
    head = json.dumps(data, ensure_ascii=False, indent=2)
    body = ",\n".join("    " + json.dumps(layer, ensure_ascii=False) for layer in layers)
    layers_text = "[\n" + body + "\n  ]" if layers else "[]"
    return head[:-2] + f',\n  "layers": {layers_text}\n}}\n'


def load_design(source: str | os.PathLike[str] | Mapping[str, Any]) -> Design:
    """Load a design from a JSON file path or an already-parsed dict."""
    if isinstance(source, Mapping):
        return design_from_dict(source)
    path = Path(source)
    label = str(path)
    try:
        raw = read_capped(path, MAX_FILE_BYTES, "design file")
    except RefusedFileError as exc:  # a FIFO, a device, or too large
        raise DesignFileError([exc.reason], label) from None
    except FileNotFoundError:
        raise DesignFileError(["no such file"], label) from None
    except IsADirectoryError:
        raise DesignFileError(["is a folder, not a design file"], label) from None
    except OSError as exc:
        raise DesignFileError([f"cannot be read ({exc.strerror or exc})"], label) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DesignFileError(["is not UTF-8 text (is it a design file?)"], label) from None
    try:
        data = json.loads(text, object_pairs_hook=object_pairs)
    except json.JSONDecodeError as exc:
        raise DesignFileError(
            [f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"], label
        ) from None
    except RecursionError:
        raise DesignFileError(["nested too deeply to be a design file"], label) from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise DesignFileError([f"not a usable JSON file: {exc}"], label) from None
    return design_from_dict(data, label)


def save_design(design: Design, path: str | os.PathLike[str]) -> None:
    """Save atomically; the written file loads back to an equal design."""
    atomic_write_text(path, dumps_design(design))
