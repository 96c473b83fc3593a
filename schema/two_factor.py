"""Second factors over GraphQL: authenticator app, recovery codes, passkeys, the second step
of logging in (``completeLogIn``) and step-up (``confirmSecondFactor``).

Passkey ceremonies and step-up belong to a browser session (the session cookie); access-token
clients can read their factors but not prove one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from backend.accounts import passkeys, two_factor
from backend.accounts import service as accounts
from backend.accounts.factor_models import WebauthnCredential
from backend.accounts.models import UserSession
from backend.errors import Forbidden, Invalid
from backend.members import service as member_service
from schema import errors
from schema.accounts import Done, LogInSuccess
from schema.accounts import _start_cookie_session as start_cookie_session
from schema.context import Info
from schema.inputs import check_text
from schema.members import Member
from schema.permissions import IsAuthenticated

BROWSER_ONLY = "This needs a browser session: log in with logIn (the session cookie)."


@strawberry.type(description="A passkey you registered (never its key).")
class Passkey:
    id: strawberry.ID
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_model(cls, row: WebauthnCredential) -> Passkey:
        """The GraphQL view of a stored credential."""
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
        )


@strawberry.type(description="Your second factors.")
class SecondFactors:
    totp: bool = strawberry.field(description="True when an authenticator app is on.")
    recovery_codes_left: int
    passkeys: list[Passkey]


@strawberry.type(description="Add this to an authenticator app, then confirmTotpSetup.")
class TotpSetupSuccess:
    secret: str = strawberry.field(description="Base32, for typing into the app.")
    otpauth_uri: str
    qr_svg: str = strawberry.field(description="The URI as a QR code (SVG markup).")


@strawberry.type(description="Single-use recovery codes: shown only this once.")
class RecoveryCodesSuccess:
    recovery_codes: list[str] = strawberry.field(
        description="Empty when you already had codes (they still work)."
    )


@strawberry.type(description="WebAuthn options for navigator.credentials (JSON).")
class PasskeyOptionsSuccess:
    options_json: str


@strawberry.type(description="The passkey is registered.")
class RegisterPasskeySuccess:
    passkey: Passkey
    recovery_codes: list[str] = strawberry.field(
        description="Made for your first second factor; shown only this once."
    )


@strawberry.input(description="A code from the app, a recovery code, or a passkey's answer.")
class SecondFactorInput:
    code: str | None = None
    passkey_credential: str | None = strawberry.field(
        default=None, description="The PublicKeyCredential as JSON (from navigator.credentials)."
    )


@strawberry.input
class CodeInput:
    code: str


@strawberry.input
class PasswordInput:
    password: str


@strawberry.input
class RegisterPasskeyInput:
    name: str
    credential: str = strawberry.field(description="The new PublicKeyCredential as JSON.")


@strawberry.input
class RemovePasskeyInput:
    id: strawberry.ID


CompleteLogInResult = Annotated[
    LogInSuccess | errors.Problem, errors.result_named("CompleteLogInResult", LogInSuccess)
]
ConfirmSecondFactorResult = Annotated[
    Done | errors.Problem, errors.result_named("ConfirmSecondFactorResult", Done)
]
StartTotpSetupResult = Annotated[
    TotpSetupSuccess | errors.Problem,
    errors.result_named("StartTotpSetupResult", TotpSetupSuccess),
]
RecoveryCodesResult = Annotated[
    RecoveryCodesSuccess | errors.Problem,
    errors.result_named("RecoveryCodesResult", RecoveryCodesSuccess),
]
DisableTotpResult = Annotated[Done | errors.Problem, errors.result_named("DisableTotpResult", Done)]
PasskeyOptionsResult = Annotated[
    PasskeyOptionsSuccess | errors.Problem,
    errors.result_named("PasskeyOptionsResult", PasskeyOptionsSuccess),
]
RegisterPasskeyResult = Annotated[
    RegisterPasskeySuccess | errors.Problem,
    errors.result_named("RegisterPasskeyResult", RegisterPasskeySuccess),
]
RemovePasskeyResult = Annotated[
    Done | errors.Problem, errors.result_named("RemovePasskeyResult", Done)
]


def _browser_session(info: Info) -> UserSession:
    """The caller's full cookie session (passkeys and step-up need one)."""
    context = info.context
    record = accounts.session_for_token(session=context.session, token=context.session_token)
    if context.auth != "cookie" or record is None:
        raise Forbidden(BROWSER_ONLY)
    return record


def _one_of(input: SecondFactorInput) -> tuple[str, str]:
    code, credential = input.code or "", input.passkey_credential or ""
    check_text(code=code)
    if bool(code) == bool(credential):
        raise Invalid("Give either a code or a passkey credential.", field="code")
    return code, credential


@strawberry.type
class TwoFactorQuery:
    """The signed-in member's second factors."""

    @strawberry.field(permission_classes=[IsAuthenticated], description="Your second factors.")
    def my_second_factors(self, info: Info) -> SecondFactors:
        """Which second factors you have (never a secret)."""
        context = info.context
        member = member_service.require_member(context.member)
        db = context.session
        return SecondFactors(
            totp=two_factor.has_totp(session=db, member=member),
            recovery_codes_left=two_factor.recovery_codes_left(session=db, member=member),
            passkeys=[
                Passkey.from_model(r) for r in passkeys.list_passkeys(session=db, member=member)
            ],
        )


@strawberry.type
class TwoFactorMutation:
    """Second factors: set-up, the second step of logging in, step-up."""

    @strawberry.mutation(
        description="The second step of logging in, after logIn answered SecondFactorNeeded: "
        "a code (app or recovery) or a passkey's answer. Only now is the session signed in."
    )
    def complete_log_in(self, info: Info, input: SecondFactorInput) -> CompleteLogInResult:
        """Finish a pending log-in; a new session replaces the pending one."""
        context = info.context

        def complete() -> LogInSuccess:
            code, credential = _one_of(input)
            if code:
                member, token = two_factor.complete_sign_in(
                    session=context.session,
                    token=context.session_token,
                    code=code,
                    user_agent=context.user_agent,
                )
            else:
                member, token = passkeys.complete_sign_in(
                    session=context.session,
                    token=context.session_token,
                    credential_json=credential,
                    user_agent=context.user_agent,
                )
            context.member = member
            start_cookie_session(info, token)
            return LogInSuccess(member=Member.from_model(member))

        return errors.outcome(complete)

    @strawberry.mutation(
        description="Passkey options for navigator.credentials.get: for the second step of "
        "logging in, or (signed in) for confirmSecondFactor."
    )
    def passkey_authentication_options(self, info: Info) -> PasskeyOptionsResult:
        """A single-use challenge bound to this session."""
        context = info.context

        def options() -> PasskeyOptionsSuccess:
            if context.member is None:
                text = passkeys.sign_in_options(
                    session=context.session, token=context.session_token
                )
            else:
                text = passkeys.authentication_options(
                    session=context.session, member=context.member, record=_browser_session(info)
                )
            return PasskeyOptionsSuccess(options_json=text)

        return errors.outcome(options)

    @strawberry.mutation(
        description="Prove your second factor again (step-up): erasing your account and role "
        "changes need one within the last few minutes."
    )
    def confirm_second_factor(
        self, info: Info, input: SecondFactorInput
    ) -> ConfirmSecondFactorResult:
        """Mark this session as having just proved the second factor."""
        context = info.context

        def confirm() -> Done:
            member = member_service.require_member(context.member)
            record = _browser_session(info)
            code, credential = _one_of(input)
            if code:
                two_factor.step_up(
                    session=context.session, member=member, token=context.session_token, code=code
                )
            else:
                passkeys.step_up(
                    session=context.session,
                    member=member,
                    record=record,
                    credential_json=credential,
                )
            return Done(message="Thank you: that is confirmed for the next few minutes.")

        return errors.outcome(confirm)

    @strawberry.mutation(description="Start setting up an authenticator app (not on yet).")
    def start_totp_setup(self, info: Info) -> StartTotpSetupResult:
        """A new secret; confirmTotpSetup with a code from the app turns it on."""
        context = info.context

        def start() -> TotpSetupSuccess:
            member = member_service.require_member(context.member)
            setup = two_factor.start_totp_setup(session=context.session, member=member)
            return TotpSetupSuccess(secret=setup.secret, otpauth_uri=setup.uri, qr_svg=setup.qr_svg)

        return errors.outcome(start)

    @strawberry.mutation(
        description="Turn the authenticator app on with a code from it; your other sessions end."
    )
    def confirm_totp_setup(self, info: Info, input: CodeInput) -> RecoveryCodesResult:
        """Confirm the app; the first factor brings recovery codes."""
        context = info.context

        def confirm() -> RecoveryCodesSuccess:
            member = member_service.require_member(context.member)
            check_text(code=input.code)
            keep = context.session_token if context.auth == "cookie" else None
            codes = two_factor.confirm_totp_setup(
                session=context.session, member=member, code=input.code, keep_token=keep
            )
            return RecoveryCodesSuccess(recovery_codes=codes)

        return errors.outcome(confirm)

    @strawberry.mutation(description="Turn the authenticator app off (your password again).")
    def disable_totp(self, info: Info, input: PasswordInput) -> DisableTotpResult:
        """Remove the app's secret."""
        context = info.context

        def disable() -> Done:
            member = member_service.require_member(context.member)
            check_text(password=input.password)
            two_factor.disable_totp(session=context.session, member=member, password=input.password)
            return Done(message="Your authenticator app has been turned off.")

        return errors.outcome(disable)

    @strawberry.mutation(description="New recovery codes; every old one stops working.")
    def regenerate_recovery_codes(self, info: Info) -> RecoveryCodesResult:
        """Replace the set."""
        context = info.context

        def regenerate() -> RecoveryCodesSuccess:
            member = member_service.require_member(context.member)
            codes = two_factor.regenerate_recovery_codes(session=context.session, member=member)
            return RecoveryCodesSuccess(recovery_codes=codes)

        return errors.outcome(regenerate)

    @strawberry.mutation(description="Passkey options for navigator.credentials.create.")
    def passkey_registration_options(self, info: Info) -> PasskeyOptionsResult:
        """A single-use challenge bound to this session."""
        context = info.context

        def options() -> PasskeyOptionsSuccess:
            member = member_service.require_member(context.member)
            text = passkeys.registration_options(
                session=context.session, member=member, record=_browser_session(info)
            )
            return PasskeyOptionsSuccess(options_json=text)

        return errors.outcome(options)

    @strawberry.mutation(description="Register the passkey the browser made.")
    def register_passkey(self, info: Info, input: RegisterPasskeyInput) -> RegisterPasskeyResult:
        """Check it against the challenge and keep its public key."""
        context = info.context

        def register() -> RegisterPasskeySuccess:
            member = member_service.require_member(context.member)
            check_text(name=input.name)
            row, codes = passkeys.register(
                session=context.session,
                member=member,
                record=_browser_session(info),
                name=input.name,
                credential_json=input.credential,
            )
            return RegisterPasskeySuccess(passkey=Passkey.from_model(row), recovery_codes=codes)

        return errors.outcome(register)

    @strawberry.mutation(description="Remove one of your passkeys.")
    def remove_passkey(self, info: Info, input: RemovePasskeyInput) -> RemovePasskeyResult:
        """Delete the credential."""
        context = info.context

        def remove() -> Done:
            member = member_service.require_member(context.member)
            try:
                number = int(str(input.id))
            except ValueError as error:
                raise Invalid("That is not a passkey id.", field="id") from error
            if not 0 < number <= member_service.MAX_ID:
                raise Invalid("That is not a passkey id.", field="id")
            passkeys.remove(session=context.session, member=member, passkey_id=number)
            return Done(message="The passkey has been removed.")

        return errors.outcome(remove)
