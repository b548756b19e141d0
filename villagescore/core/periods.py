"""Evaluation periods: 2025 (year), 2025H1/2025H2 (halves), 2025Q1..Q4 (quarters)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from villagescore.core.issues import FatalInput

if TYPE_CHECKING:  # the command line imports this module at start-up: the scheme model (pydantic) only when used
    from villagescore.core.records import FormData
    from villagescore.core.scheme import Scheme

_RE = re.compile(r"^(\d{4})(?:(H)([12])|(Q)([1-4]))?$")
_PERIOD_TEXT = re.compile(r"(20\d\d)\s*年?\s*(?:(上|下)半年|[Hh]([12])|第?\s*([一二三四1-4])\s*季度|[Qq]([1-4]))")


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


def periods_in(text: str) -> set[str]:
    """The periods a title, a sheet's or a file's name names: 2025年上半年, 2025H1, 2025年第一季度, 2025Q1 …"""
    out = set()
    for m in _PERIOD_TEXT.finditer(text):
        year, half, h, quarter, q = m.groups()
        if half or h:
            out.add(f"{year}H{h or (1 if half == '上' else 2)}")
        else:
            out.add(f"{year}Q{'一二三四'.index(quarter) + 1 if quarter in '一二三四' else quarter or q}")
    return out


def choose_periods(scheme: Scheme, forms: list[FormData], wanted: str | None) -> tuple[str, list[str]]:
    """The period computed and the periods its forms are of: ``wanted`` (a year: its parts found), else the one
    period the forms are of, or a year whose parts are all there as the scheme's annual weights name them."""
    found = sorted({f.period for f in forms if f.period})
    if wanted:
        try:
            target = Period.parse(wanted)
        except ValueError as exc:
            raise FatalInput(str(exc)) from None
        if target.kind == "year" and scheme.scheme.period_kind != "year":
            if not scheme.annual.weights:
                kind = {"half": "半年", "quarter": "季度"}[scheme.scheme.period_kind]
                raise FatalInput(f"本方案按{kind}考评，没有规定全年如何合并（方案文件的 [annual] weights），"
                                 f"请用 --period 指定一期，例如 --period {found[-1] if found else target.year}")
            parts = [p for p in found if Period.parse(p).year == target.year]
        else:
            parts = [str(target)] if str(target) in found else []
        if not parts:
            raise FatalInput(f"文件夹中没有 {target.label} 的表格（找到的期间：{'、'.join(found) or '无'}）")
        return str(target), parts
    if not found:
        if forms:
            raise FatalInput("文件夹中只有自制表格，且表中没有注明期间：请用 --period 指定要计算的期间，"
                             "例如 --period 2025H1")
        raise FatalInput("文件夹中没有找到本方案的填报表格（请确认文件夹路径，或先用 villagescore template 生成表格）")
    if len(found) == 1:
        return found[0], found
    years = {Period.parse(p).year for p in found}
    weights = scheme.annual.weights
    if len(years) == 1 and weights and {Period.parse(p).part for p in found} == set(weights):
        return str(years.pop()), found
    raise FatalInput(f"文件夹中有多个期间的表格（{'、'.join(found)}），请用 --period 指定要计算的期间")
