"""Engine speed on graphs: the reference chain and ResNet-50, against PyTorch and onnxruntime.

Run:  python benchmarks/bench_graph.py [--repeat N] [--threads N]

Needs the oracle extras (torch, torchvision) and onnxruntime + onnx (``pip install onnxruntime
onnx``); a missing reference is reported and skipped. Everything is measured in this one run on
this machine, runs alternate between the engines, and medians are compared, so the ratios hold
whatever the CPU:
- reference chain (issue 3's network: 3×512×512, four blocks of conv 3×3 "same" + ReLU +
  maxpool 2×2 with 32, 64, 128, 128 filters), every layer's output kept by all three: the engine
  as the viewer runs it, PyTorch channels_last returning every output, onnxruntime with every
  intermediate tensor as a graph output. Targets: engine/torch no worse than before the graph
  executor (≈0.6-0.8), engine/onnxruntime ≤ 1.0.
- ResNet-50 at 224×224 (resources/designs/resnet50.json, torchvision's module paths as ids):
  the engine keeping only the output (each activation freed after its last reader) and keeping
  every output; torchvision's resnet50 in PyTorch; the same model exported to ONNX in
  onnxruntime. Targets: engine/torch ≤ 1.0, engine/onnxruntime ≤ 1.2.
All references use the same number of threads as the engine (its band workers).

ResNet-50 is also measured on one thread (engine with one band worker and BLAS on one thread,
onnxruntime with one intra-op thread), in process CPU time as well as wall time: on a shared
2-core machine the two-thread figures mostly measure the scheduler, the one-thread CPU times
barely move with the load. Last, the "GEMM floor": numpy.matmul alone, on one thread, over the
matrix products an im2col engine computes for ResNet-50 (every convolution's (H·W, k·k·C_in) ×
(k·k·C_in, C_out) product, nothing else): what NumPy's BLAS needs before any copying, batch
norm, sum or pooling, next to onnxruntime's whole network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from convdesigner.core import parallel
from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import run_design, run_graph
from convdesigner.core.layers import Conv2D, Layer, MaxPool2D, ReLU
from convdesigner.core.templates import template_path
from convdesigner.core.weights import default_weights, shared_default_weights

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def reference_network(size: int = 512) -> Design:
    layers: list[Layer] = []
    for filters in (32, 64, 128, 128):
        layers += [Conv2D(filters=filters, kernel=3, padding="same"), ReLU(), MaxPool2D(kernel=2)]
    return Design(InputSpec(size, size, 3), tuple(layers), name=f"reference {size}²")


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


PAUSE = 0.1
"""Seconds of idle before each timed run: onnxruntime's and PyTorch's worker threads spin for a
while after a run, and the next engine's run would otherwise share the cores with them (every
engine starts from an idle machine this way, as a user's single run does)."""


def interleaved(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median ms of each function, runs alternating so that load changes hit all alike."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            time.sleep(PAUSE)
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _ort() -> Any:
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def _torch_chain(torch: Any, design: Design, weights: dict[str, np.ndarray]) -> Any:
    """The reference chain in PyTorch, returning every layer's output (like the engine)."""
    nn = torch.nn

    class Chain(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            mods: list[Any] = []
            c_in = design.input.channels
            for layer in design.layers:
                if isinstance(layer, Conv2D):
                    mods.append(nn.Conv2d(c_in, layer.filters, 3, padding=1))
                    c_in = layer.filters
                elif isinstance(layer, ReLU):
                    mods.append(nn.ReLU())
                else:
                    mods.append(nn.MaxPool2d(2))
            self.layers = nn.Sequential(*mods)

        def forward(self, x: Any) -> Any:
            outs = []
            for m in self.layers:
                x = m(x)
                outs.append(x)
            return tuple(outs)

    model = Chain().eval()
    state = {f"layers.{k}": torch.from_numpy(v) for k, v in weights.items()}
    model.load_state_dict(state)
    return model


def _ort_session(ort: Any, torch: Any, model: Any, example: Any, threads: int) -> Any:
    path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    with torch.inference_mode():
        torch.onnx.export(model, (example,), path, dynamo=False, opset_version=17)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def bench_chain(repeat: int, threads: int) -> None:
    design = reference_network()
    analysis = analyse(design)
    # Read-only weights, as the app and `convdesigner run` hand them to the engine (writable
    # arrays are fingerprinted on every run, in case the caller changed them in place).
    shared = shared_default_weights(design)
    weights = default_weights(design)
    image = np.random.default_rng(0).random((3, 512, 512), dtype=np.float32)
    fns: dict[str, Callable[[], object]] = {
        "engine": lambda: run_design(design, image, shared, analysis=analysis)
    }
    torch = _torch()
    ort = _ort()
    if torch is not None:
        torch.set_num_threads(threads)
        model = _torch_chain(torch, design, weights).to(memory_format=torch.channels_last)
        x = torch.from_numpy(image[None]).contiguous(memory_format=torch.channels_last)

        def run_torch() -> object:
            with torch.inference_mode():
                return model(x)

        fns["torch"] = run_torch
        if ort is not None:
            session = _ort_session(ort, torch, _torch_chain(torch, design, weights), x, threads)
            feed = {session.get_inputs()[0].name: image[None]}
            fns["onnxruntime"] = lambda: session.run(None, feed)
    print("== reference chain 3×512×512, every layer's output kept")
    report(interleaved(fns, repeat))


def bench_resnet50(repeat: int, threads: int) -> None:
    from convdesigner.core.fileformat import load_design

    design = load_design(template_path("resnet50"))
    analysis = analyse(design)
    shared = shared_default_weights(design)
    weights = default_weights(design)
    image = np.random.default_rng(0).random((3, 224, 224), dtype=np.float32)
    fns: dict[str, Callable[[], object]] = {
        "engine": lambda: run_graph(design, image, shared, analysis=analysis),
        "engine, every output kept": lambda: run_graph(
            design, image, shared, analysis=analysis, keep_all=True
        ),
    }
    torch = _torch()
    ort = _ort()
    if torch is not None:
        try:
            from tests.oracles.torchvision_stub import import_torchvision

            torchvision = import_torchvision()
        except Exception as exc:  # torchvision missing or not loadable: say which and go on
            print(f"   (torchvision unavailable: {exc})")
            torchvision = None
        if torchvision is not None:
            torch.set_num_threads(threads)
            model = torchvision.models.resnet50(weights=None).eval()
            model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
            model = model.to(memory_format=torch.channels_last)
            x = torch.from_numpy(image[None]).contiguous(memory_format=torch.channels_last)

            def run_torch() -> object:
                with torch.inference_mode():
                    return model(x)

            fns["torch"] = run_torch
            if ort is not None:
                session = _ort_session(ort, torch, model, x, threads)
                feed = {session.get_inputs()[0].name: image[None]}
                fns["onnxruntime"] = lambda: session.run(None, feed)
    print("== ResNet-50, 224×224×3 (output only unless said)")
    report(interleaved(fns, repeat))
    if ort is not None and torch is not None and torchvision is not None:
        one_thread(design, analysis, shared, image, ort, model, torch, repeat)
    gemm_floor(design, analysis)


def one_thread(
    design: Design,
    analysis: Any,
    weights: dict[str, np.ndarray],
    image: np.ndarray,
    ort: Any,
    model: Any,
    torch: Any,
    repeat: int,
) -> None:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    x = torch.from_numpy(image[None]).contiguous(memory_format=torch.channels_last)
    session = _ort_session(ort, torch, model, x, 1)
    feed = {session.get_inputs()[0].name: image[None]}
    saved = parallel.WORKERS

    def engine() -> object:
        parallel.WORKERS = 1
        try:
            with threadpool_limits(1, user_api="blas"):
                return run_graph(design, image, weights, analysis=analysis)
        finally:
            parallel.WORKERS = saved

    fns: dict[str, Callable[[], object]] = {
        "engine": engine,
        "onnxruntime": lambda: session.run(None, feed),
    }
    for fn in fns.values():
        fn()
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            time.sleep(PAUSE)
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    print("== ResNet-50 on one thread (medians; CPU time is what the load barely changes)")
    for name in fns:
        w, c = statistics.median(wall[name]) * 1000, statistics.median(cpu[name]) * 1000
        print(f"   {name:28s} {w:8.1f} ms wall {c:8.1f} ms CPU")
    ratio_wall = statistics.median(wall["engine"]) / statistics.median(wall["onnxruntime"])
    ratio_cpu = statistics.median(cpu["engine"]) / statistics.median(cpu["onnxruntime"])
    print(f"   engine/onnxruntime = {ratio_wall:.2f} (wall), {ratio_cpu:.2f} (CPU)")


def gemm_floor(design: Design, analysis: Any) -> None:
    """numpy.matmul alone over the products of every convolution, one thread, best of 15."""
    from threadpoolctl import threadpool_limits

    counts: dict[tuple[int, int, int], int] = {}
    for index, node in enumerate(design.nodes):
        if not isinstance(node.op, Conv2D):
            continue
        row = analysis.row_for_layer(index)
        c_out, h, w = row.output_shape
        kh, kw = node.op.kernel
        key = (h * w, kh * kw * row.input_shapes[0][0] // node.op.groups, c_out)
        counts[key] = counts.get(key, 0) + 1
    total = 0.0
    rng = np.random.default_rng(0)
    with threadpool_limits(1, user_api="blas"):
        for (n, k, m), count in counts.items():
            a = rng.random((n, k), dtype=np.float32)
            b = rng.random((k, m), dtype=np.float32)
            c = np.empty((n, m), dtype=np.float32)
            times = []
            for _ in range(15):
                t0 = time.thread_time()
                np.matmul(a, b, out=c)
                times.append(time.thread_time() - t0)
            total += min(times[3:]) * count
    print("== GEMM floor: numpy.matmul alone over ResNet-50's im2col products, one thread")
    print(f"   {total * 1000:8.1f} ms CPU (onnxruntime's whole network on one thread: above)")


def report(ms: dict[str, float]) -> None:
    engine = ms["engine"]
    for name, value in ms.items():
        ratio = "" if name == "engine" else f"   engine/{name} = {engine / value:.2f}"
        if name.startswith("engine,"):
            ratio = f"   ({value / engine:.2f}× the output-only run)"
        print(f"   {name:28s} {value:8.1f} ms{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per engine (10)")
    parser.add_argument("--threads", type=int, default=parallel.WORKERS, help="reference threads")
    args = parser.parse_args()
    print(f"threads: engine {parallel.WORKERS} band workers, references {args.threads}")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    bench_chain(args.repeat, args.threads)
    bench_resnet50(args.repeat, args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
