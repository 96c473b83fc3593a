"""GraphQL enums of surveys (apart from schema/surveys.py, so annotations can name them)."""

from __future__ import annotations

from backend.surveys.models import SURVEY_QUESTION_KINDS, SURVEY_STAGES, SURVEY_STATUSES
from schema.enums import _enum

SurveyStage = _enum(
    "SurveyStage",
    SURVEY_STAGES,
    "When a survey reaches each mentorship: START (a week in), MIDDLE (half-way through its "
    "planned months) or END (when it ends, including at the programme's end).",
)
SurveyStatus = _enum("SurveyStatus", SURVEY_STATUSES, "DRAFT, PUBLISHED (frozen) or CLOSED.")
SurveyQuestionKind = _enum(
    "SurveyQuestionKind",
    SURVEY_QUESTION_KINDS,
    "AGREEMENT (5 points: 1 strongly disagree to 5 strongly agree), RECOMMEND (0-10), "
    "CHOICE (one of the options) or TEXT (free text).",
)
