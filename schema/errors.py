"""Expected failures as GraphQL types: the one place where domain errors are translated.

Mutations return a union of a success type and these error types (all implement ``Error``);
queries raise, and the error reaches the client in ``errors`` with ``extensions.code``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar, get_args, overload

import strawberry
from graphql import GraphQLError
from strawberry.types.union import StrawberryUnion

from backend import errors as domain
from backend.accounts.two_factor import SecondFactorRequired
from backend.mentoring import service as mentoring

log = logging.getLogger("peerbridge.graphql")
T = TypeVar("T")


@strawberry.interface(description="Something the client can fix or explain to the person.")
class Error:
    message: str


@strawberry.type(description="A field and what is wrong with it.")
class FieldError:
    field: str = strawberry.field(description="The input field, in camelCase.")
    message: str


@strawberry.type(description="The input is wrong; `errors` names every field at fault.")
class InvalidInput(Error):
    field: str | None = strawberry.field(description="The first field at fault, in camelCase.")
    errors: list[FieldError]


@strawberry.type(description="Log in first.")
class NotAuthenticated(Error):
    pass


@strawberry.type(description="You are signed in but may not do this.")
class NotAllowed(Error):
    pass


@strawberry.type(description="The thing does not exist, or you may not know that it exists.")
class NotFound(Error):
    pass


@strawberry.type(description="The change clashes with the current state (a duplicate, a race).")
class Conflict(Error):
    field: str | None


@strawberry.type(description="Too many attempts; try again after `retryAfter` seconds.")
class RateLimited(Error):
    retry_after: int


@strawberry.type(description="The mentor has no free place: every place is taken.")
class CapacityReached(Error):
    pass


@strawberry.type(description="You already have an open request to this mentor.")
class DuplicateRequest(Error):
    pass


@strawberry.type(description="You have the most open requests allowed at once (3).")
class TooManyOpenRequests(Error):
    pass


# What any mutation can answer instead of its success: a member of every result union.
Problem = InvalidInput | NotAuthenticated | NotAllowed | NotFound | Conflict | RateLimited
ERROR_TYPES: tuple[type, ...] = get_args(Problem)

# What a mentor request's mutations can meet besides a Problem (SPECIFIC_CONFLICTS' types).
RequestProblem = CapacityReached | DuplicateRequest | TooManyOpenRequests
REQUEST_ERRORS: tuple[type[RequestProblem], ...] = get_args(RequestProblem)

# Conflicts with a type of their own; a payload offers them where its mutation can meet them.
SPECIFIC_CONFLICTS: dict[type[domain.DomainError], type[RequestProblem]] = {
    mentoring.CapacityReached: CapacityReached,
    mentoring.DuplicateRequest: DuplicateRequest,
    mentoring.TooManyOpenRequests: TooManyOpenRequests,
}

# GraphQL error codes for failures raised outside a mutation payload (queries, limits).
# Subclasses come before their base class: the first match wins.
CODES: dict[type[domain.DomainError], str] = {
    mentoring.CapacityReached: "CAPACITY_REACHED",
    mentoring.DuplicateRequest: "DUPLICATE_REQUEST",
    mentoring.TooManyOpenRequests: "TOO_MANY_OPEN_REQUESTS",
    domain.NotAuthenticated: "NOT_AUTHENTICATED",
    SecondFactorRequired: "SECOND_FACTOR_REQUIRED",
    domain.NotVerified: "NOT_VERIFIED",
    domain.Forbidden: "NOT_ALLOWED",
    domain.NotFound: "NOT_FOUND",
    domain.Conflict: "CONFLICT",
    domain.Invalid: "INVALID_INPUT",
    domain.RateLimited: "RATE_LIMITED",
}


def camel(name: str) -> str:
    """``skills_sought`` -> ``skillsSought`` (service field names in the API's spelling)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def error_result(
    error: domain.DomainError, *, extra: tuple[type, ...] = ()
) -> Problem | RequestProblem:
    """The GraphQL error type for a domain error; specific conflicts only if in ``extra``."""
    specific = SPECIFIC_CONFLICTS.get(type(error))
    if specific is not None and specific in extra:
        return specific(message=error.message)
    if isinstance(error, domain.FieldErrors):
        fields = [FieldError(field=camel(f), message=m) for f, m in error.errors.items()]
        return InvalidInput(message=error.message, field=fields[0].field, errors=fields)
    if isinstance(error, domain.Invalid):
        field = camel(error.field) if error.field else None
        errors = [FieldError(field=field, message=error.message)] if field else []
        return InvalidInput(message=error.message, field=field, errors=errors)
    if isinstance(error, domain.NotAuthenticated):
        return NotAuthenticated(message=error.message)
    if isinstance(error, domain.Forbidden):
        return NotAllowed(message=error.message)
    if isinstance(error, domain.NotFound):
        return NotFound(message=error.message)
    if isinstance(error, domain.Conflict):
        return Conflict(message=error.message, field=camel(error.field) if error.field else None)
    if isinstance(error, domain.RateLimited):
        return RateLimited(message=error.message, retry_after=error.retry_after)
    raise TypeError(f"No GraphQL error type for {type(error).__name__}") from error


def invalid(field: str, message: str) -> InvalidInput:
    """An InvalidInput for one field (for checks made before a service is called)."""
    return InvalidInput(
        message=message, field=field, errors=[FieldError(field=field, message=message)]
    )


@overload
def outcome(call: Callable[[], T]) -> T | Problem: ...
@overload
def outcome(
    call: Callable[[], T], *, extra: tuple[type[RequestProblem], ...]
) -> T | Problem | RequestProblem: ...
def outcome(
    call: Callable[[], T], *, extra: tuple[type[RequestProblem], ...] = ()
) -> T | Problem | RequestProblem:
    """Run a service call; a domain error becomes its GraphQL error type (``extra`` allowed)."""
    try:
        return call()
    except domain.DomainError as error:
        return error_result(error, extra=extra)


def result_named(name: str, success: type) -> StrawberryUnion:
    """The GraphQL union of a mutation's result, declared as a type the checker sees too:
    ``<Name>Result = Annotated[<Name>Success | Problem, result_named("<Name>Result", ...)]``."""
    return strawberry.union(name, description=f"{success.__name__}, or what went wrong.")


def error_code(error: GraphQLError) -> str | None:
    """The ``extensions.code`` for an error raised from a resolver, if it is expected."""
    original = error.original_error
    for kind, code in CODES.items():
        if isinstance(original, kind):
            return code
    return None


def is_unexpected(error: GraphQLError) -> bool:
    """True for a bug (an exception no one planned for), which must be masked and logged."""
    original = error.original_error
    return original is not None and not isinstance(original, (domain.DomainError, GraphQLError))
