"""Scoring, period by period: each unit's inputs scored (``core/scoring.py``), an error for a value left
unexplained, and the rows let go once scored.

Never touches a file; never imports typer or rich.
"""

from __future__ import annotations

from villagescore.core.issues import Issue, Severity, issue
from villagescore.core.scheme import Combine, Scheme
from villagescore.core.scoring import UnitInputs, UnitScore, score_unit
from villagescore.stages.check import Checked


def score_period(scheme: Scheme, period: str, inputs: dict[str, UnitInputs], chk: Checked) -> None:
    """Score every unit of ``period`` into ``chk.scores`` (and the grades typed in, for gradings that are
    entered), reporting each unit's issues; a unit left without a value and without an error gets one."""
    report = chk.report
    later = {lst.form for lst in scheme.lists if lst.form} | {f.id for f in scheme.forms if f.track is not None}
    stopped = {i.unit for i in report.errors}  # units held back so far; scoring adds only its own unit's
    for code, ui in inputs.items():
        for g in scheme.gradings:
            if g.entered and ui.rows.get(g.entered.form):
                chk.entered[g.id][code] = ui.rows[g.entered.form][0].get(g.entered.field)
        sc = score_unit(scheme, ui)
        if sc.ballots:  # into the run's ballot lines (the spool), not kept with the score
            chk.lines.extend(sc.ballots)
            chk.balloted.update(b.unit for b in sc.ballots)
            sc.ballots = []
        chk.scores[period][code] = sc
        report.extend(sc.issues)
        stopped.update(i.unit for i in sc.issues if i.severity is Severity.ERROR)
        if code not in stopped:  # never a unit without a score and without a reason
            report.extend(_unexplained(scheme, sc, period))
        _release(ui, later)


def _unexplained(scheme: Scheme, sc: UnitScore, period: str) -> list[Issue]:
    """An error for each leaf left without a value when no other error explains it (e.g. a blank cell in a
    column the scheme does not mark required)."""
    out = []
    for d in sc.details:
        if d.value is None and d.period == period and d.source:  # no source: a missing or conflicting form,
            node = scheme.nodes[d.node]                             # already reported
            assert not isinstance(node, Combine)  # a detail is a leaf's
            form = scheme.form(node.form)
            field = getattr(node, "field", None)
            col = form.column(field) if field else None
            out.append(issue("leaf-missing", unit=sc.unit.code, file=d.source.split(" / ")[0] if d.source else "",
                             leaf=node.label, form=form.title, column=col.label if col else node.label))
    return out


def _release(ui: UnitInputs, later: set[str]) -> None:
    """Let a scored unit's rows go, but for the forms whose rows are read after scoring (lists, tracked
    registers): its ballots live on as compact ballot lines, and a county's raw rows are not all held at once.
    A unit form's rows are its FormData's own list, emptied here; a township form's rows are a copy per unit."""
    for form_id, rows in ui.rows.items():
        if form_id not in later:
            rows.clear()
