"""One filled form workbook → its rows and the issues found in them, given the scheme and the setup.

``parse_form`` parses one form; ``parse_forms`` every form a run keeps (of the periods computed, for a unit of
the roster), each parsed here unless a reading worker parsed it already. ``FormParser`` is what a reading worker
does as soon as a workbook is read, when the setup is known before the forms are read (phase one of
``pipeline.read_folders``: the roster in ``00_基础信息`` or ``--roster``): the worker sends back the rows, not the
grids, so memory holds compact records however many files there are, and parsing runs on every core. A
worker's result is used only when the setup finally used is the one the workers were given; otherwise
``unparse`` reads the file again and ``parse_forms`` parses it here.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from villagescore.core import layout
from villagescore.core.issues import Issue, Report, issue
from villagescore.core.omr_review import SHEET_KEY, apply_review
from villagescore.core.records import FormData, Row, Setup, Unit
from villagescore.core.scheme import CallbackForm, Form, Scheme
from villagescore.core.normalize import clean_text, is_blank, normalize, squash
from villagescore.core.tables import HEADER_SCAN, column_letter, find_header, parse_table
from villagescore.io.reader import FileRefused, Workbook, file_issues, read_workbook, sheet_issues
from villagescore.io.setup_reader import with_unit
from villagescore.io.spool import pickled
from villagescore.stages.collect import Collected, form_of, shown_name, units_named
from villagescore.stages.survey import SURVEY_KEY


@dataclass(slots=True)
class ParsedForm:
    """What checking needs of a form's workbook once it is parsed (no grids)."""

    sheet: str  # the entry sheet read (found by its header when renamed)
    rows: list[Row] = field(default_factory=list)
    tally: list[Row] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # cells, the sheet, the draw, identities, in that order
    file_issues: list[Issue] = field(default_factory=list)  # macros and hidden sheets of the file
    empty: bool = False  # nobody has typed into it yet (a register: nor declared 本期无…): counts for nobody
    # rows and tally pickled where they were parsed (``FormParser.pickle_rows``), for the reading process to put in
    # its spool as they are (``collect``); ``rows`` and ``tally`` are empty meanwhile
    blob: bytes | None = None


def form_members(scheme: Scheme, setup: Setup, form: Form, code: str) -> list:
    """The people a unit's vote ballot votes on (none for other forms)."""
    if form.kind != "vote_ballot" or not code:
        return []
    return setup.members(code, form.members or scheme.scheme.member_types)


def capacity(form: Form, setup: Setup) -> int:
    """The records a form's entry sheet holds as printed: a row per ballot, drawn request, tally line, register
    row or unit (rows further down than a margin below them are not read)."""
    if layout.is_ballot(form):
        return form.evaluators
    if form.kind == "callback":
        return form.draw
    if form.kind == "tally":
        return len(form.rows)
    if form.kind == "unit_scores":
        return len(setup.units)
    return form.max_rows


def parse_form(scheme: Scheme, setup: Setup, fd: FormData, wb: Workbook) -> ParsedForm:
    """Rows of ``fd``'s entry sheet (and a vote ballot's tally sheet) with every issue of its cells."""
    form = scheme.form(fd.form_id)
    unit = fd.unit or ""
    if form.kind in layout.BALLOT_KINDS:  # serials up to the ballots issued: as generated, else the roster's
        made = fd.meta.get("issued", "")
        known = setup.unit(unit) if unit else None
        form = layout.issued(form, int(made) if made.isdigit() else known.evaluators if known else None)
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
        tcols = layout.vote_tally_columns(form)
        out.tally, problems, _ = parse_table(wb.sheets[layout.VOTE_TALLY_SHEET], tcols,
                                             file=fd.file, sheet=layout.VOTE_TALLY_SHEET, unit=unit,
                                             keep_if_only={"who", "row"},
                                             capacity=len(layout.vote_targets(form, members)))
        out.issues.extend(problems)
        out.issues.extend(merged_cells(wb, layout.VOTE_TALLY_SHEET, out.tally, fd.file, unit))
    review = fd.meta.get(SHEET_KEY)
    if review:  # ballots read from scans: the clerk's answers on the review sheet, as if typed (core/omr_review.py)
        if review in wb.sheets:
            grid, found, _ = apply_review(cols, grid, wb.sheets[review], file=fd.file, sheet=sheet, unit=unit,
                                          halves=layout.is_ballot(form) and form.halves)  # (scans: ballots only)
            out.issues.extend(found)
        else:
            out.issues.append(issue("sheet-missing", file=fd.file, unit=unit, sheet=review))
    keep_if_only = {"score_ballot": {"serial"}, "vote_ballot": {"serial"}, "register": {"seq"}}.get(form.kind)
    rows, problems, header = parse_table(grid, cols, file=fd.file, sheet=sheet, unit=unit, keep_if_only=keep_if_only,
                                         capacity=capacity(form, setup))
    if form.scope == "township" and any(c.key == "unit" for c in cols):  # a cell problem holds back its row's unit
        problems = with_unit(problems, rows, "unit")
    declared = _declaration(form, grid, header, fd, sheet) if form.kind == "register" else None
    if declared is not None and declared.issues:
        problems = [*problems, *declared.issues]
    problems, out.empty = _not_filled_yet(scheme, form, fd, sheet, cols, rows, problems, out.tally, declared)
    if form.scope == "unit" and not fd.meta.get("foreign"):
        problems = identity_matches(setup, fd, wb, grid[:header - 1] if header else []) + problems
    out.rows = rows
    out.issues.extend(problems)
    out.issues.extend(merged_cells(wb, sheet, rows, fd.file, unit))
    out.issues.extend(sheet_issues(wb, fd.file, sheet, [r.row for r in rows], unit))
    located = replace(fd, sheet=sheet)
    if form.kind == "callback":
        out.issues.extend(draw_check(form, located, rows))
    if form.anonymous:
        out.issues.extend(identity_check(located, rows))
    return out


@dataclass
class _Declared:
    """A register's 本期无… box: what it says (是/否/None) and where."""

    value: str | None
    cell: str
    issues: list[Issue]


def _declaration(form: Form, grid: list[list], header: int | None, fd: FormData, sheet: str) -> _Declared:
    """The box right of the register's 本期无… label, above its header (None when the label is not there)."""
    col = layout.none_column(form)
    assert col is not None
    wanted = squash(clean_text(col.label)).rstrip(":：")
    for r in range((header - 1) if header else min(len(grid), HEADER_SCAN)):
        cells = grid[r]
        for i, raw in enumerate(cells):
            if not (isinstance(raw, str) and squash(clean_text(raw)).rstrip(":：") == wanted):
                continue
            j = next((j for j in range(i + 1, len(cells)) if not is_blank(cells[j])), None)
            if j is None:
                return _Declared(None, f"{column_letter(i + 1)}{r + 1}", [])
            cell = f"{column_letter(j)}{r + 1}"
            value, code, params = normalize(cells[j], col)
            bad = [issue(code, file=fd.file, sheet=sheet, cell=cell, unit=fd.unit or "", **params)] if code else []
            return _Declared(value, cell, bad)
    return _Declared(None, "", [])


def _not_filled_yet(scheme: Scheme, form: Form, fd: FormData, sheet: str, cols: list, rows: list[Row],
                    problems: list[Issue], tally: list[Row], declared: _Declared | None) -> tuple[list[Issue], bool]:
    """A form nobody has typed into yet (a clerk checking while forms come in, or a form not returned): one issue
    that says so, not one per empty cell, and the form counts for nobody (an untouched register is not "no
    reports": only its 本期无… box says that). Untouched: no value in any column the clerk types into, no cell
    problem but empty required cells, nothing on a vote ballot's tally sheet, nothing in a register's box.
    Returns (issues, whether the form is untouched and counts for nobody)."""
    where = {"file": fd.file, "sheet": sheet, "unit": fd.unit or ""}
    typed = [c.key for c in cols if c.key not in layout.prefilled_keys(form)]
    if form.kind == "register" and declared is not None and declared.value == "是" and rows:
        return [*problems, issue("register-none-but-rows", cell=declared.cell, label=form.none_label,
                                 count=len(rows), **where)], False
    if any(i.code != "missing-value" for i in problems):
        return problems, False
    if any(r.get(k) is not None for r in rows for k in typed):
        return problems, False  # partly filled: each empty cell is for the clerk to fill
    if any(v is not None for r in tally for k, v in r.values.items() if k not in ("who", "row")):
        return problems, False
    if form.kind == "register":
        if declared is not None and declared.value == "是":
            return problems, False  # declared: nothing this period
        scored = form.id in {n.form for n in scheme.leaves().values()} or form.veto_field is not None
        code = "register-empty" if scored else "register-empty-list"
        return [issue(code, label=form.none_label, form=form.title, **where)], scored
    detail = (f"应填的 {len(problems)} 个单元格都是空的（从 {problems[0].cell} 起）" if problems
              else "表中没有录入任何内容")
    return [issue("form-empty", form=form.title, detail=detail, **where)], True


def merged_cells(wb: Workbook, sheet: str, rows: list[Row], file: str, unit: str) -> list[Issue]:
    """An error for each merged range over a record row of the table: the reader gives every cell of a merge its
    top-left value (right for titles, wrong for scores: B5:D5 merged would score B5 three times)."""
    ranges = wb.merged.get(sheet, [])
    if not ranges or not rows:
        return []
    records = {r.row - 1 for r in rows}  # 0-based, as the ranges
    columns = {_col(letter) for r in rows[:1] for letter in (r.letters or {}).values()}
    out = []
    for r0, c0, r1, c1 in ranges:
        if (r0, c0) == (r1, c1):
            continue
        if any(r in records for r in range(r0, r1 + 1)) and any(c in columns for c in range(c0, c1 + 1)):
            out.append(issue("merged-cells", file=file, sheet=sheet, unit=unit,
                             cell=f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"))
    return out


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_GAP = re.compile(r"\s{2,}")  # between the parts of the info line (单位：…    期间：…    方案：…)
_UNIT_LABEL = re.compile(r"单位[:：]")


def _unit_parts(title: str) -> list[str]:
    """The 单位 parts of a form's title rows (from 单位： to the next gap of spaces)."""
    return [seg[m.start():] for seg in _GAP.split(title) if (m := _UNIT_LABEL.search(seg))]


def _word(text: str, code: str) -> bool:
    """``code`` in ``text`` as a whole word (no ASCII letter or digit either side), case-blind, as ``units_named``
    matches codes; without a regular expression per code (a county has thousands)."""
    if not code or (len(code) < 4 and code.isdigit()):
        return False
    text, code = text.upper(), code.upper()
    at = text.find(code)
    while at >= 0:
        before = text[at - 1] if at else ""
        after = text[at + len(code)] if at + len(code) < len(text) else ""
        if not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum()):
            return True
        at = text.find(code, at + 1)
    return False


def _named(text: str, setup: Setup) -> frozenset[str]:
    """``units_named`` remembered per text for this setup (a folder's name is asked for by each of its files)."""
    units = setup.units
    cache: tuple[list[Unit], int, dict[str, frozenset[str]]] | None = setup.__dict__.get("_named")
    if cache is None or cache[0] is not units or cache[1] != len(units):
        cache = setup.__dict__["_named"] = (units, len(units), {})
    found = cache[2].get(text)
    if found is None:
        if len(cache[2]) >= 4096:
            cache[2].clear()
        found = cache[2][text] = frozenset(units_named(text, setup))
    return found


def identity_matches(setup: Setup, fd: FormData, wb: Workbook, title_rows: list[list]) -> list[Issue]:
    """A form's hidden identity must name the unit its visible title (the 单位 of the info line) and its folder
    name, where they name one: an error naming all three when they disagree (an identity edited, or copied
    from another unit's form). The forms this tool writes carry the unit's code in both, found at once; other
    texts are matched against the whole roster."""
    claimed = setup.unit(fd.unit) if fd.unit else None
    if claimed is None:
        return []
    mine = {claimed.code, claimed.parent} - {""}
    # each text once (a merged banner repeats it in every cell it covers), as typed: names keep full-width brackets
    texts = dict.fromkeys(c.strip() for row in title_rows for c in row if isinstance(c, str) and c.strip())
    parts = [p for t in texts if "单位" in t for p in _unit_parts(t)]
    title = " ".join(parts) if parts else " ".join(texts)
    folder = wb.path.parent.name if wb.path is not None else ""

    def names_mine(text: str) -> tuple[bool, frozenset[str]]:
        """(text names this unit or names none, the units it names)."""
        if not text:
            return True, frozenset()
        said_codes = frozenset(c for c in mine if _word(text, c))
        if said_codes:
            return True, said_codes
        found = _named(text, setup)
        return not found or bool(found & mine), found

    title_ok, shown = names_mine(title)
    folder_ok, _ = names_mine(folder)
    if title_ok and folder_ok:
        return []
    names = {u.code: f"{u.full_name}（{u.code}）" for u in setup.units}

    def said(codes: frozenset[str]) -> str:
        return "、".join(names[c] for c in sorted(codes)) if codes else "（未写明单位）"

    return [issue("identity-mismatch", file=fd.file, sheet=fd.sheet, unit=claimed.code,
                  claimed=names[claimed.code], shown=said(shown), folder=f"“{folder}”" if folder else "（无）")]


def draw_check(form: CallbackForm, fd: FormData, rows: list[Row]) -> list[Issue]:
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
    pickle_rows: bool = False  # send the rows back pickled (``ParsedForm.blob``): the reader spools them unread

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
        if self.pickle_rows:
            parsed.blob, parsed.rows, parsed.tally = pickled(parsed.rows, parsed.tally), [], []
            # most forms have no issue: the empty tuple is one object for all of them where they arrive (a memory
            # trick the lists' type cannot say: the receiver only iterates them)
            parsed.issues, parsed.file_issues = parsed.issues or (), parsed.file_issues or ()  # type: ignore[assignment]
        return replace(wb, sheets={}, parsed=parsed)


__all__ = ["ParsedForm", "FormParser", "parse_form", "parse_forms", "unparse", "form_members", "draw_check",
           "identity_check", "identity_matches", "merged_cells", "capacity"]


# ------------------------------------------------------------------ every form of a run


def parse_forms(scheme: Scheme, setup: Setup, col: Collected, periods: list[str], report: Report) -> None:
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


def unparse(col: Collected, report: Report) -> None:
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
