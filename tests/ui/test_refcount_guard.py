"""convdesigner.ui's None/True/False guard keeps long viewer sessions from aborting.

With PySide6 6.12 on Python 3.11 every ImageItem.setImage lost a reference to None or a bool;
the guarded subprocess must survive more renders than those objects have references.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    import numpy as np
    import pyqtgraph as pg
    if sys.argv[1] == "guarded":
        import convdesigner.ui  # its import makes None, True and False immortal on 3.11
    widget = pg.GraphicsLayoutWidget()
    view = widget.addViewBox()
    item = pg.ImageItem()
    view.addItem(item)
    image = np.zeros((2, 2, 4), np.uint8)
    start = sys.getrefcount(None)
    for _ in range(int(sys.argv[2])):
        item.setImage(image, autoLevels=False)
    print(start, sys.getrefcount(None))
    """
)


def run(mode: str, n: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(n)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_guard_survives_more_renders_than_none_has_references() -> None:
    probe = run("unguarded", 200)
    assert probe.returncode == 0, probe.stderr
    start, end = map(int, probe.stdout.split())
    lost_per_call = (start - end) / 200
    if lost_per_call < 0.5:
        pytest.skip("this PySide6 does not lose references to None")
    n = int(start / lost_per_call * 1.5)  # enough calls to drive None's count through zero
    crash = run("unguarded", n)
    assert crash.returncode != 0
    assert "deallocating" in crash.stderr  # None, or True/False, whichever runs out first
    guarded = run("guarded", n)
    assert guarded.returncode == 0, guarded.stderr[-2000:]
