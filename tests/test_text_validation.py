"""backend/text.py: the one set of rules for text, and the check of every text column at flush."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend import text
from backend.errors import FieldErrors
from backend.members.models import Member
from backend.notifications.models import Notification
from backend.organisations.models import Organisation
from tests.factories import make_member


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\ud800b", text.NOT_READABLE),
        ("a\udc00", text.NOT_READABLE),
        ("Sam\x00Jones", text.CONTROL_CHARACTER),
        ("\x1b[31mred", text.CONTROL_CHARACTER),
        ("caf\x85e", text.CONTROL_CHARACTER),  # C1 controls: a sign of mis-decoded text
        ("mis\x9cdecoded", text.CONTROL_CHARACTER),
        ("line one\r\nline two\ttabbed", None),
        ("Zoë Ó Súilleabháin 😀", None),
    ],
)
def test_unreadable_text_is_named(value, message):
    assert text.unreadable(value) == message


def test_one_line_fields_refuse_breaks_and_tabs_but_multi_line_ones_keep_them():
    for value in ["Eve\r\nBcc: x@example.com", "Eve\tSmith", "Eve\u2028Smith"]:
        assert text.text_problem(value, label="full name", one_line=True) == (
            "Full name must be on one line (no line breaks or tabs)."
        )
        assert text.text_problem(value, label="bio") is None
    assert text.text_problem("  ", label="full name", required=True) == "Enter your full name."
    assert text.text_problem("x" * 201, label="job title", maximum=200) == (
        "Job title must be 200 characters or fewer."
    )


def test_limits_come_from_the_columns():
    assert text.column_length(Member, "name") == 200
    assert text.column_length(Notification, "title") == 200
    with pytest.raises(TypeError):
        text.column_length(Member, "bio")  # a Text column has no width


def test_fit_shortens_with_an_ellipsis_on_one_line():
    assert text.fit("Short", limit=10) == "Short"
    assert text.fit("Reply from\r\nEve\t\x00 Smith", limit=50) == "Reply from Eve Smith"
    fitted = text.fit("a" * 300, limit=200)
    assert len(fitted) == 200 and fitted.endswith(text.ELLIPSIS)
    assert text.fit("a\ud800b", limit=10) == "a b"


def test_walk_names_every_string_with_its_path():
    found = text.unreadable_fields({"input": {"name": "a\ud800b", "skills": ["ok", "x\x00"]}})
    assert set(found) == {"input.name", "input.skills[1]"}
    assert found["input.name"].startswith("The field input.name contains a broken character")


def test_no_row_is_written_with_text_its_column_cannot_hold(session):
    member = make_member(session, name="Priya Shah")

    bad_rows = [
        (lambda: Organisation(name="O" * 201, key="o" * 201), "name"),
        (lambda: Organisation(name="Eve\r\nTrust", key="eve trust"), "name"),
        (lambda: Organisation(name="a\ud800b", key="ab"), "name"),
    ]
    for build, field in bad_rows:
        session.add(build())
        with pytest.raises(FieldErrors) as refused:
            session.flush()
        assert field in refused.value.errors
        session.rollback()

    member = session.get(Member, member.id)
    member.job_title = "Manager\r\nX-Injected: yes"
    with pytest.raises(FieldErrors) as refused:
        session.commit()
    assert refused.value.errors == {
        "job_title": "Job title must be on one line (no line breaks or tabs)."
    }
    session.rollback()

    member = session.get(Member, member.id)
    member.bio = "Line one\nLine two\tand a tab"  # multi-line text keeps its breaks
    session.commit()
    session.expire_all()
    assert session.get(Member, member.id).job_title == ""
    assert session.exec(select(Organisation).where(Organisation.key == "ab")).first() is None
