"""Forms generation (``villagescore template``): the setup and the scheme → every blank form of a period.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from villagescore.core.draw import Draw, draw_requests
from villagescore.core.issues import Report, issue
from villagescore.core.periods import Period
from villagescore.core.records import name_units
from villagescore.core.scheme import Scheme
from villagescore.stages import Progress
from villagescore.stages.setup import SETUP_DIR, SETUP_NAMES, load_setup


@dataclass
class TemplateRun:
    """The forms written (paths), the setup's issues, each unit's draw of requests for callbacks and its seed."""

    paths: list[Path]
    report: Report
    draws: dict[str, Draw]
    seed: int


def make_forms(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None, period: str,
               out_dir: Path, seed: int | None = None, progress: Progress | None = None,
               carried: list | None = None, evaluators: int | None = None) -> TemplateRun:
    """Every blank form of ``period``; ``carried`` (open items of earlier periods, from the archive) are typed
    into each unit's tracked register (问题整改清单) so the list continues where it stopped; ``evaluators``: the
    ballots issued to a unit whose roster row gives no 测评人数 (the scheme's number without it)."""
    period = str(Period.parse(period))
    setup, report = load_setup(scheme, roster, criteria, ledger)
    if report.errors:
        return TemplateRun([], report, {}, seed or 0)
    seed = seed if seed is not None else secrets.randbelow(900000) + 100000
    draws: dict[str, Draw] = {}
    for f in scheme.forms:
        if f.kind != "callback":
            continue
        for u in setup.units:
            d = draw_requests(setup.ledger.get(u.code, []), u.code, period, seed, f.draw)
            draws[u.code] = d
            if d.short:
                report.add(issue("draw-short", unit=u.code, count=d.available, want=d.wanted))
    from villagescore.io.period_forms import write_period_forms

    report.issues = name_units(report.issues, setup)
    paths = write_period_forms(scheme, setup, period, out_dir, draws, progress, _carried_values(scheme, carried),
                               evaluators)
    for key, src in (("roster", roster), ("criteria", criteria), ("ledger", ledger)):
        if src is not None:
            target = out_dir / SETUP_DIR / SETUP_NAMES[key]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            paths.append(target)
    return TemplateRun(paths, report, draws, seed)


def _carried_values(scheme: Scheme, items: list | None) -> dict[str, dict[str, list[dict]]]:
    """unit → tracked form → rows typed into it (by column key)."""
    out: dict[str, dict[str, list[dict]]] = {}
    for form, t in ((f, f.track) for f in scheme.forms if f.track is not None):
        for it in items or []:
            rows = out.setdefault(it.unit, {}).setdefault(form.id, [])
            if len(rows) < form.max_rows:
                rows.append({t.problem: it.problem, t.measure: it.measure, t.owner: it.owner,
                             t.deadline: it.deadline, t.status: it.status})
    return out
