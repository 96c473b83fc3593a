"""The impact report for commissioners: a page with charts, a CSV and a PDF of one report."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend.errors import FieldErrors, Invalid
from backend.insights import impact
from backend.insights import service as insights
from web.deps import CurrentVisitor, UnitOfWorkRoute, Visitor, form_date
from web.insights import BAR_AREA, Bar, Chart, ChartRow, filter_choices
from web.render import form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/organise/impact")

PATTERNS = ("solid", "hatched")


def chart_of(section: impact.Section) -> Chart | None:
    """The section's bar chart, drawn by the insights' reflowing chart (its words are HTML
    text, never scaled down on a phone; None when it charts nothing); hidden values drawn as
    no bar, with "* (hidden)" written where the bar would be."""
    figures = section.charted
    if not section.chart_title or not figures:
        return None
    top = max([abs(f.value) for f in figures if f.value is not None] + [1.0])
    grouped = any(f.group for f in figures)
    rows = [
        ChartRow(
            label=figure.group or figure.measure,
            label_y=0,
            bars=[
                Bar(
                    y=0,
                    width=0 if figure.value is None else round(BAR_AREA * abs(figure.value) / top),
                    text="* (hidden)" if figure.hidden else figure.shown,
                    pattern=PATTERNS[i % 2] if grouped else "solid",
                    hidden=figure.hidden,
                )
            ],
        )
        for i, figure in enumerate(figures)
    ]
    return Chart(
        key=f"chart-{section.key}",
        title=section.chart_title,
        description=section.summary,
        series=[(section.chart_title, "solid")],
        rows=rows,
        width=0,
        height=0,
        label_width=0,
    )


def _ids(visitor: Visitor) -> tuple[int | None, int | None]:
    query = visitor.request.query_params
    return (
        insights.parse_filter_id(
            query.get("programme", "")[:20], field="programme", what="programme"
        ),
        insights.parse_filter_id(query.get("chapter", "")[:20], field="chapter", what="chapter"),
    )


DATE_PARTS = tuple(f"{name}-{part}" for name in ("from", "to") for part in ("day", "month", "year"))


def _period(visitor: Visitor) -> impact.Period | None:
    """The period of the report from the optional "from" and "to" date inputs (London dates,
    both included): None when both are empty; an open end runs to today, an open start from
    the beginning. FieldErrors names the box that cannot be read."""
    query = FormData(
        [(k, v[:10]) for k, v in visitor.request.query_params.multi_items() if k in DATE_PARTS]
    )
    start, start_problem = form_date(query, "from", "start")
    end, end_problem = form_date(query, "to", "end")
    problems = {k: m for k, m in (("from", start_problem), ("to", end_problem)) if m}
    if problems:
        raise FieldErrors(problems)
    return impact.period_of(start, end)


def _query(visitor: Visitor, programme_id: int | None, chapter_id: int | None) -> str:
    kept = {k: v for k, v in (("programme", programme_id), ("chapter", chapter_id)) if v}
    params = visitor.request.query_params
    dates = {k: params[k][:10] for k in DATE_PARTS if params.get(k)}
    return ("?" + urlencode({**kept, **dates})) if kept or dates else ""


@router.get("", response_class=HTMLResponse)
def report_page(visitor: CurrentVisitor) -> Response:
    """The report of one programme (``?programme=``) or the network, optionally one chapter's
    members (``?chapter=``) and one period (``from-day`` ... ``to-year``, London dates):
    headline figures, a chart and data table per section."""
    params = visitor.request.query_params
    values = {name: params.get(name, "")[:20] for name in ("programme", "chapter")}
    values |= {name: params.get(name, "")[:10] for name in DATE_PARTS}
    try:
        programme_id, chapter_id = _ids(visitor)
        report = impact.impact_report(
            visitor.db,
            organiser=visitor.member,
            programme_id=programme_id,
            chapter_id=chapter_id,
            period=_period(visitor),
        )
    except Invalid as error:
        return render(
            visitor,
            "impact/report.html",
            status_code=400,
            errors=form_errors(error, default_field="programme", fields={"period": "to"}),
            values=values,
            filters=filter_choices(visitor),
            report=None,
            charts={},
            query="",
        )
    return render(
        visitor,
        "impact/report.html",
        values=values,
        filters=filter_choices(visitor),
        report=report,
        charts={s.key: chart_of(s) for s in report.sections},
        query=_query(visitor, programme_id, chapter_id),
        not_available=impact.NOT_AVAILABLE,
    )


def _download(visitor: Visitor, export: str) -> impact.ImpactReport:
    programme_id, chapter_id = _ids(visitor)
    return impact.impact_report(
        visitor.db,
        organiser=visitor.member,
        programme_id=programme_id,
        chapter_id=chapter_id,
        period=_period(visitor),
        export=export,
    )


def _filename(report: impact.ImpactReport, extension: str) -> str:
    name = "network" if report.programme_id is None else f"programme-{report.programme_id}"
    if report.chapter_id is not None:
        name += f"-chapter-{report.chapter_id}"
    return f"peerbridge-impact-{name}.{extension}"


def _headers(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }


@router.get("/report.csv")
def report_csv(visitor: CurrentVisitor) -> Response:
    """The report as CSV: one row per figure, suppressed exactly as on the page."""
    report = _download(visitor, "csv")
    return Response(
        report.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers=_headers(_filename(report, "csv")),
    )


def print_html(report: impact.ImpactReport) -> str:
    """The report's print template (HTML for WeasyPrint), from the same figures."""
    return templates.env.get_template("impact/print.html").render(
        report=report, not_available=impact.NOT_AVAILABLE
    )


def report_pdf_bytes(report: impact.ImpactReport) -> bytes:
    """The report as a PDF (WeasyPrint renders the print template; nothing is fetched)."""
    from weasyprint import HTML  # imported when asked: it loads Pango

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"the PDF fetches nothing ({url[:40]})")

    pdf = HTML(string=print_html(report), url_fetcher=no_fetch).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


@router.get("/report.pdf")
def report_pdf(visitor: CurrentVisitor) -> Response:
    """The report as a PDF with the same figures as the page and the CSV."""
    report = _download(visitor, "pdf")
    return Response(
        report_pdf_bytes(report),
        media_type="application/pdf",
        headers=_headers(_filename(report, "pdf")),
    )
