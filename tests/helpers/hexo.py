"""Run the real Hexo 8 (``tests/hexo``) over a site and read back what it loaded.

Scope: test support only. Contains no feedsite logic.

Typical use::

    require_hexo()                                   # fails the test when npm ci was not run
    make_site(blog)                                  # _config.yml, package.json, node_modules
    ... write posts under blog/source/_posts ...
    loaded = load_posts(blog, tz="Asia/Shanghai")    # node tests/hexo/load_posts.js blog
    loaded.errors                                    # every WARN/ERROR/FATAL Hexo logged
    loaded.posts["a/b/c/0123456789abcdef.md"].title

Hexo skips a post whose front matter it cannot read, logs an error and still exits 0,
so callers compare ``loaded.posts`` with the files they wrote; they never trust the
exit status alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

HEXO_DIR = Path(__file__).resolve().parents[1] / "hexo"
LOADER = HEXO_DIR / "load_posts.js"
CONFIG_TEMPLATE = HEXO_DIR / "_config.yml"
#: The packages ``load_posts.js`` needs in ``tests/hexo/node_modules``.
PACKAGES = ("hexo", "hexo-renderer-marked")
INSTALL_HINT = "run `npm ci --prefix tests/hexo` (needs Node.js >= 20.19)"
#: V8 heap limit for the loader: ~6,800 posts peak at ~0.65 GiB RSS, and V8's default
#: limit on a machine with little memory can be lower than that.
NODE_HEAP_MB = 2048
#: Loading ~6,800 posts takes ~12 s on 2 cores; this only stops a hung process.
TIMEOUT_SECONDS = 600


@dataclass(frozen=True, slots=True)
class HexoPost:
    """One post as Hexo loaded it."""

    #: Path relative to ``source/_posts``, with ``/`` separators.
    source: str
    title: str
    #: The instant Hexo gave the post, aware UTC; None if Hexo had no date.
    date: datetime | None
    #: Each of the post's categories as its parent chain, e.g. ``("a", "b")``.
    categories: tuple[tuple[str, ...], ...]
    published: bool
    #: The rendered HTML.
    content: str
    #: The post's tag names, in order.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HexoLoad:
    """What one Hexo load of a site produced."""

    version: str
    #: Every warning, error or fatal message Hexo logged, with its error's stack.
    errors: tuple[str, ...]
    posts: dict[str, HexoPost]
    tz: str
    #: Wall-clock seconds of the whole node process.
    seconds: float
    #: Peak resident memory of the node process, in KiB.
    max_rss_kb: int


def require_node() -> None:
    """Fail (never skip) the calling test when ``node`` or ``npm`` is missing: it builds a
    Hexo site made by ``feedsite init`` (``npm ci`` + ``hexo generate``)."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is not on PATH: this test builds a Hexo site (Node >= 20.19)")


def cli_env() -> dict[str, str]:
    """The environment of a ``feedsite`` subprocess: no colour and wide lines."""
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}


def pins(now: str) -> tuple[str, ...]:
    """``feedsite run`` options that pin the run's clock to ``now`` (ISO 8601) and the
    jitter seed."""
    return ("--now", now, "--seed", "1")


def require_hexo() -> None:
    """Fail (never skip) the calling test when Node or ``tests/hexo/node_modules`` is missing."""
    if shutil.which("node") is None:
        pytest.fail(f"Node.js is not on PATH: the Hexo tests need it; then {INSTALL_HINT}")
    missing = [
        p for p in PACKAGES if not (HEXO_DIR / "node_modules" / p / "package.json").is_file()
    ]
    if missing:
        pytest.fail(
            f"{HEXO_DIR / 'node_modules'} lacks {', '.join(missing)}: {INSTALL_HINT}",
        )


def make_site(blog: Path, *, timezone: str = "Asia/Shanghai") -> None:
    """Make ``blog`` a Hexo site as ``hexo init`` would, using ``tests/hexo`` for its packages.

    Writes ``_config.yml`` (the template with its ``timezone`` set to ``timezone``),
    a site ``package.json`` naming Hexo and the Markdown renderer (Hexo loads
    plugins from the site's dependencies), and links ``node_modules`` to
    ``tests/hexo/node_modules``.

    Args:
        blog: the site folder (created if needed).
        timezone: the zone the posts' dates were written in (feedsite's site.timezone).
    """
    require_hexo()
    template = CONFIG_TEMPLATE.read_text(encoding="utf-8")
    config, found = re.subn(r"(?m)^timezone: .*$", f"timezone: {timezone}", template)
    if found != 1:
        raise AssertionError(f"{CONFIG_TEMPLATE} must have one top-level `timezone:` line")
    blog.mkdir(parents=True, exist_ok=True)
    (blog / "_config.yml").write_text(config, encoding="utf-8")
    pins = json.loads((HEXO_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    site_package = {
        "name": "hexo-site",
        "version": "0.0.0",
        "private": True,
        "hexo": {"version": ""},
        "dependencies": {name: pins[name] for name in PACKAGES},
    }
    (blog / "package.json").write_text(json.dumps(site_package, indent=2), encoding="utf-8")
    link = blog / "node_modules"
    if not link.exists():
        link.symlink_to(HEXO_DIR / "node_modules", target_is_directory=True)


def load_posts(blog: Path, *, tz: str) -> HexoLoad:
    """Load the site ``blog`` in Hexo with the process time zone ``tz``.

    Args:
        blog: a site prepared by :func:`make_site`.
        tz: the ``TZ`` of the node process (the build machine's zone).

    Returns:
        What Hexo loaded and logged.

    Raises:
        AssertionError: node failed or printed something that is not the loader's JSON.
    """
    require_hexo()
    env = {
        **os.environ,
        "TZ": tz,
        "NODE_OPTIONS": f"--max-old-space-size={NODE_HEAP_MB}",
        "NO_COLOR": "1",
    }
    started = time.monotonic()
    proc = subprocess.run(
        ["node", str(LOADER), str(blog)],
        capture_output=True,
        env=env,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.monotonic() - started
    stderr = proc.stderr.decode("utf-8", "replace")
    try:
        data: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(
            f"node {LOADER.name} {blog} (TZ={tz}) exited {proc.returncode} without its JSON;\n"
            f"stderr:\n{stderr[-4000:]}\nstdout:\n{proc.stdout[:2000]!r}"
        ) from None
    if proc.returncode != 0:
        errors = "\n".join(data.get("errors", []))
        raise AssertionError(
            f"Hexo could not load {blog} (TZ={tz}, exit {proc.returncode}):\n{errors}\n{stderr}"
        )
    posts = {p["source"]: _post(p) for p in data["posts"]}
    return HexoLoad(
        version=data["hexo"],
        errors=tuple(data["errors"]),
        posts=posts,
        tz=tz,
        seconds=seconds,
        max_rss_kb=int(data["stats"]["max_rss_kb"]),
    )


def _post(p: dict[str, Any]) -> HexoPost:
    date = datetime.fromisoformat(p["date"]) if p["date"] else None
    return HexoPost(
        source=p["source"],
        title=p["title"],
        date=date,
        categories=tuple(tuple(chain) for chain in p["categories"]),
        published=bool(p["published"]),
        content=p["content"] or "",
        tags=tuple(p.get("tags") or ()),
    )
