"""The "One value" window: how a clicked value of a convolution's map was computed.

Opened by a click on the enlarged channel of a convolution, plain or transposed (issue 13,
question 6); later clicks on any layer update it while it is open. It shows, with the actual
numbers, the input window of a few channels and the kernel slice that multiplies it, each
channel's partial sum, the rest summarised, the bias and the total, next to the value the engine
computed; other layers get their one sentence with its numbers. The numbers come from
:mod:`convdesigner.core.one_value`; this module only lays them out.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from convdesigner.core.one_value import ConvTransposeValue, ConvValue, Explained, explain_in_run
from convdesigner.core.viewer import ViewResult

if TYPE_CHECKING:
    from convdesigner.ui.feature_maps import FeatureMapPanel

GRIDS_SHOWN = 3
"""Input channels drawn as number grids: those that add the most to the total."""
MAX_GRID_TAPS = 121
"""Larger kernels (over 11×11) are summarised by their partial sums only: a grid that size
would not fit the window."""


def _grid(values: np.ndarray, grey: np.ndarray | None = None, blank: str | None = "0") -> str:
    """A small HTML table of numbers; ``grey`` taps are greyed and written ``blank`` (the zeros
    of the padding, or the taps of a transposed convolution that land elsewhere), or greyed
    with their number when ``blank`` is None."""
    cells = []
    for r in range(values.shape[0]):
        row = []
        for c in range(values.shape[1]):
            off = grey is not None and bool(grey[r, c])
            style = ' style="color:#999; background:#eee"' if off else ""
            text = blank if off and blank is not None else f"{values[r, c]:.3g}"
            row.append(f'<td align="right" nowrap{style}>{text}</td>')
        cells.append("<tr>" + "".join(row) + "</tr>")
    return '<table border="1" cellspacing="0" cellpadding="2">' + "".join(cells) + "</table>"


def _channel_grids(
    value: ConvValue | ConvTransposeValue, grey: np.ndarray, blank: str, grey_kernel: bool
) -> list[str]:
    """Grids for the channels that add the most, the others in one line."""
    kh, kw = value.kernel_size
    n = len(value.in_channels)
    order = np.argsort(-np.abs(value.partial_sums), kind="stable")
    shown = sorted(int(i) for i in order[:GRIDS_SHOWN])
    parts = []
    if kh * kw <= MAX_GRID_TAPS:
        for i in shown:
            parts.append(
                f"<p><b>input channel {value.in_channels[i]}</b>: window × kernel → partial "
                f"sum {value.partial_sums[i]:.4g}</p>"
                '<table><tr><td valign="top">'
                + _grid(value.window[i], grey, blank)
                + '</td><td valign="middle">&nbsp;×&nbsp;</td><td valign="top">'
                + _grid(value.kernel[i], grey if grey_kernel else None, None)
                + "</td></tr></table>"
            )
        rest = [i for i in range(n) if i not in shown]
    else:
        rest = list(range(n))
    if rest:
        sums = value.partial_sums[rest]
        parts.append(
            f"<p>The other {len(rest)} channel{'s' if len(rest) != 1 else ''} add "
            f"{float(sums.sum()):.4g} (partial sums from {float(sums.min()):.4g} to "
            f"{float(sums.max()):.4g}).</p>"
        )
    parts.append(
        f"<p>Σ partial sums {float(value.partial_sums.sum()):.6g} + bias {value.bias:.6g} = "
        f"<b>{value.total:.6g}</b> (the engine computed {value.engine_value:.6g} in float32)."
        "</p>"
    )
    return parts


def conv_html(value: ConvValue) -> str:
    """The whole sum, laid out: grids for the channels that matter most, the rest in one line."""
    kh, kw = value.kernel_size
    n = len(value.in_channels)
    intro = (
        f"<p>Output channel {value.channel}, row {value.y}, col {value.x} of "
        f"'{html.escape(value.node)}': filter {value.channel} slides a {kh}×{kw} window over "
        f"{n} channel{'s' if n != 1 else ''} of '{html.escape(value.source)}', taken at input "
        f"rows {value.rows[0]}…{value.rows[-1]}, cols {value.cols[0]}…{value.cols[-1]}. "
        "Each channel's window is multiplied by the kernel value by value and summed; grey "
        "cells are the zeros of the padding, outside the input.</p>"
    )
    return "".join([intro, *_channel_grids(value, value.padded, "0", grey_kernel=False)])


def conv_transpose_html(value: ConvTransposeValue) -> str:
    """The same layout for a transposed convolution: each grid cell is a kernel tap, holding
    the input value it brings to this output, greyed where it brings none."""
    kh, kw = value.kernel_size
    n = len(value.in_channels)
    intro = (
        f"<p>Output channel {value.channel}, row {value.y}, col {value.x} of "
        f"'{html.escape(value.node)}': every value of the {n} input channel"
        f"{'s' if n != 1 else ''} of its group in '{html.escape(value.source)}' is spread over "
        f"a {kh}×{kw} patch of the output, so this value collects tap (i, j) of the kernel "
        "from the input value whose patch puts that tap here: "
        f"{html.escape(value.landing())}. Grey cells are taps that bring nothing here (they "
        "fall between input positions because of the stride, or outside the input).</p>"
    )
    grey = ~value.lands
    return "".join([intro, *_channel_grids(value, grey, "·", grey_kernel=True)])


class OneValueWindow(QWidget):
    """A small tool window beside the viewer; one instance, updated by each click."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool)
        self.setObjectName("oneValueWindow")
        self.setWindowTitle("One value")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QTextBrowser()
        layout = QVBoxLayout(self)
        # At the top, also when a sentence is all there is to show (the details hidden).
        layout.addWidget(self.summary, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.details, 1)
        self.resize(640, 560)
        self.value: Explained | None = None

    def follow(self, result: ViewResult) -> None:
        """A new run is on screen (an edit, another image): show the same value again, so the
        numbers are never stale; or say why it no longer exists."""
        value = self.value
        if value is None or not self.isVisible():
            return
        if value.node not in result.activations.design:
            self._say(f"'{value.node}' is not computed any more (removed, or after an error).")
            return
        try:
            self.show_value(
                explain_in_run(
                    result.activations, value.node, value.channel, value.y, value.x, result.analysis
                )
            )
        except ValueError as exc:
            self._say(f"The clicked value no longer exists: {exc}.")

    def _say(self, text: str) -> None:
        self.value = None
        self.summary.setText(text)
        self.details.hide()

    def show_value(self, value: Explained) -> None:
        self.value = value
        self.summary.setText(value.text())
        if isinstance(value, ConvValue):
            self.details.setHtml(conv_html(value))
        elif isinstance(value, ConvTransposeValue):
            self.details.setHtml(conv_transpose_html(value))
        else:
            self.details.setHtml("")
        self.details.setVisible(isinstance(value, ConvValue | ConvTransposeValue))


def explain_click(
    parent: FeatureMapPanel,
    window: OneValueWindow | None,
    result: ViewResult,
    channel: int,
    y: int,
    x: int,
) -> OneValueWindow | None:
    """Open (for a convolution, plain or transposed) or update (for any layer, once open) the
    window for output ``[channel, y, x]`` of the shown node; return the window, None if none is
    open."""
    node = result.request.options.node
    if node is None or node not in result.activations.design:
        return window
    value = explain_in_run(result.activations, node, channel, y, x, result.analysis)
    if window is None:
        if not isinstance(value, ConvValue | ConvTransposeValue):
            return None
        window = OneValueWindow(parent)
        parent.rendered.connect(window.follow)
    window.show_value(value)
    window.show()
    window.raise_()
    return window
