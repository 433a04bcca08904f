"""Images benchmark: local images against Pillow's own work on the same images.

What is measured, in one command (each step ``--repeat`` times, medians reported):

* **corpus images**: every image URL of ``../shared/corpora/rsshub-zh`` (the posts' covers and
  body images), each served by the loopback image host (``tests/helpers/imagehost.py``: every
  host behind one proxy, with the Referer rules of the real ones) as a deterministic JPEG,
  PNG or GIF of 400-1600 px made from its URL.
* **pillow** (the baseline): in this process, from bytes already in memory, what any tool that
  serves resized images must do with Pillow: ``Image.open`` + ``load``, resize to at most
  ``images.width`` and encode WebP, the 640 px ``srcset`` version when wider, and a 480×300
  card thumbnail for covers -- the same files feedsite writes.
* **feedsite**: :func:`feedsite._fetch.fetch_images_sync` (HTTP through the proxy, Referer
  chains, size cap, sniffing) then :func:`feedsite._clean._imagedata.process` on a thread per
  core (as a run does): images per second, and the ratio to the baseline (target ≤ 1.5×).
* **1,000 new posts**: ``feedsite run`` as a subprocess on a fresh project of 50 feeds × 20
  posts, one image each (1,000 distinct images), ``images.mode: local`` against
  ``images.mode: hotlink``: the extra seconds a run spends on images, and per image.

Usage::

    .venv/bin/python bench/images.py                 # print the tables
    .venv/bin/python bench/images.py --write-docs    # and rewrite docs/benchmarks.md "Images"
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import median, replace_section, run_proc, subprocess_env  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from tests.helpers.feeds import Entry, rss  # noqa: E402
from tests.helpers.feedserver import Response  # noqa: E402
from tests.helpers.imagehost import ImageHost, image_for  # noqa: E402

from feedsite._clean import clean_html, image_urls  # noqa: E402
from feedsite._clean._imagedata import process, sniff  # noqa: E402
from feedsite._fetch import (  # noqa: E402
    ImageGot,
    ImageRequest,
    fetch_images_sync,
    referers_for,
)
from feedsite._parse import parse_feed  # noqa: E402
from feedsite.config import FetchConfig  # noqa: E402

CORPUS = ROOT.parent / "shared/corpora/rsshub-zh"
WIDTH, SMALL, THUMB = 1280, 640, (480, 300)


def corpus_urls() -> list[tuple[str, str | None, bool]]:
    """(image URL, article link, is a cover) of every post image of the corpus, http://
    (the loopback host cannot be https)."""
    out: dict[str, tuple[str, str | None, bool]] = {}
    for path in sorted(CORPUS.glob("*.xml")):
        feed = parse_feed(path.read_bytes(), url=path.as_uri())
        for item in feed.items:
            body = clean_html(
                item.content_html or item.summary_html or "",
                base_url=item.link,
                iframe_hosts=(),
            )
            for n, url in enumerate(image_urls(body, item.images)):
                url = "http://" + url.split("://", 1)[1]
                out.setdefault(url, (url, item.link, n == 0))
    return list(out.values())


def pillow(data: bytes, cover: bool) -> int:
    """The baseline: decode, resize, encode the same files with Pillow alone; bytes out."""
    written = 0
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        im = im.convert("RGBA" if "A" in im.getbands() else "RGB")
        w, h = im.size
        main = im.resize((WIDTH, round(h * WIDTH / w))) if w > WIDTH else im
        outs = [main]
        if w > SMALL * 1.25:
            outs.append(im.resize((SMALL, round(h * SMALL / w))))
        if cover:
            outs.append(ImageOps.fit(main, THUMB))
        for out in outs:
            buffer = io.BytesIO()
            out.save(buffer, "WEBP", quality=80, method=4)
            written += buffer.tell()
    return written


def measure_throughput(repeat: int) -> dict[str, object]:
    urls = corpus_urls()
    blobs = {url: image_for(url) for url, _link, _cover in urls}
    workers = max(1, min(4, os.cpu_count() or 1))
    base: list[float] = []
    ours: list[float] = []
    fetch_only: list[float] = []
    with ImageHost() as host:
        for url, _link, _cover in urls:
            host.host(url.split("/")[2])  # every corpus host, with its default behaviour
        settings = FetchConfig(proxy=host.proxy_url, max_body=10 * 1024 * 1024)
        requests = [
            ImageRequest(url, referers_for(url, link), allow_private=False)
            for url, link, _cover in urls
        ]
        covers = {url for url, _l, c in urls if c}
        for _ in range(repeat):
            started = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda u: pillow(blobs[u[0]], u[2]), urls))
            base.append(time.perf_counter() - started)

            started = time.perf_counter()
            got = fetch_images_sync(
                requests, settings, check=lambda d: None if sniff(d) else "not an image"
            )
            fetched = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                done = list(
                    pool.map(
                        lambda kv: process(
                            kv[1].data, max_width=WIDTH, thumb=THUMB if kv[0] in covers else None
                        ),
                        [(u, o) for u, o in got.outcomes.items() if isinstance(o, ImageGot)],
                    )
                )
            ours.append(time.perf_counter() - started)
            fetch_only.append(fetched - started)
            ok = sum(1 for d in done if hasattr(d, "files"))
    return {
        "images": len(urls),
        "ok": ok,
        "bytes_in": sum(map(len, blobs.values())),
        "pillow": median(base),
        "feedsite": median(ours),
        "fetch": median(fetch_only),
        "raw_pillow": base,
        "raw_feedsite": ours,
    }


NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def project(folder: Path, host: ImageHost, mode: str, feeds: int, per_feed: int) -> Path:
    site = host.host("feeds.test")
    lines = [
        "site:",
        f"  hexo_root: {folder / 'blog'}",
        "  timezone: Asia/Shanghai",
        "fetch:",
        f"  proxy: {host.proxy_url}",
        "images:",
        f"  mode: {mode}",
        "  time_budget: 30m",
        f"defaults: {{items_per_feed: {per_feed}}}",
        "feeds:",
        "  新闻:",
    ]
    for f in range(feeds):
        entries = [
            Entry(
                guid=f"g{f}-{i}",
                title=f"第 {f}-{i} 条",
                date=NOW - timedelta(minutes=f * per_feed + i),
                body=f'<p>正文 {i}</p><img src="http://img{f % 7}.bench.test/p/{f}/{i}.jpg">',
                link=f"https://news.example/{f}/{i}.html",
            )
            for i in range(per_feed)
        ]
        url = site.route(f"/f{f}.xml", Response.rss(rss(entries)))
        lines.append(f"    站点{f}:")
        lines.append(f"      头条: {url}")
    for n in range(7):
        host.host(f"img{n}.bench.test")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedsite.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "feedsite.yaml"


def measure_run(
    repeat: int, scratch: Path, feeds: int = 50, per_feed: int = 20
) -> dict[str, object]:
    env = subprocess_env(scratch)
    runs: dict[str, list[float]] = {"hotlink": [], "local": []}
    fetched = 0
    with ImageHost() as host:
        for r in range(repeat):
            for mode in ("hotlink", "local"):
                folder = scratch / f"run-{mode}-{r}"
                shutil.rmtree(folder, ignore_errors=True)
                config = project(folder, host, mode, feeds, per_feed)
                cmd = [
                    sys.executable,
                    "-m",
                    "feedsite",
                    "run",
                    "-c",
                    str(config),
                    "--json",
                    f"--now={NOW.isoformat()}",
                    "--seed=1",
                ]
                proc = run_proc(cmd, env=env)
                if proc.returncode != 0:
                    raise SystemExit(f"feedsite run failed ({mode}): {proc.stderr[-2000:]}")
                summary = json.loads(proc.stdout)
                if mode == "local":
                    fetched = summary["images"]["fetched"]
                runs[mode].append(proc.seconds)
                shutil.rmtree(folder, ignore_errors=True)
    extra = median(runs["local"]) - median(runs["hotlink"])
    return {
        "posts": feeds * per_feed,
        "fetched": fetched,
        "hotlink": median(runs["hotlink"]),
        "local": median(runs["local"]),
        "extra": extra,
        "per_image_ms": 1000 * extra / max(1, fetched),
        "raw": runs,
    }


def report(t: dict[str, object], r: dict[str, object]) -> str:
    ratio = float(t["feedsite"]) / float(t["pillow"])  # type: ignore[arg-type]
    verdict = "**pass**" if ratio <= 1.5 else "**fail**"
    lines = [
        "## Images",
        "",
        f"`bench/images.py` on {platform.node() or 'this machine'} ({os.cpu_count()} cores),"
        f" Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}. Both steps use"
        " the same images and a thread per core; the baseline reads them from memory, feedsite"
        " downloads them from the loopback image host first.",
        "",
        "| step | images | seconds | images/s |",
        "|---|---:|---:|---:|",
        f"| Pillow: decode + resize + WebP (main, 640 w, thumbnail) | {t['images']} |"
        f" {float(t['pillow']):.2f} | {int(t['images']) / float(t['pillow']):.0f} |",
        f"| feedsite: download + sniff + derivatives | {t['ok']} |"
        f" {float(t['feedsite']):.2f} | {int(t['ok']) / float(t['feedsite']):.0f} |",
        f"| (of which the download) | | {float(t['fetch']):.2f} | |",
        "",
        f"feedsite / Pillow: **{ratio:.2f}×** (target ≤ 1.5×): {verdict}."
        f" {int(t['bytes_in']) / 1e6:.1f} MB of images in.",
        "",
        f"A run of {r['posts']:,} new posts with one image each ({r['fetched']} downloaded),"
        " as a subprocess, `images.mode: local` against `hotlink`:",
        "",
        "| mode | seconds |",
        "|---|---:|",
        f"| hotlink | {float(r['hotlink']):.2f} |",
        f"| local | {float(r['local']):.2f} |",
        f"| extra for images | {float(r['extra']):.2f}"
        f" ({float(r['per_image_ms']):.1f} ms per image) |",
        "",
        f"Raw seconds: Pillow {', '.join(f'{x:.2f}' for x in t['raw_pillow'])};"  # type: ignore[attr-defined]
        f" feedsite {', '.join(f'{x:.2f}' for x in t['raw_feedsite'])};"  # type: ignore[attr-defined]
        f" runs {json.dumps({k: [round(x, 2) for x in v] for k, v in r['raw'].items()})}.",  # type: ignore[attr-defined]
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--run-repeat", type=int, default=1)
    parser.add_argument("--posts", type=int, default=1000, help="posts of the run step (×20)")
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    throughput = measure_throughput(args.repeat)
    scratch = Path(tempfile.mkdtemp(prefix="feedsite-images-", dir=args.scratch))
    try:
        run = measure_run(args.run_repeat, scratch, feeds=max(1, args.posts // 20))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = report(throughput, run)
    print(text)
    if args.write_docs:
        replace_section(ROOT / "docs/benchmarks.md", "## Images", text, "# Benchmarks\n")


if __name__ == "__main__":
    main()
