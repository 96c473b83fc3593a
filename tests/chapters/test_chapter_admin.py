"""Admins manage chapters and grant organiser scopes (service, pages and GraphQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select
from strawberry import relay

from backend.audit.models import AuditEvent
from backend.chapters import service as chapters
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.members.models import Member
from tests.factories import (
    PASSWORD,
    make_chapter,
    make_member,
    make_organisation,
    make_organiser,
    make_organiser_scope,
    make_programme,
)
from tests.web.conftest import error_summary, log_in, post_form


def _gid(kind: str, value: int) -> str:
    return str(relay.GlobalID(kind, str(value)))


def _actions(session) -> list[str]:
    return list(session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all())


@pytest.fixture
def admin(session):
    return make_member(session, name="Ada Admin", roles=("admin",))


def test_an_admin_creates_changes_and_deletes_a_chapter(session, admin):
    trust = make_organisation(session, name="Whittington Health", region="London")
    make_member(session, region="London", password=None)
    make_member(session, region="North West", organisation=trust.name, password=None)

    chapter = chapters.create_chapter(
        session=session,
        admin=admin,
        settings=chapters.ChapterSettings(name="  North  Central London ", regions=["London"]),
    )
    summary = chapters.get_chapter(session=session, admin=admin, chapter_id=chapter.id)
    assert chapter.name == "North Central London" and summary.members == 1

    chapters.update_chapter(
        session=session,
        admin=admin,
        chapter_id=chapter.id,
        settings=chapters.ChapterSettings(
            name="NCL ICS",
            kind="integrated-care-system",
            regions=[],
            organisation_ids=[trust.id],
        ),
    )
    summary = chapters.get_chapter(session=session, admin=admin, chapter_id=chapter.id)
    assert summary.chapter.kind == "integrated-care-system"
    assert summary.regions == [] and [o.name for o in summary.organisations] == [trust.name]
    assert summary.members == 1  # the Whittington member, now; not the Londoner

    chapters.delete_chapter(session=session, admin=admin, chapter_id=chapter.id)
    with pytest.raises(NotFound):
        chapters.get_chapter(session=session, admin=admin, chapter_id=chapter.id)
    assert _actions(session)[-3:] == ["chapter.created", "chapter.updated", "chapter.deleted"]


def test_bad_chapter_settings_are_named(session, admin):
    make_chapter(session, name="London")
    with pytest.raises(FieldErrors) as caught:
        chapters.create_chapter(
            session=session,
            admin=admin,
            settings=chapters.ChapterSettings(
                name="", kind="county", regions=["Narnia"], organisation_ids=[999_999]
            ),
        )
    assert set(caught.value.errors) == {"name", "kind", "regions", "organisation_ids"}
    with pytest.raises(FieldErrors) as caught:
        chapters.create_chapter(
            session=session, admin=admin, settings=chapters.ChapterSettings(name="Nowhere")
        )
    assert "at least one region or organisation" in caught.value.errors["regions"]
    with pytest.raises(Conflict):
        chapters.create_chapter(
            session=session,
            admin=admin,
            settings=chapters.ChapterSettings(name=" london ", regions=["London"]),
        )


def test_a_chapter_a_programme_uses_cannot_be_deleted(session, admin):
    chapter = make_chapter(session, name="Midlands", regions=("Midlands",))
    make_programme(session, name="Midlands aspiring leaders", chapter_id=chapter.id)

    with pytest.raises(Conflict) as caught:
        chapters.delete_chapter(session=session, admin=admin, chapter_id=chapter.id)
    assert "runs 1 programme" in caught.value.message


def test_only_admins_manage_chapters(session):
    chapter = make_chapter(session)
    scoped = make_organiser_scope(session, chapter=chapter)
    for member in (make_organiser(session), session.get(Member, scoped.member_id)):
        with pytest.raises(Forbidden):
            chapters.list_chapters(session=session, admin=member)
        with pytest.raises(Forbidden):
            chapters.delete_chapter(session=session, admin=member, chapter_id=chapter.id)


def test_granting_a_scope_needs_the_step_up_and_is_audited(session, admin):
    chapter = make_chapter(session, name="London", regions=("London",))
    member = make_member(session)

    with pytest.raises(FieldErrors) as caught:
        chapters.change_scope(
            session=session,
            admin=admin,
            current=None,
            member_id=member.id,
            chapter_id=chapter.id,
            granted=True,
            password="wrong",
        )
    assert "password" in caught.value.errors
    assert chapters.scope_of(session=session, member=member).chapter_ids == frozenset()

    held = chapters.change_scope(
        session=session,
        admin=admin,
        current=None,
        member_id=member.id,
        chapter_id=chapter.id,
        granted=True,
        password=PASSWORD,
    )
    assert [c.name for c in held] == ["London"]
    assert chapters.scope_of(session=session, member=member).chapter_ids == {chapter.id}
    event = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
    assert event is not None and event.action == "organiser_scope.granted"
    assert event.actor_id == admin.id and event.subject_id == member.id


# Pages ----------------------------------------------------------------------------------------


def test_pages_create_a_chapter_and_grant_its_organiser(client, session, admin):
    trust = make_organisation(session, name="Barts Health", region="London")
    member = make_member(session, name="Lee Organiser")
    session.commit()
    log_in(client, admin.email)

    wrong = post_form(client, "/admin/chapters/new", {"name": "", "kind": "region"})
    assert wrong.status_code == 400
    assert "Enter a name for the chapter." in error_summary(wrong.text)

    made = post_form(
        client,
        "/admin/chapters/new",
        {
            "name": "North East London",
            "kind": "integrated-care-system",
            "organisations": [str(trust.id)],
        },
    )
    assert made.status_code == 303, made.text
    chapter_path = made.headers["location"].split("?")[0]
    chapter_id = int(chapter_path.rsplit("/", 1)[1])
    listing = client.get("/admin/chapters")
    assert "North East London" in listing.text and "Barts Health" in listing.text

    page = client.get(f"/admin/members/{member.id}")
    assert "Organiser of chapters" in page.text and "North East London" in page.text
    granted = post_form(
        client,
        f"/admin/members/{member.id}/scope",
        {"scope_change": "grant", "chapter": str(chapter_id), "scope_password": PASSWORD},
        page=f"/admin/members/{member.id}",
    )
    assert granted.status_code == 303, granted.text
    session.expire_all()
    assert chapters.scope_of(session=session, member=member).chapter_ids == {chapter_id}
    assert "Lee Organiser" in client.get(chapter_path).text

    bad = post_form(
        client,
        f"/admin/members/{member.id}/scope",
        {"scope_change": "revoke", "chapter": str(chapter_id), "scope_password": "nope"},
        page=f"/admin/members/{member.id}",
    )
    assert bad.status_code == 400 and "Your password is not right." in error_summary(bad.text)

    make_programme(session, name="NEL leaders", chapter_id=chapter_id)
    session.commit()
    refused = post_form(client, f"{chapter_path}/delete", {}, page=chapter_path)
    assert refused.status_code == 409 and "runs 1 programme" in refused.text


def test_pages_refuse_organisers(client, session):
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser.email)

    assert client.get("/admin/chapters").status_code == 403
    assert client.get("/admin/chapters/new").status_code == 403


# GraphQL --------------------------------------------------------------------------------------

CREATE = """mutation($input: ChapterInput!) { createChapter(input: $input) {
  __typename ... on ChapterSuccess { chapter { id name kind regions memberCount } }
  ... on InvalidInput { message field } } }"""
GRANT = """mutation($input: OrganiserScopeInput!) { grantOrganiserScope(input: $input) {
  __typename ... on OrganiserScopeSuccess { organiserScopes { name } } } }"""
SCOPES = "query($id: ID!) { member(id: $id) { organiserScopes { name } } }"


def test_graphql_chapters_and_scopes(run, session, admin):
    member = make_member(session, region="London")
    session.commit()

    made = run(
        CREATE,
        {"input": {"name": "London", "kind": "REGION", "regions": ["LONDON"]}},
        member=admin,
    )["data"]["createChapter"]
    assert made["__typename"] == "ChapterSuccess", made
    chapter = made["chapter"]
    assert chapter["regions"] == ["LONDON"] and chapter["memberCount"] >= 1

    granted = run(
        GRANT,
        {
            "input": {
                "memberId": _gid("Member", member.id),
                "chapterId": chapter["id"],
                "password": PASSWORD,
            }
        },
        member=admin,
    )["data"]["grantOrganiserScope"]
    assert granted == {
        "__typename": "OrganiserScopeSuccess",
        "organiserScopes": [{"name": "London"}],
    }

    seen = run(SCOPES, {"id": _gid("Member", member.id)}, member=admin)
    assert seen["data"]["member"]["organiserScopes"] == [{"name": "London"}]
    listed = run("{ chapters { name organisers { name } } }", member=admin)["data"]["chapters"]
    assert listed == [{"name": "London", "organisers": [{"name": member.name}]}]

    # The organiser themselves (not an admin) sees no scopes field, and cannot list chapters.
    assert (
        run(SCOPES, {"id": _gid("Member", member.id)}, member=member)["data"]["member"][
            "organiserScopes"
        ]
        is None
    )
    assert run("{ chapters { name } }", member=member)["errors"][0]["extensions"]["code"] == (
        "NOT_ALLOWED"
    )

    bad = run(
        CREATE, {"input": {"name": "London", "kind": "REGION", "regions": ["LONDON"]}}, member=admin
    )["data"]["createChapter"]
    assert bad["__typename"] == "Conflict"

    deleted = run(
        "mutation($id: ID!) { deleteChapter(input: {chapterId: $id}) { __typename } }",
        {"id": chapter["id"]},
        member=admin,
    )
    assert deleted["data"]["deleteChapter"]["__typename"] == "DeleteChapterSuccess"
