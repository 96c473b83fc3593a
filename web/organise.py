"""Organisers' pages: import members from the members CSV."""

from __future__ import annotations

import base64

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from backend.errors import Conflict, Invalid
from backend.members import service as member_service
from backend.members.importing import MODES as IMPORT_MODES
from backend.members.importing import import_members
from web.deps import CheckedVisitor, CurrentVisitor, Form, form_text
from web.render import form_errors, render

router = APIRouter(prefix="/organise")

MODE_LABELS = {
    "all-or-nothing": "All or nothing: import nothing if any row is wrong",
    "partial": "Import the good rows, and give me the rejected rows to fix",
}
MODES = [(mode, MODE_LABELS.get(mode, mode)) for mode in IMPORT_MODES]


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
    """Import the file; show what was created and updated, and every bad row."""
    organiser = member_service.require_organiser(session=visitor.db, member=visitor.member)
    mode = form_text(form, "mode")
    values = {"mode": mode}
    try:
        data = read_upload(form.get("file"), visitor.request.app.state.settings.max_import_bytes)
        if data is None:
            raise Invalid("Select a members CSV file to import.", field="file")
        result = import_members(
            session=visitor.db,
            data=data,
            mode=mode,
            invited_by=organiser.name,
            actor=organiser,
        )
    except (Invalid, Conflict) as error:
        visitor.db.rollback()
        return render(
            visitor,
            "organise/import.html",
            status_code=400,
            errors=form_errors(error, default_field="file"),
            values=values,
            modes=MODES,
        )
    rejects = result.rejects_csv.encode("utf-8") if result.rejects_csv else None
    return render(
        visitor,
        "organise/import_result.html",
        status_code=400 if result.errors and mode != "partial" else 200,
        result=result,
        mode=mode,
        rejects_href=(
            "data:text/csv;charset=utf-8;base64," + base64.b64encode(rejects).decode("ascii")
            if rejects and mode == "partial"
            else None
        ),
    )
