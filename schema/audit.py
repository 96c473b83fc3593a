"""The audit log for admins (``auditEvents``), and what members see about themselves
(``dataSeenBy``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from backend.audit import service as audit
from backend.errors import Invalid
from schema.context import Info
from schema.ids import database_id, decode
from schema.permissions import IsAuthenticated
from schema.reference import page_size

CURSOR = "audit"


@strawberry.type(description="One audited action: who (a member; null: the system), what, when.")
class AuditEvent(relay.Node):
    id: relay.NodeID[int]
    at: datetime
    action: str = strawberry.field(description="A dotted action name, such as round.published.")
    label: str = strawberry.field(description="The action in plain English.")
    actor_id: strawberry.ID | None = strawberry.field(
        description="The Member global id of who acted; null for the system or the command line."
    )
    actor_name: str = strawberry.field(
        description="Looked up now: the member's name, or Former member N once erased."
    )
    subject_type: str | None
    subject_id: int | None = strawberry.field(description="The database id of the subject.")
    details: JSON = strawberry.field(description="Counts, ids and codes; never free text.")
    client: str | None = strawberry.field(
        description="A keyed hash of the browser and address; equal hashes, same client."
    )

    @classmethod
    def from_view(cls, view: audit.EventView) -> AuditEvent:
        """The GraphQL view of an event."""
        e = view.event
        return cls(
            id=e.id,
            at=e.at,
            action=e.action,
            label=view.label,
            actor_id=strawberry.ID(relay.to_base64("Member", e.actor_id))
            if e.actor_id is not None
            else None,
            actor_name=view.actor_name,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            details=JSON(view.details),
            client=e.client,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditEvent | None]:
        """Events by id: admins only."""
        ids = [database_id(raw) for raw in node_ids]
        found = audit.get_many(
            session=info.context.session,
            viewer=info.context.member,
            event_ids=[i for i in ids if i is not None],
        )
        return [cls.from_view(found[i]) if i in found else None for i in ids]


@strawberry.input(description="Which events to list; leave a field out to not filter by it.")
class AuditEventFilter:
    action: str | None = strawberry.field(default=None, description="A dotted action name.")
    actor_id: strawberry.ID | None = strawberry.field(
        default=None, description="The Member global id of who acted."
    )
    since: date | None = strawberry.field(default=None, description="From this day (UTC).")
    until: date | None = strawberry.field(default=None, description="To this day, inclusive.")


@strawberry.type(description="A time someone viewed or downloaded data about you.")
class DataSeenBy:
    at: datetime
    who: str = strawberry.field(description="Their name; You when it was you.")
    what: str = strawberry.field(description="What they did, such as viewed your profile.")
    action: str = strawberry.field(description="The audit action name.")


def _after(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        kind, value = relay.from_base64(after)
        event_id = database_id(value)
        if kind != CURSOR or event_id is None:
            raise ValueError(after)
    except (ValueError, TypeError) as error:
        raise Invalid("That cursor is not one this API gave out.", field="after") from error
    return event_id


def _filter(wanted: AuditEventFilter | None) -> audit.EventFilter:
    if wanted is None:
        return audit.EventFilter()
    actor = ""
    if wanted.actor_id is not None:
        actor = str(decode(str(wanted.actor_id), type_name="Member", field="actor_id"))
    return audit.parse_filter(
        action=wanted.action or "",
        actor=actor,
        since=wanted.since.isoformat() if wanted.since else "",
        until=wanted.until.isoformat() if wanted.until else "",
    )


@strawberry.type
class AuditQuery:
    """The audit log (admins) and the member's own "who has seen my data"."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Admins: the audit log, newest first, filtered by action, actor and dates.",
    )
    def audit_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> relay.Connection[AuditEvent]:
        """A page of events (keyset: each cursor is an event id)."""
        audit.require_admin(session=info.context.session, member=info.context.member)
        limit = page_size(first, info, default=audit.PAGE_SIZE)
        before = _after(after)
        views, more = audit.events(
            session=info.context.session,
            viewer=info.context.member,
            wanted=_filter(filter),
            before_id=before,
            limit=limit,
        )
        edges = [
            relay.Edge(node=AuditEvent.from_view(v), cursor=relay.to_base64(CURSOR, v.event.id))
            for v in views
        ]
        return relay.Connection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=more,
                has_previous_page=before is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Who viewed your profile or downloaded data about you: the latest 50.",
    )
    def data_seen_by(self, info: Info) -> list[DataSeenBy]:
        """The signed-in member's own list."""
        return [
            DataSeenBy(at=s.at, who=s.who, what=s.what, action=s.action)
            for s in audit.seen_by(session=info.context.session, member=info.context.member)
        ]
