"""Reading what a user names: FIFOs and devices refused without hanging, reads bounded whatever
``stat`` says, and outputs that would overwrite an input recognised (issue 12, items 2, 4, 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from convdesigner.core.fileformat import MAX_FILE_BYTES, DesignFileError, load_design
from convdesigner.core.safe_io import RefusedFileError, output_clash, read_capped
from convdesigner.core.templates import template_path
from tests.special_files import guarded_fifo

QA = template_path("qa-example")


def test_a_fifo_is_refused_as_a_design_without_blocking(tmp_path: Path) -> None:
    with guarded_fifo(tmp_path / "design.json") as fifo:
        with pytest.raises(DesignFileError) as info:
            load_design(fifo.path)
        assert not fifo.rescued, "load_design blocked on the FIFO"
    assert info.value.problems == ["is a named pipe (FIFO), not a design file"]
    assert str(info.value).startswith(str(tmp_path / "design.json"))


def test_read_capped_refuses_a_fifo_and_a_device(tmp_path: Path) -> None:
    with guarded_fifo(tmp_path / "p") as fifo:
        with pytest.raises(RefusedFileError, match=r"is a named pipe \(FIFO\), not a thing"):
            read_capped(fifo.path, 100, "thing")
        assert not fifo.rescued
    with pytest.raises(RefusedFileError, match="is a device, not a thing"):
        read_capped(os.devnull, 100, "thing")


def test_missing_files_and_folders_keep_their_usual_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_capped(tmp_path / "missing", 10)
    with pytest.raises(IsADirectoryError):
        read_capped(tmp_path, 10)


def _load_in_subprocess(path: str) -> subprocess.CompletedProcess[str]:
    """load_design in a child limited to 1 GiB of address space and 60 s, so an unbounded read
    fails (MemoryError, or the timeout) instead of exhausting the machine."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from convdesigner.core.fileformat import DesignFileError, load_design\n"
        "try:\n"
        "    load_design(sys.argv[1])\n"
        "except DesignFileError as exc:\n"
        "    print(exc)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, path],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_devices_are_refused_not_read(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    pytest.importorskip("resource")
    result = _load_in_subprocess(device)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{device}: is a device, not a design file"


def test_a_file_larger_than_its_stat_says_is_refused_after_cap_plus_one_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 5000)  # sparse
    real_fstat = os.fstat

    def lying_fstat(fd: int) -> os.stat_result:
        # What /proc files and some network or FUSE file systems report: size 0.
        st = real_fstat(fd)
        return os.stat_result((*st[:6], 0, *st[7:10]))

    monkeypatch.setattr(os, "fstat", lying_fstat)
    reads: list[int] = []
    real_fdopen = os.fdopen

    def counting_fdopen(fd: int, mode: str) -> object:
        handle = real_fdopen(fd, mode)
        real_read = handle.read

        def read(n: int = -1) -> bytes:
            data: bytes = real_read(n)
            reads.append(len(data))
            return data

        handle.read = read  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(os, "fdopen", counting_fdopen)
    with pytest.raises(DesignFileError, match="is larger than 16 MiB"):
        load_design(path)
    assert sum(reads) == MAX_FILE_BYTES + 1


def test_size_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as handle:
        handle.truncate(3 * 1024 * 1024 + 1)
    with pytest.raises(RefusedFileError) as info:
        read_capped(path, 3 * 1024 * 1024, "blob")
    assert info.value.reason == (
        "is larger than 3 MiB (3,145,729 bytes); blobs are at most 3,145,728 bytes"
    )


# ------------------------------------------------------------------------------ outputs


def test_output_clash_recognises_the_same_file_by_any_name(tmp_path: Path) -> None:
    design = tmp_path / "d.json"
    design.write_text("{}", encoding="utf-8")
    inputs = {"design": str(design)}
    assert output_clash(str(design), inputs) is not None
    # Another spelling, a symbolic link and a hard link are the same file.
    (tmp_path / "sub").mkdir()
    assert output_clash(str(tmp_path / "sub" / ".." / "d.json"), inputs) is not None
    (tmp_path / "link.json").symlink_to(design)
    assert output_clash(str(tmp_path / "link.json"), inputs) is not None
    os.link(design, tmp_path / "hard.json")
    message = output_clash(str(tmp_path / "hard.json"), inputs)
    assert message == (
        f"the output {tmp_path / 'hard.json'} is the design file ({design}); writing it would "
        "destroy the input, so choose another output path"
    )


def test_output_clash_allows_other_files_new_files_and_stdout(tmp_path: Path) -> None:
    design = tmp_path / "d.json"
    design.write_text("{}", encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text("{}", encoding="utf-8")
    inputs = {"design": str(design), "weights": None}
    assert output_clash(str(other), inputs) is None
    assert output_clash(str(tmp_path / "new.csv"), inputs) is None
    assert output_clash("-", inputs) is None
    assert output_clash(None, inputs) is None


def test_output_clash_with_a_link_to_an_input_that_does_not_exist_yet(tmp_path: Path) -> None:
    # Neither exists: compared by their resolved paths.
    (tmp_path / "out.json").symlink_to(tmp_path / "in.json")
    assert output_clash(str(tmp_path / "out.json"), {"design": str(tmp_path / "in.json")})


def test_the_bundled_template_still_loads() -> None:
    assert load_design(QA).name
