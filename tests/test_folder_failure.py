"""A feed whose post folder cannot be written fails alone (issue #10 row 14).

Real runs on local feeds, a real SQLite state and real folders, symlinks and permissions.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._run import feed_status, run
from feedsite._targets._writer import Writer
from feedsite.cli import main
from feedsite.config import load_config
from feedsite.errors import TargetError, UnsafePathError
from tests.helpers.feeds import Entry, rss

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GOOD = "新闻 › 示例 › 头条"
BAD = "新闻 › 示例 › 快讯"


class TwoFeeds:
    """Two local feeds of one site: 头条 (healthy folder) and 快讯 (its folder is broken)."""

    def __init__(self, tmp_path: Path, write: Callable[[str], Path]) -> None:
        self.root = tmp_path
        for name in ("good", "bad"):
            items = [Entry(f"{name}{i}", f"{name} {i}", T0 - timedelta(days=i)) for i in range(2)]
            (tmp_path / f"{name}.xml").write_bytes(rss(items))
        self.config_path = write(
            """
            site: {hexo_root: ./blog, timezone: UTC}
            feeds:
              新闻:
                示例:
                  头条: {path: good.xml}
                  快讯: {path: bad.xml}
            """
        )
        self.posts = tmp_path / "blog/source/_posts"
        self.site_dir = self.posts / "新闻/示例"
        self.bad_dir = self.site_dir / "快讯"

    def files(self, folder: Path) -> list[str]:
        return sorted(p.name for p in folder.glob("*.md")) if folder.is_dir() else []


@pytest.fixture
def feeds(tmp_path: Path, project: Callable[[str], Path]) -> TwoFeeds:
    return TwoFeeds(tmp_path, project)


def test_symlink_out_fails_that_feed_alone(feeds: TwoFeeds, tmp_path: Path) -> None:
    """issue #10 row 14: a symlink at a feed's post folder pointing outside the posts root."""
    outside = tmp_path / "outside"
    outside.mkdir()
    feeds.site_dir.mkdir(parents=True)
    feeds.bad_dir.symlink_to(outside, target_is_directory=True)

    result = run(load_config(feeds.config_path), now=T0)

    assert os.listdir(outside) == []  # nothing written through the link
    assert len(feeds.files(feeds.site_dir / "头条")) == 2  # the other feed is written
    by_label = {r.label: r for r in result.decision.reports}
    assert by_label[GOOD].status == "ok" and by_label[GOOD].posts.new == 2
    bad = by_label[BAD]
    assert bad.status == "failed" and bad.posts.new == 0
    assert bad.error is not None and str(feeds.bad_dir) in bad.error
    assert result.counts().feeds_failed == 1
    status = {row["feed"]: row for row in feed_status(load_config(feeds.config_path))}
    assert status[BAD]["last_status"] == "failed"
    assert str(feeds.bad_dir) in status[BAD]["last_error"]
    assert status[GOOD]["last_status"] == "ok"
    with sqlite3.connect(feeds.config_path.parent / ".feedsite/state.sqlite") as db:
        rows = db.execute(
            "SELECT path, state FROM files WHERE target = 'hexo' ORDER BY path"
        ).fetchall()
        items = db.execute("SELECT feed_key, status FROM items").fetchall()
    assert len(rows) == 2 and all(r[0].startswith("新闻/示例/头条/") for r in rows)
    assert all(s == "written" for _, s in rows)  # no pending row left for the failed feed
    assert all("快讯" not in key for key, _ in items)  # its items are not recorded as posted

    # Once the folder is fixed, the next run writes the feed's posts.
    feeds.bad_dir.unlink()
    again = run(load_config(feeds.config_path), now=T0 + timedelta(hours=1))
    assert {r.label: r.status for r in again.decision.reports}[BAD] == "ok"
    assert len(feeds.files(feeds.bad_dir)) == 2


def test_symlink_out_exit_code_and_json(
    feeds: TwoFeeds, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue #10 row 14: the run does not abort; exit 0 as some feed succeeded (1 with --strict)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    feeds.site_dir.mkdir(parents=True)
    feeds.bad_dir.symlink_to(outside, target_is_directory=True)

    assert main(["run", "-c", str(feeds.config_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    failed = [f for f in report["feeds"] if f["status"] == "failed"]
    assert [f["feed"] for f in failed] == [BAD]
    assert main(["run", "-c", str(feeds.config_path), "--strict"]) == 1
    assert os.listdir(outside) == []


def test_file_where_the_folder_should_be(feeds: TwoFeeds) -> None:
    """issue #10 row 14: a file where a feed's folder should be fails that feed alone."""
    feeds.site_dir.mkdir(parents=True)
    feeds.bad_dir.write_text("not a folder")

    result = run(load_config(feeds.config_path), now=T0)

    by_label = {r.label: r for r in result.decision.reports}
    assert by_label[GOOD].status == "ok" and by_label[GOOD].posts.new == 2
    assert by_label[BAD].status == "failed"
    assert "is not a folder" in (by_label[BAD].error or "")
    assert feeds.bad_dir.read_text() == "not a folder"


def test_folder_turned_symlink_after_posts_were_written(feeds: TwoFeeds, tmp_path: Path) -> None:
    """issue #10 row 14: recorded posts whose folder became a link out: the feed fails alone,
    nothing outside is touched and its posts stay recorded."""
    run(load_config(feeds.config_path), now=T0)
    assert len(feeds.files(feeds.bad_dir)) == 2
    outside = tmp_path / "outside"
    feeds.bad_dir.rename(outside)
    feeds.bad_dir.symlink_to(outside, target_is_directory=True)
    before = {p.name: p.read_bytes() for p in outside.iterdir()}

    result = run(load_config(feeds.config_path), now=T0 + timedelta(hours=1))

    by_label = {r.label: r for r in result.decision.reports}
    assert by_label[BAD].status == "failed"
    assert by_label[GOOD].status == "ok"
    assert {p.name: p.read_bytes() for p in outside.iterdir()} == before
    with sqlite3.connect(feeds.config_path.parent / ".feedsite/state.sqlite") as db:
        owned = [
            r[0]
            for r in db.execute(
                "SELECT path FROM files WHERE target = 'hexo' AND state = 'written'"
            )
        ]
    assert sum("快讯" in p for p in owned) == 2


def test_a_removed_feeds_unsafe_folder_keeps_its_rows_while_another_feed_fails(
    feeds: TwoFeeds, tmp_path: Path
) -> None:
    """A feed removed from the config whose folder is now a link out, in the same run as a
    configured feed whose folder is broken too: the removed feed's posts are neither deleted
    nor let go (their rows wait until the folder is fixed), and the other feed fails alone."""
    run(load_config(feeds.config_path), now=T0)
    for folder, name in ((feeds.bad_dir, "out-bad"), (feeds.site_dir / "头条", "out-good")):
        folder.rename(tmp_path / name)
        folder.symlink_to(tmp_path / name, target_is_directory=True)
    text = feeds.config_path.read_text(encoding="utf-8")
    feeds.config_path.write_text(
        text.replace("头条: {path: good.xml}", "其他: {path: good.xml}"), encoding="utf-8"
    )

    result = run(load_config(feeds.config_path), now=T0 + timedelta(hours=1))

    assert any("posts of a removed feed not deleted" in w for w in result.warnings)
    assert {r.label: r.status for r in result.decision.reports}[BAD] == "failed"
    assert len(os.listdir(tmp_path / "out-good")) == 2  # nothing deleted through the link
    with sqlite3.connect(feeds.config_path.parent / ".feedsite/state.sqlite") as db:
        kept = [r[0] for r in db.execute("SELECT path FROM files WHERE path LIKE '%/头条/%'")]
    assert len(kept) == 2  # still owned: deleted once the folder is fixed


def test_writer_check_folder(tmp_path: Path) -> None:
    """issue #10 row 14: the writer's folder check names the folder and the cause."""
    root = tmp_path / "posts"
    (root / "a").mkdir(parents=True)
    (root / "a" / "file").write_text("x")
    (tmp_path / "out").mkdir()
    (root / "link").symlink_to(tmp_path / "out", target_is_directory=True)
    writer = Writer(root)
    writer.check_folder("a")
    writer.check_folder("a/new/deeper")  # missing folders are fine: they are made
    with pytest.raises(TargetError, match="is not a folder"):
        writer.check_folder("a/file/x")
    with pytest.raises(UnsafePathError):
        writer.check_folder("link/x")
