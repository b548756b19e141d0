"""A made-up township (青石乡, fictional) run through the whole cycle, deterministically.

Used by ``villagescore demo``, by ``scripts/make_samples.py`` (which writes ``samples/``) and by the
end-to-end tests. The filled values are typed into the generated workbooks with openpyxl, the way
a clerk types paper ballots into Excel. Every name here is invented.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from villagescore.core.records import RunResult
from villagescore.core.scheme import Scheme

MARKER = ".villagescore-demo"
SEED = 20250630

# code, name, type, secretary, funds base, quality (0..1: how well the village does)
VILLAGES = [
    ("QS01", "青山村", "村", "王小明", "50000", 0.93),
    ("QS02", "河口村", "村", "李春燕", "45000", 0.86),
    ("QS03", "石桥村", "村", "赵志远", "48000", 0.80),
    ("QS04", "柳湾村", "村", "陈秀英", "42000", 0.89),
    ("QS05", "松林社区", "社区", "刘国栋", "60000", 0.84),
    ("QS06", "东坪村", "村", "杨文静", "40000", 0.74),
    ("QS07", "白沙村", "村", "周海涛", "46000", 0.90),
    ("QS08", "红岩村", "村", "吴丽萍", "44000", 0.78),
]
TOWNSHIP = "青石乡"

CRITERIA_POOL = {
    "班子队伍": ["班子团结协作", "党员教育管理", "议事规则执行", "后备力量培养"],
    "产业发展": ["特色产业培育", "集体经济增收", "合作社规范运营", "农民增收渠道"],
    "为民服务": ["便民服务代办", "矛盾纠纷调处", "困难群众帮扶", "民生诉求办理"],
    "乡村环境": ["人居环境整治", "垃圾分类处理", "村庄道路维护", "河道沟渠清理"],
    "工作实绩": ["年度任务完成", "重点项目推进", "安全生产落实", "村务公开规范"],
}
APPEALS = ["路灯损坏维修", "饮水管道漏水", "低保申请咨询", "邻里宅基地纠纷", "村道积水", "医保缴费咨询",
           "危房改造申请", "垃圾清运不及时", "灌溉水渠堵塞", "养老补贴发放"]


@dataclass
class DemoPaths:
    root: Path
    roster: Path
    criteria: Path
    ledger: Path
    forms: dict[str, Path]  # period → folder
    summary: Path


# ------------------------------------------------------------------ typing into workbooks


def _header(ws, labels: Iterable[str]) -> tuple[int, dict[str, int]]:
    wanted = set(labels)
    for r in range(1, 31):
        found = {str(c.value).strip(): c.column for c in ws[r] if c.value is not None}
        if wanted <= set(found):
            return r, found
    raise ValueError(f"header not found in {ws.title}")


def fill(path: Path, rows: list[dict[str, Any]], *, match: str | None = None, save_as: Path | None = None,
         sheet: str | None = None) -> None:
    """Type rows into the first sheet (or ``sheet``) below its header, as a clerk would.

    With ``match`` (a header label), each row goes to the existing row whose cell in that column
    equals the row's value (e.g. the prefilled 票号 or 单位代码); otherwise rows fill the table
    from the top.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb[sheet] if sheet else wb.worksheets[0]
    labels = {k for row in rows for k in row}
    head, cols = _header(ws, labels | ({match} if match else set()))
    if match:
        where = {}
        for r in range(head + 1, ws.max_row + 1):
            v = ws.cell(r, cols[match]).value
            if v is not None:
                where[str(v)] = r
        targets = [where[str(row[match])] for row in rows]
    else:
        targets = list(range(head + 1, head + 1 + len(rows)))
    for r, row in zip(targets, rows):
        for label, value in row.items():
            if label != match:
                ws.cell(r, cols[label]).value = value
    wb.save(save_as or path)


def declare_none(path: Path, label: str | None = None, value: str | None = "是") -> None:
    """Tick a register's 本期无… box (``label``, or the first cell above the header starting with 本期无) with 是,
    as a clerk does for a register with nothing this period (``value`` None clears it)."""
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=1, max_row=10):
        for cell in row:
            if isinstance(cell, MergedCell):  # covered by a merged range: no value of its own
                continue
            text = str(cell.value or "").strip()
            if text and (text == label if label else text.startswith("本期无")):
                ws.cell(cell.row, cell.column + 1).value = value
                wb.save(path)
                return
    raise ValueError(f"no 本期无… box in {path}")


# ------------------------------------------------------------------ the made-up data


def _criteria(rng: random.Random, per_aspect: int) -> list[tuple[str, str]]:
    out = []
    for aspect, pool in CRITERIA_POOL.items():
        for text in rng.sample(pool, per_aspect):
            out.append((aspect, text))
    return out


def write_roster(scheme: Scheme, roster: Path, township: str, units: Iterable[tuple]) -> None:
    """名册.xlsx typed in by the clerk from (code, name, type, secretary, funds base, …) of each unit."""
    from villagescore.io.atomic import write_bytes_atomic
    from villagescore.io.forms import build_setup_workbook

    write_bytes_atomic(roster, build_setup_workbook("roster", scheme))
    fill(roster, [{"单位代码": c, "单位名称": n, "类型": t, "党组织书记": s, "所属乡镇": township,
                   "工作经费基数（元）": int(f)} for c, n, t, s, f, *_ in units])


def write_setup(scheme: Scheme, folder: Path, rng: random.Random) -> tuple[Path, Path, Path]:
    from villagescore.core.records import Unit
    from villagescore.io.atomic import write_bytes_atomic
    from villagescore.io.forms import build_setup_workbook

    folder.mkdir(parents=True, exist_ok=True)
    roster, criteria, ledger = folder / "名册.xlsx", folder / "考核细则.xlsx", folder / "民生诉求台账.xlsx"
    write_roster(scheme, roster, TOWNSHIP, VILLAGES)
    units = [Unit(c, n, t, s, TOWNSHIP, Decimal(f)) for c, n, t, s, f, _ in VILLAGES]
    write_bytes_atomic(criteria, build_setup_workbook("criteria", scheme, units))
    per = scheme.criteria.per_aspect if scheme.criteria else 2
    crit_rows = []
    for c, n, *_ in VILLAGES:
        for i, (aspect, text) in enumerate(_criteria(rng, per), start=1):
            crit_rows.append({"单位代码": c, "单位名称": n, "方面": aspect, "序号": i, "考核细则": text, "分值": 10})
    fill(criteria, crit_rows)
    write_bytes_atomic(ledger, build_setup_workbook("ledger", scheme))
    led_rows = []
    for c, n, *_ in VILLAGES:
        count = 4 if c == "QS06" else rng.randint(6, 9)  # 东坪村 keeps a thin ledger: all four are drawn
        for i, what in enumerate(rng.sample(APPEALS, count), start=1):
            led_rows.append({"单位代码": c, "诉求编号": f"{c}-{i:03d}", "登记日期": f"2025-0{rng.randint(1, 5)}-1{i % 10}",
                             "诉求人": f"村民{i:02d}", "联系电话": f"1380000{rng.randint(1000, 9999)}",
                             "诉求内容": what, "办理情况": "已办结"})
    fill(ledger, led_rows)
    return roster, criteria, ledger


def fill_period(scheme: Scheme, folder: Path, period: str, rng: random.Random) -> None:
    """Fill every entry workbook of the period like a clerk: ballots, callbacks, tallies, registers."""
    from villagescore.io.reader import read_workbook

    half = 0.0 if period.endswith("1") else 0.02
    called = f"{period[:4]}-{'06' if period.endswith('1') else '12'}-2"  # callbacks in the period's last month
    quality = {c: q + half for c, *_, q in VILLAGES}
    for path in sorted(folder.rglob("*.xlsx")):
        ident = read_workbook(path).identity or {}
        if ident.get("role") != "entry":
            continue
        form, code = ident["form_id"], ident.get("unit_code", "")
        q = quality.get(code, 0.85)
        if form == "ballot":
            issued = int(ident.get("issued") or 20)
            returned = issued - rng.randint(0, 2)
            from openpyxl import load_workbook

            ws = load_workbook(path).worksheets[0]
            head, cols = _header(ws, ["票号"])
            labels = [str(ws.cell(head, c).value) for c in range(2, ws.max_column + 1)
                      if ws.cell(head, c).value not in (None, "是否作废")]
            rows = []
            for serial in range(1, returned + 1):
                row: dict[str, Any] = {"票号": serial}
                for label in labels:
                    score = min(10.0, max(4.0, int(rng.gauss(q * 10, 0.8) * 2 + 0.5) / 2))  # nearest half point
                    row[label] = int(score) if score == int(score) else score
                if serial == 3 and code == "QS02":
                    row = {"票号": serial, "是否作废": "是"}  # a spoiled ballot, marked void
                rows.append(row)
            fill(path, rows, match="票号")
        elif form == "callback":
            from openpyxl import load_workbook

            ws = load_workbook(path).worksheets[0]
            head, cols = _header(ws, ["诉求编号"])
            ids = [ws.cell(r, cols["诉求编号"]).value for r in range(head + 1, ws.max_row + 1)
                   if ws.cell(r, cols["诉求编号"]).value]
            rows = []
            for rid in ids:
                ok = rng.random() < q + 0.05
                mood = "满意" if ok and rng.random() < q else ("基本满意" if ok else "不满意")
                rows.append({"诉求编号": rid, "回访方式": rng.choice(["电话回访", "入户走访"]), "解决态度": mood,
                             "解决速度": mood, "解决效果": mood, "是否解决": "是" if ok else "否",
                             "回访人": "纪检委员", "回访日期": called + str(rng.randint(0, 8))})
            fill(path, rows, match="诉求编号")
        elif form == "questionnaire":
            rows = []
            for item in ("服务态度", "服务响应", "服务效果"):
                n = rng.randint(40, 80)
                good = int(n * q)
                basic = int((n - good) * 0.6)
                rows.append({"评价内容": item, "满意": good, "基本满意": basic, "不满意": n - good - basic})
            fill(path, rows, match="评价内容")
        elif form == "anonymous":
            rows = []
            if q < 0.8:
                rows.append({"渠道": "匿名评价箱", "反映事项": "吃拿卡要", "内容摘要": "办事时收受香烟", "核实结果": "属实"})
            if q < 0.9:
                rows.append({"渠道": "网上匿名信箱", "反映事项": "优亲厚友", "内容摘要": "低保评议不公开", "核实结果": "不属实"})
            if rows:
                fill(path, rows)
            else:
                declare_none(path)  # nothing reported this half-year: said on the form
        elif form == "committee":
            rows = [{"单位代码": c, "乡党委评价": int(70 + 25 * quality[c]) + rng.choice([0, 0.5]),
                     "县委评定": int(68 + 26 * quality[c])} for c, *_ in VILLAGES]
            fill(path, rows, match="单位代码")


def build(root: Path, scheme: Scheme, periods: tuple[str, ...] = ("2025H1", "2025H2"),
          progress: Callable[[str], None] | None = None) -> DemoPaths:
    """Write the made-up township's setup, forms and filled workbooks under ``root``."""
    from villagescore.pipeline import make_forms

    rng = random.Random(SEED)
    roster, criteria, ledger = write_setup(scheme, root / "基础信息", rng)
    forms = {}
    for i, period in enumerate(periods):
        folder = root / f"{period}表格"
        run = make_forms(scheme, roster, criteria, ledger, period, folder, seed=SEED + i, progress=progress)
        fill_period(scheme, folder, period, rng)
        forms[period] = folder
        # A clerk renamed one file by hand: it is still recognised by its hidden identity sheet.
        for p in folder.glob("QS01_*/*测评票录入*.xlsx"):
            p.rename(p.with_name("青山村打分表（已录入）.xlsx"))
        del run
    return DemoPaths(root, roster, criteria, ledger, forms, root / "2025年度汇总.xlsx")


def run_demo(out: Path, progress: Callable[[str], None] | None = None) -> tuple[RunResult, Path]:
    from villagescore.io import schemes
    from villagescore.io.atomic import write_bytes_atomic
    from villagescore.io.summary import build_summary
    from villagescore.pipeline import compute

    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            from villagescore.core.issues import FatalInput

            raise FatalInput(f"文件夹 {out} 已有其他文件，请用 --out 指定一个新的演示文件夹")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("villagescore demo\n", encoding="utf-8")
    scheme = schemes.load("pingbian")
    paths = build(out, scheme, progress=progress)
    from villagescore.io.archive import DEFAULT_NAME, Archive

    with Archive(out / DEFAULT_NAME) as arc:
        for period, folder in paths.forms.items():  # each half, as the office computes it at the time
            arc.record(compute(scheme, [folder], period=period), "demo")
        result = compute(scheme, list(paths.forms.values()), period="2025", progress=progress)
        arc.record(result, "demo")
    write_bytes_atomic(paths.summary, build_summary(result))
    return result, paths.summary
