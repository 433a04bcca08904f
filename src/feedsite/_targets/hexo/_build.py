"""``feedsite build --target hexo``: check the posts, install the site's packages, run Hexo.

Scope: the subprocess shell around npm and Hexo. Decides nothing about posts.

The order is the point:

1. every post feedsite recorded as written is read back and checked
   (:func:`~feedsite._targets.hexo._check.check_post`), so a broken post is named
   in a line, not discovered in a Hexo stack trace after 40 seconds;
2. ``npm ci`` (``npm install`` without a ``package-lock.json``) runs when
   ``node_modules`` is missing or older than ``package.json`` / ``package-lock.json``;
3. ``hexo generate`` runs in the site folder; its output is streamed line by line
   and, when it fails, its error lines become the :class:`HexoBuildError`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedsite.errors import HexoBuildError

from ._check import check_post

__all__ = [
    "HexoBuildError",
    "HexoBuildResult",
    "build_hexo",
    "check_owned_posts",
    "is_hexo_site",
    "needs_install",
    "owned_post_paths",
]

#: Lines of Hexo's output kept for the error message when nothing looks like an error.
_TAIL = 30
_ERROR_LINE = re.compile(r"\b(ERROR|FATAL|Error:|error)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class HexoBuildResult:
    """What one Hexo build did."""

    #: Posts checked before Hexo ran.
    posts: int
    #: The npm command run first, e.g. ``("npm", "ci")``; empty when none was needed.
    installed: tuple[str, ...]
    #: Seconds spent in npm and in ``hexo generate``.
    npm_seconds: float
    hexo_seconds: float
    #: The folder Hexo wrote (``<hexo_root>/public`` unless ``_config.yml`` says otherwise).
    public: Path


def is_hexo_site(hexo_root: Path) -> bool:
    """Whether ``hexo_root`` holds a Hexo site (``package.json`` and ``_config.yml``)."""
    return (hexo_root / "package.json").is_file() and (hexo_root / "_config.yml").is_file()


def check_owned_posts(hexo_root: Path, paths: Sequence[str]) -> int:
    """Check the posts at ``paths`` (relative to ``<hexo_root>/source/_posts``).

    Returns:
        How many were checked.

    Raises:
        PostCheckError: the first post that would not load, by its full path.
    """
    base = hexo_root / "source" / "_posts"
    for rel in paths:
        check_post(base / rel)
    return len(paths)


def needs_install(hexo_root: Path) -> tuple[str, ...]:
    """The npm command the site needs before Hexo can run; ``()`` when it is installed.

    ``npm ci`` when there is a ``package-lock.json`` (reproducible), else ``npm install``.
    npm records what it installed in ``node_modules/.package-lock.json``: the site needs
    an install when that file is missing or older than ``package.json`` or the lock.
    """
    lock = hexo_root / "package-lock.json"
    command = ("npm", "ci") if lock.is_file() else ("npm", "install")
    hidden = hexo_root / "node_modules" / ".package-lock.json"
    hexo_bin = hexo_root / "node_modules" / "hexo" / "bin" / "hexo"
    if not hidden.is_file() or not hexo_bin.is_file():
        return command
    installed = hidden.stat().st_mtime_ns
    for source in (hexo_root / "package.json", lock):
        if source.is_file() and source.stat().st_mtime_ns > installed:
            return command
    return ()


def build_hexo(
    hexo_root: Path,
    post_paths: Sequence[str],
    *,
    on_line: Callable[[str], None] = lambda _line: None,
    env: dict[str, str] | None = None,
) -> HexoBuildResult:
    """Check the posts, install the packages when needed, run ``hexo generate``.

    Args:
        hexo_root: the Hexo site folder (``site.hexo_root``).
        post_paths: the posts feedsite owns, relative to ``source/_posts``.
        on_line: called with every line npm and Hexo print, as they print it.
        env: the environment of npm and Hexo (default: this process's).

    Returns:
        What was done.

    Raises:
        PostCheckError: a post would not load (nothing was run).
        HexoBuildError: the folder is no Hexo site, Node/npm is missing, or npm or
            Hexo exited non-zero (the message carries their error lines).
    """
    if not is_hexo_site(hexo_root):
        raise HexoBuildError(
            f"{hexo_root} is not a Hexo site (no package.json and _config.yml):"
            " create one with `feedsite init --target hexo`"
        )
    posts = check_owned_posts(hexo_root, post_paths)
    environ = dict(os.environ if env is None else env)
    started = time.monotonic()
    command = needs_install(hexo_root)
    if command:
        npm = _tool("npm", environ)
        _stream([npm, *command[1:], "--no-audit", "--no-fund"], hexo_root, environ, on_line)
    npm_seconds = time.monotonic() - started
    node = _tool("node", environ)
    started = time.monotonic()
    hexo = hexo_root / "node_modules" / "hexo" / "bin" / "hexo"
    _stream([node, str(hexo), "generate"], hexo_root, environ, on_line)
    return HexoBuildResult(
        posts=posts,
        installed=command,
        npm_seconds=npm_seconds,
        hexo_seconds=time.monotonic() - started,
        public=hexo_root / "public",
    )


def _tool(name: str, environ: dict[str, str]) -> str:
    found = shutil.which(name, path=environ.get("PATH"))
    if found is None:
        raise HexoBuildError(
            f"`{name}` is not on PATH: building the Hexo site needs Node.js >= 20.19 and npm"
        )
    return found


def _stream(
    argv: list[str], cwd: Path, environ: dict[str, str], on_line: Callable[[str], None]
) -> None:
    """Run ``argv`` in ``cwd``, passing each output line on; raise with its errors on failure."""
    shown = " ".join([Path(argv[0]).name, *argv[1:]]).replace(str(cwd) + os.sep, "")
    lines: list[str] = []
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except OSError as e:
        raise HexoBuildError(f"cannot run {shown} in {cwd}: {e.strerror or e}") from e
    assert proc.stdout is not None
    with proc:
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            on_line(line)
    if proc.returncode != 0:
        raise HexoBuildError(
            f"`{shown}` failed in {cwd} (exit {proc.returncode}):\n{_errors(lines)}"
        )


def _errors(lines: list[str]) -> str:
    """Hexo's and npm's error lines: from the first ERROR/FATAL line on, else the tail."""
    plain = [_ANSI.sub("", line) for line in lines]
    first = next((i for i, line in enumerate(plain) if _ERROR_LINE.search(line)), None)
    picked = plain[first : first + 15] if first is not None else plain[-_TAIL:]
    return "\n".join(picked) or "(no output)"


def owned_post_paths(state_path: Path) -> list[str]:
    """Posts feedsite recorded as written, relative to ``source/_posts`` (none without state)."""
    from feedsite._store import State

    if not state_path.exists():
        return []
    with State.open(state_path, create=False) as state:
        return sorted(state.files("hexo"))
