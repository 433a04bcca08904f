"""Rules, judged: does a feed's :class:`~feedsite._config._rules.RuleSet` hide an item? Pure.

Does not read the clock (``now`` is a parameter), rewrite bodies
(``feedsite._clean._rewrite``) or decide what happens to a hidden item (the plan
tombstones it as "filtered"). Syntax and semantics: docs/rules.md.

Order, so that one item is always blamed on the same rule: ``block`` (fields in the order
the merged set lists them, patterns in written order, parents' first), then each level's
``keep`` (top first), then ``max_age``. The first rule that hides the item is the
:class:`Blocked` label.

Matching: a keyword is a case-insensitive literal (RE2's ``i``: Unicode simple case folding,
so Ä matches ä and Σ matches ς, but ß does not match ss); an expression is RE2 with its
flags. A category pattern matches when it matches any one category.

Speed: a :class:`Matcher` compiles a set once (:func:`judge` keeps the last sets' matchers);
per item, a field is UTF-8 encoded once, on first use, and all its patterns, keywords and
expressions, are searched as one RE2 alternation (one linear pass); which pattern matched is
worked out only for an item that is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feedsite._config._rules import (
    FieldPatterns,
    Pattern,
    Regex,
    RuleSet,
    compile_regex,
    regex_source,
    show_duration,
)
from feedsite._config._tree import quote

__all__ = ["Blocked", "ItemFields", "Matcher", "judge", "matcher"]


@dataclass(frozen=True, slots=True)
class ItemFields:
    """What rules may test of one item."""

    title: str
    #: The body's plain text (``feedsite._clean._rewrite.plain_text``; "" when the set's
    #: ``needs_content`` is False, or when its ``TextProbe`` found that no ``content``
    #: pattern can match: nothing would read it then).
    content: str
    author: str
    link: str
    #: The item's categories / tags: a pattern matches the field when it matches any one.
    categories: tuple[str, ...]
    #: The item's time: its date, else when feedsite first saw it (aware UTC).
    time: datetime


@dataclass(frozen=True, slots=True)
class Blocked:
    """Why an item is hidden: the rule that hides it, for people."""

    #: ``block.title "广告" (rules.block.title[0], line 12)``, ``keep.title [...] (...)`` or
    #: ``max_age 7d``.
    rule: str


_INDEX = re.compile(r"\[\d+\]\Z")
_GETTERS: dict[str, Callable[[ItemFields], tuple[str, ...]]] = {
    "title": lambda item: (item.title,),
    "content": lambda item: (item.content,),
    "author": lambda item: (item.author,),
    "link": lambda item: (item.link,),
    "category": lambda item: item.categories,
}


class _Values:
    """One item's field values, UTF-8 encoded on first use (RE2 searches bytes)."""

    __slots__ = ("_encoded", "item")

    def __init__(self, item: ItemFields) -> None:
        self.item = item
        self._encoded: dict[str, tuple[bytes, ...]] = {}

    def encoded(self, field: str) -> tuple[bytes, ...]:
        out = self._encoded.get(field)
        if out is None:
            out = self._encoded[field] = tuple(
                v.encode("utf-8", "replace") for v in _GETTERS[field](self.item)
            )
        return out


class _Test:
    """One field's patterns compiled into one RE2 alternation (keywords as literals)."""

    __slots__ = ("field", "patterns", "regexes")

    def __init__(self, field: str, patterns: tuple[Pattern, ...]) -> None:
        self.field = field
        self.patterns = patterns
        self.regexes = _combined(patterns)

    def hits(self, values: _Values) -> bool:
        for data in values.encoded(self.field):
            for regex in self.regexes:
                if regex.search(data) is not None:
                    return True
        return False

    def first(self, values: _Values) -> Pattern | None:
        """The first pattern, in written order, that matches (slow path: hidden items only)."""
        for p in self.patterns:
            regex = compile_regex(regex_source(p))
            if any(regex.search(data) is not None for data in values.encoded(self.field)):
                return p
        return None


def _combined(patterns: tuple[Pattern, ...]) -> tuple[Regex, ...]:
    """One RE2 alternation of ``patterns``; one expression each if RE2 refuses the whole
    (too big, or named groups that clash)."""
    if len(patterns) > 1:
        try:
            return (compile_regex("|".join(regex_source(p) for p in patterns)),)
        except ValueError:
            pass
    return tuple(compile_regex(regex_source(p)) for p in patterns)


class _Keep:
    """One level's ``keep``: every field listed must match one of its patterns."""

    __slots__ = ("tests",)

    def __init__(self, keep: FieldPatterns) -> None:
        self.tests = tuple(_Test(field, patterns) for field, patterns in keep)

    def failing(self, values: _Values) -> _Test | None:
        for test in self.tests:
            if not test.hits(values):
                return test
        return None


class Matcher:
    """A :class:`RuleSet` compiled for judging many items. Judges; decides nothing else.

    Usage::

        m = Matcher(rules)
        for item in items:
            if (blocked := m.judge(item, now)) is not None:
                print(blocked.rule)
    """

    __slots__ = ("_block", "_keeps", "_max_age", "rules")

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._block = tuple(_Test(field, patterns) for field, patterns in rules.block)
        self._keeps = tuple(_Keep(keep) for keep in rules.keeps)
        self._max_age = rules.max_age

    def judge(self, item: ItemFields, now: datetime) -> Blocked | None:
        """None when ``item`` stays, else the first rule that hides it (see the module)."""
        if self._block or self._keeps:
            values = _Values(item)
            for test in self._block:
                if test.hits(values):
                    p = test.first(values)
                    assert p is not None  # hits() and first() test the same patterns
                    return Blocked(p.label(f"block.{test.field}"))
            for keep in self._keeps:
                failed = keep.failing(values)
                if failed is not None:
                    return Blocked(_keep_label(failed))
        if self._max_age is not None and now - item.time > self._max_age:
            return Blocked(f"max_age {show_duration(self._max_age)}")
        return None


def _keep_label(test: _Test) -> str:
    """``keep.title ["AI", "芯片"] (rules.keep.title, line 7)``."""
    shown = ", ".join(quote(p.shown) for p in test.patterns[:5])
    more = f", … {len(test.patterns) - 5} more" if len(test.patterns) > 5 else ""
    where = test.patterns[0].where
    head, sep, tail = where.rpartition(" (")
    place = f"{_INDEX.sub('', head)}, {tail[:-1]}" if sep else where
    return f"keep.{test.field} [{shown}{more}] ({place})"


#: Matchers of the sets judged lately, by identity (a run judges each feed's items with the
#: same RuleSet object); an entry holds its set, so an id is not reused while it is cached.
_CACHE: dict[int, Matcher] = {}
_CACHE_SIZE = 512


def matcher(rules: RuleSet) -> Matcher:
    """The compiled form of ``rules``, cached by identity."""
    m = _CACHE.get(id(rules))
    if m is not None and m.rules is rules:
        return m
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    m = _CACHE[id(rules)] = Matcher(rules)
    return m


def judge(rules: RuleSet, item: ItemFields, now: datetime) -> Blocked | None:
    """Whether ``rules`` hide ``item`` at time ``now``: None, or the rule that hides it."""
    if rules.empty:
        return None
    return matcher(rules).judge(item, now)
