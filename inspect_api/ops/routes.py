"""``/healthz`` (process up) and ``/readyz`` (database reachable).

``/readyz`` tells anyone only ``ok`` or ``unavailable`` (200 / 503); a
configured metrics scraper (``observability.is_scraper``) also gets the
details: database, store, environment and the reporters' figures (the
scheduler's last sweep age).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from inspect_api import db
from inspect_api.observability import is_scraper

blp = Blueprint("ops", __name__)

# Extra readiness reporters (e.g. the scheduler's last sweep age) register here.
READINESS_REPORTERS: list = []


@blp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz():
    ok = db.ping()
    if not is_scraper():
        return jsonify({"status": "ok" if ok else "unavailable"}), (200 if ok else 503)
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable",
            "embedded_store": db.is_embedded(), "env": current_app.config["INSPECT"]["env"]}
    if ok:
        for reporter in READINESS_REPORTERS:
            body.update(reporter())
    if not ok:
        body["error"] = {"code": "DATABASE_UNAVAILABLE", "message": "数据库不可用", "details": {}}
    return jsonify(body), (200 if ok else 503)


_DOCS_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ info['x-title-zh'] or info.title }} 接口文档</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:980px;padding:1rem;color:#1a1a1a;line-height:1.5}
h1{font-size:1.5rem}h2{font-size:1.15rem;border-bottom:1px solid #ccc;margin-top:2rem}
.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.2em;font-weight:700;color:#fff;border-radius:4px;padding:0 .4em;margin-right:.5em;text-align:center}
.GET{background:#1f6f43}.POST{background:#1d4f91}.PUT{background:#7a4b00}.PATCH{background:#5b3f8c}.DELETE{background:#a1261f}
code{background:#f3f3f3;padding:0 .25em}small{color:#555}
</style></head><body>
<h1>{{ info['x-title-zh'] or info.title }} <small>{{ info.title }} {{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>机器可读文档：<a href="{{ url_for('api-docs.openapi_json') }}"><code>/api/v1/openapi.json</code></a>（OpenAPI 3）。认证：<code>Authorization: Bearer &lt;access_token&gt;</code>。</p>
{% for tag, ops in groups %}<h2 id="{{ tag }}">{{ tag }}</h2>
{% for op in ops %}<div class="op"><div><span class="m {{ op.method }}">{{ op.method }}</span><code>{{ op.path }}</code>{% if op.secured %} <small>🔒 需要登录</small>{% endif %}</div>
<div>{{ op.summary }}</div>
{% if op.params %}<div><small>参数：{% for p in op.params %}<code>{{ p.name }}</code> ({{ p['in'] }}{% if p.required %}, 必填{% endif %}) {% endfor %}</small></div>{% endif %}
<div><small>响应：{% for code in op.responses %}<code>{{ code }}</code> {% endfor %}</small></div></div>
{% endfor %}{% endfor %}
</body></html>"""


@blp.get("/api/v1/docs")
def api_docs():
    """Human-readable API reference rendered on the server (no external scripts)."""
    from flask import render_template_string

    spec = current_app.extensions["inspect_api_spec"].spec.to_dict()
    groups: dict[str, list] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            tag = (op.get("tags") or ["其他"])[0]
            groups.setdefault(tag, []).append({
                "method": method.upper(), "path": path, "summary": op.get("summary") or op.get("description", ""),
                "params": op.get("parameters", []) + item.get("parameters", []),
                "responses": sorted(op.get("responses", {})), "secured": bool(op.get("security")),
            })
    return render_template_string(_DOCS_TEMPLATE, info=spec["info"], groups=sorted(groups.items()))
