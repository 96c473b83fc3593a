"""Matcher benchmark: prints a table per size (not a timed test). Usage:

    .venv/bin/python bench/bench_matching.py [--sizes 1000,10000,50000] [--hr 1000,5000]

Each size runs CSV in to CSV out in a subprocess (peak memory = its max RSS). Gap to exact
(scipy linear_sum_assignment on capacity-expanded columns) is computed up to 10k mentees.
The PyPI ``matching`` library's HospitalResident runs in its own venv under var/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HR_VENV = ROOT / "var" / "bench" / "hrvenv"


def _one(n: int, exact: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from matching.assignment import exact_assignment
    from matching.offline import run_offline_round
    from matching.synthetic import make_population, write_members_csv

    f = make_population(n, seed=1)
    d = tempfile.mkdtemp()
    write_members_csv(f, f"{d}/members.csv")
    t = time.perf_counter()
    s = run_offline_round(f"{d}/members.csv", f"{d}/matches.csv", seed=1)
    wall = time.perf_counter() - t
    r = s.result
    out = {
        "n": n,
        "wall": wall,
        "timings": s.timings,
        "matched": r.matched,
        "bound": r.bound,
        "mentees": r.n_mentees,
        "total": r.total_score,
        "cross_org": r.cross_org_share,
        "blocking": r.blocking_pairs,
    }
    sp = run_offline_round(f"{d}/members.csv", f"{d}/matches_p.csv", seed=1, priority=True).result
    out.update(
        prio_rate=sp.priority_rate_matchable,
        other_rate=sp.other_rate_matchable,
        prio_cost=sp.priority_score_cost,
    )
    if exact:
        from matching.rounds import RoundMatcher

        # the CSV carries no bio: score the same frame the round read
        m = RoundMatcher(random_state=1).fit(f.drop(columns="bio"))
        pop = m.scorer_.population_
        e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
        mm = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
        dense = m.scorer_.score_pairs(e, mm).reshape(pop.n_mentees, pop.n_mentors)
        t = time.perf_counter()
        _, ex = exact_assignment(pop, dense, cardinality=r.bound)
        out.update(exact=ex, exact_time=time.perf_counter() - t, gap=1 - r.total_score / ex)
    out["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


HR_SCRIPT = r"""
import json, sys, time
sys.setrecursionlimit(1_000_000)  # the library deep-copies linked player objects
from matching.games import HospitalResident
data = json.load(open(sys.argv[1]))
t = time.perf_counter()
game = HospitalResident.create_from_dictionaries(data["prefs"], data["hprefs"], data["caps"])
res = game.solve(optimal="resident")
m = {str(h): [str(r) for r in rs] for h, rs in res.items()}
print(json.dumps({"time": time.perf_counter() - t, "matched": sum(len(v) for v in m.values()),
                  "pairs": [[r, h] for h, rs in m.items() for r in rs]}))
"""


def _hr(n: int, timeout: float) -> dict:
    """HospitalResident on the same feasible pairs and scores (candidate lists of 32)."""
    sys.path.insert(0, str(ROOT))
    from matching.rounds import RoundMatcher
    from matching.synthetic import make_population

    if not (HR_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(HR_VENV)], check=True)
        subprocess.run([str(HR_VENV / "bin" / "pip"), "install", "-q", "matching"], check=True)
    f = make_population(n, seed=1)
    t = time.perf_counter()
    m = RoundMatcher(random_state=1).fit(f)
    ours = time.perf_counter() - t
    g = m.candidates_
    pop = m.scorer_.population_
    prefs: dict[str, list[str]] = {}
    hprefs: dict[str, list[tuple[float, str]]] = {}
    for e, j, s in zip(g.mentee, g.mentor, g.score, strict=True):
        prefs.setdefault(f"e{e}", []).append(f"m{j}")
        hprefs.setdefault(f"m{j}", []).append((-s, f"e{e}"))
    hp = {h: [r for _, r in sorted(v)] for h, v in hprefs.items()}
    caps = {h: int(pop.mentor_capacity[int(h[1:])]) for h in hp}
    d = tempfile.mkdtemp()
    Path(f"{d}/in.json").write_text(json.dumps({"prefs": prefs, "hprefs": hp, "caps": caps}))
    Path(f"{d}/hr.py").write_text(HR_SCRIPT)
    try:
        p = subprocess.run(
            [str(HR_VENV / "bin" / "python"), f"{d}/hr.py", f"{d}/in.json"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"n": n, "hr": "timeout", "ours_time": ours}
    res = json.loads(p.stdout)
    import numpy as np

    pairs = np.array([[int(r[1:]), int(h[1:])] for r, h in res["pairs"]]).reshape(-1, 2)
    total = float(m.scorer_.score_pairs(pairs[:, 0], pairs[:, 1]).sum()) if len(pairs) else 0.0
    return {
        "n": n,
        "hr_time": res["time"],
        "hr_matched": res["matched"],
        "hr_total": total,
        "ours_time": ours,
        "ours_matched": m.result_.matched,
        "ours_total": m.result_.total_score,
    }


def main() -> None:
    """Run the benchmark and print a table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--hr", default="1000,5000")
    ap.add_argument("--child", default="")
    ap.add_argument("--hr-timeout", type=float, default=600)
    a = ap.parse_args()
    if a.child:
        kind, n = a.child.split(":")
        res = _one(int(n), int(n) <= 10000) if kind == "round" else _hr(int(n), a.hr_timeout)
        print(json.dumps(res))
        return
    print(f"machine: nproc={os.cpu_count()}")
    for n in [int(x) for x in a.sizes.split(",") if x]:
        p = subprocess.run(
            [sys.executable, __file__, "--child", f"round:{n}"],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(p.stdout.strip().splitlines()[-1])
        stages = " ".join(f"{k}={v:.2f}s" for k, v in r["timings"].items())
        gap = f"{100 * r['gap']:.3f}%" if "gap" in r else "n/a"
        print(
            f"{n:>6} mentees={r['mentees']} wall={r['wall']:.1f}s peak={r['maxrss_mib']:.0f}MiB "
            f"matched={r['matched']}/{r['bound']} (bound) gap={gap} "
            f"cross-org={100 * r['cross_org']:.1f}% prio/other={r['prio_rate']:.3f}/"
            f"{r['other_rate']:.3f} prio-cost={100 * (r['prio_cost'] or 0):.2f}% "
            f"blocking={r['blocking']} | {stages}"
        )
    for n in [int(x) for x in a.hr.split(",") if x]:
        p = subprocess.run(
            [sys.executable, __file__, "--child", f"hr:{n}", "--hr-timeout", str(a.hr_timeout)],
            capture_output=True,
            text=True,
            check=True,
        )
        print("HospitalResident", p.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
