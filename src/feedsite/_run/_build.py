"""``feedsite build``: build each target from the state (no fetching). Decides nothing.

The CLI only prints what :func:`build` returns and maps it to an exit code:

* ``native`` — the run lock is taken and the state opened here; the site target
  (:func:`feedsite._targets.site.build_site`) builds from the open state and returns
  its :class:`~feedsite._targets.site.BuildResult`. ``LockedError`` and ``StateError``
  raise, as a ``feedsite run``'s do; a site that cannot be built (``TargetError``: a file
  cannot be written, no such templates folder or timezone) is a :class:`TargetFailed`.
* ``hexo`` — the folder is checked to be a Hexo site, then
  :func:`~feedsite._targets.hexo._build.build_hexo` checks the posts feedsite owns, installs
  the packages when needed and runs ``hexo generate``; Node's lines stream to ``on_line``.
  A Hexo site that cannot be built is a :class:`TargetFailed` value, not an exception.

A failed target does not stop the others. The CLI exits 4 (``EXIT_BUILD``) when any failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._targets.hexo._build import (
    HexoBuildResult,
    build_hexo,
    is_hexo_site,
    owned_post_paths,
)
from feedsite._targets.site import BuildResult, build_site
from feedsite.config import Config
from feedsite.errors import FeedsiteError, TargetError

__all__ = [
    "BuildResult",
    "HexoBuildResult",
    "TargetBuild",
    "TargetFailed",
    "build",
    "build_hexo_site",
    "build_native",
]


@dataclass(frozen=True, slots=True)
class TargetFailed:
    """A target was not built (the CLI exits 4, ``EXIT_BUILD``)."""

    #: "native" or "hexo".
    target: str
    message: str
    #: The Hexo folder is no Hexo site (no ``package.json`` and ``_config.yml``): nothing
    #: was run. Otherwise a post, npm or Hexo failed, or a native file could not be written.
    not_a_site: bool = False


#: One target's outcome: the native site's result, the Hexo build's result, or why the
#: target was not built.
TargetBuild = BuildResult | HexoBuildResult | TargetFailed


def build(
    config: Config,
    targets: Sequence[str],
    out: Path | None = None,
    *,
    on_line: Callable[[str], None] = lambda _line: None,
) -> list[TargetBuild]:
    """Build ``targets`` ("native", "hexo") in order; one result each, in the same order.

    Args:
        config: the loaded config.
        targets: the targets to build (usually ``config.site.targets``).
        out: the native site's output folder instead of ``native.out``.
        on_line: called with each line npm and Hexo print, as they print it (plain text,
            possibly holding post titles: the caller cleans it for a terminal).

    Raises:
        LockedError: another run holds the state (native).
        StateError: the state cannot be opened, or no run made it yet (native).
    """
    results: list[TargetBuild] = []
    for target in targets:
        if target == "hexo":
            results.append(build_hexo_site(config, on_line=on_line))
        elif target == "native":
            try:
                results.append(build_native(config, out))
            except TargetError as e:
                results.append(TargetFailed("native", str(e)))
        else:
            raise FeedsiteError(f"unknown target {target!r}: expected hexo or native")
    return results


def build_native(config: Config, out: Path | None = None) -> BuildResult:
    """Build the native site under the run lock, from the state (see :func:`build`)."""
    from ._images import local_images

    with locked(config.state_path), State.open(config.state_path, create=False) as state:
        return build_site(state, config, out=out, images=local_images(state, config))


def build_hexo_site(
    config: Config, *, on_line: Callable[[str], None] = lambda _line: None
) -> HexoBuildResult | TargetFailed:
    """Check the posts, run npm when needed and ``hexo generate`` (see :func:`build`)."""
    root = config.site.hexo_root
    if not is_hexo_site(root):
        return TargetFailed(
            "hexo",
            f"{root} is not a Hexo site (no package.json and _config.yml);"
            " `feedsite init --target hexo` makes one (the posts are in"
            f" {root / 'source/_posts'})",
            not_a_site=True,
        )
    try:
        return build_hexo(root, owned_post_paths(config.state_path), on_line=on_line)
    except TargetError as e:
        return TargetFailed("hexo", str(e))
