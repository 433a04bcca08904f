"""Hide access keys in URLs and messages, and credentials in proxy URLs.

Scope: pure string functions. Contains no business logic.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# RSSHub's ACCESS_KEY travels as the ``key`` query parameter.
_KEY_PARAM = re.compile(r"([?&;]key=)[^&#;\s\"'<>]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Replace the value of every ``key=`` query parameter in ``text`` with ``***``.

    Works on a bare URL or on a whole message that contains URLs.

    Args:
        text: a URL or a message.

    Returns:
        ``text`` with ``?key=secret`` / ``&key=secret`` shown as ``key=***``.
    """
    return _KEY_PARAM.sub(r"\1***", text)


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
