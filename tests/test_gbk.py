"""Console output stays within GBK, the code page of a Chinese Windows console (cp936).

A character outside it shows as a box or ?, and a program printing it to a GBK file or pipe stops with an
encoding error; so the main commands are run on the samples and every printed character is encoded.
"""

import ast
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from villagescore.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCHEMES = ["pingbian", "dazehu", "county_dynamic", "dazhou_street", "shuocheng"]
runner = CliRunner()


def outside_gbk(text: str) -> list[str]:
    out = []
    for ch in dict.fromkeys(text):
        try:
            ch.encode("gbk")
        except UnicodeEncodeError:
            out.append(f"{ch} U+{ord(ch):04X}")
    return out


def _printed(*args) -> str:
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert "Traceback" not in res.output
    return res.output


def test_main_commands_print_only_gbk(tmp_path):
    qs = SAMPLES / "qingshi"
    arc = tmp_path / "a.db"
    printed = {}
    for cmd in ([], ["template"], ["compute"], ["validate"], ["explain"], ["history"], ["demo"], ["scheme"],
                ["scheme", "show"], ["scheme", "check"], ["scheme", "list"]):
        printed[" ".join(cmd) + " --help"] = _printed(*cmd, "--help")
    printed["demo"] = _printed("demo", "-o", tmp_path / "demo")
    printed["template"] = _printed("template", "roster", "-o", tmp_path / "名册.xlsx")
    printed["validate"] = _printed("validate", qs / "2025H1表格")
    printed["compute"] = _printed("compute", qs / "2025H1表格", qs / "2025H2表格", "-o", tmp_path / "a.xlsx",
                                  "--archive", arc)
    printed["explain"] = _printed("explain", "QS06", qs / "2025H1表格")
    printed["history"] = _printed("history", "QS06", "--archive", arc) + _printed("history", "runs", "--archive", arc)
    for name in SCHEMES:
        printed[f"scheme show {name}"] = _printed("scheme", "show", name)
        printed[f"scheme check {name}"] = _printed("scheme", "check", ROOT / "templates" / f"{name}.toml")
    printed["scheme list"] = _printed("scheme", "list")
    # the other systems' results: lists (B, C), offices and vetoes (D), bonus and penalty points (E)
    shutil.copy(SAMPLES / "qinghu" / "villagescore.db", tmp_path / "b.db")
    printed["compute B"] = _printed("compute", SAMPLES / "qinghu" / "2025表格", "--scheme", "dazehu",
                                    "-o", tmp_path / "b.xlsx", "--archive", tmp_path / "b.db")
    shutil.copy(SAMPLES / "lanxi" / "villagescore.db", tmp_path / "c.db")
    printed["compute C"] = _printed("compute", *[SAMPLES / "lanxi" / t / "2025Q2表格" for t in ("云岭镇", "石湾镇", "河西街道")],
                                    "--scheme", "county_dynamic", "-o", tmp_path / "c.xlsx", "--archive", tmp_path / "c.db")
    printed["compute D"] = _printed("compute", SAMPLES / "yunhe" / "2024表格", "--scheme", "dazhou_street",
                                    "-o", tmp_path / "d.xlsx", "--no-archive")
    printed["explain E"] = _printed("explain", "TY05", SAMPLES / "taoyuan" / "2024表格", "--scheme", "shuocheng")
    assert "汇总表已保存" in printed["compute"] and "惩罚减分" in printed["explain E"]
    bad = {what: chars for what, text in printed.items() if (chars := outside_gbk(text))}
    assert bad == {}


# Characters the tool reads or replaces, never prints: tick marks typed for 是/否 and invisible characters dropped
# from cells (the normaliser), rich's half cells (the progress bar draws whole ones).
READ_ONLY = {"core/normalize.py": set("✓✔☑✗✘☒\u200b\u200c\u200d\u2060\ufeff"), "cli/render.py": set("╸╺")}


def test_no_text_in_the_package_outside_gbk():
    found = []
    for path in sorted((ROOT / "villagescore").rglob("*.py")):
        rel = path.relative_to(ROOT / "villagescore").as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                chars = [c for c in outside_gbk(node.value) if c[0] not in READ_ONLY.get(rel, set())]
                if chars:
                    found.append(f"{rel}:{node.lineno} {chars}")
    assert found == []


def test_progress_bar_draws_whole_cells():
    from rich.console import Console
    from rich.progress import Progress

    from villagescore.cli.render import gbk_bar_column

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100, color_system="truecolor")
    progress = Progress(gbk_bar_column(), console=console, auto_refresh=False)
    progress.add_task("读取表格", total=80, completed=1)  # half a cell: rich draws ╸
    progress.add_task("读取表格", total=80, completed=41)
    progress.add_task("生成表格", total=None)  # the pulse of an unknown total
    console.print(progress.get_renderable())
    assert "━" in buf.getvalue() and outside_gbk(buf.getvalue()) == []


def _gbk_run(*args, cwd=None):
    env = {**os.environ, "PYTHONIOENCODING": "gbk"}
    return subprocess.run([sys.executable, "-m", "villagescore", *map(str, args)], capture_output=True, env=env,
                          cwd=cwd, timeout=120)


def test_output_to_a_gbk_stream(tmp_path):
    """stdout and stderr in GBK, as a Chinese Windows gives a redirected or legacy console: the text arrives."""
    res = _gbk_run("compute", SAMPLES / "taoyuan" / "2024表格", "--scheme", "shuocheng", "-o", tmp_path / "e.xlsx",
                   "--no-archive")
    out = res.stdout.decode("gbk")
    assert res.returncode == 0, res.stderr.decode("gbk", "replace")
    assert "考核总分" in out and "柿子沟村" in out and "汇总表已保存" in out  # a long label on two lines


def test_a_character_outside_gbk_in_a_name_does_not_stop_the_run(tmp_path):
    """A rare character of a name (here 𬌗, in GB18030's extension but not in GBK) prints as ?, on stdout as on
    stderr, instead of stopping the command with an encoding error."""
    custom = tmp_path / "𬌗乡方案.toml"
    shutil.copy(ROOT / "templates" / "pingbian.toml", custom)
    res = _gbk_run("scheme", "check", custom)
    out = res.stdout.decode("gbk")
    assert res.returncode == 0, res.stderr.decode("gbk", "replace")
    assert "方案文件正确" in out and "?乡方案.toml" in out
    res = _gbk_run("scheme", "check", tmp_path / "𬌗乡另一方案.toml")
    err = res.stderr.decode("gbk")
    assert res.returncode == 2 and "找不到考评方案文件" in err and "Traceback" not in err
