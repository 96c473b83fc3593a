"""The round's review page walks its proposals by key: Next and Previous, never an offset."""

from __future__ import annotations

import re

import pytest

from tests.perf.networks import make_review
from tests.web.conftest import log_in


@pytest.fixture
def review(session):
    return make_review(session)


def test_the_review_page_follows_next_and_previous_links(client, review):
    _, email, round_id, expected = review
    log_in(client, email)

    def ids_and_links(path):
        html = client.get(path).text
        shown = [int(i) for i in re.findall(rf"/organise/rounds/{round_id}/proposals/(\d+)", html)]
        links = dict(
            (rel, href.replace("&amp;", "&"))
            for href, rel in re.findall(r'href="([^"]+)" rel="(next|prev)"', html)
        )
        return list(dict.fromkeys(shown)), links

    first, links = ids_and_links(f"/organise/rounds/{round_id}")
    assert first == expected[:50] and "prev" not in links
    second, links = ids_and_links(links["next"])
    assert second == expected[50:] and "next" not in links
    again, links = ids_and_links(links["prev"])
    assert again == first and "prev" not in links
    # A cursor that is not one falls back to the first page.
    assert ids_and_links(f"/organise/rounds/{round_id}?page=9&after=junk")[0] == first
