"""The members CSV import names organisations against the register: by ODS code or by name
(however spaced or cased, or a name merged into another), and an unknown name is kept as an
"other" organisation for an admin to match, with a note; the row is imported, never rejected."""

from __future__ import annotations

from sqlmodel import select

from backend.members.models import Member
from backend.organisations import register
from backend.organisations.models import Organisation
from tests.factories import make_member, make_organisation
from tests.members.test_importing import by_external_id, members_csv, row, run


def test_rows_name_the_register_by_code_or_name_and_unknown_names_wait(session):  # type: ignore[no-untyped-def]
    admin = make_member(session, organisation="NHS England", roles=("admin",))
    leeds = make_organisation(
        session, name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8", status="register"
    )
    bradford = make_organisation(
        session, name="Bradford Teaching Hospitals NHS Foundation Trust", status="register"
    )
    typo = make_organisation(session, name="Bradford Teaching Hosp")
    register.merge(session=session, admin=admin, organisation_id=typo.id, into_id=bradford.id)
    session.commit()

    result = run(
        session,
        members_csv(
            row("M1", organisation="RR8"),
            row("M2", organisation="rr8"),
            row("M3", organisation="leeds teaching  HOSPITALS nhs trust"),
            row("M4", organisation="Bradford Teaching Hosp"),
            row("M5", organisation="Wharfe Valley Hospice"),
            row("M6", organisation="wharfe valley hospice"),
        ),
    )

    assert result.ok and result.created == 6
    assert {by_external_id(session, m).organisation_id for m in ("M1", "M2", "M3")} == {leeds.id}
    assert by_external_id(session, "M4").organisation_id == bradford.id
    hospice = session.exec(
        select(Organisation).where(Organisation.name == "Wharfe Valley Hospice")
    ).one()
    assert hospice.status == "other" and result.organisations_created == 1
    assert by_external_id(session, "M6").organisation_id == hospice.id
    [note] = result.notes
    assert (note.line, note.column) == (6, "organisation")
    assert "not in the organisation register" in note.reason
    assert session.exec(select(Member).where(Member.organisation_id == typo.id)).all() == []


def test_without_a_register_new_names_are_not_noted(session):  # type: ignore[no-untyped-def]
    result = run(session, members_csv(row("M1", organisation="Wharfe Valley Hospice")))
    assert result.ok and result.organisations_created == 1 and result.notes == []
