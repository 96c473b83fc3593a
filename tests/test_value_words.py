"""Every enumeration value, named for people through the one function (issue 15 item 5).

Each value of each enumeration the platform has (the GraphQL enums are built from all of them,
plus the fixed vocabularies and the skills framework) goes through ``vocabulary.humanise``; the
rules below catch "People and hr", "Nhs england", "Non binary" and "16 24" coming back.
"""

from __future__ import annotations

import enum
import re

import pytest

import schema.enums as graphql_enums
import vocabulary
from backend.organisations.models import ORGANISATION_STATUSES, ORGANISATION_TYPES
from vocabulary import band_label, humanise

ACRONYMS = ("NHS", "HR", "IT", "ICB", "QI", "VSM", "LGBTQ")
# Whole lower-case words that are allowed: everything else in a label is plain English.
PROPER_NOUNS = (
    "Agenda for Change",
    "Healthcare Leadership Model",
    *(word for region in vocabulary.REGIONS for word in region.split() if word != "and"),
)


def _every_value() -> list[tuple[str, str]]:
    values: list[tuple[str, str]] = []
    for name in dir(vocabulary):
        collection = getattr(vocabulary, name)
        if name.isupper() and isinstance(collection, tuple) and name not in {"SKILLS", "BANDS"}:
            values += [(name, v) for v in collection if isinstance(v, str)]
    values += [("SKILLS", skill_id) for skill_id in vocabulary.SKILL_IDS]
    values += [("ORGANISATION_TYPES", v) for v in ORGANISATION_TYPES]
    values += [("ORGANISATION_STATUSES", v) for v in ORGANISATION_STATUSES]
    for name in dir(graphql_enums):
        graphql_type = getattr(graphql_enums, name)
        definition = getattr(graphql_type, "__strawberry_definition__", None)
        if isinstance(graphql_type, type) and issubclass(graphql_type, enum.Enum) and definition:
            values += [(name, member.value) for member in graphql_type if name != "Band"]
    return sorted(set(values))


EVERY_VALUE = _every_value()


def test_every_enumeration_is_covered() -> None:
    kinds = {kind for kind, _ in EVERY_VALUE}
    for kind in (
        "REGIONS",
        "ROLE_FAMILIES",
        "PROFESSIONS",
        "SKILLS",
        "GENDERS",
        "AGE_BANDS",
        "ETHNICITIES",
        "WIDENING_CATEGORIES",
        "ORGANISATION_TYPES",
        "MentorshipStatus",
        "MentorRequestStatus",
        "MentorshipOutcome",
        "MatchingRoundStatus",
        "ProposedMatchStatus",
        "NotificationKind",
    ):
        assert kind in kinds
    assert len(EVERY_VALUE) > 150


@pytest.mark.parametrize(("kind", "value"), EVERY_VALUE)
def test_every_value_reads_as_plain_english(kind: str, value: str) -> None:
    label = humanise(value)
    assert label, (kind, value)
    assert "_" not in label and "-" not in label.replace("Non-", "").replace("Self-", "").replace(
        "under-represented", ""
    ).replace("Under-represented", ""), (kind, value, label)
    assert "  " not in label and label == label.strip(), (kind, value, label)
    assert label[0].isupper() or label[0].isdigit(), (kind, value, label)
    for acronym in ACRONYMS:
        # An acronym never appears in lower or title case as a word of its own.
        for wrong in (acronym.lower(), acronym.title()):
            if wrong != acronym:
                assert not re.search(rf"\b{wrong}\b", label), (kind, value, label)
    # Sentence case: after the first word, only acronyms and proper nouns keep capitals.
    rest = label
    for noun in PROPER_NOUNS:
        rest = rest.replace(noun, "")
    for word in rest.split()[1:]:
        assert word == word.lower() or word.isupper(), (kind, value, label)
    assert not re.search(r"\d \d", label), (kind, value, label)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("people-and-hr", "People and HR"),
        ("non-clinical", "Non-clinical"),
        ("non-binary", "Non-binary"),
        ("16-24", "16 to 24"),
        ("65+", "65 and over"),
        ("nhs-england", "NHS England"),
        ("nhs_england", "NHS England"),
        ("ended_early", "Ended early"),
        ("agenda-for-change-band", "Agenda for Change band"),
        ("digital-and-data", "Digital and data"),
        ("quality-improvement", "Quality improvement"),
        ("performance-measurement", "Performance measurement and analysis"),
        ("lgbtq-plus", "LGBTQ+"),
        ("under-represented-ethnic-group", "Under-represented ethnic group"),
        ("integrated-care-board", "Integrated care board"),
        ("in-person", "In person"),
        ("prefer-not-to-say", "Prefer not to say"),
        ("North East and Yorkshire", "North East and Yorkshire"),
        ("East of England", "East of England"),
        ("self-described", "Self-described"),
        ("vsm", "VSM"),
        ("it-and-data", "IT and data"),
        ("icb", "ICB"),
        ("qi-lead", "QI lead"),
    ],
)
def test_known_cases(value: str, expected: str) -> None:
    assert humanise(value) == expected


def test_bands_read_as_bands() -> None:
    assert [band_label(b) for b in ("2", "8a", "VSM")] == [
        "Band 2",
        "Band 8a",
        "Very senior manager (VSM)",
    ]
    assert all(band_label(b).startswith(("Band ", "Very senior")) for b in vocabulary.BANDS)
