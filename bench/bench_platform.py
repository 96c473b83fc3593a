"""Platform benchmark: the live app's suggestions, directory search and round review. A table.

    nice .venv/bin/python bench/bench_platform.py [--members 50000] [--calls 50]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a synthetic network (``matching.synthetic.make_population``: realistic bands, chains,
skills, goals and bios) in a fresh SQLite file and, when ``--postgres`` or
``PEERBRIDGE_BENCH_DATABASE_URL`` / ``PEERBRIDGE_TEST_DATABASE_URL`` is given, a fresh
PostgreSQL database (dropped afterwards), with bulk inserts. Then, on each database:

- ``mentorSuggestions(first: 10)`` through ``schema.execute`` for ``--calls`` different
  members, each call a request of its own (session, context, operation, end of the
  transaction with its exposure write): server time p50 / p95, after one warm call that fits
  the suggester; interleaved with it, the library's own fitted ``MentorSuggester.suggest``
  for the same members (each app request, then the library's answer), so both meet the same
  load; and the app request's own CPU time;
- directory text search (``backend.members.directory.search``) for a few kinds of words,
  once every database is built, interleaved call by call across the databases;
- a page of a round's review (``proposals_of`` by key, as the page and the GraphQL cursor
  read it), first and last page, in a round of 1,000 proposals and in one of ``--members``
  proposals; and, timed apart, the round's count (the page's heading) and its mentees
  without a mentor (the page's other list).

Not a timed test: the figures go into docs/performance.md with the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, bindparam, insert, text, update
from sqlmodel import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("PEERBRIDGE_ENVIRONMENT", "test")

from backend import migrate  # noqa: E402
from backend.db import make_engine, session_factory  # noqa: E402
from backend.matchmaking import frames  # noqa: E402
from backend.matchmaking import suggestions as matchmaking  # noqa: E402
from backend.matchmaking.version import network_changed  # noqa: E402
from backend.members import directory  # noqa: E402
from backend.members.models import Member, MemberRole, MemberSkill, MentoringOffer  # noqa: E402
from backend.mentoring.models import MentorRequest  # noqa: E402
from backend.organisations.models import Organisation  # noqa: E402
from backend.programmes.service import default_programme_id  # noqa: E402
from backend.rounds import service as rounds  # noqa: E402
from backend.rounds.models import MatchingRound, MatchProposal  # noqa: E402
from backend.settings import get_settings  # noqa: E402
from bench.common import batched, machine, markdown_table, postgres_database  # noqa: E402
from matching.suggestions import MentorSuggester  # noqa: E402
from matching.synthetic import make_population  # noqa: E402
from schema.build import build_schema, execute  # noqa: E402
from schema.context import Context  # noqa: E402

PAGE = 50
SUGGESTIONS = """
query { mentorSuggestions(first: 10) { score reasons mentor { id name jobTitle band } } }
"""
SEARCHES = {
    "surname": "begum",
    "first name + surname": "kwame begum",
    "organisation word": "calderdale",
    "word prefix": "fin",
}


def build(engine: Engine, n: int, seed: int = 1) -> dict[str, object]:
    """Fill an empty, migrated database with ``n`` members, open requests and two rounds."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    people = make_population(n - n // 3, n // 3, seed=seed)
    orgs = {}
    for name, key, region in people[["organisation", "organisation_key", "region"]].itertuples(
        index=False
    ):
        orgs.setdefault(key, (len(orgs) + 1, name, region))
    batched(
        engine,
        Organisation,
        [
            {
                "id": i,
                "name": name,
                "key": key,
                "type": "other",
                "region": region,
                "created_at": now,
            }
            for key, (i, name, region) in orgs.items()
        ],
    )
    ids = {m: k + 1 for k, m in enumerate(people["member_id"])}
    members, skills, offers = [], [], []
    for k, row in enumerate(people.itertuples(index=False)):
        member_id = k + 1
        members.append(
            {
                "id": member_id,
                "email": row.email,
                "name": row.name,
                "job_title": "Service manager" if k % 3 else "Finance lead",
                "organisation_id": orgs[row.organisation_key][0],
                "region": row.region,
                "role_family": row.role_family,
                "band": row.band,
                "profession": row.profession,
                "management_years": int(row.management_years),
                "line_manager_id": None,  # set below, once every manager exists
                "bio": row.bio,
                "goals": row.goals,
                "meeting_format": row.meeting_format,
                "seeking_mentor": bool(row.seeking_mentor),
                "outside_organisation_only": bool(row.outside_organisation_only),
                "priority_access": bool(row.priority_access),
                "contact_visibility": "members",
                "open_requests": 0,
                "is_active": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        for kind, values in (("sought", row.skills_sought), ("offered", row.skills_offered)):
            skills += [{"member_id": member_id, "skill_id": s, "kind": kind} for s in values]
        if row.mentor_capacity > 0:
            offers.append(
                {
                    "member_id": member_id,
                    "capacity": int(min(row.mentor_capacity, 10)),
                    "active_mentees": 0,
                    "paused": False,
                    "note": "",
                    "updated_at": now,
                }
            )
    batched(engine, Member, members)
    managers = [
        {"member": k + 1, "manager": ids[m]}
        for k, m in enumerate(people["line_manager_id"])
        if isinstance(m, str) and m in ids
    ]
    with engine.begin() as connection:
        connection.execute(
            update(Member)
            .where(Member.id == bindparam("member"))
            .values(line_manager_id=bindparam("manager")),
            managers,
        )
    batched(engine, MemberSkill, skills)
    batched(engine, MentoringOffer, offers)
    mentors = np.array([o["member_id"] for o in offers])
    seekers = np.array([m["id"] for m in members if m["seeking_mentor"]])
    asking = rng.choice(seekers, size=min(len(seekers), n // 25), replace=False)
    batched(
        engine,
        MentorRequest,
        [
            {
                "mentee_id": int(m),
                "mentor_id": int(rng.choice(mentors)),
                "message": "Please",
                "skills": "",
                "status": "open",
                "decline_reason": "",
                "created_at": now,
                "expires_at": now + timedelta(days=14),
            }
            for m in asking
        ],
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE member SET open_requests = 1 "
                "WHERE id IN (SELECT mentee_id FROM mentor_request)"
            )
        )
    organiser_id = int(members[-1]["id"])
    batched(engine, MemberRole, [{"member_id": organiser_id, "role": "organiser"}])
    round_ids = {}
    for size in (1000, n):
        round_ids[size] = _round(engine, rng, size, organiser_id, n, now)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("organisation", "member", "mentor_request", "matching_round"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            connection.execute(text("ANALYZE"))
    with session_factory(engine)() as session:
        network_changed(session=session)
        session.commit()
    return {"organiser": organiser_id, "seekers": seekers, "rounds": round_ids}


def _round(engine: Engine, rng, size: int, organiser: int, n: int, now: datetime) -> int:  # type: ignore[no-untyped-def]
    with session_factory(engine)() as session:
        programme_id = default_programme_id(session=session)
        session.commit()
    with engine.begin() as connection:
        round_id = connection.execute(
            insert(MatchingRound)
            .values(
                programme_id=programme_id,
                name=f"Round of {size}",
                created_by_id=organiser,
                status="ready",
                cohort="seeking",
                cohort_ids="[]",
                weights="{}",
                priority=False,
                seed=0,
                respond_days=14,
                progress=1.0,
                stage="done",
                summary="{}",
                error="",
                learn_from_outcomes=False,
                created_at=now,
            )
            .returning(MatchingRound.id)
        ).scalar_one()
    mentees = rng.permutation(np.arange(1, n + 1))[:size]
    batched(
        engine,
        MatchProposal,
        [
            {
                "round_id": round_id,
                "mentee_id": int(e),
                "mentor_id": int(e % n) + 1,
                "score": round(float(rng.uniform(20, 95)), 1),
                "reasons": "same region; skills sought",
                "status": "proposed",
                "decline_reason": "",
                "created_at": now,
            }
            for e in mentees
        ],
    )
    return int(round_id)


def _times(call: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure(
    name: str, engine: Engine, n: int, calls: int
) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Build, then time suggestions and review pages on ``engine``; the rows and the network."""
    start = time.perf_counter()
    migrate.upgrade(engine)
    built = build(engine, n)
    print(f"{name}: built {n:,} members in {time.perf_counter() - start:.1f} s", flush=True)
    sessions = session_factory(engine)
    settings = get_settings()
    schema = build_schema(settings)
    rng = np.random.default_rng(7)
    askers = [int(x) for x in rng.choice(built["seekers"], size=calls + 1, replace=False)]  # type: ignore[arg-type]
    rows: list[dict[str, object]] = []

    shown: list[int] = []

    def graphql(member_id: int) -> None:
        with sessions() as session:
            member = session.get(Member, member_id)
            context = Context(session=session, settings=settings, member=member)
            context.auth = "cookie"
            result = execute(schema, SUGGESTIONS, context=context)
            assert not result.errors, result.errors
            shown.append(len(result.data["mentorSuggestions"]))
            session.rollback()  # the request ends; its exposure is written now

    cache = matchmaking.CACHE
    fits = cache.fits
    start = time.perf_counter()
    graphql(askers[0])
    warm_s = time.perf_counter() - start
    assert cache.fits == fits + 1, (fits, cache.fits)  # the first call fitted
    with sessions() as session:
        frame = frames.network_frame(session=session)
    fit_start = time.perf_counter()
    library = MentorSuggester().fit(frame)
    lib_fit_s = time.perf_counter() - fit_start
    # Interleaved, one app request then the library's answer for the same member, so both
    # meet the same load on a shared machine. CPU: this thread's own time in the request.
    app, app_cpu, lib = [], [], []
    for member_id in askers[1:]:
        cpu = time.thread_time()
        app += _times(lambda m=member_id: graphql(m), 1)
        app_cpu.append((time.thread_time() - cpu) * 1000)
        lib += _times(lambda m=member_id: library.suggest(str(m), k=10), 1)
    assert cache.fits == fits + 1, (fits, cache.fits)  # one fit, then the fitted suggester
    rows.append(
        {
            "database": name,
            "what": "mentorSuggestions(first: 10)",
            "p50 ms": _p(app, 50),
            "p95 ms": _p(app, 95),
            "reference": "MentorSuggester.suggest",
            "ref p50 ms": _p(lib, 50),
            "ref p95 ms": _p(lib, 95),
            "note": f"app/library p50 {_p(app, 50) / _p(lib, 50):.1f}x, p95 "
            f"{_p(app, 95) / _p(lib, 95):.1f}x; app CPU p50/p95 {_p(app_cpu, 50):.1f}/"
            f"{_p(app_cpu, 95):.1f} ms; first call (frame + fit) {warm_s:.2f} s; library fit "
            f"{lib_fit_s:.2f} s; {sum(k == 10 for k in shown[1:])} of {calls} calls got 10",
        }
    )
    with sessions() as session:
        organiser = session.get(Member, built["organiser"])
        for size, round_id in built["rounds"].items():  # type: ignore[attr-defined]
            # The key the last page starts after (found once, not timed): the page is read by
            # key, as the review page and the GraphQL cursor do.
            last = max(0, (size - 1) // PAGE * PAGE)
            edge = session.exec(
                select(MatchProposal)
                .where(MatchProposal.round_id == round_id)
                .order_by(MatchProposal.score.desc(), MatchProposal.id.desc())  # type: ignore[attr-defined]
                .offset(last - 1)
                .limit(1)
            ).one()
            for label, after in (("first", None), ("last", rounds.ProposalKey.of(edge))):

                def page(after: rounds.ProposalKey | None = after, round_id: int = round_id) -> int:
                    shown = rounds.proposals_of(
                        session=session,
                        organiser=organiser,
                        round_id=round_id,
                        limit=PAGE + 1,
                        after=after,
                    )
                    return len(shown)

                shown = page()
                assert shown == (min(PAGE, size) + (size > PAGE) if after is None else size - last)
                times = _times(page, max(10, calls // 2))
                rows.append(
                    {
                        "database": name,
                        "what": f"round review: {label} page of {size:,} proposals (by key)",
                        "p50 ms": _p(times, 50),
                        "p95 ms": _p(times, 95),
                    }
                )

            def count(round_id: int = round_id) -> int:
                return rounds.proposal_count(
                    session=session, organiser=organiser, round_id=round_id
                )

            times = _times(count, max(10, calls // 2))
            rows.append(
                {
                    "database": name,
                    "what": f"round review: count of {size:,} proposals (index only)",
                    "p50 ms": _p(times, 50),
                    "p95 ms": _p(times, 95),
                }
            )

            def unmatched(round_id: int = round_id) -> int:
                return len(
                    rounds.unmatched_of(session=session, organiser=organiser, round_id=round_id)
                )

            times = _times(unmatched, max(10, calls // 2))
            rows.append(
                {
                    "database": name,
                    "what": f"round review: mentees without a mentor, of {size:,} proposals",
                    "p50 ms": _p(times, 50),
                    "p95 ms": _p(times, 95),
                }
            )
    return rows, built


def compare_search(engines: dict[str, tuple[Engine, int]], calls: int) -> list[dict[str, object]]:
    """Directory text search on every database, interleaved call by call (the same load)."""
    rows: list[dict[str, object]] = []
    sessions = {name: session_factory(engine)() for name, (engine, _) in engines.items()}
    try:
        viewers = {
            name: sessions[name].get(Member, organiser) for name, (_, organiser) in engines.items()
        }
        for label, words in SEARCHES.items():

            def search(name: str, words: str = words) -> int:
                found, _ = directory.search(
                    session=sessions[name],
                    viewer=viewers[name],
                    filter=directory.DirectoryFilter(text=words),
                    limit=20,
                )
                return len(found)

            hits = {name: search(name) for name in engines}
            times: dict[str, list[float]] = {name: [] for name in engines}
            for _ in range(max(10, calls // 2)):
                for name in engines:
                    times[name] += _times(lambda name=name: search(name), 1)
            first = next(iter(engines))
            for name in engines:
                rows.append(
                    {
                        "database": name,
                        "what": f"directory search: {label} ({words!r}, {hits[name]} on page)",
                        "p50 ms": _p(times[name], 50),
                        "p95 ms": _p(times[name], 95),
                        "reference": f"{first}, interleaved" if name != first else "",
                        "ref p50 ms": _p(times[first], 50) if name != first else "",
                        "note": f"{_p(times[name], 50) / _p(times[first], 50):.1f}x {first} (p50)"
                        if name != first
                        else "",
                    }
                )
    finally:
        for session in sessions.values():
            session.close()
    return rows


def _shown(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    for row in rows:  # as soon as measured, in case a later database fails
        print("  ", {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
    return rows


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PEERBRIDGE_BENCH_DATABASE_URL")
        or os.environ.get("PEERBRIDGE_TEST_DATABASE_URL"),
    )
    args = parser.parse_args()
    results: list[dict[str, object]] = []
    engines: dict[str, tuple[Engine, int]] = {}
    drop: Callable[[], None] | None = None
    with tempfile.TemporaryDirectory() as folder:
        try:
            if not args.skip_sqlite:
                engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
                rows, built = measure("SQLite", engine, args.members, args.calls)
                results += _shown(rows)
                engines["SQLite"] = (engine, int(built["organiser"]))  # type: ignore[call-overload]
            if args.postgres:
                engine, drop = postgres_database(args.postgres, "platform")
                rows, built = measure("PostgreSQL", engine, args.members, args.calls)
                results += _shown(rows)
                engines["PostgreSQL"] = (engine, int(built["organiser"]))  # type: ignore[call-overload]
            results += _shown(compare_search(engines, args.calls))
        finally:
            for engine, _ in engines.values():
                engine.dispose()
            if drop is not None:
                drop()
    print(f"\nMachine: {machine()}; {args.members:,} members, {args.calls} calls")
    print("\n".join(markdown_table(results, digits=2)))


if __name__ == "__main__":
    main()
