"""``rules:`` in the config (issue #13): the values, their reader and how levels merge.

Scope: what a rule *is*, read from the line-numbered tree of :mod:`._tree` into frozen
values (:class:`Rules`, one level as written; :class:`RuleSet`, the merged rules of one
feed), plus the one home of pattern compilation (:func:`compile_regex`, :func:`regex_source`,
:func:`glob_source`) that both the matcher (``feedsite._plan._rules``) and the rewriter
(``feedsite._clean._rewrite``) use. Applies no rule to any item. Syntax: docs/rules.md.

Regular expressions are RE2 (google-re2): matching is linear in the text, so a pattern
like ``(a+)+$`` cannot hang a run; a pattern RE2 refuses (backreferences, lookaround) is a
config error naming its key path and line, and why.

Usage::

    r = Reader("feedsite.yaml", {}, max_values=1000)
    tree = r.parse(text)              # a MapNode with a "rules" entry
    top = read_rules(r, entry.value, "rules")
    rules = merge([top, category_level, site_level, feed_level])
    rules.key()                       # part of the render / plan keys
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from feedsite._config._css import selector_problem
from feedsite._config._tree import (
    Entry,
    MapNode,
    Node,
    Reader,
    Scalar,
    SeqNode,
    describe,
    is_null,
    join,
    line_of,
    quote,
    read_duration,
    suggest,
)

__all__ = [
    "EMPTY",
    "FIELDS",
    "Pattern",
    "Regex",
    "RegexSet",
    "Replace",
    "RuleSet",
    "Rules",
    "compile_regex",
    "glob_source",
    "literal_source",
    "merge",
    "read_rules",
    "regex_source",
    "show_duration",
]

#: The fields ``block`` and ``keep`` may test, in the order they are documented.
FIELDS = ("title", "content", "author", "link", "category")
_KEYS = ("block", "keep", "max_age", "rewrite", "inherit")
_REWRITE_KEYS = ("remove", "replace", "drop_images")
_REPLACE_KEYS = ("pattern", "with")
_FLAGS = "ism"
#: The longest pattern accepted, in characters (a rule is a word or a short expression).
MAX_PATTERN = 1000
#: RE2's memory for one compiled expression (its default, 8 MiB; a combined field may use more).
_MAX_MEM = 8 << 20
#: ``/body/flags``: a regular expression; anything else is a keyword.
_SLASHED = re.compile(r"/(.+)/([A-Za-z]*)\Z", re.DOTALL)
#: White space in a keyword, and what it matches (RE2's \\s is ASCII only).
_WHITE = re.compile(r"(\s+)")
_ANY_WHITE = r"[\s\x{a0}\x{3000}]+"
#: Bumped when the meaning of a rule set changes for the same config (part of :meth:`key`).
RULES_VERSION = "1"


class Regex(Protocol):
    """The part of a compiled RE2 expression feedsite uses (google-re2's ``_Regexp``)."""

    def search(self, text: str | bytes) -> Any | None: ...

    def sub(self, repl: Any, text: str) -> str: ...

    def finditer(self, text: str) -> Iterator[Any]: ...


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern as written: a keyword or a regular expression.

    A keyword matches as a case-insensitive substring (Unicode simple case folding, as
    RE2's ``i``), each run of white space in it matching any run of white space; in
    ``drop_images`` a keyword holding ``*`` is a wildcard pattern over the whole URL.
    """

    #: The keyword, or the expression between the slashes (``/广告/i`` → ``广告``).
    text: str
    #: True for ``/expression/flags``.
    regex: bool
    #: The flags after the closing slash, a subset of ``ism`` in written order.
    flags: str
    #: Where it is written: ``rules.block.title[2] (line 12)``.
    where: str

    @property
    def shown(self) -> str:
        """The pattern as the user wrote it (``/x/i`` or the keyword)."""
        return f"/{self.text}/{self.flags}" if self.regex else self.text

    @property
    def is_glob(self) -> bool:
        """Whether this keyword is a wildcard pattern (meaningful in ``drop_images`` only)."""
        return not self.regex and "*" in self.text

    def label(self, step: str) -> str:
        """A human label: ``block.title "广告" (rules.block.title[0], line 12)``."""
        return f"{step} {quote(self.shown)} ({_where_comma(self.where)})"


@dataclass(frozen=True, slots=True)
class Replace:
    """One ``rewrite.replace`` step: text matching ``pattern`` becomes ``replacement``."""

    pattern: Pattern
    #: Literal text (no group references).
    replacement: str


FieldPatterns = tuple[tuple[str, tuple[Pattern, ...]], ...]


@dataclass(frozen=True, slots=True)
class Rules:
    """One level's ``rules:`` as written (a category's, a site's, a feed's or the top's)."""

    #: (field, patterns): an item matching any of them is blocked.
    block: FieldPatterns = ()
    #: (field, patterns): an item must match one pattern of every field listed.
    keep: FieldPatterns = ()
    #: Items older than this are blocked.
    max_age: timedelta | None = None
    #: CSS selectors (validated): the elements they select are removed from bodies.
    remove: tuple[str, ...] = ()
    replace: tuple[Replace, ...] = ()
    #: Image URL patterns: matching ``<img>`` are removed from bodies.
    drop_images: tuple[Pattern, ...] = ()
    #: False: the levels above this one do not apply to the feeds under it.
    inherit: bool = True


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The merged rules that apply to one feed (see :func:`merge`). Applies nothing itself."""

    #: (field, patterns) of every level, each field once, parents' patterns first.
    block: FieldPatterns = ()
    #: One level's ``keep`` per level that has one; every one must hold.
    keeps: tuple[FieldPatterns, ...] = ()
    #: The smallest ``max_age`` of the levels.
    max_age: timedelta | None = None
    remove: tuple[str, ...] = ()
    replace: tuple[Replace, ...] = ()
    drop_images: tuple[Pattern, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no rule applies (judging and rewriting are then no-ops)."""
        return not (self.block or self.keeps or self.has_rewrite) and self.max_age is None

    @property
    def has_rewrite(self) -> bool:
        """True when bodies may be rewritten (``remove``, ``replace`` or ``drop_images``)."""
        return bool(self.remove or self.replace or self.drop_images)

    @property
    def needs_content(self) -> bool:
        """True when a ``block`` or ``keep`` tests ``content`` (its plain text is needed)."""
        groups = (self.block, *self.keeps)
        return any(field == "content" for group in groups for field, _ in group)

    @property
    def content_patterns(self) -> tuple[Pattern, ...]:
        """Every pattern a ``block`` or ``keep`` tests ``content`` with."""
        groups = (self.block, *self.keeps)
        return tuple(p for group in groups for field, ps in group if field == "content" for p in ps)

    def key(self) -> str:
        """A short stable hash of the whole set (positions in the file do not count)."""
        return _digest({"judge": self._judge_json(), "rewrite": self._rewrite_json()})

    def rewrite_key(self) -> str:
        """A short stable hash of the rewrite steps alone ("" when there are none): what a
        rendered body depends on, so a changed ``block`` rule re-renders nothing."""
        return _digest(self._rewrite_json()) if self.has_rewrite else ""

    def _judge_json(self) -> object:
        return {
            "block": [[f, [_pattern_json(p) for p in ps]] for f, ps in self.block],
            "keeps": [[[f, [_pattern_json(p) for p in ps]] for f, ps in k] for k in self.keeps],
            "max_age": None if self.max_age is None else self.max_age.total_seconds(),
        }

    def _rewrite_json(self) -> object:
        return {
            "remove": list(self.remove),
            "replace": [[_pattern_json(s.pattern), s.replacement] for s in self.replace],
            "drop_images": [_pattern_json(p) for p in self.drop_images],
        }


EMPTY = RuleSet()


def _pattern_json(p: Pattern) -> list[object]:
    return [p.text, p.regex, p.flags]


def _digest(value: object) -> str:
    data = json.dumps([RULES_VERSION, value], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def _where_comma(where: str) -> str:
    """``rules.x[0] (line 12)`` → ``rules.x[0], line 12`` (for labels in parentheses)."""
    head, sep, tail = where.rpartition(" (")
    return f"{head}, {tail[:-1]}" if sep and tail.endswith(")") else where


# -- merging ------------------------------------------------------------------------------------


def merge(levels: Sequence[Rules]) -> RuleSet:
    """Merge the levels that apply to one feed, top first and the feed's own last.

    ``block`` patterns and rewrite steps accumulate, parents' first (a selector or image
    pattern written twice counts once); each level's ``keep`` must hold on its own (AND
    across levels); ``max_age`` is the smallest; a level with ``inherit: false`` drops
    every level above it.
    """
    start = 0
    for i, level in enumerate(levels):
        if not level.inherit:
            start = i
    used = levels[start:]
    block: dict[str, list[Pattern]] = {}
    for level in used:
        for field, patterns in level.block:
            block.setdefault(field, []).extend(patterns)
    ages = [level.max_age for level in used if level.max_age is not None]
    return RuleSet(
        block=tuple((field, tuple(patterns)) for field, patterns in block.items() if patterns),
        keeps=tuple(level.keep for level in used if level.keep),
        max_age=min(ages) if ages else None,
        remove=tuple(dict.fromkeys(s for level in used for s in level.remove)),
        replace=tuple(step for level in used for step in level.replace),
        drop_images=_unique(p for level in used for p in level.drop_images),
    )


def _unique(patterns: Iterable[Pattern]) -> tuple[Pattern, ...]:
    seen: set[tuple[str, bool, str]] = set()
    out: list[Pattern] = []
    for p in patterns:
        k = (p.text, p.regex, p.flags)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return tuple(out)


# -- compiling ---------------------------------------------------------------------------------


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.max_mem = _MAX_MEM
    return options


_OPTIONS = _options()


@lru_cache(maxsize=4096)
def compile_regex(source: str) -> Regex:
    """Compile an RE2 expression (cached). Raises ``ValueError`` saying why RE2 refuses it."""
    try:
        return re2.compile(source, _OPTIONS)  # type: ignore[no-any-return]
    except re2.error as error:
        raise ValueError(_re2_reason(error)) from None


class RegexSet:
    """Several RE2 expressions searched in one pass (RE2::Set): which of them match."""

    __slots__ = ("_set",)

    def __init__(self, sources: Sequence[str]) -> None:
        """Raises ``ValueError`` when RE2 refuses one of ``sources`` or the whole."""
        self._set = re2.Set.SearchSet(_OPTIONS)
        try:
            for source in sources:
                self._set.Add(source)
            self._set.Compile()
        except re2.error as error:
            raise ValueError(_re2_reason(error)) from None

    def matching(self, data: bytes) -> frozenset[int]:
        """The indexes (in the order given) of the expressions that match ``data``."""
        return frozenset(self._set.Match(data) or ())


def regex_source(p: Pattern) -> str:
    """The RE2 source of a pattern, flags inline: ``(?i:广告)``.

    A keyword becomes a case-insensitive literal (RE2's simple case folding) in which each
    run of white space matches any run of white space (a line break, a no-break space...):
    ``affiliate link`` matches ``affiliate\\n  link``.
    """
    if p.regex:
        return f"(?{p.flags}:{p.text})" if p.flags else f"(?:{p.text})"
    parts = _WHITE.split(p.text)
    literal = "".join(_ANY_WHITE if i % 2 else re2.escape(part) for i, part in enumerate(parts))
    return f"(?i:{literal})"


def literal_source(text: str) -> str:
    """``text`` as an RE2 expression matching exactly it."""
    return str(re2.escape(text))


def glob_source(text: str) -> str:
    """The RE2 source of a ``*`` wildcard pattern matched against a whole URL, or against
    the URL without its query and fragment (``*.gif`` matches ``a.gif?w=1``). Only ``*`` is
    special (``?`` and ``[`` are common in URLs)."""
    body = ".*".join(re2.escape(part) for part in text.split("*"))
    return rf"(?is)\A{body}(?:[?#].*)?\z"


def _re2_reason(error: Exception) -> str:
    raw = error.args[0] if error.args else ""
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for pattern, hint in _HINTS:
        if pattern.match(reason):
            return f"{reason} ({hint})"
    return reason or "refused by RE2"


#: What RE2 says, and what it means for someone who knows Python's or PCRE's syntax.
_HINTS = (
    (re.compile(r"invalid escape sequence: \\[1-9]"), "RE2 has no backreferences"),
    (re.compile(r"invalid escape sequence: \\Z"), "RE2 writes the end of the text as \\z"),
    (re.compile(r"invalid perl operator: \(\?<[=!]"), "RE2 has no lookbehind"),
    (re.compile(r"invalid perl operator: \(\?[=!]"), "RE2 has no lookahead"),
    (re.compile(r"invalid perl operator: \(\?P\Z"), "RE2 has no (?P=name) backreferences"),
    (re.compile(r"bad repetition operator: [*+?]{2}"), "RE2 has no possessive quantifiers"),
    (re.compile(r"invalid repetition size"), "RE2 allows at most {1000}"),
)


def show_duration(age: timedelta) -> str:
    """``7d``, ``12h``, ``90m``, ``45s``: a duration as the config writes it."""
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# -- reading -----------------------------------------------------------------------------------


def read_rules(r: Reader, node: Node | None, path: str) -> Rules:
    """Read one level's ``rules:`` mapping (``node``, at key path ``path``).

    Null is no rules. Every pattern and selector is checked here, so a bad one is a
    :class:`~feedsite.errors.ConfigError` naming its key path and line.
    """
    s = r.keys(node, path, _KEYS, what="a mapping of rules (block, keep, max_age, rewrite)")
    rewrite = s.get("rewrite")
    rw = r.keys(
        None if rewrite is None else rewrite.value,
        join(path, "rewrite"),
        _REWRITE_KEYS,
        what="a mapping of rewrite steps (remove, replace, drop_images)",
    )
    return Rules(
        block=_fields(r, s.get("block"), join(path, "block"), keep=False),
        keep=_fields(r, s.get("keep"), join(path, "keep"), keep=True),
        max_age=read_duration(r, s.get("max_age"), join(path, "max_age"), "7d"),
        remove=_selectors(r, rw.get("remove"), join(path, "rewrite.remove")),
        replace=_replaces(r, rw.get("replace"), join(path, "rewrite.replace")),
        drop_images=tuple(
            _patterns(r, rw.get("drop_images"), join(path, "rewrite.drop_images"), "image")
        ),
        inherit=_boolean(r, s.get("inherit"), join(path, "inherit"), default=True),
    )


def _fields(r: Reader, entry: Entry | None, path: str, *, keep: bool) -> FieldPatterns:
    if entry is None or is_null(entry.value):
        return ()
    value = entry.value
    if not isinstance(value, MapNode):
        r.fail(
            f"expected a mapping of fields ({', '.join(FIELDS)}) to patterns, like "
            f"title: [广告, 推广], got {describe(value)}",
            path,
            value.line,
        )
    out: list[tuple[str, tuple[Pattern, ...]]] = []
    for item in value.entries:
        item_path = join(path, item.key)
        if item.key not in FIELDS:
            hint = suggest(item.key, FIELDS)
            if not hint and item.key.strip().lower() in ("date", "time", "age", "published"):
                hint = " (for dates, use max_age beside block and keep)"
            r.fail(
                f'unknown field "{item.key}"{hint}; allowed here: {", ".join(FIELDS)}',
                item_path,
                item.line,
            )
        patterns = _patterns(r, item, item_path, "keep" if keep else "block")
        if keep and not patterns:
            r.fail(
                "keep needs at least one pattern here (no item could match an empty list); "
                "remove the key to keep every item",
                item_path,
                item.line,
            )
        if patterns:
            out.append((item.key, tuple(patterns)))
    return tuple(out)


def _patterns(r: Reader, entry: Entry | None, path: str, kind: str) -> list[Pattern]:
    what = "a keyword or /regular expression/"
    return [
        _pattern(r, text, item_path, line, kind)
        for text, item_path, line in r.text_list(entry, path, what, "keywords or /expressions/")
    ]


def _pattern(r: Reader, text: str, path: str, line: int, kind: str) -> Pattern:
    """Read one pattern. ``kind``: ``block``, ``keep``, ``image`` or ``replace``."""
    if not text.strip():
        r.fail(
            "an empty pattern would match everything; write a word or a /regular expression/",
            path,
            line,
        )
    if len(text) > MAX_PATTERN:
        r.fail(f"a pattern is at most {MAX_PATTERN:,} characters, got {len(text):,}", path, line)
    where = f"{path} (line {line})"
    slashed = _SLASHED.match(text)
    if slashed is None:
        if kind == "image" and not text.replace("*", "").strip():
            r.warn(f"{quote(text)} matches every image", path, line)
        return Pattern(text, False, "", where)
    body, flags = slashed.group(1), slashed.group(2)
    bad = sorted({f for f in flags if f not in _FLAGS})
    if bad or len(set(flags)) != len(flags):
        what = (
            f"unknown flag{'s' if len(bad) > 1 else ''} {', '.join(bad)}"
            if bad
            else "a flag written twice"
        )
        literal = "/" + text.replace("/", "[/]") + "/"
        r.fail(
            f"{quote(text)} reads as the regular expression /{body}/ with {what}; flags are "
            "i (ignore case), s (. matches newlines), m (^ and $ at each line); to match the "
            f"text itself, write its slashes as [/] in an expression: {quote(literal)}",
            path,
            line,
        )
    p = Pattern(body, True, flags, where)
    try:
        # The body alone first: wrapped in a group, an unbalanced ")" could close it.
        compile_regex(f"(?{flags}){body}" if flags else body)
        compiled = compile_regex(regex_source(p))
    except ValueError as error:
        r.fail(f"not a valid RE2 regular expression {quote(text)}: {error}", path, line)
    # A keep pattern that matches everything ("/^/", "/.*/") is harmless: no warning.
    if compiled.search(b"") is not None and kind != "keep":
        if kind == "replace":
            r.fail(
                f"{quote(text)} matches the empty text: the replacement would go between every "
                "two characters; make it match at least one character",
                path,
                line,
            )
        r.warn(
            f"{quote(text)} matches the empty text, so it matches every "
            f"{'item' if kind == 'block' else 'image'}",
            path,
            line,
        )
    return p


def _selectors(r: Reader, entry: Entry | None, path: str) -> tuple[str, ...]:
    out: list[str] = []
    for text, item_path, line in r.text_list(entry, path, "a CSS selector", "CSS selectors"):
        selector = text.strip()
        problem = "it is empty" if not selector else selector_problem(selector)
        if problem is not None:
            r.fail(f"not a valid CSS selector {quote(text)}: {problem}", item_path, line)
        out.append(selector)
    return tuple(dict.fromkeys(out))


def _replaces(r: Reader, entry: Entry | None, path: str) -> tuple[Replace, ...]:
    if entry is None or is_null(entry.value):
        return ()
    value = entry.value
    example = '{pattern: "/本文来自.*?转载/", with: ""}'
    items: list[Node]
    if isinstance(value, SeqNode):
        items = value.items
    elif isinstance(value, MapNode):
        items = [value]  # one step may be written without the list
    else:
        r.fail(f"expected a list of steps like {example}, got {describe(value)}", path, value.line)
    out: list[Replace] = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]" if isinstance(value, SeqNode) else path
        if not isinstance(item, MapNode):
            r.fail(
                f"expected a step like {example}, got {describe(item)}", item_path, line_of(item)
            )
        s = r.keys(item, item_path, _REPLACE_KEYS)
        pattern_entry = s.get("pattern")
        if pattern_entry is None or is_null(pattern_entry.value):
            r.fail(f"a replace step needs a pattern, like {example}", item_path, item.line)
        pattern_path = join(item_path, "pattern")
        text = r.text(pattern_entry, pattern_path, what="a keyword or /regular expression/")
        assert text is not None  # null was refused above
        pattern = _pattern(r, text, pattern_path, pattern_entry.value.line, "replace")
        with_entry = s.get("with")
        if with_entry is not None and isinstance(with_entry.value, Scalar):
            raw = with_entry.value.value
            if raw is not None and not isinstance(raw, str):
                r.fail(
                    f"expected text (quote it), got {describe(with_entry.value)}",
                    join(item_path, "with"),
                    with_entry.value.line,
                )
        replacement = r.text(with_entry, join(item_path, "with"), what="text") or ""
        out.append(Replace(pattern, replacement))
    return tuple(out)


def _boolean(r: Reader, entry: Entry | None, path: str, *, default: bool) -> bool:
    if entry is None or is_null(entry.value):
        return default
    value = entry.value
    if isinstance(value, Scalar) and isinstance(value.value, bool):
        return value.value
    r.fail(f"expected true or false, got {describe(value)}", path, value.line)
