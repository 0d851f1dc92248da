"""Packaging files agree with each other and with the code: one app id, valid desktop metadata,
icons of the sizes they claim, and a PyInstaller spec whose inputs exist.

These catch the mistakes that only show on a user's desktop (a launcher without an icon, a window
not matched to its launcher, a bundle missing its templates) without building the bundle; the
frozen build itself is exercised by .ci/bundle.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

import convdesigner
from convdesigner.appinfo import APP_ID, APP_NAME, ICON_SIZES, icon_files, icon_png, icon_svg

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
SPEC = PACKAGING / "convdesigner.spec"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _desktop_entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def _png_header(path: Path) -> tuple[int, int, int, int]:
    """Width, height, bit depth and colour type from the PNG's IHDR chunk (CRC checked)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    assert length == 13
    body = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert zlib.crc32(kind + body) == crc, f"{path.name}: corrupt IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    return width, height, depth, colour


def test_app_id_is_reverse_dns() -> None:
    # The freedesktop rules for a D-Bus-style id: at least three dot-separated elements, each
    # starting with a letter or underscore, only [A-Za-z0-9_-]; the last names the app.
    assert re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*){2,}", APP_ID)
    assert len(APP_ID) <= 255
    assert APP_ID.rsplit(".", 1)[1] == APP_NAME


def test_desktop_entry_keys() -> None:
    entry = _desktop_entry()
    required = {"Type", "Name", "Comment", "Exec", "Icon", "Categories", "Terminal"}
    assert required <= entry.keys()
    assert entry["Type"] == "Application"
    assert entry["Name"] == APP_NAME
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    # The launcher runs the GUI entry point that pip installs (and that the bundle is named after).
    program, *field_codes = entry["Exec"].split()
    assert program in PYPROJECT["project"]["gui-scripts"]
    assert entry["TryExec"] == program
    assert set(field_codes) <= {"%f", "%F", "%u", "%U"}
    categories = entry["Categories"].split(";")
    assert categories[-1] == "", "Categories must end with ';'"
    main = {"AudioVideo", "Development", "Education", "Game", "Graphics", "Network", "Office"}
    main |= {"Science", "Settings", "System", "Utility"}
    assert len(main.intersection(categories)) == 1, "exactly one main category (no duplicates)"
    assert entry["Keywords"].endswith(";")


def test_desktop_file_passes_desktop_file_validate() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout  # no warnings or hints either


def test_metainfo_matches_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component"
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == APP_NAME
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == PYPROJECT["project"]["license"]
    launchable = root.find("launchable")
    assert launchable is not None
    assert launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert [b.text for b in root.iterfind("provides/binary")] == ["convdesigner"]
    summary = root.findtext("summary") or ""
    assert 0 < len(summary) <= 80
    assert not summary.endswith(".")
    assert root.find("description/p") is not None
    # The newest release listed first, and it is the version being shipped.
    releases = root.findall("releases/release")
    assert releases
    assert releases[0].get("version") == convdesigner.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", releases[0].get("date") or "")
    desktop_categories = [c for c in _desktop_entry()["Categories"].split(";") if c]
    assert [c.text for c in root.iterfind("categories/category")] == desktop_categories


def test_metainfo_passes_appstreamcli_validate() -> None:
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (Debian: appstream)")
    result = subprocess.run(
        [tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Errors and warnings fail; infos are allowed (older appstreamcli does not know <developer>).
    assert not re.search(r"^[EW]: ", result.stdout, re.MULTILINE), result.stdout


def test_icon_files_exist_with_their_sizes() -> None:
    assert tuple(sorted(set(ICON_SIZES))) == ICON_SIZES
    assert {16, 32, 48, 64, 128, 256, 512} <= set(ICON_SIZES)
    for size in ICON_SIZES:
        width, height, depth, colour = _png_header(icon_png(size))
        assert (width, height) == (size, size), icon_png(size).name
        assert (depth, colour) == (8, 6), f"{icon_png(size).name}: expected 8-bit RGBA"
    assert all(path.is_file() for path in icon_files())
    with pytest.raises(ValueError, match="no 20px icon"):
        icon_png(20)


def test_svg_icon_is_square_and_well_formed() -> None:
    root = ET.parse(icon_svg()).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    x, y, width, height = (float(v) for v in (root.get("viewBox") or "").split())
    assert (x, y) == (0, 0)
    assert width == height > 0


def test_committed_pngs_are_renders_of_the_svg(qapp: object) -> None:
    """A PNG left stale after an SVG edit would show a different icon in some menus."""
    pytest.importorskip("PySide6.QtSvg")
    import numpy as np
    from PySide6.QtGui import QImage

    sys.path.insert(0, str(PACKAGING))
    try:
        import make_icons
    finally:
        sys.path.remove(str(PACKAGING))

    def pixels(image: QImage) -> np.ndarray:
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        rows = np.frombuffer(image.constBits(), np.uint8).reshape(-1, image.bytesPerLine())
        return rows[:, : image.width() * 4].astype(np.int16).copy()

    for size in (16, 64, 256):
        fresh = pixels(make_icons.render(icon_svg(), size))
        committed = pixels(QImage(str(icon_png(size))))
        assert committed.shape == fresh.shape
        # Renderer versions differ in antialiasing by a few levels at edges, not in content.
        diff = np.abs(committed - fresh)
        assert diff.mean() < 1.0, f"{size}px PNG is stale: run packaging/make_icons.py"
        assert np.count_nonzero(diff > 48) <= size // 4


def _spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def test_spec_references_existing_files() -> None:
    # Every path the spec builds from HERE (packaging/) must exist: the entry script above all.
    referenced: list[Path] = []
    for node in ast.walk(_spec_tree()):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts: list[str] = []
            while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                if not isinstance(node.right, ast.Constant) or not isinstance(
                    node.right.value, str
                ):
                    break
                parts.insert(0, node.right.value)
                node = node.left
            if isinstance(node, ast.Name) and node.id == "HERE" and parts:
                referenced.append(PACKAGING.joinpath(*parts))
    assert PACKAGING / "launcher.py" in referenced
    for path in referenced:
        assert path.exists(), f"the spec refers to missing {path.relative_to(ROOT)}"
    launcher = (PACKAGING / "launcher.py").read_text(encoding="utf-8")
    assert "from convdesigner.cli import main" in launcher


def _spec_list(name: str) -> list[str]:
    for node in _spec_tree().body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == name
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return value
    raise AssertionError(f"the spec has no {name} = [...]")


def test_spec_excludes_dev_tools_but_no_runtime_dependency() -> None:
    excludes = set(_spec_list("excludes"))
    assert {"torch", "pytest", "tkinter"} <= excludes
    runtime = {"numpy", "PySide6", "pyqtgraph", "PIL", "convdesigner", "shiboken6"}
    for name in excludes:
        assert name.split(".")[0] not in runtime or "." in name, f"{name} is needed at run time"
    # Qt modules the app imports must not be excluded.
    used = {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg"}
    assert not used & excludes


def test_spec_is_one_folder_and_windowed() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert "exclude_binaries=True" in text
    assert "COLLECT(" in text
    assert re.search(r"^\s*console=False,", text, re.MULTILINE)
    assert 'collect_data_files("convdesigner.resources")' in text


def test_package_data_ships_every_resource() -> None:
    """The bundle takes its data from the installed package: a file the package-data globs miss
    would be missing from pip installs and from the frozen app alike."""
    resources = ROOT / "resources"
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["convdesigner.resources"]
    shipped = {p for pattern in patterns for p in resources.glob(pattern) if p.is_file()}
    present = {
        p
        for p in resources.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    missing = sorted(str(p.relative_to(resources)) for p in present - shipped)
    assert not missing, f"not covered by package-data: {missing}"


def test_help_pages_ship_with_the_package() -> None:
    """Help → User Guide and Formulas open docs/*.md from the installed package."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert "convdesigner.docs" in setuptools["packages"]
    assert setuptools["package-dir"]["convdesigner.docs"] == "docs"
    patterns = setuptools["package-data"]["convdesigner.docs"]
    shipped = {p.name for pattern in patterns for p in (ROOT / "docs").glob(pattern)}
    assert {"user-guide.md", "formulas.md"} <= shipped
    # the screenshots the guide shows come along
    for image in re.findall(
        r"\]\((screenshots/[^)]+)\)", (ROOT / "docs/user-guide.md").read_text()
    ):
        assert any((ROOT / "docs").glob(image)), image
        assert any(Path(image).match(pattern) for pattern in patterns), image
    assert 'collect_data_files("convdesigner.docs")' in SPEC.read_text(encoding="utf-8")


def test_pyinstaller_is_in_the_build_extra() -> None:
    build = PYPROJECT["project"]["optional-dependencies"]["build"]
    assert any(re.match(r"pyinstaller\b", req, re.IGNORECASE) for req in build)


@pytest.mark.parametrize(
    "script", ["packaging/build.sh", "packaging/install-user.sh", ".ci/bundle"]
)
def test_scripts_are_valid_bash_and_executable(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK), f"{script} is not executable"
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_install_user_puts_launcher_metainfo_and_icons_in_place(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "convdesigner").write_text("#!/bin/sh\n", encoding="utf-8")
    (bundle / "convdesigner").chmod(0o755)
    data = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    script = str(PACKAGING / "install-user.sh")
    subprocess.run([script, str(bundle)], env=env, check=True, capture_output=True)

    desktop = (data / "applications" / DESKTOP.name).read_text(encoding="utf-8")
    assert f"Exec={bundle}/convdesigner %f\n" in desktop
    assert f"TryExec={bundle}/convdesigner\n" in desktop
    assert (data / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    hicolor = data / "icons" / "hicolor"
    for size in ICON_SIZES:
        installed = hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert installed.read_bytes() == icon_png(size).read_bytes()
    assert (hicolor / "scalable" / "apps" / f"{APP_ID}.svg").is_file()

    subprocess.run([script, "--uninstall"], env=env, check=True, capture_output=True)
    assert not (data / "applications" / DESKTOP.name).exists()
    assert not list(hicolor.rglob(f"{APP_ID}.*"))

    result = subprocess.run(
        [script, str(tmp_path / "nowhere")], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "not an app bundle" in result.stderr


def test_every_python_package_is_listed_for_setuptools() -> None:
    # The list in pyproject.toml is explicit (resources/ is mapped into the package): a new
    # subpackage left out of it works in an editable install and is missing from a real one
    # (the frozen app once failed with "No module named 'convdesigner.core.ops'").
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(project["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "convdesigner").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
