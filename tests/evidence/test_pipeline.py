"""The photo evidence pipeline on real images generated with Pillow."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image, ImageChops, ImageFile, ImageOps, ImageStat, PngImagePlugin

from inspect_api.evidence import pipeline
from inspect_api.evidence.phash import REUSE_THRESHOLD
from inspect_api.evidence.phash import distance as phash_distance
from inspect_api.evidence.pipeline import (
    ImageRejected,
    Limits,
    process_photo,
    process_signature,
    sniff,
)
from inspect_api.evidence.watermark import text_lines as watermark_lines

from .imagegen import encode, huge_png, make_exif, photo_like

NOW = datetime(2024, 6, 3, 2, 15, tzinfo=timezone.utc)  # 10:15 in UTC+8
LABEL = "JC-2024-000123"
HANGZHOU = ((30.0, 16.0, 26.94), "N", (120.0, 9.0, 18.0), "E")
HANGZHOU_DEC = (30 + 16 / 60 + 26.94 / 3600, 120 + 9 / 60 + 18 / 3600)


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _rejected(excinfo, code: str, status: int) -> None:
    err = excinfo.value
    assert err.code == code
    assert err.status == status
    assert err.message and any("\u4e00" <= c <= "\u9fff" for c in err.message)


def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


@pytest.fixture(scope="module")
def camera_raw() -> Image.Image:
    """The stored (sensor) pixels: landscape, with a red block at top-left."""
    im = photo_like(1)
    im.paste((255, 0, 0), (0, 0, 400, 400))
    return im


@pytest.fixture(scope="module")
def camera_jpeg(camera_raw) -> bytes:
    exif = make_exif(orientation=6, taken="2024:05:01 14:30:05", offset="+08:00", gps=HANGZHOU)
    return encode(camera_raw, "JPEG", quality=90, exif=exif, comment=b"owner secret")


@pytest.fixture(scope="module")
def camera_result(camera_jpeg):
    return process_photo(camera_jpeg, label=LABEL, now=NOW)


# --------------------------------------------------------------------------
# The 12 MP camera photo


def test_camera_photo_fields(camera_jpeg, camera_result):
    r = camera_result
    assert r.mime == "image/jpeg"
    assert (r.width, r.height) == (3024, 4032)  # orientation 6 applied
    assert r.original is camera_jpeg
    assert r.sha256 == hashlib.sha256(camera_jpeg).hexdigest()
    assert r.phash.startswith("v2:") and len(r.phash) == 19 and int(r.phash[3:], 16) >= 0
    assert len(r.phash_legacy) == 16 and int(r.phash_legacy, 16) >= 0
    assert r.captured_at == datetime(2024, 5, 1, 6, 30, 5, tzinfo=timezone.utc)
    assert r.captured_at.tzinfo is not None
    assert r.gps == pytest.approx(HANGZHOU_DEC, abs=1e-6)
    assert r.gps_invalid is False
    assert r.pipeline_ms > 0


def test_camera_photo_derivatives_are_upright_and_small(camera_result):
    display = _open(camera_result.display)
    thumb = _open(camera_result.thumb)
    assert display.format == thumb.format == "JPEG"
    assert display.size == camera_result.display_size == (1440, 1920)
    assert thumb.size == camera_result.thumb_size == (240, 320)
    assert max(display.size) <= 1920 and max(thumb.size) <= 320
    # Orientation 6 turns the stored top-left corner to the top-right.
    r, g, b = display.getpixel((display.width - 20, 20))
    assert r > 200 and g < 60 and b < 60
    r, g, b = thumb.getpixel((thumb.width - 3, 3))
    assert r > 200 and g < 60 and b < 60
    r, g, b = display.getpixel((20, 20))
    assert not (r > 200 and g < 60 and b < 60)


def test_metadata_stripped_from_derivatives(camera_result):
    for data in (camera_result.display, camera_result.thumb):
        im = _open(data)
        assert len(im.getexif()) == 0
        assert "exif" not in im.info
        assert "comment" not in im.info
        assert "xmp" not in im.info
        assert b"owner secret" not in data
        assert b"TestPhone" not in data


def test_watermark_drawn_on_a_darkened_strip(camera_raw, camera_result):
    display = _open(camera_result.display).convert("RGB")
    plain = camera_raw.transpose(Image.Transpose.ROTATE_270).resize(display.size, Image.Resampling.LANCZOS)
    w, h = display.size
    top = (0, 0, w, h // 4)
    strip = (0, h - 40, w, h)
    # Away from the strip only resampling and JPEG differences remain.
    assert _mean_diff(display.crop(top), plain.crop(top)) < 8
    assert _mean_diff(display.crop(strip), plain.crop(strip)) > 30
    # The strip is darker, and the text puts bright pixels back into it.
    dark = display.crop((0, h - 110, w, h))
    assert ImageStat.Stat(dark).mean[0] < ImageStat.Stat(plain.crop((0, h - 110, w, h))).mean[0]
    assert max(hi for _, hi in dark.getextrema()) > 230
    # The thumbnail is not watermarked.
    thumb = _open(camera_result.thumb).convert("RGB")
    small = plain.resize(thumb.size, Image.Resampling.LANCZOS)
    assert _mean_diff(thumb, small) < 8


def test_watermark_text():
    taken = datetime(2024, 5, 1, 6, 30, 5, tzinfo=timezone.utc)
    assert watermark_lines(LABEL, taken, HANGZHOU_DEC) == [
        "JC-2024-000123", "2024-05-01 14:30 UTC+8", "30.27415N 120.15500E"]
    assert watermark_lines("检查-7", taken, (-33.5, -70.25)) == [
        "??-7", "2024-05-01 14:30 UTC+8", "33.50000S 70.25000W"]
    # A naive "now" is taken as UTC.
    assert watermark_lines("A", datetime(2024, 1, 1, 20, 0), None) == ["A", "2024-01-02 04:00 UTC+8"]


# --------------------------------------------------------------------------
# EXIF fields


def _small_jpeg(**exif_kwargs) -> bytes:
    return encode(photo_like(3, (640, 480)), "JPEG", quality=90, exif=make_exif(**exif_kwargs))


def test_capture_time_without_offset_is_utc8():
    r = process_photo(_small_jpeg(taken="2024:05:01 14:30:05"), label=LABEL, now=NOW)
    assert r.captured_at == datetime(2024, 5, 1, 6, 30, 5, tzinfo=timezone.utc)


def test_capture_time_with_other_offset():
    r = process_photo(_small_jpeg(taken="2024:05:01 14:30:05", offset="-05:00"), label=LABEL, now=NOW)
    assert r.captured_at == datetime(2024, 5, 1, 19, 30, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("taken", ["    :  :     :  :  ", "2024:13:45 99:00:00", "garbage"])
def test_invalid_capture_time_is_none(taken):
    r = process_photo(_small_jpeg(taken=taken), label=LABEL, now=NOW)
    assert r.captured_at is None


def test_no_exif_uses_now_in_watermark():
    data = encode(photo_like(3, (640, 480)), "JPEG", quality=90)
    r = process_photo(data, label=LABEL, now=NOW)
    assert r.captured_at is None and r.gps is None and r.gps_invalid is False
    assert watermark_lines(LABEL, NOW, None)[1] == "2024-06-03 10:15 UTC+8"


@pytest.mark.parametrize("gps", [
    ((123.0, 0.0, 0.0), "N", (120.0, 0.0, 0.0), "E"),    # latitude > 90
    ((30.0, 0.0, 0.0), "N", (200.0, 0.0, 0.0), "E"),     # longitude > 180
    ((30.0, 75.0, 0.0), "N", (120.0, 0.0, 0.0), "E"),    # 75 minutes
    ((30.0, 0.0, 0.0), "Q", (120.0, 0.0, 0.0), "E"),     # no such reference
    ((0.0, 0.0, 0.0), "N", (0.0, 0.0, 0.0), "E"),        # "null island"
])
def test_absurd_gps_is_dropped_and_flagged(gps):
    r = process_photo(_small_jpeg(gps=gps, taken="2024:05:01 14:30:05"), label=LABEL, now=NOW)
    assert r.gps is None
    assert r.gps_invalid is True
    assert r.captured_at is not None  # the rest of the metadata is still read


def test_southern_western_gps():
    r = process_photo(_small_jpeg(gps=((33.0, 30.0, 0.0), "S", (70.0, 15.0, 0.0), "W")), label=LABEL, now=NOW)
    assert r.gps == pytest.approx((-33.5, -70.25))
    assert r.gps_invalid is False


# --------------------------------------------------------------------------
# Other formats and modes


def test_png_with_alpha_accepted_and_flattened():
    im = photo_like(4, (1000, 800), noise=0).convert("RGBA")
    im.putalpha(Image.new("L", im.size, 0).resize(im.size))  # fully transparent
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone")
    r = process_photo(encode(im, "PNG", pnginfo=info), label=LABEL, now=NOW)
    assert r.mime == "image/png"
    assert (r.width, r.height) == (1000, 800)
    display = _open(r.display)
    assert display.size == (1000, 800)  # already under 1920: not enlarged
    assert display.getpixel((500, 100)) >= (250, 250, 250)  # transparent -> white
    assert _open(r.thumb).size == (320, 256)


def test_large_png_resized():
    im = photo_like(5, (3000, 2000), noise=0)
    r = process_photo(encode(im, "PNG", compress_level=1), label=LABEL, now=NOW)
    assert _open(r.display).size == (1920, 1280)


def test_webp_accepted():
    r = process_photo(encode(photo_like(6, (1200, 900)), "WEBP", quality=80), label=LABEL, now=NOW)
    assert r.mime == "image/webp"
    assert _open(r.display).size == (1200, 900)


def test_heic_accepted_with_exif():
    exif = make_exif(orientation=6, taken="2024:05:01 14:30:05", gps=HANGZHOU)
    data = encode(photo_like(7, (800, 600)), "HEIF", quality=70, exif=exif.tobytes())
    assert sniff(data) == "image/heic"
    r = process_photo(data, label=LABEL, now=NOW)
    assert r.mime == "image/heic"
    assert (r.width, r.height) == (600, 800)  # libheif applies the rotation
    assert _open(r.display).size == (600, 800)
    assert r.captured_at == datetime(2024, 5, 1, 6, 30, 5, tzinfo=timezone.utc)
    assert r.gps == pytest.approx(HANGZHOU_DEC, abs=1e-6)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1"])
def test_other_modes(mode):
    im = photo_like(8, (640, 480), noise=0).convert(mode)
    fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    r = process_photo(encode(im, fmt), label=LABEL, now=NOW)
    assert _open(r.display).mode in ("RGB", "L")
    assert _open(r.thumb).size == (320, 240)


def test_png_16_bit_grey():
    im = Image.linear_gradient("L").resize((600, 400)).convert("I").point(lambda v: v * 257)
    im = im.convert("I;16")
    r = process_photo(encode(im, "PNG"), label=LABEL, now=NOW)
    display = _open(r.display).convert("L")
    assert display.getpixel((300, 10)) < 40 and display.getpixel((300, 300)) > 150


@pytest.fixture(scope="module")
def marked_frame() -> Image.Image:
    """Stored pixels with a red block at the top-left corner, like camera_raw but small."""
    im = photo_like(12, (1200, 900))
    im.paste((255, 0, 0), (0, 0, 150, 150))
    return im


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied_once(marked_frame, orientation):
    data = encode(marked_frame, "JPEG", quality=90, exif=make_exif(orientation=orientation))
    r = process_photo(data, label=LABEL, now=NOW)
    display = _open(r.display).convert("RGB")
    expected = ImageOps.exif_transpose(_open(data)).convert("RGB")
    assert display.size == expected.size == r.display_size
    assert (r.width, r.height) == expected.size
    top = (0, 0, display.width, display.height // 2)  # away from the watermark strip
    assert _mean_diff(display.crop(top), expected.crop(top)) < 6
    thumb = _open(r.thumb).convert("RGB")
    assert _mean_diff(thumb, expected.resize(thumb.size, Image.Resampling.BOX)) < 6


def test_large_png_goes_through_the_reduce_chain():
    im = photo_like(13, (4000, 3000), noise=0)
    r = process_photo(encode(im, "PNG", compress_level=1), label=LABEL, now=NOW)
    display = _open(r.display).convert("RGB")
    assert display.size == (1920, 1440) and _open(r.thumb).size == (320, 240)
    reference = im.resize((1920, 1440), Image.Resampling.LANCZOS)
    top = (0, 0, 1920, 1000)
    assert _mean_diff(display.crop(top), reference.crop(top)) < 4


def test_large_heic_upright_with_exif():
    exif = make_exif(orientation=8, taken="2024:05:01 14:30:05", offset="+08:00", gps=HANGZHOU)
    frame = photo_like(14, (2400, 1800), noise=2)
    frame.paste((255, 0, 0), (0, 0, 300, 300))
    data = encode(frame, "HEIF", quality=50, exif=exif.tobytes(), enc_params={"preset": "ultrafast"})
    r = process_photo(data, label=LABEL, now=NOW)
    assert r.mime == "image/heic"
    assert (r.width, r.height) == (1800, 2400)
    display = _open(r.display).convert("RGB")
    assert display.size == r.display_size == (1440, 1920)
    # Orientation 8 turns the stored top-left corner to the bottom-left;
    # applied once (by libheif), not a second time from the EXIF tag.
    # The block is 240 px in the display, its lower part under the watermark.
    for image, xy in ((display, (20, display.height - 230)), (_open(r.thumb).convert("RGB"), (5, 315))):
        red = image.getpixel(xy)
        assert red[0] > 200 and red[1] < 60 and red[2] < 60
    assert display.getpixel((20, 20))[0] < 200 or display.getpixel((20, 20))[1] > 60
    assert r.captured_at == datetime(2024, 5, 1, 6, 30, 5, tzinfo=timezone.utc)
    assert r.gps == pytest.approx(HANGZHOU_DEC, abs=1e-6)


# --------------------------------------------------------------------------
# Refusals


def test_text_renamed_jpg_is_refused():
    with pytest.raises(ImageRejected) as exc:
        process_photo("这不是图片 not an image\n".encode() * 20, label=LABEL, now=NOW)
    _rejected(exc, "IMAGE_TYPE_UNSUPPORTED", 415)


@pytest.mark.parametrize("data", [
    b"",
    b"GIF89a" + b"\x00" * 40,
    b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 40,
    b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1miafavif" + b"\x00" * 40,
    b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + b"\x00" * 40,
    b"%PDF-1.7\n" + b"\x00" * 40,
])
def test_sniff_refuses_other_types(data):
    with pytest.raises(ImageRejected) as exc:
        sniff(data)
    _rejected(exc, "IMAGE_TYPE_UNSUPPORTED", 415)


def test_sniff_accepts_the_four_types():
    assert sniff(b"\xff\xd8\xff\xe0" + b"\x00" * 20) == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "image/png"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20) == "image/webp"
    assert sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 20) == "image/heic"
    assert sniff(b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1" + b"\x00" * 20) == "image/heif"


def test_truncated_jpeg_is_corrupt(camera_jpeg):
    with pytest.raises(ImageRejected) as exc:
        process_photo(camera_jpeg[: len(camera_jpeg) * 2 // 3], label=LABEL, now=NOW)
    _rejected(exc, "IMAGE_CORRUPT", 422)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_png_is_corrupt():
    data = encode(photo_like(9, (640, 480)), "PNG")
    with pytest.raises(ImageRejected) as exc:
        process_photo(data[: len(data) // 2], label=LABEL, now=NOW)
    _rejected(exc, "IMAGE_CORRUPT", 422)


def test_header_only_jpeg_is_corrupt():
    with pytest.raises(ImageRejected) as exc:
        process_photo(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 10, label=LABEL, now=NOW)
    _rejected(exc, "IMAGE_CORRUPT", 422)


def test_decompression_bomb_refused_fast():
    data = huge_png(20_000, 20_000)  # 400 MP in ~50 KB
    assert len(data) < 200_000
    t0 = time.perf_counter()
    with pytest.raises(ImageRejected) as exc:
        process_photo(data, label=LABEL, now=NOW)
    assert time.perf_counter() - t0 < 0.5
    _rejected(exc, "IMAGE_TOO_MANY_PIXELS", 413)


def test_pixel_limit_checked_from_header():
    # 144 MP: over our 100 MP limit, under Pillow's own hard ceiling.
    data = huge_png(12_000, 12_000)
    t0 = time.perf_counter()
    with pytest.raises(ImageRejected) as exc:
        process_photo(data, label=LABEL, now=NOW)
    assert time.perf_counter() - t0 < 0.5
    _rejected(exc, "IMAGE_TOO_MANY_PIXELS", 413)
    assert exc.value.details["width"] == 12_000


def test_pixel_limit_is_configurable():
    data = encode(photo_like(3, (640, 480)), "JPEG")
    with pytest.raises(ImageRejected) as exc:
        process_photo(data, label=LABEL, now=NOW, limits=Limits(max_pixels=640 * 480 - 1))
    _rejected(exc, "IMAGE_TOO_MANY_PIXELS", 413)
    process_photo(data, label=LABEL, now=NOW, limits=Limits(max_pixels=640 * 480))


def test_oversized_bytes_refused_before_anything_else():
    data = b"\xff\xd8\xff" + b"\x00" * (25 * 1024 * 1024)
    with pytest.raises(ImageRejected) as exc:
        process_photo(data, label=LABEL, now=NOW)
    _rejected(exc, "IMAGE_TOO_LARGE", 413)


def test_byte_limit_is_configurable(camera_jpeg):
    with pytest.raises(ImageRejected) as exc:
        process_photo(camera_jpeg, label=LABEL, now=NOW, limits=Limits(max_bytes=1_000_000))
    _rejected(exc, "IMAGE_TOO_LARGE", 413)
    assert exc.value.details["bytes"] == len(camera_jpeg)


@pytest.fixture(scope="module")
def small_jpeg() -> bytes:
    return encode(photo_like(10, (96, 64)), "JPEG", quality=80,
                  exif=make_exif(orientation=3, taken="2024:05:01 14:30:05", gps=HANGZHOU))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_jpeg_never_escapes(small_jpeg, data):
    """Flipped and cut bytes either process or raise ImageRejected, nothing else."""
    buf = bytearray(small_jpeg)
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(buf)))
    try:
        r = process_photo(bytes(buf[:cut]), label=LABEL, now=NOW)
    except ImageRejected as err:
        assert err.status in (413, 415, 422)
    else:
        assert max(r.display_size) <= 1920


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=256))
def test_random_bytes_never_escape(data):
    with pytest.raises(ImageRejected):
        process_photo(data, label=LABEL, now=NOW)


# --------------------------------------------------------------------------
# Perceptual hash


def test_phash_survives_reencoding_and_resizing(camera_raw, camera_result):
    upright = camera_raw.transpose(Image.Transpose.ROTATE_270)
    variants = [
        encode(upright.resize((1512, 2016)), "JPEG", quality=60),
        encode(upright.resize((600, 800)), "WEBP", quality=50),
        encode(ImageOps.autocontrast(upright.resize((756, 1008)), cutoff=1), "PNG"),
    ]
    for data in variants:
        other = process_photo(data, label="OTHER-CODE", now=NOW + timedelta(days=3))
        assert phash_distance(camera_result.phash, other.phash) <= REUSE_THRESHOLD


def test_phash_far_apart_for_different_photos(camera_result):
    hashes = [camera_result.phash]
    for seed in (21, 22, 23):
        data = encode(photo_like(seed, (1600, 1200)), "JPEG", quality=85)
        hashes.append(process_photo(data, label=LABEL, now=NOW).phash)
    for i in range(len(hashes)):
        for j in range(i + 1, len(hashes)):
            assert phash_distance(hashes[i], hashes[j]) > 3 * REUSE_THRESHOLD


def test_phash_distance():
    assert phash_distance("0" * 16, "0" * 16) == 0
    assert phash_distance("0" * 16, "f" * 16) == 64
    assert phash_distance("8000000000000001", "0000000000000000") == 2


def test_phash_ignores_the_label(camera_jpeg, camera_result):
    # Same bytes, different inspection code and time: only the display differs.
    other = process_photo(camera_jpeg, label="ZZ-9999-999999", now=NOW)
    assert other.phash == camera_result.phash
    assert other.sha256 == camera_result.sha256
    assert other.display != camera_result.display


# --------------------------------------------------------------------------
# Signatures


def _signature_png(size=(600, 200), **kwargs) -> bytes:
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    from PIL import ImageDraw
    d = ImageDraw.Draw(im)
    d.line([(20, 150), (200, 40), (380, 160), (580, 30)], fill=(0, 0, 0, 255), width=6)
    return encode(im, "PNG", **kwargs)


def test_signature_png_normalised():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "device 12345")
    data = _signature_png(pnginfo=info)
    s = process_signature(data, limits=Limits())
    assert s.mime == "image/png"
    assert (s.width, s.height) == (600, 200)
    assert s.sha256 == hashlib.sha256(data).hexdigest()
    assert s.png_sha256 == hashlib.sha256(s.png).hexdigest()
    out = _open(s.png)
    assert out.format == "PNG" and out.mode == "RGBA"
    assert "Comment" not in out.info and b"device 12345" not in s.png
    assert out.getpixel((0, 0))[3] == 0  # transparency kept


def test_signature_jpeg_refused():
    data = encode(photo_like(11, (600, 200), noise=0), "JPEG")
    with pytest.raises(ImageRejected) as exc:
        process_signature(data, limits=Limits())
    _rejected(exc, "IMAGE_TYPE_UNSUPPORTED", 415)


def test_signature_too_many_pixels():
    with pytest.raises(ImageRejected) as exc:
        process_signature(huge_png(2100, 2000), limits=Limits())
    _rejected(exc, "IMAGE_TOO_MANY_PIXELS", 413)


def test_signature_too_large():
    data = _signature_png() + b"\x00" * (2 * 1024 * 1024)
    with pytest.raises(ImageRejected) as exc:
        process_signature(data, limits=Limits())
    _rejected(exc, "IMAGE_TOO_LARGE", 413)


def test_signature_truncated():
    data = _signature_png()
    with pytest.raises(ImageRejected) as exc:
        process_signature(data[: len(data) // 2], limits=Limits())
    _rejected(exc, "IMAGE_CORRUPT", 422)


def test_module_has_no_web_or_db_imports():
    import sys
    from inspect_api.evidence import exif, watermark

    for module in (pipeline, exif, watermark):
        src = open(module.__file__, encoding="utf-8").read()
        for name in ("flask", "mongoengine", "pymongo", "gridfs"):
            assert f"import {name}" not in src and f"from {name}" not in src
    assert "inspect_api.evidence.pipeline" in sys.modules
