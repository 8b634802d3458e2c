"""Test apps built once per test process and reset between tests.

Building an app (the OpenAPI document, the routes, the shipped checklists) was
most of a test's set-up: about 0.6 s of every test, twice per CI run.  The app a
test asked for is kept and handed to the next test that asks for the same
overrides, reset to how it was built: an empty store made ready as at start-up
(``inspect_api.app.prepare_store``), its configuration and extensions restored,
a fresh public-page cache, rate-limit counters cleared.

It is not reused when anything else could make it differ from a new build:
another app was built since (the rate limiter, the password hasher and logging
are shared by the apps of a process and follow the last one built), or the test
changed the app beyond its store and configuration (a route, a request hook, a
wrapped WSGI app).  Within one test, asking twice for the same overrides builds
a second app, as two processes would be.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask

from inspect_api.app import create_app, prepare_store
from inspect_api.config import load_config
from inspect_api.extensions import limiter
from inspect_api.public_cache import PublicCache
from tests.openapi import contract
from tests.store import reset_store

_kept: dict[str, Any] = {"key": None, "app": None, "config": None, "extensions": None, "shape": None}


def _key(overrides: dict[str, Any]) -> str:
    return repr(sorted(overrides.items()))


def _shape(app: Flask) -> tuple:
    """What a test could change on an app besides its store, config and extensions' state."""
    hooks = tuple((name, {key: len(funcs) for key, funcs in getattr(app, name).items()})
                  for name in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs"))
    # The limiter's storage itself (not its id, which a later object could reuse): the last app built made it.
    return (len(list(app.url_map.iter_rules())), app.wsgi_app, hooks, limiter._storage)


def _reset(app: Flask, overrides: dict[str, Any]) -> None:
    reset_store(overrides)
    app.config.clear()
    app.config.update(copy.deepcopy(_kept["config"]))
    app.extensions.clear()
    app.extensions.update(_kept["extensions"])
    cache = app.extensions.get("public_cache")
    if cache is not None:
        app.extensions["public_cache"] = PublicCache(cache.ttl)
    prepare_store(app, load_config("testing", overrides))


def app_for(overrides: dict[str, Any], handed_out: set[str], *, fresh: bool = False) -> Flask:
    """The app for ``overrides`` with an empty store: the kept one reset, or a new build (``fresh``: always,
    for a test that adds routes or hooks, which Flask refuses on an app that has served a request)."""
    key = _key(overrides)
    app = _kept["app"]
    if fresh or key in handed_out or key != _kept["key"] or app is None or _shape(app) != _kept["shape"]:
        reset_store(overrides)
        app = contract.install(create_app("testing", overrides=overrides))
        _kept.update(key=key, app=app, config=copy.deepcopy(dict(app.config)),
                     extensions=dict(app.extensions), shape=_shape(app))
    else:
        _reset(app, overrides)
    handed_out.add(key)
    with app.app_context():
        limiter.reset()  # counters shared in MongoDB outlive an app; each test starts afresh
    return app


def release(handed_out: set[str]) -> None:
    """After a test: forget the kept app if the test changed it in a way a reset does not undo."""
    app = _kept["app"]
    if app is not None and _kept["key"] in handed_out and _shape(app) != _kept["shape"]:
        _kept.update(key=None, app=None, config=None, extensions=None, shape=None)
