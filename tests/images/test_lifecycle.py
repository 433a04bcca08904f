"""The life of the local image files: shared by content, deleted with their last post, kept
within the budget (issue #12 acceptance).

Whole runs on a project whose feeds and images the loopback image host serves; the files
under ``source/feedsite-images`` and the ledger rows of target ``images`` are checked after
each run.
"""

from __future__ import annotations

import io
import random
import sqlite3
from contextlib import closing
from datetime import timedelta

from PIL import Image

from feedsite._run import run
from feedsite._url import safe_url
from feedsite.config import load_config
from tests.helpers.feedserver import Response
from tests.helpers.imagehost import ImageHost, image_for

from .conftest import NOW, Project, entry


def body(*urls: str) -> str:
    return "<p>正文</p>" + "".join(f'<p><img src="{u}"></p>' for u in urls)


def ledger(project: Project) -> dict[str, str]:
    """The ledger's rows of target ``images``: path → state."""
    with closing(sqlite3.connect(project.root / ".feedsite/state.sqlite")) as db:
        return dict(db.execute("SELECT path, state FROM files WHERE target = 'images'"))


def stems(project: Project) -> set[str]:
    """The content-addressed images on disk, by digest prefix (``ab/<digest20>``)."""
    return {
        name.split(".")[0].removesuffix("-s").removesuffix("-t")
        for name in project.image_files()
        if not name.startswith("covers/")
    }


def test_pruning_a_feed_deletes_its_own_images_and_keeps_shared_ones(
    project: Project, host: ImageHost
) -> None:
    img = host.host("img.test")
    shared, only_a, only_b = (img.url(f"/{n}.jpg") for n in ("shared", "only-a", "only-b"))
    # The same image also under another URL: one file (content-addressed).
    alias = img.route("/alias.jpg", Response(200, image_for(shared), content_type="image/jpeg"))
    project.feed("甲", [entry(1, body(shared, only_a))])
    project.feed("乙", [entry(2, body(shared, only_b, alias), hours_ago=1)])
    config = project.config()
    first = run(config, now=NOW, seed=1)
    assert first.images is not None and first.images.fetched == 4
    before = project.image_files()
    assert len(stems(project)) == 3  # shared and alias are one image
    assert set(ledger(project).values()) == {"written"}
    assert set(ledger(project)) == set(before)

    # Every post of 甲 goes: its feed leaves the config.
    path = project.root / "feedsite.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    甲:\n")
    end = text.index("    乙:\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    second = run(load_config(path), now=NOW + timedelta(hours=1), seed=1)
    assert [n for _label, n in second.removed_feeds] == [1]
    assert not (project.root / "blog/source/_posts/新闻/甲").exists() or not any(
        (project.root / "blog/source/_posts/新闻/甲").rglob("*.md")
    )
    after = project.image_files()
    assert len(stems(project)) == 2
    gone = set(before) - set(after)
    assert gone and all(before[n] not in after.values() for n in gone)
    assert set(after) <= set(before)  # nothing rewritten
    assert set(ledger(project)) == set(after)  # no orphan, no stale row
    post = project.post("乙")
    for url in (shared, only_b, alias):
        assert f'src="{safe_url(url)}"' not in post  # still served locally
    for src in post.split('src="/feedsite-images/')[1:]:
        assert src.split('"')[0].split(" ")[0] in after


def test_an_image_used_by_two_feeds_survives_the_pruning_of_one(
    project: Project, host: ImageHost
) -> None:
    img = host.host("img.test")
    shared = img.url("/both.jpg")
    project.feed("甲", [entry(1, body(shared))])
    project.feed("乙", [entry(2, body(shared), hours_ago=1)])
    project.extra = "defaults: {keep: 1}"
    config = project.config()
    run(config, now=NOW, seed=1)
    (name,) = [n for n in project.image_files() if not n.startswith("covers/")][:1]
    # 甲's post is pushed out by a newer item without an image (retention: keep 1).
    project.feed("甲", [entry(3, "<p>没有图</p>", hours_ago=-1), *project.feeds["甲"]])
    result = run(config, now=NOW + timedelta(hours=2), seed=1)
    assert result.counts().posts_pruned == 1
    assert name in project.image_files()  # 乙's post still uses it
    assert ledger(project)[name] == "written"
    # ...until 乙's post goes too.
    project.feed("乙", [entry(4, "<p>也没有图</p>", hours_ago=-1), *project.feeds["乙"]])
    run(config, now=NOW + timedelta(hours=3), seed=1)
    assert stems(project) == set()
    assert all(path.startswith("covers/") for path in ledger(project))


def noisy_jpeg(seed: int, size: tuple[int, int] = (900, 600)) -> bytes:
    """A photo-like image that does not compress: its WebP copies weigh hundreds of KB."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_over_budget_the_newest_posts_keep_local_images(project: Project, host: ImageHost) -> None:
    img = host.host("img.test")
    posts = 8
    urls = [
        img.route(f"/p{n}.jpg", Response(200, noisy_jpeg(n), content_type="image/jpeg"))
        for n in range(posts)
    ]
    # One feed per post, post n is n hours old (site 0 is the newest).
    for n, url in enumerate(urls):
        project.feed(f"站{n}", [entry(n, body(url), hours_ago=n)])
    # Without a budget, to know what every image weighs.
    unbounded = project.config(max_total="1GB")
    run(unbounded, now=NOW, seed=1)
    weights = {}
    files = project.image_files()
    for n in range(posts):
        post = project.post(f"站{n}")
        mine = {f for f in files if f.split(".")[0].split("-")[0] in post}
        weights[n] = sum(len(files[f]) for f in mine)
    total = sum(weights.values())
    assert total > 2 * 1024**2, total  # the budget below must bite
    budget = 1024**2 + 100 * 1024
    fits = 0
    used = 0
    while fits < posts and used + weights[fits] <= budget:
        used += weights[fits]
        fits += 1
    assert 0 < fits < posts

    # The same project with the budget (a site that shrinks it): the oldest posts' images go.
    bounded = project.config(max_total=f"{budget // 1024}KB")
    result = run(bounded, now=NOW + timedelta(minutes=10), seed=1)
    assert result.images is not None and result.images.over_budget == posts - fits
    on_disk = sum(len(d) for d in project.image_files().values())
    assert on_disk <= budget
    for n, url in enumerate(urls):
        post = project.post(f"站{n}")
        hotlinked = f'src="{safe_url(url)}"' in post
        assert hotlinked == (n >= fits), (n, fits)
        if hotlinked:
            assert 'referrerpolicy="no-referrer"' in post
    assert set(ledger(project)) == set(project.image_files())
