# API and scheduler image. Settings and secrets come only from the environment.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 INSPECT_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends libheif1 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 inspect
WORKDIR /app
COPY pyproject.toml README.md ./
COPY checklists ./checklists
COPY inspect_api ./inspect_api
COPY scheduler ./scheduler
COPY config ./config
COPY deploy ./deploy
RUN pip install --upgrade pip && pip install .
USER inspect
EXPOSE 8000
# The API's health check; docker-compose.yml overrides it for the scheduler (`python -m scheduler health`)
# and sets PROMETHEUS_MULTIPROC_DIR for the API only (every gunicorn worker in one /metrics view).
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
