"""The bundled designs (``resources/designs/*.json``): listed with their titles, loaded by id.

Templates are ordinary design files, so a user can open, edit and save them like their own work,
and the tests check them with the same loader that users' files go through. The id is the file
name without ``.json``; the order puts the teaching example first and the rest from small to big.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from convdesigner.core.design import Design
from convdesigner.core.fileformat import load_design

ORDER = (
    "qa-example",
    "lenet5",
    "alexnet",
    "vgg16",
    "googlenet",
    "resnet18",
    "resnet50",
    "densenet121",
    "mobilenet-v1",
    "mobilenet-v2",
)
"""Menu order of the known templates; any other bundled file follows, sorted by id."""

DEFAULT_TEMPLATE = "qa-example"


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    description: str
    path: Path


class UnknownTemplateError(KeyError):
    """No bundled template has that id (the message lists the ones that exist)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown template"


def _folder() -> Path:
    # Imported by name: ``convdesigner.resources`` is mapped from the top-level resources/ folder
    # at install time, where a static import would make the type checker look for it in vain.
    resources = importlib.import_module("convdesigner.resources")
    return Path(resources.DESIGNS)


def _sort_key(path: Path) -> tuple[int, str]:
    stem = path.stem
    return (ORDER.index(stem) if stem in ORDER else len(ORDER), stem)


def _header(path: Path) -> tuple[str, str]:
    """Title and description from the file without building the design (listing stays cheap)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return path.stem, ""
    if not isinstance(data, dict):
        return path.stem, ""
    title = data.get("name")
    description = data.get("description", "")
    return (
        title if isinstance(title, str) and title else path.stem,
        description if isinstance(description, str) else "",
    )


def list_templates() -> list[Template]:
    """Every bundled template, in menu order."""
    folder = _folder()
    if not folder.is_dir():
        return []
    templates = []
    for path in sorted(folder.glob("*.json"), key=_sort_key):
        title, description = _header(path)
        templates.append(Template(path.stem, title, description, path))
    return templates


def template_path(template_id: str) -> Path:
    """The file of template ``template_id``; raises UnknownTemplateError naming the valid ids."""
    for template in list_templates():
        if template.id == template_id:
            return template.path
    known = ", ".join(t.id for t in list_templates()) or "none are installed"
    raise UnknownTemplateError(f"no template named {template_id!r} (available: {known})")


def load_template(template_id: str) -> Design:
    """The design of a bundled template (validated by the normal loader)."""
    return load_design(template_path(template_id))


def default_design() -> Design:
    """The design a new window starts with: the Q&A example."""
    return load_template(DEFAULT_TEMPLATE)
