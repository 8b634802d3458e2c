"""``InspectFlask`` remembers which views and hooks are plain functions; everything Flask does with them stays."""

from __future__ import annotations

import gc

import pytest
from flask import after_this_request, jsonify

from inspect_api.app import InspectFlask


def _app() -> InspectFlask:
    app = InspectFlask("inspect_flask_test")

    @app.get("/plain")
    def plain():
        calls = []

        @after_this_request
        def mark(response):  # a hook made for this request alone
            calls.append(1)
            response.headers["X-Marked"] = str(len(calls))
            return response

        return jsonify({"ok": True})

    return app


def test_views_and_per_request_hooks_run_as_flask_runs_them():
    app = _app()
    client = app.test_client()
    for _ in range(3):
        r = client.get("/plain")
        assert r.status_code == 200 and r.get_json() == {"ok": True} and r.headers["X-Marked"] == "1"
    gc.collect()
    # The view is remembered; the hooks made for each request went with their request.
    assert list(app._plain_functions) == [app.view_functions["plain"]]


def test_a_coroutine_function_is_never_taken_for_a_plain_one():
    app = _app()

    async def coroutine():
        return "x"

    for _ in range(2):  # Flask's own answer each time (here: async support is not installed)
        try:
            wrapped = app.ensure_sync(coroutine)
        except RuntimeError as exc:
            assert "async" in str(exc)
        else:
            assert wrapped is not coroutine
    assert coroutine not in app._plain_functions


def test_what_cannot_be_remembered_is_asked_each_time():
    app = _app()

    class Unhashable:
        __hash__ = None

        def __call__(self):
            return None

    func = Unhashable()
    assert app.ensure_sync(func) is func
    with pytest.raises(TypeError):
        hash(func)
