from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from villagescore.core.numbers import ceil_int, dec, floor_int, nearest, round_half_up


def test_half_up_not_bankers():
    assert round_half_up(Decimal("2.345")) == Decimal("2.35")
    assert round_half_up(Decimal("2.335")) == Decimal("2.34")
    assert round_half_up(Decimal("0.125")) == Decimal("0.13")
    assert round_half_up(Decimal("-0.125")) == Decimal("-0.13")
    assert round_half_up(Fraction(1, 8)) == Decimal("0.13")
    assert round_half_up(Fraction(-1, 8)) == Decimal("-0.13")
    assert round_half_up(Fraction(1, 3)) == Decimal("0.33")
    assert round_half_up(Fraction(2, 3), 0) == Decimal("1")


def test_dec_from_text_and_float_repr():
    assert dec("88.52") == Decimal("88.52")
    assert dec(0.1) == Decimal("0.1")


@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=1000))
def test_fraction_rounding_matches_decimal(value):
    as_decimal = Decimal(value.numerator) / Decimal(value.denominator)
    # When the decimal expansion is exact enough, both roundings agree.
    if Fraction(as_decimal) == value:
        assert round_half_up(value) == round_half_up(as_decimal)
    assert abs(Fraction(round_half_up(value)) - value) <= Fraction(1, 200)


@given(st.fractions(min_value=0, max_value=100, max_denominator=50))
def test_floor_ceil(value):
    assert floor_int(value) <= value <= ceil_int(value)
    assert ceil_int(value) - floor_int(value) in (0, 1)


def test_nearest_whole_number_is_half_up():
    # a print scale or a length in pixels: .5 goes up, as 四舍五入 says (Python's round() gives 2 and 0)
    assert nearest(2.5) == 3
    assert nearest(0.5) == 1
    assert nearest(84.49) == 84
    assert nearest(7) == 7
