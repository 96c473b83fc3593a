"""GraphQL enums of the self-assessment (apart from schema/assessments.py, so annotations
can name them)."""

from __future__ import annotations

from backend.assessments.models import DIMENSION_IDS, LEVELS, OCCASIONS
from schema.enums import _enum

LeadershipDimension = _enum(
    "LeadershipDimension",
    DIMENSION_IDS,
    "A dimension of the Healthcare Leadership Model (its value is also a skill's id).",
)
LeadershipLevel = _enum(
    "LeadershipLevel",
    tuple(level.id for level in LEVELS),
    "How far a member rates themselves on a dimension: ESSENTIAL (1) to EXEMPLARY (4).",
)
SelfAssessmentOccasion = _enum(
    "SelfAssessmentOccasion",
    OCCASIONS,
    "Why it was taken: at the START or END of a mentorship, or by OWN_CHOICE.",
)
