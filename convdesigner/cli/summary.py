"""``convdesigner summary``: the layer table of a design as text, CSV or JSON."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from convdesigner.cli.errors import CliError, load_design_or_fail


def _write_output(text: str, output: str | None) -> None:
    if output is None or output == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. `convdesigner summary x.json | head`: not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the exit flush quiet
        return
    from convdesigner.core.atomic import atomic_write_text

    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None


def cmd_summary(args: argparse.Namespace) -> int:
    from convdesigner.core.analysis import analyse
    from convdesigner.core.table import to_csv, to_json, to_text

    if args.explain and args.format != "table":
        raise CliError(
            "--explain only applies to --format table (JSON output always includes the "
            "derivations; CSV has none)"
        )
    analysis = analyse(load_design_or_fail(args.design))
    if args.format == "csv":
        text = to_csv(analysis)
    elif args.format == "json":
        text = to_json(analysis)
    else:
        text = to_text(analysis, explain=args.explain)
    _write_output(text, args.output)
    first = analysis.first_error
    if first is not None:
        # The table is still printed (it shows where the design breaks); the status tells scripts.
        raise CliError(f"{args.design}: layer {first.index} ({first.name}): {first.message}")
    return 0


def register(add_parser: Callable[..., argparse.ArgumentParser]) -> None:
    p = add_parser(
        "summary",
        help="print the layer table: shapes, weights, MACs, receptive fields",
        description="Analyse a design file and print its layer table.",
    )
    p.add_argument("design", metavar="DESIGN.json")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--explain", action="store_true", help="show how every number is derived (table format)"
    )
    p.set_defaults(func=cmd_summary)
