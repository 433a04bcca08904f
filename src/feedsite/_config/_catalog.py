"""The RSSHub route catalog (issue #14): routes, names, search, radar. Pure: bytes in, values out.

Scope: reads what an RSSHub instance publishes — ``GET /api/namespace`` (every namespace
with its routes), ``GET /api/radar/rules`` (website URL patterns → routes) and the category
labels — into frozen values, and answers four questions about them:

* :meth:`Catalog.match` — which route serves a path, as RSSHub's router decides it;
* :meth:`Catalog.names` — the category, site and feed names of a matched path;
* :meth:`Catalog.search` — routes for a query in Chinese or English;
* :meth:`Catalog.radar` — route paths proposed for a website URL, as RSSHub Radar does.

Fetches nothing, caches nothing on disk and reads no clock: the caller hands over the bytes
(from the instance or a file) and keeps them. The rules, and why each is what it is, are in
docs/catalog.md.

Usage::

    catalog = load_catalog(namespace_bytes, radar_bytes, categories_bytes)
    m = catalog.match("/guancha/headline")
    catalog.names(m)                      # ("新媒体", "观察者网", "头条")
    catalog.search("观察者")[0].path       # "/headline"
    catalog.radar("https://www.guancha.cn/GuanChaZheTouTiao")   # ["/guancha/headline"]
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

__all__ = [
    "CATEGORY_LABELS",
    "UNCATEGORIZED",
    "Catalog",
    "CatalogRoute",
    "Namespace",
    "RadarDomain",
    "RadarRule",
    "RouteMatch",
    "RoutePattern",
    "compile_pattern",
    "decode_path",
    "load_catalog",
    "merge_path",
    "route_order",
]

#: RSSHub's category keys and their labels (``categories.json`` of the docs; a fact table used
#: when the caller has no categories file).
CATEGORY_LABELS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        key: MappingProxyType({"zh": zh, "en": en})
        for key, zh, en in (
            ("anime", "二次元", "ACG"),
            ("bbs", "论坛", "BBS"),
            ("blog", "博客", "Blog"),
            ("design", "设计", "Design"),
            ("finance", "金融", "Finance"),
            ("forecast", "预报预警", "Forecast and Alerts"),
            ("game", "游戏", "Gaming"),
            ("government", "政务消息", "Government"),
            ("journal", "科学期刊", "Scientific Journal"),
            ("live", "直播", "Live"),
            ("multimedia", "音视频", "Multimedia"),
            ("new-media", "新媒体", "New media"),
            ("other", "其他", "Uncategorized"),
            ("picture", "图片", "Picture"),
            ("popular", "热门", "Popular"),
            ("program-update", "程序更新", "Application Updates"),
            ("programming", "编程", "Programming"),
            ("reading", "阅读", "Reading"),
            ("shopping", "购物", "Shopping"),
            ("social-media", "社交媒体", "Social Media"),
            ("study", "学习", "Study"),
            ("traditional-media", "传统媒体", "Traditional media"),
            ("travel", "出行旅游", "Travel"),
            ("university", "大学通知", "University"),
        )
    }
)
#: The category of a route that lists none: RSSHub's docs file such routes under "other".
UNCATEGORIZED: Final = "other"
#: Route translations RSSHub carries as override objects (``{"zh": {"name": …}}``).
_OVERRIDE_LANGUAGES: Final = ("zh", "zh-TW", "ja")

# --------------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class CatalogRoute:
    """One route of the catalog, as its author described it. Holds no matcher."""

    #: The namespace key, the first segment of the URL path (``"guancha"``).
    namespace: str
    #: The key in ``namespace.json`` without the namespace (``"/headline"``); a route whose
    #: ``path`` is an array is stored once per path, as RSSHub's registry does.
    path: str
    #: The route name (``"头条"``); the path key when the author gave none.
    name: str
    #: Category keys in the author's order (``("new-media",)``); may be empty.
    categories: tuple[str, ...]
    #: An example request path (``"/guancha/headline"``), when given.
    example: str | None
    #: ``(parameter, description)`` pairs in the author's order.
    parameters: tuple[tuple[str, str], ...]
    #: Truthy features: ``requireConfig`` (a non-empty list or true), ``requirePuppeteer``,
    #: ``antiCrawler``, ``supportBT``, ``nsfw`` …
    features: frozenset[str]
    #: The website page the route reads (``"guancha.cn/GuanChaZheTouTiao"``), when given.
    url: str | None
    #: Free text (markdown) about the route, when given.
    description: str | None = None
    #: Translated names, ``(language, name)`` from the ``zh``/``zh-TW``/``ja`` overrides.
    localized: tuple[tuple[str, str], ...] = ()
    #: Names of the instance settings ``requireConfig`` lists (``"NCM_COOKIES"``).
    required_config: tuple[str, ...] = ()
    #: The file that defines the route in RSSHub (``"headline.ts"``): the keys of one route
    #: whose ``path`` is an array share it.
    location: str | None = None

    @property
    def pattern(self) -> str:
        """The full route pattern as RSSHub mounts it (``"/guancha/headline"``)."""
        return merge_path(self.namespace, self.path)

    def localized_name(self, language: str) -> str:
        """The route name in ``language`` (an override of that language, else the name)."""
        return _localize(self.name, self.localized, language)


@dataclass(frozen=True, slots=True)
class Namespace:
    """One namespace (a site) of the catalog and its routes, in catalog order."""

    #: The namespace key (``"guancha"``).
    key: str
    #: The site name (``"观察者网"``); the key when the catalog gives none.
    name: str
    #: The site's host or URL (``"guancha.cn"``), when given.
    url: str | None
    #: The routes in the order of the catalog (not the order they are tried in).
    routes: tuple[CatalogRoute, ...]
    #: Free text (markdown) about the site, when given.
    description: str | None = None
    #: Translated names, ``(language, name)``.
    localized: tuple[tuple[str, str], ...] = ()

    def localized_name(self, language: str) -> str:
        """The site name in ``language`` (an override of that language, else the name)."""
        return _localize(self.name, self.localized, language)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A request path resolved to its route."""

    #: The route that serves the path.
    route: CatalogRoute
    #: ``(parameter, value)`` filled from the path, percent-decoded, in pattern order;
    #: optional parameters the path leaves out are absent.
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class RadarRule:
    """One rule of ``radar-rules.json``: website paths → an RSSHub route path."""

    #: What the rule proposes (``"头条"``).
    title: str
    #: Website path patterns (``"/GuanChaZheTouTiao"``, ``"/user/:id"``, ``"/v/*path"``).
    source: tuple[str, ...]
    #: The RSSHub path to propose, with ``:params`` (``"/guancha/headline"``).
    target: str
    #: The documentation page of the route, when given.
    docs: str | None = None


@dataclass(frozen=True, slots=True)
class RadarDomain:
    """The radar rules of one registrable domain (``"guancha.cn"``)."""

    #: The registrable domain.
    domain: str
    #: The name of the site (``_name``), when given.
    name: str | None
    #: Subdomain (``"www"``, ``"."`` for none) → its rules in order.
    subdomains: Mapping[str, tuple[RadarRule, ...]]


# ------------------------------------------------------------------------ route patterns


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """A compiled RSSHub route pattern: matches decoded request paths. Knows no routes."""

    #: The pattern as mounted (``"/guancha/:category?"``).
    source: str
    #: One regular expression per path the pattern registers (optional parameters expand
    #: to several), with the parameter name of each group ``_p0``, ``_p1`` …
    alternatives: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
    #: The literal second segments (after the namespace) a matching path can have, or None
    #: when some registered path starts with a parameter, a wildcard or nothing there.
    heads: frozenset[str] | None = None

    def match(self, decoded_path: str) -> tuple[tuple[str, str], ...] | None:
        """The parameters of ``decoded_path`` (see :func:`decode_path`), or None.

        Values are percent-decoded here (``%2F`` → ``/``), as Hono decodes parameters.
        """
        for regex, names in self.alternatives:
            m = regex.fullmatch(decoded_path)
            if m is None:
                continue
            params: dict[str, str] = {}
            for i, name in enumerate(names):
                value = m.group(f"_p{i}")
                if value is not None:
                    params[name] = _decode(value, keep="") if "%" in value else value
            return tuple(params.items())
        return None


#: A parameter segment, as Hono reads one: ``:name`` or ``:name{regex}``.
_LABEL = re.compile(r":([^{}]+)(?:\{(.+)\})?", re.DOTALL)
#: JavaScript's named group syntax ``(?<name>``, which Python spells ``(?P<name>``.
_JS_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_$])")


def merge_path(namespace: str, path: str) -> str:
    """The path Hono mounts a route at: ``app.basePath("/ns").get(path)``.

    ``"/"`` mounts at ``/ns``, ``"*"`` at ``/ns/*``, ``""`` at ``/ns/``.
    """
    base = "/" + namespace
    if path == "/":
        return base
    return base + "/" + (path[1:] if path.startswith("/") else path)


def _segments(path: str) -> list[str]:
    """``path`` split at ``/``, except inside ``{…}`` (a regex may contain ``/``)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(path):
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == "/" and not depth:
            parts.append(path[start:i])
            start = i + 1
    parts.append(path[start:])
    return parts


def _expand_optional(path: str) -> list[str]:
    """The paths an optional parameter registers, as Hono's ``checkOptionalParameter``.

    Only a path that *ends* in an optional parameter expands: ``/a/:b?/:c?`` registers
    ``/a``, ``/a/:b`` and ``/a/:b/:c``. Any other path registers as written.
    """
    if not path.endswith("?") or ":" not in path:
        return [path]
    results: list[str] = []
    base = ""
    for segment in _segments(path):
        if ":" not in segment:
            if segment:
                base += "/" + segment
        elif segment.endswith("?"):
            results.append(base or "/")
            base += "/" + segment[:-1]
            results.append(base)
        else:
            base += "/" + segment
    return list(dict.fromkeys(results))


def _alternative(path: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One registered path → a regular expression over the decoded request path.

    ``:p`` is one non-empty segment, ``:p{re}`` the regex (it may span segments when it
    allows ``/``), a final ``*`` anything (also nothing: ``/ns/*`` matches ``/ns``), another
    ``*`` one segment; everything else is literal and case-sensitive.
    """
    segments = _segments(path)
    names: list[str] = []
    out: list[str] = []
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        if i == 0:
            out.append(re.escape(segment))
            continue
        if segment == "*":
            out.append("(?:/.*)?" if i == last else "/[^/]*")
            continue
        label = _LABEL.fullmatch(segment)
        if label is None:
            out.append("/" + re.escape(segment))
            continue
        group = f"_p{len(names)}"
        names.append(label.group(1))
        if label.group(2) is None:
            out.append(f"/(?P<{group}>[^/]+)")
        else:
            inner = _JS_NAMED_GROUP.sub("(?P<", label.group(2))
            out.append(f"/(?P<{group}>(?:{inner}))")
    # ASCII: JavaScript's \d, \w and \s are ASCII-only (literal text may be any Unicode).
    return re.compile("".join(out), re.ASCII), tuple(names)


def compile_pattern(pattern: str) -> RoutePattern:
    """Compile a full route pattern (``"/ns/path/:p?"``) the way Hono's router reads it.

    Raises:
        re.error: a ``{regex}`` that Python cannot compile.
    """
    paths = _expand_optional(pattern)
    heads: set[str] | None = set()
    for path in paths:
        segments = _segments(path)
        head = segments[2] if len(segments) > 2 else None
        if head is None or head == "*" or _LABEL.fullmatch(head) or heads is None:
            heads = None
        else:
            heads.add(head)
    return RoutePattern(
        pattern,
        tuple(_alternative(path) for path in paths),
        None if heads is None else frozenset(heads),
    )


def _order_key(path: str) -> tuple[int, ...]:
    """Sort key of a route path key: 0 per literal segment, 1 per parameter, then 2."""
    return (*(int(segment.startswith(":")) for segment in path.split("/")), 2)


def route_order(paths: Iterable[str]) -> list[str]:
    """Route path keys of one namespace in the order they are tried (the first match wins).

    RSSHub registers a namespace's routes sorted by ``sortRoutes``: two keys are compared
    segment by segment (split at ``/``, so a key's first segment is ``""``) and, at the
    first index where one segment starts with ``:`` and the other does not, the literal
    goes first; otherwise they tie. Hono's router then tries them in registration order.

    The comparator is not a total order (a key ties with every key it is a prefix of, and
    ``"*"`` — one segment — with every key), so what JavaScript's sort makes of the ties
    depends on the engine. This is the same comparator completed to a total order: every
    pair RSSHub orders is ordered the same way; of two keys that tie because one runs out
    of segments, the longer goes first (so ``*`` and ``{.+}`` catch-alls come after the
    routes they overlap); keys with the same flags keep catalog order. docs/catalog.md
    compares it with V8's actual result.
    """
    return sorted(paths, key=_order_key)


# ----------------------------------------------------------------------- percent-coding

#: What ``decodeURI`` leaves encoded (it never decodes these), plus ``%`` (Hono keeps
#: ``%25`` so that a parameter is not decoded twice).
_URI_RESERVED: Final = frozenset(";/?:@&=+$,#%")
_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _decode(text: str, keep: str | frozenset[str]) -> str:
    """Percent-decode ``text`` as UTF-8, leaving escapes of the characters in ``keep``.

    A run of escapes that is not valid UTF-8 stays as written (Hono's ``tryDecode``).
    """

    def run(m: re.Match[str]) -> str:
        raw = m.group()
        try:
            decoded = bytes.fromhex(raw.replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            return raw
        if not keep:
            return decoded
        out: list[str] = []
        pos = 0
        for ch in decoded:
            width = len(ch.encode("utf-8")) * 3
            out.append(raw[pos : pos + width] if ch in keep else ch)
            pos += width
        return "".join(out)

    return _ESCAPES.sub(run, text)


def decode_path(path: str) -> str:
    """A request path as Hono routes it: query and fragment cut off, ``decodeURI`` applied."""
    for mark in "?#":
        cut = path.find(mark)
        if cut >= 0:
            path = path[:cut]
    return _decode(path, _URI_RESERVED) if "%" in path else path


def _encode_param(value: str) -> str:
    """A parameter value made safe to put into one path segment (``/ ? # %`` and blanks)."""
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode("utf-8")) if ch in "/?#%" or ch.isspace() else ch
        for ch in value
    )


# ------------------------------------------------------------------------------- catalog


@dataclass(frozen=True, slots=True)
class _Compiled:
    route: CatalogRoute
    pattern: RoutePattern | None  # None: the route's regex does not compile here


@dataclass(frozen=True, slots=True)
class _Matcher:
    """A namespace's routes in the order they are tried, and the same indexed by the
    literal segment after the namespace (a path is only tried against routes that can
    have its second segment)."""

    ordered: tuple[_Compiled, ...]
    any_head: tuple[_Compiled, ...]
    by_head: dict[str, tuple[_Compiled, ...]]


@dataclass(frozen=True, slots=True)
class _Entry:
    """One route prepared for search: normalized texts by tier."""

    route: CatalogRoute
    own: tuple[str, ...]  # the route's names and its full pattern
    tokens: tuple[str, ...]  # literal segments of the pattern
    site: tuple[str, ...]  # namespace key and names
    labels: tuple[str, ...]  # category keys and labels, site URL, route URL
    text: str  # descriptions, joined
    required: int  # required parameters (fewer first on ties)
    order: int  # catalog order


@dataclass(frozen=True, slots=True)
class Catalog:
    """The route catalog of one RSSHub instance. Answers questions; fetches nothing.

    Matchers and the search index are built on first use and kept (the catalog itself
    never changes).
    """

    #: Namespace key → namespace, in catalog order.
    namespaces: Mapping[str, Namespace]
    #: Category key → ``{"zh": label, "en": label}``.
    categories: Mapping[str, Mapping[str, str]]
    #: Registrable domain → its radar rules (``radar-rules.json``; derived from the routes'
    #: own ``radar`` entries when no rules file was given).
    radar_rules: Mapping[str, RadarDomain]
    #: What was skipped while reading, one sentence each (malformed entries).
    problems: tuple[str, ...] = ()
    _matchers: dict[str, _Matcher] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _index: list[_Entry] = field(default_factory=list, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ iteration
    def routes(self) -> Iterator[CatalogRoute]:
        """Every route, namespace by namespace, in catalog order."""
        for namespace in self.namespaces.values():
            yield from namespace.routes

    # ---------------------------------------------------------------------- match
    def _compiled(self, key: str) -> _Matcher:
        matcher = self._matchers.get(key)
        if matcher is None:
            namespace = self.namespaces[key]
            by_path = {route.path: route for route in namespace.routes}
            items = []
            for path in route_order(by_path):
                route = by_path[path]
                try:
                    pattern: RoutePattern | None = compile_pattern(route.pattern)
                except re.error:
                    pattern = None
                items.append(_Compiled(route, pattern))
            heads = {h for i in items if i.pattern and i.pattern.heads for h in i.pattern.heads}
            matcher = self._matchers[key] = _Matcher(
                tuple(items),
                tuple(i for i in items if i.pattern and i.pattern.heads is None),
                {
                    head: tuple(
                        i
                        for i in items
                        if i.pattern and (i.pattern.heads is None or head in i.pattern.heads)
                    )
                    for head in heads
                },
            )
        return matcher

    def unmatchable(self) -> list[CatalogRoute]:
        """Routes whose ``{regex}`` Python cannot compile: :meth:`match` never returns them."""
        return [
            c.route
            for key in self.namespaces
            for c in self._compiled(key).ordered
            if c.pattern is None
        ]

    def match(self, path: str) -> RouteMatch | None:
        """The route RSSHub would serve ``path`` with (``"/guancha/headline"``), or None.

        The query string and fragment are ignored; the first segment is the namespace; the
        namespace's routes are tried in :func:`route_order` and the first match wins. When
        nothing matches a path ending in ``/``, the slash is dropped and the path tried
        again (RSSHub's ``trimTrailingSlash`` redirect).
        """
        decoded = decode_path(path.strip())
        if not decoded.startswith("/"):
            return None
        while True:
            key = decoded[1:].split("/", 1)[0]
            if key in self.namespaces:
                matcher = self._compiled(key)
                segments = decoded.split("/", 3)
                candidates = (
                    matcher.by_head.get(segments[2], matcher.any_head)
                    if len(segments) > 2
                    else matcher.any_head
                )
                for item in candidates:
                    params = item.pattern.match(decoded) if item.pattern else None
                    if params is not None:
                        return RouteMatch(item.route, params)
            if len(decoded) > 1 and decoded.endswith("/"):
                decoded = decoded[:-1]
                continue
            return None

    # ---------------------------------------------------------------------- names
    def category_label(self, key: str, language: str = "zh") -> str:
        """The label of a category key in ``language`` (``"new-media"`` → ``"新媒体"``)."""
        labels = self._labels(key)
        return (_pick_language(labels, language) if labels else None) or key

    def _labels(self, key: str) -> Mapping[str, str] | None:
        return self.categories.get(key) or CATEGORY_LABELS.get(key)

    def names(self, m: RouteMatch, language: str = "zh") -> tuple[str, str, str]:
        """``(category, site, feed)`` names for a matched path, in ``language``.

        * category: the label of the route's first category; ``other`` (其他 /
          Uncategorized) when it lists none;
        * site: the namespace name;
        * feed: the route name, followed by the parameter values taken from the path in
          parentheses when there are any (``/juejin/category/frontend`` → ``分类 (frontend)``),
          so two feeds of one route never share a name.

        Translations (``zh``, ``zh-TW``, ``ja`` overrides) are used when ``language`` asks
        for them; otherwise the name as the route's author wrote it.
        """
        route = m.route
        category = self.category_label(
            route.categories[0] if route.categories else UNCATEGORIZED, language
        )
        namespace = self.namespaces.get(route.namespace)
        site = namespace.localized_name(language) if namespace else route.namespace
        feed = route.localized_name(language)
        values = [value for _, value in m.params if value]
        if values:
            feed = f"{feed} ({', '.join(values)})"
        return category, site, feed

    # --------------------------------------------------------------------- search
    def _search_index(self) -> list[_Entry]:
        if not self._index:
            entries: list[_Entry] = []
            order = 0
            for namespace in self.namespaces.values():
                site = tuple(
                    dict.fromkeys(
                        _norm(t)
                        for t in (
                            namespace.key,
                            namespace.name,
                            *(name for _, name in namespace.localized),
                        )
                    )
                )
                for route in namespace.routes:
                    labels: list[str] = []
                    for key in route.categories or (UNCATEGORIZED,):
                        labels.append(key)
                        labels.extend((self._labels(key) or {}).values())
                    labels.extend(u for u in (namespace.url, route.url) if u)
                    texts = [route.description or "", namespace.description or ""]
                    texts.extend(f"{n} {d}" for n, d in route.parameters)
                    pattern = route.pattern
                    entries.append(
                        _Entry(
                            route=route,
                            own=tuple(
                                _norm(t)
                                for t in (
                                    route.name,
                                    *(name for _, name in route.localized),
                                    pattern,
                                )
                            ),
                            tokens=tuple(
                                _norm(s)
                                for s in pattern.split("/")[2:]
                                if s and not s.startswith(":") and s != "*"
                            ),
                            site=site,
                            labels=tuple(_norm(t) for t in labels),
                            text=_norm("\n".join(t for t in texts if t)),
                            required=sum(
                                1
                                for s in _segments(pattern)
                                if s.startswith(":") and not s.endswith("?")
                            ),
                            order=order,
                        )
                    )
                    order += 1
            self._index[:] = entries  # one assignment: a second builder replaces, not adds
        return self._index

    def search(self, query: str, limit: int = 20) -> list[CatalogRoute]:
        """Routes for ``query`` (Chinese or English), best first; at most ``limit``.

        Every word of the query must be found. A word found in the route's name or path,
        or the site's key or name, ranks above one found in a category or URL, which
        ranks above one found only in a description; within each, an exact hit ranks
        above a prefix, above a substring. Ties: a hit on the route itself before a hit on
        its site only, then fewer required parameters, then catalog order.
        """
        terms = [_norm(t) for t in query.split()]
        terms = [t for t in terms if t]
        if not terms or limit <= 0:
            return []
        scored: list[tuple[int, int, int, int, CatalogRoute]] = []
        for entry in self._search_index():
            total = 0
            own_hits = 0
            for term in terms:
                own = max(
                    max((_kind(term, t) for t in entry.own), default=0),
                    max((_kind(term, t, whole=True) for t in entry.tokens), default=0),
                )
                best = max(own, max((_kind(term, t) for t in entry.site), default=0))
                if best:
                    score = 30 + best
                    own_hits += own == best
                else:
                    label = max((_kind(term, t) for t in entry.labels), default=0)
                    if label:
                        score = 20 + label
                    elif term in entry.text:
                        score = 10
                    else:
                        break
                total += score
            else:
                scored.append((-total, -own_hits, entry.required, entry.order, entry.route))
        scored.sort(key=lambda s: s[:4])
        return [s[4] for s in scored[:limit]]

    # ---------------------------------------------------------------------- radar
    def radar(self, url: str) -> list[str]:
        """RSSHub paths proposed for a website ``url``, as RSSHub Radar proposes them.

        The host's registrable domain picks the rules (its subdomain's list; ``www`` falls
        back to ``.`` and no subdomain to ``www``); each rule's ``source`` patterns
        (``:param`` one segment, ``*param`` the rest; a trailing ``:param`` may be left
        out) are matched against the URL path without its final ``/``; the parameters
        fill the rule's ``target``. A missing optional parameter drops the rest of the
        target, a missing required one drops the rule. Paths come in rule order, each once,
        without a trailing ``/``; values are percent-encoded only where they would break
        the path (``/ ? # %`` and blanks).
        """
        try:
            parts = urlsplit(url.strip() if "://" in url else "https://" + url.strip())
            host = (parts.hostname or "").rstrip(".")
        except ValueError:
            return []
        found = _registered_domain(host, self.radar_rules)
        if found is None:
            return []
        domain, subdomain = found
        rules = self.radar_rules[domain].subdomains
        chosen = rules.get(subdomain or ".")
        if chosen is None:
            if subdomain == "www":
                chosen = rules.get(".")
            elif not subdomain:
                chosen = rules.get("www")
        if not chosen:
            return []
        pathname = decode_path(parts.path or "/")
        pathname = pathname[:-1] if pathname.endswith("/") else pathname
        proposed: dict[str, None] = {}
        for rule in chosen:
            for source in _radar_sources(rule.source):
                params = _recognize(source, pathname)
                if params is None:
                    continue
                target = _fill_target(rule.target, params)
                if len(target) > 1 and target.endswith("/"):
                    target = target[:-1]  # a route keyed "/" is proposed as "/ns/"
                if target:
                    proposed.setdefault(target)
        return list(proposed)


# ---------------------------------------------------------------------------- helpers


def _pick_language(labels: Mapping[str, str], language: str) -> str | None:
    lang = language.strip()
    base = lang.split("-")[0].lower()
    for key in (lang, base, "en", "zh"):
        value = labels.get(key)
        if value:
            return value
    return next((v for v in labels.values() if v), None)


def _localize(name: str, localized: tuple[tuple[str, str], ...], language: str) -> str:
    wanted = language.strip().lower()
    table = {lang.lower(): value for lang, value in localized}
    return table.get(wanted) or table.get(wanted.split("-")[0]) or name


def _norm(text: str) -> str:
    """Search normal form: NFKC (full-width → half-width), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _kind(term: str, text: str, whole: bool = False) -> int:
    """3 exact, 2 prefix, 1 substring (not for ``whole`` tokens), 0 none."""
    if term == text:
        return 3
    if text.startswith(term):
        return 2
    return 1 if not whole and term in text else 0


#: Second-level labels under which country domains register names (``com.cn``, ``co.jp``):
#: enough to group the routes' own radar sources by domain when no rules file is given.
_SECOND_LEVEL: Final = frozenset(
    {"ac", "co", "com", "edu", "go", "gob", "gov", "gv", "ltd", "mil", "ne", "net", "nic"}
    | {"or", "org", "plc", "sch"}
)


def _registrable(host: str) -> str | None:
    labels = host.split(".")
    if len(labels) < 2 or not all(labels) or host.replace(".", "").isdigit():
        return None
    take = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-take:])


def _registered_domain(host: str, rules: Mapping[str, RadarDomain]) -> tuple[str, str] | None:
    """``(domain, subdomain)`` of ``host``: the longest of its suffixes that has rules.

    The keys of the rules are registrable domains already (RSSHub computed them with the
    public suffix list), so the longest key that ends the host is the host's domain.
    """
    labels = host.lower().split(".")
    for i in range(len(labels) - 1):
        domain = ".".join(labels[i:])
        if domain in rules:
            return domain, ".".join(labels[:i])
    return None


_OPTIONAL_TAIL = re.compile(r"(/:\w+)\?(?=/|$)", re.ASCII)
_LAST_PARAM = re.compile(r"/:\w+$", re.ASCII)


def _radar_sources(sources: Iterable[str]) -> list[str]:
    """Radar's source list: ``?`` of optional parameters dropped, and each source also
    with its trailing ``:params`` cut one by one (rule authors rarely mark them optional)."""
    out: dict[str, None] = {}
    for source in sources:
        source = _OPTIONAL_TAIL.sub(r"\1", source)
        out.setdefault(source)
        while (tail := _LAST_PARAM.search(source)) is not None:
            source = source[: tail.start()]
            out.setdefault(source)
    return list(out)


def _recognize(source: str, pathname: str) -> dict[str, str] | None:
    """route-recognizer's match of one source against a path (no trailing slash)."""
    parts: list[str] = []
    names: list[str] = []
    for segment in source.split("/"):
        if not segment:
            continue
        if segment[0] in ":*" and len(segment) > 1:
            names.append(segment[1:])
            parts.append("/(.+)" if segment[0] == "*" else "/([^/]+)")
        else:
            parts.append("/" + re.escape(_decode(segment, frozenset("/%"))))
    m = re.fullmatch("".join(parts), pathname or "")
    if m is None:
        return None
    return {name: _decode(value, keep="") for name, value in zip(names, m.groups(), strict=True)}


_TARGET_PARAM = re.compile(r"/:(\w+)(\??)(?=/|$)", re.ASCII)


def _fill_target(target: str, params: Mapping[str, str]) -> str:
    """Radar's ``ruleHandler``: fill ``:params`` of ``target`` from the source match."""
    out: list[str] = []
    pos = 0
    for m in _TARGET_PARAM.finditer(target):
        value = params.get(m.group(1))
        if value:
            out.append(target[pos : m.start()] + "/" + _encode_param(value))
            pos = m.end()
        elif m.group(2):  # optional and missing: drop it and everything after it
            return "".join(out) + target[pos : m.start()]
        else:
            return ""
    return "".join(out) + target[pos:]


# ----------------------------------------------------------------------------- reading


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{what} is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _overrides(raw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found = []
    for lang in _OVERRIDE_LANGUAGES:
        override = raw.get(lang)
        if isinstance(override, dict) and (name := _text(override.get("name"))):
            found.append((lang, name))
    return tuple(found)


def _parameters(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    out = []
    for name, value in raw.items():
        if isinstance(value, dict):
            value = value.get("description")
        out.append((str(name), value if isinstance(value, str) else ""))
    return tuple(out)


def _features(raw: Any) -> tuple[frozenset[str], tuple[str, ...]]:
    if not isinstance(raw, dict):
        return frozenset(), ()
    features = frozenset(str(k) for k, v in raw.items() if v)
    config = raw.get("requireConfig")
    names: tuple[str, ...] = ()
    if isinstance(config, list):
        names = tuple(
            c["name"] for c in config if isinstance(c, dict) and isinstance(c.get("name"), str)
        )
    return features, names


def _route(namespace: str, path: str, raw: Mapping[str, Any]) -> CatalogRoute:
    categories = raw.get("categories")
    features, config = _features(raw.get("features"))
    return CatalogRoute(
        namespace=namespace,
        path=path,
        name=_text(raw.get("name")) or path,
        categories=tuple(c for c in categories if isinstance(c, str))
        if isinstance(categories, list)
        else (),
        example=_text(raw.get("example")),
        parameters=_parameters(raw.get("parameters")),
        features=features,
        url=_text(raw.get("url")),
        description=_text(raw.get("description")),
        localized=_overrides(raw),
        required_config=config,
        location=_text(raw.get("location")),
    )


def _read_namespaces(
    data: Mapping[str, Any], problems: list[str]
) -> tuple[dict[str, Namespace], list[tuple[str, str, dict[str, Any]]]]:
    namespaces: dict[str, Namespace] = {}
    radar_items: list[tuple[str, str, dict[str, Any]]] = []
    for key, raw in data.items():
        if not key or "/" in key or not isinstance(raw, dict):
            problems.append(f"namespace {key!r} skipped: not a namespace object")
            continue
        raw_routes = raw.get("routes")
        routes: list[CatalogRoute] = []
        if isinstance(raw_routes, dict):
            for path, route in raw_routes.items():
                if not isinstance(route, dict):
                    problems.append(f"route {key}{path} skipped: not a route object")
                    continue
                routes.append(_route(key, path, route))
                items = route.get("radar")
                if isinstance(items, list):  # RSSHub skips a malformed (non-list) radar too
                    radar_items.extend((key, path, i) for i in items if isinstance(i, dict))
        elif raw_routes is not None:
            problems.append(f"namespace {key!r}: 'routes' is not an object; no routes read")
        namespaces[key] = Namespace(
            key=key,
            name=_text(raw.get("name")) or key,
            url=_text(raw.get("url")),
            routes=tuple(routes),
            description=_text(raw.get("description")),
            localized=_overrides(raw),
        )
    return namespaces, radar_items


def _read_radar(data: Mapping[str, Any], problems: list[str]) -> dict[str, RadarDomain]:
    domains: dict[str, RadarDomain] = {}
    for domain, raw in data.items():
        if not isinstance(raw, dict):
            problems.append(f"radar domain {domain!r} skipped: not an object")
            continue
        subdomains: dict[str, tuple[RadarRule, ...]] = {}
        for sub, rules in raw.items():
            if sub.startswith("_") or not isinstance(rules, list):
                continue
            subdomains[sub] = tuple(
                RadarRule(
                    title=_text(r.get("title")) or "",
                    source=tuple(s for s in _as_list(r.get("source")) if isinstance(s, str)),
                    target=r["target"],
                    docs=_text(r.get("docs")),
                )
                for r in rules
                if isinstance(r, dict) and isinstance(r.get("target"), str)
            )
        domains[domain.lower()] = RadarDomain(
            domain.lower(), _text(raw.get("_name")), MappingProxyType(subdomains)
        )
    return domains


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if value is not None else []


def _derive_radar(
    namespaces: Mapping[str, Namespace], items: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, RadarDomain]:
    """``radar-rules.json`` rebuilt from the routes' own ``radar`` entries, as RSSHub's
    ``getRadarRules`` builds it (the domain from a second-level heuristic instead of the
    public suffix list)."""
    names: dict[str, str | None] = {}
    grouped: dict[str, dict[str, list[RadarRule]]] = {}
    for key, path, item in items:
        sources = [s for s in _as_list(item.get("source")) if isinstance(s, str)]
        if not sources:
            continue
        try:
            first = urlsplit("https://" + sources[0])
            host = (first.hostname or "").rstrip(".")
        except ValueError:
            continue
        domain = _registrable(host)
        if domain is None:
            continue
        sub = host[: -len(domain) - 1] or "."
        route = next((r for r in namespaces[key].routes if r.path == path), None)
        title = _text(item.get("title")) or (route.name if route else path)
        target = item.get("target")
        paths = []
        for source in sources:
            try:
                parts = urlsplit("https://" + source)
            except ValueError:
                continue
            paths.append(
                (parts.path or "/")
                + (f"?{parts.query}" if parts.query else "")
                + (f"#{parts.fragment}" if parts.fragment else "")
            )
        rule = RadarRule(
            title=title,
            source=tuple(paths),
            target=f"/{key}{target}" if isinstance(target, str) and target else f"/{key}{path}",
            docs=f"https://docs.rsshub.app/routes/{key}",
        )
        names.setdefault(domain, namespaces[key].name)
        grouped.setdefault(domain, {}).setdefault(sub, []).append(rule)
    return {
        domain: RadarDomain(
            domain, names[domain], MappingProxyType({s: tuple(r) for s, r in subs.items()})
        )
        for domain, subs in grouped.items()
    }


def _read_categories(data: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    out: dict[str, Mapping[str, str]] = {}
    for key, labels in data.items():
        if isinstance(labels, dict):
            out[key] = MappingProxyType(
                {str(k): v for k, v in labels.items() if isinstance(v, str) and v}
            )
    return out


def load_catalog(
    namespace_json: bytes,
    radar_json: bytes | None = None,
    categories_json: bytes | None = None,
) -> Catalog:
    """Read the bodies of ``/api/namespace`` and ``/api/radar/rules`` and the category labels.

    Without ``radar_json`` the radar rules are rebuilt from the routes' ``radar`` entries;
    without ``categories_json`` the labels are :data:`CATEGORY_LABELS`. Malformed entries
    are skipped and listed in :attr:`Catalog.problems`.

    Raises:
        ValueError: a body is not JSON, or not a JSON object.
    """
    problems: list[str] = []
    namespaces, radar_items = _read_namespaces(
        _json_object(namespace_json, "the namespace catalog (/api/namespace)"), problems
    )
    if radar_json is not None:
        rules = _json_object(radar_json, "the radar rules (/api/radar/rules)")
        radar = _read_radar(rules, problems)
    else:
        radar = _derive_radar(namespaces, radar_items)
    categories = (
        _read_categories(_json_object(categories_json, "the category labels"))
        if categories_json is not None
        else dict(CATEGORY_LABELS)
    )
    return Catalog(
        namespaces=MappingProxyType(namespaces),
        categories=MappingProxyType(categories),
        radar_rules=MappingProxyType(radar),
        problems=tuple(problems),
    )
