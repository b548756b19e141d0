"""The SQLite archive: runs recorded whole, current run per period, exact values, schema versions."""

import sqlite3
import subprocess
import sys
import textwrap
from fractions import Fraction

import pytest

from villagescore.io.archive import SCHEMA_VERSION, Archive, ArchiveError
from villagescore.pipeline import compute

from township import filled


@pytest.fixture(scope="module")
def result(tmp_path_factory, scheme):
    return compute(scheme, [filled(scheme, tmp_path_factory.mktemp("arch"))])


def test_record_and_read_back(tmp_path, result):
    with Archive(tmp_path / "a.db") as arc:
        run_id = arc.record(result, "hash1")
        values = arc.exact_values(run_id)
        assert values["V1"]["composite"] == Fraction("88.52")
        assert values["V1"]["meeting"] == Fraction("85.5")
        assert arc.grades(run_id)["V4"]["grade"] == ("好", 1)
        (run,) = arc.runs()
        assert run.current and run.period == "2025H1" and run.scheme_hash == "hash1"
        files = arc.db.execute("SELECT count(*) FROM run_files WHERE run_id = ?", (run_id,)).fetchone()[0]
        assert files == len(result.files)


def test_recompute_adds_a_run_and_makes_it_current(tmp_path, result):
    with Archive(tmp_path / "a.db") as arc:
        first = arc.record(result, "h")
        second = arc.record(result, "h")
        runs = arc.runs()
        assert [(r.id, r.current) for r in runs] == [(first, False), (second, True)]
        assert arc.current(result.scheme_id, "2025H1").id == second
        timeline = arc.timeline("V1")
        assert [(t.run_id, str(t.score), t.grade, t.current) for t in timeline] == [
            (second, "88.52", "中", True), (first, "88.52", "中", False)]


def test_newer_archive_refused(tmp_path):
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(ArchiveError) as exc:
        Archive(path)
    assert "更新版本" in exc.value.reason


def test_version_1_archive_is_migrated(tmp_path):
    from villagescore.io.archive import MIGRATIONS

    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Archive(path) as arc:
        assert arc.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        cols = [r[1] for r in arc.db.execute("PRAGMA table_info(rectifications)")]
        assert cols[:2] == ["run_id", "unit_code"] and "repeated" in cols
        assert arc.items(None) == []


def test_version_2_archive_is_upgraded_for_decisions(tmp_path):
    """An archive of the version before the committee's decisions: a run recorded then keeps its rows; it gains an
    empty source per grade, fund changes left to be derived from its scheme file (funds_recorded 0), and the table
    of decisions; results() reads it, and a run recorded now stores its fund changes and decisions."""
    import hashlib
    from decimal import Decimal

    import villagescore
    from villagescore.io.archive import MIGRATIONS
    from villagescore.io.schemes import resolve

    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    db.executescript(MIGRATIONS[2])
    digest = hashlib.sha256(resolve("pingbian").read_bytes()).hexdigest()
    db.execute("INSERT INTO runs VALUES (1, 'pingbian', '村党组织书记逆向述职考评', '1.0', ?, '2025', '2025H1,2025H2',"
               " '0.1.0', '2025-12-30 10:00:00', '2025-12-30 10:00:01', 1, 0, 0, 'composite', 'grade')", (digest,))
    db.execute("INSERT INTO unit_results VALUES (1, 'V4', '柳湾村', '村', '陈秀英', '青石乡', '30000', 1)")
    db.execute("INSERT INTO unit_scores VALUES (1, 'V4', '2025', 'composite', '4578/50', '91.56')")
    db.execute("INSERT INTO unit_grades VALUES (1, 'V4', 'grade', '好', '', 1, '“好”不超过20%（向下取整）')")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with Archive(path) as arc:
        assert arc.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert arc.grades(1)["V4"]["grade"] == ("好", 1) and arc.decisions(1) == []
        row = arc.db.execute("SELECT source, funds_change, provisional FROM unit_grades").fetchone()
        assert row == ("", None, 0)
        assert arc.db.execute("SELECT funds_recorded FROM runs").fetchone() == (0,)
        assert [t.source for t in arc.timeline("V4")] == [""]
    df = villagescore.results(path).set_index("unit_code")
    assert df.loc["V4", "funds_change"] == Decimal("3000.00")  # derived: the year's 好, +10% of 30,000
    assert df.loc["V4", "grade_source"] is None


def test_not_a_database(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArchiveError):
        Archive(path)


def test_killed_writer_leaves_archive_consistent(tmp_path, result):
    path = tmp_path / "a.db"
    with Archive(path) as arc:
        arc.record(result, "h")
    script = textwrap.dedent(f"""
        import sys, time
        from villagescore.io.archive import Archive
        arc = Archive({str(path)!r})
        arc.db.execute("BEGIN IMMEDIATE")
        arc.db.execute("UPDATE runs SET current = 0")
        arc.db.execute("INSERT INTO runs (scheme_id, scheme_name, scheme_version, scheme_hash, period, periods,"
                       " tool_version, computed_at, recorded_at, current, errors, warnings, root_node, main_grading)"
                       " VALUES ('x','x','1','h','2025H1','2025H1','0','t','t',1,0,0,'c','g')")
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait()
    with Archive(path) as arc:
        assert [(r.scheme_id, r.current) for r in arc.runs()] == [("pingbian", True)]
        assert arc.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        arc.record(result, "h")  # and it still takes writes
        assert len(arc.runs()) == 2


def test_cli_compute_records_and_history(tmp_path, scheme):
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from villagescore.cli import app

    runner = CliRunner()
    folder = filled(scheme, tmp_path / "t")
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):
        res = runner.invoke(app, ["compute", str(folder), "-o", str(out / "汇总.xlsx"), "--force"])
        assert res.exit_code == 0, res.output
    assert "第 2 次计算" in res.output
    db = out / "villagescore.db"
    res = runner.invoke(app, ["history", "V1", "--archive", str(db)])
    assert res.exit_code == 0 and "88.52" in res.output and "已被重算" in res.output
    res = runner.invoke(app, ["history", "runs", "--archive", str(db)])
    assert res.exit_code == 0 and "2025H1" in res.output
    res = runner.invoke(app, ["history", "export", str(tmp_path / "档案.xlsx"), "--archive", str(db)])
    assert res.exit_code == 0
    assert "历次计算" in load_workbook(tmp_path / "档案.xlsx").sheetnames
    res = runner.invoke(app, ["compute", str(folder), "-o", str(out / "b.xlsx"), "--no-archive"])
    assert "档案库" not in res.output
    assert runner.invoke(app, ["history", "NOPE", "--archive", str(db)]).exit_code == 1
    assert runner.invoke(app, ["history", "runs", "--archive", str(tmp_path / "none.db")]).exit_code == 2


def test_previous_period_and_year_from_archive(tmp_path, scheme, result):
    from decimal import Decimal

    from villagescore.history import HistoryMissing, annual_from_archive, attach_previous

    h2 = compute(scheme, [filled(scheme, tmp_path / "h2", "2025H2")])
    with Archive(tmp_path / "a.db") as arc:
        with pytest.raises(HistoryMissing):
            annual_from_archive(scheme, arc, "2025")
        arc.record(result, "h")
        attach_previous(h2, arc)
        assert h2.previous_period == "2025H1"
        prev = h2.previous["V1"]
        assert (prev.score, prev.rank, prev.grade, prev.change, prev.rank_change) == (
            Decimal("88.52"), 2, "中", Decimal("0.00"), 0)
        arc.record(h2, "h")
        year = annual_from_archive(scheme, arc, "2025")
    assert year.source == "archive" and year.periods == ["2025H1", "2025H2"]
    v1 = next(u for u in year.units if u.code == "V1")
    assert v1.rounded["composite"] == Decimal("88.52") and v1.grades["grade"].grade == "中"
    v4 = next(u for u in year.units if u.code == "V4")
    assert v4.grades["grade"].grade == "好" and v4.grades["grade"].funds_change == Decimal("3000.00")
    assert "未重新读取表格" in year.notes[0]


def test_cli_year_from_archive(tmp_path, scheme):
    from typer.testing import CliRunner

    from villagescore.cli import app

    runner = CliRunner()
    out = tmp_path / "out"
    out.mkdir()
    res = runner.invoke(app, ["compute", "--period", "2025", "-o", str(out / "年度.xlsx")])
    assert res.exit_code == 2 and "找不到结果档案库" in res.output
    for period in ("2025H1", "2025H2"):
        folder = filled(scheme, tmp_path / period, period)
        res = runner.invoke(app, ["compute", str(folder), "-o", str(out / f"{period}.xlsx")])
        if period == "2025H1":
            res2 = runner.invoke(app, ["compute", "--period", "2025", "-o", str(out / "年度.xlsx")])
            assert res2.exit_code == 2 and "2025H2" in res2.output
    res = runner.invoke(app, ["compute", "--period", "2025", "-o", str(out / "年度.xlsx")])
    assert res.exit_code == 0, res.output
    assert "未重新读取表格" in res.output and "88.52" in res.output
    assert "第 3 次计算" in res.output
    assert runner.invoke(app, ["compute", "-o", str(out / "x.xlsx")]).exit_code == 2


def test_summary_shows_previous_period(tmp_path, scheme, result):
    from openpyxl import load_workbook

    from villagescore.history import attach_previous
    from villagescore.io.summary import build_summary

    h2 = compute(scheme, [filled(scheme, tmp_path / "h2", "2025H2")])
    with Archive(tmp_path / "a.db") as arc:
        arc.record(result, "h")
        attach_previous(h2, arc)
    path = tmp_path / "s.xlsx"
    path.write_bytes(build_summary(h2))
    rows = [[c.value for c in r] for r in load_workbook(path, data_only=True)["汇总"].iter_rows()]
    header = [h.replace("\n", "") if isinstance(h, str) else h for h in next(r for r in rows if r and r[0] == "排名")]
    v1 = next(r for r in rows if "V1" in r)
    assert header[header.index("得分变化") - 1] == "上期（2025年上半年）得分"
    assert v1[header.index("得分变化") - 1] == pytest.approx(88.52)
    assert v1[header.index("得分变化")] == "+0.00" and v1[header.index("名次变化")] == "持平"
