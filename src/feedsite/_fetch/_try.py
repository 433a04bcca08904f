"""What one try of one source gives, before the retry policy looks at it.

Scope: internal values passed from ``_http`` / ``_file`` to ``_runner`` and
``_policy``. Contains no logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._model import Fetched, NotModified

#: The kind of a failed try, as the retry policy sees it:
#: ``http`` - a response with an unwanted status (see ``Problem.status``);
#: ``timeout`` - connect, read or total timeout;
#: ``connect`` - the connection could not be opened (refused, DNS, proxy);
#: ``network`` - the connection broke (reset) after it was open;
#: ``protocol`` - a malformed or truncated response (e.g. Content-Length larger than sent);
#: ``final`` - retrying cannot help (not a feed, too large, bad URL, redirect loop...).
ProblemKind = Literal["http", "timeout", "connect", "network", "protocol", "final"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a try failed, reduced to what the retry policy needs.

    Attributes:
        kind: see ``ProblemKind``.
        status: the HTTP status, for kind ``http``.
        retry_after: seconds from now the server asked us to wait (its
            ``Retry-After``, parsed), for 429 and 503 only; None when absent.
    """

    kind: ProblemKind
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Success:
    """The try got the feed or a 304.

    Attributes:
        outcome: with ``attempts`` still empty (the runner fills them in).
        status: 200 or 304; None for a file.
        cause: ``"HTTP 200"``, ``"HTTP 304"`` or ``"read"``.
    """

    outcome: Fetched | NotModified
    status: int | None
    cause: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The try failed.

    Attributes:
        cause: precise and redacted, without the URL, e.g. ``"HTTP 503"``.
        problem: what the retry policy needs to know.
    """

    cause: str
    problem: Problem

    @property
    def status(self) -> int | None:
        """The HTTP status, when a response arrived."""
        return self.problem.status


TryResult = Success | Failed
