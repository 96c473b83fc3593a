"""How many reported items wait in an organiser's moderation queue (for the header link).

Counted with a few aggregate queries, not by building the queue: the header shows it on every
page an organiser opens. A chapter organiser counts only items whose author their chapters cover.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.chapters import service as chapters
from backend.community.models import Comment, Post, Report
from backend.members.models import Member
from backend.messaging.models import Message, MessageReport


def moderation_waiting(*, session: Session, organiser: Member | None) -> int:
    """Reported posts, comments and messages with open reports that ``organiser`` may act on
    (0 for anyone who organises nothing; the queue itself still asks for their second factor)."""
    if organiser is None:
        return 0
    scope = chapters.scope_of(session=session, member=organiser)
    if not scope.is_organiser:
        return 0
    posts = (
        select(col(Report.post_id), col(Post.author_id))
        .join(Post, col(Post.id) == col(Report.post_id))
        .where(col(Report.status) == "open")
        .where(col(Report.comment_id).is_(None))
        .distinct()
    )
    comments = (
        select(col(Report.comment_id), col(Comment.author_id))
        .join(Comment, col(Comment.id) == col(Report.comment_id))
        .join(Post, col(Post.id) == col(Comment.post_id))
        .where(col(Report.status) == "open")
        .distinct()
    )
    messages = (
        select(col(MessageReport.message_id), col(Message.author_id))
        .join(Message, col(Message.id) == col(MessageReport.message_id))
        .where(col(MessageReport.status) == "open")
        .distinct()
    )
    if not scope.network:
        covered = chapters.members_in(session=session, scope=scope)
        in_scope = select(col(Member.id)).where(covered)
        posts = posts.where(col(Post.author_id).in_(in_scope))
        comments = comments.where(col(Comment.author_id).in_(in_scope))
        messages = messages.where(col(Message.author_id).in_(in_scope))
    return sum(len(session.exec(statement).all()) for statement in (posts, comments, messages))
