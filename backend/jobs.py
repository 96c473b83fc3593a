"""Background work, run by ``peerbridge worker`` (or in-process with SQLite)."""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from backend import observability, periodic
from backend.db import session_scope
from backend.notifications import service as notifications
from backend.settings import get_settings

log = logging.getLogger("peerbridge.jobs")
QUEUE_NAME = "peerbridge"  # the default of PEERBRIDGE_QUEUE_NAME


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_queue():
    """The RQ queue on the configured Redis."""
    from redis import Redis
    from rq import Queue

    url = get_settings().redis_url
    if url is None:
        raise RuntimeError("no Redis is configured (PEERBRIDGE_REDIS_URL), so there is no queue")
    return Queue(get_settings().queue_name, connection=Redis.from_url(url))


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
        with observability.observe_job(observability.job_name(function.__name__)) as run:
            if function(*args, engine=engine) == "failed":
                run.outcome = "failed"
    except Exception:
        log.exception("background job %s failed", function.__name__)


@contextmanager
def heartbeat(beat: Callable[[], None], every: float | None = None) -> Iterator[None]:
    """Call ``beat`` every ``every`` seconds (the setting by default) while the block runs.

    A job's progress callbacks also beat, but a long step (the solver) may give none for a
    while; this keeps the heartbeat going, so only a dead job stops beating.
    """
    interval = every or get_settings().job_heartbeat_seconds
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                beat()
            except Exception:  # a missed beat is logged; the next one may well succeed
                log.exception("heartbeat failed")

    thread = threading.Thread(target=loop, name="job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


# Steps that read every active mentorship, or work by the month: run once per scan interval
# (``backend/periodic.py``), not on every pass.
SCANS = frozenset({"check_ins_sent", "quiet_pairs_nudged", "peer_pairs"})


@observability.timed_job("periodic")
def run_once(engine: Engine | None = None) -> dict[str, int]:
    """One pass over every kind of due work; returns what was done.

    Each step claims its rows with conditional updates, so several workers can run at once,
    and each is its own unit of work: a step that fails is rolled back and logged (counted in
    ``steps_failed``) and the others still run, so one bad row never holds up the rest. Emails
    go last so that what the other steps queued leaves in the same pass. The ``SCANS`` run
    at most once per ``PEERBRIDGE_SCAN_INTERVAL_SECONDS`` (5 minutes), by whichever worker
    claims them.
    """
    from backend.accounts import service as accounts
    from backend.accounts import sso
    from backend.community import peer_connect
    from backend.events import service as events
    from backend.members import importing
    from backend.mentoring import bookings, check_ins, health
    from backend.mentoring import service as mentoring
    from backend.opportunities import service as opportunities
    from backend.programmes import pairing
    from backend.rounds import service as rounds
    from backend.surveys import service as surveys

    steps: list[tuple[str, Callable[..., int]]] = [
        ("rounds_stalled", rounds.fail_stalled_rounds),
        ("imports_stalled", importing.fail_stalled_imports),
        ("programmes_ended", pairing.end_programmes),
        # After the programmes' end, so the end survey of a programme just ended goes out now.
        ("survey_invitations", surveys.send_due_invitations),
        ("requests_expired", mentoring.expire_requests),
        ("offers_expired", rounds.expire_offers),
        ("offers_reoffered", rounds.reoffer_pending),
        ("mentors_nudged", mentoring.nudge_mentors),
        ("session_reminders", bookings.send_reminders),
        ("opportunity_reminders", opportunities.send_closing_reminders),
        ("event_reminders", events.send_reminders),
        ("check_ins_sent", check_ins.create_due),
        ("quiet_pairs_nudged", health.nudge_quiet),
        ("peer_pairs", peer_connect.run_if_due),
        ("digests_sent", notifications.send_digests),
        ("sessions_purged", accounts.purge_stale_sessions),
        ("sso_sign_ins_purged", sso.purge_stale_sign_ins),
        ("emails_sent", notifications.deliver_pending),
    ]
    every = timedelta(seconds=get_settings().scan_interval_seconds)
    done: dict[str, int] = {"steps_failed": 0}
    for name, step in steps:
        try:
            with session_scope(engine) as session:
                if name in SCANS and not periodic.claim(session=session, name=name, every=every):
                    done[name] = 0  # ran within the scan interval (here or on another worker)
                    continue
                done[name] = step(session=session)
        except Exception:
            log.exception("periodic step %s failed; the other steps go on", name)
            done[name] = 0
            done["steps_failed"] += 1
    return done


# Modules the queued jobs use, imported once by ``peerbridge worker`` before it starts forking,
# so each work horse starts warm instead of importing pandas and scikit-learn again.
JOB_MODULES = ("backend.rounds.service", "matching.rounds", "backend.members.importing")


def preload() -> None:
    """Import every job's module now (in the worker, before the first fork)."""
    for module in JOB_MODULES:
        importlib.import_module(module)


def periodic_loop(interval: float, parent_pid: int | None = None) -> None:
    """Run ``run_once`` every ``interval`` seconds, until the parent process (if any) is gone."""
    while parent_pid is None or os.getppid() == parent_pid:
        try:
            run_once()
        except Exception:  # keep the loop alive; the error is logged and retried
            log.exception("background pass failed")
        threading.Event().wait(interval)


def start_periodic_process(interval: float) -> multiprocessing.process.BaseProcess:
    """Run the periodic pass in a process of its own, started fresh (spawn, not fork).

    RQ's worker forks a work horse per job. A fork copies only the forking thread, so any lock
    another thread held at that moment (an import, a connection, the pool) stays locked for
    ever in the child: the job hangs before it starts. Keeping the periodic pass out of the
    forking process means the worker has no threads of ours to copy.
    """
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=periodic_loop,
        args=(interval, os.getpid()),
        name="peerbridge-periodic",
        daemon=True,
    )
    process.start()
    return process


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
