"""The fetch stage: get feed bytes over HTTP(S) or from ``file:`` URLs.

Scope: public names only (re-exported from private modules). Contains no logic.

Each feed has one or more sources tried in order (failover); a transient
failure of a source is retried with capped, jittered backoff first (see
``_policy``); conditional GET uses stored validators; per-feed problems come
back as values: ``FetchFailure``, ``Deferred`` (a server asked for a long
pause) or ``Skipped`` (the run deadline passed). Every outcome carries the
``Attempt`` records of its tries.
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
    Validators,
    Verdict,
)
from ._runner import fetch_all, fetch_all_sync
from ._settings import FetchSettings

__all__ = [
    "Attempt",
    "Deferred",
    "FetchFailure",
    "FetchOutcome",
    "FetchRequest",
    "FetchSettings",
    "Fetched",
    "NotModified",
    "Skipped",
    "Source",
    "Validators",
    "Verdict",
    "fetch_all",
    "fetch_all_sync",
]
