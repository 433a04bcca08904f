"""The native static-site target: ``feedsite build``.

Renders a static site from the state (the same live items the Hexo target
posts): a home page of the newest posts, a page per category, site and feed, a
page per post, archives by month, a page per tag (and one listing them), Atom
feeds, an OPML file, a sitemap and a search index (``_search``). See ``_plan``
for the page set and the manifest.

The shell here reads the open state (the caller, :func:`feedsite._run._build.build`,
opens it and holds the run lock), asks :func:`plan_pages` (pure) what to render,
renders only pages whose input key changed, and changes files only through the one
ledger (:mod:`feedsite._targets._ledger`, target ``native``): a killed build is
settled at the start of the next one, pages are recorded pending before their bytes
change, pages no longer planned are deleted only while they hold feedsite's bytes,
so a killed build never leaves a file feedsite does not own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from feedsite._plan._stories import Story, feed_ranks, stories_of
from feedsite._records import FileWrite, OwnedFile, PostImages
from feedsite._store import LiveItem, SiteCard, State
from feedsite._targets._ledger import Ledger, Session
from feedsite._targets._writer import Writer
from feedsite._url import SECRET_PARAMS, public_url
from feedsite.config import Config, FeedSpec
from feedsite.errors import FeedsiteError, TargetError
from feedsite.types import LocalImage

from . import _indexer as indexer
from ._html import prepare_body
from ._model import IMAGES_DIR, FeedRef, Page, PagePlan, Settings, SitePost
from ._plan import CARD_VERSION, plan_pages, site_posts
from ._render import Renderer, environment, static_files, templates_key

__all__ = [
    "TARGET",
    "BuildResult",
    "PagePlan",
    "Settings",
    "SitePost",
    "build_site",
    "feed_refs",
    "plan_pages",
    "site_posts",
    "site_stories",
]

#: The target's name in the ledger.
TARGET = "native"
NO_BASE_URL_WARNING = (
    "native.base_url is not set: Atom feeds and the sitemap use relative URLs"
    " (set native.base_url in the config, e.g. https://user.github.io/news/)"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Pages rendered per batch of bodies read from the state.
_BATCH = 500
#: The card cache forgets the cards of items no longer live once it holds more than
#: this share of the live items, plus :data:`_CARD_SLACK` (now and then, not every build).
_CARD_SHARE = 1.1
_CARD_SLACK = 100


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build did. ``written + unchanged == pages``; the search index's files and the
    copied images are counted apart (issue #15: the summary's counts added up to nothing)."""

    #: Pages whose bytes changed (HTML, Atom, OPML, sitemap and the assets).
    written: int
    #: Pages not rewritten (their input key, or their bytes, were unchanged).
    unchanged: int
    #: Pages deleted (posts gone from the site), not counted in ``pages``.
    deleted: int
    posts: int
    seconds: float
    #: The search index's own time (its child's, when one built it).
    search_seconds: float
    warnings: tuple[str, ...]
    #: The output folder (absolute).
    out: Path
    #: Every page of the site after this build (``written + unchanged``).
    pages: int = 0
    #: Search index files written and deleted.
    search_written: int = 0
    search_deleted: int = 0
    #: Local image files copied into ``feedsite-images/``, and copies deleted.
    images_copied: int = 0
    images_deleted: int = 0


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


def build_site(
    state: State, config: Config, *, out: Path | None = None, images: PostImages | None = None
) -> BuildResult:
    """Build (or update) the static site the config's ``native`` section describes, from
    the open ``state``, into ``out`` (default ``native.out``). See the module docstring.

    ``images``: the images the site serves itself (issue #12); their files are copied from
    ``images.root`` into ``feedsite-images/`` through the ledger, and those no post uses
    any more are deleted.

    The caller opens the state and holds the run lock. No output depends on the clock.

    Raises:
        TargetError: a file cannot be written, the timezone or the templates folder does
            not exist.
    """
    started = time.monotonic()
    native = config.native
    warnings: list[str] = []
    if not native.base_url:
        warnings.append(NO_BASE_URL_WARNING)
    settings, env, static = _settings(config)
    feeds = feed_refs(config)
    secrets = owner_secrets(config)
    out = (out or native.out).absolute()
    if out.exists() and not out.is_dir():
        raise TargetError(f"cannot build the site into {out}: it is a file, not a folder")
    ledger = Ledger(state, Writer(out), TARGET)
    try:
        ledger.settle()  # what a killed build left: its temp files, its unfinished rows
    except OSError as e:
        raise TargetError(f"cannot settle the last build's files under {out}: {e}") from e
    items = state.live_items((f.key for f in feeds), CARD_VERSION)
    owned = ledger.owned()
    posts, new_cards = site_posts(items, feeds, settings, images, pages=frozenset(owned))
    if secrets:
        posts = [_without_secrets(p, secrets) for p in posts]
    _cache_cards(state, new_cards)
    on_disk = _files_under(ledger.writer.root)
    # A page whose file is missing is rendered again, whatever its key.
    manifest = {path: f.key if path in on_disk else "" for path, f in owned.items()}
    local = images.local if images is not None else {}
    plan = plan_pages(
        posts,
        feeds,
        settings,
        manifest,
        static={p: hashlib.sha256(d).hexdigest() for p, d in static.items()},
        stories=site_stories(state, config, posts),
    )
    # A large search update runs in a child process while the pages render.
    job = (
        indexer.start(ledger.writer, state, owned, posts, settings.zone, on_disk)
        if native.search
        else None
    )
    try:
        with ledger.session() as session:
            pages_written = _write(plan, state, session, env, settings, static, secrets, local)
            deleted = _delete(session, plan.delete, warnings)
            copied, removed = _copy_images(session, items, images, owned, on_disk, warnings)
        search_seconds = 0.0
        search_written = search_deleted = 0
        if job is not None:
            try:
                with ledger.session() as session:

                    def delete_search(paths: Sequence[str]) -> int:
                        nonlocal search_deleted
                        search_deleted += _delete(session, paths, warnings)
                        return search_deleted

                    search_written, search_seconds = indexer.finish(
                        job, session, state, owned, delete_search
                    )
            except FeedsiteError as e:
                warnings.append(f"search index not updated: {e}")
    finally:
        if job is not None:
            job.close()
    return BuildResult(
        written=pages_written,
        unchanged=len(plan.pages) - pages_written,
        deleted=deleted,
        posts=len(posts),
        seconds=time.monotonic() - started,
        search_seconds=search_seconds,
        warnings=tuple(warnings),
        out=out,
        pages=len(plan.pages),
        search_written=search_written,
        search_deleted=search_deleted,
        images_copied=copied,
        images_deleted=removed,
    )


def site_stories(
    state: State, config: Config, posts: Sequence[SitePost]
) -> dict[tuple[str, str], Story]:
    """The stories among the site's posts (issue #15): the state's story links between
    live items, read once, grouped by :func:`~feedsite._plan._stories.stories_of` with the
    tree's ranks (a story whose lead is gone is led by its next member)."""
    graph = state.story_graph()
    if not graph.links:
        return {}
    live = {(p.feed_key, p.item_id) for p in posts}
    times = {k: _EPOCH + timedelta(microseconds=t) for k, t in graph.times.items() if k in live}
    return stories_of(graph.links, times, feed_ranks(config.feeds))


def _settings(config: Config) -> tuple[Settings, jinja2.Environment, dict[str, bytes]]:
    """The site's settings, its template environment and its static files."""
    native = config.native
    zone = config.site.timezone or "UTC"
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError) as e:
        raise TargetError(f"unknown timezone {zone!r}") from e
    if native.templates is not None and not native.templates.is_dir():
        raise TargetError(f"template folder {native.templates} does not exist")
    env = environment(native.templates, zone, config.state_path.parent / "cache" / "templates")
    static = static_files()
    settings = Settings(
        native=native,
        site=config.site,
        zone=zone,
        iframe_hosts=tuple(sorted(config.clean.iframe_hosts)),
        templates_key=templates_key(env, static),
        css_path=next(p for p in static if p.startswith("assets/style.")),
        js_path=next(p for p in static if p.startswith("assets/search.")),
        icon_path=next(p for p in static if p.startswith("assets/favicon.")),
        proxy=config.images.policy.proxy if config.images.policy.mode == "proxy" else None,
    )
    return settings, env, static


def _cache_cards(state: State, cards: Sequence[SiteCard]) -> None:
    """Cache the cards derived anew; forget those of items no longer live once the cache
    holds :data:`_CARD_SHARE` of the live items plus :data:`_CARD_SLACK`."""
    if not cards:
        return
    state.record_site_cards(cards)
    cached, live = state.site_card_counts()
    if cached > live * _CARD_SHARE + _CARD_SLACK:
        state.forget_stale_site_cards()


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
    """``post`` without a link or cover that holds one of the owner's secrets (its
    enclosures are checked where they are shown: :func:`._plan.site_enclosures`)."""
    link = post.link if post.link is None or _hide(post.link, secrets) == post.link else None
    cover = post.cover if post.cover is None or _hide(post.cover, secrets) == post.cover else None
    if link == post.link and cover == post.cover:
        return post
    return dataclasses.replace(post, link=link, cover=cover)


def _copy_images(
    session: Session,
    items: Sequence[LiveItem],
    images: PostImages | None,
    owned: dict[str, OwnedFile],
    on_disk: set[str],
    warnings: list[str],
) -> tuple[int, int]:
    """Copy the files of the local images live posts use into ``feedsite-images/`` (a file
    whose copy is recorded and on disk is not read again: its name is its content's hash),
    and delete the copies no post uses. Returns (files written, files deleted)."""
    wanted: dict[str, str] = {}
    if images is not None and images.local:
        for it in items:
            for url in it.image_urls or ():
                image = images.local.get(url)
                if image is not None:
                    for f in image.files:
                        wanted[IMAGES_DIR + f.path] = f.path
    todo = sorted(
        p
        for p, src in wanted.items()
        if p not in on_disk or owned.get(p) is None or owned[p].key != src
    )
    written = 0
    for start in range(0, len(todo), _BATCH):
        writes = []
        for path in todo[start : start + _BATCH]:
            assert images is not None
            try:
                data = (images.root / wanted[path]).read_bytes()
            except OSError as e:
                warnings.append(f"image {wanted[path]} not copied: {e}")
                continue
            writes.append(FileWrite(path, data, hashlib.sha256(data).hexdigest(), wanted[path]))
        session.stage(writes)
        for w in writes:
            if session.write(w) is not None:
                written += 1
    stale = sorted(p for p in owned if p.startswith(IMAGES_DIR) and p not in wanted)
    return written, _delete(session, stale, warnings)


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
    session: Session,
    env: jinja2.Environment,
    settings: Settings,
    static: dict[str, bytes],
    secrets: frozenset[str] = frozenset(),
    local: Mapping[str, LocalImage] | None = None,
) -> int:
    """Render and write the pages whose key changed; returns how many files changed.

    Pages go in batches, each with the bodies it needs read in one go (a full build of
    10,000 posts never holds every body at once), each recorded pending before any of
    its files is written.
    """
    renderer = Renderer(env, settings, plan, static, local, secrets)
    changed = 0
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
        writes = []
        for page in batch:
            data = _render_page(renderer, page, bodies)
            writes.append(FileWrite(page.path, data, hashlib.sha256(data).hexdigest(), page.key))
        session.stage(writes)
        for w in writes:
            done = session.write(w)
            if done is not None and done.changed:
                changed += 1
    return changed


def _render_page(renderer: Renderer, page: Page, bodies: dict[str, str]) -> bytes:
    try:
        return renderer.render(page, bodies)
    except Exception as e:
        if isinstance(e, TargetError):
            raise
        raise TargetError(f"cannot render {page.path}: {type(e).__name__}: {e}") from e


def _delete(session: Session, paths: Sequence[str], warnings: list[str]) -> int:
    """Delete owned files that are gone from the site, if they still hold our bytes;
    returns how many were deleted (a file edited by hand is left, with a warning)."""
    if not paths:
        return 0
    session.stage((), deletes=paths)
    deleted = 0
    for path in paths:
        outcome = session.delete(path)
        if outcome == "edited":
            warnings.append(f"{path} was edited by hand: left in place")
        elif outcome == "deleted":
            deleted += 1
    return deleted
