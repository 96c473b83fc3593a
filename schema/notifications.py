"""Notifications: the in-app list, marking read, and how each kind is emailed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import Invalid
from backend.members import service as member_service
from backend.notifications import service as notifications
from backend.notifications.models import Notification as NotificationModel
from schema import errors
from schema.context import Info
from schema.enums import DeliveryMode, NotificationKind, from_enum, to_enum
from schema.ids import database_id, decode
from schema.inputs import check_lists
from schema.permissions import IsAuthenticated
from schema.reference import connection, decode_offset, page_size


@strawberry.type(description="Something you should know about; `link` is a page of the site.")
class Notification(relay.Node):
    id: relay.NodeID[int]
    kind: NotificationKind
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None

    @strawberry.field(description="True once you have marked it read.")
    def read(self) -> bool:
        """Whether ``readAt`` is set."""
        return self.read_at is not None

    @classmethod
    def from_model(cls, notification: NotificationModel) -> Notification:
        """The GraphQL view of a notification."""
        return cls(
            id=notification.id,
            kind=to_enum(NotificationKind, notification.kind),
            title=notification.title,
            body=notification.body,
            link=notification.link,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Notification | None]:
        """Only the caller's own notifications can be fetched by id."""
        viewer = member_service.require_member(info.context.member)
        ids = [database_id(i) for i in node_ids]
        own = notifications.get_own(
            session=info.context.session,
            member_id=viewer.id,
            notification_ids=[i for i in ids if i is not None],
        )
        return [cls.from_model(own[i]) if i in own else None for i in ids]


@strawberry.type(description="How one kind of notification reaches you by email.")
class NotificationPreference:
    kind: NotificationKind
    mode: DeliveryMode


def preference_list(modes: dict[str, str]) -> list[NotificationPreference]:
    """The service's {kind: mode} as GraphQL objects, in the service's order."""
    return [
        NotificationPreference(
            kind=to_enum(NotificationKind, kind), mode=to_enum(DeliveryMode, mode)
        )
        for kind, mode in modes.items()
    ]


@strawberry.input(description="Leave `ids` out to mark every notification read.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Notification ids (at most 100)."
    )


@strawberry.type(description="Marked read.")
class MarkNotificationsReadSuccess:
    marked_count: int = strawberry.field(description="How many changed from unread to read.")
    unread_count: int


@strawberry.input(description="A kind and how to email it.")
class NotificationPreferenceInput:
    kind: NotificationKind
    mode: DeliveryMode


@strawberry.input(description="Kinds left out keep their current mode.")
class SetNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput]


@strawberry.type(description="Every kind with its mode, as saved.")
class SetNotificationPreferencesSuccess:
    preferences: list[NotificationPreference]


MarkNotificationsReadResult = Annotated[
    MarkNotificationsReadSuccess | errors.Problem,
    errors.result_named("MarkNotificationsReadResult", MarkNotificationsReadSuccess),
]
SetNotificationPreferencesResult = Annotated[
    SetNotificationPreferencesSuccess | errors.Problem,
    errors.result_named("SetNotificationPreferencesResult", SetNotificationPreferencesSuccess),
]


@strawberry.type
class NotificationQuery:
    """The signed-in member's notifications."""

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="Your notifications, newest first."
    )
    def notifications(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[Notification]:
        """A page of the caller's notifications."""
        viewer = member_service.require_member(info.context.member)
        limit = page_size(first, info, default=20)
        offset = decode_offset(after)
        rows, more = notifications.page(
            session=info.context.session,
            member_id=viewer.id,
            offset=offset,
            limit=limit,
        )
        return connection([Notification.from_model(n) for n in rows], offset=offset, more=more)


@strawberry.type
class NotificationMutation:
    """Mutations on the signed-in member's notifications."""

    @strawberry.mutation(description="Mark some of your notifications read, or all of them.")
    def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput | None = None
    ) -> MarkNotificationsReadResult:
        """Mark notifications read."""
        context = info.context

        def mark() -> MarkNotificationsReadSuccess:
            member = member_service.require_member(context.member)
            raw = input.ids if input is not None else None
            check_lists(ids=raw)
            ids = (
                None
                if raw is None
                else [decode(i, type_name="Notification", field="ids") for i in raw]
            )
            changed = notifications.mark_read(
                session=context.session,
                member_id=member.id,
                notification_ids=ids,
            )
            unread = notifications.unread_count(session=context.session, member_id=member.id)
            return MarkNotificationsReadSuccess(marked_count=changed, unread_count=unread)

        return errors.outcome(mark)

    @strawberry.mutation(description="Choose, per kind, to be emailed at once, weekly, or never.")
    def set_notification_preferences(
        self, info: Info, input: SetNotificationPreferencesInput
    ) -> SetNotificationPreferencesResult:
        """Save email preferences."""
        context = info.context

        def save() -> SetNotificationPreferencesSuccess:
            member = member_service.require_member(context.member)
            check_lists(preferences=input.preferences)
            modes = {from_enum(p.kind): from_enum(p.mode) for p in input.preferences}
            if len(modes) != len(input.preferences):
                raise Invalid("Give each kind once.", field="preferences")
            saved = notifications.set_preferences(
                session=context.session,
                member_id=member.id,
                modes=modes,
            )
            return SetNotificationPreferencesSuccess(preferences=preference_list(saved))

        return errors.outcome(save)
