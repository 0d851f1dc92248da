"""Weights files that used to hang, exhaust memory or load nonsense (issue 12, items 4, 6, 15):
FIFOs, arrays whose headers promise gigabytes, members cut short or not arrays at all,
negative variances."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from convdesigner.core.design import Design, InputSpec
from convdesigner.core.layers import BatchNorm2D, Conv2D
from convdesigner.core.weights import WeightsError, default_weights, load_weights, save_weights
from tests.special_files import guarded_fifo

DESIGN = Design(InputSpec(8, 8, 1), (Conv2D(filters=4, kernel=3), BatchNorm2D()))


def write_member(
    archive: zipfile.ZipFile, key: str, shape: tuple[int, ...], data: bytes, dtype: str = "<f4"
) -> None:
    """An .npy member whose header says ``shape`` whatever ``data`` holds."""
    with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
        header = {"descr": dtype, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(member, header)
        member.write(data)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    with guarded_fifo(tmp_path / "w.npz") as fifo:
        with pytest.raises(WeightsError) as info:
            load_weights(DESIGN, fifo.path)
        assert not fifo.rescued, "load_weights blocked on the FIFO"
    assert info.value.problems == ["is a named pipe (FIFO), not a weights file"]


def test_a_header_promising_gigabytes_is_refused_before_any_data_is_read(
    tmp_path: Path,
) -> None:
    """A few kilobytes of zip whose '0.weight' claims 40 GB, and '1.bias' missing: the old
    loader allocated the 40 GB first (MemoryError under this 1 GiB limit)."""
    bomb = tmp_path / "bomb.npz"
    weights = default_weights(DESIGN)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        write_member(archive, "0.weight", (100_000, 100_000), bytes(4 << 20))
        for key, value in weights.items():
            if key not in ("0.weight", "1.bias"):
                with archive.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)
    assert bomb.stat().st_size < 100_000
    code = textwrap.dedent(
        """
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from convdesigner.core.design import Design, InputSpec
        from convdesigner.core.layers import BatchNorm2D, Conv2D
        from convdesigner.core.weights import WeightsError, load_weights
        design = Design(InputSpec(8, 8, 1), (Conv2D(filters=4, kernel=3), BatchNorm2D()))
        try:
            load_weights(design, sys.argv[1])
        except WeightsError as exc:
            print("\\n".join(exc.problems))
        """
    )
    pytest.importorskip("resource")
    result = subprocess.run(
        [sys.executable, "-c", code, str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "missing '1.bias'",
        "'0.weight' has shape (100000, 100000), expected (4, 1, 3, 3)",
    ]


def test_a_member_cut_short_is_named(tmp_path: Path) -> None:
    path = tmp_path / "short.npz"
    weights = default_weights(DESIGN)
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in weights.items():
            if key == "0.weight":
                write_member(archive, key, value.shape, value.tobytes()[:50])
            else:
                with archive.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)
    with pytest.raises(WeightsError) as info:
        load_weights(DESIGN, path)
    assert info.value.problems == ["'0.weight' is cut short (50 of its 144 bytes of data)"]


def test_members_that_are_not_arrays_are_named_and_not_read(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    save_weights(default_weights(DESIGN), path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(WeightsError) as info:
        load_weights(DESIGN, path)
    assert info.value.problems[0] == "holds files that are not .npy arrays: 'notes.txt'"


def test_many_stray_members_make_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    save_weights(default_weights(DESIGN), path)
    with zipfile.ZipFile(path, "a") as archive:
        for i in range(30):
            archive.writestr(f"stray{i}.bin", "x")
    with pytest.raises(WeightsError) as info:
        load_weights(DESIGN, path)
    assert info.value.problems[0].endswith("'stray9.bin' and 20 more")


def test_a_negative_running_variance_is_refused(tmp_path: Path) -> None:
    weights = default_weights(DESIGN)
    weights["1.running_var"][2] = -0.5
    path = tmp_path / "w.npz"
    save_weights(weights, path)
    with pytest.raises(WeightsError) as info:
        load_weights(DESIGN, path)
    assert info.value.problems == [
        "'1.running_var' has negative values; a variance is never negative"
    ]


@pytest.mark.filterwarnings("error")  # NumPy's "invalid value encountered in cast" too
def test_a_step_counter_of_nan_is_refused(tmp_path: Path) -> None:
    """Found by the fuzz corpus: a NaN step counter was cast to an integer (a NumPy warning)
    and the file loaded; it is unused, but NaN there means a damaged file."""
    weights: dict[str, np.ndarray] = dict(default_weights(DESIGN))
    weights["1.num_batches_tracked"] = np.array(np.nan, np.float32)
    path = tmp_path / "w.npz"
    save_weights(weights, path)
    with pytest.raises(WeightsError) as info:
        load_weights(DESIGN, path)
    assert info.value.problems == ["'1.num_batches_tracked' contains NaN or infinite values"]


def test_good_weights_still_load(tmp_path: Path) -> None:
    weights = default_weights(DESIGN, 3)
    path = tmp_path / "w.npz"
    np.savez_compressed(path, **weights)  # type: ignore[arg-type]
    back = load_weights(DESIGN, path)
    for key, value in weights.items():
        np.testing.assert_array_equal(back[key], value)


def _flips(original: bytes, positions: list[int], masks: tuple[int, ...]) -> list[bytes]:
    out = []
    for position in positions:
        for mask in masks:
            data = bytearray(original)
            data[position] ^= mask
            out.append(bytes(data))
    return out


def test_single_byte_corruptions_are_clear_errors_or_load(tmp_path: Path) -> None:
    """Corrupt deflate data raised zlib.error, an unknown compression method or zip version
    NotImplementedError, a set "encrypted" flag RuntimeError: none was caught, so each was a
    traceback. Every byte of a compressed file is flipped, and the version, flag and method
    fields of every zip header of an uncompressed one."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **default_weights(DESIGN, 5))  # type: ignore[arg-type]
    compressed = buffer.getvalue()
    buffer = io.BytesIO()
    np.savez(buffer, **default_weights(DESIGN, 5))  # type: ignore[arg-type]
    plain = buffer.getvalue()
    fields: list[int] = []
    for signature, first, last in ((b"PK\x03\x04", 4, 10), (b"PK\x01\x02", 4, 12)):
        start = plain.find(signature)
        while start >= 0:
            fields.extend(range(start + first, start + last))
            start = plain.find(signature, start + 1)
    cases = _flips(compressed, list(range(len(compressed))), (0x5A,))
    cases += _flips(plain, fields, (0x01, 0x5A, 0x80))
    path = tmp_path / "w.npz"
    outcomes: set[str] = set()
    for data in cases:
        path.write_bytes(data)
        try:
            load_weights(DESIGN, path)
            outcomes.add("loaded")
        except WeightsError:
            outcomes.add("clear error")
    assert outcomes == {"loaded", "clear error"}
