"""The FastAPI application: pages at /, GraphQL at /graphql, one set of services behind both.

This is the composition root, above every layer: backend/ never imports it, web/ or schema/.
uvicorn builds it with ``peerbridge.app:create_app`` (a factory, so importing builds nothing).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.middleware.base import RequestResponseEndpoint

from backend import observability
from backend.accounts import sso
from backend.db import get_engine, session_factory
from backend.settings import Settings, get_settings
from schema.graphiql import router as graphiql_router
from schema.http import router as graphql_router
from web.assets import NHSUK_ASSETS, WEB_STATIC
from web.errors import install_error_pages
from web.routes import router as web_router

log = logging.getLogger("peerbridge")


def _security_headers(response: Response, *, nonce: str, settings: Settings, path: str) -> None:
    script_src = f"'self' 'nonce-{nonce}'"
    style_src = "'self'"
    if path == "/graphql" and settings.is_development:
        # GraphiQL (development only) is a script-heavy page of its own.
        script_src += " 'unsafe-eval'"
        style_src += f" 'nonce-{nonce}'"
    # The single sign-on button posts here and is redirected to the provider: browsers check
    # that redirect against form-action too.
    form_action = " ".join(("'self'", *sso.form_action_origins()))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {script_src}; style-src {style_src}; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if not settings.is_development and settings.environment != "test":
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"


def create_app(*, settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the application around ``engine`` (the configured database by default)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = None
        if settings.run_jobs_in_process:
            from backend.jobs import InProcessRunner

            runner = InProcessRunner(app.state.engine, settings.jobs_interval_seconds)
            runner.start()
        yield
        if runner is not None:
            runner.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="peerbridge",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or get_engine()
    app.state.sessions = session_factory(app.state.engine)
    # Probes, metrics and logs; installed first so that it sits inside the request-id middleware.
    observability.install(app, settings)

    @app.middleware("http")
    async def _headers_and_request_id(
        request: Request, call_next: RequestResponseEndpoint
    ) -> Response:
        request.state.csp_nonce = secrets.token_urlsafe(16)
        request.state.request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        response: Response = await call_next(request)
        _security_headers(
            response, nonce=request.state.csp_nonce, settings=settings, path=request.url.path
        )
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    if NHSUK_ASSETS.is_dir():
        app.mount("/assets/nhsuk", StaticFiles(directory=NHSUK_ASSETS), name="nhsuk")
    else:
        log.warning("NHS.UK frontend assets missing at %s: run `make install`", NHSUK_ASSETS)
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")

    app.include_router(graphql_router)
    app.include_router(graphiql_router)
    app.include_router(web_router)
    install_error_pages(app)
    return app
