"""Writing a text that came from a clerk (a unit name, a criterion, a file name) into a cell with xlsxwriter,
so that it stays exactly that text; and its display width, for the column holding it.

Workbooks are opened with ``TEXT_OPTIONS``: no text is taken for a formula, a link or a number. And
xlsxwriter takes any string that starts with ``<r>`` and ends with ``</r>`` for rich-text XML and writes it
into the file unescaped, shared or inline: ``<r>A&B</r>`` typed into a roster would make every form or
summary holding it a file Excel refuses. Such a text is written as a rich string of runs in the cell's own
format instead, escaped like any other; every other text is written as it is.
"""

from __future__ import annotations

import unicodedata
from typing import Any

TEXT_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}

_WIDTHS: dict[str, int] = {}  # text → display_width(text): the same texts are measured again and again
_WIDTHS_MAX = 200_000


def display_width(text: str) -> int:
    """Display width: 2 per CJK (wide) character, 1 for any other (a line break too)."""
    width = _WIDTHS.get(text)
    if width is None:
        if text.isascii():  # no ASCII character is wide
            width = len(text)
        else:
            width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
        if len(_WIDTHS) >= _WIDTHS_MAX:
            _WIDTHS.clear()
        _WIDTHS[text] = width
    return width


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


__all__ = ["TEXT_OPTIONS", "display_width", "looks_rich", "write_text"]
