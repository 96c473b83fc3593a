"""Erasure provably erases: after it, no cell of any table holds the member's email or name.

One member is given every kind of data the platform holds (requests sent and received,
mentorships and their agreements, session logs, feedback, posts, comments, reactions, reports,
follows, circles, pairings, notifications to and about them, queued and sent emails, throttle
rows, diversity answers, consents, access tokens, sessions, email links, rounds and proposals,
imports naming them), and others interact with them. After erasure every column of every table
of the live database (reflected, so the full-text tables and anything added later are included)
is read and searched for the email, its hash, the name and each part of the name.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from backend.accounts import service as accounts
from backend.accounts.models import LoginThrottle
from backend.community import service as community
from backend.errors import Invalid
from backend.london import london_today
from backend.members.models import Member
from backend.mentoring import service as mentoring
from backend.notifications import service as notifications
from backend.privacy import service as privacy
from backend.privacy import widening
from tests.factories import (
    PASSWORD,
    make_access_token,
    make_circle,
    make_comment,
    make_email_token,
    make_exposure,
    make_feedback,
    make_follow,
    make_member,
    make_member_import,
    make_mentoring_session,
    make_mentorship,
    make_message,
    make_message_report,
    make_message_thread,
    make_notification,
    make_notification_preference,
    make_organiser,
    make_outbox_email,
    make_peer_pairing,
    make_post,
    make_proposal,
    make_reaction,
    make_report,
    make_round,
    make_user_session,
)
from tests.web.conftest import log_in, post_form

NAME = "Zebedee Quillfeather"
EMAIL = "zebedee.quillfeather@example.nhs.uk"
PARTS = ("Zebedee", "Quillfeather")
NEEDLES = (EMAIL, NAME, *PARTS, accounts.token_hash(EMAIL))
CLIENT = "192.0.2.77"
ERASE = """
mutation($input: EraseMyAccountInput!) {
  eraseMyAccount(input: $input) { __typename }
}
"""


def _searchable(value: object) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").lower()
    return str(value).lower()


def cells_holding(engine: Engine, needles: tuple[str, ...] = NEEDLES) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every cell of every table of the live database holding a
    needle (any letter case): every table the database has, models or not."""
    found: set[tuple[str, str, str]] = set()
    lowered = [n.lower() for n in needles]
    with engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f"SELECT * FROM {quote(table)}"))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    cell = _searchable(value)
                    found.update((table, column, n) for n in lowered if n in cell)
    return found


def _fail_log_in(session: Session, email: str) -> None:
    with pytest.raises(Invalid):
        accounts.log_in(session=session, email=email, password="not it", client=CLIENT)
    session.commit()


@pytest.fixture
def erased_world(session: Session, engine: Engine, mail_dir):  # type: ignore[no-untyped-def]
    """Zebedee with every kind of data, and three members who dealt with them."""
    zeb = make_member(
        session,
        name=NAME,
        email=EMAIL,
        band="7",
        capacity=3,
        bio=f"I am {NAME}; write to {EMAIL}.",
        job_title="Service manager",
        roles=("organiser",),
    )
    ada = make_member(session, name="Ada Lovelace", band="8b", capacity=2, bio=f"Mentor of {NAME}")
    ben = make_member(session, name="Ben Okafor", band="4")
    cal = make_member(session, name="Cal Mendes", band="5")
    organiser = make_organiser(session, name="Olu Organiser", band="8c")
    session.commit()

    # Requests and mentorships through the services, which write the notifications and emails
    # that quote the name ("Zebedee Quillfeather has asked you to be their mentor").
    asked = mentoring.request_mentor(
        session=session, mentee=zeb, mentor_id=ada.id, message=f"Hello, {NAME} here ({EMAIL})"
    )
    mentoring.respond_to_request(session=session, mentor=ada, request_id=asked.id, accept=True)
    declined = mentoring.request_mentor(
        session=session, mentee=ben, mentor_id=zeb.id, message=f"Dear {PARTS[0]}, please?"
    )
    mentoring.respond_to_request(
        session=session,
        mentor=zeb,
        request_id=declined.id,
        accept=False,
        reason=f"{PARTS[0]} is full this term, sorry",
    )
    theirs = mentoring.request_mentor(
        session=session, mentee=cal, mentor_id=zeb.id, message=f"Mr {PARTS[1]}, hello"
    )
    mentoring.respond_to_request(session=session, mentor=zeb, request_id=theirs.id, accept=True)
    [as_mentee] = [
        m for m in mentoring.list_mentorships(session=session, member=zeb) if m.mentee_id == zeb.id
    ]
    mentoring.update_agreement(
        session=session,
        member=ada,
        mentorship_id=as_mentee.id,
        agreement=mentoring.AgreementUpdate(
            goals=f"Help {NAME} lead the rota",
            meeting_rhythm=f"Fortnightly at {PARTS[0]}'s office",
            planned_months=6,
        ),
    )
    mentoring.log_session(
        session=session,
        member=ada,
        mentorship_id=as_mentee.id,
        log=mentoring.SessionLog(
            held_on=london_today(), duration_minutes=45, notes=f"{NAME} ({EMAIL}) did well"
        ),
    )
    make_feedback(session, mentorship=as_mentee, author_role="mentor", text=f"{NAME} grew a lot")
    ended = make_mentorship(
        session, mentor=ben, mentee=zeb, status="completed", end_reason=f"{NAME} moved on"
    )
    make_mentoring_session(session, mentorship=ended, notes=f"Met {PARTS[1].upper()} today")
    # Messages: theirs (with their name), the other side's quoting them, a report of theirs.
    talk = make_message_thread(session, mentorship=as_mentee)
    theirs = make_message(session, thread=talk, author=zeb, body=f"Call me: {EMAIL}, {NAME}")
    quoting = make_message(session, thread=talk, author=ada, body=f"Thanks {NAME}")
    make_message_report(session, message=quoting, reporter=zeb, reason=f"{NAME} asked me not to")
    make_message_report(session, message=theirs, reporter=ada, reason=f"{PARTS[0]} overshares")

    # Community: posts, comments, reactions, reports, follows, circles, pairings.
    own = make_post(session, author=zeb, title=f"{NAME}'s rota tips", body=f"Signed, {NAME}")
    about = make_post(
        session, author=ada, title=f"Thanks {PARTS[0]}", body=f"Ask {EMAIL} about rotas"
    )
    community.add_comment(session=session, author=ada, post_id=own.id, body=f"Great, {PARTS[0]}!")
    make_comment(session, post=about, author=zeb, body=f"My pleasure - {NAME}")
    make_reaction(session, post=about, member=zeb)
    make_reaction(session, post=own, member=ada)
    make_report(session, reporter=cal, post=own, reason=f"{NAME} posted a phone number")
    make_report(session, reporter=zeb, post=about, reason="Names me")
    community.follow(session=session, follower=zeb, member_id=ada.id)
    make_follow(session, follower=ben, followed=zeb)
    make_circle(session, name=f"{PARTS[0]}'s circle", members=[zeb, ada], created_by=organiser)
    make_peer_pairing(session, first=zeb, second=cal)

    # Notifications to and about them; preferences; emails queued, sent and in the mail folder.
    make_notification(session, member=zeb, title="Your mentorship started", body="With Ada")
    make_notification(
        session, member=cal, kind="community", title=f"{NAME} followed you", body=f"{EMAIL}"
    )
    make_notification_preference(session, member=zeb, kind="mentorship", mode="digest")
    make_outbox_email(session, to=EMAIL, subject=f"Hello {NAME}", body="Your week")
    make_outbox_email(
        session, to=ada.email, subject=f"{NAME} wrote", body=f"Reply to {EMAIL}", sent=True
    )
    make_outbox_email(session, to=ben.email, subject="News", body=f"{PARTS[1]} joined")
    session.commit()
    notifications.deliver_pending(session=session)
    accounts.request_password_reset(session=session, email=EMAIL, client=CLIENT)
    session.commit()
    notifications.deliver_pending(session=session)

    # Accounts: sessions, email links, access tokens, throttle rows keyed by email and its hash.
    make_user_session(session, member=zeb, user_agent=f"{NAME}'s laptop")
    make_email_token(session, member=zeb, purpose="verify")
    make_access_token(session, member=zeb, name=f"{PARTS[0]} reporting script")
    _fail_log_in(session, EMAIL)
    _fail_log_in(session, ada.email)  # Ada's rows must survive

    # Diversity answers and consent; rounds and proposals; imports naming them.
    privacy.record_demographics(
        session=session,
        member=zeb,
        answers=privacy.DemographicAnswers(ethnicity="asian", gender="man", age_band="35-44"),
        consent=True,
    )
    widening.set_widening_access(
        session=session, member=zeb, category="first-in-family-into-management", consent=True
    )
    spring = make_round(session, organiser=zeb, name=f"{NAME}'s spring round", summary=NAME)
    make_proposal(
        session, matching_round=spring, mentee=ben, mentor=zeb, reasons=f"{NAME} shares skills"
    )
    make_proposal(
        session,
        matching_round=make_round(session, organiser=organiser, name="Autumn"),
        mentee=zeb,
        mentor=ada,
        status="declined",
        decline_reason=f"{PARTS[0]} said no",
    )
    make_exposure(session, mentor=zeb)
    row = f"{EMAIL},{NAME},Leeds Teaching Hospitals NHS Trust\n"
    make_member_import(
        session,
        created_by=organiser,
        data=f"email,name,organisation\n{row}".encode(),
        invited_by=NAME,
        errors=f'[{{"row": 2, "email": "{EMAIL}"}}]',
        rejects_csv=f"email,name,problem\n{EMAIL},{NAME},bad band\n",
        summary=f'{{"last": "{NAME}"}}',
    )
    make_member_import(session, created_by=zeb, data=None, status="done", invited_by=NAME)
    session.commit()
    return zeb, ada, ben, cal


def test_after_erasure_no_cell_of_any_table_holds_the_email_or_the_name(
    session, engine, erased_world, mail_dir
):
    zeb, ada, _ben, cal = erased_world
    before = cells_holding(engine)
    held_in = {table for table, _column, _needle in before}
    # The search can find them: the seeding reached the tables that quote others.
    assert {"notification", "outbox_email", "community_post", "mentor_request"} <= held_in
    assert {"mentorship", "login_throttle", "member_import", "matching_round"} <= held_in
    assert {"message", "message_report"} <= held_in
    assert any(table.startswith("member_fts") for table in held_in)  # full-text index
    assert any(EMAIL in p.read_text() or NAME in p.read_text() for p in mail_dir.glob("*.eml"))

    zeb_id = zeb.id
    assert session.get(widening.WideningAccessClaim, zeb_id) is not None
    privacy.erase_my_account(session=session, member=zeb, password=PASSWORD, confirm=True)
    session.commit()

    assert cells_holding(engine) == set()
    assert session.get(widening.WideningAccessClaim, zeb_id) is None
    assert [p.name for p in mail_dir.glob("*.eml") if EMAIL in p.read_text()] == []
    assert [p.name for p in mail_dir.glob("*.eml") if NAME in p.read_text()] == []
    # Others keep their rows, without the name: the notification is Cal's still.
    [note] = session.exec(
        select(notifications.Notification).where(
            notifications.Notification.member_id == cal.id,
            notifications.Notification.kind == "community",
        )
    ).all()
    assert note.title == "A former member followed you"
    keys = set(session.exec(select(LoginThrottle.key)).all())
    assert ada.email in keys and any(k.startswith("PAIR ") for k in keys)
    assert session.get(Member, ada.id) is not None


def _throttle_rows_of_the_email(session: Session) -> list[str]:
    session.expire_all()
    pair_prefix = f"PAIR {accounts.token_hash(EMAIL)}"
    keys = session.exec(select(LoginThrottle.key)).all()
    return [k for k in keys if k == EMAIL or k.startswith(pair_prefix)]


def test_erasing_on_the_page_leaves_nothing_and_brings_no_throttle_row_back(
    client, session, engine, erased_world
):
    log_in(client, EMAIL)  # clears this client's rows; the other client's pair row stays
    assert _throttle_rows_of_the_email(session)
    wrong = post_form(client, "/my-data/erase", {"password": "not it", "confirm": "yes"})
    assert wrong.status_code == 400

    erased = post_form(client, "/my-data/erase", {"password": PASSWORD, "confirm": "yes"})

    assert erased.status_code == 303
    assert _throttle_rows_of_the_email(session) == []
    assert cells_holding(engine) == set()
    # Signing in again is refused like any unknown address; that attempt (not the erasure)
    # counts against the address, as it would for any address typed at the log-in page.
    assert client.get("/my-data").status_code in (302, 303, 401)


def test_erasing_through_graphql_leaves_nothing(run, session, engine, erased_world):
    zeb, *_ = erased_world

    done = run(ERASE, {"input": {"password": PASSWORD, "confirm": True}}, member=zeb)

    assert done["data"]["eraseMyAccount"]["__typename"] == "EraseMyAccountSuccess"
    assert _throttle_rows_of_the_email(session) == []
    assert cells_holding(engine) == set()
