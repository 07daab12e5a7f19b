"""Experiment files: many variants of one base scenario, each replicated, for `labsim sweep`.

An experiment names a base scenario, the planner's choices to compare (`[levers]`) and the unknowns about
the world to test them against (`[uncertainties]`), each by the dotted path of a scenario field
(`referral.mode`, `design.treatment_share`). Values come as a grid (every combination), zipped lists
(varied together, position by position) or, for uncertainties, ranges sampled by a Latin hypercube. The
points of the experiment are every combination of these factors, levers first; each point is run
`replications` times. `load_experiment` validates the file and resolves every point into a validated
scenario before anything runs, so a bad value stops the sweep at once, naming the file, the point and
the field. Parameters only: running is `labsim.sweep`'s job.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from labsim.config.errors import LabsimError, ScenarioError
from labsim.config.parts import Part, PosInt, Seed
from labsim.config.scenario import (
    Scenario,
    apply_overrides,
    check_path,
    parse_scenario,
    read_scenario_dict,
    read_toml,
    set_field,
)

#: Spawn key of the Latin hypercube's random stream: apart from every replication's (point, replication).
LHS_STREAM = (0x4C4853,)
#: Ceilings of one experiment, counted before any point is made (docs/experiments.md, "Errors and limits"):
#: each point is a validated scenario held in memory, each run a whole simulation.
MAX_POINTS = 10_000
MAX_RUNS = 1_000_000  # points x replications
MAX_SAMPLES = MAX_POINTS  # Latin hypercube draws

Values = Annotated[list[Any], Field(min_length=1)]


def _flatten(table: Any, prefix: str = "") -> Any:
    """`{"referral": {"mode": [...]}}` (TOML's unquoted dotted keys) as `{"referral.mode": [...]}`."""
    if not isinstance(table, dict):
        return table
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


class Levers(Part):
    """The planner's choices to compare: a grid (every combination) and zipped lists (side by side)."""

    grid: dict[str, Values] = {}
    zip: list[dict[str, Values]] = []

    @field_validator("grid", mode="before")
    @classmethod
    def _flat_grid(cls, table: Any) -> Any:
        return _flatten(table)

    @field_validator("zip", mode="before")
    @classmethod
    def _flat_zip(cls, groups: Any) -> Any:
        groups = [groups] if isinstance(groups, dict) else groups
        return [_flatten(g) for g in groups] if isinstance(groups, list) else groups

    @field_validator("zip")
    @classmethod
    def _same_lengths(cls, groups: list[dict[str, list[Any]]]) -> list[dict[str, list[Any]]]:
        for group in groups:
            lengths = {path: len(values) for path, values in group.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"zipped lists must have the same length (got {lengths})")
        return [g for g in groups if g]


class Uncertainties(Levers):
    """Unknowns about the world: a grid, zipped lists, and ranges sampled by a Latin hypercube."""

    samples: Annotated[int, Field(ge=1, le=MAX_SAMPLES)] | None = None
    ranges: dict[str, tuple[int, int] | tuple[float, float]] = {}

    @field_validator("ranges", mode="before")
    @classmethod
    def _flat_ranges(cls, table: Any) -> Any:
        # TOML has arrays, not tuples: [low, high] becomes a pair (types stay strict otherwise)
        flat = _flatten(table)
        return {k: tuple(v) if isinstance(v, list) else v for k, v in flat.items()} if isinstance(flat, dict) else flat

    @model_validator(mode="after")
    def _sampled(self) -> Uncertainties:
        for path, (low, high) in self.ranges.items():
            if not low < high:
                raise ValueError(f"range of '{path}' must be [low, high] with low < high (got {[low, high]})")
        if self.ranges and self.samples is None:
            raise ValueError("ranges need `samples`: how many Latin hypercube draws to take")
        if self.samples is not None and not self.ranges:
            raise ValueError("`samples` needs `ranges` to draw from")
        return self


class Outputs(Part):
    """Which run summaries to keep: patterns of summary columns (`*` any text), e.g. `employment_rate.*`."""

    keep: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] = ["*"]


class Experiment(Part):
    """A sweep as read from one TOML file: base scenario, what varies, replications, seed, outputs."""

    name: Annotated[str, Field(min_length=1)] = "unnamed"
    description: str = ""
    scenario: Annotated[str, Field(min_length=1)]
    set: list[str] = []
    seed: Seed = 1
    replications: PosInt
    chunk: PosInt = 10
    levers: Levers = Levers()
    uncertainties: Uncertainties = Uncertainties()
    outputs: Outputs = Outputs()


@dataclass(frozen=True)
class Point:
    """One combination of lever and uncertainty values and the scenario it gives."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class ExperimentPlan:
    """A validated experiment with its resolved base scenario and every point, ready to run."""

    source: str
    experiment: Experiment
    base: Scenario
    points: list[Point]

    @property
    def factors(self) -> list[str]:
        """The dotted paths that vary, levers first: one column each in the results."""
        return list(self.points[0].values) if self.points else []


# -- loading ----------------------------------------------------------------------------------------


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Experiment
    for part in loc:
        sub = model.model_fields.get(str(part))
        if sub is None or not (isinstance(sub.annotation, type) and issubclass(sub.annotation, BaseModel)):
            return []
        model = sub.annotation
    return list(model.model_fields)


def _error(source: str, err: ValidationError) -> ScenarioError:
    first = err.errors()[0]
    loc = first["loc"]
    field = ".".join(str(p) for p in loc) or None
    if first["type"] == "extra_forbidden":
        allowed = _allowed(loc[:-1])
        msg = f"unknown field; allowed: {', '.join(allowed)} (docs/experiments.md)"
    elif first["type"] == "too_short":
        msg = "an empty list: give at least one value"
    elif first["type"] == "missing":
        msg = "missing: every experiment must give it"
    else:
        msg = first["msg"].removeprefix("Value error, ")
        if "input" in first and not isinstance(first["input"], dict):
            msg += f" (got {first['input']!r})"
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(source, field, msg)


def check_size(exp: Experiment, source: str) -> int:
    """Count the points (every factor's levels multiplied) before any is made; refuse an experiment over
    MAX_POINTS points or MAX_RUNS runs. Returns the number of points."""
    points = 1
    for part in (exp.levers, exp.uncertainties):
        levels = [len(v) for v in part.grid.values()] + [len(next(iter(g.values()))) for g in part.zip]
        if isinstance(part, Uncertainties) and part.ranges:
            levels.append(part.samples or 1)
        for n in levels:
            points *= n
    if points > MAX_POINTS:
        raise ScenarioError(source, "levers", f"{points:,} points (every combination of the factors); at most "
                            f"{MAX_POINTS:,} (docs/experiments.md): vary fewer fields, or sample them as ranges")
    if points * exp.replications > MAX_RUNS:
        raise ScenarioError(source, "replications", f"{points:,} points x {exp.replications:,} replications = "
                            f"{points * exp.replications:,} runs; at most {MAX_RUNS:,} (docs/experiments.md)")
    return points


def _factors(exp: Experiment, source: str) -> list[list[dict[str, Any]]]:
    """Each factor as its list of settings (one dict of path -> value per level), levers first."""
    factors: list[list[dict[str, Any]]] = []
    seen: dict[str, str] = {}
    for section, part in (("levers", exp.levers), ("uncertainties", exp.uncertainties)):
        named = [(f"{section}.grid", {p: v}) for p, v in part.grid.items()]
        named += [(f"{section}.zip", group) for group in part.zip]
        if isinstance(part, Uncertainties) and part.ranges:
            named.append((f"{section}.ranges", part.ranges))
        for where, table in named:
            for path in table:
                field = f"{where}.{path}"
                check_path(path, source, field)
                if path in seen:
                    raise ScenarioError(source, field, f"'{path}' is varied twice (also in {seen[path]})")
                seen[path] = where
            if where.endswith(".ranges"):
                factors.append(latin_hypercube(table, part.samples, exp.seed))
            else:
                n = len(next(iter(table.values())))
                factors.append([{p: values[i] for p, values in table.items()} for i in range(n)])
    return factors


def latin_hypercube(ranges: dict[str, tuple[Any, Any]], samples: int, seed: int) -> list[dict[str, Any]]:
    """`samples` draws over the ranges, one in each of `samples` equal slices of every range (Latin
    hypercube, scipy.stats.qmc). A range of whole numbers gives whole numbers, each equally likely."""
    from labsim.samplers import latin_hypercube as unit_cube

    unit = unit_cube(len(ranges), samples, np.random.SeedSequence(seed, spawn_key=LHS_STREAM))
    draws = []
    for row in unit:
        draw = {}
        for u, (path, (low, high)) in zip(row, ranges.items()):
            if isinstance(low, int) and isinstance(high, int):
                draw[path] = min(low + int(u * (high - low + 1)), high)
            else:
                draw[path] = float(low + u * (high - low))
        draws.append(draw)
    return draws


def _describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{p}={v!r}" for p, v in values.items())


def read_experiment_dict(path: Path) -> dict[str, Any]:
    """Read an experiment file, with a clear error if it is missing or not TOML."""
    return read_toml(path, "experiment")


def load_experiment(
    path: str | Path,
    *,
    replications: int | None = None,
    find_scenario: Callable[[str], Path] | None = None,
) -> ExperimentPlan:
    """Load and validate an experiment file and resolve every point into a validated scenario.

    The base `scenario` is a path relative to the experiment file or, through `find_scenario`, the name
    of a bundled scenario. `replications` overrides the file's count (a quick first look).
    """
    path = Path(path)
    source = str(path)
    data = read_experiment_dict(path)
    data.setdefault("name", path.stem)
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as err:
        raise _error(source, err) from None
    if replications is not None:
        if replications < 1:
            raise LabsimError(f"--replications must be a whole number 1 or more (got {replications})")
        exp = exp.model_copy(update={"replications": replications})
    check_size(exp, source)

    base_path = path.parent / exp.scenario
    if not base_path.is_file() and find_scenario is not None and Path(exp.scenario).suffix != ".toml":
        base_path = find_scenario(exp.scenario)
    if not base_path.is_file():
        raise ScenarioError(source, "scenario", f"no scenario file {base_path} (a path relative to the "
                            "experiment file, or a bundled scenario's name)")
    base_source = f"{source} (base {base_path})"
    for item in exp.set:
        if "=" not in item:
            raise ScenarioError(source, f"set ({item})", "each change must read dotted.path=value")
        check_path(item.partition("=")[0].strip(), source, f"set ({item})")
    base_data = apply_overrides(read_scenario_dict(base_path), exp.set, source)
    base = parse_scenario(base_data, base_source)

    points = []
    for index, combo in enumerate(itertools.product(*_factors(exp, source))):
        values = {p: v for level in combo for p, v in level.items()}
        data = copy.deepcopy(base_data)
        for p, v in values.items():
            set_field(data, p, v, source)  # on the file's own fields: a preset keeps the file's terms
        scenario = parse_scenario(data, f"{source} (point {index}: {_describe(values)})")
        points.append(Point(index, values, scenario))
    return ExperimentPlan(source, exp, base, points)
