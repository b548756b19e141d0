"""The summary workbook the committee signs and the county audits, written with xlsxwriter in row order.

Sheets: 汇总, 图表, 分项得分, 得分依据, 等次配额, (名单, 整改事项,) 测评明细, 问题清单, 说明; ``build_public``
writes the 公示 version, ``build_issue_list`` a stand-alone 问题清单. Every text that came from an input is
written as a text (never a formula). When the RunResult carries the scheme's weights (``node_formulas``, see
``core/explain.py``), the weighted scores in 汇总 and 分项得分 are live formulas over the leaf values kept in
分项得分, with their computed values cached; otherwise numbers rounded half up to ``result.places`` decimals.
Every sheet is set up to print on A4 (``io/page.py``).

Three layers:

* ``engine.py``: the grid of recorded rows, measured and then written row by row (rows of plain values as
  XML, ``io/xlsx_private.RowSink``); formats; the workbook;
* ``trace.py``: which score is a formula, and the formula;
* ``sheets.py`` and ``charts.py``: what each sheet holds (``common.py``: what they show alike).
"""

from __future__ import annotations

from villagescore.core.explain import period_label
from villagescore.core.issues import Report
from villagescore.core.records import RunResult
from villagescore.io.summary.engine import build_workbook
from villagescore.io.summary.sheets import write_issues, write_public, write_summary


def build_summary(result: RunResult) -> bytes:
    """The summary workbook (汇总 … 说明) as .xlsx bytes."""
    title = f"{result.scheme_name} {period_label(result.period)} 考评结果汇总"
    return build_workbook(title, result.computed_at, lambda book: write_summary(book, result), "summary")


def build_public(result: RunResult) -> bytes:
    """The 公示 version: ranks, unit names, secretaries, final scores and grades only, ready to print and post."""
    title = f"{result.scheme_name} {period_label(result.period)} 考评结果公示"
    return build_workbook(title, result.computed_at, lambda book: write_public(book, result, title), "public")


def build_issue_list(report: Report, title: str = "问题清单") -> bytes:
    """A stand-alone 问题清单 workbook, the same sheet as in the summary."""
    return build_workbook(title, "", lambda book: write_issues(book, report, title), "issues")


__all__ = ["build_summary", "build_public", "build_issue_list"]
