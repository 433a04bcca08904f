"""Adopting an old-script site: which old post is which item. Pure.

The GitHub Actions script feedsite replaces wrote every item of every feed to
``source/_posts/<category>/<site>/<feed>/<stem>.md``, where ``<stem>`` is the
item's title with ``: / \\ ? * “ ” < > | [ ]`` replaced by ``_`` and newlines,
``#`` and ``.`` dropped (``_legacy.legacy_stem``, the legacy writer's own rule),
and every brace in the file written as ``&#123;``/``&#125;``. ``feedsite adopt``
takes those posts into the state so that runs own them (docs/migration.md).

This module decides, from values only (the posts as read, the feeds as fetched
and parsed, the state, ``now``), what becomes of each old post:

* **matched**: its stem (and, among same-stemmed items, its title and body) is
  that of an item the feed lists now, or the stem is that item's id (a post
  feedsite wrote whose state was lost): the post becomes that item's post;
* **kept**: no current item has its stem: the post becomes the post of an item
  built from its own front matter and body, with a stable synthetic id;
* left alone and reported: posts outside every configured feed's folder,
  posts that cannot be read, posts of a feed that could not be fetched, posts
  whose item feedsite already posts or has tombstoned.

Does not read files, fetch, store or write: ``feedsite._run._adopt`` does.
It is about Hexo posts (their folders, file names and front matter), so it lives
with the Hexo target; it takes item ids and content hashes from ``feedsite._plan``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import yaml

from feedsite._plan import content_hash, item_id
from feedsite._records import DiskState, OwnedFile, StoredItem
from feedsite._targets._paths import post_relpath, safe_component
from feedsite.config import FeedSpec
from feedsite.errors import OldPostError
from feedsite.types import ParsedFeed, ParsedItem, Tag

from ._legacy import legacy_stem, legacy_title

__all__ = [
    "ADOPTED_RENDER_KEY",
    "LEFTOVER_KINDS",
    "AdoptInput",
    "AdoptPlan",
    "Adoption",
    "Leftover",
    "OldPost",
    "classify",
    "feed_folders",
    "parse_old_post",
    "parse_own_post",
    "plan_adoption",
    "synthetic_id",
]

#: Render key recorded for an adopted post: it matches no real key, so the next
#: run renders the post again in the configured profile (reported as updated).
ADOPTED_RENDER_KEY = "adopted"

#: Covers the old script made up (a random picsum image on every run): not the item's.
_RANDOM_COVER = re.compile(r"^https?://picsum\.photos/\d+/\d+\?random=\d+$")
_ITEM_ID = re.compile(r"[0-9a-f]{16}")
_BODY_START = "<div>   \n"
_BODY_END = "  \n</div>"


def synthetic_id(feed_key: str, stem: str) -> str:
    """A stable 16-hex id for an old post no current item matches.

    Derived from the feed and the post's file name, with a basis no feed item id
    uses (those hash ``guid:``/``link:``/``title:``), so it never equals one.
    """
    basis = "adopted:" + feed_key + "\x1f" + stem
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]


# -- reading an old post (pure: text in, value out) ---------------------------------------


@dataclass(frozen=True, slots=True)
class OldPost:
    """One old-script post as read from disk (braces already turned back into ``{}``)."""

    #: Path relative to the posts folder, ``/`` separators.
    path: str
    #: File name without ``.md``.
    stem: str
    #: SHA-256 of the file's bytes (the adopted post is recorded with it).
    sha256: str
    #: Front matter title, outer quotes removed (the old script escaped nothing).
    title: str
    #: ``headimg`` (else ``thumbnail``), None when absent.
    cover: str | None
    author: str | None
    #: ``date`` as written: ``Fri, 07 Jan 2022 15:23:27 GMT`` or ``2021-10-28 14:08:07``.
    date_text: str | None
    #: The body between ``<div>   \\n`` and ``  \\n</div>`` (the item's raw description).
    body: str


def parse_old_post(path: str, text: str, sha256: str) -> OldPost:
    """Read the old script's post format.

    The old front matter is not always valid YAML (a title with both quote kinds,
    unquoted values), so it is read line by line the way the script wrote it.

    Raises:
        OldPostError: the text is not a post of that shape (names ``path``).
    """
    text = _unbrace(text)
    lines = text.split("\n")
    start = 1 if lines and lines[0].strip() == "" else 0
    if len(lines) <= start or lines[start].strip() != "---":
        raise OldPostError(path, "no front matter (the file does not start with ---)")
    try:
        end = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise OldPostError(path, "front matter not closed by ---") from None
    fields: dict[str, str] = {}
    for line in lines[start + 1 : end]:
        key, sep, value = line.partition(":")
        if sep and key and not key.startswith((" ", "\t", "-")):
            fields.setdefault(key.strip(), value.strip())
    if "title" not in fields:
        raise OldPostError(path, "front matter has no title")
    rest = "\n".join(lines[end + 1 :])
    begin, finish = rest.find(_BODY_START), rest.rfind(_BODY_END)
    if begin != -1 and finish >= begin + len(_BODY_START):
        body = rest[begin + len(_BODY_START) : finish]
    else:
        body = rest.strip()
    name = path.rpartition("/")[2]
    return OldPost(
        path=path,
        stem=name[:-3] if name.endswith(".md") else name,
        sha256=sha256,
        title=_unquote(fields["title"]),
        cover=_unquote(fields.get("headimg") or fields.get("thumbnail") or "") or None,
        author=_unquote(fields.get("author", "")) or None,
        date_text=_unquote(fields.get("date", "")) or None,
        body=body,
    )


def parse_own_post(
    text: str, source_key: str, zone: str, placeholder: str
) -> tuple[ParsedItem, datetime] | None:
    """The item a post feedsite wrote in the ``default`` profile stands for, and its time.

    Used when the state that recorded the post was lost: the caller renders the
    item again and takes the post back only if the bytes come out the same.
    None when ``text`` is not of the default profile's shape.

    Args:
        text: the post.
        source_key: the front matter key of the original URL.
        zone: the zone its ``date`` line is written in.
        placeholder: the item's placeholder cover (not kept as an image).
    """
    if not text.startswith("---\n"):
        return None
    head, sep, rest = text[4:].partition("\n---\n")
    if not sep or not rest.startswith("\n<div>\n") or not rest.endswith("\n</div>\n"):
        return None
    fields: dict[str, str] = {}
    tags: list[Tag] = []
    lines = head.split("\n")
    for n, line in enumerate(lines):
        key, colon, value = line.partition(": ")
        if colon and not key.startswith("-"):
            fields.setdefault(key, value)
        elif line == "tags:" and not tags:  # then one "- name" line per tag
            for entry in lines[n + 1 :]:
                name = _scalar(entry[2:]) if entry.startswith("- ") else None
                if name is None:
                    break
                tags.append(Tag(name))
    title, link, cover = (_scalar(fields.get(k)) for k in ("title", source_key, "headimg"))
    try:
        when = datetime.strptime(fields.get("date", ""), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    if title is None:
        return None
    date = when.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    body = rest[len("\n<div>\n") : -len("\n</div>\n")]
    item = ParsedItem(
        guid=None,
        link=link,
        title=title,
        date=date,
        content_html=body or None,
        summary_html=None,
        description_raw=None,
        images=(cover,) if cover and cover != placeholder and not _made_up(cover) else (),
        tags=tuple(tags),
    )
    return item, date


#: A cover feedsite generated (issue #12) or an image it serves itself: not the item's URL.
_LOCAL_COVER = re.compile(r"/(?:covers/[0-9a-f]{16}\.svg|[0-9a-f]{2}/[0-9a-f]{20}(?:-[st])?\.\w+)$")


def _made_up(cover: str) -> bool:
    return not cover.startswith(("http://", "https://")) and bool(_LOCAL_COVER.search(cover))


def _scalar(value: str | None) -> str | None:
    """A double-quoted YAML scalar of the default profile, read back; None if not one."""
    if value is None or not value.startswith('"'):
        return None
    try:
        loaded = yaml.safe_load("k: " + value)
    except yaml.YAMLError:
        return None
    got = loaded.get("k") if isinstance(loaded, dict) else None
    return got if isinstance(got, str) else None


def _unbrace(text: str) -> str:
    return text.replace("&#123;", "{").replace("&#125;", "}")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def post_times(date_text: str | None, zone: str) -> tuple[datetime | None, datetime | None]:
    """(date, first-seen) from an old post's ``date`` line.

    The old script wrote an item's own date in RFC 822 form (``… GMT``), and for
    an item without one the time it wrote the post, ``2021-10-28 14:08:07``, in
    local time: read here in ``zone``, the zone feedsite's legacy profile writes
    first-seen times in, so that re-rendering gives the same line back.
    """
    if not date_text:
        return None, None
    try:
        when = parsedate_to_datetime(date_text)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is not None and when.tzinfo is not None:
        aware = when.astimezone(UTC)
        return aware, aware
    try:
        naive = datetime.strptime(date_text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None, None
    return None, naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


# -- which folder is which feed --------------------------------------------------------------


def feed_folders(feeds: Sequence[FeedSpec]) -> dict[str, FeedSpec]:
    """Folders (relative to the posts folder, NFC) that hold each feed's posts.

    The old script used the names as they were (``#`` dropped from the headings
    it read them from); feedsite makes each name path-safe (``_paths``). Both map
    to the feed; the first feed listed wins a folder two feeds would share.
    """
    out: dict[str, FeedSpec] = {}
    for feed in feeds:
        names = (feed.category, feed.site, feed.name)
        for folder in (
            "/".join(names),
            "/".join(n.replace("#", "").strip() for n in names),
            "/".join(safe_component(n) for n in names),
        ):
            out.setdefault(unicodedata.normalize("NFC", folder), feed)
    return out


LeftoverKind = Literal[
    "unconfigured",
    "unreadable",
    "feed_failed",
    "already_posted",
    "tombstoned",
    "occupied",
    "id_named",
]
#: Every reason adopt leaves an old post alone (docs/migration.md explains each).
LEFTOVER_KINDS: tuple[LeftoverKind, ...] = get_args(LeftoverKind)


@dataclass(frozen=True, slots=True)
class Leftover:
    """An old post adopt leaves where it is, and why."""

    path: str
    kind: LeftoverKind
    message: str
    #: The feed's label, when the post lies in a configured feed's folder.
    feed: str | None = None


def classify(
    paths: Sequence[str], feeds: Sequence[FeedSpec], owned: frozenset[str]
) -> tuple[dict[str, list[str]], list[Leftover]]:
    """Sort the ``.md`` files found into the configured feeds' folders.

    Returns:
        (paths by feed key, sorted; files outside every configured feed's folder).
        Files feedsite already owns (``owned``) are neither.
    """
    folders = feed_folders(feeds)
    by_feed: dict[str, list[str]] = {}
    outside: list[Leftover] = []
    for path in sorted(paths):
        if path in owned:
            continue
        folder = unicodedata.normalize("NFC", path.rpartition("/")[0])
        feed = folders.get(folder)
        if feed is None:
            outside.append(
                Leftover(path, "unconfigured", f"{folder or '.'}/ is no configured feed's folder")
            )
        else:
            by_feed.setdefault(feed.key, []).append(path)
    return by_feed, outside


# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adoption:
    """One old post to take over: its bytes become the post of ``item_id``."""

    feed_key: str
    old_path: str
    #: Where feedsite keeps the item's post (``<category>/<site>/<feed>/<id>.md``).
    new_path: str
    item_id: str
    #: ``matched``: an item the feed lists now; ``kept``: built from the post itself.
    kind: Literal["matched", "kept"]
    item: ParsedItem
    first_seen: datetime
    seq: int
    content_hash: str
    #: SHA-256 of the old file's bytes (moved verbatim).
    sha256: str


@dataclass(frozen=True, slots=True)
class AdoptInput:
    """Everything :func:`plan_adoption` looks at."""

    feeds: Sequence[FeedSpec]
    #: Old posts read, by feed key (``OldPostError`` for a file that could not be read).
    old_posts: Mapping[str, Sequence[OldPost | OldPostError]]
    #: The feed as fetched and parsed now, or the reason it could not be.
    parsed: Mapping[str, ParsedFeed | str]
    stored_items: Mapping[str, Sequence[StoredItem]]
    #: The files feedsite owns in the Hexo target (the ledger), by path.
    stored_posts: Mapping[str, OwnedFile]
    #: Whether each stored post still holds the bytes feedsite recorded.
    disk: Mapping[str, DiskState]
    #: Files that exist in the Hexo posts folder (relative paths).
    existing: frozenset[str]
    #: Zone the old dates without an offset are read in.
    zone: str
    now: datetime


@dataclass(frozen=True, slots=True)
class AdoptPlan:
    """What to adopt, what to leave, and which leftover copies of adopted posts to delete."""

    adoptions: tuple[Adoption, ...] = ()
    leftovers: tuple[Leftover, ...] = ()
    #: Old files whose exact bytes feedsite already owns at the item's path
    #: (a move an interrupted adopt did not finish): (old path, owned path).
    duplicates: tuple[tuple[str, str], ...] = ()
    #: Per feed label: (matched, kept) counts.
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)


def plan_adoption(inp: AdoptInput) -> AdoptPlan:
    """Decide what becomes of each old post. Pure: same input, same plan."""
    adoptions: list[Adoption] = []
    leftovers: list[Leftover] = []
    duplicates: list[tuple[str, str]] = []
    counts: dict[str, tuple[int, int]] = {}
    posts_by_item = {
        (p.feed_key, p.item_id): p for p in inp.stored_posts.values() if p.item_id is not None
    }
    for feed in inp.feeds:
        posts = inp.old_posts.get(feed.key)
        if not posts:
            continue
        readable: list[OldPost] = []
        for post in posts:
            if isinstance(post, OldPostError):
                leftovers.append(Leftover(post.path, "unreadable", post.message, feed.label))
            else:
                readable.append(post)
        got = inp.parsed.get(feed.key, "not fetched")
        if isinstance(got, str):
            leftovers.extend(
                Leftover(p.path, "feed_failed", f"feed could not be read: {got}", feed.label)
                for p in readable
            )
            continue
        stored = {s.item_id: s for s in inp.stored_items.get(feed.key, ())}
        matched = kept = 0
        found, unmatched = _match_feed(feed, readable, got, inp.zone, inp.now)
        leftovers.extend(unmatched)
        for adoption in found:
            owned = posts_by_item.get((feed.key, adoption.item_id))
            s = stored.get(adoption.item_id)
            if owned is not None:
                if (
                    owned.sha256 == adoption.sha256
                    and owned.path != adoption.old_path
                    and inp.disk.get(owned.path) == "ok"
                ):
                    duplicates.append((adoption.old_path, owned.path))
                elif owned.path != adoption.old_path:
                    leftovers.append(
                        Leftover(
                            adoption.old_path,
                            "already_posted",
                            f"item {adoption.item_id} already has the post {owned.path}",
                            feed.label,
                        )
                    )
                continue
            if s is not None and s.status in ("pruned", "removed"):
                leftovers.append(
                    Leftover(
                        adoption.old_path,
                        "tombstoned",
                        f"item {adoption.item_id} was {s.status}: it does not come back",
                        feed.label,
                    )
                )
                continue
            if adoption.new_path in inp.existing and adoption.new_path != adoption.old_path:
                leftovers.append(
                    Leftover(
                        adoption.old_path,
                        "occupied",
                        f"{adoption.new_path} exists and is not feedsite's",
                        feed.label,
                    )
                )
                continue
            if s is not None and s.first_seen < adoption.first_seen:
                # feedsite saw the item before (``seen``): its first-seen time stays.
                adoption = replace(adoption, first_seen=s.first_seen)
            adoptions.append(adoption)
            if adoption.kind == "matched":
                matched += 1
            else:
                kept += 1
        counts[feed.label] = (matched, kept)
    return AdoptPlan(tuple(adoptions), tuple(leftovers), tuple(duplicates), counts)


def _match_feed(
    feed: FeedSpec, posts: Sequence[OldPost], parsed: ParsedFeed, zone: str, now: datetime
) -> tuple[list[Adoption], list[Leftover]]:
    """Pair each old post with a current item, else make it an item of its own."""
    doc: dict[str, tuple[int, ParsedItem]] = {}
    for index, item in enumerate(parsed.items):
        doc.setdefault(item_id(item), (index, item))
    by_stem: dict[str, list[tuple[int, str, ParsedItem]]] = {}
    for iid, (index, item) in doc.items():
        by_stem.setdefault(_name_key(legacy_stem(item.title)), []).append((index, iid, item))

    out: list[Adoption] = []
    left: list[Leftover] = []
    taken: set[str] = set()
    orphans: list[OldPost] = []
    for post in sorted(posts, key=lambda p: p.path):
        pick: tuple[int, str, ParsedItem] | None
        if post.stem in doc and post.stem not in taken:
            # Named by an item id: a post feedsite wrote whose state was lost.
            pick = (doc[post.stem][0], post.stem, doc[post.stem][1])
        else:
            pick = _pick(post, by_stem.get(_name_key(post.stem), []), taken)
        if pick is None:
            orphans.append(post)
            continue
        index, iid, item = pick
        taken.add(iid)
        _, written = post_times(post.date_text, zone)
        out.append(_adoption(feed, post, iid, "matched", item, min(written or now, now), index))
    # Orphans come after the feed's items, newest first, for ties in retention.
    ranked = sorted(orphans, key=lambda p: _orphan_order(p, zone))
    for offset, post in enumerate(ranked):
        if _ITEM_ID.fullmatch(post.stem):
            # feedsite's own naming: a post it released (edited by hand, then pruned)
            # or wrote before its state was lost. Not an old-script post: not taken.
            why = "named by an item id the feed no longer lists: not an old-script post"
            left.append(Leftover(post.path, "id_named", why, feed.label))
            continue
        iid = synthetic_id(feed.key, _name_key(post.stem))
        if iid in taken:
            # Two old files of one feed with the same name (e.g. in the raw and the
            # path-safe folder): the first is adopted, this one waits for the owner.
            why = "another old post of this feed with the same name was adopted"
            left.append(Leftover(post.path, "occupied", why, feed.label))
            continue
        taken.add(iid)
        _, written = post_times(post.date_text, zone)
        item = item_from_post(post, zone)
        first_seen = min(written or now, now)
        out.append(_adoption(feed, post, iid, "kept", item, first_seen, len(doc) + offset))
    return out, left


def _adoption(
    feed: FeedSpec,
    post: OldPost,
    iid: str,
    kind: Literal["matched", "kept"],
    item: ParsedItem,
    first_seen: datetime,
    seq: int,
) -> Adoption:
    path = post_relpath(feed.category, feed.site, feed.name, iid)
    return Adoption(
        feed.key, post.path, path, iid, kind, item, first_seen, seq, content_hash(item), post.sha256
    )


def _name_key(stem: str) -> str:
    """File names compared NFC, whitespace collapsed (feed titles arrive stripped)."""
    return " ".join(unicodedata.normalize("NFC", stem).split())


def _orphan_order(post: OldPost, zone: str) -> tuple[float, str]:
    _, written = post_times(post.date_text, zone)
    return (-(written.timestamp() if written else 0.0), post.path)


def _pick(
    post: OldPost, cands: list[tuple[int, str, ParsedItem]], taken: set[str]
) -> tuple[int, str, ParsedItem] | None:
    """The item an old post was written from, among those with its file name.

    Same-named items overwrote each other's file in the old script, the last in
    the feed winning: prefer the one whose mangled title and then body equal the
    post's, else the last.
    """
    cands = [c for c in cands if c[1] not in taken]
    if len(cands) > 1:
        cands = [c for c in cands if legacy_title(c[2].title) == post.title] or cands
    if len(cands) > 1:
        body = post.body.strip()
        cands = [c for c in cands if _raw_body(c[2]).strip() == body] or cands
    return cands[-1] if cands else None


def _raw_body(item: ParsedItem) -> str:
    return item.description_raw or item.content_html or item.summary_html or ""


def item_from_post(post: OldPost, zone: str) -> ParsedItem:
    """The item an old post stands for when its feed no longer lists it.

    Only what the post holds: its (mangled) title, date, body and cover. The old
    posts carry no link or guid, and a random placeholder cover is not kept.
    """
    date, _ = post_times(post.date_text, zone)
    cover = post.cover if post.cover and not _RANDOM_COVER.match(post.cover) else None
    return ParsedItem(
        guid=None,
        link=None,
        title=post.title,
        date=date,
        content_html=post.body or None,
        summary_html=None,
        description_raw=post.body,
        images=(cover,) if cover else (),
        author=post.author,
    )
