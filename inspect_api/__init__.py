"""Supervision backend for integrated medical and elderly-care institutions.

This package's top level deliberately imports nothing heavy: the stdlib-only
draw verifier (``python -m inspect_api.draws.verify``) must run in a bare
interpreter.  The Flask application factory lives in :mod:`inspect_api.app`.
"""

__version__ = "0.1.0"


def create_app(*args, **kwargs):
    """Build the Flask application (see :func:`inspect_api.app.create_app`)."""
    from inspect_api.app import create_app as _create_app

    return _create_app(*args, **kwargs)
