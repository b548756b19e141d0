"""The command line through typer's CliRunner: messages in Chinese, exit codes, safe outputs."""

import io
import json
import re
import shutil

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from villagescore.cli import app

from township import filled, find, write_setup

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def township(tmp_path_factory, scheme):
    return filled(scheme, tmp_path_factory.mktemp("cli"))


def test_help_has_examples():
    for args in ([], ["template"], ["compute"], ["scheme"], ["scheme", "show"], ["scheme", "check"], ["demo"]):
        res = run(*args, "--help")
        assert res.exit_code == 0, res.output
        assert "示例" in res.output


def test_template_setup_files(tmp_path):
    res = run("template", "roster", "-o", tmp_path / "名册.xlsx")
    assert res.exit_code == 0 and "已生成名册空白表" in res.output
    ws = load_workbook(tmp_path / "名册.xlsx").worksheets[0]
    assert [c.value for c in ws[4]][:3] == ["单位代码", "单位名称", "类型"]
    again = run("template", "roster", "-o", tmp_path / "名册.xlsx")
    assert again.exit_code == 2 and "--force" in again.output
    assert run("template", "bogus").exit_code == 2


def test_template_period_forms(tmp_path, scheme):
    roster, criteria, ledger = write_setup(scheme, tmp_path / "setup")
    out = tmp_path / "forms"
    res = run("template", "--roster", roster, "--criteria", criteria, "--ledger", ledger, "--period", "2025H1",
              "-o", out, "--seed", 7)
    assert res.exit_code == 0, res.output
    assert "随机种子：7" in res.output
    assert len(list(out.glob("V1_*/*.xlsx"))) == 5  # print ballots, entry, callback, questionnaire, anonymous
    assert (out / "00_基础信息" / "名册.xlsx").exists()
    missing = run("template", "--roster", roster)
    assert missing.exit_code == 2 and "--period" in missing.output


def test_compute_writes_summary_and_exits_clean(township, tmp_path):
    out = tmp_path / "汇总.xlsx"
    res = run("compute", township, "-o", out)
    assert res.exit_code == 0, res.output
    assert "汇总表已保存" in res.output and out.exists()
    assert "88.52" in res.output
    wb = load_workbook(out)
    assert "汇总" in wb.sheetnames
    again = run("compute", township, "-o", out)
    assert again.exit_code == 2 and "已存在" in again.output
    assert run("compute", township, "-o", out, "--force").exit_code == 0


def test_compute_json(township, tmp_path):
    res = runner.invoke(app, ["compute", str(township), "-o", str(tmp_path / "s.xlsx"), "--json"])
    data = json.loads(res.stdout)
    v1 = next(u for u in data["units"] if u["unit_code"] == "V1")
    assert v1["score_composite"] == "88.52" and v1["grade_grade"] == "中"


def test_output_inside_input_refused(township):
    res = run("compute", township, "-o", township / "汇总.xlsx")
    assert res.exit_code == 2 and "输入文件夹内" in res.output
    assert not (township / "汇总.xlsx").exists()


def test_data_error_exit_one_and_inputs_unchanged(township, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(township, broken)
    path = find(broken, "committee")
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    ws["C5"] = "九十"  # 乡党委评价 of V1 typed in words
    wb.save(path)
    before = path.read_bytes()
    res = run("compute", broken, "-o", tmp_path / "汇总.xlsx")
    assert res.exit_code == 1
    assert "C5" in res.output and "不是数字" in res.output
    assert path.read_bytes() == before
    assert (tmp_path / "汇总.xlsx").exists()  # the summary lists the problem; V1 has no result
    assert "Traceback" not in res.output


def test_missing_folder_and_bad_scheme(tmp_path):
    res = run("compute", tmp_path / "nope")
    assert res.exit_code == 2 and "找不到文件夹" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text('root = "x"\n[scheme]\nid = "t"\nname = "t"\n', encoding="utf-8")
    res = run("scheme", "check", bad)
    assert res.exit_code == 2
    assert "forms：缺少此项" in res.output and "Traceback" not in res.output


def test_scheme_list_show_check():
    res = run("scheme", "list")
    assert res.exit_code == 0 and "pingbian" in res.output
    res = run("scheme", "show", "pingbian")
    assert res.exit_code == 0
    for text in ("40% × 逆向考评得分", "80% × 发展质量集中考评", "“好”不超过20%（向下取整）", "不少于10%"):
        assert text in res.output
    from villagescore.io.schemes import builtin_dir

    assert run("scheme", "check", builtin_dir() / "pingbian.toml").exit_code == 0


def test_demo(tmp_path):
    res = run("demo", "--out", tmp_path / "demo")
    assert res.exit_code == 0, res.output
    assert "汇总表已保存" in res.output
    assert (tmp_path / "demo" / "2025年度汇总.xlsx").exists()
    # a second run replaces its own folder; a foreign folder is refused
    assert run("demo", "--out", tmp_path / "demo").exit_code == 0
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "mine.txt").write_text("x")
    res = run("demo", "--out", tmp_path / "other")
    assert res.exit_code == 2 and (tmp_path / "other" / "mine.txt").exists()


@pytest.mark.parametrize("args, words", [
    (["history"], ["用法：", "错误：缺少参数"]),
    (["compute"], ["请给出表格文件夹"]),
    (["compute", "x", "--perod", "2025"], ["没有这个选项：--perod", "--period"]),
    (["template", "--period"], ["选项 --period 后面需要写一个值"]),
    (["template", "--seed", "abc"], ["应填写整数"]),
    (["nope"], ["没有这个命令"]),
])
def test_usage_errors_in_chinese(args, words):
    res = run(*args)
    assert res.exit_code == 2
    for w in words:
        assert w in res.output
    assert "Error:" not in res.output and "Usage:" not in res.output


def test_help_in_chinese():
    res = run("compute", "--help")
    assert "用法：" in res.output and "显示本帮助并退出。" in res.output


def test_public_csv_and_explain(township, tmp_path):
    res = run("compute", township, "-o", tmp_path / "s.xlsx", "--public", tmp_path / "公示.xlsx",
              "--csv", tmp_path / "csv", "--no-archive")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "公示.xlsx").exists() and (tmp_path / "csv" / "units.csv").exists()
    assert "公示版已保存" in res.output
    res = run("explain", "V1", township)
    assert res.exit_code == 0, res.output
    assert "88.52" in res.output and "85.5" in res.output
    res = run("explain", "NOPE", township)
    assert res.exit_code == 2 and "V1" in res.output


def test_validate(township, tmp_path):
    res = run("validate", township)
    assert res.exit_code == 0, res.output
    assert "表格收齐情况" in res.output and "齐全" in res.output
    res = runner.invoke(app, ["validate", str(township), "--json"])
    data = json.loads(res.stdout)
    assert data["counts"]["errors"] == 0 and data["coverage"]["units"][0]["unit_code"] == "V1"
    broken = tmp_path / "broken"
    shutil.copytree(township, broken)
    find(broken, "questionnaire", "V3").unlink()
    report = tmp_path / "问题清单.xlsx"
    res = run("validate", broken, "--report", report)
    assert res.exit_code == 1
    assert "缺少" in res.output and report.exists()
    rows = [[c.value for c in r] for r in load_workbook(report).worksheets[0].iter_rows()]
    assert any("form-missing" in r for r in rows)
    assert run("validate", broken, "--report", broken / "x.xlsx").exit_code == 2


def test_validate_with_many_forms_lists_only_what_is_missing(tmp_path):
    """System D has a sheet per department (33 forms): one line per unit instead of a column per form."""
    import shutil
    from pathlib import Path

    sample = Path(__file__).resolve().parent.parent / "samples" / "yunhe"
    folder = tmp_path / "2024表格"
    shutil.copytree(next(sample.glob("*表格")), folder)
    next(folder.rglob("*武装部评分表*.xlsx")).unlink()
    res = CliRunner().invoke(app, ["validate", str(folder), "--scheme", "dazhou_street"], env={"COLUMNS": "200"})
    assert res.exit_code == 1
    assert "未齐全的表格" in res.output and "武装部评分表：缺少" in res.output
    assert "32/33" in res.output and "4/4" in res.output  # offices do not get the department sheets


def test_brackets_in_paths_are_shown_as_typed(tmp_path):
    res = CliRunner().invoke(app, ["compute", str(tmp_path / "[2025]表格")])
    assert res.exit_code == 2 and "[2025]表格" in res.output


def test_a_county_ranking_on_screen_shows_top_and_bottom():
    from villagescore.cli.render import RANKING_ROWS_MAX, console, ranking_tables
    from villagescore.core.records import GradeResult, RunResult, Unit, UnitResult
    from villagescore.core.issues import Report

    units = [UnitResult(Unit(f"C{i:03d}", f"村{i}"), rounded={"total": i}, grades={"g": GradeResult("g", "合格", rank=i)})
             for i in range(1, 101)]
    result = RunResult("s", "方案", "1", "", "2025Q1", ["2025Q1"], units, [], Report(), [], [], "", "0",
                       node_labels={"total": "得分"}, display=["total"], gradings=[("g", "等次")])
    with console.capture() as cap:
        for table in ranking_tables(result):
            console.print(table)
    out = cap.get()
    assert "C001" in out and "C040" in out and "C041" not in out and "C081" in out and "C100" in out
    assert f"中间 {100 - RANKING_ROWS_MAX} 个从略，完整排名见汇总表" in out


def test_issue_table_lists_cells_in_sheet_order():
    from villagescore.cli.render import console, issues_table
    from villagescore.core.issues import Report, issue

    report = Report()
    for cell in ("E31", "E9", "E5", "AA2"):
        report.add(issue("missing-value", file="考核细则.xlsx", sheet="考核评定细则", cell=cell, label="考核细则"))
    with console.capture() as cap:
        console.print(issues_table(report))
    out = cap.get()
    assert out.index("AA2") < out.index("E5") < out.index("E9") < out.index("E31")


@pytest.mark.parametrize("command", ["compute", "validate"])
def test_folders_are_walked_once(township, tmp_path, monkeypatch, command):
    """The progress bar's size and the reading share one listing of the folders (a county's 24,000 files)."""
    import villagescore.stages.collect as collect_module
    import villagescore.io.reader as reader_module

    calls = []
    real = reader_module.iter_workbook_files

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(reader_module, "iter_workbook_files", counted)
    monkeypatch.setattr(collect_module, "iter_workbook_files", counted)
    extra = ["-o", str(tmp_path / "s.xlsx"), "--no-archive"] if command == "compute" else []
    res = runner.invoke(app, [command, str(township), *extra])
    assert res.exit_code in (0, 1), res.output
    assert len(calls) == 1


def test_output_paths_with_brackets_printed_as_typed(township, tmp_path):
    """rich would take [..] in a path for markup: every saved path is shown as the clerk typed it."""
    out, public = tmp_path / "[v2]汇总.xlsx", tmp_path / "[bold]公示.xlsx"
    res = runner.invoke(app, ["compute", str(township), "-o", str(out), "--public", str(public), "--no-archive"])
    assert res.exit_code == 0, res.output
    flat = res.output.replace("\n", "")
    assert "[v2]汇总.xlsx" in flat and "[bold]公示.xlsx" in flat


def test_print_report_shows_fifty_errors_first(monkeypatch):
    from rich.console import Console

    from villagescore.cli import render
    from villagescore.core.issues import Report, issue

    report = Report()
    for i in range(120):
        report.add(issue("draw-short", unit=f"C{i:03d}", file=f"f{i:03d}.xlsx", count=1, want=5))
    for i in range(3):
        report.add(issue("file-unreadable", file=f"z{i}.xlsx", reason="文件已损坏"))
    out = io.StringIO()
    monkeypatch.setattr(render, "console", Console(file=out, width=200, highlight=False))
    render.print_report(report)
    text = out.getvalue()
    rows = [line for line in text.splitlines() if re.search(r"\b[fz]\d+\.xlsx", line)]
    assert len(rows) == 50
    assert all(f"z{i}.xlsx" in text for i in range(3))  # errors first
    assert "另有 73 条问题未显示" in text and "问题清单" in text and "--report" in text
    assert "错误 3 条，提示 120 条。" in text
    out.truncate(0)
    short = Report(report.issues[:10])
    render.print_report(short)
    assert "未显示" not in out.getvalue()
