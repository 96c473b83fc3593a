"""The worker's periodic pass on a lived-in network, when nothing much is due. Prints a table.

    .venv/bin/python bench/bench_periodic.py [--members 10000] [--repeat 7]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Loads ``peerbridge demo-data --members N`` (a year of history: thousands of active
mentorships) into a temporary SQLite file (and, with ``--postgres`` or
``PEERBRIDGE_BENCH_DATABASE_URL``, a fresh PostgreSQL database, dropped afterwards), runs one
pass to do what is due, marks the outbox sent (so delivery, real work, does not hide the
rest), then times as medians: the two scans of every active mentorship (check-ins, quiet
pairs), a whole pass with every step run (``PEERBRIDGE_SCAN_INTERVAL_SECONDS=0``, the
behaviour before the scans were throttled) and a whole pass as deployed (scans once per
interval). Not a timed test: the figures go into docs/operations.md with the machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("PEERBRIDGE_ENVIRONMENT", "test")

from sqlalchemy import Engine, func, update  # noqa: E402
from sqlmodel import select  # noqa: E402

from backend import demo, jobs, migrate  # noqa: E402
from backend.db import make_engine, session_scope, utcnow  # noqa: E402
from backend.mentoring import check_ins, health  # noqa: E402
from backend.mentoring.models import Mentorship  # noqa: E402
from backend.notifications.models import OutboxEmail  # noqa: E402
from backend.settings import get_settings  # noqa: E402
from bench.common import bench_arguments, machine, markdown_table, postgres_database  # noqa: E402


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)


def _step(engine: Engine, step: Callable[..., int]) -> Callable[[], object]:
    def run() -> object:
        with session_scope(engine) as session:
            return step(session=session)

    return run


def _drain_outbox(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.exec(
            update(OutboxEmail).where(OutboxEmail.sent_at.is_(None)).values(sent_at=utcnow())  # type: ignore[union-attr]
        )


def measure(engine: Engine, label: str, members: int, repeat: int) -> dict[str, object]:
    """Load the demo network into ``engine`` and time the pass; one row of the table."""
    migrate.upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        demo.load(session=session, seed=2024, members=members, if_empty=False, history=True)
    built = time.perf_counter() - started
    settings = get_settings()
    settings.scan_interval_seconds = 0.0
    jobs.run_once(engine)  # what is due now is done once
    _drain_outbox(engine)
    with session_scope(engine) as session:
        active = session.exec(
            select(func.count()).select_from(Mentorship).where(Mentorship.status == "active")
        ).one()
    every_pass = _median_ms(lambda: jobs.run_once(engine), repeat)
    check_ins_ms = _median_ms(_step(engine, check_ins.create_due), repeat)
    quiet_ms = _median_ms(_step(engine, health.nudge_quiet), repeat)
    settings.scan_interval_seconds = 300.0
    jobs.run_once(engine)  # claims the scans for the next 5 minutes
    throttled = _median_ms(lambda: jobs.run_once(engine), repeat)
    return {
        "database": label,
        "members": members,
        "active mentorships": active,
        "build s": round(built, 1),
        "check-ins scan ms": check_ins_ms,
        "quiet-pairs scan ms": quiet_ms,
        "pass, scans every pass ms": every_pass,
        "pass, scans every 5 min ms": throttled,
        "ratio": round(every_pass / throttled, 1) if throttled else float("nan"),
    }


def main() -> None:
    args = bench_arguments(__doc__ or "", members=10_000, repeat=7)
    warnings.filterwarnings("ignore")
    os.environ["PEERBRIDGE_EMAIL_BACKEND"] = "file"
    rows = []
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PEERBRIDGE_MAIL_DIR"] = folder
        get_settings.cache_clear()
        engine = make_engine(f"sqlite:///{folder}/bench.sqlite")
        rows.append(measure(engine, "SQLite", args.members, args.repeat))
        engine.dispose()
        if args.postgres:
            engine, drop = postgres_database(args.postgres, "periodic")
            try:
                rows.append(measure(engine, "PostgreSQL", args.members, args.repeat))
            finally:
                drop()
    print("\n".join(markdown_table(rows, digits=1)))


if __name__ == "__main__":
    main()
