"""Bad input of every kind gets a clear error page with status 400: never a 500, nothing written."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.notifications.models import OutboxEmail
from tests.factories import make_member
from tests.web.conftest import GOOD_SIGN_UP, csrf_token, error_summary, log_in

BAD_SIGN_UPS = {
    "everything missing": ({}, {"email", "password", "name", "organisation", "region"}),
    "email missing": ({"email": ""}, {"email"}),
    "email malformed": ({"email": "sam at nhs"}, {"email"}),
    "email huge": ({"email": "a" * 100_000 + "@example.nhs.uk"}, {"email"}),
    "password short": ({"password": "short"}, {"password"}),
    "password common": ({"password": "password1234"}, {"password"}),
    "password huge": ({"password": "x1" * 50_000}, {"password"}),
    "name huge": ({"name": "N" * 200_000}, {"name"}),
    "name with a line break": ({"name": "Sam\r\nJones"}, {"name"}),
    "organisation huge": ({"organisation": "O" * 5_000}, {"organisation"}),
    "unknown region": ({"region": "Wales"}, {"region"}),
    "unknown band": ({"band": "10"}, {"band"}),
    "unknown role family": ({"role_family": "astronaut"}, {"role_family"}),
    "unknown profession": ({"profession": "<b>wizard</b>"}, {"profession"}),
    "years are words": ({"management_years": "three"}, {"management_years"}),
    "years are a fraction": ({"management_years": "2.5"}, {"management_years"}),
    "years negative": ({"management_years": "-1"}, {"management_years"}),
    "years enormous": ({"management_years": "9" * 400}, {"management_years"}),
    "years empty": ({"management_years": ""}, {"management_years"}),
}


def _members(session) -> list[Member]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(session.exec(select(Member)).all())


@pytest.mark.parametrize("case", list(BAD_SIGN_UPS))
def test_bad_sign_up_is_explained_and_writes_nothing(client, session, case):
    changes, expected_fields = BAD_SIGN_UPS[case]
    data = {} if case == "everything missing" else {**GOOD_SIGN_UP, **changes}

    response = client.post("/sign-up", data={"csrf_token": csrf_token(client, "/sign-up"), **data})

    assert response.status_code == 400
    assert "<title>Error: " in response.text
    assert error_summary(response.text)
    for field in expected_fields:
        assert f'href="#{field}"' in response.text, field
        assert f'id="{field}-error"' in response.text, field
    assert _members(session) == []
    assert session.exec(select(OutboxEmail)).all() == []
    assert 'name="password" type="password"' in response.text
    assert GOOD_SIGN_UP["password"] not in response.text  # never echoed back


@pytest.mark.parametrize(
    "body",
    [
        b"name=%FF%FE%FD&email=%C3%28@example.nhs.uk",  # percent-encoded bytes that are not UTF-8
        b"name=\xff\xfe&email=\xc3\x28",  # raw bytes that are not UTF-8
        b"name=a%ED%A0%80b",  # "a\ud800b": a lone surrogate written as if it were UTF-8
    ],
)
def test_broken_utf8_in_a_form_gets_a_clear_error(client, session, body):
    token = csrf_token(client, "/sign-up").encode()
    response = client.post(
        "/sign-up",
        content=b"csrf_token=" + token + b"&" + body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "Some of the text sent could not be read" in response.text
    assert _members(session) == []


def test_a_complete_form_with_one_broken_field_writes_nothing(client, session):
    from urllib.parse import urlencode

    token = csrf_token(client, "/sign-up")
    body = urlencode({"csrf_token": token, **GOOD_SIGN_UP}).replace("Sam+Jones", "Sam+%E9")
    response = client.post(
        "/sign-up",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert _members(session) == []


def test_garbage_that_is_not_form_encoding_is_explained(client, session):
    token = csrf_token(client, "/sign-up").encode()
    response = client.post(
        "/sign-up",
        content=b"csrf_token=" + token + b"&%%%&&&==",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert error_summary(response.text)
    assert _members(session) == []


def test_a_body_far_too_large_for_a_form_is_refused(client, session):
    token = csrf_token(client, "/sign-up")
    response = client.post(
        "/sign-up", data={"csrf_token": token, **GOOD_SIGN_UP, "name": "N" * 2_000_000}
    )
    assert response.status_code == 413
    assert _members(session) == []


def test_a_multipart_sign_up_is_handled_like_a_form(client, session):
    response = client.post(
        "/sign-up",
        data={"csrf_token": csrf_token(client, "/sign-up"), **GOOD_SIGN_UP, "band": "99"},
        files={"unexpected": ("x.bin", b"\x00\xff" * 10, "application/octet-stream")},
    )
    assert response.status_code == 400
    assert _members(session) == []


def _profile_form(**changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "name": "Priya Shah",
        "job_title": "Service manager",
        "organisation": "Leeds Teaching Hospitals NHS Trust",
        "region": "North East and Yorkshire",
        "role_family": "operational-management",
        "band": "7",
        "profession": "nurse-or-midwife",
        "management_years": "4",
        "bio": "",
        "goals": "",
        "meeting_format": "either",
        "contact_visibility": "members",
        "skills_sought": ["quality-improvement"],
    }
    form.update(changes)
    return form


BAD_PROFILES = {
    "name empty": {"name": "   "},
    "name huge": {"name": "x" * 50_000},
    "bio too long": {"bio": "b" * 4001},
    "goals too long": {"goals": "g" * 2001},
    "unknown band": {"band": "8z"},
    "unknown region": {"region": "Scotland"},
    "unknown meeting format": {"meeting_format": "carrier-pigeon"},
    "unknown visibility": {"contact_visibility": "everyone"},
    "years are words": {"management_years": "lots"},
    "years too many": {"management_years": "61"},
    "unknown skill": {"skills_sought": ["quality-improvement", "juggling"]},
    "too many skills": {
        "skills_sought": [
            "quality-improvement",
            "budget-management",
            "team-leadership",
            "rota-management",
            "people-management",
            "operational-planning",
            "project-management",
            "strategic-planning",
            "governance-and-risk",
            "stakeholder-engagement",
            "change-management",
        ]
    },
    "a field missing": {"region": None},
}


@pytest.mark.parametrize("case", list(BAD_PROFILES))
def test_bad_profile_edit_is_explained_and_nothing_changes(client, session, case):
    member = make_member(session, name="Priya Shah", skills_sought=("team-leadership",))
    log_in(client, member.email)
    form = _profile_form(**BAD_PROFILES[case])
    form = {k: v for k, v in form.items() if v is not None}
    form["bio"] = form["bio"] or "A new bio that must not be saved"

    response = client.post(
        "/profile/edit", data={"csrf_token": csrf_token(client, "/profile/edit"), **form}
    )

    assert response.status_code == 400
    assert "<title>Error: " in response.text
    assert error_summary(response.text)
    session.expire_all()
    saved = session.get(Member, member.id)
    assert saved.name == "Priya Shah" and saved.bio == "" and saved.band == "5"
    assert member_service.skills_of(session=session, member_id=member.id)["sought"] == [
        "team-leadership"
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": "lots"}, "capacity"),
        ({"capacity": "11"}, "capacity"),
        ({"capacity": "-1"}, "capacity"),
        ({"capacity": ""}, "capacity"),
        ({"skills_offered": ["not-a-skill"]}, "skills_offered"),
        ({"skills_offered": []}, "skills_offered"),
        ({"meeting_format": "telepathy"}, "meeting_format"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_bad_mentoring_offer_is_explained_and_nothing_changes(client, session, changes, field):
    member = make_member(session)
    log_in(client, member.email)
    form = {"capacity": "2", "skills_offered": ["quality-improvement"], "meeting_format": "remote"}
    form.update(changes)

    response = client.post(
        "/mentoring-offer", data={"csrf_token": csrf_token(client, "/mentoring-offer"), **form}
    )

    assert response.status_code == 400
    assert f'href="#{field}"' in response.text
    if changes == {"capacity": ""}:  # an empty box asks for the number, never "whole number"
        assert "Enter how many mentees you can take, from 0 to 10." in response.text
    session.expire_all()
    assert session.get(MentoringOffer, member.id) is None


def test_bad_token_name_and_bad_ids_get_clear_pages(client, session):
    member = make_member(session)
    log_in(client, member.email)
    token = csrf_token(client, "/account")

    nameless = client.post("/account/tokens", data={"csrf_token": token, "token_name": "  "})
    huge = client.post("/account/tokens", data={"csrf_token": token, "token_name": "t" * 5000})
    unknown = client.post("/account/tokens/999999/revoke", data={"csrf_token": token})
    enormous = client.post(f"/account/tokens/{'9' * 30}/revoke", data={"csrf_token": token})
    words = client.post("/account/tokens/abc/revoke", data={"csrf_token": token})

    assert nameless.status_code == huge.status_code == 400
    assert 'href="#token_name"' in nameless.text
    assert unknown.status_code == enormous.status_code == words.status_code == 404


@pytest.mark.parametrize(
    "path", ["/members/0", f"/members/{'9' * 40}", "/members/x", "/members/-1"]
)
def test_unknown_member_ids_get_the_not_found_page(client, session, path):
    member = make_member(session)
    log_in(client, member.email)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text


# Text no field may hold, on every kind of form -------------------------------------------------

# (page with the form, path posted to, the form) for a sample of forms, signed in.
SIGNED_IN_FORMS = [
    ("/profile/edit", "/profile/edit", lambda: _profile_form()),
    ("/mentoring-offer", "/mentoring-offer", lambda: {"capacity": "2", "note": "Hi"}),
    ("/account", "/account/tokens", lambda: {"token_name": "Reporting script"}),
    ("/community/posts/new", "/community/posts/new", lambda: {"title": "Rotas", "body": "Plan"}),
]
CONTROL_CHARACTERS = ["a\x00b", "a\x1b[2Jb", "a\x7fb", "a\x9bb"]


def _nothing_new(session, member_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    saved = session.get(Member, member_id)
    return saved.name == "Priya Shah" and saved.bio == "" and saved.job_title == ""


@pytest.mark.parametrize("bad", CONTROL_CHARACTERS)
@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_control_characters_in_any_field_are_refused_naming_it(client, session, bad, multipart):
    member = make_member(session, name="Priya Shah")
    log_in(client, member.email)
    for page, path, form in SIGNED_IN_FORMS:
        data = form()
        field = next(iter(data))
        data[field] = bad
        files = {"unexpected": ("x.txt", b"x", "text/plain")} if multipart else None
        token = csrf_token(client, page)
        response = client.post(path, data={"csrf_token": token, **data}, files=files)

        assert response.status_code == 400, (path, response.text)
        assert "Some of the text sent could not be read" in response.text
        assert f"The {field.replace('_', ' ')} field contains a control character" in response.text
    assert _nothing_new(session, member.id)
    assert session.exec(select(MentoringOffer)).all() == []


def test_a_nul_in_a_sign_up_is_refused_naming_the_field_and_writes_nothing(client, session):
    response = client.post(
        "/sign-up",
        data={"csrf_token": csrf_token(client, "/sign-up"), **GOOD_SIGN_UP, "name": "Sam\x00Jo"},
    )
    assert response.status_code == 400
    assert "The name field contains a control character" in response.text
    assert _members(session) == []
    assert session.exec(select(OutboxEmail)).all() == []


def _multipart(token: str, fields: dict[str, bytes], charset: str = "") -> tuple[bytes, str]:
    boundary = "----peerbridge-test"
    parts = [("csrf_token", token.encode()), *fields.items()]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in parts
    )
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}{charset}"


@pytest.mark.parametrize(
    ("value", "charset"),
    [
        ("Zoë".encode("latin-1"), ""),  # latin-1 bytes: Starlette would store 'ZoÃ«'-like text
        (b"a\xed\xa0\x80b", ""),  # a lone surrogate written as UTF-8-like bytes
        ("Zoë".encode(), "; charset=latin-1"),  # declared as something else
    ],
)
def test_multipart_forms_must_be_utf8_too(client, session, value, charset):
    token = csrf_token(client, "/sign-up")
    fields = {k: v.encode() for k, v in GOOD_SIGN_UP.items()}
    fields["name"] = value
    body, content_type = _multipart(token, fields, charset)

    response = client.post("/sign-up", content=body, headers={"content-type": content_type})

    assert response.status_code == 400
    assert "Some of the text sent could not be read" in response.text
    assert _members(session) == []


def test_a_good_multipart_form_still_signs_up(client, session):
    token = csrf_token(client, "/sign-up")
    fields = {k: v.encode() for k, v in {**GOOD_SIGN_UP, "name": "Zoë Ó Súilleabháin"}.items()}
    body, content_type = _multipart(token, fields)

    response = client.post("/sign-up", content=body, headers={"content-type": content_type})

    assert response.status_code == 303, response.text
    assert [m.name for m in _members(session)] == ["Zoë Ó Súilleabháin"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Sam Jones\r\nBcc: everyone@example.nhs.uk"),
        ("name", "Sam\tJones"),
        ("job_title", "Manager\nX-Injected: yes"),
        ("organisation", "Leeds\u2028Trust"),
    ],
)
def test_one_line_fields_refuse_line_breaks(client, session, field, value):
    response = client.post(
        "/sign-up",
        data={"csrf_token": csrf_token(client, "/sign-up"), **GOOD_SIGN_UP, field: value},
    )
    assert response.status_code == 400
    assert f'href="#{field}"' in response.text
    assert any("must be on one line" in message for message in error_summary(response.text))
    assert _members(session) == []


def test_a_profile_edit_with_a_line_break_in_the_name_changes_nothing(client, session):
    member = make_member(session, name="Priya Shah")
    log_in(client, member.email)
    form = _profile_form(name="Priya\r\nShah", job_title="Lead\nnurse")

    response = client.post(
        "/profile/edit", data={"csrf_token": csrf_token(client, "/profile/edit"), **form}
    )

    assert response.status_code == 400
    assert 'href="#name"' in response.text and 'href="#job_title"' in response.text
    assert _nothing_new(session, member.id)


def test_unreadable_years_are_explained_with_the_other_problems_and_nothing_changes(
    client, session
):
    member = make_member(session, name="Priya Shah")
    log_in(client, member.email)
    form = _profile_form(management_years="lots", band="8z")

    response = client.post(
        "/profile/edit", data={"csrf_token": csrf_token(client, "/profile/edit"), **form}
    )

    assert response.status_code == 400
    assert 'href="#management_years"' in response.text and 'href="#band"' in response.text
    assert "must be a whole number, like 3" in response.text
    session.expire_all()
    assert session.get(Member, member.id).band == "5"
