"""A feedsite project with real state for the static-site tests.

The state is produced by feedsite itself: a config of ``path:`` feeds (the
rsshub-zh corpus laid out by its MANIFEST, plus generated feeds under 本地 ›
样例), ``feedsite._run.run``, then ``feedsite._run._build.build_native``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsite._run import run
from feedsite._run._build import build_native
from feedsite._targets.site import BuildResult
from feedsite.config import Config, load_config
from tests.helpers.browser import CorpusSite, SiteServer, corpus_site
from tests.helpers.feeds import Entry, rss

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def entries(start: int, count: int, *, prefix: str = "Generated post") -> list[Entry]:
    """``count`` dated entries g<start>.., one day apart, newest first; English text."""
    return [
        Entry(
            f"g{i}",
            f"{prefix} {i}",
            T0 - timedelta(days=40 - i),
            body=(
                f"<p>Paragraph number {i} about testing static sites.</p>"
                f'<p><img src="https://img.example.org/{i}.jpg"></p>'
            ),
            link=f"https://news.example.org/a/{i}",
        )
        for i in reversed(range(start, start + count))
    ]


@dataclass
class Project:
    """A project folder: config, local feeds, state, output."""

    root: Path
    manifest: list[dict[str, object]]
    keep: int = 20
    gen: list[Entry] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.root / "feedsite.yaml"

    @property
    def out(self) -> Path:
        return self.root / "public"

    def write_config(self, *, keep: int | None = None) -> None:
        keep = keep or self.keep
        lines = [
            "site:",
            "  hexo_root: ./blog",
            "  timezone: Asia/Shanghai",
            "rsshub:",
            "  instances: [https://rsshub.example.org]",
            "  access_key: SECRETKEY123",
            "defaults:",
            "  items_per_feed: 50",
            "images:",
            "  mode: hotlink  # the corpus's images are on the internet (tests/images: local)",
            "feeds:",
        ]
        cats: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for m in self.manifest:
            cats.setdefault(str(m["category"]), {}).setdefault(str(m["site"]), []).append(
                (str(m["route"]), "{path: corpus/" + str(m["file"]) + "}")
            )
        cats.setdefault("本地", {})["样例"] = [
            ("生成", "{path: gen.xml, items_per_feed: 50, keep: " + str(keep) + "}"),
            ("路由", "/test/route"),  # never fetched successfully: shows in OPML with no posts
        ]
        for cat, sites in cats.items():
            lines.append(f"  {json.dumps(cat, ensure_ascii=False)}:")
            for site, feeds in sites.items():
                lines.append(f"    {json.dumps(site, ensure_ascii=False)}:")
                for name, value in feeds:
                    lines.append(f"      {json.dumps(name, ensure_ascii=False)}: {value}")
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def config(self) -> Config:
        return load_config(self.config_path)

    def set_gen(self, items: list[Entry]) -> None:
        self.gen = items
        (self.root / "gen.xml").write_bytes(rss(items, title="Generated"))

    def run(self, now: datetime = T0) -> None:
        run(self.config(), now=now, seed=1)

    def build(self, **options: Any) -> BuildResult:
        """Build into :attr:`out` with these options (:func:`with_options`)."""
        return build_native(with_options(self.config(), **options), self.out)


def with_options(config: Config, *, timezone: str | None = None, **native: Any) -> Config:
    """``config`` with the given ``native:`` options (title, base_url, per_page, templates,
    search) and ``site.timezone`` (None: UTC)."""
    return dataclasses.replace(
        config,
        site=dataclasses.replace(config.site, timezone=timezone),
        native=dataclasses.replace(config.native, **native),
    )


@pytest.fixture
def make_project(tmp_path: Path, shared: Path) -> Callable[..., Project]:
    def make(name: str = "p") -> Project:
        root = tmp_path / name
        (root / "corpus").mkdir(parents=True)
        corpus = shared / "corpora" / "rsshub-zh"
        manifest = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))
        for m in manifest:
            (root / "corpus" / m["file"]).write_bytes((corpus / m["file"]).read_bytes())
        p = Project(root, manifest)
        p.write_config()
        p.set_gen(entries(0, 12))
        p.run()
        return p

    return make


# The site the browser and crawler tests walk (one per test module), served on 127.0.0.1.
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> CorpusSite:
    return corpus_site(tmp_path_factory)


@pytest.fixture(scope="module")
def server(site: CorpusSite) -> Iterator[SiteServer]:
    with SiteServer(site.out) as s:
        yield s
