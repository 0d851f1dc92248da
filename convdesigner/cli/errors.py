"""How the command line fails: one line on stderr and exit status 2, never a traceback.

Shared by every subcommand and by the app's own parser (``ui/app.py``), so a misused command and a
misused app exit the same way.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from convdesigner.core.design import Design

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


class UsageParser(argparse.ArgumentParser):
    """An argument parser whose errors exit with :data:`EXIT_USAGE` and point at ``--help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def load_design_or_fail(path: str) -> Design:
    """The design in ``path``; a file the loader refuses becomes a :class:`CliError`."""
    # Imported here: ``--help`` and the app launch should not pay for the file loader.
    from convdesigner.core.fileformat import DesignFileError, load_design

    try:
        return load_design(path)
    except DesignFileError as exc:
        raise CliError(str(exc)) from None
