"""The Qt-free promise: the core, the command line, the package and `summary` load no
PySide6/pyqtgraph/shiboken6.

Run in fresh interpreters, since this test session itself has Qt loaded for the UI tests.
"""

from __future__ import annotations

import json
import subprocess
import sys

from convdesigner.core.templates import template_path

QT_PREFIXES = ("PySide6", "pyqtgraph", "shiboken6")

PROBE = """
import json, sys
{body}
qt = sorted(m for m in sys.modules if m.split(".")[0] in {prefixes!r})
print(json.dumps(qt))
"""


def loaded_qt_modules(body: str) -> list[str]:
    code = PROBE.format(body=body, prefixes=QT_PREFIXES)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    found: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_the_probe_does_see_qt() -> None:
    # Guards against a probe that can never report anything.
    assert "PySide6" in loaded_qt_modules("import PySide6.QtCore")


def test_the_package_loads_no_qt() -> None:
    assert loaded_qt_modules("import convdesigner") == []


# Every module, found by walking the packages, so a new one is covered the day it is added. A few
# known names guard against a walk that finds nothing.
IMPORT_ALL = """
import importlib, pkgutil
import convdesigner.cli, convdesigner.core
names = []
for package in (convdesigner.core, convdesigner.cli):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
expected = {
    "convdesigner.core.analysis",
    "convdesigner.core.engine.forward",
    "convdesigner.core.kernels.conv",
    "convdesigner.core.parallel",
    "convdesigner.cli.errors",
    "convdesigner.cli.run",
}
assert expected <= set(names), sorted(names)
"""


def test_every_core_and_cli_module_loads_no_qt() -> None:
    assert loaded_qt_modules(IMPORT_ALL) == []


def test_summary_command_loads_no_qt() -> None:
    path = str(template_path("mobilenet-v1"))
    body = (
        "import io, contextlib\n"
        "from convdesigner import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    status = cli.main(['summary', {path!r}, '--explain'])\n"
        "assert status == 0 and 'Total params' in out.getvalue()\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert cli.main(['summary', {path!r}, '--format', 'csv']) == 0\n"
    )
    assert loaded_qt_modules(body) == []


def test_python_api_loads_no_qt() -> None:
    path = str(template_path("qa-example"))
    body = (
        "import convdesigner\n"
        f"a = convdesigner.analyse(convdesigner.load_design({path!r}))\n"
        "convdesigner.to_csv(a); convdesigner.to_dict(a); convdesigner.to_text(a, explain=True)\n"
    )
    assert loaded_qt_modules(body) == []
