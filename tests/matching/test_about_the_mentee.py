"""Reasons are written to the mentee; organisers read them about the mentee (third person)."""

from __future__ import annotations

import re

import pytest

from matching import rules
from matching.rules import about_the_mentee

SECOND_PERSON = re.compile(r"\b(you|your|yours)\b", re.IGNORECASE)
UNMATCHED = [value for name, value in vars(rules).items() if name.startswith("UNMATCHED_")]


@pytest.mark.parametrize("reason", UNMATCHED)
def test_every_unmatched_reason_reads_about_the_mentee(reason):
    assert isinstance(reason, str)
    assert not SECOND_PERSON.search(about_the_mentee(reason)), about_the_mentee(reason)


@pytest.mark.parametrize(
    ("to_the_mentee", "about_them"),
    [
        ("1 band above you", "1 band above the mentee"),
        ("covers the skill you seek: Finance", "covers the skill the mentee seeks: Finance"),
        ("covers 2 of your 3 skills sought: A, B", "covers 2 of their 3 skills sought: A, B"),
        (
            rules.UNMATCHED_CAPACITY,
            "the mentors who could take them were all needed for other mentees",
        ),
        (rules.UNMATCHED_NO_HIGHER_BAND, "no mentor is at a higher band than theirs"),
        (
            "In return you offer Budgeting, which they want to learn",
            "In return the mentee offers Budgeting, which the mentor wants to learn",
        ),
        ("works in another organisation", "works in another organisation"),
    ],
)
def test_reasons_read_in_the_third_person_with_verbs_that_agree(to_the_mentee, about_them):
    assert about_the_mentee(to_the_mentee) == about_them
