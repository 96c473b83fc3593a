"""The demo's twelve months of history: deterministic, within the rules, a learned model in use."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import demo
from backend.community.models import CircleMember
from backend.insights import service as insights
from backend.members.models import Member, MentoringOffer
from backend.mentoring.models import MentoringSession, MentorRequest, Mentorship
from backend.privacy.models import DemographicRecord
from backend.rounds.models import MatchingRound
from tests.test_demo import wipe
from vocabulary import BAND_RANK

SIZE = 200


def fingerprint(session: Session) -> tuple:
    """Counts and a digest of the history's rows, for comparing two loads."""
    mentorships = session.exec(
        select(Mentorship.status, Mentorship.started_at, Mentorship.planned_months).order_by(
            col(Mentorship.id)
        )
    ).all()
    requests = session.exec(select(MentorRequest.status).order_by(col(MentorRequest.id))).all()
    answers = session.exec(
        select(DemographicRecord.ethnicity, DemographicRecord.gender).order_by(
            col(DemographicRecord.member_id)
        )
    ).all()
    sessions = session.exec(select(func.count()).select_from(MentoringSession)).one()
    return (
        [(s, str(at)[:10], m) for s, at, m in mentorships],
        list(requests),
        list(answers),
        sessions,
    )


def test_history_is_deterministic_and_keeps_the_rules(session):
    result = demo.load(session=session, seed=11, members=SIZE)
    assert result.loaded and result.history["rounds"] == 2
    first = fingerprint(session)
    wipe(session)
    demo.load(session=session, seed=11, members=SIZE)
    assert fingerprint(session) == first

    # Sessions fall within their mentorship.
    rows = session.exec(
        select(MentoringSession.held_on, Mentorship.started_at, Mentorship.ended_at).join(
            Mentorship, col(Mentorship.id) == col(MentoringSession.mentorship_id)
        )
    ).all()
    assert rows
    for held_on, started, ended in rows:
        assert held_on >= started.date()
        assert ended is None or held_on <= ended.date()
    # One active mentorship per mentee, none over a mentor's places, one open request per pair.
    active = session.exec(
        select(Mentorship.mentee_id, Mentorship.mentor_id).where(Mentorship.status == "active")
    ).all()
    assert max(Counter(e for e, _ in active).values()) == 1
    places = dict(session.exec(select(MentoringOffer.member_id, MentoringOffer.capacity)).all())
    for mentor, count in Counter(m for _, m in active).items():
        assert count <= places[mentor]
    open_pairs = session.exec(
        select(MentorRequest.mentee_id, MentorRequest.mentor_id).where(
            MentorRequest.status == "open"
        )
    ).all()
    assert len(open_pairs) == len(set(open_pairs))
    statuses = Counter(status for status, *_ in first[0])
    assert statuses["active"] and statuses["completed"] and statuses["ended_early"]
    # Its peer circles keep the circles page's rules.
    seats: dict[int, list[tuple[str, int]]] = {}
    for circle_id, band, organisation_id in session.exec(
        select(CircleMember.circle_id, Member.band, Member.organisation_id).join(
            Member, col(Member.id) == col(CircleMember.member_id)
        )
    ).all():
        seats.setdefault(circle_id, []).append((band, organisation_id))
    assert seats
    for members in seats.values():
        ranks = [BAND_RANK[band] for band, _ in members]
        assert 4 <= len(members) <= 6 and max(ranks) - min(ranks) <= 2
        assert len({org for _, org in members}) == len(members)
    # Sign-ups spread over the twelve months.
    months = session.exec(select(Member.created_at)).all()
    assert len({(m.year, m.month) for m in months}) >= 10


def test_dashboard_has_real_figures_and_the_learned_model_is_used(session):
    demo.load(session=session, seed=2024, members=320)
    latest = session.exec(
        select(MatchingRound).order_by(col(MatchingRound.published_at).desc())
    ).first()
    assert latest is not None and latest.status == "published"
    summary = json.loads(latest.summary)
    assert summary["scoring"] == "learned", summary["learning"]
    assert summary["learning"]["outcomes"] >= 40

    organiser = session.exec(
        select(Member).where(Member.email == "organiser@demo.peerbridge.example")
    ).one()
    view = insights.insights(session=session, organiser=organiser, audited=False)
    assert not view.members.hidden
    for breakdown in view.breakdowns:
        # Each panel shows real figures: some group's matched and total counts are not `*`.
        shown = [row for row in breakdown.rows if not all(c.hidden for c in row.counts.values())]
        assert len(shown) >= 2, breakdown.dimension
        assert any(not count.hidden for count in breakdown.totals.values()), breakdown.dimension
