"""Fetch many feeds concurrently: retries, failover, the run deadline, the limits.

Scope: scheduling (``concurrency`` long-lived workers, request slots, the run
deadline), the per-feed loop (retry a source as ``_policy.decide`` says, then
fail over to the next), the records of every try, and the sync wrapper.
Contains no network details (``_http``, ``_file``) and no policy of its own
(``_policy``); what a feed is comes in as ``is_feed`` (a ``BodyCheck``: the
image downloads of ``_images`` pass their own).

Workers, not a task per feed (issue #16): ``fetch_all`` starts at most
``concurrency`` tasks, each taking the next feed from a ``_Dispatch`` until none
is left, so 10,000 feeds cost 8 tasks, not 10,000. Two rules keep what a task
per feed gave for free (feeds waiting in the semaphores' queues):

- The dispatch hands a worker the earliest feed whose first host has a free
  slot, and keeps feeds for a busy host aside: a worker does not wait for a
  host while feeds for other hosts are ready.
- A worker about to wait out a retry (backoff or ``Retry-After``) is replaced by
  a new one for the time of the wait (``_Crew``), so feeds that back off do not
  stall the others. Tasks: ``concurrency`` plus the feeds waiting to retry.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from feedsite.config import FetchConfig

from ._clients import Clients
from ._file import attempt_file, display_name, is_file_url
from ._http import attempt_http
from ._limits import Slots, host_key
from ._model import (
    Attempt,
    BodyCheck,
    Deferred,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    Skipped,
    Source,
    failure_messages,
)
from ._policy import Decision, Defer, Retry, decide, is_retryable
from ._redact import redact
from ._try import Failed, Success, TryResult

#: ``host_key``, remembered: the dispatch and ``fetch_one`` ask it for the same URL in turn.
_host_of = functools.lru_cache(maxsize=1024)(host_key)


class Traffic:
    """The request slots (``_limits.Slots``), and how many tries want each host.

    A try "wants" its host from the moment it asks for the host's slot until it
    gives it back, so ``has_room`` tells whether one more try would start at once.
    Does not decide which feed goes next (``_Dispatch`` does).

    Args:
        concurrency: requests in flight at once, in all.
        per_host: requests in flight at once to one host.
    """

    def __init__(self, concurrency: int, per_host: int) -> None:
        self._slots = Slots(concurrency, per_host)
        self._per_host = per_host
        self._wanting: Counter[str] = Counter()
        self._released: asyncio.Future[None] | None = None

    @asynccontextmanager
    async def hold(self, host: str | None) -> AsyncIterator[None]:
        """Hold a slot of ``host`` (None: a global slot only) for the block."""
        if host is None:
            async with self._slots.hold(None):
                yield
            return
        self._wanting[host] += 1
        try:
            async with self._slots.hold(host):
                yield
        finally:
            self._wanting[host] -= 1
            if not self._wanting[host]:
                del self._wanting[host]
            if self._released is not None and not self._released.done():
                self._released.set_result(None)
            self._released = None

    def has_room(self, host: str | None) -> bool:
        """Whether a try for ``host`` would get its host slot without waiting."""
        return host is None or self._wanting[host] < self._per_host

    async def released(self) -> None:
        """Wait until a host slot is given back."""
        if self._released is None:
            self._released = asyncio.get_running_loop().create_future()
        await self._released


@dataclasses.dataclass(frozen=True)
class Run:
    """What the feeds of one ``fetch_all`` call share.

    Attributes:
        settings: the call's settings.
        is_feed: the cheap "does this look like a feed" check (see ``BodyCheck``).
        clients: the aiohttp sessions, by proxy.
        slots: the global and per-host request slots.
        deadline: the run deadline (``time.monotonic()``); None: no run budget.
        jitter: the retry jitter, a number in ``[0, 1)`` per call.
        pause: waits out a retry delay (``_Crew.pause``: a worker stands in meanwhile).
    """

    settings: FetchConfig
    is_feed: BodyCheck
    clients: Clients
    slots: Traffic
    deadline: float | None
    jitter: Callable[[], float]
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep

    def remaining(self) -> float | None:
        """Seconds left before the run deadline (negative once past); None without one."""
        if self.deadline is None:
            return None
        return self.deadline - time.monotonic()

    def past_deadline(self) -> bool:
        """Whether the run deadline has passed (no new request may start)."""
        remaining = self.remaining()
        return remaining is not None and remaining <= 0

    async def try_once(self, source: Source, request: FetchRequest) -> TryResult:
        """One try of ``source``: from disk for ``file:`` URLs, else over HTTP(S)."""
        if is_file_url(source.url):
            return await attempt_file(source, self.settings.max_body, self._feed_check)
        proxy = request.proxy if request.proxy is not None else self.settings.proxy
        return await attempt_http(
            self.clients.get(proxy),
            source,
            request.validators.get(source.label),
            self.settings,
            self.is_feed,
            proxy or None,
            request.check_url,
        )

    def _feed_check(self, body: bytes) -> bool:
        """``is_feed`` as a plain yes/no, for ``file:`` sources (a reason means no)."""
        verdict = self.is_feed(body)
        return not isinstance(verdict, str) and bool(verdict)


def _source_name(source: Source) -> str:
    return display_name(source.url) if is_file_url(source.url) else redact(source.url)


def _seconds(value: float) -> str:
    """``3600`` -> ``"3600"``, ``3599.87`` -> ``"3599.9"``, ``0.5`` -> ``"0.5"``."""
    return f"{value:.1f}".removesuffix(".0")


def comeback_time(now: datetime, delay: float) -> datetime:
    """``now + delay``, rounded up to a whole second (as messages show it)."""
    until = now + timedelta(seconds=delay)
    if until.microsecond:
        until = until.replace(microsecond=0) + timedelta(seconds=1)
    return until


def _record(
    source: Source,
    number: int,
    result: Failed,
    elapsed: float,
    decision: Decision,
    now: datetime,
) -> Attempt:
    """The record of a failed try, with what the policy decided."""
    base = Attempt(
        label=source.label,
        url=_source_name(source),
        number=number,
        status=result.status,
        cause=result.cause,
        elapsed=elapsed,
        verdict="failover",
        kind=result.problem.kind,
    )
    match decision:
        case Retry(delay=delay):
            return dataclasses.replace(base, verdict="retry", wait=delay)
        case Defer(delay=delay, why=why):
            until = comeback_time(now, delay)
            note = (
                f"Retry-After {_seconds(delay)} s {why}: deferred until {until:%Y-%m-%dT%H:%M:%SZ}"
            )
            return dataclasses.replace(base, verdict="defer", wait=delay, note=note)
        case _:
            return dataclasses.replace(base, note=decision.note)


def _success_record(source: Source, number: int, result: Success, elapsed: float) -> Attempt:
    return Attempt(
        label=source.label,
        url=_source_name(source),
        number=number,
        status=result.status,
        cause=result.cause,
        elapsed=elapsed,
        verdict="not_modified" if result.status == 304 else "fetched",
    )


def _skipped(name: str, trail: list[Attempt]) -> Skipped:
    if not trail:
        return Skipped("run deadline passed before the fetch started")
    again = trail[-1].verdict == "retry" and trail[-1].url == name
    reason = f"run deadline passed before {'retrying' if again else 'trying'} {name}"
    failures = failure_messages(tuple(trail))
    if failures:
        reason += "; earlier: " + "; ".join(failures)
    return Skipped(reason, tuple(trail))


def _gave_up(
    request: FetchRequest, trail: list[Attempt], comebacks: list[datetime]
) -> FetchOutcome:
    if not trail:
        return FetchFailure(message=f"{request.key}: no sources to fetch from")
    attempts = tuple(trail)
    message = "; ".join(failure_messages(attempts))
    if comebacks:
        return Deferred(until=min(comebacks), message=message, attempts=attempts)
    return FetchFailure(message=message, attempts=attempts)


async def fetch_one(request: FetchRequest, run: Run) -> FetchOutcome:
    """Fetch one feed: each source in order, each retried per the policy, until one answers.

    No request starts after the run deadline: a feed that has not started gets
    ``Skipped``, and so does one with sources left untried.

    Args:
        request: the feed and its sources.
        run: what the feeds of this ``fetch_all`` share.

    With ``request.one_server``, a transient failure that used up its retries
    (or a deferral) ends the loop: the next sources would ask the same server.

    Returns:
        The first ``Fetched`` or ``NotModified``, carrying every try's record;
        else ``Deferred`` when a source asked for a long pause, else
        ``FetchFailure``; ``Skipped`` as above.
    """
    trail: list[Attempt] = []
    comebacks: list[datetime] = []
    for source in request.sources:
        name = _source_name(source)
        host = None if is_file_url(source.url) else _host_of(source.url)
        tries = 0
        while True:
            if run.past_deadline():
                return _skipped(name, trail)
            async with run.slots.hold(host):
                if run.past_deadline():
                    return _skipped(name, trail)
                started = time.monotonic()
                result = await run.try_once(source, request)
                elapsed = time.monotonic() - started
            tries += 1
            if isinstance(result, Success):
                trail.append(_success_record(source, tries, result, elapsed))
                return dataclasses.replace(result.outcome, attempts=tuple(trail))
            settings, now = run.settings, datetime.now(UTC)
            decision = decide(result.problem, tries, settings, run.jitter(), run.remaining())
            trail.append(_record(source, tries, result, elapsed, decision, now))
            if isinstance(decision, Defer):
                comebacks.append(comeback_time(now, decision.delay))
            if not isinstance(decision, Retry):
                break
            await run.pause(decision.delay)
        if request.one_server and (comebacks or is_retryable(result.problem)):
            break  # the next sources ask the same server: no use now
    return _gave_up(request, trail, comebacks)


def _first_host(request: FetchRequest) -> str | None:
    """The host of the request's first source (None: a file, or no source)."""
    if not request.sources or is_file_url(request.sources[0].url):
        return None
    return _host_of(request.sources[0].url)


class _Dispatch:
    """Hands the workers of one ``fetch_all`` their next feed, in request order where it can.

    A feed whose first host has no free slot is put aside (in order, per host)
    and the next one is looked at; a feed put aside goes first once its host has
    room. After the run deadline every feed goes out at once (``fetch_one`` skips
    it). Does not fetch.

    Args:
        requests: the feeds, in order.
        traffic: the slots, to ask which host has room.
        past_deadline: whether the run deadline passed (``Run.past_deadline``).
    """

    def __init__(
        self,
        requests: Sequence[FetchRequest],
        traffic: Traffic,
        past_deadline: Callable[[], bool],
    ) -> None:
        self._fresh: Iterator[tuple[int, FetchRequest]] = enumerate(requests)
        self._aside: dict[str | None, deque[tuple[int, FetchRequest]]] = {}
        self._traffic = traffic
        self._past_deadline = past_deadline
        self._exhausted = not requests

    @property
    def drained(self) -> bool:
        """Whether every feed was handed out."""
        return self._exhausted and not self._aside

    async def next(self) -> FetchRequest | None:
        """The next feed to fetch; None when every feed was handed out."""
        while True:
            request = self._ready()
            if request is not None or not self._aside:
                return request
            await self._traffic.released()

    def _ready(self) -> FetchRequest | None:
        """The earliest feed that can start now, or None (none left, or all wait)."""
        anyhow = self._past_deadline()
        hosts = [host for host in self._aside if anyhow or self._traffic.has_room(host)]
        if hosts:
            host = min(hosts, key=lambda h: self._aside[h][0][0])
            waiting = self._aside[host]
            _, request = waiting.popleft()
            if not waiting:
                del self._aside[host]
            return request
        for index, request in self._fresh:
            host = _first_host(request)
            if anyhow or self._traffic.has_room(host):
                return request
            self._aside.setdefault(host, deque()).append((index, request))
        self._exhausted = True
        return None


class _Crew:
    """The worker tasks of one ``fetch_all``: ``size`` at work, one waiting out a retry replaced.

    Each worker takes feeds from the dispatch and runs ``job`` on each until none
    is left. A worker that must wait before a retry (``pause``) stops counting as
    at work and a new worker is started meanwhile; when it comes back, the
    first worker to finish a feed while too many are at work stops. Does not
    choose feeds (``_Dispatch``) nor fetch them (``fetch_one``).

    Args:
        size: how many workers may be at work (``concurrency``).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._working = 0
        self._hire: Callable[[], None] | None = None

    def start(
        self,
        group: asyncio.TaskGroup,
        dispatch: _Dispatch,
        job: Callable[[FetchRequest], Awaitable[None]],
        workers: int,
    ) -> None:
        """Start ``workers`` workers (at most ``size``) in ``group``."""

        async def work() -> None:
            try:
                while self._working <= self._size:
                    request = await dispatch.next()
                    if request is None:
                        return
                    await job(request)
            finally:
                self._working -= 1

        def hire() -> None:
            if self._working >= self._size or dispatch.drained:
                return
            worker = work()
            try:
                group.create_task(worker)
            except RuntimeError:  # the group is shutting down (a bug was raised): no new work
                worker.close()
                return
            self._working += 1

        self._hire = hire
        for _ in range(min(workers, self._size)):
            hire()

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (a retry delay), with another worker at work meanwhile."""
        self._working -= 1
        if self._hire is not None:
            self._hire()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._working += 1


def _check_unique_keys(requests: Sequence[FetchRequest]) -> None:
    seen: set[str] = set()
    for request in requests:
        if request.key in seen:
            raise ValueError(f"duplicate feed key in fetch requests: {request.key!r}")
        seen.add(request.key)


async def fetch_all(
    requests: Sequence[FetchRequest],
    settings: FetchConfig,
    is_feed: BodyCheck,
    on_done: Callable[[str, FetchOutcome], None] | None = None,
    *,
    deadline: float | None = None,
    jitter: Callable[[], float] = random.random,
    keep: bool = True,
) -> dict[str, FetchOutcome]:
    """Fetch every request: at most ``concurrency`` requests in flight, ``per_host`` per host.

    ``concurrency`` worker tasks share the requests (see the module docstring);
    a slot is held for one try only, not during retry waits. Per-feed problems
    (network, HTTP, not a feed, missing file, rate limits, the run deadline)
    never raise: they come back as ``FetchFailure``, ``Deferred`` or
    ``Skipped`` and do not affect the other feeds. Exceptions from ``is_feed``
    or ``on_done`` are bugs and propagate (the other fetches are cancelled;
    two workers failing in the same turn of the loop raise an ``ExceptionGroup``).

    With a ``deadline``, no request starts after it and no retry wait passes
    it; requests already in flight finish (each within ``timeout``), so this
    returns at most about ``timeout`` seconds after the deadline.

    Args:
        requests: the feeds; their keys must be unique.
        settings: limits, timeouts, retries and backoff, proxy, User-Agent, body cap.
        is_feed: cheap check that a 200 body is a feed; a body that fails it
            fails over to the next source (it is not retried). It may return a
            string instead of False: the rejection's cause (see ``BodyCheck``).
        on_done: called with ``(key, outcome)`` as each feed finishes, in the
            event loop's thread.
        deadline: a ``time.monotonic()`` value: no request starts after it (feeds
            not started come back ``Skipped``), and no retry wait passes it.
            None means no run budget.
        jitter: returns a number in ``[0, 1)``; a retry waits ``d/2 + d/2 * jitter()``
            for the capped backoff ``d``. Pin it in tests (``lambda: 0.5``,
            ``random.Random(7).random``).
        keep: False hands each outcome to ``on_done`` only and keeps none (a run of
            thousands of feeds must not hold every body until the end).

    Returns:
        The outcome of every request, by key, in the order of ``requests`` (empty when
        not ``keep``).

    Raises:
        ValueError: two requests share a key.
    """
    _check_unique_keys(requests)
    outcomes: dict[str, FetchOutcome] = {}

    async with Clients(settings) as clients:
        traffic = Traffic(settings.concurrency, settings.per_host)
        crew = _Crew(settings.concurrency)
        run = Run(settings, is_feed, clients, traffic, deadline, jitter, crew.pause)
        dispatch = _Dispatch(requests, traffic, run.past_deadline)

        async def job(request: FetchRequest) -> None:
            outcome = await fetch_one(request, run)
            if keep:
                outcomes[request.key] = outcome
            if on_done is not None:
                on_done(request.key, outcome)

        try:
            async with asyncio.TaskGroup() as group:
                crew.start(group, dispatch, job, len(requests))
        except BaseExceptionGroup as group_error:
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise
    return {request.key: outcomes[request.key] for request in requests if request.key in outcomes}


def fetch_all_sync(
    requests: Sequence[FetchRequest],
    settings: FetchConfig,
    is_feed: BodyCheck,
    on_done: Callable[[str, FetchOutcome], None] | None = None,
    *,
    deadline: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> dict[str, FetchOutcome]:
    """Run ``fetch_all`` in a fresh event loop (not from inside a running loop).

    Args:
        requests: the feeds; their keys must be unique.
        settings: see ``fetch_all``.
        is_feed: cheap check that a 200 body is a feed.
        on_done: called with ``(key, outcome)`` as each feed finishes.
        deadline: the run deadline; see ``fetch_all``.
        jitter: the retry jitter; see ``fetch_all``.

    Returns:
        The outcome of every request, by key, in the order of ``requests``.
    """
    return asyncio.run(
        fetch_all(requests, settings, is_feed, on_done, deadline=deadline, jitter=jitter)
    )
