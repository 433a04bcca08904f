"""Fetch many feeds concurrently: retries, failover, the run deadline, the limits.

Scope: scheduling (request slots, the run deadline), the per-feed loop (retry
a source as ``_policy.decide`` says, then fail over to the next), the records
of every try, and the sync wrapper. Contains no network details (``_http``,
``_file``) and no policy of its own (``_policy``); what a feed is comes in
as ``is_feed`` (a ``BodyCheck``: the image downloads of ``_images`` pass their own).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Callable, Sequence
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


@dataclasses.dataclass(frozen=True)
class Run:
    """What the feeds of one ``fetch_all`` call share.

    Attributes:
        settings: the call's settings.
        is_feed: the cheap "does this look like a feed" check (see ``BodyCheck``).
        clients: the httpx clients, by proxy.
        slots: the global and per-host request slots.
        deadline: the run deadline (``time.monotonic()``); None: no run budget.
        jitter: the retry jitter, a number in ``[0, 1)`` per call.
    """

    settings: FetchConfig
    is_feed: BodyCheck
    clients: Clients
    slots: Slots
    deadline: float | None
    jitter: Callable[[], float]

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
        host = None if is_file_url(source.url) else host_key(source.url)
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
            await asyncio.sleep(decision.delay)
        if request.one_server and (comebacks or is_retryable(result.problem)):
            break  # the next sources ask the same server: no use now
    return _gave_up(request, trail, comebacks)


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

    Per-feed problems (network, HTTP, not a feed, missing file, rate limits,
    the run deadline) never raise: they come back as ``FetchFailure``,
    ``Deferred`` or ``Skipped`` and do not affect the other feeds. Exceptions
    from ``is_feed`` or ``on_done`` are bugs and propagate (the other fetches
    are cancelled).

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
        slots = Slots(settings.concurrency, settings.per_host)
        run = Run(settings, is_feed, clients, slots, deadline, jitter)

        async def one(request: FetchRequest) -> None:
            outcome = await fetch_one(request, run)
            if keep:
                outcomes[request.key] = outcome
            if on_done is not None:
                on_done(request.key, outcome)

        try:
            async with asyncio.TaskGroup() as group:
                for request in requests:
                    group.create_task(one(request))
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
