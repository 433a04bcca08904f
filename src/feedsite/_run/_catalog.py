"""The RSSHub route catalog for a config (issue #14): where it comes from, and the names of
routes listed without them. The shell around the pure ``feedsite._config._catalog``.

Where the catalog comes from, first that applies (docs/catalog.md):

1. ``rsshub.catalog: PATH``: a folder holding ``namespace.json`` (and ``radar-rules.json``,
   ``categories.json``), or a ``namespace.json`` file. Read every time; never fetched.
2. The state's copy (table ``catalog``), while it is younger than a day.
3. The instances (``rsshub.instances``, in order): ``/api/namespace`` and
   ``/api/radar/rules``, asked conditionally with the stored validators; the answer is
   stored. When no instance answers, the state's older copy is used (offline), with a note.

Names of routes listed without them come first from the lock file (``feedsite.lock`` beside
the config, written by ``feedsite check --lock``), then from the catalog: once locked, a
catalog that renames a route moves no post.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedsite._config._catalog import Catalog, load_catalog
from feedsite._records import StoredCatalogPart
from feedsite._url import with_param
from feedsite.config import BareRoute, Config, RouteNames, load_config
from feedsite.errors import ConfigError
from feedsite.types import Validators

__all__ = [
    "CATALOG_MAX_AGE",
    "LOCK_NAME",
    "CatalogLoad",
    "NamedConfig",
    "UnknownRoutesError",
    "catalog_for",
    "check_warnings",
    "load_named",
    "read_lock",
    "replace_text",
    "resolve",
    "unpinned_warning",
    "write_lock",
]

#: How long the state's copy is used without asking the instance again.
CATALOG_MAX_AGE = timedelta(days=1)
#: The lock file, beside the config.
LOCK_NAME = "feedsite.lock"
#: The largest catalog body read (the 2026 namespace catalog is 3 MB).
_MAX_BODY = 64 * 1024 * 1024
_PARTS = {"namespace": "/api/namespace", "radar": "/api/radar/rules"}


@dataclass(frozen=True, slots=True)
class CatalogLoad:
    """The catalog of a config, or why there is none."""

    catalog: Catalog | None
    #: Where it came from: ``file …``, ``https://… (fetched)``, ``https://… (cached, …)``.
    source: str
    #: A problem worth saying (an instance that did not answer, a stale copy); None when fine.
    note: str | None = None


def catalog_for(
    config: Config, now: datetime, *, refresh: bool = False, offline: bool = False
) -> CatalogLoad:
    """The catalog of ``config`` (see the module for the order).

    ``refresh``: ask the instances even when the state's copy is young; ``offline``:
    never ask them.
    """
    if config.rsshub.catalog is not None:
        return _from_path(config.rsshub.catalog)
    from feedsite._store import State

    with State.open(config.state_path) as state:
        stored = state.catalog_parts()
        fresh = "namespace" in stored and now - stored["namespace"].fetched_at < CATALOG_MAX_AGE
        if offline or (fresh and not refresh) or not config.rsshub.instances:
            return _from_stored(stored, None if offline or fresh else _NO_INSTANCE)
        got, note = _fetch_parts(config, stored, now)
        if got:
            with state.transaction() as tx:
                state.record_catalog_parts(tx, got)
            stored = {**stored, **{p.name: p for p in got}}
        return _from_stored(stored, note, fetched=bool(got) and note is None)


_NO_INSTANCE = "no RSSHub instance is configured (rsshub.instances): using the stored copy"


def _from_path(path: Path) -> CatalogLoad:
    folder = path if path.is_dir() else None
    namespace = folder / "namespace.json" if folder is not None else path
    try:
        data = namespace.read_bytes()
        radar = categories = None
        if folder is not None:
            if (folder / "radar-rules.json").is_file():
                radar = (folder / "radar-rules.json").read_bytes()
            if (folder / "categories.json").is_file():
                categories = (folder / "categories.json").read_bytes()
        return CatalogLoad(load_catalog(data, radar, categories), f"file {path}")
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        return CatalogLoad(None, f"file {path}", f"rsshub.catalog: cannot read {path}: {why}")


def _from_stored(
    stored: Mapping[str, StoredCatalogPart], note: str | None, *, fetched: bool = False
) -> CatalogLoad:
    part = stored.get("namespace")
    if part is None:
        return CatalogLoad(None, "none", note or "the catalog was never fetched")
    radar = stored.get("radar")
    try:
        catalog = load_catalog(part.body, radar.body if radar is not None else None)
    except ValueError as e:
        return CatalogLoad(None, part.source, f"the stored catalog is unreadable: {e}")
    when = part.fetched_at.strftime("%Y-%m-%d %H:%M UTC")
    source = f"{part.source} ({'fetched' if fetched else f'stored, fetched {when}'})"
    return CatalogLoad(catalog, source, note)


def _fetch_parts(
    config: Config, stored: Mapping[str, StoredCatalogPart], now: datetime
) -> tuple[list[StoredCatalogPart], str | None]:
    """Ask the instances for each part; what came back (new or confirmed) and a note."""
    from feedsite import _fetch

    key = config.rsshub.access_key
    settings = dataclasses.replace(config.fetch, max_body=_MAX_BODY)
    requests = []
    for name, api in _PARTS.items():
        sources = tuple(
            _fetch.Source(base, with_param(base + api, "key", key) if key else base + api)
            for base in config.rsshub.instances
        )
        old = stored.get(name)
        validators = (
            {old.source: Validators(old.etag, old.last_modified)} if old is not None else {}
        )
        requests.append(_fetch.FetchRequest(name, sources, validators))
    outcomes = _fetch.fetch_all_sync(requests, settings, _is_json)
    got: list[StoredCatalogPart] = []
    notes: list[str] = []
    for name in _PARTS:
        outcome = outcomes[name]
        old = stored.get(name)
        if isinstance(outcome, _fetch.Fetched):
            v = outcome.validators
            got.append(
                StoredCatalogPart(
                    name, outcome.source.label, outcome.body, v.etag, v.last_modified, now
                )
            )
        elif isinstance(outcome, _fetch.NotModified) and old is not None:
            got.append(dataclasses.replace(old, fetched_at=now))
        elif name == "namespace":
            why = getattr(outcome, "message", None) or type(outcome).__name__
            notes.append(f"the catalog could not be fetched ({why})")
    if notes and "namespace" in stored:
        notes.append("using the stored copy")
    return got, "; ".join(notes) or None


def _is_json(body: bytes) -> bool | str:
    head = body[:64].lstrip()
    return True if head.startswith(b"{") else "not a JSON object (is this an RSSHub instance?)"


# -- names -----------------------------------------------------------------------------------


def resolve(
    bare: tuple[BareRoute, ...], catalog: Catalog | None, language: str
) -> tuple[dict[tuple[str, str | None, str | None], tuple[str, str, str]], list[BareRoute]]:
    """Names for ``bare`` from ``catalog``, and the routes it does not know."""
    names: dict[tuple[str, str | None, str | None], tuple[str, str, str]] = {}
    unknown: list[BareRoute] = []
    for b in bare:
        m = catalog.match(b.route.split("?", 1)[0]) if catalog is not None else None
        if m is None or catalog is None:
            unknown.append(b)
            continue
        category, site, feed = catalog.names(m, language)
        names[b.key] = (b.category or category, b.site or site, feed)  # given levels win
    return names, unknown


def read_lock(config_file: Path) -> dict[tuple[str, str | None, str | None], tuple[str, str, str]]:
    """The pinned names beside ``config_file`` ({} when there is no lock file).

    Raises:
        ConfigError: the lock file is not what ``check --lock`` writes.
    """
    path = config_file.parent / LOCK_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read the lock file: {e}", file=str(path)) from None
    out: dict[tuple[str, str | None, str | None], tuple[str, str, str]] = {}
    try:
        for row in data["feeds"]:
            names = tuple(str(n) for n in row["names"])
            if len(names) != 3:
                raise ValueError("names must be [category, site, feed]")
            out[(str(row["route"]), row.get("category"), row.get("site"))] = (
                names[0],
                names[1],
                names[2],
            )
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"the lock file is malformed: {e!r}", file=str(path)) from None
    return out


def write_lock(config_file: Path, names: RouteNames) -> Path:
    """Write the pinned names beside ``config_file`` (atomically); returns its path."""
    path = config_file.parent / LOCK_NAME
    rows = [
        {"route": k[0], "category": k[1], "site": k[2], "names": list(v)}
        for k, v in sorted(names.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or ""))
    ]
    text = json.dumps(
        {
            "comment": "names of the routes feedsite.yaml lists without them (feedsite check"
            " --lock); commit this file",
            "version": 1,
            "feeds": rows,
        },
        ensure_ascii=False,
        indent=1,
    )
    replace_text(path, text + "\n")
    return path


def replace_text(path: Path, text: str) -> None:
    """Write ``text`` over ``path`` atomically: a temporary file beside it, synced, renamed
    (an existing file's mode kept). A failure leaves ``path`` as it was."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class NamedConfig:
    """A config whose bare routes are named, and how."""

    config: Config
    #: Names taken from the lock file / from the catalog (not yet pinned).
    locked: Mapping[tuple[str, str | None, str | None], tuple[str, str, str]]
    from_catalog: Mapping[tuple[str, str | None, str | None], tuple[str, str, str]]
    catalog: CatalogLoad | None


class UnknownRoutesError(ConfigError):
    """Routes listed without names that neither the lock file nor the catalog names."""


def load_named(
    path: Path, now: datetime, *, offline: bool = False, use_lock: bool = True
) -> NamedConfig:
    """Load a config, naming its bare routes from the lock file, then the catalog.

    Raises:
        ConfigError: the config is invalid, or a bare route has no name (the message names
            its key path and line, and why: unknown to the catalog, or no catalog).
    """
    config = load_config(path)
    if not config.bare_routes:
        return NamedConfig(config, {}, {}, None)
    lock = read_lock(config.file) if use_lock else {}
    locked = {b.key: lock[b.key] for b in config.bare_routes if b.key in lock}
    rest = tuple(b for b in config.bare_routes if b.key not in lock)
    load: CatalogLoad | None = None
    found: dict[tuple[str, str | None, str | None], tuple[str, str, str]] = {}
    if rest:
        load = catalog_for(config, now, offline=offline)
        found, unknown = resolve(rest, load.catalog, config.site.language)
        if unknown:
            first = unknown[0]
            why = (
                "the RSSHub catalog does not know it"
                if load.catalog is not None
                else f"no route catalog to name it ({load.note})"
            )
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise UnknownRoutesError(
                f"{first.route} is listed without names and {why}{more}: give it its names"
                " (`category: {site: {feed: route}}`), or fix the route (`feedsite routes`)",
                key_path=first.key_path,
                line=first.line,
                file=str(config.file),
            )
    named = load_config(path, names={**locked, **found})
    return NamedConfig(named, locked, found, load)


def unpinned_warning(named: NamedConfig) -> str | None:
    """The warning for names taken from the catalog and not pinned, or None."""
    if not named.from_catalog:
        return None
    n = len(named.from_catalog)
    return (
        f"{n} feed{'s' if n != 1 else ''} named from the RSSHub catalog and not pinned: run"
        f" `feedsite check --lock` and commit {LOCK_NAME}, so a catalog change never moves"
        " their posts"
    )


#: Instances ``feedsite init`` writes as a placeholder.
PLACEHOLDER_INSTANCES = ("https://rsshub.example.org",)
#: Route features worth a warning, and what to say.
_FEATURES = {
    "requireConfig": "needs settings on the RSSHub instance",
    "requirePuppeteer": "needs an RSSHub instance with a browser (puppeteer)",
    "antiCrawler": "the site fights crawlers: expect failures",
}


def check_warnings(config: Config, load: CatalogLoad | None) -> list[str]:
    """What ``feedsite check`` warns about, beyond the config's own warnings (issue #14):
    the placeholder instance, names the disk will spell otherwise, ``path:`` files that
    are missing, routes the catalog does not know or that need more of the instance."""
    from feedsite._targets._paths import safe_component

    out: list[str] = []
    for base in config.rsshub.instances:
        if base in PLACEHOLDER_INSTANCES:
            out.append(
                f"rsshub.instances: {base} is the placeholder `feedsite init` writes: set your"
                " RSSHub instance (or run RSSHub in the workflow: docs/hexo.md)"
            )
    renamed: dict[str, str] = {}
    for f in config.feeds:
        for name in (f.category, f.site, f.name):
            folder = safe_component(name)
            if folder != name:
                renamed.setdefault(name, folder)
        if f.url is not None and f.url.startswith("file:"):
            file = Path(unquote(urlsplit(f.url).path))
            if not file.exists():
                out.append(f"{f.label}: the file {file} does not exist (yet)")
    for name, folder in renamed.items():
        out.append(f"the name {name!r} is written on disk as the folder {folder!r}")
    catalog = load.catalog if load is not None else None
    if catalog is None:
        if load is not None and any(f.route for f in config.feeds):
            out.append(f"routes not checked: {load.note or 'no route catalog'}")
        return out
    for f in config.feeds:
        if f.route is None:
            continue
        m = catalog.match(f.route.split("?", 1)[0])
        if m is None:
            out.append(f"{f.label}: the RSSHub catalog does not know the route {f.route}")
            continue
        for feature, why in _FEATURES.items():
            if feature in m.route.features:
                extra = ""
                if feature == "requireConfig" and m.route.required_config:
                    extra = f" ({', '.join(m.route.required_config)})"
                out.append(f"{f.label}: {f.route} {why}{extra}")
    return out
