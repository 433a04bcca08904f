"""feedsite's exceptions: one tree, one root.

::

    FeedsiteError
    ├── ConfigError        invalid feedsite.yaml (names the key path and line)
    ├── FeedError          one feed could not be read (names the feed URL)
    │   ├── FetchError     network / HTTP failure, after failover
    │   └── ParseError     the bytes are not a feed we can read
    ├── StateError         the SQLite state file is unusable
    │   └── LockedError    another run holds the lock
    ├── TargetError        writing an output failed
    │   ├── UnsafePathError  a path would leave the output root
    │   ├── PostCheckError   a written post would not load in Hexo (names its path)
    │   └── HexoBuildError   npm or ``hexo generate`` failed (carries their error lines)
    ├── InitError          ``feedsite init`` would overwrite files or cannot write
    ├── UnknownItemError   ``feedsite remove``: no item has this id
    └── AdoptError         ``feedsite adopt`` cannot take an old site over
        └── OldPostError   one old post cannot be read (names its path)

Per-feed failures travel through the pipeline as values
(``feedsite._fetch.FetchFailure``, ``feedsite._plan.FeedOutcome("failed")``):
``ParseError`` is raised by ``parse_feed`` and turned into such a value right
where it is called. Exceptions cross the pipeline only for errors that stop
the whole run (config, state, lock).
"""

from __future__ import annotations


class FeedsiteError(Exception):
    """Root of every error feedsite raises on purpose."""


class ConfigError(FeedsiteError):
    """The configuration is invalid.

    Args:
        message: what is wrong.
        key_path: dotted key path, e.g. ``feeds.新媒体.观察者网.头条``.
        line: 1-based line in the config file, when known.
        file: the config file, when known.
    """

    def __init__(
        self, message: str, key_path: str = "", line: int | None = None, file: str = ""
    ) -> None:
        self.message = message
        self.key_path = key_path
        self.line = line
        self.file = file
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or "config"
        if self.line is not None:
            where += f", line {self.line}"
        if self.key_path:
            where += f", at {self.key_path}"
        return f"{where}: {self.message}"


class FeedError(FeedsiteError):
    """One feed failed. ``url`` names it (access keys redacted)."""

    def __init__(self, message: str, url: str = "") -> None:
        self.message = message
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)


class FetchError(FeedError):
    """The feed could not be fetched from any of its sources."""


class ParseError(FeedError):
    """The fetched bytes are not a feed feedsite can read."""


class ExtractError(FeedsiteError):
    """``feedsite extract``: the page cannot be read, or holds no article."""


class StateError(FeedsiteError):
    """The state database cannot be opened, migrated or written."""


class LockedError(StateError):
    """Another ``feedsite run`` holds the lock on this state."""


class UnknownItemError(FeedsiteError):
    """``feedsite remove``: the state knows no item with this id."""

    def __init__(self, item_id: str, state_path: object) -> None:
        super().__init__(
            f"no item {item_id!r} in the state {state_path}: item ids are the 16 hex digits"
            " of a post's file name"
        )
        self.item_id = item_id


class TargetError(FeedsiteError):
    """Writing an output (posts, a site) failed."""


class UnsafePathError(TargetError, ValueError):
    """A computed path would escape the output root."""


class AdoptError(FeedsiteError):
    """``feedsite adopt`` cannot take an old site over (e.g. no posts folder)."""


class OldPostError(AdoptError):
    """One old-script post cannot be read. Travels as a value in adopt's result.

    Args:
        path: the post's path, relative to the posts folder.
        message: what is wrong with it.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


class PostCheckError(TargetError):
    """A post would not load in Hexo as written (checked before Hexo runs).

    Args:
        path: the post file.
        reason: what is wrong with it.
    """

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class HexoBuildError(TargetError):
    """npm or ``hexo generate`` failed; the message carries the tool's own error lines."""


class InitError(FeedsiteError):
    """``feedsite init`` would overwrite files (without ``--force``) or cannot write."""
