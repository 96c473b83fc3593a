"""The organisers' insights dashboard: tables, accessible SVG charts, CSV of every table."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import NotFound
from backend.insights import service as insights
from backend.insights.disclosure import HIDDEN
from web.deps import CurrentVisitor, UnitOfWorkRoute
from web.render import render

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


def _number(text: str) -> float | None:
    cleaned = text.replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


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
    values = [_number(row[c]) for row in rows for c in columns]
    top = max([v for v in values if v is not None] + [1.0])
    per_row = BAR_HEIGHT * len(columns) + GAP
    legend = 28 if len(columns) > 1 else 0
    out: list[ChartRow] = []
    for r, row in enumerate(rows):
        top_y = legend + r * per_row
        bars = []
        for s, column in enumerate(columns):
            value = _number(row[column])
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


@router.get("", response_class=HTMLResponse)
def dashboard(visitor: CurrentVisitor) -> Response:
    """Every fixed breakdown, each as a chart, a summary line and a data table."""
    report = insights.insights(session=visitor.db, organiser=visitor.member)
    return render(
        visitor,
        "insights/dashboard.html",
        report=report,
        tables=report.tables(),
        charts=_charts(report),
    )


@router.get("/{key}.csv")
def table_csv(visitor: CurrentVisitor, key: str) -> Response:
    """One table as CSV, suppressed exactly as on the page."""
    table = insights.export_table(session=visitor.db, organiser=visitor.member, key=key)
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
