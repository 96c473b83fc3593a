"""Peer circles: formation properties on random populations, and the circle service."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from backend.community import circles
from backend.community import service as community
from backend.community.circles import Person, circle_sizes, form_groups
from backend.community.models import CircleMember
from backend.errors import Conflict, Forbidden, NotFound
from backend.notifications.models import Notification
from tests.factories import make_member, make_organiser

populations = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 11)), min_size=0, max_size=80
).map(lambda rows: [Person(i + 1, f"org-{o}", b) for i, (o, b) in enumerate(rows)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations, st.integers(0, 2**16))
def test_every_willing_member_is_in_exactly_one_balanced_circle(people, seed):
    interests = np.random.default_rng(seed).random((len(people), 5))

    groups = form_groups(people, interests)

    placed = sorted(i for g in groups for i in g)
    assert placed == list(range(len(people)))
    sizes = [len(g) for g in groups]
    if len(people) >= 4 and len(people) != 7:  # 7 cannot be split into circles of 4-6
        assert all(4 <= s <= 6 for s in sizes), sizes
    if sizes:
        assert max(sizes) - min(sizes) <= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations)
def test_no_two_from_one_organisation_where_avoidable(people):
    groups = form_groups(people)

    if people and max(Counter(p.organisation for p in people).values()) <= len(groups):
        for group in groups:
            orgs = [people[i].organisation for i in group]
            assert len(orgs) == len(set(orgs)), orgs


@pytest.mark.parametrize("n", range(0, 40))
def test_sizes_are_balanced_and_within_limits(n):
    sizes = circle_sizes(n)

    assert sum(sizes) == n
    if n >= 4 and n != 7:
        assert all(4 <= s <= 6 for s in sizes)


def test_circles_keep_bands_close_and_interests_together():
    # Two bands far apart, each with two interest camps, all from different organisations.
    people = [Person(i, f"org-{i}", 1 if i < 10 else 9) for i in range(20)]
    interests = np.array([[1.0, 0.0] if i % 2 else [0.0, 1.0] for i in range(20)])

    groups = form_groups(people, interests)

    assert sorted(i for group in groups for i in group) == list(range(20))  # everyone placed
    for group in groups:
        assert len({people[i].band_rank for i in group}) == 1
        assert len({tuple(interests[i]) for i in group}) == 1


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

    formed = circles.form(session=session, organiser=olu)

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
    first, second = circles.form(session=session, organiser=olu)
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
    first, second = circles.form(session=session, organiser=olu)
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
