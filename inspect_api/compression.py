"""gzip bodies whose large constant part is compressed once and kept.

A bundle is mostly its checklist's content, the same bytes for every bundle of a checklist version, and an
inspector's phone fetches it over whatever signal the building has.  Compressing the whole body on every
request cost more than building it; here the constant part is compressed once into a raw deflate fragment
that ends on a full flush (byte-aligned, not final, no reference to anything before it), and each response
compresses only the parts around it: one standard gzip member, whose CRC and length cover the whole body.
"""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass
from typing import Callable, Hashable

# ID1 ID2, deflate, no flags, no modification time, no extra flags, "unknown" operating system (RFC 1952).
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_KEPT_MAX = 64
_kept: dict[Hashable, Deflated] = {}
_kept_lock = threading.Lock()


@dataclass(frozen=True)
class Deflated:
    """Bytes compressed once: ``deflated`` is a raw deflate fragment of ``data`` that can sit anywhere in a
    stream (it starts from an empty window and ends on a full flush)."""

    data: bytes
    deflated: bytes

    @classmethod
    def of(cls, data: bytes, level: int = 6) -> Deflated:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        return cls(data, compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH))


def kept(key: Hashable, data: Callable[[], bytes]) -> Deflated:
    """``Deflated.of(data())``, made once per ``key`` (which must name the bytes exactly: a checklist version and
    its content hash) and kept per process (at most 64); ``data`` is only called then."""
    found = _kept.get(key)
    if found is None:
        found = Deflated.of(data())
        with _kept_lock:
            if len(_kept) >= _KEPT_MAX:
                _kept.clear()
            _kept[key] = found
    return found


def gzip_of(parts: list[bytes | Deflated], level: int = 1) -> bytes:
    """One gzip member of ``parts`` in order: plain bytes compressed now (at ``level``), a :class:`Deflated`
    part as it was kept."""
    out, crc, size, compressor = [_HEADER], 0, 0, None
    for part in parts:
        if isinstance(part, Deflated):
            if compressor is not None:  # end what came before on a byte boundary, with no open block
                out.append(compressor.flush(zlib.Z_FULL_FLUSH))
                compressor = None
            out.append(part.deflated)
            crc = zlib.crc32(part.data, crc)
            size += len(part.data)
        else:
            if compressor is None:
                compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
            out.append(compressor.compress(part))
            crc = zlib.crc32(part, crc)
            size += len(part)
    out.append((compressor or zlib.compressobj(level, zlib.DEFLATED, -15)).flush(zlib.Z_FINISH))
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)


def coded_etag(etag: str, gzipped: bool) -> str:
    """The strong entity tag of a body sent gzip-coded or not: the gzip-coded body is another representation
    of the same content (RFC 9110 8.8.3), so its tag is the plain one's with ``-gzip`` added in its quotes."""
    return f'{etag[:-1]}-gzip"' if gzipped else etag


def etag_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether ``If-None-Match`` names the content of ``etag`` in either coding (weak comparison, as the header
    is compared; ``*`` matches): a client that kept one coding may well ask in the other."""
    presented = {t.strip().removeprefix("W/") for t in (if_none_match or "").split(",")}
    return bool(presented & {etag, coded_etag(etag, True), "*"})
