"""Calibration targets: published figures a simulated world should reproduce (`targets/*.toml`).

    [[targets]]
    name = "monthly_outflow"                 # a label, unique in the file
    moment = "monthly_outflow"               # what is simulated: one of MOMENTS
    figure = 0.16                            # the published figure
    range = [0.15, 0.17]                     # what the evidence allows; its width sets the weight
    source = "Työpoliittinen aikakauskirja 1/2018"
    unverified = false                       # true where FACTS.md says the figure is unverified
    set = ["referral.mode=voluntary"]        # optional: the setting the figure was measured in
    against = ["payment.preset=fixed_fee"]   # optional: the moment is then (with `set`) - (with `against`)

Only parameters are held here; `labsim.design.calibrate` simulates the moments and fits to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator

from labsim.config.parts import Part
from labsim.config.scenario import _format_validation_error, read_toml

#: What a target may name: the world's moments (`summary.json` "moments") and the pilot's figures.
WORLD_MOMENTS: tuple[str, ...] = (
    "monthly_outflow", "exits_to_work_share", "long_term_share", "mean_elapsed_weeks",
    "vacancies_per_unemployed", "employed_13w_after_activation", "employed_26w_after_activation",
)
PILOT_MOMENTS: tuple[str, ...] = (
    "itt_employed_26w",            # pilot minus control, share employed 26 weeks after assignment
    "itt_employed_52w",            # the same at 52 weeks
    "take_up_rate",                # share of the pilot arm who started with a provider
    "effect_on_takers_26w",        # itt_employed_26w / take-up / control share: relative effect per participant
    "pilot_employed_52w",          # pilot arm's share employed 52 weeks after assignment
    "pilot_job_outcome_52w",       # pilot arm's share reaching the contract's job outcome within 52 weeks
)
MOMENTS: tuple[str, ...] = WORLD_MOMENTS + PILOT_MOMENTS


class Target(Part):
    """One published figure, the moment that simulates it, and how sure the figure is."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9_]+$")]
    moment: str
    figure: float
    range: Annotated[list[float], Field(min_length=2, max_length=2)]
    source: Annotated[str, Field(min_length=1)]
    unverified: bool = False
    set: list[str] = []
    against: list[str] | None = None

    @field_validator("moment")
    @classmethod
    def _known(cls, moment: str) -> str:
        if moment not in MOMENTS:
            raise ValueError(f"unknown moment {moment!r}; allowed: {', '.join(MOMENTS)}")
        return moment

    @field_validator("range")
    @classmethod
    def _ordered(cls, value: list[float]) -> list[float]:
        if not value[0] < value[1]:
            raise ValueError(f"[{value[0]}, {value[1]}] must run from low to high (a negative or empty range)")
        return value

    @model_validator(mode="after")
    def _inside(self) -> Target:
        low, high = self.range
        if not low <= self.figure <= high:
            raise ValueError(f"figure {self.figure} lies outside its range [{low}, {high}]")
        return self

    @property
    def sd(self) -> float:
        """The figure's uncertainty as a standard deviation: the range read as a 95 % interval."""
        return (self.range[1] - self.range[0]) / (2 * 1.96)


class Targets(Part):
    """A targets file: a description and its targets."""

    description: str = ""
    targets: Annotated[list[Target], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> Targets:
        names = [t.name for t in self.targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"target names must be unique (twice: {', '.join(twice)})")
        return self


def load_targets(path: str | Path) -> Targets:
    """Read and validate a targets file; a problem is one line naming the file and the field."""
    data = read_toml(path, "targets")
    try:
        return Targets.model_validate(data)
    except ValidationError as err:
        raise _format_validation_error(str(path), err) from None
