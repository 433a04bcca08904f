"""Scoring extracted article text against hand-marked text, and the article-extraction set.

Scope: test and benchmark support only. Contains no feedsite logic.

The rule is the one of ``../shared/corpora/article-extraction/README.md``: token-level
precision, recall and F1 of the extracted text against the expected text, where tokens are
the words left by splitting on whitespace and punctuation (``\\w+``, case kept) and every
CJK character (Han, kana, Hangul, full-width forms) is a token of its own. Tokens are
counted as a multiset (:class:`collections.Counter`): a paragraph extracted twice counts its
repeated words as false positives, as the benchmark's own ``evaluate.py`` counts its shingles.
A set's score is the mean of the pages' F1.

Note: the upstream benchmark scores 4-token shingles and takes F1 of the mean precision and
mean recall; this rule (single tokens, mean of per-page F1) is the one our README states, and
the only one that says something about Chinese text, which has no spaces between words.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

__all__ = ["article_set", "score", "tokens"]

#: Characters that are one token each when they are word characters (punctuation such as
#: "，" or "。" is no token): CJK ideographs (with extensions and compatibility forms), kana,
#: Hangul syllables and full-width forms.
_CJK = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
)
_TOKEN_RE = re.compile(rf"(?=\w)[{_CJK}]|[^\W{_CJK}]+")


def tokens(text: str) -> list[str]:
    """The tokens of ``text`` (see the module docstring)."""
    return _TOKEN_RE.findall(text or "")


def score(got: str, want: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``got`` against ``want``.

    Both empty: a perfect score (nothing to find, nothing found). One empty: 0.
    """
    g, w = Counter(tokens(got)), Counter(tokens(want))
    if not g and not w:
        return 1.0, 1.0, 1.0
    overlap = sum((g & w).values())
    if overlap == 0:
        return 0.0, 0.0, 0.0
    precision = overlap / sum(g.values())
    recall = overlap / sum(w.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def article_set(shared: Path) -> Iterator[tuple[str, bytes, str | None, str]]:
    """The pages of ``shared/corpora/article-extraction``, sorted by key.

    Yields:
        ``(key, html_bytes, url_or_None, expected_text)``: the page as served (gunzipped
        bytes), the URL it was fetched from (``ground-truth.json[key].url``) and the
        hand-marked article text (``articleBody``).
    """
    folder = shared / "corpora" / "article-extraction"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    for key in sorted(truth):
        entry = truth[key]
        data = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        yield key, data, entry.get("url") or None, entry.get("articleBody") or ""
