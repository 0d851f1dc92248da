"""Batch normalisation folded into the convolution before it, for runs that keep no
intermediate map.

At inference a batch norm is a per-channel scale and shift, so ``bn(conv(x))`` equals a
convolution with each filter scaled and a new bias: ``w'[o] = w[o]·s[o]``,
``b'[o] = b[o]·s[o] + t[o]``. A run that keeps only the design's outputs (``convdesigner run``
without ``--all``, the benchmarks, exports' checks) never shows the convolution's own output, so
it may compute the folded one and skip a whole pass over the map per convolution, as
onnxruntime and TensorRT do. The viewer keeps every map and never folds: it shows the
convolution's output exactly as the layer table describes it.

The folded weights are remembered for as long as the original weight array lives and keeps its
contents (same rules as :func:`convdesigner.core.kernels.conv.prepared_weights`), so a run over
unchanged weights folds nothing again and the convolution's prepared GEMM or Winograd weights
(cached by array identity) are reused too.
"""

from __future__ import annotations

import hashlib
import threading
import weakref

import numpy as np

from convdesigner.core.kernels.conv import fingerprint

FloatArray = np.ndarray

_folded: dict[int, tuple[bytes, FloatArray, FloatArray]] = {}
_lock = threading.Lock()


def folded(
    weight: FloatArray, bias: FloatArray | None, scale: FloatArray, shift: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(weight, bias) of the convolution followed by the per-channel ``scale`` and ``shift``;
    read-only arrays owning their data, the same objects while nothing changed."""
    h = hashlib.blake2b(digest_size=16)
    h.update(fingerprint(weight))
    for part in (bias, scale, shift):
        if part is None:
            h.update(b"-")
        else:
            h.update(np.ascontiguousarray(part, dtype=np.float32).data.cast("B"))
    digest = h.digest()
    key = id(weight)
    with _lock:
        entry = _folded.get(key)
    if entry is not None and entry[0] == digest:
        return entry[1], entry[2]
    s = np.asarray(scale, dtype=np.float32)
    w = np.ascontiguousarray(weight * s.reshape(-1, *([1] * (weight.ndim - 1))), np.float32)
    b = s * (0.0 if bias is None else bias) + shift
    b = np.ascontiguousarray(b, dtype=np.float32)
    w.setflags(write=False)
    b.setflags(write=False)
    with _lock:
        _folded[key] = (digest, w, b)
    if entry is None:  # one finalizer per array; a changed array replaces its entry
        weakref.finalize(weight, _folded.pop, key, None)
    return w, b
