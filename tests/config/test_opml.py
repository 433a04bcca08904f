"""Tests for feedsite._config._opml: readers' exports, the tree mapping, hardening, round trip.

Each ``tests/data/opml/<name>.opml`` is written from a reader's documented export format
(Feedly, Inoreader, NetNewsWire, Miniflux, FreshRSS, Thunderbird) or a sloppy hand-made list,
and ``<name>.expected.json`` holds the proposal it must give: ``feeds`` as
``[category, site, feed, url]`` and ``skipped`` as ``[what, why]``, in document order.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsite._config._edit import add_feeds, yaml_str
from feedsite._config._opml import MAX_NAME, OpmlError, OpmlFeed, read_opml
from feedsite._targets.site._model import CategoryNode, FeedNode, Settings, SiteNode
from feedsite._targets.site._xml import opml as export_opml
from feedsite.config import NativeConfig, SiteConfig, parse_config
from feedsite.errors import FeedsiteError
from tests.helpers.feedserver import FeedServer, Response

DATA = Path(__file__).resolve().parents[1] / "data" / "opml"
FIXTURES = sorted(p.stem for p in DATA.glob("*.opml"))
HEAD = "site:\n  timezone: UTC\nfeeds:\n  已有:\n    站:\n      源: https://example.org/feed.xml\n"


def rows(result: object) -> list[list[str]]:
    assert hasattr(result, "feeds")
    return [[f.category, f.site, f.name, f.url] for f in result.feeds]


def opml(body: str, head: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{head}<opml version="2.0">'
        f"<head><title>t</title></head><body>{body}</body></opml>"
    ).encode()


def feed(title: str, url: str) -> str:
    return f'<outline type="rss" text="{title}" title="{title}" xmlUrl="{url}"/>'


# -- the readers' exports -----------------------------------------------------------------


def test_fixtures_cover_three_readers_and_the_cases() -> None:
    assert {"feedly", "inoreader", "netnewswire", "miniflux", "freshrss", "thunderbird"} <= set(
        FIXTURES
    )
    texts = {name: (DATA / f"{name}.opml").read_bytes() for name in FIXTURES}
    assert any(b"&amp;amp;" in t for t in texts.values())  # entities escaped twice
    assert any(b'title="' not in t for t in texts.values())  # `text` only (FreshRSS)
    assert b"<outline title=" in texts["thunderbird"]  # nested folders, three deep


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_gives_expected_proposal(name: str) -> None:
    expected = json.loads((DATA / f"{name}.expected.json").read_text(encoding="utf-8"))
    result = read_opml((DATA / f"{name}.opml").read_bytes())
    assert rows(result) == expected["feeds"]
    assert [list(s) for s in result.skipped] == expected["skipped"]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_proposal_is_a_valid_config(name: str) -> None:
    """Every proposed feed goes into a config feedsite reads, under the same names."""
    result = read_opml((DATA / f"{name}.opml").read_bytes())
    assert result.feeds
    text = add_feeds(HEAD, [(f.category, f.site, f.name, yaml_str(f.url)) for f in result.feeds])
    config = parse_config(text, file=Path("/p/feedsite.yaml"), environ={})
    got = [[f.category, f.site, f.name, f.url] for f in config.feeds][1:]
    assert sorted(got) == sorted(rows(result))  # the config groups them by category and site
    # unique by URL and by place
    assert len({f.url for f in result.feeds}) == len(result.feeds)
    assert len({(f.category, f.site, f.name) for f in result.feeds}) == len(result.feeds)


def test_feedly_duplicate_across_folders_is_reported_once() -> None:
    result = read_opml((DATA / "feedly.opml").read_bytes())
    verge = [f for f in result.feeds if "theverge" in f.url]
    assert verge == [
        OpmlFeed("Tech", "The Verge", "全部", "https://www.theverge.com/rss/index.xml")
    ]
    assert result.skipped == (
        ("Must Read › The Verge", "duplicate of Tech › The Verge › 全部 (same xmlUrl)"),
    )


# -- the mapping --------------------------------------------------------------------------


def test_flat_list_goes_to_the_default_category() -> None:
    data = opml(feed("A", "https://a.example/feed") + feed("B", "https://b.example/feed"))
    assert rows(read_opml(data)) == [
        ["导入", "A", "全部", "https://a.example/feed"],
        ["导入", "B", "全部", "https://b.example/feed"],
    ]
    named = read_opml(data, default_category="Imported", feed_name="All")
    assert rows(named)[0] == ["Imported", "A", "All", "https://a.example/feed"]


def test_levels_map_to_category_site_feed() -> None:
    data = opml(
        '<outline text="C">'
        + feed("one", "https://e.example/1")
        + '<outline text="S">'
        + feed("two", "https://e.example/2")
        + '<outline text="D1"><outline text="D2">'
        + feed("three", "https://e.example/3")
        + "</outline></outline></outline></outline>"
    )
    assert rows(read_opml(data)) == [
        ["C", "one", "全部", "https://e.example/1"],
        ["C", "S", "two", "https://e.example/2"],
        ["C", "S › D1 › D2", "three", "https://e.example/3"],
    ]


def test_name_is_title_then_text_then_host() -> None:
    data = opml(
        '<outline text="from text" title="from title" xmlUrl="https://a.example/f"/>'
        '<outline text="from text" xmlUrl="https://b.example/f"/>'
        '<outline title="  " text="" htmlUrl="https://www.site.example/" xmlUrl="https://c.example/f"/>'
        '<outline xmlUrl="https://feeds.d.example/f"/>'
    )
    assert [f.site for f in read_opml(data).feeds] == [
        "from title",
        "from text",
        "www.site.example",
        "feeds.d.example",
    ]


def test_names_decoded_collapsed_and_cut() -> None:
    long = "长" * 120
    data = opml(
        feed("AT&amp;amp;T &#x2014;  big\tnews", "https://a.example/f")
        + feed(long, "https://b.example/f")
        + feed("nul&#x85;in", "https://c.example/f")
    )
    names = [f.site for f in read_opml(data).feeds]
    assert names[0] == "AT&T — big news"
    assert len(names[1]) == MAX_NAME and names[1].endswith("…")
    assert names[2] == "nul in"


def test_colliding_names_get_a_number_and_folders_merge() -> None:
    data = opml(
        '<outline text="C">'
        + feed("Blog", "https://a.example/f")
        + feed("Blog", "https://b.example/f")
        + feed("Blog", "https://c.example/f")
        + '<outline text="Blog">'
        + feed("x", "https://d.example/f")
        + "</outline></outline>"
        + '<outline text="C"><outline text="Blog">'
        + feed("x", "https://e.example/f")
        + "</outline></outline>"
    )
    assert rows(read_opml(data)) == [
        ["C", "Blog", "全部", "https://a.example/f"],
        ["C", "Blog (2)", "全部", "https://b.example/f"],
        ["C", "Blog (3)", "全部", "https://c.example/f"],
        # the folder "Blog" is not the feed "Blog": a site of its own, and both "C" merge
        ["C", "Blog (4)", "x", "https://d.example/f"],
        ["C", "Blog (4)", "x (2)", "https://e.example/f"],
    ]


@pytest.mark.parametrize("reserved", ["images", "fulltext", "rules"])
def test_reserved_names_are_renamed(reserved: str) -> None:
    data = opml(
        feed(reserved, "https://a.example/f")
        + f'<outline text="C"><outline text="{reserved}">'
        + feed(reserved, "https://b.example/f")
        + "</outline></outline>"
    )
    assert rows(read_opml(data)) == [
        ["导入", f"{reserved} (2)", "全部", "https://a.example/f"],
        ["C", f"{reserved} (2)", f"{reserved} (2)", "https://b.example/f"],
    ]


def test_skips_are_reported_with_reasons() -> None:
    data = opml(
        '<outline text="F">'
        '<outline text="no url" type="rss"/>'
        + feed("ftp", "ftp://a.example/f")
        + feed("data", "data:text/xml,&lt;rss/&gt;")
        + feed("spaces", "https://a.example/a b")
        + '<outline text="xpath" type="HTML+XPath" xmlUrl="https://a.example/page"/>'
        + '<outline text="inc" type="include" url="https://a.example/x.opml"/>'
        + feed("ok", "https://a.example/f")
        + feed("again", "https://a.example/f")
        + "</outline>"
    )
    result = read_opml(data)
    assert rows(result) == [["F", "ok", "全部", "https://a.example/f"]]
    assert [why.split(":")[0].split(" (")[0] for _, why in result.skipped] == [
        "no xmlUrl",
        "not an http(s) URL",
        "not an http(s) URL",
        "not an http(s) URL",
        'type="HTML+XPath" is not a feed',
        "an OPML include",
        "duplicate of F › ok › 全部",
    ]
    assert result.skipped[-1][0] == "F › again"


def test_namespaced_and_case_variant_attributes() -> None:
    data = opml(
        '<outline text="A" xmlURL="https://a.example/f"/>'
        '<outline xmlns:x="urn:x" x:xmlUrl="https://evil.example/f" text="B"/>'
    )
    result = read_opml(data)
    assert rows(result) == [["导入", "A", "全部", "https://a.example/f"]]
    assert result.skipped == (("B", "no xmlUrl"),)


def test_encodings_follow_the_declaration() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><opml><body>' + feed(
        "漢字", "https://a.example/f"
    )
    data = (text + "</body></opml>").encode("utf-16")
    assert rows(read_opml(data)) == [["导入", "漢字", "全部", "https://a.example/f"]]


# -- refusals and hardening -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not well-formed XML"),
        (b"not xml at all", "not well-formed XML"),
        (b"<opml><body><outline></body></opml>", "not well-formed XML"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element is <rss>"),
        (b"<opml><head/></opml>", "has no <body>"),
        (b"<opml><body><outline text='&undefined;'/></body></opml>", "not well-formed XML"),
    ],
)
def test_not_opml_is_an_error(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message) as info:
        read_opml(data)
    assert isinstance(info.value, FeedsiteError) and isinstance(info.value, ValueError)


def test_entity_expansion_is_refused_fast() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    ]
    data = opml(
        '<outline text="&l9;" xmlUrl="https://a.example/f"/>',
        head="<!DOCTYPE opml [" + "".join(levels) + "]>",
    )
    start = time.monotonic()
    with pytest.raises(OpmlError, match="declares XML entities"):
        read_opml(data)
    with pytest.raises(OpmlError, match="declares XML entities"):
        read_opml(data.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert time.monotonic() - start < 1


def test_no_network_for_a_dtd(feed_server: FeedServer) -> None:
    """An external DTD or entity is never fetched (lxml: no_network, load_dtd off)."""
    feed_server.route("/x.dtd", Response(200, body=b'<!ENTITY t "fetched">'))
    dtd = feed_server.url("/x.dtd")
    data = opml(
        '<outline text="A" xmlUrl="https://a.example/f"/>',
        head=f'<!DOCTYPE opml SYSTEM "{dtd}">',
    )
    assert rows(read_opml(data)) == [["导入", "A", "全部", "https://a.example/f"]]
    assert feed_server.hits("/x.dtd") == 0


# -- round trip with the native site's export ---------------------------------------------

_NAME = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=12,
).filter(lambda s: "&" not in s and s not in ("images", "fulltext", "rules"))
_TREE = st.dictionaries(
    _NAME,
    st.dictionaries(
        _NAME, st.lists(_NAME, min_size=1, max_size=3, unique=True), min_size=1, max_size=3
    ),
    min_size=1,
    max_size=3,
)


def _settings() -> Settings:
    return Settings(
        native=NativeConfig(out=Path("/out"), title="Site & <title>"),
        site=SiteConfig(hexo_root=Path("/blog")),
        zone="UTC",
        iframe_hosts=(),
        templates_key="",
        css_path="",
        js_path="",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TREE)
def test_native_export_round_trips(tree: dict[str, dict[str, list[str]]]) -> None:
    """feedsite's own opml.xml (category > site > feed) reads back as the same tree."""
    rows_in: list[list[str]] = []
    cats = []
    for c, sites in tree.items():
        site_nodes = []
        for s, feeds in sites.items():
            nodes = []
            for f in feeds:
                url = f"https://rsshub.example.org/r/{len(rows_in)}?a=1&b=<2>"
                rows_in.append([c, s, f, url])
                nodes.append(FeedNode(f, "p/index.html", 0, "k", url))
            site_nodes.append(SiteNode(s, "p/", 0, tuple(nodes)))
        cats.append(CategoryNode(c, "p/", 0, tuple(site_nodes)))
    result = read_opml(export_opml(cats, _settings()))
    assert rows(result) == rows_in
    assert result.skipped == ()
