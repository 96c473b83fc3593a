"""Matching rounds: organisers create, watch, review and publish; each side answers its offer.

Who may see and do what is decided by ``backend.rounds.service``: rounds, their figures and
every proposal are for organisers; a member sees only the proposals they are in. Mentees and
mentors resolve through the request's DataLoaders.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from backend import db
from backend.errors import Invalid, NotFound
from backend.members import service as member_service
from backend.mentoring import service as mentoring
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound as RoundModel
from backend.rounds.models import MatchProposal as ProposalModel
from schema import errors
from schema.context import Info
from schema.enums import (
    MatchingRoundStatus,
    MentorshipRole,
    ProposedMatchStatus,
    RoundCohort,
    from_enum,
    to_enum,
)
from schema.ids import database_id, decode
from schema.inputs import check_lists, check_text
from schema.members import Member
from schema.mentoring import Mentorship, ProgrammeSummary, _member, programme_summary
from schema.permissions import IsAuthenticated
from schema.reference import connection, decode_offset, page_size


def _number(value: Any) -> float | None:
    """A figure as a finite float, or None (not applicable: nothing to divide by)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and math.isfinite(value) else 0


def _score(value: float) -> int:
    return max(0, min(100, round(value)))


@strawberry.type(description="How many mentees were left unmatched for one reason.")
class UnmatchedReason:
    reason: str
    count: int


@strawberry.type(description="A round's figures; shares and rates are 0 to 1 (null: no base).")
class MatchingRoundFigures:
    mentees: int
    mentors: int
    places: int = strawberry.field(description="Free mentor places in the round.")
    matched: int
    bound: int = strawberry.field(description="The most mentees any matching could match.")
    unmatched: int
    unmatched_why: list[UnmatchedReason]
    cross_organisation_share: float | None
    skills_covered: float | None = strawberry.field(
        description="Share of matched mentees' skills sought that their mentor offers."
    )
    priority: bool = strawberry.field(description="Whether priority access was honoured.")
    priority_rate: float | None = strawberry.field(description="Priority mentees matched.")
    other_rate: float | None = strawberry.field(description="Other mentees matched.")
    priority_score_cost: float | None = strawberry.field(
        description="Total score given up to honour priority (share, against priority off)."
    )
    blocking_pairs: int = strawberry.field(
        description="Pairs who would both rather be together than with their match."
    )
    scoring: str = strawberry.field(
        description="'learned' when the acceptance model learned from outcomes was used, "
        "else 'fixed'."
    )
    scoring_explanation: str | None = strawberry.field(
        description="Why: the held-out AUC of the learned model against the fixed weights."
    )

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> MatchingRoundFigures:
        """The figures stored by the round's job."""
        why = summary.get("unmatched_why") or {}
        return cls(
            mentees=_count(summary.get("mentees")),
            mentors=_count(summary.get("mentors")),
            places=_count(summary.get("places")),
            matched=_count(summary.get("matched")),
            bound=_count(summary.get("bound")),
            unmatched=_count(summary.get("unmatched")),
            unmatched_why=[
                UnmatchedReason(reason=str(reason), count=_count(count))
                for reason, count in sorted(why.items(), key=lambda item: -_count(item[1]))
            ],
            cross_organisation_share=_number(summary.get("cross_organisation_share")),
            skills_covered=_number(summary.get("skills_covered")),
            priority=bool(summary.get("priority")),
            priority_rate=_number(summary.get("priority_rate")),
            other_rate=_number(summary.get("other_rate")),
            priority_score_cost=_number(summary.get("priority_score_cost")),
            blocking_pairs=_count(summary.get("blocking_pairs")),
            scoring=str(summary.get("scoring") or "fixed"),
            scoring_explanation=(summary.get("learning") or {}).get("explanation"),
        )


@strawberry.type(description="The weight of each part of the match score (any scale).")
class MatchingWeights:
    skills: float
    seniority: float
    goals: float
    organisation: float
    background: float
    place: float
    role: float


@strawberry.type(
    description="A proposed mentor for a mentee in a round (or none: UNMATCHED, with reasons). "
    "Organisers see every proposal; a member only those they are in."
)
class ProposedMatch(relay.Node):
    id: relay.NodeID[int]
    status: ProposedMatchStatus
    score: int = strawberry.field(description="The match score, 0 to 100 (0 when unmatched).")
    reasons: list[str] = strawberry.field(description="Why this pair (or why nobody), in words.")
    mentee_accepted: bool | None = strawberry.field(description="Null until the mentee answers.")
    mentor_accepted: bool | None = strawberry.field(description="Null until the mentor answers.")
    decline_reason: str
    created_at: datetime
    offered_at: datetime | None
    answered_at: datetime | None
    respond_by: datetime | None = strawberry.field(
        description="When this offer closes if not answered (null before it is offered)."
    )
    model: strawberry.Private[ProposalModel]

    @classmethod
    def from_model(cls, proposal: ProposalModel) -> ProposedMatch:
        """The GraphQL view of a proposal."""
        answers = {"accepted": True, "declined": False}
        return cls(
            id=proposal.id,
            status=to_enum(ProposedMatchStatus, proposal.status),
            score=_score(proposal.score),
            reasons=proposal.reason_list,
            mentee_accepted=answers.get(proposal.mentee_answer or ""),
            mentor_accepted=answers.get(proposal.mentor_answer or ""),
            decline_reason=proposal.decline_reason,
            created_at=proposal.created_at,
            offered_at=proposal.offered_at,
            answered_at=proposal.answered_at,
            respond_by=proposal.respond_by,
            model=proposal,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ProposedMatch | None]:
        """Proposals by id, with the rule of `proposedMatch(id)`: its two members, organisers."""
        result: list[ProposedMatch | None] = []
        for raw in node_ids:
            try:
                found = rounds.get_proposal(
                    session=info.context.session,
                    member=info.context.member,
                    proposal_id=database_id(raw) or 0,
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(found))
        return result

    @strawberry.field(description="The mentee; null if they have left.")
    async def mentee(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.mentee_id)

    @strawberry.field(description="The proposed mentor; null when unmatched or if they have left.")
    async def mentor(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.mentor_id)

    @strawberry.field(description="Your side of the proposal; null if you are not in it.")
    def my_role(self, info: Info) -> MentorshipRole | None:
        """MENTOR or MENTEE for the caller."""
        viewer = info.context.member
        if viewer is None or viewer.id is None:
            return None
        if viewer.id == self.model.mentee_id:
            return to_enum(MentorshipRole, "mentee")
        if viewer.id == self.model.mentor_id:
            return to_enum(MentorshipRole, "mentor")
        return None

    @strawberry.field(description="The mentorship it started, once both accepted (the pair only).")
    def mentorship(self, info: Info) -> Mentorship | None:
        """The mentorship, if the caller is part of it."""
        if self.model.mentorship_id is None or info.context.member is None:
            return None
        try:
            found = mentoring.get_mentorship(
                session=info.context.session,
                member=info.context.member,
                mentorship_id=self.model.mentorship_id,
            )
        except NotFound:
            return None
        return Mentorship.from_model(found)


@strawberry.type(description="How many people publishing the round would tell, and email now.")
class PublishPreview:
    pairs: int = strawberry.field(description="Proposed pairs that would be offered.")
    people: int = strawberry.field(description="Members told in the app (both sides of each).")
    emailed: int = strawberry.field(description="Of them, members emailed at once.")


@strawberry.type(description="A mentee of a round without a mentor, and why.")
class UnmatchedMentee:
    member_id: strawberry.Private[int | None]
    reason: str

    @strawberry.field(description="The mentee; null if they have left.")
    async def mentee(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.member_id)


@strawberry.type(description="A matching round (organisers only): progress, figures, proposals.")
class MatchingRound(relay.Node):
    id: relay.NodeID[int]
    name: str
    status: MatchingRoundStatus
    cohort: RoundCohort
    priority: bool = strawberry.field(description="Priority access honoured in matching.")
    seed: int
    respond_days: int = strawberry.field(description="Days each side has to answer an offer.")
    progress: float = strawberry.field(description="How far the job has got, 0 to 1.")
    stage: str = strawberry.field(description="What the job is doing now.")
    error: str = strawberry.field(description="Why the round FAILED (empty otherwise).")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    published_at: datetime | None
    respond_by: datetime | None = strawberry.field(description="When open offers expire.")
    attempts: int = strawberry.field(description="How many times the round has been run.")
    heartbeat_at: datetime | None = strawberry.field(
        description="When the job running the round last reported that it was alive."
    )
    model: strawberry.Private[RoundModel]

    @strawberry.field(description="The programme whose mentees the round pairs.")
    def programme(self, info: Info) -> ProgrammeSummary:
        """The round's programme (the default programme for open mentoring)."""
        return programme_summary(info, self.model.programme_id)

    @strawberry.field(description="RUNNING, but its worker has stopped: run it again.")
    def stalled(self) -> bool:
        """True when the job's heartbeat stopped."""
        return rounds.is_stalled(self.model)

    @classmethod
    def from_model(cls, matching_round: RoundModel) -> MatchingRound:
        """The GraphQL view of a round."""
        return cls(
            id=matching_round.id,
            name=matching_round.name,
            status=to_enum(MatchingRoundStatus, matching_round.status),
            cohort=to_enum(RoundCohort, matching_round.cohort),
            priority=matching_round.priority,
            seed=matching_round.seed,
            respond_days=matching_round.respond_days,
            progress=float(matching_round.progress),
            stage=matching_round.stage,
            error=matching_round.error,
            created_at=matching_round.created_at,
            started_at=matching_round.started_at,
            finished_at=matching_round.finished_at,
            published_at=matching_round.published_at,
            respond_by=matching_round.respond_by,
            attempts=matching_round.attempts,
            heartbeat_at=matching_round.heartbeat_at,
            model=matching_round,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MatchingRound | None]:
        """Rounds by id, with the rule of `matchingRound(id)`: organisers only."""
        result: list[MatchingRound | None] = []
        for raw in node_ids:
            try:
                found = rounds.get_round(
                    session=info.context.session,
                    organiser=info.context.member,
                    round_id=database_id(raw) or 0,
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(found))
        return result

    @strawberry.field(description="The organiser who created it; null if they have left.")
    async def created_by(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.created_by_id)

    @strawberry.field(description="The weights the round scores with.")
    def weights(self) -> MatchingWeights:
        """The stored weights (defaults filled in)."""
        stored = {**rounds.DEFAULT_WEIGHTS, **json.loads(self.model.weights or "{}")}
        return MatchingWeights(**{name: float(stored[name]) for name in rounds.WEIGHT_NAMES})

    @strawberry.field(description="The figures, once the job has finished; null before.")
    def figures(self) -> MatchingRoundFigures | None:
        """Matched, unmatched and why, cross-organisation share, priority parity."""
        summary = rounds.summary_of(self.model)
        return MatchingRoundFigures.from_summary(summary) if summary else None

    @strawberry.field(
        description="What publishing would do now: pairs offered, people told and people "
        "emailed at once. Pass `emailed` as `expectedEmails` to `publishMatchingRound`."
    )
    def publish_preview(self, info: Info) -> PublishPreview:
        """Counted by the rounds service."""
        preview = rounds.publish_preview(
            session=info.context.session, organiser=info.context.member, round_id=self.id
        )
        return PublishPreview(pairs=preview.pairs, people=preview.people, emailed=preview.emailed)

    @strawberry.field(
        description="The round's mentees left without a mentor, each with why (50 a page by "
        "default)."
    )
    def unmatched_mentees(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[UnmatchedMentee]:  # type: ignore[type-var]  # a Connection of a non-Node
        """Named, with the reason (nobody fits the rules, declined, expired, removed...)."""
        limit = page_size(first, info, default=50)
        offset = decode_offset(after)
        rows = rounds.unmatched_of(
            session=info.context.session,
            organiser=info.context.member,
            round_id=self.id,
            offset=offset,
            limit=limit + 1,  # one more tells whether a next page exists
        )
        return connection(  # type: ignore[type-var]  # UnmatchedMentee is not a relay Node
            [
                UnmatchedMentee(member_id=member.id if member else None, reason=why)
                for member, why in rows[:limit]
            ],
            offset=offset,
            more=len(rows) > limit,
        )

    @strawberry.field(description="The proposals, best score first (50 a page by default).")
    def proposals(
        self,
        info: Info,
        status: ProposedMatchStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[ProposedMatch]:
        """A page of the round's proposals, cut by key (score, id): every page costs the same."""
        limit = page_size(first, info, default=50)
        start = _proposal_key(after)
        rows = rounds.proposals_of(
            session=info.context.session,
            organiser=info.context.member,
            round_id=self.id,
            status=from_enum(status),
            limit=limit + 1,  # one more tells whether a next page exists
            after=start,
        )
        edges = [
            relay.Edge(
                node=ProposedMatch.from_model(p),
                cursor=relay.to_base64(PROPOSAL_CURSOR, str(rounds.ProposalKey.of(p))),
            )
            for p in rows[:limit]
        ]
        return relay.Connection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=len(rows) > limit,
                has_previous_page=start is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


PROPOSAL_CURSOR = "proposal"


def _proposal_key(after: str | None) -> rounds.ProposalKey | None:
    """The key a proposals cursor holds; a cursor the API did not make is refused clearly."""
    if after is None:
        return None
    try:
        kind, text = relay.from_base64(after)
    except (ValueError, TypeError):
        kind, text = "", ""
    key = rounds.ProposalKey.parse(text) if kind == PROPOSAL_CURSOR else None
    if key is None:
        raise Invalid("That cursor is not one this API gave out.", field="after")
    return key


# Inputs and payloads --------------------------------------------------------------------------


@strawberry.input(description="Weights of the score's parts (0 or more; leave out for default).")
class MatchingWeightsInput:
    skills: float | None = None
    seniority: float | None = None
    goals: float | None = None
    organisation: float | None = None
    background: float | None = None
    place: float | None = None
    role: float | None = None


@strawberry.input(description="A new round; it starts at once as a background job.")
class CreateMatchingRoundInput:
    name: str = strawberry.field(description="Like 'Spring 2026 cohort' (up to 200).")
    cohort: RoundCohort = strawberry.field(
        default=to_enum(RoundCohort, "seeking"),
        description="SEEKING (default) or MEMBERS (the members in `memberIds`).",
    )
    member_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Member ids of a MEMBERS cohort (at most 100)."
    )
    weights: MatchingWeightsInput | None = None
    priority: bool = strawberry.field(
        default=False, description="Honour priority access (members flagged in the import)."
    )
    respond_days: int = strawberry.field(default=7, description="1 to 60 days to answer.")
    seed: int = strawberry.field(default=0, description="Ties break the same way per seed.")
    learn_from_outcomes: bool = strawberry.field(
        default=False,
        description="Score with the model learned from past answers, if it beats the fixed "
        "weights on held-out outcomes.",
    )
    programme_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Pair in this Programme: its accepted mentee applicants (SEEKING), or the "
        "chosen members among them (MEMBERS); null for the network's open mentoring.",
    )


@strawberry.type(description="The round, created and queued; watch `status` and `progress`.")
class MatchingRoundSuccess:
    round: MatchingRound


@strawberry.input
class RemoveProposedMatchInput:
    proposal_id: strawberry.ID


@strawberry.input(description="Two proposed pairs of one round in review whose mentors swap.")
class SwapProposedMentorsInput:
    proposal_id: strawberry.ID
    other_proposal_id: strawberry.ID


@strawberry.input
class PublishMatchingRoundInput:
    round_id: strawberry.ID
    expected_emails: int | None = strawberry.field(
        default=None,
        description="The `publishPreview.emailed` you confirmed: publishing is refused with a "
        "Conflict if the round changed and a different number would now be emailed.",
    )


@strawberry.input(description="A round that FAILED, or whose worker stopped, to run again.")
class RetryMatchingRoundInput:
    round_id: strawberry.ID


@strawberry.input(description="Accept, or decline with an optional reason (up to 1,000).")
class RespondToProposedMatchInput:
    proposal_id: strawberry.ID
    accept: bool
    reason: str = ""


@strawberry.type(description="The proposal, as it stands now.")
class ProposedMatchSuccess:
    proposed_match: ProposedMatch


@strawberry.type(description="Both proposals, with their mentors swapped.")
class SwapProposedMentorsSuccess:
    proposed_match: ProposedMatch
    other_proposed_match: ProposedMatch


@strawberry.type(
    description="Your answer, recorded; `mentorship` is set once both sides have accepted."
)
class RespondToProposedMatchSuccess:
    proposed_match: ProposedMatch
    mentorship: Mentorship | None


CreateMatchingRoundResult = Annotated[
    MatchingRoundSuccess | errors.Problem,
    errors.result_named("CreateMatchingRoundResult", MatchingRoundSuccess),
]
RemoveProposedMatchResult = Annotated[
    ProposedMatchSuccess | errors.Problem,
    errors.result_named("RemoveProposedMatchResult", ProposedMatchSuccess),
]
SwapProposedMentorsResult = Annotated[
    SwapProposedMentorsSuccess | errors.Problem,
    errors.result_named("SwapProposedMentorsResult", SwapProposedMentorsSuccess),
]
PublishMatchingRoundResult = Annotated[
    MatchingRoundSuccess | errors.Problem,
    errors.result_named("PublishMatchingRoundResult", MatchingRoundSuccess),
]
RetryMatchingRoundResult = Annotated[
    MatchingRoundSuccess | errors.Problem,
    errors.result_named("RetryMatchingRoundResult", MatchingRoundSuccess),
]
RespondToProposedMatchResult = Annotated[
    RespondToProposedMatchSuccess | errors.Problem,
    errors.result_named("RespondToProposedMatchResult", RespondToProposedMatchSuccess),
]


# Queries and mutations ------------------------------------------------------------------------


@strawberry.type
class RoundQuery:
    """Rounds for organisers; a member's own proposed matches."""

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="Organisers: every round, newest first."
    )
    def matching_rounds(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[MatchingRound]:
        """A page of rounds."""
        limit = page_size(first, info, default=20)
        offset = decode_offset(after)
        rows = rounds.list_rounds(session=info.context.session, organiser=info.context.member)
        page = rows[offset : offset + limit]
        return connection(
            [MatchingRound.from_model(r) for r in page],
            offset=offset,
            more=len(rows) > offset + limit,
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: one round by id; null if there is none.",
    )
    def matching_round(self, info: Info, id: strawberry.ID) -> MatchingRound | None:
        """A round, with its progress, figures and proposals."""
        round_id = decode(id, type_name="MatchingRound")
        try:
            found = rounds.get_round(
                session=info.context.session, organiser=info.context.member, round_id=round_id
            )
        except NotFound:
            return None
        return MatchingRound.from_model(found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers: the round's proposals as CSV text (ids, names, score, status).",
    )
    def export_matching_round(self, info: Info, round_id: strawberry.ID) -> str:
        """The round as CSV."""
        return rounds.export_csv(
            session=info.context.session,
            organiser=info.context.member,
            round_id=decode(round_id, type_name="MatchingRound", field="roundId"),
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Offers from published rounds waiting for your answer, newest first.",
    )
    def my_proposed_matches(self, info: Info) -> list[ProposedMatch]:
        """The caller's open offers, as mentee or mentor."""
        rows = rounds.my_proposals(session=info.context.session, member=info.context.member)
        return [ProposedMatch.from_model(p) for p in rows]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A proposal you are in (organisers: any); null if there is none you may see.",
    )
    def proposed_match(self, info: Info, id: strawberry.ID) -> ProposedMatch | None:
        """One proposal."""
        proposal_id = decode(id, type_name="ProposedMatch")
        try:
            found = rounds.get_proposal(
                session=info.context.session, member=info.context.member, proposal_id=proposal_id
            )
        except NotFound:
            return None
        return ProposedMatch.from_model(found)


def _weights(weights: MatchingWeightsInput | None) -> dict[str, float]:
    if weights is None:
        return {}
    given = {name: getattr(weights, name) for name in rounds.WEIGHT_NAMES}
    return {name: value for name, value in given.items() if value is not None}


@strawberry.type
class RoundMutation:
    """Mutations on rounds (organisers) and on one's own proposed matches."""

    @strawberry.mutation(description="Organisers: create a round and start matching at once.")
    def create_matching_round(
        self, info: Info, input: CreateMatchingRoundInput
    ) -> CreateMatchingRoundResult:
        """Create a round and hand it to the job runner."""
        context = info.context

        def create() -> MatchingRoundSuccess:
            member_service.require_member(context.member)
            check_lists(member_ids=input.member_ids)
            check_text(name=input.name)
            created = rounds.create_round(
                session=context.session,
                organiser=context.member,
                settings=rounds.RoundSettings(
                    name=input.name,
                    cohort=from_enum(input.cohort),
                    cohort_member_ids=[
                        decode(i, type_name="Member", field="memberIds") for i in input.member_ids
                    ],
                    weights=_weights(input.weights),
                    priority=input.priority,
                    seed=input.seed,
                    respond_days=input.respond_days,
                    learn_from_outcomes=input.learn_from_outcomes,
                    programme_id=None
                    if input.programme_id is None
                    else decode(input.programme_id, type_name="Programme", field="programmeId"),
                ),
            )
            round_id: int = created.id
            # End this transaction first: the job writes from its own session, and on SQLite
            # an open transaction here would hold the write lock it needs.
            db.commit_for_job(context.session)
            rounds.start_round(round_id=round_id, engine=info.context.job_engine)
            context.session.expire_all()  # the job may already have moved the round on
            found = rounds.get_round(
                session=context.session, organiser=context.member, round_id=round_id
            )
            db.commit_for_job(context.session)  # leave no lock behind while the job runs
            return MatchingRoundSuccess(round=MatchingRound.from_model(found))

        return errors.outcome(create)

    @strawberry.mutation(
        description="Organisers: run a round again that failed or whose worker stopped; the "
        "new run replaces any proposals of an earlier one."
    )
    def retry_matching_round(
        self, info: Info, input: RetryMatchingRoundInput
    ) -> RetryMatchingRoundResult:
        """Queue the round again and hand it to the job runner."""
        context = info.context

        def retry() -> MatchingRoundSuccess:
            round_id = decode(input.round_id, type_name="MatchingRound", field="roundId")
            rounds.retry_round(session=context.session, organiser=context.member, round_id=round_id)
            db.commit_for_job(context.session)  # the job reads the queued round from its session
            rounds.start_round(round_id=round_id, engine=info.context.job_engine)
            context.session.expire_all()
            found = rounds.get_round(
                session=context.session, organiser=context.member, round_id=round_id
            )
            db.commit_for_job(context.session)
            return MatchingRoundSuccess(round=MatchingRound.from_model(found))

        return errors.outcome(retry)

    @strawberry.mutation(description="Organisers: take a proposed pair out of a round in review.")
    def remove_proposed_match(
        self, info: Info, input: RemoveProposedMatchInput
    ) -> RemoveProposedMatchResult:
        """Remove a pair before publishing."""
        context = info.context

        def remove() -> ProposedMatchSuccess:
            proposal = rounds.remove_proposal(
                session=context.session,
                organiser=context.member,
                proposal_id=decode(
                    input.proposal_id, type_name="ProposedMatch", field="proposalId"
                ),
            )
            return ProposedMatchSuccess(proposed_match=ProposedMatch.from_model(proposal))

        return errors.outcome(remove)

    @strawberry.mutation(description="Organisers: swap the mentors of two pairs in review.")
    def swap_proposed_mentors(
        self, info: Info, input: SwapProposedMentorsInput
    ) -> SwapProposedMentorsResult:
        """Swap two pairs' mentors, if the hard rules allow both new pairs."""
        context = info.context

        def swap() -> SwapProposedMentorsSuccess:
            first, second = rounds.swap_mentors(
                session=context.session,
                organiser=context.member,
                proposal_id=decode(
                    input.proposal_id, type_name="ProposedMatch", field="proposalId"
                ),
                other_proposal_id=decode(
                    input.other_proposal_id, type_name="ProposedMatch", field="otherProposalId"
                ),
            )
            return SwapProposedMentorsSuccess(
                proposed_match=ProposedMatch.from_model(first),
                other_proposed_match=ProposedMatch.from_model(second),
            )

        return errors.outcome(swap)

    @strawberry.mutation(description="Organisers: publish a round in review; both sides are told.")
    def publish_matching_round(
        self, info: Info, input: PublishMatchingRoundInput
    ) -> PublishMatchingRoundResult:
        """Turn every proposed pair into an offer to both sides."""
        context = info.context

        def publish() -> MatchingRoundSuccess:
            published = rounds.publish_round(
                session=context.session,
                organiser=context.member,
                round_id=decode(input.round_id, type_name="MatchingRound", field="roundId"),
                expected_emails=input.expected_emails,
            )
            return MatchingRoundSuccess(round=MatchingRound.from_model(published))

        return errors.outcome(publish)

    @strawberry.mutation(description="Accept or decline a proposed match you are in.")
    def respond_to_proposed_match(
        self, info: Info, input: RespondToProposedMatchInput
    ) -> RespondToProposedMatchResult:
        """Answer an offer; both accepting starts a mentorship, a decline is re-offered."""
        context = info.context

        def respond() -> RespondToProposedMatchSuccess:
            member = member_service.require_member(context.member)
            check_text(reason=input.reason)
            proposal = rounds.respond_to_proposal(
                session=context.session,
                member=member,
                proposal_id=decode(
                    input.proposal_id, type_name="ProposedMatch", field="proposalId"
                ),
                accept=input.accept,
                reason=input.reason,
            )
            context.reset_loaders()
            started = None
            if proposal.mentorship_id is not None:
                started = mentoring.get_mentorship(
                    session=context.session, member=member, mentorship_id=proposal.mentorship_id
                )
            return RespondToProposedMatchSuccess(
                proposed_match=ProposedMatch.from_model(proposal),
                mentorship=Mentorship.from_model(started) if started is not None else None,
            )

        return errors.outcome(respond)
