"""The fetch stage: get feed bytes over HTTP(S) or from ``file:`` URLs.

Scope: public names only (re-exported from private modules). Contains no logic.

Each feed has one or more sources tried in order (failover); conditional GET
uses stored validators; per-feed failures come back as ``FetchFailure`` values.
"""

from ._model import (
    Fetched,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    FetchSettings,
    NotModified,
    Source,
    Validators,
)
from ._runner import fetch_all, fetch_all_sync

__all__ = [
    "FetchFailure",
    "FetchOutcome",
    "FetchRequest",
    "FetchSettings",
    "Fetched",
    "NotModified",
    "Source",
    "Validators",
    "fetch_all",
    "fetch_all_sync",
]
