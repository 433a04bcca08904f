"""Fetch and parse every due feed: the I/O shell around the fetch and parse stages.

Decides nothing: which feeds are due and in which order to try their RSSHub
instances come from the plan stage (``not_due``, ``source_order``); what to do
with each outcome is decided later by ``decide``. Each body is parsed as soon
as its fetch finishes and then dropped, so a run holds one document at a time
besides the parsed items. SIGINT/SIGTERM during fetching stop it cleanly: feeds
already fetched are kept, feeds in flight are abandoned whole (reported as
``skipped``), and the run goes on to write what it has.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feedsite import _fetch
from feedsite._parse import looks_like_feed, parse_feed
from feedsite._plan import FeedOutcome, not_due, source_order
from feedsite._records import InstanceIntent, StoredFeed
from feedsite._url import redact
from feedsite.config import Config, FeedSpec, FetchConfig
from feedsite.errors import ParseError


@dataclass(slots=True)
class Ingested:
    """What fetching and parsing produced."""

    outcomes: dict[str, FeedOutcome] = field(default_factory=dict)
    instances: list[InstanceIntent] = field(default_factory=list)
    #: Set when SIGINT/SIGTERM stopped the fetching.
    stopped_by: str | None = None


def feed_sources(
    feed: FeedSpec,
    config: Config,
    preferred: str | None,
    instance_failures: Mapping[str, int],
) -> tuple[_fetch.Source, ...]:
    """Where a feed can be fetched from, in the order to try them."""
    if feed.url is not None:
        return (_fetch.Source(feed.url, feed.url),)
    assert feed.route is not None
    key = config.rsshub.access_key
    order = source_order(config.rsshub.instances, preferred, instance_failures)
    sources = []
    for base in order:
        url = base + feed.route
        if feed.fulltext.mode == "rsshub":  # RSSHub's common parameter (docs/fulltext.md)
            url += ("&" if "?" in url else "?") + "mode=fulltext"
        if key:
            url += ("&" if "?" in url else "?") + "key=" + key
        sources.append(_fetch.Source(base, url))
    return tuple(sources)


def ingest(
    config: Config,
    stored_feeds: Mapping[str, StoredFeed],
    instance_failures: Mapping[str, int],
    *,
    now: datetime,
    deadline: float | None,
    seed: int | None,
    on_feed_done: Callable[[str], None] | None,
) -> Ingested:
    """Fetch every due feed and parse what came back."""
    result = Ingested()
    requests = []
    for feed in config.feeds:
        stored = stored_feeds.get(feed.key)
        waiting = not_due(stored, now)
        if waiting is not None:
            result.outcomes[feed.key] = FeedOutcome("skipped", error=waiting)
            continue
        validators = stored.validators if stored else {}
        preferred = stored.preferred_source if stored else None
        sources = feed_sources(feed, config, preferred, instance_failures)
        requests.append(_fetch.FetchRequest(feed.key, sources, validators, proxy=feed.proxy))

    by_key = {f.key: f for f in config.feeds}
    health: dict[str, bool] = {}
    instances = set(config.rsshub.instances)

    def done(key: str, fetched: _fetch.FetchOutcome) -> None:
        result.outcomes[key] = _outcome(by_key[key], fetched, config, now)
        for attempt in fetched.attempts:
            if attempt.label in instances:
                health[attempt.label] = health.get(attempt.label, False) or attempt.ok
        if on_feed_done is not None:
            on_feed_done(key)

    jitter = random.Random(seed).random if seed is not None else random.random
    result.stopped_by = _fetch_with_signals(
        requests, config.fetch, done, deadline=deadline, jitter=jitter
    )
    for request in requests:
        if request.key not in result.outcomes:
            why = f"stopped by {result.stopped_by}" if result.stopped_by else "not fetched"
            result.outcomes[request.key] = FeedOutcome("skipped", error=why)
    result.instances = [
        InstanceIntent(label, ok, None if ok else "every request failed this run", now)
        for label, ok in sorted(health.items())
    ]
    return result


def _outcome(
    feed: FeedSpec, fetched: _fetch.FetchOutcome, config: Config, now: datetime
) -> FeedOutcome:
    """One fetch result as the decider's input value (parsing a body on the way)."""
    if isinstance(fetched, _fetch.FetchFailure):
        return FeedOutcome("failed", error=fetched.message)
    if isinstance(fetched, _fetch.NotModified):
        return FeedOutcome("not_modified", source=fetched.source.label)
    if isinstance(fetched, _fetch.Deferred):
        # The fetcher dates the comeback on the wall clock; carry the delay over
        # to the run's own clock (which tests pin), where every schedule lives.
        until = now + (fetched.until - datetime.now(UTC))
        return FeedOutcome("deferred", error=fetched.message, until=until)
    if isinstance(fetched, _fetch.Skipped):
        return FeedOutcome("skipped", error=fetched.reason)
    zone = ZoneInfo(feed.timezone or config.site.timezone or "UTC")
    try:
        parsed = parse_feed(
            fetched.body, url=fetched.final_url, content_type=fetched.content_type, default_tz=zone
        )
    except ParseError as e:
        # The URL is the real one (a base for relative links only in its public form,
        # see _parse); the message is printed: no credentials or keys in it.
        return FeedOutcome("failed", error=redact(str(e)))
    return FeedOutcome(
        "parsed",
        parsed=parsed,
        source=fetched.source.label,
        validators=fetched.validators,
    )


def _fetch_with_signals(
    requests: list[_fetch.FetchRequest],
    settings: FetchConfig,
    done: Callable[[str, _fetch.FetchOutcome], None],
    *,
    deadline: float | None,
    jitter: Callable[[], float],
) -> str | None:
    """Run the fetches; SIGINT/SIGTERM cancel what is in flight. Returns the signal's name."""
    stopped: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(
            _fetch.fetch_all(
                requests, settings, looks_like_feed, done, deadline=deadline, jitter=jitter
            )
        )
        installed = []

        def stop(name: str) -> None:
            stopped.append(name)
            task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop, sig.name)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread: no signal handling (tests, embedding)
        try:
            await task
        except asyncio.CancelledError:
            if not stopped:
                raise
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)

    if requests:
        asyncio.run(main())
    return stopped[0] if stopped else None
