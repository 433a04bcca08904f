"""The fetch stage: get feed bytes over HTTP(S) or from ``file:`` URLs.

Scope: public names only (re-exported from private modules). Contains no logic.

Each feed has one or more sources tried in order (failover); a transient
failure of a source is retried with capped, jittered backoff first (see
``_policy``); conditional GET uses stored validators; per-feed problems come
back as values: ``FetchFailure``, ``Deferred`` (a server asked for a long
pause) or ``Skipped`` (the run deadline passed). Every outcome carries the
``Attempt`` records of its tries.

It takes its settings as :class:`feedsite.config.FetchConfig` (built once from
the config) and the validators as :class:`feedsite.types.Validators`; what
varies per run (the deadline, the jitter) are arguments of ``fetch_all``.
"""

from ._model import (
    Attempt,
    Deferred,
    Fetched,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    NotModified,
    Skipped,
    Source,
    Verdict,
)
from ._runner import fetch_all, fetch_all_sync

__all__ = [
    "Attempt",
    "Deferred",
    "FetchFailure",
    "FetchOutcome",
    "FetchRequest",
    "Fetched",
    "NotModified",
    "Skipped",
    "Source",
    "Verdict",
    "fetch_all",
    "fetch_all_sync",
]
