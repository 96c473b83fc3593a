"""GraphQL enums of programmes (apart from schema/enums.py, so annotations can name them)."""

from __future__ import annotations

from backend.programmes.models import (
    APPLICATION_ROLES,
    APPLICATION_STATUSES,
    PAIRING_MODES,
    PROGRAMME_STATUSES,
    PROGRAMME_TYPES,
    QUESTION_KINDS,
)
from backend.programmes.service import DECISIONS
from schema.enums import _enum

ProgrammeType = _enum("ProgrammeType", PROGRAMME_TYPES, "One-to-one, reciprocal or group.")
ProgrammePairing = _enum(
    "ProgrammePairing",
    PAIRING_MODES,
    "How pairs form: REQUESTS (members ask mentors), ROUND (the organisers match), or BOTH.",
)
ProgrammeStatus = _enum("ProgrammeStatus", PROGRAMME_STATUSES, "DRAFT, PUBLISHED or ENDED.")
ProgrammeQuestionKind = _enum("ProgrammeQuestionKind", QUESTION_KINDS, "An answer's shape.")
ProgrammeApplicationStatus = _enum(
    "ProgrammeApplicationStatus", APPLICATION_STATUSES, "Where an application stands."
)
ProgrammeRole = _enum("ProgrammeRole", APPLICATION_ROLES, "Applying as a mentee or a mentor.")
ProgrammeDecision = _enum(
    "ProgrammeDecision", DECISIONS, "An organiser's decision on an application."
)
