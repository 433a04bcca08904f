"""The native static-site target: ``feedsite build``.

Renders a static site from the state (the same live items the Hexo target
posts): a home page of the newest posts, a page per category, site and feed, a
page per post, archives by month, Atom feeds, an OPML file, a sitemap and a
search index (``_search``). See ``_plan`` for the page set and the manifest.

The shell here reads the state, asks :func:`plan_pages` (pure) what to render,
renders only pages whose input key changed, writes through the one guarded
writer, deletes pages it recorded that no longer exist, and records the manifest
(table ``site_pages``). Pages are recorded (key "") before they are first
written, so a killed build never leaves a file feedsite does not own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._targets._writer import Writer
from feedsite._url import SECRET_PARAMS, public_url
from feedsite.config import Config, FeedSpec
from feedsite.errors import FeedsiteError, TargetError

from . import _indexer as indexer
from ._html import prepare_body
from ._model import FeedRef, Page, PagePlan, Settings, SitePost
from ._plan import CARD_VERSION, plan_pages, site_posts
from ._render import Renderer, environment, static_files, templates_key

__all__ = [
    "BuildResult",
    "PagePlan",
    "SiteOptions",
    "SitePost",
    "build_site",
    "feed_refs",
    "plan_pages",
    "site_posts",
]

NO_BASE_URL_WARNING = (
    "no base URL set: Atom feeds and the sitemap use relative URLs (set the site's base URL)"
)
#: Pages rendered per batch of bodies read from the state.
_BATCH = 500


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """Options of ``feedsite build``."""

    out: Path
    title: str = "feedsite"
    base_url: str = ""
    templates: Path | None = None
    timezone: str | None = None
    per_page: int = 30
    search: bool = True

    @classmethod
    def from_config(cls, config: Config, out: Path | None = None) -> SiteOptions:
        """The options a config's ``native`` section and ``site.timezone`` describe."""
        native = config.native
        return cls(
            out=(out or native.out).absolute(),
            title=native.title,
            base_url=native.base_url,
            templates=native.templates,
            timezone=config.site.timezone,
            per_page=native.per_page,
            search=native.search,
        )


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build did."""

    written: int
    unchanged: int
    deleted: int
    posts: int
    seconds: float
    search_seconds: float
    warnings: tuple[str, ...]


def feed_refs(config: Config) -> list[FeedRef]:
    """The configured feeds, in config order, with the URL the OPML gives each."""
    return [FeedRef(f.category, f.site, f.name, f.key, _xml_url(f, config)) for f in config.feeds]


def _xml_url(feed: FeedSpec, config: Config) -> str:
    """The URL the OPML and the feed's page publish for ``feed``: the owner's URL without
    credentials or secret query values (:func:`feedsite._url.public_url`), or "" when it has
    no public URL (a ``path:`` feed's ``file:`` URL: a local path is nobody's business; the
    OPML then names the site's own Atom feed of that feed)."""
    if feed.route is not None:
        instance = config.rsshub.instances[0] if config.rsshub.instances else ""
        url = public_url(instance.rstrip("/") + feed.route)
    else:
        url = public_url(feed.url)
    key = config.rsshub.access_key
    if url is None:
        return ""
    base, sep, query = url.partition("?")
    if key and sep:  # the access key under a parameter name public_url does not know
        query, hash_sep, fragment = query.partition("#")
        kept = [pair for pair in query.split("&") if unquote(pair.partition("=")[2]) != key]
        url = base + ("?" + "&".join(kept) if kept else "") + hash_sep + fragment
    return url


def build_site(config: Config, options: SiteOptions, *, now: datetime) -> BuildResult:
    """Build (or update) the static site in ``options.out``. See the module docstring.

    ``now`` is accepted for symmetry with ``run``; no output depends on the clock.

    Raises:
        StateError: the state cannot be opened (or no run made it yet), or is locked.
        TargetError: a file cannot be written, or the search index failed.
    """
    del now  # outputs depend on the items only, never on the build's time
    started = time.monotonic()
    warnings: list[str] = []
    if not options.base_url:
        warnings.append(NO_BASE_URL_WARNING)
    zone = options.timezone or "UTC"
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError) as e:
        raise TargetError(f"unknown timezone {zone!r}") from e
    if options.templates is not None and not options.templates.is_dir():
        raise TargetError(f"template folder {options.templates} does not exist")
    env = environment(options.templates, zone, config.state_path.parent / "cache" / "templates")
    static = static_files()
    settings = Settings(
        title=options.title,
        base_url=options.base_url.rstrip("/"),
        timezone=zone,
        per_page=max(1, options.per_page),
        image_proxy=config.site.image_proxy,
        iframe_hosts=tuple(sorted(config.clean.iframe_hosts)),
        templates_key=templates_key(env, static),
        css_path=next(p for p in static if p.startswith("assets/style.")),
        js_path=next(p for p in static if p.startswith("assets/search.")),
    )
    feeds = feed_refs(config)
    secrets = owner_secrets(config)
    writer = Writer(options.out)
    with locked(config.state_path), State.open(config.state_path, create=False) as state:
        items = state.live_items((f.key for f in feeds), CARD_VERSION)
        posts, new_cards = site_posts(items, feeds, settings)
        if secrets:
            posts = [_without_secrets(p, secrets) for p in posts]
        state.record_site_cards(new_cards)
        recorded = state.site_pages()
        on_disk = _files_under(writer.root)
        manifest = {path: key if path in on_disk else "" for path, (key, _sha) in recorded.items()}
        plan = plan_pages(
            posts,
            feeds,
            settings,
            manifest,
            static={p: hashlib.sha256(d).hexdigest() for p, d in static.items()},
        )
        # A large search update runs in a child process while the pages render.
        job = (
            indexer.start(writer, state, recorded, posts, zone, on_disk) if options.search else None
        )
        pages_written, records = _write(
            plan, state, writer, recorded, env, settings, static, secrets
        )
        written = pages_written
        deleted = _delete(plan.delete, writer, recorded, warnings)
        writer.sync()
        state.record_site_pages(records, plan.delete)

        search_seconds = 0.0
        if job is not None:
            try:
                changed, search_seconds = indexer.finish(
                    job,
                    writer,
                    state,
                    recorded,
                    lambda paths: _delete(paths, writer, recorded, warnings),
                )
            except FeedsiteError as e:
                warnings.append(f"search index not updated: {e}")
            else:
                written += changed
    return BuildResult(
        written=written,
        unchanged=len(plan.pages) - pages_written,
        deleted=deleted,
        posts=len(posts),
        seconds=time.monotonic() - started,
        search_seconds=search_seconds,
        warnings=tuple(warnings),
    )


#: Shorter secrets are not searched for in published text (too likely to be ordinary words).
_MIN_SECRET = 6


def owner_secrets(config: Config) -> frozenset[str]:
    """The site owner's secrets that no page may publish: the access key, the user names
    and passwords in instance, proxy and feed URLs, and their secret query values
    (:data:`feedsite._url.SECRET_PARAMS`). Items stored by older runs may hold links and
    bodies resolved against the fetch URL (issue #10 row 5)."""
    found: set[str] = set()
    if config.rsshub.access_key:
        found.add(config.rsshub.access_key)
    urls = [*config.rsshub.instances, *(f.url for f in config.feeds if f.url)]
    urls += [u for u in (config.fetch.proxy, *(f.proxy for f in config.feeds)) if u]
    for url in urls:
        try:
            parts = urlsplit(url)
            found.update(v for v in (parts.username, parts.password) if v)
            found.update(v for k, v in parse_qsl(parts.query) if k.lower() in SECRET_PARAMS)
        except ValueError:
            continue
    found |= {unquote(v) for v in found}
    return frozenset(v for v in found if len(v) >= _MIN_SECRET)


def _hide(text: str, secrets: frozenset[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _without_secrets(post: SitePost, secrets: frozenset[str]) -> SitePost:
    """``post`` without a link or cover that holds one of the owner's secrets."""
    link = post.link if post.link is None or _hide(post.link, secrets) == post.link else None
    cover = post.cover if post.cover is None or _hide(post.cover, secrets) == post.cover else None
    if link == post.link and cover == post.cover:
        return post
    return dataclasses.replace(post, link=link, cover=cover)


def _files_under(root: Path) -> set[str]:
    """Every file under ``root`` (relative, ``/``-separated): one listing per folder."""
    found: set[str] = set()
    base = len(str(root)) + 1
    for folder, _dirs, names in os.walk(root):
        rel = folder[base:].replace(os.sep, "/")
        prefix = rel + "/" if rel else ""
        found.update(prefix + name for name in names)
    return found


def _write(
    plan: PagePlan,
    state: State,
    writer: Writer,
    recorded: dict[str, tuple[str, str]],
    env: jinja2.Environment,
    settings: Settings,
    static: dict[str, bytes],
    secrets: frozenset[str] = frozenset(),
) -> tuple[int, list[tuple[str, str, str]]]:
    """Render and write the pages whose key changed; returns (files changed, manifest rows).

    Pages go in batches, each with the bodies it needs read in one go: a full build of
    10,000 posts never holds every body at once.
    """
    # Own every new path before its file appears (a killed build leaves no stray file).
    state.record_site_pages([(p.path, "", "") for p in plan.render if p.path not in recorded], ())
    renderer = Renderer(env, settings, plan, static)
    changed = 0
    records: list[tuple[str, str, str]] = []
    for start in range(0, len(plan.render), _BATCH):
        batch = plan.render[start : start + _BATCH]
        need: dict[str, tuple[tuple[str, str], str | None]] = {}
        for page in batch:
            if page.kind in ("post", "atom"):
                for p in page.posts:
                    need[p.uid] = ((p.feed_key, p.item_id), p.link)
        by_key = state.bodies(key for key, _link in need.values())
        bodies = {
            uid: _hide(
                prepare_body(
                    by_key.get(key, ""), link, settings.image_proxy, settings.iframe_hosts
                ),
                secrets,
            )
            for uid, (key, link) in need.items()
        }
        for page in batch:
            data = _render_page(renderer, page, bodies)
            if writer.write(page.path, data).changed:
                changed += 1
            records.append((page.path, page.key, hashlib.sha256(data).hexdigest()))
    return changed, records


def _render_page(renderer: Renderer, page: Page, bodies: dict[str, str]) -> bytes:
    try:
        return renderer.render(page, bodies)
    except Exception as e:
        if isinstance(e, TargetError):
            raise
        raise TargetError(f"cannot render {page.path}: {type(e).__name__}: {e}") from e


def _delete(
    paths: tuple[str, ...] | list[str],
    writer: Writer,
    recorded: dict[str, tuple[str, str]],
    warnings: list[str],
) -> int:
    """Delete recorded files that are gone from the site, if they still hold our bytes."""
    deleted = 0
    for path in paths:
        target = writer.resolve(path)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise TargetError(f"cannot read {target}: {e.strerror or e}") from e
        sha = recorded.get(path, ("", ""))[1]
        if sha and hashlib.sha256(data).hexdigest() != sha:
            warnings.append(f"{path} was edited by hand: left in place")
            continue
        if writer.delete(path):
            deleted += 1
    return deleted
