import datetime as dt
from decimal import Decimal

import pytest

from villagescore.core.issues import issue
from villagescore.core.normalize import clean_text, is_blank, normalize
from villagescore.core.scheme import Column

SCORE = Column(key="c01", label="班子团结", type="number", min=Decimal(0), max=Decimal(10), places=2)
TOTAL = Column(key="t", label="得分", type="number", min=Decimal(0), max=Decimal(100000), places=2)
COUNT = Column(key="n", label="份数", type="integer", min=Decimal(0), max=Decimal(1000))
YESNO = Column(key="void", label="是否作废", type="option", options=["是", "否"])
VOTE = Column(key="v", label="评价", type="option", options=["好", "较好", "一般", "差"])
TEXT = Column(key="phone", label="联系电话", type="text", max_length=20)


@pytest.mark.parametrize("raw, want", [
    (8, Decimal("8")),
    (8.3, Decimal("8.3")),
    (0.1 + 0.2, Decimal("0.3")),
    (9.0, Decimal("9")),
    ("８", Decimal("8")),
    ("８．５", Decimal("8.5")),
    ("8分", Decimal("8")),
    ("8.5 分", Decimal("8.5")),
    ("\u3000 9.5\u00a0", Decimal("9.5")),
    ("\u200b7\ufeff", Decimal("7")),
    ("7。5", Decimal("7.5")),
    ("10.00", Decimal("10")),
])
def test_numbers(raw, want):
    value, code, _ = normalize(raw, SCORE)
    assert code is None
    assert value == want and str(value) == str(want)


def test_float_noise_never_leaks():
    value, code, _ = normalize(8.3, SCORE)
    assert code is None and str(value) == "8.3"
    assert Decimal(8.3) != value  # the naive conversion would carry binary noise


def test_thousands_separator():
    assert normalize("1,234", TOTAL)[0] == Decimal("1234")
    assert normalize("１，２３４.５", TOTAL)[0] == Decimal("1234.5")
    assert normalize("12,34", TOTAL)[1] == "not-a-number"


@pytest.mark.parametrize("raw", ["八十", "8 5", "85%", "8..5", "abc", "8-", "1e3", "NaN", "Infinity", dt.date(2025, 1, 2), True])
def test_not_a_number(raw):
    value, code, params = normalize(raw, SCORE)
    assert value is None and code == "not-a-number"
    assert "value" in params


def test_out_of_range_and_decimals():
    value, code, params = normalize("12", SCORE)
    assert (value, code) == (None, "out-of-range")
    assert params == {"label": "班子团结", "min": "0", "max": "10", "value": "12"}
    assert normalize(-1, SCORE)[1] == "out-of-range"
    value, code, params = normalize("8.125", SCORE)
    assert code == "too-many-decimals" and params["places"] == 2 and params["value"] == "8.125"
    assert normalize(8.125, SCORE)[1] == "too-many-decimals"
    assert normalize("8.50", SCORE) == (Decimal("8.5"), None, {})
    msg = issue(code, cell="C7", **params).message
    assert "2" in msg and "8.125" in msg


def test_integer_columns():
    assert normalize("12", COUNT)[0] == Decimal(12)
    assert normalize(12.0, COUNT)[0] == Decimal(12)
    assert normalize("12.0", COUNT)[0] == Decimal(12)
    assert normalize("12.5", COUNT)[1] == "not-a-number"
    assert normalize(12.5, COUNT)[1] == "not-a-number"
    assert normalize("１２份", COUNT)[1] == "not-a-number"


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000", "-", "—", "/", "无", "空", "－", "——"])
def test_placeholders_are_blank(raw):
    assert is_blank(raw)
    for col in (SCORE, COUNT, YESNO, VOTE, TEXT):
        assert normalize(raw, col) == (None, None, {})


def test_option_that_looks_like_placeholder_is_kept():
    col = Column(key="x", label="有无", type="option", options=["有", "无"])
    assert normalize("无", col) == ("无", None, {})


@pytest.mark.parametrize("raw, want", [
    ("是", "是"), ("否", "否"), ("√", "是"), ("✓", "是"), ("✔", "是"), ("☑", "是"), ("Y", "是"), ("y", "是"),
    (1, "是"), (1.0, "是"), ("1", "是"), (True, "是"),
    ("×", "否"), ("✗", "否"), ("✘", "否"), ("N", "否"), ("n", "否"), (0, "否"), ("0", "否"), (False, "否"),
    (" 是 ", "是"),
])
def test_tick_marks(raw, want):
    assert normalize(raw, YESNO) == (want, None, {})


def test_options():
    assert normalize("较 好", VOTE) == ("较好", None, {})
    assert normalize("\u3000一般\u3000", VOTE) == ("一般", None, {})
    value, code, params = normalize("很好", VOTE)
    assert (value, code) == (None, "not-an-option")
    assert params == {"value": "很好", "label": "评价", "options": "好、较好、一般、差"}
    assert normalize("√", VOTE)[1] == "not-an-option"  # tick marks only for 是/否 columns
    letters = Column(key="b", label="档次", type="option", options=["A", "B", "C"])
    assert normalize("ｂ", letters) == ("B", None, {})


def test_text():
    assert normalize(13800001111.0, TEXT) == ("13800001111", None, {})
    assert normalize(13800001111, TEXT) == ("13800001111", None, {})
    assert normalize("  王小明\u3000", TEXT) == ("王小明", None, {})
    assert normalize("ＲＱ００１", TEXT) == ("RQ001", None, {})
    assert normalize(dt.datetime(2025, 3, 1), TEXT) == ("2025-03-01", None, {})
    assert normalize(dt.date(2025, 3, 1), TEXT) == ("2025-03-01", None, {})
    assert normalize(2.5, TEXT) == ("2.5", None, {})
    assert clean_text(dt.datetime(2025, 3, 1, 9, 30)) == "2025-03-01 09:30"


def test_cell_problems_and_long_numbers():
    from villagescore.core.normalize import CellProblem

    err = CellProblem("formula-error", "#DIV/0!")
    for col in (SCORE, COUNT, YESNO, VOTE, TEXT):
        assert normalize(err, col) == (None, "formula-error", {"value": "#DIV/0!"})
    assert normalize(CellProblem("formula-no-value"), SCORE)[1] == "formula-no-value"
    assert clean_text(err) == "#DIV/0!" and not is_blank(CellProblem("formula-no-value"))
    # Excel keeps 15 digits: an ID number typed as a number has lost its tail, so it is not read
    value, code, params = normalize(110101199001011234.0, TEXT)
    assert (value, code, params["value"]) == (None, "long-number", "110101199001011000")
    assert normalize(999999999999999.0, TEXT) == ("999999999999999", None, {})
    assert "15 位" in issue(code, cell="D7", **params).message


@pytest.mark.parametrize("raw, type_, want", [
    ("20人", "integer", Decimal(20)), ("３０人", "integer", Decimal(30)), ("30000元", "number", Decimal(30000)),
    ("3件", "integer", Decimal(3)), ("12 票", "integer", Decimal(12)), ("85分", "number", Decimal(85)),
])
def test_a_unit_typed_after_a_number_is_read_like_85分(raw, type_, want):
    col = Column(key="x", label="数", type=type_, places=2, min=Decimal(0), max=Decimal(100000))
    assert normalize(raw, col) == (want, None, {})


def test_not_a_number_hint_fits_the_column():
    count = Column(key="n", label="参会人数", type="integer", min=Decimal(0), max=Decimal(1000))
    score = Column(key="s", label="得分", type="number", places=2, min=Decimal(0), max=Decimal(10))
    value, code, params = normalize("二十人", count)
    assert code == "not-a-number" and issue(code, **params).hint == "请填写数字，例如 20。"  # a head count is whole
    value, code, params = normalize("九分", score)
    assert issue(code, **params).hint == "请填写数字，例如 10 或 9.5。"  # within the item's 10 points
