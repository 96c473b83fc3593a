"""Every HTML page of the app, by the role that sees it, with its path filled from a world of
objects made with tests/factories.py; and the routes deliberately left out, with why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from backend.db import utcnow
from tests import factories as f

World = SimpleNamespace

# Route (as the app declares it) -> why no axe check visits it.
EXCLUDED = {
    "/sign-in/sso/callback": "a redirect: it finishes a single sign-on and shows no page",
}
# Steps of signing in that need a half-done sign-in: test_axe_sign_in_steps.py checks them.
SIGN_IN_STEPS = {
    "/sign-in/sso",
    "/sign-in/sso/complete-profile",
    "/login/second-factor",
    "/account/confirm",
}


def build_world(session: Session) -> World:
    """A small lived-in network: one of everything a page can show, for each role."""
    w = World()
    w.organiser = f.make_organiser(session, name="Olu Organiser", band="8c")
    w.admin = f.make_member(session, name="Ada Admin", roles=("admin", "organiser"))
    w.mentor = f.make_mentor(session, name="Maya Mentor", capacity=3)
    w.member = f.make_mentee(session, name="Sam Mentee")
    w.other_mentor = f.make_mentor(session, name="Nia Mentor", organisation="Other Trust")
    # Mentoring: a request, a mentorship with sessions, goals, a check-in, an offered proposal.
    w.request = f.make_request(session, mentee=w.member, mentor=w.mentor)
    w.mentorship = f.make_mentorship(session, mentor=w.mentor, mentee=w.member)
    f.make_mentoring_session(session, mentorship=w.mentorship)
    w.booking = f.make_session_booking(session, mentorship=w.mentorship)
    w.proposed_booking = f.make_session_booking(
        session, mentorship=w.mentorship, status="proposed", starts_at=None, booked_at=None
    )
    f.make_session_time_option(session, booking=w.proposed_booking)
    w.goal = f.make_mentorship_goal(session, mentorship=w.mentorship)
    f.make_goal_note(session, goal=w.goal)
    w.check_in = f.make_check_in(session, mentorship=w.mentorship)
    w.ready_round = f.make_round(session, organiser=w.organiser, name="Autumn round")
    f.make_proposal(
        session, matching_round=w.ready_round, mentee=f.make_mentee(session), mentor=w.mentor
    )
    w.published_round = f.make_round(
        session, organiser=w.organiser, name="Spring round", status="published"
    )
    w.proposal = f.make_proposal(
        session,
        matching_round=w.published_round,
        mentee=w.member,
        mentor=w.other_mentor,
        status="offered",
    )
    w.running_round = f.make_round(
        session, organiser=w.organiser, name="Winter round", status="running", progress=0.4
    )
    w.running_round.stage = "Scoring pairs"
    w.running_round.heartbeat_at = utcnow()
    session.add(w.running_round)
    session.commit()
    # Programmes, surveys and a group.
    w.programme = f.make_programme(session, name="Aspiring leaders")
    f.make_programme_question(session, programme=w.programme)
    f.make_programme_application(session, programme=w.programme, member=f.make_mentee(session))
    ended = f.make_mentorship(
        session,
        mentor=w.other_mentor,
        mentee=w.member,
        status="completed",
        ended_at=utcnow() - timedelta(days=2),
        programme_id=w.programme.id,
    )
    w.survey = f.make_survey(session, programme=w.programme)
    f.make_survey_question(session, survey=w.survey)
    w.invitation = f.make_survey_invitation(session, survey=w.survey, mentorship=ended)
    w.group = f.make_mentoring_group(session, mentor=w.mentor)
    f.make_group_session(session, group=w.group)
    # Messages, community, notifications.
    w.thread = f.make_message_thread(session, mentorship=w.mentorship)
    w.message = f.make_message(session, thread=w.thread, author=w.mentor)
    w.circle = f.make_circle(session, name="Rota managers", members=[w.member, w.mentor])
    w.post = f.make_post(session, author=w.member, title="Rotas in winter")
    w.comment = f.make_comment(session, post=w.post, author=w.mentor)
    f.make_report(session, reporter=w.mentor, post=w.post)
    f.make_notification(session, member=w.member, link="/mentoring")
    f.make_self_assessment(session, member=w.member)
    # Imports, skills, organisations, chapters, audit.
    w.running_import = f.make_member_import(session, created_by=w.organiser, status="running")
    w.skill = f.make_skill(session, name="Winter planning")
    w.organisation = f.make_organisation(session, name="Leeds Teaching Hospitals NHS Trust")
    w.chapter = f.make_chapter(session, name="North West chapter")
    f.make_audit_event(session, actor=w.organiser)
    # Opportunities (one saved) and an event the member is going to.
    w.opportunity = f.make_opportunity(session, posted_by=w.organiser, title="Shadow a COO")
    f.make_opportunity_save(session, opportunity=w.opportunity, member=w.member)
    w.event = f.make_event(session, organiser=w.organiser, title="Winter planning webinar")
    f.make_event_rsvp(session, event=w.event, member=w.member)
    # Load every row, then let go: an open read on SQLite would block the app's writes.
    for row in vars(w).values():
        session.refresh(row)
    session.close()
    return w


Page = tuple[str, Callable[[World], str]]


def _fixed(route: str) -> Page:
    return (route, lambda _w: route)


ANONYMOUS: list[Page] = [
    _fixed("/"),
    _fixed("/about"),
    _fixed("/privacy"),
    _fixed("/accessibility"),
    _fixed("/login"),
    _fixed("/sign-up"),
    _fixed("/sign-up/check-email"),
    ("/verify", lambda _w: "/verify?token=not-a-real-token"),
    _fixed("/forgotten-password"),
    ("/reset-password", lambda _w: "/reset-password?token=not-a-real-token"),
    ("/invitation", lambda _w: "/invitation?token=not-a-real-token"),
    _fixed("/code-of-conduct"),
    _fixed("/programmes"),
]
ANONYMOUS_ERRORS = ["/login", "/sign-up", "/forgotten-password"]

MEMBER: list[Page] = [
    _fixed("/profile"),
    _fixed("/profile/edit"),
    ("/members/{member_id:int}", lambda w: f"/members/{w.mentor.id}"),
    _fixed("/mentoring-offer"),
    _fixed("/account"),
    _fixed("/account/two-factor"),
    _fixed("/mentoring"),
    _fixed("/mentoring/suggestions"),
    _fixed("/mentors"),
    ("/mentoring/requests/new", lambda w: f"/mentoring/requests/new?mentor={w.other_mentor.id}"),
    _fixed("/mentoring/requests"),
    ("/mentoring/requests/{request_id:int}", lambda w: f"/mentoring/requests/{w.request.id}"),
    (
        "/mentoring/mentorships/{mentorship_id:int}",
        lambda w: f"/mentoring/mentorships/{w.mentorship.id}",
    ),
    (
        "/mentoring/mentorships/{mentorship_id:int}/end",
        lambda w: f"/mentoring/mentorships/{w.mentorship.id}/end",
    ),
    ("/mentoring/proposals/{proposal_id:int}", lambda w: f"/mentoring/proposals/{w.proposal.id}"),
    (
        "/mentoring/mentorships/{mentorship_id:int}/sessions/propose",
        lambda w: f"/mentoring/mentorships/{w.mentorship.id}/sessions/propose",
    ),
    (
        "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/reschedule",
        lambda w: f"/mentoring/mentorships/{w.mentorship.id}/sessions/{w.booking.id}/reschedule",
    ),
    (
        "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/cancel",
        lambda w: f"/mentoring/mentorships/{w.mentorship.id}/sessions/{w.booking.id}/cancel",
    ),
    _fixed("/my-development/self-assessment"),
    _fixed("/my-development/self-assessment/results"),
    ("/mentoring/goals/{goal_id:int}", lambda w: f"/mentoring/goals/{w.goal.id}"),
    ("/mentoring/check-ins/{check_in_id:int}", lambda w: f"/mentoring/check-ins/{w.check_in.id}"),
    _fixed("/notifications"),
    _fixed("/notifications/settings"),
    _fixed("/messages"),
    ("/messages/{thread_id:int}", lambda w: f"/messages/{w.thread.id}"),
    ("/messages/report/{message_id:int}", lambda w: f"/messages/report/{w.message.id}"),
    _fixed("/community"),
    _fixed("/community/posts/new"),
    ("/community/posts/{post_id:int}", lambda w: f"/community/posts/{w.post.id}"),
    ("/community/posts/{post_id:int}/edit", lambda w: f"/community/posts/{w.post.id}/edit"),
    (
        "/community/{kind}/{target_id:int}/report",
        lambda w: f"/community/comments/{w.comment.id}/report",
    ),
    _fixed("/members"),
    _fixed("/circles"),
    ("/circles/{circle_id:int}", lambda w: f"/circles/{w.circle.id}"),
    _fixed("/my-data"),
    _fixed("/my-data/diversity"),
    _fixed("/my-data/erase"),
    _fixed("/my-data/widening-access"),
    _fixed("/surveys"),
    (
        "/surveys/{survey_id}/mentorships/{mentorship_id}",
        lambda w: f"/surveys/{w.survey.id}/mentorships/{w.invitation.mentorship_id}",
    ),
    ("/programmes/{programme_id}", lambda w: f"/programmes/{w.programme.id}"),
    ("/programmes/{programme_id}/apply", lambda w: f"/programmes/{w.programme.id}/apply"),
    _fixed("/opportunities"),
    _fixed("/opportunities/saved"),
    _fixed("/opportunities/new"),
    ("/opportunities/{opportunity_id}", lambda w: f"/opportunities/{w.opportunity.id}"),
    _fixed("/events"),
    ("/events/{event_id:int}", lambda w: f"/events/{w.event.id}"),
    ("/no-such-page", lambda _w: "/no-such-page"),
]
MEMBER_ERRORS = [
    "/profile/edit",
    "/community/posts/new",
    "/my-data/erase",
]

MENTOR: list[Page] = [
    _fixed("/mentoring"),
    ("/mentoring/requests/{request_id:int}", lambda w: f"/mentoring/requests/{w.request.id}"),
    (
        "/mentoring/mentorships/{mentorship_id:int}/sessions/{booking_id:int}/pick",
        lambda w: f"/mentoring/mentorships/{w.mentorship.id}/sessions/{w.proposed_booking.id}/pick",
    ),
    ("/groups/{group_id:int}", lambda w: f"/groups/{w.group.id}"),
]

ORGANISER: list[Page] = [
    _fixed("/organise/import"),
    ("/organise/import/{import_id:int}", lambda w: f"/organise/import/{w.running_import.id}"),
    _fixed("/organise/rounds"),
    ("/organise/rounds/{round_id:int}", lambda w: f"/organise/rounds/{w.ready_round.id}"),
    ("/organise/rounds/{round_id:int}", lambda w: f"/organise/rounds/{w.running_round.id}"),
    ("/organise/rounds/{round_id:int}", lambda w: f"/organise/rounds/{w.published_round.id}"),
    (
        "/organise/rounds/{round_id:int}/publish",
        lambda w: f"/organise/rounds/{w.ready_round.id}/publish",
    ),
    (
        "/organise/rounds/{round_id:int}/proposals/{proposal_id:int}",
        lambda w: f"/organise/rounds/{w.published_round.id}/proposals/{w.proposal.id}",
    ),
    _fixed("/organise/programmes"),
    _fixed("/organise/programmes/new"),
    ("/organise/programmes/{programme_id}", lambda w: f"/organise/programmes/{w.programme.id}"),
    (
        "/organise/programmes/{programme_id}/questions",
        lambda w: f"/organise/programmes/{w.programme.id}/questions",
    ),
    (
        "/organise/programmes/{programme_id}/applications",
        lambda w: f"/organise/programmes/{w.programme.id}/applications",
    ),
    (
        "/organise/programmes/{programme_id}/surveys",
        lambda w: f"/organise/programmes/{w.programme.id}/surveys",
    ),
    (
        "/organise/programmes/{programme_id}/surveys/{survey_id}",
        lambda w: f"/organise/programmes/{w.programme.id}/surveys/{w.survey.id}",
    ),
    (
        "/organise/programmes/{programme_id}/feedback",
        lambda w: f"/organise/programmes/{w.programme.id}/feedback",
    ),
    _fixed("/organise/needs-attention"),
    _fixed("/organise/insights"),
    _fixed("/organise/impact"),
    _fixed("/community/moderation"),
    _fixed("/organise"),
    _fixed("/organise/reach"),
    _fixed("/events/new"),
    ("/events/{event_id:int}/edit", lambda w: f"/events/{w.event.id}/edit"),
    (
        "/opportunities/{opportunity_id}/edit",
        lambda w: f"/opportunities/{w.opportunity.id}/edit",
    ),
    (
        "/opportunities/{opportunity_id}/withdraw",
        lambda w: f"/opportunities/{w.opportunity.id}/withdraw",
    ),
]
ORGANISER_ERRORS = [
    "/organise/import",
    "/organise/programmes/new",
    "/events/new",
    "/opportunities/new",
]

ADMIN: list[Page] = [
    _fixed("/admin"),
    _fixed("/admin/members"),
    ("/admin/members/{member_id:int}", lambda w: f"/admin/members/{w.member.id}"),
    (
        "/admin/members/{member_id:int}/suspend",
        lambda w: f"/admin/members/{w.member.id}/suspend?reason=conduct",
    ),
    _fixed("/admin/audit"),
    ("/admin/audit", lambda _w: "/admin/audit?since=not-a-date"),
    _fixed("/admin/skills"),
    ("/admin/skills/{skill_id}", lambda w: f"/admin/skills/{w.skill.id}"),
    _fixed("/admin/organisations"),
    (
        "/admin/organisations/{organisation_id:int}",
        lambda w: f"/admin/organisations/{w.organisation.id}",
    ),
    _fixed("/admin/chapters"),
    _fixed("/admin/chapters/new"),
    ("/admin/chapters/{chapter_id:int}", lambda w: f"/admin/chapters/{w.chapter.id}"),
]
ADMIN_ERRORS = ["/admin/chapters/new"]

ROLES: dict[str, list[Page]] = {
    "anonymous": ANONYMOUS,
    "member": MEMBER,
    "mentor": MENTOR,
    "organiser": ORGANISER,
    "admin": ADMIN,
}


def routes_covered() -> set[str]:
    """Every route some role's list visits, the sign-in steps, and the exclusions."""
    visited = {route for pages in ROLES.values() for route, _ in pages}
    return visited | SIGN_IN_STEPS | set(EXCLUDED)


# Pages shown with an error status on purpose (a bad filter, a page that is not there).
STATUS = {"/admin/audit?since=not-a-date": 400, "/no-such-page": 404}


def email_of(world: World, role: str) -> Any:
    return None if role == "anonymous" else getattr(world, role).email
