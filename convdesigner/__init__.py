"""convdesigner: design convolutional networks and see shapes, costs and feature maps live.

Importing the package loads no Qt: the scripting API below is the Qt-free core, so notebooks,
scripts and the command line work on machines without a display.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import Design, InputSpec, Node
from convdesigner.core.fileformat import DesignFileError, load_design, save_design

__all__ = [
    "Analysis",
    "Design",
    "DesignFileError",
    "InputSpec",
    "Node",
    "__version__",
    "analyse",
    "default_weights",
    "load_design",
    "load_weights",
    "run",
    "save_design",
    "to_csv",
    "to_dict",
    "to_text",
]

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    import numpy as np


def run(
    design: Design,
    image: np.ndarray,
    weights: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
) -> list[np.ndarray]:
    """The input and every layer's output for a (C, H, W) float32 image (engine imported lazily,
    so ``import convdesigner`` stays cheap)."""
    from convdesigner.core.engine.forward import run_design

    return run_design(design, image, weights, seed=seed)


def to_csv(analysis: Analysis, path: str | os.PathLike[str] | None = None) -> str:
    """The layer table as CSV text (also written to ``path``), as ``convdesigner summary
    --format csv`` prints it."""
    from convdesigner.core.table import to_csv as _to_csv

    return _to_csv(analysis, path)


def to_dict(analysis: Analysis) -> dict[str, object]:
    """Rows (with derivations) and totals, JSON-ready."""
    from convdesigner.core.table import to_dict as _to_dict

    return _to_dict(analysis)


def to_text(analysis: Analysis, *, explain: bool = False) -> str:
    """The fixed-width table ``convdesigner summary`` prints."""
    from convdesigner.core.table import to_text as _to_text

    return _to_text(analysis, explain=explain)


def default_weights(design: Design, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded default weights in ``torch.nn.Sequential`` state_dict layout."""
    from convdesigner.core import weights as _weights

    return _weights.default_weights(design, seed)


def load_weights(design: Design, path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read and check an ``.npz`` of weights (state_dict layout) for ``design``."""
    from convdesigner.core import weights as _weights

    return _weights.load_weights(design, path)
