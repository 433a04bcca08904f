"""Story clusters (issue #15): normalisation, the labelled set, order independence, pruning."""

from __future__ import annotations

import functools
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsite._plan._stories import (
    Signature,
    StoryIndex,
    StoryItem,
    canonical_url,
    cluster,
    find_links,
    match,
    signature,
    title_key,
    title_keys,
    without,
)
from tests.helpers import storyset

pytestmark = pytest.mark.skipif(
    not storyset.REALWORLD.is_dir(), reason="needs ../shared/corpora (realworld, rsshub-zh)"
)
T = datetime(2026, 12, 1, 8, tzinfo=UTC)
BODY = (
    "国家统计局今天公布了十一月的居民消费价格指数，同比上涨百分之零点二，环比下降百分之零点一。"
    "其中食品价格同比下降，非食品价格同比上涨，服务价格继续保持温和上涨的态势，专家认为物价总体平稳。"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/a/b.html", "example.com/a/b.html"),
        ("http://example.com/a/b.html", "example.com/a/b.html"),
        ("https://m.example.com/a/b/", "example.com/a/b"),
        ("https://example.com/a/b?utm_source=rss&utm_medium=feed", "example.com/a/b"),
        ("https://example.com/a?spm=a2c4e&id=7&from=timeline", "example.com/a?id=7"),
        ("https://example.com/a?b=2&a=1#comments", "example.com/a?a=1&b=2"),
        ("https://example.com/a?fbclid=IwAR0&gclid=x", "example.com/a"),
        ("https://EXAMPLE.com:443/a/index.html", "example.com/a"),
        ("https://example.com:8080/a", "example.com:8080/a"),
        ("https://example.com/%E6%96%B0%E9%97%BB", "example.com/新闻"),
        ("https://www.example.com/", None),  # a home page joins nothing
        ("https://example.com", None),
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", None),
        ("tag:example.com,2026:1", None),
        ("", None),
        (None, None),
        ("http://[::1", None),
    ],
)
def test_canonical_url(url: str | None, expected: str | None) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("【快讯】苹果發佈 iPhone 17！| 36氪", "苹果发布iphone17"),
        ("小米发布新手机 - IT之家", "小米发布新手机"),
        ("[视频]〖独家〗华为发布会今晚举行", "华为发布会今晚举行"),
        ("ＡＢＣ　全角：测试", "abc全角测试"),
        ("這個問題，說來話長", "这个问题说来话长"),
        ("Python 3.13 - What's new", "python313whatsnew"),  # the tail is not shorter: kept
        ("00后_整顿_说唱圈", "00后整顿说唱圈"),
        ("36氪早报", "36氪早报"),
        ("2026年12月5日 早报", "2026年12月5日早报"),  # digits stay: another day's digest differs
    ],
)
def test_title_key(title: str, expected: str) -> None:
    assert title_key(title) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Total War: SHOGUN 2 — Ars Technica", ("totalwarshogun2", "totalwarshogun2arstechnica")),
        (
            "死寂（Deathly Stillness）-IT之家",
            ("死寂deathlystillness", "死寂deathlystillnessit之家"),
        ),
        ("Crowz", ()),  # too short to be compared
        ("新闻", ()),
    ],
)
def test_title_keys(title: str, expected: tuple[str, ...]) -> None:
    assert title_keys(title) == expected


def item(
    n: int, title: str = "统计局公布十一月物价数据", text: str = BODY, **kw: object
) -> StoryItem:
    base = StoryItem((f"feed{n}", f"i{n}"), None, None, title, text, T + timedelta(hours=n))
    return replace(base, **kw)  # type: ignore[arg-type]


def test_three_tests_and_the_window() -> None:
    a = signature(item(0, link="https://www.a.example/x?utm_source=rss"))
    url = signature(item(1, title="完全不同的标题", text="", link="http://a.example/x/"))
    assert match(a, url) == match(url, a) == "url"
    title = signature(item(2, title="【快讯】统计局公布十一月物价数据 | 36氪"))
    assert match(a, title) == "title"
    body = signature(item(3, title="统计局公布十一月物价数据啦", text="（图）" + BODY[:-5]))
    assert body.titles != a.titles and match(a, body) == "body"
    late = signature(item(4, time=T + timedelta(hours=73)))
    assert match(a, late) is None
    assert match(a, late, timedelta(hours=80)) == "title"


def test_same_title_other_text_is_another_story() -> None:
    """A daily digest keeps its title and changes its text."""
    today = signature(item(0, title="36氪早报：今日要闻汇总"))
    other = (
        "苹果公司发布新款笔记本电脑，搭载自研芯片，续航时间提升明显，售价维持不变，下周开始发货。"
        * 2
    )
    tomorrow = signature(item(1, title="36氪早报：今日要闻汇总", text=other))
    assert today.titles == tomorrow.titles
    assert match(today, tomorrow) is None
    no_body = signature(item(2, title="36氪早报：今日要闻汇总", text=""))
    assert match(today, no_body) == "title"


def test_template_body_needs_a_similar_title() -> None:
    a = signature(item(0, title="Vue 的生命周期"))
    b = signature(item(1, title="表单缩放问题的解决办法"))
    assert a.sketch == b.sketch and match(a, b) is None


def test_row_round_trip() -> None:
    sig = signature(item(0, link="https://a.example/x", guid="https://a.example/x?id=1"))
    row = sig.to_row()
    assert all(isinstance(v, str | int | bytes) for v in row)
    assert Signature.from_row(row) == sig
    bare = signature(item(1, title="短", text=""))
    assert bare.sketch == b"" and bare.titles == () and Signature.from_row(bare.to_row()) == bare


def test_candidates_come_from_the_index_only() -> None:
    a, b = signature(item(0)), signature(item(1))
    assert find_links({a.key: a}, lambda k: [a.key] if k in a.keys else [], [b])
    assert find_links({a.key: a}, lambda k: [], [b]) == ()


@functools.cache
def labelled() -> tuple[storyset.Labelled, ...]:
    return storyset.build()


@functools.cache
def signatures() -> tuple[Signature, ...]:
    return tuple(signature(x.item) for x in labelled())


def test_labelled_set_precision_and_recall() -> None:
    stories = cluster(signatures())
    found = {k: s.id for s in stories for k in s.members}
    score = storyset.score(labelled(), found)
    assert score.true_pairs > 500
    assert score.precision >= 0.97, score.false_merges[:10]
    assert score.recall >= 0.90, score.misses[:10]
    notes = {x.item.key: x.note for x in labelled()}
    digests = [k for k, note in notes.items() if note.startswith("digest")]
    assert len(digests) == 24
    assert len({found[k] for k in digests}) == 24


def test_incremental_equals_batch() -> None:
    sigs = signatures()
    index = StoryIndex()
    for start in range(0, len(sigs), 97):
        index.add(sigs[start : start + 97])
    assert index.stories() == cluster(sigs)


@settings(max_examples=12, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 200))
def test_order_does_not_matter(rng: random.Random, batch: int) -> None:
    sigs = list(signatures()[:300])
    expected = cluster(sigs)
    rng.shuffle(sigs)
    index = StoryIndex()
    for start in range(0, len(sigs), batch):
        index.add(sigs[start : start + batch])
    assert index.stories() == expected


def test_pruning_the_lead_promotes_the_next() -> None:
    first = item(0, priority=1)
    second = item(1, title="【快讯】统计局公布十一月物价数据", priority=0)
    third = item(2, title="统计局公布十一月物价数据 - IT之家", priority=0)
    index = StoryIndex()
    index.add([signature(x) for x in (first, second, third)])
    story = index.story_of(first.key)
    assert story.lead == second.key  # priority first, then time
    assert story.members == (second.key, third.key, first.key)
    (left,) = without(story, {second.key}, index.signatures)
    assert left.lead == third.key and left.id != story.id
    assert second.key not in left.members and all(second.key not in (x.a, x.b) for x in left.links)
    index.remove([second.key])
    assert index.story_of(first.key) == left
    index.remove([third.key])
    alone = index.story_of(first.key)
    assert alone.members == (first.key,) and alone.links == ()


def test_removing_a_bridge_splits_the_story() -> None:
    a = item(0, link="https://a.example/1", title="甲乙丙丁戊己庚辛", text="")
    bridge = item(1, link="https://a.example/1", title="子丑寅卯辰巳午未", text="")
    c = item(2, title="子丑寅卯辰巳午未", text="")
    index = StoryIndex()
    index.add([signature(x) for x in (a, bridge, c)])
    story = index.story_of(a.key)
    assert len(story.members) == 3
    parts = without(story, {bridge.key}, index.signatures)
    assert sorted(p.members for p in parts) == [(a.key,), (c.key,)]
