import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from villagescore.core.scheme import SchemeError, load_scheme
from villagescore.io import schemes

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "pingbian.toml"


def raw(name: str = "pingbian"):
    path = TEMPLATE.with_name(f"{name}.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def test_builtin_scheme_loads(scheme):
    assert scheme.scheme.id == "pingbian"
    assert scheme.nodes["composite"].weights == {"reverse": Decimal("0.4"), "township": Decimal("0.5"),
                                                 "county": Decimal("0.1")}
    assert scheme.nodes["reverse"].weights == {"meeting": Decimal("0.8"), "instant": Decimal("0.2")}
    assert scheme.gradings[0].rules[0].share == Decimal("0.20")
    assert scheme.annual.weights == {"H1": Decimal("0.5"), "H2": Decimal("0.5")}
    assert "pingbian" in schemes.builtin_names()


def test_order_children_first(scheme):
    order = scheme.order()
    assert order.index("meeting") < order.index("reverse") < order.index("composite")


def problems(data):
    with pytest.raises(SchemeError) as exc:
        load_scheme(data, "x.toml")
    return exc.value.problems


def test_weights_must_add_up():
    data = raw()
    data["nodes"]["composite"]["parts"]["reverse"] = Decimal("0.5")
    assert problems(data) == ["nodes.composite.parts：权重合计为 1.1，应为 1"]


def test_unknown_key_and_agg_named_by_path():
    data = raw()
    data["forms"][0]["evaluatorz"] = 3
    data["nodes"]["meeting"]["agg"] = "median"
    out = problems(data)
    assert "forms[1].evaluatorz：score_ballot 表格不认识的键（拼写错误？）" in out
    assert "nodes.meeting：agg 取值不认识" in out


def test_each_form_kind_takes_only_its_own_keys():
    data = raw()
    data["forms"][1]["evaluators"] = 3  # the callback form
    data["forms"][2]["track"] = {"open": ["未整改"]}  # the questionnaire tally
    assert problems(data) == ["forms[2].evaluators：callback 表格没有此项（evaluators 只用于 score_ballot、vote_ballot 表格）",
                              "forms[3].track：tally 表格没有此项（track 只用于 register 表格）"]
    data = raw()
    data["forms"][2]["kind"] = "talley"
    del data["forms"][3]["kind"]
    kinds = "score_ballot、vote_ballot、callback、tally、register、unit_scores"
    assert problems(data) == [f"forms[3]：kind 取值不认识（可选：{kinds}）", f"forms[4]：缺少 kind（表格类型：{kinds}）"]


def test_quota_share_above_one():
    data = raw()
    data["gradings"][0]["rules"][0]["share"] = Decimal("1.5")
    assert any(p.startswith("gradings[1].rules[1]") and "0 到 1" in p for p in problems(data))


def test_refill_only_on_top_n():
    data = raw()
    data["gradings"][0]["rules"][0]["refill"] = False  # pingbian's 好 is a cap (“不超过20%”)
    assert problems(data) == ["gradings[1].rules[1]：refill（空出的名额是否递补）只用于 top_n 规则"]


def test_unknown_form_and_column():
    data = raw()
    data["nodes"]["style"]["distinct"] = "itemz"
    data["nodes"]["township"]["form"] = "nope"
    out = problems(data)
    assert "nodes.style.distinct：表格“anonymous”没有列“itemz”" in out
    assert "nodes.township.form：表格“nope”不存在" in out


def test_missing_node_and_grade():
    data = raw()
    data["gradings"][0]["tie_breakers"] = ["ghost"]
    data["gradings"][0]["default"] = "良"
    out = problems(data)
    assert any("default" in p and "良" in p for p in out)


def test_bad_toml_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[scheme\nid=1", encoding="utf-8")
    with pytest.raises(SchemeError) as exc:
        schemes.load(str(f))
    assert "TOML 格式错误" in exc.value.problems[0]


def test_missing_file_lists_builtins(tmp_path):
    with pytest.raises(SchemeError) as exc:
        schemes.load(str(tmp_path / "none.toml"))
    assert "pingbian" in exc.value.problems[0]


def test_sum_with_signed_factors():
    data = raw()
    data["nodes"]["instant"]["parts"] = {"appeals": 1, "daily": 1, "style": -1}
    s = load_scheme(data, "x.toml")
    assert s.nodes["instant"].weights["style"] == -1


def test_entered_grading_must_name_a_real_column():
    data = raw()
    data["gradings"][0]["entered"] = {"form": "committee", "field": "nope"}
    assert any("entered" in p and "nope" in p for p in problems(data))


# ------------------------------------------------------------------ option names, vetoes, columns by key path


def test_share_points_options_must_be_the_tally_options():
    data = raw()
    data["nodes"]["daily"]["positive"] = ["满意", "很满意"]
    assert problems(data) == ["nodes.daily.positive：选项“很满意”不是表格“questionnaire”的选项"
                              "（可选：满意、基本满意、不满意）"]
    data = raw("shuocheng")
    data["nodes"]["mass"]["weights"] = {"很满意": 1, "基本满意": Decimal("0.5"), "不满意": 0}
    assert problems(data) == ["nodes.mass.weights：选项“很满意”不是表格“mass”的选项（可选：满意、基本满意、不满意）"]


def test_count_points_match_on_a_tally_and_on_an_option_column():
    data = raw()
    data["nodes"]["daily"] = {"label": "满意票", "agg": "count_points", "form": "questionnaire",
                              "match": ["满意", "非常满意"], "points": 1}
    data["nodes"]["appeals"]["match"] = ["已解决"]
    out = problems(data)
    assert "nodes.daily.match：选项“非常满意”不是表格“questionnaire”的选项（可选：满意、基本满意、不满意）" in out
    assert "nodes.appeals.match：选项“已解决”不是表格“callback”列“resolved”的选项（可选：是、否）" in out
    assert len(out) == 2


def test_free_text_columns_take_any_option_name():
    data = raw()
    data["nodes"]["appeals"]["field"] = "visitor"  # a text column: nothing to check against
    data["nodes"]["appeals"]["match"] = ["张三"]
    data["nodes"]["style"]["where"] = {"content": ["任意文字"]}
    data["nodes"]["township"]["letters"] = {"A": 1, "B": Decimal("0.9")}  # a number column
    load_scheme(data, "x.toml")


def test_where_values_must_be_options_of_the_column():
    data = raw()
    data["nodes"]["style"]["where"] = {"result": ["属实", "确实"]}
    assert problems(data) == ["nodes.style.where.result：选项“确实”不是表格“anonymous”列“result”的选项"
                              "（可选：属实、不属实、待核实）"]
    data = raw("shuocheng")
    data["nodes"]["bonus"]["where"] = {"kind": ["奖励"]}
    assert problems(data) == ["nodes.bonus.where.kind：选项“奖励”不是表格“adjust”列“kind”的选项（可选：加分、减分）"]


def test_letters_must_be_options_of_the_column():
    data = raw("dazhou_street")
    data["nodes"]["anquan"]["letters"] = {"A": 1, "B": Decimal("0.9"), "F": Decimal("0.6")}
    assert problems(data) == ["nodes.anquan.letters：档次“F”不是表格“dept_aj”列“anquan”的选项（可选：A、B、C、D、E）"]


def test_veto_cancels_must_name_real_gradings_and_grades():
    data = raw()
    data["vetoes"][0]["cancels"] = {"grade": ["优秀"], "ghost": ["好"]}
    out = problems(data)
    assert "vetoes.serious.cancels：等次“grade=优秀”不存在（“grade”的等次：好、中、差）" in out
    assert "vetoes.serious.cancels：等次“ghost”不存在" in out
    assert len(out) == 2
    data = raw()
    data["vetoes"][0]["cancels"] = {"grade": ["好"]}
    load_scheme(data, "x.toml")


def test_no_field_on_tally_or_vote_ballot_leaves():
    data = raw()
    data["nodes"]["daily"]["field"] = "服务态度"
    assert problems(data) == ["nodes.daily.field：表格“questionnaire”是统计表，按选项计数，不应给出 field（“服务态度”）"]
    data = raw()
    data["scheme"]["member_types"] = ["书记"]
    data["forms"].append({"id": "vote", "kind": "vote_ballot", "title": "民主测评票", "self_label": "总体评价",
                          "options": ["好", "较好", "一般", "差"]})
    data["nodes"]["daily"] = {"label": "测评", "agg": "share_points", "form": "vote", "field": "self",
                              "positive": ["好", "优"], "points": 30}
    out = problems(data)
    assert "nodes.daily.field：表格“vote”是投票测评票，按选项计数，不应给出 field（“self”）" in out
    assert "nodes.daily.positive：选项“优”不是表格“vote”的选项（可选：好、较好、一般、差）" in out
    data["nodes"]["daily"] = {"label": "测评", "agg": "share_points", "form": "vote", "positive": ["好", "较好"],
                              "points": 30}
    load_scheme(data, "x.toml")


def test_field_on_score_ballot_leaves_is_not_checked():
    data = raw()
    data["nodes"]["appeals"]["form"] = "ballot"
    data["nodes"]["appeals"]["field"] = "whatever"
    load_scheme(data, "x.toml")


def test_unknown_columns_named_by_the_key_that_names_them():
    data = raw()
    data["nodes"]["appeals"]["field"] = "solved"
    data["nodes"]["style"]["distinct"] = "itemz"
    data["nodes"]["style"]["where"] = {"reslt": ["属实"]}
    out = problems(data)
    assert "nodes.appeals.field：表格“callback”没有列“solved”" in out
    assert "nodes.style.distinct：表格“anonymous”没有列“itemz”" in out
    assert "nodes.style.where：表格“anonymous”没有列“reslt”" in out
    data = raw("dazhou_street")
    data["nodes"]["adjust"]["points_by"] = "kindx"
    assert problems(data) == ["nodes.adjust.points_by：表格“adjust”没有列“kindx”"]


@pytest.mark.parametrize("name", schemes.builtin_names())
def test_builtin_templates_pass_the_option_checks(name):
    schemes.load(name)


def test_register_rule_names_the_points_by_column_by_its_label():
    from villagescore.core.scoring import describe_leaf

    scheme = schemes.load("dazhou_street")
    text = describe_leaf(scheme, scheme.nodes["adjust"])
    assert "按“级别/类别”计分合计" in text and "kind" not in text


def test_list_where_values_are_the_columns_options():
    import tomllib

    from villagescore.io.schemes import builtin_dir

    data = tomllib.loads((builtin_dir() / "county_dynamic.toml").read_text("utf-8"), parse_float=str)
    data["lists"][-1]["where"] = {"status": ["申请撤消"]}
    with pytest.raises(SchemeError) as exc:
        load_scheme(data)
    assert any(p.startswith("lists[4].where.status：选项“申请撤消”不是表格“adjust”列“status”的选项")
               for p in exc.value.problems)
