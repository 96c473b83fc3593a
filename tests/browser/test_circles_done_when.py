"""Done when (issue 14, circles): an organiser forms circles from 9 waiting members in a browser
and gets circles of 4 and 5 that keep every rule; someone no circle can take is told they wait."""

from __future__ import annotations

from sqlmodel import col, select

from backend.community import circles
from backend.community.models import CircleMember
from backend.members.models import Member
from tests.browser.conftest import screenshot
from tests.browser.test_community import _log_in, _log_out
from tests.factories import make_member, make_organiser
from vocabulary import BAND_RANK

# Nine at bands 5 to 7 from seven trusts (two trusts with two people each), and one at band 9.
NINE = [
    ("5", "Trust A"),
    ("5", "Trust B"),
    ("6", "Trust A"),
    ("6", "Trust C"),
    ("6", "Trust D"),
    ("7", "Trust B"),
    ("7", "Trust E"),
    ("6", "Trust F"),
    ("5", "Trust G"),
]


def test_an_organiser_forms_circles_of_4_and_5_from_9_and_the_tenth_waits(page, session, request):
    olu = make_organiser(session, name="Olu Organiser", organisation="Trust O")
    for number, (band, trust) in enumerate(NINE):
        member = make_member(session, name=f"Peer {number}", organisation=trust, band=band)
        circles.set_preferences(session=session, member=member, circles=True)
    far = make_member(session, name="Farah Senior", organisation="Trust H", band="9")
    circles.set_preferences(session=session, member=far, circles=True)
    session.commit()

    _log_in(page, olu.email)
    page.goto("/circles")
    assert "10 members waiting for a circle." in page.get_by_role("main").inner_text()
    page.get_by_role("button", name="Form circles").click()
    page.wait_for_url("**/circles?notice=circles-formed-some-wait")
    main = page.get_by_role("main").inner_text()
    assert "Some members are still waiting" in main
    assert "1 member waiting for a circle." in main
    table = page.get_by_role("table", name="Circles")
    sizes = sorted(
        int(table.get_by_role("row").nth(i).get_by_role("cell").nth(1).inner_text())
        for i in range(1, table.get_by_role("row").count())
    )
    assert sizes == [4, 5]
    screenshot(page, "circles-formed", request)
    _log_out(page)

    session.expire_all()
    seats: dict[int, list[Member]] = {}
    for row, member in session.exec(
        select(CircleMember, Member).join(Member, col(Member.id) == col(CircleMember.member_id))
    ).all():
        seats.setdefault(row.circle_id, []).append(member)
    for members in seats.values():
        ranks = [BAND_RANK[m.band] for m in members]
        assert max(ranks) - min(ranks) <= 2
        assert len({m.organisation_id for m in members}) == len(members)
    assert far.id not in {m.id for ms in seats.values() for m in ms}

    _log_in(page, far.email)
    page.goto("/circles")
    assert "You are waiting for a peer circle." in page.get_by_role("main").inner_text()
    screenshot(page, "circles-waiting", request)
