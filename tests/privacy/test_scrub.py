"""The scrubber erasure uses: which columns it reads, and what it does to a text."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Enum, Integer, LargeBinary, MetaData, String, Table, Text
from sqlmodel import AutoString, select

from backend.models import metadata
from backend.notifications.models import Notification
from backend.privacy import service as privacy
from backend.privacy.scrub import Person, Scrubber, scrubbed_columns
from backend.sqltypes import table_of
from tests.factories import PASSWORD, make_member, make_notification

ZEB = Person(email="zebedee.quillfeather@example.nhs.uk", name="Zebedee Quillfeather")


def test_every_text_like_column_of_every_table_is_read_whatever_its_sql_type():
    scrubbed = {(t.name, c.name) for t, c, _kind in scrubbed_columns(metadata.sorted_tables)}

    # The columns the old scrub skipped (SQLModel's AutoString is neither String nor Text).
    assert {
        ("community_post", "title"),
        ("mentorship", "end_reason"),
        ("mentor_request", "decline_reason"),
        ("notification", "title"),
        ("outbox_email", "subject"),
        ("member_import", "data"),
        ("member_import", "invited_by"),
    } <= scrubbed
    auto = {
        (t.name, c.name)
        for t in metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, AutoString) and not c.primary_key and not c.foreign_keys
    }
    assert auto - scrubbed <= {("member", "name"), ("member", "email"), ("organisation", "name")}


def test_a_table_added_later_is_covered_without_being_listed():
    extra = Table(
        "future_thing",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("label", AutoString(50)),
        Column("note", Text),
        Column("state", Enum("a", "b", name="future_state")),
        Column("payload", JSON),
        Column("file", LargeBinary),
        Column("count", Integer),
    )
    audit = Table("audit_event", MetaData(), Column("id", Integer, primary_key=True))
    audit.append_column(Column("detail", String(100)))

    kinds = {c.name: kind for _t, c, kind in scrubbed_columns([extra, audit])}

    assert kinds == {
        "label": "text",
        "note": "text",
        "state": "text",
        "payload": "json",
        "file": "bytes",
    }


def test_the_email_and_name_go_in_any_case_and_name_parts_as_words():
    scrubber = Scrubber(ZEB)

    assert scrubber.text("Zebedee Quillfeather has asked you") == "A former member has asked you"
    assert scrubber.text("Mail ZEBEDEE.QUILLFEATHER@example.nhs.uk now") == (
        "Mail a former member now"
    )
    assert scrubber.text("Thanks Zebedee! QUILLFEATHER wins.") == (
        "Thanks a former member! A former member wins."
    )
    assert scrubber.text("Zebedees and Quillfeathery") == "Zebedees and Quillfeathery"
    assert scrubber.any({"who": ["Zebedee Quillfeather"], "n": 1}) == {
        "who": ["A former member"],
        "n": 1,
    }
    assert scrubber.any(b"email\nzebedee.quillfeather@example.nhs.uk\n") == (
        b"email\na former member\n"
    )


def test_other_peoples_names_that_share_a_part_are_kept():
    scrubber = Scrubber(ZEB, protected=("Zebedee Patel", "Quillfeather Surgery"))

    assert scrubber.text("Zebedee Patel and Zebedee met at Quillfeather Surgery") == (
        "Zebedee Patel and a former member met at Quillfeather Surgery"
    )


def test_a_one_word_or_short_name_is_only_looked_for_whole():
    assert Person(email="al@example.org", name="Al Li").parts == ()
    assert Scrubber(Person(email="al@example.org", name="Al Li")).text("Al said") == "Al said"
    assert Person(email="cher@example.org", name="Cher").parts == ()


def test_erasure_keeps_another_members_name_that_shares_a_part(session):
    zeb = make_member(session, name=ZEB.name, email=ZEB.email)
    other = make_member(session, name="Zebedee Patel")
    mine = make_notification(session, member=other, title="Zebedee Patel, Zebedee replied")
    notification_id = mine.id
    session.commit()

    privacy.erase_my_account(session=session, member=zeb, password=PASSWORD, confirm=True)
    session.commit()
    session.expire_all()

    title = session.exec(
        select(table_of(Notification).c.title).where(table_of(Notification).c.id == notification_id)
    ).one()
    assert title == "Zebedee Patel, a former member replied"
    assert session.get(type(other), other.id).name == "Zebedee Patel"
