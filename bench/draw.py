"""Draw engine benchmark (DESIGN §11).

Builds a deterministic snapshot — 100,000 institutions in 30 strata (county
codes), 5,000 inspectors in 3 departments over the same 30 counties with
starting loads 0–3 and a load cap of 25, 20,000 conflict pairs and previous
leads for a fifth of the institutions — and draws 10% with teams of 2 (lead
from ``health``), ``cross_region`` and ``no_repeat_lead`` on, 100 mandatory
targets and ``min_per_stratum`` 1.  Times ``dr1.draw`` (validation included)
and ``dr1.verify`` on the record as parsed back from its JSON text (parsing
reported apart), then the same for a case 10× smaller, each the best of
``--rounds`` runs, wall clock and process CPU time.

Targets: draw under 2 s and verification under 2 s for the large case.
``growth`` is (draw + verify) of the large case over that of the small one
(about 10 means linear).  The last line of output is one JSON object.

    .venv/bin/python bench/draw.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inspect_api.draws import dr1  # noqa: E402

DEPARTMENTS = ("health", "civil_affairs", "medical_insurance")
ENTROPY = "2026-11-22 福利彩票 3D 第2026318期 开奖号码 4 0 7"


def build(institutions: int, inspectors: int, conflicts: int, strata: int = 30, seed: int = 20261122):
    """A deterministic (params, snapshot) of the given size."""
    rnd = random.Random(seed)
    regions = [f"3703{n:02d}" for n in range(1, strata + 1)]
    insts = []
    for n in range(institutions):
        region = regions[rnd.randrange(strata)]
        weight = "1.000000" if rnd.random() < 0.8 else f"{1 + rnd.randrange(1, 4000) / 1000:.6f}"
        insts.append({"id": f"inst{n:06d}", "region": region, "stratum": region, "weight": weight,
                      "mandatory": n % (institutions // 100 or 1) == 7})
    people = [{"id": f"insp{n:05d}", "department": DEPARTMENTS[n % 3], "region": regions[rnd.randrange(strata)],
               "load": rnd.choice((0, 0, 0, 1, 2, 3)), "load_cap": 25} for n in range(inspectors)]
    pairs = set()
    while len(pairs) < conflicts:
        pairs.add((f"insp{rnd.randrange(inspectors):05d}", f"inst{rnd.randrange(institutions):06d}"))
    leads = {inst["id"]: people[rnd.randrange(inspectors)]["id"] for inst in insts if rnd.random() < 0.2}
    params = {"ratio": "0.100000", "count": None, "min_per_stratum": 1, "team_size": 2,
              "required_departments": ["health"], "cross_region": True, "no_repeat_lead": True}
    snapshot = {"institutions": insts, "inspectors": people, "conflicts": [list(p) for p in sorted(pairs)],
                "previous_leads": leads}
    return params, snapshot


def run(institutions: int, inspectors: int, conflicts: int, rounds: int) -> dict:
    params, snapshot = build(institutions, inspectors, conflicts)
    nonce = "%064x" % random.Random(institutions).getrandbits(256)
    commitment = dr1.make_commitment(params, snapshot, nonce)
    seed = dr1.make_seed(commitment, ENTROPY)
    draw_times, draw_cpu, result = [], [], None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        result = dr1.draw(params, snapshot, seed)
        draw_times.append(time.perf_counter() - t0)
        draw_cpu.append(time.process_time() - c0)
    record = {"algorithm": "dr1", "params": params, "snapshot": snapshot, "nonce": nonce,
              "commitment": commitment, "public_entropy": ENTROPY, "seed": seed, "result": result}
    text = json.dumps(record, ensure_ascii=False)
    t0 = time.perf_counter()
    parsed = json.loads(text)
    parse_s = time.perf_counter() - t0
    verify_times, verify_cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        differences = dr1.verify(parsed)
        verify_times.append(time.perf_counter() - t0)
        verify_cpu.append(time.process_time() - c0)
        assert differences == [], differences[:3]
    loads = {}
    for team in result["teams"].values():
        for x in team:
            loads[x] = loads.get(x, 0) + 1
    return {"institutions": institutions, "inspectors": inspectors, "conflicts": conflicts,
            "targets": len(result["targets"]), "draw_s": min(draw_times), "verify_s": min(verify_times),
            "draw_cpu_s": min(draw_cpu), "verify_cpu_s": min(verify_cpu),
            "parse_s": parse_s, "record_mb": len(text.encode()) / 1e6, "max_new_load": max(loads.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    big = run(100_000, 5_000, 20_000, args.rounds)
    small = run(10_000, 500, 2_000, args.rounds)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (wall times include waiting for a core; "
          f"cpu = process time); best of {args.rounds} runs")
    for name, fig in (("large", big), ("small", small)):
        print(f"{name:5}  {fig['institutions']:>7,} institutions  {fig['inspectors']:>5,} inspectors  "
              f"{fig['conflicts']:>6,} conflicts  → {fig['targets']:>6,} targets   "
              f"draw {fig['draw_s']:6.3f} s (cpu {fig['draw_cpu_s']:.3f})   "
              f"verify {fig['verify_s']:6.3f} s (cpu {fig['verify_cpu_s']:.3f})   "
              f"(record {fig['record_mb']:.1f} MB, json.loads {fig['parse_s']:.3f} s)")
    growth = (big["draw_s"] + big["verify_s"]) / (small["draw_s"] + small["verify_s"])
    print(f"growth ×{growth:.1f} for ×10 input   targets: draw < 2 s "
          f"[{'ok' if big['draw_s'] < 2 else 'MISSED'}], verify < 2 s [{'ok' if big['verify_s'] < 2 else 'MISSED'}]")
    print(json.dumps({"bench": "draw", "draw_s": round(big["draw_s"], 3), "verify_s": round(big["verify_s"], 3),
                      "draw_s_small": round(small["draw_s"], 3), "verify_s_small": round(small["verify_s"], 3),
                      "growth": round(growth, 2), "draw_cpu_s": round(big["draw_cpu_s"], 3),
                      "verify_cpu_s": round(big["verify_cpu_s"], 3), "targets": big["targets"],
                      "parse_s": round(big["parse_s"], 3), "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
