"""What a clerk reads on screen: rankings per category, reasons, help text, forgiving names."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.io.cells import display_width

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _run(*args) -> tuple[int, str]:
    res = CliRunner().invoke(app, [str(a) for a in args])
    return res.exit_code, res.output


def test_rankings_one_titled_table_per_category_with_reasons(tmp_path):
    code, out = _run("compute", SAMPLES / "yunhe" / "2024表格", "-s", "dazhou_street", "-o", tmp_path / "d.xlsx",
                     "--no-archive")
    assert code == 0, out
    villages, offices = out.index("2024年度  村、社区"), out.index("2024年度  站办所")
    assert villages < out.index("YH03") < offices < out.index("YZ01")  # the offices rank apart, from 1
    yh03 = next(line for line in out.splitlines() if "YH03" in line)
    assert "不合格" in yh03 and "一票否决：安全生产" in yh03  # the screen says why
    assert "站办所综合得分" not in out[:offices]  # each category its own score columns


def test_system_b_ranks_each_category_from_one(tmp_path):
    code, out = _run("compute", SAMPLES / "qinghu" / "2025表格", "-s", "dazehu", "-o", tmp_path / "b.xlsx",
                     "--no-archive")
    assert code == 0, out
    titles = [line.strip() for line in out.splitlines() if line.startswith("村（社区）年度考核")]
    assert [t.rsplit("  ", 1)[-1] for t in titles] == ["村、社区", "书记", "村干部", "驻村工作队长"]
    for part in out.split("问题清单")[0].split("村（社区）年度考核")[1:5]:
        ranks = [line.split("│")[1].strip() for line in part.splitlines() if line.startswith("│")]
        assert ranks[0] == "1" and ranks == sorted(ranks, key=int)


def test_explain_follows_the_units_own_root_and_case():
    code, out = _run("explain", "yh03", SAMPLES / "yunhe" / "2024表格", "-s", "dazhou_street")
    assert code == 0, out
    assert "最终得分：村（社区）综合得分 94.63" in out and "站办所综合得分 —" not in out


def test_help_has_no_english_scaffolding():
    for args in ([], ["compute"], ["explain"], ["validate"], ["history"]):
        code, out = _run(*args, "--help")
        assert code == 0 and "[选项]" in out, args
        for english in ("[OPTIONS]", "COMMAND", "[ARGS]", "<str>", "<list[Path]>", "<path>"):
            assert english not in out, (args, english)
    lines = _run("compute", "--help")[1].splitlines()
    starts = {display_width(line[:line.index(text)]) for line in lines for text in ("覆盖已存在的汇总表", "另存 units.csv", "考评方案：内置")
              if text in line}
    assert len(starts) == 1  # option texts start at one screen column after --force, --csv and -s 方案 alike


def test_a_misspelt_scheme_suggests_the_right_one():
    code, out = _run("compute", SAMPLES / "qingshi" / "2025H1表格", "--scheme", "pingbain")
    assert code == 2 and "是不是想写 pingbian" in out and "templates" not in out and "/" not in out.split("\n")[0]
