"""How much displacement the matching function allows in the saturation worlds validation claim 4 used
until 2026-12-04, without segments (docs/calibration.md, "Validation", claim 4; now docs/displacement.md).

    .venv/bin/python scripts/displacement_mechanism.py --worlds 10 [--tight]

Runs the claim's saturation worlds of scenarios/slack_market.toml (treated shares 0, 0.25, 0.5, 0.75, 1
over the five markets, eligible unemployed 26+ weeks) and prints, by treated share and period, the
providers' clients' share of the market's effective search, the market's hires per unit of search
relative to the untreated market of the same world and week (what every untreated searcher's chance is
multiplied by), what the Cobb-Douglas matching function predicts for that ratio, (1 - c g / (1 + g))^(1 - a)
with c the clients' share and g the help's gain in effort, and the week's hires against the vacancies
that expire unfilled (small: vacancies are not used up, so hires per search follow S^(a - 1)); then
the employment 35 weeks after assignment of the untreated market's eligible, and claim 4's spillover.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from labsim.config.scenario import apply_overrides, parse_scenario, read_scenario_dict
from labsim.config.states import State
from labsim.world.agents import is_searching
from labsim.world.history import outcomes_after
from labsim.world.model import PilotModel
from labsim.world.record import RunRecord

#: The saturation worlds claim 4 used until 2026-12-04 (now experiments/french_saturation.toml, with segments).
SATURATION = (
    "design.randomisation=saturation", "design.saturation_shares=[0.0, 0.25, 0.5, 0.75, 1.0]",
    "referral.eligibility.min_weeks_unemployed=26", "referral.eligibility.max_weeks_unemployed=520",
    "referral.target_participants=10000", "providers.capacity=5000",
    "market.matching_function=cobb_douglas",  # as then: slack_market has used urn-ball matching since 2026-12-05
)
TIGHT = ("market.matching_efficiency=0.05",)
SPILLOVER_HORIZON = 35  # weeks after assignment: the experiment's 8 months
SHARES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])  # the shares SATURATION sets


def assigned(record: RunRecord) -> pd.DataFrame:
    """Everyone assigned in a run: market (sector), arm and employment `SPILLOVER_HORIZON` weeks after."""
    p = record.people
    y = outcomes_after(record.timeline, p["assigned_week"], (SPILLOVER_HORIZON,))
    return pd.DataFrame({"sector": p["sector"], "arm": np.where(p["arm"] == 1, "pilot", "control"),
                         "before_pilot": p["before_pilot"], **y})


def spillover(ind: pd.DataFrame) -> float:
    """The untreated of markets with a pilot arm, pooled, minus the assigned of markets with none."""
    y = f"employed_{SPILLOVER_HORIZON}w"
    ind = ind.loc[~ind["before_pilot"] & ind[y].notna()]
    treated = (ind["arm"] == "pilot").groupby(ind["sector"], observed=True).transform("mean")
    untreated, none = ind.loc[(ind["arm"] == "control") & (treated > 0), y], ind.loc[treated == 0, y]
    return float(untreated.mean() - none.mean()) if len(untreated) and len(none) else float("nan")


def world(args: tuple[int, bool]) -> tuple[list[dict], dict]:
    """One saturation world: per pilot week and market, clients' search share, hires per search, vacancies;
    and the claim's spillover with the employment of the untreated market's eligible."""
    seed, tight = args
    data = read_scenario_dict("scenarios/slack_market.toml")
    sc = parse_scenario(apply_overrides(data, list(SATURATION + (TIGHT if tight else ())), "x"), "x")
    m, rows = PilotModel(sc, rng=np.random.SeedSequence(seed)), []
    s, n = m.seekers, len(sc.market.sectors)
    for week in range(1, 88):
        m.step()
        weight = np.where(is_searching(s.state), m.search_effort() * m.employability(), 0.0)
        client = s.state == State.WITH_PROVIDER.value
        search = np.bincount(s.market, weights=weight, minlength=n)
        clients = np.bincount(s.market, weights=weight * client, minlength=n)
        in_arms = np.bincount(s.market[s.arm >= 0], minlength=n)
        pilot = np.bincount(s.market[s.arm == 1], minlength=n)
        share = SHARES[np.abs(SHARES[None, :] - (pilot / np.maximum(in_arms, 1))[:, None]).argmin(1)]
        vacancies = m.vacancies.by_market()
        for k in range(n):
            rows.append({"world": seed, "week": week, "share": share[k], "clients_search": clients[k] / search[k],
                         "rate": m.matching.last_rate[k],
                         "hires_over_expiring": m.matching.last_rate[k] * search[k] / (sc.market.vacancy_expiry * vacancies[k])})
    ind = assigned(m.record())
    none = ind["sector"].map(dict(enumerate(share))) == 0
    return rows, {"untreated_market_employed": ind.loc[none, f"employed_{SPILLOVER_HORIZON}w"].mean(),
                  "spillover": spillover(ind)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=10)
    parser.add_argument("--tight", action="store_true", help="matching efficiency 0.05 (the claim's tight twin)")
    args = parser.parse_args()
    with ProcessPoolExecutor(2) as pool:
        out = list(pool.map(world, [(900 + w, args.tight) for w in range(args.worlds)]))
    df = pd.DataFrame([r for rows, _ in out for r in rows])
    per_world = pd.DataFrame([w for _, w in out])
    df = df.loc[df["week"] >= 2]  # markets draw their shares in week 1
    untreated = df.loc[df["share"] == 0].groupby(["world", "week"])["rate"].mean()
    df["rate_vs_untreated_market"] = df["rate"].to_numpy() / untreated.loc[list(zip(df["world"], df["week"]))].to_numpy()
    data = read_scenario_dict("scenarios/slack_market.toml")
    gain = data["providers"]["effort_effect"] * data["providers"]["effort"]
    a = data["market"]["elasticity"]
    df["predicted"] = (1 - df["clients_search"] * gain / (1 + gain)) ** (1 - a)
    df["period"] = pd.cut(df["week"], [1, 26, 52, 87], labels=["weeks 2-26", "27-52", "53-87"])
    cols = ["clients_search", "rate_vs_untreated_market", "predicted", "hires_over_expiring"]
    print("tight (matching efficiency 0.05)" if args.tight else "slack (scenario as it is)")
    print(df.groupby(["period", "share"], observed=True)[cols].mean().round(3).to_string())
    se = per_world.std() / np.sqrt(len(per_world))
    print(f"eligible of the untreated market employed {SPILLOVER_HORIZON} weeks after assignment: "
          f"{per_world['untreated_market_employed'].mean():.4f} (SE {se['untreated_market_employed']:.4f}); "
          f"claim 4's spillover {per_world['spillover'].mean():+.4f} (SE {se['spillover']:.4f}), {len(per_world)} worlds")


if __name__ == "__main__":
    main()
