"""The organisers' insights dashboard: tables, accessible SVG charts, CSV of every table."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import Forbidden, Invalid, NotAuthenticated, NotFound
from backend.insights import health as health_figures
from backend.insights import service as insights
from backend.insights.disclosure import HIDDEN
from web.deps import CurrentVisitor, UnitOfWorkRoute, Visitor
from web.render import form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/organise/insights")

LABEL_WIDTH = 230
BAR_AREA = 380
BAR_HEIGHT = 16
GAP = 10
PATTERNS = ("solid", "hatched", "dotted")


@dataclass(frozen=True)
class Bar:
    """One bar: where it is drawn, how long, and the words beside it."""

    y: int
    width: int
    text: str
    pattern: str
    hidden: bool


@dataclass(frozen=True)
class ChartRow:
    """A group's label and its bars (one per series)."""

    label: str
    label_y: int
    bars: list[Bar]


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, laid out for an SVG template: no scripts, no colour alone."""

    key: str
    title: str
    description: str
    series: list[tuple[str, str]]
    rows: list[ChartRow]
    width: int
    height: int
    label_width: int
    bar_area: int = BAR_AREA  # the length of the longest bar, in the units of ``Bar.width``


def bar_chart(
    *,
    key: str,
    title: str,
    description: str,
    table: insights.Table,
    columns: list[int],
    unit: str = "",
) -> Chart:
    """Bars for ``columns`` of each row of ``table`` (its Total row left out)."""
    rows = [row for row in table.rows if row[0] != "Total"]
    values = [insights.number_of(row[c]) for row in rows for c in columns]
    top = max([v for v in values if v is not None] + [1.0])
    per_row = BAR_HEIGHT * len(columns) + GAP
    legend = 28 if len(columns) > 1 else 0
    out: list[ChartRow] = []
    for r, row in enumerate(rows):
        top_y = legend + r * per_row
        bars = []
        for s, column in enumerate(columns):
            value = insights.number_of(row[column])
            hidden = row[column] == HIDDEN
            bars.append(
                Bar(
                    y=top_y + s * BAR_HEIGHT,
                    width=0 if value is None else round(BAR_AREA * value / top),
                    text="* (hidden)" if hidden else f"{row[column]}{unit}",
                    pattern=PATTERNS[s % len(PATTERNS)],
                    hidden=hidden,
                )
            )
        out.append(ChartRow(label=row[0], label_y=top_y + per_row // 2, bars=bars))
    return Chart(
        key=key,
        title=title,
        description=description,
        series=[(table.columns[c], PATTERNS[i % len(PATTERNS)]) for i, c in enumerate(columns)],
        rows=out,
        width=LABEL_WIDTH + BAR_AREA + 110,
        height=legend + len(rows) * per_row + 4,
        label_width=LABEL_WIDTH,
    )


def _charts(report: insights.Insights) -> dict[str, Chart]:
    charts = {}
    for breakdown in report.breakdowns:
        table = insights.breakdown_table(breakdown)
        members = table.columns.index("Share of members %")
        charts[table.key] = bar_chart(
            key=table.key,
            title=f"Share of members and of mentees by {insights.in_sentence(breakdown.title)}",
            description=breakdown.summary,
            table=table,
            columns=[members, members + 1],
            unit="%",
        )
    charts["trend"] = bar_chart(
        key="trend",
        title="Members joining and matched each month",
        description=report.trend.summary,
        table=report.trend,
        columns=[1, 3],
    )
    charts["supply-by-region"] = bar_chart(
        key="supply-by-region",
        title="Members seeking a mentor against free places, by region",
        description=report.supply_by_region.summary,
        table=report.supply_by_region,
        columns=[1, 3],
    )
    return charts


FILTER_FIELDS = ("programme", "chapter", "funnel")
DEFAULT_FUNNEL = "band"


def _filter_values(visitor: Visitor) -> dict[str, str]:
    return {name: visitor.request.query_params.get(name, "")[:20] for name in FILTER_FIELDS}


def _filter_ids(values: dict[str, str]) -> tuple[int | None, int | None]:
    """The programme and chapter asked for (Invalid, naming the field, for a bad id)."""
    return (
        insights.parse_filter_id(values["programme"], field="programme", what="programme"),
        insights.parse_filter_id(values["chapter"], field="chapter", what="chapter"),
    )


@dataclass(frozen=True)
class FilterChoices:
    """The filter form's choices as (value, text) pairs."""

    programmes: list[tuple[int, str]]
    chapters: list[tuple[int, str]]
    funnel: list[tuple[str, str]]
    network: bool


def filter_choices(visitor: Visitor) -> FilterChoices | None:
    """The filter form's choices, for organisers of the network or of a chapter."""
    try:
        options = insights.filter_options(session=visitor.db, organiser=visitor.member)
    except (Forbidden, NotAuthenticated):
        return None
    return FilterChoices(
        programmes=[(p.id, p.name) for p in options.programmes],
        chapters=[(c.id, c.name) for c in options.chapters],
        funnel=[(d.key, d.title) for d in insights.DIMENSIONS],
        network=options.network,
    )


@router.get("", response_class=HTMLResponse)
def dashboard(visitor: CurrentVisitor) -> Response:
    """Every fixed breakdown, each as a chart, a summary line and a data table; filtered by
    programme and/or chapter when the form asks (with the programme's applications funnel)."""
    values = _filter_values(visitor)
    try:
        programme_id, chapter_id = _filter_ids(values)
        funnel_by = values["funnel"] or DEFAULT_FUNNEL
        if insights.dimension(funnel_by) is None:
            raise Invalid("Choose a breakdown for the funnel from the list.", field="funnel")
    except Invalid as error:
        return render(
            visitor,
            "insights/dashboard.html",
            status_code=400,
            errors=form_errors(error, default_field="programme"),
            values=values,
            filters=filter_choices(visitor),
            report=None,
            tables=[],
            charts={},
            query="",
        )
    filters = filter_choices(visitor)
    if programme_id is None and chapter_id is None and filters and not filters.network:
        # A chapter organiser sees their (first) chapter's figures until they choose.
        chapter_id = filters.chapters[0][0] if filters.chapters else None
        values = {**values, "chapter": str(chapter_id or "")}
    report = insights.insights(
        session=visitor.db,
        organiser=visitor.member,
        programme_id=programme_id,
        chapter_id=chapter_id,
    )
    tables = report.tables()
    if programme_id is not None:
        funnel = insights.programme_funnel(
            session=visitor.db,
            organiser=visitor.member,
            programme_id=programme_id,
            dimension_key=funnel_by,
            chapter_id=chapter_id,
        )
        tables.insert(0, funnel.table())
        # Relationship health of the programme (backend.insights.health).
        tables.insert(
            1,
            health_figures.programme_health(
                session=visitor.db, organiser=visitor.member, programme_id=programme_id
            ).table(),
        )
    kept = {k: v for k, v in (("programme", programme_id), ("chapter", chapter_id)) if v}
    return render(
        visitor,
        "insights/dashboard.html",
        values={**values, "funnel": funnel_by},
        filters=filters,
        report=report,
        tables=tables,
        charts=_charts(report),
        query=("?" + urlencode(kept)) if kept else "",
    )


@router.get("/{key}.csv")
def table_csv(visitor: CurrentVisitor, key: str) -> Response:
    """One table as CSV, suppressed exactly as on the page (of the filtered view asked for)."""
    programme_id, chapter_id = _filter_ids(_filter_values(visitor))
    table = insights.export_table(
        session=visitor.db,
        organiser=visitor.member,
        key=key,
        programme_id=programme_id,
        chapter_id=chapter_id,
    )
    if table is None:
        raise NotFound("There is no table with that name.")
    return Response(
        table.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="peerbridge-{table.key}.csv"',
            "Cache-Control": "no-store",
        },
    )
