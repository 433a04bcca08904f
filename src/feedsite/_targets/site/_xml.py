"""Atom feeds, the OPML file and the sitemap. Pure: values in, bytes out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache

from feedsite._targets._tags import tag_key

from ._html import abs_url, rel_url, xml_text
from ._model import CategoryNode, Page, Settings
from ._plan import site_enclosures

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _url(settings: Settings, from_path: str, target: str) -> str:
    if settings.base_url:
        return abs_url(settings.base_url, target)
    return rel_url(from_path, target)


def _iso(dt: datetime) -> str:
    try:
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):
        return _EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=512)
def _escaped_body(body: str) -> str:
    # A post is in up to four feeds (site, category, site, feed): escape it once.
    return xml_text(body)


def atom(
    page: Page,
    settings: Settings,
    bodies: Mapping[str, str],
    secrets: frozenset[str] = frozenset(),
) -> bytes:
    """An Atom 1.0 feed of ``page.posts`` (``bodies``: uid → body prepared for the site;
    ``secrets``: the owner's, no enclosure URL holding one is listed)."""
    title = settings.title + ("" if not page.scope else " · " + " › ".join(page.scope))
    listing = page.path[: -len("atom.xml")] + "index.html"
    updated = page.posts[0].time if page.posts else _EPOCH
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{xml_text(title)}</title>",
        f"<id>urn:feedsite:feed:{xml_text(page.path)}</id>",
        f"<updated>{_iso(updated)}</updated>",
        f'<link rel="self" type="application/atom+xml"'
        f' href="{xml_text(_url(settings, page.path, page.path))}"/>',
        f'<link rel="alternate" type="text/html"'
        f' href="{xml_text(_url(settings, page.path, listing))}"/>',
        "<generator>feedsite</generator>",
    ]
    for p in page.posts:
        body = _escaped_body(bodies.get(p.uid, ""))
        out += [
            "<entry>",
            f"<title>{xml_text(p.short_title)}</title>",
            f"<id>urn:feedsite:post:{p.uid}</id>",
            f'<link rel="alternate" type="text/html"'
            f' href="{xml_text(_url(settings, page.path, p.path))}"/>',
        ]
        if p.link:  # passed safe_url in site_posts (http(s) only)
            out.append(f'<link rel="related" type="text/html" href="{xml_text(p.link)}"/>')
        out += [
            f"<published>{_iso(p.time)}</published>",
            f"<updated>{_iso(p.time)}</updated>",
            f"<author><name>{xml_text(p.author or p.site)}</name></author>",
            *(
                f'<category term="{xml_text(term)}"/>'
                for term in dict.fromkeys((p.category, p.site, p.feed))
            ),
        ]
        if p.tags:  # the tag's key (case and width folded) and its name (issue #17)
            out += [
                f'<category term="{xml_text(tag_key(name))}" label="{xml_text(name)}"/>'
                for name in p.tags
            ]
        for e in site_enclosures(p.enclosures, secrets) if p.enclosures else ():
            out.append(
                f'<link rel="enclosure" href="{xml_text(e.url)}"'
                + (f' type="{xml_text(e.type)}"' if e.type else "")
                + (f' length="{e.length}"' if e.length else "")
                + (f' title="{xml_text(e.title)}"' if e.title else "")
                + "/>"
            )
        out += [
            f'<content type="html">{xml_text(body)}</content>',
            "</entry>",
        ]
    out.append("</feed>\n")
    return "\n".join(out).encode("utf-8")


def opml(tree: Iterable[CategoryNode], settings: Settings) -> bytes:
    """Every configured feed as OPML 2.0, nested category > site > feed."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"<head><title>{xml_text(settings.title)}</title></head>",
        "<body>",
    ]
    for c in tree:
        out.append(f'<outline text="{xml_text(c.name)}" title="{xml_text(c.name)}">')
        for s in c.sites:
            out.append(f'  <outline text="{xml_text(s.name)}" title="{xml_text(s.name)}">')
            for f in s.feeds:
                # A feed without a public URL (a ``path:`` feed) is offered as this site's
                # own Atom feed of it.
                xml_url = f.xml_url or _url(
                    settings, "opml.xml", f.path[: -len("index.html")] + "atom.xml"
                )
                out.append(
                    f'    <outline type="rss" text="{xml_text(f.name)}"'
                    f' title="{xml_text(f.name)}" xmlUrl="{xml_text(xml_url)}"/>'
                )
            out.append("  </outline>")
        out.append("</outline>")
    out += ["</body>", "</opml>\n"]
    return "\n".join(out).encode("utf-8")


def sitemap(paths: Iterable[str], settings: Settings) -> bytes:
    """A sitemap of ``paths`` (HTML pages)."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path in paths:
        out.append(f"<url><loc>{xml_text(_url(settings, 'sitemap.xml', path))}</loc></url>")
    out.append("</urlset>\n")
    return "\n".join(out).encode("utf-8")
