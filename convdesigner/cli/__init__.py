"""The ``convdesigner`` command: subcommands for scripting, or the GUI when none is given.

``convdesigner`` and ``convdesigner DESIGN.json`` launch the app (Qt is imported only then, so the
scripting subcommands work on machines without a display). Every failure a user can cause exits
with status 2 and one line on stderr, never a traceback.

Each subcommand lives in its own module with a ``register`` function; :func:`build_parser` is the
one place that lists them, so adding a command is one module and one line here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from convdesigner import __version__
from convdesigner.cli import run, summary
from convdesigner.cli.errors import EXIT_USAGE, CliError, UsageParser

__all__ = ["EXIT_USAGE", "CliError", "build_parser", "main"]

CommandFn = Callable[[argparse.Namespace], int]

_REGISTRARS: tuple[Callable[[Callable[..., argparse.ArgumentParser]], None], ...] = (
    summary.register,
    run.register_run,
    run.register_weights,
)
"""The subcommands, in the order ``--help`` lists them."""


def build_parser() -> tuple[argparse.ArgumentParser, frozenset[str]]:
    """The parser, and the names of its subcommands (any other first argument opens the app)."""
    parser = UsageParser(
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=UsageParser)
    for register in _REGISTRARS:
        register(sub.add_parser)
    return parser, frozenset(sub.choices)


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


def _refuse_output_over_input(ns: argparse.Namespace) -> None:
    """Writing a command's output over one of its inputs would destroy it: refuse up front."""
    from convdesigner.core.safe_io import output_clash

    output = getattr(ns, "output", None) or getattr(ns, "out", None)
    roles = ("design", "input", "weights")
    clash = output_clash(output, {role: getattr(ns, role, None) for role in roles})
    if clash:
        raise CliError(clash)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "--self-test":
            return _self_test(args[1:])
        parser, commands = build_parser()
        if not args or (args[0] not in commands and args[0] not in ("-h", "--help", "--version")):
            return _launch_gui(args)
        ns = parser.parse_args(args)
        if getattr(ns, "func", None) is None:
            parser.print_help()
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
