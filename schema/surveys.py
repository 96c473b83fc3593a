"""Surveys: organisers build them per programme and read their results; members answer theirs.
Also the organisers' view of a programme's end-of-mentorship feedback.

Thin: who may see and do what is decided by ``backend.surveys.service`` (an organiser of one
chapter gets NotFound for another chapter's programme; members never see results).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import FieldErrors
from backend.surveys import service as surveys
from backend.surveys.models import Survey as SurveyModel
from backend.surveys.models import SurveyQuestion as QuestionModel
from schema import errors
from schema.context import Info
from schema.enums import from_enum, to_enum
from schema.ids import decode
from schema.inputs import check_lists, check_text
from schema.insights import PublishedCount
from schema.permissions import IsAuthenticated
from schema.survey_enums import SurveyQuestionKind, SurveyStage, SurveyStatus


def _gid(type_name: str, value: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(value))))


@strawberry.type(description="One question of a survey.")
class SurveyQuestion:
    id: strawberry.ID
    position: int
    kind: SurveyQuestionKind
    text: str
    hint: str
    required: bool
    choices: list[str] = strawberry.field(description="For CHOICE; [] otherwise.")

    @classmethod
    def from_model(cls, question: QuestionModel) -> SurveyQuestion:
        """The GraphQL view of a question."""
        return cls(
            id=_gid("SurveyQuestion", question.id),
            position=question.position,
            kind=to_enum(SurveyQuestionKind, question.kind),
            text=question.text,
            hint=question.hint,
            required=question.required,
            choices=question.choice_list,
        )


@strawberry.type(description="A short survey of a programme's mentorships at one stage.")
class Survey:
    id: strawberry.ID
    programme_id: strawberry.ID
    stage: SurveyStage
    title: str
    introduction: str
    status: SurveyStatus
    published_at: datetime | None
    closed_at: datetime | None
    questions: list[SurveyQuestion]

    @classmethod
    def from_model(cls, survey: SurveyModel, questions: list[QuestionModel]) -> Survey:
        """The GraphQL view of a survey with its questions."""
        return cls(
            id=_gid("Survey", survey.id),
            programme_id=_gid("Programme", survey.programme_id),
            stage=to_enum(SurveyStage, survey.stage),
            title=survey.title,
            introduction=survey.introduction,
            status=to_enum(SurveyStatus, survey.status),
            published_at=survey.published_at,
            closed_at=survey.closed_at,
            questions=[SurveyQuestion.from_model(q) for q in questions],
        )


def _survey(info: Info, survey: SurveyModel) -> Survey:
    questions = surveys.questions_of(session=info.context.session, survey_id=survey.id)
    return Survey.from_model(survey, questions)


@strawberry.type(description="A survey waiting for your answers about one of your mentorships.")
class PendingSurvey:
    survey: Survey
    mentorship_id: strawberry.ID
    programme_name: str
    partner_name: str
    my_role: str = strawberry.field(description="mentor or mentee.")
    invited_at: datetime


@strawberry.type(description="One answer and how many gave it (a published count).")
class SurveyResultLine:
    label: str
    count: PublishedCount


@strawberry.type(description="A question's results under disclosure control.")
class SurveyQuestionResult:
    question: SurveyQuestion
    answered: PublishedCount
    distribution: list[SurveyResultLine]
    mean: float | None = strawberry.field(
        description="AGREEMENT: 1-5 from the published counts; null where any is hidden."
    )
    nps: float | None = strawberry.field(
        description="RECOMMEND: % promoters (9-10) less % detractors (0-6); null if hidden."
    )
    nps_groups: list[SurveyResultLine]
    shared_texts: list[str] = strawberry.field(
        description="TEXT: the answers members agreed organisers may read, never with names."
    )


@strawberry.type(description="A survey's results: every count disclosure-controlled.")
class SurveyResults:
    survey: Survey
    responses: PublishedCount
    questions: list[SurveyQuestionResult]


def _lines(lines: list[surveys.Line]) -> list[SurveyResultLine]:
    return [SurveyResultLine(label=x.label, count=PublishedCount.of(x.count)) for x in lines]


def results_view(info: Info, results: surveys.SurveyResults) -> SurveyResults:
    """The GraphQL view of a survey's results."""
    return SurveyResults(
        survey=Survey.from_model(results.survey, [q.question for q in results.questions]),
        responses=PublishedCount.of(results.responses),
        questions=[
            SurveyQuestionResult(
                question=SurveyQuestion.from_model(q.question),
                answered=PublishedCount.of(q.answered),
                distribution=_lines(q.lines),
                mean=q.mean,
                nps=q.nps,
                nps_groups=_lines(q.nps_groups),
                shared_texts=q.texts,
            )
            for q in results.questions
        ],
    )


@strawberry.type(description="One side's words at the end of a mentorship (organisers only).")
class MentorshipFeedbackEntry:
    mentorship_id: strawberry.ID
    mentor_name: str
    mentee_name: str
    author_role: str = strawberry.field(description="mentor or mentee: who wrote it.")
    text: str
    given_at: datetime


@strawberry.type(
    description="A programme's end-of-mentorship feedback: ratings as published counts "
    "(1 poor to 5 excellent), and the words given, which the end form tells members only the "
    "network's organisers read. Each reading is written to the audit log."
)
class ProgrammeFeedback:
    ratings: list[SurveyResultLine]
    rated: PublishedCount
    mean_rating: float | None
    entries: list[MentorshipFeedbackEntry]


# Inputs and payloads ----------------------------------------------------------------------


@strawberry.input(description="A new draft survey of a programme.")
class CreateSurveyInput:
    programme_id: strawberry.ID
    stage: SurveyStage
    title: str = ""
    introduction: str = ""
    standard_end_survey: bool = strawberry.field(
        default=False,
        description="Make the standard end survey (its own title and questions; stage END).",
    )


@strawberry.input(description="A question to add at the end of a draft survey.")
class AddSurveyQuestionInput:
    survey_id: strawberry.ID
    kind: SurveyQuestionKind
    text: str
    hint: str = ""
    required: bool = True
    choices: list[str] = strawberry.field(default_factory=list, description="CHOICE only.")


@strawberry.input
class SurveyIdInput:
    survey_id: strawberry.ID


@strawberry.input(description="One answer: AGREEMENT 1-5, RECOMMEND 0-10, an option, or text.")
class SurveyAnswerInput:
    question_id: strawberry.ID
    value: str
    share_with_organisers: bool = strawberry.field(
        default=False,
        description="TEXT only: organisers may read this answer (without your name).",
    )


@strawberry.input(description="Your answers to a survey about one of your mentorships.")
class AnswerSurveyInput:
    survey_id: strawberry.ID
    mentorship_id: strawberry.ID
    answers: list[SurveyAnswerInput]


@strawberry.type(description="The survey, as it stands now.")
class SurveySuccess:
    survey: Survey


@strawberry.type(description="Your answers were saved.")
class AnswerSurveySuccess:
    survey: Survey
    submitted_at: datetime


CreateSurveyResult = Annotated[
    SurveySuccess | errors.Problem, errors.result_named("CreateSurveyResult", SurveySuccess)
]
AddSurveyQuestionResult = Annotated[
    SurveySuccess | errors.Problem, errors.result_named("AddSurveyQuestionResult", SurveySuccess)
]
PublishSurveyResult = Annotated[
    SurveySuccess | errors.Problem, errors.result_named("PublishSurveyResult", SurveySuccess)
]
CloseSurveyResult = Annotated[
    SurveySuccess | errors.Problem, errors.result_named("CloseSurveyResult", SurveySuccess)
]
AnswerSurveyResult = Annotated[
    AnswerSurveySuccess | errors.Problem,
    errors.result_named("AnswerSurveyResult", AnswerSurveySuccess),
]


def _survey_id(raw: strawberry.ID) -> int:
    return decode(raw, type_name="Survey", field="surveyId")


def _programme_id(raw: strawberry.ID) -> int:
    return decode(raw, type_name="Programme", field="programmeId")


# Queries and mutations ----------------------------------------------------------------------


@strawberry.type
class SurveyQuery:
    """Organisers' surveys, results and feedback; members' pending surveys."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: a programme's surveys (programmes in your scope only).",
    )
    def programme_surveys(self, info: Info, programme_id: strawberry.ID) -> list[Survey]:
        """Every survey of the programme, by stage."""
        rows = surveys.surveys_of(
            session=info.context.session,
            organiser=info.context.member,
            programme_id=_programme_id(programme_id),
        )
        questions = surveys.questions_for(
            session=info.context.session, survey_ids=[s.id for s in rows]
        )
        return [Survey.from_model(s, questions[s.id]) for s in rows]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: a survey's results, aggregated under disclosure control.",
    )
    def survey_results(self, info: Info, survey_id: strawberry.ID) -> SurveyResults:
        """Distribution per question, means, NPS and shared free text."""
        results = surveys.survey_results(
            session=info.context.session,
            organiser=info.context.member,
            survey_id=_survey_id(survey_id),
        )
        return results_view(info, results)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Surveys waiting for your answers, oldest invitation first.",
    )
    def my_surveys(self, info: Info) -> list[PendingSurvey]:
        """Pending surveys of the signed-in member."""
        found = surveys.pending_for(session=info.context.session, member=info.context.member)
        questions = surveys.questions_for(
            session=info.context.session, survey_ids=[p.survey.id for p in found]
        )
        return [
            PendingSurvey(
                survey=Survey.from_model(p.survey, questions[p.survey.id]),
                mentorship_id=_gid("Mentorship", p.mentorship.id),
                programme_name=p.programme.name,
                partner_name=p.partner.name if p.partner else surveys.FORMER_MEMBER,
                my_role=p.role,
                invited_at=p.invited_at,
            )
            for p in found
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: a programme's end-of-mentorship feedback (audited).",
    )
    def mentorship_feedback(self, info: Info, programme_id: strawberry.ID) -> ProgrammeFeedback:
        """Ratings as published counts and the words given, with the pairs' names."""
        report = surveys.mentorship_feedback(
            session=info.context.session,
            organiser=info.context.member,
            programme_id=_programme_id(programme_id),
        )
        return ProgrammeFeedback(
            ratings=_lines(report.ratings),
            rated=PublishedCount.of(report.rated),
            mean_rating=report.mean,
            entries=[
                MentorshipFeedbackEntry(
                    mentorship_id=_gid("Mentorship", e.mentorship_id),
                    mentor_name=e.mentor_name,
                    mentee_name=e.mentee_name,
                    author_role=e.author_role,
                    text=e.text,
                    given_at=e.given_at,
                )
                for e in report.entries
            ],
        )


@strawberry.type
class SurveyMutation:
    """Organisers build, publish and close surveys; members answer them."""

    @strawberry.mutation(description="Organisers: create a draft survey of a programme.")
    def create_survey(self, info: Info, input: CreateSurveyInput) -> CreateSurveyResult:
        """A new draft (or the standard end survey)."""
        context = info.context

        def create() -> SurveySuccess:
            check_text(title=input.title, introduction=input.introduction)
            programme_id = _programme_id(input.programme_id)
            if input.standard_end_survey:
                made = surveys.create_default_end_survey(
                    session=context.session, organiser=context.member, programme_id=programme_id
                )
            else:
                made = surveys.create_survey(
                    session=context.session,
                    organiser=context.member,
                    programme_id=programme_id,
                    settings=surveys.SurveySettings(
                        stage=from_enum(input.stage),
                        title=input.title,
                        introduction=input.introduction,
                    ),
                )
            return SurveySuccess(survey=_survey(info, made))

        return errors.outcome(create)

    @strawberry.mutation(description="Organisers: add a question to a draft survey.")
    def add_survey_question(
        self, info: Info, input: AddSurveyQuestionInput
    ) -> AddSurveyQuestionResult:
        """The question goes at the end."""
        context = info.context

        def add() -> SurveySuccess:
            check_lists(choices=input.choices)
            check_text(text=input.text, hint=input.hint)
            survey_id = _survey_id(input.survey_id)
            surveys.add_question(
                session=context.session,
                organiser=context.member,
                survey_id=survey_id,
                question=surveys.QuestionSettings(
                    kind=from_enum(input.kind),
                    text=input.text,
                    hint=input.hint,
                    required=input.required,
                    choices=list(input.choices),
                ),
            )
            found = surveys.get_survey(
                session=context.session, organiser=context.member, survey_id=survey_id
            )
            return SurveySuccess(survey=_survey(info, found))

        return errors.outcome(add)

    @strawberry.mutation(description="Organisers: publish a draft; its questions are frozen.")
    def publish_survey(self, info: Info, input: SurveyIdInput) -> PublishSurveyResult:
        """Draft to published: members are invited as their stage comes."""
        context = info.context

        def publish() -> SurveySuccess:
            done = surveys.publish_survey(
                session=context.session,
                organiser=context.member,
                survey_id=_survey_id(input.survey_id),
            )
            return SurveySuccess(survey=_survey(info, done))

        return errors.outcome(publish)

    @strawberry.mutation(description="Organisers: close a published survey (results stay).")
    def close_survey(self, info: Info, input: SurveyIdInput) -> CloseSurveyResult:
        """Published to closed."""
        context = info.context

        def close() -> SurveySuccess:
            done = surveys.close_survey(
                session=context.session,
                organiser=context.member,
                survey_id=_survey_id(input.survey_id),
            )
            return SurveySuccess(survey=_survey(info, done))

        return errors.outcome(close)

    @strawberry.mutation(description="Answer a survey about one of your mentorships (once).")
    def answer_survey(self, info: Info, input: AnswerSurveyInput) -> AnswerSurveyResult:
        """Your answers; a required question left out is named in the error."""
        context = info.context

        def answer() -> AnswerSurveySuccess:
            check_lists(answers=input.answers)
            values: dict[int, str] = {}
            shared: set[int] = set()
            for given in input.answers:
                check_text(value=given.value)
                question_id = decode(given.question_id, type_name="SurveyQuestion", field="answers")
                if question_id in values:
                    raise FieldErrors({"answers": "Answer each question once."})
                values[question_id] = given.value
                if given.share_with_organisers:
                    shared.add(question_id)
            survey_id = _survey_id(input.survey_id)
            response = surveys.answer_survey(
                session=context.session,
                member=context.member,
                survey_id=survey_id,
                mentorship_id=decode(
                    input.mentorship_id, type_name="Mentorship", field="mentorshipId"
                ),
                given=surveys.GivenAnswers(values, frozenset(shared)),
            )
            form = surveys.get_to_answer(
                session=context.session,
                member=context.member,
                survey_id=survey_id,
                mentorship_id=response.mentorship_id,
            )
            return AnswerSurveySuccess(
                survey=Survey.from_model(form.invitation.survey, form.questions),
                submitted_at=response.submitted_at,
            )

        return errors.outcome(answer)
