"""Reading many workbooks: in this process for a small batch, on every core above a threshold.

``read_workbooks`` yields ``(path, Workbook or FileRefused)`` in the order of the paths given, so
whatever the caller builds from them is the same however the files were read. Worker processes
send back the ``Workbook`` (plain grids of values, a few kB per form) or the refusal's code and
parameters (``FileRefused`` does not survive pickling as it is). With ``prepare`` (a picklable
callable, sent once to each worker) every workbook read is passed through it where it was read,
e.g. to parse a form and send back its rows instead of its grids.

When a pool cannot be started or a worker dies (a damaged file that takes the reading library
down), the files not yet returned are read in this process, exactly as without a pool. A worker
ends by itself when the process that started it is gone (killed with kill -9, say): forked workers
share the pipes of the pool, so no end-of-file would ever tell them (``watch_parent``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from villagescore.io.reader import FileRefused, Workbook, read_workbook

# Below this many files one process is faster than starting workers (measured with
# benchmarks/county.py on 2 cores: a worker started by fork costs about as much as reading 20 files;
# by spawn, which re-imports the reader, about as much as 300).
PARALLEL_MIN_FILES = 64
PARALLEL_MIN_FILES_SPAWN = 400
MAX_WORKERS = 8
CHUNK = 16  # files per task: few enough round trips, small enough to share the work out evenly

Result = Union[Workbook, FileRefused]
Prepare = Optional[Callable[[Workbook], Workbook]]

_prepare: Prepare = None  # in a worker: what ``read_workbooks`` was given (set by ``_start``)


PARENT_CHECK_SECONDS = 0.25


def watch_parent() -> None:
    """In a worker process: end this process as soon as its parent is gone (a thread that looks every
    PARENT_CHECK_SECONDS). On POSIX an orphan is given a new parent; on Windows the parent's handle
    says it has ended."""
    ppid = os.getppid()
    parent = multiprocessing.parent_process()

    def gone() -> bool:
        if os.getppid() != ppid:
            return True
        return sys.platform == "win32" and parent is not None and not parent.is_alive()

    def watch() -> None:
        while not gone():
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="villagescore-parent-watch", daemon=True).start()


def _start(prepare: Prepare) -> None:
    global _prepare
    _prepare = prepare
    watch_parent()


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _context() -> multiprocessing.context.BaseContext:
    """fork where it exists (workers start at once, with the reader already imported), else spawn."""
    if sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _read(path: Path, prepare: Prepare = None) -> tuple:
    """One file, as a picklable record (runs in a worker)."""
    try:
        wb = read_workbook(path)
    except FileRefused as exc:
        return ("refused", exc.code, exc.params, exc.sheet, exc.cell)
    return ("ok", prepare(wb) if prepare is not None else wb)


def _read_chunk(paths: list[Path]) -> list[tuple]:
    return [_read(p, _prepare) for p in paths]


def _result(record: tuple) -> Result:
    if record[0] == "ok":
        return record[1]
    _, code, params, sheet, cell = record
    return FileRefused(code, params, sheet=sheet, cell=cell)


def _serial(paths: Iterable[Path], prepare: Prepare = None) -> Iterator[tuple[Path, Result]]:
    for p in paths:
        yield p, _result(_read(p, prepare))


def read_workbooks(paths: Iterable[Path], *, workers: int | None = None, threshold: int | None = None,
                   prepare: Prepare = None) -> Iterator[tuple[Path, Result]]:
    """``(path, Workbook or FileRefused)`` for every path, in the order given; each workbook passed
    through ``prepare`` first, when given.

    ``workers``: processes to use (default: the cores, at most MAX_WORKERS); ``threshold``: fewest
    files worth a pool (default PARALLEL_MIN_FILES, or PARALLEL_MIN_FILES_SPAWN where workers must
    re-import the reader). Below it, or with one core, files are read in this process.
    """
    paths = [Path(p) for p in paths]
    ctx = _context()
    if threshold is None:
        threshold = PARALLEL_MIN_FILES if ctx.get_start_method() == "fork" else PARALLEL_MIN_FILES_SPAWN
    workers = min(workers or cpu_count(), MAX_WORKERS)
    if workers < 2 or len(paths) < max(threshold, 2):
        yield from _serial(paths, prepare)
        return
    chunk = max(1, min(CHUNK, len(paths) // (4 * workers) or 1))
    chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start,
                                 initargs=(prepare,)) as pool:
            for batch in pool.map(_read_chunk, chunks):
                for record in batch:
                    yield paths[done], _result(record)
                    done += 1
    except (BrokenProcessPool, OSError):
        pass  # a worker died or could not start: read the rest here, as without a pool
    if done < len(paths):
        yield from _serial(paths[done:], prepare)


__all__ = ["read_workbooks", "cpu_count", "PARALLEL_MIN_FILES", "watch_parent"]
