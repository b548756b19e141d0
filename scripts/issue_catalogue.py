"""Write docs/issues.md, the catalogue of issue codes, from ``villagescore/core/issues.py``.

Every code gets its severity, message template, parameters, hint and an example message built by the
real ``Issue.message`` from example values (``EXAMPLES`` below for a code, else ``FIELD_EXAMPLES`` for a
parameter name; a name with neither shows as 〈name〉). Deterministic: the same CODES give the same file.
``tests/test_issue_catalogue.py`` fails when the file is out of date. Run from the repo after adding or
changing a code:

    python scripts/issue_catalogue.py            # rewrite docs/issues.md
    python scripts/issue_catalogue.py --check    # exit 1 when docs/issues.md is out of date
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from villagescore.core.issues import CODES, Code, issue  # noqa: E402

TARGET = ROOT / "docs" / "issues.md"
PLACES = ("unit", "sheet", "cell")  # filled from the issue's position, not from its parameters

# A plausible value for each parameter name (made-up places and people only).
FIELD_EXAMPLES: dict[str, object] = {
    "aspect": "产业发展", "capacity": 20, "cell": "Z20001", "claimed": "河口村（QS02）", "code": "QS09", "cols": 200, "column": "乡党委评价",
    "count": 3, "detail": "诉求编号 QS01-07 不在抽取记录中", "effect": "其中的数据已计入", "entry": "C7",
    "example": "85 或 85.5", "expected": "2025H1", "first": "C5", "folder": "2025H1表格/青山村", "form": "发展质量集中考评测评票", "found": "2024H2",
    "grading": "考评等次", "hint": "请重新扫描该页。", "items": 3, "key": "c3", "issued": 20, "item": "吃拿卡要", "kind": "合计", "label": "总分",
    "labels": "票号、是否作废", "length": 350, "limit": 100, "leaf": "乡党委评价", "max": 100, "min": 0, "options": "是、否",
    "other": "2025H1表格/青山村/测评票录入表(1).xlsx", "other_row": 7, "page": 4, "period": "2025H1", "question": "您对村干部的服务态度是否满意",
    "periods": "2025H1、2025H2", "places": 2, "reason": "文件已损坏或不完整，可能复制或下载时中断；请重新保存后提交",
    "request_id": "QS01-07", "row": 12, "rows": 10000, "serial": "017", "sheet": "录入表", "shown": "青山村",
    "name": "青山村（QS01）", "roster": 21, "type": "社区", "unit": "青山村（QS01）", "unit_how": "文件名中的“青山村”", "units": 8, "valid": 8,
    "value": "八十", "want": 5, "what": "手机号码", "who": "QH01-2",
    "why": "本方案的等次会增减工作经费，须按基数计算",
    "choice": "较好", "units": "青山村（QS01）、河口村（QS02）", "given": 2, "missing": "河口村（QS02）", "grade": "好",
}

# Values for codes where the generic ones would read wrong.
EXAMPLES: dict[str, dict[str, object]] = {
    "file-other-scheme": {"found": "dazehu", "expected": "pingbian"},
    "template-version": {"found": "0", "expected": "1"},
    "setup-wrong-form": {"found": "考核细则", "expected": "名册"},
    "out-of-range": {"label": "班子团结", "min": 0, "max": 10, "value": "12"},
    "too-many-decimals": {"label": "乡党委评价", "value": "88.125"},
    "not-an-option": {"value": "同意", "label": "是否作废"},
    "missing-value": {"label": "乡党委评价"},
    "ballot-item-missing": {"label": "班子团结"},
    "too-many-ballots": {"count": 22},
    "too-few-valid": {"min": 10},
    "criteria-count": {"count": 9, "want": 10},
    "criteria-aspect": {"count": 1, "want": 2},
    "draw-short": {"count": 4},
    "veto-unknown": {"value": "迟到早退"},
    "formula-error": {"value": "#DIV/0!"},
    "long-number": {"label": "联系电话", "value": "110101199001011000"},
    "total-mismatch": {"label": "得票数", "value": "118", "expected": "120"},
    "file-not-workbook": {"kind": "Word 文档"},
    "sheet-hidden": {"sheet": "测评结果汇总"},
    "sheet-trimmed": {"cell": "AZ300"},
    "no-answers": {"form": "为民服务日常评价问卷统计表"},
    "rows-beyond-form": {"first": 75, "count": 9930},
    "scan-answer-conflict": {"value": "8", "other": "9"},
    "scan-answer-invalid": {"value": "八", "options": "0、1、2、3、4、5、6、7、8、9、10、作废"},
    "scan-review-needed": {"count": 2},
    "scan-page-unread": {"reason": "找不到二维码"},
    "form-not-applicable": {"form": "站办所赋分表"},
    "vote-both-ways": {"form": "民主测评表"},
    "vote-none": {"form": "民主测评表"},
    "vote-tally-uneven": {"detail": "李明 20 票，王芳 19 票"},
    "foreign-identified": {"form": "民主测评表"},
    "form-empty": {"form": "为民服务日常评价问卷统计表", "count": 9},
    "unit-row-missing": {"form": "乡党委评价及县委评定得分表"},
    "unit-row-duplicate": {"form": "乡党委评价及县委评定得分表"},
    "leaf-missing": {"form": "乡党委评价及县委评定得分表"},
    "decision-other-scheme": {"found": "county_dynamic", "expected": "pingbian"},
    "decision-other-period": {"found": "2025H1", "expected": "2025H2"},
    "decision-conflict": {"other": "2025H1表格/党委研究事项_2025H1（改）.xlsx"},
    "decision-stale": {"row": 5, "item": "tie:grade:QS01,QS02", "why": "本次计算中这些单位已不再同分跨越名额线（得分或名额已改变）"},
    "decision-not-allowed": {"choice": "差", "options": "好、中", "why": ""},
    "decision-places": {"places": 1},
    "decision-incomplete": {"given": 1},
    "decision-date": {"value": "七月八日"},
    "decision-not-applied": {"row": 5},
}

SEVERITY_TEXT = {"error": "错误 (error)", "warning": "提示 (warning)"}


def fields(template: str) -> list[str]:
    """The parameter names a message template uses, in order of first use."""
    return list(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f))


def example(spec: Code) -> str:
    values = {**{f: FIELD_EXAMPLES.get(f, f"〈{f}〉") for f in fields(spec.template)}, **EXAMPLES.get(spec.code, {})}
    places = {k: str(values.pop(k)) for k in PLACES if k in values}
    return issue(spec.code, **places, **values).message


def _code(text: str) -> str:
    return f"`{text}`" if text else "—"


def render() -> str:
    lines = [
        "# Issue codes",
        "",
        "<!-- Generated by `python scripts/issue_catalogue.py` from villagescore/core/issues.py; do not edit. -->",
        "",
        "Every problem that `validate` and `compute` find is an issue: a code, a place (file, sheet, cell, unit)",
        "and a Chinese message built from the code's template, with a hint that names the fix. The code and",
        "severity appear in `issues.csv`, the JSON output and `validate`'s tables; the message and hint are",
        "what the clerk reads. An error keeps the unit from a result; a warning does not.",
        "In a template, `{unit}`, `{sheet}` and `{cell}` come from the issue's place; the other names are",
        "the parameters each call site passes (`tests/test_issue_catalogue.py` checks that they agree).",
        "",
        f"{len(CODES)} codes.",
        "",
        "| code | severity | message |",
        "|---|---|---|",
    ]
    for spec in CODES.values():
        lines.append(f"| [`{spec.code}`](#{spec.code}) | {spec.severity.label} | {spec.template} |")
    for spec in CODES.values():
        params = [f for f in fields(spec.template) if f not in PLACES]
        lines += [
            "",
            f"## {spec.code}",
            "",
            f"- severity: {SEVERITY_TEXT[spec.severity.value]}",
            f"- message: {_code(spec.template)}",
            f"- parameters: {', '.join(f'`{p}`' for p in params) if params else '—'}",
            f"- hint: {spec.hint or '—'}",
            f"- example: {example(spec)}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python scripts/issue_catalogue.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(CODES)} codes)")
    bare = sorted({f for spec in CODES.values() for f in fields(spec.template)} - set(FIELD_EXAMPLES))
    if bare:
        print(f"no example value for {', '.join(bare)} (shown as 〈name〉): add them to FIELD_EXAMPLES")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
