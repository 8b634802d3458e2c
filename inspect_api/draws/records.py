"""The public record of a draw: its plan summary, compact JSON text, compressed storage and size limit."""

from __future__ import annotations

import json
import zlib
from typing import Any, Mapping

from inspect_api.draws import dr1
from inspect_api.draws.models import Draw, Plan, TargetFilters
from inspect_api.errors import Unprocessable

#: Largest record (compressed bytes) a draw document may carry; MongoDB's limit is 16 MiB.
MAX_RECORD_BYTES = 15 * 1024 * 1024 + 512 * 1024


def plan_summary(plan: Plan) -> dict[str, Any]:
    f = plan.filters or TargetFilters()
    return {"id": str(plan.id), "name": plan.name, "kind": plan.kind or "site", "region": plan.region,
            "period_start": plan.period_start.isoformat(), "period_end": plan.period_end.isoformat(),
            "matters": list(plan.matters), "checklist_code": plan.checklist_code,
            "departments": list(plan.departments),
            "filters": {"region_prefix": f.region_prefix, "kinds": list(f.kinds), "tags": list(f.tags),
                        "statuses": list(f.statuses)},
            "stratification": plan.stratification, "risk_weighting": bool(plan.risk_weighting),
            "exclude_inspected_within_days": plan.exclude_inspected_within_days,
            "mandatory": [{"institution_id": m.institution_id, "reason": m.reason} for m in plan.mandatory],
            "load_cap": plan.load_cap}


def dump_record(record: Mapping[str, Any]) -> str:
    """The downloaded text of a record: compact JSON; no hash is computed over it."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def pack_record(text: str) -> bytes:
    """The stored form of a record's text (``Draw.record_gz``)."""
    return zlib.compress(text.encode("utf-8"), 6)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def checked_record(record: Mapping[str, Any], *, still_to_come: int = 0) -> bytes:
    """The packed record, refused with 422 when it (plus ``still_to_come`` bytes) exceeds MAX_RECORD_BYTES."""
    packed = pack_record(dump_record(record))
    size = len(packed) + still_to_come
    if size > MAX_RECORD_BYTES:
        raise Unprocessable(
            f"抽取记录过大（约 {_mib(size)} MiB，超过 {_mib(MAX_RECORD_BYTES)} MiB 的存储上限），"
            "请缩小计划范围（区划、机构类型、标签等筛选条件）或拆分为多个计划后重试",
            code="DRAW_RECORD_TOO_LARGE", details={"bytes": size, "max_bytes": MAX_RECORD_BYTES,
                                                   "candidates": len(record["snapshot"]["institutions"])})
    return packed


def result_bytes(params: Mapping[str, Any], snapshot: Mapping[str, Any]) -> int:
    """An upper bound of what the draw adds to a committed record (nonce, entropy, seed, result).

    The number of targets follows from the params and the strata alone (DESIGN §5
    step 6), so it is known at commit; ids are counted at their longest.
    """
    institutions = snapshot["institutions"]
    sizes: dict[str, int] = {}
    mandatory: dict[str, int] = {}
    for inst in institutions:
        sizes[inst["stratum"]] = sizes.get(inst["stratum"], 0) + 1
        mandatory[inst["stratum"]] = mandatory.get(inst["stratum"], 0) + bool(inst["mandatory"])
    n = sum(dr1.allocate(sizes, dr1.sample_size(params, len(institutions)), params["min_per_stratum"],
                         mandatory).values())
    id_len = max((len(i["id"].encode("utf-8")) for i in institutions), default=0) + 3
    member_len = max((len(x["id"].encode("utf-8")) for x in snapshot["inspectors"]), default=0) + 3
    per_target = id_len + (id_len + 1) + params["team_size"] * member_len + 2
    fixed = 2048  # nonce, seed, public entropy (<= 256 characters, 4 bytes each), drawn_at, keys
    return fixed + n * per_target


def record_of(draw: Draw) -> dict[str, Any]:
    """The public record (nonce, seed and result only once drawn)."""
    return json.loads(draw.record_json)


def current_teams(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """The drawn teams with every amendment applied (positions kept, lead first)."""
    teams = {k: list(v) for k, v in (record.get("result") or {}).get("teams", {}).items()}
    for amendment in record.get("amendments") or []:
        iid = amendment.get("institution", amendment.get("institution_id"))
        teams[iid] = [amendment["replacement"] if x == amendment["replaced"] else x for x in teams.get(iid, [])]
    return teams
