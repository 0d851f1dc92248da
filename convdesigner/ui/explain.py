"""The explain panel: how each number of the selected row was derived, with the actual values.

The text comes from the core (``LayerRow.derivations`` in :func:`table.ordered_derivations`
order), so the panel, ``convdesigner summary --explain`` and the docs can never disagree. A
selected table cell puts the derivations of that column first and highlights them.

The panel is drawn just after the frame that shows an edit (a zero-time timer, so a burst of
edits draws it once): its learner notes analyse a changed copy of the design, and with
``setHtml`` that is about half of an edit of DenseNet-121, which must fit in one frame. For
designs of thousands of nodes the notes are computed on a worker thread.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QTextBrowser, QWidget

from convdesigner.core.analysis import Analysis, LayerRow, Status, analysis_cost
from convdesigner.core.cancel import CancelToken
from convdesigner.core.table import ordered_derivations, title
from convdesigner.core.teaching import ACTION_TITLES, Note, notes
from convdesigner.core.units import bytes_text, fmt, shape_text
from convdesigner.ui.analysis_feed import BACKGROUND_NODES
from convdesigner.ui.rows import param_shapes_text
from convdesigner.ui.workers import LatestWorker, Progress

BACKGROUND_NOTES_ROWS = BACKGROUND_NODES
"""From this analysis cost on (``analysis_cost``: nodes, and merge inputs by twenties), the
learner's notes (a what-if analysis of the design) are computed on a worker thread; the
derivations are shown at once, the notes added when they arrive. The same threshold as the
design's own analysis: the what-if analysis costs as much."""

TITLES: dict[str, str] = {
    "output_height": "Output height",
    "output_width": "Output width",
    "output_channels": "Output channels",
    "padding": "Padding",
    "weights": "Weights",
    "biases": "Biases",
    "non_trainable": "Non-trainable parameters",
    "params": "Parameters",
    "macs": "Multiply-accumulates (MACs)",
    "receptive_field": "Receptive field",
    "memory": "Output memory",
}


PRE_SIZE = "small"
"""Font size of the formulas (a CSS keyword: Qt takes no percentages here)."""


FORMULA_SCHEME = "formula"
"""Links beside each derivation (``formula:Output size``) open that section of the formulas."""
FORMULA_SECTIONS: dict[str, str] = {
    "output_height": "Output size",
    "output_width": "Output size",
    "output_channels": "Output size",
    "padding": "Output size",
    "weights": "Weights, biases, parameters",
    "biases": "Weights, biases, parameters",
    "params": "Weights, biases, parameters",
    "non_trainable": "Weights, biases, parameters",
    "macs": "MACs and FLOPs",
    "receptive_field": "Receptive field, jump and start",
    "memory": "Memory",
}
"""The heading of docs/formulas.md that explains each derivation."""

ACTION_SCHEME = "action"
"""Links in the learner's notes (``action:make-separable``) ask the window for a rewrite."""


def _lead_in(heading: str) -> str:
    """A heading as the start of a sentence: "Why the output is 3-D." (a question keeps "?")."""
    return heading if heading.endswith(("?", ".", ":")) else heading + "."


def notes_html(items: Sequence[Note]) -> str:
    """The learner's answers for a row, each under its question, with its action as a link."""
    parts = []
    for note in items:
        link = ""
        if note.action:
            link = (
                f" <a href='{ACTION_SCHEME}:{note.action}'>"
                f"{html.escape(ACTION_TITLES[note.action])}</a>"
            )
        # The question runs into its answer (a bold lead-in, not a line of its own): three
        # notes then leave room for a conv layer's whole derivation below them at 1366×768.
        parts.append(
            f"<p style='margin:3px 0 0 0'><b>{html.escape(_lead_in(note.heading))}</b> "
            f"{html.escape(note.text)}{link}</p>"
        )
    return "\n".join(parts)


EXPLAIN_INPUTS = 12
"""Inputs the shapes line names before "… (N in all)": a dense block's concat reads up to 2,000,
and 44 KB of them took the panel 15-20 ms to lay out on every click (Properties lists more)."""


def explain_html(
    row: LayerRow,
    focus: tuple[str, ...] = (),
    *,
    highlight: str = "#fff3bf",
    learner: Sequence[Note] = (),
) -> str:
    """HTML for one row; derivations named in ``focus`` come first, highlighted; the learner's
    notes (``learner``) come right after the shapes, where the question arises."""
    parts = [f"<h3 style='margin:0'>{html.escape(title(row))}</h3>"]
    # A named layer's title shows its name: its type leads the shapes line (one line, not two:
    # Explain has to fit a layer's notes and derivation at 1366×768).
    kind = (
        f"{html.escape(row.layer.display_name)} · "
        if row.layer is not None and row.layer.name
        else ""
    )
    if len(row.inputs) > 1:
        pairs = list(zip(row.inputs, row.input_shapes, strict=True))
        sources = ", ".join(
            f"{html.escape(source)} ({shape_text(shape)})"
            for source, shape in pairs[:EXPLAIN_INPUTS]
        )
        if len(pairs) > EXPLAIN_INPUTS:
            sources += f", … ({len(pairs):,} in all)"
        parts.append(f"<p style='margin:4px 0'>{kind}{sources} → <b>{row.shape_text}</b></p>")
    elif row.input_shape is not None and row.output_shape is not None:
        parts.append(
            f"<p style='margin:4px 0'>{kind}{shape_text(row.input_shape)} → "
            f"<b>{row.shape_text}</b></p>"
        )
    elif row.output_shape is not None:
        parts.append(f"<p style='margin:4px 0'>{kind}<b>{row.shape_text}</b></p>")
    elif kind:
        parts.append(f"<p style='margin:2px 0'>{kind[:-3]}</p>")
    tensors = "" if learner else param_shapes_text(row)  # the notes give the shapes
    if tensors:
        parts.append(f"<p style='margin:2px 0'>Parameter tensors: {html.escape(tensors)}</p>")
    if row.status is not Status.OK:
        label = "Error" if row.status is Status.ERROR else "Not computable"
        parts.append(
            f"<p style='color:#d63031; margin:6px 0'><b>{label}:</b> {html.escape(row.message)}</p>"
        )
    if learner:
        parts.append(notes_html(learner))
    items = ordered_derivations(row)
    if focus:
        items = [i for i in items if i[0] in focus] + [i for i in items if i[0] not in focus]
    for key, text in items:
        style = f"background:{highlight};" if key in focus else ""
        heading = TITLES.get(key, key.replace("_", " ").capitalize())
        # Tight margins and a slightly smaller monospace: one conv layer's whole derivation
        # fits the panel's height on a 1366×768 screen without scrolling.
        section = FORMULA_SECTIONS.get(key)
        link = (
            f" <a href='{FORMULA_SCHEME}:{html.escape(section)}' style='font-size:small'>"
            "formula</a>"
            if section
            else ""
        )
        if key == "macs":
            link += " <i style='font-size:small'>(1 MAC, multiply-accumulate, = 2 FLOPs)</i>"
        if "\n" in text:
            body = (
                f"<pre style='margin:0 0 0 6px; white-space:pre-wrap; font-size:{PRE_SIZE}'>"
                f"{html.escape(text)}</pre>"
            )
            parts.append(
                f"<div style='{style} margin:2px 0 0 0'><b>{html.escape(heading)}</b>{link}"
                f"{body}</div>"
            )
        else:
            # A one-line derivation runs in after its heading instead of taking a line of its
            # own: five such sections of a conv layer give back the height of five lines.
            parts.append(
                f"<p style='{style} margin:2px 0 0 0'><b>{html.escape(heading)}</b>{link}: "
                f"<code style='font-size:{PRE_SIZE}'>{html.escape(text)}</code></p>"
            )
    return "\n".join(parts)


def totals_html(analysis: Analysis) -> str:
    """What the totals line adds up, for a learner who selected it."""
    t = analysis.totals
    rows = [r for r in analysis.rows if r.index is not None]
    params = " + ".join(fmt(r.params) for r in rows if r.params) or "0"
    macs = " + ".join(fmt(r.macs) for r in rows if r.macs) or "0"
    parts = [
        "<h3 style='margin:0'>Totals</h3>",
        "<div style='margin:6px 0'><b>Parameters</b><pre style='margin:2px 0 0 8px; "
        f"white-space:pre-wrap'>{html.escape(params)} = {fmt(t.params)}\n"
        f"({fmt(t.trainable)} trainable, {fmt(t.non_trainable)} non-trainable)</pre></div>",
        "<div style='margin:6px 0'><b>Multiply-accumulates (MACs)</b><pre style='margin:2px 0 0 "
        f"8px; white-space:pre-wrap'>{html.escape(macs)} = {fmt(t.macs)}\n"
        f"= {fmt(t.flops)} FLOPs (1 MAC = 2 FLOPs)</pre></div>",
        "<div style='margin:6px 0'><b>Memory</b><pre style='margin:2px 0 0 8px; "
        f"white-space:pre-wrap'>activations (input and every output, float32): "
        f"{bytes_text(t.activation_bytes)}\nparameters (float32): "
        f"{bytes_text(t.parameter_bytes)}</pre></div>",
    ]
    if t.errors:
        parts.append(
            f"<p style='color:#d63031'>{t.errors} layer(s) have errors; the totals leave out "
            "what cannot be computed.</p>"
        )
    return "\n".join(parts)


class ExplainPanel(QTextBrowser):
    formulaRequested = Signal(str)
    """A derivation's "formula" link was clicked: the heading of docs/formulas.md to show."""
    actionRequested = Signal(str, str)
    """(action, node id): a link of the learner's notes was clicked ("make-separable"...)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explainPanel")
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._anchor_clicked)
        self._analysis: Analysis | None = None
        self._row: LayerRow | None = None
        self._focus: tuple[str, ...] = ()
        self._stale = False
        self._active = True
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self._render)
        self._notes_worker: LatestWorker | None = None
        self._notes_for: tuple[LayerRow, Analysis] | None = None
        """(row, analysis) whose notes the worker computes."""
        self.setPlaceholderText(
            "Select a layer or a table cell to see how its numbers are derived."
        )

    @property
    def pending(self) -> bool:
        """Something shown is not drawn yet (it is, one event-loop pass later; the notes of a
        large design when the worker has them)."""
        return self._render_timer.isActive() or self._notes_for is not None

    def shutdown(self) -> None:
        """Stop the notes' worker (the window closes)."""
        self._render_timer.stop()
        self._notes_for = None
        if self._notes_worker is not None:
            self._notes_worker.shutdown()

    def show_totals(self, analysis: Analysis) -> None:
        self._row, self._focus, self._stale, self._analysis = None, (), False, None
        self._render_timer.stop()
        self._notes_for = None
        self.setHtml(totals_html(analysis))

    def show_row(
        self, row: LayerRow | None, focus: tuple[str, ...] = (), analysis: Analysis | None = None
    ) -> None:
        """Show ``row``; with its ``analysis`` the learner's notes are added (they depend on
        the whole design: the cost of doubling a layer, the pair a conv belongs to)."""
        same = analysis is self._analysis or (
            analysis is not None
            and self._analysis is not None
            and analysis.design is self._analysis.design
        )
        # The very row, not an equal one: LayerRow equality compares the derivation texts,
        # which formats them all for both rows (7 ms for a node of a 10,000-node graph, on
        # every refresh). An equal row that is another object is simply drawn again.
        if row is self._row and focus == self._focus and same and not self._stale:
            return
        self._row, self._focus, self._analysis = row, focus, analysis
        self._stale = True
        self._notes_for = None
        if self._active:
            # After this frame: out of sight (closed, or behind the History tab) it is drawn
            # when shown again, not on every edit.
            self._render_timer.start()

    def set_active(self, active: bool) -> None:
        """Whether the panel can be seen (its dock's ``visibilityChanged``)."""
        self._active = active
        if active and self._stale:
            self._render_timer.start()

    def _render(self) -> None:
        self._stale = False
        row, analysis = self._row, self._analysis
        if row is None:
            self.clear()
            return
        if (
            analysis is not None
            and analysis_cost(analysis.design, at_least=BACKGROUND_NOTES_ROWS)
            >= BACKGROUND_NOTES_ROWS
        ):
            self._show(row, [])  # the derivations now, the notes when the worker has them
            self._notes_for = (row, analysis)
            if self._notes_worker is None:
                self._notes_worker = LatestWorker(
                    self, background=True, python_bound=True, priority=1
                )
                self._notes_worker.resultReady.connect(self._notes_arrived)
                self._notes_worker.jobFailed.connect(self._notes_failed)
            node = row.id

            def job(_token: CancelToken, _progress: Progress) -> list[Note]:
                return notes(analysis, node)

            self._notes_worker.submit(job)
            return
        self._show(row, notes(analysis, row.id) if analysis is not None else [])

    def _show(self, row: LayerRow, learner: Sequence[Note]) -> None:
        focus = self._focus
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        scroll = self.verticalScrollBar().value()
        self.setHtml(
            explain_html(row, focus, highlight="#5c4b00" if dark else "#fff3bf", learner=learner)
        )
        if not focus:
            self.verticalScrollBar().setValue(scroll)

    def _notes_arrived(self, _request: int, learner: object) -> None:
        wanted = self._notes_for
        if wanted is None or not isinstance(learner, list):
            return
        row, analysis = wanted
        if row is not self._row or analysis is not self._analysis:
            return  # showing something else since
        self._notes_for = None
        self._show(row, learner)

    def _notes_failed(self, _request: int, _error: object) -> None:
        self._notes_for = None  # the derivations stay; the notes are an extra

    def _anchor_clicked(self, url: QUrl) -> None:
        row = self._row
        if url.scheme() == FORMULA_SCHEME:
            self.formulaRequested.emit(url.path())
            return
        if url.scheme() == ACTION_SCHEME and row is not None:
            self.actionRequested.emit(url.path(), row.id)
