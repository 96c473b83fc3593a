"""Community in GraphQL: feed, posts, comments, reactions, following, moderation, circles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, overload

import strawberry
from sqlmodel import Session
from strawberry import relay
from strawberry.dataloader import DataLoader

from backend.community import circles, peer_connect
from backend.community import service as community
from backend.community.markdown import render
from backend.community.models import Circle as CircleModel
from backend.community.models import Comment as CommentModel
from backend.community.models import Post as PostModel
from backend.errors import Invalid, NotFound
from backend.members import service as member_service
from backend.members.models import Member as MemberModel
from schema import errors
from schema.context import Info
from schema.ids import database_id, decode
from schema.inputs import check_lists, check_text
from schema.members import Member
from schema.permissions import IsAuthenticated
from schema.reference import Skill, page_size


@dataclass
class CommunityLoaders:
    """One request's community loaders (fresh per request, and after every mutation)."""

    skills: DataLoader[int, list[str]]
    useful: DataLoader[int, int]
    useful_to_me: DataLoader[int, bool]
    comment_counts: DataLoader[int, int]
    comments: DataLoader[int, list[CommentModel]]
    organiser: bool


def _make_loaders(session: Session, viewer: MemberModel | None) -> CommunityLoaders:
    async def skills(ids: Sequence[int]) -> list[list[str]]:
        found = community.skills_for(session=session, post_ids=list(ids))
        return [found[i] for i in ids]

    async def useful(ids: Sequence[int]) -> list[int]:
        found = community.useful_counts(session=session, post_ids=list(ids))
        return [found[i] for i in ids]

    async def useful_to_me(ids: Sequence[int]) -> list[bool]:
        mine = community.useful_to(
            session=session, member_id=viewer.id if viewer else None, post_ids=list(ids)
        )
        return [i in mine for i in ids]

    async def comment_counts(ids: Sequence[int]) -> list[int]:
        found = community.comment_counts(session=session, viewer=viewer, post_ids=list(ids))
        return [found[i] for i in ids]

    async def comments(ids: Sequence[int]) -> list[list[CommentModel]]:
        found = community.comments_for(session=session, viewer=viewer, post_ids=list(ids))
        return [found[i] for i in ids]

    return CommunityLoaders(
        skills=DataLoader(load_fn=skills),
        useful=DataLoader(load_fn=useful),
        useful_to_me=DataLoader(load_fn=useful_to_me),
        comment_counts=DataLoader(load_fn=comment_counts),
        comments=DataLoader(load_fn=comments),
        organiser=community.is_organiser(session=session, member=viewer),
    )


def loaders(info: Info) -> CommunityLoaders:
    """The community loaders of this request, made on first use."""
    context = info.context
    found = getattr(context, "_community_loaders", None)
    if found is None or found[0] is not context.loaders:
        # Tied to the core loaders: when a mutation resets those, these start afresh too.
        found = (context.loaders, _make_loaders(context.session, context.member))
        context._community_loaders = found  # type: ignore[attr-defined]  # this module's cache
    return found[1]


async def _author(info: Info, member_id: int) -> Member | None:
    found = await info.context.loaders.members.load(member_id)
    return Member.from_model(found) if found is not None and found.is_active else None


@strawberry.type(description="A reply to a post.")
class Comment(relay.Node):
    id: relay.NodeID[int]
    body: str = strawberry.field(description="The comment as written (Markdown).")
    created_at: datetime
    hidden: bool = strawberry.field(
        description="Hidden by an organiser (only organisers see hidden comments)."
    )
    model: strawberry.Private[CommentModel]

    @classmethod
    def from_model(cls, comment: CommentModel) -> Comment:
        """The GraphQL view of a comment."""
        return cls(
            id=comment.id,
            body=comment.body,
            created_at=comment.created_at,
            hidden=comment.status == "hidden",
            model=comment,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Comment | None]:
        """Comments by id: only where the caller can read the post and the comment."""
        viewer = member_service.require_member(info.context.member)
        session = info.context.session
        result: list[Comment | None] = []
        for raw in node_ids:
            comment = session.get(CommentModel, database_id(raw) or 0)
            found = None
            if comment is not None:
                try:
                    community.get_post(session=session, viewer=viewer, post_id=comment.post_id)
                except NotFound:
                    comment = None
                else:
                    visible = community.comments_for(
                        session=session, viewer=viewer, post_ids=[comment.post_id]
                    )[comment.post_id]
                    found = next((c for c in visible if c.id == comment.id), None)
            result.append(cls.from_model(found) if found is not None else None)
        return result

    @strawberry.field(description="The comment as safe HTML (raw HTML never passes).")
    def body_html(self) -> str:
        """Rendered and sanitised Markdown."""
        return str(render(self.model.body))

    @strawberry.field(description="Who wrote it (null once they have left the network).")
    async def author(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _author(info, self.model.author_id)


@strawberry.type(description="Learning a member shared: a title, a Markdown body, skill tags.")
class Post(relay.Node):
    id: relay.NodeID[int]
    title: str
    body: str = strawberry.field(description="The post as written (Markdown).")
    created_at: datetime
    edited_at: datetime | None
    hidden: bool = strawberry.field(
        description="Hidden by an organiser (only organisers and the author see hidden posts)."
    )
    model: strawberry.Private[PostModel]

    @classmethod
    def from_model(cls, post: PostModel) -> Post:
        """The GraphQL view of a post."""
        return cls(
            id=post.id,
            title=post.title,
            body=post.body,
            created_at=post.created_at,
            edited_at=post.edited_at,
            hidden=post.status == "hidden",
            model=post,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Post | None]:
        """Posts by id, with the same rule as `post(id)`."""
        viewer = member_service.require_member(info.context.member)
        result: list[Post | None] = []
        for raw in node_ids:
            try:
                post = community.get_post(
                    session=info.context.session, viewer=viewer, post_id=database_id(raw) or 0
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(post))
        return result

    @strawberry.field(description="The body as safe HTML (raw HTML never passes).")
    def body_html(self) -> str:
        """Rendered and sanitised Markdown."""
        return str(render(self.model.body))

    @strawberry.field(description="The organiser's note when hidden or restored (organisers).")
    def moderation_note(self, info: Info) -> str | None:
        """Only organisers see moderation notes."""
        return self.model.moderation_note if loaders(info).organiser else None

    @strawberry.field(description="Who wrote it (null once they have left the network).")
    async def author(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _author(info, self.model.author_id)

    @strawberry.field(description="Skills the post is about.")
    async def skills(self, info: Info) -> list[Skill]:
        """Through the post-skills and skills loaders."""
        ids = await loaders(info).skills.load(self.id)
        found = await info.context.loaders.skill_by_id.load_many(ids)
        return [Skill.from_model(s) for s in found if s is not None]

    @strawberry.field(description="How many members found this useful.")
    async def useful_count(self, info: Info) -> int:
        """Through the reactions loader."""
        return await loaders(info).useful.load(self.id)

    @strawberry.field(description="Whether you marked this useful.")
    async def useful_to_me(self, info: Info) -> bool:
        """Through the reactions loader."""
        return await loaders(info).useful_to_me.load(self.id)

    @strawberry.field(description="How many comments you can see.")
    async def comment_count(self, info: Info) -> int:
        """Through the comment-count loader."""
        return await loaders(info).comment_counts.load(self.id)

    @strawberry.field(description="Comments, oldest first.")
    async def comments(self, info: Info) -> list[Comment]:
        """Through the comments loader."""
        return [Comment.from_model(c) for c in await loaders(info).comments.load(self.id)]


def encode_cursor(post_id: int) -> str:
    """The cursor of a post in a feed (its id: the feed's order is newest id first)."""
    return relay.to_base64("post", post_id)


def decode_cursor(after: str | None) -> int | None:
    """The id a feed page continues below; a cursor the API did not make is refused."""
    if after is None:
        return None
    try:
        kind, value = relay.from_base64(after)
        post_id = database_id(value)
        if kind != "post" or post_id is None:
            raise ValueError(after)
    except (ValueError, TypeError) as error:
        raise Invalid("That cursor is not one this API gave out.", field="after") from error
    return post_id


def _feed_connection(posts: list[PostModel], *, more: bool, first: bool) -> relay.Connection[Post]:
    edges = [relay.Edge(node=Post.from_model(p), cursor=encode_cursor(p.id)) for p in posts]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=more,
            has_previous_page=not first,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@strawberry.type(description="A reported post or comment, with every open report about it.")
class ReportedContent:
    kind: str = strawberry.field(description="POST or COMMENT.")
    post: Post
    comment: Comment | None
    reasons: list[str]
    report_count: int
    hidden: bool


@strawberry.type
class CommunityQuery:
    """The community feed, one post, and (for organisers) the moderation queue."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Posts, newest first: all, by skill, or from people you follow.",
    )
    def feed(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        skill: strawberry.ID | None = None,
        following: bool = False,
    ) -> relay.Connection[Post]:
        """A page of the feed."""
        limit = page_size(first, info, default=20)
        before = decode_cursor(after)
        posts, more = community.feed(
            session=info.context.session,
            viewer=info.context.member,
            filter=community.FeedFilter(skill=str(skill) if skill else None, following=following),
            before_id=before,
            limit=limit,
        )
        return _feed_connection(posts, more=more, first=before is None)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One post by global id; null when there is none you may read.",
    )
    def post(self, info: Info, id: strawberry.ID) -> Post | None:
        """A post."""
        try:
            found = community.get_post(
                session=info.context.session,
                viewer=info.context.member,
                post_id=decode(id, type_name="Post"),
            )
        except NotFound:
            return None
        return Post.from_model(found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Organisers only: reported posts and comments waiting for a decision.",
    )
    def moderation_queue(self, info: Info) -> list[ReportedContent]:
        """Open reports grouped by what they are about."""
        items = community.moderation_queue(
            session=info.context.session, organiser=info.context.member
        )
        return [
            ReportedContent(
                kind=item.kind.upper(),
                post=Post.from_model(item.post),
                comment=Comment.from_model(item.comment) if item.comment else None,
                reasons=[r.reason for r in item.reports],
                report_count=len(item.reports),
                hidden=item.hidden,
            )
            for item in items
        ]


# Mutations ------------------------------------------------------------------------------------


@strawberry.input(description="A new post: a title, a Markdown body and up to 5 skill ids.")
class CreatePostInput:
    title: str
    body: str
    skills: list[strawberry.ID] = strawberry.field(default_factory=list)
    circle_id: strawberry.ID | None = strawberry.field(
        default=None, description="Post in your circle's discussion instead of the feed."
    )


@strawberry.input(description="New title, body and skills for one of your posts.")
class EditPostInput:
    post_id: strawberry.ID
    title: str
    body: str
    skills: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class DeletePostInput:
    post_id: strawberry.ID


@strawberry.input(description="A reply to a post.")
class AddCommentInput:
    post_id: strawberry.ID
    body: str


@strawberry.input(description="Mark a post useful (true) or take the mark back (false).")
class ReactToPostInput:
    post_id: strawberry.ID
    useful: bool = True


@strawberry.input(description="Follow (true) or stop following (false) a member's posts.")
class FollowMemberInput:
    member_id: strawberry.ID
    follow: bool = True


@strawberry.input(description="Report a post or a comment (give one of them) with a reason.")
class ReportContentInput:
    reason: str
    post_id: strawberry.ID | None = None
    comment_id: strawberry.ID | None = None


@strawberry.enum(description="What an organiser does with reported content.")
class ModerationAction(Enum):
    HIDE = strawberry.enum_value(
        "hide", description="Hide the post or comment from members; it can be restored."
    )
    RESTORE = strawberry.enum_value("restore", description="Show hidden content again.")
    DISMISS = strawberry.enum_value(
        "dismiss", description="Close the reports and leave the content as it is."
    )


@strawberry.input(description="Organisers: hide, restore or dismiss reports, with a note.")
class ModerateContentInput:
    action: ModerationAction
    note: str = ""
    post_id: strawberry.ID | None = None
    comment_id: strawberry.ID | None = None


@strawberry.type(description="The post, as saved.")
class PostSuccess:
    post: Post


@strawberry.type(description="The comment, as saved.")
class AddCommentSuccess:
    comment: Comment
    post: Post


@strawberry.type(description="The post is deleted.")
class DeletePostSuccess:
    deleted_post_id: strawberry.ID


@strawberry.type(description="Whether you now find the post useful.")
class ReactToPostSuccess:
    post: Post
    useful: bool


@strawberry.type(description="Whether you now follow the member.")
class FollowMemberSuccess:
    member: Member
    following: bool


@strawberry.type(description="Your report reached the organisers.")
class ReportContentSuccess:
    reported: bool


@strawberry.type(description="What the organiser decided.")
class ModerateContentSuccess:
    hidden: bool
    post: Post | None
    comment: Comment | None


CreatePostResult = Annotated[
    PostSuccess | errors.Problem, errors.result_named("CreatePostResult", PostSuccess)
]
EditPostResult = Annotated[
    PostSuccess | errors.Problem, errors.result_named("EditPostResult", PostSuccess)
]
DeletePostResult = Annotated[
    DeletePostSuccess | errors.Problem, errors.result_named("DeletePostResult", DeletePostSuccess)
]
AddCommentResult = Annotated[
    AddCommentSuccess | errors.Problem, errors.result_named("AddCommentResult", AddCommentSuccess)
]
ReactToPostResult = Annotated[
    ReactToPostSuccess | errors.Problem,
    errors.result_named("ReactToPostResult", ReactToPostSuccess),
]
FollowMemberResult = Annotated[
    FollowMemberSuccess | errors.Problem,
    errors.result_named("FollowMemberResult", FollowMemberSuccess),
]
ReportContentResult = Annotated[
    ReportContentSuccess | errors.Problem,
    errors.result_named("ReportContentResult", ReportContentSuccess),
]
ModerateContentResult = Annotated[
    ModerateContentSuccess | errors.Problem,
    errors.result_named("ModerateContentResult", ModerateContentSuccess),
]


@overload
def _post_id(value: strawberry.ID, field: str = "postId") -> int: ...
@overload
def _post_id(value: strawberry.ID | None, field: str = "postId") -> int | None: ...
def _post_id(value: strawberry.ID | None, field: str = "postId") -> int | None:
    return decode(value, type_name="Post", field=field) if value is not None else None


def _comment_id(value: strawberry.ID | None) -> int | None:
    return decode(value, type_name="Comment", field="commentId") if value is not None else None


@strawberry.type
class CommunityMutation:
    """Sharing learning, following members, and moderation."""

    @strawberry.mutation(description="Share learning in the feed (verified members).")
    def create_post(self, info: Info, input: CreatePostInput) -> CreatePostResult:
        """Create a post."""
        context = info.context

        def create() -> PostSuccess:
            member_service.require_member(context.member)
            check_lists(skills=input.skills)
            check_text(title=input.title)
            post = community.create_post(
                session=context.session,
                author=context.member,
                title=input.title,
                body=input.body,
                skills=[str(s) for s in input.skills],
                circle_id=(
                    decode(input.circle_id, type_name="Circle", field="circleId")
                    if input.circle_id is not None
                    else None
                ),
            )
            context.reset_loaders()
            return PostSuccess(post=Post.from_model(post))

        return errors.outcome(create)

    @strawberry.mutation(description="Change the title, body and skills of your own post.")
    def edit_post(self, info: Info, input: EditPostInput) -> EditPostResult:
        """Edit a post."""
        context = info.context

        def edit() -> PostSuccess:
            member_service.require_member(context.member)
            check_lists(skills=input.skills)
            check_text(title=input.title)
            post = community.edit_post(
                session=context.session,
                member=context.member,
                post_id=_post_id(input.post_id),
                title=input.title,
                body=input.body,
                skills=[str(s) for s in input.skills],
            )
            context.reset_loaders()
            return PostSuccess(post=Post.from_model(post))

        return errors.outcome(edit)

    @strawberry.mutation(description="Delete your own post.")
    def delete_post(self, info: Info, input: DeletePostInput) -> DeletePostResult:
        """Delete a post."""
        context = info.context

        def remove() -> DeletePostSuccess:
            member_service.require_member(context.member)
            community.delete_post(
                session=context.session,
                member=context.member,
                post_id=_post_id(input.post_id),
            )
            context.reset_loaders()
            return DeletePostSuccess(deleted_post_id=input.post_id)

        return errors.outcome(remove)

    @strawberry.mutation(description="Reply to a post (verified members).")
    def add_comment(self, info: Info, input: AddCommentInput) -> AddCommentResult:
        """Add a comment."""
        context = info.context

        def add() -> AddCommentSuccess:
            member_service.require_member(context.member)
            post_id = _post_id(input.post_id)
            comment = community.add_comment(
                session=context.session,
                author=context.member,
                post_id=post_id,
                body=input.body,
            )
            context.reset_loaders()
            post = community.get_post(
                session=context.session,
                viewer=context.member,
                post_id=post_id,
            )
            return AddCommentSuccess(
                comment=Comment.from_model(comment), post=Post.from_model(post)
            )

        return errors.outcome(add)

    @strawberry.mutation(description="Mark a post useful, or take the mark back (one per member).")
    def react_to_post(self, info: Info, input: ReactToPostInput) -> ReactToPostResult:
        """Set the useful reaction."""
        context = info.context

        def react() -> ReactToPostSuccess:
            member_service.require_member(context.member)
            post_id = _post_id(input.post_id)
            useful = community.set_useful(
                session=context.session,
                member=context.member,
                post_id=post_id,
                useful=input.useful,
            )
            context.reset_loaders()
            post = community.get_post(
                session=context.session,
                viewer=context.member,
                post_id=post_id,
            )
            return ReactToPostSuccess(post=Post.from_model(post), useful=useful)

        return errors.outcome(react)

    @strawberry.mutation(description="Follow a member's posts, or stop following them.")
    def follow_member(self, info: Info, input: FollowMemberInput) -> FollowMemberResult:
        """Follow or unfollow."""
        context = info.context

        def change() -> FollowMemberSuccess:
            viewer = member_service.require_member(context.member)
            member_id = decode(input.member_id, type_name="Member", field="memberId")
            if input.follow:
                community.follow(session=context.session, follower=viewer, member_id=member_id)
            else:
                community.unfollow(session=context.session, follower=viewer, member_id=member_id)
            member = member_service.get(session=context.session, member_id=member_id, viewer=viewer)
            return FollowMemberSuccess(member=Member.from_model(member), following=input.follow)

        return errors.outcome(change)

    @strawberry.mutation(description="Report a post or comment to the organisers.")
    def report_content(self, info: Info, input: ReportContentInput) -> ReportContentResult:
        """File a report."""
        context = info.context

        def file() -> ReportContentSuccess:
            member_service.require_member(context.member)
            check_text(reason=input.reason)
            community.report(
                session=context.session,
                reporter=context.member,
                reason=input.reason,
                post_id=_post_id(input.post_id),
                comment_id=_comment_id(input.comment_id),
            )
            return ReportContentSuccess(reported=True)

        return errors.outcome(file)

    @strawberry.mutation(description="Organisers: hide or restore content with a note.")
    def moderate_content(self, info: Info, input: ModerateContentInput) -> ModerateContentResult:
        """Hide, restore, or dismiss the reports."""
        context = info.context

        def moderate() -> ModerateContentSuccess:
            member_service.require_member(context.member)
            check_text(note=input.note)
            target = {
                "post_id": _post_id(input.post_id),
                "comment_id": _comment_id(input.comment_id),
            }
            if input.action is ModerationAction.DISMISS:
                community.dismiss_reports(
                    session=context.session, organiser=context.member, **target
                )
                found = (
                    context.session.get(PostModel, target["post_id"])
                    if target["post_id"]
                    else context.session.get(CommentModel, target["comment_id"])
                )
            else:
                act = community.hide if input.action is ModerationAction.HIDE else community.restore
                found = act(
                    session=context.session, organiser=context.member, note=input.note, **target
                )
            context.reset_loaders()
            post = found if isinstance(found, PostModel) else None
            comment = found if isinstance(found, CommentModel) else None
            return ModerateContentSuccess(
                hidden=found is not None and found.status == "hidden",
                post=Post.from_model(post) if post is not None else None,
                comment=Comment.from_model(comment) if comment is not None else None,
            )

        return errors.outcome(moderate)


# Peer circles and peer connect ----------------------------------------------------------------


@strawberry.type(description="A peer circle (action learning set) and its own discussion.")
class Circle(relay.Node):
    id: relay.NodeID[int]
    name: str
    model: strawberry.Private[CircleModel]

    @classmethod
    def from_model(cls, circle: CircleModel) -> Circle:
        """The GraphQL view of a circle."""
        return cls(id=circle.id, name=circle.name, model=circle)

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Circle | None]:
        """Circles by id: their members and organisers only."""
        result: list[Circle | None] = []
        for raw in node_ids:
            try:
                view = circles.get(
                    session=info.context.session,
                    viewer=info.context.member,
                    circle_id=database_id(raw) or 0,
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(view.circle))
        return result

    @strawberry.field(description="The circle's members.")
    def members(self, info: Info) -> list[Member]:
        """Members, by name."""
        view = circles.get(
            session=info.context.session, viewer=info.context.member, circle_id=self.id
        )
        return [Member.from_model(m) for m in view.members]

    @strawberry.field(description="The circle's discussion, newest first.")
    def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> relay.Connection[Post]:
        """A page of the circle's posts."""
        limit = page_size(first, info, default=20)
        before = decode_cursor(after)
        posts, more = community.feed(
            session=info.context.session,
            viewer=info.context.member,
            filter=community.FeedFilter(circle_id=self.id),
            before_id=before,
            limit=limit,
        )
        return _feed_connection(posts, more=more, first=before is None)


@strawberry.type(description="What you opted in to.")
class CommunityPreferences:
    circles: bool = strawberry.field(description="You want to be in a peer circle.")
    peer_connect: bool = strawberry.field(description="You want a peer connect pair monthly.")


@strawberry.type(description="A peer connect pairing: the month and the peer you were paired with.")
class PeerPairing:
    period: str = strawberry.field(description="The month, YYYY-MM.")
    peer_id: strawberry.Private[int | None]

    @strawberry.field(description="Your peer (null once they have left the network).")
    async def peer(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _author(info, self.peer_id) if self.peer_id is not None else None


@strawberry.type
class CircleQuery:
    """Your circle, your opt-ins and your peer connect pairs."""

    @strawberry.field(permission_classes=[IsAuthenticated], description="Your circle, if any.")
    def my_circle(self, info: Info) -> Circle | None:
        """The caller's circle."""
        viewer = member_service.require_member(info.context.member)
        found = circles.circle_of(session=info.context.session, member_id=viewer.id)
        return Circle.from_model(found) if found else None

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="True while you have opted in to a peer circle and are waiting for one that "
        "keeps its rules to take you.",
    )
    def my_circle_waiting(self, info: Info) -> bool:
        """Opted in and not in a circle yet."""
        viewer = member_service.require_member(info.context.member)
        return circles.is_waiting(session=info.context.session, member_id=viewer.id)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A circle by id (its members and organisers only); null otherwise.",
    )
    def circle(self, info: Info, id: strawberry.ID) -> Circle | None:
        """One circle."""
        try:
            view = circles.get(
                session=info.context.session,
                viewer=info.context.member,
                circle_id=decode(id, type_name="Circle"),
            )
        except NotFound:
            return None
        return Circle.from_model(view.circle)

    @strawberry.field(permission_classes=[IsAuthenticated], description="Your opt-ins.")
    def community_preferences(self, info: Info) -> CommunityPreferences:
        """Circles and peer connect opt-ins."""
        viewer = member_service.require_member(info.context.member)
        found = circles.preferences_of(session=info.context.session, member_id=viewer.id)
        return CommunityPreferences(circles=found.circles, peer_connect=found.peer_connect)

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="Your peer connect pairs, newest first."
    )
    def peer_connect_pairs(self, info: Info) -> list[PeerPairing]:
        """The caller's pairings."""
        viewer = member_service.require_member(info.context.member)
        rows = peer_connect.pairings_of(session=info.context.session, member_id=viewer.id)
        return [PeerPairing(period=p.period, peer_id=peer.id if peer else None) for p, peer in rows]


@strawberry.input(description="Opt in or out; leave a field out to keep it.")
class SetCommunityPreferencesInput:
    circles: bool | None = None
    peer_connect: bool | None = None


@strawberry.input(description="Organisers: move a member into a circle.")
class MoveCircleMemberInput:
    member_id: strawberry.ID
    circle_id: strawberry.ID


@strawberry.type(description="Your opt-ins, as saved.")
class SetCommunityPreferencesSuccess:
    preferences: CommunityPreferences


@strawberry.type(description="The circles formed.")
class FormCirclesSuccess:
    circles: list[Circle] = strawberry.field(description="The new circles formed.")
    topped_up: list[Circle] = strawberry.field(
        description="Existing circles with room that took some of the waiting members."
    )
    placed: int = strawberry.field(description="How many waiting members are now in a circle.")
    still_waiting: int = strawberry.field(
        description="How many members keep waiting: no circle could take them without breaking "
        "its rules (4-6 members, bands at most 2 apart, one per organisation)."
    )


@strawberry.type(description="Done.")
class CircleChangeSuccess:
    circle: Circle | None


@strawberry.type(description="How many pairs were made.")
class RunPeerConnectSuccess:
    pairs_made: int


SetCommunityPreferencesResult = Annotated[
    SetCommunityPreferencesSuccess | errors.Problem,
    errors.result_named("SetCommunityPreferencesResult", SetCommunityPreferencesSuccess),
]
FormCirclesResult = Annotated[
    FormCirclesSuccess | errors.Problem,
    errors.result_named("FormCirclesResult", FormCirclesSuccess),
]
CircleChangeResult = Annotated[
    CircleChangeSuccess | errors.Problem,
    errors.result_named("CircleChangeResult", CircleChangeSuccess),
]
RunPeerConnectResult = Annotated[
    RunPeerConnectSuccess | errors.Problem,
    errors.result_named("RunPeerConnectResult", RunPeerConnectSuccess),
]


@strawberry.type
class CircleMutation:
    """Opting in, forming circles, leaving, moving, and running peer connect."""

    @strawberry.mutation(description="Opt in or out of a peer circle and of peer connect.")
    def set_community_preferences(
        self, info: Info, input: SetCommunityPreferencesInput
    ) -> SetCommunityPreferencesResult:
        """Save opt-ins."""
        context = info.context

        def save() -> SetCommunityPreferencesSuccess:
            found = circles.set_preferences(
                session=context.session,
                member=context.member,
                circles=input.circles,
                peer_connect=input.peer_connect,
            )
            return SetCommunityPreferencesSuccess(
                preferences=CommunityPreferences(
                    circles=found.circles, peer_connect=found.peer_connect
                )
            )

        return errors.outcome(save)

    @strawberry.mutation(
        description="Organisers: top up circles with room, then form new circles, from everyone "
        "waiting; whoever no circle can take without breaking its rules keeps waiting."
    )
    def form_circles(self, info: Info) -> FormCirclesResult:
        """Form circles."""
        context = info.context

        def form() -> FormCirclesSuccess:
            made = circles.form(session=context.session, organiser=context.member)
            topped = [context.session.get(CircleModel, i) for i in made.topped_up]
            return FormCirclesSuccess(
                circles=[Circle.from_model(c) for c in made.new],
                topped_up=[Circle.from_model(c) for c in topped if c is not None],
                placed=made.placed,
                still_waiting=made.waiting,
            )

        return errors.outcome(form)

    @strawberry.mutation(description="Leave your circle.")
    def leave_circle(self, info: Info) -> CircleChangeResult:
        """Leave."""
        context = info.context

        def leave() -> CircleChangeSuccess:
            circles.leave(session=context.session, member=context.member)
            return CircleChangeSuccess(circle=None)

        return errors.outcome(leave)

    @strawberry.mutation(description="Organisers: move a member into another circle.")
    def move_circle_member(self, info: Info, input: MoveCircleMemberInput) -> CircleChangeResult:
        """Move."""
        context = info.context

        def move() -> CircleChangeSuccess:
            circle_id = decode(input.circle_id, type_name="Circle", field="circleId")
            circles.move(
                session=context.session,
                organiser=context.member,
                member_id=decode(input.member_id, type_name="Member", field="memberId"),
                circle_id=circle_id,
            )
            view = circles.get(session=context.session, viewer=context.member, circle_id=circle_id)
            return CircleChangeSuccess(circle=Circle.from_model(view.circle))

        return errors.outcome(move)

    @strawberry.mutation(description="Organisers: make this month's peer connect pairs now.")
    def run_peer_connect(self, info: Info) -> RunPeerConnectResult:
        """Run the pairing."""
        context = info.context

        def run() -> RunPeerConnectSuccess:
            made = peer_connect.trigger(session=context.session, organiser=context.member)
            return RunPeerConnectSuccess(pairs_made=len(made))

        return errors.outcome(run)
