"""Rendering the report's HTML: Jinja2 with autoescape on, templates and stylesheet shipped in the package.

The pages carry no script and load nothing from elsewhere (the stylesheet is inlined), so they work
offline; the response headers forbid scripts outright, so even a missed escape could not run one.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

__all__ = ["SECURITY_HEADERS", "HtmlPage", "error_page", "render"]

_ENVIRONMENT: Final = Environment(
    loader=PackageLoader("shared.report", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# our own file, inserted as is into <style>: read once, never a template (CSS braces are not Jinja)
_STYLESHEET: Final = Markup(  # noqa: S704 (the shipped stylesheet, no outside input)
    files("shared.report").joinpath("templates", "report.css").read_text("utf-8")
)

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src https: http:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # signed links and keys stay out of other sites' logs
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True)
class HtmlPage:
    status: int
    html: str


def render(template: str, status: int = 200, **context: Any) -> HtmlPage:
    html = _ENVIRONMENT.get_template(template).render(stylesheet=_STYLESHEET, **context)
    return HtmlPage(status, html)


_TITLES: Final = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    503: "Unavailable",
}


def error_page(status: int, message: str) -> HtmlPage:
    return render("error.html", status, code=status, title=_TITLES.get(status, "Error"), message=message)
