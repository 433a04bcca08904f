"""``feedsite build --target hexo``: the post check before Hexo, npm when needed, Hexo's errors.

The posts are written by a real feedsite run over the rsshub-zh corpus into a site made
by ``feedsite init``; the Hexo failure runs the real Hexo 8 of ``tests/hexo``. The full
build (npm ci, Volantis, the browser) is ``tests/test_hexo_site_e2e.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from feedsite._init import init_project
from feedsite._run import run
from feedsite._targets.hexo._build import (
    build_hexo,
    needs_install,
    owned_post_paths,
)
from feedsite._targets.hexo._check import check_post, check_posts
from feedsite.config import Config, load_config
from feedsite.errors import HexoBuildError, PostCheckError
from tests.helpers.feeds import feeds_yaml
from tests.helpers.hexo import HEXO_DIR, make_site

ROOT = Path(__file__).resolve().parents[2]
RSSHUB_ZH = ROOT.parent / "shared" / "corpora" / "rsshub-zh"


def write_config(folder: Path, profile: str) -> Path:
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    lines = [
        "site: {hexo_root: ., timezone: Asia/Shanghai, profile: " + profile + "}",
        "defaults: {items_per_feed: 100}",
        "images: {mode: hotlink}",  # the corpus's images are on the internet
        *feeds_yaml(
            (m["category"], m["site"], m["route"], f"{{path: {RSSHUB_ZH / m['file']}}}")
            for m in manifest
        ),
    ]
    config = folder / "feedsite.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture
def written(tmp_path: Path, shared: Path) -> Callable[[str], Config]:
    """A site made by ``feedsite init`` with the corpus's posts written by a feedsite run."""

    def make(profile: str = "default") -> Config:
        init_project(tmp_path, target="hexo")
        config = load_config(write_config(tmp_path, profile))
        result = run(config)
        assert result.counts().feeds_ok == 12 and not result.item_errors
        return config

    return make


def run_cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    return proc.returncode, proc.stdout, proc.stderr


# -- the check ----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["default", "legacy"])
def test_every_post_feedsite_writes_passes_the_check(
    written: Callable[[str], Config], profile: str
) -> None:
    config = written(profile)
    owned = owned_post_paths(config.state_path)
    on_disk = sorted(
        p.relative_to(config.site.hexo_root / "source/_posts").as_posix()
        for p in (config.site.hexo_root / "source/_posts").rglob("*.md")
    )
    assert owned == on_disk and len(owned) > 50
    base = config.site.hexo_root / "source/_posts"
    assert check_posts(base / p for p in owned) == len(owned)
    front = check_post(base / owned[0])
    assert list(front["categories"]) == owned[0].split("/")[:3]  # type: ignore[call-overload]


BREAKAGES: dict[str, tuple[Callable[[str], str], str]] = {
    "yaml": (lambda t: t.replace("title: ", 'title: "unclosed ', 1), "not valid YAML"),
    "no date": (
        lambda t: "\n".join(ln for ln in t.split("\n") if not ln.startswith("date:")),
        "lacks date",
    ),
    "bad date": (lambda t: _sub_line(t, "date:", "date: yesterday at noon"), "not a date"),
    "categories": (lambda t: t.replace("categories:\n", "categories: 新闻\nx:\n", 1), "categories"),
    "no front matter": (lambda t: t.split("---\n", 2)[2], "no front matter"),
    "not a mapping": (lambda t: "---\n- a\n- b\n---\nbody\n", "not a mapping"),
}


def _sub_line(text: str, prefix: str, line: str) -> str:
    return "\n".join(line if ln.startswith(prefix) else ln for ln in text.split("\n"))


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_build_names_a_broken_post_before_running_anything(
    written: Callable[[str], Config], breakage: str
) -> None:
    config = written("default")
    root = config.site.hexo_root
    owned = owned_post_paths(config.state_path)
    victim = root / "source/_posts" / owned[len(owned) // 2]
    change, reason = BREAKAGES[breakage]
    victim.write_text(change(victim.read_text(encoding="utf-8")), encoding="utf-8")
    lines: list[str] = []
    with pytest.raises(PostCheckError) as caught:
        build_hexo(root, owned, on_line=lines.append)
    assert caught.value.path == victim
    assert str(victim) in str(caught.value) and reason in str(caught.value)
    # Neither npm nor Hexo ran.
    assert lines == []
    assert not (root / "node_modules").exists() and not (root / "public").exists()


def test_cli_build_reports_the_broken_post_and_exits_4(written: Callable[[str], Config]) -> None:
    config = written("default")
    root = config.site.hexo_root
    victim = root / "source/_posts" / owned_post_paths(config.state_path)[0]
    victim.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    code, _out, err = run_cli("build", "-c", str(config.file), "--target", "hexo")
    assert code == 4, err  # EXIT_BUILD
    assert "hexo build failed" in err and str(victim) in err and "not valid YAML" in err
    assert not (root / "node_modules").exists()


# -- npm ----------------------------------------------------------------------------------


def test_needs_install_follows_package_files(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}", encoding="utf-8")
    assert needs_install(tmp_path) == ("npm", "install")
    (tmp_path / "package-lock.json").write_text("{}", encoding="utf-8")
    assert needs_install(tmp_path) == ("npm", "ci")
    hexo_bin = tmp_path / "node_modules/hexo/bin/hexo"
    hexo_bin.parent.mkdir(parents=True)
    hexo_bin.write_text("", encoding="utf-8")
    hidden = tmp_path / "node_modules/.package-lock.json"
    hidden.write_text("{}", encoding="utf-8")
    os.utime(tmp_path / "package.json", ns=(1_000_000_000, 1_000_000_000))
    os.utime(tmp_path / "package-lock.json", ns=(1_000_000_000, 1_000_000_000))
    assert needs_install(tmp_path) == ()
    os.utime(tmp_path / "package-lock.json", ns=(9_000_000_000_000_000_000,) * 2)
    assert needs_install(tmp_path) == ("npm", "ci")


def test_missing_node_is_a_clear_error(tmp_path: Path) -> None:
    init_project(tmp_path, target="hexo")
    with pytest.raises(HexoBuildError, match="not on PATH"):
        build_hexo(tmp_path, [], env={"PATH": str(tmp_path / "empty")})


# -- Hexo itself fails --------------------------------------------------------------------


@pytest.mark.hexo
def test_hexo_failure_surfaces_hexos_error_and_exits_non_zero(tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    make_site(blog)  # the real Hexo 8 of tests/hexo (node_modules linked)
    # package.json older than tests/hexo's install: the build must not run npm in there.
    os.utime(blog / "package.json", ns=(1_000_000_000, 1_000_000_000))
    assert needs_install(blog) == (), f"{HEXO_DIR} looks out of date: run npm ci there"
    (blog / "scripts").mkdir()
    (blog / "scripts" / "boom.js").write_text(
        "hexo.extend.generator.register('boom', () => {"
        " throw new Error('feedsite-test: generator exploded'); });\n",
        encoding="utf-8",
    )
    lines: list[str] = []
    with pytest.raises(HexoBuildError) as caught:
        build_hexo(blog, [], on_line=lines.append)
    message = str(caught.value)
    assert "hexo generate` failed" in message and "(exit 2)" in message
    assert "FATAL" in message and "Error: feedsite-test: generator exploded" in message
    assert any("Start processing" in line for line in lines)  # Hexo's output streamed

    config = tmp_path / "feedsite.yaml"
    config.write_text(
        "site: {hexo_root: ./blog, timezone: Asia/Shanghai}\nfeeds: {a: {b: {c: {path: f.xml}}}}\n",
        encoding="utf-8",
    )
    code, _out, err = run_cli("build", "-c", str(config), "--target", "hexo")
    assert code == 4, err  # EXIT_BUILD
    assert "INFO  Start processing" in err  # streamed
    assert "hexo build failed" in err and "feedsite-test: generator exploded" in err
