"""The safe writer against every kind of target (issue 12, item 3): FIFOs and devices written, not
replaced; hard links and owners kept; long names; temporary files of killed saves cleaned."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from convdesigner.core.atomic import TEMP_PREFIX, atomic_savez, atomic_write, atomic_write_text
from tests.special_files import device_node, guarded_fifo


def test_a_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    received: list[bytes] = []
    with guarded_fifo(tmp_path / "out.json") as fifo:

        def read() -> None:
            with open(fifo.path, "rb") as handle:
                received.append(handle.read())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        atomic_write_text(fifo.path, "through the pipe")
        reader.join(30)
        assert not fifo.rescued
    assert stat.S_ISFIFO(os.stat(tmp_path / "out.json").st_mode)
    assert received == [b"through the pipe"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_device_is_written_not_replaced(tmp_path: Path) -> None:
    node = device_node(tmp_path / "null")
    atomic_write_text(node, "discarded")
    atomic_savez(node, {"a": [1, 2]})
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_dash_is_standard_output(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    atomic_write_text("-", "to stdout\n")
    assert capsysbinary.readouterr().out == b"to stdout\n"


def _write_in_child(target: str, text: str, stdout: IO[bytes]) -> None:
    code = "import sys; from convdesigner.core.atomic import atomic_write_text as w; "
    code += "print('first', flush=True); w(sys.argv[1], sys.argv[2])"
    subprocess.run(
        [sys.executable, "-c", code, target, text], stdout=stdout, timeout=60, check=True
    )


def test_dev_stdout_writes_to_the_inherited_stdout(tmp_path: Path) -> None:
    # A pipe.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from convdesigner.core.atomic import atomic_write_text as w; w('/dev/stdout', 'hi')",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hi"
    # A file opened for appending: what was there stays, nothing is replaced.
    log = tmp_path / "log.txt"
    log.write_bytes(b"earlier\n")
    inode = log.stat().st_ino
    with log.open("ab") as handle:
        _write_in_child("/dev/stdout", "then this\n", handle)
    assert log.read_bytes() == b"earlier\nfirst\nthen this\n"
    assert log.stat().st_ino == inode


def test_hard_links_are_kept(tmp_path: Path) -> None:
    first = tmp_path / "a.json"
    first.write_text("old and longer than the new text", encoding="utf-8")
    second = tmp_path / "b.json"
    os.link(first, second)
    atomic_write_text(first, "new")
    assert second.read_text(encoding="utf-8") == "new"
    assert first.stat().st_ino == second.stat().st_ino
    assert first.stat().st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_the_owner_is_kept_when_root_saves_a_users_file(tmp_path: Path) -> None:
    path = tmp_path / "theirs.json"
    path.write_text("old", encoding="utf-8")
    os.chown(path, 12345, 23456)
    os.chmod(path, 0o640)
    atomic_write_text(path, "new")
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (12345, 23456, 0o640)
    assert path.read_text(encoding="utf-8") == "new"


def test_a_file_whose_owner_cannot_be_kept_is_rewritten_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shared.json"
    path.write_text("old content", encoding="utf-8")
    os.chmod(path, 0o664)
    inode = path.stat().st_ino
    real = os.stat

    def other_owner(target: str | os.PathLike[str], *args: Any, **kwargs: Any) -> os.stat_result:
        info = real(target, *args, **kwargs)
        if os.fspath(target) != os.fspath(path):
            return info
        return os.stat_result((info[0], info[1], info[2], info[3], 54321, *info[5:10]))

    def refuse(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "stat", other_owner)
    monkeypatch.setattr(os, "fchown", refuse)
    atomic_write_text(path, "new")
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == "new"
    assert path.stat().st_ino == inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.json"]


def test_a_name_as_long_as_the_file_system_allows(tmp_path: Path) -> None:
    path = tmp_path / ("n" * 245 + ".json")
    atomic_write_text(path, "long")
    atomic_write_text(path, "longer")
    assert path.read_text(encoding="utf-8") == "longer"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "new.json", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_the_folder_is_synced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[bool] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    atomic_write_text(tmp_path / "d.json", "x")
    assert synced[-1] is True  # the folder, after the file


SLOW_SAVE = textwrap.dedent(
    """
    import sys
    from convdesigner.core.atomic import atomic_write

    def write(handle):
        handle.write(b"partial")
        handle.flush()
        print("writing", flush=True)
        sys.stdin.readline()  # stays in the middle of the save until told (or killed)
        handle.write(b" and complete")

    atomic_write(sys.argv[1], write)
    """
)


def _start_slow_save(target: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    return child


def _temporaries(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(
    tmp_path: Path,
) -> None:
    target = tmp_path / "d.json"
    target.write_text("original", encoding="utf-8")
    child = _start_slow_save(target)
    child.kill()
    child.communicate(timeout=60)
    assert target.read_text(encoding="utf-8") == "original"
    assert len(_temporaries(tmp_path)) == 1  # what the kill left behind
    atomic_write_text(tmp_path / "other.json", "another save in the same folder")
    assert _temporaries(tmp_path) == []


def test_the_temporary_file_of_a_running_save_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "d.json"
    child = _start_slow_save(target)
    try:
        assert len(_temporaries(tmp_path)) == 1
        atomic_write_text(tmp_path / "other.json", "saved meanwhile")
        assert len(_temporaries(tmp_path)) == 1
    finally:
        child.communicate("go\n", timeout=60)
    assert child.returncode == 0
    assert target.read_bytes() == b"partial and complete"
    assert _temporaries(tmp_path) == []


def test_temporary_names_are_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    atomic_write(tmp_path / ("x" * 200), lambda handle: handle.write(b"1"))
    assert len(seen) == 1
    assert seen[0].startswith(TEMP_PREFIX)
    assert len(seen[0]) <= 32
