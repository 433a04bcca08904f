"""The native site publishes only safe URLs and none of the owner's secrets (issue #10).

Items stored by older runs may hold anything, so the state is filled by a real run and
then given the hostile values of the issue directly (as an older feedsite stored them);
the build must make them safe at render time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree, html

from feedsite._run import run
from feedsite._run._build import build_native
from feedsite._targets.site import feed_refs
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.state import set_clean_body

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "https://news.example.org/site"
JS_LINK = "javascript:alert(document.domain)"
QUOTE_COVER = "https://ok.example/f.jpg' onerror='alert(1)'"
SECRET_LINK = "http://CANARYUSER:CANARYPASS@127.0.0.1:9/test/route?key=CANARYKEY1"
HUGE_TITLE = "<script>alert(1)</script>" + "标" * 6_000_000  # 18 MB of UTF-8

CONFIG = f"""\
site: {{hexo_root: ./blog, timezone: UTC}}
rsshub:
  instances: ["http://CANARYUSER:CANARYPASS@127.0.0.1:9"]
  access_key: CANARYKEY1
native: {{base_url: "{BASE}"}}
fetch: {{timeout: 2, retries: 0}}
feeds:
  新闻:
    本地:
      文件: {{path: CANARYDIR/feed.xml}}
      令牌: {{url: "http://CANARYU2:CANARYP2@127.0.0.1:9/feed.xml?token=CANARYTOKEN&lang=zh"}}
      路由: /test/route
"""


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("urls")
    (root / "CANARYDIR").mkdir()
    entries = [
        Entry(f"i{n}", f"Item {n}", T0.replace(day=10 + n), link=f"https://example.org/{n}")
        for n in range(4)
    ]
    (root / "CANARYDIR" / "feed.xml").write_bytes(rss(entries))
    config_path = root / "feedsite.yaml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config = load_config(config_path)
    run(config, now=T0, seed=1)
    # What an older feedsite stored (issue #10 rows 2, 3, 5, 13).
    hostile = {
        "i0": {"link": JS_LINK, "images": json.dumps(["javascript:alert(2)"])},
        "i1": {"link": "https://example.org/1", "images": json.dumps([QUOTE_COVER])},
        "i2": {"link": SECRET_LINK},
        "i3": {"title": HUGE_TITLE},
    }
    with sqlite3.connect(config.state_path) as db:
        db.execute("DELETE FROM site_cards")
        for guid, values in hostile.items():
            sets = ", ".join(f"{k} = ?" for k in values)
            done = db.execute(f"UPDATE items SET {sets} WHERE guid = ?", (*values.values(), guid))
            assert done.rowcount == 1, guid
        set_clean_body(
            db,
            "i2",
            '<p><a href="/rel?a=1">rel</a> <a href="javascript:alert(3)">x</a>'
            f' <img src="{SECRET_LINK}&amp;w=1"></p>',
        )
    db.close()
    site = root / "public"
    build_native(config, site)
    return site


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def post_page(out: Path, *, title: str) -> str:
    for page in (out / "posts").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        if f'class="post-title">{title}' in text:
            return text
    raise AssertionError(f"no post page titled {title!r}")


def test_javascript_link_is_not_linked(out: Path) -> None:
    """issue #10 row 3: an item link `javascript:…` was linked as "原文 Original" on the post
    page and went to Atom `rel="related"`; a `javascript:` enclosure reached the cover."""
    page = post_page(out, title="Item 0")
    assert "原文 Original" not in page
    for path, data in files(out).items():
        assert b"javascript:" not in data.lower(), path
    atom = etree.fromstring((out / "atom.xml").read_bytes())
    related = [
        e.get("href")
        for e in atom.iter("{http://www.w3.org/2005/Atom}link")
        if e.get("rel") == "related"
    ]
    assert related and all(h.startswith("https://example.org/") for h in related)


def test_every_published_url_is_http_or_relative(out: Path) -> None:
    """issue #10 rows 2 and 3: every href/src of every page is this site's or http(s), and
    no attribute was broken out of (a cover `…f.jpg' onerror='…'` added `onerror`)."""
    for path, data in files(out).items():
        if not path.endswith(".html"):
            continue
        doc = html.fromstring(data)
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            assert not [a for a in el.attrib if a.startswith("on")], (path, el.attrib)
            for attr in ("href", "src", "poster"):
                value = el.get(attr)
                if value is None:
                    continue
                assert (
                    value.startswith(("http://", "https://", "#")) or ":" not in value.split("/")[0]
                ), (path, attr, value)
    page = post_page(out, title="Item 1")
    assert "https://ok.example/f.jpg%27%20onerror=%27alert(1)%27" in page  # quoted, inert


def test_owner_secrets_are_never_published(out: Path) -> None:
    """issue #10 rows 5 and 12: links resolved against the fetch URL carried
    `user:password@…?key=`; OPML and feed pages published `?token=` and `file:///` paths."""
    for path, data in files(out).items():
        assert b"canary" not in data.lower(), path
        assert b"file:" not in data, path
    page = post_page(out, title="Item 2")
    assert "原文 Original" not in page  # the link held the access key
    assert 'href="http://127.0.0.1:9/rel?a=1"' in page or 'href="#"' in page


def test_opml_names_public_urls_only(out: Path) -> None:
    """issue #10 row 12: `?token=` of a plain URL feed and `file:///…` of a `path:` feed were
    published; a `path:` feed is now offered as the site's own Atom feed of it."""
    body = etree.fromstring((out / "opml.xml").read_bytes()).find("body")
    urls = {f.get("text"): f.get("xmlUrl") for c in body for s in c for f in s}
    assert urls["令牌"] == "http://127.0.0.1:9/feed.xml?lang=zh"
    assert urls["路由"] == "http://127.0.0.1:9/test/route"
    assert urls["文件"].startswith(BASE + "/c/") and urls["文件"].endswith("/atom.xml")


def test_feed_refs_of_a_path_feed_have_no_url(tmp_path: Path) -> None:
    """issue #10 row 12: the feed page shows no source line for a `path:` feed."""
    (tmp_path / "f.xml").write_bytes(rss([]))
    (tmp_path / "feedsite.yaml").write_text(
        "feeds: {a: {b: {c: {path: f.xml}, d: {url: 'https://u:p@h.example/x?key=k1&token=t'}}}}"
    )
    refs = feed_refs(load_config(tmp_path / "feedsite.yaml"))
    assert [r.xml_url for r in refs] == ["", "https://h.example/x"]


def test_huge_title_is_capped_on_every_page(out: Path) -> None:
    """issue #10 row 13: an 18 MB title made 115 MB of site output (every listing page and
    Atom feed ~10 MB)."""
    sizes = {path: len(data) for path, data in files(out).items()}
    assert sum(sizes.values()) < 2_000_000, sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    assert max(sizes.values()) < 200_000
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" + "标" * 50 in home  # escaped, then cut
    assert "标…" in home
    assert "<script>alert(1)" not in home


def test_a_post_keeps_its_address_when_the_item_leaves_the_first_feed(tmp_path: Path) -> None:
    # One story copied by two feeds (same guid): the first feed's page is posts/<id>.html,
    # the second's posts/<id>-<hash>.html. When the first feed lets it go, the second's
    # page keeps its address (links and Atom entries to it must not break).
    shared = Entry("shared", "Shared story", T0, link="https://example.org/shared")
    own = Entry("own", "Only in B", T0.replace(day=10), link="https://example.org/own")
    (tmp_path / "a.xml").write_bytes(rss([shared]))
    (tmp_path / "b.xml").write_bytes(rss([shared, own]))
    tree = "feeds:\n  新闻:\n    站:\n{}"
    head = "site: {hexo_root: ./blog, timezone: UTC}\nnative: {out: ./_site}\n"
    both = "      甲: {path: a.xml}\n      乙: {path: b.xml}\n"
    config_path = tmp_path / "feedsite.yaml"
    config_path.write_text(head + tree.format(both), encoding="utf-8")
    run(load_config(config_path), now=T0, seed=1)
    build_native(load_config(config_path))
    pages = {p.name for p in (tmp_path / "_site" / "posts").glob("*.html")}
    second = next(n for n in pages if "-" in n)  # the second feed's copy
    assert len(pages) == 3 and second.split("-")[0] + ".html" in pages

    config_path.write_text(head + tree.format("      乙: {path: b.xml}\n"), encoding="utf-8")
    run(load_config(config_path), now=T0, seed=1)
    build_native(load_config(config_path))

    after = {p.name for p in (tmp_path / "_site" / "posts").glob("*.html")}
    assert second in after  # the same address as before
    assert after == pages - {second.split("-")[0] + ".html"}  # the first feed's page went
