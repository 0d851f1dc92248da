"""Analyses of large designs, computed on a worker thread so the window never freezes.

An edit of a 10,000-node design costs 20-200 ms of pure Python analysis (issue 12 item 8 asks for
no event-loop stall over 30 ms). The analysis reads immutable designs only, so it can run on a
pool thread: Python hands the interpreter back to the UI thread every few milliseconds, and the
window keeps painting and taking input meanwhile. Small designs are analysed on the spot, as
before: a 100-layer edit takes well under a millisecond and must show in the same frame.

Only the newest request counts (:class:`~convdesigner.ui.workers.LatestWorker`): when the user
edits again before a result comes back, the older result is dropped unseen, and a result is
delivered only while its design is still the document's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from convdesigner.core.analysis import Analysis, analyse, analysis_cost
from convdesigner.core.cancel import CancelToken
from convdesigner.core.design import Design
from convdesigner.core.document import Document
from convdesigner.ui.cards import same_wiring, skip_edges
from convdesigner.ui.gc_guard import freeze_arrived
from convdesigner.ui.workers import LatestWorker, Progress

BACKGROUND_NODES = 600
"""Designs whose analysis costs at least this many nodes (``analysis_cost``: the nodes, and
the merges' inputs by twenties) are analysed on the worker thread; the views show the edit
about 0.1 s later. Below it the analysis and the views' refresh fit one frame (DenseNet-121's
427 nodes, cost 456: an edit's analysis 1-2 ms, its open 18-29 ms in all). It was 1,500: a
1,400-node chain's open froze the window 37 ms and a 400-layer dense block's (cost 1,400;
24 ms of analysis alone) edits 46-57 ms; both now stay under 30 ms."""


BACKGROUND_INPUTS = 1_000
"""Designs whose nodes read at least this many inputs in all are analysed on the worker too,
whatever their analysis cost: an edit of a 200-layer dense block (cost 450, 5,150 inputs)
changes every row and every card, whose 4,950 skip edges the pipeline then redraws; in the
edit's own frame that took 31-36 ms (the 100-layer block, 1,325 inputs: 26-32 ms).
DenseNet-121 reads 593."""


BACKGROUND_OPEN_COST = 300
"""An opened design (a file or a template, not an edit of a few nodes) whose analysis costs at
least this is analysed on the worker too: opening DenseNet-121 (cost 456) analysed it in the
frame that first drew its table (6-10 ms of an 18 ms frame, 28-30 ms in one open of eight)."""


def prepare(design: Design, previous: Analysis | None) -> Analysis:
    """Analyse ``design`` and fill the lookups the views read right after (on the worker's
    thread, so the UI thread finds them computed)."""
    analysis = analyse(design, previous)
    analysis.totals  # noqa: B018 (cached: filled here, off the UI thread)
    analysis.first_error  # noqa: B018
    analysis.ok  # noqa: B018
    analysis.row(analysis.rows[0].id)
    design.is_sequential  # noqa: B018
    if design.nodes:
        design.index_of(design.nodes[0].id)
    if previous is None or not same_wiring(previous.design, design):
        skip_edges(analysis)  # placed for the pipeline, which looks when the wiring changed
    return analysis


class AnalysisFeed(QObject):
    """Gives the document's current design an analysis, now or from a worker thread.

    ``ready(design)`` is emitted (in the UI thread) when a background analysis of ``design``
    arrived and was handed to the document; results for a design the document no longer shows
    are discarded.
    """

    ready = Signal(object)

    def __init__(
        self,
        document: Document,
        parent: QObject | None = None,
        *,
        threshold: int = BACKGROUND_NODES,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.threshold = threshold
        self._worker = LatestWorker(self, background=True, python_bound=True, priority=0)
        self._worker.resultReady.connect(self._arrived)
        self._worker.jobFailed.connect(self._failed)
        self._waiting_for: Design | None = None
        self.discarded = 0
        """Results that arrived for a design no longer current (for tests and the benchmark)."""

    @property
    def pending(self) -> bool:
        """An analysis of the current design is being computed: the views show an older one."""
        return self._waiting_for is not None

    def is_large(self, design: Design) -> bool:
        """Whether ``design`` is analysed on the worker when it changes: its analysis cost
        reaches the threshold, or its merges read :data:`BACKGROUND_INPUTS` inputs."""
        if analysis_cost(design, at_least=self.threshold) >= self.threshold:
            return True
        inputs = 0
        for node in design.nodes:
            if node.inputs is not None:
                inputs += len(node.inputs)
                if inputs >= BACKGROUND_INPUTS:
                    return True
        return False

    def in_background(self, design: Design, *, opened: bool = False) -> bool:
        """Whether ``design`` (the document's new design; ``opened``: from a file or a template,
        or many nodes changed at once) will be analysed on the worker."""
        if self.document.analysis_ready:
            return False
        if opened and analysis_cost(design, at_least=BACKGROUND_OPEN_COST) >= (
            BACKGROUND_OPEN_COST
        ):
            return True
        return self.is_large(design)

    def request(self) -> None:
        """Analyse the document's current design on the worker (the newest request wins)."""
        design = self.document.design
        previous = self.document.last_analysis
        self._waiting_for = design

        def job(_token: CancelToken, _progress: Progress) -> Analysis:
            return prepare(design, previous)

        self._worker.submit(job)

    def cancel(self) -> None:
        """The current design's analysis is no longer wanted from the worker (it was computed
        on the spot, or the design changed to one that is)."""
        if self._waiting_for is not None:
            self._waiting_for = None
            self._worker.cancel()

    def shutdown(self) -> None:
        self._waiting_for = None
        self._worker.shutdown()

    def _arrived(self, _request: int, analysis: object) -> None:
        assert isinstance(analysis, Analysis)
        if analysis.design is not self.document.design or self._waiting_for is None:
            self.discarded += 1
            return
        self._waiting_for = None
        self.document.adopt_analysis(analysis)
        freeze_arrived()  # its objects live while the design is shown: not walked again
        self.ready.emit(analysis.design)

    def _failed(self, _request: int, _error: object) -> None:
        # analyse() never raises on a design; if it ever did, the document computes it on the
        # UI thread when asked (slow but right) rather than leaving the views stale.
        design = self._waiting_for
        self._waiting_for = None
        if design is not None and design is self.document.design:
            self.ready.emit(design)
