"""Insights benchmark: the organisers' dashboard over a large network. Prints a table.

    .venv/bin/python bench/bench_insights.py [--members 50000] [--repeat 5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a synthetic network in a temporary SQLite file (and, when ``--postgres`` or
``PEERBRIDGE_BENCH_DATABASE_URL`` / ``PEERBRIDGE_TEST_DATABASE_URL`` is given, in a fresh
PostgreSQL database beside that one, dropped afterwards) with bulk inserts: members, skills,
offers, consented demographics (60%), requests, mentorships. Then it times, as medians over
``--repeat`` runs: the insights service (every breakdown and table, under disclosure
control), the whole dashboard page through the app (HTML with every chart and table), one
CSV export, and the reach tables (``backend/opportunities/reach``, with 60 open opportunities
and 20 events to come added). Not a timed test: the figures go into docs/insights.md with the
machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("PEERBRIDGE_ENVIRONMENT", "test")

from backend import migrate  # noqa: E402
from backend.accounts import service as accounts  # noqa: E402
from backend.accounts.cookies import COOKIE_NAME  # noqa: E402
from backend.db import make_engine, session_factory, utcnow  # noqa: E402
from backend.events.models import Event  # noqa: E402
from backend.insights import service as insights  # noqa: E402
from backend.members.models import Member, MemberRole, MemberSkill, MentoringOffer  # noqa: E402
from backend.mentoring.models import MentorRequest, Mentorship  # noqa: E402
from backend.opportunities import reach as opportunity_reach  # noqa: E402
from backend.opportunities.models import (  # noqa: E402
    Opportunity,
    OpportunityEligibility,
    OpportunitySkill,
)
from backend.organisations.models import ORGANISATION_TYPES, Organisation  # noqa: E402
from backend.privacy.models import (  # noqa: E402
    DEMOGRAPHICS_WORDING_VERSION,
    ConsentRecord,
    DemographicRecord,
)
from backend.programmes.service import default_programme_id  # noqa: E402
from bench.common import batched, bench_arguments, machine, markdown_table, postgres_database  # noqa: E402
from vocabulary import (  # noqa: E402
    AGE_BANDS,
    BANDS,
    DISABILITY_ANSWERS,
    ETHNICITIES,
    GENDERS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    SKILL_IDS,
)


def build(engine: Engine, n: int, seed: int = 1) -> int:
    """Fill an empty, migrated database with ``n`` members; returns the organiser's id."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    n_orgs = 300
    batched(
        engine,
        Organisation,
        [
            {
                "id": i + 1,
                "name": f"Trust {i}",
                "key": f"trust {i}",
                "type": ORGANISATION_TYPES[i % len(ORGANISATION_TYPES)],
                "region": REGIONS[i % len(REGIONS)],
                "created_at": now,
            }
            for i in range(n_orgs)
        ],
    )
    bands = rng.choice(len(BANDS), n, p=np.array([3, 6, 8, 9, 9, 9, 7, 5, 3, 1, 1, 1]) / 62)
    joined = now - timedelta(days=540) * rng.random(n)
    mentor = bands >= BANDS.index("7")
    seeking = (~mentor | (rng.random(n) < 0.2)) & (rng.random(n) < 0.6)
    verified = rng.random(n) < 0.95
    members = [
        {
            "id": i + 1,
            "email": f"member{i}@example.nhs.uk",
            "name": f"Member {i}",
            "organisation_id": int(rng.integers(1, n_orgs + 1)),
            "region": REGIONS[int(rng.integers(len(REGIONS)))],
            "role_family": ROLE_FAMILIES[int(rng.integers(len(ROLE_FAMILIES)))],
            "band": BANDS[int(bands[i])],
            "profession": PROFESSIONS[int(rng.integers(len(PROFESSIONS)))],
            "management_years": int(rng.integers(0, 30)),
            "bio": "",
            "goals": "",
            "meeting_format": "either",
            "seeking_mentor": bool(seeking[i]),
            "outside_organisation_only": False,
            "priority_access": bool(rng.random() < 0.1),
            "contact_visibility": "members",
            "open_requests": 0,
            "is_active": True,
            # Counted once verified: most members confirmed their address when they joined.
            "email_verified_at": joined[i] if verified[i] else None,
            "created_at": joined[i],
            "updated_at": joined[i],
        }
        for i in range(n)
    ]
    batched(engine, Member, members)
    ids = np.arange(1, n + 1)
    skills = []
    for i in range(n):
        kind = "offered" if mentor[i] else "sought"
        for s in rng.choice(len(SKILL_IDS), 2, replace=False):
            skills.append({"member_id": i + 1, "skill_id": SKILL_IDS[int(s)], "kind": kind})
    batched(engine, MemberSkill, skills)
    mentor_ids = ids[mentor]
    batched(
        engine,
        MentoringOffer,
        [
            {
                "member_id": int(m),
                "capacity": 3,
                "active_mentees": 0,
                "paused": False,
                "note": "",
                "updated_at": now,
            }
            for m in mentor_ids
        ],
    )
    consented = ids[rng.random(n) < 0.6]
    batched(
        engine,
        ConsentRecord,
        [
            {
                "id": k + 1,
                "member_id": int(m),
                "purpose": "demographics",
                "wording_version": DEMOGRAPHICS_WORDING_VERSION,
                "source": "self",
                "given_at": now,
            }
            for k, m in enumerate(consented)
        ],
    )
    pick = rng.integers
    batched(
        engine,
        DemographicRecord,
        [
            {
                "member_id": int(m),
                "consent_id": k + 1,
                "ethnicity": ETHNICITIES[int(pick(len(ETHNICITIES)))],
                "gender": GENDERS[int(pick(len(GENDERS)))],
                "disability": DISABILITY_ANSWERS[int(pick(len(DISABILITY_ANSWERS)))],
                "age_band": AGE_BANDS[int(pick(len(AGE_BANDS)))],
                "updated_at": now,
            }
            for k, m in enumerate(consented)
        ],
    )
    seekers = ids[seeking]
    matched = seekers[rng.random(len(seekers)) < 0.55]
    requests, mentorships = [], []
    for k, m in enumerate(seekers):
        if int(mentor_ids[k % len(mentor_ids)]) == m:
            continue
        asked = joined[m - 1] + timedelta(days=float(rng.integers(1, 60)))
        requests.append(
            {
                "mentee_id": int(m),
                "mentor_id": int(mentor_ids[k % len(mentor_ids)]),
                "message": "Please",
                "skills": "",
                "status": "declined",
                "decline_reason": "",
                "created_at": asked,
                "expires_at": asked + timedelta(days=14),
            }
        )
    for k, m in enumerate(matched):
        mentor_id = int(mentor_ids[(k * 7) % len(mentor_ids)])
        if mentor_id == m:
            continue
        started = joined[m - 1] + timedelta(days=float(rng.integers(61, 120)))
        done = rng.random() < 0.4
        mentorships.append(
            {
                "mentor_id": mentor_id,
                "mentee_id": int(m),
                "status": "completed" if done else "active",
                "goals": "",
                "meeting_rhythm": "",
                "planned_months": 6,
                "started_at": started,
                "ended_at": started + timedelta(days=180) if done else None,
                "end_reason": "",
            }
        )
    with session_factory(engine)() as session:  # every request and mentorship has a programme
        programme_id = default_programme_id(session=session)
        session.commit()
    for row in (*requests, *mentorships):
        row["programme_id"] = programme_id
    batched(engine, MentorRequest, requests)
    batched(engine, Mentorship, mentorships)
    organiser_id = n  # the last member organises
    batched(engine, MemberRole, [{"member_id": organiser_id, "role": "organiser"}])
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("organisation", "member", "consent_record"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n + 1000})")
                )
            connection.execute(text("ANALYZE"))
    return organiser_id


def _median(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _development(session: Any, organiser_id: int) -> None:
    """60 open opportunities (a third for bands 2 to 4, a third for one region) and 20 events
    to come (some for a band range), so reach has something to find for every member."""
    for k in range(60):
        opportunity = Opportunity(
            kind="course",
            title=f"Course {k}",
            provider="NHS Leadership Academy",
            format="online",
            closes_on=date.today() + timedelta(days=30 + k),
            posted_by_id=organiser_id,
        )
        session.add(opportunity)
        session.flush()
        session.add(OpportunitySkill(opportunity_id=opportunity.id, skill_id="quality-improvement"))
        if k % 3 == 0:
            for band in ("2", "3", "4"):
                session.add(
                    OpportunityEligibility(
                        opportunity_id=opportunity.id, dimension="band", value=band
                    )
                )
        elif k % 3 == 1:
            session.add(
                OpportunityEligibility(
                    opportunity_id=opportunity.id, dimension="region", value="London"
                )
            )
    for k in range(20):
        starts = utcnow() + timedelta(days=7 + k)
        session.add(
            Event(
                kind="webinar",
                title=f"Webinar {k}",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                video_link="https://meet.example.org/w",
                capacity=100,
                band_min="2" if k % 2 else None,
                band_max="4" if k % 2 else None,
                organiser_id=organiser_id,
            )
        )
    session.commit()


def measure(name: str, engine: Engine, n: int, repeat: int) -> dict[str, object]:
    """Build, then time the service, the page and a CSV on ``engine``."""
    start = time.perf_counter()
    migrate.upgrade(engine)
    organiser_id = build(engine, n)
    built = time.perf_counter() - start
    sessions = session_factory(engine)
    with sessions() as session:
        organiser = session.get(Member, organiser_id)

        def service() -> object:
            session.rollback()
            return insights.insights(session=session, organiser=organiser)

        service()  # warm: imports, plans
        service_s = _median(service, repeat)
        _development(session, organiser_id)

        def reach_tables() -> object:
            session.rollback()
            return opportunity_reach.reach(session=session, member=organiser)

        reach_tables()
        reach_s = _median(reach_tables, repeat)
        token = accounts.start_session(session=session, member_id=organiser_id)
        session.commit()
    from peerbridge.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(engine=engine)) as client:
        client.cookies.set(COOKIE_NAME, token)
        first = client.get("/organise/insights")
        assert first.status_code == 200, first.text[:500]
        page_s = _median(lambda: client.get("/organise/insights"), repeat)
        csv_s = _median(lambda: client.get("/organise/insights/by-ethnicity.csv"), repeat)
    return {
        "database": name,
        "members": n,
        "build s": built,
        "service s": service_s,
        "page s": page_s,
        "csv s": csv_s,
        "reach s": reach_s,
        "page KiB": len(first.content) / 1024,
    }


def main() -> None:
    """Run the benchmark and print a table."""
    args = bench_arguments(__doc__ or "", members=50_000, repeat=5)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        results.append(measure("SQLite", engine, args.members, args.repeat))
        engine.dispose()
    if args.postgres:
        engine, drop = postgres_database(args.postgres, "bench")
        try:
            results.append(measure("PostgreSQL", engine, args.members, args.repeat))
        finally:
            drop()
    print(f"\nMachine: {machine()}")
    print("\n".join(markdown_table(results, digits=3)))


if __name__ == "__main__":
    main()
