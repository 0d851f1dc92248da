"""Checks over a parsed JSON document as a whole: keys given twice, strings that cannot be saved.

Both are invisible to field-by-field validation. ``json`` keeps the last of two equal keys, so
``{"kernel": 3, "kernel": 5}`` silently means 5 although the author may have meant 3: the file is
ambiguous and is refused. And JSON may spell half of a UTF-16 surrogate pair (``"\\ud800"``),
which Python accepts as a string but no UTF-8 file can hold: a design named so loads, then every
save and every printed table fails. Refusing it at load time, with its location, keeps "a design
that loads can be saved" true.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RepeatedKeys(dict[str, Any]):
    """A JSON object in which some key was given more than once (``repeated`` lists them)."""

    repeated: tuple[str, ...] = ()


def object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads` that remembers repeated keys."""
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _value in pairs:
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    marked = RepeatedKeys(out)
    marked.repeated = tuple(repeated)
    return marked


def lone_surrogate(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (it holds half a surrogate pair), or None."""
    for position, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            return (
                f"contains U+{ord(char):04X} at character {position + 1}, half of a UTF-16 "
                "surrogate pair, which is not a valid character and cannot be saved"
            )
    return None


def printable_key(key: str, limit: int = 60) -> str:
    """A key as it can be shown in a message: unencodable characters escaped, cut if long."""
    text = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def document_problems(data: object) -> list[str]:
    """Every repeated key and unsavable string in ``data``, located (``layers[2].name: ...``).

    Walks iteratively: the parser accepts nesting as deep as the recursion limit allows, and a
    recursive walk on top of the caller's frames could exceed it.
    """
    problems: list[str] = []
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            reason = lone_surrogate(value)
            if reason is not None:
                problems.append(f"{where or 'the document'}: {reason}")
        elif isinstance(value, Mapping):
            for key in getattr(value, "repeated", ()):
                place = f"{where}.{printable_key(key)}" if where else printable_key(key)
                problems.append(f"{place}: given more than once (which value is meant?)")
            children: list[tuple[str, object]] = []
            for key, item in value.items():
                shown = printable_key(str(key))
                place = f"{where}.{shown}" if where else shown
                if isinstance(key, str):
                    reason = lone_surrogate(key)
                    if reason is not None:
                        problems.append(f"{place}: the field name {reason}")
                children.append((place, item))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend(reversed([(f"{where}[{i}]", item) for i, item in enumerate(value)]))
    return problems
