"""Default-profile posts load in the real Hexo 8 exactly as written.

One feedsite run (``site.profile: default``, ``site.timezone: Asia/Shanghai``) writes a
post for every entry of the realworld corpus (200 feeds), the 12 rsshub-zh feeds and the
hostile feeds of ``tests/data/hostile`` (see its README). Hexo 8 with its default Markdown
renderer (``tests/hexo``; ``_config.yml`` ``timezone: Asia/Shanghai``) then loads the
site twice, with the build machine in ``TZ=UTC`` and in ``TZ=Asia/Shanghai``. For every
post:

* every written file is a Hexo post and Hexo logged no warning or error (Hexo skips a
  post whose front matter it cannot read and still exits 0, so the posts it loaded are
  compared with the files written);
* the title and the instant equal **feedparser's** reading of the feed entry (HTML-typed
  titles reduced to their text; the date is ``published`` else ``updated``, seconds only;
  an entry without one, or with one Hexo cannot read (``HEXO_YEARS``), gets the run's
  pinned ``now``), not feedsite's;
* the categories nest ``category › site › feed``;
* the text of Hexo's HTML equals the text of the written ``<div>`` body (whitespace runs
  collapsed), and every ``<pre>`` keeps its text exactly.

Where the reference cannot be feedparser as is, ``FEED_REFERENCES`` and ``ALLOWED`` say
so entry by entry, each with its reason; everything else must match feedparser.

Entries are matched to posts by document order: feedparser and feedsite must find the
same number of entries in a document, and the post path is
``post_relpath(category, site, feed, item_id(feedsite's item))``; of entries sharing an id,
only the first is posted.

Realworld feeds are configured with ``timezone: UTC`` (the zone for dates without an
offset) because that is how feedparser reads such dates; ``hostile/dates_local.xml`` keeps
the site zone and checks the other reading. Posts are still *written* in Asia/Shanghai.
"""

from __future__ import annotations

import calendar
import json
import mimetypes
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest
import yaml
from lxml import etree

from feedsite._clean import clean_html
from feedsite._parse import MAX_TITLE_CHARS, parse_feed
from feedsite._plan import FUTURE_TOLERANCE, item_id
from feedsite._run import run
from feedsite._targets._paths import post_relpath
from feedsite._targets.hexo._default import hexo_tags
from feedsite.config import DEFAULT_IFRAME_HOSTS, load_config
from tests.helpers.hexo import HexoLoad, HexoPost, load_posts, make_site, require_hexo

pytestmark = pytest.mark.hexo

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"

SITE_TZ = "Asia/Shanghai"
#: The build machine's zone (the node process's TZ); Hexo's own ``timezone`` stays SITE_TZ.
PROCESS_TZS = ("UTC", "Asia/Shanghai")
#: The run's clock: the date of every entry that has none, and of every entry dated more
#: than ``FUTURE_TOLERANCE`` after it (issue #10 row 15: far-future dates are clamped to the
#: time first seen). Later than every real date in the corpora, so those are kept as dated.
PINNED_NOW = datetime(2030, 2, 3, 4, 5, 6, tzinfo=UTC)
#: Hexo reads ``date:`` with js-yaml, which builds it with ``Date.UTC``: years 0-99 become
#: 1900-1999. feedsite cannot write a date whose year in the site's zone is outside these
#: bounds (Python's datetime ends at 9999), so such an entry must get the run's time, as an
#: entry without a date does. Hugo writes 0001-01-01T00:00:00Z for undated pages.
HEXO_YEARS = range(100, 10000)
#: The config sets no clean.iframe_hosts.
IFRAME_HOSTS = DEFAULT_IFRAME_HOSTS
#: How many failures a report lists in full.
REPORT_LIMIT = 40


# -- references: how the expected title and instant of each entry are read ---------------


@dataclass(frozen=True, slots=True)
class RefEntry:
    """One entry as the reference reader (feedparser, unless stated) reads it."""

    #: How the entry is named in reports: its id, else its link, else its title.
    ident: str
    title: str
    #: Aware UTC, whole seconds; None when the reference finds no date.
    date: datetime | None


Reference = Callable[[bytes], list[RefEntry]]


def feedparser_entries(data: bytes, *, headers: dict[str, str] | None = None) -> list[RefEntry]:
    """feedparser's reading of a document (no sanitising, no URL resolving)."""
    parsed = feedparser.parse(
        data,
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers=headers or {},
    )
    return [_fp_entry(e) for e in parsed.entries]


def _fp_entry(entry: Any) -> RefEntry:
    title = entry.get("title", "")
    kind = (entry.get("title_detail") or {}).get("type")
    if kind in ("text/html", "application/xhtml+xml"):
        title = html_to_text(title)
    # dict.get: FeedParserDict.get("updated_parsed") falls back to published_parsed, with a
    # DeprecationWarning.
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    date = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
    ident = entry.get("id") or entry.get("link") or title
    return RefEntry(ident, title, date)


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment: tags dropped, references decoded."""
    if not markup.strip():
        return markup.strip()
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    return str(root.text_content()).strip()


def _undeclared_rss_prefix(data: bytes) -> list[RefEntry]:
    return feedparser_entries(re.sub(rb"(</?|\s)rss:", rb"\1", data))


def _json_feed(data: bytes) -> list[RefEntry]:
    entries = []
    for item in json.loads(data)["items"]:
        stamp = item.get("date_published") or item.get("date_modified")
        date = (
            datetime.fromisoformat(stamp).astimezone(UTC).replace(microsecond=0) if stamp else None
        )
        title = (item.get("title") or "").strip()
        entries.append(RefEntry(item.get("id") or item.get("url") or title, title, date))
    return entries


def _gb18030(data: bytes) -> list[RefEntry]:
    return feedparser_entries(data, headers={"content-type": "application/xml; charset=gb18030"})


def _offsetless_in(zone: str) -> Reference:
    """feedparser's reading, with its dates (all without an offset) read in ``zone``."""

    def read(data: bytes) -> list[RefEntry]:
        out = []
        for e in feedparser_entries(data):
            date = e.date
            if date is not None:
                date = date.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
            out.append(RefEntry(e.ident, e.title, date))
        return out

    return read


#: Feeds whose reference is not plain feedparser, keyed by file name, with the reason.
FEED_REFERENCES: dict[str, tuple[Reference, str]] = {
    "7ef13a42fa7e177a": (
        _undeclared_rss_prefix,
        "not well-formed: every element has an undeclared `rss:` prefix, and feedparser's"
        " loose parser then finds no entries; reference: feedparser on the document with the"
        " prefix removed",
    ),
    "d4b7ab74da763119": (
        _json_feed,
        "a JSON Feed, which feedparser 6 cannot read; reference: the JSON itself (title,"
        " date_published else date_modified)",
    ),
    "enc_gbk_undeclared.xml": (
        _gb18030,
        "GBK without any declaration: feedparser falls back to windows-1252 (mojibake);"
        " feedsite reads GB18030 by design; reference: feedparser told charset=gb18030",
    ),
    "dates_local.xml": (
        _offsetless_in(SITE_TZ),
        "every date lacks an offset and this feed reads them in site.timezone (by design,"
        " docs/configuration.md), where feedparser assumes UTC; reference: feedparser's wall"
        " clock read in Asia/Shanghai",
    ),
}


@dataclass(frozen=True, slots=True)
class Allowed:
    """A deliberate difference from the reference for one entry: the value to expect."""

    reason: str
    title: str | None = None
    date: datetime | None = None


def _shanghai(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A wall-clock time in SITE_TZ, as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(SITE_TZ)).astimezone(UTC)


#: Entries where feedsite deliberately reads the feed differently from the reference,
#: keyed by (file name, entry ident). Keep this short and give every entry its reason.
ALLOWED: dict[tuple[str, str], Allowed] = {
    ("0346e81559b251eb", "https://blog.poisson.chat/posts/2024-10-05-unicode-shenanigans.html"): (
        Allowed(
            "feedparser 'repairs' UTF-8 text that encodes to Latin-1 and decodes as UTF-8;"
            " the document holds the characters Ã© and feedsite keeps them",
            title="Unicode shenanigans: Martine Ã©crit en UTF-8",
        )
    ),
    (
        "3d13901a267083a8",
        "http://aivarsk.com/2023/11/04/re-double-entry-accounting-at-scale",
    ): Allowed(
        "`&colon;` is an HTML5 named reference; feedparser knows only HTML 4 names, so it"
        " keeps the title as plain text, where feedsite decodes it",
        title="Re: Double-entry accounting at scale",
    ),
    ("atom_titles.xml", "urn:hostile:a06"): Allowed(
        "an HTML-typed title's <script> is code, not text: feedsite leaves its content out of"
        " the plain-text title (issue #17, docs/parsing.md); feedparser keeps it",
        title="after script",
    ),
    ("dates.xml", "d11"): Allowed(
        "feedparser has no date for RFC 822 without a zone; feedsite reads it in the feed's"
        " zone (UTC here)",
        date=datetime(2003, 6, 10, 12, 0, tzinfo=UTC),
    ),
    ("dates_local.xml", "l01"): Allowed(
        "RFC 822 without a zone (feedparser: no date), read in site.timezone",
        date=_shanghai(2003, 6, 10, 12, 0),
    ),
    ("dates_local.xml", "l04"): Allowed(
        "RFC 822 without a zone (feedparser: no date), read in site.timezone during"
        " Shanghai's 1986 daylight saving time (+09:00)",
        date=_shanghai(1986, 6, 15, 12, 0),
    ),
    ("dates_local.xml", "l05"): Allowed(
        "RFC 822 without a zone (feedparser: no date), read in site.timezone",
        date=_shanghai(2008, 2, 29, 23, 30),
    ),
}


# -- the feeds written ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One feed of the test's tree."""

    category: str
    site: str
    feed: str
    file: Path
    #: The feed's ``timezone`` option (zone of dates without an offset); None: site.timezone.
    timezone: str | None = None

    @property
    def reference(self) -> Reference:
        """How this feed's expected titles and dates are read (feedparser unless stated)."""
        ref = FEED_REFERENCES.get(self.file.name)
        return ref[0] if ref else feedparser_entries

    @property
    def label(self) -> str:
        """The feed file, for reports: ``<folder>/<file name>``."""
        return f"{self.file.parent.name}/{self.file.name}"


#: Hostile feeds: site → feed → (file, the feed's timezone option).
HOSTILE_TREE: dict[str, dict[str, tuple[str, str | None]]] = {
    "titles": {"rss": ("titles.xml", None), "atom": ("atom_titles.xml", None)},
    "bodies": {"rss": ("bodies.xml", None)},
    "tags": {"rss": ("tags.xml", None)},
    "dates": {
        "rss": ("dates.xml", "UTC"),
        "atom": ("dates_atom.xml", "UTC"),
        "offsetless": ("dates_local.xml", None),
    },
    "encodings": {
        "gbk-undeclared": ("enc_gbk_undeclared.xml", None),
        "gb18030-as-gb2312": ("enc_gb18030_declared_gb2312.xml", None),
        "utf8-bom": ("enc_utf8_bom.xml", None),
        "utf16": ("enc_utf16.xml", None),
    },
}
#: Category, site and feed names that a YAML reader, a file system or Hexo could misread.
#: Each is a feed of ``names.xml`` (one entry).
HOSTILE_NAMES: tuple[tuple[str, str, str], ...] = (
    ("yes", "123", "null"),
    ("hostile", "a: b", "#x [y] {z}"),
    ("hostile", "names", "~"),
    ("hostile", "names", ".dot"),
    ("hostile", "names", "emoji 🎉"),
    ("hostile", "names", "a/b\\c"),
    ("hostile", "names", "NFD U\u0308"),
    ("hostile", "names", "x" * 200),
    ("hostile", "names", "_underscore"),
    ("hostile", "names", "CON"),
    ("hostile", "names", "<angle>"),
    ("_hidden", "site", "feed"),
)


def _require_shared() -> None:
    if not (CORPORA / "realworld" / "feeds").is_dir() or not (CORPORA / "rsshub-zh").is_dir():
        pytest.fail(f"../shared/corpora is missing ({CORPORA}): this test needs the corpora")


def sources() -> list[Source]:
    """Every feed of the test's tree, in config order."""
    _require_shared()
    out = [
        Source("realworld", "corpus", p.name, p, timezone="UTC")
        for p in sorted((CORPORA / "realworld" / "feeds").iterdir())
    ]
    manifest = json.loads((CORPORA / "rsshub-zh" / "MANIFEST.json").read_text(encoding="utf-8"))
    out += [
        Source(m["category"], m["site"], m["route"], CORPORA / "rsshub-zh" / m["file"])
        for m in manifest
    ]
    for site, feeds in HOSTILE_TREE.items():
        out += [Source("hostile", site, feed, HOSTILE / f, tz) for feed, (f, tz) in feeds.items()]
    out += [Source(c, s, f, HOSTILE / "names.xml") for c, s, f in HOSTILE_NAMES]
    return out


def write_config(folder: Path, feeds: list[Source], site_tz: str) -> Path:
    """``feedsite.yaml`` for ``feeds``: default profile, every entry taken, posts in ``site_tz``."""
    tree: dict[str, Any] = {}
    for s in feeds:
        spec: dict[str, Any] = {"path": str(s.file)}
        if s.timezone:
            spec["timezone"] = s.timezone
        tree.setdefault(s.category, {}).setdefault(s.site, {})[s.feed] = spec
    config = {
        "site": {"hexo_root": str(folder / "blog"), "profile": "default", "timezone": site_tz},
        "defaults": {"items_per_feed": 10000},
        "images": {"mode": "hotlink"},  # the corpora's images are on the internet
        "feeds": tree,
    }
    path = folder / "feedsite.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# -- what each post must be ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expected:
    """What Hexo must show for one post."""

    path: str
    #: The entry, for reports: feed file, entry number, ident.
    where: str
    title: str
    date: datetime
    categories: tuple[str, str, str]
    #: The clean stage's HTML for the body; None when the entry has no body.
    cleaned: str | None
    #: Why ``date`` is not the reference's date, if it is not.
    date_note: str = ""
    #: The ``tags:`` names (issue #17): the item's tags as feedsite read them (the
    #: differential test compares that reading with feedparser's), through ``hexo_tags``.
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class Site:
    """The written site and what its posts must be."""

    blog: Path
    expected: dict[str, Expected]
    #: Written post path (relative to source/_posts) → file text.
    written: dict[str, str]
    #: Problems found before Hexo ran (unequal entry counts, unknown allow-list keys...).
    problems: list[str]
    seconds: float


def expected_posts(
    feeds: list[Source], site_tz: str = SITE_TZ
) -> tuple[dict[str, Expected], list[str]]:
    """Map every posted entry to its post path and expected title, instant and categories."""
    expected: dict[str, Expected] = {}
    problems: list[str] = []
    used: set[tuple[str, str]] = set()
    for src in feeds:
        data = src.file.read_bytes()
        zone = ZoneInfo(src.timezone or site_tz)
        mine = parse_feed(
            data,
            url=src.file.as_uri(),
            content_type=mimetypes.guess_type(src.file.name)[0],
            default_tz=zone,
        ).items
        ref = src.reference(data)
        if len(ref) != len(mine):
            problems.append(
                f"{src.label}: the reference reads {len(ref)} entries, feedsite {len(mine)}"
            )
            continue
        seen: set[str] = set()
        for number, (r, item) in enumerate(zip(ref, mine, strict=True), 1):
            iid = item_id(item)
            if iid in seen:
                continue  # the first entry with an id is the one posted
            seen.add(iid)
            title, date, note = r.title, r.date or PINNED_NOW, ""
            allowed = ALLOWED.get((src.file.name, r.ident))
            if allowed is not None:
                used.add((src.file.name, r.ident))
                title = allowed.title if allowed.title is not None else title
                date = allowed.date if allowed.date is not None else date
            if date > PINNED_NOW + FUTURE_TOLERANCE:
                note = f"{date.isoformat()} is in the future: dated when first seen"
                date = PINNED_NOW
            if len(title) > MAX_TITLE_CHARS:  # issue #10 row 13: cut at parse time
                title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
            if not hexo_can_show(date, site_tz):
                note = f"{date.isoformat()} is outside the years Hexo can read in {site_tz}"
                date = PINNED_NOW
            path = post_relpath(src.category, src.site, src.feed, iid)
            body = item.content_html or item.summary_html
            cleaned = (
                clean_html(body, base_url=item.base_url or item.link, iframe_hosts=IFRAME_HOSTS)
                if body
                else None
            )
            expected[path] = Expected(
                path,
                f"{src.category} › {src.site} › {src.feed[:40]}: {src.label} entry {number}"
                f" ({r.ident[:80]})",
                title,
                date,
                (src.category, src.site, src.feed),
                cleaned or None,
                note,
                tuple(hexo_tags(item.tags)),
            )
    names = {s.file.name for s in feeds}
    problems += [
        f"ALLOWED names an entry that no feed has: {key}"
        for key in ALLOWED
        if key not in used and key[0] in names
    ]
    return expected, problems


def hexo_can_show(instant: datetime, zone: str) -> bool:
    """Whether ``instant`` written as wall-clock time in ``zone`` reads back in Hexo."""
    try:
        return instant.astimezone(ZoneInfo(zone)).year in HEXO_YEARS
    except OverflowError:
        return False


def written_posts(blog: Path) -> dict[str, str]:
    """Every ``.md`` file under ``source/_posts`` (path relative to it → text)."""
    posts = blog / "source" / "_posts"
    return {
        p.relative_to(posts).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(posts.rglob("*.md"))
    }


def build_site(folder: Path, feeds: list[Source], site_tz: str = SITE_TZ) -> Site:
    """Run feedsite over ``feeds`` into ``folder/blog`` and make that a Hexo site.

    Args:
        folder: an empty folder for the config, the state and the blog.
        feeds: the feeds to write.
        site_tz: feedsite's ``site.timezone`` and Hexo's ``timezone``.

    Returns:
        The written site with what each post must be.
    """
    require_hexo()
    started = time.monotonic()
    result = run(load_config(write_config(folder, feeds, site_tz)), now=PINNED_NOW)
    seconds = time.monotonic() - started
    blog = folder / "blog"
    make_site(blog, timezone=site_tz)
    expected, problems = expected_posts(feeds, site_tz)
    problems += [
        f"feed {r.label} was not read: {r.status} {r.error or ''}"
        for r in result.decision.reports
        if r.status != "ok"
    ]
    return Site(blog, expected, written_posts(blog), problems, seconds)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The one feedsite run of this module (every corpus feed and the hostile set)."""
    return build_site(tmp_path_factory.mktemp("hexo-exact"), sources())


@pytest.fixture(scope="module", params=PROCESS_TZS)
def hexo(request: pytest.FixtureRequest, site: Site) -> HexoLoad:
    """The site as Hexo loaded it, with the node process in one of PROCESS_TZS."""
    loaded = load_posts(site.blog, tz=request.param)
    print(
        f"\nHexo {loaded.version} TZ={loaded.tz}: {len(loaded.posts)} posts in"
        f" {loaded.seconds:.1f} s, peak RSS {loaded.max_rss_kb / 1024:.0f} MiB"
        f" (feedsite run: {site.seconds:.1f} s)"
    )
    return loaded


# -- reports -----------------------------------------------------------------------------------


class Report:
    """Collects every mismatch, then fails once with all of them."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []
        self.wheres: set[str] = set()

    def add(self, where: str, message: str) -> None:
        """Record one mismatch of the post (or other thing) ``where``."""
        self.lines.append(f"- {where}\n    {message}")
        self.wheres.add(where)

    def check(self, total: int) -> None:
        """Fail with every recorded mismatch, if any; ``total`` is how many were checked."""
        if not self.lines:
            return
        shown = self.lines[:REPORT_LIMIT]
        more = len(self.lines) - len(shown)
        tail = f"\n… and {more} more" if more > 0 else ""
        pytest.fail(
            f"{self.title}: {len(self.wheres)} of {total} differ\n" + "\n".join(shown) + tail,
            pytrace=False,
        )


def _short(value: object, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _paired(site: Site, hexo: HexoLoad) -> Iterator[tuple[Expected, HexoPost]]:
    for path, exp in site.expected.items():
        post = hexo.posts.get(path)
        if post is not None:
            yield exp, post


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_feedsite_posted_every_entry(site: Site) -> None:
    """Every feed was read, references and feedsite agree on the entries, one file each."""
    report = Report("feedsite's run does not match the corpus")
    for problem in site.problems:
        report.add("run", problem)
    for path in sorted(set(site.expected) - set(site.written)):
        report.add(site.expected[path].where, f"no post written at {path}")
    for path in sorted(set(site.written) - set(site.expected)):
        report.add(path, "written, but no entry of the corpus maps to it")
    report.check(len(site.expected))
    assert len(site.written) > 6500


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_written_body_keeps_the_cleaned_text(site: Site) -> None:
    """The written ``<div>`` body reads as the clean stage's HTML: same text, same ``<pre>``.

    Hexo can only keep what was written; this checks that making the body safe for Hexo
    (character references, blank lines dropped) did not change what a reader sees.
    """
    report = Report("written bodies against the clean stage's HTML")
    checked = 0
    for path, exp in site.expected.items():
        text = site.written.get(path)
        if text is None or exp.cleaned is None:
            continue
        checked += 1
        try:
            want, got = page_text(exp.cleaned), page_text(written_body(text))
        except ValueError as e:
            report.add(exp.where, f"cannot read: {e}")
            continue
        if got.text != want.text:
            report.add(exp.where, _text_diff(want.text, got.text, "cleaned", "written"))
        if got.pre != want.pre:
            report.add(
                exp.where, f"<pre> texts: written {_short(got.pre)}\n    cleaned {_short(want.pre)}"
            )
    report.check(checked)


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_every_written_file_is_a_hexo_post(site: Site, hexo: HexoLoad) -> None:
    """Hexo loads exactly the written files, as published posts, and logs nothing."""
    report = Report(f"Hexo (TZ={hexo.tz}) did not load the site as written")
    for error in hexo.errors:
        report.add("Hexo log", error[:1500])
    for path in sorted(set(site.written) - set(hexo.posts)):
        exp = site.expected.get(path)
        report.add(exp.where if exp else path, f"written but not a Hexo post: {path}")
    for path in sorted(set(hexo.posts) - set(site.written)):
        report.add(path, "a Hexo post that feedsite did not write")
    for path, post in hexo.posts.items():
        if not post.published:
            report.add(path, "Hexo did not publish it")
    report.check(len(site.written))


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_titles_equal_feedparser(site: Site, hexo: HexoLoad) -> None:
    """Hexo's title is feedparser's reading of the entry's title."""
    report = Report(f"titles (TZ={hexo.tz})")
    for exp, post in _paired(site, hexo):
        if post.title != exp.title:
            report.add(exp.where, f"Hexo {_short(post.title)}\n    want {_short(exp.title)}")
    report.check(len(site.expected))


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_dates_equal_feedparser(site: Site, hexo: HexoLoad) -> None:
    """Hexo's instant is feedparser's published/updated (seconds), else the run's time."""
    report = Report(f"dates (TZ={hexo.tz}, Hexo timezone {SITE_TZ})")
    for exp, post in _paired(site, hexo):
        if post.date != exp.date:
            got = post.date.isoformat() if post.date else None
            off = f" (off by {post.date - exp.date})" if post.date else ""
            note = f"\n    ({exp.date_note}: the run's time)" if exp.date_note else ""
            report.add(exp.where, f"Hexo {got}, want {exp.date.isoformat()}{off}{note}")
    report.check(len(site.expected))


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_categories_nest_category_site_feed(site: Site, hexo: HexoLoad) -> None:
    """Each post is in ``category``, ``category › site`` and ``category › site › feed``."""
    report = Report(f"categories (TZ={hexo.tz})")
    for exp, post in _paired(site, hexo):
        c, s, f = exp.categories
        want = [(c,), (c, s), (c, s, f)]
        got = sorted(post.categories, key=len)
        if got != want:
            report.add(exp.where, f"Hexo {got}\n    want {want}")
    report.check(len(site.expected))


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_tags_are_the_feeds(site: Site, hexo: HexoLoad) -> None:
    """Each post has its item's tags, as written (issue #17): Hexo (and Volantis after it)
    lists exactly the names feedsite wrote (in its own order: Hexo keeps a post's tags by
    their ids, not as the front matter lists them)."""
    report = Report(f"tags (TZ={hexo.tz})")
    tagged = 0
    for exp, post in _paired(site, hexo):
        tagged += bool(exp.tags)
        if sorted(post.tags) != sorted(exp.tags):
            report.add(exp.where, f"Hexo {list(post.tags)}\n    want {list(exp.tags)}")
    report.check(len(site.expected))
    assert tagged >= 500  # the corpus has tags: ~100 realworld feeds, the rsshub-zh ones


@pytest.mark.slow  # the corpus run and a Hexo load per zone: ~25 s each
def test_rendered_text_equals_written_body(site: Site, hexo: HexoLoad) -> None:
    """Hexo's HTML has the written body's text, and every ``<pre>`` keeps its text exactly."""
    report = Report(f"rendered text (TZ={hexo.tz})")
    for path, post in hexo.posts.items():
        text = site.written.get(path)
        if text is None:
            continue
        where = site.expected[path].where if path in site.expected else path
        try:
            body = written_body(text)
            want, got = page_text(body), page_text(post.content)
        except ValueError as e:
            report.add(where, f"cannot read: {e}")
            continue
        if got.text != want.text:
            report.add(where, _text_diff(want.text, got.text))
        if got.pre != want.pre:
            report.add(where, f"<pre> texts: Hexo {_short(got.pre)}\n    want {_short(want.pre)}")
    report.check(len(site.written))


@pytest.mark.parametrize("site_tz", [SITE_TZ, "America/New_York"])
def test_extreme_dates(tmp_path: Path, site_tz: str) -> None:
    """Dates at the edges of what Python, YAML and JS can hold neither break nor shift posts.

    ``hostile/dates_extreme.xml`` has 9999-12-31T23:59:59Z (year 10000 east of UTC),
    0001-01-01T00:00Z (Hugo's zero date: year 0 west of UTC; JS maps years 0-99 to 19xx)
    and 1900-01-01 (local mean time offsets such as Shanghai's +08:05:43). The run must
    write every entry; Hexo (``timezone`` = ``site_tz``) must load each with feedparser's
    instant, or with the run's time where that instant falls outside ``HEXO_YEARS`` in
    ``site_tz``.
    """
    feed = Source("hostile", "dates", "extreme", HOSTILE / "dates_extreme.xml")
    try:
        built = build_site(tmp_path, [feed], site_tz)
    except Exception as e:  # the run must not die on one entry's date
        pytest.fail(
            f"feedsite's run (site.timezone {site_tz}) failed on {feed.label}:"
            f" {type(e).__name__}: {e}"
        )
    report = Report(f"extreme dates (site.timezone {site_tz})")
    for problem in built.problems:
        report.add("run", problem)
    for tz in PROCESS_TZS:
        loaded = load_posts(built.blog, tz=tz)
        for error in loaded.errors:
            report.add(f"Hexo log TZ={tz}", error[:1500])
        for path, exp in built.expected.items():
            post = loaded.posts.get(path)
            if post is None:
                report.add(exp.where, f"TZ={tz}: not a Hexo post ({path})")
            elif post.date != exp.date:
                got = post.date.isoformat() if post.date else None
                note = f" ({exp.date_note}: the run's time)" if exp.date_note else ""
                report.add(exp.where, f"TZ={tz}: Hexo {got}, want {exp.date.isoformat()}{note}")
    report.check(len(built.expected) * len(PROCESS_TZS))


# -- text of HTML ------------------------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r\f]+")  # HTML's white space (not NBSP or U+3000)


@dataclass(frozen=True, slots=True)
class PageText:
    """What a reader gets from a piece of HTML."""

    #: The text with runs of HTML white space collapsed to one space.
    text: str
    #: The exact text of every ``<pre>``, in document order.
    pre: list[str]


def page_text(markup: str) -> PageText:
    """The reader's text of ``markup``.

    Raises:
        ValueError: lxml cannot parse it.
    """
    if not markup.strip():
        return PageText("", [])
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError) as e:
        raise ValueError(f"lxml cannot parse the HTML: {e}") from e
    text = _WS.sub(" ", str(root.text_content())).strip()
    return PageText(text, [str(pre.text_content()) for pre in root.iter("pre")])


def written_body(post: str) -> str:
    """The HTML body of a default-profile post: the ``<div>…</div>`` after the front matter.

    Raises:
        ValueError: the file does not have the default profile's shape.
    """
    _head, sep, rest = post.partition("\n---\n\n")
    if not post.startswith("---\n") or not sep:
        raise ValueError("no front matter followed by a blank line")
    if not (rest.startswith("<div>\n") and rest.endswith("\n</div>\n")):
        raise ValueError(f"the body is not one <div>: {_short(rest[:120])}")
    return rest


def _text_diff(want: str, got: str, want_name: str = "written", got_name: str = "Hexo") -> str:
    at = next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), None)
    if at is None:
        at = min(len(want), len(got))
    lo = max(0, at - 60)
    width = max(len(want_name), len(got_name))
    return (
        f"text differs at character {at} ({want_name} {len(want)} chars,"
        f" {got_name} {len(got)}):\n"
        f"    {got_name:<{width}} …{_short(got[lo : at + 80], 200)}\n"
        f"    {want_name:<{width}} …{_short(want[lo : at + 80], 200)}"
    )


def test_offsetless_reference_reads_in_site_zone() -> None:
    """The reference for ``dates_local.xml`` moves feedparser's UTC reading to Asia/Shanghai."""
    data = (HOSTILE / "dates_local.xml").read_bytes()
    by_id = {e.ident: e.date for e in FEED_REFERENCES["dates_local.xml"][0](data)}
    assert by_id["l02"] == datetime(2003, 6, 10, 4, 0, tzinfo=UTC)
    assert by_id["l03"] == datetime(2003, 6, 9, 16, 0, tzinfo=UTC)
    assert _shanghai(1986, 6, 15, 12, 0) == datetime(1986, 6, 15, 3, 0, tzinfo=UTC)
