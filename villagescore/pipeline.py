"""The one-way flow: setup + scheme → blank forms; filled workbooks → records → scores → summary.

This module does file I/O through ``villagescore.io`` and calls the pure core; it never imports
typer or rich. Progress is reported through a plain callback so the CLI can draw a bar.
"""

from __future__ import annotations

import shutil
import secrets
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Callable

import villagescore
from villagescore.core import layout
from villagescore.core.draw import Draw, draw_requests
from villagescore.core.grading import Candidate, grade_entered, grade_units, key_of, withheld
from villagescore.core.issues import Issue, Report, Severity, issue
from villagescore.core.periods import Period
from villagescore.core.records import (
    FormData,
    InputFile,
    LeafDetail,
    Row,
    RunResult,
    Setup,
    UnitResult,
)
from villagescore.core.scheme import Combine, Scheme
from villagescore.core.scoring import Source, UnitInputs, combine_periods, rounded, score_unit
from villagescore.core.tables import parse_table
from villagescore.io.reader import MAX_COLS, MAX_ROWS, FileRefused, Workbook, iter_workbook_files, read_workbook
from villagescore.io.setup_reader import read_setup

Progress = Callable[[str], None]


class FatalInput(Exception):
    """Input that makes the whole run impossible (no roster, no period to compute)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


SETUP_DIR = "00_基础信息"
SETUP_NAMES = {"roster": "名册.xlsx", "criteria": "考核细则.xlsx", "ledger": "民生诉求台账.xlsx"}


# ------------------------------------------------------------------ templates


@dataclass
class TemplateRun:
    paths: list[Path]
    report: Report
    draws: dict[str, Draw]
    seed: int


def load_setup(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None) -> tuple[Setup, Report]:
    setup, report = read_setup(scheme, roster, criteria, ledger)
    if not setup.units:
        raise FatalInput("名册中没有可用的考评对象：" + "；".join(i.text() for i in report.errors[:3]))
    return setup, report


def make_forms(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None, period: str,
               out_dir: Path, seed: int | None = None, progress: Progress | None = None) -> TemplateRun:
    period = str(Period.parse(period))
    setup, report = load_setup(scheme, roster, criteria, ledger)
    if report.errors:
        return TemplateRun([], report, {}, seed or 0)
    seed = seed if seed is not None else secrets.randbelow(900000) + 100000
    draws: dict[str, Draw] = {}
    for f in scheme.forms:
        if f.kind != "callback":
            continue
        for u in setup.units:
            d = draw_requests(setup.ledger.get(u.code, []), u.code, period, seed, f.draw)
            draws[u.code] = d
            if d.short:
                report.add(issue("draw-short", unit=u.code, count=d.available, want=d.wanted))
    from villagescore.io.forms import write_period_forms

    report.issues = name_units(report.issues, setup)
    paths = write_period_forms(scheme, setup, period, out_dir, draws, progress)
    for key, src in (("roster", roster), ("criteria", criteria), ("ledger", ledger)):
        if src is not None:
            target = out_dir / SETUP_DIR / SETUP_NAMES[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            paths.append(target)
    return TemplateRun(paths, report, draws, seed)


# ------------------------------------------------------------------ compute


@dataclass
class Collected:
    forms: list[FormData] = field(default_factory=list)
    setup_paths: dict[str, Path] = field(default_factory=dict)
    files: list[InputFile] = field(default_factory=list)
    workbooks: dict[str, Workbook] = field(default_factory=dict)


def _display(path: Path, roots: list[Path]) -> str:
    for r in roots:
        try:
            return str(path.relative_to(r.parent if r.is_dir() else r.parent))
        except ValueError:
            continue
    return str(path)


def collect(scheme: Scheme, folders: list[Path], report: Report, progress: Progress | None = None,
            exclude: set[Path] | None = None) -> Collected:
    """Read every workbook under the folders and sort them by their identity record."""
    out = Collected()
    seen: dict[str, str] = {}
    exclude = {p.resolve() for p in (exclude or set())}
    for path in iter_workbook_files(folders):
        if path.resolve() in exclude:
            continue
        name = _display(path, folders)
        if progress:
            progress(name)
        try:
            wb = read_workbook(path)
        except FileRefused as exc:
            report.add(issue(exc.code, file=name, **exc.params))
            out.files.append(InputFile(name, "", status="无法读取"))
            continue
        ident = wb.identity
        if wb.sha256 in seen:
            if not (ident and ident.get("role") == "setup"):  # the same setup copied per period is normal
                report.add(issue("duplicate-file", file=name, other=seen[wb.sha256]))
            out.files.append(InputFile(name, wb.sha256, status="重复，未计入"))
            continue
        seen[wb.sha256] = name
        if not ident:
            report.add(issue("file-unknown", file=name))
            out.files.append(InputFile(name, wb.sha256, status="已跳过"))
            continue
        role, form_id = ident.get("role", ""), ident.get("form_id", "")
        if role == "setup":
            out.setup_paths.setdefault(form_id, path)
            out.files.append(InputFile(name, wb.sha256, form_id, status="基础信息"))
            continue
        if role == "print":
            out.files.append(InputFile(name, wb.sha256, form_id, ident.get("unit_code", ""),
                                       ident.get("period", ""), status="打印用，未计入"))
            continue
        if ident.get("scheme_id") != scheme.scheme.id:
            report.add(issue("file-other-scheme", file=name, found=ident.get("scheme_id", ""),
                             expected=scheme.scheme.id))
            out.files.append(InputFile(name, wb.sha256, form_id, status="其他方案，未计入"))
            continue
        if ident.get("template_version") != villagescore.TEMPLATE_VERSION:
            report.add(issue("template-version", file=name, found=ident.get("template_version", ""),
                             expected=villagescore.TEMPLATE_VERSION))
        try:
            scheme.form(form_id)
        except KeyError:
            report.add(issue("file-unknown", file=name))
            out.files.append(InputFile(name, wb.sha256, status="已跳过"))
            continue
        sheet = ident.get("sheet") or (wb.sheet_order[0] if wb.sheet_order else "")
        out.workbooks[name] = wb
        out.forms.append(FormData(form_id, ident.get("unit_code") or None, ident.get("period", ""), name, sheet,
                                  wb.sha256, [], dict(ident)))
        out.files.append(InputFile(name, wb.sha256, form_id, ident.get("unit_code", ""), ident.get("period", "")))
    return out


def choose_periods(scheme: Scheme, forms: list[FormData], wanted: str | None) -> tuple[str, list[str]]:
    found = sorted({f.period for f in forms if f.period})
    if wanted:
        try:
            target = Period.parse(wanted)
        except ValueError as exc:
            raise FatalInput(str(exc)) from None
        if target.kind == "year" and scheme.scheme.period_kind != "year":
            parts = [p for p in found if Period.parse(p).year == target.year]
        else:
            parts = [str(target)] if str(target) in found else []
        if not parts:
            raise FatalInput(f"文件夹中没有 {target.label} 的表格（找到的期间：{'、'.join(found) or '无'}）")
        return str(target), parts
    if not found:
        raise FatalInput("文件夹中没有找到本方案的填报表格（请确认文件夹路径，或先用 villagescore template 生成表格）")
    if len(found) == 1:
        return found[0], found
    years = {Period.parse(p).year for p in found}
    weights = scheme.annual.weights
    if len(years) == 1 and weights and {Period.parse(p).part for p in found} == set(weights):
        return str(years.pop()), found
    raise FatalInput(f"文件夹中有多个期间的表格（{'、'.join(found)}），请用 --period 指定要计算的期间")


def _parse_forms(scheme: Scheme, setup: Setup, col: Collected, periods: list[str], report: Report) -> None:
    for fd in list(col.forms):
        if fd.period not in periods:
            report.add(issue("file-other-period", file=fd.file, found=fd.period, expected="、".join(periods)))
            col.forms.remove(fd)
            continue
        form = scheme.form(fd.form_id)
        unit = setup.unit(fd.unit) if fd.unit else None
        if form.scope == "unit" and unit is None:
            report.add(issue("unit-unknown", file=fd.file, code=fd.unit or "（空）"))
            col.forms.remove(fd)
            continue
        wb = col.workbooks[fd.file]
        grid = wb.sheets.get(fd.sheet)
        if grid is None:
            report.add(issue("sheet-missing", file=fd.file, unit=fd.unit or "", sheet=fd.sheet))
            fd.rows = []
            continue
        if fd.sheet in wb.trimmed:
            report.add(issue("sheet-trimmed", file=fd.file, sheet=fd.sheet, cell=wb.trimmed[fd.sheet],
                             rows=MAX_ROWS, cols=MAX_COLS))
        cols = layout.entry_columns(scheme, form, setup.criteria.get(fd.unit or "", []))
        keep_if_only = {"score_ballot": {"serial"}, "register": {"seq"}}.get(form.kind)
        rows, problems, _ = parse_table(grid, cols, file=fd.file, sheet=fd.sheet, unit=fd.unit or "",
                                        keep_if_only=keep_if_only)
        fd.rows = rows
        report.extend(problems)
        if form.kind == "callback":
            drawn = [x for x in fd.meta.get("drawn", "").split(",") if x]
            if len(drawn) < form.draw:
                report.add(issue("draw-short", file=fd.file, unit=fd.unit or "", count=len(drawn), want=form.draw))
            got = [str(r.get("request_id") or "") for r in rows]
            if sorted(got) != sorted(drawn):
                missing = sorted(set(drawn) - set(got))
                extra = sorted(set(got) - set(drawn))
                detail = "；".join(x for x in (missing and f"缺少 {'、'.join(missing)}",
                                                 extra and f"多出 {'、'.join(extra)}") if x) or "顺序或数量不同"
                report.add(issue("draw-mismatch", file=fd.file, sheet=fd.sheet, unit=fd.unit or "", detail=detail))
        if form.anonymous:
            report.extend(_identity_check(fd, rows))


_ID_PATTERNS = None


def _identity_check(fd: FormData, rows: list[Row]) -> list[Issue]:
    """Anonymous registers must not carry phone or ID numbers typed into free text."""
    import re

    global _ID_PATTERNS
    if _ID_PATTERNS is None:
        _ID_PATTERNS = [(re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "手机号码"),
                        (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "身份证号"),
                        (re.compile(r"(姓名|署名|联系人|联系电话)\s*[:：]"), "姓名或联系方式")]
    out = []
    for r in rows:
        for key, value in r.values.items():
            if isinstance(value, str):
                for pat, what in _ID_PATTERNS:
                    if pat.search(value):
                        out.append(issue("identity-in-anonymous", file=fd.file, sheet=fd.sheet, cell=r.cell(key),
                                         unit=fd.unit or "", what=what))
                        break
    return out


def _unit_inputs(scheme: Scheme, setup: Setup, col: Collected, period: str, report: Report,
                 vetoes: dict[str, list[str]]) -> dict[str, UnitInputs]:
    inputs = {u.code: UnitInputs(u, period, setup.criteria.get(u.code, [])) for u in setup.units}
    have: dict[tuple[str, str], FormData] = {}
    for fd in col.forms:
        if fd.period != period:
            continue
        form = scheme.form(fd.form_id)
        if form.scope == "unit":
            key = (fd.unit or "", fd.form_id)
            if key in have:
                report.add(issue("conflicting-files", file=fd.file, unit=fd.unit or "", form=form.title,
                                 other=have[key].file))
                inputs[fd.unit or ""].rows[fd.form_id] = []
                continue
            have[key] = fd
            ui = inputs[fd.unit or ""]
            issued = int(fd.meta["issued"]) if fd.meta.get("issued", "").isdigit() else None
            ui.rows[fd.form_id] = fd.rows
            ui.sources[fd.form_id] = Source(fd.file, fd.sheet, issued)
            continue
        key = ("", fd.form_id)
        if key in have:
            report.add(issue("conflicting-files", file=fd.file, form=form.title, other=have[key].file, unit=""))
            continue
        have[key] = fd
        first_row: dict[str, int] = {}
        for r in fd.rows:
            code = str(r.get("unit") or "")
            if code not in inputs:
                report.add(issue("unit-unknown", file=fd.file, sheet=fd.sheet, cell=r.cell("unit"),
                                 code=code or "（空）"))
                continue
            if code in first_row:
                report.add(issue("unit-row-duplicate", file=fd.file, sheet=fd.sheet, cell=r.cell("unit"), unit=code,
                                 form=form.title, other_row=first_row[code]))
                continue
            first_row[code] = r.row
            inputs[code].rows.setdefault(fd.form_id, []).append(r)
            inputs[code].sources[fd.form_id] = Source(fd.file, fd.sheet)
            if form.veto_field and r.get(form.veto_field):
                label = str(r.get(form.veto_field))
                if scheme.veto(label) is None:
                    report.add(issue("veto-unknown", file=fd.file, sheet=fd.sheet, cell=r.cell(form.veto_field),
                                     unit=code, value=label))
                else:
                    vetoes.setdefault(code, []).append(label)
        for u in setup.units:
            if u.code not in first_row:
                report.add(issue("unit-row-missing", file=fd.file, sheet=fd.sheet, unit=u.code, form=form.title))
    # coverage: every unit needs every form used by its score nodes
    needed = {n.form for n in scheme.leaves().values()}
    for u in setup.units:
        for f in scheme.forms:
            if f.id not in needed:
                continue
            if f.scope == "unit" and (u.code, f.id) not in have:
                report.add(issue("form-missing", unit=u.code, form=f"{f.title}（{period}）"))
            if f.scope == "township" and ("", f.id) not in have:
                report.add(issue("form-missing", unit=u.code, form=f"{f.title}（{period}）"))
    return inputs


def compute(scheme: Scheme, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
            criteria: Path | None = None, ledger: Path | None = None, progress: Progress | None = None,
            exclude: set[Path] | None = None) -> RunResult:
    report = Report()
    col = collect(scheme, folders, report, progress, exclude)
    roster = roster or col.setup_paths.get("roster")
    criteria = criteria or col.setup_paths.get("criteria")
    ledger = ledger or col.setup_paths.get("ledger")
    if roster is None:
        raise FatalInput("没有找到名册：请把名册放在表格文件夹中（villagescore template 会放在“00_基础信息”），"
                         "或用 --roster 指定")
    setup, setup_report = load_setup(scheme, roster, criteria, None)
    report.extend(setup_report.issues)
    target, periods = choose_periods(scheme, col.forms, period)
    _parse_forms(scheme, setup, col, periods, report)

    per_period: dict[str, dict[str, dict[str, Fraction | None]]] = defaultdict(dict)
    details: dict[str, list[LeafDetail]] = defaultdict(list)
    ballots = []
    vetoes: dict[str, list[str]] = {}
    entered: dict[str, dict[str, str | None]] = defaultdict(dict)  # grading → unit → grade (latest period)
    for p in periods:
        for code, ui in _unit_inputs(scheme, setup, col, p, report, vetoes).items():
            for g in scheme.gradings:
                if g.entered and ui.rows.get(g.entered.form):
                    entered[g.id][code] = ui.rows[g.entered.form][0].get(g.entered.field)
            sc = score_unit(scheme, ui)
            per_period[code][p] = sc.values
            details[code].extend(sc.details)
            report.extend(sc.issues)
            ballots.extend(sc.ballots)
    report.issues = name_units(_dedupe(report.issues), setup)
    bad_units = report.units_with_errors()

    places = scheme.scheme.places
    results: list[UnitResult] = []
    for u in setup.units:
        pp = per_period.get(u.code, {})
        values = pp[target] if target in pp else (combine_periods(scheme, pp) if pp else {})
        ok = u.code not in bad_units and bool(values) and all(
            values.get(n) is not None for n in scheme.display_nodes if _applies(scheme, n, u.type))
        if not ok:
            values = {}
        results.append(UnitResult(u, exact=values, rounded=rounded(values, places),
                                  by_period={p: rounded(v, places) for p, v in pp.items()} if ok else {},
                                  details=details.get(u.code, []), vetoes=sorted(set(vetoes.get(u.code, []))), ok=ok))

    quota, notes = _grade_all(scheme, results, places, entered)
    first = scheme.gradings[0].id if scheme.gradings else ""

    def sort_key(r: UnitResult):
        g = r.grades.get(first)
        return (0 if r.ok else 1, g.rank if g and g.rank else 10**9, r.code)

    results.sort(key=sort_key)
    files = sorted(col.files, key=lambda f: f.path)
    return RunResult(
        scheme_id=scheme.scheme.id, scheme_name=scheme.scheme.name, scheme_version=scheme.scheme.version,
        scheme_source=scheme.scheme.source, period=target, periods=periods, units=results, quota=quota,
        report=report, files=files, ballots=ballots, computed_at=datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        tool_version=villagescore.__version__,
        node_labels={k: v.label for k, v in scheme.nodes.items()}, display=list(scheme.display_nodes),
        leaves=[n for n in scheme.order() if n in scheme.leaves()],
        gradings=[(g.id, g.label) for g in scheme.gradings], places=places, notes=notes,
        grade_orders={g.id: list(g.grades) for g in scheme.gradings},
        form_titles={**{f.id: f.title for f in scheme.forms}, **layout.SETUP_TITLES},
    )


def _applies(scheme: Scheme, nid: str, unit_type: str) -> bool:
    node = scheme.nodes[nid]
    return not node.applies_to or unit_type in node.applies_to


def _grade_all(scheme: Scheme, results: list[UnitResult], places: int,
               entered: dict[str, dict[str, str | None]] | None = None):
    quota, notes = [], []
    for g in scheme.gradings:
        group = [r for r in results if not g.applies_to or r.unit.type in g.applies_to]
        missing = [f"{r.unit.name}（{r.code}）" for r in group if not r.ok]
        if missing:
            outcome = withheld(g, [r.code for r in group], missing)
        else:
            cands = []
            for r in group:
                key = key_of(r.exact, g, places)
                assert key is not None
                cands.append(Candidate(r.code, key, tuple(v for v in (scheme.veto(x) for x in r.vetoes) if v),
                                       {k: x.grade for k, x in r.grades.items()}, r.unit.funds_base, r.unit.name))
            if g.entered:
                outcome = grade_entered(g, cands, (entered or {}).get(g.id, {}), places)
            else:
                outcome = grade_units(g, cands, places)
        for r in group:
            r.grades[g.id] = outcome.results[r.code]
        quota.extend(outcome.quota)
        notes.extend(outcome.notes)
    return quota, notes


def name_units(issues: list[Issue], setup: Setup) -> list[Issue]:
    """Messages name a unit as 青山村（QS01）, not by its code alone; the unit field keeps the code."""
    names = {u.code: f"{u.name}（{u.code}）" for u in setup.units}
    return [replace(i, params={"unit": names[i.unit], **i.params}) if i.unit in names else i for i in issues]


def _dedupe(issues: list[Issue]) -> list[Issue]:
    """One issue per place: a cell already reported as wrong is not reported again as missing."""
    out, places = [], set()
    for i in issues:
        if i.cell and i.severity is Severity.ERROR:
            key = (i.file, i.sheet, i.cell)
            if key in places:
                continue
            places.add(key)
        out.append(i)
    return out


def is_inside(path: Path, folders: list[Path]) -> bool:
    p = path.resolve()
    for f in folders:
        fr = f.resolve()
        if p == fr or fr in p.parents:
            return True
    return False
