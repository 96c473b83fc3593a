"""Peer circles: forming keeps the page's promises, through the service, on random networks."""

from __future__ import annotations

import numpy as np
import pytest
from sqlmodel import select

from backend.community import circles
from backend.community import service as community
from backend.community.models import Circle, CircleMember
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.members.models import Member
from backend.notifications.models import Notification
from tests.factories import make_member, make_organiser
from vocabulary import BAND_RANK, BANDS


def _circles_in_db(session) -> dict[int, list[Member]]:
    found: dict[int, list[Member]] = {}
    for row, member in session.exec(
        select(CircleMember, Member).join(Member, Member.id == CircleMember.member_id)
    ).all():
        found.setdefault(row.circle_id, []).append(member)
    return found


def _keeps_the_rules(members: list[Member]) -> None:
    ranks = [BAND_RANK[m.band] for m in members]
    assert 4 <= len(members) <= 6, len(members)
    assert max(ranks) - min(ranks) <= 2, [m.band for m in members]
    orgs = [m.organisation_id for m in members]
    assert len(orgs) == len(set(orgs)), "two members from one organisation"


def _random_willing(session, rng, n: int) -> list[Member]:
    """``n`` members at bands 3 to 8a from six trusts, each opted in to a circle."""
    found = []
    for _ in range(n):
        member = make_member(
            session,
            organisation=f"Trust {rng.integers(0, 6)}",
            band=BANDS[int(rng.integers(1, 7))],
        )
        circles.set_preferences(session=session, member=member, circles=True)
        found.append(member)
    return found


@pytest.mark.parametrize("seed", range(5))
def test_forming_on_a_random_network_keeps_every_rule_and_tops_up_first(session, seed):
    rng = np.random.default_rng(seed)
    olu = make_organiser(session)
    willing = _random_willing(session, rng, int(rng.integers(4, 22)))

    first = circles.form(session=session, organiser=olu)
    for members in _circles_in_db(session).values():
        _keeps_the_rules(members)
    # Newcomers arrive; circles with room are topped up first and still keep every rule.
    willing += _random_willing(session, rng, int(rng.integers(1, 8)))
    before = {cid: len(ms) for cid, ms in _circles_in_db(session).items()}
    second = circles.form(session=session, organiser=olu)

    after = _circles_in_db(session)
    for members in after.values():
        _keeps_the_rules(members)
    placed = sum(len(ms) for ms in after.values())
    waiting = circles.waiting_member_ids(session=session)
    assert placed + len(waiting) == len(willing)
    assert second.placed + second.waiting == len(willing) - sum(before.values())
    assert first.placed == sum(before.values())
    for circle_id, added in second.topped_up.items():
        assert len(after[circle_id]) == before[circle_id] + added
    for member_id in waiting:  # nobody waits who fits a circle with room
        member = session.get(Member, member_id)
        for members in after.values():
            ranks = [BAND_RANK[m.band] for m in (*members, member)]
            assert not (
                len(members) < 6
                and max(ranks) - min(ranks) <= 2
                and member.organisation_id not in {m.organisation_id for m in members}
            )


def test_one_person_waiting_waits_and_is_told_so(session):
    olu = make_organiser(session)
    [alone] = _willing(session, 1)

    formed = circles.form(session=session, organiser=olu)

    assert formed.new == [] and formed.placed == 0 and formed.waiting == 1
    assert session.exec(select(Circle)).all() == []
    assert circles.is_waiting(session=session, member_id=alone.id)
    assert circles.waiting_member_ids(session=session) == [alone.id]
    circles.form(session=session, organiser=olu)  # again: told once, not at every forming
    told = session.exec(select(Notification).where(Notification.member_id == alone.id)).all()
    assert [n.title for n in told] == [circles.STILL_WAITING]
    assert "bands no more than 2 apart" in told[0].body and told[0].link == "/circles"


def test_seven_across_five_bands_with_two_from_one_trust_make_no_illegal_circle(session):
    olu = make_organiser(session)
    for band, trust in [("3", 1), ("4", 1), ("5", 2), ("6", 3), ("7", 4), ("4", 5), ("5", 6)]:
        member = make_member(session, organisation=f"Trust {trust}", band=band)
        circles.set_preferences(session=session, member=member, circles=True)

    formed = circles.form(session=session, organiser=olu)

    made = _circles_in_db(session)
    for members in made.values():
        _keeps_the_rules(members)
    assert formed.placed == sum(len(m) for m in made.values())
    assert formed.placed + formed.waiting == 7


def test_forming_with_nobody_waiting_is_refused(session):
    olu = make_organiser(session)

    with pytest.raises(Invalid, match="Nobody is waiting"):
        circles.form(session=session, organiser=olu)


def _willing(session, n, **fields):
    members = []
    for i in range(n):
        member = make_member(session, organisation=f"Trust {i}", band="6", **fields)
        circles.set_preferences(session=session, member=member, circles=True)
        members.append(member)
    return members


def test_organisers_form_circles_from_willing_members_who_are_told(session):
    olu = make_organiser(session)
    willing = _willing(session, 9)
    make_member(session)  # not willing

    formed = circles.form(session=session, organiser=olu).new

    sizes = [len(circles.get(session=session, viewer=olu, circle_id=c.id).members) for c in formed]
    assert sorted(sizes) == [4, 5]
    rows = session.exec(select(CircleMember)).all()
    assert sorted(r.member_id for r in rows) == sorted(m.id for m in willing)
    notes = session.exec(select(Notification).where(Notification.kind == "community")).all()
    assert len(notes) == 9
    assert circles.waiting_member_ids(session=session) == []


def test_members_only_see_their_own_circle_and_its_discussion(session):
    olu = make_organiser(session)
    willing = _willing(session, 8)
    first, second = circles.form(session=session, organiser=olu).new
    inside = circles.get(session=session, viewer=olu, circle_id=first.id).members[0]
    outside = circles.get(session=session, viewer=olu, circle_id=second.id).members[0]

    post = community.create_post(
        session=session, author=inside, title="Our set", body="Hi", circle_id=first.id
    )

    assert willing
    assert circles.get(session=session, viewer=inside, circle_id=first.id).is_member
    with pytest.raises(NotFound):
        circles.get(session=session, viewer=outside, circle_id=first.id)
    with pytest.raises(NotFound):
        community.get_post(session=session, viewer=outside, post_id=post.id)
    with pytest.raises(Forbidden):
        community.create_post(
            session=session, author=outside, title="x", body="y", circle_id=first.id
        )
    in_circle, _ = community.feed(
        session=session, viewer=inside, filter=community.FeedFilter(circle_id=first.id)
    )
    assert [p.id for p in in_circle] == [post.id]
    assert community.feed(session=session, viewer=inside)[0] == []  # not in the main feed


def test_members_leave_and_organisers_move_members(session):
    olu = make_organiser(session)
    _willing(session, 8)
    first, second = circles.form(session=session, organiser=olu).new
    leaver, mover = circles.get(session=session, viewer=olu, circle_id=first.id).members[:2]

    circles.leave(session=session, member=leaver)
    circles.move(session=session, organiser=olu, member_id=mover.id, circle_id=second.id)

    assert circles.circle_of(session=session, member_id=leaver.id) is None
    assert not circles.preferences_of(session=session, member_id=leaver.id).circles
    assert circles.circle_of(session=session, member_id=mover.id).id == second.id
    with pytest.raises(Conflict):
        circles.leave(session=session, member=leaver)
    with pytest.raises(Forbidden):
        circles.move(session=session, organiser=leaver, member_id=mover.id, circle_id=first.id)
