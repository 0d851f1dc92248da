"""Autosave copies without Qt: one file per window, live windows' copies never offered, recovery
puts the design, file and selection back with Undo leading to the file's version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from convdesigner.core.autosave import (
    Autosaver,
    discard,
    orphaned_copies,
    read_copy,
    recover,
)
from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.core.fileformat import design_to_dict, save_design
from convdesigner.core.layers import Conv2D, ReLU


def _clean(doc: Document) -> bool:
    """Read afresh each time (a type checker would keep the value it narrowed before)."""
    return doc.is_clean


def _edited(path: str | None = None) -> Document:
    doc = Document(Design(layers=(Conv2D(filters=4), ReLU())), path)
    doc.change(doc.design.nodes[0].id, filters=9)
    doc.rename("unsaved work")
    doc.select(doc.design.nodes[1].id)
    return doc


def test_a_written_copy_reads_back_exactly(tmp_path: Path) -> None:
    doc = _edited("/somewhere/net.json")
    saver = Autosaver(tmp_path)
    saver.write(doc)
    copy = read_copy(saver.file)
    assert design_to_dict(copy.design) == design_to_dict(doc.design)
    assert copy.path == "/somewhere/net.json"
    assert copy.selection == doc.selection
    assert copy.modified
    assert copy.undo_steps == 2
    assert copy.name == "unsaved work"


def test_nothing_is_written_before_the_first_write_and_remove_leaves_nothing(
    tmp_path: Path,
) -> None:
    saver = Autosaver(tmp_path / "autosave")
    assert not (tmp_path / "autosave").exists()
    saver.write(_edited())
    assert len(list((tmp_path / "autosave").iterdir())) == 2  # the copy and its lock
    saver.remove()
    assert list((tmp_path / "autosave").iterdir()) == []


def test_two_windows_write_two_copies_and_neither_is_offered_while_alive(tmp_path: Path) -> None:
    first, second = Autosaver(tmp_path), Autosaver(tmp_path)
    assert first.file != second.file
    first.write(_edited())
    doc = _edited()
    doc.rename("other window")
    second.write(doc)
    assert read_copy(first.file).name == "unsaved work"
    assert read_copy(second.file).name == "other window"
    assert orphaned_copies(tmp_path) == []
    first.remove()
    assert read_copy(second.file).name == "other window"


_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from convdesigner.core.autosave import Autosaver
    from convdesigner.core.design import Design
    from convdesigner.core.document import Document
    from convdesigner.core.layers import Conv2D
    doc = Document(Design(layers=(Conv2D(filters=3),)))
    doc.rename(sys.argv[2])
    Autosaver(sys.argv[1]).write(doc)
    sys.stdout.write("written\\n")
    sys.stdout.flush()
    if sys.argv[3] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()
    """
)


def test_a_killed_process_copy_is_offered_a_live_one_is_not(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, str(tmp_path), "killed", "kill"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert killed.returncode == -9
    assert killed.stdout == "written\n"
    alive = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(tmp_path), "alive", "wait"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert alive.stdout is not None
        assert alive.stdout.readline() == "written\n"
        offered = orphaned_copies(tmp_path)
        assert [copy.name for copy in offered] == ["killed"]
        discard(offered[0])
        assert orphaned_copies(tmp_path) == []
        assert len(list(tmp_path.glob("autosave-*.json"))) == 1  # the live window's
    finally:
        alive.communicate("", timeout=60)
    assert [copy.name for copy in orphaned_copies(tmp_path)] == ["alive"]


def test_unreadable_copies_are_skipped_and_kept(tmp_path: Path) -> None:
    bad = tmp_path / "autosave-1-0123abcd.json"
    bad.write_text("{not json")
    future = tmp_path / "autosave-2-0123abcd.json"
    future.write_text(json.dumps({"format": "convdesigner-autosave", "version": 99}))
    assert orphaned_copies(tmp_path) == []
    assert bad.exists()
    assert future.exists()


def test_recovery_with_a_file_undoes_to_the_file_and_redoes_to_the_copy(tmp_path: Path) -> None:
    file = tmp_path / "net.json"
    saved = Design(layers=(Conv2D(filters=4), ReLU()))
    save_design(saved, file)
    doc = _edited(str(file))
    saver = Autosaver(tmp_path / "autosave")
    saver.write(doc)
    copy = read_copy(saver.file)

    fresh = Document(Design())
    recover(fresh, copy, saved)
    assert fresh.design == doc.design
    assert fresh.path == str(file)
    assert fresh.selection == doc.selection
    assert not _clean(fresh)
    assert fresh.undo()
    assert fresh.design == saved
    assert _clean(fresh)
    assert fresh.redo()
    assert fresh.design == doc.design


def test_recovery_without_a_file_is_unsaved_with_nothing_to_undo() -> None:
    doc = _edited()
    fresh = Document(Design())
    fresh.restore(doc.design, None, base=None, text="Recover")
    assert fresh.design == doc.design
    assert not fresh.is_clean  # closing must ask to save
    assert not fresh.history.can_undo


def test_background_writes_keep_the_newest_state_and_never_outlive_a_remove(
    tmp_path: Path,
) -> None:
    doc = _edited()
    saver = Autosaver(tmp_path)
    for n in range(5):
        doc.rename(f"state {n}")
        saver.write_soon(doc)
    saver.wait(30)
    assert read_copy(saver.file).name == "state 4"
    for n in range(20):  # a write queued or under way when the copy is removed
        doc.rename(f"late {n}")
        saver.write_soon(doc)
        saver.remove()
        saver.wait(30)
        assert list(tmp_path.iterdir()) == []
    assert saver.last_error is None


def test_a_failed_background_write_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    saver = Autosaver(blocker / "autosave")
    saver.write_soon(_edited())
    saver.wait(30)
    assert isinstance(saver.last_error, OSError)  # the folder cannot be made
