"""One normaliser for every cell read from a workbook.

Raw values are what python-calamine returns: str, int, float, bool, date/datetime/time, timedelta,
or None/"" for an empty cell. ``normalize`` turns one raw value into the typed value a column
expects (Decimal for number and integer columns, the canonical option text, or stripped text), or
reports why it cannot, as an issue code and message parameters (see ``issues.CODES``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from villagescore.core.numbers import decimal_places, plain, sci
from villagescore.core.scheme import Column

# Spaces Excel/WPS users leave around values: ideographic space, no-break space, zero-width marks.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACE = re.compile(r"\s+")
PLACEHOLDERS = frozenset({"-", "--", "—", "——", "–", "/", "无", "空"})
_BLANKS = PLACEHOLDERS | {""}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
# a unit typed after a number, as on the paper: 85分, 20人, 30000元, 3件, 12票 (the column says what it counts)
_UNIT_SUFFIX = re.compile(r"\s*(?:分|人|名|个|户|件|项|票|张|次|元|天)$")

_YES = frozenset("√✓✔☑Yy1")
_NO = frozenset("×✗✘☒XxNn0")

Result = tuple[Any, "str | None", dict[str, Any]]

# Excel keeps 15 significant digits: a longer number typed into a cell (an ID number) has lost its tail.
_EXACT_DIGITS = 10**15
# No score, count or amount reaches this: a number this large in a number column is a typing or paste error
# (1e28, 1e308, a row of digits), refused on its cell before any arithmetic sees it.
MAX_MAGNITUDE = Decimal(10) ** 15


@dataclass(frozen=True)
class CellProblem:
    """A cell whose value the file does not hold: a formula without a stored result, or an error result.

    The reader puts it in the grid where python-calamine would have given "" (silently); the
    normaliser turns it into an error on that cell. ``code`` is an issue code.
    """

    code: str  # "formula-no-value" or "formula-error"
    value: str = ""  # what Excel shows, e.g. "#DIV/0!"

    def __str__(self) -> str:
        return self.value or "（公式）"


_ASCII = re.compile(r"[\x20-\x7e]*")


def clean_text(raw: Any) -> str:
    """Any raw cell value as tidy text: NFKC, no invisible marks, no surrounding spaces.

    Numbers that are whole become digits without ".0" (phone and ID numbers stay intact), dates
    become ISO dates; None becomes "".
    """
    if raw is None:
        return ""
    if isinstance(raw, CellProblem):
        return str(raw)
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, (int, float, Decimal)):
        d = _from_number(raw)
        return str(raw) if d is None else plain(d)
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" ", timespec="minutes")
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return _clean_str(str(raw))


@functools.lru_cache(maxsize=1 << 16)
def _clean_str(text: str) -> str:
    """Cached: the same labels, options and numbers recur across thousands of cells."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).strip()


def squash(text: str) -> str:
    """Comparison key: no spaces at all, case-folded (for headers and options)."""
    return _SPACE.sub("", text).casefold()


def is_blank(raw: Any) -> bool:
    if raw is None or raw == "":
        return True
    if isinstance(raw, (int, float)):  # a number is never blank (bool included)
        return False
    return clean_text(raw) in _BLANKS


def _from_number(x: int | float | Decimal) -> Decimal | None:
    if isinstance(x, Decimal):
        return x if x.is_finite() else None
    if isinstance(x, int):
        return Decimal(x)
    if not math.isfinite(x):
        return None
    if x.is_integer() and abs(x) < 1e15:  # the common case: 8.0, 13800001111.0
        return Decimal(int(x))
    # Excel keeps 15 significant digits: 0.1+0.2 shows as 0.3, and 8.3 must stay 8.3.
    d = Decimal(repr(x))
    if len(d.as_tuple().digits) > 15:
        d = Decimal(format(x, ".15g"))
    return Decimal(plain(d))


def _parse_number(text: str) -> Decimal | None:
    text = _UNIT_SUFFIX.sub("", text).replace("。", ".")
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        return None


def _bound(b: Decimal | None) -> str:
    return "不限" if b is None else plain(b)


def _short(d: Decimal) -> str:
    """A number as a message shows it: plain, or as 1e+308 when it is that large (long decimals are cut where
    the message is made)."""
    return sci(d) if abs(d) >= MAX_MAGNITUDE else plain(d)


def normalize(raw: Any, column: Column) -> Result:
    """(value, issue code or None, message params) for one raw cell under ``column``.

    Blank cells (empty, spaces only, or a placeholder such as "-", "/", "无") give (None, None, {});
    whether a blank is allowed is the table parser's business, not this function's.
    """
    if raw is None or raw == "":
        return None, None, {}
    if isinstance(raw, CellProblem):
        return None, raw.code, {"value": raw.value}
    if column.type in ("number", "integer") and type(raw) in (int, float):  # the common case, without text
        value = _from_number(raw)
        if value is not None:
            return _checked(value, column)
    text = clean_text(raw)
    if column.type == "option":
        return _option(raw, text, column)
    if column.type == "band":
        return _band(raw, text, column)
    if text in _BLANKS:
        return None, None, {}
    if column.type == "text":
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and _EXACT_DIGITS <= abs(raw) < math.inf:
            return None, "long-number", {"value": text, "label": column.label}
        if isinstance(raw, str) and not _ASCII.fullmatch(text):  # prose keeps its Chinese punctuation (，：（）)
            text = raw.translate(_INVISIBLE).strip()
        if len(text) > column.text_limit:  # the printed form allows no more (a pasted document is no entry)
            return None, "text-too-long", {"label": column.label, "limit": column.text_limit,
                                           "length": f"{len(text):,}"}
        return text, None, {}  # codes and numbers typed full-width become plain ASCII
    return _numeric(raw, text, column)


def _numeric(raw: Any, text: str, column: Column) -> Result:
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        value = _from_number(raw)
    elif isinstance(raw, str):
        value = _parse_number(text)
    else:  # dates, times, booleans are not scores
        value = None
    if value is None:
        return None, "not-a-number", {"value": text, "example": example(column)}
    return _checked(value, column)


def example(column: Column) -> str:
    """Numbers a cell of ``column`` could hold, for a hint: a count is whole, a score may have decimals."""
    top = column.max if column.max is not None else Decimal(100)
    whole = plain(min(top, Decimal(20)) if column.type == "integer" else min(top, Decimal(85)).to_integral_value())
    if column.type == "integer" or column.places <= 0:
        return whole
    half = Decimal(whole) + Decimal("0.5")
    return f"{whole} 或 {plain(half if half <= top else half - 1)}" if Decimal(whole) >= 1 else whole


def _checked(value: Decimal, column: Column) -> Result:
    """Range, decimal places and whole-number checks of a number read from a cell."""
    if abs(value) >= MAX_MAGNITUDE:
        return None, "number-too-large", {"label": column.label, "value": _short(value)}
    if column.type == "integer" and decimal_places(value):
        return None, "not-a-number", {"value": _short(value), "example": example(column)}
    shown = _short(value)
    if (column.min is not None and value < column.min) or (column.max is not None and value > column.max):
        return None, "out-of-range", {"label": column.label, "min": _bound(column.min),
                                      "max": _bound(column.max), "value": shown}
    if column.type in ("number", "band") and decimal_places(value) > column.places:
        return None, "too-many-decimals", {"label": column.label, "places": column.places, "value": shown}
    return Decimal(plain(value)), None, {}


def _band(raw: Any, text: str, column: Column) -> Result:
    """A band letter (A–E) or points (``min``–``max``, ``places`` decimals) in the same cell: the letter as its
    option text (str), the points as a Decimal; the value's type says which was given."""
    if isinstance(raw, str):
        found = _option_keys(tuple(column.options)).get(squash(text))
        if found is not None:
            return found, None, {}
    if text in _BLANKS:
        return None, None, {}
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = _from_number(raw)
    else:
        value = _parse_number(text) if isinstance(raw, str) else None
    if value is None:
        return None, "not-a-band", {"value": text, "label": column.label, "options": "、".join(column.options),
                                    "min": _bound(column.min), "max": _bound(column.max)}
    return _checked(value, column)


# Good values already normalised, by (column_key, type, raw): a county's forms repeat the same few
# scores and options thousands of times. Only results without an issue are kept (they do not
# depend on the column's label); the cache is emptied when full.
_MEMO: dict[tuple, Result] = {}
_MEMO_MAX = 1 << 16
_MEMO_TYPES = frozenset({str, int, float, bool})


def column_key(column: Column) -> tuple:
    """Everything about ``column`` that a good value's normalised form depends on."""
    return (column.type, column.min, column.max, column.places, tuple(column.options))


def normalize_cached(raw: Any, column: Column, key: tuple) -> Result:
    """``normalize(raw, column)`` with ``key = column_key(column)``, remembered for good values.

    The result is shared between calls: callers must not change its params dict.
    """
    kind = type(raw)
    if kind not in _MEMO_TYPES:
        return normalize(raw, column)
    memo_key = (key, kind, raw)
    found = _MEMO.get(memo_key)
    if found is not None:
        return found
    result = normalize(raw, column)
    if result[1] is None:
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.clear()
        _MEMO[memo_key] = result
    return result


@functools.lru_cache(maxsize=1024)
def _option_keys(options: tuple[str, ...]) -> dict[str, str]:
    return {squash(unicodedata.normalize("NFKC", o)): o for o in options}


def _option(raw: Any, text: str, column: Column) -> Result:
    found = _option_keys(tuple(column.options)).get(squash(text))
    if found is not None:  # an option that looks like a placeholder ("无") is still an option
        return found, None, {}
    if text in _BLANKS:
        return None, None, {}
    if set(column.options) == {"是", "否"}:
        if raw is True or text in _YES:
            return "是", None, {}
        if raw is False or text in _NO:
            return "否", None, {}
    return None, "not-an-option", {"value": text, "label": column.label, "options": "、".join(column.options)}


__all__ = ["normalize", "clean_text", "squash", "is_blank", "plain", "PLACEHOLDERS", "CellProblem"]
