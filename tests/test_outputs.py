"""A run's outputs change together or not at all, are made as colleagues can open them, and leave nothing
behind: the checks before the work, a full disk while staging or in the archive, a failed rename, the umask's
mode, several runs creating one archive at once, and reading workers after their parent is killed.

Disk errors are injected where the tool meets the system (the temp file written, the rename, SQLite's page
limit): this suite runs as root, where a read-only folder is writable."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.io import archive as archive_module
from villagescore.io import outputs as outputs_module
from villagescore.io.archive import Archive
from villagescore.io.atomic import os_reason

from township import filled

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = ("No space left", "Read-only file system", "Permission denied", "database or disk is full",
           "Input should", "Traceback")


class _Said:
    """A command's result with its output as one line (rich wraps long messages)."""

    def __init__(self, res):
        self.exit_code, self.output = res.exit_code, res.output.replace("\n", "")


def run(*args):
    return _Said(CliRunner().invoke(app, [str(a) for a in args]))


@pytest.fixture(scope="module")
def township(tmp_path_factory, scheme):
    return filled(scheme, tmp_path_factory.mktemp("outputs"))


@pytest.fixture
def done(township, tmp_path):
    """A folder with the outputs of one good run (summary, 公示, CSV, archive): what every failure must keep."""
    out = tmp_path / "汇总"
    res = run("compute", township, "-o", out / "汇总.xlsx", "--public", out / "公示.xlsx", "--csv", out / "csv")
    assert res.exit_code == 0, res.output
    return out


def _state(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the archive as its runs), to compare before and after."""
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and not p.name.startswith("villagescore.db")}
    db = folder / "villagescore.db"
    if db.exists():
        with Archive(db) as arc:
            files["runs"] = repr([(r.id, r.current) for r in arc.runs()]).encode()
    return files


def _again(township, out: Path, *extra):
    return run("compute", township, "-o", out / "汇总.xlsx", "--public", out / "公示.xlsx", "--csv", out / "csv",
               "--force", *extra)


def _clean(res) -> None:
    assert res.exit_code == 2, res.output
    assert not any(e in res.output for e in ENGLISH), res.output


# ------------------------------------------------------------------ before the work


def test_every_output_path_is_checked_before_the_work(township, tmp_path, monkeypatch):
    import villagescore.pipeline as pipeline

    monkeypatch.setattr(pipeline, "compute", lambda *a, **k: pytest.fail("read the folders before the check"))
    (tmp_path / "文件").write_text("x")
    res = run("compute", township, "-o", tmp_path / "汇总.xlsx", "--public", tmp_path / "文件" / "公示.xlsx")
    _clean(res)
    assert "公示.xlsx" in res.output and "是文件而不是文件夹" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["文件"]  # no summary, no empty villagescore.db


def test_template_and_demo_check_their_folder_first(tmp_path, scheme):
    from township import write_setup

    roster, criteria, ledger = write_setup(scheme, tmp_path / "setup")
    (tmp_path / "文件").write_text("x")
    res = run("template", "--roster", roster, "--criteria", criteria, "--ledger", ledger, "--period", "2025H1",
              "-o", tmp_path / "文件" / "表格")
    _clean(res)
    assert "无法写入" in res.output and "是文件而不是文件夹" in res.output
    res = run("demo", "-o", tmp_path / "文件" / "演示")
    _clean(res)
    assert "是文件而不是文件夹" in res.output


def test_a_read_only_folder_is_said_before_the_work(township, tmp_path, monkeypatch):
    import tempfile

    ro = tmp_path / "只读"
    ro.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):  # noqa: A002 - tempfile's own name
        if dir is not None and Path(dir) == ro:
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(outputs_module.tempfile, "mkstemp", mkstemp)
    res = run("compute", township, "-o", tmp_path / "汇总.xlsx", "--public", ro / "公示.xlsx")
    _clean(res)
    assert "所在的磁盘或文件夹是只读的" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["只读"]


# ------------------------------------------------------------------ during the commit


def test_a_full_disk_while_staging_changes_nothing(township, done, monkeypatch):
    before = _state(done)
    real = outputs_module.write_temp

    def write_temp(path, data):
        if path.name == "公示.xlsx":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(outputs_module, "write_temp", write_temp)
    res = _again(township, done)
    _clean(res)
    assert "公示.xlsx" in res.output and "磁盘空间不足" in res.output
    assert _state(done) == before  # the summary staged first was not put in place; no temp file left


def test_a_full_disk_in_the_archive_is_said_as_such_and_changes_nothing(township, done, monkeypatch):
    before = _state(done)
    real = Archive._record

    def record(self, result, digest):
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
        return real(self, result, digest)

    monkeypatch.setattr(Archive, "_record", record)
    res = _again(township, done)
    _clean(res)
    assert "磁盘空间不足" in res.output and "损坏" not in res.output
    assert "汇总表等输出文件均未改动" in res.output
    assert _state(done) == before


def test_a_failed_rename_puts_everything_back(township, done, monkeypatch):
    before = _state(done)
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "units.csv" and str(src).endswith(".tmp"):
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    res = _again(township, done)
    _clean(res)
    assert "units.csv" in res.output and "其他输出文件和结果档案库均未改动" in res.output
    monkeypatch.undo()
    assert _state(done) == before  # summary and 公示 put back, the run withdrawn, the old run current again


def test_reasons_are_chinese():
    for code in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.ENOENT, errno.EDQUOT, errno.EIO, errno.EXDEV):
        text = os_reason(OSError(code, os.strerror(code)))
        assert text and text.isascii() is False and os.strerror(code) not in text
    assert archive_module.sqlite_reason(__import__("sqlite3").OperationalError("database or disk is full")) == \
        "磁盘空间不足"


def test_a_disk_io_error_on_a_full_disk_is_a_full_disk(tmp_path, monkeypatch):
    """SQLite says "disk I/O error" when WAL mode's shared-memory file cannot grow, and for some writes on a full
    disk (seen on a 600 KB tmpfs): said as 磁盘空间不足, never as a damaged archive."""
    import shutil
    import sqlite3

    shm = sqlite3.OperationalError("disk I/O error")
    shm.sqlite_errorcode = 4874  # SQLITE_IOERR_SHMSIZE
    assert archive_module.sqlite_reason(shm) == "磁盘空间不足"
    write = sqlite3.OperationalError("disk I/O error")
    write.sqlite_errorcode = 778  # SQLITE_IOERR_WRITE
    assert "磁盘读写出错" in archive_module.sqlite_reason(write, tmp_path / "a.db")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10 << 20, 10 << 20, 4096))
    assert archive_module.sqlite_reason(write, tmp_path / "a.db") == "磁盘空间不足"


# ------------------------------------------------------------------ file modes


def test_outputs_get_the_umask_mode_or_keep_theirs(township, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "new"
        res = run("compute", township, "-o", out / "汇总.xlsx", "--public", out / "公示.xlsx", "--csv", out / "csv")
        assert res.exit_code == 0, res.output
        for p in (out / "汇总.xlsx", out / "公示.xlsx", out / "csv" / "units.csv", out / "csv" / "issues.csv"):
            assert stat.S_IMODE(p.stat().st_mode) == 0o644, p
        (out / "汇总.xlsx").chmod(0o640)
        res = run("compute", township, "-o", out / "汇总.xlsx", "--force", "--no-archive")
        assert res.exit_code == 0, res.output
        assert stat.S_IMODE((out / "汇总.xlsx").stat().st_mode) == 0o640
        report = tmp_path / "问题清单.xlsx"
        assert run("validate", township, "--report", report).exit_code == 0
        assert stat.S_IMODE(report.stat().st_mode) == 0o644
        assert not list(out.glob(".*"))  # no temp file or old copy left
    finally:
        os.umask(old)


# ------------------------------------------------------------------ several runs, one new archive

RACE = textwrap.dedent("""
    import multiprocessing as mp, sys
    from pathlib import Path
    from villagescore.io.archive import Archive
    from villagescore.io.schemes import load
    from villagescore.core.run import run_result

    result = run_result(load("pingbian"), "2025H1", ["2025H1"], [], [], [])

    def one(path, barrier, out):
        barrier.wait()
        try:
            with Archive(path) as arc:
                out.put(("ok", arc.record(result, "h")))
        except Exception as exc:
            out.put(("failed", repr(exc)))

    if __name__ == "__main__":
        ctx = mp.get_context("fork")
        got = []
        for k in range(int(sys.argv[2])):
            path = Path(sys.argv[1]) / f"{k}.db"
            barrier, out = ctx.Barrier(4), ctx.Queue()
            procs = [ctx.Process(target=one, args=(path, barrier, out)) for _ in range(4)]
            for p in procs: p.start()
            results = [out.get(timeout=60) for _ in procs]
            for p in procs: p.join()
            with Archive(path) as arc:
                runs = arc.runs()
            got.append([results, len(runs), sum(r.current for r in runs)])
        print(__import__("json").dumps(got))
""")


def test_four_runs_creating_one_archive_all_land(tmp_path):
    done = subprocess.run([sys.executable, "-c", RACE, str(tmp_path), "5"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    for results, runs, current in json.loads(done.stdout):
        assert [r[0] for r in results] == ["ok"] * 4, results
        assert runs == 4 and current == 1


# ------------------------------------------------------------------ workers after kill -9

ORPHANS = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from villagescore.io.batch import read_workbooks

    def slow(wb):
        time.sleep(120)
        return wb

    for _ in read_workbooks([Path(sys.argv[1])] * 8, workers=2, threshold=2, prepare=slow):
        pass
""")


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the workers")
def test_reading_workers_end_when_their_parent_is_killed(tmp_path):
    book = tmp_path / "a.xlsx"
    openpyxl.Workbook().save(book)
    parent = subprocess.Popen([sys.executable, "-c", ORPHANS, str(book)], cwd=ROOT)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(workers := _children(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) >= 2, "no workers started"
        time.sleep(0.5)  # the workers are reading (sleeping in ``slow``)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(map(_alive, workers)), "reading workers outlived their parent"
    finally:
        for pid in workers + _children(parent.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.kill()
