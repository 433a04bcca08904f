"""Full text through whole runs (issue #13 acceptance), against a loopback HTTP server: a
summary-only feed becomes full-text posts; a GBK article page decodes right; a 404 article
keeps the summary and is tried again after its backoff; a second run fetches no page again;
``fulltext: <selector>`` takes that element; a change of the setting fetches again.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._run import run
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

PARAGRAPHS = [
    "新一代国产芯片在上海发布，采用先进工艺制程，性能较上一代提升百分之四十，功耗下降三成。",
    "研发团队表示，这款芯片历时三年研发，攻克了多项关键技术难题，已获得数十项发明专利授权。",
    "业内专家认为，该芯片的发布标志着国内在高端处理器领域取得重要突破，有望带动产业链发展。",
    "据悉，首批搭载该芯片的终端产品将于明年上半年上市，覆盖笔记本电脑、服务器和边缘计算设备。",
]


def article_page(n: int, *, charset: str = "utf-8") -> bytes:
    """A news page: navigation, the article (with a lazy image), related links, comments."""
    body = "".join(f"<p>{p}（第{n}篇）</p>" for p in PARAGRAPHS)
    html = f"""<!doctype html><html><head><meta charset="{charset}">
<title>第{n}篇 - 新闻网</title></head><body>
<header><nav><a href="/">首页</a> <a href="/tech">科技</a> <a href="/finance">财经</a>
<a href="/sports">体育</a> <a href="/ent">娱乐</a></nav></header>
<main><article class="post"><h1>第{n}篇</h1>
<div class="content">{body}
<p><img data-src="/img/{n}.jpg?x=1" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></p>
</div></article>
<aside><h3>相关文章</h3><ul><li><a href="/a/1">另一条新闻</a></li>
<li><a href="/a/2">又一条新闻</a></li></ul></aside>
<section class="comments"><p>好文章</p><p>支持</p><p>顶</p></section></main>
<footer>版权所有 新闻网</footer></body></html>"""
    return html.encode(charset)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def project(
    tmp_path: Path, server: FeedServer, fulltext: str, count: int = 3, profile: str = "default"
) -> Path:
    entries = [
        Entry(
            f"g{n}",
            f"第{n}篇",
            NOW - timedelta(hours=n),
            body=f"<p>摘要{n}</p>",
            link=server.url(f"/news/{n}.html"),
        )
        for n in range(count)
    ]
    server.route("/feed.xml", Response.rss(rss(entries)))
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        f"site: {{hexo_root: ./blog, timezone: Asia/Shanghai, profile: {profile}}}\n"
        "images: {mode: hotlink}\n"
        "fetch: {retries: 0, timeout: 3}\n"
        "feeds:\n  新闻:\n    示例:\n"
        f"      头条: {{url: {server.url('/feed.xml')}, fulltext: {fulltext!r}}}\n",
        encoding="utf-8",
    )
    return config


def posts(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "blog/source/_posts/新闻/示例/头条"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def post_of(tmp_path: Path, n: int) -> str:
    (text,) = [t for t in posts(tmp_path).values() if f"/news/{n}.html" in t]
    return text


def test_a_summary_only_feed_becomes_full_text(tmp_path: Path, server: FeedServer) -> None:
    for n in range(3):
        server.route(f"/news/{n}.html", Response.html(article_page(n)))
    config = load_config(project(tmp_path, server, "auto"))
    result = run(config, now=NOW, seed=1)
    assert result.counts().posts_new == 3
    assert result.fulltext.fetched == 3
    for n in range(3):
        text = post_of(tmp_path, n)
        body = text.split("---", 2)[2]
        assert all(p[:20] in body for p in PARAGRAPHS), n
        assert f"摘要{n}" not in body
        assert "相关文章" not in body and "版权所有" not in body and "好文章" not in body
        assert server.url(f"/img/{n}.jpg?x=1").replace("&", "&amp;") in body  # lazy, resolved
    # A second run fetches no article page again.
    before = {n: server.hits(f"/news/{n}.html") for n in range(3)}
    again = run(config, now=NOW + timedelta(hours=1), seed=1)
    assert {n: server.hits(f"/news/{n}.html") for n in range(3)} == before
    assert again.counts().posts_updated == 0 and again.fulltext.fetched == 0


def test_the_legacy_profile_writes_the_article_in_its_format(
    tmp_path: Path, server: FeedServer
) -> None:
    for n in range(3):
        server.route(f"/news/{n}.html", Response.html(article_page(n)))
    config = load_config(project(tmp_path, server, "auto", profile="legacy"))
    run(config, now=NOW, seed=1)
    text = next(iter(posts(tmp_path).values()))
    assert text.startswith("\n---\ntitle: '") and "comments: false" in text  # legacy format
    body = text.split("---", 2)[2]
    assert PARAGRAPHS[0][:20] in body and "摘要" not in body


def test_a_gbk_page_decodes_right(tmp_path: Path, server: FeedServer) -> None:
    for n in range(3):
        page = article_page(n, charset="gbk")
        # No charset in the header: the page's <meta charset> says it.
        server.route(f"/news/{n}.html", Response(200, page, content_type="text/html"))
    config = load_config(project(tmp_path, server, "auto"))
    run(config, now=NOW, seed=1)
    body = post_of(tmp_path, 1).split("---", 2)[2]
    assert PARAGRAPHS[0][:30] in body


def test_a_404_keeps_the_summary_and_is_tried_again_later(
    tmp_path: Path, server: FeedServer
) -> None:
    server.route("/news/0.html", Response.html(article_page(0)))
    server.route("/news/1.html", Response(404, b"not found", content_type="text/html"))
    server.route("/news/2.html", Response.html(article_page(2)))
    config = load_config(project(tmp_path, server, "auto"))
    first = run(config, now=NOW, seed=1)
    assert sum(first.fulltext.failed.values()) == 1
    assert "摘要1" in post_of(tmp_path, 1)
    # Within the backoff: not asked again.
    run(config, now=NOW + timedelta(minutes=10), seed=1)
    assert server.hits("/news/1.html") == 1
    # After it, asked again; the page is there now: the post becomes full text.
    server.route("/news/1.html", Response.html(article_page(1)))
    later = run(config, now=NOW + timedelta(hours=1), seed=1)
    assert server.hits("/news/1.html") == 2
    assert later.counts().posts_updated == 1
    body = post_of(tmp_path, 1).split("---", 2)[2]
    assert "摘要1" not in body and PARAGRAPHS[1][:20] in body
    with closing(sqlite3.connect(tmp_path / ".feedsite/state.sqlite")) as db:
        states = dict(db.execute("SELECT url, state FROM articles"))
    assert set(states.values()) == {"ok"}


def test_a_selector_takes_that_element_and_a_new_setting_fetches_again(
    tmp_path: Path, server: FeedServer
) -> None:
    for n in range(2):
        server.route(f"/news/{n}.html", Response.html(article_page(n)))
    path = project(tmp_path, server, "aside", count=2)
    config = load_config(path)
    run(config, now=NOW, seed=1)
    # The selector's element is taken, whatever it is (here the related links: longer
    # than the feed's three-character summary, so used).
    assert "另一条新闻" in post_of(tmp_path, 0)
    path.write_text(path.read_text(encoding="utf-8").replace("'aside'", "'div.content'"))
    result = run(load_config(path), now=NOW + timedelta(minutes=5), seed=1)
    assert server.hits("/news/0.html") == 2
    assert result.counts().posts_updated == 2
    body = post_of(tmp_path, 0).split("---", 2)[2]
    assert PARAGRAPHS[2][:20] in body and "另一条新闻" not in body


def test_an_extracted_text_much_shorter_than_the_feed_is_not_used(
    tmp_path: Path, server: FeedServer
) -> None:
    long_body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS * 3)
    entries = [Entry("g0", "长文", NOW, body=long_body, link=server.url("/news/0.html"))]
    server.route("/feed.xml", Response.rss(rss(entries)))
    server.route("/news/0.html", Response.html(article_page(0)))
    path = project(tmp_path, server, "div.content p:first-child", count=0)
    server.route("/feed.xml", Response.rss(rss(entries)))
    result = run(load_config(path), now=NOW, seed=1)
    assert result.fulltext.fetched == 1 and result.fulltext.short == 1
    (text,) = posts(tmp_path).values()
    assert text.split("---", 2)[2].count(PARAGRAPHS[0][:20]) == 3  # the feed's own body


# -- feedsite extract ---------------------------------------------------------------------


def feedsite(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_extract_a_file_resolving_its_links_against_url(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(article_page(7, charset="gbk"))
    html = feedsite("extract", str(page), "--url", "https://news.example/a/7.html")
    assert html.returncode == 0, html.stderr
    assert "<p>" in html.stdout and PARAGRAPHS[3][:20] in html.stdout
    assert 'src="https://news.example/img/7.jpg?x=1"' in html.stdout.replace("&amp;", "&")
    assert "相关文章" not in html.stdout
    text = feedsite("extract", str(page), "--text")
    assert text.returncode == 0 and "<" not in text.stdout
    assert PARAGRAPHS[0][:20] in text.stdout and "摘要" not in text.stdout
    picked = feedsite("extract", str(page), "--text", "--selector", "aside")
    assert picked.returncode == 0 and "另一条新闻" in picked.stdout
    assert PARAGRAPHS[0][:20] not in picked.stdout


def test_extract_a_url_and_the_errors(tmp_path: Path, server: FeedServer) -> None:
    server.route("/a.html", Response.html(article_page(1)))
    got = feedsite("extract", server.url("/a.html"), "--text")
    assert got.returncode == 0 and PARAGRAPHS[1][:20] in got.stdout
    missing = feedsite("extract", server.url("/none.html"))
    assert missing.returncode == 1 and "404" in missing.stderr
    bad = feedsite("extract", str(tmp_path / "nope.html"))
    assert bad.returncode == 1 and "nope.html" in bad.stderr and "cannot read" in bad.stderr
    selector = feedsite("extract", server.url("/a.html"), "--selector", "div[")
    assert selector.returncode == 2 and "--selector" in selector.stderr
    nothing = feedsite("extract", server.url("/a.html"), "--selector", "div.nowhere")
    assert nothing.returncode == 1 and "div.nowhere" in nothing.stderr


@pytest.mark.slow
def test_feedsite_extract_text_scores_on_the_article_set(shared: Path, tmp_path: Path) -> None:
    """The acceptance figure as the command gives it: mean token F1 of ``feedsite extract
    FILE --url URL --text`` over the 121 pages of the article-extraction set, ≥ 0.95 (the
    in-process score is tests/clean/test_extract.py ``test_article_set_scores``)."""
    from concurrent.futures import ThreadPoolExecutor
    from statistics import mean

    from tests.helpers.textscore import article_set, score

    def one(page: tuple[str, bytes, str | None, str]) -> float:
        key, data, url, want = page
        path = tmp_path / f"{key}.html"
        path.write_bytes(data)
        got = feedsite("extract", str(path), "--text", *(["--url", url] if url else []))
        # a page the extractor refuses is an exit 1 with a message and no text: scores 0
        assert got.returncode in (0, 1), got.stderr
        return score(got.stdout if got.returncode == 0 else "", want)[2]

    with ThreadPoolExecutor(max_workers=4) as pool:
        f1s = list(pool.map(one, article_set(shared)))
    assert len(f1s) == 121
    assert mean(f1s) >= 0.95, mean(f1s)
