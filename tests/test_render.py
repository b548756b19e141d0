"""Every sample's summary and every kind of form, printed through LibreOffice to PDF, read back with poppler.

What is asserted of each PDF: its page count; the size every text prints at (no page below about 8 pt:
a word's box is 1.3 × its printed size); no ###### (a number too wide for its column); and on 图表 that
every chart prints whole on one page, under its own title, no two titles on one another. All files are
converted in one LibreOffice call (about 15 s for the lot on this machine's two cores).

LibreOffice sizes Excel's column widths from the workbook's default font, Calibri; with Carlito (the font
with Calibri's metrics) it prints them as Excel does. Without Carlito the widths come out a third wider
and the sizes asserted here mean nothing: the test is skipped with that reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from villagescore.io import page
from villagescore.io.schemes import load
from villagescore.io.summary import build_summary
from villagescore.pipeline import compute

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SMALLEST = 7.9  # points: the smallest printed text allowed ("about 8 pt")
HEIGHT = 1.3  # a word's box height over its font size, as pdftotext reports it


def _missing() -> str:
    for tool in ("soffice", "pdftotext", "pdfinfo", "fc-match"):
        if not shutil.which(tool):
            return f"没有 {tool}（LibreOffice / poppler-utils / fontconfig），无法检查打印效果"
    font = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True).stdout
    if "Carlito" not in font:
        return "没有 Carlito 字体（fonts-crosextra-carlito），LibreOffice 的列宽与 Excel 不同，打印比例无从检查"
    return ""


pytestmark = pytest.mark.skipif(bool(_missing()), reason=_missing() or "ok")

SUMMARIES = {
    "A_qingshi": ("pingbian", [SAMPLES / "qingshi" / "2025H1表格", SAMPLES / "qingshi" / "2025H2表格"], "2025"),
    "B_qinghu": ("dazehu", [SAMPLES / "qinghu" / "2025表格"], None),
    "C_lanxi": ("county_dynamic", [SAMPLES / "lanxi" / t / "2025Q2表格" for t in ("云岭镇", "石湾镇", "河西街道")], None),
    "D_yunhe": ("dazhou_street", [SAMPLES / "yunhe" / "2024表格"], None),
    "E_taoyuan": ("shuocheng", [SAMPLES / "taoyuan" / "2024表格"], None),
}

# blank forms as ``template`` writes them (what a clerk prints): township, scheme, setup folder, then one file of
# every kind of form by a part of its name
TEMPLATES = [("qingshi", "pingbian", "2025H1", {
    "score_ballot": "测评票录入", "score_ballot_print": "测评票（打印）", "callback": "回访核查表", "tally": "问卷统计表",
    "register": "匿名评价登记表", "unit_scores": "乡党委县委评分表", "roster": "名册", "criteria": "考核细则",
    "ledger": "民生诉求台账"}),
    ("qinghu", "dazehu", "2025", {"vote_ballot": "民主测评表录入", "vote_ballot_print": "民主测评表（打印）",
                                  "tracked_register": "问题整改清单", "review": "综合评价表"}),
    ("yunhe", "dazhou_street", "2024", {"department": "党建办评分表", "leaders_print": "党政领导评议票（打印）",
                                        "village_vote": "村述村评统计表", "office": "站办所"}),
    ("lanxi/云岭镇", "county_dynamic", "2025Q1", {"township_register": "加减分登记表"}),
    ("taoyuan", "shuocheng", "2024", {"organisation": "定量考核组织评价得分表"}),
]
FORMS = [kind for *_, kinds in TEMPLATES for kind in kinds]


def _forms(folder: Path) -> dict[str, Path]:
    from villagescore.pipeline import make_forms

    out = {}
    for town, scheme, period, kinds in TEMPLATES:
        base = SAMPLES / town / "基础信息"
        extra = [base / n if (base / n).exists() else None for n in ("考核细则.xlsx", "民生诉求台账.xlsx")]
        target = folder / "forms" / town.replace("/", "_")
        make_forms(load(scheme), base / "名册.xlsx", *extra, period, target, seed=1)
        files = sorted(target.rglob("*.xlsx"))
        for kind, part in kinds.items():
            out[kind] = next(f for f in files if part in f.name)
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """name → its PDF: the five summaries and the blank forms, converted in one LibreOffice call."""
    folder = tmp_path_factory.mktemp("render")
    for name, (scheme, folders, period) in SUMMARIES.items():
        (folder / f"{name}.xlsx").write_bytes(build_summary(compute(load(scheme), folders, period=period)))
    for name, path in _forms(folder).items():
        shutil.copy(path, folder / f"form_{name}.xlsx")
    profile = folder / "profile"
    files = sorted(folder.glob("*.xlsx"))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), *map(str, files)], capture_output=True, timeout=300)
    return {f.stem: f.with_suffix(".pdf") for f in files}


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
_PAGE = re.compile(r"<page [^>]*>(.*?)</page>", re.S)


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (x0, y0, x1, y1, text), in points from the page's top left."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    return [[(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in _WORD.findall(p)]
            for p in _PAGE.findall(xml)]


def _footer(word, height: float = 595.3) -> bool:
    return word[1] > height - 45  # the page number line, printed at its own size


@pytest.mark.parametrize("name", [*SUMMARIES, *(f"form_{k}" for k in FORMS)])
def test_prints_legibly(rendered, name):
    pdf = rendered[name]
    assert pdf.exists(), f"{name}: LibreOffice wrote no PDF"
    pages = _words(pdf)
    assert len(pages) == _pages(pdf) and pages
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "###" not in text, f"{name}: a number too wide for its column"
    for i, words in enumerate(pages, 1):
        sizes = [(w[3] - w[1]) / HEIGHT for w in words if w[4].strip() and not _footer(w)]
        assert not sizes or min(sizes) >= SMALLEST, f"{name} page {i}: text printed at {min(sizes):.1f} pt"


EXPECTED_PAGES = {"A_qingshi": (20, 45), "B_qinghu": (20, 45), "C_lanxi": (10, 30), "D_yunhe": (30, 60),
                  "E_taoyuan": (8, 20)}


@pytest.mark.parametrize("name", SUMMARIES)
def test_summary_page_count(rendered, name):
    lo, hi = EXPECTED_PAGES[name]
    assert lo <= _pages(rendered[name]) <= hi


def _chart_sheet_pages(words_by_page: list) -> list[int]:
    return [i for i, words in enumerate(words_by_page) if any("图表" in w[4] for w in words[:12])]


@pytest.mark.parametrize("name", SUMMARIES)
def test_charts_whole_on_their_pages(rendered, name, tmp_path):
    """On 图表, text right of the tables (a chart's labels) is always under a chart title on the same page,
    every chart title prints once, and no two titles overlap."""
    scheme, folders, period = SUMMARIES[name]
    path = rendered[name].with_suffix(".xlsx")
    ws = openpyxl.load_workbook(path)["图表"]
    ncols = max((c.column for row in ws.iter_rows(min_row=2) for c in row if c.value is not None and c.column < 8))
    left = page.MARGINS["left"] * 72
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width for c in range(1, ncols + 1)]
    table_right = left + sum(map(page.column_points, widths))
    titles_seen = []
    for words in _words(rendered[name]):
        heading = [w[1] for w in words if w[4].endswith("图表")]  # the sheet's title line
        charted = [w for w in words if w[0] > table_right + 4 and not _footer(w)
                   and not any(abs(w[1] - y) < 2 for y in heading)]
        titles = [w for w in charted if "（按得分从高到低）" in w[4] or "分布（单位数）" in w[4]]
        if not charted:
            continue
        if not any("图表" in w[4] for w in words) and not titles:
            continue  # a page of another sheet as wide as the tables and more
        assert titles, f"{name}: a chart's labels on a page without its title (a chart crossing a page break)"
        top = min(t[1] for t in titles)
        assert all(w[1] >= top - 2 for w in charted), f"{name}: chart text above the first title on its page"
        for a in titles:
            for b in titles:
                if a is not b:
                    assert a[3] <= b[1] or b[3] <= a[1] or a[2] <= b[0] or b[2] <= a[0], f"{name}: titles overlap"
        titles_seen += [t[4] for t in titles]
    assert titles_seen and len(titles_seen) == len(set(titles_seen))
