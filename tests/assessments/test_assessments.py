"""The self-assessment service: taking it, reading one's own, suggested skills, privacy, and
the paired change for impact reports (statistics checked against a hand-worked example)."""

from __future__ import annotations

import math

import pytest
from sqlmodel import select

from backend.assessments import service as assessments
from backend.assessments.models import DIMENSION_IDS, SelfAssessment, SelfAssessmentRating
from backend.chapters import service as chapter_service
from backend.errors import Conflict, FieldErrors, Invalid, NotFound
from backend.insights import disclosure
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring import service as mentoring
from backend.mentoring.models import Mentorship
from backend.notifications.models import Notification
from backend.privacy import service as privacy
from tests.factories import (
    PASSWORD,
    make_member,
    make_member_skill,
    make_mentorship,
    make_request,
    make_self_assessment,
)

ALL_TWO = dict.fromkeys(DIMENSION_IDS, 2)


def sitting(levels: dict[str, int | None] | None = None, **fields: object):
    return assessments.TakeAssessment(ratings=levels if levels is not None else ALL_TWO, **fields)


def test_a_member_takes_it_when_they_like_and_reads_only_their_own(session):
    me, other = make_member(session), make_member(session)
    make_self_assessment(session, member=other, levels=4)

    taken = assessments.take(
        session=session, member=me, sitting=sitting({**ALL_TWO, "leading-with-care": 3})
    )

    mine = assessments.my_assessments(session=session, member=me)
    assert [a.id for a in mine] == [taken.id]
    assert mine[0].occasion == "own_choice" and mine[0].mentorship_id is None
    assert mine[0].ratings["leading-with-care"] == 3
    assert list(mine[0].ratings) == list(DIMENSION_IDS)


def test_a_missing_dimension_is_named_and_nothing_is_written(session):
    me = make_member(session)
    levels: dict[str, int | None] = {**ALL_TWO, "holding-to-account": None}
    del levels["sharing-the-vision"]

    with pytest.raises(FieldErrors) as raised:
        assessments.take(session=session, member=me, sitting=sitting(levels))

    assert raised.value.errors == {
        "sharing-the-vision": "Choose a level for sharing the vision.",
        "holding-to-account": "Choose a level for holding to account.",
    }
    assert session.exec(select(SelfAssessment)).all() == []


def test_levels_outside_one_to_four_and_unknown_dimensions_are_refused(session):
    me = make_member(session)
    with pytest.raises(FieldErrors) as raised:
        assessments.take(
            session=session,
            member=me,
            sitting=sitting({**ALL_TWO, "engaging-the-team": 5, "juggling": 2}),
        )
    assert set(raised.value.errors) == {"ratings", "engaging-the-team"}
    assert "juggling" in raised.value.errors["ratings"]


def test_start_and_end_belong_to_ones_own_mentorship_once_each(session):
    mentorship = make_mentorship(session)
    mentee = session.get(Member, mentorship.mentee_id)
    stranger = make_member(session)

    with pytest.raises(NotFound):
        assessments.take(
            session=session,
            member=stranger,
            sitting=sitting(occasion="start", mentorship_id=mentorship.id),
        )
    with pytest.raises(Invalid) as raised:
        assessments.take(session=session, member=mentee, sitting=sitting(occasion="start"))
    assert raised.value.field == "mentorship_id"
    with pytest.raises(Conflict):  # the end waits for the mentorship to end
        assessments.take(
            session=session,
            member=mentee,
            sitting=sitting(occasion="end", mentorship_id=mentorship.id),
        )
    assessments.take(
        session=session,
        member=mentee,
        sitting=sitting(occasion="start", mentorship_id=mentorship.id),
    )
    with pytest.raises(Conflict, match="already taken the start"):
        assessments.take(
            session=session,
            member=mentee,
            sitting=sitting(occasion="start", mentorship_id=mentorship.id),
        )
    assert assessments.taken_for(session=session, member=mentee, mentorship_id=mentorship.id) == {
        "start"
    }


def test_a_mentorship_starting_invites_the_mentee_to_the_start_assessment(session):
    request = make_request(session)
    mentor = session.get(Member, request.mentor_id)
    mentoring.respond_to_request(session=session, mentor=mentor, request_id=request.id, accept=True)
    mentorship = session.exec(select(Mentorship).where(Mentorship.request_id == request.id)).one()

    invited = session.exec(
        select(Notification)
        .where(Notification.member_id == request.mentee_id)
        .where(Notification.kind == "mentorship")
    ).all()
    assert [n.link for n in invited] == [
        f"/my-development/self-assessment?mentorship={mentorship.id}&occasion=start"
    ]
    mentor_links = session.exec(
        select(Notification.link).where(Notification.member_id == mentor.id)
    ).all()
    assert not any("self-assessment" in link for link in mentor_links)


def test_ending_a_mentorship_invites_the_mentee_to_the_end_assessment(session):
    mentorship = make_mentorship(session)
    mentee = session.get(Member, mentorship.mentee_id)
    mentoring.end_mentorship(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        ending=mentoring.MentorshipEnding(outcome="completed"),
    )
    links = session.exec(select(Notification.link).where(Notification.member_id == mentee.id)).all()
    assert f"/my-development/self-assessment?mentorship={mentorship.id}&occasion=end" in links

    taken = assessments.take(
        session=session, member=mentee, sitting=sitting(occasion="end", mentorship_id=mentorship.id)
    )
    assert taken.occasion == "end"


def test_lowest_two_are_suggested_three_on_a_tie_never_exemplary():
    levels = dict.fromkeys(DIMENSION_IDS, 4)
    assert assessments.lowest_dimensions(levels) == []
    levels.update({"holding-to-account": 1, "sharing-the-vision": 3})
    assert assessments.lowest_dimensions(levels) == ["holding-to-account", "sharing-the-vision"]
    levels["leading-with-care"] = 3
    assert assessments.lowest_dimensions(levels) == [
        "holding-to-account",
        "leading-with-care",
        "sharing-the-vision",
    ]


def test_suggestions_change_the_profile_only_when_asked(session):
    me = make_member(session)
    make_member_skill(session, member=me, skill_id="leading-with-care", kind="sought")
    assessments.take(
        session=session,
        member=me,
        sitting=sitting(
            {**dict.fromkeys(DIMENSION_IDS, 3), "leading-with-care": 1, "engaging-the-team": 2}
        ),
    )
    sought = member_service.skills_of(session=session, member_id=me.id)["sought"]
    assert sought == ["leading-with-care"]  # taking it changed nothing

    suggested = assessments.suggested_skills(session=session, member=me)
    assert [(s.id, s.already_sought) for s in suggested] == [
        ("leading-with-care", True),
        ("engaging-the-team", False),
    ]
    assert assessments.add_suggested_skills(session=session, member=me) == ["engaging-the-team"]
    assert sorted(member_service.skills_of(session=session, member_id=me.id)["sought"]) == [
        "engaging-the-team",
        "leading-with-care",
    ]


def test_the_chart_compares_start_and_end_else_first_and_latest(session):
    me = make_member(session)
    first = assessments.take(session=session, member=me, sitting=sitting())
    assert assessments.comparison([first]).before is None
    second = assessments.take(session=session, member=me, sitting=sitting())
    chosen = assessments.comparison([first, second])
    assert (chosen.before.id, chosen.after.id, chosen.before_label) == (
        first.id,
        second.id,
        "First",
    )


def test_export_holds_my_assessments_and_erasure_removes_them(session):
    me = make_member(session)
    other = make_member(session)
    assessments.take(
        session=session, member=me, sitting=sitting({**ALL_TWO, "leading-with-care": 4})
    )
    make_self_assessment(session, member=other)

    exported = privacy.export_my_data(session=session, member=me)["self_assessments"]
    assert len(exported) == 1 and exported[0]["ratings"]["leading-with-care"] == 4
    assert exported[0]["occasion"] == "own_choice"

    privacy.erase_my_account(session=session, member=me, password=PASSWORD, confirm=True)
    owners = session.exec(select(SelfAssessment.member_id)).all()
    assert owners == [other.id]
    assert len(session.exec(select(SelfAssessmentRating)).all()) == 9


# Statistics ------------------------------------------------------------------------------------


def test_paired_interval_matches_a_hand_worked_example():
    # Differences 1, 0, 2, 1: mean 1; s^2 = (0 + 1 + 1 + 0) / 3 = 2/3; s = 0.81650;
    # se = s / 2 = 0.40825; t(0.975, 3) = 3.18245; half-width = 1.29924.
    interval = assessments.paired_interval([1, 0, 2, 1])
    assert interval.mean == 1
    assert math.isclose(interval.low, 1 - 1.29924, abs_tol=1e-4)
    assert math.isclose(interval.high, 1 + 1.29924, abs_tol=1e-4)
    with pytest.raises(ValueError):
        assessments.paired_interval([1])


def test_paired_change_pairs_start_and_end_and_suppresses_small_counts(session):
    keys = disclosure.CellKeys(b"test secret")
    mentorships = []
    # Twenty pairs: a count of 20 perturbed (at most 6 either way) is never hidden, whatever
    # the records' keys (ten could fall below 8 on some ids, and did on PostgreSQL).
    for i in range(20):
        mentorship = make_mentorship(session, status="completed")
        mentorships.append(mentorship)
        make_self_assessment(session, mentorship=mentorship, occasion="start", levels=2)
        after = 3 if i % 2 else 2  # half improve by one level on every dimension
        make_self_assessment(session, mentorship=mentorship, occasion="end", levels=after)
    # An unpaired start and a mentor's pair are not counted for mentees.
    lone = make_mentorship(session, status="completed")
    make_self_assessment(session, mentorship=lone, occasion="start", levels=1)
    make_self_assessment(
        session,
        member=session.get(Member, lone.mentor_id),
        mentorship=lone,
        occasion="start",
        levels=1,
    )

    changes = assessments.paired_change(session=session, scope=chapter_service.NETWORK, keys=keys)
    assert [c.dimension for c in changes] == list(DIMENSION_IDS)
    first = changes[0]
    # Twenty differences 0,1,0,1...: mean 0.5, s = sqrt(20 * 0.25 / 19) = 0.51299,
    # t(0.975, 19) = 2.09302, half-width = 2.09302 * 0.51299 / sqrt(20) = 0.24009.
    assert first.mean_change == 0.5
    assert first.low == round(0.5 - 0.24009, 2) and first.high == round(0.5 + 0.24009, 2)
    assert first.pairs.value is not None and first.pairs.value % 5 == 0

    few = assessments.paired_change(
        session=session,
        scope=chapter_service.NETWORK,
        mentorship_ids=[m.id for m in mentorships[:7]],
        keys=keys,
    )
    assert all(c.pairs.hidden and c.mean_change is None and c.low is None for c in few)
    outside = assessments.paired_change(session=session, scope=chapter_service.NONE, keys=keys)
    assert all(c.pairs.value == 0 and c.mean_change is None for c in outside)
