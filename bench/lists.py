"""Bench: every list the API serves, in process at demo size (DESIGN §11: "lists <= 2 ms in process").

    .venv/bin/python bench/lists.py [--rounds 60]

The app is built on the in-process store with the demo world (``make run``'s data); each list is requested
as the user who reads it (the city office, the demo inspector, the demo institution, the public), page 1 with
the default page size, interleaved round by round with a bare Flask JSON endpoint in the same process.  Each
list's median is printed beside its ratio to the bare endpoint's median and marked ok or missed against
2 ms; the ratio is the figure to compare across runs (these shared machines change speed by 2x within
minutes).  The last line is a JSON summary with the machine's load average at start and end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import _login, bare_client, load_average  # noqa: E402  (bench/api.py)

from inspect_api.app import create_app  # noqa: E402

TARGET_MS = 2.0
# Who reads which list (None: the public).  Lists that need a filter to answer carry it.
LISTS: dict[str | None, tuple[str, ...]] = {
    "office": ("/assignments", "/audit/events", "/calendar/overrides", "/checklists", "/conflicts", "/draws",
               "/inspectors", "/institutions", "/ledger-checks", "/matters", "/me/notifications", "/notices",
               "/plans", "/publication/pending", "/publication/published", "/rectifications",
               "/rectifications/findings?queue=overdue", "/regions", "/surveys/responses", "/surveys/results",
               "/users"),
    "insp01": ("/me/assignments", "/me/notifications", "/rectifications"),
    "inst01": ("/institutions", "/ledger-checks", "/me/notifications", "/rectifications"),
    None: ("/public/draws", "/public/institutions", "/public/matters", "/public/notices", "/public/results"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=60, help="interleaved rounds (default 60)")
    args = parser.parse_args(argv)
    load_start = load_average()
    print(f"lists bench: memory store, demo size, {args.rounds} rounds; load average {load_start}", flush=True)
    overrides = {"demo_data": True, "log_level": "WARNING", "scheduler_in_process": False, "public_cache_seconds": 0,
                 "public_rate_limit": "1000000 per minute", "access_token_minutes": 240,
                 "store": "memory", "mongodb_uri": "memory://"}
    app = create_app("development", overrides=overrides)
    with app.app_context():
        client, bare = app.test_client(), bare_client()
        requests = []
        for user, paths in LISTS.items():
            headers = _login(client, user) if user else {}
            for path in paths:
                url = "/api/v1" + path
                r = client.get(url, headers=headers)
                if r.status_code != 200:
                    raise SystemExit(f"{user} {url}: {r.status_code} {r.get_data(as_text=True)[:300]}")
                requests.append((f"{user or 'public'} {path}", url, headers))
        samples: dict[str, list[float]] = {name: [] for name, _url, _headers in requests}
        samples["bare_flask"] = []
        for _ in range(args.rounds):
            for name, url, headers in [("bare_flask", "/bare", {}), *requests]:
                target = bare if name == "bare_flask" else client
                started = time.perf_counter()
                target.get(url, headers=headers)
                samples[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(xs) * 1000 for name, xs in samples.items()}
    bare_ms = medians.pop("bare_flask")
    print(f"\n{'list (reader, path)':52s} {'median':>10s} {'vs bare':>8s}  target (<= {TARGET_MS:g} ms)")
    print(f"{'bare Flask JSON endpoint':52s} {bare_ms:7.3f} ms")
    rows = {}
    for name, ms in sorted(medians.items(), key=lambda kv: -kv[1]):
        ok = ms <= TARGET_MS
        rows[name] = {"median_ms": round(ms, 3), "vs_bare": round(ms / bare_ms, 2), "result": "ok" if ok else "missed"}
        print(f"{name:52s} {ms:7.3f} ms {ms / bare_ms:7.1f}x  {'ok' if ok else 'MISSED'}")
    missed = [name for name, row in rows.items() if row["result"] == "missed"]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} lists within {TARGET_MS:g} ms")
    print(json.dumps({"bench": "lists", "load_average_start": load_start, "bare_ms": round(bare_ms, 3),
                      "lists": rows, "target_ms": TARGET_MS, "missed": missed, "load_average_end": load_average()},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
