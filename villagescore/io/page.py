"""Page setup for A4: which orientation, what print scale, where a wide table splits over pages.

A sheet printed "one page wide" shrinks with its width: 27 columns on one landscape page print at
4–5 pt. Here a sheet fits the page width only while that keeps its text at about 8 pt or more
(``MIN_SCALE`` of its 10-point text); a wider sheet is printed at ``SPLIT_SCALE`` over several pages
side by side, split between columns, with its key columns (code, name) repeated at the left of every
page, pages numbered across first so one unit's row reads on consecutive pages.

Widths are planned in points as LibreOffice prints a column of Excel width ``w`` with Carlito (the
font metric-compatible with Calibri, the workbook's default font): 5.6·w + 4 pt, a few percent wider
than Excel's 0.75·(7·w + 5), so a plan that fits LibreOffice fits Excel. Without Carlito, LibreOffice
takes a wider font for Calibri and prints every column a third wider than Excel does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

from villagescore.core.numbers import nearest

A4 = (595.3, 841.9)  # points, portrait
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.6}  # inches
MIN_SCALE = 0.8  # 10-point text printed at 8 pt
SAFETY = 0.97  # of the page width: room for what a spreadsheet program rounds differently
SPLIT_SCALE = 0.9  # a table split over pages prints its 10-point text at 9 pt


def column_points(width: float) -> float:
    """Printed width of a column of Excel width ``width`` at 100%, in points (the wider of Excel and LibreOffice)."""
    return 5.6 * width + 4


def printable_width(landscape: bool) -> float:
    return (A4[1] if landscape else A4[0]) - (MARGINS["left"] + MARGINS["right"]) * 72


def printable_height(landscape: bool) -> float:
    """Room for rows on one page, in points: the page less its margins and the footer's line."""
    return (A4[0] if landscape else A4[1]) - (MARGINS["top"] + MARGINS["bottom"]) * 72 - 14


@dataclass
class Plan:
    """How a sheet prints: orientation; ``scale`` in percent, or None to fit one page wide; the columns
    where a new page starts (``breaks``) and the key columns repeated on every page (``keys``)."""

    landscape: bool
    scale: int | None = None
    breaks: list[int] = field(default_factory=list)
    keys: int = 0


def plan(widths: list[float], *, keys: int = 0, landscape: bool | None = None, min_scale: float = MIN_SCALE,
         split_scale: float = SPLIT_SCALE) -> Plan:
    """The print plan of a sheet whose columns are ``widths`` (Excel units) and whose first ``keys`` columns
    identify a row. ``landscape`` None: portrait when the sheet fits portrait at 100%, else landscape."""
    points = [column_points(w) for w in widths]
    total = sum(points)
    if landscape is None:
        landscape = total > printable_width(False)
    page = printable_width(landscape) * SAFETY
    if total * min_scale <= page or len(widths) <= max(keys, 1):
        return Plan(landscape)
    keys = keys if sum(points[:keys]) < page / split_scale / 2 else 0  # key columns take at most half a page
    room = page / split_scale - sum(points[:keys])
    rest = points[keys:]
    pages = _split(rest, room)
    if len(pages) > 1:  # even pages: the smallest room that still needs no more pages
        lo, hi = max(rest), room
        while hi - lo > 1:
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if len(_split(rest, mid)) <= len(pages) else (mid, hi)
        pages = _split(rest, hi)
    breaks = [keys + start for start in pages[1:]]
    return Plan(landscape, nearest(split_scale * 100), breaks, keys)


def span(p: Plan, ncols: int, first: bool) -> tuple[int, int]:
    """The columns a text across the sheet takes (a title when ``first``, else a note or a signature line below
    the table): all of them, or on a split sheet the first page's columns right of the repeated key columns
    for a title, the last page's for a note, so the repeated key columns never show a piece of them."""
    if not p.breaks:
        return 0, ncols - 1
    return (p.keys, p.breaks[0] - 1) if first else (p.breaks[-1], ncols - 1)


def shrink(widths: list[float], floors: Mapping[int, float], *, landscape: bool, min_scale: float = MIN_SCALE) -> list[float]:
    """``widths`` with the wrapping text columns in ``floors`` (column → its narrowest) narrowed evenly, just enough
    for the sheet to print one page wide at ``min_scale``; as they are when that needs no narrowing or when
    even the narrowest would not do (the sheet then splits over pages and keeps its wide columns)."""
    per_unit = column_points(1) - column_points(0)  # points one width unit takes
    excess = sum(map(column_points, widths)) - printable_width(landscape) * SAFETY / min_scale
    slack = {c: widths[c] - f for c, f in floors.items() if c < len(widths) and widths[c] > f}
    room = sum(slack.values()) * per_unit
    if excess <= 0 or room < excess:
        return widths
    share = excess / room
    return [w - math.ceil(slack[c] * share * 10) / 10 if c in slack else w for c, w in enumerate(widths)]


def _split(points: list[float], room: float) -> list[int]:
    """Start index of each page when columns are laid left to right into pages ``room`` points wide."""
    starts, used = [0], 0.0
    for i, p in enumerate(points):
        if used and used + p > room:
            starts.append(i)
            used = 0.0
        used += p
    return starts


def apply(ws, p: Plan, *, footer: str = "") -> None:
    """Page setup of an xlsxwriter worksheet from a plan: A4, orientation, margins, scale or fit, splits."""
    ws.set_paper(9)
    if p.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    if p.scale is None:
        ws.fit_to_pages(1, 0)
    else:
        ws.set_print_scale(p.scale)
        ws.set_v_pagebreaks(p.breaks)
        if p.keys:
            ws.repeat_columns(0, p.keys - 1)
        ws.print_across()
    ws.set_margins(**MARGINS)
    ws.center_horizontally()
    if footer:
        ws.set_footer(footer)


__all__ = ["Plan", "plan", "apply", "shrink", "span", "column_points", "printable_width", "printable_height", "MIN_SCALE",
           "SPLIT_SCALE"]
