"""The run's spool: forms' rows and ballot lines kept in a temporary file, read back as they were."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from villagescore.core.records import BallotLine, Row
from villagescore.io.spool import Ballots, Spool, SpooledRows, pickled, spooled_rows

ROOT = Path(__file__).resolve().parent.parent


def _rows(n: int, base: int = 0) -> list[Row]:
    letters = {"serial": "A", "c01": "B"}
    return [Row({"serial": str(i), "c01": Decimal(i) / 2}, i + 5, letters) for i in range(base, base + n)]


def test_rows_read_back_on_first_use_and_let_go_when_cleared():
    spool = Spool()
    rows, tally = spooled_rows(spool, pickled(_rows(3), _rows(1, 9)))
    other_rows, _ = spooled_rows(spool, pickled(_rows(2, 5), []))
    assert isinstance(rows, SpooledRows) and list.__len__(rows) == 0  # nothing read yet
    assert [r.values for r in rows] == [r.values for r in _rows(3)]  # iterated: read back
    assert list.__len__(tally) == 1 and tally[0].get("serial") == "9"  # read with them
    assert len(other_rows) == 2 and other_rows[1].cell("c01") == "B11"
    rows.clear()
    assert len(rows) == 0 and not rows  # let go: never read again
    fresh, fresh_tally = spooled_rows(spool, pickled(_rows(2), []))
    fresh_tally.clear()
    assert len(fresh) == 2  # its partner let go first: still read back
    spool.close()


def test_rows_copied_or_pickled_are_plain_lists():
    spool = Spool()
    rows, _ = spooled_rows(spool, pickled(_rows(2), []))
    for copied in (copy.deepcopy(rows), pickle.loads(pickle.dumps(rows)), copy.copy(rows)):
        assert type(copied) is list and [r.values for r in copied] == [r.values for r in _rows(2)]
    assert rows == _rows(2) and repr(rows) == repr(_rows(2))
    with pytest.raises(TypeError):
        pickle.dumps(spool)  # stays in the process that made it


def _line(unit: str, serial: int, votes: str = "") -> BallotLine:
    return BallotLine(unit, "2025H1", str(serial), {"c01": Decimal(serial), f"c{serial % 3 + 2:02d}": None},
                      Decimal(serial), "有效", f"{unit}.xlsx", "测评票", serial + 4, votes)


@pytest.mark.parametrize("keep", [0, 3, 10**6])
def test_ballots_in_order_wherever_they_are_kept(monkeypatch, keep):
    monkeypatch.setattr(Ballots, "KEEP", keep)
    spool = Spool()
    score, votes = Ballots(spool), Ballots(spool)
    lines = [[_line("V2", i) for i in range(1, 4)], [], [_line("V1", i) for i in range(4, 9)]]
    for chunk in lines:
        score.extend(chunk)
    votes.extend([_line("V3", 9, "李明（书记）好")])
    both = score.then(votes)
    want = [*lines[0], *lines[2], _line("V3", 9, "李明（书记）好")]
    assert len(both) == 9 and list(both) == want and list(both) == want  # read again, the same
    assert both == want and copy.deepcopy(both) == want and type(pickle.loads(pickle.dumps(both))) is list
    keys, voted, units = both.about()
    assert keys == {"c01", "c02", "c03", "c04"} and voted and list(units) == ["V2", "V1", "V3"]
    assert not Ballots(spool) and len(score) == 8 and not score.about()[1]


def test_a_county_scored_from_the_spool_is_summarised_as_kept(monkeypatch, update_golden):
    """Every ballot line read back from the spool (none kept in memory), every table's rows made again for each
    reading, no formula remembered: the same summary, byte for byte."""
    import golden
    from test_summary_golden import WHEN

    from villagescore.io.schemes import load
    from villagescore.io.summary import build_summary, engine, trace
    from villagescore.pipeline import compute

    monkeypatch.setattr(Ballots, "KEEP", 0)
    monkeypatch.setattr(engine.Rows, "KEEP", 0)
    monkeypatch.setattr(trace, "CACHED", 1)
    qingshi = ROOT / "samples" / "qingshi"
    result = compute(load("pingbian"), [qingshi / "2025H1表格", qingshi / "2025H2表格"], period="2025")
    assert isinstance(result.ballots, Ballots) and all(isinstance(c, tuple) for c, _ in result.ballots._chunks)
    result.computed_at, result.tool_version = WHEN, "0.1.0"
    if not update_golden:
        golden.check("summary-qingshi-2025.xlsx", build_summary(result), False)
