"""gzip bodies with parts compressed once (``inspect_api.compression``): any mix of kept and fresh parts is one
gzip member that standard readers decompress to the parts in order."""

from __future__ import annotations

import gzip
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api import compression
from inspect_api.compression import Deflated, gzip_of

# JSON-like bytes with repeats (so back-references occur inside each part), and arbitrary bytes.
TEXT = st.text(alphabet='{}[]":,检查表项目 abc0123', max_size=3000).map(lambda t: t.encode("utf-8"))
PARTS = st.lists(st.tuples(TEXT | st.binary(max_size=2000), st.booleans()), max_size=6)


@settings(max_examples=300)
@given(parts=PARTS, level=st.sampled_from([0, 1, 6, 9]))
def test_a_body_of_kept_and_fresh_parts_decompresses_to_the_parts(parts, level):
    body = gzip_of([Deflated.of(data) if kept else data for data, kept in parts], level=level)
    whole = b"".join(data for data, _kept in parts)
    assert gzip.decompress(body) == whole
    reader = zlib.decompressobj(31)
    assert reader.decompress(body) == whole and reader.eof and reader.unused_data == b""  # one member


def test_a_kept_part_is_compressed_once_per_key():
    first = compression.kept(("test", 1), lambda: b"x" * 1000)
    assert compression.kept(("test", 1), lambda: b"x" * 1000) is first
    assert compression.kept(("test", 2), lambda: b"y" * 1000) is not first


def test_a_gzip_coded_body_has_its_own_tag_and_either_tag_matches():
    plain = '"3f2a"'
    assert compression.coded_etag(plain, False) == plain
    assert compression.coded_etag(plain, True) == '"3f2a-gzip"'
    for header in ('"3f2a"', '"3f2a-gzip"', 'W/"3f2a-gzip"', '"x", "3f2a"', "*"):
        assert compression.etag_matches(plain, header)
    for header in (None, "", '"3f2a-br"', '"3f2"', '"x"'):
        assert not compression.etag_matches(plain, header)
