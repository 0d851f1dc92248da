"""Run a design on one image: every node's output, cancellable, within a memory limit.

The nodes run in the design's order (an execution order by construction); each op's kernel comes
from the registry, and a convolution is fused with the per-value ops and the pooling layer that
follow it when each of them is the single reader of the one before (the band loop then keeps
the intermediate rows in cache). The analysis decides every shape and the padding actually
applied, and the engine only executes it, so the feature maps and the layer table can never
disagree. Maps travel between layers
channels-last (H, W, C), the layout the convolution kernels want, and are returned to the caller
as (C, H, W) views of those same arrays (no copy).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from convdesigner.core import parallel
from convdesigner.core.analysis import Analysis, LayerRow, analyse
from convdesigner.core.cancel import Cancelled, CancelToken
from convdesigner.core.design import INPUT_ID, Design
from convdesigner.core.engine import fold, pipeline
from convdesigner.core.engine.memory import (
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    check_limit,
    estimate_from_analysis,
)
from convdesigner.core.kernels import buffers, conv, pool
from convdesigner.core.kernels.budget import CHUNK_BUDGET
from convdesigner.core.ops import spec_for
from convdesigner.core.ops.base import OpSpec
from convdesigner.core.ops.common import pads4
from convdesigner.core.switching import checkpoint

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "MemoryLimitError",
    "estimate_memory",
    "run_design",
    "run_graph",
]

FloatArray = np.ndarray
Progress = Callable[[int, int], None]


def _checked_analysis(design: Design, analysis: Analysis | None = None) -> Analysis:
    if analysis is None or analysis.design is not design:
        analysis = analyse(design)
    bad = analysis.first_error
    if bad is not None:
        where = f"layer {bad.index}" if bad.id == str(bad.index) else f"'{bad.id}'"
        raise ValueError(f"{where} ({bad.name}): {bad.message}")
    return analysis


def estimate_memory(design: Design, analysis: Analysis | None = None) -> int:
    """Bytes a run of ``design`` needs: activations, parameters, working copies, chunk budget."""
    return estimate_from_analysis(_checked_analysis(design, analysis))


def _check_image(design: Design, image: object) -> FloatArray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"the image must be a NumPy array, got {type(image).__name__}")
    expected = design.input.shape
    if image.shape != expected:
        if len(expected) == 3:
            c, h, w = expected
            wanted = f"(C, H, W) = ({c}, {h}, {w})"
        else:
            wanted = str(expected)
        raise ValueError(
            f"the image has shape {image.shape}, but the design's input is {wanted}; resize it "
            "or change the input size"
        )
    if image.dtype.kind not in "fiub":
        raise ValueError(f"the image must hold numbers, got dtype {image.dtype}")
    return image


def _channels_last(chw: np.ndarray) -> FloatArray:
    """A float32 (H, W, C) copy of the caller's (C, H, W) image. With few channels, one strided
    copy per channel: NumPy's generic transposition into a 3-wide last axis is 5-10× slower
    (about 4 ms at 3×512×512, several % of a run)."""
    c, h, w = chw.shape
    x = buffers.empty((h, w, c))
    if c <= 4:
        for i in range(c):
            x[:, :, i] = chw[i]
    else:
        x[...] = chw.transpose(1, 2, 0)
    return x


def _to_chw(y: FloatArray) -> FloatArray:
    return y.transpose(2, 0, 1) if y.ndim == 3 else y


class NodeParams(Mapping[str, FloatArray]):
    """One node's parameters by local name (``weight``), read from the design's ``{id}.weight``
    keys only when asked, so default weights are drawn as the run reaches each node."""

    __slots__ = ("_all", "_prefix")

    def __init__(self, params: Mapping[str, FloatArray], node_id: str) -> None:
        self._all = params
        self._prefix = node_id + "."

    def __getitem__(self, key: str) -> FloatArray:
        return self._all[self._prefix + key]

    def __iter__(self) -> Iterator[str]:
        n = len(self._prefix)
        return (k[n:] for k in self._all if k.startswith(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def run_design(
    design: Design,
    image: np.ndarray,
    weights: Mapping[str, np.ndarray] | None = None,
    *,
    seed: int = 0,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    on_output: Callable[[int, np.ndarray], None] | None = None,
    analysis: Analysis | None = None,
) -> list[np.ndarray]:
    """The input and every node's output for one (C, H, W) image, as float32 arrays.

    Maps are (C, H, W), vectors 1-D; ``outputs[0]`` is the input and ``outputs[i + 1]`` node
    ``i``'s output. ``weights`` (keys ``{id}.weight``...) default to :func:`default_weights` of
    ``seed``, each node's drawn just before it runs. ``analysis`` is the design's analysis when
    the caller has it (computed once per run, not again here). ``on_output(index, output)`` is
    called as soon as node ``index``'s output exists. Raises ValueError (design error, wrong
    image, bad weights), :class:`MemoryLimitError` before allocating anything if the estimate
    exceeds ``memory_limit``, or :class:`Cancelled`.
    """
    outputs = run_graph(
        design,
        image,
        weights,
        seed=seed,
        cancel=cancel,
        progress=progress,
        memory_limit=memory_limit,
        keep_all=True,
        analysis=analysis,
        on_output=on_output,
    )
    return list(outputs.values())


def run_graph(
    design: Design,
    image: np.ndarray,
    weights: Mapping[str, np.ndarray] | None = None,
    *,
    seed: int = 0,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    keep_all: bool = False,
    analysis: Analysis | None = None,
    on_output: Callable[[int, np.ndarray], None] | None = None,
) -> dict[str, np.ndarray]:
    """Outputs by id (``"input"`` first): every node's with ``keep_all`` (the viewer's case),
    otherwise only the design's outputs, each other result freed after its last reader."""
    from convdesigner.core.weights import DefaultWeights, check_weights

    analysis = _checked_analysis(design, analysis)
    check_limit(estimate_from_analysis(analysis, keep_all=keep_all), memory_limit)
    chw = _check_image(design, image)
    params: Mapping[str, np.ndarray] = (
        DefaultWeights(design, seed, analysis=analysis)
        if weights is None
        else check_weights(design, weights, analysis=analysis)
    )

    def check() -> None:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("the run was cancelled")

    # One BLAS thread for the whole run: the engine runs one band per core itself, and an
    # OpenBLAS pool that has just been busy keeps its threads spinning for a while, stealing
    # the cores from the band threads.
    blas = parallel.blas_single_thread() if parallel.WORKERS > 1 else contextlib.nullcontext()
    with blas:
        return _Executor(design, analysis, params, check, progress, keep_all, on_output).run(chw)


class _Executor:
    """One run: walks the nodes in order, fusing convolution chains, freeing dead outputs."""

    def __init__(
        self,
        design: Design,
        analysis: Analysis,
        params: Mapping[str, FloatArray],
        check: Callable[[], None],
        progress: Progress | None,
        keep_all: bool,
        on_output: Callable[[int, np.ndarray], None] | None,
    ) -> None:
        self.design = design
        self.analysis = analysis
        self.params = params
        self.check = check
        self.progress = progress
        self.keep_all = keep_all
        self.on_output = on_output
        self.layers = design.layers  # a property that builds a tuple on every call
        self.specs = [spec_for(layer) for layer in self.layers]
        checkpoint()  # each of these is milliseconds of pure Python for 10,000 nodes
        self.inputs = design.resolved_inputs
        self.consumers = design.consumers
        checkpoint()
        # Readers still to run, per id: an output is dropped when this reaches zero.
        self.pending = {key: len(readers) for key, readers in self.consumers.items()}
        self.keep = set(design.outputs)
        # No one sees an intermediate map: fused stages may work in place and batch norm may be
        # folded into the convolution before it (see fold.py).
        self.reuse = not keep_all and on_output is None

    def run(self, chw: FloatArray) -> dict[str, FloatArray]:
        x = _channels_last(chw)
        live: dict[str, FloatArray] = {INPUT_ID: x}
        result: dict[str, FloatArray] = {INPUT_ID: x.transpose(2, 0, 1)}
        nodes = self.design.nodes
        n = len(nodes)
        index = 0
        while index < n:
            self.check()
            spec = self.specs[index]
            sources = self.inputs[index]
            ins = [live[s] for s in sources]
            if spec.fuse == "conv":
                length = self._chain_length(index)
                for k in range(index, index + length):
                    if self.progress is not None:
                        self.progress(k, n)
                outs = self._run_chain(index, length, ins[0], live)
            else:
                if self.progress is not None:
                    self.progress(index, n)
                outs = [self._run_node(index, spec, ins)]
            for k, y in enumerate(outs):
                position = index + k
                node_id = nodes[position].id
                live[node_id] = y
                shown = _to_chw(y)
                if self.keep_all or node_id in self.keep:
                    result[node_id] = shown
                if self.on_output is not None:
                    self.on_output(position, shown)
                self._release(self.inputs[position], live)
            index += len(outs)
        self.check()
        return result

    def _release(self, sources: tuple[str, ...], live: dict[str, FloatArray]) -> None:
        """Forget each source whose last reader has run (the arrays go back to the pool)."""
        for s in sources:
            self.pending[s] -= 1
            if self.pending[s] == 0 and not self.keep_all:
                live.pop(s, None)

    def _chain_length(self, start: int) -> int:
        """The conv at ``start``, the per-value ops after it and one pooling op if next, each
        the only reader of the one before (fusing past a second reader would hide a map)."""
        nodes = self.design.nodes
        end = start + 1

        def follows(k: int) -> bool:
            prev = nodes[k - 1].id
            if self.consumers[prev] != (nodes[k].id,):
                return False
            if self.specs[k].fuse == "sum":
                # The previous map is one of the first two addends (so the sum is added up in
                # the same order as the unfused kernel) and is read once.
                ins = self.inputs[k]
                return prev in ins[:2] and ins.count(prev) == 1
            return self.inputs[k] == (prev,)

        while end < len(nodes) and self.specs[end].fuse in ("pointwise", "sum") and follows(end):
            end += 1
        if end < len(nodes) and self.specs[end].fuse == "pool" and follows(end):
            end += 1
        return end - start

    def _params(self, index: int) -> NodeParams:
        return NodeParams(self.params, self.design.nodes[index].id)

    def _run_chain(
        self, start: int, length: int, x: FloatArray, live: Mapping[str, FloatArray]
    ) -> list[FloatArray]:
        layers = self.layers
        nodes = self.design.nodes
        first = layers[start]
        row = self.analysis.row_for_layer(start)
        own = self._params(start)
        weight, bias = own["weight"], own.get("bias")
        follow = start + 1
        folded_into_conv = False
        if self.reuse and length > 1 and self.specs[follow].fuse == "pointwise":
            pointwise = self.specs[follow].pointwise
            assert pointwise is not None
            scale, shift, relu = pointwise(layers[follow], self._params(follow))
            if scale is not None and shift is not None and not relu:
                weight, bias = fold.folded(weight, bias, scale, shift)
                folded_into_conv = True
        budget = CHUNK_BUDGET // max(1, parallel.WORKERS)
        kernel = conv.ConvKernel(x, weight, bias, _conv_geometry(first, row), budget)
        shape = kernel.out.shape
        stages: list[pipeline.Elementwise] = []
        pooling: pipeline.PoolStage | None = None
        for index in range(start + 1, start + length):
            layer = layers[index]
            spec = self.specs[index]
            if index == follow and folded_into_conv:
                stages.append(pipeline.Elementwise(shape, None, None, False, passthrough=True))
            elif spec.fuse == "pointwise":
                assert spec.pointwise is not None
                scale, shift, relu = spec.pointwise(layer, self._params(index))
                passthrough = scale is None and not relu
                stages.append(
                    pipeline.Elementwise(shape, scale, shift, relu, passthrough, inplace=self.reuse)
                )
            elif spec.fuse == "sum":
                prev = nodes[index - 1].id
                others = [live[s] for s in self.inputs[index] if s != prev]
                stages.append(
                    pipeline.Elementwise(
                        shape, None, None, False, addends=others, inplace=self.reuse
                    )
                )
            else:
                row = self.analysis.row_for_layer(index)
                assert spec.pool_mode is not None
                is_max, counts_padding = spec.pool_mode(layer)
                pooling = pipeline.PoolStage(
                    _pool_geometry(layer, row),
                    is_max=is_max,
                    include_pad=counts_padding,
                    channels=shape[2],
                )
        return pipeline.run_chain(kernel, stages, pooling, self.check)

    def _run_node(self, index: int, spec: OpSpec, ins: list[FloatArray]) -> FloatArray:
        layer = self.layers[index]
        params = self._params(index)
        if spec.fuse == "dense":
            return pipeline.dense(ins[0], params["weight"], params.get("bias"), self.check)
        row = self.analysis.row_for_layer(index)
        y: FloatArray = spec.run(layer, row, ins, params)
        return y


def _conv_geometry(layer: Any, row: LayerRow) -> conv.ConvGeometry:
    shape = row.output_shape
    assert shape is not None
    assert row.padding is not None
    return conv.ConvGeometry(
        kernel=layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=pads4(row.padding),
        groups=layer.groups,
        out_hw=(shape[1], shape[2]),
    )


def _pool_geometry(layer: Any, row: LayerRow) -> pool.PoolGeometry:
    shape = row.output_shape
    assert shape is not None
    assert row.padding is not None
    assert row.stride is not None
    return pool.PoolGeometry(
        layer.kernel, (row.stride[0], row.stride[1]), pads4(row.padding), (shape[1], shape[2])
    )
