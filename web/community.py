"""Community pages: the feed, posts, comments, following, moderation, conduct, the directory."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.community import circles, peer_connect, waiting
from backend.community import service as community
from backend.community.markdown import render as markdown
from backend.community.models import Comment
from backend.errors import DomainError, NotFound, RateLimited
from backend.events import service as event_service
from backend.members import directory
from backend.members import service as member_service
from backend.members.service import MAX_ID
from backend.messaging import service as messaging
from backend.opportunities import service as opportunity_service
from backend.organisations import service as organisation_service
from backend.skills import service as skill_service
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
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

PAGE_SIZE = 20
templates.env.filters["markdown"] = markdown
templates.env.filters["period_name"] = peer_connect.period_name

NOTICES.update(
    {
        "post-shared": "Your post has been shared.",
        "post-saved": "Your changes have been saved.",
        "post-deleted": "Your post has been deleted.",
        "comment-added": "Your comment has been added.",
        "reported": "Thank you. The organisers will look at your report.",
        "followed": "You are following them: their posts appear in 'People I follow'.",
        "unfollowed": "You are no longer following them.",
        "moderated": "Done. The reports about it are closed.",
    }
)


def path_id(value: int) -> int:
    """An id from the address; anything no row can have is simply not found."""
    if not 0 < value <= MAX_ID:
        raise NotFound("No such page.")
    return value


def _status(error: DomainError) -> int:
    return 429 if isinstance(error, RateLimited) else 400


def _skill_names(visitor: Visitor) -> dict[str, str]:
    return {s.id: s.name for s in skill_service.list_skills(session=visitor.db)}


@router.get("/code-of-conduct", response_class=HTMLResponse)
def code_of_conduct(visitor: CurrentVisitor) -> Response:
    """How members treat each other here, and what organisers do when someone does not."""
    return render(visitor, "community/code_of_conduct.html", limits=community.rate_limits())


@router.get("/community", response_class=HTMLResponse)
def feed_page(visitor: CurrentVisitor) -> Response:
    """The feed: latest posts, by skill, or from people I follow, newest first; beside it the
    member's next 3 events and, on a skill's page, the events and open opportunities that
    develop it."""
    member = member_service.require_member(visitor.member)
    query = visitor.request.query_params
    skill = query.get("skill", "")[:60] or None
    following = query.get("following") == "yes"
    before = query.get("before", "")
    before_id = int(before) if before.isdigit() and 0 < int(before) <= MAX_ID else None
    posts, more = community.feed(
        session=visitor.db,
        viewer=member,
        filter=community.FeedFilter(skill=skill, following=following),
        before_id=before_id,
        limit=PAGE_SIZE,
    )
    base: dict[str, Any] = {"skill": skill or "", **({"following": "yes"} if following else {})}
    next_href = (
        "/community?" + urlencode({**base, "before": posts[-1].id}) if more and posts else None
    )
    names = _skill_names(visitor)
    skill_name = names.get(skill or "")
    if skill_name and not skill_name.split()[0].isupper():  # mid-sentence, but keep 'NHS ...'
        skill_name = skill_name[0].lower() + skill_name[1:]
    return render(
        visitor,
        "community/feed.html",
        # On a skill's page: the events that develop it; else the member's next events.
        coming_up=event_service.upcoming_for(
            session=visitor.db, member=member, limit=3, skill=skill if skill_name else None
        ),
        skill_name=skill_name,
        skill_opportunities=opportunity_service.developing(
            session=visitor.db, member=member, skill_id=skill or "", first=3
        )
        if skill_name
        else [],
        views=community.describe(session=visitor.db, viewer=member, posts=posts),
        skill_names=names,
        skill_options=list(names.items()),
        values={"skill": skill or ""},
        following=following,
        next_href=next_href,
        first_page=before_id is None,
        is_organiser=visitor.is_organiser,
    )


# Writing and changing posts ---------------------------------------------------------------------


def _post_form(
    visitor: Visitor,
    *,
    action: str,
    heading: str,
    values: dict[str, Any],
    selected: list[str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        visitor,
        "community/post_form.html",
        status_code=status_code,
        errors=errors,
        values=values,
        selected=set(selected),
        skill_options=list(_skill_names(visitor).items()),
        action=action,
        heading=heading,
    )


@router.get("/community/posts/new", response_class=HTMLResponse)
def new_post(visitor: CurrentVisitor) -> Response:
    """Share something you learned."""
    member_service.require_member(visitor.member)
    return _post_form(
        visitor, action="/community/posts/new", heading="Share learning", values={}, selected=[]
    )


@router.post("/community/posts/new", response_class=HTMLResponse)
def create_post(visitor: CheckedVisitor, form: Form) -> Response:
    """Publish the post, or show the form again with what is wrong."""
    values = {"title": form_text(form, "title"), "body": form_text(form, "body")}
    skills = form_list(form, "skills")
    try:
        post = community.create_post(
            session=visitor.db,
            author=visitor.member,
            skills=skills,
            title=values["title"],
            body=values["body"],
        )
    except DomainError as error:
        if error.code == "not_authenticated":
            raise
        return _post_form(
            visitor,
            action="/community/posts/new",
            heading="Share learning",
            values=values,
            selected=skills,
            errors=form_errors(error, default_field="title"),
            status_code=_status(error),
        )
    return redirect(f"/community/posts/{post.id}?notice=post-shared")


@router.get("/community/posts/{post_id:int}", response_class=HTMLResponse)
def post_page(visitor: CurrentVisitor, post_id: int) -> Response:
    """One post with its comments, the useful button, and a reply form."""
    member = member_service.require_member(visitor.member)
    post = community.get_post(session=visitor.db, viewer=member, post_id=path_id(post_id))
    return _post_page(visitor, post_id=post.id)


def _post_page(
    visitor: Visitor,
    *,
    post_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    member = member_service.require_member(visitor.member)
    post = community.get_post(session=visitor.db, viewer=member, post_id=post_id)
    (view,) = community.describe(
        session=visitor.db, viewer=member, posts=[post], with_comments=True
    )
    comment_authors = community.authors_of(session=visitor.db, comments=view.comments)
    return render(
        visitor,
        "community/post.html",
        status_code=status_code,
        errors=errors,
        values=values,
        view=view,
        comment_authors=comment_authors,
        skill_names=_skill_names(visitor),
        following=view.author is not None
        and community.is_following(
            session=visitor.db,
            follower_id=member.id,
            member_id=view.author.id,
        ),
        is_organiser=visitor.is_organiser,
    )


@router.post("/community/posts/{post_id:int}/comments", response_class=HTMLResponse)
def add_comment(visitor: CheckedVisitor, form: Form, post_id: int) -> Response:
    """Reply to a post."""
    body = form_text(form, "body")
    try:
        community.add_comment(
            session=visitor.db, author=visitor.member, post_id=path_id(post_id), body=body
        )
    except DomainError as error:
        if error.code in ("not_authenticated", "not_found"):
            raise
        return _post_page(
            visitor,
            post_id=post_id,
            errors=form_errors(error, default_field="body"),
            values={"body": body},
            status_code=_status(error),
        )
    return redirect(f"/community/posts/{post_id}?notice=comment-added#comments")


@router.post("/community/posts/{post_id:int}/useful", response_class=HTMLResponse)
def toggle_useful(visitor: CheckedVisitor, post_id: int) -> Response:
    """Mark the post useful, or take the mark back."""
    community.toggle_useful(session=visitor.db, member=visitor.member, post_id=path_id(post_id))
    return redirect(f"/community/posts/{post_id}")


@router.get("/community/posts/{post_id:int}/edit", response_class=HTMLResponse)
def edit_form(visitor: CurrentVisitor, post_id: int) -> Response:
    """Change one of your own posts."""
    member = member_service.require_member(visitor.member)
    post = community.get_post(session=visitor.db, viewer=member, post_id=path_id(post_id))
    if post.author_id != member.id:
        raise NotFound("No such page.")
    skills = community.skills_for(session=visitor.db, post_ids=[post_id])[post_id]
    return _post_form(
        visitor,
        action=f"/community/posts/{post_id}/edit",
        heading="Edit your post",
        values={"title": post.title, "body": post.body},
        selected=skills,
    )


@router.post("/community/posts/{post_id:int}/edit", response_class=HTMLResponse)
def edit_post(visitor: CheckedVisitor, form: Form, post_id: int) -> Response:
    """Save the changes, or show the form again with what is wrong."""
    values = {"title": form_text(form, "title"), "body": form_text(form, "body")}
    skills = form_list(form, "skills")
    try:
        community.edit_post(
            session=visitor.db,
            member=visitor.member,
            post_id=path_id(post_id),
            skills=skills,
            **values,
        )
    except DomainError as error:
        if error.code in ("not_authenticated", "not_found", "forbidden"):
            raise
        return _post_form(
            visitor,
            action=f"/community/posts/{post_id}/edit",
            heading="Edit your post",
            values=values,
            selected=skills,
            errors=form_errors(error, default_field="title"),
            status_code=_status(error),
        )
    return redirect(f"/community/posts/{post_id}?notice=post-saved")


@router.post("/community/posts/{post_id:int}/delete", response_class=HTMLResponse)
def delete_post(visitor: CheckedVisitor, post_id: int) -> Response:
    """Delete one of your own posts."""
    community.delete_post(session=visitor.db, member=visitor.member, post_id=path_id(post_id))
    return redirect("/community?notice=post-deleted")


@router.post("/community/follow/{member_id:int}", response_class=HTMLResponse)
def follow(visitor: CheckedVisitor, form: Form, member_id: int) -> Response:
    """Follow a member, or stop following them; back to where the button was."""
    member_id = path_id(member_id)
    back = form_text(form, "back")
    back = back if back.startswith("/") and not back.startswith("//") else f"/members/{member_id}"
    if form_text(form, "follow") == "no":
        community.unfollow(session=visitor.db, follower=visitor.member, member_id=member_id)
        notice = "unfollowed"
    else:
        community.follow(session=visitor.db, follower=visitor.member, member_id=member_id)
        notice = "followed"
    separator = "&" if "?" in back else "?"
    return redirect(f"{back}{separator}notice={notice}")


# Reports and moderation -----------------------------------------------------------------------


def _report_target(visitor: Visitor, kind: str, target_id: int) -> dict[str, Any]:
    member = member_service.require_member(visitor.member)
    if kind == "comments":
        comment = visitor.db.get(Comment, path_id(target_id))
        if comment is None or comment.deleted_at is not None:
            raise NotFound("No such page.")
        post = community.get_post(session=visitor.db, viewer=member, post_id=comment.post_id)
        return {"kind": "comment", "post": post, "comment": comment}
    if kind != "posts":
        raise NotFound("No such page.")
    post = community.get_post(session=visitor.db, viewer=member, post_id=path_id(target_id))
    return {"kind": "post", "post": post, "comment": None}


@router.get("/community/{kind}/{target_id:int}/report", response_class=HTMLResponse)
def report_form(visitor: CurrentVisitor, kind: str, target_id: int) -> Response:
    """Tell the organisers what is wrong with a post or comment."""
    return render(visitor, "community/report.html", **_report_target(visitor, kind, target_id))


@router.post("/community/{kind}/{target_id:int}/report", response_class=HTMLResponse)
def report(visitor: CheckedVisitor, form: Form, kind: str, target_id: int) -> Response:
    """File the report, or show the form again with what is wrong."""
    target = _report_target(visitor, kind, target_id)
    reason = form_text(form, "reason")
    try:
        community.report(
            session=visitor.db,
            reporter=visitor.member,
            reason=reason,
            post_id=target["post"].id if target["kind"] == "post" else None,
            comment_id=target["comment"].id if target["comment"] is not None else None,
        )
    except DomainError as error:
        return render(
            visitor,
            "community/report.html",
            status_code=_status(error),
            errors=form_errors(error, default_field="reason"),
            values={"reason": reason},
            **target,
        )
    return redirect(f"/community/posts/{target['post'].id}?notice=reported")


def moderation_waiting(visitor: Visitor | None) -> int | None:
    """How many reported posts, comments and messages wait in the visitor's moderation queue,
    for the header (counted by ``backend.community.waiting``, a few aggregate queries); None
    for anyone who does not organise."""
    if visitor is None or visitor.member is None or not visitor.organises:
        return None
    return waiting.moderation_waiting(session=visitor.db, organiser=visitor.member)


templates.env.globals["moderation_waiting"] = moderation_waiting


def _moderation_lists(visitor: Visitor) -> dict[str, Any]:
    """The moderation page's lists: open reports, reported messages, and hidden content not
    already in the reports (each item appears once, so its form fields keep unique ids)."""
    items = community.moderation_queue(session=visitor.db, organiser=visitor.member)
    reported = {(i.kind, i.target_id) for i in items}
    hidden = community.hidden_content(session=visitor.db, organiser=visitor.member)
    return {
        "items": items,
        "message_items": messaging.moderation_queue(session=visitor.db, organiser=visitor.member),
        "hidden_items": [h for h in hidden if (h.kind, h.target_id) not in reported],
    }


@router.get("/community/moderation", response_class=HTMLResponse)
def moderation_queue(visitor: CurrentVisitor) -> Response:
    """Organisers: reported posts and comments, oldest first."""
    return render(visitor, "community/moderation.html", **_moderation_lists(visitor))


@router.post("/community/moderation", response_class=HTMLResponse)
def moderate(visitor: CheckedVisitor, form: Form) -> Response:
    """Organisers: hide, restore, or dismiss the reports about one post or comment."""
    action = form_text(form, "action")
    kind = form_text(form, "kind")
    raw = form_text(form, "target_id")
    target_id = int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else 0
    target = {"post_id": target_id, "comment_id": None}
    if kind == "comment":
        target = {"post_id": None, "comment_id": target_id}
    note = form_text(form, "note")
    try:
        if action == "dismiss":
            community.dismiss_reports(session=visitor.db, organiser=visitor.member, **target)
        elif action in ("hide", "restore"):
            act = community.hide if action == "hide" else community.restore
            act(session=visitor.db, organiser=visitor.member, note=note, **target)
        else:
            raise NotFound("No such action.")
    except DomainError as error:
        if error.code in ("not_authenticated", "forbidden", "not_found"):
            raise
        errors = form_errors(error, default_field="note")
        errors = {f"note-{kind}-{target_id}": m for m in errors.values()}
        return render(
            visitor,
            "community/moderation.html",
            status_code=400,
            errors=errors,
            **_moderation_lists(visitor),
        )
    back = form_text(form, "back")
    if back.startswith("/community/posts/"):
        return redirect(f"{back}?notice=moderated")
    return redirect("/community/moderation?notice=moderated")


# The member directory -------------------------------------------------------------------------

DIRECTORY_FIELDS = ("text", "skill", "skill_kind", "region", "band", "role_family", "org_type")


@router.get("/members", response_class=HTMLResponse)
def member_directory(visitor: CurrentVisitor) -> Response:
    """Find members by words (name, job title, organisation, bio) and filters, a page at a time."""
    member = member_service.require_member(visitor.member)
    query = visitor.request.query_params
    values: dict[str, Any] = {name: query.get(name, "")[:200] for name in DIRECTORY_FIELDS}
    # ?q= is the usual name for a search box's words; it means the same as ?text=.
    values["text"] = values["text"] or query.get("q", "")[:200]
    raw_page = query.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 500 else 1
    skill = values["skill"] or None
    search = directory.DirectoryFilter(
        text=values["text"],
        skill_offered=skill if values["skill_kind"] == "offered" else None,
        skill_sought=skill if values["skill_kind"] != "offered" else None,
        region=values["region"] or None,
        band=values["band"] or None,
        role_family=values["role_family"] or None,
        organisation_type=values["org_type"] or None,
    )
    errors: dict[str, str] = {}
    try:
        found, has_more = directory.search(
            session=visitor.db,
            viewer=member,
            filter=search,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    except DomainError as error:
        errors = form_errors(error, default_field="text")
        errors = {("org_type" if k == "organisation_type" else k): v for k, v in errors.items()}
        found, has_more = [], False
    shared = [m for m in found if member_service.can_see_contact(member=m, viewer=member)]
    organisations = organisation_service.get_many(
        session=visitor.db, organisation_ids=list({m.organisation_id for m in shared})
    )
    base = {k: v for k, v in values.items() if v}

    def href(n: int) -> str:
        return "/members?" + urlencode({**base, "page": n})

    return render(
        visitor,
        "community/members.html",
        status_code=400 if errors else 200,
        errors=errors,
        values=values,
        results=found,
        organisation_of={m.id: organisations.get(m.organisation_id) for m in shared},
        page=page,
        has_more=has_more,
        href=href,
        skill_options=list(_skill_names(visitor).items()),
    )


# Peer circles and peer connect ----------------------------------------------------------------

NOTICES.update(
    {
        "preferences-saved": "Your choices have been saved.",
        "circles-formed": "Everyone waiting is now in a circle. They have been told.",
        "circles-formed-some-wait": "Circles have been formed or topped up and their new members "
        "told. Some members are still waiting: no circle could take them without breaking its "
        "rules.",
        "circles-none-formed": "Nobody could be placed yet: a circle needs at least four people "
        "at bands no more than two apart, each from a different organisation. Everyone waiting "
        "keeps waiting.",
        "pairing-run": "This month's peer connect pairs have been made and told.",
        "circle-left": "You have left your circle.",
        "member-moved": "The member has been moved.",
    }
)


@router.get("/circles", response_class=HTMLResponse)
def circles_page(visitor: CurrentVisitor) -> Response:
    """Your circle and peer connect choices; organisers also form circles and run pairings."""
    member = member_service.require_member(visitor.member)
    return render(
        visitor,
        "community/circles.html",
        preferences=circles.preferences_of(session=visitor.db, member_id=member.id),
        my_circle=circles.circle_of(session=visitor.db, member_id=member.id),
        waiting=circles.is_waiting(session=visitor.db, member_id=member.id),
        pairings=peer_connect.pairings_of(session=visitor.db, member_id=member.id),
        organising=circles.organising(session=visitor.db, member=member),
    )


@router.post("/circles/preferences", response_class=HTMLResponse)
def save_preferences(visitor: CheckedVisitor, form: Form) -> Response:
    """Opt in or out of a circle and of peer connect."""
    circles.set_preferences(
        session=visitor.db,
        member=visitor.member,
        circles=form_text(form, "circles") == "yes",
        peer_connect=form_text(form, "peer_connect") == "yes",
    )
    return redirect("/circles?notice=preferences-saved")


@router.post("/circles/form", response_class=HTMLResponse)
def form_circles(visitor: CheckedVisitor) -> Response:
    """Organisers: top up circles and form new ones from everyone waiting."""
    formed = circles.form(session=visitor.db, organiser=visitor.member)
    if not formed.placed:
        return redirect("/circles?notice=circles-none-formed")
    if formed.waiting:
        return redirect("/circles?notice=circles-formed-some-wait")
    return redirect("/circles?notice=circles-formed")


@router.post("/circles/peer-connect", response_class=HTMLResponse)
def run_peer_connect(visitor: CheckedVisitor) -> Response:
    """Organisers: make this month's peer connect pairs now."""
    peer_connect.trigger(session=visitor.db, organiser=visitor.member)
    return redirect("/circles?notice=pairing-run")


@router.post("/circles/leave", response_class=HTMLResponse)
def leave_circle(visitor: CheckedVisitor) -> Response:
    """Leave your circle."""
    circles.leave(session=visitor.db, member=visitor.member)
    return redirect("/circles?notice=circle-left")


def _circle_page(
    visitor: Visitor,
    circle_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    member = member_service.require_member(visitor.member)
    view = circles.get(session=visitor.db, viewer=member, circle_id=path_id(circle_id))
    posts, _ = community.feed(
        session=visitor.db,
        viewer=member,
        filter=community.FeedFilter(circle_id=circle_id),
        limit=50,
    )
    return render(
        visitor,
        "community/circle.html",
        status_code=status_code,
        errors=errors,
        values=values,
        view=view,
        posts=community.describe(session=visitor.db, viewer=member, posts=posts),
        skill_names=_skill_names(visitor),
        other_circles=circles.list_circles(session=visitor.db, organiser=member)
        if visitor.organises
        else [],
        is_organiser=visitor.organises,
    )


@router.get("/circles/{circle_id:int}", response_class=HTMLResponse)
def circle_page(visitor: CurrentVisitor, circle_id: int) -> Response:
    """A circle: its members and its own discussion."""
    return _circle_page(visitor, circle_id)


@router.post("/circles/{circle_id:int}/posts", response_class=HTMLResponse)
def circle_post(visitor: CheckedVisitor, form: Form, circle_id: int) -> Response:
    """Start a thread in the circle's discussion."""
    values = {"title": form_text(form, "title"), "body": form_text(form, "body")}
    try:
        post = community.create_post(
            session=visitor.db, author=visitor.member, circle_id=path_id(circle_id), **values
        )
    except DomainError as error:
        if error.code in ("not_authenticated", "forbidden", "not_found"):
            raise
        return _circle_page(
            visitor,
            circle_id,
            errors=form_errors(error, default_field="title"),
            values=values,
            status_code=_status(error),
        )
    return redirect(f"/community/posts/{post.id}?notice=post-shared")


@router.post("/circles/{circle_id:int}/move", response_class=HTMLResponse)
def move_member(visitor: CheckedVisitor, form: Form, circle_id: int) -> Response:
    """Organisers: move a member of this circle to another."""
    raw_member, raw_target = form_text(form, "member_id"), form_text(form, "target_id")
    if not (raw_member.isdigit() and raw_target.isdigit()):
        raise NotFound("No such member or circle.")
    circles.move(
        session=visitor.db,
        organiser=visitor.member,
        member_id=path_id(int(raw_member)),
        circle_id=path_id(int(raw_target)),
    )
    return redirect(f"/circles/{path_id(circle_id)}?notice=member-moved")
