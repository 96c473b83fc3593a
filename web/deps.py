"""What every page handler receives: the database session, the visitor's session, CSRF."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.responses import Response

from backend import text
from backend.accounts import cookies, csrf
from backend.accounts import service as accounts
from backend.accounts.models import UserSession
from backend.chapters import service as chapters
from backend.members import service as member_service
from backend.members.models import Member

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed if the page succeeds, else rolled back.

    Function-scoped, so this runs when the handler returns and BEFORE the response is sent
    (FastAPI's default scope would run it after): a commit that fails is an error page, never
    a redirect whose write was lost. Any exception, or a response of status 400 or more (a
    form shown again with its errors, see ``UnitOfWorkRoute``), rolls everything back. GET and
    HEAD start read-only (no write lock on SQLite); what they must write goes through
    ``backend.db.write_apart``.
    """
    factory = request.app.state.sessions
    kwargs: dict[str, Any] = {}
    if request.method in READ_ONLY_METHODS:
        kwargs["bind"] = request.app.state.engine.execution_options(read_only=True)
    with factory(**kwargs) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if getattr(request.state, "failed", False):
            session.rollback()
        else:
            session.commit()


DbSession = Annotated[Session, Depends(get_db, scope="function")]


class UnitOfWorkRoute(APIRoute):
    """A page route whose error responses (status >= 400) roll the request's writes back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, noting a failed response before ``get_db`` decides."""
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            response = await handler(request)
            if response.status_code >= 400:
                request.state.failed = True
            return response

        return route_handler


@dataclass
class Visitor:
    """The person behind a request: their server-side session and, if signed in, member."""

    request: Request
    db: Session
    record: UserSession | None
    token: str | None
    member: Member | None
    new_token: str | None = None  # set when a session was started for this request
    roles: list[str] = field(default_factory=list)
    csrf_seed: str | None = None  # anonymous visitors: the seed in their CSRF cookie
    new_csrf_seed: str | None = None  # set when this response must give them one

    @property
    def csrf_token(self) -> str:
        """The token every form on the page must send back (bound to the session, or seed)."""
        if self.record is not None:
            return self.record.csrf_token
        return csrf.token_for(self.csrf_seed) if self.csrf_seed else ""

    @property
    def is_organiser(self) -> bool:
        """True for organisers and admins."""
        return "organiser" in self.roles or "admin" in self.roles

    @cached_property
    def organises(self) -> bool:
        """True for anyone who organises the network or a chapter (``chapters.scope_of``):
        they see the organisers' links to the pages their scope lets them use."""
        if self.is_organiser:
            return True
        return chapters.scope_of(session=self.db, member=self.member).is_organiser

    def ensure_csrf_token(self) -> None:
        """Make sure forms can carry a CSRF token: an anonymous visitor gets a seed cookie.

        No session row is written for anonymous visitors; one starts at log-in or sign-up.
        """
        if self.record is None and self.csrf_seed is None:
            self.csrf_seed = self.new_csrf_seed = csrf.new_seed()

    def csrf_token_matches(self, sent: object) -> bool:
        """True when ``sent`` is this visitor's CSRF token."""
        if not isinstance(sent, str):
            return False
        if self.record is not None:
            return hmac.compare_digest(
                sent.encode("utf-8", "surrogatepass"), self.record.csrf_token.encode()
            )
        return csrf.token_matches(seed=self.csrf_seed, sent=sent)


def get_visitor(request: Request, db: DbSession) -> Visitor:
    """Who is asking, from the session cookie."""
    token = cookies.read_token(request)
    accounts.touch_session(engine=request.app.state.engine, token=token)
    record = accounts.session_for_token(session=db, token=token)
    member = accounts.member_for_session(session=db, record=record)
    roles = member_service.roles_of(session=db, member_id=member.id) if member else []
    return Visitor(
        request=request,
        db=db,
        record=record,
        token=token if record else None,
        member=member,
        roles=roles,
        csrf_seed=csrf.usable_seed(cookies.read_csrf_seed(request)),
    )


CurrentVisitor = Annotated[Visitor, Depends(get_visitor)]


MAX_FORM_BYTES = 1024 * 1024  # a page form is a few kilobytes; uploads have their own limit


class FormTooLarge(Exception):
    """The request body is larger than any form of this site needs."""


class FormNotUtf8(Exception):
    """The form's text is not UTF-8, so what was typed cannot be known for sure."""


class FormNotReadable(Exception):
    """A field holds characters no text field may hold (a lone surrogate, a control character)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class _StrictMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, refusing text fields that are not UTF-8.

    Starlette reads such a field as latin-1, which would store mojibake without a word.
    """

    def on_part_end(self) -> None:
        """Check a text field's bytes before Starlette decodes them."""
        if self._current_part.file is None:
            try:
                self._current_part.data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise FormNotUtf8 from error
        super().on_part_end()


async def _multipart(request: Request) -> FormData:
    charset = re.search(r"charset=\"?([^\";]+)", request.headers.get("content-type", ""), re.I)
    if charset and charset.group(1).strip().lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise FormNotUtf8
    parser = _StrictMultiPartParser(
        request.headers,
        request.stream(),
        max_files=1,
        max_fields=300,
        max_part_size=MAX_FORM_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise HTTPException(status_code=400, detail=error.message) from error
    request._form = form  # Starlette closes the uploaded files with the request
    return form


def _check_readable(form: FormData) -> None:
    for name, value in form.multi_items():
        problem = text.unreadable(name)
        if problem:
            raise FormNotReadable("name of a", problem)
        problem = text.unreadable(value) if isinstance(value, str) else None
        if problem:
            raise FormNotReadable(name, problem)


def _check_utf8(body: bytes) -> None:
    # Starlette would quietly turn bad bytes into replacement characters (or latin-1), and
    # that garbled text could be saved; refuse the form instead.
    for pair in body.split(b"&"):
        try:
            unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as error:
            raise FormNotUtf8 from error


async def get_form(request: Request) -> FormData:
    """The posted form (parsed once; Starlette caches it on the request).

    Every text field, multipart or not, must be UTF-8 and free of the characters no text field
    may hold (``backend.text.unreadable``); otherwise the form is refused before any view runs.
    """
    limit = MAX_FORM_BYTES
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        limit = request.app.state.settings.max_import_bytes + MAX_FORM_BYTES
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise FormTooLarge
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = await request.body()
        if len(body) > limit:
            raise FormTooLarge
        _check_utf8(body)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await _multipart(request)
    else:
        form = await request.form(max_files=1, max_fields=300, max_part_size=MAX_FORM_BYTES)
    _check_readable(form)
    return form


Form = Annotated[FormData, Depends(get_form)]


class CsrfFailed(Exception):
    """A state-changing request arrived without the session's CSRF token."""


def checked_visitor(visitor: CurrentVisitor, form: Form) -> Visitor:
    """The visitor, after checking the form's CSRF token against their session (or seed)."""
    if not visitor.csrf_token_matches(form.get("csrf_token")):
        raise CsrfFailed
    return visitor


CheckedVisitor = Annotated[Visitor, Depends(checked_visitor)]


def form_text(form: FormData, name: str, *, default: str = "") -> str:
    """A text field from the form ('' when missing or a file)."""
    value = form.get(name, default)
    return value if isinstance(value, str) else default


_DATE_PART = re.compile(r"[0-9]{1,4}")


def form_date(form: FormData, name: str, label: str) -> tuple[date | None, str | None]:
    """An NHS.UK date input's day, month and year boxes (``name-day`` ...) as a date: None
    with no problem when all are empty, None with a message naming ``label`` when they do not
    make a real date."""
    parts = [form_text(form, f"{name}-{part}").strip() for part in ("day", "month", "year")]
    if not any(parts):
        return None, None
    problem = f"The {label} date must be a real date, for example 31 3 2027 (or leave it empty)."
    if not all(_DATE_PART.fullmatch(p) for p in parts) or len(parts[2]) != 4:
        return None, problem
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), None
    except ValueError:
        return None, problem


def form_list(form: FormData, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes)."""
    return [value for value in form.getlist(name) if isinstance(value, str)]


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def form_int(form: FormData, name: str) -> int | str:
    """A whole-number field as an int; anything else is passed on as typed.

    The service's own check then explains the problem, so the message is written once.
    """
    text = form_text(form, name).strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else text


def form_flag(form: FormData, name: str) -> bool:
    """A single checkbox: ticked or not."""
    return form_text(form, name) == "yes"
