"""The admin console (admins only): ``adminMembers`` and ``adminMember``, and the mutations
``suspendMember``, ``reactivateMember`` and ``resendInvitation``. Roles: ``setMemberRole``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import Invalid
from backend.members import console
from backend.skills import framework
from schema import errors
from schema.context import Info
from schema.enums import ReactivationReason, Role, SuspensionReason
from schema.ids import database_id, decode
from schema.inputs import check_text
from schema.members import Member
from schema.permissions import IsAuthenticated
from schema.reference import Skill, page_size


@strawberry.type(
    description="A member's account as an admin sees it (its id is the member's database id "
    "under the MemberAccount type; member has the Member id)."
)
class MemberAccount(relay.Node):
    id: relay.NodeID[int]
    member: Member = strawberry.field(description="The member (their profile).")
    email: str
    roles: list[Role]
    active: bool = strawberry.field(description="False while the account is suspended.")
    confirmed: bool = strawberry.field(description="Whether the email address is confirmed.")
    invited: bool = strawberry.field(
        description="Added by an import and the invitation not accepted yet."
    )
    second_factor: bool = strawberry.field(
        description="Whether signing in needs an authenticator app or a passkey."
    )
    last_sign_in_at: datetime | None = strawberry.field(
        description="When the member last signed in; null for never."
    )

    @classmethod
    def from_row(cls, row: console.MemberRow) -> MemberAccount:
        """The GraphQL view of a console row."""
        m = row.member
        return cls(
            id=m.id,
            member=Member.from_model(m),
            email=m.email,
            roles=[Role(r) for r in row.roles],
            active=m.is_active,
            confirmed=m.is_verified,
            invited=row.invited,
            second_factor=row.second_factor,
            last_sign_in_at=row.last_sign_in,
        )


@strawberry.input(description="Which accounts to list; leave a field out to not filter by it.")
class AdminMemberFilter:
    text: str | None = strawberry.field(
        default=None, description="All or part of a name or email address."
    )
    role: Role | None = strawberry.field(
        default=None, description="MEMBER: members with no extra role."
    )
    active: bool | None = strawberry.field(default=None, description="False: suspended.")
    confirmed: bool | None = None

    def to_service(self) -> console.MemberFilter:
        """The console's filter, checked."""
        check_text(text=self.text)

        def flag(value: bool | None, yes: str, no: str) -> str:
            return "" if value is None else (yes if value else no)

        return console.parse_filter(
            text=self.text or "",
            role=self.role.value if self.role is not None else "",
            status=flag(self.active, "active", "suspended"),
            confirmed=flag(self.confirmed, "yes", "no"),
        )


@strawberry.input(description="Suspend an account: signed out everywhere, cannot sign in.")
class SuspendMemberInput:
    member_id: strawberry.ID
    reason: SuspensionReason


@strawberry.input(description="Let a suspended member sign in again.")
class ReactivateMemberInput:
    member_id: strawberry.ID
    reason: ReactivationReason


@strawberry.input(description="Send an invited or unconfirmed member their email again.")
class ResendInvitationInput:
    member_id: strawberry.ID


@strawberry.type(description="The account after the change.")
class SuspendMemberSuccess:
    account: MemberAccount


@strawberry.type(description="The account after the change.")
class ReactivateMemberSuccess:
    account: MemberAccount


@strawberry.type(description="Which email it was, and whether it went (the hourly limit).")
class ResendInvitationSuccess:
    kind: str = strawberry.field(description="invitation or confirmation.")
    sent: bool = strawberry.field(
        description="False when the address has had as many emails this hour as allowed."
    )


SuspendMemberResult = Annotated[
    SuspendMemberSuccess | errors.Problem,
    errors.result_named("SuspendMemberResult", SuspendMemberSuccess),
]
ReactivateMemberResult = Annotated[
    ReactivateMemberSuccess | errors.Problem,
    errors.result_named("ReactivateMemberResult", ReactivateMemberSuccess),
]
ResendInvitationResult = Annotated[
    ResendInvitationSuccess | errors.Problem,
    errors.result_named("ResendInvitationResult", ResendInvitationSuccess),
]


@strawberry.input(description="A new skill in one of the framework's groups (see skills).")
class AddSkillInput:
    name: str
    group: str


@strawberry.input(description="A skill's new name; its id stays.")
class RenameSkillInput:
    skill_id: strawberry.ID
    name: str


@strawberry.input(description="Retire a skill: kept on old records, no longer a choice.")
class RetireSkillInput:
    skill_id: strawberry.ID


@strawberry.type(description="The skill after the change.")
class SkillChangeSuccess:
    skill: Skill


SkillChangeResult = Annotated[
    SkillChangeSuccess | errors.Problem,
    errors.result_named("SkillChangeResult", SkillChangeSuccess),
]


CURSOR = "account"  # an adminMembers cursor: the member's database id (their name is looked up)


def _account_after(after: str | None) -> int | None:
    if after is None:
        return None
    try:
        kind, value = relay.from_base64(after)
        member_id = database_id(value)
        if kind != CURSOR or member_id is None:
            raise ValueError(after)
    except (ValueError, TypeError) as error:
        raise Invalid("That cursor is not one this API gave out.", field="after") from error
    return member_id


def _account(info: Info, member_id: int) -> MemberAccount:
    summary = console.account_summary(
        session=info.context.session, admin=info.context.member, member_id=member_id
    )
    return MemberAccount.from_row(summary)


@strawberry.type
class AdminQuery:
    """Admins: members' accounts."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Admins: members' accounts by name, filtered; suspended ones included.",
    )
    def admin_members(
        self,
        info: Info,
        filter: AdminMemberFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[MemberAccount]:
        """A page of accounts (at most 50; keyset: each cursor stands for a member)."""
        console.require_admin(session=info.context.session, member=info.context.member)
        limit = min(page_size(first, info, default=console.PAGE_SIZE), console.PAGE_SIZE)
        after_id = _account_after(after)
        rows, more = console.find_members(
            session=info.context.session,
            admin=info.context.member,
            wanted=(filter or AdminMemberFilter()).to_service(),
            after=after_id,
            limit=limit,
        )
        edges = [
            relay.Edge(node=MemberAccount.from_row(r), cursor=relay.to_base64(CURSOR, r.member.id))
            for r in rows
        ]
        return relay.Connection(
            edges=edges,
            page_info=relay.PageInfo(
                has_next_page=more,
                has_previous_page=after_id is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Admins: one member's account, by Member id.",
    )
    def admin_member(self, info: Info, id: strawberry.ID) -> MemberAccount:
        """The account summary."""
        return _account(info, decode(id, type_name="Member", field="id"))


@strawberry.type
class AdminMutation:
    """Admins: suspend, reactivate, resend invitations."""

    @strawberry.mutation(
        description="Admins: suspend an account (every session and token ended), with a reason."
    )
    def suspend_member(self, info: Info, input: SuspendMemberInput) -> SuspendMemberResult:
        """Suspend the member."""
        context = info.context

        def change() -> SuspendMemberSuccess:
            member_id = decode(input.member_id, type_name="Member", field="memberId")
            console.suspend(
                session=context.session,
                admin=context.member,
                member_id=member_id,
                reason=input.reason.value,
            )
            return SuspendMemberSuccess(account=_account(info, member_id))

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: reactivate a suspended account, with a reason.")
    def reactivate_member(self, info: Info, input: ReactivateMemberInput) -> ReactivateMemberResult:
        """Reactivate the member."""
        context = info.context

        def change() -> ReactivateMemberSuccess:
            member_id = decode(input.member_id, type_name="Member", field="memberId")
            console.reactivate(
                session=context.session,
                admin=context.member,
                member_id=member_id,
                reason=input.reason.value,
            )
            return ReactivateMemberSuccess(account=_account(info, member_id))

        return errors.outcome(change)

    @strawberry.mutation(
        description="Admins: send the invitation (or the confirmation link) again."
    )
    def resend_invitation(self, info: Info, input: ResendInvitationInput) -> ResendInvitationResult:
        """Resend within the per-address hourly limit."""
        context = info.context

        def change() -> ResendInvitationSuccess:
            member_id = decode(input.member_id, type_name="Member", field="memberId")
            kind, sent = console.resend_invitation(
                session=context.session, admin=context.member, member_id=member_id
            )
            return ResendInvitationSuccess(kind=kind, sent=sent)

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: add a skill to the framework.")
    def add_skill(self, info: Info, input: AddSkillInput) -> SkillChangeResult:
        """Add a skill; its id is made from the name."""
        context = info.context

        def change() -> SkillChangeSuccess:
            check_text(name=input.name, group=input.group)
            skill = framework.add_skill(
                session=context.session, admin=context.member, name=input.name, group=input.group
            )
            return SkillChangeSuccess(skill=Skill.from_model(skill))

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: rename a skill (its id stays).")
    def rename_skill(self, info: Info, input: RenameSkillInput) -> SkillChangeResult:
        """Rename a skill."""
        context = info.context

        def change() -> SkillChangeSuccess:
            check_text(name=input.name, skill_id=input.skill_id)
            skill = framework.rename_skill(
                session=context.session,
                admin=context.member,
                skill_id=str(input.skill_id),
                name=input.name,
            )
            return SkillChangeSuccess(skill=Skill.from_model(skill))

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: retire a skill.")
    def retire_skill(self, info: Info, input: RetireSkillInput) -> SkillChangeResult:
        """Retire a skill."""
        context = info.context

        def change() -> SkillChangeSuccess:
            check_text(skill_id=input.skill_id)
            skill = framework.retire_skill(
                session=context.session, admin=context.member, skill_id=str(input.skill_id)
            )
            return SkillChangeSuccess(skill=Skill.from_model(skill))

        return errors.outcome(change)
