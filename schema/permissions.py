"""Permission classes for protected fields; each asks a backend service for the rule."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from backend.errors import NotAuthenticated
from backend.members import service as member_service
from schema.context import Info


class IsAuthenticated(BasePermission):
    """The caller must be signed in (by session cookie or access token), confirmed or not:
    the services refuse an unconfirmed account all but its own profile and account."""

    message = "Log in to do this."
    error_extensions = {"code": "NOT_AUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True when a member is signed in."""
        try:
            member_service.require_account(info.context.member)
        except NotAuthenticated:
            return False
        return True


class CanSeeContact(BasePermission):
    """The member's contact details (email, organisation) are visible to the caller."""

    message = "This member does not share contact details."
    error_extensions = {"code": "NOT_ALLOWED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """Ask the members service, which knows the member's contact visibility."""
        return member_service.can_see_contact(member=source.model, viewer=info.context.member)


class CanSeeAccount(BasePermission):
    """Account details (settings, verification, tokens) are visible to the member only."""

    message = "Only the member can see this."
    error_extensions = {"code": "NOT_ALLOWED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """Ask the members service whether the caller is this member."""
        return member_service.can_see_account(member=source.model, viewer=info.context.member)
