"""The Qt user interface (the only package that imports PySide6 and pyqtgraph).

Importing it first works around a reference-counting bug seen with PySide6 6.12 on Python 3.11:
every call of a Qt method that returns nothing (``setText``, ``QPainter.drawLine``...) releases
one reference to ``None`` that it never took. Python 3.12+ makes ``None`` immortal, so the bug is
invisible there; on 3.11 ``None``'s count reaches zero after some hundred thousand calls and the
interpreter aborts ("deallocating None"), i.e. the app dies after a minute of painting; True and
False lose references on similar paths. Giving these singletons an effectively unbounded count is
exactly what 3.12 does (PEP 683), and harmless otherwise.
"""

from __future__ import annotations

import sys


def _make_singletons_immortal() -> None:
    if sys.version_info >= (3, 12):
        return
    import ctypes

    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        if refcount.value < 1 << 40:
            refcount.value += 1 << 50


_make_singletons_immortal()
