"""The user documentation, shipped as convdesigner.docs so Help → User Guide and Formulas open
the pages offline, from a pip install or the frozen app alike."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
USER_GUIDE = ROOT / "user-guide.md"
FORMULAS = ROOT / "formulas.md"
