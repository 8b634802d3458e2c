"""The office's list of published results sends ``office.published_view`` as it is, read with the list's
projection (``office.PUBLISHED_FIELDS``): for any stored result, read so, read whole or built as a document, that
must be exactly ``PublishedByOfficeSchema``'s dump (keys, values and their types) of the view the list dumped
through marshmallow before, every field the schema declares and no other."""

from __future__ import annotations

from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_api.clock import isoformat
from inspect_api.db import as_stored
from inspect_api.publication.models import PublishedResult
from inspect_api.publication.office import PUBLISHED_FIELDS, published_view
from inspect_api.publication.schemas import PublishedByOfficeSchema
from inspect_api.publication.sources import as_date
from tests.stored_forms import as_json, assert_dumped_form, days, midnights, moments, stored, texts, types_of

snapshots = stored({}, institution=stored({}, name=texts, public_id=texts), inspected_on=days.map(str),
                   grade_name=texts, grade=texts, score=st.floats(0, 100, allow_nan=False),
                   findings=st.lists(st.fixed_dictionaries({"item_id": texts, "text": texts}), max_size=3))
results = st.tuples(st.builds(ObjectId), stored(
    {"inspection_id": texts, "code": texts, "institution_id": texts, "region": texts, "inspected_on": midnights,
     "concluded_at": moments, "snapshot": snapshots, "published_at": moments, "published_by": texts},
    score=st.floats(0, 100, allow_nan=False) | st.integers(0, 100), photo_ids=st.lists(texts, max_size=3),
    redact_terms=st.lists(texts, max_size=3), include_notes=st.booleans(), deadline=midnights, late=st.booleans(),
    corrected_at=moments, revised_at=moments),
).map(lambda pair: {"_id": pair[0], **pair[1]})


def projected(raw: dict) -> dict:
    """``raw`` as the list reads it: the fields of ``PUBLISHED_FIELDS``, of the snapshot only the keys named."""
    out = {key: value for key, value in raw.items() if key == "_id" or key in PUBLISHED_FIELDS}
    snapshot, kept = raw.get("snapshot") or {}, {}
    for path in (f.split("__")[1:] for f in PUBLISHED_FIELDS if f.startswith("snapshot__")):
        source, target = snapshot, kept
        for key in path[:-1]:
            source = source.get(key) if isinstance(source, dict) else None
            target = target.setdefault(key, {}) if isinstance(source, dict) else target
        if isinstance(source, dict) and path[-1] in source:
            target[path[-1]] = source[path[-1]]
    if "snapshot" in raw:
        out["snapshot"] = kept
    return out


def marshmallow_view(result) -> dict:
    """The view as the list built it before it was sent in dumped form (marshmallow dumped this)."""
    snap = result.snapshot or {}
    return {"id": str(result.id), "inspection_id": result.inspection_id, "code": result.code,
            "institution_name": (snap.get("institution") or {}).get("name"), "region": result.region,
            "inspected_on": snap.get("inspected_on"), "grade_name": snap.get("grade_name"), "score": result.score,
            "published_at": isoformat(result.published_at),
            "deadline": as_date(result.deadline).isoformat() if result.deadline else None, "late": bool(result.late),
            "revised_at": isoformat(result.revised_at), "corrected_at": isoformat(result.corrected_at),
            "photo_ids": list(result.photo_ids or []), "redact_terms": list(result.redact_terms or []),
            "include_notes": bool(result.include_notes)}


ONLY = frozenset(field.split("__")[0] for field in PUBLISHED_FIELDS)


@settings(max_examples=300)
@given(results)
def test_a_listed_published_result_is_in_its_dumped_form(raw):
    document = PublishedResult._from_son(dict(raw))
    view = published_view(as_stored(PublishedResult, projected(raw), ONLY))
    assert published_view(as_stored(PublishedResult, raw)) == view
    assert published_view(document) == view
    schema = PublishedByOfficeSchema()
    assert_dumped_form(view, schema)
    before = schema.dump(marshmallow_view(document))
    assert as_json(view) == as_json(before) and types_of(view) == types_of(before)
