"""Article extraction benchmark: feedsite's extractor against the libraries' own, same pages.

What is measured, in one command (each extractor over each set ``--repeat`` times, the median
pass reported):

* **English**: the 121 pages of ``../shared/corpora/article-extraction`` with their
  hand-marked article text.
* **Chinese**: the pages of ``tests/helpers/zhpages.py`` (real Chinese article bodies of
  ``../shared/corpora/rsshub-zh`` wrapped in generated page boilerplate; a quarter GBK) and
  the images each body holds.
* **extractors**, each given the page's bytes as served: feedsite's
  :func:`feedsite._clean._extract.extract` (``.text``); readability-lxml with its default
  settings (``Document(page).summary()``, its HTML turned into text by the same
  :func:`feedsite._clean._extract.html_text`); trafilatura with its default settings
  (``trafilatura.extract(page, url=url)``). A library that is not installed is skipped,
  and the report says so (feedsite depends on readability-lxml only; ``pip install
  trafilatura`` for the comparison).
* **score**: token-level precision, recall and F1 against the expected text
  (``tests/helpers/textscore.py``, the rule of the corpus README), the mean over pages;
  **images kept**: expected body images whose URL is an ``<img src>`` of the extracted HTML
  (resolved against the page URL), trafilatura's read from a second, untimed
  ``output_format="html", include_images=True`` call.
* **bounds**: feedsite's extractor on three hostile pages (200,000 nested ``<div>``; a flat
  page just under the element limit; text just under the text limit, 78 levels deep).

Usage::

    .venv/bin/python bench/extract.py                 # print the tables
    .venv/bin/python bench/extract.py --write-docs    # and rewrite docs/benchmarks.md "Full text"
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402
from _common import median, replace_section  # noqa: E402
from tests.helpers.textscore import article_set, score  # noqa: E402
from tests.helpers.zhpages import zh_pages  # noqa: E402

from feedsite._clean._extract import Extracted, extract, html_text  # noqa: E402


@dataclass(frozen=True, slots=True)
class Page:
    key: str
    data: bytes
    url: str
    want: str
    images: tuple[str, ...] = ()


#: An extractor: page bytes and URL in, (text, HTML or None) out.
Extractor = Callable[[bytes, str], tuple[str, str | None]]


def ours(data: bytes, url: str) -> tuple[str, str | None]:
    got = extract(data, url)
    return (got.text, got.html) if isinstance(got, Extracted) else ("", None)


def readability_default() -> Extractor | None:
    try:
        from readability import Document  # type: ignore[import-untyped]
    except ImportError:
        return None

    def run(data: bytes, url: str) -> tuple[str, str | None]:
        try:
            summary = Document(data).summary()
        except Exception:  # its Unparseable and whatever else a bad page raises: no text
            return "", None
        return html_text(lxml.html.fromstring(summary)), summary

    return run


def trafilatura_default() -> tuple[Extractor, Callable[[bytes, str], str]] | None:
    try:
        import trafilatura  # type: ignore[import-untyped]
    except ImportError:
        return None

    def run(data: bytes, url: str) -> tuple[str, str | None]:
        return trafilatura.extract(data, url=url) or "", None

    def images(data: bytes, url: str) -> str:
        return trafilatura.extract(data, url=url, output_format="html", include_images=True) or ""

    return run, images


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True, slots=True)
class Result:
    precision: float
    recall: float
    f1: float
    ms: float
    kept: int
    images: int
    raw_ms: tuple[float, ...]


def measure(
    run: Extractor, pages: list[Page], repeat: int, html_of: Callable[[bytes, str], str] | None
) -> Result:
    passes: list[float] = []
    texts: list[tuple[str, str | None]] = []
    for _ in range(repeat):
        texts = []
        started = time.perf_counter()
        for p in pages:
            texts.append(run(p.data, p.url))
        passes.append(time.perf_counter() - started)
    scores = [score(text, p.want) for (text, _html), p in zip(texts, pages, strict=True)]
    kept = total = 0
    for (_text, html), p in zip(texts, pages, strict=True):
        if not p.images:
            continue
        if html_of is not None:
            html = html_of(p.data, p.url)
        srcs = set()
        if html:
            root = lxml.html.fragment_fromstring(html, create_parent="div")
            srcs = {urljoin(p.url, str(s).strip()) for s in root.xpath("//img/@src")}
        total += len(p.images)
        kept += sum(1 for u in p.images if u in srcs)
    return Result(
        statistics.mean(s[0] for s in scores),
        statistics.mean(s[1] for s in scores),
        statistics.mean(s[2] for s in scores),
        1000 * median(passes) / len(pages),
        kept,
        total,
        tuple(1000 * x / len(pages) for x in passes),
    )


def bounds() -> list[tuple[str, float, str]]:
    para = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do. " * 3 + "</p>"
    cases = {
        "200,000 nested `<div>` (2.2 MB)": "<div>" * 200_000 + para + "</div>" * 200_000,
        "24,000 flat `<div>` (just under the element limit)": "<div>x, y</div>" * 24_000,
        "480,000 characters of text, 78 levels deep": "<html><body>"
        + "<div><p>intro text here, and more.</p>" * 78
        + para * 2_400
        + "</div>" * 78,
    }
    out = []
    for name, page in cases.items():
        started = time.perf_counter()
        got = extract(page, "https://example.com/a")
        seconds = time.perf_counter() - started
        what = got.method if isinstance(got, Extracted) else f"not extracted: {got.reason}"
        out.append((name, seconds, what))
    return out


def report(
    rows: list[tuple[str, Result | None, Result | None]],
    en: int,
    zh: int,
    b: list[tuple[str, float, str]],
) -> str:
    lines = [
        "## Full text",
        "",
        f"`bench/extract.py` on {platform.node() or 'this machine'} ({os.cpu_count()} cores),"
        f" Python {platform.python_version()}, lxml {version('lxml')},"
        f" {datetime.now(UTC):%Y-%m-%d}. Every extractor gets each page's bytes as served;"
        " scores are the mean over pages of token-level precision, recall and F1"
        " (`tests/helpers/textscore.py`); ms/page is the median pass. English: the"
        f" {en} pages of `article-extraction`; Chinese: the {zh} pages of"
        " `tests/helpers/zhpages.py` (rsshub-zh bodies in generated page boilerplate).",
        "",
        "| extractor | English F1 | P / R | ms/page | Chinese F1 | P / R | ms/page | images kept |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e, z in rows:
        if e is None or z is None:
            lines.append(f"| {name} | not installed: skipped | | | | | | |")
            continue
        lines.append(
            f"| {name} | **{e.f1:.3f}** | {e.precision:.3f} / {e.recall:.3f} | {e.ms:.1f} |"
            f" **{z.f1:.3f}** | {z.precision:.3f} / {z.recall:.3f} | {z.ms:.1f} |"
            f" {z.kept} / {z.images} |"
        )
    lines += [
        "",
        "Target (issue #13): feedsite's F1 ≥ 0.95 on both sets, every body image kept.",
        "",
        "Bounds: feedsite's extractor on hostile pages.",
        "",
        "| page | seconds | result |",
        "|---|---:|---|",
        *(f"| {name} | {seconds:.2f} | {what} |" for name, seconds, what in b),
        "",
        "Raw ms/page per pass: "
        + "; ".join(
            f"{name} {'/'.join(f'{x:.1f}' for x in e.raw_ms)} (en),"
            f" {'/'.join(f'{x:.1f}' for x in z.raw_ms)} (zh)"
            for name, e, z in rows
            if e is not None and z is not None
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    for name in ("readability", "trafilatura", "htmldate", "courlan"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    english = [Page(k, d, u or "", w) for k, d, u, w in article_set(args.shared)]
    chinese = [Page(p.key, p.html, p.url, p.text, p.images) for p in zh_pages(args.shared)]
    rows: list[tuple[str, Result | None, Result | None]] = []
    rows.append(
        (
            f"feedsite `extract` (readability-lxml {version('readability-lxml')} + adjustments)",
            measure(ours, english, args.repeat, None),
            measure(ours, chinese, args.repeat, None),
        )
    )
    rd = readability_default()
    name = f"readability-lxml {version('readability-lxml')}, default settings"
    if rd is None:
        rows.append((name, None, None))
    else:
        rows.append(
            (name, measure(rd, english, args.repeat, None), measure(rd, chinese, args.repeat, None))
        )
    tr = trafilatura_default()
    name = f"trafilatura {version('trafilatura')}, default settings"
    if tr is None:
        rows.append((name, None, None))
    else:
        rows.append(
            (
                name,
                measure(tr[0], english, args.repeat, None),
                measure(tr[0], chinese, args.repeat, tr[1]),
            )
        )
    text = report(rows, len(english), len(chinese), bounds())
    print(text)
    if args.write_docs:
        replace_section(ROOT / "docs/benchmarks.md", "## Full text", text, "# Benchmarks\n")


if __name__ == "__main__":
    main()
