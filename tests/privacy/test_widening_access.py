"""Widening access as self-service: the member's claim, and the flag the matcher sees."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.errors import FieldErrors, NotAuthenticated, NotFound
from backend.matchmaking import frames as population
from backend.matchmaking import rounds as matcher
from backend.members.models import Member
from backend.privacy import service as privacy
from backend.privacy import widening
from backend.privacy.models import WIDENING_WORDING_VERSION, WideningAccessClaim
from backend.rounds import service as rounds
from backend.rounds.figures import compute
from backend.rounds.models import MatchingRound
from tests.factories import (
    PASSWORD,
    make_member,
    make_programme,
    make_programme_application,
    make_round_network,
    make_widening_claim,
)
from vocabulary import WIDENING_CATEGORIES


def _claim(session, member, category="bands-2-to-4"):
    claim = widening.set_widening_access(
        session=session, member=member, category=category, consent=True
    )
    session.commit()
    return claim


def test_a_member_asks_with_consent_changes_the_reason_and_withdraws(session):
    member = make_member(session)

    claim = _claim(session, member, "first-in-family-into-management")
    assert (claim.category, claim.wording_version) == (
        "first-in-family-into-management",
        WIDENING_WORDING_VERSION,
    )
    consented = claim.consented_at

    changed = _claim(session, member, "career-break-or-caring")
    assert changed.category == "career-break-or-caring"
    assert changed.consented_at == consented  # same wording: the consent stands
    assert len(session.exec(select(WideningAccessClaim)).all()) == 1

    assert widening.withdraw_widening_access(session=session, member=member) is True
    session.commit()
    assert session.exec(select(WideningAccessClaim)).all() == []
    assert widening.my_widening_access(session=session, member=member) is None
    assert widening.withdraw_widening_access(session=session, member=member) is False


def test_consent_to_older_wording_is_renewed_when_the_reason_changes(session):
    member = make_member(session)
    make_widening_claim(session, member=member, wording_version="2020-01-v0")

    claim = _claim(session, member, "disabled")

    assert claim.wording_version == WIDENING_WORDING_VERSION


def test_no_consent_or_a_bad_reason_keeps_nothing_and_names_the_fields(session):
    member = make_member(session)

    with pytest.raises(FieldErrors) as refused:
        widening.set_widening_access(
            session=session, member=member, category="martian", consent=False
        )
    assert set(refused.value.errors) == {"category", "consent"}
    with pytest.raises(FieldErrors) as blank:
        widening.set_widening_access(session=session, member=member, category="", consent=True)
    assert set(blank.value.errors) == {"category"}
    assert session.exec(select(WideningAccessClaim)).all() == []
    with pytest.raises(NotAuthenticated):
        widening.set_widening_access(
            session=session, member=None, category="disabled", consent=True
        )


def test_the_flag_counts_organiser_set_and_claims_whose_category_counts(session):
    programme = make_programme(session, widening_categories=["bands-2-to-4"])
    counted = make_member(session)
    other_reason = make_member(session)
    organiser_set = make_member(session, priority_access=True)
    nobody = make_member(session)
    make_widening_claim(session, member=counted, category="bands-2-to-4")
    make_widening_claim(session, member=other_reason, category="disabled")
    ids = [counted.id, other_reason.id, organiser_set.id, nobody.id]

    in_programme = widening.flags_for(session=session, member_ids=ids, programme_id=programme.id)
    in_default = widening.flags_for(session=session, member_ids=ids)

    assert in_programme == {counted.id, organiser_set.id}
    assert in_default == {counted.id, other_reason.id, organiser_set.id}
    assert widening.flags_for(session=session, member_ids=None) >= in_default
    assert widening.flags_for(session=session, member_ids=[]) == set()
    every = make_programme(session)  # [] counts every category
    assert widening.flags_for(session=session, member_ids=ids, programme_id=every.id) == in_default
    with pytest.raises(NotFound):
        widening.flags_for(session=session, member_ids=ids, programme_id=10**6)
    # The same answer for programme eligibility (``widening_access_only``).
    assert widening.is_widening_access(session, counted, programme)
    assert not widening.is_widening_access(session, other_reason, programme)
    assert widening.is_widening_access(session, other_reason, None)
    assert widening.is_widening_access(session, organiser_set, programme)
    assert not widening.is_widening_access(session, nobody, None)


def test_the_frame_carries_the_programmes_flag_and_never_the_category(session):
    programme = make_programme(session, widening_categories=["bands-2-to-4"])
    _, _mentors, mentees = make_round_network(session, mentees=3)
    make_widening_claim(session, member=mentees[0], category="bands-2-to-4")
    make_widening_claim(session, member=mentees[1], category="under-represented-ethnic-group")
    ids = [m.id for m in mentees]

    frame = population.member_frame(session=session, mentee_ids=ids, programme_id=programme.id)
    default = population.member_frame(session=session, mentee_ids=ids)

    flag = dict(zip(frame["member_id"], frame["priority_access"], strict=True))
    assert [bool(flag[str(m.id)]) for m in mentees] == [True, False, False]
    flag = dict(zip(default["member_id"], default["priority_access"], strict=True))
    assert [bool(flag[str(m.id)]) for m in mentees] == [True, True, False]
    for built in (frame, default):
        assert not {c for c in built.columns if "categor" in c.lower() or "widening" in c}
        values = {str(v) for column in built.columns for v in built[column].tolist()}
        assert not set(WIDENING_CATEGORIES) & values


def test_a_round_in_a_programme_gives_priority_only_for_categories_that_count(
    session, engine, monkeypatch
):
    programme = make_programme(session, widening_categories=["bands-2-to-4"])
    organiser, _mentors, mentees = make_round_network(session, mentees=3)
    make_widening_claim(session, member=mentees[0], category="bands-2-to-4")
    make_widening_claim(session, member=mentees[1], category="disabled")
    for mentee in mentees:  # a programme's round pairs its accepted applicants
        make_programme_application(session, programme=programme, member=mentee, status="accepted")
    seen = []
    real = matcher.run_round

    def watching(frame, **kwargs):
        seen.append(frame.copy())
        return real(frame, **kwargs)

    monkeypatch.setattr(matcher, "run_round", watching)
    settings = rounds.RoundSettings(
        name="Into management", priority=True, programme_id=programme.id
    )
    made = rounds.create_round(session=session, organiser=organiser, settings=settings)
    session.commit()

    assert rounds.run_round_job(made.id, engine=engine) == "ready"

    [frame] = seen
    flagged = set(frame.loc[frame["priority_access"].astype(bool), "member_id"])
    assert flagged == {str(mentees[0].id)}
    assert not {c for c in frame.columns if "categor" in c.lower()}
    assert not set(WIDENING_CATEGORIES) & {str(v) for c in frame for v in frame[c]}
    session.expire_all()
    summary = session.get(MatchingRound, made.id)
    assert summary is not None and summary.programme_id == programme.id
    # The round's figures count the same flag: one mentee with priority in this programme.
    figures = compute(session=session, round_id=made.id)
    assert figures["priority_rate"] is not None
    assert figures["other_rate"] is not None
    assert figures["priority_rate"] in (0.0, 1.0)  # one priority mentee: all or nothing


def test_the_claim_is_in_the_export_and_gone_with_the_member(session):
    member = make_member(session)
    _claim(session, member, "lgbtq-plus")

    data = privacy.export_my_data(session=session, member=member)
    assert data["widening_access"]["category"] == "lgbtq-plus"
    assert data["widening_access"]["wording_version"] == WIDENING_WORDING_VERSION

    privacy.erase_my_account(session=session, member=member, password=PASSWORD, confirm=True)
    session.commit()
    assert session.exec(select(WideningAccessClaim)).all() == []
    assert session.exec(select(Member).where(Member.id == member.id)).first() is None
