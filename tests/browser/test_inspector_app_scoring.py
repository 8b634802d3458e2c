"""The app's provisional score is the server's: the JS port of the scoring engine against checklists/scoring.py.

Hypothesis generates valid checklists (points with two decimals, random bands,
veto, 不适用 and kind rules, repeatable deductions) and response sets (valid and
not: unknown items and codes, repeats, bad results, shorthand strings), plus
random answers to the two shipped checklists; each case is scored by the Python
engine and by ``static/scoring.js`` in headless Chromium, and the results
(score to the cent, grade, findings, problems with their messages) must agree.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checklists import validate
from checklists.errors import ScoringError
from checklists.loader import load_checklist
from checklists.scoring import score
from checklists.spec import KINDS
from tests.browser.inspector_app import Phone, app_server  # noqa: F401 - fixture

SHIPPED = [load_checklist(p) for p in sorted((Path(__file__).resolve().parents[2] / "checklists" / "data").glob("*.yaml"))]
KIND_CODES = sorted(KINDS)


@pytest.fixture(scope="module")
def engine_page(app_server):
    phone = Phone("scoring", app_server.base)
    phone.driver.get(app_server.base + "/healthz")
    phone.js_async("""const done = arguments[arguments.length - 1];
        import('/app/static/scoring.js').then((m) => { window.__scoring = m; done(true); });""")
    yield phone
    phone.cleanup()




JS_BATCH = """const done = arguments[arguments.length - 1];
const m = window.__scoring;
done(JSON.stringify(JSON.parse(arguments[0]).map(([checklist, responses, kind]) => {
  try {
    const r = m.score(checklist, responses, kind);
    return {ok: true, score: r.score, earned: r.earned, applicable_max: r.applicable_max, grade: r.grade,
      grade_name: r.grade_name, veto_failed: r.veto_failed, not_applicable: r.not_applicable,
      findings: r.findings.map((f) => [f.item_id, f.section_id, f.result, f.points_lost, f.item_points, f.severity,
        f.deadline_working_days, f.reinspection, f.veto, f.deductions.map((d) => [d.code, d.points, d.count])])};
  } catch (e) {
    if (!(e instanceof m.ScoringError)) return {crash: String(e)};
    return {ok: false, problems: e.problems.map((p) => [p.code, p.item, p.message_zh])};
  }
})));"""


def cents(value: Decimal) -> int:
    return int(value * 100)


def python_result(checklist, responses, kind) -> dict:
    try:
        r = score(checklist, responses, kind=kind)
    except ScoringError as exc:
        return {"ok": False, "problems": [[p["code"], p["item"], p["message_zh"]] for p in exc.problems]}
    return {"ok": True, "score": cents(r.score), "earned": cents(r.earned), "applicable_max": cents(r.applicable_max),
            "grade": r.grade, "grade_name": r.grade_name, "veto_failed": list(r.veto_failed),
            "not_applicable": list(r.not_applicable),
            "findings": [[f.item_id, f.section_id, f.result, cents(f.points_lost), cents(f.item_points), f.severity,
                          f.deadline_working_days, f.reinspection, f.veto,
                          [[d.code, cents(d.points), d.count] for d in f.deductions]] for f in r.findings]}


def number(c: int):
    """Hundredths as the number a checklist file holds (an int when whole)."""
    return c // 100 if c % 100 == 0 else float(Decimal(c) / 100)


@st.composite
def checklists(draw):
    n_items = draw(st.integers(1, 9))
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=n_items - 1, max_size=n_items - 1, unique=True)))
    points = [b - a for a, b in zip([0, *cuts], [*cuts, 10000])]
    kinds = draw(st.lists(st.sampled_from(KIND_CODES), min_size=1, max_size=5, unique=True))
    n_sections = draw(st.integers(1, min(3, n_items)))
    sections = [{"id": f"S{s}", "title": f"第{s}部分", "points": 0, "items": []} for s in range(n_sections)]
    for k, p in enumerate(points):
        veto = draw(st.booleans()) and draw(st.booleans())
        deductions = []
        for code in "abc"[:draw(st.integers(0, 3))]:
            deductions.append({"code": code, "text": f"扣分情形{code}", "points": number(draw(st.integers(1, p))),
                               "repeatable": draw(st.booleans())})
        item = {"id": f"I-{k}", "text": f"检查项目{k}", "clause": "基本要求", "method": "on_site", "points": number(p),
                "severity": "critical" if veto else draw(st.sampled_from(["critical", "major", "minor"])),
                "deductions": deductions, "evidence": {"min_photos": 0, "documents": []}}
        if veto:
            item["veto"] = True
        if draw(st.booleans()):
            item["na_allowed"] = True
        if draw(st.integers(0, 3)) == 0:
            item["kinds"] = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=len(kinds), unique=True))
        section = sections[min(k * n_sections // n_items, n_sections - 1)]
        section["items"].append(item)
        section["points"] += p
    for section in sections:
        section["points"] = number(section["points"])
    edges = sorted(draw(st.lists(st.integers(1, 9999), max_size=3, unique=True)))
    names = ["不合格", "合格", "良好", "优秀"]
    grades = ["fail", "pass", "good", "excellent"]  # band codes are the grade codes (checklists.spec.GRADES)
    bounds = [0, *edges, 10000]
    bands = [{"code": grades[n], "name": names[n], "min": number(lo), "max": number(hi)}
             for n, (lo, hi) in enumerate(zip(bounds, bounds[1:]))]
    doc = {"code": "GEN-1", "title": "生成的检查表", "standard": {"code": "TEST", "title": "测试"}, "version": 1,
           "provenance": {"derived_from": "生成", "official_text_checked": False, "notes": "测试"}, "kinds": kinds, "points": 100,
           "bands": draw(st.permutations(bands)), "sections": sections,
           "deadlines": {s: {"working_days": d, "reinspection": s == "critical"}
                         for s, d in (("critical", 5), ("major", 15), ("minor", 30))}}
    assert validate(doc, "generated") == [], validate(doc, "generated")
    return doc


@st.composite
def answers(draw, checklist, valid_only=False):
    items = [item for section in checklist["sections"] for item in section["items"]]
    out = {}
    for item in items:
        if draw(st.integers(0, 9)) == 0 and not valid_only:
            continue
        codes = [d["code"] for d in item.get("deductions", [])]
        if valid_only:
            result = draw(st.sampled_from(["pass", "fail", "na"] + (["deduct"] if codes else [])))
            chosen = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=4)) if result == "deduct" else []
            if result == "deduct":
                chosen = [c for n, c in enumerate(chosen) if c not in chosen[:n] or
                          next(d for d in item["deductions"] if d["code"] == c).get("repeatable")]
            out[item["id"]] = {"result": result, "deductions": chosen}
            continue
        shape = draw(st.integers(0, 9))
        if shape == 0:
            out[item["id"]] = draw(st.sampled_from(["pass", "fail", "na"]))
            continue
        result = draw(st.sampled_from(["pass", "deduct", "fail", "na", "bogus", None]))
        chosen = draw(st.lists(st.sampled_from(codes + ["z"]), max_size=4)) if draw(st.booleans()) else []
        out[item["id"]] = {"result": result, "deductions": chosen, "note": "备注"}
    if draw(st.integers(0, 7)) == 0 and not valid_only:
        out["NO-SUCH-ITEM"] = "pass"
    return out


@st.composite
def cases(draw):
    if draw(st.integers(0, 3)) == 0:
        checklist = draw(st.sampled_from(SHIPPED))
    else:
        checklist = draw(checklists())
    responses = draw(answers(checklist, valid_only=draw(st.booleans())))
    kind = draw(st.one_of(st.none(), st.sampled_from(checklist["kinds"]), st.sampled_from(KIND_CODES)))
    return checklist, responses, kind


@settings(max_examples=120)
@given(batch=st.lists(cases(), min_size=1, max_size=8))
def test_js_engine_agrees_with_the_python_engine(engine_page, batch):
    expected = [python_result(*case) for case in batch]
    got = json.loads(engine_page.js_async(JS_BATCH, json.dumps(batch, ensure_ascii=False)))
    assert got == expected


def test_half_up_rounding_ties_agree(engine_page):
    """Scores that fall exactly on a half cent (e.g. 0.01 earned of 1.60 applicable = 0.625) round up in both."""
    cases, ties = [], 0
    for max_cents in (8, 16, 40, 160, 250, 625):
        other = 10000 - max_cents
        items = [{"id": "A", "text": "项", "clause": "c", "method": "on_site", "points": number(max_cents),
                  "severity": "minor", "deductions": [{"code": "a", "text": "每处", "points": 0.01, "repeatable": True}],
                  "evidence": {"min_photos": 0, "documents": []}},
                 {"id": "B", "text": "项", "clause": "c", "method": "on_site", "points": number(other),
                  "severity": "minor", "na_allowed": True, "deductions": [],
                  "evidence": {"min_photos": 0, "documents": []}}]
        doc = {"code": "TIE", "title": "进位", "standard": {"code": "T", "title": "T"}, "version": 1,
               "provenance": {"derived_from": "t", "official_text_checked": False, "notes": "t"},
               "kinds": ["combined"], "points": 100,
               "bands": [{"code": "fail", "name": "不合格", "min": 0, "max": 60.5},
                         {"code": "pass", "name": "合格", "min": 60.5, "max": 100}],
               "sections": [{"id": "S", "title": "部分", "points": 100, "items": items}],
               "deadlines": {s: {"working_days": 5, "reinspection": False} for s in ("critical", "major", "minor")}}
        assert validate(doc, "tie") == []
        for lost in range(1, max_cents):
            ties += (10000 * (max_cents - lost)) % max_cents * 2 == max_cents
            cases.append([doc, {"A": {"result": "deduct", "deductions": ["a"] * lost}, "B": "na"}, "combined"])
    assert ties > 10  # the cases do contain exact half-cent scores
    got = json.loads(engine_page.js_async(JS_BATCH, json.dumps(cases)))
    assert got == [python_result(*case) for case in cases]


def test_rounding_and_band_edges_agree(engine_page):
    """Hand-picked edges: half-up rounding at the third decimal, a score exactly on a band's min, the top band's 100."""
    base = {"code": "EDGE", "title": "边界", "standard": {"code": "T", "title": "T"}, "version": 1,
            "provenance": {"derived_from": "t", "official_text_checked": False, "notes": "t"}, "kinds": ["combined"], "points": 100,
            "bands": [{"code": "fail", "name": "不合格", "min": 0, "max": 60},
                      {"code": "pass", "name": "合格", "min": 60, "max": 100}],
            "deadlines": {s: {"working_days": 5, "reinspection": False} for s in ("critical", "major", "minor")}}
    for points in ([33.33, 33.33, 33.34], [0.01, 99.99], [40, 60], [99.99, 0.01], [12.5, 12.5, 75]):
        items = [{"id": f"E{k}", "text": "项", "clause": "c", "method": "on_site", "points": p, "severity": "minor",
                  "deductions": [{"code": "a", "text": "扣", "points": p, "repeatable": True}],
                  "evidence": {"min_photos": 0, "documents": []}} for k, p in enumerate(points)]
        doc = {**base, "sections": [{"id": "S", "title": "部分", "points": 100, "items": items}]}
        assert validate(doc, "edge") == []
        for failing in range(len(points) + 1):
            responses = {i["id"]: ("fail" if n < failing else "pass") for n, i in enumerate(items)}
            expected = python_result(doc, responses, "combined")
            got = json.loads(engine_page.js_async(JS_BATCH, json.dumps([[doc, responses, "combined"]])))
            assert got == [expected], (points, failing)
