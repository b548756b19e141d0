"""Vote ballots (系统 B): each ballot votes 好/较好/一般/差 on the unit itself and on each of its people.

Two ways in, one result: ballots entered one per row, or the counts per person typed into the tally
sheet beside them when the office counted by hand. Either becomes one tally row per person voted on,
``{"row": label, option: count, …}``, which the tally leaves (share_points, count_points) score.
Pure: rows in, rows and issues out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from villagescore.core.issues import Issue, issue
from villagescore.core.layout import SELF_KEY
from villagescore.core.numbers import plain
from villagescore.core.records import BallotLine, Row
from villagescore.core.scheme import VoteBallot


@dataclass
class VoteCount:
    per_target: dict[str, Row]  # target key (SELF_KEY or a person's code) → tally row
    ballots: list[BallotLine] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    how: str = ""  # "逐票录入" or "测评结果汇总"
    returned: int = 0
    valid: int = 0


def _serial(value) -> str:
    return plain(value) if isinstance(value, Decimal) else str(value or "")


def count_votes(form: VoteBallot, targets: list[tuple[str, str]], ballots: list[Row], tally: list[Row], *,
                file: str, sheet: str, tally_sheet: str, unit: str, period: str,
                issued: int | None = None) -> VoteCount:
    """Tally rows per target from the entered ballots or the hand-counted tally sheet (exactly one of them)."""
    where = {"file": file, "unit": unit}
    keys = [k for k, _ in targets]
    entered = [r for r in ballots if any(r.get(k) is not None for k in keys) or r.get("void") == "是"]
    counted = [r for r in tally if any(isinstance(r.get(o), Decimal) for o in form.options)]
    out = VoteCount({})
    if entered and counted:
        out.issues.append(issue("vote-both-ways", sheet=tally_sheet, form=form.title, **where))
        return out
    if not entered and not counted:
        out.issues.append(issue("vote-none", sheet=sheet, form=form.title, **where))
        return out
    if counted:
        return _from_tally(form, targets, tally, tally_sheet, where, out)
    return _from_ballots(form, targets, ballots, sheet, where, out, unit, period, issued)


def _from_ballots(form: VoteBallot, targets: list[tuple[str, str]], rows: list[Row], sheet: str, where: dict,
                  out: VoteCount, unit: str, period: str, issued: int | None) -> VoteCount:
    out.how = "逐票录入"
    counts = {k: {o: 0 for o in form.options} for k, _ in targets}
    seen: dict[str, int] = {}
    for r in rows:
        serial = _serial(r.get("serial"))
        votes = {label: r.get(k) for k, label in targets}
        out.returned += 1
        if serial in seen:
            out.issues.append(issue("duplicate-serial", sheet=sheet, cell=r.cell("serial"), serial=serial,
                                    other_row=seen[serial], **where))
        elif serial:
            seen[serial] = r.row
        if r.get("void") == "是":
            status = "作废"
            out.issues.append(issue("void-ballot", sheet=sheet, cell=r.cell("void"), serial=serial, **where))
        elif all(v is None for v in votes.values()):
            status = "作废"
            out.issues.append(issue("vote-ballot-empty", sheet=sheet, cell=r.cell("serial"), serial=serial, **where))
        else:
            status = "有效"
            out.valid += 1
            for k, _ in targets:
                v = r.get(k)
                if v is not None:
                    counts[k][str(v)] += 1
        text = "；".join(f"{label} {v}" for label, v in votes.items() if v is not None)
        out.ballots.append(BallotLine(unit, period, serial, {}, None, status, where["file"], sheet, r.row, text))
    if issued is not None and out.returned > issued:
        out.issues.append(issue("too-many-ballots", sheet=sheet, count=out.returned, issued=issued, **where))
    for k, label in targets:
        out.per_target[k] = Row({"row": label, **{o: Decimal(n) for o, n in counts[k].items()}}, 0)
    return out


def _from_tally(form: VoteBallot, targets: list[tuple[str, str]], rows: list[Row], sheet: str, where: dict,
                out: VoteCount) -> VoteCount:
    out.how = "测评结果汇总"
    labels = dict(targets)

    def target(r: Row) -> str:  # the sheet names the unit itself by its code
        who = str(r.get("who") or "")
        return SELF_KEY if who == where["unit"] and SELF_KEY in labels else who

    for r in rows:
        who = target(r)
        if who not in labels:
            out.issues.append(issue("vote-tally-unknown", sheet=sheet, cell=r.cell("who"), who=who or "（空）", **where))
            continue
        if not any(isinstance(r.get(o), Decimal) for o in form.options):
            out.issues.append(issue("vote-tally-missing", sheet=sheet, cell=r.cell(form.options[0]),
                                    who=labels[who], **where))
            continue
        out.per_target[who] = Row({"row": labels[who], **{o: r.get(o) or Decimal(0) for o in form.options}},
                                  r.row, r.letters)
    for k, label in targets:
        if k not in out.per_target and not any(target(r) == k for r in rows):
            out.issues.append(issue("vote-tally-missing", sheet=sheet, who=label, **where))
    totals = {labels[k]: sum(row.values[o] for o in form.options) for k, row in out.per_target.items()}
    if len(set(totals.values())) > 1:
        detail = "、".join(f"{k} {v}" for k, v in totals.items())
        out.issues.append(issue("vote-tally-uneven", sheet=sheet, detail=detail, **where))
    out.valid = max(totals.values(), default=0)
    return out
