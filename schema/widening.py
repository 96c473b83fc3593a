"""Your widening-access claim: ask for priority with a reason, change it, withdraw it.

Only ever the caller's own: no field anywhere else in the schema carries a reason category.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from backend.privacy import widening
from backend.privacy.models import WIDENING_WORDING_VERSION, WideningAccessClaim
from schema import errors
from schema.context import Info
from schema.enums import _name, _python_enum
from schema.permissions import IsAuthenticated
from vocabulary import WIDENING_CATEGORIES

_Category = _python_enum("WideningCategory", [(_name(c), c) for c in WIDENING_CATEGORIES])
WideningCategory: Any = strawberry.enum(
    _Category,
    description="Why a member asks for widening-access priority (seen by nobody but them).",
)


@strawberry.type(
    description=(
        "Your own widening-access claim. The matcher and programmes see only a yes/no flag; "
        "your reason is seen by nobody but you, and counted in organisers' insights only in "
        "disclosure-controlled totals."
    )
)
class MyWideningAccess:
    claimed: bool = strawberry.field(description="True while you ask for priority.")
    category: WideningCategory | None = strawberry.field(description="Your reason, if claimed.")
    category_label: str | None = strawberry.field(description="Your reason, in words.")
    wording_version: str | None = strawberry.field(
        description="The version of the consent wording you agreed to."
    )
    consented_at: datetime | None
    current_wording_version: str = strawberry.field(
        description="The version of the consent wording shown today."
    )


def _view(claim: WideningAccessClaim | None) -> MyWideningAccess:
    return MyWideningAccess(
        claimed=claim is not None,
        category=None if claim is None else WideningCategory(claim.category),
        category_label=None if claim is None else widening.category_label(claim.category),
        wording_version=None if claim is None else claim.wording_version,
        consented_at=None if claim is None else claim.consented_at,
        current_wording_version=WIDENING_WORDING_VERSION,
    )


@strawberry.input(description="Your reason, and `consent` true: you agree to the wording shown.")
class SetWideningAccessInput:
    category: WideningCategory
    consent: bool = strawberry.field(
        description=(
            "You agree that peerbridge keeps your reason so the matcher and programmes can give "
            "you priority (they see only yes or no), counted by organisers only in totals."
        )
    )


@strawberry.type(description="Your claim is saved with the consent wording you agreed to.")
class SetWideningAccessSuccess:
    widening_access: MyWideningAccess


@strawberry.type(description="Your claim and its reason are deleted.")
class WithdrawWideningAccessSuccess:
    withdrawn: bool = strawberry.field(description="False when nothing was held.")
    widening_access: MyWideningAccess


SetWideningAccessResult = Annotated[
    SetWideningAccessSuccess | errors.Problem,
    errors.result_named("SetWideningAccessResult", SetWideningAccessSuccess),
]
WithdrawWideningAccessResult = Annotated[
    WithdrawWideningAccessSuccess | errors.Problem,
    errors.result_named("WithdrawWideningAccessResult", WithdrawWideningAccessSuccess),
]


@strawberry.type
class WideningAccessQuery:
    """Your own claim: never anyone else's."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your widening-access claim (only ever your own).",
    )
    def my_widening_access(self, info: Info) -> MyWideningAccess:
        """The caller's claim."""
        return _view(
            widening.my_widening_access(session=info.context.session, member=info.context.member)
        )


@strawberry.type
class WideningAccessMutation:
    """Ask for, change and withdraw widening-access priority."""

    @strawberry.mutation(description="Ask for widening-access priority (or change your reason).")
    def set_widening_access(
        self, info: Info, input: SetWideningAccessInput
    ) -> SetWideningAccessResult:
        """Save the caller's claim with its consent."""

        def save() -> SetWideningAccessSuccess:
            claim = widening.set_widening_access(
                session=info.context.session,
                member=info.context.member,
                category=input.category.value,
                consent=input.consent,
            )
            return SetWideningAccessSuccess(widening_access=_view(claim))

        return errors.outcome(save)

    @strawberry.mutation(description="Withdraw your claim: your reason is deleted.")
    def withdraw_widening_access(self, info: Info) -> WithdrawWideningAccessResult:
        """Delete the caller's claim."""

        def withdraw() -> WithdrawWideningAccessSuccess:
            done = widening.withdraw_widening_access(
                session=info.context.session, member=info.context.member
            )
            return WithdrawWideningAccessSuccess(withdrawn=done, widening_access=_view(None))

        return errors.outcome(withdraw)
