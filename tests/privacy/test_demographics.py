"""Diversity data: opt-in with a consent record, own eyes only, withdrawn means deleted."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.errors import FieldErrors, Invalid, NotAuthenticated
from backend.privacy import service as privacy
from backend.privacy.models import DEMOGRAPHICS_WORDING_VERSION, ConsentRecord, DemographicRecord
from tests.factories import make_member

ANSWERS = privacy.DemographicAnswers(
    ethnicity="black", gender="woman", disability="prefer-not-to-say", age_band="35-44"
)


def test_answers_are_kept_only_with_explicit_consent_and_a_record_of_it(session):
    member = make_member(session)

    with pytest.raises(Invalid):
        privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=False)
    assert session.exec(select(DemographicRecord)).all() == []

    record = privacy.record_demographics(
        session=session, member=member, answers=ANSWERS, consent=True
    )

    mine = privacy.my_demographics(session=session, member=member)
    assert (record.ethnicity, record.age_band) == ("black", "35-44")
    assert mine.live_consent is not None
    assert mine.live_consent.wording_version == DEMOGRAPHICS_WORDING_VERSION
    assert mine.live_consent.source == "self" and record.consent_id == mine.live_consent.id


def test_unknown_answers_are_named_and_nothing_is_kept(session):
    member = make_member(session)

    with pytest.raises(FieldErrors) as raised:
        privacy.record_demographics(
            session=session,
            member=member,
            answers=privacy.DemographicAnswers(ethnicity="martian", gender="robot"),
            consent=True,
        )

    assert set(raised.value.errors) == {"ethnicity", "gender"}
    assert session.exec(select(ConsentRecord)).all() == []


def test_changing_answers_keeps_one_consent_and_one_record(session):
    member = make_member(session)
    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)

    privacy.record_demographics(
        session=session,
        member=member,
        answers=privacy.DemographicAnswers(ethnicity="prefer-not-to-say"),
        consent=True,
    )

    assert len(session.exec(select(ConsentRecord)).all()) == 1
    [record] = session.exec(select(DemographicRecord)).all()
    assert (record.ethnicity, record.gender) == ("prefer-not-to-say", None)


def test_withdrawing_deletes_the_answers_and_dates_the_withdrawal(session):
    member = make_member(session)
    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)

    assert privacy.withdraw_demographics(session=session, member=member) is True

    assert session.exec(select(DemographicRecord)).all() == []
    [consent] = privacy.my_demographics(session=session, member=member).consents
    assert consent.withdrawn_at is not None
    assert privacy.withdraw_demographics(session=session, member=member) is False


def test_consenting_again_after_withdrawing_opens_a_new_record(session):
    member = make_member(session)
    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)
    privacy.withdraw_demographics(session=session, member=member)

    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)

    consents = privacy.my_demographics(session=session, member=member).consents
    assert len(consents) == 2 and sum(c.withdrawn_at is None for c in consents) == 1


def test_only_signed_in_members_see_their_own(session):
    with pytest.raises(NotAuthenticated):
        privacy.my_demographics(session=session, member=None)
    other = make_member(session)
    privacy.record_demographics(session=session, member=other, answers=ANSWERS, consent=True)
    me = make_member(session)

    mine = privacy.my_demographics(session=session, member=me)

    assert mine.record is None and mine.consents == []
