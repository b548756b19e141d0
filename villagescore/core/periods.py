"""Evaluation periods: 2025 (year), 2025H1/2025H2 (halves), 2025Q1..Q4 (quarters)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RE = re.compile(r"^(\d{4})(?:(H)([12])|(Q)([1-4]))?$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str  # "year" | "half" | "quarter"
    index: int  # 0 for a year, 1..2 for halves, 1..4 for quarters

    @classmethod
    def parse(cls, text: str) -> "Period":
        m = _RE.match(text.strip().upper())
        if not m:
            raise ValueError(f"期间格式不对：{text!r}，应写成 2025H1、2025H2、2025Q1 或 2025")
        year = int(m.group(1))
        if m.group(2):
            return cls(year, "half", int(m.group(3)))
        if m.group(4):
            return cls(year, "quarter", int(m.group(5)))
        return cls(year, "year", 0)

    def __str__(self) -> str:
        if self.kind == "half":
            return f"{self.year}H{self.index}"
        if self.kind == "quarter":
            return f"{self.year}Q{self.index}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "half":
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        return f"{self.year}年度"

    def previous(self) -> "Period":
        """The period before: 2025H1 → 2024H2, 2025Q1 → 2024Q4, 2025 → 2024."""
        if self.kind == "year":
            return Period(self.year - 1, "year", 0)
        last = 2 if self.kind == "half" else 4
        if self.index == 1:
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.index - 1)

    @property
    def months(self) -> tuple[int, int]:
        """First and last month of the period in its year: 2025H2 → (7, 12), 2025Q1 → (1, 3), 2025 → (1, 12)."""
        if self.kind == "year":
            return 1, 12
        n = 6 if self.kind == "half" else 3
        return (self.index - 1) * n + 1, self.index * n

    def ends_before(self, other: "Period") -> bool:
        """Whether this period ends before ``other`` starts (2024 and 2024H2 before 2025Q1; 2025 is not)."""
        return (self.year, self.months[1]) < (other.year, other.months[0])

    @property
    def part(self) -> str:
        """'H1', 'Q3' or '' for a year: the key used in a scheme's annual weights."""
        return str(self)[4:]
