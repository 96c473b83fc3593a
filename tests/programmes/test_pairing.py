"""Pairing inside programmes: one mentor per mentee per programme, requests and rounds within a
programme, and the programme's end closing its mentorships."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from backend.errors import Conflict, Forbidden
from backend.members.models import MentoringOffer
from backend.mentoring import lifecycle
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest, Mentorship
from backend.notifications.models import Notification
from backend.programmes import pairing
from backend.programmes.models import Programme
from backend.programmes.service import default_programme_id
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import (
    make_chapter,
    make_member,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser_scope,
    make_programme,
    make_programme_application,
    make_request,
)
from tests.races import race


def accept(session, programme, member, role="mentee"):
    return make_programme_application(
        session, programme=programme, member=member, role=role, status="accepted"
    )


def titles(session, member_id):
    return [
        n.title
        for n in session.exec(
            select(Notification)
            .where(Notification.member_id == member_id)
            .order_by(Notification.id)
        )
    ]


# One mentor per mentee per programme ------------------------------------------------------------


def test_a_mentee_with_a_mentor_in_the_open_programme_can_start_one_in_another(session):
    programme = make_programme(session, name="Into management", pairing="requests")
    mentee = make_mentee(session)
    make_mentorship(session, mentee=mentee, mentor=make_mentor(session))
    accept(session, programme, mentee)
    mentor = make_mentor(session, name="Programme Mentor")

    request = mentoring.request_mentor(
        session=session,
        mentee=mentee,
        mentor_id=mentor.id,
        message="Please mentor me in the programme",
        programme_id=programme.id,
    )
    accepted = mentoring.accept_request(
        session=session, mentor=mentor, request=request, mentee=mentee
    )

    assert request.programme_id == programme.id
    assert accepted.mentorship.programme_id == programme.id
    active = session.exec(
        select(Mentorship)
        .where(Mentorship.mentee_id == mentee.id)
        .where(Mentorship.status == "active")
    ).all()
    assert {m.programme_id for m in active} == {programme.id, default_programme_id(session=session)}


def test_a_second_mentorship_in_the_same_programme_is_refused_naming_it(session):
    programme = make_programme(session, name="Into management", pairing="both")
    mentee = make_mentee(session, name="Asha Mentee")
    make_mentorship(session, mentee=mentee, mentor=make_mentor(session), programme_id=programme.id)
    other = make_mentor(session)
    request = make_request(session, mentee=mentee, mentor=other, programme_id=programme.id)

    with pytest.raises(lifecycle.AlreadyHasMentor) as refused:
        lifecycle.start_mentorship(
            session=session, mentor_id=other.id, mentee_id=mentee.id, request=request
        )

    assert "Asha Mentee already has a mentor in Into management" in refused.value.message
    offer = session.get(MentoringOffer, other.id)
    session.refresh(offer)
    assert offer.active_mentees == 0


def test_asking_a_second_mentor_in_the_same_programme_says_which_programme(session):
    programme = make_programme(session, name="Into management", pairing="requests")
    mentee = make_mentee(session)
    accept(session, programme, mentee)
    make_mentorship(session, mentee=mentee, mentor=make_mentor(session), programme_id=programme.id)

    with pytest.raises(Conflict) as refused:
        mentoring.request_mentor(
            session=session,
            mentee=mentee,
            mentor_id=make_mentor(session).id,
            message="Another?",
            programme_id=programme.id,
        )

    assert "You already have a mentor in Into management" in refused.value.message


def test_a_new_mentorship_closes_only_the_requests_and_offers_of_its_own_programme(session):
    programme = make_programme(session, name="Into management", pairing="both")
    mentee = make_mentee(session)
    mentor_a, mentor_b, mentor_c = (make_mentor(session) for _ in range(3))
    in_programme = make_request(session, mentee=mentee, mentor=mentor_a, programme_id=programme.id)
    other_in_programme = make_request(
        session, mentee=mentee, mentor=mentor_b, programme_id=programme.id
    )
    in_default = make_request(session, mentee=mentee, mentor=mentor_c)

    mentoring.accept_request(session=session, mentor=mentor_a, request=in_programme, mentee=mentee)

    session.expire_all()
    assert session.get(MentorRequest, other_in_programme.id).status == "withdrawn"
    assert session.get(MentorRequest, in_default.id).status == "open"
    session.refresh(mentee)
    assert mentee.open_requests == 1


def test_a_mentors_places_count_across_programmes(session):
    programme = make_programme(session, pairing="requests")
    mentor = make_mentor(session, capacity=1, name="Busy Mentor")
    make_mentorship(session, mentor=mentor, mentee=make_mentee(session))
    mentee = make_mentee(session)
    accept(session, programme, mentee)

    with pytest.raises(lifecycle.CapacityReached):
        mentoring.request_mentor(
            session=session,
            mentee=mentee,
            mentor_id=mentor.id,
            message="Hello",
            programme_id=programme.id,
        )


# Requests within a programme ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ({"pairing": "round"}, "matching round"),
        ({"status": "draft"}, "is not open yet"),
        ({"ends_on": date(2020, 1, 1)}, "has ended"),
        ({"status": "ended"}, "has ended"),
    ],
)
def test_a_request_in_a_programme_that_does_not_allow_it_is_refused(session, setup, words):
    programme = make_programme(session, name="Aspiring COO", **{"pairing": "both", **setup})
    mentee = make_mentee(session)
    accept(session, programme, mentee)

    with pytest.raises(Conflict) as refused:
        mentoring.request_mentor(
            session=session,
            mentee=mentee,
            mentor_id=make_mentor(session).id,
            message="Hello",
            programme_id=programme.id,
        )

    assert refused.value.field == "programme_id"
    assert words in refused.value.message and "Aspiring COO" in refused.value.message
    assert session.exec(select(MentorRequest)).all() == []


def test_only_accepted_mentees_ask_in_a_programme_and_only_its_mentors(session):
    programme = make_programme(session, name="Aspiring COO", pairing="requests")
    applied = make_mentee(session)
    make_programme_application(session, programme=programme, member=applied, status="submitted")
    accepted_mentee = make_mentee(session)
    accept(session, programme, accepted_mentee)
    its_mentor = make_mentor(session)
    accept(session, programme, its_mentor, role="mentor")
    outsider = make_mentor(session, name="Outside Mentor")

    with pytest.raises(Conflict, match="once your application as a mentee is accepted"):
        mentoring.request_mentor(
            session=session,
            mentee=applied,
            mentor_id=its_mentor.id,
            message="Hi",
            programme_id=programme.id,
        )
    with pytest.raises(Conflict, match="Outside Mentor is not one of the mentors of Aspiring COO"):
        mentoring.request_mentor(
            session=session,
            mentee=accepted_mentee,
            mentor_id=outsider.id,
            message="Hi",
            programme_id=programme.id,
        )
    request = mentoring.request_mentor(
        session=session,
        mentee=accepted_mentee,
        mentor_id=its_mentor.id,
        message="Hi",
        programme_id=programme.id,
    )
    assert request.programme_id == programme.id


def test_a_request_without_a_programme_is_in_the_default_one(session):
    mentee = make_mentee(session)

    request = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=make_mentor(session).id, message="Hi"
    )

    assert request.programme_id == default_programme_id(session=session)


# Rounds over a programme --------------------------------------------------------------------


def run(session, engine, organiser, **kwargs):
    settings = rounds.RoundSettings(name=kwargs.pop("name", "Programme round"), **kwargs)
    matching_round = rounds.create_round(session=session, organiser=organiser, settings=settings)
    session.commit()
    assert rounds.run_round_job(matching_round.id, engine=engine) == "ready"
    session.expire_all()
    return session.get(MatchingRound, matching_round.id)


def proposals(session, round_id):
    return session.exec(select(MatchProposal).where(MatchProposal.round_id == round_id)).all()


def test_a_programme_round_pairs_its_accepted_mentees_even_one_mentored_elsewhere(
    session, engine, network
):
    organiser, _, mentees = network
    programme = make_programme(session, name="Into management", pairing="round")
    mentored_elsewhere, waiting, not_accepted, _ = mentees
    make_mentorship(session, mentee=mentored_elsewhere, mentor=make_mentor(session, capacity=1))
    accept(session, programme, mentored_elsewhere)
    accept(session, programme, waiting)
    make_programme_application(session, programme=programme, member=not_accepted)

    matching_round = run(session, engine, organiser, programme_id=programme.id)

    assert matching_round.programme_id == programme.id
    paired = {p.mentee_id for p in proposals(session, matching_round.id)}
    assert paired == {mentored_elsewhere.id, waiting.id}
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    offer = session.exec(
        select(MatchProposal)
        .where(MatchProposal.round_id == matching_round.id)
        .where(MatchProposal.mentee_id == mentored_elsewhere.id)
    ).one()
    assert offer.status == "offered"
    for member_id in (offer.mentee_id, offer.mentor_id):
        member = session.get(type(organiser), member_id)
        rounds.respond_to_proposal(
            session=session, member=member, proposal_id=offer.id, accept=True
        )
    session.expire_all()
    started = session.get(Mentorship, session.get(MatchProposal, offer.id).mentorship_id)
    assert started.programme_id == programme.id and started.status == "active"


def test_a_programme_round_leaves_out_mentees_mentored_in_it_and_uses_its_mentors(
    session, engine, network
):
    organiser, mentors, mentees = network
    programme = make_programme(session, pairing="both")
    busy, free, *_ = mentees
    for mentee in (busy, free):
        accept(session, programme, mentee)
    make_mentorship(session, mentee=busy, mentor=make_mentor(session), programme_id=programme.id)
    its_mentor = mentors[2]
    accept(session, programme, its_mentor, role="mentor")

    matching_round = run(session, engine, organiser, programme_id=programme.id)

    found = proposals(session, matching_round.id)
    assert [(p.mentee_id, p.mentor_id) for p in found] == [(free.id, its_mentor.id)]


def test_a_default_round_still_leaves_out_mentees_with_a_mentor(session, engine, network):
    organiser, _, mentees = network
    make_mentorship(session, mentee=mentees[0], mentor=make_mentor(session))

    matching_round = run(session, engine, organiser)

    assert mentees[0].id not in {p.mentee_id for p in proposals(session, matching_round.id)}
    assert matching_round.programme_id == default_programme_id(session=session)


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ({"pairing": "requests"}, "does not include rounds"),
        ({"status": "draft"}, "not published yet"),
        ({"ends_on": date(2020, 1, 1)}, "has ended"),
    ],
)
def test_a_round_in_a_programme_that_does_not_allow_it_is_refused(session, network, setup, words):
    organiser, _, _ = network
    programme = make_programme(session, name="Aspiring COO", **setup)

    with pytest.raises(Conflict) as refused:
        rounds.create_round(
            session=session,
            organiser=organiser,
            settings=rounds.RoundSettings(name="R", programme_id=programme.id),
        )

    assert refused.value.field == "programme_id" and words in refused.value.message
    assert session.exec(select(MatchingRound)).all() == []


def test_a_chapter_organiser_runs_rounds_in_their_chapters_programmes_only(session):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    organiser = make_member(session, name="Nia North West")
    make_organiser_scope(session, member=organiser, chapter=north_west)
    ours = make_programme(session, name="NW cohort", chapter_id=north_west.id, pairing="round")
    theirs = make_programme(session, name="London cohort", chapter_id=london.id)
    network_wide = make_programme(session, name="National")

    created = rounds.create_round(
        session=session,
        organiser=organiser,
        settings=rounds.RoundSettings(name="NW spring", programme_id=ours.id),
    )
    assert created.programme_id == ours.id
    for programme_id in (theirs.id, network_wide.id, None):
        with pytest.raises(Forbidden):
            rounds.create_round(
                session=session,
                organiser=organiser,
                settings=rounds.RoundSettings(name="Not mine", programme_id=programme_id),
            )
    assert rounds.round_programmes(session=session, organiser=organiser) == [(ours.id, "NW cohort")]
    assert rounds.programme_names(session=session, rounds=[created]) == {created.id: "NW cohort"}


# The programme's end --------------------------------------------------------------------------


def ended_programme_setup(session):
    programme = make_programme(session, name="Spring cohort", ends_on=date(2026, 3, 31))
    mentor = make_mentor(session, capacity=2, name="Mo Mentor")
    mentee = make_mentee(session, name="Mia Mentee")
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee, programme_id=programme.id)
    in_default = make_mentorship(session, mentor=mentor, mentee=make_mentee(session))
    open_request = make_request(
        session, mentee=make_mentee(session), mentor=mentor, programme_id=programme.id
    )
    return programme, mentor, mentee, mentorship, in_default, open_request


# 1 April 2026, 00:30 in London (BST): 23:30 UTC on 31 March; the last day has just passed.
AFTER_THE_END = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)


def test_the_end_completes_the_programmes_mentorships_and_tells_both_sides(session):
    programme, mentor, mentee, mentorship, in_default, open_request = ended_programme_setup(session)
    session.commit()

    assert pairing.end_programmes(session=session, now=AFTER_THE_END - timedelta(hours=1)) == 0
    assert pairing.end_programmes(session=session, now=AFTER_THE_END) == 1

    session.expire_all()
    ended = session.get(Mentorship, mentorship.id)
    assert ended.status == "completed" and ended.ended_at is not None
    assert session.get(Mentorship, in_default.id).status == "active"
    assert session.get(MentoringOffer, mentor.id).active_mentees == 1
    assert session.get(MentorRequest, open_request.id).status == "expired"
    programme = session.get(Programme, programme.id)
    assert programme.status == "ended" and programme.ended_at is not None
    for member in (mentor, mentee):
        note = session.exec(
            select(Notification)
            .where(Notification.member_id == member.id)
            .where(Notification.title == "Spring cohort has ended")
        ).one()
        assert note.link == f"/mentoring/mentorships/{mentorship.id}#feedback-heading"
    # and a second pass finds nothing to do
    assert pairing.end_programmes(session=session, now=AFTER_THE_END) == 0
    assert len(titles(session, mentee.id)) == 1


def test_two_workers_ending_one_programme_end_it_once(session, engine):
    _, mentor, mentee, _, _, _ = ended_programme_setup(session)
    counts: list[int] = []

    outcomes = race(
        engine,
        session,
        [lambda own: counts.append(pairing.end_programmes(session=own, now=AFTER_THE_END))] * 2,
    )

    assert outcomes == {"ok": 2}
    assert sorted(counts) == [0, 1]
    session.expire_all()
    assert session.get(MentoringOffer, mentor.id).active_mentees == 1
    assert len(titles(session, mentee.id)) == 1


def test_the_default_programme_never_ends(session):
    default = session.get(Programme, default_programme_id(session=session))
    default.ends_on = date(2020, 1, 1)
    session.add(default)
    mentorship = make_mentorship(session)
    session.commit()

    assert pairing.end_programmes(session=session, now=AFTER_THE_END) == 0

    session.expire_all()
    assert session.get(Mentorship, mentorship.id).status == "active"
    assert session.get(Programme, default.id).status == "published"


def test_no_mentorship_starts_in_an_ended_programme(session):
    programme = make_programme(session, name="Spring cohort", status="ended")
    mentee, mentor = make_mentee(session), make_mentor(session)
    request = make_request(session, mentee=mentee, mentor=mentor, programme_id=programme.id)

    with pytest.raises(Conflict, match="Spring cohort has ended"):
        mentoring.accept_request(session=session, mentor=mentor, request=request, mentee=mentee)
