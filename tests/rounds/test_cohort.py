"""A CSV cohort: the file is read once, and every member it imports is in the round."""

from __future__ import annotations

from sqlmodel import select

from backend.members.models import Member
from backend.rounds import service as rounds
from tests.factories import make_organiser, make_skill
from tests.members.test_importing import members_csv, row


def import_cohort(session, organiser, data):  # type: ignore[no-untyped-def]
    import_id = rounds.start_cohort_import(session=session, organiser=organiser, data=data)
    session.commit()
    return rounds.run_cohort_import(import_id=import_id, engine=session.get_bind())


def test_a_row_using_an_organiser_added_skill_is_in_the_cohort(session):
    organiser = make_organiser(session, band="8b")
    # A skill outside the built-in framework (the table holds such skills beside the seeded ones).
    make_skill(session, id="clinical-coding", name="Clinical coding")
    data = members_csv(
        row("A1", skills_sought="clinical-coding"),
        row("A2"),
        row("M1", band="8a", seeking_mentor="no", mentor_capacity="2", skills_sought=""),
    )

    result, cohort = import_cohort(session, organiser, data)

    assert result.ok and result.created == 3
    by_external = {
        m.external_id: m.id
        for m in session.exec(select(Member).where(Member.external_id.is_not(None))).all()
    }
    # Both seeking members are in the round; the mentor joins the network but not the cohort.
    assert cohort == sorted([by_external["A1"], by_external["A2"]])


def test_a_refused_file_gives_no_cohort(session):
    organiser = make_organiser(session, band="8b")

    result, cohort = import_cohort(session, organiser, members_csv(row("A1", band="11")))

    assert not result.ok and cohort == []
