"""Small files that ask for a lot: wall seconds and peak memory of validate and compute on them.

    python benchmarks/big_inputs.py                   # every case
    python benchmarks/big_inputs.py --cases rows10k   # one case

Each case is the small made-up township of ``tests/township.py`` (five villages, system A) with one
village's ballot entry sheet changed the way a stress test (or an unlucky office) changed it:

* ``rows10k``: one score column typed (filled down) over 10,000 rows: a 67 KB file;
* ``rows150k``: the same over 150,000 rows (beyond the rows any sheet is read);
* ``text350k``: a 350,000-character text in the anonymous register's 备注-like column;
* ``huge``: a number of 1e308 in a score cell.

``validate`` and ``compute`` run as whole processes under GNU time, each with its address space capped
(``--limit-mb``, default 4,096) so that a case that runs away cannot take the machine down; the table gives
wall seconds, peak RSS (MB), the exit codes (-9 or 137: stopped by the cap) and the errors and warnings
``validate`` counted.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _ballot(folder: Path) -> Path:
    from township import find

    return find(folder, "ballot", "V1")


def _fill_column(path: Path, rows: int) -> None:
    """Column C of the entry sheet filled with 8 from row 5 down ``rows`` rows (as a fill-down in Excel)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    for r in range(5, 5 + rows):
        ws.cell(r, 3).value = 8
    wb.save(path)


def _long_text(folder: Path) -> None:
    """350,000 varied characters (a repeated one would be refused for its compression ratio) in a text cell,
    written into the sheet XML (openpyxl keeps 32,767, as Excel does)."""
    import random
    import re
    import zipfile

    import openpyxl

    from township import find

    from villagescore.demo import declare_none

    path = find(folder, "anonymous", "V2")
    declare_none(path, value=None)  # a report is registered: 本期无反映 cleared, as the clerk would
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    ws["B5"], ws["C5"], ws["D5"], ws["E5"] = "匿名评价箱", "吃拿卡要", "x", "不属实"
    wb.save(path)
    rng = random.Random(14)
    text = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(350_000)).encode()
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    name = "xl/worksheets/sheet1.xml"
    members[name] = re.sub(rb'<c r="D5"[^>]*?>.*?</c>', lambda m: b'<c r="D5" t="inlineStr"><is><t>' + text
                           + b"</t></is></c>", members[name], count=1, flags=re.DOTALL)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in members.items():
            z.writestr(k, v)


def _huge(folder: Path) -> None:
    import openpyxl

    path = _ballot(folder)
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0]["C5"] = 1e308
    wb.save(path)


CASES = {
    "rows10k": lambda f: _fill_column(_ballot(f), 10_000),
    "rows150k": lambda f: _fill_column(_ballot(f), 150_000),
    "text350k": _long_text,
    "huge": _huge,
}


def timed(cmd: list[str], limit_mb: int) -> tuple[float, float, int, bytes]:
    """Wall seconds, peak RSS in MB (GNU time), exit code and stdout of a whole process."""
    out = tempfile.NamedTemporaryFile(suffix=".txt", delete=False)
    out.close()

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))

    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, preexec_fn=cap, env={**os.environ, "COLUMNS": "150"})
    wall = time.perf_counter() - start
    rss = int(Path(out.name).read_text().split()[-1]) / 1024
    os.unlink(out.name)
    return wall, rss, proc.returncode, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    ap.add_argument("--keep", action="store_true", help="keep the generated folders (printed)")
    ap.add_argument("--limit-mb", type=int, default=4096, help="address-space cap of each command (MB)")
    args = ap.parse_args()
    from villagescore.io.schemes import load
    from township import filled

    scheme = load("pingbian")
    work = Path(tempfile.mkdtemp(prefix="villagescore-big-"))
    pristine = filled(scheme, work / "pristine")
    exe = [sys.executable, "-m", "villagescore"]
    print("| case | file KB | validate s | validate MB | errors / warnings | compute s | compute MB | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.cases.split(","):
        root = work / name
        folder = root / pristine.name
        shutil.copytree(pristine, folder)
        CASES[name](folder)
        size = max(p.stat().st_size for p in folder.rglob("*.xlsx")) / 1024
        v_wall, v_rss, v_code, v_out = timed([*exe, "validate", str(folder)], args.limit_mb)
        counts = re.search(r"错误 (\d+)，提示 (\d+)", v_out.decode("utf-8", "replace"))
        issues = f"{int(counts[1]):,} / {int(counts[2]):,}" if counts else "—"
        c_wall, c_rss, c_code, _ = timed([*exe, "compute", str(folder), "-o", str(root / "汇总.xlsx"),
                                          "--no-archive"], args.limit_mb)
        print(f"| {name} | {size:,.0f} | {v_wall:.2f} | {v_rss:.0f} | {issues} | {c_wall:.2f} | {c_rss:.0f} "
              f"| {v_code}/{c_code} |", flush=True)
    if args.keep:
        print(f"folders kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
