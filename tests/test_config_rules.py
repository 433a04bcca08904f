"""Reading ``rules:`` (issue #13): values, errors naming key path and line, merging, keys.

The reader is exercised on its own (``read_rules`` on a line-numbered tree); where ``rules:``
sits in the config (top, category, site, feed) is config.py's business.
"""

from __future__ import annotations

from datetime import timedelta
from textwrap import dedent

import pytest

from feedsite._config._rules import (
    EMPTY,
    Pattern,
    Replace,
    Rules,
    RuleSet,
    merge,
    read_rules,
    show_duration,
)
from feedsite._config._tree import MapNode, Reader
from feedsite.errors import ConfigError


def read(text: str, path: str = "rules") -> tuple[Rules, list[str]]:
    """Read the value of the document's one top-level key as a level's rules."""
    r = Reader("feedsite.yaml", {}, max_values=100_000)
    tree = r.parse(dedent(text))
    assert isinstance(tree, MapNode)
    return read_rules(r, tree.entries[0].value, path), r.warnings


def rules(text: str) -> Rules:
    return read(text)[0]


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        read(text)
    return info.value


def kw(text: str, where: str) -> Pattern:
    return Pattern(text, False, "", where)


def rx(text: str, flags: str, where: str) -> Pattern:
    return Pattern(text, True, flags, where)


# -- values --------------------------------------------------------------------------------------


FULL = """\
rules:
  block:
    title: [广告, 推广, "/^【.*赞助.*】/i"]
    content: ["/扫码(关注|领取)/"]
    author: 营销号
    link: ["/utm_source=ads/"]
    category: [软文]
  keep:
    title: [AI, 芯片]
  max_age: 7d
  rewrite:
    remove: ["div.share-bar", ".qrcode", "p:contains('扫码')"]
    replace:
      - {pattern: "/本文来自.*?转载/", with: ""}
      - {pattern: 原文链接, with: "→"}
    drop_images: ["/qrcode|erweima/i", "*.gif"]
  inherit: false
"""


def test_the_documented_example_reads_as_written() -> None:
    got, warnings = read(FULL)
    assert warnings == []
    assert got == Rules(
        block=(
            (
                "title",
                (
                    kw("广告", "rules.block.title[0] (line 3)"),
                    kw("推广", "rules.block.title[1] (line 3)"),
                    rx("^【.*赞助.*】", "i", "rules.block.title[2] (line 3)"),
                ),
            ),
            ("content", (rx("扫码(关注|领取)", "", "rules.block.content[0] (line 4)"),)),
            ("author", (kw("营销号", "rules.block.author (line 5)"),)),
            ("link", (rx("utm_source=ads", "", "rules.block.link[0] (line 6)"),)),
            ("category", (kw("软文", "rules.block.category[0] (line 7)"),)),
        ),
        keep=(
            (
                "title",
                (
                    kw("AI", "rules.keep.title[0] (line 9)"),
                    kw("芯片", "rules.keep.title[1] (line 9)"),
                ),
            ),
        ),
        max_age=timedelta(days=7),
        remove=("div.share-bar", ".qrcode", "p:contains('扫码')"),
        replace=(
            Replace(rx("本文来自.*?转载", "", "rules.rewrite.replace[0].pattern (line 14)"), ""),
            Replace(kw("原文链接", "rules.rewrite.replace[1].pattern (line 15)"), "→"),
        ),
        drop_images=(
            rx("qrcode|erweima", "i", "rules.rewrite.drop_images[0] (line 16)"),
            kw("*.gif", "rules.rewrite.drop_images[1] (line 16)"),
        ),
        inherit=False,
    )


@pytest.mark.parametrize(
    ("written", "text", "regex", "flags"),
    [
        ("广告", "广告", False, ""),
        ("'/news/2024'", "/news/2024", False, ""),  # no closing slash + letters: a keyword
        ("'//'", "//", False, ""),
        ("'/a/'", "a", True, ""),
        ("'/a/i'", "a", True, "i"),
        ("'/a.b/is'", "a.b", True, "is"),
        ("'/^x$/m'", "^x$", True, "m"),
        ("'/a/b/'", "a/b", True, ""),
        ("2024", "2024", False, ""),  # a number reads as the text written
        ("'  spaced  '", "  spaced  ", False, ""),
    ],
)
def test_pattern_forms(written: str, text: str, regex: bool, flags: str) -> None:
    got = rules(f"rules:\n  block:\n    title: [{written}]\n")
    ((_, (pattern,)),) = got.block
    assert (pattern.text, pattern.regex, pattern.flags) == (text, regex, flags)


def test_null_and_empty_levels_are_no_rules() -> None:
    assert rules("rules:\n") == Rules()
    assert rules("rules: {}\n") == Rules()
    assert rules("rules:\n  block:\n  rewrite:\n  inherit:\n") == Rules()
    assert rules("rules:\n  block: {title: []}\n") == Rules()


def test_a_replace_step_may_be_one_mapping_and_with_defaults_to_nothing() -> None:
    got = rules("rules:\n  rewrite:\n    replace: {pattern: 推广}\n")
    assert got.replace == (Replace(kw("推广", "rules.rewrite.replace.pattern (line 3)"), ""),)


def test_durations() -> None:
    assert rules("rules: {max_age: 12h}\n").max_age == timedelta(hours=12)
    assert rules("rules: {max_age: 3}\n").max_age == timedelta(days=3)
    assert rules("rules: {max_age: 2w}\n").max_age == timedelta(weeks=2)
    assert [show_duration(timedelta(seconds=s)) for s in (45, 5400, 43200, 604800)] == [
        "45s",
        "90m",
        "12h",
        "7d",
    ]


def test_a_selector_written_twice_counts_once() -> None:
    assert rules("rules: {rewrite: {remove: [.a, .b, .a]}}\n").remove == (".a", ".b")


def test_warns_when_a_block_pattern_matches_everything() -> None:
    got, warnings = read("rules:\n  block:\n    title: ['/x*/']\n")
    assert got.block[0][1][0].text == "x*"
    assert len(warnings) == 1
    assert "line 3, at rules.block.title[0]" in warnings[0]
    assert "matches every item" in warnings[0]
    _, warnings = read("rules:\n  rewrite:\n    drop_images: ['*']\n")
    assert "matches every image" in warnings[0]
    _, warnings = read("rules:\n  keep:\n    title: ['/^/']\n")  # keeps everything: fine
    assert warnings == []


# -- errors: each names the key path and the line ------------------------------------------------


ERRORS = [
    # (config, key path, line, part of the message)
    (
        "rules:\n  blok: {title: [x]}\n",
        "rules.blok",
        2,
        'unknown key "blok" (did you mean "block"?)',
    ),
    ("rules: [x]\n", "rules", 1, "expected a mapping of rules"),
    ("rules:\n  block: [广告]\n", "rules.block", 2, "expected a mapping of fields"),
    (
        "rules:\n  block:\n    titel: [x]\n",
        "rules.block.titel",
        3,
        'unknown field "titel" (did you mean "title"?)',
    ),
    ("rules:\n  block:\n    date: [x]\n", "rules.block.date", 3, "use max_age"),
    ("rules:\n  block:\n    categories: [x]\n", "rules.block.categories", 3, '"category"'),
    ("rules:\n  block:\n    title: {a: b}\n", "rules.block.title", 3, "got a mapping"),
    ("rules:\n  block:\n    title: [[a]]\n", "rules.block.title[0]", 3, "expected a keyword"),
    ("rules:\n  block:\n    title: [a, '']\n", "rules.block.title[1]", 3, "empty pattern"),
    ("rules:\n  block:\n    title: [a, ~]\n", "rules.block.title[1]", 3, "got nothing"),
    ("rules:\n  block:\n    title: ['/(a/']\n", "rules.block.title[0]", 3, "missing )"),
    (
        "rules:\n  block:\n    content:\n      - '/(a)\\1/'\n",
        "rules.block.content[0]",
        4,
        "RE2 has no backreferences",
    ),
    ("rules:\n  block:\n    title: ['/a(?=b)/']\n", "rules.block.title[0]", 3, "no lookahead"),
    ("rules:\n  block:\n    title: ['/(?<!a)b/']\n", "rules.block.title[0]", 3, "no lookbehind"),
    ("rules:\n  block:\n    title: ['/a\\Z/']\n", "rules.block.title[0]", 3, "\\z"),
    ("rules:\n  block:\n    title: ['/a)(b/']\n", "rules.block.title[0]", 3, "RE2"),
    ("rules:\n  block:\n    link: ['/news/ads']\n", "rules.block.link[0]", 3, "[/]news[/]ads"),
    ("rules:\n  block:\n    title: ['/a/ii']\n", "rules.block.title[0]", 3, "flag written twice"),
    ("rules:\n  keep:\n    title: []\n", "rules.keep.title", 3, "at least one pattern"),
    ("rules:\n  max_age: 7 days\n", "rules.max_age", 2, 'expected a duration like "7d"'),
    ("rules:\n  max_age: 0\n", "rules.max_age", 2, "expected a duration"),
    ("rules:\n  max_age: [7d]\n", "rules.max_age", 2, "expected a duration"),
    ("rules:\n  inherit: maybe\n", "rules.inherit", 2, "expected true or false"),
    ("rules:\n  rewrite: [x]\n", "rules.rewrite", 2, "expected a mapping of rewrite steps"),
    (
        "rules:\n  rewrite:\n    remov: [.a]\n",
        "rules.rewrite.remov",
        3,
        '(did you mean "remove"?)',
    ),
    ("rules:\n  rewrite:\n    remove: ['div[']\n", "rules.rewrite.remove[0]", 3, "CSS selector"),
    ("rules:\n  rewrite:\n    remove: [.a, 'p::x(']\n", "rules.rewrite.remove[1]", 3, "CSS"),
    ("rules:\n  rewrite:\n    remove: ['  ']\n", "rules.rewrite.remove[0]", 3, "it is empty"),
    ("rules:\n  rewrite:\n    replace: 原文\n", "rules.rewrite.replace", 3, "expected a list"),
    ("rules:\n  rewrite:\n    replace: [原文]\n", "rules.rewrite.replace[0]", 3, "a step"),
    (
        "rules:\n  rewrite:\n    replace:\n      - {with: x}\n",
        "rules.rewrite.replace[0]",
        4,
        "needs a pattern",
    ),
    (
        "rules:\n  rewrite:\n    replace:\n      - {pattern: x, wiht: y}\n",
        "rules.rewrite.replace[0].wiht",
        4,
        '(did you mean "with"?)',
    ),
    (
        "rules:\n  rewrite:\n    replace:\n      - {pattern: x, with: 3}\n",
        "rules.rewrite.replace[0].with",
        4,
        "quote it",
    ),
    (
        "rules:\n  rewrite:\n    replace:\n      - pattern: x\n        with: [y]\n",
        "rules.rewrite.replace[0].with",
        5,
        "expected text",
    ),
    (
        "rules:\n  rewrite:\n    replace:\n      - {pattern: '/a*/'}\n",
        "rules.rewrite.replace[0].pattern",
        4,
        "matches the empty text",
    ),
    (
        "rules:\n  rewrite:\n    drop_images: ['/(?=x)/']\n",
        "rules.rewrite.drop_images[0]",
        3,
        "lookahead",
    ),
    (
        "rules:\n  block:\n    title: ['" + "x" * 1001 + "']\n",
        "rules.block.title[0]",
        3,
        "at most 1,000 characters",
    ),
]


@pytest.mark.parametrize(("text", "path", "line", "message"), ERRORS)
def test_errors_name_the_key_path_and_the_line(
    text: str, path: str, line: int, message: str
) -> None:
    exc = error(text)
    assert (exc.key_path, exc.line) == (path, line), str(exc)
    assert message in exc.message, exc.message
    assert str(exc).startswith(f"feedsite.yaml, line {line}, at {path}: ")


def test_errors_use_the_path_given_for_the_level() -> None:
    with pytest.raises(ConfigError) as info:
        read("x:\n  block:\n    title: ['/(a)\\1/']\n", path="feeds.科技.36氪.rules")
    assert info.value.key_path == "feeds.科技.36氪.rules.block.title[0]"
    assert info.value.line == 3


# -- merging -------------------------------------------------------------------------------------


def level(text: str) -> Rules:
    return rules("rules:\n" + text)


TOP = level("""\
  block: {title: [a1], author: [x]}
  keep: {title: [k1]}
  max_age: 30d
  rewrite: {remove: [.top, .both], replace: [{pattern: t}], drop_images: [top.gif]}
""")
MIDDLE = level("""\
  block: {title: [a2], link: [l]}
  max_age: 7d
  rewrite: {remove: [.both, .middle]}
""")
FEED = level("""\
  block: {title: [a3]}
  keep: {author: [k2]}
  max_age: 14d
  rewrite: {replace: [{pattern: f}], drop_images: [top.gif, feed.gif]}
""")


def texts(patterns: tuple[Pattern, ...]) -> list[str]:
    return [p.text for p in patterns]


def test_merge_accumulates_parents_first() -> None:
    got = merge([TOP, MIDDLE, FEED])
    assert [(f, texts(ps)) for f, ps in got.block] == [
        ("title", ["a1", "a2", "a3"]),
        ("author", ["x"]),
        ("link", ["l"]),
    ]
    assert [[(f, texts(ps)) for f, ps in keep] for keep in got.keeps] == [
        [("title", ["k1"])],
        [("author", ["k2"])],
    ]
    assert got.max_age == timedelta(days=7)  # the smallest
    assert got.remove == (".top", ".both", ".middle")
    assert [s.pattern.text for s in got.replace] == ["t", "f"]
    assert texts(got.drop_images) == ["top.gif", "feed.gif"]


def test_inherit_false_drops_every_level_above() -> None:
    alone = level("  inherit: false\n  block: {title: [own]}\n")
    got = merge([TOP, MIDDLE, alone, FEED])
    assert [(f, texts(ps)) for f, ps in got.block] == [("title", ["own", "a3"])]
    assert got.max_age == timedelta(days=14)
    assert got.remove == ()
    assert [[f for f, _ in keep] for keep in got.keeps] == [["author"]]
    assert merge([TOP, level("  inherit: false\n")]) == EMPTY


def test_merge_of_nothing_is_empty() -> None:
    assert merge([]) == EMPTY
    assert merge([Rules(), Rules()]).empty
    assert EMPTY.empty and not EMPTY.has_rewrite and not EMPTY.needs_content


def test_properties() -> None:
    assert not merge([level("  max_age: 1d\n")]).empty
    assert merge([level("  keep: {content: [x]}\n")]).needs_content
    assert not merge([level("  block: {title: [x]}\n")]).needs_content
    assert merge([level("  rewrite: {drop_images: [x]}\n")]).has_rewrite


def test_keys_are_stable_short_and_ignore_positions() -> None:
    a = merge([TOP, MIDDLE, FEED])
    moved = merge([level("\n\n" + "  block: {title: [a1], author: [x]}\n"), MIDDLE, FEED])
    assert len(a.key()) == 16
    assert a.key() == merge([TOP, MIDDLE, FEED]).key()
    # the same patterns written on other lines
    top_again = level("""\

  block:
    title: [a1]
    author: [x]
  keep: {title: [k1]}
  max_age: 30d
  rewrite: {remove: [.top, .both], replace: [{pattern: t}], drop_images: [top.gif]}
""")
    assert merge([top_again, MIDDLE, FEED]).key() == a.key()
    assert moved.key() != a.key()
    assert EMPTY.key() != a.key()


def test_rewrite_key_changes_with_rewrite_steps_only() -> None:
    base = merge([TOP])
    other_block = merge([TOP, level("  block: {title: [new]}\n")])
    other_step = merge([TOP, level("  rewrite: {remove: [.new]}\n")])
    assert other_block.key() != base.key()
    assert other_block.rewrite_key() == base.rewrite_key() != ""
    assert other_step.rewrite_key() != base.rewrite_key()
    assert merge([level("  block: {title: [x]}\n")]).rewrite_key() == ""


def test_a_key_tells_a_keyword_from_the_same_text_as_an_expression() -> None:
    keyword = merge([level("  block: {title: ['a.b']}\n")])
    expression = merge([level("  block: {title: ['/a.b/']}\n")])
    flagged = merge([level("  block: {title: ['/a.b/i']}\n")])
    assert len({keyword.key(), expression.key(), flagged.key()}) == 3


def test_a_ruleset_is_a_value() -> None:
    a, b = merge([TOP, FEED]), merge([TOP, FEED])
    assert a == b and hash(a) == hash(b)
    assert isinstance(a, RuleSet)
