"""Rendering pages to bytes: Jinja2 templates for HTML, ``_xml`` for the rest.

Templates ship in ``templates/``; a user folder overrides them by name
(ChoiceLoader, user folder first). Static files ship in ``static/`` (and the favicon
is the Hexo site's, read from ``feedsite._init``'s package data) and are published
under ``assets/`` with a content hash in their names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from feedsite._clean._images import localize_images
from feedsite.types import LocalImage

from . import _xml
from ._html import rel_url, root_prefix
from ._model import (
    HTML_KINDS,
    IMAGES_DIR,
    Page,
    PagePlan,
    Settings,
    category_dir,
    feed_dir,
    site_dir,
)
from ._plan import language, site_enclosures

#: Bumped when the site's rendering changes in a way templates do not show.
SITE_VERSION = "3"

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
#: Static files shared with another target, by published name: the favicon is the one
#: ``feedsite init --target hexo`` writes (one copy of its bytes in the package).
SHARED_STATIC = {
    "favicon.svg": ("_init", "templates", "hexo", "source", "favicon.svg"),
}


def environment(
    user_templates: Path | None, zone_name: str, cache_dir: Path | None = None
) -> jinja2.Environment:
    """The template environment: the user's folder first, then the packaged templates.

    ``cache_dir`` keeps the compiled templates between builds (Jinja2 checks each
    against its source's checksum): an incremental build does not compile them again.
    """
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(("html", "xml"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        # One build renders thousands of pages: no stat of the template files for each.
        auto_reload=False,
        bytecode_cache=_bytecode_cache(cache_dir),
    )
    _install_filters(env, zone_name)
    env.globals.update(
        category_path=lambda c: category_dir(c) + "index.html",
        site_path=lambda c, s: site_dir(c, s) + "index.html",
        feed_path=lambda c, s, f: feed_dir(c, s, f) + "index.html",
    )
    return env


def _bytecode_cache(cache_dir: Path | None) -> jinja2.BytecodeCache | None:
    if cache_dir is None:
        return None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a cache only: build without it
    return jinja2.FileSystemBytecodeCache(str(cache_dir))


def templates_key(env: jinja2.Environment, static: Mapping[str, bytes]) -> str:
    """Hash of every template the environment resolves (user overrides included)."""
    h = hashlib.sha256(SITE_VERSION.encode())
    for name in sorted(env.list_templates()):
        assert env.loader is not None
        source, _, _ = env.loader.get_source(env, name)
        h.update(name.encode() + b"\x00" + source.encode("utf-8", "surrogatepass") + b"\x00")
    for name, data in sorted(static.items()):
        h.update(name.encode() + b"\x00" + data + b"\x00")
    return h.hexdigest()


def static_files() -> dict[str, bytes]:
    """Packaged static files by output path (``assets/<stem>.<hash>.<ext>``)."""
    found = {p.name: p.read_bytes() for p in STATIC_DIR.iterdir() if p.is_file()}
    package = files("feedsite")
    for name, parts in SHARED_STATIC.items():
        found[name] = package.joinpath(*parts).read_bytes()
    out: dict[str, bytes] = {}
    for name, data in sorted(found.items()):
        stem, dot, suffix = name.rpartition(".")
        digest = hashlib.sha256(data).hexdigest()[:10]
        out[f"assets/{stem}.{digest}{dot}{suffix}"] = data
    return out


class Renderer:
    """Renders the pages of one plan. Holds no state besides its inputs."""

    def __init__(
        self,
        env: jinja2.Environment,
        settings: Settings,
        plan: PagePlan,
        static: Mapping[str, bytes],
        local: Mapping[str, LocalImage] | None = None,
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        self.env = env
        self.settings = settings
        self.plan = plan
        self.static = static
        #: The images the site serves itself, by original URL (issue #12).
        self.local = local or {}
        #: The owner's secrets: no enclosure URL holding one is shown.
        self.secrets = secrets

    def render(self, page: Page, bodies: Mapping[str, str]) -> bytes:
        """The bytes of ``page`` (``bodies``: uid → prepared body of the posts it needs)."""
        if page.kind == "atom":
            base = self.settings.base_url
            if self.local and base:  # a feed reader needs absolute URLs: else hotlinks
                prefix = base + "/" + IMAGES_DIR
                bodies = {
                    p.uid: localize_images(bodies.get(p.uid, ""), self.local, prefix)
                    for p in page.posts
                }
            return _xml.atom(page, self.settings, bodies, self.secrets)
        if page.kind == "opml":
            return _xml.opml(self.plan.tree, self.settings)
        if page.kind == "sitemap":
            return _xml.sitemap(
                (p.path for p in self.plan.pages if p.kind in HTML_KINDS), self.settings
            )
        if page.kind == "asset":
            return self.static[page.path]
        return self._html(page, bodies).encode("utf-8")

    def _html(self, page: Page, bodies: Mapping[str, str]) -> str:
        context: dict[str, object] = {
            "site_title": self.settings.title,
            "page": page,
            "kind": page.kind,
            "url": self._url(page.path),
            "css": rel_url(page.path, self.settings.css_path),
            "search_js": rel_url(page.path, self.settings.js_path),
            "icon": rel_url(page.path, self.settings.icon_path) if self.settings.icon_path else "",
            "tree": self.plan.tree,
            "months": self.plan.months,
            "posts": page.posts,
            "lang": self._lang(page),
        }
        if page.kind == "post":
            post = page.posts[0]
            body = bodies.get(post.uid, "")
            cover_in_body = bool(post.cover) and f'src="{post.cover}"' in body
            if self.local:
                body = localize_images(body, self.local, root_prefix(page.path) + IMAGES_DIR)
            context.update(
                post=post,
                body=body,
                cover_in_body=cover_in_body,
                link_host=_host(post.link),
                media=tuple(
                    e for e in site_enclosures(post.enclosures, self.secrets) if e.kind is not None
                ),
            )
        elif page.kind in ("category", "site", "feed"):
            context["node"] = self._node(page)
        elif page.kind == "tags":
            context["tag_nodes"] = self.plan.tags
        template = self.env.get_template(f"{page.kind}.html")
        return template.render(context)

    def _lang(self, page: Page) -> str:
        if page.kind == "post":
            return page.posts[0].lang
        if page.posts:
            return language(" ".join(p.title for p in page.posts[:50]))
        return language(" ".join(c.name for c in self.plan.tree) + " " + self.settings.title)

    def _node(self, page: Page) -> object:
        for c in self.plan.tree:
            if c.name != page.scope[0]:
                continue
            if len(page.scope) == 1:
                return c
            for s in c.sites:
                if s.name != page.scope[1]:
                    continue
                if len(page.scope) == 2:
                    return s
                for f in s.feeds:
                    if f.name == page.scope[2]:
                        return f
        raise KeyError(page.scope)

    def _url(self, page_path: str) -> Callable[[str], str]:
        def url(target: str) -> str:
            return rel_url(page_path, target)

        return url


def _local(dt: datetime, zone: ZoneInfo) -> str:
    try:
        return dt.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError):
        return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _host(link: str | None) -> str:
    if not link:
        return ""
    rest = link.split("://", 1)[-1]
    return rest.split("/", 1)[0]


def _install_filters(env: jinja2.Environment, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)

    def local(dt: datetime) -> str:
        return _local(dt, zone)

    def iso(dt: datetime) -> str:
        try:
            return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, ValueError):
            return ""

    env.filters["local"] = local
    env.filters["iso"] = iso
