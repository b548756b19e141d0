"""County-scale benchmark: a made-up county of N villages, every system-A form filled.

    python benchmarks/county.py                      # 600 villages (about 3,000 files)
    python benchmarks/county.py --villages 6000      # growth check
    python benchmarks/county.py --scales 60,600,6000 # ms per file at each size
    python benchmarks/county.py --profile            # also where compute spends its time (pyinstrument)

It generates the county outside the repo (deterministic by --seed, with a few realistic faults:
numbers typed as text, full-width digits, one missing form), then times as whole processes
`villagescore template`, `validate` (when available) and `compute`, with wall seconds, files per
second and peak memory (RSS). In the same run it times the floor: python-calamine reading every
file's values and nothing else, and a plain pandas ``read_excel`` of every file, the way a
hand-written script would, and prints the ratios compute/floor and pandas/compute.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from villagescore.core.draw import draw_requests  # noqa: E402
from villagescore.core.records import Criterion, LedgerEntry, Unit  # noqa: E402
from villagescore.io import schemes  # noqa: E402
from villagescore.io.atomic import write_bytes_atomic  # noqa: E402
from villagescore.io.forms import (  # noqa: E402
    build_entry_workbook,
    build_setup_workbook,
    period_file_name,
    unit_folder,
)

PERIOD = "2025H1"
ASPECTS = ["班子队伍", "产业发展", "为民服务", "乡村环境", "工作实绩"]


def county(n: int) -> list[Unit]:
    return [Unit(f"C{i:05d}", f"第{i}村", "村" if i % 7 else "社区", f"书记{i:05d}", f"第{i // 30 + 1}乡",
                 Decimal(40000 + (i % 10) * 1000)) for i in range(1, n + 1)]


def criteria_of(u: Unit) -> list[Criterion]:
    return [Criterion(u.code, ASPECTS[i // 2], i + 1, f"{ASPECTS[i // 2]}细则{i % 2 + 1}", Decimal(10))
            for i in range(10)]


def ledger_of(u: Unit, rng: random.Random) -> list[LedgerEntry]:
    return [LedgerEntry(u.code, f"{u.code}-{j:03d}", "2025-03-01", f"村民{j}", "13800001111", f"诉求{j}")
            for j in range(1, rng.randint(5, 9) + 1)]


def _score(rng: random.Random, q: float, fault: bool):
    value = min(10.0, max(4.0, int(rng.gauss(q * 10, 0.8) * 2 + 0.5) / 2))
    if fault:  # what clerks type: a full-width digit, a unit suffix
        return rng.choice([str(value).translate(str.maketrans("0123456789.", "０１２３４５６７８９．")), f"{value}分"])
    return value


def _write_unit(args: tuple) -> int:
    """Every filled form of one village (runs in a worker process)."""
    scheme_name, u, seed, root, skip_questionnaire = args
    scheme = schemes.load(scheme_name)
    rng = random.Random(f"{seed}|{u.code}")
    q = 0.7 + 0.25 * rng.random()
    folder = Path(root) / unit_folder(u)
    crit = criteria_of(u)
    draw = draw_requests(ledger_of(u, random.Random(f"{seed}|ledger|{u.code}")), u.code, PERIOD, seed, 5)
    written = 0
    for form in scheme.forms:
        if form.scope != "unit" or (skip_questionnaire and form.id == "questionnaire"):
            continue
        if form.kind == "score_ballot":
            values = [{c.key: _score(rng, q, rng.random() < 0.01) for c in crit} for _ in range(form.evaluators)]
        elif form.kind == "callback":
            values = [{"method": "电话回访", "attitude": "满意", "speed": "满意", "effect": "满意",
                       "resolved": "是" if rng.random() < q else "否"} for _ in draw.entries]
        elif form.kind == "tally":
            values = [{"满意": rng.randint(20, 40), "基本满意": rng.randint(0, 10), "不满意": rng.randint(0, 5)}
                      for _ in form.rows]
        else:
            values = [{"channel": "匿名评价箱", "item": "吃拿卡要", "content": "反映收受香烟", "result": "属实"}] \
                if rng.random() > q else []
        declared = "是" if form.kind == "register" and not values else None  # nothing reported: 本期无反映
        data = build_entry_workbook(scheme, form, PERIOD, unit=u, criteria=crit, draw=draw, values=values,
                                    declared=declared)
        write_bytes_atomic(folder / period_file_name(scheme, form, PERIOD, u), data)
        written += 1
    return written


def generate(n: int, seed: int, root: Path, scheme_name: str = "pingbian") -> tuple[Path, int]:
    scheme = schemes.load(scheme_name)
    units = county(n)
    rng = random.Random(seed)
    setup = root / "00_基础信息"
    write_bytes_atomic(setup / "名册.xlsx", build_setup_workbook("roster", scheme, values=[
        {"code": u.code, "name": u.name, "type": u.type, "secretary": u.secretary, "township": u.township,
         "funds_base": u.funds_base} for u in units]))
    write_bytes_atomic(setup / "考核细则.xlsx", build_setup_workbook("criteria", scheme, values=[
        {"unit": c.unit, "aspect": c.aspect, "index": c.index, "text": c.text, "points": c.points}
        for u in units for c in criteria_of(u)]))
    write_bytes_atomic(setup / "民生诉求台账.xlsx", build_setup_workbook("ledger", scheme, values=[
        {"unit": e.unit, "request_id": e.request_id, "date": e.date, "requester": e.requester, "phone": e.phone,
         "content": e.content} for u in units for e in ledger_of(u, random.Random(f"{seed}|ledger|{u.code}"))]))
    committee = next(f for f in scheme.forms if f.scope == "township")
    write_bytes_atomic(root / period_file_name(scheme, committee, PERIOD, None), build_entry_workbook(
        scheme, committee, PERIOD, units=units,
        values=[{"township": rng.randint(80, 95), "county": rng.randint(80, 95)} for _ in units]))
    missing = units[len(units) // 2].code  # one village forgot its questionnaire
    jobs = [(scheme_name, u, seed, str(root), u.code == missing) for u in units]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        files = sum(pool.map(_write_unit, jobs, chunksize=32))
    return setup, files + 4


# ------------------------------------------------------------------ timing


def timed(cmd: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS in MB (of the largest process), exit code and CPU seconds (user + system,
    worker processes included) of a whole process (GNU time)."""
    out = tempfile.NamedTemporaryFile(suffix=".txt", delete=False)
    out.close()
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", out.name, *cmd],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    rss, user, system = Path(out.name).read_text().split()[-3:]
    os.unlink(out.name)
    return wall, int(rss) / 1024, proc.returncode, float(user) + float(system)


def startup(runs: int = 10) -> float:
    """Best wall seconds of ``villagescore --help`` over ``runs`` runs (start-up time)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cli("--help"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def machine() -> str:
    """Cores, CPU model, RAM and load: the figures mean little without them (a shared machine is slower)."""
    model, ram = "?", "?"
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "?")
    with contextlib.suppress(OSError, StopIteration, ValueError):
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        ram = f"{kb / 1024 / 1024:.0f} GB"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{os.cpu_count()} cores, {model}, {ram} RAM, load average {load}"


def workbooks(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.xlsx") if not p.name.startswith(("~$", ".")))


def floor_calamine(paths: list[Path]) -> float:
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python()
    return time.perf_counter() - start


def floor_pandas(paths: list[Path]) -> float:
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")  # pandas announces its future default engine on every call

    start = time.perf_counter()
    for p in paths:
        pd.read_excel(p, sheet_name=None, header=None)
    return time.perf_counter() - start


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "villagescore", *args]


def profile_compute(root: Path) -> None:
    """compute once more under pyinstrument (``pip install -e '.[bench]'``), every file read in one process
    so the profile sees the reading too: the call tree as text in the work folder, and its first lines here."""
    out = root / "compute-profile.txt"
    cmd = [sys.executable, "-m", "pyinstrument", "--outfile", str(out), "--renderer", "text", "--no-color",
           str(ROOT / "benchmarks" / "serial_compute.py"), "compute", str(root / "forms"),
           "-o", str(root / "summary-profiled.xlsx"), "--force", "--no-archive"]
    if subprocess.run([sys.executable, "-c", "import pyinstrument"], capture_output=True).returncode:
        print("profile: pyinstrument is not installed (pip install -e '.[bench]')")
        return
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    print(f"\nprofile of compute, files read in one process (pyinstrument; whole tree in {out}):")
    print("\n".join(lines[:60]))


def run(n: int, seed: int, work: Path, pandas: bool, profile: bool = False) -> dict:
    root = work / f"county-{n}"
    if root.exists():
        shutil.rmtree(root)
    t0 = time.perf_counter()
    setup, files = generate(n, seed, root / "forms")
    gen = time.perf_counter() - t0
    print(f"\n== {n} villages: {files} files generated in {gen:.1f} s under {root}")
    rows = []
    tpl = timed(cli("template", "--roster", str(setup / "名册.xlsx"), "--criteria", str(setup / "考核细则.xlsx"),
                    "--ledger", str(setup / "民生诉求台账.xlsx"), "--period", PERIOD, "-o", str(root / "blank"),
                    "--seed", str(seed)))
    rows.append(("template", tpl, len(workbooks(root / "blank"))))
    has_validate = subprocess.run(cli("validate", "--help"), capture_output=True).returncode == 0
    if has_validate:
        rows.append(("validate", timed(cli("validate", str(root / "forms"))), files))
    cmp_ = timed(cli("compute", str(root / "forms"), "-o", str(root / "summary.xlsx"), "--force"))
    rows.append(("compute", cmp_, files))
    paths = workbooks(root / "forms")
    floor = floor_calamine(paths)
    pd_time = floor_pandas(paths) if pandas else None
    print(f"machine: {machine()}")
    print(f"{'step':<10}{'wall s':>8}{'files/s':>10}{'peak MB':>9}{'exit':>6}{'cpu s':>8}")
    for name, (wall, rss, code, cpu), count in rows:
        print(f"{name:<10}{wall:>8.2f}{count / wall:>10.0f}{rss:>9.0f}{code:>6}{cpu:>8.2f}")
    print(f"{'floor':<10}{floor:>8.2f}{len(paths) / floor:>10.0f}{'':>9}   (python-calamine, values only, in-process)")
    if pd_time is not None:
        print(f"{'pandas':<10}{pd_time:>8.2f}{len(paths) / pd_time:>10.0f}{'':>9}   (pandas.read_excel, default engine)")
    print(f"compute / floor = {cmp_[0] / floor:.2f}" + (f"   pandas / compute = {pd_time / cmp_[0]:.1f}"
                                                       if pd_time is not None else ""))
    print(f"compute: {1000 * cmp_[0] / files:.2f} ms per file")
    print(f"--help: {startup():.2f} s (best of 10)")
    if profile:
        profile_compute(root)
    return {"n": n, "files": files, "compute": cmp_[0], "floor": floor, "rss": cmp_[1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--villages", type=int, default=600)
    ap.add_argument("--scales", default="", help="comma-separated village counts, e.g. 60,600,6000")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "villagescore-bench")
    ap.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison (slow at large N)")
    ap.add_argument("--keep", action="store_true", help="keep the generated county")
    ap.add_argument("--profile", action="store_true", help="profile compute with pyinstrument (pip install -e '.[bench]')")
    args = ap.parse_args()
    if ROOT in args.workdir.resolve().parents:
        sys.exit("choose a --workdir outside the repository")
    sizes = [int(x) for x in args.scales.split(",") if x] or [args.villages]
    results = [run(n, args.seed, args.workdir, not args.no_pandas, args.profile) for n in sizes]
    if len(results) > 1:
        print("\nGrowth (compute, ms per file):")
        for r in results:
            print(f"  {r['n']:>6} villages  {r['files']:>6} files  {1000 * r['compute'] / r['files']:7.2f} ms/file"
                  f"  peak {r['rss']:.0f} MB")
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
