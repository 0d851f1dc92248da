"""The README's quick start is what CI runs: a newcomer gets what CI proves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_one_line_commands() -> None:
    lines = _quick_start_lines()
    assert len(lines) == 2
    assert all("\n" not in line for line in lines)
    install_and_launch, install_and_test = lines
    assert install_and_launch.endswith("convdesigner")
    # Light on purpose: the oracle extra (torch) would pull a CUDA build on a plain Linux pip.
    assert '".[test]"' in install_and_test
    assert "oracle" not in install_and_test
    assert install_and_test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_line() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_line = _quick_start_lines()[1]
    install = re.search(r'pip install -e "\.\[[a-z,]+\]"', test_line)
    assert install is not None
    assert install.group(0).replace("pip install", "pip install -q") in ci
    assert "python -m pytest" in ci
    # ...and then the oracle extras, so that the reference tests never skip in CI.
    oracle = ci.index('pip install -q -e ".[oracle]"')
    assert ci.index(install.group(0).replace("pip install", "pip install -q")) < oracle
    assert "python -m pytest" in ci[oracle:]


def test_python_example_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.findall(r"## Python\n\n```python\n(.*?)```", text, re.S)[0]
    code = code.replace('"resources/', '"' + (ROOT / "resources").as_posix() + "/")
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "380150 163840000" in run.stdout
    assert (tmp_path / "layers.csv").is_file()
