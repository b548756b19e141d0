"""A run's result from its units' scores, without touching a file: each unit's result (a year from its parts),
every grading in the scheme's order (the committee's decisions applied as each grading ends), the units in the
order they are shown, and the ``RunResult`` with what the scheme says about showing it.

``stages/grade.py`` (the forms just read) and ``history.annual_from_archive`` (a year from archived runs) both
end here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from typing import Callable

import villagescore
from villagescore.core import layout
from villagescore.core.decisions import DecisionBook
from villagescore.core.explain import formula_fields
from villagescore.core.grading import Candidate, Undecided, grade_entered, grade_streak, grade_units, key_of, withheld
from villagescore.core.issues import Report
from villagescore.core.periods import Period
from villagescore.core.records import (BallotLine, GradeResult, InputFile, LeafDetail, RunResult, Setup, Unit,
                                       UnitResult)
from villagescore.core.scheme import Scheme
from villagescore.core.scoring import UnitScore, combine_periods, rounded


def unit_results(scheme: Scheme, units: list[Unit], scores: dict[str, dict[str, UnitScore]], target: str,
                 held: set[str], vetoes: dict[str, list[str]]) -> tuple[list[UnitResult], list[BallotLine]]:
    """Each unit's result of ``target`` from its scores per period (period → unit code → score; a year combined
    from its parts), in roster order, and the ballots the scores read. A unit in ``held`` (errors stop its result)
    or lacking a value the summary shows has no values (``ok`` False)."""
    per_period: dict[str, dict[str, dict[str, Fraction | None]]] = defaultdict(dict)
    details: dict[str, list[LeafDetail]] = defaultdict(list)
    ballots: list[BallotLine] = []
    for p, by_unit in scores.items():
        for code, sc in by_unit.items():
            per_period[code][p] = sc.values
            details[code].extend(sc.details)
            ballots.extend(sc.ballots)
    places = scheme.scheme.places
    results: list[UnitResult] = []
    for u in units:
        pp = per_period.get(u.code, {})
        values = pp[target] if target in pp else (combine_periods(scheme, pp) if pp else {})
        ok = u.code not in held and bool(values) and all(
            values.get(n) is not None for n in scheme.display_nodes if _applies(scheme, n, u.type))
        if not ok:
            values = {}
        results.append(UnitResult(u, exact=values, rounded=rounded(values, places),
                                  by_period={p: rounded(v, places) for p, v in pp.items()} if ok else {},
                                  details=details.get(u.code, []), vetoes=sorted(set(vetoes.get(u.code, []))), ok=ok))
    return results, ballots


def _applies(scheme: Scheme, nid: str, unit_type: str) -> bool:
    node = scheme.nodes[nid]
    return not node.applies_to or unit_type in node.applies_to


# period → unit → grading → grade (an Undecided where the archived run left it pending or ungraded)
Earlier = Callable[[str], "dict[str, dict[str, str | Undecided | None]] | None"]


def _earlier(g, period: str, earlier: Earlier | None) -> list[tuple[str, dict[str, str | Undecided | None] | None]]:
    """The grades of ``g.streak.grading`` in the periods before ``period``, newest first (None: not archived)."""
    out: list[tuple[str, dict[str, str | Undecided | None] | None]] = []
    if not period:
        return out
    p = Period.parse(period)
    for _ in range(g.streak.periods - 1):
        p = p.previous()
        found = earlier(str(p)) if earlier else None
        out.append((str(p), None if found is None else {u: gr.get(g.streak.grading) for u, gr in found.items()}))
    return out


def _settled(gr) -> "str | Undecided | None":
    """A grade as a later rule reads it: the grade, or Undecided when it waits for the committee or a rule could
    not tell (无法判定)."""
    if gr.grade:
        return gr.grade
    if gr.pending or gr.undetermined:
        return Undecided(tuple(gr.pending))
    return None


def grade_results(scheme: Scheme, results: list[UnitResult], places: int,
                  entered: dict[str, dict[str, str | None]] | None = None, *,
                  period: str = "", earlier: Earlier | None = None, book: DecisionBook | None = None):
    """Every grading of the scheme on the results, in the scheme's order (later gradings see earlier grades);
    ``earlier`` gives archived grades of a period, for streak rules; ``book`` the committee's decisions, applied to
    each grading's pending ties before the next grading reads its grades."""
    quota, notes = [], []
    labels = {g.id: g.label for g in scheme.gradings}
    for g in scheme.gradings:
        group = [r for r in results if not g.applies_to or r.unit.type in g.applies_to]
        missing = [f"{r.unit.name}（{r.code}）" for r in group if not r.ok]
        if missing:
            outcome = withheld(g, [r.code for r in group], missing)
            if book is not None:
                book.withheld.add(g.id)
        else:
            cands = []
            for r in group:
                key = key_of(r.exact, g, places)
                assert key is not None
                cands.append(Candidate(r.code, key, tuple(v for v in (scheme.veto(x) for x in r.vetoes) if v),
                                       {k: _settled(x) for k, x in r.grades.items()}, r.unit.funds_base, r.unit.name))
            if g.streak:
                outcome = grade_streak(g, cands, _earlier(g, period, earlier), places, labels.get(g.streak.grading, ""))
            elif g.entered:
                outcome = grade_entered(g, cands, (entered or {}).get(g.id, {}), places)
            else:
                outcome = grade_units(g, cands, places)
                if book is not None:
                    book.ties(g, outcome, cands, places)
        year_only = period and Period.parse(period).kind != "year"
        for r in group:
            gr = r.grades[g.id] = outcome.results[r.code]
            cons = g.consequences.get(gr.grade) if gr.grade else None
            if year_only and cons is not None and cons.period == "year":
                gr.provisional = True  # shown as 预计: applied once, on the year's result
        quota.extend(outcome.quota)
        notes.extend(outcome.notes)
    return quota, notes


def order_results(scheme: Scheme, results: list[UnitResult]) -> None:
    """Sort ``results`` as they are shown: units before people, each category by the rank of its first grading
    (a tie the committee decided: the better grade first); units without a result last."""
    types = [*scheme.scheme.unit_types, *scheme.scheme.member_types]

    def sort_key(r: UnitResult) -> tuple:
        g: GradeResult | None = next((r.grades[x.id] for x in scheme.gradings if x.id in r.grades), None)
        group = types.index(r.unit.type) if r.unit.parent and r.unit.type in types else -1
        order = next((x.grades for x in scheme.gradings if g and x.id == g.grading), [])
        place = order.index(g.grade) if g and g.grade in order else len(order)  # a tie decided: the better first
        return (0 if r.ok else 1, group, g.grading if g else "", g.rank if g and g.rank else 10**9, place, r.code)

    results.sort(key=sort_key)


def item_labels(scheme: Scheme, setup: Setup, units: set[str]) -> dict[str, dict[str, str]]:
    """unit code → ballot item key → the item's text (the unit's own criteria, or the ballot's fixed items)."""
    out: dict[str, dict[str, str]] = {}
    for u in setup.units:
        if u.code not in units:
            continue
        labels: dict[str, str] = {}
        for form in scheme.forms:
            if form.kind == "score_ballot" and form.applies(u.type):
                items = form.items if form.items != "criteria" else None
                if items is None:
                    labels.update((c.key, c.text) for c in setup.criteria.get(u.code, []))
                else:
                    labels.update((f"c{i:02d}", text) for i, text in enumerate(items or [], start=1))
        if labels:
            out[u.code] = labels
    return out


def run_result(scheme: Scheme, target: str, periods: list[str], units: list[UnitResult], quota: list,
               notes: list[str], *, report: Report | None = None, files: list[InputFile] | None = None,
               ballots: list | None = None, **extra) -> RunResult:
    """A RunResult with everything the scheme says about how to show it (labels, columns, grades, formulas);
    ``extra``: further RunResult fields (lists, items, source …)."""
    return RunResult(
        scheme_id=scheme.scheme.id, scheme_name=scheme.scheme.name, scheme_version=scheme.scheme.version,
        scheme_source=scheme.scheme.source, period=target, periods=periods, units=units, quota=quota,
        report=report if report is not None else Report(), files=files or [], ballots=ballots or [],
        computed_at=datetime.now().strftime("%Y-%m-%d %H:%M:%S"), tool_version=villagescore.__version__,
        node_labels={k: v.label for k, v in scheme.nodes.items()}, display=list(scheme.display_nodes),
        leaves=[n for n in scheme.order() if n in scheme.leaves()],
        gradings=[(g.id, g.label) for g in scheme.gradings], places=scheme.scheme.places, notes=notes,
        grade_orders={g.id: list(g.grades) for g in scheme.gradings},
        form_titles={**{f.id: f.title for f in scheme.forms}, **layout.SETUP_TITLES,
                     layout.DECISIONS_ROLE: "党委研究事项表"},
        grade_colors={g.id: dict(g.colors) for g in scheme.gradings if g.colors},
        **formula_fields(scheme, target, periods), **extra,
    )
