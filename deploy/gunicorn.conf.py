"""gunicorn settings for the API (``gunicorn -c deploy/gunicorn.conf.py``).

Workers default to 2 × CPU + 1 (override with GUNICORN_WORKERS); threads let
a worker overlap I/O (MongoDB, GridFS).  Everything else comes from INSPECT_*.

Hooks (run in the master):

- ``on_starting`` validates the configuration once, before any worker is
  forked: a bad production setting stops gunicorn with its one-line reason
  and a non-zero exit, instead of every worker exiting and being restarted
  forever.  It also empties ``PROMETHEUS_MULTIPROC_DIR`` when set.
- ``child_exit`` marks a dead worker's metric files in multiprocess mode, so
  ``/metrics`` (aggregated over every worker) drops its live gauges.
"""

import glob
import multiprocessing
import os
import sys

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)  # empty = default
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
wsgi_app = "inspect_api.wsgi:app"


def _clear_multiproc_dir() -> None:
    """Metric files left by an earlier run would be summed into this one's figures: start empty."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in glob.glob(os.path.join(path, "*.db")):
        os.remove(name)


def on_starting(server):
    """Master, before workers: refuse a bad configuration once, with its reason, and exit 1."""
    from inspect_api.config import ConfigError, load_config

    try:
        load_config()  # INSPECT_ENV=production runs the production checks
    except ConfigError as exc:
        print(f"inspect-api: {exc.code}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    _clear_multiproc_dir()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
