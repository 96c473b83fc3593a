"""Organisations are created once, however many sign-ups name a new one at the same moment."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from backend.db import session_factory
from backend.errors import FieldErrors, Invalid
from backend.organisations import service as organisations
from backend.organisations.models import Organisation

THREADS = 12


@pytest.mark.parametrize("attempt", range(3))
def test_parallel_creations_of_one_new_organisation_give_one_row_and_no_error(
    engine, session, attempt
):
    session.rollback()
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    ids: set[int] = set()
    lock = threading.Lock()

    def create(spelling: str) -> None:
        with session_factory(engine)() as own:
            barrier.wait()
            try:
                found = organisations.get_or_create(session=own, name=spelling)
                own.commit()
                with lock:
                    ids.add(found.id)  # type: ignore[arg-type]
                    outcomes["ok"] += 1
            except Exception as error:  # any error at all is the bug
                with lock:
                    outcomes[f"{type(error).__name__}: {error}"[:200]] += 1

    spellings = [f"New  Trust {attempt}", f"new trust {attempt}", f"NEW TRUST {attempt}"]
    threads = [threading.Thread(target=create, args=(spellings[i % 3],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == Counter({"ok": THREADS})
    rows = session.exec(select(Organisation)).all()
    assert [(row.name, row.key) for row in rows] == [
        (row.name, f"new trust {attempt}") for row in rows
    ]
    assert len(rows) == 1 and ids == {rows[0].id}


def test_an_existing_organisation_is_found_whatever_its_spelling(session):
    first = organisations.get_or_create(session=session, name="Leeds Teaching Hospitals")
    session.commit()

    again = organisations.get_or_create(session=session, name="  leeds   TEACHING hospitals ")

    assert again.id == first.id and again.name == "Leeds Teaching Hospitals"


@pytest.mark.parametrize("name", ["", "O" * 201, "Leeds\x00Trust", "a\ud800b"])
def test_bad_names_are_refused_and_nothing_is_written(session, name):
    with pytest.raises(Invalid) as refused:
        organisations.get_or_create(session=session, name=name)
    assert refused.value.field == "organisation" or isinstance(refused.value, FieldErrors)
    session.rollback()
    assert session.exec(select(Organisation)).all() == []
