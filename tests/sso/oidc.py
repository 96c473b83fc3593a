"""A real OpenID provider for the tests (oidc-provider on Node, tests/sso/provider.mjs), and
a way to sign in at it without a browser: its own login form, submitted with httpx."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from backend.settings import PROJECT_ROOT

SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
CLIENT_ID = "peerbridge"
CLIENT_SECRET = "peerbridge-test-secret"


def skip_without_node() -> None:
    """Skip, with the reason, where Node or the oidc-provider package is missing."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the single sign-on tests need a real OpenID provider")
    if not (PROJECT_ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node_modules/oidc-provider is missing: run `make install`")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OpenIdProvider:
    """The running provider: its issuer, and the test-only switch that alters a token."""

    issuer: str

    def tamper_next_token(self, mode: str) -> None:
        """Make the next ID token wrong in one way (see provider.mjs): wrong_aud, expired..."""
        response = httpx.get(f"{self.issuer}/__test/tamper", params={"mode": mode}, timeout=10)
        assert response.json() == {"tamper": mode}

    def honest(self) -> None:
        """Stop any alteration not yet applied."""
        httpx.get(f"{self.issuer}/__test/tamper", timeout=10)


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[OpenIdProvider]:
    """Start the provider on a free port, with the client registered for ``redirect_uris``."""
    skip_without_node()
    port = _free_port()
    process = subprocess.Popen(
        ["node", str(SCRIPT), str(port), *redirect_uris],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        deadline = time.monotonic() + 30
        while not line.startswith("READY") and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
        if not line.startswith("READY"):
            errors = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"the OpenID provider did not start: {errors}")
        yield OpenIdProvider(issuer=line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.S)


def sign_in_at_provider(authorize_url: str, login: str, *, until: str) -> str:
    """Go to the provider's authorization address in a fresh browser-like client, fill in its
    login form with ``login`` (any password), and return the address it sends the browser
    back to (the first redirect starting with ``until``)."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        url = authorize_url
        for _ in range(10):
            response = browser.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if url.startswith(until):
                    return url
                continue
            form = FORM.search(response.text)
            assert form, f"no login form at {url}: {response.status_code} {response.text[:300]}"
            response = browser.post(
                urljoin(url, unescape(form.group(1))),
                data={"prompt": "login", "login": login, "password": "any password"},
            )
            assert response.is_redirect, response.text[:300]
            url = urljoin(url, response.headers["location"])
            if url.startswith(until):
                return url
        raise AssertionError("the provider never sent the browser back")
