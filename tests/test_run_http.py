"""Runs against a real loopback server: caching, failover, broken feeds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsite._run import run
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

FEED = rss([Entry("a", "Alpha", datetime(2026, 1, 1, tzinfo=UTC)), Entry("b", "Beta")])


def config_for(project: Callable[[str], Path], feeds: str, extra: str = "") -> Path:
    return project(f"site: {{hexo_root: ./blog, timezone: UTC}}\n{extra}\nfeeds:\n{feeds}")


def test_etag_304_across_runs(feed_server: FeedServer, project: Callable[[str], Path]) -> None:
    feed_server.route("/f", Response.rss(FEED, etag='"v1"'))
    config = load_config(config_for(project, f"  a:\n    b:\n      c: {feed_server.url('/f')}\n"))
    first = run(config)
    assert first.counts().posts_new == 2
    second = run(config)
    assert second.counts().feeds_not_modified == 1
    assert feed_server.requests_for("/f")[-1].header("If-None-Match") == '"v1"'


def test_last_modified_304(feed_server: FeedServer, project: Callable[[str], Path]) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"
    feed_server.route("/f", Response.rss(FEED, last_modified=stamp))
    config = load_config(config_for(project, f"  a:\n    b:\n      c: {feed_server.url('/f')}\n"))
    run(config)
    assert run(config).counts().feeds_not_modified == 1
    assert feed_server.requests_for("/f")[-1].header("If-Modified-Since") == stamp


def test_304_still_restores_missing_posts(
    feed_server: FeedServer, project: Callable[[str], Path], tmp_path: Path
) -> None:
    feed_server.route("/f", Response.rss(FEED, etag='"v1"'))
    config = load_config(config_for(project, f"  a:\n    b:\n      c: {feed_server.url('/f')}\n"))
    run(config)
    posts = sorted((tmp_path / "blog/source/_posts").rglob("*.md"))
    posts[0].unlink()
    result = run(config)
    assert result.counts().feeds_not_modified == 1
    assert result.counts().posts_restored == 1
    assert posts[0].exists()


def test_instance_failover_and_preference(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    feed_server.route("/one/guancha/headline", Response(502))
    feed_server.route("/two/guancha/headline", Response.rss(FEED, etag='"x"'))
    instances = f"[{feed_server.url('/one')}, {feed_server.url('/two')}]"
    path = config_for(
        project,
        "  新媒体:\n    观察者网:\n      头条: /guancha/headline\n",
        f"rsshub: {{instances: {instances}, access_key: s3cret}}",
    )
    config = load_config(path)
    result = run(config)
    assert result.counts().posts_new == 2
    assert feed_server.requests_for("/two/guancha/headline")[0].query == "key=s3cret"
    # Next run asks the instance that answered first, with its validators.
    feed_server.reset()
    feed_server.route("/one/guancha/headline", Response(502))
    feed_server.route("/two/guancha/headline", Response.rss(FEED, etag='"x"'))
    again = run(config)
    assert again.counts().feeds_not_modified == 1
    assert feed_server.hits("/one/guancha/headline") == 0


def test_failover_on_non_feed_200(feed_server: FeedServer, project: Callable[[str], Path]) -> None:
    feed_server.route("/one/r", Response.html("<html><body>Cloudflare says no</body></html>"))
    feed_server.route("/two/r", Response.rss(FEED))
    path = config_for(
        project,
        "  a:\n    b:\n      c: /r\n",
        f"rsshub: {{instances: [{feed_server.url('/one')}, {feed_server.url('/two')}]}}",
    )
    result = run(load_config(path))
    assert result.counts().posts_new == 2


def test_broken_feeds_do_not_stop_good_ones(
    feed_server: FeedServer, project: Callable[[str], Path], tmp_path: Path
) -> None:
    feed_server.route("/good", Response.rss(FEED))
    feed_server.route("/500", Response(500, "oops"))
    feed_server.route("/slow", Response.hang())
    feed_server.route("/html", Response.html("<html>hi</html>"))
    feed_server.route(
        "/garbage", Response(200, b"\x00\x01garbage", content_type="application/rss+xml")
    )
    feeds = "".join(
        f"      {name}: {feed_server.url('/' + name)}\n"
        for name in ("good", "500", "slow", "html", "garbage")
    )
    path = config_for(project, "  c:\n    s:\n" + feeds, "fetch: {timeout: 1}")
    started = datetime.now(UTC)
    result = run(load_config(path))
    assert (datetime.now(UTC) - started).total_seconds() < 20
    by_feed = {r.label.split(" › ")[-1]: r for r in result.decision.reports}
    assert by_feed["good"].status == "ok" and by_feed["good"].posts.new == 2
    assert "HTTP 500" in (by_feed["500"].error or "")
    assert "timed out" in (by_feed["slow"].error or "")
    assert "not a feed" in (by_feed["html"].error or "")
    assert by_feed["garbage"].status == "failed"
    assert all(by_feed[n].error and "/" + n in by_feed[n].error for n in ("500", "slow", "html"))
    assert len(list((tmp_path / "blog/source/_posts").rglob("*.md"))) == 2


def test_bad_encodings_in_a_run(
    feed_server: FeedServer, project: Callable[[str], Path], tmp_path: Path
) -> None:
    """Invalid UTF-8 in a UTF-8 feed and undeclared GB18030 are read, not dropped."""
    broken = rss([Entry("u", "坏字节 ok", datetime(2026, 1, 1, tzinfo=UTC))]).replace(
        "坏字节".encode(), "坏字节".encode() + b"\xff\xfe"
    )
    gb = rss([Entry("g", "简体中文标题", datetime(2026, 1, 1, tzinfo=UTC))]).decode()
    gb = gb.replace('<?xml version="1.0" encoding="UTF-8"?>', "").encode("gb18030")
    feed_server.route("/broken", Response.rss(broken))
    feed_server.route("/gb", Response(200, gb, content_type="application/xml"))
    feed_server.route("/good", Response.rss(FEED))
    feeds = "".join(f"      {n}: {feed_server.url('/' + n)}\n" for n in ("broken", "gb", "good"))
    result = run(load_config(config_for(project, "  c:\n    s:\n" + feeds)))
    assert result.counts().feeds_ok == 3
    texts = [p.read_text("utf-8") for p in (tmp_path / "blog/source/_posts").rglob("*.md")]
    assert len(texts) == 4
    assert any('title: "简体中文标题"' in t for t in texts)
    assert any("坏字节" in t and "ok" in t for t in texts)


def test_a_feed_interval_holds_in_a_plain_run(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    feed_server.route("/f", Response.rss(FEED, etag='"v1"'))
    feed_server.route("/g", Response.rss(FEED, etag='"v1"'))
    feeds = f"  a:\n    b:\n      c: {{url: '{feed_server.url('/f')}', interval: 10m}}\n"
    feeds += f"      d: {feed_server.url('/g')}\n"
    config = load_config(config_for(project, feeds))
    start = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert run(config, now=start, seed=1).counts().feeds_ok == 2
    soon = run(config, now=start + timedelta(minutes=5), seed=1)
    assert [r.status for r in soon.reports] == ["skipped", "not_modified"]
    assert "for its interval" in (soon.reports[0].error or "")
    assert feed_server.hits("/f") == 1
    later = run(config, now=start + timedelta(minutes=12), seed=1)
    assert [r.status for r in later.reports] == ["not_modified", "not_modified"]
    assert feed_server.hits("/f") == 2
