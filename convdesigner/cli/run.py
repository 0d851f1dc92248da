"""The engine's subcommands: ``run`` (feature maps of an image) and ``weights`` (default weights).

Like every subcommand, a user's mistake exits 2 with one line on stderr. NumPy and the engine are
imported inside the commands, so ``--help`` and the app launch do not load them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from convdesigner.cli.errors import CliError, load_design_or_fail


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**32 - 1}, got {value}")
    return value


def _write_npz(path: str, arrays: Mapping[str, Any]) -> None:
    from convdesigner.core.atomic import atomic_savez

    try:
        atomic_savez(path, arrays)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from convdesigner.core.activations import activation_arrays
    from convdesigner.core.analysis import analyse
    from convdesigner.core.engine.forward import DEFAULT_MEMORY_LIMIT, estimate_memory, run_design
    from convdesigner.core.engine.memory import check_limit
    from convdesigner.core.images import ImageError, load_image
    from convdesigner.core.weights import load_weights

    design = load_design_or_fail(args.design)
    analysis = analyse(design)  # once for the whole command
    spec = design.input
    try:  # refuse an impossible run before decoding a possibly large image
        check_limit(estimate_memory(design, analysis), DEFAULT_MEMORY_LIMIT)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        image = load_image(
            args.input, spec.channels, (spec.height, spec.width) if args.resize else None
        )
    except ImageError as exc:
        raise CliError(str(exc)) from None
    if image.shape != spec.shape:
        raise CliError(
            f"{args.input}: the image is {image.shape[1]}×{image.shape[2]}, the design's input is "
            f"{spec.height}×{spec.width}; pass --resize to scale it"
        )
    try:
        weights = load_weights(design, args.weights, analysis=analysis) if args.weights else None
        outputs = run_design(design, image, weights, seed=args.seed, analysis=analysis)
    except ValueError as exc:  # design errors, bad weights, MemoryLimitError
        raise CliError(str(exc)) from None
    _write_npz(args.out, activation_arrays(design, outputs))
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    from convdesigner.core.analysis import analyse
    from convdesigner.core.engine.memory import DEFAULT_MEMORY_LIMIT, check_limit, estimate_weights
    from convdesigner.core.weights import DefaultWeights

    design = load_design_or_fail(args.design)
    analysis = analyse(design)
    try:
        check_limit(estimate_weights(analysis), DEFAULT_MEMORY_LIMIT, "drawing the weights")
        # Drawn one by one as the file is written (read-only, no copies).
        weights = DefaultWeights(
            design, args.seed, classic_filters=not args.random_only, analysis=analysis
        )
    except ValueError as exc:  # a design error, or more than the memory limit
        raise CliError(str(exc)) from None
    _write_npz(args.out, weights)
    return 0


def register_run(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    p = add_parser(
        "run",
        help="compute every layer's feature maps for an image and save them as .npz",
        description=(
            "Run a design on one image (PNG, JPEG, BMP or .npy) and write the input and every "
            'layer\'s output as float32 arrays named "input" and each layer\'s id ("0", "1", '
            "... in a plain chain)."
        ),
    )
    p.add_argument("design", metavar="DESIGN.json")
    p.add_argument("--input", "-i", required=True, metavar="IMAGE_OR_NPY")
    p.add_argument("--weights", "-w", metavar="W.npz", help="weights in PyTorch state_dict layout")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the default weights (0)")
    p.add_argument(
        "--resize", action="store_true", help="resize the image to the design's input size"
    )
    p.add_argument("--out", "-o", required=True, metavar="ACTIVATIONS.npz")
    p.set_defaults(func=cmd_run)


def register_weights(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    p = add_parser(
        "weights",
        help="export a design's default weights as .npz (PyTorch state_dict layout)",
        description=(
            "Write the default weights (He-normal, seeded; classic filters in the first conv "
            'layer) with torch\'s state_dict keys: "{id}.weight", ... ("0.weight" in a plain '
            "chain, as torch.nn.Sequential)."
        ),
    )
    p.add_argument("design", metavar="DESIGN.json")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (0)")
    p.add_argument(
        "--random-only", action="store_true", help="no classic filters in the first conv layer"
    )
    p.add_argument("--out", "-o", required=True, metavar="W.npz")
    p.set_defaults(func=cmd_weights)
