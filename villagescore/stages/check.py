"""The checks of a run's forms, period by period: each unit's rows and their sources (``UnitInputs``) and the
issues of the files as a whole (several files of one form, a township form's rows by unit, a form missing, vote
ballots counted), and the committee's decisions read (``decision_book``) and applied to register rows.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

from villagescore.core import layout
from villagescore.core.decisions import DecisionBook
from villagescore.core.issues import FatalInput, Report, issue
from villagescore.core.records import FormData, InputFile, Setup
from villagescore.core.scheme import Form, Scheme, VoteBallot
from villagescore.core.scoring import Source, UnitInputs, UnitScore
from villagescore.core.votes import count_votes
from villagescore.io.reader import FileRefused, read_workbook
from villagescore.stages.collect import Collected
from villagescore.stages.parse import form_members


@dataclass
class Checked:
    """Everything compute and validate share: the same reading, the same checks, the same issues."""

    report: Report
    col: Collected
    setup: Setup
    target: str
    periods: list[str]
    scores: dict[str, dict[str, UnitScore]] = field(default_factory=lambda: defaultdict(dict))  # period → unit →
    vetoes: dict[str, list[str]] = field(default_factory=dict)
    entered: dict[str, dict[str, str | None]] = field(default_factory=lambda: defaultdict(dict))
    # the ballot lines for 测评明细, kept in the run's spool (``io/spool.py``; validate keeps none): score ballots as
    # each unit is scored (``lines``), vote ballots as each form is counted (``ballots``, after the score ballots)
    lines: Any = field(default_factory=list)
    ballots: Any = field(default_factory=list)
    balloted: set[str] = field(default_factory=set)  # units with ballot lines
    # (period, unit code or, for a township form, its township's folder index or "", form) → files
    used: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    unit_zone: dict[str, str] = field(default_factory=dict)  # unit → its township's folder (a county run)
    conflicts: set[tuple[str, str, str]] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # units held back by a township form not typed into (said once)
    book: DecisionBook = field(default_factory=lambda: DecisionBook(""))  # the committee's decisions (党委研究事项)


class Dropped:
    """Ballot lines nobody will read (validate writes no 测评明细)."""

    def extend(self, lines) -> None:
        pass


def slot(scheme: Scheme, col: Collected, fd: FormData) -> str:
    """Whom a form's file is for: its unit, or for a township form its township's folder index ("" for one)."""
    return (fd.unit or "") if scheme.form(fd.form_id).scope == "unit" else col.zones.get(fd.file, "")


def decision_book(scheme: Scheme, setup: Setup, col: Collected, target: str, periods: list[str],
                  explicit: Path | None, report: Report) -> DecisionBook:
    """The committee's decisions given to the run: decision sheets found in the folders and ``explicit``
    (``--decisions``), checked as files (scheme, period, one sheet per period) and cell by cell."""
    from villagescore.io.decision_sheet import gather_decisions

    sheets = dict(col.decisions)
    if explicit is not None:
        try:
            wb = read_workbook(explicit)
        except FileRefused as exc:
            raise FatalInput(f"无法读取党委研究事项表 {explicit}：{exc.issue(str(explicit)).message}") from None
        if (wb.identity or {}).get("role") != layout.DECISIONS_ROLE:
            raise FatalInput(f"{explicit} 不是党委研究事项表（应为 compute 生成的“党委研究事项_期间.xlsx”，填写后提交）")
        sheets = {name: other for name, other in sheets.items() if other.sha256 != wb.sha256}  # read once
        sheets[str(explicit)] = wb
        col.files.append(InputFile(str(explicit), wb.sha256, layout.DECISIONS_ROLE, "",
                                   (wb.identity or {}).get("period", ""), status="党委研究事项"))
    found, issues = gather_decisions(scheme.scheme.id, sheets, periods)
    report.extend(issues)
    return DecisionBook(target, found, {u.code: f"{u.full_name}（{u.code}）" for u in setup.units})


def decide_rows(scheme: Scheme, setup: Setup, col: Collected, period: str, chk: Checked) -> None:
    """The rows of ``period``'s registers that the scheme leaves to the committee (``Form.decide``): an item each,
    the decided ones read as decided (before any scoring reads them). Forms of conflicting files count for nobody."""
    forms = {f.id for f in scheme.forms if f.decide is not None}
    if not forms:
        return
    slots: dict[tuple[str, str], int] = defaultdict(int)
    for fd in col.forms:
        if fd.period == period:
            slots[slot(scheme, col, fd), fd.form_id] += 1
    for fd in col.forms:
        if fd.period != period or fd.form_id not in forms or fd.empty or slots[slot(scheme, col, fd), fd.form_id] > 1:
            continue
        form = scheme.form(fd.form_id)
        if form.scope == "unit":
            rows = [(r, fd.unit or "") for r in fd.rows]
        else:
            zone = col.zones.get(fd.file, "")
            rows = [(r, code) for r in fd.rows if (code := str(r.get("unit") or "")) and setup.unit(code) is not None
                    and chk.unit_zone.get(code, "") == zone]
        chk.book.rows(form, period, rows, fd.file)
    chk.report.extend(chk.book.issues)
    chk.book.issues.clear()


def unit_inputs(scheme: Scheme, setup: Setup, col: Collected, period: str, report: Report,
                 chk: Checked) -> dict[str, UnitInputs]:
    """Every unit's rows and sources of ``period``, each form's file checked: conflicts, a township form's
    rows split by their unit column, and the forms a unit lacks."""
    inputs = {u.code: UnitInputs(u, period, setup.criteria.get(u.code, [])) for u in setup.units}
    groups: dict[tuple[str, str], list[FormData]] = {}
    for fd in col.forms:
        if fd.period == period:
            groups.setdefault((slot(scheme, col, fd), fd.form_id), []).append(fd)
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
    _forms_missing(scheme, setup, period, groups, inputs, report, chk)
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
               chk: Checked) -> None:
    """A form nobody has typed into (already reported once): no rows for its unit (and the people it votes on), or
    for a township form every unit of its township it applies to, which are held back without an issue each."""
    if form.scope == "unit":
        codes = [slot, *(m.code for m in form_members(scheme, setup, form, slot))]
    else:
        codes = [c for c, ui in inputs.items() if chk.unit_zone.get(c, "") == slot and form.applies(ui.unit.type)]
        chk.held.update(codes)
    for code in codes:
        inputs[code].rows[form.id] = []
        inputs[code].sources[form.id] = Source(reported=True)


def _conflict(form: Form, unit: str, fds: list[FormData], period: str, inputs: dict[str, UnitInputs],
              report: Report, col: Collected, chk: Checked) -> None:
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
        inputs[code].sources[form.id] = Source(reported=True)


def _township_rows(scheme: Scheme, setup: Setup, form: Form, fd: FormData, zone: str,
                   inputs: dict[str, UnitInputs], report: Report, chk: Checked) -> None:
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
            inputs[u.code].sources[form.id] = Source(reported=True)


def _forms_missing(scheme: Scheme, setup: Setup, period: str, groups: dict[tuple[str, str], list[FormData]],
              inputs: dict[str, UnitInputs], report: Report, chk: Checked) -> None:
    """Every unit needs every form used by its score nodes: an error for each one missing."""
    for u in setup.units:
        for f in needed_forms(scheme, u.type):
            if (u.code if f.scope == "unit" else chk.unit_zone.get(u.code, ""), f.id) not in groups:
                report.add(issue("form-missing", unit=u.code, form=f"{f.title}（{period}）"))
                inputs[u.code].sources[f.id] = Source(reported=True)  # said once: not again by each leaf that reads it
                for m in form_members(scheme, setup, f, u.code):  # its people's votes: already reported
                    inputs[m.code].sources[f.id] = Source(reported=True)


def _votes(scheme: Scheme, setup: Setup, form: VoteBallot, fd: FormData, inputs: dict[str, UnitInputs],
           issued: int | None, report: Report, chk: Checked) -> None:
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
    counted: dict[str, int | str] = (
        {"发放": issued if issued is not None else "—", "收回": vc.returned, "有效票": vc.valid}
        if vc.how == "逐票录入" else {"人工统计": "测评结果汇总"})
    for key, _ in targets:
        code = unit if key == layout.SELF_KEY else key
        row = vc.per_target.get(key)
        inputs[code].rows[form.id] = [row] if row is not None else []
        inputs[code].sources[form.id] = (Source(fd.file, sheet, issued, counted) if row is not None
                                         else Source(reported=True))


def needed_forms(scheme: Scheme, unit_type: str | None = None) -> list[Form]:
    """Forms the score nodes read (for a unit of ``unit_type``: those it gets)."""
    needed = {n.form for n in scheme.leaves().values()}
    return [f for f in scheme.forms if f.id in needed and (unit_type is None or f.applies(unit_type))]
