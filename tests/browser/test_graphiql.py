"""GraphiQL loads offline: every request off this machine is aborted, and it still runs."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from backend.settings import Settings
from peerbridge.app import create_app
from tests.browser.conftest import screenshot, serving

LOCAL = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture
def dev_server(engine) -> Iterator[str]:
    """The app in development (where GraphiQL is served) on a free local port."""
    settings = Settings(environment="development", jobs_in_process=False)
    with serving(create_app(settings=settings, engine=engine)) as base_url:
        yield base_url


def test_graphiql_loads_with_no_network_and_runs_a_query(browser, dev_server, request):
    context = browser.new_context(base_url=dev_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    aborted: list[str] = []
    problems: list[str] = []

    def only_this_machine(route):  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_machine)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto("/graphql")
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        editor.wait_for(state="visible", timeout=15_000)
        page.evaluate(
            "document.querySelector('.graphiql-query-editor .CodeMirror')"
            ".CodeMirror.setValue('{ __typename }')"
        )
        page.locator(".graphiql-execute-button").click()
        result = page.locator(".result-window")
        result.get_by_text('"__typename": "Query"').wait_for(timeout=15_000)
        screenshot(page, "graphiql-offline", request)
    finally:
        context.close()

    assert aborted == []  # nothing was even asked of the internet
    assert problems == []  # no "Cookies is not defined", no CSP refusal
