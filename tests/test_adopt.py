"""``feedsite adopt`` end to end: the old site's 60 real posts, their feeds on a loopback
RSSHub, real SQLite state, then real runs.

Data: ../shared/corpora/rsshub-zh (old-posts/ exactly as the old script wrote them;
MANIFEST.json pairs each old post with its feed item).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedsite._parse import parse_feed
from feedsite._plan import item_id
from feedsite._run import run
from feedsite._run._adopt import adopt
from feedsite._targets._paths import post_relpath
from feedsite.cli import main
from feedsite.config import Config, load_config
from tests.helpers.feeds import feeds_yaml
from tests.helpers.feedserver import FeedServer, Response

NOW = datetime(2026, 11, 27, tzinfo=UTC)
CNBETA = "新媒体 › cnBeta › 最新"
GUANCHA = "新媒体 › 观察者网 › 头条"
BANGUMI = "二次元 › Bangumi › 放送列表"
HEX_NAME = re.compile(r"[0-9a-f]{16}\.md")


class Site:
    """A Hexo folder holding the old site's posts, and its feeds on a loopback RSSHub."""

    def __init__(self, root: Path, corpus: Path, server: FeedServer) -> None:
        self.root = root
        self.corpus = corpus
        self.server = server
        self.posts = root / "blog" / "source" / "_posts"
        self.manifest: list[dict[str, Any]] = json.loads(
            (corpus / "MANIFEST.json").read_text(encoding="utf-8")
        )
        shutil.copytree(corpus / "old-posts" / "source" / "_posts", self.posts)
        for m in self.manifest:
            self.serve(m)

    def label(self, m: dict[str, Any]) -> str:
        return f"{m['category']} › {m['site']} › {m['route']}"

    def feed(self, label: str) -> dict[str, Any]:
        return next(m for m in self.manifest if self.label(m) == label)

    def route(self, m: dict[str, Any]) -> str:
        return "/zh/" + m["file"].removesuffix(".xml")

    def serve(self, m: dict[str, Any], *, drop_last: int = 0, status: int = 200) -> None:
        body = (self.corpus / m["file"]).read_text(encoding="utf-8")
        if drop_last:
            head, *items = body.split("<item>")
            tail = items[-1][items[-1].index("</item>") + len("</item>") :]
            kept = items[: len(items) - drop_last]
            body = "<item>".join([head, *kept])
            if not body.rstrip().endswith("</channel>\n</rss>"):
                body = body[: body.rindex("</item>") + len("</item>")] + tail
        response = Response.rss(body) if status == 200 else Response(status, "gone")
        self.server.route("/rsshub" + self.route(m), response)

    def config(
        self,
        *,
        profile: str = "legacy",
        keep: dict[str, int] | None = None,
        skip: Iterable[str] = (),
    ) -> Config:
        keep = keep or {}
        lines = [
            f"site: {{hexo_root: ./blog, timezone: Asia/Shanghai, profile: {profile}}}",
            f"rsshub: {{instances: [{self.server.url('/rsshub')}]}}",
            "fetch: {retries: 0}",
            "defaults: {items_per_feed: 20}",
            "images: {mode: hotlink}",  # the corpus's images are on the internet
            *feeds_yaml(
                (m["category"], m["site"], m["route"], self._feed_value(m, keep))
                for m in self.manifest
                if self.label(m) not in skip
            ),
        ]
        path = self.root / "feedsite.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return load_config(path)

    def _feed_value(self, m: dict[str, Any], keep: dict[str, int]) -> str:
        extra = f", keep: {keep[self.label(m)]}" if self.label(m) in keep else ""
        return f"{{route: {self.route(m)}{extra}}}"

    def expected(self, m: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(old path, the item's post path, detail) for each old post of a feed."""
        parsed = parse_feed((self.corpus / m["file"]).read_bytes())
        return [
            (
                d["path"].removeprefix("source/_posts/"),
                post_relpath(m["category"], m["site"], m["route"], item_id(i)),
                d,
            )
            for d, i in zip(m["items_detail"], parsed.items, strict=True)
        ]

    def all_expected(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [e for m in self.manifest for e in self.expected(m)]

    def old_bytes(self, old_path: str) -> bytes:
        return (self.corpus / "old-posts" / "source" / "_posts" / old_path).read_bytes()

    def tree(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.posts).as_posix(): p.read_bytes()
            for p in sorted(self.posts.rglob("*"))
            if p.is_file()
        }

    def state(self, config: Config) -> tuple[list[Any], list[Any]]:
        with sqlite3.connect(config.state_path) as db:
            items = db.execute("SELECT * FROM items ORDER BY feed_key, item_id").fetchall()
            posts = db.execute("SELECT * FROM files WHERE target = 'hexo' ORDER BY path").fetchall()
        return items, posts

    def owned(self, config: Config) -> dict[str, str]:
        """Recorded post path → item id."""
        with sqlite3.connect(config.state_path) as db:
            return dict(
                db.execute(
                    "SELECT path, item_id FROM files WHERE target = 'hexo' AND state = 'written'"
                )
            )


@pytest.fixture
def site(tmp_path: Path, shared: Path, feed_server: FeedServer) -> Site:
    return Site(tmp_path, shared / "corpora" / "rsshub-zh", feed_server)


def body_of(text: str) -> str:
    """The old format's body: between ``<div>   \\n`` and ``  \\n</div>``."""
    return text[text.index("<div>   \n") + 9 : text.rindex("  \n</div>")]


def title_of(text: str) -> str:
    return next(line for line in text.split("\n") if line.startswith("title: "))


def test_every_old_post_is_adopted_and_the_first_run_neither_duplicates_nor_loses(
    site: Site,
) -> None:
    config = site.config()
    result = adopt(config, now=NOW, seed=1)
    assert result.counts()["adopted"] == result.counts()["matched"] == 60
    assert result.leftovers == ()
    owned = site.owned(config)
    files = site.tree()
    assert len(owned) == len(files) == 60
    for old_path, new_path, _detail in site.all_expected():
        # Moved verbatim to the item's path, owned; the title-named file is gone.
        assert files[new_path] == site.old_bytes(old_path)
        assert new_path in owned
        assert not (site.posts / old_path).exists()

    first = run(config, now=NOW, seed=1)
    c = first.counts()
    assert (c.feeds_ok, c.posts_new, c.posts_pruned) == (12, 0, 0)
    assert c.posts_updated == 60  # re-rendered in the configured profile
    files = site.tree()
    assert len(files) == 60 and all(HEX_NAME.fullmatch(p.rpartition("/")[2]) for p in files)
    assert sorted(site.owned(config)) == sorted(files)
    for old_path, new_path, detail in site.all_expected():
        old, new = site.old_bytes(old_path).decode(), files[new_path].decode()
        assert title_of(new) == title_of(old)
        if detail["cors_proxy"]:  # the old site ran an image proxy this config has not
            old = old.replace("https://cors.zfour.workers.dev/?", "")
            new = new.replace("https://cors.zfour.workers.dev/?", "")
        assert body_of(new) == body_of(old), old_path
    assert run(config, now=NOW, seed=1).counts().posts_unchanged == 60


def test_adopt_twice_changes_nothing(site: Site) -> None:
    config = site.config()
    adopt(config, now=NOW, seed=1)
    tree, state, fetched = site.tree(), site.state(config), len(site.server.requests)
    again = adopt(config, now=NOW, seed=1)
    assert again.counts()["adopted"] == 0 and again.leftovers == ()
    assert len(site.server.requests) == fetched  # nothing left to match: nothing fetched
    assert (site.tree(), site.state(config)) == (tree, state)


def test_an_interrupted_move_is_finished_by_the_next_adopt(site: Site) -> None:
    config = site.config()
    adopt(config, now=NOW, seed=1)
    old_path, new_path, _ = site.expected(site.feed(GUANCHA))[0]
    # A kill after the owned copy was recorded but before the old file went.
    (site.posts / old_path).write_bytes(site.old_bytes(old_path))
    again = adopt(config, now=NOW, seed=1)
    assert again.duplicates_removed == (old_path,)
    assert not (site.posts / old_path).exists()
    assert (site.posts / new_path).read_bytes() == site.old_bytes(old_path)


def test_an_old_copy_of_a_post_feedsite_rewrote_is_left_alone(site: Site) -> None:
    config = site.config(profile="default")
    adopt(config, now=NOW, seed=1)
    run(config, now=NOW, seed=1)
    old_path, _, _ = site.expected(site.feed(GUANCHA))[0]
    (site.posts / old_path).write_bytes(site.old_bytes(old_path))
    again = adopt(config, now=NOW, seed=1)
    assert [(lo.path, lo.kind) for lo in again.leftovers] == [(old_path, "already_posted")]
    assert (site.posts / old_path).read_bytes() == site.old_bytes(old_path)


def test_posts_whose_items_left_the_feed_are_kept_and_retention_prunes_the_oldest(
    site: Site,
) -> None:
    m = site.feed(CNBETA)
    site.serve(m, drop_last=4)  # the feed moved on: its 4 oldest items are gone
    config = site.config()
    result = adopt(config, now=NOW, seed=1)
    assert result.plan.counts[CNBETA] == (6, 4)
    assert result.counts()["adopted"] == 60 and result.leftovers == ()
    folder = site.posts / "新媒体" / "cnBeta" / "最新"
    kept_items = [a for a in result.adopted if a.kind == "kept"]
    assert sorted(a.item.title for a in kept_items) == sorted(
        d["title"] for d in m["items_detail"][6:]
    )

    first = run(config, now=NOW, seed=1)
    assert first.counts().posts_new == 0 and first.counts().posts_pruned == 0
    after_first = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert len(after_first) == 10  # no duplicate, nothing lost
    bodies = {body_of(t) for t in after_first.values()}
    for d in m["items_detail"]:
        old = site.old_bytes(d["path"].removeprefix("source/_posts/")).decode()
        assert body_of(old) in bodies
    assert run(config, now=NOW, seed=1).counts().posts_unchanged == 60

    # Retention now applies to them like to any post: keep the newest 5.
    oldest = next(a for a in kept_items if a.item.title.startswith("109元"))
    edited = site.posts / oldest.new_path
    edited.write_text(edited.read_text(encoding="utf-8") + "\n<!-- mine -->", encoding="utf-8")
    config = site.config(keep={CNBETA: 5})
    pruned = run(config, now=NOW, seed=1)
    report = next(r for r in pruned.decision.reports if r.label == CNBETA)
    assert report.posts.pruned == 5
    assert report.posts.edited == [oldest.new_path]  # hand-edited: left alone, no longer owned
    left = {p.name for p in folder.iterdir()}
    top5 = {d["title"] for d in m["items_detail"][:5]}
    newest = {
        a.new_path.rpartition("/")[2]
        for a in result.adopted
        if a.new_path.startswith("新媒体/cnBeta/最新/") and a.item.title in top5
    }
    assert len(newest) == 5
    assert left == newest | {edited.name}
    assert edited.exists() and oldest.new_path not in site.owned(config)
    # Adopt does not take back a post feedsite let go.
    again = adopt(config, now=NOW, seed=1)
    assert again.counts()["adopted"] == 0
    assert [(lo.path, lo.kind) for lo in again.leftovers] == [(oldest.new_path, "id_named")]


def test_unconfigured_and_unreadable_posts_are_left_alone(site: Site) -> None:
    broken = site.posts / "新媒体" / "36kr" / "资讯" / "没有头.md"
    broken.write_text("just text, no front matter", encoding="utf-8")
    binary = site.posts / "新媒体" / "36kr" / "资讯" / "二进制.md"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    own = site.posts / "hello-world.md"
    own.write_text("---\ntitle: mine\n---\nhi\n", encoding="utf-8")
    config = site.config(skip={BANGUMI})
    before = site.tree()
    result = adopt(config, now=NOW, seed=1)
    kinds = {lo.path: lo.kind for lo in result.leftovers}
    bangumi = [old for old, _, _ in site.expected(site.feed(BANGUMI))]
    assert kinds == {
        "hello-world.md": "unconfigured",
        "新媒体/36kr/资讯/没有头.md": "unreadable",
        "新媒体/36kr/资讯/二进制.md": "unreadable",
        **dict.fromkeys(bangumi, "unconfigured"),
    }
    assert result.counts()["adopted"] == 55
    run(config, now=NOW, seed=1)
    after = site.tree()
    for path in kinds:
        assert after[path] == before[path]  # untouched by adopt and by the run


def test_a_feed_that_fails_keeps_its_posts_for_the_next_adopt(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    m = site.feed(GUANCHA)
    site.serve(m, status=404)
    config = site.config()
    code = main(["adopt", "-c", str(config.file), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["adopted"] == 52 and data["feed_failed"] == 8
    assert [f["feed"] for f in data["feeds_failed"]] == [GUANCHA]
    olds = [old for old, _, _ in site.expected(m)]
    assert all((site.posts / old).read_bytes() == site.old_bytes(old) for old in olds)

    site.serve(m)
    code = main(["adopt", "-c", str(config.file), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["adopted"] == 8 and data["leftovers"] == []
    assert {p["from"] for p in data["adopted_posts"]} == set(olds)
    assert run(config, now=NOW, seed=1).counts().posts_new == 0


def test_dry_run_writes_nothing(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    config = site.config()
    before = site.tree()
    assert main(["adopt", "-c", str(config.file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would adopt 60 old post(s)" in out and "dry run" in out
    assert site.tree() == before
    assert not config.state_path.parent.exists()


def test_posts_from_another_folder_are_copied_and_that_folder_left_as_is(
    site: Site, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "old-site"
    site.posts.rename(elsewhere)
    site.posts.mkdir()
    config = site.config()
    snapshot = {p: p.read_bytes() for p in elsewhere.rglob("*.md")}
    result = adopt(config, posts_dir=elsewhere, now=NOW, seed=1)
    assert not result.move and result.counts()["adopted"] == 60
    assert {p: p.read_bytes() for p in elsewhere.rglob("*.md")} == snapshot
    assert len(site.tree()) == 60
    again = adopt(config, posts_dir=elsewhere, now=NOW, seed=1)
    assert again.counts()["adopted"] == 0 and again.counts()["already_adopted"] == 60
    assert run(config, now=NOW, seed=1).counts().posts_new == 0
    assert len(site.tree()) == 60


def test_cli_reports_and_exit_codes(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    (site.posts / "hello-world.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    config = site.config()
    assert main(["adopt", "-c", str(config.file)]) == 0
    captured = capsys.readouterr()
    assert "adopted 60 old post(s): 60 matched" in captured.out
    assert "not a configured feed's folder, left alone: ./ (1 post(s))" in captured.err
    assert main(["adopt", "-c", str(config.file), "--posts", str(site.root / "nope")]) == 1
    assert "no folder of old posts" in capsys.readouterr().err


def test_adopt_waits_for_a_run_holding_the_lock(site: Site) -> None:
    from feedsite._store._lock import locked
    from feedsite.errors import LockedError

    config = site.config()
    with locked(config.state_path), pytest.raises(LockedError):
        adopt(config, now=NOW, seed=1)
