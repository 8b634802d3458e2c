"""Checklists: the inspection checklist format, the shipped DB37/T 4086-2020 and
DB37/T 4087-2020 checklists, their validator and the scoring engine.

A pure library (stdlib + PyYAML); it imports nothing from the application.
See README.md in this directory for the format and the rules.
"""

from .errors import ChecklistError, Problem, ScoringError
from .loader import MAX_BYTES, load_bytes, load_checklist, load_file, load_text
from .scoring import AppliedDeduction, Finding, ScoreResult, applies_to, grade_for, iter_items, score
from .spec import DEFAULT_PURPOSE, KINDS, METHODS, PURPOSES, RESULTS, SEVERITIES
from .tools import canonical_json, compact, content_hash, diff, shipped_checklists
from .validator import check, validate



def purpose_of(document: dict) -> str:
    """What a checklist is used for: ``site_inspection`` (the default) or ``desk_review``."""
    return str(document.get("purpose") or DEFAULT_PURPOSE)


__all__ = [
    "AppliedDeduction", "ChecklistError", "DEFAULT_PURPOSE", "Finding", "KINDS", "MAX_BYTES", "METHODS",
    "PURPOSES", "Problem", "RESULTS", "SEVERITIES", "ScoreResult", "ScoringError", "applies_to",
    "canonical_json", "check", "compact", "content_hash", "diff", "grade_for",
    "iter_items", "load_bytes", "load_checklist", "load_file", "load_text", "purpose_of", "score",
    "shipped_checklists", "validate",
]
