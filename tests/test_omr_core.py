"""Readable ballots, the pure part: geometry, machine code, the rules deciding what marks say, the review merge."""

from decimal import Decimal

import pytest

from villagescore.core import omr
from villagescore.core.omr import (
    EMPTY,
    FAINT,
    HEAVY,
    MARK,
    Ink,
    ballot_layout,
    box_state,
    decide,
    make_payload,
    parse_payload,
)
from villagescore.core.omr_review import REVIEW_SHEET, WHOLE, allowed, apply_review, review_columns
from villagescore.core.records import Criterion, Unit
from villagescore.core.scheme import Column
from villagescore.io.schemes import load

UNIT = Unit("C01", "青山村", "村")
CRIT = [Criterion("C01", a, i + 1, f"细则{i + 1}", Decimal(10))
        for i, a in enumerate(["班子队伍", "班子队伍", "产业发展", "产业发展", "为民服务", "为民服务", "乡村环境", "乡村环境",
                               "工作实绩", "工作实绩"])]


def layout(scheme, **kw):
    form = scheme.form("ballot")
    if kw:
        form = form.model_copy(update=kw)
    return ballot_layout(scheme, form, UNIT, "2025H1", criteria=CRIT)


EMPTY_INK, TICK, DOT, BLACK, PALE = Ink(0, 0, 0), Ink(0.3, 0.25, 0.35), Ink(0.06, 0.04, 0.08), Ink(1, 1, 1), \
    Ink(0.02, 0, 0.2)


def inks(q, marked: dict[str, Ink]):
    return [[marked.get(b.value, EMPTY_INK) for b in g.boxes] for g in q.groups]


def rows(q, *marked: str):
    """A tick in the box of each row's value (tens row, units row …)."""
    return [[TICK if b.value == v else EMPTY_INK for b in g.boxes] for g, v in zip(q.groups, marked)]


def test_payload_round_trip_and_nothing_about_the_evaluator():
    text = make_payload("pingbian", "2025H1", "ballot", "青山|1", 7, 1, 2, "abc")
    p = parse_payload(text)
    assert (p.scheme_id, p.period, p.form_id, p.unit, p.serial, p.page, p.pages, p.fingerprint) == \
        ("pingbian", "2025H1", "ballot", "青山|1", 7, 1, 2, "abc")
    assert len(text.split("|")) == 8  # tag, scheme, period, form, unit, serial, page, layout: no person
    assert parse_payload("https://example.com") is None
    assert parse_payload("VS1|a|b|c|d|x|1/1|f") is None  # a serial that is no number
    assert parse_payload("VS1|a|b|c|d|3|2/1|f") is None  # page 2 of 1


def test_score_layout_fits_the_page_and_boxes_do_not_touch(scheme):
    lay = layout(scheme)
    assert len(lay.pages) == 1 and [q.key for q in lay.questions] == [f"c{i:02d}" for i in range(1, 11)]
    boxes = [b.rect for q in lay.questions for g in q.groups for b in g.boxes]
    assert len(boxes) == 10 * 11  # 0..10 for each of the ten items
    for r in boxes:
        assert omr.LEFT <= r.x and r.right <= omr.RIGHT and omr.TABLE_TOP <= r.y and r.bottom <= omr.TABLE_BOTTOM
    for a in boxes:  # at least 2 mm between boxes: a tick overflowing a little stays out of the next one
        for b in boxes:
            if a is not b:
                assert a.right + 2 <= b.x or b.right + 2 <= a.x or a.bottom + 2 <= b.y or b.bottom + 2 <= a.y
    for cx, cy in omr.MARK_CENTERS:  # the corner marks are away from everything printed
        assert cx < omr.LEFT or cx > omr.RIGHT or cy < 50 or cy > omr.TABLE_BOTTOM + 10


def test_layout_fingerprint_follows_the_criteria(scheme):
    a, b = layout(scheme), layout(scheme)
    assert a.fingerprint == b.fingerprint
    changed = ballot_layout(scheme, scheme.form("ballot"), UNIT, "2025H1",
                            criteria=[*CRIT[:9], Criterion("C01", "工作实绩", 10, "改过的细则", Decimal(10))])
    assert changed.fingerprint != a.fingerprint
    assert ballot_layout(scheme, scheme.form("ballot"), UNIT, "2025H2", criteria=CRIT).fingerprint != a.fingerprint


def test_one_mark_is_the_value_and_every_doubt_goes_to_review(scheme):
    q = layout(scheme).questions[0]
    assert decide(q, inks(q, {"8": TICK})).value == "8"
    assert decide(q, inks(q, {"0": TICK})).value == "0"
    blank = decide(q, inks(q, {}))
    assert blank.value is None and "空白" in blank.reason
    two = decide(q, inks(q, {"7": TICK, "8": TICK}))
    assert two.value is None and "不止一格" in two.reason and two.seen == "7、8"
    struck = decide(q, inks(q, {"7": BLACK, "8": TICK}))
    assert struck.value is None and "涂改" in struck.reason
    assert decide(q, inks(q, {"9": DOT})).value is None
    faint = decide(q, inks(q, {"9": PALE}))
    assert faint.value is None and "淡" in faint.reason
    assert decide(q, inks(q, {"8": TICK, "3": PALE})).value is None  # a trace elsewhere: not sure which


def test_box_states_from_the_calibrated_shares():
    assert box_state(EMPTY_INK) == EMPTY
    assert box_state(TICK) == MARK
    assert box_state(Ink(0.70, 0.58, 0.75)) == MARK  # a bold cross
    assert box_state(DOT) == FAINT
    assert box_state(PALE) == FAINT
    assert box_state(BLACK) == HEAVY
    assert box_state(Ink(0.85, 0.6, 0.9)) == FAINT  # half blacked out: neither a mark nor struck


def test_halves_and_large_maxima(scheme):
    q = layout(scheme, halves=True).questions[0]
    assert [g.name for g in q.groups] == ["", "半分"]
    assert decide(q, inks(q, {"7": TICK, "0.5": TICK})).value == "7.5"
    assert decide(q, inks(q, {"7": TICK})).value == "7"
    over = decide(q, inks(q, {"10": TICK, "0.5": TICK}))
    assert over.value is None and "超过" in over.reason
    assert decide(q, inks(q, {"0.5": TICK})).value is None  # the whole points left blank
    street = load("dazhou_street")
    form = next(f for f in street.forms if f.kind == "score_ballot")
    lay = ballot_layout(street, form, UNIT, "2025", criteria=[])
    q = lay.questions[0]
    assert [g.name for g in q.groups] == ["十位", "个位"] and len(q.groups[0].boxes) == 11
    assert decide(q, rows(q, "80", "5")).value == "85"
    assert decide(q, rows(q, "100", "0")).value == "100"
    assert decide(q, rows(q, "100", "5")).value is None  # 105 > 100
    assert decide(q, rows(q, "80", "")).value is None  # units left blank


def test_vote_ballot_layout_and_pages():
    dz = load("dazehu")
    form = next(f for f in dz.forms if f.kind == "vote_ballot")
    people = [Unit(f"C01-{i}", f"人员{i}", "村干部", parent="C01", post="委员", parent_name="青山村") for i in range(40)]
    lay = ballot_layout(dz, form, UNIT, "2025", members=people)
    assert len(lay.pages) == 3  # 41 people voted on: three pages, every one with its own header
    assert [q.key for q in lay.questions] == ["self", *[p.code for p in people]]
    q = lay.questions[1]
    assert decide(q, inks(q, {"较好": TICK})).value == "较好"
    assert decide(q, inks(q, {})).value is None
    assert omr.answers(q) == ["好", "较好", "一般", "差", "空白", "作废"]


# ------------------------------------------------------------------ the clerk's answers


def cols():
    return [Column(key="serial", label="票号", type="integer", required=True),
            Column(key="c01", label="细则1", type="number", min=Decimal(0), max=Decimal(10)),
            Column(key="c02", label="细则2", type="number", min=Decimal(0), max=Decimal(10)),
            Column(key="void", label="是否作废", type="option", options=["是", "否"])]


def entry(*rows):
    grid = [["title"], ["info"], ["note"], ["票号", "细则1", "细则2", "是否作废"]]
    return grid + [list(r) for r in rows]


def review(*rows):
    head = [c.label for c in review_columns()]
    return [["t"], ["i"], ["n"], head] + [[i + 1, s, "x", k, "", "", "", a] for i, (s, k, a) in enumerate(rows)]


def merged(entry_grid, review_grid, halves=False):
    grid, issues, n = apply_review(cols(), entry_grid, review_grid, file="f.xlsx", sheet="测评票", halves=halves)
    return grid, [(i.code, i.sheet, i.cell) for i in issues], n


def test_answers_are_written_as_if_typed():
    grid, issues, n = merged(entry([1, 8, ""], [2, "", 7], [3, 9, 9]), review((1, "c02", "6"), (2, "c01", 7.5)),
                             halves=True)
    assert issues == [] and n == 2
    assert grid[4][2] == "6" and grid[5][1] == "7.5"


def test_unanswered_invalid_and_conflicting_answers_are_errors():
    _, issues, _ = merged(entry([1, 8, ""]), review((1, "c02", None)))
    assert issues == [("scan-review-pending", REVIEW_SHEET, "H5")]
    _, issues, _ = merged(entry([1, 8, ""]), review((1, "c02", "7.5")))  # no halves on this ballot
    assert issues == [("scan-answer-invalid", REVIEW_SHEET, "H5")]
    _, issues, _ = merged(entry([1, 8, 5]), review((1, "c02", "6")))  # typed 5 on the entry sheet, answered 6
    assert issues == [("scan-answer-conflict", REVIEW_SHEET, "H5")]
    grid, issues, _ = merged(entry([1, 8, 6]), review((1, "c02", None)))  # typed there instead: confirmed
    assert issues == []


def test_void_and_whole_pages():
    grid, issues, _ = merged(entry([1, 8, ""], [2, "", ""]), review((1, "c02", "作废"), (1, "c01", None)))
    assert issues == [] and grid[4][3] == "是"  # one answer voids the ballot: its other items need none
    _, issues, _ = merged(entry([1, "", ""]), review((1, WHOLE, "已录入")))
    assert issues == [("scan-page-not-entered", REVIEW_SHEET, "H5")]
    _, issues, _ = merged(entry([1, 8, 9]), review((1, WHOLE, "已录入")))
    assert issues == []
    _, issues, _ = merged(entry([1, "", ""]), review((1, WHOLE, "不计入")))
    assert issues == []
    _, issues, _ = merged(entry([1, "", ""]), review((9, "c01", "7")))
    assert issues == [("scan-review-unknown", REVIEW_SHEET, "D5")]


def test_allowed_answers():
    c = cols()[1]
    assert allowed(c, False) == [*map(str, range(11)), "作废"]
    assert allowed(c, True)[:3] == ["0", "0.5", "1"]
    assert allowed(Column(key="p", label="p", type="option", options=["好", "差"]), False) == ["好", "差", "空白", "作废"]
    assert allowed(None, False) == ["已录入", "作废", "不计入"]


@pytest.fixture(scope="module")
def scheme():
    return load("pingbian")
