"""Keep a PySide6 reference-counting bug from aborting the app on Python 3.11.

With PySide6 6.12 on Python 3.11, a Python override of a Qt virtual that returns ``None`` where
Qt expects a QVariant loses one reference to None on every call (measured here:
``ImageItem.setImage`` loses one, ``ViewBox.addItem`` four, ``QModelIndex.data()`` called from
Python one when the model returns None); True and False lose references on similar paths. These
objects start with a few thousand references, so after a few thousand renders of the live feature
maps a count reaches zero and the interpreter aborts with "none_dealloc: deallocating None" (or
"bool_dealloc"). Python 3.12 made them immortal (PEP 683), which makes lost references harmless;
this module gives 3.11 the same property by raising their reference counts far above anything a
session can lose. It does nothing on 3.12 and later.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 40
"""References added: at a million lost per second, enough for decades."""


def protect_singletons() -> bool:
    """Make None, True and False practically immortal on Python < 3.12; True if changed."""
    if sys.version_info >= (3, 12):
        return False
    changed = False
    for obj in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(obj))
        if count.value < _HEADROOM:
            count.value += _HEADROOM  # the GIL is held: no other thread changes it meanwhile
            changed = True
    return changed
