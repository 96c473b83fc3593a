"""Alembic environment: runs against the connection the app hands over, or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import backend.models  # noqa: F401 - registers every table
from backend.migrate import include_name
from backend.models import metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only change tables by copying them
        compare_type=True,
        include_name=include_name,  # leaves the hand-written search structures alone
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from backend.settings import get_settings

        config.set_main_option("sqlalchemy.url", get_settings().database_url)
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
