"""What the site consists of and which pages must be (re)rendered. Pure.

Every output file is a :class:`Page` with an *input key*: a hash of everything
its bytes depend on (the templates in use, the settings, the data of the posts
it shows, what it shows of their stories). A page whose key equals the manifest's is
not rendered at all.

Stories (issue #15, docs/site.md "Stories"): the home, category and site pages show one
card per story (its first member in the listing, the story's lead on the home page), a
feed page and the archive every post; a card names the story's other sites, a post page
every other report; the home page ranks the stories of the 24 h before the newest post
(never the clock) and, with ``native.home: boards``/``both``, shows one board per site.

Tags (issue #17, docs/site.md "Tags and media"): a post shows its tags' names
(:func:`feedsite._targets._tags.tag_names`); names equal but for case and width are one
tag with one page (``t/<key>/index.html``, the newest :data:`TAG_POSTS` posts), at most
:data:`MAX_TAG_PAGES` of them (the most used), all listed on ``tags/index.html``.

The page set is chosen so that a few new posts touch few pages: archives are
paginated by month, listing pages show the newest ``per_page`` posts, post
pages carry no global counts (a breadcrumb, and prev/next within their feed).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from feedsite._clean import first_img_src
from feedsite._plan._stories import Story
from feedsite._records import PostImages
from feedsite._store import LiveItem, SiteCard
from feedsite._targets._tags import tag_key, tag_names
from feedsite._url import proxied, public_base, safe_url
from feedsite.types import Enclosure

from ._model import (
    IMAGES_DIR,
    MAX_ENCLOSURES,
    SHORT_TITLE_MAX,
    TAGS_PATH,
    TITLE_MAX,
    Board,
    CategoryNode,
    FeedNode,
    FeedRef,
    HotStory,
    MonthNode,
    Page,
    PagePlan,
    Settings,
    SiteEnclosure,
    SiteNode,
    SitePost,
    StoryView,
    TagLink,
    TagNode,
    cap_title,
    category_dir,
    feed_dir,
    month_dir,
    site_dir,
    tag_dir,
)
from ._search import CJK, INDEX_DIR

#: Entries of each Atom feed.
ATOM_ENTRIES = 20
#: Characters of a card's excerpt.
EXCERPT_CHARS = 140
#: Bumped whenever what a card derives from a body changes (the cached cards are then redone).
CARD_VERSION = "1"
#: The home page's hot list: stories with members in this span before the newest post...
HOT_SPAN = timedelta(hours=24)
#: ... from at least this many distinct sites; at most :data:`HOT_MAX` of them.
HOT_MIN_SITES = 2
HOT_MAX = 10
#: Titles on each site's board (``native.home: boards``/``both``).
BOARD_POSTS = 8
#: Tags with a page at most: the tags with the most posts (then the newest post, then the
#: key) get one; the others are shown as plain text on their posts (docs/site.md "Tags").
MAX_TAG_PAGES = 1000
#: Posts a tag's page lists at most (newest first; the page says how many there are).
TAG_POSTS = 100

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(f"[{CJK}]")
_LATIN = re.compile(r"[A-Za-z]")
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
#: Types a ``media:content`` of medium audio or video may have and still be played (none,
#: or one that names no other kind of file: a ``text/html`` page or a Flash player is not).
_MEDIUM_TYPES = frozenset({None, "application/octet-stream", "application/ogg"})


def excerpt(body_head: str, limit: int = EXCERPT_CHARS) -> str:
    """Plain text of the start of a body, at most ``limit`` characters.

    Reads as little of ``body_head`` as gives enough text (a cut tag or entity at the
    end of a piece read stays past the ``limit`` characters kept).
    """
    size = 512
    while True:
        head = body_head[:size]
        lt = head.rfind("<")
        if lt > head.rfind(">"):
            head = head[:lt]  # a tag cut in half
        text = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", head))).strip()
        if len(text) > limit + 16 or size >= len(body_head):
            break
        size *= 4
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def language(text: str) -> str:
    """ "zh" when ``text`` is mostly CJK, else "en"."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


def playable(type_: str | None, medium: str | None) -> str | None:
    """``audio`` or ``video`` when a post page plays an enclosure of this MIME type and
    medium: an ``audio/*`` or ``video/*`` type, else medium audio or video with a type in
    :data:`_MEDIUM_TYPES`; None otherwise."""
    major = type_.partition("/")[0] if type_ else None
    if major in ("audio", "video"):
        return major
    if medium in ("audio", "video") and type_ in _MEDIUM_TYPES:
        return medium
    return None


def site_enclosures(
    enclosures: Iterable[Enclosure], secrets: frozenset[str] = frozenset()
) -> tuple[SiteEnclosure, ...]:
    """The enclosures the site shows: URLs through :func:`~feedsite._url.safe_url` again (rows
    of older versions may hold anything) and without any of the owner's ``secrets``, each
    URL once, at most :data:`MAX_ENCLOSURES`; malformed types, lengths and durations
    dropped."""
    out: list[SiteEnclosure] = []
    seen: set[str] = set()
    for e in enclosures:
        url = safe_url(e.url) if isinstance(e.url, str) else None
        if url is None or url in seen or any(s in url for s in secrets):
            continue
        seen.add(url)
        kind = e.type.lower() if isinstance(e.type, str) else None
        if kind is not None and not _MIME.fullmatch(kind):
            kind = None
        medium = e.medium if isinstance(e.medium, str) else None
        title = e.title if isinstance(e.title, str) else ""
        if title:
            title = " ".join("".join(c for c in title[:1000] if c.isprintable()).split())
        out.append(
            SiteEnclosure(
                url,
                kind,
                _count(e.length),
                _count(e.duration),
                cap_title(title, SHORT_TITLE_MAX),
                playable(kind, medium),
            )
        )
        if len(out) == MAX_ENCLOSURES:
            break
    return tuple(out)


def _count(value: object) -> int | None:
    """A positive int, else None (a stored value may be anything)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def site_posts(
    items: Iterable[LiveItem],
    feeds: Sequence[FeedRef],
    settings: Settings,
    images: PostImages | None = None,
    pages: frozenset[str] = frozenset(),
) -> tuple[list[SitePost], list[SiteCard]]:
    """The site's posts, newest first (ties: config order, then feed order), and the
    cards derived anew (items without an up-to-date cached card) for the cache.

    An item in several feeds has a page per feed: ``posts/<item id>.html`` for the first in
    the tree's order, ``posts/<item id>-<feed hash>.html`` for the others. ``pages`` (the
    site's pages now) keeps a post at the suffixed page it has: when the first feed lets
    the item go (retention, a removed feed), the other feeds' pages keep their addresses.

    ``images``: the images the site serves itself (issue #12): a post whose cover is one
    gets its files (:attr:`SitePost.cover_file`), and its page's key follows its images.
    """
    served = images.local if images is not None else {}
    by_feed: dict[str, list[LiveItem]] = {f.key: [] for f in feeds}
    for it in items:
        if it.feed_key in by_feed:
            by_feed[it.feed_key].append(it)
    in_order = (
        (index, ref, it)
        for index, ref in enumerate(feeds)
        for it in sorted(by_feed[ref.key], key=attrgetter("seq", "item_id"))
    )
    zone = ZoneInfo(settings.zone)
    posts: list[SitePost] = []
    new_cards: list[SiteCard] = []
    feed_hash = {ref.key: hashlib.sha256(ref.key.encode()).hexdigest()[:8] for ref in feeds}
    # A post that has its suffixed page keeps it, whatever comes first in the tree now.
    kept = {p[len("posts/") : -len(".html")] for p in pages if p.startswith("posts/")}
    taken: set[str] = set()
    for index, ref, it in in_order:
        uid = f"{it.item_id}-{feed_hash[it.feed_key]}"
        if uid not in kept and it.item_id not in taken:
            uid = it.item_id  # the first feed of an item has the plain page
        taken.add(uid)
        card = it.card
        if card is None:
            text = excerpt(it.body_head)
            card = SiteCard(
                it.feed_key,
                it.item_id,
                f"{CARD_VERSION}:{it.source_key}",
                text,
                language(it.title + " " + text),
                first_img_src(it.first_img),
            )
            new_cards.append(card)
        # Stored items of older runs may hold anything: every URL a page, an Atom feed or the
        # search index publishes passes safe_url here (issue #10 rows 2, 3, 5); a refused link
        # or cover is simply left out.
        link = safe_url(it.link)
        cover = safe_url(card.first_img_src or next(iter(it.images), None), public_base(link))
        image = served.get(cover) if cover else None
        main = image.file("main") if image is not None else None
        thumb = (image.file("thumb") or main) if image is not None else None
        cover = proxied(cover, settings.image_proxy) if main is None else cover
        time = it.date or it.first_seen
        data_key = f"{it.source_key}.{time.isoformat()}"
        if images is not None and served and it.image_urls:
            ikey = images.key(it.image_urls)
            if ikey:  # a post without local images keeps the key of earlier versions
                data_key += "." + ikey
        try:
            local = time.astimezone(zone)
            month = (local.year, local.month)
        except (OverflowError, ValueError):
            month = (time.year, time.month)
        posts.append(
            SitePost(
                uid=uid,
                item_id=it.item_id,
                feed_key=it.feed_key,
                category=ref.category,
                site=ref.site,
                feed=ref.name,
                title=cap_title(it.title, TITLE_MAX),
                link=link,
                time=time,
                author=cap_title(it.author, SHORT_TITLE_MAX) if it.author else it.author,
                cover=cover or None,
                excerpt=card.excerpt,
                lang=card.lang,
                data_key=data_key,
                month=month,
                feed_index=index,
                seq=it.seq,
                cover_file=IMAGES_DIR + thumb.path if thumb is not None else None,
                cover_width=thumb.width if thumb is not None else 0,
                cover_height=thumb.height if thumb is not None else 0,
                cover_main=IMAGES_DIR + main.path if main is not None else None,
                tags=tag_names(it.tags) if it.tags else (),
                enclosures=it.enclosures,
            )
        )
    # Newest first; ties in config order, then feed order (two stable sorts: comparing
    # the aware datetimes is much cheaper than a key of timestamps).
    posts.sort(key=lambda p: (p.feed_index, p.seq, p.uid))
    posts.sort(key=attrgetter("time"), reverse=True)
    return posts, new_cards


def _key(*parts: object) -> str:
    text = "\x1f".join(map(str, parts)) + "\x1f"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _card(p: SitePost) -> str:
    return f"{p.uid}|{p.data_key}|{p.category}|{p.site}|{p.feed}"


def _cards(posts: Iterable[SitePost]) -> str:
    return "\x1e".join(_card(p) for p in posts)


def _story_key(v: StoryView | None) -> str:
    """What a card shows of a story (its count and the sources it names)."""
    if v is None:
        return ""
    return f"{v.id}:{v.sites}:" + ",".join(f"{o.uid}/{o.site}/{o.feed}" for o in v.sources)


def _others_key(v: StoryView | None) -> str:
    """What a post page shows of its story: every other report."""
    if v is None:
        return ""
    return f"{v.id}:{v.sites}:" + "\x1d".join(
        f"{o.uid}|{o.site}|{o.feed}|{o.short_title}|{o.lang}|{o.link}" for o in v.others
    )


def _story_cards(posts: Iterable[SitePost], views: Mapping[str, StoryView]) -> str:
    """:func:`_cards`, each card with what it shows of its story (a card of no story keeps
    the key it had before stories)."""
    if not views:
        return _cards(posts)
    return "\x1e".join(
        _card(p) + ("|" + _story_key(views[p.uid]) if p.uid in views else "") for p in posts
    )


class SiteStories:
    """The site's stories over its posts: which posts report the same story, what a card or
    a post page shows of it, listings with one card per story, the hot list. Pure; does not
    decide which items are one story (:mod:`feedsite._plan._stories` does)."""

    def __init__(
        self, posts: Sequence[SitePost], stories: Mapping[tuple[str, str], Story] | None
    ) -> None:
        #: Each story's members among the posts, in lead order, by story id.
        self.members: dict[str, tuple[SitePost, ...]] = {}
        #: The story id of each post in a story, by uid.
        self.story_of: dict[str, str] = {}
        self._views: dict[str, StoryView] = {}
        if not stories:
            return
        by_key = {(p.feed_key, p.item_id): p for p in posts}
        for story in stories.values():
            if story.id in self.members:
                continue
            members = tuple(by_key[k] for k in story.members if k in by_key)
            if len(members) < 2:
                continue  # only live posts count; one left is no story
            self.members[story.id] = members
            for m in members:
                self.story_of[m.uid] = story.id

    def view(self, post: SitePost) -> StoryView | None:
        """What ``post``'s card and page show of its story (None: it is in none)."""
        sid = self.story_of.get(post.uid)
        if sid is None:
            return None
        found = self._views.get(post.uid)
        if found is not None:
            return found
        members = self.members[sid]
        others = tuple(m for m in members if m.uid != post.uid)
        sites = {m.site for m in members}
        sources: list[SitePost] = []
        named = {post.site}
        for m in others:
            if m.site not in named:
                named.add(m.site)
                sources.append(m)
        if not sources:  # one site's routes repeat each other: name the other feeds
            feeds = {post.feed_key}
            for m in others:
                if m.feed_key not in feeds:
                    feeds.add(m.feed_key)
                    sources.append(m)
        view = StoryView(sid, len(sites), tuple(sources), others, members[0].uid == post.uid)
        self._views[post.uid] = view
        return view

    def views(self, posts: Iterable[SitePost]) -> dict[str, StoryView]:
        """The views of the given posts that are in a story, by uid."""
        out: dict[str, StoryView] = {}
        if not self.story_of:
            return out
        for p in posts:
            v = self.view(p)
            if v is not None:
                out[p.uid] = v
        return out

    def one_per_story(self, listing: Sequence[SitePost]) -> list[SitePost]:
        """``listing`` with one post per story: its first member (in lead order) among the
        listed posts, so a listing holding the lead shows the lead."""
        if not self.story_of:
            return list(listing)
        present: dict[str, set[str]] = {}
        for p in listing:
            sid = self.story_of.get(p.uid)
            if sid is not None:
                present.setdefault(sid, set()).add(p.uid)
        first = {
            sid: next(m.uid for m in self.members[sid] if m.uid in uids)
            for sid, uids in present.items()
        }
        return [
            p for p in listing if (sid := self.story_of.get(p.uid)) is None or first[sid] == p.uid
        ]

    def hot(self, newest: SitePost | None) -> tuple[HotStory, ...]:
        """The stories reported by at least :data:`HOT_MIN_SITES` sites within
        :data:`HOT_SPAN` before the newest post's time (``newest``; never the clock, so a
        build depends on its input only), most sites first, then the newest; at most
        :data:`HOT_MAX`."""
        if newest is None or not self.members:
            return ()
        since = newest.time - HOT_SPAN
        found: list[HotStory] = []
        for members in self.members.values():
            recent = [m for m in members if m.time >= since]
            sites = len({m.site for m in recent})
            if sites >= HOT_MIN_SITES:
                view = self.view(members[0])
                assert view is not None
                found.append(HotStory(members[0], sites, max(m.time for m in recent), view))
        found.sort(key=lambda h: h.story.id)
        found.sort(key=lambda h: (h.sites, h.newest), reverse=True)
        return tuple(found[:HOT_MAX])


def _hot_key(hot: Sequence[HotStory]) -> str:
    """What the hot list shows: each lead's link and title, and the number of sites."""
    return "\x1e".join(f"{h.lead.uid}|{h.lead.short_title}|{h.lead.lang}|{h.sites}" for h in hot)


def _boards_key(boards: Sequence[Board]) -> str:
    """What the boards show: each site's link and count, its titles and their links."""
    return "\x1e".join(
        f"{b.site}:{b.path}:{b.count}:"
        + "|".join(f"{p.uid}/{p.short_title}/{p.lang}" for p in b.posts)
        for b in boards
    )


def plan_pages(
    posts: Sequence[SitePost],
    feeds: Sequence[FeedRef],
    settings: Settings,
    manifest: Mapping[str, str],
    *,
    static: Mapping[str, str] | None = None,
    stories: Mapping[tuple[str, str], Story] | None = None,
) -> PagePlan:
    """Every page of the site, and which of them differ from ``manifest`` (path → key).

    Args:
        posts: the site's posts, newest first (:func:`site_posts`).
        feeds: the configured feeds in config order.
        settings: rendering settings.
        manifest: the input key each existing page was written from; a page whose
            file is missing must be given with key "" (or left out).
        static: static files to copy (output path → content hash).
        stories: the stories of more than one live item, by member
            (:func:`feedsite._plan._stories.stories_of`); members that are no post here
            are left out.
    """
    s = _key(
        settings.templates_key,
        settings.title,
        settings.base_url,
        settings.zone,
        settings.per_page,
        settings.image_proxy,
        ",".join(settings.iframe_hosts),
        settings.css_path,
        settings.js_path,
        settings.icon_path,
    )
    n = settings.per_page
    by_feed: dict[str, list[SitePost]] = defaultdict(list)
    by_site: dict[tuple[str, str], list[SitePost]] = defaultdict(list)
    by_cat: dict[str, list[SitePost]] = defaultdict(list)
    by_month: dict[tuple[int, int], list[SitePost]] = defaultdict(list)
    for p in posts:
        by_feed[p.feed_key].append(p)
        by_site[(p.category, p.site)].append(p)
        by_cat[p.category].append(p)
        by_month[p.month].append(p)

    tree = _tree(feeds, by_feed, by_site, by_cat)
    months = tuple(
        MonthNode(y, m, month_dir(y, m) + "index.html", len(by_month[(y, m)]))
        for y, m in sorted(by_month, reverse=True)
    )
    tree_key = _key(*(f"{c.name}:{c.count}" for c in tree)) + "".join(
        f"|{f.name}:{f.count}:{f.xml_url}" for c in tree for st in c.sites for f in st.feeds
    )
    tree_key = _key(tree_key, *(f"{c.name}/{st.name}:{st.count}" for c in tree for st in c.sites))

    told = SiteStories(posts, stories)
    home_mode = settings.native.home
    stream = tuple(told.one_per_story(posts)[:n]) if home_mode != "boards" else ()
    boards = _boards(tree, by_site, told) if home_mode != "stream" else ()
    hot = told.hot(posts[0] if posts else None)
    home_views = told.views(stream)
    home_key = _key("home", s, tree_key, _story_cards(stream, home_views))
    if home_mode != "stream" or hot:
        home_key = _key(home_key, home_mode, _hot_key(hot), _boards_key(boards))

    pages: list[Page] = []
    add = pages.append
    add(
        Page(
            "index.html",
            home_key,
            "home",
            stream,
            stories=home_views,
            home=home_mode,
            hot=hot,
            boards=boards,
        )
    )
    add(Page("search/index.html", _key("search", s), "search"))
    add(Page("opml.xml", _key("opml", s, tree_key), "opml"))
    top = posts[:ATOM_ENTRIES]
    add(Page("atom.xml", _key("atom", s, _cards(top)), "atom", tuple(top)))

    for c in tree:
        cat_posts = by_cat.get(c.name, [])
        sub = _key(
            *(f"{st.name}:{st.count}:{f.name}:{f.count}" for st in c.sites for f in st.feeds)
        )
        shown = tuple(told.one_per_story(cat_posts)[:n])
        views = told.views(shown)
        add(
            Page(
                c.path,
                _key("category", s, sub, _story_cards(shown, views)),
                "category",
                shown,
                (c.name,),
                total=c.count,
                stories=views,
            )
        )
        top = tuple(cat_posts[:ATOM_ENTRIES])
        add(
            Page(
                category_dir(c.name) + "atom.xml",
                _key("atom", s, c.name, _cards(top)),
                "atom",
                top,
                (c.name,),
            )
        )
        for st in c.sites:
            site_posts_ = by_site.get((c.name, st.name), [])
            sub = _key(*(f"{f.name}:{f.count}" for f in st.feeds))
            shown = tuple(told.one_per_story(site_posts_)[:n])
            views = told.views(shown)
            sscope = (c.name, st.name)
            add(
                Page(
                    st.path,
                    _key("site", s, sub, _story_cards(shown, views)),
                    "site",
                    shown,
                    sscope,
                    total=st.count,
                    stories=views,
                )
            )
            top = tuple(site_posts_[:ATOM_ENTRIES])
            add(
                Page(
                    site_dir(c.name, st.name) + "atom.xml",
                    _key("atom", s, sscope, _cards(top)),
                    "atom",
                    top,
                    sscope,
                )
            )
            for f in st.feeds:
                fposts = tuple(by_feed.get(f.key, []))
                fscope = (c.name, st.name, f.name)
                views = told.views(fposts)
                add(
                    Page(
                        f.path,
                        _key("feed", s, fscope, _story_cards(fposts, views)),
                        "feed",
                        fposts,
                        fscope,
                        total=f.count,
                        stories=views,
                    )
                )
                top = fposts[:ATOM_ENTRIES]
                add(
                    Page(
                        feed_dir(*fscope) + "atom.xml",
                        _key("atom", s, fscope, _cards(top)),
                        "atom",
                        top,
                        fscope,
                    )
                )

    month_list = _key(*(m.path for m in months))
    add(
        Page(
            "archive/index.html",
            _key("archive", s, *(f"{m.path}:{m.count}" for m in months)),
            "archive",
        )
    )
    for i, m in enumerate(months):
        mposts = tuple(by_month[(m.year, m.month)])
        add(
            Page(
                m.path,
                _key("month", s, month_list, m.path, _cards(mposts)),
                "month",
                mposts,
                newer=months[i - 1] if i > 0 else None,
                older=months[i + 1] if i + 1 < len(months) else None,
                month=m,
            )
        )

    tag_nodes, by_tag, tag_keys = _tags(posts)
    tag_paths = {t.key: t.path for t in tag_nodes}
    add(
        Page(
            TAGS_PATH,
            _key("tags", s, *(f"{t.key}|{t.name}|{t.count}" for t in tag_nodes)),
            "tags",
        )
    )
    for t in tag_nodes:
        tposts = tuple(by_tag[t.key][:TAG_POSTS])
        views = told.views(tposts)
        add(
            Page(
                t.path,
                _key("tag", s, t.key, t.name, t.count, _story_cards(tposts, views)),
                "tag",
                tposts,
                total=t.count,
                stories=views,
                tag=t,
            )
        )

    for feed_posts in by_feed.values():
        for i, p in enumerate(feed_posts):
            newer = feed_posts[i - 1] if i > 0 else None
            older = feed_posts[i + 1] if i + 1 < len(feed_posts) else None
            key = _key(
                "post",
                s,
                _card(p),
                p.title,
                p.link,
                p.author,
                p.cover,
                _neighbour(newer),
                _neighbour(older),
            )
            view = told.view(p)
            if view is not None:  # a post in no story keeps the key it had before stories
                key = _key(key, _others_key(view))
            links: tuple[TagLink, ...] = ()
            if p.tags:  # (likewise a post without tags)
                links = tuple(TagLink(n, tag_paths.get(tag_keys[n])) for n in p.tags)
                key = _key(key, "tags", *(f"{t.name}|{t.path}" for t in links))
            add(
                Page(
                    p.path,
                    key,
                    "post",
                    (p,),
                    newer=newer,
                    older=older,
                    stories={p.uid: view} if view is not None else {},
                    tags=links,
                )
            )

    html_paths = [pg.path for pg in pages if pg.kind not in ("atom", "opml")]
    add(Page("sitemap.xml", _key("sitemap", s, *html_paths), "sitemap"))
    for path, digest in (static or {}).items():
        add(Page(path, _key("asset", digest), "asset"))

    paths = {pg.path for pg in pages}
    render = tuple(pg for pg in pages if manifest.get(pg.path) != pg.key)
    # The search index's files are the search step's own (``_search``).
    delete = tuple(
        sorted(
            p
            for p in manifest
            if p not in paths and not p.startswith(INDEX_DIR) and not p.startswith(IMAGES_DIR)
        )
    )
    return PagePlan(tuple(pages), render, delete, tree, months, tag_nodes)


def _tags(
    posts: Sequence[SitePost],
) -> tuple[tuple[TagNode, ...], dict[str, list[SitePost]], dict[str, str]]:
    """The tags with a page, the posts of every tag (newest first) by tag key, and the key
    of every tag name.

    Names that differ only in case or width are one tag (:func:`tag_key`), shown by its
    most used spelling (ties: the smallest string). At most :data:`MAX_TAG_PAGES` tags get
    a page: those with the most posts, then the newest post, then by key (a tag that falls
    out has few posts, so few post pages change with it).
    """
    by_key: dict[str, list[SitePost]] = {}
    spellings: dict[str, dict[str, int]] = {}
    keys: dict[str, str] = {}
    for p in posts:
        for name in p.tags:
            k = keys.get(name)
            if k is None:
                k = keys[name] = tag_key(name)
            by_key.setdefault(k, []).append(p)
            counts = spellings.setdefault(k, {})
            counts[name] = counts.get(name, 0) + 1
    if not by_key:
        return (), by_key, keys
    ranked = sorted(by_key)
    ranked.sort(key=lambda k: (len(by_key[k]), by_key[k][0].time), reverse=True)
    nodes = []
    for k in ranked[:MAX_TAG_PAGES]:
        counts = spellings[k]
        name = min(counts, key=lambda n: (-counts[n], n))
        nodes.append(TagNode(k, name, tag_dir(k) + "index.html", len(by_key[k])))
    return tuple(nodes), by_key, keys


def _boards(
    tree: Sequence[CategoryNode],
    by_site: Mapping[tuple[str, str], list[SitePost]],
    told: SiteStories,
) -> tuple[Board, ...]:
    """One board per site with posts, in the tree's order: its newest titles, one per story."""
    boards = []
    for c in tree:
        for st in c.sites:
            listed = by_site.get((c.name, st.name), [])
            if listed:
                shown = tuple(told.one_per_story(listed[: BOARD_POSTS * 4])[:BOARD_POSTS])
                boards.append(Board(c.name, st.name, st.path, st.count, shown))
    return tuple(boards)


def _neighbour(p: SitePost | None) -> str:
    return "" if p is None else f"{p.uid}|{p.short_title}"


def _tree(
    feeds: Sequence[FeedRef],
    by_feed: Mapping[str, list[SitePost]],
    by_site: Mapping[tuple[str, str], list[SitePost]],
    by_cat: Mapping[str, list[SitePost]],
) -> tuple[CategoryNode, ...]:
    cats: dict[str, dict[str, list[FeedRef]]] = {}
    for f in feeds:
        cats.setdefault(f.category, {}).setdefault(f.site, []).append(f)
    return tuple(
        CategoryNode(
            cat,
            category_dir(cat) + "index.html",
            len(by_cat.get(cat, ())),
            tuple(
                SiteNode(
                    site,
                    site_dir(cat, site) + "index.html",
                    len(by_site.get((cat, site), ())),
                    tuple(
                        FeedNode(
                            f.name,
                            feed_dir(cat, site, f.name) + "index.html",
                            len(by_feed.get(f.key, ())),
                            f.key,
                            f.xml_url,
                        )
                        for f in fs
                    ),
                )
                for site, fs in sites.items()
            ),
        )
        for cat, sites in cats.items()
    )
