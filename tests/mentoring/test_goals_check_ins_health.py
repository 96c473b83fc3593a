"""Tracked goals, monthly check-ins and relationship health (issue 13, items 3 and 6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from backend import migrate
from backend.db import make_engine, utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.insights import health as health_figures
from backend.london import london_today
from backend.mentoring import check_ins, goals, health
from backend.mentoring import service as mentoring
from backend.mentoring.models import CheckIn, GoalNote, Mentorship, MentorshipGoal
from backend.notifications.models import Notification
from backend.privacy import service as privacy
from tests.db.test_migrations import _insert_row
from tests.factories import (
    PASSWORD,
    make_chapter,
    make_member,
    make_mentee,
    make_mentor,
    make_mentoring_session,
    make_mentorship,
    make_organiser,
    make_organiser_scope,
    make_programme,
    make_session_booking,
    make_user_session,
)

DAY = timedelta(days=1)


def _answered(session, mentorship, score, **fields):
    """The mentee's answered check-in of ``mentorship``."""
    row = CheckIn(
        mentorship_id=mentorship.id,
        member_id=mentorship.mentee_id,
        role="mentee",
        period=1,
        answered_at=utcnow(),
        score=score,
        **fields,
    )
    session.add(row)
    return row


def _notes_of(session, member, kind):
    return session.exec(
        select(Notification).where(Notification.member_id == member.id, Notification.kind == kind)
    ).all()


# Goals ----------------------------------------------------------------------------------------


def test_either_side_adds_and_changes_goals_and_notes_and_outsiders_never_see_them(session):
    mentorship = make_mentorship(session, mentee=make_mentee(session, goals=""))
    mentor = session.get(type(make_member(session)), mentorship.mentor_id)
    mentee = session.get(type(mentor), mentorship.mentee_id)
    outsider, organiser = make_member(session), make_organiser(session)

    goal = goals.add_goal(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        draft=goals.GoalDraft(
            title=" Run my first budget round ", due_on=date(2027, 6, 30), measure="Signed off"
        ),
    )
    goals.update_goal(
        session=session,
        member=mentor,
        goal_id=goal.id,
        draft=goals.GoalDraft(status="achieved"),
    )
    goals.add_note(session=session, member=mentor, goal_id=goal.id, text="Board approved it")

    got = goals.get_goal(session=session, member=mentee, goal_id=goal.id)
    assert (got.title, got.due_on, got.measure, got.status) == (
        "Run my first budget round",
        date(2027, 6, 30),
        "Signed off",
        "achieved",
    )
    notes = goals.notes_for(session=session, member=mentee, goal_ids=[goal.id])[goal.id]
    assert [n.text for n in notes] == ["Board approved it"]
    assert _notes_of(session, mentor, "mentorship")  # told of the new goal
    for stranger in (outsider, organiser):
        with pytest.raises(NotFound):
            goals.get_goal(session=session, member=stranger, goal_id=goal.id)
        with pytest.raises(NotFound):
            goals.add_note(session=session, member=stranger, goal_id=goal.id, text="Hi")
        with pytest.raises(NotFound):
            goals.update_goal(
                session=session, member=stranger, goal_id=goal.id, draft=goals.GoalDraft(title="x")
            )
        assert goals.goals_for(
            session=session, member=stranger, mentorship_ids=[mentorship.id]
        ) == {mentorship.id: []}
        assert goals.notes_for(session=session, member=stranger, goal_ids=[goal.id]) == {
            goal.id: []
        }


def test_bad_goal_input_names_the_field_and_writes_nothing(session):
    mentorship = make_mentorship(session, mentee=make_mentee(session, goals=""))
    mentee = session.get(type(make_member(session)), mentorship.mentee_id)

    with pytest.raises(FieldErrors) as caught:
        goals.add_goal(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            draft=goals.GoalDraft(title=" ", measure="m" * 1001, status="maybe"),
        )

    assert set(caught.value.errors) == {"title", "measure", "status"}
    assert session.exec(select(MentorshipGoal)).all() == []


def test_a_new_mentorship_starts_with_the_mentees_written_goals_one_per_line(session):
    mentee = make_mentee(session, goals="Lead a QI project\n\n  Run a budget  ")
    mentor = make_mentor(session)
    request = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Please"
    )
    mentoring.respond_to_request(session=session, mentor=mentor, request_id=request.id, accept=True)
    mentorship = mentoring.list_mentorships(session=session, member=mentee)[0]

    titles = [
        g.title
        for g in goals.goals_for(session=session, member=mentee, mentorship_ids=[mentorship.id])[
            mentorship.id
        ]
    ]
    assert titles == ["Lead a QI project", "Run a budget"]
    assert mentorship.goals == ""


def test_upgrading_turns_free_text_goals_into_goal_rows(tmp_path):
    # given a database at 0019 with a mentorship whose agreement has two goals in its text
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    migrate.upgrade(engine, "0019")
    with engine.begin() as connection:
        _insert_row(connection, "organisation", id=1, name="A Trust", type="acute-trust", key="a")
        for member_id in (1, 2):
            _insert_row(
                connection,
                "member",
                id=member_id,
                organisation_id=1,
                email=f"m{member_id}@example.org",
                name=f"M{member_id}",
                region="London",
                band="4",
                role_family="operational-management",
                profession="non-clinical",
            )
        programme_id = connection.execute(text("SELECT id FROM programme")).scalar()
        _insert_row(
            connection,
            "mentorship",
            id=7,
            mentee_id=1,
            mentor_id=2,
            programme_id=programme_id,
            status="active",
            planned_months=6,
            goals="Lead a QI project\r\n\n  Run my first budget  \n",
        )
        _insert_row(
            connection,
            "mentorship",
            id=8,
            mentee_id=2,
            mentor_id=1,
            programme_id=programme_id,
            status="completed",
            planned_months=6,
            goals="",
        )

    # when it is upgraded
    migrate.upgrade(engine, "0023")

    # then each non-empty line is an open goal, and the text is emptied
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT mentorship_id, title, status FROM mentorship_goal ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (7, "Lead a QI project", "open"),
            (7, "Run my first budget", "open"),
        ]
        left = connection.execute(text("SELECT goals FROM mentorship ORDER BY id")).scalars()
        assert list(left) == ["", ""]

    # and a downgrade writes them back as lines
    migrate.downgrade(engine, "0019")
    with engine.connect() as connection:
        back = connection.execute(text("SELECT goals FROM mentorship WHERE id = 7")).scalar()
        assert back == "Lead a QI project\nRun my first budget"
    engine.dispose()


# Check-ins ------------------------------------------------------------------------------------


def test_each_side_is_asked_once_a_month_and_a_second_pass_sends_nothing(session):
    now = utcnow()
    mentorship = make_mentorship(session, started_at=now - timedelta(days=31))
    mentor_id, mentee_id = mentorship.mentor_id, mentorship.mentee_id

    first = check_ins.create_due(session=session, now=now)
    again = check_ins.create_due(session=session, now=now + DAY)
    next_month = check_ins.create_due(session=session, now=now + timedelta(days=30))

    assert (first, again, next_month) == (2, 0, 2)
    rows = session.exec(select(CheckIn).order_by(CheckIn.id)).all()
    assert sorted((r.member_id, r.period) for r in rows) == sorted(
        [(mentor_id, 1), (mentee_id, 1), (mentor_id, 2), (mentee_id, 2)]
    )
    assert all(r.notified_at is not None for r in rows)
    mentee = session.get(type(make_member(session)), mentee_id)
    told = _notes_of(session, mentee, "checkin")
    first_of_mentee = next(r for r in rows if r.member_id == mentee_id and r.period == 1)
    assert len(told) == 2
    assert f"/mentoring/check-ins/{first_of_mentee.id}" in {n.link for n in told}


def test_a_young_or_ended_mentorship_is_not_asked(session):
    now = utcnow()
    make_mentorship(session, started_at=now - timedelta(days=10))
    make_mentorship(session, status="completed", started_at=now - timedelta(days=60))

    assert check_ins.create_due(session=session, now=now) == 0


def test_a_check_in_claimed_by_another_worker_is_not_notified_twice(session):
    now = utcnow()
    mentorship = make_mentorship(session, started_at=now - timedelta(days=31))
    session.add(
        CheckIn(
            mentorship_id=mentorship.id,
            member_id=mentorship.mentee_id,
            role="mentee",
            period=1,
            created_at=now,
            notified_at=now,  # another worker's pass claimed and sent it
        )
    )
    session.flush()

    sent = check_ins.create_due(session=session, now=now)

    assert sent == 1  # only the mentor's
    assert len(session.exec(select(CheckIn)).all()) == 2


def test_an_answer_is_the_answerers_own_and_given_once(session):
    now = utcnow()
    mentorship = make_mentorship(session, started_at=now - timedelta(days=31))
    check_ins.create_due(session=session, now=now)
    member_type = type(make_member(session))
    mentee = session.get(member_type, mentorship.mentee_id)
    mentor = session.get(member_type, mentorship.mentor_id)
    (mine,) = check_ins.mine(session=session, member=mentee, pending_only=True)

    with pytest.raises(NotFound):  # not even the partner
        check_ins.get_own(session=session, member=mentor, check_in_id=mine.id)
    with pytest.raises(FieldErrors) as bad:
        check_ins.answer(
            session=session,
            member=mentee,
            check_in_id=mine.id,
            given=check_ins.CheckInAnswer(score=6, comment="x" * 281),
        )
    assert set(bad.value.errors) == {"score", "comment"}
    answered = check_ins.answer(
        session=session,
        member=mentee,
        check_in_id=mine.id,
        given=check_ins.CheckInAnswer(score=2, comment="Hard to find time"),
    )
    assert (answered.score, answered.comment, answered.shared_with_organisers) == (
        2,
        "Hard to find time",
        False,
    )
    with pytest.raises(Conflict):
        check_ins.answer(
            session=session,
            member=mentee,
            check_in_id=mine.id,
            given=check_ins.CheckInAnswer(score=5),
        )
    assert check_ins.mine(session=session, member=mentee, pending_only=True) == []


# Relationship health --------------------------------------------------------------------------


def test_last_activity_is_the_latest_session_else_the_start(session):
    now = utcnow()
    quiet = make_mentorship(session, started_at=now - timedelta(days=50))
    met = make_mentorship(session, started_at=now - timedelta(days=50))
    make_mentoring_session(session, mentorship=met, held_on=london_today(now) - timedelta(days=3))
    make_mentoring_session(session, mentorship=met, held_on=london_today(now) - timedelta(days=9))

    assert health.last_activity(session=session, mentorship_id=quiet.id) == london_today(
        now - timedelta(days=50)
    )
    assert health.last_activity_many(session=session, mentorship_ids=[met.id]) == {
        met.id: london_today(now) - timedelta(days=3)
    }
    with pytest.raises(NotFound):
        health.last_activity(session=session, mentorship_id=999_999)


def test_a_quiet_pair_is_nudged_once_per_quiet_spell(session):
    now = utcnow()
    mentorship = make_mentorship(session, started_at=now - timedelta(weeks=10))
    make_mentoring_session(
        session, mentorship=mentorship, held_on=london_today(now) - timedelta(weeks=5)
    )
    busy = make_mentorship(session, started_at=now - timedelta(weeks=10))
    make_mentoring_session(session, mentorship=busy, held_on=london_today(now) - DAY)
    member_type = type(make_member(session))
    mentee = session.get(member_type, mentorship.mentee_id)
    mentor = session.get(member_type, mentorship.mentor_id)

    assert health.nudge_quiet(session=session, now=now) == 1
    assert health.nudge_quiet(session=session, now=now + DAY) == 0  # same spell
    assert len(_notes_of(session, mentee, "checkin")) == 1
    assert len(_notes_of(session, mentor, "checkin")) == 1

    # they meet, then go quiet again: a new spell, a new nudge
    make_mentoring_session(session, mentorship=mentorship, held_on=london_today(now))
    assert health.nudge_quiet(session=session, now=now + timedelta(weeks=2)) == 0
    assert health.nudge_quiet(session=session, now=now + timedelta(weeks=5)) == 1


def test_a_session_booked_counts_as_activity_so_the_pair_is_not_quiet(session):
    now = utcnow()
    booked = make_mentorship(session, started_at=now - timedelta(weeks=10))
    make_session_booking(session, mentorship=booked, starts_at=now + timedelta(days=3))
    cancelled = make_mentorship(session, started_at=now - timedelta(weeks=10))
    make_session_booking(
        session, mentorship=cancelled, status="cancelled", starts_at=now - timedelta(days=3)
    )

    assert health.nudge_quiet(session=session, now=now) == 1  # only the cancelled one
    last = health.last_activity_many(session=session, mentorship_ids=[booked.id, cancelled.id])
    assert last[booked.id] == london_today(now)  # still to come: counts as today
    assert last[cancelled.id] == london_today(now - timedelta(weeks=10))


def test_needs_attention_lists_long_quiet_and_struggling_pairs_with_why(session):
    now = utcnow()
    organiser = make_organiser(session)
    silent = make_mentorship(session, started_at=now - timedelta(weeks=9, days=1))
    make_user_session(session, member=session.get(type(organiser), silent.mentee_id))
    just_quiet = make_mentorship(session, started_at=now - timedelta(weeks=5))
    struggling = make_mentorship(session, started_at=now - timedelta(weeks=5))
    make_mentoring_session(session, mentorship=struggling, held_on=london_today(now))
    _answered(session, struggling, 2, comment="Secret words")
    session.flush()

    items = health.needing_attention(session=session, organiser=organiser, now=now)

    by_id = {item.mentorship_id: item for item in items}
    assert set(by_id) == {silent.id, struggling.id}
    assert just_quiet.id not in by_id
    assert by_id[silent.id].reasons[0] == "No session since it started 9 weeks ago"
    assert "Mentor has not signed in" in by_id[silent.id].reasons
    assert "Mentee has not signed in" not in by_id[silent.id].reasons
    assert "Mentee's check-in: 2/5" in by_id[struggling.id].reasons
    assert not any("Secret" in r for item in items for r in item.reasons)
    assert items[0].mentorship_id == silent.id  # quietest first


def test_needs_attention_is_scoped_to_the_organisers_chapter_and_filtered_by_programme(session):
    now = utcnow()
    long_ago = now - timedelta(weeks=10)
    north_west = make_chapter(session, regions=("North West",))
    chapter_organiser = make_organiser_scope(session, chapter=north_west).member_id
    organiser = session.get(type(make_member(session)), chapter_organiser)
    cohort = make_programme(session, name="NW cohort", chapter_id=north_west.id)
    theirs = make_mentorship(
        session,
        mentee=make_mentee(session, region="North West"),
        started_at=long_ago,
    )
    in_cohort = make_mentorship(session, programme_id=cohort.id, started_at=long_ago)
    elsewhere = make_mentorship(session, started_at=long_ago)

    seen = {i.mentorship_id for i in health.needing_attention(session=session, organiser=organiser)}
    only_cohort = health.needing_attention(
        session=session, organiser=organiser, programme_id=cohort.id
    )

    assert seen == {theirs.id, in_cohort.id}
    assert elsewhere.id not in seen
    assert [i.mentorship_id for i in only_cohort] == [in_cohort.id]
    with pytest.raises(Forbidden):
        health.needing_attention(session=session, organiser=make_member(session))


# Ending early ---------------------------------------------------------------------------------


def test_ending_early_records_a_reason_category(session):
    mentorship = make_mentorship(session)
    mentee = session.get(type(make_member(session)), mentorship.mentee_id)

    with pytest.raises(FieldErrors) as bad:
        mentoring.end_mentorship(
            session=session,
            member=mentee,
            mentorship_id=mentorship.id,
            ending=mentoring.MentorshipEnding(outcome="ended_early", category="bored"),
        )
    assert "category" in bad.value.errors
    mentoring.end_mentorship(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        ending=mentoring.MentorshipEnding(outcome="ended_early", category="no_time"),
    )

    ended = session.get(Mentorship, mentorship.id)
    session.refresh(ended)
    assert (ended.status, ended.end_category) == ("ended_early", "no_time")


# Health figures -------------------------------------------------------------------------------


def test_health_figures_are_disclosure_controlled_and_for_the_programmes_organisers(session):
    now = utcnow()
    organiser = make_organiser(session)
    programme = make_programme(session, name="Into management")
    for n in range(12):
        m = make_mentorship(session, programme_id=programme.id, started_at=now - timedelta(weeks=6))
        if n < 10:
            make_mentoring_session(session, mentorship=m, held_on=london_today(now) - DAY)
        _answered(session, m, 4)
    for _ in range(3):
        m = make_mentorship(session, programme_id=programme.id, status="ended_early")
        m.end_category = "no_time"
        session.add(m)
    session.flush()

    figures = health_figures.programme_health(
        session=session, organiser=organiser, programme_id=programme.id, now=now
    )

    assert figures.active.value is not None and figures.active.value % 5 == 0
    assert figures.ended_early_by_category["no_time"].hidden  # 3 is shown as *
    assert figures.mean_check_in_score == 4.0
    table = figures.table()
    assert table.key == "mentorship-health"
    assert ["Ended early: No time", "*"] in table.rows
    with pytest.raises(Forbidden):
        health_figures.programme_health(
            session=session, organiser=make_member(session), programme_id=programme.id
        )


def test_a_programme_with_few_answers_hides_the_mean_score(session):
    organiser = make_organiser(session)
    programme = make_programme(session)
    m = make_mentorship(session, programme_id=programme.id)
    _answered(session, m, 1)
    session.flush()

    figures = health_figures.programme_health(
        session=session, organiser=organiser, programme_id=programme.id
    )

    assert figures.mean_check_in_score is None and figures.check_in_answers.hidden


# Privacy --------------------------------------------------------------------------------------


def test_export_has_goals_notes_and_own_check_ins_and_erasure_removes_check_ins(session):
    now = utcnow()
    mentee = make_mentee(session, goals="", name="Zed Quux", password=PASSWORD)
    mentorship = make_mentorship(session, mentee=mentee, started_at=now - timedelta(days=31))
    goal = goals.add_goal(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        draft=goals.GoalDraft(title="Lead a team"),
    )
    goals.add_note(session=session, member=mentee, goal_id=goal.id, text="Zed Quux did it")
    check_ins.create_due(session=session, now=now)

    data = privacy.export_my_data(session=session, member=mentee)

    assert [g["title"] for g in data["mentorship_goals"]] == ["Lead a team"]
    assert [n["text"] for n in data["goal_notes"]] == ["Zed Quux did it"]
    assert [c["member_id"] for c in data["check_ins"]] == [mentee.id]

    mentee_id = mentee.id
    privacy.erase_my_account(session=session, member=mentee, password=PASSWORD, confirm=True)

    assert session.exec(select(CheckIn).where(CheckIn.member_id == mentee_id)).all() == []
    note = session.exec(select(GoalNote)).one()
    assert note.author_id is None and "Zed" not in note.text and "Quux" not in note.text
