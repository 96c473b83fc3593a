"""Role changes (admins only), behind a step-up: a fresh second factor, or the password."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend.accounts import service as accounts
from backend.members import service as member_service
from schema import errors
from schema.context import Info
from schema.enums import Role
from schema.ids import decode
from schema.inputs import check_text


@strawberry.input(
    description="Give or take away a role. Admins with a second factor confirm it first "
    "(confirmSecondFactor); admins without one give their password."
)
class SetMemberRoleInput:
    member_id: strawberry.ID
    role: Role
    granted: bool
    password: str = ""


@strawberry.type(description="The member's roles now.")
class SetMemberRoleSuccess:
    roles: list[Role]


SetMemberRoleResult = Annotated[
    SetMemberRoleSuccess | errors.Problem,
    errors.result_named("SetMemberRoleResult", SetMemberRoleSuccess),
]


@strawberry.type
class RoleMutation:
    """Admins: roles."""

    @strawberry.mutation(description="Admins: give or take away the organiser or admin role.")
    def set_member_role(self, info: Info, input: SetMemberRoleInput) -> SetMemberRoleResult:
        """Change a member's role after the step-up."""
        context = info.context

        def change() -> SetMemberRoleSuccess:
            check_text(password=input.password)
            member_id = decode(input.member_id, type_name="Member", field="memberId")
            token = context.session_token if context.auth == "cookie" else None
            roles = member_service.change_role(
                session=context.session,
                admin=context.member,
                current=accounts.session_for_token(session=context.session, token=token),
                member_id=member_id,
                role=input.role.value,
                granted=input.granted,
                password=input.password,
            )
            return SetMemberRoleSuccess(roles=[Role(r) for r in roles])

        return errors.outcome(change)
