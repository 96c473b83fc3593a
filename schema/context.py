"""The per-request context: database session, signed-in member, loaders, settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from backend.accounts import cookies
from backend.accounts import service as accounts
from backend.members.models import Member
from backend.settings import Settings
from schema.dataloaders import Loaders, make_loaders


@dataclass
class Context:
    """What every resolver may use; built once per operation."""

    session: Session
    settings: Settings
    request: Request | None = None
    response: Response = field(default_factory=Response)
    member: Member | None = None
    session_token: str | None = None
    auth: str = "none"  # "cookie", "token" or "none": how ``member`` was recognised
    request_id: str = ""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = make_loaders(self.session, lambda: self.member)

    @property
    def job_engine(self) -> Engine | None:
        """The engine a background job started here should use: the app's, or, without HTTP
        (``schema.execute`` in tests), the session's own."""
        if self.request is not None:
            return self.request.app.state.engine
        bind = self.session.get_bind()
        return bind if isinstance(bind, Engine) else None

    def reset_loaders(self) -> None:
        """Forget what the loaders have cached (after a mutation changes the data)."""
        self.loaders = make_loaders(self.session, lambda: self.member)

    @property
    def client_address(self) -> str | None:
        """The client's IP address, for rate limits (None outside HTTP)."""
        client = self.request.client if self.request else None
        return client.host if client else None

    @property
    def user_agent(self) -> str:
        """The client's User-Agent, for the session record."""
        return self.request.headers.get("user-agent", "") if self.request else ""


Info = StrawberryInfo[Context, None]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def context_for_request(
    request: Request, *, session: Session, settings: Settings, response: Response
) -> Context:
    """Recognise the caller (bearer token first, then the session cookie) and build a Context."""
    context = Context(
        session=session,
        settings=settings,
        request=request,
        response=response,
        request_id=getattr(request.state, "request_id", ""),
    )
    token = bearer_token(request)
    if token is not None:
        # A bad token never falls back to the cookie: the client asked for token auth.
        context.member = accounts.member_for_access_token(session=session, secret=token)
        context.auth = "token" if context.member else "none"
        return context
    cookie = cookies.read_token(request)
    # Defence in depth: browsers mark cross-site requests; never let them ride on the cookie.
    if cookie and request.headers.get("sec-fetch-site", "") != "cross-site":
        accounts.touch_session(engine=request.app.state.engine, token=cookie)
        record = accounts.session_for_token(session=session, token=cookie)
        member = accounts.member_for_session(session=session, record=record)
        if record is not None:
            context.session_token = cookie
        if member is not None:
            context.member = member
            context.auth = "cookie"
    return context
