"""The reproducible callback draw: which ledger requests are checked by callback (回访)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from villagescore.core.records import LedgerEntry


@dataclass(frozen=True)
class Draw:
    unit: str
    period: str
    seed: int
    entries: tuple[LedgerEntry, ...]
    available: int  # ledger rows of the unit
    wanted: int

    @property
    def short(self) -> bool:
        return self.available < self.wanted

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.request_id for e in self.entries)


def draw_requests(ledger: list[LedgerEntry], unit: str, period: str, seed: int, k: int) -> Draw:
    """Draw ``k`` requests of ``unit`` at random; same ledger, unit, period and seed → same draw.

    The ledger is sorted by request id first, so the row order of the ledger file does not matter.
    With fewer than ``k`` rows every row is drawn (the caller reports a ``draw-short`` warning).
    """
    rows = sorted((e for e in ledger if e.unit == unit), key=lambda e: e.request_id)
    rng = random.Random(f"villagescore|{seed}|{unit}|{period}")
    if len(rows) <= k:
        picked = rows
    else:
        picked = sorted(rng.sample(rows, k), key=lambda e: e.request_id)
    return Draw(unit, period, seed, tuple(picked), len(rows), k)
