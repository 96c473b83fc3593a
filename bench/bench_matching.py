"""Matcher benchmark: prints a table (not a timed test). Usage:

    .venv/bin/python bench/bench_matching.py [--sizes 1000,10000,50000] [--exact-max 10000]
        [--hr 1000,5000] [--suggest-mentors 25000] [--out var/bench/results.md]

Every measurement runs in its own subprocess, so peak memory is that process's max RSS:

- round: members.csv in, matches.csv out (``run_offline_round``), stage times, coverage against
  the maximum-cardinality bound, cross-organisation share, blocking pairs; "process" is the
  whole ``python`` process (interpreter start and imports included);
- priority: the same file with widening-access priority on: match rates (among mentees the
  rules allow to be matched) and the score cost against priority off;
- exact: the exact optimum of the same scores by scipy ``linear_sum_assignment`` on
  capacity-expanded columns (up to ``--exact-max`` mentees; 10k takes about 6 minutes and
  4 GiB, so it is cached in var/bench/ by a hash of the scores);
- hr: the PyPI ``matching`` library's ``HospitalResident`` (resident-optimal deferred
  acceptance) on our candidate lists, run in its own venv (it shares our package's name);
- suggest: ``MentorSuggester`` latency per request among ``--suggest-mentors`` mentors.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
HR_VENV = VAR / "hrvenv"
SEED = 1
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    lsa_reference,
    machine,
    peak_mib,
    run_child,
    synthetic_members_csv,
    timed_offline_round,
)


def _members_csv(n: int) -> Path:
    """The synthetic members.csv of ``n`` mentees (written once, reused)."""
    return synthetic_members_csv(VAR, n, SEED)


def _frame(path: Path):
    """The member frame exactly as the offline round reads it."""
    from matching.offline import OFFLINE_MAX_BYTES
    from members_csv import parse_members_csv, records_to_frame

    parsed = parse_members_csv(path.read_bytes(), max_bytes=OFFLINE_MAX_BYTES)
    return records_to_frame(parsed.records)


def child_round(n: int) -> dict:
    """members.csv in, matches.csv out."""
    s, wall, cpu = timed_offline_round(_members_csv(n), SEED)
    r = s.result
    return {
        "wall": wall,
        "cpu": cpu,
        "timings": s.timings,
        "mentees": r.n_mentees,
        "mentors": r.n_mentors,
        "capacity": r.total_capacity,
        "matched": r.matched,
        "bound": r.bound,
        "total": r.total_score,
        "cross_org": r.cross_org_share,
        "skills_covered": r.skills_covered,
        "blocking": r.blocking_pairs,
        "solver": r.solver,
        "peak_mib": peak_mib(),
    }


def child_priority(n: int) -> dict:
    """The same round with widening-access priority on."""
    from matching.rounds import run_round

    r = run_round(_frame(_members_csv(n)), priority=True, seed=SEED)
    return {
        "prio_rate": r.priority_rate_matchable,
        "other_rate": r.other_rate_matchable,
        "prio_rate_all": r.priority_rate,
        "other_rate_all": r.other_rate,
        "prio_cost": r.priority_score_cost,
        "matched": r.matched,
    }


def child_exact(n: int) -> dict:
    """Exact optimum of the round's scores (scipy LSA on capacity-expanded columns)."""
    from matching.rounds import RoundMatcher

    m = RoundMatcher(random_state=SEED).fit(_frame(_members_csv(n)))
    exact = lsa_reference(m, VAR, f"exact_{n}")
    ours = m.result_.total_score
    return {**exact, "ours": ours, "gap": 1 - ours / exact["exact"] if exact["exact"] else 0.0}


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


def child_hr(n: int, timeout: float) -> dict:
    """HospitalResident on our candidate lists with our scores as both sides' preferences."""
    import numpy as np

    from matching.rounds import RoundMatcher

    if not (HR_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(HR_VENV)], check=True)
        subprocess.run(
            [str(HR_VENV / "bin" / "pip"), "install", "-q", "matching==1.4.3"], check=True
        )
    frame = _frame(_members_csv(n))
    t = time.perf_counter()
    m = RoundMatcher(random_state=SEED).fit(frame)
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
    d = Path(tempfile.mkdtemp())
    (d / "in.json").write_text(json.dumps({"prefs": prefs, "hprefs": hp, "caps": caps}))
    (d / "hr.py").write_text(HR_SCRIPT)
    base = {
        "ours_time": ours,
        "ours_matched": m.result_.matched,
        "ours_total": m.result_.total_score,
    }
    try:
        p = subprocess.run(
            [str(HR_VENV / "bin" / "python"), str(d / "hr.py"), str(d / "in.json")],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {**base, "hr": f"did not finish in {timeout:.0f} s"}
    res = json.loads(p.stdout)
    pairs = np.array([[int(r[1:]), int(h[1:])] for r, h in res["pairs"]]).reshape(-1, 2)
    total = float(m.scorer_.score_pairs(pairs[:, 0], pairs[:, 1]).sum()) if len(pairs) else 0.0
    return {**base, "hr_time": res["time"], "hr_matched": res["matched"], "hr_total": total}


def child_suggest(n_mentors: int, requests: int = 1000) -> dict:
    """Latency of top-10 suggestions, by member id and by a profile mapping."""
    import numpy as np

    from matching.suggestions import MentorSuggester
    from matching.synthetic import make_population

    f = make_population(2 * n_mentors, n_mentors, seed=SEED)
    t = time.perf_counter()
    sug = MentorSuggester().fit(f)
    fit = time.perf_counter() - t
    rng = np.random.default_rng(SEED)
    ids = rng.choice(f["member_id"].to_numpy(), requests, replace=False)
    by_id = []
    for i in ids:
        t = time.perf_counter()
        sug.suggest(i, k=10)
        by_id.append(time.perf_counter() - t)
    profiles = [f.loc[f["member_id"] == i].iloc[0].to_dict() for i in ids[: requests // 4]]
    by_profile = []
    for p in profiles:
        t = time.perf_counter()
        sug.suggest(p, k=10)
        by_profile.append(time.perf_counter() - t)
    ms = 1000.0
    return {
        "mentors": len(sug.mentor_ids_),
        "fit": fit,
        "id_p50": float(np.median(by_id)) * ms,
        "id_p95": float(np.percentile(by_id, 95)) * ms,
        "profile_p50": float(np.median(by_profile)) * ms,
        "profile_p95": float(np.percentile(by_profile, 95)) * ms,
        "peak_mib": peak_mib(),
    }


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def main() -> None:
    """Run the benchmark and print (and save) a table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--exact-max", type=int, default=10000)
    ap.add_argument("--hr", default="1000,5000")
    ap.add_argument("--hr-timeout", type=float, default=900)
    ap.add_argument("--suggest-mentors", type=int, default=25000)
    ap.add_argument("--out", default=str(VAR / "results.md"))
    ap.add_argument("--child", default="")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if a.child:
        kind, n = a.child.split(":")
        jobs = {
            "round": lambda: child_round(int(n)),
            "priority": lambda: child_priority(int(n)),
            "exact": lambda: child_exact(int(n)),
            "hr": lambda: child_hr(int(n), a.hr_timeout),
            "suggest": lambda: child_suggest(int(n)),
        }
        print(json.dumps(jobs[kind]()))
        return

    sizes = [int(x) for x in a.sizes.split(",") if x]
    lines = [f"Machine: {machine()}", ""]
    print(lines[0], flush=True)
    head = (
        "| mentees | mentors (places) | CSV→CSV (CPU) | process | read | features | candidates "
        "| coverage | solve | reasons | write | peak RSS | matched / bound | gap to exact "
        "| cross-org | priority / others | priority cost | blocking pairs |"
    )
    lines += [head, "|" + "---|" * 18]
    for n in sizes:
        _members_csv(n)
        r, proc = run_child(__file__, f"round:{n}")
        p, _ = run_child(__file__, f"priority:{n}")
        gap = "n/a"
        if n <= a.exact_max:
            ex, _ = run_child(__file__, f"exact:{n}")
            gap = f"{100 * ex['gap']:.3f}% (exact {ex['exact_time']:.0f} s)"
        t = r["timings"]
        row = (
            f"| {r['mentees']:,} | {r['mentors']:,} ({r['capacity']:,}) "
            f"| {r['wall']:.1f} s ({r['cpu']:.1f} s) "
            f"| {proc:.1f} s | {t.get('read', 0):.1f} | {t['features']:.1f} "
            f"| {t['candidates']:.1f} | {t['coverage']:.1f} | {t['solve']:.1f} "
            f"| {t['reasons']:.1f} | {t.get('write', 0):.1f} | {r['peak_mib']:.0f} MiB "
            f"| {r['matched']:,} / {r['bound']:,} | {gap} | {_pct(r['cross_org'])} "
            f"| {_pct(p['prio_rate'])} / {_pct(p['other_rate'])} | {_pct(p['prio_cost'], 2)} "
            f"| {r['blocking']:,} |"
        )
        lines.append(row)
        print(row, flush=True)
    lines += [
        "",
        "Stage times in seconds. Priority rates are among mentees the rules allow to be matched.",
        "",
        "| mentees | HospitalResident time | ours (whole round) | speed-up | HR matched "
        "| ours matched | HR total score | ours total score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in [int(x) for x in a.hr.split(",") if x]:
        h, _ = run_child(__file__, f"hr:{n}", "--hr-timeout", str(a.hr_timeout))
        if "hr" in h:
            row = f"| {n:,} | {h['hr']} | {h['ours_time']:.1f} s | | | {h['ours_matched']:,} | |"
        else:
            row = (
                f"| {n:,} | {h['hr_time']:.1f} s | {h['ours_time']:.1f} s "
                f"| {h['hr_time'] / h['ours_time']:.1f}x | {h['hr_matched']:,} "
                f"| {h['ours_matched']:,} | {h['hr_total']:,.0f} | {h['ours_total']:,.0f} |"
            )
        lines.append(row)
        print(row, flush=True)
    if a.suggest_mentors:
        s, _ = run_child(__file__, f"suggest:{a.suggest_mentors}")
        lines += [
            "",
            "| mentors with free places | fit | top-10 by id p50 / p95 | top-10 by profile "
            "p50 / p95 | peak RSS |",
            "|---|---|---|---|---|",
            f"| {s['mentors']:,} | {s['fit']:.1f} s | {s['id_p50']:.1f} / {s['id_p95']:.1f} ms "
            f"| {s['profile_p50']:.1f} / {s['profile_p95']:.1f} ms | {s['peak_mib']:.0f} MiB |",
        ]
        print("\n".join(lines[-4:]), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {a.out}")


if __name__ == "__main__":
    main()
