"""Organisers see and act only within their scope, on both surfaces.

Members of two chapters (North West and London): a London chapter organiser sees London's
rounds, reports and insights only; a network organiser and an admin see both; a member
without a scope is refused.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from strawberry import relay

from backend.chapters import service as chapters
from backend.community import circles
from backend.community import service as community
from backend.errors import Forbidden, NotFound
from backend.insights import service as insights
from backend.members.models import Member
from backend.rounds import service as rounds
from tests.factories import (
    make_chapter,
    make_community_preference,
    make_member,
    make_organiser,
    make_organiser_scope,
    make_post,
    make_programme,
    make_report,
    make_round,
)
from tests.web.conftest import log_in, post_form


class Two(NamedTuple):
    london_organiser: Member
    network_organiser: Member
    admin: Member
    plain: Member
    london_round: int
    north_west_round: int
    network_round: int
    london_post: int
    north_west_post: int
    north_west_member: Member


@pytest.fixture
def two(session) -> Two:
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    london_organiser = make_member(session, name="Lee London Organiser", region="London")
    make_organiser_scope(session, member=london_organiser, chapter=london)
    network_organiser = make_organiser(session, name="Nat Network")
    admin = make_member(session, name="Ada Admin", roles=("admin",))
    plain = make_member(session, name="Pat Plain", region="London")
    londoners = [
        make_member(session, name=f"Londoner {i}", region="London", password=None)
        for i in range(20)
    ]
    north = [
        make_member(session, name=f"Northerner {i}", region="North West", password=None)
        for i in range(40)
    ]
    london_programme = make_programme(session, name="London leaders", chapter_id=london.id)
    north_programme = make_programme(session, name="North West leaders", chapter_id=north_west.id)
    london_round = make_round(session, name="London spring", programme_id=london_programme.id)
    north_round = make_round(session, name="Northern spring", programme_id=north_programme.id)
    network_round = make_round(session, name="National spring")
    london_post = make_post(session, author=londoners[0], title="London post")
    north_post = make_post(session, author=north[0], title="Northern post")
    make_report(session, post=london_post, reporter=londoners[1])
    make_report(session, post=north_post, reporter=north[1])
    session.commit()
    return Two(
        london_organiser,
        network_organiser,
        admin,
        plain,
        london_round.id,
        north_round.id,
        network_round.id,
        london_post.id,
        north_post.id,
        north[2],
    )


def _gid(kind: str, value: int) -> str:
    return str(relay.GlobalID(kind, str(value)))


# The services ---------------------------------------------------------------------------------


def test_a_chapter_organiser_sees_only_their_chapters_rounds(session, two):
    names = {r.name for r in rounds.list_rounds(session=session, organiser=two.london_organiser)}

    assert names == {"London spring"}
    assert rounds.get_round(
        session=session, organiser=two.london_organiser, round_id=two.london_round
    )
    for hidden in (two.north_west_round, two.network_round):
        with pytest.raises(NotFound):
            rounds.get_round(session=session, organiser=two.london_organiser, round_id=hidden)
        with pytest.raises(NotFound):
            rounds.proposals_of(session=session, organiser=two.london_organiser, round_id=hidden)


def test_network_organisers_and_admins_see_every_round(session, two):
    for who in (two.network_organiser, two.admin):
        names = {r.name for r in rounds.list_rounds(session=session, organiser=who)}
        assert {"London spring", "Northern spring", "National spring"} <= names


def test_a_chapter_organiser_cannot_create_a_network_wide_round(session, two):
    with pytest.raises(Forbidden):
        rounds.create_round(
            session=session,
            organiser=two.london_organiser,
            settings=rounds.RoundSettings(name="Everyone"),
        )


def test_a_chapter_organiser_moderates_only_their_chapters_members(session, two):
    queue = community.moderation_queue(session=session, organiser=two.london_organiser)
    assert [item.post.title for item in queue] == ["London post"]

    with pytest.raises(NotFound):
        community.hide(
            session=session,
            organiser=two.london_organiser,
            note="Not theirs",
            post_id=two.north_west_post,
        )
    with pytest.raises(NotFound):
        community.dismiss_reports(
            session=session, organiser=two.london_organiser, post_id=two.north_west_post
        )
    hidden = community.hide(
        session=session,
        organiser=two.london_organiser,
        note="Names a patient",
        post_id=two.london_post,
    )
    assert hidden.status == "hidden"

    for who in (two.network_organiser, two.admin):
        titles = {i.post.title for i in community.moderation_queue(session=session, organiser=who)}
        assert titles == {"Northern post"}  # the London post was hidden above


def test_a_chapter_organisers_insights_count_only_their_members(session, two):
    mine = insights.insights(session=session, organiser=two.london_organiser)
    everyone = insights.insights(session=session, organiser=two.network_organiser)

    assert mine.members.value is not None and everyone.members.value is not None
    # 20 to 22 Londoners (with the organiser and Pat), 40 more in the North West: published
    # counts stray up to 8 either way (perturbation 6, rounding 2), so neither is hidden
    assert mine.members.value <= 22 + 8 < 60 - 8 <= everyone.members.value
    supply = {row[0]: row[1:] for row in mine.supply_by_region.rows}
    assert supply["North West"] == ["0", "0", "0"]


def test_a_chapter_organiser_forms_circles_of_their_members_only(session, two):
    for member in (two.plain, two.north_west_member):
        make_community_preference(session, member=member, circles=True)
    session.commit()

    assert circles.waiting_member_ids(
        session=session, scope=chapters.scope_of(session=session, member=two.london_organiser)
    ) == [two.plain.id]
    with pytest.raises(NotFound):
        circles.move(
            session=session,
            organiser=two.london_organiser,
            member_id=two.north_west_member.id,
            circle_id=1,
        )


def test_a_member_without_a_scope_is_refused_everything(session, two):
    calls = [
        lambda: rounds.list_rounds(session=session, organiser=two.plain),
        lambda: rounds.get_round(session=session, organiser=two.plain, round_id=two.london_round),
        lambda: community.moderation_queue(session=session, organiser=two.plain),
        lambda: insights.insights(session=session, organiser=two.plain),
        lambda: circles.form(session=session, organiser=two.plain),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()


def test_losing_the_scope_ends_the_access(session, two):
    chapters.change_scope(
        session=session,
        admin=two.admin,
        current=None,
        member_id=two.london_organiser.id,
        chapter_id=next(
            iter(chapters.scope_of(session=session, member=two.london_organiser).chapter_ids)
        ),
        granted=False,
        password="correct horse battery staple",
    )
    with pytest.raises(Forbidden):
        rounds.list_rounds(session=session, organiser=two.london_organiser)


# GraphQL --------------------------------------------------------------------------------------

ROUNDS = "{ matchingRounds(first: 50) { edges { node { name } } } }"
ROUND = "query($id: ID!) { matchingRound(id: $id) { name } }"
QUEUE = "{ moderationQueue { post { title } } }"
INSIGHTS = "{ insights { members { shown value } } }"


def _round_names(result) -> set[str]:
    return {e["node"]["name"] for e in result["data"]["matchingRounds"]["edges"]}


def test_graphql_a_london_organiser_sees_london_only(run, session, two):
    who = two.london_organiser

    assert _round_names(run(ROUNDS, member=who)) == {"London spring"}
    north = run(ROUND, {"id": _gid("MatchingRound", two.north_west_round)}, member=who)
    assert north["data"]["matchingRound"] is None
    london = run(ROUND, {"id": _gid("MatchingRound", two.london_round)}, member=who)
    assert london["data"]["matchingRound"]["name"] == "London spring"
    queue = run(QUEUE, member=who)["data"]["moderationQueue"]
    assert [item["post"]["title"] for item in queue] == ["London post"]
    counted = run(INSIGHTS, member=who)["data"]["insights"]["members"]["value"]
    assert 20 - 8 <= counted <= 22 + 8  # London's, never the North West's 40 as well

    hide = run(
        'mutation($post: ID!) { moderateContent(input: {action: HIDE, note: "x", '
        "postId: $post}) { __typename } }",
        {"post": _gid("Post", two.north_west_post)},
        member=who,
    )
    assert hide["data"]["moderateContent"]["__typename"] == "NotFound"


def test_graphql_network_organisers_and_admins_see_both(run, session, two):
    for who in (two.network_organiser, two.admin):
        assert {"London spring", "Northern spring"} <= _round_names(run(ROUNDS, member=who))
        queue = run(QUEUE, member=who)["data"]["moderationQueue"]
        assert {item["post"]["title"] for item in queue} == {"London post", "Northern post"}
        assert run(INSIGHTS, member=who)["data"]["insights"]["members"]["value"] >= 35


def test_graphql_a_member_without_a_scope_is_forbidden(run, session, two):
    for query in (ROUNDS, QUEUE, INSIGHTS):
        result = run(query, member=two.plain)
        assert result["errors"][0]["extensions"]["code"] == "NOT_ALLOWED", result


# Pages ----------------------------------------------------------------------------------------


def test_pages_a_london_organiser_sees_london_only(client, session, two):
    log_in(client, two.london_organiser.email)

    page = client.get("/organise/rounds")
    assert page.status_code == 200, page.text
    assert "London spring" in page.text
    assert "Northern spring" not in page.text and "National spring" not in page.text
    assert client.get(f"/organise/rounds/{two.london_round}").status_code == 200
    assert client.get(f"/organise/rounds/{two.north_west_round}").status_code == 404
    queue = client.get("/community/moderation")
    assert queue.status_code == 200
    assert "London post" in queue.text and "Northern post" not in queue.text
    assert client.get("/organise/insights").status_code == 200
    # The header offers rounds and insights, not imports (network organisers only).
    assert 'href="/organise/rounds"' in page.text and 'href="/organise/insights"' in page.text
    assert 'href="/organise/import"' not in page.text
    assert client.get("/organise/import").status_code == 403
    hide = post_form(
        client,
        "/community/moderation",
        {"action": "hide", "note": "x", "kind": "post", "target_id": str(two.north_west_post)},
        page="/community/moderation",
    )
    assert hide.status_code == 404


def test_pages_network_organisers_and_admins_see_both(client, session, two):
    for who in (two.network_organiser, two.admin):
        client.cookies.clear()
        log_in(client, who.email)
        page = client.get("/organise/rounds")
        assert "London spring" in page.text and "Northern spring" in page.text
        queue = client.get("/community/moderation").text
        assert "London post" in queue and "Northern post" in queue


def test_pages_a_member_without_a_scope_is_forbidden(client, session, two):
    log_in(client, two.plain.email)

    for path in ("/organise/rounds", "/community/moderation", "/organise/insights"):
        assert client.get(path).status_code == 403, path
    assert 'href="/organise/rounds"' not in client.get("/").text
