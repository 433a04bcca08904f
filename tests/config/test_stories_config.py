"""Config of issue #15: ``priority:`` per level, ``site.dedupe``, ``native.home``."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsite._plan._stories import feed_ranks
from feedsite.config import Config, parse_config
from feedsite.errors import ConfigError

TREE = """\
feeds:
  新闻:
    priority: 5
    甲:
      快讯: https://a.example/1.xml
      头条: {url: "https://a.example/2.xml", priority: -1}
    乙:
      priority: 9
      x: https://b.example/1.xml
  科技:
    丙:
      y: https://c.example/1.xml
"""


def parse(text: str) -> Config:
    return parse_config(text, file=Path("/tmp/feedsite.yaml"), environ={})


def test_priority_is_inherited_and_orders_the_leads() -> None:
    config = parse(TREE)
    assert [(f.site, f.name, f.priority) for f in config.feeds] == [
        ("甲", "快讯", 5),
        ("甲", "头条", -1),
        ("乙", "x", 9),
        ("丙", "y", 0),
    ]
    ranks = feed_ranks(config.feeds)
    assert sorted(ranks, key=ranks.__getitem__) == [
        config.feeds[2].key,  # 9
        config.feeds[0].key,  # 5
        config.feeds[3].key,  # 0
        config.feeds[1].key,  # -1
    ]
    # No priority anywhere: the tree's order.
    plain = parse(TREE.replace("    priority: 5\n", "").replace("      priority: 9\n", ""))
    plain_ranks = feed_ranks(plain.feeds)
    assert [plain_ranks[f.key] for f in plain.feeds] == [0, 3, 1, 2]


@pytest.mark.parametrize(
    ("text", "path", "line"),
    [
        (TREE.replace("priority: 5", "priority: high"), "feeds.新闻.priority", 3),
        (TREE.replace("priority: 9", "priority: 5000"), "feeds.新闻.乙.priority", 8),
        ("site: {dedupe: merge}\n" + TREE, "site.dedupe", 1),
        ("native:\n  home: grid\n" + TREE, "native.home", 2),
    ],
)
def test_bad_values_name_their_key_and_line(text: str, path: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.key_path == path and info.value.line == line


def test_defaults_and_choices() -> None:
    config = parse(TREE)
    assert config.site.dedupe == "keep" and config.native.home == "stream"
    config = parse("site: {dedupe: skip}\nnative: {home: both}\n" + TREE)
    assert config.site.dedupe == "skip" and config.native.home == "both"
