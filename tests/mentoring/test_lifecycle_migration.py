"""Migration 0007 settles rows that break the new rules before it enforces them."""

from __future__ import annotations

from sqlalchemy import inspect, text

from backend import migrate
from backend.db import make_engine, session_factory
from tests.factories import make_member, make_mentorship, make_proposal, make_round


def _copy_with_other_mentor(db, table: str, mentor_id: int) -> None:
    columns = [c["name"] for c in inspect(db).get_columns(table) if c["name"] != "id"]
    chosen = [":mentor" if c == "mentor_id" else c for c in columns]
    db.execute(
        text(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(chosen)} FROM {table}"),
        {"mentor": mentor_id},
    )


def test_existing_double_mentorships_and_offers_are_settled_visibly(tmp_path):
    # given a database at 0006 where a mentee has two active mentorships and two open offers
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    migrate.upgrade(engine)
    with session_factory(engine)() as session:
        mentee = make_member(session, band="4")
        first = make_member(session, band="8a", organisation="A Trust", capacity=2)
        second = make_member(session, band="8b", organisation="B Trust", capacity=2)
        make_mentorship(session, mentor=first, mentee=mentee)
        matching_round = make_round(session, name="R", status="published")
        declined = make_proposal(
            session, matching_round=matching_round, mentee=mentee, mentor=second, status="declined"
        )
        make_proposal(
            session,
            matching_round=matching_round,
            mentee=mentee,
            mentor=first,
            status="offered",
            replaces_id=declined.id,
        )
        first_id, second_id = first.id, second.id
    migrate.downgrade(engine, "0006")
    with engine.begin() as db:
        _copy_with_other_mentor(db, "mentorship", second_id)
        db.execute(
            text(
                "INSERT INTO match_proposal (round_id, mentee_id, mentor_id, score, reasons, "
                "status, decline_reason, created_at) SELECT round_id, mentee_id, :m, score, "
                "reasons, status, decline_reason, created_at FROM match_proposal "
                "WHERE status = 'offered'"
            ),
            {"m": second_id},
        )
        db.execute(text("UPDATE mentoring_offer SET active_mentees = 1"))

    # when it is upgraded
    migrate.upgrade(engine)

    # then the earliest of each stays, the later ones close with a reason, counters agree
    with engine.connect() as db:
        mentorships = db.execute(
            text("SELECT mentor_id, status, end_reason FROM mentorship ORDER BY id")
        ).all()
        offers = db.execute(
            text("SELECT status, replaces_id IS NOT NULL FROM match_proposal ORDER BY id")
        ).all()
        places = dict(
            db.execute(text("SELECT member_id, active_mentees FROM mentoring_offer")).all()
        )
    assert [(m[0], m[1]) for m in mentorships] == [(first_id, "active"), (second_id, "ended_early")]
    assert "0007" in mentorships[1][2]
    # (the declined offer, the open one that replaced it, and the later duplicate)
    assert [tuple(o) for o in offers] == [("declined", 0), ("offered", 1), ("withdrawn", 0)]
    assert places == {first_id: 1, second_id: 0}
    assert migrate.pending_differences(engine) == []

    # and downgrading keeps every proposal and its link (no table rebuild cascades them away)
    migrate.downgrade(engine, "0006")
    with engine.connect() as db:
        kept = db.execute(
            text("SELECT status, replaces_id IS NOT NULL FROM match_proposal ORDER BY id")
        ).all()
    assert [tuple(o) for o in kept] == [("declined", 0), ("offered", 1), ("expired", 0)]
    engine.dispose()
