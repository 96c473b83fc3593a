"""Messages in GraphQL: threads, a thread's messages (a connection), sending, read state,
reports, the email privacy choice, and (organisers) reported messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import Invalid, NotFound
from backend.members import service as member_service
from backend.messaging import service as messaging
from backend.messaging.models import Message as MessageModel
from schema import errors
from schema.context import Info
from schema.ids import database_id, decode
from schema.inputs import check_text
from schema.members import Member
from schema.permissions import IsAuthenticated
from schema.reference import page_size


@strawberry.enum(description="What a conversation belongs to.")
class MessageThreadKind(Enum):
    MENTORSHIP = strawberry.enum_value(
        "mentorship", description="A mentor and mentee's conversation."
    )
    CIRCLE = strawberry.enum_value("circle", description="A peer circle's conversation.")
    GROUP = strawberry.enum_value("group", description="A group mentoring conversation.")


@strawberry.type(description="One message: plain text with line breaks (escape it to show).")
class Message(relay.Node):
    id: relay.NodeID[int]
    body: str = strawberry.field(
        description="The text; or, when removed or hidden, a sentence saying why."
    )
    created_at: datetime
    removed: bool = strawberry.field(description="The author erased their account.")
    hidden: bool = strawberry.field(description="Hidden by an organiser after a report.")
    reply_to_id: strawberry.ID | None = strawberry.field(
        description="The message this one answers, if any."
    )
    author_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, message: MessageModel) -> Message:
        """The GraphQL view of a message."""
        return cls(
            id=message.id,
            body=messaging.shown_body(message),
            created_at=message.created_at,
            removed=message.status == "erased",
            hidden=message.status == "hidden",
            reply_to_id=(
                strawberry.ID(relay.to_base64("Message", message.reply_to_id))
                if message.reply_to_id
                else None
            ),
            author_id=message.author_id,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Message | None]:
        """Messages by id: only for the current readers of their conversation."""
        viewer = member_service.require_member(info.context.member)
        session = info.context.session
        found: list[Message | None] = []
        for raw in node_ids:
            message = session.get(MessageModel, database_id(raw) or 0)
            if message is not None:
                try:
                    messaging.get_thread(
                        session=session, viewer=viewer, thread_id=message.thread_id
                    )
                except NotFound:
                    message = None
            found.append(cls.from_model(message) if message is not None else None)
        return found

    @strawberry.field(description="Who wrote it (null once they have left the network).")
    async def author(self, info: Info) -> Member | None:
        """Through the members loader."""
        if self.author_id is None:
            return None
        found = await info.context.loaders.members.load(self.author_id)
        return Member.from_model(found) if found is not None else None


def _cursor(message_id: int) -> str:
    return relay.to_base64("message", message_id)


def _after(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        kind, value = relay.from_base64(after)
        message_id = database_id(value)
        if kind != "message" or message_id is None:
            raise ValueError(after)
    except (ValueError, TypeError) as error:
        raise Invalid("That cursor is not one this API gave out.", field="after") from error
    return message_id


@strawberry.type(
    description="A conversation of a mentorship, a peer circle or a mentoring group, newest last."
)
class MessageThread(relay.Node):
    id: relay.NodeID[int]
    title: str
    kind: MessageThreadKind
    can_post: bool = strawberry.field(description="Whether you may send messages here now.")
    read_only_reason: str = strawberry.field(description="Why not, when you may not.")
    unread_count: int = strawberry.field(description="Messages you have not read yet.")
    last_message_at: datetime | None
    mentorship_id: strawberry.ID | None
    circle_id: strawberry.ID | None
    group_id: strawberry.ID | None = strawberry.field(
        description="The MentoringGroup's global id, for a mentoring group's conversation."
    )
    view: strawberry.Private[messaging.ThreadView]

    @classmethod
    def from_view(cls, view: messaging.ThreadView) -> MessageThread:
        """The GraphQL view of a thread as its reader sees it."""
        thread = view.thread
        return cls(
            id=thread.id,
            title=view.title,
            kind=MessageThreadKind(view.kind),
            can_post=view.can_post,
            read_only_reason=view.read_only_reason,
            unread_count=view.unread,
            last_message_at=thread.last_message_at,
            mentorship_id=strawberry.ID(relay.to_base64("Mentorship", thread.mentorship_id))
            if thread.mentorship_id
            else None,
            circle_id=strawberry.ID(relay.to_base64("Circle", thread.circle_id))
            if thread.circle_id
            else None,
            group_id=strawberry.ID(relay.to_base64("MentoringGroup", thread.mentoring_group_id))
            if thread.mentoring_group_id
            else None,
            view=view,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MessageThread | None]:
        """Threads by id: only for their current readers."""
        found: list[MessageThread | None] = []
        for raw in node_ids:
            try:
                view = messaging.get_thread(
                    session=info.context.session,
                    viewer=info.context.member,
                    thread_id=database_id(raw) or 0,
                )
            except NotFound:
                found.append(None)
            else:
                found.append(cls.from_view(view))
        return found

    @strawberry.field(description="Who is in the conversation now.")
    def participants(self) -> list[Member]:
        """The readers, loaded with the thread."""
        return [Member.from_model(m) for m in self.view.participants]

    @strawberry.field(description="The messages, oldest first (newest last).")
    def messages(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[Message]:
        """A page of the conversation."""
        start = _after(after)
        rows, more = messaging.messages_page(
            session=info.context.session,
            viewer=info.context.member,
            thread_id=self.id,
            after_id=start,
            limit=page_size(first, info, default=50),
        )
        edges = [relay.Edge(node=Message.from_model(m), cursor=_cursor(m.id)) for m in rows]
        return relay.Connection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=more,
                has_previous_page=start is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


@strawberry.type(description="A reported message, with only the message before and after it.")
class ReportedMessage:
    message: Message
    before: Message | None
    after: Message | None
    reasons: list[str]
    hidden: bool


@strawberry.type
class MessagingQuery:
    """Your conversations; organisers: reported messages."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your conversations, the most recent first, each with its unread count.",
    )
    def message_threads(self, info: Info) -> list[MessageThread]:
        """Every thread you read now (counts and people in a fixed number of queries)."""
        views = messaging.list_threads(session=info.context.session, viewer=info.context.member)
        return [MessageThread.from_view(v) for v in views]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One conversation by global id; null when there is none you may read.",
    )
    def message_thread(self, info: Info, id: strawberry.ID) -> MessageThread | None:
        """A thread."""
        try:
            view = messaging.get_thread(
                session=info.context.session,
                viewer=info.context.member,
                thread_id=decode(id, type_name="MessageThread"),
            )
        except NotFound:
            return None
        return MessageThread.from_view(view)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers only: reported messages in your scope. Organisers never read "
        "a message nobody reported.",
    )
    def reported_messages(self, info: Info) -> list[ReportedMessage]:
        """Open reports grouped by message."""
        items = messaging.moderation_queue(
            session=info.context.session, organiser=info.context.member
        )
        return [
            ReportedMessage(
                message=Message.from_model(i.message),
                before=Message.from_model(i.before) if i.before else None,
                after=Message.from_model(i.after) if i.after else None,
                reasons=[r.reason for r in i.reports],
                hidden=i.hidden,
            )
            for i in items
        ]


@strawberry.input(description="A message: give one of threadId, mentorshipId, circleId or groupId.")
class SendMessageInput:
    body: str
    thread_id: strawberry.ID | None = None
    mentorship_id: strawberry.ID | None = None
    circle_id: strawberry.ID | None = None
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description="A mentoring group's global id (MentoringGroup)."
    )
    reply_to_id: strawberry.ID | None = None


@strawberry.input
class MarkThreadReadInput:
    thread_id: strawberry.ID


@strawberry.input(description="Report a message in your conversation, with a reason.")
class ReportMessageInput:
    message_id: strawberry.ID
    reason: str


@strawberry.input(description="Whether emails about new messages may quote the text.")
class SetMessagePreferencesInput:
    show_text_in_emails: bool


@strawberry.enum(description="What an organiser does with a reported message.")
class MessageModeration(Enum):
    HIDE = strawberry.enum_value("hide", description="Hide the message from the conversation.")
    DISMISS = strawberry.enum_value(
        "dismiss", description="Close the reports and leave the message as it is."
    )


@strawberry.input
class ModerateMessageInput:
    message_id: strawberry.ID
    action: MessageModeration


@strawberry.type(description="The message, as sent.")
class SendMessageSuccess:
    sent_message: Message = strawberry.field(description="The message, as sent.")
    thread: MessageThread


@strawberry.type(description="The thread is read up to its newest message.")
class MarkThreadReadSuccess:
    thread: MessageThread
    marked_read: int = strawberry.field(description="How many messages were unread.")


@strawberry.type(description="Your report reached the organisers.")
class ReportMessageSuccess:
    reported: bool


@strawberry.type(description="Your choice, as saved.")
class SetMessagePreferencesSuccess:
    show_text_in_emails: bool


@strawberry.type(description="What the organiser decided.")
class ModerateMessageSuccess:
    hidden: bool


SendMessageResult = Annotated[
    SendMessageSuccess | errors.Problem,
    errors.result_named("SendMessageResult", SendMessageSuccess),
]
MarkThreadReadResult = Annotated[
    MarkThreadReadSuccess | errors.Problem,
    errors.result_named("MarkThreadReadResult", MarkThreadReadSuccess),
]
ReportMessageResult = Annotated[
    ReportMessageSuccess | errors.Problem,
    errors.result_named("ReportMessageResult", ReportMessageSuccess),
]
SetMessagePreferencesResult = Annotated[
    SetMessagePreferencesSuccess | errors.Problem,
    errors.result_named("SetMessagePreferencesResult", SetMessagePreferencesSuccess),
]
ModerateMessageResult = Annotated[
    ModerateMessageSuccess | errors.Problem,
    errors.result_named("ModerateMessageResult", ModerateMessageSuccess),
]


def _id(value: strawberry.ID | None, type_name: str, field: str) -> int | None:
    return decode(value, type_name=type_name, field=field) if value is not None else None


def _thread(info: Info, thread_id: int) -> MessageThread:
    return MessageThread.from_view(
        messaging.get_thread(
            session=info.context.session, viewer=info.context.member, thread_id=thread_id
        )
    )


@strawberry.type
class MessagingMutation:
    """Sending, reading, reporting and the email privacy choice."""

    @strawberry.mutation(description="Send a message (current participants only).")
    def send_message(self, info: Info, input: SendMessageInput) -> SendMessageResult:
        """Send."""
        context = info.context

        def send() -> SendMessageSuccess:
            check_text(body=input.body)
            message = messaging.send(
                session=context.session,
                author=context.member,
                body=input.body,
                thread_id=_id(input.thread_id, "MessageThread", "threadId"),
                mentorship_id=_id(input.mentorship_id, "Mentorship", "mentorshipId"),
                circle_id=_id(input.circle_id, "Circle", "circleId"),
                group_id=_id(input.group_id, "MentoringGroup", "groupId"),
                reply_to_id=_id(input.reply_to_id, "Message", "replyToId"),
            )
            context.reset_loaders()
            return SendMessageSuccess(
                sent_message=Message.from_model(message), thread=_thread(info, message.thread_id)
            )

        return errors.outcome(send)

    @strawberry.mutation(description="Mark a conversation read up to its newest message.")
    def mark_thread_read(self, info: Info, input: MarkThreadReadInput) -> MarkThreadReadResult:
        """Mark read."""
        context = info.context

        def mark() -> MarkThreadReadSuccess:
            thread_id = decode(input.thread_id, type_name="MessageThread", field="threadId")
            count = messaging.mark_read(
                session=context.session, member=context.member, thread_id=thread_id
            )
            return MarkThreadReadSuccess(thread=_thread(info, thread_id), marked_read=count)

        return errors.outcome(mark)

    @strawberry.mutation(
        description="Report a message to the organisers: only then may an organiser read it."
    )
    def report_message(self, info: Info, input: ReportMessageInput) -> ReportMessageResult:
        """File a report."""
        context = info.context

        def file() -> ReportMessageSuccess:
            check_text(reason=input.reason)
            messaging.report(
                session=context.session,
                reporter=context.member,
                message_id=decode(input.message_id, type_name="Message", field="messageId"),
                reason=input.reason,
            )
            return ReportMessageSuccess(reported=True)

        return errors.outcome(file)

    @strawberry.mutation(description="Choose whether emails about new messages quote the text.")
    def set_message_preferences(
        self, info: Info, input: SetMessagePreferencesInput
    ) -> SetMessagePreferencesResult:
        """Save the privacy choice."""
        context = info.context

        def save() -> SetMessagePreferencesSuccess:
            shown = messaging.set_preference(
                session=context.session,
                member=context.member,
                show_text_in_emails=input.show_text_in_emails,
            )
            return SetMessagePreferencesSuccess(show_text_in_emails=shown)

        return errors.outcome(save)

    @strawberry.mutation(description="Organisers: hide a reported message or dismiss reports.")
    def moderate_message(self, info: Info, input: ModerateMessageInput) -> ModerateMessageResult:
        """Hide or dismiss."""
        context = info.context

        def act() -> ModerateMessageSuccess:
            message = messaging.moderate(
                session=context.session,
                organiser=context.member,
                message_id=decode(input.message_id, type_name="Message", field="messageId"),
                hide=input.action is MessageModeration.HIDE,
            )
            return ModerateMessageSuccess(hidden=message.status == "hidden")

        return errors.outcome(act)
