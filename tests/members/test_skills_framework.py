"""The skills framework kept by admins: add, rename, retire. A retired skill stays on the
records that name it but leaves the choices (profile, offer, requests) and the suggestions."""

from __future__ import annotations

import pytest

from backend.audit import actions as a
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid
from backend.matchmaking import frames
from backend.members import service as member_service
from backend.mentoring import service as mentoring
from backend.skills import framework
from backend.skills import service as skill_service
from backend.skills.models import Skill
from tests.factories import audit_events, make_member, make_mentor, make_organiser

GROUP = "Core management skills"


@pytest.fixture
def admin(session):  # type: ignore[no-untyped-def]
    return make_member(session, name="Ada Admin", roles=("admin",))


def test_only_admins_change_the_framework(session):  # type: ignore[no-untyped-def]
    organiser = make_organiser(session)
    with pytest.raises(Forbidden):
        framework.add_skill(session=session, admin=organiser, name="Rota design", group=GROUP)
    with pytest.raises(Forbidden):
        framework.rename_skill(
            session=session, admin=organiser, skill_id="team-leadership", name="Leading"
        )
    with pytest.raises(Forbidden):
        framework.retire_skill(session=session, admin=organiser, skill_id="team-leadership")
    assert session.get(Skill, "rota-design") is None
    assert session.get(Skill, "team-leadership").retired_at is None


def test_adding_and_renaming_a_skill(session, admin):  # type: ignore[no-untyped-def]
    added = framework.add_skill(session=session, admin=admin, name="  Rota   design ", group=GROUP)
    assert (added.id, added.name, added.group) == ("rota-design", "Rota design", GROUP)
    assert "rota-design" in {
        s.id for _, skills in skill_service.grouped(session=session) for s in skills
    }
    with pytest.raises(Conflict):
        framework.add_skill(session=session, admin=admin, name="ROTA DESIGN", group=GROUP)
    with pytest.raises(Invalid) as error:
        framework.add_skill(session=session, admin=admin, name="Rostering", group="Made up")
    assert error.value.field == "group"
    with pytest.raises(Invalid) as error:
        framework.add_skill(session=session, admin=admin, name="", group=GROUP)
    assert error.value.field == "name"

    member = make_member(session, skills_sought=("rota-design",))
    renamed = framework.rename_skill(
        session=session, admin=admin, skill_id="rota-design", name="Rota planning"
    )
    assert renamed.id == "rota-design" and renamed.name == "Rota planning"
    assert member_service.skills_of(session=session, member_id=member.id)["sought"] == [
        "rota-design"
    ]
    with pytest.raises(Conflict):
        framework.rename_skill(
            session=session, admin=admin, skill_id="rota-design", name="Team leadership"
        )
    assert [e.details for e in audit_events(session, a.SKILL_ADDED)] == ['{"skill":"rota-design"}']
    assert len(audit_events(session, a.SKILL_RENAMED)) == 1


def test_a_retired_skill_stays_on_records_but_leaves_the_choices(session, admin):  # type: ignore[no-untyped-def]
    holder = make_member(session, skills_sought=("budget-management", "team-leadership"))
    newcomer = make_member(session)
    mentor = make_mentor(session, skills_offered=("budget-management", "quality-improvement"))
    framework.retire_skill(session=session, admin=admin, skill_id="budget-management")
    with pytest.raises(Conflict):
        framework.retire_skill(session=session, admin=admin, skill_id="budget-management")

    choices = {s.id for _, skills in skill_service.grouped(session=session) for s in skills}
    assert "budget-management" not in choices and "team-leadership" in choices
    assert "budget-management" in {s.id for s in skill_service.list_skills(session=session)}
    # The holder keeps it, and may save their profile with it still there...
    member_service.update_profile(
        session=session,
        member=holder,
        update=member_service.ProfileUpdate(skills_sought=["budget-management", "team-leadership"]),
    )
    assert (
        "budget-management"
        in member_service.skills_of(session=session, member_id=holder.id)["sought"]
    )
    # ...but nobody chooses it anew: not on a profile, nor on a request.
    with pytest.raises(FieldErrors) as error:
        member_service.update_profile(
            session=session,
            member=newcomer,
            update=member_service.ProfileUpdate(skills_sought=["budget-management"]),
        )
    assert "No longer in the skills framework" in error.value.errors["skills_sought"]
    with pytest.raises(Invalid, match="No longer in the skills framework"):
        mentoring.request_mentor(
            session=session,
            mentee=newcomer,
            mentor_id=mentor.id,
            message="Could you help me with budgets?",
            skills=["budget-management"],
        )
    # Suggestions and rounds no longer see it.
    profile = frames.profile_of(session=session, member_id=mentor.id)
    assert profile is not None and profile["skills_offered"] == ("quality-improvement",)
    assert len(audit_events(session, a.SKILL_RETIRED)) == 1
