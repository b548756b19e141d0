"""``villagescore scheme show`` draws every built-in scheme completely; ``scheme check`` names broken keys."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.core.scheme import Combine, Grading, Scheme
from villagescore.io.schemes import builtin_dir, builtin_names, load

from test_custom_scheme import edited

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def reachable(scheme, nid: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    seen.add(nid)
    node = scheme.nodes[nid]
    if isinstance(node, Combine):
        for part in node.weights:
            reachable(scheme, part, seen)
    return seen


def test_all_three_systems_are_built_in():
    assert {"pingbian", "dazhou_street", "shuocheng"} <= set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_show_mentions_every_grading_node_and_form(name):
    scheme = load(name)
    res = run("scheme", "show", name)
    assert res.exit_code == 0, res.output
    out = res.output
    for g in scheme.gradings:
        assert g.label in out, g.label
    nodes = set()
    for nid in [scheme.root, *(g.by for g in scheme.gradings)]:
        reachable(scheme, nid, nodes)
    for nid in nodes:
        assert f"{scheme.nodes[nid].label}（{nid}" in out, nid  # the label with its id, so never by accident
    for f in scheme.forms:
        assert f"{f.title}（{f.id}" in out, f.title
    for v in scheme.vetoes:
        assert v.label in out
    assert " → \n" not in out and not out.rstrip().endswith("→")  # no veto drawn with nothing after the arrow


def _block(out: str, start: str, end: str) -> str:
    return out[out.index(start):out.index(end, out.index(start))]


def test_show_street_draws_both_trees_letters_and_cancels():
    out = run("scheme", "show", "dazhou_street").output
    # one tree for villages and communities, another for the offices, each under its own heading
    villages = _block(out, "计分（适用于：村、社区；用于：考核等次）", "计分（适用于：站办所")
    offices = _block(out, "计分（适用于：站办所；用于：站办所考核等次）", "汇总表各列")
    assert "村（社区）综合得分（total）" in villages and "站办所综合得分" not in villages
    assert "站办所综合得分（office_total）" in offices and "基础工作（basic" not in offices
    assert "完成站办所职责（office_duty，满分 40）" in offices
    # letters of the department tables, and the 村述村评 band table
    assert "党建工作（dangjian，满分 8）：《党建办基础工作评分表》“党建工作（8分）”评定档次，计满分的" in out
    assert "A=100%、B=90%、C=80%、D=70%、E=60%，或直接填写分数（0 至满分，最多 2 位小数）" in out
    assert "档次表：不低于 0.9 计 90；不低于 0.8 计 80；不低于 0.7 计 70；不低于 0.6 计 60；不低于 0 计 40" in out
    assert "按“级别/类别”计分：省级表彰 +0.5" in out and "逾期未办通知 -0.2" in out
    # gradings: unit types, min_score
    assert "适用于：站办所（名额按参评单位分别计算）" in out
    assert "排名前4名为“先进”且得分不低于70" in out
    # vetoes: forces and cancels both spelled out
    assert "安全生产工作造成较大影响 → 定为：考核等次“不合格”、站办所考核等次“不合格”" in out
    assert "受到市级以上通报批评造成较大影响 → 取消：考核等次“先进”、站办所考核等次“先进”" in out
    assert "一票否决（填写在《街道党工委评价及一票否决表》“否决事项”列）" in out


def test_show_pingbian_and_shuocheng_details():
    out = run("scheme", "show", "pingbian").output
    assert "计分（适用于：村、社区；用于：考评等次）" in out
    assert "全年得分：H1 50%，H2 50%" in out
    assert "（工作经费增加 10%，按名册中的工作经费基数）" in out
    assert out.count("按全年考评结果执行；半年、季度汇总中只显示为预计，不执行") == 2  # seed 000: the year's result
    assert "经乡党委研究确定的严重问题 → 定为：考评等次“差”" in out
    out = run("scheme", "show", "shuocheng").output
    assert "计分（适用于：村、社区；用于：考核等次、星级）" in out
    assert out.count("星级化考核总分（composite，满分 105）") == 1  # two gradings by one total: drawn once
    assert "- 惩罚减分（Y）（penalty，满分 10）" in out


def _copy(tmp_path: Path, base: str, *changes: tuple[str, str], name: str = "copy") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(edited(base, *changes), encoding="utf-8")
    return path


ENTERED = '''
[[gradings]]
id = "xsxp"
label = "下述下评等次"
by = "composite"
grades = ["好", "较好", "一般", "差"]
default = "一般"
entered = { form = "committee", field = "xsxp" }

[[gradings]]
id = "excellent"
label = "优秀评定"
by = "reverse"
grades = ["优秀", "合格"]
default = "合格"
applies_to = ["村"]
rules = [{ grade = "优秀", kind = "cap", share = 0.5, only_if = { grading = "xsxp", grades = ["好", "较好"] } }]

[[vetoes]]
id = "late"
label = "材料报送严重滞后"
cancels = { excellent = ["优秀"] }
'''


def test_show_entered_only_if_and_cancels(tmp_path):
    path = _copy(tmp_path, "pingbian", (
        '  { key = "note", label = "备注", type = "text", max_length = 100, width = 30 },\n]\n\n# ----',
        '  { key = "note", label = "备注", type = "text", max_length = 100, width = 30 },\n'
        '  { key = "xsxp", label = "下述下评等次", type = "option", options = ["好", "较好", "一般", "差"] },\n]\n\n# ----'))
    path.write_text(path.read_text("utf-8") + ENTERED, encoding="utf-8")
    assert run("scheme", "check", path).exit_code == 0
    res = run("scheme", "show", path)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "等次不按规则计算：填写在《乡党委评价及县委评定得分表》“下述下评等次”列，未填写的暂不评定" in out
    assert "“优秀”不超过50%（向下取整），且须在下述下评等次“好”或下述下评等次“较好”中" in out
    assert "适用于：村（名额按参评单位分别计算）" in out
    assert "材料报送严重滞后 → 取消：优秀评定“优秀”" in out
    # a grading by an inner node of the root tree does not draw that subtree twice
    assert out.count("逆向考评得分（reverse，满分 100）") == 1


def test_show_form_applies_to(tmp_path):
    text = (builtin_dir() / "dazhou_street.toml").read_text("utf-8")
    office = text[text.index('id = "office"'):text.index('title = "站办所考核组评分表"')]
    # the built-in template may already say so; add it only when it does not
    changes = () if "applies_to" in office else (('title = "站办所考核组评分表"\n',
                                                  'title = "站办所考核组评分表"\napplies_to = ["站办所"]\n'),)
    path = _copy(tmp_path, "dazhou_street", *changes)
    out = run("scheme", "show", path).output
    assert "站办所考核组评分表（office，全乡一份，仅站办所填写）" in out


STREAK_AND_LISTS = '''
[[gradings]]
id = "promote"
label = "提级管理"
by = "composite"
grades = ["提级管理", "不变"]
default = "不变"
streak = { grading = "grade", grades = ["好"], periods = 2, grade = "提级管理" }

[[lists]]
id = "talk"
title = "约谈名单"
text = "由乡党委书记约谈"
grading = "grade"
grades = ["差"]
form = "anonymous"
where = { result = ["属实"] }

[[lists]]
id = "pending"
title = "待核实事项"
form = "anonymous"
where = { result = ["待核实"] }
'''


def test_show_streak_and_lists(tmp_path):
    if "streak" not in Grading.model_fields or "lists" not in Scheme.model_fields:
        pytest.skip("the model has no streak gradings or lists")
    path = _copy(tmp_path, "pingbian")
    path.write_text(path.read_text("utf-8") + STREAK_AND_LISTS, encoding="utf-8")
    assert run("scheme", "check", path).exit_code == 0
    out = run("scheme", "show", path).output
    assert "按以往各期评定：连续 2 期在考评等次中为“好”的为“提级管理”，其余为“不变”" in out
    assert "约谈名单：考评等次“差”的单位，及其《工作作风匿名评价登记表》中核实结果为属实的条目（由乡党委书记约谈）" in out
    assert "待核实事项：《工作作风匿名评价登记表》中核实结果为待核实的条目" in out


def test_show_escapes_brackets(tmp_path):
    path = _copy(tmp_path, "pingbian", ('label = "县委评定"\nagg', 'label = "县委评定[bold]"\nagg'))
    out = run("scheme", "show", path).output
    assert "县委评定[bold]（county" in out


# ------------------------------------------------------------------ scheme check on broken copies


def _located(path: Path, message: str, at: str) -> str:
    """``message`` ("key.path：what") with the line of the copy holding ``at``, as scheme check prints it."""
    line = next(n for n, text in enumerate(path.read_text("utf-8").splitlines(), start=1) if at in text)
    key, _, what = message.partition("：")
    return f"{key}（第 {line} 行）：{what}"


# Each message names the key path and the line of the file where that key is written (or its table, when the
# problem is the table's as a whole).
@pytest.mark.parametrize("base, change, message, at", [
    ("pingbian", ("parts = { reverse = 0.4,", "parts = { reverse = 0.5,"),
     "nodes.composite.parts：权重合计为 1.1，应为 1", None),
    ("pingbian", ('{ grade = "好", kind = "cap", share = 0.20 }', '{ grade = "好", kind = "cap", share = 1.2 }'),
     "gradings[1].rules[1]：share 必须在 0 到 1 之间", None),
    ("pingbian", ('form = "callback"', 'form = "callbak"'), "nodes.appeals.form：表格“callbak”不存在", None),
    ("pingbian", ('field = "resolved"', 'field = "solved"'), "nodes.appeals.field：表格“callback”没有列“solved”", None),
    ("dazhou_street", ('field = "dangjian"', 'field = "dangjan"'), "nodes.dangjian.field：表格“dept_djb”没有列“dangjan”",
     None),
    ("dazhou_street", ("parts = [\"office_duty\", \"office_finance\"", "parts = [\"office_duty\", \"office_financ\""),
     "nodes.office_total.parts：节点“office_financ”不存在", None),
    ("shuocheng", ('where = { kind = ["加分"] }', 'where = { kond = ["加分"] }'), "nodes.bonus.where：表格“adjust”没有列“kond”",
     None),
    ("shuocheng", ('{ grade = "好", kind = "at_least", score = 90 }', '{ grade = "优", kind = "at_least", score = 90 }'),
     "gradings[1]：规则中的等次“优”不在 grades 中", "[[gradings]]"),
    # a key a form of that kind does not have, named with its line
    ("pingbian", ('draw = 5  ', 'draw = 5\nevaluators = 3  '),
     "forms[2].evaluators：callback 表格没有此项（evaluators 只用于 score_ballot、vote_ballot 表格）", None),
    # a value filled in from [defaults.…] or [choices] is named where the file writes it
    ("dazhou_street", ('options = "档次"', 'options = "档位"'),
     "forms[1].columns[1].options：“档位”不是 [choices] 中的名字（[choices] 中有：档次、加减分）", None),
    ("dazhou_street", ('"档次" = { A = 1.0, B = 0.9,', '"档次" = { A = 1.0, B = "九成",'),
     "choices.档次.B：应为数字", None),
])
def test_check_reports_key_path(tmp_path, base, change, message, at):
    path = _copy(tmp_path, base, change)
    res = run("scheme", "check", path)
    assert res.exit_code == 2, res.output
    expected = _located(path, message, at or change[1].split("\n")[-1].strip())
    assert "考评方案有错误" in res.output and expected in res.output.replace("\n", ""), res.output
    assert "Traceback" not in res.output


def test_check_missing_file(tmp_path):
    res = run("scheme", "check", tmp_path / "没有这个文件.toml")
    assert res.exit_code == 2 and "找不到考评方案文件" in res.output


def test_check_clean_builtins_summarise():
    for name in builtin_names():
        res = run("scheme", "check", builtin_dir() / f"{name}.toml")
        assert res.exit_code == 0, res.output
        scheme = load(name)
        assert f"表格 {len(scheme.forms)} 种，计分项 {len(scheme.nodes)} 个，等次 {len(scheme.gradings)} 项" in res.output


# A leaf naming an option its form does not have, a veto cancelling a grade that does not exist.
@pytest.mark.parametrize("base, change, key", [
    ("pingbian", ('positive = ["满意", "基本满意"]', 'positive = ["满意", "很满意"]'), "nodes.daily"),
    ("pingbian", ('match = ["是"]', 'match = ["已解决"]'), "nodes.appeals"),
    ("pingbian", ('where = { result = ["属实"] }', 'where = { result = ["确实"] }'), "nodes.style"),
    ("dazhou_street", ('field = "anquan" }', 'field = "anquan", letters = { A = 1.0, B = 0.9, C = 0.8, D = 0.7, F = 0.6 } }'),
     "nodes.anquan"),
    ("dazhou_street", ('cancels = { grade = ["先进"], office_grade = ["先进"] }\n\n[[vetoes]]\nid = "other"',
                       'cancels = { grade = ["优秀"], office_grade = ["先进"] }\n\n[[vetoes]]\nid = "other"'),
     "vetoes.criticism.cancels"),
])
def test_check_reports_unknown_option(tmp_path, base, change, key):
    res = run("scheme", "check", _copy(tmp_path, base, change))
    assert res.exit_code == 2 and key in res.output


# ------------------------------------------------------------------ bounds: what compute and template could not do

def _deep(levels: int) -> tuple[str, str]:
    """The root's weighted part ``county`` replaced by a chain of ``levels`` sums down to the county leaf."""
    chain = "".join(f'\n[nodes.deep{i}]\nlabel = "层{i}"\ncombine = "sum"\nparts = ["deep{i + 1}"]\n'
                    for i in range(levels))
    return ("[nodes.reverse]", chain + f'\n[nodes.deep{levels}]\nlabel = "底"\ncombine = "sum"\nparts = ["county"]\n'
            "\n[nodes.reverse]")


@pytest.mark.parametrize("change, message, at", [
    (("places = 2                    # 四舍五入保留 2 位小数", "places = 400"), "scheme.places：应不大于 6，填写的是 400", None),
    (("places = 2                    # 四舍五入保留 2 位小数", "places = -1"), "scheme.places：应不小于 0，填写的是 -1", None),
    (("points = 10\ncap = 50", "points = 1e308\ncap = 50"),
     "nodes.appeals.points：应不大于 1000000000，填写的是 1e+308", None),
    (("points = 30", "points = inf"), "nodes.daily.points：应为有限的数字（不能是 inf 或 nan）", None),
    (("funds = 0.10", "funds = 1e30"), "gradings[1].consequences.好.funds：应不大于 1，填写的是 1e+30", None),
    (("evaluators = 20 ", "evaluators = 1000000000000000000 "),
     "forms[1].evaluators：应不大于 1000，填写的是 1e+18", None),
    (("max_rows = 40", "max_rows = 1000000000"), "forms[4].max_rows：应不大于 5000，填写的是 1000000000", None),
    (("parts = { reverse = 0.4, township = 0.5, county = 0.1 }",
      "parts = { reverse = 1.4, township = 0.5, county = -0.9 }"), "nodes.composite：加权（weighted）的权重不能为负数",
     "[nodes.composite]"),
    (("parts = { reverse = 0.4,", "parts = { reverse = 1e400,"),
     "nodes.composite.parts.reverse：应不大于 1000000000，填写的是 1e+400", None),
    (("default_points = 10", "default_points = nan"), "criteria.default_points：应为有限的数字", None),
    (_deep(40), "nodes.composite：计分树有 43 层，最多 30 层", "[nodes.composite]"),
])
def test_check_catches_what_compute_would_fail_on(tmp_path, change, message, at):
    if change[0].startswith("[nodes.reverse]"):  # the chain takes the county leaf's place in the composite
        path = _copy(tmp_path, "pingbian", change, ("county = 0.1 }", "deep0 = 0.1 }"))
    else:
        path = _copy(tmp_path, "pingbian", change)
    res = run("scheme", "check", path)
    out = res.output.replace("\n", "")
    assert res.exit_code == 2, res.output
    assert _located(path, message, at or change[1].split("\n")[0]) in out, res.output
    assert "Input should" not in out and "Traceback" not in out and "方案文件正确" not in out


def test_check_survives_nesting_thousands_deep(tmp_path):
    path = _copy(tmp_path, "pingbian", _deep(1900), ("county = 0.1 }", "deep0 = 0.1 }"))
    res = run("scheme", "check", path)  # deeper than Python's recursion limit: walked without recursion
    assert res.exit_code == 2 and "计分树有 1903 层，最多 30 层" in res.output.replace("\n", "")
    path = _copy(tmp_path, "pingbian", _deep(5000), ("county = 0.1 }", "deep0 = 0.1 }"), name="more")
    res = run("scheme", "check", path)
    assert res.exit_code == 2 and "nodes：最多 2000 项，写了 5010 项" in res.output.replace("\n", "")
    nested = tmp_path / "nested.toml"
    nested.write_text("x = " + "[" * 100_000 + "]" * 100_000, encoding="utf-8")
    res = run("scheme", "check", nested)
    assert res.exit_code == 2 and "嵌套的层数过多" in res.output
    assert "RecursionError" not in res.output and "程序内部错误" not in res.output


def test_toml_errors_are_chinese_with_their_place(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[scheme]\nid = "x"\nname = 村\n', encoding="utf-8")
    res = run("scheme", "check", path)
    assert res.exit_code == 2
    assert "TOML 格式错误（第 3 行第 8 列）：值的写法不对" in res.output
    assert "Invalid" not in res.output
