"""Organisers' pages: import members from the members CSV."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from backend import db
from backend.chapters import service as chapters
from backend.errors import Conflict, Invalid
from backend.members import importing
from backend.members import service as member_service
from backend.members.importing import MODES as IMPORT_MODES
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, form_text
from web.mentoring import path_id
from web.render import form_errors, progress, render

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/organise")

MODE_LABELS = {
    "all-or-nothing": "All or nothing: import nothing if any row is wrong",
    "partial": "Import the good rows, and give me the rejected rows to fix",
}
MODES = [(mode, MODE_LABELS.get(mode, mode)) for mode in IMPORT_MODES]


# The organisers' tools, each with what it is for; ``network`` ones need the network organiser
# role (a chapter organiser's scope does not reach them), ``admin`` ones the admin role.
TOOLS = [
    (
        "Matching rounds",
        "/organise/rounds",
        "Run a matching round, review the proposed pairs and publish them.",
        "scope",
    ),
    (
        "Programmes",
        "/organise/programmes",
        "Set up programmes, their questions, applications, surveys and feedback.",
        "scope",
    ),
    (
        "Peer circles",
        "/circles",
        "Form peer circles from the members waiting for one, and move people between circles.",
        "scope",
    ),
    (
        "Moderation",
        "/community/moderation",
        "Reported posts, comments and messages, and hidden content you can restore.",
        "scope",
    ),
    (
        "Needs attention",
        "/organise/needs-attention",
        "Requests with no answer, mentorships gone quiet and members waiting.",
        "scope",
    ),
    (
        "Insights",
        "/organise/insights",
        "Who the network reaches, by band, region and background, with small numbers hidden.",
        "scope",
    ),
    (
        "Impact report",
        "/organise/impact",
        "What mentoring achieved over a period, as a page or a PDF.",
        "scope",
    ),
    (
        "Import members",
        "/organise/import",
        "Add or update members from a members CSV file.",
        "network",
    ),
    (
        "Admin console",
        "/admin",
        "Members, skills, organisations, chapters and the audit log.",
        "admin",
    ),
]


@router.get("", response_class=HTMLResponse)
def hub(visitor: CurrentVisitor) -> Response:
    """The organisers' tools in one place: only those the visitor's role and scope may use."""
    chapters.require_scope(session=visitor.db, member=visitor.member)
    allowed = {"scope"} | ({"network"} if visitor.is_organiser else set())
    if "admin" in visitor.roles:
        allowed.add("admin")
    tools = [(name, href, what) for name, href, what, needs in TOOLS if needs in allowed]
    return render(visitor, "organise/hub.html", tools=tools)


@router.get("/import", response_class=HTMLResponse)
def import_form(visitor: CurrentVisitor) -> Response:
    """Upload a members CSV (organisers only)."""
    member_service.require_organiser(session=visitor.db, member=visitor.member)
    return render(visitor, "organise/import.html", modes=MODES, values={"mode": "all-or-nothing"})


def read_upload(upload: object, limit: int) -> bytes | None:
    """The uploaded file's bytes, or None when no file was chosen; too large raises Invalid."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    # A sync read of the spooled file: this handler runs in the thread pool, off the event loop.
    upload.file.seek(0)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise Invalid(f"The file must be {limit // (1024 * 1024)} MB or smaller.", field="file")
    return data


@router.post("/import", response_class=HTMLResponse)
def import_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Store the file and start the import as a job; the status page follows its progress."""
    organiser = member_service.require_organiser(session=visitor.db, member=visitor.member)
    mode = form_text(form, "mode")
    values = {"mode": mode}
    upload = form.get("file")
    try:
        data = read_upload(upload, visitor.request.app.state.settings.max_import_bytes)
        if data is None:
            raise Invalid("Select a members CSV file to import.", field="file")
        member_import = importing.start_import(
            session=visitor.db,
            actor=organiser,
            data=data,
            mode=mode,
            filename=(upload.filename or "") if isinstance(upload, UploadFile) else "",
        )
    except (Invalid, Conflict) as error:
        return render(
            visitor,
            "organise/import.html",
            status_code=400,
            errors=form_errors(error, default_field="file"),
            values=values,
            modes=MODES,
        )
    import_id: int = member_import.id
    db.commit_for_job(visitor.db)  # the job reads the file from its own session
    importing.enqueue_import(import_id=import_id, engine=visitor.request.app.state.engine)
    return redirect(f"/organise/import/{import_id}")


@router.get("/import/{import_id:int}", response_class=HTMLResponse)
def import_status(visitor: CurrentVisitor, import_id: int) -> Response:
    """How far the import has got; once finished, what was created and updated, and every bad
    row. While it runs the page refreshes itself (and has a Refresh link)."""
    member_import = importing.get_import(
        session=visitor.db, actor=visitor.member, import_id=path_id(import_id)
    )
    if member_import.status in ("queued", "running", "failed"):
        return render(
            visitor,
            "organise/import_status.html",
            item=member_import,
            stalled=importing.is_stalled(member_import),
        )
    result = importing.import_result(member_import)
    return render(
        visitor,
        "organise/import_result.html",
        result=result,
        mode=member_import.mode,
        more_errors=max(member_import.error_count - len(result.errors), 0),
        rejects_href=(
            f"/organise/import/{import_id}/rejects.csv"
            if member_import.rejects_csv and member_import.mode == "partial"
            else None
        ),
    )


@router.get("/import/{import_id:int}/progress")
def import_progress(visitor: CurrentVisitor, import_id: int) -> Response:
    """How far the import has got, as JSON for the progress page's live region."""
    item = importing.get_import(
        session=visitor.db, actor=visitor.member, import_id=path_id(import_id)
    )
    percent = round(item.progress * 100)
    running = item.status in ("queued", "running") and not importing.is_stalled(item)
    if running:
        written = (
            f": {item.rows_written:,} of {item.rows_total:,} rows written"
            if item.rows_total and item.rows_written
            else ""
        )
        message = f"{item.stage}{written}."
    elif item.status == "done":
        message = "The import has finished."
    else:
        message = "The import stopped."
    return progress(running=running, message=message, percent=percent)


@router.get("/import/{import_id:int}/rejects.csv")
def import_rejects(visitor: CurrentVisitor, import_id: int) -> Response:
    """The rejected rows with their reasons, to fix and import again."""
    rejects = importing.rejects_file(
        session=visitor.db, actor=visitor.member, import_id=path_id(import_id)
    )
    return Response(
        rejects.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rejected-rows.csv"'},
    )


@router.post("/import/{import_id:int}/retry", response_class=HTMLResponse)
def import_retry(visitor: CheckedVisitor, import_id: int) -> Response:
    """Run an import that stopped again; rows already written are updated, not doubled."""
    importing.retry_import(session=visitor.db, actor=visitor.member, import_id=path_id(import_id))
    db.commit_for_job(visitor.db)
    importing.enqueue_import(import_id=import_id, engine=visitor.request.app.state.engine)
    return redirect(f"/organise/import/{import_id}")
