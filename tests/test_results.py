"""villagescore.results(archive): every archived unit result as a pandas DataFrame, from real compute runs."""

import hashlib
import subprocess
import sys
from decimal import Decimal

import pytest
from typer.testing import CliRunner

import villagescore
from villagescore.cli import app
from villagescore.io.archive import Archive
from villagescore.pipeline import compute

from township import COMMITTEE, STANDARD, fill_committee, fill_unit, filled, forms

runner = CliRunner()


@pytest.fixture(scope="module")
def archive(tmp_path_factory, scheme):
    """2025H1 computed twice (the first run no longer current), 2025H2 with other committee scores, and the
    year combined from the archive: four runs of pingbian's five villages, recorded by the command line."""
    root = tmp_path_factory.mktemp("results")
    out = root / "out"
    out.mkdir()
    h1 = filled(scheme, root / "h1", "2025H1")
    h2 = forms(scheme, root / "h2", "2025H2")
    for unit, spec in STANDARD.items():
        fill_unit(h2, unit, **spec)
    fill_committee(h2, {**COMMITTEE, "V1": (92, 88)})
    for args in ([h1, "-o", out / "h1.xlsx"], [h1, "-o", out / "h1.xlsx", "--force"], [h2, "-o", out / "h2.xlsx"],
                 ["--period", "2025", "-o", out / "year.xlsx"]):
        res = runner.invoke(app, ["compute", *map(str, args)])
        assert res.exit_code == 0, res.output
    return out / "villagescore.db"


def test_one_row_per_run_and_unit(archive):
    df = villagescore.results(archive)
    assert len(df) == 4 * 5
    assert list(df.drop_duplicates("run_id")[["run_id", "period", "current"]].itertuples(index=False, name=None)) == [
        (1, "2025H1", False), (2, "2025H1", True), (3, "2025H2", True), (4, "2025", True)]
    assert set(df["scheme"]) == {"pingbian"} and set(df["scheme_name"]) == {"村党组织书记逆向述职考评"}
    v1 = df[(df.run_id == 2) & (df.unit_code == "V1")].iloc[0]
    assert (v1.unit_name, v1.unit_type, v1.secretary, v1.township, v1.ok) == ("青山村", "村", "王小明", "青石乡", True)
    assert str(df["computed_at"].dtype).startswith("datetime64") and str(df["rank"].dtype) == "Int64"


def test_scores_ranks_grades_as_the_policy_gives_them(archive):
    df = villagescore.results(archive).set_index(["run_id", "unit_code"])
    v1 = df.loc[(2, "V1")]
    # V1 (tests/township.py): meeting mean 85.5, instant 50 + 27 + 15 = 92 → reverse 0.8×85.5 + 0.2×92 = 86.8;
    # committee 90, county 88 → composite 0.4×86.8 + 0.5×90 + 0.1×88 = 88.52
    assert (v1.score_meeting, v1.score_instant, v1.score_reverse, v1.score_composite) == (
        Decimal("85.50"), Decimal("92.00"), Decimal("86.80"), Decimal("88.52"))
    assert isinstance(v1.score_composite, Decimal)
    # H2: committee 92 → 0.4×86.8 + 0.5×92 + 0.1×88 = 89.52; the year: the mean of the halves, 89.02
    assert df.loc[(3, "V1"), "score_composite"] == Decimal("89.52")
    assert df.loc[(4, "V1"), "score_composite"] == Decimal("89.02")
    # V4: meeting 90, instant 50 + 27 + 20 = 97 → reverse 91.4 → composite 0.4×91.4 + 0.5×92 + 0.1×90 = 91.56,
    # first of five: 好 (at most 20% = 1); V5 last: 差 (at least 10% = 1); the rest 中
    h1 = df.loc[2]
    assert h1.loc["V4", "score_composite"] == Decimal("91.56")
    assert list(h1.sort_values("rank").index) == ["V4", "V1", "V2", "V3", "V5"]
    assert dict(h1["grade_grade"]) == {"V4": "好", "V1": "中", "V2": "中", "V3": "中", "V5": "差"}
    assert h1["grade_pending"].isna().all()


def test_funds_change_as_each_run_recorded_it(archive):
    df = villagescore.results(archive).set_index(["run_id", "unit_code"])
    # 好: working funds +10% of the roster's base, 差: −10% (seed 000); V4 and V5 each have a base of 30,000.
    # Seed 000 ties the money to the year's result: applied in the year's run, only 预计 in a half-year's
    assert df.loc[(4, "V4"), "funds_change"] == Decimal("3000.00")
    assert df.loc[(4, "V5"), "funds_change"] == Decimal("-3000.00")
    assert df.loc[(4, "V1"), "funds_change"] is None  # 中 changes nothing
    assert df.loc[(4, "V4"), "funds_provisional"] is None
    assert df.loc[(2, "V4"), "funds_change"] is None and df.loc[(2, "V4"), "funds_provisional"] == Decimal("3000.00")
    assert df["grade_source"].isna().all()  # no grade came from a committee's decision


def test_an_older_run_derives_funds_from_its_scheme_file(tmp_path, scheme):
    """A run recorded before the archive kept fund changes: derived from the grade's consequence in the scheme
    file found by the hash the run recorded; missing when no such file is at hand."""
    result = compute(scheme, [filled(scheme, tmp_path / "h1")])
    path = tmp_path / "other.db"
    custom = tmp_path / "我乡方案.toml"
    custom.write_bytes(scheme_bytes() + "\n# 本乡修改\n".encode())  # another file: another hash
    with Archive(path) as arc:
        arc.record(result, hashlib.sha256(custom.read_bytes()).hexdigest())
        arc.db.execute("UPDATE runs SET funds_recorded = 0")
        arc.db.execute("UPDATE unit_grades SET funds_change = NULL, provisional = 0")
    got = villagescore.results(path).set_index("unit_code")
    assert got.loc["V4", "funds_change"] is None and got.loc["V4", "funds_provisional"] is None
    given = villagescore.results(path, schemes=[custom]).set_index("unit_code")
    assert given.loc["V4", "funds_change"] is None  # a half-year: the year's result decides
    assert given.loc["V4", "funds_provisional"] == Decimal("3000.00")
    assert given.loc["V5", "funds_provisional"] == Decimal("-3000.00")


def scheme_bytes() -> bytes:
    from villagescore.io.schemes import resolve

    return resolve("pingbian").read_bytes()


def test_missing_or_empty_archive(tmp_path):
    with pytest.raises(FileNotFoundError):
        villagescore.results(tmp_path / "none.db")
    Archive(tmp_path / "empty.db").close()
    df = villagescore.results(tmp_path / "empty.db")
    assert len(df) == 0 and {"funds_change", "funds_provisional", "grade_source"} <= set(df.columns)


def test_command_line_does_not_import_pandas():
    code = "import sys, villagescore.cli; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
