"""The results archive: an embedded SQLite database of every computed run.

Every ``compute`` records a run (period, scheme id and hash, tool version, time, input files with
SHA-256, and per unit every node's exact value, the rounded value, rank and grades). Recomputing a
period adds a run and makes it current; older runs stay for audit. Exact values are stored as
fractions ("num/den") so a year can be combined from its halves without re-reading workbooks.

Writes are one transaction; the database runs in WAL mode so a reader never sees half a run and a
writer killed halfway leaves the previous state. The schema is versioned with PRAGMA user_version
and migrated forward, all steps in one ``BEGIN IMMEDIATE`` transaction that reads the version again
once it holds the lock: several runs creating the same new archive at once each wait for the one
that creates it, then find it made. A database that stays busy is tried again for a while. An
archive written by a newer tool is refused. SQLite's failures are said in Chinese by their kind (a
full disk is a full disk, not a damaged archive).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

from villagescore.core.periods import Period
from villagescore.core.records import Item, RunResult

SCHEMA_VERSION = 3
DEFAULT_NAME = "villagescore.db"

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        scheme_id TEXT NOT NULL,
        scheme_name TEXT NOT NULL,
        scheme_version TEXT NOT NULL,
        scheme_hash TEXT NOT NULL,
        period TEXT NOT NULL,
        periods TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        computed_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        current INTEGER NOT NULL DEFAULT 1,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        root_node TEXT NOT NULL,
        main_grading TEXT NOT NULL
    );
    CREATE INDEX runs_current ON runs (scheme_id, period, current);
    CREATE TABLE run_files (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        form_id TEXT NOT NULL,
        unit_code TEXT NOT NULL,
        period TEXT NOT NULL,
        status TEXT NOT NULL
    );
    CREATE TABLE unit_results (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        unit_code TEXT NOT NULL,
        unit_name TEXT NOT NULL,
        unit_type TEXT NOT NULL,
        secretary TEXT NOT NULL,
        township TEXT NOT NULL,
        funds_base TEXT,
        ok INTEGER NOT NULL,
        PRIMARY KEY (run_id, unit_code)
    );
    CREATE TABLE unit_scores (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        unit_code TEXT NOT NULL,
        period TEXT NOT NULL,
        node TEXT NOT NULL,
        exact TEXT,
        rounded TEXT,
        PRIMARY KEY (run_id, unit_code, period, node)
    );
    CREATE TABLE unit_grades (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        unit_code TEXT NOT NULL,
        grading TEXT NOT NULL,
        grade TEXT,
        pending TEXT NOT NULL,
        rank INTEGER,
        reason TEXT NOT NULL,
        PRIMARY KEY (run_id, unit_code, grading)
    );
    CREATE TABLE rectifications (
        id INTEGER PRIMARY KEY,
        unit_code TEXT NOT NULL,
        period TEXT NOT NULL,
        problem TEXT NOT NULL,
        measure TEXT NOT NULL,
        owner TEXT NOT NULL,
        deadline TEXT NOT NULL,
        status TEXT NOT NULL,
        repeated_from INTEGER REFERENCES rectifications (id)
    );
    """,
    # version 1 never wrote rectifications: the table is replaced by one that belongs to a run
    2: """
    DROP TABLE rectifications;
    CREATE TABLE rectifications (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        unit_code TEXT NOT NULL,
        period TEXT NOT NULL,
        seq INTEGER NOT NULL,
        problem TEXT NOT NULL,
        measure TEXT NOT NULL,
        owner TEXT NOT NULL,
        deadline TEXT NOT NULL,
        status TEXT NOT NULL,
        open INTEGER NOT NULL,
        repeated TEXT NOT NULL,
        PRIMARY KEY (run_id, unit_code, seq)
    );
    """,
    # the committee's decisions (党委研究事项): every item a run found, decided or still open, and for each grade
    # where it came from and the change of working funds it brought (read directly by ``results()``; a run
    # recorded before has ``funds_recorded`` 0 and its fund changes are derived from its scheme file)
    3: """
    ALTER TABLE unit_grades ADD COLUMN source TEXT NOT NULL DEFAULT '';
    ALTER TABLE unit_grades ADD COLUMN funds_change TEXT;
    ALTER TABLE unit_grades ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN funds_recorded INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE run_decisions (
        run_id INTEGER NOT NULL REFERENCES runs (id),
        seq INTEGER NOT NULL,
        item TEXT NOT NULL,
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        grading TEXT NOT NULL,
        unit_code TEXT NOT NULL,
        question TEXT NOT NULL,
        options TEXT NOT NULL,
        decision TEXT NOT NULL,
        meeting TEXT NOT NULL,
        date TEXT NOT NULL,
        file TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    """,
}


class ArchiveError(Exception):
    """An archive that cannot be used (newer schema, damaged file, locked too long, disk full)."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


BUSY_SECONDS = 60.0  # how long a busy archive (another run recording) is waited for, in all

_SQLITE_REASONS = {  # primary result codes (the low byte of the extended code)
    3: "没有访问权限",  # SQLITE_PERM
    5: "正被另一次计算使用，等待超时；请稍后再试",  # SQLITE_BUSY
    6: "正被另一次计算使用，等待超时；请稍后再试",  # SQLITE_LOCKED
    8: "文件或所在文件夹是只读的（没有写入权限）",  # SQLITE_READONLY
    10: "磁盘读写出错（磁盘、网络驱动器或同步软件可能有故障）",  # SQLITE_IOERR
    11: "文件已损坏",  # SQLITE_CORRUPT
    13: "磁盘空间不足",  # SQLITE_FULL
    14: "无法打开（文件夹不存在，或没有访问权限）",  # SQLITE_CANTOPEN
    26: "不是结果档案库文件（可能是其他文件改了名字），或文件已损坏",  # SQLITE_NOTADB
}


_SHMSIZE = 4874  # SQLITE_IOERR_SHMSIZE: the shared-memory file of WAL mode could not grow (a full disk)
LOW_SPACE = 1 << 20  # bytes free below which a disk I/O error is taken for a full disk


def sqlite_reason(exc: sqlite3.Error, path: Path | None = None) -> str:
    """Why SQLite failed, in Chinese, by its result code (its own text is English). A disk I/O error on a disk
    with (almost) no room left is a full disk: SQLite says so only for some writes."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # older sqlite3 modules: the text is all there is
        text = str(exc).lower()
        for words, primary in (("disk is full", 13), ("readonly", 8), ("locked", 5), ("not a database", 26),
                               ("malformed", 11), ("unable to open", 14), ("disk i/o", 10)):
            if words in text:
                code = primary
                break
    if code == _SHMSIZE or (code or 0) & 0xFF == 10 and path is not None and _low_space(path):
        return _SQLITE_REASONS[13]
    return _SQLITE_REASONS.get((code or 0) & 0xFF, "无法读写（数据库报告错误）")


def _low_space(path: Path) -> bool:
    try:
        return shutil.disk_usage(Path(path).parent).free < LOW_SPACE
    except OSError:
        return False


def _busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _retrying(step, deadline: float):
    """``step()``, tried again while SQLite says the database is busy (until ``deadline``, a monotonic time)."""
    delay = 0.01
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)


@dataclass(frozen=True)
class Run:
    id: int
    scheme_id: str
    scheme_name: str
    period: str
    periods: str
    tool_version: str
    computed_at: str
    recorded_at: str
    current: bool
    errors: int
    warnings: int
    scheme_hash: str


@dataclass(frozen=True)
class TimelineEntry:
    run_id: int
    period: str
    scheme_id: str
    score: Decimal | None
    rank: int | None
    grade: str | None
    pending: str
    current: bool
    source: str = ""  # where the grade came from when not the rules': 党委研究决定（会议/文号，日期）


@dataclass(frozen=True)
class DecisionRecord:
    """A 党委研究事项 row of a run: the item and unit, and the decision applied ("" while still open)."""

    run_id: int
    item: str
    kind: str
    period: str
    grading: str
    unit: str
    question: str
    options: str
    decision: str
    meeting: str
    date: str
    file: str


def _frac(value: Any) -> str | None:
    if value is None:
        return None
    f = Fraction(value)
    return f"{f.numerator}/{f.denominator}"


def _unfrac(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


class Archive:
    def __init__(self, path: Path):
        self.path = Path(path)
        deadline = time.monotonic() + BUSY_SECONDS
        try:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except sqlite3.Error as exc:
            raise ArchiveError(self.path, sqlite_reason(exc, self.path)) from None
        self.db = db
        try:
            _retrying(lambda: db.execute("PRAGMA journal_mode=WAL").fetchone(), deadline)
            db.execute("PRAGMA foreign_keys=ON")
            _retrying(self._migrate, deadline)
        except sqlite3.Error as exc:
            db.close()
            raise ArchiveError(self.path, sqlite_reason(exc, self.path)) from None
        except ArchiveError:
            db.close()
            raise

    # ---------------------------------------------------------------- schema
    def _version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction; the version is read again under the write lock,
        so a run that waited for another creating the archive finds it made."""
        if self._version() == SCHEMA_VERSION:
            return
        with self._transaction():  # DDL is transactional in SQLite: a failure leaves the old version
            version = self._version()
            if version > SCHEMA_VERSION:
                raise ArchiveError(self.path, f"档案库由更新版本的 villagescore 建立（结构版本 {version}），"
                                              f"当前版本只认识到 {SCHEMA_VERSION}，请升级 villagescore")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _transaction(self):
        db = self.db

        class _Tx:
            def __enter__(self_inner):
                db.execute("BEGIN IMMEDIATE")  # the write lock now: the busy timeout waits for it

            def __exit__(self_inner, exc_type, exc, tb):
                if exc_type:
                    try:
                        db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite may have rolled back already (a full disk)
                else:
                    db.execute("COMMIT")
                return False

        return _Tx()

    def close(self) -> None:
        self.db.close()

    def _write(self, step):
        """``step()`` in one write transaction, tried again while the archive is busy; SQLite errors as
        ArchiveError."""
        def once():
            with self._transaction():
                return step()

        try:
            return _retrying(once, time.monotonic() + BUSY_SECONDS)
        except sqlite3.Error as exc:
            raise ArchiveError(self.path, sqlite_reason(exc, self.path)) from None

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---------------------------------------------------------------- writing
    def record(self, result: RunResult, scheme_hash: str) -> int:
        """Store a run in one transaction and make it the current run of its scheme and period."""
        return self._write(lambda: self._record(result, scheme_hash))

    def withdraw(self, run_id: int) -> None:
        """Take back a run just recorded (its outputs could not be written): its rows go, and the newest other run
        of its scheme and period is current again."""
        def step() -> None:
            found = self.db.execute("SELECT scheme_id, period, current FROM runs WHERE id = ?", (run_id,)).fetchone()
            if found is None:
                return
            for table in ("run_decisions", "rectifications", "unit_grades", "unit_scores", "unit_results",
                          "run_files"):
                self.db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            self.db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            if found[2]:
                self.db.execute("UPDATE runs SET current = 1 WHERE id = (SELECT MAX(id) FROM runs"
                                " WHERE scheme_id = ? AND period = ?)", found[:2])

        self._write(step)

    def _record(self, result: RunResult, scheme_hash: str) -> int:
        now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        self.db.execute("UPDATE runs SET current = 0 WHERE scheme_id = ? AND period = ?",
                        (result.scheme_id, result.period))
        cur = self.db.execute(
            "INSERT INTO runs (scheme_id, scheme_name, scheme_version, scheme_hash, period, periods, tool_version,"
            " computed_at, recorded_at, current, errors, warnings, root_node, main_grading, funds_recorded)"
            " VALUES (?,?,?,?,?,?,?,?,?,1,?,?,?,?,1)",
            (result.scheme_id, result.scheme_name, result.scheme_version, scheme_hash, result.period,
             ",".join(result.periods), result.tool_version, result.computed_at, now,
             len(result.report.errors), len(result.report.warnings),
             result.display[-1] if result.display else "", result.gradings[0][0] if result.gradings else ""))
        assert cur.lastrowid is not None  # an INSERT sets it
        run_id = int(cur.lastrowid)
        self.db.executemany(
            "INSERT INTO run_files VALUES (?,?,?,?,?,?,?)",
            [(run_id, f.path, f.sha256, f.form_id, f.unit, f.period, f.status) for f in result.files])
        for u in result.units:
            base = u.unit.funds_base
            self.db.execute("INSERT INTO unit_results VALUES (?,?,?,?,?,?,?,?)",
                            (run_id, u.code, u.unit.name, u.unit.type, u.unit.secretary, u.unit.township,
                             None if base is None else str(base), int(u.ok)))
            scores = [(run_id, u.code, result.period, node, _frac(v),
                       str(u.rounded[node]) if node in u.rounded else None) for node, v in u.exact.items()]
            for period, values in u.by_period.items():
                if period != result.period:
                    scores += [(run_id, u.code, period, node, None, str(v)) for node, v in values.items()]
            self.db.executemany("INSERT INTO unit_scores VALUES (?,?,?,?,?,?)", scores)
            self.db.executemany(
                "INSERT INTO unit_grades (run_id, unit_code, grading, grade, pending, rank, reason, source,"
                " funds_change, provisional) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(run_id, u.code, gid, g.grade, "/".join(g.pending), g.rank, g.reason, g.source,
                  None if g.funds_change is None else str(g.funds_change), int(g.provisional))
                 for gid, g in u.grades.items()])
        seq: dict[str, int] = {}
        tracked = []
        for it in result.items:
            seq[it.unit] = seq.get(it.unit, 0) + 1
            tracked.append((run_id, it.unit, it.period, seq[it.unit], it.problem, it.measure, it.owner, it.deadline,
                            it.status, int(it.open), it.repeated))
        self.db.executemany("INSERT INTO rectifications VALUES (?,?,?,?,?,?,?,?,?,?,?)", tracked)
        decided: list[tuple[Any, ...]] = []
        for item in result.decisions:
            for unit in item.units:
                d = item.decided.get(unit)
                decided.append((run_id, len(decided) + 1, item.key, item.kind, item.period, item.grading, unit,
                                item.title, item.options_text(unit), d.choice if d else "", d.meeting if d else "",
                                d.date if d else "", d.file if d else ""))
        self.db.executemany("INSERT INTO run_decisions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", decided)
        return run_id

    def items(self, scheme_id: str | None, before: str | None = None, unit: str | None = None) -> list[Item]:
        """Tracked items of the current runs (of a scheme; of periods before ``before``; of a unit), oldest first."""
        sql = ("SELECT x.unit_code, x.period, x.problem, x.measure, x.owner, x.deadline, x.status, x.open, x.repeated"
               " FROM rectifications x JOIN runs r ON r.id = x.run_id WHERE r.current = 1")
        args: list = []
        if scheme_id is not None:
            sql += " AND r.scheme_id = ?"
            args.append(scheme_id)
        if unit is not None:
            sql += " AND x.unit_code = ?"
            args.append(unit)
        found = [Item(code, period, problem, measure, owner, deadline, status, bool(open_), repeated)
                 for code, period, problem, measure, owner, deadline, status, open_, repeated
                 in self.db.execute(sql + " ORDER BY x.period, x.seq", args)]
        if before is not None:
            limit = Period.parse(before)
            found = [i for i in found if Period.parse(i.period).ends_before(limit)]
        return found

    # ---------------------------------------------------------------- reading
    def runs(self, scheme_id: str | None = None) -> list[Run]:
        sql = ("SELECT id, scheme_id, scheme_name, period, periods, tool_version, computed_at, recorded_at, current,"
               " errors, warnings, scheme_hash FROM runs")
        args: tuple = ()
        if scheme_id:
            sql += " WHERE scheme_id = ?"
            args = (scheme_id,)
        return [Run(rid, sid, name, period, periods, tool, computed, recorded, bool(current), errors, warnings, digest)
                for rid, sid, name, period, periods, tool, computed, recorded, current, errors, warnings, digest
                in self.db.execute(sql + " ORDER BY id", args)]

    def current(self, scheme_id: str, period: str) -> Run | None:
        return next((r for r in self.runs(scheme_id) if r.period == period and r.current), None)

    def exact_values(self, run_id: int) -> dict[str, dict[str, Fraction | None]]:
        """unit code → node → exact value, for the run's own period."""
        out: dict[str, dict[str, Fraction | None]] = {}
        for code, node, exact in self.db.execute(
                "SELECT s.unit_code, s.node, s.exact FROM unit_scores s JOIN runs r ON r.id = s.run_id"
                " WHERE s.run_id = ? AND s.period = r.period", (run_id,)):
            out.setdefault(code, {})[node] = _unfrac(exact)
        return out

    def grades(self, run_id: int) -> dict[str, dict[str, tuple[str | None, int | None]]]:
        out: dict[str, dict[str, tuple[str | None, int | None]]] = {}
        for code, grading, grade, rank in self.db.execute(
                "SELECT unit_code, grading, grade, rank FROM unit_grades WHERE run_id = ?", (run_id,)):
            out.setdefault(code, {})[grading] = (grade, rank)
        return out

    def grade_states(self, run_id: int) -> dict[str, dict[str, tuple[str | None, str]]]:
        """unit → grading → (grade, pending grades as "优秀/合格") of a run."""
        out: dict[str, dict[str, tuple[str | None, str]]] = {}
        for code, grading, grade, pending in self.db.execute(
                "SELECT unit_code, grading, grade, pending FROM unit_grades WHERE run_id = ?", (run_id,)):
            out.setdefault(code, {})[grading] = (grade, pending or "")
        return out

    def decisions(self, run_id: int) -> list[DecisionRecord]:
        """The 党委研究事项 of a run (one row per unit of each item), decided or still open, in the sheet's order."""
        return [DecisionRecord(*row) for row in self.db.execute(
            "SELECT run_id, item, kind, period, grading, unit_code, question, options, decision, meeting, date, file"
            " FROM run_decisions WHERE run_id = ? ORDER BY seq", (run_id,))]

    def timeline(self, unit_code: str) -> list[TimelineEntry]:
        """A unit's results run by run: its final score, rank and main grade (current runs first)."""
        rows = self.db.execute(
            "SELECT r.id, r.period, r.scheme_id, r.current, s.rounded, g.rank, g.grade, g.pending, g.source"
            " FROM runs r JOIN unit_results u ON u.run_id = r.id"
            " LEFT JOIN unit_scores s ON s.run_id = r.id AND s.unit_code = u.unit_code AND s.period = r.period"
            "   AND s.node = r.root_node"
            " LEFT JOIN unit_grades g ON g.rowid = (SELECT MIN(x.rowid) FROM unit_grades x"  # its first grading
            "   WHERE x.run_id = r.id AND x.unit_code = u.unit_code)"
            " WHERE u.unit_code = ? ORDER BY r.current DESC, r.period, r.id", (unit_code,))
        return [TimelineEntry(rid, period, scheme, Decimal(score) if score else None, rank, grade, pending or "",
                              bool(current), source or "")
                for rid, period, scheme, current, score, rank, grade, pending, source in rows]

    def tables(self) -> Iterator[tuple[str, list[str], list[tuple]]]:
        """Every table with its column names and rows, for ``history export``."""
        names = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for name in names:
            cur = self.db.execute(f'SELECT * FROM "{name}"')
            yield name, [d[0] for d in cur.description], cur.fetchall()


TABLE_TITLES = {
    "runs": "历次计算", "run_files": "输入文件", "unit_results": "参评单位", "unit_scores": "得分",
    "unit_grades": "等次", "rectifications": "整改清单", "run_decisions": "党委研究事项",
}


def export_workbook(archive: Archive) -> bytes:
    """The whole archive as a workbook (a sheet per table), for another office."""
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    wb.set_properties({"title": "villagescore 结果档案", "author": "", "company": ""})
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#D9E1F2", "font_name": "宋体"})
    cell = wb.add_format({"border": 1, "font_name": "宋体"})
    for name, columns, rows in archive.tables():
        ws = wb.add_worksheet(TABLE_TITLES.get(name, name)[:31])
        for c, label in enumerate(columns):
            ws.write_string(0, c, label, head)
            ws.set_column(c, c, max(10, min(40, len(label) + 4)))
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is None:
                    ws.write_blank(r, c, None, cell)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value, cell)
                else:
                    ws.write_string(r, c, str(value), cell)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), max(len(columns) - 1, 0))
    wb.close()
    return buf.getvalue()
