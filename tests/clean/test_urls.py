"""URLs in cleaned bodies: checked after lazy images, rebuilt by safe_url (issue #10)."""

from __future__ import annotations

import lxml.html
import pytest

from feedsite._clean import clean_html
from feedsite.config import DEFAULT_IFRAME_HOSTS

BASE = "https://example.org/a/"
SECRET_BASE = "http://user:password@127.0.0.1:1200/guancha/headline?key=SECRETKEY"


def clean(html: str, base: str | None = BASE) -> str:
    return clean_html(html, base_url=base, iframe_hosts=DEFAULT_IFRAME_HOSTS)


def urls(html: str) -> list[tuple[str, str, str]]:
    """(tag, attribute, value as a browser reads it) for every URL attribute."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [
        (el.tag, name, value)
        for el in root.iter()
        for name, value in el.attrib.items()
        if name in ("href", "src", "poster", "cite")
    ]


def test_single_quote_in_img_src_cannot_leave_an_attribute() -> None:
    """issue #10 row 2: ``src="https://ok.example/f.jpg' onerror='…'"`` (nh3 keeps it)."""
    out = clean("""<img src="https://ok.example/f.jpg' onerror='alert(1)'">""")
    ((tag, _, src),) = urls(out)
    assert tag == "img"
    assert src.startswith("https://ok.example/f.jpg")
    assert "'" not in src and " " not in src


@pytest.mark.parametrize(
    "lazy",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "&#x6a;avascript:alert(1)",
        "java&#9;script:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
    ],
)
def test_lazy_image_url_is_checked_after_it_moves_into_src(lazy: str) -> None:
    """issue #10 row 3: a ``data-src="javascript:…"`` lazy image reached ``src``."""
    out = clean(f'<p>t</p><img src="data:image/gif;base64,R0lGOD" data-src="{lazy}">')
    assert out == "<p>t</p>"  # an image without a usable source is removed


def test_safe_lazy_image_still_wins_over_the_placeholder() -> None:
    out = clean('<img src="data:image/gif;base64,R0" data-src="/i/1.jpg?w=1&amp;h=2">')
    assert out == '<img src="https://example.org/i/1.jpg?w=1&amp;h=2" referrerpolicy="no-referrer">'
    assert urls(out) == [("img", "src", "https://example.org/i/1.jpg?w=1&h=2")]


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "&#x6a;avascript:alert(1)", " JAVASCRIPT:x", "data:text/html,x"],
)
def test_script_hrefs_are_dropped(href: str) -> None:
    """issue #10 row 3 (body side): the link text stays, the href goes."""
    out = clean(f'<a href="{href}">x</a>')
    assert urls(out) == []
    assert ">x</a>" in out


def test_fragment_mailto_and_tel_hrefs_are_kept() -> None:
    out = clean(
        '<a href="#fn1">1</a><a href="MAILTO:a@b.example">m</a><a href="tel:+8610123">t</a>'
        '<a href="mailto:a@b.example?subject=&quot;x&quot;">q</a>'
    )
    assert [value for _, _, value in urls(out)] == ["#fn1", "mailto:a@b.example", "tel:+8610123"]


def test_iframe_host_is_the_host_a_browser_contacts() -> None:
    """issue #10 row 8: ``http://127.0.0.1:18765\\@player.bilibili.com/…`` is 127.0.0.1
    to a browser (``\\`` is ``/``), not bilibili as urlsplit reads it."""
    out = clean('<iframe src="http://127.0.0.1:18765\\@player.bilibili.com/player.html"></iframe>')
    assert out == "<iframe></iframe>"
    assert "127.0.0.1" not in out


def test_allowed_iframe_is_kept_and_normalised() -> None:
    out = clean('<iframe src="//player.bilibili.com/player.html?bvid=BV1&amp;p=1"></iframe>')
    assert urls(out) == [("iframe", "src", "https://player.bilibili.com/player.html?bvid=BV1&p=1")]


def test_relative_urls_resolve_against_the_public_base() -> None:
    """issue #10 row 5: the item's base is the RSSHub fetch URL with ``user:password@``
    and ``?key=``; relative URLs used to copy both into the published body."""
    out = clean(
        '<img src="/img/1.jpg"><a href="">self</a><a href="?p=2">p2</a>'
        '<video src="v.mp4" poster="p.jpg"></video><blockquote cite="q">c</blockquote>',
        SECRET_BASE,
    )
    for secret in ("password", "user:", "SECRETKEY"):
        assert secret not in out
    assert [value for _, _, value in urls(out)] == [
        "http://127.0.0.1:1200/img/1.jpg",  # href="" (the page itself): dropped
        "http://127.0.0.1:1200/guancha/headline?p=2",
        "http://127.0.0.1:1200/guancha/v.mp4",
        "http://127.0.0.1:1200/guancha/p.jpg",
        "http://127.0.0.1:1200/guancha/q",
    ]


def test_without_a_base_relative_references_stay_relative_and_others_go() -> None:
    """No base: a plain relative reference is left for the target to resolve; one a
    browser reads as another host (``\\\\evil``, ``/\\evil``) or scheme is dropped."""
    out = clean(
        '<img src="/a.jpg"><img src="\\\\evil.example/x.jpg"><img src="/\\evil.example/y.jpg">'
        '<img src="//cdn.example/z.jpg"><a href="b.html">b</a>',
        None,
    )
    assert urls(out) == [
        ("img", "src", "/a.jpg"),
        ("img", "src", "https://cdn.example/z.jpg"),
        ("a", "href", "b.html"),
    ]


def test_every_url_attribute_is_http_after_cleaning() -> None:
    """video/audio/source/poster/cite of other schemes are dropped too."""
    out = clean(
        '<video src="javascript:x" poster="data:image/png;base64,AA"></video>'
        '<audio src="vbscript:x"></audio><source src="file:///etc/passwd">'
        '<blockquote cite="javascript:x">c</blockquote><q cite="https://ok.example/q">q</q>'
    )
    assert urls(out) == [("q", "cite", "https://ok.example/q")]


def test_quote_decoded_into_a_host_cannot_end_the_attribute() -> None:
    """WHATWG hosts may hold ``"`` (``http://%22onerror=alert(1)//`` has the host
    ``"onerror=alert(1)``): the rebuilt URL keeps it percent-encoded."""
    out = clean('<img src="http://%22onerror=alert(1)//">')
    root = lxml.html.fragment_fromstring(out, create_parent="div")
    (img,) = root.iter("img")
    assert sorted(img.attrib) == ["referrerpolicy", "src"]
