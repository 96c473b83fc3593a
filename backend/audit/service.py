"""The audit log: record an action in the caller's unit of work; admins read and export it;
members see who viewed or exported data about them.

``record`` adds one ``AuditEvent`` and flushes with the action it describes, so a rolled-back
action leaves no event and a committed one always has its event. A read-only unit of work (a
page fetched with GET: a download, a profile viewed) writes its event apart, committed at once
(``backend.db.write_apart``): the event of a download stands even if sending it then fails.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from backend import db, london
from backend.audit import actions as a
from backend.audit.models import AuditEvent
from backend.errors import Forbidden, Invalid, NotAuthenticated
from backend.members.models import Member, MemberRole
from backend.rounds.models import MatchProposal
from backend.settings import get_settings
from members_csv.formulas import safe_writer

# Details hold counts, ids, flags and short codes (a mode, a table key): never free text.
_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
MAX_DETAIL_IDS = 100
PAGE_SIZE = 50
MAX_PAGE = 100
EXPORT_LIMIT = 100_000

Detail = int | bool | str | None | list[int]


@dataclass(frozen=True)
class Subject:
    """What an event is about: a kind from ``actions.SUBJECT_TYPES`` and its id."""

    type: str
    id: int | None


def subject(kind: str, subject_id: int | None) -> Subject:
    """A ``Subject`` (shorthand for callers)."""
    return Subject(kind, subject_id)


def client_key(*, user_agent: str | None, address: str | None) -> str | None:
    """A keyed hash of the browser and address behind a request (None when neither is known).

    HMAC with the secret key, so the address cannot be recovered by hashing every IPv4
    address; the same browser at the same address always gives the same key.
    """
    if not user_agent and not address:
        return None
    secret = get_settings().secret_key.encode()
    message = f"{user_agent or ''}\n{address or ''}".encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def _checked_details(details: dict[str, Detail] | None) -> str:
    clean: dict[str, Detail] = {}
    for key, value in (details or {}).items():
        if not _KEY.fullmatch(key):
            raise ValueError(f"audit detail key {key!r} is not a plain name")
        if isinstance(value, list):
            if len(value) > MAX_DETAIL_IDS or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise ValueError(f"audit detail {key!r} must be at most 100 ids")
        elif isinstance(value, str) and not _CODE.fullmatch(value):
            raise ValueError(f"audit detail {key!r} must be a short code, never free text")
        elif value is not None and not isinstance(value, int | str):
            raise ValueError(f"audit detail {key!r} must be a count, id, flag or code")
        clean[key] = value
    return json.dumps(clean, sort_keys=True, separators=(",", ":"))


def _actor_id(actor: Member | int | None) -> int | None:
    return actor.id if isinstance(actor, Member) else actor


def _read_only(session: Session) -> bool:
    return bool(session.connection().get_execution_options().get("read_only", False))


def record(
    session: Session,
    *,
    actor: Member | int | None,
    action: str,
    subject: Subject | None = None,
    details: dict[str, Detail] | None = None,
    client: str | None = None,
) -> AuditEvent:
    """Write one event for ``action`` by ``actor`` (None: the system) in ``session``'s unit of
    work, flushed. ``action`` must be one of ``backend.audit.actions.ACTIONS``; ``details``
    holds counts, ids, flags and short codes only (anything else raises ``ValueError``, a
    programming error)."""
    if action not in a.LABELS:
        raise ValueError(f"{action!r} is not an audit action")
    if subject is not None and subject.type not in a.SUBJECT_TYPES:
        raise ValueError(f"{subject.type!r} is not an audit subject type")
    actor_id, text = _actor_id(actor), _checked_details(details)

    def write(target: Session) -> AuditEvent:
        event = AuditEvent(
            at=db.utcnow(),
            actor_id=actor_id,
            action=action,
            subject_type=subject.type if subject else None,
            subject_id=subject.id if subject else None,
            details=text,
            client=client,
        )
        target.add(event)
        target.flush()
        return event

    if _read_only(session):
        return db.write_apart(session, write)
    return write(session)


def _last_erasure(member_id: int | None):
    """The id of the last erasure of ``member_id`` (0: never). On SQLite a new member may get
    an erased member's id: events up to the erasure are not theirs."""
    return (
        select(func.coalesce(func.max(AuditEvent.id), 0))
        .where(AuditEvent.action == a.MEMBER_ERASED)
        .where(AuditEvent.subject_type == "member")
        .where(AuditEvent.subject_id == member_id)
        .scalar_subquery()
    )


def record_sign_in(
    session: Session,
    *,
    member: Member,
    user_agent: str | None,
    address: str | None,
    method: str = "password",
) -> AuditEvent | None:
    """Record a sign-in when it comes from a browser and address this member has not signed in
    from before (``signin.new_device``); None for a known device. ``method``: "password",
    "sso", "passkey"... (a short code)."""
    key = client_key(user_agent=user_agent, address=address)
    if key is not None:
        known = session.exec(
            select(AuditEvent.id)
            .where(AuditEvent.actor_id == member.id)
            .where(AuditEvent.action == a.SIGNIN_NEW_DEVICE)
            .where(AuditEvent.client == key)
            .where(col(AuditEvent.id) > _last_erasure(member.id))
            .limit(1)
        ).first()
        if known is not None:
            return None
    return record(
        session,
        actor=member,
        action=a.SIGNIN_NEW_DEVICE,
        subject=Subject("member", member.id),
        details={"method": method},
        client=key,
    )


# Reading ------------------------------------------------------------------------------------


def require_admin(*, session: Session, member: Member | None) -> Member:
    """The member, if an admin; otherwise Forbidden (organisers included)."""
    member = _signed_in(member)
    admin = session.get(MemberRole, (member.id, "admin"))
    if admin is None:
        raise Forbidden("Only admins can read the audit log.")
    return member


def _signed_in(member: Member | None) -> Member:
    # members.service.require_member, which imports this module (role changes are audited).
    if member is None:
        raise NotAuthenticated("Log in to do this.")
    return member


@dataclass(frozen=True)
class EventFilter:
    """Which events to list: by action, by actor (member id), from and to a day (inclusive)."""

    action: str | None = None
    actor_id: int | None = None
    since: date | None = None
    until: date | None = None


def parse_filter(
    *, action: str = "", actor: str = "", since: str = "", until: str = ""
) -> EventFilter:
    """An ``EventFilter`` from what a form or query string holds; a bad value raises Invalid
    naming its field."""
    action = action.strip()
    if action and action not in a.LABELS:
        raise Invalid("Choose an action from the list.", field="action")
    actor = actor.strip()
    if actor and not (actor.isascii() and actor.isdigit() and len(actor) <= 9):
        raise Invalid("Enter the member's id as a whole number.", field="actor")

    def day(text: str, name: str) -> date | None:
        text = text.strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise Invalid("Enter a date like 2026-12-01.", field=name) from None

    start, end = day(since, "since"), day(until, "until")
    if start and end and end < start:
        raise Invalid("The end date must be on or after the start date.", field="until")
    return EventFilter(
        action=action or None, actor_id=int(actor) if actor else None, since=start, until=end
    )


def _filtered(statement, wanted: EventFilter):
    if wanted.action:
        statement = statement.where(AuditEvent.action == wanted.action)
    if wanted.actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == wanted.actor_id)
    # The days are London days: "since 1 July" starts at midnight BST, 23:00 UTC on 30 June.
    if wanted.since:
        statement = statement.where(
            col(AuditEvent.at) >= london.london_to_utc(wanted.since, time.min)
        )
    if wanted.until:
        end = london.london_to_utc(wanted.until + timedelta(days=1), time.min)
        statement = statement.where(col(AuditEvent.at) < end)
    return statement


@dataclass(frozen=True)
class EventView:
    """An event as an admin reads it: the actor's name looked up now (never stored)."""

    event: AuditEvent
    actor_name: str
    label: str
    details: dict[str, Detail]


def _names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.exec(select(Member.id, Member.name).where(col(Member.id).in_(wanted))).all()
    return {member_id: name for member_id, name in rows}


def _erasures(session: Session, ids: Sequence[int | None]) -> dict[int, int]:
    """For each of ``ids`` erased, the id of its latest erasure event."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.exec(
        select(AuditEvent.subject_id, func.max(AuditEvent.id))
        .where(AuditEvent.action == a.MEMBER_ERASED)
        .where(AuditEvent.subject_type == "member")
        .where(col(AuditEvent.subject_id).in_(wanted))
        .group_by(col(AuditEvent.subject_id))
    ).all()
    return {member_id: last for member_id, last in rows if member_id is not None}


def actor_label(event: AuditEvent, names: dict[int, str], erased: dict[int, int]) -> str:
    """Who acted: their name, "Former member 12" once erased (also when SQLite gave the id to
    someone new since), "The system" for none."""
    actor_id = event.actor_id
    if actor_id is None:
        return "The system"
    if actor_id in erased and event.id <= erased[actor_id]:
        return f"Former member {actor_id}"
    return names.get(actor_id, f"Former member {actor_id}")


def _views(session: Session, events: Sequence[AuditEvent]) -> list[EventView]:
    actors = [e.actor_id for e in events]
    names, erased = _names(session, actors), _erasures(session, actors)
    return [
        EventView(
            event=e,
            actor_name=actor_label(e, names, erased),
            label=a.LABELS.get(e.action, e.action),
            details=json.loads(e.details or "{}"),
        )
        for e in events
    ]


def events(
    *,
    session: Session,
    viewer: Member | None,
    wanted: EventFilter | None = None,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[EventView], bool]:
    """A page of events, newest first (admins only), continuing below ``before_id``; and
    whether there are more."""
    require_admin(session=session, member=viewer)
    limit = max(1, min(limit, MAX_PAGE))
    statement = _filtered(select(AuditEvent), wanted or EventFilter())
    if before_id is not None:
        statement = statement.where(col(AuditEvent.id) < before_id)
    rows = session.exec(statement.order_by(col(AuditEvent.id).desc()).limit(limit + 1)).all()
    return _views(session, rows[:limit]), len(rows) > limit


def get_many(
    *, session: Session, viewer: Member | None, event_ids: Sequence[int]
) -> dict[int, EventView]:
    """Events by id (admins only), for fetching by global id."""
    require_admin(session=session, member=viewer)
    if not event_ids:
        return {}
    rows = session.exec(select(AuditEvent).where(col(AuditEvent.id).in_(list(event_ids)))).all()
    return {view.event.id: view for view in _views(session, rows)}


CSV_HEADER = (
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "details",
    "client",
)


def export_csv(
    *, session: Session, viewer: Member | None, wanted: EventFilter | None = None
) -> str:
    """Every event the filter selects (newest first, at most 100,000) as CSV, formula cells
    neutralised; the export is itself an event."""
    admin = require_admin(session=session, member=viewer)
    wanted = wanted or EventFilter()
    statement = _filtered(select(AuditEvent), wanted)
    rows = session.exec(statement.order_by(col(AuditEvent.id).desc()).limit(EXPORT_LIMIT)).all()
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(CSV_HEADER)
    for view in _views(session, rows):
        e = view.event
        writer.writerow(
            [
                e.id,
                london.as_utc(e.at).isoformat(),
                e.actor_id,
                view.actor_name,
                e.action,
                e.subject_type,
                e.subject_id,
                e.details,
                e.client,
            ]
        )
    record(
        session,
        actor=admin,
        action=a.AUDIT_EXPORTED,
        subject=Subject("audit", None),
        details={"rows": len(rows), "action": wanted.action, "actor": wanted.actor_id},
    )
    return out.getvalue()


# What members see about themselves ----------------------------------------------------------


@dataclass(frozen=True)
class SeenByEvent:
    """One time someone viewed or exported data about a member."""

    at: datetime
    who: str
    what: str
    action: str


def seen_by(
    *, session: Session, member: Member | None, limit: int = PAGE_SIZE
) -> list[SeenByEvent]:
    """Who viewed the member's profile (organisers and admins), downloaded a list of proposed
    matches that includes them, or downloaded their data: newest first, only ever about them."""
    member = _signed_in(member)
    my_rounds = select(MatchProposal.round_id).where(
        or_(col(MatchProposal.mentee_id) == member.id, col(MatchProposal.mentor_id) == member.id)
    )
    about_me = or_(
        and_(
            col(AuditEvent.subject_type) == "member",
            col(AuditEvent.subject_id) == member.id,
            col(AuditEvent.action).in_([a.MEMBER_VIEWED, a.MEMBER_DATA_EXPORTED]),
        ),
        and_(
            col(AuditEvent.action) == a.ROUND_EXPORTED,
            col(AuditEvent.subject_type) == "round",
            col(AuditEvent.subject_id).in_(my_rounds),
        ),
    )
    rows = session.exec(
        select(AuditEvent)
        .where(about_me)
        .where(col(AuditEvent.id) > _last_erasure(member.id))
        .order_by(col(AuditEvent.id).desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    ).all()
    actors = [e.actor_id for e in rows]
    names, erased = _names(session, actors), _erasures(session, actors)
    return [
        SeenByEvent(
            at=e.at,
            who="You" if e.actor_id == member.id else actor_label(e, names, erased),
            what=a.ABOUT_YOU[e.action],
            action=e.action,
        )
        for e in rows
    ]
