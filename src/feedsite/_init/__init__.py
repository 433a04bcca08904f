"""``feedsite init``: write a ready project from the packaged templates.

Scope: copying and filling templates. Installs nothing and fetches nothing.

A project is ``feedsite.yaml`` (a commented starter tree of RSSHub routes), a
``.gitignore`` and ``.github/workflows/feedsite.yml`` (hourly fetch, build and
GitHub Pages deploy). With ``target="hexo"`` the folder is also a Hexo 8 site with
the Volantis theme: ``package.json`` and ``package-lock.json`` (exact versions),
``_config.yml``, ``_config.volantis.yml`` (no CDN), ``scripts/feedsite.js``
and ``source/favicon.svg``.

Templates live in ``templates/`` (package data): ``common/`` for both targets,
``hexo/`` for the Hexo site. Files ending in ``.yml`` / ``.yaml`` are Jinja2
templates with ``[[ ]]`` / ``[% %]`` delimiters (GitHub's ``${{ }}`` and
feedsite's ``${VAR}`` pass through); everything else is copied as is.

Usage::

    from feedsite._init import init_project

    result = init_project(Path("news"), target="hexo")
    for path in result.written:
        print("created", path)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from feedsite import __version__
from feedsite.errors import InitError

__all__ = ["TARGETS", "InitError", "InitResult", "init_project", "planned_files"]

Target = Literal["hexo", "native"]
TARGETS: tuple[Target, ...] = ("hexo", "native")

#: Where each packaged template goes in the project (for both targets).
_COMMON = {
    "feedsite.yaml": "feedsite.yaml",
    "feedsite.yml": ".github/workflows/feedsite.yml",
}
#: Packaged names that differ from the project's (a file named .gitignore would be
#: left out of some sdists).
_RENAMES = {"gitignore": ".gitignore"}
_TEMPLATED = (".yml", ".yaml")


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``init_project`` wrote."""

    folder: Path
    target: Target
    #: Every file written, relative to ``folder``, in writing order.
    written: tuple[str, ...]
    #: Of those, the files that existed and were overwritten (``force=True``).
    replaced: tuple[str, ...]


def planned_files(target: Target) -> dict[str, Traversable]:
    """Project-relative path → packaged template, for ``target``."""
    root = files("feedsite._init") / "templates"
    plan: dict[str, Traversable] = {dest: root / "common" / src for src, dest in _COMMON.items()}
    if target == "hexo":
        for rel, item in _walk(root / "hexo", ""):
            parts = rel.split("/")
            parts[-1] = _RENAMES.get(parts[-1], parts[-1])
            plan["/".join(parts)] = item
    else:
        plan[".gitignore"] = root / "common" / "gitignore.native"
    return plan


def init_project(
    folder: Path,
    *,
    target: Target = "hexo",
    force: bool = False,
    title: str = "新闻",
    timezone: str = "Asia/Shanghai",
    per_page: int = 20,
) -> InitResult:
    """Write a new project into ``folder`` (created if needed).

    Args:
        folder: the project folder.
        target: ``hexo`` (a Hexo + Volantis site) or ``native`` (feedsite's own site).
        force: overwrite files that exist; without it nothing is written if any does.
        title: the site's title.
        timezone: ``site.timezone`` and Hexo's ``timezone``.
        per_page: posts per page on the home, category and archive pages.

    Returns:
        The files written.

    Raises:
        InitError: some of the files exist and ``force`` is false (naming them), or
            a file cannot be written.
    """
    if target not in TARGETS:
        raise InitError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    plan = planned_files(target)
    existing = [rel for rel in plan if (folder / rel).exists()]
    if existing and not force:
        raise InitError(
            f"{folder} already has {', '.join(existing)}: nothing was written;"
            " use --force to overwrite them"
        )
    # What the templates fill in (``[[ title ]]``...): the arguments as given.
    variables = {
        "target": target,
        "title": title,
        "timezone": timezone,
        "per_page": per_page,
        "version": __version__,
    }
    written: list[str] = []
    try:
        for rel, template in plan.items():
            dest = folder / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = template.read_bytes()
            if rel.endswith(_TEMPLATED):
                data = _render(data.decode("utf-8"), variables).encode("utf-8")
            dest.write_bytes(data)
            written.append(rel)
    except OSError as e:
        raise InitError(f"cannot write into {folder}: {e}") from e
    return InitResult(folder, target, tuple(written), tuple(existing))


def _walk(node: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, rel + "/")
        else:
            yield rel, child


def _render(text: str, variables: dict[str, object]) -> str:
    import jinja2

    env = jinja2.Environment(
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    return env.from_string(text).render(variables)
