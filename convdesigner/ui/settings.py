"""Where the app keeps its settings (window layout, recent files) and its data (autosave, log).

One INI file per user, so tests and the self-test can redirect it with ``QSettings.setPath`` or
the ``CONVDESIGNER_SETTINGS_DIR`` environment variable and never touch the user's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

ORGANIZATION = "convdesigner"
APPLICATION = "convdesigner"
SETTINGS_DIR_ENV = "CONVDESIGNER_SETTINGS_DIR"
DATA_DIR_ENV = "CONVDESIGNER_DATA_DIR"
MAX_RECENT = 8


def app_settings() -> QSettings:
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


def app_data_dir() -> Path:
    """Where autosave copies and the log go: the platform's application-data folder
    (``QStandardPaths.AppDataLocation``), or ``CONVDESIGNER_DATA_DIR`` (tests, the self-test)."""
    folder = os.environ.get(DATA_DIR_ENV)
    if not folder:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder)


def recent_files() -> list[str]:
    value = app_settings().value("recentFiles", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(v) for v in value if isinstance(v, str) and v]


def add_recent_file(path: str) -> list[str]:
    path = str(Path(path).resolve())
    files = [path] + [p for p in recent_files() if p != path]
    files = files[:MAX_RECENT]
    app_settings().setValue("recentFiles", files)
    return files


def clear_recent_files() -> None:
    app_settings().setValue("recentFiles", [])
