"""``feedsite watch`` against the loopback feed server (issue #16, docs/watch.md).

Each test starts the real command in a subprocess with short intervals, changes what the
server serves, sends it real signals and looks at the files it writes: the Hexo posts, the
native site, the state (read with ``feedsite status`` while the watch runs).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def entries(feed: str, n: int) -> list[Entry]:
    """``n`` dated entries of ``feed``, newest first (titles unique across feeds)."""
    return [
        Entry(f"{feed}-{i}", f"{feed} item {i}", T0 + timedelta(minutes=i), f"<p>{feed} {i}</p>")
        for i in reversed(range(n))
    ]


def write_config(folder: Path, feeds: dict[str, str], watch: str, extra: str = "") -> Path:
    lines = [
        "site: {hexo_root: ./blog, timezone: UTC, targets: [native]}",
        "native: {out: ./_site, base_url: 'https://news.example.org'}",
        "images: {mode: hotlink}",
        "defaults: {items_per_feed: 50, keep: 50}",
        f"watch: {watch}",
        extra,
        "feeds:",
        "  新闻:",
        "    站点:",
        *(f"      {name}: {url}" for name, url in feeds.items()),
    ]
    path = folder / "feedsite.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Watch:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")


@contextmanager
def watching(folder: Path, tag: str = "") -> Iterator[Watch]:
    """``feedsite watch`` in ``folder``; killed at the end if still running."""
    out, err = folder / f"watch{tag}.out", folder / f"watch{tag}.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsite", "watch", "-c", str(folder / "feedsite.yaml")],
            stdout=o,
            stderr=e,
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        yield Watch(proc, out, err)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def wait_until(check: Callable[[], object], limit: float, watch: Watch | None = None) -> float:
    """Poll ``check`` until it is true; the seconds it took (fails after ``limit``)."""
    started = time.monotonic()
    while not check():
        if watch is not None and watch.proc.poll() is not None:
            pytest.fail(f"watch exited {watch.proc.returncode}: {watch.stderr()}")
        if time.monotonic() - started > limit:
            detail = (
                "" if watch is None else f"\nstdout: {watch.stdout()}\nstderr: {watch.stderr()}"
            )
            pytest.fail(f"not true after {limit} s: {check}{detail}")
        time.sleep(0.05)
    return time.monotonic() - started


def has_post(folder: Path, title: str) -> bool:
    posts = folder / "blog/source/_posts"
    return posts.is_dir() and any(title in p.read_text("utf-8") for p in posts.rglob("*.md"))


def on_site(folder: Path, title: str) -> bool:
    site = folder / "_site"
    return site.is_dir() and any(
        title in p.read_text("utf-8", errors="replace") for p in site.rglob("*.html")
    )


def stop(watch: Watch, sig: signal.Signals = signal.SIGTERM) -> None:
    watch.proc.send_signal(sig)
    assert watch.proc.wait(timeout=60) == 0, watch.stderr()


def test_a_new_item_is_posted_and_on_the_site_within_its_interval(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(
        tmp_path,
        {"a": feed_server.url("/a")},
        "{interval: 3s, min_interval: 1s, build_every: 1s}",
    )
    with watching(tmp_path) as w:
        wait_until(lambda: on_site(tmp_path, "a item 0"), 30, w)
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        changed = time.monotonic()
        wait_until(lambda: has_post(tmp_path, "a item 1"), 3 * 1.1 + 5, w)
        wait_until(
            lambda: on_site(tmp_path, "a item 1"), 3 * 1.1 + 5 - (time.monotonic() - changed), w
        )
        # Between the two it asked with its validators and got 304s (the interval holds).
        asked = feed_server.requests_for("/a")
        assert 2 <= len(asked) <= 8
        assert asked[1].header("If-None-Match") == '"1"'
        stop(w)
    assert "stopped" in w.stderr()


def test_max_age_is_honoured_and_status_works_while_it_runs(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/cached",
        Response.rss(rss(entries("c", 1)), etag='"c"', headers={"Cache-Control": "max-age=600"}),
    )
    feed_server.route("/plain", Response.rss(rss(entries("p", 1)), etag='"p"'))
    config = write_config(
        tmp_path,
        {"cached": feed_server.url("/cached"), "plain": feed_server.url("/plain")},
        "{interval: 1s, min_interval: 1s, build_every: 1s}",
    )
    with watching(tmp_path) as w:
        # The other feed is asked again and again meanwhile: the watch is turning.
        wait_until(lambda: feed_server.hits("/plain") >= 5, 30, w)
        assert feed_server.hits("/cached") == 1
        status = subprocess.run(
            [sys.executable, "-m", "feedsite", "status", "-c", str(config), "--json"],
            capture_output=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr.decode()
        rows = {r["feed"]: r for r in json.loads(status.stdout)}
        cached = rows["新闻 › 站点 › cached"]
        ahead = datetime.fromisoformat(cached["next_attempt"]) - datetime.now(UTC)
        assert timedelta(seconds=590) <= ahead <= timedelta(seconds=600 * 1.1)
        plain = rows["新闻 › 站点 › plain"]
        assert plain["last_status"] in ("ok", "not_modified")
        assert feed_server.hits("/cached") == 1
        stop(w, signal.SIGINT)


def test_sighup_with_a_broken_config_keeps_the_old_one(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    feed_server.route("/b", Response.rss(rss(entries("b", 1)), etag='"1"'))
    watch = "{interval: 1s, min_interval: 1s, build_every: 1s}"
    config = write_config(tmp_path, {"a": feed_server.url("/a")}, watch)
    good = config.read_text("utf-8")
    with watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "a item 0"), 30, w)
        config.write_text(good.replace("interval: 1s,", "interval: soon,", 1), "utf-8")
        w.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "config not reloaded" in w.stderr(), 20, w)
        assert "watch.interval" in w.stderr() and "line 5" in w.stderr()
        # Still running, on the old config: a new item still arrives.
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        wait_until(lambda: has_post(tmp_path, "a item 1"), 20, w)
        # A good config is taken on the next SIGHUP: the new feed is fetched.
        write_config(tmp_path, {"a": feed_server.url("/a"), "b": feed_server.url("/b")}, watch)
        w.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: has_post(tmp_path, "b item 0"), 20, w)
        assert "config reloaded: 2 feeds" in w.stderr()
        stop(w)


def post_tree(folder: Path) -> dict[str, bytes]:
    posts = folder / "blog/source/_posts"
    return {
        str(p.relative_to(posts)): p.read_bytes() for p in sorted(posts.rglob("*")) if p.is_file()
    }


def state_rows(folder: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with closing(sqlite3.connect(folder / ".feedsite/state.sqlite")) as db:
        items = db.execute(
            "SELECT feed_key, item_id, status, content_hash, title FROM items ORDER BY 1, 2"
        ).fetchall()
        files = db.execute(
            "SELECT path, feed_key, item_id, state, sha256 FROM files WHERE target = 'hexo'"
            " ORDER BY path"
        ).fetchall()
    return items, files


@pytest.mark.slow
def test_sigkill_and_restart_lose_nothing_and_duplicate_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Killed at random moments while the feeds grow; after a restart the posts and the
    state are those of one uninterrupted run over the final feeds (the crash tests'
    comparison, without the times of first sighting, which differ by design)."""
    rng = random.Random(16)
    names = [f"f{n}" for n in range(6)]
    sizes = dict.fromkeys(names, 10)

    def serve() -> None:
        for name in names:
            body = rss(entries(name, sizes[name]))
            feed_server.route(f"/{name}", Response.rss(body, etag=f'"{sizes[name]}"'))

    serve()
    project = tmp_path / "watched"
    project.mkdir()
    urls = {name: feed_server.url(f"/{name}") for name in names}
    write_config(project, urls, "{interval: 1s, min_interval: 1s, build_every: 1s}")
    for trial in range(4):
        with watching(project, str(trial)) as w:
            time.sleep(rng.uniform(0.3, 2.5))
            w.proc.send_signal(signal.SIGKILL)
            w.proc.wait(timeout=30)
        for name in rng.sample(names, 3):
            sizes[name] += rng.randint(1, 20)
        serve()
    with watching(project, "-last") as w:
        for name in names:
            wait_until(lambda n=name: has_post(project, f"{n} item {sizes[n] - 1}"), 60, w)
        wait_until(lambda: on_site(project, f"{names[0]} item {sizes[names[0]] - 1}"), 30, w)
        stop(w)

    reference = tmp_path / "reference"
    reference.mkdir()
    write_config(reference, urls, "{interval: 1s, min_interval: 1s, build_every: 1s}")
    done = subprocess.run(
        [sys.executable, "-m", "feedsite", "run", "-c", str(reference / "feedsite.yaml")],
        capture_output=True,
        timeout=120,
        cwd=reference,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert post_tree(project) == post_tree(reference)
    assert len(post_tree(project)) == sum(sizes.values())
    assert state_rows(project) == state_rows(reference)
    leftovers = [p for p in project.rglob("*") if ".tmp" in p.name or p.name.startswith(".~")]
    assert leftovers == []


def test_a_partial_run_touches_only_its_feeds(tmp_path: Path, feed_server: FeedServer) -> None:
    """A watch turn runs its due feeds only (``run(only=...)``): the other feeds' posts are
    not looked at (a missing one comes back on its own feed's turn), and a feed gone from
    the config is left to the next whole run."""
    from feedsite._run import run
    from feedsite.config import load_config

    for name in "abc":
        feed_server.route(f"/{name}", Response.rss(rss(entries(name, 2)), etag='"1"'))
    urls = {name: feed_server.url(f"/{name}") for name in "abc"}
    path = write_config(tmp_path, urls, "{interval: 1m}")
    config = load_config(path)
    assert run(config, watching=True).counts().posts_new == 6
    posts = tmp_path / "blog/source/_posts"
    gone = next(p for p in posts.rglob("*.md") if "b item 0" in p.read_text("utf-8"))
    gone.unlink()
    write_config(tmp_path, {"a": urls["a"], "b": urls["b"]}, "{interval: 1m}")  # c removed
    config = load_config(path)
    a, b = config.feeds
    turn = run(config, only=[a.key], watching=True)
    assert [r.key for r in turn.reports] == [a.key]
    assert turn.counts().posts_restored == 0 and not gone.exists()
    assert turn.removed_feeds == [] and has_post(tmp_path, "c item 0")
    turn = run(config, only=[b.key], watching=True)
    assert turn.counts().posts_restored == 1 and gone.exists()
    whole = run(config, watching=True)
    assert [label for label, _ in whole.removed_feeds] == ["新闻 › 站点 › c"]
    assert not has_post(tmp_path, "c item 0")
