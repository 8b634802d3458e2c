"""dr1 against a naive reference written straight from DESIGN §5, plus properties of draws and amendments.

The reference scans every inspector for every slot; the engine bisects per load
level.  Both are run on random small snapshots (hypothesis), once with the real
sha256 uniforms and once with a rigged ``u`` that only takes a few values
(exact ties of ``b``, of keys and of distances after rounding, values next to
0 and 1) so that the tie rules are exercised.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_api.draws import dr1

SEED = hashlib.sha256(b"property tests").hexdigest()
REGIONS = ("370102", "370103", "370104")
DEPARTMENTS = ("health", "civil_affairs")


# --------------------------------------------------------------------------- the naive reference

def real_u(seed: str, label: str) -> float:
    return (int.from_bytes(hashlib.sha256((seed + ":" + label).encode()).digest()[:8], "big") + 0.5) / 2 ** 64


# values chosen so that b's, keys and distances tie (also across the wrap, after rounding)
RIGGED = (0.5 / 2 ** 64, 1e-17, 0.25, 0.5, 0.5 + 2 ** -53, 0.75, 1 - 2 ** -53, 1.0)


def rigged_u(seed: str, label: str) -> float:
    return RIGGED[int(real_u(seed, label) * len(RIGGED)) % len(RIGGED)]


class NaiveUnfillable(Exception):
    def __init__(self, institution: str, slot: int):
        super().__init__(institution, slot)
        self.institution, self.slot = institution, slot


def naive_draw(params, snapshot, seed, u=real_u):
    insts = snapshot["institutions"]
    sizes, mandatory = {}, {}
    for i in insts:
        sizes[i["stratum"]] = sizes.get(i["stratum"], 0) + 1
        mandatory[i["stratum"]] = mandatory.get(i["stratum"], 0) + (1 if i["mandatory"] else 0)
    big_n = len(insts)
    n = params["count"] if params["count"] is not None else math.ceil(Decimal(params["ratio"]) * big_n)
    n = min(n, big_n)
    quotas = {s: Fraction(n * sizes[s], big_n) for s in sizes}
    alloc = {s: math.floor(q) for s, q in quotas.items()}
    left = n - sum(alloc.values())
    for s in sorted(sizes, key=lambda s: (-(quotas[s] - math.floor(quotas[s])), s))[:left]:
        alloc[s] += 1
    for s in alloc:
        alloc[s] = max(alloc[s], min(params["min_per_stratum"], sizes[s]), mandatory[s])
    key = {i["id"]: math.log(u(seed, "target:" + i["id"])) / float(i["weight"]) for i in insts}
    selected = []
    for s in sizes:
        members = [i for i in insts if i["stratum"] == s]
        chosen = [i["id"] for i in members if i["mandatory"]]
        rest = sorted((i["id"] for i in members if not i["mandatory"]), key=lambda x: (-key[x], x))
        chosen += rest[:alloc[s] - len(chosen)]
        selected += chosen
    targets = sorted(selected, key=lambda x: (-key[x], x))

    people = snapshot["inspectors"]
    load = {x["id"]: x["load"] for x in people}
    b = {x["id"]: u(seed, "inspector:" + x["id"]) for x in people}
    conflicts = {tuple(p) for p in snapshot["conflicts"]}
    region_of = {i["id"]: i["region"] for i in insts}
    req = params["required_departments"]
    teams = {}
    for t in targets:
        team = []
        for j in range(params["team_size"]):
            a = u(seed, f"team:{t}:{j}")
            eligible = [x for x in people
                        if load[x["id"]] < x["load_cap"]
                        and (x["id"], t) not in conflicts
                        and not (params["cross_region"] and x["region"] == region_of[t])
                        and not (params["no_repeat_lead"] and snapshot["previous_leads"].get(t) == x["id"])
                        and x["id"] not in team
                        and (j >= len(req) or x["department"] == req[j])]
            if not eligible:
                raise NaiveUnfillable(t, j)
            best = min(eligible, key=lambda x: (load[x["id"]], (b[x["id"]] - a) % 1.0, x["id"]))
            team.append(best["id"])
        for x in team:
            load[x] += 1
        teams[t] = team
    return {"targets": targets, "teams": teams}, alloc, load


def naive_amendments(params, snapshot, seed, teams, requests, u=real_u):
    """Step 9 straight from DESIGN §5: [(institution, replaced)] → list of entries (or a failure).

    "From the eligible inspectors not already in that team": only current
    members are excluded; a member replaced earlier may be drawn back.
    """
    people = {x["id"]: x for x in snapshot["inspectors"]}
    load = {x: p["load"] for x, p in people.items()}
    for team in teams.values():
        for x in team:
            load[x] += 1
    teams = {t: list(v) for t, v in teams.items()}
    numbers = {}
    conflicts = {tuple(p) for p in snapshot["conflicts"]}
    region_of = {i["id"]: i["region"] for i in snapshot["institutions"]}
    b = {x: u(seed, "inspector:" + x) for x in people}
    req = params["required_departments"]
    out = []
    for t, old in requests:
        k = numbers.get(t, 0) + 1
        pos = teams[t].index(old)
        a = u(seed, f"replace:{t}:{k}")
        eligible = [x for x, p in people.items()
                    if load[x] < p["load_cap"] and (x, t) not in conflicts
                    and not (params["cross_region"] and p["region"] == region_of[t])
                    and not (params["no_repeat_lead"] and snapshot["previous_leads"].get(t) == x)
                    and x not in teams[t]
                    and (pos >= len(req) or p["department"] == req[pos])]
        if not eligible:
            out.append(None)
            return out
        new = min(eligible, key=lambda x: (load[x], (b[x] - a) % 1.0, x))
        teams[t][pos] = new
        numbers[t] = k
        load[old] -= 1
        load[new] += 1
        out.append({"institution": t, "number": k, "replaced": old, "replacement": new})
    return out


# --------------------------------------------------------------------------- strategies

WEIGHTS = ("0.000001", "0.500000", "1.000000", "1.000000", "2.500000", "10.000000")
RATIOS = ("0.000000", "0.100000", "0.333333", "0.500000", "1.000000")


@st.composite
def cases(draw, max_institutions=30, max_inspectors=14):
    n_inst = draw(st.integers(0, max_institutions))
    insts = [{"id": f"i{n:03d}", "region": draw(st.sampled_from(REGIONS)),
              "stratum": draw(st.sampled_from(("a", "b", "c", "d"))),
              "weight": draw(st.sampled_from(WEIGHTS)),
              "mandatory": draw(st.integers(0, 9)) == 0} for n in range(n_inst)]
    for inst in insts:
        if draw(st.booleans()):
            inst["stratum"] = inst["region"]
    roomy = draw(st.booleans())  # half of the cases have enough capacity for most draws to succeed
    n_insp = draw(st.integers(6 if roomy else 0, max_inspectors))
    people = [{"id": f"x{n:02d}", "department": draw(st.sampled_from(DEPARTMENTS)),
               "region": draw(st.sampled_from(REGIONS)), "load": draw(st.integers(0, 2 if roomy else 3)),
               "load_cap": draw(st.integers(3, 20) if roomy else st.integers(0, 6))} for n in range(n_insp)]
    conflicts = []
    if insts and people:
        conflicts = draw(st.lists(st.tuples(st.sampled_from([x["id"] for x in people]),
                                            st.sampled_from([i["id"] for i in insts])).map(list), max_size=25))
    leads = {}
    if insts and people:
        leads = draw(st.dictionaries(st.sampled_from([i["id"] for i in insts]),
                                     st.sampled_from([x["id"] for x in people]), max_size=10))
    size = draw(st.integers(2, 3))
    use_count = draw(st.booleans())
    params = {"ratio": None if use_count else draw(st.sampled_from(RATIOS)),
              "count": draw(st.integers(0, 40)) if use_count else None,
              "min_per_stratum": draw(st.integers(0, 3)), "team_size": size,
              "required_departments": draw(st.lists(st.sampled_from(DEPARTMENTS), max_size=size)),
              "cross_region": draw(st.booleans()), "no_repeat_lead": draw(st.booleans())}
    snapshot = {"institutions": insts, "inspectors": people, "conflicts": conflicts, "previous_leads": leads}
    seed = draw(st.sampled_from((SEED, hashlib.sha256(b"other").hexdigest(), "f" * 64)))
    return params, snapshot, seed


def run_both(params, snapshot, seed, u=real_u):
    """(engine result or DrawError, naive result or NaiveUnfillable)."""
    try:
        fast = dr1.draw(params, snapshot, seed)
    except dr1.DrawError as exc:
        fast = exc
    try:
        slow = naive_draw(params, snapshot, seed, u)
    except NaiveUnfillable as exc:
        slow = exc
    return fast, slow


def assert_same(fast, slow):
    if isinstance(slow, NaiveUnfillable):
        assert isinstance(fast, dr1.DrawError), f"naive failed at {slow.institution}/{slow.slot}, engine drew"
        assert (fast.institution_id, fast.slot, fast.code) == (slow.institution, slow.slot, "TEAM_UNFILLABLE")
        assert fast.institution_id in fast.message
    else:
        assert not isinstance(fast, dr1.DrawError), fast
        assert fast["targets"] == slow[0]["targets"]
        assert fast["teams"] == slow[0]["teams"]


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cases())
def test_engine_equals_naive_reference(case):
    params, snapshot, seed = case
    assert_same(*run_both(params, snapshot, seed))


def rigged(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(dr1, "uniform", rigged_u)
    mp.setattr(dr1, "_uniforms", lambda seed, prefix, labels: [rigged_u(seed, prefix + x) for x in labels])


@FAST
@given(cases())
def test_engine_equals_naive_reference_with_rigged_ties(case):
    params, snapshot, seed = case
    with pytest.MonkeyPatch.context() as mp:
        rigged(mp)
        assert_same(*run_both(params, snapshot, seed, rigged_u))


@settings(max_examples=150, deadline=None)
@given(cases(max_institutions=60, max_inspectors=25))
def test_amendments_equal_naive_reference_and_verify(case):
    params, snapshot, seed = case
    record = {"algorithm": "dr1", "params": params, "snapshot": snapshot, "nonce": seed,
              "public_entropy": "2026-11-22 见证人 张伟"}
    record["commitment"] = dr1.make_commitment(params, snapshot, record["nonce"])
    record["seed"] = dr1.make_seed(record["commitment"], record["public_entropy"])
    try:
        record["result"] = result = dr1.draw(params, snapshot, record["seed"])
    except dr1.DrawError:
        return
    rnd = random.Random(record["seed"])
    record["amendments"] = []
    teams = {t: list(v) for t, v in result["teams"].items()}
    requests = []
    for _ in range(rnd.randint(0, 4) if teams else 0):
        t = rnd.choice(sorted(teams))
        old = rnd.choice(teams[t])
        requests.append((t, old))
        expected = naive_amendments(params, snapshot, record["seed"], result["teams"], requests)
        try:
            entry = dr1.amend(record, t, old)
        except dr1.DrawError as exc:
            assert expected[-1] is None
            assert exc.code == "TEAM_UNFILLABLE" and exc.institution_id == t and t in exc.message
            break
        assert {k: entry[k] for k in ("institution", "number", "replaced", "replacement")} == expected[-1]
        assert entry["institution_id"] == t
        record["amendments"].append(dict(entry, reason="因病请假", at="2026-11-23T09:00:00+08:00"))
        teams[t][teams[t].index(old)] = entry["replacement"]
        assert dr1.verify(record) == []
    if record["amendments"]:
        forged = copy.deepcopy(record)
        last = forged["amendments"][-1]
        others = [x["id"] for x in snapshot["inspectors"] if x["id"] != last["replacement"]]
        if others:
            last["replacement"] = others[0]
            diffs = dr1.verify(forged)
            assert any(d.startswith(f"amendments[{len(forged['amendments']) - 1}].replacement") for d in diffs)


# --------------------------------------------------------------------------- properties of the engine

def _shuffled(snapshot, rnd):
    snap = copy.deepcopy(snapshot)
    for key in ("institutions", "inspectors", "conflicts"):
        rnd.shuffle(snap[key])
    snap["previous_leads"] = dict(sorted(snap["previous_leads"].items(), key=lambda _: rnd.random()))
    snap["conflicts"] = snap["conflicts"] + snap["conflicts"][:3]  # duplicates change nothing either
    return snap


@settings(max_examples=120, deadline=None)
@given(cases(max_institutions=60, max_inspectors=25), st.randoms(use_true_random=False))
def test_same_inputs_same_result_and_order_does_not_matter(case, rnd):
    params, snapshot, seed = case
    first, _ = run_both(params, snapshot, seed)
    again, _ = run_both(params, copy.deepcopy(snapshot), seed)
    shuffled, _ = run_both(params, _shuffled(snapshot, rnd), seed)
    for other in (again, shuffled):
        if isinstance(first, dr1.DrawError):
            assert isinstance(other, dr1.DrawError)
            assert (other.institution_id, other.slot, other.counts) == (first.institution_id, first.slot,
                                                                         first.counts)
        else:
            assert other == first and list(other["teams"]) == list(first["teams"])


@settings(max_examples=120, deadline=None)
@given(cases(max_institutions=60, max_inspectors=25))
def test_teams_respect_every_rule(case):
    params, snapshot, seed = case
    try:
        result = dr1.draw(params, snapshot, seed)
    except dr1.DrawError:
        return
    people = {x["id"]: x for x in snapshot["inspectors"]}
    conflicts = {tuple(p) for p in snapshot["conflicts"]}
    region_of = {i["id"]: i["region"] for i in snapshot["institutions"]}
    assert list(result["teams"]) == result["targets"]
    assert len(set(result["targets"])) == len(result["targets"])
    added = {}
    for t, team in result["teams"].items():
        assert len(team) == params["team_size"] == len(set(team))
        for j, dept in enumerate(params["required_departments"]):
            assert people[team[j]]["department"] == dept
        for x in team:
            assert (x, t) not in conflicts
            if params["cross_region"]:
                assert people[x]["region"] != region_of[t]
            if params["no_repeat_lead"]:
                assert snapshot["previous_leads"].get(t) != x
            added[x] = added.get(x, 0) + 1
    for x, n in added.items():
        assert people[x]["load"] + n <= people[x]["load_cap"]


@settings(max_examples=120, deadline=None)
@given(cases(max_institutions=60, max_inspectors=25))
def test_targets_follow_the_allocation(case):
    params, snapshot, seed = case
    targets = dr1.select_targets(params, snapshot, seed)
    insts = {i["id"]: i for i in snapshot["institutions"]}
    per = {}
    for t in targets:
        per[insts[t]["stratum"]] = per.get(insts[t]["stratum"], 0) + 1
    sizes, mandatory = {}, {}
    for i in snapshot["institutions"]:
        sizes[i["stratum"]] = sizes.get(i["stratum"], 0) + 1
        mandatory[i["stratum"]] = mandatory.get(i["stratum"], 0) + i["mandatory"]
    n = dr1.sample_size(params, len(insts))
    base = dr1.allocate(sizes, n)
    final = dr1.allocate(sizes, n, params["min_per_stratum"], mandatory)
    assert sum(base.values()) == n
    raises = sum(final[s] - base[s] for s in sizes)
    assert len(targets) == sum(final.values()) == n + raises
    assert {s: per.get(s, 0) for s in sizes} == final
    for s in sizes:
        assert abs(Fraction(n * sizes[s], len(insts)) - base[s]) < 1
        assert final[s] <= sizes[s]
        assert final[s] >= min(params["min_per_stratum"], sizes[s]) and final[s] >= mandatory[s]
    assert all(insts[i]["id"] in targets for i in insts if insts[i]["mandatory"])


# --------------------------------------------------------------------------- examples

def test_allocation_examples():
    # q = 1.5, 1.5, 2.0: floors 1, 1, 2; the one left over goes to the tie's smaller stratum
    assert dr1.allocate({"b": 3, "a": 3, "c": 4}, 5) == {"a": 2, "b": 1, "c": 2}
    # q = 0.3, 0.3, 0.4 of n=1: the largest remainder wins
    assert dr1.allocate({"a": 3, "b": 3, "c": 4}, 1) == {"a": 0, "b": 0, "c": 1}
    # raises: min_per_stratum (bounded by the stratum size) and mandatory candidates
    assert dr1.allocate({"a": 3, "b": 1, "c": 96}, 10, 2, {"c": 0, "a": 3}) == {"a": 3, "b": 1, "c": 10}
    assert dr1.allocate({"a": 3}, 99) == {"a": 3}
    assert dr1.allocate({}, 5) == {}
    assert dr1.sample_size({"ratio": "0.100000", "count": None}, 101) == 11  # ceil(10.1)
    assert dr1.sample_size({"ratio": "0.100000", "count": None}, 100) == 10  # exact, no float drift
    assert dr1.sample_size({"ratio": None, "count": 7}, 5) == 5


def _case(people, insts=None, **params):
    insts = insts or [{"id": "t1", "region": "370102", "stratum": "s", "weight": "1.000000", "mandatory": True}]
    base = {"ratio": "0.000000", "count": None, "min_per_stratum": 0, "team_size": 2, "required_departments": [],
            "cross_region": False, "no_repeat_lead": False}
    base.update(params)
    snapshot = {"institutions": insts, "inspectors": people, "conflicts": [], "previous_leads": {}}
    return base, snapshot


def _person(xid, dept="health", region="370103", load=0, cap=5):
    return {"id": xid, "department": dept, "region": region, "load": load, "load_cap": cap}


def test_equal_distances_across_the_wrap_go_to_the_smaller_id(monkeypatch):
    """b = 1.0 and b = 1e-17 are both at distance 0.75 from a = 0.25 in doubles: smaller id wins."""
    points = {"inspector:xb": 1.0, "inspector:xa": 1e-17, "inspector:xc": 0.9, "team:t1:0": 0.25,
              "team:t1:1": 0.25, "target:t1": 0.5}
    assert (1.0 - 0.25) % 1.0 == (1e-17 - 0.25) % 1.0 == 0.75
    fake = lambda seed, label: points[label]  # noqa: E731
    monkeypatch.setattr(dr1, "uniform", fake)
    monkeypatch.setattr(dr1, "_uniforms", lambda seed, prefix, labels: [fake(seed, prefix + x) for x in labels])
    params, snapshot = _case([_person("xb"), _person("xa"), _person("xc", load=1)])
    # slot 0: xb (first on the walk) ties with xa (after the wrap); xa wins. Slot 1: xb; xc has a higher load.
    assert dr1.draw(params, snapshot, SEED)["teams"] == {"t1": ["xa", "xb"]}
    assert naive_draw(params, snapshot, SEED, fake)[0]["teams"] == {"t1": ["xa", "xb"]}


def test_lower_load_beats_distance(monkeypatch):
    points = {"inspector:x1": 0.30, "inspector:x2": 0.31, "inspector:x3": 0.9, "team:t1:0": 0.3,
              "team:t1:1": 0.3, "target:t1": 0.5}
    fake = lambda seed, label: points[label]  # noqa: E731
    monkeypatch.setattr(dr1, "uniform", fake)
    monkeypatch.setattr(dr1, "_uniforms", lambda seed, prefix, labels: [fake(seed, prefix + x) for x in labels])
    params, snapshot = _case([_person("x1", load=2), _person("x2", load=1), _person("x3", load=1)])
    assert dr1.draw(params, snapshot, SEED)["teams"] == {"t1": ["x2", "x3"]}


def test_all_local_inspectors_recused_names_the_institution():
    people = [_person(f"x{n}", region="370102") for n in range(3)] + [_person("x9", region="370103", cap=0)]
    params, snapshot = _case(people, cross_region=False)
    snapshot["conflicts"] = [[f"x{n}", "t1"] for n in range(3)]
    with pytest.raises(dr1.DrawError) as info:
        dr1.draw(params, snapshot, SEED)
    exc = info.value
    assert exc.code == "TEAM_UNFILLABLE" and exc.institution_id == "t1" and exc.slot == 0
    assert exc.counts == {"total": 4, "department": 0, "in_team": 0, "load_cap": 1, "conflict": 3,
                          "same_region": 0, "previous_lead": 0}
    assert "机构 t1 无法组队" in exc.message and "需回避（利益冲突） 3 名" in exc.message
    assert str(exc) == exc.message


def test_unfillable_second_slot_counts_every_reason():
    people = [_person("h1", region="370103"), _person("c1", dept="civil_affairs", region="370102"),
              _person("c2", dept="civil_affairs", region="370103", load=4, cap=4),
              _person("c3", dept="civil_affairs", region="370104")]
    params, snapshot = _case(people, required_departments=["health", "civil_affairs"], cross_region=True,
                             no_repeat_lead=True)
    snapshot["previous_leads"] = {"t1": "c3"}
    with pytest.raises(dr1.DrawError) as info:
        dr1.draw(params, snapshot, SEED)
    exc = info.value
    assert (exc.institution_id, exc.slot) == ("t1", 1)
    assert exc.counts == {"total": 4, "department": 1, "in_team": 0, "load_cap": 1, "conflict": 0,
                          "same_region": 1, "previous_lead": 1}
    assert "第 2 个席位（须为 civil_affairs 部门）" in exc.message


def test_no_inspectors_at_all_fails_on_the_first_target():
    params, snapshot = _case([])
    with pytest.raises(dr1.DrawError) as info:
        dr1.draw(params, snapshot, SEED)
    assert info.value.institution_id == "t1" and info.value.counts["total"] == 0


def test_amend_refuses_unknown_institution_and_non_member():
    people = [_person(f"x{n}") for n in range(4)]
    params, snapshot = _case(people)
    record = {"params": params, "snapshot": snapshot, "seed": SEED}
    record["result"] = dr1.draw(params, snapshot, SEED)
    with pytest.raises(dr1.DrawError) as info:
        dr1.amend(record, "t404", "x0")
    assert info.value.code == "AMEND_NOT_A_TARGET"
    outsider = next(x["id"] for x in people if x["id"] not in record["result"]["teams"]["t1"])
    with pytest.raises(dr1.DrawError) as info:
        dr1.amend(record, "t1", outsider)
    assert info.value.code == "AMEND_NOT_IN_TEAM"


def test_amendment_numbers_loads_and_former_members():
    """k counts per institution; only current members are excluded (DESIGN §5 step 9, literally)."""
    people = [_person(f"x{n}") for n in range(4)]
    insts = [{"id": f"t{n}", "region": "370102", "stratum": "s", "weight": "1.000000", "mandatory": True}
             for n in range(2)]
    params, snapshot = _case(people, insts)
    record = {"params": params, "snapshot": snapshot, "seed": SEED, "amendments": []}
    record["result"] = dr1.draw(params, snapshot, SEED)
    team = list(record["result"]["teams"]["t0"])
    first = dr1.amend(record, "t0", team[1])
    assert first["number"] == 1 and first["replacement"] not in team
    record["amendments"].append(dict(first, reason="因病请假"))
    other = dr1.amend(record, "t1", record["result"]["teams"]["t1"][0])
    assert other["number"] == 1
    second = dr1.amend(record, "t0", first["replacement"])
    assert second["number"] == 2 and second["replacement"] not in (team[0], first["replacement"])


def test_a_member_replaced_earlier_may_be_drawn_back_into_the_team():
    """Three inspectors, one team of two: the second replacement can only be the member replaced first.

    DESIGN §5 step 9 fills the slot "from the eligible inspectors not already in
    that team"; the member replaced by amendment 1 is not in the team any more.
    """
    people = [_person(f"x{n}") for n in range(3)]
    params, snapshot = _case(people)
    record = {"params": params, "snapshot": snapshot, "seed": SEED, "amendments": []}
    record["result"] = dr1.draw(params, snapshot, SEED)
    lead, member = record["result"]["teams"]["t1"]
    spare = next(x["id"] for x in people if x["id"] not in (lead, member))
    first = dr1.amend(record, "t1", member)
    assert first["replacement"] == spare
    record["amendments"].append(dict(first, reason="因病请假"))
    second = dr1.amend(record, "t1", spare)
    assert second == {"institution": "t1", "institution_id": "t1", "number": 2, "replaced": spare,
                      "replacement": member}
    record["amendments"].append(dict(second, reason="新发现利益冲突"))
    assert naive_amendments(params, snapshot, SEED, record["result"]["teams"], [("t1", member), ("t1", spare)]) == [
        {"institution": "t1", "number": 1, "replaced": member, "replacement": spare},
        {"institution": "t1", "number": 2, "replaced": spare, "replacement": member}]

    # with only the current members left, the slot cannot be filled
    params, snapshot = _case(people[:2] + [_person("x9", cap=0)])
    record = {"params": params, "snapshot": snapshot, "seed": SEED,
              "result": dr1.draw(params, snapshot, SEED)}
    with pytest.raises(dr1.DrawError) as info:
        dr1.amend(record, "t1", record["result"]["teams"]["t1"][1])
    assert info.value.code == "TEAM_UNFILLABLE" and "无法调整检查组" in info.value.message
    assert info.value.counts["in_team"] == 2 and info.value.counts["load_cap"] == 1


# --------------------------------------------------------------------------- shape validation

def _valid():
    return _case([_person("x1"), _person("x2")])


@pytest.mark.parametrize("mutate, field", [
    (lambda p, s: p.update(ratio="0.1"), "params.ratio"),
    (lambda p, s: p.update(ratio=0.1), "params.ratio"),
    (lambda p, s: p.update(ratio="1.500000"), "params.ratio"),
    (lambda p, s: p.update(ratio=None, count=None), "params.ratio"),
    (lambda p, s: p.update(ratio=None, count=-1), "params.count"),
    (lambda p, s: p.update(count=True), "params.count"),
    (lambda p, s: p.update(team_size=1), "params.team_size"),
    (lambda p, s: p.update(min_per_stratum=-1), "params.min_per_stratum"),
    (lambda p, s: p.update(required_departments=["health"] * 3), "params.required_departments"),
    (lambda p, s: p.update(required_departments="health"), "params.required_departments"),
    (lambda p, s: p.update(cross_region="yes"), "params.cross_region"),
    (lambda p, s: p.pop("no_repeat_lead"), "params.no_repeat_lead"),
    (lambda p, s: s["institutions"][0].update(weight="0.000000"), "snapshot.institutions[0].weight"),
    (lambda p, s: s["institutions"][0].update(weight="1.5"), "snapshot.institutions[0].weight"),
    (lambda p, s: s["institutions"][0].update(weight=1.5), "snapshot.institutions[0].weight"),
    (lambda p, s: s["institutions"][0].update(weight="-1.000000"), "snapshot.institutions[0].weight"),
    (lambda p, s: s["institutions"][0].update(mandatory=1), "snapshot.institutions[0].mandatory"),
    (lambda p, s: s["institutions"][0].pop("stratum"), "snapshot.institutions[0]"),
    (lambda p, s: s["institutions"].append(dict(s["institutions"][0])), "snapshot.institutions[1].id"),
    (lambda p, s: s["inspectors"][1].update(id="x1"), "snapshot.inspectors[1].id"),
    (lambda p, s: s["inspectors"][0].update(load=-1), "snapshot.inspectors[0].load"),
    (lambda p, s: s["inspectors"][0].update(load_cap="25"), "snapshot.inspectors[0].load_cap"),
    (lambda p, s: s["conflicts"].append(["x1"]), "snapshot.conflicts[0]"),
    (lambda p, s: s.update(previous_leads=[]), "snapshot.previous_leads"),
    (lambda p, s: s.pop("conflicts"), "snapshot.conflicts"),
])
def test_bad_shapes_raise_record_error_naming_the_field(mutate, field):
    params, snapshot = _valid()
    mutate(params, snapshot)
    with pytest.raises(dr1.RecordError) as info:
        dr1.draw(params, snapshot, SEED)
    assert info.value.field == field
    assert field in str(info.value) and str(info.value).startswith("记录格式错误")


def test_valid_shapes_pass():
    params, snapshot = _valid()
    params.update(ratio="1.000000", required_departments=["health", "health"])
    assert dr1.draw(params, snapshot, SEED)["teams"]["t1"] in (["x1", "x2"], ["x2", "x1"])
    params.update(ratio=None, count=0)
    assert dr1.draw(params, snapshot, SEED)["targets"] == ["t1"]  # mandatory raises the allocation


def test_b_of_one_is_at_distance_zero_from_a_tiny_start(monkeypatch):
    """u() can round to 1.0; for a <= 2**-54, (1.0 - a) % 1.0 == 0.0: b = 1.0 is then the nearest point."""
    tiny = 0.5 / 2 ** 64
    assert (1.0 - tiny) % 1.0 == 0.0 and (0.75 - tiny) % 1.0 == 0.75
    points = {"inspector:xa": 0.75, "inspector:xb": 1.0, "inspector:xc": 0.5, "team:t1:0": 0.5,
              "team:t1:1": tiny, "target:t1": 0.5}
    fake = lambda seed, label: points[label]  # noqa: E731
    monkeypatch.setattr(dr1, "uniform", fake)
    monkeypatch.setattr(dr1, "_uniforms", lambda seed, prefix, labels: [fake(seed, prefix + x) for x in labels])
    params, snapshot = _case([_person("xa"), _person("xb"), _person("xc")])
    assert dr1.draw(params, snapshot, SEED)["teams"] == {"t1": ["xc", "xb"]}
    assert naive_draw(params, snapshot, SEED, fake)[0]["teams"] == {"t1": ["xc", "xb"]}
