"""GraphQL enums of opportunities (apart from schema/opportunities.py, so annotations can name
them)."""

from __future__ import annotations

from backend.opportunities.models import FORMATS, KINDS
from backend.opportunities.service import AUDIENCES
from schema.enums import _enum

OpportunityKind = _enum("OpportunityKind", KINDS, "What kind of development opportunity it is.")
OpportunityFormat = _enum("OpportunityFormat", FORMATS, "Online, in person or blended.")
OpportunityAudience = _enum(
    "OpportunityAudience",
    AUDIENCES,
    "Who sees it: one ORGANISATION's members, a CHAPTER's members, or the whole NETWORK.",
)
