"""Nothing lost: every version-1 template gives the tables the program gave before Core v2.

``golden/designs/`` holds the version-1 template files as they were at commit adaefd0 (the last
commit before the redesign), and ``golden/`` what that commit's own code printed for each of
them: ``to_csv``, ``to_text``, ``to_text(explain=True)`` (every derivation text) and, for two of
them, ``to_json``. They were made by running adaefd0's code on its files, not this program, so
any change in a number, a column or a sentence shows up here. Regenerate only for an intended
change, and say so in the commit. They were made with (OLD an empty folder)::

    git archive adaefd0 | tar -x -C OLD
    cd OLD && PYTHONPATH=. python -c '
    import pathlib
    from convdesigner.core import table
    from convdesigner.core.analysis import analyse
    from convdesigner.core.fileformat import load_design
    for p in sorted(pathlib.Path("resources/designs").glob("*.json")):
        a = analyse(load_design(p))
        for suffix, text in ((".csv", table.to_csv(a)), (".txt", table.to_text(a)),
                             (".explain.txt", table.to_text(a, explain=True)),
                             (".json", table.to_json(a))):
            pathlib.Path(p.stem + suffix).write_text(text, encoding="utf-8")'
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.fileformat import design_to_dict, dumps_design, load_design
from convdesigner.core.table import to_csv, to_json, to_text

GOLDEN = Path(__file__).parent / "golden"
DESIGNS = sorted((GOLDEN / "designs").glob("*.json"))


def golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def test_the_goldens_cover_the_five_version_1_templates() -> None:
    assert [p.stem for p in DESIGNS] == ["alexnet", "lenet5", "mobilenet-v1", "qa-example", "vgg16"]


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.stem)
def test_version_1_file_gives_the_same_csv_and_tables(path: Path) -> None:
    analysis = analyse(load_design(path))
    assert to_csv(analysis) == golden(f"{path.stem}.csv")
    assert to_text(analysis) == golden(f"{path.stem}.txt")
    assert to_text(analysis, explain=True) == golden(f"{path.stem}.explain.txt")
    json_golden = GOLDEN / f"{path.stem}.json"
    if json_golden.exists():
        assert to_json(analysis) == json_golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.stem)
def test_version_1_file_is_saved_back_as_version_1_unchanged(path: Path) -> None:
    # A chain with default ids stays a version-1 file, byte for byte, so older versions of the
    # program keep opening what this one saves.
    design = load_design(path)
    assert design.is_sequential
    assert design_to_dict(design)["version"] == 1
    assert dumps_design(design) == path.read_text(encoding="utf-8")
