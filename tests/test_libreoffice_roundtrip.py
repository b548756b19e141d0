"""Our templates saved again by LibreOffice as .xlsx, .xls and .ods read exactly like the originals.

Offices open the forms in WPS, Excel or LibreOffice and save them in whatever format the program
proposes; ``soffice --headless --convert-to`` does the same here. Skipped when soffice is missing.
"""

from __future__ import annotations

import shutil

import pytest

from villagescore.core.layout import IDENTITY_SHEET
from villagescore.io.reader import read_workbook
from villagescore.pipeline import compute

from test_ingest_corpus import convert, township_copy
from township import find

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None,
                                reason="LibreOffice (soffice) is not installed: cannot re-save the templates")

FORMS = ("ballot", "callback", "questionnaire", "anonymous")
PLAN = {"V1": "xls", "V2": "ods", "V3": "xlsx"}  # which unit's files go through which format


@pytest.fixture(scope="module")
def resaved(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "lo")
    originals = {(u, f): find(folder, f, u) for u in PLAN for f in FORMS}
    originals["", "committee"] = find(folder, "committee")
    originals["", "roster"] = folder / "00_基础信息" / "名册.xlsx"
    common = [("", "committee"), ("", "roster")]
    paths = {fmt: [originals[k] for k in [(u, f) for f in FORMS] + common] for u, fmt in PLAN.items()}
    got = convert(paths, folder.parent / "out")  # each format: one unit's forms, the committee form, the roster
    converted = {(key, fmt): got[p.stem, fmt] for key, p in originals.items() for fmt in PLAN.values()
                 if (p.stem, fmt) in got}
    if len(converted) != sum(map(len, paths.values())):
        pytest.skip("LibreOffice did not convert every file")
    return folder, originals, converted


def _tidy(grid):
    """Trailing blank cells and rows are not content (LibreOffice keeps styled empty cells)."""
    rows = [list(r) for r in grid]
    for r in rows:
        while r and r[-1] in ("", None):
            r.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_every_sheet_reads_the_same(resaved, fmt):
    _, originals, converted = resaved
    for key, src in originals.items():
        if (key, fmt) not in converted:
            continue
        a, b = read_workbook(src), read_workbook(converted[key, fmt])
        assert b.format == fmt
        assert b.identity == a.identity and b.hidden == a.hidden == {IDENTITY_SHEET}
        assert b.sheet_order == a.sheet_order
        for name in a.sheet_order:
            assert _tidy(b.sheets[name]) == _tidy(a.sheets[name]), (key, fmt, name)
        assert (b.trimmed, b.hidden_rows, b.macros) == ({}, {}, False)


def test_resaved_township_computes_the_same(resaved, scheme, tmp_path):
    folder, originals, converted = resaved
    mixed = tmp_path / "mixed"
    shutil.copytree(folder, mixed)
    for unit, fmt in PLAN.items():
        for form in FORMS:
            src = originals[unit, form]
            target = mixed / src.relative_to(folder)
            target.unlink()
            shutil.copy(converted[(unit, form), fmt], target.with_suffix(f".{fmt}"))
    before, after = compute(scheme, [folder]), compute(scheme, [mixed])
    assert after.report.errors == [] and after.report.warnings == before.report.warnings == []

    def table(res):
        return [(u.code, u.rounded, {k: g.grade for k, g in u.grades.items()}) for u in res.units]

    assert table(after) == table(before)
    assert sum(f.path.endswith((".xls", ".ods")) and f.status == "已读取" for f in after.files) == 8
