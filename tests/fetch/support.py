"""Shared helpers of the fetch tests: quick settings, a pinned jitter, measuring a case.

Test support only. ``quick()`` gives settings with tiny backoffs so retries
cost milliseconds, and ``pinned_jitter`` makes their waits exact (pass it as
``fetch_all``'s ``jitter``); ``measured()`` records wall time and the
tracemalloc peak of a block.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from feedsite.config import FetchConfig


def quick(**overrides: Any) -> FetchConfig:
    """Settings for tests: short timeouts, millisecond backoffs (with ``pinned_jitter``)."""
    values: dict[str, Any] = {
        "concurrency": 4,
        "per_host": 4,
        "timeout": 5.0,
        "retries": 2,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    values.update(overrides)
    return FetchConfig(**values)


def pinned_jitter() -> float:
    """The tests' jitter: every retry waits 3/4 of its capped backoff."""
    return 0.5


@dataclass
class Measure:
    """What ``measured()`` saw: wall seconds and peak traced memory in bytes."""

    seconds: float = 0.0
    peak: int = 0

    @property
    def peak_mb(self) -> float:
        """The peak in MiB."""
        return self.peak / (1024 * 1024)


@contextmanager
def measured() -> Iterator[Measure]:
    """Measure the block: elapsed wall time and the tracemalloc peak above its start.

    tracemalloc sees every Python allocation of the process (the loopback
    server's threads included), so the peak bounds what the fetch held.
    """
    result = Measure()
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline, _ = tracemalloc.get_traced_memory()
    started = time.monotonic()
    try:
        yield result
    finally:
        result.seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        result.peak = max(0, peak - baseline)
        if started_tracing:
            tracemalloc.stop()
