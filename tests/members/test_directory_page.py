"""The members page reads the search words from ?text= or ?q= alike."""

from __future__ import annotations

from tests.factories import make_member
from tests.web.conftest import client, log_in, session  # noqa: F401 - fixtures


def test_q_searches_as_text_does(client, session):  # noqa: F811
    viewer = make_member(session, name="Viewer")
    make_member(session, name="Rhea Rota", job_title="Rota lead")
    make_member(session, name="Fay Finance", job_title="Finance lead")
    log_in(client, viewer.email)

    by_q = client.get("/members?q=rota")
    by_text = client.get("/members?text=rota")

    assert by_q.status_code == 200
    assert "Rhea Rota" in by_q.text and "Fay Finance" not in by_q.text
    assert "Rhea Rota" in by_text.text and "Fay Finance" not in by_text.text
    assert 'value="rota"' in by_q.text  # the box shows what was searched
