"""Layer weights: deterministic defaults, classic filters, and ``.npz`` files in PyTorch's layout.

The keys are the node's id and the parameter's name, ``{id}.weight``, ``{id}.bias``,
``{id}.running_mean``..., exactly the keys of a torch module at attribute path ``id``, and the
array layouts are torch's (conv (C_out, C_in/groups, kh, kw), dense (out, in)); each op declares
its parameters' shapes (:mod:`convdesigner.core.ops`). A sequential design has the ids "0", "1",
..., so its keys are those of the equivalent ``torch.nn.Sequential``, and a design whose ids are
torchvision's module paths loads torchvision's ``state_dict``: weights move between this tool and
PyTorch with ``np.savez(**{k: v.numpy() for k, v in model.state_dict().items()})`` and
``model.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(f).items()})``.

Default weights are drawn per node from ``(seed, node)``: editing one layer never changes the
random weights of the others, so feature maps stay comparable while a user experiments.
"""

from __future__ import annotations

import math
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

from convdesigner.core.analysis import Analysis, analyse
from convdesigner.core.atomic import atomic_savez
from convdesigner.core.design import Design
from convdesigner.core.errors import ProblemsError
from convdesigner.core.npy_headers import ZIP_ERRORS, check_npz, quiet_old_headers, zip_error_reason
from convdesigner.core.ops import spec_for
from convdesigner.core.safe_io import RefusedFileError, open_regular

FloatArray = np.ndarray
OPTIONAL_KEYS = ("num_batches_tracked",)
"""BatchNorm's step counter: in every torch state_dict, irrelevant at inference, so optional."""

MAX_REPORTED = 12


class WeightsError(ProblemsError):
    """Weights that do not fit the design."""

    max_reported = MAX_REPORTED


def _analysis(design: Design, analysis: Analysis | None = None) -> Analysis:
    if analysis is None or analysis.design is not design:
        analysis = analyse(design)
    bad = analysis.first_error
    if bad is not None:
        where = f"layer {bad.index}" if bad.id == str(bad.index) else f"'{bad.id}'"
        raise ValueError(f"{where} ({bad.name}) has an error: {bad.message}")
    return analysis


def expected_shapes(design: Design, analysis: Analysis | None = None) -> dict[str, tuple[int, ...]]:
    """Every key a complete set of weights has, with its array shape (optional keys included)."""
    shapes: dict[str, tuple[int, ...]] = {}
    analysis = _analysis(design, analysis)
    for index, node in enumerate(design.nodes):
        row = analysis.row_for_layer(index)
        known = tuple(s for s in row.input_shapes if s is not None)
        for name, shape in spec_for(node.op).param_shapes(node.op, known).items():
            shapes[f"{node.id}.{name}"] = shape
    return shapes


def _stream(node_id: str) -> int:
    """The random stream of a node: its position for sequential ids (so default weights are
    those of earlier versions), else a stable number from the id."""
    return int(node_id) if node_id.isdigit() else (1 << 32) + zlib.crc32(node_id.encode())


# --------------------------------------------------------------------------- classic filters


def _grid(kh: int, kw: int) -> tuple[FloatArray, FloatArray]:
    y = np.arange(kh, dtype=np.float64) - (kh - 1) / 2
    x = np.arange(kw, dtype=np.float64) - (kw - 1) / 2
    return y[:, None], x[None, :]


def _unit_positive(k: FloatArray) -> FloatArray:
    """Scale a zero-sum filter so its positive lobe sums to 1 (responses stay in about [-1, 1])."""
    pos = k[k > 0].sum()
    return k / pos if pos > 0 else k


def classic_bank(kh: int, kw: int) -> list[tuple[str, FloatArray]]:
    """Hand-designed filters of size (kh, kw): the textbook 3×3 kernels, and their Gaussian-based
    generalisations for other sizes, so an untrained first layer already shows edges and blur."""
    y, x = _grid(kh, kw)
    delta = np.zeros((kh, kw))
    delta[kh // 2, kw // 2] = 1.0
    if (kh, kw) == (3, 3):
        blur = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 16
        sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64) / 4
        laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64) / 4
    else:
        sy, sx = max(kh / 4, 0.5), max(kw / 4, 0.5)
        gauss = np.exp(-(y**2) / (2 * sy**2) - x**2 / (2 * sx**2))
        blur = gauss / gauss.sum()
        sobel_x = _unit_positive(x * gauss) if kw > 1 else np.zeros((kh, kw))
        laplacian = _unit_positive(blur - delta)
    sobel_y = _sobel_y(kh, kw, y, x) if (kh, kw) != (3, 3) else sobel_x.T.copy()
    return [
        ("identity", delta),
        ("Gaussian blur", blur),
        ("Sobel x (vertical edges)", sobel_x),
        ("Sobel y (horizontal edges)", sobel_y),
        ("Laplacian", laplacian),
        ("sharpen", 2 * delta - blur),
        ("diagonal edges ↗", (sobel_x + sobel_y) / 2),
        ("diagonal edges ↘", (sobel_x - sobel_y) / 2),
    ]


def _sobel_y(kh: int, kw: int, y: FloatArray, x: FloatArray) -> FloatArray:
    if kh == 1:
        return np.zeros((kh, kw))
    sy, sx = max(kh / 4, 0.5), max(kw / 4, 0.5)
    gauss = np.exp(-(y**2) / (2 * sy**2) - x**2 / (2 * sx**2))
    return _unit_positive(y * gauss)


LUMA = np.array([0.299, 0.587, 0.114])
"""Rec. 601 luma weights: a classic filter on RGB input acts on brightness."""


def _classic_conv(weight: FloatArray) -> int:
    """Overwrite the first filters of a (C_out, C_in/g, kh, kw) weight with the classic bank;
    returns how many were replaced."""
    c_out, cg, kh, kw = weight.shape
    bank = classic_bank(kh, kw)
    n: int = min(c_out, len(bank))
    mix = LUMA if cg == 3 else np.full(cg, 1.0 / cg)
    for f in range(n):
        weight[f] = (mix[:, None, None] * bank[f][1][None]).astype(np.float32)
    return n


# --------------------------------------------------------------------------- defaults


def _first_classic_layer(design: Design, analysis: Analysis) -> str | None:
    """The id of the first convolution, when it reads a picture (1 or 3 channels) with a kernel
    of at least 3: its first filters start as the classic bank."""
    for index, layer in enumerate(design.layers):
        if layer.type_name == "conv2d":
            row = analysis.row_for_layer(index)
            assert row.input_shape is not None
            c_in = row.input_shape[0]
            cg = c_in // layer.groups  # type: ignore[attr-defined]
            if c_in in (1, 3) and cg in (1, 3) and max(layer.kernel) >= 3:  # type: ignore[attr-defined]
                return design.nodes[index].id
            return None
    return None


_CACHE_BYTES = 768 * 1024 * 1024
"""Default weights kept between runs: drawing VGG-16's 138 M normal numbers takes about a
second, far longer than running it, and the GUI re-runs a design on every edit."""
_cache: OrderedDict[tuple[int, int, tuple[int, ...], bool], FloatArray] = OrderedDict()
_cache_lock = threading.Lock()


def forget_default_weights() -> int:
    """Drop the cached default weights; returns the bytes released. The next run draws them
    again, as the first run after start does (benchmarks measure that cold run this way)."""
    with _cache_lock:
        released = sum(a.nbytes for a in _cache.values())
        _cache.clear()
    return released


BLOCK_VALUES = 1 << 22
"""Weights drawn per independently seeded block: a layer with more values (VGG-16's dense
layers: 102 M, 17 M and 4 M) is drawn in blocks of this many on all cores, block k from
``(seed, layer index, k)``; drawing VGG-16's first dense layer from one stream took 1-2 s of
the first run, in blocks on two cores 0.6 s. Fixed, so the values do not depend on the machine."""


def _he_normal(seed: int, index: int, shape: tuple[int, ...], scale: np.float32) -> FloatArray:
    """Normal values times ``scale``: one stream ``(seed, index)`` for up to BLOCK_VALUES
    values, else a stream per block, drawn in parallel (NumPy releases the GIL meanwhile)."""
    key = seed & 0xFFFFFFFF
    n = math.prod(shape)
    if n <= BLOCK_VALUES:
        w = np.random.default_rng([key, index]).standard_normal(shape, dtype=np.float32)
        w *= scale
        return w
    from convdesigner.core import parallel

    flat = np.empty(n, dtype=np.float32)

    def block(k: int, _scratch: object) -> None:
        part = flat[k * BLOCK_VALUES : (k + 1) * BLOCK_VALUES]
        np.random.default_rng([key, index, k]).standard_normal(dtype=np.float32, out=part)
        part *= scale

    parallel.run_bands(-(-n // BLOCK_VALUES), block, lambda: None, parallel.WORKERS)
    return flat.reshape(shape)


def _random_weight(seed: int, index: int, shape: tuple[int, ...], classic: bool) -> FloatArray:
    """He-normal weight of layer ``index``, read-only, cached: live editing re-runs a design
    many times, and only the edited layer's weights change."""
    key = (seed, index, shape, classic)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    fan_in = math.prod(shape[1:])
    w = _he_normal(seed, index, shape, np.float32(math.sqrt(2.0 / fan_in)))
    if classic:
        _classic_conv(w)
    w.setflags(write=False)
    if w.nbytes <= _CACHE_BYTES:
        with _cache_lock:
            _cache[key] = w
            total = sum(a.nbytes for a in _cache.values())
            while total > _CACHE_BYTES:
                _, old = _cache.popitem(last=False)
                total -= old.nbytes
    return w


class DefaultWeights(Mapping[str, FloatArray]):
    """The default weights of a design, each drawn when first read (read-only, shared).

    A run reads a layer's weights just before computing it, so the first layers' maps do not
    wait for the rest to be drawn (VGG-16's dense layers hold 123 M of its 138 M weights), and a
    cancelled run never draws the layers it did not reach. The keys are :func:`expected_shapes`.
    """

    def __init__(
        self,
        design: Design,
        seed: int = 0,
        *,
        classic_filters: bool = True,
        analysis: Analysis | None = None,
    ) -> None:
        analysis = _analysis(design, analysis)
        self._design = design
        self._analysis = analysis
        self._seed = seed
        # The table of every key is built only when someone iterates; a run reads its nodes'
        # keys one by one (for a 10,000-node design the whole table was 15-20 ms of pure Python
        # at the start of every viewer run, holding the interpreter while the window repaints).
        self._shapes: dict[str, tuple[int, ...]] | None = None
        self._node_shapes: dict[str, Mapping[str, tuple[int, ...]]] = {}
        self._classic = _first_classic_layer(design, analysis) if classic_filters else None
        self._drawn: dict[str, FloatArray] = {}

    def _shape(self, key: str) -> tuple[int, ...] | None:
        """The shape of ``key``'s array, or None when the design has no such parameter."""
        if self._shapes is not None:
            return self._shapes.get(key)
        node_id, dot, name = key.rpartition(".")
        if not dot or node_id not in self._design:
            return None
        shapes = self._node_shapes.get(node_id)
        if shapes is None:
            row = self._analysis.row(node_id)
            known = tuple(s for s in row.input_shapes if s is not None)
            op = self._design.node(node_id).op
            shapes = self._node_shapes[node_id] = spec_for(op).param_shapes(op, known)
        return shapes.get(name)

    def _table(self) -> dict[str, tuple[int, ...]]:
        if self._shapes is None:
            self._shapes = expected_shapes(self._design, self._analysis)
        return self._shapes

    def __getitem__(self, key: str) -> FloatArray:
        value = self._drawn.get(key)
        if value is None:
            shape = self._shape(key)
            if shape is None:
                raise KeyError(key)
            value = self._drawn[key] = self._draw(key, shape)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._shape(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def _draw(self, key: str, shape: tuple[int, ...]) -> FloatArray:
        node_id, name = key.rsplit(".", 1)
        layer = self._design.node(node_id).op
        if name in spec_for(layer).random_params:
            classic = node_id == self._classic
            return _random_weight(self._seed, _stream(node_id), shape, classic)
        if name == "num_batches_tracked":
            return np.zeros(shape, dtype=np.int64)
        if name in ("weight", "running_var"):  # batch norm: the identity
            return np.ones(shape, dtype=np.float32)
        return np.zeros(shape, dtype=np.float32)  # biases, batch norm shift and mean


def shared_default_weights(
    design: Design, seed: int = 0, *, classic_filters: bool = True
) -> dict[str, FloatArray]:
    """:func:`default_weights` as the cached read-only arrays themselves, shared between calls
    (no copy; :func:`default_weights` copies them for its caller)."""
    return dict(DefaultWeights(design, seed, classic_filters=classic_filters))


def default_weights(
    design: Design, seed: int = 0, *, classic_filters: bool = True
) -> dict[str, FloatArray]:
    """He-normal conv and dense weights, zero biases, identity batchnorm statistics.

    With ``classic_filters`` the first conv layer, when it reads a 1- or 3-channel input with a
    kernel of at least 3, starts with the classic bank (identity, blur, Sobel, ...) and fills its
    remaining filters randomly. The arrays are the caller's own (writable copies).
    """
    shared = shared_default_weights(design, seed, classic_filters=classic_filters)
    return {key: np.array(value, copy=True) for key, value in shared.items()}


# --------------------------------------------------------------------------- checking and files


def check_weights(
    design: Design,
    weights: Mapping[str, object],
    source: str = "",
    *,
    finite: bool = False,
    analysis: Analysis | None = None,
) -> dict[str, FloatArray]:
    """Validate ``weights`` against the design; returns them as float32 (converted only where
    needed; int64 step counters).

    Every missing, extra, mis-shaped or non-numeric entry is reported at once, and with
    ``finite`` every one holding NaN or infinity (a full scan, so done when loading a file, not
    on every run).
    """
    shapes = expected_shapes(design, analysis)
    problems: list[str] = []
    missing = [k for k in shapes if k not in weights and k.rsplit(".", 1)[1] not in OPTIONAL_KEYS]
    if missing:
        problems.append("missing " + ", ".join(repr(k) for k in missing))
    extra = [k for k in weights if k not in shapes]
    if extra:
        problems.append("unexpected " + ", ".join(repr(k) for k in extra))
    out: dict[str, FloatArray] = {}
    for key, shape in shapes.items():
        if key not in weights:
            if key.rsplit(".", 1)[1] in OPTIONAL_KEYS:
                out[key] = np.zeros(shape, dtype=np.int64)
            continue
        value = weights[key]
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            problems.append(f"{key!r} must be a numeric array, got {kind}")
            continue
        if value.shape != shape:
            problems.append(f"{key!r} has shape {value.shape}, expected {shape}")
            continue
        if finite and not np.isfinite(value).all():
            # A step counter too: unused here, but NaN there means a damaged file (and its
            # cast to an integer printed NumPy's "invalid value" warning).
            problems.append(f"{key!r} contains NaN or infinite values")
            continue
        if key.rsplit(".", 1)[1] in OPTIONAL_KEYS:
            out[key] = value.astype(np.int64)
            continue
        if finite and key.endswith(".running_var") and (value < 0).any():
            # Its square root would make every later map NaN, with no error anywhere.
            problems.append(f"{key!r} has negative values; a variance is never negative")
            continue
        out[key] = np.ascontiguousarray(value, dtype=np.float32)
    if problems:
        raise WeightsError(problems, source)
    return out


def load_weights(
    design: Design, path: str | os.PathLike[str], *, analysis: Analysis | None = None
) -> dict[str, FloatArray]:
    """Read an ``.npz`` weights file (no pickles) and check it against ``design``.

    Names, shapes and types are checked from the zip directory and the arrays' headers first,
    and only arrays the design expects, in the shape it expects, are read: a small compressed
    file cannot make this allocate more than the design's own weights.
    """
    name = os.fspath(path)
    try:
        with open_regular(name, "a weights file") as handle:
            found = check_npz(handle, expected_shapes(design, analysis))
            handle.seek(0)
            with quiet_old_headers(), np.load(handle, allow_pickle=False) as data:
                arrays = {key: data[key] for key in found.readable}
    except RefusedFileError as exc:  # a FIFO or a device
        raise WeightsError([exc.reason], name) from None
    except FileNotFoundError:
        raise WeightsError(["file not found"], name) from None
    except IsADirectoryError:
        raise WeightsError(["is a directory, not a weights file"], name) from None
    except PermissionError:
        raise WeightsError(["permission denied"], name) from None
    except ZIP_ERRORS as exc:
        reason = zip_error_reason(exc)
        if reason.startswith("not an .npz archive"):
            raise WeightsError([reason], name) from None
        if "pickle" in reason.lower():
            reason = "contains pickled objects, which are refused for safety"
        raise WeightsError([f"not a readable .npz weights file ({reason})"], name) from None
    arrays.update(found.stand_ins)
    try:
        checked = check_weights(design, arrays, name, finite=True, analysis=analysis)
    except WeightsError as exc:
        raise WeightsError(found.problems + exc.problems, name) from None
    if found.problems:
        raise WeightsError(found.problems, name)
    for key, value in checked.items():
        # Arrays of our own, read-only: the engine's prepared-weights cache then knows they
        # cannot change and never hashes them again (about 1 ms per MB on every run otherwise).
        # np.load hands out views of a private buffer: one copy each, one array at a time.
        if value.base is not None:
            value = checked[key] = value.copy()
        value.setflags(write=False)
    return checked


def save_weights(weights: Mapping[str, FloatArray], path: str | os.PathLike[str]) -> None:
    """Write ``weights`` as an uncompressed ``.npz`` atomically (temporary file, then rename)."""
    atomic_savez(path, weights)
