"""Import benchmark: a ~20 MB, ~240,000-row members CSV into SQLite. Prints a table.

    nice .venv/bin/python bench/bench_import.py [--rows 240000] [--probe-interval 0.2]

Each variant runs in a child process of its own on a fresh SQLite file, so that its peak
resident memory (ru_maxrss) is its own:

- ``one transaction``: the old path, ``import_members`` (what ``/organise/import`` did inside
  the request), the reference;
- ``job in chunks``: the new path, ``start_import`` then ``run_import_job``;
- ``parse and check``: only the job's first phase (parse the file, check it against the
  database), where the job's peak memory is reached; quick enough for the full 240,000 rows.

``--tree DIR`` runs the variants on another checkout of the code (``git archive`` of an earlier
commit, say), so a change can be measured against its parent in the same run.

While each runs, a probe thread in the same process writes a row every ``--probe-interval``
seconds from its own session (as a log-in would) and records how long each write waited:
the longest wait is how long the rest of the site would have stood still. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PEERBRIDGE_ENVIRONMENT", "test")


def members_file(rows: int) -> bytes:
    """A valid members CSV of ``rows`` short rows (about 80 bytes each, as in the issue)."""
    header = (
        "member_id,name,email,organisation,region,role_family,band,profession,"
        "management_years,seeking_mentor,mentor_capacity,meeting_format,"
        "outside_organisation_only,priority_access\r\n"
    )
    regions = ("London", "Midlands", "London", "North West")
    lines = [header]
    for n in range(rows):
        lines.append(
            f"M{n},A{n},m{n}@nhs.uk,T{n % 97},{regions[n % 4]},finance,{4 + n % 4},doctor,"
            f"{n % 9},{'yes' if n % 3 else 'no'},{n % 2},either,no,no\r\n"
        )
    return "".join(lines).encode("utf-8")


def child(variant: str, path: str, probe_interval: float) -> None:
    """Run one variant here and print: seconds, peak RSS (MiB), probe waits, members."""
    from sqlalchemy import func, text
    from sqlalchemy.exc import OperationalError
    from sqlmodel import select

    from backend import migrate
    from backend.db import make_engine, session_factory
    from backend.members import importing
    from backend.members.models import Member
    from tests.factories import make_organiser

    engine = make_engine(f"sqlite:///{Path(path).with_suffix('.db')}")
    migrate.upgrade(engine)
    with session_factory(engine)() as session:
        organiser = make_organiser(session)
        session.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, at TEXT)"))
        session.commit()
    data = Path(path).read_bytes()
    waits: list[float] = []
    stop = threading.Event()

    failures = [0]

    def probe() -> None:
        while not stop.wait(probe_interval):
            started = time.monotonic()
            try:
                with session_factory(engine)() as other:
                    other.execute(text("INSERT INTO probe (at) VALUES ('x')"))
                    other.commit()
            except OperationalError:  # "database is locked" after the 30 s busy timeout
                failures[0] += 1
            waits.append(time.monotonic() - started)

    prober = threading.Thread(target=probe, daemon=True)
    started = time.monotonic()
    prober.start()
    with session_factory(engine)() as session:
        organiser = session.merge(organiser)
        if variant == "parse and check":
            # The job's first phase, where its peak memory is reached: the whole file parsed
            # and checked against the database (reading only), before any chunk is written.
            from backend.settings import get_settings
            from backend.skills import service as skill_service
            from members_csv import parse_members_csv

            known = skill_service.skill_ids(session=session)
            session.commit()
            parsed = parse_members_csv(
                data, known_skills=known, max_bytes=get_settings().max_import_bytes
            )
            del data
            with importing._read_scope(engine) as reader:
                plans, problems = importing._check_against_database(reader, parsed.records)
            assert not parsed.errors and not problems and len(plans) == len(parsed.records)
        elif variant == "one transaction":
            importing.import_members(
                session=session,
                data=data,
                mode="all-or-nothing",
                invited_by="Bench",
                actor=organiser,
            )
            session.commit()  # the caller's unit of work (services only flush)
        else:
            member_import = importing.start_import(
                session=session, actor=organiser, data=data, mode="all-or-nothing"
            )
            session.commit()
            importing.run_import_job(member_import.id, engine=engine)
    seconds = time.monotonic() - started
    stop.set()
    prober.join()
    with session_factory(engine)() as session:
        members = session.exec(select(func.count()).select_from(Member)).one()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{seconds:.3f} {peak:.1f} {max(waits, default=0):.3f} "
        f"{statistics.median(waits) if waits else 0:.3f} {len(waits)} {failures[0]} {members}"
    )


def main() -> None:
    """Write the file, run each variant in its own process, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=240_000)
    parser.add_argument("--probe-interval", type=float, default=0.2)
    parser.add_argument(
        "--variants", default="one transaction,job in chunks", help="comma-separated"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--tree", action="append", default=[], help="also run on this checkout (repeatable)"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.probe_interval)
        return
    trees = [("this tree", ROOT), *((Path(t).name, Path(t).resolve()) for t in args.tree)]
    with tempfile.TemporaryDirectory() as folder:
        rows: list[tuple[str, list[str]]] = []
        for variant in args.variants.split(","):
            for label, tree in trees:
                path = Path(folder) / f"{variant.replace(' ', '-')}-{len(rows)}.csv"
                path.write_bytes(members_file(args.rows))
                size = path.stat().st_size
                script = tree / "bench" / "bench_import.py"
                command = [sys.executable, str(script), "--child", variant, str(path)]
                out = subprocess.run(
                    [*command, "--probe-interval", str(args.probe_interval)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=tree,
                ).stdout.split()
                name = variant if len(trees) == 1 else f"{variant} ({label})"
                rows.append((name, out))
    print(
        f"members CSV: {args.rows:,} rows, {size / 1e6:.1f} MB; SQLite; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'variant':<30} {'seconds':>8} {'peak RSS MiB':>13} {'longest write wait s':>21} "
        f"{'median wait s':>14} {'probes':>7} {'failed':>7} {'members':>8}"
    )
    for variant, (seconds, peak, longest, median, probes, failed, members) in rows:
        print(
            f"{variant:<30} {float(seconds):>8.1f} {float(peak):>13.0f} {float(longest):>21.2f} "
            f"{float(median):>14.3f} {probes:>7} {failed:>7} {members:>8}"
        )


if __name__ == "__main__":
    main()
