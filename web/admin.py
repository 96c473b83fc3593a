"""Admins' pages: the audit log, filtered and paged, and its CSV export."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backend.audit import actions
from backend.audit import service as audit
from backend.errors import Invalid
from web.deps import CurrentVisitor, UnitOfWorkRoute
from web.render import form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/admin")

FILTERS = ("action", "actor", "since", "until")
ACTION_OPTIONS = [(name, f"{label} ({name})") for name, label in actions.LABELS.items()]


def _query(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "")[:40] for name in FILTERS}


def _before(request: Request) -> int | None:
    text = request.query_params.get("before", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise Invalid("That page link is not one this site made.", field="before")
    return int(text)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(visitor: CurrentVisitor) -> Response:
    """Every organiser and admin action and new-device sign-in, newest first (admins only)."""
    audit.require_admin(session=visitor.db, member=visitor.member)
    values = _query(visitor.request)
    try:
        wanted = audit.parse_filter(**values)
        page, more = audit.events(
            session=visitor.db,
            viewer=visitor.member,
            wanted=wanted,
            before_id=_before(visitor.request),
        )
    except Invalid as error:
        return render(
            visitor,
            "admin/audit.html",
            status_code=400,
            errors=form_errors(error, default_field="action"),
            values=values,
            actions=ACTION_OPTIONS,
            page=[],
            next_href=None,
            csv_href=None,
        )
    kept = {k: v for k, v in values.items() if v}
    next_href = (
        "/admin/audit?" + urlencode({**kept, "before": page[-1].event.id})
        if more and page
        else None
    )
    return render(
        visitor,
        "admin/audit.html",
        values=values,
        actions=ACTION_OPTIONS,
        page=page,
        next_href=next_href,
        csv_href="/admin/audit.csv" + (f"?{urlencode(kept)}" if kept else ""),
    )


@router.get("/audit.csv")
def audit_csv(visitor: CurrentVisitor) -> Response:
    """The events the filters select as CSV (formula cells neutralised); itself audited."""
    wanted = audit.parse_filter(**_query(visitor.request))
    text = audit.export_csv(session=visitor.db, viewer=visitor.member, wanted=wanted)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="peerbridge-audit-log.csv"',
            "Cache-Control": "no-store",
        },
    )
