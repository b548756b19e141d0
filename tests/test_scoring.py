"""Each leaf aggregation and the component tree, against arithmetic written out by hand."""

from decimal import Decimal as D
from fractions import Fraction

from villagescore.core.records import Criterion, Row, Unit
from villagescore.core.scheme import BallotMean, Deduction, Direct, RegisterSum
from villagescore.core.scoring import LEAVES, Source, UnitInputs, combine_periods, score_unit

UNIT = Unit("QS01", "青山村", "村", "王小明")
CRIT = [Criterion("QS01", "班子队伍", i, f"细则{i}", D(10)) for i in range(1, 11)]


def row(n, **values):
    return Row(values=values, row=n, letters={k: "B" for k in values})


def ballot(n, scores, void=None):
    vals = {"serial": D(n), "void": void}
    vals.update({f"c{i:02d}": (None if s is None else D(str(s))) for i, s in enumerate(scores, start=1)})
    return row(n + 4, **vals)


def inputs(**rows):
    ui = UnitInputs(UNIT, "2025H1", CRIT)
    for k, v in rows.items():
        ui.rows[k] = v
        ui.sources[k] = Source("f.xlsx", "表", 20 if k == "ballot" else None)
    return ui


def leaf(scheme, nid, ui):
    node = scheme.nodes[nid]
    return LEAVES[type(node)](node, ui, nid)


def test_ballot_mean_counts_valid_only(scheme):
    rows = [ballot(1, [9] * 10), ballot(2, [8] * 9 + [8.5]), ballot(3, [None] * 10, void="是"),
            ballot(4, [7] * 9 + [None])]
    node = scheme.nodes["meeting"].model_copy(update={"min_valid": 1})
    out = LEAVES[type(node)](node, inputs(ballot=rows), "meeting")
    assert out.value == (Fraction(90) + Fraction("80.5")) / 2 == Fraction("85.25")
    assert out.inputs["有效票"] == 2 and out.inputs["收回"] == 4
    codes = [i.code for i in out.issues]
    assert codes.count("ballot-item-missing") == 1 and "void-ballot" in codes
    assert [b.status for b in out.ballots] == ["有效", "有效", "作废", "有错误"]


def test_ballot_trimmed_mean():
    node = BallotMean(label="m", form="ballot", agg="ballot_mean", trim=1, min_valid=1)
    rows = [ballot(1, [10] * 10), ballot(2, [5] * 10), ballot(3, [8] * 10), ballot(4, [9] * 10)]
    out = LEAVES[BallotMean](node, inputs(ballot=rows), "m")
    assert out.value == Fraction(170, 2)  # drop 100 and 50, mean of 80 and 90


def test_ballot_duplicate_serial_too_many_and_too_few(scheme):
    rows = [ballot(1, [9] * 10), ballot(1, [9] * 10)]
    ui = inputs(ballot=rows)
    ui.sources["ballot"] = Source("f.xlsx", "表", 1)
    out = leaf(scheme, "meeting", ui)
    codes = {i.code for i in out.issues}
    assert {"duplicate-serial", "too-many-ballots", "too-few-valid"} <= codes
    dup = next(i for i in out.issues if i.code == "duplicate-serial")
    assert dup.cell == "B5" and dup.params["other_row"] == 5


def test_callback_points_with_cap(scheme):
    rows = [row(5 + i, resolved=v) for i, v in enumerate(["是", "是", "否", "是", "是"])]
    out = leaf(scheme, "appeals", inputs(callback=rows))
    assert out.value == 40
    rows.append(row(11, resolved="是"))
    rows.append(row(12, resolved="是"))
    assert leaf(scheme, "appeals", inputs(callback=rows)).value == 50  # capped


def test_questionnaire_share(scheme):
    rows = [row(5, row="服务态度", 满意=D(30), 基本满意=D(6), 不满意=D(4)),
            row(6, row="服务响应", 满意=D(20), 基本满意=D(10), 不满意=D(10)),
            row(7, row="服务效果", 满意=D(25), 基本满意=D(5), 不满意=None)]
    out = leaf(scheme, "daily", inputs(questionnaire=rows))
    assert out.value == Fraction(30 * 96, 110)


def test_questionnaire_without_answers_is_an_error(scheme):
    out = leaf(scheme, "daily", inputs(questionnaire=[row(5, row="服务态度", 满意=D(0))]))
    assert out.value is None and out.issues[0].code == "no-answers"


def test_anonymous_deducts_once_per_item_never_below_zero(scheme):
    rows = [row(5, item="吃拿卡要", result="属实"), row(6, item="吃拿卡要", result="属实"),
            row(7, item="优亲厚友", result="不属实"), row(8, item="道德品行", result="待核实")]
    out = leaf(scheme, "style", inputs(anonymous=rows))
    assert out.value == 15
    assert [i.code for i in out.issues] == ["pending-verification"]
    every = [row(5 + i, item=x, result="属实") for i, x in enumerate(["侵占挪用", "吃拿卡要", "优亲厚友", "道德品行"])]
    assert leaf(scheme, "style", inputs(anonymous=every)).value == 0
    node = Deduction(label="s", form="anonymous", agg="deduction", start=D(20), per=D(15), distinct="item",
                     where={"result": ["属实"]}, floor=D(0))
    assert LEAVES[Deduction](node, inputs(anonymous=every[:2]), "s").value == 0


def test_direct_and_letters(scheme):
    assert leaf(scheme, "township", inputs(committee=[row(5, township=D("90.5"))])).value == Fraction("90.5")
    missing = leaf(scheme, "township", inputs(committee=[]))
    assert missing.value is None and missing.issues[0].code == "unit-row-missing"
    node = Direct(label="d", form="committee", agg="direct", field="township", max=D(13),
                  letters={"A": D(1), "B": D("0.9")})
    assert LEAVES[Direct](node, inputs(committee=[row(5, township="B")]), "d").value == Fraction("11.7")


def test_register_sum_by_level_and_status():
    node = RegisterSum(label="加减分", form="adj", agg="register_sum", points_by="level",
                       points_map={"省级表彰": D("0.5"), "县级批评": D("-0.2")}, where={"status": ["有效"]},
                       floor=D(-5))
    rows = [row(5, level="省级表彰", status="有效"), row(6, level="县级批评", status="有效"),
            row(7, level="省级表彰", status="申请撤销")]
    assert LEAVES[RegisterSum](node, inputs(adj=rows), "a").value == Fraction("0.3")


def test_bands_and_scale(scheme):
    from villagescore.core.scheme import SharePoints
    from villagescore.core.scoring import _post

    node = SharePoints(label="村述村评", form="q", agg="share_points", positive=["好", "较好"], points=D(1),
                       bands=[{"at_least": D("0.9"), "value": D(90)}, {"at_least": D("0.8"), "value": D(80)},
                              {"at_least": D("0.7"), "value": D(70)}, {"at_least": D("0.6"), "value": D(60)},
                              {"at_least": D(0), "value": D(40)}], scale=D("0.05"))
    assert _post(node, Fraction(85, 100)) == 4
    assert _post(node, Fraction(59, 100)) == 2
    assert _post(node, Fraction(9, 10)) == Fraction(9, 2)


def full_inputs(meeting_totals, resolved, sat, basic, unsat, true_items, township, county):
    ballots = []
    for n, total in enumerate(meeting_totals, start=1):
        ballots.append(ballot(n, [D(str(total)) / 10] * 10))
    return inputs(
        ballot=ballots,
        callback=[row(5 + i, resolved="是" if i < resolved else "否") for i in range(5)],
        questionnaire=[row(5, row="服务态度", 满意=D(sat), 基本满意=D(basic), 不满意=D(unsat))],
        anonymous=[row(5 + i, item=x, result="属实") for i, x in enumerate(true_items)],
        committee=[row(5, township=D(str(township)), county=D(str(county)))],
    )


def test_composite_worked_example(scheme):
    """meeting mean 85.5, instant 50+27+15 = 92 → reverse 86.8; 0.4×86.8 + 0.5×90 + 0.1×88 = 88.52."""
    ui = full_inputs([85] * 5 + [86] * 5 + [85.5] * 2, 5, 80, 10, 10, ["吃拿卡要"], 90, 88)
    sc = score_unit(scheme, ui)
    v = sc.values
    assert v["meeting"] == Fraction("85.5")
    assert (v["appeals"], v["daily"], v["style"]) == (50, 27, 15)
    assert v["instant"] == 92
    assert v["reverse"] == Fraction("86.8")
    assert v["composite"] == Fraction("88.52")


def test_a_form_already_reported_gives_its_leaves_no_value_and_no_further_issue(scheme):
    """A missing or conflicting form is said once where it is found: the leaves reading it stay without a value,
    a source or an issue of their own, while the other forms' leaves are scored and report as usual."""
    ui = full_inputs([85] * 12, 5, 80, 10, 10, [], 90, 88)
    ui.rows["ballot"] = []
    ui.sources["ballot"] = Source(reported=True)
    ui.rows["callback"] = [row(5, resolved=None)]  # a blank cell: reported by the callback leaf
    sc = score_unit(scheme, ui)
    assert sc.values["meeting"] is None and sc.values["reverse"] is None and sc.values["composite"] is None
    meeting = next(d for d in sc.details if d.node == "meeting")
    assert meeting.source == "" and sc.values["township"] == 90
    assert "too-few-valid" not in {i.code for i in sc.issues} and {i.file for i in sc.issues} <= {"f.xlsx"}
    assert next(d for d in sc.details if d.node == "township").source == "f.xlsx / 表"
    ui.sources["ballot"] = Source("f.xlsx", "表", 20)  # not reported yet: the leaf says why it has no value
    assert "too-few-valid" in {i.code for i in score_unit(scheme, ui).issues}


def test_annual_is_weighted_mean_of_halves(scheme):
    h1 = {"composite": Fraction("88.52"), "reverse": Fraction("86.8")}
    h2 = {"composite": Fraction("90.01"), "reverse": Fraction("80")}
    year = combine_periods(scheme, {"2025H1": h1, "2025H2": h2})
    assert year["composite"] == Fraction("89.265") and year["reverse"] == Fraction("83.4")
    assert combine_periods(scheme, {"2025H1": h1, "2025H2": {"composite": None, "reverse": None}})["composite"] is None


def test_rounding_each_node(scheme):
    each = scheme.model_copy(update={"scheme": scheme.scheme.model_copy(update={"rounding": "each"})})
    ui = full_inputs([85.55] * 3 + [85.56] * 3 + [85.57] * 3, 5, 2, 1, 0, [], 90, 88)
    end_v = score_unit(scheme, ui).values
    each_v = score_unit(each, ui).values
    assert end_v["meeting"] == Fraction("85.56")
    assert end_v["daily"] == 30 and each_v["meeting"] == Fraction("85.56")
    assert all(Fraction(v).denominator in (1, 2, 4, 5, 10, 20, 25, 50, 100) for v in each_v.values())


def test_share_points_with_option_weights():
    from villagescore.core.scheme import SharePoints

    node = SharePoints(label="民主测评", form="votes", agg="share_points", points=D(100), field="vote",
                       weights={"好": D(1), "较好": D("0.8"), "一般": D("0.6"), "差": D(0)})
    rows = [row(5 + i, vote=v) for i, v in enumerate(["好", "好", "较好", "一般", "差", None])]
    out = LEAVES[SharePoints](node, inputs(votes=rows), "v")
    assert out.value == Fraction(100) * (2 + Fraction("0.8") + Fraction("0.6")) / 5  # the blank is no answer


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.decimals(min_value=-10**6, max_value=10**6, allow_nan=False, allow_infinity=False, places=4))
def test_ballot_numbers_format_as_the_exact_rounding_does(value):
    from villagescore.core.numbers import exact, round_half_up
    from villagescore.core.scoring import _fmt

    general = f"{round_half_up(exact(value), 4):f}".rstrip("0").rstrip(".") or "0"
    assert _fmt(value) == general
    assert _fmt(value.quantize(D(1))) == (f"{round_half_up(Fraction(value.quantize(D(1))), 4):f}"
                                               .rstrip("0").rstrip(".") or "0")
