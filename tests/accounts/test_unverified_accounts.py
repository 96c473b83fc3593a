"""An account whose email address is not confirmed can edit its own profile and nothing else
(issue 11: unverified accounts read the whole directory with emails, created access tokens,
followed and reported). One rule, ``member_service.require_verified``, in the services; both
surfaces say "Confirm your email address first" and offer the link again.
"""

from __future__ import annotations

import pytest
from sqlmodel import select
from strawberry.relay import to_base64 as encode

from backend.accounts import service as accounts
from backend.accounts.models import AccessToken
from backend.community import service as community
from backend.community.models import Follow, Report
from backend.errors import NotVerified
from backend.members import directory
from backend.members import service as member_service
from backend.members.directory import DirectoryFilter
from backend.mentoring import service as mentoring
from backend.notifications.models import OutboxEmail
from backend.privacy import service as privacy
from tests.factories import make_member, make_mentor
from tests.schema.conftest import run as run_graphql  # noqa: F401 - fixture
from tests.web.conftest import client, csrf_token, log_in  # noqa: F401 - fixtures
from tests.web.conftest import session as page_session  # noqa: F401 - fixture

FIRST = "Confirm your email address first"


@pytest.fixture
def people(session):
    newcomer = make_member(session, name="Nell Newcomer", verified=False)
    other = make_member(session, name="Olga Other", email="olga@example.nhs.uk")
    post = community.create_post(
        session=session, author=other, title="Rota tips", body="Plan early.", skills=()
    )
    session.commit()
    return newcomer, other, post


# The services --------------------------------------------------------------------------------


def test_the_services_refuse_everything_but_their_own_profile(session, people):
    newcomer, other, post = people
    mentor = make_mentor(session)
    refused = {
        "directory": lambda: directory.search(
            session=session, viewer=newcomer, filter=DirectoryFilter()
        ),
        "another's profile": lambda: member_service.profile_view(
            session=session, member_id=other.id, viewer=newcomer
        ),
        "access token": lambda: accounts.create_access_token(
            session=session, member=newcomer, name="script"
        ),
        "follow": lambda: community.follow(session=session, follower=newcomer, member_id=other.id),
        "report": lambda: community.report(
            session=session, reporter=newcomer, reason="Spam, clearly.", post_id=post.id
        ),
        "feed": lambda: community.feed(session=session, viewer=newcomer),
        "post": lambda: community.create_post(
            session=session, author=newcomer, title="Hello", body="Hi all", skills=()
        ),
        "comment": lambda: community.add_comment(
            session=session, author=newcomer, post_id=post.id, body="Nice"
        ),
        "request": lambda: mentoring.request_mentor(
            session=session, mentee=newcomer, mentor_id=mentor.id, message="Help?", skills=()
        ),
        "requests": lambda: mentoring.list_requests(
            session=session, member=newcomer, direction="sent"
        ),
    }
    for what, call in refused.items():
        with pytest.raises(NotVerified, match=FIRST):
            call()
            pytest.fail(f"{what} was allowed")
        session.rollback()
    assert session.exec(select(AccessToken)).all() == []
    assert session.exec(select(Follow)).all() == []
    assert session.exec(select(Report)).all() == []


def test_their_own_profile_account_and_data_rights_still_work(session, people):
    newcomer, *_ = people
    view = member_service.profile_view(session=session, member_id=newcomer.id, viewer=newcomer)
    assert view.is_own and view.email == newcomer.email
    member_service.update_profile(
        session=session, member=newcomer, update=member_service.ProfileUpdate(job_title="Clerk")
    )
    member_service.set_mentoring_offer(
        session=session, member=newcomer, offer=member_service.OfferUpdate(capacity=0)
    )
    privacy.record_demographics(
        session=session,
        member=newcomer,
        answers=privacy.DemographicAnswers(gender="woman"),
        consent=True,
    )
    assert privacy.export_my_data(session=session, member=newcomer)
    accounts.resend_verification(session=session, member=newcomer)
    session.commit()
    assert newcomer.job_title == "Clerk"
    assert session.exec(select(OutboxEmail).where(OutboxEmail.to_address == newcomer.email)).all()


def test_a_confirmed_member_is_let_through(session, people):
    newcomer, other, _post = people
    newcomer.email_verified_at = other.email_verified_at
    session.add(newcomer)
    session.commit()
    rows, _ = directory.search(session=session, viewer=newcomer, filter=DirectoryFilter())
    assert {m.name for m in rows} >= {"Olga Other"}
    community.follow(session=session, follower=newcomer, member_id=other.id)
    accounts.create_access_token(session=session, member=newcomer, name="script")


# GraphQL -------------------------------------------------------------------------------------

DIRECTORY = "{ members(first: 100) { edges { node { name email } } } }"
MEMBER = "query ($id: ID!) { member(id: $id) { name email } }"
ME = "{ me { name emailVerified } }"
TOKEN = """mutation { createAccessToken(input: {name: "script"}) {
  __typename ... on Error { message } } }"""
FOLLOW = """mutation ($id: ID!) { followMember(input: {memberId: $id}) {
  __typename ... on Error { message } } }"""
REPORT = """mutation ($id: ID!) { reportContent(input: {postId: $id, reason: "Spam, clearly."}) {
  __typename ... on Error { message } } }"""
POST = """mutation { createPost(input: {title: "Hello", body: "Hi all"}) {
  __typename ... on Error { message } } }"""
PROFILE = """mutation { updateProfile(input: {jobTitle: "Clerk"}) {
  __typename ... on Error { message } } }"""
RESEND = "mutation { resendVerification { __typename ... on Error { message } } }"


def test_graphql_refuses_with_a_clear_message(session, people, run_graphql):  # noqa: F811
    newcomer, other, post = people

    for query, variables in ((DIRECTORY, None), (MEMBER, {"id": encode("Member", other.id)})):
        out = run_graphql(query, variables, member=newcomer)
        [error] = out["errors"]
        assert error["extensions"]["code"] == "NOT_VERIFIED"
        assert error["message"].startswith(FIRST)
        assert "olga@example.nhs.uk" not in str(out)
    for mutation, variables in (
        (TOKEN, None),
        (FOLLOW, {"id": encode("Member", other.id)}),
        (REPORT, {"id": encode("Post", post.id)}),
        (POST, None),
    ):
        [result] = run_graphql(mutation, variables, member=newcomer)["data"].values()
        assert result["__typename"] == "NotAllowed", mutation
        assert result["message"].startswith(FIRST)
    assert session.exec(select(AccessToken)).all() == []


def test_graphql_still_lets_them_edit_their_profile_and_resend(session, people, run_graphql):  # noqa: F811
    newcomer, *_ = people
    assert run_graphql(ME, member=newcomer)["data"]["me"] == {
        "name": "Nell Newcomer",
        "emailVerified": False,
    }
    own = run_graphql(MEMBER, {"id": encode("Member", newcomer.id)}, member=newcomer)
    assert own["data"]["member"]["email"] == newcomer.email
    assert run_graphql(PROFILE, member=newcomer)["data"]["updateProfile"]["__typename"] == (
        "UpdateProfileSuccess"
    )
    resent = run_graphql(RESEND, member=newcomer)["data"]["resendVerification"]
    assert resent["__typename"] != "NotAllowed", resent


# Pages ---------------------------------------------------------------------------------------


def _refused(page) -> None:  # type: ignore[no-untyped-def]
    assert page.status_code == 403, page.status_code
    assert f"<h1>{FIRST}</h1>" in page.text
    assert 'action="/verify/resend"' in page.text  # the link can be sent again from here


def test_pages_say_confirm_first_with_a_resend_link(client, page_session):  # noqa: F811
    newcomer = make_member(page_session, verified=False)
    other = make_member(page_session, name="Olga Other", email="olga@example.nhs.uk")
    page_session.commit()
    log_in(client, newcomer.email)

    for path in ("/members", "/mentors", f"/members/{other.id}", "/community", "/mentoring"):
        page = client.get(path)
        _refused(page)
        assert "olga@example.nhs.uk" not in page.text
    token = csrf_token(client, "/profile")
    _refused(client.post(f"/community/follow/{other.id}", data={"csrf_token": token}))
    made = client.post("/account/tokens", data={"csrf_token": token, "token_name": "script"})
    assert made.status_code == 403 and FIRST in made.text
    assert page_session.exec(select(AccessToken)).all() == []
    assert page_session.exec(select(Follow)).all() == []


def test_pages_still_let_them_edit_their_profile_and_resend(client, page_session):  # noqa: F811
    newcomer = make_member(page_session, verified=False)
    page_session.commit()
    log_in(client, newcomer.email)

    assert client.get("/profile").status_code == 200
    assert client.get(f"/members/{newcomer.id}").status_code == 200
    assert client.get("/profile/edit").status_code == 200
    assert client.get("/account").status_code == 200
    token = csrf_token(client, "/profile/edit")
    form = client.get("/profile/edit")
    assert form.status_code == 200
    resent = client.post("/verify/resend", data={"csrf_token": token})
    assert resent.status_code == 303
    assert resent.headers["location"] == "/profile?notice=verification-sent"
