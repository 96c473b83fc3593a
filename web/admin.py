"""Admins' pages: the console's landing page, members (find, summary, suspend, reactivate,
resend the invitation, roles), the audit log, filtered and paged, and its CSV export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backend.accounts import two_factor
from backend.audit import actions
from backend.audit import service as audit
from backend.errors import Conflict, FieldErrors, Invalid, NotFound
from backend.members import console
from backend.members import service as member_service
from backend.skills import framework
from backend.skills import service as skill_service
from vocabulary import SKILL_GROUPS
from web import chapters as chapter_pages
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.render import NOTICES, form_errors, options, render
from web.two_factor import step_up_path

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/admin")

NOTICES.update(
    {
        "member-suspended": "The member is suspended: they are signed out everywhere and cannot "
        "sign in.",
        "member-reactivated": "The member is reactivated: they can sign in again.",
        "invitation-sent": "A new email has gone to the member.",
        "invitation-held": "No email went: this address has had as many as the hourly limit "
        "allows. Try again later.",
        "role-changed": "The member's roles have been changed.",
        "skill-added": "The skill has been added to the framework.",
        "skill-renamed": "The skill has been renamed everywhere it is shown.",
        "skill-retired": "The skill is retired: it stays where it is named but is no longer "
        "offered as a choice or used for suggestions.",
    }
)
MEMBER_FILTERS = ("text", "role", "status", "confirmed")
ROLE_OPTIONS = [
    ("member", "Members only (no extra role)"),
    ("organiser", "Organisers"),
    ("admin", "Admins"),
]
STATUS_OPTIONS = [("active", "Active"), ("suspended", "Suspended")]
CONFIRMED_OPTIONS = [("yes", "Confirmed"), ("no", "Not confirmed")]


@router.get("", response_class=HTMLResponse)
def landing(visitor: CurrentVisitor) -> Response:
    """The admin console: links to its parts (admins only)."""
    console.require_admin(session=visitor.db, member=visitor.member)
    return render(visitor, "admin/index.html")


def _cursor(request: Request, name: str) -> int | None:
    """A page link's member id (``after`` or ``before``); Invalid when the site did not make it."""
    text = request.query_params.get(name, "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        raise Invalid(console.PAGE_LINK, field=name)
    return int(text)


@router.get("/members", response_class=HTMLResponse)
def members(visitor: CurrentVisitor) -> Response:
    """Find members by name or email, role, status and whether confirmed; 50 a page, paged by
    keyset (``after``/``before`` a member id) so a page boundary never skips or repeats."""
    console.require_admin(session=visitor.db, member=visitor.member)
    values = {name: visitor.request.query_params.get(name, "")[:200] for name in MEMBER_FILTERS}
    choices: dict[str, Any] = {
        "roles": ROLE_OPTIONS,
        "statuses": STATUS_OPTIONS,
        "confirms": CONFIRMED_OPTIONS,
    }
    try:
        after = _cursor(visitor.request, "after")
        before = _cursor(visitor.request, "before")
        rows, more = console.find_members(
            session=visitor.db,
            admin=visitor.member,
            wanted=console.parse_filter(**values),
            after=after,
            before=before,
        )
    except Invalid as error:
        return render(
            visitor,
            "admin/members.html",
            status_code=400,
            errors=form_errors(error, default_field="text"),
            values=values,
            rows=[],
            prev_href=None,
            next_href=None,
            **choices,
        )
    kept = {k: v for k, v in values.items() if v}

    def href(**cursor: int) -> str:
        return "/admin/members?" + urlencode({**kept, **cursor})

    backwards = before is not None
    has_previous = more if backwards else after is not None
    has_next = True if backwards else more
    return render(
        visitor,
        "admin/members.html",
        values=values,
        rows=rows,
        prev_href=href(before=rows[0].member.id) if rows and has_previous else None,
        next_href=href(after=rows[-1].member.id) if rows and has_next else None,
        **choices,
    )


def _member_page(
    visitor: Visitor,
    member_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    summary = console.account_summary(session=visitor.db, admin=visitor.member, member_id=member_id)
    return render(
        visitor,
        "admin/member.html",
        status_code=status_code,
        errors=errors,
        values=values,
        summary=summary,
        suspend_reasons=list(console.SUSPEND_REASONS.items()),
        reactivate_reasons=list(console.REACTIVATE_REASONS.items()),
        role_options=options(("organiser", "admin")),
        with_factor=two_factor.needed(session=visitor.db, member=visitor.member)
        if visitor.member
        else False,
        **chapter_pages.member_context(visitor, member_id),
    )


@router.get("/members/{member_id:int}", response_class=HTMLResponse)
def member(visitor: CurrentVisitor, member_id: int) -> Response:
    """A member's account summary and what an admin can do about it."""
    return _member_page(visitor, member_id)


def _act(visitor: Visitor, member_id: int, action, notice: str, field: str) -> Response:
    try:
        action()
    except (Invalid, Conflict) as error:
        if isinstance(error, NotFound):
            raise
        return _member_page(
            visitor,
            member_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field=field),
        )
    return redirect(f"/admin/members/{member_id}?notice={notice}")


@router.get("/members/{member_id:int}/suspend", response_class=HTMLResponse)
def confirm_suspend(visitor: CurrentVisitor, member_id: int) -> Response:
    """Before suspending: what it will close (mentorships, requests, offers), to confirm."""
    reason = visitor.request.query_params.get("reason", "")[:40]
    try:
        preview = console.preview_suspension(
            session=visitor.db, admin=visitor.member, member_id=member_id, reason=reason
        )
    except (Invalid, Conflict) as error:
        if isinstance(error, NotFound):
            raise
        return _member_page(
            visitor,
            member_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field="reason"),
            values={"reason": reason},
        )
    return render(visitor, "admin/suspend.html", preview=preview)


@router.post("/members/{member_id:int}/suspend", response_class=HTMLResponse)
def suspend(visitor: CheckedVisitor, form: Form, member_id: int) -> Response:
    """Suspend the member, with a reason from the list."""
    reason = form_text(form, "reason")
    return _act(
        visitor,
        member_id,
        lambda: console.suspend(
            session=visitor.db, admin=visitor.member, member_id=member_id, reason=reason
        ),
        "member-suspended",
        "reason",
    )


@router.post("/members/{member_id:int}/reactivate", response_class=HTMLResponse)
def reactivate(visitor: CheckedVisitor, form: Form, member_id: int) -> Response:
    """Reactivate a suspended member, with a reason from the list."""
    reason = form_text(form, "reason")
    return _act(
        visitor,
        member_id,
        lambda: console.reactivate(
            session=visitor.db, admin=visitor.member, member_id=member_id, reason=reason
        ),
        "member-reactivated",
        "reason",
    )


@router.post("/members/{member_id:int}/resend", response_class=HTMLResponse)
def resend(visitor: CheckedVisitor, member_id: int) -> Response:
    """Send the invitation, or the confirmation link, again."""
    sent: list[bool] = []

    def send() -> None:
        sent.append(
            console.resend_invitation(
                session=visitor.db, admin=visitor.member, member_id=member_id
            )[1]
        )

    response = _act(visitor, member_id, send, "invitation-sent", "resend")
    if sent and not sent[0]:
        return redirect(f"/admin/members/{member_id}?notice=invitation-held")
    return response


@router.post("/members/{member_id:int}/role", response_class=HTMLResponse)
def role(visitor: CheckedVisitor, form: Form, member_id: int) -> Response:
    """Give or take away organiser or admin, after the step-up (``change_role``)."""
    console.require_admin(session=visitor.db, member=visitor.member)
    values = {"role": form_text(form, "role"), "change": form_text(form, "change")}
    try:
        if values["change"] not in ("grant", "revoke"):
            raise Invalid("Choose whether to give or take away the role.", field="change")
        member_service.change_role(
            session=visitor.db,
            admin=visitor.member,
            current=visitor.record,
            member_id=member_id,
            role=values["role"],
            granted=values["change"] == "grant",
            password=form_text(form, "password"),
        )
    except (Invalid, Conflict) as error:
        if isinstance(error, FieldErrors) and "second_factor" in error.errors:
            return redirect(step_up_path(f"/admin/members/{member_id}"))
        return _member_page(
            visitor,
            member_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field="role"),
            values=values,
        )
    return redirect(f"/admin/members/{member_id}?notice=role-changed")


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


def _skills_page(
    visitor: Visitor,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    console.require_admin(session=visitor.db, member=visitor.member)
    return render(
        visitor,
        "admin/skills.html",
        status_code=status_code,
        errors=errors,
        values=values,
        skills=skill_service.list_skills(session=visitor.db),
        groups=[(g, g) for g in SKILL_GROUPS],
    )


@router.get("/skills", response_class=HTMLResponse)
def skills(visitor: CurrentVisitor) -> Response:
    """The skills framework, retired skills included, and a form to add one."""
    return _skills_page(visitor)


@router.post("/skills", response_class=HTMLResponse)
def add_skill(visitor: CheckedVisitor, form: Form) -> Response:
    """Add a skill to a group."""
    values = {"name": form_text(form, "name"), "group": form_text(form, "group")}
    try:
        framework.add_skill(session=visitor.db, admin=visitor.member, **values)
    except (Invalid, Conflict) as error:
        return _skills_page(
            visitor,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field="name"),
            values=values,
        )
    return redirect("/admin/skills?notice=skill-added")


def _skill_page(
    visitor: Visitor,
    skill_id: str,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    console.require_admin(session=visitor.db, member=visitor.member)
    found = {s.id: s for s in skill_service.list_skills(session=visitor.db)}
    if skill_id not in found:
        raise NotFound("No skill with that id.")
    return render(
        visitor,
        "admin/skill.html",
        status_code=status_code,
        errors=errors,
        values=values or {"name": found[skill_id].name},
        skill=found[skill_id],
    )


@router.get("/skills/{skill_id}", response_class=HTMLResponse)
def skill(visitor: CurrentVisitor, skill_id: str) -> Response:
    """One skill: rename or retire it."""
    return _skill_page(visitor, skill_id)


@router.post("/skills/{skill_id}/rename", response_class=HTMLResponse)
def rename_skill(visitor: CheckedVisitor, form: Form, skill_id: str) -> Response:
    """Give the skill a new name."""
    values = {"name": form_text(form, "name")}
    try:
        framework.rename_skill(
            session=visitor.db, admin=visitor.member, skill_id=skill_id, name=values["name"]
        )
    except (Invalid, Conflict) as error:
        if isinstance(error, NotFound):
            raise
        return _skill_page(
            visitor,
            skill_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field="name"),
            values=values,
        )
    return redirect(f"/admin/skills/{skill_id}?notice=skill-renamed")


@router.post("/skills/{skill_id}/retire", response_class=HTMLResponse)
def retire_skill(visitor: CheckedVisitor, skill_id: str) -> Response:
    """Retire the skill."""
    try:
        framework.retire_skill(session=visitor.db, admin=visitor.member, skill_id=skill_id)
    except Conflict as error:
        return _skill_page(
            visitor, skill_id, status_code=409, errors=form_errors(error, default_field="retire")
        )
    return redirect(f"/admin/skills/{skill_id}?notice=skill-retired")
