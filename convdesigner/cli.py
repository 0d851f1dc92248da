"""The ``convdesigner`` command: subcommands for scripting, or the GUI when none is given.

``convdesigner`` and ``convdesigner DESIGN.json`` launch the app (Qt is imported only then, so the
scripting subcommands work on machines without a display). Every failure a user can cause exits
with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from convdesigner import __version__

if TYPE_CHECKING:
    from convdesigner.core.design import Design

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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


def _load(path: str) -> Design:
    from convdesigner.core.fileformat import DesignFileError, load_design

    try:
        return load_design(path)
    except DesignFileError as exc:
        raise CliError(str(exc)) from None


def cmd_summary(args: argparse.Namespace) -> int:
    from convdesigner.core.analysis import analyse
    from convdesigner.core.table import to_csv, to_json, to_text

    if args.explain and args.format != "table":
        raise CliError(
            "--explain only applies to --format table (JSON output always includes the "
            "derivations; CSV has none)"
        )
    analysis = analyse(_load(args.design))
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


CommandFn = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="convdesigner",
        description=(
            "Design convolutional networks. With no command (or just a design file) the app "
            "opens; the commands below work without a display."
        ),
    )
    parser.add_argument("--version", action="version", version=f"convdesigner {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that this installation works (window, example, image, feature maps, CSV "
        "export) without a display; exit 0 if it does",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
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

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = []
"""Registrars for subcommands that live in other modules (keeps this module small)."""


def _subcommand_names() -> set[str]:
    parser = build_parser()
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names.update(action.choices)
    return names


def _launch_gui(argv: list[str]) -> int:
    try:
        from convdesigner.ui.app import main as gui_main
    except ImportError as exc:
        raise CliError(f"the app cannot start: {exc}") from None
    return gui_main(argv)


def _self_test(argv: list[str]) -> int:
    try:
        from convdesigner.ui.selftest import main as self_test_main
    except ImportError as exc:
        print(f"convdesigner --self-test: FAILED: the app cannot start: {exc}", file=sys.stderr)
        return 1
    return self_test_main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _register_builtin_extras()
    try:
        if args and args[0] == "--self-test":
            return _self_test(args[1:])
        if not args or (
            args[0] not in _subcommand_names() and args[0] not in ("-h", "--help", "--version")
        ):
            return _launch_gui(args)
        ns = build_parser().parse_args(args)
        if getattr(ns, "func", None) is None:
            build_parser().print_help()
            return EXIT_USAGE
        _refuse_output_over_input(ns)
        func: CommandFn = ns.func
        return func(ns)
    except CliError as exc:
        print(f"convdesigner: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("convdesigner: interrupted", file=sys.stderr)
        return 130


def _refuse_output_over_input(ns: argparse.Namespace) -> None:
    """Writing a command's output over one of its inputs would destroy it: refuse up front."""
    from convdesigner.core.safe_io import output_clash

    output = getattr(ns, "output", None) or getattr(ns, "out", None)
    roles = ("design", "input", "weights")
    clash = output_clash(output, {role: getattr(ns, role, None) for role in roles})
    if clash:
        raise CliError(clash)


def _register_builtin_extras() -> None:
    """Import the modules that add subcommands (engine commands need only NumPy)."""
    if EXTRA_COMMANDS:
        return
    from convdesigner import cli_engine

    EXTRA_COMMANDS.extend(cli_engine.REGISTRARS)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
