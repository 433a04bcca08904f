"""Tests for the ``images:`` section of feedsite.config (issue #12) and its per-level overrides."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from feedsite._init import init_project
from feedsite.config import (
    Config,
    FeedSpec,
    ImagePolicy,
    ImagesConfig,
    load_config,
    parse_config,
)
from feedsite.errors import ConfigError

FILE = Path("/cfg/feedsite.yaml")
ROOT = Path("/cfg")
DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"
MB = 1024**2

#: A valid head; the feeds the cases below add start on line 4.
HEAD = "site: {timezone: UTC}\nrsshub: {instances: [https://rsshub.example.org]}\n"
ONE_FEED = "feeds: {c: {s: {f: https://e.org/rss}}}\n"


def parse(text: str) -> Config:
    return parse_config(dedent(text), file=FILE, environ={})


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


def by_name(config: Config) -> dict[str, FeedSpec]:
    return {f.name: f for f in config.feeds}


# -- defaults -------------------------------------------------------------------------------


def test_defaults_of_profile_default() -> None:
    config = parse(HEAD + ONE_FEED)
    assert config.images == ImagesConfig(dir=ROOT / "blog" / "source" / "feedsite-images")
    assert config.images.max_total == 800 * MB
    assert config.images.max_size == 10 * MB
    assert config.images.max_pixels == 50_000_000
    assert config.images.width == 1280
    assert config.images.time_budget == 120.0
    assert config.images.policy == ImagePolicy(mode="local", cover="generated")
    assert config.feeds[0].images is config.images.policy
    assert config.warnings == ()


def test_defaults_of_profile_legacy() -> None:
    config = parse("site: {timezone: UTC, profile: legacy}\n" + ONE_FEED)
    assert config.images.policy == ImagePolicy(mode="hotlink", cover="placeholder")
    assert config.feeds[0].images == ImagePolicy(mode="hotlink", cover="placeholder")
    assert config.warnings == ()


def test_null_and_empty_sections_take_the_defaults() -> None:
    for section in ("images:\n", "images: {}\n"):
        config = parse(HEAD + section + ONE_FEED)
        assert config.images == ImagesConfig(dir=ROOT / "blog" / "source" / "feedsite-images")


def test_feed_spec_still_builds_positionally() -> None:
    spec = FeedSpec("c", "s", "f", None, "https://e.org/", 15, 15, None, None, 3)
    assert spec.images == ImagePolicy()
    assert spec.proxy is None


# -- every key ------------------------------------------------------------------------------


def test_every_key_of_the_section() -> None:
    config = parse(
        HEAD
        + """\
images:
  mode: proxy
  proxy: https://images.weserv.nl/?url=
  referer:
    "*.SinaImg.cn": https://weibo.com/
    img.example.com: article
    cdn.example.org: none
  cover: placeholder
  max_total: 1.5GB
  max_size: 500KB
  max_pixels: 1_000_000
  width: 640
  time_budget: 90s
  dir: media/img
"""
        + ONE_FEED
    )
    assert config.images == ImagesConfig(
        dir=ROOT / "media" / "img",
        max_total=1536 * MB,
        max_size=500 * 1024,
        max_pixels=1_000_000,
        width=640,
        time_budget=90.0,
        policy=ImagePolicy(
            mode="proxy",
            proxy="https://images.weserv.nl/?url=",
            referer=(
                ("*.sinaimg.cn", "https://weibo.com/"),
                ("img.example.com", "article"),
                ("cdn.example.org", "none"),
            ),
            cover="placeholder",
        ),
    )
    assert config.feeds[0].images == config.images.policy


@pytest.mark.parametrize(
    ("written", "size"),
    [
        ("800MB", 800 * MB),
        ("1.5GB", 1536 * MB),
        ("500KB", 500 * 1024),
        ("10 MB", 10 * MB),
        ("2mb", 2 * MB),
        ("3MiB", 3 * MB),
        ("2097152", 2 * MB),
        ("2097152B", 2 * MB),
        ('"4194304"', 4 * MB),
        ("1GB", 1024 * MB),
    ],
)
def test_size_forms(written: str, size: int) -> None:
    key = "max_size" if size <= 1024 * MB else "max_total"
    config = parse(HEAD + f"images: {{{key}: {written}}}\n" + ONE_FEED)
    assert getattr(config.images, key) == size


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90s", 90.0), ("2m", 120.0), ("1h", 3600.0), ("0", 0.0), ("45", 45.0), ("24h", 86400.0)],
)
def test_time_budget_forms(written: str, seconds: float) -> None:
    config = parse(HEAD + f"images: {{time_budget: {written}}}\n" + ONE_FEED)
    assert config.images.time_budget == seconds


# -- levels ---------------------------------------------------------------------------------

LEVELS = """\
images:
  mode: local
  proxy: https://top.example/?u=
  referer:
    "*.sinaimg.cn": https://weibo.com/
    a.example: https://top.example/
feeds:
  c:
    images:
      mode: proxy
      referer: {b.example: article, a.example: none}
    s:
      images: {cover: placeholder, referer: {c.example: https://site.example/}}
      plain: https://e.org/1
      own:
        url: https://e.org/2
        images:
          mode: hotlink
          proxy: https://feed.example/?u=
          referer: {"*.sinaimg.cn": article, d.example: none}
    t:
      other: https://e.org/3
  d:
    u:
      top: https://e.org/4
"""


def test_feed_wins_over_site_over_category_over_top() -> None:
    feeds = by_name(parse(HEAD + LEVELS))
    top_rules = (("*.sinaimg.cn", "https://weibo.com/"), ("a.example", "https://top.example/"))
    assert feeds["top"].images == ImagePolicy(
        mode="local", proxy="https://top.example/?u=", referer=top_rules
    )
    category_rules = (
        ("b.example", "article"),
        ("a.example", "none"),  # the category's rule for a.example replaces the top one
        ("*.sinaimg.cn", "https://weibo.com/"),
    )
    assert feeds["other"].images == ImagePolicy(
        mode="proxy", proxy="https://top.example/?u=", referer=category_rules
    )
    site_rules = (("c.example", "https://site.example/"), *category_rules)
    assert feeds["plain"].images == ImagePolicy(
        mode="proxy", proxy="https://top.example/?u=", referer=site_rules, cover="placeholder"
    )
    assert feeds["own"].images == ImagePolicy(
        mode="hotlink",
        proxy="https://feed.example/?u=",
        referer=(
            ("*.sinaimg.cn", "article"),
            ("d.example", "none"),
            ("c.example", "https://site.example/"),
            ("b.example", "article"),
            ("a.example", "none"),
        ),
        cover="placeholder",
    )


def test_images_key_is_not_a_site_or_feed() -> None:
    config = parse(HEAD + LEVELS)
    assert {(f.category, f.site) for f in config.feeds} == {("c", "s"), ("c", "t"), ("d", "u")}
    assert "images" not in {f.name for f in config.feeds}
    assert config.warnings == ()


def test_null_level_images_inherit() -> None:
    text = HEAD + "feeds:\n  c:\n    images:\n    s:\n      images:\n      f: https://e.org/\n"
    config = parse(text)
    assert config.feeds[0].images is config.images.policy


def test_a_level_with_only_images_warns_like_an_empty_one() -> None:
    text = HEAD + dedent(
        """\
        feeds:
          empty:
            images: {mode: hotlink}
          c:
            s:
              images: {mode: hotlink}
            t: {f: https://e.org/}
        """
    )
    config = parse(text)
    assert [f.label for f in config.feeds] == ["c › t › f"]
    assert len(config.warnings) == 2
    assert "line 4, at feeds.empty: category empty has no sites" in config.warnings[0]
    assert "line 7, at feeds.c.s: site s has no feeds" in config.warnings[1]


@pytest.mark.parametrize(
    ("feeds", "key_path", "line", "child"),
    [
        ("feeds:\n  c:\n    images: {f: /route}\n", "feeds.c.images.f", 5, "site"),
        ("feeds:\n  c:\n    images: https://e.org/\n", "feeds.c.images", 5, "site"),
        ("feeds:\n  c:\n    s:\n      images: /route\n", "feeds.c.s.images", 6, "feed"),
        (
            "feeds:\n  c:\n    s:\n      images: {url: https://e.org/}\n",
            "feeds.c.s.images.url",
            6,
            "feed",
        ),
    ],
    ids=["site-mapping", "site-string", "feed-route", "feed-mapping"],
)
def test_images_is_reserved_in_categories_and_sites(
    feeds: str, key_path: str, line: int, child: str
) -> None:
    err = error(HEAD + feeds)
    assert (err.key_path, err.line) == (key_path, line), str(err)
    assert '"images" is reserved here' in err.message
    assert f'rename the {child} called "images"' in err.message


def test_reserved_hint_keeps_the_did_you_mean() -> None:
    err = error(HEAD + "feeds:\n  c:\n    images: {mdoe: proxy}\n    s: {f: /x}\n")
    assert (err.key_path, err.line) == ("feeds.c.images.mdoe", 5)
    assert 'did you mean "mode"' in err.message


@pytest.mark.parametrize(
    "key", ["max_total", "max_size", "max_pixels", "width", "time_budget", "dir"]
)
@pytest.mark.parametrize(
    ("template", "key_path", "line"),
    [
        ("feeds:\n  c:\n    images:\n      {key}: 1\n    s: {{f: /x}}\n", "feeds.c.images", 6),
        (
            "feeds:\n  c:\n    s:\n      images:\n        {key}: 1\n      f: /x\n",
            "feeds.c.s.images",
            7,
        ),
        (
            "feeds:\n  c:\n    s:\n      f:\n        route: /x\n"
            "        images:\n          {key}: 1\n",
            "feeds.c.s.f.images",
            9,
        ),
    ],
    ids=["category", "site", "feed"],
)
def test_top_level_only_keys_at_a_level(template: str, key_path: str, line: int, key: str) -> None:
    err = error(HEAD + template.format(key=key))
    assert (err.key_path, err.line) == (f"{key_path}.{key}", line), str(err)
    assert "valid only in the top-level images: section" in err.message


def test_feed_images_must_be_a_mapping() -> None:
    err = error(HEAD + "feeds:\n  c:\n    s:\n      f: {route: /x, images: local}\n")
    assert (err.key_path, err.line) == ("feeds.c.s.f.images", 6)
    assert "expected a mapping of image settings (mode, proxy, referer, cover)" in err.message
    assert "reserved" not in err.message


# -- mistakes -------------------------------------------------------------------------------

MISTAKES = [
    ("images:\n  max_total: 500KB\n", "images.max_total", 4, "at least 1 MB"),
    ("images:\n  max_total: lots\n", "images.max_total", 4, 'a size like "800MB"'),
    ("images:\n  max_total: 1.5\n", "images.max_total", 4, "got 1.5"),
    ("images:\n  max_total: 1.5B\n", "images.max_total", 4, "whole number of bytes"),
    ("images:\n  max_total: yes\n", "images.max_total", 4, "got yes"),
    ("images:\n  max_total: -5MB\n", "images.max_total", 4, 'got "-5MB"'),
    ("images:\n\n  max_size: 2GB\n", "images.max_size", 5, "1 KB..1 GB"),
    ("images:\n  max_size: 100\n", "images.max_size", 4, "1 KB..1 GB"),
    ("images:\n  max_pixels: 1e9\n", "images.max_pixels", 4, "10000..1000000000"),
    ("images:\n  max_pixels: 9999\n", "images.max_pixels", 4, "10000..1000000000"),
    ("images:\n  width: 63\n", "images.width", 4, "64..8192"),
    ("images:\n  width: 9000\n", "images.width", 4, "64..8192"),
    ("images:\n  time_budget: 25h\n", "images.time_budget", 4, "at most 24h"),
    ("images:\n  time_budget: 2d\n", "images.time_budget", 4, 'like "2m"'),
    ("images:\n  time_budget: -1\n", "images.time_budget", 4, "got -1"),
    ("images:\n  time_budget: 1.5\n", "images.time_budget", 4, "got 1.5"),
    ("images:\n  mode: lokal\n", "images.mode", 4, 'did you mean "local"'),
    ("images:\n  cover: none\n", "images.cover", 4, '"generated" or "placeholder"'),
    ("images:\n  proxy: ftp://x.example/\n", "images.proxy", 4, "a URL prefix"),
    ("images:\n  referer: [a.example]\n", "images.referer", 4, "a mapping of host patterns"),
    ("images:\n  referer:\n    a_b.example: none\n", "images.referer.a_b.example", 5, "a host"),
    ('images:\n  referer:\n    "*": none\n', "images.referer.*", 5, 'pattern like "*.example.com"'),
    ('images:\n  referer:\n    "x.*.org": none\n', "images.referer.x.*.org", 5, "got"),
    ("images:\n  referer:\n    a.example: weibo.com\n", "images.referer.a.example", 5, "URL"),
    ("images:\n  referer:\n    a.example: javascript:x\n", "images.referer.a.example", 5, "URL"),
    ("images:\n  referer:\n    a.example:\n", "images.referer.a.example", 5, "got nothing"),
    ("images:\n  referer:\n    a.example: [x]\n", "images.referer.a.example", 5, "got a list"),
    (
        "images:\n  referer:\n    A.example: none\n    a.EXAMPLE: article\n",
        "images.referer.a.EXAMPLE",
        6,
        'host pattern "a.example" appears twice: first at line 5, again at line 6',
    ),
    ("images:\n  colour: red\n", "images.colour", 4, "allowed here: mode, proxy"),
    ("images: local\n", "images", 3, "expected a mapping, got"),
    ("images:\n  dir: ${UNSET}/img\n", "images.dir", 4, "UNSET is not set"),
]


@pytest.mark.parametrize(("section", "key_path", "line", "fragment"), MISTAKES)
def test_mistake_names_key_path_and_line(
    section: str, key_path: str, line: int, fragment: str
) -> None:
    err = error(HEAD + section + ONE_FEED)
    assert (err.key_path, err.line) == (key_path, line), str(err)
    assert fragment in err.message, err.message
    assert str(err).startswith(f"{FILE}, line {line}, at {key_path}: ")


def test_level_mistakes_name_their_path() -> None:
    err = error(HEAD + "feeds:\n  c:\n    s:\n      images: {cover: none}\n      f: /x\n")
    assert (err.key_path, err.line) == ("feeds.c.s.images.cover", 6)
    err = error(
        HEAD + "feeds:\n  c:\n    images:\n      referer: {'*.x': ftp://y/}\n    s: {f: /x}\n"
    )
    assert (err.key_path, err.line) == ("feeds.c.images.referer.*.x", 6)
    assert "URL" in err.message


# -- site.image_proxy and mode proxy ---------------------------------------------------------


def test_site_image_proxy_alone_means_mode_proxy() -> None:
    config = parse("site: {timezone: UTC, image_proxy: 'https://p.example/?u='}\n" + ONE_FEED)
    assert config.site.image_proxy == "https://p.example/?u="
    assert config.images.policy == ImagePolicy(mode="proxy", proxy="https://p.example/?u=")
    legacy = parse(
        "site: {timezone: UTC, profile: legacy, image_proxy: 'https://p.example/?u='}\n" + ONE_FEED
    )
    assert legacy.images.policy == ImagePolicy(
        mode="proxy", proxy="https://p.example/?u=", cover="placeholder"
    )


def test_site_image_proxy_is_the_prefix_when_the_mode_is_set() -> None:
    text = dedent(
        """\
        site: {timezone: UTC, image_proxy: "https://p.example/?u="}
        images: {mode: local}
        feeds:
          c:
            s:
              f: {url: "https://e.org/", images: {mode: proxy}}
              g: https://e.org/2
        """
    )
    feeds = by_name(parse(text))
    assert feeds["g"].images == ImagePolicy(mode="local", proxy="https://p.example/?u=")
    assert feeds["f"].images == ImagePolicy(mode="proxy", proxy="https://p.example/?u=")


def test_images_proxy_and_site_image_proxy_conflict() -> None:
    text = (
        "site:\n  timezone: UTC\n  image_proxy: https://old.example/?u=\n"
        "images:\n  proxy: https://new.example/?u=\n" + ONE_FEED
    )
    err = error(text)
    assert (err.key_path, err.line) == ("images.proxy", 5)
    assert "images.proxy and site.image_proxy (line 3) are both set" in err.message


@pytest.mark.parametrize(
    ("text", "key_path", "line"),
    [
        ("images:\n  mode: proxy\n" + ONE_FEED, "images.mode", 4),
        ("feeds:\n  c:\n    images: {mode: proxy}\n    s: {f: /x}\n", "feeds.c.images.mode", 5),
        (
            "feeds:\n  c:\n    s:\n      f:\n        route: /x\n        images:\n"
            "          mode: proxy\n",
            "feeds.c.s.f.images.mode",
            9,
        ),
    ],
    ids=["top", "category", "feed"],
)
def test_mode_proxy_without_a_prefix(text: str, key_path: str, line: int) -> None:
    err = error(HEAD + text)
    assert (err.key_path, err.line) == (key_path, line), str(err)
    assert "mode proxy needs a URL prefix" in err.message


def test_mode_proxy_with_a_prefix_on_the_same_or_a_parent_level() -> None:
    text = dedent(
        """\
        feeds:
          c:
            images: {proxy: "https://cat.example/?u="}
            s:
              f: {route: /x, images: {mode: proxy}}
              g: {route: /y, images: {mode: proxy, proxy: "https://own.example/?u="}}
        """
    )
    feeds = by_name(parse(HEAD + text))
    assert feeds["f"].images == ImagePolicy(mode="proxy", proxy="https://cat.example/?u=")
    assert feeds["g"].images == ImagePolicy(mode="proxy", proxy="https://own.example/?u=")


def test_legacy_with_local_mode_warns() -> None:
    text = "site: {timezone: UTC, profile: legacy}\nimages:\n  mode: local\n" + ONE_FEED
    config = parse(text)
    assert config.images.policy == ImagePolicy(mode="local", cover="placeholder")
    (warning,) = config.warnings
    assert warning.startswith(f"{FILE}, line 3, at images.mode: profile legacy:")
    assert "byte-identical" in warning and "only to the native site" in warning
    assert parse("site: {timezone: UTC}\nimages: {mode: local}\n" + ONE_FEED).warnings == ()
    hotlink = parse("site: {timezone: UTC, profile: legacy}\nimages: {mode: hotlink}\n" + ONE_FEED)
    assert hotlink.warnings == ()


# -- dir ------------------------------------------------------------------------------------


def test_dir_default_with_hexo() -> None:
    for targets in ("[hexo]", "[native, hexo]"):
        config = parse(f"site: {{timezone: UTC, hexo_root: site, targets: {targets}}}\n" + ONE_FEED)
        assert config.images.dir == ROOT / "site" / "source" / "feedsite-images"


def test_dir_default_native_only_is_beside_the_state_file() -> None:
    config = parse("site: {timezone: UTC, targets: [native]}\n" + ONE_FEED)
    assert config.images.dir == ROOT / ".feedsite" / "images"
    moved = parse(
        "site: {timezone: UTC, targets: [native]}\nstate: {path: /var/fs/state.db}\n" + ONE_FEED
    )
    assert moved.images.dir == Path("/var/fs/images")


def test_dir_is_relative_to_the_config_file() -> None:
    config = parse(HEAD + "images: {dir: ../shared/img}\n" + ONE_FEED)
    assert config.images.dir == Path("/shared/img")


@pytest.mark.parametrize(
    "folder",
    ["blog/source/_posts", "blog/source/_posts/img", "blog/source", "blog"],
)
def test_dir_apart_from_the_posts(folder: str) -> None:
    err = error(HEAD + f"images:\n  dir: {folder}\n" + ONE_FEED)
    assert (err.key_path, err.line) == ("images.dir", 4)
    assert "<hexo_root>/source/_posts" in err.message
    assert str(ROOT / folder) in err.message


@pytest.mark.parametrize("folder", [".feedsite", ".", ".feedsite/state.sqlite"])
def test_dir_must_not_hold_the_state_file(folder: str) -> None:
    err = error(HEAD + f"images:\n  dir: {folder}\n" + ONE_FEED)
    assert (err.key_path, err.line) == ("images.dir", 4)
    assert f"must not hold the state file {ROOT / '.feedsite' / 'state.sqlite'}" in err.message


def test_default_dir_that_is_the_state_file_says_so() -> None:
    # A state file named "images": the default folder beside it would be the file itself.
    text = "site: {timezone: UTC, targets: [native]}\nstate: {path: data/images}\n"
    err = error(text + ONE_FEED)
    assert (err.key_path, err.line) == ("images.dir", None)
    assert "must not hold the state file /cfg/data/images" in err.message
    assert "(the default, /cfg/data/images; set images.dir)" in err.message


# -- the values in code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"mode": "cached"}, "mode must be"),
        ({"cover": "none"}, "cover must be"),
        ({"mode": "proxy"}, "needs a proxy URL prefix"),
        ({"proxy": "ftp://x/"}, "proxy must be"),
        ({"referer": (("*", "none"),)}, "host pattern"),
        ({"referer": (("A.example", "none"),)}, "host pattern"),
        ({"referer": (("a.example", "weibo"),)}, "bad Referer"),
    ],
)
def test_image_policy_checks_values(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        ImagePolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"max_total": MB - 1}, "max_total must be at least"),
        ({"max_size": 1023}, "max_size must be 1024..1073741824"),
        ({"max_pixels": 10**9 + 1}, "max_pixels"),
        ({"width": 8193}, "width"),
        ({"time_budget": -1.0}, "time_budget"),
        ({"time_budget": 86401.0}, "time_budget"),
    ],
)
def test_images_config_checks_limits(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        ImagesConfig(dir=Path("/x"), **kwargs)  # type: ignore[arg-type]


# -- the project `feedsite init` writes, and the docs -----------------------------------------


@pytest.mark.parametrize("target", ["hexo", "native"])
def test_init_project_serves_local_images(tmp_path: Path, target: str) -> None:
    folder = tmp_path / "news"
    init_project(folder, target=target)  # type: ignore[arg-type]
    text = (folder / "feedsite.yaml").read_text(encoding="utf-8")
    assert re.search(r"^images:\n  mode: local ", text, re.MULTILINE)
    config = load_config(folder / "feedsite.yaml", environ={})
    assert config.images.policy == ImagePolicy(mode="local")
    expected = folder / "source" / "feedsite-images" if target == "hexo" else None
    assert config.images.dir == (expected or folder / ".feedsite" / "images")
    assert config.warnings == ()


def test_the_docs_examples_load() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    section = docs[docs.index("## Images") :]
    section = section[: section.find("\n## ", 1)] if "\n## " in section[1:] else section
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    top = parse_config(HEAD + blocks[0] + ONE_FEED, file=FILE, environ={})
    assert top.images.policy.referer[0] == ("*.sinaimg.cn", "https://weibo.com/")
    assert top.images.dir == ROOT / "source" / "feedsite-images"
    levels = parse_config(HEAD + blocks[1], file=FILE, environ={})
    modes = {f.site: f.images.mode for f in levels.feeds}
    assert modes == {"联合早报": "hotlink", "微博": "proxy"}
    assert levels.feeds[0].images.referer == (
        ("img.example.com", "article"),
        ("*.sinaimg.cn", "https://weibo.com/"),
    )
