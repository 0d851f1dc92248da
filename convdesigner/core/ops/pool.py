"""Pooling: max and average over windows, and global average pooling, channel by channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from convdesigner.core.geometry import WindowError, applied_padding, padding_text, windows
from convdesigner.core.ops.base import (
    FieldSpec,
    Inferred,
    Layer,
    OpError,
    OpSpec,
    OptionalSize,
    PaddingSize,
    PaletteEntry,
    Params,
    RowGeometry,
    Shape,
    Size,
)
from convdesigner.core.ops.common import need_map, one_or_pair, padding_summary, pads4, size_text
from convdesigner.core.validate import Pair

_POOL_FIELDS = (
    FieldSpec("kernel", "Kernel", "size", "window size (height × width)"),
    FieldSpec(
        "stride",
        "Stride",
        "optional_size",
        "step between windows; empty means the window size",
    ),
    FieldSpec("padding", "Padding", "padding", 'zeros added around the input, or "same"'),
    FieldSpec("ceil_mode", "Ceil mode", "bool", "round the output size up (PyTorch ceil_mode)"),
)


@dataclass(frozen=True)
class _Pool2D(Layer):
    """Shared settings of max and average pooling; ``stride=None`` means "same as the kernel"."""

    FIELDS: ClassVar[tuple[FieldSpec, ...]] = _POOL_FIELDS

    kernel: Size = Size((2, 2))
    stride: OptionalSize = OptionalSize(None)
    padding: PaddingSize = PaddingSize((0, 0))
    ceil_mode: bool = False

    @property
    def effective_stride(self) -> Pair:
        return self.stride if self.stride is not None else self.kernel


@dataclass(frozen=True)
class MaxPool2D(_Pool2D):
    type_name: ClassVar[str] = "maxpool2d"
    display_name: ClassVar[str] = "MaxPool2D"
    description: ClassVar[str] = "Keeps the largest value of each window, channel by channel"

    # Declared again (same place, same defaults): mypy reads descriptor fields inherited by a
    # dataclass subclass with their __set__ type, so layer.kernel would not be a pair here.
    kernel: Size = Size((2, 2))
    stride: OptionalSize = OptionalSize(None)
    padding: PaddingSize = PaddingSize((0, 0))


@dataclass(frozen=True)
class AvgPool2D(_Pool2D):
    type_name: ClassVar[str] = "avgpool2d"
    display_name: ClassVar[str] = "AvgPool2D"
    description: ClassVar[str] = "Averages each window, channel by channel"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = (
        *_POOL_FIELDS,
        FieldSpec(
            "count_include_pad",
            "Count padding",
            "bool",
            "average over padded zeros too (PyTorch count_include_pad)",
        ),
    )

    # Declared again: see MaxPool2D.
    kernel: Size = Size((2, 2))
    stride: OptionalSize = OptionalSize(None)
    padding: PaddingSize = PaddingSize((0, 0))

    count_include_pad: bool = True


def infer_pool(
    layer: MaxPool2D | AvgPool2D, shapes: Sequence[Shape], labels: Sequence[str]
) -> Inferred:
    c, spatial = need_map(layer, shapes[0], 2)
    pad = layer.padding
    if isinstance(pad, tuple):
        for i, axis in enumerate(("height", "width")):
            if pad[i] > layer.kernel[i] // 2:
                raise OpError(
                    f"Padding {pad[i]} is more than half the pooling window's {axis} "
                    f"{layer.kernel[i]}; PyTorch allows at most {layer.kernel[i] // 2} "
                    '(or use "same" padding).'
                )
    stride = layer.effective_stride
    ceil_mode = layer.ceil_mode and pad != "same"
    try:
        axes = windows(
            spatial, layer.kernel, stride, (1, 1), pad, ceil_mode=ceil_mode,
            window="pooling window",
        )  # fmt: skip
    except WindowError as exc:
        raise OpError(str(exc)) from None
    ax_h, ax_w = axes
    is_max = isinstance(layer, MaxPool2D)

    def derive() -> dict[str, str]:
        kind = "largest value" if is_max else "average"
        op = "comparisons" if is_max else "additions and one division"
        d = {
            "output_height": ax_h.derivation(),
            "output_width": ax_w.derivation(),
            "output_channels": f"C_out = C_in = {c}: pooling takes the {kind} of each window in "
            "each channel separately; it never mixes channels",
            "padding": padding_text(axes),
            "weights": "pooling has no weights: 0",
            "biases": "pooling has no biases: 0",
            "macs": f"pooling does {op} per window, not multiply-accumulates: 0 MACs",
        }
        notes = []
        if layer.stride is None:
            notes.append(f"stride defaults to the window size: {stride[0]}×{stride[1]}")
        if layer.ceil_mode and pad == "same":
            notes.append('ceil_mode has no effect with "same" padding')
        if notes:
            d["output_height"] = "\n".join([*notes, d["output_height"]])
        if isinstance(layer, AvgPool2D):
            window = layer.kernel[0] * layer.kernel[1]
            if pad == "same":
                d["average"] = (
                    'with "same" padding the padded positions are left out of each average '
                    "(TensorFlow's rule), so border windows divide by fewer than "
                    f"{layer.kernel[0]}×{layer.kernel[1]} = {window} values"
                )
            elif layer.count_include_pad:
                d["average"] = (
                    f"count_include_pad: every average divides by {layer.kernel[0]}×"
                    f"{layer.kernel[1]} = {window}, padded zeros included (PyTorch's default)"
                )
            else:
                d["average"] = (
                    "count_include_pad is off: border windows divide only by the number of real "
                    "(unpadded) values they cover"
                )
        return d

    return Inferred(
        (c, ax_h.size, ax_w.size),
        derive,
        kernel=layer.kernel,
        stride=stride,
        padding=applied_padding(axes),
        rf="window",
    )


def include_pad(layer: AvgPool2D) -> bool:
    """Whether an average counts padded zeros: PyTorch's flag, except that "same" padding
    follows TensorFlow and never counts them."""
    return layer.count_include_pad and layer.padding != "same"


def pool_geometry(row: RowGeometry, kernel: Pair) -> Any:
    from convdesigner.core.kernels import pool

    assert row.output_shape is not None
    assert row.padding is not None
    assert row.stride is not None
    stride = (row.stride[0], row.stride[1])
    return pool.PoolGeometry(
        kernel, stride, pads4(row.padding), (row.output_shape[1], row.output_shape[2])
    )


def run_max_pool(layer: MaxPool2D, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    from convdesigner.core.kernels import pool

    return pool.max_pool(inputs[0], pool_geometry(row, layer.kernel))


def run_avg_pool(layer: AvgPool2D, row: RowGeometry, inputs: Sequence[Any], params: Params) -> Any:
    from convdesigner.core.kernels import pool

    return pool.avg_pool(inputs[0], pool_geometry(row, layer.kernel), include_pad(layer))


def pool_summary(layer: MaxPool2D | AvgPool2D) -> str:
    parts = [size_text(layer.kernel), f"stride {one_or_pair(layer.effective_stride)}"]
    parts.append(padding_summary(layer.padding))
    if layer.ceil_mode:
        parts.append("ceil mode")
    if (
        isinstance(layer, AvgPool2D)
        and not layer.count_include_pad
        and layer.padding not in ("valid", (0, 0))
    ):
        parts.append("padding not counted")
    return " · ".join(parts)


MAXPOOL2D = OpSpec(
    cls=MaxPool2D,
    family="pool",
    infer=infer_pool,
    run=run_max_pool,
    summary=pool_summary,
    fuse="pool",
    pool_mode=lambda layer: (True, False),
    palette=(
        PaletteEntry(
            "maxpool2d", "MaxPool2D", MaxPool2D.description, "pool", lambda c: MaxPool2D(kernel=2)
        ),
    ),
)
AVGPOOL2D = OpSpec(
    cls=AvgPool2D,
    family="pool",
    infer=infer_pool,
    run=run_avg_pool,
    summary=pool_summary,
    fuse="pool",
    pool_mode=lambda layer: (False, include_pad(layer)),
    palette=(
        PaletteEntry(
            "avgpool2d", "AvgPool2D", AvgPool2D.description, "pool", lambda c: AvgPool2D(kernel=2)
        ),
    ),
)


@dataclass(frozen=True)
class GlobalAvgPool2D(Layer):
    type_name: ClassVar[str] = "globalavgpool2d"
    display_name: ClassVar[str] = "Global Avg Pool"
    description: ClassVar[str] = "Averages each whole channel to one value (output 1×1×C)"


def infer_global_pool(
    layer: GlobalAvgPool2D, shapes: Sequence[Shape], labels: Sequence[str]
) -> Inferred:
    c, (h, w) = need_map(layer, shapes[0], 2)

    def derive() -> dict[str, str]:
        return {
            "output_height": f"each channel's whole {h}×{w} map is averaged to one value: "
            "H_out = 1",
            "output_width": f"each channel's whole {h}×{w} map is averaged to one value: W_out = 1",
            "output_channels": f"C_out = C_in = {c} (one average per channel)",
            "weights": "global average pooling has no weights: 0",
            "biases": "global average pooling has no biases: 0",
            "macs": "averaging is additions, not multiply-accumulates: 0 MACs",
        }

    return Inferred(
        (c, 1, 1), derive, kernel=(h, w), stride=(1, 1), padding=((0, 0), (0, 0)), rf="window"
    )


def run_global_pool(
    layer: GlobalAvgPool2D, row: RowGeometry, inputs: Sequence[Any], params: Params
) -> Any:
    from convdesigner.core.kernels import pool

    return pool.global_avg_pool(inputs[0])


GLOBALAVGPOOL2D = OpSpec(
    cls=GlobalAvgPool2D,
    family="pool",
    infer=infer_global_pool,
    run=run_global_pool,
    palette=(
        PaletteEntry(
            "globalavgpool2d",
            "Global Avg Pool",
            GlobalAvgPool2D.description,
            "pool",
            lambda c: GlobalAvgPool2D(),
        ),
    ),
)

SPECS = (MAXPOOL2D, AVGPOOL2D, GLOBALAVGPOOL2D)
