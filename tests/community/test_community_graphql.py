"""The community in GraphQL: feed, createPost, addComment, reactions, following, moderation."""

from __future__ import annotations

from strawberry import relay

from tests.factories import make_member, make_organiser

CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) {
    __typename
    ... on PostSuccess { post { id title bodyHtml skills { id } author { name } } }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""

FEED = """
query($first: Int, $after: String, $skill: ID, $following: Boolean = false) {
  feed(first: $first, after: $after, skill: $skill, following: $following) {
    edges { cursor node { id title hidden usefulCount usefulToMe commentCount
      author { name } skills { id } comments { body author { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

COMMENT = """
mutation($input: AddCommentInput!) {
  addComment(input: $input) {
    __typename
    ... on AddCommentSuccess { comment { body bodyHtml } post { commentCount } }
    ... on Error { message }
  }
}
"""


def _create(run, member, **input):
    input = {"title": "Rotas", "body": "Plan **early**", **input}
    return run(CREATE, {"input": input}, member=member)["data"]["createPost"]


def test_create_post_renders_markdown_safely(run, session):
    ann = make_member(session, name="Ann")

    result = _create(run, ann, body="<script>x</script> **hi**", skills=["rota-management"])

    assert result["__typename"] == "PostSuccess"
    post = result["post"]
    assert "<script>" not in post["bodyHtml"] and "<strong>hi</strong>" in post["bodyHtml"]
    assert post["skills"] == [{"id": "rota-management"}]
    assert post["author"] == {"name": "Ann"}


def test_create_post_reports_problems_and_unverified_members(run, session):
    ann = make_member(session)
    newcomer = make_member(session, verified=False)

    bad = _create(run, ann, title="", skills=["nope"])
    refused = _create(run, newcomer)
    anonymous = _create(run, None)

    assert bad["__typename"] == "InvalidInput"
    assert {e["field"] for e in bad["errors"]} == {"title", "skills"}
    assert refused["__typename"] == "NotAllowed"
    assert anonymous["__typename"] == "NotAuthenticated"


def test_feed_pages_with_cursors_and_filters(run, session):
    ann, bob = make_member(session, name="Ann"), make_member(session, name="Bob")
    for i in range(3):
        _create(run, ann, title=f"Ann {i}")
    _create(run, bob, title="Bob's", skills=["budget-management"])

    first = run(FEED, {"first": 2}, member=ann)["data"]["feed"]
    rest = run(FEED, {"first": 2, "after": first["pageInfo"]["endCursor"]}, member=ann)
    by_skill = run(FEED, {"skill": "budget-management"}, member=ann)["data"]["feed"]
    none_followed = run(FEED, {"following": True}, member=ann)["data"]["feed"]

    titles = [e["node"]["title"] for e in first["edges"]]
    titles += [e["node"]["title"] for e in rest["data"]["feed"]["edges"]]
    assert titles == ["Bob's", "Ann 2", "Ann 1", "Ann 0"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["title"] for e in by_skill["edges"]] == ["Bob's"]
    assert none_followed["edges"] == []


def test_a_bad_cursor_is_refused_clearly(run, session):
    ann = make_member(session)

    result = run(FEED, {"after": relay.to_base64("offset", 3)}, member=ann)

    assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_comment_react_and_follow(run, session):
    ann, bob = make_member(session, name="Ann"), make_member(session, name="Bob")
    post_id = _create(run, ann)["post"]["id"]

    added = run(COMMENT, {"input": {"postId": post_id, "body": "[x](javascript:y)"}}, member=bob)
    react = run(
        "mutation($id: ID!) { reactToPost(input: {postId: $id}) {"
        " ... on ReactToPostSuccess { useful post { usefulCount usefulToMe } } } }",
        {"id": post_id},
        member=bob,
    )
    bob_id = relay.to_base64("Member", ann.id)
    follow = run(
        "mutation($id: ID!) { followMember(input: {memberId: $id}) {"
        " ... on FollowMemberSuccess { following member { name } } } }",
        {"id": bob_id},
        member=bob,
    )
    feed = run(FEED, {"following": True}, member=bob)["data"]["feed"]

    success = added["data"]["addComment"]
    assert success["post"]["commentCount"] == 1
    assert "href" not in success["comment"]["bodyHtml"]
    assert react["data"]["reactToPost"] == {
        "useful": True,
        "post": {"usefulCount": 1, "usefulToMe": True},
    }
    assert follow["data"]["followMember"] == {"following": True, "member": {"name": "Ann"}}
    assert [e["node"]["id"] for e in feed["edges"]] == [post_id]


def test_edit_and_delete_only_your_own(run, session):
    ann, bob = make_member(session), make_member(session)
    post_id = _create(run, ann)["post"]["id"]
    edit = (
        'mutation($id: ID!) { editPost(input: {postId: $id, title: "New", body: "B"}) {'
        " __typename ... on PostSuccess { post { title editedAt } } } }"
    )
    delete = "mutation($id: ID!) { deletePost(input: {postId: $id}) { __typename } }"

    assert run(edit, {"id": post_id}, member=bob)["data"]["editPost"]["__typename"] == "NotAllowed"
    assert run(edit, {"id": post_id}, member=ann)["data"]["editPost"]["post"]["title"] == "New"
    assert run(delete, {"id": post_id}, member=bob)["data"]["deletePost"]["__typename"] == (
        "NotAllowed"
    )
    assert run(delete, {"id": post_id}, member=ann)["data"]["deletePost"]["__typename"] == (
        "DeletePostSuccess"
    )
    assert run(FEED, {}, member=bob)["data"]["feed"]["edges"] == []


def test_report_queue_and_hide_through_graphql(run, session):
    ann, bob, olu = make_member(session), make_member(session), make_organiser(session)
    post_id = _create(run, ann)["post"]["id"]
    report = (
        'mutation($id: ID!) { reportContent(input: {postId: $id, reason: "Spam"}) { __typename } }'
    )
    queue = "{ moderationQueue { kind reasons reportCount post { id } } }"
    hide = (
        'mutation($id: ID!) { moderateContent(input: {postId: $id, action: HIDE, note: "Ad"}) {'
        " __typename ... on ModerateContentSuccess { hidden } } }"
    )

    assert run(report, {"id": post_id}, member=bob)["data"]["reportContent"]["__typename"] == (
        "ReportContentSuccess"
    )
    denied = run(queue, member=bob)
    assert denied["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    assert run(queue, member=olu)["data"]["moderationQueue"] == [
        {"kind": "POST", "reasons": ["Spam"], "reportCount": 1, "post": {"id": post_id}}
    ]
    assert run(hide, {"id": post_id}, member=bob)["data"]["moderateContent"]["__typename"] == (
        "NotAllowed"
    )
    assert run(hide, {"id": post_id}, member=olu)["data"]["moderateContent"]["hidden"] is True
    assert run(FEED, {}, member=bob)["data"]["feed"]["edges"] == []
    seen = run(FEED, {}, member=olu)["data"]["feed"]["edges"]
    assert [e["node"]["hidden"] for e in seen] == [True]


def test_node_fetches_posts_with_the_same_rule(run, session):
    ann, bob, olu = make_member(session), make_member(session), make_organiser(session)
    post_id = _create(run, ann)["post"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on Post { title } } }"
    run(
        'mutation($id: ID!) { moderateContent(input: {postId: $id, action: HIDE, note: "x"})'
        " { __typename } }",
        {"id": post_id},
        member=olu,
    )

    assert run(query, {"id": post_id}, member=bob)["data"]["node"] is None
    assert run(query, {"id": post_id}, member=olu)["data"]["node"] == {"title": "Rotas"}


def test_the_feed_costs_a_fixed_number_of_queries(run, session, count_queries):
    ann = make_member(session)
    for i in range(2):
        _create(run, ann, title=f"P{i}", skills=["rota-management"])
    session.commit()
    count_queries.statements.clear()
    run(FEED, {}, member=ann)
    few = count_queries.count
    for i in range(2, 8):
        _create(run, ann, title=f"P{i}", skills=["rota-management"])
    session.commit()
    count_queries.statements.clear()

    run(FEED, {}, member=ann)

    assert count_queries.count == few
