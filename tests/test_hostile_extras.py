"""Hostile tags, enclosures, media and authors (issue #17) through real runs and builds.

Feeds (``tests/data/hostile/extras_rss.xml``, ``extras_atom.xml`` and a JSON Feed written
here) go through ``feedsite._run.run`` (``path:`` feeds, ``default`` profile) and
``build_native``, as a user would run them. What is checked:

* Hexo front matter: one block, read by a strict YAML loader (no duplicate keys, only
  strings), ``tags:`` exactly ``hexo_tags`` of what the parser read, no character a theme
  or Hexo could misread, every post under ``source/_posts``;
* the native site: every file under the output root, every tag page one folder under
  ``t/``, no ``<script>``, no ``on*`` attribute, no URL with a scheme other than
  http(s)/mailto/tel, players only for safe audio/video, tag names shown as exact text;
* every Atom/OPML/sitemap file well-formed (lxml, no recovery), categories and enclosures
  escaped, no feed ``scheme`` or author ``uri`` published.

The last group pins the defects this audit found, each fixed (see each docstring).
No network, no Hexo, no browser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from lxml import etree
from lxml import html as lhtml

from feedsite._parse import parse_feed
from feedsite._plan import item_id
from feedsite._run import run
from feedsite._run._adopt import adopt
from feedsite._run._build import build_native
from feedsite._targets._paths import safe_component
from feedsite._targets._tags import MAX_TAG_CHARS, MAX_TAGS, tag_key
from feedsite._targets.hexo._default import TAG_DROP, hexo_tags
from feedsite._targets.site._model import tag_dir
from feedsite.config import Config, load_config
from feedsite.errors import ParseError

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
BASE = "https://site.example/"
ATOM = "{http://www.w3.org/2005/Atom}"

#: Markers that only ever appear in a value that must never be published: an RSS ``domain``
#: / Atom ``scheme``, an author ``uri``, a ``media:thumbnail`` or an enclosure URL that
#: ``safe_url`` refuses (``javascript:``, ``data:``).
NEVER_PUBLISHED = (
    "alert(11)",  # RSS category domain
    "alert(18)",  # media:thumbnail javascript:
    "alert(21)",  # Atom feed author uri
    "alert(23)",  # Atom category scheme
    "alert(26)",  # Atom entry author uri
    "alert(28)",  # Atom enclosure link javascript:
    "alert(31)",  # RSS enclosure javascript:
    "QUJDRA",  # RSS enclosure data:
    "alert(41)",  # JSON author url javascript:
    "alert(42)",  # JSON attachment url javascript:
    "alert(43)",  # JSON attachment url data:
)

URL_ATTRS = (
    "href",
    "src",
    "poster",
    "action",
    "formaction",
    "cite",
    "data",
    "srcset",
    "background",
)
SAFE_SCHEME = re.compile(r"^(?:https?://|mailto:|tel:)", re.I)
HAS_SCHEME = re.compile(r"^\s*[a-z][a-z0-9+.\-]*:", re.I)
#: C0 controls but tab, LF, CR; DEL; C1 (HTML: "text must not contain control characters").
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def json_feed(items: list[dict[str, object]], *, raw: str | None = None) -> bytes:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "hostile json extras",
        "home_page_url": "https://j.example/",
        "items": items,
    }
    return (raw if raw is not None else json.dumps(doc, ensure_ascii=True)).encode("utf-8")


#: JSON Feed items: control characters, a huge tag, hostile attachments and authors.
JSON_ITEMS: list[dict[str, object]] = [
    {
        "id": "j01",
        "url": "https://j.example/j01",
        "title": "j01 json extras",
        "content_text": "body",
        "date_published": "2026-11-02T11:00:00Z",
        "tags": [
            "nul\u0000x",
            "esc\u001b[31mred",
            "bell\u0007",
            "del\u007f",
            "c1\u0085x",
            "y" * 100_000,
            "\ufeffbom",
            "\ufffe",
            "\u200b\u200f",
            "",
            "   ",
            7,
            None,
        ],
        "authors": [{"name": "<svg onload=alert(40)>", "url": "javascript:alert(41)"}],
        "attachments": [
            {"url": "javascript:alert(42)", "mime_type": "audio/mpeg"},
            {"url": "data:audio/mpeg;base64,alert(43)", "mime_type": "audio/mpeg"},
            {
                "url": "https://j.example/a.mp3",
                "mime_type": "audio/mpeg",
                "title": "\u0007t<b onclick=alert(44)>",
                "size_in_bytes": -1,
                "duration_in_seconds": -5,
            },
            {"url": "https://j.example/page", "mime_type": "text/html", "title": "page"},
            {"url": "https://j.example/big.mp4", "mime_type": "video/mp4", "size_in_bytes": 1e300},
        ],
    }
]


@dataclass
class Project:
    root: Path
    out: Path

    @property
    def config_path(self) -> Path:
        return self.root / "feedsite.yaml"

    @property
    def posts(self) -> Path:
        return self.root / "blog" / "source" / "_posts"

    def config(self) -> Config:
        return load_config(self.config_path)

    def run(self, now: datetime = T0):  # type: ignore[no-untyped-def]
        return run(self.config(), now=now, seed=1)

    def build(self):  # type: ignore[no-untyped-def]
        return build_native(self.config(), self.out)


def make_project(root: Path, feeds: dict[str, tuple[str, bytes]]) -> Project:
    """A project with one ``path:`` feed per entry (name → (file name, bytes))."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [
        "site: {hexo_root: ./blog, timezone: UTC, profile: default}",
        f'native: {{base_url: "{BASE}", search: false, per_page: 10}}',
        "defaults: {items_per_feed: 50}",
        "images: {mode: hotlink}",
        "feeds:",
        "  hostile:",
        "    extras:",
    ]
    for name, (file, data) in feeds.items():
        (root / file).write_bytes(data)
        lines.append(f"      {name}: {{path: {file}}}")
    (root / "feedsite.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Project(root, root / "public")


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>t</title><link>https://h.example/</link><description>d</description>"
        f"{items}</channel></rss>"
    ).encode()


def rss_item(guid: str, title: str, hour: int, tags: tuple[str, ...] = ()) -> str:
    cats = "".join(f"<category>{etree_escape(t)}</category>" for t in tags)
    return (
        f'<item><title>{title}</title><guid isPermaLink="false">{guid}</guid>'
        f"<link>https://h.example/{guid}</link>"
        f"<pubDate>Mon, 02 Nov 2026 {hour:02d}:00:00 GMT</pubDate>{cats}"
        "<description>b</description></item>"
    )


def etree_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FEEDS = {
    "rss": ("extras_rss.xml", (HOSTILE / "extras_rss.xml").read_bytes()),
    "atom": ("extras_atom.xml", (HOSTILE / "extras_atom.xml").read_bytes()),
    "json": ("extras.json", json_feed(JSON_ITEMS)),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    p = make_project(tmp_path_factory.mktemp("extras"), FEEDS)
    result = p.run()
    assert result.counts().feeds_failed == 0, result
    p.build()
    return p


# -- helpers -------------------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """SafeLoader refusing duplicate keys."""


def _no_duplicates(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> object:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    assert len(keys) == len(set(keys)), f"duplicate keys {keys}"
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _no_duplicates,  # type: ignore[arg-type]
)


def front_matter(text: str) -> tuple[dict[str, object], str]:
    assert text.startswith("---\n"), text[:80]
    head, sep, rest = text[4:].partition("\n---\n")
    assert sep, "front matter not closed"
    assert "\n---" not in head and "\n..." not in head  # one document, one block
    data = yaml.load(head, Loader=StrictLoader)
    assert isinstance(data, dict)
    return data, rest


def all_files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


def html_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if p.is_file())


def parsed_items(name: str) -> dict[str, object]:
    """item id → ParsedItem of one of :data:`FEEDS`."""
    file, data = FEEDS[name]
    feed = parse_feed(data, url=(HOSTILE / file).as_uri())
    return {item_id(i): i for i in feed.items}


def resolve(page: str, href: str) -> str:
    parts = page.split("/")[:-1]
    for piece in unquote(href).split("/"):
        if piece == "..":
            assert parts, f"{href} climbs above the root from {page}"
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def post_page(p: Project, title: str) -> tuple[str, lhtml.HtmlElement]:
    for f in (p.out / "posts").glob("*.html"):
        d = lhtml.fromstring(f.read_bytes())
        if d.xpath("string(//h1[@class='post-title'])") == title:
            return f"posts/{f.name}", d
    raise AssertionError(f"no post page titled {title!r}")


# -- Hexo front matter (holds) -------------------------------------------------------------


def test_hexo_front_matter_is_strict_yaml_with_safe_tags(built: Project) -> None:
    posts = sorted(built.posts.rglob("*.md"))
    assert len(posts) == 5
    root = built.posts.resolve()
    expected = {**parsed_items("rss"), **parsed_items("atom"), **parsed_items("json")}
    tagged = 0
    for path in posts:
        assert path.resolve().is_relative_to(root)
        data, _ = front_matter(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            assert isinstance(key, str)
            if key in ("categories", "tags"):
                assert isinstance(value, list) and all(isinstance(v, str) for v in value)
            elif key not in ("comments", "date"):
                assert isinstance(value, str), (key, value)
        for key in ("headimg", "thumbnail", "source_url"):
            if key in data:
                url = str(data[key])
                assert SAFE_SCHEME.match(url) or url.startswith("/"), (key, url)
        tags = data.get("tags", [])
        assert isinstance(tags, list)
        item = expected[path.stem]
        assert tags == hexo_tags(item.tags)  # type: ignore[attr-defined]
        tagged += bool(tags)
        assert len(tags) <= MAX_TAGS
        assert len({tag_key(t) for t in tags}) == len(tags)
        for t in tags:
            assert t and t == t.strip() and len(t) <= MAX_TAG_CHARS
            assert not set(t) & set(TAG_DROP), t
            assert all(c.isprintable() for c in t), repr(t)
            assert "{{" not in t and "{%" not in t
    assert tagged == 5


def test_hexo_tags_keep_yaml_specials_as_strings(built: Project) -> None:
    (path,) = [p for p in built.posts.rglob("*.md") if "x02 YAML" in p.read_text("utf-8")]
    data, _ = front_matter(path.read_text(encoding="utf-8"))
    assert data["tags"] == [
        "null",
        "true",
        "0x10",
        ".inf",
        "! tag",
        "anchor",
        "*alias",
        "? q",
        "- dash",
        "a: b # c",
    ]


# -- the native site (holds) ---------------------------------------------------------------


def test_native_files_stay_under_the_output_root(built: Project) -> None:
    root = built.out.resolve()
    for f in all_files(built.out):
        assert not f.is_symlink()
        assert f.resolve().is_relative_to(root), f
    for d in (built.out / "t").iterdir():
        assert d.is_dir() and d.name not in (".", "..") and "/" not in d.name
        assert d.name == safe_component(d.name) or "~" in d.name
        assert (d / "index.html").is_file()
        assert list(d.iterdir()) == [d / "index.html"]


def test_native_html_runs_nothing_from_feeds(built: Project) -> None:
    pages = html_files(built.out)
    assert len(pages) > 10
    for f in pages:
        rel = f.relative_to(built.out).as_posix()
        doc = lhtml.fromstring(f.read_bytes())
        assert not doc.xpath("//iframe|//object|//embed|//base|//meta[@http-equiv]"), rel
        for script in doc.xpath("//script"):  # feedsite's own search script only
            assert rel == "search/index.html" and not (script.text or "").strip(), rel
            assert re.fullmatch(r"(\.\./)*assets/[\w.-]+\.js", script.get("src", "")), rel
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (rel, el.tag, name, value)
                assert name.lower() != "autoplay" and name.lower() != "autofocus", (rel, name)
                if name.lower() in URL_ATTRS:
                    v = value.strip()
                    if HAS_SCHEME.match(v):
                        assert SAFE_SCHEME.match(v), (rel, el.tag, name, value)
                    assert not v.startswith("//") or name == "srcset", (rel, name, value)


def test_native_tags_show_exact_text_and_link_inside_the_site(built: Project) -> None:
    rel, doc = post_page(built, "x01 markup and template syntax in tags")
    names = [a.text_content() for a in doc.xpath("//p[@class='tags']/a[@rel='tag']")]
    assert names[:4] == [
        "</script><script>alert(1)</script>",
        "{{ 7*7 }}",
        "{% raw %}x{% endraw %}",
        "---",
    ]
    assert "a b c d" in names  # U+2028, U+2029, NEL collapse to spaces
    assert "evilx" in names  # bidi override and isolate removed
    assert '" onmouseover="alert(12)' in names
    for p in ("x01 markup and template syntax in tags", "x03 path tricks as tags"):
        rel, doc = post_page(built, p)
        for a in doc.xpath("//p[@class='tags']/a"):
            target = resolve(rel, a.get("href"))
            assert re.fullmatch(r"t/[^/]+/index\.html", target), target
            assert (built.out / target).is_file(), target
    tags = lhtml.fromstring((built.out / "tags/index.html").read_bytes())
    hrefs = [
        resolve("tags/index.html", h) for h in tags.xpath("//ul[@class='tag-list']/li/a/@href")
    ]
    assert hrefs and all((built.out / h).is_file() for h in hrefs)


def test_native_players_only_for_safe_audio_and_video(built: Project) -> None:
    seen: list[str] = []
    for f in (built.out / "posts").glob("*.html"):
        doc = lhtml.fromstring(f.read_bytes())
        for m in doc.xpath("//audio|//video"):
            src = m.get("src")
            assert src and src.startswith("https://"), src
            assert m.get("preload") == "none" and "controls" in m.attrib
            assert not set("\"'<> `") & set(src), src
            seen.append(src)
        for cap in doc.xpath("//figcaption"):
            text = cap.text_content()
            assert "onclick" not in "".join(cap.xpath(".//@*"))
            assert "-" not in "".join(cap.xpath(".//span[@class='size']//text()"))
            assert "Duration -" not in text
    # The hostile-typed enclosure (type with a quote) and the text/html "video" are not played.
    assert "https://h.example/ok.mp3" in seen
    assert "https://h.example/v.mp4" in seen
    assert "https://a.example/ep.mp3" in seen
    assert "https://j.example/a.mp3" in seen
    assert not [s for s in seen if "page" in s or "a%20b" in s or s.endswith(".svg")]


def test_scheme_uri_thumbnail_and_refused_enclosures_never_published(built: Project) -> None:
    for root in (built.out, built.posts):
        for f in all_files(root):
            text = f.read_bytes().decode("utf-8", "replace")
            for marker in NEVER_PUBLISHED:
                assert marker not in text, (f, marker)


# -- Atom (holds) --------------------------------------------------------------------------


def test_every_xml_output_is_well_formed(built: Project) -> None:
    xmls = sorted(built.out.rglob("*.xml"))
    assert len(xmls) >= 6
    for f in xmls:
        etree.fromstring(f.read_bytes(), etree.XMLParser(recover=False, resolve_entities=False))


def test_atom_categories_and_enclosures_are_escaped(built: Project) -> None:
    root = etree.fromstring((built.out / "atom.xml").read_bytes())
    entries = {e.findtext(f"{ATOM}title"): e for e in root.iter(f"{ATOM}entry")}
    e1 = entries["x01 markup and template syntax in tags"]
    labels = [c.get("label") for c in e1.iter(f"{ATOM}category") if c.get("label")]
    assert "</script><script>alert(1)</script>" in labels
    assert all(c.get("scheme") is None for c in root.iter(f"{ATOM}category"))
    for c in root.iter(f"{ATOM}category"):
        label = c.get("label")
        if label is not None:
            assert c.get("term") == tag_key(label)
    hrefs = [x.get("href") for x in root.iter(f"{ATOM}link") if x.get("rel") == "enclosure"]
    assert hrefs and all(h.startswith("https://") for h in hrefs), hrefs
    a1 = entries["a01 atom categories"]
    (ep,) = [x for x in a1.iter(f"{ATOM}link") if x.get("href") == "https://a.example/ep.mp3"]
    assert ep.get("title") == '<i>T</i>" onmouseover="alert(27)'
    assert ep.get("type") == "audio/mpeg" and ep.get("length") == "100"
    for x in root.iter(f"{ATOM}link"):
        t = x.get("type")
        assert t is None or re.fullmatch(
            r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", t
        )
        assert x.get("length") is None or x.get("length", "").isdigit()


# -- pure rules (hold) ---------------------------------------------------------------------

PATH_TRICKS = [
    "..", ".", "/", "\\", "../x", "..\\x", "%2e%2e", "．．", "／", "﹒﹒", "CON", "con.txt", "nul",
    "COM1", "lpt¹", "aux.", " . ", "_x", ".git", "~", "a:b", "a\x00b", "x" * 400, "ﷺ" * 40,
    "index.html", "t", "tags",
]  # fmt: skip


@pytest.mark.parametrize("name", PATH_TRICKS)
def test_tag_dir_is_one_safe_folder_under_t(name: str) -> None:
    d = tag_dir(tag_key(name))
    assert d.startswith("t/") and d.endswith("/") and d.count("/") == 2, d
    part = d[2:-1]
    assert part not in ("", ".", "..") and not part.startswith((".", "_", " "))
    assert not re.search(r'[\x00-\x1f<>:"/\\|?*]', part)
    assert len(part.encode()) <= 120
    assert not re.match(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\.|$)", part)


def test_json_finite_negative_and_nan_numbers_are_ignored() -> None:
    raw = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [
                {
                    "id": "1",
                    "title": "t",
                    "content_text": "b",
                    "attachments": [
                        {"url": "https://e.example/a.mp3", "mime_type": "audio/mpeg",
                         "duration_in_seconds": float("nan"), "size_in_bytes": -1e308},
                    ],
                }
            ],
        }
    )  # fmt: skip
    (item,) = parse_feed(raw.encode(), url="https://e.example/feed.json").items
    (e,) = item.enclosures
    assert e.duration is None and e.length is None


# -- found by the audit, fixed ------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-1e400", "Infinity", "-Infinity"])
def test_json_infinite_duration_is_ignored_not_a_crash(number: str) -> None:
    """Was a defect: ``duration_in_seconds`` of ±infinity (JSON ``1e400``, or Python's accepted
    ``Infinity``) raises OverflowError in ``_parse/_values.py`` ``duration_seconds``
    (``int(value)``); ``parse_feed`` only turns ValueError/LxmlError into ParseError."""
    raw = (
        '{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1",'
        '"title":"t","content_text":"b","attachments":[{"url":"https://e.example/a.mp3",'
        f'"mime_type":"audio/mpeg","duration_in_seconds":{number}}}]}}]}}'
    )
    try:
        feed = parse_feed(raw.encode(), url="https://e.example/feed.json")
    except ParseError:
        return  # refusing the document would also be acceptable
    except Exception as error:
        pytest.fail(f"parse_feed raised {error!r}, not ParseError")
    (item,) = feed.items
    assert item.enclosures[0].duration is None


def test_one_json_feed_with_infinite_duration_does_not_stop_the_run(tmp_path: Path) -> None:
    """Was a defect: the OverflowError above escapes ``run``: one hostile JSON Feed aborts the
    whole run, and every other feed of the tree goes unwritten ("failures stay local")."""
    bad = (
        b'{"version":"https://jsonfeed.org/version/1.1","title":"t","home_page_url":'
        b'"https://j.example/","items":[{"id":"1","title":"bad","content_text":"b",'
        b'"attachments":[{"url":"https://j.example/a.mp3","mime_type":"audio/mpeg",'
        b'"duration_in_seconds":1e400}]}]}'
    )
    p = make_project(
        tmp_path,
        {"bad": ("bad.json", bad), "good": ("good.xml", rss(rss_item("g1", "good", 8)))},
    )
    try:
        result = p.run()
    except Exception as error:
        pytest.fail(f"run raised {error!r}")
    assert result.counts().feeds_failed <= 1
    written = [f.read_text("utf-8") for f in p.posts.rglob("*.md")]
    assert any('title: "good"' in t for t in written)


def test_tag_pages_never_share_a_folder(tmp_path: Path) -> None:
    """Was a defect: ``safe_component`` (``_targets/_paths.py``) leaves a name that already looks
    hashed (``x~5ec1f7e7``) unchanged, so it is not injective: a feed's tag spelled like
    the hashed folder of another tag (``..``) gets the same ``t/<folder>/`` page. One
    page overwrites the other, the sitemap lists the URL twice and every no-op rebuild
    rewrites the page."""
    hijack = safe_component(tag_key(".."))  # "x~5ec1f7e7": any feed can write it
    p = make_project(
        tmp_path,
        {
            "rss": (
                "f.xml",
                rss(
                    rss_item("v1", "victim", 8, ("..",)) + rss_item("a1", "attacker", 9, (hijack,))
                ),
            )
        },
    )
    p.run()
    p.build()
    tags = lhtml.fromstring((p.out / "tags/index.html").read_bytes())
    hrefs = tags.xpath("//ul[@class='tag-list']/li/a/@href")
    assert len(hrefs) == 2
    sitemap = (p.out / "sitemap.xml").read_text("utf-8")
    locs = re.findall(r"<loc>([^<]*)</loc>", sitemap)
    assert len(locs) == len(set(locs)), "a URL listed twice in the sitemap"
    assert len(set(hrefs)) == 2, f"two tags, one page: {hrefs}"
    again = p.build()
    assert again.written == 0, "a no-op rebuild rewrites pages"


def test_tag_pages_distinct_on_case_insensitive_file_systems(tmp_path: Path) -> None:
    """Was a defect (Windows/NTFS, exFAT): tag keys are ``casefold``-ed, but NTFS compares names
    by simple upper case, where ``ı`` (U+0131) and ``i`` are both ``I``: the tags ``ı``
    and ``i`` get ``t/ı/`` and ``t/i/``, one folder there (one page overwrites the other)."""
    p = make_project(
        tmp_path,
        {
            "rss": (
                "f.xml",
                rss(rss_item("d1", "dotless", 8, ("ı",)) + rss_item("d2", "dotted", 9, ("i",))),
            )
        },
    )
    p.run()
    p.build()
    folders = [d.name for d in (p.out / "t").iterdir()]
    assert len(folders) == 2
    assert len({f.upper() for f in folders}) == len(folders), folders


def test_native_html_has_no_control_characters_from_authors(tmp_path: Path) -> None:
    """Was a defect: an author name's C0/C1 controls (JSON ``"\\u0000"``, ESC) reach the post
    page's HTML raw (titles lose theirs at parse time, tags and enclosure titles at build
    time, Atom through ``xml_text``; ``item.author`` nowhere)."""
    items = [
        {
            "id": "c1",
            "url": "https://j.example/c1",
            "title": "controls",
            "content_text": "b",
            "date_published": "2026-11-02T08:00:00Z",
            "authors": [{"name": "ab\u0000\u001b[31mcd\u0085\u0007"}],
        }
    ]
    p = make_project(tmp_path, {"json": ("f.json", json_feed(items))})
    p.run()
    p.build()
    atom = (p.out / "atom.xml").read_bytes()
    etree.fromstring(atom)  # holds: xml_text drops them
    assert b"\x00" not in atom and b"\x1b" not in atom
    for f in html_files(p.out):
        text = f.read_text("utf-8")
        found = CONTROLS.findall(text)
        assert not found, (f.relative_to(p.out).as_posix(), found)


def test_adopt_takes_back_a_tagged_post_after_state_loss(tmp_path: Path) -> None:
    """Was a defect: after the state is lost, ``feedsite adopt`` takes back feedsite's own post of
    an item the feed no longer lists only when re-rendering it gives its exact bytes;
    ``parse_own_post`` (``_targets/hexo/_adopt.py``) does not read ``tags:``, so a post
    with tags never matches: it stays ``id_named`` and retention never prunes it."""
    tagged = rss_item("t1", "tagged", 8, ("AI", "Podcast"))
    plain = rss_item("p1", "plain", 7)
    p = make_project(tmp_path, {"rss": ("f.xml", rss(tagged + plain))})
    assert p.run().counts().posts_new == 2
    paths = {f.read_text("utf-8").split("\n")[1]: f for f in p.posts.rglob("*.md")}
    state = tmp_path / ".feedsite" / "state.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    (tmp_path / "f.xml").write_bytes(rss(rss_item("n1", "new", 9)))
    result = adopt(p.config(), now=T0 + timedelta(hours=1))
    adopted = {a.new_path for a in result.adopted}
    rel = {k: v.relative_to(p.posts).as_posix() for k, v in paths.items()}
    assert rel['title: "plain"'] in adopted  # holds: a post without tags is taken back
    assert rel['title: "tagged"'] in adopted, [(lo.path, lo.kind) for lo in result.leftovers]
