"""One simulated pilot, as a replication of a diagnosis or a size search: the worker function the
replication runner sends out. It returns a small record (numbers and short lists), never a model.

A replication runs only as long as the figures asked of it need (`PilotJob.figures`): employment at the
horizon is complete `horizon` weeks after the last assignment, weeks employed in 52 weeks 52 weeks after
it, the purchaser's and providers' accounts only at the scenario's last week. After the intake has closed
nobody is assigned or starts, and later weeks cannot change earlier ones, so the figures asked are
identical to the full-length run's; figures not asked are NaN, never a truncated number. A no-pilot or
roll-out world runs until the last week any pilot in that world could assign, plus the same weeks.

A page pilot (`PilotJob.horizons`) also reads itself at each shorter horizon (`HORIZON_READINGS`): a run
stopped h weeks after its last assignment and one stopped H > h weeks after it are the same run up to the
earlier stop, so the longer one holds everything the shorter one reports at h. Its reading at h is what
the run to h gives: the same record's fields computed at h, from the people the run to h would have
observed at h (`stops`: where that run would have stopped), so that the page's cache hands a kept pilot
back at a shorter horizon instead of running it again (design/pilot_cache.py).

With `PilotJob.world` = w the pilot runs in world w of the run (its population, employers and burn-in drawn
from the seed key (`WORLDS`, w) under the run's root seed), and the task's own seed draws only the pilot
(randomisation and every later draw): a size search runs its many batches in the reference batch's
worlds, each burned in once (on the local worker that holds it: `Task.home`), with a fresh pilot seed per replication (docs/evaluation.md).
Without it, world and pilot share the task's seed, as `labsim run --seed` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from labsim.config.scenario import Scenario
from labsim.design import world_cache
from labsim.results.pilot import READINGS, estimates_at, pilot_estimates
from labsim.results.summary import HORIZONS, RunResult, replication_result
from labsim.sweep.runner import Task
from labsim.world.model import PilotModel

Kind = Literal["pilot", "none", "rollout"]
#: First element of a world's seed key (WORLDS, w): apart from the tasks' own keys (r,) of one element.
WORLDS = 0x574F524C
Figure = Literal["employment", "weeks_employed", "accounts"]
#: Every figure a pilot's record holds: the run lasts the scenario's full length.
ALL_FIGURES: tuple[Figure, ...] = ("employment", "weeks_employed", "accounts")
#: What a size search's pilot is asked: employment at the horizon only (the run stops `horizon` weeks after
#: the last assignment; the accounts come from one full-length batch at the minimum size).
SEARCH_FIGURES: tuple[Figure, ...] = ("employment",)
#: Record fields of figures other than employment at the horizon (NaN when not asked).
FIELDS_OF: dict[str, tuple[str, ...]] = {
    "weeks_employed": ("weeks_employed_estimate", "weeks_employed_se"),
    "accounts": ("purchaser_paid", "providers_viable", "break_even_clients", "cost_per_extra_job"),
}


@dataclass(frozen=True)
class PilotJob:
    """What a replication simulates: a scenario variant, its kind, how its outcome is read, and which
    figures are asked of it (employment at the horizon always; the run stops once they are complete)."""

    scenario: Scenario
    kind: Kind = "pilot"
    horizon: int = 26
    alpha: float = 0.05
    size: int | None = None
    figures: tuple[Figure, ...] = ALL_FIGURES
    world: int | None = None  # the world it runs in (seed key (WORLDS, world)); None: the task's own seed
    last_cohort: int | None = None  # a no-pilot or roll-out world: the last week of assignment read (None: any)
    readings: tuple[str, ...] = ()  # estimators whose reading the record also holds (`READINGS`; the page's cache)
    horizons: tuple[int, ...] = ()  # shorter horizons whose reading the record also holds (`HORIZON_READINGS`)

    def weeks_after_intake(self) -> int | None:
        """Weeks the run needs after the last assignment; None: the scenario's full length."""
        if "accounts" in self.figures:
            return None
        return max(self.horizon, 52) if "weeks_employed" in self.figures else self.horizon


#: The record's key for its fields read at each shorter horizon (`PilotJob.horizons`): {h: fields}.
HORIZON_READINGS = "horizon_readings"


def shorter_horizons(horizon: int) -> tuple[int, ...]:
    """The horizons a scenario may name (`design.primary_horizon_weeks`) below `horizon`: those a pilot run
    to `horizon` can be read at again."""
    return tuple(h for h in HORIZONS if h < horizon)


def run_until_complete(model: PilotModel, job: PilotJob) -> dict[int, int]:
    """Run the pilot weeks until every figure asked is complete (at most the scenario's weeks). Returns the
    week the run stopped at for the job's horizon, and the week a run to each of its shorter `horizons`
    would have stopped at (`stops`): the same run up to there."""
    if job.kind == "pilot" and job.weeks_after_intake() is not None:
        while model.week < job.scenario.weeks and not model.referral.closed_after(model.week):
            model.step()
    stops = {h: max(model.week, _stop(model, replace(job, horizon=h))) for h in (job.horizon, *job.horizons)}
    if stops[job.horizon] > model.week:
        model.run_for(stops[job.horizon] - model.week)
    return stops


def _stop(model: PilotModel, job: PilotJob) -> int:
    """The week `job`'s run stops at: its last assignment (its pilot's, or for a counterfactual world the
    last cohort read) plus the weeks its figures need, at most the scenario's weeks. A pilot's model has
    run to the week its intake closed."""
    weeks, need = job.scenario.weeks, job.weeks_after_intake()
    if need is None:
        return weeks
    if job.kind != "pilot":  # a counterfactual world covers its pilot's intake (or any pilot's)
        last = max(model.referral.end_intake - 1, 0) if job.last_cohort is None else job.last_cohort
        return min(weeks, last + need)
    return min(weeks, max(int(model.seekers.assigned_week.max(initial=-1)), model.week) + need)


def cohort_totals(result: RunResult, horizon: int, arm: str | None = None, weeks: int | None = None
                  ) -> dict[str, list[float]]:
    """Employed-at-horizon counts and people observed, by week of assignment 0..`weeks` (default: the
    run's own), so that a comparison can be restricted to the weeks another run's intake was open."""
    ind = result.individuals
    ind = ind.loc[~ind["before_pilot"]]
    if arm is not None:
        ind = ind.loc[ind["arm"] == arm]
    y = ind[f"employed_{horizon}w"]
    seen = y.notna().to_numpy()
    week = ind["assigned_week"].to_numpy()[seen]
    n = (result.summary.weeks if weeks is None else weeks) + 1
    return {
        "cohort_employed": np.bincount(week, weights=y.to_numpy(float)[seen], minlength=n).tolist(),
        "cohort_n": np.bincount(week, minlength=n).tolist(),
    }


def run_job(job: PilotJob, seed: np.random.SeedSequence) -> PilotModel:
    """The pilot of `job` in the world of `seed` (from the worker's kept world when there is one), run
    until every figure asked of it is complete."""
    return job_run(job, seed)[0]


def job_run(job: PilotJob, seed: np.random.SeedSequence) -> tuple[PilotModel, dict[int, int]]:
    """`run_job`'s model, and where a run to each of the job's shorter horizons would have stopped
    (`run_until_complete`)."""
    world = None if job.world is None else np.random.SeedSequence(seed.entropy, spawn_key=(WORLDS, job.world))
    model = world_cache.pilot_model(job.scenario, seed, world)
    return model, run_until_complete(model, job)


def simulate(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """Run one replication (module level, so worker processes can import it)."""
    job: PilotJob = task.payload
    model, stops = job_run(job, seed)
    result = replication_result(model.record(services=False))  # a replication reads no moments
    record: dict[str, Any] = {"kind": job.kind, "size": job.size, "replication": int(task.key[-1])}
    if job.world is not None:
        record["world"] = job.world
    seen = {h: observed_until(result, h, stops[h]) for h in job.horizons}
    # a pilot's own cohorts are all observed at each horizon its run reached: one frame serves them all
    shared = job.kind == "pilot" and all(r is result for r in seen.values())
    estimates = estimates_at(result, (job.horizon, *job.horizons), job.alpha, readings=job.readings) if shared else {}
    record.update(horizon_fields(job, result, job.horizon, estimates.get(job.horizon)))
    if job.kind == "pilot":
        assigned = result.individuals.loc[~result.individuals["before_pilot"], "assigned_week"]
        record["last_intake_week"] = int(assigned.max()) if len(assigned) else -1
        record["first_intake_week"] = int(assigned.min()) if len(assigned) else -1
    if job.horizons:
        record[HORIZON_READINGS] = {h: horizon_fields(job, seen[h], h, estimates.get(h)) for h in job.horizons}
    record["weeks_run"] = int(model.week)
    return record


def horizon_fields(job: PilotJob, result: RunResult, horizon: int, estimates: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """The record's fields read at `horizon` (and, for a pilot, under each estimator of `job.readings`): a
    pilot's estimates (`estimates` if already read) with the figures not asked NaN, and the cohorts'
    employment at the horizon."""
    weeks = job.scenario.weeks
    if job.kind != "pilot":
        return cohort_totals(result, horizon, weeks=weeks)
    fields = pilot_estimates(result, horizon, job.alpha, readings=job.readings) if estimates is None else estimates
    for figure, names in FIELDS_OF.items():
        if figure not in job.figures:
            fields.update(dict.fromkeys(names, float("nan")))
            for reading in fields.get(READINGS, {}).values():
                reading.update(dict.fromkeys(set(names) & set(reading), float("nan")))
    return {**fields, **cohort_totals(result, horizon, arm="pilot", weeks=weeks)}


#: The outcomes read h weeks after assignment, NaN for whoever a run had not seen that long.
AT_HORIZON = ("employed_{h}w", "employed_counted_{h}w")


def observed_until(result: RunResult, horizon: int, stop: int) -> RunResult:
    """`result` as a run stopped at week `stop` reads its outcomes at `horizon`: those assigned less than
    `horizon` weeks before it not yet observed (the run to `horizon` stops `horizon` weeks after its last
    assignment, so a pilot's own cohorts are all observed; a counterfactual world's later cohorts are not)."""
    ind = result.individuals
    unseen = (ind["assigned_week"].to_numpy() + horizon > stop)
    columns = [c.format(h=horizon) for c in AT_HORIZON]
    if not (unseen & ind[columns].notna().any(axis=1).to_numpy()).any():
        return result
    ind = ind.copy()
    ind.loc[unseen, columns] = np.nan
    return replace(result, individuals=ind)


def cohort_mean(record: dict[str, Any], first: int, last: int) -> float:
    """Share employed at the horizon among those assigned in weeks first..last of a run."""
    y = np.asarray(record["cohort_employed"])[first: last + 1]
    n = np.asarray(record["cohort_n"])[first: last + 1]
    return float(y.sum() / n.sum()) if n.sum() else float("nan")
