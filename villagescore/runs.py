"""What each command does, below the command line: one function per command, taking the arguments as given
and returning what the command line shows. The command line parses options, calls one of these, renders what
it returns and turns exceptions into exit codes; it is the only place that imports typer and rich, and nothing
here prints.

- ``template``: blank setup forms, or every form of a period (and readable ballots);
- ``compute``: the forms read, scored and graded (``pipeline.compute``) or a year from the archive, earlier
  periods from the archive (``history``), then the summary, the decision sheet, 公示 and CSV staged and put in
  place together with the run recorded in the archive (``io/outputs.py``);
- ``validate``: the checks (``pipeline.validate``), and the issue list written;
- ``explain``: one unit's score in words;
- ``history_runs``, ``history_unit``, ``history_export``: the archive read;
- ``scan``: scanned ballots into the entry workbooks (``scan.py``);
- ``scheme_list``, ``load_scheme``; ``demo``.

A run refused before its work (a folder not found, an output that exists without ``force``, an archive that
cannot be used …) raises ``Refused``; input that makes the work impossible raises ``FatalInput`` (a roster
without units, no period to compute). Both say why in Chinese. Heavy modules are imported where they are used,
so that importing this module costs little.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from villagescore.core.issues import Report

if TYPE_CHECKING:
    from villagescore.core.periods import Period
    from villagescore.core.records import RunResult
    from villagescore.core.scheme import Scheme
    from villagescore.io.archive import Archive, Run, TimelineEntry
    from villagescore.scan import ScanRun
    from villagescore.stages.validate import ValidationResult

ARCHIVE_NAME = "villagescore.db"  # the results archive, beside the summary unless --archive says otherwise
SETUP_KINDS = {"roster": "名册", "criteria": "考核细则", "ledger": "民生诉求台账"}
BALLOT_CHOICES = ("excel", "scan", "both")


class Refused(Exception):
    """A run refused before (or instead of) its work: ``message`` says why in Chinese, ``hint`` (optional) what to
    write instead; the command line prints them and exits with ``code``."""

    def __init__(self, message: str, hint: str = "", code: int = 2):
        self.message, self.hint, self.code = message, hint, code
        super().__init__(message)


class Progress(Protocol):
    """What a run says while it runs: a task begun (its size when known), its size once known, each item done
    (its name, and how many it counts for), and a note to show at once."""

    def begin(self, description: str, total: int | None = None) -> None: ...

    def size(self, total: int) -> None: ...

    def advance(self, current: str, n: int = 1) -> None: ...

    def note(self, text: str) -> None: ...


class Quiet:
    """A ``Progress`` that says nothing."""

    def begin(self, description: str, total: int | None = None) -> None:
        pass

    def size(self, total: int) -> None:
        pass

    def advance(self, current: str, n: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass


# ------------------------------------------------------------------ arguments checked before the work


def load_scheme(name: str) -> Scheme:
    """A built-in scheme by name, or a scheme file (``SchemeError`` when it has errors)."""
    from villagescore.io import schemes

    return schemes.load(name)


def check_folders(folders: list[Path]) -> None:
    for f in folders:
        if not f.is_dir():
            raise Refused(f"找不到文件夹：{f}")


def check_new(path: Path, force: bool) -> None:
    """Refuse to overwrite an existing file unless ``force``."""
    if path.exists() and not force:
        raise Refused(f"{path} 已存在。如需覆盖，请加 --force。")


def check_output(output: Path, inputs: list[Path], force: bool) -> None:
    """An output is never written inside the folders read, nor over a file without ``force``."""
    from villagescore.stages.collect import is_inside

    if is_inside(output, inputs):
        raise Refused(f"输出文件 {output} 位于输入文件夹内，请换一个位置（例如 -o 上一级文件夹/汇总.xlsx）。")
    check_new(output, force)


def open_archive(path: Path) -> Archive:
    from villagescore.io.archive import Archive, ArchiveError

    try:
        return Archive(path)
    except ArchiveError as exc:
        raise Refused(f"无法使用结果档案库 {exc.path}：{exc.reason}") from None


def _listing(folders: list[Path]) -> tuple[list[Path], list[Path]]:
    """The folders' workbooks and other files, listed once: it sizes the progress bar and is what is read."""
    from villagescore.io.reader import iter_workbook_files

    others: list[Path] = []
    return iter_workbook_files(folders, others), others


def _write(path: Path, data: bytes) -> None:
    from villagescore.io.atomic import write_bytes_atomic

    write_bytes_atomic(path, data)


def unit_code(typed: str, codes: list[str]) -> str:
    """A unit code as the roster writes it: typed in another case or in full-width letters (mj05, ＭＪ０５) it is
    still found; an unknown code comes back as typed."""
    key = code_key(typed)
    return next((c for c in codes if c == typed), None) or next((c for c in codes if c.upper() == key), typed)


def code_key(typed: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", typed).strip().upper()


# ------------------------------------------------------------------ template


@dataclass
class Template:
    """Blank forms written: a setup form (``kind``) or every form of a period in a folder (``target``)."""

    kind: str | None
    target: Path
    report: Report
    period: Period | None = None
    files: int = 0
    carried: int | None = None  # open items of earlier periods typed into the tracked registers
    seed: int | None = None  # the callbacks' draw, when there is one
    ballots: str = "excel"

    @property
    def exit_code(self) -> int:
        """1 when the setup's errors stopped the forms."""
        return 1 if self.report.errors else 0


def template(scheme_name: str, kind: str | None = None, *, roster: Path | None = None, criteria: Path | None = None,
             ledger: Path | None = None, period: str | None = None, out: Path | None = None, seed: int | None = None,
             force: bool = False, archive: Path | None = None, evaluators: int | None = None,
             ballots: str = "excel", progress: Progress | None = None) -> Template:
    """A blank setup form (``kind``: roster, criteria, ledger), or every form of ``period`` for the units of
    ``roster`` (``ballots``: excel, scan or both for the ballots' print versions)."""
    progress = progress or Quiet()
    sch = load_scheme(scheme_name)
    from villagescore.core.layout import EVALUATORS_MAX

    if evaluators is not None and not 1 <= evaluators <= EVALUATORS_MAX:
        raise Refused(f"--evaluators 应为 1 至 {EVALUATORS_MAX} 之间的整数（每个单位发放的测评票张数）。")
    if ballots not in BALLOT_CHOICES:
        raise Refused(f"--ballots 只能是 {'、'.join(BALLOT_CHOICES)}，写的是“{ballots}”。")
    if kind is not None:
        return _template_setup(sch, kind, roster, out, force)
    needs_criteria = any(f.kind == "score_ballot" and f.items == "criteria" for f in sch.forms)
    needs_ledger = any(f.kind == "callback" for f in sch.forms)
    wanted = (("--roster", roster, True), ("--criteria", criteria, needs_criteria), ("--ledger", ledger, needs_ledger),
              ("--period", period, True))
    missing = [n for n, v, needed in wanted if needed and v is None]
    if missing:
        raise Refused(f"生成本期表格需要：{'、'.join(missing)}。", "示例：villagescore template --roster 名册.xlsx "
                      "--criteria 考核细则.xlsx --ledger 民生诉求台账.xlsx --period 2025H1 -o 2025H1表格")
    from villagescore.core.periods import Period

    try:
        per = Period.parse(period or "")
    except ValueError as exc:
        raise Refused(str(exc)) from None
    target = out or Path(f"{per}表格")
    if target.exists() and any(target.iterdir()) and not force:
        raise Refused(f"文件夹 {target} 已有文件。如需覆盖其中的表格，请加 --force。")
    from villagescore.io.outputs import check_folder

    check_folder(target)  # the folder can take the forms: said before the work
    from villagescore.pipeline import make_forms

    carried = None
    if archive is not None:
        if not archive.exists():
            raise Refused(f"找不到结果档案库：{archive}")
        from villagescore.history import open_items

        with open_archive(archive) as arc:
            carried = open_items(arc.items(sch.scheme.id, before=str(per)))
    assert roster is not None
    forms_scheme = sch if ballots != "scan" else _without_printed_ballots(sch)
    progress.begin("生成表格")
    run = make_forms(forms_scheme, roster, criteria, ledger, str(per), target, seed, progress.advance,
                     carried=carried, evaluators=evaluators)
    if not run.report.errors and ballots != "excel":
        from villagescore.scan import print_ballots
        from villagescore.stages.setup import load_setup

        setup, _ = load_setup(sch, roster, criteria, None)
        run.paths += print_ballots(sch, setup, str(per), target, progress.advance, evaluators=evaluators)
    return Template(None, target, run.report, per, len(run.paths), None if carried is None else len(carried),
                    run.seed if run.draws else None, ballots)


def _template_setup(sch: Scheme, kind: str, roster: Path | None, out: Path | None, force: bool) -> Template:
    if kind not in SETUP_KINDS:
        raise Refused(f"不认识的表格种类“{kind}”，可选：roster、criteria、ledger。")
    from villagescore.io.forms import build_setup_workbook

    units = None
    if kind == "criteria" and roster is not None:  # rows ready for each unit of the roster
        from villagescore.stages.setup import load_setup

        setup, rep = load_setup(sch, roster, None, None)
        if rep.errors:
            return Template(kind, roster, rep)
        units = setup.units
    target = out or Path(f"{SETUP_KINDS[kind]}.xlsx")
    check_new(target, force)
    _write(target, build_setup_workbook(kind, sch, units))
    return Template(kind, target, Report())


def _without_printed_ballots(sch: Scheme) -> Scheme:
    """The scheme with its ballots' Excel print versions turned off (readable PDF ballots instead)."""
    forms = [f.model_copy(update={"printable": False}) if f.kind in ("score_ballot", "vote_ballot") else f
             for f in sch.forms]
    return sch.model_copy(update={"forms": forms})


# ------------------------------------------------------------------ scan


@dataclass
class Scan:
    """Scanned ballots read into the entry workbooks (``run``), or the setup's errors that stopped it."""

    run: ScanRun | None
    setup_report: Report

    @property
    def exit_code(self) -> int:
        """1 when the setup's errors stopped it, or a page or a mark is left to a person (review, not read in)."""
        if self.run is None:
            return 1 if self.setup_report.errors else 0
        return 1 if self.run.for_review or self.run.loose or self.run.report.errors else 0


def scan(scheme_name: str, scans: Path, out: Path, *, roster: Path | None = None, criteria: Path | None = None,
         period: str | None = None, force: bool = False, progress: Progress | None = None) -> Scan:
    """Read the scans in ``scans`` into the entry workbooks under ``out`` (the period's forms folder); the roster
    and criteria from ``out``'s ``00_基础信息`` unless given."""
    progress = progress or Quiet()
    sch = load_scheme(scheme_name)
    check_folders([scans])
    from villagescore.scan import scan as run_scan
    from villagescore.stages.setup import SETUP_DIR, SETUP_NAMES, load_setup

    roster = roster or out / SETUP_DIR / SETUP_NAMES["roster"]
    criteria = criteria or (out / SETUP_DIR / SETUP_NAMES["criteria"] if (out / SETUP_DIR).is_dir() else None)
    if not roster.is_file():
        raise Refused(f"找不到名册：{roster}。请用 --roster 指定（以及 --criteria 考核细则）。")
    if criteria is not None and not criteria.is_file():
        criteria = None
    setup, rep = load_setup(sch, roster, criteria, None)
    if rep.errors:
        return Scan(None, rep)
    progress.begin("读取扫描件")
    run = run_scan(sch, setup, scans, out, period=period, force=force, sized=progress.size, progress=progress.advance)
    return Scan(run, rep)


# ------------------------------------------------------------------ compute


@dataclass
class Computed:
    """A compute run: its result and every file written with it."""

    result: RunResult
    output: Path  # the summary
    decision_sheet: Path | None = None  # written beside the summary when items are left to the committee
    public: Path | None = None
    csv: list[Path] = field(default_factory=list)
    recorded: tuple[Path, int] | None = None  # the archive and the run's number in it

    @property
    def exit_code(self) -> int:
        """1 when the data has errors (the summary is written all the same, listing them)."""
        return 1 if self.result.report.errors else 0


def compute(scheme_name: str, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
            criteria: Path | None = None, output: Path | None = None, force: bool = False,
            archive: Path | None = None, no_archive: bool = False, public: Path | None = None,
            csv_dir: Path | None = None, decisions: Path | None = None,
            progress: Progress | None = None) -> Computed:
    """Read, check, score and grade the folders (or, without folders, combine ``period``'s year from the archive),
    then write the summary and its companions together and record the run in the archive.

    Every output path is checked before the work, so a bad one costs nothing; the archive (beside the summary
    unless ``archive`` says otherwise; none with ``no_archive``) gives earlier periods (comparison, tracked items,
    streak rules) and records the run; ``decisions``: a filled decision sheet given apart from the folders."""
    progress = progress or Quiet()
    sch = load_scheme(scheme_name)
    check_folders(folders)
    from villagescore.io.exports import CSV_NAMES
    from villagescore.io.outputs import Outputs, check_folder

    csv_paths = [csv_dir / name for name in CSV_NAMES] if csv_dir else []
    for path in (output, public, *csv_paths):
        if path:
            check_output(path, folders, force)
    # beside the summary; a summary named after the period (no -o) is written in the current folder
    arc_default = archive or (output.parent if output else Path(".")) / ARCHIVE_NAME
    arc_path = None if no_archive else arc_default
    outputs = Outputs()  # every output path is checked before the work: a bad one costs nothing
    outputs.check([output, public, *csv_paths, arc_path])
    if output is None:  # named after the period, in the current folder
        check_folder(Path("."))
    if arc_path is not None and arc_path.exists():
        open_archive(arc_path).close()  # a damaged or newer archive is said now, not after the work
    if decisions is not None and not decisions.is_file():
        raise Refused(f"找不到党委研究事项表：{decisions}")
    if folders:
        result = _compute_folders(sch, folders, period, roster, criteria, {p for p in (output, public) if p},
                                  arc_path, decisions, progress)
    else:
        result = _compute_from_archive(sch, period, arc_default, decisions)
    if output is None:
        output = Path(f"{sch.scheme.name}_{result.period}_汇总.xlsx")
        check_output(output, folders, force)
        outputs.check([output])
    sheet = _decision_target(result, output, decisions, folders, force)
    if sheet is not None:
        outputs.check([sheet])
    if arc_path is not None and arc_path.exists():  # nothing to read from an archive not made yet
        from villagescore.history import attach_previous, note_superseded, track_items

        with open_archive(arc_path) as arc:
            attach_previous(result, arc)
            track_items(result, arc)
            note_superseded(result, arc, any(g.streak for g in sch.gradings))
    from villagescore.io.summary import build_summary

    done = Computed(result, output, sheet)
    with outputs:  # what is staged goes if anything fails before the commit
        outputs.stage(output, build_summary(result))
        if sheet is not None:
            from villagescore.io.decision_sheet import build_decision_sheet

            outputs.stage(sheet, build_decision_sheet(result))
        if public:
            from villagescore.io.summary import build_public

            outputs.stage(public, build_public(result))
            done.public = public
        if csv_dir:
            from villagescore.io.exports import csv_files

            for name, data in csv_files(result).items():
                outputs.stage(csv_dir / name, data)
            done.csv = csv_paths
        done.recorded = _commit(outputs, result, scheme_name, arc_path)
    return done


def _compute_folders(sch: Scheme, folders: list[Path], period: str | None, roster: Path | None,
                     criteria: Path | None, outputs: set[Path], arc_path: Path | None = None,
                     decisions: Path | None = None, progress: Progress | None = None) -> RunResult:
    from villagescore import pipeline

    progress = progress or Quiet()

    def earlier(p: str):
        """Archived grades of an earlier period, for streak rules (e.g. two quarters 优秀 → 提级管理)."""
        if arc_path is None or not arc_path.exists():
            return None
        from villagescore.history import earlier_grades

        with open_archive(arc_path) as arc:
            return earlier_grades(arc, sch.scheme.id, p)

    listed = _listing(folders)
    progress.begin("读取表格", len(listed[0]))
    result = pipeline.compute(sch, folders, period=period, roster=roster, criteria=criteria, progress=progress.advance,
                              exclude=outputs or None, earlier=earlier if any(g.streak for g in sch.gradings) else None,
                              listed=listed, decisions=decisions)
    if period is None and len(result.periods) > 1:
        from villagescore.core.periods import Period

        progress.note(f"检测到 {'、'.join(result.periods)} 的表格，按 {Period.parse(result.period).label} 合并计算"
                      f"（只算一期请加 --period {result.periods[0]}）。")
    return result


def _compute_from_archive(sch: Scheme, period: str | None, path: Path, decisions: Path | None = None) -> RunResult:
    from villagescore.history import HistoryMissing, annual_from_archive

    if period is None:
        raise Refused("请给出表格文件夹；或用 --period 2025 从结果档案库合并全年结果。")
    if not path.exists():
        raise Refused(f"找不到结果档案库：{path}（请用 --archive 指定，或给出表格文件夹）")
    with open_archive(path) as arc:
        try:
            return annual_from_archive(sch, arc, period, decisions)
        except HistoryMissing as exc:
            raise Refused(exc.message) from None


def _decision_target(result: RunResult, output: Path, decisions: Path | None, folders: list[Path],
                     force: bool) -> Path | None:
    """Where the decision sheet of a run with items still open goes (beside the summary), or None: nothing open,
    or the file there is the decision sheet this run read (an input is never overwritten; said on screen)."""
    if not any(i.open for i in result.decisions):
        return None
    from villagescore.core.decisions import file_name

    target = output.parent / file_name(result.period)
    if decisions is not None and target.exists() and target.resolve() == decisions.resolve():
        return None
    check_output(target, folders, force)
    return target


def _commit(outputs, result: RunResult, scheme_name: str, arc_path: Path | None) -> tuple[Path, int] | None:
    """The run recorded in the archive, then every staged output put in place (``io.outputs``): on any failure
    nothing is changed, and the message says so."""
    from villagescore.io.archive import ArchiveError

    def withdraw(recorded: tuple[Path, int]) -> None:
        with open_archive(recorded[0]) as arc:
            arc.withdraw(recorded[1])

    try:
        return outputs.commit((lambda: _record(result, scheme_name, arc_path)) if arc_path is not None else None,
                              withdraw)
    except ArchiveError as exc:
        raise Refused(f"无法记入结果档案库 {exc.path}：{exc.reason}。汇总表等输出文件均未改动，本次结果未保存。") from None


def _record(result: RunResult, scheme_name: str, path: Path) -> tuple[Path, int]:
    import hashlib

    from villagescore.io import schemes
    from villagescore.io.archive import Archive

    digest = hashlib.sha256(schemes.resolve(scheme_name).read_bytes()).hexdigest()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # checked before the work (Outputs.check)
    except OSError as exc:
        from villagescore.io.archive import ArchiveError
        from villagescore.io.atomic import os_reason

        raise ArchiveError(path, os_reason(exc)) from None
    with Archive(path) as arc:  # its errors (ArchiveError) are said by the caller
        run_id = arc.record(result, digest)
    return path, run_id


# ------------------------------------------------------------------ validate


@dataclass
class Validated:
    result: ValidationResult
    report_file: Path | None = None  # the issue list written, to send back to the villages

    @property
    def exit_code(self) -> int:
        return self.result.exit_code


def validate(scheme_name: str, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
             criteria: Path | None = None, report_file: Path | None = None, force: bool = False,
             progress: Progress | None = None) -> Validated:
    """Every check compute runs, without scoring results; ``report_file``: the issue list saved as a workbook."""
    progress = progress or Quiet()
    sch = load_scheme(scheme_name)
    check_folders(folders)
    from villagescore.io.outputs import Outputs

    outputs = Outputs()
    if report_file:
        check_output(report_file, folders, force)
        outputs.check([report_file])
    from villagescore import pipeline

    listed = _listing(folders)
    progress.begin("检查表格", len(listed[0]))
    res = pipeline.validate(sch, folders, period=period, roster=roster, criteria=criteria, progress=progress.advance,
                            exclude={report_file} if report_file else None, listed=listed)
    if report_file:
        from villagescore.io.summary import build_issue_list

        with outputs:
            outputs.stage(report_file, build_issue_list(res.report))
            outputs.commit()
    return Validated(res, report_file)


# ------------------------------------------------------------------ explain


@dataclass
class Explained:
    unit: str
    lines: list[str]
    result: RunResult

    @property
    def exit_code(self) -> int:
        return 1 if self.result.report.errors else 0


def explain(scheme_name: str, unit: str, folders: list[Path], *, period: str | None = None,
            roster: Path | None = None, criteria: Path | None = None, decisions: Path | None = None,
            progress: Progress | None = None) -> Explained:
    """Compute the folders as ``compute`` does (writing nothing) and say how ``unit``'s score and grade came about,
    line by line."""
    sch = load_scheme(scheme_name)
    check_folders(folders)
    from villagescore.core.explain import explain_unit

    result = _compute_folders(sch, folders, period, roster, criteria, set(), decisions=decisions, progress=progress)
    code = unit_code(unit, [u.code for u in result.units])
    try:
        lines = explain_unit(result, code)
    except KeyError:
        codes = "、".join(u.code for u in result.units)
        raise Refused(f"名册中没有单位代码“{code}”（有：{codes}）") from None
    return Explained(code, lines, result)


# ------------------------------------------------------------------ history


def _archive_at(archive: Path) -> Archive:
    if not archive.exists():
        raise Refused(f"找不到结果档案库：{archive}（compute 会在汇总表所在文件夹建立 {ARCHIVE_NAME}）")
    return open_archive(archive)


def history_runs(archive: Path) -> list[Run]:
    """Every run recorded, periods in order and each period's runs in order."""
    with _archive_at(archive) as arc:
        return sorted(arc.runs(), key=lambda r: (r.period, r.id))


def history_export(archive: Path, target: Path | None, force: bool = False) -> Path:
    """The whole archive written to ``target`` as a workbook."""
    with _archive_at(archive) as arc:
        if target is None:
            raise Refused("请写出导出的文件名，例如：villagescore history export 档案.xlsx")
        check_new(target, force)
        from villagescore.io.archive import export_workbook

        _write(target, export_workbook(arc))
    return target


@dataclass
class UnitHistory:
    code: str
    entries: list[TimelineEntry]  # periods in order, a recomputation after the run it replaced
    items: list | None  # tracked items (问题整改清单) still open; None when the unit never had any


def history_unit(archive: Path, code: str) -> UnitHistory:
    """One unit's results in every archived run, and its tracked items still open (``Refused``, exit 1, when the
    archive has no record of it)."""
    with _archive_at(archive) as arc:
        entries = arc.timeline(code)
        if not entries and arc.timeline(code_key(code)):  # typed mj05 for MJ05
            code = code_key(code)
            entries = arc.timeline(code)
        entries = sorted(entries, key=lambda t: (t.period, t.run_id))
        if not entries:
            raise Refused(f"档案库中没有单位 {code} 的记录。", code=1)
        from villagescore.history import open_items

        items = arc.items(None, unit=code)
        return UnitHistory(code, entries, open_items(items) if items else None)


# ------------------------------------------------------------------ scheme, demo


def scheme_list() -> list[tuple[str, Scheme | Exception]]:
    """Every built-in scheme by name, loaded, or the error that stops it loading (``SchemeError``)."""
    from villagescore.core.scheme import SchemeError
    from villagescore.io import schemes

    out: list[tuple[str, Scheme | Exception]] = []
    for name in schemes.builtin_names():
        try:
            out.append((name, schemes.load(name)))
        except SchemeError as exc:
            out.append((name, exc))
    return out


def demo(out: Path, progress: Progress | None = None) -> tuple[RunResult, Path]:
    """The made-up township's whole cycle in ``out`` (``demo.py``): its year's result and summary."""
    progress = progress or Quiet()
    from villagescore.demo import run_demo
    from villagescore.io.outputs import check_folder

    check_folder(out)
    progress.begin("演示")
    return run_demo(out, progress.advance)


__all__ = ["Refused", "Progress", "Quiet", "template", "scan", "compute", "validate", "explain", "history_runs",
           "history_unit", "history_export", "scheme_list", "load_scheme", "demo", "ARCHIVE_NAME", "SETUP_KINDS",
           "BALLOT_CHOICES"]
