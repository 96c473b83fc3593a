"""GraphQL enums built from the shared vocabulary, so there is one spelling of every value."""

from __future__ import annotations

import enum
import re
from typing import Any

import strawberry

from backend.members.models import ROLES, VISIBILITY
from backend.mentoring.models import MENTORSHIP_STATUSES, REQUEST_STATUSES
from backend.mentoring.service import OUTCOMES
from backend.notifications.models import DELIVERY_MODES, NOTIFICATION_KINDS
from backend.organisations.models import ORGANISATION_TYPES
from backend.rounds.models import COHORTS, PROPOSAL_STATUSES, ROUND_STATUSES
from vocabulary import BANDS, MEETING_FORMATS, PROFESSIONS, REGIONS, ROLE_FAMILIES


def _name(value: str, *, prefix: str = "") -> str:
    """The GraphQL name of a vocabulary value: 'North East and Yorkshire' -> NORTH_EAST_AND_..."""
    return prefix + re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()


def _enum(name: str, values: tuple[str, ...], description: str, *, prefix: str = "") -> Any:
    python_enum = enum.Enum(name, [(_name(value, prefix=prefix), value) for value in values])  # type: ignore[misc]
    return strawberry.enum(python_enum, description=description)


Region = _enum("Region", REGIONS, "An NHS England region.")
Band = strawberry.enum(
    enum.Enum(  # type: ignore[misc]
        "Band", [("VSM" if b == "VSM" else f"BAND_{b.upper()}", b) for b in BANDS]
    ),
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


def to_enum(enum_type: Any, value: str | None) -> Any:
    """The enum member for a stored value (None stays None)."""
    return None if value is None else enum_type(value)


def from_enum(value: Any) -> Any:
    """The stored value of an enum member (None and UNSET pass through)."""
    return value.value if isinstance(value, enum.Enum) else value
