"""Fetch many feeds concurrently, failing over between each feed's sources.

Scope: scheduling (one client, a semaphore), the failover loop and the sync
wrapper. Contains no business logic about what a feed is (``is_feed`` is given)
and no network details (see ``_http`` and ``_file``).

Shape for a later retry policy: ``fetch_one`` calls an ``Attempt`` once per
source; a retry policy wraps that ``Attempt`` and nothing else changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence

import httpx

from ._file import attempt_file, is_file_url
from ._http import attempt_http, build_client
from ._model import (
    AttemptResult,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    FetchSettings,
    Source,
    SourceFailed,
    Validators,
)

#: One try of one source: ``(source, its stored validators) -> result``.
Attempt = Callable[[Source, Validators | None], Awaitable[AttemptResult]]


def make_attempt(
    client: httpx.AsyncClient, settings: FetchSettings, is_feed: Callable[[bytes], bool]
) -> Attempt:
    """Return the single-source attempt: ``file:`` URLs from disk, the rest over HTTP.

    Args:
        client: the shared HTTP client.
        settings: timeouts and the body cap.
        is_feed: the cheap "does this look like a feed" check.
    """

    async def attempt(source: Source, validators: Validators | None) -> AttemptResult:
        if is_file_url(source.url):
            return await attempt_file(source, settings.max_body, is_feed)
        return await attempt_http(client, source, validators, settings, is_feed)

    return attempt


async def fetch_one(request: FetchRequest, attempt: Attempt) -> FetchOutcome:
    """Try ``request.sources`` in order until one answers.

    Args:
        request: the feed and its sources.
        attempt: tries one source once.

    Returns:
        The first ``Fetched`` or ``NotModified``, carrying the messages of the
        sources that failed before it; ``FetchFailure`` listing every attempt
        when all failed.
    """
    failures: list[str] = []
    for source in request.sources:
        result = await attempt(source, request.validators.get(source.label))
        if isinstance(result, SourceFailed):
            failures.append(result.message)
            continue
        return dataclasses.replace(result, attempts=tuple(failures))
    if not failures:
        return FetchFailure(message=f"{request.key}: no sources to fetch from", attempts=())
    return FetchFailure(message="; ".join(failures), attempts=tuple(failures))


def _check_unique_keys(requests: Sequence[FetchRequest]) -> None:
    seen: set[str] = set()
    for request in requests:
        if request.key in seen:
            raise ValueError(f"duplicate feed key in fetch requests: {request.key!r}")
        seen.add(request.key)


async def fetch_all(
    requests: Sequence[FetchRequest],
    settings: FetchSettings,
    is_feed: Callable[[bytes], bool],
    on_done: Callable[[str, FetchOutcome], None] | None = None,
) -> dict[str, FetchOutcome]:
    """Fetch every request, at most ``settings.concurrency`` feeds at a time.

    Per-feed problems (network, HTTP, not a feed, missing file) never raise:
    they come back as ``FetchFailure`` and do not affect the other feeds.
    Exceptions from ``is_feed`` or ``on_done`` are bugs and propagate (the
    other fetches are cancelled).

    Args:
        requests: the feeds; their keys must be unique.
        settings: concurrency, timeout, User-Agent, body cap.
        is_feed: cheap check that a 200 body is a feed; a body that fails it
            fails over to the next source.
        on_done: called with ``(key, outcome)`` as each feed finishes, in the
            event loop's thread.

    Returns:
        The outcome of every request, by key, in the order of ``requests``.

    Raises:
        ValueError: two requests share a key.
    """
    _check_unique_keys(requests)
    outcomes: dict[str, FetchOutcome] = {}
    semaphore = asyncio.Semaphore(settings.concurrency)

    async with build_client(settings) as client:
        attempt = make_attempt(client, settings, is_feed)

        async def run(request: FetchRequest) -> None:
            async with semaphore:
                outcome = await fetch_one(request, attempt)
            outcomes[request.key] = outcome
            if on_done is not None:
                on_done(request.key, outcome)

        try:
            async with asyncio.TaskGroup() as group:
                for request in requests:
                    group.create_task(run(request))
        except BaseExceptionGroup as group_error:
            if len(group_error.exceptions) == 1:
                raise group_error.exceptions[0] from None
            raise
    return {request.key: outcomes[request.key] for request in requests}


def fetch_all_sync(
    requests: Sequence[FetchRequest],
    settings: FetchSettings,
    is_feed: Callable[[bytes], bool],
    on_done: Callable[[str, FetchOutcome], None] | None = None,
) -> dict[str, FetchOutcome]:
    """Run ``fetch_all`` in a fresh event loop (not from inside a running loop).

    Args:
        requests: the feeds; their keys must be unique.
        settings: concurrency, timeout, User-Agent, body cap.
        is_feed: cheap check that a 200 body is a feed.
        on_done: called with ``(key, outcome)`` as each feed finishes.

    Returns:
        The outcome of every request, by key, in the order of ``requests``.
    """
    return asyncio.run(fetch_all(requests, settings, is_feed, on_done))
