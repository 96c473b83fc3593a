"""Helpers shared by the bench scripts: the machine line, peak memory, markdown tables, a
private PostgreSQL database, batched inserts and the cached exact (scipy LSA) reference.

Imported as ``bench.common`` (the scripts put the repository root on ``sys.path``); heavy
imports stay inside the functions so a matcher-only bench never loads the database layer.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import time
from collections.abc import Iterable
from pathlib import Path


def machine() -> str:
    """nproc, memory and CPU model of this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        mem = "unknown RAM"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, {cpu}, {mem}, Python {platform.python_version()}; " + (
        f"load average {load:.1f} at the start"
    )


def peak_mib() -> float:
    """This process's peak resident memory so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_arguments(doc: str, *, members: int, repeat: int):  # type: ignore[no-untyped-def]
    """The arguments every database bench takes: --members, --repeat and --postgres (by
    default PEERBRIDGE_BENCH_DATABASE_URL, else PEERBRIDGE_TEST_DATABASE_URL)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--members", type=int, default=members)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PEERBRIDGE_BENCH_DATABASE_URL")
        or os.environ.get("PEERBRIDGE_TEST_DATABASE_URL"),
    )
    return parser.parse_args()


def markdown_table(rows: Iterable[dict[str, object]], digits: int = 2) -> list[str]:
    """A markdown table of ``rows`` (columns: every key, in first-seen order; floats rounded)."""
    rows = list(rows)
    columns = list(dict.fromkeys(c for row in rows for c in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [
            f"{row[c]:.{digits}f}" if isinstance(row.get(c), float) else str(row.get(c, ""))
            for c in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def postgres_database(url: str, suffix: str):  # type: ignore[no-untyped-def]
    """A fresh database ``<name>_<suffix>_<pid>`` next to ``url``: (engine, drop)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from backend.db import make_engine

    base = make_url(url)
    name = f"{base.database}_{suffix}_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))

    def drop() -> None:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return engine, drop


def batched(engine, table: type, rows: list[dict], batch: int = 5000) -> None:  # type: ignore[no-untyped-def]
    """Insert ``rows`` into ``table`` in one transaction, ``batch`` rows a statement."""
    from sqlalchemy import insert

    with engine.begin() as connection:
        for start in range(0, len(rows), batch):
            connection.execute(insert(table), rows[start : start + batch])


def lsa_reference(matcher, cache_dir: Path, prefix: str) -> dict:  # type: ignore[no-untyped-def]
    """The exact optimum of a fitted ``RoundMatcher``'s scores (scipy LSA on capacity-expanded
    columns), cached in ``cache_dir`` by a hash of the scores: {exact, exact_time, peak_mib}."""
    import numpy as np

    from matching.assignment import exact_total

    scorer = matcher.scorer_
    pop = scorer.population_

    def block(rows: np.ndarray) -> np.ndarray:
        e = np.repeat(rows, pop.n_mentors)
        mm = np.tile(np.arange(pop.n_mentors), len(rows))
        return scorer.score_pairs(e, mm).reshape(len(rows), -1)

    digest = hashlib.sha256()
    for a in range(0, pop.n_mentees, 512):
        digest.update(np.round(block(np.arange(a, min(pop.n_mentees, a + 512))), 4).tobytes())
    digest.update(pop.mentor_capacity.tobytes())
    digest.update(str(matcher.result_.bound).encode())
    cache = cache_dir / f"{prefix}_{digest.hexdigest()[:16]}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    t = time.perf_counter()
    _, total = exact_total(pop, block, matcher.result_.bound)
    ref = {"exact": total, "exact_time": time.perf_counter() - t, "peak_mib": peak_mib()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(ref))
    return ref


def run_child(script: str, spec: str, *extra: str) -> tuple[dict, float]:
    """Run ``script --child spec`` in a subprocess (its own peak RSS); return the JSON it prints
    last and the process's wall time."""
    import subprocess
    import sys

    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, script, "--child", spec, *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{spec} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1]), wall


def timed_offline_round(path: Path, seed: int):  # type: ignore[no-untyped-def]
    """``run_offline_round`` on ``path`` (matches.csv to a temporary folder): the summary, wall
    seconds and CPU seconds (user + system, every thread)."""
    import tempfile

    from matching.offline import run_offline_round

    out = Path(tempfile.mkdtemp()) / "matches.csv"
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    summary = run_offline_round(path, out, seed=seed)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return summary, wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def synthetic_members_csv(folder: Path, n: int, seed: int, *, realistic: bool = False) -> Path:
    """The synthetic members.csv of ``n`` people in ``folder``, written once and reused:
    ``make_population`` (``n`` mentees) or, with ``realistic``, ``make_realistic_population``
    (``n`` members)."""
    path = folder / (
        f"realistic_{n}_seed{seed}.csv" if realistic else f"members_{n}_seed{seed}.csv"
    )
    if not path.exists():
        from matching.synthetic import make_population, make_realistic_population, write_members_csv

        make = make_realistic_population if realistic else make_population
        folder.mkdir(parents=True, exist_ok=True)
        write_members_csv(make(n, seed=seed), str(path))
    return path
