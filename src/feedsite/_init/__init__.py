"""``feedsite init``: write a ready project from the packaged templates.

Scope: copying and filling templates. Installs nothing and fetches nothing.

A project is ``feedsite.yaml`` (a commented starter tree of RSSHub routes), a
``.gitignore`` and ``.github/workflows/feedsite.yml`` (hourly fetch, build and
GitHub Pages deploy, with RSSHub as a service container of the build job). With
``target="hexo"`` the folder is also a Hexo 8 site with the Volantis theme:
``package.json`` and ``package-lock.json`` (exact versions), ``_config.yml``,
``_config.volantis.yml`` (no CDN), ``scripts/feedsite.js`` and ``source/favicon.svg``.

The workflow installs feedsite with pip from the requirement :func:`pip_requirement`
finds for the feedsite running ``init`` (PEP 610 ``direct_url.json``): ``feedsite==X``
from an index, ``feedsite @ git+https://…@<commit>`` from a repository, nothing from a
folder or file on this computer (GitHub cannot reach it: the workflow then stops with a
message naming the ``FEEDSITE_PACKAGE`` variable to set).

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

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from feedsite import __version__
from feedsite.errors import InitError

__all__ = [
    "TARGETS",
    "InitError",
    "InitResult",
    "init_project",
    "pip_requirement",
    "planned_files",
]

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
#: What may go into the workflow's FEEDSITE_PACKAGE line as is (a YAML double-quoted
#: string around a GitHub expression's '' string): no quote, backslash, brace or ``$``.
_SAFE_REQUIREMENT = re.compile(r"[A-Za-z0-9 @+:/._=~!,<>%#&?-]+")


@dataclass(frozen=True, slots=True)
class InitResult:
    """What ``init_project`` wrote."""

    folder: Path
    target: Target
    #: Every file written, relative to ``folder``, in writing order.
    written: tuple[str, ...]
    #: Of those, the files that existed and were overwritten (``force=True``).
    replaced: tuple[str, ...]
    #: What the workflow's pip installs unless the repository variable FEEDSITE_PACKAGE
    #: says otherwise; None: nothing GitHub can reach (the variable must be set).
    package: str | None = None


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
    package: str | None = "auto",
) -> InitResult:
    """Write a new project into ``folder`` (created if needed).

    Args:
        folder: the project folder.
        target: ``hexo`` (a Hexo + Volantis site) or ``native`` (feedsite's own site).
        force: overwrite files that exist; without it nothing is written if any does.
        title: the site's title.
        timezone: ``site.timezone`` and Hexo's ``timezone``.
        per_page: posts per page on the home, category and archive pages.
        package: the pip requirement the workflow installs feedsite from; ``"auto"``:
            :func:`pip_requirement` of the running feedsite; None: none (the workflow
            then needs the repository variable FEEDSITE_PACKAGE).

    Returns:
        The files written.

    Raises:
        InitError: some of the files exist and ``force`` is false (naming them), or
            a file cannot be written.
    """
    if target not in TARGETS:
        raise InitError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    if package == "auto":
        package = pip_requirement()
    elif package and not _SAFE_REQUIREMENT.fullmatch(package):
        raise InitError(
            f"cannot write {package!r} into the workflow: no quotes, braces, $ or backslashes"
        )
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
        "package": package or "",
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
    return InitResult(folder, target, tuple(written), tuple(existing), package or None)


def pip_requirement(dist: Distribution | None = None) -> str | None:
    """The pip requirement that installs ``dist`` (default: this feedsite) on GitHub.

    Read from the distribution's ``direct_url.json`` (PEP 610, written by pip for
    anything not installed from an index):

    * none: installed from an index, ``feedsite==<version>``;
    * a git repository over https: ``feedsite @ git+<url>@<commit>`` (the commit that
      was installed, so CI runs the same code);
    * an archive over https: ``feedsite @ <url>``;
    * anything else (a folder or file here, ssh, another VCS, credentials or ``$`` in
      the URL): None, as it is when feedsite is not installed at all.
    """
    if dist is None:
        try:
            dist = distribution("feedsite")
        except PackageNotFoundError:
            return None
    name = dist.metadata["Name"] or "feedsite"
    text = dist.read_text("direct_url.json")
    if text is None:
        req = f"{name}=={dist.version}"
        return req if _SAFE_REQUIREMENT.fullmatch(req) else None
    try:
        info = json.loads(text)
    except ValueError:
        return None
    url = info.get("url") if isinstance(info, dict) else None
    if not isinstance(url, str) or not url.startswith("https://"):
        return None
    if "@" in url.split("/")[2]:  # user:token@host
        return None
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        if vcs.get("vcs") != "git" or not isinstance(commit, str):
            return None
        req = f"{name} @ git+{url}@{commit}"
        subdirectory = info.get("subdirectory")
        if isinstance(subdirectory, str) and subdirectory:
            req += f"#subdirectory={subdirectory}"
    elif "archive_info" in info:
        req = f"{name} @ {url}"
    else:
        return None
    return req if _SAFE_REQUIREMENT.fullmatch(req) else None


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
