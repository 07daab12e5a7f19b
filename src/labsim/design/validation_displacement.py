"""Validation claim 4: displacement under randomised saturation, more in slack markets, with the pilot
overstating the roll-out effect (Crépon, Duflo, Gurgand, Rathelot, Zamora 2013; docs/calibration.md,
"Validation").

On the slack-market scenario (scenarios/slack_market.toml: mandatory referral, full help), each world's
five labour markets (sectors) are randomised to treat 0 % or 80 % of their eligible
(`design.randomisation = "saturation"`, shares 0, 0, 0.8, 0.8, 0.8 permuted over the markets). The
spillover on the untreated is the employment at 26 weeks of the control arm in the 80 % markets minus
that of the eligible in the 0 % markets: below 0 when the treated take jobs the others would have had.
The same worlds with matching efficiency 0.05 instead of 0.012 are the tight market (the values of
experiments/displacement_saturation.toml); the spillover in slack minus that in tight should be below
0. The overstatement is the scenario's own pilot (individual randomisation) against its roll-out:
ITT / roll-out effect over the same worlds, with Fieller's interval (`labsim.design.rollout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labsim.config.scenario import Scenario, apply_overrides, parse_scenario
from labsim.design import world_cache
from labsim.design.claim import Claim, mean_interval, one_sided
from labsim.design.replicate import Job, run_until_complete, simulate
from labsim.design.rollout import overstatement, paired_effects
from labsim.design.worlds import no_pilot, roll_out
from labsim.results.summary import results_of
from labsim.sweep.runner import Task, run_tasks

SATURATION = (
    "design.randomisation=saturation", "design.saturation_shares=[0.0, 0.0, 0.8, 0.8, 0.8]",
    "referral.target_participants=5000", "providers.capacity=2500",
)
TIGHT = ("market.matching_efficiency=0.05",)
HIGH = 0.5  # a market whose pilot arm is above this share of its assigned is a high-saturation one
#: Worlds simulated for claim 4 (whatever --replications): the control arm of the high-saturation
#: markets is about 500 people in a year's intake, so one world's spillover has an SD of about 1.5 pp.
DISPLACEMENT_WORLDS = 20
HORIZON = 26
SOURCE_SPILLOVER = ("Crépon et al. 2013 (QJE 128(2)): the gains came partly at the expense of untreated eligible "
                    "seekers in treated areas, about -2 pp (magnitude unverified)")
SOURCE_SLACK = "Crépon et al. 2013 (QJE 128(2)): displacement strongest in weak labour markets"
SOURCE_OVERSTATEMENT = ("Crépon et al. 2013 (QJE 128(2)): with displacement a pilot's ITT overstates what a "
                        "roll-out adds; ITT / roll-out effect over the same worlds, Fieller's interval")


@dataclass(frozen=True)
class Saturated:
    """One world of the saturation design, in the slack or the tight market."""

    job: Job
    market: str


def spillover_record(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """The control arm's employment at the horizon in high-saturation markets minus that of the eligible
    in untreated markets, in one world (worker function)."""
    run: Saturated = task.payload
    model = world_cache.pilot_model(run.job.scenario, seed)
    run_until_complete(model, run.job)
    ind = results_of(model).individuals
    return {"market": run.market, "world": int(task.key[-1]), "spillover": spillover(ind)}


def spillover(ind: pd.DataFrame) -> float:
    """Control arm's employment in markets whose pilot arm is above HIGH of the assigned, minus that of
    the assigned in markets with no pilot arm."""
    y = f"employed_{HORIZON}w"
    ind = ind.loc[~ind["before_pilot"] & ind[y].notna()]
    treated = (ind["arm"] == "pilot").groupby(ind["sector"], observed=True).transform("mean")
    control = ind["arm"] == "control"
    high, none = ind.loc[control & (treated > HIGH), y], ind.loc[treated == 0, y]
    return float(high.mean() - none.mean()) if len(high) and len(none) else float("nan")


def spillover_claims(records: list[dict[str, Any]]) -> list[Claim]:
    """Spillover below 0 in the slack market, and below the tight market's (paired by world)."""
    got = pd.DataFrame(records).pivot(index="world", columns="market", values="spillover")
    return [one_sided(4, "spillover_on_untreated_high_saturation_slack", SOURCE_SPILLOVER, -0.02, "<", 0.0,
                      mean_interval(got["slack"].to_numpy()), unverified=True),
            one_sided(4, "spillover_slack_minus_tight", SOURCE_SLACK, 0.0, "<", 0.0,
                      mean_interval((got["slack"] - got["tight"]).to_numpy()))]


def overstatement_claim(pilots: pd.DataFrame, nones: dict[int, dict], rollouts: dict[int, dict]) -> Claim:
    """The pilot's ITT over the roll-out effect above 1 (the whole Fieller interval)."""
    pairs = paired_effects(pilots, nones, rollouts)
    o = overstatement(pairs["itt"].to_numpy(), pairs["rollout_effect"].to_numpy())
    lo, hi = o.ratio_ci
    return Claim(4, "pilot_itt_over_rollout_effect_slack", SOURCE_OVERSTATEMENT, 1.0, 1.0, np.inf, o.ratio,
                 np.nan if lo is None else lo, np.inf if hi is None else hi, bool(lo is not None and lo > 1.0))


def displacement_claims(slack: dict[str, Any], seed: int, pool, *, worlds: int = DISPLACEMENT_WORLDS) -> list[Claim]:
    """Claim 4 on `slack` (scenarios/slack_market.toml as a dict)."""
    source = "slack_market"
    sat = {"slack": parse_scenario(apply_overrides(slack, list(SATURATION), source), source),
           "tight": parse_scenario(apply_overrides(slack, list(SATURATION + TIGHT), source), source)}
    tasks = [Task((400, w), Saturated(Job(sc, "pilot", HORIZON, figures=("employment",)), m))
             for w in range(worlds) for m, sc in sat.items()]
    out = spillover_claims([rec for _, rec in run_tasks(spillover_record, tasks, root_seed=seed, pool=pool)])
    base: Scenario = parse_scenario(slack, source)
    variants = {"pilot": base, "none": no_pilot(base), "rollout": roll_out(base)}
    tasks = [Task((500, w), Job(sc, k, HORIZON, figures=("employment",))) for w in range(worlds)
             for k, sc in variants.items()]
    recs: dict[str, dict[int, dict]] = {k: {} for k in variants}
    for _, rec in run_tasks(simulate, tasks, root_seed=seed, pool=pool):
        recs[rec["kind"]][rec["replication"]] = rec
    pilots = pd.DataFrame([recs["pilot"][w] for w in sorted(recs["pilot"])])
    return out + [overstatement_claim(pilots, recs["none"], recs["rollout"])]
