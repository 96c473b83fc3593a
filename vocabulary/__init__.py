"""The fixed vocabularies of the platform (domain.md, members-csv.md).

They live here, at the bottom of the dependency graph, so that the matcher, the importer and the
backend all agree on one spelling of every value.
"""

from __future__ import annotations

import re

REGIONS: tuple[str, ...] = (
    "North East and Yorkshire",
    "North West",
    "Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)

# Seniority order used across the platform (domain.md). Band 1 is closed to new entrants.
BANDS: tuple[str, ...] = ("2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9", "VSM")
BAND_RANK: dict[str, int] = {band: rank for rank, band in enumerate(BANDS)}

ROLE_FAMILIES: tuple[str, ...] = (
    "operational-management",
    "clinical-management",
    "nursing-leadership",
    "finance",
    "people-and-hr",
    "workforce-and-rostering",
    "quality-and-governance",
    "digital-and-data",
    "estates-and-facilities",
    "strategy-and-transformation",
    "primary-care-management",
    "administration",
)

PROFESSIONS: tuple[str, ...] = (
    "doctor",
    "nurse-or-midwife",
    "allied-health-professional",
    "healthcare-scientist",
    "pharmacist",
    "non-clinical",
)

MEETING_FORMATS: tuple[str, ...] = ("remote", "in-person", "either")

MAX_MENTOR_CAPACITY = 10
MAX_GOALS_LENGTH = 2000

# The skills framework: (id, name, group). Ids are stable slugs and part of the import format.
SKILL_GROUPS: tuple[str, ...] = (
    "Skills the interviews found missing",
    "Core management skills",
    "Healthcare Leadership Model",
)
SKILLS: tuple[tuple[str, str, str], ...] = (
    ("collaborative-leadership", "Collaborative leadership", SKILL_GROUPS[0]),
    ("performance-measurement", "Performance measurement and analysis", SKILL_GROUPS[0]),
    ("quality-improvement", "Quality improvement", SKILL_GROUPS[0]),
    ("technology-implementation", "Technology appraisal and implementation", SKILL_GROUPS[0]),
    ("budget-management", "Budget management", SKILL_GROUPS[1]),
    ("team-leadership", "Team leadership", SKILL_GROUPS[1]),
    ("rota-management", "Rota management", SKILL_GROUPS[1]),
    ("people-management", "People management", SKILL_GROUPS[1]),
    ("operational-planning", "Operational planning", SKILL_GROUPS[1]),
    ("project-management", "Project management", SKILL_GROUPS[1]),
    ("strategic-planning", "Strategic planning", SKILL_GROUPS[1]),
    ("governance-and-risk", "Governance and risk", SKILL_GROUPS[1]),
    ("stakeholder-engagement", "Stakeholder engagement", SKILL_GROUPS[1]),
    ("change-management", "Change management", SKILL_GROUPS[1]),
    ("career-progression", "Career progression", SKILL_GROUPS[1]),
    ("board-readiness", "Board readiness", SKILL_GROUPS[1]),
    ("inspiring-shared-purpose", "Inspiring shared purpose", SKILL_GROUPS[2]),
    ("leading-with-care", "Leading with care", SKILL_GROUPS[2]),
    ("evaluating-information", "Evaluating information", SKILL_GROUPS[2]),
    ("connecting-our-service", "Connecting our service", SKILL_GROUPS[2]),
    ("sharing-the-vision", "Sharing the vision", SKILL_GROUPS[2]),
    ("engaging-the-team", "Engaging the team", SKILL_GROUPS[2]),
    ("holding-to-account", "Holding to account", SKILL_GROUPS[2]),
    ("developing-capability", "Developing capability", SKILL_GROUPS[2]),
    ("influencing-for-results", "Influencing for results", SKILL_GROUPS[2]),
)
SKILL_IDS: tuple[str, ...] = tuple(skill_id for skill_id, _, _ in SKILLS)
SKILL_NAMES: dict[str, str] = {skill_id: name for skill_id, name, _ in SKILLS}

# Special-category data (members-csv.md). The matcher never reads these.
ETHNICITIES: tuple[str, ...] = ("asian", "black", "mixed", "white", "other", "prefer-not-to-say")
GENDERS: tuple[str, ...] = ("woman", "man", "non-binary", "self-described", "prefer-not-to-say")
DISABILITY_ANSWERS: tuple[str, ...] = ("yes", "no", "prefer-not-to-say")
AGE_BANDS: tuple[str, ...] = (
    "16-24",
    "25-34",
    "35-44",
    "45-54",
    "55-64",
    "65+",
    "prefer-not-to-say",
)

# Widening-access priority (issue 12 item 4): the reason a member gives when asking for it,
# consented special-category data. The matcher never sees the category, only a yes/no flag;
# each programme chooses which categories count in it.
WIDENING_CATEGORIES: tuple[str, ...] = (
    "first-in-family-into-management",
    "bands-2-to-4",
    "under-represented-ethnic-group",
    "disabled",
    "lgbtq-plus",
    "career-break-or-caring",
    "other-under-represented-group",
)


# How people read a value: the one place that names every enumeration value on a page, in a CSV
# header, an email or a GraphQL description (issue 15 item 5). Acronyms stay upper case, proper
# nouns keep their capitals, ranges read "16 to 24", and a prefix such as "non-" keeps its hyphen.
ACRONYMS: frozenset[str] = frozenset(
    {"nhs", "hr", "it", "icb", "ics", "qi", "vsm", "ods", "csv", "gp", "lgbtq", "ahp"}
)
PROPER_NOUNS: dict[str, str] = {
    "england": "England",
    "london": "London",
    "yorkshire": "Yorkshire",
    "midlands": "Midlands",
    "agenda for change": "Agenda for Change",
}
HYPHENATED_PREFIXES: tuple[str, ...] = ("non", "self", "co", "re")
HYPHENATED_WORDS: dict[str, str] = {"under represented": "under-represented"}
SPECIAL_LABELS: dict[str, str] = {
    "lgbtq-plus": "LGBTQ+",
    "65+": "65 and over",
    "in-person": "In person",
}
_RANGE = re.compile(r"^(\d+)-(\d+)$")


def humanise(value: str) -> str:
    """Name a value for people: ``people-and-hr`` reads ``People and HR``, ``16-24`` reads
    ``16 to 24``, ``non-binary`` reads ``Non-binary``, ``nhs_england`` reads ``NHS England``."""
    value = str(value).strip()
    if value in SPECIAL_LABELS:
        return SPECIAL_LABELS[value]
    if value in SKILL_NAMES:
        return SKILL_NAMES[value]
    if not value:
        return value
    if match := _RANGE.match(value):
        return f"{match[1]} to {match[2]}"
    words = [w for w in re.split(r"[-_\s]+", value) if w]
    out: list[str] = []
    for word in words:
        if out and out[-1].lower() in HYPHENATED_PREFIXES and len(out) == 1:
            out[-1] = f"{out[-1]}-{word.lower()}"
            continue
        out.append(word.upper() if word.lower() in ACRONYMS else word)
    text = " ".join(out)
    for spaced, hyphenated in HYPHENATED_WORDS.items():
        text = re.sub(rf"\b{spaced}\b", hyphenated, text, flags=re.IGNORECASE)
    lowered = text.lower()
    for plain, proper in PROPER_NOUNS.items():
        lowered_index = lowered.find(plain)
        while lowered_index != -1:
            end = lowered_index + len(plain)
            before_ok = lowered_index == 0 or not lowered[lowered_index - 1].isalnum()
            after_ok = end == len(lowered) or not lowered[end].isalnum()
            if before_ok and after_ok:
                text = text[:lowered_index] + proper + text[end:]
            lowered_index = lowered.find(plain, end)
    return text[:1].upper() + text[1:]


def band_label(band: str) -> str:
    """How a band reads for people: 'Band 8a', 'Very senior manager (VSM)'."""
    return "Very senior manager (VSM)" if band == "VSM" else f"Band {band}"
