"""The sheets' contents: 汇总, 分项得分, 得分依据, 等次配额, 名单, 整改事项, 测评明细, 问题清单, 说明, and 公示.

Each function records one sheet on a ``Grid`` (``engine.py``) and finishes it; the scores come as ``Entry``
cells from the ``Trace`` (``trace.py``). ``write_summary`` writes them all in the workbook's order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from villagescore.core.decisions import ROW, TIE
from villagescore.core.explain import period_label, rounding
from villagescore.core.issues import Report, Severity
from villagescore.core.numbers import round_half_up
from villagescore.core.periods import Period
from villagescore.core.records import DecisionItem, GradeResult, RunResult, Unit, UnitResult
from villagescore.io.summary.charts import charts_sheet
from villagescore.io.summary.common import (
    BAD, BALLOT_TONE, BALLOTS, ERROR_ROW, EVIDENCE, MUTED, PENDING, SCORES, grade_text, grade_tone,
)
from villagescore.io.summary.engine import CAP, NARROW, Entry, Grid, Narrow, Rows, Styles, text_width
from villagescore.io.summary.trace import BallotLayout, Trace

SIGNATURE = "审核人：__________    审定人：__________    日期：____年__月__日"
PUBLIC_NOTE = "公示期：____年__月__日至____年__月__日。如有异议，请在公示期内向乡（镇）党委反映。"


def _plain(value: Any, places: int) -> str:
    """An input value as text for a 依据 cell."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"≈{round_half_up(value, places + 2)}"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (list, tuple, set)):
        return "、".join(_plain(v, places) for v in value)
    return str(value)


def _consequence(gr: GradeResult | None) -> str:
    if gr is None:
        return ""
    parts = [gr.consequence] if gr.consequence else []
    if gr.funds_change is not None:
        parts.append(f"工作经费 {gr.funds_change:+,.2f} 元")
    if gr.provisional and parts:  # the year's result decides: never applied from a half-year
        return "预计（按全年考评结果执行，本期不执行）：" + "；\n".join(parts)
    return "；\n".join(parts)  # the fund change on a line of its own: never broken inside


def _remarks(u: UnitResult, open_rows: list[DecisionItem]) -> str:
    parts = [f"一票否决：{v}" for v in u.vetoes]
    parts += [gr.reason for gr in u.grades.values() if (not gr.grade or gr.decision) and gr.reason]  # pending,
    # withheld, 无法判定, or decided by the committee (the decision cited)
    # a register row still before the committee (申请撤销): the score stands on the row as registered for now
    parts += [f"{i.brief}待党委研究，本期得分暂按表中状态计算，研究后重新计算"
              for i in open_rows if i.units[0] == u.code]
    if not u.ok:
        parts.append("数据有错误，未计算")
    return "；".join(parts)


def _annual_periods(result: RunResult) -> list[str]:
    """Earlier periods shown beside an annual score (only with more than one)."""
    try:
        annual = Period.parse(result.period).kind == "year"
    except ValueError:
        return []
    found = [p for p in result.periods if p != result.period and any(p in u.by_period for u in result.units)]
    return found if annual and result.display and len(found) > 1 else []


def _movement(prev: Any, places: int) -> list[Any]:
    """上期得分, 得分变化 and 名次变化 of one unit (text for the signed changes, so the sign always shows)."""
    if prev is None:
        return [None, "—", "—"]
    change = "—" if prev.change is None else f"{prev.change:+.{places}f}"
    moved = prev.rank_change
    rank = "—" if moved is None else "持平" if moved == 0 else f"上升 {moved} 名" if moved > 0 else f"下降 {-moved} 名"
    return [prev.score, change, rank]


def _summary(book, st: Styles, result: RunResult, title: str, trace: Trace) -> None:
    g = Grid(book, st, "汇总", trace.fallbacks)
    label = result.node_labels.get
    root = result.display[-1] if result.display else ""
    extra = _annual_periods(result)
    one = len(result.gradings) == 1
    people, townships = result.has_people, result.across_townships
    header = ["排名", "单位代码", "单位名称", "类型", "所属单位" if people else "党组织书记"]
    if townships:
        header.insert(2, "乡镇（街道）")
    header += [f"{period_label(p)}得分" for p in extra]
    header += [label(n, n) for n in result.display]
    previous = getattr(result, "previous", None) or {}
    moved: tuple[int, ...] = ()
    if previous:
        header += [f"上期（{period_label(result.previous_period)}）得分", "得分变化", "名次变化"]
        moved = (len(header) - 2, len(header) - 1)  # signed changes centred, apart from the score beside them
    # gradings of different unit types (系统 B: villages, secretaries, cadres …): one 等次 column, label and grade
    merged = result.mixed_gradings
    for _, glabel in ([("", "等次")] if merged else result.gradings):
        header += [glabel, "结果运用" if one or merged else f"{glabel}结果运用"]
    header.append("备注")
    g.title(title, len(header))
    g.caps.update({c: 24 for c, h in enumerate(header) if h == "备注" or h.endswith("结果运用")})

    open_rows = [i for i in result.decisions if i.open and i.kind == ROW]

    def row(i: int, u: UnitResult) -> tuple[list, dict]:
        rank = u.rank(result.gradings) or (i if u.ok and not result.gradings else None)
        values: list[Any] = [rank, u.unit.code, u.unit.name, u.unit.type,
                             u.unit.parent_name if people else u.unit.secretary]
        if townships:
            values.insert(2, u.unit.township)
        values += [trace.scored(u, p, root, SCORES) for p in extra]
        values += [trace.scored(u, result.period, n, SCORES) for n in result.display]
        if previous:
            values += _movement(previous.get(u.code), result.places)
        tone = {} if u.ok else ERROR_ROW
        fmts = {c: dict(tone) for c in range(len(header))}
        if merged:
            mine = [(gid, glabel, u.grades[gid]) for gid, glabel in result.gradings if gid in u.grades]
            first = mine[0] if mine else ("", "", None)
            fmts[len(values)] = {**tone, **grade_tone(first[2], result.grade_orders.get(first[0], []),
                                                       result.grade_colors.get(first[0]))}
            values += ["\n".join(f"{glabel}：{grade_text(gr, u.ok)}" for _, glabel, gr in mine) or "未评定",
                       "\n".join(c for c in (_consequence(gr) for *_, gr in mine) if c)]
        for gid, _ in ([] if merged else result.gradings):
            gr = u.grades.get(gid)
            fmts[len(values)] = {"align": "center", **tone, **grade_tone(gr, result.grade_orders.get(gid, []),
                                                                       result.grade_colors.get(gid))}
            values += [grade_text(gr, u.ok), _consequence(gr)]
        values.append(_remarks(u, open_rows))
        for c in (0, 1, header.index("类型"), *moved):
            fmts[c]["align"] = "center"
        return values, fmts

    rows = Rows(len(result.units), lambda: (row(i, u) for i, u in enumerate(result.units, 1)))
    funds = max((text_width(line) for values, _ in rows for v in values if isinstance(v, str)
                 for line in v.split("\n") if line.startswith("工作经费")), default=0)
    g.flex.update({c: max(12, funds + 2) if h.endswith("结果运用") else 12 for c, h in enumerate(header)
                   if h == "备注" or h.endswith("结果运用")})  # a fund change stays on one line
    if merged:
        g.flex[header.index("等次")] = NARROW
    g.table_rows(header, rows)
    g.block([f"说明：{n}" if i == 0 else n for i, n in enumerate(result.notes)])
    g.block([SIGNATURE], gap=2, font_size=12)
    g.keys = 4 if townships else 3  # 排名, 单位代码, (乡镇,) 单位名称 head every page of a split sheet
    g.finish(freeze_cols=3)


def _scores(book, st: Styles, result: RunResult, title: str, trace: Trace) -> None:
    """The leaf values and weighted scores of every unit and period, numbers only (their inputs: ``_evidence``)."""
    g = Grid(book, st, SCORES, trace.fallbacks)
    label = result.node_labels.get
    multi = len(trace.keys) > 1
    header = ["单位代码", "单位名称", *(["期间"] if multi else [])]
    header += [label(n, n) for n in [*result.leaves, *trace.inner]]
    g.title(title, len(header))

    def row(u: UnitResult, key: str) -> tuple[list, dict]:
        tone = {} if u.ok else ERROR_ROW
        whole = key not in trace.periods  # a year's row, from its periods
        values: list[Any] = [u.unit.code, u.unit.name, *([period_label(key)] if multi else [])]
        values += [trace.leaf(u, key, n) for n in result.leaves]
        values += [trace.scored(u, key, n) for n in trace.inner]
        fmts = {c: {**tone, **({"bold": True} if whole else {})} for c in range(len(header))}
        fmts[0]["align"] = "center"
        return values, fmts

    g.table_rows(header, Rows(len(result.units) * len(trace.keys),
                              lambda: (row(u, key) for u in result.units for key in trace.keys)))
    legend = []
    weights = "＋".join(f"{period_label(p)}×{(w * 100).normalize():f}%" for p, w in trace.weights.items())
    if multi:
        legend.append(f"{period_label(result.period)}（加粗的行）："
                      + (f"各项 = {weights}" if weights else "各项按方案合并各期得分"))
    for leaf in result.leaves:
        rules = list(dict.fromkeys(d.rule for u in result.units for d in u.details if d.node == leaf and d.rule))
        if rules:
            legend.append(f"{label(leaf, leaf)}：{'；'.join(rules)}")
    if legend:
        g.block([f"计分规则（各项得分所依据的数字见“{EVIDENCE}”）："] + legend)
    g.finish(freeze_cols=3 if multi else 2)


def _evidence(book, st: Styles, result: RunResult, title: str) -> None:
    """得分依据: one row per unit, period and item: the inputs behind the item's score and the file they came from."""
    g = Grid(book, st, EVIDENCE)
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    label = result.node_labels.get
    header = ["单位代码", "单位名称", "期间", "项目", "得分", "依据", "来源"]
    g.title(title, len(header))
    order = {n: i for i, n in enumerate(result.leaves)}

    def rows_of(u: UnitResult):
        tone = {} if u.ok else ERROR_ROW
        details = sorted(u.details, key=lambda d: (d.period, order.get(d.node, len(order))))
        for d in details:
            text = "；".join(f"{k}={_plain(v, result.places)}" for k, v in d.inputs.items()) or "—"
            value = None if d.value is None else Entry(d.value, places=result.places)
            yield ([u.unit.code, u.unit.name, period_label(d.period), label(d.node, d.node), value, text,
                    d.source], {0: {"align": "center", **tone}, **{c: tone for c in range(1, 7)}})

    n = sum(len(u.details) for u in result.units)
    rows: Rows | list[tuple[list[str], dict[int, dict[str, Any]]]] = \
        Rows(n, lambda: (r for u in result.units for r in rows_of(u))) if n else \
        [(["无", *[""] * (len(header) - 1)], {})]
    g.caps.update({3: 20, 5: 44, 6: 44})
    g.flex.update({5: 24, 6: NARROW})
    g.table_rows(header, rows)
    g.finish(freeze_cols=2, landscape=True)


def _quota(book, st: Styles, result: RunResult, title: str) -> None:
    g = Grid(book, st, "等次配额")
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    labels = dict(result.gradings)
    header = ["等次类别", "规则", "等次", "参评单位数", "允许/要求", "实际", "待党委研究占用", "说明"]
    g.title(title, len(header))
    center = {c: {"align": "center"} for c in (2, 3, 4, 5, 6)}
    rows = [([labels.get(q.grading, q.grading), q.rule, q.grade, q.n, q.allowed, q.actual, q.pending, q.note], center)
            for q in result.quota]
    g.table_rows(header, rows, autofilter=False)
    g.finish()


def _lists(book, st: Styles, result: RunResult, title: str) -> None:
    """The scheme's lists (e.g. 约谈名单 with open rectification items), one table after another."""
    g = Grid(book, st, "名单")
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    width = max((4 + len(lst.columns) for lst in result.lists), default=4)
    g.title(title, width)
    for lst in result.lists:
        g.block([f"{lst.title}（{len(lst.entries)} 个）" + (f"：{lst.text}" if lst.text else "")], gap=0 if g.row == 1
                else 1, bold=True)
        graded = any(e.grade for e in lst.entries)
        header = ["单位代码", "单位名称", "乡镇（街道）", *(["等次"] if graded else []), *lst.columns]
        none = ["无", *[""] * (len(lst.columns) - 1)] if lst.columns else []  # a listed unit without matching rows
        rows = []
        for e in lst.entries:
            for line in e.rows or [none]:
                rows.append(([e.unit, e.name, e.township, *([e.grade] if graded else []), *line],
                             {0: {"align": "center"}, 3: {"align": "center"}}))
        if not rows:
            rows.append((["无", *[""] * (len(header) - 1)], {}))
        g.table_rows(header, rows, autofilter=False)
    g.finish()


def _items(book, st: Styles, result: RunResult, title: str) -> None:
    """This period's tracked items (问题整改清单) with repeats flagged, then last period's open items not listed again."""
    g = Grid(book, st, "整改事项")
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    names = {u.code: u.unit.full_name for u in result.units}
    header = ["单位代码", "单位名称", "期间", "存在问题", "整改措施", "责任人", "整改时限", "整改情况", "往期已列入"]
    g.title(title, len(header))

    def rows(items):
        return [([i.unit, names.get(i.unit, ""), period_label(i.period), i.problem, i.measure, i.owner, i.deadline,
                  i.status, i.repeated or ""], {8: BAD if i.repeated else {}, 7: {} if not i.open else PENDING})
                for i in items]

    g.table_rows(header, rows(result.items) or [(["本期没有整改事项", *[""] * 8], {})], autofilter=False)
    if result.carried:
        g.block([f"上期尚未完成、本期清单未再列入的整改事项（{len(result.carried)} 项），请核实整改情况："], bold=True)
        g.table_rows(header, rows(result.carried), autofilter=False)
    g.finish()


def _ballots(book, st: Styles, result: RunResult, title: str, lay: BallotLayout) -> None:
    """One row per ballot from row 3, in ``result.ballots`` order; 合计 and 状态 after the items (``Trace._mean``);
    a unit's own criteria in a row above its ballots (``BallotLayout``)."""
    g = Grid(book, st, BALLOTS)
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    keys = lay.keys
    votes = ["投票"] if lay.votes else []  # vote ballots: one text per ballot
    header = ["单位代码", "期间", "票号", *votes, *lay.names, "合计", "状态", "文件", "工作表", "行"]
    g.title(title, len(header))
    status_col = 3 + len(votes) + len(keys) + 1
    if votes:
        g.caps[3] = CAP
        g.flex[3] = 24
    g.flex[status_col + 1] = NARROW
    names = {u.code: u.unit.name for u in result.units}
    tone = {"bg_color": "#F2F2F2", "valign": "top"}
    fmts = {c: dict(tone) for c in range(len(header))}  # every row naming criteria: the same formats

    def named(code: str) -> tuple[list, dict]:
        return ([Narrow(code), Narrow(f"{names.get(code, code)}考核细则"), None, *([None] if votes else []),
                 *[Narrow(lay.labels[code].get(k, "")) for k in keys], *[None] * 5], fmts)

    g.table_rows(header, _BallotRows(result.ballots, keys, bool(votes), status_col, lay.named, named))
    g.finish(freeze_cols=3)


class _BallotRows:
    """The rows of 测评明细, made again each time they are read: a county's ballots are not held twice.
    ``named``: sheet row → the unit whose criteria the row names (``row(unit)`` makes it)."""

    def __init__(self, ballots, keys: list[str], votes: bool, status_col: int, named: dict[int, str] | None = None,
                 row=None):
        self.ballots, self.keys, self.votes, self.status_col = ballots, keys, votes, status_col
        self.named, self.row = named or {}, row
        self.fmts: dict[str, dict[int, dict]] = {}  # by status: the same format dicts for every ballot
        self.periods: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.ballots) + len(self.named)

    def __iter__(self):
        keys, votes, fmts, periods, named = self.keys, self.votes, self.fmts, self.periods, self.named
        r = 2
        for b in self.ballots:
            if r in named:
                yield self.row(named[r])
                r += 1
            r += 1
            period = periods.get(b.period)
            if period is None:
                period = periods[b.period] = period_label(b.period)
            get = b.scores.get
            values = [b.unit, period, b.serial, *([b.votes] if votes else []), *[get(k) for k in keys],
                      b.total, b.status, b.file, b.sheet, b.row]
            fmt = fmts.get(b.status)
            if fmt is None:
                fmt = fmts[b.status] = {0: {"align": "center"},
                                        self.status_col: {"align": "center", **BALLOT_TONE.get(b.status, {})}}
            yield values, fmt


def _issues(book, st: Styles, report: Report, title: str, names: dict[str, str] | None = None) -> None:
    g = Grid(book, st, "问题清单")
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    header = ["序号", "级别", "单位", "文件", "工作表", "单元格", "问题", "改正方法", "代码"]  # the code last
    g.title(title, len(header))
    names = names or {}
    rows = []
    for i, it in enumerate(report.issues, 1):
        unit = f"{it.unit} {names[it.unit]}" if it.unit in names else it.unit
        tone = BAD if it.severity is Severity.ERROR else PENDING
        values = [i, it.severity.label, unit, it.file, it.sheet, it.cell, it.message, it.hint, it.code]
        rows.append((values, {0: {"align": "center"}, 1: {"align": "center", **tone}, 5: {"align": "center"}}))
    head = g.table_rows(header, rows)
    if not report.issues:
        g.merged(g.row, 0, g.ncols - 1, "未发现问题", st(border=1, align="center"))
        g.table = (head, g.row)
        g.row += 1
    g.caps.update({6: 36, 7: 36})  # 问题, 改正方法 (the code is last)
    g.flex.update({3: NARROW, 6: NARROW, 7: NARROW})
    g.finish()


def _about(book, st: Styles, result: RunResult, title: str, trace: Trace) -> None:
    g = Grid(book, st, "说明")
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    header = ["文件", "SHA-256", "表格", "单位", "期间", "状态"]
    g.title(title, len(header))
    names = {u.unit.code: u.unit.name for u in result.units}
    errors, warnings = len(result.report.errors), len(result.report.warnings)
    pairs = [
        ("考评方案", result.scheme_name),
        ("方案编号", result.scheme_id),
        ("方案版本", result.scheme_version),
        ("依据", result.scheme_source),
        ("考评期间", period_label(result.period)),
        ("读取期间", "、".join(period_label(p) for p in result.periods)),
        ("参评单位", f"{len(result.units)} 个（{sum(not u.ok for u in result.units)} 个因数据有错误未计算）"),
        ("问题", f"错误 {errors} 条，提示 {warnings} 条（见“问题清单”）"),
        ("计算时间", result.computed_at),
        ("工具版本", result.tool_version),
        ("舍入规则", f"四舍五入，保留 {result.places} 位小数，" + ("每一级舍入" if rounding(result) == "each" else "最后一次舍入")),
        *trace.about(),
        *([("扫描读票", result.scan_note)] if result.scan_note else []),
        *_decision_pairs(result),
    ]
    head_fmt = st(bold=True, border=1, text_wrap=True, align="center", bg_color="#D9E1F2")
    g.string(g.row, 0, "项目", head_fmt)
    g.merged(g.row, 1, g.ncols - 1, "内容", head_fmt)
    g.head = g.row  # freeze below this header
    g.row += 1
    value_fmt = st(border=1, text_wrap=True, align="left")
    for key, value in pairs:
        g.put(g.row, 0, key, bold=True)
        g.merged(g.row, 1, g.ncols - 1, value, value_fmt, wrap=(g.line, 3))
        g.row += 1
    g.row += 1
    g.merged(g.row, 0, g.ncols - 1, "读取的文件", st(bold=True, font_size=12))
    g.row += 1
    def file_row(f) -> tuple[list, dict]:
        unit = f"{f.unit} {names[f.unit]}" if f.unit in names else f.unit
        tone = {} if f.status == "已读取" else BAD if f.status == "有错误" else MUTED
        # a file given outside the folders (--decisions) by its name: no path of the clerk's PC in the summary
        shown = PurePath(f.path).name if PurePath(f.path).is_absolute() else f.path
        return ([shown, f.sha256, result.form_titles.get(f.form_id, f.form_id), unit,
                 period_label(f.period) if f.period else "", f.status], {5: {"align": "center", **tone}})

    rows = Rows(len(result.files), lambda: map(file_row, result.files))
    files_head = g.table_rows(header, rows, autofilter=False)
    g.titles = (files_head, files_head)  # pages after the first continue the file list under its header
    g.caps[1] = 66  # a whole hash on one line, easy to compare; on two where the page is too narrow
    g.flex.update({0: NARROW, 1: 34, 2: 16})
    g.finish()


def _decision_pairs(result: RunResult) -> list[tuple[str, str]]:
    """说明's lines on the committee's decisions: those applied (with 会议/文号 and 日期) and those still open."""
    applied = [i.note for i in result.decisions if i.decided]
    units = {u.code: u.unit for u in result.units}
    # 说明 has no unit column (the decision sheet and the screen do): a register row's question is the unit's
    still = [i.title if i.kind == TIE or i.units[0] not in units else f"{_whose(units[i.units[0]])}{i.title}"
             for i in result.decisions if i.open]
    pairs = []
    if applied:
        pairs.append(("党委研究决定", "\n".join(f"{k}. {t}" for k, t in enumerate(applied, 1))))
    if still:
        pairs.append(("待党委研究事项", "\n".join(f"{k}. {t}" for k, t in enumerate(still, 1))
                      + f"\n（见党委研究事项_{result.period}.xlsx；党委研究后填写，放入本期表格文件夹重新计算）"))
    return pairs


def _whose(unit: Unit) -> str:
    """A unit as a line of 说明 names it: 杏花社区（HX02，河西街道）."""
    return f"{unit.full_name}（{unit.code}{'，' + unit.township if unit.township else ''}）"


def _date_text(when: str) -> str:
    try:
        d = datetime.fromisoformat(when)
    except (TypeError, ValueError):
        return when
    return f"{d.year}年{d.month}月{d.day}日"


def _public(book, st: Styles, result: RunResult, title: str) -> None:
    g = Grid(book, st, "公示")
    g.drawings = False  # no chart, no cell comment: row heights need not be kept
    label = result.node_labels.get
    root = result.display[-1] if result.display else ""
    extra = _annual_periods(result)
    people, merged = result.has_people, result.mixed_gradings
    header = ["排名", "单位或人员" if people else "单位名称", "所属单位" if people else "党组织书记",
              *[f"{period_label(p)}得分" for p in extra], *([label(root, root)] if root else []),
              *(["等次"] if merged else [glabel for _, glabel in result.gradings])]
    g.title(title, len(header))
    townships = {u.unit.township for u in result.units if u.unit.township}
    date = "　".join([*(townships if len(townships) == 1 else []), _date_text(result.computed_at)])
    g.merged(g.row, 0, g.ncols - 1, date, st(align="right"))
    g.row += 1
    first = 3 + len(extra) + (1 if root else 0)
    rows = []
    for i, u in enumerate(result.units, 1):
        values: list[Any] = [u.rank(result.gradings) or (i if u.ok and not result.gradings else None),
                             u.unit.label if people else u.unit.name,
                             u.unit.parent_name if people else u.unit.secretary]
        values += [u.by_period.get(p, {}).get(root) for p in extra] + ([u.rounded.get(root)] if root else [])
        if merged:
            values.append("\n".join(f"{glabel}：{grade_text(u.grades[gid])}" for gid, glabel in result.gradings
                                     if gid in u.grades))
        else:
            values += [grade_text(u.grades.get(gid)) for gid, _ in result.gradings]
        rows.append((values, {c: {"align": "center"} for c in (0, *range(first, len(header)))}))
    head = g.table_rows(header, rows, autofilter=False)
    for r in range(head + 1, g.row):
        g.height(r, 22)  # room to read a posted sheet
    g.block([PUBLIC_NOTE], font_size=st.size)
    g.finish(landscape=len(header) > 7)


def write_summary(book, result: RunResult) -> None:
    """Every sheet of the summary (汇总 … 说明), in the workbook's order."""
    head = f"{result.scheme_name} {period_label(result.period)}"
    layout = BallotLayout(result)  # one pass over the ballots, for the formulas and for 测评明细
    st, trace = Styles(book, result.places), Trace(result, layout)
    _summary(book, st, result, f"{head} 考评结果汇总", trace)
    charts_sheet(book, st, result, f"{head} 图表")
    _scores(book, st, result, f"{head} 分项得分", trace)
    _evidence(book, st, result, f"{head} 得分依据")
    _quota(book, st, result, f"{head} 等次配额")
    if result.lists:
        _lists(book, st, result, f"{head} 名单")
    if result.items or result.carried:
        _items(book, st, result, f"{head} 整改事项")
    _ballots(book, st, result, f"{head} 测评明细", layout)
    _issues(book, st, result.report, f"{head} 问题清单", {u.unit.code: u.unit.name for u in result.units})
    _about(book, st, result, f"{head} 说明", trace)


def write_public(book, result: RunResult, title: str) -> None:
    _public(book, Styles(book, result.places, 12), result, title)


def write_issues(book, report: Report, title: str) -> None:
    _issues(book, Styles(book, 2), report, title)
