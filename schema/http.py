"""/graphql over HTTP: JSON POSTs only, size-capped, run in a worker thread; GraphiQL in dev.

Cross-site safety: browsers send the session cookie with every request, but they cannot send a
cross-site POST with ``Content-Type: application/json`` without a CORS preflight, which this
app never grants. Accepting nothing but JSON POSTs is therefore the CSRF defence of /graphql.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import anyio
from fastapi import APIRouter, Request
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.responses import JSONResponse, Response

from backend import text
from backend.settings import Settings
from schema.build import PeerbridgeSchema, build_schema, execute
from schema.context import bearer_token, context_for_request
from schema.graphiql import graphiql_page
from schema.inputs import DOCUMENT_FIELDS

log = logging.getLogger("peerbridge.graphql")
router = APIRouter()

MAX_BODY_BYTES = 1024 * 1024
JSON_TYPE = re.compile(r"^application/json\s*(;.*)?$", re.IGNORECASE)


class BadRequest(Exception):
    """An HTTP-level refusal: the status, a code and a message for the client."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(
    status: int, code: str, message: str, *, field: str | None = None, **headers: str
) -> JSONResponse:
    """The JSON shape of every refusal: like a GraphQL error, with a code (and the field)."""
    extensions = {"code": code, **({"field": field} if field else {})}
    return JSONResponse(
        {"errors": [{"message": message, "extensions": extensions}]},
        status_code=status,
        headers=headers or None,
    )


def schema_of(request: Request) -> PeerbridgeSchema:
    """The app's schema, built on first use for the app's settings."""
    state = request.app.state
    schema = getattr(state, "graphql_schema", None)
    if schema is None:
        schema = state.graphql_schema = build_schema(state.settings)
    return schema


async def read_body(request: Request) -> bytes:
    """The request body, refusing to read past MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequest(413, "PAYLOAD_TOO_LARGE", "The request body must be 1 MiB or smaller.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(413, "PAYLOAD_TOO_LARGE", "The request body must be 1 MiB or smaller.")
    return bytes(body)


def parse_operation(body: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    """(query, variables, operationName) from a JSON body, or BadRequest saying what is wrong."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise BadRequest(400, "BAD_REQUEST", "The request body is not valid JSON.") from error
    if isinstance(payload, list):
        raise BadRequest(
            400, "BATCHING_NOT_SUPPORTED", "Send one operation per request; batching is off."
        )
    if not isinstance(payload, dict):
        raise BadRequest(400, "BAD_REQUEST", "The body must be a JSON object with a query.")
    query = payload.get("query")
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest(400, "BAD_REQUEST", "The body must have a 'query' string.")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest(400, "BAD_REQUEST", "'variables' must be a JSON object.")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest(400, "BAD_REQUEST", "'operationName' must be a string.")
    check_readable(query, variables, operation_name)
    return query, variables, operation_name


def check_readable(
    query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> None:
    """Refuse text no field may hold (lone surrogates, control characters), naming where it is.

    JSON may carry ``"\\ud800"``, which Python reads but no database, email or JSON response
    encoded as UTF-8 can hold; literals in the query are checked by ``schema.inputs``.
    """
    problems = text.unreadable_fields(variables or {}, skip=DOCUMENT_FIELDS)
    if problems:
        where, message = next(iter(problems.items()))
        raise BadRequest(400, "INVALID_INPUT", message, field=where)
    for part, value in (("query", query), ("operationName", operation_name or "")):
        problem = text.unreadable(value)
        if problem:
            raise BadRequest(400, "INVALID_INPUT", f"The {part} {problem}", field=part)


def is_query(query: str, operation_name: str | None) -> bool:
    """True when the operation to run is a query (not a mutation), so it may start read-only.

    A document that does not parse, or names no operation it has, is not a query here:
    execution reports what is wrong with it.
    """
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation == OperationType.QUERY


def run_operation(
    request: Request,
    *,
    schema: PeerbridgeSchema,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> Response:
    """Authenticate, execute and shape the response; runs in a worker thread with its own loop."""
    scratch = Response()
    factory = request.app.state.sessions
    kwargs: dict[str, Any] = {}
    if is_query(query, operation_name):
        kwargs["bind"] = request.app.state.engine.execution_options(read_only=True)
    # One transaction for the operation (each mutation field in a savepoint of it, see
    # schema.build.MutationSavepoints), committed before the response is written: a commit
    # that fails is a 500, never a success whose writes were lost. A query starts read-only
    # (no write lock on SQLite); what it must write goes through backend.db.write_apart.
    with factory(**kwargs) as session:
        try:
            context = context_for_request(
                request, session=session, settings=settings, response=scratch
            )
            if bearer_token(request) is not None and context.member is None:
                session.rollback()
                return error_response(
                    401,
                    "INVALID_TOKEN",
                    "The access token is not valid or has been revoked.",
                    **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            result = execute(
                schema, query, context=context, variables=variables, operation_name=operation_name
            )
            session.commit()
        except Exception:
            session.rollback()
            log.exception(
                "GraphQL request failed (request %s)", getattr(request.state, "request_id", "")
            )
            message = (
                "Unexpected error." if settings.is_production else "Unexpected error (see log)."
            )
            return error_response(500, "INTERNAL_SERVER_ERROR", message)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    response = JSONResponse(body, headers={"Cache-Control": "no-store"})
    for name, value in scratch.raw_headers:
        if name.lower() == b"set-cookie":
            response.raw_headers.append((name, value))
    return response


@router.api_route(
    "/graphql", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def graphql(request: Request) -> Response:
    """The GraphQL endpoint."""
    settings: Settings = request.app.state.settings
    if request.method == "GET":
        if request.query_params.get("query") is not None:
            return error_response(
                405,
                "METHOD_NOT_ALLOWED",
                "Operations are not accepted over GET; POST them as application/json.",
                Allow="POST",
            )
        if settings.is_development:
            return graphiql_page(request)
        return error_response(
            405, "METHOD_NOT_ALLOWED", "POST operations as application/json.", Allow="POST"
        )
    if request.method != "POST":
        return error_response(
            405, "METHOD_NOT_ALLOWED", "POST operations as application/json.", Allow="POST"
        )
    if not JSON_TYPE.match(request.headers.get("content-type", "")):
        return error_response(
            415, "UNSUPPORTED_MEDIA_TYPE", "Send the operation with Content-Type: application/json."
        )
    try:
        query, variables, operation_name = parse_operation(await read_body(request))
    except BadRequest as refusal:
        return error_response(refusal.status, refusal.code, refusal.message, field=refusal.field)
    schema = schema_of(request)
    return await anyio.to_thread.run_sync(
        lambda: run_operation(
            request,
            schema=schema,
            settings=settings,
            query=query,
            variables=variables,
            operation_name=operation_name,
        )
    )
