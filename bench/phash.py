"""Perceptual hash rates on the generated set of photos (issue #18 target 1).

Not a timing: the miss rate (a copy of a photo whose hash lands over the
reuse threshold) and the false-match rate (two different photos within it)
for the current hash (v2) and the legacy one (v1), over the generated set of
varied camera-like scenes in tests/evidence/scenes.py.  Copies: re-saved at
quality 80 and re-encoded at half size (the two the target names), plus, for
information, quality 50, quarter size, WebP and the orientation baked into
the pixels.  Every hash goes through ``process_photo``.

The last line of output is one JSON object with the figures.

    .venv/bin/python bench/phash.py [--photos 200] [--size 1600x1200]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageOps  # noqa: E402

from inspect_api.evidence import phash  # noqa: E402
from inspect_api.evidence.pipeline import process_photo  # noqa: E402
from tests.evidence.scenes import half_size, resaved, scene_jpeg  # noqa: E402

NOW = datetime(2024, 6, 3, 2, 15, tzinfo=timezone.utc)


def quarter_size(data: bytes) -> bytes:
    im = Image.open(io.BytesIO(data))
    exif = im.getexif()
    buf = io.BytesIO()
    im.resize((im.width // 4, im.height // 4), Image.Resampling.BICUBIC).save(buf, "JPEG", quality=85, exif=exif)
    return buf.getvalue()


def webp(data: bytes) -> bytes:
    buf = io.BytesIO()
    ImageOps.exif_transpose(Image.open(io.BytesIO(data))).save(buf, "WEBP", quality=75)
    return buf.getvalue()


def upright(data: bytes) -> bytes:
    """Orientation applied to the pixels and the tag dropped, as many apps re-save."""
    buf = io.BytesIO()
    ImageOps.exif_transpose(Image.open(io.BytesIO(data))).save(buf, "JPEG", quality=90)
    return buf.getvalue()


COPIES = {
    "resave_q80": lambda d: resaved(d, 80),
    "half_size": half_size,
    "resave_q50": lambda d: resaved(d, 50),
    "quarter_size": quarter_size,
    "webp_q75": webp,
    "upright_resave": upright,
}
TARGET_COPIES = ("resave_q80", "half_size")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--size", default="1600x1200", help="stored frame size, WIDTHxHEIGHT")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))

    t0 = time.perf_counter()
    originals: list[tuple[str, str]] = []
    copies: dict[str, list[tuple[str, str]]] = {name: [] for name in COPIES}
    for seed in range(args.photos):
        data = scene_jpeg(seed, size)  # type: ignore[arg-type]
        r = process_photo(data, label="JC-2024-000001", now=NOW)
        originals.append((r.phash, r.phash_legacy))
        for name, make in COPIES.items():
            c = process_photo(make(data), label="JC-2024-000002", now=NOW)
            copies[name].append((c.phash, c.phash_legacy))
    print(f"{args.photos} photos {size[0]}x{size[1]} and {len(COPIES)} copies each, "
          f"{time.perf_counter() - t0:.0f} s")

    figures: dict[str, object] = {"bench": "phash", "photos": args.photos, "size": list(size)}
    pairs = args.photos * (args.photos - 1) // 2
    for index, name, limit in ((0, "v2", phash.REUSE_THRESHOLD), (1, "v1", phash.LEGACY_THRESHOLD)):
        result: dict[str, object] = {"threshold": limit}
        print(f"{name} (threshold {limit} bits of 64)")
        for copy_name, hashes in copies.items():
            d = [phash.distance(o[index], c[index]) for o, c in zip(originals, hashes, strict=True)]
            misses = sum(x > limit for x in d)
            result[copy_name] = {"miss_rate": round(misses / len(d), 4), "max_bits": max(d),
                                 "mean_bits": round(statistics.mean(d), 2)}
            mark = "  <- target" if copy_name in TARGET_COPIES else ""
            print(f"  {copy_name:15s} missed {misses:3d}/{len(d)} ({misses / len(d):6.1%})   "
                  f"worst {max(d):2d} bits, mean {statistics.mean(d):4.2f}{mark}")
        distinct = [phash.distance(a[index], b[index]) for a, b in itertools.combinations(originals, 2)]
        false = sum(x <= limit for x in distinct)
        result["false_match_rate"] = round(false / pairs, 6)
        result["closest_distinct_bits"] = min(distinct)
        result["mean_distinct_bits"] = round(statistics.mean(distinct), 1)
        print(f"  distinct pairs  matched {false}/{pairs} ({false / pairs:.3%})   "
              f"closest {min(distinct)} bits, mean {statistics.mean(distinct):.1f}")
        figures[name] = result
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
