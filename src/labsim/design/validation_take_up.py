"""Validation claim 3: voluntary take-up of 25-40 % dilutes the ITT (docs/calibration.md, "Validation").

With no effect on those offered who decline, ITT = take-up x effect on participants (Bloom 1984). The
effect on participants is measured here directly, not by dividing the ITT by the take-up (which would
give the identity back): each world is run twice with the same seed, as it is and with providers that do
nothing (`labsim.design.worlds.zero_help`); the participants' employment at 26 weeks in the first minus
that in the second is the effect of the help on those who took it up (who takes part is decided before
any help, so both worlds' participants are drawn alike). Over the worlds, ITT / (take-up x effect on
participants) should be 1; its 95 % interval is Fieller's (`labsim.design.rollout.overstatement`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labsim.config.scenario import Scenario, apply_overrides, parse_scenario
from labsim.design.claim import Claim, mean_interval
from labsim.design.replicate import PilotJob, run_job
from labsim.design.rollout import overstatement
from labsim.design.worlds import zero_help
from labsim.results.pilot import pilot_estimates
from labsim.results.summary import results_of
from labsim.sweep.runner import Task, run_tasks

#: The trials' setting: a voluntary programme offered to everyone in the treatment arm (as claim 8's).
VOLUNTARY = ("referral.mode=voluntary", "referral.offer_share=1.0")
#: Worlds simulated for claim 3 (whatever --replications): the effect on participants is a difference of
#: two worlds' ~500 participants, so 4 worlds leave the ratio's interval too wide to say anything.
DILUTION_WORLDS = 24
HORIZON = 26
TAKE_UP = (0.30, 0.25, 0.40)
SOURCE_TAKE_UP = ("voluntary private providers: just over 1 in 4 took them up in Sweden (Bennmarker, Grönqvist, "
                  "Öckert 2013), about 35 % in France (Crépon et al. 2013, unverified)")
SOURCE_DILUTION = ("Bloom 1984 (Evaluation Review 8(2)): ITT = take-up x effect on participants when those who "
                   "decline are unaffected; effect on participants measured against the same worlds with "
                   "providers that do nothing")


@dataclass(frozen=True)
class Run:
    """One world of claim 3: its scenario and whether the providers' help is switched off."""

    job: PilotJob
    no_help: bool


def participants_record(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """One world's ITT, take-up and participants' employment at the horizon (worker function)."""
    run: Run = task.payload
    model = run_job(run.job, seed)
    result = results_of(model)
    ind = result.individuals.loc[~result.individuals["before_pilot"]]
    took = (ind["arm"] == "pilot") & ind["took_up"]
    est = pilot_estimates(result, HORIZON)
    return {"no_help": run.no_help, "world": int(task.key[-1]), "itt": est["estimate"], "take_up": est["take_up"],
            "participants_employed": float(ind.loc[took, f"employed_{HORIZON}w"].mean())}


def dilution_claims(records: list[dict[str, Any]]) -> list[Claim]:
    """Claim 3 from the worlds' records (each world with and without help)."""
    by = {(r["world"], r["no_help"]): r for r in records}
    worlds = sorted({w for w, _ in by if (w, True) in by and (w, False) in by})
    itt = np.array([by[w, False]["itt"] for w in worlds])
    take_up = np.array([by[w, False]["take_up"] for w in worlds])
    effect = np.array([by[w, False]["participants_employed"] - by[w, True]["participants_employed"] for w in worlds])
    o = overstatement(itt, take_up * effect)
    lo, hi = o.ratio_ci
    up = mean_interval(take_up)
    ratio = Claim(3, "itt_over_take_up_times_effect_on_participants", SOURCE_DILUTION, 1.0, 1.0, 1.0, o.ratio,
                  np.nan if lo is None else lo, np.nan if hi is None else hi,
                  bool(lo is not None and hi is not None and lo <= 1.0 <= hi))
    return [Claim(3, "take_up_voluntary", SOURCE_TAKE_UP, *TAKE_UP, *up, bool(TAKE_UP[1] <= up[0] <= TAKE_UP[2])),
            ratio]


def take_up_claims(scenario: dict[str, Any], source: str, seed: int, pool, *, worlds: int = DILUTION_WORLDS
                   ) -> list[Claim]:
    """Claim 3 on `scenario` in the trials' voluntary setting."""
    sc: Scenario = parse_scenario(apply_overrides(scenario, list(VOLUNTARY), source), source)
    jobs = {False: PilotJob(sc, "pilot", HORIZON, figures=("employment",)),
            True: PilotJob(zero_help(sc), "pilot", HORIZON, figures=("employment",))}
    tasks = [Task((300, w), Run(jobs[off], off)) for w in range(worlds) for off in (False, True)]
    return dilution_claims([rec for _, rec in run_tasks(participants_record, tasks, root_seed=seed, pool=pool)])
