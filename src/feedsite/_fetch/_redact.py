"""Hide access keys in URLs and messages, and credentials in proxy URLs.

Scope: pure string functions. Contains no business logic.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from feedsite import _url


def redact(text: str) -> str:
    """``text`` with credentials and secret query values shown as ``***``.

    Works on a bare URL or on a whole message that contains URLs; the rules live
    once, in :func:`feedsite._url.redact` (user and password of any URL, RSSHub's
    ``key``, ``token``, ``access_key``… see :data:`feedsite._url.SECRET_PARAMS`).

    Args:
        text: a URL or a message.

    Returns:
        ``text`` with ``https://user:pw@host/r?key=secret`` shown as
        ``https://***@host/r?key=***``.
    """
    return _url.redact(text)


def proxy_label(proxy: str) -> str:
    """Show a proxy URL without its user and password: ``scheme://host:port``.

    Args:
        proxy: an ``http(s)://[user:password@]host[:port]`` URL.

    Returns:
        The URL without credentials, path or query.
    """
    parts = urlsplit(proxy)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}"
