"""The NHS.UK stylesheet, adjusted to run under this site's Content-Security-Policy."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from backend.settings import PROJECT_ROOT

router = APIRouter()

NHSUK_ASSETS = PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
WEB_STATIC = Path(__file__).resolve().parent / "static"

FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")


@lru_cache
def _stylesheet() -> bytes | None:
    path = NHSUK_ASSETS / "nhsuk-frontend.min.css"
    if not path.is_file():
        return None
    css = path.read_text(encoding="utf-8")
    # The published file loads the Frutiger font from assets.nhs.uk, which the CSP refuses (and
    # a third-party request on every page would tell another site who reads what). Without the
    # @font-face rules the design system uses its own fallback, Arial.
    return FONT_FACE.sub("", css).encode("utf-8")


@router.get("/assets/nhsuk-frontend.css", include_in_schema=False)
def nhsuk_stylesheet() -> Response:
    """The NHS.UK frontend stylesheet without third-party fonts."""
    css = _stylesheet()
    if css is None:
        return Response("/* run `make install` for the NHS.UK frontend */", status_code=404)
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})
