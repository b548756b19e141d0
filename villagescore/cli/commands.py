"""The commands: each parses its options, calls one function of ``villagescore.runs``, renders what it returns
(``render``) and leaves with its exit code; failures become messages and exit codes in ``app.guarded``.

The library is imported inside each command (``runs`` itself imports what it needs where it needs it), so that
``villagescore --help`` starts quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from villagescore.cli import options, render
from villagescore.cli.app import app, exit_with, guarded, scheme_app
from villagescore.runs import ARCHIVE_NAME


# ------------------------------------------------------------------ template


@app.command()
@guarded
def template(
    kind: Optional[str] = typer.Argument(
        None, metavar="[种类]", help="只生成一种基础表：roster（名册）、criteria（考核细则）或 ledger（民生诉求台账）。不写则生成本期全部表格。"
    ),
    scheme: str = options.scheme(),
    roster: Optional[Path] = options.roster("已填好的名册（.xlsx）。"),
    criteria: Optional[Path] = options.criteria("已填好的考核细则（.xlsx）。"),
    ledger: Optional[Path] = typer.Option(None, "--ledger", metavar="文件", help="已填好的民生诉求台账（.xlsx）。"),
    period: Optional[str] = options.period("考评期间，如 2025H1、2025H2。"),
    out: Optional[Path] = options.out(None, "输出文件（基础表）或文件夹（本期表格）。", metavar="路径"),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="数字", help="回访抽取的随机种子；不写则随机生成并记录在表中。"),
    force: bool = options.force("覆盖已存在的文件或文件夹中的表格。"),
    archive: Optional[Path] = options.archive("结果档案库：把往期未完成的整改事项预先填入本期的问题整改清单。"),
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
    from villagescore import runs

    with render.Bar() as bar:
        made = runs.template(scheme, kind, roster=roster, criteria=criteria, ledger=ledger, period=period, out=out,
                             seed=seed, force=force, archive=archive, evaluators=evaluators, ballots=ballots,
                             progress=bar)
    render.print_template(made)
    exit_with(made.exit_code)


# ------------------------------------------------------------------ scan


@app.command()
@guarded
def scan(
    scans: Path = typer.Argument(..., metavar="扫描件文件夹", help="存放扫描件的文件夹：扫描仪导出的 PDF、手机拍的 JPEG/PNG、"
                                 "TIFF，顺序、方向不限。"),
    out: Path = options.out(..., "写入录入表的文件夹，通常是 template 生成的本期表格文件夹（其中空白的测评票录入表会被替换）。"),
    scheme: str = options.scheme(),
    roster: Optional[Path] = options.roster("名册；不写则用输出文件夹中的“00_基础信息/名册.xlsx”。"),
    criteria: Optional[Path] = options.criteria("考核细则；不写则用输出文件夹中的“00_基础信息/考核细则.xlsx”。"),
    period: Optional[str] = options.period("只读这一期的测评票，如 2025H1；不写则按票上的二维码判断。"),
    force: bool = options.force("覆盖已有录入或读入内容的录入表。"),
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
    from villagescore import runs

    with render.Bar() as bar:
        read = runs.scan(scheme, scans, out, roster=roster, criteria=criteria, period=period, force=force,
                         progress=bar)
    render.print_scan(read)
    exit_with(read.exit_code)


# ------------------------------------------------------------------ compute


@app.command()
@guarded
def compute(
    folders: Optional[list[Path]] = options.folders("存放填报表格的文件夹（可以写多个）。不写文件夹而用 --period 2025 时，"
                                                    "从结果档案库合并上下半年的计算结果。", required=False),
    scheme: str = options.scheme(),
    period: Optional[str] = options.period("要计算的期间，如 2025H1；写 2025 则合并上下半年。不写则按表格自动判断。"),
    roster: Optional[Path] = options.roster("名册；不写则使用文件夹中的“00_基础信息/名册.xlsx”。"),
    criteria: Optional[Path] = options.criteria("考核细则；不写则使用文件夹中的。"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="文件", help="汇总表保存位置（.xlsx）。"),
    force: bool = options.force("覆盖已存在的汇总表。"),
    as_json: bool = options.as_json("以 JSON 输出各单位结果和问题清单（供其他系统读取）。"),
    archive: Optional[Path] = options.archive("结果档案库；默认为汇总表所在文件夹的 villagescore.db。"),
    no_archive: bool = typer.Option(False, "--no-archive", help="不记入结果档案库。"),
    public: Optional[Path] = typer.Option(None, "--public", metavar="文件",
                                          help="另存一份公示版（只有排名、单位、书记、得分和等次）。"),
    csv_dir: Optional[Path] = typer.Option(None, "--csv", metavar="文件夹",
                                           help="另存 units.csv 和 issues.csv（供其他系统读取，列名见 docs/exports.md）。"),
    decisions: Optional[Path] = options.decisions("党委研究后填好的党委研究事项表（不写则读取表格文件夹中的）。"),
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
    from villagescore import runs

    with render.Bar() as bar:
        done = runs.compute(scheme, folders or [], period=period, roster=roster, criteria=criteria, output=output,
                            force=force, archive=archive, no_archive=no_archive, public=public, csv_dir=csv_dir,
                            decisions=decisions, progress=bar)
    render.print_computed(done, as_json)
    exit_with(done.exit_code)


@app.command()
@guarded
def validate(
    folders: list[Path] = options.folders("存放填报表格的文件夹（可以写多个）。"),
    scheme: str = options.scheme(),
    period: Optional[str] = options.period("只检查这一期，如 2025H1。"),
    roster: Optional[Path] = options.roster(),
    criteria: Optional[Path] = options.criteria(),
    as_json: bool = options.as_json("以 JSON 输出检查结果（供其他系统读取）。"),
    report_file: Optional[Path] = typer.Option(None, "--report", metavar="文件",
                                               help="把问题清单另存为工作簿，发回各村改正，如 问题清单.xlsx。"),
    force: bool = options.force("覆盖已存在的问题清单文件。"),
) -> None:
    """只检查表格，不计算：列出每个问题的文件、工作表、单元格和改正方法，以及各单位表格是否收齐。

    示例：

    \b
      villagescore validate 2025H1表格
      villagescore validate 2025H1表格 --report 问题清单.xlsx
    """
    from villagescore import runs

    with render.Bar() as bar:
        checked = runs.validate(scheme, folders, period=period, roster=roster, criteria=criteria,
                                report_file=report_file, force=force, progress=bar)
    render.print_validation(checked, as_json)
    exit_with(checked.exit_code)


@app.command()
@guarded
def explain(
    unit: str = typer.Argument(..., metavar="单位代码", help="要说明的单位，如 QS01。"),
    folders: list[Path] = options.folders("存放填报表格的文件夹。"),
    scheme: str = options.scheme(),
    period: Optional[str] = options.period("期间，如 2025H1 或 2025。"),
    roster: Optional[Path] = options.roster(),
    criteria: Optional[Path] = options.criteria(),
    decisions: Optional[Path] = options.decisions("党委研究事项表（不写则读取表格文件夹中的）。"),
) -> None:
    """逐项说明一个单位的得分来源：每项的依据数字、权重、舍入、配额线和等次。

    示例：

    \b
      villagescore explain QS01 2025H1表格
      villagescore explain QS01 2025H1表格 2025H2表格 --period 2025
    """
    from villagescore import runs

    with render.Bar() as bar:
        said = runs.explain(scheme, unit, folders, period=period, roster=roster, criteria=criteria,
                            decisions=decisions, progress=bar)
    render.print_explained(said)
    exit_with(said.exit_code)


# ------------------------------------------------------------------ history


@app.command()
@guarded
def history(
    what: str = typer.Argument(..., metavar="单位代码|runs|export", help="单位代码：该单位历次结果；runs：历次计算；"
                               "export：把整个档案库导出为工作簿。"),
    target: Optional[Path] = typer.Argument(None, metavar="[文件]", help="export 时导出的工作簿（.xlsx）。"),
    archive: Path = options.archive("结果档案库。", default=Path(ARCHIVE_NAME)),
    force: bool = options.force("覆盖已存在的导出文件。"),
) -> None:
    """查看结果档案库：某单位的历次得分、排名和等次，历次计算记录，或导出整个档案库。

    示例：

    \b
      villagescore history QS01
      villagescore history runs --archive 汇总/villagescore.db
      villagescore history export 档案.xlsx
    """
    from villagescore import runs

    if what == "runs":
        render.print_runs(archive, runs.history_runs(archive))
    elif what == "export":
        render.print_exported(runs.history_export(archive, target, force))
    else:
        render.print_unit_history(runs.history_unit(archive, what))


# ------------------------------------------------------------------ scheme


@scheme_app.command("list")
@guarded
def scheme_list() -> None:
    """列出内置考评方案。

    示例：villagescore scheme list
    """
    from villagescore import runs

    render.print_scheme_list(runs.scheme_list())


@scheme_app.command("show")
@guarded
def scheme_show(name: str = typer.Argument(..., metavar="方案", help="内置方案名或 .toml 文件路径。")) -> None:
    """显示考评方案的结构：表格、各类单位的计分树和权重、档次表、等次规则、一票否决事项。

    示例：villagescore scheme show pingbian
    """
    from villagescore import runs

    render.print_scheme(runs.load_scheme(name))


@scheme_app.command("check")
@guarded
def scheme_check(file: Path = typer.Argument(..., metavar="文件", help="要检查的方案文件（.toml）。")) -> None:
    """检查方案文件是否正确；有错误时列出键的位置和原因。

    示例：villagescore scheme check 我乡方案.toml
    """
    from villagescore import runs

    render.print_scheme_checked(runs.load_scheme(str(file)), file)


# ------------------------------------------------------------------ demo


@app.command()
@guarded
def demo(
    out: Path = options.out(Path("villagescore-demo"), "演示文件夹。"),
) -> None:
    """用虚构的乡镇数据演示完整流程：生成表格、模拟填报、计算、输出汇总表。

    示例：villagescore demo
    """
    from villagescore import runs

    with render.Bar() as bar:
        result, summary = runs.demo(out, progress=bar)
    render.print_demo(result, summary, out)
