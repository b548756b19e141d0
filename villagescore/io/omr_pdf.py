"""Readable ballots as PDF: the geometry of ``core/omr.py`` drawn exactly (reportlab), the machine code drawn
as squares from its module matrix (segno), the text in a CJK font embedded as a subset.

PDF, not a workbook: a printed workbook's column widths and row heights depend on the program that prints
it, and the reader must know each box's place to a fraction of a millimetre. The font is looked up on the
machine (Windows: 黑体 and 宋体; Linux: 文泉驿微米黑; or the file named by ``VILLAGESCORE_FONT``) and embedded,
so the PDF prints the same anywhere.
"""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

import segno
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas

from villagescore.core.omr import (
    PAGE_H,
    PAGE_W,
    QR_SIZE,
    QR_X,
    QR_Y,
    BallotLayout,
    Page,
    Text,
    corner_shapes,
)

FONT_ENV = "VILLAGESCORE_FONT"
MARKER = "villagescore-ballots"  # the PDF's subject: readable ballots printed by this tool (io/omr_files.py)


class FontMissing(Exception):
    """No CJK font with TrueType outlines was found on this machine."""


def _windows_fonts() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


def _candidates(role: str) -> list[tuple[Path, int]]:
    """(font file, index in a collection), best first: a title face, then a body face."""
    win = _windows_fonts()
    linux = Path("/usr/share/fonts")
    mac = Path("/System/Library/Fonts")
    title = [(win / "simhei.ttf", 0), (win / "msyhbd.ttc", 0), (win / "msyh.ttc", 0)]
    body = [(win / "simsun.ttc", 0), (win / "msyh.ttc", 0), (win / "simhei.ttf", 0)]
    common = [(linux / "truetype/wqy/wqy-microhei.ttc", 0), (linux / "truetype/wqy/wqy-zenhei.ttc", 0),
              (linux / "truetype/arphic/uming.ttc", 0), (mac / "STHeiti Light.ttc", 0), (mac / "Supplemental/Songti.ttc", 0)]
    own = [(Path(os.environ[FONT_ENV]), 0)] if os.environ.get(FONT_ENV) else []
    return own + (title if role == "title" else body) + common


_HEAVY = ("simhei", "msyhbd")  # faces that are bold themselves; titles in any other are drawn emboldened
_heavy_title: list[bool] = [False]


@lru_cache(maxsize=None)
def fonts() -> tuple[str, str]:
    """The registered (title, body) font names; FontMissing when the machine has no usable CJK font."""
    names = []
    for role in ("title", "body"):
        name = f"VS-{role}"
        for path, index in _candidates(role):
            if not path.is_file():
                continue
            try:
                pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
            except Exception:  # noqa: BLE001 - a PostScript-outline or damaged font: try the next one
                continue
            if role == "title":
                _heavy_title[0] = path.stem.lower() in _HEAVY
            break
        else:
            raise FontMissing("找不到可嵌入的中文字体（Windows 的黑体、宋体，或 Linux 的文泉驿微米黑）；"
                              f"可用环境变量 {FONT_ENV} 指定一个 .ttf/.ttc 字体文件")
        names.append(name)
    return names[0], names[1]


def _y(y_mm: float) -> float:
    return (PAGE_H - y_mm) * mm


_NO_LINE_START = set("，。、；：？！）》”’」』】…,.;:?!)")


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width`` (points), broken between characters; closing punctuation is
    kept at the end of a line."""
    lines, line = [], ""
    for ch in text:
        if ch == "\n":
            lines.append(line)
            line = ""
            continue
        if line and pdfmetrics.stringWidth(line + ch, font, size) > width and ch not in _NO_LINE_START:
            lines.append(line)
            line = ch
        else:
            line += ch
    if line:
        lines.append(line)
    return lines or [""]


@lru_cache(maxsize=4096)
def _fit(t: Text, font: str) -> tuple[float, list[str]]:
    """The largest size (from the layout's, down to 5 pt) at which the text fits its rectangle."""
    width, height = t.rect.w * mm, t.rect.h * mm
    size = t.size
    while True:
        lines = _wrap(t.text, font, size, width)
        if (len(lines) <= t.lines and len(lines) * size * 1.25 <= height + 0.5 and
                max(pdfmetrics.stringWidth(x, font, size) for x in lines) <= width + 0.01) or size <= 5:
            return size, lines
        size -= 0.25


def _text(c: rl_canvas.Canvas, t: Text, serial: str, title_font: str, body_font: str) -> None:
    text = Text(t.rect, t.text.replace("{serial}", serial), t.size, t.align, t.bold, t.lines, t.gray)
    font = title_font if t.bold else body_font
    size, lines = _fit(text, font)
    lead = size * 1.25
    block = lead * len(lines)
    top = _y(t.rect.y) - (t.rect.h * mm - block) / 2  # centred vertically
    c.setFillGray(t.gray)
    c.setStrokeGray(t.gray)
    embolden = t.bold and not _heavy_title[0]  # no bold face: fill and stroke the outline
    if embolden:
        c.saveState()  # the text render mode is graphics state: restored after this text
        c.setLineWidth(size * 0.035)
    for k, line in enumerate(lines):
        base = top - lead * k - size * 0.98
        obj = c.beginText()
        obj.setFont(font, size)
        if embolden:
            obj.setTextRenderMode(2)
        w = pdfmetrics.stringWidth(line, font, size)
        x = t.rect.x * mm + {"left": 0, "center": (t.rect.w * mm - w) / 2, "right": t.rect.w * mm - w}[t.align]
        obj.setTextOrigin(x, base)
        obj.textLine(line)
        c.drawText(obj)
    if embolden:
        c.restoreState()


def _qr(c: rl_canvas.Canvas, payload: str) -> None:
    matrix = segno.make_qr(payload, error="m", boost_error=False).matrix
    n = len(matrix)
    cell = QR_SIZE * mm / n
    c.setFillGray(0)
    for r, row in enumerate(matrix):
        x0 = None
        for k in range(n + 1):
            dark = k < n and row[k]
            if dark and x0 is None:
                x0 = k
            elif not dark and x0 is not None:  # one rectangle per run of dark modules: no hairline gaps
                c.rect(QR_X * mm + x0 * cell, _y(QR_Y) - (r + 1) * cell, (k - x0) * cell, cell, stroke=0, fill=1)
                x0 = None


def _page(c: rl_canvas.Canvas, lay: BallotLayout, page: Page, serial: int, fonts_: tuple[str, str]) -> None:
    for s in (*page.shapes, *corner_shapes()):
        r = s.rect
        if s.fill is not None:
            c.setFillGray(s.fill)
        if s.line:
            c.setLineWidth(s.line * mm)
            c.setStrokeGray(s.gray)
        c.rect(r.x * mm, _y(r.bottom), r.w * mm, r.h * mm, stroke=1 if s.line else 0, fill=1 if s.fill is not None else 0)
    for t in page.texts:
        _text(c, t, f"{serial:02d}", *fonts_)
    _qr(c, lay.payload(serial, page.number))


def ballots_pdf(lay: BallotLayout, serials: list[int] | None = None) -> bytes:
    """Every ballot of ``lay`` (票号 01..N, or ``serials``), each page of each on its own A4 page."""
    fonts_ = fonts()
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=(PAGE_W * mm, PAGE_H * mm), invariant=1, pageCompression=1)
    c.setTitle(lay.title)
    c.setAuthor("")
    c.setCreator("villagescore")
    c.setSubject(MARKER)
    c.setProducer("villagescore")
    for serial in serials or range(1, lay.serials + 1):
        for page in lay.pages:
            _page(c, lay, page, serial, fonts_)
            c.showPage()
    c.save()
    return buf.getvalue()


__all__ = ["ballots_pdf", "fonts", "FontMissing", "FONT_ENV"]
