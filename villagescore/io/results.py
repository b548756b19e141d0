"""Every archived unit result as a pandas DataFrame, for analysts who receive an office's ``villagescore.db``.

One row per run × unit, oldest run first and units in each run's rank order. Columns (see docs/exports.md):
the run (``run_id``, ``period``, ``scheme``, ``scheme_name``, ``scheme_version``, ``computed_at``, ``current``),
the unit (``unit_code``, ``unit_name``, ``unit_type``, ``secretary``, ``township``, ``ok``), ``rank``, one
``score_<node>`` per scored node of the run's own period, one ``grade_<grading>`` per grading, ``grade_pending``,
``grade_source`` (the committee's decision a grade came from), ``funds_change`` and ``funds_provisional``. Scores
and fund changes are ``decimal.Decimal`` (exact, as the summary prints them), or None where there is none.

A run records each grade's fund change as its summary showed it (applied, or 预计 for a longer period's result).
Runs recorded before the archive kept them (``funds_recorded`` 0) have them derived here from the grade's
consequence in the scheme file the run used, found by the file's SHA-256 recorded with the run among the built-in
schemes and the files given in ``schemes``; None when no such file is at hand. Only reads: pandas is imported
here, and this module only by ``villagescore.results``, so the command line never loads it.
"""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from villagescore.core.numbers import exact, round_half_up
from villagescore.core.periods import Period
from villagescore.io import schemes as scheme_files
from villagescore.io.archive import Archive

if TYPE_CHECKING:
    import pandas

    from villagescore.core.scheme import Scheme

RUN_COLUMNS = ["run_id", "period", "scheme", "scheme_name", "scheme_version", "computed_at", "current"]
UNIT_COLUMNS = ["unit_code", "unit_name", "unit_type", "secretary", "township", "ok", "rank"]


def _schemes_by_hash(wanted: set[str], extra: Iterable[str | os.PathLike]) -> dict[str, Scheme]:
    """The scheme files (built-in, then ``extra``) whose SHA-256 is one of ``wanted``, loaded."""
    paths = [scheme_files.builtin_dir() / f"{n}.toml" for n in scheme_files.builtin_names()]
    paths += [scheme_files.resolve(str(p)) for p in extra]
    found: dict[str, Scheme] = {}
    for path in paths:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest in wanted and digest not in found:
            found[digest] = scheme_files.load_file(Path(path))
    return found


def _sum(changes: list[Decimal]) -> Decimal | None:
    return sum(changes, Decimal(0)) if changes else None


def _derived(scheme: Scheme | None, base: str | None, grades: dict[str, str | None],
             period: str) -> tuple[Decimal | None, Decimal | None]:
    """(applied, provisional) change of working funds of a run recorded without them, summed over the gradings, as
    the run's summary showed it: a consequence of the year's result is provisional in a half-year or quarter."""
    if scheme is None or base is None:
        return None, None
    places = scheme.scheme.places
    part = Period.parse(period).kind != "year"
    applied: list[Decimal] = []
    provisional: list[Decimal] = []
    for g in scheme.gradings:
        cons = g.consequences.get(grades.get(g.id) or "")
        if cons is not None and cons.funds is not None:
            change = round_half_up(exact(Decimal(base)) * exact(cons.funds), places)
            (provisional if part and cons.period == "year" else applied).append(change)
    return _sum(applied), _sum(provisional)


def results(archive: str | os.PathLike, *, schemes: Iterable[str | os.PathLike] = ()) -> pandas.DataFrame:
    """Every unit result of every run in the archive at ``archive`` (see the module's docstring)."""
    import pandas as pd

    path = Path(archive)
    if not path.is_file():
        raise FileNotFoundError(f"找不到结果档案库：{path}")
    with Archive(path) as arc:
        db = arc.db
        runs = db.execute("SELECT id, period, scheme_id, scheme_name, scheme_version, computed_at, current, scheme_hash,"
                          " funds_recorded FROM runs ORDER BY id").fetchall()
        units = db.execute("SELECT run_id, unit_code, unit_name, unit_type, secretary, township, ok, funds_base"
                           " FROM unit_results ORDER BY run_id, rowid").fetchall()
        scores = db.execute("SELECT s.run_id, s.unit_code, s.node, s.rounded FROM unit_scores s"
                            " JOIN runs r ON r.id = s.run_id AND s.period = r.period ORDER BY s.run_id, s.rowid")
        score: dict[tuple[int, str], dict[str, str | None]] = {}
        nodes: dict[str, None] = {}  # in order of first appearance
        for run_id, code, node, rounded in scores:
            score.setdefault((run_id, code), {})[node] = rounded
            nodes.setdefault(node)
        grade: dict[tuple[int, str], dict[str, tuple]] = {}
        gradings: dict[str, None] = {}
        for run_id, code, gid, g, pending, rank, source, funds, provisional in db.execute(
                "SELECT run_id, unit_code, grading, grade, pending, rank, source, funds_change, provisional"
                " FROM unit_grades ORDER BY run_id, rowid"):
            grade.setdefault((run_id, code), {})[gid] = (g, pending, rank, source, funds, provisional)
            gradings.setdefault(gid)
    by_hash = _schemes_by_hash({r[7] for r in runs if not r[8]}, schemes)
    run_of = {r[0]: r for r in runs}
    rows = []
    for run_id, code, name, utype, secretary, township, ok, base in units:
        run = run_of[run_id]
        mine = grade.get((run_id, code), {})
        pending = [(gid, x[1]) for gid, x in mine.items() if x[1]]
        sources = [(gid, x[3]) for gid, x in mine.items() if x[3]]
        if run[8]:  # recorded with the run
            applied = _sum([Decimal(x[4]) for x in mine.values() if x[4] is not None and not x[5]])
            provisional = _sum([Decimal(x[4]) for x in mine.values() if x[4] is not None and x[5]])
        else:
            applied, provisional = _derived(by_hash.get(run[7]), base, {g: x[0] for g, x in mine.items()}, run[1])
        rows.append({
            "run_id": run_id, "period": run[1], "scheme": run[2], "scheme_name": run[3], "scheme_version": run[4],
            "computed_at": run[5], "current": bool(run[6]),
            "unit_code": code, "unit_name": name, "unit_type": utype, "secretary": secretary, "township": township,
            "ok": bool(ok), "rank": next((x[2] for x in mine.values() if x[2]), None),
            **{f"score_{n}": None if (v := score.get((run_id, code), {}).get(n)) is None else Decimal(v)
               for n in nodes},
            **{f"grade_{g}": mine[g][0] if g in mine else None for g in gradings},
            # as in units.csv: "好/中", or "grade:好/中; other:…" with several gradings pending
            "grade_pending": "; ".join(p if len(pending) == 1 else f"{g}:{p}" for g, p in pending) or None,
            # the committee's decision a grade came from, in the same form: "党委研究决定（…）" or "grade:…; other:…"
            "grade_source": "; ".join(x if len(sources) == 1 else f"{g}:{x}" for g, x in sources) or None,
            "funds_change": applied,
            "funds_provisional": provisional,
        })
    columns = [*RUN_COLUMNS, *UNIT_COLUMNS, *(f"score_{n}" for n in nodes), *(f"grade_{g}" for g in gradings),
               "grade_pending", "grade_source", "funds_change", "funds_provisional"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["computed_at"] = pd.to_datetime(frame["computed_at"], format="%Y-%m-%d %H:%M:%S")
    frame["rank"] = frame["rank"].astype("Int64")
    frame["current"] = frame["current"].astype(bool)
    frame["ok"] = frame["ok"].astype(bool)
    return frame
