"""Schema changes through Alembic only: upgrade, and check models against migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from backend.models import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _migrating(engine: Engine) -> Iterator[Config]:
    """A configuration holding one connection in a transaction, for a migration to run in.

    SQLite changes a table by building a copy and dropping the original (batch mode). With
    foreign keys enforced, dropping the original fires its ON DELETE actions: rebuilding
    ``matching_round`` would empty ``match_proposal``. So, as SQLite's own documentation on
    altering tables says, enforcement is off while the migration runs (it can only be switched
    outside a transaction), and the foreign keys are checked before the transaction commits.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        driver = connection.connection.driver_connection
        assert driver is not None  # a checked-out connection holds its DBAPI connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                yield config
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` up to ``revision``."""
    with _migrating(engine) as config:
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind ``engine`` back to ``revision`` ("base": an empty database)."""
    with _migrating(engine) as config:
        command.downgrade(config, revision)


# Search structures written by hand in migrations (0005), which no model can describe: the
# SQLite FTS5 table (and its shadow tables) and PostgreSQL's GIN expression indexes.
UNMODELLED_TABLE_PREFIX = "member_fts"
UNMODELLED_INDEXES = frozenset({"ix_member_search", "ix_organisation_search"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """False for the hand-written search structures, so model comparison leaves them be."""
    if type_ == "table" and name and name.startswith(UNMODELLED_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name in UNMODELLED_INDEXES)


def pending_differences(engine: Engine) -> list[object]:
    """Differences between the models and the migrated database (empty when in sync)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True, "include_name": include_name},
        )
        return list(compare_metadata(context, metadata))
