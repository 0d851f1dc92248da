"""Answers to a learner's questions about the selected layer, with the design's own numbers.

The README promises answers to five questions (why a conv output is 3-D, what a 1×1 conv does,
depthwise-separable versus normal, that pooling acts per channel, why wide chained layers cost
quadratically). The texts live here, without Qt, so they are tested on plain designs and the
explain panel, the property panel's header, the weights view and the cost chart only show them.

Every number is read from an analysis, and the "what if" figures come from analysing the edited
design for real (never from a formula kept beside the analysis), so they are exact for any graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from convdesigner.core.analysis import CHECKPOINT_MASK, Analysis, LayerRow, analyse
from convdesigner.core.design import Design
from convdesigner.core.graveyard import bury
from convdesigner.core.ops import spec_for
from convdesigner.core.ops.conv import Conv2D
from convdesigner.core.separable import find_pair, is_normal_conv, normal_op, separable_ops
from convdesigner.core.switching import checkpoint
from convdesigner.core.table import title, where
from convdesigner.core.units import fmt, shape_text


def _dims(values: tuple[int, ...]) -> str:
    return "×".join(str(v) for v in values)


def weight_shape_text(row: LayerRow) -> str:
    """The weight tensor's shape as MATLAB's analyzer and Keras write it, or "" if none.

    Conv2D: kh×kw×(C_in / groups)×filters ("5×5×100×150"); ConvTranspose2D: kh×kw×(filters /
    groups)×C_in; Dense: inputs×units. Other layers with a ``weight`` parameter (batch norm's
    scale) give that parameter's shape. The saved ``.npz`` files use PyTorch's order instead
    (filters first); the table shows the order learners meet in course material.
    """
    layer, shape = row.layer, row.input_shape
    if layer is None or shape is None or not row.ok:
        return ""
    if not row.weights:
        return ""
    shapes = tuple(s for s in row.input_shapes if s is not None)  # all known on an OK row
    weight = spec_for(layer).param_shapes(layer, shapes).get("weight")
    if weight and len(weight) >= 2:
        # PyTorch stores (out, in, *kernel) for convolutions and dense layers ((in, out/groups,
        # *kernel) for a transposed one); the analyzer's order is the kernel first, then the
        # two channel counts swapped: one rule for every op, from the registry's shapes.
        weight = (*weight[2:], weight[1], weight[0])
    return _dims(weight) if weight else ""


def bias_shape_text(row: LayerRow) -> str:
    """The bias vector's length ("150"), or "" for a layer without biases."""
    return str(row.biases) if row.ok and row.biases else ""


def weights_text(row: LayerRow) -> str:
    """ "Weights 5×5×100×150 (375,000) · Bias 150", MATLAB's analyzer's wording; "" if none."""
    shape = weight_shape_text(row)
    if not shape:
        return ""
    # The count in brackets is the product of the dimensions: for a vector (a batch norm's
    # scale) it would repeat the one number ("Weights 64 (64)").
    text = f"Weights {shape}" + (f" ({fmt(row.weights)})" if "×" in shape else "")
    bias = bias_shape_text(row)
    return f"{text} · Bias {bias}" if bias else text


# --------------------------------------------------------------------------- 1. the filters


def _conv_parts(row: LayerRow) -> tuple[Conv2D, int] | None:
    """The Conv2D of an OK row and its input channels."""
    layer = row.layer
    if isinstance(layer, Conv2D) and row.ok and row.input_shape is not None:
        return layer, row.input_shape[0]
    return None


def filters_sentence(row: LayerRow) -> str:
    """What each filter of a conv spans and gives: why its output is 3-D (a stack of maps),
    not 4-D (a map per filter per input channel). "" for other layers."""
    parts = _conv_parts(row)
    if parts is None:
        return ""
    layer, c_in = parts
    n, g = layer.filters, layer.groups
    each = f"each of the {fmt(n)} filters" if n > 1 else "the single filter"
    if g == 1:
        spans = (
            f"spans all {fmt(c_in)} input channels" if c_in > 1 else "spans the one input channel"
        )
        return f"{each} {spans} and gives one map"
    per_in, per_out = c_in // g, n // g
    if g == c_in and n == c_in:
        return (
            f"depthwise: {each} spans one input channel only (groups = {g}) and gives one map, "
            "so channels are never mixed"
        )
    if g == c_in:
        return (
            f"depthwise: {each} spans one input channel (groups = {g}), {per_out} filters per "
            "channel, and gives one map"
        )
    return (
        f"{each} spans {per_in} of the {fmt(c_in)} input channels (groups = {g}: filters "
        f"0–{per_out - 1} read channels 0–{per_in - 1}, the next {per_out} the next {per_in}, "
        "and so on) and gives one map"
    )


MAX_BLOCKS = 8
"""Filters a weights picture draws; the rest are summed up by an ellipsis."""


@dataclass(frozen=True)
class WeightsPicture:
    """What the weights view draws for one conv: the filters as blocks, with its sentence."""

    title: str
    filters: int
    kernel: tuple[int, int]
    depth: int
    """Input channels each filter spans (all of them, or C_in / groups)."""
    channels_in: int
    groups: int
    input_hw: tuple[int, int]
    output_hw: tuple[int, int]
    shown: tuple[int, ...]
    """Indices of the filters drawn; a gap between two means "and the ones between"."""
    sentence: str
    shapes: str
    """"Weights 5×5×100×150 (375,000) · Bias 150"."""

    @property
    def hidden(self) -> int:
        return self.filters - len(self.shown)


def weights_picture(row: LayerRow) -> WeightsPicture | None:
    """The picture of a conv's weights, or None for a row that has none to draw."""
    parts = _conv_parts(row)
    if parts is None or row.output_shape is None or row.input_shape is None:
        return None
    layer, c_in = parts
    n = layer.filters
    shown = tuple(range(n)) if n <= MAX_BLOCKS else (*range(MAX_BLOCKS - 1), n - 1)
    kh, kw = layer.kernel
    return WeightsPicture(
        title=title(row),
        filters=n,
        kernel=(kh, kw),
        depth=c_in // layer.groups,
        channels_in=c_in,
        groups=layer.groups,
        input_hw=(row.input_shape[1], row.input_shape[2]),
        output_hw=(row.output_shape[1], row.output_shape[2]),
        shown=shown,
        sentence=_capital(filters_sentence(row)) + ".",
        shapes=weights_text(row),
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- 2. 1×1 convs, pooling


def one_by_one_text(row: LayerRow) -> str:
    """What a 1×1 conv does, with the row's numbers; "" for any other layer."""
    parts = _conv_parts(row)
    if parts is None or parts[0].kernel != (1, 1) or row.output_shape is None:
        return ""
    layer, c_in = parts
    c_out, g = layer.filters, layer.groups
    where_ = "×".join(str(s) for s in row.output_shape[1:])
    if g > 1:
        return (
            f"A 1×1 conv with groups = {g} mixes channels at each position only within each "
            f"group of {c_in // g}; params = (C_in / groups) · C_out = {c_in // g} × {c_out} = "
            f"{fmt(row.weights)} weights."
        )
    return (
        f"A 1×1 conv looks at one position at a time and mixes channels there: each of the "
        f"{fmt(c_out)} outputs at a position is a weighted sum of the {fmt(c_in)} input values at "
        f"that same position (a dense layer applied at each of the {where_} positions). "
        # With as many outputs as inputs there is no count to change: the sentence would only
        # repeat "one position at a time" (and cost Explain a line at 1366×768).
        + (
            f"It changes the channel count ({fmt(c_in)} → {fmt(c_out)}) without looking at "
            "neighbours. "
            if c_in != c_out
            else ""
        )
        + f"Params = C_in · C_out = {fmt(c_in)} × {fmt(c_out)} = {fmt(row.weights)} weights"
        + (f" + {fmt(row.biases)} biases." if row.biases else ".")
    )


def pooling_text(row: LayerRow) -> str:
    """That pooling acts on each channel alone, with the row's numbers; "" for other layers."""
    layer = row.layer
    if layer is None or not row.ok or row.input_shape is None or row.output_shape is None:
        return ""
    if spec_for(layer).family != "pool":
        return ""
    c = row.input_shape[0]
    pool_mode = spec_for(layer).pool_mode  # (takes the maximum, counts padding); None: global
    kind = "largest value" if pool_mode is not None and pool_mode(layer)[0] else "average"
    window = (
        "the whole map"
        if row.kernel is None or len(row.output_shape) < 2
        else f"each {'×'.join(str(k) for k in row.kernel)} window"
    )
    return (
        f"Pooling acts on each channel separately: output channel k is input channel k with "
        f"{window} replaced by its {kind}. {fmt(c)} maps in, {fmt(c)} maps out "
        f"({shape_text(row.input_shape)} → {shape_text(row.output_shape)}); channels are never "
        "mixed and there are no weights. The feature-map viewer shows the input and output of "
        "the same channel side by side."
    )


def summary_line(row: LayerRow) -> str:
    """One line for the property panel's header: the question this layer raises, answered."""
    if not row.ok or row.layer is None:
        return ""
    parts = _conv_parts(row)
    if parts is not None:
        layer, c_in = parts
        shapes = weights_text(row)
        if layer.kernel == (1, 1) and layer.groups == 1:
            what = (
                f"1×1: mixes the {fmt(c_in)} channels at each position into {fmt(layer.filters)};"
                f" params C_in·C_out = {fmt(c_in)}·{fmt(layer.filters)}"
            )
        else:
            what = _capital(filters_sentence(row))
        return f"{shapes}. {what}." if shapes else f"{what}."
    if pooling_text(row):
        c = row.output_shape[0] if row.output_shape else 0
        return f"Acts on each of the {fmt(c)} channels separately: {fmt(c)} maps in, {fmt(c)} out."
    return weights_text(row)


# --------------------------------------------------------------------------- 3. separable vs normal


@dataclass(frozen=True)
class Comparison:
    """The selected conv (or separable pair) against its alternative, counted by the analysis."""

    text: str
    action: str
    """"make-normal" for a pair, "make-separable" for a normal conv: the rewrite on offer
    ("" when the layers cannot be rewritten as they stand, e.g. with BatchNorm between)."""
    pair_weights: tuple[int, int]
    pair_macs: int
    normal_weights: int
    normal_macs: int


def _infer(layer: Conv2D, shape: tuple[int, ...]) -> tuple[int, int, tuple[int, ...]]:
    """Weights, MACs and output shape of ``layer`` on ``shape``, by the op's own inference."""
    res = spec_for(layer).infer(layer, (shape,), ("'input'",))
    return res.weights, res.macs, res.shape


def _ratio(big: int, small: int) -> str:
    return f"{big / small:.1f}" if small else "∞"


def separable_comparison(analysis: Analysis, node_id: str) -> Comparison | None:
    """For a separable pair or a normal conv: its weights and MACs against the other form's."""
    pair = find_pair(analysis, node_id)
    if pair is not None and node_id in pair.between:
        return None  # a ReLU between the convs is not what the comparison is about
    if pair is not None:
        dw_row, pw_row = analysis.row(pair.depthwise), analysis.row(pair.pointwise)
        dw, pw = dw_row.layer, pw_row.layer
        assert isinstance(dw, Conv2D)
        assert isinstance(pw, Conv2D)
        assert dw_row.input_shape is not None
        c_in, c_out = dw_row.input_shape[0], pw.filters
        nw, nm, _ = _infer(normal_op(dw, pw), dw_row.input_shape)
        pair_w = (dw_row.weights, pw_row.weights)
        macs = dw_row.macs + pw_row.macs
        text = (
            f"this pair: {fmt(pair_w[0])} + {fmt(pair_w[1])} = {fmt(sum(pair_w))} weights and "
            f"{fmt(macs)} MACs; one {_dims(dw.kernel)} conv {fmt(c_in)}→{fmt(c_out)} instead: "
            f"{fmt(nw)} weights and {fmt(nm)} MACs ({_more(nw, sum(pair_w), nm, macs, 'more')})"
        )
        if pair.between:
            names = ", ".join(analysis.design.node(b).label for b in pair.between)
            text += f" (not counting {names} between them)"
        return Comparison(text + ".", "" if pair.between else "make-normal", pair_w, macs, nw, nm)
    if not is_normal_conv(analysis, node_id):
        return None
    row = analysis.row(node_id)
    conv = row.layer
    assert isinstance(conv, Conv2D)
    assert row.input_shape is not None
    c_in = row.input_shape[0]
    dw, pw = separable_ops(conv, c_in)
    dw_w, dw_m, dw_shape = _infer(dw, row.input_shape)
    pw_w, pw_m, _ = _infer(pw, dw_shape)
    weights = (dw_w, pw_w)
    text = (
        f"this conv: {fmt(row.weights)} weights and {fmt(row.macs)} MACs; as a depthwise "
        f"{_dims(conv.kernel)} conv + a 1×1 conv {fmt(c_in)}→{fmt(conv.filters)} instead: "
        f"{fmt(dw_w)} + {fmt(pw_w)} = {fmt(sum(weights))} weights and {fmt(dw_m + pw_m)} MACs "
        f"({_more(row.weights, sum(weights), row.macs, dw_m + pw_m, 'fewer')})."
    )
    return Comparison(text, "make-separable", weights, dw_m + pw_m, row.weights, row.macs)


def _more(w_big: int, w_small: int, m_big: int, m_small: int, word: str) -> str:
    """The ratio, "8.5× more", or both ratios when weights and MACs differ."""
    w, m = _ratio(w_big, w_small), _ratio(m_big, m_small)
    return f"{w}× {word}" if w == m else f"{w}× {word} weights, {m}× {word} MACs"


# --------------------------------------------------------------------------- 5. what if wider


@dataclass(frozen=True)
class WhatIf:
    """Doubling one layer's filters (or units), from a real analysis of the doubled design."""

    text: str
    before: int
    after: int
    extra_macs: int
    extra_params: int
    percent: float
    """``extra_macs`` as a percentage of the network's MACs now."""
    ratios: tuple[tuple[str, float], ...]
    """(node id, new MACs / old MACs) of every node whose MACs change, in order."""
    macs_after: tuple[int, ...] = ()
    """Every node's MACs in the doubled design, in design order (the cost chart's outlines)."""


def _factor(x: float) -> str:
    return f"{x:.3g}"


def what_if_double(analysis: Analysis, node_id: str) -> WhatIf | None:
    """What doubling ``node_id``'s filters (units for Dense) does to the MACs, everywhere."""
    design = analysis.design
    if node_id not in design:
        return None
    row = analysis.row(node_id)
    attr = spec_for(row.layer).width if row.layer is not None else None
    if attr is None or row.layer is None or not row.ok:
        return None
    before = int(getattr(row.layer, attr))
    try:
        doubled = row.layer.with_changes(**{attr: 2 * before})
    except ValueError:
        return None  # already at the limit
    new_design: Design = design.replace_layer(design.index_of(node_id), doubled)
    new = analyse(new_design, analysis)  # rows the doubling leaves alone are reused
    try:
        return _what_if(analysis, node_id, attr, before, new)
    finally:
        # Dropped here, the rows the doubling changed (all of them below a broken merge:
        # 10,000 on a deep graph) were freed in one go, holding the interpreter 10-20 ms
        # while the window waited for it.
        bury(new)


def _what_if(analysis: Analysis, node_id: str, attr: str, before: int, new: Analysis) -> WhatIf:
    ratios: list[tuple[str, float]] = []
    broken: list[str] = []
    for i, (old_row, new_row) in enumerate(zip(analysis.rows, new.rows, strict=True)):
        if not i & CHECKPOINT_MASK:
            checkpoint()  # on the explain panel's worker: the window may refresh first
        if old_row.ok and not new_row.ok:
            broken.append(
                f"{where(new_row)} ({new_row.name}): {new_row.message}"
                if new_row.status.value == "error"
                else ""
            )
        elif old_row.macs and new_row.macs != old_row.macs:
            ratios.append((old_row.id, new_row.macs / old_row.macs))
    after_macs = tuple(r.macs for r in new.rows[1:])
    what = "units" if attr == "units" else "filters"
    head = f"Doubling this layer's {what} ({fmt(before)} → {fmt(2 * before)})"
    extra = new.totals.macs - analysis.totals.macs
    extra_params = new.totals.params - analysis.totals.params
    total = analysis.totals.macs
    percent = 100.0 * extra / total if total else 0.0
    errors = [b for b in broken if b]
    if errors:
        text = f"{head} would break {errors[0]}"
        return WhatIf(
            text, before, 2 * before, extra, extra_params, percent, tuple(ratios), after_macs
        )
    own = dict(ratios).get(node_id, 2.0)
    others = [(i, r) for i, r in ratios if i != node_id]
    text = f"{head} multiplies this layer's MACs by {_factor(own)}"
    if others:
        text += " and " + _others_text(analysis, others)
    text += f": +{fmt(extra)} MACs (+{percent:.1f} % of the network); params +{fmt(extra_params)}."
    if others and all(r >= 1.99 for _, r in others):
        text += (
            " Widening two chained layers together multiplies the MACs between them by 4: the "
            "cost grows with the product of neighbouring widths."
        )
    return WhatIf(text, before, 2 * before, extra, extra_params, percent, tuple(ratios), after_macs)


def _is_conv(row: LayerRow) -> bool:
    """A convolution of any kind (the registry's "conv" family: Conv2D, ConvTranspose2D)."""
    return row.layer is not None and spec_for(row.layer).family == "conv"


def _others_text(analysis: Analysis, others: list[tuple[str, float]]) -> str:
    def name(node: str) -> str:
        row = analysis.row(node)
        kind = "conv" if _is_conv(row) else row.name
        return f"{where(row)} ({kind})"

    if len(others) == 1:
        node, r = others[0]
        row = analysis.row(node)
        if _is_conv(row):
            return f"the next conv's ({where(row)}) by {_factor(r)}"
        # A dense layer named "predictions" must not become "the next predictions's".
        return f"the next layer's ({where(row)}, {row.name}) by {_factor(r)}"
    factors = {_factor(r) for _, r in others}
    if len(factors) == 1:
        names = ", ".join(name(n) for n, _ in others[:MAX_NAMED_SAME])
        more = len(others) - MAX_NAMED_SAME
        if more > 0:
            # Every later conv of a dense block of 2,000: 30 KB of names for the explain
            # panel to lay out (20 ms of the window's time), and nobody reads past a few.
            names += f" and {more:,} more layers"
        return f"those of {names} by {factors.pop()}"
    listed = ", ".join(f"{name(n)}'s by {_factor(r)}" for n, r in others[:MAX_NAMED])
    rest = others[MAX_NAMED:]
    if not rest:
        return listed
    low, high = _factor(min(r for _, r in rest)), _factor(max(r for _, r in rest))
    spread = low if low == high else f"{low}–{high}"
    return f"{listed} and those of {len(rest)} more layers by {spread}"


MAX_NAMED = 3
"""Layers a "what if" line names one by one (a DenseNet block has dozens downstream)."""

MAX_NAMED_SAME = 6
"""Layers a "what if" line names when they all change by the same factor (the list reads
"those of a, b, c by 2"); beyond, the rest are counted."""


# --------------------------------------------------------------------------- the cost chart


@dataclass(frozen=True)
class Bar:
    node: str
    label: str
    macs: int
    params: int


def cost_bars(analysis: Analysis) -> list[Bar]:
    """MACs and params of every node, in order, for the cost chart."""
    return [
        Bar(row.id, str(row.index) if row.id == str(row.index) else row.id, row.macs, row.params)
        for row in analysis.rows
        if row.index is not None
    ]


# --------------------------------------------------------------------------- the explain panel


@dataclass(frozen=True)
class Note:
    key: str
    heading: str
    text: str
    action: str = ""
    """A rewrite the text offers ("make-separable", "make-normal"), or ""."""


ACTION_TITLES = {"make-separable": "Make separable", "make-normal": "Make normal"}


def notes(analysis: Analysis, node_id: str | None) -> list[Note]:
    """The answers that concern the selected node, for the explain panel."""
    if node_id is None or node_id not in analysis.design:
        return []
    row = analysis.row(node_id)
    out: list[Note] = []
    sentence = filters_sentence(row)
    if sentence:
        out.append(
            Note(
                "filters",
                "Why the output is 3-D",
                f"{_capital(sentence)}: {fmt(row.output_channels or 0)} maps stacked make the "
                f"{shape_text(row.output_shape)} output. {weights_text(row)}. The Weights tab "
                "draws the filters.",
            )
        )
    one = one_by_one_text(row)
    if one:
        out.append(Note("one_by_one", "What a 1×1 convolution does", one))
    comparison = separable_comparison(analysis, node_id)
    if comparison is not None:
        out.append(
            Note(
                "separable",
                "Depthwise-separable vs normal",
                _capital(comparison.text),
                comparison.action,
            )
        )
    pool = pooling_text(row)
    if pool:
        out.append(Note("pooling", "Pooling acts per channel", pool))
    what_if = what_if_double(analysis, node_id)
    if what_if is not None:
        out.append(Note("what_if", "What if this layer were twice as wide?", what_if.text))
    return out
