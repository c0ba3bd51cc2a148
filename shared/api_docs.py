"""The API's documentation page: Swagger UI, served offline from the `swagger-ui-py` package's files.

`GET /api/docs` is a small server-rendered page; its stylesheet and scripts are files of the installed
package (`/api/docs/assets/<name>`, a fixed list) plus one start-up script of ours, so nothing comes
from a CDN and the page's CSP allows scripts from the same origin only (no inline script, no eval).
It reads the OpenAPI document at `/api/openapi.json` (relative to the page, so under any prefix).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Final

__all__ = ["ASSETS", "DOCS_HEADERS", "DOCS_PAGE", "START_SCRIPT", "asset_path"]

ASSETS: Final = {  # name -> media type; nothing else of the package is served
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

START_SCRIPT: Final = """\
"use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
"""

DOCS_PAGE: Final = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Call Center AI · API</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body data-openapi="openapi.json">
<noscript>The API documentation needs JavaScript; the raw document is
<a href="openapi.json">openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/start.js"></script>
</body>
</html>
"""

DOCS_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self' data:; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _static_folder() -> Path | None:
    spec = importlib.util.find_spec("swagger_ui")  # located, not imported (it imports its web handlers)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def asset_path(name: str) -> Path | None:
    """The file of an allowed asset, or None (unknown name, or the package is not installed)."""
    if name not in ASSETS:
        return None
    folder = _static_folder()
    path = folder / name if folder is not None else None
    return path if path is not None and path.is_file() else None
