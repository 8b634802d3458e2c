"""gunicorn settings for the API (``gunicorn -c deploy/gunicorn.conf.py``).

Workers default to 2 × CPU + 1 (override with GUNICORN_WORKERS); threads let
a worker overlap I/O (MongoDB, GridFS).  Everything else comes from INSPECT_*.
"""

import multiprocessing
import os

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
