from hypothesis import given
from hypothesis import strategies as st

from villagescore.core.draw import draw_requests
from villagescore.core.records import LedgerEntry


def ledger(unit, n):
    return [LedgerEntry(unit, f"{unit}-{i:03d}", content=f"诉求{i}") for i in range(1, n + 1)]


def test_same_inputs_same_draw():
    rows = ledger("QS01", 12) + ledger("QS02", 9)
    a = draw_requests(rows, "QS01", "2025H1", 1234, 5)
    b = draw_requests(list(reversed(rows)), "QS01", "2025H1", 1234, 5)  # ledger row order does not matter
    assert a.ids == b.ids and len(a.ids) == 5
    assert all(i.startswith("QS01-") for i in a.ids)
    assert not a.short


def test_seed_period_and_unit_change_the_draw():
    rows = ledger("QS01", 30)
    base = draw_requests(rows, "QS01", "2025H1", 1, 5).ids
    assert draw_requests(rows, "QS01", "2025H1", 2, 5).ids != base
    assert draw_requests(rows, "QS01", "2025H2", 1, 5).ids != base


def test_short_ledger_draws_all():
    d = draw_requests(ledger("QS06", 3), "QS06", "2025H1", 7, 5)
    assert d.short and d.available == 3 and len(d.ids) == 3


@given(st.integers(0, 40), st.integers(0, 10**6), st.integers(1, 8))
def test_draw_is_a_subset_without_repeats(n, seed, k):
    rows = ledger("U", n)
    d = draw_requests(rows, "U", "2025H1", seed, k)
    assert len(d.ids) == min(n, k) == len(set(d.ids))
    assert set(d.ids) <= {r.request_id for r in rows}
    assert list(d.ids) == sorted(d.ids)
