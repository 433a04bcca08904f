"""What feedsite prints: text from feeds, servers and the state is plain, clean text.

Feed labels come from the trusted config; item titles, error messages, server strings
and paths do not. None of it is read as rich markup, and terminal control sequences
never reach the terminal or the logs (issue #10 row 7).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from feedsite.cli import _clean, _plain
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

HOSTILE = "[/bogus] [link=https://evil.example/]click[/link] \x1b]0;pwned\x07\x1b[2J\x9b31m end"

CONFIG = """
site: {{hexo_root: ./blog, timezone: UTC}}
feeds:
  新闻:
    好:
      一: {{url: {good}}}
    坏:
      二: {{url: {bad}}}
"""


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "250"},
    )


def assert_clean(text: str) -> None:
    """No escape sequence, C0 (but tab/newline), DEL or C1 control in ``text``."""
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, f"control characters {bad!r} in {text!r}"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07\x1b[2Jnext", "next"),  # OSC (window title) then clear screen
        ("a\x1b[31mred\x1b[0m b", "ared b"),
        ("x\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\y", "xlinky"),  # OSC 8 hyperlink
        ("c1\x9b2Jcsi\x85", "c12Jcsi"),
        ("tab\tnew\nline\x00\x7f\x08", "tab\tnew\nline"),
        ("bidi \u202eevil\u2066", "bidi evil"),
        ("lone \ud800surrogate", "lone surrogate"),
        ("[/bogus] [link=https://e.example]x[/link]", "[/bogus] [link=https://e.example]x[/link]"),
    ],
)
def test_clean_removes_control_sequences_and_keeps_markup_as_text(raw: str, shown: str) -> None:
    """issue #10 row 7: `\\x1b]0;…\\x07\\x1b[2J` in a title reached the terminal raw."""
    assert _clean(raw) == shown
    text = _plain(raw)
    assert text.plain == shown
    assert not text.spans  # never parsed as markup: no style, no link


def test_clean_redacts_secrets() -> None:
    """issue #10 row 12: messages never show a URL's password or access key."""
    cleaned = _clean("http://user:pw@h.example/r?key=SECRET&token=T2&x=1 failed")
    assert "pw" not in cleaned and "SECRET" not in cleaned and "T2" not in cleaned
    assert "x=1" in cleaned


@pytest.fixture
def hostile_project(feed_server: FeedServer, project: Callable[[str], Path]) -> Callable[[], Path]:
    def make() -> Path:
        feed_server.route("/good", Response.rss(rss([Entry("a", "A")])))
        # An error page whose <title> holds rich markup: it ends up in the failure message.
        feed_server.route(
            "/bad", Response.html(f"<html><head><title>{HOSTILE}</title></head></html>")
        )
        return project(CONFIG.format(good=feed_server.url("/good"), bad=feed_server.url("/bad")))

    return make


def test_run_prints_a_failure_with_markup_in_the_servers_title(
    hostile_project: Callable[[], Path],
) -> None:
    """issue #10 row 7: `[/bogus]` in a server error page's <title> made `run` end with a
    rich MarkupError (exit 1, summary lost)."""
    config = hostile_project()
    done = run_cli("run", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "MarkupError" not in done.stderr and "Traceback" not in done.stderr
    assert "failed: 新闻 › 坏 › 二" in done.stderr
    assert "[/bogus]" in done.stderr  # shown as it is
    assert "feedsite run" in done.stdout  # the summary table is printed
    assert_clean(done.stdout + done.stderr)


def test_status_prints_stored_errors_as_plain_clean_text(
    hostile_project: Callable[[], Path],
) -> None:
    """issue #10 row 7: a stored error holding `[/bogus]` crashed every `feedsite status`; an
    older state may hold raw escape sequences and secrets too (printed cleaned, redacted)."""
    config = hostile_project()
    assert run_cli("run", "-c", str(config)).returncode == 0
    state = config.parent / ".feedsite" / "state.sqlite"
    stored = f"http://u:CANARYPW@h.example/r?key=CANARYKEY: {HOSTILE}"
    with sqlite3.connect(state) as db:
        db.execute("UPDATE feeds SET last_error = ?", (stored,))
    db.close()

    done = run_cli("status", "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "[/bogus]" in done.stdout
    assert "[link=https://evil.example/]click[/link]" in done.stdout  # not a hyperlink
    assert "pwned" not in done.stdout  # the OSC string (a window title) is gone whole
    assert "CANARYPW" not in done.stdout and "CANARYKEY" not in done.stdout
    assert_clean(done.stdout + done.stderr)

    done = run_cli("status", "-c", str(config), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert all("CANARY" not in (r["last_error"] or "") for r in rows)
    assert all(r["last_error"] and "[/bogus]" in r["last_error"] for r in rows)
    assert_clean(json.dumps(rows, ensure_ascii=False))


def test_run_on_a_terminal_shows_its_progress_and_writes_the_posts(tmp_path: Path) -> None:
    # A real pseudo-terminal: stderr is a tty, so the run draws rich's progress bar (the
    # path cron, pipes and every other test here never take).
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss([Entry("a", "第一条", None, "<p>正文</p>")]))
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        "site: {hexo_root: ./blog, timezone: UTC}\n"
        f"feeds:\n  新闻:\n    站:\n      源: {{path: {feed.name}}}\n",
        encoding="utf-8",
    )
    controller, terminal = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsite", "run", "-c", str(config)],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=tmp_path,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"},
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        code = proc.wait(timeout=60)
    finally:
        os.close(controller)
    text = shown.decode(errors="replace")
    assert code == 0, text
    assert "Traceback" not in text and "TypeError" not in text
    assert len(list((tmp_path / "blog" / "source" / "_posts").rglob("*.md"))) == 1
    assert "\x1b[?25h" in text or "\x1b[?25l" not in text  # the cursor is given back
