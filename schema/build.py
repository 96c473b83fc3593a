"""The schema: root types, limits, error handling, and running one operation."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLResolveInfo, OperationType
from graphql.validation import NoSchemaIntrospectionCustomRule
from sqlalchemy.orm import SessionTransaction
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult

from backend.errors import Invalid
from backend.settings import Settings
from schema import errors
from schema.access_tokens import AccessTokenMutation
from schema.accounts import AccountMutation, SessionQuery
from schema.admin import AdminMutation, AdminQuery
from schema.assessments import SelfAssessmentMutation, SelfAssessmentQuery
from schema.audit import AuditQuery
from schema.bookings import BookingMutation
from schema.chapters import ChapterMutation, ChapterQuery
from schema.community import CircleMutation, CircleQuery, CommunityMutation, CommunityQuery
from schema.context import Context, Info
from schema.events import EventMutation, EventQuery
from schema.goals import GoalMutation, GoalQuery
from schema.groups import GroupMutation, GroupQuery
from schema.ids import decode
from schema.impact import ImpactQuery
from schema.imports import ImportMutation, ImportQuery
from schema.inputs import ReadableLiterals
from schema.insights import InsightsQuery
from schema.members import MemberMutation, MemberQuery
from schema.mentoring import MentoringMutation, MentoringQuery
from schema.messaging import MessagingMutation, MessagingQuery
from schema.notifications import NotificationMutation, NotificationQuery
from schema.opportunities import OpportunityMutation, OpportunityQuery
from schema.organisations import OrganisationAdminMutation, OrganisationAdminQuery
from schema.permissions import IsAuthenticated
from schema.privacy import PrivacyMutation, PrivacyQuery
from schema.programmes import ProgrammeMutation, ProgrammeQuery
from schema.reference import ReferenceQuery
from schema.roles import RoleMutation
from schema.rounds import RoundMutation, RoundQuery
from schema.suggestions import SuggestionQuery
from schema.surveys import SurveyMutation, SurveyQuery
from schema.two_factor import TwoFactorMutation, TwoFactorQuery

log = logging.getLogger("peerbridge.graphql")
SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)
UNEXPECTED = "Unexpected error."
NODE_TYPES = (
    "Member",
    "Organisation",
    "AccessToken",
    "MentorRequest",
    "Mentorship",
    "Notification",
    "MatchingRound",
    "ProposedMatch",
    "Post",
    "Comment",
    "Circle",
    "AuditEvent",
    "Programme",
    "ProgrammeApplication",
    "MessageThread",
    "Message",
    "Opportunity",
)


@strawberry.type
class Query(
    AdminQuery,
    OrganisationAdminQuery,
    ChapterQuery,
    AuditQuery,
    CommunityQuery,
    ImportQuery,
    CircleQuery,
    MemberQuery,
    MentoringQuery,
    GroupQuery,
    EventQuery,
    GoalQuery,
    MessagingQuery,
    NotificationQuery,
    ReferenceQuery,
    RoundQuery,
    SuggestionQuery,
    InsightsQuery,
    ImpactQuery,
    PrivacyQuery,
    ProgrammeQuery,
    SurveyQuery,
    SelfAssessmentQuery,
    OpportunityQuery,
    SessionQuery,
    TwoFactorQuery,
):
    """Everything a client can read."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Any object by global id, with the same rules as its own query.",
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        """Fetch any node type by global id; each type's resolve_nodes applies its own rule."""
        for type_name in NODE_TYPES:
            try:
                decode(id, type_name=type_name)
            except Invalid:
                continue
            global_id = relay.GlobalID.from_id(id)
            return await global_id.resolve_node(info, required=False)
        raise Invalid("That is not a valid id.", field="id")


@strawberry.type
class Mutation(
    AccountMutation,
    MemberMutation,
    AccessTokenMutation,
    MentoringMutation,
    BookingMutation,
    GroupMutation,
    EventMutation,
    GoalMutation,
    MessagingMutation,
    NotificationMutation,
    ImportMutation,
    RoundMutation,
    CommunityMutation,
    CircleMutation,
    PrivacyMutation,
    TwoFactorMutation,
    RoleMutation,
    AdminMutation,
    ProgrammeMutation,
    SurveyMutation,
    OrganisationAdminMutation,
    ChapterMutation,
    SelfAssessmentMutation,
    OpportunityMutation,
):
    """Everything a client can change."""


def _request_id(execution_context: ExecutionContext) -> str:
    context = execution_context.context
    return getattr(context, "request_id", "") or ""


class MaskUnexpectedErrors(MaskErrors):
    """Replace bugs' messages with 'Unexpected error.' and the request id to quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=errors.is_unexpected, error_message=UNEXPECTED)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The masked error, with a code and the request id."""
        masked = super().anonymise_error(error)
        masked.extensions = {
            "code": "INTERNAL_SERVER_ERROR",
            "requestId": _request_id(self.execution_context),
        }
        return masked


class MutationSavepoints(SchemaExtension):
    """Each mutation field in a savepoint of the request's transaction.

    The field's writes are rolled back when it returns an error result (``InvalidInput``,
    ``NotAllowed``, ...) or raises; the fields before it keep theirs. Mutation fields run one
    after another, so savepoints nest cleanly. (A field that hands work to a job commits
    with ``backend.db.commit_for_job``; what it wrote before that is kept.)
    """

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Run a root mutation field inside a savepoint; other fields as they are."""
        if info.operation.operation != OperationType.MUTATION or info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        session = info.context.session
        savepoint = session.begin_nested()
        try:
            result = _next(root, info, *args, **kwargs)
        except BaseException:
            _end(savepoint, keep=False)
            raise
        if inspect.isawaitable(result):
            return _settle(savepoint, result)
        _end(savepoint, keep=not isinstance(result, errors.Error))
        return result


async def _settle(savepoint: SessionTransaction, pending: Awaitable[Any]) -> Any:
    try:
        result = await pending
    except BaseException:
        _end(savepoint, keep=False)
        raise
    _end(savepoint, keep=not isinstance(result, errors.Error))
    return result


def _end(savepoint: SessionTransaction, *, keep: bool) -> None:
    if not savepoint.is_active:  # committed early (commit_for_job) or already undone
        return
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


class PeerbridgeSchema(strawberry.Schema):
    """A Strawberry schema that codes, cleans and logs errors the peerbridge way."""

    hide_suggestions: bool = True
    valid_documents: ValidDocuments | None = None

    def process_errors(
        self, errors_: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Give every error a code; strip suggestions; log the unexpected ones once."""
        request_id = _request_id(execution_context) if execution_context else ""
        for error in errors_:
            if self.hide_suggestions and "Did you mean" in error.message:
                error.message = SUGGESTION.sub("", error.message)
            extensions = dict(error.extensions or {})
            if "code" not in extensions:
                code = errors.error_code(error)
                if code is None and not errors.is_unexpected(error):
                    # Parse, validation and variable errors come before any field runs.
                    code = "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_REQUEST"
                if code is not None:
                    extensions["code"] = code
            error.extensions = extensions
            if errors.is_unexpected(error):
                log.error(
                    "GraphQL resolver failed (request %s): %s",
                    request_id,
                    error.message,
                    exc_info=error.original_error,
                )


class ValidDocuments:
    """The query texts one schema has found valid, most recent last (at most ``size``).

    Validation depends only on the document, the schema and its rules, all fixed for one
    schema, so a text that passed once passes again; a text that failed is never kept.
    """

    def __init__(self, size: int = 256) -> None:
        self._texts: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __contains__(self, text: object) -> bool:
        with self._lock:
            if not isinstance(text, str) or text not in self._texts:
                return False
            self._texts.move_to_end(text)
            return True

    def add(self, text: str) -> None:
        with self._lock:
            self._texts[text] = None
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)


class ValidateOnce(SchemaExtension):
    """Skip validating a query text this schema has already found valid.

    Strawberry's ``ValidationCache`` cannot hit here: its key holds the validation rules, and
    the limiters make new rule classes for every request. Validating
    ``mentorSuggestions(first: 10)`` cost more than the matcher's whole ranking.
    """

    def __init__(self, valid: ValidDocuments) -> None:
        self.valid = valid

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        known = text is not None and text in self.valid
        if known:
            context.pre_execution_errors = []  # no errors: the validation step is skipped
        yield
        if text is not None and not known and context.pre_execution_errors == []:
            self.valid.add(text)


def build_schema(settings: Settings) -> PeerbridgeSchema:
    """A schema with the limits of ``settings``; extensions are factories (one per request)."""
    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        lambda: AddValidationRules([ReadableLiterals]),
        MutationSavepoints,
    ]
    if not settings.is_development:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    if settings.is_production:
        extensions.append(MaskUnexpectedErrors)
    # After the limiters: the parse options carry the token limit, the rules are all added.
    valid = ValidDocuments()
    extensions += [lambda: ParserCache(maxsize=256), lambda: ValidateOnce(valid)]
    schema = PeerbridgeSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not settings.is_development),
    )
    schema.hide_suggestions = not settings.is_development
    schema.valid_documents = valid
    return schema


def execute(
    schema: strawberry.Schema,
    query: str,
    *,
    context: Context,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> ExecutionResult:
    """Run one operation to completion on a fresh event loop (call from a worker thread)."""
    return asyncio.run(
        schema.execute(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
        )
    )
