"""Background work, run by ``peerbridge worker`` (or in-process with SQLite)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from backend.db import session_scope
from backend.notifications import service as notifications

log = logging.getLogger("peerbridge.jobs")


def run_once(engine: Engine | None = None) -> dict[str, int]:
    """One pass over every kind of due work; returns what was done.

    Each step claims its rows with conditional updates, so several workers can run at once.
    Emails go last so that what the other steps queued leaves in the same pass.
    """
    from backend.mentoring import service as mentoring

    done: dict[str, int] = {}
    with session_scope(engine) as session:
        done["requests_expired"] = mentoring.expire_requests(session=session)
        done["mentors_nudged"] = mentoring.nudge_mentors(session=session)
        done["digests_sent"] = notifications.send_digests(session=session)
        done["emails_sent"] = notifications.deliver_pending(session=session)
    return done


class InProcessRunner:
    """Runs ``run_once`` every few seconds in a daemon thread (the embedded SQLite default)."""

    def __init__(self, engine: Engine, interval: float) -> None:
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
