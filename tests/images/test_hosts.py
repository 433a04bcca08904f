"""What real image hosts do, reproduced by the loopback image host, through whole runs.

Each site of the project has one post whose image meets one behaviour (a Referer ACL, a
hotlink placeholder, an article-only Referer, lies, a 50 MB image, a bomb, HTML, SVG with
script, a trickle, 404 then 200, a private address); one run downloads what it can, and
each post is checked: served locally (Hexo post, native page, files) or hotlinked with
``referrerpolicy="no-referrer"`` and the failure recorded and reported.
"""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest
from PIL import Image

from feedsite._run import image_status, run
from feedsite._run._build import build_native
from feedsite._url import safe_url
from tests.helpers.imagehost import PLACEHOLDER_PNG, ImageHost

from .conftest import NOW, Project, entry


def img(url: str) -> str:
    return f'<p>正文</p><p><img src="{url}"></p>'


@pytest.fixture
def cases(project: Project, host: ImageHost) -> dict[str, str]:
    """site name → the image URL of its post."""
    zaobao = host.host("static.zaobao.com")
    urls = {
        "微博": host.host("wx1.sinaimg.cn").url("/large/a1.jpg"),
        "微信": host.host("mmbiz.qpic.cn").url("/mmbiz_jpg/abc/640?wx_fmt=jpeg"),
        "联合早报": zaobao.url("/news/z1.jpg"),
        "谎报类型": host.host("img.lie.test").lie("/p.png", "text/html"),
        "超大图": host.host("img.big.test").big("/huge.png"),
        "像素炸弹": host.host("img.bomb.test").bomb("/bomb.png"),
        "网页": host.host("img.html.test").html("/a.jpg", "image/jpeg"),
        "矢量脚本": host.host("img.svg.test").svg("/x.svg"),
        "龟速": host.host("img.slow.test").trickle("/slow.jpg", 0.5),
        "先404": host.host("img.flaky.test").fail_first("/later.jpg", 2),  # article, none
        "内网": "http://127.0.0.1:9/secret.png",
    }
    for n, (site, url) in enumerate(urls.items()):
        link = f"https://www.zaobao.com/news/{n}.html" if site == "联合早报" else None
        if link:
            zaobao.expect_article(url, link)
        project.feed(site, [entry(n, img(url), hours_ago=n, link=link)])
    return urls


LOCAL = ("微博", "微信", "联合早报", "谎报类型")
HOTLINKED = {
    "超大图": "larger than",
    "像素炸弹": "pixels is more than",
    "网页": "not an image",
    "矢量脚本": "SVG refused",
    "龟速": "timed out",
    "先404": "HTTP 404",
    "内网": "loopback address 127.0.0.1 refused",
}


def rows(project: Project) -> dict[str, tuple[str, str | None]]:
    with closing(sqlite3.connect(project.root / ".feedsite/state.sqlite")) as db:
        return {u: (s, e) for u, s, e in db.execute("SELECT url, state, error FROM images")}


def test_each_host_behaviour_has_its_outcome(
    project: Project, host: ImageHost, cases: dict[str, str]
) -> None:
    config = project.config()
    result = run(config, now=NOW, seed=1)
    assert result.counts().posts_new == len(cases)
    stored = rows(project)
    for site in LOCAL:
        url = safe_url(cases[site])
        assert stored[url][0] == "ok", (site, stored[url])
        post = project.post(site)
        assert 'headimg: "/feedsite-images/' in post, site
        assert 'thumbnail: "/feedsite-images/' in post and '-t.webp"' in post
        assert url.replace("&", "&amp;") not in post.split("---", 2)[2], site  # body rewritten
    for site, reason in HOTLINKED.items():
        url = safe_url(cases[site])
        state, error = stored[url]
        assert state in ("failed", "refused") and reason in (error or ""), (site, stored[url])
        post = project.post(site)
        assert f'src="{url}"' in post and 'referrerpolicy="no-referrer"' in post, site
    # What each host was asked.
    assert "https://weibo.com/" in host.referers(cases["微博"])
    assert host.referers(cases["微信"])[-1] is None  # the real image: no Referer
    assert host.referers(cases["联合早报"])[-1] == "https://www.zaobao.com/news/2.html"
    # Refused by its Content-Length: what the server pushed into the socket was not read.
    assert host.sent(cases["超大图"]) < 10 * 1024 * 1024
    assert not any(h == "127.0.0.1" for h, _p, _r in host.requests)
    # Every file served is a real, decodable raster image; nothing else was written.
    files = project.image_files()
    assert files and all(name.endswith((".webp", ".jpg", ".gif", ".png")) for name in files)
    for data in files.values():
        assert data != PLACEHOLDER_PNG
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
    # The summary and the status report them.
    report = result.images
    assert report is not None and report.fetched == len(LOCAL)
    assert sum(report.failed.values()) == len(HOTLINKED)
    assert any(k.startswith("img.bomb.test:") for k in report.failed)
    status = image_status(config)
    assert status["local"] == len(LOCAL) and status["bytes_on_disk"] == sum(
        len(d) for d in files.values()
    )
    assert {p["host"] for p in status["problems"]} >= {"img.big.test", "img.flaky.test"}


def test_a_404_is_retried_later_and_the_post_then_rendered_again(
    project: Project, host: ImageHost, cases: dict[str, str]
) -> None:
    config = project.config()
    run(config, now=NOW, seed=1)
    url = safe_url(cases["先404"])
    assert f'src="{url}"' in project.post("先404")
    # Within the backoff nothing is asked again.
    run(config, now=NOW + timedelta(minutes=5), seed=1)
    assert len(host.requests_for(cases["先404"])) == 2  # the article, then no Referer
    later = run(config, now=NOW + timedelta(hours=1), seed=1)
    assert rows(project)[url][0] == "ok"
    assert later.counts().posts_updated >= 1
    post = project.post("先404")
    assert f'src="{url}"' not in post and 'src="/feedsite-images/' in post
    # A refused image (the bomb) is never asked again.
    assert len(host.requests_for(cases["像素炸弹"])) == 1


def test_the_native_site_serves_the_same_images(project: Project, cases: dict[str, str]) -> None:
    config = project.config()
    run(config, now=NOW, seed=1)
    built = build_native(config)
    out = built.out
    copied = {
        p.relative_to(out / "feedsite-images").as_posix()
        for p in (out / "feedsite-images").rglob("*")
        if p.is_file()
    }
    assert copied == set(project.image_files())
    pages = "".join(p.read_text(encoding="utf-8") for p in (out / "posts").glob("*.html"))
    assert pages.count('src="../feedsite-images/') >= len(LOCAL)
    home = (out / "index.html").read_text(encoding="utf-8")
    assert home.count('src="feedsite-images/') == len(LOCAL)  # card thumbnails
