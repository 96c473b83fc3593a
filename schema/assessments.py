"""The Healthcare Leadership Model self-assessment: the dimensions, your own sittings, the
skills it suggests, and taking it. Only the signed-in member ever reads their sittings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from backend.assessments import service as assessments
from backend.assessments.models import DIMENSIONS, LEVELS
from backend.errors import Invalid
from backend.members import service as member_service
from backend.skills import service as skill_service
from schema import errors
from schema.assessment_enums import LeadershipDimension, LeadershipLevel, SelfAssessmentOccasion
from schema.context import Info
from schema.enums import from_enum, to_enum
from schema.ids import decode
from schema.inputs import check_lists
from schema.permissions import IsAuthenticated
from schema.reference import Skill

_LEVEL_VALUE = {level.id: level.value for level in LEVELS}
_LEVEL_ID = {level.value: level.id for level in LEVELS}
_DIMENSION_NAME = {d.id: d.name for d in DIMENSIONS}


@strawberry.type(description="A dimension, described in plain words as the form shows it.")
class SelfAssessmentDimension:
    dimension: LeadershipDimension
    name: str
    description: str


@strawberry.type(description="A level, described in plain words as the form shows it.")
class SelfAssessmentLevel:
    level: LeadershipLevel
    value: int = strawberry.field(description="1 (essential) to 4 (exemplary).")
    name: str
    description: str


@strawberry.type(description="The reference for the form: the nine dimensions, four levels.")
class SelfAssessmentReference:
    dimensions: list[SelfAssessmentDimension]
    levels: list[SelfAssessmentLevel]


@strawberry.type(description="Your level on one dimension.")
class SelfAssessmentRating:
    dimension: LeadershipDimension
    level: LeadershipLevel
    value: int = strawberry.field(description="1 (essential) to 4 (exemplary).")


@strawberry.type(description="One sitting of your self-assessment (only you can read it).")
class SelfAssessment:
    id: strawberry.ID
    occasion: SelfAssessmentOccasion
    mentorship_id: strawberry.ID | None = strawberry.field(
        description="The mentorship it starts or ends (null when taken by choice)."
    )
    taken_at: datetime
    ratings: list[SelfAssessmentRating]

    @classmethod
    def from_view(cls, view: assessments.AssessmentView) -> SelfAssessment:
        """The GraphQL view of a sitting."""
        mentorship = (
            strawberry.ID(str(relay.GlobalID("Mentorship", str(view.mentorship_id))))
            if view.mentorship_id is not None
            else None
        )
        return cls(
            id=strawberry.ID(str(view.id)),
            occasion=to_enum(SelfAssessmentOccasion, view.occasion),
            mentorship_id=mentorship,
            taken_at=view.taken_at,
            ratings=[
                SelfAssessmentRating(
                    dimension=to_enum(LeadershipDimension, dimension),
                    level=to_enum(LeadershipLevel, _LEVEL_ID[value]),
                    value=value,
                )
                for dimension, value in view.ratings.items()
            ],
        )


@strawberry.type(description="A dimension you rated among your lowest, as a skill to seek.")
class SuggestedSkill:
    skill_id: strawberry.ID = strawberry.field(description="The skill's id (the dimension's).")
    name: str
    level: LeadershipLevel
    already_sought: bool = strawberry.field(description="Already among your skills sought.")


def _suggestions(info: Info) -> list[SuggestedSkill]:
    return [
        SuggestedSkill(
            skill_id=strawberry.ID(s.id),
            name=s.name,
            level=to_enum(LeadershipLevel, _LEVEL_ID[s.level]),
            already_sought=s.already_sought,
        )
        for s in assessments.suggested_skills(
            session=info.context.session, member=info.context.member
        )
    ]


@strawberry.input(description="Your level on one dimension.")
class SelfAssessmentRatingInput:
    dimension: LeadershipDimension
    level: LeadershipLevel


@strawberry.input(description="All nine dimensions, each once; a mentorship for START or END.")
class TakeSelfAssessmentInput:
    ratings: list[SelfAssessmentRatingInput]
    occasion: SelfAssessmentOccasion = strawberry.field(
        default_factory=lambda: SelfAssessmentOccasion("own_choice")
    )
    mentorship_id: strawberry.ID | None = None


@strawberry.type(description="Saved; with the skills it suggests you seek.")
class TakeSelfAssessmentSuccess:
    assessment: SelfAssessment
    suggested_skills: list[SuggestedSkill]


@strawberry.type(description="The suggested skills added to your skills sought.")
class AddSuggestedSkillsSuccess:
    added: list[Skill]
    skills_sought: list[Skill]


TakeSelfAssessmentResult = Annotated[
    TakeSelfAssessmentSuccess | errors.Problem,
    errors.result_named("TakeSelfAssessmentResult", TakeSelfAssessmentSuccess),
]
AddSuggestedSkillsResult = Annotated[
    AddSuggestedSkillsSuccess | errors.Problem,
    errors.result_named("AddSuggestedSkillsResult", AddSuggestedSkillsSuccess),
]


def _ratings(given: list[SelfAssessmentRatingInput]) -> dict[str, int | None]:
    check_lists(ratings=given)
    ratings: dict[str, int | None] = {}
    for rating in given:
        dimension = from_enum(rating.dimension)
        if dimension in ratings:
            raise Invalid(f"Rate {_DIMENSION_NAME[dimension].lower()} once only.", field="ratings")
        ratings[dimension] = _LEVEL_VALUE[from_enum(rating.level)]
    return ratings


def _under_ratings(result: Any) -> Any:
    """An InvalidInput whose fields are dimensions, reported under the input's ``ratings``
    field (each message names its dimension); anything else as it is."""
    if not isinstance(result, errors.InvalidInput):
        return result
    fields = [
        errors.FieldError(
            field="ratings" if e.field in _DIMENSION_NAME else e.field, message=e.message
        )
        for e in result.errors
    ]
    first = fields[0].field if fields else result.field
    return errors.InvalidInput(message=result.message, field=first, errors=fields)


@strawberry.type
class SelfAssessmentQuery:
    """The self-assessment's reference, and your own sittings."""

    @strawberry.field(description="The nine dimensions and four levels, in plain words.")
    def self_assessment_dimensions(self) -> SelfAssessmentReference:
        """The form's reference data."""
        return SelfAssessmentReference(
            dimensions=[
                SelfAssessmentDimension(
                    dimension=to_enum(LeadershipDimension, d.id),
                    name=d.name,
                    description=d.description,
                )
                for d in DIMENSIONS
            ],
            levels=[
                SelfAssessmentLevel(
                    level=to_enum(LeadershipLevel, level.id),
                    value=level.value,
                    name=level.name,
                    description=level.description,
                )
                for level in LEVELS
            ],
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your own self-assessments, oldest first (nobody else can read them).",
    )
    def my_self_assessments(self, info: Info) -> list[SelfAssessment]:
        """The caller's sittings."""
        return [
            SelfAssessment.from_view(view)
            for view in assessments.my_assessments(
                session=info.context.session, member=info.context.member
            )
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Skills to seek from your latest self-assessment: your two or three "
        "lowest-rated dimensions (none before your first).",
    )
    def suggested_skills(self, info: Info) -> list[SuggestedSkill]:
        """Suggestions from the caller's latest sitting."""
        return _suggestions(info)


@strawberry.type
class SelfAssessmentMutation:
    """Taking the self-assessment, and acting on its suggestions."""

    @strawberry.mutation(
        description="Rate yourself on all nine dimensions: by choice, or at the START or END "
        "of one of your mentorships (once each). Never changes your profile."
    )
    def take_self_assessment(
        self, info: Info, input: TakeSelfAssessmentInput
    ) -> TakeSelfAssessmentResult:
        """Record a sitting."""
        context = info.context

        def take() -> TakeSelfAssessmentSuccess:
            member_service.require_member(context.member)
            mentorship_id = (
                decode(input.mentorship_id, type_name="Mentorship", field="mentorshipId")
                if input.mentorship_id is not None
                else None
            )
            view = assessments.take(
                session=context.session,
                member=context.member,
                sitting=assessments.TakeAssessment(
                    ratings=_ratings(input.ratings),
                    occasion=from_enum(input.occasion),
                    mentorship_id=mentorship_id,
                ),
            )
            return TakeSelfAssessmentSuccess(
                assessment=SelfAssessment.from_view(view), suggested_skills=_suggestions(info)
            )

        return _under_ratings(errors.outcome(take))

    @strawberry.mutation(
        description="Add the skills your latest self-assessment suggests to your skills sought."
    )
    def add_suggested_skills(self, info: Info) -> AddSuggestedSkillsResult:
        """Add the suggestions to the profile."""
        context = info.context

        def add() -> AddSuggestedSkillsSuccess:
            added = assessments.add_suggested_skills(session=context.session, member=context.member)
            member = member_service.require_member(context.member)
            sought = member_service.skills_of(session=context.session, member_id=member.id)[
                "sought"
            ]
            skills = {
                s.id: s for s in skill_service.list_skills(session=context.session, retired=True)
            }
            return AddSuggestedSkillsSuccess(
                added=[Skill.from_model(skills[i]) for i in added if i in skills],
                skills_sought=[Skill.from_model(skills[i]) for i in sought if i in skills],
            )

        return errors.outcome(add)
