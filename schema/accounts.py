"""Accounts: sign up, verify, log in and out, passwords."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from backend.accounts import cookies, devices, two_factor
from backend.accounts import service as accounts
from backend.accounts.models import UserSession
from backend.errors import Invalid
from backend.members import service as member_service
from schema import errors
from schema.context import Info
from schema.enums import Band, Profession, Region, RoleFamily, from_enum
from schema.inputs import check_text
from schema.members import Member
from schema.permissions import IsAuthenticated


@strawberry.input(description="Everything a new member gives when joining.")
class SignUpInput:
    email: str
    password: str = strawberry.field(description="At least 12 characters, not a common one.")
    name: str
    organisation: str = strawberry.field(description="Your employer's name.")
    region: Region
    role_family: RoleFamily
    band: Band
    profession: Profession
    job_title: str = ""
    management_years: int = 0


@strawberry.type(
    description="Sign-up received; an email says what happened. The answer is the same "
    "whether or not the address already had an account (no account probing)."
)
class SignUpSuccess:
    message: str


@strawberry.input
class LogInInput:
    email: str
    password: str


@strawberry.type(description="Signed in; the session cookie is set.")
class LogInSuccess:
    member: Member


@strawberry.type(
    description="The password was right; now give the second factor with completeLogIn (a "
    "code, or a passkey: passkeyAuthenticationOptions). Until then nobody is signed in."
)
class SecondFactorNeeded:
    message: str
    methods: list[str] = strawberry.field(description='"totp", "recovery_code", "passkey".')
    expires_in_seconds: int


@strawberry.type(description="Done.")
class Done:
    message: str


@strawberry.input(description="The token from the emailed link.")
class VerifyEmailInput:
    token: str


@strawberry.type(description="The email address is confirmed.")
class VerifyEmailSuccess:
    member: Member


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input(description="The token from the emailed link and the new password.")
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type(description="Password changed; other sessions have ended, this one continues.")
class ChangePasswordSuccess:
    member: Member
    message: str


SignUpResult = Annotated[
    SignUpSuccess | errors.Problem, errors.result_named("SignUpResult", SignUpSuccess)
]
LogInResult = Annotated[
    LogInSuccess | SecondFactorNeeded | errors.Problem,
    errors.result_named("LogInResult", LogInSuccess),
]


@strawberry.type(description="A place where you are logged in (a browser session).")
class ActiveSession:
    id: strawberry.ID = strawberry.field(description="Names the session for `endSession`.")
    device: str = strawberry.field(description='From the User-Agent, like "Firefox on Windows".')
    last_seen_at: datetime = strawberry.field(description="Updated at most once a minute.")
    created_at: datetime
    current: bool = strawberry.field(description="True for the session making this request.")

    @classmethod
    def from_model(cls, record: UserSession, *, here: str | None) -> ActiveSession:
        """The GraphQL view of a session record."""
        return cls(
            id=strawberry.ID(accounts.session_key(record)),
            device=devices.device_label(record.user_agent),
            last_seen_at=record.last_seen_at,
            created_at=record.created_at,
            current=here is not None and record.id == accounts.token_hash(here),
        )


@strawberry.input(description="The `id` of one of your sessions, from `mySessions`.")
class EndSessionInput:
    id: strawberry.ID


@strawberry.type(description="The session has ended: its cookie no longer works.")
class EndSessionSuccess:
    message: str


EndSessionResult = Annotated[
    EndSessionSuccess | errors.Problem, errors.result_named("EndSessionResult", EndSessionSuccess)
]


@strawberry.type
class SessionQuery:
    """Where the signed-in member is logged in."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your live sessions, most recently used first.",
    )
    def my_sessions(self, info: Info) -> list[ActiveSession]:
        """The caller's own sessions."""
        context = info.context
        member = member_service.require_account(context.member)
        here = context.session_token if context.auth == "cookie" else None
        return [
            ActiveSession.from_model(record, here=here)
            for record in accounts.list_sessions(session=context.session, member=member)
        ]


LogOutResult = Annotated[Done | errors.Problem, errors.result_named("LogOutResult", Done)]
VerifyEmailResult = Annotated[
    VerifyEmailSuccess | errors.Problem,
    errors.result_named("VerifyEmailResult", VerifyEmailSuccess),
]
ResendVerificationResult = Annotated[
    Done | errors.Problem, errors.result_named("ResendVerificationResult", Done)
]
RequestPasswordResetResult = Annotated[
    Done | errors.Problem, errors.result_named("RequestPasswordResetResult", Done)
]
ResetPasswordResult = Annotated[
    Done | errors.Problem, errors.result_named("ResetPasswordResult", Done)
]
ChangePasswordResult = Annotated[
    ChangePasswordSuccess | errors.Problem,
    errors.result_named("ChangePasswordResult", ChangePasswordSuccess),
]


def _start_cookie_session(info: Info, token: str) -> None:
    context = info.context
    cookies.set_session_cookie(context.response, token)
    context.session_token = token
    context.auth = "cookie"
    context.reset_loaders()


@strawberry.type
class AccountMutation:
    """Mutations about accounts and sessions."""

    @strawberry.mutation(
        description="Join the network; an email confirms the address (or, for an address that "
        "already has an account, tells its owner how to log in)."
    )
    def sign_up(self, info: Info, input: SignUpInput) -> SignUpResult:
        """Create an account."""
        context = info.context

        def sign_up() -> SignUpSuccess:
            check_text(
                email=input.email,
                password=input.password,
                name=input.name,
                organisation=input.organisation,
                job_title=input.job_title,
            )
            accounts.sign_up(
                session=context.session,
                client=context.client_address,
                data=accounts.SignUp(
                    email=input.email,
                    password=input.password,
                    name=input.name,
                    organisation=input.organisation,
                    region=from_enum(input.region),
                    role_family=from_enum(input.role_family),
                    band=from_enum(input.band),
                    profession=from_enum(input.profession),
                    job_title=input.job_title,
                    management_years=input.management_years,
                ),
            )
            return SignUpSuccess(
                message="Check your email for a link to confirm your address, then log in.",
            )

        return errors.outcome(sign_up)

    @strawberry.mutation(description="Log in: sets an HttpOnly session cookie.")
    def log_in(self, info: Info, input: LogInInput) -> LogInResult:
        """Check the credentials and start a new session."""
        context = info.context

        def log_in() -> LogInSuccess | SecondFactorNeeded:
            check_text(email=input.email, password=input.password)
            member, token = accounts.log_in(
                session=context.session,
                email=input.email,
                password=input.password,
                user_agent=context.user_agent,
                client=context.client_address,
            )
            # A new session id at login: the one the browser had (if any) ends here.
            accounts.revoke_session(session=context.session, token=context.session_token)
            if two_factor.pending_session(session=context.session, token=token) is not None:
                cookies.set_session_cookie(context.response, token)
                context.session_token = token
                return SecondFactorNeeded(
                    message="Now give your second factor with completeLogIn.",
                    methods=two_factor.methods(session=context.session, member=member),
                    expires_in_seconds=context.settings.second_factor_pending_minutes * 60,
                )
            context.member = member
            _start_cookie_session(info, token)
            return LogInSuccess(member=Member.from_model(member))

        return errors.outcome(log_in)

    @strawberry.mutation(description="End this session; the cookie stops working everywhere.")
    def log_out(self, info: Info) -> LogOutResult:
        """Revoke the session and clear the cookie."""
        context = info.context

        def log_out() -> Done:
            accounts.log_out(session=context.session, token=context.session_token)
            cookies.clear_session_cookie(context.response)
            if context.auth == "cookie":
                context.member = None
                context.auth = "none"
            context.session_token = None
            context.reset_loaders()
            return Done(message="You have logged out.")

        return errors.outcome(log_out)

    @strawberry.mutation(description="Confirm your email address with the token from the link.")
    def verify_email(self, info: Info, input: VerifyEmailInput) -> VerifyEmailResult:
        """Confirm an email address."""
        context = info.context

        def verify() -> VerifyEmailSuccess:
            member = accounts.verify_email(session=context.session, token=input.token)
            if context.member is not None and context.member.id == member.id:
                context.member = member
            return VerifyEmailSuccess(member=Member.from_model(member))

        return errors.outcome(verify)

    @strawberry.mutation(description="Email another verification link to the signed-in member.")
    def resend_verification(self, info: Info) -> ResendVerificationResult:
        """Send a fresh link."""
        context = info.context

        def resend() -> Done:
            member = member_service.require_account(context.member)
            accounts.resend_verification(
                session=context.session, member=member, client=context.client_address
            )
            return Done(message="We have sent you a new link. Check your email.")

        return errors.outcome(resend)

    @strawberry.mutation(
        description="Email a password reset link (the answer is the same for any address)."
    )
    def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetResult:
        """Ask for a reset link."""
        context = info.context

        def request() -> Done:
            accounts.request_password_reset(
                session=context.session, email=input.email, client=context.client_address
            )
            return Done(
                message="If an account uses that address, we have emailed it a link to reset "
                "the password."
            )

        return errors.outcome(request)

    @strawberry.mutation(description="Set a new password with the token from the emailed link.")
    def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordResult:
        """Reset a forgotten password; every session and access token of the account ends."""
        context = info.context

        def reset() -> Done:
            check_text(new_password=input.new_password)
            try:
                accounts.reset_password(
                    session=context.session, token=input.token, new_password=input.new_password
                )
            except Invalid as error:
                if error.field == "password":
                    error.field = "new_password"
                raise
            return Done(
                message="Your password has been changed. You have been signed out everywhere; "
                "access tokens you made were revoked. Log in with your new password."
            )

        return errors.outcome(reset)

    @strawberry.mutation(
        description="Change your password; your other sessions end and your access tokens are "
        "revoked."
    )
    def change_password(self, info: Info, input: ChangePasswordInput) -> ChangePasswordResult:
        """Change the signed-in member's password."""
        context = info.context

        def change() -> ChangePasswordSuccess:
            member = member_service.require_account(context.member)
            check_text(current_password=input.current_password, new_password=input.new_password)
            token = accounts.change_password(
                session=context.session,
                member=member,
                current_password=input.current_password,
                new_password=input.new_password,
                current_token=context.session_token,
                user_agent=context.user_agent,
            )
            if context.auth == "cookie":
                _start_cookie_session(info, token)
            else:
                # Token clients have no use for a browser session; end it straight away.
                accounts.revoke_session(session=context.session, token=token)
            return ChangePasswordSuccess(
                member=Member.from_model(member),
                message="Your password has been changed. " + accounts.SIGNED_OUT_ELSEWHERE,
            )

        return errors.outcome(change)

    @strawberry.mutation(description="End one of your sessions (another device): it is logged out.")
    def end_session(self, info: Info, input: EndSessionInput) -> EndSessionResult:
        """End a session of the signed-in member."""
        context = info.context

        def end() -> EndSessionSuccess:
            member = member_service.require_account(context.member)
            check_text(id=input.id)
            accounts.end_session(session=context.session, member=member, key=str(input.id)[:64])
            return EndSessionSuccess(
                message="That session has ended. Whoever used it there is now logged out."
            )

        return errors.outcome(end)
