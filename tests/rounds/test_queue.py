"""With Redis configured, a round is queued for a worker process (RQ) instead of a thread."""

from __future__ import annotations

import pytest
from redis import Redis
from redis.exceptions import RedisError

from backend import jobs
from backend.db import get_engine
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound
from backend.settings import get_settings
from tests.factories import make_member, make_organiser

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_settings(engine, monkeypatch):
    try:
        Redis.from_url(REDIS_URL).ping()
    except RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    monkeypatch.setenv("PEERBRIDGE_REDIS_URL", REDIS_URL)
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


def test_a_queued_round_is_run_by_an_rq_worker(session, redis_settings):
    from rq import SimpleWorker

    organiser = make_organiser(session, band="8b")
    make_member(session, band="8a", organisation="Elsewhere", capacity=1)
    make_member(session, band="4", seeking_mentor=True)
    matching_round = rounds.create_round(session=session, organiser=organiser, name="Queued")
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
