"""Background work, run by ``peerbridge worker`` (or in-process with SQLite)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from backend.db import session_scope
from backend.notifications import service as notifications
from backend.settings import get_settings

log = logging.getLogger("peerbridge.jobs")
QUEUE_NAME = "peerbridge"


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_queue():  # type: ignore[no-untyped-def]
    """The RQ queue on the configured Redis."""
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(get_settings().redis_url))


def enqueue(path: str, *args: Any, engine: Engine | None = None) -> None:
    """Run ``path(*args)`` in the background: on an RQ worker with Redis, else in a thread.

    Jobs receive ids, never ORM objects, and open their own sessions, so they can be retried.
    """
    if get_settings().redis_url:
        redis_queue().enqueue(path, *args, job_timeout=3600, result_ttl=86400)
        return
    function = _resolve(path)
    thread = threading.Thread(
        target=_run_logged, args=(function, args, engine), name=f"job-{path}", daemon=True
    )
    thread.start()


def _run_logged(function: Callable[..., Any], args: tuple[Any, ...], engine: Engine | None) -> None:
    try:
        function(*args, engine=engine)
    except Exception:
        log.exception("background job %s failed", function.__name__)


def run_once(engine: Engine | None = None) -> dict[str, int]:
    """One pass over every kind of due work; returns what was done.

    Each step claims its rows with conditional updates, so several workers can run at once.
    Emails go last so that what the other steps queued leaves in the same pass.
    """
    from backend.accounts import service as accounts
    from backend.community import peer_connect
    from backend.mentoring import service as mentoring
    from backend.rounds import service as rounds

    done: dict[str, int] = {}
    with session_scope(engine) as session:
        done["requests_expired"] = mentoring.expire_requests(session=session)
        done["offers_expired"] = rounds.expire_offers(session=session)
        done["mentors_nudged"] = mentoring.nudge_mentors(session=session)
        done["peer_pairs"] = peer_connect.run_if_due(session=session)
        done["digests_sent"] = notifications.send_digests(session=session)
        done["sessions_purged"] = accounts.purge_stale_sessions(session=session)
        done["emails_sent"] = notifications.deliver_pending(session=session)
    return done


class InProcessRunner:
    """Runs ``run_once`` every few seconds in a daemon thread (the embedded SQLite default)."""

    def __init__(self, engine: Engine | None, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peerbridge-jobs", daemon=True)

    def start(self) -> None:
        """Start the loop."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to stop and wait briefly for it."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_once(self.engine)
            except Exception:  # keep the loop alive; the error is logged and retried
                log.exception("background pass failed")
            self._stop.wait(self.interval)
