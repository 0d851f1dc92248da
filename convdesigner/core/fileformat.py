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
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.errors import ProblemsError
from convdesigner.core.json_checks import document_problems, object_pairs
from convdesigner.core.layers import (
    LAYER_TYPES,
    MAX_NAME,
    Layer,
    LayerSettingError,
    describe_value,
    to_name,
)
from convdesigner.core.safe_io import RefusedFileError, read_capped

FORMAT_NAME = "convdesigner-design"
FORMAT_VERSION = 1
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
        if key == "type":
            continue
        if key not in known_fields:
            problems.append(
                f"{where}.{key}: unknown setting for {type_name} "
                f"(known: {', '.join(sorted(known_fields))})"
            )
            ok = False
            continue
        kwargs[key] = value
    # Validate field by field so that every bad setting of the layer is reported, not only the
    # first one.
    for key, value in kwargs.items():
        try:
            cls(**{key: value})
        except LayerSettingError as exc:
            if exc.field_name == key:
                problems.append(f"{where}.{key}: {exc.message}")
                ok = False
        except TypeError as exc:  # pragma: no cover - guarded by known_fields above
            problems.append(f"{where}.{key}: {exc}")
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
                f"{key}: unknown top-level field (known: format, version, name, description, "
                "input, layers)"
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

    spec: InputSpec | None = None
    raw_input = data.get("input")
    if raw_input is None:
        problems.append(
            'input: missing (an object like {"height": 224, "width": 224, "channels": 3})'
        )
    elif not isinstance(raw_input, Mapping):
        problems.append(
            'input: must be an object like {"height": 224, "width": 224, "channels": 3}, '
            f"got {describe_value(raw_input)}"
        )
    else:
        for key in raw_input:
            if key not in ("height", "width", "channels"):
                problems.append(f"input.{key}: unknown setting (known: channels, height, width)")
        missing = [k for k in ("height", "width", "channels") if k not in raw_input]
        for key in missing:
            problems.append(f"input.{key}: missing")
        if not missing:
            bad = False
            for key in ("height", "width", "channels"):
                try:
                    InputSpec(**{key: raw_input[key]})
                except LayerSettingError as exc:
                    problems.append(f"input.{key}: {exc.message}")
                    bad = True
            if not bad:
                spec = InputSpec(
                    height=raw_input["height"],
                    width=raw_input["width"],
                    channels=raw_input["channels"],
                )

    layers: list[Layer] = []
    raw_layers = data.get("layers", [])
    if not isinstance(raw_layers, list):
        problems.append(f"layers: must be a list, got {json_type(raw_layers)}")
    elif len(raw_layers) > MAX_LAYERS:
        problems.append(
            f"layers: at most {MAX_LAYERS:,} layers are supported, got {len(raw_layers):,}"
        )
    else:
        for i, raw in enumerate(raw_layers):
            layer = _layer_from_dict(raw, f"layers[{i}]", problems)
            if layer is not None:
                layers.append(layer)
    if problems or spec is None:
        raise DesignFileError(problems or ["input: missing"], source)
    return Design(input=spec, layers=tuple(layers), name=name, description=description)


def _compact(value: object) -> object:
    if isinstance(value, tuple):
        return value[0] if len(value) == 2 and value[0] == value[1] else list(value)
    return value


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    out: dict[str, Any] = {"type": layer.type_name}
    for f in fields(layer):
        value = getattr(layer, f.name)
        if f.name == "name" and not value:
            continue
        if f.name == "stride" and value is None:
            continue  # pooling: defaults to the kernel
        out[f.name] = _compact(value)
    return out


def design_to_dict(design: Design) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": design.name,
    }
    if design.description:
        out["description"] = design.description
    out["input"] = {
        "height": design.input.height,
        "width": design.input.width,
        "channels": design.input.channels,
    }
    out["layers"] = [layer_to_dict(layer) for layer in design.layers]
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
