"""The legacy profile reproduces the old site's post byte for byte (golden file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from feedsite._run import run
from feedsite.config import load_config


def test_seed_post_is_byte_identical(
    shared: Path, project: Callable[[str], Path], tmp_path: Path
) -> None:
    seed = shared / "seed"
    config = project(
        f"""
        site:
          hexo_root: ./blog
          profile: legacy
          timezone: UTC
        feeds:
          新媒体:
            观察者网:
              头条: {{path: {seed / "guancha-headline.xml"}}}
        """
    )
    result = run(load_config(config))
    assert result.counts().posts_new == 1
    (post,) = (tmp_path / "blog/source/_posts/新媒体/观察者网/头条").glob("*.md")
    assert post.read_bytes() == (seed / "expected-legacy-post.md").read_bytes()
