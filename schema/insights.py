"""Organiser insights: a fixed set of breakdowns, every figure under disclosure control."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from backend.insights import service as insights
from backend.insights.disclosure import Count, Ratio
from backend.opportunities import reach as opportunity_reach
from schema.context import Info
from schema.enums import InsightDimension
from schema.ids import decode
from schema.permissions import IsAuthenticated


@strawberry.type(
    description="A published count: perturbed by the cell key method (at most 6 either way), "
    "then `*` for 1-7, otherwise rounded to 5."
)
class PublishedCount:
    shown: str = strawberry.field(description="As shown on the page: `*`, `0`, `1,235`...")
    value: int | None = strawberry.field(
        description="The perturbed, rounded count; null when hidden."
    )

    @strawberry.field(description="True when suppressed.")
    def hidden(self) -> bool:
        """Whether the count is hidden."""
        return self.value is None

    @classmethod
    def of(cls, count: Count) -> PublishedCount:
        """The GraphQL view of a published count."""
        return cls(shown=count.text, value=count.value)


@strawberry.type(description="A group's rate over the reference group's, with a 95% interval.")
class RelativeLikelihood:
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, ratio: Ratio | None) -> RelativeLikelihood | None:
        """The GraphQL view of a ratio (null where hidden)."""
        return None if ratio is None else cls(value=ratio.value, low=ratio.low, high=ratio.high)


@strawberry.type(description="The funnel stages as published counts.")
class FunnelCounts:
    joined: PublishedCount
    sought: PublishedCount = strawberry.field(description="Asked for a mentor.")
    matched: PublishedCount
    active: PublishedCount = strawberry.field(description="Mentorship active now.")
    completed: PublishedCount
    mentors: PublishedCount

    @classmethod
    def of(cls, counts: dict[str, Count]) -> FunnelCounts:
        """Counts keyed by stage."""
        return cls(**{key: PublishedCount.of(counts[key]) for key in insights.COUNT_COLUMNS})


@strawberry.type(description="One group of a breakdown; figures hidden where counts are.")
class InsightGroup:
    group: str
    label: str
    counts: FunnelCounts
    share_of_members: float | None = strawberry.field(description="Percent.")
    share_of_mentees: float | None = strawberry.field(description="Percent.")
    share_of_mentors: float | None = strawberry.field(description="Percent.")
    match_rate: float | None = strawberry.field(description="Percent of those asking, matched.")
    relative_likelihood: RelativeLikelihood | None = strawberry.field(
        description="Of being matched, against the reference group; null for the reference."
    )
    median_days_to_match: int | None


@strawberry.type(description="The funnel, shares and likelihoods by one dimension.")
class InsightBreakdown:
    dimension: InsightDimension
    title: str
    reference_group: str
    summary: str
    groups: list[InsightGroup]
    totals: FunnelCounts


@strawberry.type(description="A table exactly as shown, with its CSV (suppressed the same).")
class InsightTable:
    key: str
    title: str
    summary: str
    columns: list[str]
    rows: list[list[str]]
    table: strawberry.Private[insights.Table]
    within: strawberry.Private[insights.Within | None] = None

    @strawberry.field(description="The table as CSV; asking for it is a download, audited.")
    def csv(self, info: Info) -> str:
        """The CSV, recorded in the audit log like a download from the dashboard."""
        return insights.table_csv(
            session=info.context.session,
            organiser=info.context.member,
            table=self.table,
            within=self.within,
        )

    @classmethod
    def of(cls, table: insights.Table, within: insights.Within | None = None) -> InsightTable:
        """The GraphQL view of a published table (of a filtered view: ``within``)."""
        return cls(
            key=table.key,
            title=table.title,
            summary=table.summary,
            columns=table.columns,
            rows=table.rows,
            table=table,
            within=within,
        )


@strawberry.type(description="The organisers' dashboard: aggregates only, never a person.")
class Insights:
    generated_at: datetime
    members: PublishedCount
    breakdowns: list[InsightBreakdown]
    cross_organisation: InsightTable
    supply_by_region: InsightTable
    skills: InsightTable
    shortfalls: InsightTable
    trend: InsightTable
    widening_parity: InsightTable | None = strawberry.field(
        default=None,
        description="Applied, accepted and matched with and without widening-access priority, "
        "per programme.",
    )


@strawberry.type(description="A programme's applications funnel stages as published counts.")
class ProgrammeFunnelCounts:
    applied: PublishedCount = strawberry.field(description="Applied as a mentee (any outcome).")
    accepted: PublishedCount
    matched: PublishedCount = strawberry.field(
        description="Accepted, with a mentorship in the programme (any status)."
    )
    active: PublishedCount = strawberry.field(description="That mentorship is active now.")
    completed: PublishedCount

    @classmethod
    def of(cls, counts: dict[str, Count]) -> ProgrammeFunnelCounts:
        """Counts keyed by stage."""
        return cls(**{key: PublishedCount.of(counts[key]) for key in insights.FUNNEL_COLUMNS})


@strawberry.type(
    description="Each stage as a percentage of the one before, from the published counts; "
    "null where either is hidden."
)
class ProgrammeFunnelConversions:
    accepted: float | None = strawberry.field(description="Accepted of applied.")
    matched: float | None = strawberry.field(description="Matched of accepted.")
    active: float | None = strawberry.field(description="Active of matched.")
    completed: float | None = strawberry.field(description="Completed of matched.")


@strawberry.type(description="One group of a programme's funnel.")
class ProgrammeFunnelGroup:
    group: str
    label: str
    counts: ProgrammeFunnelCounts
    conversions: ProgrammeFunnelConversions


@strawberry.type(description="A programme's applications funnel by one dimension.")
class ProgrammeFunnel:
    programme_name: str
    dimension: InsightDimension
    title: str
    summary: str
    groups: list[ProgrammeFunnelGroup]
    totals: ProgrammeFunnelCounts
    total_conversions: ProgrammeFunnelConversions
    table: InsightTable = strawberry.field(description="The funnel as shown on the page.")


def _programme_funnel(funnel: insights.Funnel, within: insights.Within) -> ProgrammeFunnel:
    return ProgrammeFunnel(
        programme_name=funnel.programme_name,
        dimension=InsightDimension(funnel.dimension),
        title=funnel.title,
        summary=funnel.summary,
        groups=[
            ProgrammeFunnelGroup(
                group=row.group,
                label=row.label,
                counts=ProgrammeFunnelCounts.of(row.counts),
                conversions=ProgrammeFunnelConversions(**row.conversions),
            )
            for row in funnel.rows
        ],
        totals=ProgrammeFunnelCounts.of(funnel.totals),
        total_conversions=ProgrammeFunnelConversions(**funnel.total_conversions),
        table=InsightTable.of(funnel.table(), within),
    )


def _ids(
    programme_id: strawberry.ID | None, chapter_id: strawberry.ID | None
) -> tuple[int | None, int | None]:
    return (
        None
        if programme_id is None
        else decode(programme_id, type_name="Programme", field="programme_id"),
        None if chapter_id is None else decode(chapter_id, type_name="Chapter", field="chapter_id"),
    )


def _breakdown(breakdown: insights.Breakdown) -> InsightBreakdown:
    return InsightBreakdown(
        dimension=InsightDimension(breakdown.dimension),
        title=breakdown.title,
        reference_group=breakdown.reference_group,
        summary=breakdown.summary,
        groups=[
            InsightGroup(
                group=row.group,
                label=row.label,
                counts=FunnelCounts.of(row.counts),
                share_of_members=row.share_of_members,
                share_of_mentees=row.share_of_mentees,
                share_of_mentors=row.share_of_mentors,
                match_rate=row.match_rate,
                relative_likelihood=RelativeLikelihood.of(row.relative_likelihood),
                median_days_to_match=row.median_days_to_match,
            )
            for row in breakdown.rows
        ],
        totals=FunnelCounts.of(breakdown.totals),
    )


@strawberry.type
class InsightsQuery:
    """Organisers only."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Participation and diversity figures (organisers only; aggregates only).",
    )
    def insights(
        self,
        info: Info,
        dimensions: list[InsightDimension] | None = None,
        programme_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only this programme's people and mentorships (organisers who manage "
                "it only)."
            ),
        ] = None,
        chapter_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only the members this chapter covers (a chapter in your scope)."
            ),
        ] = None,
    ) -> Insights:
        """The dashboard for the fixed breakdowns asked for (all when left out)."""
        keys = None if dimensions is None else [d.value for d in dimensions]
        programme, chapter = _ids(programme_id, chapter_id)
        report = insights.insights(
            session=info.context.session,
            organiser=info.context.member,
            dimensions=keys,
            programme_id=programme,
            chapter_id=chapter,
        )
        within = report.within
        return Insights(
            generated_at=report.generated_at,
            members=PublishedCount.of(report.members),
            breakdowns=[_breakdown(b) for b in report.breakdowns],
            cross_organisation=InsightTable.of(report.cross_organisation, within),
            supply_by_region=InsightTable.of(report.supply_by_region, within),
            skills=InsightTable.of(report.skills, within),
            shortfalls=InsightTable.of(report.shortfalls, within),
            trend=InsightTable.of(report.trend, within),
            widening_parity=(
                None
                if report.widening_parity is None
                else InsightTable.of(report.widening_parity, within)
            ),
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A programme's applications funnel (applied, accepted, matched, active, "
        "completed) by one dimension, disclosure-controlled (organisers who manage it only).",
    )
    def programme_funnel(
        self,
        info: Info,
        programme_id: strawberry.ID,
        dimension: InsightDimension,
        chapter_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the applicants this chapter covers."),
        ] = None,
    ) -> ProgrammeFunnel:
        """The funnel of one programme."""
        programme, chapter = _ids(programme_id, chapter_id)
        assert programme is not None  # a required argument
        session, member = info.context.session, info.context.member
        funnel = insights.programme_funnel(
            session=session,
            organiser=member,
            programme_id=programme,
            dimension_key=dimension.value,
            chapter_id=chapter,
        )
        within = insights.Within(programme_id=programme, chapter_id=chapter)
        return _programme_funnel(funnel, within)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Reach of development opportunities and events among the members you "
        "organise: take-up by band, by region and by widening-access flag (members, "
        "opportunities open to them, saved, interested, events open to them, going to an event, "
        "attended one), then open opportunities against members seeking each skill (in one "
        "region, or all). Counts of members are "
        "under the insights' disclosure control.",
    )
    def reach(
        self,
        info: Info,
        region: Annotated[
            str | None,
            strawberry.argument(description="Supply and demand in this NHS England region only."),
        ] = None,
    ) -> list[InsightTable]:
        """The reach tables, as on /organise/reach."""
        tables = opportunity_reach.reach(
            session=info.context.session, member=info.context.member, region=region
        )
        return [InsightTable.of(t) for t in tables]
