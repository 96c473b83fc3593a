"""Browser tests: the real app served by uvicorn, driven by headless system Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine

from backend.settings import PROJECT_ROOT
from peerbridge.app import create_app
from tests.web.conftest import session  # noqa: F401 - the test session that never blocks the app

CHROMIUM = Path("/usr/bin/chromium")
STARTED = time.time()
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"

if not CHROMIUM.exists():
    pytest.skip("Chromium is not installed at /usr/bin/chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(engine: Engine) -> Iterator[str]:
    """The app on a free local port against the test database; yields its base URL."""
    with serving(create_app(engine=engine)) as base_url:
        yield base_url


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free local port in a thread; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_keep_alive=1,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module, closed before other suites run.

    Playwright's sync API keeps an event loop running in the main thread while it is open,
    which would break later tests that start their own loop.
    """
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) on the live server, failing on CSP violations."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    problems = watch_for_problems(new_page)
    yield new_page
    context.close()
    assert problems == [], problems


def watch_for_problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    """A list that collects the page's CSP violations and script errors as they happen."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def screenshot(page, name: str, request: pytest.FixtureRequest) -> Path:  # type: ignore[no-untyped-def]
    """Keep a full-page screenshot as a test artefact (one per database)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    database = request.node.callspec.params.get("engine", "db")
    path = SCREENSHOTS / f"{name}-{database}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Name the axe-core reports this run wrote (every page, role, width and violation)."""
    from tests.browser.axe import REPORTS

    written = [p for p in sorted(REPORTS.glob("*.tsv")) if p.stat().st_mtime >= STARTED]
    if written:
        terminalreporter.write_sep("-", "axe-core reports (page, role, width, violations)")
        for path in written:
            rows = path.read_text().splitlines()[1:]
            failing = sum(1 for row in rows if not row.endswith("0 violations"))
            terminalreporter.write_line(f"{path}: {len(rows)} checks, {failing} with violations")
