"""The commands' work as a library (villagescore/runs.py), without the command line: a compute run writes its
outputs and records itself, says what it wrote, and refuses before any work what it cannot take; nothing in
it prints."""

from __future__ import annotations

import pytest

from villagescore import runs

from township import filled


@pytest.fixture(scope="module")
def township(tmp_path_factory, scheme):
    return filled(scheme, tmp_path_factory.mktemp("runs"))


class _Said:
    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None]] = []
        self.done: list[str] = []
        self.notes: list[str] = []

    def begin(self, description, total=None):
        self.tasks.append((description, total))

    def size(self, total):
        pass

    def advance(self, current, n=1):
        self.done.append(current)

    def note(self, text):
        self.notes.append(text)


def test_compute_writes_records_and_says_what(township, tmp_path, capsys):
    said = _Said()
    done = runs.compute("pingbian", [township], output=tmp_path / "汇总.xlsx", public=tmp_path / "公示.xlsx",
                        progress=said)
    assert done.exit_code == 0 and done.output.is_file() and done.public.is_file()
    assert done.recorded == (tmp_path / runs.ARCHIVE_NAME, 1)
    assert done.result.units and all(u.ok for u in done.result.units)
    assert said.tasks == [("读取表格", len(said.done))] and said.done  # one step per file read
    assert capsys.readouterr() == ("", "")  # the library prints nothing

    with pytest.raises(runs.Refused) as refused:  # the summary exists: said before reading anything
        runs.compute("pingbian", [township], output=tmp_path / "汇总.xlsx", progress=said)
    assert "已存在" in refused.value.message and refused.value.code == 2 and len(said.tasks) == 1
    again = runs.compute("pingbian", [township], output=tmp_path / "汇总.xlsx", force=True)
    assert again.recorded == (tmp_path / runs.ARCHIVE_NAME, 2)


def test_refusals_name_what_and_where(township, tmp_path):
    with pytest.raises(runs.Refused, match="找不到文件夹"):
        runs.validate("pingbian", [tmp_path / "没有"])
    with pytest.raises(runs.Refused, match="位于输入文件夹内"):
        runs.compute("pingbian", [township], output=township / "汇总.xlsx")
    with pytest.raises(runs.Refused, match="没有单位 ZZ99") as missing:
        runs.compute("pingbian", [township], output=tmp_path / "s.xlsx")
        runs.history_unit(tmp_path / runs.ARCHIVE_NAME, "ZZ99")
    assert missing.value.code == 1
    with pytest.raises(runs.Refused) as setup:
        runs.template("pingbian", roster=tmp_path / "名册.xlsx")
    assert "--criteria、--ledger、--period" in setup.value.message and setup.value.hint.startswith("示例：")
