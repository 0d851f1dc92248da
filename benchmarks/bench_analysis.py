"""Core speed: ``analyse()`` of a 500-layer design, the work redone on every keystroke.

Run:  python benchmarks/bench_analysis.py [--repeat N]

Budget (issue 2): analyse() of a 500-layer design in under 10 ms, so the table can be recomputed
from scratch on every edit. Printed with a reference measured in the same run on the same
machine: building the same 500 layer objects again (their validation, the cheapest per-layer
work any edit does), so the ratio says how many "layer rebuilds" one analysis costs. Also shown:
the derivation texts, which are built only when read (the explain panel shows one row).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
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

BUDGET_MS = 10.0


def layers_500() -> list[Layer]:
    """A valid 500-layer stack using every layer type (no layer shrinks the map to nothing)."""
    layers: list[Layer] = []
    for i in range(82):
        layers += [
            Conv2D(filters=32, kernel=3, padding="same", bias=False),
            BatchNorm2D(),
            ReLU(),
            Conv2D(filters=32, kernel=3, padding=1, groups=32, dilation=1),
            MaxPool2D(kernel=3, stride=1, padding=1, ceil_mode=i % 2 == 0),
            AvgPool2D(kernel=3, stride=1, padding="same"),
        ]
    layers += [GlobalAvgPool2D(), Flatten(), Dropout(), Dense(units=1000), ReLU(), Dense(units=10)]
    assert len(layers) == 498
    return [*layers, Dropout(), Dense(units=10)]


def design_500() -> Design:
    return Design(InputSpec(224, 224, 3), tuple(layers_500()), name="500 layers")


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def rebuild(layers: list[Layer]) -> list[Layer]:
    return [type(layer)(**layer.settings()) for layer in layers]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per figure (50)")
    repeat = parser.parse_args().repeat
    design = design_500()
    analysis = analyse(design)
    assert analysis.ok
    assert len(design.layers) == 500
    for _ in range(5):  # warm up
        analyse(design)
        rebuild(list(design.layers))

    ref = median_ms(lambda: rebuild(list(design.layers)), repeat)
    ms = median_ms(lambda: analyse(design), repeat)
    # Derivations are built once, on first read: time that first read on fresh analyses.
    fresh = iter([analyse(design) for _ in range(repeat)])
    explain_one = median_ms(lambda: dict(next(fresh).rows[250].derivations), repeat)
    fresh = iter([analyse(design) for _ in range(repeat)])
    explain_all = median_ms(lambda: [dict(r.derivations) for r in next(fresh).rows], repeat)

    print("== analyse() of a 500-layer design (every layer type, 224×224×3 input)")
    print(f"   reference, rebuilding the 500 layer objects:  {ref:7.2f} ms")
    verdict = "OK" if ms <= BUDGET_MS else "OVER"
    print(
        f"   analyse():                                    {ms:7.2f} ms"
        f"   ratio {ms / ref:.2f}× reference   budget {BUDGET_MS:.0f} ms: {verdict}"
    )
    print(f"   derivations of one row (explain panel):       {explain_one:7.2f} ms")
    print(f"   derivations of all 501 rows (--explain):      {explain_all:7.2f} ms")
    return 0 if ms <= BUDGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
