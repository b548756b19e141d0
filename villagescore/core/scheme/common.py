"""What every part of a scheme shares: the error a scheme file that cannot be used raises, the bounds on what a
scheme may say, its number and list types, and the strict base model (unknown keys refused, frozen)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class SchemeError(Exception):
    """A scheme file that cannot be used. ``problems`` are Chinese lines naming the key path."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


# Bounds on what a scheme may say, so that what ``scheme check`` accepts, compute and template can do: every
# number within ±NUMBER_LIMIT (points, weights, bounds; scores read from cells stay below 1e15), decimals to
# print at most MAX_PLACES, and sizes that fit a printed form and the rows and columns a sheet is read to.
NUMBER_LIMIT = Decimal(10) ** 9
MAX_PLACES = 6
MAX_EVALUATORS = 1000  # ballots a form prints (a row each)
MAX_FORM_ROWS = 5000  # rows of a register
MAX_DRAW = 100
MAX_COLUMNS = 150  # a form's own columns (a sheet is read to 200)
MAX_ITEMS = 200  # options, tally rows, listed criteria, …
MAX_DEPTH = 30  # levels of the score tree
MAX_TEXT = 1000  # characters of any text in a scheme
TEXT_LIMIT = 255  # characters of a text cell whose column sets no max_length (printed forms check the same)
EXCEL_CELL_CHARS = 32767


def _d(value: Any) -> Any:
    """A number of a scheme as an exact Decimal (a float through its text); anything else is left for pydantic
    to refuse in its own words (mapped to Chinese in ``_message``)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


# Every number of a scheme: exact, finite (pydantic refuses inf and nan), within ±NUMBER_LIMIT.
Num = Annotated[Decimal, BeforeValidator(_d), Field(ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]
# A table of exact numbers (weights, point maps, letter bands); each value checked, located by its key.
DecimalMap = Annotated[dict[str, Num], Field(max_length=MAX_ITEMS)]
Places = Annotated[int, Field(ge=0, le=MAX_PLACES)]
Texts = Annotated[list[str], Field(max_length=MAX_ITEMS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT)
