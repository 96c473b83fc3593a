"""Reuse the GraphQL runner and the page client, with the non-blocking session."""

from __future__ import annotations

from tests.schema.conftest import run  # noqa: F401 - fixtures
from tests.web.conftest import client, session  # noqa: F401 - fixtures
