"""``convdesigner --self-test`` passes on a working install and fails loudly on a broken one.

The frozen bundle is checked the same way by .ci/bundle; here the installed package is, through the
real command line (a subprocess) and in-process where a fault can be injected.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from convdesigner import cli
from convdesigner.appinfo import APP_ID
from convdesigner.ui import selftest

STEPS = ("Qt ", "main window shows 'Q&A example'", "feature maps of ", "layer table CSV")


@pytest.fixture
def as_launched(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The QApplication as create_app would have set it up (pytest-qt created it earlier, so
    create_app reuses it without its desktop file name); settings in a temporary folder."""
    monkeypatch.setenv("CONVDESIGNER_SETTINGS_DIR", str(tmp_path / "settings"))
    previous = QGuiApplication.desktopFileName()
    QGuiApplication.setDesktopFileName(APP_ID)
    yield
    QGuiApplication.setDesktopFileName(previous)


def test_command_line_self_test_passes_on_this_install(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    env.pop("CONVDESIGNER_SETTINGS_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "convdesigner", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    ok_lines = [line for line in result.stdout.splitlines() if line.startswith("OK  ")]
    assert [line[4:].startswith(step) for line, step in zip(ok_lines, STEPS, strict=True)] == [
        True
    ] * len(STEPS)
    assert "installed at" in ok_lines[0]
    assert "13×32×150" in ok_lines[2]  # the Q&A example's last layer, from the engine's arrays
    assert (
        result.stdout.rstrip()
        .splitlines()[-1]
        .startswith("convdesigner --self-test: all checks passed")
    )
    assert "FAILED" not in result.stderr
    # It ran against a temporary settings folder, not the user's configuration.
    assert not (tmp_path / ".config" / "convdesigner").exists()


def test_self_test_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "--self-test" in capsys.readouterr().out


def test_in_process_self_test_passes(as_launched: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main([]) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("OK  ") for line in out.splitlines()) == len(STEPS)


def test_a_wrong_csv_fails_naming_the_step(
    as_launched: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The self-test's reference is the core's to_csv; a different reference must be noticed.
    import convdesigner.core.table as table

    real = table.to_csv
    monkeypatch.setattr(table, "to_csv", lambda analysis, path=None: real(analysis) + "extra\n")
    assert selftest.main([]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [
        "convdesigner --self-test: FAILED: export the layer table: "
        "the exported CSV differs from the core's to_csv"
    ]
    assert "all checks passed" not in captured.out


def test_a_missing_sample_image_fails_with_its_path(
    as_launched: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(selftest, "SAMPLE", "no-such-sample.png")
    assert selftest.main([]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("convdesigner --self-test: FAILED: compute the feature maps: ")
    assert err.endswith(
        "the bundled sample image is missing: "
        + str(Path(selftest._sample_dir()) / "no-such-sample.png")
    )


def test_an_unexpected_error_is_one_line_not_a_traceback(
    as_launched: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import convdesigner.core.templates as templates

    def broken(template_id: str) -> None:
        raise OSError(f"cannot read {template_id}.json")

    monkeypatch.setattr(templates, "load_template", broken)
    assert selftest.main([]) == 1
    err = capsys.readouterr().err
    assert err == (
        "convdesigner --self-test: FAILED: open the main window: "
        "OSError: cannot read qa-example.json\n"
    )


def test_wrong_desktop_file_name_fails(
    as_launched: None, capsys: pytest.CaptureFixture[str]
) -> None:
    QGuiApplication.setDesktopFileName("convdesigner")
    assert selftest.main([]) == 1
    err = capsys.readouterr().err
    assert "FAILED: start Qt: the desktop file name is 'convdesigner'" in err
    assert APP_ID in err


def test_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--self-test", "extra"]) == 2
    assert (
        capsys.readouterr().err
        == "convdesigner --self-test: error: takes no arguments (got extra)\n"
    )
