"""Reliability, run by run: backoff, Retry-After, instance health, --max-time, signals,
hostile XML, proxies, exit codes.

Every test drives whole runs against the loopback feed server with a real SQLite
state; where the command line is what is being tested it runs as a subprocess
(``python -m feedsite``). Pinned clocks go through ``run(config, now=..., seed=...)``.
Nothing leaves 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsite._run import RunResult, run
from feedsite._store import State
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, ForwardProxy, Response

#: A pinned clock, well away from the real one (so a stray wall-clock read shows).
T0 = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
SEED = 7
BACKOFF = timedelta(minutes=30)
FAST = "fetch: {timeout: 2, retries: 0}"
CLI_TIMEOUT = 30.0


# -- helpers -------------------------------------------------------------------------------


def feed_doc(tag: str, count: int = 1) -> bytes:
    """A small RSS document whose items are unique to ``tag``."""
    return rss([Entry(f"{tag}-{n}", f"{tag} item {n}") for n in range(count)], title=tag)


def write_config(project: Callable[[str], Path], feeds: dict[str, str], extra: str = FAST) -> Path:
    """``feedsite.yaml`` with every feed under ``c › s`` (values are YAML flow text)."""
    lines = "".join(f"      {name}: {value}\n" for name, value in feeds.items())
    return project(
        f"site: {{hexo_root: ./blog, timezone: UTC}}\n{extra}\nfeeds:\n  c:\n    s:\n{lines}"
    )


def label(name: str) -> str:
    return f"c › s › {name}"


def reports(result: RunResult) -> dict[str, Any]:
    """The run's feed reports by feed name (the last part of the label)."""
    return {r.label.split(" › ")[-1]: r for r in result.decision.reports}


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m feedsite ARGS`` and wait for it (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
    )


def cli_json(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    """``feedsite run -c CONFIG --json ARGS``: exit code and the parsed summary."""
    proc = cli("run", "-c", str(config), "--json", *args, env=env)
    assert proc.stdout, f"no JSON summary; exit {proc.returncode}; stderr:\n{proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


def status(config: Path) -> dict[str, dict[str, Any]]:
    """``feedsite status --json`` (a subprocess), by feed label."""
    proc = cli("status", "-c", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    for row in rows:
        assert {
            "feed",
            "last_success",
            "last_error",
            "consecutive_failures",
            "next_attempt",
        } <= row.keys()
    return {row["feed"]: row for row in rows}


def ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def assert_backoff(next_attempt: str | None, after: datetime, delay: timedelta) -> datetime:
    """``next_attempt`` is ``after + delay`` within the ±10 % jitter; returns it."""
    at = ts(next_attempt)
    assert at is not None, f"expected a next_attempt about {after + delay}, got none"
    low, high = after + delay * 0.9, after + delay * 1.1
    assert low <= at <= high, f"next_attempt {at} not within [{low}, {high}]"
    return at


def by_feed(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON summary's feeds by feed name."""
    return {f["feed"].split(" › ")[-1]: f for f in summary["feeds"]}


def posts_root(config: Path) -> Path:
    return config.parent / "blog/source/_posts"


def posts_of(config: Path, name: str) -> list[Path]:
    """The post files of feed ``c › s › name``."""
    folder = posts_root(config) / "c/s" / name
    return sorted(folder.glob("*.md")) if folder.is_dir() else []


def assert_complete_post(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path} does not start with front matter: {text[:80]!r}"
    assert text.endswith("</div>\n"), f"{path} is cut short: {text[-80:]!r}"


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``condition`` every 20 ms for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy() as running:
        yield running


# -- 1. backoff across runs ----------------------------------------------------------------


def test_backoff_across_runs_waits_retries_recovers_and_never_disables(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    feed_server.route("/down", Response(500, "boom"))
    feed_server.route("/up", Response.rss(feed_doc("up")))
    path = write_config(project, {"down": feed_server.url("/down"), "up": feed_server.url("/up")})
    config = load_config(path)

    # Run 1: the first failure is retried on the next run (no next_attempt).
    first = reports(run(config, now=T0, seed=SEED))
    assert first["down"].status == "failed" and "HTTP 500" in (first["down"].error or "")
    assert first["up"].status == "ok"
    assert feed_server.hits("/down") == 1
    row = status(path)[label("down")]
    assert row["consecutive_failures"] == 1
    assert row["next_attempt"] is None
    assert row["last_success"] is None
    assert "HTTP 500" in row["last_error"] and "/down" in row["last_error"]

    # Run 2 (one minute later) asks again; the second failure starts the backoff.
    t1 = T0 + timedelta(minutes=1)
    assert reports(run(config, now=t1, seed=SEED))["down"].status == "failed"
    assert feed_server.hits("/down") == 2
    rows = status(path)
    assert rows[label("down")]["consecutive_failures"] == 2
    next_at = assert_backoff(rows[label("down")]["next_attempt"], t1, BACKOFF)
    assert rows[label("up")]["consecutive_failures"] == 0
    assert ts(rows[label("up")]["last_success"]) == t1

    # Run 3, before next_attempt: the feed is not requested, and says why.
    t2 = t1 + timedelta(minutes=10)
    assert t2 < next_at
    waiting = reports(run(config, now=t2, seed=SEED))
    assert feed_server.hits("/down") == 2
    assert waiting["down"].status == "skipped"
    assert "waiting" in (waiting["down"].error or "")
    assert waiting["up"].status == "ok"  # the others carry on
    row = status(path)[label("down")]
    assert row["consecutive_failures"] == 2
    assert ts(row["next_attempt"]) == next_at  # a wait changes nothing

    # After next_attempt it is tried again, and the wait doubles each time up to the cap.
    # It is never disabled: every due run asks for it.
    failures, now = 2, next_at
    for _ in range(7):  # failures 3..9: 1 h, 2 h, 4 h, 8 h, 16 h, then the 24 h cap
        now = now + timedelta(minutes=1)
        hits = feed_server.hits("/down")
        assert reports(run(config, now=now, seed=SEED))["down"].status == "failed"
        assert feed_server.hits("/down") == hits + 1
        failures += 1
        row = status(path)[label("down")]
        assert row["consecutive_failures"] == failures
        delay = min(timedelta(hours=24), BACKOFF * 2 ** (failures - 2))
        now = assert_backoff(row["next_attempt"], now, delay)

    # It recovers: failures reset, next_attempt cleared, posts written.
    feed_server.route("/down", Response.rss(feed_doc("down", 2)))
    now = now + timedelta(minutes=1)
    back = reports(run(config, now=now, seed=SEED))
    assert back["down"].status == "ok" and back["down"].posts.new == 2
    row = status(path)[label("down")]
    assert row["consecutive_failures"] == 0
    assert row["next_attempt"] is None
    assert row["last_error"] is None
    assert ts(row["last_success"]) == now
    assert len(posts_of(path, "down")) == 2
    # ...and the very next run asks for it again.
    hits = feed_server.hits("/down")
    run(config, now=now + timedelta(minutes=1), seed=SEED)
    assert feed_server.hits("/down") == hits + 1


def test_cli_run_honours_the_pinned_clock_and_seed(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """``feedsite run --now/--seed`` pin the run's clock and jitter."""
    feed_server.route("/down", Response(500, "boom"))
    path = write_config(project, {"down": feed_server.url("/down")})
    pinned = (f"--now={T0.isoformat()}", f"--seed={SEED}")

    cli_json(path, *pinned)
    cli_json(path, *pinned)
    row = status(path)[label("down")]
    assert row["consecutive_failures"] == 2
    assert ts(row["last_attempt"]) == T0, "feedsite run ignored --now"
    assert_backoff(row["next_attempt"], T0, BACKOFF)
    # Same pinned time: still before next_attempt, so the feed waits.
    code, summary = cli_json(path, *pinned)
    assert feed_server.hits("/down") == 2
    assert by_feed(summary)["down"]["status"] == "skipped"
    assert code == 0


# -- 2. Retry-After longer than the run can wait ------------------------------------------

RETRY_LATER = Response(503, "busy", headers={"Retry-After": "7200"})


def test_retry_after_past_the_budget_defers_without_a_failure(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """Real clock: the deferral is stored and honoured by the next run."""
    feed_server.route("/busy", [Response(500, "boom"), RETRY_LATER])
    path = write_config(project, {"busy": feed_server.url("/busy")})
    config = load_config(path)

    assert reports(run(config))["busy"].status == "failed"  # one failure on record
    before = datetime.now(UTC)
    started = time.monotonic()
    deferred = reports(run(config))["busy"]
    assert time.monotonic() - started < 5  # it did not sleep the two hours
    after = datetime.now(UTC)
    assert deferred.status == "deferred", deferred.error
    assert "Retry-After" in (deferred.error or "")
    row = status(path)[label("busy")]
    assert row["consecutive_failures"] == 1  # unchanged: a deferral is not a failure
    at = ts(row["next_attempt"])
    assert at is not None
    assert before + timedelta(seconds=7200) - timedelta(seconds=1) <= at
    assert at <= after + timedelta(seconds=7200) + timedelta(seconds=2)

    waiting = reports(run(config))["busy"]
    assert feed_server.hits("/busy") == 2
    assert waiting.status == "skipped" and "waiting" in (waiting.error or "")


def test_retry_after_deferral_follows_the_runs_clock(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """Pinned clock: next_attempt is the run's now + 2 h, and the next run waits for it."""
    feed_server.route("/busy", RETRY_LATER)
    path = write_config(project, {"busy": feed_server.url("/busy")})
    config = load_config(path)

    deferred = reports(run(config, now=T0, seed=SEED))["busy"]
    assert deferred.status == "deferred", deferred.error
    row = status(path)[label("busy")]
    assert row["consecutive_failures"] == 0
    at = ts(row["next_attempt"])
    expected = T0 + timedelta(hours=2)
    assert at is not None and abs(at - expected) <= timedelta(seconds=5), (
        f"next_attempt {at}, expected about {expected} (the run's now + Retry-After)"
    )

    waiting = reports(run(config, now=T0 + timedelta(minutes=1), seed=SEED))["busy"]
    assert feed_server.hits("/busy") == 1, "the deferred feed was requested before its time"
    assert waiting.status == "skipped" and "waiting" in (waiting.error or "")

    feed_server.route("/busy", Response.rss(feed_doc("busy")))
    later = reports(run(config, now=T0 + timedelta(hours=2, minutes=1), seed=SEED))["busy"]
    assert feed_server.hits("/busy") == 2
    assert later.status == "ok"


# -- 3. healthy RSSHub instances first ----------------------------------------------------


def instance_failures(config_path: Path) -> dict[str, int]:
    config = load_config(config_path)
    with State.open(config.state_path) as state:
        return state.instance_failures()


def test_healthy_instance_is_asked_first_and_the_order_adapts(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    a, b = feed_server.url("/a"), feed_server.url("/b")
    routes = ["r1", "r2", "r3"]

    def serve(broken: str, healthy: str, names: list[str]) -> None:
        for name in names:
            feed_server.route(f"/{broken}/{name}", Response(502, "bad gateway"))
            feed_server.route(f"/{healthy}/{name}", Response.rss(feed_doc(name)))

    def configure(names: list[str]) -> Path:
        return write_config(
            project,
            {name: f"/{name}" for name in names},
            f"{FAST}\nrsshub: {{instances: [{a}, {b}]}}",
        )

    def hits(instance: str, names: list[str]) -> int:
        return sum(feed_server.hits(f"/{instance}/{name}") for name in names)

    serve("a", "b", routes)
    path = configure(routes)
    first = run(load_config(path))
    assert all(r.status == "ok" for r in first.decision.reports)
    assert hits("a", routes) == 3 and hits("b", routes) == 3  # A first (config order), then B
    assert instance_failures(path) == {a: 1, b: 0}

    # Run 2, with a fourth feed that has no preferred instance yet: nobody asks A.
    everything = [*routes, "r4"]
    serve("a", "b", ["r4"])
    feed_server.reset()
    path = configure(everything)
    second = run(load_config(path))
    assert all(r.status == "ok" for r in second.decision.reports)
    assert hits("a", everything) == 0, [r.path for r in feed_server.requests]
    assert hits("b", everything) == 4
    assert instance_failures(path)[a] == 1  # not asked: not counted again

    # A recovers, B breaks: run 3 asks B first (last good), fails over to A.
    serve("b", "a", everything)
    feed_server.reset()
    third = run(load_config(path))
    assert all(r.status == "ok" for r in third.decision.reports)
    for name in everything:
        order = [r.path for r in feed_server.requests if r.path.endswith(f"/{name}")]
        assert order == [f"/b/{name}", f"/a/{name}"]
    assert instance_failures(path) == {a: 0, b: 1}

    # Run 4: A is the healthy one now; B gets no request.
    feed_server.reset()
    fourth = run(load_config(path))
    assert all(r.status == "ok" for r in fourth.decision.reports)
    assert hits("b", everything) == 0
    assert hits("a", everything) == 4


# -- 4. --max-time ------------------------------------------------------------------------

SLOW_FEEDS = 12
SLOW = 0.5


def slow_project(feed_server: FeedServer, project: Callable[[str], Path]) -> Path:
    for n in range(SLOW_FEEDS):
        feed_server.route(f"/f{n:02}", Response.rss(feed_doc(f"f{n:02}"), delay=SLOW))
    return write_config(
        project,
        {f"f{n:02}": feed_server.url(f"/f{n:02}") for n in range(SLOW_FEEDS)},
        "fetch: {timeout: 2, retries: 0, concurrency: 1, per_host: 1}",
    )


def answer_at_once(feed_server: FeedServer) -> None:
    for n in range(SLOW_FEEDS):
        feed_server.route(f"/f{n:02}", Response.rss(feed_doc(f"f{n:02}")))


def check_deadline_split(
    path: Path, feed_server: FeedServer, statuses: dict[str, str], errors: dict[str, str]
) -> list[str]:
    """Some feeds ok, the rest skipped for the deadline, posts only for the ok ones."""
    ok = sorted(name for name, s in statuses.items() if s == "ok")
    skipped = sorted(name for name, s in statuses.items() if s == "skipped")
    assert 1 <= len(ok) <= 5, statuses
    assert len(ok) + len(skipped) == SLOW_FEEDS, statuses
    assert all("deadline" in (errors[name] or "") for name in skipped), errors
    for name in statuses:
        assert len(posts_of(path, name)) == (1 if name in ok else 0), name
        assert feed_server.hits(f"/{name}") == (1 if name in ok else 0), name
    return skipped


def test_max_time_cli_stops_starting_feeds(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    path = slow_project(feed_server, project)
    started = time.monotonic()
    code, summary = cli_json(path, "--max-time", "1.2")
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 4.5, f"took {elapsed:.1f} s: --max-time 1.2 was not honoured"
    feeds = by_feed(summary)
    skipped = check_deadline_split(
        path,
        feed_server,
        {name: f["status"] for name, f in feeds.items()},
        {name: f["error"] for name, f in feeds.items()},
    )
    assert summary["feeds_skipped"] == len(skipped)

    # The next run fetches the ones left over (answering at once now, to keep it short).
    answer_at_once(feed_server)
    code, again = cli_json(path)
    assert code == 0
    feeds = by_feed(again)
    for name in skipped:
        assert feeds[name]["status"] == "ok" and feeds[name]["new"] == 1, feeds[name]
        assert len(posts_of(path, name)) == 1


def test_max_time_in_process(feed_server: FeedServer, project: Callable[[str], Path]) -> None:
    path = slow_project(feed_server, project)
    config = load_config(path)
    started = time.monotonic()
    result = run(config, max_time=1.2)
    assert time.monotonic() - started < 4.0
    got = reports(result)
    skipped = check_deadline_split(
        path,
        feed_server,
        {name: r.status for name, r in got.items()},
        {name: r.error for name, r in got.items()},
    )
    answer_at_once(feed_server)
    again = reports(run(config))
    assert all(again[name].status == "ok" and again[name].posts.new == 1 for name in skipped)


# -- 5. SIGTERM / SIGINT while fetching ---------------------------------------------------

QUICK = ["q1", "q2", "q3"]
HANGING = ["h1", "h2", "h3"]
HANG = 6.0  # longer than the 5 s a prompt stop is allowed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_while_fetching_keeps_finished_feeds(
    sig: signal.Signals, feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    for name in QUICK:
        feed_server.route(f"/{name}", Response.rss(feed_doc(name, 2)))
    for name in HANGING:
        feed_server.route(f"/{name}", Response.rss(feed_doc(name, 2), delay=HANG))
    path = write_config(
        project,
        {name: feed_server.url(f"/{name}") for name in [*QUICK, *HANGING]},
        "fetch: {timeout: 10, retries: 0, concurrency: 8, per_host: 8}",
    )

    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsite", "run", "-c", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        wait_for(
            lambda: all(feed_server.hits(f"/{n}") for n in [*QUICK, *HANGING]),
            15,
            "every feed to be requested",
        )
        time.sleep(0.5)  # the quick answers are parsed by now; the hanging ones still wait
        assert proc.poll() is None, "the run ended before the signal"
        proc.send_signal(sig)
        signalled = time.monotonic()
        out, err = proc.communicate(timeout=15)
        stop_took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)

    assert stop_took < 5, f"exit took {stop_took:.1f} s after {sig.name}"
    assert proc.returncode == 0, f"exit {proc.returncode}; stderr:\n{err}"
    summary = json.loads(out)
    assert summary["stopped_by"] == sig.name
    feeds = by_feed(summary)
    for name in QUICK:
        assert feeds[name]["status"] == "ok" and feeds[name]["new"] == 2, feeds[name]
        files = posts_of(path, name)
        assert len(files) == 2
        for file in files:
            assert_complete_post(file)
    for name in HANGING:
        assert feeds[name]["status"] == "skipped", feeds[name]
        assert sig.name in (feeds[name]["error"] or ""), feeds[name]
        assert posts_of(path, name) == []
    assert list(posts_root(path).rglob(".feedsite-*.tmp")) == []

    # The state is consistent: a normal run writes the rest and restores nothing.
    for name in HANGING:
        feed_server.route(f"/{name}", Response.rss(feed_doc(name, 2)))
    code, again = cli_json(path)
    assert code == 0
    assert again["stopped_by"] is None
    assert again["posts_restored"] == 0
    feeds = by_feed(again)
    for name in QUICK:
        assert (feeds[name]["new"], feeds[name]["restored"], feeds[name]["unchanged"]) == (0, 0, 2)
    for name in HANGING:
        assert feeds[name]["status"] == "ok" and feeds[name]["new"] == 2, feeds[name]
        for file in posts_of(path, name):
            assert_complete_post(file)
    assert list(posts_root(path).rglob(".feedsite-*.tmp")) == []


# -- 6. XXE and entity bombs through a whole run ------------------------------------------


def xxe(system_id: str, tag: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{system_id}">]>\n'
        '<rss version="2.0"><channel><title>t &xxe;</title>'
        "<link>https://example.org/</link><description>&xxe;</description>"
        f"<item><title>{tag} &xxe;</title><guid>{tag}-1</guid>"
        f"<link>https://example.org/{tag}</link>"
        "<description>before &xxe; after</description></item>"
        "</channel></rss>"
    ).encode()


def parameter_xxe(system_id: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rss [<!ENTITY % ext SYSTEM "{system_id}"> %ext;]>\n'
        '<rss version="2.0"><channel><title>p</title><link>https://example.org/</link>'
        "<description>d</description><item><title>param</title><guid>param-1</guid>"
        "<description>param body</description></item></channel></rss>"
    ).encode()


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [' + "".join(entities) + "]>\n"
        '<rss version="2.0"><channel><title>&lol9;</title><link>https://example.org/</link>'
        "<description>&lol9;</description><item><title>laughs &lol9;</title>"
        "<guid>laughs-1</guid><description>&lol9;&lol9;</description></item>"
        "</channel></rss>"
    ).encode()


def quadratic_blowup() -> bytes:
    big = "A" * 1000  # 1 KB, 100,000 times: 100 MB once expanded
    refs = "&big;" * 100_000
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY big "' + big + '">]>\n'
        '<rss version="2.0"><channel><title>q</title><link>https://example.org/</link>'
        f"<description>d</description><item><title>quadratic</title><guid>quad-1</guid>"
        f"<description>{refs}</description></item></channel></rss>"
    ).encode()


def html_doctype_xxe(system_id: str) -> bytes:
    """An entity declared inside the item's HTML (CDATA), for the HTML cleaner."""
    body = f'<!DOCTYPE html [<!ENTITY x SYSTEM "{system_id}">]><p>html &x; body</p>'
    return rss([Entry("htmlxxe-1", "html xxe", body=body)], title="html xxe")


#: Runs the CLI and records its own peak RSS (VmHWM of its memory after exec): the
#: rusage of a child would include the pages it shared with pytest when forked.
_MEASURED_MAIN = """
import sys
from feedsite.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")))
sys.exit(code)
"""


def run_measured(args: list[str], out: Path, timeout: float) -> tuple[int, float, int]:
    """Run ``feedsite ARGS`` to the end (bounded): exit code, seconds, peak RSS in bytes."""
    hwm = out.with_suffix(".hwm")
    with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURED_MAIN, str(hwm), *args],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "NO_COLOR": "1"},
        )
    started = time.monotonic()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"{args} still running after {timeout} s")
    seconds = time.monotonic() - started
    kib = int(hwm.read_text().split()[1])
    return proc.returncode, seconds, kib * 1024


def test_xxe_and_entity_bombs_through_a_run(
    feed_server: FeedServer, project: Callable[[str], Path], tmp_path: Path
) -> None:
    secret_text = "S3CRET-d41d8cd98f00b204e9800998ecf8427e"
    secret = tmp_path / "secret.txt"
    secret.write_text(secret_text + "\n", encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY leak SYSTEM "{secret.as_uri()}">', encoding="utf-8")
    documents = {
        "passwd": xxe("file:///etc/passwd", "passwd"),
        "secret": xxe(secret.as_uri(), "secret"),
        "relative": xxe("secret.txt", "relative"),
        "param": parameter_xxe(dtd.as_uri()),
        "laughs": billion_laughs(),
        "quadratic": quadratic_blowup(),
        "htmlxxe": html_doctype_xxe(secret.as_uri()),
        "good": feed_doc("good"),
    }
    for name, body in documents.items():
        feed_server.route(f"/{name}", Response.rss(body))
    feeds = {name: feed_server.url(f"/{name}") for name in documents}
    feeds["local"] = "{path: ./hostile.xml}"  # the same attack from a file beside the config
    path = write_config(project, feeds)
    (path.parent / "hostile.xml").write_bytes(xxe(secret.as_uri(), "local"))

    out = tmp_path / "run.json"
    code, seconds, peak = run_measured(["run", "-c", str(path), "--json"], out, timeout=30)
    err = out.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
    assert seconds < 5, f"run took {seconds:.1f} s"
    assert peak < 300 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MB"
    assert code == 0, err
    summary = json.loads(out.read_text(encoding="utf-8"))
    statuses = {name: f["status"] for name, f in by_feed(summary).items()}
    assert statuses["good"] == "ok"
    assert set(statuses) == {*documents, "local"}

    files = list(posts_root(path).rglob("*.md"))
    assert files, "not even the good feed was written"
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert "root:" not in text, file
        assert secret_text not in text, file
        assert "lollollollol" not in text, file
        assert "A" * 1000 not in text, file
        assert file.stat().st_size < 64 * 1024, file
    state_bytes = load_config(path).state_path.read_bytes()
    assert b"root:x:" not in state_bytes and secret_text.encode() not in state_bytes
    assert "root:" not in out.read_text(encoding="utf-8")
    assert secret_text not in out.read_text(encoding="utf-8")


# -- 7. proxies per feed ------------------------------------------------------------------


def test_proxy_per_feed_through_a_run(
    feed_server: FeedServer, project: Callable[[str], Path], proxy: ForwardProxy
) -> None:
    with ForwardProxy() as global_proxy:
        urls = {}
        for name in ("via", "direct", "inherits"):
            urls[name] = feed_server.route(f"/{name}", Response.rss(feed_doc(name)))
        feed_server.route("/rsshub/routed", Response.rss(feed_doc("routed")))
        instance = feed_server.url("/rsshub")
        path = write_config(
            project,
            {
                "via": f"{{url: {urls['via']}, proxy: {proxy.url}}}",
                "direct": f'{{url: {urls["direct"]}, proxy: ""}}',
                "inherits": urls["inherits"],
                "routed": f"{{route: /routed, proxy: {proxy.url}}}",
            },
            f"fetch: {{timeout: 2, retries: 0, proxy: {global_proxy.url}}}\n"
            f"rsshub: {{instances: [{instance}]}}",
        )
        got = reports(run(load_config(path)))

        assert {name: r.status for name, r in got.items()} == dict.fromkeys(
            ("via", "direct", "inherits", "routed"), "ok"
        )
        assert sorted(proxy.targets) == sorted([urls["via"], instance + "/routed"])
        assert global_proxy.targets == [urls["inherits"]]
        assert feed_server.hits("/direct") == 1  # it reached the server, through no proxy
        for name in ("via", "direct", "inherits", "routed"):
            assert len(posts_of(path, name)) == 1


# -- 8. exit codes ------------------------------------------------------------------------


def test_exit_1_when_every_feed_fails(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    feed_server.route("/e500", Response(500, "boom"))
    feed_server.route("/html", Response.html())
    path = write_config(
        project, {"e500": feed_server.url("/e500"), "html": feed_server.url("/html")}
    )
    code, summary = cli_json(path)
    assert code == 1
    assert summary["feeds_failed"] == 2 and summary["feeds_ok"] == 0


def test_exit_0_when_feeds_are_only_deferred_or_waiting(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """Deferred or skipped feeds are not failures: with none failed, exit 0 (even --strict)."""
    feed_server.route("/busy", RETRY_LATER)
    path = write_config(project, {"busy": feed_server.url("/busy")})
    code, summary = cli_json(path)
    assert (code, summary["feeds_deferred"], summary["feeds_failed"]) == (0, 1, 0)
    code, summary = cli_json(path, "--strict")
    assert (code, summary["feeds_skipped"], summary["feeds_failed"]) == (0, 1, 0)
    assert feed_server.hits("/busy") == 1


def test_exit_codes_with_failures_deferrals_and_waits(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """Nothing succeeded and every feed that was tried failed: 1. Nothing tried at all: 0."""
    feed_server.route("/busy", RETRY_LATER)
    feed_server.route("/down", Response(500, "boom"))
    path = write_config(
        project, {"busy": feed_server.url("/busy"), "down": feed_server.url("/down")}
    )

    code, summary = cli_json(path)  # busy deferred, down failed (1st)
    assert (summary["feeds_deferred"], summary["feeds_failed"]) == (1, 1)
    assert code == 1
    code, summary = cli_json(path)  # busy waits, down failed (2nd: backs off)
    assert (summary["feeds_skipped"], summary["feeds_failed"]) == (1, 1)
    assert code == 1
    code, summary = cli_json(path)  # both wait: nothing was tried, nothing failed
    assert (summary["feeds_skipped"], summary["feeds_failed"]) == (2, 0)
    assert code == 0
    assert (feed_server.hits("/busy"), feed_server.hits("/down")) == (1, 2)
    proc = cli("run", "-c", str(path))  # the human summary says why each one waits
    assert proc.returncode == 0
    assert proc.stderr.count("skipped:") == 2 and "waiting" in proc.stderr
