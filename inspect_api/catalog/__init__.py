"""Catalog: stored checklist versions and the list of random-inspection matters (抽查事项清单)."""
