"""Judging items against rules (issue #13): every field × operator, keep, max_age, labels."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from textwrap import dedent, indent

import pytest

from feedsite._config._rules import EMPTY, Rules, RuleSet, merge, read_rules
from feedsite._config._tree import MapNode, Reader
from feedsite._plan._rules import Blocked, ItemFields, Matcher, judge, matcher

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
ITEM = ItemFields(
    title="今日新闻 Daily News",
    content="第一段正文。\nSecond paragraph of the body.",
    author="编辑部",
    link="https://news.example.com/2026/12/05/story.html?id=1",
    categories=("科技", "Tech"),
    time=NOW - timedelta(hours=1),
)


def level(text: str) -> Rules:
    r = Reader("feedsite.yaml", {}, max_values=100_000)
    tree = r.parse("rules:\n" + indent(dedent(text), "  "))
    assert isinstance(tree, MapNode)
    return read_rules(r, tree.entries[0].value, "rules")


def ruleset(text: str) -> RuleSet:
    return merge([level(text)])


def item(**changes: object) -> ItemFields:
    return replace(ITEM, **changes)  # type: ignore[arg-type]


# -- every field × every operator ----------------------------------------------------------------

FIELD_CASES = [
    # (field, pattern as written, field value, blocked?)
    # title: keyword (substring, any case, CJK), expression, expression with a flag
    ("title", "广告", "今日广告：打折", True),
    ("title", "广告", "今日新闻", False),
    ("title", "sponsored", "A SPONSORED Post", True),
    ("title", "Ä", "ärger", True),  # Unicode case folding
    ("title", "'/^【.*赞助.*】/'", "【本期赞助】新品", True),
    ("title", "'/^【.*赞助.*】/'", "新品【赞助】", False),  # ^ anchors at the start
    ("title", "'/^sponsored:/'", "Sponsored: x", False),  # expressions are case-sensitive
    ("title", "'/^sponsored:/i'", "Sponsored: x", True),
    # content: keyword across white space, expression, s and m flags
    ("content", "扫码关注", "请扫码关注公众号", True),
    ("content", "affiliate link", "an affiliate\n   link here", True),
    ("content", "affiliate link", "an affiliatelink", False),
    ("content", "'/扫码(关注|领取)/'", "扫码领取红包", True),
    ("content", "'/扫码(关注|领取)/'", "扫码支付", False),
    ("content", "'/begin.end/'", "begin\nend", False),  # . stops at a line break
    ("content", "'/begin.end/s'", "begin\nend", True),
    ("content", "'/^end$/'", "begin\nend", False),  # ^ $: the whole text
    ("content", "'/^end$/m'", "begin\nend", True),  # m: each line
    ("content", "'/^END$/mi'", "begin\nend", True),
    # author
    ("author", "营销号", "某营销号小编", True),
    ("author", "'/^marketing/i'", "Marketing Team", True),
    ("author", "'/^marketing/i'", "Team Marketing", False),
    # link
    ("link", "utm_source=ads", "https://e.org/a?UTM_SOURCE=ADS", True),
    ("link", "'/utm_source=ads/'", "https://e.org/a?UTM_SOURCE=ADS", False),
    ("link", "'/[/]sponsored[/]/'", "https://e.org/sponsored/x", True),
    ("link", "'/[/]sponsored[/]/'", "https://e.org/sponsored-x", False),
]


@pytest.mark.parametrize(("field", "written", "value", "blocked"), FIELD_CASES)
def test_block_each_field_and_operator(field: str, written: str, value: str, blocked: bool) -> None:
    rules = ruleset(f"  block:\n    {field}: [{written}]\n")
    got = judge(rules, item(**{field: value}), NOW)
    assert (got is not None) == blocked, (written, value, got)
    if blocked:
        assert got == Blocked(
            f'block.{field} "{written.strip(chr(39))}" (rules.block.{field}[0], line 3)'
        )


@pytest.mark.parametrize(("field", "written", "value", "blocked"), FIELD_CASES)
def test_keep_is_the_opposite_of_block_for_one_pattern(
    field: str, written: str, value: str, blocked: bool
) -> None:
    rules = ruleset(f"  keep:\n    {field}: [{written}]\n")
    got = judge(rules, item(**{field: value}), NOW)
    assert (got is None) == blocked


CATEGORY_CASES = [
    # (pattern, categories, blocked?)
    ("软文", ("科技", "软文推广"), True),  # any one category
    ("软文", ("科技", "数码"), False),
    ("软文", (), False),  # no categories: nothing matches
    ("'/^Tech$/'", ("科技", "Tech"), True),  # ^ $ hold per category
    ("'/^Tech$/'", ("Tech news",), False),
    ("'/^tech$/i'", ("TECH",), True),
    ("'/科技.Tech/s'", ("科技", "Tech"), False),  # categories are never joined
]


@pytest.mark.parametrize(("written", "categories", "blocked"), CATEGORY_CASES)
def test_category_matches_when_any_one_matches(
    written: str, categories: tuple[str, ...], blocked: bool
) -> None:
    rules = ruleset(f"  block:\n    category: [{written}]\n")
    assert (judge(rules, item(categories=categories), NOW) is not None) == blocked
    keep = ruleset(f"  keep:\n    category: [{written}]\n")
    assert (judge(keep, item(categories=categories), NOW) is None) == blocked


def test_a_field_with_many_patterns_names_the_first_that_matches() -> None:
    rules = ruleset("""\
      block:
        title: [甲, '/乙+/', 丙, '/(?P<x>丁)/', '/(?P<x>戊)/']
    """)
    assert judge(rules, item(title="丙 and 乙"), NOW) == Blocked(
        'block.title "/乙+/" (rules.block.title[1], line 3)'
    )
    # named groups that clash: compiled one by one, still all tested
    assert judge(rules, item(title="戊"), NOW) == Blocked(
        'block.title "/(?P<x>戊)/" (rules.block.title[4], line 3)'
    )
    assert judge(rules, item(title="己"), NOW) is None


def test_a_single_string_is_a_list_of_one() -> None:
    rules = ruleset("  block:\n    author: 营销号\n")
    assert judge(rules, item(author="营销号"), NOW) == Blocked(
        'block.author "营销号" (rules.block.author, line 3)'
    )


# -- keep: fields AND, patterns OR, levels AND ---------------------------------------------------

KEEP = """\
  keep:
    title: [AI, 芯片]
    category: [科技]
"""


@pytest.mark.parametrize(
    ("title", "categories", "kept"),
    [
        ("AI 新模型", ("科技",), True),
        ("芯片 出货", ("数码", "科技"), True),  # either title pattern, any category
        ("AI 新模型", ("财经",), False),  # the category fails
        ("手机 新品", ("科技",), False),  # the title fails
        ("手机 新品", ("财经",), False),
    ],
)
def test_keep_needs_every_field_listed(title: str, categories: tuple[str, ...], kept: bool) -> None:
    got = judge(ruleset(KEEP), item(title=title, categories=categories), NOW)
    assert (got is None) == kept


def test_keep_labels_name_the_field_and_its_patterns() -> None:
    assert judge(ruleset(KEEP), item(title="手机", categories=("科技",)), NOW) == Blocked(
        'keep.title ["AI", "芯片"] (rules.keep.title, line 3)'
    )
    assert judge(ruleset(KEEP), item(title="AI", categories=("财经",)), NOW) == Blocked(
        'keep.category ["科技"] (rules.keep.category, line 4)'
    )
    many = ruleset("  keep:\n    title: [a, b, c, d, e, f, g]\n")
    assert judge(many, item(title="z"), NOW) == Blocked(
        'keep.title ["a", "b", "c", "d", "e", … 2 more] (rules.keep.title, line 3)'
    )


def test_each_levels_keep_must_hold() -> None:
    top = level("  keep:\n    title: [AI]\n")
    feed = level("  keep:\n    title: [芯片]\n")
    both = merge([top, feed])
    assert judge(both, item(title="AI 芯片"), NOW) is None
    assert judge(both, item(title="AI 模型"), NOW) == Blocked(
        'keep.title ["芯片"] (rules.keep.title, line 3)'
    )
    assert judge(both, item(title="芯片"), NOW) is not None
    alone = level("  inherit: false\n  keep:\n    title: [芯片]\n")
    assert judge(merge([top, alone]), item(title="芯片"), NOW) is None


# -- max_age ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "blocked"),
    [
        (timedelta(days=7), False),  # exactly max_age: still kept
        (timedelta(days=7, seconds=1), True),
        (timedelta(days=6, hours=23), False),
        (timedelta(days=400), True),
        (-timedelta(days=3), False),  # a future time is not old
    ],
)
def test_max_age_boundaries(age: timedelta, blocked: bool) -> None:
    got = judge(ruleset("  max_age: 7d\n"), item(time=NOW - age), NOW)
    assert got == (Blocked("max_age 7d") if blocked else None)


def test_max_age_is_the_smallest_of_the_levels() -> None:
    rules = merge([level("  max_age: 30d\n"), level("  max_age: 12h\n"), level("  max_age: 2d\n")])
    assert judge(rules, item(time=NOW - timedelta(hours=13)), NOW) == Blocked("max_age 12h")
    assert judge(rules, item(time=NOW - timedelta(hours=11)), NOW) is None


# -- order, merging, inherit -----------------------------------------------------------------------


def test_block_comes_before_keep_before_max_age() -> None:
    rules = ruleset("""\
      block:
        author: [营销号]
      keep:
        title: [AI]
      max_age: 1d
    """)
    old = NOW - timedelta(days=3)
    assert judge(rules, item(author="营销号", title="x", time=old), NOW) == Blocked(
        'block.author "营销号" (rules.block.author[0], line 3)'
    )
    assert judge(rules, item(title="x", time=old), NOW) == Blocked(
        'keep.title ["AI"] (rules.keep.title, line 5)'
    )
    assert judge(rules, item(title="AI", time=old), NOW) == Blocked("max_age 1d")
    assert judge(rules, item(title="AI"), NOW) is None


def test_parents_block_first_and_inherit_false_drops_them() -> None:
    top = level("  block:\n    title: [新闻]\n")
    site = level("  block:\n    title: [News]\n")
    assert judge(merge([top, site]), ITEM, NOW) == Blocked(
        'block.title "新闻" (rules.block.title[0], line 3)'
    )
    assert judge(merge([site, top]), ITEM, NOW) == Blocked(
        'block.title "News" (rules.block.title[0], line 3)'
    )
    alone = level("  inherit: false\n")
    assert judge(merge([top, site, alone]), ITEM, NOW) is None
    assert judge(merge([top, alone, site]), ITEM, NOW) == Blocked(
        'block.title "News" (rules.block.title[0], line 3)'
    )


def test_no_rules_keep_everything() -> None:
    assert judge(EMPTY, ITEM, NOW) is None
    assert judge(ruleset("  rewrite:\n    remove: [.ad]\n"), ITEM, NOW) is None
    assert judge(ruleset("  block:\n    title: [无关]\n"), ITEM, NOW) is None


def test_the_matcher_is_compiled_once_per_set() -> None:
    rules = ruleset("  block:\n    title: [广告]\n")
    m = matcher(rules)
    assert matcher(rules) is m
    assert isinstance(m, Matcher)
    assert m.judge(item(title="广告"), NOW) == judge(rules, item(title="广告"), NOW) is not None
    equal = ruleset("  block:\n    title: [广告]\n")
    assert matcher(equal) is not m  # cached by identity: an equal set compiles its own


def test_unencodable_text_does_not_crash() -> None:
    rules = ruleset("  block:\n    title: [x]\n    content: ['/y/']\n")
    assert judge(rules, item(title="\ud800 x", content="\udfff"), NOW) is not None


# -- RE2: linear time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["'/(a+)+$/'", "'/(a|aa)+$/'", "'/(.*a){20}$/'", "'/(x+x+)+y/'"]
)
def test_a_catastrophic_pattern_returns_fast(written: str) -> None:
    rules = ruleset(f"  block:\n    title: [{written}]\n    content: [{written}]\n")
    evil = item(title="a" * 50 + "b", content="a" * 100_000 + "b" + "x" * 50)
    matcher(rules)  # compiled outside the clock
    start = time.perf_counter()
    for _ in range(5):
        judge(rules, evil, NOW)
    assert (time.perf_counter() - start) / 5 < 0.05
