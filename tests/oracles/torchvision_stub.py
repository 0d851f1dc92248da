"""Import torchvision's pure-Python models beside the CPU build of torch, or skip the test.

The torchvision wheel that pins our torch (0.28.0 for torch 2.13.0) is a CUDA build: its C
extension does not load beside the CPU torch, and ``import torchvision`` then fails in
``torchvision._meta_registrations``, which registers meta kernels for the extension's operators
(nms, roi_align: "operator torchvision::nms does not exist"). The models need none of those
operators, so when the plain import fails an empty module stands in for ``_meta_registrations``
and the import is retried. Where torchvision's extension loads, the plain import is used unchanged.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

_STUBBED = "torchvision._meta_registrations"


def _forget_torchvision() -> None:
    """Drop the half-imported package so the retry starts from scratch."""
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]


def import_torchvision() -> Any:
    """The torchvision package, stubbing its meta registrations only if the import needs it."""
    pytest.importorskip("torch")
    try:
        import torchvision
    except ImportError:
        pytest.skip("torchvision is not installed")
    except RuntimeError:
        _forget_torchvision()
        sys.modules[_STUBBED] = types.ModuleType(_STUBBED)
        try:
            import torchvision
        except (ImportError, RuntimeError) as exc:
            _forget_torchvision()
            pytest.skip(f"torchvision cannot be imported beside this torch: {exc}")
    return torchvision
