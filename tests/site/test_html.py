"""``_targets/site/_html.py``: post bodies as the clean stage leaves them."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from feedsite._clean import clean_html
from feedsite._targets.site._html import prepare_body
from feedsite._url import safe_url

_IMG = re.compile(r"<img\b([^>]*)>", re.I)
_URL_ATTR = re.compile(r"""(\s(?:href|src|poster)\s*=\s*")([^"]*)(")""", re.I)
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def reference(body: str, link: str | None, image_proxy: str | None) -> str:
    """The same rules with tolerant patterns (any case, spaces around ``=``)."""
    body = _CONTROL.sub("", body)
    if image_proxy:
        body = body.replace('src="http://', f'src="{image_proxy}http://')

    def fix_url(m: re.Match[str]) -> str:
        value = html.unescape(m.group(2))
        if not value:
            return m.group(0)
        if _ABSOLUTE.match(value):
            # issue #10 row 3: only http(s), mailto:, tel:, fragments and inline images
            scheme = value.split(":", 1)[0].lower() if ":" in value else ""
            if value.startswith(("//", "#")) or scheme in ("http", "https", "mailto", "tel"):
                return m.group(0)
            inline = "src" in m.group(1).lower() and value.lower().startswith("data:image/")
            return m.group(0) if inline else m.group(1) + "#" + m.group(3)
        fixed = safe_url(value, link) if link else None
        return m.group(1) + (html.escape(fixed) if fixed else "#") + m.group(3)

    def fix_img(m: re.Match[str]) -> str:
        attrs, low = m.group(1), m.group(1).lower()
        if not re.search(r"\salt\s*=", low):
            attrs = ' alt=""' + attrs
        if "loading=" not in low:
            attrs = ' loading="lazy"' + attrs
        if "referrerpolicy=" not in low:
            attrs = ' referrerpolicy="no-referrer"' + attrs
        return "<img" + attrs + ">"

    return _IMG.sub(fix_img, _URL_ATTR.sub(fix_url, body))


_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<IMG SRC='a.jpg'>",
        '<img data-src="/lazy.png" src="data:image/gif;base64,R0lGOD">',
        '<img src = "http://x.org/i.jpg" LOADING="eager">',
        '<img alt="a picture" src="https://x.org/p.png">',
        '<img ALT = "" src="https://x.org/q.png">',
        '<a HREF="/rel?a=1&amp;b=2">',
        "<a href=' https://abs.example/ src=\"x\"'>",
        '<a href="#top">',
        '<video poster="p.jpg" src="//cdn.example/v.mp4"></video>',
        "</a>",
        "text ",
        "新闻 ",
        "\x07",
        "<iframe src='https://www.youtube.com/embed/x'></iframe>",
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">',
        '<a href="/x?q=&quot;y">',
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PIECES, max_size=40).map("".join),
    st.sampled_from([None, "https://news.example.org/a/b.html"]),
    st.sampled_from([None, "https://proxy.example/?u="]),
    st.sampled_from([None, "https://news.example.org/"]),
)
def test_prepare_body_on_clean_output_matches_the_tolerant_rules(
    raw: str, link: str | None, proxy: str | None, base: str | None
) -> None:
    body = clean_html(raw, base_url=base, iframe_hosts=("www.youtube.com",))
    assert prepare_body(body, link, proxy, ("www.youtube.com",)) == reference(body, link, proxy)


def test_prepare_body_rechecks_stored_iframe_hosts() -> None:
    """issue #10 row 8: a body stored by an older clean keeps no iframe a browser would
    load from another host than the allowed ones."""
    hosts = ("player.bilibili.com",)
    stale = '<iframe src="http://127.0.0.1:18765\\@player.bilibili.com/x"></iframe>'
    assert prepare_body(stale, None, None, hosts) == "<iframe></iframe>"
    evil = '<iframe src="https://evil.example/x"></iframe>'
    assert prepare_body(evil, None, None, hosts) == "<iframe></iframe>"
    good = '<iframe src="https://player.bilibili.com/player.html?bvid=1&amp;p=1"></iframe>'
    assert prepare_body(good, None, None, hosts) == good


def test_prepare_body_examples() -> None:
    # A body as an older clean stage stored it (relative URLs kept when it had no base;
    # the clean stage now drops them, issue #10).
    body = '<p><img src="/a.jpg"><a href="b.html" rel="noopener noreferrer">b</a></p>'
    out = prepare_body(body, "https://e.org/x/y.html", None)
    assert 'src="https://e.org/a.jpg"' in out and 'href="https://e.org/x/b.html"' in out
    assert 'loading="lazy"' in out and 'referrerpolicy="no-referrer"' in out
    assert 'href="#"' in prepare_body(body, None, None)
    # Every image has a text alternative: the feed's, else an empty one (issue #15).
    assert out.count(' alt=""') == 1
    described = prepare_body('<img src="https://e.org/a.jpg" alt="图表">', None, None)
    assert ' alt="图表"' in described and 'alt=""' not in described


def test_prepare_body_refuses_unsafe_stored_urls() -> None:
    """issue #10 row 3: bodies of older runs may hold `javascript:` links; a relative URL
    is resolved as a browser resolves it and never turned into an attribute break-out."""
    body = (
        '<p><a href="javascript:alert(1)">j</a><a href="&#106;avascript:alert(2)">e</a>'
        '<a href=" java\tscript:alert(3)">t</a><img src="data:image/gif;base64,R0lG">'
        '<a href="data:text/html,x">d</a><a href="x&quot; onerror=&quot;y">q</a></p>'
    )
    out = prepare_body(body, "https://e.org/x/y.html", None)
    assert "javascript" not in out.lower() and "script:" not in out
    assert 'src="data:image/gif;base64,R0lG"' in out  # inline images stay
    assert 'href="data:' not in out
    assert 'href="https://e.org/x/x%22%20onerror=%22y"' in out
