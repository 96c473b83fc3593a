"""Remove an erased member's email and name from every stored text, whatever holds it.

The columns come from the metadata, not from a list: every column whose SQL type stores text
(``String``, ``Text``, SQLModel's ``AutoString`` and other type decorators over them, ``Enum``),
JSON, and binary blobs (an uploaded members file) is searched, so a table added later is
covered without anyone remembering to add it here. What is found is replaced by a neutral
phrase ("a former member"), so other members keep their notifications, emails and notes
without the name in them. Only the append-only audit log (``audit_event``, ids and non-personal
details only) and Alembic's own table are left alone.

What counts as the member:

- the email address and the full name, in any letter case, anywhere in a text;
- each part of the name (three letters or more) as a whole word, written as in the name, in
  capitals or capitalised, unless it is part of the name of another member, an organisation
  or a skill ("Priya" goes from "Thanks Priya!" but "Priya Patel" keeps hers).

A name part in lower case ("thanks priya") is not replaced: names of one word are often common
words ("Will", "May"), and other members' texts would lose them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, String, Table, Text, cast, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Session, col

REPLACEMENT = "a former member"
# Append-only (another part of the system writes ids and non-personal details there only) and
# Alembic's bookkeeping.
SKIP_TABLES = frozenset({"audit_event", "alembic_version"})
# Names that are someone else's even when they contain the member's (the erased member's own
# row is deleted; another "Priya Okonkwo-Smith" keeps her name), and shared organisation names.
SKIP_COLUMNS = frozenset(
    {("member", "name"), ("member", "email"), ("organisation", "name"), ("organisation", "key")}
)
MIN_PART = 3
_SENTENCE_END = (".", "!", "?", ":")


@dataclass(frozen=True)
class Person:
    """Who is being erased: the email and the name as the member gave them."""

    email: str
    name: str

    @property
    def parts(self) -> tuple[str, ...]:
        """The words of the name long enough to look for on their own."""
        words = [w.strip(".,;:()\"'") for w in self.name.split()]
        unique = dict.fromkeys(w for w in words if len(w) >= MIN_PART)
        return tuple(unique) if len(unique) > 1 else ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Everything whose presence (in any case) makes a text worth a closer look."""
        whole = [t for t in (self.email.strip(), self.name.strip()) if len(t) >= MIN_PART]
        return tuple(dict.fromkeys([*whole, *self.parts]))


@dataclass
class Scrubber:
    """Rewrites texts so that they no longer name ``person``; ``protected`` names are kept."""

    person: Person
    protected: tuple[str, ...] = ()

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """One expression: the whole email and name, then protected names, then name parts."""
        whole = [re.escape(t) for t in (self.person.email.strip(), self.person.name.strip())]
        whole = [t for t in whole if len(t) >= MIN_PART]
        if not whole:
            return None
        alternatives = [f"(?i:{'|'.join(sorted(whole, key=len, reverse=True))})"]
        if self.person.parts:
            keep = sorted(set(self.protected), key=len, reverse=True)
            if keep:
                alternatives.append(f"(?P<keep>(?i:{'|'.join(re.escape(k) for k in keep)}))")
            forms = {
                form for part in self.person.parts for form in (part, part.upper(), part.title())
            }
            ordered = sorted(forms, key=len, reverse=True)
            alternatives.append(rf"\b(?:{'|'.join(re.escape(f) for f in ordered)})\b")
        return re.compile("|".join(alternatives))

    def _replace(self, match: re.Match[str]) -> str:
        if match.groupdict().get("keep"):
            return match.group(0)
        before = match.string[: match.start()].rstrip()
        if not before or before.endswith(_SENTENCE_END):
            return REPLACEMENT[:1].upper() + REPLACEMENT[1:]
        return REPLACEMENT

    def text(self, value: str) -> str:
        """``value`` without the person in it."""
        if self.pattern is None:
            return value
        return self.pattern.sub(self._replace, value)

    def names(self, value: str) -> bool:
        """Whether ``value`` names the person (as ``text`` would change it)."""
        return self.text(value) != value

    def any(self, value: Any) -> Any:
        """A text, JSON value (lists and objects, recursively) or blob without the person."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape"
            )
        if isinstance(value, list):
            return [self.any(v) for v in value]
        if isinstance(value, dict):
            return {k: self.any(v) for k, v in value.items()}
        return value


def _kind(column_type: TypeEngine[Any]) -> str | None:
    if isinstance(column_type, TypeDecorator):
        return _kind(column_type.impl_instance)
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, String):  # Text, Unicode, Enum, AutoString's impl...
        return "text"
    if isinstance(column_type, LargeBinary):
        return "bytes"
    return None


def scrubbed_columns(tables: Iterable[Table]) -> Iterator[tuple[Table, Column[Any], str]]:
    """Each (table, column, kind) that can hold a person's name: every text, JSON or binary
    column that is neither a key nor a reference, outside the skipped tables."""
    for table in tables:
        if table.name in SKIP_TABLES or not table.primary_key.columns:
            continue
        for column in table.columns:
            kind = _kind(column.type)
            if kind is None or column.primary_key or column.foreign_keys:
                continue
            if (table.name, column.name) in SKIP_COLUMNS:
                continue
            yield table, column, kind


def _candidates(column: Column[Any], kind: str, terms: tuple[str, ...]) -> Any:
    """A condition true (at least) for the rows whose ``column`` may hold one of ``terms``."""
    if kind == "bytes":
        return column.is_not(None)
    searched: Any = cast(column, Text) if kind == "json" else column
    # lower() folds only ASCII on SQLite: the terms are also looked for as written.
    return or_(
        *(func.lower(searched).contains(t.lower(), autoescape=True) for t in terms),
        *(searched.contains(t, autoescape=True) for t in terms),
    )


def protected_names(session: Session, person: Person) -> tuple[str, ...]:
    """Names of others (members, organisations, skills) that contain a part of the person's
    name: those stay whole when the part is replaced."""
    from backend.members.models import Member
    from backend.organisations.models import Organisation
    from backend.skills.models import Skill

    if not person.parts:
        return ()
    found: set[str] = set()
    for name_column in (col(Member.name), col(Organisation.name), col(Skill.name)):
        rows = session.execute(
            sa_select(name_column).where(
                or_(
                    *(
                        func.lower(name_column).contains(p.lower(), autoescape=True)
                        for p in person.parts
                    )
                )
            )
        ).scalars()
        found.update(n for n in rows if n and n.strip().lower() != person.name.strip().lower())
    return tuple(sorted(found))


def scrub_tables(
    session: Session, scrubber: Scrubber, tables: Iterable[Table]
) -> dict[tuple[str, str], int]:
    """Rewrite every cell of ``tables`` that names the person; the count changed per column.

    One read per table (the rows where any of its columns may name the person), then one
    update per row that changed.
    """
    changed: dict[tuple[str, str], int] = {}
    terms = scrubber.person.terms
    if not terms:
        return changed
    by_table: dict[str, tuple[Table, list[tuple[Column[Any], str]]]] = {}
    for table, column, kind in scrubbed_columns(tables):
        by_table.setdefault(table.name, (table, []))[1].append((column, kind))
    for table, columns in by_table.values():
        keys = list(table.primary_key.columns)
        condition = or_(*(_candidates(column, kind, terms) for column, kind in columns))
        rows = session.execute(sa_select(*keys, *(c for c, _ in columns)).where(condition))
        for row in rows.all():
            key, values = row[: len(keys)], row[len(keys) :]
            update: dict[str, Any] = {}
            for (column, _kind), value in zip(columns, values, strict=True):
                new = scrubber.any(value)
                if new == value:
                    continue
                length = getattr(column.type, "length", None)
                if isinstance(new, str) and length and len(new) > length:
                    new = new[:length]
                update[column.name] = new
                changed[(table.name, column.name)] = changed.get((table.name, column.name), 0) + 1
            if update:
                where = [k == v for k, v in zip(keys, key, strict=True)]
                session.execute(table.update().where(*where).values(update))
    return changed


def optimise_search_index(session: Session) -> None:
    """Merge SQLite's full-text index so deleted members' words leave it at once.

    FTS5 records a deletion as a marker beside the old entry until segments merge; ``optimize``
    merges them all. PostgreSQL's ``member_fts_document`` row goes with the member (cascade).
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    from sqlalchemy import inspect, text

    if "member_fts" in inspect(session.connection()).get_table_names():
        session.execute(text("INSERT INTO member_fts(member_fts) VALUES('optimize')"))
