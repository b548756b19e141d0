"""One filled form workbook → its rows and the issues found in them, given the scheme and the setup.

``parse_form`` is what checking does with every form it keeps. ``FormParser`` does the same in a reading
worker as soon as a workbook is read, when the setup could be known before the forms were read (the roster
in ``00_基础信息``): the worker sends back the rows, not the grids, so memory holds compact records however
many files there are, and parsing runs on every core. Checking uses a worker's result only when the setup
it finally uses is the one the workers were given; otherwise it reads the file again and parses here.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from villagescore.core import layout
from villagescore.core.issues import Issue, issue
from villagescore.core.omr_review import SHEET_KEY, apply_review
from villagescore.core.records import FormData, Row, Setup
from villagescore.core.scheme import Form, Scheme
from villagescore.core.tables import find_header, parse_table
from villagescore.io.reader import Workbook, file_issues, sheet_issues
from villagescore.io.setup_reader import with_unit


@dataclass
class ParsedForm:
    """What checking needs of a form's workbook once it is parsed (no grids)."""

    sheet: str  # the entry sheet read (found by its header when renamed)
    rows: list[Row] = field(default_factory=list)
    tally: list[Row] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # cells, the sheet, the draw, identities, in that order
    file_issues: list[Issue] = field(default_factory=list)  # macros and hidden sheets of the file


def form_members(scheme: Scheme, setup: Setup, form: Form, code: str) -> list:
    """The people a unit's vote ballot votes on (none for other forms)."""
    if form.kind != "vote_ballot" or not code:
        return []
    return setup.members(code, form.members or scheme.scheme.member_types)


def parse_form(scheme: Scheme, setup: Setup, fd: FormData, wb: Workbook) -> ParsedForm:
    """Rows of ``fd``'s entry sheet (and a vote ballot's tally sheet) with every issue of its cells."""
    form = scheme.form(fd.form_id)
    unit = fd.unit or ""
    members = form_members(scheme, setup, form, unit)
    cols = layout.entry_columns(scheme, form, setup.criteria.get(unit, []), members)
    sheet = fd.sheet
    if sheet not in wb.sheets:  # a renamed entry sheet is found by its header
        sheet = next((s for s in wb.visible() if find_header(wb.sheets[s], cols)), sheet)
    out = ParsedForm(sheet)
    grid = wb.sheets.get(sheet)
    if grid is None:
        out.issues.append(issue("sheet-missing", file=fd.file, unit=unit, sheet=sheet))
        return out
    if form.kind == "vote_ballot" and layout.VOTE_TALLY_SHEET in wb.sheets:
        out.tally, problems, _ = parse_table(wb.sheets[layout.VOTE_TALLY_SHEET], layout.vote_tally_columns(form),
                                             file=fd.file, sheet=layout.VOTE_TALLY_SHEET, unit=unit,
                                             keep_if_only={"who", "row"})
        out.issues.extend(problems)
    review = fd.meta.get(SHEET_KEY)
    if review:  # ballots read from scans: the clerk's answers on the review sheet, as if typed (core/omr_review.py)
        if review in wb.sheets:
            grid, found, _ = apply_review(cols, grid, wb.sheets[review], file=fd.file, sheet=sheet, unit=unit,
                                          halves=form.halves)
            out.issues.extend(found)
        else:
            out.issues.append(issue("sheet-missing", file=fd.file, unit=unit, sheet=review))
    keep_if_only = {"score_ballot": {"serial"}, "vote_ballot": {"serial"}, "register": {"seq"}}.get(form.kind)
    rows, problems, _ = parse_table(grid, cols, file=fd.file, sheet=sheet, unit=unit, keep_if_only=keep_if_only)
    if form.scope == "township" and any(c.key == "unit" for c in cols):  # a cell problem holds back its row's unit
        problems = with_unit(problems, rows, "unit")
    elif form.scope == "unit":
        problems = _not_filled_yet(form, fd, sheet, rows, problems)
    out.rows = rows
    out.issues.extend(problems)
    out.issues.extend(sheet_issues(wb, fd.file, sheet, [r.row for r in rows], unit))
    located = replace(fd, sheet=sheet)
    if form.kind == "callback":
        out.issues.extend(draw_check(form, located, rows))
    if form.anonymous:
        out.issues.extend(identity_check(located, rows))
    return out


def _not_filled_yet(form: Form, fd: FormData, sheet: str, rows: list[Row], problems: list[Issue]) -> list[Issue]:
    """A unit's form nobody has typed into yet (a clerk checking while forms come in): one issue that says so,
    not one per empty cell. Only when every problem is an empty cell and those columns are empty in every row."""
    if not problems or any(i.code != "missing-value" for i in problems):
        return problems
    letters = {re.match(r"[A-Z]*", i.cell).group(0) for i in problems}
    keys = {k for r in rows for k, letter in (r.letters or {}).items() if letter in letters}
    if any(r.get(k) is not None for r in rows for k in keys):
        return problems  # partly filled: each empty cell is for the clerk to fill
    return [issue("form-empty", file=fd.file, sheet=sheet, unit=fd.unit or "", form=form.title,
                  count=len(problems), first=problems[0].cell)]


def draw_check(form: Form, fd: FormData, rows: list[Row]) -> list[Issue]:
    """Callback rows must be exactly the requests drawn when the form was made."""
    where = {"file": fd.file, "sheet": fd.sheet, "unit": fd.unit or ""}
    if fd.meta.get("foreign"):
        return [issue("draw-mismatch", **where, detail="这是自制表格，没有抽取记录，无法核对回访的是否为抽取的诉求")]
    out = []
    drawn = [x for x in fd.meta.get("drawn", "").split(",") if x]
    if len(drawn) < form.draw:
        out.append(issue("draw-short", file=fd.file, unit=fd.unit or "", count=len(drawn), want=form.draw))
    got = [str(r.get("request_id") or "") for r in rows]
    if sorted(got) != sorted(drawn):
        missing = sorted(set(drawn) - set(got))
        extra = sorted(set(got) - set(drawn))
        detail = "；".join(x for x in (missing and f"缺少 {'、'.join(missing)}",
                                         extra and f"多出 {'、'.join(extra)}") if x) or "顺序或数量不同"
        out.append(issue("draw-mismatch", **where, detail=detail))
    return out


_ID_PATTERNS = [(re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "手机号码"),
                (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "身份证号"),
                (re.compile(r"(姓名|署名|联系人|联系电话)\s*[:：]"), "姓名或联系方式")]


def identity_check(fd: FormData, rows: list[Row]) -> list[Issue]:
    """Anonymous registers must not carry phone or ID numbers typed into free text."""
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


def shown_name(path: Path, bases: list[Path]) -> str:
    """A file's name as checking shows it: from the first of ``bases`` it is under (its full path if none)."""
    for base in bases:
        try:
            return str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


def form_of(scheme: Scheme, wb: Workbook, name: str) -> FormData | None:
    """The form a workbook's identity record says it is (as ``collect`` records it), or None when it is no
    form of this scheme (a setup file, printable ballots, this tool's output, another scheme, no record)."""
    ident = wb.identity
    if not ident or ident.get("role", "") in ("setup", "print") or ident.get("role", "") in layout.OUTPUT_ROLES:
        return None
    if ident.get("scheme_id") != scheme.scheme.id:
        return None
    form_id = ident.get("form_id", "")
    try:
        scheme.form(form_id)
    except KeyError:
        return None
    sheet = ident.get("sheet") or (wb.sheet_order[0] if wb.sheet_order else "")
    return FormData(form_id, ident.get("unit_code") or None, ident.get("period", ""), name, sheet, wb.sha256, [],
                    dict(ident))


@dataclass
class FormParser:
    """Parses a form workbook where it was read (a worker process) and drops its grids.

    Picklable (sent once to each worker). ``name`` gives a file's name as checking shows it, so the issues
    made here read exactly as those made in checking. Workbooks that are no form of the scheme, or whose
    unit checking will not accept (not in the roster, a form not for its type), come back as they were read.
    """

    scheme: Scheme
    setup: Setup
    bases: list[Path]  # the folders file names are shown from (``collect._display_bases``)

    def name(self, path: Path) -> str:
        return shown_name(path, self.bases)

    def __call__(self, wb: Workbook) -> Workbook:
        fd = form_of(self.scheme, wb, self.name(wb.path))
        if fd is None:
            return wb
        form = self.scheme.form(fd.form_id)
        if form.scope == "unit":
            unit = self.setup.unit(fd.unit) if fd.unit else None
            if unit is None or not form.applies(unit.type):
                return wb
        parsed = parse_form(self.scheme, self.setup, fd, wb)
        parsed.file_issues = file_issues(wb, fd.file, {parsed.sheet}, fd.unit or "")
        return replace(wb, sheets={}, parsed=parsed)


__all__ = ["ParsedForm", "FormParser", "parse_form", "form_members", "form_of", "shown_name", "draw_check",
           "identity_check"]
