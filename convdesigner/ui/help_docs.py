"""Help → User Guide and Formulas: the bundled Markdown pages in a read-only window.

The pages ship with the package (``convdesigner.docs``), so they open offline and show the
version of the guide that matches the installed app. A ``QTextBrowser`` renders Markdown itself,
follows links between the pages and shows their screenshots; web links go to the browser.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

PAGES = {"user-guide": "User Guide", "formulas": "Formulas"}


def docs_dir() -> Path:
    # convdesigner.docs is mapped from the top-level docs/ folder by the build config (as
    # convdesigner.resources is), so type checkers cannot see it: import it by name. An install
    # made before the pages shipped lacks it: then the pages are "missing", not an exception.
    try:
        docs = importlib.import_module("convdesigner.docs")
    except ImportError:
        return Path(__file__).resolve().parent / "docs-not-installed"
    return Path(docs.ROOT)


def page_path(page: str) -> Path:
    if page not in PAGES:
        raise KeyError(f"no help page {page!r} (there are: {', '.join(PAGES)})")
    return docs_dir() / f"{page}.md"


class HelpViewer(QDialog):
    """One page at a time; links to the other pages open in the same window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpViewer")
        self.resize(900, 760)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setReadOnly(True)
        self.browser.sourceChanged.connect(self._retitle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)

    def show_page(self, page: str, section: str | None = None) -> None:
        """Show ``page``, scrolled to the heading ``section`` when given (and found)."""
        path = page_path(page)
        if not path.is_file():
            self.browser.setPlainText(
                f"The help page {path.name} is missing from this installation ({path})."
            )
            self.setWindowTitle(PAGES[page])
        else:
            self.browser.setSource(
                QUrl.fromLocalFile(str(path)), QTextDocument.ResourceType.MarkdownResource
            )
        self.show()
        self.raise_()
        self.activateWindow()
        if section:
            self.scroll_to(section)
            # Again once the new window is laid out: before that the scroll range is empty.
            QTimer.singleShot(0, self, lambda: self.scroll_to(section))

    def scroll_to(self, heading: str) -> bool:
        """Put the heading ``heading`` at the top of the view; False if the page lacks it."""
        doc = self.browser.document()
        block = doc.begin()
        while block.isValid():
            if block.text().strip() == heading and block.blockFormat().headingLevel() > 0:
                top = doc.documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                self.current_section = heading
                return True
            block = block.next()
        return False

    current_section = ""
    """The heading last scrolled to (for tests)."""

    def _retitle(self, url: QUrl) -> None:
        stem = Path(url.toLocalFile()).stem
        self.setWindowTitle(f"{PAGES.get(stem, stem)} — ConvDesigner")
