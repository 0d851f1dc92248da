"""The arrays of an activations file (``convdesigner run --out``, the viewer's "Export all").

One writer for both, so a file from the window and one from the command line have the same keys:
``"input"`` and one array per node id, each (C, *spatial) or a vector, float32 (written in C order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from convdesigner.core.design import INPUT_ID, Design


def activation_arrays(
    design: Design, outputs: Sequence[np.ndarray] | Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """``outputs`` as :func:`run_design` returns them (input first, then one per node) or by
    id, keyed by id in execution order."""
    if isinstance(outputs, Mapping):
        items = [(INPUT_ID, outputs[INPUT_ID])]
        items += [(node_id, outputs[node_id]) for node_id in design.ids if node_id in outputs]
    else:
        if len(outputs) != len(design.nodes) + 1:
            raise ValueError(
                f"expected the input and {len(design.nodes)} outputs, got {len(outputs)} arrays"
            )
        items = list(zip((INPUT_ID, *design.ids), outputs, strict=True))
    # Views, not copies: the .npz writer streams each one (a copy of every map doubled the
    # memory of a run).
    return {key: np.asarray(value) for key, value in items}
