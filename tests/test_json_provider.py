"""The app's JSON provider writes compact JSON with orjson: for any value the API could send, the same text as
Flask's standard-library encoder with the app's settings, floats aside (the same value, written shortest);
whatever orjson refuses or would write otherwise goes to the standard library, so nothing sent changes."""

from __future__ import annotations

import dataclasses
import decimal
import json
import math
import uuid
from datetime import date, datetime, timezone

import pytest
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.extensions import JsonProvider

COMPACT = {"separators": (",", ":")}


def _provider() -> JsonProvider:
    app = Flask("json_provider_test")
    app.json = JsonProvider(app)
    return app.json


def _standard(obj, **kwargs) -> str:
    """What Flask's own provider, with the app's settings, writes."""
    app = Flask("json_standard")
    app.json = DefaultJSONProvider(app)
    app.json.ensure_ascii, app.json.sort_keys = False, False
    return app.json.dumps(obj, **kwargs)


text = st.text()  # every code point, unpaired surrogates and control characters included
scalars = st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70) | text
without_floats = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(text, inner, max_size=4), max_leaves=25)
finite = st.floats(allow_nan=False, allow_infinity=False)
with_floats = st.recursive(scalars | finite, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(text, inner, max_size=4), max_leaves=25)


@settings(max_examples=600)
@given(value=without_floats)
def test_compact_json_is_the_standard_librarys_text(value):
    try:
        expected = _standard(value, **COMPACT)
    except Exception as exc:  # noqa: BLE001 - what the standard library refuses is refused alike
        with pytest.raises(type(exc)):
            _provider().compact(value)
        return
    assert _provider().compact(value) == expected
    assert _provider().dumps(value, **COMPACT) == expected


@settings(max_examples=400)
@given(value=with_floats)
def test_floats_are_the_same_values_written_shortest(value):
    got = _provider().compact(value)
    assert json.loads(got) == json.loads(_standard(value, **COMPACT))
    assert _standard(json.loads(got), **COMPACT) == _standard(value, **COMPACT)  # the same types too


def _nested(levels: int):
    """A list nested ``levels`` deep."""
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def test_what_orjson_refuses_or_writes_otherwise_is_the_standard_librarys():
    @dataclasses.dataclass
    class Point:
        x: int

    provider = _provider()
    values = [
        {"big": 2 ** 64, "small": -(2 ** 63) - 1},  # past 64 bits
        {1: "a", None: "b"},  # keys that are not text
        datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc),  # Flask writes an HTTP date
        {"day": date(2026, 11, 30)},
        Point(3), decimal.Decimal("1.50"), uuid.UUID(int=7),
        "\ud800 unpaired", _nested(300),  # unpaired surrogate; nesting past orjson's limit
    ]
    for value in values:
        assert provider.compact(value) == _standard(value, **COMPACT), value
    for refused in ({"a": {1, 2}}, {"a": b"bytes"}, object()):
        with pytest.raises(TypeError):
            provider.compact(refused)
    # Every other form is the standard library's own.
    assert provider.dumps({"b": 1, "a": [1.5]}) == _standard({"b": 1, "a": [1.5]})
    assert provider.dumps({"b": 1}, indent=2) == _standard({"b": 1}, indent=2)
    assert provider.dumps({"b": 1, "a": 2}, sort_keys=True, **COMPACT) == '{"a":2,"b":1}'


def test_nan_and_infinities_which_are_not_json_become_null():
    assert _provider().compact([math.nan, math.inf, -math.inf, 1.0]) == "[null,null,null,1.0]"


def test_a_response_carries_the_compact_text():
    app = Flask("json_response_test")
    app.json = JsonProvider(app)
    body = {"名称": "济南市\n医养", "items": [1, 2.5, None, True], "at": "2026-11-30"}

    @app.get("/")
    def view():
        return jsonify(body)

    response = app.test_client().get("/")
    assert response.get_data(as_text=True) == _standard(body, **COMPACT) + "\n"
    assert response.mimetype == "application/json"
