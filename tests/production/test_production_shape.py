"""The production shape as real processes, small: PostgreSQL, Redis, ``peerbridge serve
--workers 2`` and ``peerbridge worker`` on a 300-member demo network (bench/production_shape.py
is the full-size run, with the tables in docs/operations.md).

Skipped only when PEERBRIDGE_TEST_DATABASE_URL is not set or PostgreSQL or Redis do not answer
(CI has both).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from bench.production_shape import (
    Api,
    GraphQLFailure,
    Shape,
    Workload,
    _ids_of,
    _members,
    compare_writes,
    count_rows,
    create_round,
    proposals_check,
    scenario_kill_worker,
    scenario_smtp,
    wait_for_round,
)

PG_URL = os.environ.get("PEERBRIDGE_TEST_DATABASE_URL")
pytestmark = pytest.mark.timeout(900)


def _skip_unless_services() -> None:
    if not PG_URL:
        pytest.skip("PEERBRIDGE_TEST_DATABASE_URL is not set")
    try:
        probe = create_engine(PG_URL)
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as error:
        pytest.skip(f"PostgreSQL does not answer: {error}")
    try:
        from redis import Redis

        Redis.from_url("redis://127.0.0.1:6379/5", socket_connect_timeout=1).ping()
    except Exception as error:
        pytest.skip(f"Redis does not answer on 127.0.0.1:6379: {error}")


@pytest.fixture(scope="module")
def shape() -> Iterator[Shape]:
    """The whole shape up for this module's tests, torn down (database dropped) after."""
    _skip_unless_services()
    assert PG_URL is not None
    # A round whose worker dies is marked failed after 5 s without a heartbeat (120 s by default).
    heartbeat = {"PEERBRIDGE_JOB_HEARTBEAT_SECONDS": "1", "PEERBRIDGE_JOB_STALE_SECONDS": "5"}
    with Shape(
        members=300, web_workers=2, admin_url=PG_URL, heartbeat_env=heartbeat, verbose=False
    ).running() as running:
        yield running


def test_a_round_reaches_ready_through_the_worker(shape: Shape):
    api = shape.organiser()
    try:
        round_id = create_round(api, "CI round", seed=1)
        run = wait_for_round(api, round_id, timeout=180)
    finally:
        api.close()

    assert run.status == "READY", (run.seen, run.error, shape.log_lines("worker", "rror"))
    total, distinct, mentees = proposals_check(shape, round_id)
    assert mentees > 100
    assert total == distinct == mentees
    assert run.matched and run.matched > 0.8 * mentees


def test_hung_smtp_then_a_real_one_delivers_every_email_once_and_log_in_never_waits(
    shape: Shape,
):
    run = scenario_smtp(shape, emails=8, hang_seconds=5, before_seconds=2, deliver_timeout=90)

    assert run.hung_connections > 0, "the outbox never tried the hung server"
    assert run.missing == 0, run
    assert run.duplicated == 0, run
    assert run.delivered_once == 8
    assert run.login_during, "no log-in completed while SMTP hung"
    # A log-in that waited on the hung SMTP server would take its whole timeout (3 s).
    assert max(run.login_during) < 3.0, run.login_during


def _burst(shape: Shape, accounts: list[str], seconds: float) -> tuple[list, list[str]]:
    """Each account in a thread of its own, running the mixed workload for ``seconds``."""
    acks: list[tuple[str, int]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def member(n: int, email: str) -> None:
        api = Api(shape.base_url)

        def send(_name: str, field_name: str, query: str, variables: dict | None) -> object:
            try:
                return api.call(field_name, query, variables)
            except GraphQLFailure as error:
                with lock:
                    errors.append(f"{field_name}: {error}")
                raise

        workload = Workload(send=send, email=email)
        operations = [name for name, weight in Workload.MIX for _ in range(weight)]
        chooser = random.Random(n)
        deadline = time.monotonic() + seconds
        try:
            workload.log_in()
            while time.monotonic() < deadline:
                getattr(workload, chooser.choice(operations))()
        except GraphQLFailure:
            pass
        finally:
            api.close()
            with lock:
                acks.extend(workload.acks)

    threads = [threading.Thread(target=member, args=(n, e)) for n, e in enumerate(accounts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return acks, errors


def test_a_concurrent_burst_has_no_errors_and_every_acknowledged_write_is_stored_once(
    shape: Shape,
):
    accounts = _members(shape, 8, seeking=True, offset=50)
    since = shape.scalar("SELECT now()")

    acks, errors = _burst(shape, accounts, seconds=10)

    assert errors == []
    kinds = {kind for kind, _ in acks}
    assert {"post", "comment"} <= kinds, acks
    comparison = compare_writes(acks, count_rows(shape.engine, _ids_of(shape, accounts), since))
    for kind, acknowledged, stored, missing, unexpected, twice in comparison:
        assert (missing, unexpected, twice) == (0, 0, 0), kind
        assert acknowledged == stored, kind


def test_a_round_whose_worker_is_killed_is_run_again_never_stuck_nor_half_written(shape: Shape):
    run = scenario_kill_worker(shape, start_timeout=60, recover_timeout=90, run_timeout=120)

    assert run.status_after_kill == "RUNNING", run.recovery
    assert run.final.status == "READY", (run.recovery, run.worker_log)
    total, distinct, mentees = run.proposals
    assert total == distinct == mentees > 100, run.proposals


def test_metrics_add_up_every_process(shape: Shape):
    text_ = shape.metrics()

    # Requests answered by both web workers and the rounds the worker's job processes ran.
    assert 'peerbridge_http_request_duration_seconds_count{method="POST",route="/graphql"' in text_
    assert 'peerbridge_job_duration_seconds_count{job="rounds",outcome="ok"}' in text_
    assert "peerbridge_outbox_pending_emails" in text_
