"""``villagescore scan``: a folder of scanned readable ballots → each unit's entry workbook, filled.

The scan files (scanner PDFs, phone JPEG/PNG, TIFF; any order, any orientation) are read page by page on
every core (``io/omr_read.py``). Pages are then sorted out here: a page that is not a ballot of this run
(no machine code, another scheme or period, a unit not on the roster) is listed in the overview and not
read into any unit; the pages of one ballot (unit, form, serial) are put together; a serial seen twice,
a page that cannot be aligned, a page printed from another layout, and every question the reader is not
sure of go to the unit's review sheet with a cut-out, and nothing of them is written as a value.

Output (``io/omr_book.py``): per unit and ballot form, the entry workbook ``template`` writes, in the same
place (``<code>_<name>/…_测评票录入_2025H1.xlsx``), with what was read; and ``扫描读票情况_<period>.xlsx``,
the overview. A blank entry workbook left there by ``template`` is replaced; one that holds anything typed
or read before is replaced only with ``force``. Every workbook is built before anything is written.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

from villagescore.core import layout
from villagescore.core.issues import Report, issue
from villagescore.core.omr import PAGE_ANSWERS, BallotLayout, Payload, answers, ballot_layout
from villagescore.core.omr_review import WHOLE, ReviewItem
from villagescore.core.periods import Period
from villagescore.core.records import Setup, Unit
from villagescore.core.scheme import Form, Scheme, ScoreBallot, VoteBallot
from villagescore.core.tables import column_letter, is_footer
from villagescore.io.atomic import write_bytes_atomic
from villagescore.io.batch import _context, cpu_count
from villagescore.io.forms import HEADER_ROW
from villagescore.io.period_forms import period_file_name, unit_folder
from villagescore.io.reader import FileRefused, is_lock_or_system_file, read_workbook, sha256_of
from villagescore.core.issues import FatalInput

Progress = Callable[[str, int], None]  # (file name, pages done since the last call)
BALLOT_KINDS = ("score_ballot", "vote_ballot")
Ballot = ScoreBallot | VoteBallot  # the forms of BALLOT_KINDS
PAGES_PER_TASK = 8
PARALLEL_MIN_PAGES = 6  # fewer pages are read in this process (fork); spawn costs more (PARALLEL_MIN_PAGES_SPAWN)
PARALLEL_MIN_PAGES_SPAWN = 40
MAX_WORKERS = 8
OVERVIEW = "扫描读票情况_{period}.xlsx"


class ScanFatal(FatalInput):
    """A run that cannot go on (no scan files, no period to read, outputs that would overwrite typing)."""


# ------------------------------------------------------------------ which ballot a machine code names


@dataclass
class Catalog:
    """Finds the layout printed for a machine code, built on first use (picklable: sent to each worker)."""

    scheme: Scheme
    setup: Setup
    forms: Path | None = None  # the period's forms folder: the ballots issued as its entry workbooks record them
    evaluators: int | None = None  # ballots issued to a unit the roster gives no number for (template --evaluators)

    def __post_init__(self) -> None:
        self._cache: dict[tuple, BallotLayout | None] = {}

    def __getstate__(self) -> dict:
        return {"scheme": self.scheme, "setup": self.setup, "forms": self.forms, "evaluators": self.evaluators}

    def __setstate__(self, state: dict) -> None:
        self.scheme, self.setup = state["scheme"], state["setup"]
        self.forms, self.evaluators = state.get("forms"), state.get("evaluators")
        self._cache = {}

    def issued(self, form: Ballot, unit: Unit, period: str) -> Ballot:
        """``form`` with the ballots issued to ``unit``: as its entry workbook in the forms folder records them,
        else the roster's 测评人数, else ``evaluators``, else the scheme's (the order ``template`` follows)."""
        count = unit.evaluators or self.evaluators
        if self.forms is not None:
            entry = self.forms / unit_folder(unit) / period_file_name(self.scheme, form, period, unit)
            try:
                made = (read_workbook(entry).identity or {}).get("issued", "") if entry.is_file() else ""
            except FileRefused:
                made = ""
            if made.isdigit():
                count = int(made)
        return layout.issued(form, count)

    def form(self, form_id: str) -> Ballot | None:
        f = next((f for f in self.scheme.forms if f.id == form_id), None)
        return f if isinstance(f, (ScoreBallot, VoteBallot)) else None

    def layout(self, form_id: str, unit_code: str, period: str) -> BallotLayout | None:
        key = (form_id, unit_code, period)
        if key not in self._cache:
            self._cache[key] = self._build(form_id, unit_code, period)
        return self._cache[key]

    def _build(self, form_id: str, unit_code: str, period: str) -> BallotLayout | None:
        form, unit = self.form(form_id), self.setup.unit(unit_code)
        if form is None or unit is None or unit.parent or not form.applies(unit.type):
            return None
        form = self.issued(form, unit, str(Period.parse(period)))
        try:
            return ballot_layout(self.scheme, form, unit, period, criteria=self.setup.criteria.get(unit.code, []),
                                 members=self.setup.members(unit.code, form.members or self.scheme.scheme.member_types)
                                 if form.kind == "vote_ballot" else None)
        except ValueError:
            return None

    def __call__(self, p: Payload) -> BallotLayout | None:
        if p.scheme_id != self.scheme.scheme.id:
            return None
        try:
            period = str(Period.parse(p.period))
        except ValueError:
            return None
        return self.layout(p.form_id, p.unit, period)


# ------------------------------------------------------------------ reading the pages (on every core)


_catalog: Catalog | None = None


def _start(catalog: Catalog) -> None:
    global _catalog
    _catalog = catalog


def _read_task(task: tuple[str, str, int, int]) -> list:
    from villagescore.io.omr_read import PageRead, ScanFileError, read_file_pages

    path, name, first, last = task
    assert _catalog is not None  # _start runs first (a worker's initializer, or before the tasks in this process)
    try:
        return list(read_file_pages(Path(path), name, _catalog, range(first, last + 1) if last else None))
    except ScanFileError as exc:
        return [PageRead(name, 0, "file-error", detail=str(exc))]
    except OSError as exc:
        return [PageRead(name, 0, "file-error", detail=f"读取文件出错（{exc.strerror or exc}）")]


def _read_all(tasks: list[tuple[str, str, int, int]], catalog: Catalog, progress: Progress | None,
              workers: int | None = None) -> list:
    """Every page of every task, in the order of the tasks (on every core when there are enough pages)."""
    pages = sum(max(1, last - first + 1) for _, _, first, last in tasks)
    ctx = _context()
    threshold = PARALLEL_MIN_PAGES if ctx.get_start_method() == "fork" else PARALLEL_MIN_PAGES_SPAWN
    workers = min(workers or cpu_count(), MAX_WORKERS, len(tasks))
    out: list = []

    def done(task, reads) -> None:
        out.extend(reads)
        if progress:
            progress(task[1], len(reads) or 1)

    finished = 0
    if workers >= 2 and pages >= threshold:
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start,
                                     initargs=(catalog,)) as pool:
                for task, reads in zip(tasks, pool.map(_read_task, tasks)):
                    done(task, reads)
                    finished += 1
            return out
        except (BrokenProcessPool, OSError):
            pass  # a worker died or could not start: what is left is read here
    tasks = tasks[finished:]
    _start(catalog)
    for task in tasks:
        done(task, _read_task(task))
    return out


# ------------------------------------------------------------------ the run


@dataclass
class ScanFile:
    name: str  # as shown: relative to the scans folder
    path: Path
    sha256: str = ""
    pages: int = 0
    read: int = 0  # ballot pages read into a unit's workbook
    error: str = ""


@dataclass
class UnitScan:
    unit: Unit
    form: Ballot
    path: Path  # the entry workbook
    received: int = 0  # ballots (serials) seen
    read: int = 0  # read whole by machine
    reviewed: int = 0  # with something for the clerk
    items: list[ReviewItem] = field(default_factory=list)
    values: dict[int, dict] = field(default_factory=dict)  # serial → column key → value
    files: dict[str, str] = field(default_factory=dict)  # scan file → SHA-256


@dataclass
class ScanRun:
    period: str
    files: list[ScanFile]
    units: list[UnitScan]
    loose: list[dict]  # pages read into no unit: file, page, reason, hint, image
    report: Report
    overview: Path | None = None
    blank_pages: int = 0
    paths: list[Path] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.files)

    @property
    def ballots(self) -> int:
        return sum(u.received for u in self.units)

    @property
    def machine_read(self) -> int:
        return sum(u.read for u in self.units)

    @property
    def for_review(self) -> int:
        return sum(u.reviewed for u in self.units)


def list_scans(folder: Path) -> list[Path]:
    from villagescore.io.omr_read import SCAN_SUFFIXES

    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for f in sorted(files):
            if os.path.splitext(f)[1].lower() in SCAN_SUFFIXES and not is_lock_or_system_file(Path(f)):
                found.append(Path(root) / f)
    return found


def _shown(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base.parent).as_posix()
    except ValueError:
        return path.name


def _tasks(files: list[ScanFile]) -> list[tuple[str, str, int, int]]:
    from villagescore.io.omr_read import page_count

    tasks = []
    for f in files:
        n = page_count(f.path)
        if f.path.suffix.lower() == ".pdf" and n > 0:
            tasks += [(str(f.path), f.name, a, min(a + PAGES_PER_TASK - 1, n)) for a in range(1, n + 1, PAGES_PER_TASK)]
        else:
            tasks.append((str(f.path), f.name, 1, 0))  # an image (or a PDF that will not open: said when read)
    return tasks


_HINTS = {
    "no-code": "如是机读测评票，请重新扫描（二维码要清晰完整）；否则不必处理。",
    "foreign": "不是本工具打印的测评票，不必处理。",
    "several": "请每页只扫描或拍摄一张测评票。",
    "undecodable": "请重新扫描该页。",
    "other-scheme": "请确认扫描件中只放本方案的测评票。",
    "other-period": "请把其他期间的测评票放到另一个文件夹读取。",
    "unknown": "请核对名册；该单位的票请另行录入。",
    "serial": "请核对该票：票号应在发放的票号范围内。",
}


def scan(scheme: Scheme, setup: Setup, scans: Path, out: Path, *, period: str | None = None, force: bool = False,
         progress: Progress | None = None, workers: int | None = None,
         sized: Callable[[int], None] | None = None) -> ScanRun:
    """Read every scan under ``scans`` and write the entry workbooks and the overview into ``out``.

    ``sized`` is told the number of pages once the files are listed; ``progress`` each file's pages as read."""
    report = Report()
    paths = list_scans(scans)
    if not paths:
        raise ScanFatal(f"文件夹 {scans} 中没有扫描件（PDF、JPEG、PNG 或 TIFF）")
    files = [ScanFile(_shown(p, scans), p) for p in paths]
    for f in files:
        try:
            f.sha256 = sha256_of(f.path)
        except OSError as exc:
            f.error = f"读取文件出错（{exc.strerror or exc}）"
    readable = [f for f in files if not f.error]
    catalog = Catalog(scheme, setup, out if out.is_dir() else None)
    tasks = _tasks(readable)
    if sized:
        sized(sum(max(1, last - first + 1) for _, _, first, last in tasks))
    reads = _read_all(tasks, catalog, progress, workers)
    by_name = {f.name: f for f in files}
    for r in reads:
        if r.status == "file-error":
            by_name[r.file].error = r.detail
        else:
            by_name[r.file].pages += 1
    for f in files:
        if f.error:
            report.add(issue("scan-file-unreadable", file=f.name, reason=f.error))
    target = _period(scheme, reads, period, lambda p: _has_forms(scheme, setup, out, p))
    run = ScanRun(target, files, [], [], report)
    _sort_pages(scheme, setup, catalog, reads, run, by_name, out)
    _write(scheme, setup, run, out, force)
    return run


def _has_forms(scheme: Scheme, setup: Setup, out: Path, period: str) -> bool:
    """Whether ``out`` holds the entry workbooks ``template`` wrote for ``period`` (the period's forms folder)."""
    forms = [f for f in scheme.forms if f.kind in BALLOT_KINDS]
    return any((out / unit_folder(u) / period_file_name(scheme, f, period, u)).exists()
               for u in setup.units if not u.parent for f in forms if f.applies(u.type))


def _period(scheme: Scheme, reads: list, wanted: str | None, has_forms: Callable[[str], bool]) -> str:
    if wanted:
        try:
            return str(Period.parse(wanted))
        except ValueError as exc:
            raise ScanFatal(str(exc)) from None
    found = set()
    for r in reads:
        p = r.payload
        if p is not None and p.scheme_id == scheme.scheme.id:
            try:
                found.add(str(Period.parse(p.period)))
            except ValueError:
                continue
    if len(found) == 1:
        return found.pop()
    folder = [p for p in sorted(found) if has_forms(p)]
    if len(folder) == 1:  # the output folder is that period's forms folder: the ballots of other periods wait
        return folder[0]
    if not found:
        raise ScanFatal("扫描件中没有找到本方案的机读测评票（请确认用 villagescore template --ballots scan 打印的票，"
                        "扫描时二维码清晰完整；或用 --scheme 指定方案）")
    raise ScanFatal(f"扫描件中有 {'、'.join(sorted(found))} 等多个期间的测评票，请用 --period 指定要读取的期间")


def _entry_cell(cols_pos: dict[str, int], serial: int, key: str) -> str:
    row = HEADER_ROW + 1 + serial  # 1-based: serial 1 is on the first record row (row 5)
    return f"{column_letter(cols_pos[key])}{row}" if key in cols_pos else f"第 {row} 行"


def _sort_pages(scheme: Scheme, setup: Setup, catalog: Catalog, reads: list, run: ScanRun, by_name: dict,
                out: Path) -> None:
    """Pages to units (ballots put together, duplicates and pages not read sent to review), or to the
    overview's list of pages read into no unit."""
    ballots: dict[tuple[str, str, int], list] = defaultdict(list)

    def loose(r, kind: str, reason: str) -> None:
        run.loose.append({"file": r.file, "page": r.page, "reason": reason, "hint": _HINTS.get(kind, ""),
                          "image": r.thumb})
        run.report.add(issue("scan-page-unread", file=r.file, page=r.page, reason=reason, hint=_HINTS.get(kind, "")))

    for r in reads:
        if r.status == "file-error":
            continue
        if r.status == "blank":
            run.blank_pages += 1
            continue
        p = r.payload
        if p is None:
            loose(r, r.status, r.detail)
            continue
        if p.scheme_id != scheme.scheme.id:
            loose(r, "other-scheme", f"这是考评方案“{p.scheme_id}”的测评票，本次读取的是“{scheme.scheme.id}”")
            continue
        try:
            per = str(Period.parse(p.period))
        except ValueError:
            per = p.period
        if per != run.period:
            loose(r, "other-period", f"这是 {Period.parse(per).label if per[:4].isdigit() else per} 的测评票，"
                                     f"本次读取的是 {Period.parse(run.period).label}")
            continue
        if r.status == "unknown":
            unit = setup.unit(p.unit)
            what = f"单位代码 {p.unit} 不在名册中" if unit is None else f"{unit.name}（{p.unit}）没有“{p.form_id}”测评票"
            loose(r, "unknown", what)
            continue
        lay = catalog.layout(p.form_id, p.unit, run.period)
        if lay is None or not 1 <= p.serial <= lay.serials:
            loose(r, "serial", f"票号 {p.serial:02d} 超出发放的 {lay.serials if lay else 0} 张")
            continue
        ballots[(p.form_id, p.unit, p.serial)].append(r)
    units: dict[tuple[str, str], UnitScan] = {}
    order = {u.code: i for i, u in enumerate(setup.units)}
    for (form_id, code, serial), pages in sorted(ballots.items(), key=lambda kv: (order.get(kv[0][1], 0), kv[0])):
        lay = catalog.layout(form_id, code, run.period)
        unit, ballot = setup.unit(code), catalog.form(form_id)
        assert lay is not None and unit is not None and ballot is not None  # as the pages were kept above
        form = catalog.issued(ballot, unit, run.period)  # ballots issued: as printed
        us = units.get((form_id, code))
        if us is None:
            folder = out / unit_folder(unit)
            us = units[(form_id, code)] = UnitScan(unit, form, folder / period_file_name(scheme, form, run.period, unit))
        members = setup.members(code, form.members or scheme.scheme.member_types) if form.kind == "vote_ballot" else []
        cols = layout.entry_columns(scheme, form, sorted(setup.criteria.get(code, []), key=lambda c: c.index),
                                    members)
        pos = {c.key: i for i, c in enumerate(cols)}
        _ballot(lay, serial, pages, us, pos, by_name)
    run.units = list(units.values())
    for us in run.units:
        if us.items:
            run.report.add(issue("scan-review-needed", unit=us.unit.code, form=us.form.title, count=us.reviewed,
                                 items=len(us.items), file=_shown(us.path, out)))


def _source(r) -> str:
    return f"{r.file} 第 {r.page} 页"


def _ballot(lay: BallotLayout, serial: int, pages: list, us: UnitScan, pos: dict[str, int], by_name: dict) -> None:
    """One ballot's pages into the unit's values and review items."""
    us.received += 1
    before = len(us.items)
    for r in pages:
        us.files[r.file] = by_name[r.file].sha256
    numbers = [r.payload.page for r in pages]
    whole = _entry_cell(pos, serial, WHOLE)
    if len(set(numbers)) < len(numbers):  # the same serial (and page) seen twice: neither is used
        for r in pages:
            others = "、".join(_source(x) for x in pages if x is not r)
            us.items.append(ReviewItem(serial, WHOLE, "整张票", f"票号 {serial:02d} 扫描到不止一张（另见 {others}），均未读入",
                                       list(PAGE_ANSWERS), r.thumb, _source(r), whole))
    else:
        values: dict = {}
        for r in pages:
            if r.status != "read":
                us.items.append(ReviewItem(serial, WHOLE, f"整张票（第 {r.payload.page} 页）" if len(lay.pages) > 1
                                           else "整张票", r.detail, list(PAGE_ANSWERS), r.thumb, _source(r), whole))
                continue
            by_name[r.file].read += 1
            page = lay.pages[r.payload.page - 1]
            for q in page.questions:
                d = r.decisions.get(q.key)
                if d is not None and d.value is not None:
                    values[q.key] = Decimal(d.value) if q.kind == "score" else d.value
                else:
                    seen = f"{d.reason}（读到：{d.seen}）" if d is not None and d.seen and d.seen != "空白" else \
                        (d.reason if d is not None else "未读取")
                    us.items.append(ReviewItem(serial, q.key, q.label, seen, answers(q), r.cuts.get(q.key, b""),
                                               _source(r), _entry_cell(pos, serial, q.key)))
        for missing in sorted(set(range(1, len(lay.pages) + 1)) - set(numbers)):
            us.items.append(ReviewItem(serial, WHOLE, f"整张票（第 {missing} 页）", f"没有扫描到第 {missing} 页",
                                       list(PAGE_ANSWERS), b"", "", whole))
        if values:
            us.values[serial] = values
    if len(us.items) > before:
        us.reviewed += 1
    else:
        us.read += 1


# ------------------------------------------------------------------ writing


def _untouched(path: Path, scheme: Scheme, form: Form, unit: Unit, period: str) -> bool:
    """Whether ``path`` is the blank entry workbook ``template`` wrote (nothing typed, nothing read)."""
    try:
        wb = read_workbook(path)
    except FileRefused:
        return False
    ident = wb.identity or {}
    if ident.get("role") != "entry" or ident.get("form_id") != form.id or ident.get("unit_code") != unit.code \
            or ident.get("period") != period or "scan_read" in ident:
        return False
    grid = wb.sheets.get(ident.get("sheet", ""), [])
    fixed = {0}  # 票号
    for row in grid[HEADER_ROW + 1:]:  # a signature line under the table is not typed in
        if not is_footer(row) and any(v not in ("", None) for i, v in enumerate(row) if i not in fixed):
            return False
    if layout.VOTE_TALLY_SHEET in wb.sheets:
        for row in wb.sheets[layout.VOTE_TALLY_SHEET][HEADER_ROW + 1:]:
            if not is_footer(row) and any(v not in ("", None) for v in row[2:]):
                return False
    return True


def _write(scheme: Scheme, setup: Setup, run: ScanRun, out: Path, force: bool) -> None:
    from villagescore.io.omr_book import SUMMARY_ROLE, filled_entry_workbook, overview_workbook

    overview = out / OVERVIEW.format(period=run.period)
    if not force:
        taken = [us.path for us in run.units if us.path.exists()
                 and not _untouched(us.path, scheme, us.form, us.unit, run.period)]
        if overview.exists():
            try:
                if (read_workbook(overview).identity or {}).get("role") != SUMMARY_ROLE:
                    taken.append(overview)
            except FileRefused:
                taken.append(overview)
        if taken:
            shown = "、".join(_shown(p, out) for p in taken[:5]) + (f" 等 {len(taken)} 个文件" if len(taken) > 5 else "")
            raise ScanFatal(f"{shown} 已有录入或读入的内容，未写入任何文件。确认要用这次读出的结果覆盖，请加 --force。")
    built: list[tuple[Path, bytes]] = []
    for us in run.units:
        lay_serials = us.form.evaluators
        values = [us.values.get(s, {}) for s in range(1, lay_serials + 1)]
        members = setup.members(us.unit.code, us.form.members or scheme.scheme.member_types) \
            if us.form.kind == "vote_ballot" else []
        built.append((us.path, filled_entry_workbook(
            scheme, us.form, run.period, us.unit, criteria=setup.criteria.get(us.unit.code, []), members=members,
            values=values, items=us.items, read=us.read, reviewed=us.reviewed, files=sorted(us.files.items()))))
    title = f"{scheme.scheme.name}扫描读票情况"
    rows = [[us.unit.code, us.unit.name, us.form.title, us.received, us.read, us.reviewed, len(us.items),
             _shown(us.path, out)] for us in run.units]
    files = [[f.name, f.sha256, f.pages, f.read] for f in run.files]
    built.append((overview, overview_workbook(title, run.period, scheme, rows, run.loose, files)))
    for path, data in built:
        write_bytes_atomic(path, data)
        run.paths.append(path)
    run.overview = overview


__all__ = ["scan", "ScanRun", "UnitScan", "ScanFile", "ScanFatal", "Catalog", "list_scans"]


# ------------------------------------------------------------------ printing (template --ballots scan)


def ballot_file_name(form: Form, period: str, unit: Unit) -> str:
    """E.g. ``C01_青山村_测评票（机读）_2025H1.pdf``."""
    from villagescore.io.forms import safe_name

    return safe_name("_".join([unit.code, unit.name, f"{form.short}（机读）", str(Period.parse(period))])) + ".pdf"


def print_ballots(scheme: Scheme, setup: Setup, period: str, out: Path,
                  progress: Callable[[str], None] | None = None, evaluators: int | None = None) -> list[Path]:
    """The readable ballots of every unit (a PDF per unit and ballot form, 票号 01..N, each ballot on its own
    page or pages), written into the unit's folder beside its entry workbook; ``evaluators``: ballots issued to a
    unit the roster gives no 测评人数 for. All are built before any is
    written; a unit without criteria stops the run (ValueError, as for the workbooks)."""
    from villagescore.io.omr_pdf import FontMissing, ballots_pdf, fonts

    try:
        fonts()
    except FontMissing as exc:
        raise FatalInput(str(exc)) from None
    period = str(Period.parse(period))
    catalog = Catalog(scheme, setup, evaluators=evaluators)
    built = []
    for unit in setup.units:
        if unit.parent:
            continue
        for form in scheme.forms:
            if not isinstance(form, (ScoreBallot, VoteBallot)) or form.scope != "unit" or not form.applies(unit.type):
                continue
            members = setup.members(unit.code, form.members or scheme.scheme.member_types) \
                if form.kind == "vote_ballot" else None
            form = catalog.issued(form, unit, period)
            lay = ballot_layout(scheme, form, unit, period, criteria=setup.criteria.get(unit.code, []),
                                members=members)
            catalog._cache[(form.id, unit.code, period)] = lay
            built.append((out / unit_folder(unit) / ballot_file_name(form, period, unit), ballots_pdf(lay)))
            if progress:
                progress(built[-1][0].name)
    for path, data in built:
        write_bytes_atomic(path, data)
    return [p for p, _ in built]
