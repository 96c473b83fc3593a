"""The production shape, proven on one machine: real processes, real faults, real load.

Starts, as separate processes, a fresh PostgreSQL database (CREATE DATABASE on the local
server, dropped at the end), Redis (database 5, emptied first), ``peerbridge serve --workers 4``
and ``peerbridge worker``, migrates, loads a demo network, and then:

1. runs matching rounds one after another through GraphQL as the organiser: all must reach READY;
2. kills the worker (SIGKILL, its whole process group) in the middle of a round and starts it
   again: the round must be re-run, or marked failed and retried, never stuck, and its
   proposals must cover each mentee exactly once;
3. points SMTP at a server that accepts connections and never answers, then at a real one
   (aiosmtpd): every queued email must arrive exactly once, and log-in latency during the hang
   is compared with before it;
4. drives locust (headless, loopback only, bounded in time) at 1, 8 and 32 users over a mixed
   read/write workload and prints errors, throughput and p50/p95/p99 per operation;
5. checks the rows written under load against the writes the clients saw acknowledged.

Run it on demand (it is not part of ``make bench``)::

    nice .venv/bin/python bench/production_shape.py              # the full run (~20 min)
    nice .venv/bin/python bench/production_shape.py --members 2000 --rounds 3 --duration 20

tests/production/test_production_shape.py runs a small version of the same scenarios in CI.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PEERBRIDGE = str(BIN / "peerbridge")
DEMO_PASSWORD = "peerbridge-demo-2024"  # noqa: S105 - the demo network's published password
ORGANISER = "organiser@demo.peerbridge.example"
REDIS_URL = "redis://127.0.0.1:6379/5"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class ShapeError(AssertionError):
    """A scenario did not hold; the message says what was seen."""


# Small helpers -------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def db_id(global_id: str) -> int:
    """The database id inside a Relay global id ("Type:123", base64)."""
    padded = global_id + "=" * (-len(global_id) % 4)
    return int(base64.b64decode(padded).decode().rpartition(":")[2])


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0-1) of ``values``, nearest rank; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table (also valid Markdown) with a title line."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    out = [f"\n{title}\n", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(row) for row in cells[1:]]
    return "\n".join(out)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


# GraphQL over HTTP ---------------------------------------------------------------------------


class GraphQLFailure(Exception):
    """A GraphQL call that did not succeed: HTTP error, GraphQL error or an error result."""


def session_cookie(response: httpx.Response) -> str | None:
    """The pb_session value a log-in set (sent back by hand: in production it is Secure, and
    the harness talks plain HTTP on loopback as a TLS-terminating proxy would)."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == "pb_session":
            return rest.split(";", 1)[0]
    return None


def check_result(response: httpx.Response, field_name: str) -> dict[str, Any]:
    """The data of ``field_name``, or GraphQLFailure saying what went wrong."""
    if response.status_code != 200:
        raise GraphQLFailure(f"HTTP {response.status_code}: {response.text[:200]}")
    body = response.json()
    if body.get("errors"):
        raise GraphQLFailure(json.dumps(body["errors"])[:300])
    value = (body.get("data") or {}).get(field_name)
    typename = value.get("__typename", "") if isinstance(value, dict) else ""
    if typename and not typename.endswith("Success") and typename != "Done":
        raise GraphQLFailure(f"{field_name}: {typename}: {json.dumps(value)[:200]}")
    return value  # type: ignore[return-value]


class Api:
    """A signed-in (or anonymous) GraphQL client over httpx."""

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=timeout)
        self.cookie: str | None = None

    def call(self, field_name: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Run one operation; returns the value of ``field_name``."""
        headers = {"Cookie": f"pb_session={self.cookie}"} if self.cookie else {}
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        value = check_result(response, field_name)
        if field_name == "logIn":
            self.cookie = session_cookie(response)
        return value

    def log_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        """Log in (the cookie is kept for later calls)."""
        self.call("logIn", LOG_IN, {"input": {"email": email, "password": password}})

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


LOG_IN = """mutation($input: LogInInput!) { logIn(input: $input) { __typename
  ... on LogInSuccess { member { id } } ... on Error { message } } }"""
CREATE_ROUND = """mutation($input: CreateMatchingRoundInput!) {
  createMatchingRound(input: $input) { __typename
    ... on MatchingRoundSuccess { round { id status } } ... on Error { message } } }"""
ROUND = """query($id: ID!) { matchingRound(id: $id) {
  id status progress stage error figures { mentees matched } } }"""
SUGGESTIONS = "{ mentorSuggestions(first: 5) { score mentor { id } } }"
DIRECTORY = """query($text: String!) { members(filter: {text: $text}, first: 20) {
  edges { node { id name } } } }"""
NOTIFICATIONS = """{ notifications(first: 20) { edges { node { id title read } } }
  me { unreadNotificationCount } }"""
CREATE_POST = """mutation($input: CreatePostInput!) { createPost(input: $input) { __typename
  ... on PostSuccess { post { id } } ... on Error { message } } }"""
ADD_COMMENT = """mutation($input: AddCommentInput!) { addComment(input: $input) { __typename
  ... on AddCommentSuccess { comment { id } } ... on Error { message } } }"""
REQUEST_MENTOR = """mutation($input: RequestMentorInput!) { requestMentor(input: $input) {
  __typename ... on RequestMentorSuccess { request { id } } ... on Error { message } } }"""
WITHDRAW = """mutation($input: WithdrawMentorRequestInput!) {
  withdrawMentorRequest(input: $input) { __typename
    ... on WithdrawMentorRequestSuccess { request { id status } } ... on Error { message } } }"""
RESET = """mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) {
  __typename ... on Error { message } } }"""
WORDS = ("manager", "service", "quality", "rota", "finance", "project", "nurse", "digital")


# The mixed workload (shared by locust and the test suite's burst) ----------------------------


@dataclass
class Workload:
    """One simulated member's operations. ``send(name, field, query, variables)`` returns the
    field's value or raises GraphQLFailure; every acknowledged write is recorded in ``acks``."""

    send: Callable[[str, str, str, dict[str, Any] | None], Any]
    email: str
    acks: list[tuple[str, int]] = field(default_factory=list)
    mentors: list[str] = field(default_factory=list)
    counter: int = 0

    def log_in(self) -> None:
        """Sign in again (a fresh session, as a returning member)."""
        self.send(
            "logIn", "logIn", LOG_IN, {"input": {"email": self.email, "password": DEMO_PASSWORD}}
        )

    def suggestions(self) -> None:
        """Read the ranked mentor suggestions."""
        found = self.send("mentorSuggestions", "mentorSuggestions", SUGGESTIONS, None) or []
        self.mentors = [row["mentor"]["id"] for row in found if row.get("mentor")]

    def directory(self) -> None:
        """Search the member directory."""
        self.counter += 1
        word = WORDS[self.counter % len(WORDS)]
        self.send("members(text)", "members", DIRECTORY, {"text": word})

    def notifications(self) -> None:
        """Read the notifications and the unread count."""
        self.send("notifications", "notifications", NOTIFICATIONS, None)

    def post_and_comment(self) -> None:
        """Share a post, then reply to it."""
        self.counter += 1
        tag = uuid.uuid4().hex[:8]
        value = self.send(
            "createPost",
            "createPost",
            CREATE_POST,
            {"input": {"title": f"Load test note {tag}", "body": f"What we learnt, {tag}."}},
        )
        post_id = value["post"]["id"]
        self.acks.append(("post", db_id(post_id)))
        value = self.send(
            "addComment",
            "addComment",
            ADD_COMMENT,
            {"input": {"postId": post_id, "body": f"A reply to {tag}."}},
        )
        self.acks.append(("comment", db_id(value["comment"]["id"])))

    def request_and_withdraw(self) -> None:
        """Ask a suggested mentor, then take the request back."""
        if not self.mentors:
            self.suggestions()
        if not self.mentors:
            return
        self.counter += 1
        mentor = self.mentors[self.counter % len(self.mentors)]
        key = uuid.uuid4().hex
        # Noted before sending: a client stopped mid-request (locust's stop timeout) never sees
        # its answer, so the write check can tell such a row from one nobody asked for.
        self.acks.append(("request-sent", key))  # type: ignore[arg-type]
        value = self.send(
            "requestMentor",
            "requestMentor",
            REQUEST_MENTOR,
            {
                "input": {
                    "mentorId": mentor,
                    "message": "Could we talk about moving into a service manager role?",
                    "idempotencyKey": key,
                }
            },
        )
        request_id = value["request"]["id"]
        self.acks.append(("request", db_id(request_id)))
        self.send(
            "withdrawMentorRequest",
            "withdrawMentorRequest",
            WITHDRAW,
            {"input": {"requestId": request_id}},
        )
        self.acks.append(("withdrawn", db_id(request_id)))

    # (operation, weight): reads dominate, as on a real network.
    MIX: tuple[tuple[str, int], ...] = (
        ("suggestions", 3),
        ("directory", 3),
        ("notifications", 3),
        ("post_and_comment", 1),
        ("request_and_withdraw", 1),
        ("log_in", 1),
    )


def count_rows(engine: Engine, member_ids: list[int], since: Any) -> dict[str, set[int]]:
    """What the load wrote, read back from the database: the ids of posts, comments, requests
    and withdrawn requests by ``member_ids`` since ``since``."""
    ids = {"ids": member_ids, "since": since}
    queries = {
        "post": (
            "SELECT id FROM community_post WHERE author_id = ANY(:ids) AND created_at >= :since"
        ),
        "comment": (
            "SELECT id FROM community_comment WHERE author_id = ANY(:ids) AND created_at >= :since"
        ),
        "request": (
            "SELECT id FROM mentor_request WHERE mentee_id = ANY(:ids) AND created_at >= :since"
        ),
        "withdrawn": (
            "SELECT id FROM mentor_request WHERE mentee_id = ANY(:ids) AND created_at >= :since"
            " AND status = 'withdrawn'"
        ),
    }
    with engine.connect() as connection:
        return {
            kind: {row[0] for row in connection.execute(text(sql), ids)}
            for kind, sql in queries.items()
        }


def request_keys(engine: Engine, member_ids: list[int], since: Any) -> dict[int, str]:
    """The idempotency key of each mentor request by ``member_ids`` since ``since``."""
    sql = (
        "SELECT id, idempotency_key FROM mentor_request WHERE mentee_id = ANY(:ids) "
        "AND created_at >= :since"
    )
    with engine.connect() as connection:
        return {
            int(row[0]): str(row[1])
            for row in connection.execute(text(sql), {"ids": member_ids, "since": since})
        }


def in_flight_requests(acks: list[tuple[str, Any]], keys: dict[int, str]) -> dict[str, set[int]]:
    """Requests stored whose client sent them but was stopped before the answer came."""
    sent = {key for kind, key in acks if kind == "request-sent"}
    acked = {i for kind, i in acks if kind == "request"}
    flying = {i for i, key in keys.items() if key in sent and i not in acked}
    return {"request": flying}


def compare_writes(
    acks: list[tuple[str, int]],
    rows: dict[str, set[int]],
    in_flight: dict[str, set[int]] | None = None,
) -> list[list[Any]]:
    """Rows of (kind, acknowledged, in the database, missing, unexpected, acknowledged twice),
    and, given ``in_flight`` (rows whose client was stopped before the answer), a seventh
    column counting those, which are then not unexpected."""
    out = []
    for kind, found in rows.items():
        acked = [i for k, i in acks if k == kind]
        flying = (in_flight or {}).get(kind, set()) & found
        row = [
            kind,
            len(acked),
            len(found),
            len(set(acked) - found),
            len(found - set(acked) - flying),
            len(acked) - len(set(acked)),
        ]
        out.append(row if in_flight is None else [*row, len(flying)])
    return out


def writes_match(comparison: list[list[Any]]) -> bool:
    """True when nothing acknowledged is missing, nothing extra exists and nothing doubled
    (a row whose client was stopped before the answer is neither)."""
    return all(
        acked + sum(flying) == found and not (missing or unexpected or twice)
        for _, acked, found, missing, unexpected, twice, *flying in comparison
    )


# SMTP: a real local server, or one that accepts and never answers ----------------------------


class SmtpSink:
    """aiosmtpd on a fixed loopback port, switchable to a black hole that accepts connections
    and never says a word (so the sender's SMTP timeout is the only way out)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[tuple[str, str]] = []  # (recipient, subject)
        self._lock = threading.Lock()
        self._controller: Any = None
        self._hole: socket.socket | None = None
        self._held: list[socket.socket] = []
        self.hung_connections = 0  # connections the black hole accepted and never answered
        self._hole_thread: threading.Thread | None = None

    def real(self) -> None:
        """Answer as a real SMTP server and keep every message."""
        self._close_hole()
        if self._controller is not None:
            return
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
                from email import message_from_bytes

                subject = message_from_bytes(envelope.content).get("Subject", "")
                with sink._lock:
                    for recipient in envelope.rcpt_tos:
                        sink.messages.append((recipient, subject))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def hang(self) -> None:
        """Accept connections and never answer."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        hole = socket.socket()
        hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hole.bind(("127.0.0.1", self.port))
        hole.listen(64)
        hole.settimeout(0.2)
        self._hole = hole

        def accept() -> None:
            while self._hole is hole:
                try:
                    connection, _ = hole.accept()
                except (TimeoutError, OSError):
                    continue
                self._held.append(connection)
                self.hung_connections += 1

        self._hole_thread = threading.Thread(target=accept, daemon=True)
        self._hole_thread.start()

    def _close_hole(self) -> None:
        hole, self._hole = self._hole, None
        if hole is not None:
            if self._hole_thread is not None:
                self._hole_thread.join(timeout=2)
            hole.close()
        for connection in self._held:
            connection.close()
        self._held.clear()

    def received(self) -> list[tuple[str, str]]:
        """Every message received so far."""
        with self._lock:
            return list(self.messages)

    def stop(self) -> None:
        """Stop whichever server runs."""
        self._close_hole()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# The processes -------------------------------------------------------------------------------


@dataclass
class Shape:
    """PostgreSQL database, Redis, web and worker processes, and the SMTP sink, for one run."""

    members: int = 10_000
    web_workers: int = 4
    admin_url: str = ADMIN_URL
    redis_url: str = REDIS_URL
    # Its own queue, so that two runs on one Redis never take each other's jobs.
    queue_name: str = field(default_factory=lambda: f"peerbridge-shape-{uuid.uuid4().hex}")
    heartbeat_env: dict[str, str] = field(default_factory=dict)
    verbose: bool = True
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pb-shape-")))
    database: str = field(default_factory=lambda: f"peerbridge_shape_{os.getpid()}")
    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    smtp: SmtpSink | None = None
    engine: Engine | None = None

    @property
    def database_url(self) -> str:
        """The run's own database."""
        return make_url(self.admin_url).set(database=self.database).render_as_string(False)

    @property
    def base_url(self) -> str:
        """Where ``peerbridge serve`` listens."""
        return f"http://127.0.0.1:{self.port}"

    def say(self, message: str) -> None:
        """Progress, on stderr, so stdout keeps only the tables."""
        if self.verbose:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every peerbridge process of the run."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
        env.update(
            {
                "PEERBRIDGE_ENVIRONMENT": "production",
                # The harness measures jobs and load, not sign-in: its organiser signs in with a
                # password alone (the staff second-factor rule, on by default in production, is
                # tested in tests/accounts/test_two_factor.py and the page and GraphQL tests).
                "PEERBRIDGE_REQUIRE_SECOND_FACTOR_FOR_STAFF": "false",
                "PEERBRIDGE_SECRET_KEY": "shape-" + "k" * 40,
                "PEERBRIDGE_DATABASE_URL": self.database_url,
                "PEERBRIDGE_REDIS_URL": self.redis_url,
                "PEERBRIDGE_QUEUE_NAME": self.queue_name,
                "PEERBRIDGE_BASE_URL": self.base_url,
                "PEERBRIDGE_JOBS_IN_PROCESS": "false",
                "PEERBRIDGE_EMAIL_BACKEND": "smtp",
                "PEERBRIDGE_SMTP_HOST": "127.0.0.1",
                "PEERBRIDGE_SMTP_PORT": str(self.smtp_port),
                "PEERBRIDGE_SMTP_TIMEOUT_SECONDS": "3",
                "PEERBRIDGE_LOG_FORMAT": "json",
                "PEERBRIDGE_METRICS_TOKEN": self.metrics_token,
                # The load test posts far more than a person would; the limits are not under test.
                "PEERBRIDGE_COMMUNITY_POSTS_PER_HOUR": "1000000",
                "PEERBRIDGE_COMMUNITY_COMMENTS_PER_HOUR": "1000000",
                "PROMETHEUS_MULTIPROC_DIR": str(self.run_dir / "metrics"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.heartbeat_env)
        env.update(extra)
        return env

    # Set-up and tear-down

    def create_database(self) -> None:
        """CREATE DATABASE for this run, migrate it, and empty Redis database 5."""
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}"'))
            connection.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        from redis import Redis

        Redis.from_url(self.redis_url).flushdb()
        (self.run_dir / "metrics").mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.database_url, pool_size=4)

    def migrate(self) -> None:
        """``peerbridge db upgrade``."""
        self.run([PEERBRIDGE, "db", "upgrade"], "migrate")

    def load_demo(self) -> float:
        """``peerbridge demo-data --members N --no-history`` (the demo refuses production).

        Without the twelve months of history, so every seeker is still waiting for a mentor
        and a round has the whole network to match (history would pair most of them first).
        """
        started = time.perf_counter()
        self.run(
            [PEERBRIDGE, "demo-data", "--members", str(self.members), "--no-history"],
            "demo-data",
            PEERBRIDGE_ENVIRONMENT="development",
        )
        return time.perf_counter() - started

    def run(self, command: list[str], name: str, **extra: str) -> None:
        """Run a command to completion; its output goes to the run's log folder."""
        log = self.run_dir / f"{name}.log"
        with log.open("ab") as out:
            code = subprocess.run(
                command, cwd=ROOT, env=self.env(**extra), stdout=out, stderr=out, check=False
            ).returncode
        if code:
            raise ShapeError(f"`{' '.join(command[1:])}` exited {code}; see {log}")

    def start(self, name: str, command: list[str], **extra: str) -> subprocess.Popen:
        """Start a long-running process in its own process group."""
        log = self.run_dir / f"{name}.log"
        self.logs[name] = log
        out = log.open("ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env(**extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        self.processes[name] = process
        return process

    def start_web(self, *, wait: bool = True) -> None:
        """``peerbridge serve --workers N``, by default waiting until /readyz says ready."""
        self.start(
            "web",
            [
                PEERBRIDGE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.web_workers),
            ],
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Wait until every web worker can answer (/readyz 200 several times in a row)."""
        deadline = time.monotonic() + timeout
        streak = 0
        while time.monotonic() < deadline:
            if self.processes["web"].poll() is not None:
                raise ShapeError(f"peerbridge serve exited; see {self.logs['web']}")
            try:
                ready = httpx.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
            except httpx.HTTPError:
                ready = False
            streak = streak + 1 if ready else 0
            if streak >= 2 * self.web_workers:
                return
            time.sleep(0.2 if ready else 0.5)
        raise ShapeError(f"peerbridge serve was not ready within {timeout:.0f} s")

    def start_worker(self) -> subprocess.Popen:
        """``peerbridge worker`` with a one-second periodic pass."""
        return self.start("worker", [PEERBRIDGE, "worker", "--interval", "1"])

    def kill_worker(self) -> list[int]:
        """SIGKILL the worker and every process under it (its job process, which RQ puts in a
        process group of its own, and its periodic process), as an OOM kill or a lost
        container would. Returns the pids killed."""
        import psutil

        process = self.processes.pop("worker")
        try:
            tree = [psutil.Process(process.pid)]
            tree += tree[0].children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        for member in tree:
            with suppress(psutil.NoSuchProcess):
                member.send_signal(signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        psutil.wait_procs(tree, timeout=30)
        return [member.pid for member in tree]

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL), the SMTP sink, and drop the database."""
        for name, process in list(self.processes.items()):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            self.processes.pop(name, None)
        if self.smtp is not None:
            self.smtp.stop()
        if self.engine is not None:
            self.engine.dispose()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        admin.dispose()

    @contextmanager
    def running(self) -> Iterator[Shape]:
        """The whole shape up (database, demo network, SMTP, web, worker), torn down after."""
        try:
            self.say(f"database {self.database}, logs in {self.run_dir}")
            self.create_database()
            self.smtp = SmtpSink(self.smtp_port)
            self.smtp.real()
            # The web processes start (import the app) while the database is migrated and the
            # demo network loads; the worker once the tables exist.
            self.say(f"starting peerbridge serve --workers {self.web_workers}")
            self.start_web(wait=False)
            self.migrate()
            self.start_worker()
            self.say(f"loading a demo network of {self.members:,} members")
            seconds = self.load_demo()
            self.say(f"demo network loaded in {seconds:.0f} s")
            self.wait_ready()
            self.say(f"serving on {self.base_url}")
            yield self
        finally:
            self.stop()

    # Reading the database and the logs

    def scalar(self, sql: str, **params: Any) -> Any:
        """One value from the run's database."""
        assert self.engine is not None
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def log_lines(self, name: str, contains: str = "", limit: int = 20) -> list[str]:
        """The last lines of a process's log that contain ``contains``."""
        log = self.run_dir / f"{name}.log"
        if not log.exists():
            return []
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if contains in ln]
        return lines[-limit:]

    def organiser(self) -> Api:
        """A GraphQL client signed in as the demo organiser."""
        api = Api(self.base_url)
        api.log_in(ORGANISER)
        return api

    def metrics(self) -> str:
        """The web /metrics text."""
        response = httpx.get(
            f"{self.base_url}/metrics",
            headers={"Authorization": f"Bearer {self.metrics_token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.text


# Scenario 1: rounds --------------------------------------------------------------------------


@dataclass
class RoundRun:
    """One round as the organiser saw it."""

    round_id: int
    status: str
    seconds: float
    mentees: int | None
    matched: int | None
    error: str = ""
    seen: list[str] = field(default_factory=list)


def create_round(api: Api, name: str, seed: int) -> int:
    """Create a whole-network round; returns its database id."""
    value = api.call(
        "createMatchingRound",
        CREATE_ROUND,
        {"input": {"name": name, "cohort": "SEEKING", "seed": seed}},
    )
    return db_id(value["round"]["id"])


def round_state(api: Api, round_id: int) -> dict[str, Any]:
    """The round's status, progress, stage, error and figures."""
    global_id = base64.b64encode(f"MatchingRound:{round_id}".encode()).decode()
    return api.call("matchingRound", ROUND, {"id": global_id})


def wait_for_round(
    api: Api,
    round_id: int,
    *,
    timeout: float,
    until: tuple[str, ...] = ("READY", "FAILED"),
    started: float | None = None,
) -> RoundRun:
    """Poll until the round's status is one of ``until`` (or the time is up)."""
    started = started or time.perf_counter()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = round_state(api, round_id)
        if not seen or seen[-1] != state["status"]:
            seen.append(state["status"])
        if state["status"] in until:
            break
        time.sleep(0.5)
    figures = state.get("figures") or {}
    return RoundRun(
        round_id=round_id,
        status=state.get("status", "?"),
        seconds=time.perf_counter() - started,
        mentees=figures.get("mentees"),
        matched=figures.get("matched"),
        error=state.get("error") or "",
        seen=seen,
    )


def proposals_check(shape: Shape, round_id: int) -> tuple[int, int, int]:
    """(proposals, distinct mentees among them, mentees the round's figures count)."""
    total = shape.scalar("SELECT count(*) FROM match_proposal WHERE round_id = :r", r=round_id)
    distinct = shape.scalar(
        "SELECT count(DISTINCT mentee_id) FROM match_proposal WHERE round_id = :r", r=round_id
    )
    summary = shape.scalar("SELECT summary FROM matching_round WHERE id = :r", r=round_id)
    mentees = json.loads(summary or "{}").get("mentees", -1)
    return int(total), int(distinct), int(mentees)


def scenario_rounds(shape: Shape, count: int, timeout: float = 600.0) -> list[RoundRun]:
    """``count`` rounds, one after another; each must reach READY with whole proposals."""
    api = shape.organiser()
    runs = []
    try:
        for n in range(count):
            started = time.perf_counter()
            round_id = create_round(api, f"Production shape round {n + 1}", seed=n)
            run = wait_for_round(api, round_id, timeout=timeout, started=started)
            total, distinct, mentees = proposals_check(shape, round_id)
            run.error = run.error or (
                "" if total == distinct == mentees else f"{total} proposals, {mentees} mentees"
            )
            runs.append(run)
            shape.say(f"round {n + 1}: {run.status} in {run.seconds:.1f} s")
    finally:
        api.close()
    return runs


# Scenario 2: SIGKILL the worker mid-round -----------------------------------------------------


RETRY_MUTATIONS = (
    # The API the jobs work adds to run a failed round again; tried in this order.
    (
        "retryMatchingRound",
        """mutation($input: RetryMatchingRoundInput!) { retryMatchingRound(input: $input) {
        __typename ... on Error { message } } }""",
    ),
)


@dataclass
class KillRun:
    """What happened to the round whose worker was killed."""

    round_id: int
    killed_at_progress: float
    status_after_kill: str
    recovery: str
    final: RoundRun
    proposals: tuple[int, int, int]
    worker_log: list[str]

    @property
    def ok(self) -> bool:
        """READY in the end, with one proposal per mentee."""
        total, distinct, mentees = self.proposals
        return self.final.status == "READY" and total == distinct == mentees


def scenario_kill_worker(
    shape: Shape,
    *,
    start_timeout: float = 120.0,
    recover_timeout: float = 180.0,
    run_timeout: float = 600.0,
) -> KillRun:
    """Start a round, SIGKILL the worker once it is running, restart it, and see the round
    through: READY, or FAILED and retried to READY; never stuck RUNNING."""
    api = shape.organiser()
    # A small round can go from QUEUED to READY between two polls. Hold a write lock on the
    # proposals table (reads still pass) so the job, once RUNNING, cannot write its result
    # until the worker has been killed: the kill then always lands mid-round, at the last and
    # hardest moment (the result half-written in an open transaction).
    assert shape.engine is not None
    hold = shape.engine.connect()
    hold_open = hold.begin()
    hold.exec_driver_sql("LOCK TABLE match_proposal IN EXCLUSIVE MODE")
    try:
        round_id = create_round(api, "Killed mid-round", seed=99)
        running = wait_for_round(api, round_id, timeout=start_timeout, until=("RUNNING", "READY"))
        if running.status != "RUNNING":
            # Nothing to kill: the worker lost the round before it started (or was too quick).
            return KillRun(
                round_id=round_id,
                killed_at_progress=0.0,
                status_after_kill="(not killed)",
                recovery=f"never RUNNING within {start_timeout:.0f} s: {'->'.join(running.seen)}",
                final=running,
                proposals=proposals_check(shape, round_id),
                worker_log=shape.log_lines("worker", "rror", 10),
            )
        # Let it get into the matcher (past reading members), then kill.
        progress = 0.0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = round_state(api, round_id)
            progress = state["progress"]
            if state["status"] != "RUNNING" or progress >= 0.1:
                break
            time.sleep(0.2)
        killed = shape.kill_worker()
        shape.say(f"worker killed (SIGKILL, {len(killed)} processes) at progress {progress:.2f}")
        status_after_kill = round_state(api, round_id)["status"]
        hold_open.rollback()
        hold.close()
        shape.start_worker()
        started = time.perf_counter()
        outcome = wait_for_round(api, round_id, timeout=recover_timeout)
        recovery = f"{'->'.join(outcome.seen)}"
        if outcome.status == "FAILED":
            retried = False
            for field_name, mutation in RETRY_MUTATIONS:
                try:
                    api.call(field_name, mutation, {"input": {"roundId": _round_gid(round_id)}})
                    retried = True
                    recovery += f", retried with {field_name}"
                    break
                except GraphQLFailure as error:
                    recovery += f", {field_name} refused: {error}"
            if retried:
                outcome = wait_for_round(api, round_id, timeout=run_timeout, started=started)
                recovery += f"->{'->'.join(outcome.seen)}"
        elif outcome.status not in ("READY",):
            recovery += f" (still {outcome.status} after {recover_timeout:.0f} s: stuck)"
        return KillRun(
            round_id=round_id,
            killed_at_progress=progress,
            status_after_kill=status_after_kill,
            recovery=recovery,
            final=outcome,
            proposals=proposals_check(shape, round_id),
            worker_log=shape.log_lines("worker", "rror", 10),
        )
    finally:
        if hold_open.is_active:
            hold_open.rollback()
        hold.close()
        api.close()


def _round_gid(round_id: int) -> str:
    return base64.b64encode(f"MatchingRound:{round_id}".encode()).decode()


# Scenario 3: SMTP that hangs, then answers ----------------------------------------------------


@dataclass
class SmtpRun:
    """Emails queued while SMTP hung, what arrived once it answered, and log-in latency."""

    queued: int
    delivered_once: int
    missing: int
    duplicated: int
    login_before: list[float]
    login_during: list[float]
    seconds_to_deliver: float
    hung_connections: int

    @property
    def ok(self) -> bool:
        """Every email exactly once."""
        return self.missing == 0 and self.duplicated == 0 and self.delivered_once == self.queued


def _login_times(shape: Shape, emails: list[str], seconds: float) -> list[float]:
    times: list[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        api = Api(shape.base_url)
        started = time.perf_counter()
        api.log_in(emails[n % len(emails)])
        times.append(time.perf_counter() - started)
        api.close()
        n += 1
    return times


def scenario_smtp(
    shape: Shape,
    *,
    emails: int = 20,
    hang_seconds: float = 20.0,
    before_seconds: float = 10.0,
    deliver_timeout: float = 120.0,
) -> SmtpRun:
    """Queue password-reset emails while SMTP accepts and never answers; measure log-ins
    meanwhile; then let SMTP answer and check each email arrives exactly once."""
    assert shape.smtp is not None
    people = _members(shape, emails + 6, seeking=False)
    canary, recipients, login_people = people[0], people[1 : emails + 1], people[emails + 1 :]
    anonymous = Api(shape.base_url)
    # First, one email through the real server: the worker's outbox pass is up and sending.
    anonymous.call("requestPasswordReset", RESET, {"input": {"email": canary}})
    deadline = time.monotonic() + deliver_timeout
    while time.monotonic() < deadline and canary not in {r for r, _ in shape.smtp.received()}:
        time.sleep(0.5)
    if canary not in {r for r, _ in shape.smtp.received()}:
        raise ShapeError(f"the outbox sent nothing within {deliver_timeout:.0f} s")
    before = len(shape.smtp.received())
    hung_before = shape.smtp.hung_connections
    login_before = _login_times(shape, login_people, before_seconds)
    shape.smtp.hang()
    shape.say(f"SMTP hangs; queueing {emails} emails")
    for email in recipients:
        anonymous.call("requestPasswordReset", RESET, {"input": {"email": email}})
    anonymous.close()
    login_during = _login_times(shape, login_people, hang_seconds)
    # Hang until the outbox has at least tried the silent server (bounded).
    deadline = time.monotonic() + 60
    while shape.smtp.hung_connections == hung_before and time.monotonic() < deadline:
        login_during += _login_times(shape, login_people, 1.0)
    shape.smtp.real()
    shape.say("SMTP answers again")
    # The failed attempts were put back by the outbox's back-off (a minute or more); bring them
    # forward, as if that time had passed, rather than wait.
    started = time.perf_counter()
    deadline = time.monotonic() + deliver_timeout
    wanted = {e.lower() for e in recipients}
    while time.monotonic() < deadline:
        with shape.engine.begin() as connection:  # type: ignore[union-attr]
            connection.execute(
                text(
                    "UPDATE outbox_email SET next_attempt_at = now() "
                    "WHERE sent_at IS NULL AND next_attempt_at > now()"
                )
            )
        got = [r.lower() for r, _ in shape.smtp.received()[before:]]
        if wanted <= set(got):
            break
        time.sleep(1.0)
    time.sleep(3.0)  # anything doubled would arrive now
    got = [r.lower() for r, _ in shape.smtp.received()[before:]]
    counts = {r: got.count(r) for r in wanted}
    return SmtpRun(
        queued=emails,
        delivered_once=sum(1 for c in counts.values() if c == 1),
        missing=sum(1 for c in counts.values() if c == 0),
        duplicated=sum(1 for c in counts.values() if c > 1),
        login_before=login_before,
        login_during=login_during,
        seconds_to_deliver=time.perf_counter() - started,
        hung_connections=shape.smtp.hung_connections - hung_before,
    )


def _members(shape: Shape, count: int, *, seeking: bool, offset: int = 0) -> list[str]:
    """Emails of generated demo members (the demo accounts left out)."""
    assert shape.engine is not None
    with shape.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT email FROM member WHERE seeking_mentor = :s AND email LIKE '%.example' "
                "AND email NOT LIKE '%@demo.peerbridge.example' ORDER BY id "
                "LIMIT :n OFFSET :o"
            ),
            {"s": seeking, "n": count, "o": offset},
        ).all()
    return [row[0] for row in rows]


# Scenario 4: load with locust -----------------------------------------------------------------


@dataclass
class LoadRun:
    """One locust run: per-operation figures and the write check."""

    users: int
    seconds: float
    stats: list[dict[str, Any]]
    comparison: list[list[Any]]
    failures: list[str]

    @property
    def errors(self) -> int:
        """Failed requests over all operations."""
        return sum(int(s["failures"]) for s in self.stats)


def scenario_load(shape: Shape, users: int, seconds: int, *, offset: int = 0) -> LoadRun:
    """locust, headless, ``users`` members at once for ``seconds``; then the write check."""
    accounts = _members(shape, users, seeking=True, offset=offset)
    if len(accounts) < users:
        raise ShapeError(f"only {len(accounts)} members seeking a mentor; need {users}")
    out = shape.run_dir / f"load-{users}"
    out.mkdir(exist_ok=True)
    (out / "accounts.json").write_text(json.dumps(accounts))
    acks_file = out / "acks.json"
    member_ids = _ids_of(shape, accounts)
    since = shape.scalar("SELECT now()")
    env = shape.env(
        PEERBRIDGE_LOAD_ACCOUNTS=str(out / "accounts.json"),
        PEERBRIDGE_LOAD_ACKS=str(acks_file),
        PYTHONPATH=str(ROOT),
    )
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "30",
        "--host",
        shape.base_url,
        "--csv",
        str(out / "locust"),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    started = time.perf_counter()
    with (out / "locust.log").open("wb") as log:
        subprocess.run(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, check=False, timeout=seconds + 120
        )
    elapsed = time.perf_counter() - started
    stats = _locust_stats(out / "locust_stats.csv")
    failures = _locust_failures(out / "locust_failures.csv")
    acks = [tuple(a) for a in json.loads(acks_file.read_text())] if acks_file.exists() else []
    rows = count_rows(shape.engine, member_ids, since)  # type: ignore[arg-type]
    flying = in_flight_requests(acks, request_keys(shape.engine, member_ids, since))  # type: ignore[arg-type]
    return LoadRun(
        users=users,
        seconds=elapsed,
        stats=stats,
        comparison=compare_writes(acks, rows, flying),  # type: ignore[arg-type]
        failures=failures,
    )


def _ids_of(shape: Shape, emails: list[str]) -> list[int]:
    assert shape.engine is not None
    with shape.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id FROM member WHERE email = ANY(:e)"), {"e": emails}
        ).all()
    return [row[0] for row in rows]


def _locust_stats(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise ShapeError(f"locust wrote no statistics ({path}); see its log beside it")
    rows = []
    with path.open() as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": _number(row["50%"]),
                    "p95": _number(row["95%"]),
                    "p99": _number(row["99%"]),
                }
            )
    return rows


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:  # "N/A" when an operation never ran
        return 0.0


def _locust_failures(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [
            f"{row['Name']}: {row['Error'][:200]} (x{row['Occurrences']})"
            for row in csv.DictReader(handle)
        ]


# Reporting -----------------------------------------------------------------------------------


def machine() -> str:
    """A one-line description of this machine and its software."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores {cpu}{memory}, Python {platform.python_version()}"


def report_rounds(runs: list[RoundRun]) -> str:
    """The rounds table."""
    rows = [
        [i + 1, r.round_id, r.status, r.seconds, r.mentees, r.matched, r.error or "-"]
        for i, r in enumerate(runs)
    ]
    times = [r.seconds for r in runs]
    rows.append(["median", "", "", statistics.median(times) if times else 0, "", "", ""])
    return table(
        "Matching rounds, one after another (create -> READY, seconds)",
        ["#", "round", "status", "seconds", "mentees", "matched", "problem"],
        rows,
    )


def report_kill(run: KillRun) -> str:
    """The kill-and-recover table."""
    total, distinct, mentees = run.proposals
    return table(
        "Worker SIGKILLed mid-round, then restarted",
        [
            "round",
            "killed at",
            "status after kill",
            "what happened",
            "final",
            "proposals",
            "distinct mentees",
            "mentees",
        ],
        [
            [
                run.round_id,
                f"{run.killed_at_progress:.0%}",
                run.status_after_kill,
                run.recovery,
                run.final.status,
                total,
                distinct,
                mentees,
            ]
        ],
    )


def report_smtp(run: SmtpRun) -> str:
    """The hung-SMTP table."""

    def ms(values: list[float], share: float) -> float:
        return percentile(values, share) * 1000

    return table(
        "SMTP accepts and never answers, then answers",
        [
            "emails queued",
            "SMTP connections hung",
            "delivered once",
            "missing",
            "doubled",
            "delivered within (s)",
            "log-ins before",
            "p50 before (ms)",
            "p95 before (ms)",
            "log-ins during hang",
            "p50 during (ms)",
            "p95 during (ms)",
            "max during (ms)",
        ],
        [
            [
                run.queued,
                run.hung_connections,
                run.delivered_once,
                run.missing,
                run.duplicated,
                run.seconds_to_deliver,
                len(run.login_before),
                ms(run.login_before, 0.5),
                ms(run.login_before, 0.95),
                len(run.login_during),
                ms(run.login_during, 0.5),
                ms(run.login_during, 0.95),
                max(run.login_during, default=0) * 1000,
            ]
        ],
    )


def report_load(runs: list[LoadRun]) -> str:
    """The load tables: per operation, and the write check."""
    rows = []
    for run in runs:
        for s in run.stats:
            rows.append(
                [
                    run.users,
                    s["name"],
                    s["requests"],
                    s["failures"],
                    s["rps"],
                    s["p50"],
                    s["p95"],
                    s["p99"],
                ]
            )
    out = [
        table(
            "Load (locust, headless, loopback; latency in ms)",
            ["users", "operation", "requests", "errors", "req/s", "p50", "p95", "p99"],
            rows,
        )
    ]
    checks = [[run.users, *row] for run in runs for row in run.comparison]
    out.append(
        table(
            "Writes under load: acknowledged to clients vs rows in the database",
            [
                "users",
                "kind",
                "acknowledged",
                "in database",
                "missing",
                "unexpected",
                "acknowledged twice",
                "in flight at stop",
            ],
            checks,
        )
    )
    return "\n".join(out)


def main() -> int:
    """Run every scenario and print the tables; exit 1 if any did not hold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--users", default="1,8,32", help="comma-separated locust user counts")
    parser.add_argument("--duration", type=int, default=60, help="seconds per load run")
    parser.add_argument("--skip", default="", help="comma-separated: rounds,kill,smtp,load")
    parser.add_argument("--round-timeout", type=float, default=300.0, help="seconds per round")
    args = parser.parse_args()
    # Tear down (processes, database) on Ctrl-C and on `kill`, even when run in the background.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    skip = set(filter(None, args.skip.split(",")))
    # A round whose worker died is marked failed after 30 s without a heartbeat (120 s by
    # default), so the kill scenario does not wait two minutes.
    heartbeat = {"PEERBRIDGE_JOB_HEARTBEAT_SECONDS": "2", "PEERBRIDGE_JOB_STALE_SECONDS": "30"}
    shape = Shape(members=args.members, web_workers=args.web_workers, heartbeat_env=heartbeat)
    problems: list[str] = []
    print(
        f"Machine: {machine()}; {args.members:,} generated members; "
        f"serve --workers {args.web_workers}; 1 worker"
    )
    with shape.running():

        def rounds() -> None:
            runs = scenario_rounds(shape, args.rounds, timeout=args.round_timeout)
            print(report_rounds(runs), flush=True)
            problems.extend(
                f"round {r.round_id}: {r.status} {r.error}"
                for r in runs
                if r.status != "READY" or r.error
            )

        def smtp() -> None:
            run = scenario_smtp(shape)
            print(report_smtp(run), flush=True)
            if not run.ok:
                problems.append("hung SMTP: emails missing or doubled")

        def kill() -> None:
            run = scenario_kill_worker(shape)
            print(report_kill(run), flush=True)
            if not run.ok:
                problems.append(f"kill-and-recover: {run.recovery}")
                print("\nWorker log (errors):\n" + "\n".join(run.worker_log))

        def load() -> None:
            loads = []
            offset = 0
            for users in [int(u) for u in args.users.split(",") if u]:
                shape.say(f"load: {users} users for {args.duration} s")
                loads.append(scenario_load(shape, users, args.duration, offset=offset))
                offset += users
            print(report_load(loads), flush=True)
            for run in loads:
                if run.errors:
                    problems.append(f"load at {run.users} users: {run.errors} errors")
                    print("\n".join(run.failures[:20]))
                if not writes_match(run.comparison):
                    problems.append(f"load at {run.users} users: writes do not match")

        # The hung SMTP goes before the kill, so it does not wait for a restarted worker.
        for name, scenario in (("rounds", rounds), ("smtp", smtp), ("kill", kill), ("load", load)):
            if name in skip:
                continue
            try:
                scenario()
            except Exception as error:  # report it and go on with the next scenario
                problems.append(f"{name}: {type(error).__name__}: {error}")
                print(f"\n{name}: {type(error).__name__}: {error}", flush=True)
        print(f"\n/metrics after the run: {len(shape.metrics().splitlines())} lines")
    if problems:
        print("\nDID NOT HOLD:\n- " + "\n- ".join(problems))
        return 1
    print("\nEvery scenario held.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
