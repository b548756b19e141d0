"""The run's result: the units' scores → their results (a year from its parts) → every grading, the committee's
decisions applied → the units in order, the scheme's lists and tracked items → ``RunResult``.

The pure part is ``core/run.py``; this stage adds what the forms read say (lists, tracked items, scans).
Never touches a file; never imports typer or rich.
"""

from __future__ import annotations

from collections import defaultdict

from villagescore.core.lists import make_lists, tracked_items
from villagescore.core.omr_review import scan_summary
from villagescore.core.records import Row, RunResult, name_units
from villagescore.core.run import Earlier, grade_results, item_labels, order_results, run_result, unit_results
from villagescore.core.scheme import Scheme
from villagescore.stages.check import Checked, slot


def result(scheme: Scheme, chk: Checked, earlier: Earlier | None = None) -> RunResult:
    """Results, ranks, grades and lists of the period checked (or the year from its parts); ``earlier`` gives the
    archived grades of an earlier period (for streak rules such as 提级管理)."""
    report, setup, target, periods = chk.report, chk.setup, chk.target, chk.periods
    results, _ = unit_results(scheme, setup.units, chk.scores, target, report.units_with_errors() | chk.held,
                              chk.vetoes)  # the scores' ballots went to chk.lines as each unit was scored
    ballots = chk.lines.then(chk.ballots)  # score ballots, then vote ballots (io/spool.Ballots)
    places, entered = scheme.scheme.places, chk.entered
    quota, notes = grade_results(scheme, results, places, entered, period=target, earlier=earlier, book=chk.book)
    chk.book.finish(periods)
    report.extend(name_units(chk.book.issues, setup))
    order_results(scheme, results)
    scanned, scan_note = scan_summary(chk.col.forms, periods)  # ballots read from scans (core/omr_review.py)
    files = sorted(chk.col.files + scanned, key=lambda f: f.path)
    rows = _rows_by_unit(scheme, chk, periods[-1] if target not in periods else target)
    notes += [i.note for i in chk.book.applied if i.kind != "tie"]  # a tie's note took the place of its pending one
    return run_result(scheme, target, periods, results, quota, notes, report=report, files=files, ballots=ballots,
                      lists=make_lists(scheme, results, rows), items=tracked_items(scheme, target, rows),
                      scan_note=scan_note,
                      item_labels=item_labels(scheme, setup, chk.balloted),
                      decisions=chk.book.ordered())


def _rows_by_unit(scheme: Scheme, chk: Checked, period: str) -> dict[str, dict[str, list[Row]]]:
    """form id → unit code → the rows of that unit in ``period`` (township registers split by their unit column)."""
    out: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for fd in chk.col.forms:
        if fd.period != period or (period, slot(scheme, chk.col, fd), fd.form_id) in chk.conflicts:
            continue
        if scheme.form(fd.form_id).scope == "unit":
            out[fd.form_id][fd.unit or ""].extend(fd.rows)
        else:
            for r in fd.rows:
                out[fd.form_id][str(r.get("unit") or "")].append(r)
    return out
