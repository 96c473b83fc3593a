"""One rule for skills outside the framework, wherever a member chooses skills."""

from __future__ import annotations

import pytest

from backend.community import service as community
from backend.errors import FieldErrors
from backend.mentoring import service as mentoring
from backend.skills import service as skill_service
from tests.factories import make_member


def test_unknown_skills_are_named_and_known_ones_pass(session):
    known = sorted(skill_service.skill_ids(session=session))[:2]

    assert skill_service.unknown_skills(session=session, skills=known) is None
    assert (
        skill_service.unknown_skills(session=session, skills=[*known, "zz-nope", "aa-nope"])
        == "Unknown skill: aa-nope, zz-nope."
    )
    many = [f"x{i}-{'y' * 80}" for i in range(7)]
    problem = skill_service.unknown_skills(session=session, skills=many)
    assert problem is not None and problem.count(", ") == 4 and "y" * 61 not in problem


def test_posts_and_requests_name_the_unknown_skill(session):
    ann = make_member(session, name="Ann")
    helper = make_member(session, name="Bob", organisation="Other Trust", band="8b", capacity=2)

    with pytest.raises(FieldErrors) as raised:
        community.create_post(session=session, author=ann, title="T", body="B", skills=["nope"])
    assert raised.value.errors == {"skills": "Unknown skill: nope."}
    with pytest.raises(FieldErrors) as raised:
        mentoring.request_mentor(
            session=session, mentee=ann, mentor_id=helper.id, message="Hi", skills=["nope"]
        )
    assert raised.value.errors == {"skills": "Unknown skill: nope."}
