"""Byte-flip fuzzing of the reader: any input gives a Workbook or a coded refusal, never another exception.

Seeds are a small .xlsx (identity sheet, merged cells, a formula), a hand-made .ods and, when
LibreOffice is installed, an .xls. Flips land anywhere in the file, or inside one member of a zip
before it is re-zipped (so the CRC is valid and the damaged XML reaches the parser).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from villagescore.core.issues import CODES, issue
from villagescore.core.layout import IDENTITY_SHEET
from villagescore.io.reader import MAX_ROWS, FileRefused, Workbook, read_workbook

from test_ingest_corpus import _ods


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "测评票"
    for row in [["测评票"], ["票号", "班子团结", "合计"], [1, 8.5, "=B3"], [2, "９", "=B4"]]:
        ws.append(row)
    ws.merge_cells("A1:C1")
    ids = wb.create_sheet(IDENTITY_SHEET)
    ids.append(["tool", "villagescore"])
    ids.sheet_state = "veryHidden"
    wb.save(d / "seed.xlsx")
    out = {"xlsx": (d / "seed.xlsx").read_bytes()}
    out["ods"] = _ods(d / "seed.ods", '<table:table table:name="S"><table:table-row>'
                                       '<table:table-cell office:value-type="string"><text:p>票号</text:p>'
                                       '</table:table-cell><table:table-cell office:value-type="float" '
                                       'office:value="8.5"/></table:table-row></table:table>').read_bytes()
    if shutil.which("soffice"):
        subprocess.run(["soffice", f"-env:UserInstallation=file://{d}/lo", "--headless", "--convert-to", "xls",
                        "--outdir", str(d), str(d / "seed.xlsx")], capture_output=True, timeout=120)
        if (d / "seed.xls").exists():
            out["xls"] = (d / "seed.xls").read_bytes()
    return d, out


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int | None, inner: bool) -> bytes:
    if inner and data[:2] == b"PK":
        zin = zipfile.ZipFile(io.BytesIO(data))
        names = [i.filename for i in zin.infolist()]
        target = names[flips[0][0] % len(names)]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name in names:
                body = zin.read(name)
                if name == target and body:
                    body = _mutate(body, flips[1:] or flips, cut, False)
                z.writestr(name, body)
        return buf.getvalue()
    out = bytearray(data)
    for pos, value in flips:
        out[pos % len(out)] = value
    return bytes(out[: cut % len(out)] if cut is not None else out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(["xlsx", "ods", "xls"]),
       flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 1 << 20)), inner=st.booleans())
def test_any_bytes_give_a_workbook_or_a_coded_refusal(seeds, seed, flips, cut, inner):
    folder, data = seeds
    if seed not in data:
        seed = "xlsx"
    path = folder / f"case.{seed}"
    path.write_bytes(_mutate(data[seed], flips, cut, inner))
    try:
        wb = read_workbook(path)
    except FileRefused as exc:
        assert exc.code in CODES
        text = exc.issue("case").message
        assert "{" not in text and text
    else:
        assert isinstance(wb, Workbook)
        assert all(len(g) <= MAX_ROWS and all(len(r) <= 200 for r in g) for g in wb.sheets.values())


def test_refusals_render_for_every_code():
    for code in ("file-unreadable", "password-protected", "sheet-too-large"):
        msg = issue(code, file="a.xlsx", sheet="S", cell="A1", reason="x", rows=1, cols=1).message
        assert "{" not in msg
