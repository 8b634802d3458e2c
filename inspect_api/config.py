"""Configuration: TOML files in ``config/`` overlaid by ``INSPECT_*`` variables.

``INSPECT_ENV`` picks the overlay (development, testing, production).  The
result is a plain dict with lower-case keys; :func:`check_production` refuses
unsafe production settings with a one-line reason.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
ENVIRONMENTS = ("development", "testing", "production")
DEFAULT_SECRET = "insecure-development-key-change-me"
_KNOWN_DEFAULT_SECRETS = {DEFAULT_SECRET, "testing-secret-key-not-for-production-0123456789"}


class ConfigError(SystemExit):
    """Raised (as a process exit) when configuration is unusable."""


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _parse_env_value(raw: str) -> Any:
    """Read an environment value as a TOML literal when it is one."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("INSPECT_") or name == "INSPECT_ENV":
            continue
        key = name[len("INSPECT_"):].lower()
        if "__" in key:
            table, sub = key.split("__", 1)
            out.setdefault(table, {})[sub] = _parse_env_value(raw)
        else:
            out[key] = _parse_env_value(raw)
    if environ.get("MONGODB_URI") and "mongodb_uri" not in out:
        out["mongodb_uri"] = environ["MONGODB_URI"]
    return out


def load_config(
    env: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the merged configuration for ``env`` (default: ``INSPECT_ENV``)."""
    environ = os.environ if environ is None else environ
    env = env or environ.get("INSPECT_ENV") or "development"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"INSPECT_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    config = _read_toml(CONFIG_DIR / "default.toml")
    config = _merge(config, _read_toml(CONFIG_DIR / f"{env}.toml"))
    config = _merge(config, _env_overrides(environ))
    if overrides:
        config = _merge(config, overrides)
    config["env"] = env
    if env == "production":
        check_production(config)
    return config


def current(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """``cfg`` when given, else the current app's configuration, else the one loaded for this environment
    (the scheduler, the command line and services called outside a request)."""
    if cfg is not None:
        return cfg
    try:
        from flask import current_app

        return current_app.config["INSPECT"]
    except RuntimeError:
        return load_config()


def section(name: str, defaults: Mapping[str, Any], cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``[name]`` table of the configuration over ``defaults``."""
    return {**defaults, **(current(cfg).get(name) or {})}


def check_production(config: Mapping[str, Any]) -> None:
    """Refuse to run production without a database or with a weak secret."""
    if not config.get("mongodb_uri"):
        raise ConfigError("refusing to start: production requires MONGODB_URI (the embedded store keeps nothing)")
    secret = str(config.get("secret_key") or "")
    if secret in _KNOWN_DEFAULT_SECRETS:
        raise ConfigError("refusing to start: INSPECT_SECRET_KEY is a default value; set a random secret of at least 32 bytes")
    if len(secret.encode("utf-8")) < 32:
        raise ConfigError("refusing to start: INSPECT_SECRET_KEY is shorter than 32 bytes")
    if config.get("demo_data"):
        raise ConfigError("refusing to start: demo_data must be false in production")
