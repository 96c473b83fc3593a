"""With Redis configured, rounds are queued for ``peerbridge worker`` processes (RQ).

The tests with a real worker start ``peerbridge worker`` as a subprocess on this run's own
database and Redis database 3, as production does: the worker forks a work horse per job while
its own thread runs the periodic pass, which is where shared pooled connections broke rounds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlmodel import Session, select

from backend import jobs
from backend.db import get_engine, session_factory
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from backend.settings import get_settings
from tests.factories import make_member, make_organiser

REDIS_URL = "redis://127.0.0.1:6379/3"
# A queue of this run's own: runs on one machine (and one Redis) never take each other's jobs.
QUEUE = f"peerbridge-test-{uuid.uuid4().hex}"


@pytest.fixture
def redis_settings(engine, monkeypatch):
    try:
        Redis.from_url(REDIS_URL).ping()
    except RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.setenv("PEERBRIDGE_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("PEERBRIDGE_QUEUE_NAME", QUEUE)
    monkeypatch.setenv("PEERBRIDGE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    get_engine.cache_clear()
    queue = jobs.redis_queue()
    queue.empty()
    yield queue
    queue.empty()
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


class WorkerProcess:
    """A real ``peerbridge worker`` subprocess, its log kept for the failure message."""

    def __init__(self, engine_url: str, log_path: Path, extra_env: dict[str, str]) -> None:
        self.log_path = log_path
        env = {
            **os.environ,
            "PEERBRIDGE_DATABASE_URL": engine_url,
            "PEERBRIDGE_REDIS_URL": REDIS_URL,
            "PEERBRIDGE_QUEUE_NAME": QUEUE,
            "PEERBRIDGE_ENVIRONMENT": "test",
            "PEERBRIDGE_EMAIL_BACKEND": "file",
            **extra_env,
        }
        script = Path(sys.executable).with_name("peerbridge")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "backend.cli"]
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [*command, "worker", "--interval", "0.2"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a kill reaches the work horse too
        )

    def log(self) -> str:
        """What the worker printed."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL the worker and its work horse, as an out-of-memory kill or a lost host would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the worker (warm shutdown first)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def start_worker(engine, redis_settings, tmp_path, mail_dir) -> Iterator[object]:
    """Start real workers; every one is stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        worker = WorkerProcess(
            engine.url.render_as_string(hide_password=False),
            tmp_path / f"worker-{len(started)}.log",
            {"PEERBRIDGE_MAIL_DIR": str(mail_dir), **extra_env},
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _small_network(session: Session, mentors: int = 4, mentees: int = 8) -> object:
    organiser = make_organiser(session, band="8b")
    for number in range(mentors):
        make_member(session, band="8a", organisation=f"Elsewhere {number}", capacity=2)
    for _ in range(mentees):
        make_member(session, band="4", seeking_mentor=True)
    return organiser


def _wait_for(engine, round_ids: list[int], statuses: set[str], seconds: float) -> dict[int, str]:
    deadline = time.monotonic() + seconds
    while True:
        with session_factory(engine)() as reader:
            found = dict(
                reader.exec(
                    select(MatchingRound.id, MatchingRound.status).where(
                        MatchingRound.id.in_(round_ids)  # type: ignore[union-attr]
                    )
                ).all()
            )
        if all(status in statuses for status in found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_queued_round_is_run_by_an_rq_worker(session, redis_settings):
    from rq import SimpleWorker

    organiser = make_organiser(session, band="8b")
    make_member(session, band="8a", organisation="Elsewhere", capacity=1)
    make_member(session, band="4", seeking_mentor=True)
    matching_round = rounds.create_round(
        session=session, organiser=organiser, settings=rounds.RoundSettings(name="Queued")
    )
    session.commit()

    rounds.start_round(round_id=matching_round.id)

    assert redis_settings.count == 1
    assert session.get(MatchingRound, matching_round.id).status == "queued"
    session.rollback()
    SimpleWorker([redis_settings], connection=redis_settings.connection).work(burst=True)
    session.expire_all()
    finished = session.get(MatchingRound, matching_round.id)
    assert finished.status == "ready"
    assert rounds.summary_of(finished)["matched"] == 1


def test_rounds_queued_back_to_back_all_finish_on_a_real_worker(engine, session, start_worker):
    organiser = _small_network(session)
    round_ids = []
    for number in range(5):
        matching_round = rounds.create_round(
            session=session,
            organiser=organiser,
            settings=rounds.RoundSettings(name=f"Back to back {number}"),
        )
        round_ids.append(matching_round.id)
    session.commit()
    worker = start_worker()

    for round_id in round_ids:
        rounds.start_round(round_id=round_id)

    # Generous: the shared CI machine may be busy; the wait ends as soon as all are done.
    found = _wait_for(engine, round_ids, {"ready", "failed"}, seconds=240)
    assert found == dict.fromkeys(round_ids, "ready"), worker.log()
    with session_factory(engine)() as reader:
        for round_id in round_ids:
            proposals = reader.exec(
                select(MatchProposal).where(MatchProposal.round_id == round_id)
            ).all()
            assert len(proposals) == 8  # one per mentee: matched or unmatched with reasons


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_a_round_whose_worker_is_killed_is_marked_failed_and_runs_again_once(
    engine, session, start_worker
):
    organiser = _small_network(session, mentors=40, mentees=80)
    matching_round = rounds.create_round(
        session=session, organiser=organiser, settings=rounds.RoundSettings(name="Killed")
    )
    round_id = matching_round.id
    session.commit()
    fast = {"PEERBRIDGE_JOB_HEARTBEAT_SECONDS": "0.5", "PEERBRIDGE_JOB_STALE_SECONDS": "4"}
    first = start_worker(**fast)

    rounds.start_round(round_id=round_id)
    assert _wait_for(engine, [round_id], {"running", "ready"}, 240)[round_id] == "running"
    # Freeze the worker and its work horse at once, then kill them: mid-round, for certain.
    victims = [first.process.pid, *_descendants(first.process.pid)]
    for pid in victims:
        os.kill(pid, signal.SIGSTOP)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    with session_factory(engine)() as reader:
        assert reader.get(MatchingRound, round_id).status == "running"

    second = start_worker(**fast)  # its periodic pass notices the silence
    assert _wait_for(engine, [round_id], {"failed"}, 240)[round_id] == "failed", second.log()
    with session_factory(engine)() as reader:
        stopped = reader.get(MatchingRound, round_id)
        assert stopped.error.startswith("The worker running this round stopped (no heartbeat")
        assert stopped.error.endswith("Run it again.")
        assert stopped.attempts == 1

    rounds.retry_round(session=session, organiser=organiser, round_id=round_id)
    session.commit()
    rounds.start_round(round_id=round_id)

    assert _wait_for(engine, [round_id], {"ready"}, 240)[round_id] == "ready", second.log()
    with session_factory(engine)() as reader:
        finished = reader.get(MatchingRound, round_id)
        mentees = reader.exec(
            select(MatchProposal.mentee_id).where(MatchProposal.round_id == round_id)
        ).all()
    assert finished.attempts == 2
    assert len(mentees) == 80 and len(set(mentees)) == 80  # exactly one set of proposals
    assert rounds.summary_of(finished)["mentees"] == 80
