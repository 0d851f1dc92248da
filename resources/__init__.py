"""Bundled data: design templates, sample images and icons (shipped as convdesigner.resources)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
DESIGNS = ROOT / "designs"
SAMPLES = ROOT / "samples"
ICONS = ROOT / "icons"
