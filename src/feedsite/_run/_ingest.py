"""Fetch and parse every due feed: the I/O shell around the fetch and parse stages.

Decides nothing: which feeds are due and in which order to try their RSSHub
instances come from the plan stage (``not_due``, ``source_order``); what to do
with each outcome is decided later by ``decide``.

:class:`FeedStream` hands each feed's outcome over as its fetch finishes (issue #16):
the fetches run in an event loop in a thread of their own, each body is parsed as soon as
it arrives and then dropped, and at most ``window`` parsed feeds wait to be taken -- the
fetches pause while the run is busy deciding and writing, so a run of thousands of feeds
holds a bounded number of documents. :meth:`FeedStream.stop` (SIGINT/SIGTERM) cancels the
fetches: feeds already fetched are kept, feeds in flight are abandoned whole (reported as
``skipped``), and the run goes on to write what it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from feedsite import _fetch
from feedsite._plan import FeedOutcome, not_due, source_order
from feedsite._records import InstanceIntent, StoredFeed
from feedsite._url import redact, with_param
from feedsite.config import Config, FeedSpec
from feedsite.errors import ParseError

#: Parsed feeds that may wait to be taken before the fetches pause.
WINDOW = 32
_END = object()


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
            url = with_param(url, "mode", "fulltext")
        if key:
            url = with_param(url, "key", key)
        sources.append(_fetch.Source(base, url))
    return tuple(sources)


class FeedStream:
    """Every configured feed's outcome, in the order the fetches finish (see the module
    docstring). Iterate once; afterwards :attr:`instances` and :attr:`stopped_by` are set.

    Feeds that are not due come first (``skipped``); with ``fetch`` False every feed comes
    at once with no outcome (the decider then keeps what the state has).
    """

    def __init__(
        self,
        config: Config,
        stored_feeds: Mapping[str, StoredFeed],
        instance_failures: Mapping[str, int],
        *,
        now: datetime,
        deadline: float | None,
        seed: int | None,
        on_feed_done: Callable[[str], None] | None,
        fetch: bool = True,
        window: int = WINDOW,
        watching: bool = False,
    ) -> None:
        self._config = config
        self._now = now
        self._deadline = deadline
        self._jitter = random.Random(seed).random if seed is not None else random.random
        self._on_feed_done = on_feed_done
        self._fetch = fetch
        self._by_key = {f.key: f for f in config.feeds}
        self._waiting: dict[str, FeedOutcome] = {}
        self._requests: list[_fetch.FetchRequest] = []
        for feed in config.feeds if fetch else ():
            stored = stored_feeds.get(feed.key)
            # In a plain run only a feed's own `interval:` holds it back (docs/watch.md).
            waiting = not_due(stored, now, by_interval=watching or feed.interval is not None)
            if waiting is not None:
                self._waiting[feed.key] = FeedOutcome("skipped", error=waiting)
                continue
            validators = stored.validators if stored else {}
            preferred = stored.preferred_source if stored else None
            sources = feed_sources(feed, config, preferred, instance_failures)
            self._requests.append(
                _fetch.FetchRequest(feed.key, sources, validators, proxy=feed.proxy)
            )
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, window))
        self._health: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Future[Any] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.instances: list[InstanceIntent] = []
        #: The signal that stopped the fetches, if one did.
        self.stopped_by: str | None = None

    def __iter__(self) -> Iterator[tuple[str, FeedOutcome | None]]:
        if not self._fetch:
            for feed in self._config.feeds:
                yield feed.key, None
            return
        yield from self._waiting.items()
        done: set[str] = set()
        if self._requests:
            self._thread = threading.Thread(target=self._work, name="feedsite-fetch", daemon=True)
            self._thread.start()
            try:
                while (got := self._queue.get()) is not _END:
                    done.add(got[0])
                    yield got
            finally:
                self.close()
        if self._error is not None:
            raise self._error
        for request in self._requests:
            if request.key not in done:
                why = f"stopped by {self.stopped_by}" if self.stopped_by else "not fetched"
                yield request.key, FeedOutcome("skipped", error=why)
        instances = set(self._config.rsshub.instances)
        self.instances = [
            InstanceIntent(label, ok, None if ok else "every request failed this run", self._now)
            for label, ok in sorted(self._health.items())
            if label in instances
        ]

    def stop(self, name: str) -> None:
        """Cancel the fetches (from a signal handler or another thread)."""
        with self._lock:
            if self.stopped_by is None:
                self.stopped_by = name
            self._cancel()

    def close(self) -> None:
        """Cancel what is still fetching and wait for the thread (idempotent)."""
        thread = self._thread
        if thread is None:
            return
        with self._lock:
            self._cancel()
        while thread.is_alive():  # let a fetch blocked on a full window finish
            try:
                if self._queue.get(timeout=0.05) is _END:
                    break
            except queue.Empty:
                pass
        thread.join()
        self._thread = None

    def _cancel(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile: nothing to cancel
                self._loop.call_soon_threadsafe(self._task.cancel)

    def _work(self) -> None:
        """The fetch thread: every request through ``fetch_all``, outcomes into the queue."""

        async def main() -> None:
            task = asyncio.ensure_future(
                _fetch.fetch_all(
                    self._requests,
                    self._config.fetch,
                    looks_like_feed,
                    self._done,
                    deadline=self._deadline,
                    jitter=self._jitter,
                    keep=False,
                )
            )
            with self._lock:
                self._loop, self._task = asyncio.get_running_loop(), task
                if self.stopped_by is not None:
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):  # stopped, or closed early
                await task

        try:
            asyncio.run(main())
        except BaseException as e:  # a bug: the run re-raises it in its own thread
            self._error = e
        finally:
            with self._lock:
                self._loop = self._task = None
            self._queue.put(_END)

    def _done(self, key: str, fetched: _fetch.FetchOutcome) -> None:
        """One fetch finished (in the fetch thread): parse, then hand over."""
        outcome = _outcome(self._by_key[key], fetched, self._config, self._now)
        for attempt in fetched.attempts:
            self._health[attempt.label] = self._health.get(attempt.label, False) or attempt.ok
        self._queue.put((key, outcome))
        if self._on_feed_done is not None:
            self._on_feed_done(key)


def looks_like_feed(body: bytes) -> bool:
    """The parse stage's cheap feed check, imported on the first body that arrives (a rerun
    where every feed answers 304 loads no parser)."""
    from feedsite._parse import looks_like_feed as check

    return check(body)


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
    """Fetch every due feed and parse what came back, all at once (``feedsite adopt``);
    SIGINT/SIGTERM stop the fetches as in a run."""
    stream = FeedStream(
        config,
        stored_feeds,
        instance_failures,
        now=now,
        deadline=deadline,
        seed=seed,
        on_feed_done=on_feed_done,
    )
    with on_signals(stream.stop):
        outcomes = {k: o for k, o in stream if o is not None}
    return Ingested(outcomes, stream.instances, stream.stopped_by)


def _interrupt(_number: int, _frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def on_signals(callback: Callable[[str], None]) -> Iterator[list[str]]:
    """While the block runs, SIGINT/SIGTERM call ``callback`` with the signal's name (and
    are listed in the yielded list) instead of interrupting; a second signal interrupts as
    usual (the crash-safe writes leave nothing half done; the next run settles them).
    Does nothing outside the main thread (tests, embedding)."""
    caught: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous: dict[signal.Signals, Any] = {}

    def handler(number: int, _frame: object) -> None:
        name = signal.Signals(number).name
        caught.append(name)
        for sig in previous:  # the next one is not polite: it interrupts at once
            signal.signal(sig, _interrupt)
        callback(name)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield caught
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _outcome(
    feed: FeedSpec, fetched: _fetch.FetchOutcome, config: Config, now: datetime
) -> FeedOutcome:
    """One fetch result as the decider's input value (parsing a body on the way)."""
    if isinstance(fetched, _fetch.FetchFailure):
        return FeedOutcome("failed", error=fetched.message)
    if isinstance(fetched, _fetch.NotModified):
        return FeedOutcome("not_modified", source=fetched.source.label, fresh_for=fetched.max_age)
    if isinstance(fetched, _fetch.Deferred):
        # The fetcher dates the comeback on the wall clock; carry the delay over
        # to the run's own clock (which tests pin), where every schedule lives.
        until = now + (fetched.until - datetime.now(UTC))
        return FeedOutcome("deferred", error=fetched.message, until=until)
    if isinstance(fetched, _fetch.Skipped):
        return FeedOutcome("skipped", error=fetched.reason)
    zone = ZoneInfo(feed.timezone or config.site.timezone or "UTC")
    try:
        from feedsite._parse import parse_feed  # loaded once a feed has changed

        parsed = parse_feed(
            fetched.body, url=fetched.final_url, content_type=fetched.content_type, default_tz=zone
        )
    except ParseError as e:
        # The URL is the real one (a base for relative links only in its public form,
        # see _parse); the message is printed: no credentials or keys in it.
        return FeedOutcome("failed", error=redact(str(e)))
    said = [s for s in (fetched.max_age, parsed.ttl and parsed.ttl * 60.0) if s is not None]
    return FeedOutcome(
        "parsed",
        parsed=parsed,
        source=fetched.source.label,
        validators=fetched.validators,
        fresh_for=max(said, default=None),
    )
