"""Checklists: the inspection checklist format, the shipped DB37/T 4086-2020 and
DB37/T 4087-2020 checklists, their validator and the scoring engine.

A pure library (stdlib + PyYAML); it imports nothing from the application.
See README.md in this directory for the format and the rules.
"""

from .errors import ChecklistError, Problem, ScoringError
from .loader import MAX_BYTES, load_bytes, load_checklist, load_file, load_text
from .scoring import AppliedDeduction, Finding, ScoreResult, applies_to, grade_for, iter_items, score
from .spec import KINDS, METHODS, RESULTS, SEVERITIES
from .tools import canonical_json, compact, content_hash, diff, shipped_checklists
from .validator import check, validate

__all__ = [
    "AppliedDeduction", "ChecklistError", "Finding", "KINDS", "MAX_BYTES", "METHODS",
    "Problem", "RESULTS", "SEVERITIES", "ScoreResult", "ScoringError", "applies_to",
    "canonical_json", "check", "compact", "content_hash", "diff", "grade_for",
    "iter_items", "load_bytes", "load_checklist", "load_file", "load_text", "score",
    "shipped_checklists", "validate",
]
