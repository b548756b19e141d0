"""Rules that need earlier periods, read from the archive: comparison with the previous period, tracked
items raised before or still open, earlier grades (for streak rules) and a year combined from its archived
halves (or quarters) without re-reading their workbooks.

Like ``pipeline``, this module does I/O through ``villagescore.io`` and never imports typer or rich.
"""

from __future__ import annotations

from decimal import Decimal

from villagescore.core.normalize import squash
from villagescore.core.periods import Period
from villagescore.core.records import Item, Previous, RunResult, Unit, UnitResult
from villagescore.core.scheme import Scheme
from villagescore.core.scoring import combine_periods, rounded
from villagescore.io.archive import Archive


class HistoryMissing(Exception):
    """The archive lacks a run the rule needs; ``message`` says which, in Chinese."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def attach_previous(result: RunResult, archive: Archive) -> None:
    """Fill ``result.previous`` from the current archived run of the period before, if there is one."""
    prev = str(Period.parse(result.period).previous())
    run = archive.current(result.scheme_id, prev)
    if run is None:
        return
    values = archive.exact_values(run.id)
    grades = archive.grades(run.id)
    root = result.display[-1] if result.display else ""
    result.previous_period = prev
    for u in result.units:
        # the unit's first grading: villages' and people's categories are ranked apart (系统 B)
        main = next((gid for gid, _ in result.gradings if gid in u.grades), "")
        before = values.get(u.code, {}).get(root)
        score = rounded({root: before}, result.places).get(root) if before is not None else None
        grade, rank = grades.get(u.code, {}).get(main, (None, None))
        now = u.rounded.get(root)
        now_rank = u.grades[main].rank if main in u.grades else None
        result.previous[u.code] = Previous(
            score, rank, grade,
            now - score if now is not None and score is not None else None,
            rank - now_rank if rank is not None and now_rank is not None else None)


def track_items(result: RunResult, archive: Archive) -> None:
    """Flag this period's tracked items (问题整改清单) raised before for the same unit (年年述、年年改、年年在),
    and carry last period's items still open that this period does not list again."""
    earlier = archive.items(result.scheme_id, before=result.period)
    if not earlier:
        return
    seen: dict[tuple[str, str], set[str]] = {}
    for e in earlier:
        seen.setdefault(_item_key(e), set()).add(e.period)
    repeated = 0
    for it in result.items:
        periods = seen.get(_item_key(it))
        if periods:
            it.repeated = "、".join(sorted(periods))
            repeated += 1
    prev = str(Period.parse(result.period).previous())
    listed = {_item_key(i) for i in result.items}
    result.carried = [e for e in earlier if e.period == prev and e.open and _item_key(e) not in listed]
    if repeated:
        result.notes.append(f"有 {repeated} 项整改问题在往期已经列入（见“整改事项”中的“往期已列入”），"
                            "请防止“年年述、年年改、年年在”。")
    if result.carried:
        result.notes.append(f"上期（{prev}）有 {len(result.carried)} 项整改事项尚未完成，本期清单未再列入，"
                            "已列在“整改事项”中，请核实整改情况。")


def open_items(items: list) -> list:
    """Items still open: each problem of a unit as last listed (items oldest first), if its status is open."""
    last: dict[tuple[str, str], object] = {}
    for it in items:
        last[_item_key(it)] = it
    return [it for it in last.values() if it.open]


def _item_key(it: Item) -> tuple[str, str]:
    """The same problem of the same unit, however its spaces or letter case were typed."""
    return it.unit, squash(it.problem)


def earlier_grades(archive: Archive, scheme_id: str, period: str) -> dict[str, dict[str, str | None]] | None:
    """unit → grading → grade of the current archived run of ``period`` (None when it was never computed)."""
    run = archive.current(scheme_id, period)
    if run is None:
        return None
    return {code: {gid: grade for gid, (grade, _) in by.items()} for code, by in archive.grades(run.id).items()}


def annual_from_archive(scheme: Scheme, archive: Archive, year: str) -> RunResult:
    """The year's result from the current archived runs of its parts (H1 and H2, as the scheme weighs them)."""
    from villagescore.pipeline import grade_results, run_result  # the same grading and result as compute

    target = Period.parse(year)
    if target.kind != "year" or not scheme.annual.weights:
        raise HistoryMissing(f"{year} 不是年度期间，或方案没有规定全年如何合并（[annual] weights）")
    parts = [f"{target.year}{part}" for part in scheme.annual.weights]
    runs = {p: archive.current(scheme.scheme.id, p) for p in parts}
    missing = [p for p, r in runs.items() if r is None]
    if missing:
        raise HistoryMissing(f"结果档案库中没有 {'、'.join(missing)} 的计算结果，无法合并 {target.label}"
                             "（请先分别计算各期，或同时给出各期的表格文件夹）")
    values = {p: archive.exact_values(r.id) for p, r in runs.items()}  # type: ignore[union-attr]
    units = _units(archive, [r.id for r in runs.values()])  # type: ignore[union-attr]
    places = scheme.scheme.places
    results = []
    for unit in units:
        pp = {p: values[p].get(unit.code, {}) for p in parts}
        ok = all(pp[p] and all(v is not None for v in pp[p].values()) for p in parts)
        exact = combine_periods(scheme, pp) if ok else {}
        results.append(UnitResult(unit, exact=exact, rounded=rounded(exact, places),
                                  by_period={p: rounded(v, places) for p, v in pp.items()} if ok else {}, ok=ok))
    quota, notes = grade_results(scheme, results, places, period=str(target))
    first = scheme.gradings[0].id if scheme.gradings else ""
    results.sort(key=lambda r: (not r.ok, (r.grades.get(first).rank or 10**9) if r.grades.get(first) else 10**9,
                                r.code))
    run_ids = "、".join(f"{p} 第 {r.id} 次计算" for p, r in runs.items())  # type: ignore[union-attr]
    return run_result(scheme, str(target), parts, results, quota,
                      [f"本结果由结果档案库中各期的当前计算合并得出（{run_ids}），未重新读取表格。", *notes],
                      source="archive")


def _units(archive: Archive, run_ids: list[int]) -> list[Unit]:
    seen: dict[str, Unit] = {}
    marks = ",".join("?" * len(run_ids))
    for code, name, type_, secretary, township, base in archive.db.execute(
            f"SELECT unit_code, unit_name, unit_type, secretary, township, funds_base FROM unit_results"
            f" WHERE run_id IN ({marks}) ORDER BY run_id DESC", run_ids):
        seen.setdefault(code, Unit(code, name, type_, secretary, township, Decimal(base) if base else None))
    return sorted(seen.values(), key=lambda u: u.code)
