"""The command line: the only module that imports typer and rich.

Every command prints Chinese for the clerk, shows a progress bar for long work, and exits 0 when
clean, 1 when data errors were found, 2 for usage or configuration errors. Tracebacks appear only
with --debug.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from villagescore import __version__
from villagescore.cli import i18n
from villagescore.core.issues import Report, Severity, cell_order
from villagescore.core.numbers import fmt
from villagescore.core.periods import Period
from villagescore.io.cells import display_width

if TYPE_CHECKING:  # imported where used, so that --help starts quickly (the scheme model is pydantic)
    from rich.progress import Progress
    from rich.tree import Tree

    from villagescore.core.scheme import Scheme


i18n.install()  # typer's own words (usage, help, usage errors) in Chinese, before the application is used

# Piped output (a log file, CI) gets a fixed comfortable width instead of rich's 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 150)

app = typer.Typer(
    help="村党组织书记考评工具：生成空白表格、读取填报表格、计算得分与等次、输出汇总表。\n\n"
    "示例：villagescore demo",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
scheme_app = typer.Typer(help="查看和检查考评方案。\n\n示例：villagescore scheme show pingbian", no_args_is_help=True,
                         rich_markup_mode=None, pretty_exceptions_enable=False)
app.add_typer(scheme_app, name="scheme")

STATE = {"debug": False}


class Exit(Exception):
    def __init__(self, code: int):
        self.code = code


def guarded(func):
    """Turn every failure into a Chinese message and an exit code; a traceback only with --debug."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from villagescore.core.scheme import SchemeError
        from villagescore.io.archive import ArchiveError
        from villagescore.io.atomic import OutputError
        from villagescore.core.issues import FatalInput

        try:
            return func(*args, **kwargs)
        except Exit as exc:
            raise typer.Exit(exc.code) from None
        except typer.Exit:
            raise
        except SchemeError as exc:
            if STATE["debug"]:
                raise
            missing = any(p.startswith("没有名为") for p in exc.problems)
            err.print(f"[red]{'找不到考评方案' if missing else '考评方案有错误'}：{escape(str(exc.source))}[/]")
            for p in exc.problems:
                err.print(f"  · {escape(p)}")
            raise typer.Exit(2) from None
        except FatalInput as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]{escape(exc.message)}[/]")
            raise typer.Exit(2) from None
        except OutputError as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]无法写入 {escape(str(exc.path))}：{escape(str(exc.reason))}[/]")
            raise typer.Exit(2) from None
        except ArchiveError as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]无法使用结果档案库 {escape(str(exc.path))}：{escape(str(exc.reason))}[/]")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("已中断，未写入任何结果。")
            raise typer.Exit(130) from None
        except OSError as exc:  # a file or folder the commands above did not check: said in Chinese all the same
            if STATE["debug"]:
                raise
            from villagescore.io.atomic import os_reason

            where = f" {exc.filename}" if exc.filename else ""
            err.print(f"[red]无法读写{escape(str(where))}：{escape(os_reason(exc))}[/]")
            raise typer.Exit(2) from None
        except Exception as exc:  # noqa: BLE001 - last resort: never a traceback for a clerk
            if STATE["debug"]:
                raise
            err.print(f"[red]程序内部错误：{type(exc).__name__}: {escape(str(exc))}[/]\n请加 --debug 重新运行，并把输出发给维护人员。")
            raise typer.Exit(3) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"villagescore {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="出错时显示完整的程序调用栈（供开发人员排查）。"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号。"),
) -> None:
    STATE["debug"] = debug


# ------------------------------------------------------------------ helpers


def _load_scheme(name: str) -> Scheme:
    from villagescore.io import schemes

    return schemes.load(name)


def _progress() -> Progress:
    from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        _gbk_bar_column(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _gbk_bar_column():
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


REPORT_ROWS = 50  # issues printed on screen (errors first); drawing thousands of rows takes seconds


def _issues_table(report: Report, limit: int = REPORT_ROWS) -> Table:
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


def _more_issues(shown: int, total: int, summary: bool = True) -> str:
    """The line under a cut issue table: how many are not shown and where the whole list is."""
    where = "完整清单见汇总表的“问题清单”工作表；也可" if summary else "完整清单可"
    return (f"另有 {total - shown} 条问题未显示（共 {total} 条，以上先列错误）。{where}用 "
            "villagescore validate 文件夹 --report 问题清单.xlsx 另存为工作簿。")


def _print_report(report: Report, limit: int = REPORT_ROWS, summary: bool = False) -> None:
    """The issues (at most ``limit`` rows, errors first, in sheet order) and their counts; ``summary``: a summary
    workbook with the whole list was written."""
    if report.issues:
        console.print(_issues_table(report, limit))
        if len(report.issues) > limit:
            console.print(_more_issues(limit, len(report.issues), summary))
    console.print(f"错误 {len(report.errors)} 条，提示 {len(report.warnings)} 条。")


def _check_folders(folders: list[Path]) -> None:
    for f in folders:
        if not f.is_dir():
            err.print(f"[red]找不到文件夹：{escape(str(f))}[/]")
            raise Exit(2)


def _check_new(path: Path, force: bool) -> None:
    """Refuse to overwrite an existing file unless --force."""
    if path.exists() and not force:
        err.print(f"[red]{escape(str(path))} 已存在。如需覆盖，请加 --force。[/]")
        raise Exit(2)


def _check_output(output: Path, inputs: list[Path], force: bool) -> None:
    from villagescore.stages.collect import is_inside

    if is_inside(output, inputs):
        err.print(f"[red]输出文件 {escape(str(output))} 位于输入文件夹内，请换一个位置（例如 -o 上一级文件夹/汇总.xlsx）。[/]")
        raise Exit(2)
    _check_new(output, force)


def _listing(folders: list[Path]) -> tuple[list[Path], list[Path]]:
    """The folders' workbooks and other files, listed once: it sizes the progress bar and is what is read."""
    from villagescore.io.reader import iter_workbook_files

    others: list[Path] = []
    return iter_workbook_files(folders, others), others


def _write(path: Path, data: bytes) -> None:
    from villagescore.io.atomic import write_bytes_atomic

    write_bytes_atomic(path, data)


# ------------------------------------------------------------------ template


SETUP_KINDS = {"roster": "名册", "criteria": "考核细则", "ledger": "民生诉求台账"}


@app.command()
@guarded
def template(
    kind: Optional[str] = typer.Argument(
        None, metavar="[种类]", help="只生成一种基础表：roster（名册）、criteria（考核细则）或 ledger（民生诉求台账）。不写则生成本期全部表格。"
    ),
    scheme: str = typer.Option("pingbian", "--scheme", "-s", metavar="方案", help="考评方案：内置方案名或 .toml 文件路径。"),
    roster: Optional[Path] = typer.Option(None, "--roster", metavar="文件", help="已填好的名册（.xlsx）。"),
    criteria: Optional[Path] = typer.Option(None, "--criteria", metavar="文件", help="已填好的考核细则（.xlsx）。"),
    ledger: Optional[Path] = typer.Option(None, "--ledger", metavar="文件", help="已填好的民生诉求台账（.xlsx）。"),
    period: Optional[str] = typer.Option(None, "--period", "-p", metavar="期间", help="考评期间，如 2025H1、2025H2。"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="路径", help="输出文件（基础表）或文件夹（本期表格）。"),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="数字", help="回访抽取的随机种子；不写则随机生成并记录在表中。"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的文件或文件夹中的表格。"),
    archive: Optional[Path] = typer.Option(None, "--archive", metavar="文件",
                                           help="结果档案库：把往期未完成的整改事项预先填入本期的问题整改清单。"),
    evaluators: Optional[int] = typer.Option(None, "--evaluators", metavar="人数",
                                             help="每个单位发放的测评票张数（测评人数）；名册“测评人数”列已填写的单位以名册为准，"
                                                  "都不写则按方案规定。"),
    ballots: str = typer.Option("excel", "--ballots", metavar="种类",
                                help="测评票的打印版：excel（Excel 打印版，手工录入）、scan（机读测评票 PDF，"
                                     "收回后扫描，用 villagescore scan 读入）或 both（两种都生成）。"),
) -> None:
    """生成空白表格。

    示例：

    \b
      villagescore template roster -o 名册.xlsx
      villagescore template criteria --roster 名册.xlsx -o 考核细则.xlsx
      villagescore template --roster 名册.xlsx --criteria 考核细则.xlsx --ledger 民生诉求台账.xlsx --period 2025H1 -o 2025H1表格
      villagescore template --scheme dazehu --roster 名册.xlsx --period 2026 --archive 汇总/villagescore.db
      villagescore template --roster 名册.xlsx --criteria 考核细则.xlsx --ledger 民生诉求台账.xlsx --period 2025H2 --evaluators 21
      villagescore template --roster 名册.xlsx --criteria 考核细则.xlsx --ledger 民生诉求台账.xlsx --period 2025H1 --ballots scan -o 2025H1表格
    """
    sch = _load_scheme(scheme)
    from villagescore.core.layout import EVALUATORS_MAX

    if evaluators is not None and not 1 <= evaluators <= EVALUATORS_MAX:
        err.print(f"[red]--evaluators 应为 1 至 {EVALUATORS_MAX} 之间的整数（每个单位发放的测评票张数）。[/]")
        raise Exit(2)
    if ballots not in BALLOT_CHOICES:
        err.print(f"[red]--ballots 只能是 {'、'.join(BALLOT_CHOICES)}，写的是“{escape(ballots)}”。[/]")
        raise Exit(2)
    if kind is not None:
        if kind not in SETUP_KINDS:
            err.print(f"[red]不认识的表格种类“{escape(kind)}”，可选：roster、criteria、ledger。[/]")
            raise Exit(2)
        from villagescore.io.forms import build_setup_workbook

        units = None
        if kind == "criteria" and roster is not None:
            from villagescore.stages.setup import load_setup

            setup, rep = load_setup(sch, roster, None, None)
            if rep.errors:
                _print_report(rep)
                raise Exit(1)
            units = setup.units
        target = out or Path(f"{SETUP_KINDS[kind]}.xlsx")
        _check_new(target, force)
        _write(target, build_setup_workbook(kind, sch, units))
        console.print(f"已生成{SETUP_KINDS[kind]}空白表：{escape(str(target))}")
        return
    needs_criteria = any(f.kind == "score_ballot" and f.items == "criteria" for f in sch.forms)
    needs_ledger = any(f.kind == "callback" for f in sch.forms)
    wanted = (("--roster", roster, True), ("--criteria", criteria, needs_criteria), ("--ledger", ledger, needs_ledger),
              ("--period", period, True))
    missing = [n for n, v, needed in wanted if needed and v is None]
    if missing:
        err.print(f"[red]生成本期表格需要：{'、'.join(missing)}。[/]\n示例：villagescore template --roster 名册.xlsx "
                  "--criteria 考核细则.xlsx --ledger 民生诉求台账.xlsx --period 2025H1 -o 2025H1表格")
        raise Exit(2)
    try:
        per = Period.parse(period or "")
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise Exit(2)
    target = out or Path(f"{per}表格")
    if target.exists() and any(target.iterdir()) and not force:
        err.print(f"[red]文件夹 {escape(str(target))} 已有文件。如需覆盖其中的表格，请加 --force。[/]")
        raise Exit(2)
    from villagescore.io.outputs import check_folder

    check_folder(target)  # the folder can take the forms: said before the work
    from villagescore.pipeline import make_forms

    carried = None
    if archive is not None:
        if not archive.exists():
            err.print(f"[red]找不到结果档案库：{escape(str(archive))}[/]")
            raise Exit(2)
        from villagescore.history import open_items

        with _open_archive(archive) as arc:
            carried = open_items(arc.items(sch.scheme.id, before=str(per)))
    forms_scheme = sch if ballots != "scan" else _without_printed_ballots(sch)
    with _progress() as bar:
        task = bar.add_task("生成表格", total=None, current="")
        run = make_forms(forms_scheme, roster, criteria, ledger, str(per), target, seed,  # type: ignore[arg-type]
                         lambda name: bar.update(task, advance=1, current=name), carried=carried,
                         evaluators=evaluators)
        if not run.report.errors and ballots != "excel":
            from villagescore.stages.setup import load_setup
            from villagescore.scan import print_ballots

            setup, _ = load_setup(sch, roster, criteria, None)  # type: ignore[arg-type]
            run.paths += print_ballots(sch, setup, str(per), target, lambda name: bar.update(task, advance=1,
                                                                                            current=name),
                                       evaluators=evaluators)
    if run.report.errors:
        _print_report(run.report)
        err.print("[red]基础表有错误，未生成表格。请改正后重试。[/]")
        raise Exit(1)
    if run.report.issues:
        _print_report(run.report)
    console.print(f"已为 {per.label} 生成 {len(run.paths)} 个文件，保存在：{escape(str(target))}")
    if carried is not None:
        console.print(f"已把往期未完成的整改事项 {len(carried)} 项预先填入问题整改清单，请各单位更新整改情况。")
    if run.draws:
        console.print(f"回访抽取随机种子：{run.seed}（已记录在各村回访核查表中）")
    if ballots != "excel":
        console.print("机读测评票（PDF）已放在各单位文件夹中：请用 A4 纸按实际大小（100%）打印，不要缩放；收回后扫描或拍照，"
                      "再用 villagescore scan 读入。")


BALLOT_CHOICES = ("excel", "scan", "both")


def _without_printed_ballots(sch):
    """The scheme with its ballots' Excel print versions turned off (readable PDF ballots instead)."""
    forms = [f.model_copy(update={"printable": False}) if f.kind in ("score_ballot", "vote_ballot") else f
             for f in sch.forms]
    return sch.model_copy(update={"forms": forms})


# ------------------------------------------------------------------ scan


@app.command()
@guarded
def scan(
    scans: Path = typer.Argument(..., metavar="扫描件文件夹", help="存放扫描件的文件夹：扫描仪导出的 PDF、手机拍的 JPEG/PNG、"
                                 "TIFF，顺序、方向不限。"),
    out: Path = typer.Option(..., "--out", "-o", metavar="文件夹", help="写入录入表的文件夹，通常是 template 生成的本期表格"
                             "文件夹（其中空白的测评票录入表会被替换）。"),
    scheme: str = typer.Option("pingbian", "--scheme", "-s", metavar="方案", help="考评方案：内置方案名或 .toml 文件路径。"),
    roster: Optional[Path] = typer.Option(None, "--roster", metavar="文件",
                                          help="名册；不写则用输出文件夹中的“00_基础信息/名册.xlsx”。"),
    criteria: Optional[Path] = typer.Option(None, "--criteria", metavar="文件",
                                            help="考核细则；不写则用输出文件夹中的“00_基础信息/考核细则.xlsx”。"),
    period: Optional[str] = typer.Option(None, "--period", "-p", metavar="期间", help="只读这一期的测评票，如 2025H1；"
                                         "不写则按票上的二维码判断。"),
    force: bool = typer.Option(False, "--force", help="覆盖已有录入或读入内容的录入表。"),
) -> None:
    """读取扫描的机读测评票，填入各单位的测评票录入表。

    没有把握的选项（空白、多选、标记太淡、有涂改）、无法读取的页面、重复的票号，
    不写入录入表，而是列在该录入表的“扫描核对”工作表中（附截图），请看图核对纸质票后填写“核对结果”。
    扫描件本身不保存在输出中。全部读出时退出码为 0，有需要人工核对或未读入的页面时为 1。

    示例：

    \b
      villagescore scan 扫描件 -o 2025H1表格
      villagescore scan 扫描件 -o 测评票录入表 --roster 名册.xlsx --criteria 考核细则.xlsx --period 2025H1
    """
    sch = _load_scheme(scheme)
    _check_folders([scans])
    from villagescore.stages.setup import SETUP_DIR, SETUP_NAMES, load_setup
    from villagescore.scan import scan as run_scan

    roster = roster or out / SETUP_DIR / SETUP_NAMES["roster"]
    criteria = criteria or (out / SETUP_DIR / SETUP_NAMES["criteria"] if (out / SETUP_DIR).is_dir() else None)
    if not roster.is_file():
        err.print(f"[red]找不到名册：{escape(str(roster))}。请用 --roster 指定（以及 --criteria 考核细则）。[/]")
        raise Exit(2)
    if criteria is not None and not criteria.is_file():
        criteria = None
    setup, rep = load_setup(sch, roster, criteria, None)
    if rep.errors:
        _print_report(rep)
        raise Exit(1)
    with _progress() as bar:
        task = bar.add_task("读取扫描件", total=None, current="")
        run = run_scan(sch, setup, scans, out, period=period, force=force,
                       sized=lambda n: bar.update(task, total=n),
                       progress=lambda name, n: bar.update(task, advance=n, current=name))
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
        console.print(_issues_table(Report(unread)))
    console.print(f"扫描件 {len(run.files)} 个、{run.pages} 页：测评票 {run.ballots} 张，机器读出 {run.machine_read} 张，"
                  f"待人工核对 {run.for_review} 张；未读入 {len(run.loose)} 页" +
                  (f"，空白页 {run.blank_pages} 页" if run.blank_pages else "") + "。")
    if run.for_review:
        console.print("[yellow]请打开上表中有待核对的录入表，在“扫描核对”工作表中看图并核对纸质票后填写“核对结果”；"
                      "未核对的，compute 会按错误处理。[/]")
    console.print(f"读票情况已保存：{escape(str(run.overview))}")
    if run.for_review or run.loose or run.report.errors:
        raise Exit(1)


# ------------------------------------------------------------------ compute


RANKING_ROWS_MAX = 60  # more units than this (a county): the screen shows the top 40 and the bottom 20


def _ranking_categories(result) -> list[tuple[str, list]]:
    """Units graded together, by their first grading (系统 B: villages, secretaries, cadres, work teams; 系统 D:
    villages and offices), in result order: (the gradings' id, units)."""
    order = [gid for gid, _ in result.gradings]
    groups: dict[str, list] = {}
    for u in result.units:
        groups.setdefault(next((gid for gid in order if gid in u.grades), ""), []).append(u)
    return list(groups.items())


def _ranking_tables(result) -> list[Table]:
    """One table per category of units (``_ranking_categories``), titled, each with its own score columns, rank
    and gradings, and a 说明 column saying why a grade is what it is (a veto, a tie for the committee)."""
    from villagescore.core.explain import unit_root

    cats = _ranking_categories(result)
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
    rows = []
    shown = units
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


def _print_lists(result) -> None:
    for lst in result.lists:
        console.print(f"[bold]{escape(lst.title)}[/]（{len(lst.entries)} 个）" + (f"：{escape(lst.text)}" if lst.text else ""))
        for e in lst.entries:
            head = "  " + "  ".join(escape(x) for x in (e.unit, e.name, e.grade) if x)
            console.print(head)
            for row in e.rows:
                console.print("      " + "；".join(f"{escape(c)}：{escape(v)}" for c, v in zip(lst.columns, row) if v))


def _print_result(result) -> None:
    """A computed result on screen: the ranking, the scheme's lists, the notes and the issues (a summary was written)."""
    for table in _ranking_tables(result):
        console.print(table)
    _print_lists(result)
    for note in result.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    _print_report(result.report, summary=True)


@app.command()
@guarded
def compute(
    folders: Optional[list[Path]] = typer.Argument(
        None, metavar="文件夹...", help="存放填报表格的文件夹（可以写多个）。不写文件夹而用 --period 2025 时，"
        "从结果档案库合并上下半年的计算结果。"),
    scheme: str = typer.Option("pingbian", "--scheme", "-s", metavar="方案", help="考评方案：内置方案名或 .toml 文件路径。"),
    period: Optional[str] = typer.Option(None, "--period", "-p", metavar="期间",
                                         help="要计算的期间，如 2025H1；写 2025 则合并上下半年。不写则按表格自动判断。"),
    roster: Optional[Path] = typer.Option(None, "--roster", metavar="文件", help="名册；不写则使用文件夹中的“00_基础信息/名册.xlsx”。"),
    criteria: Optional[Path] = typer.Option(None, "--criteria", metavar="文件", help="考核细则；不写则使用文件夹中的。"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="文件", help="汇总表保存位置（.xlsx）。"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的汇总表。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出各单位结果和问题清单（供其他系统读取）。"),
    archive: Optional[Path] = typer.Option(None, "--archive", metavar="文件",
                                           help="结果档案库；默认为汇总表所在文件夹的 villagescore.db。"),
    no_archive: bool = typer.Option(False, "--no-archive", help="不记入结果档案库。"),
    public: Optional[Path] = typer.Option(None, "--public", metavar="文件",
                                          help="另存一份公示版（只有排名、单位、书记、得分和等次）。"),
    csv_dir: Optional[Path] = typer.Option(None, "--csv", metavar="文件夹",
                                           help="另存 units.csv 和 issues.csv（供其他系统读取，列名见 docs/exports.md）。"),
    decisions: Optional[Path] = typer.Option(None, "--decisions", metavar="文件",
                                             help="党委研究后填好的党委研究事项表（不写则读取表格文件夹中的）。"),
) -> None:
    """读取填报表格，计算得分、排名和等次，输出汇总表，并记入结果档案库。

    有待党委研究的事项（同分跨越名额线、申请撤销的减分等）时，另在汇总表旁生成“党委研究事项_期间.xlsx”；
    党委研究后填好放入本期表格文件夹（或用 --decisions 指定），重新计算即按决定出结果。

    示例：

    \b
      villagescore compute 2025H1表格 -o 2025H1汇总.xlsx
      villagescore compute 2025H1表格 2025H2表格 --period 2025 -o 2025年度汇总.xlsx
      villagescore compute --period 2025 -o 2025年度汇总.xlsx      （从结果档案库合并）
      villagescore compute 2025H1表格 -o 2025H1汇总.xlsx --force --decisions 党委研究事项_2025H1.xlsx
    """
    sch = _load_scheme(scheme)
    folders = folders or []
    _check_folders(folders)
    from villagescore.io.exports import CSV_NAMES
    from villagescore.io.outputs import Outputs, check_folder

    csv_paths = [csv_dir / name for name in CSV_NAMES] if csv_dir else []
    for path in (output, public, *csv_paths):
        if path:
            _check_output(path, folders, force)
    # beside the summary; a summary named after the period (no -o) is written in the current folder
    arc_default = archive or (output.parent if output else Path(".")) / ARCHIVE_NAME
    arc_path = None if no_archive else arc_default
    outputs = Outputs()  # every output path is checked before the work: a bad one costs nothing
    outputs.check([output, public, *csv_paths, arc_path])
    if output is None:  # named after the period, in the current folder
        check_folder(Path("."))
    if arc_path is not None and arc_path.exists():
        _open_archive(arc_path).close()  # a damaged or newer archive is said now, not after the work
    if decisions is not None and not decisions.is_file():
        err.print(f"[red]找不到党委研究事项表：{escape(str(decisions))}[/]")
        raise Exit(2)
    if folders:
        result = _compute_folders(sch, folders, period, roster, criteria, {p for p in (output, public) if p},
                                  arc_path, decisions)
    else:
        result = _compute_from_archive(sch, period, arc_default, decisions)
    if output is None:
        output = Path(f"{sch.scheme.name}_{result.period}_汇总.xlsx")
        _check_output(output, folders, force)
        outputs.check([output])
    sheet = _decision_target(result, output, decisions, folders, force)
    if sheet is not None:
        outputs.check([sheet])
    if arc_path is not None and arc_path.exists():  # nothing to read from an archive not made yet
        from villagescore.history import attach_previous, note_superseded, track_items

        with _open_archive(arc_path) as arc:
            attach_previous(result, arc)
            track_items(result, arc)
            note_superseded(result, arc, any(g.streak for g in sch.gradings))
    from villagescore.io.summary import build_summary

    extra = []
    with outputs:  # what is staged goes if anything fails before the commit
        outputs.stage(output, build_summary(result))
        if sheet is not None:
            from villagescore.io.decision_sheet import build_decision_sheet

            outputs.stage(sheet, build_decision_sheet(result))
        if public:
            from villagescore.io.summary import build_public

            outputs.stage(public, build_public(result))
            extra.append(f"公示版已保存：{escape(str(public))}")
        if csv_dir:
            from villagescore.io.exports import csv_files

            for name, data in csv_files(result).items():
                outputs.stage(csv_dir / name, data)
            extra.append("CSV 已保存：" + "、".join(escape(str(p)) for p in csv_paths))
        recorded = _commit(outputs, result, scheme, arc_path)
    if as_json:
        from villagescore.io.exports import to_json

        console.print_json(json.dumps(to_json(result), ensure_ascii=False))
    else:
        _print_result(result)
        _print_decisions(result, sheet)
        console.print(f"汇总表已保存：{escape(str(output))}")
        for line in extra:
            console.print(line)
        if recorded:
            console.print(f"已记入结果档案库：{escape(str(recorded[0]))}（第 {recorded[1]} 次计算）")
    if result.report.errors:
        raise Exit(1)


def _decision_target(result, output: Path, decisions: Path | None, folders: list[Path], force: bool) -> Path | None:
    """Where the decision sheet of a run with items still open goes (beside the summary), or None: nothing open,
    or the file there is the decision sheet this run read (an input is never overwritten; said on screen)."""
    if not any(i.open for i in result.decisions):
        return None
    from villagescore.core.decisions import file_name

    target = output.parent / file_name(result.period)
    if decisions is not None and target.exists() and target.resolve() == decisions.resolve():
        return None
    _check_output(target, folders, force)
    return target


def _print_decisions(result, sheet: Path | None) -> None:
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


def _commit(outputs, result, scheme_name: str, arc_path: Path | None) -> tuple[Path, int] | None:
    """The run recorded in the archive, then every staged output put in place (``io.outputs``): on any failure
    nothing is changed, and the message says so."""
    from villagescore.io.archive import ArchiveError

    def withdraw(recorded: tuple[Path, int]) -> None:
        with _open_archive(recorded[0]) as arc:
            arc.withdraw(recorded[1])

    try:
        return outputs.commit((lambda: _record(result, scheme_name, arc_path)) if arc_path is not None else None,
                              withdraw)
    except ArchiveError as exc:
        err.print(f"[red]无法记入结果档案库 {escape(str(exc.path))}：{escape(exc.reason)}。"
                  "汇总表等输出文件均未改动，本次结果未保存。[/]")
        raise Exit(2) from None


ARCHIVE_NAME = "villagescore.db"


def _compute_folders(sch, folders: list[Path], period, roster, criteria, outputs: set[Path],
                     arc_path: Path | None = None, decisions: Path | None = None):
    from villagescore.pipeline import compute as run_compute

    def earlier(p: str):
        """Archived grades of an earlier period, for streak rules (e.g. two quarters 优秀 → 提级管理)."""
        if arc_path is None or not arc_path.exists():
            return None
        from villagescore.history import earlier_grades

        with _open_archive(arc_path) as arc:
            return earlier_grades(arc, sch.scheme.id, p)

    listed = _listing(folders)
    with _progress() as bar:
        task = bar.add_task("读取表格", total=len(listed[0]), current="")
        result = run_compute(sch, folders, period=period, roster=roster, criteria=criteria,
                             progress=lambda name: bar.update(task, advance=1, current=name),
                             exclude=outputs or None, earlier=earlier if any(g.streak for g in sch.gradings) else None,
                             listed=listed, decisions=decisions)
    if period is None and len(result.periods) > 1:
        console.print(f"检测到 {'、'.join(result.periods)} 的表格，按 {Period.parse(result.period).label} 合并计算"
                      f"（只算一期请加 --period {result.periods[0]}）。")
    return result


def _compute_from_archive(sch, period, path: Path, decisions: Path | None = None):
    from villagescore.history import HistoryMissing, annual_from_archive

    if period is None:
        err.print("[red]请给出表格文件夹；或用 --period 2025 从结果档案库合并全年结果。[/]")
        raise Exit(2)
    if not path.exists():
        err.print(f"[red]找不到结果档案库：{escape(str(path))}（请用 --archive 指定，或给出表格文件夹）[/]")
        raise Exit(2)
    with _open_archive(path) as arc:
        try:
            return annual_from_archive(sch, arc, period, decisions)
        except HistoryMissing as exc:
            err.print(f"[red]{escape(exc.message)}[/]")
            raise Exit(2) from None


def _open_archive(path: Path):
    from villagescore.io.archive import Archive, ArchiveError

    try:
        return Archive(path)
    except ArchiveError as exc:
        err.print(f"[red]无法使用结果档案库 {escape(str(exc.path))}：{escape(str(exc.reason))}[/]")
        raise Exit(2) from None


def _record(result, scheme_name: str, path: Path) -> tuple[Path, int]:
    import hashlib

    from villagescore.io import schemes
    from villagescore.io.archive import Archive

    digest = hashlib.sha256(schemes.resolve(scheme_name).read_bytes()).hexdigest()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # checked before the work (Outputs.check)
    except OSError as exc:
        from villagescore.io.archive import ArchiveError
        from villagescore.io.atomic import os_reason

        raise ArchiveError(path, os_reason(exc)) from None
    with Archive(path) as arc:  # its errors (ArchiveError) are said by the caller
        run_id = arc.record(result, digest)
    return path, run_id


@app.command()
@guarded
def validate(
    folders: list[Path] = typer.Argument(..., metavar="文件夹...", help="存放填报表格的文件夹（可以写多个）。"),
    scheme: str = typer.Option("pingbian", "--scheme", "-s", metavar="方案", help="考评方案：内置方案名或 .toml 文件路径。"),
    period: Optional[str] = typer.Option(None, "--period", "-p", metavar="期间", help="只检查这一期，如 2025H1。"),
    roster: Optional[Path] = typer.Option(None, "--roster", metavar="文件", help="名册（不写则用文件夹中的）。"),
    criteria: Optional[Path] = typer.Option(None, "--criteria", metavar="文件", help="考核细则（不写则用文件夹中的）。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出检查结果（供其他系统读取）。"),
    report_file: Optional[Path] = typer.Option(None, "--report", metavar="文件",
                                               help="把问题清单另存为工作簿，发回各村改正，如 问题清单.xlsx。"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的问题清单文件。"),
) -> None:
    """只检查表格，不计算：列出每个问题的文件、工作表、单元格和改正方法，以及各单位表格是否收齐。

    示例：

    \b
      villagescore validate 2025H1表格
      villagescore validate 2025H1表格 --report 问题清单.xlsx
    """
    sch = _load_scheme(scheme)
    _check_folders(folders)
    from villagescore.io.outputs import Outputs

    outputs = Outputs()
    if report_file:
        _check_output(report_file, folders, force)
        outputs.check([report_file])
    from villagescore.pipeline import validate as run_validate
    from villagescore.stages.validate import COUNT_LABELS

    listed = _listing(folders)
    with _progress() as bar:
        task = bar.add_task("检查表格", total=len(listed[0]), current="")
        res = run_validate(sch, folders, period=period, roster=roster, criteria=criteria,
                           progress=lambda name: bar.update(task, advance=1, current=name),
                           exclude={report_file} if report_file else None, listed=listed)
    if report_file:
        from villagescore.io.summary import build_issue_list

        with outputs:
            outputs.stage(report_file, build_issue_list(res.report))
            outputs.commit()
    if as_json:
        console.print_json(json.dumps(res.as_dict(), ensure_ascii=False))
        raise Exit(res.exit_code)
    for file, items in res.issues_by_file():
        table = Table(title=escape(file) or "（不属于某个文件）", title_justify="left", title_style="bold")
        for col in ("级别", "工作表", "单元格", "问题", "改正方法", "代码"):  # the code (English, for the
            table.add_column(col, overflow="fold")                            # catalogue) last
        for i in items:
            style = "red" if i.severity is Severity.ERROR else "yellow"
            table.add_row(f"[{style}]{i.severity.label}[/]", escape(i.sheet), i.cell, escape(i.message),
                          escape(i.hint), f"[dim]{i.code}[/]")
        console.print(table)
    console.print(_coverage_table(res.coverage))
    console.print("，".join(f"{COUNT_LABELS[k]} {v}" for k, v in res.counts.items()))
    if report_file:
        console.print(f"问题清单已保存：{escape(str(report_file))}")
    raise Exit(res.exit_code)


COVERAGE_COLUMNS_MAX = 8  # more forms than this: one line per unit listing only what is not 齐全


def _coverage_table(coverage) -> Table:
    rows = coverage.table()
    cov = Table(title="表格收齐情况", title_justify="left")
    colours = {"齐全": "green", "未填写": "yellow", "有错误": "red", "缺少": "red", "有冲突": "red"}
    if len(rows[0]) - 2 <= COVERAGE_COLUMNS_MAX:
        for k, h in enumerate(rows[0]):  # a unit's name whole on its line (the status columns take two lines first)
            cov.add_column(h, overflow="fold", **({"no_wrap": True} if k == 0 else {}))
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


@app.command()
@guarded
def explain(
    unit: str = typer.Argument(..., metavar="单位代码", help="要说明的单位，如 QS01。"),
    folders: list[Path] = typer.Argument(..., metavar="文件夹...", help="存放填报表格的文件夹。"),
    scheme: str = typer.Option("pingbian", "--scheme", "-s", metavar="方案", help="考评方案：内置方案名或 .toml 文件路径。"),
    period: Optional[str] = typer.Option(None, "--period", "-p", metavar="期间", help="期间，如 2025H1 或 2025。"),
    roster: Optional[Path] = typer.Option(None, "--roster", metavar="文件", help="名册（不写则用文件夹中的）。"),
    criteria: Optional[Path] = typer.Option(None, "--criteria", metavar="文件", help="考核细则（不写则用文件夹中的）。"),
    decisions: Optional[Path] = typer.Option(None, "--decisions", metavar="文件",
                                             help="党委研究事项表（不写则读取表格文件夹中的）。"),
) -> None:
    """逐项说明一个单位的得分来源：每项的依据数字、权重、舍入、配额线和等次。

    示例：

    \b
      villagescore explain QS01 2025H1表格
      villagescore explain QS01 2025H1表格 2025H2表格 --period 2025
    """
    sch = _load_scheme(scheme)
    _check_folders(folders)
    from villagescore.core.explain import explain_unit

    result = _compute_folders(sch, folders, period, roster, criteria, set(), decisions=decisions)
    unit = _unit_code(unit, [u.code for u in result.units])
    try:
        lines = explain_unit(result, unit)
    except KeyError:
        codes = "、".join(u.code for u in result.units)
        err.print(f"[red]名册中没有单位代码“{escape(unit)}”（有：{escape(codes)}）[/]")
        raise Exit(2) from None
    for line in lines:
        console.print(line, markup=False)
    if result.report.errors:
        raise Exit(1)


def _unit_code(typed: str, codes: list[str]) -> str:
    """A unit code as the roster writes it: typed in another case or in full-width letters (mj05, ＭＪ０５) it is
    still found; an unknown code comes back as typed."""
    key = _code_key(typed)
    return next((c for c in codes if c == typed), None) or next((c for c in codes if c.upper() == key), typed)


def _code_key(typed: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", typed).strip().upper()


# ------------------------------------------------------------------ history


@app.command()
@guarded
def history(
    what: str = typer.Argument(..., metavar="单位代码|runs|export", help="单位代码：该单位历次结果；runs：历次计算；"
                               "export：把整个档案库导出为工作簿。"),
    target: Optional[Path] = typer.Argument(None, metavar="[文件]", help="export 时导出的工作簿（.xlsx）。"),
    archive: Path = typer.Option(Path(ARCHIVE_NAME), "--archive", metavar="文件", help="结果档案库。"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的导出文件。"),
) -> None:
    """查看结果档案库：某单位的历次得分、排名和等次，历次计算记录，或导出整个档案库。

    示例：

    \b
      villagescore history QS01
      villagescore history runs --archive 汇总/villagescore.db
      villagescore history export 档案.xlsx
    """
    if not archive.exists():
        err.print(f"[red]找不到结果档案库：{escape(str(archive))}（compute 会在汇总表所在文件夹建立 {ARCHIVE_NAME}）[/]")
        raise Exit(2)
    with _open_archive(archive) as arc:
        if what == "runs":
            table = Table(title=f"历次计算（{escape(str(archive))}）", title_justify="left")
            for col in ("编号", "方案", "期间", "计算时间", "当前", "错误", "提示", "工具版本"):
                table.add_column(col)
            for r in sorted(arc.runs(), key=lambda r: (r.period, r.id)):  # periods in order, each period's runs too
                table.add_row(str(r.id), r.scheme_name, r.period, r.computed_at, "是" if r.current else "",
                              str(r.errors), str(r.warnings), r.tool_version)
            console.print(table)
            return
        if what == "export":
            if target is None:
                err.print("[red]请写出导出的文件名，例如：villagescore history export 档案.xlsx[/]")
                raise Exit(2)
            _check_new(target, force)
            from villagescore.io.archive import export_workbook

            _write(target, export_workbook(arc))
            console.print(f"档案库已导出：{escape(str(target))}")
            return
        entries = arc.timeline(what)
        if not entries and arc.timeline(_code_key(what)):  # typed mj05 for MJ05
            what = _code_key(what)
            entries = arc.timeline(what)
        entries = sorted(entries, key=lambda t: (t.period, t.run_id))  # periods in order, a recomputation after
        if not entries:
            err.print(f"[red]档案库中没有单位 {escape(what)} 的记录。[/]")
            raise Exit(1)
        table = Table(title=f"{escape(what)} 历次结果", title_justify="left")
        for col in ("期间", "方案", "得分", "排名", "等次", "当前", "计算编号", "等次依据"):
            table.add_column(col, overflow="fold")
        for t in entries:
            grade = t.grade or (f"待党委研究（{t.pending}）" if t.pending else "—")
            table.add_row(t.period, t.scheme_id, str(t.score) if t.score is not None else "—",
                          str(t.rank) if t.rank else "—", grade, "是" if t.current else "（已被重算）", str(t.run_id),
                          escape(t.source) or ("" if t.grade or not t.pending else "—"))
        console.print(table)
        from villagescore.history import open_items

        items = arc.items(None, unit=what)
        if items:
            still = open_items(items)
            console.print(f"未完成的整改事项 {len(still)} 项：" if still else "整改事项：已全部完成")
            for i in still:
                again = f"  [yellow]往期已列入：{escape(i.repeated)}[/]" if i.repeated else ""
                console.print(f"  {i.period}  {escape(i.problem)}；整改措施：{escape(i.measure)}；责任人：{escape(i.owner)}；"
                              f"时限：{escape(i.deadline)}；{escape(i.status)}{again}")


# ------------------------------------------------------------------ scheme


@scheme_app.command("list")
@guarded
def scheme_list() -> None:
    """列出内置考评方案。

    示例：villagescore scheme list
    """
    from villagescore.core.scheme import SchemeError
    from villagescore.io import schemes

    table = Table(title="内置考评方案", title_justify="left")
    for col in ("名称", "方案", "版本", "期间", "依据"):
        table.add_column(col, overflow="fold")
    for name in schemes.builtin_names():
        try:
            s = schemes.load(name).scheme
            table.add_row(name, s.name, s.version, {"half": "半年", "quarter": "季度", "year": "年度"}[s.period_kind],
                          s.source)
        except SchemeError as exc:
            table.add_row(name, "[red]方案文件有错误[/]", "", "", "；".join(exc.problems[:2]))
    console.print(table)


def _scheme_tree(sch: Scheme) -> Tree:
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
        c = sch.criteria
        tree.add(f"考核细则：{escape(types(c.aspects))}，每个方面 {c.per_aspect} 项，每项默认 {num(c.default_points)} 分")
    forms = tree.add("表格")
    for f in sch.forms:
        only = f.applies_to
        rated = [x for x in (f.self_label, *f.members) if x]
        node = forms.add(f"{escape(f.title)}（{f.id}，{'每个单位一份' if f.scope == 'unit' else '全乡一份'}"
                         f"{'，仅' + escape(types(only)) + '填写' if only else ''}"
                         f"{'，测评' + escape(types(rated)) if rated else ''}）")
        if f.decide is not None:  # rows left to the committee: listed on the decision sheet (党委研究事项)
            d = f.decide
            node.add(f"{escape(d.label)}：“{escape(f.column(d.column).label)}”为“{escape('/'.join(d.when))}”的列入党委研究事项，"
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
            node = gb.add(f"“{escape(grade)}”：{escape(c.text)}{funds}")
            if c.period == "year":
                node.add("按全年考评结果执行；半年、季度汇总中只显示为预计，不执行")
    if sch.vetoes:
        where = [f"《{escape(f.title)}》“{escape(f.column(f.veto_field).label)}”列" for f in sch.forms
                 if f.veto_field and f.column(f.veto_field)]
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
                form = next((f for f in sch.forms if f.id == lst.form), None)
                cond = "；".join(f"{escape(form.column(k).label if form and form.column(k) else k)}为"
                                f"{escape('/'.join(v))}" for k, v in lst.where.items())
                what.append(f"《{escape(form.title if form else lst.form)}》中{cond + '的' if cond else '的全部'}条目")
            lb.add(f"{escape(lst.title)}：{'，及其'.join(what)}" + (f"（{escape(lst.text)}）" if lst.text else ""))
    return tree


@scheme_app.command("show")
@guarded
def scheme_show(name: str = typer.Argument(..., metavar="方案", help="内置方案名或 .toml 文件路径。")) -> None:
    """显示考评方案的结构：表格、各类单位的计分树和权重、档次表、等次规则、一票否决事项。

    示例：villagescore scheme show pingbian
    """
    console.print(_scheme_tree(_load_scheme(name)))


@scheme_app.command("check")
@guarded
def scheme_check(file: Path = typer.Argument(..., metavar="文件", help="要检查的方案文件（.toml）。")) -> None:
    """检查方案文件是否正确；有错误时列出键的位置和原因。

    示例：villagescore scheme check 我乡方案.toml
    """
    sch = _load_scheme(str(file))
    console.print(f"[green]方案文件正确：[/]{escape(sch.scheme.name)}（{escape(sch.scheme.id)}，"
                  f"版本 {escape(sch.scheme.version)}）")
    console.print(f"表格 {len(sch.forms)} 种，计分项 {len(sch.nodes)} 个，等次 {len(sch.gradings)} 项，"
                  f"一票否决事项 {len(sch.vetoes)} 项。查看结构：villagescore scheme show {escape(str(file))}")


# ------------------------------------------------------------------ demo


@app.command()
@guarded
def demo(
    out: Path = typer.Option(Path("villagescore-demo"), "--out", "-o", metavar="文件夹", help="演示文件夹。"),
) -> None:
    """用虚构的乡镇数据演示完整流程：生成表格、模拟填报、计算、输出汇总表。

    示例：villagescore demo
    """
    from villagescore.demo import run_demo
    from villagescore.io.outputs import check_folder

    check_folder(out)

    with _progress() as bar:
        task = bar.add_task("演示", total=None, current="")
        result, summary = run_demo(out, lambda name: bar.update(task, advance=1, current=name))
    _print_result(result)
    console.print(f"演示数据在：{escape(str(out))}")
    console.print(f"[bold]汇总表已保存：{escape(str(summary))}[/]")


# ------------------------------------------------------------------ entry point


def _keep_printing() -> None:
    """Output to a console, file or pipe in a legacy code page (GBK on a Chinese Windows, or PYTHONIOENCODING=gbk):
    a character it lacks, say a rare character in a name or a file name, prints as ? instead of stopping the run."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (OSError, ValueError):  # a stream that cannot be reconfigured: leave it
                pass


def main() -> None:
    _keep_printing()
    app()
