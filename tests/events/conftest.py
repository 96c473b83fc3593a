"""The page tests here use the page tests' client and session (tests/web/conftest.py)."""

from tests.web.conftest import client, session

__all__ = ["client", "session"]
