"""Your diversity answers and consent, your data as JSON, and erasing your account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from backend.accounts import cookies
from backend.accounts import service as accounts
from backend.members import service as member_service
from backend.privacy import service as privacy
from backend.privacy.models import ConsentRecord
from schema import errors
from schema.context import Info
from schema.enums import AgeBand, DisabilityAnswer, Ethnicity, Gender
from schema.permissions import IsAuthenticated
from schema.widening import WideningAccessMutation, WideningAccessQuery


def _value(member: Any) -> str | None:
    return None if member is None else member.value


def _member_of(kind: Any, value: str | None) -> Any:
    return None if value is None else kind(value)


@strawberry.type(description="A record of your consent to keep diversity answers.")
class Consent:
    given_at: datetime
    withdrawn_at: datetime | None
    wording_version: str = strawberry.field(description="The version of the words you agreed to.")
    how: str = strawberry.field(description="How it was given: by you, or on an imported list.")

    @classmethod
    def from_model(cls, record: ConsentRecord, how: str) -> Consent:
        """The GraphQL view of a consent record."""
        return cls(
            given_at=record.given_at,
            withdrawn_at=record.withdrawn_at,
            wording_version=record.wording_version,
            how=how,
        )


@strawberry.type(
    description="Your own diversity answers: only you see them; organisers only in sums."
)
class MyDemographics:
    consented: bool = strawberry.field(description="True while a consent is in force.")
    ethnicity: Ethnicity | None
    gender: Gender | None
    disability: DisabilityAnswer | None
    age_band: AgeBand | None
    consents: list[Consent] = strawberry.field(description="Every consent, newest first.")


def _my_demographics(info: Info) -> MyDemographics:
    session = info.context.session
    mine = privacy.my_demographics(session=session, member=info.context.member)
    record = mine.record
    return MyDemographics(
        consented=mine.live_consent is not None,
        ethnicity=_member_of(Ethnicity, record.ethnicity if record else None),
        gender=_member_of(Gender, record.gender if record else None),
        disability=_member_of(DisabilityAnswer, record.disability if record else None),
        age_band=_member_of(AgeBand, record.age_band if record else None),
        consents=[
            Consent.from_model(c, privacy.consent_description(session=session, consent=c))
            for c in mine.consents
        ],
    )


@strawberry.input(description="Leave a question out to not answer it; `consent` must be true.")
class RecordDemographicsInput:
    consent: bool = strawberry.field(
        description="You agree that organisers may count your answers, in aggregate only."
    )
    ethnicity: Ethnicity | None = None
    gender: Gender | None = None
    disability: DisabilityAnswer | None = None
    age_band: AgeBand | None = None


@strawberry.type(description="Your answers are saved with a record of your consent.")
class RecordDemographicsSuccess:
    demographics: MyDemographics


@strawberry.type(description="Your answers are deleted; the consent record shows when.")
class WithdrawDemographicsSuccess:
    withdrawn: bool = strawberry.field(description="False when nothing was held.")
    demographics: MyDemographics


@strawberry.input(description="Your password, and `confirm` true: erasing cannot be undone.")
class EraseMyAccountInput:
    password: str
    confirm: bool


@strawberry.type(description="Your account and personal data are erased; you are logged out.")
class EraseMyAccountSuccess:
    erased: bool


RecordDemographicsResult = Annotated[
    RecordDemographicsSuccess | errors.Problem,
    errors.result_named("RecordDemographicsResult", RecordDemographicsSuccess),
]
WithdrawDemographicsResult = Annotated[
    WithdrawDemographicsSuccess | errors.Problem,
    errors.result_named("WithdrawDemographicsResult", WithdrawDemographicsSuccess),
]
EraseMyAccountResult = Annotated[
    EraseMyAccountSuccess | errors.Problem,
    errors.result_named("EraseMyAccountResult", EraseMyAccountSuccess),
]


@strawberry.type
class PrivacyQuery(WideningAccessQuery):
    """Your own data: never anyone else's."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your diversity answers and consent records (only ever your own).",
    )
    def my_demographics(self, info: Info) -> MyDemographics:
        """The caller's demographics and consents."""
        return _my_demographics(info)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Everything held about you, as one JSON document.",
    )
    def export_my_data(self, info: Info) -> JSON:
        """The caller's data export."""
        return JSON(
            privacy.export_my_data(session=info.context.session, member=info.context.member)
        )


@strawberry.type
class PrivacyMutation(WideningAccessMutation):
    """Consent, withdrawal and erasure."""

    @strawberry.mutation(description="Give (or change) your diversity answers, with consent.")
    def record_demographics(
        self, info: Info, input: RecordDemographicsInput
    ) -> RecordDemographicsResult:
        """Save answers with a consent record."""

        def save() -> RecordDemographicsSuccess:
            privacy.record_demographics(
                session=info.context.session,
                member=info.context.member,
                answers=privacy.DemographicAnswers(
                    ethnicity=_value(input.ethnicity),
                    gender=_value(input.gender),
                    disability=_value(input.disability),
                    age_band=_value(input.age_band),
                ),
                consent=input.consent,
            )
            return RecordDemographicsSuccess(demographics=_my_demographics(info))

        return errors.outcome(save)

    @strawberry.mutation(description="Withdraw consent: your diversity answers are deleted.")
    def withdraw_demographics(self, info: Info) -> WithdrawDemographicsResult:
        """Delete answers and close the consent."""

        def withdraw() -> WithdrawDemographicsSuccess:
            done = privacy.withdraw_demographics(
                session=info.context.session, member=info.context.member
            )
            return WithdrawDemographicsSuccess(withdrawn=done, demographics=_my_demographics(info))

        return errors.outcome(withdraw)

    @strawberry.mutation(description="Erase your account and personal data. Cannot be undone.")
    def erase_my_account(self, info: Info, input: EraseMyAccountInput) -> EraseMyAccountResult:
        """Erase the caller's account after checking password and confirmation."""
        context = info.context

        def erase() -> EraseMyAccountSuccess:
            member_service.require_account(context.member)
            privacy.erase_my_account(
                session=context.session,
                member=context.member,
                password=input.password,
                confirm=input.confirm,
                current=accounts.session_for_token(
                    session=context.session,
                    token=context.session_token if context.auth == "cookie" else None,
                ),
            )
            context.member = None
            context.auth = "none"
            cookies.clear_session_cookie(context.response)
            return EraseMyAccountSuccess(erased=True)

        return errors.outcome(erase)
