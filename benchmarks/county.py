"""County-scale benchmark: a made-up county of N villages, every system-A form filled.

    python benchmarks/county.py                      # 600 villages (2,403 files), 3 interleaved rounds
    python benchmarks/county.py --scales 600,6000    # also 6,000 villages (24,003 files): memory per file
    python benchmarks/county.py --before ../old      # the same commands with the code of another tree, interleaved
    python benchmarks/county.py --profile            # also where compute spends its time (pyinstrument)

It generates the county outside the repo (deterministic by --seed, with a few realistic faults: numbers typed
as text, full-width digits, one missing form; ``--reuse`` keeps a county generated before), then runs, in each
of ``--rounds`` rounds, `villagescore template`, `validate` and `compute` as whole processes (wall seconds, CPU
seconds with the workers, peak memory) and the floor: python-calamine reading every file's values and nothing
else, in this process. The host may be shared: the ratios compute/floor and validate/floor are taken within a
round, and their medians reported. With several scales, peak memory per file between the two largest gives the
memory a province of 50,000 villages (200,003 files) would need.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
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
from villagescore.io.forms import build_entry_workbook, build_setup_workbook  # noqa: E402
from villagescore.io.period_forms import period_file_name, unit_folder  # noqa: E402

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


def cli(*args: str, tree: Path | None = None) -> list[str]:
    """``villagescore args`` as a whole process, with the code of ``tree`` (default: this repository)."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tree or ROOT)!r}); sys.argv[0] = 'villagescore'; "
            "from villagescore.cli import main; main()", *args]


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


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def run(n: int, seed: int, work: Path, args) -> dict:
    root = work / f"county-{n}"
    if args.reuse and (root / "forms" / "00_基础信息" / "名册.xlsx").exists():
        setup, files = root / "forms" / "00_基础信息", len(workbooks(root / "forms"))
        print(f"\n== {n} villages: {files} files generated before, under {root}")
    else:
        if root.exists():
            shutil.rmtree(root)
        t0 = time.perf_counter()
        setup, files = generate(n, seed, root / "forms")
        print(f"\n== {n} villages: {files} files generated in {time.perf_counter() - t0:.1f} s under {root}")
    paths = workbooks(root / "forms")
    trees = [("", None)] + ([("before ", args.before)] if args.before else [])
    steps: dict[str, list[tuple]] = {}
    for k in range(args.rounds):
        for label, tree in (trees if k % 2 == 0 else trees[::-1]):  # alternate who goes first
            if not args.no_template:
                blank = root / "blank"
                shutil.rmtree(blank, ignore_errors=True)
                steps.setdefault(label + "template", []).append(timed(cli(
                    "template", "--roster", str(setup / "名册.xlsx"), "--criteria", str(setup / "考核细则.xlsx"),
                    "--ledger", str(setup / "民生诉求台账.xlsx"), "--period", PERIOD, "-o", str(blank), "--seed",
                    str(seed), tree=tree)))
            steps.setdefault(label + "validate", []).append(timed(cli("validate", str(root / "forms"), tree=tree)))
            (root / "villagescore.db").unlink(missing_ok=True)
            steps.setdefault(label + "compute", []).append(timed(cli(
                "compute", str(root / "forms"), "-o", str(root / "summary.xlsx"), "--force", tree=tree)))
        floor = floor_calamine(paths)
        steps.setdefault("floor", []).append((floor, 0.0, 0, floor))
    print(f"machine: {machine()}")
    print(f"{args.rounds} rounds; median wall, median CPU (with workers), highest peak memory")
    print(f"{'step':<18}{'wall s':>8}{'cpu s':>8}{'peak MB':>9}{'exit':>6}   ratio to the floor, per round")
    floors = [s[0] for s in steps["floor"]]
    for name, runs in steps.items():
        walls = [r[0] for r in runs]
        ratios = "" if name == "floor" else " ".join(f"{w / f:.2f}" for w, f in zip(walls, floors))
        print(f"{name:<18}{_median(walls):>8.2f}{_median([r[3] for r in runs]):>8.2f}"
              f"{max(r[1] for r in runs):>9.0f}{runs[0][2]:>6}   {ratios}")
    out = {"n": n, "files": files, "floor": _median(floors)}
    for name in ("compute", "validate", "before compute", "before validate"):
        if name in steps:
            ratios = [r[0] / f for r, f in zip(steps[name], floors)]
            out[name] = _median([r[0] for r in steps[name]])
            out[name + " rss"] = max(r[1] for r in steps[name])
            print(f"{name} / floor = {_median(ratios):.2f} (median of {len(ratios)})")
    if "template" in steps:
        out["template"] = _median([r[0] for r in steps["template"]])
    print(f"compute: {1000 * out['compute'] / files:.2f} ms per file")
    print(f"--help: {startup():.2f} s (best of 10)")
    if args.profile:
        profile_compute(root)
    return out


PROVINCE = 50_000  # villages: 4 files each, plus the 3 setup files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--villages", type=int, default=600)
    ap.add_argument("--scales", default="", help="comma-separated village counts, e.g. 600,6000")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every step (medians reported)")
    ap.add_argument("--before", type=Path, help="another source tree whose commands run in the same rounds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "villagescore-bench")
    ap.add_argument("--reuse", action="store_true", help="use a county generated before in the work folder")
    ap.add_argument("--no-template", action="store_true", help="skip the template step")
    ap.add_argument("--keep", action="store_true", help="keep the generated county")
    ap.add_argument("--profile", action="store_true", help="profile compute with pyinstrument (pip install -e '.[bench]')")
    args = ap.parse_args()
    if ROOT in args.workdir.resolve().parents:
        sys.exit("choose a --workdir outside the repository")
    sizes = [int(x) for x in args.scales.split(",") if x] or [args.villages]
    results = [run(n, args.seed, args.workdir, args) for n in sizes]
    if len(results) > 1:
        print("\nGrowth (compute):")
        for r in results:
            print(f"  {r['n']:>6} villages  {r['files']:>6} files  {1000 * r['compute'] / r['files']:7.2f} ms/file"
                  f"  peak {r['compute rss']:.0f} MB (validate {r['validate rss']:.0f} MB)")
        a, b = results[-2], results[-1]
        for step in ("compute", "validate"):
            slope = (b[step + " rss"] - a[step + " rss"]) * 1024 / (b["files"] - a["files"])  # KB per file
            files = 4 * PROVINCE + 3
            at = b[step + " rss"] + slope * (files - b["files"]) / 1024
            print(f"  {step}: {slope:.2f} KB more per file; a province of {PROVINCE:,} villages ({files:,} files): "
                  f"about {at:.0f} MB")
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
