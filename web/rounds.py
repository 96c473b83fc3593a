"""Organisers' matching rounds: create and run, watch progress, review, publish, export."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend import db
from backend.chapters import service as chapters
from backend.errors import Conflict, FieldErrors, Invalid
from backend.matchmaking.rules import about_the_mentee
from backend.members import service as member_service
from backend.members.service import MAX_ID
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_flag,
    form_int,
    form_text,
)
from web.mentoring import path_id
from web.organise import read_upload
from web.render import NOTICES, form_errors, progress, render, templates

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/organise/rounds")

PROPOSALS_PER_PAGE = 50
templates.env.filters["about_the_mentee"] = about_the_mentee

UNMATCHED_SHOWN = 200

NOTICES.update(
    {
        "pair-removed": "The pair has been taken out of the round.",
        "mentors-swapped": "The two mentors have been swapped.",
        "round-published": "The round is published: both sides of every pair have been asked.",
    }
)

ROUND_STATUS = {
    "queued": ("Waiting to start", "grey"),
    "running": ("Running", "blue"),
    "ready": ("Ready for review", "yellow"),
    "published": ("Published", "green"),
    "failed": ("Failed", "red"),
}
WEIGHT_HINTS = {
    "skills": "How well the mentor's skills cover what the mentee wants to develop.",
    "seniority": "A mentor one to three bands above the mentee.",
    "goals": "How close the mentee's goals are to the mentor's experience.",
    "organisation": "A mentor from another organisation.",
    "background": "Similar profession or path into management.",
    "place": "Same region, and a meeting format that suits both.",
    "role": "A related role family.",
}
_NUMBER = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?")


def _weights(form: FormData) -> tuple[dict[str, float], list[str]]:
    """The weights typed (blank ones left at their defaults), and the names of unreadable ones."""
    weights: dict[str, float] = {}
    unreadable: list[str] = []
    for name in rounds.WEIGHT_NAMES:
        text = form_text(form, f"weight_{name}").strip()
        if text and _NUMBER.fullmatch(text):
            weights[name] = float(text)
        elif text:
            unreadable.append(name)
    return weights, unreadable


def _weight_field(weights: dict[str, float], unreadable: list[str]) -> str:
    """The form field a weights problem belongs to: the first odd one, or the first box."""
    for name in rounds.WEIGHT_NAMES:
        if name in unreadable or weights.get(name, 0) > 1000:
            return f"weight_{name}"
    return f"weight_{rounds.WEIGHT_NAMES[0]}"


# The order the form's fields are explained in.
_SETTING_FIELDS = ("name", "cohort", "weights", "respond_days", "seed")


def _round_settings(
    form: FormData, *, cohort: str, cohort_member_ids: list[int]
) -> tuple[rounds.RoundSettings, dict[str, str], list[str]]:
    """The typed settings; the fields that could not be read as their type (explained, in the
    service's words); and the unreadable weights. Unreadable numbers keep their defaults in
    the settings, which are then only used to explain every other problem at once."""
    weights, odd_weights = _weights(form)
    unreadable: dict[str, str] = {}
    if odd_weights:
        unreadable["weights"] = rounds.WEIGHTS_PROBLEM
    seed = form_int(form, "seed") if form_text(form, "seed").strip() else 0
    if not isinstance(seed, int):
        unreadable["seed"] = rounds.SEED_PROBLEM
    respond_days = form_int(form, "respond_days")
    if respond_days == "":
        unreadable["respond_days"] = rounds.RESPOND_DAYS_EMPTY
    elif not isinstance(respond_days, int):
        unreadable["respond_days"] = rounds.RESPOND_DAYS_PROBLEM
    settings = rounds.RoundSettings(
        name=form_text(form, "name"),
        cohort=cohort,
        cohort_member_ids=cohort_member_ids,
        weights=weights,
        priority=form_flag(form, "priority"),
        seed=seed if isinstance(seed, int) else 0,
        respond_days=respond_days if isinstance(respond_days, int) else 7,
        learn_from_outcomes=form_flag(form, "learn_from_outcomes"),
        programme_id=_programme_choice(form),
    )
    return settings, unreadable, odd_weights


def _programme_choice(form: FormData) -> int | None:
    """The programme chosen on the form (None: the default programme, or none chosen)."""
    chosen = form_int(form, "programme")
    if not isinstance(chosen, int):
        return None
    if not 0 < chosen <= MAX_ID:
        raise Invalid("Choose a programme from the list.", field="programme")
    return chosen


def _check_settings(settings: rounds.RoundSettings, unreadable: dict[str, str]) -> None:
    """Raise ``FieldErrors`` for every problem of the form at once: unreadable numbers and the
    service's range and rule checks of the rest."""
    if not unreadable:
        rounds.check_round(settings)
        return
    problems = {**rounds.round_problems(settings), **unreadable}
    raise FieldErrors({field: problems[field] for field in _SETTING_FIELDS if field in problems})


def _list_page(visitor: Visitor, **context: Any) -> HTMLResponse:
    organiser, _ = chapters.require_scope(session=visitor.db, member=visitor.member)
    defaults = {f"weight_{k}": f"{v:g}" for k, v in rounds.DEFAULT_WEIGHTS.items()}
    context.setdefault("values", {**defaults, "name": "", "respond_days": "7", "seed": "0"})
    listed = rounds.list_rounds(session=visitor.db, organiser=organiser)
    return render(
        visitor,
        "rounds/list.html",
        rounds=listed,
        programme_names=rounds.programme_names(session=visitor.db, rounds=listed),
        programme_options=rounds.round_programmes(session=visitor.db, organiser=organiser),
        weight_names=rounds.WEIGHT_NAMES,
        weight_hints=WEIGHT_HINTS,
        round_status=ROUND_STATUS,
        **context,
    )


@router.get("", response_class=HTMLResponse)
def round_list(visitor: CurrentVisitor) -> Response:
    """Every round with its status, and the form to create one."""
    return _list_page(visitor)


@router.post("", response_class=HTMLResponse)
def round_create(visitor: CheckedVisitor, form: Form) -> Response:
    """Create a round and start it as a background job; then watch its progress."""
    values: dict[str, object] = {
        name: form_text(form, name) for name in ("name", "respond_days", "seed")
    }
    values.update({f"weight_{n}": form_text(form, f"weight_{n}") for n in rounds.WEIGHT_NAMES})
    values["priority"] = form_flag(form, "priority")
    values["learn_from_outcomes"] = form_flag(form, "learn_from_outcomes")
    values["cohort"] = form_text(form, "cohort") or "seeking"
    values["programme"] = form_text(form, "programme")
    odd_weights: list[str] = []
    weights: dict[str, float] = {}
    try:
        cohort_ids: list[int] = []
        if values["cohort"] == "csv":
            data = read_upload(
                form.get("cohort_file"), visitor.request.app.state.settings.max_import_bytes
            )
            if data is None:
                raise Invalid("Select the members CSV file of the cohort.", field="cohort_file")
            # The form is checked first, so a wrong setting never leaves an import behind.
            settings, unreadable, odd_weights = _round_settings(
                form, cohort="seeking", cohort_member_ids=[]
            )
            weights = dict(settings.weights or {})
            _check_settings(settings, unreadable)
            import_id = rounds.start_cohort_import(
                session=visitor.db, organiser=visitor.member, data=data
            )
            # The import job writes from its own sessions, in chunks: commit the stored file
            # first (on SQLite an open transaction here would hold the lock it needs).
            db.commit_for_job(visitor.db)
            imported, cohort_ids = rounds.run_cohort_import(
                import_id=import_id, engine=visitor.request.app.state.engine
            )
            if imported.errors:
                problems = list(imported.errors)
                message = (
                    f"The file has {len(problems)} problems; nothing was imported."
                    if not imported.imported
                    else str(problems[-1])
                )
                return _list_page(
                    visitor,
                    status_code=400,
                    errors={"cohort_file": message},
                    values=values,
                    cohort_problems=problems[:50],
                )
            if not cohort_ids:
                raise Invalid(
                    "Nobody in the file is seeking a mentor (seeking_mentor = yes).",
                    field="cohort_file",
                )
        settings, unreadable, odd_weights = _round_settings(
            form,
            cohort="members" if values["cohort"] == "csv" else "seeking",
            cohort_member_ids=cohort_ids,
        )
        weights = dict(settings.weights or {})
        _check_settings(settings, unreadable)
        created = rounds.create_round(
            session=visitor.db, organiser=visitor.member, settings=settings
        )
    except (Invalid, Conflict) as error:
        errors = form_errors(error, default_field="name", fields={"programme_id": "programme"})
        if "weights" in errors:
            errors = {
                (_weight_field(weights, odd_weights) if k == "weights" else k): m
                for k, m in errors.items()
            }
        return _list_page(visitor, status_code=400, errors=errors, values=values)
    round_id: int = created.id
    # End this request's transaction first: the job writes from its own session, and on
    # SQLite an open transaction here would hold the write lock it needs.
    db.commit_for_job(visitor.db)
    rounds.start_round(round_id=round_id, engine=visitor.request.app.state.engine)
    return redirect(f"/organise/rounds/{round_id}")


def _figures(matching_round: MatchingRound) -> dict[str, Any]:
    summary = rounds.summary_of(matching_round)

    def share(key: str) -> str:
        value = summary.get(key)
        if not isinstance(value, int | float) or math.isnan(value):
            return "Not applicable"
        return f"{value:.0%}"

    cost = summary.get("priority_score_cost")
    return {
        "summary": summary,
        "cross_organisation": share("cross_organisation_share"),
        "skills_covered": share("skills_covered"),
        "priority_rate": share("priority_rate"),
        "other_rate": share("other_rate"),
        "score_cost": (
            f"{cost:.1%}" if isinstance(cost, int | float) and not math.isnan(cost) else None
        ),
    }


def _round_page(
    visitor: Visitor,
    round_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    organiser, _ = chapters.require_scope(session=visitor.db, member=visitor.member)
    matching_round = rounds.get_round(session=visitor.db, organiser=organiser, round_id=round_id)
    params = visitor.request.query_params
    after = rounds.ProposalKey.parse(params.get("after"))
    before = None if after else rounds.ProposalKey.parse(params.get("before"))
    query = params.get("page", "1")
    page = int(query) if query.isdigit() and 0 < int(query) <= 100_000 else 1
    shown: list = []
    total = paired = 0
    has_more = has_previous = False
    if matching_round.status in ("ready", "published"):
        # One page from the database by key (never an offset), and a count.
        shown = rounds.proposals_of(
            session=visitor.db,
            organiser=organiser,
            round_id=round_id,
            limit=PROPOSALS_PER_PAGE + 1,  # one more tells whether another page follows
            after=after,
            before=before,
        )
        if before is not None:
            has_previous, has_more = len(shown) > PROPOSALS_PER_PAGE, True
            shown = shown[-PROPOSALS_PER_PAGE:]
        else:
            has_previous, has_more = after is not None, len(shown) > PROPOSALS_PER_PAGE
            shown = shown[:PROPOSALS_PER_PAGE]
        total = rounds.proposal_count(session=visitor.db, organiser=organiser, round_id=round_id)
        paired = rounds.proposal_count(
            session=visitor.db, organiser=organiser, round_id=round_id, with_mentor=True
        )
    page = max(page, 2) if has_previous else 1
    first_key = rounds.ProposalKey.of(shown[0]) if shown else None
    last_key = rounds.ProposalKey.of(shown[-1]) if shown else None

    def href(n: int) -> str:
        base = f"/organise/rounds/{round_id}"
        if n <= 1:
            return f"{base}#proposals"
        edge = f"before={first_key}" if n < page else f"after={last_key}"
        return f"{base}?page={n}&{edge}#proposals"

    unmatched: list = []
    unmatched_total = 0
    if matching_round.status in ("ready", "published"):
        unmatched, unmatched_total = rounds.unmatched_page(
            session=visitor.db, organiser=organiser, round_id=round_id, limit=UNMATCHED_SHOWN
        )
    ids = {p.mentee_id for p in shown} | {p.mentor_id for p in shown}
    people = member_service.get_many(session=visitor.db, member_ids=[i for i in ids if i])
    return render(
        visitor,
        "rounds/round.html",
        status_code=status_code,
        errors=errors,
        round=matching_round,
        programme_name=rounds.programme_names(session=visitor.db, rounds=[matching_round]).get(
            matching_round.id, ""
        ),
        round_status=ROUND_STATUS,
        proposals=shown,
        proposed=[p for p in shown if p.status == "proposed"],
        total=total,
        paired=paired,
        page=page,
        has_more=has_more,
        href=href,
        people=people,
        unmatched=unmatched,
        unmatched_total=unmatched_total,
        stalled=rounds.is_stalled(matching_round),
        **_figures(matching_round),
    )


@router.get("/{round_id:int}", response_class=HTMLResponse)
def round_detail(visitor: CurrentVisitor, round_id: int) -> Response:
    """Progress while the round runs; then its figures and the proposals to review."""
    return _round_page(visitor, path_id(round_id))


@router.get("/{round_id:int}/progress")
def round_progress(visitor: CurrentVisitor, round_id: int) -> Response:
    """How far the round has got, as JSON for the progress page's live region."""
    organiser, _ = chapters.require_scope(session=visitor.db, member=visitor.member)
    matching_round = rounds.get_round(
        session=visitor.db, organiser=organiser, round_id=path_id(round_id)
    )
    percent = round(matching_round.progress * 100)
    running = matching_round.status in ("queued", "running") and not rounds.is_stalled(
        matching_round
    )
    if running:
        message = f"{matching_round.stage or 'Waiting to start'}."
    elif matching_round.status in ("ready", "published"):
        message = "The round has finished."
    else:
        message = "The round did not finish."
    return progress(running=running, message=message, percent=percent)


@router.post("/{round_id:int}/proposals/{proposal_id:int}/remove", response_class=HTMLResponse)
def proposal_remove(visitor: CheckedVisitor, round_id: int, proposal_id: int) -> Response:
    """Take a pair out of the round before publishing."""
    try:
        rounds.remove_proposal(
            session=visitor.db, organiser=visitor.member, proposal_id=path_id(proposal_id)
        )
    except Conflict as error:
        return _round_page(
            visitor, path_id(round_id), status_code=400, errors={"proposals": error.message}
        )
    return redirect(f"/organise/rounds/{round_id}?notice=pair-removed#proposals")


@router.post("/{round_id:int}/swap", response_class=HTMLResponse)
def proposals_swap(visitor: CheckedVisitor, round_id: int, form: Form) -> Response:
    """Swap the mentors of two pairs, if the rules allow both new pairs."""
    first, second = form_int(form, "first"), form_int(form, "second")
    try:
        if not isinstance(first, int) or not isinstance(second, int):
            raise Invalid("Choose two pairs to swap the mentors of.", field="first")
        rounds.swap_mentors(
            session=visitor.db,
            organiser=visitor.member,
            proposal_id=path_id(first),
            other_proposal_id=path_id(second),
        )
    except (Invalid, Conflict) as error:
        return _round_page(
            visitor,
            path_id(round_id),
            status_code=400,
            errors=form_errors(error, default_field="first"),
        )
    return redirect(f"/organise/rounds/{round_id}?notice=mentors-swapped#proposals")


def _publish_page(
    visitor: Visitor,
    round_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    organiser, _ = chapters.require_scope(session=visitor.db, member=visitor.member)
    matching_round = rounds.get_round(session=visitor.db, organiser=organiser, round_id=round_id)
    if matching_round.status != "ready":
        return _round_page(
            visitor,
            round_id,
            status_code=400,
            errors={"publish": "Only a round that is ready for review can be published."},
        )
    preview = rounds.publish_preview(session=visitor.db, organiser=organiser, round_id=round_id)
    return render(
        visitor,
        "rounds/publish.html",
        status_code=status_code,
        errors=errors,
        round=matching_round,
        preview=preview,
    )


@router.get("/{round_id:int}/publish", response_class=HTMLResponse)
def round_publish_check(visitor: CurrentVisitor, round_id: int) -> Response:
    """Before publishing: how many pairs are offered and how many people are emailed."""
    return _publish_page(visitor, path_id(round_id))


@router.post("/{round_id:int}/publish", response_class=HTMLResponse)
def round_publish(visitor: CheckedVisitor, round_id: int, form: Form) -> Response:
    """Publish once the organiser confirmed the count: every proposed pair is offered."""
    round_id = path_id(round_id)
    expected = form_int(form, "expected_emails")
    if form_text(form, "confirm") != "yes" or not isinstance(expected, int):
        # Not confirmed yet (an old form, or the round page's button): show the check first.
        return _publish_page(visitor, round_id)
    try:
        rounds.publish_round(
            session=visitor.db,
            organiser=visitor.member,
            round_id=round_id,
            expected_emails=expected,
        )
    except Conflict as error:
        if error.field == "expected_emails":
            return _publish_page(
                visitor, round_id, status_code=409, errors={"publish": error.message}
            )
        return _round_page(visitor, round_id, status_code=400, errors={"publish": error.message})
    return redirect(f"/organise/rounds/{round_id}?notice=round-published")


@router.post("/{round_id:int}/retry", response_class=HTMLResponse)
def round_retry(visitor: CheckedVisitor, round_id: int) -> Response:
    """Run a failed (or stopped) round again; the new run replaces any earlier proposals."""
    try:
        rounds.retry_round(session=visitor.db, organiser=visitor.member, round_id=path_id(round_id))
    except Conflict as error:
        return _round_page(visitor, round_id, status_code=409, errors={"publish": error.message})
    db.commit_for_job(visitor.db)  # the job reads the queued round from its own session
    rounds.start_round(round_id=round_id, engine=visitor.request.app.state.engine)
    return redirect(f"/organise/rounds/{round_id}")


@router.get("/{round_id:int}/export.csv")
def round_export(visitor: CurrentVisitor, round_id: int) -> Response:
    """The round as a CSV file, for the organisers' records."""
    text = rounds.export_csv(
        session=visitor.db, organiser=visitor.member, round_id=path_id(round_id)
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="matching-round-{round_id}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/{round_id:int}/proposals/{proposal_id:int}", response_class=HTMLResponse)
def proposal_side_by_side(visitor: CurrentVisitor, round_id: int, proposal_id: int) -> Response:
    """A proposed pair's two profiles side by side (profiles only, never diversity data)."""
    review = rounds.review_proposal(
        session=visitor.db,
        organiser=visitor.member,
        round_id=round_id,
        proposal_id=path_id(proposal_id),
    )
    return render(
        visitor,
        "rounds/proposal.html",
        proposal=review.proposal,
        round=rounds.get_round(session=visitor.db, organiser=visitor.member, round_id=round_id),
        mentee=review.mentee,
        mentor=review.mentor,
    )
