"""``feedsite add`` and ``feedsite import-opml`` (issue #14): feeds into feedsite.yaml.

Both edit the file's text in place (``feedsite._config._edit.add_feeds``: every other byte
kept, comments included), check the new text as ``feedsite check`` would, and only then
replace the file (atomically). A failure leaves the file byte for byte as it was.

``add`` takes a route (named from the catalog, parameters filled from the path), a website
URL (the catalog's radar rules propose routes; one is taken, several are listed as choices;
none: the page's own feed, found by autodiscovery), or a feed URL (added as it is).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from feedsite._config._edit import add_feeds, yaml_str
from feedsite._config._opml import OpmlError, read_opml
from feedsite.config import Config, load_config, parse_config
from feedsite.errors import FeedsiteError

from ._catalog import catalog_for, replace_text

__all__ = ["AddError", "Added", "Choices", "add_feed", "import_opml"]

#: Names used when nothing better is known.
_OTHER = {"zh": "其他", "en": "Other"}
_FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/xml",
    "text/xml",
)
_MAX_PAGE = 5 * 1024 * 1024


class AddError(FeedsiteError):
    """A feed cannot be added (the file is unchanged)."""


@dataclass(frozen=True, slots=True)
class Added:
    """Feeds written to the config."""

    #: ``(category, site, feed, value)`` in the order written.
    feeds: tuple[tuple[str, str, str, str], ...]
    #: ``(what, why)`` of what was left out.
    skipped: tuple[tuple[str, str], ...] = ()
    #: How the names were found (``catalog``, ``radar``, ``autodiscovery``, ``given``).
    how: str = "given"


@dataclass(frozen=True, slots=True)
class Choices:
    """Several routes serve the URL: nothing was written; the caller lists them."""

    url: str
    #: ``(route path, (category, site, feed))``.
    routes: tuple[tuple[str, tuple[str, str, str]], ...]


def add_feed(
    config_path: Path,
    target: str,
    now: datetime,
    *,
    category: str | None = None,
    site: str | None = None,
    feed: str | None = None,
    pick: int | None = None,
) -> Added | Choices:
    """Add one feed (see the module). ``pick``: the 1-based choice among several routes.

    Raises:
        AddError: the names cannot be found, or the new config would be invalid.
        ConfigError: the config is invalid as it is.
    """
    config = load_config(config_path)
    given = (category, site, feed)
    target = target.strip()
    route = instance_route(config, target)
    if route is not None and _known(config, route, now):  # a feed URL of the instance
        target = route
    if target.startswith("/"):
        return _write(config, [(*_route_names(config, target, now, given), target)], "catalog")
    if not target.lower().startswith(("http://", "https://")):
        local = target.lower().startswith("file:") or "/" in target or target.endswith(".xml")
        hint = (
            "; a local feed file is written into feedsite.yaml by hand:"
            " `NAME: {path: feeds/file.xml}` under its category and site (docs/configuration.md)"
            if local
            else ""
        )
        raise AddError(
            f"expected an RSSHub route (/guancha/headline) or an http(s) URL, got {target!r}{hint}"
        )
    load = catalog_for(config, now)
    routes = load.catalog.radar(target) if load.catalog is not None else []
    if routes:
        named = [(r, _names_of(config, r, now)) for r in routes]
        if len(named) > 1 and pick is None:
            return Choices(target, tuple((r, n or ("?", "?", "?")) for r, n in named))
        index = (pick or 1) - 1
        if not 0 <= index < len(named):
            raise AddError(f"--pick {pick}: there are {len(named)} choices")
        route, names = named[index]
        if names is None:
            raise AddError(f"the radar rule proposes {route}, which the catalog does not know")
        merged = _merge(names, given)
        return _write(config, [(*merged, route)], "radar")
    url, title = _discover(config, target)
    host = urlsplit(url).hostname or "site"
    lang = config.site.language
    found = (
        category or _OTHER[lang],
        site or title or host,
        feed or ("全部" if lang == "zh" else "All"),
    )
    return _write(config, [(*found, yaml_str(url))], "autodiscovery")


def _route_names(
    config: Config, route: str, now: datetime, given: tuple[str | None, str | None, str | None]
) -> tuple[str, str, str]:
    if all(given):
        return (given[0] or "", given[1] or "", given[2] or "")
    names = _names_of(config, route, now)
    if names is None:
        raise AddError(
            f"{route}: the RSSHub catalog does not know this route (see `feedsite routes`);"
            " give --category, --site and --feed to add it anyway"
        )
    return _merge(names, given)


def _known(config: Config, route: str, now: datetime) -> bool:
    """Whether the catalog knows ``route`` (False without a catalog)."""
    try:
        return _names_of(config, route, now) is not None
    except AddError:
        return False


def _names_of(config: Config, route: str, now: datetime) -> tuple[str, str, str] | None:
    load = catalog_for(config, now)
    if load.catalog is None:
        raise AddError(f"no route catalog: {load.note}")
    m = load.catalog.match(route.split("?", 1)[0])
    return None if m is None else load.catalog.names(m, config.site.language)


def _merge(
    names: tuple[str, str, str], given: tuple[str | None, str | None, str | None]
) -> tuple[str, str, str]:
    """Explicit names win."""
    return (given[0] or names[0], given[1] or names[1], given[2] or names[2])


def _write(config: Config, feeds: Sequence[tuple[str, str, str, str]], how: str) -> Added:
    """Edit, check and save; nothing is written when any step fails."""
    path = config.file
    try:
        text = path.read_text(encoding="utf-8")
        new = add_feeds(text, feeds)
    except (OSError, ValueError) as e:
        raise AddError(f"{path}: {e}") from None
    try:
        parse_config(new, file=path)
    except FeedsiteError as e:
        raise AddError(f"the config would not be valid after the change: {e}") from None
    replace_text(path, new)
    return Added(tuple(feeds), (), how)


# -- autodiscovery ---------------------------------------------------------------------------


def _discover(config: Config, url: str) -> tuple[str, str | None]:
    """The feed of a page: the URL itself when it is a feed, else the first
    ``<link rel="alternate">`` of a feed type; and the page's title."""
    import lxml.html

    from feedsite import _fetch
    from feedsite._parse import parse_feed

    settings = dataclasses.replace(config.fetch, max_body=_MAX_PAGE)
    request = _fetch.FetchRequest(url, (_fetch.Source(url, url),))
    outcome = _fetch.fetch_all_sync([request], settings, lambda body: True)[url]
    if not isinstance(outcome, _fetch.Fetched):
        why = getattr(outcome, "message", None) or type(outcome).__name__
        raise AddError(f"{url}: no route of the catalog covers it, and the page: {why}")
    body = outcome.body
    head = body[:512].lstrip().lower()
    if not head.startswith((b"<!doctype html", b"<html")):
        try:
            parsed = parse_feed(body, url=outcome.final_url, content_type=outcome.content_type)
        except Exception:  # not a feed: read it as a page below
            parsed = None
        if parsed is not None and parsed.items is not None:
            return outcome.final_url, (parsed.title or None)
    try:
        doc = lxml.html.document_fromstring(body)
    except (ValueError, lxml.etree.ParserError):
        raise AddError(f"{url}: neither a feed nor an HTML page") from None
    title = (doc.findtext(".//title") or "").strip() or None
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            found = urljoin(outcome.final_url, href)
            if urlsplit(found).scheme in ("http", "https"):
                return found, title
    raise AddError(
        f"{url}: no route of the catalog covers it and the page names no feed"
        ' (<link rel="alternate" type="application/rss+xml">)'
    )


def instance_route(config: Config, url: str) -> str | None:
    """The RSSHub route ``url`` asks a configured instance for (``/guancha/headline``), without
    the access key: a feed of the instance is kept as a route (fetched from every instance,
    the key added at fetch time), not as one instance's URL. None: not an instance's URL."""
    for base in config.rsshub.instances:
        prefix = base.rstrip("/")
        if not url.startswith(prefix + "/") or len(url) == len(prefix) + 1:
            continue
        path, _, query = url[len(prefix) :].partition("?")
        kept = [p for p in query.split("&") if p and p.partition("=")[0] != "key"]
        return path + ("?" + "&".join(kept) if kept else "")
    return None


# -- OPML ------------------------------------------------------------------------------------


def import_opml(config_path: Path, opml_path: Path, category: str | None = None) -> Added:
    """Add the feeds of an OPML file; feeds the config has (same URL or same names) and
    outlines that are not feeds are skipped and listed.

    Raises:
        AddError: the file cannot be read, or the new config would be invalid.
    """
    config = load_config(config_path)
    try:
        data = opml_path.read_bytes()
    except OSError as e:
        raise AddError(f"{opml_path}: cannot read: {e.strerror or e}") from None
    try:
        proposed = read_opml(data, default_category=category or "导入")
    except OpmlError as e:
        raise AddError(f"{opml_path}: {e}") from None
    have = {f.url for f in config.feeds if f.url} | {f.route for f in config.feeds if f.route}
    have_names = {(f.category, f.site, f.name) for f in config.feeds}
    feeds: list[tuple[str, str, str, str]] = []
    skipped = list(proposed.skipped)
    for f in proposed.feeds:
        where = f"{f.category} › {f.site} › {f.name}"
        source = instance_route(config, f.url) or f.url  # the instance's URL: its route
        if source in have:
            skipped.append((where, f"the config has {source} already"))
        elif (f.category, f.site, f.name) in have_names:
            skipped.append((where, "the config has a feed of that name already"))
        else:
            have.add(source)
            feeds.append((f.category, f.site, f.name, yaml_str(source)))
    if not feeds:
        return Added((), tuple(skipped), "opml")
    written = _write(config, feeds, "opml")
    return Added(written.feeds, tuple(skipped), "opml")
