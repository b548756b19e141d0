import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from villagescore.core.scheme import SchemeError, load_scheme
from villagescore.io import schemes

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "pingbian.toml"


def raw():
    return tomllib.loads(TEMPLATE.read_text(encoding="utf-8"), parse_float=Decimal)


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
    assert "forms[1].evaluatorz：不认识的键（拼写错误？）" in out
    assert "nodes.meeting：agg 取值不认识" in out


def test_quota_share_above_one():
    data = raw()
    data["gradings"][0]["rules"][0]["share"] = Decimal("1.5")
    assert any(p.startswith("gradings[1].rules[1]") and "0 到 1" in p for p in problems(data))


def test_unknown_form_and_column():
    data = raw()
    data["nodes"]["style"]["distinct"] = "itemz"
    data["nodes"]["township"]["form"] = "nope"
    out = problems(data)
    assert "nodes.style：表格“anonymous”没有列“itemz”" in out
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
