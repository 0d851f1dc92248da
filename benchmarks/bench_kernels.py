"""Speed of the engine kernels of issue 11's new operations against PyTorch, in the same run.

Run:  python benchmarks/bench_kernels.py [--repeat N] [--threads N]

Cases (float32, batch 1):
- transposed convolution 64 → 32 channels, 4×4 kernel, stride 2, padding 1, on 56×56;
- upsampling ×2 of 56×56×64, bilinear (align_corners False) and nearest;
- GELU (exact erf form), SiLU and softmax over the channels of 56×56×256.

PyTorch runs at its fastest CPU setting: channels_last tensors (prepared once, outside the
timing), inference_mode, and the engine's thread count. Each case is timed twice: on all the
engine's threads (torch.set_num_threads to the same number) and on one thread (torch with one
thread, the engine's kernels with ``workers=1`` and BLAS limited to one thread). Engine and torch
calls alternate; the ratio of the medians is printed, then that of the minima. Target:
engine/torch ≤ 1.5. On a busy machine the one-thread figures are the steadier: a thread that
waits for a core another program holds stalls both libraries' multi-threaded calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from convdesigner.core import parallel
from convdesigner.core.kernels import activations
from convdesigner.core.kernels.conv_transpose import conv_transpose2d
from convdesigner.core.kernels.resample import upsample

Run = Callable[[], object]


@dataclass(frozen=True)
class Case:
    name: str
    engine: Callable[[int], Run]
    """The engine's call on ``workers`` threads."""
    torch: Callable[[Any], Run]
    """torch's call, given the torch module."""


def cases(rng: np.random.Generator) -> list[Case]:
    x64 = rng.standard_normal((56, 56, 64)).astype(np.float32)
    x256 = (rng.standard_normal((56, 56, 256)) * 3).astype(np.float32)
    weight = (rng.standard_normal((64, 32, 4, 4)) * 0.05).astype(np.float32)
    bias = rng.standard_normal(32).astype(np.float32)

    def channels_last(torch: Any, x: np.ndarray) -> Any:
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
        return t.contiguous(memory_format=torch.channels_last)

    def torch_conv_transpose(torch: Any) -> Run:
        module = torch.nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(weight))
            module.bias.copy_(torch.from_numpy(bias))
        module = module.eval().to(memory_format=torch.channels_last)
        t = channels_last(torch, x64)
        return lambda: module(t)

    def torch_upsample(mode: str) -> Callable[[Any], Run]:
        def make(torch: Any) -> Run:
            t = channels_last(torch, x64)
            corners = False if mode == "bilinear" else None
            up = torch.nn.Upsample(scale_factor=2, mode=mode, align_corners=corners)
            return lambda: up(t)

        return make

    def torch_unary(fn: Callable[[Any, Any], Any]) -> Callable[[Any], Run]:
        def make(torch: Any) -> Run:
            t = channels_last(torch, x256)
            return lambda: fn(torch, t)

        return make

    return [
        Case(
            "conv_transpose2d 64→32, 4×4, stride 2, pad 1, 56×56 → 112×112",
            lambda w: lambda: conv_transpose2d(x64, weight, bias, (2, 2), (1, 1), workers=w),
            torch_conv_transpose,
        ),
        Case(
            "upsample bilinear ×2, 56×56×64",
            lambda w: lambda: upsample(x64, (112, 112), "bilinear", (2.0, 2.0), workers=w),
            torch_upsample("bilinear"),
        ),
        Case(
            "upsample nearest ×2, 56×56×64",
            lambda w: lambda: upsample(x64, (112, 112), "nearest", (2.0, 2.0), workers=w),
            torch_upsample("nearest"),
        ),
        Case(
            "gelu (erf), 56×56×256",
            lambda w: lambda: activations.gelu(x256, workers=w),
            torch_unary(lambda torch, t: torch.nn.functional.gelu(t)),
        ),
        Case(
            "silu, 56×56×256",
            lambda w: lambda: activations.silu(x256, workers=w),
            torch_unary(lambda torch, t: torch.nn.functional.silu(t)),
        ),
        Case(
            "softmax over channels, 56×56×256",
            lambda w: lambda: activations.softmax(x256, workers=w),
            torch_unary(lambda torch, t: torch.softmax(t, dim=1)),
        ),
    ]


def alternate(engine: Run, reference: Run | None, repeat: int) -> tuple[list[float], list[float]]:
    """Times in ms, engine and reference calls alternating (after one warm-up call each)."""
    engine()
    if reference is not None:
        reference()
    eng: list[float] = []
    ref: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        engine()
        eng.append((time.perf_counter() - t0) * 1000)
        if reference is not None:
            t0 = time.perf_counter()
            reference()
            ref.append((time.perf_counter() - t0) * 1000)
    return eng, ref


def bench(threads: int, repeat: int, torch: Any) -> None:
    one = threads == 1
    print(f"\n== {'one thread' if one else f'{threads} threads'}")
    print(f"   {'case':<62} {'engine ms':>10} {'torch ms':>9} {'ratio':>6} {'(minima)':>8}")
    if torch is not None:
        torch.set_num_threads(threads)
    for case in cases(np.random.default_rng(0)):
        reference = None if torch is None else case.torch(torch)
        with threadpool_limits(1 if one else None, "blas"):
            if torch is not None:
                with torch.inference_mode():
                    eng, ref = alternate(case.engine(threads), reference, repeat)
            else:
                eng, ref = alternate(case.engine(threads), None, repeat)
        e = statistics.median(eng)
        if ref:
            t = statistics.median(ref)
            ratios = f"{e / t:6.2f} {min(eng) / min(ref):8.2f}"
            print(f"   {case.name:<62} {e:10.3f} {t:9.3f} {ratios}")
        else:
            print(f"   {case.name:<62} {e:10.3f} {'-':>9} {'-':>6} {'-':>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=41, help="timed runs per figure (41)")
    parser.add_argument(
        "--threads", type=int, default=parallel.WORKERS,
        help=f"threads for the multi-threaded figures (the engine's {parallel.WORKERS})",
    )  # fmt: skip
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    args = parser.parse_args()
    torch: Any = None
    if not args.no_torch:
        try:
            import torch as torch_module
        except ImportError:
            print("torch not installed: engine times only")
        else:
            torch = torch_module
    print(f"numpy {np.__version__}" + ("" if torch is None else f", torch {torch.__version__}"))
    print(
        f"engine threads: {parallel.WORKERS}; load average {os.getloadavg()[0]:.2f} "
        "(other work on the machine makes every figure noisier)"
    )
    bench(args.threads, args.repeat, torch)
    if args.threads != 1:
        bench(1, args.repeat, torch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
