"""The members CSV brings diversity answers only where demographics_consent is yes."""

from __future__ import annotations

from sqlmodel import select

from backend.members.models import Member
from backend.privacy import service as privacy
from backend.privacy.models import DEMOGRAPHICS_WORDING_VERSION, ConsentRecord, DemographicRecord
from tests.factories import make_organiser
from tests.members.test_importing import members_csv, row, run


def _by_external_id(session, member_id):
    return session.exec(select(Member).where(Member.external_id == member_id)).one()


def test_answers_are_stored_apart_with_a_consent_naming_the_organiser(session):
    organiser = make_organiser(session, name="Olu Organiser")
    data = members_csv(
        row("M1", demographics_consent="yes", ethnicity="asian", age_band="25-34"),
        row("M2", demographics_consent="no", ethnicity="white", gender="man"),
        row("M3"),
    )

    result = run(session, data, actor=organiser)

    assert result.created == 3
    [record] = session.exec(select(DemographicRecord)).all()
    m1 = _by_external_id(session, "M1")
    assert (record.member_id, record.ethnicity, record.age_band) == (m1.id, "asian", "25-34")
    [consent] = session.exec(select(ConsentRecord)).all()
    assert (consent.member_id, consent.source) == (m1.id, "import")
    assert consent.wording_version == DEMOGRAPHICS_WORDING_VERSION
    how = privacy.consent_description(session=session, consent=consent)
    assert how == "Given on a members list imported by organiser Olu Organiser"


def test_a_bad_row_keeps_all_or_nothing_for_demographics_too(session):
    organiser = make_organiser(session)
    data = members_csv(
        row("M1", demographics_consent="yes", ethnicity="black"),
        row("M2", band="99"),
    )

    result = run(session, data, actor=organiser)

    assert not result.ok
    assert session.exec(select(DemographicRecord)).all() == []
    assert session.exec(select(ConsentRecord)).all() == []


def test_reimporting_updates_answers_under_the_same_consent(session):
    organiser = make_organiser(session)
    run(
        session, members_csv(row("M1", demographics_consent="yes", gender="woman")), actor=organiser
    )

    run(
        session,
        members_csv(row("M1", demographics_consent="yes", gender="non-binary")),
        actor=organiser,
    )

    [record] = session.exec(select(DemographicRecord)).all()
    assert record.gender == "non-binary"
    assert len(session.exec(select(ConsentRecord)).all()) == 1
