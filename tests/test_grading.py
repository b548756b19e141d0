"""Grades under quotas: caps, floors, ties at the line, vetoes, thresholds; invariants by hypothesis."""

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from villagescore.core.grading import Candidate, grade_units, ranks
from villagescore.core.numbers import ceil_int, floor_int
from villagescore.core.scheme import Grading, Rule, Veto

from fractions import Fraction


def cands(scores, tb=None):
    return [Candidate(f"U{i:02d}", (D(str(s)), D(str((tb or {}).get(i, 0))))) for i, s in enumerate(scores)]


def grades(outcome):
    return {k: (v.grade, v.pending) for k, v in outcome.results.items()}


def test_caps_and_floors_for_ten(scheme):
    g = scheme.gradings[0]
    out = grade_units(g, cands([90, 89, 88, 87, 86, 85, 84, 83, 82, 81]))
    got = [v.grade for v in out.results.values()]
    assert got == ["好", "好", "中", "中", "中", "中", "中", "中", "中", "差"]
    assert [(q.allowed, q.actual) for q in out.quota] == [("≤ 2", 2), ("≥ 1", 1)]


def test_seven_villages_rounding(scheme):
    g = scheme.gradings[0]
    out = grade_units(g, cands([95, 90, 85, 80, 75, 70, 65]))
    got = [v.grade for v in out.results.values()]
    assert got.count("好") == 1  # floor(0.2 × 7) = 1
    assert got.count("差") == 1  # ceil(0.1 × 7) = 1


def test_tie_broken_by_tie_breaker(scheme):
    g = scheme.gradings[0]
    out = grade_units(g, cands([90, 88, 88, 80, 79, 78, 77, 76, 75, 70], tb={1: 85, 2: 86}))
    r = out.results
    assert r["U02"].grade == "好" and r["U01"].grade == "中"
    assert r["U02"].rank == 2 and r["U01"].rank == 3


def test_unbroken_tie_at_the_line_goes_to_committee(scheme):
    g = scheme.gradings[0]
    out = grade_units(g, cands([90, 88, 88, 80, 79, 78, 77, 76, 75, 70]))
    r = out.results
    assert r["U00"].grade == "好"
    assert r["U01"].grade is None and r["U01"].pending == ("好", "中")
    assert r["U02"].pending == ("好", "中")
    assert r["U01"].rank == r["U02"].rank == 2
    assert out.quota[0].actual == 1 and out.quota[0].pending == 2
    assert "待党委研究" in out.quota[0].note or out.notes


def test_tie_above_the_line_is_fine(scheme):
    g = scheme.gradings[0]
    out = grade_units(g, cands([90, 90, 80, 79, 78, 77, 76, 75, 74, 70]))
    assert [out.results[c].grade for c in ("U00", "U01")] == ["好", "好"]


def test_veto_forces_bottom_and_counts_toward_floor(scheme):
    g = scheme.gradings[0]
    cs = cands([90, 89, 88, 87, 86, 85, 84, 83, 82, 81])
    veto = scheme.vetoes[0]
    cs[0] = Candidate("U00", cs[0].key, (veto,))
    out = grade_units(g, cs)
    r = out.results
    assert r["U00"].grade == "差" and "一票否决" in r["U00"].reason
    assert r["U09"].grade == "中"  # the floor of 1 is already met by the veto
    assert [r[c].grade for c in ("U01", "U02")] == ["好", "好"]


def test_threshold_topn_nextshare_and_only_if():
    g = Grading(id="d", label="等次", by="total", grades=["先进", "良好", "合格", "不合格"], default="合格",
                rules=[Rule(grade="不合格", kind="below", score=D(60)),
                       Rule(grade="先进", kind="top_n", n=2, min_score=D(70)),
                       Rule(grade="良好", kind="next_share", share=D("0.3"))])
    out = grade_units(g, cands([95, 65, 85, 80, 59, 75, 72, 71, 90, 50]))
    r = {k: v.grade for k, v in out.results.items()}
    assert r["U00"] == "先进" and r["U08"] == "先进"
    assert r["U04"] == "不合格" and r["U09"] == "不合格"
    assert [r[c] for c in ("U02", "U03", "U05")] == ["良好"] * 3  # floor(0.3 × 10) = 3
    assert r["U06"] == r["U07"] == r["U01"] == "合格"
    veto = Veto(id="x", label="安全事故", forces={"d": "不合格"})
    cs = cands([95, 65, 85, 80, 59, 75, 72, 71, 90, 50])
    cs[0] = Candidate("U00", cs[0].key, (veto,))
    r2 = {k: v.grade for k, v in grade_units(g, cs).results.items()}
    assert r2["U00"] == "不合格" and r2["U08"] == "先进" and r2["U02"] == "先进"
    gated = g.model_copy(update={"rules": [Rule(grade="先进", kind="top_n", n=2,
                                                only_if={"grading": "x", "grades": ["好"]})]})
    cs = [Candidate("A", (D(90),), other={"x": "较好"}), Candidate("B", (D(80),), other={"x": "好"}),
          Candidate("C", (D(70),), other={"x": "好"})]
    r3 = {k: v.grade for k, v in grade_units(gated, cs).results.items()}
    assert r3 == {"A": "合格", "B": "先进", "C": "先进"}


def test_funds_consequence(scheme):
    g = scheme.gradings[0]
    cs = [Candidate(f"U{i}", (D(s),), funds_base=D("45000")) for i, s in enumerate([90, 80, 70, 60, 50])]
    out = grade_units(g, cs)
    assert out.results["U0"].funds_change == D("4500.00")
    assert out.results["U4"].funds_change == D("-4500.00")
    assert out.results["U2"].funds_change is None


scores = st.lists(st.integers(min_value=50, max_value=60), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(scores, st.lists(st.integers(0, 3), max_size=40), st.sampled_from(["0.2", "0.5", "0"]),
       st.sampled_from(["0.1", "0.3", "0"]))
def test_invariants(scheme, values, tbs, cap, floor):
    """Quotas never exceeded or missed, every unit in exactly one state, independent of input order."""
    g = scheme.gradings[0].model_copy(update={"rules": [Rule(grade="好", kind="cap", share=D(cap)),
                                                        Rule(grade="差", kind="floor", share=D(floor))]})
    cs = [Candidate(f"U{i:02d}", (D(v), D(tbs[i] if i < len(tbs) else 0))) for i, v in enumerate(values)]
    out = grade_units(g, cs)
    n = len(cs)
    res = out.results
    assert set(res) == {c.code for c in cs}
    for r in res.values():
        assert (r.grade is None) == bool(r.pending)  # exactly one: a grade or a pending choice
        assert r.grade is None or r.grade in g.grades
    good = sum(1 for r in res.values() if r.grade == "好")
    bad = sum(1 for r in res.values() if r.grade == "差")
    pend_good = sum(1 for r in res.values() if r.pending == ("好", "中"))
    pend_bad = sum(1 for r in res.values() if r.pending == ("中", "差"))
    cap_n = floor_int(Fraction(cap) * n)
    floor_n = ceil_int(Fraction(floor) * n)
    assert good <= cap_n
    if not pend_good:
        assert good == min(cap_n, n)
    if bad > 0 or pend_bad:
        assert bad <= max(floor_n, 0) or good + bad > n  # never more 差 than required
    if not pend_bad and not pend_good:
        assert bad == min(floor_n, n - good)
    # a higher key never gets a worse grade than a lower key
    order = {gr: i for i, gr in enumerate(g.grades)}
    keyed = sorted(cs, key=lambda c: c.key, reverse=True)
    graded = [order[res[c.code].grade] for c in keyed if res[c.code].grade]
    assert graded == sorted(graded)
    # same input in another order → same output
    again = grade_units(g, list(reversed(cs)))
    assert {k: (v.grade, v.pending, v.rank) for k, v in again.results.items()} == \
        {k: (v.grade, v.pending, v.rank) for k, v in res.items()}


@given(st.lists(st.integers(0, 5), min_size=1, max_size=20))
def test_ranks_competition(values):
    cs = [Candidate(f"U{i:02d}", (D(v),)) for i, v in enumerate(values)]
    r = ranks(cs)
    for c in cs:
        assert r[c.code] == 1 + sum(1 for o in cs if o.key > c.key)


def test_entered_grades_rank_by_score_and_respect_vetoes():
    from villagescore.core.grading import grade_entered

    g = Grading(id="xsxp", label="下述下评等次", by="total", grades=["好", "较好", "一般", "差"], default="较好",
                entered={"form": "committee", "field": "xsxp"})
    veto = Veto(id="v", label="严重违纪", forces={"xsxp": "差"})
    cs = [Candidate("A", (D(90),)), Candidate("B", (D(95),)), Candidate("C", (D(80),), (veto,))]
    out = grade_entered(g, cs, {"A": "好", "B": None, "C": "好"})
    r = out.results
    assert (r["A"].grade, r["A"].rank) == ("好", 2)
    assert r["B"].grade is None and r["B"].reason == "未录入等次"
    assert r["C"].grade == "差" and "严重违纪" in r["C"].reason
    assert {q.grade: q.actual for q in out.quota} == {"好": 1, "较好": 0, "一般": 0, "差": 1}


def test_entered_grade_cancelled_by_a_veto_moves_down():
    from villagescore.core.grading import grade_entered

    g = Grading(id="xsxp", label="下述下评等次", by="total", grades=["好", "较好", "一般", "差"], default="较好",
                entered={"form": "committee", "field": "xsxp"})
    late = Veto(id="late", label="材料报送严重滞后", cancels={"xsxp": ["好"]})
    worse = Veto(id="worse", label="通报批评", cancels={"xsxp": ["好", "较好"]})
    other = Veto(id="other", label="其他", cancels={"excellent": ["优秀"]})
    cs = [Candidate("A", (D(90),), (late,)), Candidate("B", (D(95),), (late,)), Candidate("C", (D(80),), (worse,)),
          Candidate("D", (D(70),), (other,))]
    out = grade_entered(g, cs, {"A": "好", "B": "一般", "C": "好", "D": "好"})
    r = out.results
    assert r["A"].grade == "较好"
    assert r["A"].reason == "一票否决：材料报送严重滞后，取消“好”，改为“较好”"
    assert (r["B"].grade, r["B"].reason) == ("一般", "按录入的等次")  # the entered grade is not cancelled
    assert r["C"].grade == "一般" and "一票否决：通报批评，取消“好”" in r["C"].reason  # 较好 is cancelled too
    assert (r["D"].grade, r["D"].reason) == ("好", "按录入的等次")  # a veto on another grading
    assert {q.grade: q.actual for q in out.quota} == {"好": 1, "较好": 1, "一般": 2, "差": 0}


def test_entered_grade_cancelled_with_nothing_below_is_left_ungraded():
    from villagescore.core.grading import grade_entered

    g = Grading(id="xsxp", label="下述下评等次", by="total", grades=["好", "差"], default="好",
                entered={"form": "committee", "field": "xsxp"})
    veto = Veto(id="v", label="严重问题", cancels={"xsxp": ["差"]})
    out = grade_entered(g, [Candidate("A", (D(90),), (veto,))], {"A": "差"})
    assert out.results["A"].grade is None and "取消“差”" in out.results["A"].reason
