"""Reading what the office fills once: the roster (名册), criteria (考核细则) and appeals ledger.

Each file is read with ``read_workbook`` and parsed with ``parse_table`` against
``layout.setup_columns``; problems become issues in the Report, never exceptions.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, NamedTuple

from villagescore.core.issues import Issue, Report, issue
from villagescore.core.layout import PEOPLE_SHEET, SETUP_TITLES, people_columns, setup_columns
from villagescore.core.records import Criterion, LedgerEntry, Row, Setup, Unit
from villagescore.core.scheme import Scheme
from villagescore.core.tables import find_header, parse_table
from villagescore.io.reader import FileRefused, Workbook, file_issues, read_workbook, sheet_issues


class _Read(NamedTuple):
    rows: list[Row]
    file: str
    sheet: str
    people: tuple[list[Row], str] | None = None  # the roster's people sheet (人员名单): rows and sheet name


Read = Callable[[Path], Workbook]  # a file's workbook (raises FileRefused): read_workbook, or one already read


def _read_rows(path: Path, form_id: str, scheme: Scheme, report: Report, people: bool = False,
               read: Read = read_workbook) -> _Read | None:
    """Parsed rows of a setup file, plus the file and sheet names for issues; None if unusable. With
    ``people`` (a scheme that evaluates people) the roster's people sheet is parsed too."""
    file = str(path)
    try:
        wb = read(Path(path))
    except FileRefused as exc:
        report.add(exc.issue(file))
        return None
    ident = wb.identity or {}
    found = ident.get("form_id", "")
    if found and found != form_id:
        titles = {**{f.id: f.title for f in scheme.forms}, **SETUP_TITLES}
        report.add(issue("setup-wrong-form", file=file, found=titles.get(found, found),
                         expected=SETUP_TITLES[form_id]))
        return None
    columns = setup_columns(form_id, scheme)
    # our template names its sheet; a clerk's own file: the first visible sheet with the header
    visible = wb.visible()
    sheet = ident.get("sheet") or next((s for s in visible if find_header(wb.sheets[s], columns)), "") or next(
        iter(visible), "")
    if sheet not in wb.sheets:
        report.add(issue("sheet-missing", file=file, sheet=sheet or SETUP_TITLES[form_id]))
        return None
    rows, issues, _ = parse_table(wb.sheets[sheet], columns, file=file, sheet=sheet)
    report.extend(with_unit(issues, rows, "code" if form_id == "roster" else "unit"))
    used, found_people = {sheet}, None
    if people:
        pcols = people_columns(scheme)
        psheet = PEOPLE_SHEET if PEOPLE_SHEET in wb.sheets else next(
            (s for s in visible if s != sheet and find_header(wb.sheets[s], pcols)), "")
        if not psheet:
            report.add(issue("sheet-missing", file=file, sheet=PEOPLE_SHEET))
        else:
            prows, pissues, _ = parse_table(wb.sheets[psheet], pcols, file=file, sheet=psheet)
            report.extend(with_unit(pissues, prows, "parent"))
            report.extend(sheet_issues(wb, file, psheet, [r.row for r in prows]))
            found_people = (prows, psheet)
            used.add(psheet)
    report.extend(file_issues(wb, file, used) + sheet_issues(wb, file, sheet, [r.row for r in rows]))
    return _Read(rows, file, sheet, found_people)


def with_unit(issues: list[Issue], rows: list[Row], key: str) -> list[Issue]:
    """Tag each cell issue with the unit code of its row, so only that unit is held back."""
    unit_of = {r.row: r.get(key) or "" for r in rows}
    out = []
    for i in issues:
        m = re.fullmatch(r"[A-Z]+(\d+)", i.cell)
        out.append(replace(i, unit=unit_of.get(int(m.group(1)), "")) if m else i)
    return out


def read_setup(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None, *,
               read: Read = read_workbook) -> tuple[Setup, Report]:
    """The units (and people), criteria and ledger; ``read`` gives a file's workbook (one already read, say)."""
    report = Report()
    got = _read_rows(roster, "roster", scheme, report, people=bool(scheme.scheme.member_types), read=read)
    if got is None:
        return Setup(units=[]), report
    rows, file, sheet, people = got
    units: list[Unit] = []
    first: dict[str, int] = {}
    for r in rows:
        code, name = r.get("code"), r.get("name")
        if not code or not name:
            continue
        if code in first:
            report.add(issue("unit-row-duplicate", file=file, sheet=sheet, cell=r.cell("code"), unit=code,
                             form=SETUP_TITLES["roster"], other_row=first[code]))
            continue
        first[code] = r.row
        count = r.get("evaluators")
        units.append(Unit(code=code, name=name, type=r.get("type") or scheme.scheme.unit_types[0],
                          secretary=r.get("secretary") or "", township=r.get("township") or "",
                          funds_base=r.get("funds_base"), evaluators=int(count) if count is not None else None))
        report.extend(_required(scheme, r, units[-1], file, sheet, report))
    if people:
        units += _people(people, units, first, file, report)
    setup = Setup(units=units)
    if criteria is not None:
        setup.criteria = _criteria(scheme, criteria, set(first), report, read)
    if ledger is not None:
        setup.ledger = _ledger(scheme, ledger, set(first), report, read)
    return setup, report


def _funded_types(scheme: Scheme) -> set[str]:
    """Unit types graded by a grading whose consequences change working funds (the roster's 工作经费基数)."""
    out: set[str] = set()
    for g in scheme.gradings:
        if any(c.funds is not None for c in g.consequences.values()):
            out.update(g.applies_to or scheme.scheme.unit_types)
    return out


def _required(scheme: Scheme, r: Row, unit: Unit, file: str, sheet: str, report: Report) -> list[Issue]:
    """Roster cells a unit of its type needs though the column is not required for every type: the 党组织书记
    (printed on the summary and the 公示) and, where a grade changes working funds, the 工作经费基数."""
    taken = {i.cell for i in report.issues if i.file == file and i.sheet == sheet}  # already said (a bad value)
    wanted = []
    if unit.type in scheme.scheme.needs_secretary and not unit.secretary:
        wanted.append(("secretary", "党组织书记", "汇总表和公示要列出每个村（社区）的党组织书记"))
    if unit.type in _funded_types(scheme) and unit.funds_base is None:
        wanted.append(("funds_base", "工作经费基数（元）", "等次的结果运用按它计算工作经费增减"))
    out = []
    for key, label, why in wanted:
        there = key in (r.letters or {})
        if there and r.cell(key) in taken:
            continue
        out.append(issue("roster-missing", file=file, sheet=sheet, cell=r.cell(key) if there else "", unit=unit.code,
                         name=f"{unit.name}（{unit.code}）", label=label,
                         why=why if there else f"名册中没有“{label}”列，{why}"))
    return out


def _people(read: tuple[list[Row], str], units: list[Unit], first: dict[str, int], file: str,
            report: Report) -> list[Unit]:
    """People of the people sheet as units with a parent; codes are unique across both sheets."""
    rows, sheet = read
    by_code = {u.code: u for u in units}
    out = []
    for r in rows:
        code, name, parent = r.get("code"), r.get("name"), r.get("parent")
        if not code or not name or not parent or not r.get("type"):
            continue
        if code in first:
            report.add(issue("unit-row-duplicate", file=file, sheet=sheet, cell=r.cell("code"), unit=code,
                             form=PEOPLE_SHEET, other_row=first[code]))
            continue
        if parent not in by_code:
            report.add(issue("unit-unknown", file=file, sheet=sheet, cell=r.cell("parent"), code=parent))
            continue
        first[code] = r.row
        home = by_code[parent]
        out.append(Unit(code=code, name=name, type=r.get("type"), township=home.township, parent=parent,
                        post=r.get("post") or "", parent_name=home.name))
    return out


def _known(rows: list[Row], codes: set[str], file: str, sheet: str, report: Report) -> list[Row]:
    """Rows whose unit code is in the roster; an issue for each other row with a code."""
    out = []
    for r in rows:
        code = r.get("unit")
        if code and code not in codes:
            report.add(issue("unit-unknown", file=file, sheet=sheet, cell=r.cell("unit"), code=code))
        elif code:
            out.append(r)
    return out


def _criteria(scheme: Scheme, path: Path, codes: set[str], report: Report,
              read: Read = read_workbook) -> dict[str, list[Criterion]]:
    got = _read_rows(path, "criteria", scheme, report, read=read)
    if got is None:
        return {}
    rows, file, sheet, _ = got
    grouped: dict[str, list[Row]] = {}
    for r in _known(rows, codes, file, sheet, report):
        if all(r.get(k) is not None for k in ("aspect", "index", "text", "points")):
            grouped.setdefault(r.get("unit"), []).append(r)
    out = {
        code: [Criterion(unit=code, aspect=r.get("aspect"), index=i, text=r.get("text"), points=r.get("points"))
               for i, r in enumerate(sorted(items, key=lambda r: (r.get("index"), r.row)), start=1)]
        for code, items in grouped.items()
    }
    spec = scheme.criteria
    if spec is not None:
        want = len(spec.aspects) * spec.per_aspect
        for code in sorted(codes):
            items = out.get(code, [])
            if len(items) != want:
                report.add(issue("criteria-count", file=file, sheet=sheet, unit=code, count=len(items), want=want))
            if not items:
                continue
            per = Counter(c.aspect for c in items)
            for aspect in spec.aspects:
                if per[aspect] != spec.per_aspect:
                    report.add(issue("criteria-aspect", file=file, sheet=sheet, unit=code, aspect=aspect,
                                     count=per[aspect], want=spec.per_aspect))
    return out


def _ledger(scheme: Scheme, path: Path, codes: set[str], report: Report,
            read: Read = read_workbook) -> dict[str, list[LedgerEntry]]:
    got = _read_rows(path, "ledger", scheme, report, read=read)
    if got is None:
        return {}
    rows, file, sheet, _ = got
    out: dict[str, list[LedgerEntry]] = {}
    first: dict[tuple[str, str], int] = {}
    for r in _known(rows, codes, file, sheet, report):
        code, rid = r.get("unit"), r.get("request_id")
        if not rid:
            continue
        if (code, rid) in first:
            report.add(issue("ledger-duplicate", file=file, sheet=sheet, cell=r.cell("request_id"), unit=code,
                             request_id=rid, other_row=first[code, rid]))
            continue
        first[code, rid] = r.row
        text = {k: r.get(k) or "" for k in ("date", "requester", "phone", "content", "status")}
        out.setdefault(code, []).append(LedgerEntry(unit=code, request_id=rid, **text))
    return out


__all__ = ["read_setup", "with_unit"]
