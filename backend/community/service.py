"""Sharing learning and moderation: posts, comments, reactions, follows, reports.

Who may see what lives here, once, for pages and GraphQL alike: deleted posts are gone for
everyone; hidden posts and comments are gone for members but stay visible to organisers
(marked hidden); a circle's posts are for its members and the organisers only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, exists, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import audit
from backend import rate_limits as rate_limits_
from backend.chapters import service as chapters
from backend.community.models import (
    MAX_BODY,
    MAX_COMMENT,
    MAX_NOTE,
    MAX_REASON,
    MAX_TITLE,
    CircleMember,
    Comment,
    Follow,
    Post,
    PostSkill,
    Reaction,
    Report,
)
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound, RateLimited
from backend.members import service as member_service
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.settings import get_settings

MAX_POST_SKILLS = 5
MAX_PAGE = 100
MAX_DB_ID = 2**31 - 1
DUPLICATE_WINDOW = timedelta(minutes=2)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class RateLimits:
    """How much one member may post per hour (settings may override the defaults)."""

    posts_per_hour: int = 5
    comments_per_hour: int = 30
    reports_per_hour: int = 20


def rate_limits() -> RateLimits:
    """The limits in force (``PEERBRIDGE_COMMUNITY_*_PER_HOUR`` settings)."""
    settings = get_settings()
    return RateLimits(
        posts_per_hour=settings.community_posts_per_hour,
        comments_per_hour=settings.community_comments_per_hour,
        reports_per_hour=settings.community_reports_per_hour,
    )


# Who may do what ------------------------------------------------------------------------------


def is_organiser(*, session: Session, member: Member | None) -> bool:
    """True for organisers and admins."""
    return member_service.has_role(session=session, member=member, role="organiser")


def circle_of(*, session: Session, member_id: int) -> int | None:
    """The id of the member's circle, if they are in one."""
    return session.exec(
        select(CircleMember.circle_id).where(CircleMember.member_id == member_id)
    ).first()


def can_see_circle(*, session: Session, viewer: Member | None, circle_id: int) -> bool:
    """Members of the circle and its organisers (the network's, or a chapter organiser whose
    chapters cover one of its members) may read its discussion."""
    from backend.community import circles

    if viewer is None or viewer.id is None:
        return False
    if circle_of(session=session, member_id=viewer.id) == circle_id:
        return True
    if is_organiser(session=session, member=viewer):
        return True
    scope = chapters.scope_of(session=session, member=viewer)
    return circles.covers_circle(session=session, scope=scope, circle_id=circle_id)


def _valid_id(value: int) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_DB_ID


def _check_rate(
    *, session: Session, model: type[Post] | type[Comment], author_id: int, limit: int, what: str
) -> None:
    rate_limits_.check_hourly(
        session=session,
        created_at=model.created_at,
        author=model.author_id,
        author_id=author_id,
        limit=limit,
        what=what,
    )


# Posts ----------------------------------------------------------------------------------------


def _post_problems(
    *, session: Session, title: str, body: str, skills: Sequence[str]
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = "Give your post a title."
    elif len(title.strip()) > MAX_TITLE:
        problems["title"] = f"Title must be {MAX_TITLE} characters or fewer."
    if not body.strip():
        problems["body"] = "Write what you learned."
    elif len(body) > MAX_BODY:
        problems["body"] = f"Post must be {MAX_BODY:,} characters or fewer."
    unique = list(dict.fromkeys(skills))
    if len(unique) > MAX_POST_SKILLS:
        problems["skills"] = f"Choose at most {MAX_POST_SKILLS} skills."
    else:
        from backend.skills import service as skill_service

        problem = skill_service.unknown_skills(session=session, skills=unique)
        if problem:
            problems["skills"] = problem
    return problems


def _set_skills(session: Session, post_id: int, skills: Sequence[str]) -> None:
    session.execute(delete(PostSkill).where(col(PostSkill.post_id) == post_id))
    for skill_id in dict.fromkeys(skills):
        session.add(PostSkill(post_id=post_id, skill_id=skill_id))


def create_post(
    *,
    session: Session,
    author: Member | None,
    title: str,
    body: str,
    skills: Sequence[str] = (),
    circle_id: int | None = None,
) -> Post:
    """Share learning in the feed (or in the author's circle); verified members only."""
    author = member_service.require_member(author)
    problems = _post_problems(session=session, title=title, body=body, skills=skills)
    if problems:
        raise FieldErrors(problems)
    if circle_id is not None and circle_of(session=session, member_id=author.id) != circle_id:
        raise Forbidden("Only members of the circle can post in its discussion.")
    # A double-submitted form (or a retried mutation) returns the post it already made.
    earlier = session.exec(
        select(Post)
        .where(Post.author_id == author.id)
        .where(Post.title == title.strip())
        .where(Post.body == body)
        .where(col(Post.circle_id) == circle_id if circle_id else col(Post.circle_id).is_(None))
        .where(col(Post.deleted_at).is_(None))
        .where(Post.created_at > utcnow() - DUPLICATE_WINDOW)
    ).first()
    if earlier is not None:
        return earlier
    _check_rate(
        session=session,
        model=Post,
        author_id=author.id,
        limit=rate_limits().posts_per_hour,
        what="posts",
    )
    post = Post(author_id=author.id, circle_id=circle_id, title=title.strip(), body=body)
    session.add(post)
    session.flush()
    _set_skills(session, post.id, skills)
    session.flush()
    session.refresh(post)
    return post


def _load_post(session: Session, post_id: int) -> Post:
    post = session.get(Post, post_id) if _valid_id(post_id) else None
    if post is None or post.deleted_at is not None:
        raise NotFound("No post with that id.", field="post_id")
    return post


def get_post(*, session: Session, viewer: Member | None, post_id: int) -> Post:
    """A post, if ``viewer`` may read it (hidden ones: organisers and the author only)."""
    viewer = member_service.require_member(viewer)
    post = _load_post(session, post_id)
    if post.circle_id is not None and not can_see_circle(
        session=session, viewer=viewer, circle_id=post.circle_id
    ):
        raise NotFound("No post with that id.", field="post_id")
    if (
        post.status == "hidden"
        and post.author_id != viewer.id
        and not is_organiser(session=session, member=viewer)
    ):
        raise NotFound("No post with that id.", field="post_id")
    return post


def _own_post(session: Session, member: Member, post_id: int) -> Post:
    post = _load_post(session, post_id)
    if post.author_id != member.id:
        raise Forbidden("You can only change your own posts.")
    return post


def edit_post(
    *,
    session: Session,
    member: Member | None,
    post_id: int,
    title: str,
    body: str,
    skills: Sequence[str] = (),
) -> Post:
    """Change the title, body and skills of one of your own posts."""
    member = member_service.require_member(member)
    post = _own_post(session, member, post_id)
    problems = _post_problems(session=session, title=title, body=body, skills=skills)
    if problems:
        raise FieldErrors(problems)
    post.title = title.strip()
    post.body = body
    post.edited_at = utcnow()
    session.add(post)
    _set_skills(session, post.id, skills)
    session.flush()
    session.refresh(post)
    return post


def delete_post(*, session: Session, member: Member | None, post_id: int) -> Post:
    """Delete one of your own posts (kept for moderation records, gone from every view)."""
    member = member_service.require_member(member)
    post = _own_post(session, member, post_id)
    post.deleted_at = utcnow()
    session.add(post)
    session.flush()
    return post


@dataclass(frozen=True)
class FeedFilter:
    """Which posts a feed shows: all, one skill, people I follow, or one circle."""

    skill: str | None = None
    following: bool = False
    circle_id: int | None = None
    author_id: int | None = None


def feed(
    *,
    session: Session,
    viewer: Member | None,
    filter: FeedFilter = FeedFilter(),
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Post], bool]:
    """Newest posts first (keyset on id, so pages never skip or repeat), and whether more follow."""
    viewer = member_service.require_member(viewer)
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"Page size must be from 1 to {MAX_PAGE}.", field="first")
    if filter.skill is not None and len(filter.skill) > 60:
        raise Invalid("That is not a skill id.", field="skill")
    statement = select(Post).where(col(Post.deleted_at).is_(None))
    if filter.circle_id is not None:
        if not can_see_circle(session=session, viewer=viewer, circle_id=filter.circle_id):
            raise NotFound("No circle with that id.", field="circle_id")
        statement = statement.where(Post.circle_id == filter.circle_id)
    else:
        statement = statement.where(col(Post.circle_id).is_(None))
    if not is_organiser(session=session, member=viewer):
        statement = statement.where(Post.status == "visible")
    if filter.skill:
        statement = statement.where(
            exists().where(
                col(PostSkill.post_id) == col(Post.id), col(PostSkill.skill_id) == filter.skill
            )
        )
    if filter.following:
        statement = statement.where(
            col(Post.author_id).in_(
                select(Follow.followed_id).where(Follow.follower_id == viewer.id)
            )
        )
    if filter.author_id is not None:
        statement = statement.where(Post.author_id == filter.author_id)
    if before_id is not None:
        statement = statement.where(col(Post.id) < before_id)
    rows = session.exec(statement.order_by(col(Post.id).desc()).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit


# Details for many posts at once (pages and DataLoaders) ----------------------------------------


def skills_for(*, session: Session, post_ids: Sequence[int]) -> dict[int, list[str]]:
    """Skill ids per post, in one query."""
    result: dict[int, list[str]] = {post_id: [] for post_id in post_ids}
    if post_ids:
        for row in session.exec(
            select(PostSkill)
            .where(col(PostSkill.post_id).in_(post_ids))
            .order_by(PostSkill.skill_id)
        ).all():
            result[row.post_id].append(row.skill_id)
    return result


def useful_counts(*, session: Session, post_ids: Sequence[int]) -> dict[int, int]:
    """How many members found each post useful, in one query."""
    result = dict.fromkeys(post_ids, 0)
    if post_ids:
        for post_id, n in session.exec(
            select(Reaction.post_id, func.count())
            .where(col(Reaction.post_id).in_(post_ids))
            .group_by(col(Reaction.post_id))
        ).all():
            result[post_id] = n
    return result


def useful_to(*, session: Session, member_id: int | None, post_ids: Sequence[int]) -> set[int]:
    """Which of the posts the member marked useful."""
    if member_id is None or not post_ids:
        return set()
    return set(
        session.exec(
            select(Reaction.post_id)
            .where(Reaction.member_id == member_id)
            .where(col(Reaction.post_id).in_(post_ids))
        ).all()
    )


def _visible_comments(statement, viewer_is_organiser: bool):
    statement = statement.where(col(Comment.deleted_at).is_(None))
    if not viewer_is_organiser:
        statement = statement.where(Comment.status == "visible")
    return statement


def comment_counts(
    *, session: Session, viewer: Member | None, post_ids: Sequence[int]
) -> dict[int, int]:
    """How many comments the viewer can see on each post, in one query."""
    result = dict.fromkeys(post_ids, 0)
    if post_ids:
        statement = _visible_comments(
            select(col(Comment.post_id), func.count()).where(col(Comment.post_id).in_(post_ids)),
            is_organiser(session=session, member=viewer),
        )
        for post_id, n in session.exec(statement.group_by(Comment.post_id)).all():
            result[post_id] = n
    return result


def comments_for(
    *, session: Session, viewer: Member | None, post_ids: Sequence[int]
) -> dict[int, list[Comment]]:
    """The comments the viewer can see on each post, oldest first, in one query."""
    result: dict[int, list[Comment]] = {post_id: [] for post_id in post_ids}
    if post_ids:
        statement = _visible_comments(
            select(Comment).where(col(Comment.post_id).in_(post_ids)),
            is_organiser(session=session, member=viewer),
        )
        for comment in session.exec(statement.order_by(Comment.id)).all():
            result[comment.post_id].append(comment)
    return result


@dataclass
class PostView:
    """A post with what a page shows beside it."""

    post: Post
    author: Member | None
    skills: list[str]
    useful: int
    useful_to_me: bool
    comment_count: int
    comments: list[Comment] = field(default_factory=list)
    is_own: bool = False


def describe(
    *, session: Session, viewer: Member | None, posts: Sequence[Post], with_comments: bool = False
) -> list[PostView]:
    """Posts with authors, skills, counts (and comments), in a fixed number of queries."""
    ids = [p.id for p in posts if p.id is not None]
    author_ids = {p.author_id for p in posts}
    comments = comments_for(session=session, viewer=viewer, post_ids=ids) if with_comments else {}
    author_ids |= {c.author_id for cs in comments.values() for c in cs}
    authors = member_service.get_many(session=session, member_ids=list(author_ids))
    skills = skills_for(session=session, post_ids=ids)
    useful = useful_counts(session=session, post_ids=ids)
    mine = useful_to(session=session, member_id=viewer.id if viewer else None, post_ids=ids)
    counts = comment_counts(session=session, viewer=viewer, post_ids=ids)
    return [
        PostView(
            post=p,
            author=authors.get(p.author_id),
            skills=skills[p.id],
            useful=useful[p.id],
            useful_to_me=p.id in mine,
            comment_count=counts[p.id],
            comments=comments.get(p.id, []),
            is_own=viewer is not None and p.author_id == viewer.id,
        )
        for p in posts
    ]


def authors_of(*, session: Session, comments: Sequence[Comment]) -> dict[int, Member]:
    """The authors of comments by id."""
    return member_service.get_many(
        session=session, member_ids=list({c.author_id for c in comments})
    )


# Comments and reactions -----------------------------------------------------------------------


def add_comment(*, session: Session, author: Member | None, post_id: int, body: str) -> Comment:
    """Reply to a post you can see; verified members only; the post's author is told."""
    author = member_service.require_member(author)
    post = get_post(session=session, viewer=author, post_id=post_id)
    text = body or ""
    if not text.strip():
        raise Invalid("Write a comment.", field="body")
    if len(text) > MAX_COMMENT:
        raise Invalid(f"Comment must be {MAX_COMMENT:,} characters or fewer.", field="body")
    if post.status == "hidden":
        raise Conflict("This post is hidden by the organisers; replies are closed.")
    earlier = session.exec(
        select(Comment)
        .where(Comment.author_id == author.id)
        .where(Comment.post_id == post.id)
        .where(Comment.body == text)
        .where(col(Comment.deleted_at).is_(None))
        .where(Comment.created_at > utcnow() - DUPLICATE_WINDOW)
    ).first()
    if earlier is not None:
        return earlier
    _check_rate(
        session=session,
        model=Comment,
        author_id=author.id,
        limit=rate_limits().comments_per_hour,
        what="comments",
    )
    comment = Comment(post_id=post.id, author_id=author.id, body=text)
    session.add(comment)
    if post.author_id != author.id:
        owner = session.get(Member, post.author_id)
        if owner is not None and owner.is_active:
            notifications.notify_member(
                session=session,
                member=owner,
                kind="community",
                title=f"{author.name} replied to your post",
                body=f'{author.name} replied to "{post.title}".',
                link=f"/community/posts/{post.id}",
            )
    session.flush()
    session.refresh(comment)
    return comment


def toggle_useful(*, session: Session, member: Member | None, post_id: int) -> bool:
    """Mark a post useful, or unmark it; returns whether it is now marked."""
    member = member_service.require_member(member)
    post = get_post(session=session, viewer=member, post_id=post_id)
    removed = session.exec(
        delete(Reaction).where(
            col(Reaction.post_id) == post.id, col(Reaction.member_id) == member.id
        )
    ).rowcount
    if removed:
        session.flush()
        return False
    try:
        with session.begin_nested():
            session.add(Reaction(post_id=post.id, member_id=member.id))
            session.flush()
    except IntegrityError:
        pass  # a racing click marked it first: it is marked either way
    return True


def set_useful(*, session: Session, member: Member | None, post_id: int, useful: bool) -> bool:
    """Mark or unmark a post as useful (idempotent); returns the new state."""
    member = member_service.require_member(member)
    post = get_post(session=session, viewer=member, post_id=post_id)
    marked = post.id in useful_to(session=session, member_id=member.id, post_ids=[post.id])
    if marked != useful:
        return toggle_useful(session=session, member=member, post_id=post_id)
    return useful


# Following ------------------------------------------------------------------------------------


def follow(*, session: Session, follower: Member | None, member_id: int) -> None:
    """Follow a member's posts (idempotent)."""
    follower = member_service.require_member(follower)
    target = member_service.get(session=session, member_id=member_id, viewer=follower)
    if target.id == follower.id:
        raise Invalid("You cannot follow yourself.", field="member_id")
    if session.get(Follow, (follower.id, target.id)) is None:
        try:
            with session.begin_nested():
                session.add(Follow(follower_id=follower.id, followed_id=target.id))
                session.flush()
        except IntegrityError:
            pass  # a racing follow was first: followed either way


def unfollow(*, session: Session, follower: Member | None, member_id: int) -> None:
    """Stop following a member (idempotent)."""
    follower = member_service.require_member(follower)
    session.execute(
        delete(Follow).where(
            col(Follow.follower_id) == follower.id, col(Follow.followed_id) == member_id
        )
    )
    session.flush()


def is_following(*, session: Session, follower_id: int, member_id: int) -> bool:
    """True when ``follower_id`` follows ``member_id``."""
    return session.get(Follow, (follower_id, member_id)) is not None


def following_ids(*, session: Session, follower_id: int) -> set[int]:
    """Everyone the member follows."""
    return set(
        session.exec(select(Follow.followed_id).where(Follow.follower_id == follower_id)).all()
    )


# Moderation -----------------------------------------------------------------------------------


def report(
    *,
    session: Session,
    reporter: Member | None,
    reason: str,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> Report:
    """Report a post or a comment to the organisers (one open report per person and target)."""
    reporter = member_service.require_member(reporter)
    if (post_id is None) == (comment_id is None):
        raise Invalid("Report either a post or a comment.", field="post_id")
    text = (reason or "").strip()
    if not text:
        raise Invalid("Say what is wrong, so the organisers can act.", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"Reason must be {MAX_REASON:,} characters or fewer.", field="reason")
    if comment_id is not None:
        comment = session.get(Comment, comment_id) if _valid_id(comment_id) else None
        if comment is None or comment.deleted_at is not None:
            raise NotFound("No comment with that id.", field="comment_id")
        get_post(session=session, viewer=reporter, post_id=comment.post_id)
    else:
        assert post_id is not None  # exactly one of the two was given (checked above)
        get_post(session=session, viewer=reporter, post_id=post_id)
    existing = session.exec(
        select(Report)
        .where(Report.reporter_id == reporter.id)
        .where(Report.status == "open")
        .where(Report.post_id == post_id if post_id else Report.comment_id == comment_id)
    ).first()
    if existing is not None:
        return existing
    recent = session.exec(
        select(func.count())
        .select_from(Report)
        .where(Report.reporter_id == reporter.id)
        .where(Report.created_at > utcnow() - HOUR)
    ).one()
    limit = rate_limits().reports_per_hour
    if recent >= limit:
        raise RateLimited(f"You can make {limit} reports an hour.", retry_after=3600)
    record = Report(reporter_id=reporter.id, post_id=post_id, comment_id=comment_id, reason=text)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        raise Conflict("You have already reported this.") from None
    session.refresh(record)
    return record


@dataclass
class QueueItem:
    """One reported post or comment with every open report about it."""

    kind: str  # "post" or "comment"
    post: Post
    comment: Comment | None
    author: Member | None
    reports: list[Report]
    reporters: dict[int, Member]

    @property
    def target_id(self) -> int:
        """The id of the reported post or comment."""
        return (self.comment.id if self.comment else self.post.id) or 0

    @property
    def hidden(self) -> bool:
        """Whether the reported content is hidden now."""
        return (self.comment or self.post).status == "hidden"


def moderation_queue(*, session: Session, organiser: Member | None) -> list[QueueItem]:
    """Open reports grouped by what they are about, oldest first (organisers only); a chapter
    organiser sees only reports about posts and comments whose author their chapters cover."""
    _, scope = chapters.require_scope(session=session, member=organiser)
    reports = session.exec(
        select(Report).where(col(Report.status) == "open").order_by(col(Report.id))
    ).all()
    groups: dict[tuple[str, int], list[Report]] = defaultdict(list)
    for r in reports:
        if r.comment_id:
            groups["comment", r.comment_id].append(r)
        elif r.post_id is not None:
            groups["post", r.post_id].append(r)
    comment_ids = [i for kind, i in groups if kind == "comment"]
    comments = {
        c.id: c for c in session.exec(select(Comment).where(col(Comment.id).in_(comment_ids))).all()
    }
    post_ids = {i for kind, i in groups if kind == "post"} | {c.post_id for c in comments.values()}
    posts = {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(post_ids))).all()}
    people = {p.author_id for p in posts.values()} | {c.author_id for c in comments.values()}
    people |= {r.reporter_id for r in reports if r.reporter_id}
    members = member_service.get_many(session=session, member_ids=list(people))
    covered = _covered_ids(session, scope, [i for i in people if i is not None])
    items = []
    for (kind, target), group in groups.items():
        comment = comments.get(target) if kind == "comment" else None
        post = posts.get(comment.post_id if comment else target)
        if post is None:
            continue
        author_id = comment.author_id if comment else post.author_id
        if not scope.network and author_id not in covered:
            continue
        items.append(
            QueueItem(
                kind=kind,
                post=post,
                comment=comment,
                author=members.get(author_id),
                reports=group,
                reporters={
                    r.reporter_id: members[r.reporter_id] for r in group if r.reporter_id in members
                },
            )
        )
    return items


@dataclass(frozen=True)
class HiddenItem:
    """A post or comment an organiser hid, with who hid it and why (to restore it)."""

    kind: str  # "post" or "comment"
    post: Post
    comment: Comment | None
    author: Member | None
    moderator: Member | None

    @property
    def target(self) -> Post | Comment:
        return self.comment or self.post

    @property
    def target_id(self) -> int:
        """The id of the hidden post or comment."""
        return self.target.id or 0


def hidden_content(
    *, session: Session, organiser: Member | None, limit: int = 50
) -> list[HiddenItem]:
    """Hidden posts and comments, most recently hidden first, so an organiser can restore one
    (a chapter organiser sees only those whose author their chapters cover)."""
    _, scope = chapters.require_scope(session=session, member=organiser)
    posts = list(
        session.exec(
            select(Post)
            .where(col(Post.status) == "hidden", col(Post.deleted_at).is_(None))
            .order_by(col(Post.moderated_at).desc(), col(Post.id).desc())
            .limit(limit)
        ).all()
    )
    comments = list(
        session.exec(
            select(Comment)
            .where(col(Comment.status) == "hidden", col(Comment.deleted_at).is_(None))
            .order_by(col(Comment.moderated_at).desc(), col(Comment.id).desc())
            .limit(limit)
        ).all()
    )
    parents = {p.id: p for p in posts}
    missing = {c.post_id for c in comments} - set(parents)
    if missing:
        parents.update(
            {p.id: p for p in session.exec(select(Post).where(col(Post.id).in_(missing))).all()}
        )
    targets: list[Post | Comment] = [*posts, *comments]
    people = {x.author_id for x in targets} | {x.moderated_by_id for x in targets}
    known = [i for i in people if i is not None]
    members = member_service.get_many(session=session, member_ids=known)
    covered = _covered_ids(session, scope, known)
    items: list[HiddenItem] = []
    for target in targets:
        comment = target if isinstance(target, Comment) else None
        post = parents.get(comment.post_id) if comment else target
        if not isinstance(post, Post):
            continue
        if not scope.network and target.author_id not in covered:
            continue
        items.append(
            HiddenItem(
                kind="comment" if comment else "post",
                post=post,
                comment=comment,
                author=members.get(target.author_id) if target.author_id else None,
                moderator=members.get(target.moderated_by_id) if target.moderated_by_id else None,
            )
        )
    items.sort(key=lambda i: i.target.moderated_at or i.target.created_at, reverse=True)
    return items[:limit]


def _covered_ids(session: Session, scope: chapters.Scope, member_ids: list[int]) -> set[int]:
    """Which of ``member_ids`` the scope covers (all of them for the network)."""
    if scope.network:
        return set(member_ids)
    if not member_ids:
        return set()
    return set(
        session.exec(
            select(col(Member.id))
            .where(col(Member.id).in_(member_ids))
            .where(chapters.members_in(session=session, scope=scope))
        ).all()
    )


def _require_in_scope(
    session: Session, scope: chapters.Scope, target: Post | Comment | None, field: str
) -> None:
    """NotFound unless the scope covers the author of ``target`` (content outside a chapter
    organiser's chapters is not revealed)."""
    if scope.network:
        return
    author_id = target.author_id if target is not None else None
    if author_id is None or not _covered_ids(session, scope, [author_id]):
        raise NotFound("Nothing to moderate with that id.", field=field)


def _resolve_open_reports(
    session: Session, organiser: Member, *, post_id: int | None, comment_id: int | None
) -> int:
    """Mark the open reports about the post (or else the comment) resolved by ``organiser``."""
    condition = (
        col(Report.post_id) == post_id
        if post_id is not None
        else col(Report.comment_id) == comment_id
    )
    return session.exec(
        update(Report)
        .where(condition)
        .where(col(Report.status) == "open")
        .values(status="resolved", resolved_at=utcnow(), resolved_by_id=organiser.id)
    ).rowcount


def _moderate(
    *,
    session: Session,
    organiser: Member | None,
    status: str,
    note: str,
    post_id: int | None,
    comment_id: int | None,
) -> Post | Comment:
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    if (post_id is None) == (comment_id is None):
        raise Invalid("Choose either a post or a comment.", field="post_id")
    text = (note or "").strip()
    if not text:
        raise Invalid("Write a note saying why, for the record.", field="note")
    if len(text) > MAX_NOTE:
        raise Invalid(f"Note must be {MAX_NOTE:,} characters or fewer.", field="note")
    target: Post | Comment | None
    if post_id is not None:
        target = session.get(Post, post_id) if _valid_id(post_id) else None
    else:
        assert comment_id is not None  # exactly one of the two was given (checked above)
        target = session.get(Comment, comment_id) if _valid_id(comment_id) else None
    if target is None or target.deleted_at is not None:
        raise NotFound(
            "Nothing to moderate with that id.", field="post_id" if post_id else "comment_id"
        )
    _require_in_scope(session, scope, target, "post_id" if post_id else "comment_id")
    target.status = status
    target.moderation_note = text
    target.moderated_by_id = organiser.id
    target.moderated_at = utcnow()
    session.add(target)
    # Acting on content answers every open report about it.
    resolved = _resolve_open_reports(session, organiser, post_id=post_id, comment_id=comment_id)
    _audit_moderation(
        session,
        organiser,
        audit.actions.CONTENT_HIDDEN if status == "hidden" else audit.actions.CONTENT_RESTORED,
        post_id=post_id,
        comment_id=comment_id,
        reports=resolved,
    )
    session.refresh(target)
    return target


def _audit_moderation(
    session: Session,
    organiser: Member,
    action: str,
    *,
    post_id: int | None,
    comment_id: int | None,
    reports: int,
) -> None:
    """The moderation's event (the note stays on the content, never in the audit log)."""
    audit.record(
        session,
        actor=organiser,
        action=action,
        subject=audit.subject("post", post_id)
        if post_id is not None
        else audit.subject("comment", comment_id),
        details={"reports_resolved": reports},
    )


def hide(
    *,
    session: Session,
    organiser: Member | None,
    note: str,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> Post | Comment:
    """Hide a post or comment from members, with a note (organisers only)."""
    return _moderate(
        session=session,
        organiser=organiser,
        status="hidden",
        note=note,
        post_id=post_id,
        comment_id=comment_id,
    )


def restore(
    *,
    session: Session,
    organiser: Member | None,
    note: str,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> Post | Comment:
    """Show a hidden post or comment again, with a note (organisers only)."""
    return _moderate(
        session=session,
        organiser=organiser,
        status="visible",
        note=note,
        post_id=post_id,
        comment_id=comment_id,
    )


def dismiss_reports(
    *,
    session: Session,
    organiser: Member | None,
    post_id: int | None = None,
    comment_id: int | None = None,
) -> int:
    """Close the open reports about a post or comment without hiding it (organisers only)."""
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    if (post_id is None) == (comment_id is None):
        raise Invalid("Choose either a post or a comment.", field="post_id")
    if not scope.network:
        found: Post | Comment | None = (
            session.get(Post, post_id)
            if post_id is not None and _valid_id(post_id)
            else session.get(Comment, comment_id)
            if comment_id is not None and _valid_id(comment_id)
            else None
        )
        _require_in_scope(session, scope, found, "post_id" if post_id else "comment_id")
    count = _resolve_open_reports(session, organiser, post_id=post_id, comment_id=comment_id)
    _audit_moderation(
        session,
        organiser,
        audit.actions.REPORTS_DISMISSED,
        post_id=post_id,
        comment_id=comment_id,
        reports=count,
    )
    return count
