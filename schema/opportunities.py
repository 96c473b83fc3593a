"""Development opportunities: the catalogue, one opportunity, your recommendations with reasons,
posting, changing and withdrawing one, saving one and saying you are interested. Rules live in
the service."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import Invalid, NotFound
from backend.opportunities import service as opportunities
from schema import errors
from schema.context import Info
from schema.enums import Band, Profession, Region, RoleFamily, from_enum, to_enum
from schema.ids import database_id, decode
from schema.inputs import check_lists, check_text
from schema.opportunity_enums import OpportunityAudience, OpportunityFormat, OpportunityKind
from schema.permissions import IsAuthenticated
from schema.reference import Skill, connection, decode_offset, page_size


@strawberry.type(description="A development opportunity you can see.")
class Opportunity(relay.Node):
    id: relay.NodeID[int]
    kind: OpportunityKind
    title: str
    provider: str
    description: str
    url: str | None = strawberry.field(description="Where to find out more and apply.")
    cost_pence: int = strawberry.field(description="0 when it is free.")
    cost: str = strawberry.field(description="The cost as it reads: 'Free', '£250'.")
    format: OpportunityFormat
    closes_on: date = strawberry.field(description="The last day to apply (London).")
    open: bool = strawberry.field(
        description="Still taking applications today (false once closed or withdrawn)."
    )
    withdrawn: bool = strawberry.field(
        description="Withdrawn by its provider: it stays on saved lists only, marked so."
    )
    can_change: bool = strawberry.field(
        description="You may change or withdraw it (its poster, or an organiser covering it)."
    )
    eligible: bool = strawberry.field(description="Open to someone with your profile.")
    audience: OpportunityAudience
    audience_name: str = strawberry.field(description="The organisation, chapter or network.")
    eligible_bands: list[Band] = strawberry.field(description="Empty: every band.")
    eligible_regions: list[Region] = strawberry.field(description="Empty: every region.")
    eligible_role_families: list[RoleFamily] = strawberry.field(
        description="Empty: every role family."
    )
    eligible_professions: list[Profession] = strawberry.field(
        description="Empty: every profession."
    )
    saved: bool = strawberry.field(description="You saved it.")
    interested: bool = strawberry.field(description="You said you are interested.")
    interested_count: int | None = strawberry.field(
        description="How many are interested: for its poster and organisers over it only "
        "(null for anyone else); never who."
    )
    skill_ids: strawberry.Private[list[str]]

    @strawberry.field(description="The skills of the framework it develops.")
    async def skills(self, info: Info) -> list[Skill]:
        """The skills, in framework order."""
        found = await info.context.loaders.skill_by_id.load_many(self.skill_ids)
        return [Skill.from_model(s) for s in found if s is not None]

    @classmethod
    def from_view(cls, view: opportunities.OpportunityView) -> Opportunity:
        """The GraphQL view of an opportunity."""
        rules = view.eligibility
        return cls(
            id=view.id,
            kind=to_enum(OpportunityKind, view.kind),
            title=view.title,
            provider=view.provider,
            description=view.description,
            url=view.url or None,
            cost_pence=view.cost_pence,
            cost=view.cost_text,
            format=to_enum(OpportunityFormat, view.format),
            closes_on=view.closes_on,
            open=view.is_open,
            withdrawn=view.withdrawn,
            can_change=view.can_change,
            eligible=view.eligible,
            audience=to_enum(OpportunityAudience, view.audience),
            audience_name=view.audience_name,
            eligible_bands=[to_enum(Band, b) for b in rules.get("band", [])],
            eligible_regions=[to_enum(Region, r) for r in rules.get("region", [])],
            eligible_role_families=[to_enum(RoleFamily, r) for r in rules.get("role_family", [])],
            eligible_professions=[to_enum(Profession, p) for p in rules.get("profession", [])],
            saved=view.saved,
            interested=view.interested,
            interested_count=view.interested_count,
            skill_ids=list(view.skills),
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Opportunity | None]:
        """Opportunities by id, with the rule of `opportunity(id)`."""
        ids = [database_id(raw) or 0 for raw in node_ids]
        found = opportunities.get_many(
            session=info.context.session, member=info.context.member, opportunity_ids=ids
        )
        return [cls.from_view(found[i]) if i in found else None for i in ids]


@strawberry.type(description="An opportunity recommended to you, with why.")
class RecommendedOpportunity:
    opportunity: Opportunity
    score: float = strawberry.field(description="0 to 100: how well it fits you.")
    reasons: list[str] = strawberry.field(description="Plain-English reasons, strongest first.")
    reason_text: str = strawberry.field(description="The reasons as one sentence.")


@strawberry.input(
    description="An opportunity to post, or an opportunity as it is to be after a change. "
    "Lists left empty mean open to all."
)
class PostOpportunityInput:
    kind: OpportunityKind
    title: str
    provider: str
    format: OpportunityFormat
    closes_on: date
    skill_ids: list[strawberry.ID]
    description: str = ""
    url: str = ""
    cost_pence: int = 0
    eligible_bands: list[Band] = strawberry.field(default_factory=list)
    eligible_regions: list[Region] = strawberry.field(default_factory=list)
    eligible_role_families: list[RoleFamily] = strawberry.field(default_factory=list)
    eligible_professions: list[Profession] = strawberry.field(default_factory=list)
    audience: OpportunityAudience = strawberry.field(
        default_factory=lambda: OpportunityAudience("organisation"),
        description="ORGANISATION (anyone, for their own), CHAPTER or NETWORK (organisers).",
    )
    chapter_id: strawberry.ID | None = strawberry.field(
        default=None, description="The chapter, for a CHAPTER audience (a number)."
    )


@strawberry.input(description="Save an opportunity to your list, or take it off.")
class SaveOpportunityInput:
    opportunity_id: strawberry.ID
    saved: bool = True


@strawberry.input(description="Say you are interested in an opportunity, or take it back.")
class MarkInterestedInput:
    opportunity_id: strawberry.ID
    interested: bool = True


@strawberry.type(description="The opportunity, as it now stands for you.")
class OpportunitySuccess:
    opportunity: Opportunity


OpportunityResult = Annotated[
    OpportunitySuccess | errors.Problem,
    errors.result_named("OpportunityResult", OpportunitySuccess),
]


def _chapter_id(raw: strawberry.ID | None) -> int | None:
    if raw is None:
        return None
    value = database_id(str(raw))
    if value is None:
        raise Invalid("That is not a valid chapter id.", field="chapter_id")
    return value


@strawberry.type
class OpportunityQuery:
    """The catalogue and your recommendations."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Open opportunities you can see, closing soonest first; narrowed by kind, "
        "a skill it develops, or a region it is open to.",
    )
    def opportunities(
        self,
        info: Info,
        kind: OpportunityKind | None = None,
        skill_id: strawberry.ID | None = None,
        region: Region | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[Opportunity]:
        """A page of the catalogue."""
        limit = page_size(first, info, default=20)
        offset = decode_offset(after)
        rows = opportunities.browse(
            session=info.context.session,
            member=info.context.member,
            filters=opportunities.Filters(
                kind=from_enum(kind) if kind is not None else None,
                skill=str(skill_id) if skill_id is not None else None,
                region=from_enum(region) if region is not None else None,
            ),
            limit=offset + limit + 1,
        )
        return connection(
            [Opportunity.from_view(v) for v in rows[offset : offset + limit]],
            offset=offset,
            more=len(rows) > offset + limit,
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One opportunity you can see (a closed one too); null if there is none.",
    )
    def opportunity(self, info: Info, id: strawberry.ID) -> Opportunity | None:
        """An opportunity by id."""
        opportunity_id = decode(id, type_name="Opportunity")
        try:
            view = opportunities.get(
                session=info.context.session,
                member=info.context.member,
                opportunity_id=opportunity_id,
            )
        except NotFound:
            return None
        return Opportunity.from_view(view)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Open opportunities you can apply for, ranked for the skills you want, "
        "your self-assessment, goals, band and region, each with its reasons.",
    )
    def recommended_opportunities(self, info: Info, first: int = 3) -> list[RecommendedOpportunity]:
        """Your recommendations, best first."""
        return [
            RecommendedOpportunity(
                opportunity=Opportunity.from_view(r.opportunity),
                score=r.score,
                reasons=r.reasons,
                reason_text=r.reason_text,
            )
            for r in opportunities.recommendations(
                session=info.context.session, member=info.context.member, first=first
            )
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your saved opportunities, closing soonest first (closed ones last).",
    )
    def saved_opportunities(self, info: Info) -> list[Opportunity]:
        """Your saved list."""
        return [
            Opportunity.from_view(v)
            for v in opportunities.saved(session=info.context.session, member=info.context.member)
        ]


def _draft(input: PostOpportunityInput) -> opportunities.OpportunityDraft:
    """The service's draft of the posting input (its lists and texts checked first)."""
    check_lists(
        skill_ids=input.skill_ids,
        eligible_bands=input.eligible_bands,
        eligible_regions=input.eligible_regions,
        eligible_role_families=input.eligible_role_families,
        eligible_professions=input.eligible_professions,
    )
    check_text(
        title=input.title,
        provider=input.provider,
        description=input.description,
        url=input.url,
    )
    return opportunities.OpportunityDraft(
        kind=from_enum(input.kind),
        title=input.title,
        provider=input.provider,
        description=input.description,
        url=input.url,
        cost_pence=input.cost_pence,
        format=from_enum(input.format),
        closes_on=input.closes_on,
        skills=[str(s) for s in input.skill_ids],
        bands=[from_enum(b) for b in input.eligible_bands],
        regions=[from_enum(r) for r in input.eligible_regions],
        role_families=[from_enum(r) for r in input.eligible_role_families],
        professions=[from_enum(p) for p in input.eligible_professions],
        audience=from_enum(input.audience),
        chapter_id=_chapter_id(input.chapter_id),
    )


def _outcome(call: Callable[[], opportunities.OpportunityView]) -> OpportunityResult:
    """The mutation's result: the opportunity as it now stands, or what went wrong."""
    return errors.outcome(lambda: OpportunitySuccess(opportunity=Opportunity.from_view(call())))


def _id(raw: strawberry.ID, field: str) -> int:
    return decode(raw, type_name="Opportunity", field=field)


def _set_mark(
    info: Info,
    raw_id: strawberry.ID,
    mark: Callable[..., opportunities.OpportunityView],
    **value: bool,
) -> OpportunityResult:
    """Save or say "interested" (``mark``, with its one flag) for the id in the input."""
    context = info.context
    return _outcome(
        lambda: mark(
            session=context.session,
            member=context.member,
            opportunity_id=_id(raw_id, "opportunityId"),
            **value,
        )
    )


@strawberry.type
class OpportunityMutation:
    """Posting, changing, withdrawing, saving and saying you are interested."""

    @strawberry.mutation(
        description="Post an opportunity: for your own organisation, or (organisers) for a "
        "chapter you organise or the whole network."
    )
    def post_opportunity(self, info: Info, input: PostOpportunityInput) -> OpportunityResult:
        """Post one; every problem comes back at once in InvalidInput."""
        context = info.context
        return _outcome(
            lambda: opportunities.post(
                session=context.session, member=context.member, draft=_draft(input)
            )
        )

    @strawberry.mutation(
        description="Change an opportunity (its poster, or an organiser covering it), with the "
        "rules of posting; a withdrawn one cannot change (Conflict)."
    )
    def update_opportunity(
        self, info: Info, id: strawberry.ID, input: PostOpportunityInput
    ) -> OpportunityResult:
        """Change one; every problem comes back at once in InvalidInput."""
        context = info.context
        return _outcome(
            lambda: opportunities.update(
                session=context.session,
                member=context.member,
                opportunity_id=_id(id, "id"),
                draft=_draft(input),
            )
        )

    @strawberry.mutation(
        description="Withdraw an opportunity (its poster, or an organiser covering it): it "
        "leaves the catalogue and recommendations, and those who saved it or said they are "
        "interested are told. Withdrawing twice is a Conflict."
    )
    def withdraw_opportunity(self, info: Info, id: strawberry.ID) -> OpportunityResult:
        """Withdraw one."""
        context = info.context
        return _outcome(
            lambda: opportunities.withdraw(
                session=context.session, member=context.member, opportunity_id=_id(id, "id")
            )
        )

    @strawberry.mutation(description="Save an opportunity (you get a reminder before it closes).")
    def save_opportunity(self, info: Info, input: SaveOpportunityInput) -> OpportunityResult:
        """Save or unsave."""
        return _set_mark(info, input.opportunity_id, opportunities.save, saved=input.saved)

    @strawberry.mutation(
        description="Say you are interested: its poster sees how many are, never who."
    )
    def mark_interested(self, info: Info, input: MarkInterestedInput) -> OpportunityResult:
        """Mark or unmark interest."""
        return _set_mark(
            info, input.opportunity_id, opportunities.mark_interested, interested=input.interested
        )
