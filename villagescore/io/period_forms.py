"""A period's set of blank forms: the name of each file and its unit's folder, and writing the whole set
(``write_period_forms``) atomically, on both cores for a large roster. What each form holds is ``io/forms.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeAlias

from villagescore.core import layout
from villagescore.core.draw import Draw
from villagescore.core.records import Criterion, Setup, Unit
from villagescore.core.scheme import Form, Scheme
from villagescore.io.forms import (
    BALLOT_KINDS,
    build_entry_workbook,
    build_print_ballots,
    build_print_votes,
    period_code,
    safe_name,
)
from villagescore.io.replay import PackageCache


def period_file_name(scheme: Scheme, form: Form, period: str, unit: Unit | None, *, printable: bool = False) -> str:
    """E.g. ``C01_青山村_测评票录入_2025H1.xlsx``, ``C01_青山村_测评票（打印）_2025H1.xlsx``, ``乡党委县委评分表_2025H1.xlsx``."""
    label = form.short + ("（打印）" if printable else "录入" if form.kind in BALLOT_KINDS else "")
    who = [unit.code, unit.name] if unit is not None and form.scope == "unit" else []
    return safe_name("_".join([*who, label, period_code(period)])) + ".xlsx"


def unit_folder(unit: Unit) -> str:
    return safe_name(f"{unit.code}_{unit.name}")


# Below this many units, starting worker processes costs more than it saves (benchmarks/county.py).
PARALLEL_MIN_UNITS = 48


def _unit_files(scheme: Scheme, period: str, unit: Unit, crit: list[Criterion],
                draw: Draw | None, members: list[Unit] | None = None,
                parent: Unit | None = None, values: dict[str, list[dict]] | None = None,
                evaluators: int | None = None, cache: PackageCache | None = None) -> list[tuple[str, bytes]]:
    """Every unit-scope workbook of one unit, as (path relative to the period folder, bytes).

    A person's forms (e.g. a secretary's rectification list) go into the folder of the person's unit;
    ``values`` (form id → rows) are typed into a form, e.g. the open items carried from earlier periods.
    Ballots are issued as the unit's 测评人数 says, else ``evaluators`` (the run's), else the scheme's number."""
    folder = unit_folder(parent or unit)
    out = []
    for form in (layout.issued(f, unit.evaluators or evaluators) for f in scheme.forms
                 if f.scope == "unit" and f.applies(unit.type)):
        out.append((f"{folder}/{period_file_name(scheme, form, period, unit)}",
                    build_entry_workbook(scheme, form, period, unit=unit, criteria=crit,
                                         draw=draw if form.kind == "callback" else None, members=members,
                                         values=(values or {}).get(form.id), cache=cache)))
        if form.kind == "score_ballot" and form.printable:
            out.append((f"{folder}/{period_file_name(scheme, form, period, unit, printable=True)}",
                        build_print_ballots(scheme, form, period, unit, crit, cache)))
        if form.kind == "vote_ballot" and form.printable:
            out.append((f"{folder}/{period_file_name(scheme, form, period, unit, printable=True)}",
                        build_print_votes(scheme, form, period, unit, members or [], cache)))
    return out


_worker_cache: PackageCache | None = None  # in a worker process of write_period_forms: the run's packages


def _start_worker(cache: PackageCache) -> None:
    global _worker_cache
    _worker_cache = cache
    from villagescore.io.batch import watch_parent

    watch_parent()


# a unit's arguments of ``_unit_files`` after the scheme and period: unit, criteria, draw, members, parent, values,
# evaluators
_UnitJob: TypeAlias = tuple[Unit, list[Criterion], Draw | None, list[Unit], Unit | None, dict[str, list[dict]] | None,
                            int | None]


def _chunk_files(args: tuple[Scheme, str, list[_UnitJob]]) -> list[tuple[str, bytes]]:
    scheme, period, jobs = args
    return [f for job in jobs for f in _unit_files(scheme, period, *job, cache=_worker_cache)]


def write_period_forms(scheme: Scheme, setup: Setup, period: str, out_dir: Path, draws: dict[str, Draw],
                       progress: Callable[[str], None] | None = None,
                       values: dict[str, dict[str, list[dict]]] | None = None,
                       evaluators: int | None = None) -> list[Path]:
    """Write every blank form of ``period``: per unit in ``<code>_<name>/``, township forms at the top.

    Workbooks are built into a staging folder inside ``out_dir`` (on both cores for a large roster)
    and moved into place only when all were built, so a problem (e.g. a unit without criteria)
    writes nothing and memory stays bounded however many units there are. Workbooks of a shape written
    before in the run reuse its package (``replay.PackageCache``): the workers start with the first unit's.
    """
    import os
    import shutil
    import tempfile

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".villagescore-", dir=out_dir))
    by_code = {u.code: u for u in setup.units}
    people: dict[str, list[Unit]] = {}
    for u in setup.units:
        if u.parent:
            people.setdefault(u.parent, []).append(u)
    jobs: list[_UnitJob] = [(u, setup.criteria.get(u.code, []), draws.get(u.code), people.get(u.code, []),
                             by_code.get(u.parent), (values or {}).get(u.code), evaluators) for u in setup.units]
    written: list[str] = []
    made: set[Path] = {staging}
    cache = PackageCache()

    def keep(files: list[tuple[str, bytes]]) -> None:
        for rel, data in files:
            path = staging / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            with open(path, "wb") as fh:
                fh.write(data)
            written.append(rel)
            if progress:
                progress(path.name)

    try:
        for form in (f for f in scheme.forms if f.scope == "township"):
            keep([(period_file_name(scheme, form, period, None),
                   build_entry_workbook(scheme, form, period,
                                        units=[u for u in setup.units if form.applies(u.type)], cache=cache))])
        workers = min(os.cpu_count() or 1, 8)
        if len(jobs) >= PARALLEL_MIN_UNITS and workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            # the first unit here: the workers start with its packages known
            keep(_unit_files(scheme, period, *jobs[0], cache=cache))
            size = max(4, len(jobs) // (workers * 32))  # small chunks: no worker is left with a long tail
            chunks = [(scheme, period, jobs[i:i + size]) for i in range(1, len(jobs), size)]
            with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(cache,)) as pool:
                for files in pool.map(_chunk_files, chunks):
                    keep(files)
        else:
            for job in jobs:
                keep(_unit_files(scheme, period, *job, cache=cache))
        # a unit's folder that is not there yet moves in whole; into one that is, file by file
        moved: dict[str, bool] = {}
        for rel in written:
            folder, sep, _ = rel.partition("/")
            if sep and folder not in moved:
                moved[folder] = not os.path.lexists(out_dir / folder)
        for folder, whole in moved.items():
            if whole:
                os.replace(staging / folder, out_dir / folder)
        there = {out_dir}
        paths = []
        for rel in written:
            target = out_dir / rel
            folder, sep, _ = rel.partition("/")
            if not (sep and moved[folder]):
                if target.parent not in there:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    there.add(target.parent)
                os.replace(staging / rel, target)
            paths.append(target)
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
