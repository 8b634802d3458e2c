"""URL matching where a static path segment always wins over a parameter.

Werkzeug tries ``/institutions/export.csv`` against the static route first,
but when the method does not fit (``PATCH``, or the ``OPTIONS`` probe that
lists allowed methods) it falls back to ``/institutions/<institution_id>``
with the id ``export.csv``: ``OPTIONS`` then advertises ``PATCH, DELETE`` and
a ``PATCH`` reaches the institution view.  Here a parameter segment never
matches a value that a static sibling route spells out, so such a path
belongs to its static route alone: other methods answer 405 with an
``Allow`` header listing only what that route serves.
"""

from __future__ import annotations

import re
from dataclasses import replace

from flask import Flask
from werkzeug.routing.matcher import State, StateMachineMatcher


class StaticFirstMatcher(StateMachineMatcher):
    """A state machine whose parameter transitions refuse the literals of their static siblings."""

    def __init__(self, merge_slashes: bool) -> None:
        super().__init__(merge_slashes)
        self._guarded: list[tuple[State, int, object]] = []  # (state, index, original part)

    def add(self, rule) -> None:
        self._restore()  # rules are added against the original parts (werkzeug compares them)
        super().add(rule)

    def update(self) -> None:
        self._restore()
        super().update()
        stack = [self._root]
        while stack:
            state = stack.pop()
            stack.extend(state.static.values())
            stack.extend(next_state for _part, next_state in state.dynamic)
            literals = sorted(key for key in state.static if key)
            if not literals:
                continue
            guard = "(?!(?:" + "|".join(re.escape(key) for key in literals) + r")\Z)"
            for index, (part, next_state) in enumerate(state.dynamic):
                if part.final or part.suffixed:
                    continue  # a path converter spans segments: left as werkzeug made it
                self._guarded.append((state, index, part))
                state.dynamic[index] = (replace(part, content=guard + part.content), next_state)

    def _restore(self) -> None:
        for state, index, part in reversed(self._guarded):
            state.dynamic[index] = (part, state.dynamic[index][1])
        self._guarded.clear()


def install(app: Flask) -> None:
    """Use :class:`StaticFirstMatcher` for ``app`` (call before or after routes are added)."""
    url_map = app.url_map
    matcher = StaticFirstMatcher(url_map.merge_slashes)
    for rule in url_map.iter_rules():
        matcher.add(rule)
    url_map._matcher = matcher
    url_map._remap = True
