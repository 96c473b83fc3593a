"""Programme types on the pages without JavaScript: the programme form explains each type and
names a bad group size; a mentoring group's page shows its members and logs group sessions."""

from __future__ import annotations

from sqlmodel import select

from backend import london
from backend.members.models import Member
from backend.mentoring.models import GroupSessionAttendance, MentoringGroup, Mentorship
from tests.factories import make_mentee, make_mentor, make_organiser_scope, make_programme
from tests.web.conftest import another_client, error_summary, log_in, post_form
from tests.web.test_mentoring_pages import submit


def test_the_programme_form_explains_the_types_and_names_a_bad_group_size(session, client):
    organiser = session.get(Member, make_organiser_scope(session).member_id)
    session.commit()
    log_in(client, organiser.email)

    form = client.get("/organise/programmes/new").text
    bad = submit(
        client,
        "/organise/programmes/new",
        "/organise/programmes",
        {"name": "Team leads", "type": "group", "pairing": "round", "group_size": "20"},
    )
    not_group = submit(
        client,
        "/organise/programmes/new",
        "/organise/programmes",
        {"name": "Pairs", "type": "reciprocal", "pairing": "round", "group_size": "4"},
    )

    assert "Each learns from the other" in form
    assert 'aria-describedby="type-2-item-hint"' in form
    assert bad.status_code == 400
    assert error_summary(bad.text) == ["The group size must be a whole number from 2 to 12."]
    assert not_group.status_code == 400
    assert "only group mentoring has groups" in error_summary(not_group.text)[0]


def test_the_group_page_shows_its_members_and_logs_a_session(session, client, engine):
    programme = make_programme(session, name="Team leads", type="group", group_size=3)
    mentor = make_mentor(session, name="Grace Mentor")
    ann = make_mentee(session, name="Ann Member")
    outsider = make_mentee(session, name="Out Sider")
    group = MentoringGroup(programme_id=programme.id, mentor_id=mentor.id, name="Team leads group")
    session.add(group)
    session.flush()
    session.add(
        Mentorship(
            programme_id=programme.id, mentor_id=mentor.id, mentee_id=ann.id, group_id=group.id
        )
    )
    session.commit()
    log_in(client, ann.email)
    page = f"/groups/{group.id}"

    shown = client.get(page)
    today = london.london_today()
    bad = post_form(client, f"{page}/sessions", {"duration_minutes": "60"}, page=page)
    logged = post_form(
        client,
        f"{page}/sessions",
        {
            "held_on-day": str(today.day),
            "held_on-month": str(today.month),
            "held_on-year": str(today.year),
            "duration_minutes": "75",
            "attended_ids": [str(ann.id), str(mentor.id)],
            "notes": "Rota templates",
        },
        page=page,
    )
    stranger = another_client(engine)
    log_in(stranger, outsider.email)

    assert shown.status_code == 200
    assert "Grace Mentor" in shown.text and "Ann Member" in shown.text
    assert bad.status_code == 400
    assert "The date of the session must be a real date" in error_summary(bad.text)[0]
    assert logged.status_code == 303
    after = client.get(page).text
    assert "Rota templates" in after and "75 minutes" in after
    came = session.exec(select(GroupSessionAttendance.member_id)).all()
    assert set(came) == {ann.id, mentor.id}
    assert stranger.get(page).status_code == 404


def test_suggestions_in_a_reciprocal_programme_are_for_its_accepted_mentees(
    session, client, engine
):
    from tests.factories import make_programme_application

    programme = make_programme(session, name="Reverse mentoring", type="reciprocal")
    mentee = make_mentee(session, band="4", priority_access=True)
    stranger = make_mentee(session, band="4", name="Not Accepted")
    make_programme_application(
        session, programme=programme, member=mentee, role="mentee", status="accepted"
    )
    make_mentor(session, band="7", name="Band Seven")
    make_mentor(session, band="8c", name="Senior Leader")
    session.commit()
    log_in(client, mentee.email)
    other = another_client(engine)
    log_in(other, stranger.email)

    page = client.get(f"/mentoring/suggestions?programme={programme.id}")

    assert page.status_code == 200
    assert "Reverse mentoring is reciprocal mentoring" in page.text
    assert "Senior Leader" in page.text and "Band Seven" not in page.text
    assert f"programme={programme.id}" in page.text  # asking stays in the programme
    assert other.get(f"/mentoring/suggestions?programme={programme.id}").status_code == 404


def test_an_organiser_sees_a_group_in_scope_read_only_and_london_gets_404_for_north_west(
    session, client, engine
):
    from tests.factories import make_chapter, make_group_session

    north_west = make_chapter(session, name="North West", regions=("North West",))
    london_chapter = make_chapter(session, name="London", regions=("London",))
    programme = make_programme(
        session, name="NW leads", type="group", group_size=3, chapter_id=north_west.id
    )
    mentor = make_mentor(session, name="Grace Mentor")
    ann = make_mentee(session, name="Ann Member")
    group = MentoringGroup(programme_id=programme.id, mentor_id=mentor.id, name="NW group")
    session.add(group)
    session.flush()
    session.add(
        Mentorship(
            programme_id=programme.id, mentor_id=mentor.id, mentee_id=ann.id, group_id=group.id
        )
    )
    make_group_session(session, group=group, notes="Only for the group", duration_minutes=70)
    ours = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    theirs = session.get(Member, make_organiser_scope(session, chapter=london_chapter).member_id)
    session.commit()
    log_in(client, ours.email)
    other = another_client(engine)
    log_in(other, theirs.email)
    member = another_client(engine)
    log_in(member, ann.email)
    page = f"/groups/{group.id}"

    seen = client.get(page)
    as_member = member.get(page).text

    assert seen.status_code == 200
    assert "Ann Member" in seen.text and "70 minutes" in seen.text
    assert "Only for the group" not in seen.text
    assert "Log a group session" not in seen.text and "Message the group" not in seen.text
    assert other.get(page).status_code == 404
    assert "Only for the group" in as_member and f'href="{page}/messages"' in as_member
    assert (
        post_form(client, f"{page}/sessions", {"duration_minutes": "60"}, page=page).status_code
        == 404
    )
