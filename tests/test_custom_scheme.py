"""A township writes its own scheme: copy a built-in TOML file, change weights, a quota and a band table.

Each test starts from the text of a built-in scheme (``templates/*.toml``), edits specific lines as a
clerk would in Notepad (every edit must match exactly once), saves the copy, checks it with
``villagescore scheme check FILE`` and uses it through ``--scheme FILE`` / ``schemes.load_file``
(the loader behind ``--scheme``). Forms are generated with the copy, typed like a clerk, and computed
with both the original and the edited scheme; the differences are written out by hand below.
"""

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from villagescore.cli import app
from villagescore.io.schemes import builtin_dir, load, load_file
from villagescore.pipeline import compute

from test_system_d import VILLAGES, _fill, _forms
from township import COMMITTEE, STANDARD, fill_committee, fill_unit, write_setup

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def edited(base: str, *changes: tuple[str, str]) -> str:
    """The built-in scheme's text with each (old, new) replacement applied; each old text occurs once."""
    text = (builtin_dir() / f"{base}.toml").read_text("utf-8")
    for old, new in changes:
        assert text.count(old) == 1, f"expected exactly one “{old}” in {base}.toml, found {text.count(old)}"
        text = text.replace(old, new)
    return text


def save_checked(folder: Path, name: str, text: str) -> Path:
    """Save the township's copy and check it the way the clerk would: ``villagescore scheme check FILE``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    res = run("scheme", "check", path)
    assert res.exit_code == 0, res.output
    assert "方案文件正确" in res.output
    return path


# ==================================================================== system A: weights and a quota

RENAME = [
    ('name = "村党组织书记逆向述职考评"', 'name = "青石乡村党组织书记逆向述职考评"'),
    ('version = "1.0"', 'version = "1.0-青石乡修订"'),
]
# 综合 = 50% 逆向 + 40% 乡党委 + 10% 县委 (was 40/50/10); 逆向 = 70% 集中 + 30% 即时 (was 80/20)
NEW_WEIGHTS = [
    ("parts = { reverse = 0.4, township = 0.5, county = 0.1 }", "parts = { reverse = 0.5, township = 0.4, county = 0.1 }"),
    ("parts = { meeting = 0.8, instant = 0.2 }", "parts = { meeting = 0.7, instant = 0.3 }"),
]


@pytest.fixture(scope="module")
def qingshi(tmp_path_factory):
    """The township's edited copy of pingbian, its forms generated through the CLI and typed like a clerk."""
    root = tmp_path_factory.mktemp("custom_a")
    path = save_checked(root / "方案", "青石乡方案", edited("pingbian", *RENAME, *NEW_WEIGHTS))
    roster, criteria, ledger = write_setup(load_file(path), root / "setup")
    folder = root / "2025H1表格"
    res = run("template", "--scheme", path, "--roster", roster, "--criteria", criteria, "--ledger", ledger,
              "--period", "2025H1", "-o", folder, "--seed", 42)
    assert res.exit_code == 0, res.output
    for unit, spec in STANDARD.items():
        fill_unit(folder, unit, **spec)
    fill_committee(folder, COMMITTEE)
    return path, folder


def _json_compute(folder: Path, scheme: str | Path, out: Path) -> dict:
    res = runner.invoke(app, ["compute", str(folder), "--scheme", str(scheme), "-o", str(out), "--json",
                              "--no-archive"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _scores(data: dict, node: str) -> dict[str, str]:
    return {u["unit_code"]: u[f"score_{node}"] for u in data["units"]}


def test_changed_weights_change_composites_exactly(qingshi, tmp_path):
    path, folder = qingshi
    original = _json_compute(folder, "pingbian", tmp_path / "原方案汇总.xlsx")
    custom = _json_compute(folder, path, tmp_path / "本乡方案汇总.xlsx")
    assert (custom["scheme_name"], custom["scheme_version"]) == ("青石乡村党组织书记逆向述职考评", "1.0-青石乡修订")
    assert original["scheme_version"] == "1.0"

    # The leaves are the same under both schemes (same forms, same typing):
    #        集中 meeting  即时 instant       乡党委  县委
    #   V1   85.5          50 + 27 + 15 = 92    90     88
    #   V2   80            30 + 30 + 20 = 80    85.5   80
    #   V3   70            40 + 30 + 20 = 90    80     80
    #   V4   90            50 + 27 + 20 = 97    92     90
    #   V5   60            20 + 18 + 15 = 53    70     70
    for data in (original, custom):
        assert _scores(data, "meeting") == {"V1": "85.50", "V2": "80.00", "V3": "70.00", "V4": "90.00", "V5": "60.00"}
        assert _scores(data, "instant") == {"V1": "92.00", "V2": "80.00", "V3": "90.00", "V4": "97.00", "V5": "53.00"}

    # Original: 逆向 = 0.8 × 集中 + 0.2 × 即时; 综合 = 0.4 × 逆向 + 0.5 × 乡党委 + 0.1 × 县委
    #   V1 68.4 + 18.4 = 86.8;  34.72 + 45 + 8.8  = 88.52
    #   V2 64 + 16 = 80;        32 + 42.75 + 8    = 82.75
    #   V3 56 + 18 = 74;        29.6 + 40 + 8     = 77.60
    #   V4 72 + 19.4 = 91.4;    36.56 + 46 + 9    = 91.56
    #   V5 48 + 10.6 = 58.6;    23.44 + 35 + 7    = 65.44
    assert _scores(original, "reverse") == {"V1": "86.80", "V2": "80.00", "V3": "74.00", "V4": "91.40", "V5": "58.60"}
    assert _scores(original, "composite") == {"V1": "88.52", "V2": "82.75", "V3": "77.60", "V4": "91.56",
                                              "V5": "65.44"}
    # Edited: 逆向 = 0.7 × 集中 + 0.3 × 即时; 综合 = 0.5 × 逆向 + 0.4 × 乡党委 + 0.1 × 县委
    #   V1 59.85 + 27.6 = 87.45;  43.725 + 36 + 8.8 = 88.525 exactly → 88.53 (half up, rounded once at the end)
    #   V2 56 + 24 = 80;          40 + 34.2 + 8      = 82.20
    #   V3 49 + 27 = 76;          38 + 32 + 8        = 78.00
    #   V4 63 + 29.1 = 92.1;      46.05 + 36.8 + 9   = 91.85
    #   V5 42 + 15.9 = 57.9;      28.95 + 28 + 7     = 63.95
    assert _scores(custom, "reverse") == {"V1": "87.45", "V2": "80.00", "V3": "76.00", "V4": "92.10", "V5": "57.90"}
    assert _scores(custom, "composite") == {"V1": "88.53", "V2": "82.20", "V3": "78.00", "V4": "91.85",
                                            "V5": "63.95"}
    # Same order either way (V4, V1, V2, V3, V5), so the grades under the 20% / 10% quotas do not move.
    for data in (original, custom):
        assert [u["unit_code"] for u in data["units"]] == ["V4", "V1", "V2", "V3", "V5"]
        assert [u["grade_grade"] for u in data["units"]] == ["好", "中", "中", "中", "差"]


def test_edited_scheme_shows_its_weights(qingshi):
    path, _ = qingshi
    res = run("scheme", "show", path)
    assert res.exit_code == 0, res.output
    for text in ("青石乡村党组织书记逆向述职考评", "版本 1.0-青石乡修订", "50% × 逆向考评得分", "40% × 乡党委评价",
                 "70% × 发展质量集中考评", "30% × 服务效果即时评价"):
        assert text in res.output


# 5 units ranked V4 91.56 > V1 88.52 > V2 82.75 > V3 77.60 > V5 65.44 under the original weights.
# “好” (cap) goes to the top floor(p × 5) units; “差” (floor) to the bottom ceil(q × 5) units.
@pytest.mark.parametrize("good, bad, good_units, bad_units", [
    ("0.20", "0.10", ["V4"], ["V5"]),                    # built-in: floor(1.0) = 1, ceil(0.5) = 1
    ("0.30", "0.10", ["V4"], ["V5"]),                    # floor(1.5) = 1: 30% of 5 still allows one 好
    ("0.40", "0.10", ["V4", "V1"], ["V5"]),              # floor(2.0) = 2
    ("0.59", "0.21", ["V4", "V1"], ["V3", "V5"]),        # floor(2.95) = 2; ceil(1.05) = 2
    ("0.60", "0.40", ["V4", "V1", "V2"], ["V3", "V5"]),  # floor(3.0) = 3; ceil(2.0) = 2
])
def test_changed_quota_counts_exactly(qingshi, tmp_path, good, bad, good_units, bad_units):
    _, folder = qingshi
    text = edited("pingbian",
                  ('{ grade = "好", kind = "cap", share = 0.20 }', f'{{ grade = "好", kind = "cap", share = {good} }}'),
                  ('{ grade = "差", kind = "floor", share = 0.10 }', f'{{ grade = "差", kind = "floor", share = {bad} }}'))
    path = save_checked(tmp_path, f"配额{good}_{bad}", text)
    res = compute(load_file(path), [folder])
    assert res.report.errors == []
    grades = {u.code: u.grades["grade"].grade for u in res.units}
    assert [c for c, g in grades.items() if g == "好"] == good_units
    assert [c for c, g in grades.items() if g == "差"] == bad_units
    assert all(g == "中" for c, g in grades.items() if c not in good_units + bad_units)
    lines = {q.grade: q for q in res.quota if q.grading == "grade"}
    assert (lines["好"].n, lines["好"].allowed, lines["好"].actual) == (5, f"≤ {len(good_units)}", len(good_units))
    assert (lines["差"].allowed, lines["差"].actual) == (f"≥ {len(bad_units)}", len(bad_units))
    # 好 adds 10% of the roster's 工作经费基数: V1 (50,000 元) gets +5,000.00 only once it is inside the quota.
    v1 = next(u for u in res.units if u.code == "V1").grades["grade"]
    assert v1.funds_change == (D("5000.00") if "V1" in good_units else None)


def test_original_quota_unchanged_by_edit_of_copy(qingshi, tmp_path):
    """Editing the copy never touches the built-in file: the built-in still caps 好 at 20%."""
    _, folder = qingshi
    res = compute(load("pingbian"), [folder])
    line = next(q for q in res.quota if q.grading == "grade" and q.grade == "好")
    assert (line.allowed, line.actual) == ("≤ 1", 1)


# ==================================================================== system D: a band table and the letters table

# 村述村评: 80%–90% now earns 85 instead of 80, and the 60-point band starts at 50% instead of 60%.
BAND_EDIT = [
    ("  { at_least = 0.8, value = 80 },", "  { at_least = 0.8, value = 85 },"),
    ("  { at_least = 0.6, value = 60 },", "  { at_least = 0.5, value = 60 },"),
]
# 安全生产 (5 points): the letters now count A 100%, B 85%, C 70%, D 55%, E 40% (was 100/90/80/70/60, the shares of
# [choices] 档次 every band item takes): the leaf writes its own table, which wins over the one its column names.
LETTER_EDIT = [
    ('field = "anquan" }', 'field = "anquan", letters = { A = 1.0, B = 0.85, C = 0.7, D = 0.55, E = 0.4 } }'),
]


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    """The street's forms generated with its edited copy of dazhou_street, typed as in test_system_d."""
    root = tmp_path_factory.mktemp("custom_d")
    both = save_checked(root / "方案", "本街道方案", edited("dazhou_street", *BAND_EDIT, *LETTER_EDIT))
    scheme = load_file(both)
    folder = _forms(scheme, root)
    _fill(scheme, folder)
    return root, folder


def _rounded(res, node):
    return {u.code: u.rounded[node] for u in res.units if u.code in VILLAGES}


def _villages(scheme, folder, node):
    res = compute(scheme, [folder])
    assert res.report.errors == []
    return _rounded(res, node), res


def test_changed_band_table_converts_exactly(street):
    root, folder = street
    bands = load_file(save_checked(root / "方案", "档次表", edited("dazhou_street", *BAND_EDIT)))
    original, _ = _villages(load("dazhou_street"), folder, "village_review")
    changed, res = _villages(bands, folder, "village_review")
    # (好 + 较好) / all votes, then the band reached, then × 0.05:
    #   V1 48/50 = 0.96 → 90 → 4.50      V5 32/50 = 0.64 → 60 → 3.00 (both tables)
    #   V2 40/50 = 0.80 → 80 → 4.00, edited 85 → 4.25
    #   V3 50/50 → 90 → 4.50             V6 20/40 = 0.50 → 40 → 2.00, edited (60 from 0.5) 60 → 3.00
    #   V4 35/50 = 0.70 → 70 → 3.50      V7 39/40 = 0.975 → 90 → 4.50      V8 10/40 = 0.25 → 40 → 2.00
    assert original == {"V1": D("4.50"), "V2": D("4.00"), "V3": D("4.50"), "V4": D("3.50"), "V5": D("3.00"),
                        "V6": D("2.00"), "V7": D("4.50"), "V8": D("2.00")}
    assert changed == {**original, "V2": D("4.25"), "V6": D("3.00")}
    totals = _rounded(res, "total")
    # totals move by exactly the converted difference: V2 89.70 + 0.25 = 89.95; V6 78.00 + 1.00 = 79.00
    assert totals == {"V1": D("99.50"), "V2": D("89.95"), "V3": D("99.00"), "V4": D("87.90"), "V5": D("80.75"),
                      "V6": D("79.00"), "V7": D("72.30"), "V8": D("58.10")}
    shown = run("scheme", "show", root / "方案" / "档次表.toml")
    assert shown.exit_code == 0, shown.output
    assert "不低于 0.8 计 85；不低于 0.7 计 70；不低于 0.5 计 60" in shown.output


def test_changed_letters_convert_exactly(street):
    root, folder = street
    letters = load_file(save_checked(root / "方案", "档次分值", edited("dazhou_street", *LETTER_EDIT)))
    original, _ = _villages(load("dazhou_street"), folder, "anquan")
    changed, res = _villages(letters, folder, "anquan")
    # 安全生产 = 5 × the share of the letter: V1, V2 (override), V3 have A; V4 B; V5, V6 C; V7 D; V8 E.
    #   original: A 5, B 4.5, C 4, D 3.5, E 3;  edited: A 5, B 4.25, C 3.5, D 2.75, E 2
    assert original == {"V1": D("5.00"), "V2": D("5.00"), "V3": D("5.00"), "V4": D("4.50"), "V5": D("4.00"),
                        "V6": D("4.00"), "V7": D("3.50"), "V8": D("3.00")}
    assert changed == {"V1": D("5.00"), "V2": D("5.00"), "V3": D("5.00"), "V4": D("4.25"), "V5": D("3.50"),
                       "V6": D("3.50"), "V7": D("2.75"), "V8": D("2.00")}
    totals = _rounded(res, "total")
    # V4 87.90 − 0.25 = 87.65; V5 80.75 − 0.5 = 80.25; V6 78.00 − 0.5 = 77.50; V7 72.30 − 0.75 = 71.55;
    # V8 58.10 − 1 = 57.10 (still below 60 → 不合格)
    assert totals == {"V1": D("99.50"), "V2": D("89.70"), "V3": D("99.00"), "V4": D("87.65"), "V5": D("80.25"),
                      "V6": D("77.50"), "V7": D("71.55"), "V8": D("57.10")}
    # V3 (second) vetoed: its 先进 place stays empty (refill = false), 良好 the next two, V6 and V7
    assert {u.code: u.grades["grade"].grade for u in res.units if u.code in VILLAGES} == {
        "V1": "先进", "V2": "先进", "V3": "不合格", "V4": "先进", "V5": "先进", "V6": "良好", "V7": "良好",
        "V8": "不合格"}
    shown = run("scheme", "show", root / "方案" / "档次分值.toml")
    assert "A=100%、B=85%、C=70%、D=55%、E=40%" in shown.output


def test_both_edits_add_up(street):
    root, folder = street
    both, res = _villages(load_file(root / "方案" / "本街道方案.toml"), folder, "total")
    # V2 band +0.25 → 89.95; V6 band +1.00 and 安全生产 −0.50 → 78.50; the letters alone move V4, V5, V7, V8.
    assert both == {"V1": D("99.50"), "V2": D("89.95"), "V3": D("99.00"), "V4": D("87.65"), "V5": D("80.25"),
                    "V6": D("78.50"), "V7": D("71.55"), "V8": D("57.10")}
