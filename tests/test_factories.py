"""The factories: one per table, each making a row both databases accept, counters kept."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import func
from sqlmodel import select

from backend.accounts import service as accounts
from backend.matchmaking.version import network_state
from backend.members.models import Member, MentoringOffer
from backend.models import metadata
from tests import factories
from tests.factories import (
    FACTORIES,
    make_access_token,
    make_mentor,
    make_mentorship,
    make_proposal,
    make_report,
    make_request,
    make_round_network,
    make_user_session,
)


def test_every_table_has_a_factory():
    tables = {name for name in metadata.tables if name != "alembic_version"}

    assert set(FACTORIES) == tables


@pytest.mark.parametrize("table", sorted(FACTORIES))
def test_a_factory_called_with_only_a_session_writes_its_row(session, table):
    rows = select(func.count()).select_from(metadata.tables[table])
    before = session.exec(rows).one()

    made = FACTORIES[table](session)

    row = made[0] if isinstance(made, tuple) else made
    assert type(row).__table__.name == table
    assert session.exec(rows).one() == before + 1


def test_an_open_request_takes_one_of_the_mentees_slots_and_a_closed_one_none(session):
    mentee = factories.make_mentee(session)

    make_request(session, mentee=mentee)
    make_request(session, mentee=mentee, status="declined")

    session.refresh(mentee)
    assert mentee.open_requests == 1


def test_an_active_mentorship_takes_one_of_the_mentors_places(session):
    mentor = make_mentor(session, capacity=2)

    make_mentorship(session, mentor=mentor)
    make_mentorship(session, mentor=mentor, status="completed")

    assert session.get(MentoringOffer, mentor.id).active_mentees == 1


def test_factories_move_the_network_version_as_services_do(session):
    make_mentor(session)
    first = network_state(session=session).version

    make_mentorship(session)

    assert network_state(session=session).version > first


def test_tokens_from_the_factories_open_what_they_open(session):
    record, cookie = make_user_session(session)
    _, secret = make_access_token(session, member=session.get(Member, record.member_id))

    assert accounts.session_for_token(session=session, token=cookie).id == record.id
    assert accounts.member_for_access_token(session=session, secret=secret).id == record.member_id


def test_a_report_of_a_comment_names_the_comment_only(session):
    comment = factories.make_comment(session)

    report = make_report(session, comment=comment)

    assert (report.post_id, report.comment_id) == (None, comment.id)


def test_an_offered_proposal_sits_in_a_published_round(session):
    proposal = make_proposal(session, status="offered")

    from backend.rounds.models import MatchingRound

    matching_round = session.get(MatchingRound, proposal.round_id)
    assert matching_round.status == "published" and matching_round.respond_by is not None
    assert proposal.offered_at is not None and proposal.mentor_id != proposal.mentee_id


def test_the_round_network_is_three_single_place_mentors_and_four_mentees(session):
    organiser, mentors, mentees = make_round_network(session)

    assert [m.band for m in mentors] == ["7", "8a", "8b"]
    assert len({m.organisation_id for m in mentors}) == 3
    assert [session.get(MentoringOffer, m.id).capacity for m in mentors] == [1, 1, 1]
    assert len(mentees) == 4 and all(m.seeking_mentor for m in mentees)
    assert {m.organisation_id for m in mentees}.isdisjoint({m.organisation_id for m in mentors})
    assert organiser.name == "Olu Organiser"


def test_second_factor_factories_make_what_the_services_accept(session):
    from backend.accounts import two_factor

    totp, secret = factories.make_totp_credential(session)
    member = session.get(Member, totp.member_id)
    assert two_factor.needed(session=session, member=member)
    now = pyotp.TOTP(secret).now()  # the factory used the step before: this one is still good
    assert two_factor.check_code(session=session, member=member, code=now) == "totp"
    _, code = factories.make_recovery_code(session, member=member)
    assert two_factor.check_code(session=session, member=member, code=code) == "recovery"
