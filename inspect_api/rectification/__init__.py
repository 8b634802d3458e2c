"""Rectification (整改): orders, findings' deadlines and the escalation ladder.

:mod:`inspect_api.rectification.ladder` holds the escalation ladder as pure
logic (no Flask, no database) on top of :mod:`inspect_api.workdays`.
"""
