"""Tests for feedsite._config._edit: adding feeds to feedsite.yaml text, every other byte kept.

The acceptance case is ``tests/data/opml/commented-feedsite.yaml`` (comments everywhere,
blank lines, quoted keys, anchors, aliases and merge keys, a category indented by 4), as
written and with CRLF line endings and without a final line break: every original line is
still there byte for byte, the result minus the inserted lines is the input, and
``parse_config`` lists the new feeds. Refusals raise and return nothing.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedsite._config._edit import RESERVED_NAMES, ConfigEditError, add_feeds, yaml_str
from feedsite.config import Config, FeedSpec, parse_config
from feedsite.errors import FeedsiteError

DATA = Path(__file__).resolve().parents[1] / "data" / "opml"
COMMENTED = (DATA / "commented-feedsite.yaml").read_text(encoding="utf-8")
FILE = Path("/p/feedsite.yaml")
BREAK = re.compile(r"(?<=\r\n)|(?<=\n)(?<!\r\n)")

#: Additions that touch every kind of place in the commented config.
ADDITIONS = [
    ("新媒体", "观察者网", "评论", "/guancha/comment"),  # a feed of a site with a trailing comment
    ("新媒体", "cnBeta", "yes", "/cnbeta/x"),  # a quoted site key; a YAML-special name
    ("新媒体", "新站", "a: b", "/a"),  # a new site in a category with level settings
    ("编程", "掘金", "全栈", "https://x.example/f.xml"),  # after a multi-line feed mapping
    ("编程", "GitHub", "Trending", "/github/trending/daily"),  # a new site, indent 4
    ("导入", "The Verge", "全部", '"https://www.theverge.com/rss/index.xml"'),  # a category
]


def lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def inserted(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; fails unless ``after`` only inserts lines."""
    a, b = lines(before), lines(after)
    added: list[str] = []
    kept: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), (tag, a[i1:i2], b[j1:j2])
        (kept if tag == "equal" else added).extend(b[j1:j2])
    assert "".join(kept) == before
    return added


def parse(text: str) -> Config:
    return parse_config(text, file=FILE, environ={})


def keys(config: Config) -> list[tuple[str, str, str]]:
    return [(f.category, f.site, f.name) for f in config.feeds]


# -- the acceptance case ----------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["lf", "crlf", "no final newline"])
def test_commented_config_keeps_every_byte(variant: str) -> None:
    text = COMMENTED
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "no final newline":
        text = text.rstrip("\n")
    before = parse(text)
    result = add_feeds(text, ADDITIONS)
    added = inserted(text, result)
    assert len(added) == len(ADDITIONS) + 4  # + the lines of two new sites and a category
    newline = "\r\n" if variant == "crlf" else "\n"
    assert all(line.endswith(newline) for line in lines(result)[:-1])
    assert result.endswith(text[-1])  # a final line break stays, or stays absent
    after = parse(result)
    new = [(c, s, f) for c, s, f, _ in ADDITIONS]
    assert sorted(keys(after)) == sorted(keys(before) + new)
    assert {
        f.key_path: f.route or f.url for f in after.feeds if (f.category, f.site, f.name) in new
    } == {
        "feeds.新媒体.观察者网.评论": "/guancha/comment",
        "feeds.新媒体.cnBeta.yes": "/cnbeta/x",
        "feeds.新媒体.新站.a: b": "/a",
        "feeds.编程.掘金.全栈": "https://x.example/f.xml",
        "feeds.编程.GitHub.Trending": "/github/trending/daily",
        "feeds.导入.The Verge.全部": "https://www.theverge.com/rss/index.xml",
    }

    # everything the old feeds were is unchanged (options, merge keys, level settings)
    def shown(f: FeedSpec) -> str:  # lines moved: the feed's and those its rules name
        return re.sub(r"line \d+", "line ?", repr(dataclasses.replace(f, line=0)))

    old = {f.key_path: shown(f) for f in before.feeds}
    same = [old[f.key_path] == shown(f) for f in after.feeds if f.key_path in old]
    assert len(same) == len(old) and all(same)


def test_commented_config_lines_land_in_their_blocks() -> None:
    result = add_feeds(COMMENTED, ADDITIONS)
    got = "".join(
        line for line in difflib.ndiff(lines(COMMENTED), lines(result)) if line[:2] in ("+ ", "  ")
    )
    context = [
        "        # 评论: /guancha/comment     (commented out: stays inside the site)\n"
        "+       评论: /guancha/comment\n",
        "        头条资讯: /cnbeta              # renamed in the catalog since 2022\n"
        '+       "yes": /cnbeta/x\n'
        "+     新站:\n"
        '+       "a: b": /a\n',
        "                keep: {title: [Go, Rust]}\n"
        "+           全栈: https://x.example/f.xml\n"
        "+       GitHub:\n"
        "+           Trending: /github/trending/daily\n"
        "    # a comment at the category level, after the last category\n"
        "+   导入:\n"
        "+     The Verge:\n"
        '+       全部: "https://www.theverge.com/rss/index.xml"\n',
    ]
    for block in context:
        assert block in got, block


def test_no_feeds_no_change() -> None:
    assert add_feeds(COMMENTED, []) is COMMENTED


def test_empty_feeds_section_is_filled() -> None:
    text = "site:\n  timezone: UTC\nfeeds:   # nothing yet\n\nnative:\n  title: x\n"
    result = add_feeds(text, [("c", "s", "f", "https://e.example/f")])
    assert result == (
        "site:\n  timezone: UTC\nfeeds:   # nothing yet\n  c:\n    s:\n      f: https://e.example/f\n"
        "\nnative:\n  title: x\n"
    )
    assert keys(parse(result)) == [("c", "s", "f")]


def test_empty_category_and_site_are_filled() -> None:
    text = "feeds:\n  c:\n    s:\n  d:\n"
    result = add_feeds(text, [("c", "s", "f", "/f"), ("d", "t", "g", "/g")])
    assert result == "feeds:\n  c:\n    s:\n      f: /f\n  d:\n    t:\n      g: /g\n"


def test_block_scalar_ending_in_a_hash_line_stays_whole() -> None:
    text = "feeds:\n  c:\n    s:\n      f: /x\n      g: |\n        text\n        # not a comment\n"
    result = add_feeds(text, [("c", "s", "h", "/h")])
    assert yaml.safe_load(result)["feeds"]["c"]["s"] == {
        "f": "/x",
        "g": "text\n# not a comment\n",
        "h": "/h",
    }


def test_names_matched_as_feedsite_reads_them() -> None:
    """Existing keys are matched stripped and unquoted, like ``feedsite.config`` reads them."""
    text = "feeds:\n  ' c ':\n    \"s\":\n      f: /f\n"
    result = add_feeds(text, [("c", "s", "g", "/g")])
    assert result == text + "      g: /g\n"


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "feed", "message"),
    [
        (
            "feeds:\n  c:\n    s:\n      f: /f\n",
            ("c", "s", "f", "/x"),
            r"feeds\.c\.s\.f already exists \(line 4\)",
        ),
        ("feeds:\n  c:\n    s:\n      ' f ': /f\n", ("c", "s", "f", "/x"), "already exists"),
        ("site: {}\n", ("c", "s", "f", "/x"), "no feeds: section"),
        ("feeds: {c: {s: {f: /f}}}\n", ("c", "s", "g", "/x"), "flow style"),
        ("feeds: {}\n", ("c", "s", "g", "/x"), "flow style"),
        ("{feeds: {c: {s: {f: /f}}}}\n", ("c", "s", "g", "/x"), "not a plain block-style key"),
        (
            "feeds:\n  c: {s: {f: /f}}\n",
            ("c", "s", "g", "/x"),
            r"feeds\.c \(line 2\) is written in flow style",
        ),
        ("feeds:\n  c:\n    s: {f: /f}\n", ("c", "s", "g", "/x"), "flow style"),
        ("feeds:\n  c:\n    s:\n      {f: /f}\n", ("c", "s", "g", "/x"), "not a block mapping"),
        ("feeds: ~\n", ("c", "s", "g", "/x"), "holds null"),
        (
            "feeds:\n  c:\n    s: null\n",
            ("c", "s", "g", "/x"),
            r"feeds\.c\.s \(line 3\) holds null",
        ),
        ("feeds:\n  c:\n    s: /route\n", ("c", "s", "g", "/x"), "holds a value"),
        ("feeds:\n  c:\n    - /route\n", ("c", "s", "g", "/x"), "holds a list"),
        (
            "feeds:\n  c:\n    s: &a\n      f: /f\n  d:\n    t: *a\n",
            ("c", "s", "g", "/x"),
            "anchor",
        ),
        ("feeds:\n  c:\n    s: &a\n      f: /f\n  d:\n    t: *a\n", ("d", "t", "g", "/x"), "alias"),
        ("feeds:\n  c:\n    s: !!map\n      f: /f\n", ("c", "s", "g", "/x"), "tag"),
        (
            "x: &sites\n  s:\n    f: /f\nfeeds:\n  c:\n    <<: *sites\n",
            ("c", "s", "g", "/x"),
            r"feeds\.c\.s comes from a merge key",
        ),
        (
            "feeds:\n  c:\n    s:\n      f: /f\n  c:\n    t: {}\n",
            ("c", "s", "g", "/x"),
            "duplicate key",
        ),
        ("feeds:\n  c:\n    s:\n      f: [unclosed\n", ("c", "s", "g", "/x"), "invalid YAML"),
        ("- a\n- b\n", ("c", "s", "g", "/x"), "not a mapping of sections"),
        (
            'feeds:\n  c:\n    s:\n      f: {url: "https://x/\n  y"}\n',
            ("c", "s", "g", "/x"),
            "would not read back",
        ),
    ],
)
def test_refusals(text: str, feed: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ConfigEditError, match=message) as info:
        add_feeds(text, [feed])
    assert isinstance(info.value, ValueError) and isinstance(info.value, FeedsiteError)


@pytest.mark.parametrize(
    ("feed", "message"),
    [
        (("", "s", "f", "/x"), "category name must not be empty"),
        (("c", " s", "f", "/x"), "must not start or end with spaces"),
        (("c", "s", "f\tg", "/x"), "control characters"),
        (("c", "s", "f\u2028g", "/x"), "control characters"),
        (("c", "s", "\ud800", "/x"), "invalid character"),
        (("c", "images", "f", "/x"), '"images" cannot be a site name'),
        (("c", "s", "rules", "/x"), '"rules" cannot be a feed name'),
        (("c", "s", "x" * 1001, "/x"), "too long"),
        (("c", "s", "f", ""), "one line of YAML"),
        (("c", "s", "f", "/x\n  g: /y"), "one line of YAML"),
        (("c", "s", "f", "# nothing"), "plain or quoted scalar"),
        (("c", "s", "f", "*alias"), "plain or quoted scalar"),
        (("c", "s", "f", "{url: x"), "not valid YAML"),
        (("c", "s", "f", "~"), "not one YAML value"),
    ],
)
def test_bad_names_and_values(feed: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ConfigEditError, match=message):
        add_feeds("feeds:\n  c:\n    s:\n      f0: /f\n", [feed])


def test_same_feed_asked_twice() -> None:
    with pytest.raises(ConfigEditError, match="asked for twice"):
        add_feeds("feeds:\n", [("c", "s", "f", "/x"), ("c", "s", "f", "/y")])


def test_a_failing_add_leaves_the_file_untouched(tmp_path: Path) -> None:
    """The caller's pattern: write only what add_feeds returned."""
    path = tmp_path / "feedsite.yaml"
    path.write_bytes(COMMENTED.replace("\n", "\r\n").encode("utf-8"))
    before = path.read_bytes()
    with pytest.raises(ConfigEditError):
        path.write_text(
            add_feeds(
                path.read_bytes().decode(), [*ADDITIONS, ("新媒体", "观察者网", "头条", "/x")]
            ),
            encoding="utf-8",
            newline="",
        )
    assert path.read_bytes() == before


# -- quoting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("观察者网", "观察者网"),
        ("Hacker News", "Hacker News"),
        ("C++ Weekly", "C++ Weekly"),
        ("https://x.example/f.xml?a=1&b=2", "https://x.example/f.xml?a=1&b=2"),
        ("yes", '"yes"'),
        ("Off", '"Off"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("123", '"123"'),
        ("1.5", '"1.5"'),
        ("2024-01-01", '"2024-01-01"'),
        ("<<", '"<<"'),
        ("=", '"="'),
        ("a: b", '"a: b"'),
        ("a #b", '"a #b"'),
        ("#1", '"#1"'),
        ("- x", '"- x"'),
        ("&a", '"&a"'),
        ("*a", '"*a"'),
        ("!x", '"!x"'),
        ("'q'", "\"'q'\""),
        ('"q"', '"\\"q\\""'),
        ("@x", '"@x"'),
        ("`x", '"`x"'),
        ("%x", '"%x"'),
        ("[x]", '"[x]"'),
        ("a,b", '"a,b"'),
        ("${HOME}", '"$${HOME}"'),
        ("a\ufeffb", '"a\\ufeffb"'),
        ("a\\b", "a\\b"),
    ],
)
def test_yaml_str(name: str, written: str) -> None:
    assert yaml_str(name) == written


_NAME = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20
).filter(
    lambda s: (
        s == s.strip()
        and not re.search("[\x00-\x1f\x7f\x85\u2028\u2029]", s)
        and s not in RESERVED_NAMES
    )
)
_ADDS = st.lists(st.tuples(_NAME, _NAME, _NAME), min_size=1, max_size=6, unique=True)
BASE = (
    "rsshub:\n  instances: [https://r.example]\nfeeds:\n  # c\n  已有:\n    站:\n"
    "      源: /r   # k\n\n# end\nsite:\n  timezone: UTC\n"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ADDS)
@example([("$${x}", "${HOME}", "$$"), ("yes", "~", "<<"), ("a: b", "#c", "- d")])
@example([("新媒体", "观察者网", "x"), ("编程", "掘金", "y"), ("编程", "新", "z")])
@example([("已有", "站", "新"), ("已有", "新站", "源"), ("\ufeffx", "y\xa0z", "\"q'")])
def test_random_names_read_back_exactly(adds: Sequence[tuple[str, str, str]]) -> None:
    """Whatever the names, YAML reads the result as the old document plus exactly the added
    names, feedsite reads them as given, and the old lines are all still there."""
    for base in (BASE, COMMENTED.replace("\n", "\r\n")):
        _check_random_names(base, adds)


def _check_random_names(base: str, adds: Sequence[tuple[str, str, str]]) -> None:
    rows = [(c, s, f, f"/r/{i}") for i, (c, s, f) in enumerate(adds)]
    old = {(f.category, f.site, f.name): f.route or f.url for f in parse(base).feeds}
    rows = [row for row in rows if row[:3] not in old]
    if not rows:
        return
    result = add_feeds(base, rows)
    assert len(inserted(base, result)) >= len(rows)
    # feedsite's reader: the names exactly as given (`${` included)
    config = parse_config(result, file=FILE, environ={"HOME": "/home/x"})
    got = {(f.category, f.site, f.name): f.route or f.url for f in config.feeds}
    assert got == {**old, **{(c, s, f): v for c, s, f, v in rows}}
    # plain YAML: the same, with feedsite's "$${" escape, and everything else unchanged
    loaded = yaml.safe_load(result)
    expected = yaml.safe_load(base)
    for c, s, f, v in rows:
        esc = [n.replace("${", "$${") for n in (c, s, f)]
        expected["feeds"].setdefault(esc[0], {}).setdefault(esc[1], {})[esc[2]] = v
    assert loaded == expected


@settings(max_examples=150, deadline=None)
@given(_NAME)
def test_yaml_str_reads_back_as_a_key_and_a_value(name: str) -> None:
    written = yaml_str(name)
    expect = name.replace("${", "$${")
    assert yaml.safe_load(f"{written}: {written}\n") == {expect: expect}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "\ufefffeeds:\n  c:\n    s:\n      f: /f\n",
            "\ufefffeeds:\n  c:\n    s:\n      f: /f\n      g: /g\n  d:\n    t:\n      h: /h\n",
        ),
        (
            "feeds:\r  c:\r    s:\r      f: /f",
            "feeds:\r  c:\r    s:\r      f: /f\r      g: /g\r  d:\r    t:\r      h: /h",
        ),
        (
            "feeds:\n    c:\n        s:\n            f: /f\n",
            "feeds:\n    c:\n        s:\n            f: /f\n            g: /g\n"
            "    d:\n        t:\n            h: /h\n",
        ),
    ],
)
def test_bom_line_breaks_and_indentation_kept(text: str, want: str) -> None:
    assert add_feeds(text, [("c", "s", "g", "/g"), ("d", "t", "h", "/h")]) == want
