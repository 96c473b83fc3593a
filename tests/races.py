"""Racing requests in tests: each job in its own thread and database session, all released at
once by a barrier; the outcomes counted by name."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from backend.db import session_factory
from backend.errors import DomainError


def race(engine, session, jobs: list[Callable]) -> Counter:
    """Run each job in its own thread and database session, all released at once.

    Counts ``"ok"`` (the job's session committed), the name of a ``DomainError`` it raised
    (``"Conflict"``, ...), or ``"unexpected <type>: <message>"`` for anything else (a bug the
    test must show).
    """
    # The test's own session must hold no transaction (SQLite locks the file for it), and
    # what it set up must be committed. Jobs must capture plain ids beforehand: touching an
    # expired ORM object in a thread would quietly use this session from there.
    session.commit()
    session.expire_all()  # what the test reads afterwards comes from the database
    barrier = threading.Barrier(len(jobs))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(job: Callable) -> None:
        with session_factory(engine)() as own:
            barrier.wait()
            try:
                job(own)
                own.commit()  # each job is one unit of work, like a request
                outcome = "ok"
            except DomainError as error:
                outcome = type(error).__name__
            except Exception as error:  # anything else is a bug the test must show
                outcome = f"unexpected {type(error).__name__}: {error}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
