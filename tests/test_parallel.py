"""Reading in worker processes gives exactly what reading in this process gives, in the same order."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from villagescore.io import batch
from villagescore.io.guards import _inflate
from villagescore.io.reader import FileRefused, Workbook, read_workbook
from villagescore.pipeline import compute, validate

from test_ingest_corpus import book, edit, township_copy
from township import find

FORK = batch._context().get_start_method() == "fork"


@pytest.fixture(scope="module")
def messy(tmp_path_factory, scheme) -> Path:
    """The filled township plus unreadable files, a formula error and a foreign table."""
    folder = township_copy(tmp_path_factory, scheme, "parallel")
    (folder / "空文件.xlsx").write_bytes(b"")
    (folder / "其实是文本.xlsx").write_text("单位,得分\nV1,90\n", encoding="utf-8")
    (folder / "半截.xlsx").write_bytes(find(folder, "ballot", "V2").read_bytes()[:3000])
    edit(find(folder, "ballot", "V3"), {"C5": "=1/0", "D6": "八分"})
    book(folder / "自制表.xlsx", [["青山村测评票"], ["票号", "班子团结"], [1, 8.5]])
    return folder


def _key(result: Workbook | FileRefused):
    if isinstance(result, FileRefused):
        return ("refused", result.code, result.params, result.sheet, result.cell)
    return ("ok", result)


def _paths(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.xlsx"))


def test_pool_reads_the_same_as_one_process(messy):
    paths = _paths(messy)
    serial = list(batch.read_workbooks(paths, threshold=10**9))
    pooled = list(batch.read_workbooks(paths, workers=2, threshold=2))
    assert [p for p, _ in pooled] == paths == [p for p, _ in serial]
    assert [_key(r) for _, r in pooled] == [_key(r) for _, r in serial]
    codes = {r.code for _, r in serial if isinstance(r, FileRefused)}
    assert codes == {"file-unreadable"} and sum(isinstance(r, FileRefused) for _, r in serial) == 3


def test_small_batches_stay_in_this_process(messy, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started for a small batch")

    monkeypatch.setattr(batch, "ProcessPoolExecutor", no_pool)
    paths = _paths(messy)[:5]
    assert [p for p, _ in batch.read_workbooks(paths, workers=2, threshold=6)] == paths
    assert [p for p, _ in batch.read_workbooks(paths, workers=1, threshold=2)] == paths


def _as_json(res) -> str:
    data = res.as_dict()
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def test_validate_and_compute_agree_with_and_without_the_pool(messy, scheme, monkeypatch):
    one_validate = _as_json(validate(scheme, [messy]))
    one_compute = compute(scheme, [messy], period="2025H1")
    monkeypatch.setattr(batch, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(batch, "PARALLEL_MIN_FILES_SPAWN", 2)
    monkeypatch.setattr(batch, "cpu_count", lambda: 2)
    assert _as_json(validate(scheme, [messy])) == one_validate
    pooled = compute(scheme, [messy], period="2025H1")
    assert [(u.code, u.exact, u.rounded, u.ok) for u in pooled.units] == \
        [(u.code, u.exact, u.rounded, u.ok) for u in one_compute.units]
    assert pooled.report.as_dicts() == one_compute.report.as_dicts()
    assert pooled.files == one_compute.files and pooled.ballots == one_compute.ballots


_REAL_CHUNK = batch._read_chunk


def _dies(chunk):
    """A worker taken down by one file (as a crash in the reading library would)."""
    if any("半截" in p.name for p in chunk):
        os._exit(3)
    return _REAL_CHUNK(chunk)


@pytest.mark.skipif(not FORK, reason="the patched worker reaches the pool only when workers are forked")
def test_a_dying_worker_leaves_the_rest_to_this_process(messy, monkeypatch):
    paths = _paths(messy)
    serial = [_key(r) for _, r in batch.read_workbooks(paths, threshold=10**9)]
    monkeypatch.setattr(batch, "_read_chunk", _dies)
    pooled = list(batch.read_workbooks(paths, workers=2, threshold=2))
    assert [p for p, _ in pooled] == paths
    assert [_key(r) for _, r in pooled] == serial


def test_inflate_gives_what_zipfile_gives(messy):
    for path in _paths(messy):
        data = path.read_bytes()
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            continue
        for info in zf.infolist():
            assert _inflate(data, info) == zf.read(info)
    data = bytearray(find(messy, "callback", "V1").read_bytes())
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = next(i for i in zf.infolist() if i.filename.endswith("sheet1.xml"))
    info.CRC ^= 1  # a damaged member: left to zipfile, which refuses it
    assert _inflate(bytes(data), info) is None


def test_workbooks_survive_the_trip_between_processes(messy):
    import pickle

    wb = read_workbook(find(messy, "ballot", "V3"))
    assert pickle.loads(pickle.dumps(wb)) == wb
