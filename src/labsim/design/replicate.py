"""One simulated pilot, as a replication of a diagnosis or a size search: the worker function the
replication runner sends out. It returns a small record (numbers and short lists), never a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from labsim.config.scenario import Scenario
from labsim.results.pilot import pilot_estimates
from labsim.results.summary import RunResult, results_of
from labsim.sweep.runner import Task
from labsim.world.model import PilotModel

Kind = Literal["pilot", "none", "rollout"]


@dataclass(frozen=True)
class Job:
    """What a replication simulates: a scenario variant, its kind, and how its outcome is read."""

    scenario: Scenario
    kind: Kind = "pilot"
    horizon: int = 26
    alpha: float = 0.05
    size: int | None = None


def cohort_totals(result: RunResult, horizon: int, arm: str | None = None) -> dict[str, list[float]]:
    """Employed-at-horizon counts and people observed, by week of assignment (so that a comparison can be
    restricted to the weeks another run's intake was open)."""
    ind = result.individuals
    ind = ind.loc[~ind["before_pilot"]]
    if arm is not None:
        ind = ind.loc[ind["arm"] == arm]
    y = ind[f"employed_{horizon}w"]
    seen = y.notna().to_numpy()
    week = ind["assigned_week"].to_numpy()[seen]
    n = result.summary["weeks"] + 1
    return {
        "cohort_employed": np.bincount(week, weights=y.to_numpy(float)[seen], minlength=n).tolist(),
        "cohort_n": np.bincount(week, minlength=n).tolist(),
    }


def simulate(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """Run one replication (module level, so worker processes can import it)."""
    job: Job = task.payload
    model = PilotModel(job.scenario, rng=seed)
    model.run_for(job.scenario.weeks)
    result = results_of(model)
    record: dict[str, Any] = {"kind": job.kind, "size": job.size, "replication": int(task.key[-1])}
    if job.kind == "pilot":
        record.update(pilot_estimates(result, job.horizon, job.alpha))
        record.update(cohort_totals(result, job.horizon, arm="pilot"))
        weeks = result.individuals.loc[~result.individuals["before_pilot"], "assigned_week"]
        record["last_intake_week"] = int(weeks.max()) if len(weeks) else -1
        record["first_intake_week"] = int(weeks.min()) if len(weeks) else -1
    else:
        record.update(cohort_totals(result, job.horizon))
    return record


def cohort_mean(record: dict[str, Any], first: int, last: int) -> float:
    """Share employed at the horizon among those assigned in weeks first..last of a run."""
    y = np.asarray(record["cohort_employed"])[first: last + 1]
    n = np.asarray(record["cohort_n"])[first: last + 1]
    return float(y.sum() / n.sum()) if n.sum() else float("nan")
