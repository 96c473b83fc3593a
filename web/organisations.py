"""The organisation register's pages for admins (/admin/organisations: find, import an ODS file,
edit, map and merge), and the register's choices offered wherever a member names their
organisation (the ``organisation_choices`` template global)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import Conflict, Invalid
from backend.members import console
from backend.organisations import register
from backend.organisations import service as organisation_service
from backend.organisations.models import ORGANISATION_TYPES, Organisation
from vocabulary import REGIONS, humanise
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.organise import read_upload
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/admin/organisations")

NOTICES.update(
    {
        "organisation-updated": "The organisation has been changed.",
        "organisation-registered": "The organisation is now in the register.",
        "organisation-merged": "The organisation has been merged: its members and everything "
        "that named it now name the organisation it was merged into.",
    }
)
TYPE_OPTIONS = [(t, humanise(t)) for t in ORGANISATION_TYPES]
IMPORT_TYPE_OPTIONS = [(register.DERIVE, "Work it out from each name"), *TYPE_OPTIONS]
STATUS_OPTIONS = [
    ("register", "In the register"),
    ("other", "Typed by members, waiting to be matched"),
    ("closed", "Closed"),
]
REGION_OPTIONS = [(r, r) for r in REGIONS]
MAX_UPLOAD = register.MAX_FILE_BYTES


def organisation_choices(visitor: Visitor) -> list[Organisation]:
    """The register's open organisations, for the organisation field of a form."""
    return organisation_service.register_choices(session=visitor.db)


templates.env.globals["organisation_choices"] = organisation_choices


def _page_number(text: str) -> int:
    text = text or "1"
    if not (text.isascii() and text.isdigit() and len(text) <= 6 and int(text) > 0):
        raise Invalid("That page link is not one this site made.", field="page")
    return int(text)


def _list_page(
    visitor: Visitor,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    import_values: dict[str, str] | None = None,
) -> Response:
    console.require_admin(session=visitor.db, member=visitor.member)
    query = visitor.request.query_params
    values = {"search": query.get("search", "")[:200], "status": query.get("status", "")[:20]}
    rows: list[register.OrganisationRow] = []
    more = False
    page = 1
    list_errors: dict[str, str] = {}
    try:
        page = _page_number(query.get("page", ""))
        rows, more = register.find_organisations(
            session=visitor.db,
            admin=visitor.member,
            search=values["search"],
            status=values["status"],
            offset=(page - 1) * register.PAGE_SIZE,
        )
    except Invalid as error:
        list_errors = form_errors(error, default_field="search")
        status_code = 400
    waiting, _ = register.find_organisations(
        session=visitor.db, admin=visitor.member, status="other", limit=1
    )
    kept = {k: v for k, v in values.items() if v}

    def href(number: int) -> str:
        return "/admin/organisations?" + urlencode({**kept, "page": number})

    return render(
        visitor,
        "admin/organisations.html",
        status_code=status_code,
        errors={**list_errors, **(errors or {})},
        values={**values, **(import_values or {"type": register.DERIVE})},
        rows=rows,
        any_waiting=bool(waiting),
        statuses=STATUS_OPTIONS,
        import_types=IMPORT_TYPE_OPTIONS,
        prev_href=href(page - 1) if page > 1 and not list_errors else None,
        next_href=href(page + 1) if more and not list_errors else None,
    )


@router.get("", response_class=HTMLResponse)
def organisations(visitor: CurrentVisitor) -> Response:
    """The register: find organisations by name or ODS code and status; import an ODS file."""
    return _list_page(visitor)


@router.post("/import", response_class=HTMLResponse)
def import_file(visitor: CheckedVisitor, form: Form) -> Response:
    """Import an ODS CSV file (headerless: code, name, national grouping, ...)."""
    console.require_admin(session=visitor.db, member=visitor.member)
    values = {"type": form_text(form, "type")}
    try:
        data = read_upload(form.get("file"), MAX_UPLOAD)
        if data is None:
            raise Invalid("Select an ODS CSV file to import.", field="file")
        result = register.import_ods(
            session=visitor.db, admin=visitor.member, data=data, type=values["type"]
        )
    except Invalid as error:
        return _list_page(
            visitor,
            status_code=400,
            errors=form_errors(error, default_field="file"),
            import_values=values,
        )
    return render(visitor, "admin/organisations_import.html", result=result)


@router.get("/import/{rejects_id:int}/rejected.csv")
def import_rejects(visitor: CurrentVisitor, rejects_id: int) -> Response:
    """The rows an import did not take, each with its problem, to fix and import again."""
    rejects = register.rejects_csv(session=visitor.db, admin=visitor.member, rejects_id=rejects_id)
    return Response(
        rejects.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rejected-organisations.csv"'},
    )


def _organisation_page(
    visitor: Visitor,
    organisation_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    row = register.organisation_row(
        session=visitor.db, admin=visitor.member, organisation_id=organisation_id
    )
    organisation = row.organisation
    into = (
        organisation_service.get(session=visitor.db, organisation_id=organisation.merged_into_id)
        if organisation.merged_into_id is not None
        else None
    )
    shown = {
        "type": organisation.type,
        "region": organisation.region or "",
        "ods_code": organisation.ods_code or "",
        "into": "",
    }
    return render(
        visitor,
        "admin/organisation.html",
        status_code=status_code,
        errors=errors,
        values={**shown, **(values or {})},
        row=row,
        organisation=organisation,
        merged_into=into,
        types=TYPE_OPTIONS,
        regions=REGION_OPTIONS,
    )


@router.get("/{organisation_id:int}", response_class=HTMLResponse)
def organisation(visitor: CurrentVisitor, organisation_id: int) -> Response:
    """One organisation: its details, members count; edit, add to the register, merge."""
    return _organisation_page(visitor, organisation_id)


def _act(visitor: Visitor, organisation_id: int, action, notice: str, field: str, values=None):
    try:
        action()
    except (Invalid, Conflict) as error:  # NotFound (an unknown id) is the 404 page
        return _organisation_page(
            visitor,
            organisation_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field=field, fields={"into_id": "into"}),
            values=values,
        )
    return redirect(f"/admin/organisations/{organisation_id}?notice={notice}")


@router.post("/{organisation_id:int}", response_class=HTMLResponse)
def update(visitor: CheckedVisitor, form: Form, organisation_id: int) -> Response:
    """Change the type, region and ODS code."""
    values = {
        "type": form_text(form, "type"),
        "region": form_text(form, "region"),
        "ods_code": form_text(form, "ods_code")[:40],
    }
    return _act(
        visitor,
        organisation_id,
        lambda: register.update_organisation(
            session=visitor.db,
            admin=visitor.member,
            organisation_id=organisation_id,
            type=values["type"],
            region=values["region"] or None,
            clear_region=not values["region"],
            ods_code=values["ods_code"],
        ),
        "organisation-updated",
        "type",
        values,
    )


@router.post("/{organisation_id:int}/register", response_class=HTMLResponse)
def add_to_register(visitor: CheckedVisitor, organisation_id: int) -> Response:
    """Add an organisation members typed to the register as it is."""
    return _act(
        visitor,
        organisation_id,
        lambda: register.update_organisation(
            session=visitor.db,
            admin=visitor.member,
            organisation_id=organisation_id,
            add_to_register=True,
        ),
        "organisation-registered",
        "register",
    )


@router.post("/{organisation_id:int}/merge", response_class=HTMLResponse)
def merge(visitor: CheckedVisitor, form: Form, organisation_id: int) -> Response:
    """Merge into the register's organisation named (or coded) in ``into``."""
    values = {"into": form_text(form, "into")[:200]}

    def act() -> None:
        console.require_admin(session=visitor.db, member=visitor.member)
        into = organisation_service.find(session=visitor.db, text_or_code=values["into"])
        if into is None:
            raise Invalid(
                "Give the ODS code or the full name of an organisation of the register.",
                field="into",
            )
        register.merge(
            session=visitor.db,
            admin=visitor.member,
            organisation_id=organisation_id,
            into_id=into.id,
        )

    return _act(visitor, organisation_id, act, "organisation-merged", "into", values)
