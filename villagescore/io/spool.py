"""What a run holds for every form and every ballot of a county, kept in a temporary file instead of memory.

A province's run reads some 200,000 workbooks; their parsed rows (until each unit is scored) and its ballot lines
(until the summary's 测评明细 is written) would hold gigabytes. ``Spool`` appends pickled records to one temporary
file (removed when closed, or at once where the system allows) and reads them back by position; memory keeps
only the positions. ``SpooledRows`` is a form's rows read back on first use; ``Ballots`` the run's ballot lines,
read back each time they are iterated.
"""

from __future__ import annotations

import pickle
import tempfile
from typing import Any, Iterable, Iterator

Token = tuple[int, int]  # (offset, length) in the spool file


class Spool:
    """Pickled records appended to a temporary file and read back by their token."""

    def __init__(self) -> None:
        self._fh = tempfile.TemporaryFile(prefix="villagescore-")
        self._end = 0
        self._at = 0  # where the file's position is (a read moves it)

    def put_bytes(self, blob: bytes) -> Token:
        if self._at != self._end:
            self._fh.seek(self._end)
        self._fh.write(blob)
        token = (self._end, len(blob))
        self._end += len(blob)
        self._at = self._end
        return token

    def put(self, obj: Any) -> Token:
        return self.put_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def get(self, token: Token) -> Any:
        offset, length = token
        self._fh.seek(offset)  # a buffered file: what was written is flushed first
        self._at = offset + length
        return pickle.loads(self._fh.read(length))

    def close(self) -> None:
        self._fh.close()

    def __getstate__(self):  # never sent to another process
        raise TypeError("a Spool stays in the process that made it")


def pickled(rows: list, tally: list) -> bytes:
    """A form's rows and tally as ``SpooledRows.load`` reads them back."""
    return pickle.dumps((rows, tally), protocol=pickle.HIGHEST_PROTOCOL)


class _Pending:
    """A form's rows and tally in the spool: both lists filled on the first use of either."""

    __slots__ = ("spool", "token", "lists")

    def __init__(self, spool: Spool, token: Token):
        self.spool = spool
        self.token: Token | None = token  # None once loaded (or every list cleared)
        self.lists: list[SpooledRows] = []

    def load(self) -> None:
        if self.token is None:
            return
        loaded = self.spool.get(self.token)
        self.token = None
        for lst, rows in zip(self.lists, loaded):
            list.extend(lst, rows)
            lst._pending = None


class SpooledRows(list):
    """A list of rows read from the spool the first time it is used (iterated, measured, indexed). Cleared, it
    stays empty: a unit's rows are let go once the unit is scored."""

    __slots__ = ("_pending",)

    def __init__(self, pending: _Pending | None = None):
        super().__init__()
        self._pending = pending
        if pending is not None:
            pending.lists.append(self)

    def _load(self) -> None:
        if self._pending is not None:
            self._pending.load()

    def __iter__(self):
        self._load()
        return list.__iter__(self)

    def __len__(self) -> int:
        self._load()
        return list.__len__(self)

    def __getitem__(self, i):
        self._load()
        return list.__getitem__(self, i)

    def __contains__(self, x) -> bool:
        self._load()
        return list.__contains__(self, x)

    def __eq__(self, other) -> bool:
        self._load()
        return list.__eq__(self, other)

    def __repr__(self) -> str:
        self._load()
        return list.__repr__(self)

    def clear(self) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            pending.lists = [lst for lst in pending.lists if lst is not self]  # by identity: == would read it
            if not pending.lists:
                pending.token = None
        list.clear(self)

    def __reduce__(self):  # a copy (a pickle, deepcopy) is a plain list of the rows
        self._load()
        return list, (list(list.__iter__(self)),)


def spooled_rows(spool: Spool, blob: bytes) -> tuple[SpooledRows, SpooledRows]:
    """A form's rows and tally (``pickled``) put in the spool: two lists filled on first use."""
    pending = _Pending(spool, spool.put_bytes(blob))
    return SpooledRows(pending), SpooledRows(pending)


class Ballots:
    """The ballot lines of a run, in order, added unit by unit as they are scored: the first ``KEEP`` kept in
    memory, the others in the spool and read back each time they are iterated (a province's do not fit in
    memory; a county's small run is not slowed by the spool). A sequence for ``len`` and iteration (not for
    indexing). ``about`` tells the items, whether any is a vote and the units, in order, without a pass."""

    KEEP = 20_000  # lines kept in memory, about 10 MB

    def __init__(self, spool: Spool):
        self._spool = spool
        self._chunks: list[tuple[Token | list, int]] = []  # (token in the spool, or the lines themselves; how many)
        self._n = 0
        self._keys: set[str] = set()
        self._voted = False
        self._units: dict[str, None] = {}

    def extend(self, lines: Iterable) -> None:
        lines = list(lines)
        if not lines:
            return
        for b in lines:
            self._keys.update(b.scores)
            self._voted = self._voted or bool(b.votes)
            self._units.setdefault(b.unit, None)
        self._chunks.append((lines if self._n < self.KEEP else self._spool.put(lines), len(lines)))
        self._n += len(lines)

    def then(self, other: "Ballots") -> "Ballots":
        """These lines followed by ``other``'s (the same spool)."""
        both = Ballots(self._spool)
        both._chunks, both._n = self._chunks + other._chunks, self._n + other._n
        both._keys, both._voted = self._keys | other._keys, self._voted or other._voted
        both._units = {**self._units, **other._units}
        return both

    def about(self) -> tuple[set[str], bool, dict[str, None]]:
        """(the item keys of every line, whether any line is a vote, the units in the order their lines come)."""
        return set(self._keys), self._voted, dict(self._units)

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __iter__(self) -> Iterator:
        for chunk, _ in self._chunks:
            yield from (chunk if isinstance(chunk, list) else self._spool.get(chunk))

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def __reduce__(self):  # a copy (a pickle, deepcopy) is a plain list of the lines
        return list, (list(self),)


__all__ = ["Spool", "SpooledRows", "Ballots", "pickled", "spooled_rows"]
