"""Domain exceptions. Services raise these; each surface translates them once."""

from __future__ import annotations


class DomainError(Exception):
    """A failure the user can understand and act on."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing asked for does not exist, or the caller may not know it exists."""

    code = "not_found"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"


class NotVerified(Forbidden):
    """Signed in, but the email address is not confirmed yet: only their own profile and
    account until it is."""

    code = "not_verified"


class NotAuthenticated(DomainError):
    """The caller must sign in first."""

    code = "not_authenticated"


class Conflict(DomainError):
    """The change clashes with the current state (a duplicate, a race lost)."""

    code = "conflict"


class Invalid(DomainError):
    """The input is wrong; ``field`` names where."""

    code = "invalid"


class FieldErrors(Invalid):
    """Several fields are wrong at once (a form): ``errors`` maps field to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next may succeed."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
