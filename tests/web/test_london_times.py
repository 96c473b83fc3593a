"""Every date and time on the pages is London time, with summer time (issue 13, item 2)."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.audit import actions as a
from backend.audit.models import AuditEvent
from tests.factories import make_member, make_organiser, make_post
from tests.web.conftest import log_in

JULY_0930_UTC = datetime(2026, 7, 14, 9, 30, tzinfo=UTC)
DECEMBER_0930_UTC = datetime(2026, 12, 14, 9, 30, tzinfo=UTC)


def test_a_post_shows_its_london_time_on_its_page_and_in_the_feed(client, session):
    reader = make_member(session)
    summer = make_post(session, title="Summer rota", created_at=JULY_0930_UTC)
    winter = make_post(session, title="Winter rota", created_at=DECEMBER_0930_UTC)
    log_in(client, reader.email)

    summer_page = client.get(f"/community/posts/{summer.id}").text
    winter_page = client.get(f"/community/posts/{winter.id}").text
    feed = client.get("/community").text

    assert "14 July 2026 at 10:30am" in summer_page and "9:30am" not in summer_page
    assert "14 December 2026 at 9:30am" in winter_page
    assert "14 July 2026 at 10:30am" in feed and "14 December 2026 at 9:30am" in feed
    assert "09:30" not in feed


def test_the_audit_log_shows_and_filters_by_london_time(client, session):
    make_member(session, email="ada.admin@example.nhs.uk", roles=("admin",))
    organiser = make_organiser(session, name="Olu Organiser")
    # 23:30 UTC on 30 June is already 1 July in London (00:30 BST).
    at = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    session.add(
        AuditEvent(
            at=at, actor_id=organiser.id, action=a.ROUND_CREATED, subject_type="round", subject_id=7
        )
    )
    session.commit()
    log_in(client, "ada.admin@example.nhs.uk")

    page = client.get(f"/admin/audit?action={a.ROUND_CREATED}").text
    on_the_first = client.get(f"/admin/audit?action={a.ROUND_CREATED}&since=2026-07-01").text
    up_to_the_30th = client.get(f"/admin/audit?action={a.ROUND_CREATED}&until=2026-06-30").text

    assert "When (London time)" in page and "(UTC)" not in page
    assert '<time datetime="2026-07-01T00:30+01:00">1 July 2026 at 12:30am</time>' in page
    assert "round 7" in on_the_first
    assert "round 7" not in up_to_the_30th
