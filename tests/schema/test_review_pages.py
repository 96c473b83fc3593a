"""A round's review is read a page at a time by key (score, id), on both surfaces.

Walking every page forwards, and back again, shows each proposal exactly once in the review's
order, ties in score included (a key, not an offset, marks where a page starts).
"""

from __future__ import annotations

import pytest
from strawberry import relay

from backend.members.models import Member
from backend.programmes.service import default_programme_id
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_member
from tests.perf.networks import make_review


@pytest.fixture
def review(session):
    return make_review(session)


def test_pages_by_key_walk_forwards_and_back_through_every_proposal(session, review):
    organiser_id, _, round_id, expected = review
    organiser = session.get(Member, organiser_id)

    pages, after = [], None
    while True:
        page = rounds.proposals_of(
            session=session, organiser=organiser, round_id=round_id, limit=7, after=after
        )
        if not page:
            break
        pages.append([p.id for p in page])
        after = rounds.ProposalKey.of(page[-1])
    assert [i for page in pages for i in page] == expected
    assert all(len(page) == 7 for page in pages[:-1])

    back, before = [], rounds.ProposalKey.of(session.get(MatchProposal, expected[-1]))
    while True:
        page = rounds.proposals_of(
            session=session, organiser=organiser, round_id=round_id, limit=7, before=before
        )
        if not page:
            break
        back.insert(0, [p.id for p in page])
        before = rounds.ProposalKey.of(page[0])
    assert [i for page in back for i in page] == expected[:-1]


def test_a_key_is_written_and_read_back_exactly_and_junk_is_no_key():
    key = rounds.ProposalKey(score=0.1 + 0.2, id=42)
    assert rounds.ProposalKey.parse(str(key)) == key
    for junk in (None, "", "abc", "1.5", "nan:3", "inf:3", "1.5:x", "1.5:-2", "1.5:0"):
        assert rounds.ProposalKey.parse(junk) is None, junk


def test_graphql_proposals_pages_by_key_and_refuses_a_made_up_cursor(run, session, review):
    organiser_id, _, round_id, expected = review
    organiser = session.get(Member, organiser_id)
    query = """query($id: ID!, $after: String) { matchingRound(id: $id) {
      proposals(first: 25, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }"""
    variables = {"id": str(relay.GlobalID("MatchingRound", str(round_id))), "after": None}

    seen, more = [], True
    while more:
        result = run(query, variables, member=organiser)
        connection = result["data"]["matchingRound"]["proposals"]
        seen += [int(relay.GlobalID.from_id(e["node"]["id"]).node_id) for e in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] == (variables["after"] is not None)
        more = connection["pageInfo"]["hasNextPage"]
        variables["after"] = connection["pageInfo"]["endCursor"]
    assert seen == expected

    made_up = run(query, {**variables, "after": "bm90IGEgY3Vyc29y"}, member=organiser)
    assert "That cursor is not one this API gave out." in made_up["errors"][0]["message"]


def test_the_unmatched_list_reads_only_the_members_shown_and_counts_them_all(session):
    organiser = make_member(session, band="9", roles=("organiser",))
    mentor = make_member(session, band="8a")
    matching_round = MatchingRound(
        programme_id=default_programme_id(session=session),
        name="Unmatched round",
        created_by_id=organiser.id,
        status="ready",
        progress=1.0,
    )
    session.add(matching_round)
    session.flush()
    mentees = [make_member(session, name=f"Una {i}", band="4") for i in range(5)]
    for i, mentee in enumerate(mentees):
        session.add_all(
            [
                MatchProposal(
                    round_id=matching_round.id,  # type: ignore[arg-type]
                    mentee_id=mentee.id,
                    mentor_id=mentor.id,
                    score=50,
                    status="removed",
                ),
                # the latest says why; the first two found a live pair after all
                MatchProposal(
                    round_id=matching_round.id,  # type: ignore[arg-type]
                    mentee_id=mentee.id,
                    mentor_id=mentor.id if i < 2 else None,
                    score=40,
                    status="proposed" if i < 2 else "unmatched",
                    reasons="" if i < 2 else "nobody fits",
                ),
            ]
        )
    session.commit()

    shown, total = rounds.unmatched_page(
        session=session, organiser=organiser, round_id=matching_round.id, limit=2
    )
    everyone = rounds.unmatched_of(session=session, organiser=organiser, round_id=matching_round.id)

    assert total == 3 == len(everyone)
    assert [(m.name, why) for m, why in shown] == [
        ("Una 2", "nobody fits"),
        ("Una 3", "nobody fits"),
    ]
    assert [m.name for m, _ in everyone] == ["Una 2", "Una 3", "Una 4"]
