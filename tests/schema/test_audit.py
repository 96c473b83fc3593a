"""The audit log over GraphQL: ``auditEvents`` for admins only, ``node`` by id under the same
rule, ``dataSeenBy`` for each member about themselves."""

from __future__ import annotations

from backend import audit
from backend.audit import actions as a
from tests.factories import make_member, make_organiser, make_proposal, make_round

EVENTS = """
query ($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id action label actorId actorName subjectType subjectId details } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
SEEN = "{ dataSeenBy { who what action at } }"


def _record_rounds(session, organiser, count: int) -> None:  # type: ignore[no-untyped-def]
    for number in range(count):
        audit.record(
            session,
            actor=organiser,
            action=a.ROUND_CREATED,
            subject=audit.subject("round", number + 1),
            details={"cohort_size": number},
        )
    session.commit()


def test_admins_page_through_filtered_events(run, session):
    admin = make_member(session, roles=("admin",))
    organiser = make_organiser(session, name="Olu Organiser")
    _record_rounds(session, organiser, 3)

    first = run(EVENTS, {"first": 2, "filter": {"action": a.ROUND_CREATED}}, member=admin)
    assert "errors" not in first, first
    page = first["data"]["auditEvents"]
    nodes = [edge["node"] for edge in page["edges"]]
    assert [n["subjectId"] for n in nodes] == [3, 2]
    assert nodes[0]["actorName"] == "Olu Organiser"
    assert nodes[0]["label"] == "Created a matching round"
    assert nodes[0]["details"] == {"cohort_size": 2}
    assert page["pageInfo"]["hasNextPage"] is True

    rest = run(
        EVENTS,
        {"after": page["pageInfo"]["endCursor"], "filter": {"action": a.ROUND_CREATED}},
        member=admin,
    )["data"]["auditEvents"]
    assert [e["node"]["subjectId"] for e in rest["edges"]] == [1]
    assert rest["pageInfo"]["hasNextPage"] is False

    by_actor = run(EVENTS, {"filter": {"actorId": nodes[0]["actorId"]}}, member=admin)["data"][
        "auditEvents"
    ]
    assert {e["node"]["action"] for e in by_actor["edges"]} == {a.ROUND_CREATED}

    node = run(
        "query ($id: ID!) { node(id: $id) { ... on AuditEvent { action subjectId } } }",
        {"id": nodes[0]["id"]},
        member=admin,
    )
    assert node["data"]["node"] == {"action": a.ROUND_CREATED, "subjectId": 3}


def test_organisers_members_and_strangers_cannot_read_the_log(run, session):
    organiser = make_organiser(session)
    member = make_member(session)
    admin = make_member(session, roles=("admin",))
    _record_rounds(session, organiser, 1)
    event_id = run(EVENTS, member=admin)["data"]["auditEvents"]["edges"][0]["node"]["id"]

    for who in (organiser, member, None):
        result = run(EVENTS, member=who)
        assert result["data"] is None or result["data"]["auditEvents"] is None
        assert result["errors"], who
        by_id = run("query ($id: ID!) { node(id: $id) { id } }", {"id": event_id}, member=who)
        assert not (by_id.get("data") or {}).get("node"), who


def test_bad_filters_and_cursors_name_their_field(run, session):
    admin = make_member(session, roles=("admin",))
    session.commit()

    bad_action = run(EVENTS, {"filter": {"action": "round.deleted"}}, member=admin)
    bad_cursor = run(EVENTS, {"after": "not-a-cursor"}, member=admin)
    bad_actor = run(EVENTS, {"filter": {"actorId": "42"}}, member=admin)

    assert "Choose an action from the list." in str(bad_action["errors"])
    assert "That cursor is not one this API gave out." in str(bad_cursor["errors"])
    assert "That is not a valid Member id." in str(bad_actor["errors"])


def test_members_see_who_viewed_or_exported_their_data_and_only_theirs(run, session):
    organiser = make_organiser(session, name="Olu Organiser")
    mentee = make_member(session, band="4")
    bystander = make_member(session)
    matching_round = make_round(session, organiser=organiser)
    make_proposal(session, matching_round=matching_round, mentee=mentee)
    session.commit()
    audit.record(
        session,
        actor=organiser,
        action=a.ROUND_EXPORTED,
        subject=audit.subject("round", matching_round.id),
    )
    audit.record(
        session,
        actor=organiser,
        action=a.MEMBER_VIEWED,
        subject=audit.subject("member", mentee.id),
    )
    audit.record(  # not something a member is shown
        session,
        actor=organiser,
        action=a.CIRCLE_MEMBER_MOVED,
        subject=audit.subject("member", mentee.id),
    )
    session.commit()

    mine = run(SEEN, member=mentee)["data"]["dataSeenBy"]
    theirs = run(SEEN, member=bystander)["data"]["dataSeenBy"]
    anonymous = run(SEEN)

    assert [(s["who"], s["action"]) for s in mine] == [
        ("Olu Organiser", a.MEMBER_VIEWED),
        ("Olu Organiser", a.ROUND_EXPORTED),
    ]
    assert mine[0]["what"] == "viewed your profile"
    assert theirs == []
    assert anonymous["errors"]


def test_asking_for_an_insights_table_as_csv_is_a_recorded_download(run, session):
    from sqlmodel import select

    from backend.audit.models import AuditEvent

    organiser = make_organiser(session)
    session.commit()

    shown = run("{ insights { trend { key rows } } }", member=organiser)
    assert "errors" not in shown, shown
    exported = select(AuditEvent).where(AuditEvent.action == a.INSIGHTS_EXPORTED)
    assert session.exec(exported).all() == []
    csv = run("{ insights { trend { csv } skills { csv } } }", member=organiser)

    assert csv["data"]["insights"]["trend"]["csv"].startswith("Month,")
    events = session.exec(exported).all()
    assert sorted(e.details for e in events) == ['{"table":"skills"}', '{"table":"trend"}']
    assert {e.actor_id for e in events} == {organiser.id}
