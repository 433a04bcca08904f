"""Acceptance: the owner's secrets never leave the machine (issue #10 rows 5 and 12).

A project whose config holds canary secrets: a password in the RSSHub instance URL, an
access key, a plain URL feed with a password and a ``?token=``, a ``path:`` feed in a folder
named ``CANARYDIR``; feeds whose items have relative links and images (resolved against
the fetch URL by older versions), a 404 route and a refused connection so the error paths
run. Every command runs as a subprocess; no canary may appear in what it prints or in any
file it publishes (the Hexo posts folder, the native site, the Hexo site ``feedsite init``
makes and ``hexo generate`` builds).

Local paths are not secrets in what feedsite prints to its owner (``status`` and ``check``
name a ``path:`` feed's file, errors name the file they could not read): ``CANARYDIR`` is
checked in the published files only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from feedsite.config import load_config
from tests.helpers.feedserver import FeedServer, Response
from tests.helpers.hexo import require_node

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


def canary_sections(feed_server: FeedServer, folder: Path) -> str:
    """The ``rsshub:`` and ``feeds:`` sections of a config in ``folder``, full of canaries.

    Serves the feeds on ``feed_server`` and writes the ``path:`` feed's file into
    ``folder/CANARYDIR``.
    """
    feed_server.route("/rel/route", Response.rss(relative_rss("route")))
    feed_server.route("/feed.xml", Response.rss(relative_rss("plain")))
    feed_server.route("/gone/route", Response(404, "not found"))
    host = feed_server.url("/").split("://", 1)[1].rstrip("/")
    dead = f"http://CANARYUSER:CANARYPASS@127.0.0.1:{refused_port()}"
    (folder / PATH_SECRET).mkdir()
    (folder / PATH_SECRET / "local.xml").write_bytes(relative_rss("local"))
    return f"""\
rsshub:
  instances: ["{dead}", "http://CANARYUSER:CANARYPASS@{host}"]
  access_key: CANARYKEY
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
"""


@pytest.fixture
def project(tmp_path: Path, feed_server: FeedServer) -> Path:
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        "site: {hexo_root: ./blog, timezone: UTC, targets: [hexo, native]}\n"
        'native: {out: ./public, base_url: "https://news.example.org"}\n'
        + canary_sections(feed_server, tmp_path),
        encoding="utf-8",
    )
    return config


def feedsite(*args: str, timeout: float = 300) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        # Wide and plain: a wrapped line could split a canary and hide it.
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "1000", "TERM": "dumb"},
    )
    return done.returncode, done.stdout + done.stderr


def leaks(text: str, canaries: tuple[str, ...]) -> list[str]:
    low = text.lower()
    return [c for c in canaries if c.lower() in low]


def run_all(config: Path, *commands: tuple[str, ...], timeout: float = 300) -> dict[str, str]:
    """Run each command on ``config``; each must exit 0 without a traceback. Their output."""
    printed: dict[str, str] = {}
    for args in commands:
        code, text = feedsite(*args, "-c", str(config), timeout=timeout)
        assert code == 0, (args, text[-6000:])
        assert "Traceback" not in text, (args, text[-6000:])
        printed[" ".join(args)] = text
    return printed


def file_leaks(base: Path, files: Iterable[Path]) -> dict[str, list[str]]:
    """Every canary (``CANARYDIR`` too) in each file's path under ``base`` or its bytes."""
    found: dict[str, list[str]] = {}
    for path in files:
        rel = path.relative_to(base).as_posix()
        text = rel + "\n" + path.read_bytes().decode("utf-8", "replace")
        found[rel] = leaks(text, (*SECRETS, PATH_SECRET))
    return found


def assert_no_leak(printed: dict[str, str], files: dict[str, list[str]]) -> None:
    found = {cmd: leaks(text, SECRETS) for cmd, text in printed.items()} | files
    found = {where: what for where, what in found.items() if what}
    assert not found, found


def test_no_canary_in_output_or_published_files(project: Path) -> None:
    """issue #10 rows 5 and 12: credentials, access keys and tokens were printed in `run`
    errors and `status`, and published in posts, the native site, its Atom feeds and OPML."""
    printed = run_all(
        project,
        ("run", "--json"),
        ("run",),
        ("build", "--target", "native"),
        ("status",),
        ("status", "--json"),
        ("status", "--failing"),
        ("check",),
        ("check", "--json"),
    )
    # The error paths ran and named the instances and the URL feed, redacted.
    assert "failed" in printed["run"] and "404" in printed["run --json"]
    assert "***@127.0.0.1" in printed["run --json"] and "token=***" in printed["status --json"]

    posts = project.parent / "blog" / "source" / "_posts"
    site = project.parent / "public"
    assert any(posts.rglob("*.md")), "the run wrote no posts"
    assert (site / "index.html").is_file(), "the build wrote no site"
    published = [p for root in (posts, site) for p in root.rglob("*") if p.is_file()]
    assert_no_leak(printed, file_leaks(project.parent, published))


@pytest.mark.slow
@pytest.mark.hexo
def test_hexo_site_build_publishes_no_secret(tmp_path: Path, feed_server: FeedServer) -> None:
    """The Hexo site as users get it: `feedsite init --target hexo`, the canary config,
    `run --build --target hexo` (`npm ci` from the npm registry, ~25 s, and `hexo
    generate`), then `build --target hexo` again (no npm: Hexo alone).

    Grepped: what both commands print, and every file of the project but three, by path
    and content. ``public/`` (what is deployed) and ``source/`` (committed, Hexo's input)
    are the published files; ``db.json`` (Hexo's cache of ``source/``) and the rest of the
    project (``_config*.yml``, ``package*.json``, ``scripts/``, the workflow, ``.gitignore``)
    are not published but sit beside them, may be committed, and have no reason to hold a
    secret, so they are grepped too. Left out: ``feedsite.yaml`` (the config: it holds the
    canaries by definition), the state folder (``.feedsite/``: the owner's own records of
    the feeds, never under ``source/`` — the config refuses that — so never published),
    ``node_modules/`` (npm's) and ``CANARYDIR/`` (the owner's own input: the ``path:``
    feed's file).
    """
    require_node()
    folder = tmp_path / "news"
    code, text = feedsite("init", "--target", "hexo", str(folder))
    assert code == 0, text
    config = folder / "feedsite.yaml"
    generated = config.read_text(encoding="utf-8")
    # Keep the generated `site:` (hexo_root: ., targets: [hexo]); the canaries replace the rest.
    config.write_text(
        generated[: generated.index("\nrsshub:\n") + 1] + canary_sections(feed_server, folder),
        encoding="utf-8",
    )

    printed = run_all(
        config, ("run", "--build", "--target", "hexo"), ("build", "--target", "hexo"), timeout=900
    )
    run, build = printed.values()
    assert "failed" in run and "***@127.0.0.1" in run  # the error paths ran, redacted
    assert "`npm ci`" in run and "INFO  Start processing" in run  # npm and Hexo both ran
    assert "hexo site:" in build and "`npm ci`" not in build

    posts = sorted((folder / "source" / "_posts").rglob("*.md"))
    assert len(posts) == 6, posts  # two items from each of the three working feeds
    public = folder / "public"
    assert (public / "index.html").is_file(), "hexo generate wrote no site"
    assert len(list(public.rglob("index.html"))) > len(posts), "hexo wrote no post pages"
    assert (folder / "db.json").is_file(), "hexo generate wrote no db.json"

    state = load_config(config).state_path.parent
    skipped = (config, state, folder / "node_modules", folder / PATH_SECRET)
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(p == s or s in p.parents for s in skipped)
    ]
    assert_no_leak(printed, file_leaks(folder, files))
