"""Checks of profile fields, shared by sign-up, profile edits and imports.

Each check returns a user-facing message or None, so that a form can show every problem at once.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from backend import text
from backend.members.models import Member
from backend.organisations.models import Organisation
from vocabulary import (
    BANDS,
    MAX_GOALS_LENGTH,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
)

MAX_NAME = text.column_length(Member, "name")
MAX_JOB_TITLE = text.column_length(Member, "job_title")
MAX_BIO = 4000  # a Text column: the limit is the product's, not the database's
MAX_ORGANISATION = text.column_length(Organisation, "name")


def normalise_email(raw: str) -> tuple[str | None, str | None]:
    """(folded email, None) when valid, else (None, message)."""
    text = (raw or "").strip()
    if not text:
        return None, "Enter your email address."
    if len(text) > 254:
        return None, "Email address must be 254 characters or fewer."
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None, "Enter an email address in the correct format, like name@example.nhs.uk."
    return result.normalized.lower(), None


def text_problem(
    value: str, *, label: str, maximum: int, required: bool, one_line: bool = False
) -> str | None:
    """Why a free-text field is wrong, or None (the rules of ``backend.text``)."""
    return text.text_problem(
        value, label=label, maximum=maximum, required=required, one_line=one_line
    )


def line_problem(value: str, *, label: str, maximum: int, required: bool) -> str | None:
    """Why a one-line field (a name, a title) is wrong, or None."""
    return text.text_problem(value, label=label, maximum=maximum, required=required, one_line=True)


def choice_problem(value: str, *, label: str, allowed: tuple[str, ...]) -> str | None:
    """Why an enumerated field is wrong, or None."""
    if not value:
        return f"Select your {label}."
    if value not in allowed:
        shown = ", ".join(allowed)
        return f"'{value[:40]}' is not a valid {label}. Choose one of: {shown}."
    return None


def region_problem(value: str) -> str | None:
    """Why a region is wrong, or None."""
    return choice_problem(value, label="region", allowed=REGIONS)


def band_problem(value: str) -> str | None:
    """Why a band is wrong, or None."""
    return choice_problem(value, label="band", allowed=BANDS)


def role_family_problem(value: str) -> str | None:
    """Why a role family is wrong, or None."""
    return choice_problem(value, label="role family", allowed=ROLE_FAMILIES)


def profession_problem(value: str) -> str | None:
    """Why a profession is wrong, or None."""
    return choice_problem(value, label="profession", allowed=PROFESSIONS)


def meeting_format_problem(value: str) -> str | None:
    """Why a meeting format is wrong, or None."""
    return choice_problem(value, label="meeting format", allowed=MEETING_FORMATS)


def management_years_problem(value: object) -> str | None:
    """Why years of management experience are wrong, or None."""
    if value == "":
        return "Enter your years of management experience, like 3 (0 if none)."
    if isinstance(value, bool) or not isinstance(value, int):
        return "Years of management experience must be a whole number, like 3."
    if not 0 <= value <= 60:
        return "Years of management experience must be between 0 and 60."
    return None


def goals_problem(value: str) -> str | None:
    """Why goals text is wrong, or None."""
    return text_problem(value, label="goals", maximum=MAX_GOALS_LENGTH, required=False)
