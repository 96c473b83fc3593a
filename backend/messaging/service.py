"""Messages: who may read and post, sending, unread counts, notices, reports, export, erasure.

Who may read a thread lives here, once, for pages and GraphQL alike: the two sides of a
mentorship (for ever, but posting only while it is active), the current members of a
circle (posting while the circle is active), and a mentoring group's mentor and the mentees
whose mentorship in the group is active (posting while the group is active; once it has closed,
its mentor and the mentees who saw it through, their mentorship completed, read it). Nobody
else, organisers included: an organiser reads a message only once one of its readers reports
it, and then only that message and the one before and after it (``moderation_queue``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import audit, rate_limits, text
from backend.chapters import service as chapters
from backend.community.models import Circle, CircleMember
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring.models import MentoringGroup, Mentorship
from backend.messaging.models import (
    MAX_MESSAGE,
    MAX_REASON,
    Message,
    MessagePreference,
    MessageReadState,
    MessageReport,
    MessageThread,
)
from backend.notifications import service as notifications
from backend.notifications.models import Notification
from backend.settings import get_settings

MAX_DB_ID = 2**31 - 1
MAX_PAGE = 100
DUPLICATE_WINDOW = timedelta(minutes=2)
ERASED_TEXT = "Message removed: the author deleted their account."
HIDDEN_TEXT = "Message hidden by an organiser after a report."
ENDED = (
    "This mentorship has ended: its messages stay here for you both to read, but no new ones "
    "can be sent."
)
CLOSED = "This circle has closed: its messages stay here to read, but no new ones can be sent."
GROUP_CLOSED = (
    "This mentoring group has closed: its messages stay here to read, but no new ones can be sent."
)


def _valid_id(value: object) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_DB_ID


def link_to(thread_id: int) -> str:
    """The page of a thread."""
    return f"/messages/{thread_id}"


# Who may read and post ------------------------------------------------------------------------


@dataclass
class Participation:
    """Who reads a thread now, whether they may post, and what its owner is called."""

    member_ids: list[int]
    can_post: bool
    read_only_reason: str
    kind: str  # "mentorship", "circle" or "group"
    owner_id: int
    circle_name: str = ""  # the circle's or the group's name


def _participants(session: Session, thread: MessageThread) -> Participation:
    """The thread's current readers: the one place that says who is in a conversation."""
    return _participations(session, [thread])[thread.id]


def _participations(session: Session, threads: Sequence[MessageThread]) -> dict[int, Participation]:
    """``_participants`` for many threads in a fixed number of queries (one per owner kind).

    A mentorship's two sides read it for ever and post while it is active; a circle's current
    members read it and post while it is active; a mentoring group's mentor and its members
    (``_group_readers``) read it and post while the group is active.
    """
    mentorship_ids = [t.mentorship_id for t in threads if t.mentorship_id is not None]
    circle_ids = [t.circle_id for t in threads if t.circle_id is not None]
    group_ids = [t.mentoring_group_id for t in threads if t.mentoring_group_id is not None]
    groups, readers = _group_readers(session, group_ids)
    mentorships = (
        {
            m.id: m
            for m in session.exec(
                select(Mentorship).where(col(Mentorship.id).in_(mentorship_ids))
            ).all()
        }
        if mentorship_ids
        else {}
    )
    circles: dict[int, Circle] = {}
    seats: dict[int, list[int]] = {i: [] for i in circle_ids}
    if circle_ids:
        circles = {
            c.id: c
            for c in session.exec(select(Circle).where(col(Circle.id).in_(circle_ids))).all()
        }
        for circle_id, member_id in session.exec(
            select(CircleMember.circle_id, CircleMember.member_id)
            .where(col(CircleMember.circle_id).in_(circle_ids))
            .order_by(col(CircleMember.member_id))
        ).all():
            seats[circle_id].append(member_id)
    found: dict[int, Participation] = {}
    for thread in threads:
        if thread.mentorship_id is not None:
            mentorship = mentorships.get(thread.mentorship_id)
            ids = (
                [i for i in (mentorship.mentor_id, mentorship.mentee_id) if i is not None]
                if mentorship
                else []
            )
            active = mentorship is not None and mentorship.status == "active" and len(ids) == 2
            found[thread.id] = Participation(
                ids, active, "" if active else ENDED, "mentorship", thread.mentorship_id
            )
            continue
        if thread.mentoring_group_id is not None:
            group = groups.get(thread.mentoring_group_id)
            active = group is not None and group.status == "active"
            found[thread.id] = Participation(
                readers.get(thread.mentoring_group_id, []),
                active,
                "" if active else GROUP_CLOSED,
                "group",
                thread.mentoring_group_id,
                circle_name=group.name if group else "",
            )
            continue
        assert thread.circle_id is not None  # the CHECK: exactly one owner
        circle = circles.get(thread.circle_id)
        active = circle is not None and circle.status == "active"
        found[thread.id] = Participation(
            seats.get(thread.circle_id, []),
            active,
            "" if active else CLOSED,
            "circle",
            thread.circle_id,
            circle_name=circle.name if circle else "",
        )
    return found


def _reads_group() -> Any:
    """Whether a mentee's mentorship makes them a reader of its group's conversation: active
    in the group, or (once the group has closed) completed in it."""
    return or_(
        col(Mentorship.status) == "active",
        and_(col(Mentorship.status) == "completed", col(MentoringGroup.status) == "closed"),
    )


def _group_readers(
    session: Session, group_ids: Sequence[int]
) -> tuple[dict[int, MentoringGroup], dict[int, list[int]]]:
    """The groups and, for each, its readers: the mentor first, then its members (two queries).

    A member reads the group's conversation while their mentorship in it is active; once the
    group has closed, those whose mentorship in it completed still read it (and its mentor).
    A member who left early, or whose mentorship ended while the group went on, reads no more.
    """
    if not group_ids:
        return {}, {}
    groups = {
        g.id: g
        for g in session.exec(
            select(MentoringGroup).where(col(MentoringGroup.id).in_(list(group_ids)))
        ).all()
    }
    readers: dict[int, list[int]] = {
        g.id: [g.mentor_id] if g.mentor_id is not None else [] for g in groups.values()
    }
    for group_id, mentee_id in session.exec(
        select(Mentorship.group_id, Mentorship.mentee_id)
        .join(MentoringGroup, col(MentoringGroup.id) == col(Mentorship.group_id))
        .where(col(Mentorship.group_id).in_(list(groups)))
        .where(col(Mentorship.mentee_id).is_not(None))
        .where(_reads_group())
        .order_by(col(Mentorship.id))
    ).all():
        if group_id is not None and mentee_id is not None and mentee_id not in readers[group_id]:
            readers[group_id].append(mentee_id)
    return groups, readers


def _my_groups(member_id: int) -> Any:
    """The ids of the mentoring groups whose conversation ``member_id`` reads (a subquery)."""
    as_member = (
        select(col(Mentorship.group_id))
        .join(MentoringGroup, col(MentoringGroup.id) == col(Mentorship.group_id))
        .where(col(Mentorship.mentee_id) == member_id)
        .where(_reads_group())
    )
    return select(col(MentoringGroup.id)).where(
        or_(col(MentoringGroup.mentor_id) == member_id, col(MentoringGroup.id).in_(as_member))
    )


def _my_threads(member_id: int) -> Any:
    """The ids of the threads ``member_id`` reads now (a subquery)."""
    mine = or_(col(Mentorship.mentor_id) == member_id, col(Mentorship.mentee_id) == member_id)
    return select(col(MessageThread.id)).where(
        or_(
            col(MessageThread.mentorship_id).in_(select(col(Mentorship.id)).where(mine)),
            col(MessageThread.circle_id).in_(
                select(col(CircleMember.circle_id)).where(CircleMember.member_id == member_id)
            ),
            col(MessageThread.mentoring_group_id).in_(_my_groups(member_id)),
        )
    )


def _readable(
    session: Session, viewer: Member, thread_id: int
) -> tuple[MessageThread, Participation]:
    """The thread and its participation, or NotFound unless ``viewer`` reads it now."""
    thread = session.get(MessageThread, thread_id) if _valid_id(thread_id) else None
    if thread is None:
        raise NotFound("No conversation with that id.", field="thread_id")
    participation = _participants(session, thread)
    if viewer.id not in participation.member_ids:
        raise NotFound("No conversation with that id.", field="thread_id")
    return thread, participation


def _get_or_create(session: Session, **owner: int) -> MessageThread:
    """The owner's thread, made on first use (two first uses at once still make one)."""
    ((column, value),) = owner.items()
    found = session.exec(
        select(MessageThread).where(getattr(MessageThread, column) == value)
    ).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            thread = MessageThread.model_validate(owner)
            session.add(thread)
            session.flush()
    except IntegrityError:
        found = session.exec(
            select(MessageThread).where(getattr(MessageThread, column) == value)
        ).first()
        if found is None:
            raise
        return found
    return thread


def thread_for_mentorship(
    *, session: Session, member: Member | None, mentorship_id: int
) -> MessageThread:
    """The conversation of a mentorship (made on first use), for its two sides only."""
    member = member_service.require_member(member)
    mentorship = session.get(Mentorship, mentorship_id) if _valid_id(mentorship_id) else None
    if mentorship is None or member.id not in (mentorship.mentor_id, mentorship.mentee_id):
        raise NotFound("No such mentorship.", field="mentorship_id")
    return _get_or_create(session, mentorship_id=mentorship.id)


def thread_for_circle(*, session: Session, member: Member | None, circle_id: int) -> MessageThread:
    """The conversation of a circle (made on first use), for its current members only."""
    member = member_service.require_member(member)
    in_circle = (
        _valid_id(circle_id)
        and session.exec(
            select(CircleMember.member_id)
            .where(CircleMember.circle_id == circle_id)
            .where(CircleMember.member_id == member.id)
        ).first()
    )
    if not in_circle:
        raise NotFound("No such circle.", field="circle_id")
    return _get_or_create(session, circle_id=circle_id)


def thread_for_group(*, session: Session, member: Member | None, group_id: int) -> MessageThread:
    """The conversation of a mentoring group (made on first use), for its readers only: its
    mentor and its members (``_group_readers``); anyone else gets NotFound."""
    member = member_service.require_member(member)
    if not _valid_id(group_id):
        raise NotFound("No such mentoring group.", field="group_id")
    _, readers = _group_readers(session, [group_id])
    if member.id not in readers.get(group_id, []):
        raise NotFound("No such mentoring group.", field="group_id")
    return _get_or_create(session, mentoring_group_id=group_id)


# Reading --------------------------------------------------------------------------------------


@dataclass
class ThreadView:
    """A thread as one reader sees it."""

    thread: MessageThread
    title: str
    kind: str
    owner_id: int
    can_post: bool
    read_only_reason: str
    participants: list[Member]
    unread: int = 0
    last_message: Message | None = None

    @property
    def link(self) -> str:
        """The thread's page."""
        return link_to(self.thread.id)


def _title(participation: Participation, people: dict[int, Member], viewer_id: int) -> str:
    if participation.kind == "circle":
        return participation.circle_name or "Your circle"
    if participation.kind == "group":
        return participation.circle_name or "Your mentoring group"
    others = [people[i].name for i in participation.member_ids if i != viewer_id and i in people]
    return f"Mentorship with {others[0]}" if others else "Mentorship with a former member"


def _views(session: Session, viewer: Member, threads: Sequence[MessageThread]) -> list[ThreadView]:
    """Views of ``threads`` for ``viewer`` with a fixed number of queries per owner kind."""
    parts = _participations(session, threads)
    people = member_service.get_many(
        session=session, member_ids=sorted({i for p in parts.values() for i in p.member_ids})
    )
    counts = unread_counts(session=session, member_id=viewer.id, thread_ids=[t.id for t in threads])
    last = _last_messages(session, [t.id for t in threads])
    return [
        ThreadView(
            thread=t,
            title=_title(parts[t.id], people, viewer.id),
            kind=parts[t.id].kind,
            owner_id=parts[t.id].owner_id,
            can_post=parts[t.id].can_post,
            read_only_reason=parts[t.id].read_only_reason,
            participants=[people[i] for i in parts[t.id].member_ids if i in people],
            unread=counts.get(t.id, 0),
            last_message=last.get(t.id),
        )
        for t in threads
    ]


def _last_messages(session: Session, thread_ids: list[int]) -> dict[int, Message]:
    if not thread_ids:
        return {}
    latest = (
        select(func.max(col(Message.id)))
        .where(col(Message.thread_id).in_(thread_ids))
        .group_by(col(Message.thread_id))
    )
    rows = session.exec(select(Message).where(col(Message.id).in_(latest))).all()
    return {m.thread_id: m for m in rows}


def list_threads(*, session: Session, viewer: Member | None) -> list[ThreadView]:
    """The viewer's conversations, the most recent message first."""
    viewer = member_service.require_member(viewer)
    threads = session.exec(
        select(MessageThread)
        .where(col(MessageThread.id).in_(_my_threads(viewer.id)))
        .order_by(
            col(MessageThread.last_message_at).desc().nulls_last(), col(MessageThread.id).desc()
        )
        .limit(200)
    ).all()
    return _views(session, viewer, threads)


def get_thread(*, session: Session, viewer: Member | None, thread_id: int) -> ThreadView:
    """One conversation, for its current readers only (anyone else: NotFound)."""
    viewer = member_service.require_member(viewer)
    thread, _ = _readable(session, viewer, thread_id)
    return _views(session, viewer, [thread])[0]


def messages_page(
    *,
    session: Session,
    viewer: Member | None,
    thread_id: int,
    after_id: int | None = None,
    limit: int = 50,
    latest: bool = False,
) -> tuple[list[Message], bool]:
    """Messages of a thread, oldest first, after ``after_id``; ``latest``: the last ``limit``
    instead. Returns the page and whether more follow (or, for ``latest``, precede)."""
    viewer = member_service.require_member(viewer)
    _readable(session, viewer, thread_id)
    limit = max(min(limit, MAX_PAGE), 1)
    statement = select(Message).where(Message.thread_id == thread_id)
    if latest:
        rows = list(session.exec(statement.order_by(col(Message.id).desc()).limit(limit + 1)).all())
        return list(reversed(rows[:limit])), len(rows) > limit
    if after_id is not None:
        statement = statement.where(col(Message.id) > after_id)
    rows = list(session.exec(statement.order_by(col(Message.id)).limit(limit + 1)).all())
    return rows[:limit], len(rows) > limit


def shown_body(message: Message) -> str:
    """What readers see of a message: its text, or why it is gone."""
    if message.status == "erased":
        return ERASED_TEXT
    if message.status == "hidden":
        return HIDDEN_TEXT
    return message.body


def _unread(columns: Any, member_id: int) -> Any:
    """``columns`` over the messages ``member_id`` has not read: others' (or a former
    member's), newer than the member's last read message in their thread."""
    return (
        select(*columns)
        .select_from(Message)
        .outerjoin(
            MessageReadState,
            and_(
                col(MessageReadState.thread_id) == col(Message.thread_id),
                col(MessageReadState.member_id) == member_id,
            ),
        )
        .where(or_(col(Message.author_id).is_(None), col(Message.author_id) != member_id))
        .where(col(Message.id) > func.coalesce(col(MessageReadState.last_read_message_id), 0))
    )


def unread_counts(*, session: Session, member_id: int, thread_ids: Sequence[int]) -> dict[int, int]:
    """Unread messages (others', after the member's last read) per thread, in one query."""
    if not thread_ids:
        return {}
    rows = session.exec(
        _unread((col(Message.thread_id), func.count()), member_id)
        .where(col(Message.thread_id).in_(list(thread_ids)))
        .group_by(col(Message.thread_id))
    ).all()
    return {thread_id: count for thread_id, count in rows}


def unread_total(*, session: Session, member_id: int) -> int:
    """Unread messages across every thread the member reads now (the header's count)."""
    return session.exec(
        _unread((func.count(),), member_id).where(
            col(Message.thread_id).in_(_my_threads(member_id))
        )
    ).one()


def _state(session: Session, thread_id: int, member_id: int) -> MessageReadState:
    found = session.get(MessageReadState, (thread_id, member_id))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            state = MessageReadState(thread_id=thread_id, member_id=member_id)
            session.add(state)
            session.flush()
    except IntegrityError:
        found = session.get(MessageReadState, (thread_id, member_id))
        if found is None:
            raise
        return found
    return state


def mark_read(*, session: Session, member: Member | None, thread_id: int) -> int:
    """Mark the thread read up to its newest message; the next message may notify again.
    Returns how many messages were unread."""
    member = member_service.require_member(member)
    thread, _ = _readable(session, member, thread_id)
    unread = unread_counts(session=session, member_id=member.id, thread_ids=[thread.id])
    newest = session.exec(
        select(func.max(col(Message.id))).where(Message.thread_id == thread.id)
    ).one()
    state = _state(session, thread.id, member.id)
    state.last_read_message_id = max(state.last_read_message_id, newest or 0)
    state.notified_at = None
    session.add(state)
    # The in-app notice about this conversation is read too.
    session.exec(
        update(Notification)
        .where(col(Notification.member_id) == member.id)
        .where(col(Notification.kind) == "message")
        .where(col(Notification.link) == link_to(thread.id))
        .where(col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    session.flush()
    return unread.get(thread.id, 0)


# Sending --------------------------------------------------------------------------------------


def _body_problem(body: str) -> str | None:
    if not body.strip():
        return "Write a message before sending it."
    return text.text_problem(body, label="message", maximum=MAX_MESSAGE)


def send(
    *,
    session: Session,
    author: Member | None,
    body: str,
    thread_id: int | None = None,
    mentorship_id: int | None = None,
    circle_id: int | None = None,
    group_id: int | None = None,
    reply_to_id: int | None = None,
) -> Message:
    """Post a message in a thread (given by id, or by its mentorship, circle or group).

    Only current participants post, and only while the mentorship, circle or group is active.
    The others are told once per thread until they read it (by email as they chose).
    """
    author = member_service.require_member(author)
    owners = [v for v in (thread_id, mentorship_id, circle_id, group_id) if v is not None]
    if len(owners) != 1:
        raise Invalid(
            "Give one of a conversation, a mentorship, a circle or a mentoring group.",
            field="thread_id",
        )
    body = (body or "").replace("\r\n", "\n")
    problem = _body_problem(body)
    if problem:
        raise Invalid(problem, field="body")
    body = body.strip()
    if mentorship_id is not None:
        thread = thread_for_mentorship(session=session, member=author, mentorship_id=mentorship_id)
    elif circle_id is not None:
        thread = thread_for_circle(session=session, member=author, circle_id=circle_id)
    elif group_id is not None:
        thread = thread_for_group(session=session, member=author, group_id=group_id)
    else:
        assert thread_id is not None
        thread, _ = _readable(session, author, thread_id)
    participation = _participants(session, thread)
    if author.id not in participation.member_ids:
        raise NotFound("No conversation with that id.", field="thread_id")
    if not participation.can_post:
        raise Conflict(participation.read_only_reason, field="body")
    if reply_to_id is not None:
        parent = session.get(Message, reply_to_id) if _valid_id(reply_to_id) else None
        if parent is None or parent.thread_id != thread.id:
            raise NotFound("No message with that id in this conversation.", field="reply_to_id")
    # A double click or a retried request sends one message, not two.
    duplicate = session.exec(
        select(Message)
        .where(Message.thread_id == thread.id)
        .where(Message.author_id == author.id)
        .where(Message.body == body)
        .where(Message.created_at > utcnow() - DUPLICATE_WINDOW)
    ).first()
    if duplicate is not None:
        return duplicate
    rate_limits.check_hourly(
        session=session,
        created_at=Message.created_at,
        author=Message.author_id,
        author_id=author.id,
        limit=get_settings().messages_per_hour,
        what="messages",
    )
    message = Message(thread_id=thread.id, author_id=author.id, body=body, reply_to_id=reply_to_id)
    session.add(message)
    thread.last_message_at = message.created_at
    session.add(thread)
    session.flush()
    # The author has read their own thread up to here.
    own = _state(session, thread.id, author.id)
    own.last_read_message_id = message.id
    own.notified_at = None
    session.add(own)
    _tell_the_others(session, thread, participation, author, message)
    session.flush()
    session.refresh(message)
    return message


def _tell_the_others(
    session: Session,
    thread: MessageThread,
    participation: Participation,
    author: Member,
    message: Message,
) -> None:
    """One notice per reader and thread until they read it; the text only if they chose."""
    others = [i for i in participation.member_ids if i != author.id]
    people = member_service.get_many(session=session, member_ids=others)
    shows = show_text_for(session=session, member_ids=others)
    where = {
        "circle": participation.circle_name,
        "group": participation.circle_name or "your mentoring group",
    }.get(participation.kind, "your mentorship")
    for member_id in others:
        recipient = people.get(member_id)
        if recipient is None or not recipient.is_active:
            continue
        state = _state(session, thread.id, member_id)
        if state.notified_at is not None:
            continue  # told already, and not read since
        if shows.get(member_id, False):
            body = f"{author.name} wrote in {where}:\n\n{message.body}\n\nRead and reply:"
        else:
            body = (
                f"{author.name} sent you a message in {where}. Message text is not shown in "
                "emails (you can change that on your messages page). Read and reply:"
            )
        notifications.notify_member(
            session=session,
            member=recipient,
            kind="message",
            title=f"{author.name} sent you a message",
            body=body,
            link=link_to(thread.id),
        )
        state.notified_at = utcnow()
        session.add(state)


# The privacy choice ---------------------------------------------------------------------------


def show_text_for(*, session: Session, member_ids: Sequence[int]) -> dict[int, bool]:
    """Whether each member chose to see message text in emails (False unless they did)."""
    if not member_ids:
        return {}
    rows = session.exec(
        select(MessagePreference).where(col(MessagePreference.member_id).in_(list(member_ids)))
    ).all()
    chosen = {r.member_id: r.show_text_in_emails for r in rows}
    return {i: chosen.get(i, False) for i in member_ids}


def preference_of(*, session: Session, member: Member | None) -> bool:
    """The member's choice: show message text in emails (default False)."""
    member = member_service.require_member(member)
    return show_text_for(session=session, member_ids=[member.id])[member.id]


def set_preference(*, session: Session, member: Member | None, show_text_in_emails: bool) -> bool:
    """Choose whether emails about new messages quote the message text."""
    member = member_service.require_member(member)
    record = session.get(MessagePreference, member.id) or MessagePreference(member_id=member.id)
    record.show_text_in_emails = bool(show_text_in_emails)
    record.updated_at = utcnow()
    session.add(record)
    session.flush()
    return record.show_text_in_emails


# Reports and moderation -----------------------------------------------------------------------


def report(
    *, session: Session, reporter: Member | None, message_id: int, reason: str
) -> MessageReport:
    """Report a message in your conversation to the organisers, with a reason."""
    reporter = member_service.require_member(reporter)
    message = session.get(Message, message_id) if _valid_id(message_id) else None
    if message is None:
        raise NotFound("No message with that id.", field="message_id")
    try:
        _readable(session, reporter, message.thread_id)
    except NotFound:
        raise NotFound("No message with that id.", field="message_id") from None
    if message.author_id == reporter.id:
        raise Invalid("You cannot report your own message.", field="message_id")
    clean = (reason or "").strip()
    problem = text.text_problem(clean, label="reason", maximum=MAX_REASON)
    if not clean:
        problem = "Say what is wrong with the message, so the organisers can act."
    if problem:
        raise Invalid(problem, field="reason")
    existing = session.exec(
        select(MessageReport)
        .where(MessageReport.reporter_id == reporter.id)
        .where(MessageReport.message_id == message.id)
        .where(MessageReport.status == "open")
    ).first()
    if existing is not None:
        return existing
    rate_limits.check_hourly(
        session=session,
        created_at=MessageReport.created_at,
        author=MessageReport.reporter_id,
        author_id=reporter.id,
        limit=get_settings().community_reports_per_hour,
        what="reports",
    )
    record = MessageReport(message_id=message.id, reporter_id=reporter.id, reason=clean)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        raise Conflict("You have already reported this message.") from None
    session.refresh(record)
    return record


@dataclass
class ReportedMessage:
    """A reported message, the message before and after it, and the open reports."""

    message: Message
    author: Member | None
    before: Message | None
    after: Message | None
    reports: list[MessageReport]
    people: dict[int, Member] = field(default_factory=dict)

    @property
    def hidden(self) -> bool:
        """Whether an organiser has hidden it."""
        return self.message.status == "hidden"


def _neighbour(session: Session, message: Message, *, later: bool) -> Message | None:
    statement = select(Message).where(Message.thread_id == message.thread_id)
    if later:
        statement = statement.where(col(Message.id) > message.id).order_by(col(Message.id))
    else:
        statement = statement.where(col(Message.id) < message.id).order_by(col(Message.id).desc())
    return session.exec(statement.limit(1)).first()


def moderation_queue(*, session: Session, organiser: Member | None) -> list[ReportedMessage]:
    """Organisers: messages with open reports, oldest report first, each with only the one
    message before and after it; a chapter organiser sees those whose author they cover."""
    _, scope = chapters.require_scope(session=session, member=organiser)
    reports = session.exec(
        select(MessageReport)
        .where(MessageReport.status == "open")
        .order_by(col(MessageReport.id))
        .limit(500)
    ).all()
    grouped: dict[int, list[MessageReport]] = {}
    for r in reports:
        grouped.setdefault(r.message_id, []).append(r)
    messages = {
        m.id: m
        for m in session.exec(select(Message).where(col(Message.id).in_(list(grouped)))).all()
    }
    items = []
    for message_id, group in grouped.items():
        message = messages.get(message_id)
        if message is None:
            continue
        before = _neighbour(session, message, later=False)
        after = _neighbour(session, message, later=True)
        ids = {m.author_id for m in (message, before, after) if m is not None and m.author_id}
        ids |= {r.reporter_id for r in group if r.reporter_id}
        people = member_service.get_many(session=session, member_ids=sorted(ids))
        author = people.get(message.author_id) if message.author_id else None
        if not scope.network and (
            author is None
            or not chapters.covers_member(session=session, scope=scope, member=author)
        ):
            continue
        items.append(ReportedMessage(message, author, before, after, group, people))
    return items


def _reported_in_scope(
    session: Session, organiser: Member | None, message_id: int
) -> tuple[Member, Message]:
    """The organiser and a message with open reports they may act on (else NotFound)."""
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    message = session.get(Message, message_id) if _valid_id(message_id) else None
    reported = (
        message is not None
        and session.exec(select(exists().where(col(MessageReport.message_id) == message.id))).one()
    )
    author = session.get(Member, message.author_id) if message and message.author_id else None
    if (
        message is None
        or not reported
        or (
            not scope.network
            and (
                author is None
                or not chapters.covers_member(session=session, scope=scope, member=author)
            )
        )
    ):
        raise NotFound("No reported message with that id.", field="message_id")
    return organiser, message


def _resolve(session: Session, organiser: Member, message_id: int) -> int:
    return session.exec(
        update(MessageReport)
        .where(col(MessageReport.message_id) == message_id)
        .where(col(MessageReport.status) == "open")
        .values(status="resolved", resolved_at=utcnow(), resolved_by_id=organiser.id)
    ).rowcount


def moderate(*, session: Session, organiser: Member | None, message_id: int, hide: bool) -> Message:
    """Organisers: hide a reported message (``hide``) or dismiss its reports; either way its
    open reports are closed and the decision is in the audit log."""
    organiser, message = _reported_in_scope(session, organiser, message_id)
    if hide and message.status == "visible":
        message.status = "hidden"
        session.add(message)
    resolved = _resolve(session, organiser, message.id)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.CONTENT_HIDDEN if hide else audit.actions.REPORTS_DISMISSED,
        subject=audit.subject("message", message.id),
        details={"reports_resolved": resolved},
    )
    session.flush()
    session.refresh(message)
    return message


# Export and erasure ---------------------------------------------------------------------------


def export_for(*, session: Session, member_id: int) -> dict[str, list[dict[str, Any]]]:
    """The member's own messages, their threads, read state, choice and reports made."""

    def dump(rows: Sequence[Any]) -> list[dict[str, Any]]:
        return [
            {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in r.model_dump().items()
            }
            for r in rows
        ]

    own = session.exec(
        select(Message).where(Message.author_id == member_id).order_by(col(Message.id))
    ).all()
    thread_ids = {m.thread_id for m in own} | set(session.exec(_my_threads(member_id)).all())
    return {
        "threads": dump(
            session.exec(
                select(MessageThread)
                .where(col(MessageThread.id).in_(sorted(thread_ids)))
                .order_by(col(MessageThread.id))
            ).all()
        ),
        "messages_sent": dump(own),
        "read_state": dump(
            session.exec(
                select(MessageReadState).where(MessageReadState.member_id == member_id)
            ).all()
        ),
        "preference": dump(
            session.exec(
                select(MessagePreference).where(MessagePreference.member_id == member_id)
            ).all()
        ),
        "reports_made": dump(
            session.exec(
                select(MessageReport)
                .where(MessageReport.reporter_id == member_id)
                .order_by(col(MessageReport.id))
            ).all()
        ),
    }


def erase_author(*, session: Session, member_id: int) -> int:
    """Before a member is erased: empty the bodies of their messages (the rows stay, so the
    other side's thread still reads in order: "Message removed: ...")."""
    return session.exec(
        update(Message)
        .where(col(Message.author_id) == member_id)
        .values(body="", status="erased", author_id=None)
    ).rowcount
