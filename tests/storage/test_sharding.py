"""The README's sharding plan against the documents' meta (both lanes)."""

from __future__ import annotations

import re
from pathlib import Path

from inspect_api import db

README = Path(__file__).resolve().parents[2] / "README.md"


def sharding_table() -> dict[str, str]:
    """``collection -> shard key`` (``unsharded``) from the README's "Sharding" section."""
    text = README.read_text("utf-8")
    section = text.split("### Sharding", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| ([a-z_]+) \| ([a-z_]+) \| .+ \|$", section, re.M)
    return {collection: key for collection, key in rows if collection != "collection"}


def test_every_collection_has_a_row_and_unique_indexes_start_with_the_shard_key(app):
    table = sharding_table()
    documents = {cls._meta["collection"]: cls for cls in db.all_documents()}
    assert set(documents) <= set(table), sorted(set(documents) - set(table))
    problems = []
    for name, cls in sorted(documents.items()):
        key = table[name]
        if key == "unsharded":
            continue
        assert key in cls._fields or key == "_id", (name, key)
        for keys, options in db._declared_indexes(cls):
            if options.get("unique") and keys[0][0] != key:
                problems.append(f"{name}: unique index {keys} does not start with the shard key {key}")
    assert not problems, "\n".join(problems)


def test_the_table_is_read_as_written():
    table = sharding_table()
    assert table["rectification_findings"] == "region" and table["users"] == "unsharded"
    assert table["notifications"] == "user_id"
