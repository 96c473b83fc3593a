"""Safe Markdown: markdown-it-py renders with raw HTML off, then nh3 sanitises the result.

Two layers, because either alone has failed somewhere before: markdown-it escapes any HTML
typed into the source and refuses dangerous link schemes; nh3 (ammonia) then keeps only an
allow-list of tags, attributes and URL schemes, so whatever the renderer lets through by
mistake is still inert. Links get rel="nofollow noopener"; images are kept only when they
come from this site (a path starting with a single "/"), others become plain links.
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "s",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _same_site(src: str) -> bool:
    return src.startswith("/") and not src.startswith("//") and "\\" not in src


def _image(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """Images from this site stay images; any other becomes a link to it (never loaded)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    if _same_site(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}">'
    return f'<a href="{escape(src)}">{escape(alt)}</a>'


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image)
    return md


_MD = _build()


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not _same_site(value):
        return None
    return value


def _demote_headings(html: str) -> str:
    # The page owns h1 and h2; a post's own headings start at h3.
    for level in (2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 2}>").replace(
            f"</h{level}>", f"</h{level + 2}>"
        )
    return html


def sanitise(html: str) -> str:
    """Only allowed tags, attributes and URL schemes survive; links get nofollow noopener."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
        attribute_filter=_attribute_filter,
    )


def render(source: str) -> Markup:
    """Markdown ``source`` as HTML that is safe to put on a page as it is."""
    html = _demote_headings(_MD.render(source or ""))
    return Markup(sanitise(html))  # noqa: S704 - sanitised by nh3 just above
