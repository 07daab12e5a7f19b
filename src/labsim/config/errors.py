"""Errors a planner can act on: each names the file, the field and what is allowed."""

from __future__ import annotations


class LabsimError(Exception):
    """An error caused by input, reported on one line without a traceback."""


class ScenarioError(LabsimError):
    """A scenario (or override) that cannot be used, with where and why."""

    def __init__(self, source: str, field: str | None, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: field '{field}'" if field else source
        super().__init__(f"{where}: {problem}")
