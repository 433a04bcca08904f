"""The full-text stage (issue #13): fetch the article pages the decision's items want,
extract their bodies, record them; then tell the decider which article each item's body
comes from. Decides nothing itself: ``_plan._fulltext`` says which pages to fetch, when to
try again and whether an article replaces the feed's body.

An article page goes through the feeds' fetch policy (timeouts, retries, per-host limits,
Retry-After, ``fetch.proxy``); a page that fails keeps the feed's own body and is tried again
after a backoff; extraction runs on a thread per core. docs/fulltext.md.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from feedsite._plan import Decision
from feedsite._plan._fulltext import (
    ArticleWant,
    after_failure,
    article_key,
    usable,
    wanted,
)
from feedsite._records import StoredArticle
from feedsite._store import State
from feedsite._url import safe_url, url_host
from feedsite.config import Config, FeedSpec, FetchConfig
from feedsite.errors import ExtractError
from feedsite.types import ParsedItem

__all__ = ["Articles", "FulltextReport", "run_fulltext"]

#: Pages larger than this are not read (an article page is rarely over 2 MB).
_MAX_PAGE = 5 * 1024 * 1024
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")


@dataclass(slots=True)
class FulltextReport:
    """What a run did with article pages (the summary, ``--json``)."""

    fetched: int = 0
    #: Extracted but too short to replace the feed's body.
    short: int = 0
    #: ``reason`` → how many pages failed or were refused this run.
    failed: dict[str, int] = field(default_factory=dict)

    def add(self, other: FulltextReport) -> None:
        """Count another batch's pages in."""
        self.fetched += other.fetched
        self.short += other.short
        for reason, n in other.failed.items():
            self.failed[reason] = self.failed.get(reason, 0) + n


@dataclass(frozen=True, slots=True)
class Articles:
    """What the decider and the clean stage need of the articles."""

    #: ``(feed_key, item_id)`` → ``_plan._fulltext.article_key`` (absent: the feed's body).
    keys: dict[tuple[str, str], str]
    #: ``(feed_key, item_id)`` → the extracted HTML its body is made from.
    html: dict[tuple[str, str], str]


def text_chars(html: str) -> int:
    """Characters of text in ``html``, white space left out (a quick measure)."""
    return len(_SPACE.sub("", _TAG.sub(" ", html)))


def _feed_body(item: ParsedItem) -> str:
    return item.content_html or item.summary_html or ""


def run_fulltext(
    config: Config,
    state: State,
    decision: Decision,
    *,
    now: datetime,
    dry_run: bool,
    seed: int | None,
    deadline: float | None,
) -> tuple[Articles, FulltextReport]:
    """Fetch and extract the article pages ``decision``'s kept items want; record them.

    Returns the articles each kept item of a full-text feed uses (for the decider's second
    pass and the clean stage), and the report.
    """
    report = FulltextReport()
    feeds = {f.key: f for f in config.feeds if f.fulltext.fetches_pages}
    if not dry_run and state.has_articles():  # pages of items the state forgot since
        with state.transaction() as tx:
            state.forget_unlinked_articles(tx)
    if not feeds:
        return Articles({}, {}), report
    kept = [c for c in decision.changes if c.kind != "pruned" and c.feed_key in feeds]
    if not kept:
        return Articles({}, {}), report
    # The item each kept post is made from: this run's version, else the stored one.
    stale = [
        (c.feed_key, c.item_id) for c in kept if (c.feed_key, c.item_id) not in decision.to_clean
    ]
    stored_items = state.item_data(stale)
    items: dict[tuple[str, str], ParsedItem] = {}
    for c in kept:
        k = (c.feed_key, c.item_id)
        given = decision.to_clean.get(k)
        if given is not None:
            items[k] = given
        elif k in stored_items:
            items[k] = stored_items[k].item
    wants: dict[tuple[str, str], ArticleWant] = {}
    for c in kept:
        k = (c.feed_key, c.item_id)
        item = items.get(k)
        link = safe_url(item.link) if item is not None and item.link else None
        if link is None or not link.startswith(("http://", "https://")):
            continue
        wants[k] = ArticleWant(
            c.feed_key, c.item_id, link, c.content_hash, feeds[c.feed_key].fulltext.key()
        )
    stored = state.articles({w.url for w in wants.values()})
    todo = [] if dry_run else wanted(wants.values(), stored, now)
    if todo:
        got = _fetch_and_extract(
            config, state, todo, feeds, items, stored, now, seed, deadline, report
        )
        rows, html = got
        with state.transaction() as tx:
            state.record_articles(tx, rows.values(), html)
        stored = {**stored, **rows}
    keys: dict[tuple[str, str], str] = {}
    for k, want in wants.items():
        key = article_key(stored.get(want.url), want.item_hash, want.setting)
        if key != "-":
            keys[k] = key
    html_by_url = state.article_html({wants[k].url for k in keys}) if keys else {}
    return (
        Articles(keys, {k: html_by_url[wants[k].url] for k in keys if wants[k].url in html_by_url}),
        report,
    )


def _fetch_and_extract(
    config: Config,
    state: State,
    todo: list[ArticleWant],
    feeds: Mapping[str, FeedSpec],
    items: Mapping[tuple[str, str], ParsedItem],
    stored: Mapping[str, StoredArticle],
    now: datetime,
    seed: int | None,
    deadline: float | None,
    report: FulltextReport,
) -> tuple[dict[str, StoredArticle], dict[str, str]]:
    """Fetch ``todo``'s pages, extract them; the rows to record and the HTML of the ok ones."""
    import dataclasses

    from feedsite import _fetch
    from feedsite._clean._extract import Extracted, extract

    from ._images import private_feeds

    settings = dataclasses.replace(config.fetch, max_body=_MAX_PAGE)
    # A feed's links may point anywhere: private addresses are refused (on every redirect
    # too) unless the feed itself came from one (tests, intranets), as for images.
    private = private_feeds(state, config)
    checks = {proxied: _fetch.private_check(resolve=not proxied) for proxied in (False, True)}
    requests = []
    for want in todo:
        proxy = feeds[want.feed_key].proxy
        proxied = bool(proxy if proxy is not None else config.fetch.proxy)
        requests.append(
            _fetch.FetchRequest(
                want.url,
                (_fetch.Source(want.url, want.url),),
                proxy=proxy,
                check_url=None if want.feed_key in private else checks[proxied],
            )
        )
    rng = random.Random(seed)
    outcomes = _fetch.fetch_all_sync(
        requests, settings, _is_page, deadline=deadline, jitter=rng.random
    )
    rows: dict[str, StoredArticle] = {}
    html: dict[str, str] = {}

    def work(want: ArticleWant) -> tuple[ArticleWant, StoredArticle, str | None]:
        outcome = outcomes.get(want.url)
        old = stored.get(want.url)
        failures = (old.failures if old is not None and old.state == "failed" else 0) + 1
        base = StoredArticle(want.url, "failed", want.item_hash, want.setting)
        if isinstance(outcome, _fetch.Fetched):
            fulltext = feeds[want.feed_key].fulltext
            got = extract(
                outcome.body,
                outcome.final_url,
                selector=fulltext.selector,
                content_type=outcome.content_type,
            )
            if isinstance(got, Extracted):
                item = items.get((want.feed_key, want.item_id))
                feed_chars = text_chars(_feed_body(item)) if item is not None else 0
                used = usable(len(_SPACE.sub("", got.text)), feed_chars)
                digest = hashlib.sha256(got.html.encode()).hexdigest()
                row = dataclasses.replace(base, state="ok", digest=digest, used=used)
                return want, row, got.html
            return want, dataclasses.replace(base, state="refused", error=got.reason), None
        if isinstance(outcome, _fetch.Skipped) or outcome is None:
            return want, old or dataclasses.replace(base, next_attempt=now), None
        if isinstance(outcome, _fetch.Deferred):
            message, until = outcome.message, outcome.until
        else:
            message, until = getattr(outcome, "message", "not fetched"), None
        later = after_failure(failures, now, until)
        row = dataclasses.replace(base, error=message, failures=failures, next_attempt=later)
        return want, row, None

    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        for want, row, body in pool.map(work, todo):
            rows[want.url] = row
            if body is not None:
                html[want.url] = body
                report.fetched += 1
                if not row.used:
                    report.short += 1
            elif row.state != "ok" and row.error and row is not stored.get(want.url):
                cause = row.error.rsplit(": ", 1)[-1][:80]
                reason = f"{url_host(want.url) or '?'}: {cause}"
                report.failed[reason] = report.failed.get(reason, 0) + 1
    return rows, html


def _is_page(body: bytes) -> bool | str:
    """Whether a 200 body may be an HTML page (cheap: the extractor decides)."""
    head = body[:2048].lstrip().lower()
    if head.startswith((b"%pdf", b"\x89png", b"\xff\xd8", b"gif8", b"pk\x03\x04")):
        return "not an HTML page"
    return True


def extract_page(
    source: str,
    *,
    url: str | None,
    selector: str | None,
    fetch: FetchConfig,
    iframe_hosts: tuple[str, ...] = (),
) -> tuple[str, str]:
    """``feedsite extract``: the article of a page (a file, or an http(s) URL fetched with
    the feeds' fetch policy), cleaned as a post body is; returns its HTML and its text.

    Raises:
        ExtractError: the page cannot be read or fetched, or holds no article.
    """
    import dataclasses
    from pathlib import Path

    from feedsite import _fetch
    from feedsite._clean import clean_html
    from feedsite._clean._extract import Extracted, extract

    content_type = None
    base: str | None
    if source.startswith(("http://", "https://")):
        settings = dataclasses.replace(fetch, max_body=_MAX_PAGE)
        request = _fetch.FetchRequest(source, (_fetch.Source(source, source),))
        outcome = _fetch.fetch_all_sync([request], settings, _is_page)[source]
        if not isinstance(outcome, _fetch.Fetched):
            why = getattr(outcome, "message", None) or getattr(outcome, "reason", "not fetched")
            raise ExtractError(f"{source}: {why}")
        data, content_type, base = outcome.body, outcome.content_type, url or outcome.final_url
    else:
        path = Path(source)
        try:
            data = path.read_bytes()[: _MAX_PAGE + 1]
        except OSError as e:
            raise ExtractError(f"{source}: cannot read: {e.strerror or e}") from None
        if len(data) > _MAX_PAGE:
            raise ExtractError(f"{source}: larger than {_MAX_PAGE // (1024 * 1024)} MB")
        base = url
    got = extract(data, base, selector=selector, content_type=content_type)
    if not isinstance(got, Extracted):
        raise ExtractError(f"{source}: {got.reason}")
    html = clean_html(got.html, base_url=base, iframe_hosts=iframe_hosts)
    return html, got.text
