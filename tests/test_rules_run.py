"""Rules through whole runs (issue #13 acceptance): a rule added after posts exist hides
exactly the matching posts on the next run, and removing it brings them back; a new item a
rule hides is never posted; rewrite rules re-render the posts they change; both targets and
both profiles; the dry run lists exactly what the real run then does."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from feedsite._run import run
from feedsite._run._build import build_native
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

ITEMS = [
    ("g0", "芯片新品发布", "<p>新一代芯片。</p><div class='share'>分享到微博</div>"),
    ("g1", "【广告】限时优惠", "<p>买一送一。</p>"),
    ("g2", "AI 大模型进展", "<p>扫码关注公众号，领取资料。</p><p>模型更新。</p>"),
    ("g3", "体育新闻", "<p>比赛结果。</p>"),
]


def write(tmp_path: Path, rules: str = "", profile: str = "default") -> Path:
    feed = tmp_path / "feed.xml"
    if not feed.exists():
        entries = [
            Entry(g, t, NOW - timedelta(hours=n), body=b, link=f"https://news.example/{g}")
            for n, (g, t, b) in enumerate(ITEMS)
        ]
        feed.write_bytes(rss(entries))
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        f"site: {{hexo_root: ./blog, timezone: Asia/Shanghai, profile: {profile},"
        " targets: [hexo, native]}\n"
        "images: {mode: hotlink}\n"
        f"native: {{out: {tmp_path / 'site'}}}\n"
        f"{rules}\n"
        "feeds:\n  新闻:\n    示例:\n      头条: {path: feed.xml}\n",
        encoding="utf-8",
    )
    return config


def titles(tmp_path: Path) -> set[str]:
    folder = tmp_path / "blog/source/_posts/新闻/示例/头条"
    out = set()
    for p in folder.glob("*.md"):
        front = p.read_text(encoding="utf-8").split("---")[1]
        out.add(str(yaml.safe_load(front)["title"]))
    return out


def statuses(tmp_path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(tmp_path / ".feedsite/state.sqlite")) as db:
        return dict(db.execute("SELECT title, status FROM items"))


ALL = {t for _g, t, _b in ITEMS}
BLOCK_ADS = "rules:\n  block:\n    title: [广告, '/^体育/']\n"


def test_a_rule_added_later_hides_exactly_its_posts_and_removing_it_restores_them(
    tmp_path: Path,
) -> None:
    run(load_config(write(tmp_path)), now=NOW, seed=1)
    assert titles(tmp_path) == ALL
    hidden = run(load_config(write(tmp_path, BLOCK_ADS)), now=NOW + timedelta(hours=1), seed=1)
    assert titles(tmp_path) == ALL - {"【广告】限时优惠", "体育新闻"}
    assert sorted(rule for _f, _i, rule, _live in hidden.decision.filtered) == [
        'block.title "/^体育/" (rules.block.title[1], line 6)',
        'block.title "广告" (rules.block.title[0], line 6)',
    ]
    assert statuses(tmp_path)["【广告】限时优惠"] == "filtered"
    # Nothing else changed: the other posts were not rewritten.
    assert hidden.counts().posts_updated == 0 and hidden.counts().posts_new == 0
    again = run(load_config(write(tmp_path, BLOCK_ADS)), now=NOW + timedelta(hours=2), seed=1)
    assert again.decision.filtered == [] and again.counts().posts_new == 0
    back = run(load_config(write(tmp_path)), now=NOW + timedelta(hours=3), seed=1)
    assert titles(tmp_path) == ALL
    assert back.counts().posts_new == 2 and len(back.decision.unfiltered) == 2
    assert set(statuses(tmp_path).values()) == {"live"}


def test_a_new_item_a_rule_hides_is_never_posted(tmp_path: Path) -> None:
    rules = "rules:\n  keep:\n    title: [芯片, AI]\n"
    run(load_config(write(tmp_path, rules)), now=NOW, seed=1)
    assert titles(tmp_path) == {"芯片新品发布", "AI 大模型进展"}
    site = build_native(load_config(write(tmp_path, rules)))
    pages = " ".join(p.read_text(encoding="utf-8") for p in (site.out / "posts").glob("*.html"))
    assert "体育新闻" not in pages and "芯片新品发布" in pages


def test_rewrite_rules_change_bodies_and_re_render(tmp_path: Path) -> None:
    run(load_config(write(tmp_path)), now=NOW, seed=1)
    posts = tmp_path / "blog/source/_posts"
    before = {p: p.read_bytes() for p in posts.rglob("*.md")}
    rules = (
        "rules:\n  rewrite:\n    remove: [div.share]\n"
        "    replace:\n      - {pattern: '/扫码关注公众号，?/', with: ''}\n"
    )
    result = run(load_config(write(tmp_path, rules)), now=NOW + timedelta(hours=1), seed=1)
    # The feed's posts are rendered again (its bodies' key changed); two of them differ.
    assert result.counts().posts_updated == len(ITEMS)
    after = {p: p.read_bytes() for p in posts.rglob("*.md")}
    assert after.keys() == before.keys()
    assert sum(after[p] != before[p] for p in after) == 2
    text = "".join(p.read_text(encoding="utf-8") for p in posts.rglob("*.md"))
    assert "分享到微博" not in text and "扫码关注公众号" not in text
    assert "新一代芯片" in text and "领取资料" in text


@pytest.mark.parametrize("profile", ["default", "legacy"])
def test_rules_apply_in_both_profiles(tmp_path: Path, profile: str) -> None:
    run(load_config(write(tmp_path, BLOCK_ADS, profile)), now=NOW, seed=1)
    assert titles(tmp_path) == ALL - {"【广告】限时优惠", "体育新闻"}


def test_the_dry_run_lists_what_the_run_then_does(tmp_path: Path) -> None:
    run(load_config(write(tmp_path)), now=NOW, seed=1)
    config = load_config(write(tmp_path, BLOCK_ADS))
    preview = run(config, now=NOW + timedelta(hours=1), seed=1, dry_run=True)
    assert titles(tmp_path) == ALL  # nothing written
    real = run(config, now=NOW + timedelta(hours=1), seed=1)
    assert preview.decision.filtered == real.decision.filtered
    assert len(real.decision.filtered) == 2


def feedsite(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_feedsite_rules_previews_then_applies_without_fetching(tmp_path: Path) -> None:
    run(load_config(write(tmp_path)), now=NOW, seed=1)
    feed = tmp_path / "feed.xml"
    kept = feed.read_bytes()
    feed.write_bytes(b"not a feed any more: `feedsite rules` must not read it")
    config = str(write(tmp_path, BLOCK_ADS + "  rewrite:\n    remove: [div.share]\n"))
    pinned = ("--now", (NOW + timedelta(hours=1)).isoformat(), "--seed", "1")
    preview = feedsite("rules", "-c", config, "--dry-run", "--json", *pinned)
    assert preview.returncode == 0, preview.stderr
    effects = json.loads(preview.stdout)
    assert sorted((e["action"], e["title"]) for e in effects) == [
        ("hide", "【广告】限时优惠"),
        ("hide", "体育新闻"),
        ("rewrite", "芯片新品发布"),
    ]
    (rewrite,) = [e for e in effects if e["action"] == "rewrite"]
    assert "-<div>分享到微博</div>" in rewrite["diff"]
    assert titles(tmp_path) == ALL  # the preview wrote nothing
    applied = feedsite("rules", "-c", config, "--json", *pinned)
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout) == effects  # exactly what the preview listed
    assert titles(tmp_path) == ALL - {"【广告】限时优惠", "体育新闻"}
    again = feedsite("rules", "-c", config, *pinned)
    assert again.returncode == 0 and "nothing to hide" in again.stdout
    feed.write_bytes(kept)


def test_run_dry_run_prints_the_rules_effects(tmp_path: Path) -> None:
    run(load_config(write(tmp_path)), now=NOW, seed=1)
    config = str(write(tmp_path, BLOCK_ADS))
    got = feedsite("run", "-c", config, "--dry-run", "--now", NOW.isoformat(), "--seed", "1")
    assert got.returncode == 0, got.stderr
    assert 'rule block.title "广告"' in got.stdout and "【广告】限时优惠" in got.stdout
    assert titles(tmp_path) == ALL
