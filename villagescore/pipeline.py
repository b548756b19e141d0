"""The library's entry points, each the stages composed in the order the data flows (``villagescore/stages/``):

- ``make_forms``: the setup and the scheme → every blank form of a period (``stages/template.py``);
- ``compute``: filled workbooks → ``RunResult`` (scores, ranks, grades, lists);
- ``validate``: the same reading and checks → ``ValidationResult`` (issues, coverage, counts).

Reading runs in two phases: the setup first (``stages/setup.py``), then every form, parsed against that setup
where it is read (``stages/collect.py``, ``stages/parse.py``); then the checks (``stages/check.py``), scoring
(``stages/score.py``) and grading (``stages/grade.py``), or the coverage (``stages/validate.py``).

File I/O through ``villagescore.io``; never imports typer or rich. Progress is reported through a plain callback
so the command line can draw a bar. Writing the outputs and the archive is ``villagescore/runs.py``'s job.
"""

from __future__ import annotations

from pathlib import Path

from villagescore.core.issues import FatalInput, Report, compact, dedupe
from villagescore.core.periods import choose_periods
from villagescore.core.records import RunResult, name_units
from villagescore.core.run import Earlier
from villagescore.core.scheme import Scheme
from villagescore.io.reader import FileRefused, Workbook, read_workbook
from villagescore.stages import Progress
from villagescore.stages.check import Checked, decide_rows, decision_book, unit_inputs
from villagescore.stages.collect import Collected, Listed, collect, identify_foreign, resolve_foreign
from villagescore.stages.grade import result
from villagescore.stages.parse import FormParser, parse_forms, unparse
from villagescore.stages.score import score_period
from villagescore.stages.setup import FoldersSetup, folders_setup, load_setup, setup_inputs
from villagescore.stages.survey import add_tallies, find_exports, settle as settle_surveys
from villagescore.stages.template import TemplateRun, make_forms
from villagescore.stages.validate import ValidationResult, validation

__all__ = ["make_forms", "compute", "validate", "check_folders", "load_setup", "TemplateRun", "ValidationResult",
           "FatalInput"]


def compute(scheme: Scheme, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
            criteria: Path | None = None, ledger: Path | None = None, progress: Progress | None = None,
            exclude: set[Path] | None = None, earlier: Earlier | None = None,
            listed: Listed | None = None, decisions: Path | None = None) -> RunResult:
    """Scores, ranks, grades and lists of one period (or a year from its parts) read from the folders.

    ``earlier`` returns the archived grades of an earlier period (for streak rules such as 提级管理);
    ``listed``: the folders' files as ``iter_workbook_files`` lists them, when the caller has them;
    ``decisions``: a filled decision sheet (党委研究事项) given apart from the folders (those in them are read too)."""
    chk = check_folders(scheme, folders, period=period, roster=roster, criteria=criteria, progress=progress,
                        exclude=exclude, listed=listed, decisions=decisions)
    return result(scheme, chk, earlier)


def validate(scheme: Scheme, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
             criteria: Path | None = None, progress: Progress | None = None,
             exclude: set[Path] | None = None, listed: Listed | None = None,
             decisions: Path | None = None) -> ValidationResult:
    """Every check compute runs, without scoring results: the issues, a units × forms coverage table, counts.

    Without ``period`` every period found is checked (compute would ask which one). Raises
    FatalInput like compute when there is no roster or no form at all.
    """
    chk = check_folders(scheme, folders, period=period, roster=roster, criteria=criteria, progress=progress,
                        exclude=exclude, every_period=True, listed=listed, decisions=decisions)
    return validation(scheme, chk)


def check_folders(scheme: Scheme, folders: list[Path], *, period: str | None, roster: Path | None,
                  criteria: Path | None, progress: Progress | None, exclude: set[Path] | None,
                  every_period: bool = False, listed: Listed | None = None, decisions: Path | None = None) -> Checked:
    """Read the folders and run every check (files, cells, tables, coverage, ballots), scoring each unit."""
    report = Report()
    early: dict[tuple, FoldersSetup] = {}

    def plan(setup_files: Collected, bases: list[Path], books: dict) -> FormParser | None:
        """When the setup folders already decide the setup, forms are parsed where they are read."""

        def read(path: Path) -> Workbook:  # the setup files just read, not read again
            wb = books.get(path)
            if isinstance(wb, FileRefused):
                raise wb
            return wb if wb is not None else read_workbook(path)

        try:
            known = folders_setup(scheme, folders, setup_files, roster, criteria, read)
        except FatalInput:
            return None
        early[setup_inputs(setup_files, roster, criteria)] = known
        return FormParser(scheme, known.setup, bases)

    col = collect(scheme, folders, report, progress, exclude, plan=plan, listed=listed)
    inputs = setup_inputs(col, roster, criteria)
    chosen = early.get(inputs)
    if chosen is None:  # the whole folders decide otherwise: forms parsed in workers are parsed again here
        chosen = folders_setup(scheme, folders, col, roster, criteria)
        unparse(col, report)
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
    parse_forms(scheme, setup, col, periods, report)
    settle_surveys(col, report)
    chk = Checked(report, col, setup, target, periods, unit_zone=unit_zone)
    chk.book = decision_book(scheme, setup, col, target, periods, decisions, report)
    for p in periods:
        decide_rows(scheme, setup, col, p, chk)
        score_period(scheme, p, unit_inputs(scheme, setup, col, p, report, chk), chk)
    report.issues = compact(name_units(dedupe(report.issues), setup))
    return chk
