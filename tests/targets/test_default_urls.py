"""The default profile checks every front-matter URL at render time (issue #10).

Items stored by older versions may hold anything, so ``headimg``/``thumbnail`` and
``source_url`` pass ``safe_url`` when the post is rendered, whatever the parse and
clean stages did when the item was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from feedsite._clean import first_img_src
from feedsite._run import run
from feedsite._targets.hexo import render_post
from feedsite._url import proxied, proxy_images
from feedsite.config import load_config
from feedsite.types import PostSource, RenderSettings
from tests.helpers.feedserver import FeedServer, Response

PLACEHOLDER = "https://p.example/{n}"
SETTINGS = RenderSettings("default", "UTC", None, PLACEHOLDER, "source_url")
ITEM_PLACEHOLDER = "https://p.example/256"  # item 00000000000000ff
ATTRIBUTE_BREAKERS = set("'\"<>` \t\n")


def post(**kw: object) -> PostSource:
    base: dict[str, object] = dict(
        item_id="00000000000000ff",
        category="c",
        site="s",
        feed="f",
        title="t",
        link="https://example.org/a",
        date=datetime(2022, 1, 7, tzinfo=UTC),
        first_seen=datetime(2022, 1, 7, tzinfo=UTC),
        body_clean="<p>x</p>",
        description_raw=None,
        images=(),
    )
    base.update(kw)
    return PostSource(**base)  # type: ignore[arg-type]


def front(p: PostSource, settings: RenderSettings = SETTINGS) -> dict[str, object]:
    text = render_post(p, settings).decode()
    loaded = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(loaded, dict)
    assert loaded["headimg"] == loaded["thumbnail"]
    return loaded


def test_quote_in_stored_body_image_never_reaches_the_cover() -> None:
    """issue #10 row 2: a body image ``src="https://ok.example/f.jpg' onerror='…'"``
    (as bodies stored by older versions hold it) became ``headimg``/``thumbnail``."""
    body = """<p><img src="https://ok.example/f.jpg' onerror='alert(1)'"></p>"""
    cover = front(post(body_clean=body))["headimg"]
    assert isinstance(cover, str)
    assert cover.startswith("https://ok.example/f.jpg")
    assert not ATTRIBUTE_BREAKERS & set(cover)


def test_quote_in_enclosure_never_reaches_the_cover() -> None:
    """issue #10 row 2: an enclosure URL with ``'``."""
    cover = front(post(images=("https://ok.example/e.jpg' onerror='alert(1)'",)))["headimg"]
    assert isinstance(cover, str)
    assert cover.startswith("https://ok.example/e.jpg")
    assert not ATTRIBUTE_BREAKERS & set(cover)


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x"]
)
def test_script_link_writes_no_source_url(link: str) -> None:
    """issue #10 row 3: an item link ``javascript:…`` went to Hexo ``source_url``."""
    assert "source_url" not in front(post(link=link))


def test_script_cover_candidates_give_the_placeholder() -> None:
    """issue #10 row 3: a ``javascript:`` enclosure (and body image) reached the cover."""
    data = front(
        post(body_clean='<img src="javascript:alert(1)">', images=("javascript:alert(2)",))
    )
    assert data["headimg"] == ITEM_PLACEHOLDER


def test_first_safe_candidate_wins() -> None:
    data = front(
        post(
            body_clean='<img src="data:image/png;base64,AA"><img src="vbscript:x">',
            images=("javascript:x", "https://ok.example/2.jpg"),
        )
    )
    assert data["headimg"] == "https://ok.example/2.jpg"


def test_cover_is_the_unescaped_url() -> None:
    """issue #10 row 17: a body image ``…?w=1&amp;h=2`` gave a cover with ``&amp;``."""
    body = '<p><img src="https://i.example/a.jpg?w=1&amp;h=2"></p>'
    assert front(post(body_clean=body))["headimg"] == "https://i.example/a.jpg?w=1&h=2"
    assert first_img_src(body) == "https://i.example/a.jpg?w=1&h=2"


def test_credentials_never_reach_the_front_matter() -> None:
    """issue #10 row 5: links and covers stored by older versions, resolved against
    ``http://user:password@host/route?key=…``."""
    data = front(
        post(
            link="http://user:password@127.0.0.1:1200/news/1",
            body_clean='<img src="http://user:password@127.0.0.1:1200/img/1.jpg">',
        )
    )
    assert data["source_url"] == "http://127.0.0.1:1200/news/1"
    assert data["headimg"] == "http://127.0.0.1:1200/img/1.jpg"


def test_image_proxy_keeps_the_cover_safe() -> None:
    settings = RenderSettings("default", "UTC", "https://proxy.example/?u=", PLACEHOLDER, "x")
    text = render_post(post(body_clean='<img src="http://i.example/a b.jpg">'), settings).decode()
    data = yaml.safe_load(text.split("---\n")[1])
    assert data["headimg"] == "https://proxy.example/?u=http://i.example/a%20b.jpg"
    assert '<img src="https://proxy.example/?u=http://i.example/a b.jpg">' in text


def test_image_proxy_is_attribute_escaped() -> None:
    assert proxy_images('<img src="http://a/b">', 'https://p/?a=1&b="') == (
        '<img src="https://p/?a=1&amp;b=&quot;http://a/b">'
    )


def test_image_proxy_rule_is_one_rule() -> None:
    """``_url.proxied``/``proxy_images`` (issue #11 item 7): only ``http://`` images go
    through the proxy; the result is a safe URL; no proxy changes nothing."""
    proxy = "https://proxy.example/?u="
    assert proxied("http://i.example/a b.jpg", proxy) == (
        "https://proxy.example/?u=http://i.example/a%20b.jpg"
    )
    assert proxied("https://i.example/a.jpg", proxy) == "https://i.example/a.jpg"
    assert proxied("http://i.example/a.jpg", None) == "http://i.example/a.jpg"
    assert proxied(None, proxy) is None
    assert proxied("http://i.example/a.jpg", "javascript:") is None
    body = '<img src="http://a/b"><img src="https://c/d">'
    assert proxy_images(body, None) == body
    assert proxy_images(body, proxy) == (
        '<img src="https://proxy.example/?u=http://a/b"><img src="https://c/d">'
    )


RELATIVE_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title><description>no channel link</description>
<item><title>a</title><guid isPermaLink="false">1</guid>
<enclosure url="/img/cover.jpg" type="image/jpeg" length="1"/>
<description><![CDATA[<p><img src="/img/1.jpg"><a href="/news/1">more</a></p>]]></description>
</item>
<item><title>b</title><guid isPermaLink="false">2</guid><link>/news/2</link>
<description><![CDATA[<p><img src="2.jpg?w=1&amp;h=2"> <a href="#c">c</a></p>]]></description>
</item>
<item><title>c</title><guid isPermaLink="false">3</guid><link>#c3</link>
<description>text</description></item>
</channel></rss>"""


def test_run_publishes_no_instance_credentials_or_key(
    feed_server: FeedServer, project: Callable[[str], Path], tmp_path: Path
) -> None:
    """issue #10 row 5, end to end: an RSSHub instance ``http://user:password@…`` with
    ``rsshub.access_key``, a feed whose items have relative URLs and no absolute item
    link: no written post holds the user, the password or the key."""
    feed_server.route("/guancha/headline", Response.rss(RELATIVE_FEED))
    instance = feed_server.url("/").rstrip("/").replace("http://", "http://user:password@")
    config = load_config(
        project(
            "site: {hexo_root: ./blog, timezone: UTC}\n"
            f"rsshub: {{instances: [{instance}], access_key: SECRETKEY}}\n"
            "feeds:\n  a:\n    b:\n      c: /guancha/headline\n"
        )
    )
    result = run(config)
    assert result.counts().posts_new == 3
    assert feed_server.requests_for("/guancha/headline")[0].query == "key=SECRETKEY"
    posts = sorted((tmp_path / "blog/source/_posts").rglob("*.md"))
    assert len(posts) == 3
    texts = [p.read_text(encoding="utf-8") for p in posts]
    for text in texts:
        for secret in ("password", "user:", "SECRETKEY"):
            assert secret not in text
    joined = "\n".join(texts)
    host = feed_server.url("/").rstrip("/")
    assert f'headimg: "{host}/img/1.jpg"' in joined
    assert f'src="{host}/img/1.jpg"' in joined
    assert f'source_url: "{host}/news/2"' in joined
    assert f'source_url: "{host}/guancha/headline#c3"' in joined
