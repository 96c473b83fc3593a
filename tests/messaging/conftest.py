"""Messaging tests reuse the GraphQL runner and the statement counter."""

from __future__ import annotations

from tests.schema.conftest import count_queries, run  # noqa: F401 - fixtures
