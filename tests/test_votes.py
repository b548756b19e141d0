"""Vote counting (系统 B) as a pure function: entered ballots or a hand tally, never both."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from villagescore.core.records import Row
from villagescore.core.scheme import VoteBallot
from villagescore.core.votes import count_votes

FORM = VoteBallot(id="vote", kind="vote_ballot", title="民主测评表", self_label="总体评价", members=["书记"],
            options=["好", "较好", "一般", "差"], evaluators=50)
TARGETS = [("self", "总体评价"), ("P1", "甲（书记）"), ("P2", "乙（村干部）")]
WHERE = {"file": "f.xlsx", "sheet": "民主测评表", "tally_sheet": "测评结果汇总", "unit": "V1", "period": "2025"}

vote = st.one_of(st.none(), st.sampled_from(FORM.options))
ballot = st.tuples(st.lists(vote, min_size=3, max_size=3), st.booleans())


def rows(ballots):
    return [Row({"serial": Decimal(i), **{k: v for (k, _), v in zip(TARGETS, votes)},
                 "void": "是" if void else None}, i + 4)
            for i, (votes, void) in enumerate(ballots, start=1)]


@settings(max_examples=150, deadline=None)
@given(st.lists(ballot, min_size=1, max_size=30))
def test_every_valid_vote_counted_once_and_void_ballots_never(ballots):
    vc = count_votes(FORM, TARGETS, rows(ballots), [], issued=50, **WHERE)
    entered = [(v, void) for v, void in ballots if void or any(x is not None for x in v)]
    if not entered:
        assert [i.code for i in vc.issues] == ["vote-none"] and not vc.per_target
        return
    valid = [v for v, void in ballots if not void and any(x is not None for x in v)]
    assert vc.how == "逐票录入" and vc.valid == len(valid)
    for i, (key, _) in enumerate(TARGETS):
        counts = {o: vc.per_target[key].values[o] for o in FORM.options}
        assert counts == {o: Decimal(sum(1 for v in valid if v[i] == o)) for o in FORM.options}
        assert sum(counts.values()) <= vc.valid
    assert [b.status for b in vc.ballots].count("有效") == len(valid)


def test_tally_and_ballots_together_are_refused():
    tally = [Row({"who": "self", "row": "总体评价", "好": Decimal(3)}, 5)]
    vc = count_votes(FORM, TARGETS, rows([(["好", "好", "好"], False)]), tally, **WHERE)
    assert [i.code for i in vc.issues] == ["vote-both-ways"] and vc.per_target == {}


def test_tally_blank_cells_count_zero_and_missing_people_are_named():
    tally = [Row({"who": "self", "row": "总体评价", "好": Decimal(3), "较好": Decimal(1)}, 5, {"好": "C"}),
             Row({"who": "P1", "row": "甲（书记）", "好": Decimal(2), "差": Decimal(2)}, 6)]
    vc = count_votes(FORM, TARGETS, [], tally, **WHERE)
    assert vc.how == "测评结果汇总"
    assert vc.per_target["self"].values == {"row": "总体评价", "好": 3, "较好": 1, "一般": 0, "差": 0}
    assert [(i.code, i.params.get("who")) for i in vc.issues] == [("vote-tally-missing", "乙（村干部）")]
