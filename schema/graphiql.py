"""GraphiQL in development, served from the installed npm packages: no CDN, works offline.

The page loads React, ReactDOM and GraphiQL (their UMD builds, pinned in package.json's
devDependencies and installed by ``make install``) from ``/graphql/ide/...`` on this server,
and starts GraphiQL with one script carrying the response's CSP nonce. Outside development the
page and its files are not served (404), and production installs need not have them at all.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, HTMLResponse, Response

from backend.settings import PROJECT_ROOT, Settings

router = APIRouter()

NODE_MODULES = PROJECT_ROOT / "node_modules"
ASSET_PREFIX = "/graphql/ide"
JAVASCRIPT = "text/javascript; charset=utf-8"
# The only files served: name in the URL -> (file under node_modules, content type).
ASSETS: dict[str, tuple[Path, str]] = {
    "react.js": (NODE_MODULES / "react" / "umd" / "react.production.min.js", JAVASCRIPT),
    "react-dom.js": (
        NODE_MODULES / "react-dom" / "umd" / "react-dom.production.min.js",
        JAVASCRIPT,
    ),
    "graphiql.js": (NODE_MODULES / "graphiql" / "graphiql.min.js", JAVASCRIPT),
    "graphiql.css": (NODE_MODULES / "graphiql" / "graphiql.min.css", "text/css; charset=utf-8"),
}

# The fetcher sends the session cookie (same origin only) and JSON, as /graphql requires.
_START = """
const root = document.getElementById("graphiql");
const fetcher = GraphiQL.createFetcher({url: %(url)s, fetch: (input, init) =>
  fetch(input, {...init, credentials: "same-origin"})});
ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
  fetcher, defaultEditorToolsVisibility: true, shouldPersistHeaders: false,
}));
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphiQL - peerbridge</title>
<link rel="stylesheet" href="%(prefix)s/graphiql.css">
<style nonce="%(nonce)s">html, body, #graphiql { height: 100%%; margin: 0; }</style>
</head>
<body>
<main id="graphiql"><p>Loading GraphiQL&hellip;</p></main>
<script src="%(prefix)s/react.js"></script>
<script src="%(prefix)s/react-dom.js"></script>
<script src="%(prefix)s/graphiql.js"></script>
<script nonce="%(nonce)s">%(start)s</script>
</body>
</html>
"""


def graphiql_page(request: Request) -> HTMLResponse:
    """The GraphiQL page (development only), its inline tags carrying the CSP nonce."""
    nonce = getattr(request.state, "csp_nonce", "")
    start = _START % {"url": json.dumps("/graphql")}
    html = _PAGE % {"prefix": ASSET_PREFIX, "nonce": nonce, "start": start}
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get(ASSET_PREFIX + "/{name}", include_in_schema=False)
def graphiql_asset(request: Request, name: str) -> Response:
    """One of GraphiQL's files from node_modules; 404 outside development or if not there."""
    settings: Settings = request.app.state.settings
    found = ASSETS.get(name)
    if not settings.is_development or found is None or not found[0].is_file():
        return Response("Not found.", status_code=404, media_type="text/plain")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "no-cache"})
