"""Personal access tokens for API clients: create, list (on ``me``), revoke."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.accounts import service as accounts
from backend.accounts.models import AccessToken as AccessTokenModel
from backend.errors import Forbidden
from backend.members import service as member_service
from schema import errors
from schema.context import Info
from schema.ids import database_id, decode
from schema.inputs import check_text


@strawberry.type(description="A personal access token; its secret is shown only once, at creation.")
class AccessToken(relay.Node):
    id: relay.NodeID[int]
    name: str
    prefix: str = strawberry.field(description="The first characters, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_model(cls, token: AccessTokenModel) -> AccessToken:
        """The GraphQL view of a token record."""
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AccessToken | None]:
        """Only the caller's own tokens can be fetched by id."""
        ids = [database_id(i) for i in node_ids]
        viewer = info.context.member
        own = (
            {
                t.id: t
                for t in accounts.list_access_tokens(session=info.context.session, member=viewer)
            }
            if viewer is not None
            else {}
        )
        return [cls.from_model(own[i]) if i in own else None for i in ids]


@strawberry.input(description="A name to recognise the token by, like 'Reporting script'.")
class CreateAccessTokenInput:
    name: str


@strawberry.type(description="The new token. Copy `secret` now: it cannot be shown again.")
class CreateAccessTokenSuccess:
    access_token: AccessToken
    secret: str = strawberry.field(description="Send as `Authorization: Bearer <secret>`.")


@strawberry.input
class RevokeAccessTokenInput:
    id: strawberry.ID


@strawberry.type(description="The token, now revoked.")
class RevokeAccessTokenSuccess:
    access_token: AccessToken


CreateAccessTokenResult = Annotated[
    CreateAccessTokenSuccess | errors.Problem,
    errors.result_named("CreateAccessTokenResult", CreateAccessTokenSuccess),
]
RevokeAccessTokenResult = Annotated[
    RevokeAccessTokenSuccess | errors.Problem,
    errors.result_named("RevokeAccessTokenResult", RevokeAccessTokenSuccess),
]


@strawberry.type
class AccessTokenMutation:
    """Mutations on the caller's personal access tokens."""

    @strawberry.mutation(description="Create a personal access token (needs a password login).")
    def create_access_token(
        self, info: Info, input: CreateAccessTokenInput
    ) -> CreateAccessTokenResult:
        """Create a token for the signed-in member."""
        context = info.context

        def create() -> CreateAccessTokenSuccess:
            member = member_service.require_member(context.member)
            if context.auth != "cookie":
                # A leaked token must not be able to mint itself successors.
                raise Forbidden("Log in with your password to create an access token.")
            check_text(name=input.name)
            record, secret = accounts.create_access_token(
                session=context.session, member=member, name=input.name
            )
            return CreateAccessTokenSuccess(
                access_token=AccessToken.from_model(record), secret=secret
            )

        return errors.outcome(create)

    @strawberry.mutation(description="Revoke one of your access tokens; it stops working at once.")
    def revoke_access_token(
        self, info: Info, input: RevokeAccessTokenInput
    ) -> RevokeAccessTokenResult:
        """Revoke a token of the signed-in member."""
        context = info.context

        def revoke() -> RevokeAccessTokenSuccess:
            member = member_service.require_account(context.member)
            token_id = decode(input.id, type_name="AccessToken")
            record = accounts.revoke_access_token(
                session=context.session, member=member, token_id=token_id
            )
            return RevokeAccessTokenSuccess(access_token=AccessToken.from_model(record))

        return errors.outcome(revoke)
