"""Links in emails follow the address served (`make run HOST=... PORT=...`) unless set."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from backend.settings import Settings, get_settings, serving_base_url


def test_without_a_base_url_links_follow_the_serving_port():
    settings = Settings(base_url="", serve_port=8123)
    assert settings.base_url == "http://127.0.0.1:8123"


def test_an_explicit_base_url_wins_over_the_serving_address():
    settings = Settings(base_url="https://peerbridge.example", serve_host="10.0.0.5", serve_port=9)
    assert settings.base_url == "https://peerbridge.example"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123"),
        ("localhost", "http://localhost:8123"),
        ("0.0.0.0", "http://127.0.0.1:8123"),  # noqa: S104 - a wildcard listen address
        ("::", "http://127.0.0.1:8123"),
        ("::1", "http://[::1]:8123"),
    ],
)
def test_the_serving_address_as_a_link(host, expected):
    assert serving_base_url(host, 8123) == expected


def test_a_port_out_of_range_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="serve_port"):
        Settings(serve_port=70000)


def _serve(monkeypatch, *arguments: str) -> tuple[dict[str, str], str]:
    """Run `peerbridge serve ARGUMENTS`; what a fresh server process of the app would read
    (uvicorn's process is stood in for) and the command's output."""
    import uvicorn

    from backend.accounts import service as accounts
    from backend.cli import app

    monkeypatch.setenv("PEERBRIDGE_SERVE_HOST", "unset")
    monkeypatch.setenv("PEERBRIDGE_SERVE_PORT", "1")
    monkeypatch.setenv("PEERBRIDGE_PROCESSES", "1")
    seen: dict[str, str] = {}

    def server_process(*args: object, **kwargs: object) -> None:
        get_settings.cache_clear()
        seen["settings"] = Settings().base_url
        seen["link"] = accounts._link("/verify", "abc")
        seen["port"] = str(kwargs["port"])

    monkeypatch.setattr(uvicorn, "run", server_process)
    try:
        result = CliRunner().invoke(app, ["serve", *arguments])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return seen, result.output


def test_serve_on_port_8123_without_a_base_url_sends_links_to_that_port(monkeypatch):
    """`peerbridge serve --port 8123` (what `make run PORT=8123` runs): the server processes,
    which read their settings afresh from the environment, build links to port 8123."""
    monkeypatch.delenv("PEERBRIDGE_BASE_URL", raising=False)
    seen, _ = _serve(monkeypatch, "--port", "8123")
    assert seen == {
        "settings": "http://127.0.0.1:8123",
        "link": "http://127.0.0.1:8123/verify?token=abc",
        "port": "8123",
    }


def test_serve_keeps_an_explicit_base_url(monkeypatch):
    monkeypatch.setenv("PEERBRIDGE_BASE_URL", "https://peerbridge.example")
    seen, output = _serve(monkeypatch, "--host", "0.0.0.0", "--port", "8123")  # noqa: S104
    assert seen["link"] == "https://peerbridge.example/verify?token=abc"
    assert "Links in emails: https://peerbridge.example" in output
