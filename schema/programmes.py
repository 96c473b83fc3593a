"""Programmes: members browse the ones open to them and apply; organisers create, edit,
publish and decide on applications.

Thin: who may see and do what is decided by ``backend.programmes.service`` (an organiser of one
chapter gets NotFound for another chapter's programme, on this surface as on the pages).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from backend.chapters.models import Chapter
from backend.errors import Forbidden, NotFound
from backend.members import service as member_service
from backend.programmes import service as programmes
from backend.programmes.models import Programme as ProgrammeModel
from backend.programmes.models import ProgrammeApplication as ApplicationModel
from backend.programmes.models import ProgrammeQuestion as QuestionModel
from schema import errors
from schema.context import Info
from schema.enums import Band, Profession, Region, RoleFamily, from_enum, to_enum
from schema.ids import database_id, decode
from schema.inputs import check_lists, check_text
from schema.members import Member
from schema.mentoring import _member
from schema.permissions import IsAuthenticated
from schema.programme_enums import (
    ProgrammeApplicationStatus,
    ProgrammeDecision,
    ProgrammePairing,
    ProgrammeQuestionKind,
    ProgrammeRole,
    ProgrammeStatus,
    ProgrammeType,
)
from schema.reference import connection, decode_offset, page_size


def _question_id(question_id: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID("ProgrammeQuestion", str(question_id))))


@strawberry.type(description="One question of a programme's application form.")
class ProgrammeQuestion:
    id: strawberry.ID
    position: int
    kind: ProgrammeQuestionKind
    text: str
    hint: str
    required: bool
    choices: list[str] = strawberry.field(description="For the choice kinds; [] otherwise.")

    @classmethod
    def from_model(cls, question: QuestionModel) -> ProgrammeQuestion:
        """The GraphQL view of a question."""
        return cls(
            id=_question_id(question.id),
            position=question.position,
            kind=to_enum(ProgrammeQuestionKind, question.kind),
            text=question.text,
            hint=question.hint,
            required=question.required,
            choices=question.choice_list,
        )


@strawberry.type(description="A mentoring programme: who may apply, when, how pairs form.")
class Programme(relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    type: ProgrammeType
    group_size: int | None = strawberry.field(description="Mentees in a group (GROUP only).")
    pairing: ProgrammePairing
    status: ProgrammeStatus
    is_default: bool = strawberry.field(
        description="The network's open mentoring: always open, no application needed."
    )
    applications_open_on: date | None
    applications_close_on: date | None
    matching_on: date | None
    starts_on: date | None
    ends_on: date | None
    eligible_bands: list[Band] = strawberry.field(description="[]: any band.")
    eligible_regions: list[Region] = strawberry.field(description="[]: any region.")
    eligible_role_families: list[RoleFamily] = strawberry.field(description="[]: any.")
    eligible_professions: list[Profession] = strawberry.field(description="[]: any.")
    widening_access_only: bool
    widening_categories: list[str] = strawberry.field(
        description="The widening-access categories that count ([]: every one)."
    )
    places: int | None = strawberry.field(description="Mentee places; null for no limit.")
    eligibility: list[str] = strawberry.field(description="Who may apply, in plain words.")
    model: strawberry.Private[ProgrammeModel]

    @classmethod
    def from_model(cls, programme: ProgrammeModel) -> Programme:
        """The GraphQL view of a programme."""
        return cls(
            id=programme.id,
            name=programme.name,
            description=programme.description,
            type=to_enum(ProgrammeType, programme.type),
            group_size=programme.group_size,
            pairing=to_enum(ProgrammePairing, programme.pairing),
            status=to_enum(ProgrammeStatus, programme.status),
            is_default=programme.is_default,
            applications_open_on=programme.applications_open_on,
            applications_close_on=programme.applications_close_on,
            matching_on=programme.matching_on,
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
            eligible_bands=[to_enum(Band, b) for b in programme.bands],
            eligible_regions=[to_enum(Region, r) for r in programme.regions],
            eligible_role_families=[to_enum(RoleFamily, r) for r in programme.role_families],
            eligible_professions=[to_enum(Profession, p) for p in programme.professions],
            widening_access_only=programme.widening_access_only,
            widening_categories=programme.widening_category_list,
            places=programme.places,
            eligibility=programmes.eligibility_words(programme),
            model=programme,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Programme | None]:
        """Programmes by id, with the rule of `programme(id)`."""
        result: list[Programme | None] = []
        for raw in node_ids:
            try:
                found = programmes.get_programme(
                    session=info.context.session,
                    member=info.context.member,
                    programme_id=database_id(raw) or 0,
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(found))
        return result

    @strawberry.field(description="The chapter running it; null for the whole network.")
    def chapter_name(self, info: Info) -> str | None:
        """The chapter's name."""
        if self.model.chapter_id is None:
            return None
        chapter = info.context.session.get(Chapter, self.model.chapter_id)
        return chapter.name if chapter else None

    @strawberry.field(description="The application form, in order.")
    def questions(self, info: Info) -> list[ProgrammeQuestion]:
        """The programme's questions."""
        rows = programmes.questions_of(session=info.context.session, programme_id=self.id)
        return [ProgrammeQuestion.from_model(q) for q in rows]

    @strawberry.field(description="Whether applications are open today (Europe/London).")
    def applications_open(self) -> bool:
        """Published, and today between the open and close dates."""
        return programmes.is_open(self.model)

    @strawberry.field(description="Why applications are not open today, with the dates.")
    def applications_closed_because(self) -> str | None:
        """Null while open."""
        if self.model.is_default:
            return "Open mentoring needs no application."
        return programmes.applications_problem(self.model)

    @strawberry.field(
        description="Why you may not apply as a mentee, one sentence a rule ([]: you may)."
    )
    def not_eligible_because(self, info: Info) -> list[str]:
        """Each rule you do not meet, naming your value."""
        member = info.context.member
        if member is None:
            return []
        return programmes.reasons_not_eligible(self.model, member, session=info.context.session)

    @strawberry.field(description="Your application to this programme, if any.")
    def my_application(self, info: Info) -> ProgrammeApplication | None:
        """The caller's application."""
        found = programmes.my_application(
            session=info.context.session, member=info.context.member, programme_id=self.id
        )
        return ProgrammeApplication.from_model(found) if found else None


@strawberry.type(description="An applicant's answer to one question.")
class ProgrammeAnswer:
    question_id: strawberry.ID
    question: str = strawberry.field(description="The question's text.")
    values: list[str] = strawberry.field(description="One value; several for multiple choice.")


@strawberry.type(
    description="An application to a programme: the applicant and organisers of the programme."
)
class ProgrammeApplication(relay.Node):
    id: relay.NodeID[int]
    role: ProgrammeRole
    status: ProgrammeApplicationStatus
    decision_message: str = strawberry.field(description="The organisers' message with it.")
    decided_at: datetime | None
    created_at: datetime
    model: strawberry.Private[ApplicationModel]

    @classmethod
    def from_model(cls, application: ApplicationModel) -> ProgrammeApplication:
        """The GraphQL view of an application."""
        return cls(
            id=application.id,
            role=to_enum(ProgrammeRole, application.role),
            status=to_enum(ProgrammeApplicationStatus, application.status),
            decision_message=application.decision_message,
            decided_at=application.decided_at,
            created_at=application.created_at,
            model=application,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ProgrammeApplication | None]:
        """Applications by id: your own, or one to a programme you organise."""
        result: list[ProgrammeApplication | None] = []
        context = info.context
        for raw in node_ids:
            application_id = database_id(raw) or 0
            found = context.session.get(ApplicationModel, application_id)
            if found is not None and (
                context.member is None or found.member_id != context.member.id
            ):
                try:
                    found = programmes.get_application(
                        session=context.session,
                        organiser=context.member,
                        application_id=application_id,
                    )
                except (NotFound, Forbidden):  # not theirs, and not an organiser of it
                    found = None
            result.append(cls.from_model(found) if found is not None else None)
        return result

    @strawberry.field(description="The programme applied to.")
    def programme(self, info: Info) -> Programme:
        """Through the session's identity map."""
        found = info.context.session.get(ProgrammeModel, self.model.programme_id)
        assert found is not None
        return Programme.from_model(found)

    @strawberry.field(description="The applicant; null if they have left.")
    async def applicant(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.member_id)

    @strawberry.field(description="The answers, in the form's order.")
    def answers(self, info: Info) -> list[ProgrammeAnswer]:
        """Each answered question with its values."""
        session = info.context.session
        questions = programmes.questions_of(session=session, programme_id=self.model.programme_id)
        given = programmes.answers_of(session=session, application_ids=[self.id])[self.id]
        out = []
        for question in questions:
            if question.id not in given:
                continue
            value = given[question.id]
            out.append(
                ProgrammeAnswer(
                    question_id=_question_id(question.id),
                    question=question.text,
                    values=value if isinstance(value, list) else [value],
                )
            )
        return out


@strawberry.type(description="How many applications have each status.")
class ProgrammeApplicationCount:
    status: ProgrammeApplicationStatus
    count: int


# Inputs and payloads --------------------------------------------------------------------------


@strawberry.input(description="A programme's settings (editing replaces all of them).")
class ProgrammeInput:
    name: str
    description: str = ""
    type: ProgrammeType = strawberry.field(default=to_enum(ProgrammeType, "one-to-one"))
    group_size: int | None = strawberry.field(default=None, description="GROUP: 2 to 12.")
    pairing: ProgrammePairing = strawberry.field(default=to_enum(ProgrammePairing, "both"))
    applications_open_on: date | None = None
    applications_close_on: date | None = None
    matching_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = strawberry.field(default=None, description="After `startsOn`.")
    eligible_bands: list[Band] = strawberry.field(default_factory=list)
    eligible_regions: list[Region] = strawberry.field(default_factory=list)
    eligible_role_families: list[RoleFamily] = strawberry.field(default_factory=list)
    eligible_professions: list[Profession] = strawberry.field(default_factory=list)
    widening_access_only: bool = False
    widening_categories: list[str] = strawberry.field(default_factory=list)
    places: int | None = None
    chapter_id: int | None = strawberry.field(
        default=None,
        description="The chapter's number; null for the whole network (network organisers).",
    )


def _settings(given: ProgrammeInput) -> programmes.ProgrammeSettings:
    check_text(name=given.name, description=given.description)
    check_lists(widening_categories=given.widening_categories)
    return programmes.ProgrammeSettings(
        name=given.name,
        description=given.description,
        type=from_enum(given.type),
        group_size=given.group_size,
        pairing=from_enum(given.pairing),
        applications_open_on=given.applications_open_on,
        applications_close_on=given.applications_close_on,
        matching_on=given.matching_on,
        starts_on=given.starts_on,
        ends_on=given.ends_on,
        bands=[from_enum(b) for b in given.eligible_bands],
        regions=[from_enum(r) for r in given.eligible_regions],
        role_families=[from_enum(r) for r in given.eligible_role_families],
        professions=[from_enum(p) for p in given.eligible_professions],
        widening_access_only=given.widening_access_only,
        widening_categories=list(given.widening_categories),
        places=given.places,
        chapter_id=given.chapter_id,
    )


@strawberry.input
class UpdateProgrammeInput:
    programme_id: strawberry.ID
    settings: ProgrammeInput


@strawberry.input
class PublishProgrammeInput:
    programme_id: strawberry.ID


@strawberry.input(description="One question; give `id` to keep an existing one (and answers).")
class ProgrammeQuestionInput:
    text: str
    kind: ProgrammeQuestionKind = strawberry.field(
        default=to_enum(ProgrammeQuestionKind, "short-text")
    )
    hint: str = ""
    required: bool = True
    choices: list[str] = strawberry.field(
        default_factory=list, description="At least 2 for the choice kinds."
    )
    id: strawberry.ID | None = None


@strawberry.input(description="The whole form, in order: questions left out are removed.")
class SetProgrammeQuestionsInput:
    programme_id: strawberry.ID
    questions: list[ProgrammeQuestionInput]


@strawberry.input(description="An answer: `value` for text and single choice, `values` else.")
class ProgrammeAnswerInput:
    question_id: strawberry.ID
    value: str = ""
    values: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class ApplyToProgrammeInput:
    programme_id: strawberry.ID
    role: ProgrammeRole = strawberry.field(default=to_enum(ProgrammeRole, "mentee"))
    answers: list[ProgrammeAnswerInput] = strawberry.field(default_factory=list)


@strawberry.input
class WithdrawProgrammeApplicationInput:
    application_id: strawberry.ID


@strawberry.input(description="Accept, wait-list or decline, with a message (up to 2,000).")
class DecideProgrammeApplicationInput:
    application_id: strawberry.ID
    decision: ProgrammeDecision
    message: str = ""


@strawberry.type(description="The programme, as it stands now.")
class ProgrammeSuccess:
    programme: Programme


@strawberry.type(description="The application, as it stands now.")
class ProgrammeApplicationSuccess:
    application: ProgrammeApplication


CreateProgrammeResult = Annotated[
    ProgrammeSuccess | errors.Problem,
    errors.result_named("CreateProgrammeResult", ProgrammeSuccess),
]
UpdateProgrammeResult = Annotated[
    ProgrammeSuccess | errors.Problem,
    errors.result_named("UpdateProgrammeResult", ProgrammeSuccess),
]
PublishProgrammeResult = Annotated[
    ProgrammeSuccess | errors.Problem,
    errors.result_named("PublishProgrammeResult", ProgrammeSuccess),
]
SetProgrammeQuestionsResult = Annotated[
    ProgrammeSuccess | errors.Problem,
    errors.result_named("SetProgrammeQuestionsResult", ProgrammeSuccess),
]
ApplyToProgrammeResult = Annotated[
    ProgrammeApplicationSuccess | errors.Problem,
    errors.result_named("ApplyToProgrammeResult", ProgrammeApplicationSuccess),
]
WithdrawProgrammeApplicationResult = Annotated[
    ProgrammeApplicationSuccess | errors.Problem,
    errors.result_named("WithdrawProgrammeApplicationResult", ProgrammeApplicationSuccess),
]
DecideProgrammeApplicationResult = Annotated[
    ProgrammeApplicationSuccess | errors.Problem,
    errors.result_named("DecideProgrammeApplicationResult", ProgrammeApplicationSuccess),
]


def _programme_id(raw: strawberry.ID, field: str = "programmeId") -> int:
    return decode(raw, type_name="Programme", field=field)


def _application_id(raw: strawberry.ID) -> int:
    return decode(raw, type_name="ProgrammeApplication", field="applicationId")


def _page(rows: list[Any], first: int | None, after: str | None, info: Info, make: Any) -> Any:
    limit = page_size(first, info, default=20)
    offset = decode_offset(after)
    return connection(
        [make(row) for row in rows[offset : offset + limit]],
        offset=offset,
        more=len(rows) > offset + limit,
    )


# Queries and mutations ------------------------------------------------------------------------


@strawberry.type
class ProgrammeQuery:
    """Programmes open to the member; organisers' programmes and applications."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Published programmes of your chapters and the whole network taking "
        "applications today (whether or not you are eligible: see `notEligibleBecause`).",
    )
    def programmes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[Programme]:
        """A page of programmes, closing soonest first."""
        rows = programmes.programmes_open_to(
            session=info.context.session, member=info.context.member
        )
        return _page(rows, first, after, info, Programme.from_model)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One programme you may see; null if there is none.",
    )
    def programme(self, info: Info, id: strawberry.ID) -> Programme | None:
        """A programme by id."""
        programme_id = decode(id, type_name="Programme")
        try:
            found = programmes.get_programme(
                session=info.context.session, member=info.context.member, programme_id=programme_id
            )
        except NotFound:
            return None
        return Programme.from_model(found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: the programmes you manage (your chapters'; network: all).",
    )
    def organised_programmes(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[Programme]:
        """A page of programmes, the default first, then newest first."""
        rows = programmes.organised_programmes(
            session=info.context.session, organiser=info.context.member
        )
        return _page(rows, first, after, info, Programme.from_model)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: a programme's applications, oldest first (filter by status).",
    )
    def programme_applications(
        self,
        info: Info,
        programme_id: strawberry.ID,
        status: ProgrammeApplicationStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[ProgrammeApplication]:
        """A page of applications."""
        rows = programmes.applications_of(
            session=info.context.session,
            organiser=info.context.member,
            programme_id=_programme_id(programme_id),
            status=from_enum(status),
        )
        return _page([a for a, _ in rows], first, after, info, ProgrammeApplication.from_model)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: how many applications a programme has of each status.",
    )
    def programme_application_counts(
        self, info: Info, programme_id: strawberry.ID
    ) -> list[ProgrammeApplicationCount]:
        """Every status with its count."""
        counts = programmes.application_counts(
            session=info.context.session,
            organiser=info.context.member,
            programme_id=_programme_id(programme_id),
        )
        return [
            ProgrammeApplicationCount(
                status=to_enum(ProgrammeApplicationStatus, status), count=count
            )
            for status, count in counts.items()
        ]


@strawberry.type
class ProgrammeMutation:
    """Organisers create, edit, publish and decide; members apply and withdraw."""

    @strawberry.mutation(description="Organisers: create a draft programme.")
    def create_programme(self, info: Info, input: ProgrammeInput) -> CreateProgrammeResult:
        """A new draft in your chapter (network organisers: any, or the whole network)."""
        context = info.context

        def create() -> ProgrammeSuccess:
            created = programmes.create_programme(
                session=context.session, organiser=context.member, settings=_settings(input)
            )
            return ProgrammeSuccess(programme=Programme.from_model(created))

        return errors.outcome(create)

    @strawberry.mutation(description="Organisers: change a programme's settings (all of them).")
    def update_programme(self, info: Info, input: UpdateProgrammeInput) -> UpdateProgrammeResult:
        """Replace the settings."""
        context = info.context

        def update() -> ProgrammeSuccess:
            changed = programmes.update_programme(
                session=context.session,
                organiser=context.member,
                programme_id=_programme_id(input.programme_id),
                settings=_settings(input.settings),
            )
            return ProgrammeSuccess(programme=Programme.from_model(changed))

        return errors.outcome(update)

    @strawberry.mutation(description="Organisers: publish a draft programme.")
    def publish_programme(self, info: Info, input: PublishProgrammeInput) -> PublishProgrammeResult:
        """Draft to published."""
        context = info.context

        def publish() -> ProgrammeSuccess:
            published = programmes.publish_programme(
                session=context.session,
                organiser=context.member,
                programme_id=_programme_id(input.programme_id),
            )
            return ProgrammeSuccess(programme=Programme.from_model(published))

        return errors.outcome(publish)

    @strawberry.mutation(
        description="Organisers: set a programme's application form, in order (questions with "
        "an id are kept and edited, new ones added, the rest removed)."
    )
    def set_programme_questions(
        self, info: Info, input: SetProgrammeQuestionsInput
    ) -> SetProgrammeQuestionsResult:
        """Replace the form."""
        context = info.context

        def set_questions() -> ProgrammeSuccess:
            check_lists(questions=input.questions)
            wanted = []
            for question in input.questions:
                check_lists(choices=question.choices)
                check_text(text=question.text, hint=question.hint)
                wanted.append(
                    programmes.QuestionSettings(
                        text=question.text,
                        kind=from_enum(question.kind),
                        hint=question.hint,
                        required=question.required,
                        choices=list(question.choices),
                        id=(
                            decode(question.id, type_name="ProgrammeQuestion", field="questions")
                            if question.id is not None
                            else None
                        ),
                    )
                )
            programme_id = _programme_id(input.programme_id)
            programmes.set_questions(
                session=context.session,
                organiser=context.member,
                programme_id=programme_id,
                questions=wanted,
            )
            found = programmes.get_organised(
                session=context.session, organiser=context.member, programme_id=programme_id
            )
            return ProgrammeSuccess(programme=Programme.from_model(found))

        return errors.outcome(set_questions)

    @strawberry.mutation(description="Apply to a programme open to you, answering its questions.")
    def apply_to_programme(
        self, info: Info, input: ApplyToProgrammeInput
    ) -> ApplyToProgrammeResult:
        """One application per programme."""
        context = info.context

        def apply() -> ProgrammeApplicationSuccess:
            member = member_service.require_member(context.member)
            check_lists(answers=input.answers)
            answers: dict[int, programmes.Answer] = {}
            for answer in input.answers:
                check_lists(values=answer.values)
                check_text(value=answer.value)
                question_id = decode(
                    answer.question_id, type_name="ProgrammeQuestion", field="answers"
                )
                answers[question_id] = list(answer.values) if answer.values else answer.value
            application = programmes.apply(
                session=context.session,
                member=member,
                programme_id=_programme_id(input.programme_id),
                role=from_enum(input.role),
                answers=answers,
            )
            return ProgrammeApplicationSuccess(
                application=ProgrammeApplication.from_model(application)
            )

        return errors.outcome(apply)

    @strawberry.mutation(description="Withdraw your application while it is not decided.")
    def withdraw_programme_application(
        self, info: Info, input: WithdrawProgrammeApplicationInput
    ) -> WithdrawProgrammeApplicationResult:
        """Submitted or wait-listed to withdrawn."""
        context = info.context

        def withdraw() -> ProgrammeApplicationSuccess:
            application = programmes.withdraw(
                session=context.session,
                member=context.member,
                application_id=_application_id(input.application_id),
            )
            return ProgrammeApplicationSuccess(
                application=ProgrammeApplication.from_model(application)
            )

        return errors.outcome(withdraw)

    @strawberry.mutation(
        description="Organisers: accept, wait-list or decline an application; the applicant is "
        "told with your message. Accepting beyond the places is refused (Conflict)."
    )
    def decide_programme_application(
        self, info: Info, input: DecideProgrammeApplicationInput
    ) -> DecideProgrammeApplicationResult:
        """Record the decision and tell the applicant."""
        context = info.context

        def decide() -> ProgrammeApplicationSuccess:
            check_text(message=input.message)
            application = programmes.decide(
                session=context.session,
                organiser=context.member,
                application_id=_application_id(input.application_id),
                decision=from_enum(input.decision),
                message=input.message,
            )
            return ProgrammeApplicationSuccess(
                application=ProgrammeApplication.from_model(application)
            )

        return errors.outcome(decide)
