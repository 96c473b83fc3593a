"""The opportunity pages: browse with filters, post with an error summary, one opportunity
with save and "I'm interested", the saved list, and "Recommended for you" on the home page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from backend import london
from backend.opportunities.models import Opportunity, OpportunitySave
from tests.factories import make_member, make_opportunity, make_opportunity_save
from tests.web.conftest import client, error_summary, log_in, post_form, session  # noqa: F401

TODAY = london.london_today()


def _form(closes, **fields):
    """The posting form's answers, closing on ``closes``, with ``fields`` changed."""
    values = {
        "kind": "shadowing",
        "title": "Shadow our operations manager",
        "provider": "Leeds Teaching Hospitals NHS Trust",
        "format": "in-person",
        "cost": "",
        "closes_on-day": str(closes.day),
        "closes_on-month": str(closes.month),
        "closes_on-year": str(closes.year),
        "skills": ["operational-planning"],
        "bands": ["3", "4"],
        "audience": "organisation",
    }
    values.update(fields)
    return values


def _member(session, **fields):  # noqa: F811
    return make_member(session, email="amara@example.nhs.uk", band="4", **fields)


def test_browse_lists_open_ones_with_nhs_dates_and_filters_by_kind(client, session):  # noqa: F811
    _member(session)
    closes = TODAY + timedelta(days=10)
    make_opportunity(
        session, title="Mary Seacole Programme", kind="accredited-programme", closes_on=closes
    )
    make_opportunity(session, title="Shadow a general manager", kind="shadowing")
    make_opportunity(session, title="Long gone", closes_on=TODAY - timedelta(days=1))
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    page = client.get("/opportunities").text
    only = client.get("/opportunities?kind=shadowing").text

    assert "Mary Seacole Programme" in page and "Shadow a general manager" in page
    assert "Long gone" not in page
    assert f"Closes {london.format_date(closes)}." in page
    assert re.search(r"Closes \d{1,2} [A-Z][a-z]+ 20\d\d\.", page)
    assert "Mary Seacole Programme" not in only and "Shadow a general manager" in only
    bad = client.get("/opportunities?kind=webinar")
    assert bad.status_code == 400
    assert error_summary(bad.text) == ["Choose a kind of opportunity from the list."]


def test_posting_names_every_problem_in_the_error_summary_and_keeps_the_answers(client, session):  # noqa: F811
    _member(session)
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    response = post_form(
        client,
        "/opportunities/new",
        {"title": "Shadow our operations manager", "cost": "lots", "closes_on-day": "31"},
    )

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Choose what kind of opportunity this is.",
        "Enter the provider of the opportunity.",
        "Choose online, in person or blended.",
        "Choose at least one skill it develops.",
        "The closing date must be a real date, for example 31 3 2027 (or leave it empty).",
        "Enter the cost in pounds, like £250 or 1,250.50, or leave it empty if it is free.",
    ]
    assert 'href="#closes_on-day"' in response.text and 'href="#skills"' in response.text
    assert 'value="Shadow our operations manager"' in response.text
    assert session.exec(select(Opportunity)).all() == []


def test_a_member_posts_for_their_organisation_then_saves_and_is_interested(client, session):  # noqa: F811
    _member(session)
    session.rollback()
    log_in(client, "amara@example.nhs.uk")
    closes = TODAY + timedelta(days=40)

    posted = post_form(
        client,
        "/opportunities/new",
        _form(closes, skills=["operational-planning", "people-management"]),
    )
    assert posted.status_code == 303, posted.text
    location = posted.headers["location"]
    opportunity_id = int(re.search(r"/opportunities/(\d+)", location).group(1))  # type: ignore[union-attr]
    page = client.get(location).text
    assert "Your opportunity has been posted." in page
    assert "Bands 3 and 4" in page and london.format_date(closes) in page
    assert "0 members have said they are interested" in page  # the poster sees the count

    saved = post_form(
        client, f"/opportunities/{opportunity_id}/save", {"saved": "yes"}, page=location
    )
    interested = post_form(
        client, f"/opportunities/{opportunity_id}/interested", {"interested": "yes"}, page=location
    )

    assert saved.status_code == interested.status_code == 303
    mark = session.get(OpportunitySave, (opportunity_id, _id(session)))
    assert mark is not None and mark.saved and mark.interested
    session.rollback()
    listing = client.get("/opportunities/saved").text
    assert "Shadow our operations manager" in listing
    assert "1 member has said they are interested" in client.get(location).text


def _id(session) -> int:  # noqa: F811
    from backend.members.models import Member

    return session.exec(select(Member.id).where(Member.email == "amara@example.nhs.uk")).one()


def test_the_home_page_recommends_three_with_reasons(client, session):  # noqa: F811
    _member(session, region="North West", skills_sought=("quality-improvement",))
    for n in range(4):
        make_opportunity(
            session,
            title=f"Improvement course {n}",
            skills=("quality-improvement",),
            bands=("4",) if n < 3 else (),
        )
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    home = client.get("/").text

    section = home.split('id="recommended-opportunities"')[1]
    assert section.count('class="nhsuk-card__link"') == 3
    assert "Why: Develops a skill you want: quality improvement; open to band 4" in section
    assert 'href="/opportunities">Opportunities</a>' in home


def test_saving_a_closed_one_says_why(client, session):  # noqa: F811
    _member(session)
    gone = make_opportunity(session, closes_on=TODAY - timedelta(days=2))
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    response = post_form(
        client, f"/opportunities/{gone.id}/save", {"saved": "yes"}, page="/opportunities"
    )

    assert response.status_code == 409
    assert error_summary(response.text) == ["This opportunity has closed."]


def test_its_poster_changes_it_through_the_filled_in_form(client, session):  # noqa: F811
    poster = _member(session)
    closes = TODAY + timedelta(days=40)
    mine = make_opportunity(
        session,
        posted_by=poster,
        title="Shadow our operations manager",
        kind="shadowing",
        bands=("3", "4"),
        closes_on=closes,
        cost_pence=25000,
    )
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    page = client.get(f"/opportunities/{mine.id}").text
    form = client.get(f"/opportunities/{mine.id}/edit").text
    wrong = post_form(
        client,
        f"/opportunities/{mine.id}/edit",
        _form(closes, title="", skills=[], cost="lots"),
        page=f"/opportunities/{mine.id}/edit",
    )
    changed = post_form(
        client,
        f"/opportunities/{mine.id}/edit",
        _form(closes, title="Shadow our director of operations"),
        page=f"/opportunities/{mine.id}/edit",
    )

    assert f'href="/opportunities/{mine.id}/edit">Change this opportunity</a>' in page
    assert "<h1>Change this opportunity</h1>" in form
    assert 'value="Shadow our operations manager"' in form and 'value="£250"' in form
    assert f'action="/opportunities/{mine.id}/edit"' in form
    assert re.search(r'value="4"\s+checked', form) or 'value="4" checked' in form
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == [
        "Enter the title of the opportunity.",
        "Choose at least one skill it develops.",
        "Enter the cost in pounds, like £250 or 1,250.50, or leave it empty if it is free.",
    ]
    assert "<title>Error: Change this opportunity – peerbridge</title>" in wrong.text
    assert changed.status_code == 303
    assert changed.headers["location"] == f"/opportunities/{mine.id}?notice=opportunity-changed"
    after = client.get(changed.headers["location"]).text
    assert "The opportunity has been changed." in after
    assert "<h1>Shadow our director of operations</h1>" in after


def test_someone_else_sees_no_change_link_and_may_not_change_or_withdraw(client, session):  # noqa: F811
    _member(session)
    theirs = make_opportunity(session, posted_by=make_member(session), title="Theirs")
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    page = client.get(f"/opportunities/{theirs.id}").text
    edit = client.get(f"/opportunities/{theirs.id}/edit")
    withdraw = post_form(
        client, f"/opportunities/{theirs.id}/withdraw", {}, page=f"/opportunities/{theirs.id}"
    )

    assert "Change this opportunity" not in page and "Withdraw this opportunity" not in page
    assert edit.status_code == withdraw.status_code == 403
    assert "Only its poster and the organisers covering it can change it." in edit.text
    session.expire_all()
    assert session.get(Opportunity, theirs.id).withdrawn_at is None  # type: ignore[union-attr]


def test_withdrawing_asks_first_then_leaves_it_on_saved_lists_as_withdrawn(client, session):  # noqa: F811
    poster = _member(session)
    mine = make_opportunity(session, posted_by=poster, title="Mary Seacole Programme")
    make_opportunity_save(session, opportunity=mine, member=poster)
    session.rollback()
    log_in(client, "amara@example.nhs.uk")

    confirm = client.get(f"/opportunities/{mine.id}/withdraw")
    done = post_form(
        client, f"/opportunities/{mine.id}/withdraw", {}, page=f"/opportunities/{mine.id}/withdraw"
    )

    assert confirm.status_code == 200
    assert "<h1>Are you sure you want to withdraw this opportunity?</h1>" in confirm.text
    assert f'action="/opportunities/{mine.id}/withdraw"' in confirm.text
    assert done.status_code == 303
    assert done.headers["location"] == "/opportunities?notice=opportunity-withdrawn"
    listing = client.get(done.headers["location"]).text
    assert "The opportunity has been withdrawn." in listing
    assert "Mary Seacole Programme" not in listing
    saved = client.get("/opportunities/saved").text
    assert "Mary Seacole Programme" in saved and "<strong>Withdrawn</strong>" in saved
    assert f'href="/opportunities/{mine.id}"' in saved
    page = client.get(f"/opportunities/{mine.id}")
    assert page.status_code == 200
    assert "has been withdrawn by its provider and is no longer open" in page.text
    assert "It stays in your saved opportunities until you remove it." in page.text
    assert "Save this opportunity" not in page.text and "Remove from saved" in page.text
    removed = post_form(
        client,
        f"/opportunities/{mine.id}/save",
        {"saved": "no", "back": "saved"},
        page="/opportunities/saved",
    )
    assert removed.status_code == 303
    assert "Mary Seacole Programme" not in client.get("/opportunities/saved").text
    resaved = post_form(
        client, f"/opportunities/{mine.id}/save", {"saved": "yes"}, page=f"/opportunities/{mine.id}"
    )
    assert resaved.status_code == 409
    assert "This opportunity has been withdrawn." in resaved.text
    again = post_form(client, f"/opportunities/{mine.id}/withdraw", {}, page="/opportunities/saved")
    assert again.status_code == 409
