"""Hide access keys in URLs and messages.

Scope: one pure string function. Contains no business logic.
"""

from __future__ import annotations

import re

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
