"""Tests for feedsite.config: the example file, each kind of mistake, and fuzzing."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsite.config import (
    DEFAULT_IFRAME_HOSTS,
    DEFAULT_PLACEHOLDER,
    NO_TIMEZONE_WARNING,
    CleanConfig,
    Config,
    FeedSpec,
    FetchConfig,
    RsshubConfig,
    SiteConfig,
    load_config,
    parse_config,
)
from feedsite.errors import ConfigError

DATA = Path(__file__).parent / "data" / "config"
EXAMPLE = DATA / "example.yaml"
FILE = Path("/cfg/feedsite.yaml")
ROOT = Path("/cfg")

#: A minimal valid head that the mistake cases below build on (feeds start on line 5).
HEAD = """\
site:
  timezone: Asia/Shanghai
rsshub:
  instances: [https://rsshub.example.org]
"""


def parse(text: str, environ: dict[str, str] | None = None) -> Config:
    return parse_config(dedent(text), file=FILE, environ=environ or {})


def error(text: str, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text, environ)
    return info.value


# -- the example --------------------------------------------------------------------------


def _example_feeds(root: Path) -> tuple[FeedSpec, ...]:
    def spec(cat: str, site: str, name: str, route: str | None, url: str | None, items: int,
             line: int) -> FeedSpec:  # fmt: skip
        return FeedSpec(cat, site, name, route, url, items, items, None, None, line)

    return (
        spec("新媒体", "观察者网", "头条", "/guancha/headline", None, 15, 13),
        spec("新媒体", "观察者网", "首页", "/guancha", None, 5, 14),
        spec("编程", "掘金", "前端", None, "https://example.org/feed.xml", 15, 17),
        spec("编程", "本地", "样例", None, "file:///abs/path/feed.xml", 15, 19),
        spec("编程", "本地", "另一", None, (root / "feeds" / "other.xml").as_uri(), 15, 20),
    )


@pytest.mark.parametrize("environ", [{}, {"RSSHUB_KEY": "s3cret"}], ids=["no-key", "key"])
def test_example_loads_with_every_field(environ: dict[str, str]) -> None:
    config = load_config(EXAMPLE, environ=environ)
    root = EXAMPLE.parent.absolute()
    assert config.file == root / "example.yaml"
    assert config.root == root
    assert config.site == SiteConfig(
        hexo_root=root / "blog",
        profile="default",
        timezone="Asia/Shanghai",
        image_proxy=None,
        placeholder=DEFAULT_PLACEHOLDER,
        source_key="source_url",
    )
    assert config.rsshub == RsshubConfig(
        instances=("https://rsshub.example.org", "https://mirror.example.net"),
        access_key=environ.get("RSSHUB_KEY"),
    )
    assert config.fetch == FetchConfig(concurrency=8, timeout=30.0, user_agent=None)
    assert config.clean == CleanConfig(iframe_hosts=DEFAULT_IFRAME_HOSTS)
    assert config.state_path == root / ".feedsite" / "state.sqlite"
    assert config.feeds == _example_feeds(root)
    if environ:
        assert config.warnings == ()
    else:
        (warning,) = config.warnings
        assert "RSSHUB_KEY" in warning
        assert "line 7" in warning


def test_feed_spec_properties() -> None:
    feed = load_config(EXAMPLE, environ={}).feeds[0]
    assert feed.key == '["新媒体", "观察者网", "头条"]'
    assert json.loads(feed.key) == ["新媒体", "观察者网", "头条"]
    assert feed.key_path == "feeds.新媒体.观察者网.头条"
    assert feed.label == "新媒体 › 观察者网 › 头条"
    with pytest.raises(dataclasses.FrozenInstanceError):
        feed.name = "x"  # type: ignore[misc]


def test_load_config_messages_use_the_path_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("feedsite.yaml").write_text("feeds:\n  a:\n    b:\n      c: ftp://x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config("feedsite.yaml", environ={})
    assert str(info.value).startswith("feedsite.yaml, line 4, at feeds.a.b.c: ")
    assert info.value.file == "feedsite.yaml"


def test_load_config_uses_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RSSHUB_KEY", "from-env")
    assert load_config(EXAMPLE).rsshub.access_key == "from-env"


# -- values --------------------------------------------------------------------------------


def test_all_sections_and_defaults() -> None:
    config = parse(
        """\
        site:
          hexo_root: /srv/blog
          profile: legacy
          image_proxy: https://images.example.org/?url=
          placeholder: "https://img.example.org/{id}/{n:04d}.jpg"
          source_key: original-link
        rsshub:
          instances: https://rsshub.example.org///
          access_key: ""
        fetch: {concurrency: 2, timeout: 7, user_agent: feedsite/1.0}
        clean: {iframe_hosts: [Player.Bilibili.com, player.bilibili.com, v.qq.com]}
        state: {path: ../state/feeds.sqlite}
        defaults: {items_per_feed: 20, keep: 100, max_age: 30d, timezone: Asia/Tokyo}
        feeds:
          c:
            s:
              a: /a
              b: {url: http://example.org/rss, keep: 3, max_age: null, timezone: UTC}
              d: {route: /d, items_per_feed: 1, max_age: 12h}
        """
    )
    assert config.site == SiteConfig(
        Path("/srv/blog"), "legacy", None, "https://images.example.org/?url=",
        "https://img.example.org/{id}/{n:04d}.jpg", "original-link",
    )  # fmt: skip
    assert config.rsshub == RsshubConfig(("https://rsshub.example.org",), None)
    assert config.fetch == FetchConfig(concurrency=2, timeout=7.0, user_agent="feedsite/1.0")
    assert isinstance(config.fetch.timeout, float)
    assert config.clean == CleanConfig(("player.bilibili.com", "v.qq.com"))
    assert config.state_path == Path("/state/feeds.sqlite")
    a, b, d = config.feeds
    assert (a.items_per_feed, a.keep, a.max_age, a.timezone) == (
        20, 100, timedelta(days=30), "Asia/Tokyo",
    )  # fmt: skip
    assert (b.items_per_feed, b.keep, b.max_age, b.timezone) == (20, 3, None, "UTC")
    assert (d.items_per_feed, d.keep, d.max_age) == (1, 100, timedelta(hours=12))
    assert config.warnings == ()  # defaults.timezone counts as a timezone


def test_keep_defaults_to_the_feeds_items_per_feed() -> None:
    config = parse(HEAD + "feeds: {c: {s: {a: {route: /a, items_per_feed: 7}, b: /b}}}\n")
    assert [(f.items_per_feed, f.keep) for f in config.feeds] == [(7, 7), (15, 15)]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("7", timedelta(days=7)),
        ('"7"', timedelta(days=7)),
        ('" 3 d "', timedelta(days=3)),
    ],
)
def test_max_age_forms(written: str, expected: timedelta) -> None:
    config = parse(HEAD + f"defaults: {{max_age: {written}}}\nfeeds: {{c: {{s: {{f: /x}}}}}}\n")
    assert config.feeds[0].max_age == expected


def test_keys_are_read_as_their_source_text() -> None:
    config = parse(
        HEAD
        + dedent(
            """\
        feeds:
          2024:
            123: {yes: /a, null: /b, 1.50: /c}
        """
        )
    )
    assert [(f.category, f.site, f.name) for f in config.feeds] == [
        ("2024", "123", "yes"), ("2024", "123", "null"), ("2024", "123", "1.50"),
    ]  # fmt: skip


def test_names_are_stripped() -> None:
    config = parse(HEAD + 'feeds: {" c ": {"s ": {" f": /x}}}\n')
    assert config.feeds[0].key_path == "feeds.c.s.f"


def test_no_timezone_warning() -> None:
    config = parse("feeds: {c: {s: {f: https://example.org/rss}}}\n")
    assert config.warnings == (NO_TIMEZONE_WARNING,)
    config = parse(
        "feeds: {c: {s: {f: {url: https://example.org/rss, timezone: Asia/Shanghai}}}}\n"
    )
    assert config.warnings == ()


def test_empty_category_and_site_warn() -> None:
    config = parse(HEAD + "feeds:\n  empty:\n  c:\n    s:\n    t: {f: /x}\n")
    assert len(config.feeds) == 1
    assert len(config.warnings) == 2
    assert "line 6, at feeds.empty" in config.warnings[0]
    assert "line 8, at feeds.c.s" in config.warnings[1]


# -- environment variables ------------------------------------------------------------------


def test_env_substitution_forms() -> None:
    config = parse(
        """\
        site:
          hexo_root: ${HOME}/blog
          timezone: ${TZ_NAME:-Asia/Shanghai}
          placeholder: "https://x.example.org/$${n}?${EMPTY}{n}"
        rsshub:
          instances: ["${SCHEME:-https}://${HOST}"]
          access_key: ${KEY:-}
        defaults:
          items_per_feed: ${N}
        feeds: {c: {s: {f: /x}}}
        """,
        {"HOME": "/home/u", "HOST": "rss.example.org", "N": "5", "EMPTY": ""},
    )
    assert config.site.hexo_root == Path("/home/u/blog")
    assert config.site.timezone == "Asia/Shanghai"
    assert config.site.placeholder == "https://x.example.org/${n}?{n}"
    assert config.rsshub == RsshubConfig(("https://rss.example.org",), None)
    assert config.feeds[0].items_per_feed == 5  # plain ${N} is typed after substitution
    assert config.warnings == ()


def test_unset_variable_warns_with_name_and_line() -> None:
    config = parse(HEAD + FEEDS + "      f:\n        route: /x\n        timezone: ${TZ_X}\n")
    assert config.feeds[0].timezone is None
    (warning,) = config.warnings
    assert warning == (
        "/cfg/feedsite.yaml, line 10, at feeds.c.s.f.timezone: "
        'environment variable TZ_X is not set; using ""'
    )


def test_quoted_variable_stays_text() -> None:
    err = error(HEAD + 'feeds: {c: {s: {f: {route: /x, items_per_feed: "${N}"}}}}\n', {"N": "5"})
    assert err.key_path == "feeds.c.s.f.items_per_feed"


# -- YAML features --------------------------------------------------------------------------


def test_merge_keys_and_aliases() -> None:
    config = parse(
        HEAD
        + dedent(
            """\
        feeds:
          c:
            s:
              a: &base {route: /a, items_per_feed: 3, keep: 9}
              b: {<<: *base, route: /b}
        """
        )
    )
    a, b = config.feeds
    assert (b.route, b.items_per_feed, b.keep) == ("/b", 3, 9)
    assert a.route == "/a"


def test_recursive_alias_is_an_error_not_a_hang() -> None:
    err = error(HEAD + "feeds: &x {c: {s: {f: *x}}}\n")
    assert (err.key_path, err.line) == ("feeds.c.s.f.c", 5)


# -- mistakes: each names the key path and the line ------------------------------------------

FEEDS = "feeds:\n  c:\n    s:\n"  # lines 5-7; a feed written after it is on line 8

MISTAKES = [
    # text, key path, line, fragment of the message
    pytest.param(HEAD + "feedz: {}\n", "feedz", 5, 'did you mean "feeds"', id="unknown-top-level"),
    pytest.param(
        "site:\n  timezone: UTC\n  hexoroot: ./blog\n" + FEEDS + "      f: https://e.org/\n",
        "site.hexoroot",
        3,
        'unknown key "hexoroot" (did you mean "hexo_root"?)',
        id="unknown-site-key",
    ),
    pytest.param(
        "site:\n  profile: Legacy\n" + FEEDS + "      f: https://e.org/\n",
        "site.profile",
        2,
        'expected "default" or "legacy", got "Legacy" (did you mean "legacy"?)',
        id="bad-profile",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {route: /x, items_per_feed: five}\n",
        "feeds.c.s.f.items_per_feed",
        8,
        'expected a whole number 1..10000, got "five"',
        id="items-five",
    ),
    pytest.param(
        HEAD + FEEDS + "      f:\n        route: /x\n        items_per_feed: 0\n",
        "feeds.c.s.f.items_per_feed",
        10,
        "expected a whole number 1..10000, got 0",
        id="items-zero",
    ),
    pytest.param(
        HEAD + "defaults:\n  items_per_feed: true\n" + "feeds: {c: {s: {f: /x}}}\n",
        "defaults.items_per_feed",
        6,
        "got true",
        id="items-true",
    ),
    pytest.param(
        HEAD + FEEDS + '      f: {route: /x, items_per_feed: "15"}\n',
        "feeds.c.s.f.items_per_feed",
        8,
        "without quotes",
        id="items-quoted",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {route: /x, keep: 10001}\n",
        "feeds.c.s.f.keep",
        8,
        "1..10000",
        id="keep-too-big",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {route: /x, max_age: 30 days}\n",
        "feeds.c.s.f.max_age",
        8,
        'expected a duration like "30d"',
        id="bad-max-age",
    ),
    pytest.param(
        HEAD + "defaults:\n  max_age: 0d\nfeeds: {c: {s: {f: /x}}}\n",
        "defaults.max_age",
        6,
        'got "0d"',
        id="zero-max-age",
    ),
    pytest.param(
        "site:\n  timezone: " + "a/" * 300 + "b\n" + FEEDS + "      f: https://e.org/\n",
        "site.timezone",
        2,
        "expected an IANA time zone name",
        id="deep-timezone",
    ),
    pytest.param(
        "site:\n  timezone: Asia/Beijing\n" + FEEDS + "      f: https://e.org/\n",
        "site.timezone",
        2,
        "expected an IANA time zone name",
        id="bad-timezone",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {route: /x, timezone: asia/shanghai}\n",
        "feeds.c.s.f.timezone",
        8,
        'did you mean "Asia/Shanghai"',
        id="lowercase-timezone",
    ),
    pytest.param(
        "site: {timezone: UTC}\n"
        + FEEDS.replace("feeds", "\nfeeds")
        + "      f: /guancha/headline\n",
        "feeds.c.s.f",
        6,
        "route /guancha/headline needs rsshub.instances",
        id="route-without-instances",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: ftp://example.org/feed.xml\n",
        "feeds.c.s.f",
        8,
        'expected an RSSHub route starting with "/" or an http://, https:// or file:// URL',
        id="ftp-url",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: guancha/headline\n",
        "feeds.c.s.f",
        8,
        'did you mean "/guancha/headline"?',
        id="route-without-slash",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {url: 'https:///feed.xml'}\n",
        "feeds.c.s.f.url",
        8,
        "file:// URL",
        id="http-without-host",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {url: /x}\n",
        "feeds.c.s.f.url",
        8,
        "use route: for an RSSHub route",
        id="route-in-url-key",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {route: /x, url: https://e.org/}\n",
        "feeds.c.s.f",
        8,
        "expected exactly one of route, url or path, found route and url",
        id="route-and-url",
    ),
    pytest.param(
        HEAD + FEEDS + "      f:\n        items_per_feed: 5\n",
        "feeds.c.s.f",
        8,
        "expected exactly one of route, url or path, found none",
        id="no-source",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: {route: /x, item_per_feed: 5}\n",
        "feeds.c.s.f.item_per_feed",
        8,
        'did you mean "items_per_feed"',
        id="unknown-feed-option",
    ),
    pytest.param(
        HEAD + "feeds:\n  编程:\n    掘金: /juejin\n",
        "feeds.编程.掘金",
        7,
        "three levels",
        id="feed-at-site-level",
    ),
    pytest.param(
        HEAD + "feeds:\n  编程: /juejin\n",
        "feeds.编程",
        6,
        "three levels",
        id="feed-at-category-level",
    ),
    pytest.param(
        HEAD + FEEDS + "      f:\n        g: /x\n",
        "feeds.c.s.f.g",
        9,
        "allowed here: route",
        id="four-levels",
    ),
    pytest.param(
        HEAD + FEEDS + "      f:\n", "feeds.c.s.f", 8, "got nothing (null)", id="null-feed"
    ),
    pytest.param(
        HEAD + FEEDS + "      f: /x\n      g: /y\n      f: /z\n",
        "feeds.c.s.f",
        10,
        'duplicate key "f": first at line 8, again at line 10',
        id="duplicate-key",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: /x\n      ' f': /y\n",
        "feeds.c.s.f",
        9,
        "first at line 8, again at line 9",
        id="duplicate-after-strip",
    ),
    pytest.param(
        HEAD + "site: {}\nfeeds: {c: {s: {f: /x}}}\n",
        "site",
        5,
        "first at line 1, again at line 5",
        id="duplicate-section",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: /x\n     g: [unclosed\n", "", 9, "invalid YAML", id="yaml-syntax"
    ),
    pytest.param(HEAD + "feeds:\n\tc: 1\n", "", 6, "invalid YAML", id="yaml-tab"),
    pytest.param(
        HEAD + "feeds: {}\n", "feeds", 5, "expected at least one feed", id="empty-feeds-mapping"
    ),
    pytest.param(
        HEAD + "feeds:\n", "feeds", 5, "expected at least one feed", id="empty-feeds-null"
    ),
    pytest.param(
        HEAD + "feeds:\n  c:\n", "feeds", 5, "expected at least one feed", id="feeds-without-feeds"
    ),
    pytest.param(HEAD, "feeds", None, "missing the required feeds: section", id="missing-feeds"),
    pytest.param(
        "site: {hexo_root: blog, timezone: UTC}\nstate:\n  path: blog/source/s.db\n"
        "feeds: {c: {s: {f: https://e.org/}}}\n",
        "state.path",
        3,
        "<hexo_root>/source",
        id="state-under-source",
    ),
    pytest.param(
        "site: {hexo_root: /b, timezone: UTC}\nstate: {path: /b/public}\n"
        "feeds: {c: {s: {f: https://e.org/}}}\n",
        "state.path",
        2,
        "<hexo_root>/public",
        id="state-under-public",
    ),
    pytest.param(
        "site:\n  timezone: UTC\n  placeholder: 'https://p.org/{x}.jpg'\n"
        "feeds: {c: {s: {f: https://e.org/}}}\n",
        "site.placeholder",
        3,
        "{x} in",
        id="placeholder-field",
    ),
    pytest.param(
        "site:\n  placeholder: 'https://p.org/{n'\nfeeds: {c: {s: {f: https://e.org/}}}\n",
        "site.placeholder",
        2,
        "only fields are {n}",
        id="placeholder-brace",
    ),
    pytest.param(
        "rsshub:\n  instances:\n    - https://ok.example.org\n    - rsshub.example.org\n"
        + "feeds: {c: {s: {f: /x}}}\n",
        "rsshub.instances[1]",
        4,
        "an http:// or https:// URL",
        id="bad-instance",
    ),
    pytest.param(
        "rsshub:\n  instances: {a: b}\nfeeds: {c: {s: {f: /x}}}\n",
        "rsshub.instances",
        2,
        "expected a list of URLs, got a mapping",
        id="instance-mapping",
    ),
    pytest.param(
        HEAD + "fetch:\n  concurrency: 65\nfeeds: {c: {s: {f: /x}}}\n",
        "fetch.concurrency",
        6,
        "1..64",
        id="concurrency",
    ),
    pytest.param(
        HEAD + "fetch:\n  timeout: 0\nfeeds: {c: {s: {f: /x}}}\n",
        "fetch.timeout",
        6,
        "> 0",
        id="timeout",
    ),
    pytest.param(
        HEAD + "clean:\n  iframe_hosts: [https://x.org]\nfeeds: {c: {s: {f: /x}}}\n",
        "clean.iframe_hosts[0]",
        6,
        "host name",
        id="iframe-host",
    ),
    pytest.param(
        "site:\n  image_proxy: ftp://p.org/\nfeeds: {c: {s: {f: https://e.org/}}}\n",
        "site.image_proxy",
        2,
        "a URL prefix",
        id="image-proxy",
    ),
    pytest.param(
        "site:\n  source_key: 'a b'\nfeeds: {c: {s: {f: https://e.org/}}}\n",
        "site.source_key",
        2,
        "front-matter key",
        id="source-key",
    ),
    pytest.param(
        HEAD + "feeds: {c: {s: {f: '/x/${1X}'}}}\n",
        "feeds.c.s.f",
        5,
        "bad variable reference",
        id="bad-variable",
    ),
    pytest.param(
        HEAD + FEEDS + "      f: /x/${X\n",
        "feeds.c.s.f",
        8,
        'unclosed "${"',
        id="unclosed-variable",
    ),
    pytest.param(
        HEAD + FEEDS + "      '  ': /x\n", "feeds.c.s.  ", 8, "must not be empty", id="empty-name"
    ),
    pytest.param(
        HEAD + "defaults: 15\nfeeds: {c: {s: {f: /x}}}\n",
        "defaults",
        5,
        "expected a mapping, got 15",
        id="section-not-mapping",
    ),
    pytest.param("- feeds\n", "", 1, "expected a mapping of sections", id="top-level-list"),
    pytest.param("# nothing\n", "", None, "the file is empty", id="empty-file"),
    pytest.param(
        HEAD + "feeds:\n  ? [a, b]\n  : x\n",
        "feeds",
        6,
        "keys must be plain text",
        id="complex-key",
    ),
    pytest.param(
        HEAD + "feeds: {c: {s: {f: !!binary aGVsbG8=}}}\n",
        "feeds.c.s.f",
        5,
        "unsupported YAML tag !!binary",
        id="unsupported-tag",
    ),
    pytest.param(
        HEAD + "feeds: {c: {s: {f: {route: /x, keep: !!int abc}}}}\n",
        "feeds.c.s.f.keep",
        5,
        "not a valid integer",
        id="bad-int-tag",
    ),
]


@pytest.mark.parametrize(("text", "key_path", "line", "fragment"), MISTAKES)
def test_mistake_names_key_path_and_line(
    text: str, key_path: str, line: int | None, fragment: str
) -> None:
    err = error(text)
    assert (err.key_path, err.line) == (key_path, line), str(err)
    assert fragment in err.message, err.message
    assert err.file == str(FILE)


def test_default_state_path_under_source_is_an_error() -> None:
    text = "site: {hexo_root: .., timezone: UTC}\nfeeds: {c: {s: {f: https://e.org/}}}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, file=Path("/b/source/feedsite.yaml"), environ={})
    assert (info.value.key_path, info.value.line) == ("state.path", None)
    assert "set state.path" in info.value.message


def test_error_message_format() -> None:
    text = HEAD + FEEDS + "      f: {route: /x, items_per_feed: five}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, file=Path("feedsite.yaml"), environ={})
    assert str(info.value) == (
        "feedsite.yaml, line 8, at feeds.c.s.f.items_per_feed: "
        'expected a whole number 1..10000, got "five"'
    )


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"feeds:\n  c:\n    s: {f: /\xff}\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert (info.value.line, info.value.message) == (3, "the file is not UTF-8 text")


def test_bom_is_accepted(tmp_path: Path) -> None:
    file = tmp_path / "feedsite.yaml"
    file.write_bytes(b"\xef\xbb\xbffeeds: {c: {s: {f: 'https://e.org/'}}}\n")
    assert load_config(file, environ={}).feeds[0].url == "https://e.org/"


# -- fuzzing: any text loads or raises ConfigError ------------------------------------------

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
_YAMLISH = st.sampled_from(
    [*":-[]{},&*!|>'\"%@`#?<= \n\t/$", "${", "$${", "${X:-", "<<: ", "\n  ", "\n- ", "---\n",
     "!!int ", "~", "null", "true", "0x1F", "1e9", "route", "url", "path", "items_per_feed", "30d"]
)  # fmt: skip
_FRAGMENT = st.lists(st.one_of(_YAMLISH, st.text(max_size=3)), max_size=8).map("".join)


def _loads_or_config_error(text: str) -> None:
    try:
        config = parse_config(text, file=FILE, environ={"X": "1", "RSSHUB_KEY": "k"})
    except ConfigError as exc:
        assert exc.message
        return
    assert config.feeds
    for feed in config.feeds:
        assert (feed.route is None) != (feed.url is None)
        assert 1 <= feed.items_per_feed <= 10000


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.text())
def test_fuzz_any_text(text: str) -> None:
    _loads_or_config_error(text)


@_SETTINGS
@given(st.integers(0, len(EXAMPLE_TEXT)), st.integers(0, 40), _FRAGMENT)
def test_fuzz_mutated_example(start: int, length: int, fragment: str) -> None:
    _loads_or_config_error(EXAMPLE_TEXT[:start] + fragment + EXAMPLE_TEXT[start + length :])


_KEYS = st.sampled_from(
    ["site", "rsshub", "defaults", "fetch", "clean", "state", "feeds", "route", "url", "path",
     "items_per_feed", "keep", "max_age", "timezone", "instances", "hexo_root", "profile",
     "placeholder", "iframe_hosts", "concurrency", "timeout", "c", "s", "f"]
) | st.text(max_size=4)  # fmt: skip
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 20000), st.floats(allow_nan=True),
    st.sampled_from(["/x", "https://e.org/", "file:///f", "ftp://x", "30d", "UTC", "Asia/Shanghai",
                     "default", "legacy", "{n}", "{x}", "${X}", "", "blog/source"]),
    st.text(max_size=6),
)  # fmt: skip
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=20,
)


@_SETTINGS
@given(st.dictionaries(_KEYS, _TREES, max_size=5), st.booleans())
def test_fuzz_structured(tree: dict[str, object], flow: bool) -> None:
    text = yaml.safe_dump(tree, allow_unicode=True, default_flow_style=flow)
    _loads_or_config_error(text)


def test_fetch_policy_and_proxies() -> None:
    config = parse_config(
        textwrap.dedent(
            """
            fetch:
              per_host: 3
              retries: 0
              connect_timeout: 2
              read_timeout: 5.5
              proxy: http://proxy.example:3128
            feeds:
              a:
                b:
                  via: {url: "https://e.org/1", proxy: "http://other.example:8080"}
                  direct: {url: "https://e.org/2", proxy: ""}
                  default: https://e.org/3
            """
        ),
        file=Path("/tmp/p/feedsite.yaml"),
    )
    f = config.fetch
    assert (f.per_host, f.retries, f.connect_timeout, f.read_timeout) == (3, 0, 2, 5.5)
    assert f.proxy == "http://proxy.example:3128"
    assert [feed.proxy for feed in config.feeds] == ["http://other.example:8080", "", None]


def test_bad_proxy_names_its_key() -> None:
    text = "feeds:\n  a:\n    b:\n      c: {url: 'https://e.org', proxy: 'socks://x'}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, file=Path("/tmp/p/feedsite.yaml"))
    assert info.value.key_path == "feeds.a.b.c.proxy" and info.value.line == 4


def test_targets_and_native_site() -> None:
    config = parse_config(
        "site: {targets: [hexo, native]}\n"
        "native: {out: public, title: 新闻, base_url: 'https://u.github.io/news/', per_page: 20,"
        " search: false, templates: theme}\n"
        "feeds: {a: {b: {c: 'https://e.org/f'}}}\n",
        file=Path("/tmp/q/feedsite.yaml"),
    )
    assert config.site.targets == ("hexo", "native")
    n = config.native
    assert (n.out, n.title, n.base_url, n.per_page, n.search) == (
        Path("/tmp/q/public"),
        "新闻",
        "https://u.github.io/news",
        20,
        False,
    )
    assert n.templates == Path("/tmp/q/theme")
    default = parse_config("feeds: {a: {b: {c: 'https://e.org/f'}}}\n", file=Path("/tmp/q/f.yaml"))
    assert default.site.targets == ("hexo",)
    assert default.native.out == Path("/tmp/q/_site") and default.native.search is True


def test_unknown_target_names_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            "site:\n  targets: [hexo, jekyll]\nfeeds: {a: {b: {c: 'https://e.org/f'}}}\n",
            file=Path("/tmp/q/feedsite.yaml"),
        )
    assert info.value.key_path.startswith("site.targets") and info.value.line == 2
