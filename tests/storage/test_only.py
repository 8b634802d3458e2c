"""``db.only`` narrows a queryset as mongoengine's ``only`` does (the same projection, also on top of another
``only``), with the field paths looked up once per document class."""

from __future__ import annotations

import pytest

from inspect_api import db
from inspect_api.ledgers.models import LedgerCheck
from inspect_api.ledgers.service import SUMMARY_FIELDS
from inspect_api.publication.models import PublishedResult
from inspect_api.publication.office import PUBLISHED_FIELDS
from inspect_api.rectification.models import Finding


@pytest.mark.parametrize("document, fields", [
    (LedgerCheck, SUMMARY_FIELDS), (PublishedResult, PUBLISHED_FIELDS), (Finding, ("id", "seq", "order_id")),
    (PublishedResult, ("snapshot__institution__name",)), (LedgerCheck, ()),
])
def test_only_projects_as_mongoengine_does(app, document, fields):
    query = document.objects(region="370302").order_by("-id")
    for _ in range(2):  # worked out, then remembered
        narrowed = db.only(query, *fields)
        assert narrowed._loaded_fields.as_dict() == query.only(*fields)._loaded_fields.as_dict()
        assert narrowed._query == query._query and narrowed._ordering == query._ordering
        assert not query._loaded_fields  # the queryset narrowed is left as it was
    twice = db.only(db.only(query, "region"), *fields)
    assert twice._loaded_fields.as_dict() == query.only("region").only(*fields)._loaded_fields.as_dict()
