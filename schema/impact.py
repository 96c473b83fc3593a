"""The impact report for commissioners: sections of published figures (organisers only)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from backend.insights import impact
from schema.context import Info
from schema.insights import _ids
from schema.permissions import IsAuthenticated


@strawberry.type(description="One published figure of the impact report.")
class ImpactFigure:
    measure: str
    group: str = strawberry.field(description="The group it is for; empty for the whole view.")
    value: str = strawberry.field(
        description="As shown on the page, in the CSV and in the PDF: `*` when suppressed."
    )
    numeric_value: float | None = strawberry.field(
        description="The figure as a number when shown; null when suppressed."
    )
    hidden: bool = strawberry.field(description="True when suppressed (`*`).")


@strawberry.type(description="A section of the impact report.")
class ImpactSection:
    key: str
    title: str
    summary: str
    available: bool = strawberry.field(
        description="False while the section's source is not there yet (`Not available yet`)."
    )
    figures: list[ImpactFigure]


@strawberry.type(description="What one programme, or the whole network, achieved.")
class ImpactReport:
    title: str
    generated_at: datetime
    programme_name: str = strawberry.field(description="Empty for the whole network.")
    chapter_name: str = strawberry.field(description="Empty unless one chapter's members.")
    sections: list[ImpactSection]


def _figure(figure: impact.Figure) -> ImpactFigure:
    return ImpactFigure(
        measure=figure.measure,
        group=figure.group,
        value=figure.shown,
        numeric_value=figure.value,
        hidden=figure.hidden,
    )


@strawberry.type
class ImpactQuery:
    """Organisers only."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The impact report of one programme, or of the network (organisers who "
        "manage it and admins; every figure disclosure-controlled).",
    )
    def impact_report(
        self,
        info: Info,
        programme_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="One programme (leave out for the network)."),
        ] = None,
        chapter_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the members this chapter covers."),
        ] = None,
        period_from: Annotated[
            date | None,
            strawberry.argument(
                name="from",
                description="The first day counted, a London date (leave out for all time).",
            ),
        ] = None,
        period_to: Annotated[
            date | None,
            strawberry.argument(
                name="to",
                description="The last day counted, a London date (leave out for up to today).",
            ),
        ] = None,
    ) -> ImpactReport:
        """The report, section by section, for one period when ``from`` or ``to`` is given."""
        programme, chapter = _ids(programme_id, chapter_id)
        period = impact.period_of(period_from, period_to)
        report = impact.impact_report(
            info.context.session,
            organiser=info.context.member,
            programme_id=programme,
            chapter_id=chapter,
            period=period,
        )
        return ImpactReport(
            title=report.title,
            generated_at=report.generated_at,
            programme_name=report.programme_name,
            chapter_name=report.chapter_name,
            sections=[
                ImpactSection(
                    key=s.key,
                    title=s.title,
                    summary=s.summary,
                    available=s.available,
                    figures=[_figure(f) for f in s.figures],
                )
                for s in report.sections
            ],
        )
