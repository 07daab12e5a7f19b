"""Validation claim 4: displacement under randomised saturation, more in slack markets, with the pilot
overstating the roll-out effect (Crépon, Duflo, Gurgand, Rathelot, Zamora 2013; docs/calibration.md,
"Validation").

The saturation worlds follow the French experiment's design. There, areas were randomised to treat 0, 25,
50, 75 or 100 % of their eligible (young graduates unemployed 6 months or more), and the untreated
eligible of treated areas were compared with the eligible of untreated areas 8 months after assignment.
Here each world of the slack-market scenario (scenarios/slack_market.toml: mandatory referral, full
help) has five labour markets (sectors), and they draw the five shares 0, 0.25, 0.5, 0.75 and 1 by
random permutation (`design.randomisation = "saturation"`). The eligible are those unemployed 26 weeks
or more, with places for all. The spillover on the untreated is the employment 35 weeks (8 months) after
assignment of the control arm in the treated markets, minus that of the eligible in the untreated
market: below 0 when the treated take jobs the others would have had. The same worlds with matching
efficiency 0.05 instead of 0.012 are the tight market (the values of
experiments/displacement_saturation.toml); the spillover in slack minus that in tight should be below
0. The overstatement is the scenario's own pilot (individual randomisation, 26 weeks) against its
roll-out: ITT / roll-out effect over the same worlds, with Fieller's interval (`labsim.design.rollout`),
as `labsim diagnose` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labsim.config.scenario import Scenario, apply_overrides, parse_scenario
from labsim.design.claim import Claim, mean_interval, one_sided
from labsim.design.replicate import Job, run_job, simulate
from labsim.design.rollout import overstatement, paired_effects
from labsim.design.worlds import no_pilot, roll_out
from labsim.sweep.runner import Task, run_tasks
from labsim.world.history import outcomes_after
from labsim.world.record import RunRecord

SATURATION = (
    "design.randomisation=saturation", "design.saturation_shares=[0.0, 0.25, 0.5, 0.75, 1.0]",
    "referral.eligibility.min_weeks_unemployed=26", "referral.eligibility.max_weeks_unemployed=520",
    "referral.target_participants=10000", "providers.capacity=5000",
)
TIGHT = ("market.matching_efficiency=0.05",)
#: Worlds simulated for claim 4, whatever --replications: in the slack saturation worlds one world's
#: spillover has an SD of about 1.4 pp (some 1,300 untreated and 800 eligible of the untreated market,
#: employed at about 8 % after 8 months), so 40 worlds give an SE of about 0.22 pp: a spillover of
#: -1 pp puts the whole interval below 0 almost surely, one of -0.5 pp with a chance of about 0.6.
#: In the tight worlds (employed at about 28 %) the SD is about 3.9 pp, so slack minus tight has an SE
#: of about 0.55 pp. The overstatement uses as many pilot, no-pilot and roll-out worlds.
DISPLACEMENT_WORLDS = 40
SPILLOVER_HORIZON = 35  # weeks after assignment: the experiment's 8 months
HORIZON = 26  # the scenario's own pilot (the overstatement), as `labsim diagnose slack_market`
SOURCE_SPILLOVER = ("Crépon et al. 2013 (QJE 128(2)): the gains came partly at the expense of untreated eligible "
                    "seekers in treated areas, about -2 pp at 8 months (magnitude unverified)")
SOURCE_SLACK = "Crépon et al. 2013 (QJE 128(2)): displacement strongest in weak labour markets"
SOURCE_OVERSTATEMENT = ("Crépon et al. 2013 (QJE 128(2)): with displacement a pilot's ITT overstates what a "
                        "roll-out adds; ITT / roll-out effect over the same worlds, Fieller's interval")


@dataclass(frozen=True)
class Saturated:
    """One world of the saturation design, in the slack or the tight market."""

    job: Job
    market: str


def spillover_record(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """The untreated's employment at the horizon in treated markets minus that of the eligible in the
    untreated market, in one world (worker function)."""
    run: Saturated = task.payload
    model = run_job(run.job, seed)
    return {"market": run.market, "world": int(task.key[-1]), "spillover": spillover(assigned(model.record()))}


def assigned(record: RunRecord) -> pd.DataFrame:
    """Everyone assigned in a run: market (sector), arm and employment `SPILLOVER_HORIZON` weeks after
    assignment (NaN when the run ended first)."""
    p = record.people
    y = outcomes_after(record.timeline, p["assigned_week"], (SPILLOVER_HORIZON,))
    return pd.DataFrame({"sector": p["sector"], "arm": np.where(p["arm"] == 1, "pilot", "control"),
                         "before_pilot": p["before_pilot"], **y})


def spillover(ind: pd.DataFrame) -> float:
    """Control arm's employment in markets with a pilot arm, minus that of the assigned in markets with
    none (Crépon et al.'s untreated in treated areas against the eligible of untreated areas)."""
    y = f"employed_{SPILLOVER_HORIZON}w"
    ind = ind.loc[~ind["before_pilot"] & ind[y].notna()]
    treated = (ind["arm"] == "pilot").groupby(ind["sector"], observed=True).transform("mean")
    untreated, none = ind.loc[(ind["arm"] == "control") & (treated > 0), y], ind.loc[treated == 0, y]
    return float(untreated.mean() - none.mean()) if len(untreated) and len(none) else float("nan")


def spillover_claims(records: list[dict[str, Any]]) -> list[Claim]:
    """Spillover below 0 in the slack market, and below the tight market's (paired by world)."""
    got = pd.DataFrame(records).pivot(index="world", columns="market", values="spillover")
    return [one_sided(4, "spillover_on_untreated_treated_markets_slack", SOURCE_SPILLOVER, -0.02, "<", 0.0,
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
    tasks = [Task((400, w), Saturated(Job(sc, "pilot", SPILLOVER_HORIZON, figures=("employment",)), m))
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
