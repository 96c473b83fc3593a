"""Networks for the performance tests: a round to review, pages to count statements on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from backend.community import service as community
from backend.community.models import Circle, CircleMember, Comment, Follow, Post, Reaction, Report
from backend.db import utcnow
from backend.matchmaking.version import network_changed
from backend.members.import_models import MemberImport
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentoringSession, MentorRequest, Mentorship
from backend.programmes.service import default_programme_id
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_member

SCORES = [70.0, 55.5, 55.5, 55.5, 40.25, 90.0, 55.5, 12.0, 40.25, 33.3, 55.5, 61.1]


def make_review(session: Session, size: int = 60) -> tuple[int, str, int, list[int]]:
    """An organiser and a round of ``size`` proposals with many equal scores.

    Returns the organiser's id and email, the round's id and its proposals' ids in the
    review's order (best score first, then newest), as plain values: on SQLite an open
    read would hold the write lock against the app.
    """
    organiser = make_member(session, name="Ola Organiser", band="9", roles=("organiser",))
    mentee, mentor = make_member(session, band="4"), make_member(session, band="8a")
    matching_round = MatchingRound(
        programme_id=default_programme_id(session=session),
        name="Review round",
        created_by_id=organiser.id,
        status="ready",
        progress=1.0,
    )
    session.add(matching_round)
    session.flush()
    for i in range(size):
        session.add(
            MatchProposal(
                round_id=matching_round.id,  # type: ignore[arg-type]
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                score=SCORES[i % len(SCORES)],
                reasons="skills sought",
            )
        )
    session.commit()
    round_id: int = matching_round.id  # type: ignore[assignment]
    everything = session.exec(select(MatchProposal).where(MatchProposal.round_id == round_id))
    expected = [p.id for p in sorted(everything, key=lambda p: (-p.score, -p.id))]  # type: ignore[operator]
    found = (organiser.id, organiser.email, round_id, expected)
    session.rollback()
    return found  # type: ignore[return-value]


# A network that grows on every surface at once, for the query-count tests ---------------------


@dataclass
class Hub:
    """The member every page is viewed as (an organiser who mentors), and what they own."""

    viewer_id: int
    email: str
    review_round_id: int
    published_round_id: int
    post_id: int
    mentorship_id: int
    circle_id: int
    import_id: int
    request_id: int
    comment_id: int
    proposal_id: int
    offered_id: int
    last_mentor_id: int = 0
    grown: int = 0


def make_hub(session: Session) -> Hub:
    """The viewer and one of everything the pages show (grown later by ``grow``)."""
    viewer = make_member(
        session,
        name="Viewer Vee",
        band="9",
        organisation="Viewer Trust",
        capacity=10,
        skills_offered=("team-leadership",),
        skills_sought=("budget-management",),
        roles=("organiser", "admin"),  # admin: the audit log's pages are counted too
    )
    mentee = make_member(session, name="Mina Mentee", band="4", seeking_mentor=True)
    asker = make_member(session, name="Asa Asker", band="4", seeking_mentor=True)
    programme_id = default_programme_id(session=session)
    review = MatchingRound(
        programme_id=programme_id,
        name="Spring round",
        created_by_id=viewer.id,
        status="ready",
        progress=1.0,
        summary="{}",
    )
    published = MatchingRound(
        programme_id=programme_id,
        name="Winter round",
        created_by_id=viewer.id,
        status="published",
        progress=1.0,
        summary="{}",
    )
    circle = Circle(name="Viewer circle", created_by_id=viewer.id)
    session.add_all([review, published, circle])
    session.flush()
    post = Post(author_id=viewer.id, title="How I plan rotas", body="Early and together.")  # type: ignore[arg-type]
    mentorship = Mentorship(
        programme_id=programme_id, mentor_id=viewer.id, mentee_id=mentee.id, goals="Lead a team"
    )
    request = MentorRequest(
        programme_id=programme_id,
        mentee_id=asker.id,  # type: ignore[arg-type]
        mentor_id=viewer.id,  # type: ignore[arg-type]
        message="Could you mentor me?",
        expires_at=utcnow() + timedelta(days=14),
    )
    imported = MemberImport(
        created_by_id=viewer.id,
        mode="partial",
        status="done",
        progress=1.0,
        rejects_csv="email,reason\nx@example.nhs.uk,bad band\n",
        rejected_rows=1,
    )
    proposal = MatchProposal(
        round_id=review.id,  # type: ignore[arg-type]
        mentee_id=mentee.id,
        mentor_id=viewer.id,
        score=50,
        reasons="skills sought",
    )
    offered = MatchProposal(
        round_id=published.id,  # type: ignore[arg-type]
        mentee_id=asker.id,
        mentor_id=viewer.id,
        score=60,
        reasons="skills sought",
        status="offered",
        offered_at=utcnow(),
    )
    session.add_all([post, mentorship, request, imported, proposal, offered])
    session.add(CircleMember(circle_id=circle.id, member_id=viewer.id))  # type: ignore[arg-type]
    session.flush()
    comment = Comment(post_id=post.id, author_id=mentee.id, body="Thank you")  # type: ignore[arg-type]
    session.add(comment)
    network_changed(session=session)
    session.commit()
    hub = Hub(
        viewer_id=viewer.id,  # type: ignore[arg-type]
        email=viewer.email,
        review_round_id=review.id,  # type: ignore[arg-type]
        published_round_id=published.id,  # type: ignore[arg-type]
        post_id=post.id,  # type: ignore[arg-type]
        mentorship_id=mentorship.id,  # type: ignore[arg-type]
        circle_id=circle.id,  # type: ignore[arg-type]
        import_id=imported.id,  # type: ignore[arg-type]
        request_id=request.id,  # type: ignore[arg-type]
        comment_id=comment.id,  # type: ignore[arg-type]
        proposal_id=proposal.id,  # type: ignore[arg-type]
        offered_id=offered.id,  # type: ignore[arg-type]
    )
    session.rollback()
    return hub


def grow(session: Session, hub: Hub, *, to: int) -> Hub:
    """Grow every list the viewer's pages show until each holds ``to`` rows of its own.

    Each step adds a mentor and a mentee, a request to the viewer (and its notification),
    a post, a comment and a reaction on the viewer's post, a report, a proposal in the
    review, an offer to answer, a round, a mentorship and a session logged, a circle
    member and a follow.
    """
    for i in range(hub.grown, to):
        organisation = f"Trust {i % 3}"
        mentor = make_member(
            session,
            band="8a",
            organisation=organisation,
            job_title="Rota lead",
            capacity=2,
            skills_offered=("team-leadership",),
        )
        mentee = make_member(
            session,
            band="4",
            organisation=organisation,
            job_title="Rota officer",
            seeking_mentor=True,
            skills_sought=("team-leadership",),
        )
        mentoring.request_mentor(
            session=session, mentee=mentee, mentor_id=hub.viewer_id, message="Could you mentor me?"
        )
        community.create_post(
            session=session,
            author=mentor,
            title=f"What I learnt about rotas, part {mentor.id}",
            body="Share the rota early and ask the team.",
            skills=("team-leadership",),
        )
        matching_round = MatchingRound(
            programme_id=default_programme_id(session=session),
            name=f"Round {i}",
            created_by_id=hub.viewer_id,
            status="ready",
            summary="{}",
        )
        session.add(matching_round)
        session.flush()
        mentorship = Mentorship(
            programme_id=default_programme_id(session=session),
            mentor_id=hub.viewer_id,
            mentee_id=mentee.id,
        )
        comment = Comment(post_id=hub.post_id, author_id=mentor.id, body=f"Useful, {i}")  # type: ignore[arg-type]
        session.add_all([mentorship, comment])
        session.add_all(
            [
                MatchProposal(
                    round_id=hub.review_round_id,
                    mentee_id=mentee.id,
                    mentor_id=mentor.id,
                    score=40 + i % 50,
                    reasons="skills sought",
                ),
                MatchProposal(
                    round_id=matching_round.id,  # type: ignore[arg-type]
                    mentee_id=mentor.id,
                    mentor_id=hub.viewer_id,
                    score=45,
                    reasons="skills sought",
                    status="offered",
                    offered_at=utcnow(),
                ),
                MentoringSession(
                    mentorship_id=hub.mentorship_id,
                    held_on=date.today() - timedelta(days=i),
                    duration_minutes=30,
                    notes=f"Session {i}",
                    logged_by_id=hub.viewer_id,
                ),
                CircleMember(circle_id=hub.circle_id, member_id=mentor.id),  # type: ignore[arg-type]
                Follow(follower_id=hub.viewer_id, followed_id=mentor.id),  # type: ignore[arg-type]
                Reaction(post_id=hub.post_id, member_id=mentor.id),  # type: ignore[arg-type]
                Report(reporter_id=mentee.id, post_id=hub.post_id, reason="Off topic"),
            ]
        )
        session.flush()
        session.add(Report(reporter_id=mentee.id, comment_id=comment.id, reason="Rude"))
        hub.last_mentor_id = mentor.id  # type: ignore[assignment]
    hub.grown = max(hub.grown, to)
    network_changed(session=session)  # the factories write directly, past the services
    session.commit()
    session.rollback()
    return hub
