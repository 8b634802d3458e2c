"""dr1: the verifiable double-random draw (双随机), exactly as DESIGN §5 states it.

This one file is also the public verifier.  The public site serves it byte
for byte as ``/p/verify.py`` (its SHA-256 on every draw page), so anyone can
check a draw with the very code the server draws with, from any folder::

    python3 verify.py record.json        # prints OK, or the first difference

验证抽取记录：下载 record.json 与本文件（verify.py）到同一文件夹，运行
``python3 verify.py record.json``；输出 OK 表示承诺值、种子、抽中机构、检查组
与调整记录全部复算一致，否则输出第一处不一致（退出码 1）；记录无法读取或
格式不对时退出码 2。只用 Python 标准库（3.9 及以上）。

Standard library only (it runs under ``python3 -I -S``); inside the project
``python -m inspect_api.draws.verify`` runs the same :func:`main`.  Never
change dr1's behaviour; a new behaviour is a new algorithm (dr2) next to this one.

Public API
----------
``canonical(obj) -> bytes``
    Step 1, canonical JSON (sorted keys, no spaces, UTF-8, non-ASCII kept).
``make_commitment(params, snapshot, nonce, algorithm="dr1") -> str``
    Step 2.  The algorithm-first form ``make_commitment("dr1", params,
    snapshot, nonce)`` is accepted as well.
``make_seed(commitment, public_entropy) -> str``
    Step 3.
``uniform(seed, label) -> float``
    Step 4, ``u(label)`` in (0, 1] (1.0 only through double rounding).
``sample_size(params, n_candidates) -> int`` and
``allocate(sizes, n, min_per_stratum=0, mandatory=None) -> dict``
    Step 6.
``select_targets(params, snapshot, seed) -> list[str]``
    Steps 5–7, targets in processing order.
``form_teams(params, snapshot, seed, targets) -> dict[str, list[str]]``
    Step 8.
``draw(params, snapshot, seed) -> {"targets": [...], "teams": {...}}``
    Steps 5–8 (validates params and snapshot once).
``amend(record, institution_id, replaced_id) -> dict``
    Step 9, returns the amendment entry to append to ``record["amendments"]``.
``verify(record) -> list[str]``
    Recomputes commitment, seed, targets, teams and amendments; ``[]`` is OK.

Exceptions: ``RecordError`` (malformed record, params or snapshot; ``field``
names the place) and ``DrawError`` (a team slot cannot be filled, or an
amendment request does not fit the record; ``code``, ``institution_id``,
``slot``, ``counts``, ``message``).

Amendments (step 9) — how the text is read
------------------------------------------
An amendment entry is ``{"institution": id, "number": k, "replaced": old,
"replacement": new, "reason": "..."}``; other fields (time, actor) may sit
beside and are ignored.  ``amend`` also returns ``"institution_id"`` (same
value) for callers that read that name; readers accept either name.

* Amendments are replayed in list order.  ``k`` is the amendment's number for
  its institution, from 1.
* Loads "as they stand after the draw and earlier amendments": each
  inspector's snapshot ``load`` plus one per team of the draw result they are
  on; then, per earlier amendment, the replacement gains one and the replaced
  member loses one (they no longer carry that inspection).
* Excluded, literally as the text says ("the eligible inspectors not already
  in that team"): everyone *currently* in the team, the member being replaced
  included.  A member that an earlier amendment removed from the team is not
  in it any more and is eligible again like anyone else (the text names no
  such exclusion, and an independent verifier written from the text must get
  the same replacement).  A person removed for a newly found conflict stays
  out only through the snapshot's conflict pairs.
* Otherwise the rule of step 8: ``load < load_cap``, no conflict pair,
  ``cross_region`` and ``no_repeat_lead`` as in the params, the replaced
  position's department requirement (position ``j < len(required_departments)``
  needs ``required_departments[j]``), smallest ``(load, (b_x - a) % 1.0, id)``
  with ``a = u("replace:" + institution_id + ":" + str(k))``.
* The replacement takes the replaced member's position (a replaced lead is
  replaced by the new lead).
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import heapq
import json
import math
import re
import sys
from decimal import Decimal
from typing import Any, Iterable, Mapping

ALGORITHM = "dr1"
MAX_DIFFERENCES = 50

_SIX_DECIMALS = re.compile(r"[0-9]+\.[0-9]{6}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_TWO64 = 2 ** 64


# --------------------------------------------------------------------------- errors

class RecordError(ValueError):
    """The record, its params or its snapshot do not have the dr1 shape.

    ``field`` is the dotted path of the offending value (``snapshot.institutions[3].weight``),
    ``message`` the Chinese explanation (also ``str(exc)``).
    """

    def __init__(self, field: str, problem: str):
        self.field = field
        self.message = f"记录格式错误：{field} {problem}"
        super().__init__(self.message)


class DrawError(Exception):
    """The draw (or an amendment) cannot be completed; nothing may be stored as drawn.

    Attributes: ``code`` (stable, e.g. ``TEAM_UNFILLABLE``), ``institution_id``,
    ``slot`` (0-based team position, ``None`` when not about a slot), ``counts``
    (why inspectors were excluded: ``total``, ``department``, ``in_team``,
    ``load_cap``, ``conflict``, ``same_region``, ``previous_lead``) and
    ``message`` (Chinese, also ``str(exc)``).
    """

    def __init__(self, message: str, *, code: str, institution_id: str | None = None,
                 slot: int | None = None, counts: Mapping[str, int] | None = None):
        self.message = message
        self.code = code
        self.institution_id = institution_id
        self.slot = slot
        self.counts = dict(counts or {})
        super().__init__(message)


# --------------------------------------------------------------------------- steps 1–4

def canonical(obj: Any) -> bytes:
    """Step 1: ``json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` in UTF-8."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_commitment(params: Any, snapshot: Any, nonce: Any, algorithm: Any = ALGORITHM) -> str:
    """Step 2: ``sha256_hex(canonical({"algorithm", "params", "snapshot"}) + ":" + nonce)``.

    Also callable as ``make_commitment(algorithm, params, snapshot, nonce)``.
    """
    if isinstance(params, str):  # algorithm-first form
        algorithm, params, snapshot, nonce = params, snapshot, nonce, algorithm
    body = canonical({"algorithm": algorithm, "params": params, "snapshot": snapshot})
    return sha256_hex(body + b":" + str(nonce).encode("utf-8"))


def make_seed(commitment: str, public_entropy: str) -> str:
    """Step 3: ``sha256_hex(commitment + ":" + public_entropy)``."""
    return sha256_hex((commitment + ":" + public_entropy).encode("utf-8"))


def uniform(seed: str, label: str) -> float:
    """Step 4: ``(int.from_bytes(sha256((seed + ":" + label).encode()).digest()[:8], "big") + 0.5) / 2**64``."""
    digest = hashlib.sha256((seed + ":" + label).encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / _TWO64


def _uniforms(seed: str, prefix: str, labels: Iterable[str]) -> list[float]:
    """``[uniform(seed, prefix + label) for label in labels]``, sharing the hash of the common prefix."""
    base = hashlib.sha256((seed + ":" + prefix).encode("utf-8"))
    out = []
    append = out.append
    from_bytes = int.from_bytes
    for label in labels:
        h = base.copy()
        h.update(label.encode("utf-8"))
        append((from_bytes(h.digest()[:8], "big") + 0.5) / _TWO64)
    return out


# --------------------------------------------------------------------------- validation

def _is_int(value: Any) -> bool:
    return type(value) is int


def _check_six(value: Any, field: str, *, positive: bool) -> None:
    if not isinstance(value, str) or not _SIX_DECIMALS.fullmatch(value):
        raise RecordError(field, f"须为恰好 6 位小数的数字字符串（如 \"1.000000\"），实际为 {value!r}")
    if positive and not float(value) > 0:
        raise RecordError(field, f"须大于 0，实际为 {value!r}")


def check_params(params: Any) -> None:
    """Raise RecordError unless ``params`` has the dr1 shape."""
    if not isinstance(params, Mapping):
        raise RecordError("params", "须为对象")
    for key in ("ratio", "count", "min_per_stratum", "team_size", "required_departments", "cross_region",
                "no_repeat_lead"):
        if key not in params:
            raise RecordError(f"params.{key}", "缺失")
    ratio, count = params["ratio"], params["count"]
    if count is None:
        if ratio is None:
            raise RecordError("params.ratio", "与 params.count 不能同时为空")
        _check_six(ratio, "params.ratio", positive=False)
        if Decimal(ratio) > 1:
            raise RecordError("params.ratio", f"不能大于 1，实际为 {ratio!r}")
    else:
        if not _is_int(count) or count < 0:
            raise RecordError("params.count", f"须为非负整数或 null，实际为 {count!r}")
        if ratio is not None:
            _check_six(ratio, "params.ratio", positive=False)
    mps = params["min_per_stratum"]
    if not _is_int(mps) or mps < 0:
        raise RecordError("params.min_per_stratum", f"须为非负整数，实际为 {mps!r}")
    size = params["team_size"]
    if not _is_int(size) or size < 2:
        raise RecordError("params.team_size", f"须为不小于 2 的整数（执法人员不少于两人），实际为 {size!r}")
    req = params["required_departments"]
    if not isinstance(req, list) or not all(isinstance(d, str) and d for d in req):
        raise RecordError("params.required_departments", "须为部门代码（非空字符串）的列表")
    if len(req) > size:
        raise RecordError("params.required_departments", f"有 {len(req)} 项，多于检查组人数 {size}")
    for key in ("cross_region", "no_repeat_lead"):
        if not isinstance(params[key], bool):
            raise RecordError(f"params.{key}", f"须为 true 或 false，实际为 {params[key]!r}")


def check_snapshot(snapshot: Any) -> None:
    """Raise RecordError unless ``snapshot`` has the dr1 shape (unique ids, 6-decimal weights > 0, ...)."""
    if not isinstance(snapshot, Mapping):
        raise RecordError("snapshot", "须为对象")
    for key in ("institutions", "inspectors", "conflicts", "previous_leads"):
        if key not in snapshot:
            raise RecordError(f"snapshot.{key}", "缺失")
    institutions = snapshot["institutions"]
    if not isinstance(institutions, list):
        raise RecordError("snapshot.institutions", "须为列表")
    seen: set[str] = set()
    six = _SIX_DECIMALS.fullmatch
    for n, inst in enumerate(institutions):
        try:
            iid, region, stratum, weight, mandatory = (inst["id"], inst["region"], inst["stratum"],
                                                       inst["weight"], inst["mandatory"])
        except (KeyError, TypeError):
            raise RecordError(f"snapshot.institutions[{n}]",
                              "须为含 id、region、stratum、weight、mandatory 的对象") from None
        if not isinstance(iid, str) or not iid:
            raise RecordError(f"snapshot.institutions[{n}].id", f"须为非空字符串，实际为 {iid!r}")
        if iid in seen:
            raise RecordError(f"snapshot.institutions[{n}].id", f"重复：{iid!r}")
        seen.add(iid)
        if not isinstance(region, str) or not isinstance(stratum, str):
            raise RecordError(f"snapshot.institutions[{n}]", "region 与 stratum 须为字符串")
        if not isinstance(weight, str) or not six(weight) or not float(weight) > 0:
            _check_six(weight, f"snapshot.institutions[{n}].weight", positive=True)
        if not isinstance(mandatory, bool):
            raise RecordError(f"snapshot.institutions[{n}].mandatory", f"须为 true 或 false，实际为 {mandatory!r}")
    inspectors = snapshot["inspectors"]
    if not isinstance(inspectors, list):
        raise RecordError("snapshot.inspectors", "须为列表")
    seen = set()
    for n, insp in enumerate(inspectors):
        try:
            xid, dept, region, load, cap = (insp["id"], insp["department"], insp["region"], insp["load"],
                                            insp["load_cap"])
        except (KeyError, TypeError):
            raise RecordError(f"snapshot.inspectors[{n}]",
                              "须为含 id、department、region、load、load_cap 的对象") from None
        if not isinstance(xid, str) or not xid:
            raise RecordError(f"snapshot.inspectors[{n}].id", f"须为非空字符串，实际为 {xid!r}")
        if xid in seen:
            raise RecordError(f"snapshot.inspectors[{n}].id", f"重复：{xid!r}")
        seen.add(xid)
        if not isinstance(dept, str) or not isinstance(region, str):
            raise RecordError(f"snapshot.inspectors[{n}]", "department 与 region 须为字符串")
        if not _is_int(load) or load < 0:
            raise RecordError(f"snapshot.inspectors[{n}].load", f"须为非负整数，实际为 {load!r}")
        if not _is_int(cap) or cap < 0:
            raise RecordError(f"snapshot.inspectors[{n}].load_cap", f"须为非负整数，实际为 {cap!r}")
    conflicts = snapshot["conflicts"]
    if not isinstance(conflicts, list):
        raise RecordError("snapshot.conflicts", "须为列表")
    for n, pair in enumerate(conflicts):
        if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str)
                or not isinstance(pair[1], str)):
            raise RecordError(f"snapshot.conflicts[{n}]", f"须为 [检查人员 id, 机构 id]，实际为 {pair!r}")
    leads = snapshot["previous_leads"]
    if not isinstance(leads, Mapping) or not all(isinstance(v, str) for v in leads.values()):
        raise RecordError("snapshot.previous_leads", "须为 {机构 id: 检查人员 id} 对象")


# --------------------------------------------------------------------------- steps 5–7

def sample_size(params: Mapping[str, Any], n_candidates: int) -> int:
    """Step 6, total: ``count``, or ``ceil(Decimal(ratio) * N)``; then ``min(n, N)``."""
    count = params.get("count")
    if count is not None:
        n = count
    else:
        n = math.ceil(Decimal(params["ratio"]) * n_candidates)
    return min(n, n_candidates)


def allocate(sizes: Mapping[str, int], n: int, min_per_stratum: int = 0,
             mandatory: Mapping[str, int] | None = None) -> dict[str, int]:
    """Step 6: largest-remainder allocation of ``n`` over strata of ``sizes``, then the raises.

    ``q_s = n * N_s / N`` exactly; each stratum gets ``floor(q_s)``; the leftover go
    one each to the largest ``q_s - floor(q_s)`` (ties by stratum ascending); then
    each stratum is raised to ``min(min_per_stratum, N_s)`` and to its number of
    mandatory candidates.  ``n`` is capped at ``N`` first.
    """
    mandatory = mandatory or {}
    total = sum(sizes.values())
    n = min(n, total)
    alloc: dict[str, int] = {}
    remainders = []
    for s in sorted(sizes):
        whole, rest = divmod(n * sizes[s], total) if total else (0, 0)
        alloc[s] = whole
        remainders.append((-rest, s))  # fractional part is rest / total: same order as rest
    leftover = n - sum(alloc.values())
    remainders.sort()
    for _, s in remainders[:leftover]:
        alloc[s] += 1
    for s in alloc:
        alloc[s] = max(alloc[s], min(min_per_stratum, sizes[s]), mandatory.get(s, 0))
    return alloc


def _select(params: Mapping[str, Any], snapshot: Mapping[str, Any], seed: str) -> list[str]:
    institutions = snapshot["institutions"]
    ids = [inst["id"] for inst in institutions]
    weights = [inst["weight"] for inst in institutions]
    as_float = {w: float(w) for w in set(weights)}
    log = math.log
    # negated keys, so that ascending order is "key descending, id ascending"
    neg = [-(log(u) / as_float[w]) for u, w in zip(_uniforms(seed, "target:", ids), weights)]
    by_stratum: dict[str, list[tuple[float, str, bool]]] = {}
    for inst, entry in zip(institutions, zip(neg, ids, [inst["mandatory"] for inst in institutions])):
        group = by_stratum.get(inst["stratum"])
        if group is None:
            by_stratum[inst["stratum"]] = [entry]
        else:
            group.append(entry)
    sizes = {s: len(g) for s, g in by_stratum.items()}
    mandatory = {s: sum(1 for e in g if e[2]) for s, g in by_stratum.items()}
    n = sample_size(params, len(ids))
    alloc = allocate(sizes, n, params["min_per_stratum"], mandatory)
    chosen: list[tuple[float, str, bool]] = []
    for s, group in by_stratum.items():
        picked = [e for e in group if e[2]]
        rest = alloc[s] - len(picked)
        if rest > 0:
            # == sorted(...)[:rest]; entries are unique (ids are), so the order is total
            picked.extend(heapq.nsmallest(rest, [e for e in group if not e[2]]))
        chosen.extend(picked)
    chosen.sort()
    return [e[1] for e in chosen]


def select_targets(params: Mapping[str, Any], snapshot: Mapping[str, Any], seed: str) -> list[str]:
    """Steps 5–7: the selected institution ids, key descending, ties by id ascending."""
    check_params(params)
    check_snapshot(snapshot)
    return _select(params, snapshot, seed)


# --------------------------------------------------------------------------- step 8

class _Level:
    """Inspectors (by rank = position in (b, id) order) of one load level; ``bs`` parallel to ``ranks``."""

    __slots__ = ("ranks", "bs")

    def __init__(self) -> None:
        self.ranks: list[int] = []
        self.bs: list[float] = []


class _Pool:
    """Inspectors with ``load < load_cap``, grouped by load, each level sorted by ``(b, id)``.

    A slot is found by scanning levels upwards and, in a level, bisecting ``a``
    in the sorted ``b`` values and walking clockwise over the ineligible ones;
    distances are non-decreasing along that walk (also across the wrap), so the
    walk may stop at the first distance larger than the best eligible one.
    Equal distances (double rounding) go to the smallest id.
    """

    def __init__(self, ranks: Iterable[int], b: list[float], loads: list[int], caps: list[int]):
        self.b = b
        self.levels: dict[int, _Level] = {}
        self.order: list[int] = []
        for r in sorted(ranks):
            if loads[r] < caps[r]:
                level = self._level(loads[r])
                level.ranks.append(r)
                level.bs.append(b[r])

    def _level(self, load: int) -> _Level:
        level = self.levels.get(load)
        if level is None:
            level = self.levels[load] = _Level()
            bisect.insort(self.order, load)
        return level

    def move(self, r: int, old: int, new: int, cap: int) -> None:
        """Inspector ``r`` goes from load ``old`` to ``new`` (leaves the pool at the cap)."""
        level = self.levels[old]
        k = bisect.bisect_left(level.ranks, r)
        del level.ranks[k]
        del level.bs[k]
        if new < cap:
            level = self._level(new)
            k = bisect.bisect_left(level.ranks, r)
            level.ranks.insert(k, r)
            level.bs.insert(k, self.b[r])

    def pick(self, a: float, ok, ids: list[str]) -> int | None:
        for load in self.order:
            level = self.levels[load]
            ranks = level.ranks
            n = len(ranks)
            if not n:
                continue
            bs = level.bs
            start = bisect.bisect_left(bs, a)
            best = -1
            best_d = 0.0
            for step in range(n):
                k = start + step
                if k >= n:
                    k -= n
                d = (bs[k] - a) % 1.0
                if best >= 0 and d != best_d:
                    break
                r = ranks[k]
                if ok(r):
                    if best < 0:
                        best, best_d = r, d
                    elif ids[r] < ids[best]:
                        best = r
            if bs[-1] == 1.0 and (1.0 - a) % 1.0 == 0.0:
                # The one exception to the walk order: u() can round to 1.0, and for
                # a <= 2**-54, 1.0 - a rounds to 1.0, so Python's % gives distance 0.0
                # to b == 1.0 (the last points of the level), the smallest possible.
                k = n - 1
                while k >= 0 and bs[k] == 1.0:
                    r = ranks[k]
                    if ok(r) and (best < 0 or (0.0, ids[r]) < (best_d, ids[best])):
                        best, best_d = r, 0.0
                    k -= 1
            if best >= 0:
                return best
        return None


class _Inspectors:
    """The snapshot's inspectors indexed by rank (position in ``(b, id)`` order)."""

    def __init__(self, snapshot: Mapping[str, Any], seed: str):
        raw = snapshot["inspectors"]
        us = _uniforms(seed, "inspector:", [x["id"] for x in raw])
        order = sorted(range(len(raw)), key=lambda i: (us[i], raw[i]["id"]))
        self.ids = [raw[i]["id"] for i in order]
        self.b = [us[i] for i in order]
        self.dept = [raw[i]["department"] for i in order]
        self.region = [raw[i]["region"] for i in order]
        self.load = [raw[i]["load"] for i in order]
        self.cap = [raw[i]["load_cap"] for i in order]
        self.rank = {xid: r for r, xid in enumerate(self.ids)}
        self.conflicts: dict[str, set[int]] = {}
        rank = self.rank
        for xid, iid in snapshot["conflicts"]:
            r = rank.get(xid)
            if r is not None:
                self.conflicts.setdefault(iid, set()).add(r)


def _rules(params, snapshot, insp: _Inspectors, regions: Mapping[str, str], t: str):
    """(conflicted ranks, region or None, previous lead rank or -1) of target ``t``."""
    region = regions.get(t) if params["cross_region"] else None
    prev = -1
    if params["no_repeat_lead"]:
        lead = snapshot["previous_leads"].get(t)
        if lead is not None:
            prev = insp.rank.get(lead, -1)
    return insp.conflicts.get(t, frozenset()), region, prev


def _unfillable(params, insp: _Inspectors, t: str, slot: int, dept: str | None, excluded: set[int],
                conflicted, region, prev, *, amendment: bool = False) -> DrawError:
    """The DrawError for slot ``slot`` of ``t``, with why every inspector was excluded."""
    counts = {"total": len(insp.ids), "department": 0, "in_team": 0, "load_cap": 0, "conflict": 0,
              "same_region": 0, "previous_lead": 0}
    for r in range(len(insp.ids)):
        if dept is not None and insp.dept[r] != dept:
            counts["department"] += 1
        elif r in excluded:
            counts["in_team"] += 1
        elif insp.load[r] >= insp.cap[r]:
            counts["load_cap"] += 1
        elif r in conflicted:
            counts["conflict"] += 1
        elif region is not None and insp.region[r] == region:
            counts["same_region"] += 1
        elif r == prev:
            counts["previous_lead"] += 1
    labels = [("department", f"非{dept}部门"), ("in_team", "已在本组"),
              ("load_cap", "已达工作量上限"), ("conflict", "需回避（利益冲突）"),
              ("same_region", f"与机构同在区县 {region}（须异地检查）"), ("previous_lead", "为该机构上次检查组长")]
    parts = "，".join(f"{text} {counts[key]} 名" for key, text in labels if counts[key])
    need = f"（须为 {dept} 部门）" if dept is not None else ""
    what = "无法调整检查组" if amendment else "无法组队"
    message = (f"机构 {t} {what}：第 {slot + 1} 个席位{need}没有符合条件的检查人员；"
               f"共 {counts['total']} 名检查人员" + (f"，其中{parts}" if parts else ""))
    return DrawError(message, code="TEAM_UNFILLABLE", institution_id=t, slot=slot, counts=counts)


def _form_teams(params, snapshot, seed: str, targets: list[str], insp: _Inspectors) -> dict[str, list[str]]:
    """Step 8 on validated input; leaves the final loads in ``insp.load``."""
    required = params["required_departments"]
    size = params["team_size"]
    b, load, cap, ids, region_of = insp.b, insp.load, insp.cap, insp.ids, insp.region
    everyone = _Pool(range(len(ids)), b, load, cap)
    by_dept = {d: _Pool([r for r in range(len(ids)) if insp.dept[r] == d], b, load, cap) for d in set(required)}
    pools_of = [[everyone] + ([by_dept[insp.dept[r]]] if insp.dept[r] in by_dept else [])
                for r in range(len(ids))]
    regions = {inst["id"]: inst["region"] for inst in snapshot["institutions"]}
    teams: dict[str, list[str]] = {}
    for t in targets:
        conflicted, region, prev = _rules(params, snapshot, insp, regions, t)
        team: list[int] = []

        def ok(r: int) -> bool:
            return (r not in conflicted and r != prev and (region is None or region_of[r] != region)
                    and r not in team)

        for j in range(size):
            a = uniform(seed, f"team:{t}:{j}")
            dept = required[j] if j < len(required) else None
            pool = by_dept[dept] if dept is not None else everyone
            r = pool.pick(a, ok, ids)
            if r is None:
                raise _unfillable(params, insp, t, j, dept, set(team), conflicted, region, prev)
            team.append(r)
        for r in team:
            old = load[r]
            load[r] = old + 1
            for pool in pools_of[r]:
                pool.move(r, old, old + 1, cap[r])
        teams[t] = [ids[r] for r in team]
    return teams


def form_teams(params: Mapping[str, Any], snapshot: Mapping[str, Any], seed: str,
               targets: list[str]) -> dict[str, list[str]]:
    """Step 8: ``{institution id: [lead id, member id, ...]}`` in target order; DrawError if a slot is unfillable."""
    check_params(params)
    check_snapshot(snapshot)
    return _form_teams(params, snapshot, seed, list(targets), _Inspectors(snapshot, seed))


def draw(params: Mapping[str, Any], snapshot: Mapping[str, Any], seed: str) -> dict[str, Any]:
    """Steps 5–8: ``{"targets": [...], "teams": {...}}``; RecordError on bad input, DrawError if unfillable."""
    check_params(params)
    check_snapshot(snapshot)
    targets = _select(params, snapshot, seed)
    teams = _form_teams(params, snapshot, seed, targets, _Inspectors(snapshot, seed))
    return {"targets": targets, "teams": teams}


# --------------------------------------------------------------------------- step 9

def _amendment_institution(entry: Mapping[str, Any]) -> Any:
    return entry.get("institution", entry.get("institution_id"))


class _Amender:
    """Replays amendments over a draw result (see the module docstring for the rules)."""

    def __init__(self, params, snapshot, seed: str, teams: Mapping[str, list[str]]):
        self.params, self.snapshot, self.seed = params, snapshot, seed
        self.insp = insp = _Inspectors(snapshot, seed)
        self.teams = {t: list(team) for t, team in teams.items()}
        for team in self.teams.values():
            for xid in team:
                r = insp.rank.get(xid)
                if r is not None:
                    insp.load[r] += 1
        self.numbers: dict[str, int] = {}
        self.regions = {inst["id"]: inst["region"] for inst in snapshot["institutions"]}

    def check(self, t: Any, replaced: Any) -> None:
        if not isinstance(t, str) or t not in self.teams:
            raise DrawError(f"机构 {t} 不在本次抽取结果中", code="AMEND_NOT_A_TARGET", institution_id=str(t))
        if replaced not in self.teams[t]:
            raise DrawError(f"检查人员 {replaced} 不在机构 {t} 的检查组中", code="AMEND_NOT_IN_TEAM",
                            institution_id=t)

    def replacement(self, t: str, replaced: str) -> tuple[int, str]:
        """(k, replacement id) for replacing ``replaced`` in ``t``'s team; DrawError if unfillable."""
        self.check(t, replaced)
        insp = self.insp
        k = self.numbers.get(t, 0) + 1
        team = self.teams[t]
        slot = team.index(replaced)
        required = self.params["required_departments"]
        dept = required[slot] if slot < len(required) else None
        excluded = {insp.rank[x] for x in team if x in insp.rank}  # "not already in that team"
        conflicted, region, prev = _rules(self.params, self.snapshot, insp, self.regions, t)
        a = uniform(self.seed, f"replace:{t}:{k}")
        best = None
        for r in range(len(insp.ids)):
            if ((dept is None or insp.dept[r] == dept) and r not in excluded and insp.load[r] < insp.cap[r]
                    and r not in conflicted and r != prev and (region is None or insp.region[r] != region)):
                key = (insp.load[r], (insp.b[r] - a) % 1.0, insp.ids[r])
                if best is None or key < best:
                    best = key
        if best is None:
            raise _unfillable(self.params, insp, t, slot, dept, excluded, conflicted, region, prev,
                              amendment=True)
        return k, best[2]

    def apply(self, t: str, replaced: str, replacement: str) -> None:
        insp = self.insp
        team = self.teams[t]
        team[team.index(replaced)] = replacement
        self.numbers[t] = self.numbers.get(t, 0) + 1
        if replaced in insp.rank:
            insp.load[insp.rank[replaced]] -= 1
        if replacement in insp.rank:
            insp.load[insp.rank[replacement]] += 1


def _check_amendments(amendments: Any) -> list[Mapping[str, Any]]:
    if amendments is None:
        return []
    if not isinstance(amendments, list):
        raise RecordError("amendments", "须为列表")
    for n, entry in enumerate(amendments):
        if not isinstance(entry, Mapping):
            raise RecordError(f"amendments[{n}]", "须为对象")
        for key in ("replaced", "replacement"):
            if not isinstance(entry.get(key), str):
                raise RecordError(f"amendments[{n}].{key}", "缺失或不是字符串")
        if not isinstance(_amendment_institution(entry), str):
            raise RecordError(f"amendments[{n}].institution", "缺失或不是字符串")
    return amendments


def _result_teams(record: Mapping[str, Any]) -> dict[str, list[str]]:
    result = record.get("result")
    if not isinstance(result, Mapping):
        raise RecordError("result", "缺失（尚未抽取？）")
    teams = result.get("teams")
    if not isinstance(teams, Mapping):
        raise RecordError("result.teams", "缺失或不是对象")
    for t, team in teams.items():
        if not isinstance(team, list) or not all(isinstance(x, str) for x in team):
            raise RecordError(f"result.teams.{t}", "须为检查人员 id 的列表")
    return teams


def amend(record: Mapping[str, Any], institution_id: str, replaced_id: str) -> dict[str, Any]:
    """Step 9: the amendment replacing ``replaced_id`` in ``institution_id``'s team.

    Replays the record's earlier ``amendments`` (as recorded) over its result,
    then fills the slot (rules in the module docstring).  Returns
    ``{"institution", "institution_id", "number", "replaced", "replacement"}``;
    the caller adds ``"reason"`` (and e.g. a time) and appends it to
    ``record["amendments"]``.  ``entry["replacement"]`` is the new member.
    DrawError: ``AMEND_NOT_A_TARGET``, ``AMEND_NOT_IN_TEAM``, ``TEAM_UNFILLABLE``.
    """
    for key in ("params", "snapshot", "seed"):
        if key not in record:
            raise RecordError(key, "缺失")
    params, snapshot, seed = record["params"], record["snapshot"], record["seed"]
    check_params(params)
    check_snapshot(snapshot)
    amender = _Amender(params, snapshot, seed, _result_teams(record))
    for entry in _check_amendments(record.get("amendments")):
        t = _amendment_institution(entry)
        amender.check(t, entry["replaced"])
        amender.apply(t, entry["replaced"], entry["replacement"])
    k, replacement = amender.replacement(institution_id, replaced_id)
    return {"institution": institution_id, "institution_id": institution_id, "number": k,
            "replaced": replaced_id, "replacement": replacement}


# --------------------------------------------------------------------------- verification

def _diff(field: str, recorded: Any, recomputed: Any) -> str:
    return f"{field}: record has {recorded!r}, recomputed {recomputed!r}"


def verify(record: Mapping[str, Any]) -> list[str]:
    """Recompute commitment, seed, targets, teams and amendments of a published record.

    Returns the differences, first differing field first (``[]`` = OK), e.g.
    ``result.teams.inst00012[1]: record has 'x', recomputed 'y'``; at most
    MAX_DIFFERENCES lines plus a count of the rest.  The seed is checked against
    the record's commitment and the result against the record's seed, so each
    line points at the field that was changed.  RecordError if a field is
    missing or malformed.  Fields other than those of DESIGN §5 (and
    ``amendments``) are ignored.
    """
    if not isinstance(record, Mapping):
        raise RecordError("record", "须为 JSON 对象")
    for key in ("algorithm", "params", "snapshot", "nonce", "commitment", "public_entropy", "seed", "result"):
        if key not in record or record[key] is None:
            hint = "（抽取前 nonce、种子与结果尚未公开）" if key in ("nonce", "seed", "result", "public_entropy") else ""
            raise RecordError(key, "缺失" + hint)
    if record["algorithm"] != ALGORITHM:
        raise RecordError("algorithm", f"为 {record['algorithm']!r}，本验证程序只支持 {ALGORITHM!r}")
    params, snapshot = record["params"], record["snapshot"]
    check_params(params)
    check_snapshot(snapshot)
    for key in ("nonce", "commitment", "seed"):
        if not isinstance(record[key], str) or not _HEX64.fullmatch(record[key]):
            raise RecordError(key, f"须为 64 位十六进制字符串，实际为 {record[key]!r}")
    entropy = record["public_entropy"]
    if not isinstance(entropy, str) or not 1 <= len(entropy) <= 256:
        raise RecordError("public_entropy", "须为 1–256 个字符的字符串")
    result = record["result"]
    if not isinstance(result, Mapping) or not isinstance(result.get("targets"), list):
        raise RecordError("result.targets", "缺失或不是列表")
    rec_targets = result["targets"]
    rec_teams = _result_teams(record)
    amendments = _check_amendments(record.get("amendments"))

    diffs: list[str] = []
    commitment = make_commitment(params, snapshot, record["nonce"], record["algorithm"])
    if commitment != record["commitment"]:
        diffs.append(_diff("commitment", record["commitment"], commitment))
    seed = make_seed(record["commitment"], entropy)
    if seed != record["seed"]:
        diffs.append(_diff("seed", record["seed"], seed))
    seed = record["seed"]
    try:
        targets = _select(params, snapshot, seed)
        teams = _form_teams(params, snapshot, seed, targets, _Inspectors(snapshot, seed))
    except DrawError as exc:
        diffs.append(f"result: the draw cannot be recomputed: {exc.message}")
        return diffs

    for n, (rec, got) in enumerate(zip(rec_targets, targets)):
        if rec != got:
            diffs.append(_diff(f"result.targets[{n}]", rec, got))
            break
    if len(rec_targets) != len(targets):
        diffs.append(f"result.targets: record has {len(rec_targets)} entries, recomputed {len(targets)}")
    for t, team in teams.items():
        rec = rec_teams.get(t)
        if rec is None:
            diffs.append(_diff(f"result.teams.{t}", None, team))
            continue
        for j, (x, y) in enumerate(zip(rec, team)):
            if x != y:
                diffs.append(_diff(f"result.teams.{t}[{j}]", x, y))
                break
        else:
            if len(rec) != len(team):
                diffs.append(f"result.teams.{t}: record has {len(rec)} members, recomputed {len(team)}")
    for t in rec_teams:
        if t not in teams:
            diffs.append(_diff(f"result.teams.{t}", rec_teams[t], None))

    if amendments:
        amender = _Amender(params, snapshot, seed, teams)
        for n, entry in enumerate(amendments):
            t, replaced = _amendment_institution(entry), entry["replaced"]
            if "institution" in entry and "institution_id" in entry and entry["institution"] != entry["institution_id"]:
                diffs.append(f"amendments[{n}].institution_id: record has {entry['institution_id']!r}, "
                             f"but institution is {entry['institution']!r}")
            try:
                k, replacement = amender.replacement(t, replaced)
            except DrawError as exc:
                diffs.append(f"amendments[{n}]: cannot be recomputed: {exc.message}")
                break
            if "number" in entry and entry["number"] != k:
                diffs.append(_diff(f"amendments[{n}].number", entry["number"], k))
            if entry["replacement"] != replacement:
                diffs.append(_diff(f"amendments[{n}].replacement", entry["replacement"], replacement))
            amender.apply(t, replaced, replacement)

    if len(diffs) > MAX_DIFFERENCES:
        rest = len(diffs) - MAX_DIFFERENCES
        diffs = diffs[:MAX_DIFFERENCES] + [f"... and {rest} more differences"]
    return diffs


# --------------------------------------------------------------------------- command line (the public verifier)

def main(argv: list[str] | None = None) -> int:
    """``verify.py record.json``: 0 and ``OK`` when everything matches; 1 and the first differing field
    (``result.teams.inst00012[1]: record has 'x', recomputed 'y'``) when not; 2 when the file cannot be
    read or is not a dr1 record.  ``-`` reads standard input; ``--all`` prints every difference."""
    parser = argparse.ArgumentParser(
        description="验证 dr1 双随机抽取记录：重新计算承诺值、种子、抽中对象、检查组与调整记录。")
    parser.add_argument("record", help="抽取记录 JSON 文件（- 表示从标准输入读取）")
    parser.add_argument("--all", action="store_true", help="列出全部不一致之处，而不只是第一处")
    args = parser.parse_args(argv)
    try:
        if args.record == "-":
            text = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(args.record, encoding="utf-8") as fh:
                text = fh.read()
        record = json.loads(text)
    except OSError as exc:
        print(f"无法读取记录文件：{exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, ValueError) as exc:
        print(f"记录不是有效的 UTF-8 JSON：{exc}", file=sys.stderr)
        return 2
    try:
        differences = verify(record)
    except RecordError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except DrawError as exc:  # not expected: verify reports these as differences
        print(exc.message, file=sys.stderr)
        return 1
    if not differences:
        print("OK")
        return 0
    if args.all:
        for line in differences:
            print(line)
    else:
        print(differences[0])
        if len(differences) > 1:
            print(f"（另有 {len(differences) - 1} 处不一致，加 --all 查看全部）", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
