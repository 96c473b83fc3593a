"""A round over an imported CSV cohort: the file is imported first, all or nothing."""

from __future__ import annotations

import json

from sqlmodel import select, update

from backend.db import utcnow
from backend.members.models import Member
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_organiser
from tests.web.conftest import csrf_token, error_summary, log_in
from tests.web.test_rounds_pages import inline_jobs, round_id_of  # noqa: F401 - fixture

HEADER = (
    "member_id,name,email,organisation,region,role_family,band,profession,management_years,"
    "seeking_mentor,mentor_capacity,skills_sought,skills_offered,meeting_format,"
    "outside_organisation_only,priority_access"
)


def cohort_file(*, bad_band: bool = False) -> bytes:
    rows = [
        "C1,Cara Mentee,cara@example.nhs.uk,Riverside Trust,London,administration,"
        f"{'11' if bad_band else '4'},non-clinical,1,yes,0,quality-improvement,,either,no,yes",
        "C2,Dev Mentee,dev@example.nhs.uk,Riverside Trust,London,administration,3,"
        "non-clinical,0,yes,0,,,remote,yes,no",
        "C3,Eve Mentor,eve@example.nhs.uk,Hillside Trust,London,operational-management,8a,"
        "non-clinical,12,no,2,,quality-improvement,either,no,no",
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def post_round(client, data: bytes, name: str = "Admin staff cohort"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/organise/rounds")
    return client.post(
        "/organise/rounds",
        data={
            "csrf_token": token,
            "name": name,
            "cohort": "csv",
            "respond_days": "7",
            "seed": "0",
        },
        files={"cohort_file": ("cohort.csv", data, "text/csv")},
    )


def test_a_csv_cohort_is_imported_and_only_its_mentees_are_matched(
    client,
    session,
    inline_jobs,  # noqa: F811
):
    organiser = make_organiser(session, band="8b")
    session.commit()
    log_in(client, organiser.email)

    response = post_round(client, cohort_file())

    assert response.status_code == 303, error_summary(response.text)
    session.expire_all()
    first = session.get(MatchingRound, round_id_of(response))
    # Imported, not joined: nobody in the file is matched until they accept their invitation.
    assert first.cohort == "members" and first.status == "ready"
    assert session.exec(select(MatchProposal)).all() == []
    page = " ".join(client.get(f"/organise/rounds/{first.id}").text.split())
    assert "2 members have not accepted their invitation yet" in page

    # They join (the invitation link confirms the address); the same file makes a new round.
    session.execute(
        update(Member).where(Member.external_id.is_not(None)).values(email_verified_at=utcnow())
    )
    session.commit()
    response = post_round(client, cohort_file(), name="Admin staff cohort, again")
    assert response.status_code == 303, error_summary(response.text)
    round_id = round_id_of(response)
    session.expire_all()
    matching_round = session.get(MatchingRound, round_id)
    assert matching_round.cohort == "members" and matching_round.status == "ready"
    assert "not_joined" in matching_round.summary and '"not_joined": 0' in matching_round.summary
    mentees = {
        m.external_id
        for m in session.exec(
            select(Member).join(MatchProposal, MatchProposal.mentee_id == Member.id)
        ).all()
    }
    assert mentees == {"C1", "C2"}


def test_a_bad_cohort_file_imports_nothing_and_names_the_row(client, session):
    organiser = make_organiser(session, band="8b")
    session.commit()
    log_in(client, organiser.email)

    response = post_round(client, cohort_file(bad_band=True))

    assert response.status_code == 400
    assert "nothing was imported" in response.text
    assert "band" in response.text
    session.expire_all()
    assert session.exec(select(Member).where(Member.external_id.is_not(None))).all() == []
    assert session.exec(select(MatchingRound)).all() == []


def test_a_cohort_is_imported_by_the_chunked_import_job(
    client,
    session,
    monkeypatch,
    inline_jobs,  # noqa: F811
):
    from backend.members import importing
    from backend.members.import_models import MemberImport

    monkeypatch.setattr(importing, "WRITE_CHUNK", 1)  # one row per transaction
    organiser = make_organiser(session, band="8b")
    session.commit()
    log_in(client, organiser.email)

    response = post_round(client, cohort_file())

    assert response.status_code == 303, error_summary(response.text)
    session.expire_all()
    [done] = session.exec(select(MemberImport)).all()
    assert (done.status, done.rows_written, done.created, done.created_by_id) == (
        "done",
        3,
        3,
        organiser.id,
    )
    matching_round = session.get(MatchingRound, round_id_of(response))
    assert len(json.loads(matching_round.cohort_ids)) == 2


def test_a_wrong_round_setting_is_named_before_the_cohort_is_imported(client, session):
    organiser = make_organiser(session, band="8b")
    session.commit()
    log_in(client, organiser.email)

    response = post_round(client, cohort_file(), name=" ")

    assert response.status_code == 400
    assert "Give the round a name" in response.text
    session.expire_all()
    assert session.exec(select(Member).where(Member.external_id.is_not(None))).all() == []


def test_a_round_that_learns_from_outcomes_says_so_on_its_page(
    client,
    session,
    inline_jobs,  # noqa: F811
):
    from tests.rounds.test_learning import history

    history(session, hidden_rule=True)
    organiser = make_organiser(session, band="8b")
    session.commit()
    log_in(client, organiser.email)
    token = csrf_token(client, "/organise/rounds")

    response = client.post(
        "/organise/rounds",
        data={
            "csrf_token": token,
            "name": "Learning round",
            "cohort": "seeking",
            "respond_days": "7",
            "seed": "0",
            "learn_from_outcomes": "yes",
        },
    )

    assert response.status_code == 303, error_summary(response.text)
    page = client.get(response.headers["location"]).text
    assert "Score used" in page and "Learned model used" in page
