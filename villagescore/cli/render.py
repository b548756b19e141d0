"""Everything the command line draws: tables, trees, reports, the progress bar.

Text from the data is escaped (rich would take ``[..]`` in a name or a path for markup); widths are measured in
screen cells (a CJK character takes two). Output goes to ``console`` (stdout) and messages to ``err`` (stderr);
piped output (a log file, CI) gets a fixed comfortable width instead of rich's 80 columns.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from villagescore.core.issues import Report, Severity, cell_order
from villagescore.core.numbers import fmt
from villagescore.core.periods import Period
from villagescore.io.cells import display_width

if TYPE_CHECKING:  # imported where used, so that --help starts quickly (the scheme model is pydantic)
    from rich.progress import Progress
    from rich.tree import Tree

    from villagescore.core.records import RunResult
    from villagescore.io.archive import Run
    from villagescore.core.scheme import Scheme
    from villagescore.runs import Computed, Explained, Scan, Template, UnitHistory, Validated

console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 150)


def error(message: str, hint: str = "") -> None:
    """A message in red on stderr (and a hint under it, plain)."""
    err.print(f"[red]{escape(message)}[/]" + (f"\n{escape(hint)}" if hint else ""))


# ------------------------------------------------------------------ progress


class Bar:
    """A run's progress (``runs.Progress``) as rich's bar on stderr, shown while the run works (on a terminal
    only); notes print at once, above the bar."""

    def __init__(self) -> None:
        self.progress = _bar()
        self.task: Any = None

    def __enter__(self) -> "Bar":
        self.progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def begin(self, description: str, total: int | None = None) -> None:
        self.task = self.progress.add_task(description, total=total, current="")

    def size(self, total: int) -> None:
        self.progress.update(self.task, total=total)

    def advance(self, current: str, n: int = 1) -> None:
        self.progress.update(self.task, advance=n, current=current)

    def note(self, text: str) -> None:
        console.print(text)


def _bar() -> Progress:
    from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        gbk_bar_column(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def gbk_bar_column():
    """rich's bar column, drawn in whole cells: its half cells (╸ ╺) are outside GBK, a Chinese Windows console's
    code page, while the whole cell (━) is in it."""
    from rich.progress import BarColumn
    from rich.progress_bar import ProgressBar
    from rich.segment import Segment

    whole = str.maketrans("╸╺", "━━")

    class Bar(ProgressBar):
        def __rich_console__(self, console, options):
            for seg in super().__rich_console__(console, options):
                yield Segment(seg.text.translate(whole), seg.style, seg.control)

    class Column(BarColumn):
        def render(self, task):
            return Bar(total=max(0, task.total) if task.total is not None else None, completed=max(0, task.completed),
                       width=None if self.bar_width is None else max(1, self.bar_width), pulse=not task.started,
                       animation_time=task.get_time(), style=self.style, complete_style=self.complete_style,
                       finished_style=self.finished_style, pulse_style=self.pulse_style)

    return Column()


# ------------------------------------------------------------------ issues


REPORT_ROWS = 50  # issues printed on screen (errors first); drawing thousands of rows takes seconds


def issues_table(report: Report, limit: int = REPORT_ROWS) -> Table:
    ordered = sorted(report.issues, key=lambda i: (i.severity is not Severity.ERROR, i.file, i.sheet,
                                                   cell_order(i.cell)))[:limit]
    # widths set here, not left to rich: CJK text has no spaces, so rich takes a whole message for one word too
    # long to fold and cuts the table at the screen's edge. A file name stays whole on its line while it takes at
    # most 45 % of what the columns of text share; the message and the hint share the rest (3:2) and fold.
    def widest(texts, least: int) -> int:
        return max([least, *(display_width(t) for t in texts)])

    level, sheet, cell = 4, widest((i.sheet for i in ordered), 6), widest((i.cell for i in ordered), 6)
    text = console.width - (level + sheet + cell) - 3 * 6 - 1  # file, message and hint, without the borders
    file = min(widest((i.file or "—" for i in ordered), 4), max(text * 9 // 20, 20))
    rest = max(text - file, 20)
    message = max(rest * 3 // 5, 12)
    widths = {"级别": level, "文件": file, "工作表": sheet, "单元格": cell, "问题": message,
              "改正方法": max(rest - message, 8)}
    table = Table(title="问题清单", show_lines=False, title_justify="left")
    for col, width in widths.items():
        table.add_column(col, overflow="fold", width=width)
    for i in ordered:
        style = "red" if i.severity is Severity.ERROR else "yellow"
        table.add_row(f"[{style}]{i.severity.label}[/]", escape(i.file or "—"), escape(i.sheet),
                      i.cell, escape(i.message), escape(i.hint))
    return table


def more_issues(shown: int, total: int, summary: bool = True) -> str:
    """The line under a cut issue table: how many are not shown and where the whole list is."""
    where = "完整清单见汇总表的“问题清单”工作表；也可" if summary else "完整清单可"
    return (f"另有 {total - shown} 条问题未显示（共 {total} 条，以上先列错误）。{where}用 "
            "villagescore validate 文件夹 --report 问题清单.xlsx 另存为工作簿。")


def print_report(report: Report, limit: int = REPORT_ROWS, summary: bool = False) -> None:
    """The issues (at most ``limit`` rows, errors first, in sheet order) and their counts; ``summary``: a summary
    workbook with the whole list was written."""
    if report.issues:
        console.print(issues_table(report, limit))
        if len(report.issues) > limit:
            console.print(more_issues(limit, len(report.issues), summary))
    console.print(f"错误 {len(report.errors)} 条，提示 {len(report.warnings)} 条。")


# ------------------------------------------------------------------ template, scan


def print_template(t: Template) -> None:
    """A setup form written, or a period's forms (the setup's issues first; their errors stop the forms)."""
    if t.kind is not None:
        if t.report.errors:  # the roster the criteria were to follow
            print_report(t.report)
            return
        from villagescore.runs import SETUP_KINDS

        console.print(f"已生成{SETUP_KINDS[t.kind]}空白表：{escape(str(t.target))}")
        return
    if t.report.errors:
        print_report(t.report)
        err.print("[red]基础表有错误，未生成表格。请改正后重试。[/]")
        return
    if t.report.issues:
        print_report(t.report)
    assert t.period is not None
    console.print(f"已为 {t.period.label} 生成 {t.files} 个文件，保存在：{escape(str(t.target))}")
    if t.carried is not None:
        console.print(f"已把往期未完成的整改事项 {t.carried} 项预先填入问题整改清单，请各单位更新整改情况。")
    if t.seed is not None:
        console.print(f"回访抽取随机种子：{t.seed}（已记录在各村回访核查表中）")
    if t.ballots != "excel":
        console.print("机读测评票（PDF）已放在各单位文件夹中：请用 A4 纸按实际大小（100%）打印，不要缩放；收回后扫描或拍照，"
                      "再用 villagescore scan 读入。")


def print_scan(s: Scan) -> None:
    """Each unit's ballots read from the scans, the pages not read in, and what is left to review."""
    run = s.run
    if run is None:  # the setup's errors stopped it
        print_report(s.setup_report)
        return
    table = Table(title=f"扫描读票（{Period.parse(run.period).label}）", title_justify="left")
    for col in ("单位", "表格", "收到的票", "机器读出", "待人工核对", "录入表"):
        table.add_column(col, overflow="fold")
    for us in run.units:
        pending = f"[yellow]{us.reviewed} 张（{len(us.items)} 处）[/]" if us.items else "[green]0[/]"
        table.add_row(escape(f"{us.unit.name}（{us.unit.code}）"), escape(us.form.title), str(us.received), str(us.read),
                      pending, escape(str(us.path)))
    console.print(table)
    unread = [i for i in run.report.issues if i.code != "scan-review-needed"]
    if unread:
        console.print(issues_table(Report(unread)))
    console.print(f"扫描件 {len(run.files)} 个、{run.pages} 页：测评票 {run.ballots} 张，机器读出 {run.machine_read} 张，"
                  f"待人工核对 {run.for_review} 张；未读入 {len(run.loose)} 页" +
                  (f"，空白页 {run.blank_pages} 页" if run.blank_pages else "") + "。")
    if run.for_review:
        console.print("[yellow]请打开上表中有待核对的录入表，在“扫描核对”工作表中看图并核对纸质票后填写“核对结果”；"
                      "未核对的，compute 会按错误处理。[/]")
    console.print(f"读票情况已保存：{escape(str(run.overview))}")


# ------------------------------------------------------------------ results


RANKING_ROWS_MAX = 60  # more units than this (a county): the screen shows the top 40 and the bottom 20


def ranking_categories(result) -> list[tuple[str, list]]:
    """Units graded together, by their first grading (系统 B: villages, secretaries, cadres, work teams; 系统 D:
    villages and offices), in result order: (the gradings' id, units)."""
    order = [gid for gid, _ in result.gradings]
    groups: dict[str, list] = {}
    for u in result.units:
        groups.setdefault(next((gid for gid in order if gid in u.grades), ""), []).append(u)
    return list(groups.items())


def ranking_tables(result) -> list[Table]:
    """One table per category of units (``ranking_categories``), titled, each with its own score columns, rank
    and gradings, and a 说明 column saying why a grade is what it is (a veto, a tie for the committee)."""
    cats = ranking_categories(result)
    title = f"{result.scheme_name}  {Period.parse(result.period).label}"
    return [_ranking_table(result, units, f"{title}  {_category_name(units)}" if len(cats) > 1 else title)
            for _, units in cats]


def _category_name(units: list) -> str:
    types = list(dict.fromkeys(u.unit.type for u in units))
    return "、".join(sorted(types, key=len))


def _ranking_table(result, units: list, title: str) -> Table:
    """One category's ranking: every column as wide as its widest value (a grade never wraps), long labels on
    two lines, the 说明 column taking what is left."""
    from rich.text import Text

    from villagescore.io.cells import balanced_lines

    table = Table(title=escape(title), title_justify="left", title_style="bold")
    people = any(u.unit.parent for u in units)
    townships = result.across_townships
    nodes = [n for n in result.display if any(n in u.rounded for u in units)] or list(result.display)
    gradings = [(gid, label) for gid, label in result.gradings if any(gid in u.grades for u in units)]
    rows: list[list[str] | None] = []
    shown: list[Any] = units
    if len(shown) > RANKING_ROWS_MAX:  # a county: the top and the bottom; every unit is in the summary
        head, tail = RANKING_ROWS_MAX * 2 // 3, RANKING_ROWS_MAX // 3
        shown = [*shown[:head], None, *shown[-tail:]]
    first = gradings[0][0] if gradings else ""
    for r in shown:
        if r is None:
            rows.append(None)
            continue
        cells, why = [], [f"一票否决：{escape(v)}" for v in r.vetoes]
        for gid, _ in gradings:
            g = r.grades.get(gid)
            if g is None:
                text = ""
            elif g.pending:
                text = f"[yellow]待党委研究（{'/'.join(g.pending)}）[/]"
            elif g.undetermined:
                text = "[yellow]无法判定[/]"
            elif g.grade is None:
                text = "[dim]未评定[/]"
            else:
                text = escape(g.grade)
                colour = result.grade_colors.get(gid, {}).get(g.grade)
                if colour:  # the scheme's colour (三色管理), as in the summary
                    text = f"[black on {colour}]{text}[/]"
            if g is not None and not g.grade and g.reason:
                why.append(escape(g.reason))
            cells.append(text)
        if not r.ok:
            why.append("数据有错误，未计算")
        g = r.grades.get(first)
        rank = str(g.rank if g and g.rank else "—") if first else str(r.rank(result.gradings) or "—")
        vals = [fmt(r.rounded.get(n), result.places) if r.ok and n in r.rounded else ("[red]未计算[/]" if not r.ok else "")
                for n in nodes]
        who = [escape(r.unit.township)] if townships else []
        rows.append([rank, escape(r.code), *who, escape(r.unit.name),
                     escape(r.unit.parent_name if people else r.unit.secretary), *vals, *cells, "；".join(why)])
    heads = ["排名", "代码", *(["乡镇（街道）"] if townships else []), "姓名" if people else "单位",
             "所属单位" if people else "书记", *(result.node_labels[n] for n in nodes), *(label for _, label in gradings)]
    base = len(heads) - len(nodes) - len(gradings)
    columns = []
    for i, label in enumerate(heads):
        values = max([Text.from_markup(row[i]).cell_len for row in rows if row is not None], default=0)
        label = balanced_lines(label, max(values, 4))  # a label no wider than its values where words allow
        widest = max([values, *(display_width(line) for line in label.split("\n"))])
        columns.append((label, widest, i == 0 or 0 <= i - base < len(nodes)))
    whole = sum(w + 3 for _, w, _ in columns) + 8 <= console.width  # else a narrow screen: every column folds
    for label, widest, right in columns:
        table.add_column(label, justify="right" if right else "left", min_width=widest if whole else None,
                         overflow="fold")
    table.add_column("说明", overflow="fold", ratio=1, min_width=4)
    for row in rows:
        if row is None:
            table.add_row("…", "", *([""] if townships else []),
                          f"[dim]中间 {len(units) - RANKING_ROWS_MAX} 个从略，完整排名见汇总表[/]")
        else:
            table.add_row(*row)
    return table


def print_lists(result) -> None:
    for lst in result.lists:
        console.print(f"[bold]{escape(lst.title)}[/]（{len(lst.entries)} 个）" + (f"：{escape(lst.text)}" if lst.text else ""))
        for e in lst.entries:
            head = "  " + "  ".join(escape(x) for x in (e.unit, e.name, e.grade) if x)
            console.print(head)
            for row in e.rows:
                console.print("      " + "；".join(f"{escape(c)}：{escape(v)}" for c, v in zip(lst.columns, row) if v))


def print_result(result) -> None:
    """A computed result on screen: the ranking, the scheme's lists, the notes and the issues (a summary was written)."""
    for table in ranking_tables(result):
        console.print(table)
    print_lists(result)
    for note in result.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    print_report(result.report, summary=True)


def print_decisions(result, sheet: Path | None) -> None:
    """The run's 党委研究事项: what the committee decided (applied), and what is still open, with the sheet to fill."""
    items = result.decisions
    if not items:
        return
    names = {u.code: u.unit.name for u in result.units}
    applied = [i for i in items if not i.open]
    if applied:
        console.print(f"[bold]已按党委研究决定计算（{len(applied)} 项）[/]，决定及其依据见以上说明。")
    still = [i for i in items if i.open]
    if not still:
        return
    table = Table(title=f"待党委研究事项（{len(still)} 项）", title_justify="left")
    for col in ("序号", "单位", "研究事项", "可选决定"):
        table.add_column(col, overflow="fold")
    for k, i in enumerate(still, 1):
        who = "、".join(f"{names.get(u, u)}（{u}）" for u in i.units)
        options = "；".join(dict.fromkeys(i.options_text(u) for u in i.units))
        table.add_row(str(k), escape(who), escape(i.title), escape(options))
    console.print(table)
    if sheet is not None:
        console.print(f"党委研究事项表已保存：{escape(str(sheet))}。党委研究后填写“决定”“会议/文号”“日期”，"
                      "放入本期表格文件夹（或用 --decisions 指定）后重新计算。")
    else:
        console.print("[yellow]尚有待党委研究的事项；本次读取的党委研究事项表未被覆盖。请把它放入本期表格文件夹后重新计算，"
                      "新的事项表会生成在汇总表旁。[/]")


def print_computed(c: Computed, as_json: bool = False) -> None:
    """A compute run: the ranking, lists, notes, issues and decisions, then every file written (or the result as
    JSON, for other systems)."""
    if as_json:
        from villagescore.io.exports import to_json

        console.print_json(json.dumps(to_json(c.result), ensure_ascii=False))
        return
    print_result(c.result)
    print_decisions(c.result, c.decision_sheet)
    console.print(f"汇总表已保存：{escape(str(c.output))}")
    if c.public:
        console.print(f"公示版已保存：{escape(str(c.public))}")
    if c.csv:
        console.print("CSV 已保存：" + "、".join(escape(str(p)) for p in c.csv))
    if c.recorded:
        console.print(f"已记入结果档案库：{escape(str(c.recorded[0]))}（第 {c.recorded[1]} 次计算）")


def print_explained(e: Explained) -> None:
    for line in e.lines:
        console.print(line, markup=False)


def print_demo(result: RunResult, summary: Path, out: Path) -> None:
    print_result(result)
    console.print(f"演示数据在：{escape(str(out))}")
    console.print(f"[bold]汇总表已保存：{escape(str(summary))}[/]")


# ------------------------------------------------------------------ validation


def print_validation(v: Validated, as_json: bool = False) -> None:
    """Issues file by file (the code last, for the catalogue), which unit has which form, the counts."""
    res = v.result
    if as_json:
        console.print_json(json.dumps(res.as_dict(), ensure_ascii=False))
        return
    from villagescore.stages.validate import COUNT_LABELS

    for file, items in res.issues_by_file():
        table = Table(title=escape(file) or "（不属于某个文件）", title_justify="left", title_style="bold")
        for col in ("级别", "工作表", "单元格", "问题", "改正方法", "代码"):  # the code (English, for the
            table.add_column(col, overflow="fold")                            # catalogue) last
        for i in items:
            style = "red" if i.severity is Severity.ERROR else "yellow"
            table.add_row(f"[{style}]{i.severity.label}[/]", escape(i.sheet), i.cell, escape(i.message),
                          escape(i.hint), f"[dim]{i.code}[/]")
        console.print(table)
    console.print(coverage_table(res.coverage))
    console.print("，".join(f"{COUNT_LABELS[k]} {v}" for k, v in res.counts.items()))
    if v.report_file:
        console.print(f"问题清单已保存：{escape(str(v.report_file))}")


COVERAGE_COLUMNS_MAX = 8  # more forms than this: one line per unit listing only what is not 齐全


def coverage_table(coverage) -> Table:
    rows = coverage.table()
    cov = Table(title="表格收齐情况", title_justify="left")
    colours = {"齐全": "green", "未填写": "yellow", "有错误": "red", "缺少": "red", "有冲突": "red"}
    if len(rows[0]) - 2 <= COVERAGE_COLUMNS_MAX:
        for k, h in enumerate(rows[0]):  # a unit's name whole on its line (the status columns take two lines first)
            cov.add_column(h, overflow="fold", no_wrap=k == 0)
        for r in rows[1:]:
            cov.add_row(escape(r[0]), *[f"[{colours.get(c, 'white')}]{c}[/]" for c in r[1:-1]], r[-1])
        return cov
    heads = rows[0][1:-1]  # many forms (e.g. a department sheet each): what is missing or wrong, by unit
    for h in ("单位", "齐全", "未齐全的表格", "错误数"):
        cov.add_column(h, overflow="fold")
    for r in rows[1:]:
        cells = [c for c in r[1:-1] if c != "—"]
        bad = [f"[red]{escape(h)}：{c}[/]" for h, c in zip(heads, r[1:-1]) if c not in ("齐全", "—")]
        cov.add_row(escape(r[0]), f"{cells.count('齐全')}/{len(cells)}", "；".join(bad) or "[green]无[/]", r[-1])
    return cov


# ------------------------------------------------------------------ history


def print_runs(archive: Path, runs: list[Run]) -> None:
    table = Table(title=f"历次计算（{escape(str(archive))}）", title_justify="left")
    for col in ("编号", "方案", "期间", "计算时间", "当前", "错误", "提示", "工具版本"):
        table.add_column(col)
    for r in runs:
        table.add_row(str(r.id), r.scheme_name, r.period, r.computed_at, "是" if r.current else "",
                      str(r.errors), str(r.warnings), r.tool_version)
    console.print(table)


def print_exported(target: Path) -> None:
    console.print(f"档案库已导出：{escape(str(target))}")


def print_unit_history(h: UnitHistory) -> None:
    """A unit's result in each archived run (a recomputation marked), then its tracked items still open."""
    table = Table(title=f"{escape(h.code)} 历次结果", title_justify="left")
    for col in ("期间", "方案", "得分", "排名", "等次", "当前", "计算编号", "等次依据"):
        table.add_column(col, overflow="fold")
    for t in h.entries:
        grade = t.grade or (f"待党委研究（{t.pending}）" if t.pending else "—")
        table.add_row(t.period, t.scheme_id, str(t.score) if t.score is not None else "—",
                      str(t.rank) if t.rank else "—", grade, "是" if t.current else "（已被重算）", str(t.run_id),
                      escape(t.source) or ("" if t.grade or not t.pending else "—"))
    console.print(table)
    if h.items is None:
        return
    still = h.items
    console.print(f"未完成的整改事项 {len(still)} 项：" if still else "整改事项：已全部完成")
    for i in still:
        again = f"  [yellow]往期已列入：{escape(i.repeated)}[/]" if i.repeated else ""
        console.print(f"  {i.period}  {escape(i.problem)}；整改措施：{escape(i.measure)}；责任人：{escape(i.owner)}；"
                      f"时限：{escape(i.deadline)}；{escape(i.status)}{again}")


# ------------------------------------------------------------------ schemes


def print_scheme_list(entries: list[tuple[str, Any]]) -> None:
    """The built-in schemes; one that does not load shows its first problems."""
    table = Table(title="内置考评方案", title_justify="left")
    for col in ("名称", "方案", "版本", "期间", "依据"):
        table.add_column(col, overflow="fold")
    for name, loaded in entries:
        if isinstance(loaded, Exception):  # SchemeError
            table.add_row(name, "[red]方案文件有错误[/]", "", "", "；".join(getattr(loaded, "problems", [])[:2]))
            continue
        s = loaded.scheme
        table.add_row(name, s.name, s.version, {"half": "半年", "quarter": "季度", "year": "年度"}[s.period_kind],
                      s.source)
    console.print(table)


def print_scheme(sch: Scheme) -> None:
    console.print(scheme_tree(sch))


def print_scheme_checked(sch: Scheme, file: Path) -> None:
    console.print(f"[green]方案文件正确：[/]{escape(sch.scheme.name)}（{escape(sch.scheme.id)}，"
                  f"版本 {escape(sch.scheme.version)}）")
    console.print(f"表格 {len(sch.forms)} 种，计分项 {len(sch.nodes)} 个，等次 {len(sch.gradings)} 项，"
                  f"一票否决事项 {len(sch.vetoes)} 项。查看结构：villagescore scheme show {escape(str(file))}")


def scheme_tree(sch: Scheme) -> Tree:
    """The whole scheme for a clerk: forms, one score tree per graded total, gradings, vetoes (all escaped)."""
    from rich.tree import Tree

    from villagescore.core.scheme import Combine, RegisterSum
    from villagescore.core.scoring import describe_leaf

    def num(x) -> str:
        return f"{x.normalize():f}"

    def weight_text(w) -> str:
        return f"{num(w * 100)}%"

    def types(ts) -> str:
        return "、".join(ts)

    def signed(x) -> str:
        return f"{'+' if x >= 0 else '-'}{num(abs(x))}"

    gradings = {g.id: g for g in sch.gradings}

    def grading_label(gid: str) -> str:
        return gradings[gid].label if gid in gradings else gid

    def grade_ref(gid: str, grade: str) -> str:
        return f"{escape(grading_label(gid))}“{escape(grade)}”"

    def add(branch: Tree, nid: str, weight: str = "", scope: tuple[str, ...] = ()) -> None:
        node = sch.nodes[nid]
        maxi = f"，满分 {num(node.max)}" if node.max is not None else ""
        only = f"，仅{types(node.applies_to)}" if node.applies_to and tuple(node.applies_to) != scope else ""
        head = f"{weight}[bold]{escape(node.label)}[/]（{nid}{maxi}{escape(only)}）"
        inner = tuple(node.applies_to) or scope
        if isinstance(node, Combine):
            how = "加权" if node.combine == "weighted" else "相加"
            sub = branch.add(f"{head} = 下列各项{how}")
            for part, w in node.weights.items():
                add(sub, part, f"{weight_text(w)} × " if node.combine == "weighted"
                    else "+ " if w == 1 else "- " if w == -1 else f"{'+' if w > 0 else '-'} {num(abs(w))} × ", inner)
            return
        leaf = branch.add(f"{head}：{escape(describe_leaf(sch, node))}")
        if node.bands:
            text = "；".join(f"不低于 {num(b.at_least)} 计 {num(b.value)}" for b in node.bands)
            if min(b.at_least for b in node.bands) > 0:
                text += "；均未达到的计 0"
            leaf.add(f"档次表：{escape(text)}")
        if isinstance(node, RegisterSum) and node.points_by and node.points_map:
            column = sch.form(node.form).column(node.points_by)
            leaf.add(f"按“{escape(column.label if column else node.points_by)}”计分：" +
                     escape("、".join(f"{k} {signed(v)}" for k, v in node.points_map.items())))

    def reach(nid: str, seen: set[str]) -> set[str]:
        seen.add(nid)
        node = sch.nodes[nid]
        if isinstance(node, Combine):
            for part in node.weights:
                if part not in seen:
                    reach(part, seen)
        return seen

    s = sch.scheme
    tree = Tree(f"[bold]{escape(s.name)}[/]（{escape(s.id)}，版本 {escape(s.version)}）")
    tree.add(f"依据：{escape(s.source or '—')}")
    members = s.member_types
    tree.add("考评周期：" + {"half": "每半年", "quarter": "每季度", "year": "每年"}[s.period_kind] +
             f"；考评对象：{escape(types(s.unit_types))}" + (f"；考评人员：{escape(types(members))}" if members else ""))
    tree.add(f"舍入：四舍五入，保留 {s.places} 位小数，" + ("最后一次舍入" if s.rounding == "end" else "每一级舍入"))
    if sch.annual.weights:
        tree.add("全年得分：" + "，".join(f"{k} {weight_text(v)}" for k, v in sch.annual.weights.items()))
    if sch.criteria and sch.criteria.aspects:
        crit = sch.criteria
        tree.add(f"考核细则：{escape(types(crit.aspects))}，每个方面 {crit.per_aspect} 项，每项默认 {num(crit.default_points)} 分")
    forms = tree.add("表格")
    for f in sch.forms:
        only = f.applies_to
        rated = [x for x in (f.self_label, *f.members) if x]
        entry = forms.add(f"{escape(f.title)}（{f.id}，{'每个单位一份' if f.scope == 'unit' else '全乡一份'}"
                         f"{'，仅' + escape(types(only)) + '填写' if only else ''}"
                         f"{'，测评' + escape(types(rated)) if rated else ''}）")
        if f.decide is not None:  # rows left to the committee: listed on the decision sheet (党委研究事项)
            d = f.decide
            entry.add(f"{escape(d.label)}：“{escape(getattr(f.column(d.column), 'label', d.column))}”为“{escape('/'.join(d.when))}”的列入党委研究事项，"
                     + "、".join(f"“{escape(k)}”按“{escape(v)}”计" for k, v in d.choices.items()) + "；未研究前不计")

    # One score tree per distinct total: the root, then each grading's `by` (and any displayed node) not drawn yet.
    drawn: set[str] = set()
    for nid in dict.fromkeys([sch.root, *(g.by for g in sch.gradings), *sch.display_nodes]):
        if nid in drawn:
            continue
        node = sch.nodes[nid]
        users = [g for g in sch.gradings if g.by == nid]
        scope = tuple(node.applies_to) or tuple(dict.fromkeys(t for g in users for t in g.applies_to)) or tuple(
            s.unit_types)
        used = "、".join(g.label for g in users)
        heading = f"计分（适用于：{types(scope)}" + (f"；用于：{used}" if used else "") + "）"
        add(tree.add(escape(heading)), nid, scope=scope)
        drawn |= reach(nid, set())
    if sch.display:
        tree.add("汇总表各列：" + escape("、".join(sch.nodes[d].label for d in sch.display)))

    grades = tree.add("等次")
    for g in sch.gradings:
        gb = grades.add(f"[bold]{escape(g.label)}[/]（{g.id}）：{escape('/'.join(g.grades))}，"
                        f"依据 {escape(sch.nodes[g.by].label)}（{g.by}）")
        if g.applies_to:
            gb.add(f"适用于：{escape(types(g.applies_to))}（名额按参评单位分别计算）")
        streak = g.streak
        if streak:
            gb.add(f"按以往各期评定：连续 {streak.periods} 期在{escape(grading_label(streak.grading))}中为"
                   f"“{escape('/'.join(streak.grades))}”的为“{escape(streak.grade)}”，其余为“{escape(g.default)}”")
        elif g.entered:
            form = sch.form(g.entered.form)
            column = form.column(g.entered.field)
            gb.add(f"等次不按规则计算：填写在《{escape(form.title)}》“{escape(column.label if column else g.entered.field)}”"
                   "列，未填写的暂不评定；排名仍按得分")
        else:
            for r in g.rules:
                line = r.describe()
                if r.only_if:
                    line += "，且须在" + "或".join(grade_ref(r.only_if.grading, x) for x in r.only_if.grades) + "中"
                gb.add(escape(line))
            gb.add(f"其余为“{escape(g.default)}”")
        if g.tie_breakers:
            gb.add("同分时依次比较：" + escape("、".join(sch.nodes[t].label for t in g.tie_breakers)) +
                   "；仍相同且跨越名额线的，标为“待党委研究”，其名额计入其后各项名额")
        for grade, c in g.consequences.items():
            funds = ""
            if c.funds is not None:
                funds = f"（工作经费{'增加' if c.funds >= 0 else '扣减'} {weight_text(abs(c.funds))}，按名册中的工作经费基数）"
            consequence = gb.add(f"“{escape(grade)}”：{escape(c.text)}{funds}")
            if c.period == "year":
                consequence.add("按全年考评结果执行；半年、季度汇总中只显示为预计，不执行")
    if sch.vetoes:
        where = [f"《{escape(f.title)}》“{escape(col.label)}”列" for f in sch.forms
                 if f.veto_field and (col := f.column(f.veto_field))]
        vb = tree.add("一票否决" + (f"（填写在{'、'.join(where)}）" if where else ""))
        for v in sch.vetoes:
            parts = []
            if v.forces:
                parts.append("定为：" + "、".join(grade_ref(k, x) for k, x in v.forces.items()))
            if v.cancels:
                parts.append("取消：" + "、".join(grade_ref(k, x) for k, xs in v.cancels.items() for x in xs))
            vb.add(f"{escape(v.label)} → " + ("；".join(parts) or "（未指定处理）"))
    if sch.lists:
        lb = tree.add("汇总表中的名单")
        for lst in sch.lists:
            what = []
            if lst.grading is not None:
                what.append("、".join(grade_ref(lst.grading, x) for x in lst.grades) + "的单位")
            if lst.form is not None:
                source = next((f for f in sch.forms if f.id == lst.form), None)
                cond = "；".join(f"{escape(col.label if source and (col := source.column(k)) else k)}为"
                                f"{escape('/'.join(v))}" for k, v in lst.where.items())
                what.append(f"《{escape(source.title if source else lst.form)}》中{cond + '的' if cond else '的全部'}条目")
            lb.add(f"{escape(lst.title)}：{'，及其'.join(what)}" + (f"（{escape(lst.text)}）" if lst.text else ""))
    return tree
