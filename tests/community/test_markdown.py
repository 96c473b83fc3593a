"""Safe Markdown: XSS and Markdown-injection payloads come out inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from backend.community.markdown import ALLOWED_TAGS, render

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](java&#x73;cript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<img src=x onerror=alert(1)>",
    '![a" onerror="alert(1)](/x.png)',
    "![a](https://evil.example/track.png)",
    "<!-- <script>alert(1)</script> -->",
    "<a href='javascript:alert(1)'>x</a>",
    "**<img src=x onerror=alert(1)>**",
    "> <iframe src=//evil.example></iframe>",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    "<svg/onload=alert(1)>",
    "<style>body{display:none}</style>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "[x](//evil.example)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]

SAFE_TAGS = ALLOWED_TAGS


class Elements(HTMLParser):
    """Every element a browser would build from the HTML, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_inert(payload):
    parser = Elements()
    parser.feed(str(render(payload)))

    assert parser.comments == []
    for tag, attrs in parser.found:
        assert tag in SAFE_TAGS
        assert not any(name.startswith("on") or name == "style" for name in attrs)
        href = attrs.get("href")
        if href is not None:
            assert re.match(r"(https?:|mailto:|#|/)", href), href
        if tag == "img":
            assert re.match(r"/(?!/)", attrs.get("src") or ""), attrs


def test_raw_html_is_shown_as_text_never_parsed():
    assert str(render("<b>hi</b>")) == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_links_get_nofollow_noopener():
    html = str(render("[NHS](https://www.nhs.uk)"))

    assert 'href="https://www.nhs.uk"' in html
    assert 'rel="nofollow noopener"' in html


def test_images_from_other_hosts_become_links_and_same_site_images_stay():
    assert "<img" not in str(render("![logo](https://evil.example/x.png)"))
    assert '<img src="/static/logo.png" alt="logo">' in str(render("![logo](/static/logo.png)"))


def test_ordinary_markdown_survives():
    html = str(render("# Heading\n\n- one\n- two\n\n*em* and `code`"))

    assert "<h3>Heading</h3>" in html  # the page owns h1 and h2
    assert "<li>one</li>" in html and "<em>em</em>" in html and "<code>code</code>" in html
