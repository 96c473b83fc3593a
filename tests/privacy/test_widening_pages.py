"""Widening access on the member's own pages and in GraphQL; nowhere else names the reason."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.privacy import widening
from backend.privacy.models import WideningAccessClaim
from backend.settings import get_settings
from tests.factories import make_member, make_organiser, make_widening_claim
from tests.schema.conftest import schema_for
from tests.web.conftest import error_summary, log_in, post_form

LABEL = widening.category_label("under-represented-ethnic-group")
MINE = """
{ myWideningAccess { claimed category categoryLabel wordingVersion currentWordingVersion } }
"""
SET = """
mutation($input: SetWideningAccessInput!) {
  setWideningAccess(input: $input) {
    __typename
    ... on SetWideningAccessSuccess { wideningAccess { claimed category } }
    ... on InvalidInput { field message errors { field message } }
  }
}
"""
WITHDRAW = """
mutation { withdrawWideningAccess { __typename
  ... on WithdrawWideningAccessSuccess { withdrawn wideningAccess { claimed category } } } }
"""


def test_the_page_says_what_it_is_for_and_who_sees_the_reason(client, session):
    member = make_member(session)
    log_in(client, member.email)

    page = client.get("/my-data/widening-access")

    assert page.status_code == 200
    for words in ("What it is used for", "Who sees your reason", "How to change or withdraw"):
        assert words in page.text
    assert "yes or no" in page.text and "Nobody but you" in page.text
    assert "Wording version" in page.text
    assert 'href="/my-data/widening-access"' in client.get("/my-data").text


def test_asking_needs_consent_then_the_reason_is_saved_changed_and_withdrawn(client, session):
    member = make_member(session)
    log_in(client, member.email)

    refused = post_form(
        client, "/my-data/widening-access", {"category": "under-represented-ethnic-group"}
    )
    assert refused.status_code == 400 and error_summary(refused.text)
    assert session.exec(select(WideningAccessClaim)).all() == []
    unknown = post_form(client, "/my-data/widening-access", {"category": "x", "consent": "yes"})
    assert unknown.status_code == 400 and "Choose one of the reasons given." in unknown.text

    saved = post_form(
        client,
        "/my-data/widening-access",
        {"category": "under-represented-ethnic-group", "consent": "yes"},
    )
    assert saved.status_code == 303
    assert session.exec(select(WideningAccessClaim.category)).one() == (
        "under-represented-ethnic-group"
    )
    session.rollback()
    assert LABEL in client.get("/my-data/widening-access").text

    changed = post_form(
        client, "/my-data/widening-access", {"category": "disabled", "consent": "yes"}
    )
    assert changed.status_code == 303
    assert session.exec(select(WideningAccessClaim.category)).one() == "disabled"
    session.rollback()

    withdrawn = post_form(
        client, "/my-data/widening-access/withdraw", {}, page="/my-data/widening-access"
    )
    assert withdrawn.status_code == 303
    assert session.exec(select(WideningAccessClaim)).all() == []


def test_a_post_without_the_csrf_token_changes_nothing(client, session):
    member = make_member(session)
    log_in(client, member.email)

    response = client.post(
        "/my-data/widening-access", data={"category": "disabled", "consent": "yes"}
    )

    assert response.status_code == 403
    assert session.exec(select(WideningAccessClaim)).all() == []


def test_the_reason_is_on_no_page_others_see(client, session):
    claimant = make_member(session, name="Rae Claimant", band="7", capacity=1)
    make_widening_claim(session, member=claimant, category="under-represented-ethnic-group")
    viewer = make_organiser(session, band="8c")
    log_in(client, viewer.email)

    for path in (f"/members/{claimant.id}", "/mentors", "/members?q=Rae"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert LABEL not in page.text and "under-represented-ethnic-group" not in page.text


def test_graphql_asks_changes_and_withdraws_only_the_callers_own(run, session):
    member = make_member(session)
    other = make_member(session)

    given = run(SET, {"input": {"category": "BANDS_2_TO_4", "consent": True}}, member=member)[
        "data"
    ]["setWideningAccess"]
    assert given == {
        "__typename": "SetWideningAccessSuccess",
        "wideningAccess": {"claimed": True, "category": "BANDS_2_TO_4"},
    }
    mine = run(MINE, member=member)["data"]["myWideningAccess"]
    assert mine["categoryLabel"] == widening.category_label("bands-2-to-4")
    assert mine["wordingVersion"] == mine["currentWordingVersion"]
    # Another member sees only their own (nothing), never the claimant's.
    assert run(MINE, member=other)["data"]["myWideningAccess"]["claimed"] is False
    assert "errors" in run(MINE)  # anonymous: not authenticated

    withdrawn = run(WITHDRAW, member=member)["data"]["withdrawWideningAccess"]
    assert withdrawn["withdrawn"] is True
    assert withdrawn["wideningAccess"] == {"claimed": False, "category": None}
    assert session.exec(select(WideningAccessClaim)).all() == []


def test_graphql_without_consent_keeps_nothing(run, session):
    member = make_member(session)

    result = run(SET, {"input": {"category": "DISABLED", "consent": False}}, member=member)

    payload = result["data"]["setWideningAccess"]
    assert payload["__typename"] == "InvalidInput"
    assert "consent" in {e["field"] for e in payload["errors"]}
    assert session.exec(select(WideningAccessClaim)).all() == []


def test_no_type_but_the_members_own_carries_a_category():
    sdl = str(schema_for(get_settings()))
    holders = set()
    for block in re.finditer(r"(?:type|input) (\w+)[^{]*\{([^}]*)\}", sdl):
        if re.search(r":\s*\[?WideningCategory\b", block.group(2)):
            holders.add(block.group(1))
    assert holders == {"MyWideningAccess", "SetWideningAccessInput"}
