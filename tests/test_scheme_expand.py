"""Scheme files without repetition: [choices], [defaults.…], points in labels from ``max``, a band leaf's ``max`` and
``letters`` from its column, and errors that name the line of the file (core/scheme_expand.py, io/schemes.py).

The built-in files written with them must mean exactly what they meant written out in full: ``tests/full_schemes/``
keeps each restructured file as it was before (every form, column and leaf written out), and the two load to equal
models, forms and nodes in the same order. That copy is also a scheme "in the wild" in the old full form, which keeps
loading unchanged. A change to a built-in file that should change its meaning is made in both.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from villagescore.core.scheme import SchemeError, load_scheme
from villagescore.io.schemes import builtin_dir, key_lines, load, load_file

FULL = Path(__file__).resolve().parent / "full_schemes"


def parse(text: str) -> dict:
    return tomllib.loads(text, parse_float=Decimal)


def problems(text: str) -> list[str]:
    with pytest.raises(SchemeError) as exc:
        load_scheme(parse(text), "s.toml")
    return exc.value.problems


# ------------------------------------------------------------------ the built-in files mean what they meant


@pytest.mark.parametrize("name", sorted(p.stem for p in FULL.glob("*.toml")))
def test_builtin_scheme_equals_its_written_out_copy(name):
    short, full = load(name), load_file(FULL / f"{name}.toml")
    assert [f.id for f in short.forms] == [f.id for f in full.forms]
    assert list(short.nodes) == list(full.nodes)  # the order the summary and `scheme show` walk
    for a, b in zip(short.forms, full.forms):
        assert a == b, f"{name}：表格 {a.id} 与完整写法不同"
    for nid in full.nodes:
        assert short.nodes[nid] == full.nodes[nid], f"{name}：计分项 {nid} 与完整写法不同"
    assert short == full


def test_dazhou_street_is_shorter_and_prints_the_same_labels():
    short = (builtin_dir() / "dazhou_street.toml").read_text("utf-8")
    full = (FULL / "dazhou_street.toml").read_text("utf-8")
    assert len(short.splitlines()) < 0.65 * len(full.splitlines())
    assert "（8分）" not in short  # written once, as max = 8
    column = load("dazhou_street").form("dept_djb").column("dangjian")
    assert (column.label, column.options, column.min, column.max, column.places, column.required) == (
        "党建工作（8分）", ["A", "B", "C", "D", "E"], 0, 8, 2, True)
    leaf = load("dazhou_street").nodes["anquan"]
    assert (leaf.max, leaf.letters) == (5, {"A": 1, "B": Decimal("0.9"), "C": Decimal("0.8"), "D": Decimal("0.7"),
                                            "E": Decimal("0.6")})


# ------------------------------------------------------------------ a small scheme written both ways

HEAD = '''
root = "total"
[scheme]
id = "t"
name = "测试"
[[gradings]]
id = "g"
label = "等次"
by = "total"
grades = ["好", "差"]
default = "好"
'''

SHORT = HEAD + '''
[choices]
"档次" = { A = 1.0, B = 0.8 }
"满意度" = ["满意", "不满意"]

[defaults.forms.unit_scores]
scope = "township"
[defaults.columns.band]
options = "档次"
min = 0
show_max = true
required = true
[defaults.nodes.direct]
applies_to = ["村"]

[[forms]]
id = "dept"
kind = "unit_scores"
title = "评分表"
columns = [{ key = "a", label = "甲项", type = "band", max = 6 }, { key = "b", label = "乙项（4分）", type = "band", max = 4 }]

[[forms]]
id = "poll"
kind = "tally"
title = "统计表"
rows = ["总体"]
options = "满意度"

[nodes]
total = { label = "总分", combine = "sum", parts = ["a", "b", "poll"] }
a = { label = "甲项", agg = "direct", form = "dept", field = "a" }
b = { label = "乙项", agg = "direct", form = "dept", field = "b", letters = { A = 1, B = 0.5 } }
poll = { label = "满意率", agg = "share_points", form = "poll", positive = ["满意"], points = 1 }
'''

FULL_FORM = HEAD + '''
[[forms]]
id = "dept"
kind = "unit_scores"
scope = "township"
title = "评分表"
columns = [
  { key = "a", label = "甲项（6分）", type = "band", options = ["A", "B"], min = 0, max = 6, required = true },
  { key = "b", label = "乙项（4分）", type = "band", options = ["A", "B"], min = 0, max = 4, required = true },
]

[[forms]]
id = "poll"
kind = "tally"
title = "统计表"
rows = ["总体"]
options = ["满意", "不满意"]

[nodes]
total = { label = "总分", combine = "sum", parts = ["a", "b", "poll"] }
a = { label = "甲项", agg = "direct", form = "dept", field = "a", max = 6, letters = { A = 1.0, B = 0.8 }, applies_to = ["村"] }
b = { label = "乙项", agg = "direct", form = "dept", field = "b", max = 4, letters = { A = 1, B = 0.5 }, applies_to = ["村"] }
poll = { label = "满意率", agg = "share_points", form = "poll", positive = ["满意"], points = 1 }
'''


def test_choices_and_defaults_write_out_to_the_full_form():
    assert load_scheme(parse(SHORT)) == load_scheme(parse(FULL_FORM))


def test_a_file_written_out_in_full_is_read_as_before():
    full = parse(FULL_FORM)
    from villagescore.core.scheme import KNOWN_DEFAULTS
    from villagescore.core.scheme_expand import expand

    ex = expand(full, KNOWN_DEFAULTS)
    assert ex.data == full and ex.origins == {} and ex.problems == []


def test_what_an_entry_writes_wins_and_entries_share_nothing():
    data = parse(SHORT.replace('title = "统计表"', 'title = "统计表"\nscope = "unit"'))
    data["forms"][0]["scope"] = "unit"  # its own key, not the default
    scheme = load_scheme(data)
    assert scheme.form("dept").scope == "unit"
    a, b = scheme.form("dept").columns
    assert a.options == b.options and a.options is not b.options


@pytest.mark.parametrize("label, shown", [
    ("党建工作", "党建工作（8分）"),
    ("党建工作（8分）", "党建工作（8分）"),  # an old label that already says its points: not twice
    ("党建工作 (8分)", "党建工作 (8分)"),
    ("农业（粮食生产3分、耕地抛荒整治2分）", "农业（粮食生产3分、耕地抛荒整治2分）（8分）"),
])
def test_points_in_the_label_come_from_max(label, shown):
    text = SHORT.replace('{ key = "a", label = "甲项", type = "band", max = 6 }',
                         f'{{ key = "a", label = "{label}", type = "band", max = 8 }}')
    assert load_scheme(parse(text)).form("dept").column("a").label == shown


def test_points_only_where_asked():
    text = SHORT.replace("show_max = true\n", "")
    assert load_scheme(parse(text)).form("dept").column("a").label == "甲项"  # as old files print it
    text = SHORT.replace('{ key = "a", label = "甲项", type = "band", max = 6 }',
                         '{ key = "a", label = "甲项", type = "band", max = 6, show_max = false }')
    assert load_scheme(parse(text)).form("dept").column("a").label == "甲项"


def test_short_form_mistakes_are_named():
    bad = SHORT.replace('options = "满意度"', 'options = "满意"').replace(
        'letters = { A = 1, B = 0.5 }', 'letters = "满意度"').replace(
        "[defaults.nodes.direct]", "[defaults.nodes.direct]\nagg = \"direct\"\nfomr = \"dept\"").replace(
        "[defaults.forms.unit_scores]", "[defaults.forms.scores]").replace(
        'label = "乙项（4分）"', 'label = "乙项（5分）"')
    assert problems(bad) == [
        "defaults.forms.scores：表格类型“scores”不认识（可写：score_ballot、vote_ballot、callback、tally、register、"
        "unit_scores）",
        "defaults.nodes.direct.agg：表示类型的键不能有默认值",
        "defaults.nodes.direct.fomr：不认识的键（拼写错误？）",
        "forms[1].columns[2].label：标题中写的是 5 分，max 是 4，两处应一致（标题可以不写分值，自动加上）",
        "forms[2].options：“满意”不是 [choices] 中的名字（[choices] 中有：档次、满意度）",
        "nodes.b.letters：[choices] 中的“满意度”是选项列表，这里要的是表（每个选项对应一个数，例如 { A = 1.0, B = 0.9 }）",
    ]
    assert problems(SHORT.replace('show_max = true', 'show_max = "是"')) == [
        "forms[1].columns[1].show_max：应为 true 或 false（同一处写法用于 2 处，只列出第一处）"]
    assert problems(SHORT.replace('"档次" = { A = 1.0, B = 0.8 }', '"档次" = { A = 1.0, B = "八成" }')) == [
        "choices.档次.B：应为数字"]


# ------------------------------------------------------------------ lines

def test_key_lines_follow_arrays_of_tables_and_inline_values():
    text = '''top = 1
[[forms]]
id = "a"
columns = [
  { key = "x" },   # a comment between elements
  { key = "y", "带引号" = 2 },
]
[[forms]]
id = "b"
[forms.survey]
unit = "村"
[nodes.total]
parts = { a = 1 }
[nodes]
leaf.label = "叶"
'''
    lines = key_lines(text)
    assert lines[("top",)] == 1
    assert lines[("forms", 0)] == 2 and lines[("forms", 1)] == 8
    assert lines[("forms", 0, "columns", 1)] == 6 and lines[("forms", 0, "columns", 1, "带引号")] == 6
    assert lines[("forms", 1, "survey")] == 10 and lines[("forms", 1, "survey", "unit")] == 11
    assert lines[("nodes", "total", "parts", "a")] == 13
    assert lines[("nodes", "leaf")] == 15 and lines[("nodes", "leaf", "label")] == 15


def test_errors_name_the_line_where_the_value_is_written(tmp_path):
    path = tmp_path / "s.toml"

    def located(text: str) -> list[str]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SchemeError) as exc:
            load_file(path)
        return exc.value.problems

    def line(text: str, needle: str) -> int:
        return next(n for n, t in enumerate(text.splitlines(), start=1) if needle in t)

    # a key written in the file: its own line; a key left out: its table's header
    text = SHORT.replace('rows = ["总体"]\n', "")
    header = line(text, 'id = "poll"') - 1
    assert located(text) == [f"forms[2]（第 {header} 行）：统计表必须给出 rows 和 options"]
    text = SHORT.replace('positive = ["满意"]', 'positive = ["很满意"]')
    assert located(text) == [f"nodes.poll.positive（第 {line(text, 'poll = {')} 行）：选项“很满意”不是表格“poll”的选项"
                             "（可选：满意、不满意）"]
    # a default's mistake: at the default's line, once for all the entries it fills
    text = SHORT.replace("min = 0\n", "min = -1e12\n")
    assert located(text) == [f"forms[1].columns[1].min（第 {line(text, 'min = -1e12')} 行）：应不小于 -1000000000，"
                             "填写的是 -1e+12（同一处写法用于 2 处，只列出第一处）"]
    # a value of a choice: at the choice
    text = SHORT.replace('"档次" = { A = 1.0, B = 0.8 }', '"档次" = { A = 1.0, B = 1e12 }')
    assert located(text) == [f"nodes.a.letters.B（第 {line(text, '档次')} 行）：应不大于 1000000000，填写的是 1e+12"]
