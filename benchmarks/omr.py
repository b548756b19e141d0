"""Scanned-ballot benchmark: accuracy and speed of ``villagescore scan`` on a made-up set of filled ballots.

    python benchmarks/omr.py                    # 1,000 pages: 800 score ballots (system A), 200 vote ballots (B)
    python benchmarks/omr.py --pages 200        # a quicker look
    python benchmarks/omr.py --keep /tmp/omr    # keep the scans and the outputs to look at
    python benchmarks/omr.py --reuse /tmp/omr   # read the kept set again (after a change to the reader)

The set is made the way a township's would be, outside the repo and deterministic by --seed: the readable
ballots printed by ``template --ballots scan`` are rendered (150, 200 or 300 dpi), filled with pen-like marks
(tests/omr_sim.py: ticks and crosses of varying darkness, width, size and place), then handled as a flatbed
scanner does (slight skew, some pages upside down, a little blur and noise; batches of 25 pages in one PDF
of JPEG pages) or as a phone does (±5°, scale, perspective, blur, noise, a shadow, JPEG; one file per page).
A share of ballots (--problems) gets one question a person made uncertain: two boxes, a faint mark, a dot, a
box blacked out, or nothing; those must all land in review.

Reported: marks read correctly / sent to review / WRONG (a value written that is not what was marked: must be
0), per handling; ballots needing no review on clean scans; and the wall time of ``scan`` (reading every page
on every core, sorting them into ballots, writing every entry workbook and the overview), pages per second.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import omr_sim  # noqa: E402
from villagescore.core.omr import ballot_layout  # noqa: E402
from villagescore.core.records import Criterion, Setup, Unit  # noqa: E402
from villagescore.io import schemes  # noqa: E402
from villagescore.io.omr_pdf import ballots_pdf  # noqa: E402
from villagescore.scan import scan  # noqa: E402

PROBLEMS = ("double", "faint", "tiny", "blackout", "blank")
ASPECTS = ["班子队伍", "产业发展", "为民服务", "乡村环境", "工作实绩"]
TEXTS = ["班子团结协作，议事决策规范", "带头致富能力强", "村集体经济稳定增长", "特色产业有规划有成效", "便民服务代办及时",
         "群众诉求件件有回应", "人居环境整治成效明显", "垃圾分类和污水治理到位", "年度重点任务按期完成", "信访矛盾化解及时"]


def county(units: int, people: int = 6):
    """A made-up roster: ``units`` villages with criteria (system A) and people (system B)."""
    out, crit = [], {}
    for i in range(units):
        code = f"C{i + 1:03d}"
        out.append(Unit(code, f"第{i + 1}村", "村", f"书记{i + 1}", "示范镇"))
        crit[code] = [Criterion(code, ASPECTS[k // 2], k + 1, f"{TEXTS[k]}（{i + 1}）", Decimal(10)) for k in range(10)]
    members = []
    for u in out:
        for k in range(people):
            members.append(Unit(f"{u.code}-{k + 1}", f"干部{u.code[1:]}{k + 1}", "书记" if k == 0 else "村干部",
                                parent=u.code, post="党支部书记" if k == 0 else "村委委员", parent_name=u.name))
    return out, crit, members


def _make(job: tuple) -> list[tuple]:
    """Pages of one unit's ballots, filled and handled (runs in a worker)."""
    kind, scheme_name, unit, crit, members, serials, seed, rough_share, problem_share = job
    sch = schemes.load(scheme_name)
    form = next(f for f in sch.forms if f.kind == kind)
    lay = ballot_layout(sch, form, unit, "2025H1" if kind == "score_ballot" else "2025", criteria=crit,
                        members=members)
    pdf = ballots_pdf(lay, serials)
    rng = random.Random(seed)
    out = []
    images = {}
    for serial in serials:
        dpi = rng.choices([150, 200, 300], [3, 5, 2])[0]
        if dpi not in images:
            images[dpi] = omr_sim.render(pdf, dpi)
        page = images[dpi][serials.index(serial)]
        questions = lay.pages[0].questions
        problems = {}
        if rng.random() < problem_share:
            problems[rng.choice(questions).key] = rng.choice(PROBLEMS)
        sheet = omr_sim.fill_page(page, dpi, questions, rng, problems)
        rough = rng.random() < rough_share
        h = omr_sim.Handling.rough(rng) if rough else omr_sim.Handling.clean(rng)
        img = omr_sim.handle(sheet.image, h, rng)
        data = omr_sim.encode(img, h.jpeg or (88 if not rough else 75))
        out.append((form.id, unit.code, serial, sheet.truth, problems, rough, data))
    return out


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children (the reading workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--rough", type=float, default=0.4, help="share of pages photographed instead of scanned")
    ap.add_argument("--problems", type=float, default=0.05, help="share of ballots with one uncertain question")
    ap.add_argument("--votes", type=float, default=0.2, help="share of pages that are vote ballots (system B)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="make the set in this folder and keep it")
    ap.add_argument("--reuse", type=Path, default=None, help="read again a set kept by an earlier --keep")
    args = ap.parse_args()

    if args.reuse:
        work = args.reuse
        scans = work / "扫描件"
        saved = json.loads((work / "truth.json").read_text("utf-8"))
        units, crit, members = county(saved["units"])
        truth = {(f, c, s): (v, p, r) for f, c, s, v, p, r in saved["truth"]}
        pages = [(f, c, s, v, p, r, b"") for (f, c, s), (v, p, r) in truth.items()]
        for folder in work.glob("输出_*"):
            shutil.rmtree(folder)
    else:
        work, truth, pages, units, crit, members = make(args)
    measure(args, work, scans if args.reuse else work / "扫描件", truth, pages, units, crit, members)
    if args.keep is None and args.reuse is None:
        shutil.rmtree(work, ignore_errors=True)


def make(args):
    work = args.keep or Path(tempfile.mkdtemp(prefix="omr-bench-"))
    if work.exists():
        shutil.rmtree(work)
    scans = work / "扫描件"
    scans.mkdir(parents=True)
    vote_pages = int(args.pages * args.votes)
    score_pages = args.pages - vote_pages
    per_unit = 20
    units, crit, members = county(max(1, -(-score_pages // per_unit)))
    jobs = []
    rng = random.Random(args.seed)
    left = score_pages
    for u in units:
        n = min(per_unit, left)
        if n <= 0:
            break
        jobs.append(("score_ballot", "pingbian", u, crit[u.code], None, list(range(1, n + 1)), rng.randrange(1 << 30),
                     args.rough, args.problems))
        left -= n
    left = vote_pages
    for u in units:
        n = min(40, left)
        if n <= 0:
            break
        mem = [m for m in members if m.parent == u.code]
        dz_members = [Unit(m.code, m.name, "书记" if "书记" in m.post else "村干部", parent=m.parent, post=m.post,
                           parent_name=m.parent_name) for m in mem]
        jobs.append(("vote_ballot", "dazehu", u, [], dz_members, list(range(1, n + 1)), rng.randrange(1 << 30),
                     args.rough, args.problems))
        left -= n
    t0 = time.perf_counter()
    pages = []
    with ProcessPoolExecutor(max_workers=args.workers or os.cpu_count()) as pool:
        for got in pool.map(_make, jobs):
            pages.extend(got)
    made = time.perf_counter() - t0
    truth = {}
    batch, batch_no = [], 0
    shuffled = list(pages)
    random.Random(args.seed + 1).shuffle(shuffled)  # any order
    batches: dict[str, list[bytes]] = {}
    for form_id, code, serial, values, problems, rough, data in shuffled:
        truth[(form_id, code, serial)] = (values, problems, rough)
        folder = scans / form_id
        folder.mkdir(exist_ok=True)
        if rough:
            (folder / f"手机_{code}_{serial:02d}.jpg").write_bytes(data)
            continue
        batch = batches.setdefault(form_id, [])
        batch.append(data)
        if len(batch) == 25:
            batch_no += 1
            (folder / f"扫描批次{batch_no:03d}.pdf").write_bytes(omr_sim.scanner_pdf(batch))
            batch.clear()
    for form_id, batch in batches.items():
        if batch:
            batch_no += 1
            (scans / form_id / f"扫描批次{batch_no:03d}.pdf").write_bytes(omr_sim.scanner_pdf(batch))
    print(f"made {len(pages)} pages in {made:.1f} s ({batch_no} scanner PDFs, "
          f"{sum(1 for p in pages if p[5])} phone photos) in {work}")
    (work / "truth.json").write_text(json.dumps({"units": len(units), "truth": [
        [*k, *v] for k, v in truth.items()]}, ensure_ascii=False), "utf-8")
    return work, truth, pages, units, crit, members


def measure(args, work, scans, truth, pages, units, crit, members) -> None:

    results, cpus = {}, {}
    for scheme_name, kind, period in (("pingbian", "score_ballot", "2025H1"), ("dazehu", "vote_ballot", "2025")):
        sch = schemes.load(scheme_name)
        mem = [Unit(m.code, m.name, "书记" if "书记" in m.post else "村干部", parent=m.parent, post=m.post,
                    parent_name=m.parent_name) for m in members] if kind == "vote_ballot" else []
        setup = Setup(units=[*units, *mem], criteria=crit if kind == "score_ballot" else {})
        out = work / f"输出_{scheme_name}"
        form_id = next(f.id for f in sch.forms if f.kind == kind)
        n_pages = sum(1 for p in pages if p[0] == form_id)
        if not n_pages:
            continue
        t0 = time.perf_counter()
        cpu0 = _cpu()
        run = scan(sch, setup, scans / form_id, out, period=period, workers=args.workers)
        elapsed = time.perf_counter() - t0
        cpu = [b - a for a, b in zip(cpu0, _cpu())]
        results[scheme_name] = (run, elapsed, n_pages)
        cpus[scheme_name] = cpu

    stats = {h: dict(marks=0, right=0, review=0, wrong=0, problems=0, problems_caught=0, ballots=0, clean_ballots=0)
             for h in ("clean", "rough")}
    wrong_list = []
    for scheme_name, (run, elapsed, n_pages) in results.items():
        for us in run.units:
            review = {(it.serial, it.key) for it in us.items}
            whole = {it.serial for it in us.items if it.key == "整票"}
            for serial in range(1, us.form.evaluators + 1):
                key = (us.form.id, us.unit.code, serial)
                if key not in truth:
                    continue
                values, problems, rough = truth[key]
                s = stats["rough" if rough else "clean"]
                s["ballots"] += 1
                got = us.values.get(serial, {})
                needs = False
                for q, want in values.items():
                    have = got.get(q)
                    have = None if have is None else (str(have) if not isinstance(have, Decimal) else
                                                      format(have.normalize(), "f"))
                    if q in problems:
                        s["problems"] += 1
                        if have is None:
                            s["problems_caught"] += 1
                        else:
                            s["wrong"] += 1
                            wrong_list.append((key, q, problems[q], have))
                        continue
                    s["marks"] += 1
                    if have is None:
                        s["review"] += 1
                        needs = True
                    elif have == want:
                        s["right"] += 1
                    else:
                        s["wrong"] += 1
                        wrong_list.append((key, q, want, have))
                if serial in whole:
                    needs = True
                if not problems and not needs and not any(k[0] == serial for k in review):
                    s["clean_ballots"] += 1
                elif problems:
                    s["ballots"] -= 1  # ballots made uncertain on purpose are not counted for the no-review rate
    print()
    print("| handling | marks | read right | to review | WRONG | uncertain on purpose (caught) | ballots without review |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for h, s in stats.items():
        if not s["marks"]:
            continue
        pct = 100 * s["right"] / s["marks"]
        print(f"| {h} | {s['marks']} | {s['right']} ({pct:.2f}%) | {s['review']} | {s['wrong']} | "
              f"{s['problems']} ({s['problems_caught']}) | {s['clean_ballots']}/{s['ballots']} "
              f"({100 * s['clean_ballots'] / max(s['ballots'], 1):.1f}%) |")
    tot = {k: sum(s[k] for s in stats.values()) for k in stats["clean"]}
    print(f"| all | {tot['marks']} | {tot['right']} ({100 * tot['right'] / max(tot['marks'], 1):.2f}%) | {tot['review']} | "
          f"{tot['wrong']} | {tot['problems']} ({tot['problems_caught']}) | "
          f"{tot['clean_ballots']}/{tot['ballots']} ({100 * tot['clean_ballots'] / max(tot['ballots'], 1):.1f}%) |")
    print()
    total_pages = sum(n for _, _, n in results.values())
    total_time = sum(t for _, t, _ in results.values())
    for name, (run, elapsed, n) in results.items():
        main_cpu, workers_cpu = cpus[name]
        print(f"scan {name}: {n} ballot pages, {elapsed:.1f} s wall; CPU {main_cpu + workers_cpu:.1f} s "
              f"(this process {main_cpu:.1f} s: sorting, building and writing the workbooks; reading workers "
              f"{workers_cpu:.1f} s)")
    main_cpu = sum(c[0] for c in cpus.values())
    workers_cpu = sum(c[1] for c in cpus.values())
    print(f"CPU per page: {1000 * (main_cpu + workers_cpu) / total_pages:.0f} ms; on an idle 2-core machine about "
          f"{max(main_cpu, (main_cpu + workers_cpu) / 2):.0f} s for these {total_pages} pages "
          f"(load average now {os.getloadavg()[0]:.1f})")
    print(f"speed: {total_pages} ballot pages in {total_time:.1f} s ({total_pages / total_time:.1f} pages/s, "
          f"{1000 * total_time / total_pages:.0f} ms a page) on {args.workers or os.cpu_count()} cores")
    if wrong_list:
        print("WRONG values written:")
        for w in wrong_list[:20]:
            print("  ", w)


if __name__ == "__main__":
    main()
