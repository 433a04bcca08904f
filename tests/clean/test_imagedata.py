"""Image bytes → safe derivatives (``_clean/_imagedata.py``, issue #12).

Every image here is made with the real Pillow in the test (or written byte by byte
where Pillow would refuse to write it, as the bombs); outputs are decoded again
with Pillow to check what a browser would get.
"""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zlib
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image, ImageCms, ImageSequence

from feedsite._clean._imagedata import (
    COVER_CHARS,
    Derivative,
    Processed,
    Refused,
    generated_cover,
    process,
    sniff,
)

SVG_NS = "{http://www.w3.org/2000/svg}"

# --- helpers -----------------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def halves(size: tuple[int, int], left: str = "red", right: str = "blue") -> Image.Image:
    """An RGB image whose left half is ``left`` and right half ``right``."""
    im = Image.new("RGB", size, right)
    im.paste(left, (0, 0, size[0] // 2, size[1]))
    return im


def processed(result: Processed | Refused) -> Processed:
    assert isinstance(result, Processed), result
    return result


def refused(result: Processed | Refused) -> Refused:
    assert isinstance(result, Refused), result
    return result


def riff_chunks(data: bytes) -> list[bytes]:
    """The chunk ids of a WebP file (``VP8X``, ``VP8 ``, ``ALPH``, ``EXIF``…)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ids, pos = [], 12
    while pos + 8 <= len(data):
        ids.append(data[pos : pos + 4])
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        pos += 8 + size + (size & 1)
    return ids


def opened(d: Derivative) -> Image.Image:
    """The derivative decoded; checks that its size is the one it reports."""
    im = Image.open(io.BytesIO(d.data))
    assert im.size == (d.width, d.height)
    assert im.format == {"webp": "WEBP", "gif": "GIF"}[d.ext]
    return im


def no_metadata(d: Derivative) -> None:
    im = opened(d)
    assert not {"exif", "icc_profile", "xmp"} & set(im.info), im.info
    assert not {b"EXIF", b"ICCP", b"XMP "} & set(riff_chunks(d.data))


def alpha(im: Image.Image, xy: tuple[int, int]) -> int:
    pixel = im.getpixel(xy)
    assert isinstance(pixel, tuple)
    return int(pixel[3])


def roles(p: Processed) -> list[tuple[str, int, int]]:
    return [(d.role, d.width, d.height) for d in p.files]


def near(pixel: object, colour: tuple[int, ...], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=False))


@cache
def photo_jpeg(size: tuple[int, int]) -> bytes:
    """A JPEG with some texture (a gradient under noise)."""
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    return encode(Image.blend(base, noise, 0.3), "JPEG", quality=85)


def frames(size: tuple[int, int], n: int) -> list[Image.Image]:
    return [Image.new("RGB", size, (60 * i % 256, 120, 200 - 50 * i)) for i in range(n)]


def animated(fmt: str, size: tuple[int, int], n: int = 3, **params: object) -> bytes:
    first, *rest = frames(size, n)
    return encode(first, fmt, save_all=True, append_images=rest, **params)


def gif_bomb(width: int, height: int, n: int) -> bytes:
    """A GIF with a ``width``×``height`` screen and ``n`` frames of one pixel (a few
    hundred bytes: every frame is composited on the whole screen when decoded)."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (
        b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"  # one pixel of colour 0, LZW
    )
    return header + loop + frame * n + b"\x3b"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@cache
def png_bomb() -> bytes:
    """A real 20,000×20,000 1-bit PNG of zeros: ~50 MB of pixels (400 MB once decoded by
    Pillow, a byte a pixel) in ~50 KB."""
    row = b"\0" * (1 + 20000 // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(20000)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", body)
        + png_chunk(b"IEND", b"")
    )


# --- sniff -------------------------------------------------------------------------------------

SNIFF_TABLE = [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
    (b"\xff\xd8\xff\xdb", "jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
    (b"GIF87a\x01\x00\x01\x00", "gif"),
    (b"GIF89a\x01\x00\x01\x00", "gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
    (b"BM" + b"\0" * 12 + struct.pack("<I", 40) + b"\0" * 8, "bmp"),
    (b"BM" + b"\0" * 12 + struct.pack("<I", 124) + b"\0" * 8, "bmp"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
    (b"\x00\x00\x00\x20ftypmif1\x00\x00\x00\x00mif1avifmiafMA1B", "avif"),
    (b"II*\x00\x08\x00\x00\x00", "tiff"),
    (b"MM\x00*\x00\x00\x00\x08", "tiff"),
    (b"\x00\x00\x01\x00\x01\x00\x10\x10", "ico"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
    (b"\xef\xbb\xbf  \n<svg>", "svg"),
    (b'<?xml version="1.0"?>\n<!-- made by hand -->\n<svg width="1">', "svg"),
    (
        b'<?xml version="1.0" standalone="no"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg>',
        "svg",
    ),
    (b'<!DOCTYPE svg [<!ENTITY a "<b>">]><svg>&a;</svg>', "svg"),
    (b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>', "svg"),
    ('<svg onload="alert(1)">'.encode("utf-16"), "svg"),  # with its BOM
    (b"<!doctype html><html><body>404</body></html>", "html"),
    (b"\n\n<!DOCTYPE HTML PUBLIC '-//W3C//DTD HTML 4.01//EN'>", "html"),
    (b"<html><head><title>Not Found</title>", "html"),
    (b"<!-- cache miss -->\n<head><meta charset=utf-8>", "html"),
    (b"<body>Access denied</body>", "html"),
    (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">', "html"),
    (b"<script>location='/login'</script>", "html"),
    (b"", None),
    (b"hello, world", None),
    (b'{"error": "not found"}', None),
    (b"BMW is a car, not a bitmap", None),
    (b"<rss version='2.0'><channel>", None),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", None),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", None),
    (b"\x00\x00\x01\x00\x00\x00", None),
    (bytes(range(256)), None),
]


@pytest.mark.parametrize(("data", "kind"), SNIFF_TABLE)
def test_sniff_table(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


@cache
def sample(kind: str) -> bytes:
    """A 64×48 picture in the format ``kind``, written by Pillow."""
    im = halves((64, 48))
    if kind == "ico":
        return encode(im, "ICO", sizes=[im.size])
    return encode(im, "JPEG" if kind == "jpeg" else kind.upper())


KINDS = ["jpeg", "png", "gif", "webp", "bmp", "avif", "tiff", "ico"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_sniffed_and_served_as_webp(kind: str) -> None:
    data = sample(kind)
    assert sniff(data) == kind
    p = processed(process(data))
    assert (p.kind, p.width, p.height, p.animated) == (kind, 64, 48, False)
    [main] = p.files
    assert (main.role, main.ext) == ("main", "webp")
    im = opened(main)
    assert im.size == (64, 48)
    assert near(im.convert("RGB").getpixel((8, 24)), (255, 0, 0), 60)
    assert near(im.convert("RGB").getpixel((56, 24)), (0, 0, 255), 60)


# --- static images -----------------------------------------------------------------------------


def test_exif_orientation_applied_and_metadata_gone() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(halves((400, 200)), "JPEG", exif=exif, icc_profile=icc, comment=b"secret")
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(0x8825)[1] == "N"  # the input does carry GPS
    assert "icc_profile" in source.info

    p = processed(process(data, small_width=100, thumb=(60, 60)))
    assert (p.width, p.height) == (200, 400)
    assert roles(p) == [("main", 200, 400), ("small", 100, 200), ("thumb", 60, 60)]
    for d in p.files:
        no_metadata(d)
        assert b"PhoneMaker" not in d.data and b"secret" not in d.data
    main = opened(p.files[0]).convert("RGB")
    # the left (red) half is on top once turned clockwise
    assert near(main.getpixel((100, 50)), (255, 0, 0))
    assert near(main.getpixel((100, 350)), (0, 0, 255))


def test_large_jpeg_is_decoded_reduced_and_turned() -> None:
    """A 2,000×5,400 JPEG shown 5,400×2,000 (orientation 8): decoded at 1/2 scale
    (``draft``), turned, then resized; the sizes and the picture are right."""
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° counter-clockwise to display
    raw = Image.new("RGB", (2000, 5400), "blue")
    raw.paste("red", (0, 0, 2000, 2700))  # top half red
    data = encode(raw, "JPEG", exif=exif, quality=85)
    p = processed(process(data, thumb=(480, 300)))
    assert (p.width, p.height) == (5400, 2000)
    assert roles(p) == [("main", 1280, 474), ("small", 640, 237), ("thumb", 480, 300)]
    main = opened(p.files[0]).convert("RGB")
    # counter-clockwise: the top (red) goes to the left
    assert near(main.getpixel((100, 237)), (255, 0, 0))
    assert near(main.getpixel((1180, 237)), (0, 0, 255))


def test_big_image_main_small_and_exact_thumb() -> None:
    data = photo_jpeg((4000, 3000))
    p = processed(process(data, thumb=(480, 300)))
    assert (p.kind, p.width, p.height, p.animated) == ("jpeg", 4000, 3000, False)
    assert roles(p) == [("main", 1280, 960), ("small", 640, 480), ("thumb", 480, 300)]
    for d in p.files:
        assert d.ext == "webp"
        no_metadata(d)
    without = processed(process(data))
    assert roles(without) == [("main", 1280, 960), ("small", 640, 480)]


def test_small_image_has_no_small_version_and_is_still_reencoded() -> None:
    exif = Image.Exif()
    exif[0x010E] = "a description"
    data = encode(halves((300, 200)), "PNG", exif=exif)
    p = processed(process(data))
    assert roles(p) == [("main", 300, 200)]
    no_metadata(p.files[0])
    assert p.files[0].data != data


def test_small_only_when_wider_than_one_and_a_quarter() -> None:
    at = processed(process(encode(halves((800, 100)), "PNG")))
    assert roles(at) == [("main", 800, 100)]  # 800 = 1.25 × 640: no small
    past = processed(process(encode(halves((801, 100)), "PNG")))
    assert roles(past) == [("main", 801, 100), ("small", 640, 80)]


def test_thumb_upscales_a_tiny_source() -> None:
    p = processed(process(sample("png"), thumb=(480, 300)))
    assert roles(p) == [("main", 64, 48), ("thumb", 480, 300)]


def test_panorama_thumb_is_cut_from_the_full_image() -> None:
    """main is 1,280×43: the thumb (300 high) is cut from the decoded image instead, so
    it keeps detail (4-pixel stripes stay visible rather than a 7× upscaled grey)."""
    im = Image.new("L", (12000, 400), 255)
    for x in range(0, 12000, 8):
        im.paste(0, (x, 0, x + 4, 400))
    p = processed(process(encode(im, "PNG"), thumb=(480, 300)))
    assert roles(p)[0] == ("main", 1280, 43)
    thumb = opened(p.files[-1])
    assert thumb.size == (480, 300)
    low, high = thumb.convert("L").getextrema()
    assert isinstance(low, int) and isinstance(high, int)
    assert high - low > 100


def test_very_tall_image_fits_webp() -> None:
    p = processed(process(encode(Image.new("L", (500, 30000), 128), "PNG")))
    assert roles(p) == [("main", 273, 16383)]


def test_png_alpha_kept() -> None:
    im = Image.new("RGBA", (1000, 100), (255, 0, 0, 255))
    im.paste((0, 0, 0, 0), (0, 0, 500, 100))
    p = processed(process(encode(im, "PNG"), thumb=(50, 50)))
    assert [d.role for d in p.files] == ["main", "small", "thumb"]
    for d in p.files:
        out = opened(d)
        assert out.mode == "RGBA"
        assert alpha(out, (0, 0)) == 0
        assert alpha(out, (out.width - 1, out.height - 1)) == 255


def test_opaque_image_has_no_alpha() -> None:
    p = processed(process(sample("png")))
    assert opened(p.files[0]).mode == "RGB"
    assert b"ALPH" not in riff_chunks(p.files[0].data)


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_with_transparency_becomes_rgba(fmt: str) -> None:
    im = Image.new("P", (40, 20), 1)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(0, (0, 0, 20, 20))
    data = encode(im, fmt, transparency=0)
    assert Image.open(io.BytesIO(data)).mode == "P"
    out = opened(processed(process(data)).files[0])
    assert out.mode == "RGBA"
    assert alpha(out, (5, 10)) == 0
    assert near(out.getpixel((35, 10)), (255, 0, 0, 255))


def test_cmyk_jpeg_becomes_rgb() -> None:
    im = Image.new("CMYK", (40, 20), (0, 255, 255, 0))  # red
    im.paste((255, 255, 0, 0), (20, 0, 40, 20))  # blue
    data = encode(im, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = opened(processed(process(data)).files[0])
    assert out.mode == "RGB"
    assert near(out.getpixel((5, 10)), (255, 0, 0))
    assert near(out.getpixel((35, 10)), (0, 0, 255))


@pytest.mark.parametrize("icc", [b"not a profile", "srgb"])
def test_cmyk_jpeg_with_an_unusable_profile_still_converts(icc: bytes | str) -> None:
    """A profile that cannot be read, or is not a CMYK one: the plain conversion."""
    if icc == "srgb":
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert isinstance(icc, bytes)
    data = encode(Image.new("CMYK", (40, 20), (0, 255, 255, 0)), "JPEG", icc_profile=icc)
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == icc
    main = processed(process(data)).files[0]
    no_metadata(main)
    assert near(opened(main).getpixel((20, 10)), (255, 0, 0))


def test_16_bit_grayscale_png_keeps_its_levels() -> None:
    im = Image.new("I", (64, 16), 0)
    im.paste(32768, (16, 0, 32, 16))
    im.paste(65535, (32, 0, 64, 16))
    data = encode(im.convert("I;16"), "PNG")
    source = Image.open(io.BytesIO(data))
    assert source.mode == "I;16" and source.getpixel((48, 8)) == 65535
    out = opened(processed(process(data)).files[0]).convert("L")
    levels = [out.getpixel((x, 8)) for x in (8, 24, 48)]
    assert isinstance(levels[0], int) and isinstance(levels[1], int)
    assert isinstance(levels[2], int)
    assert levels[0] < 10 and 110 < levels[1] < 145 and levels[2] > 245


@pytest.mark.parametrize("mode", ["1", "L", "LA", "I", "F", "RGBX", "YCbCr"])
def test_other_modes_convert(mode: str) -> None:
    fmt = "TIFF" if mode in ("I", "F", "YCbCr", "RGBX") else "PNG"
    data = encode(Image.new(mode, (30, 20)), fmt)
    out = opened(processed(process(data)).files[0])
    assert out.mode in ("RGB", "RGBA")


# --- animations --------------------------------------------------------------------------------


def test_animated_gif_served_as_it_is() -> None:
    data = animated("GIF", (200, 100), duration=[100, 200, 300], loop=0)
    p = processed(process(data, thumb=(60, 60)))
    assert (p.kind, p.width, p.height, p.animated) == ("gif", 200, 100, True)
    assert roles(p) == [("main", 200, 100), ("thumb", 60, 60)]
    main, thumb = p.files
    assert (main.ext, main.data) == ("gif", data)
    im = opened(main)
    assert getattr(im, "n_frames", 1) == 3
    still = opened(thumb)
    assert getattr(still, "n_frames", 1) == 1
    assert near(still.convert("RGB").getpixel((30, 30)), (0, 120, 200))  # the first frame


def test_animated_webp_served_as_it_is() -> None:
    data = animated("WEBP", (200, 100), duration=100)
    p = processed(process(data))
    assert p.animated
    assert [(d.role, d.ext) for d in p.files] == [("main", "webp")]
    assert p.files[0].data == data


def test_wide_animation_reencoded_with_frames_durations_and_loop() -> None:
    data = animated("GIF", (1500, 60), duration=[100, 200, 300], loop=2)
    p = processed(process(data, thumb=(100, 100)))
    assert (p.width, p.height, p.animated) == (1500, 60, True)
    assert roles(p) == [("main", 1280, 51), ("thumb", 100, 100)]
    main = p.files[0]
    assert main.ext == "webp"
    im = opened(main)
    durations = []
    for frame in ImageSequence.Iterator(im):
        frame.load()  # WebP sets a frame's duration when it is loaded
        durations.append(frame.info["duration"])
    assert durations == [100, 200, 300]
    assert im.info["loop"] == 2
    im.seek(2)
    assert near(im.convert("RGB").getpixel((640, 25)), (120, 120, 100))


def test_apng_reencoded_as_animated_webp() -> None:
    data = animated("PNG", (100, 50), duration=50, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 3
    p = processed(process(data))
    assert (p.kind, p.animated) == ("png", True)
    [main] = p.files
    assert (main.ext, main.width, main.height) == ("webp", 100, 50)
    assert getattr(opened(main), "n_frames", 1) == 3


def test_animation_over_the_reencoding_budget_is_kept_or_stilled() -> None:
    # 3 frames of 1,280×10 after resizing: 38,400 pixels, over a budget of 30,000
    gif = animated("GIF", (1500, 12))
    p = processed(process(gif, max_pixels=30_000))
    assert p.animated and p.files[0].data == gif and roles(p) == [("main", 1500, 12)]
    apng = animated("PNG", (1500, 12))
    still = processed(process(apng, max_pixels=30_000))
    assert not still.animated
    assert roles(still) == [("main", 1280, 10), ("small", 640, 5)]


# --- refusals ----------------------------------------------------------------------------------


def test_png_bomb_refused_fast_before_decoding() -> None:
    data = png_bomb()
    assert len(data) < 1_000_000
    started = time.monotonic()
    r = refused(process(data))
    assert time.monotonic() - started < 1.0
    assert r == Refused("20000×20000 pixels is more than the 50,000,000 allowed", permanent=True)


def test_max_pixels_is_the_limit() -> None:
    r = refused(process(sample("png"), max_pixels=3000))
    assert r.reason == "64×48 pixels is more than the 3,000 allowed"
    assert isinstance(process(sample("png"), max_pixels=3072), Processed)


def test_pillow_global_limit_is_not_the_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Image.open`` would refuse a 64×48 image past a process-wide limit of 1,000 pixels
    (an error past twice the limit); ``max_pixels`` alone decides here."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(sample("png")))
    assert isinstance(process(sample("png"), max_pixels=5000), Processed)


def test_animated_bomb_refused_fast() -> None:
    data = gif_bomb(4000, 4000, 50)
    assert len(data) < 2000
    started = time.monotonic()
    r = refused(process(data))
    assert time.monotonic() - started < 1.0
    assert r.permanent
    assert r.reason == "50 frames of 4000×4000 pixels is more than the 200,000,000 allowed"
    # the same with 3 frames (48 M pixels) fits and is served as it is
    small = processed(process(gif_bomb(4000, 4000, 3), max_width=5000))
    assert small.animated and small.files[0].ext == "gif"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty body"),
        (b"<!DOCTYPE html>\n<html><body>Forbidden</body></html>", "not an image (HTML page)"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "SVG refused (not served as is)",
        ),
        (b'<?xml version="1.0"?>\n<svg onload="alert(1)"/>', "SVG refused (not served as is)"),
        ("访问被拒绝 access denied\n".encode(), "not an image (text)"),
        (bytes(range(256)) * 4, "not an image (unknown format)"),
    ],
)
def test_not_images_refused(data: bytes, reason: str) -> None:
    assert process(data) == Refused(reason, permanent=True)


def test_broken_header_refused() -> None:
    r = refused(process(b"\x89PNG\r\n\x1a\n" + b"\0" * 40))
    assert r.permanent
    assert r.reason.startswith("cannot decode: ")


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_images_never_raise(kind: str) -> None:
    data = sample(kind) if kind != "jpeg" else photo_jpeg((300, 200))
    for cut in (len(data) // 2, len(data) - 3, 20):
        result = process(data[:cut])
        assert isinstance(result, (Processed, Refused))
        if isinstance(result, Refused):
            assert result.reason.startswith(("cannot decode: ", "not an image"))


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        process(sample("png"), max_width=0)
    with pytest.raises(ValueError):
        process(sample("png"), thumb=(0, 10))


# --- never raises ------------------------------------------------------------------------------

MAGICS = [
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0",
    b"\x00\x00\x00\x1cftypavif",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00\x01\x00",
]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def check_value(result: Processed | Refused) -> None:
    assert isinstance(result, (Processed, Refused))
    if isinstance(result, Processed):
        for d in result.files:
            assert d.width >= 1 and d.height >= 1 and d.data


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    check_value(process(data, max_pixels=4_000_000))


@FUZZ
@given(st.sampled_from(MAGICS), st.binary(max_size=512))
def test_magic_then_garbage_never_raises(magic: bytes, tail: bytes) -> None:
    check_value(process(magic + tail, max_pixels=4_000_000, thumb=(20, 20)))


@FUZZ
@given(
    st.sampled_from([*KINDS, "apng", "agif"]),
    st.data(),
)
def test_damaged_real_images_never_raise(kind: str, draw: st.DataObject) -> None:
    extra = {"apng": animated("PNG", (64, 48)), "agif": animated("GIF", (64, 48))}.get(kind)
    data = bytearray(extra if extra is not None else sample(kind))
    cut = draw.draw(st.integers(1, len(data)))
    flips = draw.draw(st.lists(st.tuples(st.integers(0, cut - 1), st.integers(0, 255)), max_size=8))
    for pos, value in flips:
        data[pos] = value
    check_value(process(bytes(data[:cut]), max_pixels=4_000_000, thumb=(20, 20)))


# --- determinism -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        photo_jpeg((1500, 1000)),
        encode(Image.new("RGBA", (700, 300), (10, 200, 30, 128)), "PNG"),
        animated("GIF", (1400, 40)),
    ],
    ids=["jpeg", "png-alpha", "gif-reencoded"],
)
def test_same_bytes_same_outputs(data: bytes) -> None:
    first = processed(process(data, thumb=(48, 30)))
    again = processed(process(bytes(data), thumb=(48, 30)))
    assert first == again
    assert first.digest == hashlib.sha256(data).hexdigest()


# --- generated covers --------------------------------------------------------------------------

COVER_ELEMENTS = {f"{SVG_NS}{name}" for name in ("svg", "title", "rect", "text")}


def parse_cover(svg: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(svg, parser)
    assert root.tag == f"{SVG_NS}svg"
    for el in root.iter():
        assert el.tag in COVER_ELEMENTS, el.tag
        for key, raw in el.attrib.items():
            name, value = str(key), str(raw)
            assert "href" not in name and not name.startswith("on"), name
            assert "url(" not in value and "javascript" not in value.lower()
    assert svg.count(b"<") == 7  # svg, title, rect and text: nothing else was written
    return root


def cover_text(svg: bytes) -> str:
    text = parse_cover(svg).find(f"{SVG_NS}text")
    assert text is not None and text.text is not None
    return text.text


def test_cover_shows_chinese_and_escapes_markup() -> None:
    assert cover_text(generated_cover("少数派")) == "少数派"
    hostile = '<script>alert("x")</script>'
    svg = generated_cover(hostile)
    assert b"<script" not in svg
    assert cover_text(svg) == "<script>ale…"
    assert cover_text(generated_cover("A&B <i>news</i>")) == "A&B <i>news…"


def test_cover_is_stable_and_coloured_by_label() -> None:
    a, b = generated_cover("少数派"), generated_cover("Hacker News")
    assert generated_cover("少数派") == a
    rects = [parse_cover(svg).find(f"{SVG_NS}rect") for svg in (a, b)]
    fills = [None if rect is None else rect.get("fill") for rect in rects]
    assert fills[0] and fills[1] and fills[0] != fills[1]
    root = parse_cover(generated_cover("x", width=640, height=400))
    assert (root.get("width"), root.get("height")) == ("640", "400")


def test_cover_truncates_long_labels() -> None:
    text = cover_text(generated_cover("The Quick Brown Fox Daily"))
    assert text == "The Quick B…"
    assert len(text) == COVER_CHARS


SIMPLE = st.text(alphabet="abcXYZ 01<>&\"'/;=中文éß", min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_cover_is_safe_for_any_label(label: str) -> None:
    svg = generated_cover(label)
    assert svg == generated_cover(label)
    parse_cover(svg)
    text = parse_cover(svg).find(f"{SVG_NS}text")
    assert text is not None
    assert len(text.text or "") <= COVER_CHARS


@settings(max_examples=200, deadline=None)
@given(SIMPLE.filter(lambda s: s.strip() == s and "  " not in s and s))
def test_cover_text_is_the_label(label: str) -> None:
    expected = label if len(label) <= COVER_CHARS else label[: COVER_CHARS - 1].rstrip() + "…"
    assert cover_text(generated_cover(label)) == expected
    title = parse_cover(generated_cover(label)).find(f"{SVG_NS}title")
    assert title is not None and title.text == label
