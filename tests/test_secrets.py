"""Acceptance: the owner's secrets never leave the machine (issue #10 rows 5 and 12).

A project whose config holds canary secrets: a password in the RSSHub instance URL, an
access key, a plain URL feed with a password and a ``?token=``, a ``path:`` feed in a folder
named ``CANARYDIR``; feeds whose items have relative links and images (resolved against
the fetch URL by older versions), a 404 route and a refused connection so the error paths
run. Every command runs as a subprocess; no canary may appear in what it prints or in any
file it publishes (the Hexo posts folder, the native site).

Local paths are not secrets in what feedsite prints to its owner (``status`` and ``check``
name a ``path:`` feed's file, errors name the file they could not read): ``CANARYDIR`` is
checked in the published files only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.feedserver import FeedServer, Response

SECRETS = ("CANARYUSER", "CANARYPASS", "CANARYKEY", "CANARYU2", "CANARYP2", "CANARYTOKEN")
PATH_SECRET = "CANARYDIR"


def relative_rss(prefix: str) -> bytes:
    """Items with relative links and images; one without any link."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{prefix}</title><link>/</link><description>d</description>
<item><title>{prefix} one</title><guid isPermaLink="false">{prefix}-1</guid>
<link>/article/1?x=1</link><pubDate>Tue, 10 Nov 2026 08:00:00 GMT</pubDate>
<description><![CDATA[<p><img src="/img/1.jpg"> <a href="more.html">more</a>
<a href="">self</a> <a href="#top">top</a> <img data-src="lazy.png"></p>]]></description>
<enclosure url="/enc/1.jpg" type="image/jpeg" length="1"/></item>
<item><title>{prefix} two</title><guid isPermaLink="false">{prefix}-2</guid>
<pubDate>Wed, 11 Nov 2026 08:00:00 GMT</pubDate>
<description><![CDATA[<p>No link. <img src="pic.jpg"> <a href="?page=2">next</a></p>]]>
</description>
</item>
</channel></rss>""".encode()


def refused_port() -> int:
    """A loopback port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path, feed_server: FeedServer) -> Iterator[Path]:
    feed_server.route("/rel/route", Response.rss(relative_rss("route")))
    feed_server.route("/feed.xml", Response.rss(relative_rss("plain")))
    feed_server.route("/gone/route", Response(404, "not found"))
    host = feed_server.url("/").split("://", 1)[1].rstrip("/")
    dead = f"http://CANARYUSER:CANARYPASS@127.0.0.1:{refused_port()}"
    folder = tmp_path / PATH_SECRET
    folder.mkdir()
    (folder / "local.xml").write_bytes(relative_rss("local"))
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        f"""\
site: {{hexo_root: ./blog, timezone: UTC, targets: [hexo, native]}}
rsshub:
  instances: ["{dead}", "http://CANARYUSER:CANARYPASS@{host}"]
  access_key: CANARYKEY
native: {{out: ./public, base_url: "https://news.example.org"}}
feeds:
  新闻:
    路由:
      相对: /rel/route
      没了: /gone/route
    网址:
      令牌: {{url: "http://CANARYU2:CANARYP2@{host}/feed.xml?token=CANARYTOKEN"}}
      拒绝: {{url: "http://CANARYU2:CANARYP2@127.0.0.1:{refused_port()}/x?token=CANARYTOKEN"}}
    本地:
      文件: {{path: {PATH_SECRET}/local.xml}}
""",
        encoding="utf-8",
    )
    yield config


def feedsite(*args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=300,
        # Wide and plain: a wrapped line could split a canary and hide it.
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "1000", "TERM": "dumb"},
    )
    return done.returncode, done.stdout + done.stderr


def leaks(text: str, canaries: tuple[str, ...]) -> list[str]:
    low = text.lower()
    return [c for c in canaries if c.lower() in low]


def test_no_canary_in_output_or_published_files(project: Path) -> None:
    """issue #10 rows 5 and 12: credentials, access keys and tokens were printed in `run`
    errors and `status`, and published in posts, the native site, its Atom feeds and OPML."""
    config = str(project)
    printed: dict[str, str] = {}
    for args in (
        ("run", "--json"),
        ("run",),
        ("build", "--target", "native"),
        ("status",),
        ("status", "--json"),
        ("status", "--failing"),
        ("check",),
        ("check", "--json"),
    ):
        code, text = feedsite(*args, "-c", config)
        assert code == 0, (args, text)
        assert "Traceback" not in text, (args, text)
        printed[" ".join(args)] = text
    # The error paths ran and named the instances and the URL feed, redacted.
    assert "failed" in printed["run"] and "404" in printed["run --json"]
    assert "***@127.0.0.1" in printed["run --json"] and "token=***" in printed["status --json"]

    found = {cmd: leaks(text, SECRETS) for cmd, text in printed.items()}
    posts = project.parent / "blog" / "source" / "_posts"
    site = project.parent / "public"
    assert any(posts.rglob("*.md")), "the run wrote no posts"
    assert (site / "index.html").is_file(), "the build wrote no site"
    for root in (posts, site):
        for path in root.rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", "replace")
                found[str(path.relative_to(project.parent))] = leaks(text, (*SECRETS, PATH_SECRET))
    found = {where: what for where, what in found.items() if what}
    assert not found, found
