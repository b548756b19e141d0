"""``template --ballots scan`` → print → fill → scan (scanner PDF, phone photos) → ``villagescore scan`` → review →
``compute``: the whole session a clerk has, through the command line."""

from decimal import Decimal
import json
import re
import random
import zipfile
from pathlib import Path

import cv2
import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

import omr_sim
import township
from villagescore.cli import app
from villagescore.core.omr import ballot_layout
from villagescore.io.omr_pdf import ballots_pdf
from villagescore.io.reader import read_workbook
from villagescore.io.schemes import load

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A township's forms with readable ballots, every other form filled; scans of V1 and V2's ballots."""
    root = tmp_path_factory.mktemp("scan")
    sch = load("pingbian")
    roster, criteria, ledger = township.write_setup(sch, root / "setup")
    folder = root / "2025H1表格"
    res = run("template", "--roster", roster, "--criteria", criteria, "--ledger", ledger, "--period", "2025H1",
              "--seed", 42, "--ballots", "scan", "-o", folder)
    assert res.exit_code == 0, res.output
    for unit, spec in township.STANDARD.items():
        township.fill_unit(folder, unit, **{**spec, "ballots": []})
    township.fill_committee(folder, township.COMMITTEE)
    scans = root / "扫描件"
    scans.mkdir()
    rng = random.Random(3)
    truth: dict[tuple[str, int], dict] = {}
    batch = []

    def page(unit: str, serial: int, problems=None, handling=None) -> bytes:
        pdf = next((folder).glob(f"{unit}_*/*（机读）*.pdf")).read_bytes()
        img = omr_sim.render(pdf, 150)[serial - 1]
        lay_q = questions[unit]
        sheet = omr_sim.fill_page(img, 150, lay_q, rng, problems or {}, omr_sim.Pen(0.5, 0.85, 1.0, 0.3, serial % 2 == 0))
        truth[(unit, serial)] = sheet.truth
        out = omr_sim.handle(sheet.image, handling or omr_sim.Handling(angle=rng.uniform(-1.5, 1.5)), rng)
        return omr_sim.encode(out, 88)

    from villagescore.stages.setup import load_setup
    from villagescore.scan import Catalog

    setup, _ = load_setup(sch, roster, criteria, None)
    cat = Catalog(sch, setup)
    questions = {u: cat.layout("ballot", u, "2025H1").pages[0].questions for u in township.STANDARD}
    for serial in range(1, 11):  # V1: ten clean ballots, one upside down
        batch.append(page("V1", serial, handling=omr_sim.Handling(quarter=2) if serial == 4 else None))
    for serial in range(1, 11):  # V2: one with two boxes, one faint, one blacked out; one photographed
        problems = {3: {"c04": "double"}, 4: {"c05": "faint"}, 5: {"c01": "blackout"}}.get(serial)
        data = page("V2", serial, problems, omr_sim.Handling.rough(random.Random(serial)) if serial == 9 else None)
        if serial == 9:
            (scans / "手机拍照_河口村.jpg").write_bytes(data)
        else:
            batch.append(data)
    dup = page("V3", 1)
    batch.append(dup)  # V3 ballot 1 scanned twice (here and below): neither counts
    (scans / "补扫.jpg").write_bytes(dup)
    batch.append(omr_sim.encode(np.full((1754, 1240), 246, np.uint8), 90))  # the back of a sheet
    note = np.full((1754, 1240), 246, np.uint8)
    cv2.putText(note, "not a ballot", (150, 500), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 5)
    batch.append(omr_sim.encode(note, 90))
    # a ballot printed for the second half year, slipped in by mistake
    v4 = setup.unit("V4")
    later = ballot_layout(sch, sch.form("ballot"), v4, "2025H2", criteria=setup.criteria["V4"])
    img = omr_sim.render(ballots_pdf(later, [2]), 150)[0]
    batch.append(omr_sim.encode(omr_sim.fill_page(img, 150, later.pages[0].questions, rng).image, 88))
    (scans / "扫描批次1.pdf").write_bytes(omr_sim.scanner_pdf(batch))
    return sch, folder, scans, truth, root


@pytest.fixture(scope="module")
def scanned(session):
    sch, folder, scans, truth, root = session
    res = run("scan", scans, "-o", folder)
    return res


def entry_rows(path: Path) -> dict[int, dict]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    head = [c.value for c in ws[4]]
    out = {}
    for r in range(5, ws.max_row + 1):
        serial = ws.cell(r, 1).value
        if serial is None:
            continue
        out[int(serial)] = {head[c - 1]: ws.cell(r, c).value for c in range(2, len(head) + 1)}
    return out


def test_template_prints_readable_ballots_instead_of_the_excel_ones(session):
    sch, folder, *_ = session
    pdfs = sorted(folder.glob("*/*（机读）_2025H1.pdf"))
    assert len(pdfs) == 5 and not list(folder.glob("*/*（打印）*"))
    pages = omr_sim.render(pdfs[0].read_bytes(), 50)
    assert len(pages) == 20  # 票号 01..20, a page each
    res = run("validate", folder)
    assert "不是 Excel/WPS 工作簿" not in res.output  # the printed PDFs are not warned about


def test_scan_fills_the_entry_sheets_with_what_is_certain(session, scanned):
    sch, folder, scans, truth, root = session
    assert scanned.exit_code == 1, scanned.output  # something awaits the clerk
    assert "待人工核对" in scanned.output and "扫描读票情况_2025H1.xlsx" in scanned.output
    v1 = next(folder.glob("V1_*/*测评票录入*.xlsx"))
    rows = entry_rows(v1)
    labels = township.criterion_labels(v1)
    for serial in range(1, 11):
        want = truth[("V1", serial)]
        got = [rows[serial][label] for label in labels]
        assert got == [int(want[f"c{i:02d}"]) for i in range(1, 11)]
    assert all(all(v is None for v in rows[s].values()) for s in range(11, 21))  # not returned: blank
    ident = read_workbook(v1).identity
    assert ident["scan_read"] == "10" and ident["scan_review"] == "0" and "scan_sheet" not in ident
    assert [name for name, _ in json.loads(ident["scan_files"])] == ["扫描件/扫描批次1.pdf"]


def test_uncertain_marks_are_left_blank_and_listed_with_cut_outs(session, scanned):
    sch, folder, scans, truth, root = session
    v2 = next(folder.glob("V2_*/*测评票录入*.xlsx"))
    rows = entry_rows(v2)
    labels = township.criterion_labels(v2)
    assert rows[3][labels[3]] is None and rows[4][labels[4]] is None and rows[5][labels[0]] is None
    assert rows[3][labels[0]] == int(truth[("V2", 3)]["c01"])  # the other items of those ballots are read
    wb = openpyxl.load_workbook(v2)
    ws = wb["扫描核对"]
    items = [(ws.cell(r, 2).value, ws.cell(r, 4).value, ws.cell(r, 5).value, ws.cell(r, 6).value)
             for r in range(5, ws.max_row + 1) if ws.cell(r, 2).value is not None]
    found = {(serial, key): seen for serial, key, _, seen in items}
    assert "不止一格" in found[(3, "c04")] and "淡" in found[(4, "c05")] and "涂改" in found[(5, "c01")]
    assert (3, "c04", "E7") in [(s, k, c) for s, k, c, _ in items]  # where the answer goes on the entry sheet
    with zipfile.ZipFile(v2) as z:
        images = [n for n in z.namelist() if n.startswith("xl/media/")]
        assert len(images) == len(items)
        for n in images:  # cut-outs of a row, never a whole page
            img = cv2.imdecode(np.frombuffer(z.read(n), np.uint8), cv2.IMREAD_GRAYSCALE)
            assert img.shape[0] < 250


def test_duplicates_other_periods_and_strange_pages(session, scanned):
    sch, folder, scans, truth, root = session
    v3 = next(folder.glob("V3_*/*测评票录入*.xlsx"))
    rows = entry_rows(v3)
    assert all(v is None for v in rows[1].values())  # the serial seen twice is not read
    ws = openpyxl.load_workbook(v3)["扫描核对"]
    dup = [ws.cell(r, 6).value for r in range(5, ws.max_row + 1) if ws.cell(r, 4).value == "整票"]
    assert len(dup) == 2 and all("不止一张" in d for d in dup)
    assert not list(folder.glob("V4_*/*测评票录入*.xlsx")) or all(
        "scan_read" not in (read_workbook(p).identity or {}) for p in folder.glob("V4_*/*测评票录入*.xlsx"))
    over = openpyxl.load_workbook(folder / "扫描读票情况_2025H1.xlsx")
    loose = over["未读入的页面"]
    reasons = [loose.cell(r, 3).value for r in range(4, loose.max_row + 1)]
    assert any("2025年下半年" in r for r in reasons) and any("二维码" in r for r in reasons)
    files = over["扫描件"]
    shas = {files.cell(r, 1).value: files.cell(r, 2).value for r in range(4, files.max_row + 1)}
    import hashlib

    assert shas["扫描件/补扫.jpg"] == hashlib.sha256((scans / "补扫.jpg").read_bytes()).hexdigest()
    assert "空白页 1 页" in scanned.output
    assert not [p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".png", ".tif")]  # no scan kept


def test_compute_waits_for_the_review_then_counts_it(session, scanned):
    sch, folder, scans, truth, root = session
    out = root / "汇总.xlsx"
    res = run("compute", folder, "-o", out, "--no-archive", "--json")
    assert res.exit_code == 1
    pending = [i for i in json.loads(res.output)["issues"] if i["code"] == "scan-review-pending"]
    # V2's 3 marks, V3's 2 pages (one line when the same message stands on cells one below the other)
    cells = [re.findall(r"\d+", i["cell"]) for i in pending]  # "K7" or "K7:K8"
    assert sum(int(c[-1]) - int(c[0]) + 1 for c in cells) == 5 and all(i["sheet"] == "扫描核对" for i in pending)
    for path in folder.glob("V*_*/*测评票录入*.xlsx"):
        wb = openpyxl.load_workbook(path)
        if "扫描核对" not in wb.sheetnames:
            continue
        ws = wb["扫描核对"]
        for r in range(5, ws.max_row + 1):
            key = ws.cell(r, 4).value
            if key is None:
                continue
            ws.cell(r, 8).value = "不计入" if key == "整票" else 6
        wb.save(path)
    # V3's ballot 1 was read twice and is not counted: typed by hand from the paper
    v3 = next(folder.glob("V3_*/*测评票录入*.xlsx"))
    wb = openpyxl.load_workbook(v3)
    for c in range(2, 12):
        wb.worksheets[0].cell(5, c).value = 7
    wb.save(v3)
    res = run("compute", folder, "-o", out, "--no-archive", "--force", "--json")
    codes = {i["code"] for i in json.loads(res.output)["issues"]}
    assert not [c for c in codes if c.startswith("scan-") or c == "ballot-item-missing"]
    issues = json.loads(res.output)["issues"]
    # V3 has one ballot: too few valid; V4 and V5 had none scanned: their entry sheets are untouched (未填写)
    assert {(i["code"], i["unit"]) for i in issues} == {("too-few-valid", "V3"), ("form-empty", "V4"),
                                                        ("form-empty", "V5")}
    about = openpyxl.load_workbook(out)["说明"]
    text = "\n".join(str(c.value) for row in about.iter_rows() for c in row if c.value)
    assert "共 21 张票，机器读出 17 张，经人工核对 4 张" in text  # V1 10 + V2 7 by machine; V2 3 and V3 1 reviewed
    import hashlib

    assert hashlib.sha256((scans / "扫描批次1.pdf").read_bytes()).hexdigest() in text
    ballots = openpyxl.load_workbook(out)["测评明细"]
    assert ballots.max_row > 20


def test_scan_never_overwrites_what_was_typed_or_read(session, scanned):
    sch, folder, scans, truth, root = session
    res = run("scan", scans, "-o", folder)
    assert res.exit_code == 2 and "--force" in res.output
    v1 = next(folder.glob("V1_*/*测评票录入*.xlsx"))
    before = v1.read_bytes()
    assert v1.read_bytes() == before


def test_scan_refuses_a_folder_without_scans_and_wants_a_roster(tmp_path):
    (tmp_path / "空").mkdir()
    res = run("scan", tmp_path / "空", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "名册" in res.output


def test_vote_ballots_scanned_are_counted_per_person(tmp_path):
    """System B: B1's ballots scanned; each box ticked is one vote for that person, as if typed."""
    import test_system_b as b
    from villagescore.pipeline import compute, make_forms
    from villagescore.stages.setup import load_setup
    from villagescore.scan import Catalog, print_ballots, scan

    sch = load("dazehu")
    roster = b.make_roster(sch, tmp_path / "setup")
    folder = tmp_path / "2021表格"
    assert make_forms(sch, roster, None, None, "2021", folder, seed=3).report.errors == []
    setup, _ = load_setup(sch, roster, None, None)
    pdfs = print_ballots(sch, setup, "2021", folder)
    assert [p.name for p in pdfs] == ["B1_湖滨村_民主测评表（机读）_2021.pdf", "B2_桃花村_民主测评表（机读）_2021.pdf",
                                      "B3_新港社区_民主测评表（机读）_2021.pdf"]
    lay = Catalog(sch, setup).layout("vote", "B1", "2021")
    images = omr_sim.render(pdfs[0].read_bytes(), 150)
    rng = random.Random(1)
    pages = []
    for serial, votes in b.B1_BALLOTS:
        sheet = omr_sim.Sheet(images[serial - 1].copy(), 150)
        for q, vote in zip(lay.pages[0].questions, votes):
            box = next(x for x in q.groups[0].boxes if x.value == vote)
            omr_sim.mark(sheet, box.rect, omr_sim.Pen(0.5, 0.9, 1.0, 0.3, serial % 2 == 1), rng)
        pages.append(omr_sim.encode(omr_sim.handle(sheet.image, omr_sim.Handling(angle=1.0), rng), 88))
    scans = tmp_path / "扫描件"
    scans.mkdir()
    (scans / "湖滨村.pdf").write_bytes(omr_sim.scanner_pdf(pages))
    run = scan(sch, setup, scans, folder)
    assert (run.machine_read, run.for_review) == (4, 0)
    b.ballots(folder, "B3", b.B3_BALLOTS)
    from villagescore.demo import fill

    fill(township.find(folder, "vote", "B2"), [{"代码": k, "好": a, "较好": c2, "一般": d, "差": e}
                                              for k, (a, c2, d, e) in b.B2_TALLY.items()], match="代码",
         sheet="测评结果汇总")
    b.township_sheets(folder)
    result = compute(sch, [folder])
    b12 = b.unit(result, "B1-2").rounded  # 钱晓燕: 较好 3, 一般 1 → (240 + 60)/4 = 75; 较好以上 75%
    assert (b12["vote_score"], b12["fine_rate"]) == (Decimal("75.00"), Decimal("75.00"))
    assert "4 张票，机器读出 4 张" in result.scan_note
