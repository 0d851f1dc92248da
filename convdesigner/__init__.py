"""convdesigner: design convolutional networks and see shapes, costs and feature maps live.

Importing the package loads no Qt: the scripting API below is the Qt-free core, so notebooks,
scripts and the command line work on machines without a display.
"""

from __future__ import annotations

__version__ = "0.1.0"

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.fileformat import DesignFileError, load_design, save_design

__all__ = [
    "Analysis",
    "Design",
    "DesignFileError",
    "InputSpec",
    "__version__",
    "analyse",
    "load_design",
    "save_design",
]
