"""The summary as kept in golden files (tests/golden/), and its rows of plain values written as XML the same.

Three summaries cover what the writer does: 青石镇's year (system A: formulas over 分项得分, AVERAGEIFS over
测评明细, each unit's own criteria, earlier periods beside the year, charts), 青湖街道's year (system B: votes
per person, people beside their units, one 等次 column for several gradings, lists) and a made-up run whose
values lie on and near rounding boundaries (values written in place of formulas, with cell comments); and
青石镇's 公示. Every summary is written row by row in xlsxwriter's constant_memory mode (inline strings).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import golden
from villagescore.core.numbers import round_half_up
from villagescore.io import summary as S
from villagescore.io.summary import engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
WHEN = "2025-07-05 10:30:00"  # the run's time is written in the file: fixed, for the same bytes


@pytest.fixture(scope="module")
def results():
    from test_summary_recalc import boundary_result

    from villagescore.io.schemes import load
    from villagescore.pipeline import compute

    out = {
        "qingshi-2025": compute(load("pingbian"), [SAMPLES / "qingshi" / "2025H1表格", SAMPLES / "qingshi" / "2025H2表格"],
                                period="2025"),
        "qinghu-2025": compute(load("dazehu"), [SAMPLES / "qinghu" / "2025表格"]),
        "boundary": boundary_result(),
    }
    for r in out.values():
        r.computed_at, r.tool_version = WHEN, "0.1.0"
    return out


@pytest.mark.parametrize("name", ["qingshi-2025", "qinghu-2025", "boundary"])
def test_summary_as_kept(results, update_golden, name):
    result = results[name]
    assert result.ballots  # 测评明细 has rows
    golden.check(f"summary-{name}.xlsx", S.build_summary(result), update_golden)


def test_public_as_kept(results, update_golden):
    golden.check("public-qingshi-2025.xlsx", S.build_public(results["qingshi-2025"]), update_golden)


def test_rows_of_plain_values_written_as_xlsxwriter_writes_them(results, monkeypatch):
    """Rows of plain values go to the sheet as XML (``xlsx_private.RowSink``): the very bytes of writing each
    cell through xlsxwriter's methods."""
    from villagescore.io import xlsx_private

    for name, result in results.items():
        fast = S.build_summary(result), S.build_public(result)
        with monkeypatch.context() as m:
            m.setattr(xlsx_private.RowSink, "usable", staticmethod(lambda ws: False))
            slow = S.build_summary(result), S.build_public(result)
        assert fast == slow, name


def test_text_width_and_number_shortcuts():
    """The caches behind the widths and numbers give what the plain computation gives."""
    import unicodedata

    def width(text: str) -> int:
        return max((sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
                    for line in text.split("\n")), default=0)

    def lines(text: str, w: float) -> int:
        room = max((w - 1) * 1.1, 1)
        return sum(max(1, math.ceil(width(line) / room)) for line in text.split("\n"))

    for t in ["", "abc", "a\nbcdef", "青山村", "青山\nabcdefg", "１２", "forms/C1_青山村/x.xlsx", "\n", "é"]:
        for _ in range(2):  # the second time from the cache
            assert engine.text_width(t) == width(t)
            for w in (1, 5, 8.5, 40):
                assert engine.line_count(t, w) == lines(t, w)

    class Book:
        def add_format(self, props):
            return tuple(sorted(props.items()))

    st = engine.Styles(Book(), 2)  # type: ignore[arg-type]
    values = [Decimal("0"), Decimal("-0"), Decimal("-0.001"), Fraction(-1, 1000), Decimal("87.0"), Decimal("87"),
              Fraction(17, 2), Decimal("8.5"), Decimal("8.50"), Decimal("0.005"), Decimal("-0.005"), Fraction(1, 3),
              Decimal("12345.6789")]
    for places in (None, 0, 2, 10):
        for v in values + values:  # the second round comes from the cache
            rounded = v if places is None else round_half_up(v, places)
            shown, w = st.number(v, places)
            assert (shown, w) == (float(rounded), len(f"{round_half_up(rounded, 2):f}"))
            assert math.copysign(1, shown) == math.copysign(1, float(rounded))
    for fmt in ({}, {"align": "center"}, {"bold": True, "align": "center"}, {"align": "center", "bold": True}):
        assert st.cell("blank", fmt) == st(border=1, **fmt)
        assert st.cell("int", fmt) == st(border=1, num_format="0", **fmt)
        assert st.cell("text", fmt) == st(border=1, text_wrap=True, **fmt)
        assert st.cell("num", fmt) == st(border=1, num_format=st.num, **fmt)
