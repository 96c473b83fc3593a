"""National-scale matcher benchmark on realistic populations: prints a table (not a test).

    nice .venv/bin/python bench/bench_national.py [--sizes 10000,20000,90000]
        [--exact 10000,20000] [--lsa 10000] [--skills 10000,20000]
        [--coverage 10000,20000,90000] [--old 90000] [--priority 10000,20000] [--repeat 3]
        [--out var/bench/national.md]

Populations are ``synthetic.make_realistic_population(members, seed=1)``: scarce senior
mentors, deep line-management chains, clustered widening-access priority; sizes are members
(at 90,000: about 55,800 mentees and 47,700 places). Every measurement runs in its own
subprocess, so peak RSS is that process's. Medians of ``--repeat`` runs where it says so.

- round: members.csv in, matches.csv out (``run_offline_round``, what ``peerbridge
  match-round`` runs), stage times, matched against the bound, skills covered, peak RSS;
- coverage: the coverage stage (exact bound by maximum flow of the compressed network, network
  built and solved) against OR-Tools ``SimpleMaxFlow`` solving that same network alone, and the
  old stage (Hopcroft-Karp on the candidate graph, then one breadth-first search of the full
  feasible graph per missing match) and ``cover`` (a matching of the bound from the candidates);
- exact: the exact optimum of the round's own score over every feasible pair
  (``matching.exact``: min-cost flow with pricing, certified optimal by its potentials) and
  the round's gap to it; with ``--lsa``, also scipy ``linear_sum_assignment`` on
  capacity-expanded columns restricted to the bound (cached in var/bench/ by a hash of the
  scores);
- priority: widening-access priority on, its match rates and its score cost;
- skills: skills covered by OR-Tools min-cost flow on the top-50 candidate lists, scored with
  the same weights, against the round's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
SEED = 1
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_matching import _frame  # noqa: E402

from bench.common import (  # noqa: E402
    lsa_reference,
    machine,
    peak_mib,
    run_child,
    synthetic_members_csv,
    timed_offline_round,
)


def _members_csv(n: int) -> Path:
    """The realistic members.csv of ``n`` members (written once, reused)."""
    return synthetic_members_csv(VAR, n, SEED, realistic=True)


def _skills_covered(frame, pop, match) -> float:
    import numpy as np

    from matching.features import _as_tuple

    e = np.flatnonzero(match >= 0)
    sought = frame["skills_sought"].to_numpy(dtype=object)[pop.mentee_rows[e]]
    offered = frame["skills_offered"].to_numpy(dtype=object)[pop.mentor_rows[match[e]]]
    n_s = n_c = 0
    for s, o in zip(sought, offered, strict=True):
        s_t, o_t = _as_tuple(s), set(_as_tuple(o))
        n_s += len(s_t)
        n_c += sum(1 for x in s_t if x in o_t)
    return n_c / n_s if n_s else float("nan")


def child_round(n: int) -> dict:
    """members.csv in, matches.csv out."""
    s, wall, cpu = timed_offline_round(_members_csv(n), SEED)
    r = s.result
    return {
        "wall": wall,
        "cpu": cpu,
        "timings": s.timings,
        "cpu_timings": s.cpu_timings,
        "load": os.getloadavg()[0],
        "mentees": r.n_mentees,
        "mentors": r.n_mentors,
        "capacity": r.total_capacity,
        "matched": r.matched,
        "bound": r.bound,
        "total": r.total_score,
        "skills": r.skills_covered,
        "solver": r.solver,
        "peak_mib": peak_mib(),
    }


def child_coverage(n: int, repeat: int, old: bool) -> dict:
    """The coverage stage against SimpleMaxFlow on the same network, and the old stage."""
    from ortools.graph.python import max_flow

    from matching.assignment import augment_to_maximum, maximum_on_edges
    from matching.candidates import add_mentor_side, candidate_graph
    from matching.coverage import cover, feasible_network, maximum_cardinality
    from matching.rounds import default_candidates
    from matching.scoring import PairScorer

    frame = _frame(_members_csv(n))
    scorer = PairScorer(random_state=SEED).fit(frame)
    pop = scorer.population_
    stage, ref, build, stage_cpu, ref_cpu = [], [], [], [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        bound = maximum_cardinality(pop)
        stage.append(time.perf_counter() - t)
        stage_cpu.append(time.process_time() - c)
        t = time.perf_counter()
        tails, heads, caps, source, sink = feasible_network(pop)
        build.append(time.perf_counter() - t)
        flow = max_flow.SimpleMaxFlow()
        t, c = time.perf_counter(), time.process_time()
        flow.add_arcs_with_capacity(tails.astype("int32"), heads.astype("int32"), caps)
        flow.solve(source, sink)
        ref.append(time.perf_counter() - t)
        ref_cpu.append(time.process_time() - c)
        assert flow.optimal_flow() == bound
    out = {
        "mentees": pop.n_mentees,
        "places": int(pop.mentor_capacity.sum()),
        "bound": bound,
        "arcs": len(tails),
        "stage": statistics.median(stage),
        "build": statistics.median(build),
        "ref": statistics.median(ref),
        "stage_cpu": statistics.median(stage_cpu),
        "ref_cpu": statistics.median(ref_cpu),
    }
    if not old:  # the candidate graph and the old stage only at the sizes asked for
        out["peak_mib"] = peak_mib()
        return out
    k = default_candidates(pop.n_mentees)
    graph = add_mentor_side(scorer, candidate_graph(scorer, k), k)
    t = time.perf_counter()
    hk = maximum_on_edges(pop.n_mentees, pop.mentor_capacity, graph.mentee, graph.mentor)
    out["hk"] = time.perf_counter() - t
    out["hk_matched"] = int((hk >= 0).sum())
    t = time.perf_counter()
    m, _ = cover(pop, graph.mentee, graph.mentor, bound=bound)
    out["cover"] = time.perf_counter() - t
    out["cover_matched"] = int((m >= 0).sum())
    t = time.perf_counter()
    m, n_aug = augment_to_maximum(pop, hk)
    out["old_bfs"] = time.perf_counter() - t
    out["old_matched"] = int((m >= 0).sum())
    out["old_paths"] = n_aug
    # the old stage from a weaker start (the top-4 lists only): one BFS per missing match
    weak = candidate_graph(scorer, 4)
    hk4 = maximum_on_edges(pop.n_mentees, pop.mentor_capacity, weak.mentee, weak.mentor)
    out["weak_start"] = int((hk4 >= 0).sum())
    t = time.perf_counter()
    m, _ = cover(pop, weak.mentee, weak.mentor, bound=bound)
    out["weak_cover"] = time.perf_counter() - t
    # at most 200 paths (one BFS each): the rest would take minutes; the table shows the
    # time per path and how many the old stage would still need
    t = time.perf_counter()
    m, n_aug = augment_to_maximum(pop, hk4, max_rounds=200)
    out["weak_old"] = time.perf_counter() - t
    out["weak_old_paths"] = n_aug
    out["weak_missing"] = bound - out["weak_start"]
    out["peak_mib"] = peak_mib()
    return out


def child_exact(n: int, lsa: bool) -> dict:
    """Exact optimum of the round's own scores over every feasible pair, and the round's gap.

    ``matching.exact.exact_optimum``: min-cost flow with pricing, certified optimal on the full
    feasible graph by its potentials. With ``lsa``, also scipy ``linear_sum_assignment`` on
    capacity-expanded columns (cached in var/bench/ by a hash of the scores).
    """
    from matching.exact import exact_optimum
    from matching.rounds import RoundMatcher

    frame = _frame(_members_csv(n))
    t = time.perf_counter()
    m = RoundMatcher(random_state=SEED).fit(frame)
    ours_time = time.perf_counter() - t
    scorer = m.scorer_
    pop = scorer.population_
    t, c = time.perf_counter(), time.process_time()
    x = exact_optimum(scorer, m.candidates_)
    out = {
        "exact": x.total,
        "exact_time": time.perf_counter() - t,
        "exact_cpu": time.process_time() - c,
        "exact_matched": x.matched,
        "rounds": x.rounds,
        "added": x.added,
        "edges": x.edges,
    }
    if lsa:
        ref = lsa_reference(m, VAR, f"exact_realistic_{n}")
        out["lsa"] = ref["exact"]
        out["lsa_time"] = ref["exact_time"]
    ours = m.result_.total_score
    return {
        **out,
        "ours": ours,
        "ours_time": ours_time,
        "mentees": pop.n_mentees,
        "matched": m.result_.matched,
        "bound": m.result_.bound,
        "gap": 1 - ours / x.total if x.total else 0.0,
    }


def child_skills(n: int) -> dict:
    """Skills covered: OR-Tools min-cost flow on top-50 lists against the round."""
    import numpy as np

    from matching.assignment import solve_flow
    from matching.candidates import candidate_graph
    from matching.rounds import RoundMatcher

    frame = _frame(_members_csv(n))
    m = RoundMatcher(random_state=SEED).fit(frame)
    scorer = m.scorer_
    pop = scorer.population_
    t = time.perf_counter()
    g = candidate_graph(scorer, 50)
    ref = solve_flow(pop.n_mentees, pop.mentor_capacity, g.mentee, g.mentor, g.score)
    ref_time = time.perf_counter() - t
    e = np.flatnonzero(ref >= 0)
    return {
        "ours": _skills_covered(scorer.frame_, pop, m.match_),
        "ref": _skills_covered(scorer.frame_, pop, ref),
        "ours_matched": m.result_.matched,
        "ref_matched": len(e),
        "ours_total": m.result_.total_score,
        "ref_total": float(scorer.score_pairs(e, ref[e]).sum()),
        "ref_time": ref_time,
    }


def child_priority(n: int) -> dict:
    """The same pool with widening-access priority on: match rates and the score cost."""
    from matching.rounds import run_round

    t = time.perf_counter()
    r = run_round(_frame(_members_csv(n)), priority=True, seed=SEED)
    return {
        "prio_rate": r.priority_rate_matchable,
        "other_rate": r.other_rate_matchable,
        "prio_cost": r.priority_score_cost,
        "matched": r.matched,
        "bound": r.bound,
        "time": time.perf_counter() - t,
    }


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    """Run the benchmark and print (and save) the tables."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,20000,90000")
    ap.add_argument("--coverage", default="10000,20000,90000")
    ap.add_argument(
        "--old", default="90000", help="sizes that also build candidates and run the old BFS"
    )
    ap.add_argument("--exact", default="10000,20000")
    ap.add_argument(
        "--lsa", default="", help="sizes also checked by dense scipy LSA (10000: about 15 min)"
    )
    ap.add_argument("--skills", default="10000,20000")
    ap.add_argument("--priority", default="10000,20000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(VAR / "national.md"))
    ap.add_argument("--child", default="")
    a = ap.parse_args()
    if a.child:
        kind, n = a.child.split(":")
        jobs = {
            "round": lambda: child_round(int(n)),
            "coverage": lambda: child_coverage(int(n), a.repeat, int(n) in _ints(a.old)),
            "exact": lambda: child_exact(int(n), int(n) in _ints(a.lsa)),
            "skills": lambda: child_skills(int(n)),
            "priority": lambda: child_priority(int(n)),
        }
        print(json.dumps(jobs[kind]()))
        return
    lines = [f"Machine: {machine()}", ""]
    print(lines[0], flush=True)

    def emit(*rows: str) -> None:
        lines.extend(rows)
        print("\n".join(rows), flush=True)

    if a.sizes:
        emit(
            "Round, members.csv in to matches.csv out: wall seconds by stage, CPU seconds (every "
            "thread) in brackets.",
            "",
            "| members | mentees | mentors (places) | CSV→CSV wall (CPU) | read | features "
            "| candidates | coverage | solve | reasons | write | peak RSS | matched / bound "
            "| skills covered | load at end |",
            "|" + "---|" * 15,
        )
        stages = ("read", "features", "candidates", "coverage", "solve", "reasons", "write")
        for n in _ints(a.sizes):
            _members_csv(n)
            r = run_child(__file__, f"round:{n}")[0]
            t, c = r["timings"], r["cpu_timings"]
            cells = " | ".join(f"{t.get(x, 0):.2f} ({c.get(x, 0):.2f})" for x in stages)
            emit(
                f"| {n:,} | {r['mentees']:,} | {r['mentors']:,} ({r['capacity']:,}) "
                f"| {r['wall']:.1f} s ({r['cpu']:.1f} s) | {cells} "
                f"| {r['peak_mib']:,.0f} MiB | {r['matched']:,} / {r['bound']:,} "
                f"| {100 * r['skills']:.2f}% | {r['load']:.1f} |"
            )
    if a.coverage:
        emit(
            "",
            f"Coverage stage (medians of {a.repeat}): the exact bound, network built and solved, "
            "against OR-Tools SimpleMaxFlow solving the same network alone.",
            "",
            "| members | bound | network arcs | stage wall (build) | SimpleMaxFlow wall "
            "| stage / ref wall | stage CPU | SimpleMaxFlow CPU "
            "| HK on candidates | cover to bound | old BFS (paths) "
            "| top-4 start (matched): cover / old BFS |",
            "|" + "---|" * 12,
        )
        for n in _ints(a.coverage):
            _members_csv(n)
            c = run_child(__file__, f"coverage:{n}", "--repeat", str(a.repeat), "--old", a.old)[0]
            old = f"{c['old_bfs']:.2f} s ({c['old_paths']:,})" if "old_bfs" in c else "not run"
            hk = f"{c['hk']:.2f} s ({c['hk_matched']:,})" if "hk" in c else "not run"
            cov = f"{c['cover']:.2f} s" if "cover" in c else "not run"
            weak = (
                f"{c['weak_start']:,}: {c['weak_cover']:.2f} s" if "weak_start" in c else "not run"
            )
            weak_old = (
                f"{c['weak_old']:.1f} s for {c['weak_old_paths']:,} of {c['weak_missing']:,} "
                f"paths ({1000 * c['weak_old'] / max(c['weak_old_paths'], 1):.0f} ms a path)"
                if "weak_old" in c
                else "not run"
            )
            emit(
                f"| {n:,} | {c['bound']:,} | {c['arcs']:,} | {c['stage']:.3f} s "
                f"({c['build']:.3f}) | {c['ref']:.3f} s | {c['stage'] / c['ref']:.1f}x "
                f"| {c['stage_cpu']:.3f} s | {c['ref_cpu']:.3f} s "
                f"| {hk} | {cov} | {old} | {weak} / {weak_old} |"
            )
    if a.exact:
        emit(
            "",
            "Gap to the exact optimum of the round's own score over every feasible pair "
            "(matching.exact: min-cost flow with pricing from the round's candidate graph, "
            "certified by its potentials; most matches first, then total score).",
            "",
            "| members | mentees | matched / bound | ours total | exact total | gap "
            "| exact wall (CPU) | flow solves | edges priced in | scipy LSA total (time) |",
            "|" + "---|" * 10,
        )
        for n in _ints(a.exact):
            _members_csv(n)
            x = run_child(__file__, f"exact:{n}", "--lsa", a.lsa)[0]
            lsa = f"{x['lsa']:,.1f} ({x['lsa_time']:.0f} s)" if "lsa" in x else "not run"
            emit(
                f"| {n:,} | {x['mentees']:,} | {x['matched']:,} / {x['bound']:,} "
                f"| {x['ours']:,.1f} | {x['exact']:,.1f} | {100 * x['gap']:.4f}% "
                f"| {x['exact_time']:.1f} s ({x['exact_cpu']:.1f} s) | {x['rounds']} "
                f"| {x['added']:,} | {lsa} |"
            )
    if a.skills:
        emit(
            "",
            "Skills covered (share of matched mentees' skills sought that the mentor offers) "
            "against OR-Tools min-cost flow on top-50 lists with the same weights.",
            "",
            "| members | ours | top-50 flow | ours - flow | ours matched | flow matched "
            "| ours total | flow total |",
            "|---|---|---|---|---|---|---|---|",
        )
        for n in _ints(a.skills):
            _members_csv(n)
            s = run_child(__file__, f"skills:{n}")[0]
            emit(
                f"| {n:,} | {100 * s['ours']:.3f}% | {100 * s['ref']:.3f}% "
                f"| {100 * (s['ours'] - s['ref']):+.3f} points "
                f"| {s['ours_matched']:,} | {s['ref_matched']:,} | {s['ours_total']:,.0f} "
                f"| {s['ref_total']:,.0f} |"
            )
    if a.priority:
        emit(
            "",
            "Widening-access priority on (rates among mentees the rules allow to be matched; "
            "cost: relative loss of total score against the same round with priority off).",
            "",
            "| members | priority matched | others matched | score cost | matched / bound |",
            "|---|---|---|---|---|",
        )
        for n in _ints(a.priority):
            _members_csv(n)
            p = run_child(__file__, f"priority:{n}")[0]
            emit(
                f"| {n:,} | {100 * p['prio_rate']:.1f}% | {100 * p['other_rate']:.1f}% "
                f"| {100 * p['prio_cost']:.2f}% | {p['matched']:,} / {p['bound']:,} |"
            )
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {a.out}")


if __name__ == "__main__":
    main()
