"""The adopt matcher (``_targets/hexo/_adopt.py``) is pure: old posts + parsed feeds +
state + now in, a plan out.

Expectations come from the rsshub-zh corpus (../shared/corpora/rsshub-zh): its
MANIFEST maps every old post to the feed item it was written from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsite._parse import parse_feed
from feedsite._plan import content_hash, item_id
from feedsite._records import OwnedFile, StoredItem
from feedsite._targets._paths import post_relpath, safe_component
from feedsite._targets.hexo import TARGET, render_post
from feedsite._targets.hexo._adopt import (
    AdoptInput,
    OldPost,
    classify,
    feed_folders,
    parse_old_post,
    plan_adoption,
    post_times,
    synthetic_id,
)
from feedsite._targets.hexo._legacy import legacy_stem, legacy_title
from feedsite.config import parse_config
from feedsite.errors import OldPostError
from feedsite.types import ParsedFeed, ParsedItem, PostSource, RenderSettings

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CORPUS = SHARED / "corpora" / "rsshub-zh"
NOW = datetime(2026, 11, 27, tzinfo=UTC)
CONFIG = parse_config(
    "feeds:\n  新媒体:\n    cnBeta:\n      最新: {url: 'https://e.org/f'}\n"
    "    'A:B':\n      'c#d': {url: 'https://e.org/g'}\n",
    file=Path("/tmp/x/feedsite.yaml"),
)
FEED, ODD = CONFIG.feeds
FOLDER = "新媒体/cnBeta/最新"


def manifest() -> list[dict[str, Any]]:
    return json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def corpus_posts() -> list[tuple[dict[str, Any], dict[str, Any], ParsedItem]]:
    """(feed, detail, item) for every old post of the corpus, paired by the manifest."""
    out = []
    for feed in manifest():
        parsed = parse_feed((CORPUS / feed["file"]).read_bytes())
        out += [(feed, d, i) for d, i in zip(feed["items_detail"], parsed.items, strict=True)]
    return out


def read_old(detail: dict[str, Any]) -> OldPost:
    data = (CORPUS / "old-posts" / detail["path"]).read_bytes()
    rel = detail["path"].removeprefix("source/_posts/")
    return parse_old_post(rel, data.decode("utf-8"), hashlib.sha256(data).hexdigest())


def item(n: int, title: str | None = None, body: str = "<p>x</p>") -> ParsedItem:
    return ParsedItem(
        guid=f"g{n}",
        link=None,
        title=title if title is not None else f"Title {n}",
        date=NOW - timedelta(days=n),
        content_html=None,
        summary_html=body,
        description_raw=body,
    )


def old(stem: str, title: str | None = None, body: str = "<p>x</p>", date: str = "") -> OldPost:
    return OldPost(
        path=f"{FOLDER}/{stem}.md",
        stem=stem,
        sha256=hashlib.sha256(stem.encode()).hexdigest(),
        title=title if title is not None else stem,
        cover=None,
        author="cnBeta",
        date_text=date or None,
        body=body,
    )


def plan_input(
    posts: Sequence[OldPost | OldPostError], items: list[ParsedItem], **kw: Any
) -> AdoptInput:
    base: dict[str, Any] = dict(
        feeds=CONFIG.feeds,
        old_posts={FEED.key: posts},
        parsed={FEED.key: ParsedFeed("rss20", "t", None, tuple(items))},
        stored_items={},
        stored_posts={},
        disk={},
        existing=frozenset(p.path for p in posts),
        zone="Asia/Shanghai",
        now=NOW,
    )
    base.update(kw)
    return AdoptInput(**base)


# -- the old script's names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feed", "detail", "it"),
    corpus_posts(),
    ids=lambda v: v.get("path", "") if isinstance(v, dict) else "",
)
def test_corpus_file_names_are_legacy_stems(
    feed: dict[str, Any], detail: dict[str, Any], it: ParsedItem
) -> None:
    assert legacy_stem(it.title) == Path(detail["path"]).stem
    post = read_old(detail)
    assert post.title == legacy_title(it.title) == detail["title"]
    assert post.date_text == detail["date"]
    assert post.author == feed["site"]
    if not detail["cors_proxy"]:
        assert post.body == it.description_raw  # braces restored, byte for byte
    if detail["headimg"]:  # older posts have only a thumbnail line, read as the cover
        assert post.cover == detail["headimg"]


def test_legacy_stem_drops_dots_hashes_and_newlines() -> None:
    assert legacy_stem("Cilium 1.12正式发布") == "Cilium 112正式发布"
    assert legacy_stem("a: b/c\\d?e*f“g”h<i>j|k[l]m") == "a_ b_c_d_e_f_g_h_i_j_k_l_m"
    assert legacy_stem("#1 news.\nnext") == "1 newsnext"
    assert legacy_title("#1 news.") == "#1 news."


TITLES = st.text(
    alphabet=st.sampled_from([*"ab 中文.#:/\\?*“”<>|[]{}'!-_~\n\t", "😀", "｜"]),
    max_size=40,
)


@given(TITLES)
def test_stem_is_stable_under_its_own_rules(title: str) -> None:
    stem = legacy_stem(title)
    assert legacy_stem(stem) == stem
    assert legacy_stem(legacy_title(title)) == stem  # front matter title → same file name
    assert not set(stem) & set(":/\\?*“”<>|[]#.\n")


SAFE_TITLES = st.text(
    alphabet=st.sampled_from([*"ab 中文.#:/?*“”<>|[]{}'!-_~", "😀"]), min_size=1, max_size=30
)
BODIES = st.lists(
    st.sampled_from([*"ab 中<>/{}\"'\n-:#", "---", "</div>", "  \n</div>"]), max_size=30
).map("".join)


@given(SAFE_TITLES, BODIES)
def test_legacy_post_round_trip(title: str, body: str) -> None:
    """A post in the old format reads back as the mangled title and the raw body."""
    source = PostSource(
        item_id="0123456789abcdef",
        category="新媒体",
        site="cnBeta",
        feed="最新",
        title=title,
        link=None,
        date=NOW,
        first_seen=NOW,
        body_clean="",
        description_raw=body,
        images=(),
    )
    data = render_post(source, RenderSettings("legacy", None, None, "p{n}", "source_url"))
    post = parse_old_post("a/b/c/x.md", data.decode("utf-8"), "sha")
    assert post.title == legacy_title(title)
    assert post.body == body
    assert post_times(post.date_text, "UTC") == (NOW, NOW)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("no front matter here", "no front matter"),
        ("\n---\ntitle: 'x'\n<div>   \nbody", "not closed"),
        ("---\nauthor: x\n---\n\n<div>   \nb  \n</div>", "no title"),
    ],
)
def test_unreadable_posts_are_named_errors(text: str, why: str) -> None:
    with pytest.raises(OldPostError, match=why) as info:
        parse_old_post("新媒体/cnBeta/最新/x.md", text, "sha")
    assert info.value.path == "新媒体/cnBeta/最新/x.md"
    assert "新媒体/cnBeta/最新/x.md" in str(info.value)


def test_post_times() -> None:
    rfc = datetime(2022, 1, 7, 15, 23, 27, tzinfo=UTC)
    assert post_times("Fri, 07 Jan 2022 15:23:27 GMT", "Asia/Shanghai") == (rfc, rfc)
    # The old script's local write time: no date, a first-seen time in the site's zone.
    assert post_times("2022-07-30 13:20:57", "Asia/Shanghai") == (
        None,
        datetime(2022, 7, 30, 5, 20, 57, tzinfo=UTC),
    )
    assert post_times("sometime", "UTC") == (None, None)
    assert post_times(None, "UTC") == (None, None)


# -- folders --------------------------------------------------------------------------------


def test_folders_raw_and_path_safe_both_map_to_the_feed() -> None:
    folders = feed_folders(CONFIG.feeds)
    assert folders[FOLDER] is FEED
    assert folders["新媒体/A:B/c#d"] is ODD  # the old script used the names as they were
    assert folders["新媒体/A:B/cd"] is ODD  # ... with # dropped from its headings
    assert folders["/".join(safe_component(n) for n in ("新媒体", "A:B", "c#d"))] is ODD


def test_classify_skips_owned_and_reports_other_folders() -> None:
    paths = [
        f"{FOLDER}/a.md",
        f"{FOLDER}/0123456789abcdef.md",
        "hello-world.md",
        "新媒体/cnBeta/别的/b.md",
    ]
    by_feed, outside = classify(paths, CONFIG.feeds, frozenset({f"{FOLDER}/0123456789abcdef.md"}))
    assert by_feed == {FEED.key: [f"{FOLDER}/a.md"]}
    assert sorted(o.path for o in outside) == ["hello-world.md", "新媒体/cnBeta/别的/b.md"]
    assert {o.kind for o in outside} == {"unconfigured"}


# -- the plan -------------------------------------------------------------------------------


def test_matched_and_kept() -> None:
    items = [item(0, "新的"), item(1, "Cilium 1.12正式发布")]
    posts = [
        old("Cilium 112正式发布", "Cilium 1.12正式发布"),
        old("旧的一", date="Mon, 02 May 2022 13:12:16 GMT"),
        old("旧的二", date="2022-07-30 13:20:57"),
    ]
    plan = plan_adoption(plan_input(posts, items))
    assert plan.leftovers == ()
    by_path = {a.old_path: a for a in plan.adoptions}
    cilium = by_path[f"{FOLDER}/Cilium 112正式发布.md"]
    assert (cilium.kind, cilium.item_id, cilium.seq) == ("matched", item_id(items[1]), 1)
    assert cilium.item == items[1] and cilium.content_hash == content_hash(items[1])
    assert cilium.new_path == post_relpath("新媒体", "cnBeta", "最新", cilium.item_id)
    assert cilium.first_seen == NOW  # its date line was unreadable: first seen now
    one, two = by_path[f"{FOLDER}/旧的一.md"], by_path[f"{FOLDER}/旧的二.md"]
    assert one.kind == two.kind == "kept"
    assert one.item_id == synthetic_id(FEED.key, "旧的一")
    assert one.item.date == datetime(2022, 5, 2, 13, 12, 16, tzinfo=UTC)
    assert two.item.date is None and two.first_seen == datetime(2022, 7, 30, 5, 20, 57, tzinfo=UTC)
    # Kept posts rank after the feed's items, newest first.
    assert (two.seq, one.seq) == (2, 3)
    assert plan.counts == {FEED.label: (1, 2)}
    assert plan_adoption(plan_input(posts, items)) == plan  # pure


def test_same_stem_prefers_title_then_body_then_the_last() -> None:
    items = [item(0, "v1.2", "<p>a</p>"), item(1, "v12", "<p>b</p>"), item(2, "v12", "<p>c</p>")]
    by_title = plan_adoption(plan_input([old("v12", "v1.2")], items)).adoptions[0]
    assert by_title.item_id == item_id(items[0])
    by_body = plan_adoption(plan_input([old("v12", "v12", "<p>b</p>")], items)).adoptions[0]
    assert by_body.item_id == item_id(items[1])
    # The old script overwrote same-named files: the last item written won.
    last = plan_adoption(plan_input([old("v12", "v12", "<p>z</p>")], items)).adoptions[0]
    assert last.item_id == item_id(items[2])


def test_feed_failure_and_unreadable_posts_are_left_alone() -> None:
    bad = OldPostError(f"{FOLDER}/bad.md", "no front matter")
    plan = plan_adoption(
        plan_input([old("a"), bad], [item(0, "a")], parsed={FEED.key: "HTTP 503 from x"})
    )
    assert plan.adoptions == ()
    kinds = {lo.path: (lo.kind, lo.feed) for lo in plan.leftovers}
    assert kinds == {
        f"{FOLDER}/a.md": ("feed_failed", FEED.label),
        f"{FOLDER}/bad.md": ("unreadable", FEED.label),
    }


def stored(iid: str, status: str = "live", first_seen: datetime = NOW) -> StoredItem:
    return StoredItem(FEED.key, iid, status, first_seen, 0, None, "h", "k")  # type: ignore[arg-type]


def test_items_feedsite_already_knows() -> None:
    items = [item(0, "a"), item(1, "b"), item(2, "c"), item(3, "d")]
    ia, ib, ic, idd = (item_id(i) for i in items)
    posts = [old("a"), old("b"), old("c"), old("d")]
    owned_a = OwnedFile(
        TARGET,
        post_relpath("新媒体", "cnBeta", "最新", ia),
        posts[0].sha256,
        "r",
        1,
        1,
        FEED.key,
        ia,
    )
    owned_b = OwnedFile(
        TARGET, post_relpath("新媒体", "cnBeta", "最新", ib), "other", "r", 1, 1, FEED.key, ib
    )
    earlier = NOW - timedelta(days=400)
    plan = plan_adoption(
        plan_input(
            posts,
            items,
            stored_items={
                FEED.key: [
                    stored(ia),
                    stored(ib),
                    stored(ic, "removed"),
                    stored(idd, "seen", earlier),
                ]
            },
            stored_posts={owned_a.path: owned_a, owned_b.path: owned_b},
            disk={owned_a.path: "ok", owned_b.path: "ok"},
        )
    )
    # a: the same bytes are feedsite's already (an interrupted move): the old copy goes.
    assert plan.duplicates == ((f"{FOLDER}/a.md", owned_a.path),)
    kinds = {lo.path: lo.kind for lo in plan.leftovers}
    assert kinds == {f"{FOLDER}/b.md": "already_posted", f"{FOLDER}/c.md": "tombstoned"}
    # d was only seen: adopted, keeping the time feedsite first saw it.
    (d,) = plan.adoptions
    assert (d.item_id, d.first_seen) == (idd, earlier)


def test_a_duplicate_is_only_removed_while_the_owned_copy_is_intact() -> None:
    it = item(0, "a")
    post = old("a")
    owned = OwnedFile(
        TARGET,
        post_relpath("新媒体", "cnBeta", "最新", item_id(it)),
        post.sha256,
        "r",
        1,
        1,
        FEED.key,
        item_id(it),
    )
    plan = plan_adoption(
        plan_input(
            [post],
            [it],
            stored_items={FEED.key: [stored(item_id(it))]},
            stored_posts={owned.path: owned},
            disk={owned.path: "edited"},
        )
    )
    assert plan.duplicates == ()
    assert [lo.kind for lo in plan.leftovers] == ["already_posted"]


def test_a_foreign_file_at_the_items_path_is_not_overwritten() -> None:
    it = item(0, "a")
    target = post_relpath("新媒体", "cnBeta", "最新", item_id(it))
    plan = plan_adoption(plan_input([old("a")], [it], existing=frozenset({target})))
    assert plan.adoptions == ()
    assert [lo.kind for lo in plan.leftovers] == ["occupied"]


def test_a_post_named_by_its_item_id_is_adopted_in_place() -> None:
    """A post feedsite wrote whose state was lost: matched by its file name, not moved."""
    it = item(0, "a")
    iid = item_id(it)
    post = replace(old(iid, "whatever"), path=post_relpath("新媒体", "cnBeta", "最新", iid))
    (a,) = plan_adoption(plan_input([post], [it])).adoptions
    assert (a.kind, a.item_id, a.new_path) == ("matched", iid, a.old_path)


def test_names_are_compared_nfc_with_whitespace_collapsed() -> None:
    it = item(0, "Café  news")  # é composed; the old file name decomposed, spaces kept raw
    (a,) = plan_adoption(plan_input([old(" Cafe\u0301 news ", "x")], [it])).adoptions
    assert (a.kind, a.item_id) == ("matched", item_id(it))


def test_two_old_files_of_one_feed_with_one_name_adopt_once() -> None:
    raw = old("旧的")
    other = replace(raw, path="新媒体/cnBeta/最新/../最新/旧的.md")  # the same name, another folder
    plan = plan_adoption(plan_input([raw, other], []))
    assert [a.old_path for a in plan.adoptions] == [other.path]
    assert [(lo.path, lo.kind) for lo in plan.leftovers] == [(raw.path, "occupied")]


def test_a_post_named_by_an_id_no_item_has_is_not_taken_again() -> None:
    """A post feedsite let go (edited by hand, then pruned) is not an old-script post."""
    post = old("0123456789abcdef", "whatever")
    plan = plan_adoption(plan_input([post], [item(0, "a")]))
    assert plan.adoptions == ()
    assert [lo.kind for lo in plan.leftovers] == ["id_named"]
