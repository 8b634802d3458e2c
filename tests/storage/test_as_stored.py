"""``db.as_stored`` reads a stored document as the document built from it would, and the office's lists build
``InstitutionSchema``'s and ``InspectorSchema``'s dumps directly: the lists and the institutions' export must
answer exactly as they did when they built documents and dumped them through marshmallow."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import mongoengine as me
import pytest
from bson import ObjectId
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st

from inspect_api import db
from inspect_api.directory.imports import _institution_row
from inspect_api.directory.models import (DEPARTMENTS, INSTITUTION_KINDS, INSTITUTION_STATUSES, SERVICE_TAGS,
                                          Inspector, Institution)
from inspect_api.directory.schemas import InspectorSchema, InstitutionSchema
from inspect_api.directory.views import inspector_views, institution_views
from inspect_api.publication.public_reads import PUBLIC_INSTITUTION_FIELDS, institution_view
from inspect_api.publication.schemas import PublicInstitutionSchema
from tests.stored_forms import types_of

APP = Flask("as_stored")
APP.config["INSPECT"] = {"public_base_url": "https://jg.example.gov.cn"}
SCHEMA = InstitutionSchema()

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1),
                       timezones=st.just(timezone.utc))
midnights = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2040, 1, 1).date()).map(
    lambda d: datetime(d.year, d.month, d.day, tzinfo=timezone.utc))  # how a DateField is stored
texts = st.text(min_size=1, max_size=12)
counts = st.integers(min_value=0, max_value=10_000)


def maybe(values) -> st.SearchStrategy:
    """A stored field: absent (``...``), null, or a value."""
    return st.one_of(st.just(...), st.none(), values)


def stored(**fields) -> st.SearchStrategy:
    """A stored (sub)document whose keys are each absent, null or a value."""
    return st.fixed_dictionaries({key: maybe(values) for key, values in fields.items()}).map(
        lambda doc: {key: value for key, value in doc.items() if value is not ...})


licences = st.tuples(st.sampled_from(["medical_licence", "care_filing", "medical_filing", "other"]), texts,
                     stored(valid_from=midnights, valid_until=midnights)).map(
    lambda licence: {"kind": licence[0], "number": licence[1], **licence[2]})  # kind and number are required
risks = stored(past_findings=counts, overdue_rectifications=counts, rejected_answers=counts,
               low_satisfaction=counts, last_inspected_at=moments, updated_at=moments)
points = st.tuples(st.floats(-180, 180), st.floats(-90, 90)).map(
    lambda lonlat: {"type": "Point", "coordinates": [round(lonlat[0], 6), round(lonlat[1], 6)]})
institutions = st.tuples(
    st.builds(ObjectId),
    stored(public_id=texts, name=texts, credit_code=texts, kind=st.sampled_from(sorted(INSTITUTION_KINDS)),
           tags=st.lists(st.sampled_from(SERVICE_TAGS), unique=True), region=st.just("370302"), address=texts,
           location=points, licences=st.lists(licences, min_size=1, max_size=3), care_beds=counts, medical_beds=counts,
           contact_name=texts, contact_phone=texts, status=st.sampled_from(sorted(INSTITUTION_STATUSES)),
           complaint_count=counts, risk=risks, qr_version=counts, created_at=moments, updated_at=moments),
).map(lambda pair: {"_id": pair[0], **pair[1]})

inspectors = st.tuples(
    st.builds(ObjectId),
    stored(name=texts, certificate_no=texts, department=st.sampled_from(sorted(DEPARTMENTS)) | texts,
           region=st.just("370302"), qualifications=st.lists(texts, max_size=3), active=st.booleans(),
           load_cap=counts, user_id=texts, employment_history=st.lists(texts, max_size=3), phone=texts,
           created_at=moments, updated_at=moments),
).map(lambda pair: {"_id": pair[0], **pair[1]})


@settings(max_examples=200)
@given(institutions)
def test_an_institution_as_stored_answers_as_its_document(raw):
    document = Institution._from_son(dict(raw))
    listed = db.as_stored(Institution, raw)
    with APP.test_request_context():
        dumped = SCHEMA.dump(document)
        assert SCHEMA.dump(listed) == dumped
        # The office's list builds that dump directly, from the row as stored (or from the document).
        assert institution_views([listed]) == institution_views([document]) == [dumped]


@settings(max_examples=200)
@given(inspectors)
def test_an_inspector_as_stored_lists_as_its_document(raw):
    document = Inspector._from_son(dict(raw))
    dumped = InspectorSchema().dump(document)
    assert inspector_views([db.as_stored(Inspector, raw)]) == inspector_views([document]) == [dumped]
    # and as the same JSON (a bool is not sent as 1, nor an int as 1.0)
    assert json.dumps(inspector_views([document]), sort_keys=True) == json.dumps([dumped], sort_keys=True)


@settings(max_examples=200)
@given(institutions, st.fixed_dictionaries({"open_findings": counts, "overdue_findings": counts}))
def test_an_institution_as_stored_shows_to_the_public_in_its_dumped_form(raw, finding_counts):
    """The public institution list and page send ``institution_view`` as it is: it must be exactly
    ``PublicInstitutionSchema``'s dump, read as stored (the public fields only) or built as a document."""
    document = Institution._from_son(dict(raw))
    listed = db.as_stored(Institution, raw, PUBLIC_INSTITUTION_FIELDS)
    with APP.test_request_context():
        view = institution_view(listed, counts=dict(finding_counts))
        assert institution_view(document, counts=dict(finding_counts)) == view
        dumped = PublicInstitutionSchema().dump(view)
    assert json.dumps(view, sort_keys=True) == json.dumps(dumped, sort_keys=True)
    assert set(view) == set(PublicInstitutionSchema().fields)  # every field the schema sends, none other


def test_a_stored_key_no_field_declares_is_left_out():
    """A key an older release stored (a document refuses to be built from it): the row reads without it."""
    listed = db.as_stored(Institution, {"_id": ObjectId(), "name": "某机构", "legacy_note": "旧字段"})
    assert listed.name == "某机构" and not hasattr(listed, "legacy_note")


@settings(max_examples=200)
@given(institutions)
def test_an_institution_as_stored_exports_as_its_document(raw):
    assert _institution_row(db.as_stored(Institution, raw), {}) == _institution_row(Institution._from_son(raw), {})


def test_defaults_are_fresh_for_each_read():
    """A default list or embedded document is the field's own default made anew, never shared between rows."""
    first, second = (db.as_stored(Institution, {"_id": ObjectId()}) for _ in range(2))
    assert first.tags == [] and first.licences == [] and first.status == "active" and first.qr_version == 1
    assert first.risk.past_findings == 0 and first.risk.last_inspected_at is None
    first.tags.append("medical")
    assert second.tags == []
    assert first.risk is not second.risk


def test_only_the_fields_a_read_projected():
    """A read that projected a few fields is read as those fields (and the id) alone, not as defaults."""
    oid = ObjectId()
    listed = db.as_stored(Institution, {"_id": oid, "name": "某机构", "risk": {"past_findings": 2}},
                          frozenset({"name", "risk"}))
    assert vars(listed).keys() == {"id", "name", "risk"}
    assert listed.id == oid and listed.name == "某机构" and listed.risk.past_findings == 2


ANY_STORED = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(max_size=4)
    | moments | st.dates() | st.builds(ObjectId),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=3), inner,
                                                                                          max_size=2),
    max_leaves=6)


CONVERTED = [me.StringField(), me.ListField(me.StringField()), me.DateField(), me.IntField(), me.DictField(),
             me.ListField(me.DictField()), me.ListField(), me.DictField(me.IntField())]


@settings(max_examples=500)
@given(field=st.sampled_from(CONVERTED),
       value=st.one_of(moments, st.text(), st.lists(st.text(), max_size=4), ANY_STORED))
@example(field=CONVERTED[2], value=datetime(2026, 3, 1, tzinfo=timezone.utc))
@example(field=CONVERTED[1], value=["370302", "x"])
@example(field=CONVERTED[1], value=["370302", b"x"])
@example(field=CONVERTED[0], value=b"x")
@example(field=CONVERTED[4], value={"q1": {"1": 2, "5": 1}, "q2": [1, "x", None, True, 1.5]})
@example(field=CONVERTED[4], value={"q1": b"ab"})  # mongoengine turns bytes into a list of their values
@example(field=CONVERTED[5], value=[{"item_id": "1.2", "at": datetime(2026, 3, 1, tzinfo=timezone.utc)}, "x"])
@example(field=CONVERTED[5], value=[{"a": ("x", 1)}])
@example(field=CONVERTED[7], value={"x": float("inf")})  # a stored Infinity: the field itself refuses it
@example(field=CONVERTED[3], value=float("-inf"))
def test_a_stored_value_converts_as_its_field_converts_it(field, value):
    """What ``as_stored`` takes directly (a text, a list of texts, a stored date, free-form dicts and lists of plain
    values) is exactly what the field's own conversion gives, of the same types; anything else is the field's own
    conversion, a refusal included (an integer field given an infinity)."""
    try:
        expected = field.to_python(value)
    except Exception as refused:  # noqa: BLE001 - whatever the field raises, the conversion raises alike
        with pytest.raises(type(refused)):
            db.stored_value_conversion(field)(value)
        return
    got = db.stored_value_conversion(field)(value)
    assert got == expected and type(got) is type(expected)
    assert (got is value) == (expected is value)  # a list or dict is a new one, as the field makes it
    assert types_of(got) == types_of(expected)
    assert _shares(got, value) == _shares(expected, value)  # shares none of the stored dicts or lists, unless the
    # field's own conversion does (a text field hands a stored list back as it is)


def _shares(got, value) -> bool:
    """Whether a dict or list inside ``got`` is one of ``value``'s own."""
    mine = {id(v) for v in _containers(value)}
    return any(id(v) in mine for v in _containers(got))


def _containers(value):
    if isinstance(value, (dict, list, tuple)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from _containers(item)
