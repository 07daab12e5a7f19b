"""Assumptions with an evidence range: the scenario's `[[assumptions]]` table.

Some parameters decide the answer and no published figure pins them down (above all how much provider
help raises job finding). A scenario states, for each such parameter, the low and high ends of what the
evidence allows; the scenario's own value at that path is the central one. `labsim size` reports the
size at each end and the assurance over the range; `labsim sensitivity` ranks them; `labsim calibrate`
writes them. Only parameters are held here; nothing is computed.

    [[assumptions]]
    path = "providers.effort_effect"   # a numeric scenario field, dotted
    low = 0.3
    high = 1.0
    distribution = "uniform"           # or "triangular" (peak at the scenario's value)
    source = "provider_effects.toml: Behaghel et al. 2014, Hernaes 2025 (calibrate, 2026-11-29)"
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from labsim.config.errors import LabsimError
from labsim.config.parts import Part


class Assumption(Part):
    """One parameter's evidence range: where the evidence puts it, and where that comes from."""

    path: Annotated[str, Field(min_length=1, pattern=r"^[a-z_]+(\.[a-z_]+)+$")]
    low: float
    high: float
    distribution: Literal["uniform", "triangular"] = "uniform"
    source: Annotated[str, Field(min_length=1)]
    source_fi: str = ""  # the source in Finnish and Swedish, for the page and reports in those languages
    source_sv: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Assumption:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high}) for {self.path}")
        return self


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of a scenario (a model or a dict); KeyError if there is none."""
    node = data
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part, KeyError)
        if node is KeyError:
            raise KeyError(path)
    return node


def number_at(data: Any, path: str) -> float:
    """The numeric field at a dotted path of a scenario; ValueError saying what is there instead."""
    try:
        value = value_at(data, path)
    except KeyError:
        raise ValueError(f"{path} is not a scenario field") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{path} is not a number (it holds {value!r})")
    return value


def parse_span(text: str, option: str = "--vary") -> tuple[str, float, float]:
    """`dotted.path=low:high` as a command line writes a range (`--vary`, `--params`): (path, low, high),
    both finite and low not above high; one clear `LabsimError` naming the option otherwise."""
    path, _, span = text.partition("=")
    low, colon, high = span.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        lo = hi = math.nan
    if not (path.strip() and colon and math.isfinite(lo) and math.isfinite(hi)):
        raise LabsimError(f"{option} {text}: write dotted.path=low:high with a numeric scenario field, "
                          "e.g. providers.effort_effect=0.3:1.0")
    if lo > hi:
        raise LabsimError(f"{option} {text}: write dotted.path=low:high with low not above high")
    return path.strip(), lo, hi


def in_field_units(scenario: Any, values: dict[str, Any]) -> dict[str, float | int]:
    """Values drawn over ranges (floats, numpy scalars) as their fields take them: a whole-number field
    rounded to the nearest whole number (halves to even), any other a float."""
    return {path: round(v) if isinstance(value_at(scenario, path), int) else float(v) for path, v in values.items()}
