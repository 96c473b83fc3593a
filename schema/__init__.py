"""The Strawberry GraphQL schema: thin types and resolvers over the backend services.

``schema.build.build_schema(settings)`` makes a schema; ``schema.http.router`` serves it at
/graphql. ``schema.schema`` is the schema for the configured settings (for
``python -c "from schema import schema; print(schema.as_str())"``).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "schema":
        from backend.settings import get_settings
        from schema.build import build_schema

        return build_schema(get_settings())
    raise AttributeError(name)
