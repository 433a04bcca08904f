"""Image downloads (``_fetch.fetch_images``) against the loopback image host.

Every test goes through the real ``ImageHost`` (``tests/helpers/imagehost.py``)
as the proxy of ``FetchConfig``, so ``http://wx1.sinaimg.cn/...`` reaches a
loopback server that behaves like the real host.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from feedsite._fetch import (
    ImageFetchResult,
    ImageGot,
    ImageMissed,
    ImageRequest,
    fetch_images_sync,
    is_private_source,
    referers_for,
)
from feedsite._fetch._address import address_refusal, literal_address, url_refusal
from feedsite.config import FetchConfig
from tests.fetch.support import pinned_jitter
from tests.helpers.feedserver import MB
from tests.helpers.imagehost import PLACEHOLDER_PNG, ImageHost, bomb_png, image_for

WEIBO = "https://weibo.com/"
ARTICLE = "https://news.example.org/2024/06/01/story.html"
PLACEHOLDER = hashlib.sha256(PLACEHOLDER_PNG).hexdigest()


def sniff(data: bytes) -> str | None:
    """The tests' ``check``: magic bytes of PNG, JPEG, GIF or WebP, else a reason."""
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return None
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "not an image (HTML page)"
    if b"<svg" in head:
        return "not an image (SVG)"
    return "not an image (unknown type)"


@pytest.fixture
def server() -> Iterator[ImageHost]:
    with ImageHost() as running:
        yield running


def settings(server: ImageHost, **overrides: Any) -> FetchConfig:
    values: dict[str, Any] = {
        "proxy": server.proxy_url,
        "timeout": 2.0,
        "retries": 1,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "max_body": 10 * MB,
    }
    values.update(overrides)
    return FetchConfig(**values)


def fetch(
    server: ImageHost,
    requests: Sequence[ImageRequest],
    *,
    known: frozenset[str] = frozenset(),
    deadline: float | None = None,
    **overrides: Any,
) -> ImageFetchResult:
    return fetch_images_sync(
        requests,
        settings(server, **overrides),
        check=sniff,
        known_placeholders=known,
        deadline=deadline,
        jitter=pinned_jitter,
    )


def got(result: ImageFetchResult, url: str) -> ImageGot:
    outcome = result.outcomes[url]
    assert isinstance(outcome, ImageGot), outcome
    assert outcome.digest == hashlib.sha256(outcome.data).hexdigest()
    return outcome


def missed(result: ImageFetchResult, url: str) -> ImageMissed:
    outcome = result.outcomes[url]
    assert isinstance(outcome, ImageMissed), outcome
    return outcome


# -- Referers --------------------------------------------------------------------


def test_sinaimg_needs_the_weibo_referer(server: ImageHost) -> None:
    sina = server.host("wx1.sinaimg.cn")
    builtin = sina.url("/large/a.jpg")
    fails_over = sina.url("/large/b.jpg")
    bare = sina.url("/large/c.jpg")

    result = fetch(
        server,
        [
            ImageRequest(builtin, referers_for(builtin, ARTICLE)),
            ImageRequest(fails_over, (ARTICLE, None, WEIBO)),
            ImageRequest(bare, (None,)),
        ],
    )

    first = got(result, builtin)
    assert (first.data, first.referer) == (image_for(builtin), WEIBO)
    assert server.referers(builtin) == [WEIBO]
    second = got(result, fails_over)
    assert (second.data, second.referer) == (image_for(fails_over), WEIBO)
    assert server.referers(fails_over) == [ARTICLE, None, WEIBO]
    refused = missed(result, bare)
    assert refused.reason == "HTTP 403 (no Referer)"
    assert not refused.permanent
    assert result.placeholders == {}


def test_wechat_gets_no_referer_and_the_real_image(server: ImageHost) -> None:
    wechat = server.host("mmbiz.qpic.cn")
    url = wechat.url("/mmbiz_jpg/abc/0?wx_fmt=jpeg")  # no extension

    result = fetch(server, [ImageRequest(url, referers_for(url, ARTICLE))])

    image = got(result, url)
    assert image.referer is None
    assert image.data == image_for(url)
    assert image.data.startswith(b"\xff\xd8\xff")  # wx_fmt=jpeg
    assert server.requests == [("mmbiz.qpic.cn", "/mmbiz_jpg/abc/0", None)]


def test_a_lone_placeholder_passes_unless_known(server: ImageHost) -> None:
    wechat = server.host("mmbiz.qpic.cn")
    url = wechat.url("/mmbiz_png/one/0?wx_fmt=png")

    unknown = fetch(server, [ImageRequest(url, (ARTICLE,))])
    known = fetch(server, [ImageRequest(url, (ARTICLE, None))], known=frozenset({PLACEHOLDER}))

    # One URL alone cannot show a placeholder: it takes several of one host.
    assert got(unknown, url).data == PLACEHOLDER_PNG
    real = got(known, url)
    assert (real.data, real.referer) == (image_for(url), None)
    only_foreign = fetch(server, [ImageRequest(url, (ARTICLE,))], known=frozenset({PLACEHOLDER}))
    refused = missed(only_foreign, url)
    assert refused.reason == (
        f"hotlink placeholder (a known one, sha256 {PLACEHOLDER[:16]}) (Referer {ARTICLE})"
    )
    assert not refused.permanent


def test_zaobao_takes_only_the_article_url(server: ImageHost) -> None:
    zaobao = server.host("static.zaobao.com")
    mine = zaobao.expect_article(zaobao.url("/s3fs-public/a.jpg"), ARTICLE)
    other = zaobao.expect_article(zaobao.url("/s3fs-public/b.jpg"), ARTICLE + "?other")

    result = fetch(
        server,
        [
            ImageRequest(mine, referers_for(mine, ARTICLE)),
            ImageRequest(other, referers_for(other, ARTICLE)),
        ],
    )

    image = got(result, mine)
    assert (image.data, image.referer) == (image_for(mine), ARTICLE)
    refused = missed(result, other)
    assert refused.reason == f"HTTP 403 (Referer {ARTICLE}, no Referer)"
    assert server.referers(other) == [ARTICLE, None]


# -- placeholders ------------------------------------------------------------------


def test_placeholder_detected_across_urls_then_real_images(server: ImageHost) -> None:
    hotlink = server.host("hotlink.test")
    urls = [hotlink.url(f"/img/{n}.png") for n in range(4)]
    requests = [ImageRequest(u, referers_for(u, f"{ARTICLE}?p={n}")) for n, u in enumerate(urls)]

    result = fetch(server, requests)

    assert result.placeholders == {"hotlink.test": frozenset({PLACEHOLDER})}
    for n, url in enumerate(urls):
        image = got(result, url)
        assert (image.data, image.referer) == (image_for(url), None)
        assert server.referers(url) == [f"{ARTICLE}?p={n}", None]


def test_placeholder_with_no_other_referer_is_missed(server: ImageHost) -> None:
    hotlink = server.host("hotlink.test")
    urls = [hotlink.url(f"/only/{n}.png") for n in range(3)]

    result = fetch(server, [ImageRequest(u, (ARTICLE,)) for u in urls])

    for url in urls:
        outcome = missed(result, url)
        assert outcome.reason == (
            f"suspected hotlink placeholder (same {len(PLACEHOLDER_PNG):,}-byte image "
            "for 3 URLs of hotlink.test); no other Referer to check it with"
        )
        assert not outcome.permanent
    assert result.placeholders == {}


def test_a_real_shared_image_is_kept(server: ImageHost) -> None:
    cdn = server.host("cdn.test")
    shared = image_for("http://cdn.test/logo.png")
    urls = [cdn.route(f"/logo-{n}.png", _fixed(shared)) for n in range(3)]

    result = fetch(server, [ImageRequest(u, (ARTICLE, None)) for u in urls])

    assert result.placeholders == {}
    for url in urls:
        assert got(result, url).data == shared
        assert got(result, url).referer == ARTICLE
        assert server.referers(url) == [ARTICLE, None]  # checked again: the same bytes


def test_a_shared_image_without_referer_beats_a_foreign_referer_placeholder(
    server: ImageHost,
) -> None:
    wechat = server.host("mmbiz.qpic.cn")
    shared = image_for("http://mmbiz.qpic.cn/banner.png")
    urls = [wechat.route(f"/mmbiz_png/banner{n}/0", _fixed(shared)) for n in range(3)]

    result = fetch(server, [ImageRequest(u, referers_for(u, ARTICLE)) for u in urls])

    # The recheck with the article's Referer gives one placeholder for all: both
    # answers are shared, and the one fetched without a Referer wins.
    assert result.placeholders == {}
    for url in urls:
        assert (got(result, url).data, got(result, url).referer) == (shared, None)
        assert server.referers(url) == [None, ARTICLE]


def _fixed(body: bytes) -> Any:
    from tests.helpers.feedserver import Response

    return Response(200, body, content_type="image/png")


# -- bodies --------------------------------------------------------------------------


def test_content_type_does_not_matter(server: ImageHost) -> None:
    img = server.host("img.test")
    png_as_html = img.lie("/a.png", "text/html; charset=utf-8")
    jpeg_as_png = img.lie("/b.jpg", "image/png")
    gif = img.url("/c.gif")

    result = fetch(server, [ImageRequest(u, (None,)) for u in (png_as_html, jpeg_as_png, gif)])

    assert got(result, png_as_html).data.startswith(b"\x89PNG")
    assert got(result, jpeg_as_png).data.startswith(b"\xff\xd8\xff")
    assert got(result, gif).data.startswith(b"GIF8")


def test_html_and_svg_are_refused_with_the_checks_reason(server: ImageHost) -> None:
    img = server.host("img.test")
    page = img.html("/photo.jpg", content_type="image/jpeg")
    svg = img.svg("/icon.svg")

    result = fetch(server, [ImageRequest(page, (ARTICLE, None)), ImageRequest(svg, (None,))])

    refused = missed(result, page)
    assert refused.reason == f"not an image (HTML page) (Referer {ARTICLE}, no Referer)"
    assert refused.permanent
    assert missed(result, svg).reason == "not an image (SVG) (no Referer)"


def test_a_png_bomb_is_small_on_the_wire(server: ImageHost) -> None:
    # The body cap does not see it (400 KB): bounding pixels is the decoder's job.
    url = server.host("img.test").bomb("/bomb.png")

    result = fetch(server, [ImageRequest(url, (None,))])

    assert got(result, url).data == bomb_png()


@pytest.mark.parametrize("content_length", [True, False])
def test_50_mb_is_refused_by_the_cap(server: ImageHost, content_length: bool) -> None:
    url = server.host("img.test").big("/huge.png", 50 * MB, content_length=content_length)
    started = time.monotonic()

    result = fetch(server, [ImageRequest(url, (None,))])

    elapsed = time.monotonic() - started
    refused = missed(result, url)
    assert refused.reason.startswith(f"body larger than {10 * MB} bytes")
    assert refused.permanent
    assert elapsed < 2
    if content_length:
        assert "Content-Length: 52428800" in refused.reason
        assert server.sent(url) < 12 * MB  # refused before reading: only socket buffers
    else:
        assert server.sent(url) < 30 * MB


def test_a_trickle_times_out_once(server: ImageHost) -> None:
    url = server.host("img.test").trickle("/slow.png", interval=0.2)

    result = fetch(server, [ImageRequest(url, (ARTICLE, None))], timeout=1.0, retries=0)

    refused = missed(result, url)
    assert refused.reason.startswith("timed out after 1.0 s reading the body")
    assert not refused.permanent
    assert len(server.requests_for(url)) == 1  # the same server: no failover to "no Referer"


def test_404_then_200_on_the_next_call(server: ImageHost) -> None:
    url = server.host("img.test").fail_first("/late.png", 2)
    request = ImageRequest(url, (ARTICLE, None))

    first = fetch(server, [request])
    second = fetch(server, [request])

    refused = missed(first, url)
    assert refused.reason == f"HTTP 404 (Referer {ARTICLE}, no Referer)"
    assert not refused.permanent
    image = got(second, url)
    assert (image.data, image.referer) == (image_for(url), ARTICLE)


def test_503_retry_after_is_reported(server: ImageHost) -> None:
    url = server.host("img.test").unavailable("/busy.png", "120")
    before = datetime.now(UTC)

    result = fetch(server, [ImageRequest(url, (ARTICLE, None))])

    deferred = missed(result, url)
    assert deferred.retry_after is not None
    assert before + timedelta(seconds=119) <= deferred.retry_after
    assert deferred.retry_after <= before + timedelta(seconds=122)
    assert not deferred.permanent and not deferred.skipped
    assert "Retry-After 120 s" in deferred.reason
    assert len(server.requests_for(url)) == 1


# -- addresses -------------------------------------------------------------------------


def test_a_loopback_url_is_refused_unless_the_feed_is_private(server: ImageHost) -> None:
    url = server.host("127.0.0.1").url("/x.png")

    refused = fetch(server, [ImageRequest(url, (None,), proxy="")])
    via_proxy = fetch(server, [ImageRequest(url, (None,))])
    allowed = fetch(server, [ImageRequest(url, (None,), allow_private=True, proxy="")])

    assert missed(refused, url).reason == "loopback address 127.0.0.1 refused"
    assert missed(refused, url).permanent
    assert missed(via_proxy, url).reason == "loopback address 127.0.0.1 refused"
    assert got(allowed, url).data == image_for(url)
    assert len(server.requests) == 1  # only the allowed one was sent


def test_a_redirect_to_a_private_address_is_refused(server: ImageHost) -> None:
    url = server.host("img.test").redirect("/r.png", "http://10.0.0.1/x.png")

    result = fetch(server, [ImageRequest(url, (None,))])

    refused = missed(result, url)
    assert refused.reason == (
        "private address 10.0.0.1 refused (redirected to http://10.0.0.1/x.png) (no Referer)"
    )
    assert refused.permanent
    assert [host for host, _path, _ref in server.requests] == ["img.test"]


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback address 127.0.0.1 refused"),
        ("127.1", "loopback address 127.0.0.1 refused"),
        ("0x7f.0.0.1", "loopback address 127.0.0.1 refused"),
        ("2130706433", "loopback address 127.0.0.1 refused"),
        ("[::1]", "loopback address ::1 refused"),
        ("::ffff:10.0.0.1", "private address ::ffff:10.0.0.1 refused"),
        ("0.0.0.0", "unspecified address 0.0.0.0 refused"),
        ("169.254.169.254", "link-local address 169.254.169.254 refused"),
        ("224.0.0.1", "multicast address 224.0.0.1 refused"),
        ("192.168.1.1", "private address 192.168.1.1 refused"),
        ("100.64.0.1", "non-public address 100.64.0.1 refused"),
        ("localhost", "local name localhost refused"),
        ("app.localhost.", "local name app.localhost refused"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("img.example.org", None),
        ("1.cafe", None),
    ],
)
def test_address_refusal(host: str, reason: str | None) -> None:
    assert address_refusal(host) == reason


def test_literal_forms() -> None:
    assert str(literal_address("0177.0.0.1")) == "127.0.0.1"
    assert literal_address("example.com") is None
    assert str(literal_address("[fe80::1%eth0]")) == "fe80::1"


def test_names_are_resolved_only_without_a_proxy() -> None:
    import asyncio

    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    cache: dict[str, str | None] = {}
    resolved = asyncio.run(url_refusal(f"http://{name}/a.png", resolve=True, cache=cache))
    unresolved = asyncio.run(url_refusal(f"http://{name}/a.png", resolve=False))

    assert unresolved is None
    if any(address_refusal(str(a)) for a in addresses):
        assert resolved is not None and resolved.startswith(f"{name.lower()} resolves to ")
        assert cache == {name.lower(): resolved}
    else:
        assert resolved is None


@pytest.mark.parametrize(
    ("url", "private"),
    [
        ("http://127.0.0.1:1200/weibo/user/1", True),
        ("http://10.1.2.3/feed.xml", True),
        ("http://[::1]:8080/rss", True),
        ("http://localhost:1200/rss", True),
        ("http://rsshub:1200/rss", True),  # a Docker service name
        ("https://nas.lan/feed", True),
        ("https://rss.home.arpa/feed", True),
        ("https://93.184.216.34/feed", False),
        ("file:///tmp/feed.xml", False),
        ("not a url", False),
    ],
)
def test_is_private_source(url: str, private: bool) -> None:
    assert is_private_source(url, resolve=False) is private


# -- the call as a whole ------------------------------------------------------------------


def test_deadline_in_the_past_skips_everything(server: ImageHost) -> None:
    img = server.host("img.test")
    urls = [img.url(f"/{n}.png") for n in range(3)]

    result = fetch(server, [ImageRequest(u, (None,)) for u in urls], deadline=0.0)

    for url in urls:
        outcome = missed(result, url)
        assert outcome.skipped and not outcome.permanent
        assert outcome.reason == "run deadline passed before the fetch started"
    assert server.requests == []


def test_bad_urls_and_duplicates(server: ImageHost) -> None:
    img = server.host("img.test")
    url = img.url("/a.png")
    requests = [
        ImageRequest(url, ("https://ünïcode.example/", WEIBO, WEIBO)),
        ImageRequest(url, (None,)),
        ImageRequest("ftp://img.test/a.png", (None,)),
        ImageRequest("http:///nohost.png", (None,)),
    ]

    result = fetch(server, requests)

    assert list(result.outcomes) == [url, "ftp://img.test/a.png", "http:///nohost.png"]
    assert got(result, url).referer == WEIBO  # the non-ASCII one cannot be a header
    assert server.referers(url) == [WEIBO]
    assert missed(result, "ftp://img.test/a.png").reason == "not an http(s) URL (ftp)"
    assert missed(result, "http:///nohost.png").permanent
