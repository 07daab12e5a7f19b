"""Validation claims 2 and 6: the power of a pilot, simulated against the formula and against the
2016-17 Finnish pilots' experience (docs/calibration.md, "Validation").

Claim 2: where the formula's assumptions hold, the share of simulated pilots that reject no effect is
the two-proportion power (`labsim.design.analytic`). They hold in a world without congestion (the
job-finding rate per unit of search is frozen at week 0, so nobody's chance depends on another's) with
a constant effect: every pilot-arm member is assigned and starts (mandatory referral, no no-shows), every
client gets the same help (`providers.effort = 1.0`: search effort times 1 + `providers.effort_effect`
for all, not chosen client by client under the contract), and no network or recruitment channel.

Claim 6: the 2016-17 job-placement pilots (scenario fi_2016_job_placement_pilots) at their own volume
would rarely have found their effect, and needed clearly larger volumes (TEM 43/2017; FACTS.md).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from labsim.config.scenario import apply_overrides, parse_scenario
from labsim.design.analytic import pilot_arm_needed, two_proportion_power
from labsim.design.claim import Z95, Claim, one_sided, share_interval
from labsim.design.replicate import PilotJob, simulate
from labsim.sweep.runner import Task, run_tasks

#: Claim 2's world: no congestion and a constant effect (module docstring), small enough for many pilots;
#: 450 places give the formula's power of about 0.5 on the bundled baseline (docs/validation.md).
POWER_WORLD = (
    "market.congestion=false", "referral.mode=mandatory", "referral.no_show=0.0", "providers.effort=1.0",
    "payment.preset=fixed_fee", "providers.network_share=0.0", "providers.recruitment=0.0",
    "area.job_seekers=4000", "referral.intake_weeks=26", "referral.target_participants=450",
    "providers.capacity=500",
)
#: Pilots simulated for claim 2 (whatever --replications): a rejection share of 0.65 over 80 pilots has a
#: 95 % interval of about ±0.10.
POWER_PILOTS = 80
#: Pilots simulated for claim 6 at the 2016-17 volume.
PILOTS_2016 = 20
HORIZON, ALPHA, POWER = 26, 0.05, 0.8
SOURCE_2 = ("two-proportion power at the simulated control share, mean ITT and arm sizes (Cohen's h, normal "
            "approximation; labsim.design.analytic), in a world without congestion and with a constant effect")
SOURCE_6_POWER = ("2016-17 job-placement pilots (TEM 43/2017, tem.fi press release 29.11.2017): customer "
                  "volumes too small for significant conclusions; low power read as below the usual 0.8")
SOURCE_6_SIZE = ("TEM 43/2017 recommends clearly larger volumes than the pilots had (target 1,500 participants, "
                 "'Äkkilähtö työhön', hs.fi a1473313119092); needed: two-proportion size for 0.8 power at the "
                 "simulated pilots' control share and mean ITT, times their take-up")


def pilots(scenario, pool, count: int, seed: int, key: int) -> pd.DataFrame:
    """`count` simulated pilots of `scenario` (employment at the horizon only), one row each."""
    job = PilotJob(scenario, "pilot", HORIZON, ALPHA, figures=("employment",))
    tasks = [Task((key, r), job) for r in range(count)]
    rows = [rec for _, rec in run_tasks(simulate, tasks, root_seed=seed, pool=pool)]
    return pd.DataFrame(rows).sort_values("replication")


def analytic_power(p: pd.DataFrame) -> tuple[float, float, float]:
    """The formula's power at the pilots' mean control share, ITT and arm sizes, with the interval from
    the mean ITT's own 95 % interval (the formula needs the true ITT; the pilots estimate it)."""
    control, n1, n0 = p["control_mean"].mean(), p["n_pilot"].mean(), p["n_control"].mean()
    est = p["estimate"].to_numpy(float)
    itt, se = est.mean(), est.std(ddof=1) / math.sqrt(est.size)
    at = [two_proportion_power(control, x, n1, n0, ALPHA) for x in (itt, itt - Z95 * se, itt + Z95 * se)]
    return at[0], min(at[1:]), max(at[1:])


def power_claim(p: pd.DataFrame) -> Claim:
    """Claim 2: matches when the formula's power lies in the rejection share's 95 % interval."""
    formula, f_low, f_high = analytic_power(p)
    sim = share_interval(int(p["reject"].sum()), len(p))
    return Claim(2, "rejection_rate_against_analytic_power", SOURCE_2, formula, f_low, f_high, *sim,
                 bool(sim[1] <= formula <= sim[2]))


def needed_participants(p: pd.DataFrame) -> tuple[float, float, float]:
    """Participants needed for 0.8 power: the formula's pilot arm at the pilots' mean control share and
    ITT, times the share of the pilot arm who took part; interval from the ITT's 95 % interval."""
    control, take_up = p["control_mean"].mean(), p["take_up"].mean()
    est = p["estimate"].to_numpy(float)
    itt, se = est.mean(), est.std(ddof=1) / math.sqrt(est.size)
    arm = [pilot_arm_needed(control, x, ALPHA, POWER) for x in (itt, itt + Z95 * se, itt - Z95 * se)]
    return tuple(float(a * take_up) for a in arm)  # type: ignore[return-value]


def pilots_2016_claims(p: pd.DataFrame, volume: int) -> list[Claim]:
    """Claim 6: power below 0.8 at the pilots' own volume, and more than `volume` participants needed."""
    power = share_interval(int(p["reject"].sum()), len(p))
    return [one_sided(6, "power_at_2016_17_volume", SOURCE_6_POWER, POWER, "<", POWER, power),
            one_sided(6, "participants_needed_for_80_power", SOURCE_6_SIZE, volume, ">", volume,
                      needed_participants(p))]


def power_claims(scenario: dict[str, Any], pilots_2016: dict[str, Any], source: str, seed: int, pool, *,
                 power_pilots: int = POWER_PILOTS, count_2016: int = PILOTS_2016) -> list[Claim]:
    """Claims 2 and 6 (`scenario`: the validation's scenario; `pilots_2016`: fi_2016_job_placement_pilots)."""
    world = parse_scenario(apply_overrides(scenario, list(POWER_WORLD), source), source)
    fi = parse_scenario(pilots_2016, "fi_2016_job_placement_pilots")
    out = [power_claim(pilots(world, pool, power_pilots, seed, 200))]
    out += pilots_2016_claims(pilots(fi, pool, count_2016, seed, 600), fi.referral.target_participants)
    return out
