"""Rules that need earlier periods, read from the archive: comparison with the previous period, tracked
items raised before or still open, earlier grades (for streak rules) and a year combined from its archived
halves (or quarters) without re-reading their workbooks.

Like ``pipeline``, this module does I/O through ``villagescore.io`` and never imports typer or rich.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from villagescore.core.grading import Undecided
from villagescore.core.normalize import squash
from villagescore.core.periods import Period
from pathlib import Path

from villagescore.core.records import InputFile, Item, Previous, RunResult, Setup, Unit, UnitResult
from villagescore.core.scheme import Scheme
from villagescore.core.scoring import combine_periods, rounded
from villagescore.io.archive import Archive

if TYPE_CHECKING:
    from villagescore.core.decisions import Decision


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


def open_items(items: list[Item]) -> list[Item]:
    """Items still open: each problem of a unit as last listed (items oldest first), if its status is open."""
    last: dict[tuple[str, str], Item] = {}
    for it in items:
        last[_item_key(it)] = it
    return [it for it in last.values() if it.open]


def _item_key(it: Item) -> tuple[str, str]:
    """The same problem of the same unit, however its spaces or letter case were typed."""
    return it.unit, squash(it.problem)


def earlier_grades(archive: Archive, scheme_id: str, period: str) -> dict[str, dict[str, str | Undecided]] | None:
    """unit → grading → grade of the current archived run of ``period`` (None when it was never computed). The
    current run is the one that applied the committee's latest decisions; a grade it left pending (待党委研究) or
    without a grade is an ``Undecided``, so that a rule turning on it says 无法判定 rather than 否."""
    run = archive.current(scheme_id, period)
    if run is None:
        return None
    return {code: {gid: grade if grade else Undecided(tuple(x for x in pending.split("/") if x))
                   for gid, (grade, pending) in by.items()}
            for code, by in archive.grade_states(run.id).items()}


def annual_from_archive(scheme: Scheme, archive: Archive, year: str, decisions: Path | None = None) -> RunResult:
    """The year's result from the current archived runs of its parts (H1 and H2, as the scheme weighs them);
    ``decisions``: the committee's decision sheet of the year (its pending ties), applied as ``compute`` does. A
    part whose current run left items to the committee is named in a note: the year reads its results as they are."""
    from villagescore.core.decisions import DecisionBook
    from villagescore.core.issues import Report
    from villagescore.io.decision_sheet import gather_decisions
    from villagescore.io.reader import FileRefused, read_workbook
    from villagescore.core.issues import FatalInput
    from villagescore.core.records import name_units
    from villagescore.core.run import grade_results, run_result  # as compute does

    target = Period.parse(year)
    if target.kind != "year" or not scheme.annual.weights:
        raise HistoryMissing(f"{year} 不是年度期间，或方案没有规定全年如何合并（[annual] weights）")
    parts = [f"{target.year}{part}" for part in scheme.annual.weights]
    current = {p: archive.current(scheme.scheme.id, p) for p in parts}
    missing = [p for p, r in current.items() if r is None]
    if missing:
        raise HistoryMissing(f"结果档案库中没有 {'、'.join(missing)} 的计算结果，无法合并 {target.label}"
                             "（请先分别计算各期，或同时给出各期的表格文件夹）")
    runs = {p: r for p, r in current.items() if r is not None}  # every part (none is missing)
    values = {p: archive.exact_values(r.id) for p, r in runs.items()}
    units = _units(archive, [r.id for r in runs.values()])
    places = scheme.scheme.places
    results = []
    for unit in units:
        pp = {p: values[p].get(unit.code, {}) for p in parts}
        ok = all(pp[p] and all(v is not None for v in pp[p].values()) for p in parts)
        exact = combine_periods(scheme, pp) if ok else {}
        results.append(UnitResult(unit, exact=exact, rounded=rounded(exact, places),
                                  by_period={p: rounded(v, places) for p, v in pp.items()} if ok else {}, ok=ok))
    report = Report()
    found: list[Decision] = []
    if decisions is not None:
        try:
            wb = read_workbook(decisions)
        except FileRefused as exc:
            raise FatalInput(f"无法读取党委研究事项表 {decisions}：{exc.issue(str(decisions)).message}") from None
        found, issues = gather_decisions(scheme.scheme.id, {str(decisions): wb}, [str(target)])
        report.extend(issues)
    book = DecisionBook(str(target), found, {u.code: f"{u.full_name}（{u.code}）" for u in units})
    quota, notes = grade_results(scheme, results, places, period=str(target), book=book)
    book.finish([str(target)])
    report.extend(name_units(book.issues, Setup(units)))
    first = scheme.gradings[0].id if scheme.gradings else ""

    def first_rank(r: UnitResult) -> int:
        gr = r.grades.get(first)
        return (gr.rank or 10**9) if gr else 10**9

    results.sort(key=lambda r: (not r.ok, first_rank(r), r.code))
    run_ids = "、".join(f"{p} 第 {r.id} 次计算" for p, r in runs.items())
    waiting = []
    for p, r in runs.items():
        open_ = sorted({d.unit for d in archive.decisions(r.id) if not d.decision})
        if open_:
            waiting.append(f"{p}（{'、'.join(open_)}）")
    if waiting:
        notes.append(f"以下各期的当前计算仍有待党委研究的事项：{'；'.join(waiting)}。全年结果按这些期间现有的结果合并；"
                     "党委研究确定后请重新计算该期，再合并全年。")
    files = [] if decisions is None else [InputFile(str(decisions), wb.sha256, "decisions", "", str(target),
                                                    "党委研究事项")]
    return run_result(scheme, str(target), parts, results, quota,
                      [f"本结果由结果档案库中各期的当前计算合并得出（{run_ids}），未重新读取表格。", *notes],
                      source="archive", report=report, files=files, decisions=book.ordered())


def note_superseded(result: RunResult, archive: Archive, streaks: bool = False) -> None:
    """A run that applies the committee's decisions takes the place of the period's current run: the notes say
    what changed against it (scores, grades) and why (the decisions), and name later periods whose current runs
    read this period's earlier result (``streaks``: the scheme has a streak rule such as 提级管理)."""
    applied = [i for i in result.decisions if i.decided]
    before = archive.current(result.scheme_id, result.period)
    if before is None:
        return
    earlier = {(d.item, d.unit): d.decision for d in archive.decisions(before.id)}
    new = [i for i in applied if any(earlier.get((i.key, u)) != d.choice for u, d in i.decided.items())]
    dropped = {k for k, v in earlier.items() if v} - {(i.key, u) for i in applied for u in i.decided}
    if not new and not dropped:
        return
    root = result.display[-1] if result.display else ""
    old_values = archive.exact_values(before.id)
    old_grades = archive.grade_states(before.id)
    labels = dict(result.gradings)
    changes = []
    for u in result.units:
        name = f"{u.unit.name}（{u.code}）"
        was = old_values.get(u.code, {}).get(root)
        then = rounded({root: was}, result.places).get(root) if was is not None else None
        now = u.rounded.get(root)
        if then != now and (then is not None or now is not None):
            changes.append(f"{name}{result.node_labels.get(root, root)} {then if then is not None else '—'} → "
                           f"{now if now is not None else '—'}")
        for gid, gr in u.grades.items():
            old_grade, old_pending = old_grades.get(u.code, {}).get(gid, (None, ""))
            shown = old_grade or (f"待党委研究（{old_pending}）" if old_pending else "未评定")
            current = gr.grade or (f"待党委研究（{'/'.join(gr.pending)}）" if gr.pending else
                                   "无法判定" if gr.undetermined else "未评定")
            if shown != current:
                changes.append(f"{name}{labels.get(gid, gid)} {shown} → {current}")
    label = Period.parse(result.period).label
    why = f"应用了党委研究决定 {len(new)} 项" if new else ""
    if dropped:
        why += ("，" if why else "") + f"第 {before.id} 次计算应用的 {len(dropped)} 项决定本次未提供或未应用"
    result.notes.append(f"本次计算{why}，记入结果档案库后将取代第 {before.id} 次计算（{before.computed_at}）成为{label}"
                        f"的当前结果。与第 {before.id} 次计算相比：" + ("；".join(changes) or "得分和等次没有变化") + "。")
    later = [g for g in archive.runs(result.scheme_id) if g.current
             and Period.parse(g.period).kind == Period.parse(result.period).kind
             and Period.parse(result.period).ends_before(Period.parse(g.period))]
    if later and streaks:
        result.notes.append("已计算的 " + "、".join(f"{g.period}（第 {g.id} 次计算）" for g in later)
                            + f" 按{label}此前的结果判定了连续等次（如提级管理），请在本次计算记入后重新计算这些期间。")


def _units(archive: Archive, run_ids: list[int]) -> list[Unit]:
    seen: dict[str, Unit] = {}
    marks = ",".join("?" * len(run_ids))
    for code, name, type_, secretary, township, base in archive.db.execute(
            f"SELECT unit_code, unit_name, unit_type, secretary, township, funds_base FROM unit_results"
            f" WHERE run_id IN ({marks}) ORDER BY run_id DESC", run_ids):
        seen.setdefault(code, Unit(code, name, type_, secretary, township, Decimal(base) if base else None))
    return sorted(seen.values(), key=lambda u: u.code)
