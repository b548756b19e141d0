"""Machine-readable exports of a RunResult: ``units.csv`` and ``issues.csv``, and the same as JSON.

Column names are stable English identifiers (documented in ``docs/exports.md``); values stay as the
clerk sees them (Chinese names, grades, messages). CSV files are UTF-8 with a byte-order mark so
Excel and WPS open the Chinese right, and every text cell that a spreadsheet would read as a formula
(starting with = + - @, a tab or a carriage return) is prefixed with a single quote. Scores are
written as fixed-point text ("88.52"), never floats, so the exact decimals survive.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from villagescore.core.numbers import fmt
from villagescore.core.records import RunResult, UnitResult
from villagescore.io.atomic import write_bytes_atomic

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ISSUE_COLUMNS = ["code", "severity", "file", "sheet", "cell", "unit", "message", "hint"]


def unit_columns(result: RunResult) -> list[str]:
    return ["unit_code", "unit_name", "unit_type", "secretary", "township", "parent_code", "parent_name", "rank",
            *(f"score_{n}" for n in result.display), *(f"grade_{g}" for g, _ in result.gradings),
            "grade_pending", "funds_change", "funds_provisional", "ok"]


def _funds(u: UnitResult, provisional: bool = False) -> Decimal | None:
    """The change of working funds to apply (or, with ``provisional``, the one expected from a longer period's
    result, e.g. a half-year's 预计: not to be applied)."""
    changes = [gr.funds_change for gr in u.grades.values() if gr.funds_change is not None
               and gr.provisional == provisional]
    return sum(changes, Decimal(0)) if changes else None


def unit_record(result: RunResult, u: UnitResult) -> dict[str, Any]:
    """One unit's fields, typed for JSON: scores and funds as exact text, pending grades as lists."""
    return {
        "unit_code": u.unit.code, "unit_name": u.unit.name, "unit_type": u.unit.type,
        "secretary": u.unit.secretary, "township": u.unit.township,
        "parent_code": u.unit.parent, "parent_name": u.unit.parent_name, "rank": u.rank(result.gradings),
        **{f"score_{n}": fmt(u.rounded[n], result.places) if n in u.rounded else None for n in result.display},
        **{f"grade_{g}": u.grades[g].grade if g in u.grades else None for g, _ in result.gradings},
        "grade_pending": {g: list(u.grades[g].pending) for g, _ in result.gradings
                          if g in u.grades and u.grades[g].pending},
        "funds_change": None if (f := _funds(u)) is None else f"{f:.2f}",
        "funds_provisional": None if (f := _funds(u, True)) is None else f"{f:.2f}",
        "ok": u.ok,
    }


def to_json(result: RunResult) -> dict[str, Any]:
    """The results and issues as plain JSON-ready data (see docs/exports.md)."""
    return {
        "scheme": result.scheme_id, "scheme_name": result.scheme_name, "scheme_version": result.scheme_version,
        "period": result.period, "periods": list(result.periods), "computed_at": result.computed_at,
        "tool_version": result.tool_version, "places": result.places,
        "nodes": {n: result.node_labels.get(n, n) for n in result.display},
        "gradings": {g: label for g, label in result.gradings},
        "units": [unit_record(result, u) for u in result.units],
        "issues": [{k: d[k] for k in ISSUE_COLUMNS} for d in result.report.as_dicts()],
        "decisions": decision_records(result),
    }


def decision_records(result: RunResult) -> list[dict[str, Any]]:
    """The run's 党委研究事项, one record per unit of each item: the decision applied (with 会议/文号 and 日期), or
    null while still open."""
    out = []
    for item in result.decisions:
        for unit in item.units:
            d = item.decided.get(unit)
            out.append({"item": item.key, "kind": item.kind, "period": item.period, "grading": item.grading or None,
                        "unit_code": unit, "question": item.title, "options": list(item.options[unit]),
                        "decision": d.choice if d else None, "meeting": d.meeting if d else None,
                        "date": d.date if d else None})
    return out


def safe_cell(value: Any) -> str:
    """Text for a CSV cell; text a spreadsheet would run as a formula gets a leading single quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_text(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    pending = row.get("grade_pending")
    if isinstance(pending, dict):  # "好/中", or "grade:好/中; other:…" with several gradings
        parts = [("/".join(v), g) for g, v in pending.items()]
        out["grade_pending"] = "; ".join(v if len(parts) == 1 else f"{g}:{v}" for v, g in parts)
    for k, v in out.items():
        if isinstance(v, str) and (k.startswith("score_") or k.startswith("funds_")):
            out[k] = Decimal(v)  # our own numbers: written as they are, never quoted
    return out


def _csv_bytes(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8-sig")


CSV_NAMES = ("units.csv", "issues.csv")


def csv_files(result: RunResult) -> dict[str, bytes]:
    """``units.csv`` and ``issues.csv`` as bytes, by name (``CSV_NAMES``)."""
    data = to_json(result)
    return {
        "units.csv": _csv_bytes(unit_columns(result), [_csv_text(u) for u in data["units"]]),
        "issues.csv": _csv_bytes(ISSUE_COLUMNS, data["issues"]),
    }


def write_csv(result: RunResult, folder: Path) -> list[Path]:
    """Write ``units.csv`` and ``issues.csv`` into ``folder`` (created if missing), each atomically."""
    paths = []
    for name, content in csv_files(result).items():
        path = Path(folder) / name
        write_bytes_atomic(path, content)
        paths.append(path)
    return paths


__all__ = ["write_csv", "csv_files", "CSV_NAMES", "to_json", "unit_columns", "unit_record", "safe_cell", "ISSUE_COLUMNS"]
