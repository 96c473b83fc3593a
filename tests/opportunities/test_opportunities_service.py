"""The opportunities service: posting with field errors, who may post and see, saving,
"I'm interested", recommendations and the closing reminder (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from backend import london
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.notifications.models import Notification, OutboxEmail
from backend.opportunities import service as opportunities
from backend.opportunities.models import OpportunitySave
from tests.factories import (
    make_chapter,
    make_member,
    make_notification_preference,
    make_opportunity,
    make_opportunity_save,
    make_organiser,
    make_organiser_scope,
    make_self_assessment,
)

TODAY = london.london_today()


def _draft(**fields: object) -> opportunities.OpportunityDraft:
    values: dict[str, object] = {
        "kind": "shadowing",
        "title": "Shadow a general manager for a week",
        "provider": "Leeds Teaching Hospitals NHS Trust",
        "format": "in-person",
        "closes_on": TODAY + timedelta(days=20),
        "skills": ("operational-planning",),
        "bands": ("3", "4"),
    }
    values.update(fields)
    return opportunities.OpportunityDraft(**values)  # type: ignore[arg-type]


def test_a_member_posts_for_their_own_organisation_and_only_its_members_see_it(session):
    poster = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust")
    colleague = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust", band="4")
    elsewhere = make_member(session, organisation="Bradford District Care NHS Trust", band="4")

    view = opportunities.post(session=session, member=poster, draft=_draft())
    session.commit()

    assert view.audience == "organisation"
    assert view.audience_name == "Leeds Teaching Hospitals NHS Trust"
    assert view.eligibility == {"band": ["3", "4"]}
    assert view.eligibility_text() == ["Bands 3 and 4"]
    assert [v.id for v in opportunities.browse(session=session, member=colleague)] == [view.id]
    assert opportunities.browse(session=session, member=elsewhere) == []
    with pytest.raises(NotFound):
        opportunities.get(session=session, member=elsewhere, opportunity_id=view.id)


def test_a_member_may_not_post_for_the_network_or_a_chapter(session):
    member = make_member(session)
    chapter = make_chapter(session)

    with pytest.raises(Forbidden):
        opportunities.post(session=session, member=member, draft=_draft(audience="network"))
    with pytest.raises(Forbidden):
        opportunities.post(
            session=session,
            member=member,
            draft=_draft(audience="chapter", chapter_id=chapter.id),
        )


def test_a_chapter_organiser_posts_for_their_chapter_only(session):
    mine, theirs = make_chapter(session, regions=("North West",)), make_chapter(session)
    organiser = make_organiser_scope(session, chapter=mine).member_id
    from backend.members.models import Member

    member = session.get(Member, organiser)
    inside = make_member(session, region="North West", organisation="Wirral University Trust")
    outside = make_member(session, region="London", organisation="Barts Health NHS Trust")

    view = opportunities.post(
        session=session, member=member, draft=_draft(audience="chapter", chapter_id=mine.id)
    )
    session.commit()

    assert view.audience_name == mine.name
    assert [v.id for v in opportunities.browse(session=session, member=inside)] == [view.id]
    assert opportunities.browse(session=session, member=outside) == []
    with pytest.raises(Forbidden):
        opportunities.post(
            session=session, member=member, draft=_draft(audience="chapter", chapter_id=theirs.id)
        )
    with pytest.raises(Forbidden):
        opportunities.post(session=session, member=member, draft=_draft(audience="network"))


def test_a_network_organiser_posts_for_everyone(session):
    organiser = make_organiser(session)
    anyone = make_member(session, organisation="Barts Health NHS Trust", region="London")

    view = opportunities.post(session=session, member=organiser, draft=_draft(audience="network"))
    session.commit()

    assert view.audience_name == "Everyone in the network"
    assert [v.id for v in opportunities.browse(session=session, member=anyone)] == [view.id]


def test_every_problem_of_a_draft_is_named_by_its_field_and_nothing_is_written(session):
    member = make_member(session)

    with pytest.raises(FieldErrors) as raised:
        opportunities.post(
            session=session,
            member=member,
            draft=_draft(
                kind="webinar",
                title=" ",
                provider="",
                format="on the moon",
                closes_on=TODAY - timedelta(days=1),
                skills=("no-such-skill",),
                bands=("11",),
                url="not a link",
                cost_pence=-5,
            ),
        )

    errors = raised.value.errors
    assert set(errors) == {
        "kind",
        "title",
        "provider",
        "format",
        "closes_on",
        "skills",
        "bands",
        "url",
        "cost",
    }
    assert errors["title"] == "Enter the title of the opportunity."
    assert errors["closes_on"] == "The closing date must be today or in the future."
    assert errors["bands"] == "Unknown band: 11."
    assert opportunities.browse(session=session, member=member) == []


def test_a_draft_with_no_skill_or_closing_date_names_both(session):
    problems = opportunities.draft_problems(
        session=session, draft=_draft(skills=(), closes_on=None)
    )

    assert problems == {
        "skills": "Choose at least one skill it develops.",
        "closes_on": "Enter the closing date.",
    }


@pytest.mark.parametrize(
    ("text", "pence"),
    [("", 0), ("Free", 0), ("£250", 25000), ("1,250.50", 125050), ("£ 12.05", 1205)],
)
def test_costs_read_as_people_write_them(text, pence):
    assert opportunities.parse_cost(text) == pence
    assert opportunities.cost_text(pence) == (
        "Free" if pence == 0 else {25000: "£250", 125050: "£1,250.50", 1205: "£12.05"}[pence]
    )


def test_a_cost_that_is_not_money_is_refused_naming_the_field():
    with pytest.raises(Exception) as raised:
        opportunities.parse_cost("about a hundred")

    assert getattr(raised.value, "field", None) == "cost"


def test_browse_filters_by_kind_skill_and_region_and_hides_closed_ones(session):
    member = make_member(session, region="North West")
    course = make_opportunity(session, kind="course", skills=("quality-improvement",))
    shadowing = make_opportunity(
        session, kind="shadowing", skills=("budget-management",), regions=("North West",)
    )
    make_opportunity(session, kind="course", regions=("London",), skills=("budget-management",))
    make_opportunity(session, closes_on=TODAY - timedelta(days=1))

    def ids(**filters: str) -> list[int]:
        found = opportunities.browse(
            session=session, member=member, filters=opportunities.Filters(**filters)
        )
        return sorted(v.id for v in found)

    assert ids(kind="shadowing") == [shadowing.id]
    assert ids(skill="quality-improvement") == [course.id]
    assert ids(region="North West") == sorted([course.id, shadowing.id])
    assert len(ids()) == 3
    with pytest.raises(FieldErrors) as raised:
        ids(kind="webinar")
    assert set(raised.value.errors) == {"kind"}


def test_saving_and_interest_are_kept_and_the_poster_sees_a_count_only(session):
    poster = make_member(session)
    opportunity = make_opportunity(session, posted_by=poster)
    member, other = make_member(session), make_member(session)

    opportunities.save(session=session, member=member, opportunity_id=opportunity.id)
    view = opportunities.mark_interested(
        session=session, member=member, opportunity_id=opportunity.id
    )
    opportunities.mark_interested(session=session, member=other, opportunity_id=opportunity.id)
    session.commit()

    assert (view.saved, view.interested, view.interested_count) == (True, True, None)
    assert [v.id for v in opportunities.saved(session=session, member=member)] == [opportunity.id]
    assert opportunities.saved(session=session, member=other) == []
    seen = opportunities.get(session=session, member=poster, opportunity_id=opportunity.id)
    assert seen.interested_count == 2
    assert (
        opportunities.interested_count(
            session=session, member=poster, opportunity_id=opportunity.id
        )
        == 2
    )
    with pytest.raises(Forbidden):
        opportunities.interested_count(session=session, member=other, opportunity_id=opportunity.id)

    opportunities.save(session=session, member=member, opportunity_id=opportunity.id, saved=False)
    opportunities.mark_interested(
        session=session, member=member, opportunity_id=opportunity.id, interested=False
    )
    session.commit()
    assert session.get(OpportunitySave, (opportunity.id, member.id)) is None


def test_saving_twice_keeps_one_row(session):
    member = make_member(session)
    opportunity = make_opportunity(session)

    opportunities.save(session=session, member=member, opportunity_id=opportunity.id)
    opportunities.save(session=session, member=member, opportunity_id=opportunity.id)
    session.commit()

    rows = session.exec(select(OpportunitySave).where(OpportunitySave.member_id == member.id)).all()
    assert len(rows) == 1


def test_a_closed_one_cannot_be_saved_and_an_ineligible_one_cannot_be_interesting(session):
    member = make_member(session, band="4")
    closed = make_opportunity(session, closes_on=TODAY - timedelta(days=1))
    senior = make_opportunity(session, bands=("8a", "8b"))

    with pytest.raises(Conflict, match="closed"):
        opportunities.save(session=session, member=member, opportunity_id=closed.id)
    with pytest.raises(Conflict, match="Bands 8a and 8b"):
        opportunities.mark_interested(session=session, member=member, opportunity_id=senior.id)
    assert opportunities.save(session=session, member=member, opportunity_id=senior.id).saved


def test_a_band_4_member_gets_three_recommendations_with_reasons(session):
    member = make_member(
        session,
        band="4",
        region="North West",
        skills_sought=("quality-improvement", "performance-measurement"),
    )
    make_self_assessment(session, member=member, levels={"engaging-the-team": 1})
    both = make_opportunity(
        session,
        skills=("quality-improvement", "performance-measurement"),
        bands=("2", "3", "4"),
        regions=("North West",),
    )
    gap = make_opportunity(session, skills=("engaging-the-team",))
    one = make_opportunity(session, skills=("quality-improvement",))
    make_opportunity(session, skills=("quality-improvement",), bands=("8a",))  # ineligible
    make_opportunity(session, skills=("quality-improvement",), closes_on=TODAY - timedelta(1))
    make_opportunity(session, skills=("board-readiness",))  # nothing in common

    found = opportunities.recommendations(session=session, member=member, first=3)

    assert [r.opportunity.id for r in found] == [both.id, one.id, gap.id]
    assert found[0].reason_text == (
        "Develops 2 of the skills you want: performance measurement and analysis, quality "
        "improvement; open to band 4; in your region"
    )
    assert found[2].reasons == ["builds on your self-assessment: engaging the team"]


def test_a_saved_opportunity_closing_within_the_week_is_reminded_of_once(session, engine):
    member = make_member(session, email="amara@example.nhs.uk")
    soon = make_opportunity(session, title="Mary Seacole Programme", closes_on=TODAY + timedelta(3))
    later = make_opportunity(session, closes_on=TODAY + timedelta(30))
    make_opportunity_save(session, opportunity=soon, member=member)
    make_opportunity_save(session, opportunity=later, member=member)
    make_opportunity_save(session, opportunity=soon, saved=False, interested=True)

    first = opportunities.send_closing_reminders(session=session)
    session.commit()
    second = opportunities.send_closing_reminders(session=session)
    session.commit()

    assert (first, second) == (1, 0)
    emails = session.exec(select(OutboxEmail).where(OutboxEmail.kind == "opportunity")).all()
    assert [e.to_address for e in emails] == ["amara@example.nhs.uk"]
    closes = london.format_date(TODAY + timedelta(3))
    assert emails[0].subject == f"Closing on {closes}: Mary Seacole Programme"
    assert f"/opportunities/{soon.id}" in emails[0].body_text
    assert "/notifications/settings" in emails[0].body_text  # the member can turn these off
    notices = session.exec(select(Notification).where(Notification.member_id == member.id)).all()
    assert [(n.kind, n.title, n.link) for n in notices] == [
        ("opportunity", f"Closing on {closes}: Mary Seacole Programme", f"/opportunities/{soon.id}")
    ]


def test_a_member_who_turned_opportunity_emails_off_is_reminded_in_the_app_only(session):
    member = make_member(session)
    make_notification_preference(session, member=member, kind="opportunity", mode="off")
    soon = make_opportunity(session, title="Shadow a COO", closes_on=TODAY)
    make_opportunity_save(session, opportunity=soon, member=member)

    assert opportunities.send_closing_reminders(session=session, today=TODAY) == 1
    assert session.exec(select(OutboxEmail).where(OutboxEmail.kind == "opportunity")).all() == []
    notices = session.exec(select(Notification).where(Notification.member_id == member.id)).all()
    assert [n.title for n in notices] == ["Closing today: Shadow a COO"]


def test_the_periodic_pass_sends_the_reminders(session, engine):
    from backend import jobs

    member = make_member(session)
    soon = make_opportunity(session, closes_on=TODAY + timedelta(days=1))
    make_opportunity_save(session, opportunity=soon, member=member)
    session.rollback()

    assert jobs.run_once(engine)["opportunity_reminders"] == 1
    assert jobs.run_once(engine)["opportunity_reminders"] == 0


def test_closing_dates_read_as_nhs_style_dates():
    view = opportunities.OpportunityView(
        id=1,
        kind="secondment",
        title="t",
        provider="p",
        description="",
        url="",
        cost_pence=0,
        format="blended",
        closes_on=date(2026, 11, 28),
        audience="network",
        audience_name="Everyone in the network",
        posted_by_id=None,
    )

    assert (view.closes_text, view.kind_name, view.cost_text) == (
        "28 November 2026",
        "Secondment",
        "Free",
    )


def test_the_members_data_export_holds_their_saved_and_interested_marks(session):
    from backend.privacy import service as privacy

    member = make_member(session)
    opportunity = make_opportunity(session)
    make_opportunity_save(session, opportunity=opportunity, member=member, interested=True)

    exported = privacy.export_my_data(session=session, member=member)["opportunity_marks"]

    assert [(m["opportunity_id"], m["saved"], m["interested"]) for m in exported] == [
        (opportunity.id, True, True)
    ]


# Changing and withdrawing ------------------------------------------------------------------------


def test_its_poster_changes_it_with_the_field_errors_of_posting(session):
    poster = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust")
    view = opportunities.post(session=session, member=poster, draft=_draft())

    changed = opportunities.update(
        session=session,
        member=poster,
        opportunity_id=view.id,
        draft=_draft(title="Shadow a director for two days", skills=("budget-management",)),
    )
    with pytest.raises(FieldErrors) as raised:
        opportunities.update(
            session=session,
            member=poster,
            opportunity_id=view.id,
            draft=_draft(title=" ", closes_on=TODAY - timedelta(days=1)),
        )
    session.commit()

    assert (changed.title, changed.skills, changed.can_change) == (
        "Shadow a director for two days",
        ["budget-management"],
        True,
    )
    assert changed.audience_name == "Leeds Teaching Hospitals NHS Trust"
    assert raised.value.errors == {
        "title": "Enter the title of the opportunity.",
        "closes_on": "The closing date must be today or in the future.",
    }
    again = opportunities.get(session=session, member=poster, opportunity_id=view.id)
    assert (again.title, again.eligibility) == (
        "Shadow a director for two days",
        {"band": ["3", "4"]},
    )


def test_only_its_poster_and_organisers_covering_it_may_change_it(session):
    north = make_chapter(session, regions=("North West",))
    poster = make_member(session, region="North West")
    everyone = make_opportunity(session, posted_by=poster)
    chaptered = make_opportunity(session, posted_by=poster, chapter_id=north.id)
    colleague = make_member(session, region="North West")
    from backend.members.models import Member

    chapter_organiser = session.get(
        Member,
        make_organiser_scope(
            session, member=make_member(session, region="North West"), chapter=north
        ).member_id,
    )
    network_organiser = make_organiser(session)

    for who, opportunity in (
        (colleague, everyone),
        (colleague, chaptered),
        (chapter_organiser, everyone),  # a network-wide one is outside a chapter's scope
    ):
        with pytest.raises(Forbidden):
            opportunities.update(
                session=session, member=who, opportunity_id=opportunity.id, draft=_draft()
            )
        with pytest.raises(Forbidden):
            opportunities.withdraw(session=session, member=who, opportunity_id=opportunity.id)
    assert not opportunities.get(
        session=session, member=colleague, opportunity_id=everyone.id
    ).can_change
    by_chapter = opportunities.update(
        session=session,
        member=chapter_organiser,
        opportunity_id=chaptered.id,
        draft=_draft(audience="chapter", chapter_id=north.id, title="Chapter shadowing"),
    )
    by_network = opportunities.update(
        session=session,
        member=network_organiser,
        opportunity_id=everyone.id,
        draft=_draft(audience="network", title="Network shadowing"),
    )

    assert (by_chapter.title, by_chapter.audience_name) == ("Chapter shadowing", north.name)
    assert (by_network.title, by_network.audience) == ("Network shadowing", "network")


def test_withdrawing_tells_savers_and_the_interested_and_hides_it(session):
    from backend.notifications.models import Notification

    poster = make_member(session)
    member = make_member(session, band="4", skills_sought=("quality-improvement",))
    keen, bystander = make_member(session), make_member(session)
    opportunity = make_opportunity(session, posted_by=poster, title="Mary Seacole Programme")
    other = make_opportunity(session, title="Still open")
    make_opportunity_save(session, opportunity=opportunity, member=member)
    make_opportunity_save(
        session, opportunity=opportunity, member=keen, saved=False, interested=True
    )
    make_opportunity_save(session, opportunity=other, member=bystander)
    assert opportunities.recommendations(session=session, member=member)

    view = opportunities.withdraw(session=session, member=poster, opportunity_id=opportunity.id)
    session.commit()

    assert (view.withdrawn, view.is_open, view.can_change) == (True, False, False)
    told = session.exec(select(Notification).order_by(Notification.member_id)).all()
    assert [(n.member_id, n.title, n.kind) for n in told] == [
        (member.id, "Mary Seacole Programme has been withdrawn by its provider", "opportunity"),
        (keen.id, "Mary Seacole Programme has been withdrawn by its provider", "opportunity"),
    ]
    assert [v.id for v in opportunities.browse(session=session, member=member)] == [other.id]
    assert [
        r.opportunity.id for r in opportunities.recommendations(session=session, member=member)
    ] == [other.id]
    listed = opportunities.saved(session=session, member=member)
    assert [(v.id, v.is_open, v.withdrawn) for v in listed] == [(opportunity.id, False, True)]
    with pytest.raises(Conflict, match="withdrawn"):
        opportunities.withdraw(session=session, member=poster, opportunity_id=opportunity.id)
    with pytest.raises(Conflict, match="withdrawn"):
        opportunities.update(
            session=session, member=poster, opportunity_id=opportunity.id, draft=_draft()
        )
    with pytest.raises(Conflict, match="withdrawn"):
        opportunities.save(session=session, member=keen, opportunity_id=opportunity.id)
    opportunities.save(session=session, member=member, opportunity_id=opportunity.id, saved=False)
    assert opportunities.saved(session=session, member=member) == []


def test_closing_reminders_skip_a_withdrawn_one(session):
    poster, member = make_member(session), make_member(session)
    soon = make_opportunity(session, posted_by=poster, closes_on=TODAY + timedelta(days=2))
    make_opportunity_save(session, opportunity=soon, member=member)
    opportunities.withdraw(session=session, member=poster, opportunity_id=soon.id)

    assert opportunities.send_closing_reminders(session=session) == 0
    assert (
        session.exec(
            select(OutboxEmail)
            .where(OutboxEmail.kind == "opportunity")
            .where(col(OutboxEmail.subject).startswith("Closing"))
        ).all()
        == []
    )


def test_the_open_ones_developing_a_skill_that_the_member_sees_closing_soonest_first(session):
    member = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust")
    poster = make_member(session)
    far = make_opportunity(session, skills=("budget-management",), closes_on=TODAY + timedelta(40))
    near = [
        make_opportunity(session, skills=("budget-management",), closes_on=TODAY + timedelta(n))
        for n in (3, 1, 2)
    ]
    make_opportunity(session, skills=("quality-improvement",), closes_on=TODAY)
    make_opportunity(session, skills=("budget-management",), closes_on=TODAY - timedelta(1))
    withdrawn = make_opportunity(session, posted_by=poster, skills=("budget-management",))
    opportunities.withdraw(session=session, member=poster, opportunity_id=withdrawn.id)
    elsewhere = make_member(session, organisation="Barts Health NHS Trust")
    make_opportunity(
        session,
        skills=("budget-management",),
        organisation_id=elsewhere.organisation_id,
        closes_on=TODAY,
    )

    found = opportunities.developing(session=session, member=member, skill_id="budget-management")

    assert [v.id for v in found] == [near[1].id, near[2].id, near[0].id]
    more = opportunities.developing(
        session=session, member=member, skill_id="budget-management", first=5
    )
    assert [v.id for v in more] == [near[1].id, near[2].id, near[0].id, far.id]
    assert opportunities.developing(session=session, member=member, skill_id="x" * 61) == []
