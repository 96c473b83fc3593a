"""The seam to the matcher's opportunity recommender (matching/opportunities.py): the member's
facts as the matcher reads them, its eligibility rule, and the ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd
from sqlmodel import Session

from backend.assessments import service as assessments
from backend.members import service as member_service
from backend.members.models import Member
from matching import opportunities as recommender
from matching.opportunities import OPPORTUNITY_COLUMNS, Recommendation, Seeker


def profile_facts(member: Member) -> Seeker:
    """The member's band, region, role family and profession (enough for eligibility)."""
    return Seeker(
        band=member.band,
        region=member.region,
        role_family=member.role_family,
        profession=member.profession,
    )


def seeker_of(*, session: Session, member: Member) -> Seeker:
    """Everything recommendations read: profile facts, skills sought, the gaps of the latest
    self-assessment (its lowest-rated dimensions) and the member's goals."""
    sought = member_service.skills_of(session=session, member_id=member.id)["sought"]
    gaps = [s.id for s in assessments.suggested_skills(session=session, member=member)]
    return Seeker(
        band=member.band,
        region=member.region,
        role_family=member.role_family,
        profession=member.profession,
        skills_sought=tuple(sought),
        gaps=tuple(gaps),
        goals=member.goals or "",
    )


def eligible(rules: Mapping[str, Sequence[str]], member: Member) -> bool:
    """The matcher's rule: may ``member`` apply, given who it is open to?"""
    return recommender.eligible(rules, profile_facts(member))


def eligible_rows(rules: Mapping[str, Sequence[str]], people: pd.DataFrame) -> np.ndarray:
    """The same rule for a population at once (a frame with ``band``, ``region``,
    ``role_family`` and ``profession`` columns): True where that member may apply."""
    return recommender.eligible_rows(rules, people)


def rank(
    *,
    session: Session,
    member: Member,
    rows: Sequence[Mapping[str, object]],
    first: int,
    today: date,
) -> list[Recommendation]:
    """The matcher's ranking of ``rows`` (opportunity-frame rows) for ``member``."""
    frame = pd.DataFrame(list(rows), columns=list(OPPORTUNITY_COLUMNS))
    return recommender.recommend(
        frame, seeker_of(session=session, member=member), today=today, first=first
    )


def reason_sentence(reasons: Sequence[str]) -> str:
    """Reasons as one sentence, as the matcher writes it."""
    return recommender.reason_sentence(reasons)
