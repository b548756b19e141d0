"""Forms parsed where they are read (the setup known from 00_基础信息 first) give exactly what parsing them after
reading every file gives; when the whole folders decide on another setup, the files are parsed again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from villagescore import pipeline
from villagescore.stages import parse as parsing
from villagescore.stages import setup as setup_stage
from villagescore.io import batch
from villagescore.io.schemes import load
from villagescore.pipeline import compute, validate

from test_ingest_corpus import edit, township_copy
from township import find

ROOT = Path(__file__).resolve().parent.parent / "samples"
SAMPLES = [  # (scheme, folders, period)
    ("pingbian", ["qingshi/2025H1表格", "qingshi/2025H2表格"], "2025"),
    ("dazehu", ["qinghu/2025表格"], None),
    ("county_dynamic", ["lanxi/云岭镇/2025Q2表格", "lanxi/河西街道/2025Q2表格", "lanxi/石湾镇/2025Q2表格"], None),
    ("dazhou_street", ["yunhe/2024表格"], None),
    ("shuocheng", ["taoyuan/2024表格"], None),
]


def _late(monkeypatch) -> None:
    """Parse every form after reading all files (the path taken when the setup is not known first)."""
    monkeypatch.setattr(pipeline, "FormParser", lambda *args, **kwargs: None)


def _as_json(res) -> str:
    return json.dumps(res.as_dict(), ensure_ascii=False, sort_keys=True, default=str)


def _table(res):
    return ([(u.code, u.unit.name, u.exact, u.rounded, u.ok, {k: (g.grade, g.rank) for k, g in u.grades.items()})
             for u in res.units], res.report.as_dicts(), res.files, res.ballots, res.lists, res.items)


class _Count:
    """Counts forms parsed after reading rather than where they were read (by the reader's ``FormParser``, which
    runs in this process too when the files are few)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real, where_read = parsing.parse_form, parsing.FormParser.__call__
        reading: list[bool] = []

        def counted(*args, **kwargs):
            self.calls += not reading
            return real(*args, **kwargs)

        def read(parser, wb):
            reading.append(True)
            try:
                return where_read(parser, wb)
            finally:
                reading.pop()

        monkeypatch.setattr(parsing, "parse_form", counted)
        monkeypatch.setattr(parsing.FormParser, "__call__", read)


@pytest.mark.parametrize("scheme_id,folders,period", SAMPLES, ids=[s[1][0].split("/")[0] for s in SAMPLES])
def test_samples_the_same_parsed_early_or_late(scheme_id, folders, period, monkeypatch):
    scheme = load(scheme_id)
    paths = [ROOT / f for f in folders]
    counter = _Count(monkeypatch)
    early = compute(scheme, paths, period=period)
    early_check = _as_json(validate(scheme, paths, period=period))
    assert counter.calls == 0  # every form was parsed where it was read
    _late(monkeypatch)
    late = compute(scheme, paths, period=period)
    assert counter.calls > 0
    assert _table(early) == _table(late)
    assert early_check == _as_json(validate(scheme, paths, period=period))


def test_pool_parses_as_this_process_does(tmp_path_factory, scheme, monkeypatch):
    folder = township_copy(tmp_path_factory, scheme, "early-pool")
    edit(find(folder, "ballot", "V3"), {"D6": "八分"})
    one = compute(scheme, [folder], period="2025H1")
    monkeypatch.setattr(batch, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(batch, "PARALLEL_MIN_FILES_SPAWN", 2)
    monkeypatch.setattr(batch, "cpu_count", lambda: 2)
    pooled = compute(scheme, [folder], period="2025H1")
    assert _table(pooled) == _table(one)
    assert any(i.cell == "D6" for i in one.report.errors)


def test_another_roster_first_in_the_folders_is_used_and_forms_are_parsed_again(tmp_path_factory, scheme,
                                                                                  monkeypatch):
    """A roster outside 00_基础信息 that sorts first is the one checking uses (as before): the forms parsed
    with the 00_基础信息 roster are read and parsed again, so the result is the one without early parsing."""
    folder = township_copy(tmp_path_factory, scheme, "early-other-roster")
    first = folder / "00_名册副本.xlsx"
    shutil.copyfile(folder / "00_基础信息" / "名册.xlsx", first)
    edit(first, {"B5": "青山新村"})  # another name for the first unit: a different setup
    counter = _Count(monkeypatch)
    early = compute(scheme, [folder], period="2025H1")
    assert counter.calls > 0  # parsed again here
    assert "青山新村" in {u.unit.name for u in early.units}
    _late(monkeypatch)
    assert _table(compute(scheme, [folder], period="2025H1")) == _table(early)


def test_roster_given_on_the_command_line_parses_early(tmp_path_factory, scheme, monkeypatch):
    folder = township_copy(tmp_path_factory, scheme, "early-given")
    roster = folder.parent / "名册.xlsx"
    shutil.move(folder / "00_基础信息" / "名册.xlsx", roster)
    counter = _Count(monkeypatch)
    early = compute(scheme, [folder], period="2025H1", roster=roster)
    assert counter.calls == 0
    _late(monkeypatch)
    assert _table(compute(scheme, [folder], period="2025H1", roster=roster)) == _table(early)


def test_parsed_workbooks_keep_no_grids(tmp_path_factory, scheme):
    folder = township_copy(tmp_path_factory, scheme, "early-grids")
    from villagescore.core.issues import Report
    from villagescore.stages.collect import collect, list_folders, read_setup_files

    files = list_folders([folder])
    setup_files = read_setup_files(scheme, files)
    known = setup_stage.folders_setup(scheme, [folder], setup_files.col, None, None, setup_files.read)
    col = collect(scheme, files, Report(), setup_files=setup_files,
                  parser=parsing.FormParser(scheme, known.setup, files.bases))
    assert col.forms and all(col.workbooks[fd.file].sheets == {} for fd in col.forms)
    parsed = {fd.form_id: col.workbooks[fd.file].parsed for fd in col.forms}
    assert None not in parsed.values() and parsed["ballot"].rows


def test_setup_files_are_read_once(tmp_path_factory, scheme, monkeypatch):
    from villagescore.io import reader

    folder = township_copy(tmp_path_factory, scheme, "early-once")
    loads: list[str] = []
    real = reader._load

    def counted(path, *args, **kwargs):
        loads.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reader, "_load", counted)
    compute(scheme, [folder], period="2025H1")
    assert loads.count("名册.xlsx") == 1 and loads.count("考核细则.xlsx") == 1


def test_workers_started_by_spawn_parse_alike(tmp_path_factory, scheme, monkeypatch):
    """Where workers cannot be forked (Windows), the parser travels to them pickled: the same rows and issues."""
    import multiprocessing

    from villagescore.core.issues import Report
    from villagescore.stages.collect import collect, list_folders

    folder = township_copy(tmp_path_factory, scheme, "early-spawn")
    files = list_folders([folder])
    col = collect(scheme, files, Report())
    known = setup_stage.folders_setup(scheme, [folder], col, None, None)
    parser = parsing.FormParser(scheme, known.setup, files.bases)
    paths = sorted(p for p in folder.rglob("*.xlsx") if p.parent.name != "00_基础信息")
    serial = list(batch.read_workbooks(paths, threshold=10**9, prepare=parser))
    monkeypatch.setattr(batch, "_context", lambda: multiprocessing.get_context("spawn"))
    pooled = list(batch.read_workbooks(paths, workers=2, threshold=2, prepare=parser))
    assert [p for p, _ in pooled] == paths
    assert [wb.parsed for _, wb in pooled] == [wb.parsed for _, wb in serial]
    assert sum(wb.parsed is not None for _, wb in serial) >= 5
