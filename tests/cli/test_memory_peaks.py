"""Issue 12 item 7: the memory estimate bounds what a command really uses.

Each command runs in a subprocess that records its peak resident memory after the imports
(``resource.getrusage``'s high-water mark) and again at the end; the growth must stay within the
estimate the command checks its limit against. Before, ``run`` copied every feature map for the
.npz writer (peaking far above its estimate) and ``weights`` copied every array twice.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.memory import estimate_from_analysis, estimate_weights
from convdesigner.core.fileformat import save_design
from convdesigner.core.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")

PROBE = """
import resource, sys
import numpy, PIL.Image
import convdesigner.cli, convdesigner.core.engine.forward, convdesigner.core.weights
import convdesigner.core.images, convdesigner.core.activations
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
code = convdesigner.cli.main(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(code, (peak - base) * 1024)
"""


def _growth(*args: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300
    )
    code, growth = run.stdout.split()
    assert code == "0", run.stderr
    return int(growth)


def _saved(design: Design, folder: Path) -> tuple[Path, Design]:
    path = folder / f"{design.name}.json"
    save_design(design, path)
    return path, design


@pytest.fixture(scope="module")
def maps_heavy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Design]:
    # About 150 MB of feature maps and almost no weights, so the estimate has no slack from the
    # parameters: a copy of every map for the writer would exceed it.
    layers = [Conv2D(64, 3, padding=1), ReLU(), Conv2D(64, 3, padding=1), ReLU(), MaxPool2D(4)]
    design = Design(InputSpec(384, 384, 3), layers, name="maps")
    return _saved(design, tmp_path_factory.mktemp("mem"))


@pytest.fixture(scope="module")
def weights_heavy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Design]:
    # About 220 MB of weights: a second copy of them would exceed the estimate.
    layers = [MaxPool2D(16), Flatten(), Dense(3000), ReLU(), Dense(10)]
    design = Design(InputSpec(384, 384, 3), [Conv2D(32, 3, padding=1), *layers], name="dense")
    return _saved(design, tmp_path_factory.mktemp("mem"))


def test_run_stays_within_its_estimate(maps_heavy: tuple[Path, Design], tmp_path: Path) -> None:
    path, design = maps_heavy
    image = tmp_path / "image.npy"
    np.save(image, np.random.default_rng(0).random((3, 384, 384), dtype=np.float32))
    out = tmp_path / "maps.npz"
    growth = _growth("run", str(path), "--input", str(image), "--out", str(out))
    estimate = estimate_from_analysis(analyse(design))
    assert growth <= estimate, (growth, estimate)
    with np.load(out) as data:
        assert list(data.files) == ["input", *design.ids]


def test_weights_stays_within_its_estimate(
    weights_heavy: tuple[Path, Design], tmp_path: Path
) -> None:
    path, design = weights_heavy
    out = tmp_path / "w.npz"
    growth = _growth("weights", str(path), "--out", str(out))
    estimate = estimate_weights(analyse(design))
    assert growth <= estimate, (growth, estimate)
    assert out.stat().st_size > analyse(design).totals.parameter_bytes


def test_weights_refuses_more_than_the_memory_limit(tmp_path: Path) -> None:
    big = {
        "input": {"height": 1, "width": 1, "channels": 1},
        "layers": [
            {"type": "flatten"},
            {"type": "dense", "units": 1_000_000},
            {"type": "dense", "units": 1_000_000},
        ],
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(big), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "convdesigner", "weights", str(path), "--out", str(tmp_path / "w")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "drawing the weights needs about" in run.stderr
    assert run.stderr.count("\n") == 1
    assert not (tmp_path / "w").exists()
