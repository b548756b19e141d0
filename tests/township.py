"""A small made-up township built inline for end-to-end tests: setup files, forms, filled values."""

from __future__ import annotations

from pathlib import Path

from villagescore.core.records import Unit
from villagescore.demo import declare_none, fill
from villagescore.io.atomic import write_bytes_atomic
from villagescore.io.forms import build_setup_workbook
from villagescore.io.reader import read_workbook
from villagescore.pipeline import make_forms

UNITS = [
    ("V1", "青山村", "村", "王小明", 50000),
    ("V2", "河口村", "村", "李春燕", 40000),
    ("V3", "石桥村", "村", "赵志远", 30000),
    ("V4", "柳湾村", "村", "陈秀英", 30000),
    ("V5", "松林社区", "社区", "刘国栋", 30000),
]
ASPECTS = ["班子队伍", "产业发展", "为民服务", "乡村环境", "工作实绩"]


def write_setup(scheme, folder: Path) -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    roster, criteria, ledger = folder / "名册.xlsx", folder / "考核细则.xlsx", folder / "台账.xlsx"
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme))
    fill(roster, [{"单位代码": c, "单位名称": n, "类型": t, "党组织书记": s, "所属乡镇": "青石乡",
                   "工作经费基数（元）": f} for c, n, t, s, f in UNITS])
    units = [Unit(c, n, t, s) for c, n, t, s, _ in UNITS]
    write_bytes_atomic(criteria, build_setup_workbook("criteria", scheme, units))
    rows = []
    for c, n, *_ in UNITS:
        for i in range(10):
            rows.append({"单位代码": c, "方面": ASPECTS[i // 2], "序号": i + 1, "考核细则": f"{n}细则{i + 1}", "分值": 10})
    fill(criteria, rows)
    write_bytes_atomic(ledger, build_setup_workbook("ledger", scheme))
    fill(ledger, [{"单位代码": c, "诉求编号": f"{c}-{i:02d}", "诉求内容": f"诉求{i}", "联系电话": "13800001111"}
                  for c, *_ in UNITS for i in range(1, 8)])
    return roster, criteria, ledger


def forms(scheme, root: Path, period: str = "2025H1", seed: int = 42) -> Path:
    roster, criteria, ledger = write_setup(scheme, root / "setup")
    out = root / f"{period}表格"
    make_forms(scheme, roster, criteria, ledger, period, out, seed=seed)
    return out


def find(folder: Path, form: str, unit: str = "") -> Path:
    for p in sorted(folder.rglob("*.xlsx")):
        ident = read_workbook(p).identity or {}
        if ident.get("role") == "entry" and ident.get("form_id") == form and ident.get("unit_code", "") == unit:
            return p
    raise FileNotFoundError(form + unit)


def criterion_labels(path: Path) -> list[str]:
    from openpyxl import load_workbook

    ws = load_workbook(path).worksheets[0]
    return [str(c.value) for c in ws[4] if c.value not in (None, "票号", "是否作废")]


def fill_unit(folder: Path, unit: str, *, ballots: list[list], resolved: int, tally: list[tuple[int, int, int]],
              reports: list[tuple[str, str]]) -> None:
    """Type one village's forms: ballots (list of 10 scores each), callbacks, questionnaire, anonymous box."""
    path = find(folder, "ballot", unit)
    labels = criterion_labels(path)
    fill(path, [{"票号": i, **dict(zip(labels, scores))} for i, scores in enumerate(ballots, start=1)], match="票号")
    path = find(folder, "callback", unit)
    from openpyxl import load_workbook

    ws = load_workbook(path).worksheets[0]
    ids = [ws.cell(r, 2).value for r in range(5, ws.max_row + 1) if ws.cell(r, 2).value]
    fill(path, [{"诉求编号": rid, "回访方式": "电话回访", "解决态度": "满意", "解决速度": "满意", "解决效果": "满意",
                 "是否解决": "是" if i < resolved else "否"} for i, rid in enumerate(ids)], match="诉求编号")
    fill(find(folder, "questionnaire", unit),
         [{"评价内容": item, "满意": a, "基本满意": b, "不满意": c}
          for item, (a, b, c) in zip(["服务态度", "服务响应", "服务效果"], tally)], match="评价内容")
    if reports:
        fill(find(folder, "anonymous", unit),
             [{"渠道": "匿名评价箱", "反映事项": item, "核实结果": result} for item, result in reports])
    else:  # the box was empty: the clerk ticks 本期无反映
        declare_none(find(folder, "anonymous", unit))


def fill_committee(folder: Path, scores: dict[str, tuple]) -> None:
    fill(find(folder, "committee"), [{"单位代码": code, "乡党委评价": t, "县委评定": c} for code, (t, c) in scores.items()],
         match="单位代码")


STANDARD = {
    # V1: meeting mean 85.5 (five 85s, five 86s), instant 50 + 27 + 15 = 92 → reverse 86.8;
    #     township 90, county 88 → composite 0.4×86.8 + 0.5×90 + 0.1×88 = 88.52
    "V1": dict(ballots=[[8.5] * 10] * 5 + [[8.6] * 10] * 5, resolved=5, tally=[(20, 10, 3), (20, 10, 4), (20, 10, 3)],
               reports=[("吃拿卡要", "属实"), ("吃拿卡要", "属实"), ("优亲厚友", "不属实")]),
    # V2: meeting 80, instant 30 + 30 + 20 = 80 → reverse 80; township 85.5, county 80
    #     → composite 0.4×80 + 0.5×85.5 + 0.1×80 = 82.75
    "V2": dict(ballots=[[8] * 10] * 12, resolved=3, tally=[(10, 0, 0), (10, 0, 0), (10, 0, 0)], reports=[]),
    "V3": dict(ballots=[[7] * 10] * 10, resolved=4, tally=[(5, 5, 0), (5, 5, 0), (5, 5, 0)], reports=[]),
    "V4": dict(ballots=[[9] * 10] * 10, resolved=5, tally=[(9, 0, 1), (9, 0, 1), (9, 0, 1)], reports=[]),
    "V5": dict(ballots=[[6] * 10] * 10, resolved=2, tally=[(3, 3, 4), (3, 3, 4), (3, 3, 4)],
               reports=[("侵占挪用", "属实")]),
}
COMMITTEE = {"V1": (90, 88), "V2": (85.5, 80), "V3": (80, 80), "V4": (92, 90), "V5": (70, 70)}


def filled(scheme, root: Path, period: str = "2025H1") -> Path:
    folder = forms(scheme, root, period)
    for unit, spec in STANDARD.items():
        fill_unit(folder, unit, **spec)
    fill_committee(folder, COMMITTEE)
    return folder
