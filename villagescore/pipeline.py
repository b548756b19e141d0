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
from villagescore.stages import Progress
from villagescore.io.spool import Ballots, Spool
from villagescore.stages.check import Checked, Dropped, decide_rows, decision_book, unit_inputs
from villagescore.stages.collect import (Collected, Listed, collect, identify_foreign, list_folders,
                                         read_setup_files, resolve_foreign)
from villagescore.stages.grade import result
from villagescore.stages.parse import FormParser, parse_forms, unparse
from villagescore.stages.score import score_period
from villagescore.stages.setup import FoldersSetup, folders_setup, load_setup, setup_inputs
from villagescore.stages.survey import add_tallies, find_exports, settle as settle_surveys
from villagescore.stages.template import TemplateRun, make_forms
from villagescore.stages.validate import ValidationResult, validation

__all__ = ["make_forms", "compute", "validate", "check_folders", "read_folders", "load_setup", "TemplateRun",
           "ValidationResult", "FatalInput"]


def compute(scheme: Scheme, folders: list[Path], *, period: str | None = None, roster: Path | None = None,
            criteria: Path | None = None, progress: Progress | None = None,
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
                        exclude=exclude, every_period=True, listed=listed, decisions=decisions, keep_ballots=False)
    return validation(scheme, chk)


def check_folders(scheme: Scheme, folders: list[Path], *, period: str | None, roster: Path | None,
                  criteria: Path | None, progress: Progress | None, exclude: set[Path] | None,
                  every_period: bool = False, listed: Listed | None = None, decisions: Path | None = None,
                  keep_ballots: bool = True) -> Checked:
    """Read the folders and run every check (files, cells, tables, coverage, ballots), scoring each unit: what
    compute and validate share.

    The forms' rows wait in a spool (``io/spool.py``) until their unit is scored, and are let go then; with
    ``keep_ballots`` the ballot lines go to the spool as each unit is scored, for 测评明细 (validate keeps none):
    a county's or a province's rows and ballots are never all in memory."""
    report = Report()
    spool = Spool()
    col, chosen = read_folders(scheme, folders, report, roster=roster, criteria=criteria, progress=progress,
                               exclude=exclude, listed=listed, spool=spool)
    setup = chosen.setup
    report.extend(chosen.issues)
    unit_zone = chosen.unit_zone or {}
    if chosen.unit_zone is None:
        col.zones = {}
    exports = find_exports(scheme, setup, col, report)  # online questionnaires (stages/survey.py)
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
    chk.lines, chk.ballots = (Ballots(spool), Ballots(spool)) if keep_ballots else (Dropped(), Dropped())
    chk.book = decision_book(scheme, setup, col, target, periods, decisions, report)
    for p in periods:
        decide_rows(scheme, setup, col, p, chk)
        score_period(scheme, p, unit_inputs(scheme, setup, col, p, report, chk), chk)
    report.issues = compact(name_units(dedupe(report.issues), setup))
    return chk


def read_folders(scheme: Scheme, folders: list[Path], report: Report, *, roster: Path | None,
                 criteria: Path | None, progress: Progress | None = None, exclude: set[Path] | None = None,
                 listed: Listed | None = None, spool: Spool | None = None) -> tuple[Collected, FoldersSetup]:
    """Every workbook of the folders and the setup the run uses, read in two phases.

    Phase one reads the setup: from the ``00_基础信息`` folders (or ``--roster``), before any form is read.
    Phase two reads every workbook, each form parsed against that setup where it is read (in the reading
    workers). When the whole folders decide on another setup (a roster outside ``00_基础信息``), or phase one
    could not decide one, the setup is read from everything found and the forms parsed early are read again, to
    be parsed against it; the result is the same either way, only slower. ``spool``: where the forms' rows wait
    (``io/spool.py``)."""
    files = list_folders(folders, exclude, listed)
    # phase one: the setup
    setup_files = read_setup_files(scheme, files)
    try:
        first: FoldersSetup | None = folders_setup(scheme, folders, setup_files.col, roster, criteria,
                                                   setup_files.read)
    except FatalInput:  # not decided by the setup folders: the whole folders may decide it
        first = None
    read_from = setup_inputs(setup_files.col, roster, criteria)
    # phase two: the forms, parsed against that setup where they are read
    # (their rows sent back pickled, into the spool unread until their unit is scored)
    parser = FormParser(scheme, first.setup, files.bases, pickle_rows=True) if first is not None else None
    col = collect(scheme, files, report, progress, setup_files, parser, spool)
    if first is not None and setup_inputs(col, roster, criteria) == read_from:
        return col, first
    chosen = folders_setup(scheme, folders, col, roster, criteria)  # another setup: the forms parsed again
    unparse(col, report)
    return col, chosen
