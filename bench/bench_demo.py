"""Demo-data benchmark: ``demo.load`` with its twelve months of history. Prints a table.

    nice .venv/bin/python bench/bench_demo.py [--members 320 50000] [--seed 2024]

Each size runs in a child process of its own on a fresh SQLite file, so its peak resident
memory (ru_maxrss) is its own. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(members: int, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from sqlmodel import Session

    from backend import demo, migrate
    from backend.db import get_engine

    engine = get_engine()
    migrate.upgrade(engine, "head")
    started = time.perf_counter()
    with Session(engine) as session:
        result = demo.load(session=session, seed=seed, members=members)
        session.commit()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(result.history.values())
    print(f"{members}\t{seconds:.1f}\t{peak:.0f}\t{rows}\t{result.learning[:40]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, nargs="+", default=[320, 50_000])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.seed)
        return
    print(f"{'members':>8} | {'seconds':>8} | {'peak MiB':>8} | {'history rows':>12} | learning")
    print("-" * 72)
    for members in args.members:
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, PEERBRIDGE_DATABASE_URL=f"sqlite:///{folder}/demo.db")
            out = (
                subprocess.run(
                    [sys.executable, __file__, "--child", str(members), "--seed", str(args.seed)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
        size, seconds, peak, rows, learning = out.split("\t")
        print(f"{size:>8} | {seconds:>8} | {peak:>8} | {rows:>12} | {learning}")


if __name__ == "__main__":
    main()
