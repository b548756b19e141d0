"""Phase one of reading: the setup (roster, criteria, ledger), before any form is parsed against it.

``load_setup`` reads the files given; ``folders_setup`` decides what the folders (or ``--roster``) give: one
roster, or a county of townships with a roster each. ``setup_inputs`` names what a setup was read from, so that a
setup read from the ``00_基础信息`` folders first can be told to be the one the whole folders decide.

File I/O through ``villagescore.io``; never imports typer or rich.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from villagescore.core import layout
from villagescore.core.issues import FatalInput, Issue, Report, compact
from villagescore.core.records import Setup
from villagescore.core.scheme import Scheme
from villagescore.io.reader import read_workbook
from villagescore.io.setup_reader import Read, read_setup
from villagescore.stages.collect import Collected

SETUP_DIR = layout.SETUP_DIR  # where template puts the setup files, read before the forms
SETUP_NAMES = {"roster": "名册.xlsx", "criteria": "考核细则.xlsx", "ledger": "民生诉求台账.xlsx"}


def load_setup(scheme: Scheme, roster: Path, criteria: Path | None, ledger: Path | None, *,
               read: Read = read_workbook) -> tuple[Setup, Report]:
    setup, report = read_setup(scheme, roster, criteria, ledger, read=read)
    report.issues = compact(report.issues)
    if not setup.units:
        why = "；".join(i.text() for i in report.errors[:3]) or "还没有填写任何单位，请先在名册中填写单位代码、名称和类型"
        raise FatalInput(f"名册 {roster} 中没有可用的考评对象：{why}")
    return setup, report


@dataclass
class FoldersSetup:
    """The setup a run uses, the issues of its files and, for a county, each unit's township folder."""

    setup: Setup
    issues: list[Issue]
    unit_zone: dict[str, str] | None  # a county run: each unit's township folder; None for one township


def folders_setup(scheme: Scheme, folders: list[Path], col: Collected, roster: Path | None,
                criteria: Path | None, read: Read = read_workbook) -> FoldersSetup:
    """The setup the folders (or --roster) give: one roster, or a county of townships with a roster each."""
    county = None if roster is not None else _county(scheme, folders, col, read)
    if county is not None:
        return FoldersSetup(*county)
    roster = roster or col.setup_paths.get("roster")
    criteria = criteria or col.setup_paths.get("criteria")
    if roster is None:
        raise FatalInput("没有找到名册：请把名册放在表格文件夹中（villagescore template 会放在“00_基础信息”），"
                         "或用 --roster 指定")
    setup, setup_report = load_setup(scheme, roster, criteria, None, read=read)
    return FoldersSetup(setup, setup_report.issues, None)


def _county(scheme: Scheme, folders: list[Path], col: Collected,
            read: Read = read_workbook) -> tuple[Setup, list[Issue], dict[str, str]] | None:
    """Several townships' folders, each with its own roster of different units: one county-wide setup, each
    unit's township from its roster (or its folder's name), and the folder each unit belongs to. None when
    there is one roster, or the rosters share units (the same township's periods in several folders)."""
    rosters = {z: paths["roster"] for z, paths in sorted(col.zone_setup.items(), key=lambda kv: int(kv[0]))
               if "roster" in paths}  # in the order the folders were given (11 after 2)
    if len(rosters) < 2:
        return None
    each = {}
    for z, path in rosters.items():
        each[z] = read_setup(scheme, path, col.zone_setup[z].get("criteria"), None, read=read)
    codes = [{u.code for u in s.units} for s, _ in each.values()]
    if any(a & b for i, a in enumerate(codes) for b in codes[i + 1:]):
        return None
    units, criteria, unit_zone, issues = [], {}, {}, []
    for z, (setup, rep) in each.items():
        issues.extend(rep.issues)
        name = folders[int(z)].name
        for u in setup.units:
            units.append(replace(u, township=u.township or name))
            unit_zone[u.code] = z
        criteria.update(setup.criteria)
    if not units:
        raise FatalInput("各乡镇（街道）文件夹的名册中都没有可用的考评对象")
    return Setup(units=units, criteria=criteria), issues, unit_zone


def setup_inputs(col: Collected, roster: Path | None, criteria: Path | None) -> tuple:
    """What the setup is read from: the same inputs give the same setup."""
    if roster is not None:
        return roster, criteria or col.setup_paths.get("criteria")
    zones = tuple((z, tuple(sorted(paths.items()))) for z, paths in sorted(col.zone_setup.items()))
    return None, col.setup_paths.get("roster"), criteria or col.setup_paths.get("criteria"), zones
