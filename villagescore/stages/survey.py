"""Online questionnaire exports among the folders read: found, counted per unit for the periods computed, and
put in the place of the blank tally workbooks ``template`` wrote (``core/survey.py`` does the counting).

Three steps of checking (``pipeline.check_folders``): ``find_exports`` before the office's own tables are matched
(an export is a workbook without an identity record); ``add_tallies`` once the periods are chosen (an export
covering the year gives each half its own responses, and does not decide which period is computed); and
``settle`` once the forms are parsed (a unit's tally workbook nobody typed into gives way to the export; one
with counts typed in conflicts with it, as two files of one form always do).

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from villagescore.core.issues import Report, issue
from villagescore.core.periods import Period, periods_in
from villagescore.core.records import FormData, Setup
from villagescore.core.scheme import Scheme, Tally
from villagescore.core.survey import Counted, count, find_columns, missing_columns

SURVEY_KEY = "survey"  # FormData.meta key: the rows were counted from an export, not parsed from a sheet


@dataclass
class Export:
    name: str  # the file as shown
    sheet: str
    sha256: str
    form: Tally
    counted: Counted
    periods_in_name: set[str] = field(default_factory=set)


def find_exports(scheme: Scheme, setup: Setup, col, report: Report) -> list[Export]:
    """Workbooks without an identity record that are a survey form's export: counted, and taken out of the
    office's own tables."""

    forms = [(f, f.survey) for f in scheme.forms if f.survey is not None]  # (a tally, its questionnaire)
    found: list[Export] = []
    if not forms:
        return found
    for name in list(col.foreign):
        wb = col.workbooks[name]
        hits = []
        for sheet in wb.visible():
            grid = wb.sheets[sheet]
            for form, survey in forms:
                cols = find_columns(form, grid)
                if cols is None:
                    missing = missing_columns(form, grid)
                    if missing and len(missing) < len(survey.questions):
                        for label in missing:
                            report.add(issue("survey-column-missing", file=name, sheet=sheet, label=label))
                    continue
                units = [u for u in setup.units if not u.parent and form.applies(u.type)]
                counted = count(form, grid, cols, units, period_kind=scheme.scheme.period_kind, file=name, sheet=sheet)
                report.extend(counted.issues)
                hits.append(Export(name, sheet, wb.sha256, form, counted, periods_in(f"{sheet} {name}")))
        if hits:
            found.extend(hits)
            col.foreign.remove(name)
            col.status(name, "网上问卷导出表")
    return found


def add_tallies(scheme: Scheme, col, exports: list[Export], periods: list[str], report: Report) -> None:
    """Each export's tallies of the periods computed, as forms of their units (responses of other periods are
    left out and said so; undated ones count for the one period computed, else the file must name it)."""
    for ex in exports:
        per_unit: dict[tuple[str, str], list] = {}
        used = other = 0
        undated_period = ""
        if len(ex.periods_in_name) == 1:
            undated_period = next(iter(ex.periods_in_name))
        elif len(periods) == 1:
            undated_period = periods[0]
        for (code, period), rows in ex.counted.tallies.items():
            n = ex.counted.responses.get((code, period), 0)
            target = period or undated_period
            if not target:
                report.add(issue("foreign-period-unknown", file=ex.name, sheet=ex.sheet, unit=code, form=ex.form.title,
                                 periods="、".join(periods)))
                continue
            if target not in periods:
                other += n
                continue
            used += n
            key = (code, target)
            if key in per_unit:  # dated and undated responses of the same period: one tally
                per_unit[key] = [_add(a, b, ex.form) for a, b in zip(per_unit[key], rows)]
            else:
                per_unit[key] = rows
        for (code, period), rows in sorted(per_unit.items()):
            col.forms.append(FormData(ex.form.id, code, period, ex.name, ex.sheet, ex.sha256, rows,
                                      {SURVEY_KEY: "1", "unit_how": "问卷中填写的村（社区）", "period_how": "答卷的提交时间"}))
        label = "、".join(Period.parse(p).label for p in periods)
        extra = f"；其他期间的 {other} 份未计入" if other else ""
        report.add(issue("survey-read", file=ex.name, sheet=ex.sheet, count=used,
                         units=len({c for c, _ in per_unit}), period=label + extra))


def _add(a, b, form: Tally):
    from villagescore.core.records import Row

    return Row({"row": a.values["row"], **{o: (a.values.get(o) or Decimal(0)) + (b.values.get(o) or Decimal(0))
                                           for o in form.options}}, 0)


def settle(col, report: Report) -> None:
    """A unit's tally workbook with nothing typed in gives way to the export's tally of the same unit and period."""
    surveyed = {(fd.form_id, fd.unit, fd.period) for fd in col.forms if fd.meta.get(SURVEY_KEY)}
    if not surveyed:
        return
    blank = set()
    for fd in list(col.forms):
        if fd.meta.get(SURVEY_KEY) or (fd.form_id, fd.unit, fd.period) not in surveyed:
            continue
        if all(not isinstance(v, Decimal) for r in fd.rows for k, v in r.values.items() if k != "row"):
            col.forms.remove(fd)
            col.status(fd.file, "未填写，以网上问卷导出表为准")
            blank.add(fd.file)
    if blank:
        report.issues = [i for i in report.issues if not (i.file in blank and i.code in ("form-empty", "missing-value"))]


__all__ = ["find_exports", "add_tallies", "settle", "SURVEY_KEY"]
