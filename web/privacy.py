"""My data pages: diversity answers with consent, the JSON download, and erasing the account."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.accounts import cookies, two_factor
from backend.audit import service as audit_service
from backend.errors import FieldErrors, Invalid
from backend.members import service as member_service
from backend.privacy import service as privacy
from backend.privacy import widening
from backend.privacy.models import DEMOGRAPHICS_WORDING_VERSION, WIDENING_WORDING_VERSION
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_flag,
    form_text,
)
from web.render import NOTICES, form_errors, render
from web.two_factor import step_up_path

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/my-data")

NOTICES.update(
    {
        "diversity-saved": "Your answers have been saved. You can change or withdraw them here.",
        "diversity-withdrawn": "Your answers have been deleted and your consent withdrawn.",
        "account-erased": "Your account and personal data have been erased.",
        "widening-saved": "You have asked for widening-access priority. You can change or "
        "withdraw it here.",
        "widening-withdrawn": "Your request for priority and your reason have been deleted.",
    }
)
QUESTIONS = [
    ("ethnicity", "What is your ethnic group?"),
    ("gender", "What is your gender?"),
    ("disability", "Do you consider yourself to have a disability?"),
    ("age_band", "What is your age?"),
]


def _diversity_page(visitor: Visitor, **context: Any) -> HTMLResponse:
    mine = privacy.my_demographics(session=visitor.db, member=visitor.member)
    record = mine.record
    context.setdefault(
        "values",
        {q: getattr(record, q) for q, _ in QUESTIONS} if record else {},
    )
    return render(
        visitor,
        "privacy/diversity.html",
        questions=[
            (name, legend, [(v, _label(v)) for v in privacy.QUESTIONS[name]])
            for name, legend in QUESTIONS
        ],
        mine=mine,
        consents=[
            (c, privacy.consent_description(session=visitor.db, consent=c)) for c in mine.consents
        ],
        wording_version=DEMOGRAPHICS_WORDING_VERSION,
        **context,
    )


def _label(value: str) -> str:
    return "Prefer not to say" if value == "prefer-not-to-say" else value[:1].upper() + value[1:]


@router.get("", response_class=HTMLResponse)
def my_data(visitor: CurrentVisitor) -> Response:
    """What we hold about you, the download, and how to erase your account."""
    member_service.require_account(visitor.member)
    mine = privacy.my_demographics(session=visitor.db, member=visitor.member)
    seen = audit_service.seen_by(session=visitor.db, member=visitor.member)
    claim = widening.my_widening_access(session=visitor.db, member=visitor.member)
    return render(visitor, "privacy/my_data.html", mine=mine, seen=seen, claim=claim)


@router.get("/download")
def download(visitor: CurrentVisitor) -> Response:
    """Everything held about you, as a JSON file."""
    data = privacy.export_my_data(session=visitor.db, member=visitor.member)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="peerbridge-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/diversity", response_class=HTMLResponse)
def diversity_form(visitor: CurrentVisitor) -> Response:
    """What we ask, why, who sees what, and how to withdraw; then the questions."""
    member_service.require_account(visitor.member)
    return _diversity_page(visitor)


@router.post("/diversity", response_class=HTMLResponse)
def diversity_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Save the answers with a consent record."""
    answers = privacy.DemographicAnswers(**{q: form_text(form, q) or None for q, _ in QUESTIONS})
    try:
        privacy.record_demographics(
            session=visitor.db,
            member=visitor.member,
            answers=answers,
            consent=form_flag(form, "consent"),
        )
    except Invalid as error:
        return _diversity_page(
            visitor,
            status_code=400,
            errors=form_errors(error, default_field="consent"),
            values=answers.as_dict(),
        )
    return redirect("/my-data/diversity?notice=diversity-saved")


@router.post("/diversity/withdraw")
def diversity_withdraw(visitor: CheckedVisitor) -> Response:
    """Delete the answers and close the consent."""
    privacy.withdraw_demographics(session=visitor.db, member=visitor.member)
    return redirect("/my-data/diversity?notice=diversity-withdrawn")


@router.get("/erase", response_class=HTMLResponse)
def erase_form(visitor: CurrentVisitor) -> Response:
    """Ask for the password (or, with a second factor, a fresh check of it) and a tick."""
    member = member_service.require_account(visitor.member)
    with_factor = two_factor.needed(session=visitor.db, member=member)
    if with_factor and not two_factor.fresh_step_up(visitor.record):
        return redirect(step_up_path("/my-data/erase"))
    return render(visitor, "privacy/erase.html", with_factor=with_factor)


@router.post("/erase", response_class=HTMLResponse)
def erase_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Erase the account; the session ends with it."""
    try:
        privacy.erase_my_account(
            session=visitor.db,
            member=visitor.member,
            password=form_text(form, "password"),
            confirm=form_flag(form, "confirm"),
            current=visitor.record,
        )
    except Invalid as error:
        if isinstance(error, FieldErrors) and "second_factor" in error.errors:
            return redirect(step_up_path("/my-data/erase"))
        member = member_service.require_member(visitor.member)
        return render(
            visitor,
            "privacy/erase.html",
            status_code=400,
            errors=form_errors(error, default_field="confirm"),
            with_factor=two_factor.needed(session=visitor.db, member=member),
        )
    response = redirect("/?notice=account-erased")
    cookies.clear_session_cookie(response)
    return response


# Widening access --------------------------------------------------------------------------


def _widening_page(visitor: Visitor, **context: Any) -> HTMLResponse:
    claim = widening.my_widening_access(session=visitor.db, member=visitor.member)
    context.setdefault("values", {"category": claim.category} if claim else {})
    return render(
        visitor,
        "privacy/widening.html",
        claim=claim,
        claim_label=widening.category_label(claim.category) if claim else None,
        choices=list(widening.CATEGORY_LABELS.items()),
        wording_version=WIDENING_WORDING_VERSION,
        **context,
    )


@router.get("/widening-access", response_class=HTMLResponse)
def widening_form(visitor: CurrentVisitor) -> Response:
    """What widening-access priority is, who sees what, and the reasons to choose from."""
    member_service.require_account(visitor.member)
    return _widening_page(visitor)


@router.post("/widening-access", response_class=HTMLResponse)
def widening_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Ask for priority (or change the reason), with consent."""
    category = form_text(form, "category")
    try:
        widening.set_widening_access(
            session=visitor.db,
            member=visitor.member,
            category=category,
            consent=form_flag(form, "consent"),
        )
    except Invalid as error:
        return _widening_page(
            visitor,
            status_code=400,
            errors=form_errors(error, default_field="category"),
            values={"category": category},
        )
    return redirect("/my-data/widening-access?notice=widening-saved")


@router.post("/widening-access/withdraw")
def widening_withdraw(visitor: CheckedVisitor) -> Response:
    """Delete the claim and its reason."""
    widening.withdraw_widening_access(session=visitor.db, member=visitor.member)
    return redirect("/my-data/widening-access?notice=widening-withdrawn")
