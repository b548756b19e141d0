"""Filled-in readable ballots, made up: the printed PDF rendered, marks drawn on it as a person would with a pen
(ticks and crosses of varying darkness, size and place; blacked-out corrections, faint marks, two boxes), then
the page handled as a scanner or a phone would (rotation, scale, perspective, blur, noise, JPEG).

Used by the tests (a few pages) and by ``benchmarks/omr.py`` (thousands). Deterministic for a given seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import cv2
import numpy as np
import pypdfium2 as pdfium

from villagescore.core.numbers import nearest
from villagescore.core.omr import BallotLayout, Box, Question, Rect


def render(pdf: bytes, dpi: int = 200) -> list[np.ndarray]:
    """Every page of a PDF as a grey image."""
    doc = pdfium.PdfDocument(pdf)
    out = []
    for page in doc:
        a = page.render(scale=dpi / 72, grayscale=True).to_numpy()
        out.append(np.ascontiguousarray(a.reshape(a.shape[0], a.shape[1], -1)[:, :, 0]))
    doc.close()
    return out


@dataclass
class Pen:
    """How one person marks: stroke width, ink darkness, how big and how carefully."""

    width: float = 0.5  # mm
    dark: float = 0.85  # 0 (no ink) … 1 (black)
    size: float = 1.0  # × the box
    jitter: float = 0.5  # mm off the box centre
    tick: bool = True  # ticks, else crosses

    @classmethod
    def random(cls, rng: random.Random) -> "Pen":
        return cls(width=rng.uniform(0.3, 0.75), dark=rng.uniform(0.55, 1.0), size=rng.uniform(0.7, 1.35),
                   jitter=rng.uniform(0.0, 0.9), tick=rng.random() < 0.7)


@dataclass
class Sheet:
    """A page being filled: the image, its resolution, and what was marked (the truth)."""

    image: np.ndarray
    dpi: int
    truth: dict[str, str | None] = field(default_factory=dict)  # question key → value (None: for review)
    kinds: dict[str, str] = field(default_factory=dict)  # question key → what was drawn (for reports)

    def px(self, mm_: float) -> float:
        return mm_ * self.dpi / 25.4


def _stroke(sheet: Sheet, points: list[tuple[float, float]], pen: Pen, dark: float | None = None) -> None:
    """A pen stroke through ``points`` (mm), anti-aliased, ink darkening the paper multiplicatively."""
    img = sheet.image
    pts = np.array([[sheet.px(x) * 16, sheet.px(y) * 16] for x, y in points], np.int32)
    x0, y0 = (pts.min(axis=0) // 16) - 12
    x1, y1 = (pts.max(axis=0) // 16) + 12
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), img.shape[1]), min(int(y1), img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    shifted = pts - np.array([x0 * 16, y0 * 16])
    thick = max(1, nearest(sheet.px(pen.width)))
    cv2.polylines(mask, [shifted.reshape(-1, 1, 2)], False, 1.0, thick, cv2.LINE_AA, shift=4)
    mask = cv2.GaussianBlur(mask, (3, 3), 0)
    d = pen.dark if dark is None else dark
    region = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = np.clip(region * (1 - d * mask), 0, 255).astype(np.uint8)


def _wobble(rng: random.Random, pts: list[tuple[float, float]], amount: float = 0.25) -> list[tuple[float, float]]:
    """A hand-drawn line: points added along each segment, each a little off."""
    out = []
    for (ax, ay), (bx, by) in zip(pts, pts[1:]):
        n = max(2, int(math.hypot(bx - ax, by - ay) / 0.8))
        for k in range(n):
            t = k / n
            out.append((ax + (bx - ax) * t + rng.gauss(0, amount / 3), ay + (by - ay) * t + rng.gauss(0, amount / 3)))
    out.append(pts[-1])
    return out


def tick(sheet: Sheet, r: Rect, pen: Pen, rng: random.Random) -> None:
    cx = r.x + r.w / 2 + rng.uniform(-pen.jitter, pen.jitter)
    cy = r.y + r.h / 2 + rng.uniform(-pen.jitter, pen.jitter)
    s = r.w * pen.size
    a = (cx - 0.4 * s, cy + rng.uniform(-0.05, 0.1) * s)
    b = (cx - 0.1 * s, cy + 0.35 * s)
    c = (cx + 0.45 * s + rng.uniform(0, 0.15) * s, cy - 0.5 * s - rng.uniform(0, 0.2) * s)
    _stroke(sheet, _wobble(rng, [a, b, c]), pen)


def cross(sheet: Sheet, r: Rect, pen: Pen, rng: random.Random) -> None:
    cx = r.x + r.w / 2 + rng.uniform(-pen.jitter, pen.jitter)
    cy = r.y + r.h / 2 + rng.uniform(-pen.jitter, pen.jitter)
    s = r.w * pen.size * 0.45
    _stroke(sheet, _wobble(rng, [(cx - s, cy - s), (cx + s, cy + s)]), pen)
    _stroke(sheet, _wobble(rng, [(cx + s, cy - s * rng.uniform(0.8, 1.1)), (cx - s, cy + s)]), pen)


def mark(sheet: Sheet, r: Rect, pen: Pen, rng: random.Random) -> None:
    (tick if pen.tick else cross)(sheet, r, pen, rng)


def black_out(sheet: Sheet, r: Rect, pen: Pen, rng: random.Random) -> None:
    """A box scribbled over until it is black: a choice struck out (改选)."""
    heavy = Pen(max(pen.width, 0.6), max(pen.dark, 0.8), 1, 0, True)
    y = r.y + 0.3
    pts = []
    while y < r.bottom - 0.3:
        pts += [(r.x + 0.2 + rng.uniform(-0.2, 0.2), y), (r.right - 0.2 + rng.uniform(-0.2, 0.2), y + 0.2)]
        y += 0.45
    _stroke(sheet, pts, heavy)


def faint(sheet: Sheet, r: Rect, pen: Pen, rng: random.Random) -> None:
    """A mark too light to be sure of (a dry pen, a hesitant touch)."""
    light = Pen(pen.width, rng.uniform(0.12, 0.22), pen.size, pen.jitter, pen.tick)
    mark(sheet, r, light, rng)


def tiny(sheet: Sheet, r: Rect, pen: Pen, rng: random.Random) -> None:
    """A dot or a short touch inside the box."""
    cx, cy = r.x + r.w / 2 + rng.uniform(-0.8, 0.8), r.y + r.h / 2 + rng.uniform(-0.8, 0.8)
    _stroke(sheet, [(cx, cy), (cx + 0.5, cy + 0.3)], Pen(0.4, pen.dark))


def pick_score(q: Question, rng: random.Random) -> str:
    """A plausible score: mostly high marks, as at a real assessment meeting."""
    values = [b.value for b in q.groups[0].boxes]
    weights = [1 + 3 * (i / max(len(values) - 1, 1)) ** 3 for i in range(len(values))]
    return rng.choices(values, weights)[0]


def fill_question(sheet: Sheet, q: Question, pen: Pen, rng: random.Random, problem: str = "") -> None:
    """Mark one question as a person would; ``problem`` (blank, double, faint, blackout, tiny) makes it one the
    reader must send to review."""
    groups = q.groups
    if q.kind == "vote":
        value = rng.choice([b.value for b in groups[0].boxes])
        chosen = [next(b for b in groups[0].boxes if b.value == value)]
    else:
        if len(groups) >= 2 and groups[0].name == "十位":
            total = rng.randint(60, int(q.max or 100))
            tens, units = divmod(total, 10)
            chosen = [groups[0].boxes[tens], groups[1].boxes[units]]
            value = str(total)
        else:
            value = pick_score(q, rng)
            chosen = [next(b for b in groups[0].boxes if b.value == value)]
        half = next((g for g in groups if not g.required), None)
        if half is not None and rng.random() < 0.3 and float(value) + 0.5 <= float(q.max or 0):
            chosen.append(half.boxes[0])
            value = _plain(float(value) + 0.5)
    sheet.kinds[q.key] = problem or ("tick" if pen.tick else "cross")
    if problem == "blank":
        sheet.truth[q.key] = None
        return
    if problem == "faint":
        for b in chosen:
            faint(sheet, b.rect, pen, rng)
        sheet.truth[q.key] = None
        return
    if problem == "tiny":
        for b in chosen:
            tiny(sheet, b.rect, pen, rng)
        sheet.truth[q.key] = None
        return
    for b in chosen:
        mark(sheet, b.rect, pen, rng)
    if problem in ("double", "blackout"):
        others = [b for b in groups[0].boxes if b not in chosen]
        other = rng.choice(others)
        (mark if problem == "double" else black_out)(sheet, other.rect, pen, rng)
        sheet.truth[q.key] = None
        return
    sheet.truth[q.key] = value


def _plain(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


def fill_page(image: np.ndarray, dpi: int, questions: tuple[Question, ...], rng: random.Random,
              problems: dict[str, str] | None = None, pen: Pen | None = None) -> Sheet:
    sheet = Sheet(image.copy(), dpi)
    pen = pen or Pen.random(rng)
    for q in questions:
        fill_question(sheet, q, pen, rng, (problems or {}).get(q.key, ""))
    return sheet


# ------------------------------------------------------------------ as a scanner or a phone sees it


@dataclass
class Handling:
    angle: float = 0.0  # degrees, small skew
    quarter: int = 0  # quarter turns (2: upside down)
    scale: float = 1.0
    perspective: float = 0.0  # share of the page size each corner may move
    blur: float = 0.0  # Gaussian sigma, pixels
    noise: float = 0.0  # Gaussian sigma, grey levels
    jpeg: int = 0  # quality; 0: no JPEG
    shade: float = 0.0  # a shadow across the page: darkest share of the paper's brightness lost
    paper: int = 245  # grey of the paper

    @classmethod
    def clean(cls, rng: random.Random) -> "Handling":
        """A flatbed scan: slight skew, maybe turned or upside down, a little blur and noise."""
        return cls(angle=rng.uniform(-1.5, 1.5), quarter=rng.choice([0, 0, 0, 2]), scale=rng.uniform(0.95, 1.05),
                   blur=rng.uniform(0, 0.6), noise=rng.uniform(0, 3), jpeg=rng.choice([0, 90]),
                   paper=rng.randint(236, 252))

    @classmethod
    def rough(cls, rng: random.Random) -> "Handling":
        """A phone photograph or a poor scan: ±5°, scale, perspective, blur, noise, shadow, JPEG."""
        return cls(angle=rng.uniform(-5, 5), quarter=rng.choice([0, 0, 1, 2, 3]), scale=rng.uniform(0.75, 1.25),
                   perspective=rng.uniform(0, 0.04), blur=rng.uniform(0.3, 1.4), noise=rng.uniform(2, 9),
                   jpeg=rng.randint(45, 85), shade=rng.uniform(0, 0.3), paper=rng.randint(200, 250))


def handle(image: np.ndarray, h: Handling, rng: random.Random) -> np.ndarray:
    img = image.astype(np.float32) * (h.paper / 255.0)
    rows, cols = img.shape
    if h.shade:
        ramp = np.linspace(1 - h.shade, 1, cols, dtype=np.float32)
        if rng.random() < 0.5:
            ramp = ramp[::-1]
        img *= ramp[None, :]
    pad = int(max(rows, cols) * (0.08 + max(0.0, h.scale - 1) * 0.6 + h.perspective * 1.5))  # the page stays in view
    bg = rng.randint(40, 120)
    canvas = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=bg)
    H, W = canvas.shape
    centre = (W / 2, H / 2)
    m = cv2.getRotationMatrix2D(centre, h.angle, h.scale)
    m = np.vstack([m, [0, 0, 1]])
    if h.perspective:
        src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
        d = h.perspective * max(W, H)
        dst = src + np.float32([[rng.uniform(-d, d), rng.uniform(-d, d)] for _ in range(4)])
        m = cv2.getPerspectiveTransform(src, dst) @ m
    out = cv2.warpPerspective(canvas, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=bg)
    if h.blur:
        out = cv2.GaussianBlur(out, (0, 0), h.blur)
    if h.noise:
        out = out + np.random.default_rng(rng.randint(0, 2**31)).normal(0, h.noise, out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    for _ in range(h.quarter):
        out = cv2.rotate(out, cv2.ROTATE_90_CLOCKWISE)
    return out


def encode(image: np.ndarray, quality: int) -> bytes:
    if quality:
        return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    return cv2.imencode(".png", image)[1].tobytes()


def scanner_pdf(images: list[bytes]) -> bytes:
    """A PDF the way a scanner writes one: each page 21 cm wide holding one JPEG."""
    import io

    doc = pdfium.PdfDocument.new()
    for data in images:
        img = pdfium.PdfImage.new(doc)
        img.load_jpeg(io.BytesIO(data), inline=False)
        w, h = img.get_px_size()
        pw, ph = 595.28, 595.28 * h / w
        page = doc.new_page(pw, ph)
        img.set_matrix(pdfium.PdfMatrix().scale(pw, ph))
        page.insert_obj(img)
        page.gen_content()
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def questions_of(lay: BallotLayout, page: int = 1) -> tuple[Question, ...]:
    return lay.pages[page - 1].questions


__all__ = ["render", "Pen", "Sheet", "fill_page", "fill_question", "Handling", "handle", "encode", "scanner_pdf",
           "tick", "cross", "black_out", "faint", "mark", "Box"]
