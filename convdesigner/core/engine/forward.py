"""Run a design on one image: every layer's output, cancellable, within a memory limit.

The analysis decides every shape and the padding actually applied, and the engine only executes
it, so the feature maps and the layer table can never disagree. Maps travel between layers
channels-last (H, W, C), the layout the convolution kernels want, and are returned to the caller
as (C, H, W) views of those same arrays (no copy).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

import numpy as np

from convdesigner.core import parallel
from convdesigner.core.analysis import Analysis, LayerRow, analyse
from convdesigner.core.cancel import Cancelled, CancelToken
from convdesigner.core.design import Design
from convdesigner.core.engine import buffers, conv, ops, pipeline, pool
from convdesigner.core.engine.memory import (
    CHUNK_BUDGET,
    DEFAULT_MEMORY_LIMIT,
    MemoryLimitError,
    check_limit,
    estimate_from_analysis,
)
from convdesigner.core.layers import (
    AvgPool2D,
    BatchNorm2D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    Layer,
    MaxPool2D,
    ReLU,
)

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "MemoryLimitError",
    "estimate_memory",
    "run_design",
]

FloatArray = np.ndarray
Progress = Callable[[int, int], None]


def _checked_analysis(design: Design) -> Analysis:
    analysis = analyse(design)
    bad = analysis.first_error
    if bad is not None:
        raise ValueError(f"layer {bad.index} ({bad.name}): {bad.message}")
    return analysis


def estimate_memory(design: Design) -> int:
    """Bytes a run of ``design`` needs: activations, parameters, working copies, chunk budget."""
    return estimate_from_analysis(_checked_analysis(design))


def _check_image(design: Design, image: object) -> FloatArray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"the image must be a NumPy array, got {type(image).__name__}")
    expected = design.input.shape
    if image.shape != expected:
        c, h, w = expected
        raise ValueError(
            f"the image has shape {image.shape}, but the design's input is (C, H, W) = "
            f"({c}, {h}, {w}); resize it or change the input size"
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
) -> list[np.ndarray]:
    """The input and every layer's output for one (C, H, W) image, as float32 arrays.

    Maps are (C, H, W), vectors 1-D. ``weights`` default to :func:`default_weights` of ``seed``,
    each layer's drawn just before it runs. ``on_output(index, output)`` is called as soon as
    layer ``index``'s output exists (the array that is returned), so a viewer can show an early
    layer before the rest has run. Raises ValueError (design error, wrong image, bad weights),
    :class:`MemoryLimitError` before allocating anything if the estimate exceeds
    ``memory_limit``, or :class:`Cancelled`.
    """
    from convdesigner.core.weights import DefaultWeights, check_weights

    analysis = _checked_analysis(design)
    check_limit(estimate_from_analysis(analysis), memory_limit)
    chw = _check_image(design, image)
    params: Mapping[str, np.ndarray] = (
        DefaultWeights(design, seed) if weights is None else check_weights(design, weights)
    )

    def check() -> None:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("the run was cancelled")

    # One BLAS thread for the whole run: the engine runs one band per core itself, and an
    # OpenBLAS pool that has just been busy keeps its threads spinning for a while, stealing
    # the cores from the band threads.
    blas = parallel.blas_single_thread() if parallel.WORKERS > 1 else contextlib.nullcontext()
    with blas:
        return _run_layers(design, analysis, chw, params, check, progress, on_output)


def _run_layers(
    design: Design,
    analysis: Analysis,
    chw: FloatArray,
    params: Mapping[str, FloatArray],
    check: Callable[[], None],
    progress: Progress | None,
    on_output: Callable[[int, np.ndarray], None] | None = None,
) -> list[FloatArray]:
    x = _channels_last(chw)
    outputs: list[FloatArray] = [x.transpose(2, 0, 1)]
    layers = design.layers
    n = len(layers)
    index = 0
    while index < n:
        check()
        layer = layers[index]
        if isinstance(layer, Conv2D):
            chain = _chain_length(layers, index)
            for k in range(index, index + chain):
                if progress is not None:
                    progress(k, n)
            results = _run_chain(layers, analysis, index, chain, x, params, check)
        else:
            if progress is not None:
                progress(index, n)
            results = [_run_layer(layer, analysis.row_for_layer(index), x, params, index, check)]
        for k, y in enumerate(results):
            outputs.append(_to_chw(y))
            if on_output is not None:
                on_output(index + k, outputs[-1])
        x = results[-1]
        index += len(results)
    check()
    return outputs


_PER_VALUE = (ReLU, BatchNorm2D, Dropout)


def _chain_length(layers: tuple[Layer, ...], start: int) -> int:
    """The conv at ``start``, the per-value layers after it, and one pooling layer if next."""
    end = start + 1
    while end < len(layers) and isinstance(layers[end], _PER_VALUE):
        end += 1
    if end < len(layers) and isinstance(layers[end], MaxPool2D | AvgPool2D):
        end += 1
    return end - start


def _conv_geometry(layer: Conv2D, row: LayerRow) -> conv.ConvGeometry:
    shape = row.output_shape
    assert shape is not None
    assert row.padding is not None
    return conv.ConvGeometry(
        kernel=layer.kernel,
        stride=layer.stride,
        dilation=layer.dilation,
        padding=row.padding,
        groups=layer.groups,
        out_hw=(shape[1], shape[2]),
    )


def _pool_geometry(layer: MaxPool2D | AvgPool2D, row: LayerRow) -> pool.PoolGeometry:
    shape = row.output_shape
    assert shape is not None
    assert row.padding is not None
    assert row.stride is not None
    return pool.PoolGeometry(layer.kernel, row.stride, row.padding, (shape[1], shape[2]))


def _bn_scale_shift(
    params: Mapping[str, FloatArray], key: str, eps: float
) -> tuple[FloatArray, FloatArray]:
    return ops.batchnorm_scale_shift(
        params[key + "weight"],
        params[key + "bias"],
        params[key + "running_mean"],
        params[key + "running_var"],
        eps,
    )


def _run_chain(
    layers: tuple[Layer, ...],
    analysis: Analysis,
    start: int,
    length: int,
    x: FloatArray,
    params: Mapping[str, FloatArray],
    check: Callable[[], None],
) -> list[FloatArray]:
    first = layers[start]
    assert isinstance(first, Conv2D)
    row = analysis.row_for_layer(start)
    key = f"{start}."
    budget = CHUNK_BUDGET // max(1, parallel.WORKERS)
    conv_layer = conv.ConvKernel(
        x, params[key + "weight"], params.get(key + "bias"), _conv_geometry(first, row), budget
    )
    shape = conv_layer.out.shape
    stages: list[pipeline.Elementwise] = []
    pooling: pipeline.PoolStage | None = None
    for index in range(start + 1, start + length):
        layer = layers[index]
        if isinstance(layer, ReLU):
            stages.append(pipeline.Elementwise(shape, None, None, relu=True))
        elif isinstance(layer, BatchNorm2D):
            scale, shift = _bn_scale_shift(params, f"{index}.", layer.eps)
            stages.append(pipeline.Elementwise(shape, scale, shift, relu=False))
        elif isinstance(layer, Dropout):
            stages.append(pipeline.Elementwise(shape, None, None, relu=False, passthrough=True))
        else:
            assert isinstance(layer, MaxPool2D | AvgPool2D)
            pooling = pipeline.PoolStage(
                _pool_geometry(layer, analysis.row_for_layer(index)),
                is_max=isinstance(layer, MaxPool2D),
                include_pad=isinstance(layer, AvgPool2D)
                and layer.count_include_pad
                and layer.padding != "same",
                channels=shape[2],
            )
    return pipeline.run_chain(conv_layer, stages, pooling, check)


def _run_layer(
    layer: Layer,
    row: LayerRow,
    x: FloatArray,
    params: Mapping[str, FloatArray],
    index: int,
    check: Callable[[], None],
) -> FloatArray:
    """One layer on its own (a conv is always run through :func:`_run_chain`)."""
    key = f"{index}."
    if isinstance(layer, MaxPool2D):
        return pool.max_pool(x, _pool_geometry(layer, row))
    if isinstance(layer, AvgPool2D):
        include_pad = layer.count_include_pad and layer.padding != "same"
        return pool.avg_pool(x, _pool_geometry(layer, row), include_pad)
    if isinstance(layer, GlobalAvgPool2D):
        return pool.global_avg_pool(x)
    if isinstance(layer, ReLU):
        return ops.relu(x)
    if isinstance(layer, BatchNorm2D):
        scale, shift = _bn_scale_shift(params, key, layer.eps)
        return ops.scale_shift(x, scale, shift)
    if isinstance(layer, Flatten):
        return ops.flatten(x)
    if isinstance(layer, Dense):
        return pipeline.dense(x, params[key + "weight"], params.get(key + "bias"), check)
    if isinstance(layer, Dropout):
        return x
    raise ValueError(f"layer {index}: the engine cannot run layer type {layer.type_name!r}")
