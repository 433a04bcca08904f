"""One downloaded image's bytes in, the files a site serves for it out (issue #12). Pure.

No network, no files, no clock: :func:`process` takes the bytes of ONE image and
returns :class:`Processed` (the derivatives to write) or :class:`Refused` (why
not). It never raises for any input bytes. :func:`sniff` names the format from
the magic numbers alone (never from the URL or the ``Content-Type``);
:func:`generated_cover` draws the SVG card picture of an item without an image.

Decisions (each checked by ``tests/clean/test_imagedata.py``):

* **What is refused, before any pixel is decoded.** Empty bodies, HTML pages,
  unknown formats and SVG (a feed's SVG is never served: it is a document that
  can carry script). Then the header is read (Pillow's opening is lazy) and an
  image of more than ``max_pixels`` pixels is refused, and an animation of
  more than ``4 × max_pixels`` pixels over all its frames. The format's opener
  is called directly (:data:`_OPENERS`, the registry ``Image.open`` itself
  uses), so ``max_pixels`` is the one limit: ``Image.open``'s own bomb check,
  tied to the process-wide ``Image.MAX_IMAGE_PIXELS``, would raise before the
  size is known for a name in the message. Pillow's later checks (inside GIF
  or ICO frames) still run, and what they raise is a refusal like any other.
* **Every decoding failure is a value.** Anything Pillow raises while reading,
  converting or encoding becomes ``Refused("cannot decode: …")``; so does a
  Pillow warning where warnings are errors (the tests). Only ``MemoryError``
  is not ``permanent``: the same bytes may fit another time.
* **Metadata is dropped**: outputs are re-encoded without ``exif``,
  ``icc_profile`` or ``xmp`` (Pillow's WebP writer only writes what it is
  given). EXIF orientation is applied to the pixels first. A CMYK image with an
  ICC profile is converted to sRGB through that profile (LittleCMS); other
  profiles are dropped (their pixels are taken as sRGB).
* **Static images** become WebP (quality 80, method 4, lossy, alpha kept when
  the source has any): ``main`` at most ``max_width`` wide (and at most 16,383
  high, WebP's limit), always re-encoded even when small enough; ``small``,
  ``small_width`` wide, only when the original is wider than 1.25 ×
  ``small_width`` (and narrower than ``main``); ``thumb``, exactly the asked size,
  centre-cropped (upscaled when the source is smaller). ``small`` and ``thumb``
  are made from ``main`` when it has pixels enough, else from the decoded image.
* **Speed**: a JPEG is decoded at 1/2, 1/4 or 1/8 scale (``draft``) when the
  largest output needs at most half of that, and resizing reduces by whole
  factors first (``reducing_gap``): Pillow's own ``thumbnail`` does the same.
  Each image is decoded once.
* **Animations** (a GIF, WebP, APNG or AVIF with more than one frame) stay
  animated; there is no ``small``; ``thumb`` is the first frame, a static WebP,
  and the first frame is always decoded, so a file broken from the start is
  refused. A GIF or WebP no larger than ``main`` is served as its
  original bytes (GIF carries no EXIF; an animated WebP is kept as it is,
  metadata included, and its EXIF orientation is not applied). Any other is
  re-encoded as an animated WebP (quality 80, method 2: twice as fast as 4),
  every frame resized to ``main``'s size, with its duration and the loop count,
  when that is at most ``max_pixels`` over all frames (measured: 30 frames of
  1,280×720, 28 million pixels, take ~2 s; the budget caps this near 4 s).
  Past that budget a GIF or WebP is served as its original bytes (its real
  size reported) and an APNG or AVIF becomes a still of its first frame
  (``animated`` False).
* **Determinism**: the same bytes and arguments give byte-identical outputs
  (libwebp and LittleCMS are deterministic; nothing reads a clock or a
  random source).

Not handled: a progressive JPEG crafted with thousands of scans decodes slowly
(libjpeg-turbo has no scan limit through Pillow); the caller bounds download
sizes.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import IO, Literal

from PIL import (
    AvifImagePlugin,
    BmpImagePlugin,
    GifImagePlugin,
    IcoImagePlugin,
    Image,
    ImageCms,
    ImageFile,
    ImageSequence,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

__all__ = ["Derivative", "Processed", "Refused", "generated_cover", "process", "sniff"]


@dataclass(frozen=True, slots=True)
class Derivative:
    """One file to serve for an image. Does not say where it is written."""

    #: ``main``: the width-capped version; ``small``: a narrower one for ``srcset``;
    #: ``thumb``: the card thumbnail (exactly the asked size).
    role: Literal["main", "small", "thumb"]
    #: The file extension to use: ``webp``, or ``gif``/``webp`` for an animation
    #: served as its original bytes.
    ext: str
    #: The real pixel size of :attr:`data`.
    width: int
    height: int
    #: The encoded file.
    data: bytes


@dataclass(frozen=True, slots=True)
class Processed:
    """An image that can be served, and its files. Does not say where they go."""

    #: sha256 (hex) of the original downloaded bytes.
    digest: str
    #: The sniffed format of the original (:func:`sniff`).
    kind: str
    #: The original's pixel size, after its EXIF orientation.
    width: int
    height: int
    #: Whether the original has more than one frame and stays animated.
    animated: bool
    #: ``main`` first, then ``small`` (if any), then ``thumb`` (if asked).
    files: tuple[Derivative, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    """Bytes that are not served, and why."""

    #: Short plain text, e.g. ``not an image (HTML page)``.
    reason: str
    #: True: the same bytes will always be refused (everything but lack of memory).
    permanent: bool


#: WebP's largest side (libwebp refuses more).
WEBP_MAX_SIDE = 16383
#: An animation may hold this many times ``max_pixels`` over all its frames.
FRAME_FACTOR = 4
#: Encoder settings of every WebP written here.
_WEBP_OPTIONS: dict[str, object] = {"quality": 80, "method": 4, "lossless": False}
#: Those of animations: method 2 encodes twice as fast as 4, ~6 % larger (measured on a
#: 30-frame 1,280×720 animation: 0.9 s against 1.7 s).
_ANIMATED_WEBP_OPTIONS: dict[str, object] = {**_WEBP_OPTIONS, "method": 2}
#: Resizing reduces by whole factors while the result stays this many times larger
#: than the target (Pillow's docs: from 3.0 on, indistinguishable from fair resampling).
_REDUCING_GAP = 3.0
#: A JPEG is decoded at a reduced scale while that stays this many times larger than
#: the largest output (the factor ``Image.thumbnail`` uses).
_DRAFT_GAP = 2.0
#: Longest Pillow message kept in a refusal.
_DETAIL_CHARS = 200

_Opener = Callable[[IO[bytes], str], ImageFile.ImageFile]
#: The opener of each format :func:`sniff` names (what ``Image.open`` would pick for it).
_OPENERS: dict[str, _Opener] = {
    "jpeg": JpegImagePlugin.jpeg_factory,
    "png": PngImagePlugin.PngImageFile,
    "gif": GifImagePlugin.GifImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
    "bmp": BmpImagePlugin.BmpImageFile,
    "avif": AvifImagePlugin.AvifImageFile,
    "tiff": TiffImagePlugin.TiffImageFile,
    "ico": IcoImagePlugin.IcoImageFile,
}
#: Formats whose extra frames are an animation (a TIFF's pages or an MPO's second
#: picture are not: their first frame is the image).
_ANIMATED_KINDS = frozenset(("gif", "webp", "png", "avif"))
#: Animations served as their original bytes when narrow enough.
_KEPT_KINDS = frozenset(("gif", "webp"))
#: Modes resized as they are (others are converted to RGB or RGBA first).
_RESIZABLE = frozenset(("RGB", "RGBA", "L", "LA", "CMYK"))
#: Modes whose integers span 16 bits (a 16-bit grayscale PNG).
_WIDE_MODES = frozenset(("I", "I;16", "I;16B", "I;16L", "I;16N"))
#: EXIF orientations that swap width and height.
_SWAPPING = frozenset((5, 6, 7, 8))
_ORIENTATION_TAG = 0x0112

# --- sniffing ----------------------------------------------------------------------------------

#: Header sizes of the BMP versions (BITMAPCOREHEADER … BITMAPV5HEADER).
_BMP_HEADERS = frozenset((12, 16, 40, 52, 56, 64, 108, 124))
_AVIF_BRANDS = frozenset((b"avif", b"avis"))
#: What may come before a document's root element: whitespace, an XML declaration or
#: processing instruction, comments, a doctype (with an internal subset).
_PROLOG = re.compile(
    r"""(?:\s+|<\?[^>]*\?>|<!--.*?-->|<!doctype(?:[^\[>]|\[[^\]]*\])*>)*""", re.I | re.S
)
_SVG_ROOT = re.compile(r"<(?:[a-z_][\w.-]*:)?svg[\s/>]", re.I)
_SVG_DOCTYPE = re.compile(r"<!doctype\s+svg\b", re.I)
#: HTML's first tags (the WHATWG MIME sniffing standard's "HTML" patterns).
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p"
    r"|meta|link)[\s/>]",
    re.I,
)
_HTML_DOCTYPE = re.compile(r"<!doctype\s+html\b", re.I)
#: How much of a text document's start is read to find its root element.
_TEXT_PREFIX = 8192


def sniff(data: bytes) -> str | None:
    """The image format from the first bytes (magic numbers), never from URL or Content-Type.

    Returns:
        ``jpeg``, ``png``, ``gif``, ``webp``, ``bmp``, ``avif``, ``tiff`` or ``ico``
        for images Pillow can decode; ``svg`` for an XML document whose root is
        ``<svg>`` (after a BOM, whitespace, an XML declaration, comments or a
        doctype); ``html`` for an HTML page; None for anything else (HEIC and
        JPEG XL included).
    """
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if (
        head[:2] == b"BM"
        and len(head) >= 18
        and struct.unpack("<I", head[14:18])[0] in _BMP_HEADERS
    ):
        return "bmp"
    if head[4:8] == b"ftyp" and _is_avif(data):
        return "avif"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00":
        return "ico"
    return _sniff_text(data)


def _is_avif(data: bytes) -> bool:
    """An ISO-BMFF ``ftyp`` box whose major or a compatible brand is AVIF."""
    size = int.from_bytes(data[:4], "big")
    if data[8:12] in _AVIF_BRANDS:
        return True
    if not 16 <= size <= 4096:
        return False
    box = data[16:size]
    return any(box[i : i + 4] in _AVIF_BRANDS for i in range(0, len(box) - 3, 4))


def _sniff_text(data: bytes) -> str | None:
    """``svg``, ``html`` or None for a document that starts with markup."""
    text = _decode_prefix(data[: _TEXT_PREFIX * 2])
    if text is None:
        return None
    prolog = _PROLOG.match(text)
    rest = text[prolog.end() if prolog else 0 :]
    if _SVG_ROOT.match(rest):
        return "svg"
    if _HTML_START.match(rest):
        return "html"
    if prolog is not None:
        doctypes = prolog.group(0)
        if _SVG_DOCTYPE.search(doctypes):
            return "svg"
        if _HTML_DOCTYPE.search(doctypes):
            return "html"
    return None


def _decode_prefix(prefix: bytes) -> str | None:
    """The start of a text document as text (by its BOM, else UTF-8), or None when it
    does not start with ``<`` after whitespace."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if prefix.startswith(bom):
            text = prefix[len(bom) :].decode(codec, errors="replace")
            break
    else:
        text = prefix.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    return text if stripped.startswith("<") else None


# --- processing --------------------------------------------------------------------------------


def process(
    data: bytes,
    *,
    max_pixels: int = 50_000_000,
    max_width: int = 1280,
    small_width: int = 640,
    thumb: tuple[int, int] | None = None,
) -> Processed | Refused:
    """The files to serve for one downloaded image, or why it is refused.

    Args:
        data: the downloaded bytes, untrusted.
        max_pixels: the largest image (width × height) decoded; an animation may
            hold :data:`FRAME_FACTOR` times as many over all its frames.
        max_width: the widest ``main``.
        small_width: the width of ``small``, made when the original is wider than
            1.25 × this.
        thumb: the exact size of a ``thumb`` (centre-cropped); None: no thumbnail.

    Returns:
        :class:`Processed`, or :class:`Refused`. Never raises for any ``data``.

    Raises:
        ValueError: an argument other than ``data`` is not a positive size.
    """
    if min(max_pixels, max_width, small_width, *(thumb or (1, 1))) < 1:
        raise ValueError("process(): sizes must be positive")
    if not data:
        return Refused("empty body", permanent=True)
    kind = sniff(data)
    if kind is None:
        return Refused(f"not an image ({_describe_unknown(data)})", permanent=True)
    if kind == "html":
        return Refused("not an image (HTML page)", permanent=True)
    if kind == "svg":
        return Refused("SVG refused (not served as is)", permanent=True)
    try:
        return _process(data, kind, max_pixels, max_width, small_width, thumb)
    except MemoryError:
        return Refused("cannot decode: out of memory", permanent=False)
    # Pillow's plugins raise many kinds of error on hostile bytes (OSError, ValueError,
    # SyntaxError, struct.error, EOFError, IndexError, ZeroDivisionError, its
    # DecompressionBombError…) and warnings may be errors: every one is a refusal.
    except Exception as e:
        return Refused(f"cannot decode: {_detail(e)}", permanent=True)


def _describe_unknown(data: bytes) -> str:
    """``text`` for bytes that read as text, else ``unknown format``."""
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        # a multi-byte character cut at the end of the prefix is still text
        text = head[: e.start].decode("utf-8") if e.start >= len(head) - 3 else ""
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "text"
    return "unknown format"


def _detail(e: BaseException) -> str:
    message = " ".join(str(e).split()) or type(e).__name__
    if len(message) > _DETAIL_CHARS:
        message = message[: _DETAIL_CHARS - 1] + "…"
    return message


def _too_big(width: int, height: int, limit: int) -> str:
    return f"{width}×{height} pixels is more than the {limit:,} allowed"


def _process(
    data: bytes,
    kind: str,
    max_pixels: int,
    max_width: int,
    small_width: int,
    thumb: tuple[int, int] | None,
) -> Processed | Refused:
    im = _OPENERS[kind](io.BytesIO(data), "")
    width, height = im.size
    if width < 1 or height < 1:
        return Refused(f"cannot decode: {width}×{height} pixels", permanent=True)
    if width * height > max_pixels:
        return Refused(_too_big(width, height, max_pixels), permanent=True)
    digest = hashlib.sha256(data).hexdigest()
    frames = int(getattr(im, "n_frames", 1)) if kind in _ANIMATED_KINDS else 1
    if frames > 1:
        limit = FRAME_FACTOR * max_pixels
        if frames * width * height > limit:
            return Refused(
                f"{frames} frames of {width}×{height} pixels is more than the {limit:,} allowed",
                permanent=True,
            )
        main_size = _fit_within(width, height, max_width, WEBP_MAX_SIDE)
        keep = kind in _KEPT_KINDS and main_size == (width, height)
        affordable = frames * main_size[0] * main_size[1] <= max_pixels
        if kind in _KEPT_KINDS or affordable:
            anim = _animated(data, kind, im, None if keep or not affordable else main_size, thumb)
            return Processed(digest, kind, width, height, animated=True, files=anim)
        # an APNG or AVIF animation too big to re-encode: its first frame, as a still
    orientation = _orientation(im)
    if orientation in _SWAPPING:
        width, height = height, width
    main_size = _fit_within(width, height, max_width, WEBP_MAX_SIDE)
    small_size = _small_size(width, height, small_width, main_size)
    _draft(im, (width, height), orientation, main_size, thumb)
    im.load()
    source = _resizable(_upright(im, orientation))
    main = _resize(source, main_size)
    files = [_derivative("main", main)]
    if small_size is not None:
        files.append(_derivative("small", _resize(main, small_size)))
    if thumb is not None:
        base = (
            main
            if main is source or (main.width >= thumb[0] and main.height >= thumb[1])
            else source
        )
        files.append(_derivative("thumb", _fit(base, thumb)))
    return Processed(digest, kind, width, height, animated=False, files=tuple(files))


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8), 1 when there is none or it is not a known value."""
    value = im.getexif().get(_ORIENTATION_TAG, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    """The loaded pixels of ``im`` turned upright (``ImageOps.exif_transpose``'s table,
    applied with the orientation the sizes were computed from; none of the metadata it
    would also rewrite is written)."""
    method = _TRANSPOSE.get(orientation)
    return im if method is None else im.transpose(method)


def _fit_within(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """``width × height`` scaled down (never up) to fit ``max_width × max_height``."""
    scale = min(1.0, max_width / width, max_height / height)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _small_size(
    width: int, height: int, small_width: int, main: tuple[int, int]
) -> tuple[int, int] | None:
    """The size of ``small``, or None when the original is not wide enough for one."""
    if width <= small_width * 1.25:
        return None
    size = _fit_within(width, height, small_width, WEBP_MAX_SIDE)
    return size if size[0] < main[0] else None


def _draft(
    im: ImageFile.ImageFile,
    size: tuple[int, int],
    orientation: int,
    main: tuple[int, int],
    thumb: tuple[int, int] | None,
) -> None:
    """Ask a JPEG decoder for a reduced scale that still covers every output."""
    if im.format not in ("JPEG", "MPO"):
        return
    width, height = size
    scale = main[0] / width
    if thumb is not None:
        scale = max(scale, min(1.0, max(thumb[0] / width, thumb[1] / height)))
    if scale * _DRAFT_GAP >= 0.5:
        return  # not even a 1/2 scale would do
    need = (math.ceil(width * scale * _DRAFT_GAP), math.ceil(height * scale * _DRAFT_GAP))
    if orientation in _SWAPPING:
        need = (need[1], need[0])
    im.draft(None, need)


def _resizable(im: Image.Image) -> Image.Image:
    """``im`` in a mode that resizes well: as it is, or converted to RGB / RGBA."""
    mode = im.mode
    if mode in _RESIZABLE:
        return im
    if mode in _WIDE_MODES:
        # 16-bit samples: keep the top 8 bits (a plain convert would clip at 255)
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "P" and "transparency" in im.info:
        return im.convert("RGBA")
    if mode in ("PA", "LA", "La", "RGBa"):
        return im.convert("RGBA")
    return im.convert("RGB")


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    if im.size == size:
        return im
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _fit(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``im`` centre-cropped to the aspect of ``size`` and resized to exactly it
    (``ImageOps.fit``, with whole-factor reduction first)."""
    width, height = im.size
    ratio = size[0] / size[1]
    if width / height > ratio:
        crop_w, crop_h = height * ratio, float(height)
    else:
        crop_w, crop_h = float(width), width / ratio
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    box = (left, top, left + crop_w, top + crop_h)
    gap = _REDUCING_GAP if crop_w > size[0] * _REDUCING_GAP else None
    return im.resize(size, Image.Resampling.LANCZOS, box=box, reducing_gap=gap)


def _rgb(im: Image.Image) -> Image.Image:
    """``im`` as RGB or RGBA, the modes WebP holds."""
    if im.mode in ("RGB", "RGBA"):
        return im
    if im.mode == "CMYK":
        icc = im.info.get("icc_profile")
        if icc:
            try:
                return _cmyk_to_srgb(im, icc)
            except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
                pass  # a broken profile: the plain conversion below
        return im.convert("RGB")
    return im.convert("RGBA" if im.mode in ("LA", "PA") else "RGB")


def _cmyk_to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    converted = ImageCms.profileToProfile(
        im, profile, _srgb(), renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB"
    )
    if converted is None:  # only with inPlace=True
        raise ValueError("no image from the colour transform")
    return converted


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _webp(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "WEBP", **_WEBP_OPTIONS)
    return out.getvalue()


def _derivative(role: Literal["main", "small", "thumb"], im: Image.Image) -> Derivative:
    im = _rgb(im)
    return Derivative(role, "webp", im.width, im.height, _webp(im))


def _animated(
    data: bytes,
    kind: str,
    im: ImageFile.ImageFile,
    size: tuple[int, int] | None,
    thumb: tuple[int, int] | None,
) -> tuple[Derivative, ...]:
    """``main`` (an animated WebP of ``size``, or the original bytes when None) and the
    ``thumb`` of the first frame."""
    im.seek(0)
    first = _resizable(im)
    first.load()  # a broken first frame refuses the whole file
    # the thumbnail first: `first` may be `im` itself, which the re-encoding seeks
    small = None if thumb is None else _derivative("thumb", _fit(first, thumb))
    if size is None:
        main = Derivative("main", kind, im.width, im.height, data)
    else:
        main = _animated_webp(im, size)
    return (main,) if small is None else (main, small)


def _animated_webp(im: ImageFile.ImageFile, size: tuple[int, int]) -> Derivative:
    """Every frame of ``im`` at ``size``, with its duration and the loop count."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(im):
        frame.load()  # a WebP frame's duration is known once it is loaded
        durations.append(int(frame.info.get("duration", 0) or 0))
        still = _resize(_resizable(frame), size)
        # a frame kept as it is would be the whole file to the encoder, all its frames
        frames.append(still.copy() if still is frame else still)
    # No loop count: a GIF plays once; WebP's 0 is "for ever".
    loop = im.info.get("loop")
    out = io.BytesIO()
    frames[0].save(
        out,
        "WEBP",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=1 if loop is None else int(loop),
        **_ANIMATED_WEBP_OPTIONS,
    )
    return Derivative("main", "webp", size[0], size[1], out.getvalue())


# --- generated covers --------------------------------------------------------------------------

#: Characters of a label shown on a cover; a longer one is cut and ends with "…".
COVER_CHARS = 12
#: Characters of a label kept in the cover's ``<title>``.
_TITLE_CHARS = 120
_FONTS = (
    "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Noto Sans CJK SC', "
    "'Microsoft YaHei', sans-serif"
)
#: Characters XML 1.0 cannot hold, even escaped, and invisible ones that reorder or
#: hide text (bidi overrides and isolates, zero-width characters).
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def generated_cover(label: str, *, width: int = 480, height: int = 300) -> bytes:
    """A stable SVG cover for an item without an image: ``label`` on a colour of its own.

    The background colour comes from a hash of the label; the label (a site name,
    any script, untrusted) is centred in white, cut to :data:`COVER_CHARS`
    characters with "…" and XML-escaped, so no markup in it survives. The SVG has
    a ``<title>``, a ``<rect>`` and a ``<text>``: no script, no external reference,
    no font file.

    Args:
        label: the text to show.
        width: the cover's width in pixels.
        height: its height.

    Returns:
        UTF-8 SVG bytes, the same for the same arguments.
    """
    if width < 1 or height < 1:
        raise ValueError("generated_cover(): sizes must be positive")
    clean = " ".join(_UNSAFE_CHARS.sub("", unicodedata.normalize("NFC", label)).split())
    shown = clean if len(clean) <= COVER_CHARS else clean[: COVER_CHARS - 1].rstrip() + "…"
    title = clean if len(clean) <= _TITLE_CHARS else clean[: _TITLE_CHARS - 1] + "…"
    digest = hashlib.sha256(label.encode("utf-8", "surrogatepass")).digest()
    background = _colour(int.from_bytes(digest[:2], "big") % 360)
    font_size = max(8, min(round(height * 0.3), math.floor(width * 0.8 / _ems(shown))))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
        f"<title>{_xml(title)}</title>"
        f'<rect width="{width}" height="{height}" fill="{background}"/>'
        f'<text x="{width / 2:g}" y="{height / 2:g}" fill="#ffffff" font-family="{_FONTS}" '
        f'font-size="{font_size}" font-weight="600" text-anchor="middle" '
        f'dominant-baseline="central">{_xml(shown)}</text>'
        "</svg>"
    )
    return svg.encode("utf-8")


def _ems(text: str) -> float:
    """A generous estimate of the width of ``text`` in a bold sans-serif, in ems."""
    width = 0.0
    for c in text:
        if unicodedata.east_asian_width(c) in "WF" or c in "MWmw@%":
            width += 1.0
        elif c.isupper() or not c.isascii():
            width += 0.75
        else:
            width += 0.6
    return width or 1.0


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _colour(hue: int) -> str:
    """A darkish, saturated colour of ``hue`` (degrees), on which white text reads."""
    saturation, lightness = 0.55, 0.38
    chroma = (1 - abs(2 * lightness - 1)) * saturation
    x = chroma * (1 - abs((hue / 60) % 2 - 1))
    m = lightness - chroma / 2
    r, g, b = [
        (chroma, x, 0.0),
        (x, chroma, 0.0),
        (0.0, chroma, x),
        (0.0, x, chroma),
        (x, 0.0, chroma),
        (chroma, 0.0, x),
    ][hue // 60 % 6]
    return "#" + "".join(f"{round((v + m) * 255):02x}" for v in (r, g, b))
