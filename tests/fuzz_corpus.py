"""A corpus of malformed inputs for the command line, generated from a seed (issue 12).

Nothing here is checked in as data: design files, weights files and images are made from small
valid ones and then broken, each case by one recipe (a byte flipped, a file cut short, a value
of the wrong type, a header that lies about its size, a pickle, a control character...), named
in the case's label so that a failure says how to make it again.

Two users:

- ``tests/core/test_fuzz_corpus.py`` runs a few hundred cases in-process through
  ``convdesigner.cli.main`` on every CI run;
- ``python -m tests.fuzz_corpus --count 2000`` is the longer campaign: each case in its own
  process with a time limit, and a table per kind of input (tried, clear errors, accepted,
  tracebacks, hangs, inputs changed), as issue 12 asks the closing note to report.

The contract checked for each case: exit 0 (accepted), or exit 2 with exactly one line on
stderr that starts with ``convdesigner: error:`` and holds no control character; never a
traceback or another status; the input files are left as they were, and a refused run leaves no
output file behind.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convdesigner.core.design import INPUT_ID, Design, InputSpec, Node
from convdesigner.core.fileformat import dumps_design
from convdesigner.core.layers import (
    Add,
    BatchNorm2D,
    Concat,
    Conv2D,
    Dense,
    Flatten,
    GlobalAvgPool2D,
    MaxPool2D,
    ReLU,
)
from convdesigner.core.templates import list_templates, template_path
from convdesigner.core.weights import default_weights

KINDS = ("design", "weights", "image")


@dataclass(frozen=True)
class Case:
    kind: str
    """"design" (through ``summary`` and ``weights``), "weights" or "image" (through ``run``)."""
    label: str
    """The recipe: base file and mutation, enough to make the case again."""
    data: bytes
    suffix: str


# --------------------------------------------------------------------------- base files


def chain_design() -> Design:
    """16×16×3, the shapes the base images have: every op family a weights file can hold."""
    return Design(
        InputSpec(16, 16, 3),
        layers=[
            Conv2D(filters=4, kernel=3, padding=1),
            BatchNorm2D(),
            ReLU(),
            MaxPool2D(kernel=2),
            Conv2D(filters=6, kernel=3, padding=1),
            GlobalAvgPool2D(),
            Flatten(),
            Dense(units=5),
        ],
    )


def graph_design() -> Design:
    """A residual add and a concat of two branches, on the same 16×16×3 input."""
    return Design(
        InputSpec(16, 16, 3),
        nodes=[
            Node("stem", Conv2D(filters=4, kernel=3, padding=1), (INPUT_ID,)),
            Node("a", Conv2D(filters=4, kernel=3, padding=1), ("stem",)),
            Node("sum", Add(), ("stem", "a")),
            Node("b", Conv2D(filters=2, kernel=1), ("sum",)),
            Node("cat", Concat(), ("sum", "b")),
        ],
    )


BASE_DESIGNS: dict[str, Callable[[], Design]] = {"chain": chain_design, "graph": graph_design}


def base_design_texts() -> dict[str, str]:
    texts = {name: dumps_design(make()) for name, make in BASE_DESIGNS.items()}
    for template in list_templates():
        texts[template.id] = Path(template_path(template.id)).read_text(encoding="utf-8")
    return texts


def npz_bytes(arrays: dict[str, Any]) -> bytes:
    """As ``np.savez`` writes them, but with fixed dates: the same seed, the same bytes."""
    return _zip_with({f"{key}.npy": npy_bytes(value) for key, value in arrays.items()})


def npy_bytes(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def npy_header_only(shape: tuple[int, ...], dtype: str = "<f4", payload: int = 64) -> bytes:
    """An ``.npy`` whose header claims ``shape`` but which holds ``payload`` bytes: a reader that
    trusts the header allocates the claimed size."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(payload)


def _gradient(height: int, width: int, channels: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 16 + y * 8 + 40 * c) % 256 for c in range(channels)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def base_images() -> dict[str, tuple[bytes, str]]:
    """Small images in every format and pixel layout the loader reads, made with Pillow."""
    from PIL import Image

    images: dict[str, tuple[bytes, str]] = {}
    rgb = _gradient(16, 16, 3)
    for mode, array in (
        ("RGB", rgb),
        ("L", rgb[..., 0]),
        ("LA", _gradient(16, 16, 2)),
        ("RGBA", _gradient(16, 16, 4)),
    ):
        for fmt, suffix in (("PNG", ".png"), ("BMP", ".bmp"), ("JPEG", ".jpg")):
            if fmt == "JPEG" and mode not in ("RGB", "L"):
                continue
            if fmt == "BMP" and mode == "LA":
                continue
            buffer = io.BytesIO()
            Image.fromarray(array).save(buffer, fmt)  # the mode follows the array's shape
            images[f"{mode}.{fmt.lower()}"] = (buffer.getvalue(), suffix)
    # Noise compresses badly: most cuts and flips land in the pixel data, not in the few
    # bytes a gradient's stream takes.
    noise = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".jpg")):
        buffer = io.BytesIO()
        Image.fromarray(noise).save(buffer, fmt)
        images[f"noise.{fmt.lower()}"] = (buffer.getvalue(), suffix)
    buffer = io.BytesIO()
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(buffer, "PNG")
    images["I16.png"] = (buffer.getvalue(), ".png")
    floats = rgb.astype(np.float32) / 255
    images["hwc.npy"] = (npy_bytes(floats), ".npy")
    images["chw.npy"] = (npy_bytes(np.ascontiguousarray(floats.transpose(2, 0, 1))), ".npy")
    images["hw.npy"] = (npy_bytes(floats[..., 0]), ".npy")
    return images


# --------------------------------------------------------------------------- byte recipes


def _flip(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    spots = sorted(rng.randrange(len(out)) for _ in range(rng.choice((1, 1, 2, 8))))
    for spot in spots:
        out[spot] = rng.randrange(256)
    return f"bytes {', '.join(map(str, spots))} changed", bytes(out)


def _cut(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    at = rng.randrange(len(data))
    return f"cut at byte {at} of {len(data)}", data[:at]


def _insert(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    at = rng.randrange(len(data) + 1)
    junk = rng.choice(
        (b"\x00", b"\xff\xfe", b"\x1b[2J", b"\r\n", bytes(rng.randrange(256) for _ in range(16)))
    )
    return f"{junk!r} inserted at {at}", data[:at] + junk + data[at:]


def _repeat(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randrange(1, 200))
    return f"bytes {start}-{end} repeated", data[:end] + data[start:end] + data[end:]


BYTE_RECIPES = (_flip, _cut, _insert, _repeat)


def byte_mutation(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    return rng.choice(BYTE_RECIPES)(rng, data)


# --------------------------------------------------------------------------- design recipes

WEIRD_VALUES: tuple[tuple[str, object], ...] = (
    ("null", None),
    ("true", True),
    ("0", 0),
    ("-1", -1),
    ("1.5", 1.5),
    ("10**30", 10**30),
    ("-(2**63)", -(2**63)),
    ("NaN", float("nan")),
    ("Infinity", float("inf")),
    ('""', ""),
    ("a 100 KB string", "x" * 100_000),
    ("an escape sequence", "\x1b]0;owned\x07\x1b[2J"),
    ("a newline", "a\nb"),
    ("a NUL", "a\x00b"),
    ("a lone surrogate", "\ud800"),
    ("[]", []),
    ("{}", {}),
    ("[1, 2, 3]", [1, 2, 3]),
    ('"same"', "same"),
    ("a long list", list(range(5000))),
)


def _paths(value: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _parent(root: object, path: tuple[object, ...]) -> Any:
    node: Any = root
    for step in path[:-1]:
        node = node[step]
    return node


def structure_mutation(rng: random.Random, text: str) -> tuple[str, str]:
    """One change to the parsed JSON: a value replaced, a key removed or added, an entry
    duplicated or moved; the result written back as JSON (NaN and surrogates included)."""
    root = json.loads(text)
    paths = [p for p in _paths(root) if p]
    path = rng.choice(paths)
    parent = _parent(root, path)
    key = path[-1]
    where = "/".join(str(p) for p in path)
    action = rng.randrange(6)
    if action <= 1:
        name, value = rng.choice(WEIRD_VALUES)
        parent[key] = value
        label = f"{where} = {name}"
    elif action == 2:
        del parent[key]
        label = f"{where} removed"
    elif action == 3 and isinstance(parent, dict):
        parent[rng.choice(("extra", "kernal", "\x1b[31mkey", "k" * 5000))] = 1
        label = f"unknown key beside {where}"
    elif isinstance(parent, list) and isinstance(key, int):
        other = rng.randrange(len(parent))
        if action == 4:
            parent.insert(other, parent[key])
            label = f"{where} duplicated at {other}"
        else:
            parent[key], parent[other] = parent[other], parent[key]
            label = f"{where} swapped with {other}"
    else:
        parent[key] = [parent[key]]
        label = f"{where} wrapped in a list"
    return label, json.dumps(root)


WHOLE_FILES: tuple[tuple[str, bytes], ...] = (
    ("empty", b""),
    ("whitespace", b"  \n\t "),
    ("null", b"null"),
    ("a list", b"[]"),
    ("a number of 5,000 digits", b"1" * 5000),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("nested objects 5,000 deep", b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("binary", bytes(range(256)) * 4),
    ("a PNG", b"\x89PNG\r\n\x1a\n" + bytes(64)),
    ("an .npz", b"PK\x03\x04" + bytes(64)),
)


def design_cases(rng: random.Random, count: int) -> list[Case]:
    texts = base_design_texts()
    names = sorted(texts)
    cases = [Case("design", f"whole file: {label}", data, ".json") for label, data in WHOLE_FILES]
    seen = {case.data for case in cases}
    while len(cases) < count:
        base = rng.choice(names)
        text = texts[base]
        recipe = rng.randrange(10)
        if recipe < 5:
            label, mutated = structure_mutation(rng, text)
            data = mutated.encode("utf-8", "surrogatepass")
        elif recipe < 8:
            label, data = byte_mutation(rng, text.encode())
        elif recipe == 8:
            first = text.index('"', text.index("{"))
            key = text[first : text.index(":", first)]
            label, data = (
                f"top-level key {key} given twice",
                text.replace("{", f"{{{key}: 1, ", 1).encode(),
            )
        else:
            encoding = rng.choice(("utf-16", "utf-8-sig", "latin-1"))
            label, data = (
                f"encoded as {encoding}",
                text.replace('": "', '": "ö', 1).encode(encoding),
            )
        if data not in seen:  # a repeat tests nothing new
            seen.add(data)
            cases.append(Case("design", f"{base}: {label}", data, ".json"))
    return cases[:count]


# --------------------------------------------------------------------------- weights recipes


def _zip_with(entries: dict[str, bytes], *, compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, method)
    return buffer.getvalue()


def weights_cases(rng: random.Random, count: int) -> list[tuple[str, Case]]:
    """(base design name, case): weights for one of :data:`BASE_DESIGNS`, broken."""
    cases: list[tuple[str, Case]] = []
    seen: set[bytes] = set()
    while len(cases) < count:
        base = rng.choice(sorted(BASE_DESIGNS))
        arrays: dict[str, Any] = default_weights(BASE_DESIGNS[base]())
        key = rng.choice(sorted(arrays))
        label, data = _broken_weights(rng, arrays, key)
        if data not in seen:
            seen.add(data)
            cases.append((base, Case("weights", f"{base}: {label}", data, ".npz")))
    return cases


def _broken_weights(rng: random.Random, arrays: dict[str, Any], key: str) -> tuple[str, bytes]:
    entries = {f"{k}.npy": npy_bytes(v) for k, v in arrays.items()}
    recipe = rng.randrange(12)
    if recipe == 0:
        return byte_mutation(rng, npz_bytes(arrays))
    if recipe == 1:
        del arrays[key]
        return f"{key} missing", npz_bytes(arrays)
    if recipe == 2:
        name = rng.choice(("extra.weight", "\x1b[2J", "x" * 300))
        arrays[name] = np.zeros(3, np.float32)
        return f"an unknown array {name[:20]!r}", npz_bytes(arrays)
    if recipe == 3:
        shape = arrays[key].shape
        arrays[key] = np.zeros((*shape, 2) if rng.random() < 0.5 else shape[:-1], np.float32)
        return f"{key} of the wrong shape", npz_bytes(arrays)
    if recipe == 4:
        dtype = rng.choice(("int8", "complex64", "bool", "float16", "U3", "uint64"))
        arrays[key] = arrays[key].astype(dtype)
        return f"{key} as {dtype}", npz_bytes(arrays)
    if recipe == 5:
        value = rng.choice((np.nan, np.inf, -np.inf, 1e38))
        arrays[key] = np.full(arrays[key].shape, value, np.float32)
        return f"{key} all {value}", npz_bytes(arrays)
    if recipe == 6:
        variances = [k for k in arrays if k.endswith("running_var")]
        if not variances:
            return byte_mutation(rng, npz_bytes(arrays))
        arrays[variances[0]] = -np.abs(arrays[variances[0]]) - 1
        return f"{variances[0]} negative", npz_bytes(arrays)
    if recipe == 7:
        entries[f"{key}.npy"] = npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True)
        return f"{key} a pickled object", _zip_with(entries)
    if recipe == 8:
        entries[f"{key}.npy"] = npy_header_only((4096, 2048, 2048))
        return f"{key} header claims 32 GiB", _zip_with(entries)
    if recipe == 9:
        entries["bomb.npy"] = npy_bytes(np.zeros(8 * 1024 * 1024, np.float32))
        return "32 MiB of zeros, compressed, named bomb", _zip_with(entries, compress=True)
    if recipe == 10:
        return "a single .npy, not an .npz", npy_bytes(arrays[key])
    entries[f"{key}.npy"] = entries[f"{key}.npy"][: rng.randrange(10, len(entries[f"{key}.npy"]))]
    return f"{key} cut short inside the archive", _zip_with(entries)


# --------------------------------------------------------------------------- image recipes


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with_size(data: bytes, width: int, height: int, *, fix_crc: bool) -> bytes:
    body = struct.pack(">II", width, height) + data[24:29]
    chunk = _png_chunk(b"IHDR", body)
    if not fix_crc:
        chunk = chunk[:-4] + data[29:33]
    return data[:8] + chunk + data[33:]


def image_cases(rng: random.Random, count: int) -> list[Case]:
    images = base_images()
    names = sorted(images)
    cases: list[Case] = [
        Case(
            "image",
            "npy: object array (a pickle)",
            npy_bytes(np.array([None], object), allow_pickle=True),
            ".npy",
        ),
        Case(
            "image",
            "npy: header claims 4096×2048×2048",
            npy_header_only((4096, 2048, 2048)),
            ".npy",
        ),
        Case("image", "npy: complex", npy_bytes(np.zeros((16, 16, 3), np.complex64)), ".npy"),
        Case("image", "npy: strings", npy_bytes(np.full((16, 16), "ab")), ".npy"),
        Case("image", "npy: NaN", npy_bytes(np.full((16, 16, 3), np.nan, np.float32)), ".npy"),
        Case("image", "npy: 5-D", npy_bytes(np.zeros((1, 1, 16, 16, 3), np.float32)), ".npy"),
        Case("image", "npy: empty", npy_bytes(np.zeros((0, 16, 3), np.float32)), ".npy"),
        Case("image", "npy: 0-D", npy_bytes(np.array(1, np.float32)), ".npy"),
        Case("image", "text named .png", b"hello", ".png"),
        Case("image", "empty .jpg", b"", ".jpg"),
    ]
    seen = {case.data for case in cases}
    png = images["RGB.png"][0]
    for width, height in ((100_000, 100_000), (0, 16), (1, 2**31 - 1)):
        for fix in (True, False):
            crc = "right" if fix else "wrong"
            data = _png_with_size(png, width, height, fix_crc=fix)
            cases.append(Case("image", f"RGB.png: IHDR {width}×{height}, CRC {crc}", data, ".png"))
    while len(cases) < count:
        name = rng.choice(names)
        data, suffix = images[name]
        label, mutated = byte_mutation(rng, data)
        if mutated not in seen:
            seen.add(mutated)
            cases.append(Case("image", f"{name}: {label}", mutated, suffix))
    return cases[:count]


def corpus(seed: int, count: int) -> list[tuple[str, Case]]:
    """``count`` cases of each kind: (base design name, case); a design case's base is ""."""
    rng = random.Random(seed)
    out: list[tuple[str, Case]] = [("", case) for case in design_cases(rng, count)]
    out += weights_cases(rng, count)
    out += [(rng.choice(sorted(BASE_DESIGNS)), case) for case in image_cases(rng, count)]
    return out


# --------------------------------------------------------------------------- running a case


@dataclass
class Outcome:
    status: int | None
    """Exit status; None: it did not finish in time (a hang)."""
    stderr: str
    inputs_changed: bool = False
    output_left: bool = False

    @property
    def verdict(self) -> str:
        """ "accepted" (exit 0, nothing on stderr), "clear error", "traceback" (anything else a
        user would not want to see: another status, several lines, raw control characters, or
        warnings printed beside a result), or "hang"."""
        if self.status is None:
            return "hang"
        if self.status == 0:
            return "accepted" if not self.stderr else "traceback"
        lines = self.stderr.splitlines()
        if (
            self.status == 2
            and len(lines) == 1
            and lines[0].startswith("convdesigner: error: ")
            and not any(ord(c) < 32 or ord(c) == 127 for c in lines[0])
        ):
            return "clear error"
        return "traceback"


def prepare(folder: Path, index: int, base: str, case: Case) -> tuple[list[str], list[Path], Path]:
    """Write the case's files into ``folder``: (command-line arguments, input files, output)."""
    given = folder / f"case{index}{case.suffix}"
    given.write_bytes(case.data)
    out = folder / f"out{index}.npz"
    if case.kind == "design":
        return ["summary", str(given)], [given], out
    design = folder / f"design{index}.json"
    design.write_text(dumps_design(BASE_DESIGNS[base]()), encoding="utf-8")
    if case.kind == "weights":
        image = folder / f"image{index}.npy"
        image.write_bytes(npy_bytes(_gradient(16, 16, 3).astype(np.float32) / 255))
        args = ["run", str(design), "--input", str(image), "--weights", str(given)]
        return [*args, "--out", str(out)], [given, design, image], out
    return (
        ["run", str(design), "--input", str(given), "--resize", "--out", str(out)],
        [given, design],
        out,
    )


def digest(paths: Sequence[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


# --------------------------------------------------------------------------- the campaign


def _run_one(folder: Path, index: int, base: str, case: Case, timeout: float) -> Outcome:
    args, inputs, out = prepare(folder, index, base, case)
    before = digest(inputs)
    command = [sys.executable, "-m", "convdesigner", *args]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, errors="replace"
        )
    except subprocess.TimeoutExpired:
        return Outcome(None, "")
    outcome = Outcome(done.returncode, done.stderr)
    outcome.inputs_changed = digest(inputs) != before
    outcome.output_left = done.returncode != 0 and out.exists()
    if case.kind == "design" and done.returncode == 0:
        # Accepted: the same file through ``weights`` too (the other reader of designs).
        weights = folder / f"w{index}.npz"
        more = subprocess.run(
            [
                sys.executable,
                "-m",
                "convdesigner",
                "weights",
                str(inputs[0]),
                "--out",
                str(weights),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            errors="replace",
        )
        if Outcome(more.returncode, more.stderr).verdict == "traceback":
            outcome = Outcome(more.returncode, more.stderr)
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the malformed-input campaign of issue 12.")
    parser.add_argument("--count", type=int, default=300, help="cases of each kind (300)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before a case is a hang"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    from concurrent.futures import ThreadPoolExecutor

    cases = corpus(args.seed, args.count)
    table: dict[str, collections.Counter[str]] = {kind: collections.Counter() for kind in KINDS}
    bad: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        folder = Path(tmp)
        futures = [
            (case, pool.submit(_run_one, folder, i, base, case, args.timeout))
            for i, (base, case) in enumerate(cases)
        ]
        for case, future in futures:
            outcome = future.result()
            counts = table[case.kind]
            counts["tried"] += 1
            counts[outcome.verdict] += 1
            counts["inputs changed"] += outcome.inputs_changed
            counts["output left"] += outcome.output_left
            if (
                outcome.verdict in ("traceback", "hang")
                or outcome.inputs_changed
                or outcome.output_left
            ):
                tail = outcome.stderr.strip().splitlines()[-1:] or [""]
                bad.append(f"{case.kind}: {case.label!r}: {outcome.verdict} {tail[0][:200]}")
    columns = (
        "tried",
        "clear error",
        "accepted",
        "traceback",
        "hang",
        "inputs changed",
        "output left",
    )
    print(f"seed {args.seed}, {args.count} cases per kind, {time.perf_counter() - started:.0f} s")
    print("| input | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for kind in KINDS:
        print(f"| {kind} | " + " | ".join(f"{table[kind][c]:,}" for c in columns) + " |")
    for line in bad[:50]:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
