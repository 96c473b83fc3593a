"""Messaging tests reuse the GraphQL runner, the statement counter and the page client, with
the non-blocking session (see tests/web/conftest.py)."""

from __future__ import annotations

from tests.schema.conftest import count_queries, run  # noqa: F401 - fixtures
from tests.web.conftest import client, session  # noqa: F401 - fixtures
