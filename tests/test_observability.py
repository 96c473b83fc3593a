"""Health probes, JSON logs with the request id, and Prometheus metrics (backend/observability)."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import uuid
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from backend import observability
from backend.accounts.models import UserSession
from backend.db import make_engine, session_factory
from backend.notifications import service as notifications
from backend.settings import Settings
from peerbridge.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "metrics-token-for-the-tests-0123456789"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings(**overrides: object) -> Settings:
    """Test settings with no Redis unless asked for."""
    values: dict[str, object] = {"environment": "test", "redis_url": None, **overrides}
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client_for() -> Iterator:
    """Build a test client around an engine and settings; closes them at the end."""
    clients: list[TestClient] = []

    def build(engine: Engine, **overrides: object) -> TestClient:
        client = TestClient(create_app(settings=settings(**overrides), engine=engine))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def session_rows(engine: Engine) -> int:
    with session_factory(engine)() as db:
        return db.exec(select(func.count()).select_from(UserSession)).one()[0]


# Probes --------------------------------------------------------------------------------------


def test_healthz_answers_without_the_database_and_writes_no_session(engine, client_for):
    client = client_for(engine)
    before = session_rows(engine)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    assert session_rows(engine) == before

    unreachable = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none")
    assert client_for(unreachable).get("/healthz").status_code == 200


def test_readyz_is_ok_when_the_database_answers(engine, client_for):
    client = client_for(engine)
    before = session_rows(engine)

    response = client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "set-cookie" not in response.headers
    assert session_rows(engine) == before


def test_readyz_is_503_naming_redis_when_redis_is_down(engine, client_for):
    client = client_for(
        engine,
        redis_url=f"redis://127.0.0.1:{closed_port()}/5",
        readiness_timeout_seconds=1.0,
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down: ")


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(client_for):
    unreachable = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none")
    client = client_for(unreachable, readiness_timeout_seconds=2.0)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert response.json()["checks"]["database"].startswith("down: ")


def test_readyz_checks_a_real_redis_when_one_runs(engine, client_for):
    url = "redis://127.0.0.1:6379/5"
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")

    response = client_for(engine, redis_url=url).get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


# Logs ----------------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Capture the app's log records as JSON lines."""
    stream = io.StringIO()
    handler = observability.configure_logging(settings(log_format="json"), stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines_of(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_log_line_of_a_request_carries_its_request_id(engine, client_for, json_log):
    client = client_for(engine)
    app = client.app

    # A handler of the app's kind: sync, so FastAPI runs it in a worker thread.
    @app.get("/observability-test")
    def _logs_from_a_thread() -> dict:
        logging.getLogger("peerbridge.test").warning("inside the handler", extra={"member": 7})
        return {}

    response = client.get("/observability-test", headers={"X-Request-ID": "req-abc-123"})
    client.get("/observability-test", headers={"X-Request-ID": "another-request"})

    assert response.headers["X-Request-ID"] == "req-abc-123"
    records = [r for r in lines_of(json_log) if r["request_id"] == "req-abc-123"]
    inside = [r for r in records if r["logger"] == "peerbridge.test"]
    assert len(inside) == 1
    assert inside[0]["message"] == "inside the handler"
    assert inside[0]["level"] == "WARNING"
    assert inside[0]["member"] == 7
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", inside[0]["time"])
    access = [r for r in records if r["logger"] == "peerbridge.access"]
    assert len(access) == 1
    assert access[0]["route"] == "/observability-test"
    assert access[0]["status"] == 200
    assert access[0]["method"] == "GET"
    assert isinstance(access[0]["duration_ms"], float)
    # Outside a request, no id leaks from the last one.
    logging.getLogger("peerbridge.test").warning("after")
    assert lines_of(json_log)[-1]["request_id"] == ""


def test_a_generated_request_id_is_logged_when_the_client_sends_none(engine, client_for, json_log):
    client = client_for(engine)

    response = client.get("/login")

    request_id = response.headers["X-Request-ID"]
    access = [r for r in lines_of(json_log) if r["logger"] == "peerbridge.access"]
    assert [r["request_id"] for r in access] == [request_id]
    assert access[0]["route"] == "/login"


def test_text_format_is_the_default_outside_production():
    assert observability.log_format(settings()) == "text"
    assert observability.log_format(settings(log_format="json")) == "json"
    production = settings(environment="production", secret_key="x" * 40)
    assert observability.log_format(production) == "json"


# Metrics -------------------------------------------------------------------------------------


def sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, in Prometheus text
    format (0 when there are none). Summed, because other labels (the status, say) split one
    route into several series, and tests earlier in the run may have filled some of them."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def scrape(client: TestClient) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(engine, client_for):
    assert client_for(engine).get("/metrics").status_code == 404
    client = client_for(engine, metrics_token=TOKEN)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    assert "peerbridge_http_request_duration_seconds" not in wrong.text


def test_request_latency_is_counted_by_route_template_not_raw_path(engine, client_for):
    client = client_for(engine, metrics_token=TOKEN)
    name = "peerbridge_http_request_duration_seconds_count"
    route = "/members/{member_id:int}"
    before = sample(scrape(client), name, route=route, method="GET")

    client.get("/members/123456")
    client.get("/members/654321")
    text = scrape(client)

    assert sample(text, name, route=route, method="GET") == before + 2
    assert "/members/123456" not in text
    # A path no route matches is one series, whatever the path.
    unmatched = sample(text, name, route="unmatched", method="GET")
    client.get("/no/such/page/at/all-1")
    client.get("/no/such/page/at/all-2")
    assert sample(scrape(client), name, route="unmatched", method="GET") == unmatched + 2


def test_the_outbox_backlog_is_read_from_the_database_at_scrape_time(engine, client_for):
    client = client_for(engine, metrics_token=TOKEN)
    assert sample(scrape(client), "peerbridge_outbox_pending_emails") == 0
    assert sample(scrape(client), "peerbridge_database_up") == 1

    with session_factory(engine)() as db:
        for n in range(3):
            notifications.enqueue_email(
                session=db, to=f"m{n}@example.nhs.uk", subject="Hello", body="Hi", kind="account"
            )
        db.commit()

    text = scrape(client)
    assert sample(text, "peerbridge_outbox_pending_emails") == 3
    assert sample(text, "peerbridge_outbox_oldest_pending_seconds") >= 0
    assert sample(text, "peerbridge_outbox_given_up_emails") == 0


def test_job_durations_and_failures_are_counted_by_job_name(engine, client_for):
    client = client_for(engine, metrics_token=TOKEN)
    text = scrape(client)
    runs = "peerbridge_job_duration_seconds_count"
    ok_before = sample(text, runs, job="test-job", outcome="ok")
    failed_before = sample(text, "peerbridge_job_failures_total", job="test-job")

    with observability.observe_job("test-job"):
        pass
    with pytest.raises(RuntimeError), observability.observe_job("test-job"):
        raise RuntimeError("the job broke")
    with observability.observe_job("test-job") as run:
        run.outcome = "failed"

    text = scrape(client)
    assert sample(text, runs, job="test-job", outcome="ok") == ok_before + 1
    assert sample(text, runs, job="test-job", outcome="failed") >= 2
    assert sample(text, "peerbridge_job_failures_total", job="test-job") == failed_before + 2


def test_jobs_are_named_for_the_metrics():
    assert observability.job_name("backend.rounds.service.run_round_job") == "rounds"
    assert observability.job_name("backend.members.importing.run_import_job") == "imports"
    assert observability.job_name("backend.jobs.run_once") == "periodic"
    assert observability.job_name("backend.members.importing.import_members_job") == "imports"


def test_the_periodic_pass_is_timed(engine, client_for):
    from backend import jobs

    client = client_for(engine, metrics_token=TOKEN)
    runs = "peerbridge_job_duration_seconds_count"
    before = sample(scrape(client), runs, job="periodic", outcome="ok")

    jobs.run_once(engine)

    assert sample(scrape(client), runs, job="periodic", outcome="ok") == before + 1


def test_an_rq_worker_times_its_jobs_and_counts_failures(engine, client_for):
    try:
        from redis import Redis

        redis = Redis.from_url(WORKER_REDIS_URL, socket_connect_timeout=0.5)
        redis.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from rq import Queue, SimpleWorker

    client = client_for(engine, metrics_token=TOKEN)
    runs, failures = "peerbridge_job_duration_seconds_count", "peerbridge_job_failures_total"
    text = scrape(client)
    ok_before = sample(text, runs, job="len", outcome="ok")
    int_failed = sample(text, failures, job="int")
    str_failed = sample(text, failures, job="str")
    queue = Queue(f"observability-test-{uuid.uuid4().hex}", connection=redis)
    queue.enqueue("builtins.len", "four")  # succeeds
    queue.enqueue("builtins.int", "not a number")  # raises
    queue.enqueue(
        "builtins.str", "failed"
    )  # returns "failed", as a round the matcher could not run does

    worker_class = observability.observed_worker(SimpleWorker)
    worker_class([queue], connection=redis).work(burst=True)

    text = scrape(client)
    assert sample(text, runs, job="len", outcome="ok") == ok_before + 1
    assert sample(text, failures, job="int") == int_failed + 1
    assert sample(text, failures, job="str") == str_failed + 1
    queue.delete(delete_jobs=True)


# The worker's own metrics port, on a real `peerbridge worker` ---------------------------------


# Not database 5: the production harness empties that one, perhaps at the same time (the suite
# runs on two processes).
WORKER_REDIS_URL = "redis://127.0.0.1:6379/6"


def _redis_or_skip():  # type: ignore[no-untyped-def]
    try:
        from redis import Redis

        redis = Redis.from_url(WORKER_REDIS_URL, socket_connect_timeout=0.5)
        redis.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return redis


def _scrape_port(port: int) -> str | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            return answer.read().decode()
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def _until(check, what: str, timeout: float = 240.0):  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_real_worker_serves_job_and_outbox_metrics_on_its_port(engine, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from rq import Queue

    from backend.members import importing
    from backend.members.import_models import MemberImport
    from tests.factories import make_organiser
    from tests.members.test_importing import members_csv, row

    redis = _redis_or_skip()
    queue_name = f"observability-worker-{uuid.uuid4().hex}"
    queue = Queue(queue_name, connection=redis)
    queue.empty()
    with session_factory(engine)() as db:
        organiser = make_organiser(db)
        import_id = importing.start_import(
            session=db,
            actor=organiser,
            data=members_csv(row("W1"), row("W2")),
            mode="partial",
            send_invitations=False,
        ).id
        db.commit()
    port = closed_port()
    env = {
        **os.environ,
        "PEERBRIDGE_ENVIRONMENT": "test",
        "PEERBRIDGE_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PEERBRIDGE_REDIS_URL": WORKER_REDIS_URL,
        "PEERBRIDGE_QUEUE_NAME": queue_name,
        "PEERBRIDGE_WORKER_METRICS_PORT": str(port),
        "PEERBRIDGE_MAIL_DIR": str(tmp_path / "mail"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "PEERBRIDGE_LOG_FORMAT": "text",
    }
    command = [str(Path(sys.executable).with_name("peerbridge")), "worker", "--interval", "3600"]
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        runs = "peerbridge_job_duration_seconds_count"
        # The periodic pass runs once at start (then hourly): the worker counts it.
        text = _until(
            lambda: (t := _scrape_port(port)) and sample(t, runs, job="periodic") >= 1 and t,
            "the worker's metrics port and its first periodic pass",
        )
        assert sample(text, runs, job="imports") == 0
        assert sample(text, "peerbridge_outbox_pending_emails") == 0

        # A queued job runs in a work horse RQ forks; its timing reaches the worker's port.
        queue.enqueue("backend.members.importing.run_import_job", import_id, job_timeout=600)
        with session_factory(engine)() as db:
            notifications.enqueue_email(
                session=db, to="someone@example.nhs.uk", subject="Hello", kind="test", body="Hi"
            )
            db.commit()
        text = _until(
            lambda: (
                (t := _scrape_port(port)) and sample(t, runs, job="imports", outcome="ok") and t
            ),
            "the import job's metrics",
        )
        assert sample(text, runs, job="imports", outcome="ok") == 1
        # The backlog is read from the database at scrape time (the next pass is an hour away).
        assert sample(text, "peerbridge_outbox_pending_emails") == 1
        with session_factory(engine)() as db:
            done = db.get(MemberImport, import_id)
            assert (done.status, done.created) == ("done", 2)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
        queue.empty()
    # The metrics process ends with the worker.
    _until(lambda: _scrape_port(port) is None, "the metrics port to close", timeout=20)
