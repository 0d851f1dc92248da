"""``python -m convdesigner`` behaves exactly like the ``convdesigner`` command."""

import sys

from convdesigner.cli import main

sys.exit(main())
