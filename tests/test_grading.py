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
    # 好 ≤ floor(0.2 × 10) = 2: U00 has one, the tied pair holds the other; the committee picks which of the two
    tie = r["U01"].tie
    assert tie is r["U02"].tie and tie.units == ("U01", "U02")
    assert (tie.inside, tie.count(tie.inside), tie.outside, tie.places) == ("好", 1, "中", (("好", 1), ("中", 1)))
    assert out.quota[0].actual == 1 and out.quota[0].pending == 1
    assert "另有 1 个名额由待党委研究的同分单位（U01、U02）占用" in out.quota[0].note
    assert "其中哪 1 个单位为“好”、其余为“中”" in out.notes[0]


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


def _possible(res, g):
    """Each unit's possible grades (one, or its pending tie's) as positions in the grading's order."""
    order = {gr: i for i, gr in enumerate(g.grades)}
    return {k: [order[x] for x in (r.tie.grades if r.tie else (r.grade,))] for k, r in res.items()}


def _totals(res, g):
    """Units of each grade once the committee has decided, whatever it decides: a pending tie's places are fixed."""
    out = dict.fromkeys(g.grades, 0)
    for r in res.values():
        if r.grade:
            out[r.grade] += 1
    for tie in {r.tie for r in res.values() if r.tie}:
        for gr, k in tie.places:
            out[gr] += k
    return out


def _states_and_order(cs, res, g, capped=frozenset()):
    """Every unit in exactly one state; a pending tie's places add up to its units, all tied, two grades or more;
    a higher key never has a possible grade worse than a possible grade of a lower key (but for ``capped`` units, kept
    out of the top grade by a veto)."""
    assert set(res) == {c.code for c in cs}
    key = {c.code: c.key for c in cs}
    for code, r in res.items():
        assert (r.grade is None) == (r.tie is not None) == bool(r.pending)
        assert r.grade is None or r.grade in g.grades
        if r.tie:
            assert code in r.tie.units and r.pending == r.tie.grades
            assert sum(k for _, k in r.tie.places) == len(r.tie.units) and len(r.tie.places) >= 2
            assert len({key[x] for x in r.tie.units}) == 1
            assert all(res[x].tie == r.tie for x in r.tie.units)
            assert r.tie.inside in r.tie.grades and r.tie.outside in r.tie.grades and r.tie.inside != r.tie.outside
    pos = _possible(res, g)
    for a in cs:
        for b in cs:
            if a.key > b.key and a.code not in capped:
                assert max(pos[a.code]) <= min(pos[b.code]), (a.code, b.code)


@settings(max_examples=300, deadline=None)
@given(scores, st.lists(st.integers(0, 3), max_size=40), st.sampled_from(["0.2", "0.5", "0"]),
       st.sampled_from(["0.1", "0.3", "0"]))
def test_invariants(scheme, values, tbs, cap, floor):
    """Quotas never exceeded or missed whatever the committee decides on a pending tie, every unit in exactly one
    state, independent of input order."""
    g = scheme.gradings[0].model_copy(update={"rules": [Rule(grade="好", kind="cap", share=D(cap)),
                                                        Rule(grade="差", kind="floor", share=D(floor))]})
    cs = [Candidate(f"U{i:02d}", (D(v), D(tbs[i] if i < len(tbs) else 0))) for i, v in enumerate(values)]
    out = grade_units(g, cs)
    n = len(cs)
    res = out.results
    _states_and_order(cs, res, g)
    total = _totals(res, g)
    cap_n = floor_int(Fraction(cap) * n)
    floor_n = ceil_int(Fraction(floor) * n)
    # the cap is filled exactly (a tie's places inside the line count), then the floor from what is left
    assert total["好"] == min(cap_n, n)
    assert total["差"] == min(floor_n, n - total["好"])
    lines = {q.grade: q for q in out.quota}
    assert all(lines[gr].actual + lines[gr].pending == total[gr] for gr in ("好", "差"))
    # same input in another order → same output
    again = grade_units(g, list(reversed(cs)))
    assert {k: (v.grade, v.pending, v.rank, v.tie) for k, v in again.results.items()} == \
        {k: (v.grade, v.pending, v.rank, v.tie) for k, v in res.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=55, max_value=62), min_size=1, max_size=30),
       st.lists(st.booleans(), max_size=30), st.integers(0, 6), st.sampled_from(["0.3", "0.5", "0.1"]),
       st.booleans())
def test_invariants_top_n_next_share_and_vetoes(values, cancelled, top, share, refill):
    """System D's kind of rules (a threshold, a fixed count, then a share of the rest) with vetoes that cancel the
    top grade: for every committee decision no quota is exceeded; a vetoed unit can always be kept out of 先进.
    Without refill, a vetoed unit's place among the first ``top`` of the ranking stays empty and nobody ranked
    below the first ``top`` is 先进."""
    g = Grading(id="d", label="等次", by="total", grades=["先进", "良好", "合格", "不合格"], default="合格",
                rules=[Rule(grade="不合格", kind="below", score=D(57)),
                       Rule(grade="先进", kind="top_n", n=top, refill=refill),
                       Rule(grade="良好", kind="next_share", share=D(share))])
    veto = Veto(id="x", label="通报批评", cancels={"d": ["先进"]})
    cs = [Candidate(f"U{i:02d}", (D(v),), (veto,) if i < len(cancelled) and cancelled[i] else ())
          for i, v in enumerate(values)]
    out = grade_units(g, cs)
    res = out.results
    n = len(cs)
    _states_and_order(cs, res, g, capped={c.code for c in cs if c.vetoes})
    total = _totals(res, g)
    eligible = [c for c in cs if c.score >= 57]
    assert total["不合格"] == n - len(eligible)
    open_ = sum(1 for c in eligible if not c.vetoes)
    if refill:
        assert total["先进"] == min(top, open_)
    else:  # count the vetoed units at each score from the top: they take the places left there first
        pos = vacant = 0
        for score in sorted({c.score for c in eligible}, reverse=True):
            block = [c for c in eligible if c.score == score]
            vacant += min(sum(1 for c in block if c.vetoes), max(min(top, n) - pos, 0))
            pos += len(block)
        assert total["先进"] == min(max(min(top, n) - vacant, 0), open_)
        line = next(q for q in out.quota if q.grade == "先进")
        assert len(line.vacated) == vacant
        for c in cs:
            if res[c.code].grade == "先进" or "先进" in res[c.code].pending:
                assert sum(1 for o in eligible if o.score > c.score) < top
    assert total["良好"] <= floor_int(Fraction(share) * n)
    assert total["良好"] == min(floor_int(Fraction(share) * n), len(eligible) - total["先进"])
    for c in cs:
        r = res[c.code]
        if c.vetoes:
            assert r.grade != "先进"
            if r.tie:  # the tie's 先进 places can go to its members without the veto
                assert r.tie.count("先进") <= sum(1 for x in r.tie.units if not cs[int(x[1:])].vetoes)
        if c.score < 57:
            assert r.grade == "不合格"


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


def _d_grading(share="0.3"):
    return Grading(id="d", label="考核等次", by="total", grades=["先进", "良好", "合格", "不合格"], default="合格",
                   rules=[Rule(grade="不合格", kind="below", score=D(60)), Rule(grade="先进", kind="top_n", n=5),
                          Rule(grade="良好", kind="next_share", share=D(share))])


def test_a_pending_tie_keeps_its_place_in_the_next_share():
    """Two units tie at 5th place (先进: top 5). One will be 先进 and the other 良好, whichever the committee
    picks: 良好 = floor(0.3 × 10) = 3 places, one held by the pair, so only two more units get 良好."""
    out = grade_units(_d_grading(), cands([99, 98, 97, 96, 95, 95, 90, 89, 88, 87]))
    r = {k: v.grade for k, v in out.results.items()}
    assert [r[f"U0{i}"] for i in range(5)] == ["先进"] * 4 + [None]
    assert (r["U06"], r["U07"], r["U08"], r["U09"]) == ("良好", "良好", "合格", "合格")
    tie = out.results["U04"].tie
    assert tie.units == ("U04", "U05") and tie.places == (("先进", 1), ("良好", 1))
    assert (tie.inside, tie.outside, tie.count(tie.inside)) == ("先进", "良好", 1)
    lines = {q.grade: (q.allowed, q.actual, q.pending) for q in out.quota}
    assert lines["先进"] == ("≤ 5", 4, 1) and lines["良好"] == ("≤ 3", 2, 1)


def test_a_tie_straddling_two_lines_holds_places_in_both():
    """Five units tie at 5th–9th place of ten: 1 先进 place left, then 3 良好 (floor(0.3 × 10)), then the last
    of them 合格: the committee places 1 + 3 + 1 among the five; the 10th unit is 合格."""
    out = grade_units(_d_grading(), cands([99, 98, 97, 96, 90, 90, 90, 90, 90, 80]))
    tie = out.results["U04"].tie
    assert tie.units == ("U04", "U05", "U06", "U07", "U08")
    assert tie.places == (("先进", 1), ("良好", 3), ("合格", 1))
    assert (tie.inside, tie.outside) == ("先进", "良好")
    assert out.results["U09"].grade == "合格"
    lines = {q.grade: (q.actual, q.pending) for q in out.quota}
    assert lines["先进"] == (4, 1) and lines["良好"] == (0, 3)
    assert "1 个为“先进”、3 个为“良好”、1 个为“合格”" in out.notes[0]


def test_bottom_line_ties_offer_the_grade_outside_the_line():
    """A tie at a bottom line offers the floor's grade or what the units above the line actually get (the
    default), never a grade built from list order (集中约谈/集中约谈, 前三名/后三名)."""
    talk = Grading(id="talk", label="集中约谈", by="total", grades=["集中约谈", "否"], default="否",
                   rules=[Rule(grade="集中约谈", kind="floor", share=D("0.05"), round="down")])
    out = grade_units(talk, cands([90 - i for i in range(38)] + [50, 50]))  # 40 units: floor(0.05 × 40) = 2
    assert out.results["U38"].grade == out.results["U39"].grade == "集中约谈"
    out = grade_units(talk, cands([90 - i for i in range(37)] + [50, 50, 50]))  # three tied for two places
    tie = out.results["U37"].tie
    assert tie.places == (("集中约谈", 2), ("否", 1)) and (tie.inside, tie.outside) == ("集中约谈", "否")
    assert out.results["U37"].pending == ("集中约谈", "否")
    speak = Grading(id="speak", label="擂台发言", by="total", grades=["前三名", "后三名", "否"], default="否",
                    rules=[Rule(grade="前三名", kind="top_n", n=3), Rule(grade="后三名", kind="floor", n=3)])
    # ten units, the 7th and 8th tied: the bottom three are the 9th, 10th and one of the pair
    out = grade_units(speak, cands([99, 98, 97, 96, 95, 94, 80, 80, 70, 60]))
    tie = out.results["U06"].tie
    assert tie.places == (("后三名", 1), ("否", 1)) and tie.outside == "否"
    assert out.results["U06"].pending == ("后三名", "否")
    assert {out.results[c].grade for c in ("U08", "U09")} == {"后三名"}
    assert [q.pending for q in out.quota] == [0, 1]


def test_floor_rounding_follows_the_rule():
    """A floor rounds up unless the rule says down (seed 002: 26 of 531 in the bottom 5%, 531 × 5% = 26.55)."""
    up = Rule(grade="集中约谈", kind="floor", share=D("0.05"))
    down = Rule(grade="集中约谈", kind="floor", share=D("0.05"), round="down")
    g = Grading(id="talk", label="集中约谈", by="total", grades=["集中约谈", "否"], default="否", rules=[down])
    out = grade_units(g, [Candidate(f"U{i:03d}", (D(1000 - i),)) for i in range(531)])
    assert sum(1 for r in out.results.values() if r.grade == "集中约谈") == 26
    assert out.quota[0].allowed == "≥ 26" and "（向下取整）" in out.quota[0].rule
    assert up.rounds_up and not down.rounds_up and "（向上取整）" in up.describe()


def test_withheld_reason_names_a_few_units_and_counts_the_rest(scheme):
    """The reason a grading is withheld stands on every unit's row of 汇总: a county with many units in error gets
    a short reason (five named, the rest counted), not the whole list on each of its rows."""
    from villagescore.core.grading import withheld

    g = scheme.gradings[0]
    codes = [f"V{i:02d}" for i in range(1, 41)]
    many = [f"第{i}村（V{i:02d}）" for i in range(1, 13)]
    outcome = withheld(g, codes, many)
    why = outcome.results["V01"].reason
    assert why.startswith("第1村（V01）、第2村（V02）、第3村（V03）、第4村（V04）、第5村（V05） 等 12 个单位 未算出得分")
    assert "第6村" not in why and "问题清单" in why
    assert {r.grade for r in outcome.results.values()} == {None} and len(outcome.results) == 40
    two = withheld(g, codes, many[:2]).results["V40"].reason
    assert two == f"第1村（V01）、第2村（V02） 未算出得分，{g.label}暂不评定"
