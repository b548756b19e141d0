"""Regenerate samples/: made-up townships with filled workbooks and their computed summaries.

- ``qingshi``: 青石乡 (system A, ``pingbian``), 2025H1 and 2025H2, from ``villagescore.demo``;
- ``yunhe``: 云河街道 (system D, ``dazhou_street``), 2024, nine villages/communities and three 站办所;
- ``taoyuan``: 桃源镇 (system E, ``shuocheng``), 2024, eight villages/communities;
- ``qinghu``: 青湖街道 (system B, ``dazehu``), 2024 and 2025, six villages/communities and their 两委 members
  and 驻村工作队长 on the roster's 人员名单; computed 2024 then 2025 by the real command line with
  ``--archive`` (the sample's ``villagescore.db``), so the 2025 summary shows 上期得分, 往期已列入 and the
  carried rectification items;
- ``lanxi``: 岚溪县 (system C, ``county_dynamic``), 2025Q1 and 2025Q2, three townships each with its own
  roster and folder per quarter, computed together as one county by the command line with ``--archive``.
  Q1 leaves three things to the committee (河西社区 and 云岭社区 tied for the second 优秀 place, two
  adjustments 申请撤销): the county's decisions are typed into the 党委研究事项_2025Q1.xlsx compute wrote and Q1 is
  computed again with ``--decisions``; 2025Q2 then shows 提级管理 from Q1's 优秀 (the one decided among them),
  and leaves its own two 申请撤销 undecided (党委研究事项_2025Q2.xlsx, blank).

Every place and person here is invented. The blank forms come from the real ``template`` code path
(``make_forms``), the values are typed into them with openpyxl the way a clerk types paper sheets into
Excel (deterministic random with a fixed seed), and the summary is written by the real ``compute`` and
``build_summary``. Deterministic: the same script writes the same values (file timestamps aside).
Run from the repo:

    python scripts/make_samples.py                  # all samples
    python scripts/make_samples.py yunhe taoyuan    # only these
    python scripts/make_samples.py qinghu lanxi     # systems B and C (print the compute output)
"""

from __future__ import annotations

import random
import shutil
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from villagescore.core.records import RunResult  # noqa: E402
from villagescore.core.scheme import Scheme  # noqa: E402
from villagescore.demo import build, declare_none, fill, write_roster  # noqa: E402
from villagescore.io import schemes  # noqa: E402
from villagescore.io.atomic import write_bytes_atomic  # noqa: E402
from villagescore.io.forms import build_setup_workbook  # noqa: E402
from villagescore.io.reader import read_workbook  # noqa: E402
from villagescore.io.summary import build_summary  # noqa: E402
from villagescore.pipeline import compute, make_forms  # noqa: E402

SAMPLES = ROOT / "samples"


@dataclass
class Sample:
    root: Path
    roster: Path
    forms: Path  # the period's folder of filled workbooks
    summary: Path
    result: RunResult


# ------------------------------------------------------------------ shared helpers


def _fresh(target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)


def _roster(scheme: Scheme, folder: Path, township: str, units: list[tuple]) -> Path:
    """名册.xlsx typed in by the clerk: code, name, type, secretary, funds base."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = folder / "名册.xlsx"
    write_roster(scheme, roster, township, units)
    return roster


def _entries(folder: Path) -> dict[tuple[str, str], Path]:
    """(form id, unit code or "") → the generated entry workbook, found by its hidden identity sheet."""
    out = {}
    for p in sorted(folder.rglob("*.xlsx")):
        ident = read_workbook(p).identity or {}
        if ident.get("role") == "entry":
            out[(ident["form_id"], ident.get("unit_code", ""))] = p
    return out


def _declare_untyped(entries: dict[tuple[str, str], Path], form_id: str) -> None:
    """Each register of ``form_id`` nobody typed a row into gets its 本期无… box ticked, as the clerk does when the
    unit had nothing this period (an untouched register is a form not returned)."""
    from openpyxl import load_workbook

    for (fid, _), path in entries.items():
        if fid != form_id:
            continue
        ws = load_workbook(path).worksheets[0]
        if not any(c.value not in (None, "") for row in ws.iter_rows(min_row=5, min_col=2) for c in row):
            declare_none(path)


def _half(x: float) -> float | int:
    """x to the nearest half point, as a clerk writes it (85, 85.5), without round()."""
    v = int(x * 2 + 0.5) / 2
    return int(v) if v == int(v) else v


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _make_forms(scheme: Scheme, roster: Path, period: str, folder: Path, seed: int) -> None:
    """The period's blank forms by the real ``template`` code path; the roster must be clean."""
    run = make_forms(scheme, roster, None, None, period, folder, seed=seed)
    if run.report.errors:
        raise SystemExit("\n".join(i.text() for i in run.report.errors))


def _finish(scheme: Scheme, root: Path, roster: Path, folder: Path, period: str) -> Sample:
    result = compute(scheme, [folder], period=period)
    summary = root / f"{period}汇总.xlsx"
    write_bytes_atomic(summary, build_summary(result))
    return Sample(root, roster, folder, summary, result)


def _one_period(target: Path, scheme_id: str, seed: int, township: str, units: list[tuple], period: str,
                fill_forms) -> Sample:
    """A one-period sample: roster, the period's forms made by ``make_forms`` and filled, the summary."""
    _fresh(target)
    scheme = schemes.load(scheme_id)
    rng = random.Random(seed)
    roster = _roster(scheme, target / "基础信息", township, units)
    folder = target / f"{period}表格"
    _make_forms(scheme, roster, period, folder, seed)
    fill_forms(scheme, folder, rng)
    return _finish(scheme, target, roster, folder, period)


# ------------------------------------------------------------------ A: 青石乡 (pingbian)


def make_qingshi(target: Path = SAMPLES / "qingshi") -> None:
    if target.exists():
        shutil.rmtree(target)
    scheme = schemes.load("pingbian")
    paths = build(target, scheme)
    result = compute(scheme, list(paths.forms.values()), period="2025")
    write_bytes_atomic(paths.summary, build_summary(result))



# ------------------------------------------------------------------ B: 青湖街道 (dazehu)

QINGHU_TOWNSHIP = "青湖街道"
QINGHU_PERIODS = ("2024", "2025")
QINGHU_SEED = 20250110
# code, name, type, funds base, quality (0..1), how the votes are entered ("票" one row per ballot, "汇总" tally)
QINGHU_UNITS = [
    ("QH01", "青湖社区", "社区", 60000, 0.93, "票"),
    ("QH02", "柳塘村", "村", 45000, 0.86, "票"),
    ("QH03", "荷花村", "村", 42000, 0.90, "汇总"),
    ("QH04", "石岗村", "村", 40000, 0.70, "票"),
    ("QH05", "梅溪村", "村", 44000, 0.82, "票"),
    ("QH06", "新桥社区", "社区", 55000, 0.76, "汇总"),
]
# 人员名单: code, name, unit, category, post, quality
QINGHU_PEOPLE = [
    ("QH01-1", "沈卫东", "QH01", "书记", "", 0.94),
    ("QH01-2", "陆佳琪", "QH01", "村干部", "居委会副主任", 0.88),
    ("QH01-3", "严国平", "QH01", "村干部", "居委会委员", 0.80),
    ("QH02-1", "汪德胜", "QH02", "书记", "", 0.86),
    ("QH02-2", "洪丽萍", "QH02", "村干部", "村委会副主任", 0.84),
    ("QH02-3", "祝海波", "QH02", "村干部", "村委会委员", 0.72),
    ("QH02-4", "常建华", "QH02", "驻村工作队长", "", 0.90),
    ("QH03-1", "叶春芳", "QH03", "书记", "", 0.91),
    ("QH03-2", "章守仁", "QH03", "村干部", "村务监督委员会主任", 0.83),
    ("QH03-3", "岳晓琳", "QH03", "村干部", "村委会委员", 0.90),
    ("QH03-4", "柏俊峰", "QH03", "驻村工作队长", "", 0.85),
    ("QH04-1", "詹永康", "QH04", "书记", "", 0.68),
    ("QH04-2", "骆红梅", "QH04", "村干部", "村委会副主任", 0.78),
    ("QH04-3", "任志伟", "QH04", "村干部", "村委会委员", 0.62),
    ("QH05-1", "卢长青", "QH05", "书记", "", 0.84),
    ("QH05-2", "温小燕", "QH05", "村干部", "村委会副主任", 0.86),
    ("QH05-3", "戴金龙", "QH05", "村干部", "村委会委员", 0.76),
    ("QH05-4", "季淑兰", "QH05", "村干部", "村务监督委员会主任", 0.81),
    ("QH05-5", "齐振华", "QH05", "驻村工作队长", "", 0.79),
    ("QH06-1", "方明辉", "QH06", "书记", "", 0.74),
    ("QH06-2", "石玉珍", "QH06", "村干部", "居委会副主任", 0.82),
    ("QH06-3", "贾文涛", "QH06", "村干部", "居委会委员", 0.77),
]
# 下述下评 总体评价, entered by the street's Party working committee after its meeting
QINGHU_REVIEW = {
    "2024": {"QH01-1": "好", "QH02-1": "较好", "QH03-1": "好", "QH04-1": "差", "QH05-1": "较好", "QH06-1": "一般"},
    "2025": {"QH01-1": "好", "QH02-1": "好", "QH03-1": "较好", "QH04-1": "一般", "QH05-1": "较好", "QH06-1": "差"},
}
QINGHU_COMMENT = {"好": "班子团结，党建引领作用明显", "较好": "工作较扎实，个别方面仍需加强",
                  "一般": "抓党建工作主动性不强，问题整改不到位", "差": "党建工作责任落实不力，群众意见较大"}
# 问题整改清单 per secretary: 存在问题, 整改措施, 责任人, 整改时限, 整改情况
# 2025: 石岗村 lists 党员发展 again (往期已列入) and leaves its open 集体经济 item off (carried as still open).
QINGHU_RECTIFY = {
    "2024": {
        "QH02-1": [("主题党日活动形式单一", "结合农时开展志愿服务和政策宣讲", "汪德胜", "2025年4月底", "已整改")],
        "QH04-1": [("党员发展工作程序不规范", "对照发展党员工作细则逐项补正材料", "詹永康", "2025年3月底", "整改中"),
                   ("村级财务公开不及时", "每季度首月10日前公开上季度收支", "骆红梅", "2025年1月底", "已整改"),
                   ("集体经济增收渠道单一", "盘活闲置厂房对外出租", "詹永康", "2025年6月底", "未整改")],
        "QH05-1": [("后备干部培养不足", "每个村民小组物色1名后备人选", "卢长青", "2025年6月底", "整改中")],
        "QH06-1": [("“三会一课”记录不完整", "建立会议记录月检制度", "方明辉", "2025年2月底", "整改中"),
                   ("居民议事会召开次数不足", "每季度至少召开一次居民议事会", "石玉珍", "2025年3月底", "未整改")],
    },
    "2025": {
        "QH04-1": [("党员发展工作程序不规范", "由街道组织办逐份审核发展党员材料", "詹永康", "2026年3月底", "整改中"),
                   ("人居环境整治长效机制未建立", "落实门前三包和村民小组轮查", "任志伟", "2026年5月底", "未整改")],
        "QH05-1": [("后备干部培养不足", "每个村民小组物色1名后备人选", "卢长青", "2025年6月底", "已整改")],
        "QH06-1": [("“三会一课”记录不完整", "建立会议记录月检制度", "方明辉", "2025年2月底", "已整改"),
                   ("网格员队伍管理松散", "实行网格员月度考勤和积分管理", "方明辉", "2026年4月底", "整改中"),
                   ("居民诉求办理反馈不及时", "建立诉求台账，三日内回复", "贾文涛", "2026年3月底", "未整改")],
    },
}
QINGHU_OPTIONS = ("好", "较好", "一般", "差")


def _vote(rng: random.Random, q: float) -> str:
    x = q + rng.gauss(0, 0.12)
    for option, floor in zip(QINGHU_OPTIONS, (0.88, 0.72, 0.55)):
        if x >= floor:
            return option
    return "差"


def _vote_targets(scheme: Scheme, code: str) -> list[tuple[str, str, float]]:
    """(tally key, ballot column, quality) for the unit itself and each of its people, in roster order."""
    self_label = scheme.form("vote").self_label
    quality = next(q for c, *_, q, _ in QINGHU_UNITS if c == code)
    return [(code, self_label, quality)] + [(pc, f"{n}（{post or cat}）", q)
                                               for pc, n, u, cat, post, q in QINGHU_PEOPLE if u == code]


def fill_qinghu(scheme: Scheme, folder: Path, year: str, rng: random.Random) -> None:
    """Each village's clerk types the ballots (or the hand-counted totals); the street types its three sheets."""
    entries = _entries(folder)
    drift = 0.0 if year == QINGHU_PERIODS[0] else 0.02
    for code, _, _, _, _, how in QINGHU_UNITS:
        targets = _vote_targets(scheme, code)
        returned = rng.randint(25, 35)
        if how == "票":
            void = set(rng.sample(range(1, returned + 1), 2))
            rows: list[dict[str, Any]] = []
            for serial in range(1, returned + 1):
                if serial in void:  # spoiled or blank: the clerk marks it 作废 and types what is legible
                    rows.append({"票号": serial, "是否作废": "是", targets[0][1]: "好"} if serial % 2 else
                                {"票号": serial, "是否作废": "是"})
                else:
                    rows.append({"票号": serial, **{col: _vote(rng, q + drift) for _, col, q in targets}})
            fill(entries[("vote", code)], rows, match="票号")
        else:  # counted by hand at the meeting: 好/较好/一般/差 per person over the valid ballots
            valid = returned - 1
            rows = []
            for key, _, q in targets:
                counts = {o: 0 for o in QINGHU_OPTIONS}
                for _ in range(valid):
                    counts[_vote(rng, q + drift)] += 1
                rows.append({"代码": key, **counts})
            fill(entries[("vote", code)], rows, match="代码", sheet="测评结果汇总")
    quality = {c: q for c, *_, q, _ in QINGHU_UNITS} | {c: q for c, *_, q in QINGHU_PEOPLE}
    work = []
    for code, q in quality.items():
        row: dict[str, Any] = {"单位代码": code, "履职情况评分": _half(_clip(rng.gauss(100 * (q + drift), 3), 40, 100))}
        if q < 0.7:
            row["备注"] = "年度目标任务未全部完成"
        work.append(row)
    fill(entries[("work", "")], work, match="单位代码")
    review = QINGHU_REVIEW[year]
    fill(entries[("review", "")], [{"单位代码": c, "总体评价": g, "综合评价意见": QINGHU_COMMENT[g]}
                                   for c, g in review.items()], match="单位代码")
    for code, items in QINGHU_RECTIFY[year].items():
        fill(entries[("rectify", code)], [{"存在问题": p, "整改措施": m, "责任人": o, "整改时限": d, "整改情况": s}
                                          for p, m, o, d, s in items])
    _declare_untyped(entries, "rectify")


def _cli(args: list[str]) -> str:
    """Run the real ``villagescore`` command line (typer's runner) and return what it printed."""
    from typer.testing import CliRunner

    from villagescore.cli import app

    res = CliRunner().invoke(app, args)
    if res.exit_code != 0:
        raise SystemExit(f"villagescore {' '.join(args)} → 退出码 {res.exit_code}\n{res.output}")
    return res.output


def make_qinghu(target: Path = SAMPLES / "qinghu") -> dict[str, Path]:
    """青湖街道: forms for 2024 and 2025, filled; computed 2024 then 2025 into the sample's own archive."""
    _fresh(target)
    scheme = schemes.load("dazehu")
    rng = random.Random(QINGHU_SEED)
    setup = target / "基础信息"
    setup.mkdir()
    roster = setup / "名册.xlsx"
    secretary = {u: n for _, n, u, cat, *_ in QINGHU_PEOPLE if cat == "书记"}
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme, values=[
        {"code": c, "name": n, "type": t, "secretary": secretary[c], "township": QINGHU_TOWNSHIP, "funds_base": f}
        for c, n, t, f, *_ in QINGHU_UNITS], people=[
        {"code": c, "name": n, "parent": u, "type": cat, "post": post} for c, n, u, cat, post, _ in QINGHU_PEOPLE]))
    summaries = {}
    for year in QINGHU_PERIODS:
        folder = target / f"{year}表格"
        _make_forms(scheme, roster, year, folder, QINGHU_SEED)
        fill_qinghu(scheme, folder, year, rng)
        summaries[year] = target / f"{year}年度汇总.xlsx"
        out = _cli(["compute", str(folder), "--scheme", "dazehu", "-o", str(summaries[year]),
                    "--archive", str(target / "villagescore.db")])
        print(out)
    return summaries


# ------------------------------------------------------------------ C: 岚溪县 (county_dynamic)

LANXI_COUNTY = "岚溪县"
LANXI_PERIODS = ("2025Q1", "2025Q2")
LANXI_SEED = 20250331
# township → [(code, name, type, secretary, quality 0..1)]
LANXI_TOWNSHIPS = {
    "云岭镇": [("YL01", "云岭村", "村", "郑怀远", 0.97), ("YL02", "茶园村", "村", "邱美玲", 0.88),
               ("YL03", "松坪村", "村", "雷永祥", 0.80), ("YL04", "竹溪村", "村", "施桂英", 0.74),
               ("YL05", "杨家坳村", "村", "黎德全", 0.84), ("YL06", "云岭社区", "社区", "江慧敏", 0.90)],
    "石湾镇": [("SW01", "石湾村", "村", "聂宏伟", 0.86), ("SW02", "沙洲村", "村", "钟玉兰", 0.82),
               ("SW03", "渡口村", "村", "薛成林", 0.77), ("SW04", "芦花村", "村", "苗春燕", 0.92),
               ("SW05", "桥头村", "村", "覃国良", 0.66), ("SW06", "石湾社区", "社区", "房丽君", 0.85),
               ("SW07", "新塘村", "村", "甘永福", 0.79)],
    "河西街道": [("HX01", "河西社区", "社区", "邵静怡", 0.94), ("HX02", "杏花社区", "社区", "孔德明", 0.81),
                 ("HX03", "榆林村", "村", "毕海燕", 0.75), ("HX04", "长乐村", "村", "喻建平", 0.87),
                 ("HX05", "桂花村", "村", "滕秀珍", 0.70)],
}
# 加减分登记 per township and quarter: 单位代码, 事由, 级别, 类别, 分值, 文件文号, 状态
LANXI_ADJUST = {
    "2025Q1": {
        "云岭镇": [("YL01", "获评市级乡村振兴示范村", "市级", "加分", 2, "岚市农〔2025〕6号", "有效"),
                   ("YL04", "秸秆焚烧点位被县级通报", "县级", "减分", 2, "岚环〔2025〕3号", "申请撤销"),
                   ("YL03", "党建例会无故缺席", "乡镇级", "减分", 0.5, "云岭镇通报第 2 期", "已撤销")],
        "石湾镇": [("SW04", "获评省级美丽乡村精品村", "省级", "加分", 3, "省农办〔2025〕11号", "有效"),
                   ("SW05", "发生越级上访被县级通报", "县级", "减分", 3, "岚信〔2025〕4号", "有效"),
                   ("SW07", "防汛值班抽查脱岗", "乡镇级", "减分", 1, "石湾镇通报第 1 期", "申请撤销")],
        "河西街道": [("HX01", "获评县级文明社区", "县级", "加分", 1, "岚文明〔2025〕2号", "有效"),
                     ("HX05", "消防安全隐患整改不到位", "县级", "减分", 2, "岚安〔2025〕5号", "有效"),
                     ("HX03", "信息报送逾期", "乡镇级", "减分", 0.5, "河西街道通报第 3 期", "已撤销")],
    },
    "2025Q2": {
        "云岭镇": [("YL01", "村集体经济增收受县级表扬", "县级", "加分", 1, "岚组〔2025〕18号", "有效"),
                   ("YL05", "人居环境检查排名靠后", "乡镇级", "减分", 1, "云岭镇通报第 5 期", "有效")],
        "石湾镇": [("SW05", "村务公开长期未更新", "县级", "减分", 2, "岚纪〔2025〕9号", "申请撤销"),
                   ("SW03", "森林防火巡查不到位", "县级", "减分", 1.5, "岚林〔2025〕7号", "有效"),
                   ("SW02", "党费收缴不及时", "乡镇级", "减分", 0.5, "石湾镇通报第 4 期", "已撤销")],
        "河西街道": [("HX04", "矛盾纠纷化解经验被市级推广", "市级", "加分", 2, "岚市政法〔2025〕3号", "有效"),
                     ("HX02", "网格巡查记录不全", "乡镇级", "减分", 1, "河西街道通报第 6 期", "申请撤销")],
    },
}


# Q1 as typed where the made-up draw is overridden: 河西社区 46 + 27.5 + 17.5 + 加分 1 = 92.00, exactly 云岭社区's 46 +
# 27.5 + 18.5 (the tie-breakers 工作绩效 and 日常管理 equal too), below 云岭村's 94.50 and above 芦花村's 46 + 26 +
# 15.5 + 3 = 90.50: the two straddle the second of floor(15% × 18) = 2 places of 优秀, left to the committee
LANXI_TYPED = {"2025Q1": {"HX01": {"工作绩效考核（50分）": 46}, "SW04": {"综合测评（20分）": 15.5}}}
# the county's decisions on Q1's items: (unit → 决定), 会议/文号, 日期
LANXI_DECISIONS = {"2025Q1": ({"HX01": "优秀", "YL06": "合格", "YL04": "同意", "SW07": "不同意"},
                              "岚溪县委组织部部务会2025年第4次会议", "2025-04-15")}


def fill_lanxi(folder: Path, town: str, period: str, rng: random.Random) -> None:
    """The township's office types its 基础项目赋分表 and its 加减分登记表."""
    entries = _entries(folder)
    drift = 0.0 if period == LANXI_PERIODS[0] else 0.01
    rows = []
    for code, _, _, _, q in LANXI_TOWNSHIPS[town]:
        q += drift + rng.gauss(0, 0.02)
        row: dict[str, Any] = {"单位代码": code, "工作绩效考核（50分）": _half(_clip(50 * q + rng.gauss(0, 1), 0, 50)),
                               "日常管理（30分）": _half(_clip(30 * q + rng.gauss(0, 0.8), 0, 30)),
                               "综合测评（20分）": _half(_clip(20 * q + rng.gauss(0, 0.5), 0, 20))}
        row.update(LANXI_TYPED.get(period, {}).get(code, {}))
        if q < 0.72:
            row["备注"] = "重点工作推进滞后"
        rows.append(row)
    fill(entries[("base", "")], rows, match="单位代码")
    items = LANXI_ADJUST[period].get(town, [])
    if items:
        fill(entries[("adjust", "")], [{"单位代码": c, "事由": why, "级别": lv, "类别": k, "分值": pts, "文件文号": doc,
                                        "状态": st} for c, why, lv, k, pts, doc, st in items])
    else:
        declare_none(entries[("adjust", "")])


def make_lanxi(target: Path = SAMPLES / "lanxi") -> dict[str, Path]:
    """岚溪县: each township makes its forms from its own roster and fills them; the county computes the
    townships' folders together each quarter, Q1 then Q2, into the sample's archive (提级管理 needs Q1)."""
    _fresh(target)
    scheme = schemes.load("county_dynamic")
    rng = random.Random(LANXI_SEED)
    rosters = {}
    for town, units in LANXI_TOWNSHIPS.items():
        setup = target / town / "基础信息"
        setup.mkdir(parents=True)
        rosters[town] = setup / "名册.xlsx"
        write_bytes_atomic(rosters[town], build_setup_workbook("roster", scheme, values=[
            {"code": c, "name": n, "type": t, "secretary": s, "township": town} for c, n, t, s, _ in units]))
    summaries = {}
    for period in LANXI_PERIODS:
        folders = []
        for town in LANXI_TOWNSHIPS:
            folder = target / town / f"{period}表格"
            _make_forms(scheme, rosters[town], period, folder, LANXI_SEED)
            fill_lanxi(folder, town, period, rng)
            folders.append(folder)
        summaries[period] = target / f"{period}汇总.xlsx"
        args = ["compute", *map(str, folders), "--scheme", "county_dynamic", "-o", str(summaries[period]),
                "--archive", str(target / "villagescore.db")]
        print(_cli(args))
        if period in LANXI_DECISIONS:  # the committee met: its decisions typed into the sheet compute wrote
            choices, meeting, date = LANXI_DECISIONS[period]
            sheet = target / f"党委研究事项_{period}.xlsx"
            decide_sheet(sheet, choices, meeting, date)
            print(_cli([*args, "--decisions", str(sheet), "--force"]))
    return summaries


def decide_sheet(sheet: Path, choices: dict[str, str], meeting: str, date: str) -> None:
    """Type the committee's decisions into a decision sheet (党委研究事项), row by row, as a clerk would."""
    from openpyxl import load_workbook

    wb = load_workbook(sheet)
    ws = wb.worksheets[0]
    col = {c.value: c.column for c in ws[4] if c.value}
    for r in range(5, ws.max_row + 1):
        unit = ws.cell(r, col["单位代码"]).value
        if unit in choices:
            ws.cell(r, col["决定"]).value = choices[unit]
            ws.cell(r, col["会议/文号"]).value = meeting
            ws.cell(r, col["日期"]).value = date
    wb.save(sheet)

# ------------------------------------------------------------------ D: 云河街道 (dazhou_street)

YUNHE_TOWNSHIP = "云河街道"
YUNHE_PERIOD = "2024"
YUNHE_SEED = 20241231
# code, name, type, secretary (or head of office), funds base, quality (0..1)
YUNHE_UNITS = [
    ("YH01", "云河社区", "社区", "秦立新", 60000, 0.95),
    ("YH02", "望江社区", "社区", "何晓梅", 55000, 0.90),
    ("YH03", "石门村", "村", "邓国华", 48000, 0.93),
    ("YH04", "杉木村", "村", "罗永平", 45000, 0.84),
    ("YH05", "荷塘村", "村", "唐春兰", 46000, 0.88),
    ("YH06", "双溪村", "村", "蒋文斌", 42000, 0.80),
    ("YH07", "青龙村", "村", "谢玉芳", 40000, 0.86),
    ("YH08", "大坪村", "村", "范志刚", 38000, 0.72),
    ("YH09", "竹园村", "村", "韩秋月", 40000, 0.78),
    ("YZ01", "党政办", "站办所", "许建军", 0, 0.92),
    ("YZ02", "农业服务中心", "站办所", "曹丽娟", 0, 0.85),
    ("YZ03", "综治中心", "站办所", "彭德明", 0, 0.70),
]
# 石门村 ranks near the top but had a serious work-safety accident: the veto makes it 不合格.
YUNHE_VETO = {"YH03": ("安全生产工作造成较大影响", "辖区内发生一起较大安全生产事故")}
# 加减分登记: unit → (级别/类别, 事由, 文件或通知编号)
YUNHE_ADJUST = {
    "YH01": [("市级荣誉", "获评市级文明社区", "云文明〔2024〕5号"),
             ("县级市表彰", "垃圾分类工作通报表扬", "云河办〔2024〕21号")],
    "YH02": [("逾期未办通知", "防汛物资清点通知逾期未报", "街道通知第 17 号")],
    "YH03": [("市级批评", "安全生产事故被通报批评", "市安委〔2024〕9号")],
    "YH05": [("县级市荣誉", "获评县级市“五好”党支部", "县组〔2024〕12号")],
    "YH08": [("县级市批评", "人居环境检查排名靠后被通报", "县人居办〔2024〕3号"),
             ("逾期未办通知", "农房摸排数据逾期未报", "街道通知第 25 号"),
             ("逾期未办通知", "医保征缴进度表逾期未报", "街道通知第 31 号")],
    "YZ01": [("市级表彰", "机要保密工作通报表扬", "市委办〔2024〕14号")],
    "YZ03": [("逾期未办通知", "矛盾纠纷排查月报逾期未报", "街道通知第 19 号")],
}
BANDS = "ABCDE"
BAND_NOTES = {"C": "台账资料不够完整", "D": "年度任务未完成", "E": "多次督办仍未整改"}
POINTS_DEPTS = {"dept_aj"}  # 安监 sends points (two decimals) in the same cells instead of band letters
BAND_SHARE = {"A": Decimal("1"), "B": Decimal("0.9"), "C": Decimal("0.8"), "D": Decimal("0.7"), "E": Decimal("0.6")}


def _band(rng: random.Random, q: float) -> str:
    x = q + rng.gauss(0, 0.06)
    for band, floor in zip(BANDS, (0.94, 0.84, 0.74, 0.64)):
        if x >= floor:
            return band
    return "E"


def fill_yunhe(scheme: Scheme, folder: Path, rng: random.Random) -> None:
    """The departments, the committee, the assessment group and each unit's clerk type their sheets."""
    entries = _entries(folder)
    quality = {c: q for c, *_, q in YUNHE_UNITS}
    villages = [c for c, _, t, *_ in YUNHE_UNITS if t != "站办所"]
    offices = [c for c, _, t, *_ in YUNHE_UNITS if t == "站办所"]
    # 基础工作: each department grades every village/community A–E on its own sheet
    for form in scheme.forms:
        if not form.id.startswith("dept_"):
            continue
        rows = []
        for code in villages:
            row: dict[str, Any] = {"单位代码": code}
            worst = "A"
            for col in form.columns:
                if col.type in ("option", "band"):
                    row[col.label] = band = _band(rng, quality[code])
                    worst = max(worst, band)
                    if form.id in POINTS_DEPTS and col.max is not None:  # the band's points, a little off it
                        off = Decimal("0.15") * (int(code[-1]) % 3)
                        row[col.label] = float(max(col.max * BAND_SHARE[band] - off, Decimal(0)))
            if worst in BAND_NOTES:
                row["备注"] = BAND_NOTES[worst]
            rows.append(row)
        fill(entries[(form.id, "")], rows, match="单位代码")
    # 街道党工委: 村述街道评 for villages/communities; 否决事项 wherever one occurred
    rows = []
    for code in villages:
        row = {"单位代码": code, "村述街道评": _half(_clip(rng.gauss(quality[code] * 100, 2), 60, 100))}
        if code in YUNHE_VETO:
            row["否决事项"], row["备注"] = YUNHE_VETO[code]
        rows.append(row)
    rows += [{"单位代码": code, "否决事项": YUNHE_VETO[code][0], "备注": YUNHE_VETO[code][1]}
             for code in offices if code in YUNHE_VETO]
    fill(entries[("committee", "")], rows, match="单位代码")
    # 站办所考核组
    rows = []
    for code in offices:
        q = quality[code]
        rows.append({"单位代码": code,
                     "完成站办所职责（40分）": _half(_clip(rng.gauss(40 * q, 1.5), 0, 40)),
                     "财务状况（10分）": _half(_clip(rng.gauss(10 * q, 0.5), 0, 10)),
                     "配合完成重点难点工作（10分）": _half(_clip(rng.gauss(10 * q, 0.5), 0, 10)),
                     "年底述职民主测评（百分制）": _half(_clip(rng.gauss(100 * q, 3), 0, 100))})
    fill(entries[("office", "")], rows, match="单位代码")
    # each unit: 党政领导评议票 (15 issued), 村述村评 tally, 加减分登记
    leaders = scheme.form("leaders")
    for code, *_ in YUNHE_UNITS:
        q = quality[code]
        returned = leaders.evaluators - rng.randint(0, 2)
        rows = []
        for serial in range(1, returned + 1):
            if code == "YH06" and serial == 4:
                rows.append({"票号": serial, "是否作废": "是"})  # a spoiled ballot, marked void
            else:
                rows.append({"票号": serial, "评分": _half(_clip(rng.gauss(q * 100, 4), 50, 100))})
        fill(entries[("leaders", code)], rows, match="票号")
        if ("village_vote", code) in entries:
            voters = rng.randint(35, 60)
            good = int(voters * _clip(rng.gauss(q - 0.15, 0.05), 0, 1))
            fair = int((voters - good) * _clip(rng.gauss(q - 0.1, 0.08), 0, 1))
            so = int((voters - good - fair) * 0.7)
            fill(entries[("village_vote", code)],
                 [{"评价内容": "村述村评", "好": good, "较好": fair, "一般": so, "差": voters - good - fair - so}],
                 match="评价内容")
        if code in YUNHE_ADJUST:
            fill(entries[("adjust", code)],
                 [{"级别/类别": k, "事由": why, "文件或通知编号": doc} for k, why, doc in YUNHE_ADJUST[code]])
        else:
            declare_none(entries[("adjust", code)])


def make_yunhe(target: Path = SAMPLES / "yunhe") -> Sample:
    return _one_period(target, "dazhou_street", YUNHE_SEED, YUNHE_TOWNSHIP, YUNHE_UNITS, YUNHE_PERIOD, fill_yunhe)


# ------------------------------------------------------------------ E: 桃源镇 (shuocheng)

TAOYUAN_TOWNSHIP = "桃源镇"
TAOYUAN_PERIOD = "2024"
TAOYUAN_SEED = 20241220
# code, name, type, secretary, funds base, quality (0..1)
TAOYUAN_UNITS = [
    ("TY01", "桃源村", "村", "高振东", 50000, 0.96),
    ("TY02", "杏林村", "村", "林桂芝", 45000, 0.90),
    ("TY03", "南山村", "村", "马红军", 42000, 0.84),
    ("TY04", "北坡村", "村", "郭淑华", 40000, 0.78),
    ("TY05", "柿子沟村", "村", "胡海生", 38000, 0.66),
    ("TY06", "桃源社区", "社区", "朱丽华", 60000, 0.92),
    ("TY07", "前进村", "村", "梁宝山", 42000, 0.81),
    ("TY08", "后营村", "村", "宋春生", 40000, 0.74),
]
# 奖励加分（X）和惩罚减分（Y）: unit → (事项, 类别, 分值, 依据)
TAOYUAN_ADJUST = {
    "TY01": [("村集体经济收入突破 50 万元", "加分", 3, "镇党委会议纪要"),
             ("获评市级“五星”党支部", "加分", 3, "市委组织部通报")],
    "TY02": [("人居环境整治获区级表扬", "加分", 2, "区人居办通报")],
    "TY03": [("矛盾纠纷化解成效明显", "加分", 1, "镇综治中心通报"),
             ("党费收缴不及时", "减分", 1, "镇党委通报")],
    "TY05": [("发生越级上访被区里通报", "减分", 5, "区信访局通报"),
             ("“三务”公开长期未更新", "减分", 3, "镇纪委督查通报"),
             ("村级财务票据不规范", "减分", 2.5, "镇经管站审计意见")],
    "TY06": [("社区服务站获评区级示范点", "加分", 2, "区民政局文件"),
             ("安全隐患整改滞后", "减分", 1.5, "镇安监站通报")],
    "TY08": [("秸秆禁烧巡查不到位", "减分", 2, "镇环保站通报")],
}


def fill_taoyuan(scheme: Scheme, folder: Path, rng: random.Random) -> None:
    """The township's assessment group types 定量考核/组织评价; each village its tally and register."""
    entries = _entries(folder)
    quality = {c: q for c, *_, q in TAOYUAN_UNITS}
    rows = []
    for code, *_ in TAOYUAN_UNITS:
        q = quality[code]
        rows.append({"单位代码": code, "定量考核得分": _half(_clip(rng.gauss(60 * q, 1.5), 0, 60)),
                     "组织评价得分": _half(_clip(rng.gauss(20 * q, 0.8), 0, 20))})
        if q < 0.7:
            rows[-1]["备注"] = "集体经济薄弱，风险隐患排查不到位"
    fill(entries[("township", "")], rows, match="单位代码")
    item = scheme.form("mass").rows[0]
    for code, *_ in TAOYUAN_UNITS:
        q = quality[code]
        copies = rng.randint(60, 120)
        happy = int(copies * _clip(rng.gauss(q - 0.05, 0.04), 0, 1))
        fair = int((copies - happy) * 0.7)
        fill(entries[("mass", code)], [{"评价内容": item, "满意": happy, "基本满意": fair,
                                        "不满意": copies - happy - fair}], match="评价内容")
        if code in TAOYUAN_ADJUST:
            fill(entries[("adjust", code)],
                 [{"事项": what, "类别": kind, "分值": pts, "依据": basis}
                  for what, kind, pts, basis in TAOYUAN_ADJUST[code]])
        else:
            declare_none(entries[("adjust", code)])


def make_taoyuan(target: Path = SAMPLES / "taoyuan") -> Sample:
    return _one_period(target, "shuocheng", TAOYUAN_SEED, TAOYUAN_TOWNSHIP, TAOYUAN_UNITS, TAOYUAN_PERIOD, fill_taoyuan)


# ------------------------------------------------------------------ main

MAKERS = {"qingshi": make_qingshi, "yunhe": make_yunhe, "taoyuan": make_taoyuan, "qinghu": make_qinghu, "lanxi": make_lanxi}


def main(argv: list[str] | None = None) -> None:
    names = (argv if argv is not None else sys.argv[1:]) or list(MAKERS)
    unknown = [n for n in names if n not in MAKERS]
    if unknown:
        raise SystemExit(f"未知的样例：{'、'.join(unknown)}（可选：{'、'.join(MAKERS)}）")
    for name in names:
        MAKERS[name]()
        print(f"samples written to {SAMPLES / name}")


if __name__ == "__main__":
    main()
