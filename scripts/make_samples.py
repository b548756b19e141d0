"""Regenerate samples/: made-up townships with filled workbooks and their computed summaries.

- ``qingshi``: 青石乡 (system A, ``pingbian``), 2025H1 and 2025H2, from ``villagescore.demo``;
- ``yunhe``: 云河街道 (system D, ``dazhou_street``), 2024, nine villages/communities and three 站办所;
- ``taoyuan``: 桃源镇 (system E, ``shuocheng``), 2024, eight villages/communities.

Every place and person here is invented. The blank forms come from the real ``template`` code path
(``make_forms``), the values are typed into them with openpyxl the way a clerk types paper sheets into
Excel (deterministic random with a fixed seed), and the summary is written by the real ``compute`` and
``build_summary``. Deterministic: the same script writes the same values (file timestamps aside).
Run from the repo:

    python scripts/make_samples.py                  # all samples
    python scripts/make_samples.py yunhe taoyuan    # only these
"""

from __future__ import annotations

import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from villagescore.core.records import RunResult  # noqa: E402
from villagescore.core.scheme import Scheme  # noqa: E402
from villagescore.demo import build, fill  # noqa: E402
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
    write_bytes_atomic(roster, build_setup_workbook("roster", scheme))
    fill(roster, [{"单位代码": c, "单位名称": n, "类型": t, "党组织书记": s, "所属乡镇": township,
                   "工作经费基数（元）": f} for c, n, t, s, f, *_ in units])
    return roster


def _entries(folder: Path) -> dict[tuple[str, str], Path]:
    """(form id, unit code or "") → the generated entry workbook, found by its hidden identity sheet."""
    out = {}
    for p in sorted(folder.rglob("*.xlsx")):
        ident = read_workbook(p).identity or {}
        if ident.get("role") == "entry":
            out[(ident["form_id"], ident.get("unit_code", ""))] = p
    return out


def _half(x: float) -> float | int:
    """x to the nearest half point, as a clerk writes it (85, 85.5), without round()."""
    v = int(x * 2 + 0.5) / 2
    return int(v) if v == int(v) else v


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _finish(scheme: Scheme, root: Path, roster: Path, folder: Path, period: str) -> Sample:
    result = compute(scheme, [folder], period=period)
    summary = root / f"{period}汇总.xlsx"
    write_bytes_atomic(summary, build_summary(result))
    return Sample(root, roster, folder, summary, result)


# ------------------------------------------------------------------ A: 青石乡 (pingbian)


def make_qingshi(target: Path = SAMPLES / "qingshi") -> None:
    if target.exists():
        shutil.rmtree(target)
    scheme = schemes.load("pingbian")
    paths = build(target, scheme)
    result = compute(scheme, list(paths.forms.values()), period="2025")
    write_bytes_atomic(paths.summary, build_summary(result))


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
                if col.type == "option":
                    row[col.label] = band = _band(rng, quality[code])
                    worst = max(worst, band)
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


def make_yunhe(target: Path = SAMPLES / "yunhe") -> Sample:
    _fresh(target)
    scheme = schemes.load("dazhou_street")
    rng = random.Random(YUNHE_SEED)
    roster = _roster(scheme, target / "基础信息", YUNHE_TOWNSHIP, YUNHE_UNITS)
    folder = target / f"{YUNHE_PERIOD}表格"
    run = make_forms(scheme, roster, None, None, YUNHE_PERIOD, folder, seed=YUNHE_SEED)
    if run.report.errors:
        raise SystemExit("\n".join(i.text() for i in run.report.errors))
    fill_yunhe(scheme, folder, rng)
    return _finish(scheme, target, roster, folder, YUNHE_PERIOD)


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


def make_taoyuan(target: Path = SAMPLES / "taoyuan") -> Sample:
    _fresh(target)
    scheme = schemes.load("shuocheng")
    rng = random.Random(TAOYUAN_SEED)
    roster = _roster(scheme, target / "基础信息", TAOYUAN_TOWNSHIP, TAOYUAN_UNITS)
    folder = target / f"{TAOYUAN_PERIOD}表格"
    run = make_forms(scheme, roster, None, None, TAOYUAN_PERIOD, folder, seed=TAOYUAN_SEED)
    if run.report.errors:
        raise SystemExit("\n".join(i.text() for i in run.report.errors))
    fill_taoyuan(scheme, folder, rng)
    return _finish(scheme, target, roster, folder, TAOYUAN_PERIOD)


# ------------------------------------------------------------------ main

MAKERS = {"qingshi": make_qingshi, "yunhe": make_yunhe, "taoyuan": make_taoyuan}


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
