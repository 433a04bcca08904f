"""``feedsite watch`` over days: what an operator meets (docs/watch.md).

Each test runs the real command in a subprocess against the loopback feed server, with
real signals and real file-system trouble (a tmpfs that is full, a state file that is
garbage), and checks the watch keeps going or stops promptly as docs/watch.md says.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers.feeds import rss
from tests.helpers.feedserver import FeedServer, Response
from tests.test_watch import (
    Watch,
    entries,
    has_post,
    on_site,
    stop,
    wait_until,
    watching,
    write_config,
)

FAST = "{interval: 1s, min_interval: 1s, build_every: 1s}"


def alive_for(w: Watch, seconds: float) -> bool:
    """Whether the watch is still running after ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if w.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return w.proc.poll() is None


def status_rows(config: Path) -> dict[str, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "feedsite", "status", "-c", str(config), "--json"],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    return {str(r["feed"]).rsplit(" › ", 1)[-1]: r for r in json.loads(done.stdout)}


# --- a server's answers must not kill the watch ------------------------------------------


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """``folder`` made a tmpfs of ``size`` for the block (needs root, as CI has)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(path: Path) -> None:
    """Write ``path`` until its disk is full, to the last block."""
    with contextlib.suppress(OSError), path.open("wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()


def test_a_far_retry_after_does_not_kill_the_watch(tmp_path: Path, feed_server: FeedServer) -> None:
    """A 429 whose Retry-After is a date at the end of time (a broken or hostile server):
    the feed is deferred, the watch goes on fetching the others."""
    feed_server.route(
        "/limited",
        Response(429, b"slow down", headers={"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}),
    )
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(
        tmp_path, {"limited": feed_server.url("/limited"), "a": feed_server.url("/a")}, FAST
    )
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/limited") >= 1, 20, w)
        assert alive_for(w, 3), w.stderr()
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        wait_until(lambda: has_post(tmp_path, "a item 1"), 15, w)
        stop(w)


def test_a_long_retry_after_is_held_to_max_interval(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """docs/watch.md: the next fetch is "always within min_interval .. max_interval", the
    Retry-After row included: a 429 asking for 30 days comes back after max_interval."""
    feed_server.route(
        "/limited", Response(429, b"slow down", headers={"Retry-After": str(30 * 86400)})
    )
    config = write_config(
        tmp_path,
        {"limited": feed_server.url("/limited")},
        "{interval: 1s, min_interval: 1s, max_interval: 1h, build_every: 1s}",
    )
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/limited") >= 1, 20, w)
        wait_until(lambda: status_rows(config)["limited"]["next_attempt"], 20, w)
        row = status_rows(config)["limited"]
        ahead = datetime.fromisoformat(str(row["next_attempt"])) - datetime.now(UTC)
        stop(w)
    assert ahead <= timedelta(hours=1, seconds=5), row


def test_huge_and_zero_freshness_stay_within_the_bounds(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A ttl of a billion minutes and a max-age of 10^15 s come back after max_interval; a
    ttl of 0 and max-age=0 after the interval (never faster than min_interval)."""
    huge = rss(entries("h", 1)).replace(b"<channel>", b"<channel><ttl>999999999999</ttl>", 1)
    zero = rss(entries("z", 1)).replace(b"<channel>", b"<channel><ttl>0</ttl>", 1)
    assert b"<ttl>" in huge and b"<ttl>" in zero
    feed_server.route(
        "/huge", Response.rss(huge, etag='"h"', headers={"Cache-Control": "max-age=10" + "0" * 15})
    )
    feed_server.route(
        "/zero", Response.rss(zero, etag='"z"', headers={"Cache-Control": "max-age=0"})
    )
    config = write_config(
        tmp_path,
        {"huge": feed_server.url("/huge"), "zero": feed_server.url("/zero")},
        "{interval: 1s, min_interval: 1s, max_interval: 2h, build_every: 1s}",
    )
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/zero") >= 4, 20, w)
        rows = status_rows(config)
        stop(w)
    assert feed_server.hits("/huge") == 1
    ahead = datetime.fromisoformat(str(rows["huge"]["next_attempt"])) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=50) <= ahead <= timedelta(hours=2, seconds=5)


# --- the state and the output under trouble ------------------------------------------------


def test_a_state_file_replaced_by_garbage_is_reported_not_fatal(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """docs/watch.md: "Problems (a locked state, a disk error) are reported and retried 5 s
    later". A state file that cannot be opened (a bad restore, a disk error) is such a
    problem: the watch reports it and keeps running (it goes on once the file is back)."""
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    state = tmp_path / ".feedsite/state.sqlite"
    with watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "a item 0"), 20, w)
        good = tmp_path / "state.backup"
        subprocess.run(["sqlite3", str(state), f".backup {good}"], check=False)
        # Garbage in one step (a turn must never see a half-made file), then the WAL goes.
        garbage = tmp_path / "garbage"
        garbage.write_bytes(b"this is not a database\n" * 512)
        os.replace(garbage, state)
        for extra in ("-wal", "-shm"):
            state.with_name(state.name + extra).unlink(missing_ok=True)
        wait_until(lambda: "problem:" in w.stderr() and "state" in w.stderr(), 15, w)
        survived = alive_for(w, 2)
        err = w.stderr()
        stop_code = None
        if survived:
            w.proc.send_signal(signal.SIGTERM)
            stop_code = w.proc.wait(timeout=30)
    assert survived, f"the watch died (exit {w.proc.returncode}): {err}"
    assert "problem:" in err and "state" in err
    assert stop_code == 0


def test_a_build_that_failed_on_a_full_disk_is_retried(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The native output on a 2 MB tmpfs that fills up: the build after a new item fails
    with ENOSPC (reported; the watch keeps running). Once the disk has room again, the
    failed build is retried: the new item reaches the site without waiting for another
    change in the feeds."""
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    with small_disk(tmp_path / "_site", "2m") as site, watching(tmp_path) as w:
        wait_until(lambda: on_site(tmp_path, "a item 0"), 20, w)
        fill(site / "filler.bin")
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        wait_until(lambda: "No space left on device" in w.stderr(), 15, w)
        (site / "filler.bin").unlink()
        time.sleep(4)  # several turns and build_every periods, the feed unchanged
        shown = on_site(tmp_path, "a item 1")
        err = w.stderr()
        stop(w)
    assert "Traceback" not in err
    assert shown, f"the site still lacks the new item 4 s after the disk had room: {err[-600:]}"


def test_a_full_disk_while_writing_posts_is_reported_not_fatal(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The Hexo posts folder on a full tmpfs: writing a post fails with ENOSPC; the watch
    reports it, keeps running and writes the post once there is room."""
    big = "<p>" + "x" * 200_000 + "</p>"
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    with small_disk(tmp_path / "blog/source/_posts", "1m") as posts, watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "a item 0"), 20, w)
        filler = posts / ".filler"
        fill(filler)
        grown = entries("a", 3)
        grown = [dataclasses.replace(e, **{dataclasses.fields(e)[-1].name: big}) for e in grown]
        feed_server.route("/a", Response.rss(rss(grown), etag='"3"'))
        wait_until(
            lambda: (
                feed_server.hits("/a") >= 3
                and ("problem" in w.stderr() or w.proc.poll() is not None)
            ),
            20,
        )
        survived = alive_for(w, 3)
        err = w.stderr()
        if survived:
            filler.unlink()
            wait_until(lambda: has_post(tmp_path, "a item 2"), 20, w)
            stop(w)
    assert survived, f"the watch died (exit {w.proc.returncode}): {err[-2000:]}"
    assert "Traceback" not in err


def test_the_output_folders_deleted_while_it_runs_come_back(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """`rm -rf _site blog` while it runs: the next change brings the whole site back (not
    only the pages the incremental build thinks changed)."""
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    with watching(tmp_path) as w:
        wait_until(lambda: on_site(tmp_path, "a item 0"), 20, w)
        subprocess.run(["rm", "-rf", str(tmp_path / "_site"), str(tmp_path / "blog")], check=True)
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        wait_until(lambda: on_site(tmp_path, "a item 1"), 15, w)
        assert (tmp_path / "_site/index.html").exists()
        # The first item's page is back too (it changed nothing, but it is gone).
        pages = [
            p for p in (tmp_path / "_site").rglob("*.html") if "a item 0" in p.read_text("utf-8")
        ]
        assert (
            any(p.name != "index.html" and "page" not in p.parts for p in pages) or len(pages) >= 2
        )
        stop(w)


# --- locks: a run or build by hand -------------------------------------------------------


def test_a_manual_run_while_it_watches_is_waited_for(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Another process holds the run lock for 4 s (a `feedsite run` or `build` by hand; here
    flock(1) on the same lock file): the watch reports the lock once per retry, without a
    traceback, and goes on afterwards."""
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    lock = tmp_path / ".feedsite/state.sqlite.lock"
    with watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "a item 0"), 20, w)
        holder = subprocess.Popen(["flock", str(lock), "sleep", "4"])
        wait_until(lambda: "trying again in 5 s" in w.stderr(), 10, w)
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        holder.wait(timeout=10)
        wait_until(lambda: has_post(tmp_path, "a item 1"), 10, w)
        err = w.stderr()
        stop(w)
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if "problem:" in line]
    assert 1 <= len(problems) <= 3, problems
    assert all("trying again in 5 s" in p or "build postponed" in p for p in problems), problems


def test_a_feed_due_again_during_a_long_turn_is_not_left_for_a_minute(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A turn that lasts longer than the feed's interval (a slow server: 1.5 s, interval 1 s):
    when the turn ends the feed is already due again. The watch runs it then, not after
    MAX_SLEEP (60 s) because "nothing is due later" (the audit found that)."""
    feed_server.route("/slow", Response.rss(rss(entries("s", 1)), etag='"1"', delay=1.5))
    write_config(tmp_path, {"slow": feed_server.url("/slow")}, FAST)
    with watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "s item 0"), 20, w)
        feed_server.route("/slow", Response.rss(rss(entries("s", 2)), etag='"2"', delay=1.5))
        first = feed_server.hits("/slow")
        time.sleep(5)
        hits = feed_server.hits("/slow") - first
        stop(w)
    # due every second, 1.5 s per fetch: about 3 in 5 s (one, then a minute's sleep, before)
    assert hits >= 2, f"{hits} fetches in 5 s of a feed due every second: {w.stdout()}"


def test_the_lock_message_names_the_watch_not_a_run(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A `feedsite run` refused because the watch is in a turn says who holds the lock:
    "another feedsite watch", not "another feedsite run" (the operator looks for a cron)."""
    feed_server.route("/slow", Response.rss(rss(entries("s", 1)), etag='"1"', delay=6))
    config = write_config(tmp_path, {"slow": feed_server.url("/slow")}, FAST)
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/slow") >= 1, 20, w)  # the turn holds the lock
        done = subprocess.run(
            [sys.executable, "-m", "feedsite", "run", "-c", str(config)],
            capture_output=True,
            timeout=60,
            cwd=tmp_path,
        )
        w.proc.send_signal(signal.SIGKILL)
    message = done.stderr.decode()
    assert done.returncode != 0 and "locked" in message, message
    assert f"pid {w.proc.pid}" in message
    assert "feedsite watch" in message, message


# --- signals -----------------------------------------------------------------------------


def test_sigterm_stops_promptly_while_a_server_hangs(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.route("/hang", Response.hang(30))
    write_config(
        tmp_path, {"hang": feed_server.url("/hang")}, FAST, "fetch: {timeout: 30, read_timeout: 30}"
    )
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/hang") >= 1, 20, w)
        time.sleep(0.5)
        started = time.monotonic()
        w.proc.send_signal(signal.SIGTERM)
        code = w.proc.wait(timeout=40)
        took = time.monotonic() - started
    assert code == 0, w.stderr()
    assert took < 5, f"took {took:.1f} s to stop"


def test_a_second_sigint_interrupts_at_once(tmp_path: Path, feed_server: FeedServer) -> None:
    """docs/watch.md: "during a turn the fetches stop, what was fetched is written (a second
    signal interrupts at once)". A turn busy writing when SIGINT comes twice must end within
    a moment of the second signal. The second comes while a build or a write is under way
    (a large feed), so "at once" is what the second signal is for."""
    many = entries("m", 1500)
    feed_server.route("/m", Response.rss(rss(many), etag='"1"'))
    config = write_config(tmp_path, {"m": feed_server.url("/m")}, FAST)
    config.write_text(
        config.read_text("utf-8").replace(
            "items_per_feed: 50, keep: 50", "items_per_feed: 2000, keep: 2000"
        ),
        "utf-8",
    )
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/m") >= 1, 20, w)
        posts = tmp_path / "blog/source/_posts"
        wait_until(lambda: posts.is_dir() and any(posts.rglob("*.md")), 60, w)
        w.proc.send_signal(signal.SIGINT)
        time.sleep(0.2)
        started = time.monotonic()
        w.proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            w.proc.wait(timeout=20)
        took = time.monotonic() - started
    assert took < 2, f"still running {took:.1f} s after the second SIGINT"


def test_a_sighup_storm_during_turns_and_builds(tmp_path: Path, feed_server: FeedServer) -> None:
    """200 SIGHUPs while it fetches and builds: it reloads (no crash), keeps posting and
    stops with status 0."""
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"', delay=0.3))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    with watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "a item 0"), 20, w)
        for _ in range(200):
            w.proc.send_signal(signal.SIGHUP)
            time.sleep(0.005)
        assert alive_for(w, 1), w.stderr()
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        wait_until(lambda: on_site(tmp_path, "a item 1"), 30, w)
        stop(w)
    assert "Traceback" not in w.stderr()


# --- reloads -----------------------------------------------------------------------------


def test_reload_removes_and_adds_feeds(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    feed_server.route("/b", Response.rss(rss(entries("b", 1)), etag='"1"'))
    write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
    with watching(tmp_path) as w:
        wait_until(lambda: on_site(tmp_path, "a item 0"), 20, w)
        write_config(tmp_path, {"b": feed_server.url("/b")}, FAST)
        w.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: on_site(tmp_path, "b item 0"), 15, w)
        wait_until(lambda: not has_post(tmp_path, "a item 0"), 15, w)
        wait_until(lambda: not on_site(tmp_path, "a item 0"), 15, w)
        stop(w)


def test_a_shorter_interval_takes_effect_on_reload(tmp_path: Path, feed_server: FeedServer) -> None:
    """An operator lowers `watch.interval` from 1h to 1s and sends SIGHUP: the feed is
    fetched at the new pace, not after the hour the old interval planned."""
    feed_server.route("/a", Response.rss(rss(entries("a", 1)), etag='"1"'))
    write_config(
        tmp_path, {"a": feed_server.url("/a")}, "{interval: 1h, min_interval: 1s, build_every: 1s}"
    )
    with watching(tmp_path) as w:
        wait_until(lambda: has_post(tmp_path, "a item 0"), 20, w)
        write_config(tmp_path, {"a": feed_server.url("/a")}, FAST)
        w.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "config reloaded" in w.stderr(), 10, w)
        feed_server.route("/a", Response.rss(rss(entries("a", 2)), etag='"2"'))
        time.sleep(5)
        fetched = has_post(tmp_path, "a item 1")
        stop(w)
    assert fetched, f"hits: {feed_server.hits('/a')}"


# --- output ------------------------------------------------------------------------------


def test_a_failing_feed_does_not_flood_the_log(tmp_path: Path, feed_server: FeedServer) -> None:
    """A broken feed next to a healthy one: the failure backs off (doubling), so over 5 s it
    is reported a handful of times, not once per second, and status shows a next attempt
    in the future for both."""
    feed_server.route("/bad", Response(500, b"boom"))
    feed_server.route("/ok", Response.rss(rss(entries("o", 1)), etag='"1"'))
    config = write_config(
        tmp_path,
        {"bad": feed_server.url("/bad"), "ok": feed_server.url("/ok")},
        FAST,
        "fetch: {retries: 0}",
    )
    with watching(tmp_path) as w:
        wait_until(lambda: feed_server.hits("/bad") >= 1, 20, w)
        time.sleep(5)
        rows = status_rows(config)
        err = w.stderr()
        stop(w)
    failed = [line for line in err.splitlines() if "failed:" in line and "bad" in line]
    assert 1 <= len(failed) <= 5, failed
    now = datetime.now(UTC)
    for name in ("bad", "ok"):
        when = rows[name]["next_attempt"]
        assert when is not None and datetime.fromisoformat(str(when)) > now - timedelta(seconds=2)
    assert os.path.getsize(w.out) < 4000
