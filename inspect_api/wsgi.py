"""WSGI entry point for gunicorn: ``gunicorn inspect_api.wsgi:app``."""

from inspect_api.app import create_app

app = create_app()
