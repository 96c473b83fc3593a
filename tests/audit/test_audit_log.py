"""The audit log: append-only in the database, one event per audited action with the right
actor, action, subject and counts, none for a failed or rolled-back action; admins alone
read and export it; members see who viewed or exported data about them, and nothing else."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from backend import audit
from backend.accounts import service as accounts
from backend.audit import actions as a
from backend.audit import service as audit_service
from backend.audit.models import AuditEvent
from backend.community import circles, peer_connect
from backend.community import service as community
from backend.db import utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotAuthenticated
from backend.insights import service as insights
from backend.members import importing
from backend.members import service as member_service
from backend.models import metadata
from backend.privacy import service as privacy
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound
from tests.factories import (
    PASSWORD,
    make_community_preference,
    make_member,
    make_organiser,
    make_post,
    make_proposal,
    make_report,
    make_round,
)
from tests.members.test_importing import members_csv, row

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit/605.1.15 Version/17.0 Safari/605"


def logged(session: Session, action: str) -> list[AuditEvent]:
    """The events of ``action``, oldest first."""
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        ).all()
    )


def only(session: Session, action: str) -> AuditEvent:
    """The one event of ``action`` (fails when there are none or several)."""
    [event] = logged(session, action)
    return event


def details(event: AuditEvent) -> dict[str, object]:
    return json.loads(event.details)


def make_admin(session: Session, **fields: object) -> object:
    return make_member(session, roles=("admin",), **fields)  # type: ignore[arg-type]


def run_round(session: Session, engine, organiser) -> MatchingRound:  # type: ignore[no-untyped-def]
    matching_round = rounds.create_round(
        session=session, organiser=organiser, settings=rounds.RoundSettings(name="Spring")
    )
    session.commit()
    assert rounds.run_round_job(matching_round.id, engine=engine) == "ready"
    session.expire_all()
    found = session.get(MatchingRound, matching_round.id)
    assert found is not None
    return found


# Append-only ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'round.created'",
        "UPDATE audit_event SET actor_id = NULL",
        "DELETE FROM audit_event",
        "DELETE FROM audit_event WHERE id = :id",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_event(session, statement):
    event = audit.record(session, actor=None, action=a.ROUND_PUBLISHED)
    session.commit()

    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement), {"id": event.id})
    session.rollback()

    assert [e.action for e in session.exec(select(AuditEvent)).all()] == [a.ROUND_PUBLISHED]


def test_postgresql_refuses_to_truncate_the_log(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    audit.record(session, actor=None, action=a.ROUND_PUBLISHED)
    session.commit()

    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("TRUNCATE audit_event"))
    session.rollback()

    assert len(session.exec(select(AuditEvent)).all()) == 1


def test_the_migration_and_the_module_make_the_same_guard():
    from importlib import import_module

    migration = import_module("backend.migrations.versions.0011_audit_log")
    from backend.audit import schema

    assert migration.POSTGRESQL_CREATE == schema.POSTGRESQL_CREATE
    assert migration.SQLITE_CREATE == schema.SQLITE_CREATE


def test_record_takes_only_listed_actions_and_no_free_text(session):
    with pytest.raises(ValueError, match="not an audit action"):
        audit.record(session, actor=None, action="round.deleted")
    with pytest.raises(ValueError, match="free text"):
        audit.record(session, actor=None, action=a.ROUND_RUN, details={"note": "Ann Smith said"})
    with pytest.raises(ValueError, match="subject type"):
        audit.record(session, actor=None, action=a.ROUND_RUN, subject=audit.subject("email", 1))

    assert session.exec(select(AuditEvent)).all() == []


def test_the_erasure_scrub_passes_the_log_by_and_its_rows_hold_no_free_text():
    table = metadata.tables["audit_event"]

    assert table.info.get("no_free_text") is True
    assert {c.name for c in table.columns} == {
        "id",
        "at",
        "actor_id",
        "action",
        "subject_type",
        "subject_id",
        "details",
        "client",
    }
    assert all(not c.foreign_keys for c in table.columns)  # events outlive what they name


# One event per action, with its counts; none when the action fails or is rolled back ----------


def test_creating_running_publishing_and_exporting_a_round_are_each_one_event(
    session, engine, network
):
    organiser, _, mentees = network

    matching_round = run_round(session, engine, organiser)
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    rounds.export_csv(session=session, organiser=organiser, round_id=matching_round.id)
    session.commit()

    created = only(session, a.ROUND_CREATED)
    assert (created.actor_id, created.subject_type, created.subject_id) == (
        organiser.id,
        "round",
        matching_round.id,
    )
    ran = only(session, a.ROUND_RUN)
    assert ran.actor_id == organiser.id and ran.subject_id == matching_round.id
    assert details(ran) == {"attempt": 1, "mentees": 4, "mentors": 3, "matched": 3}
    published = only(session, a.ROUND_PUBLISHED)
    assert published.actor_id == organiser.id and published.subject_id == matching_round.id
    assert details(published) == {"proposed": 3, "offered": 3}
    exported = only(session, a.ROUND_EXPORTED)
    assert details(exported) == {"rows": len(mentees)}
    assert created.at <= ran.at <= published.at <= exported.at


def test_removing_and_swapping_pairs_are_one_event_each(session, engine, network):
    organiser, _, _ = network
    matching_round = run_round(session, engine, organiser)
    paired = [
        p
        for p in rounds.proposals_of(
            session=session, organiser=organiser, round_id=matching_round.id
        )
        if p.status == "proposed"
    ]

    rounds.remove_proposal(session=session, organiser=organiser, proposal_id=paired[0].id)
    try:
        rounds.swap_mentors(
            session=session,
            organiser=organiser,
            proposal_id=paired[1].id,
            other_proposal_id=paired[2].id,
        )
    except Conflict:
        pytest.fail("the network's pairs can be swapped")
    session.commit()

    removed = only(session, a.PROPOSAL_REMOVED)
    assert (removed.actor_id, removed.subject_type, removed.subject_id) == (
        organiser.id,
        "proposal",
        paired[0].id,
    )
    assert details(removed) == {"round": matching_round.id}
    swapped = only(session, a.PROPOSAL_SWAPPED)
    assert swapped.subject_id == paired[1].id
    assert details(swapped) == {"round": matching_round.id, "other_proposal": paired[2].id}


def test_a_failed_action_and_a_rolled_back_one_leave_no_event(session, engine, network):
    organiser, mentors, _ = network
    matching_round = run_round(session, engine, organiser)
    before = len(session.exec(select(AuditEvent)).all())
    proposal = make_proposal(session, matching_round=matching_round, status="unmatched")
    session.commit()

    with pytest.raises(Conflict):  # only proposed pairs can be removed
        rounds.remove_proposal(session=session, organiser=organiser, proposal_id=proposal.id)
    with pytest.raises(Forbidden):  # a mentor is no organiser
        rounds.publish_round(session=session, organiser=mentors[0], round_id=matching_round.id)
    session.rollback()
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    session.rollback()  # the request failed after publishing: nothing of it stays

    assert len(session.exec(select(AuditEvent)).all()) == before
    assert logged(session, a.ROUND_PUBLISHED) == []


def test_a_retried_round_is_one_event(session, network):
    organiser, _, _ = network
    failed = make_round(session, organiser=organiser, status="failed", attempts=1)
    session.commit()

    rounds.retry_round(session=session, organiser=organiser, round_id=failed.id)
    session.commit()

    retried = only(session, a.ROUND_RETRIED)
    assert retried.actor_id == organiser.id and retried.subject_id == failed.id


def _members_file(*member_ids: str) -> bytes:
    """A members CSV with a valid row per id; an id starting BAD gets a band that is none."""
    return members_csv(*(row(i, band="10") if i.startswith("BAD") else row(i) for i in member_ids))


def test_an_import_job_records_its_counts_when_it_completes(session):
    organiser = make_organiser(session)
    member_import = importing.start_import(
        session=session, actor=organiser, data=_members_file("M1", "M2", "BAD3"), mode="partial"
    )
    session.commit()
    assert logged(session, a.MEMBERS_IMPORTED) == []  # stored and queued: nothing done yet
    session.commit()

    assert importing.run_import_job(member_import.id, engine=session.get_bind()) == "done"
    session.expire_all()

    event = only(session, a.MEMBERS_IMPORTED)
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        organiser.id,
        "import",
        member_import.id,
    )
    assert details(event) == {
        "mode": "partial",
        "created": 2,
        "updated": 0,
        "rejected": 1,
        "errors": 1,
        "invitations": 2,
        "organisations_created": 1,
    }
    session.commit()

    importing.rejects_file(session=session, actor=organiser, import_id=member_import.id)
    session.commit()
    rejects = only(session, a.IMPORT_REJECTS_EXPORTED)
    assert rejects.subject_id == member_import.id and details(rejects) == {"rows": 1}


def test_an_import_in_one_go_records_its_counts(session):
    organiser = make_organiser(session)

    importing.import_members(
        session=session, data=_members_file("M1"), invited_by="Olu", actor=organiser
    )
    session.commit()

    event = only(session, a.MEMBERS_IMPORTED)
    assert event.actor_id == organiser.id and details(event)["created"] == 1


def test_moderation_actions_are_one_event_each_and_never_hold_the_note(session):
    author, organiser = make_member(session), make_organiser(session)
    post = make_post(session, author=author)
    make_report(session, post=post)
    other = make_post(session, author=author)
    make_report(session, post=other)
    session.commit()

    community.hide(session=session, organiser=organiser, post_id=post.id, note="Names a patient")
    community.restore(session=session, organiser=organiser, post_id=post.id, note="Edited now")
    community.dismiss_reports(session=session, organiser=organiser, post_id=other.id)
    session.commit()

    hidden = only(session, a.CONTENT_HIDDEN)
    assert (hidden.actor_id, hidden.subject_type, hidden.subject_id) == (
        organiser.id,
        "post",
        post.id,
    )
    assert details(hidden) == {"reports_resolved": 1}
    assert details(only(session, a.CONTENT_RESTORED)) == {"reports_resolved": 0}
    dismissed = only(session, a.REPORTS_DISMISSED)
    assert dismissed.subject_id == other.id and details(dismissed) == {"reports_resolved": 1}
    everything = " ".join(
        " ".join(str(v) for v in row) for row in session.execute(text("SELECT * FROM audit_event"))
    )
    assert "patient" not in everything and "Edited" not in everything


def test_circles_and_peer_pairing_by_organisers_are_events(session):
    organiser = make_organiser(session)
    for number in range(4):
        member = make_member(session, organisation=f"Trust {number}")
        make_community_preference(session, member=member)
    session.commit()

    formed = circles.form(session=session, organiser=organiser)
    paired = peer_connect.trigger(session=session, organiser=organiser)
    session.commit()

    assert details(only(session, a.CIRCLES_FORMED)) == {
        "circles": len(formed.new),
        "topped_up": 0,
        "members": 4,
        "waiting": 0,
    }
    assert details(only(session, a.PEER_PAIRING_RUN)) == {"pairs": len(paired)}


def test_role_changes_are_events_with_the_role_and_who_changed_it(session):
    admin = make_admin(session)
    member = make_member(session)
    session.commit()

    member_service.grant_role(session=session, member_id=member.id, role="organiser", by=admin)
    member_service.grant_role(session=session, member_id=member.id, role="organiser", by=admin)
    assert member_service.revoke_role(session=session, member_id=member.id, role="organiser")
    session.commit()

    granted = [e for e in logged(session, a.ROLE_GRANTED) if e.subject_id == member.id]
    assert [(e.actor_id, details(e)) for e in granted] == [(admin.id, {"role": "organiser"})]
    revoked = only(session, a.ROLE_REVOKED)
    assert revoked.actor_id is None and revoked.subject_id == member.id


def test_an_insights_download_is_an_event_naming_the_table(session):
    organiser = make_organiser(session)
    session.commit()

    table = insights.export_table(session=session, organiser=organiser, key="by-band")
    missing = insights.export_table(session=session, organiser=organiser, key="nothing")
    session.commit()

    assert table is not None and missing is None
    event = only(session, a.INSIGHTS_EXPORTED)
    assert event.actor_id == organiser.id and details(event) == {"table": "by-band"}


def test_a_sign_in_from_a_new_device_is_an_event_and_a_known_one_is_not(session):
    member = make_member(session, email="ann@example.nhs.uk")
    session.commit()

    def sign_in(agent: str, address: str) -> None:
        accounts.log_in(
            session=session,
            email="ann@example.nhs.uk",
            password=PASSWORD,
            user_agent=agent,
            client=address,
        )
        session.commit()

    sign_in(FIREFOX, "192.0.2.1")
    sign_in(FIREFOX, "192.0.2.1")
    sign_in(SAFARI, "192.0.2.1")
    sign_in(FIREFOX, "198.51.100.7")

    events = logged(session, a.SIGNIN_NEW_DEVICE)
    assert [(e.actor_id, e.subject_id) for e in events] == [(member.id, member.id)] * 3
    assert len({e.client for e in events}) == 3
    assert all(details(e) == {"method": "password"} for e in events)
    stored = " ".join(e.client or "" for e in events)
    assert "192.0.2.1" not in stored and "Firefox" not in stored
    with pytest.raises(Invalid):
        accounts.log_in(
            session=session, email="ann@example.nhs.uk", password="wrong" * 4, client="192.0.2.9"
        )
    session.rollback()
    assert len(logged(session, a.SIGNIN_NEW_DEVICE)) == 3  # a failed log-in is no sign-in


# Reading: admins only, filters and pages, CSV ---------------------------------------------------


def test_only_admins_read_or_export_the_log(session):
    organiser, member = make_organiser(session), make_member(session)
    session.commit()

    for who in (organiser, member):
        with pytest.raises(Forbidden):
            audit_service.events(session=session, viewer=who)
        with pytest.raises(Forbidden):
            audit_service.export_csv(session=session, viewer=who)
        with pytest.raises(Forbidden):
            audit_service.get_many(session=session, viewer=who, event_ids=[1])
    with pytest.raises(NotAuthenticated):
        audit_service.events(session=session, viewer=None)


def test_admins_page_through_the_log_newest_first_and_filter_it(session):
    admin = make_admin(session, name="Ada Admin")
    organiser = make_organiser(session)
    for number in range(5):
        audit.record(
            session,
            actor=organiser,
            action=a.ROUND_CREATED,
            subject=audit.subject("round", number + 1),
        )
    audit.record(session, actor=None, action=a.ROUND_RUN)
    session.commit()

    first, more = audit_service.events(
        session=session,
        viewer=admin,
        wanted=audit_service.EventFilter(action=a.ROUND_CREATED),
        limit=3,
    )
    second, again = audit_service.events(
        session=session,
        viewer=admin,
        wanted=audit_service.EventFilter(action=a.ROUND_CREATED),
        before_id=first[-1].event.id,
        limit=3,
    )

    assert more and not again
    assert [v.event.subject_id for v in first + second] == [5, 4, 3, 2, 1]
    assert {v.actor_name for v in first} == {organiser.name}
    by_actor, _ = audit_service.events(
        session=session, viewer=admin, wanted=audit_service.EventFilter(actor_id=organiser.id)
    )
    assert {v.event.action for v in by_actor} == {a.ROUND_CREATED}  # the grant was the system's
    today = utcnow().date()
    tomorrow, _ = audit_service.events(
        session=session,
        viewer=admin,
        wanted=audit_service.EventFilter(since=today + timedelta(days=1)),
    )
    up_to_today, _ = audit_service.events(
        session=session, viewer=admin, wanted=audit_service.EventFilter(until=today)
    )
    assert tomorrow == [] and len(up_to_today) >= 6


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("action", {"action": "round.deleted"}),
        ("actor", {"actor": "twelve"}),
        ("since", {"since": "1 December"}),
        ("until", {"since": "2026-12-02", "until": "2026-12-01"}),
    ],
)
def test_a_bad_filter_names_its_field(field, values):
    with pytest.raises(Invalid) as raised:
        audit_service.parse_filter(**values)

    assert raised.value.field == field


def test_the_csv_export_neutralises_formulas_and_is_itself_recorded(session):
    admin = make_admin(session, name='=HYPERLINK("http://x","y")')
    audit.record(session, actor=admin, action=a.ROUND_CREATED, subject=audit.subject("round", 7))
    session.commit()

    exported = audit_service.export_csv(session=session, viewer=admin)
    session.commit()

    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == list(audit_service.CSV_HEADER)
    created = next(r for r in rows[1:] if r[4] == a.ROUND_CREATED)
    assert created[3] == '\'=HYPERLINK("http://x","y")'
    assert created[6] == "7"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    event = only(session, a.AUDIT_EXPORTED)
    assert event.actor_id == admin.id and details(event)["rows"] == len(rows) - 1


# What members see about themselves ----------------------------------------------------------


def test_members_see_who_viewed_or_exported_their_data_and_nothing_else(session, engine, network):
    organiser, mentors, mentees = network
    bystander = make_member(session, name="Bea Bystander")
    session.commit()
    matching_round = run_round(session, engine, organiser)
    proposal = next(
        p
        for p in rounds.proposals_of(
            session=session, organiser=organiser, round_id=matching_round.id
        )
        if p.status == "proposed"
    )
    rounds.review_proposal(
        session=session,
        organiser=organiser,
        round_id=matching_round.id,
        proposal_id=proposal.id,
    )
    rounds.export_csv(session=session, organiser=organiser, round_id=matching_round.id)
    mentee = next(m for m in mentees if m.id == proposal.mentee_id)
    privacy.export_my_data(session=session, member=mentee)
    session.commit()

    seen = audit_service.seen_by(session=session, member=mentee)
    assert [(s.who, s.action) for s in seen] == [
        ("You", a.MEMBER_DATA_EXPORTED),
        ("Olu Organiser", a.ROUND_EXPORTED),
        ("Olu Organiser", a.MEMBER_VIEWED),
    ]
    assert seen[1].what == "downloaded a list of proposed matches that includes you"
    mentor = next(m for m in mentors if m.id == proposal.mentor_id)
    assert [s.action for s in audit_service.seen_by(session=session, member=mentor)] == [
        a.ROUND_EXPORTED,
        a.MEMBER_VIEWED,
    ]
    assert audit_service.seen_by(session=session, member=bystander) == []
    with pytest.raises(NotAuthenticated):
        audit_service.seen_by(session=session, member=None)


def test_erasing_a_member_keeps_their_events_by_id_with_nothing_personal(session):
    organiser = make_organiser(session, name="Pauline Clayton", email="pauline@example.nhs.uk")
    session.commit()
    accounts.log_in(
        session=session,
        email="pauline@example.nhs.uk",
        password=PASSWORD,
        user_agent=FIREFOX,
        client="192.0.2.1",
    )
    privacy.export_my_data(session=session, member=organiser)
    organiser_id = organiser.id
    session.commit()

    privacy.erase_my_account(session=session, member=organiser, password=PASSWORD, confirm=True)
    session.commit()

    kept = session.exec(select(AuditEvent).where(AuditEvent.actor_id == organiser_id)).all()
    assert {e.action for e in kept} >= {a.SIGNIN_NEW_DEVICE, a.MEMBER_DATA_EXPORTED}
    for stored in session.execute(text("SELECT * FROM audit_event")):
        flat = " ".join(str(value) for value in stored).lower()
        assert "pauline" not in flat and "clayton" not in flat
    erased = only(session, a.MEMBER_ERASED)
    assert erased.actor_id == erased.subject_id == organiser_id
    # SQLite may give the erased id to the next member: the old events are never theirs.
    newcomer = make_member(session, email="newcomer@example.nhs.uk")
    admin = make_admin(session)
    session.commit()
    views, _ = audit_service.events(
        session=session, viewer=admin, wanted=audit_service.EventFilter(actor_id=organiser_id)
    )
    assert {v.actor_name for v in views} == {f"Former member {organiser_id}"}
    assert audit_service.seen_by(session=session, member=newcomer) == []
    accounts.log_in(
        session=session,
        email="newcomer@example.nhs.uk",
        password=PASSWORD,
        user_agent=FIREFOX,
        client="192.0.2.1",
    )
    session.commit()
    assert any(e.actor_id == newcomer.id for e in logged(session, a.SIGNIN_NEW_DEVICE)[1:])
