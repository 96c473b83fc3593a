"""GraphQL enums built from the shared vocabulary, so there is one spelling of every value."""

from __future__ import annotations

import enum
import re
from typing import Any

import strawberry

from backend.insights.service import DIMENSION_KEYS
from backend.members.console import REACTIVATE_REASONS, SUSPEND_REASONS
from backend.members.models import ROLES, VISIBILITY
from backend.mentoring.models import (
    BOOKING_STATUSES,
    END_CATEGORIES,
    GOAL_STATUSES,
    MENTORSHIP_STATUSES,
    REQUEST_STATUSES,
    SESSION_FORMATS,
)
from backend.mentoring.service import OUTCOMES
from backend.notifications.models import DELIVERY_MODES, NOTIFICATION_KINDS
from backend.organisations.models import ORGANISATION_TYPES
from backend.rounds.models import COHORTS, PROPOSAL_STATUSES, ROUND_STATUSES
from vocabulary import (
    AGE_BANDS,
    BANDS,
    DISABILITY_ANSWERS,
    ETHNICITIES,
    GENDERS,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    humanise,
)


def _name(value: str, *, prefix: str = "") -> str:
    """The GraphQL name of a vocabulary value: 'North East and Yorkshire' -> NORTH_EAST_AND_..."""
    return prefix + re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()


def _python_enum(name: str, members: list[tuple[str, str]]) -> Any:
    """A Python enum whose members come from data (the vocabulary, the services' constants).

    Each value is described by the words the pages use for it (``vocabulary.humanise``: the
    one function that names values), so an API user reads "People and HR", not only
    PEOPLE_AND_HR. Any to the type checker, which only knows enums whose members are written
    out; annotations elsewhere may then name the GraphQL enums built from it.
    """
    return enum.Enum(
        name,
        [
            (key, strawberry.enum_value(value, description=humanise(value)))
            for key, value in members
        ],
    )


def _enum(name: str, values: tuple[str, ...], description: str, *, prefix: str = "") -> Any:
    python_enum = _python_enum(name, [(_name(value, prefix=prefix), value) for value in values])
    return strawberry.enum(python_enum, description=description)


Region = _enum("Region", REGIONS, "An NHS England region.")
Band = strawberry.enum(
    _python_enum("Band", [("VSM" if b == "VSM" else f"BAND_{b.upper()}", b) for b in BANDS]),
    description="An Agenda for Change pay band (BAND_2 to BAND_9), or VSM.",
)
RoleFamily = _enum("RoleFamily", ROLE_FAMILIES, "The kind of management work a member does.")
Profession = _enum("Profession", PROFESSIONS, "A member's professional background.")
MeetingFormat = _enum("MeetingFormat", MEETING_FORMATS, "How a member prefers to meet.")
ContactVisibility = _enum(
    "ContactVisibility",
    VISIBILITY,
    "Who may see a member's email address and organisation: other members, or nobody.",
)
Role = _enum("Role", ("member", *ROLES), "What a member may do on the network.")
SuspensionReason = _enum(
    "SuspensionReason", tuple(SUSPEND_REASONS), "Why an admin suspended an account."
)
ReactivationReason = _enum(
    "ReactivationReason", tuple(REACTIVATE_REASONS), "Why an admin reactivated an account."
)
OrganisationType = _enum("OrganisationType", ORGANISATION_TYPES, "The kind of NHS body.")
MentorRequestDirection = _enum(
    "MentorRequestDirection", ("sent", "received"), "Requests you sent, or requests sent to you."
)
MentorRequestStatus = _enum(
    "MentorRequestStatus",
    REQUEST_STATUSES,
    "Where a request stands: OPEN until accepted, declined, withdrawn, expired or released.",
)
MentorshipStatus = _enum("MentorshipStatus", MENTORSHIP_STATUSES, "Active, or how it ended.")
MentorshipOutcome = _enum("MentorshipOutcome", OUTCOMES, "How a mentorship ends.")
SessionBookingStatus = _enum(
    "SessionBookingStatus", BOOKING_STATUSES, "Times proposed, a session booked, or closed."
)
SessionFormat = _enum("SessionFormat", SESSION_FORMATS, "How the pair meet for a session.")
GoalStatus = _enum("GoalStatus", GOAL_STATUSES, "Where a goal stands.")
EndReasonCategory = _enum(
    "EndReasonCategory", END_CATEGORIES, "Why a mentorship ended early, as organisers count it."
)
MentorshipRole = _enum("MentorshipRole", ("mentor", "mentee"), "Your side of a mentorship.")
NotificationKind = _enum("NotificationKind", NOTIFICATION_KINDS, "What a notification is about.")
DeliveryMode = _enum(
    "DeliveryMode", DELIVERY_MODES, "How a kind of notification is emailed: at once, weekly, never."
)
MatchingRoundStatus = _enum(
    "MatchingRoundStatus",
    ROUND_STATUSES,
    "QUEUED, RUNNING, READY (for review), PUBLISHED (offers sent) or FAILED.",
)
ProposedMatchStatus = _enum(
    "ProposedMatchStatus",
    PROPOSAL_STATUSES,
    "PROPOSED (in review), UNMATCHED, REMOVED, OFFERED, ACCEPTED, DECLINED, EXPIRED or "
    "WITHDRAWN (closed: the mentee started a mentorship another way).",
)
RoundCohort = _enum(
    "RoundCohort", COHORTS, "SEEKING: everyone seeking a mentor; MEMBERS: the members chosen."
)

InsightDimension = strawberry.enum(
    _python_enum("InsightDimension", [(key.upper(), key) for key in DIMENSION_KEYS]),
    description="One of the fixed breakdowns (there are no arbitrary filter combinations).",
)


def _demographic_enum(name: str, values: tuple[str, ...], description: str) -> Any:
    def label(value: str) -> str:
        text = value.replace("+", "_plus").replace("-", "_to_" if value[0].isdigit() else "_")
        text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
        return f"AGE_{text}" if text[0].isdigit() else text

    python_enum = _python_enum(name, [(label(value), value) for value in values])
    return strawberry.enum(python_enum, description=description)


Ethnicity = _demographic_enum(
    "Ethnicity", ETHNICITIES, "Broad ethnic group (ONS), or prefer not to say."
)
Gender = _demographic_enum("Gender", GENDERS, "Gender, or prefer not to say.")
DisabilityAnswer = _demographic_enum(
    "DisabilityAnswer", DISABILITY_ANSWERS, "Disabled: yes, no, or rather not say."
)
AgeBand = _demographic_enum("AgeBand", AGE_BANDS, "Age band, or prefer not to say.")


def to_enum(enum_type: Any, value: str | None) -> Any:
    """The enum member for a stored value (None stays None)."""
    return None if value is None else enum_type(value)


def from_enum(value: Any) -> Any:
    """The stored value of an enum member (None and UNSET pass through)."""
    return value.value if isinstance(value, enum.Enum) else value
