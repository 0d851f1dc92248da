"""Engine speed: the reference network against PyTorch, the interactive case, time per GMAC.

Run:  python benchmarks/bench_engine.py [--repeat N] [--no-torch] [--unset-coretype]

Everything is measured in this one run on this machine, so the ratios hold whatever the CPU:
- reference network (issue 3): input 3×512×512, four blocks of conv 3×3 "same" + ReLU + maxpool
  2×2 with 32, 64, 128, 128 filters. The engine computes and keeps every layer's output; PyTorch
  (if installed) runs the same network at its fastest on the CPU: channels_last, inference_mode,
  the same thread count. Runs alternate engine/torch; medians are compared.
  Target: engine/torch ≤ 1.0 and ≥ 50 % of the SGEMM rate that numpy.matmul reaches here.
- interactive case: the Q&A example at its own input size (25×64×1), default weights, the GUI's
  call; target ≤ 10 ms.
- time per GMAC (1 MAC = 2 FLOPs) for a few designs: it should stay flat as work grows.

BLAS: the kernel OpenBLAS picked is printed. If OPENBLAS_CORETYPE is set in the environment it
forces a kernel (often an older, slower one); ``--unset-coretype`` re-runs this script without it
(only this process is affected).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from convdesigner.core import parallel
from convdesigner.core.analysis import analyse
from convdesigner.core.design import Design, InputSpec
from convdesigner.core.engine.forward import run_design
from convdesigner.core.layers import Conv2D, Layer, MaxPool2D, ReLU
from convdesigner.core.templates import load_template
from convdesigner.core.weights import default_weights


def reference_network(size: int = 512) -> Design:
    layers: list[Layer] = []
    for filters in (32, 64, 128, 128):
        layers += [Conv2D(filters=filters, kernel=3, padding="same"), ReLU(), MaxPool2D(kernel=2)]
    return Design(InputSpec(size, size, 3), tuple(layers), name=f"reference {size}²")


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped]
    except ImportError:
        return "threadpoolctl not installed: BLAS unknown"
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not infos:
        return "no BLAS library found"
    parts = []
    for i in infos:
        name = os.path.basename(str(i.get("filepath", "?")))
        parts.append(
            f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
            f"threads={i.get('num_threads')} ({name})"
        )
    return "; ".join(parts)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def sgemm_gflops(repeat: int) -> float:
    n = 2048
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    ms = median_ms(lambda: np.matmul(a, b, out=out), repeat)
    return 2 * n**3 / (ms / 1000) / 1e9


def torch_reference(threads: int) -> tuple[Callable[[np.ndarray], object], str] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    nn = torch.nn
    modules: list[torch.nn.Module] = []
    c_in = 3
    for filters in (32, 64, 128, 128):
        modules += [nn.Conv2d(c_in, filters, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = filters
    model = nn.Sequential(*modules).eval().to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def run(image: np.ndarray) -> object:
        x = torch.from_numpy(image)[None].contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return model(x)

    return run, f"torch {torch.__version__}, {torch.get_num_threads()} threads, channels_last"


def bench_reference(repeat: int, use_torch: bool, sgemm: float) -> None:
    design = reference_network()
    macs = analyse(design).totals.macs
    image = np.random.default_rng(1).random(design.input.shape, dtype=np.float32)
    weights = default_weights(design)
    torch_run = torch_reference(parallel.WORKERS) if use_torch else None
    print(
        f"\n== reference network: 3×512×512, 4 × (conv3×3 same + ReLU + maxpool2) "
        f"32/64/128/128 — {macs / 1e9:.2f} GMAC = {2 * macs / 1e9:.2f} GFLOP"
    )
    if torch_run is not None:
        print(f"   {torch_run[1]}")

    def engine() -> object:
        return run_design(design, image, weights)

    engine()
    if torch_run is not None:
        torch_run[0](image)
    eng: list[float] = []
    ref: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        engine()
        eng.append(time.perf_counter() - t0)
        if torch_run is not None:
            t0 = time.perf_counter()
            torch_run[0](image)
            ref.append(time.perf_counter() - t0)
    e_ms = statistics.median(eng) * 1000
    gflops = 2 * macs / (e_ms / 1000) / 1e9
    print(
        f"   engine  median {e_ms:8.1f} ms   (min {min(eng) * 1000:.1f})   "
        f"{gflops:6.1f} GFLOP/s = {100 * gflops / sgemm:.0f} % of SGEMM (target ≥ 50 %)"
    )
    if ref:
        t_ms = statistics.median(ref) * 1000
        print(
            f"   torch   median {t_ms:8.1f} ms   (min {min(ref) * 1000:.1f})   "
            f"{2 * macs / (t_ms / 1000) / 1e9:6.1f} GFLOP/s"
        )
        print(
            f"   ratio engine/torch = {e_ms / t_ms:.2f} (medians; target ≤ 1.00), "
            f"{min(eng) / min(ref):.2f} (minima)"
        )
    else:
        print("   torch skipped (--no-torch) or not installed: no ratio")


def bench_interactive(repeat: int) -> None:
    design = load_template("qa-example")
    image = np.random.default_rng(2).random(design.input.shape, dtype=np.float32)
    macs = analyse(design).totals.macs
    ms = median_ms(lambda: run_design(design, image), repeat)
    verdict = "ok" if ms <= 10 else "OVER"
    print(f"\n== interactive: Q&A example 25×64×1, {macs / 1e6:.0f} M MAC, default weights")
    print(f"   median {ms:.2f} ms (target ≤ 10 ms: {verdict})")


def bench_per_gmac(repeat: int) -> None:
    print("\n== time per GMAC (engine, default weights)")
    print(f"   {'design':<26} {'GMAC':>7} {'median ms':>10} {'ms/GMAC':>8}")
    designs = [
        load_template("qa-example"),
        reference_network(128),
        reference_network(256),
        reference_network(512),
        load_template("lenet5"),
        load_template("alexnet"),
        load_template("mobilenet-v1"),
        load_template("vgg16"),
    ]
    for design in designs:
        macs = analyse(design).totals.macs
        image = np.random.default_rng(3).random(design.input.shape, dtype=np.float32)
        n = repeat if macs < 2e9 else max(3, repeat // 4)
        ms = median_ms(functools.partial(run_design, design, image), n)
        print(f"   {design.name[:26]:<26} {macs / 1e9:7.3f} {ms:10.2f} {ms / (macs / 1e9):8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per figure (15)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    parser.add_argument(
        "--unset-coretype", action="store_true",
        help="re-run without OPENBLAS_CORETYPE (affects this process only)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.unset_coretype and "OPENBLAS_CORETYPE" in os.environ:
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        argv = [a for a in sys.argv if a != "--unset-coretype"]
        os.execve(sys.executable, [sys.executable, *argv], env)
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(f"numpy {np.__version__}; BLAS: {blas_description()}")
    print(
        f"OPENBLAS_CORETYPE = {coretype!r}"
        + (" (forced kernel; try --unset-coretype)" if coretype else " (kernel chosen by OpenBLAS)")
    )
    print(
        f"engine threads: {parallel.WORKERS}; load average {os.getloadavg()[0]:.2f} "
        "(other work on the machine makes every figure noisier)"
    )
    sgemm = sgemm_gflops(max(5, args.repeat // 3))
    print(f"numpy.matmul SGEMM 2048³: {sgemm:.1f} GFLOP/s")
    bench_reference(args.repeat, not args.no_torch, sgemm)
    bench_interactive(args.repeat * 4)
    bench_per_gmac(args.repeat // 2 + 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
