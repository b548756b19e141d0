"""What ``validate`` shows of a checked run: which unit has which form (a coverage table), counts of files and
issues; ``ValidationResult`` is what the command line prints and ``--json`` gives.

Never touches a file; never imports typer or rich.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from villagescore.core.issues import Issue, Report, Severity, cell_order
from villagescore.core.records import InputFile
from villagescore.core.scheme import Scheme
from villagescore.stages.check import Checked, needed_forms


EMPTY_CODES = frozenset({"form-empty", "register-empty"})  # a form not typed into yet: 未填写 in the coverage


COVERAGE_STATUS = {"ok": "齐全", "blank": "未填写", "error": "有错误", "missing": "缺少", "conflict": "有冲突", "n/a": "—"}


COUNT_LABELS = {"files": "文件", "read": "已读取", "setup": "基础信息", "skipped": "已跳过", "unreadable": "无法读取",
                "errors": "错误", "warnings": "提示", "units": "单位", "units_with_errors": "有错误的单位"}


@dataclass
class Coverage:
    """Which unit has which form: one cell per unit × (period, form), with a status from COVERAGE_STATUS."""

    units: list[tuple[str, str]]  # (code, name), roster order
    columns: list[tuple[str, str, str]]  # (period, form id, heading as printed)
    cells: dict[tuple[str, str, str], str]  # (unit code, period, form id) → status text
    errors: dict[str, int]  # unit code → errors that stop its result

    def table(self) -> list[list[str]]:
        """Header row then one row per unit: 单位, one status per column, 错误数."""
        rows = [["单位", *[h for _, _, h in self.columns], "错误数"]]
        for code, name in self.units:
            rows.append([f"{name}（{code}）", *[self.cells[code, p, f] for p, f, _ in self.columns],
                         str(self.errors.get(code, 0))])
        return rows


@dataclass
class ValidationResult:
    report: Report
    coverage: Coverage
    counts: dict[str, int]  # keys of COUNT_LABELS
    files: list[InputFile]
    periods: list[str]

    @property
    def exit_code(self) -> int:
        """0 clean (warnings allowed), 1 data errors."""
        return 1 if self.report.errors else 0

    def issues_by_file(self) -> list[tuple[str, list[Issue]]]:
        """Issues grouped by file (errors first within a file; issues without a file last, as "")."""
        groups: dict[str, list[Issue]] = defaultdict(list)
        for i in self.report.issues:
            groups[i.file].append(i)
        order = sorted(groups, key=lambda f: (f == "", f))
        return [(f, sorted(groups[f], key=lambda i: (i.severity is not Severity.ERROR, i.sheet, cell_order(i.cell))))
                for f in order]

    def as_dict(self) -> dict:
        return {
            "periods": self.periods,
            "counts": self.counts,
            "coverage": {"columns": [{"period": p, "form": f, "heading": h} for p, f, h in self.coverage.columns],
                         "units": [{"unit_code": c, "unit_name": n,
                                    "forms": {f"{p}/{f}": self.coverage.cells[c, p, f] for p, f, _ in
                                              self.coverage.columns},
                                    "errors": self.coverage.errors.get(c, 0)} for c, n in self.coverage.units]},
            "files": [{"path": f.path, "sha256": f.sha256, "form": f.form_id, "unit": f.unit, "period": f.period,
                       "status": f.status} for f in self.files],
            "issues": self.report.as_dicts(),
        }


def validation(scheme: Scheme, chk: Checked) -> ValidationResult:
    """The coverage table and the counts of a checked run (every period it found)."""
    report, setup = chk.report, chk.setup
    forms = needed_forms(scheme)
    multi = len(chk.periods) > 1
    columns = [(p, f.id, f.short + (f"（{p}）" if multi else "")) for p in chk.periods for f in forms]
    errors: dict[str, list[Issue]] = defaultdict(list)
    for i in report.errors:
        errors[i.file].append(i)
    cells: dict[tuple[str, str, str], str] = {}
    for u in setup.units:
        for p, fid, _ in columns:
            key = (p, u.code if scheme.form(fid).scope == "unit" else chk.unit_zone.get(u.code, ""), fid)
            if not scheme.form(fid).applies(u.type):
                status = "n/a"
            elif key in chk.conflicts:
                status = "conflict"
            elif key not in chk.used:
                status = "missing"
            elif found := [i for f in chk.used[key] for i in errors[f]  # a township file: this unit's rows only
                           if key[1] or i.unit == u.code or (not i.unit and i.code != "unit-unknown")]:
                status = "blank" if all(i.code in EMPTY_CODES for i in found) else "error"
            else:
                status = "ok"
            cells[u.code, p, fid] = COVERAGE_STATUS[status]
    per_unit: dict[str, int] = defaultdict(int)
    for i in report.errors:
        if i.unit:
            per_unit[i.unit] += 1
    coverage = Coverage([(u.code, u.name) for u in setup.units], columns, cells, dict(per_unit))
    files = sorted(chk.col.files, key=lambda f: f.path)
    statuses = [f.status for f in files]
    counts = {
        "files": len(files),
        "read": sum(s in ("已读取", "自制表格，按表头识别", "网上问卷导出表", "党委研究事项") for s in statuses),
        "setup": statuses.count("基础信息"),
        "unreadable": statuses.count("无法读取"),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "units": len(setup.units),
        "units_with_errors": len(report.units_with_errors()),
    }
    counts["skipped"] = counts["files"] - counts["read"] - counts["setup"] - counts["unreadable"]
    return ValidationResult(report, coverage, {k: counts[k] for k in COUNT_LABELS}, files, chk.periods)
