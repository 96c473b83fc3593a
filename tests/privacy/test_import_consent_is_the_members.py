"""Consent is the member's (issue 11): an import never creates or changes the diversity answers
of a member who has an account, and a withdrawal stands until the member consents again.

The rest of such a row is imported as usual; the demographics part is skipped with a note on
its line and counted.
"""

from __future__ import annotations

from sqlmodel import select

from backend.accounts import service as accounts
from backend.members import importing
from backend.members.models import Member
from backend.privacy import service as privacy
from backend.privacy.models import ConsentRecord, DemographicRecord
from tests.factories import make_member, make_organiser
from tests.members.test_importing import _run_job, members_csv, row, run
from tests.schema.conftest import run as run_graphql  # noqa: F401 - fixture

ANSWERS = privacy.DemographicAnswers(ethnicity="white", gender="woman", age_band="35-44")


def _consents(session, member_id):
    rows = session.exec(
        select(ConsentRecord).where(ConsentRecord.member_id == member_id).order_by(ConsentRecord.id)
    ).all()
    return [(c.id, c.source, c.given_at, c.withdrawn_at) for c in rows]


def test_an_import_never_overrides_a_withdrawal(session):
    """The exact finding: withdrawn, then an organiser's import with demographics_consent=yes."""
    member = make_member(session, email="pauline@example.nhs.uk", band="6")
    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)
    assert privacy.withdraw_demographics(session=session, member=member) is True
    session.commit()
    before = _consents(session, member.id)
    organiser = make_organiser(session)

    result = run(
        session,
        members_csv(
            row(
                "P1",
                email="pauline@example.nhs.uk",
                band="7",
                demographics_consent="yes",
                ethnicity="asian",
                gender="man",
            )
        ),
        actor=organiser,
    )
    session.commit()

    assert result.ok and result.updated == 1  # the rest of the row is imported
    session.refresh(member)
    assert member.band == "7"
    assert session.get(DemographicRecord, member.id) is None  # still withdrawn
    assert _consents(session, member.id) == before  # and the record still says so
    mine = privacy.my_demographics(session=session, member=member)
    assert mine.live_consent is None
    assert (result.demographics_stored, result.demographics_skipped) == (0, 1)
    [note] = result.notes
    assert (note.line, note.column) == (2, "demographics_consent")
    assert "has an account" in note.reason and "only they" in note.reason
    assert "Diversity answers on 1 row were not used" in result.summary()


def test_an_import_never_answers_for_a_member_with_an_account_who_never_answered(session):
    member = make_member(session, email="nia@example.nhs.uk")
    organiser = make_organiser(session)

    result = run(
        session,
        members_csv(
            row("N1", email="nia@example.nhs.uk", demographics_consent="yes", gender="woman")
        ),
        actor=organiser,
    )

    assert result.updated == 1 and result.demographics_skipped == 1
    assert session.get(DemographicRecord, member.id) is None
    assert _consents(session, member.id) == []


def test_an_import_never_changes_answers_a_member_gave_themselves(session):
    member = make_member(session, email="omar@example.nhs.uk")
    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)
    session.commit()
    before = _consents(session, member.id)

    result = run(
        session,
        members_csv(
            row("O1", email="omar@example.nhs.uk", demographics_consent="yes", gender="man")
        ),
        actor=make_organiser(session),
    )

    assert result.demographics_skipped == 1
    assert session.get(DemographicRecord, member.id).gender == "woman"
    assert _consents(session, member.id) == before


def test_any_way_of_signing_in_makes_consent_the_members(session):
    """No password (say, single sign-on), but signed in once, or confirmed, or with a token."""
    signed_in = make_member(session, password=None, verified=False)
    accounts.start_session(session=session, member_id=signed_in.id)
    confirmed = make_member(session, password=None, verified=True)
    never = make_member(session, password=None, verified=False)
    session.commit()

    found = privacy.members_own_consent(
        session=session, member_ids=[signed_in.id, confirmed.id, never.id]
    )

    assert set(found) == {signed_in.id, confirmed.id}


def test_a_member_without_an_account_is_importable_as_before(session):
    organiser = make_organiser(session)
    data = members_csv(
        row("M1", demographics_consent="yes", ethnicity="black"),
        row("M2", demographics_consent="yes", gender="man"),
    )

    result = run(session, data, actor=organiser)
    m1 = session.exec(select(Member).where(Member.external_id == "M1")).one()
    again = run(
        session,
        members_csv(row("M1", demographics_consent="yes", ethnicity="mixed")),
        actor=organiser,
    )

    assert (result.demographics_stored, result.demographics_skipped, result.notes) == (2, 0, [])
    assert (again.demographics_stored, again.demographics_skipped) == (1, 0)
    assert session.get(DemographicRecord, m1.id).ethnicity == "mixed"
    [consent] = session.exec(select(ConsentRecord).where(ConsentRecord.member_id == m1.id)).all()
    assert consent.source == "import"


def test_an_invited_member_who_sets_a_password_then_owns_their_answers(session):
    organiser = make_organiser(session)
    run(
        session, members_csv(row("I1", demographics_consent="yes", gender="woman")), actor=organiser
    )
    member = session.exec(select(Member).where(Member.external_id == "I1")).one()
    member.password_hash = "set by accepting the invitation"
    session.add(member)
    session.commit()

    result = run(
        session, members_csv(row("I1", demographics_consent="yes", gender="man")), actor=organiser
    )

    assert result.demographics_skipped == 1
    assert session.get(DemographicRecord, member.id).gender == "woman"


def test_an_import_job_skips_the_members_own_answers_and_keeps_the_notes(session):
    member = make_member(session, email="pat@example.nhs.uk")
    privacy.record_demographics(session=session, member=member, answers=ANSWERS, consent=True)
    privacy.withdraw_demographics(session=session, member=member)
    organiser = make_organiser(session)
    session.commit()
    before = _consents(session, member.id)

    done = _run_job(
        session,
        organiser,
        members_csv(
            row("J1", demographics_consent="yes", gender="woman"),
            row("J2", email="pat@example.nhs.uk", demographics_consent="yes", gender="man"),
        ),
    )

    assert (done.status, done.created, done.updated) == ("done", 1, 1)
    assert (done.demographics_stored, done.demographics_skipped) == (1, 1)
    result = importing.import_result(done)
    assert [(n.line, n.column) for n in result.notes] == [(3, "demographics_consent")]
    assert "were not used" in done.summary
    assert session.get(DemographicRecord, member.id) is None
    assert _consents(session, member.id) == before


IMPORT = """
mutation ($csv: String!) {
  importMembers(input: {csv: $csv}) {
    ... on ImportMembersSuccess {
      ok updated demographicsStored demographicsSkipped notes { line column reason }
    }
    ... on Error { message }
  }
}
"""


def test_graphql_reports_the_rows_whose_answers_were_not_used(session, run_graphql):  # noqa: F811
    make_member(session, email="quinn@example.nhs.uk")
    organiser = make_organiser(session)
    session.commit()
    csv = members_csv(
        row("Q1", email="quinn@example.nhs.uk", demographics_consent="yes", gender="woman")
    ).decode()

    out = run_graphql(IMPORT, {"csv": csv}, member=organiser)

    result = out["data"]["importMembers"]
    assert (result["ok"], result["updated"]) == (True, 1)
    assert (result["demographicsStored"], result["demographicsSkipped"]) == (0, 1)
    assert [(n["line"], n["column"]) for n in result["notes"]] == [(2, "demographics_consent")]
