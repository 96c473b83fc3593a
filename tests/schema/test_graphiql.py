"""GraphiQL in development: served from the installed npm packages, never from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from backend.settings import Settings
from peerbridge.app import create_app
from schema.graphiql import ASSET_PREFIX, ASSETS
from tests.schema.conftest import TestClient


@pytest.fixture
def dev(engine) -> Iterator[TestClient]:
    app = create_app(
        settings=Settings(environment="development", jobs_in_process=False), engine=engine
    )
    with TestClient(app) as client:
        yield client


def test_the_page_references_no_external_url_and_carries_the_csp_nonce(dev):
    response = dev.get("/graphql")

    assert response.status_code == 200
    page = response.text
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.IGNORECASE)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(sources) == sorted(f"{ASSET_PREFIX}/{name}" for name in ASSETS)
    csp = response.headers["content-security-policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert "cdn" not in csp and "unpkg" not in csp and "jsdelivr" not in csp
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert re.search(rf'<style nonce="{nonce}"', page)


@pytest.mark.parametrize(
    ("name", "media_type", "marker"),
    [
        ("react.js", "text/javascript", "React"),
        ("react-dom.js", "text/javascript", "ReactDOM"),
        ("graphiql.js", "text/javascript", "GraphiQL"),
        ("graphiql.css", "text/css", ".graphiql-container"),
    ],
)
def test_each_bundle_is_served_from_node_modules_with_its_content_type(
    dev, name, media_type, marker
):
    response = dev.get(f"{ASSET_PREFIX}/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert marker in response.text
    assert response.content == ASSETS[name][0].read_bytes()


def test_only_the_listed_files_are_served(dev):
    for path in ("nope.js", "..%2Fpackage.json", "%2E%2E%2F%2E%2E%2Fbackend%2Fsettings.py"):
        assert dev.get(f"{ASSET_PREFIX}/{path}").status_code == 404


def test_outside_development_neither_the_page_nor_its_files_are_served(client):
    assert client.get("/graphql").status_code == 405
    for name in ASSETS:
        assert client.get(f"{ASSET_PREFIX}/{name}").status_code == 404
