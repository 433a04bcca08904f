"""A line-numbered YAML tree for config files (private). Knows nothing of feedsite.

PyYAML's ``compose`` gives a node tree with positions; :class:`Reader` turns it
into a small tree of its own (:class:`Scalar`, :class:`MapNode`,
:class:`SeqNode`) in which

* every value carries its 1-based line,
* ``${VAR}`` / ``${VAR:-default}`` are substituted in string scalars (``$${``
  is a literal ``${``); a plain (unquoted) scalar is re-typed after
  substitution, so ``items_per_feed: ${N}`` with ``N=5`` is the integer 5,
* duplicate mapping keys are errors (PyYAML would keep the last one),
* ``<<`` merge keys work as in YAML 1.1, explicit keys winning,
* aliases are converted once (shared, so recursive aliases cost nothing),
  but counted as if written out: past ``max_values`` values the document is
  refused at the alias that crosses the bound (a 6 KB file of 100 × 100 × 100
  aliases would otherwise be walked as a million values),
* a scalar remembers the variables that were unset or empty (``Scalar.unset``);
  :meth:`Reader.require_set` refuses such a value where it names a file.

libyaml's parser is used when PyYAML has it (a 100,000-line file parses in
about a second instead of five); the composer is PyYAML's, in Python, so each
alias keeps its own position.

Its generic typed readers (``keys``, ``text``, ``integer``, ``number``,
``choice``, ``text_list``, ``path``, ``one_line``) raise
:class:`~feedsite.errors.ConfigError` naming the key path and the line. The
schema (which keys exist, defaults, what a valid value is) lives with the
config dataclasses in :mod:`feedsite.config`.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import yaml

from feedsite.errors import ConfigError

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
_MAP, _SEQ, _MERGE = _T + "map", _T + "seq", _T + "merge"
#: Implicit tags PyYAML may give plain scalars that we simply read as text.
_AS_TEXT = frozenset({_STR, _T + "timestamp", _MERGE, _T + "value"})
_TYPED = frozenset({_INT, _FLOAT, _BOOL, _NULL})
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_REF_BODY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?\Z", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(slots=True, eq=False)
class Scalar:
    """A scalar value: ``value`` typed (str, int, float, bool or None), ``text`` as written."""

    value: object
    text: str
    line: int
    #: ``${VAR}`` references (without a default) that were unset or empty, e.g.
    #: ``("HOME is not set",)``; a path must not depend on one.
    unset: tuple[str, ...] = ()


@dataclass(slots=True, eq=False)
class Entry:
    """One ``key: value`` pair; ``line`` is the key's line."""

    key: str
    line: int
    value: Node


@dataclass(slots=True, eq=False)
class MapNode:
    """A mapping, entries in document order (merged ``<<`` entries last)."""

    line: int
    entries: list[Entry]


@dataclass(slots=True, eq=False)
class SeqNode:
    """A sequence."""

    line: int
    items: list[Node]


Node = Scalar | MapNode | SeqNode


class _Alias(yaml.Node):
    """An alias as written: the node it names, and the alias's own position."""

    id = "alias"

    def __init__(self, target: yaml.Node, mark: yaml.Mark) -> None:
        super().__init__(target.tag, target.value, mark, mark)
        self.target = target


class _Composer(yaml.composer.Composer):
    """PyYAML's composer, but an alias becomes an :class:`_Alias` (PyYAML drops its mark)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # check_event / peek_event come from the parser the loader mixes in.
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            mark = self.peek_event().start_mark  # type: ignore[attr-defined]
            target = super().compose_node(parent, index)
            return None if target is None else _Alias(target, mark)
        return super().compose_node(parent, index)


class _PyLoader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _Composer, yaml.resolver.Resolver
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _Composer.__init__(self)
        yaml.resolver.Resolver.__init__(self)


try:  # libyaml's parser, when PyYAML was built with it
    from yaml._yaml import CParser

    class _CLoader(_Composer, yaml.resolver.Resolver, CParser):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    _LIBYAML = True
except ImportError:  # pragma: no cover
    _LIBYAML = False


def _compose(text: str) -> yaml.Node | None:
    libyaml = _LIBYAML
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: PyYAML's own reader names its position
        libyaml = False
    if libyaml:
        try:
            return _CLoader(text).get_single_node()
        except yaml.YAMLError:
            # PyYAML's own parser says it as feedsite always has (libyaml counts bytes,
            # not characters, in the position of a bad character); errors are rare.
            pass
    return _PyLoader(text).get_single_node()


def join(path: str, key: str) -> str:
    """Return the key path of ``key`` inside ``path``."""
    return f"{path}.{key}" if path else key


def is_null(node: Node | None) -> bool:
    """Return True for a missing value or an explicit YAML null."""
    return node is None or (isinstance(node, Scalar) and node.value is None)


def describe(node: Node | None) -> str:
    """Describe a value for "expected ..., got ..." messages."""
    if isinstance(node, MapNode):
        return "a mapping"
    if isinstance(node, SeqNode):
        return "a list"
    if node is None or node.value is None:
        return "nothing (null)"
    if isinstance(node.value, str):
        return quote(node.text)
    return node.text if len(node.text) <= 80 else node.text[:77] + "…"


def suggest(word: str, choices: Sequence[str]) -> str:
    """Return ``' (did you mean "x"?)'`` when a choice is close to ``word``, else ``""``."""
    folded = {c.casefold(): c for c in choices}
    match = folded.get(word.casefold())
    if match is None:
        close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f' (did you mean "{match}"?)' if match is not None else ""


def has_control(text: str) -> bool:
    """Return True when ``text`` holds a control character (a line break, a tab, NUL...)."""
    return _CONTROL.search(text) is not None


def quote(text: str) -> str:
    """Quote ``text`` for a message, JSON-style, cut to 80 characters."""
    return json.dumps(text if len(text) <= 80 else text[:77] + "…", ensure_ascii=False)


#: The longest duration (``max_age``).
MAX_DURATION = timedelta(days=36500)
_DURATION = re.compile(r"\s*(\d{1,9})\s*([smhdw]?)\s*\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}


def read_duration(
    r: Reader, entry: Entry | None, path: str, example: str = "30d"
) -> timedelta | None:
    """Read ``<n><unit>`` (unit s, m, h, d or w) or a bare whole number of days; None when
    absent or null. ``example`` is the one the error message shows."""
    if entry is None or is_null(entry.value):
        return None
    value = entry.value
    raw = value.value if isinstance(value, Scalar) else None
    result: timedelta | None = None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= MAX_DURATION.days:
        result = timedelta(days=raw)
    elif isinstance(raw, str) and (match := _DURATION.match(raw)):
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if 0 < seconds <= MAX_DURATION.total_seconds():
            result = timedelta(seconds=seconds)
    if result is None:
        r.fail(
            f'expected a duration like "{example}" or "12h" (a whole number > 0 with unit s, m,'
            f" h, d or w; a bare number means days; at most 100 years), got {describe(value)}",
            path,
            value.line,
        )
    return result


def line_of(node: Node | None) -> int | None:
    """Return a node's line; None for a missing one."""
    return None if node is None else node.line


class Reader:
    """Builds the line-numbered tree and reads generic typed values from it.

    Knows no schema: which keys exist, their defaults and their rules are the caller's.

    Args:
        file: the config file's name as the user gave it (for messages).
        environ: variables for ``${VAR}`` substitution.
        max_values: values the document may hold, aliases counted as if written out.
    """

    def __init__(self, file: str, environ: Mapping[str, str], *, max_values: int) -> None:
        self.file = file
        self.environ = environ
        self.max_values = max_values
        self.warnings: list[str] = []
        self._memo: dict[int, Node] = {}
        #: Values converted so far, aliases counted as written out; and each finished
        #: node's share of it (by the id of its YAML node).
        self._count = 0
        self._weight: dict[int, int] = {}
        #: Unset / empty variables met by the last ``_substitute``.
        self._unset: list[str] = []

    # -- errors -----------------------------------------------------------------

    def fail(self, message: str, path: str, line: int | None) -> NoReturn:
        """Raise a ConfigError at ``path`` / ``line``."""
        raise ConfigError(message, key_path=path, line=line, file=self.file)

    def warn(self, message: str, path: str, line: int | None) -> None:
        """Record a non-fatal problem, located like an error message."""
        self.warnings.append(str(ConfigError(message, key_path=path, line=line, file=self.file)))

    # -- parsing ----------------------------------------------------------------

    def parse(self, text: str) -> Node | None:
        """Compose ``text`` and convert it; None for an empty document.

        Raises:
            ConfigError: YAML syntax errors, duplicate keys, bad ``${...}``.
        """
        try:
            node = _compose(text)
            return None if node is None else self._convert(node, "")
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or exc.context or "syntax error"
            if exc.context and exc.problem:
                what = f"{exc.problem} ({exc.context})"
            line = None if mark is None else mark.line + 1
            self.fail(f"invalid YAML: {what}", "", line)
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, max(exc.position, 0)) + 1
            self.fail(f"invalid YAML: {exc.reason} (character {exc.character!r})", "", line)
        except yaml.YAMLError as exc:
            self.fail(f"invalid YAML: {exc}", "", None)
        except RecursionError:
            self.fail("invalid YAML: nested too deeply", "", None)

    def _tally(self, n: int, path: str, line: int, alias: bool) -> None:
        self._count += n
        if self._count > self.max_values:
            limit = self.max_values
            what = (
                f"this alias copies {n:,} values and takes the config past {limit:,}"
                if alias
                else f"the config holds more than {limit:,} values"
            )
            self.fail(
                f"{what} (aliases count as if written out); write fewer, or split the config",
                path,
                line,
            )

    def _convert(self, node: yaml.Node, path: str) -> Node:
        if isinstance(node, _Alias):
            target = node.target
            done = self._memo.get(id(target))
            if done is not None:
                # A recursive alias (its target still being converted) counts as one value:
                # a reader of a fixed-depth schema walks a cycle no further than that depth.
                self._tally(self._weight.get(id(target), 1), path, node.start_mark.line + 1, True)
                return done
            node = target
        done = self._memo.get(id(node))
        if done is not None:
            return done
        line = node.start_mark.line + 1
        start = self._count
        self._tally(1, path, line, False)
        out = self._convert_new(node, path, line)
        self._weight[id(node)] = self._count - start
        return out

    def _convert_new(self, node: yaml.Node, path: str, line: int) -> Node:
        if isinstance(node, yaml.ScalarNode):
            out: Node = self._scalar(node, path, line)
            self._memo[id(node)] = out
            return out
        expected = _SEQ if isinstance(node, yaml.SequenceNode) else _MAP
        if node.tag != expected:
            self.fail(f"unsupported YAML tag {_short_tag(node.tag)}", path, line)
        if isinstance(node, yaml.SequenceNode):
            seq = SeqNode(line, [])
            self._memo[id(node)] = seq
            for i, item in enumerate(node.value):
                seq.items.append(self._convert(item, f"{path}[{i}]"))
            return seq
        mapping = MapNode(line, [])
        self._memo[id(node)] = mapping
        self._fill(mapping, node, path)
        return mapping

    def _fill(self, mapping: MapNode, node: yaml.Node, path: str) -> None:
        first_line: dict[str, int] = {}
        merged: list[Entry] = []
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if isinstance(key_node, _Alias):
                key_node = key_node.target
            self._tally(1, path, kline, False)
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE:
                merged.extend(self._merge_sources(value_node, join(path, "<<"), kline))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail("keys must be plain text, not a mapping or list", path, kline)
            key = key_node.value
            self._check_chars(key, path, kline)
            if key_node.tag == _STR and "${" in key:
                key = self._substitute(key, path, kline)
            child = join(path, key)
            if key in first_line:
                first = first_line[key]
                self.fail(
                    f'duplicate key "{key}": first at line {first}, again at line {kline}',
                    child,
                    kline,
                )
            first_line[key] = kline
            mapping.entries.append(Entry(key, kline, self._convert(value_node, child)))
        for entry in merged:
            if entry.key not in first_line:
                first_line[entry.key] = entry.line
                mapping.entries.append(entry)

    def _merge_sources(self, node: yaml.Node, path: str, line: int) -> list[Entry]:
        value = self._convert(node, path)
        sources = value.items if isinstance(value, SeqNode) else [value]
        out: list[Entry] = []
        for source in sources:
            if not isinstance(source, MapNode):
                self.fail("<< (merge) expects a mapping or a list of mappings", path, line)
            out.extend(source.entries)
        return out

    def _scalar(self, node: yaml.ScalarNode, path: str, line: int) -> Scalar:
        text, tag = node.value, node.tag
        self._check_chars(text, path, line)
        unset: tuple[str, ...] = ()
        if tag == _STR and "${" in text:
            text = self._substitute(text, path, line)
            unset = tuple(self._unset)
            if not node.style:  # plain scalar (libyaml says "", PyYAML None): type it as written
                tag = _RESOLVER.resolve(  # type: ignore[no-untyped-call]
                    yaml.ScalarNode, text, (True, False)
                )
        if tag in _AS_TEXT:
            return Scalar(text, text, line, unset)
        if tag not in _TYPED:
            self.fail(f"unsupported YAML tag {_short_tag(tag)}", path, line)
        if tag == _NULL:
            return Scalar(None, text, line, unset)
        try:
            builder = {
                _INT: _CONSTRUCTOR.construct_yaml_int,
                _FLOAT: _CONSTRUCTOR.construct_yaml_float,
                _BOOL: _CONSTRUCTOR.construct_yaml_bool,
            }[tag]
            value = builder(yaml.ScalarNode(tag, text))
        except Exception:  # PyYAML's constructors raise many kinds of errors on junk
            kind = {_INT: "integer", _FLOAT: "number", _BOOL: "boolean"}[tag]
            self.fail(f"not a valid {kind}: {json.dumps(text, ensure_ascii=False)}", path, line)
        return Scalar(value, text, line, unset)

    def _check_chars(self, text: str, path: str, line: int) -> None:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("the text contains an invalid character (a lone surrogate)", path, line)

    def _substitute(self, text: str, path: str, line: int) -> str:
        self._unset = []

        def replace(match: re.Match[str]) -> str:
            token, body = match.group(0), match.group(1)
            if token == "$${":
                return "${"
            if body is None:
                self.fail('unclosed "${" (write "$${" for a literal "${")', path, line)
            ref = _REF_BODY.match(body)
            if ref is None:
                self.fail(
                    f'bad variable reference "${{{body}}}": expected ${{NAME}} '
                    "or ${NAME:-default}",
                    path,
                    line,
                )
            name, default = ref.group(1), ref.group(2)
            if default is not None and "${" in default:
                self.fail(
                    f'nested "${{" in the default of ${{{name}}} is not supported', path, line
                )
            value = self.environ.get(name)
            if default is not None:
                return value or default
            if value is None:
                self.warn(f'environment variable {name} is not set; using ""', path, line)
                self._unset.append(f"{name} is not set")
                return ""
            if not value:
                self._unset.append(f"{name} is empty")
            return value

        return _REF.sub(replace, text)

    # -- generic readers ------------------------------------------------------

    def keys(
        self, node: Node | None, path: str, allowed: Sequence[str], *, what: str = "a mapping"
    ) -> dict[str, Entry]:
        """Return a mapping's entries by key; null counts as empty.

        Raises:
            ConfigError: not a mapping, or a key outside ``allowed``.
        """
        if is_null(node):
            return {}
        if not isinstance(node, MapNode):
            self.fail(f"expected {what}, got {describe(node)}", path, line_of(node))
        out: dict[str, Entry] = {}
        for entry in node.entries:
            if entry.key not in allowed:
                self.fail(
                    f'unknown key "{entry.key}"{suggest(entry.key, allowed)}; '
                    f"allowed here: {', '.join(allowed)}",
                    join(path, entry.key),
                    entry.line,
                )
            out[entry.key] = entry
        return out

    def text(self, entry: Entry | None, path: str, *, what: str = "text") -> str | None:
        """Read a scalar as its text (``123`` gives "123"); None when missing or null."""
        if entry is None or is_null(entry.value):
            return None
        if not isinstance(entry.value, Scalar):
            self.fail(f"expected {what}, got {describe(entry.value)}", path, entry.value.line)
        return entry.value.text

    def integer(self, entry: Entry | None, path: str, low: int, high: int) -> int | None:
        """Read a whole number in ``low..high``; None when missing or null."""
        if entry is None or is_null(entry.value):
            return None
        value = entry.value
        number = value.value if isinstance(value, Scalar) else None
        if isinstance(number, int) and not isinstance(number, bool) and low <= number <= high:
            return number
        hint = ""
        if isinstance(value, Scalar) and isinstance(number, str) and number.strip().isdigit():
            hint = " (quoted text; write the number without quotes)"
        self.fail(
            f"expected a whole number {low}..{high}, got {describe(value)}{hint}", path, value.line
        )

    def number(self, entry: Entry | None, path: str, *, what: str = "a number > 0") -> float | None:
        """Read a positive finite number (int or float); None when missing or null."""
        if entry is None or is_null(entry.value):
            return None
        value = entry.value
        number = value.value if isinstance(value, Scalar) else None
        real = isinstance(number, int | float) and not isinstance(number, bool)
        if real and isinstance(number, int | float) and math.isfinite(number) and number > 0:
            return float(number)
        self.fail(f"expected {what}, got {describe(value)}", path, value.line)

    def choice(self, entry: Entry | None, path: str, choices: Sequence[str]) -> str | None:
        """Read one of ``choices``; None when missing or null."""
        text = self.text(entry, path)
        if text is None or entry is None or text in choices:
            return text
        expected = " or ".join(f'"{c}"' for c in choices)
        self.fail(
            f"expected {expected}, got {describe(entry.value)}{suggest(text, choices)}",
            path,
            entry.value.line,
        )

    def text_list(
        self, entry: Entry | None, path: str, what: str, plural: str
    ) -> list[tuple[str, str, int]]:
        """Read a list of scalars (a single scalar counts as a list of one).

        Returns:
            ``(text, key_path, line)`` per item.
        """
        if entry is None or is_null(entry.value):
            return []
        value = entry.value
        if isinstance(value, Scalar):
            return [(value.text, path, value.line)]
        if isinstance(value, MapNode):
            self.fail(f"expected a list of {plural}, got a mapping", path, value.line)
        out: list[tuple[str, str, int]] = []
        for i, item in enumerate(value.items):
            item_path = f"{path}[{i}]"
            if not isinstance(item, Scalar) or item.value is None:
                self.fail(f"expected {what}, got {describe(item)}", item_path, line_of(item))
            out.append((item.text, item_path, item.line))
        return out

    def path(self, entry: Entry | None, key_path: str, root: Path) -> Path | None:
        """Read a path, made absolute against ``root`` and normalised (no symlinks resolved)."""
        if entry is not None:  # before the null check: a bare ${UNSET} reads as null
            self.require_set(entry.value, key_path, "a file or folder")
        text = self.text(entry, key_path, what="a path")
        if text is None or entry is None:
            return None
        if not text.strip() or "\x00" in text:
            self.fail(f"expected a path, got {describe(entry.value)}", key_path, entry.value.line)
        return Path(os.path.normpath(os.path.join(root, text)))

    def require_set(self, value: Node, key_path: str, what: str) -> None:
        """Refuse a value that names ``what`` but used an unset or empty ``${VAR}``.

        ``${UNSET}/blog`` would be ``/blog``: files written under ``/`` (issue #10
        row 9). Call it at load time, before anything is created.
        """
        if isinstance(value, Scalar) and value.unset:
            self.fail(
                f"this names {what}, but environment variable {' and '.join(value.unset)}, "
                f"so it would be {quote(value.text)}; set it, or give a default with "
                "${NAME:-default}",
                key_path,
                value.line,
            )

    def one_line(self, entry: Entry | None, path: str) -> str | None:
        """Read one line of text; "" and null give None."""
        text = self.text(entry, path)
        if text and entry is not None and has_control(text):
            self.fail(
                f"expected one line of text, got {describe(entry.value)}", path, entry.value.line
            )
        return text or None


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_T) if tag.startswith(_T) else tag
