"""The RSSHub catalog through a loopback instance (issue #14): fetch and cache, names for
routes listed without them and their lock, ``check`` warnings, ``routes``, ``add`` and
``import-opml`` as the commands run them.

The instance serves ``../shared/corpora/rsshub-catalog`` at ``/api/namespace`` and
``/api/radar/rules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._run._catalog import LOCK_NAME, catalog_for, load_named, read_lock
from feedsite.config import load_config
from tests.config.test_catalog import corpus, plain_examples
from tests.helpers.feedserver import FeedServer, Response

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parent / "data" / "opml"
__all__ = ["corpus"]  # the fixture, shared with tests/config/test_catalog.py
REMOVED = ("/dockone/weekly", "/bangumi/calendar/today", "/woshipm/latest")


@pytest.fixture
def instance(corpus: Path) -> Iterator[FeedServer]:
    with FeedServer() as s:
        serve_catalog(s, corpus)
        yield s


def serve_catalog(s: FeedServer, corpus: Path, namespace: bytes | None = None) -> None:
    body = namespace if namespace is not None else (corpus / "namespace.json").read_bytes()
    s.route(
        "/api/namespace",
        Response(200, body, content_type="application/json", etag=f'"ns{len(body)}"'),
    )
    s.route(
        "/api/radar/rules",
        Response(
            200,
            (corpus / "radar-rules.json").read_bytes(),
            content_type="application/json",
            etag='"radar1"',
        ),
    )


def project(tmp_path: Path, instance: FeedServer, feeds: str) -> Path:
    config = tmp_path / "feedsite.yaml"
    config.write_text(
        "site: {hexo_root: ./blog, timezone: Asia/Shanghai}\n"
        f"rsshub: {{instances: [{instance.url('').rstrip('/')}]}}\n"
        "fetch: {retries: 0, timeout: 5}\n" + feeds,
        encoding="utf-8",
    )
    return config


def feedsite(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsite", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def catalog_requests(instance: FeedServer) -> list[str]:
    return [r.path for r in instance.requests if r.path.startswith("/api/")]


# -- fetching and caching ---------------------------------------------------------------------


def test_the_catalog_is_fetched_once_a_day_and_kept_for_offline_use(
    tmp_path: Path, instance: FeedServer, corpus: Path
) -> None:
    config = load_config(project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n"))
    got = catalog_for(config, NOW)
    assert got.catalog is not None and got.note is None and "fetched" in got.source
    assert sorted(catalog_requests(instance)) == ["/api/namespace", "/api/radar/rules"]
    # every plain example resolves to its own route, as the pure test measures (≥ 99 %)
    examples = plain_examples(got.catalog)
    own = [
        (e, r) for e, r in examples if e == f"/{r.namespace}" or e.startswith(f"/{r.namespace}/")
    ]
    hits = [
        e
        for e, r in own
        if (m := got.catalog.match(e))
        and (m.route.namespace, m.route.location) == (r.namespace, r.location)
    ]
    assert len(hits) / len(own) >= 0.99
    # within the day: the state's copy, no request
    instance.reset()
    serve_catalog(instance, corpus)
    again = catalog_for(config, NOW + timedelta(hours=23))
    assert again.catalog is not None and "stored" in again.source
    assert catalog_requests(instance) == []
    # a day later: asked again, conditionally (a 304 keeps the copy)
    later = catalog_for(config, NOW + timedelta(days=1, minutes=1))
    assert later.catalog is not None
    sent = [r for r in instance.requests if r.path == "/api/namespace"]
    assert (
        sent
        and sent[-1].header("If-None-Match")
        == f'"ns{len((corpus / "namespace.json").read_bytes())}"'
    )
    # the instance gone: the stored copy, with a note
    instance.stop()
    offline = catalog_for(config, NOW + timedelta(days=3))
    assert offline.catalog is not None
    assert offline.note is not None and "stored copy" in offline.note


def test_a_catalog_file_needs_no_instance(tmp_path: Path, corpus: Path) -> None:
    config_path = tmp_path / "feedsite.yaml"
    config_path.write_text(
        f"site: {{hexo_root: ./blog, timezone: UTC}}\n"
        f'rsshub: {{catalog: {corpus}, instances: ["http://127.0.0.1:9"]}}\n'
        "feeds:\n  - /guancha/headline\n",
        encoding="utf-8",
    )
    named = load_named(config_path, NOW)
    (feed,) = named.config.feeds
    assert (feed.category, feed.site, feed.name, feed.route) == (
        "新媒体", "观察者网", "头条", "/guancha/headline",
    )  # fmt: skip


# -- names from the catalog, pinned ------------------------------------------------------------


def test_the_check_table_resolves_as_the_readme_says(
    tmp_path: Path, instance: FeedServer, corpus: Path
) -> None:
    # the README's twelve, and the check's extra row (bangumi.tv, where /bangumi went)
    table = json.loads((corpus / "route-check.json").read_text(encoding="utf-8"))
    known = [row for row in table if row["match"]]
    config = load_config(project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n"))
    catalog = catalog_for(config, NOW).catalog
    assert catalog is not None
    for row in table:
        m = catalog.match(row["request"])
        if not row["match"]:
            assert m is None, row["request"]
            continue
        assert m is not None, row["request"]
        assert (m.route.namespace, m.route.path) == (row["namespace"], row["path"])
        assert m.route.name in row["name"]  # the table joins the names of an array path
    assert len(known) == 10 and len(table) == 13
    assert sorted(row["request"] for row in table if not row["match"]) == sorted(REMOVED)
    # as bare routes: every known one named, each unknown one an error that names its line
    listed = "".join(f"  - {row['request']}\n" for row in known)
    named = load_named(project(tmp_path, instance, "feeds:\n" + listed), NOW)
    assert len(named.config.feeds) == 10
    by_route = {f.route: f for f in named.config.feeds}
    guancha = by_route["/guancha/headline"]
    assert (guancha.category, guancha.site, guancha.name) == ("新媒体", "观察者网", "头条")
    assert by_route["/cnbeta"].category == "其他"  # no categories: 其他
    assert by_route["/juejin/category/frontend"].name == "分类 (frontend)"
    bad = project(tmp_path, instance, "feeds:\n  - /guancha/headline\n  - /woshipm/latest\n")
    got = feedsite("check", "-c", str(bad))
    assert got.returncode == 2
    assert "line 6, at feeds[1]" in got.stderr and "/woshipm/latest" in got.stderr
    assert "does not know it" in got.stderr


def test_check_warns_about_the_three_removed_routes(
    tmp_path: Path, instance: FeedServer, corpus: Path
) -> None:
    table = json.loads((corpus / "route-check.json").read_text(encoding="utf-8"))
    tree = "feeds:\n  测试:\n    路由:\n" + "".join(
        f"      r{i}: {row['request']}\n" for i, row in enumerate(table)
    )
    got = feedsite("check", "-c", str(project(tmp_path, instance, tree)), "--json")
    assert got.returncode == 0, got.stderr
    warnings = json.loads(got.stdout)["warnings"]
    unknown = [w for w in warnings if "does not know the route" in w]
    assert sorted(w.rsplit(" ", 1)[1] for w in unknown) == sorted(REMOVED)


def test_check_lock_pins_names_and_a_renamed_route_moves_no_post(
    tmp_path: Path, instance: FeedServer, corpus: Path
) -> None:
    path = project(
        tmp_path, instance, "feeds:\n  新媒体: [/guancha/headline]\n  科技:\n    - /sspai/index\n"
    )
    # --now: the catalog is fetched "at NOW" (on the wall clock it would still be fresh at
    # NOW + 2 days once the clock passes NOW + 1 day, and never be asked again below)
    got = feedsite("check", "-c", str(path), "--lock", "--now", NOW.isoformat())
    assert got.returncode == 0, got.stderr
    lock = read_lock(path)
    assert lock[("/guancha/headline", "新媒体", None)] == ("新媒体", "观察者网", "头条")
    assert lock[("/sspai/index", "科技", None)] == ("科技", "少数派 sspai", "首页")
    # the catalog renames the route: the names stay, check says so
    data = json.loads((corpus / "namespace.json").read_bytes())
    data["guancha"]["routes"]["/headline"]["name"] = "头条新闻"
    instance.reset()
    serve_catalog(instance, corpus, json.dumps(data, ensure_ascii=False).encode())
    named = load_named(path, NOW + timedelta(days=2))
    assert {f.name for f in named.config.feeds} == {"头条", "首页"}
    got = feedsite(
        "check", "-c", str(path), "--json", "--now", (NOW + timedelta(days=2)).isoformat()
    )
    assert got.returncode == 0, got.stderr
    assert any("头条新闻" in w and LOCK_NAME in w for w in json.loads(got.stdout)["warnings"])


def test_unpinned_names_are_a_warning(tmp_path: Path, instance: FeedServer) -> None:
    path = project(tmp_path, instance, "feeds:\n  - /guancha/headline\n")
    got = feedsite("check", "-c", str(path))
    assert got.returncode == 0, got.stderr
    assert "not pinned" in got.stderr and "check --lock" in got.stderr
    assert "观察者网" in got.stdout


def test_check_warns_about_placeholder_paths_and_disk_names(tmp_path: Path) -> None:
    path = tmp_path / "feedsite.yaml"
    path.write_text(
        "site: {hexo_root: ./blog, timezone: UTC}\n"
        "rsshub: {instances: [https://rsshub.example.org]}\n"
        "feeds:\n  a/b:\n    site:\n      feed: {path: missing.xml}\n",
        encoding="utf-8",
    )
    got = feedsite("check", "-c", str(path), "--json", "--offline")
    assert got.returncode == 0, got.stderr
    text = "\n".join(json.loads(got.stdout)["warnings"])
    assert "placeholder" in text
    assert "missing.xml does not exist" in text
    assert "'a/b' is written on disk as the folder 'a_b" in text


# -- routes, add, import-opml ------------------------------------------------------------------


@pytest.mark.parametrize("query", ["观察者", "guancha", "headline"])
def test_routes_finds_guancha_headline(tmp_path: Path, instance: FeedServer, query: str) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    got = feedsite("routes", query, "-c", str(path), "--json", "--limit", "40")
    assert got.returncode == 0, got.stderr
    routes = [r["route"] for r in json.loads(got.stdout)]
    assert "/guancha/headline" in routes


def test_routes_shows_parameters_and_warnings(tmp_path: Path, instance: FeedServer) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    got = feedsite("routes", "juejin", "分类", "-c", str(path))
    assert got.returncode == 0, got.stderr
    assert "/juejin/category/:category" in got.stdout and ":category" in got.stdout
    assert "example: /juejin/category/" in got.stdout


def test_add_a_site_url_proposes_the_route(tmp_path: Path, instance: FeedServer) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    got = feedsite("add", "https://www.guancha.cn/GuanChaZheTouTiao", "-c", str(path))
    out = got.stdout + got.stderr
    assert "/guancha/headline" in out
    if got.returncode == 0:  # one route: added
        assert "/guancha/headline" in path.read_text(encoding="utf-8")


def test_add_on_a_commented_config_keeps_every_byte(tmp_path: Path, instance: FeedServer) -> None:
    original = (DATA / "commented-feedsite.yaml").read_text(encoding="utf-8")
    original = original.replace("https://rsshub.example.org", instance.url("").rstrip("/"))
    path = tmp_path / "feedsite.yaml"
    path.write_text(original, encoding="utf-8")
    got = feedsite("add", "/sspai/index", "-c", str(path))
    assert got.returncode == 0, got.stderr
    new = path.read_text(encoding="utf-8")
    old_lines = original.splitlines(keepends=True)
    it = iter(new.splitlines(keepends=True))
    assert all(any(line == n for n in it) for line in old_lines)  # every old line, in order
    assert "首页: /sspai/index" in new
    assert feedsite("check", "-c", str(path)).returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("/no/such/route",),  # the catalog does not know it, no names given
        ("/guancha/headline", "--category", "a", "--site", "b", "--feed", "c"),  # taken
        ("ftp://example.org/feed",),
    ],
)
def test_a_failing_add_leaves_the_file_byte_identical(
    tmp_path: Path, instance: FeedServer, args: tuple[str, ...]
) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /guancha/headline  # x\n")
    before = path.read_bytes()
    got = feedsite("add", *args, "-c", str(path))
    assert got.returncode != 0
    assert got.stderr.strip()
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".feedsite.yaml")]


def test_add_a_page_finds_its_feed_by_autodiscovery(tmp_path: Path, instance: FeedServer) -> None:
    instance.route(
        "/blog/",
        Response.html(
            "<!doctype html><html><head><title>A Blog</title>"
            '<link rel="alternate" type="application/rss+xml" href="/blog/feed.xml">'
            "</head><body>hi</body></html>"
        ),
    )
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    got = feedsite("add", instance.url("/blog/"), "-c", str(path))
    assert got.returncode == 0, got.stderr
    config = load_config(path)
    added = [f for f in config.feeds if f.url]
    assert [(f.site, f.url) for f in added] == [("A Blog", instance.url("/blog/feed.xml"))]


def test_import_opml_adds_and_skips_duplicates(tmp_path: Path, instance: FeedServer) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    expected = json.loads((DATA / "feedly.expected.json").read_text(encoding="utf-8"))
    got = feedsite("import-opml", str(DATA / "feedly.opml"), "-c", str(path))
    assert got.returncode == 0, got.stderr
    config = load_config(path)
    urls = {f.url for f in config.feeds if f.url}
    want = {f[3] for f in expected["feeds"]}
    assert urls == want
    before = path.read_bytes()
    again = feedsite("import-opml", str(DATA / "feedly.opml"), "-c", str(path))
    assert again.returncode == 0 and "0 added" in again.stdout
    assert path.read_bytes() == before


def test_an_instance_url_is_imported_and_added_as_its_route(
    tmp_path: Path, instance: FeedServer
) -> None:
    base = instance.url("").rstrip("/")
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /guancha/headline\n")
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="Tech">'
        f'<outline text="Guancha" xmlUrl="{base}/guancha/headline"/>'
        f'<outline text="OSC" xmlUrl="{base}/oschina/news?key=s3cret&amp;limit=5"/>'
        '<outline text="Other" xmlUrl="https://example.org/feed.xml"/>'
        "</outline></body></opml>",
        encoding="utf-8",
    )

    got = feedsite("import-opml", str(opml), "-c", str(path))

    assert got.returncode == 0, got.stderr
    assert "the config has /guancha/headline already" in got.stdout + got.stderr
    config = load_config(path)
    assert sorted(f.route for f in config.feeds if f.route) == [
        "/guancha/headline",
        "/oschina/news?limit=5",  # the instance's key is not kept: it is added at fetch time
    ]
    assert [f.url for f in config.feeds if f.url] == ["https://example.org/feed.xml"]
    assert "s3cret" not in path.read_text(encoding="utf-8")


def test_add_of_an_instance_feed_url_adds_its_route(tmp_path: Path, instance: FeedServer) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    url = instance.url("/guancha/headline?key=s3cret")

    got = feedsite("add", url, "-c", str(path))

    assert got.returncode == 0, got.stderr
    routes = [f.route for f in load_config(path).feeds if f.route]
    assert routes == ["/x", "/guancha/headline"]
    assert "s3cret" not in path.read_text(encoding="utf-8")


def test_add_of_a_local_file_says_how_to_write_one(tmp_path: Path, instance: FeedServer) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    before = path.read_bytes()

    got = feedsite("add", "feeds/x.xml", "-c", str(path))

    assert got.returncode != 0
    assert "{path: feeds/file.xml}" in got.stderr
    assert path.read_bytes() == before


def test_what_cannot_be_added_exits_2_and_names_the_file(
    tmp_path: Path, instance: FeedServer
) -> None:
    path = project(tmp_path, instance, "feeds:\n  a:\n    b:\n      c: /x\n")
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline", encoding="utf-8")

    opml = feedsite("import-opml", str(broken), "-c", str(path))
    again = feedsite("add", "/x", "--category", "a", "--site", "b", "--feed", "c", "-c", str(path))

    assert opml.returncode == 2 and str(broken) in opml.stderr
    assert again.returncode == 2, again.stderr
