"""Writing a text that came from a clerk (a unit name, a criterion, a file name) into a cell with xlsxwriter,
so that it stays exactly that text.

xlsxwriter takes any string that starts with ``<r>`` and ends with ``</r>`` for rich-text XML and writes it
into the file unescaped, shared or inline: ``<r>A&B</r>`` typed into a roster would make every form or
summary holding it a file Excel refuses. Such a text is written as a rich string of runs in the cell's own
format instead, escaped like any other; every other text is written as it is.
"""

from __future__ import annotations

from typing import Any


def looks_rich(text: str) -> bool:
    """A text xlsxwriter would write as rich-text XML."""
    return text.startswith("<r>") and text.endswith("</r>")


def write_text(ws: Any, row: int, col: int, text: str, fmt: Any = None, write: Any = None) -> Any:
    """``ws.write_string`` (or ``write``, the same call without its A1 wrapper) that keeps ``text`` a text."""
    if not looks_rich(text):
        return (write or ws.write_string)(row, col, text, fmt)
    if fmt is None:  # three runs in the default font (xlsxwriter wants more than two fragments)
        return ws.write_rich_string(row, col, text[:1], text[1:2], text[2:])
    return ws.write_rich_string(row, col, fmt, text[:1], fmt, text[1:], fmt)


__all__ = ["looks_rich", "write_text"]
