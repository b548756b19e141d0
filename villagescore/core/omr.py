"""Machine-readable ballots (机读测评票): the page geometry that the PDF writer draws and the scan reader
measures, the machine code's payload, and the rules that decide what a page's marks say.

Everything here is in millimetres on a portrait A4 page, origin at the top-left corner, y downwards. A
ballot is the same set of questions as the entry sheet's columns (``layout.entry_columns``): a score
ballot has one question per item (a row of boxes 0..max, and a "+0.5" box where the form allows halves;
items worth more than ``SINGLE_ROW_MAX`` get a tens row and a units row), a vote ballot one question per
person voted on (a box per option). The payload carries scheme, period, form, unit, ballot serial and
page, and a fingerprint of the layout, and nothing about the evaluator.

Pure: no files, fonts or images. ``io/omr_pdf.py`` draws a ``BallotLayout``; ``io/omr_read.py`` measures
the ink in its boxes; ``decide`` turns the measures of one question into a value or a reason for review.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote, unquote

from villagescore.core import layout
from villagescore.core.numbers import plain
from villagescore.core.periods import Period
from villagescore.core.records import Criterion, Unit
from villagescore.core.scheme import Form, Scheme, ScoreBallot, VoteBallot

OMR_VERSION = "1"  # changes whenever the geometry below changes (it is part of every fingerprint)
PAGE_W, PAGE_H = 210.0, 297.0
MARK_SIZE = 6.0  # the four solid corner marks
MARK_CENTERS = ((12.0, 12.0), (198.0, 12.0), (12.0, 285.0), (198.0, 285.0))  # TL, TR, BL, BR
QR_X, QR_Y, QR_SIZE = 168.0, 19.0, 24.0  # the machine code's symbol, without its quiet zone
LEFT, RIGHT = 14.0, 196.0  # the table's left and right edges
TABLE_TOP, TABLE_BOTTOM = 60.0, 270.0
SCORE_BOX, VOTE_BOX = 5.5, 6.5  # side of an answer box
SINGLE_ROW_MAX = 15  # items worth more get a tens row and a units row
ROW_MIN, ROW_MAX = 12.0, 20.0  # height of a question's row
DOUBLE_ROW_MIN = 18.0
PAYLOAD_TAG = "VS1"

# ------------------------------------------------------------------ geometry


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def grow(self, d: float) -> "Rect":
        return Rect(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)


@dataclass(frozen=True)
class Box:
    rect: Rect
    value: str  # what marking it says: "7", "70" (tens row), "0.5", or an option such as "较好"


@dataclass(frozen=True)
class Group:
    """A row of boxes: exactly one must be marked (``required``), or at most one (the +0.5 box)."""

    name: str  # "" for the only row; "十位" / "个位" / "半分"
    boxes: tuple[Box, ...]
    required: bool = True


@dataclass(frozen=True)
class Question:
    key: str  # the entry sheet's column key (c01…, a person's code, "self")
    label: str  # as on the entry sheet
    kind: str  # "score" or "vote"
    groups: tuple[Group, ...]
    area: Rect  # the whole row (text and boxes): the cut-out shown for review
    max: Decimal | None = None  # a score item's maximum
    head: Rect | None = None  # the printed column labels above (digits, options): shown over the cut-out


@dataclass(frozen=True)
class Text:
    rect: Rect
    text: str  # "{serial}" stands for the ballot's serial
    size: float  # points; the writer shrinks it until the text fits the rectangle
    align: str = "left"  # left / center / right
    bold: bool = False
    lines: int = 1  # at most this many lines (wrapped)
    gray: float = 0.0  # 0 black … 1 white


@dataclass(frozen=True)
class Shape:
    rect: Rect
    line: float = 0.25  # stroke width in mm; 0: no stroke
    fill: float | None = None  # gray level of the fill; None: no fill
    gray: float = 0.0  # stroke gray


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    questions: tuple[Question, ...]
    texts: tuple[Text, ...]
    shapes: tuple[Shape, ...]


@dataclass(frozen=True)
class BallotLayout:
    scheme_id: str
    form_id: str
    unit: str  # unit code
    period: str  # normalised, e.g. 2025H1
    kind: str  # score_ballot / vote_ballot
    title: str
    serials: int  # ballots issued (票号 01..N)
    pages: tuple[Page, ...]
    fingerprint: str = ""

    @property
    def questions(self) -> list[Question]:
        return [q for p in self.pages for q in p.questions]

    def payload(self, serial: int, page: int) -> str:
        return make_payload(self.scheme_id, self.period, self.form_id, self.unit, serial, page, len(self.pages),
                            self.fingerprint)


# ------------------------------------------------------------------ the machine code


@dataclass(frozen=True)
class Payload:
    scheme_id: str
    period: str
    form_id: str
    unit: str
    serial: int
    page: int
    pages: int
    fingerprint: str


def make_payload(scheme_id: str, period: str, form_id: str, unit: str, serial: int, page: int, pages: int,
                 fingerprint: str) -> str:
    parts = [PAYLOAD_TAG, scheme_id, period, form_id, unit, str(serial), f"{page}/{pages}", fingerprint]
    return "|".join(quote(p, safe="") for p in parts)


def parse_payload(text: str) -> Payload | None:
    """The fields of a machine code this tool printed; None for any other text."""
    parts = text.strip().split("|")
    if len(parts) != 8 or parts[0] != PAYLOAD_TAG:
        return None
    scheme_id, period, form_id, unit, serial, pages, fp = (unquote(p) for p in parts[1:])
    page, _, count = pages.partition("/")
    if not (serial.isdigit() and page.isdigit() and count.isdigit()) or not 1 <= int(page) <= int(count):
        return None
    return Payload(scheme_id, period, form_id, unit, int(serial), int(page), int(count), fp)


# ------------------------------------------------------------------ building a layout


SCORE_NOTE = ("填写说明：1. 请在每项所选分数下面的方框内划“√”或“×”，每项只选一格；"
              "2. 如需改选，请把原选的方框涂黑，再在新选的方框内划“√”；"
              "3. 本票不记名，请勿署名或作任何记号；请勿折叠，不要涂写四角的黑色方块和右上角的二维码。")
VOTE_NOTE = ("填写说明：1. 请在每个测评对象所选档次下面的方框内划“√”或“×”，每个对象只选一格；"
             "未投任何一票的按废票处理；2. 如需改选，请把原选的方框涂黑，再在新选的方框内划“√”；"
             "3. 本票不记名，请勿署名或作任何记号；请勿折叠，不要涂写四角的黑色方块和右上角的二维码。")
HALF_LABEL = "+0.5"


def score_items(scheme: Scheme, form: Form, criteria: list[Criterion]) -> list[tuple[str, str, str, Decimal]]:
    """(key, label, aspect, maximum) of a score ballot's items: the entry sheet's item columns, in order."""
    crit = {c.key: c for c in criteria}
    cols = [c for c in layout.entry_columns(scheme, form, sorted(criteria, key=lambda c: c.index))
            if c.key not in ("serial", "void")]
    return [(c.key, c.label, crit[c.key].aspect if c.key in crit else "", c.max or Decimal(0)) for c in cols]


def ballot_layout(scheme: Scheme, form: Form, unit: Unit, period: str, *, criteria: list[Criterion] | None = None,
                  members: list[Unit] | None = None) -> BallotLayout:
    """The readable ballot of ``form`` for ``unit``: its pages, questions and drawing."""
    period = str(Period.parse(period))
    if form.kind == "score_ballot":
        items = score_items(scheme, form, criteria or [])
        if not items:
            raise ValueError(f"{unit.name}（{unit.code}）没有考核细则，无法生成“{form.title}”")
        pages = _score_pages(form, items)
    elif form.kind == "vote_ballot":
        targets = layout.vote_targets(form, members)
        pages = _vote_pages(form, targets)
    else:
        raise ValueError(f"“{form.title}”不是测评票")
    head = _head(form, unit, period, len(pages))
    built = tuple(Page(i + 1, qs, (*head(i + 1), *texts), shapes) for i, (qs, texts, shapes) in enumerate(pages))
    out = BallotLayout(scheme.scheme.id, form.id, unit.code, period, form.kind, form.title, form.evaluators, built)
    return BallotLayout(**{**out.__dict__, "fingerprint": fingerprint(out)})


def fingerprint(lay: BallotLayout) -> str:
    """10 hex digits naming everything a reading depends on: questions, labels, boxes and their places."""
    h = hashlib.sha256()
    h.update(repr((OMR_VERSION, lay.scheme_id, lay.form_id, lay.unit, lay.period, lay.serials)).encode())
    for p in lay.pages:
        for q in p.questions:
            h.update(repr((p.number, q.key, q.label, q.kind, str(q.max), q.area,
                           [(g.name, g.required, [(b.value, b.rect) for b in g.boxes]) for g in q.groups])).encode())
    return h.hexdigest()[:10]


def _head(form: Form, unit: Unit, period: str, pages: int):
    label = Period.parse(period).label

    def texts(number: int) -> list[Text]:
        out = [
            Text(Rect(32, 16, 132, 12), form.title, 19, "center", bold=True),
            Text(Rect(LEFT + 4, 32, 148, 7), f"单位：{unit.full_name}（{unit.code}）", 12),
            Text(Rect(LEFT + 4, 40, 92, 7), f"期间：{label}", 12),
            Text(Rect(110, 40, 54, 7), "票号：{serial}", 13, "right", bold=True),
            Text(Rect(QR_X - 3, QR_Y + QR_SIZE + 1.2, QR_SIZE + 6, 3.5), "机读码 请勿涂写", 6.5, "center", gray=0.35),
            Text(Rect(LEFT + 4, 48, RIGHT - LEFT - 8, 10.5), SCORE_NOTE if form.kind == "score_ballot" else VOTE_NOTE,
                 9, lines=3, gray=0.15),
            Text(Rect(LEFT, 274, RIGHT - LEFT, 5), f"第 {number} 页，共 {pages} 页" if pages > 1 else "本票不记名",
                 9, "center", gray=0.3),
        ]
        return out

    return texts


def _paginate(n: int, per_page: int) -> list[range]:
    pages = max(1, math.ceil(n / per_page))
    size = math.ceil(n / pages)  # spread evenly
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def _grid_cell(x: float, y: float, w: float, h: float, fill: float | None = None) -> Shape:
    return Shape(Rect(x, y, w, h), 0.3, fill, 0.0)


def _score_pages(form: ScoreBallot, items: list[tuple[str, str, str, Decimal]]):
    has_aspect = any(a for _, _, a, _ in items)
    top = max((m for *_, m in items), default=Decimal(0))
    double = top > SINGLE_ROW_MAX
    if double:  # a tens row (0..10 for 100 points) and a units row (0..9)
        spec = [("十位", int(top) // 10 + 1, 10), ("个位", 10, 1)]
    else:
        spec = [("", int(top) + 1, 1)]
    digits = list(range(max(n for _, n, _ in spec)))
    slots = len(digits) + (1 if form.halves else 0)
    aspect_w = 19.0 if has_aspect else 0.0  # four characters on a line
    max_w = 11.0
    label_w = 9.0 if double else 0.0  # 十位 / 个位
    boxes_w = min(max(slots * 8.0, 60.0), 112.0) + label_w
    text_w = RIGHT - LEFT - aspect_w - max_w - boxes_w
    x_aspect, x_text = LEFT, LEFT + aspect_w
    x_max = x_text + text_w
    x_boxes = x_max + max_w
    slot_w = (RIGHT - x_boxes - label_w) / slots
    head1, head2 = 9.0, 6.0
    body_top = TABLE_TOP + head1 + head2
    min_h = DOUBLE_ROW_MIN if double else ROW_MIN
    per_page = int((TABLE_BOTTOM - body_top) // min_h)
    pages = []
    for rng in _paginate(len(items), per_page):
        chunk = [items[i] for i in rng]
        h = max(min_h, min(ROW_MAX + (6 if double else 0), (TABLE_BOTTOM - body_top) / len(chunk)))
        texts: list[Text] = []
        shapes: list[Shape] = []
        # header: 方面 | 考核细则 | 分值 | 评分 over the digits
        heads = ([("方面", x_aspect, aspect_w)] if has_aspect else []) + [("考核细则", x_text, text_w),
                                                                          ("分值", x_max, max_w)]
        for text, x, w in heads:
            shapes.append(_grid_cell(x, TABLE_TOP, w, head1 + head2, 0.93))
            texts.append(Text(Rect(x + 0.8, TABLE_TOP, w - 1.6, head1 + head2), text, 11, "center", bold=True))
        shapes.append(_grid_cell(x_boxes, TABLE_TOP, RIGHT - x_boxes, head1, 0.93))
        head_text = ("评分（十位、个位各划一格，如 85 分：十位 8、个位 5）" if double else
                     "评分（在所选分数下面的方框内划“√”）")
        texts.append(Text(Rect(x_boxes + 1, TABLE_TOP, RIGHT - x_boxes - 2, head1), head_text, 10.5, "center",
                          bold=True))
        shapes.append(_grid_cell(x_boxes, TABLE_TOP + head1, RIGHT - x_boxes, head2, 0.97))
        if label_w:
            texts.append(Text(Rect(x_boxes, TABLE_TOP + head1, label_w, head2), "分", 8, "center"))
        names = [str(d) for d in digits] + ([HALF_LABEL] if form.halves else [])
        for k, name in enumerate(names):
            sx = x_boxes + label_w + k * slot_w
            texts.append(Text(Rect(sx, TABLE_TOP + head1, slot_w, head2), name, 9.5 if k < len(digits) else 8,
                              "center", bold=True))
        y = body_top
        questions = []
        aspect_runs = itertools.groupby(enumerate(chunk), key=lambda t: t[1][2])
        for aspect, same_aspect in aspect_runs:
            run = list(same_aspect)
            if has_aspect:
                ay = y + run[0][0] * h
                shapes.append(_grid_cell(x_aspect, ay, aspect_w, h * len(run)))
                texts.append(Text(Rect(x_aspect + 0.8, ay + 0.5, aspect_w - 1.6, h * len(run) - 1), aspect, 10.5,
                                  "center", lines=4))
        for i, (key, label, _, top_i) in enumerate(chunk):
            ry = y + i * h
            shapes.append(_grid_cell(x_text, ry, text_w, h))
            shapes.append(_grid_cell(x_max, ry, max_w, h))
            shapes.append(_grid_cell(x_boxes, ry, RIGHT - x_boxes, h))
            texts.append(Text(Rect(x_text + 1.5, ry + 0.6, text_w - 3, h - 1.2), label, 10.5, lines=4))
            texts.append(Text(Rect(x_max, ry, max_w, h), plain(top_i), 11, "center"))
            groups = []
            rows = [(name, ry + h * (k + 1) / (len(spec) + 1), n, step) for k, (name, n, step) in enumerate(spec)]
            for gname, cy, count, step in rows:
                boxes = []
                for k in range(count):
                    value = Decimal(k * step)
                    if step > 1 and value > top_i or len(spec) == 1 and value > top_i:
                        break
                    cx = x_boxes + label_w + (k + 0.5) * slot_w
                    boxes.append(Box(Rect(cx - SCORE_BOX / 2, cy - SCORE_BOX / 2, SCORE_BOX, SCORE_BOX), plain(value)))
                    shapes.append(Shape(boxes[-1].rect, 0.3))
                if gname:
                    texts.append(Text(Rect(x_boxes + 0.5, cy - 3, label_w - 1, 6), gname, 8, "center"))
                groups.append(Group(gname, tuple(boxes)))
            if form.halves:
                cx = x_boxes + label_w + (len(digits) + 0.5) * slot_w
                cy = rows[-1][1]
                half = Box(Rect(cx - SCORE_BOX / 2, cy - SCORE_BOX / 2, SCORE_BOX, SCORE_BOX), "0.5")
                shapes.append(Shape(half.rect, 0.3))
                groups.append(Group("半分", (half,), required=False))
            questions.append(Question(key, label, "score", tuple(groups), Rect(x_text, ry, RIGHT - x_text, h), top_i,
                                      Rect(x_text, TABLE_TOP + head1, RIGHT - x_text, head2)))
        pages.append((tuple(questions), texts, shapes))
    return pages


def _vote_pages(form: VoteBallot, targets: list[tuple[str, str]]):
    if not targets:
        raise ValueError(f"“{form.title}”没有测评对象")
    n = len(form.options)
    name_w = max(60.0, RIGHT - LEFT - n * 26.0)
    opt_w = (RIGHT - LEFT - name_w) / n
    head = 10.0
    body_top = TABLE_TOP + head
    per_page = int((TABLE_BOTTOM - body_top) // ROW_MIN)
    pages = []
    for rng in _paginate(len(targets), per_page):
        chunk = [targets[i] for i in rng]
        h = max(ROW_MIN, min(18.0, (TABLE_BOTTOM - body_top) / len(chunk)))
        texts: list[Text] = []
        shapes: list[Shape] = [_grid_cell(LEFT, TABLE_TOP, name_w, head, 0.93)]
        texts.append(Text(Rect(LEFT + 1, TABLE_TOP, name_w - 2, head), "测评对象", 11, "center", bold=True))
        for k, opt in enumerate(form.options):
            x = LEFT + name_w + k * opt_w
            shapes.append(_grid_cell(x, TABLE_TOP, opt_w, head, 0.93))
            texts.append(Text(Rect(x + 0.5, TABLE_TOP, opt_w - 1, head), opt, 11, "center", bold=True))
        questions = []
        for i, (key, label) in enumerate(chunk):
            ry = body_top + i * h
            shapes.append(_grid_cell(LEFT, ry, name_w, h))
            texts.append(Text(Rect(LEFT + 1.5, ry + 0.6, name_w - 3, h - 1.2), label, 11, lines=3))
            boxes = []
            for k, opt in enumerate(form.options):
                x = LEFT + name_w + k * opt_w
                shapes.append(_grid_cell(x, ry, opt_w, h))
                cx, cy = x + opt_w / 2, ry + h / 2
                boxes.append(Box(Rect(cx - VOTE_BOX / 2, cy - VOTE_BOX / 2, VOTE_BOX, VOTE_BOX), opt))
                shapes.append(Shape(boxes[-1].rect, 0.3))
            questions.append(Question(key, label, "vote", (Group("", tuple(boxes)),), Rect(LEFT, ry, RIGHT - LEFT, h),
                                      head=Rect(LEFT, TABLE_TOP, RIGHT - LEFT, head)))
        pages.append((tuple(questions), texts, shapes))
    return pages


def corner_shapes() -> list[Shape]:
    half = MARK_SIZE / 2
    return [Shape(Rect(x - half, y - half, MARK_SIZE, MARK_SIZE), 0, 0.0) for x, y in MARK_CENTERS]


# ------------------------------------------------------------------ deciding what the marks say

# A box's ink: the share of its inside (inset from the printed border) darker than the paper around it by
# more than LIGHT and by more than STRONG. The shares were set on pen strokes drawn and scanned as in
# tests/omr_sim.py (ink 0.55–1 of black, 0.3–0.75 mm wide; clean scans and rough photographs): an empty box
# measures 0; a tick at least 0.10 light and 0.07 strong; a cross up to 0.74 light; a box scribbled black 1.0;
# a dot or touch under 0.065 light and 0.055 strong; a faint stroke (ink 0.12–0.22) under 0.05 strong, and
# visible as a trace (darker than the paper by 0.12) where it leaves no light ink.
# What falls between is for the clerk.
TRACE, LIGHT, STRONG = 0.12, 0.22, 0.30  # relative darkness thresholds the reader applies (io/omr_read.py)
EMPTY_BELOW = 0.012  # light and strong share under which a box is empty …
TRACE_BELOW = 0.03  # … with less than this share of the faintest trace (a stroke lighter still: not sure)
MARK_STRONG, MARK_LIGHT = 0.058, 0.085  # a mark has at least this much strong and light ink …
MARK_UNDER = 0.80  # … and less light ink than this (more is a box half blacked out: not sure)
HEAVY_LIGHT, HEAVY_STRONG = 0.90, 0.85  # a box blacked out (改选: the old choice struck out)

EMPTY, MARK, FAINT, HEAVY = "empty", "mark", "faint", "heavy"


@dataclass(frozen=True)
class Ink:
    light: float  # share of the box's inside with a light stroke
    strong: float  # share with a strong stroke
    trace: float = 0.0  # share with any trace at all


def box_state(ink: Ink) -> str:
    """What one box holds: nothing, a mark, something too faint, small or dense to be sure of (FAINT), or a
    blacked-out box."""
    if ink.light >= HEAVY_LIGHT and ink.strong >= HEAVY_STRONG:
        return HEAVY
    if ink.strong >= MARK_STRONG and MARK_LIGHT <= ink.light < MARK_UNDER:
        return MARK
    if ink.light < EMPTY_BELOW and ink.strong < EMPTY_BELOW and ink.trace < TRACE_BELOW:
        return EMPTY
    return FAINT


@dataclass(frozen=True)
class Decision:
    value: str | None  # the answer, certain; None: for the clerk to confirm
    reason: str = ""  # why it is not certain (Chinese, for the review sheet)
    seen: str = ""  # what the reader saw, for the clerk (e.g. "7", "7、8")
    marked: tuple[str, ...] = field(default=())


REASONS = {
    "blank": "未划选（空白）",
    "multiple": "划选了不止一格",
    "faint": "标记较淡、很小或涂抹不清，无法确认",
    "heavy": "有涂改（方框被涂黑）",
    "over": "超过本项分值",
    "page": "整页无法读取",
}


def decide(q: Question, inks: list[list[Ink]]) -> Decision:
    """The answer of one question from the ink of its boxes (``inks[g][b]``: group g, box b), or why not.

    Certain only when every required row has exactly one marked box and every other box of the question is
    clearly empty (the +0.5 box: clearly marked or clearly empty); the sum must not exceed the item's maximum."""
    states = [[box_state(i) for i in row] for row in inks]
    seen = _seen(q, states)
    if any(s == HEAVY for row in states for s in row):
        return Decision(None, REASONS["heavy"], seen)
    if any(s == FAINT for row in states for s in row):
        return Decision(None, REASONS["faint"], seen)
    chosen: list[str] = []
    for g, row in zip(q.groups, states):
        marked = [b.value for b, s in zip(g.boxes, row) if s == MARK]
        if len(marked) > 1:
            return Decision(None, REASONS["multiple"], seen)
        if not marked and g.required:
            return Decision(None, REASONS["blank"] if not any(MARK in r for r in states) else
                            f"{g.name}未划选", seen)
        chosen.extend(marked)
    if q.kind == "vote":
        return Decision(chosen[0], "", seen, tuple(chosen))
    total = sum((Decimal(v) for v in chosen), Decimal(0))
    if q.max is not None and total > q.max:
        return Decision(None, f"{REASONS['over']}（{plain(total)} > {plain(q.max)}）", seen)
    return Decision(plain(total), "", seen, tuple(chosen))


def _seen(q: Question, states: list[list[str]]) -> str:
    parts = []
    names = {MARK: "", FAINT: "（淡）", HEAVY: "（涂黑）"}
    for g, row in zip(q.groups, states):
        got = [f"{b.value}{names[s]}" for b, s in zip(g.boxes, row) if s != EMPTY]
        if got:
            parts.append(f"{g.name + '：' if g.name and len(q.groups) > 1 else ''}{'、'.join(got)}")
    return "；".join(parts) or "空白"


def answers(q: Question) -> list[str]:
    """What the clerk may answer for a question sent to review: every value it can take, 空白, 作废."""
    if q.kind == "vote":
        return [*(b.value for b in q.groups[0].boxes), ANSWER_BLANK, ANSWER_VOID]
    return [*score_values(q), ANSWER_VOID]


def score_values(q: Question) -> list[str]:
    halves = any(not g.required for g in q.groups)
    top = q.max or Decimal(0)
    step = Decimal("0.5") if halves else Decimal(1)
    out, v = [], Decimal(0)
    while v <= top:
        out.append(plain(v))
        v += step
    return out


ANSWER_BLANK = "空白"  # a vote left blank: no vote for that person
ANSWER_VOID = "作废"  # the whole ballot is void
PAGE_ANSWERS = ("已录入", "作废", "不计入")  # a page that could not be read: typed by hand / void / not counted
