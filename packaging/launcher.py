"""Entry script of the frozen app: the same ``main`` as the installed ``convdesigner`` command.

PyInstaller needs a script file rather than an entry point; keeping it this thin means the bundle
parses arguments (``--self-test``, subcommands, a design path) exactly like an installed copy.
"""

from __future__ import annotations

import sys

from convdesigner.cli import main

if __name__ == "__main__":
    sys.exit(main())
