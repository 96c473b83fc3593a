"""Reuse the GraphQL runner and the page client, with the non-blocking session.

The page tests drive the app while the test reads through its own session; on SQLite that
session must never hold the write lock between requests (see tests/web/conftest.py).
"""

from __future__ import annotations

from tests.schema.conftest import count_queries, run  # noqa: F401 - fixtures
from tests.web.conftest import client, session  # noqa: F401 - fixtures
