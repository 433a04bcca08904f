"""The fetch stage: get feed bytes over HTTP(S) (aiohttp) or from ``file:`` URLs.

Scope: public names only (re-exported from private modules). Contains no logic.

Each feed has one or more sources tried in order (failover); a transient
failure of a source is retried with capped, jittered backoff first (see
``_policy``); conditional GET uses stored validators; per-feed problems come
back as values: ``FetchFailure``, ``Deferred`` (a server asked for a long
pause) or ``Skipped`` (the run deadline passed). Every outcome carries the
``Attempt`` records of its tries; ``Fetched`` and ``NotModified`` also carry
``max_age``, how long the answer says it stays fresh (``freshness``).

It takes its settings as :class:`feedsite.config.FetchConfig` (built once from
the config) and the validators as :class:`feedsite.types.Validators`; what
varies per run (the deadline, the jitter) are arguments of ``fetch_all``, which
runs ``concurrency`` long-lived workers however many feeds it is given.

Post images (issue #12) go through the same machinery: ``fetch_images`` tries
each image's ``Referer`` candidates (``referers_for``) as sources, refuses
private addresses unless the feed came from one (``is_private_source``), and
detects hotlink placeholders.
"""

from ._address import is_private_source, private_check
from ._images import (
    ImageFetchResult,
    ImageGot,
    ImageMissed,
    ImageRequest,
    fetch_images,
    fetch_images_sync,
)
from ._model import (
    Attempt,
    BodyCheck,
    Deferred,
    Fetched,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    NotModified,
    Skipped,
    Source,
    UrlCheck,
    Verdict,
)
from ._policy import freshness
from ._referer import BUILTIN_REFERERS, referers_for
from ._runner import fetch_all, fetch_all_sync

__all__ = [
    "BUILTIN_REFERERS",
    "Attempt",
    "BodyCheck",
    "Deferred",
    "FetchFailure",
    "FetchOutcome",
    "FetchRequest",
    "Fetched",
    "ImageFetchResult",
    "ImageGot",
    "ImageMissed",
    "ImageRequest",
    "NotModified",
    "Skipped",
    "Source",
    "UrlCheck",
    "Verdict",
    "fetch_all",
    "fetch_all_sync",
    "fetch_images",
    "fetch_images_sync",
    "freshness",
    "is_private_source",
    "private_check",
    "referers_for",
]
