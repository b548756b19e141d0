"""The one-way flow: setup + scheme → blank forms; filled workbooks → records → scores → summary.

This module does file I/O through ``villagescore.io`` and calls the pure core; it never imports
typer or rich. Progress is reported through a plain callback so the CLI can draw a bar.
"""

from __future__ import annotations

import secrets
import shutil
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import villagescore
from villagescore.core import layout
from villagescore.core.draw import Draw, draw_requests
from villagescore.core.explain import formula_fields
from villagescore.core.grading import Candidate, grade_entered, grade_streak, grade_units, key_of, withheld
from villagescore.core.issues import Issue, Report, Severity, cell_order, compact, issue
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
from villagescore.core.scheme import Form, Scheme
from villagescore.core.scoring import Source, UnitInputs, UnitScore, combine_periods, rounded, score_unit
from villagescore.core.votes import count_votes
from villagescore.io.reader import FileRefused, Workbook, file_issues, read_workbook
from villagescore.io.setup_reader import Read, read_setup
from villagescore.io.spool import Ballots, Spool
from villagescore.parsing import FormParser, form_members, parse_form
from villagescore.collect import Collected, collect, identify_foreign, resolve_foreign
from villagescore.core.lists import make_lists, tracked_items
from villagescore.core.omr_review import scan_summary
from villagescore.survey import SURVEY_KEY, add_tallies, find_exports, settle as settle_surveys

Progress = Callable[[str], None]
Listed = tuple[list[Path], list[Path]]  # a folder's workbooks and other data files (iter_workbook_files)


class FatalInput(Exception):
    """Input that makes the whole run impossible (no roster, no period to compute)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


SETUP_DIR = layout.SETUP_DIR
SETUP_NAMES = {"roster": "名册.xlsx", "criteria": "考核细则.xlsx", "ledger": "民生诉求台账.xlsx"}


# ------------------------------------------------------------------ templates


@dataclass
class TemplateRun:
    paths: list[Path]
    report: Report
    draws: dict[str, Draw]
    seed: int


def load_setup(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None, *,
               read: Read = read_workbook) -> tuple[Setup, Report]:
    setup, report = read_setup(scheme, roster, criteria, ledger, read=read)
    report.issues = compact(report.issues)
    if not setup.units:
        why = "；".join(i.text() for i in report.errors[:3]) or "还没有填写任何单位，请先在名册中填写单位代码、名称和类型"
        raise FatalInput(f"名册 {roster} 中没有可用的考评对象：{why}")
    return setup, report


def make_forms(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None, period: str,
               out_dir: Path, seed: int | None = None, progress: Progress | None = None,
               carried: list | None = None, evaluators: int | None = None) -> TemplateRun:
    """Every blank form of ``period``; ``carried`` (open items of earlier periods, from the archive) are typed
    into each unit's tracked register (问题整改清单) so the list continues where it stopped; ``evaluators``: the
    ballots issued to a unit whose roster row gives no 测评人数 (the scheme's number without it)."""
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
    paths = write_period_forms(scheme, setup, period, out_dir, draws, progress, _carried_values(scheme, carried),
                               evaluators)
    for key, src in (("roster", roster), ("criteria", criteria), ("ledger", ledger)):
        if src is not None:
            target = out_dir / SETUP_DIR / SETUP_NAMES[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            paths.append(target)
    return TemplateRun(paths, report, draws, seed)


def _carried_values(scheme: Scheme, items: list | None) -> dict[str, dict[str, list[dict]]]:
    """unit → tracked form → rows typed into it (by column key)."""
    out: dict[str, dict[str, list[dict]]] = {}
    for form in (f for f in scheme.forms if f.track is not None):
        t = form.track
        for it in items or []:
            rows = out.setdefault(it.unit, {}).setdefault(form.id, [])
            if len(rows) < form.max_rows:
                rows.append({t.problem: it.problem, t.measure: it.measure, t.owner: it.owner,
                             t.deadline: it.deadline, t.status: it.status})
    return out


# reading the folders and identifying the office's own tables: villagescore/collect.py

_SILENT = "\x00"  # Source.file of a form already reported (conflict, missing row): its scoring issues are dropped


# ------------------------------------------------------------------ checking


def choose_periods(scheme: Scheme, forms: list[FormData], wanted: str | None) -> tuple[str, list[str]]:
    found = sorted({f.period for f in forms if f.period})
    if wanted:
        try:
            target = Period.parse(wanted)
        except ValueError as exc:
            raise FatalInput(str(exc)) from None
        if target.kind == "year" and scheme.scheme.period_kind != "year":
            if not scheme.annual.weights:
                kind = {"half": "半年", "quarter": "季度"}[scheme.scheme.period_kind]
                raise FatalInput(f"本方案按{kind}考评，没有规定全年如何合并（方案文件的 [annual] weights），"
                                 f"请用 --period 指定一期，例如 --period {found[-1] if found else target.year}")
            parts = [p for p in found if Period.parse(p).year == target.year]
        else:
            parts = [str(target)] if str(target) in found else []
        if not parts:
            raise FatalInput(f"文件夹中没有 {target.label} 的表格（找到的期间：{'、'.join(found) or '无'}）")
        return str(target), parts
    if not found:
        if forms:
            raise FatalInput("文件夹中只有自制表格，且表中没有注明期间：请用 --period 指定要计算的期间，"
                             "例如 --period 2025H1")
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
            col.status(fd.file, "其他期间，未计入")
            continue
        form = scheme.form(fd.form_id)
        unit = setup.unit(fd.unit) if fd.unit else None
        if form.scope == "unit" and unit is None:
            report.add(issue("unit-unknown", file=fd.file, code=fd.unit or "（空）"))
            col.forms.remove(fd)
            col.status(fd.file, "单位不在名册中，未计入")
            continue
        if form.scope == "unit" and unit is not None and not form.applies(unit.type):
            report.add(issue("form-not-applicable", file=fd.file, unit=unit.code, form=form.title, type=unit.type))
            col.forms.remove(fd)
            col.status(fd.file, "不适用于该单位，未计入")
            continue
        if fd.meta.get(SURVEY_KEY):  # counted from a questionnaire export already
            continue
        wb = col.workbooks[fd.file]
        parsed = wb.parsed if wb.parsed is not None else parse_form(scheme, setup, fd, wb)
        fd.sheet, fd.rows, fd.tally, fd.empty = parsed.sheet, parsed.rows, parsed.tally, parsed.empty
        report.extend(parsed.issues)
        if any(i.code == "identity-mismatch" for i in parsed.issues):  # whose form it is cannot be told
            col.forms.remove(fd)
            col.status(fd.file, "单位与表头或文件夹不符，未计入")
    by_file: dict[str, list[FormData]] = defaultdict(list)
    for fd in col.forms:
        by_file[fd.file].append(fd)
    for file, fds in by_file.items():
        wb = col.workbooks[file]
        if fds[0].meta.get(SURVEY_KEY):  # a questionnaire export: one sheet read, for many units
            report.extend(file_issues(wb, file, {fd.sheet for fd in fds}, ""))
            continue
        if wb.parsed is not None:  # found where it was read (one form per file)
            report.extend(wb.parsed.file_issues)
            continue
        units = {fd.unit or "" for fd in fds}
        report.extend(file_issues(wb, file, {fd.sheet for fd in fds}, units.pop() if len(units) == 1 else ""))
    col.workbooks.clear()  # every form is parsed: what checking needs is in col.forms, the grids can go


@dataclass
class _Checked:
    """Everything compute and validate share: the same reading, the same checks, the same issues."""

    report: Report
    col: Collected
    setup: Setup
    target: str
    periods: list[str]
    scores: dict[str, dict[str, UnitScore]] = field(default_factory=lambda: defaultdict(dict))  # period → unit →
    vetoes: dict[str, list[str]] = field(default_factory=dict)
    entered: dict[str, dict[str, str | None]] = field(default_factory=lambda: defaultdict(dict))
    # the ballot lines for 测评明细, kept in the run's spool (validate keeps none): score ballots as each unit is
    # scored, vote ballots as each form is counted (they follow the score ballots)
    lines: Any = field(default_factory=list)
    ballots: Any = field(default_factory=list)
    balloted: set[str] = field(default_factory=set)  # units with ballot lines
    # (period, unit code or, for a township form, its township's folder index or "", form) → files
    used: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    unit_zone: dict[str, str] = field(default_factory=dict)  # unit → its township's folder (a county run)
    conflicts: set[tuple[str, str, str]] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # units held back by a township form not typed into (said once)


def _slot(scheme: Scheme, col: Collected, fd: FormData) -> str:
    """Whom a form's file is for: its unit, or for a township form its township's folder index ("" for one)."""
    return (fd.unit or "") if scheme.form(fd.form_id).scope == "unit" else col.zones.get(fd.file, "")


def _unit_inputs(scheme: Scheme, setup: Setup, col: Collected, period: str, report: Report,
                 chk: _Checked) -> dict[str, UnitInputs]:
    """Every unit's rows and sources of ``period``, each form's file checked: conflicts, a township form's
    rows split by their unit column, and the forms a unit lacks."""
    inputs = {u.code: UnitInputs(u, period, setup.criteria.get(u.code, [])) for u in setup.units}
    groups: dict[tuple[str, str], list[FormData]] = {}
    for fd in col.forms:
        if fd.period == period:
            groups.setdefault((_slot(scheme, col, fd), fd.form_id), []).append(fd)
    for (unit, form_id), fds in groups.items():
        form = scheme.form(form_id)
        chk.used[period, unit, form_id] = [fd.file for fd in fds]
        if len(fds) > 1:
            _conflict(form, unit, fds, period, inputs, report, col, chk)
            continue
        fd = fds[0]
        if fd.empty:  # not typed into yet: said once (form-empty), it counts for nobody, not as zero rows
            _untouched(scheme, setup, form, unit, inputs, chk)
            continue
        if form.scope == "unit":
            ui = inputs[unit]
            issued = _issued(form, fd, ui.unit, report)
            if form.kind == "vote_ballot":
                _votes(scheme, setup, form, fd, inputs, issued, report, chk)
                continue
            ui.rows[form_id] = fd.rows
            ui.sources[form_id] = Source(fd.file, fd.sheet, issued)
            continue
        _township_rows(scheme, setup, form, fd, unit, inputs, report, chk)
    _coverage(scheme, setup, period, groups, inputs, report, chk)
    return inputs


def _issued(form: Form, fd: FormData, unit, report: Report) -> int | None:
    """Ballots issued to the unit: as its form was generated (the identity record); for a form made elsewhere, the
    roster's 测评人数. A roster number that differs from the generated form's is said (the form decides)."""
    if form.kind not in layout.BALLOT_KINDS:
        return None
    made = fd.meta.get("issued", "")
    if not made.isdigit():
        return unit.evaluators
    if unit.evaluators is not None and unit.evaluators != int(made):
        report.add(issue("evaluators-changed", file=fd.file, sheet=fd.sheet, unit=unit.code, roster=unit.evaluators,
                         issued=int(made)))
    return int(made)


def _untouched(scheme: Scheme, setup: Setup, form: Form, slot: str, inputs: dict[str, UnitInputs],
               chk: _Checked) -> None:
    """A form nobody has typed into (already reported once): no rows for its unit (and the people it votes on), or
    for a township form every unit of its township it applies to, which are held back without an issue each."""
    if form.scope == "unit":
        codes = [slot, *(m.code for m in form_members(scheme, setup, form, slot))]
    else:
        codes = [c for c, ui in inputs.items() if chk.unit_zone.get(c, "") == slot and form.applies(ui.unit.type)]
        chk.held.update(codes)
    for code in codes:
        inputs[code].rows[form.id] = []
        inputs[code].sources[form.id] = Source(_SILENT)


def _conflict(form: Form, unit: str, fds: list[FormData], period: str, inputs: dict[str, UnitInputs],
              report: Report, col: Collected, chk: _Checked) -> None:
    """Several files of one form for the same unit (or township): never pick one, the form counts for nobody
    until one file is left."""
    first = fds[0]
    for fd in fds[1:]:
        other = first.file if first.file != fd.file else f"{first.file} 工作表“{first.sheet}”"
        report.add(issue("conflicting-files", file=fd.file, sheet=fd.sheet, unit=unit, form=form.title,
                         other=other))
    for fd in fds:
        col.status(fd.file, "有冲突，未计入")
    chk.conflicts.add((period, unit, form.id))
    for code in [unit] if form.scope == "unit" else [c for c in inputs if chk.unit_zone.get(c, "") == unit]:
        inputs[code].rows[form.id] = []
        inputs[code].sources[form.id] = Source(_SILENT)


def _township_rows(scheme: Scheme, setup: Setup, form: Form, fd: FormData, zone: str,
                   inputs: dict[str, UnitInputs], report: Report, chk: _Checked) -> None:
    """A township form's rows given to the units of its unit column (``zone``: the township's folder)."""
    first_row: dict[str, int] = {}
    for r in fd.rows:
        code = str(r.get("unit") or "")
        if code not in inputs or chk.unit_zone.get(code, "") != zone:  # unknown, or another township's
            report.add(issue("unit-unknown", file=fd.file, sheet=fd.sheet, cell=r.cell("unit"),
                             code=code or "（空）"))
            continue
        if code in first_row and form.kind != "register":  # a register has any number of rows per unit
            report.add(issue("unit-row-duplicate", file=fd.file, sheet=fd.sheet, cell=r.cell("unit"), unit=code,
                             form=form.title, other_row=first_row[code]))
            continue
        if not form.applies(inputs[code].unit.type):
            report.add(issue("form-not-applicable", file=fd.file, sheet=fd.sheet, cell=r.cell("unit"), unit=code,
                             form=form.title, type=inputs[code].unit.type))
            continue
        first_row.setdefault(code, r.row)
        inputs[code].rows.setdefault(form.id, []).append(r)
        inputs[code].sources[form.id] = Source(fd.file, fd.sheet)
        if form.veto_field and r.get(form.veto_field):
            label = str(r.get(form.veto_field))
            if scheme.veto(label) is None:
                report.add(issue("veto-unknown", file=fd.file, sheet=fd.sheet, cell=r.cell(form.veto_field),
                                 unit=code, value=label))
            else:
                chk.vetoes.setdefault(code, []).append(label)
    for u in (u for u in setup.units if chk.unit_zone.get(u.code, "") == zone):
        if form.kind == "register":  # no rows: nothing registered for this unit
            inputs[u.code].sources.setdefault(form.id, Source(fd.file, fd.sheet))
        elif u.code not in first_row and form.applies(u.type):
            report.add(issue("unit-row-missing", file=fd.file, sheet=fd.sheet, unit=u.code, form=form.title))
            inputs[u.code].sources[form.id] = Source(_SILENT)


def _coverage(scheme: Scheme, setup: Setup, period: str, groups: dict[tuple[str, str], list[FormData]],
              inputs: dict[str, UnitInputs], report: Report, chk: _Checked) -> None:
    """Every unit needs every form used by its score nodes: an error for each one missing."""
    for u in setup.units:
        for f in _needed_forms(scheme, u.type):
            if (u.code if f.scope == "unit" else chk.unit_zone.get(u.code, ""), f.id) not in groups:
                report.add(issue("form-missing", unit=u.code, form=f"{f.title}（{period}）"))
                inputs[u.code].sources[f.id] = Source(_SILENT)  # said once: not again by each leaf that reads it
                for m in form_members(scheme, setup, f, u.code):  # its people's votes: already reported
                    inputs[m.code].sources[f.id] = Source(_SILENT)


def _votes(scheme: Scheme, setup: Setup, form: Form, fd: FormData, inputs: dict[str, UnitInputs],
           issued: int | None, report: Report, chk: _Checked) -> None:
    """A vote ballot becomes one tally row for the unit and one for each person it votes on."""
    unit = fd.unit or ""
    members = form_members(scheme, setup, form, unit)
    targets = layout.vote_targets(form, members)
    vc = count_votes(form, targets, fd.rows, fd.tally, file=fd.file, sheet=fd.sheet,
                     tally_sheet=layout.VOTE_TALLY_SHEET, unit=unit, period=fd.period, issued=issued)
    report.extend(vc.issues)
    chk.ballots.extend(vc.ballots)
    chk.balloted.update(b.unit for b in vc.ballots)
    sheet = fd.sheet if vc.how != "测评结果汇总" else layout.VOTE_TALLY_SHEET
    counted = {"发放": issued if issued is not None else "—", "收回": vc.returned, "有效票": vc.valid} \
        if vc.how == "逐票录入" else {"人工统计": "测评结果汇总"}
    for key, _ in targets:
        code = unit if key == layout.SELF_KEY else key
        row = vc.per_target.get(key)
        inputs[code].rows[form.id] = [row] if row is not None else []
        inputs[code].sources[form.id] = Source(fd.file, sheet, issued, counted) if row is not None else Source(_SILENT)


def _unexplained(scheme: Scheme, sc: UnitScore, period: str) -> list[Issue]:
    """An error for each leaf left without a value when no other error explains it (e.g. a blank cell in a
    column the scheme does not mark required)."""
    out = []
    for d in sc.details:
        if d.value is None and d.period == period and d.source:  # no source: a missing or conflicting form,
            node = scheme.nodes[d.node]                             # already reported
            form = scheme.form(node.form)
            field = getattr(node, "field", None)
            col = form.column(field) if field else None
            out.append(issue("leaf-missing", unit=sc.unit.code, file=d.source.split(" / ")[0] if d.source else "",
                             leaf=node.label, form=form.title, column=col.label if col else node.label))
    return out


def _needed_forms(scheme: Scheme, unit_type: str | None = None) -> list[Form]:
    """Forms the score nodes read (for a unit of ``unit_type``: those it gets)."""
    needed = {n.form for n in scheme.leaves().values()}
    return [f for f in scheme.forms if f.id in needed and (unit_type is None or f.applies(unit_type))]


def _county(scheme: Scheme, folders: list[Path], col: Collected,
            read: Read = read_workbook) -> tuple[Setup, list[Issue], dict[str, str]] | None:
    """Several townships' folders, each with its own roster of different units: one county-wide setup, each
    unit's township from its roster (or its folder's name), and the folder each unit belongs to. None when
    there is one roster, or the rosters share units (the same township's periods in several folders)."""
    rosters = {z: paths["roster"] for z, paths in sorted(col.zone_setup.items(), key=lambda kv: int(kv[0]))
               if "roster" in paths}  # in the order the folders were given (11 after 2)
    if len(rosters) < 2:
        return None
    each = {}
    for z, path in rosters.items():
        each[z] = read_setup(scheme, path, col.zone_setup[z].get("criteria"), None, read=read)
    codes = [{u.code for u in s.units} for s, _ in each.values()]
    if any(a & b for i, a in enumerate(codes) for b in codes[i + 1:]):
        return None
    units, criteria, unit_zone, issues = [], {}, {}, []
    for z, (setup, rep) in each.items():
        issues.extend(rep.issues)
        name = folders[int(z)].name
        for u in setup.units:
            units.append(replace(u, township=u.township or name))
            unit_zone[u.code] = z
        criteria.update(setup.criteria)
    if not units:
        raise FatalInput("各乡镇（街道）文件夹的名册中都没有可用的考评对象")
    return Setup(units=units, criteria=criteria), issues, unit_zone


def _unparse(col: Collected, report: Report) -> None:
    """Read again the workbooks a reading worker parsed with a setup that is not the one used (their forms get back
    the identity record parsing reads)."""
    forms: dict[str, list[FormData]] = defaultdict(list)
    for fd in col.forms:
        forms[fd.file].append(fd)
    for name, wb in list(col.workbooks.items()):
        if wb.parsed is None:
            continue
        try:
            col.workbooks[name] = again = read_workbook(Path(wb.path))
            for fd in forms[name]:
                fd.meta = {**(again.identity or {}), **fd.meta}
        except FileRefused as exc:  # changed on disk since it was read
            report.add(exc.issue(name))
            col.forms = [fd for fd in col.forms if fd.file != name]
            col.status(name, "无法读取")


def _setup_inputs(col: Collected, roster: Path | None, criteria: Path | None) -> tuple:
    """What the setup is read from: the same inputs give the same setup."""
    if roster is not None:
        return roster, criteria or col.setup_paths.get("criteria")
    zones = tuple((z, tuple(sorted(paths.items()))) for z, paths in sorted(col.zone_setup.items()))
    return None, col.setup_paths.get("roster"), criteria or col.setup_paths.get("criteria"), zones


@dataclass
class _Setup:
    setup: Setup
    issues: list[Issue]
    unit_zone: dict[str, str] | None  # a county run: each unit's township folder; None for one township


def _read_setup(scheme: Scheme, folders: list[Path], col: Collected, roster: Path | None,
                criteria: Path | None, read: Read = read_workbook) -> _Setup:
    """The setup the folders (or --roster) give: one roster, or a county of townships with a roster each."""
    county = None if roster is not None else _county(scheme, folders, col, read)
    if county is not None:
        return _Setup(*county)
    roster = roster or col.setup_paths.get("roster")
    criteria = criteria or col.setup_paths.get("criteria")
    if roster is None:
        raise FatalInput("没有找到名册：请把名册放在表格文件夹中（villagescore template 会放在“00_基础信息”），"
                         "或用 --roster 指定")
    setup, setup_report = load_setup(scheme, roster, criteria, None, read=read)
    return _Setup(setup, setup_report.issues, None)


def _check(scheme: Scheme, folders: list[Path], *, period: str | None, roster: Path | None, criteria: Path | None,
           progress: Progress | None, exclude: set[Path] | None, every_period: bool = False,
           listed: Listed | None = None, keep_ballots: bool = True) -> _Checked:
    """Read the folders and run every check (files, cells, tables, coverage, ballots), scoring each unit.

    The forms' rows wait in a spool (``io/spool.py``) until their unit is scored, and are let go then; with
    ``keep_ballots`` the ballot lines go to the spool as each unit is scored, for 测评明细 (validate keeps none):
    a county's or a province's rows and ballots are never all in memory."""
    report = Report()
    early: dict[tuple, _Setup] = {}
    spool = Spool()

    def plan(setup_files: Collected, bases: list[Path], books: dict) -> FormParser | None:
        """When the setup folders already decide the setup, forms are parsed where they are read."""

        def read(path: Path) -> Workbook:  # the setup files just read, not read again
            wb = books.get(path)
            if isinstance(wb, FileRefused):
                raise wb
            return wb if wb is not None else read_workbook(path)

        try:
            known = _read_setup(scheme, folders, setup_files, roster, criteria, read)
        except FatalInput:
            return None
        early[_setup_inputs(setup_files, roster, criteria)] = known
        return FormParser(scheme, known.setup, bases, pickle_rows=True)

    col = collect(scheme, folders, report, progress, exclude, plan=plan, listed=listed, spool=spool)
    inputs = _setup_inputs(col, roster, criteria)
    chosen = early.get(inputs)
    if chosen is None:  # the whole folders decide otherwise: forms parsed in workers are parsed again here
        chosen = _read_setup(scheme, folders, col, roster, criteria)
        _unparse(col, report)
    setup = chosen.setup
    report.extend(chosen.issues)
    unit_zone = chosen.unit_zone or {}
    if chosen.unit_zone is None:
        col.zones = {}
    exports = find_exports(scheme, setup, col, report)  # online questionnaires (villagescore/survey.py)
    identify_foreign(scheme, setup, col, report)
    try:
        target, periods = choose_periods(scheme, col.forms, period)
    except FatalInput:
        found = sorted({f.period for f in col.forms if f.period})
        if not (every_period and period is None and len(found) > 1):
            raise
        target, periods = found[-1], found  # validate checks every period it finds
    resolve_foreign(scheme, col, periods, report)
    add_tallies(scheme, col, exports, periods, report)
    _parse_forms(scheme, setup, col, periods, report)
    settle_surveys(col, report)
    chk = _Checked(report, col, setup, target, periods, unit_zone=unit_zone)
    chk.lines, chk.ballots = (Ballots(spool), Ballots(spool)) if keep_ballots else (_Dropped(), _Dropped())
    later = {lst.form for lst in scheme.lists if lst.form} | {f.id for f in scheme.forms if f.track is not None}
    for p in periods:
        inputs = _unit_inputs(scheme, setup, col, p, report, chk)
        stopped = {i.unit for i in report.errors}  # units held back so far; scoring adds only its own unit's
        for code, ui in inputs.items():
            for g in scheme.gradings:
                if g.entered and ui.rows.get(g.entered.form):
                    chk.entered[g.id][code] = ui.rows[g.entered.form][0].get(g.entered.field)
            sc = score_unit(scheme, ui)
            if sc.ballots:
                chk.lines.extend(sc.ballots)
                chk.balloted.update(b.unit for b in sc.ballots)
                sc.ballots = []
            sc.issues = [i for i in sc.issues if i.file != _SILENT]
            sc.details = [replace(d, source="") if d.source.startswith(_SILENT) else d for d in sc.details]
            chk.scores[p][code] = sc
            report.extend(sc.issues)
            stopped.update(i.unit for i in sc.issues if i.severity is Severity.ERROR)
            if code not in stopped:  # never a unit without a score and without a reason
                report.extend(_unexplained(scheme, sc, p))
            _release(ui, later)
    report.issues = compact(name_units(_dedupe(report.issues), setup))
    return chk


class _Dropped:
    """Ballot lines nobody will read (validate)."""

    def extend(self, lines) -> None:
        pass


def _release(ui: UnitInputs, later: set[str]) -> None:
    """Let a scored unit's rows go, but for the forms whose rows are read after scoring (lists, tracked
    registers): its ballots live on as compact ballot lines, and a county's raw rows are not all held at once.
    A unit form's rows are its FormData's own list, emptied here; a township form's rows are a copy per unit."""
    for form_id, rows in ui.rows.items():
        if form_id not in later:
            rows.clear()


# ------------------------------------------------------------------ compute


def compute(scheme: Scheme, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
            criteria: Path | None = None, ledger: Path | None = None, progress: Progress | None = None,
            exclude: set[Path] | None = None, earlier: Earlier | None = None,
            listed: Listed | None = None) -> RunResult:
    """Scores, ranks, grades and lists of one period (or a year from its parts) read from the folders.

    ``earlier`` returns the archived grades of an earlier period (for streak rules such as 提级管理);
    ``listed``: the folders' files as ``iter_workbook_files`` lists them, when the caller has them."""
    chk = _check(scheme, folders, period=period, roster=roster, criteria=criteria, progress=progress,
                 exclude=exclude, listed=listed)
    report, setup, target, periods = chk.report, chk.setup, chk.target, chk.periods
    per_period: dict[str, dict[str, dict[str, Fraction | None]]] = defaultdict(dict)
    details: dict[str, list[LeafDetail]] = defaultdict(list)
    for p, by_unit in chk.scores.items():
        for code, sc in by_unit.items():
            per_period[code][p] = sc.values
            details[code].extend(sc.details)
    ballots = chk.lines.then(chk.ballots)  # score ballots, then vote ballots
    bad_units = report.units_with_errors() | chk.held
    vetoes, entered = chk.vetoes, chk.entered

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

    quota, notes = grade_results(scheme, results, places, entered, period=target, earlier=earlier)
    types = [*scheme.scheme.unit_types, *scheme.scheme.member_types]

    def sort_key(r: UnitResult):
        """Units before people, each category by the rank of its first grading; units without a result last."""
        g = next((r.grades[x.id] for x in scheme.gradings if x.id in r.grades), None)
        group = types.index(r.unit.type) if r.unit.parent and r.unit.type in types else -1
        return (0 if r.ok else 1, group, g.grading if g else "", g.rank if g and g.rank else 10**9, r.code)

    results.sort(key=sort_key)
    scanned, scan_note = scan_summary(chk.col.forms, periods)  # ballots read from scans (core/omr_review.py)
    files = sorted(chk.col.files + scanned, key=lambda f: f.path)
    rows = _rows_by_unit(scheme, chk, periods[-1] if target not in periods else target)
    return run_result(scheme, target, periods, results, quota, notes, report=report, files=files, ballots=ballots,
                      lists=make_lists(scheme, results, rows), items=tracked_items(scheme, target, rows),
                      scan_note=scan_note,
                      item_labels=item_labels(scheme, setup, chk.balloted))


def item_labels(scheme: Scheme, setup: Setup, units: set[str]) -> dict[str, dict[str, str]]:
    """unit code → ballot item key → the item's text (the unit's own criteria, or the ballot's fixed items)."""
    out: dict[str, dict[str, str]] = {}
    for u in setup.units:
        if u.code not in units:
            continue
        labels: dict[str, str] = {}
        for form in scheme.forms:
            if form.kind == "score_ballot" and form.applies(u.type):
                items = form.items if form.items != "criteria" else None
                if items is None:
                    labels.update((c.key, c.text) for c in setup.criteria.get(u.code, []))
                else:
                    labels.update((f"c{i:02d}", text) for i, text in enumerate(items or [], start=1))
        if labels:
            out[u.code] = labels
    return out


def _rows_by_unit(scheme: Scheme, chk: _Checked, period: str) -> dict[str, dict[str, list[Row]]]:
    """form id → unit code → the rows of that unit in ``period`` (township registers split by their unit column)."""
    out: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for fd in chk.col.forms:
        if fd.period != period or (period, _slot(scheme, chk.col, fd), fd.form_id) in chk.conflicts:
            continue
        if scheme.form(fd.form_id).scope == "unit":
            out[fd.form_id][fd.unit or ""].extend(fd.rows)
        else:
            for r in fd.rows:
                out[fd.form_id][str(r.get("unit") or "")].append(r)
    return out


def run_result(scheme: Scheme, target: str, periods: list[str], units: list[UnitResult], quota: list,
               notes: list[str], *, report: Report | None = None, files: list[InputFile] | None = None,
               ballots: list | None = None, **extra) -> RunResult:
    """A RunResult with everything the scheme says about how to show it (labels, columns, grades, formulas);
    ``extra``: further RunResult fields (lists, items, source …)."""
    return RunResult(
        scheme_id=scheme.scheme.id, scheme_name=scheme.scheme.name, scheme_version=scheme.scheme.version,
        scheme_source=scheme.scheme.source, period=target, periods=periods, units=units, quota=quota,
        report=report if report is not None else Report(), files=files or [], ballots=ballots or [],
        computed_at=datetime.now().strftime("%Y-%m-%d %H:%M:%S"), tool_version=villagescore.__version__,
        node_labels={k: v.label for k, v in scheme.nodes.items()}, display=list(scheme.display_nodes),
        leaves=[n for n in scheme.order() if n in scheme.leaves()],
        gradings=[(g.id, g.label) for g in scheme.gradings], places=scheme.scheme.places, notes=notes,
        grade_orders={g.id: list(g.grades) for g in scheme.gradings},
        form_titles={**{f.id: f.title for f in scheme.forms}, **layout.SETUP_TITLES},
        grade_colors={g.id: dict(g.colors) for g in scheme.gradings if g.colors},
        **formula_fields(scheme, target, periods), **extra,
    )


# ------------------------------------------------------------------ validate


EMPTY_CODES = frozenset({"form-empty", "register-empty"})  # a form not typed into yet: 未填写 in the coverage
COVERAGE_STATUS = {"ok": "齐全", "blank": "未填写", "error": "有错误", "missing": "缺少", "conflict": "有冲突", "n/a": "—"}
COUNT_LABELS = {"files": "文件", "read": "已读取", "setup": "基础信息", "skipped": "已跳过", "unreadable": "无法读取",
                "errors": "错误", "warnings": "提示", "units": "单位", "units_with_errors": "有错误的单位"}


@dataclass
class Coverage:
    """Which unit has which form: one cell per unit × (period, form), with a status from COVERAGE_STATUS."""

    units: list[tuple[str, str]]  # (code, name), roster order
    columns: list[tuple[str, str, str]]  # (period, form id, heading as printed)
    cells: dict[tuple[str, str, str], str]  # (unit code, period, form id) → status text
    errors: dict[str, int]  # unit code → errors that stop its result

    def table(self) -> list[list[str]]:
        """Header row then one row per unit: 单位, one status per column, 错误数."""
        rows = [["单位", *[h for _, _, h in self.columns], "错误数"]]
        for code, name in self.units:
            rows.append([f"{name}（{code}）", *[self.cells[code, p, f] for p, f, _ in self.columns],
                         str(self.errors.get(code, 0))])
        return rows


@dataclass
class ValidationResult:
    report: Report
    coverage: Coverage
    counts: dict[str, int]  # keys of COUNT_LABELS
    files: list[InputFile]
    periods: list[str]

    @property
    def exit_code(self) -> int:
        """0 clean (warnings allowed), 1 data errors."""
        return 1 if self.report.errors else 0

    def issues_by_file(self) -> list[tuple[str, list[Issue]]]:
        """Issues grouped by file (errors first within a file; issues without a file last, as "")."""
        groups: dict[str, list[Issue]] = defaultdict(list)
        for i in self.report.issues:
            groups[i.file].append(i)
        order = sorted(groups, key=lambda f: (f == "", f))
        return [(f, sorted(groups[f], key=lambda i: (i.severity is not Severity.ERROR, i.sheet, cell_order(i.cell))))
                for f in order]

    def as_dict(self) -> dict:
        return {
            "periods": self.periods,
            "counts": self.counts,
            "coverage": {"columns": [{"period": p, "form": f, "heading": h} for p, f, h in self.coverage.columns],
                         "units": [{"unit_code": c, "unit_name": n,
                                    "forms": {f"{p}/{f}": self.coverage.cells[c, p, f] for p, f, _ in
                                              self.coverage.columns},
                                    "errors": self.coverage.errors.get(c, 0)} for c, n in self.coverage.units]},
            "files": [{"path": f.path, "sha256": f.sha256, "form": f.form_id, "unit": f.unit, "period": f.period,
                       "status": f.status} for f in self.files],
            "issues": self.report.as_dicts(),
        }


def validate(scheme: Scheme, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
             criteria: Path | None = None, progress: Progress | None = None,
             exclude: set[Path] | None = None, listed: Listed | None = None) -> ValidationResult:
    """Every check compute runs, without scoring results: the issues, a units × forms coverage table, counts.

    Without ``period`` every period found is checked (compute would ask which one). Raises
    FatalInput like compute when there is no roster or no form at all.
    """
    chk = _check(scheme, folders, period=period, roster=roster, criteria=criteria, progress=progress,
                 exclude=exclude, every_period=True, listed=listed, keep_ballots=False)
    report, setup = chk.report, chk.setup
    forms = _needed_forms(scheme)
    multi = len(chk.periods) > 1
    columns = [(p, f.id, f.short + (f"（{p}）" if multi else "")) for p in chk.periods for f in forms]
    errors: dict[str, list[Issue]] = defaultdict(list)
    for i in report.errors:
        errors[i.file].append(i)
    cells: dict[tuple[str, str, str], str] = {}
    for u in setup.units:
        for p, fid, _ in columns:
            key = (p, u.code if scheme.form(fid).scope == "unit" else chk.unit_zone.get(u.code, ""), fid)
            if not scheme.form(fid).applies(u.type):
                status = "n/a"
            elif key in chk.conflicts:
                status = "conflict"
            elif key not in chk.used:
                status = "missing"
            elif found := [i for f in chk.used[key] for i in errors[f]  # a township file: this unit's rows only
                           if key[1] or i.unit == u.code or (not i.unit and i.code != "unit-unknown")]:
                status = "blank" if all(i.code in EMPTY_CODES for i in found) else "error"
            else:
                status = "ok"
            cells[u.code, p, fid] = COVERAGE_STATUS[status]
    per_unit: dict[str, int] = defaultdict(int)
    for i in report.errors:
        if i.unit:
            per_unit[i.unit] += 1
    coverage = Coverage([(u.code, u.name) for u in setup.units], columns, cells, dict(per_unit))
    files = sorted(chk.col.files, key=lambda f: f.path)
    statuses = [f.status for f in files]
    counts = {
        "files": len(files),
        "read": sum(s in ("已读取", "自制表格，按表头识别", "网上问卷导出表") for s in statuses),
        "setup": statuses.count("基础信息"),
        "unreadable": statuses.count("无法读取"),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "units": len(setup.units),
        "units_with_errors": len(report.units_with_errors()),
    }
    counts["skipped"] = counts["files"] - counts["read"] - counts["setup"] - counts["unreadable"]
    return ValidationResult(report, coverage, {k: counts[k] for k in COUNT_LABELS}, files, chk.periods)


def _applies(scheme: Scheme, nid: str, unit_type: str) -> bool:
    node = scheme.nodes[nid]
    return not node.applies_to or unit_type in node.applies_to


Earlier = Callable[[str], "dict[str, dict[str, str | None]] | None"]  # period → unit → grading → grade


def _earlier(g, period: str, earlier: Earlier | None) -> list[tuple[str, dict[str, str | None] | None]]:
    """The grades of ``g.streak.grading`` in the periods before ``period``, newest first (None: not archived)."""
    out: list[tuple[str, dict[str, str | None] | None]] = []
    if not period:
        return out
    p = Period.parse(period)
    for _ in range(g.streak.periods - 1):
        p = p.previous()
        found = earlier(str(p)) if earlier else None
        out.append((str(p), None if found is None else {u: gr.get(g.streak.grading) for u, gr in found.items()}))
    return out


def grade_results(scheme: Scheme, results: list[UnitResult], places: int,
                  entered: dict[str, dict[str, str | None]] | None = None, *,
                  period: str = "", earlier: Earlier | None = None):
    """Every grading of the scheme on the results, in the scheme's order (later gradings see earlier grades);
    ``earlier`` gives archived grades of a period, for streak rules."""
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
            if g.streak:
                outcome = grade_streak(g, cands, _earlier(g, period, earlier), places)
            elif g.entered:
                outcome = grade_entered(g, cands, (entered or {}).get(g.id, {}), places)
            else:
                outcome = grade_units(g, cands, places)
        year_only = period and Period.parse(period).kind != "year"
        for r in group:
            gr = r.grades[g.id] = outcome.results[r.code]
            cons = g.consequences.get(gr.grade) if gr.grade else None
            if year_only and cons is not None and cons.period == "year":
                gr.provisional = True  # shown as 预计: applied once, on the year's result
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
