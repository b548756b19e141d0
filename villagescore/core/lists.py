"""The scheme's lists (约谈名单, pending adjustments …) and tracked items (问题整改清单) from graded results and
the rows of the period's forms. Pure: rows and results in, records out.
"""

from __future__ import annotations

from decimal import Decimal

from villagescore.core.numbers import plain
from villagescore.core.records import Item, ListEntry, ListResult, Row, UnitResult
from villagescore.core.scheme import Scheme


def _text(value) -> str:
    if value is None:
        return ""
    return plain(value) if isinstance(value, Decimal) else str(value)


def make_lists(scheme: Scheme, results: list[UnitResult], rows: dict[str, dict[str, list[Row]]]):
    """The scheme's lists: units with the listed grades (rank order) and their matching rows, or every unit
    with matching rows."""
    out = []
    for lst in scheme.lists:
        form = scheme.form(lst.form) if lst.form else None
        columns = {c.key: c for c in form.columns} if form else {}  # the scheme checks a list's columns exist
        keys = lst.columns or list(columns)
        labels = [columns[k].label for k in keys] if form else []
        entries = []
        for r in results:
            grade = ""
            if lst.grading:
                gr = r.grades.get(lst.grading)
                if gr is None or gr.grade not in lst.grades:
                    continue
                grade = gr.grade
            matching = [x for x in (rows.get(form.id, {}).get(r.code, []) if form else [])
                        if all(x.get(k) in allowed for k, allowed in lst.where.items())]
            if not lst.grading and not matching:
                continue
            entries.append(ListEntry(r.code, r.unit.full_name, r.unit.township, grade,
                                     [[_text(x.get(k)) for k in keys] for x in matching]))
        out.append(ListResult(lst.id, lst.title, lst.text, labels, entries))
    return out


def tracked_items(scheme: Scheme, period: str, rows: dict[str, dict[str, list[Row]]]):
    """The rows of tracked registers (问题整改清单) as items, in form, unit and row order."""
    out = []
    for form in scheme.forms:
        t = form.track
        if t is None:
            continue
        for code in sorted(rows.get(form.id, {})):
            for r in rows[form.id][code]:
                problem = _text(r.get(t.problem))
                if problem:
                    status = _text(r.get(t.status))
                    out.append(Item(code, period, problem, _text(r.get(t.measure)), _text(r.get(t.owner)),
                                    _text(r.get(t.deadline)), status, status in t.open))
    return out
