"""Bytes → text decoding for feed documents. Contains no business logic.

Decides which character encoding a document uses and returns its text as
UTF-8 bytes (what lxml and ``json`` are then told to read). The order of
evidence is:

1. a byte order mark (UTF-8, UTF-16, UTF-32), or the BOM-less UTF-16/32
   patterns of XML 1.0 Appendix F;
2. the ``charset`` parameter of the HTTP Content-Type;
3. the XML declaration's ``encoding``;
4. valid UTF-8;
5. GB18030 (real Chinese feeds are often GBK without any declaration);
6. charset-normalizer's detection.

Adjustments for known real-world failures:

* ``gb2312`` / ``gbk`` / ``x-gbk`` / ``cp936`` labels read as GB18030 (a superset);
  ``iso-8859-1`` / ``us-ascii`` read as windows-1252 (as browsers do, WHATWG
  Encoding); other unknown labels are ignored with a warning.
* A declared UTF-16/32 on bytes that are plainly ASCII-compatible (there is no
  BOM and the declaration itself was read as ASCII) is a lie and is ignored.
* Non-ASCII bytes that are valid UTF-8 are read as UTF-8 whatever the
  declarations say: text in another encoding is valid UTF-8 only by accident,
  and the odds of that fall exponentially with every non-ASCII character,
  while servers and templates that declare ``iso-8859-1`` or ``gb2312`` over
  UTF-8 are common (and windows-1252 or GB18030 would "decode" them cleanly
  into mojibake).
* Otherwise a declared encoding that does not decode cleanly yields to
  another declared one that does; a declared UTF-8 that is not even nearly
  UTF-8 yields to GB18030 when that decodes cleanly.
* Undeclared bytes that are UTF-8 with a few bad sequences stay UTF-8 (the bad
  bytes become U+FFFD) instead of being read as GB18030 gibberish.

Undecodable bytes are replaced, never fatal. Does not parse anything.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from types import MappingProxyType

import charset_normalizer

__all__ = ["Decoded", "decode", "unicode_signature"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: XML 1.0 Appendix F: the first character is ASCII ("<" or "{"), so the zero
#: bytes around it tell the width and the byte order.
_BOMLESS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"\x00\x00\x00{", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"{\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"\x00{", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"{\x00", "utf-16-le"),
)
_ALIASES = MappingProxyType(
    {
        "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
        "iso8859-1": "cp1252", "ascii": "cp1252", "x-mac-roman": "mac-roman",
        "unicode-1-1-utf-8": "utf-8", "utf8": "utf-8",
    }
)  # fmt: skip
_WIDE = ("utf-16", "utf-32")
_DECLARATION_RE = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']?([A-Za-z0-9._:-]+)")
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([^\"';\s]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A document's text, re-encoded as UTF-8, and how it was decoded."""

    #: The text as UTF-8, without a byte order mark.
    utf8: bytes
    #: The Python codec name finally used.
    encoding: str
    #: Notes on conflicting or broken evidence.
    warnings: tuple[str, ...] = ()


def decode(data: bytes, content_type: str | None = None, *, xml: bool = True) -> Decoded:
    """Decodes a feed document.

    Args:
        data: the raw bytes.
        content_type: the HTTP Content-Type header, if any.
        xml: whether to look for an XML declaration.

    Returns:
        The text as UTF-8 bytes, the encoding used and any warnings.
    """
    signature = unicode_signature(data[:4])
    if signature is not None:
        name, bom_length = signature
        return _finish(data[bom_length:], name, [], verified=False)

    notes: list[str] = []
    declared = [
        label
        for label in (
            _charset_param(content_type, notes),
            _xml_declaration(data, notes) if xml else None,
        )
        if label is not None
    ]
    if declared:
        return _decode_declared(data, list(dict.fromkeys(declared)), notes)
    return _decode_undeclared(data, notes)


def _decode_declared(data: bytes, declared: list[str], notes: list[str]) -> Decoded:
    """Follows the declarations, falling back when they do not fit the bytes."""
    first = declared[0]
    if first != "utf-8" and not data.isascii() and _is_utf8(data):
        notes.append(f"declared {first} but the bytes are valid UTF-8; read as UTF-8")
        return _finish(data, "utf-8", notes, verified=True)
    for label in declared:
        if _decodes(data, label):
            if label != first:
                notes.append(f"declared {first} does not fit the bytes; read as {label}")
            return _finish(data, label, notes, verified=True)
    if first == "utf-8" and not _mostly_utf8(data) and _decodes(data, "gb18030"):
        notes.append("declared utf-8 but the bytes are GB18030; read as GB18030")
        return _finish(data, "gb18030", notes, verified=True)
    return _finish(data, first, notes, verified=False)


def _decode_undeclared(data: bytes, notes: list[str]) -> Decoded:
    """Guesses: UTF-8, nearly-UTF-8, GB18030, then charset-normalizer."""
    if _is_utf8(data):
        return _finish(data, "utf-8", notes, verified=True)
    if _mostly_utf8(data):
        return _finish(data, "utf-8", notes, verified=False)
    if _decodes(data, "gb18030"):
        return _finish(data, "gb18030", notes, verified=True)
    best = charset_normalizer.from_bytes(data).best()
    guess = _normalise_label(best.encoding) if best is not None else None
    notes.append(f"no declared encoding; guessed {guess or 'utf-8'}")
    return _finish(data, guess or "utf-8", notes, verified=False)


def _finish(data: bytes, encoding: str, notes: list[str], *, verified: bool) -> Decoded:
    """Builds the result, re-encoding unless the bytes already are clean UTF-8.

    Args:
        data: the bytes, without BOM.
        encoding: the codec to read them with.
        notes: warnings so far (appended to).
        verified: the bytes are known to decode strictly with ``encoding``.
    """
    if encoding == "utf-8" and (verified or _is_utf8(data)):
        return Decoded(data, encoding, tuple(notes))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        notes.append(f"undecodable bytes replaced (read as {encoding})")
        text = data.decode(encoding, "replace")
    return Decoded(text.encode("utf-8"), encoding, tuple(notes))


def unicode_signature(head: bytes) -> tuple[str, int] | None:
    """Recognises a byte order mark, or BOM-less UTF-16/32 starting with ``<`` or ``{``.

    Args:
        head: the first four bytes (or more) of the document.

    Returns:
        The codec name and the length of the BOM to skip, or None.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    for prefix, name in _BOMLESS:
        if head.startswith(prefix):
            return name, 0
    return None


def _charset_param(content_type: str | None, notes: list[str]) -> str | None:
    """The Content-Type's charset, normalised; None when absent or unusable."""
    if not content_type:
        return None
    match = _CHARSET_RE.search(content_type)
    return _checked_label(match[1], "Content-Type", notes) if match else None


def _xml_declaration(data: bytes, notes: list[str]) -> str | None:
    """The XML declaration's encoding, normalised; None when absent or unusable."""
    match = _DECLARATION_RE.search(data, 0, 1024)
    if match is None:
        return None
    return _checked_label(match[1].decode("ascii"), "XML declaration", notes)


def _checked_label(label: str, where: str, notes: list[str]) -> str | None:
    """Normalises a declared label, dropping unknown and impossible ones."""
    name = _normalise_label(label)
    if name is None:
        notes.append(f"unknown encoding {label!r} in the {where}; ignored")
    elif name.startswith(_WIDE):
        # We read the declaration as ASCII and found no BOM: it cannot be UTF-16/32.
        notes.append(f"{where} declares {label} but the bytes are ASCII-compatible; ignored")
        return None
    return name


def _normalise_label(label: str) -> str | None:
    """Maps an encoding label to a Python codec name, with the aliases above."""
    key = label.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether the bytes decode strictly."""
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8."""
    return _decodes(data, "utf-8")


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few broken sequences (not another encoding misread as UTF-8)."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    wide = len(text) - len(text.encode("ascii", "ignore")) - bad
    return wide >= 10 * bad
