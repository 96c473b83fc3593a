"""Admins' chapter pages: the chapters with their coverage, member counts and organisers;
creating, changing and deleting one; and, on a member's admin page, making them an organiser
of a chapter (or stopping it), behind the same step-up as a role change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from backend.chapters import service as chapters
from backend.errors import Conflict, FieldErrors, Invalid, NotFound
from backend.members import console
from backend.organisations.models import Organisation
from vocabulary import REGIONS
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_list,
    form_text,
)
from web.mentoring import path_id
from web.render import NOTICES, form_errors, render
from web.two_factor import step_up_path

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/admin")

NOTICES.update(
    {
        "chapter-created": "The chapter has been created.",
        "chapter-saved": "The chapter has been changed; its members follow the new coverage.",
        "chapter-deleted": "The chapter has been deleted.",
        "scope-granted": "The member is now an organiser of the chapter.",
        "scope-revoked": "The member no longer organises the chapter.",
    }
)
KIND_OPTIONS = list(chapters.KIND_LABELS.items())
FIELDS = {"organisation_ids": "organisations"}


def _organisation_options(visitor: Visitor) -> list[tuple[str, str]]:
    rows = visitor.db.exec(
        select(Organisation.id, Organisation.name).order_by(col(Organisation.name))
    ).all()
    return [(str(i), name) for i, name in rows]


def _settings(form: Any) -> tuple[chapters.ChapterSettings, dict[str, Any]]:
    regions = form_list(form, "regions")
    picked = form_list(form, "organisations")
    ids = [int(i) if i.isdigit() and len(i) < 11 else -1 for i in picked]
    values: dict[str, Any] = {
        "name": form_text(form, "name"),
        "kind": form_text(form, "kind"),
        "description": form_text(form, "description"),
        "regions": regions,
        "organisations": picked,
    }
    settings = chapters.ChapterSettings(
        name=form_text(form, "name"),
        kind=form_text(form, "kind"),
        description=form_text(form, "description"),
        regions=regions,
        organisation_ids=ids,
    )
    return settings, values


def _values(summary: chapters.ChapterSummary) -> dict[str, Any]:
    c = summary.chapter
    return {
        "name": c.name,
        "kind": c.kind,
        "description": c.description,
        "regions": summary.regions,
        "organisations": [str(o.id) for o in summary.organisations],
    }


def _form_page(
    visitor: Visitor,
    *,
    summary: chapters.ChapterSummary | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        visitor,
        "admin/chapter.html",
        status_code=status_code,
        errors=errors,
        values=values,
        summary=summary,
        kinds=KIND_OPTIONS,
        regions=REGIONS,
        organisation_options=_organisation_options(visitor),
    )


@router.get("/chapters", response_class=HTMLResponse)
def chapter_list(visitor: CurrentVisitor) -> Response:
    """Every chapter with what it covers, how many members and who organises it."""
    found = chapters.list_chapters(session=visitor.db, admin=visitor.member)
    return render(visitor, "admin/chapters.html", chapters=found, kinds=chapters.KIND_LABELS)


@router.get("/chapters/new", response_class=HTMLResponse)
def new_chapter(visitor: CurrentVisitor) -> Response:
    """The form for a new chapter."""
    console.require_admin(session=visitor.db, member=visitor.member)
    return _form_page(visitor, summary=None, values={"kind": "region", "regions": []})


@router.post("/chapters/new", response_class=HTMLResponse)
def create_chapter(visitor: CheckedVisitor, form: Form) -> Response:
    """Create the chapter; the form again with every problem when it is wrong."""
    settings, values = _settings(form)
    try:
        chapter = chapters.create_chapter(
            session=visitor.db, admin=visitor.member, settings=settings
        )
    except (Invalid, Conflict) as error:
        return _form_page(
            visitor,
            summary=None,
            values=values,
            errors=form_errors(error, default_field="name", fields=FIELDS),
            status_code=400 if isinstance(error, Invalid) else 409,
        )
    return redirect(f"/admin/chapters/{chapter.id}?notice=chapter-created")


@router.get("/chapters/{chapter_id:int}", response_class=HTMLResponse)
def chapter_page(visitor: CurrentVisitor, chapter_id: int) -> Response:
    """One chapter: change its name and coverage, see its organisers, delete it."""
    summary = chapters.get_chapter(
        session=visitor.db, admin=visitor.member, chapter_id=path_id(chapter_id)
    )
    return _form_page(visitor, summary=summary, values=_values(summary))


@router.post("/chapters/{chapter_id:int}", response_class=HTMLResponse)
def save_chapter(visitor: CheckedVisitor, form: Form, chapter_id: int) -> Response:
    """Save the chapter's changes."""
    settings, values = _settings(form)
    try:
        chapters.update_chapter(
            session=visitor.db,
            admin=visitor.member,
            chapter_id=path_id(chapter_id),
            settings=settings,
        )
    except (Invalid, Conflict) as error:
        summary = chapters.get_chapter(
            session=visitor.db, admin=visitor.member, chapter_id=chapter_id
        )
        return _form_page(
            visitor,
            summary=summary,
            values=values,
            errors=form_errors(error, default_field="name", fields=FIELDS),
            status_code=400 if isinstance(error, Invalid) else 409,
        )
    return redirect(f"/admin/chapters/{chapter_id}?notice=chapter-saved")


@router.post("/chapters/{chapter_id:int}/delete", response_class=HTMLResponse)
def delete_chapter(visitor: CheckedVisitor, chapter_id: int) -> Response:
    """Delete the chapter, unless a programme uses it (then say so)."""
    try:
        chapters.delete_chapter(
            session=visitor.db, admin=visitor.member, chapter_id=path_id(chapter_id)
        )
    except Conflict as error:
        summary = chapters.get_chapter(
            session=visitor.db, admin=visitor.member, chapter_id=chapter_id
        )
        return _form_page(
            visitor,
            summary=summary,
            values=_values(summary),
            errors={"delete": error.message},
            status_code=409,
        )
    return redirect("/admin/chapters?notice=chapter-deleted")


# On a member's admin page ------------------------------------------------------------------


def member_context(visitor: Visitor, member_id: int) -> dict[str, Any]:
    """What the member page's "Organiser of chapters" section shows: the chapters the member
    organises and the chapters to choose from."""
    return {
        "organiser_scopes": chapters.organiser_scopes_of(
            session=visitor.db, admin=visitor.member, member_id=member_id
        ),
        "chapter_options": [(str(c.id), c.name) for c in chapters.all_chapters(session=visitor.db)],
    }


@router.post("/members/{member_id:int}/scope", response_class=HTMLResponse)
def change_scope(visitor: CheckedVisitor, form: Form, member_id: int) -> Response:
    """Make the member an organiser of a chapter, or stop it, after the step-up."""
    from web.admin import _member_page

    console.require_admin(session=visitor.db, member=visitor.member)
    change = form_text(form, "scope_change")
    chapter = form_text(form, "chapter")
    values = {"scope_change": change, "chapter": chapter}
    try:
        if change not in ("grant", "revoke"):
            raise Invalid(
                "Choose whether to make them an organiser or stop it.", field="scope_change"
            )
        if not chapter.isdigit() or len(chapter) > 10:
            raise Invalid("Choose a chapter.", field="chapter")
        chapters.change_scope(
            session=visitor.db,
            admin=visitor.member,
            current=visitor.record,
            member_id=path_id(member_id),
            chapter_id=int(chapter),
            granted=change == "grant",
            password=form_text(form, "scope_password"),
        )
    except (Invalid, Conflict, NotFound) as error:
        if isinstance(error, FieldErrors) and "second_factor" in error.errors:
            return redirect(step_up_path(f"/admin/members/{member_id}"))
        if isinstance(error, NotFound) and error.field != "chapter_id":
            raise
        return _member_page(
            visitor,
            member_id,
            status_code=400 if isinstance(error, Invalid | NotFound) else 409,
            errors=form_errors(
                error,
                default_field="chapter",
                fields={"password": "scope_password", "chapter_id": "chapter"},
            ),
            values=values,
        )
    notice = "scope-granted" if change == "grant" else "scope-revoked"
    return redirect(f"/admin/members/{member_id}?notice={notice}")
