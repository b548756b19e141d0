"""Reading scanned pages: printed, filled with pen-like marks, handled as a scanner or a phone would, read back.

Each uncertainty the issue names (two boxes, a faint mark, a crossed-out box, a blank, a page that cannot be
aligned, a page printed from another layout) is made on purpose and must come back without a value."""

import random
from decimal import Decimal

import cv2
import numpy as np
import pytest

import omr_sim
from villagescore.core.omr import ballot_layout
from villagescore.core.records import Criterion, Unit
from villagescore.io.omr_pdf import ballots_pdf
from villagescore.io.omr_read import iter_pages, read_file_pages, read_page
from villagescore.io.schemes import load

UNIT = Unit("C01", "青山村", "村")
ASPECTS = ["班子队伍", "产业发展", "为民服务", "乡村环境", "工作实绩"]
CRIT = [Criterion("C01", ASPECTS[i // 2], i + 1, f"考核细则第{i + 1}项，内容较长时换行显示", Decimal(10)) for i in range(10)]


@pytest.fixture(scope="module")
def score():
    sch = load("pingbian")
    lay = ballot_layout(sch, sch.form("ballot"), UNIT, "2025H1", criteria=CRIT)
    pdf = ballots_pdf(lay, [1, 2, 3])
    return lay, pdf, omr_sim.render(pdf, 150)


@pytest.fixture(scope="module")
def vote():
    dz = load("dazehu")
    form = next(f for f in dz.forms if f.kind == "vote_ballot")
    people = [Unit(f"C01-{i}", n, "村干部", parent="C01", post=p, parent_name="青山村")
              for i, (n, p) in enumerate([("林晓东", "村委会主任"), ("周海燕", "妇联主席"), ("吴国平", "监委会主任")])]
    lay = ballot_layout(dz, form, UNIT, "2025", members=people)
    return lay, omr_sim.render(ballots_pdf(lay, [5]), 150)


def fill(lay, image, seed, problems=None, dpi=150, rough=False, pen=None):
    rng = random.Random(seed)
    sheet = omr_sim.fill_page(image, dpi, lay.pages[0].questions, rng, problems or {}, pen)
    h = omr_sim.Handling.rough(rng) if rough else omr_sim.Handling.clean(rng)
    out = omr_sim.handle(sheet.image, h, rng)
    data = omr_sim.encode(out, h.jpeg or 90)
    return sheet, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def read(lay, image):
    return read_page(image, lambda p: lay if p.fingerprint == lay.fingerprint else None, "扫描件.jpg", 1)


def values(page):
    return {k: d.value for k, d in page.decisions.items()}


def test_clean_scans_read_exactly_whatever_the_orientation(score):
    lay, _, images = score
    for seed, turns in ((1, 0), (2, 2), (3, 1)):
        sheet, img = fill(lay, images[0], seed)
        for _ in range(turns):  # a quarter, or upside down
            img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
        page = read(lay, img)
        assert page.status == "read" and page.payload.serial == 1
        assert values(page) == sheet.truth
        assert page.cuts == {}  # nothing uncertain: no cut-out kept


def test_phone_photographs_read_or_sent_to_review_never_wrong(score):
    lay, _, images = score
    right = 0
    for seed in range(4):
        sheet, img = fill(lay, images[1], 10 + seed, rough=True)
        page = read(lay, img)
        assert page.status == "read" and page.payload.serial == 2
        for k, v in values(page).items():
            assert v is None or v == sheet.truth[k]
            right += v == sheet.truth[k]
    assert right >= 36  # of 40 marks; the rest, if any, to review


@pytest.mark.parametrize("problem, reason", [("double", "不止一格"), ("faint", "淡"), ("blackout", "涂改"),
                                             ("blank", "空白"), ("tiny", "淡")])
def test_each_uncertain_mark_goes_to_review_with_a_cut_out(score, problem, reason):
    lay, _, images = score
    sheet, img = fill(lay, images[2], 7, {"c03": problem}, pen=omr_sim.Pen(0.5, 0.9, 1.0, 0.3, True))
    page = read(lay, img)
    d = page.decisions["c03"]
    assert d.value is None and reason in d.reason
    assert set(page.cuts) == {"c03"}
    cut = cv2.imdecode(np.frombuffer(page.cuts["c03"], np.uint8), cv2.IMREAD_GRAYSCALE)
    assert cut.shape[0] < 40 * 6 and cut.shape[1] < 190 * 6  # one row and its labels, not the page
    others = {k: v for k, v in values(page).items() if k != "c03"}
    assert others == {k: v for k, v in sheet.truth.items() if k != "c03"}


def test_vote_ballot(vote):
    lay, images = vote
    sheet, img = fill(lay, images[0], 4)
    page = read(lay, img)
    assert page.status == "read" and page.payload.serial == 5
    assert values(page) == sheet.truth and set(sheet.truth.values()) <= {"好", "较好", "一般", "差"}


def test_a_page_that_cannot_be_aligned(score):
    lay, _, images = score
    rng = random.Random(5)
    sheet = omr_sim.fill_page(images[0], 150, lay.pages[0].questions, rng)
    img = omr_sim.handle(sheet.image, omr_sim.Handling(angle=1.0), rng)
    h, w = img.shape
    cut = img[: int(h * 0.8), :].copy()  # the bottom of the page (both bottom corner marks) not in the picture
    page = read(lay, cut)
    assert page.status == "unaligned" and page.decisions == {} and page.thumb
    assert "定位方块" in page.detail


def test_pages_that_are_not_ballots_of_this_layout(score):
    lay, _, images = score
    blank = np.full((1754, 1240), 245, np.uint8)
    assert read(lay, blank).status == "blank"  # the back of a sheet
    text = blank.copy()
    cv2.putText(text, "meeting notes", (200, 400), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 6)
    page = read(lay, text)
    assert page.status == "no-code" and page.thumb
    sheet, img = fill(lay, images[0], 6)
    page = read_page(img, lambda p: None, "x.jpg", 1)  # a ballot of a unit this run does not know
    assert page.status == "unknown"
    other = ballot_layout(load("pingbian"), load("pingbian").form("ballot"), UNIT, "2025H1",
                          criteria=[*CRIT[:9], Criterion("C01", "工作实绩", 10, "印票后改过的细则", Decimal(10))])
    page = read_page(img, lambda p: other, "x.jpg", 1)  # printed before the criteria changed
    assert page.status == "layout" and page.decisions == {}


def test_pdf_pages_scanner_and_printed(score, tmp_path):
    lay, pdf, images = score
    sheet, img = fill(lay, images[0], 8)
    scanned = tmp_path / "扫描仪.pdf"
    scanned.write_bytes(omr_sim.scanner_pdf([omr_sim.encode(img, 85), omr_sim.encode(img, 85)]))
    pages = list(read_file_pages(scanned, "扫描仪.pdf", lambda p: lay))
    assert [p.page for p in pages] == [1, 2] and all(values(p) == sheet.truth for p in pages)
    assert [n for n, _, render in iter_pages(scanned)] == [1, 2]
    printed = tmp_path / "打印件.pdf"
    printed.write_bytes(pdf)  # a PDF that is not one JPEG a page: rendered
    pages = list(read_file_pages(printed, "打印件.pdf", lambda p: lay, range(2, 3)))
    assert len(pages) == 1 and pages[0].payload.serial == 2 and set(values(pages[0]).values()) == {None}
    png = tmp_path / "照片.png"
    png.write_bytes(omr_sim.encode(img, 0))
    assert values(next(read_file_pages(png, "照片.png", lambda p: lay))) == sheet.truth
