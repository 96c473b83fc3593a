"""Organiser insights: a fixed set of breakdowns, every figure under disclosure control."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.insights import service as insights
from backend.insights.disclosure import Count, Ratio
from schema.context import Info
from schema.enums import InsightDimension
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

    @strawberry.field(description="The table as CSV; asking for it is a download, audited.")
    def csv(self, info: Info) -> str:
        """The CSV, recorded in the audit log like a download from the dashboard."""
        return insights.table_csv(
            session=info.context.session, organiser=info.context.member, table=self.table
        )

    @classmethod
    def of(cls, table: insights.Table) -> InsightTable:
        """The GraphQL view of a published table."""
        return cls(
            key=table.key,
            title=table.title,
            summary=table.summary,
            columns=table.columns,
            rows=table.rows,
            table=table,
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
    ) -> Insights:
        """The dashboard for the fixed breakdowns asked for (all when left out)."""
        keys = None if dimensions is None else [d.value for d in dimensions]
        report = insights.insights(
            session=info.context.session, organiser=info.context.member, dimensions=keys
        )
        return Insights(
            generated_at=report.generated_at,
            members=PublishedCount.of(report.members),
            breakdowns=[_breakdown(b) for b in report.breakdowns],
            cross_organisation=InsightTable.of(report.cross_organisation),
            supply_by_region=InsightTable.of(report.supply_by_region),
            skills=InsightTable.of(report.skills),
            shortfalls=InsightTable.of(report.shortfalls),
            trend=InsightTable.of(report.trend),
            widening_parity=(
                None if report.widening_parity is None else InsightTable.of(report.widening_parity)
            ),
        )
