"""Perceptual hashes of photos: reused evidence is a photo near one already used.

Both versions read the same thing: the image reduced to 32 x 32 grey by box
averaging (from the thumbnail, so a few thousand pixels at most) and the low
frequencies of its two-dimensional DCT-II.

``v2`` (current), written ``"v2:"`` + 16 hex digits: one bit per coefficient,
set when the coefficient is positive, for the 64 lowest AC frequencies in
diagonal order (u + v = 1, 2, ... 10, then by v; the DC term, the mean
brightness, is left out).  A sign only flips when that frequency's
contrast itself reverses, so re-encoding and resizing move few bits even on
flat photos (a plain wall), where thresholding at the median of the
coefficients -- as v1 does -- flips several bits at once whenever the median
moves.  Measured on a generated set of 200 photos at 1600 x 1200 (README,
"Perceptual hash"): the worst re-save at quality 80 or half-size re-encode
moved v2 by 3 bits (v1: 6, right at the threshold), and no two distinct
photos came within the threshold (closest: 8 bits).

``v1`` (legacy), 16 bare hex digits: the 8 x 8 lowest frequencies including
DC, each bit set when above their median.  Photos stored before v2 carry it.
A new photo's v1 hash is still computed (from the same DCT, at no extra
cost) so that reuse of a photo uploaded before the change is found: hashes
are only ever compared with a hash of their own version.

The near-duplicate lookup is index-served through ``bands``: the 64 bits cut
into 8 bands of 8, so any two hashes within 7 bits share a band (pigeonhole);
the thresholds must therefore stay at or under 7.
"""

from __future__ import annotations

import math
from operator import mul

from PIL import Image

#: Hamming distance (bits of 64) at or under which two hashes of the same
#: version are taken for the same photo (re-encoded, resized, recompressed).
REUSE_THRESHOLD = 6
LEGACY_THRESHOLD = 6
BANDS = 8  # 8 bands of 8 bits: any two hashes within 7 bits share one

V2_PREFIX = "v2:"

_N = 32
_K = 11  # frequencies 0..10 in each direction cover both versions
_COS = [[math.cos((2 * x + 1) * u * math.pi / (2 * _N)) for x in range(_N)] for u in range(_K)]
# v2: the 64 lowest AC frequencies, (u, v) by u + v then by v.
_V2_COEFFS = sorted(((u, v) for u in range(_K) for v in range(_K) if 0 < u + v <= 10),
                    key=lambda uv: (uv[0] + uv[1], uv[1]))[:64]
# v1: the 8 x 8 block row by row (v, then u), DC included.
_V1_COEFFS = [(u, v) for v in range(8) for u in range(8)]
_NEEDED = sorted(set(_V2_COEFFS) | set(_V1_COEFFS))


def _dct(im: Image.Image) -> dict[tuple[int, int], float]:
    """The low-frequency DCT-II coefficients (u, v) of ``im`` as 32 x 32 grey."""
    small = im.convert("L").resize((_N, _N), Image.Resampling.BOX)
    px = list(small.tobytes())
    rows = [px[y * _N:(y + 1) * _N] for y in range(_N)]
    # Separable: along each row first (u), then down each column (v).
    columns = [[sum(map(mul, cu, row)) for row in rows] for cu in _COS]  # columns[u][y]
    return {(u, v): sum(map(mul, _COS[v], columns[u])) for u, v in _NEEDED}


def hashes(im: Image.Image) -> tuple[str, str]:
    """(v2, v1) perceptual hashes of an already small image (the thumbnail)."""
    coeffs = _dct(im)
    v2 = 0
    for uv in _V2_COEFFS:
        v2 = (v2 << 1) | (coeffs[uv] > 0)
    v1_values = [coeffs[uv] for uv in _V1_COEFFS]
    middle = sorted(v1_values)[31:33]
    median = (middle[0] + middle[1]) / 2
    v1 = 0
    for c in v1_values:
        v1 = (v1 << 1) | (c > median)
    return f"{V2_PREFIX}{v2:016x}", f"{v1:016x}"


def version(value: str) -> int:
    """2 for ``"v2:..."``, 1 for a bare 16-digit hex hash (stored before v2)."""
    return 2 if value.startswith(V2_PREFIX) else 1


def _bits(value: str) -> int:
    return int(value[len(V2_PREFIX):] if value.startswith(V2_PREFIX) else value, 16)


def distance(a: str, b: str) -> int | None:
    """Hamming distance of two hashes of the same version; None across versions."""
    if version(a) != version(b):
        return None
    return (_bits(a) ^ _bits(b)).bit_count()


def threshold(value: str) -> int:
    return REUSE_THRESHOLD if version(value) == 2 else LEGACY_THRESHOLD


def is_near(a: str, b: str) -> bool:
    """Same version and within that version's reuse threshold."""
    d = distance(a, b)
    return d is not None and d <= threshold(a)


def bands(value: str | None) -> list[str]:
    """Index keys of a hash: its 8 bytes, each tagged with its place and version.

    v1 keys keep their original form (``"3:a7"``) so stored photos need no
    migration; v2 keys are prefixed (``"v2:3:a7"``) and never meet them.
    """
    if not value:
        return []
    bits = _bits(value)
    prefix = V2_PREFIX if version(value) == 2 else ""
    return [f"{prefix}{i}:{(bits >> (8 * i)) & 0xFF:02x}" for i in range(BANDS)]
