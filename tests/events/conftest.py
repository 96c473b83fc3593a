"""The page tests here use the page tests' client and session (tests/web/conftest.py); the
GraphQL tests the schema tests' ``run`` and statement counter (tests/schema/conftest.py)."""

from tests.schema.conftest import count_queries, run
from tests.web.conftest import client, session

__all__ = ["client", "count_queries", "run", "session"]
