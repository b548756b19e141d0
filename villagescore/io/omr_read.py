"""Reading scanned readable ballots: pages out of scan files, each page aligned and its boxes measured.

A scan file is a PDF (pages rendered with pypdfium2), a JPEG or PNG photo, or a TIFF (every page), decoded with
OpenCV. On each page the machine code (QR, read with zxing-cpp) says which ballot it is and gives a first
estimate of where the page lies; the four corner marks are then found near where that estimate puts them,
and the page is mapped onto the layout's millimetres by the homography through their centres (any rotation,
upside down, skew, scale and a photograph's perspective). Each row of boxes is matched against its printed
outline in a small window, so that a page bent in a photograph still has every box measured where it is;
a row that cannot be matched is not read. The ink in a box is measured against the paper around it (a
shadow or a grey scan is not ink). ``core.omr.decide`` then says what the marks mean.

Nothing of a page is kept but what the clerk must see: the cut-out of a question sent to review, and for a
page that cannot be read a reduced image of it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import zxingcpp

from villagescore.core.numbers import nearest
from villagescore.core.omr import (
    LIGHT,
    TRACE,
    MARK_CENTERS,
    MARK_SIZE,
    PAGE_H,
    PAGE_W,
    QR_SIZE,
    QR_X,
    QR_Y,
    STRONG,
    BallotLayout,
    Decision,
    Ink,
    Payload,
    Question,
    Rect,
    decide,
    parse_payload,
)

SCAN_SUFFIXES = {".pdf": "PDF", ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF",
                 ".bmp": "BMP"}
PX = 6.0  # pixels per millimetre of the aligned page (about 150 dpi)
RENDER_DPI = 180  # PDF pages that are not one JPEG are rendered at this resolution
MIN_SHORT = 1150  # pixels: a JPEG is decoded reduced only while its shorter side keeps this many
MAX_SIDE = 2600  # photos larger than this (pixels, longer side) are reduced first
INSET = 0.75  # mm inside a box's outer edge: its printed border and a little play are not measured
SEARCH = 1.6  # mm a row of boxes may lie from where the corner marks put it
MATCH_MIN = 0.35  # a row of boxes matched less well than this against its outline is not read
QR_TOLERANCE = 2.5  # mm: the machine code must lie where the corner marks put it
CODE_SHORT = 1100  # pixels: the machine code is looked for on a copy this size first
THUMB_WIDTH = 560  # pixels: a page that cannot be read is shown this wide


class ScanFileError(Exception):
    """A scan file that cannot be opened at all (damaged, not an image or PDF, password)."""


# ------------------------------------------------------------------ pages out of files


def page_count(path: Path) -> int:
    """Pages in a PDF scan file (1 for an image file, a TIFF read whole; 0 when a PDF cannot be opened)."""
    if path.suffix.lower() != ".pdf":
        return 1
    try:
        with open(path, "rb") as fh:
            pdf = pdfium.PdfDocument(fh)
            try:
                return len(pdf)
            finally:
                pdf.close()
    except Exception:  # noqa: BLE001
        return 0


def iter_pages(path: Path, data: bytes | None = None, pages: range | None = None
               ) -> Iterator[tuple[int, np.ndarray | None, Callable[[], np.ndarray | None] | None]]:
    """(page number from 1, grey image or None when that page cannot be decoded, and for a page whose image was
    taken straight out of a PDF a way to render it instead) of a scan file: every page, or those in ``pages``."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        yield from _pdf_pages(path, data, pages)
        return
    raw = np.frombuffer(data if data is not None else path.read_bytes(), np.uint8)
    if suffix in (".tif", ".tiff"):
        ok, images = cv2.imdecodemulti(raw, cv2.IMREAD_GRAYSCALE)
        if not ok or not images:
            raise ScanFileError("不是可以读取的 TIFF 图像")
        for i, page in enumerate(images):
            if pages is None or i + 1 in pages:
                yield i + 1, _reduced(page), None
        return
    image = _decode(raw)
    if image is None:
        raise ScanFileError(f"不是可以读取的 {SCAN_SUFFIXES.get(suffix, '图像')} 文件")
    yield 1, image, None


def _pdf_pages(path: Path, data: bytes | None, pages: range | None):
    fh = None
    try:
        if data is None:  # a file object: any path, whatever its characters
            fh = open(path, "rb")
        pdf = pdfium.PdfDocument(data if data is not None else fh)
    except Exception as exc:  # noqa: BLE001 - pdfium's errors: damaged, encrypted …
        if fh is not None:
            fh.close()
        raise ScanFileError(_pdf_reason(exc)) from None
    try:
        for i in range(len(pdf)):
            if pages is not None and i + 1 not in pages:
                continue
            try:
                page = pdf[i]
            except Exception:  # noqa: BLE001
                yield i + 1, None, None
                continue
            image = _embedded(page)
            render = functools.partial(_render, page)
            if image is not None:
                yield i + 1, image, render
            else:
                yield i + 1, render(), None
    finally:
        pdf.close()
        if fh is not None:
            fh.close()


def _embedded(page) -> np.ndarray | None:
    """A scanner's page: one JPEG covering the page, decoded straight from the file (faster than rendering)."""
    try:
        objs = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=1))
        if len(objs) != 1:
            return None
        obj = objs[0]
        left, bottom, right, top = obj.get_bounds()
        width, height = page.get_size()
        if (right - left) * (top - bottom) < 0.8 * width * height or obj.get_filters() != ["DCTDecode"]:
            return None
        return _decode(np.frombuffer(bytes(obj.get_data(decode_simple=False)), np.uint8))
    except Exception:  # noqa: BLE001 - anything unusual: the page is rendered instead
        return None


def _render(page) -> np.ndarray | None:
    try:
        width, height = page.get_size()
        scale = RENDER_DPI / 72
        if max(width, height) * scale > 4000:  # a huge page: about 4,000 pixels on its longer side
            scale = 4000 / max(width, height)
        image = page.render(scale=scale, grayscale=True).to_numpy()
        return np.ascontiguousarray(image.reshape(image.shape[0], image.shape[1], -1)[:, :, 0])
    except Exception:  # noqa: BLE001
        return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(raw: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, without decoding it."""
    data = raw[:1 << 16].tobytes()
    if not data.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in _SOF:
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def _decode(raw: np.ndarray) -> np.ndarray | None:
    """A grey image; a large JPEG decoded at a half or a quarter of its size (its own fast scaling) when that
    still leaves about 150 dpi for a page filling the picture."""
    size = _jpeg_size(raw)
    flag = cv2.IMREAD_GRAYSCALE
    if size is not None:
        short = min(size)
        if short >= 4 * MIN_SHORT:
            flag = cv2.IMREAD_REDUCED_GRAYSCALE_4
        elif short >= 2 * MIN_SHORT:
            flag = cv2.IMREAD_REDUCED_GRAYSCALE_2
    image = cv2.imdecode(raw, flag)
    return None if image is None else _reduced(image)


def _pdf_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "password" in text:
        return "PDF 设置了密码"
    return "PDF 文件已损坏或格式不受支持"


def _reduced(image: np.ndarray) -> np.ndarray:
    side = max(image.shape[:2])
    if side <= MAX_SIDE:
        return image
    f = MAX_SIDE / side
    return cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 0.5 else cv2.INTER_LINEAR)


# ------------------------------------------------------------------ one page


@dataclass
class PageRead:
    """What one page says (picklable: sent back from a reading worker)."""

    file: str
    page: int
    status: str  # "read", "blank" (an empty page), "no-code" (no machine code), "foreign" (a code not ours),
    #              "unknown" (a ballot this run has no layout for), "unaligned", "layout" (printed from another
    #              layout), "several" (more than one ballot on the page), "undecodable"
    payload: Payload | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    cuts: dict[str, bytes] = field(default_factory=dict)  # question key → PNG of its row (uncertain ones only)
    thumb: bytes = b""  # a reduced JPEG of the whole page (pages that are not read, and every page read, small)
    detail: str = ""  # why a page was not read, for the clerk


_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # what read_barcodes takes (a set of formats)


def _code(image: np.ndarray) -> list[tuple[Payload | None, str, np.ndarray]]:
    """Machine codes on the page: (payload or None when not ours, text, 4×2 corners TL TR BR BL)."""
    found = []
    short = min(image.shape[:2])
    if short > CODE_SHORT * 1.2:  # a smaller copy first: the code is large enough, and it is read faster
        f = CODE_SHORT / short
        small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)
        found = [(b, 1 / f) for b in zxingcpp.read_barcodes(small, formats=_QR)]
    if not found:
        found = [(b, 1.0) for b in zxingcpp.read_barcodes(image, formats=_QR)]
    if not found and short <= 3000 and not _blank(image):  # a small, soft photograph: its modules enlarged
        f = 1.6
        large = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        found = [(b, 1 / f) for b in zxingcpp.read_barcodes(large, formats=_QR)]
    out = []
    for b, scale in found:
        p = b.position
        corners = np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                            [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]],
                           np.float64) * scale
        out.append((parse_payload(b.text), b.text, corners))
    return out


_QR_MM = np.array([[QR_X, QR_Y], [QR_X + QR_SIZE, QR_Y], [QR_X + QR_SIZE, QR_Y + QR_SIZE], [QR_X, QR_Y + QR_SIZE]],
                  np.float64)
_MARKS_MM = np.array(MARK_CENTERS, np.float64)


def _project(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)


def _blobs(image: np.ndarray, px_per_mm: float) -> list[np.ndarray]:
    """Centres (image pixels) of every solid, squarish dark blob the size of a corner mark."""
    small, f = image, 1.0
    while px_per_mm * f > 5:  # halved until about 2.5–5 pixels per millimetre: enough to find them
        small, f = cv2.pyrDown(small), f / 2
    f_x, f_y = small.shape[1] / image.shape[1], small.shape[0] / image.shape[0]
    k = int(15 * px_per_mm * f) | 1
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    binary = cv2.compare(small, cv2.convertScaleAbs(paper, alpha=0.6), cv2.CMP_LT)
    n, _, stats, cents = cv2.connectedComponentsWithStats(binary, connectivity=8)
    side = MARK_SIZE * px_per_mm * f
    out = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if 0.35 * side * side <= area <= 2.4 * side * side and 0.5 <= bw / max(bh, 1) <= 2.0 and area >= 0.62 * bw * bh:
            out.append(cents[i] / (f_x, f_y))
    return out


def _refine(image: np.ndarray, center: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The centre of the mark near ``center`` at full resolution (the centroid of its dark pixels)."""
    r = nearest(MARK_SIZE * px_per_mm)
    x0, y0 = max(0, int(center[0]) - r), max(0, int(center[1]) - r)
    win = image[y0:int(center[1]) + r, x0:int(center[0]) + r]
    if win.size == 0:
        return center
    paper, ink = float(np.percentile(win, 95)), float(np.percentile(win, 3))
    _, binary = cv2.threshold(win, (paper + ink) / 2, 255, cv2.THRESH_BINARY_INV)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n < 2:
        return center
    local = center - (x0, y0)
    k = min(range(1, n), key=lambda i: float(np.hypot(*(cents[i] - local))) - stats[i][4] * 1e-6)
    return cents[k] + (x0, y0)


def _align(image: np.ndarray, qr: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The homography from layout millimetres to image pixels, or None and why not.

    The machine code gives a first estimate; the corner marks are chosen among the mark-like blobs near
    where it puts them (farther from the code, farther they may be: a photograph's perspective), as the set
    of four (or three, a corner being out of the picture) whose homography puts the machine code where it is."""
    # an affine first estimate: a perspective drawn from a 24 mm square would be mostly noise 270 mm away
    a, *_ = np.linalg.lstsq(np.hstack([_QR_MM, np.ones((4, 1))]), qr, rcond=None)
    h0 = np.vstack([a.T, [0, 0, 1]])
    px_per_mm = float(np.linalg.norm(qr[1] - qr[0]) + np.linalg.norm(qr[2] - qr[1])) / (2 * QR_SIZE)
    blobs = _blobs(image, px_per_mm)
    predicted = _project(h0, _MARKS_MM)
    qr_centre = np.array([QR_X + QR_SIZE / 2, QR_Y + QR_SIZE / 2])
    options = []
    for k, p in enumerate(predicted):
        reach = (8 + 0.2 * float(np.linalg.norm(_MARKS_MM[k] - qr_centre))) * px_per_mm
        near = sorted((float(np.hypot(*(b - p))), i) for i, b in enumerate(blobs))
        options.append([None] + [i for d, i in near[:4] if d <= reach])
    best = None
    for combo in itertools.product(*options):
        chosen = [(k, i) for k, i in enumerate(combo) if i is not None]
        if len(chosen) < 3 or len({i for _, i in chosen}) < len(chosen):
            continue
        h = _fit(chosen, blobs, qr)
        if h is None:
            continue
        err = _qr_error(h, qr)
        key = (-len(chosen), err)
        if err <= QR_TOLERANCE and (best is None or key < best[0]):
            best = (key, chosen)
    if best is None:
        n = sum(len(o) > 1 for o in options)
        return None, (f"只找到 {n} 个角上的定位方块（需要 4 个；页面可能没拍全、被遮挡或折角）" if n < 3 else
                      "定位方块与二维码的位置不一致（页面可能严重弯折）")
    chosen = best[1]
    refined = [_refine(image, blobs[i], px_per_mm) for _, i in chosen]
    points = list(blobs)
    for (_, i), r in zip(chosen, refined):
        points[i] = r
    h = _fit(chosen, points, qr)
    if h is None or _qr_error(h, qr) > QR_TOLERANCE:
        return None, "定位方块与二维码的位置不一致（页面可能严重弯折）"
    return h, ""


def _fit(chosen: list[tuple[int, int]], points: list[np.ndarray], qr: np.ndarray) -> np.ndarray | None:
    src = np.array([_MARKS_MM[k] for k, _ in chosen], np.float64)
    dst = np.array([points[i] for _, i in chosen], np.float64)
    if len(chosen) == 3:  # three marks and the machine code's corners
        src, dst = np.vstack([src, _QR_MM]), np.vstack([dst, qr])
    try:
        h, _ = cv2.findHomography(src, dst, 0)
    except cv2.error:
        return None
    if h is None or abs(np.linalg.det(h)) < 1e-12:
        return None
    return h


def _qr_error(h: np.ndarray, qr: np.ndarray) -> float:
    """Millimetres between where the homography puts the machine code's corners and where they are."""
    back = _project(np.linalg.inv(h), qr)
    return float(np.max(np.linalg.norm(back - _QR_MM, axis=1)))


def _warp(image: np.ndarray, h: np.ndarray) -> np.ndarray:
    scale = np.diag([PX, PX, 1.0])
    m = scale @ np.linalg.inv(h)
    size = (int(PAGE_W * PX), int(PAGE_H * PX))
    return cv2.warpPerspective(image, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _ink_maps(page: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(the aligned page inverted, (trace, light-ink, strong-ink masks)): ink is what is darker than the paper
    around it (the brightest grey within 7 mm, smoothed) by more than TRACE / LIGHT / STRONG of its grey."""
    smooth = cv2.GaussianBlur(page, (3, 3), 0)
    half = cv2.pyrDown(smooth)  # the paper varies slowly: found at half the resolution
    k = int(7 * PX / 2) | 1  # wider than any stroke and than a blacked-out box: what is left is paper
    paper = cv2.blur(cv2.dilate(half, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))), (k, k))
    paper = cv2.resize(paper, (smooth.shape[1], smooth.shape[0]), interpolation=cv2.INTER_LINEAR)
    trace = smooth < cv2.convertScaleAbs(paper, alpha=1 - TRACE)
    light = smooth < cv2.convertScaleAbs(paper, alpha=1 - LIGHT)
    strong = smooth < cv2.convertScaleAbs(paper, alpha=1 - STRONG)
    return cv2.bitwise_not(smooth), (trace, light, strong)


def _px(r: Rect) -> tuple[int, int, int, int]:
    return nearest(r.x * PX), nearest(r.y * PX), nearest(r.right * PX), nearest(r.bottom * PX)


_TEMPLATES: dict[tuple, np.ndarray] = {}


def _outline(rects: tuple[Rect, ...], origin: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """The printed outlines of a row of boxes, as darkness (1 on the border lines), on a canvas of ``size``."""
    key = (tuple((nearest((r.x - origin[0]) * 100), nearest((r.y - origin[1]) * 100), r.w, r.h) for r in rects), size)
    found = _TEMPLATES.get(key)
    if found is None:
        canvas = np.zeros((size[1], size[0]), np.float32)
        for r in rects:
            x0, y0 = (r.x - origin[0]) * PX, (r.y - origin[1]) * PX
            cv2.rectangle(canvas, (nearest(x0), nearest(y0)),
                          (nearest(x0 + r.w * PX) - 1, nearest(y0 + r.h * PX) - 1), 1.0, 2)
        if len(_TEMPLATES) > 512:
            _TEMPLATES.clear()
        found = _TEMPLATES[key] = canvas
    return found


def _row_shift(dark: np.ndarray, rects: tuple[Rect, ...]) -> tuple[float, float, float]:
    """Where a row of boxes lies from its place (dx, dy in pixels) and how well its outline matched (0..1);
    ``dark``: the aligned page inverted (ink bright)."""
    x0 = min(r.x for r in rects) - 0.6
    y0 = min(r.y for r in rects) - 0.6
    x1 = max(r.right for r in rects) + 0.6
    y1 = max(r.bottom for r in rects) + 0.6
    tw, th = nearest((x1 - x0) * PX), nearest((y1 - y0) * PX)
    template = _outline(rects, (x0, y0), (tw, th))
    s = nearest(SEARCH * PX)
    ax, ay = nearest(x0 * PX) - s, nearest(y0 * PX) - s
    if ax < 0 or ay < 0 or ax + tw + 2 * s > dark.shape[1] or ay + th + 2 * s > dark.shape[0]:
        return 0.0, 0.0, 0.0
    window = dark[ay:ay + th + 2 * s, ax:ax + tw + 2 * s].astype(np.float32)
    score = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(score)
    return float(bx - s), float(by - s), float(best)


def _measure(masks: tuple[np.ndarray, np.ndarray, np.ndarray], r: Rect, dx: float, dy: float) -> Ink:
    inner = Rect(r.x + INSET + dx / PX, r.y + INSET + dy / PX, r.w - 2 * INSET, r.h - 2 * INSET)
    x0, y0, x1, y1 = _px(inner)
    trace, light, strong = (m[y0:y1, x0:x1] for m in masks)
    if light.size == 0:
        return Ink(1.0, 1.0, 1.0)
    return Ink(float(light.mean()), float(strong.mean()), float(trace.mean()))


def _cut(page: np.ndarray, q: Question) -> bytes:
    """The question's row as the clerk should see it: the printed column labels above it, the marks darkened
    against the paper so that a faint one shows."""
    parts = []
    for area in ([q.head] if q.head is not None else []) + [q.area.grow(0.8)]:
        x0, y0, x1, y1 = _px(Rect(q.area.x - 0.8, area.y, q.area.w + 1.6, area.h))
        parts.append(page[max(0, y0):y1, max(0, x0):x1])
    width = min(p.shape[1] for p in parts)
    crop = np.vstack([p[:, :width] for p in parts])
    paper = cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15))).astype(np.float32)
    dark = np.clip(1.0 - crop.astype(np.float32) / np.maximum(paper, 1.0), 0, 1)
    ink = np.clip((dark - 0.07) / 0.45, 0, 1) ** 0.7  # paper white, a faint stroke grey, a pen stroke black
    shown = (255 - 255 * ink).astype(np.uint8)
    ok, png = cv2.imencode(".png", shown, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    return png.tobytes() if ok else b""


def thumbnail(image: np.ndarray, width: int = THUMB_WIDTH) -> bytes:
    f = width / image.shape[1]
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else image
    ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return jpg.tobytes() if ok else b""


def _blank(image: np.ndarray) -> bool:
    """A page with (almost) nothing on it: the back of a sheet scanned on both sides."""
    small = cv2.resize(image, (200, int(200 * image.shape[0] / image.shape[1])), interpolation=cv2.INTER_AREA)
    paper = float(np.percentile(small, 95))
    return float(np.mean(small < paper * 0.75)) < 0.004


def read_page(image: np.ndarray, find: Callable[[Payload], BallotLayout | None], file: str,
              number: int) -> PageRead:
    """Everything one page says: which ballot, and for each question its decision (with a cut-out when the
    decision is for the clerk). ``find``: the layout printed for a machine code (None: not one of this run's)."""
    codes = _code(image)
    ours = [(p, c) for p, _, c in codes if p is not None]
    if not ours:
        if codes:
            return PageRead(file, number, "foreign", detail="页面上的二维码不是本工具打印的测评票", thumb=thumbnail(image))
        if _blank(image):
            return PageRead(file, number, "blank")
        return PageRead(file, number, "no-code", detail="找不到测评票右上角的二维码（可能不是机读测评票，或二维码被涂写、污损）",
                        thumb=thumbnail(image))
    if len({(p.unit, p.serial, p.page) for p, _ in ours}) > 1:
        return PageRead(file, number, "several", ours[0][0], detail="一页上有不止一张测评票", thumb=thumbnail(image))
    payload, corners = ours[0]
    lay = find(payload)
    if lay is None:
        return PageRead(file, number, "unknown", payload, thumb=thumbnail(image))
    if lay.fingerprint != payload.fingerprint or payload.pages != len(lay.pages):
        return PageRead(file, number, "layout", payload, detail="这张票印制后，考核细则或测评对象已有改动，与现在的名册、细则不一致",
                        thumb=thumbnail(image))
    h, why = _align(image, corners)
    if h is None:
        return PageRead(file, number, "unaligned", payload, detail=why, thumb=thumbnail(image))
    page = _warp(image, h)
    dark, masks = _ink_maps(page)
    out = PageRead(file, number, "read", payload)
    for q in lay.pages[payload.page - 1].questions:
        d = _read_question(q, dark, masks)
        out.decisions[q.key] = d
        if d.value is None:
            out.cuts[q.key] = _cut(page, q)
    out.thumb = thumbnail(page, int(PAGE_W * PX) // 3)  # a third: the fast path of INTER_AREA
    return out


def _read_question(q: Question, dark: np.ndarray, masks: tuple) -> Decision:
    inks = []
    for g in q.groups:
        dx, dy, score = _row_shift(dark, tuple(b.rect for b in g.boxes))
        if score < MATCH_MIN:
            return Decision(None, "方框位置无法对准（纸面可能弯折或污损）")
        inks.append([_measure(masks, b.rect, dx, dy) for b in g.boxes])
    return decide(q, inks)


def read_file_pages(path: Path, name: str, find: Callable[[Payload], BallotLayout | None],
                    pages: range | None = None) -> Iterator[PageRead]:
    """Pages of one scan file read (all, or those in ``pages``); a page that cannot be decoded comes back as
    'undecodable'. A PDF page whose own JPEG shows no machine code is rendered and read again."""
    for number, image, render in iter_pages(path, pages=pages):
        if image is None:
            yield PageRead(name, number, "undecodable", detail="这一页无法解码")
            continue
        read = read_page(image, find, name, number)
        if render is not None and read.status in ("no-code", "blank"):
            again = render()
            if again is not None:
                read = read_page(again, find, name, number)
        yield read


__all__ = ["SCAN_SUFFIXES", "PageRead", "ScanFileError", "read_page", "read_file_pages", "iter_pages", "page_count",
           "thumbnail"]
