"""The command line: exit codes, JSON output, config errors, the lock."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from feedsite.cli import main
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

GOOD_AND_BAD = """
site: {{hexo_root: ./blog, timezone: UTC}}
feeds:
  新闻:
    好:
      一: {{url: {good}}}
    坏:
      二: {{url: {bad}}}
"""


def run_cli(*args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def two_feeds(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> Callable[[Response], Path]:
    def make(bad: Response) -> Path:
        feed_server.route("/good", Response.rss(rss([Entry("a", "A")])))
        feed_server.route("/bad", bad)
        return project(
            GOOD_AND_BAD.format(good=feed_server.url("/good"), bad=feed_server.url("/bad"))
        )

    return make


def test_one_failure_among_good_feeds_exits_0_and_json_reports_it(
    two_feeds: Callable[[Response], Path],
) -> None:
    config = two_feeds(Response(500, "boom"))
    code, out, err = run_cli("run", "-c", str(config), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["feeds_ok"] == 1 and data["feeds_failed"] == 1 and data["posts_new"] == 1
    failed = [f for f in data["feeds"] if f["status"] == "failed"]
    assert failed[0]["feed"] == "新闻 › 坏 › 二"
    assert "500" in failed[0]["error"] and "/bad" in failed[0]["error"]


def test_strict_exits_1_when_any_feed_failed(two_feeds: Callable[[Response], Path]) -> None:
    config = two_feeds(Response(500, "boom"))
    assert main(["run", "-c", str(config), "--strict"]) == 1


def test_all_failed_exits_1(feed_server: FeedServer, project: Callable[[str], Path]) -> None:
    feed_server.route("/x", Response(503))
    config = project(
        f"""
        feeds:
          a:
            b:
              c: {{url: {feed_server.url("/x")}}}
        """
    )
    code, _out, err = run_cli("run", "-c", str(config))
    assert code == 1
    assert "503" in err and "a › b › c" in err


def test_summary_table_on_stdout(two_feeds: Callable[[Response], Path]) -> None:
    config = two_feeds(Response.html("<html><body>not a feed</body></html>"))
    code, out, err = run_cli("run", "-c", str(config))
    assert code == 0
    assert "new" in out and "failed" in out
    assert "not a feed" in err


@pytest.mark.parametrize(
    ("text", "key_path", "line"),
    [
        ("site:\n  profle: default\nfeeds: {a: {b: {c: /r}}}\n", "site.profle", 2),
        ("feeds:\n  a:\n    b:\n      c: {url: ftp://x}\n", "feeds.a.b.c", 4),
        ("feeds:\n  a:\n    b:\n      c: /route\n", "feeds.a.b.c", 4),
    ],
)
def test_config_errors_exit_2_naming_key_and_line(
    tmp_path: Path, text: str, key_path: str, line: int
) -> None:
    config = tmp_path / "feedsite.yaml"
    config.write_text(text, encoding="utf-8")
    code, _out, err = run_cli("run", "-c", str(config))
    assert code == 2
    assert key_path in err and f"line {line}" in err


def test_missing_config_exits_2(tmp_path: Path) -> None:
    code, _out, err = run_cli("run", "-c", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "nope.yaml" in err


def test_usage_error_exits_2() -> None:
    assert main(["frobnicate"]) == 2


def test_check_lists_the_tree(
    project: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(
        """
        feeds:
          编程:
            掘金:
              前端: {url: https://example.org/feed.xml}
        """
    )
    assert main(["check", "-c", str(config), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["feeds"][0]["category"] == "编程" and data["feeds"][0]["feed"] == "前端"
    assert any("timezone" in w for w in data["warnings"])


def test_second_run_while_locked_exits_3(two_feeds: Callable[[Response], Path]) -> None:
    config = two_feeds(Response(500))
    lock = config.parent / ".feedsite/state.sqlite.lock"
    lock.parent.mkdir(parents=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        code, _out, err = run_cli("run", "-c", str(config))
    finally:
        os.close(fd)
    assert code == 3
    assert "another feedsite run" in err


def test_remove_unknown_id_exits_2(two_feeds: Callable[[Response], Path]) -> None:
    config = two_feeds(Response(500))
    assert main(["run", "-c", str(config)]) == 0
    assert main(["remove", "-c", str(config), "0000000000000000"]) == 2


def test_check_takes_the_timezone_from_hexo_config(
    project: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config = project("site: {hexo_root: ./blog}\nfeeds: {a: {b: {c: 'https://e.org/f'}}}\n")
    (config.parent / "blog").mkdir()
    (config.parent / "blog/_config.yml").write_text("timezone: Asia/Shanghai\n")
    assert main(["check", "-c", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []


def test_version_matches_pyproject() -> None:
    import tomllib

    from feedsite import __version__

    root = Path(__file__).resolve().parents[1]
    with open(root / "pyproject.toml", "rb") as f:
        assert tomllib.load(f)["project"]["version"] == __version__


def test_run_build_and_build_native(project: Callable[[str], Path], tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([Entry("a", "Alpha"), Entry("b", "Beta")]))
    config = project(
        "site: {hexo_root: ./blog, timezone: UTC, targets: [native]}\n"
        "native: {out: ./public, search: false, base_url: 'https://n.example/news'}\n"
        "feeds: {a: {b: {c: {path: f.xml}}}}\n"
    )
    code, out, err = run_cli("run", "-c", str(config), "--build")
    assert code == 0, err
    assert (tmp_path / "public/index.html").is_file()
    assert "native site: 2 posts" in out + err
    code, out, _ = run_cli("build", "-c", str(config), "--out", str(tmp_path / "other"))
    assert code == 0 and (tmp_path / "other/sitemap.xml").is_file()
    assert "https://n.example/news/" in (tmp_path / "other/sitemap.xml").read_text()
    code, _, err = run_cli("build", "-c", str(config), "--target", "hexo")
    assert code == 4 and "feedsite init --target hexo" in err, err  # EXIT_BUILD


def test_a_failed_build_after_a_good_ingest_exits_4(
    project: Callable[[str], Path], tmp_path: Path
) -> None:
    """issue #15: a target build that failed after a good ingest exited 2 (a usage error).
    It exits 4 (EXIT_BUILD), and the run's summary is still printed."""
    from feedsite.cli import EXIT_BUILD, EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE

    assert EXIT_BUILD not in (0, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED)
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([Entry("a", "Alpha"), Entry("b", "Beta")]))
    (tmp_path / "public").write_text("a file where the site's folder goes", encoding="utf-8")
    config = project(
        "site: {hexo_root: ./blog, timezone: UTC, targets: [native]}\n"
        "native: {out: ./public, search: false, base_url: 'https://n.example/'}\n"
        "feeds: {a: {b: {c: {path: f.xml}}}}\n"
    )
    code, out, err = run_cli("run", "-c", str(config), "--build")
    assert code == EXIT_BUILD == 4, err
    assert "native build failed: cannot build the site into" in err
    assert "it is a file, not a folder" in err
    assert "new" in out and "│ 2 │" in out  # the ingest's summary: 2 new posts
    code, out, err = run_cli("build", "-c", str(config))
    assert code == 4 and "native build failed" in err, err
    assert "native site:" not in out
    # A write that fails midway (a file where the assets folder goes), then the build after
    # it (which settles what the failed one left): exit 4 each time, no traceback.
    (tmp_path / "public").unlink()
    (tmp_path / "public").mkdir()
    (tmp_path / "public/assets").write_text("in the way", encoding="utf-8")
    for says in ("cannot write", "cannot settle the last build's files"):
        code, out, err = run_cli("build", "-c", str(config))
        assert code == 4 and f"native build failed: {says}" in err, err
        assert "Not a directory" in err and "Traceback" not in err
    (tmp_path / "public/assets").unlink()
    code, out, err = run_cli("build", "-c", str(config))
    assert code == 0 and "native site: 2 posts" in out, err


def test_native_build_summary_counts_add_up(project: Callable[[str], Path], tmp_path: Path) -> None:
    """issue #15: "written/unchanged" did not add up to the first build's total (the search
    index's files were counted as pages written). Written + unchanged = the pages; the
    search index is counted apart."""
    import re

    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([Entry("a", "Alpha news"), Entry("b", "Beta news")]))
    config = project(
        "site: {hexo_root: ./blog, timezone: UTC, targets: [native]}\n"
        "native: {out: ./public, search: true, base_url: 'https://n.example/'}\n"
        "feeds: {a: {b: {c: {path: f.xml}}}}\n"
    )
    code, _, err = run_cli("run", "-c", str(config))
    assert code == 0, err
    site = tmp_path / "public"
    summary = re.compile(
        r"native site: 2 posts; (\d+) pages written \+ (\d+) unchanged = (\d+) pages,"
        r" (\d+) deleted(?:; search index: (\d+) files written, (\d+) deleted)?; "
    )
    code, out, err = run_cli("build", "-c", str(config))
    assert code == 0, err
    m = summary.search(out)
    assert m, out
    written, unchanged, pages, deleted = (int(m[i]) for i in range(1, 5))
    files = [f.relative_to(site).as_posix() for f in site.rglob("*") if f.is_file()]
    index = [f for f in files if f.startswith("searchindex/")]
    assert (written, unchanged, deleted) == (pages, 0, 0)
    assert pages == len(files) - len(index) and index
    assert m[5] is not None and int(m[5]) == len(index)
    code, out, err = run_cli("build", "-c", str(config))
    assert code == 0, err
    m = summary.search(out)
    assert m and (int(m[1]), int(m[2]), int(m[3])) == (0, pages, pages), out
    assert m[5] is None  # nothing of the index changed: not mentioned


def test_serve_on_a_port_in_use_says_so_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "_site").mkdir()
    (tmp_path / "_site" / "index.html").write_text("<p>x</p>", encoding="utf-8")
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        "site: {hexo_root: ./blog, timezone: UTC, targets: [native]}\n"
        "native: {out: ./_site}\nfeeds: {c: {s: {f: /r}}}\n"
        "rsshub: {instances: ['http://127.0.0.1:9']}\n",
        encoding="utf-8",
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = run_cli("serve", "-c", str(config), "--port", str(port))
    assert code == 2, err
    assert f"cannot serve on 127.0.0.1:{port}" in out and "--port" in out
    assert "Traceback" not in out + err


def test_durations_on_the_command_line_take_days_too() -> None:
    import argparse

    from feedsite.cli import _seconds

    assert [_seconds(t) for t in ("600", "10m", "1h", "2d")] == [600, 600, 3600, 172800]
    with pytest.raises(argparse.ArgumentTypeError, match="10m / 1h / 2d"):
        _seconds("2w")
