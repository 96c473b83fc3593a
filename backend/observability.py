"""Health probes, structured logs and Prometheus metrics for the web and worker processes.

- ``/healthz`` says the process is up (no database); ``/readyz`` says it can serve: the
  database answers and, when ``PEERBRIDGE_REDIS_URL`` is set, Redis does (503 naming what is
  down otherwise). Neither touches the session table or needs a CSRF token.
- Logs: one JSON object per line (``PEERBRIDGE_LOG_FORMAT=json``, the default in production) or
  plain text. Every record logged while a request is handled carries its ``request_id`` (the
  ``X-Request-ID`` the app already returns), through a context variable that follows the request
  into worker threads. One access line per request gives the route *template*, status and
  duration: never the path or query string, so no search words, ids or addresses reach a log;
  nor do SQL statements or their parameters (``backend.db.make_engine`` hides them).
- Metrics: request latency by route *template* (``/members/{member_id}``, never the raw path),
  job durations and failures by job name, and database gauges read at scrape time (the outbox
  backlog, rounds by status). ``/metrics`` is off unless ``PEERBRIDGE_METRICS_TOKEN`` is set,
  and then needs ``Authorization: Bearer <token>``. Several processes (``serve --workers N``,
  RQ's forked job processes) write to one ``PROMETHEUS_MULTIPROC_DIR`` and a scrape adds them up.

prometheus-client decides at import time whether it writes values to the multiprocess
directory, so it is imported here only inside functions: ``prepare_metrics_dir`` must be able to
set the directory before the first import in a process.
"""

from __future__ import annotations

import contextvars
import functools
import hmac
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, cast

from fastapi import FastAPI, Request
from sqlmodel import col
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from backend.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("peerbridge.observability")
access_log = logging.getLogger("peerbridge.access")

F = TypeVar("F", bound=Callable[..., Any])
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Probes and scrapes arrive every few seconds; their access lines would drown the rest.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a cached page (5 ms) to a slow import page (30 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)


# Logs ----------------------------------------------------------------------------------------

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged as is.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``record.request_id``; never drops a record."""
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        return True


# PostgreSQL's error details quote the values of the row ("Key (email)=(...) already exists",
# "Failing row contains (...)"); database drivers put them in the exception's text.
_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)
HIDDEN_DETAIL = r"\1  (hidden: it may quote personal data)"


def redact(text: str) -> str:
    """``text`` without the database's DETAIL lines, which quote the values of rows."""
    return _DETAIL.sub(HIDDEN_DETAIL, text)


class RedactFilter(logging.Filter):
    """Removes what database errors quote of rows from a record's message and traceback (SQL
    parameters are never in them: ``backend.db.make_engine`` hides those)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message and the formatted exception; never drops a record."""
        message = record.getMessage()
        if "DETAIL:" in message:
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_format(settings: Settings) -> str:
    """``json`` or ``text``: the setting, else JSON in production and text elsewhere."""
    if settings.log_format:
        return settings.log_format
    return "json" if settings.is_production else "text"


class _OwnHandler(logging.StreamHandler[TextIO]):
    """The handler ``configure_logging`` installs (so that configuring again replaces it)."""


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records to ``stream`` (stderr) in the configured format.

    Idempotent: the handler this installed last time is replaced, others (pytest's) are kept.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OwnHandler)]:
        root.removeHandler(old)
    handler = _OwnHandler(stream or sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactFilter())
    if log_format(settings) == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # uvicorn's own loggers propagate to the root (``serve`` turns off their handlers).
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # uvicorn's access lines are off (``serve``), but should anyone turn them on they lose the
    # query string (directory searches, email links' tokens). SQL is never logged, even at
    # DEBUG: statements carry what members typed.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryStringFilter) for f in access.filters):
        access.addFilter(QueryStringFilter())
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    return handler


class QueryStringFilter(logging.Filter):
    """Drops the query string from uvicorn's access lines (their third argument is the path):
    an access log holds the route, never the words searched for or an address."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Cut ``?...`` from every path-like argument; never drops a record."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.split("?", 1)[0] if isinstance(a, str) and a.startswith("/") else a
                for a in record.args
            )
        return True


# Metrics -------------------------------------------------------------------------------------


@dataclass
class Metrics:
    """This process's metric objects (created once, on first use)."""

    request_seconds: Any
    job_seconds: Any
    job_failures: Any


@lru_cache
def metrics() -> Metrics:
    """The metric objects; the first call imports prometheus-client (see the module docstring)."""
    from prometheus_client import Counter, Histogram

    return Metrics(
        request_seconds=Histogram(
            "peerbridge_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
        ),
        job_seconds=Histogram(
            "peerbridge_job_duration_seconds",
            "Time a background job took, by job name and outcome.",
            ["job", "outcome"],
            buckets=JOB_BUCKETS,
        ),
        job_failures=Counter(
            "peerbridge_job_failures",
            "Background jobs that raised or reported failure, by job name.",
            ["job"],
        ),
    )


def multiprocess() -> bool:
    """True when this process writes its metrics to a shared multiprocess directory."""
    return bool(os.environ.get(MULTIPROC_ENV))


@dataclass
class MetricsDir:
    """The multiprocess directory a command uses, and whether it made (and must remove) it."""

    path: str
    owned: bool

    def remove(self) -> None:
        """Delete the directory if this process created it."""
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)


def prepare_metrics_dir(prefix: str = "peerbridge-metrics-") -> MetricsDir:
    """Use ``PROMETHEUS_MULTIPROC_DIR`` if set (the operator empties it before a deploy), else
    make a private one and set it, so child processes (uvicorn workers, RQ job processes)
    inherit it. Call before anything imports prometheus-client."""
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        os.makedirs(existing, exist_ok=True)
        return MetricsDir(existing, owned=False)
    path = tempfile.mkdtemp(prefix=prefix)
    os.environ[MULTIPROC_ENV] = path
    return MetricsDir(path, owned=True)


@dataclass
class JobRun:
    """What ``observe_job`` records: set ``outcome`` to "failed" for a handled failure."""

    name: str
    outcome: str = "ok"
    started: float = field(default_factory=time.perf_counter)


@contextmanager
def observe_job(name: str) -> Iterator[JobRun]:
    """Time a job (``rounds``, ``imports``, ``periodic``...); count it failed if it raises or
    sets ``run.outcome = "failed"``."""
    run = JobRun(name)
    try:
        yield run
    except BaseException:
        run.outcome = "failed"
        raise
    finally:
        m = metrics()
        outcome = run.outcome if run.outcome in ("ok", "failed", "skipped") else "ok"
        m.job_seconds.labels(name, outcome).observe(time.perf_counter() - run.started)
        if outcome == "failed":
            m.job_failures.labels(name).inc()


def timed_job(name: str) -> Callable[[F], F]:
    """Decorate a job function with ``observe_job(name)``; a ``"failed"`` result counts as a
    failure."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with observe_job(name) as run:
                result = function(*args, **kwargs)
                if result == "failed":
                    run.outcome = "failed"
                return result

        return cast(F, timed)

    return decorate


class DatabaseCollector:
    """Gauges read from the database at scrape time: the outbox backlog and rounds by status."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Any]:
        """No up-front description: the registry must not query the database on register."""
        return []

    def collect(self) -> Iterator[Any]:
        """Query the database once per scrape; a failure shows as ``database_up 0``."""
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func, select

        from backend.db import utcnow
        from backend.notifications.models import OutboxEmail
        from backend.notifications.service import MAX_ATTEMPTS
        from backend.rounds.models import MatchingRound

        up = GaugeMetricFamily(
            "peerbridge_database_up", "1 when the scrape could read the database, else 0."
        )
        try:
            with self.engine.connect() as connection:
                unsent = col(OutboxEmail.sent_at).is_(None)
                pending, oldest = connection.execute(
                    select(func.count(), func.min(OutboxEmail.created_at))
                    .select_from(OutboxEmail)
                    .where(unsent, col(OutboxEmail.attempts) < MAX_ATTEMPTS)
                ).one()
                given_up = connection.execute(
                    select(func.count())
                    .select_from(OutboxEmail)
                    .where(unsent, col(OutboxEmail.attempts) >= MAX_ATTEMPTS)
                ).scalar_one()
                rounds = connection.execute(
                    select(col(MatchingRound.status), func.count()).group_by(
                        col(MatchingRound.status)
                    )
                ).all()
        except Exception:
            log.warning("metrics: could not read the database", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "peerbridge_outbox_pending_emails",
            "Emails in the outbox waiting to be sent (not yet given up on).",
            value=pending,
        )
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (utcnow() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "peerbridge_outbox_oldest_pending_seconds",
            "Age of the oldest email waiting in the outbox (0 when none waits).",
            value=age,
        )
        yield GaugeMetricFamily(
            "peerbridge_outbox_given_up_emails",
            f"Emails never sent after {MAX_ATTEMPTS} attempts.",
            value=given_up,
        )
        by_status = GaugeMetricFamily(
            "peerbridge_matching_rounds", "Matching rounds by status.", labels=["status"]
        )
        for status, count in rounds:
            by_status.add_metric([status], count)
        yield by_status


class _DefaultRegistry:
    """The single-process registry, as one collector of a per-scrape registry."""

    def collect(self) -> Iterator[Any]:
        """Everything the process registered."""
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def scrape_registry(engine: Engine | None) -> Any:
    """A registry for one scrape: every process's metrics (multiprocess mode) or this
    process's, plus the database gauges."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    metrics()  # so a scrape lists the families even before the first request
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus_client: untyped
    else:
        registry.register(_DefaultRegistry())
    if engine is not None:
        registry.register(DatabaseCollector(engine))
    return registry


JOB_NAMES = {
    "run_round_job": "rounds",
    "run_import_job": "imports",
    "run_once": "periodic",
}


def job_name(path: str) -> str:
    """The metric name of a queued job: ``rounds``, ``imports``, else the function's name."""
    function = path.rpartition(".")[2]
    if function in JOB_NAMES:
        return JOB_NAMES[function]
    return "imports" if "import" in function else function[:40]


def observed_worker(worker_class: type) -> type:
    """An RQ worker class that times each job (in the work horse) and counts its failures: an
    exception, or a job that returns ``"failed"`` (a round the matcher could not run)."""

    class ObservedWorker(worker_class):  # type: ignore[misc]  # the class given at run time
        def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
            with observe_job(job_name(job.func_name)) as run:
                succeeded: bool = super().perform_job(job, queue, *args, **kwargs)
                if not succeeded or getattr(job, "_result", None) == "failed":
                    run.outcome = "failed"
            return succeeded

    ObservedWorker.__name__ = f"Observed{worker_class.__name__}"
    return ObservedWorker


def _metrics_server(port: int, host: str, database_url: str, parent_pid: int) -> None:
    from prometheus_client import start_http_server
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    server, _thread = start_http_server(port, addr=host, registry=scrape_registry(engine))
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    server.shutdown()


def serve_worker_metrics(settings: Settings) -> Any:
    """Serve the worker's own /metrics on ``PEERBRIDGE_WORKER_METRICS_PORT`` (no token: it
    listens on ``PEERBRIDGE_METRICS_HOST``, loopback by default), or do nothing (None).

    The server runs in a spawned process of its own, reading the multiprocess directory: a
    thread in the worker would be copied, mid-scrape with its locks held, into every job process
    RQ forks. It stops when the worker does.
    """
    if settings.worker_metrics_port is None:
        return None
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(
        target=_metrics_server,
        args=(
            settings.worker_metrics_port,
            settings.metrics_host,
            settings.database_url,
            os.getpid(),
        ),
        name="peerbridge-metrics",
        daemon=True,
    )
    process.start()
    log.info(
        "worker metrics on http://%s:%s/metrics",
        settings.metrics_host,
        settings.worker_metrics_port,
    )
    return process


# The ASGI side -------------------------------------------------------------------------------


def route_template(scope: Scope) -> str:
    """The matched route's template (``/members/{member_id}``), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    return f"{path}/{{path}}" if isinstance(route, Mount) else (path or "/")


class RequestObserver:
    """ASGI middleware: binds the request id to the context, times the request, records the
    latency metric and writes the access line. Sits inside the middleware that sets the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Observe one HTTP request; other scopes pass straight through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(scope.get("state", {}).get("request_id", ""))
        token = request_id_var.set(request_id)
        status = [500]
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "GET")
            method = method if method in METHODS else "OTHER"
            try:
                metrics().request_seconds.labels(method, route, str(status[0])).observe(seconds)
            except Exception:  # metrics must never fail a request
                log.warning("could not record request metrics", exc_info=True)
            if route not in QUIET_ROUTES or status[0] >= 500:
                access_log.info(
                    "%s %s %s %.1f ms",
                    method,
                    route,
                    status[0],
                    seconds * 1000,
                    extra={
                        "route": route,
                        "method": method,
                        "status": status[0],
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )
            request_id_var.reset(token)


def _check_database(engine: Engine) -> None:
    from sqlalchemy import text

    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


@lru_cache(maxsize=4)
def _redis_client(url: str, timeout: float) -> Any:
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def _check_redis(url: str, timeout: float) -> None:
    if not _redis_client(url, timeout).ping():
        raise ConnectionError("Redis did not answer PING")


async def readiness(engine: Engine, settings: Settings) -> dict[str, str]:
    """Each dependency's state, ``ok`` or ``down: <why>``, each check bounded in time."""
    import anyio

    checks: list[tuple[str, Any, tuple[Any, ...]]] = [("database", _check_database, (engine,))]
    if settings.redis_url:
        timeout = settings.readiness_timeout_seconds
        checks.append(("redis", _check_redis, (settings.redis_url, timeout)))
    results: dict[str, str] = {}
    for name, check, args in checks:
        with anyio.move_on_after(settings.readiness_timeout_seconds) as scope:
            try:
                await anyio.to_thread.run_sync(check, *args, abandon_on_cancel=True)
                results[name] = "ok"
            except Exception as error:
                # The exception's class, not its text: probes are public and texts name hosts.
                results[name] = f"down: {type(error).__name__}"
        if scope.cancelled_caught:
            results[name] = f"down: no answer within {settings.readiness_timeout_seconds:g} s"
    return results


def install(app: FastAPI, settings: Settings) -> None:
    """Add the probes, /metrics and the request observer to ``app``.

    Call before the app's own middleware is added, so the observer sits inside it and sees the
    request id it sets.
    """
    if settings.environment != "test" or settings.log_format:
        configure_logging(settings)
    app.add_middleware(RequestObserver)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """The process is up and serving (no dependency is checked)."""
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """The process can serve: the database (and Redis when configured) answer."""
        checks = await readiness(request.app.state.engine, settings)
        down = sorted(name for name, state in checks.items() if state != "ok")
        body: dict[str, Any] = {"status": "ok" if not down else "unavailable", "checks": checks}
        if down:
            body["down"] = down
        return JSONResponse(
            body, status_code=503 if down else 200, headers={"Cache-Control": "no-store"}
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint(request: Request) -> Response:
        """Prometheus metrics, for a scraper holding the bearer token."""
        if not settings.metrics_token:
            raise StarletteHTTPException(404)
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return JSONResponse(
                {"detail": "A valid bearer token is needed."},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        payload = generate_latest(scrape_registry(request.app.state.engine))
        return Response(
            payload, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )
