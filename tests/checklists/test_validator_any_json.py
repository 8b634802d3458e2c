"""The checklist and questionnaire validators answer any JSON document with problems, never an exception.

An upload is checked by these validators before anything else reads it, so a value of an unexpected shape
anywhere in it (an object where a code belongs, a list where a number does) must come back as a problem
naming its path; an exception there is a 500 to the office uploading it.  Each example starts from a shipped
document and replaces a few of its values, at any depth, with arbitrary JSON.
"""

from __future__ import annotations

import copy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklists import questionnaires, validator
from checklists.loader import load_file

DATA = Path(validator.__file__).resolve().parent / "data"
CHECKLIST = load_file(DATA / "DB37T4086-2020.yaml")
QUESTIONNAIRE = questionnaires.load_questionnaire(DATA / "questionnaires" / "SURVEY-INST.yaml")

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8) | st.sampled_from(["excellent", "critical", "on_site", "nursing_home", "1", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _paths(node, path=()):
    """Every path (tuple of keys and indexes) in a JSON document, the root included."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _replace(document, path, value):
    if not path:
        return value
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


@st.composite
def mutated(draw, original):
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(document))
        # Favour deep paths (most of a checklist is its items), but reach every level.
        path = draw(st.sampled_from(paths))
        document = _replace(document, path, draw(JSON))
    return document


@SETTINGS
@given(mutated(CHECKLIST))
def test_checklist_validator_answers_any_json_with_problems(document):
    problems = validator.validate(document, "upload")
    assert isinstance(problems, list)


@SETTINGS
@given(mutated(QUESTIONNAIRE))
def test_questionnaire_validator_answers_any_json_with_problems(document):
    problems = questionnaires.validate(document, "upload")
    assert isinstance(problems, list)


def test_the_reported_shapes():
    """The two documents the fuzzer found: an object as a band's code, an object as a questionnaire kind."""
    checklist = copy.deepcopy(CHECKLIST)
    checklist["bands"][0]["code"] = {}
    assert any(p.path == "bands[0].code" for p in validator.validate(checklist, "upload"))
    questionnaire = copy.deepcopy(QUESTIONNAIRE)
    questionnaire["kinds"] = [{}]
    assert any(p.path.startswith("kinds") for p in questionnaires.validate(questionnaire, "upload"))
