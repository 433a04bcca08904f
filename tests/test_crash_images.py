"""Kill `feedsite run` with SIGKILL while it writes local images (issue #12 acceptance).

"A killed run (SIGKILL during image writes) leaves no orphan and loses nothing, by the
crash tests' comparison." The same trials as tests/test_crash.py (copy a project, start
``feedsite run``, SIGKILL it, run it again to the end, compare with an uninterrupted run
from the same start), on a project whose feeds and images the loopback image host serves
(``images.mode: local``): every post has images on ``img*.test`` (some shared between
feeds), some have none (a generated cover). The feeds are on ``127.0.0.1`` rather than a
``*.test`` name: the image stage resolves each feed's host name (``_private_feeds``), and
40 lookups of a name that does not resolve cost ~2 s per run. The images are small JPEGs
(240-1000 px), so a run takes ~4 s. The comparison adds, to test_crash's
``Snapshot``, every file of the image folder, the ledger rows of target ``images`` and the
``images`` table. Half the kills wait until the run has begun writing images, so they land
while it writes them; after the rerun, no file of the image folder lacks a ``written``
ledger row and no temp file is left.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageDraw

from feedsite._targets._writer import TEMP_PREFIX
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import Response
from tests.helpers.imagehost import ImageHost
from tests.test_crash import NOW1, NOW2, Snapshot, feedsite, run_to_end, snapshot

pytestmark = pytest.mark.slow

FEEDS = 40
#: Kill trials per scenario.
TRIALS = 8
#: The image hosts (several, so downloads are not all behind one ``per_host`` limit).
IMAGE_HOSTS = ("img0.test", "img1.test", "img2.test", "img3.test")
#: Seconds after the first image write within which some trials kill (one batch's write).
WRITE_WINDOW = 0.05
IMAGES = Path("blog/source/feedsite-images")
STATE = Path(".feedsite/state.sqlite")


@dataclass(frozen=True, slots=True)
class ImagesSnapshot:
    """test_crash's snapshot and the local images: files, ledger rows, ``images`` rows."""

    base: Snapshot
    #: Every file under the image folder: relative path → bytes.
    files: dict[str, bytes]
    #: Every folder under the image folder (an empty one left behind shows here).
    folders: list[str]
    #: The ledger rows of target ``images`` (all but the stat's ``mtime_ns``).
    ledger: list[tuple[object, ...]]
    #: The ``images`` table (its one time, ``next_attempt``, comes from ``--now``) and
    #: ``image_placeholders``.
    rows: list[tuple[object, ...]]
    #: Each item's recorded image URLs (``items.image_urls``).
    item_images: list[tuple[object, ...]]


def image_files(project: Path) -> dict[str, bytes]:
    folder = project / IMAGES
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def take(project: Path) -> ImagesSnapshot:
    """The snapshot the trials compare with the reference run's."""
    folder = project / IMAGES
    folders = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir())
    with closing(sqlite3.connect(project / STATE)) as db:
        ledger = db.execute(
            "SELECT path, feed_key, item_id, state, sha256, key, size, pending_sha256,"
            " pending_key FROM files WHERE target = 'images' ORDER BY path"
        ).fetchall()
        rows = db.execute(
            "SELECT url, state, digest, files, size, host, referer, error, failures,"
            " next_attempt FROM images ORDER BY url"
        ).fetchall()
        rows += db.execute("SELECT host, digest FROM image_placeholders ORDER BY 1, 2").fetchall()
        item_images = db.execute(
            "SELECT feed_key, item_id, status, image_urls FROM items ORDER BY 1, 2"
        ).fetchall()
    return ImagesSnapshot(
        snapshot(project), image_files(project), folders, ledger, rows, item_images
    )


def differences(got: ImagesSnapshot, want: ImagesSnapshot) -> list[str]:
    """What differs between two snapshots (a few paths or rows of each kind)."""
    out = []
    for name, a, b in (
        ("posts", got.base.files, want.base.files),
        ("image files", got.files, want.files),
    ):
        extra, missing = sorted(a.keys() - b.keys())[:5], sorted(b.keys() - a.keys())[:5]
        changed = sorted(k for k in a.keys() & b.keys() if a[k] != b[k])[:5]
        if extra or missing or changed:
            out.append(f"{name}: extra {extra}, missing {missing}, changed {changed}")
    for name, rows, wanted in (
        ("state items", got.base.items, want.base.items),
        ("post records", got.base.posts, want.base.posts),
        ("image folders", got.folders, want.folders),
        ("image ledger rows", got.ledger, want.ledger),
        ("images rows", got.rows, want.rows),
        ("items' image URLs", got.item_images, want.item_images),
    ):
        if rows != wanted:
            only_got = [r for r in rows if r not in wanted][:3]
            only_want = [r for r in wanted if r not in rows][:3]
            out.append(
                f"{name} differ: only after the kill {only_got}, only in the reference {only_want}"
            )
    return out


def orphans(project: Path) -> list[str]:
    """Files of the image folder without a ``written`` ledger row holding their bytes, temp
    files anywhere in the blog, and ledger rows not ``written`` or without their file."""
    with closing(sqlite3.connect(project / STATE)) as db:
        rows = {
            path: (state, sha)
            for path, state, sha in db.execute(
                "SELECT path, state, sha256 FROM files WHERE target = 'images'"
            )
        }
    out = []
    for path, data in image_files(project).items():
        row = rows.get(path)
        if row is None or row != ("written", hashlib.sha256(data).hexdigest()):
            out.append(f"{path}: on disk, ledger row {row}")
    out += [
        f"{path}: row {row}, no file"
        for path, row in rows.items()
        if not (project / IMAGES / path).is_file()
    ]
    out += [f"{path}: row {row}" for path, row in rows.items() if row[0] != "written"]
    temp = [p for p in (project / "blog").rglob(f"{TEMP_PREFIX}*")]
    out += [f"temp file {p.relative_to(project)}" for p in temp]
    return out


def image_url(name: str) -> str:
    """The URL of image ``name`` (on one of the image hosts, picked by name)."""
    return f"http://{image_host(name)}/{name}.jpg"


def image_host(name: str) -> str:
    return IMAGE_HOSTS[sum(name.encode()) % len(IMAGE_HOSTS)]


@cache
def small_jpeg(name: str) -> bytes:
    """A deterministic JPEG for image ``name``, 240-1000 px wide (quick to derive; the
    wider ones get a ``-s`` file too)."""
    seed = hashlib.sha256(name.encode()).digest()
    width, height = 240 + seed[0] * 3, 180 + seed[1] * 2
    image = Image.new("RGB", (width, height), (seed[2], seed[3], seed[4]))
    ImageDraw.Draw(image).ellipse(
        (seed[5] % 100, seed[6] % 80, width - seed[7] % 100, height - seed[8] % 80),
        fill=(seed[9], seed[10], seed[11]),
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def images_of(feed: int, i: int) -> tuple[str, ...]:
    """Item ``i`` of feed ``feed``: its own image and one shared with other feeds; every
    fifth item has none (its post gets the site's generated cover)."""
    if (feed + i) % 5 == 0:
        return ()
    return (f"f{feed}-i{i}", f"shared-{(feed + i) % 23}")


def body(names: tuple[str, ...]) -> str:
    return "<p>正文</p>" + "".join(f'<p><img src="{image_url(n)}"></p>' for n in names)


def entries(feed: int, version: int) -> list[Entry]:
    """Feed ``feed``'s items: 4, the newest first; version 2 adds two newer ones (new
    images), so ``keep: 3`` prunes two more and the images only they used go."""

    def item(i: int, hours: float) -> Entry:
        date = NOW1 - timedelta(hours=hours)
        return Entry(f"f{feed}-i{i}", f"Feed {feed} item {i}", date, body(images_of(feed, i)))

    out = [item(i, i + 1) for i in range(4)]
    if version == 2:
        out = [item(i, 0.5 - i / 10) for i in (5, 4)] + out
    return out


def serve(host: ImageHost) -> None:
    """Both versions of every feed on ``127.0.0.1`` (``/v1/…``, ``/v2/…``), and their
    images on the image hosts."""
    site = host.host("127.0.0.1")
    hosts = {name: host.host(name) for name in IMAGE_HOSTS}
    for version in (1, 2):
        for n in range(FEEDS):
            site.route(f"/v{version}/{n}.xml", Response.rss(rss(entries(n, version))))
            for i in range(6):
                for name in images_of(n, i):
                    jpeg = Response(200, small_jpeg(name), content_type="image/jpeg")
                    hosts[image_host(name)].route(f"/{name}.jpg", jpeg)


def write_config(folder: Path, host: ImageHost, version: int) -> Path:
    """Write ``folder/feedsite.yaml``: the feeds of ``version``, local images, Hexo."""
    tree: dict[str, dict[str, dict[str, str]]] = {}
    for n in range(FEEDS):
        tree.setdefault(f"类别{n % 3}", {}).setdefault(f"站点{n % 7}", {})[f"源{n}"] = (
            f"http://127.0.0.1:{host.port}/v{version}/{n}.xml"
        )
    settings = {
        "site": {"hexo_root": "./blog", "timezone": "UTC"},
        "fetch": {"proxy": host.proxy_url, "retries": 0, "timeout": 10},
        "defaults": {"items_per_feed": 6, "keep": 3},
        "images": {"mode": "local"},
        "feeds": tree,
    }
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "feedsite.yaml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return folder


def wait_for_images(
    project: Path, proc: subprocess.Popen[bytes], start: frozenset[str], limit: float = 60
) -> float:
    """Poll until the run begins writing images: a file under the image folder that was
    not there at the start (a temp file counts), or a ledger row of target ``images`` that
    is not ``written``. Returns how long that took."""
    started = time.monotonic()
    db = project / STATE
    folder = project / IMAGES
    while time.monotonic() - started < limit and proc.poll() is None:
        if folder.is_dir() and any(
            p.relative_to(folder).as_posix() not in start for p in folder.rglob("*") if p.is_file()
        ):
            break
        if db.exists():
            try:
                with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)) as c:
                    pending = c.execute(
                        "SELECT 1 FROM files WHERE target = 'images' AND state != 'written' LIMIT 1"
                    ).fetchone()
                if pending:
                    break
            except sqlite3.OperationalError:
                pass  # not created yet, or busy
        time.sleep(0.002)
    return time.monotonic() - started


def pending_rows(project: Path) -> int:
    """The ledger rows of target ``images`` not ``written`` (read only: a killed run's
    state is left for the next run to recover)."""
    db = project / STATE
    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as c:
        (n,) = c.execute(
            "SELECT count(*) FROM files WHERE target = 'images' AND state != 'written'"
        ).fetchone()
    return int(n)


@dataclass(frozen=True, slots=True)
class Reference:
    """An uninterrupted run from ``base``: its result, how long it took, and when it began
    writing images."""

    base: Path
    now: datetime
    snapshot: ImagesSnapshot
    start: ImagesSnapshot | None
    duration: float
    images_at: float


def reference(base: Path, copy: Path, now: datetime) -> Reference:
    """Run a copy of ``base`` to the end, timing when it begins writing images."""
    start = take(base) if (base / STATE).exists() else None
    project = shutil.copytree(base, copy)
    started = time.monotonic()
    proc = feedsite(project, now)
    images_at = wait_for_images(project, proc, frozenset(start.files if start else ()))
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    return Reference(base, now, take(project), start, time.monotonic() - started, images_at)


@dataclass(frozen=True, slots=True)
class Trials:
    """What the kill trials of one scenario found."""

    problems: list[str]
    #: Kills that left some but not all of the run's image changes on disk.
    mid_write: int
    #: Kills that left a temp file or an unfinished ledger row of target ``images``.
    unfinished: int
    delays: list[float]


def kill_trials(ref: Reference, work: Path, trials: int) -> Trials:
    """Copy, start, SIGKILL, rerun to the end and compare, ``trials`` times."""
    rng = random.Random(20261205)
    start_files = ref.start.files if ref.start else {}
    problems: list[str] = []
    mid_write = unfinished = 0
    delays = []
    for trial in range(trials):
        project = shutil.copytree(ref.base, work / f"trial{trial}")
        proc = feedsite(project, ref.now)
        if trial % 2:
            # Wait until the run writes images, then a little more: the kill lands while
            # it writes the first batch (every fourth trial) or later in the image stage.
            waited = wait_for_images(project, proc, frozenset(start_files))
            window = WRITE_WINDOW if trial % 4 == 1 else ref.duration - ref.images_at
            extra = rng.uniform(0, max(WRITE_WINDOW, window * 0.8))
            time.sleep(extra)
            delay = waited + extra
        else:
            delay = rng.uniform(0.05, ref.duration)
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        delays.append(delay)
        on_disk = image_files(project)
        if on_disk != start_files and on_disk != ref.snapshot.files:
            mid_write += 1
        if any(n.rpartition("/")[2].startswith(TEMP_PREFIX) for n in on_disk) or pending_rows(
            project
        ):
            unfinished += 1
        run_to_end(project, ref.now)
        where = f"trial {trial} (killed after {delay:.2f} s)"
        problems += [f"{where}: {d}" for d in differences(take(project), ref.snapshot)]
        problems += [f"{where}: orphan {o}" for o in orphans(project)[:5]]
        shutil.rmtree(project)
    return Trials(problems, mid_write, unfinished, delays)


@pytest.fixture(scope="module")
def host() -> Iterator[ImageHost]:
    with ImageHost() as server:
        serve(server)
        yield server


@pytest.fixture(scope="module")
def references(host: ImageHost, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reference]:
    root = tmp_path_factory.mktemp("crash-images")
    fresh = write_config(root / "fresh", host, 1)
    first = reference(fresh, root / "ref-fresh", NOW1)
    # "update": the state, posts and images of a first run, then the feeds change.
    updated = shutil.copytree(root / "ref-fresh", root / "updated")
    write_config(updated, host, 2)
    return {"fresh": first, "update": reference(updated, root / "ref-update", NOW2)}


def test_reference_runs_wrote_and_deleted_images(references: dict[str, Reference]) -> None:
    fresh, update = references["fresh"].snapshot, references["update"].snapshot
    assert len(fresh.base.files) == FEEDS * 3  # keep: 3 of 4 items
    assert len(fresh.files) > 200 and len(fresh.ledger) == len(fresh.files)
    assert all(r[1] == "ok" for r in fresh.rows), "every image downloaded"
    assert any(p.startswith("covers/") for p in fresh.files), "items without an image"
    assert any(p.endswith("-s.webp") for p in fresh.files)
    assert any(p.endswith("-t.webp") for p in fresh.files)
    # The update pruned two items per feed (their own images went) and added two.
    gone, added = fresh.files.keys() - update.files.keys(), update.files.keys() - fresh.files.keys()
    assert len(gone) > 50 and len(added) > 50
    assert not orphans(references["update"].base.parent / "ref-update")
    # Image writing takes a while: the kills have room to land in it.
    for ref in references.values():
        assert ref.duration - ref.images_at > 0.1, (ref.duration, ref.images_at)


@pytest.mark.parametrize("scenario", ["fresh", "update"])
def test_sigkill_during_image_writes(
    references: dict[str, Reference], scenario: str, tmp_path: Path
) -> None:
    ref = references[scenario]
    result = kill_trials(ref, tmp_path, TRIALS)
    counts = (
        f"{result.mid_write} of {TRIALS} kills landed while images were written,"
        f" {result.unfinished} left unfinished rows or temp files;"
        f" killed after {[round(d, 2) for d in result.delays]} s"
    )
    assert not result.problems, counts + "\n" + "\n".join(result.problems)
    assert result.mid_write >= 2, counts
    assert result.unfinished >= 1, counts


def test_images_staged_but_never_written_are_downloaded_again(
    references: dict[str, Reference], tmp_path: Path
) -> None:
    """What a kill between a batch's stage transaction and its writes leaves, made by hand:
    the image's ``images`` row committed ``ok``, its ledger rows ``pending``, no files. The
    next run must download it again, as the uninterrupted run has it."""
    ref = references["fresh"]
    project = shutil.copytree(ref.base.parent / "ref-fresh", tmp_path / "p")
    with closing(sqlite3.connect(project / STATE)) as db, db:
        url, files = db.execute(
            "SELECT url, files FROM images WHERE state = 'ok' ORDER BY url LIMIT 1"
        ).fetchone()
        paths = [f[1] for f in json.loads(files)]
        for path in paths:
            db.execute(
                "UPDATE files SET state = 'pending', pending_sha256 = sha256, sha256 = NULL,"
                " pending_key = key, key = NULL WHERE target = 'images' AND path = ?",
                (path,),
            )
            (project / IMAGES / path).unlink()
    run_to_end(project, ref.now)
    assert all((project / IMAGES / p).is_file() for p in paths), f"{url}: {paths} lost"
    assert differences(take(project), ref.snapshot) == []
    assert orphans(project) == []
