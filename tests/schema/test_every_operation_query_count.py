"""Every query operation costs as many SQL statements with 2 rows of each thing as with 20.

The operations of docs/api.md (and the other root queries), each asking for the nested fields
a client shows (authors, organisations, skills, mentors, comments, sessions, proposals), run
on a network grown on every surface (``tests.perf.networks.grow``) with 2 rows and then with
20; the statements each sent are counted (``before_cursor_execute``). An N+1 fails here.
"""

from __future__ import annotations

from strawberry import relay

from backend.members.models import Member
from tests.factories import make_member
from tests.perf.networks import Hub, grow, make_hub

PERSON = "name band organisation { name } skillsOffered { name }"

OPERATIONS = {
    "me": f"{{ me {{ {PERSON} roles skillsSought {{ name }} "
    "mentoringOffer { capacity skillsOffered { name } } unreadNotificationCount } }",
    "member": "query($mentor: ID!) { member(id: $mentor) { "
    f"{PERSON} mentoringOffer {{ capacity }} }} }}",
    "members": f"{{ members(first: 50) {{ edges {{ node {{ {PERSON} roles "
    "skillsSought { name } mentoringOffer { capacity skillsOffered { id } } } } } }",
    "skills": "{ skills { id name } }",
    "mySessions": "{ mySessions { id device lastSeenAt createdAt current } }",
    "organisations": "{ organisations(first: 50) { edges { node { name type region } } } }",
    "regions": "{ regions { value label } bands { value label } roleFamilies { value label } "
    "professions { value label } meetingFormats { value label } }",
    "mentorSuggestions": "{ mentorSuggestions(first: 10) { score reasons "
    f"mentor {{ {PERSON} }} }} }}",
    "mentorRequests": "{ mentorRequests(direction: RECEIVED, first: 50) { edges { node { "
    f"status message mentee {{ {PERSON} }} mentor {{ name }} skills {{ name }} }} }} }} }}",
    "mentorRequestsSent": "{ mentorRequests(direction: SENT, first: 50) { edges { node { "
    "status mentor { name } } } } }",
    "mentorRequest": "query($request: ID!) { mentorRequest(id: $request) { status "
    f"mentee {{ {PERSON} }} skills {{ name }} }} }}",
    "mentorships": "{ mentorships { status myRole partnerName mentor { name } "
    f"mentee {{ {PERSON} }} sessions {{ heldOn loggedBy {{ name }} }} "
    "myFeedback { rating } } }",
    "mentorship": "query($mentorship: ID!) { mentorship(id: $mentorship) { status "
    "partner { name } sessions { heldOn notes loggedBy { name } loggedByMe } } }",
    "feed": "{ feed(first: 50) { edges { node { title author { name organisation { name } } "
    "skills { name } usefulCount usefulToMe commentCount } } } }",
    "feedFollowing": "{ feed(first: 50, following: true) { edges { node { title "
    "author { name } } } } }",
    "post": "query($post: ID!) { post(id: $post) { title author { name } skills { name } "
    "usefulCount commentCount comments { body author { name organisation { name } } } } }",
    "moderationQueue": "{ moderationQueue { kind reasons reportCount "
    "post { title author { name } } "
    "comment { body author { name } } } }",
    "myCircle": "{ myCircle { name members { name organisation { name } } "
    "posts(first: 20) { edges { node { title author { name } } } } } }",
    "circle": "query($circle: ID!) { circle(id: $circle) { name members { name } } }",
    "communityPreferences": "{ communityPreferences { circles peerConnect } }",
    "peerConnectPairs": "{ peerConnectPairs { period peer { name } } }",
    "notifications": "{ notifications(first: 50) { edges { node { title read } } } }",
    "matchingRounds": "{ matchingRounds(first: 50) { edges { node { name status "
    "createdBy { name } figures { matched } } } } }",
    "matchingRound": "query($round: ID!) { matchingRound(id: $round) { name "
    "publishPreview { pairs } "
    "unmatchedMentees { edges { node { reason mentee { name } } } } "
    "proposals(first: 50) { edges { node { "
    "score mentee { name } mentor { name organisation { name } } } } } } }",
    "exportMatchingRound": "query($round: ID!) { exportMatchingRound(roundId: $round) }",
    "myProposedMatches": "{ myProposedMatches { status score myRole mentee { name "
    "organisation { name } } mentor { name } } }",
    "proposedMatch": "query($offered: ID!) { proposedMatch(id: $offered) { status "
    "mentee { name } } }",
    "insights": "{ insights { members { shown } breakdowns { title groups { label } } "
    "crossOrganisation { rows } supplyByRegion { rows } skills { rows } trend { rows } } }",
    "myDemographics": "{ myDemographics { consented ethnicity } }",
    "exportMyData": "{ exportMyData }",
    "memberImport": "query($import: ID!) { memberImport(id: $import) { status rowsTotal } }",
    "adminMembers": "{ adminMembers(first: 50) { edges { node { email roles active confirmed "
    "invited secondFactor lastSignInAt member { name organisation { name } } } } } }",
    "adminMember": "query($mentor: ID!) { adminMember(id: $mentor) { email roles active "
    "secondFactor lastSignInAt member { name } } }",
    "adminOrganisations": "{ adminOrganisations(first: 50) { edges { node { memberCount "
    "mergedInto { name } organisation { name odsCode inRegister } } } } }",
    "node": "query($mentor: ID!) { node(id: $mentor) { ... on Member { name "
    "organisation { name } } } }",
}


def _variables(hub: Hub) -> dict[str, dict[str, str]]:
    def gid(kind: str, value: int) -> str:
        return str(relay.GlobalID(kind, str(value)))

    every = {
        "mentor": gid("Member", hub.last_mentor_id),
        "request": gid("MentorRequest", hub.request_id),
        "mentorship": gid("Mentorship", hub.mentorship_id),
        "post": gid("Post", hub.post_id),
        "circle": gid("Circle", hub.circle_id),
        "round": gid("MatchingRound", hub.review_round_id),
        "offered": gid("ProposedMatch", hub.offered_id),
        "import": str(hub.import_id),  # import jobs are asked for by number
    }
    return {
        name: {k: v for k, v in every.items() if f"${k}" in query}
        for name, query in OPERATIONS.items()
    }


def _counts(run, session, counter, hub: Hub, seeker_id: int) -> dict[str, tuple[int, int]]:
    variables = _variables(hub)
    out = {}
    for name, query in OPERATIONS.items():
        member = session.get(Member, seeker_id if name == "mentorSuggestions" else hub.viewer_id)
        session.rollback()  # the operation's own reads only
        run(query, variables[name], member=member)  # warm: the first call after a change refits
        session.rollback()
        # An empty identity map, so what is loaded is the operation's doing, not what earlier
        # operations left behind for the garbage collector (which made the count flaky).
        session.expunge_all()
        member = session.get(Member, seeker_id if name == "mentorSuggestions" else hub.viewer_id)
        counter.statements.clear()
        result = run(query, variables[name], member=member)
        assert "errors" not in result, (name, result["errors"])
        out[name] = (counter.count, len(repr(result["data"])))
        session.rollback()
    return out


def test_no_operation_costs_more_statements_with_more_rows(run, session, count_queries):
    hub = make_hub(session)
    seeker = make_member(session, band="3", organisation="Elsewhere Trust", seeking_mentor=True)
    seeker_id = seeker.id
    session.rollback()
    grow(session, hub, to=2)
    small = _counts(run, session, count_queries, hub, seeker_id)

    grow(session, hub, to=20)
    large = _counts(run, session, count_queries, hub, seeker_id)

    # Every list answered shows more rows with the larger network...
    listing = (
        "members",
        "adminMembers",
        "mentorRequests",
        "mentorships",
        "mentorship",
        "feed",
        "feedFollowing",
        "post",
        "moderationQueue",
        "myCircle",
        "notifications",
        "matchingRounds",
        "matchingRound",
        "myProposedMatches",
        "mentorSuggestions",
        "exportMatchingRound",
        "exportMyData",
    )
    assert {n: (small[n][1], large[n][1]) for n in listing if large[n][1] <= small[n][1]} == {}
    # ...for the same number of statements in every operation.
    assert large["memberImport"][1] == small["memberImport"][1] > len("{'memberImport': None}")
    grew = {n: (small[n][0], large[n][0]) for n in OPERATIONS if small[n][0] != large[n][0]}
    assert grew == {}
