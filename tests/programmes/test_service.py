"""Programmes: organisers create and decide, members browse and apply; every rule named."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.members.models import Member
from backend.notifications.models import Notification
from backend.programmes import service as programmes
from backend.programmes.models import ProgrammeAnswer, ProgrammeApplication
from backend.programmes.service import ProgrammeSettings, QuestionSettings
from tests.factories import (
    make_chapter,
    make_member,
    make_organiser,
    make_organiser_scope,
    make_programme,
    make_programme_application,
    make_programme_question,
)

TODAY = programmes.today_in_london()


@pytest.fixture
def world(session):
    """Two chapters, an organiser of each, a member in each."""
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    nw_organiser = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    london_organiser = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    band4 = make_member(session, name="Bea Four", region="North West", band="4")
    band8a = make_member(session, name="Ade Eight", region="North West", band="8a")
    londoner = make_member(session, name="Lou London", region="London", band="4")
    return north_west, london, nw_organiser, london_organiser, band4, band8a, londoner


def _settings(**fields) -> ProgrammeSettings:
    return ProgrammeSettings(name=fields.pop("name", "Into management"), **fields)


def test_an_organiser_creates_a_draft_in_their_chapter_audited(session, world):
    north_west, _, nw_organiser, *_ = world

    created = programmes.create_programme(
        session=session,
        organiser=nw_organiser,
        settings=_settings(chapter_id=north_west.id, bands=["5", "3", "4"], places=2),
    )

    assert created.status == "draft" and created.bands == ["3", "4", "5"]
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "programme.created"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        nw_organiser.id,
        "programme",
        created.id,
    )


def test_a_chapter_organiser_may_not_create_elsewhere_or_network_wide(session, world):
    _, london, nw_organiser, *_ = world

    with pytest.raises(Forbidden):
        programmes.create_programme(
            session=session, organiser=nw_organiser, settings=_settings(chapter_id=london.id)
        )
    with pytest.raises(Forbidden) as error:
        programmes.create_programme(session=session, organiser=nw_organiser, settings=_settings())
    assert error.value.field == "chapter_id"


def test_a_member_may_not_use_organiser_functions(session, world):
    *_, band4, _, _ = world
    programme = make_programme(session)
    with pytest.raises(Forbidden):
        programmes.create_programme(session=session, organiser=band4, settings=_settings())
    with pytest.raises(Forbidden):
        programmes.applications_of(session=session, organiser=band4, programme_id=programme.id)


def test_another_chapters_programme_is_not_found_for_its_organiser(session, world):
    north_west, london, nw_organiser, london_organiser, band4, *_ = world
    programme = make_programme(session, chapter_id=north_west.id)
    application = make_programme_application(session, programme=programme, member=band4)

    for call in (
        lambda: programmes.get_organised(
            session=session, organiser=london_organiser, programme_id=programme.id
        ),
        lambda: programmes.update_programme(
            session=session,
            organiser=london_organiser,
            programme_id=programme.id,
            settings=_settings(chapter_id=london.id),
        ),
        lambda: programmes.applications_of(
            session=session, organiser=london_organiser, programme_id=programme.id
        ),
        lambda: programmes.decide(
            session=session,
            organiser=london_organiser,
            application_id=application.id,
            decision="accepted",
        ),
    ):
        with pytest.raises(NotFound):
            call()
    assert [
        p.id for p in programmes.organised_programmes(session=session, organiser=nw_organiser)
    ] == [programme.id]
    assert programmes.organised_programmes(session=session, organiser=london_organiser) == []


@pytest.mark.parametrize(
    ("dates", "field", "words"),
    [
        (
            {"applications_open_on": date(2027, 3, 10), "applications_close_on": date(2027, 3, 1)},
            "applications_close_on",
            "applications close date must be on or after the applications open date",
        ),
        (
            {"applications_close_on": date(2027, 3, 10), "matching_on": date(2027, 3, 9)},
            "matching_on",
            "matching date must be on or after the applications close date",
        ),
        (
            {"starts_on": date(2027, 4, 1), "ends_on": date(2027, 4, 1)},
            "ends_on",
            "end date must be after the start date",
        ),
        (
            {"applications_open_on": date(2027, 4, 1), "starts_on": date(2027, 3, 1)},
            "starts_on",
            "start date must be on or after the applications open date",
        ),
    ],
)
def test_dates_out_of_order_are_refused_naming_the_field(session, world, dates, field, words):
    north_west, _, nw_organiser, *_ = world
    with pytest.raises(FieldErrors) as error:
        programmes.create_programme(
            session=session,
            organiser=nw_organiser,
            settings=_settings(chapter_id=north_west.id, **dates),
        )
    assert list(error.value.errors) == [field]
    assert words in error.value.errors[field]


def test_dates_in_order_and_group_size_are_kept(session, world):
    north_west, _, nw_organiser, *_ = world
    days = [TODAY + timedelta(days=n) for n in (0, 5, 5, 10, 100)]
    created = programmes.create_programme(
        session=session,
        organiser=nw_organiser,
        settings=_settings(
            chapter_id=north_west.id,
            type="group",
            group_size=4,
            applications_open_on=days[0],
            applications_close_on=days[1],
            matching_on=days[2],
            starts_on=days[3],
            ends_on=days[4],
        ),
    )
    assert (created.type, created.group_size, created.ends_on) == ("group", 4, days[4])
    with pytest.raises(FieldErrors) as error:
        programmes.create_programme(
            session=session,
            organiser=nw_organiser,
            settings=_settings(chapter_id=north_west.id, type="group", bands=["11"]),
        )
    assert set(error.value.errors) == {"group_size", "bands"}


def test_the_default_programme_takes_no_dates_or_eligibility_and_stays(session):
    organiser = make_organiser(session)
    default_id = programmes.default_programme_id(session=session)
    with pytest.raises(FieldErrors) as error:
        programmes.update_programme(
            session=session,
            organiser=organiser,
            programme_id=default_id,
            settings=_settings(name="Open mentoring", starts_on=TODAY, bands=["4"]),
        )
    assert {"starts_on", "bands"} <= set(error.value.errors)
    with pytest.raises(Conflict):
        programmes.delete_programme(session=session, organiser=organiser, programme_id=default_id)


def test_eligibility_reasons_name_the_rule_and_the_members_value(session, world):
    *_, band4, band8a, londoner = world
    programme = make_programme(
        session, eligible_bands=["3", "4", "5"], eligible_regions=["North West"]
    )

    assert programmes.reasons_not_eligible(programme, band4) == []
    assert programmes.reasons_not_eligible(programme, band8a) == [
        "This programme is for bands 3 to 5. Your band is 8a."
    ]
    assert programmes.reasons_not_eligible(programme, londoner) == [
        "This programme is for members in North West. Your region is London."
    ]
    widening = make_programme(
        session, widening_access_only=True, eligible_professions=["nurse-or-midwife"]
    )
    assert len(programmes.reasons_not_eligible(widening, band4)) == 2
    assert programmes.eligibility_words(programme) == [
        "For bands 3 to 5.",
        "For members in North West.",
    ]


def test_members_see_open_programmes_of_their_chapters_and_the_network(session, world):
    north_west, london, *_, band4, _, londoner = world
    ours = make_programme(session, name="NW", chapter_id=north_west.id)
    theirs = make_programme(session, name="London only", chapter_id=london.id)
    everyone = make_programme(session, name="Everyone")
    make_programme(session, name="Draft", status="draft")
    make_programme(session, name="Later", applications_open_on=TODAY + timedelta(days=1))
    make_programme(session, name="Over", applications_close_on=TODAY - timedelta(days=1))

    names = [p.name for p in programmes.programmes_open_to(session=session, member=band4)]
    assert sorted(names) == ["Everyone", "NW"]
    with pytest.raises(NotFound):
        programmes.get_programme(session=session, member=band4, programme_id=theirs.id)
    assert programmes.get_programme(session=session, member=londoner, programme_id=theirs.id)
    assert ours.id and everyone.id


def test_applying_checks_dates_eligibility_answers_and_once_only(session, world):
    north_west, *_, band4, band8a, _ = world
    programme = make_programme(session, chapter_id=north_west.id, eligible_bands=["3", "4", "5"])
    why = make_programme_question(session, programme=programme, text="Why?", position=0)
    pick = make_programme_question(
        session,
        programme=programme,
        text="Which?",
        kind="multiple-choice",
        choices=json.dumps(["A", "B"]),
        position=1,
    )

    with pytest.raises(Forbidden, match=r"bands 3 to 5\. Your band is 8a"):
        programmes.apply(session=session, member=band8a, programme_id=programme.id)
    with pytest.raises(FieldErrors) as error:
        programmes.apply(
            session=session, member=band4, programme_id=programme.id, answers={pick.id: ["C"]}
        )
    assert error.value.errors == {
        f"question_{why.id}": "Question 1: enter your answer.",
        f"question_{pick.id}": "Question 2: choose from the answers given.",
    }
    application = programmes.apply(
        session=session,
        member=band4,
        programme_id=programme.id,
        answers={why.id: "To lead", pick.id: ["A", "B"]},
    )
    assert application.status == "submitted"
    answers = programmes.answers_of(session=session, application_ids=[application.id])
    assert answers[application.id] == {why.id: "To lead", pick.id: ["A", "B"]}
    with pytest.raises(Conflict, match="already applied"):
        programmes.apply(
            session=session, member=band4, programme_id=programme.id, answers={why.id: "x"}
        )

    programmes.withdraw(session=session, member=band4, application_id=application.id)
    again = programmes.apply(
        session=session,
        member=band4,
        programme_id=programme.id,
        answers={why.id: "Again", pick.id: "B"},
    )
    assert again.id == application.id and again.status == "submitted"
    assert sorted(a.value for a in session.exec(select(ProgrammeAnswer)).all()) == [
        "Again",
        '["B"]',
    ]


def test_closed_and_not_yet_open_applications_are_refused_with_the_dates(session, world):
    *_, band4, _, _ = world
    later = make_programme(
        session,
        applications_open_on=date(2099, 3, 1),
        applications_close_on=date(2099, 3, 31),
    )
    over = make_programme(session, applications_close_on=date(2020, 1, 31))
    with pytest.raises(Conflict, match="Applications open on 1 March 2099 until 31 March 2099"):
        programmes.apply(session=session, member=band4, programme_id=later.id)
    with pytest.raises(Conflict, match="Applications closed on 31 January 2020"):
        programmes.apply(session=session, member=band4, programme_id=over.id)


def test_deciding_respects_places_notifies_and_audits(session, world):
    north_west, _, nw_organiser, _, band4, band8a, _ = world
    programme = make_programme(session, chapter_id=north_west.id, places=1)
    first = make_programme_application(session, programme=programme, member=band4)
    second = make_programme_application(session, programme=programme, member=band8a)
    mentor = make_programme_application(
        session,
        programme=programme,
        member=make_member(session, region="North West"),
        role="mentor",
    )

    programmes.decide(
        session=session,
        organiser=nw_organiser,
        application_id=first.id,
        decision="accepted",
        message="Welcome aboard",
    )
    with pytest.raises(Conflict, match="waiting list"):
        programmes.decide(
            session=session, organiser=nw_organiser, application_id=second.id, decision="accepted"
        )
    programmes.decide(
        session=session, organiser=nw_organiser, application_id=second.id, decision="waitlisted"
    )
    programmes.decide(  # mentors do not take mentee places
        session=session, organiser=nw_organiser, application_id=mentor.id, decision="accepted"
    )

    assert programmes.accepted_applicants(session=session, programme_id=programme.id) == [band4.id]
    assert programmes.accepted_applicants(
        session=session, programme_id=programme.id, role="mentor"
    ) == [mentor.member_id]
    [told] = session.exec(select(Notification).where(Notification.member_id == band4.id)).all()
    assert told.kind == "programme" and "Welcome aboard" in told.body
    assert told.link == f"/programmes/{programme.id}"
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "programme_application.decided")
    ).all()
    assert [json.loads(e.details)["decision"] for e in events] == [
        "accepted",
        "waitlisted",
        "accepted",
    ]
    counts = programmes.application_counts(
        session=session, organiser=nw_organiser, programme_id=programme.id
    )
    assert (counts["accepted"], counts["waitlisted"]) == (2, 1)
    with pytest.raises(Conflict, match="no longer be withdrawn"):
        programmes.withdraw(session=session, member=band4, application_id=first.id)


def test_questions_are_added_edited_reordered_and_removed(session, world):
    north_west, _, nw_organiser, *_ = world
    programme = make_programme(session, chapter_id=north_west.id, status="draft")
    with pytest.raises(FieldErrors) as error:
        programmes.set_questions(
            session=session,
            organiser=nw_organiser,
            programme_id=programme.id,
            questions=[QuestionSettings(text="Pick", kind="single-choice", choices=["Only"])],
        )
    assert error.value.errors == {
        "questions.0.choices": "Question 1: Give at least 2 choices, one per line."
    }
    first, second = programmes.set_questions(
        session=session,
        organiser=nw_organiser,
        programme_id=programme.id,
        questions=[
            QuestionSettings(text="Why?", kind="long-text"),
            QuestionSettings(text="Pick", kind="single-choice", choices=["A", " B ", ""]),
        ],
    )
    assert second.choice_list == ["A", "B"]
    [kept] = programmes.set_questions(
        session=session,
        organiser=nw_organiser,
        programme_id=programme.id,
        questions=[
            QuestionSettings(
                id=second.id,
                text="Pick one",
                kind="single-choice",
                choices=["A", "B"],
                required=False,
            )
        ],
    )
    assert (kept.id, kept.position, kept.text, kept.required) == (second.id, 0, "Pick one", False)
    assert [q.id for q in programmes.questions_of(session=session, programme_id=programme.id)] == [
        second.id
    ]
    assert first.id != second.id


def test_unknown_ids_and_a_withdrawn_application_cannot_be_decided(session, world):
    north_west, _, nw_organiser, _, band4, *_ = world
    programme = make_programme(session, chapter_id=north_west.id)
    application = make_programme_application(
        session, programme=programme, member=band4, status="withdrawn"
    )
    with pytest.raises(Conflict, match="withdrawn"):
        programmes.decide(
            session=session,
            organiser=nw_organiser,
            application_id=application.id,
            decision="declined",
        )
    with pytest.raises(Invalid):
        programmes.decide(
            session=session, organiser=nw_organiser, application_id=application.id, decision="maybe"
        )
    with pytest.raises(NotFound):
        programmes.decide(
            session=session, organiser=nw_organiser, application_id=10**6, decision="declined"
        )
    assert session.get(ProgrammeApplication, application.id).status == "withdrawn"


def test_a_members_export_holds_their_applications_and_answers(session, world):
    from backend.privacy import service as privacy

    *_, band4, _, _ = world
    programme = make_programme(session)
    question = make_programme_question(session, programme=programme)
    programmes.apply(
        session=session, member=band4, programme_id=programme.id, answers={question.id: "Growth"}
    )

    [exported] = privacy.export_my_data(session=session, member=band4)["programme_applications"]

    assert exported["programme_id"] == programme.id and exported["status"] == "submitted"
    assert [a["value"] for a in exported["answers"]] == ["Growth"]
